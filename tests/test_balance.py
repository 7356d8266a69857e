"""Tests of quotientib.balance: orbit minimisation of log det H and the reduced bias.

The actions are built here from generators (independent of the catalog) so that the reference
values are closed forms computed in the test itself.
"""

import autograd.numpy as anp
import numpy as np
import pytest

from quotientib import LieGroupAction, Symmetry
from quotientib.balance import (
    STATUSES,
    _line_search_unbounded,
    balance,
    check_subalgebra,
    reduced_bias,
    restrict_to_subalgebra,
)
from quotientib.errors import NotFreeError, ShapeError, SubalgebraNotClosedError
from quotientib.metric import FieldMetric

TOL = 1e-8          # optimiser results (gradient tolerance 1e-8)
EXACT = 1e-12       # identities that involve no optimisation


# -- actions ----------------------------------------------------------------------------------
def hadamard_action(d):
    """(u_i, v_i) -> (e^{t_i} u_i, e^{-t_i} v_i) on theta = (u, v), with its closed form."""
    gens = np.zeros((d, 2 * d, 2 * d))
    for i in range(d):
        gens[i, i, i] = 1.0
        gens[i, d + i, d + i] = -1.0

    def closed(theta, metric):
        if type(metric).__name__ != "EuclideanMetric":
            return NotImplemented
        return np.sum(np.log(2.0 * np.abs(theta[..., :d] * theta[..., d:])), axis=-1)

    base = LieGroupAction.from_generators(gens)
    return LieGroupAction(base.act, 2 * d, d, fundamental_fields=base._fields,
                          reduced_log_det=closed, generators=gens, name="hadamard")


def gl_generators(p, q, r):
    """gl(r) acting on theta = (vec U, vec V) by (U, V) -> (U A, V A^{-T}), row-major vec."""
    n = (p + q) * r
    gens = np.zeros((r * r, n, n))
    for a in range(r):
        for b in range(r):
            e = np.zeros((r, r))
            e[a, b] = 1.0
            for i in range(n):
                unit = np.zeros(n)
                unit[i] = 1.0
                u, v = unit[:p * r].reshape(p, r), unit[p * r:].reshape(q, r)
                gens[a * r + b, :, i] = np.concatenate([(u @ e).ravel(), (-v @ e.T).ravel()])
    return gens


def diagonal_basis(r):
    return np.eye(r * r)[[a * r + a for a in range(r)]]


def split(theta, p, q, r):
    return theta[:p * r].reshape(p, r), theta[p * r:].reshape(q, r)


def orthogonal_generators(p, r):
    """so(r) acting on vec W (p x r) by W -> W R."""
    n = p * r
    gens = []
    for a in range(r):
        for b in range(a + 1, r):
            e = np.zeros((r, r))
            e[a, b], e[b, a] = 1.0, -1.0
            gens.append(np.kron(np.eye(p), e.T))
    return np.array(gens).reshape(-1, n, n)


def torus_on_plane():
    """(u, v) -> (e^{t1} u, e^{t2} v): log det H = 2 t1 + 2 t2 + log(u^2 v^2), unbounded."""
    return Symmetry(LieGroupAction.from_generators([np.diag([1.0, 0.0]), np.diag([0.0, 1.0])]))


# -- uv and Hadamard ---------------------------------------------------------------------------
@pytest.mark.parametrize("u, v", [(3.0, 1.0), (-0.2, 5.0), (1.0, 1.0), (4.0, -0.01)])
def test_uv_minimum_is_log_two_uv(u, v):
    sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    res = balance(sym, np.array([u, v]))
    assert res.status == "minimum"
    assert abs(res.value - np.log(2 * abs(u * v))) <= TOL
    assert abs(abs(res.point[0]) - abs(res.point[1])) <= TOL
    assert abs(res.point[0] * res.point[1] - u * v) <= TOL * abs(u * v)
    assert res.gradient_norm <= 10 * TOL
    assert res.direction is None
    # plain scaling: the moment-map zero u^2 = v^2 is the log-det representative (note 4)
    assert res.moment_map_distance <= TOL


