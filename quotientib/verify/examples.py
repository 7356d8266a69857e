"""Built-in examples: small symmetries, gauges and coarea set-ups with known answers.

They feed ``quotientib check``, the tests and the tutorials. Closed forms used as references:

* uv scaling ``(u, v) -> (e^t u, e^-t v)``, invariant ``uv``: ``xi = (u, -v)``,
  ``H = u^2 + v^2`` (Euclidean), ``a u^2 + b v^2`` under ``diag(a, b)``; moment map
  ``(a u^2 - b v^2)/2``; Lie-coordinate gauge ``log(u/v)/2`` has ``M = 1``.
* column scaling of ``U V^T``: ``mu_j = (|U_j|^2 - |V_j|^2)/2``.
* rotations of the plane: ``-y dx + x dy`` is not closed, no moment map.
"""

from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np

from quotientib.action import LieGroupAction
from quotientib.gauge import Gauge
from quotientib.metric import FieldMetric
from quotientib.symmetry import Symmetry

__all__ = [
    "uv_action",
    "uv_symmetry",
    "uv_log_gauge",
    "uv_line_gauge",
    "rotation_symmetry",
    "column_scaling_symmetry",
    "CoareaExample",
    "coarea_examples",
]


def uv_action():
    """The scaling ``(u, v) -> (e^t u, e^-t v)`` with invariant ``uv`` and analytic fields.

    Returns
    -------
    action : LieGroupAction
        ``n = 2``, ``m = 1``.
    """

    def act(t, theta):
        e = anp.exp(t[..., 0])
        return anp.stack([theta[..., 0] * e, theta[..., 1] / e], axis=-1)

    def fields(theta):
        return anp.stack([theta[..., 0], -theta[..., 1]], axis=-1)[..., None, :]

    return LieGroupAction(act, 2, 1, invariant=lambda th: th[..., 0:1] * th[..., 1:2],
                          fundamental_fields=fields, name="uv scaling")


def uv_symmetry(metric=None):
    """The uv scaling symmetry under ``metric`` (Euclidean by default).

    Parameters
    ----------
    metric : optional
        Anything :func:`quotientib.metric.as_metric` accepts, for ``n = 2``.

    Returns
    -------
    symmetry : Symmetry
    """
    return Symmetry(uv_action(), metric, name="uv scaling")


def uv_log_gauge(symmetry):
    """Lie-coordinate gauge ``chi = log(u/v)/2`` on ``u, v > 0``; ``M = 1`` everywhere.

    Parameters
    ----------
    symmetry : Symmetry
        A uv symmetry.

    Returns
    -------
    gauge : Gauge
    """
    return Gauge(lambda th: 0.5 * (anp.log(th[..., 0:1]) - anp.log(th[..., 1:2])), symmetry,
                 name="log(u/v)/2")


def uv_line_gauge(symmetry, slope=2.0):
    """Linear gauge ``chi = u - slope * v``: a slice that is not orthogonal to the orbits.

    Parameters
    ----------
    symmetry : Symmetry
    slope : float

    Returns
    -------
    gauge : Gauge
    """
    return Gauge(lambda th: th[..., 0:1] - slope * th[..., 1:2], symmetry,
                 name=f"u - {slope:g} v")


def rotation_symmetry(dim=2, metric=None):
    """Rotations ``SO(d)`` of ``R^d`` with invariant ``|x|``.

    Parameters
    ----------
    dim : int
    metric : optional

    Returns
    -------
    symmetry : Symmetry
        ``m = d(d-1)/2`` generators ``E_ij - E_ji``.
    """
    gens = []
    for i in range(dim):
        for j in range(i + 1, dim):
            gen = np.zeros((dim, dim))
            gen[i, j], gen[j, i] = -1.0, 1.0
            gens.append(gen)
    action = LieGroupAction.from_generators(
        np.array(gens), invariant=lambda x: anp.sqrt(anp.sum(x ** 2, axis=-1, keepdims=True)),
        name=f"SO({dim})")
    return Symmetry(action, metric, name=f"SO({dim}) rotations")


def column_scaling_symmetry(rows=3, cols=3, rank=2, metric=None):
    """Column scaling ``(U, V) -> (U e^{diag t}, V e^{-diag t})`` of ``W = U V^T``.

    Points are ``theta = concat(U.ravel(), V.ravel())`` with ``U`` of shape ``(rows, rank)`` and
    ``V`` of shape ``(cols, rank)``.

    Parameters
    ----------
    rows, cols, rank : int
    metric : optional

    Returns
    -------
    symmetry : Symmetry
        ``n = (rows + cols) rank``, ``m = rank``.
    """
    n = (rows + cols) * rank
    gens = np.zeros((rank, n, n))
    for j in range(rank):
        for i in range(rows):
            k = i * rank + j
            gens[j, k, k] = 1.0
        for i in range(cols):
            k = rows * rank + i * rank + j
            gens[j, k, k] = -1.0

    def product(theta):
        u = theta[..., : rows * rank].reshape(theta.shape[:-1] + (rows, rank))
        v = theta[..., rows * rank:].reshape(theta.shape[:-1] + (cols, rank))
        return anp.matmul(u, anp.swapaxes(v, -1, -2)).reshape(theta.shape[:-1] + (rows * cols,))

    action = LieGroupAction.from_generators(gens, invariant=product, name="column scaling")
    return Symmetry(action, metric, name=f"column scaling of U V^T (rank {rank})")


