"""Gauges: maps ``chi: Theta -> R^m`` whose zero set is a slice through the orbits.

For a gauge of a :class:`~quotientib.symmetry.Symmetry` this module computes the objects of the
paper: Riemannian gradients ``grad chi^i = g^{-1} d chi^i``, the constraint Gram matrix
``G_chi,ij = g(grad chi^i, grad chi^j)``, the Faddeev-Popov matrix ``M_ia = d chi^i(xi_a)``, the
Gram matrix ``G_hor`` of the horizontal parts of the gradients (zero exactly on slices orthogonal
to the orbits), and a Newton projection of points onto the slice along their orbits.
"""

import numpy as np
from autograd import grad

from quotientib._linalg import SINGULAR_RTOL, as_points, first_index, singular_mask
from quotientib.errors import ConvergenceError, NotFreeError, NotRegularValueError, ShapeError

__all__ = ["Gauge"]

#: Tolerance of ``is_orthogonal``: ``|G_hor| <= ORTHOGONAL_RTOL |G_chi|`` (Frobenius norms).
ORTHOGONAL_RTOL = 1e-8


class Gauge:
    """A gauge ``chi`` for a symmetry, with its slice ``S = chi^{-1}(0)``.

    Parameters
    ----------
    chi : callable
        ``chi(theta)``, shape ``[..., n] -> [..., m]``, written with ``autograd.numpy`` and
        broadcasting over leading axes (``m`` is the group dimension).
    symmetry : Symmetry
    differential : callable, optional
        Analytic ``d chi``, shape ``[..., n] -> [..., m, n]``; autograd otherwise.
    name : str, optional
    """

    def __init__(self, chi, symmetry, *, differential=None, name=None):
        if not callable(chi):
            raise TypeError(f"Expected `chi` to be callable, got {type(chi).__name__}.")
        self.chi = chi
        self.symmetry = symmetry
        self._differential = differential
        self.name = name or "gauge"

    @property
    def metric(self):
        """The metric of the symmetry."""
        return self.symmetry.metric

    def _points(self, point):
        return as_points(point, self.symmetry.dim, "point")

    def __call__(self, point):
        """Evaluate ``chi``.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        chi : ndarray, shape=[..., m]
        """
        point = self._points(point)
        value = np.asarray(self.chi(point))
        expected = point.shape[:-1] + (self.symmetry.group_dim,)
        if value.shape != expected:
            raise ShapeError(
                f"The gauge '{self.name}' returned shape {value.shape} for points of shape "
                f"{point.shape}; a gauge must return one value per group direction, {expected}."
            )
        return value

    def differential(self, point):
        """Differential ``d chi`` (rows are the covectors ``d chi^i``).

        Computed by autograd in one reverse pass over the point batch tiled ``m`` times.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        dchi : ndarray, shape=[..., m, n]
        """
        point = self._points(point)
        if self._differential is not None:
            return np.asarray(self._differential(point))
        m = self.symmetry.group_dim
        tiled = np.broadcast_to(point, (m,) + point.shape).copy()
        select = np.eye(m).reshape((m,) + (1,) * (point.ndim - 1) + (m,))

        def total(p):
            return (self.chi(p) * select).sum()

        dchi = np.asarray(grad(total)(tiled))
        return np.moveaxis(dchi, 0, -2)

    def riemannian_gradient(self, point):
        """Riemannian gradients ``grad chi^i = g^{-1} d chi^i``.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        grads : ndarray, shape=[..., m, n]
        """
        point = self._points(point)
        return self.metric.sharp(self.differential(point), point)

    def constraint_gram(self, point):
        """Constraint Gram matrix ``G_chi = d chi g^{-1} d chi^T``.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        gram : ndarray, shape=[..., m, m]
        """
        point = self._points(point)
        dchi = self.differential(point)
        return self.metric.cometric_gram(dchi, dchi, point)

    def faddeev_popov(self, point):
        """Faddeev-Popov matrix ``M_ia = d chi^i (xi_a)``.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        fp : ndarray, shape=[..., m, m]
        """
        point = self._points(point)
        dchi = self.differential(point)
        xi = self.symmetry.fundamental_fields(point)
        return np.einsum("...in,...an->...ia", dchi, xi)

    def horizontal_gram(self, point):
        """Gram matrix of the horizontal parts of ``grad chi^i``.

        Computed by projecting the gradients (not as ``G_chi - M H^-1 M^T``), so that
        Proposition 1 can be checked against it.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        gram : ndarray, shape=[..., m, m]
        """
        point = self._points(point)
        hor = self.symmetry.horizontal_projection_stack(self.riemannian_gradient(point), point)
        return self.metric.inner_gram(hor, hor, point)

    def is_orthogonal(self, point, rtol=ORTHOGONAL_RTOL):
        """Whether the level set of ``chi`` is g-orthogonal to the orbit at each point.

        Parameters
        ----------
        point : array_like, shape=[..., n]
        rtol : float
            ``|G_hor| <= rtol |G_chi|`` in Frobenius norm.

        Returns
        -------
        orthogonal : ndarray of bool, shape=[...]
        """
        g_hor = np.linalg.norm(self.horizontal_gram(point), axis=(-2, -1))
        g_chi = np.linalg.norm(self.constraint_gram(point), axis=(-2, -1))
        return g_hor <= rtol * g_chi

    def check_regular(self, point, rtol=SINGULAR_RTOL, slice_atol=None):
        """Raise unless 0 is a regular value of ``chi`` at the given points.

        Parameters
        ----------
        point : array_like, shape=[..., n]
        rtol : float
            Eigenvalue ratio below which ``G_chi`` counts as singular.
        slice_atol : float, optional
            If given, also require ``|chi(point)| <= slice_atol`` (the points lie on ``S``).

        Raises
        ------
        NotRegularValueError
            If ``d chi`` is not surjective (``G_chi`` singular) at a point, or a point is off
            the slice.
        """
        point = self._points(point)
        if slice_atol is not None:
            off = np.max(np.abs(self(point)), axis=-1) > slice_atol
            if np.any(off):
                idx = first_index(off)
                raise NotRegularValueError(
                    f"Point {np.round(point[idx], 6)} (batch index {idx}) is not on the slice "
                    f"chi = 0 of gauge '{self.name}': |chi| = {np.max(np.abs(self(point[idx])))}"
                )
        bad = singular_mask(self.constraint_gram(point), rtol)
        if np.any(bad):
            idx = first_index(bad)
            raise NotRegularValueError(
                f"0 is not a regular value of the gauge '{self.name}' at point "
                f"{np.round(point[idx], 6)} (batch index {idx}): d chi is not surjective there "
                "(G_chi is singular), so chi^-1(0) is not a smooth slice at that point."
            )

    def project_to_slice(self, point, *, tol=1e-12, max_iter=50):
        """Move points along their orbits onto the slice ``chi = 0`` (Newton's method).

        Each step applies the group element ``-M^{-1} chi`` at the current point; ``M`` is the
        derivative of ``chi`` along the orbit there, so convergence is quadratic near ``S``.

        Parameters
        ----------
        point : array_like, shape=[..., n]
        tol : float
            Stop when ``max |chi| <= tol``.
        max_iter : int

        Returns
        -------
        on_slice : ndarray, shape=[..., n]

        Raises
        ------
        NotFreeError
            If ``M`` is singular (the orbit does not cross the slice transversally).
        ConvergenceError
            If Newton's method does not reach ``tol``.
        """
        point = self._points(point).astype(float)
        act = self.symmetry.action.act
        for _ in range(max_iter):
            value = self(point)
            if np.max(np.abs(value)) <= tol:
                return point
            fp = self.faddeev_popov(point)
            bad = singular_mask(fp @ np.swapaxes(fp, -1, -2), SINGULAR_RTOL)
            if np.any(bad):
                idx = first_index(bad)
                raise NotFreeError(
                    f"The Faddeev-Popov matrix of gauge '{self.name}' is singular at "
                    f"{np.round(point[idx], 6)}: the orbit is tangent to the slice there."
                )
            step = -np.linalg.solve(fp, value[..., None])[..., 0]
            point = np.asarray(act(step, point))
        raise ConvergenceError(
            f"Projection onto the slice of gauge '{self.name}' did not converge in {max_iter} "
            f"Newton steps (max |chi| = {np.max(np.abs(self(point))):.3g})."
        )
