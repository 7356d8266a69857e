"""Tests of quotientib.dynamics.estimators: constructed data with known answers."""

import numpy as np
import pytest
from scipy import special, stats

import quotientib  # noqa: F401
from quotientib.dynamics import (
    compare_laws,
    imbalance,
    imbalance_statistics,
    invariant_density,
    occupation_ratio,
)
from quotientib.errors import ShapeError

ATOL = 1e-12
N_SE = 5.0


def rng(seed=0):
    return np.random.default_rng(seed)


# -- invariant_density ---------------------------------------------------------------------
def test_density_pooled_equals_numpy_histogram_and_integrates_to_inside_mass():
    x = rng(0).standard_normal((40, 250))
    est = invariant_density(x, bins=30, range=(-2.5, 2.5), n_blocks=8)
    counts = np.histogram(x.ravel(), bins=30, range=(-2.5, 2.5))[0]
    np.testing.assert_allclose(est.density, counts / (x.size * 5 / 30), atol=ATOL)
    inside = np.mean(np.abs(x) <= 2.5)
    assert abs(np.sum(est.density * np.diff(est.edges)) - inside) < 1e-12
    assert abs(est.fraction_outside - (1 - inside)) < 1e-12
    assert est.density.shape == est.stderr.shape == est.centers.shape == (30,)
    assert est.n_blocks == 8 and est.blocking == "chains"


def test_density_stderr_closed_form_on_constructed_blocks():
    # Two chains per block; block b puts all its samples in bin (b % 2): per-block densities are
    # 0 or 1/width, so stderr = std of {0,1,0,1} / sqrt(4) / width.
    blocks = [np.full((2, 10), 0.25 if b % 2 == 0 else 0.75) for b in range(4)]
    est = invariant_density(np.concatenate(blocks), bins=2, range=(0, 1), n_blocks=4)
    expected = np.std([1, 0, 1, 0], ddof=1) / 2 / 0.5
    np.testing.assert_allclose(est.stderr, [expected, expected], atol=ATOL)
    np.testing.assert_allclose(est.density, [1.0, 1.0], atol=ATOL)
    q = stats.t.ppf(0.975, 3)
    np.testing.assert_allclose(est.upper - est.density, q * est.stderr, atol=ATOL)


def test_density_covers_the_true_density():
    x = rng(1).standard_normal((200, 500))
    est = invariant_density(x, bins=20, range=(-2, 2))
    z = (est.density - stats.norm.pdf(est.centers)) / est.stderr
    # Bin averages differ from centre values by O(width^2 f''): small against 5 SE here.
    assert np.all(np.abs(z) < N_SE)


def test_density_single_chain_uses_time_blocks_and_bad_input():
    est = invariant_density(rng(2).standard_normal(1000), bins=5, n_blocks=10)
    assert est.blocking == "time"
    with pytest.raises(ValueError):
        invariant_density(np.zeros((3, 10)), n_blocks=10)
    with pytest.raises(ShapeError):
        invariant_density(np.zeros((3, 10, 2)))


# -- occupation_ratio ----------------------------------------------------------------------
def test_occupation_ratio_closed_form():
    row = np.array([0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.5])  # 3 in A, 6 in B
    res = occupation_ratio(np.tile(row, (20, 1)), (0.0, 0.35), (0.4, 1.0), n_blocks=5)
    assert abs(res.ratio - 0.5) < ATOL and res.stderr < ATOL
    assert abs(res.fraction_a - 0.3) < ATOL and abs(res.fraction_b - 0.6) < ATOL


def test_occupation_ratio_uniform_samples():
    u = rng(3).uniform(0, 1, size=(100, 1000))
    res = occupation_ratio(u, (0.0, 0.2), lambda v: v >= 0.4)
    assert abs(res.ratio - 1 / 3) < N_SE * res.stderr
    assert res.lower < res.ratio < res.upper


def test_occupation_ratio_batched_mask_equals_interval():
    u = rng(4).uniform(0, 1, size=(30, 50))
    a = occupation_ratio(u, (0.1, 0.3), (0.5, 0.9))
    b = occupation_ratio(u, lambda v: (v >= 0.1) & (v < 0.3), lambda v: (v >= 0.5) & (v < 0.9))
    assert a == b
    with pytest.raises(ValueError):
        occupation_ratio(u, (0, 1), (2, 3))


