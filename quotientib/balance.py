"""Balancing: minimise ``log det H`` over a group orbit, and the reduced bias it defines.

The paper's log-det correction makes the orbit point that minimises ``log det H`` (``H`` the
orbit Gram matrix) the representative a noisy learner is biased towards. :func:`balance` finds
that point with pymanopt (autograd backend) on the manifold of Lie-algebra coordinates, and says
honestly what it found:

``"minimum"``
    a finite minimiser: the gradient in Lie coordinates vanishes and the Hessian of the cost
    along the orbit has no negative eigenvalue;
``"unbounded"``
    ``log det H`` decreases without bound along the orbit (GL(r), r >= 2, on ``U V^T``): a line
    search along an escape direction sees the value drop by more than a threshold, monotonically,
    with non-shrinking decrements over doubling step lengths. The direction and the values seen
    are returned;
``"constant"``
    ``log det H`` does not change along the orbit (compact isometric actions, e.g. O(r) on PCA's
    ``W``): equal values and zero gradients at random orbit points;
``"not_converged"``
    none of the above could be established; ``message`` says why.

It also returns the moment-map representative (the zero of the balanced gauge ``chi = mu``,
reached along the orbit by :meth:`quotientib.gauge.Gauge.project_to_slice`) and the distance
between the two representatives; they differ in general (theory note, point 4).

:func:`reduced_bias` is ``(T/2) min_orbit log det H``, through the action's closed form when it
has one, otherwise by a batched Newton iteration over all points at once (falling back to
:func:`balance` point by point where Newton does not settle).

pymanopt's argument order ``(point, tangent_vector)`` is used inside this module only.
"""

import copy
import warnings
from dataclasses import dataclass, field
from typing import Optional

import autograd
import autograd.numpy as anp
import numpy as np
import pymanopt
from geomstats.geometry.euclidean import Euclidean

from quotientib._linalg import as_points
from quotientib.action import LieGroupAction
from quotientib.errors import (
    ConvergenceError,
    NotClosedError,
    NotFreeError,
    NotRegularValueError,
    ShapeError,
    SubalgebraNotClosedError,
)
from quotientib.symmetry import Symmetry

__all__ = [
    "BalanceResult",
    "balance",
    "reduced_bias",
    "restrict_to_subalgebra",
    "check_subalgebra",
    "orbit_log_det_function",
    "STATUSES",
]

#: The statuses :func:`balance` can report.
STATUSES = ("minimum", "unbounded", "constant", "not_converged")

#: Gradient norm (Lie coordinates) below which a point is stationary.
GRADIENT_TOL = 1e-8
#: Relative change of ``log det H`` below which values along an orbit count as equal.
CONSTANT_RTOL = 1e-9
#: Hessian eigenvalue (relative to the largest |eigenvalue|, at least 1) below which a
#: stationary point is a saddle rather than a minimum.
HESSIAN_RTOL = 1e-6
#: Drop of ``log det H`` (nats) along an escape line that confirms unboundedness.
UNBOUNDED_DROP = 5.0
#: Relative singularity threshold of the subalgebra closure test.
BRACKET_RTOL = 1e-8


@dataclass(frozen=True)
class BalanceResult:
    """What :func:`balance` found on one orbit.

    Attributes
    ----------
    point : ndarray, shape=[n]
        The log-det representative (``status="minimum"``), the last iterate (``"unbounded"``,
        ``"not_converged"``), or the input point (``"constant"``: every orbit point minimises).
    group_coords : ndarray, shape=[m]
        Lie-algebra coordinates ``t`` with ``point = act(t, theta)`` (in full-algebra
        coordinates, also when a subalgebra was given).
    value : float
        ``log det H`` at ``point`` (the Gram of the subalgebra fields when one was given).
    gradient_norm : float
        Norm of the gradient of ``log det H`` in Lie coordinates at ``point``.
    iterations : int
        Optimiser iterations (pymanopt's count, summed over restarts).
    status : str
        One of :data:`STATUSES`.
    message : str
        How the status was established, or why it could not be.
    direction : ndarray or None, shape=[m]
        For ``"unbounded"``: unit Lie-algebra direction (full-algebra coordinates) along which
        ``log det H`` decreases without bound; None otherwise.
    values_seen : ndarray, shape=[k]
        ``"unbounded"``: the values along the escape line; ``"constant"``: the values at the
        probe points; otherwise the cost at each optimiser iteration.
    steps_seen : ndarray or None, shape=[k]
        For ``"unbounded"``: the step lengths of ``values_seen`` along ``direction``.
    moment_map_point : ndarray or None, shape=[n]
        The orbit point where the moment map vanishes, or None (see ``moment_map_message``).
    moment_map_distance : float or None
        ``sqrt(d^T g d)`` with ``d = moment_map_point - point`` and ``g`` the metric at
        ``point`` (the exact distance for constant metrics); None when either representative
        is missing (no finite minimiser, or no moment map).
    moment_map_message : str
        Why ``moment_map_point`` is None, or how it was found.
    hessian_eigenvalues : ndarray or None, shape=[k]
        Eigenvalues of the Hessian of the cost at a stationary point.
    """

    point: np.ndarray
    group_coords: np.ndarray
    value: float
    gradient_norm: float
    iterations: int
    status: str
    message: str
    direction: Optional[np.ndarray] = None
    values_seen: np.ndarray = field(default_factory=lambda: np.zeros(0))
    steps_seen: Optional[np.ndarray] = None
    moment_map_point: Optional[np.ndarray] = None
    moment_map_distance: Optional[float] = None
    moment_map_message: str = ""
    hessian_eigenvalues: Optional[np.ndarray] = None


