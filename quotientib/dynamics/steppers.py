r"""Time steppers for overdamped Langevin dynamics ``dX = b(X) dt + sqrt(2T) sigma(X) dW``.

A stepper is ``init`` + ``step`` plus declared orders. Both act in place on an ensemble
``x[chains, n]`` and read their Gaussian increments from a :class:`GaussianStream`, which draws
normals for many steps at once (one RNG call per block, not per step). Because a NumPy
``Generator`` fills arrays sequentially, the stream is the same whatever the block size, so a run
of ``N`` steps is an exact prefix of a run of ``2N`` steps with the same seed.

Stationary bias in ``dt`` (for the quadratic potential ``L = k x^2/2``, temperature ``T``):

* Euler-Maruyama, ``x' = x + b(x) dt + sqrt(2 T dt) xi``: the chain is the AR(1) recursion
  ``x' = (1 - k dt) x + sqrt(2 T dt) xi`` with stationary variance
  :math:`T / (k (1 - k\,dt/2))`, an ``O(dt)`` bias (stable for ``k dt < 2``). For general smooth
  potentials the bias of stationary averages is ``O(dt)``.
* Leimkuhler-Matthews, ``x' = x + b(x) dt + sqrt(2 T dt) (xi_k + xi_{k+1}) / 2``: for the same
  quadratic the chain is ARMA(1, 1) with stationary variance exactly ``T / k`` for every stable
  ``dt``; for general smooth potentials the bias of stationary averages is ``O(dt^2)``
  (Leimkuhler and Matthews, AMRX 2013). Its finite-time weak order is still 1.

References
----------
B. Leimkuhler, C. Matthews, "Rational construction of stochastic numerical methods for molecular
sampling", Appl. Math. Res. Express 2013.
"""

import numpy as np

__all__ = ["EulerMaruyama", "LeimkuhlerMatthews", "GaussianStream", "get_stepper", "SCHEMES"]

#: Number of float64 values drawn per RNG call (about 8 MB).
BLOCK_ELEMENTS = 1 << 20


class GaussianStream:
    """Standard normal increments of shape ``shape``, drawn in blocks of many steps.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
        Shape of one step's increment, e.g. ``(chains, n)``.
    total : int
        Total number of increments that will be requested (bounds the last block).
    """

    def __init__(self, rng, shape, total):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"Expected `rng` to be a numpy.random.Generator, got {type(rng).__name__}; "
                "use numpy.random.default_rng(seed)."
            )
        self.rng = rng
        self.shape = tuple(shape)
        per = int(np.prod(self.shape))
        self.block = max(1, min(int(total), BLOCK_ELEMENTS // max(per, 1)))
        self.remaining = int(total)
        self._buf = None
        self._i = self.block

    def next(self):
        """Return the next increment ``[*shape]`` (a view valid until the next block)."""
        if self._i >= self._buf_len():
            size = max(1, min(self.block, self.remaining))
            self._buf = self.rng.standard_normal((size,) + self.shape)
            self._i = 0
        out = self._buf[self._i]
        self._i += 1
        self.remaining -= 1
        return out

    def _buf_len(self):
        return 0 if self._buf is None else self._buf.shape[0]


class EulerMaruyama:
    r"""Euler-Maruyama: ``x' = x + b(x) dt + scale * sigma(x) xi``, ``scale = sqrt(2 T dt)``.

    Strong order 1/2 (1 for additive noise), weak order 1; stationary variance on
    ``k x^2/2`` is :math:`T / (k (1 - k\,dt/2))`.
    """

    name = "euler_maruyama"
    strong_order = 0.5
    weak_order = 1.0
    extra_draws = 0
    #: Whether the scheme is valid with state-dependent noise maps sigma(x).
    multiplicative_ok = True

    def init(self, x, stream, noise_map):
        """Prepare the stepper (nothing to do for Euler-Maruyama)."""

    def step(self, x, drift, dt, scale, stream, noise_map):
        """Advance ``x`` in place by one step.

        Parameters
        ----------
        x : ndarray, shape=[chains, n]
            State, overwritten.
        drift : ndarray, shape=[chains, n]
            ``b(x)`` at the current state; overwritten (used as scratch).
        dt, scale : float
        stream : GaussianStream
        noise_map : callable or None
            ``(x, xi) -> sigma(x) xi``; None for isotropic noise.
        """
        xi = stream.next()
        if noise_map is not None:
            xi = noise_map(x, xi)
        if dt != 1.0:
            drift *= dt
        x += drift
        if xi is not None:
            x += scale * xi


class LeimkuhlerMatthews:
    r"""Leimkuhler-Matthews: ``x' = x + b(x) dt + scale * (xi_k + xi_{k+1}) / 2``.

    Weak order 1 at finite time, order 2 for stationary averages; exact stationary variance
    ``T/k`` on ``k x^2/2``. Valid for additive noise only (a constant ``sigma``).
    """

    name = "leimkuhler_matthews"
    strong_order = 0.5
    weak_order = 1.0
    stationary_order = 2.0
    extra_draws = 1
    multiplicative_ok = False

    def init(self, x, stream, noise_map):
        """Draw the first increment ``xi_0``."""
        xi = stream.next()
        self._prev = np.array(xi if noise_map is None else noise_map(x, xi), copy=True)

    def step(self, x, drift, dt, scale, stream, noise_map):
        """Advance ``x`` in place by one step (same arguments as EulerMaruyama.step)."""
        xi = stream.next()
        if noise_map is not None:
            xi = noise_map(x, xi)
        if dt != 1.0:
            drift *= dt
        x += drift
        prev = self._prev
        prev += xi
        prev *= 0.5 * scale
        x += prev
        prev[...] = xi


SCHEMES = {"euler_maruyama": EulerMaruyama, "leimkuhler_matthews": LeimkuhlerMatthews}


def get_stepper(scheme):
    """Return a fresh stepper for a scheme name or stepper instance.

    Parameters
    ----------
    scheme : {"euler_maruyama", "leimkuhler_matthews"} or stepper instance

    Returns
    -------
    stepper : EulerMaruyama or LeimkuhlerMatthews
    """
    if isinstance(scheme, str):
        try:
            return SCHEMES[scheme]()
        except KeyError:
            raise ValueError(
                f"Unknown `scheme` {scheme!r}; expected one of {sorted(SCHEMES)}."
            ) from None
    if hasattr(scheme, "step") and hasattr(scheme, "init"):
        return type(scheme)()
    raise TypeError(f"Expected `scheme` to be a name or a stepper, got {type(scheme).__name__}.")