def test_uv_diagonal_metric_closed_form():
    # g = diag(a, b): H = a u^2 e^{2t} + b v^2 e^{-2t}, min 2 sqrt(ab) |uv| at a u^2 = b v^2,
    # which is also where the moment map (a u^2 - b v^2)/2 vanishes
    a, b = 2.0, 0.5
    sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]), metric=np.diag([a, b]))
    u, v = 0.3, 2.0
    res = balance(sym, np.array([u, v]))
    assert res.status == "minimum"
    assert abs(res.value - np.log(2 * np.sqrt(a * b) * abs(u * v))) <= TOL
    assert abs(a * res.point[0] ** 2 - b * res.point[1] ** 2) <= TOL
    assert res.moment_map_distance <= TOL


def test_hadamard_balance_matches_closed_form():
    d = 3
    sym = Symmetry(hadamard_action(d))
    theta = np.random.default_rng(3).standard_normal(2 * d)
    res = balance(sym, theta)
    assert res.status == "minimum"
    expected = np.sum(np.log(2 * np.abs(theta[:d] * theta[d:])))
    assert abs(res.value - expected) <= TOL
    assert res.group_coords.shape == (d,)
    assert res.point.shape == (2 * d,)


# -- matrix factorisation ------------------------------------------------------------------------
def svd_aligned_point(rng, p, q, r):
    """U = P diag(s_U), V = Q diag(s_V) with orthonormal P, Q: U V^T has singular values s_U s_V."""
    pu, _ = np.linalg.qr(rng.standard_normal((p, r)))
    qv, _ = np.linalg.qr(rng.standard_normal((q, r)))
    su, sv = np.exp(rng.standard_normal(r)), np.exp(rng.standard_normal(r))
    return np.concatenate([(pu * su).ravel(), (qv * sv).ravel()]), su * sv


def test_column_scaling_subalgebra_svd_aligned():
    p, q, r = 3, 4, 2
    sym = Symmetry(LieGroupAction.from_generators(gl_generators(p, q, r)))
    theta, sigma = svd_aligned_point(np.random.default_rng(0), p, q, r)
    res = balance(sym, theta, subalgebra=diagonal_basis(r))
    assert res.status == "minimum"
    assert abs(res.value - np.sum(np.log(2 * sigma))) <= TOL
    u, v = split(res.point, p, q, r)
    assert np.allclose(np.linalg.norm(u, axis=0), np.linalg.norm(v, axis=0), atol=TOL)
    # the group coordinates stay in the diagonal subalgebra
    off = np.delete(res.group_coords, [a * r + a for a in range(r)])
    assert np.max(np.abs(off)) <= EXACT
    # moment map (|U_j|^2 - |V_j|^2)/2 of the diagonal subalgebra: same representative here
    assert res.moment_map_distance <= TOL


def test_gl2_on_uv_transpose_has_a_finite_minimum():
    """Measured against paper sec. 3.2 ("no finite minimiser"): log det H is bounded below.

    With the paper's own H (Kronecker sum of U^T U and V^T V, Euclidean metric) the optimiser
    stops at a point with zero gradient, positive semi-definite Hessian whose flat directions are
    the O(2) orbit, and value sum_ij log(sigma_i + sigma_j): the paper's eq. (22) value, reached.
    """
    p, q, r = 4, 4, 2
    sym = Symmetry(LieGroupAction.from_generators(gl_generators(p, q, r)))
    for seed in range(3):
        theta = np.random.default_rng(seed).standard_normal((p + q) * r)
        u, v = split(theta, p, q, r)
        sigma = np.linalg.svd(u @ v.T, compute_uv=False)[:r]
        res = balance(sym, theta, rng=np.random.default_rng(seed))
        assert res.status == "minimum", res.message
        assert abs(res.value - np.sum(np.log(sigma[:, None] + sigma[None, :]))) <= TOL
        ub, vb = split(res.point, p, q, r)
        assert np.allclose(ub.T @ ub, vb.T @ vb, atol=1e-6)
        assert np.allclose(ub @ vb.T, u @ v.T, atol=1e-10)
        # the paper's escape family R = diag(g, 1/g) at the balanced point raises log det H
        gens = sym.action.generators
        for g in (0.5, 0.1):
            t = np.zeros(r * r)
            t[0], t[r * r - 1] = np.log(g), -np.log(g)
            moved = np.asarray(sym.action.act(t, res.point))
            assert sym.log_det_orbit_gram(moved) > res.value + 0.1
        assert gens.shape == (r * r, (p + q) * r, (p + q) * r)
        # full gl(2): no moment map (g(xi_X, .) is not closed for off-diagonal X)
        assert res.moment_map_point is None and "not closed" in res.moment_map_message


