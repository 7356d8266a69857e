r"""Riemannian (preconditioned) overdamped Langevin dynamics for a user metric ``g(theta)``.

Target: the law ``exp(-L/T) dVol_g``, i.e. the Lebesgue density
``p(x) ∝ exp(-L(x)/T) sqrt(det g(x))``.

Derivation of the drift. For ``dX = b dt + sqrt(2T) sigma dW`` with ``sigma sigma^T = g^{-1}``
the Fokker-Planck probability flux is
``J_i = b_i p - d_j (T g^{ij} p)``. It vanishes for ``p = exp(-L/T) sqrt(det g)`` when

.. math::

    b^i = -g^{ij} \partial_j L + T\,\partial_j g^{ij}
          + \tfrac{T}{2}\, g^{ij}\,\partial_j \log\det g
        = -g^{ij} \partial_j L
          + \frac{T}{\sqrt{\det g}}\,\partial_j\big(\sqrt{\det g}\, g^{ij}\big),

the last term being the first-order part of ``T Delta_g`` (``Delta_g`` the Laplace-Beltrami
operator), so that with ``L = 0`` the process is Brownian motion on ``(Theta, g)`` run at speed
``2T``. The often-quoted drift ``-g^{-1} grad L + T div(g^{-1})`` (without the
``log det g`` term) instead targets the Lebesgue density ``exp(-L/T)``; pass
``target="lebesgue"`` for it. For a constant metric both corrections vanish. The derivatives
``partial_j g_{kl}`` come from ``metric_derivative`` when given (analytic), else from autograd
through ``metric.metric_matrix`` (write field metrics with ``autograd.numpy``); then

.. math::

    \partial_j g^{ij} = -\big(g^{-1} (\partial_j g)\, g^{-1}\big)_{ij},\qquad
    \partial_j \log\det g = \operatorname{tr}\big(g^{-1}\partial_j g\big).
"""

import numpy as np
from autograd import elementwise_grad

from quotientib.dynamics._engine import check_rng, rng_state, run_loop
from quotientib.dynamics._result import check_initial_state, check_steps
from quotientib.dynamics.langevin import _check_positive, _checked_gradient
from quotientib.dynamics.steppers import GaussianStream, get_stepper
from quotientib.errors import ShapeError
from quotientib.metric import FieldMetric, as_metric

__all__ = ["riemannian_langevin", "metric_drift_correction", "autograd_metric_derivative"]

TARGETS = ("volume", "lebesgue")
#: Up to this dimension small-matrix algebra is unrolled into vector operations.
SMALL_N = 4


def autograd_metric_derivative(metric):
    """Return ``x[chains, n] -> dg[chains, n, n, n]``, ``dg[c, j, k, l] = d_j g_kl(x_c)``.

    Uses one reverse pass of autograd per entry ``k <= l`` (the chains are independent, so the
    gradient of the sum over chains is the per-chain gradient).

    Parameters
    ----------
    metric : MetricField
        Its ``metric_matrix`` must be written with ``autograd.numpy``.

    Returns
    -------
    derivative : callable
    """
    n = metric.dim
    grads = {}
    for row in range(n):
        for col in range(row, n):
            grads[row, col] = elementwise_grad(
                lambda x, r=row, c=col: metric.metric_matrix(x)[..., r, c].sum()
            )

    def derivative(x):
        out = np.empty(x.shape[:-1] + (n, n, n))
        for (row, col), fn in grads.items():
            d = fn(x)
            out[..., :, row, col] = d
            out[..., :, col, row] = d
        return out

    return derivative


def metric_drift_correction(metric, x, *, metric_derivative=None, target="volume"):
    r"""Drift correction ``c(x)`` with ``b = -g^{-1} grad L + T c``.

    ``c^i = d_j g^{ij} + (1/2) g^{ij} d_j log det g`` for ``target="volume"`` (law
    ``exp(-L/T) dVol_g``); ``c^i = d_j g^{ij}`` for ``target="lebesgue"``.

    Parameters
    ----------
    metric : MetricField or specification accepted by :func:`quotientib.metric.as_metric`
    x : array_like, shape=[chains, n]
    metric_derivative : callable, optional
        ``x -> dg[chains, n, n, n]`` with ``dg[c, j, k, l] = d_j g_kl``; autograd if omitted.
    target : {"volume", "lebesgue"}

    Returns
    -------
    correction : ndarray, shape=[chains, n]
    """
    x = np.asarray(x, dtype=float)
    metric = as_metric(metric, x.shape[-1])
    if target not in TARGETS:
        raise ValueError(f"Unknown `target` {target!r}; expected one of {TARGETS}.")
    if metric.is_constant:
        return np.zeros_like(x)
    deriv = metric_derivative or autograd_metric_derivative(metric)
    return _correction(np.linalg.inv(np.asarray(metric.metric_matrix(x))), deriv(x), target)


