"""The built-in verification suite behind ``quotientib check``.

Each check computes a residual on a built-in example and compares it with a tolerance chosen
from the mathematics (round-off for identities, quadrature accuracy for integrals), never from
what the numbers happened to be.
"""

from dataclasses import asdict, dataclass

import autograd.numpy as anp
import numpy as np

from quotientib.errors import NotClosedError
from quotientib.gauge import Gauge
from quotientib.metric import FieldMetric
from quotientib.verify.coarea import coarea_check
from quotientib.verify.examples import (
    coarea_examples,
    column_scaling_symmetry,
    rotation_symmetry,
    uv_line_gauge,
    uv_log_gauge,
    uv_symmetry,
)
from quotientib.verify.proposition1 import proposition_1

__all__ = ["CheckRow", "core_checks", "format_table"]

#: Tolerance for identities that hold to round-off.
IDENTITY_TOL = 1e-10
#: Tolerance for quadrature-based checks.
QUADRATURE_TOL = 1e-9


@dataclass(frozen=True)
class CheckRow:
    """One line of the verification table.

    Attributes
    ----------
    check : str
        Which identity (e.g. ``"Proposition 1 (general)"``).
    example : str
    value : float
        The residual (or, for ``expect="refused"`` checks, 0 when the refusal happened).
    tolerance : float
    passed : bool
    detail : str
    """

    check: str
    example: str
    value: float
    tolerance: float
    passed: bool
    detail: str = ""

    def to_dict(self):
        """Plain-dict form for JSON."""
        return asdict(self)


def _row(check, example, value, tol, detail=""):
    value = float(value)
    return CheckRow(check, example, value, tol, bool(np.isfinite(value) and value <= tol), detail)


def _field_metric():
    return FieldMetric(lambda th: anp.stack([
        anp.stack([1.0 + th[..., 0] ** 2, 0.0 * th[..., 0]], -1),
        anp.stack([0.0 * th[..., 0], 1.0 + th[..., 1] ** 2], -1)], -2), 2)


def _prop1_rows(rng):
    rows = []
    uv = uv_symmetry()
    uv_ab = uv_symmetry(np.diag([2.0, 0.5]))
    uv_field = uv_symmetry(_field_metric())
    slice_points = np.abs(rng.standard_normal((8, 1))) * np.ones((1, 2)) + 0.1
    cases = [
        ("uv, Euclidean, moment-map gauge", uv.moment_map_gauge(), slice_points, True),
        ("uv, diag(2, 0.5), moment-map gauge", uv_ab.moment_map_gauge(),
         uv_ab.moment_map_gauge().project_to_slice(slice_points), True),
        # u = v stays orthogonal under diag(1+u^2, 1+v^2) (the metric is symmetric in u, v)...
        ("uv, diag(1+u^2, 1+v^2), log(u/v)/2", uv_log_gauge(uv_field), slice_points, True),
        # ... but not under diag(2, 0.5): grad chi is parallel to (1/4, -1), xi to (1, -1).
        ("uv, diag(2, 0.5), log(u/v)/2 (oblique)", uv_log_gauge(uv_ab), slice_points, False),
        ("uv, Euclidean, log(u/v)/2", uv_log_gauge(uv), slice_points, True),
        ("uv, Euclidean, u - 2v (oblique)", uv_line_gauge(uv),
         uv_line_gauge(uv).project_to_slice(slice_points), False),
    ]
    cs = column_scaling_symmetry(rows=4, cols=3, rank=2)
    theta = rng.standard_normal((8, cs.dim))
    cases.append(("UV^T column scaling, moment-map gauge", cs.moment_map_gauge(), theta, True))
    for name, gauge, points, orthogonal in cases:
        res = proposition_1(gauge, points)
        rows.append(_row("Proposition 1, general: G = M H^-1 M^T + G_hor", name,
                         res.max_general_residual, IDENTITY_TOL))
        if orthogonal:
            rows.append(_row("Proposition 1, orthogonal slice: G = M H^-1 M^T", name,
                             res.max_orthogonal_residual, IDENTITY_TOL))
        else:
            rows.append(CheckRow("G_hor detected on an oblique slice", name,
                                 res.max_horizontal_size, 1e-6,
                                 bool(res.max_horizontal_size > 1e-6),
                                 "passes when |G_hor|/|G_chi| > 1e-6"))
    return rows


