r"""Langevin dynamics whose noise never pushes along a symmetry orbit.

.. math:: dX = -\nabla L(X)\,dt + \sqrt{2T}\,P_h(X)\,dW \quad\text{(Ito)},

with ``P_h`` the symmetry's horizontal projection (orthogonal to the orbit directions
``xi_a``). Every mini-batch loss of an invariant model is itself invariant, so its gradient is
horizontal; this is the idealised form of mini-batch noise. For an invariant loss the drift is
horizontal too. With a non-Euclidean metric on the symmetry the drift is ``-g^{-1} grad L`` and
the noise ``sqrt(2T) P_h g^{-1/2} dW`` (covariance ``2T P_h g^{-1}``, since ``P_h`` is
g-self-adjoint); no divergence correction is added, because no stationary law is claimed.
"""

import numpy as np

from quotientib.dynamics.langevin import langevin
from quotientib.dynamics.riemannian import riemannian_langevin
from quotientib.metric import EuclideanMetric

__all__ = ["horizontal_langevin", "horizontal_noise_projection"]


def horizontal_noise_projection(symmetry):
    """Return ``(x[chains, n], noise[chains, n]) -> P_h(x) noise`` for a Symmetry.

    Parameters
    ----------
    symmetry : Symmetry

    Returns
    -------
    projection : callable
    """
    if not hasattr(symmetry, "horizontal_projection"):
        raise TypeError(
            f"Expected a quotientib Symmetry, got {type(symmetry).__name__}."
        )

    def projection(x, noise):
        return np.asarray(symmetry.horizontal_projection(noise, x), dtype=float)

    return projection


def horizontal_langevin(symmetry, grad_loss, x0, *, temperature, dt, n_steps, rng,
                        record_every=1, observables=None, keep_trajectory=False, progress=None):
    r"""Langevin dynamics with horizontal noise only (Euler-Maruyama, Ito).

    Parameters
    ----------
    symmetry : Symmetry
        Provides ``horizontal_projection(noise, x)`` (batched) and the metric.
    grad_loss : callable
        ``x[chains, n] -> [chains, n]``.
    x0 : array_like, shape=[chains, n]
    temperature, dt : float
    n_steps : int
    rng : numpy.random.Generator
    record_every : int
    observables : dict str -> callable, optional
    keep_trajectory : bool
    progress : bool or None

    Returns
    -------
    result : SimulationResult
        ``config["dynamics"]`` is ``"langevin"`` or ``"riemannian_langevin"`` with
        ``config["noise_projection"] = True``.

    Raises
    ------
    DivergenceError
        If a chain becomes non-finite (the partial result is attached).
    NotFreeError
        If a chain reaches a point where the action is not free (the projection is undefined).
    """
    projection = horizontal_noise_projection(symmetry)
    metric = getattr(symmetry, "metric", None)
    common = dict(temperature=temperature, dt=dt, n_steps=n_steps, rng=rng,
                  record_every=record_every, observables=observables,
                  keep_trajectory=keep_trajectory, progress=progress,
                  noise_projection=projection)
    if metric is None or isinstance(metric, EuclideanMetric):
        return langevin(grad_loss, x0, scheme="euler_maruyama", **common)
    return riemannian_langevin(grad_loss, metric, x0, scheme="euler_maruyama",
                               target="lebesgue", metric_derivative=_zero_derivative(metric),
                               **common)


def _zero_derivative(metric):
    """A derivative that makes the correction vanish: horizontal noise adds no Ito correction."""
    def derivative(x):
        n = x.shape[-1]
        return np.zeros(x.shape + (n, n))
    return derivative
