import autograd.numpy as anp
import numpy as np
import pytest

from quotientib import (
    ConstantMetric,
    FieldMetric,
    LieGroupAction,
    NotClosedError,
    NotFreeError,
    ShapeError,
    Symmetry,
)
from quotientib.verify.examples import column_scaling_symmetry, rotation_symmetry, uv_symmetry
from tests._strategies import build

RTOL = 1e-12


def cp_rank_one_symmetry():
    """(a, b, c) -> (e^{t1} a, e^{t2} b, e^{-t1-t2} c) for a rank-1 tensor a x b x c."""
    def gen(w):
        return np.diag(np.repeat(w, 2))

    gens = np.array([gen([1.0, 0.0, -1.0]), gen([0.0, 1.0, -1.0])])
    return Symmetry(LieGroupAction.from_generators(gens))


def test_uv_orbit_gram_closed_form():
    sym = uv_symmetry()
    points = np.array([[1.0, 2.0], [3.0, -0.5]])
    np.testing.assert_allclose(sym.orbit_gram(points)[..., 0, 0], [5.0, 9.25], rtol=RTOL)
    np.testing.assert_allclose(sym.log_det_orbit_gram(points), np.log([5.0, 9.25]), rtol=RTOL)
    sym_ab = uv_symmetry(np.diag([2.0, 3.0]))
    np.testing.assert_allclose(sym_ab.orbit_gram(points)[..., 0, 0], [2 + 12, 18 + 0.75],
                               rtol=RTOL)


def test_cp_rank_one_det_h_is_xy_yz_zx():
    sym = cp_rank_one_symmetry()
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((5, 6))
    x, y, z = (np.sum(theta[:, 2 * k:2 * k + 2] ** 2, axis=-1) for k in range(3))
    np.testing.assert_allclose(np.linalg.det(sym.orbit_gram(theta)), x * y + y * z + z * x,
                               rtol=1e-12)


def test_moment_map_diag_metric_closed_form():
    a, b = 2.0, 0.7
    sym = uv_symmetry(np.diag([a, b]))
    points = np.random.default_rng(1).standard_normal((4, 2))
    np.testing.assert_allclose(sym.moment_map(points)[..., 0],
                               (a * points[:, 0] ** 2 - b * points[:, 1] ** 2) / 2, rtol=RTOL)


def test_ray_integrated_moment_map_for_position_dependent_metric():
    # g = diag(1 + u^2, 1 + v^2): alpha = ((1 + u^2) u, -(1 + v^2) v) is closed and
    # mu = u^2/2 + u^4/4 - v^2/2 - v^4/4.
    field = FieldMetric(lambda th: anp.stack([
        anp.stack([1.0 + th[..., 0] ** 2, 0.0 * th[..., 0]], -1),
        anp.stack([0.0 * th[..., 0], 1.0 + th[..., 1] ** 2], -1)], -2), 2)
    sym = uv_symmetry(field)
    p = np.random.default_rng(2).standard_normal((6, 2))
    u, v = p[:, 0], p[:, 1]
    np.testing.assert_allclose(sym.moment_map(p)[:, 0],
                               u**2 / 2 + u**4 / 4 - v**2 / 2 - v**4 / 4, rtol=1e-12)
    gauge = sym.moment_map_gauge()
    np.testing.assert_allclose(gauge.faddeev_popov(p), sym.orbit_gram(p), rtol=1e-10)


def test_column_scaling_moment_map_closed_form():
    sym = column_scaling_symmetry(rows=3, cols=4, rank=2)
    theta = np.random.default_rng(3).standard_normal((2, sym.dim))
    u = theta[:, :6].reshape(2, 3, 2)
    v = theta[:, 6:].reshape(2, 4, 2)
    expected = 0.5 * (np.sum(u**2, axis=1) - np.sum(v**2, axis=1))
    np.testing.assert_allclose(sym.moment_map(theta), expected, rtol=RTOL)


def test_rotations_have_no_moment_map():
    with pytest.raises(NotClosedError, match="not closed"):
        rotation_symmetry(2).moment_map_gauge()