def _moment_rows(rng):
    rows = []
    a, b = 2.0, 0.5
    uv_ab = uv_symmetry(np.diag([a, b]))
    p = rng.standard_normal((16, 2))
    mu = uv_ab.moment_map(p)[:, 0]
    rows.append(_row("moment map = (a u^2 - b v^2)/2", "uv, metric diag(2, 0.5)",
                     np.max(np.abs(mu - (a * p[:, 0] ** 2 - b * p[:, 1] ** 2) / 2)),
                     IDENTITY_TOL))
    field = uv_symmetry(_field_metric())
    u, v = p[:, 0], p[:, 1]
    mu_f = field.moment_map(p)[:, 0]
    rows.append(_row("ray-integrated moment map = u^2/2 + u^4/4 - v^2/2 - v^4/4",
                     "uv, metric diag(1+u^2, 1+v^2)",
                     np.max(np.abs(mu_f - (u**2 / 2 + u**4 / 4 - v**2 / 2 - v**4 / 4))),
                     IDENTITY_TOL))
    cs = column_scaling_symmetry(rows=4, cols=3, rank=2)
    theta = rng.standard_normal((8, cs.dim))
    gauge = cs.moment_map_gauge()
    rows.append(_row("moment-map gauge is balanced: M = H", "UV^T column scaling",
                     np.max(np.abs(gauge.faddeev_popov(theta) - cs.orbit_gram(theta))),
                     IDENTITY_TOL))
    try:
        rotation_symmetry(2).moment_map_gauge()
        rows.append(CheckRow("no moment map for SO(2) (-y dx + x dy not closed)", "SO(2) on R^2",
                             1.0, 0.0, False, "a moment map was wrongly constructed"))
    except NotClosedError:
        rows.append(CheckRow("no moment map for SO(2) (-y dx + x dy not closed)", "SO(2) on R^2",
                             0.0, 0.0, True, "refused with NotClosedError"))
    rows.append(_chi_prime_row(rng))
    return rows


def _chi_prime_row(rng):
    # theory.md point 3: for any orthogonal slice, chi' = H M^-1 chi is balanced on S.
    uv = uv_symmetry()
    base = uv_log_gauge(uv)

    def chi_prime(th):
        u, v = th[..., :1], th[..., 1:]
        return (u**2 + v**2) * base.chi(th)  # H = u^2 + v^2 and M = 1 for the log gauge

    gauge = Gauge(chi_prime, uv, name="H M^-1 log(u/v)/2")
    points = base.project_to_slice(np.abs(rng.standard_normal((8, 2))) + 0.1)
    err = np.max(np.abs(gauge.faddeev_popov(points) - uv.orbit_gram(points)))
    return _row("chi' = H M^-1 chi is balanced on S", "uv, log(u/v)/2 renormalised", err,
                IDENTITY_TOL)


def core_checks(seed=0):
    """Run the built-in checks of Proposition 1, the coarea identity and moment maps.

    Parameters
    ----------
    seed : int
        Seed of the random test points.

    Returns
    -------
    rows : list of CheckRow
    """
    rng = np.random.default_rng(seed)
    rows = _prop1_rows(rng)
    for example in coarea_examples():
        res = coarea_check(example)
        rows.append(_row("coarea: int f delta(chi) dVol = int_S f / sqrt(det G_chi)",
                         example.name, res.relative_error, QUADRATURE_TOL,
                         f"{res.delta_side:.12g} vs {res.slice_side:.12g}"))
    rows.extend(_moment_rows(rng))
    return rows


def format_table(rows):
    """Markdown table of check rows.

    Parameters
    ----------
    rows : list of CheckRow

    Returns
    -------
    table : str
    """
    lines = ["| check | example | value | tolerance | result |", "|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.check} | {row.example} | {row.value:.2e} | {row.tolerance:.0e} | "
                     f"{'pass' if row.passed else 'FAIL'} |")
    return "\n".join(lines)