# --------------------------------------------------------------------------------------------
# subalgebras
# --------------------------------------------------------------------------------------------
def _as_basis(subalgebra, m):
    basis = np.asarray(subalgebra, dtype=float)
    if basis.ndim == 1:
        basis = basis[None, :]
    if basis.ndim != 2 or basis.shape[1] != m:
        raise ShapeError(
            f"Expected `subalgebra` to be a basis of shape (k, {m}) in Lie-algebra coordinates, "
            f"got shape {np.shape(subalgebra)}."
        )
    if basis.shape[0] == 0:
        raise ShapeError("Expected `subalgebra` to have at least one basis row, got none.")
    sv = np.linalg.svd(basis, compute_uv=False)
    if sv[-1] <= 1e-10 * sv[0]:
        raise ValueError(
            f"The rows of `subalgebra` are linearly dependent (singular values {sv}); give a "
            "basis."
        )
    return basis


def _outside_span(vecs, span):
    """Relative size of the part of each row of ``vecs`` outside the row space of ``span``."""
    q, _ = np.linalg.qr(span.T)
    resid = vecs - (vecs @ q) @ q.T
    return np.linalg.norm(resid, axis=-1) / np.maximum(np.linalg.norm(vecs, axis=-1), 1e-300)


def check_subalgebra(action, subalgebra, sample_points, *, rtol=BRACKET_RTOL):
    """Raise unless the span of ``subalgebra`` is closed under the Lie bracket.

    For a linear action with generator matrices the test is exact: every commutator
    ``[Y_i, Y_j]`` of the basis matrices ``Y_i = sum_a B_ia X_a`` must lie in their span. For
    other actions the bracket fields ``[xi_{Y_i}, xi_{Y_j}]`` must lie in the span of the
    subalgebra fields at each sample point (a necessary condition, sufficient at points where
    the full action is free).

    Parameters
    ----------
    action : LieGroupAction
    subalgebra : array_like, shape=[k, m]
        Basis rows in Lie-algebra coordinates.
    sample_points : array_like, shape=[s, n]
        Points for the field test (ignored for linear actions).
    rtol : float
        Relative size of the component outside the span that counts as a failure.

    Returns
    -------
    defect : float
        The largest relative out-of-span component seen (below ``rtol``).

    Raises
    ------
    SubalgebraNotClosedError
        If some bracket leaves the span; the message names the pair of basis rows.
    ShapeError
        If ``subalgebra`` does not have shape ``(k, m)``.
    """
    basis = _as_basis(subalgebra, action.group_dim)
    k = basis.shape[0]
    worst = 0.0
    if action.generators is not None:
        mats = np.einsum("ka,aij->kij", basis, action.generators)
        flat = mats.reshape(k, -1)
        for i in range(k):
            for j in range(i + 1, k):
                comm = mats[i] @ mats[j] - mats[j] @ mats[i]
                size = np.linalg.norm(comm)
                scale = np.linalg.norm(mats[i]) * np.linalg.norm(mats[j])
                if size <= rtol * max(scale, 1e-300):
                    continue
                out = float(_outside_span(comm.reshape(1, -1), flat)[0])
                worst = max(worst, out)
                if out > rtol:
                    raise SubalgebraNotClosedError(
                        f"The subalgebra basis is not closed under the Lie bracket: the "
                        f"commutator of basis rows {i} and {j} ({basis[i]} and {basis[j]}) has a "
                        f"component of relative size {out:.3g} outside the span of the basis. "
                        "Add the bracket to the basis or choose a commuting/closed set."
                    )
        return worst
    points = np.atleast_2d(as_points(sample_points, action.dim, "sample_points"))
    for p in points:
        brackets = np.einsum("ia,jb,abn->ijn", basis, basis, action.lie_bracket_fields(p))
        full = np.asarray(action.fundamental_fields(p))  # [m, n]
        scale_full = max(np.abs(full).max(), 1e-300)
        free = np.linalg.matrix_rank(full, tol=1e-10 * scale_full) == action.group_dim
        fields = basis @ full  # [k, n]
        if not free and np.linalg.matrix_rank(fields, tol=1e-10 * scale_full) < k:
            continue  # the subgroup is not free here; the test says nothing at this point
        for i in range(k):
            for j in range(i + 1, k):
                size = np.linalg.norm(brackets[i, j])
                if size <= rtol * scale_full:
                    continue
                if free:
                    # the bracket field is a unique combination of the full fields; its
                    # Lie-algebra coefficients must lie in the span of the basis
                    coef = np.linalg.lstsq(full.T, brackets[i, j], rcond=None)[0]
                    out = float(_outside_span(coef[None], basis)[0])
                else:
                    out = float(_outside_span(brackets[i, j][None], fields)[0])
                worst = max(worst, out)
                if out > rtol:
                    raise SubalgebraNotClosedError(
                        f"The subalgebra basis is not closed under the Lie bracket: the bracket "
                        f"of the fields of basis rows {i} and {j} ({basis[i]} and {basis[j]}) "
                        f"has a component of relative size {out:.3g} outside the span of the "
                        f"subalgebra at point {np.round(p, 6)}."
                    )
    return worst


