"""Riemannian metrics on a parameter space Theta, an open set of R^n.

Every metric here is a geomstats :class:`~geomstats.geometry.riemannian_metric.RiemannianMetric`
(so ``metric_matrix``, ``inner_product`` and the rest of geomstats work on it) with a few extra
batched kernels that the geometry core needs and that must not build ``n x n`` matrices when the
structure makes them unnecessary:

* ``inner_gram(vecs_a, vecs_b, base_point)``: the Gram matrix ``A g B^T`` of two stacks of tangent
  vectors (orbit Gram matrices are built from this);
* ``flat`` (lower an index, ``v -> g v``) and ``sharp`` (raise one, ``w -> g^{-1} w``);
* ``cometric_gram(covecs_a, covecs_b, base_point)``: ``A g^{-1} B^T`` (constraint Gram matrices);
* ``log_det_metric(base_point)``: ``log det g``, for the volume form ``dVol_g``.

Four kinds: :class:`EuclideanMetric` (the paper's default), :class:`ConstantMetric` (a fixed SPD
matrix), :class:`FieldMetric` (a position-dependent SPD field ``theta -> g(theta)``, written with
``autograd.numpy`` so it can be differentiated), and :class:`GeomstatsMetric` (any geomstats
metric through its ``metric_matrix``). :func:`as_metric` turns any of these specifications into
a metric object.
"""

import autograd.numpy as anp
import geomstats.backend as gs  # noqa: F401  (imported after the backend is fixed)
import numpy as np
from autograd.numpy.numpy_boxes import ArrayBox
from geomstats.geometry.euclidean import Euclidean
from geomstats.geometry.riemannian_metric import RiemannianMetric

from quotientib._linalg import as_points, first_index
from quotientib.errors import MetricNotSPDError, ShapeError

__all__ = [
    "MetricField",
    "EuclideanMetric",
    "ConstantMetric",
    "FieldMetric",
    "GeomstatsMetric",
    "as_metric",
]

#: Relative tolerance for the symmetry check of a metric matrix.
SYMMETRY_RTOL = 1e-10


def _check_spd_matrices(mat, where):
    """Raise MetricNotSPDError unless every matrix of ``mat`` [..., n, n] is SPD."""
    mat = np.asarray(mat, dtype=float)
    if not np.all(np.isfinite(mat)):
        raise MetricNotSPDError(f"The metric matrix {where} has non-finite entries.")
    scale = np.max(np.abs(mat)) if mat.size else 1.0
    asym = np.abs(mat - np.swapaxes(mat, -1, -2))
    if np.any(asym > SYMMETRY_RTOL * max(scale, 1e-300)):
        idx = first_index(np.any(asym > SYMMETRY_RTOL * scale, axis=(-2, -1)))
        raise MetricNotSPDError(
            f"The metric matrix {where} is not symmetric (batch index {idx}, largest asymmetry "
            f"{float(np.max(asym)):.3g}); a Riemannian metric must be SPD."
        )
    eig = np.linalg.eigvalsh(mat)
    bad = eig[..., 0] <= 0
    if np.any(bad):
        idx = first_index(bad)
        raise MetricNotSPDError(
            f"The metric matrix {where} is not positive definite (batch index {idx}, smallest "
            f"eigenvalue {float(eig[idx][0]):.3g}); a Riemannian metric must be SPD."
        )


