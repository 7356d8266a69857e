"""Matrix factorisation, attention and PCA entries of the catalog."""

import numpy as np
import pytest
from scipy.linalg import expm

from quotientib import NotClosedError, NotFreeError, ShapeError, check_invariance
from quotientib.catalog import (
    attention_columns,
    attention_gl,
    column_scaling,
    gl_factorization,
    make_metric,
    pca_orthogonal,
)
from quotientib.catalog.table import brute_force_balance
from tests.test_catalog_scalings import (
    MINIMUM_ATOL,
    build,
    check_fields_and_gram,
    check_minimum,
    check_moment_map,
)

FACTORIES = {
    "column": lambda metric=None: column_scaling(3, 2, 2, metric=metric),
    "attention_columns": lambda metric=None: attention_columns(3, 2, metric=metric),
    "gl": lambda metric=None: gl_factorization(3, 3, 2, metric=metric),
    "attention_gl": lambda metric=None: attention_gl(3, 2, metric=metric),
    "pca": lambda metric=None: pca_orthogonal(3, 2, metric=metric),
}
#: Which entries have a moment map under which metrics (computed facts, see module docs).
HAS_MOMENT_MAP = {"column": {"euclidean", "diagonal"},
                  "attention_columns": {"euclidean", "diagonal"},
                  "gl": set(), "attention_gl": set(), "pca": set()}


@pytest.mark.parametrize("kind", ["euclidean", "diagonal", "spd"])
@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factorization_entries(name, kind):
    entry = build(FACTORIES[name], kind)
    rng = np.random.default_rng(1)
    check_fields_and_gram(entry, rng)
    assert check_moment_map(entry, rng) == (kind in HAS_MOMENT_MAP[name])
    check_minimum(entry, rng, n_points=1)
    check_invariance(entry.symmetry.action, entry.random_point(rng, (3,)), rng=rng)


# -- column scaling -------------------------------------------------------------------------------
def test_column_scaling_closed_form_and_paper_at_svd_aligned_points():
    entry = column_scaling(4, 3, 2)
    rng = np.random.default_rng(2)
    theta = entry.extra["svd_aligned_point"](rng, (3,))
    sig = np.linalg.svd(np.reshape(entry.symmetry.riemannian_submersion(theta), (3, 4, 3)),
                        compute_uv=False)[:, :2]
    np.testing.assert_allclose(entry.reduced_log_det(theta), np.sum(np.log(2 * sig), -1),
                               rtol=1e-12)
    np.testing.assert_allclose(entry.paper_reduced_bias(theta), entry.reduced_log_det(theta),
                               rtol=1e-12)


def test_column_scaling_exceeds_paper_at_generic_points():
    # sum_j log 2|U_j||V_j| >= sum_j log 2 sigma_j (Hadamard's inequality), strict generically
    entry = column_scaling(4, 3, 2)
    rng = np.random.default_rng(3)
    theta = entry.random_point(rng, (20,))
    gap = entry.reduced_log_det(theta) - entry.paper_reduced_bias(theta)
    assert np.all(gap > 1e-6)
    u = entry.unpack(theta)["U"]
    v = entry.unpack(theta)["V"]
    np.testing.assert_allclose(
        entry.reduced_log_det(theta),
        np.sum(np.log(2 * np.linalg.norm(u, axis=-2) * np.linalg.norm(v, axis=-2)), -1),
        rtol=1e-13)


def test_column_scaling_zero_column_raises():
    entry = column_scaling(3, 2, 2)
    u = np.array([[1.0, 0.0], [2.0, 0.0], [0.5, 0.0]])
    v = np.array([[1.0, 0.0], [-1.0, 0.0]])
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(entry.pack(U=u, V=v))
    with pytest.raises(NotFreeError):
        gl_factorization(3, 2, 2).symmetry.log_det_orbit_gram(entry.pack(U=u, V=v))