@dataclass(frozen=True)
class CoareaExample:
    """A 2-D set-up for :func:`quotientib.verify.coarea.coarea_check`.

    The slice parametrisations are deliberately nonlinear (``u = s^2``, a warped angle) and the
    lines of the delta side sheared or off-centre, so that the two quadratures sample different
    points and agree only if the identity holds.

    Attributes
    ----------
    name : str
    gauge : Gauge
        Scalar gauge (``m = 1``) of a 2-D symmetry; its metric defines ``dVol_g``.
    weight : callable
        ``f``, ``[2] -> float``.
    line, line_jacobian, a_bounds, s_bracket :
        Lines covering the domain for the delta side (see
        :func:`~quotientib.verify.coarea.delta_integral`).
    curve, curve_bounds :
        A parametrisation of the slice for the slice side.
    """

    name: str
    gauge: Gauge
    weight: Callable
    line: Callable
    line_jacobian: Callable
    a_bounds: tuple
    s_bracket: Callable
    curve: Callable
    curve_bounds: tuple

    def scalar_chi(self, point):
        """The gauge as a scalar function of one point (for the line-by-line root finding)."""
        return self.gauge.chi(point)[0]


def _gibbs_uv(temperature=0.5, target=1.0):
    # Gibbs weight of L(uv) = (uv - target)^2 / 2 times uv, so that the slice integrals converge
    # at the origin where the scaling action is not free.
    def weight(point):
        theta = point[0] * point[1]
        return float(np.exp(-0.5 * (theta - target) ** 2 / temperature) * theta)

    return weight


SHEAR = 0.3


def _sheared(a, s):
    # Lines a = const of a sheared grid, so that the delta side samples the slice at other
    # nodes than the slice side (the check would otherwise compare one integrand with itself).
    return anp.array([a + SHEAR * s, s])


def _sheared_root_bracket(slope):
    # On the slice v = slope * u the root along the line a = const is s* = slope a / (1 - k slope).
    def bracket(a):
        root = slope * a / (1.0 - SHEAR * slope)
        return [(0.5 * root, 2.0 * root)]

    return bracket


def coarea_examples():
    """The built-in coarea set-ups.

    uv with a Gibbs weight under three gauges and metrics, and polar coordinates (off-centre
    rays) around a circle.

    Returns
    -------
    examples : list of CoareaExample
    """
    weight = _gibbs_uv()
    u_max = 6.0  # the Gibbs weight on the slices below is below 1e-300 beyond this
    out = []
    sym = uv_symmetry()
    out.append(CoareaExample(
        "uv, Euclidean, moment-map gauge (u^2 - v^2)/2", sym.moment_map_gauge(), weight,
        _sheared, lambda a, s: 1.0, (0.0, (1 - SHEAR) * u_max), _sheared_root_bracket(1.0),
        lambda s: anp.array([s ** 2, s ** 2]), (0.0, np.sqrt(u_max))))
    a, b = 2.0, 0.5
    sym_ab = uv_symmetry(np.diag([a, b]))
    ratio = np.sqrt(a / b)
    out.append(CoareaExample(
        "uv, metric diag(2, 0.5), moment-map gauge (a u^2 - b v^2)/2",
        sym_ab.moment_map_gauge(), weight, _sheared, lambda a_, s: 1.0,
        (0.0, (1 - SHEAR * ratio) * u_max), _sheared_root_bracket(ratio),
        lambda s: anp.array([s ** 2, ratio * s ** 2]), (0.0, np.sqrt(u_max))))
    field = FieldMetric(lambda th: anp.stack([
        anp.stack([1.0 + th[..., 0] ** 2, 0.0 * th[..., 0]], -1),
        anp.stack([0.0 * th[..., 0], 1.0 + th[..., 1] ** 2], -1)], -2), 2)
    sym_field = uv_symmetry(field)
    out.append(CoareaExample(
        "uv, metric diag(1 + u^2, 1 + v^2), Lie-coordinate gauge log(u/v)/2",
        uv_log_gauge(sym_field), weight, _sheared, lambda a_, s: 1.0,
        (1e-300, (1 - SHEAR) * u_max), _sheared_root_bracket(1.0),
        lambda s: anp.array([s ** 2, s ** 2]), (1e-150, np.sqrt(u_max))))
    rot = rotation_symmetry(2)
    circle = Gauge(lambda x: 0.5 * (anp.sum(x ** 2, axis=-1, keepdims=True) - 1.0), rot,
                   name="(|x|^2 - 1)/2")

    def bump(point):
        return float(np.exp(-((point[0] - 0.3) ** 2) - 2.0 * point[1] ** 2) * (1 + point[0]))

    centre = np.array([0.2, -0.1])

    def rays(a_, s_):
        # Rays from an off-centre point inside the circle: each meets it exactly once.
        return anp.array([centre[0] + s_ * anp.cos(a_), centre[1] + s_ * anp.sin(a_)])

    out.append(CoareaExample(
        "polar coordinates (off-centre rays), circle |x| = 1, Euclidean", circle, bump, rays,
        lambda a_, s_: s_, (0.0, 2 * np.pi), lambda a_: [(0.5, 1.5)],
        lambda s_: anp.array([anp.cos(s_ + 0.3 * anp.sin(s_)), anp.sin(s_ + 0.3 * anp.sin(s_))]),
        (0.0, 2 * np.pi)))
    return out