def test_orthogonal_action_on_pca_is_constant():
    p, r = 4, 3
    sym = Symmetry(LieGroupAction.from_generators(orthogonal_generators(p, r)))
    theta = np.random.default_rng(1).standard_normal(p * r)
    res = balance(sym, theta)
    assert res.status == "constant", res.message
    w = theta.reshape(p, r)
    lam = np.linalg.eigvalsh(w.T @ w)
    expected = sum(np.log(lam[i] + lam[j]) for i in range(r) for j in range(i + 1, r))
    assert abs(res.value - expected) <= 1e-10
    assert np.ptp(res.values_seen) <= 1e-9 * max(1.0, abs(expected))


def test_rotations_of_the_plane_are_constant_without_moment_map():
    sym = Symmetry(LieGroupAction.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])]))
    res = balance(sym, np.array([1.0, 2.0]))
    assert res.status == "constant"
    assert abs(res.value - np.log(5.0)) <= EXACT
    assert res.moment_map_point is None and "not closed" in res.moment_map_message
    assert res.moment_map_distance is None


# -- unbounded, asymptotes, non-convergence ------------------------------------------------------
def test_unbounded_torus_reports_direction_and_values():
    res = balance(torus_on_plane(), np.array([0.7, -1.3]))
    assert res.status == "unbounded", res.message
    assert np.allclose(res.direction, -np.ones(2) / np.sqrt(2), atol=1e-6)
    assert np.all(np.diff(res.values_seen) < 0)
    assert res.values_seen[0] - res.values_seen[-1] > 5.0
    assert res.steps_seen.shape == res.values_seen.shape
    assert res.moment_map_distance is None


def test_dilation_is_unbounded():
    sym = Symmetry(LieGroupAction.from_generators([np.eye(3)]))
    res = balance(sym, np.array([1.0, -2.0, 0.5]))
    assert res.status == "unbounded"
    assert np.allclose(res.direction, [-1.0])


def test_infimum_at_infinity_is_not_reported_as_minimum():
    # translation x -> x + t with metric (1 + e^{-x}) I: log det H = log(1 + e^{-x-t}) decreases
    # to 0 as t -> infinity without reaching it, and without being unbounded
    def metric(theta):
        return (1.0 + anp.exp(-theta[..., :1]))[..., None] * anp.eye(2)

    def act(t, theta):
        return theta + t * anp.array([1.0, 0.0])

    sym = Symmetry(LieGroupAction(act, 2, 1), metric=FieldMetric(metric, 2))
    res = balance(sym, np.array([0.0, 1.0]), max_iter=200)
    assert res.status == "not_converged", res.message
    assert res.value > 0.0


def test_one_iteration_is_not_converged_with_reason():
    sym = Symmetry(hadamard_action(2))
    res = balance(sym, np.array([5.0, 0.1, 0.2, 3.0]), max_iter=1)
    assert res.status == "not_converged"
    assert "max iterations" in res.message and "gradient norm" in res.message
    assert res.status in STATUSES