def _inverse_and_sqrt(g):
    """``g^{-1}`` and the Cholesky factor of ``g^{-1}``, closed forms for n <= 2.

    NumPy's batched linalg costs ~100 ns per small matrix; the closed forms are array
    arithmetic. Any ``sigma`` with ``sigma sigma^T = g^{-1}`` gives the same law.
    """
    n = g.shape[-1]
    if n == 1:
        ginv = 1.0 / g
        return ginv, np.sqrt(ginv)
    if n == 2:
        a, b, c = g[..., 0, 0], g[..., 0, 1], g[..., 1, 1]
        det = a * c - b * b
        ia, ib, ic = c / det, -b / det, a / det
        ginv = np.stack([np.stack([ia, ib], -1), np.stack([ib, ic], -1)], -2)
        l11 = np.sqrt(ia)
        l21 = ib / l11
        l22 = np.sqrt(ic - l21 * l21)
        sigma = np.stack([np.stack([l11, np.zeros_like(l11)], -1), np.stack([l21, l22], -1)], -2)
        return ginv, sigma
    ginv = np.linalg.inv(g)
    return ginv, np.linalg.cholesky(ginv)


def _correction(ginv, dg, target):
    # d_j g^{ij} = -(g^-1 d_j g g^-1)_{ij} summed over j; tr(g^-1 d_j g) = d_j log det g.
    n = ginv.shape[-1]
    if n > SMALL_N:
        w = np.einsum("...jkl,...lj->...k", dg, ginv)
        dlogdet = np.einsum("...kl,...jlk->...j", ginv, dg)
    else:
        # Loops over the n^2 index pairs on [chains, n] columns: NumPy reductions over tiny
        # trailing axes cost far more per element than plain vector arithmetic.
        w = np.zeros(ginv.shape[:-1])
        dlogdet = np.zeros(ginv.shape[:-1])
        for j in range(n):
            for m in range(n):
                w += dg[..., j, :, m] * ginv[..., m, j, None]
                dlogdet += ginv[..., j, m, None] * dg[..., :, m, j]
    corr = -_matvec(ginv, w)
    if target == "volume":
        corr += 0.5 * _matvec(ginv, dlogdet)
    return corr


def _matvec(mat, vec):
    n = mat.shape[-1]
    if n > SMALL_N:
        return np.einsum("...ij,...j->...i", mat, vec)
    out = mat[..., :, 0] * vec[..., 0, None]
    for j in range(1, n):
        out += mat[..., :, j] * vec[..., j, None]
    return out


