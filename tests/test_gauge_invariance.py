"""Gauge (in)variance of the reduced law, by quadrature: closed forms for uv and SO(2)."""

import autograd.numpy as anp
import numpy as np
import pytest
from scipy.integrate import simpson

from quotientib.errors import ShapeError
from quotientib.gauge import Gauge
from quotientib.metric import FieldMetric
from quotientib.verify.examples import rotation_symmetry, uv_line_gauge, uv_log_gauge, uv_symmetry
from quotientib.verify.gauge_invariance import (
    gauge_invariance,
    invariant_law_distance,
    newton_section,
)

#: Quadrature / Newton accuracy of the pointwise densities (float64, 201-point grids).
TOL = 1e-9
T = 0.5
GRID = np.linspace(0.2, 3.0, 201)


def uv_loss(p):
    return 0.5 * (p[..., 0] * p[..., 1] - 1.0) ** 2


def section_uv(h):
    return np.concatenate([h, np.ones_like(h)], axis=-1)


def normalised(values, grid=GRID):
    return values / simpson(values, x=grid)


def uv_gauges(sym):
    return [
        sym.moment_map_gauge(),
        uv_log_gauge(sym),
        Gauge(lambda p: 0.5 * (p[..., 0:1] ** 2 - p[..., 1:2] ** 2) - 0.5, sym,
              name="(u^2 - v^2 - 1)/2"),
        uv_line_gauge(sym, 2.0),
        Gauge(lambda p: p[..., 0:1] - p[..., 1:2] - 0.5, sym, name="u - v - 1/2"),
    ]


@pytest.fixture(scope="module")
def uv_result():
    sym = uv_symmetry()
    return gauge_invariance(sym, uv_gauges(sym), uv_loss, T, invariant_grid=GRID,
                            section=section_uv)


def test_fp_densities_agree_across_all_uv_gauges(uv_result):
    # the scaling preserves du dv, so Faddeev-Popov weighting removes the gauge dependence
    assert uv_result.volume_preserving
    assert uv_result.fp_max_discrepancy <= TOL
    assert uv_result.fp_tv_discrepancy <= TOL
    flat = normalised(np.exp(-0.5 * (GRID - 1) ** 2 / T))
    np.testing.assert_allclose(uv_result.fp_densities, np.broadcast_to(flat, (5, GRID.size)),
                               rtol=TOL)


def test_delta_densities_match_their_closed_forms(uv_result):
    gibbs = np.exp(-0.5 * (GRID - 1) ** 2 / T)
    expected = [
        gibbs / GRID,  # moment map: the paper's exp(-L/T)/theta
        gibbs,  # log(u/v)/2, M = 1: flat
        gibbs / np.sqrt(1 + 4 * GRID ** 2),  # orthogonal slice u^2 - v^2 = 1: 1/H
        gibbs / np.sqrt(GRID),  # line u = 2v: theta = 2 v^2, dtheta = 4 v dv
    ]
    for dens, ref in zip(uv_result.delta_densities, expected):
        np.testing.assert_allclose(dens, normalised(ref), rtol=TOL)
    assert uv_result.delta_max_discrepancy > 1.0


def test_moment_and_log_gauges_differ_by_factor_theta(uv_result):
    ratio = uv_result.delta_densities[1] / uv_result.delta_densities[0]
    np.testing.assert_allclose(ratio / ratio[0], GRID / GRID[0], rtol=TOL)


def test_orthogonal_slices_have_fp_equal_orbit_volume(uv_result):
    assert uv_result.orthogonal == (True, True, True, False, False)
    assert max(uv_result.orbit_volume_vs_fp[:3]) <= TOL
    # the line u = v + 1/2 meets the orbits at a varying angle: exp(-L/T) sqrt(H) dsigma is not
    # the Faddeev-Popov density there
    assert uv_result.orbit_volume_vs_fp[4] > 0.01


def test_rotation_fp_density_is_r_times_gibbs():
    rot = rotation_symmetry(2)
    gauges = [
        Gauge(lambda x: anp.arctan2(x[..., 1:2], x[..., 0:1]), rot, name="angle"),
        Gauge(lambda x: x[..., 1:2], rot, name="y"),
        Gauge(lambda x: anp.arctan2(x[..., 1:2], x[..., 0:1])
              - 0.3 * anp.sum(x ** 2, axis=-1, keepdims=True), rot, name="spiral"),
    ]
    grid = np.linspace(0.1, 2.5, 201)

    def loss(x):
        return 0.5 * (anp.sqrt(anp.sum(x ** 2, axis=-1)) - 1.0) ** 2

    res = gauge_invariance(rot, gauges, loss, 0.3, invariant_grid=grid,
                           base_point=np.array([1.0, 0.2]))
    gibbs = np.exp(-0.5 * (grid - 1) ** 2 / 0.3)
    for dens in res.fp_densities:
        np.testing.assert_allclose(dens, normalised(grid * gibbs, grid), rtol=TOL)
    # delta-conditioned: angle gauge (G = 1/r^2) gives r exp(-L/T), the y gauge (G = 1) gives
    # exp(-L/T)
    np.testing.assert_allclose(res.delta_densities[0], normalised(grid * gibbs, grid), rtol=TOL)
    np.testing.assert_allclose(res.delta_densities[1], normalised(gibbs, grid), rtol=TOL)
    assert res.orthogonal == (True, True, False)


