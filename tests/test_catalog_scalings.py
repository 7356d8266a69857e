"""Scaling entries of the catalog: uv, Hadamard, linear features, block scaling, tori."""

import numpy as np
import pytest

from quotientib import (
    ConstantMetric,
    NotClosedError,
    NotFreeError,
    ShapeError,
    Symmetry,
    check_invariance,
)
from quotientib.catalog import (
    block_scaling,
    cosine_basis,
    difference_operator,
    hadamard,
    linear_features,
    make_metric,
    torus_action,
    uv,
)
from quotientib.catalog.table import brute_force_balance

#: Analytic vs autograd / generic quantities (float64 round-off).
IDENTITY_RTOL = 1e-10
#: Closed form vs numerical minimisation.
MINIMUM_ATOL = 1e-6
METRICS = ["euclidean", "diagonal", "spd"]

SCALING_FACTORIES = {
    "uv": uv,
    "hadamard": lambda metric=None: hadamard(3, metric=metric),
    "tv": lambda metric=None: linear_features("tv", m=3, metric=metric),
    "cosine": lambda metric=None: linear_features("cosine", m=3, metric=metric),
    "block": lambda metric=None: block_scaling((1, 2), metric=metric),
}


# -- helpers shared with the other catalog test files ---------------------------------------------
def build(factory, kind, seed=0):
    """Entry of ``factory`` under a metric of the given kind (seeded)."""
    rng = np.random.default_rng(seed)
    n = factory().symmetry.dim
    return factory(metric=make_metric(kind, n, rng))


def generic_gram(sym, points):
    """H through the metric kernel, bypassing any analytic hook."""
    xi = sym.action.autograd_fundamental_fields(points)
    return sym.metric.inner_gram(xi, xi, points)


def check_fields_and_gram(entry, rng):
    sym = entry.symmetry
    points = entry.random_point(rng, (2, 3))
    np.testing.assert_allclose(sym.fundamental_fields(points),
                               sym.action.autograd_fundamental_fields(points),
                               rtol=IDENTITY_RTOL, atol=1e-12)
    gram = sym.orbit_gram(points)
    assert gram.shape == (2, 3, sym.group_dim, sym.group_dim)
    np.testing.assert_allclose(gram, generic_gram(sym, points), rtol=IDENTITY_RTOL, atol=1e-12)
    stacked = np.stack([sym.orbit_gram(p) for p in points.reshape(-1, sym.dim)])
    np.testing.assert_allclose(gram.reshape(stacked.shape), stacked, rtol=1e-13, atol=1e-14)


def check_moment_map(entry, rng):
    """Analytic moment map (if any): d mu = g(xi, .), i.e. Faddeev-Popov matrix == H."""
    sym = entry.symmetry
    points = entry.random_point(rng, (3,))
    analytic = sym.action.analytic_moment_map(points, sym.metric)
    if analytic is NotImplemented:
        with pytest.raises(NotClosedError):
            sym.moment_map_gauge()
        return False
    gauge = sym.moment_map_gauge()
    np.testing.assert_allclose(gauge.faddeev_popov(points), sym.orbit_gram(points),
                               rtol=IDENTITY_RTOL, atol=1e-12)
    return True


def check_minimum(entry, rng, n_points=2):
    """Closed form (when known) == brute-force minimum; argmin residual ~ 0 there."""
    sym = entry.symmetry
    for _ in range(n_points):
        theta = entry.random_point(rng)
        res = brute_force_balance(sym, theta, rng=rng)
        assert res["status"] == entry.expected_status
        try:
            closed = float(entry.reduced_log_det(theta))
        except NotImplementedError:
            closed = None
        if closed is not None:
            assert abs(closed - res["value"]) <= MINIMUM_ATOL
        if entry.argmin_residual is not None and res["status"] == "minimum":
            assert entry.argmin_residual(res["point"]) <= MINIMUM_ATOL
            # and the condition is not satisfied trivially away from the argmin
            moved = np.asarray(sym.action.act(np.full(sym.group_dim, 0.3), res["point"]))
            assert entry.argmin_residual(moved) > 1e-3
    return True