class MetricField(RiemannianMetric):
    """Base class of quotientib metrics: a geomstats metric on ``Euclidean(dim)`` plus kernels.

    Parameters
    ----------
    dim : int
        Dimension ``n`` of the parameter space.
    """

    #: True when ``g`` does not depend on the point.
    is_constant = True

    def __init__(self, dim):
        if int(dim) != dim or dim < 1:
            raise ValueError(f"Expected `dim` to be a positive integer, got {dim!r}.")
        space = Euclidean(int(dim), equip=False)
        super().__init__(space)
        # geomstats 2.8's equip_with_metric(instance) reads `space.metric` before setting it
        # and fails on an unequipped space, so attach the instance directly.
        space.metric = self
        self.dim = int(dim)

    # -- kernels to override -------------------------------------------------------------
    def metric_matrix(self, base_point=None):
        """Metric matrix ``g(theta)``.

        Parameters
        ----------
        base_point : array_like, shape=[..., n], optional
            Point; ignored by constant metrics.

        Returns
        -------
        mat : ndarray, shape=[..., n, n]
        """
        raise NotImplementedError

    def flat(self, tangent_vecs, base_point=None):
        """Lower an index: ``v -> g(theta) v`` for a stack of tangent vectors.

        Parameters
        ----------
        tangent_vecs : array_like, shape=[..., k, n]
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        covecs : array, shape=[..., k, n]
        """
        return anp.einsum("...ij,...kj->...ki", self._matrix(base_point), tangent_vecs)

    def sharp(self, covecs, base_point=None):
        """Raise an index: ``w -> g(theta)^{-1} w`` for a stack of covectors.

        Parameters
        ----------
        covecs : array_like, shape=[..., k, n]
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        tangent_vecs : array, shape=[..., k, n]
        """
        mat = self._matrix(base_point)
        sol = np.linalg.solve(mat, np.swapaxes(np.asarray(covecs), -1, -2))
        return np.swapaxes(sol, -1, -2)

    def inner_gram(self, vecs_a, vecs_b, base_point=None):
        """Gram matrix ``A g B^T`` of two stacks of tangent vectors.

        Parameters
        ----------
        vecs_a : array_like, shape=[..., ka, n]
        vecs_b : array_like, shape=[..., kb, n]
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        gram : array, shape=[..., ka, kb]
        """
        return anp.einsum("...an,...bn->...ab", vecs_a, self.flat(vecs_b, base_point))

    def cometric_gram(self, covecs_a, covecs_b, base_point=None):
        """Gram matrix ``A g^{-1} B^T`` of two stacks of covectors.

        Parameters
        ----------
        covecs_a : array_like, shape=[..., ka, n]
        covecs_b : array_like, shape=[..., kb, n]
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        gram : array, shape=[..., ka, kb]
        """
        return np.einsum("...an,...bn->...ab", covecs_a, self.sharp(covecs_b, base_point))

    def log_det_metric(self, base_point=None):
        """``log det g(theta)``, the log density of ``dVol_g`` against Lebesgue measure.

        Parameters
        ----------
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        logdet : ndarray, shape=[...]
        """
        _, logdet = np.linalg.slogdet(self._matrix(base_point))
        return logdet

    # -- shared helpers ------------------------------------------------------------------
    def _matrix(self, base_point):
        return self.metric_matrix(base_point)

    def check_spd(self, base_point=None):
        """Raise :class:`MetricNotSPDError` unless ``g`` is SPD at every given point.

        Parameters
        ----------
        base_point : array_like, shape=[..., n], optional
        """
        _check_spd_matrices(self._matrix(base_point), "at the given point(s)")

    def inner_product(self, tangent_vec_a, tangent_vec_b, base_point=None):
        """Inner product ``g(theta)(a, b)``.

        Parameters
        ----------
        tangent_vec_a, tangent_vec_b : array_like, shape=[..., n]
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        inner : array, shape=[...]
        """
        gram = self.inner_gram(
            anp.asarray(tangent_vec_a)[..., None, :], anp.asarray(tangent_vec_b)[..., None, :],
            base_point,
        )
        return gram[..., 0, 0]


class EuclideanMetric(MetricField):
    """The Euclidean metric ``g = I`` (the paper's default); never builds an ``n x n`` matrix.

    Parameters
    ----------
    dim : int
    """

    def metric_matrix(self, base_point=None):
        """Identity matrix, broadcast to the batch shape of ``base_point``.

        Parameters
        ----------
        base_point : array_like, shape=[..., n], optional

        Returns
        -------
        mat : ndarray, shape=[..., n, n]
        """
        batch = () if base_point is None else np.shape(base_point)[:-1]
        return np.broadcast_to(np.eye(self.dim), batch + (self.dim, self.dim))

    def flat(self, tangent_vecs, base_point=None):  # noqa: D102
        return tangent_vecs

    def sharp(self, covecs, base_point=None):  # noqa: D102
        return covecs

    def inner_gram(self, vecs_a, vecs_b, base_point=None):  # noqa: D102
        return anp.matmul(vecs_a, anp.swapaxes(vecs_b, -1, -2))

    def cometric_gram(self, covecs_a, covecs_b, base_point=None):  # noqa: D102
        return anp.matmul(covecs_a, anp.swapaxes(covecs_b, -1, -2))

    def log_det_metric(self, base_point=None):  # noqa: D102
        batch = () if base_point is None else np.shape(base_point)[:-1]
        return np.zeros(batch)

    def check_spd(self, base_point=None):  # noqa: D102
        return None


