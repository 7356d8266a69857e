"""Proposition 1 (general form) on random actions, metrics and gauges."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotientib.verify import proposition_1
from tests._strategies import build, nonlinear_gauge, orthogonal_linear_gauge, skew_linear_gauge

TOL = 1e-10
ACTIONS = ["scalings", "gl2", "so3"]
METRICS = ["euclidean", "constant", "field"]
cases = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(METRICS), st.integers(0, 2**31 - 1))


@settings(max_examples=30, deadline=None)
@given(cases)
def test_general_identity_everywhere(case):
    sym, rng = build(*case)
    points = rng.standard_normal((4, sym.dim)) + 0.5
    res = proposition_1(nonlinear_gauge(sym, rng), points)
    assert res.general_residual.shape == (4,)
    assert res.max_general_residual <= TOL


@settings(max_examples=30, deadline=None)
@given(cases)
def test_orthogonal_slice_satisfies_paper_form(case):
    sym, rng = build(*case)
    base = rng.standard_normal(sym.dim) + 0.5
    res = proposition_1(orthogonal_linear_gauge(sym, base), base[None])
    assert res.max_orthogonal_residual <= TOL
    assert res.max_horizontal_size <= TOL


@settings(max_examples=30, deadline=None)
@given(cases)
def test_non_orthogonal_slice_has_horizontal_part(case):
    sym, rng = build(*case)
    base = rng.standard_normal(sym.dim) + 0.5
    gauge = skew_linear_gauge(sym, base, rng)
    res = proposition_1(gauge, base[None])
    # A random covector is almost surely not in the span of the g xi_a: G_hor is detected, and
    # the general identity still holds.
    assert res.max_horizontal_size > 1e-6
    assert res.max_orthogonal_residual > 1e-6
    assert res.max_general_residual <= TOL
    assert not gauge.is_orthogonal(base)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moment_map_gauge_is_balanced_and_orthogonal(seed):
    # Diagonal generators with a diagonal metric: g X_a is symmetric, so the moment map exists.
    from quotientib import ConstantMetric, Symmetry
    from tests._strategies import scaling_action

    rng = np.random.default_rng(seed)
    action = scaling_action(rng)
    sym = Symmetry(action, ConstantMetric(rng.uniform(0.5, 2.0, action.dim)))
    gauge = sym.moment_map_gauge()
    points = rng.standard_normal((5, sym.dim))
    res = proposition_1(gauge, points)
    np.testing.assert_allclose(res.faddeev_popov, res.orbit_gram, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.constraint_gram, res.orbit_gram, rtol=1e-12, atol=1e-12)
    assert res.max_horizontal_size <= TOL


def test_gl2_has_no_moment_map():
    # Off-diagonal generators E_ij give sum_r U_ri dU_rj - ..., whose exterior derivative
    # dU_ri ^ dU_rj is not zero: no function mu has d mu_a = <xi_a, .>.
    from quotientib import NotClosedError

    sym, _ = build("gl2", "euclidean", 0)
    with pytest.raises(NotClosedError, match="not closed"):
        sym.moment_map_gauge()


def test_batched_equals_stacked():
    sym, rng = build("so3", "field", 7)
    gauge = nonlinear_gauge(sym, rng)
    points = rng.standard_normal((2, 3, sym.dim))
    batched = proposition_1(gauge, points)
    for i in range(2):
        for j in range(3):
            single = proposition_1(gauge, points[i, j])
            np.testing.assert_allclose(batched.constraint_gram[i, j], single.constraint_gram,
                                       rtol=1e-13)
            np.testing.assert_allclose(batched.horizontal_gram[i, j], single.horizontal_gram,
                                       rtol=1e-12, atol=1e-14)