@pytest.mark.parametrize("kind", ["euclidean", "constant", "field"])
def test_projection_properties(kind):
    sym, rng = build("gl2", kind, 11)
    point = rng.standard_normal((3, sym.dim))
    vec = rng.standard_normal((3, sym.dim))
    hor = sym.horizontal_projection(vec, point)
    ver = sym.vertical_projection(vec, point)
    np.testing.assert_allclose(hor + ver, vec, rtol=1e-12)
    np.testing.assert_allclose(sym.horizontal_projection(hor, point), hor, atol=1e-10)
    np.testing.assert_allclose(sym.metric.inner_product(hor, ver, point), 0.0, atol=1e-10)
    assert np.all(sym.is_horizontal(hor, point)) and np.all(sym.is_vertical(ver, point))
    assert not np.any(sym.is_vertical(vec, point))
    # Vertical vectors do not move the invariants: dh(P_v v) = 0.
    np.testing.assert_allclose(sym.tangent_riemannian_submersion(ver, point), 0.0, atol=1e-10)


def test_fields_are_vertical_and_batched_equals_stacked():
    sym, rng = build("so3", "constant", 5)
    points = rng.standard_normal((4, sym.dim))
    xi = sym.fundamental_fields(points)
    assert np.all(sym.is_vertical(xi[:, 0], points))
    stacked = np.stack([sym.orbit_gram(p) for p in points])
    np.testing.assert_allclose(sym.orbit_gram(points), stacked, rtol=1e-13)
    np.testing.assert_allclose(sym.log_det_orbit_gram(points),
                               [sym.log_det_orbit_gram(p) for p in points], rtol=1e-13)


def test_not_free_names_the_point():
    sym = uv_symmetry()
    with pytest.raises(NotFreeError, match=r"not free.*|batch index \(1,\)"):
        sym.log_det_orbit_gram(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert list(sym.is_free(np.array([[1.0, 1.0], [0.0, 0.0]]))) == [True, False]
    with pytest.raises(NotFreeError, match=r"batch index \(1,\)"):
        sym.check_free(np.array([[1.0, 1.0], [0.0, 0.0]]))
    # A zero column of U and V: column scaling is not free there.
    cs = column_scaling_symmetry(rank=2)
    theta = np.random.default_rng(0).standard_normal(cs.dim)
    theta[0::2] = 0.0
    with pytest.raises(NotFreeError):
        cs.log_det_orbit_gram(theta)


def test_submersion_and_errors():
    sym = uv_symmetry()
    np.testing.assert_allclose(sym.riemannian_submersion(np.array([[2.0, 3.0]])), [[6.0]])
    with pytest.raises(ShapeError):
        sym.orbit_gram(np.zeros((2, 3)))
    anonymous = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    with pytest.raises(NotImplementedError, match="without an invariant"):
        anonymous.riemannian_submersion(np.ones(2))
    with pytest.raises(TypeError):
        Symmetry("not an action")


def test_symmetry_is_a_geomstats_fiber_bundle():
    from geomstats.geometry.fiber_bundle import FiberBundle

    sym = uv_symmetry(ConstantMetric([1.0, 2.0]))
    assert isinstance(sym, FiberBundle)
    assert sym._total_space.metric is sym.metric
    assert sym._total_space.group_action is sym.action


def test_log_det_orbit_gram_is_differentiable():
    # d/dt log det H(e^t u, e^-t v) = (2 u^2 e^2t - 2 v^2 e^-2t) / (u^2 e^2t + v^2 e^-2t).
    from autograd import grad

    from quotientib._linalg import logdet_spd

    sym = uv_symmetry()
    u, v = 3.0, 0.5

    def cost(t):
        return logdet_spd(sym.orbit_gram(sym.action.act(anp.array([t]), np.array([u, v]))))

    assert grad(cost)(0.0) == pytest.approx((2 * u**2 - 2 * v**2) / (u**2 + v**2), rel=1e-12)
