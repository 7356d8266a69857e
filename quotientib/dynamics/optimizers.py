r"""Discrete optimisers at finite step size: full-batch gradient descent and mini-batch SGD.

These are the dynamics the paper's experiments actually run (and the ones its referee asks to
compare with): no continuous-time limit is taken. Each step is

.. math:: x' = x - \eta\,(g(x) + \zeta),

with ``g`` the full gradient (:func:`gradient_descent`) or a fresh mini-batch gradient
(:func:`sgd`), and ``zeta`` optional added noise: :class:`GaussianNoise`,
:class:`StudentTNoise` (heavy tailed) or :class:`ClippedNoise` (norm-clipped).
"""

import dataclasses

import numpy as np

from quotientib.dynamics._engine import rng_state, run_loop
from quotientib.dynamics._result import check_initial_state, check_steps
from quotientib.dynamics.langevin import _check_positive
from quotientib.errors import ShapeError

__all__ = ["gradient_descent", "sgd", "GaussianNoise", "StudentTNoise", "ClippedNoise"]


@dataclasses.dataclass(frozen=True)
class GaussianNoise:
    """Added gradient noise ``zeta = scale * N(0, I)`` per chain and coordinate.

    Parameters
    ----------
    scale : float
        Standard deviation of each coordinate.
    """

    scale: float

    def __post_init__(self):
        _check_positive(self.scale, "scale")

    def sample(self, rng, shape):
        """Draw noise of shape ``shape`` (e.g. ``[block, chains, n]``).

        Parameters
        ----------
        rng : numpy.random.Generator
        shape : tuple of int

        Returns
        -------
        zeta : ndarray, shape=shape
        """
        out = rng.standard_normal(shape)
        out *= self.scale
        return out


@dataclasses.dataclass(frozen=True)
class StudentTNoise:
    """Heavy-tailed added noise ``zeta = scale * t_df`` (iid Student-t coordinates).

    For ``df > 2`` each coordinate has variance ``scale^2 df / (df - 2)``; for ``df <= 2`` the
    variance is infinite.

    Parameters
    ----------
    df : float
        Degrees of freedom ``> 0``.
    scale : float
    """

    df: float
    scale: float

    def __post_init__(self):
        _check_positive(self.df, "df")
        _check_positive(self.scale, "scale")

    def sample(self, rng, shape):
        """Draw noise of shape ``shape``; see :meth:`GaussianNoise.sample`."""
        out = rng.standard_t(self.df, shape)
        out *= self.scale
        return out


@dataclasses.dataclass(frozen=True)
class ClippedNoise:
    """Norm-clipped noise: ``zeta = z * min(1, clip / |z|)`` per chain, ``z = scale * N(0, I)``.

    With ``df`` given, ``z`` is Student-t instead (clipped heavy-tailed noise, the "clipped
    gradients" of the referee report).

    Parameters
    ----------
    scale : float
    clip : float
        Largest Euclidean norm of the noise vector of one chain.
    df : float, optional
    """

    scale: float
    clip: float
    df: float | None = None

    def __post_init__(self):
        _check_positive(self.scale, "scale")
        _check_positive(self.clip, "clip")
        if self.df is not None:
            _check_positive(self.df, "df")

    def sample(self, rng, shape):
        """Draw noise of shape ``shape`` (clipped along the last axis)."""
        if self.df is None:
            out = rng.standard_normal(shape)
        else:
            out = rng.standard_t(self.df, shape)
        out *= self.scale
        norm = np.sqrt(np.einsum("...i,...i->...", out, out))
        factor = np.minimum(1.0, self.clip / np.maximum(norm, 1e-300))
        out *= factor[..., None]
        return out


