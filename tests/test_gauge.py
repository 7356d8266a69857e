import autograd.numpy as anp
import numpy as np
import pytest

from quotientib import Gauge, NotRegularValueError, ShapeError
from quotientib.verify.examples import uv_line_gauge, uv_log_gauge, uv_symmetry

RTOL = 1e-12


def test_uv_balanced_gauge_closed_form():
    # chi = (u^2 - v^2)/2 gives M = G_chi = H = u^2 + v^2.
    sym = uv_symmetry()
    gauge = Gauge(lambda th: 0.5 * (th[..., :1] ** 2 - th[..., 1:] ** 2), sym)
    points = np.array([[1.0, 2.0], [-0.3, 0.7], [2.0, 2.0]])
    expected = np.sum(points**2, axis=-1)
    for mat in (gauge.faddeev_popov(points), gauge.constraint_gram(points),
                sym.orbit_gram(points)):
        np.testing.assert_allclose(mat[..., 0, 0], expected, rtol=RTOL)


def test_log_gauge_has_unit_faddeev_popov():
    sym = uv_symmetry(np.diag([2.0, 0.5]))
    gauge = uv_log_gauge(sym)
    points = np.abs(np.random.default_rng(0).standard_normal((5, 2))) + 0.1
    np.testing.assert_allclose(gauge.faddeev_popov(points), 1.0, rtol=RTOL)
    # G_chi = g^-1-norm of (1/2u, -1/2v) = 1/(4 a u^2) + 1/(4 b v^2).
    u, v = points[:, 0], points[:, 1]
    np.testing.assert_allclose(gauge.constraint_gram(points)[:, 0, 0],
                               1 / (8 * u**2) + 1 / (2 * v**2), rtol=RTOL)


def test_orthogonality_detection():
    sym = uv_symmetry()
    on_slice = np.array([[1.5, 1.5]])
    assert uv_log_gauge(sym).is_orthogonal(on_slice).all()
    assert not uv_line_gauge(sym).is_orthogonal(np.array([[2.0, 1.0]])).any()


def test_differential_batched_equals_stacked_and_analytic():
    sym = uv_symmetry()
    gauge = sym.moment_map_gauge()
    points = np.random.default_rng(1).standard_normal((3, 4, 2))
    dchi = gauge.differential(points)
    assert dchi.shape == (3, 4, 1, 2)
    np.testing.assert_allclose(dchi[..., 0, :], points * np.array([1.0, -1.0]), rtol=RTOL)


def test_project_to_slice_stays_on_orbit():
    sym = uv_symmetry()
    gauge = uv_log_gauge(sym)
    points = np.array([[3.0, 0.2], [0.1, 4.0]])
    projected = gauge.project_to_slice(points)
    np.testing.assert_allclose(projected[:, 0], projected[:, 1], rtol=1e-12)
    np.testing.assert_allclose(np.prod(projected, axis=-1), np.prod(points, axis=-1), rtol=1e-12)


def test_not_a_regular_value():
    sym = uv_symmetry()
    # chi = (u - v)^2 vanishes on u = v with zero differential there.
    gauge = Gauge(lambda th: (th[..., :1] - th[..., 1:]) ** 2, sym, name="(u - v)^2")
    with pytest.raises(NotRegularValueError, match=r"not a regular value.*batch index \(1,\)"):
        gauge.check_regular(np.array([[1.0, 2.0], [1.0, 1.0]]))
    with pytest.raises(NotRegularValueError, match="not on the slice"):
        uv_log_gauge(sym).check_regular(np.array([[1.0, 2.0]]), slice_atol=1e-8)
    uv_log_gauge(sym).check_regular(np.array([[2.0, 2.0]]), slice_atol=1e-12)


def test_gauge_shape_error():
    sym = uv_symmetry()
    gauge = Gauge(lambda th: anp.sum(th, axis=-1), sym, name="missing axis")
    with pytest.raises(ShapeError, match="one value per group direction"):
        gauge(np.ones((3, 2)))