def _metric_copy(metric):
    """A shallow copy of ``metric`` on its own geomstats space.

    ``Symmetry`` equips the metric's space with its action; a restricted symmetry must not
    overwrite the group action of the symmetry it came from.
    """
    new = copy.copy(metric)
    space = Euclidean(metric.dim, equip=False)
    space.metric = new
    new._space = space
    return new


def restrict_to_subalgebra(symmetry, subalgebra, *, check=True, sample_points=None, rng=None):
    """The symmetry of the subgroup generated by a subalgebra.

    The restricted action is ``act_B(s, theta) = act(s B, theta)`` with ``s`` in ``R^k``; its
    fields are ``B xi``, its orbit Gram ``B H B^T`` and its moment map ``B mu`` (when the
    full action has analytic ones).

    Parameters
    ----------
    symmetry : Symmetry
    subalgebra : array_like, shape=[k, m]
        Basis rows in the Lie-algebra coordinates of ``symmetry``.
    check : bool
        Check closure under the bracket (:func:`check_subalgebra`).
    sample_points : array_like, shape=[s, n], optional
        Points for the closure test of non-linear actions; default 3 standard normal points.
    rng : numpy.random.Generator, optional
        For the default sample points (seed 0 if omitted).

    Returns
    -------
    restricted : Symmetry

    Raises
    ------
    SubalgebraNotClosedError
        If ``check`` and the basis is not closed under the bracket.
    """
    action = symmetry.action
    basis = _as_basis(subalgebra, action.group_dim)
    if check:
        if sample_points is None:
            rng = np.random.default_rng(0) if rng is None else rng
            sample_points = rng.standard_normal((3, action.dim))
        check_subalgebra(action, basis, sample_points)
    k = basis.shape[0]

    def act(s, theta):
        return action.act(anp.einsum("...k,ka->...a", s, basis), theta)

    fields = None
    if action.has_analytic_fields:
        def fields(theta):
            return anp.einsum("ka,...an->...kn", basis, action.fundamental_fields(theta))

    def orbit_gram(theta, metric):
        gram = action.analytic_orbit_gram(theta, metric)
        if gram is NotImplemented:
            return NotImplemented
        return anp.einsum("ka,...ab,lb->...kl", basis, gram, basis)

    def moment_map(theta, metric):
        mu = action.analytic_moment_map(theta, metric)
        if mu is NotImplemented:
            return NotImplemented
        return anp.einsum("ka,...a->...k", basis, mu)

    gens = None
    if action.generators is not None:
        gens = np.einsum("ka,aij->kij", basis, action.generators)
    restricted = LieGroupAction(
        act, action.dim, k, invariant=action.invariant, fundamental_fields=fields,
        orbit_gram=orbit_gram, moment_map=moment_map, generators=gens,
        name=f"{action.name} restricted to a {k}-dim subalgebra")
    return Symmetry(restricted, _metric_copy(symmetry.metric), name=restricted.name)


# --------------------------------------------------------------------------------------------
# the cost
# --------------------------------------------------------------------------------------------
def logdet_spd(mat):
    """``log det`` of SPD matrices ``[..., k, k]`` by Cholesky, differentiable by autograd.

    Same as :func:`quotientib._linalg.logdet_spd`, but takes the diagonal with
    ``axis1=-1, axis2=-2``: autograd's gradient of ``diagonal`` supports only that order.
    """
    chol = anp.linalg.cholesky(mat)
    return 2.0 * anp.sum(anp.log(anp.diagonal(chol, axis1=-1, axis2=-2)), axis=-1)


def _gram_analytic(symmetry):
    def gram(p):
        return symmetry.orbit_gram(p)
    return gram


def _gram_autograd(symmetry):
    def gram(p):
        xi = symmetry.action.autograd_fundamental_fields(p)
        return symmetry.metric.inner_gram(xi, xi, p)
    return gram


def _traceable(fn, theta, m, rng):
    """Whether autograd differentiates ``fn(t)`` correctly at ``t = 0`` (checked by FD)."""
    t0 = np.zeros(m)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = fn(t0)
            gradient = np.asarray(autograd.grad(fn)(t0), dtype=float)
    except NotFreeError:
        raise
    except Exception:  # noqa: BLE001  (an untraceable user kernel can raise anything)
        return False
    if gradient.shape != (m,) or not np.all(np.isfinite(gradient)) or not np.isfinite(value):
        return False
    direction = rng.standard_normal(m)
    direction /= np.linalg.norm(direction)
    h = 1e-5
    fd = (float(fn(h * direction)) - float(fn(-h * direction))) / (2 * h)
    return abs(fd - gradient @ direction) <= 1e-4 * max(1.0, abs(fd), np.linalg.norm(gradient))