def test_constant_metric_keeps_fp_invariance():
    sym = uv_symmetry(np.diag([2.0, 0.5]))
    res = gauge_invariance(sym, [sym.moment_map_gauge(), uv_log_gauge(sym),
                                 uv_line_gauge(sym, 1.5)], uv_loss, T, invariant_grid=GRID,
                           section=section_uv)
    assert res.volume_preserving
    assert res.fp_max_discrepancy <= TOL


def test_field_metric_is_reported_not_volume_preserving():
    metric = FieldMetric(lambda th: anp.stack([
        anp.stack([1.0 + th[..., 0] ** 2, 0.0 * th[..., 0]], -1),
        anp.stack([0.0 * th[..., 0], 1.0 + th[..., 1] ** 2], -1)], -2), 2)
    sym = uv_symmetry(metric)
    res = gauge_invariance(sym, [uv_log_gauge(sym), uv_line_gauge(sym, 2.0)], uv_loss, T,
                           invariant_grid=np.linspace(0.5, 2.0, 21), section=section_uv)
    assert not res.volume_preserving
    assert res.max_divergence > 0.01


def test_result_table_and_dict(uv_result):
    d = uv_result.to_dict()
    assert d["gauges"][0] == "moment map"
    assert np.isfinite(d["fp_max_discrepancy"]) and np.isfinite(d["delta_tv_discrepancy"])
    text = uv_result.table()
    assert "Faddeev-Popov" in text and "u - 2 v" in text


def test_newton_section_batched_equals_stacked():
    sym = uv_symmetry()
    targets = np.array([[0.3], [1.0], [2.5]])
    batched = newton_section(sym, targets, np.array([1.0, 1.0]))
    stacked = np.concatenate([newton_section(sym, t[None], np.array([1.0, 1.0]))
                              for t in targets])
    np.testing.assert_allclose(batched, stacked, rtol=1e-14)
    np.testing.assert_allclose(batched[:, 0] * batched[:, 1], targets[:, 0], rtol=1e-12)


def test_invariant_law_distance_closed_form():
    axis = np.linspace(0.0, 1.0, 101)
    # all samples in the first of 4 bins of a uniform density: TV = 1 - 1/4, KS = 3/4
    dist = invariant_law_distance(np.full(50, 0.1), axis, np.ones_like(axis), bins=4)
    assert dist["tv"] == pytest.approx(0.75, abs=1e-12)
    assert dist["ks"] == pytest.approx(0.75, abs=1e-12)


def test_langevin_lie_window_law_is_the_fp_law():
    from quotientib.dynamics import UVModel, langevin

    sym = uv_symmetry()
    rng = np.random.default_rng(1)
    res = langevin(UVModel(target=1.0).grad, np.ones((300, 2)), temperature=T, dt=0.01,
                   n_steps=3000, rng=rng, record_every=20,
                   observables={"theta": lambda x: x[:, 0] * x[:, 1],
                                "s": lambda x: 0.5 * np.log(np.abs(x[:, 0] / x[:, 1]))})
    keep = (np.abs(res.observables["s"]) <= 1.0) & (res.record_steps >= 500)
    theta = res.observables["theta"][keep]
    groups = np.broadcast_to(np.arange(300)[:, None], keep.shape)[keep]
    grid = np.linspace(0.25, 2.5, 201)
    out = gauge_invariance(sym, [sym.moment_map_gauge(), uv_log_gauge(sym)], uv_loss, T,
                           invariant_grid=grid, section=section_uv, langevin_samples=theta,
                           sample_groups=groups, rng=rng)
    # measured (seed-robust): TV about 0.02 to the Faddeev-Popov law, about 0.23 to the paper's
    assert out.langevin["fp"]["moment map"]["tv"] < 0.06
    assert out.langevin["delta"]["moment map"]["tv"] > 0.15


def test_bad_input_raises():
    sym = uv_symmetry()
    gauges = uv_gauges(sym)[:2]
    with pytest.raises(ValueError, match="at least two gauges"):
        gauge_invariance(sym, gauges[:1], uv_loss, T, invariant_grid=GRID, section=section_uv)
    with pytest.raises(ValueError, match="temperature"):
        gauge_invariance(sym, gauges, uv_loss, 0.0, invariant_grid=GRID, section=section_uv)
    with pytest.raises(ShapeError, match="invariant directions"):
        gauge_invariance(sym, gauges, uv_loss, T, invariant_grid=[GRID, GRID],
                         section=section_uv)
    with pytest.raises(ValueError, match="section"):
        gauge_invariance(sym, gauges, uv_loss, T, invariant_grid=GRID)