def test_pack_shape_error():
    entry = column_scaling(3, 2, 2)
    with pytest.raises(ShapeError):
        entry.pack(U=np.ones((3, 3)), V=np.ones((2, 2)))
    with pytest.raises(ShapeError):
        column_scaling(3, 0, 2)


# -- full GL(r) -----------------------------------------------------------------------------------
def _gl_log_det(u, v):
    r = u.shape[1]
    h = np.kron(u.T @ u, np.eye(r)) + np.kron(np.eye(r), v.T @ v)
    return np.linalg.slogdet(h)[1]


def test_gl_gram_is_kronecker_sum():
    entry = gl_factorization(4, 3, 3)
    rng = np.random.default_rng(4)
    theta = entry.random_point(rng)
    parts = entry.unpack(theta)
    u, v = parts["U"], parts["V"]
    expected = np.kron(u.T @ u, np.eye(3)) + np.kron(np.eye(3), v.T @ v)
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta), expected, rtol=1e-13)


@pytest.mark.parametrize("r", [2, 3])
def test_gl_has_finite_minimum(r):
    """Against the paper's sec. 3.2 (inf = -inf): the minimum is sum_ij log(s_i + s_j)."""
    entry = gl_factorization(4, 4, r)
    rng = np.random.default_rng(5 + r)
    theta = entry.random_point(rng)
    parts = entry.unpack(theta)
    sig = np.linalg.svd(parts["U"] @ parts["V"].T, compute_uv=False)[:r]
    closed = np.sum(np.log(sig[:, None] + sig[None, :]))
    np.testing.assert_allclose(entry.reduced_log_det(theta), closed, rtol=1e-12)
    res = brute_force_balance(entry.symmetry, theta)
    assert res["status"] == "minimum"
    assert abs(res["value"] - closed) <= MINIMUM_ATOL
    assert entry.argmin_residual(res["point"]) <= 1e-6
    # lower bound r^2 log 2 + r sum log sigma (AM-GM), strict unless the sigmas are equal
    assert closed >= r * r * np.log(2) + r * np.sum(np.log(sig)) - 1e-12


def test_gl_paper_escape_family_does_not_escape():
    """The paper's R_gamma = diag(g, 1/g): log det H grows as g -> 0 (one eigenvalue vanishes,
    its partner blows up)."""
    rng = np.random.default_rng(6)
    p, r = 4, 2
    q_left, _ = np.linalg.qr(rng.standard_normal((p, r)))
    q_right, _ = np.linalg.qr(rng.standard_normal((p, r)))
    sig = np.array([2.0, 0.5])
    values = []
    for g in [1.0, 1e-1, 1e-2, 1e-3]:
        rg = np.diag([g, 1 / g])
        u = q_left * np.sqrt(sig) @ rg
        v = q_right * np.sqrt(sig) @ np.linalg.inv(rg).T
        values.append(_gl_log_det(u, v))
    assert np.all(np.diff(values) > 0)
    # and asymptotically log det H ~ -4 log g
    np.testing.assert_allclose(values[-1] - values[-2], 4 * np.log(10), rtol=1e-3)


def test_gl_random_directions_bounded_below():
    entry = gl_factorization(4, 4, 3)
    rng = np.random.default_rng(7)
    theta = entry.random_point(rng)
    parts = entry.unpack(theta)
    sig = np.linalg.svd(parts["U"] @ parts["V"].T, compute_uv=False)[:3]
    bound = 9 * np.log(2) + 3 * np.sum(np.log(sig))
    for _ in range(20):
        x = rng.standard_normal((3, 3))
        for s in [1.0, 3.0, 6.0]:
            rr = expm(s * x)
            assert _gl_log_det(parts["U"] @ rr, parts["V"] @ np.linalg.inv(rr).T) >= bound - 1e-9