# -- imbalance --------------------------------------------------------------------------
def test_imbalance_closed_form_and_vectorisation():
    x = rng(5).standard_normal((4, 3, 5))
    pairs = [([0, 1], [4]), ([2], [3])]
    d = imbalance(x, pairs)
    assert d.shape == (4, 3, 2)
    np.testing.assert_allclose(d[..., 0], x[..., 0] ** 2 + x[..., 1] ** 2 - x[..., 4] ** 2,
                               atol=ATOL)
    np.testing.assert_allclose(d[..., 1], x[..., 2] ** 2 - x[..., 3] ** 2, atol=ATOL)
    stacked = np.stack([imbalance(x[i], pairs) for i in range(4)])
    np.testing.assert_allclose(d, stacked, atol=ATOL)
    with pytest.raises(ShapeError):
        imbalance(x, [([7], [0])])


def test_imbalance_statistics_exponential_decay_closed_form():
    t = np.linspace(0, 2, 11)
    d0 = rng(6).uniform(1, 3, size=(50, 1))
    d = d0 * np.exp(-0.7 * t)
    st = imbalance_statistics(d, t)
    assert abs(st.rate - 0.7) < 1e-10
    assert st.rate_stderr < 1e-10
    np.testing.assert_allclose(st.mean, d0.mean() * np.exp(-0.7 * t), atol=ATOL)
    assert abs(st.drift - np.mean(d[:, -1] - d[:, 0])) < ATOL
    assert st.mean.shape == st.stderr.shape == st.mean_square.shape == (11,)


def test_imbalance_statistics_martingale_has_no_drift():
    steps = rng(7).standard_normal((4000, 20))
    d = 3.0 + np.cumsum(steps, axis=1)
    st = imbalance_statistics(d)
    assert abs(st.drift) < N_SE * st.drift_stderr
    assert abs(st.drift_stderr - np.std(d[:, -1] - d[:, 0], ddof=1) / np.sqrt(4000)) < ATOL


# -- compare_laws --------------------------------------------------------------------------
def _laws():
    return {
        "normal": lambda r: -0.5 * r ** 2,
        "laplace": lambda r: -np.sqrt(2) * np.abs(r),  # same variance as the normal
    }


def test_compare_laws_selects_the_true_law():
    x = rng(8).standard_normal((400, 500))
    res = compare_laws(x, _laws(), support=(-5, 5), rng=rng(9))
    assert res.verdict == "normal"
    assert res.status == {"normal": "compatible", "laplace": "rejected"}
    assert res.ks_lower["normal"] <= res.ks["normal"] <= res.ks_upper["normal"]
    assert res.threshold == 0.02 and "0.02" in res.rule
    assert res.n_groups == 100 and res.n_samples == x.size - np.sum(np.abs(x) > 5)


def test_compare_laws_distance_matches_the_exact_ks_between_candidates():
    # Samples from the Laplace law: KS to the normal approaches the exact sup |F_L - F_N|.
    x = rng(10).laplace(scale=1 / np.sqrt(2), size=(200, 5000))
    res = compare_laws(x, _laws(), support=(-12, 12), rng=rng(11), grid_bins=8192)
    grid = np.linspace(-12, 12, 200001)
    tail = 0.5 * np.exp(-np.sqrt(2) * np.abs(grid))
    f_lap = np.where(grid < 0, tail, 1 - tail)
    f_norm = 0.5 * (1 + special.erf(grid / np.sqrt(2)))
    exact = np.max(np.abs(f_lap - f_norm))
    half_width = max(res.ks_upper["normal"] - res.ks["normal"], res.ks_resolution)
    assert abs(res.ks["normal"] - exact) < 2 * half_width + res.ks_resolution
    assert res.verdict == "laplace"


def test_compare_laws_none_and_inconclusive():
    x = rng(12).standard_t(3, size=(100, 1000))
    res = compare_laws(x, {"wide normal": lambda r: -r ** 2 / 18, "narrow": lambda r: -r ** 2},
                       support=(-10, 10), rng=rng(13))
    assert res.verdict == "none"
    y = rng(14).standard_normal((50, 40))  # 2000 samples: KS noise ~ 0.02, too few to decide
    res = compare_laws(y, {"a": lambda r: -0.5 * r ** 2, "b": lambda r: -0.5 * r ** 2 / 1.05},
                       support=(-5, 5), rng=rng(15))
    assert res.verdict == "inconclusive"


def test_compare_laws_reproducible_and_checks_input():
    x = rng(16).standard_normal((30, 100))
    a = compare_laws(x, _laws(), support=(-4, 4), rng=rng(1))
    b = compare_laws(x, _laws(), support=(-4, 4), rng=rng(1))
    assert a == b
    assert "verdict" in a.summary()
    with pytest.raises(ValueError):
        compare_laws(x, _laws(), support=(4, -4), rng=rng())
    with pytest.raises(TypeError):
        compare_laws(x, _laws(), support=(-4, 4), rng=1)
    with pytest.raises(ShapeError):
        compare_laws(x, {"bad": lambda r: r[:3]}, support=(-4, 4), rng=rng())
