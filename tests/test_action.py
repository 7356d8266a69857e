import autograd.numpy as anp
import numpy as np
import pytest

from quotientib import LieGroupAction, NotInvariantError, ShapeError, check_invariance
from quotientib.verify.examples import uv_action
from tests._strategies import gl_factorization_action, scaling_action, so3_action


@pytest.mark.parametrize("make", [uv_action, lambda: scaling_action(np.random.default_rng(1)),
                                  gl_factorization_action, so3_action])
def test_autograd_fields_equal_analytic(make):
    action = make()
    rng = np.random.default_rng(0)
    points = rng.standard_normal((2, 3, action.dim))
    analytic = action.fundamental_fields(points)
    assert analytic.shape == (2, 3, action.group_dim, action.dim)
    np.testing.assert_allclose(action.autograd_fundamental_fields(points), analytic,
                               rtol=1e-10, atol=1e-12)


def test_uv_fields_closed_form():
    action = uv_action()
    np.testing.assert_allclose(action.autograd_fundamental_fields(np.array([2.0, 3.0])),
                               [[2.0, -3.0]], rtol=1e-14)


def test_fields_batched_equals_stacked():
    action = gl_factorization_action()
    rng = np.random.default_rng(2)
    points = rng.standard_normal((4, action.dim))
    stacked = np.stack([action.autograd_fundamental_fields(p) for p in points])
    np.testing.assert_allclose(action.autograd_fundamental_fields(points), stacked, rtol=1e-13)


def test_from_geomstats_so3_matches_generators():
    from geomstats.geometry.special_orthogonal import SpecialOrthogonal

    group = SpecialOrthogonal(3, equip=False)
    action = LieGroupAction.from_geomstats(
        group, lambda g, x: anp.einsum("...ij,...j->...i", g, x), 3)
    point = np.array([0.3, -1.0, 2.0])
    fields = action.fundamental_fields(point)
    basis = np.asarray(group.lie_algebra.basis)
    np.testing.assert_allclose(fields, basis @ point, rtol=1e-10, atol=1e-12)


def test_lie_brackets_of_gl2_fields():
    # Fields of a linear action are xi_a = X_a theta; their commutator is
    # [xi_a, xi_b] = D xi_b xi_a - D xi_a xi_b = (X_b X_a - X_a X_b) theta.
    action = gl_factorization_action()
    point = np.random.default_rng(3).standard_normal(action.dim)
    gens = action.generators
    expected = np.einsum("bij,ajk,k->abi", gens, gens, point) - np.einsum(
        "aij,bjk,k->abi", gens, gens, point)
    np.testing.assert_allclose(action.lie_bracket_fields(point), expected, atol=1e-12)


def test_check_invariance_passes_and_fails():
    action = uv_action()
    points = np.random.default_rng(0).standard_normal((5, 2))
    assert check_invariance(action, points) < 1e-12
    bad = LieGroupAction(action.act, 2, 1, invariant=lambda th: th[..., :1] + th[..., 1:])
    with pytest.raises(NotInvariantError, match="not invariant"):
        check_invariance(bad, points)
    not_identity = LieGroupAction(lambda t, th: 2.0 * th * anp.exp(t), 2, 1,
                                  invariant=lambda th: th[..., :1] * 0.0)
    with pytest.raises(NotInvariantError, match="identity"):
        check_invariance(not_identity, points)


def test_bad_shapes():
    action = uv_action()
    with pytest.raises(ShapeError, match=r"shape \(\.\.\., 2\)"):
        action.fundamental_fields(np.zeros(3))
    broken = LieGroupAction(lambda t, th: th[..., :1] * anp.exp(t), 2, 1)
    with pytest.raises(ShapeError, match="must return the shape of theta"):
        broken.fundamental_fields(np.ones(2))
    with pytest.raises(ShapeError):
        LieGroupAction.from_generators(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="group_dim"):
        LieGroupAction(action.act, 2, 0)