def test_gl_act_matches_matrix_formula():
    entry = gl_factorization(3, 2, 2)
    rng = np.random.default_rng(8)
    theta = entry.random_point(rng)
    t = 0.4 * rng.standard_normal(4)
    moved = entry.unpack(entry.symmetry.action.act(t, theta))
    parts = entry.unpack(theta)
    rr = expm(t.reshape(2, 2))
    np.testing.assert_allclose(moved["U"], parts["U"] @ rr, rtol=1e-12)
    np.testing.assert_allclose(moved["V"], parts["V"] @ np.linalg.inv(rr).T, rtol=1e-12)


def test_gl_against_balance_contract():
    balance_mod = pytest.importorskip("quotientib.balance")
    entry = gl_factorization(3, 3, 2)
    rng = np.random.default_rng(9)
    theta = entry.random_point(rng)
    res = balance_mod.balance(entry.symmetry, theta, rng=rng)
    assert res.status == "minimum"
    assert abs(res.value - float(entry.reduced_log_det(theta))) <= MINIMUM_ATOL


def test_gl_no_moment_map():
    with pytest.raises(NotClosedError):
        gl_factorization(3, 2, 2).symmetry.moment_map_gauge()


# -- PCA ------------------------------------------------------------------------------------------
def test_pca_log_det_constant_and_closed_form():
    entry = pca_orthogonal(5, 3)
    rng = np.random.default_rng(10)
    theta = entry.random_point(rng)
    w = entry.unpack(theta)["W"]
    lam = np.linalg.eigvalsh(w.T @ w)
    expected = sum(np.log(lam[i] + lam[j]) for i in range(3) for j in range(i + 1, 3))
    sym = entry.symmetry
    np.testing.assert_allclose(sym.log_det_orbit_gram(theta), expected, rtol=1e-12)
    np.testing.assert_allclose(entry.reduced_log_det(theta), expected, rtol=1e-12)
    moved = sym.action.act(rng.standard_normal((6, 3)), theta)
    np.testing.assert_allclose(sym.log_det_orbit_gram(moved), expected, rtol=1e-12)
    # the paper's orthonormal basis (E_ij - E_ji)/sqrt(2): eigenvalues (lambda_i + lambda_j)/2
    gram = sym.orbit_gram(theta)
    np.testing.assert_allclose(np.linalg.slogdet(gram / 2)[1], expected - 3 * np.log(2))
    assert brute_force_balance(sym, theta)["status"] == "constant"
    with pytest.raises(NotClosedError):
        sym.moment_map_gauge()


def test_pca_non_invariant_metric_is_not_constant():
    rng = np.random.default_rng(11)
    entry = pca_orthogonal(3, 2, metric=make_metric("diagonal", 6, rng))
    assert entry.expected_status == "minimum"
    theta = entry.random_point(rng)
    moved = entry.symmetry.action.act(rng.standard_normal((4, 1)), theta)
    values = entry.symmetry.log_det_orbit_gram(moved)
    assert np.ptp(values) > 1e-3


def test_pca_row_metric_is_isometric():
    rng = np.random.default_rng(12)
    g_rows = make_metric("spd", 3, rng)
    entry = pca_orthogonal(3, 2, metric=np.kron(g_rows, np.eye(2)))
    assert entry.expected_status == "constant"
    theta = entry.random_point(rng)
    w = entry.unpack(theta)["W"]
    lam = np.linalg.eigvalsh(w.T @ g_rows @ w)
    np.testing.assert_allclose(entry.reduced_log_det(theta), np.log(lam[0] + lam[1]), rtol=1e-12)
    np.testing.assert_allclose(entry.symmetry.log_det_orbit_gram(theta), np.log(lam.sum()),
                               rtol=1e-12)


def test_pca_rank_deficient_raises():
    entry = pca_orthogonal(3, 2)
    w = np.array([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])
    # rank 1: lambda_2 = 0 but lambda_1 + lambda_2 > 0, so O(2) still acts freely
    assert np.isfinite(entry.symmetry.log_det_orbit_gram(entry.pack(W=w)))
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(entry.pack(W=np.zeros((3, 2))))
    with pytest.raises(ShapeError):
        pca_orthogonal(3, 1)