class ConstantMetric(MetricField):
    """A constant SPD metric matrix ``g``.

    Parameters
    ----------
    matrix : array_like, shape=[n, n]
        Symmetric positive definite matrix; a 1-D array is read as a diagonal.

    Raises
    ------
    MetricNotSPDError
        If the matrix is not symmetric positive definite.
    ShapeError
        If the matrix is not square.
    """

    def __init__(self, matrix):
        matrix = np.asarray(matrix, dtype=float)
        if matrix.ndim == 1:
            matrix = np.diag(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ShapeError(
                f"Expected `matrix` to have shape (n, n) or (n,), got {matrix.shape}."
            )
        _check_spd_matrices(matrix, "given to ConstantMetric")
        super().__init__(matrix.shape[0])
        self.matrix = matrix
        self._chol = np.linalg.cholesky(matrix)
        self._diag = np.diag(matrix) if np.count_nonzero(matrix - np.diag(np.diag(matrix))) == 0 \
            else None

    def metric_matrix(self, base_point=None):  # noqa: D102
        batch = () if base_point is None else np.shape(base_point)[:-1]
        return np.broadcast_to(self.matrix, batch + self.matrix.shape)

    def flat(self, tangent_vecs, base_point=None):  # noqa: D102
        if self._diag is not None:
            return tangent_vecs * self._diag
        return anp.matmul(tangent_vecs, self.matrix)  # g symmetric: (g v)^T = v^T g

    def sharp(self, covecs, base_point=None):  # noqa: D102
        if self._diag is not None:
            return covecs / self._diag
        covecs = np.asarray(covecs)
        flat = covecs.reshape(-1, self.dim).T
        from scipy.linalg import cho_solve

        sol = cho_solve((self._chol, True), flat)
        return sol.T.reshape(covecs.shape)

    def log_det_metric(self, base_point=None):  # noqa: D102
        batch = () if base_point is None else np.shape(base_point)[:-1]
        return np.full(batch, 2.0 * np.sum(np.log(np.diag(self._chol))))

    def check_spd(self, base_point=None):  # noqa: D102
        return None


class FieldMetric(MetricField):
    """A position-dependent metric ``theta -> g(theta)``.

    Parameters
    ----------
    matrix_fn : callable
        Maps points ``[..., n]`` to SPD matrices ``[..., n, n]``. Write it with
        ``autograd.numpy`` so that derivatives of the metric (divergence corrections, closedness
        of 1-forms) can be taken.
    dim : int
        Dimension ``n``.
    check : bool
        If True (default) every evaluation checks that the matrices are SPD.
    """

    is_constant = False

    def __init__(self, matrix_fn, dim, check=True):
        if not callable(matrix_fn):
            raise TypeError(f"Expected `matrix_fn` to be callable, got {type(matrix_fn)}.")
        super().__init__(dim)
        self.matrix_fn = matrix_fn
        self.check = check

    def metric_matrix(self, base_point=None):  # noqa: D102
        if base_point is None:
            raise ValueError("A position-dependent metric needs `base_point`.")
        base_point = as_points(base_point, self.dim, "base_point")
        mat = self.matrix_fn(base_point)
        if np.shape(mat) != tuple(np.shape(base_point)[:-1]) + (self.dim, self.dim):
            raise ShapeError(
                f"The metric field returned shape {np.shape(mat)} for points of shape "
                f"{np.shape(base_point)}; expected {np.shape(base_point)[:-1] + (self.dim,) * 2}."
            )
        if self.check and not isinstance(mat, ArrayBox):
            _check_spd_matrices(mat, "of the position-dependent field")
        return mat


class GeomstatsMetric(MetricField):
    """Any geomstats Riemannian metric, used through its ``metric_matrix``.

    Parameters
    ----------
    riemannian_metric : geomstats.geometry.riemannian_metric.RiemannianMetric
        A metric on a space whose points are vectors of shape ``(n,)``.
    check : bool
        If True (default) every evaluation checks that the matrices are SPD.
    """

    is_constant = False

    def __init__(self, riemannian_metric, check=True):
        if not isinstance(riemannian_metric, RiemannianMetric):
            raise TypeError(
                "Expected a geomstats RiemannianMetric, got "
                f"{type(riemannian_metric).__name__}."
            )
        shape = getattr(riemannian_metric._space, "shape", None)
        if shape is None or len(shape) != 1:
            raise ShapeError(
                f"GeomstatsMetric needs a space of vectors (shape (n,)), got shape {shape}."
            )
        super().__init__(shape[0])
        self.riemannian_metric = riemannian_metric
        self.check = check

    def metric_matrix(self, base_point=None):  # noqa: D102
        mat = self.riemannian_metric.metric_matrix(base_point)
        if base_point is not None:
            mat = np.broadcast_to(mat, np.shape(base_point)[:-1] + (self.dim, self.dim)) \
                if not isinstance(mat, ArrayBox) else mat
        if self.check and not isinstance(mat, ArrayBox):
            _check_spd_matrices(mat, "of the geomstats metric")
        return mat


def as_metric(spec, dim):
    """Build a metric object from a specification.

    Parameters
    ----------
    spec : None, MetricField, RiemannianMetric, callable or array_like
        ``None`` gives the Euclidean metric; a :class:`MetricField` is returned as is; a
        geomstats metric is wrapped; a callable is a position-dependent field; an array of
        shape ``(n, n)`` (or ``(n,)``, a diagonal) is a constant metric.
    dim : int
        Dimension ``n`` of the parameter space.

    Returns
    -------
    metric : MetricField

    Raises
    ------
    ShapeError
        If the metric's dimension is not ``dim``.
    MetricNotSPDError
        If a constant matrix is not SPD.
    """
    if spec is None:
        return EuclideanMetric(dim)
    if isinstance(spec, MetricField):
        metric = spec
    elif isinstance(spec, RiemannianMetric):
        metric = GeomstatsMetric(spec)
    elif callable(spec):
        metric = FieldMetric(spec, dim)
    else:
        metric = ConstantMetric(spec)
    if metric.dim != dim:
        raise ShapeError(f"The metric acts on dimension {metric.dim}, expected {dim}.")
    return metric