def riemannian_langevin(grad_loss, metric, x0, *, temperature, dt, n_steps, rng,
                        scheme="euler_maruyama", record_every=1, observables=None,
                        keep_trajectory=False, progress=None, noise_projection=None,
                        metric_derivative=None, target="volume"):
    r"""Preconditioned Langevin ``dX = (-g^{-1} grad L + T c) dt + sqrt(2T) g^{-1/2} dW``.

    With the default ``target="volume"`` the stationary law is ``exp(-L/T) dVol_g`` (see the
    module docstring for the derivation of ``c``); the noise factor ``g^{-1/2}`` is taken as
    the Cholesky factor of ``g^{-1}`` (any square root of ``g^{-1}`` gives the same law).

    Parameters
    ----------
    grad_loss : callable
        ``x[chains, n] -> [chains, n]``, the Euclidean gradient (differential) of ``L``.
    metric : MetricField, array_like or callable
        Anything :func:`quotientib.metric.as_metric` accepts.
    x0 : array_like, shape=[chains, n]
    temperature, dt : float
    n_steps : int
    rng : numpy.random.Generator
    scheme : {"euler_maruyama", "leimkuhler_matthews"}
        Leimkuhler-Matthews only for constant metrics (additive noise).
    record_every : int
    observables : dict str -> callable, optional
    keep_trajectory : bool
    progress : bool or None
    noise_projection : callable, optional
        ``(x, noise) -> projected noise``, applied after the ``g^{-1/2}`` factor (e.g. a
        g-orthogonal horizontal projection); then the stationary law is no longer guaranteed.
    metric_derivative : callable, optional
        Analytic ``x -> dg[chains, n, n, n]``, ``dg[c, j, k, l] = d_j g_kl``.
    target : {"volume", "lebesgue"}
        Stationary law ``exp(-L/T) dVol_g`` or ``exp(-L/T) dx``.

    Returns
    -------
    result : SimulationResult

    Raises
    ------
    DivergenceError
        If a chain becomes non-finite (the partial result is attached).
    MetricNotSPDError
        If the metric is not SPD at ``x0`` (a field metric is checked there only; losing
        definiteness later gives non-finite values, hence DivergenceError).
    """
    check_rng(rng)
    x = check_initial_state(x0)
    temperature = _check_positive(temperature, "temperature")
    dt = _check_positive(dt, "dt")
    n_steps, record_every = check_steps(n_steps, record_every)
    metric = as_metric(metric, x.shape[1])
    if target not in TARGETS:
        raise ValueError(f"Unknown `target` {target!r}; expected one of {TARGETS}.")
    stepper = get_stepper(scheme)
    constant = bool(metric.is_constant)
    if (not constant or noise_projection is not None) and not stepper.multiplicative_ok:
        raise ValueError(
            f"scheme={stepper.name!r} is only valid for additive noise (constant metric, no "
            "projection); use scheme='euler_maruyama'."
        )
    _checked_gradient(grad_loss, x)
    deriv = None
    if not constant:
        metric.check_spd(x)
        if isinstance(metric, FieldMetric) and metric.check:
            # Checked at x0; in the loop a loss of definiteness shows up as non-finite values.
            metric = FieldMetric(metric.matrix_fn, metric.dim, check=False)
        deriv = metric_derivative or autograd_metric_derivative(metric)
        dg = np.asarray(deriv(x))
        if dg.shape != x.shape + (x.shape[1], x.shape[1]):
            raise ShapeError(
                f"`metric_derivative` returned shape {dg.shape}; expected "
                f"{x.shape + (x.shape[1], x.shape[1])}."
            )
    else:
        gmat = np.asarray(metric.metric_matrix(), dtype=float)
        ginv = np.linalg.inv(gmat)
        # Noise factor S with S S^T = g^{-1}: S = L^{-T} for g = L L^T.
        chol = np.linalg.cholesky(gmat)
        sfac_t = np.linalg.inv(chol)  # rows: (L^{-T})^T = L^{-1}; xi @ L^{-1} = (L^{-T} xi)^T

    config = {
        "dynamics": "riemannian_langevin", "scheme": stepper.name, "temperature": temperature,
        "dt": dt, "n_steps": n_steps, "record_every": record_every, "chains": x.shape[0],
        "dim": x.shape[1], "metric": type(metric).__name__, "target": target,
        "noise_projection": noise_projection is not None, "rng_state": rng_state(rng),
    }
    stream = GaussianStream(rng, x.shape, n_steps + stepper.extra_draws)
    scale = float(np.sqrt(2.0 * temperature * dt))
    state = {}

    if constant:
        def noise_map(x, xi):
            out = xi @ sfac_t
            return out if noise_projection is None else noise_projection(x, out)

        def drift_fn(x):
            return -(np.asarray(grad_loss(x), dtype=float) @ ginv)
    else:
        def noise_map(x, xi):
            # sigma was computed by drift_fn at this same pre-step state (Ito).
            out = _matvec(state["sigma"], xi)
            return out if noise_projection is None else noise_projection(x, out)

        def drift_fn(x):
            g = np.asarray(metric.metric_matrix(x), dtype=float)
            ginv, state["sigma"] = _inverse_and_sqrt(g)
            grad = np.asarray(grad_loss(x), dtype=float)
            drift = -_matvec(ginv, grad)
            drift += temperature * _correction(ginv, deriv(x), target)
            return drift

    if constant:
        stepper.init(x, stream, noise_map)
    else:
        stepper.init(x, stream, None)  # Euler-Maruyama: init draws nothing

    def step(x, k):
        drift = drift_fn(x)
        drift *= dt
        stepper.step(x, drift, 1.0, scale, stream, noise_map)

    return run_loop(step, x, n_steps=n_steps, record_every=record_every, observables=observables,
                    keep_trajectory=keep_trajectory, progress=progress, config=config,
                    desc="riemannian langevin")