# -- every scaling entry under every metric -------------------------------------------------------
@pytest.mark.parametrize("kind", METRICS)
@pytest.mark.parametrize("name", sorted(SCALING_FACTORIES))
def test_scaling_entries(name, kind):
    entry = build(SCALING_FACTORIES[name], kind)
    rng = np.random.default_rng(1)
    check_fields_and_gram(entry, rng)
    has_mu = check_moment_map(entry, rng)
    # Constant metrics: a moment map exists exactly when g does not couple u and v.
    assert has_mu == (kind != "spd")
    check_minimum(entry, rng)
    check_invariance(entry.symmetry.action, entry.random_point(rng, (4,)), rng=rng)


@pytest.mark.parametrize("name", ["uv", "hadamard", "block"])
def test_against_balance_contract(name):
    balance_mod = pytest.importorskip("quotientib.balance")
    rng = np.random.default_rng(3)
    for kind in ("euclidean", "diagonal"):
        entry = build(SCALING_FACTORIES[name], kind)
        theta = entry.random_point(rng)
        res = balance_mod.balance(entry.symmetry, theta, rng=rng)
        assert res.status == "minimum"
        assert abs(res.value - float(entry.reduced_log_det(theta))) <= MINIMUM_ATOL
        assert entry.argmin_residual(res.point) <= MINIMUM_ATOL


# -- the uv model in closed form, any constant metric ---------------------------------------------
def test_uv_euclidean_closed_form():
    entry = uv()
    theta = np.array([[2.0, 3.0], [-1.0, 0.5]])
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta)[..., 0, 0], [13.0, 1.25])
    np.testing.assert_allclose(entry.reduced_log_det(theta), np.log([12.0, 1.0]), rtol=1e-14)
    np.testing.assert_allclose(entry.symmetry.moment_map(theta)[..., 0], [-2.5, 0.375])


def test_uv_diagonal_metric_moment_map_and_argmin():
    a, b = 2.0, 0.5
    entry = uv(np.diag([a, b]))
    rng = np.random.default_rng(4)
    theta = rng.standard_normal((5, 2))
    u, v = theta[:, 0], theta[:, 1]
    np.testing.assert_allclose(entry.symmetry.moment_map(theta)[:, 0],
                               (a * u ** 2 - b * v ** 2) / 2, rtol=1e-14)
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta)[:, 0, 0], a * u ** 2 + b * v ** 2,
                               rtol=1e-14)
    closed = np.log(2 * np.sqrt(a * b) * np.abs(u * v))
    np.testing.assert_allclose(entry.reduced_log_det(theta), closed, rtol=1e-13)
    res = brute_force_balance(entry.symmetry, theta[0])
    pu, pv = res["point"]
    assert abs(a * pu ** 2 - b * pv ** 2) <= 1e-8 * (a * pu ** 2 + b * pv ** 2)
    assert abs(res["value"] - closed[0]) <= MINIMUM_ATOL
    # here the argmin is the moment-map zero: mu vanishes at the balanced point
    assert abs(entry.symmetry.moment_map(res["point"])[0]) <= 1e-8


def test_uv_full_metric_no_moment_map_but_closed_argmin():
    a, b, c = 2.0, 0.5, 0.4
    entry = uv(np.array([[a, c], [c, b]]))
    rng = np.random.default_rng(5)
    theta = rng.standard_normal((4, 2))
    u, v = theta[:, 0], theta[:, 1]
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta)[:, 0, 0],
                               a * u ** 2 + b * v ** 2 - 2 * c * u * v, rtol=1e-13)
    closed = np.log(2 * np.sqrt(a * b) * np.abs(u * v) - 2 * c * u * v)
    np.testing.assert_allclose(entry.reduced_log_det(theta), closed, rtol=1e-13)
    for k in range(2):
        res = brute_force_balance(entry.symmetry, theta[k])
        assert abs(res["value"] - closed[k]) <= MINIMUM_ATOL
        pu, pv = res["point"]
        assert abs(a * pu ** 2 - b * pv ** 2) <= 1e-7 * (a * pu ** 2 + b * pv ** 2)
    with pytest.raises(NotClosedError):
        entry.symmetry.moment_map_gauge()
    defect = entry.symmetry.closedness_defect(theta[:1])
    assert defect[0, 0] > 0.1


