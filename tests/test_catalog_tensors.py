"""Tests of the tensor families of the catalog (CP rank one, CP rank R, tensor train)."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad
from scipy.optimize import minimize

from quotientib import check_invariance
from quotientib.balance import balance
from quotientib.catalog import tensors as tens
from quotientib.errors import NotClosedError, NotFreeError, ShapeError
from tests.test_catalog_networks import compatible_metric, minimum_norm_point, orbit_minimum

EXACT = 1e-10
MINIMUM = 1e-6

CP = {
    "cp_rank_one": lambda metric=None: tens.cp_rank_one(dims=(2, 3, 2), metric=metric),
    "cp_rank_one_order4": lambda metric=None: tens.cp_rank_one(dims=(2, 2, 3, 2),
                                                               metric=metric),
    "cp_rank_r": lambda metric=None: tens.cp_rank_r(rank=2, dims=(2, 3, 2), metric=metric),
}


# -- CP ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CP)
def test_cp_fields_gram_invariance(name):
    entry = CP[name]()
    rng = np.random.default_rng(0)
    theta = entry.random_point(rng, (3, 2))
    act = entry.symmetry.action
    xi = act.fundamental_fields(theta)
    np.testing.assert_allclose(xi, act.autograd_fundamental_fields(theta), atol=EXACT)
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta),
                               np.einsum("...an,...bn->...ab", xi, xi), atol=EXACT)
    assert check_invariance(act, theta, rng=rng) < 1e-10
    np.testing.assert_array_equal(entry.pack(**entry.unpack(theta)), theta)


def test_cp_rank_one_det_h_is_xy_plus_yz_plus_zx():
    entry = tens.cp_rank_one(dims=(2, 3, 2))
    u, v, w = np.array([1.0, 2.0]), np.array([0.5, 0.0, 1.0]), np.array([3.0, -1.0])
    theta = entry.pack(U1=u[:, None], U2=v[:, None], U3=w[:, None])
    x, y, z = 5.0, 1.25, 10.0
    np.testing.assert_allclose(np.exp(entry.symmetry.log_det_orbit_gram(theta)),
                               x * y + y * z + z * x, rtol=EXACT)
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta), [[x + z, z], [z, y + z]],
                               atol=EXACT)
    s = x * y * z
    np.testing.assert_allclose(entry.reduced_log_det(theta),
                               np.log(3 * s ** (2.0 / 3.0)), rtol=EXACT)
    pts = entry.random_point(np.random.default_rng(1), (5,))
    np.testing.assert_allclose(np.exp(entry.symmetry.log_det_orbit_gram(pts)),
                               entry.extra["det_h_polynomial"](pts)[..., 0], rtol=EXACT)


def test_cp_rank_one_argmin_is_cube_root_not_third():
    entry = tens.cp_rank_one(dims=(2, 3, 2))
    theta = entry.random_point(np.random.default_rng(2))
    value, argmin = orbit_minimum(entry, theta)
    x = entry.extra["mode_norms"](argmin)[0]
    s = np.prod(entry.extra["mode_norms"](theta))
    np.testing.assert_allclose(x, s ** (1.0 / 3.0), rtol=MINIMUM)
    assert np.max(np.abs(x - s / 3.0)) > 1e-3


@pytest.mark.parametrize("name", CP)
@pytest.mark.parametrize("kind", [None, "diagonal", "full"])
def test_cp_closed_form_equals_numerical_minimum(name, kind):
    rng = np.random.default_rng(3)
    metric = None if kind is None else compatible_metric(CP[name](), rng, kind)
    entry = CP[name](metric=metric)
    sym = entry.symmetry
    points = entry.random_point(rng, (2,))
    closed = entry.reduced_log_det(points)
    for theta, value in zip(points, closed):
        numeric, argmin = orbit_minimum(entry, theta)
        assert abs(numeric - value) < MINIMUM
        assert entry.argmin_residual(argmin) < MINIMUM
        mm = minimum_norm_point(entry, theta)
        assert entry.extra["moment_map_residual"](mm) < MINIMUM
        res = balance(sym, theta, rng=np.random.default_rng(0))
        assert res.status == "minimum" and abs(res.value - value) < MINIMUM
    gauge = sym.moment_map_gauge()
    np.testing.assert_allclose(gauge.faddeev_popov(points), sym.orbit_gram(points), atol=EXACT)


def test_cp_degenerate_points():
    entry = tens.cp_rank_one(dims=(2, 2, 2))
    one_zero = entry.pack(U1=np.zeros((2, 1)), U2=np.ones((2, 1)), U3=np.ones((2, 1)))
    # one zero factor: the orbit is still 2-dimensional, only the infimum runs off to -inf
    assert np.isfinite(entry.symmetry.log_det_orbit_gram(one_zero))
    assert entry.reduced_log_det(one_zero) == -np.inf
    two_zero = entry.pack(U1=np.zeros((2, 1)), U2=np.zeros((2, 1)), U3=np.ones((2, 1)))
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(two_zero)
    with pytest.raises(NotFreeError):
        entry.reduced_log_det(two_zero)


# -- tensor train ----------------------------------------------------------------------------------
def _tt_minimum(entry, theta, subalgebra=None):
    """Brute-force min of log det H over (a subalgebra of) gl(r1) + gl(r2)."""
    sym = entry.symmetry
    act = sym.action
    basis = np.eye(act.group_dim) if subalgebra is None else subalgebra

    def cost(s):
        p = act.act(anp.dot(s, basis), theta)
        xi = act.fundamental_fields(p)
        if subalgebra is not None:
            xi = anp.einsum("ka,...an->...kn", subalgebra, xi)
        return anp.linalg.slogdet(anp.einsum("...an,...bn->...ab", xi, xi))[1]

    res = minimize(cost, np.zeros(basis.shape[0]), jac=grad(cost), method="BFGS",
                   options={"gtol": 1e-11, "maxiter": 5000})
    return res.fun, np.asarray(act.act(res.x @ basis, theta))


def test_tt_fields_gram_invariance():
    entry = tens.tensor_train(dims=(2, 3, 2), ranks=(2, 2))
    rng = np.random.default_rng(4)
    theta = entry.random_point(rng, (3,))
    act = entry.symmetry.action
    xi = act.fundamental_fields(theta)
    np.testing.assert_allclose(xi, act.autograd_fundamental_fields(theta), atol=EXACT)
    gram = entry.symmetry.orbit_gram(theta)
    np.testing.assert_allclose(gram, np.einsum("...an,...bn->...ab", xi, xi), atol=EXACT)
    assert check_invariance(act, theta, rng=rng, scale=0.3) < 1e-9
    np.testing.assert_array_equal(entry.pack(**entry.unpack(theta)), theta)
    # a non-Euclidean metric uses the generic path
    g = np.diag(rng.uniform(0.5, 2.0, entry.symmetry.dim))
    other = tens.tensor_train(metric=g)
    assert other.symmetry.action.analytic_orbit_gram(theta, other.symmetry.metric) \
        is NotImplemented
    np.testing.assert_allclose(other.symmetry.orbit_gram(theta), xi @ g @ np.swapaxes(xi, 1, 2),
                               atol=EXACT)


def test_tt_bond_block_eigenvalues_are_sums():
    entry = tens.tensor_train(dims=(3, 2, 2), ranks=(2, 3))
    theta = entry.random_point(np.random.default_rng(5))
    a1, b1, a2, b2 = entry.extra["bond_grams"](theta)
    gram = entry.symmetry.orbit_gram(theta)
    h11 = gram[:4, :4]
    expected = np.sort((np.linalg.eigvalsh(a1)[:, None] + np.linalg.eigvalsh(b1)[None]).ravel())
    np.testing.assert_allclose(np.linalg.eigvalsh(h11), expected, atol=EXACT)
    # the paper's bond-1 Gram tr(X^T (A1 + B1) Y) has det det(A1 + B1)^r1: a different value
    paper_operator = 2 * entry.extra["paper_log_det"](theta)
    assert abs(paper_operator - np.sum(np.log(expected))) > 0.1


def test_tt_log_det_constant_along_orthogonal_gauge():
    entry = tens.tensor_train(dims=(2, 3, 2), ranks=(2, 2))
    rng = np.random.default_rng(6)
    theta = entry.random_point(rng)
    x = np.array([[0.0, 0.7], [-0.7, 0.0]])
    y = np.array([[0.0, -0.4], [0.4, 0.0]])
    moved = entry.symmetry.action.act(np.concatenate([x.ravel(), y.ravel()]), theta)
    np.testing.assert_allclose(entry.symmetry.log_det_orbit_gram(moved),
                               entry.symmetry.log_det_orbit_gram(theta), atol=1e-9)


def test_tt_argmin_is_not_the_bond_balanced_point():
    entry = tens.tensor_train(dims=(2, 3, 2), ranks=(2, 2))
    rng = np.random.default_rng(7)
    for theta in entry.random_point(rng, (2,)):
        value, argmin = _tt_minimum(entry, theta)
        assert entry.argmin_residual(argmin) < 1e-5
        # minimum-norm point: both bonds balanced (the paper's condition) ...
        mm = minimum_norm_point(entry, theta)
        assert entry.paper_residual(mm) < 1e-6
        # ... but log det H is strictly lower at the argmin, which is not bond-balanced
        assert float(entry.symmetry.log_det_orbit_gram(mm)) > value + 1e-3
        assert np.min(entry.extra["bond_balance_residuals"](argmin)) > 0.01


def test_tt_single_bond_argmin_is_balanced():
    entry = tens.tensor_train(dims=(2, 3, 2), ranks=(2, 2))
    theta = entry.random_point(np.random.default_rng(8))
    bond1 = np.eye(8)[:4]
    value, argmin = _tt_minimum(entry, theta, subalgebra=bond1)
    assert entry.extra["bond_balance_residuals"](argmin)[0] < 1e-5
    a1, b1, _, _ = entry.extra["bond_grams"](argmin)
    # on the bond-1 subgroup the block is A1 (x) I + I (x) B1 and at A1 = B1 it is
    # sum_ij log(sigma_i + sigma_j)
    sig = np.linalg.eigvalsh(a1)
    np.testing.assert_allclose(value, np.sum(np.log(sig[:, None] + sig[None, :])), atol=1e-7)


def test_tt_has_no_moment_map_and_degenerates():
    entry = tens.tensor_train()
    theta = entry.random_point(np.random.default_rng(9))
    with pytest.raises(NotClosedError):
        entry.symmetry.moment_map_gauge(check_points=theta[None])
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(np.zeros(entry.symmetry.dim))
    with pytest.raises(NotImplementedError):
        entry.reduced_log_det(theta)


def test_tt_balance_reports_minimum():
    entry = tens.tensor_train(dims=(2, 3, 2), ranks=(2, 2))
    theta = entry.random_point(np.random.default_rng(10))
    value, _ = _tt_minimum(entry, theta)
    res = balance(entry.symmetry, theta, rng=np.random.default_rng(0), moment_map=False)
    assert res.status == "minimum"
    assert abs(res.value - value) < MINIMUM


def test_bad_arguments():
    with pytest.raises(ValueError):
        tens.cp_rank_one(dims=(3,))
    with pytest.raises(ValueError):
        tens.cp_rank_r(rank=0)
    with pytest.raises(ValueError):
        tens.tensor_train(dims=(2, 2))
    with pytest.raises(ValueError):
        tens.tensor_train(ranks=(2, 2, 2))
    entry = tens.cp_rank_one()
    with pytest.raises(ShapeError):
        entry.pack(U1=np.zeros((3, 1)), U2=np.zeros((3, 1)), U3=np.zeros((2, 1)))
    with pytest.raises(ShapeError):
        tens.tensor_train().pack(G1=np.zeros((2, 2)), G2=np.zeros((2, 3, 3)), G3=np.zeros((2, 2)))