class _NoiseBlocks:
    """Added noise drawn for many steps at once (one RNG call per block)."""

    BLOCK_ELEMENTS = 1 << 20

    def __init__(self, noise, rng, shape, total):
        self.noise, self.rng, self.shape = noise, rng, tuple(shape)
        self.block = max(1, min(int(total), self.BLOCK_ELEMENTS // max(int(np.prod(shape)), 1)))
        self.remaining = int(total)
        self.buf, self.i = None, 0

    def next(self):
        if self.buf is None or self.i >= self.buf.shape[0]:
            size = max(1, min(self.block, self.remaining))
            self.buf = self.noise.sample(self.rng, (size,) + self.shape)
            self.i = 0
        out = self.buf[self.i]
        self.i += 1
        self.remaining -= 1
        return out


def _check_noise(noise):
    if noise is None or isinstance(noise, (GaussianNoise, StudentTNoise, ClippedNoise)):
        return noise
    if hasattr(noise, "sample"):
        return noise
    raise TypeError(
        "Expected `noise` to be None, GaussianNoise, StudentTNoise, ClippedNoise or an object "
        f"with sample(rng, shape), got {type(noise).__name__}."
    )


def gradient_descent(grad_loss, x0, *, lr, n_steps, record_every=1, observables=None,
                     keep_trajectory=False, progress=None):
    r"""Full-batch gradient descent ``x' = x - lr * grad L(x)`` at finite step, for many chains.

    Parameters
    ----------
    grad_loss : callable
        ``x[chains, n] -> [chains, n]``.
    x0 : array_like, shape=[chains, n]
    lr : float
        Learning rate ``eta > 0``.
    n_steps : int
    record_every : int
    observables : dict str -> callable, optional
        ``f(x[chains, n]) -> [chains, ...]``.
    keep_trajectory : bool
    progress : bool or None

    Returns
    -------
    result : SimulationResult

    Raises
    ------
    DivergenceError
        If a chain becomes non-finite (the partial result is attached).

    Examples
    --------
    >>> import numpy as np
    >>> res = gradient_descent(lambda x: x, np.ones((3, 2)), lr=0.5, n_steps=2)
    >>> res.final
    array([[0.25, 0.25],
           [0.25, 0.25],
           [0.25, 0.25]])
    """
    x = check_initial_state(x0)
    lr = _check_positive(lr, "lr")
    n_steps, record_every = check_steps(n_steps, record_every)
    _check_grad(grad_loss, x)
    config = {"dynamics": "gradient_descent", "lr": lr, "n_steps": n_steps,
              "record_every": record_every, "chains": x.shape[0], "dim": x.shape[1]}

    def step(x, k):
        g = np.asarray(grad_loss(x), dtype=float)
        x -= lr * g

    return run_loop(step, x, n_steps=n_steps, record_every=record_every, observables=observables,
                    keep_trajectory=keep_trajectory, progress=progress, config=config,
                    desc="gradient descent")


def _check_grad(grad, x, *args):
    if not callable(grad):
        raise TypeError(f"Expected the gradient to be callable, got {type(grad).__name__}.")
    g = np.asarray(grad(x, *args))
    if g.shape != x.shape:
        raise ShapeError(
            f"The gradient returned shape {g.shape} for x of shape {x.shape}; it must map "
            "[chains, n] to [chains, n]."
        )


def sgd(grad_batch, sample_batch, x0, *, lr, n_steps, rng, noise=None, record_every=1,
        observables=None, keep_trajectory=False, progress=None, noise_projection=None):
    r"""Mini-batch SGD ``x' = x - lr (grad_batch(x, B_k) + zeta_k)``, a fresh batch every step.

    Parameters
    ----------
    grad_batch : callable
        ``(x[chains, n], batch) -> [chains, n]``, the mini-batch gradient.
    sample_batch : callable
        ``rng -> batch``, called once per step with the same ``rng``. All chains share the batch
        unless ``sample_batch`` returns one batch per chain (e.g. indices ``[chains, B]``) and
        ``grad_batch`` reads it so.
    x0 : array_like, shape=[chains, n]
    lr : float
    n_steps : int
    rng : numpy.random.Generator
        Drives both the batches and the added noise.
    noise : GaussianNoise, StudentTNoise, ClippedNoise or None
        Added noise ``zeta`` (iid per chain and step), drawn in blocks from ``rng``; its
        stream is separate from the batches' (a child generator spawned from ``rng``).
    record_every : int
    observables : dict str -> callable, optional
    keep_trajectory : bool
    progress : bool or None
    noise_projection : callable, optional
        ``(x, zeta) -> projected zeta``, e.g. a symmetry's horizontal projection.

    Returns
    -------
    result : SimulationResult

    Raises
    ------
    DivergenceError
        If a chain becomes non-finite (the partial result is attached).
    """
    x = check_initial_state(x0)
    lr = _check_positive(lr, "lr")
    n_steps, record_every = check_steps(n_steps, record_every)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"Expected `rng` to be a numpy.random.Generator, got {type(rng).__name__}.")
    if not callable(sample_batch):
        raise TypeError("Expected `sample_batch` to be callable rng -> batch.")
    noise = _check_noise(noise)
    config = {"dynamics": "sgd", "lr": lr, "n_steps": n_steps, "record_every": record_every,
              "chains": x.shape[0], "dim": x.shape[1], "noise": repr(noise),
              "rng_state": rng_state(rng)}
    # Separate streams, so that the batches do not depend on the noise block size.
    noise_rng = rng.spawn(1)[0] if noise is not None else None
    blocks = _NoiseBlocks(noise, noise_rng, x.shape, n_steps) if noise is not None else None
    if not callable(grad_batch):
        raise TypeError(f"Expected `grad_batch` to be callable, got {type(grad_batch).__name__}.")

    def step(x, k):
        g = np.array(grad_batch(x, sample_batch(rng)), dtype=float)
        if k == 1 and g.shape != x.shape:
            raise ShapeError(
                f"`grad_batch` returned shape {g.shape} for x of shape {x.shape}; it must map "
                "[chains, n] to [chains, n]."
            )
        if blocks is not None:
            zeta = blocks.next()
            if noise_projection is not None:
                zeta = noise_projection(x, zeta)
            g += zeta
        g *= lr
        x -= g

    return run_loop(step, x, n_steps=n_steps, record_every=record_every, observables=observables,
                    keep_trajectory=keep_trajectory, progress=progress, config=config,
                    desc="sgd")