def test_uv_degenerate_point_raises():
    entry = uv()
    with pytest.raises(NotFreeError, match="not free"):
        entry.symmetry.log_det_orbit_gram(np.zeros(2))
    entry = hadamard(3)
    theta = entry.pack(u=np.array([1.0, 0.0, 2.0]), v=np.array([1.0, 0.0, -1.0]))
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(theta)


# -- Hadamard / linear features -------------------------------------------------------------------
def test_hadamard_closed_form_and_paper():
    entry = hadamard(3)
    rng = np.random.default_rng(6)
    theta = entry.random_point(rng, (4,))
    u, v = theta[:, :3], theta[:, 3:]
    np.testing.assert_allclose(entry.reduced_log_det(theta),
                               np.sum(np.log(2 * np.abs(u * v)), axis=-1), rtol=1e-13)
    np.testing.assert_allclose(entry.paper_reduced_bias(theta), entry.reduced_log_det(theta),
                               rtol=1e-13)
    np.testing.assert_allclose(entry.symmetry.riemannian_submersion(theta), u * v)


def test_pack_unpack_roundtrip():
    entry = hadamard(3)
    rng = np.random.default_rng(7)
    theta = entry.random_point(rng, (2,))
    np.testing.assert_array_equal(entry.pack(**entry.unpack(theta)), theta)
    entry = block_scaling((2, 1))
    theta = entry.random_point(rng, (2,))
    np.testing.assert_array_equal(entry.pack(**entry.unpack(theta)), theta)


def test_operators():
    d = 5
    w = np.arange(1.0, d + 1.0)
    np.testing.assert_allclose(np.cumsum(difference_operator(d) @ w), w)
    c = cosine_basis(d)
    np.testing.assert_allclose(c @ c.T, np.eye(d), atol=1e-14)
    import scipy.fft

    np.testing.assert_allclose(c @ w, scipy.fft.dct(w, norm="ortho"), atol=1e-13)


def test_linear_features_tv_invariant_is_cumsum():
    entry = linear_features("tv", m=4)
    rng = np.random.default_rng(8)
    theta = entry.random_point(rng, (3,))
    u, v = theta[:, :4], theta[:, 4:]
    w = entry.symmetry.riemannian_submersion(theta)
    np.testing.assert_allclose(w, np.cumsum(u * v, axis=-1), rtol=1e-12)
    # paper: sum log 2|(A w)_i| with A = D
    np.testing.assert_allclose(entry.paper_reduced_bias(theta),
                               np.sum(np.log(2 * np.abs(np.diff(w, prepend=0.0, axis=-1))), -1),
                               rtol=1e-12)
    np.testing.assert_allclose(entry.paper_reduced_bias(theta), entry.reduced_log_det(theta),
                               rtol=1e-12)


@pytest.mark.parametrize("bad", [np.ones((3, 4)), np.ones(3), np.ones((2, 2, 2))])
def test_linear_features_wrong_shape(bad):
    with pytest.raises(ShapeError, match="square"):
        linear_features(bad)


def test_linear_features_singular_operator():
    with pytest.raises(ShapeError, match="rank"):
        linear_features(np.array([[1.0, 2.0], [2.0, 4.0]]))


def test_linear_features_wrong_point_shape():
    entry = linear_features("cosine", m=3)
    with pytest.raises(ShapeError):
        entry.symmetry.orbit_gram(np.ones(5))


# -- block scaling --------------------------------------------------------------------------------
def test_block_scaling_closed_form_vs_group_lasso():
    entry = block_scaling((1, 2, 3))
    rng = np.random.default_rng(9)
    theta = entry.random_point(rng)
    norms = entry.extra["block_norms"](theta)
    np.testing.assert_allclose(entry.reduced_log_det(theta), np.sum(np.log(2 * norms)),
                               rtol=1e-13)
    res = brute_force_balance(entry.symmetry, theta)
    assert abs(res["value"] - np.sum(np.log(2 * norms))) <= MINIMUM_ATOL
    # The min-norm value (|s|^2 + |t|^2)/2 at the balanced point is the group lasso sum |w_g|:
    # a different function of w than the log-det bias sum log 2|w_g| (the paper equates them).
    half_norm = 0.5 * np.sum(res["point"] ** 2)
    np.testing.assert_allclose(half_norm, np.sum(norms), rtol=1e-7)
    assert abs(res["value"] - half_norm) > 0.1


