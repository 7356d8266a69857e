import autograd.numpy as anp
import numpy as np
import pytest

from quotientib import MetricNotSPDError, ShapeError
from quotientib.metric import (
    ConstantMetric,
    EuclideanMetric,
    FieldMetric,
    GeomstatsMetric,
    as_metric,
)
from tests._strategies import random_field_metric, random_spd

RTOL = 1e-12


def test_euclidean_kernels_are_identity():
    metric = EuclideanMetric(3)
    vecs = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(metric.flat(vecs), vecs)
    np.testing.assert_array_equal(metric.inner_gram(vecs, vecs), vecs @ vecs.T)
    assert metric.metric_matrix(np.zeros((4, 5, 3))).shape == (4, 5, 3, 3)
    assert metric.log_det_metric(np.zeros((4, 3))).shape == (4,)


def test_constant_metric_closed_form():
    metric = ConstantMetric([[2.0, 1.0], [1.0, 3.0]])
    # <(1,1), (1,1)>_g = 2 + 1 + 1 + 3 = 7; det g = 5.
    assert metric.inner_product(np.ones(2), np.ones(2)) == pytest.approx(7.0, rel=RTOL)
    assert metric.log_det_metric() == pytest.approx(np.log(5.0), rel=RTOL)
    np.testing.assert_allclose(metric.sharp(np.eye(2)), np.array([[3, -1], [-1, 2]]) / 5.0,
                               rtol=RTOL)


@pytest.mark.parametrize("kind", ["constant", "diagonal", "field"])
def test_flat_sharp_inverse_and_gram_consistent(kind):
    rng = np.random.default_rng(0)
    n = 4
    if kind == "constant":
        metric = ConstantMetric(random_spd(rng, n))
    elif kind == "diagonal":
        metric = ConstantMetric(rng.uniform(0.5, 2, n))
    else:
        metric = random_field_metric(rng, n)
    point = rng.standard_normal((3, n))
    vecs = rng.standard_normal((3, 2, n))
    np.testing.assert_allclose(metric.sharp(metric.flat(vecs, point), point), vecs, rtol=1e-10)
    mat = metric.metric_matrix(point)
    np.testing.assert_allclose(metric.inner_gram(vecs, vecs, point),
                               np.einsum("...an,...nm,...bm->...ab", vecs, mat, vecs), rtol=1e-12)
    np.testing.assert_allclose(metric.cometric_gram(vecs, vecs, point),
                               np.einsum("...an,...nm,...bm->...ab", vecs, np.linalg.inv(mat),
                                         vecs), rtol=1e-10)
    np.testing.assert_allclose(metric.log_det_metric(point), np.linalg.slogdet(mat)[1],
                               rtol=1e-12)


def test_not_spd_errors():
    with pytest.raises(MetricNotSPDError, match="not positive definite"):
        ConstantMetric([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(MetricNotSPDError, match="not symmetric"):
        ConstantMetric([[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(MetricNotSPDError, match="not positive definite"):
        ConstantMetric([1.0, -1.0])
    field = FieldMetric(lambda th: anp.stack([
        anp.stack([th[..., 0], 0.0 * th[..., 0]], -1),
        anp.stack([0.0 * th[..., 0], 1.0 + 0.0 * th[..., 0]], -1)], -2), 2)
    field.metric_matrix(np.array([1.0, 0.0]))
    with pytest.raises(MetricNotSPDError, match=r"batch index \(1,\)"):
        field.metric_matrix(np.array([[1.0, 0.0], [-1.0, 0.0]]))


def test_shape_errors():
    with pytest.raises(ShapeError, match=r"shape \(n, n\)"):
        ConstantMetric(np.ones((2, 3)))
    with pytest.raises(ShapeError, match="dimension 2, expected 3"):
        as_metric(np.eye(2), 3)
    field = FieldMetric(lambda th: anp.eye(3), 2)
    with pytest.raises(ShapeError, match="returned shape"):
        field.metric_matrix(np.zeros(2))
    with pytest.raises(ShapeError, match=r"shape \(\.\.\., 2\)"):
        FieldMetric(lambda th: th, 2).metric_matrix(np.zeros(3))


def test_as_metric_dispatch_and_geomstats_wrapper():
    from geomstats.geometry.euclidean import Euclidean

    assert isinstance(as_metric(None, 2), EuclideanMetric)
    assert isinstance(as_metric(np.eye(2), 2), ConstantMetric)
    assert isinstance(as_metric(lambda th: anp.eye(2) + 0 * th[..., :1, None], 2), FieldMetric)
    wrapped = as_metric(Euclidean(3).metric, 3)
    assert isinstance(wrapped, GeomstatsMetric)
    np.testing.assert_allclose(wrapped.metric_matrix(np.zeros((2, 3))), np.broadcast_to(
        np.eye(3), (2, 3, 3)))
    with pytest.raises(TypeError):
        GeomstatsMetric("not a metric")


def test_metric_is_a_geomstats_metric():
    from geomstats.geometry.riemannian_metric import RiemannianMetric

    metric = ConstantMetric([2.0, 3.0])
    assert isinstance(metric, RiemannianMetric)
    assert metric._space.metric is metric