def orbit_log_det_function(symmetry, theta, *, rng=None):
    """The cost ``t -> log det H(act(t, theta))`` as an autograd-traceable function.

    Uses the symmetry's own orbit Gram (analytic where the action has one) when autograd can
    differentiate it, checked against a finite difference; otherwise the fields come from
    autograd (:meth:`LieGroupAction.autograd_fundamental_fields`).

    Parameters
    ----------
    symmetry : Symmetry
    theta : array_like, shape=[n]
    rng : numpy.random.Generator, optional
        For the finite-difference direction (seed 0 if omitted).

    Returns
    -------
    cost : callable
        ``cost(t[..., m]) -> [...]``.
    analytic : bool
        Whether the symmetry's own orbit Gram was traceable.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    act = symmetry.action.act
    m = symmetry.group_dim
    for analytic, make in ((True, _gram_analytic), (False, _gram_autograd)):
        gram = make(symmetry)

        def cost(t, gram=gram):
            return logdet_spd(gram(act(t, theta)))

        if _traceable(cost, theta, m, rng):
            return cost, analytic
    raise ValueError(
        f"Neither the orbit Gram of '{symmetry.name}' nor its autograd fields can be "
        "differentiated by autograd along the orbit; write `act` with autograd.numpy."
    )


# --------------------------------------------------------------------------------------------
# balance
# --------------------------------------------------------------------------------------------
class _Escape(Exception):
    """Raised inside the cost when the value falls far below where it started."""

    def __init__(self, t):
        super().__init__("escape")
        self.t = np.array(t, dtype=float)


def _safe(fn, t):
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(fn(t))
    except (np.linalg.LinAlgError, FloatingPointError, ValueError, OverflowError):
        return np.nan
    return value


def _line_search_unbounded(fn, t_start, direction, *, drop=UNBOUNDED_DROP, first_step=0.5,
                           n_doublings=10):
    """Values of ``fn`` along ``t_start + s d`` for doubling ``s``, and an unboundedness verdict.

    Unbounded means: the values decrease at every step (no turning point), the total drop
    exceeds ``drop``, and the decrement over the last doubling is at least the first one
    (a decrease towards a finite asymptote has shrinking decrements).
    """
    steps = [0.0]
    values = [_safe(fn, t_start)]
    s = first_step
    for _ in range(n_doublings + 1):
        value = _safe(fn, t_start + s * direction)
        if not np.isfinite(value):
            break
        steps.append(s)
        values.append(value)
        if value >= values[-2]:
            break
        s *= 2.0
    steps = np.asarray(steps)
    values = np.asarray(values)
    dec = -np.diff(values)
    verdict = (len(values) >= 5 and np.all(dec > 0) and values[0] - values[-1] > drop
               and dec[-1] >= dec[1])
    return bool(verdict), steps, values


#: Largest ``n * m`` for which the generic (ray-integral) moment map is tried automatically.
GENERIC_MOMENT_MAP_LIMIT = 2000


def _linear_moment_gauge(symmetry):
    """Moment-map gauge of a linear action under a constant metric, or a reason why not.

    For ``xi_a = X_a theta`` the 1-form ``g(xi_a, .) = (g X_a theta) . d theta`` is closed iff
    ``g X_a`` is symmetric, and then ``mu_a = theta^T g X_a theta / 2``.
    """
    from quotientib.gauge import Gauge

    g = np.asarray(symmetry.metric.metric_matrix(np.zeros(symmetry.dim)))
    gx = np.einsum("ij,ajk->aik", g, symmetry.action.generators)
    asym = np.linalg.norm(gx - np.swapaxes(gx, -1, -2), axis=(-2, -1))
    size = np.maximum(np.linalg.norm(gx, axis=(-2, -1)), 1e-300)
    if np.any(asym > 1e-8 * size):
        a = int(np.argmax(asym / size))
        return None, (f"no moment map: g(xi_{a}, .) is not closed (g X_{a} is not symmetric, "
                      f"relative antisymmetric part {asym[a] / size[a]:.3g})")

    def chi(theta):
        return 0.5 * anp.einsum("...i,aij,...j->...a", theta, gx, theta)

    def differential(theta):
        return np.einsum("aij,...j->...ai", gx, theta)

    return Gauge(chi, symmetry, differential=differential, name="moment map"), ""


def _moment_map_representative(symmetry, theta, mode="auto"):
    """Zero of the moment map on the orbit of ``theta``, or None and the reason."""
    probe = theta[None]
    analytic = symmetry.action.analytic_moment_map(probe, symmetry.metric)
    if analytic is not NotImplemented:
        from quotientib.gauge import Gauge

        # d mu_a = g(xi_a, .) by definition of a moment map: its differential is analytic
        def differential(p):
            return np.asarray(symmetry.metric.flat(symmetry.fundamental_fields(p), p))

        gauge = Gauge(lambda p: symmetry.action.analytic_moment_map(p, symmetry.metric),
                      symmetry, differential=differential, name="moment map")
    elif symmetry.action.generators is not None and symmetry.metric.is_constant:
        gauge, reason = _linear_moment_gauge(symmetry)
        if gauge is None:
            return None, reason
    elif mode == "auto" and symmetry.dim * symmetry.group_dim > GENERIC_MOMENT_MAP_LIMIT:
        return None, (f"skipped: no analytic moment map, and the generic ray integral is costly "
                      f"at n m = {symmetry.dim * symmetry.group_dim} > "
                      f"{GENERIC_MOMENT_MAP_LIMIT}; pass moment_map=True to force it")
    else:
        try:
            gauge = symmetry.moment_map_gauge(check_points=probe)
        except NotClosedError as err:
            return None, f"no moment map: {err}"
    try:
        point = np.asarray(gauge.project_to_slice(theta))
    except (ConvergenceError, NotFreeError, NotRegularValueError) as err:
        return None, f"the moment-map gauge exists but projecting onto its zero set failed: {err}"
    return point, "zero of the moment map, reached along the orbit by Newton's method"


def _distance(symmetry, a, b):
    diff = np.asarray(a) - np.asarray(b)
    lowered = np.asarray(symmetry.metric.flat(diff[None], np.asarray(b)))[0]
    return float(np.sqrt(max(float(diff @ lowered), 0.0)))


def _make_optimizer(name, max_iter, gtol):
    opts = dict(max_iterations=max_iter, min_gradient_norm=gtol, verbosity=0,
                log_verbosity=1, max_cost_evaluations=100 * max(max_iter, 10))
    if name == "trust_regions":
        return pymanopt.optimizers.TrustRegions(**opts)
    if name == "conjugate_gradient":
        return pymanopt.optimizers.ConjugateGradient(**opts)
    if name == "steepest_descent":
        return pymanopt.optimizers.SteepestDescent(**opts)
    raise ValueError(
        f"Expected `optimizer` in ('trust_regions', 'conjugate_gradient', 'steepest_descent'), "
        f"got {name!r}."
    )


def balance(symmetry, theta, *, subalgebra=None, max_iter=100, rng=None,
            optimizer="trust_regions", gradient_tol=GRADIENT_TOL, escape_drop=20.0,
            n_probes=3, probe_scale=1.0, moment_map="auto"):
    """Minimise ``log det H`` over the orbit of ``theta`` (pymanopt, Lie coordinates).

    The cost is ``t -> log det H(act(t B, theta))`` on pymanopt's ``Euclidean(k)`` (``B`` the
    subalgebra basis, the identity by default). Before optimising, ``n_probes`` random orbit
    points test for a constant cost. While optimising, a fall of ``escape_drop`` nats below
    the starting value triggers an unboundedness line search (continuing the optimisation when
    it does not confirm). After optimising, a stationary point is classified by the Hessian.

    Parameters
    ----------
    symmetry : Symmetry
    theta : array_like, shape=[n]
        One point (use :func:`reduced_bias` for many).
    subalgebra : array_like, shape=[k, m], optional
        Basis rows (Lie coordinates) of a subalgebra to restrict to, e.g. the diagonal of
        gl(r). Must be closed under the bracket.
    max_iter : int
        Iterations per optimiser run.
    rng : numpy.random.Generator, optional
        For the probe points and closure tests (seed 0 if omitted).
    optimizer : {"trust_regions", "conjugate_gradient", "steepest_descent"}
    gradient_tol : float
        Gradient norm (Lie coordinates) below which a point is stationary.
    escape_drop : float
        Drop (nats) below the starting value that triggers an unboundedness check.
    n_probes : int
        Random orbit points for the constancy test.
    probe_scale : float
        Standard deviation of the probe coordinates.
    moment_map : {"auto", True, False}
        Compute the moment-map representative: from the action's analytic moment map, or
        ``theta^T g X_a theta / 2`` for linear actions under constant metrics, or (``True``,
        or ``"auto"`` when ``n m <= GENERIC_MOMENT_MAP_LIMIT``) the core's generic ray
        integral; ``False`` skips it.

    Returns
    -------
    result : BalanceResult

    Raises
    ------
    NotFreeError
        If the orbit degenerates at ``theta`` (``H`` singular, e.g. ``u = v = 0``).
    SubalgebraNotClosedError
        If ``subalgebra`` is not closed under the Lie bracket.
    ShapeError
        If ``theta`` is not a single point of shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from quotientib import LieGroupAction, Symmetry
    >>> from quotientib.balance import balance
    >>> sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    >>> res = balance(sym, np.array([3.0, 1.0]))
    >>> res.status, bool(np.isclose(res.value, np.log(2 * 3.0)))
    ('minimum', True)
    """
    if not isinstance(symmetry, Symmetry):
        raise TypeError(f"Expected a Symmetry, got {type(symmetry).__name__}.")
    theta = as_points(theta, symmetry.dim, "theta")
    if theta.ndim != 1:
        raise ShapeError(
            f"balance takes one point of shape ({symmetry.dim},), got shape {theta.shape}; use "
            "reduced_bias for batches."
        )
    theta = np.asarray(theta, dtype=float)
    rng = np.random.default_rng(0) if rng is None else rng
    m = symmetry.group_dim
    if subalgebra is None:
        sym, basis = symmetry, np.eye(m)
    else:
        basis = _as_basis(subalgebra, m)
        probes = np.asarray(symmetry.action.act(0.3 * rng.standard_normal((3, m)),
                                                np.broadcast_to(theta, (3, theta.size))))
        sym = restrict_to_subalgebra(symmetry, basis, sample_points=np.vstack([theta, probes]))
    k = sym.group_dim
    sym.check_free(theta)
    cost, _ = orbit_log_det_function(sym, theta, rng=rng)
    gradient = autograd.grad(cost)
    f0 = float(cost(np.zeros(k)))

    def finish(t, status, message, iterations, values, **extra):
        t = np.asarray(t, dtype=float)
        point = np.asarray(sym.action.act(t, theta), dtype=float)
        g = np.asarray(gradient(t), dtype=float)
        mm_point, mm_msg, dist = None, "not requested", None
        if moment_map:
            mm_point, mm_msg = _moment_map_representative(
                sym, theta, "force" if moment_map is True else "auto")
            if mm_point is not None and status in ("minimum", "constant"):
                if status == "constant":
                    mm_msg += "; log det H is constant, so every orbit point is a minimiser"
                dist = _distance(sym, mm_point, point)
        return BalanceResult(
            point=point, group_coords=t @ basis, value=float(cost(t)),
            gradient_norm=float(np.linalg.norm(g)), iterations=int(iterations), status=status,
            message=message, values_seen=np.asarray(values, dtype=float),
            moment_map_point=mm_point, moment_map_distance=dist, moment_map_message=mm_msg,
            **extra)

    # -- constant? ---------------------------------------------------------------------------
    probes_t = np.vstack([np.zeros(k), probe_scale * rng.standard_normal((n_probes, k))])
    probe_vals = np.array([cost(t) for t in probes_t])
    equal = np.all(np.abs(probe_vals - f0) <= CONSTANT_RTOL * max(1.0, abs(f0)))
    # gradients only when the values agree (the usual case is a quick "no")
    probe_grads = np.array([np.linalg.norm(gradient(t)) for t in probes_t]) if equal \
        else np.array([np.inf])
    if equal and np.all(probe_grads <= gradient_tol):
        return finish(np.zeros(k), "constant",
                      f"log det H is constant along the orbit: equal values (spread "
                      f"{np.ptp(probe_vals):.2e}) and gradient norms <= {probe_grads.max():.2e} "
                      f"at {n_probes} random orbit points and at theta.", 0, probe_vals)

    # -- optimise ------------------------------------------------------------------------------
    manifold = pymanopt.manifolds.Euclidean(k)
    hessian = _CachedHessian(cost, k)
    iterations = 0
    values = [f0]
    t = np.zeros(k)
    threshold = f0 - escape_drop
    reason = ""
    for _ in range(8):  # restarts after an escape that did not confirm unboundedness
        floor = threshold

        def guarded(t_, floor=floor):
            value = cost(t_)
            raw, raw_t = value, t_
            while hasattr(raw, "_value"):  # under pymanopt's autograd tracing
                raw = raw._value
            while hasattr(raw_t, "_value"):
                raw_t = raw_t._value
            if float(raw) < floor:
                raise _Escape(raw_t)
            return value

        # Cost and gradient through pymanopt's autograd backend; the Hessian is supplied as a
        # cached central difference of the autograd gradient (_CachedHessian): the trust-region
        # solver asks for many Hessian-vector products at one point, and one batched gradient
        # call per point is far cheaper than a double reverse pass per product.
        problem = pymanopt.Problem(
            manifold, pymanopt.function.autograd(manifold)(guarded),
            euclidean_hessian=pymanopt.function.numpy(manifold)(hessian.product))
        opt = _make_optimizer(optimizer, max_iter, gradient_tol)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = opt.run(problem, initial_point=t)
        except _Escape as esc:
            t_esc = esc.t
            log = opt._log["iterations"] if opt._log else None
            if log and log.get("cost"):
                values.extend(float(c) for c in log["cost"])
                iterations += len(log["cost"])
            for direction in _escape_directions(t_esc, gradient):
                ok, steps, seen = _line_search_unbounded(cost, t_esc, direction)
                if ok:
                    return finish(
                        t_esc, "unbounded",
                        f"log det H decreases without bound along the orbit: along the unit "
                        f"Lie direction d from the escape point it fell from {seen[0]:.4g} to "
                        f"{seen[-1]:.4g} over step lengths up to {steps[-1]:g}, monotonically, "
                        f"with non-shrinking decrements; no finite minimiser.",
                        iterations, seen, direction=direction @ basis, steps_seen=steps)
            t = t_esc
            threshold = float(cost(t_esc)) - escape_drop
            continue
        t = np.asarray(out.point, dtype=float)
        iterations += int(out.iterations)
        log = out.log["iterations"] if out.log and out.log["iterations"] else None
        if log and log.get("cost"):
            values.extend(float(c) for c in log["cost"])
        reason = out.stopping_criterion
        break
    else:
        reason = "the value kept falling past the escape threshold without confirming unboundedness"

    grad_norm = float(np.linalg.norm(gradient(t)))
    if grad_norm <= gradient_tol * 10:
        hess = hessian.matrix(t)
        eig, vecs = np.linalg.eigh(0.5 * (hess + hess.T))
        scale = max(1.0, float(np.max(np.abs(eig))))
        drift = _flat_direction_drift(cost, t, eig, vecs, scale)
        if drift is not None:
            step, drop = drift
            return finish(t, "not_converged",
                          f"no finite minimiser found: the gradient is small ({grad_norm:.2e}) "
                          f"but log det H still decreases by {drop:.3g} over a step of length "
                          f"{step:g} along a flat Hessian direction (an infimum approached at "
                          f"infinity, or a very slow descent); pymanopt: {reason}",
                          iterations, values, hessian_eigenvalues=eig)
        if eig[0] >= -HESSIAN_RTOL * scale:
            return finish(t, "minimum",
                          f"finite minimiser: gradient norm {grad_norm:.2e}, smallest Hessian "
                          f"eigenvalue {eig[0]:.3g} (pymanopt: {reason})", iterations, values,
                          hessian_eigenvalues=eig)
        return finish(t, "not_converged",
                      f"stopped at a saddle point of log det H (Hessian eigenvalue {eig[0]:.3g}"
                      f" < 0, gradient norm {grad_norm:.2e}); pymanopt: {reason}",
                      iterations, values, hessian_eigenvalues=eig)
    for direction in _escape_directions(t, gradient):
        ok, steps, seen = _line_search_unbounded(cost, t, direction)
        if ok:
            return finish(
                t, "unbounded",
                f"log det H decreases without bound along the orbit: it fell from {seen[0]:.4g} "
                f"to {seen[-1]:.4g} over step lengths up to {steps[-1]:g}, monotonically, with "
                "non-shrinking decrements; no finite minimiser.",
                iterations, seen, direction=direction @ basis, steps_seen=steps)
    return finish(t, "not_converged",
                  f"no stationary point reached: gradient norm {grad_norm:.3g} > tolerance "
                  f"{gradient_tol:g} after {iterations} iterations (pymanopt: {reason}); a line "
                  "search along the descent direction did not show an unbounded decrease.",
                  iterations, values)


def _flat_direction_drift(cost, t, eig, vecs, scale, steps=(1.0, 4.0)):
    """Step and drop where ``cost`` decreases along a near-zero-curvature direction, or None.

    A stationary point with flat Hessian directions is a minimum only if the cost does not
    decrease along them: flat directions of a true minimum are orbits of a subgroup leaving
    ``log det H`` unchanged (e.g. O(r) inside GL(r)), whereas an infimum approached at infinity
    (``log(1 + e^-t)``) also has vanishing gradient and curvature far out.
    """
    f0 = float(cost(t))
    tol = 1e-10 * max(1.0, abs(f0))
    for idx in np.flatnonzero(np.abs(eig) <= HESSIAN_RTOL * scale):
        for step in steps:
            for sign in (1.0, -1.0):
                value = _safe(cost, t + sign * step * vecs[:, idx])
                if np.isfinite(value) and value < f0 - tol:
                    return step, f0 - value
    return None


class _CachedHessian:
    """Hessian of the cost in Lie coordinates, cached at the last point asked for.

    pymanopt's trust-region solver asks for many Hessian-vector products at one point; the
    full ``k x k`` Hessian costs one batched gradient call (central differences of the
    autograd gradient along all ``k`` directions at once, when the cost broadcasts over a batch
    of coordinates; ``k`` separate calls otherwise), after which each product is a mat-vec.
    """

    def __init__(self, cost, k):
        self.k = k
        self.gradient = autograd.grad(cost)
        self.batched_gradient = autograd.grad(lambda ts: anp.sum(cost(ts)))
        self._t = None
        self._hess = None
        self._batched = None

    def _columns(self, t, h):
        eye = np.eye(self.k)
        shifts = np.concatenate([t + h * eye, t - h * eye])
        if self._batched is not False:
            try:
                grads = np.asarray(self.batched_gradient(shifts), dtype=float)
                if grads.shape == shifts.shape:
                    self._batched = True
                    return (grads[:self.k] - grads[self.k:]) / (2 * h)
            except Exception:  # noqa: BLE001  (a cost that does not broadcast over t)
                pass
            self._batched = False
        grads = np.stack([np.asarray(self.gradient(x), dtype=float) for x in shifts])
        return (grads[:self.k] - grads[self.k:]) / (2 * h)

    def matrix(self, t):
        """Symmetrised Hessian ``[k, k]`` at ``t``."""
        t = np.asarray(t, dtype=float)
        if self._t is None or not np.array_equal(t, self._t):
            h = 1e-5 * max(1.0, float(np.linalg.norm(t)))
            hess = self._columns(t, h)
            self._hess = 0.5 * (hess + hess.T)
            self._t = t.copy()
        return self._hess

    def product(self, t, v):
        """Hessian-vector product at ``t``."""
        return self.matrix(t) @ np.asarray(v, dtype=float)


def _escape_directions(t, gradient):
    """Candidate escape directions: the negative gradient and the net displacement."""
    out = []
    g = -np.asarray(gradient(t), dtype=float)
    for d in (g, np.asarray(t, dtype=float)):
        norm = np.linalg.norm(d)
        if norm > 1e-12 and np.all(np.isfinite(d)):
            out.append(d / norm)
    return out


# --------------------------------------------------------------------------------------------
# reduced bias
# --------------------------------------------------------------------------------------------
def _batched_newton(symmetry, theta, *, max_iter=50, gradient_tol=GRADIENT_TOL, analytic=True):
    """Damped Newton on ``t -> log det H(act(t, theta))`` for all points at once.

    Each iteration works on the points not yet converged only. The Hessians come from central
    differences of the autograd gradient along the ``m`` Lie directions, evaluated for all
    active points and directions in one batched call.

    Returns the minimal values ``[B]`` and a mask of the points where Newton settled at a
    point with positive semi-definite Hessian.
    """
    act = symmetry.action.act
    gram = (_gram_analytic if analytic else _gram_autograd)(symmetry)
    m = symmetry.group_dim
    n_pts = theta.shape[0]
    eye = np.eye(m)

    def values(t, th):
        return logdet_spd(gram(act(t, th)))

    grad_fn = autograd.grad(lambda t, th: anp.sum(values(t, th)))

    def gradients(t, th):
        return np.asarray(grad_fn(t, th), dtype=float)

    def hessians(t, th):
        # points are independent: one gradient call on the 2m shifted copies of every point
        h = 1e-5 * np.maximum(1.0, np.linalg.norm(t, axis=-1))[None, :, None]  # [1, B, 1]
        shifts = np.concatenate([t[None] + h * eye[:, None, :],
                                 t[None] - h * eye[:, None, :]])  # [2m, B, m]
        grads = gradients(shifts.reshape(-1, m),
                          np.broadcast_to(th, (2 * m,) + th.shape).reshape(-1, th.shape[-1]))
        grads = grads.reshape(2 * m, -1, m)
        hess = np.moveaxis((grads[:m] - grads[m:]) / (2 * h), 0, -1)  # [B, m(grad), m(dir)]
        return 0.5 * (hess + np.swapaxes(hess, -1, -2))

    t = np.zeros((n_pts, m))
    f = np.asarray(values(t, theta), dtype=float)
    active = np.arange(n_pts)
    for _ in range(max_iter):
        th, ta, fa = theta[active], t[active], f[active]
        g = gradients(ta, th)
        still = np.linalg.norm(g, axis=-1) > gradient_tol
        active, th, ta, fa, g = active[still], th[still], ta[still], fa[still], g[still]
        if active.size == 0:
            break
        hess = hessians(ta, th)
        eig_min = np.linalg.eigvalsh(hess)[..., 0]
        shift = np.where(eig_min > 1e-8, 0.0, 1e-3 - np.minimum(eig_min, 0.0))
        step = -np.linalg.solve(hess + shift[:, None, None] * eye, g[..., None])[..., 0]
        slope = np.sum(g * step, axis=-1)
        alpha = np.ones(active.size)
        for _ in range(30):  # backtracking per point, vectorised
            with np.errstate(all="ignore"):
                try:
                    f_trial = np.asarray(values(ta + alpha[:, None] * step, th), dtype=float)
                except np.linalg.LinAlgError:
                    f_trial = np.full(active.size, np.inf)
            # Armijo, with slack for rounding: near the minimum f changes below float eps
            bad = ~(f_trial <= fa + 1e-4 * alpha * slope + 1e-13 * (1.0 + np.abs(fa)))
            if not np.any(bad):
                break
            alpha = np.where(bad, 0.5 * alpha, alpha)
        t[active] = ta + alpha[:, None] * step
        f[active] = np.where(bad, fa, f_trial)
        t[active[bad]] = ta[bad]
    g = gradients(t, theta)
    done = np.linalg.norm(g, axis=-1) <= 10 * gradient_tol
    eig = np.linalg.eigvalsh(hessians(t, theta))
    scale = np.maximum(1.0, np.max(np.abs(eig), axis=-1))
    ok = done & (eig[..., 0] >= -HESSIAN_RTOL * scale)
    return f, ok


def reduced_bias(symmetry, theta, temperature, *, method="auto", max_iter=100, rng=None):
    """The reduced bias ``(T/2) min over the orbit of log det H``.

    Parameters
    ----------
    symmetry : Symmetry
    theta : array_like, shape=[..., n]
        Points (any batch shape).
    temperature : float or array_like, shape=[...]
        ``T``, broadcast against the batch.
    method : {"auto", "closed_form", "numerical"}
        ``"closed_form"`` uses ``symmetry.action.analytic_reduced_log_det`` (error if there is
        none for this metric); ``"numerical"`` minimises: a damped Newton iteration over all
        points at once, then :func:`balance` for the points where Newton did not settle
        (``-inf`` where ``balance`` reports ``"unbounded"``); ``"auto"`` uses the closed form
        when there is one.
    max_iter : int
        Iterations of the numerical minimisers.
    rng : numpy.random.Generator, optional
        Passed to :func:`balance`.

    Returns
    -------
    bias : ndarray, shape=[...]

    Raises
    ------
    NotFreeError
        If the orbit degenerates at a point.
    ConvergenceError
        If the numerical path reports ``"not_converged"`` at a point.
    ValueError
        If ``method`` is unknown, or ``"closed_form"`` is asked for without one.

    Examples
    --------
    >>> import numpy as np
    >>> from quotientib import LieGroupAction, Symmetry
    >>> from quotientib.balance import reduced_bias
    >>> sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    >>> reduced_bias(sym, np.array([[3.0, 1.0], [1.0, 2.0]]), 0.1).shape
    (2,)
    """
    if method not in ("auto", "closed_form", "numerical"):
        raise ValueError(
            f"Expected `method` in ('auto', 'closed_form', 'numerical'), got {method!r}."
        )
    theta = np.asarray(as_points(theta, symmetry.dim, "theta"), dtype=float)
    batch = theta.shape[:-1]
    temperature = np.asarray(temperature, dtype=float)
    if method != "numerical":
        closed = symmetry.action.analytic_reduced_log_det(theta, symmetry.metric)
        if closed is not NotImplemented:
            symmetry.check_free(theta)
            return 0.5 * temperature * np.asarray(closed, dtype=float)
        if method == "closed_form":
            raise ValueError(
                f"The action '{symmetry.name}' has no closed-form reduced log det for this "
                "metric; use method='numerical' or 'auto'."
            )
    flat = theta.reshape(-1, symmetry.dim)
    symmetry.check_free(flat)
    out = np.empty(flat.shape[0])
    ok = np.zeros(flat.shape[0], dtype=bool)
    rng = np.random.default_rng(0) if rng is None else rng
    try:
        # the same traceability check as balance: analytic orbit Gram or autograd fields
        _, analytic = orbit_log_det_function(symmetry, flat[0], rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, ok = _batched_newton(symmetry, flat, max_iter=max_iter, analytic=analytic)
    except Exception:  # noqa: BLE001  (a user kernel that does not batch can raise anything)
        out = np.empty(flat.shape[0])
        ok = np.zeros(flat.shape[0], dtype=bool)  # every point goes through balance
    for i in np.flatnonzero(~ok):
        res = balance(symmetry, flat[i], max_iter=max_iter, rng=rng, moment_map=False)
        if res.status in ("minimum", "constant"):
            out[i] = res.value
        elif res.status == "unbounded":
            out[i] = -np.inf
        else:
            raise ConvergenceError(
                f"reduced_bias: balancing point {np.round(flat[i], 6)} (flat index {i}) did not "
                f"converge: {res.message}"
            )
    return 0.5 * temperature * out.reshape(batch)