# -- the general torus with weights (+p, -q) ------------------------------------------------------
@pytest.mark.parametrize("k", [2.0, 3.0])
@pytest.mark.parametrize("kind", ["euclidean", "diagonal"])
def test_torus_unequal_weights(k, kind):
    # (w1, w2, v) -> (e^t w1, e^t w2, e^{-k t} v): the homogeneous-activation orbit
    action = torus_action([[1.0, 1.0, -k]], name="homogeneous")
    rng = np.random.default_rng(10)
    metric = make_metric(kind, 3, rng)
    sym = Symmetry(action, metric)
    diag = np.ones(3) if metric is None else np.diag(metric)
    theta = rng.standard_normal(3)
    res = brute_force_balance(sym, theta)
    assert abs(res["value"] - action.analytic_reduced_log_det(theta, sym.metric)) <= MINIMUM_ATOL
    w2 = np.sum(diag[:2] * res["point"][:2] ** 2)
    v2 = diag[2] * res["point"][2] ** 2
    # argmin of log det H: |w|^2 = k^3 |v|^2 ; moment-map zero: |w|^2 = k |v|^2
    np.testing.assert_allclose(w2, k ** 3 * v2, rtol=1e-7)
    assert action.torus.argmin_residual(sym.metric)(res["point"]) <= 1e-7
    mu = sym.moment_map(res["point"])
    np.testing.assert_allclose(mu, 0.5 * (w2 - k * v2), rtol=1e-12)
    assert abs(mu[0]) > 1e-3


def test_torus_moment_map_block_metric_is_closed():
    # A metric coupling u_1 with u_2 (same weight column) keeps g(xi, .) closed.
    action = torus_action([[1.0, 1.0, -1.0, -1.0]])
    g = np.array([[2.0, 0.5, 0, 0], [0.5, 1.0, 0, 0], [0, 0, 1.0, 0.2], [0, 0, 0.2, 3.0]])
    sym = Symmetry(action, ConstantMetric(g))
    assert sym.action.analytic_moment_map(np.ones(4), sym.metric) is not NotImplemented
    points = np.random.default_rng(11).standard_normal((3, 4))
    gauge = sym.moment_map_gauge()
    np.testing.assert_allclose(gauge.faddeev_popov(points), sym.orbit_gram(points),
                               rtol=IDENTITY_RTOL)
    theta = points[0]
    res = brute_force_balance(sym, theta)
    assert abs(res["value"] - action.analytic_reduced_log_det(theta, sym.metric)) <= MINIMUM_ATOL


def test_torus_batched_reduced_equals_stacked():
    entry = build(SCALING_FACTORIES["block"], "diagonal")
    points = entry.random_point(np.random.default_rng(12), (5,))
    stacked = np.array([entry.reduced_log_det(p) for p in points])
    np.testing.assert_allclose(entry.reduced_log_det(points), stacked, rtol=1e-14)


def test_torus_weights_shape():
    with pytest.raises(ShapeError):
        torus_action(np.ones(3))


def test_position_dependent_metric_hooks_step_aside():
    import autograd.numpy as anp

    from quotientib import FieldMetric

    def conformal(p):
        return anp.eye(6) * (1.0 + anp.sum(p ** 2, axis=-1))[..., None, None]

    entry = hadamard(3, metric=FieldMetric(conformal, 6))
    sym = entry.symmetry
    points = entry.random_point(np.random.default_rng(13), (2,))
    assert sym.action.analytic_orbit_gram(points, sym.metric) is NotImplemented
    assert sym.action.analytic_moment_map(points, sym.metric) is NotImplemented
    scale = 1.0 + np.sum(points ** 2, axis=-1)
    u, v = points[:, :3], points[:, 3:]
    expected = scale[:, None] * (u ** 2 + v ** 2)
    np.testing.assert_allclose(np.diagonal(sym.orbit_gram(points), axis1=-2, axis2=-1),
                               expected, rtol=1e-13)
    with pytest.raises(NotImplementedError):
        entry.reduced_log_det(points)