def test_line_search_verdicts():
    ok, _, _ = _line_search_unbounded(lambda t: -3.0 * t[0], np.zeros(1), np.ones(1))
    assert ok
    ok, _, _ = _line_search_unbounded(lambda t: -anp.log1p(t[0]), np.zeros(1), np.ones(1))
    assert ok  # logarithmic decrease is unbounded: constant decrements per doubling
    ok, _, seen = _line_search_unbounded(lambda t: anp.log1p(anp.exp(-t[0])), np.zeros(1),
                                         np.ones(1))
    assert not ok and np.all(np.diff(seen) < 0)  # decreasing to a finite asymptote
    ok, _, _ = _line_search_unbounded(lambda t: (t[0] - 3.0) ** 2, np.zeros(1), np.ones(1))
    assert not ok


# -- bad input -------------------------------------------------------------------------------------
def test_degenerate_orbit_raises_not_free():
    sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    with pytest.raises(NotFreeError, match="not free"):
        balance(sym, np.zeros(2))
    p, q, r = 2, 2, 2
    gl = Symmetry(LieGroupAction.from_generators(gl_generators(p, q, r)))
    theta = np.random.default_rng(0).standard_normal((p + q) * r)
    u, v = split(theta, p, q, r)
    u[:, 1] = 0.0
    v[:, 1] = 0.0  # a zero column: the second scaling direction does not move the point
    with pytest.raises(NotFreeError):
        balance(gl, np.concatenate([u.ravel(), v.ravel()]), subalgebra=diagonal_basis(r))


def test_subalgebra_not_closed_raises_naming_the_pair():
    p, q, r = 2, 2, 2
    sym = Symmetry(LieGroupAction.from_generators(gl_generators(p, q, r)))
    theta = np.random.default_rng(0).standard_normal((p + q) * r)
    # E_01 and E_10 without their bracket E_00 - E_11
    basis = np.eye(4)[[1, 2]]
    with pytest.raises(SubalgebraNotClosedError, match="rows 0 and 1"):
        balance(sym, theta, subalgebra=basis)
    # with the bracket added the span is sl(2)-like and closed
    closed = np.vstack([basis, np.array([1.0, 0.0, 0.0, -1.0])])
    assert check_subalgebra(sym.action, closed, theta[None]) <= 1e-8


def test_subalgebra_closure_for_nonlinear_fields():
    # projective vector fields 1, x, x^2 (sl(2)) on three copies of the line, free at points
    # with distinct coordinates; [1, x^2] = 2x, so {1, x^2} is not closed but {1, x} is.
    # Only the fields enter the test (act is a placeholder).
    def fields(theta):
        return anp.stack([anp.ones_like(theta), theta, theta ** 2], axis=-2)

    action = LieGroupAction(lambda t, theta: theta, 3, 3, fundamental_fields=fields)
    points = np.array([[0.7, -0.2, 1.5], [-1.3, 0.4, 2.0]])
    with pytest.raises(SubalgebraNotClosedError, match="rows 0 and 1"):
        check_subalgebra(action, np.eye(3)[[0, 2]], points)
    assert check_subalgebra(action, np.eye(3)[[0, 1]], points) <= 1e-8


def test_bad_shapes():
    sym = Symmetry(hadamard_action(2))
    with pytest.raises(ShapeError):
        balance(sym, np.ones(3))
    with pytest.raises(ShapeError):
        balance(sym, np.ones((2, 4)))
    with pytest.raises(ShapeError):
        balance(sym, np.ones(4), subalgebra=np.ones((1, 3)))


def test_restricted_orbit_gram_is_b_h_bt():
    p, q, r = 2, 3, 2
    sym = Symmetry(LieGroupAction.from_generators(gl_generators(p, q, r)))
    basis = diagonal_basis(r)
    sub = restrict_to_subalgebra(sym, basis)
    points = np.random.default_rng(2).standard_normal((5, (p + q) * r))
    expected = basis @ sym.orbit_gram(points) @ basis.T
    assert np.max(np.abs(sub.orbit_gram(points) - expected)) <= EXACT
    # the original symmetry's space keeps its own action
    assert sym.metric._space is not sub.metric._space


# -- reduced bias ----------------------------------------------------------------------------------
def test_reduced_bias_closed_form_equals_numerical():
    d = 3
    sym = Symmetry(hadamard_action(d))
    theta = np.random.default_rng(5).standard_normal((4, 5, 2 * d))
    temperature = 0.3
    closed = reduced_bias(sym, theta, temperature, method="closed_form")
    numerical = reduced_bias(sym, theta, temperature, method="numerical")
    assert closed.shape == numerical.shape == (4, 5)
    assert np.max(np.abs(closed - numerical)) <= 1e-6
    expected = 0.5 * temperature * np.sum(np.log(2 * np.abs(theta[..., :d] * theta[..., d:])),
                                          axis=-1)
    assert np.max(np.abs(closed - expected)) <= EXACT


def test_reduced_bias_batched_equals_stacked():
    p, q, r = 3, 3, 2
    sym = Symmetry(LieGroupAction.from_generators(gl_generators(p, q, r)))
    points = np.random.default_rng(6).standard_normal((3, (p + q) * r))
    batched = reduced_bias(sym, points, 2.0)
    stacked = np.array([balance(sym, x, moment_map=False).value for x in points])
    assert np.max(np.abs(batched - stacked)) <= 1e-6
    sig = np.linalg.svd(points[:, :p * r].reshape(3, p, r)
                        @ np.swapaxes(points[:, p * r:].reshape(3, q, r), -1, -2),
                        compute_uv=False)[:, :r]
    expected = np.sum(np.log(sig[:, :, None] + sig[:, None, :]), axis=(-2, -1))
    assert np.max(np.abs(batched - expected)) <= 1e-6


def test_reduced_bias_unbounded_is_minus_infinity_and_errors():
    out = reduced_bias(torus_on_plane(), np.array([[1.0, 2.0]]), 1.0)
    assert out.shape == (1,) and out[0] == -np.inf
    sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    with pytest.raises(ValueError, match="closed-form"):
        reduced_bias(sym, np.ones(2), 1.0, method="closed_form")
    with pytest.raises(ValueError, match="method"):
        reduced_bias(sym, np.ones(2), 1.0, method="magic")
    with pytest.raises(NotFreeError):
        reduced_bias(sym, np.zeros((2, 2)), 1.0)


def test_untraceable_analytic_gram_falls_back_to_autograd_fields():
    # an analytic orbit Gram written with plain numpy (np.asarray drops autograd's boxes)
    def gram(theta, metric):
        theta = np.asarray(theta, dtype=float)
        return (theta[..., 0] ** 2 + theta[..., 1] ** 2)[..., None, None]

    base = LieGroupAction.from_generators([np.diag([1.0, -1.0])])
    sym = Symmetry(LieGroupAction(base.act, 2, 1, orbit_gram=gram))
    points = np.random.default_rng(9).standard_normal((6, 2))
    res = balance(sym, points[0])
    assert res.status == "minimum"
    assert abs(res.value - np.log(2 * abs(points[0, 0] * points[0, 1]))) <= TOL
    bias = reduced_bias(sym, points, 2.0, method="numerical")
    assert np.max(np.abs(bias - np.log(2 * np.abs(points[:, 0] * points[:, 1])))) <= 1e-6


@pytest.mark.parametrize("optimizer", ["conjugate_gradient", "steepest_descent"])
def test_other_pymanopt_optimizers_agree(optimizer):
    sym = Symmetry(hadamard_action(2))
    theta = np.array([2.0, -0.5, 0.3, 1.5])
    res = balance(sym, theta, optimizer=optimizer, max_iter=500)
    assert res.status == "minimum", res.message
    assert abs(res.value - np.sum(np.log(2 * np.abs(theta[:2] * theta[2:])))) <= 1e-7


def test_unknown_optimizer_raises():
    sym = Symmetry(hadamard_action(1))
    with pytest.raises(ValueError, match="optimizer"):
        balance(sym, np.array([1.0, 2.0]), optimizer="adam")
