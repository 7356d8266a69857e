r"""Proposition 1 of the paper, in the general form valid for any gauge and any metric.

For a gauge ``chi`` with constraint Gram ``G_chi``, Faddeev-Popov matrix ``M`` and orbit Gram
``H``, the Riemannian gradients of ``chi`` split into vertical and horizontal parts, and

.. math:: G_\chi = M H^{-1} M^T + G_{hor},

where ``G_hor`` is the Gram matrix of the horizontal parts. ``G_hor = 0`` exactly when the slice
is orthogonal to the orbits; that special case is the paper's Proposition 1. This module
computes both sides independently (``G_hor`` by projecting the gradients, not by subtraction)
and returns the residuals.
"""

from dataclasses import dataclass

import numpy as np

from quotientib._linalg import as_points

__all__ = ["Proposition1Result", "proposition_1"]


@dataclass(frozen=True)
class Proposition1Result:
    """Residuals of Proposition 1 at a batch of points.

    All residuals are Frobenius norms relative to ``|G_chi|``.

    Attributes
    ----------
    general_residual : ndarray, shape=[...]
        ``|G_chi - M H^-1 M^T - G_hor| / |G_chi|``: zero for every gauge and metric.
    orthogonal_residual : ndarray, shape=[...]
        ``|G_chi - M H^-1 M^T| / |G_chi|``: the paper's Proposition 1 residual; zero exactly on
        orthogonal slices.
    horizontal_size : ndarray, shape=[...]
        ``|G_hor| / |G_chi|``: how far the slice is from orthogonal.
    constraint_gram, faddeev_popov, orbit_gram, horizontal_gram : ndarray, shape=[..., m, m]
        The matrices themselves.
    """

    general_residual: np.ndarray
    orthogonal_residual: np.ndarray
    horizontal_size: np.ndarray
    constraint_gram: np.ndarray
    faddeev_popov: np.ndarray
    orbit_gram: np.ndarray
    horizontal_gram: np.ndarray

    @property
    def max_general_residual(self):
        """Largest general residual over the batch."""
        return float(np.max(self.general_residual))

    @property
    def max_orthogonal_residual(self):
        """Largest orthogonal (paper) residual over the batch."""
        return float(np.max(self.orthogonal_residual))

    @property
    def max_horizontal_size(self):
        """Largest relative size of ``G_hor`` over the batch."""
        return float(np.max(self.horizontal_size))


def proposition_1(gauge, point):
    """Check ``G_chi = M H^-1 M^T + G_hor`` at points.

    Parameters
    ----------
    gauge : quotientib.Gauge
    point : array_like, shape=[..., n]
        Points (on the slice or anywhere: the identity holds pointwise).

    Returns
    -------
    result : Proposition1Result

    Raises
    ------
    NotFreeError
        Where the orbit Gram matrix is singular.

    Examples
    --------
    >>> import numpy as np
    >>> from quotientib.verify.examples import uv_symmetry
    >>> sym = uv_symmetry()
    >>> res = proposition_1(sym.moment_map_gauge(), np.array([[1.0, 2.0]]))
    >>> res.general_residual.shape
    (1,)
    """
    point = as_points(point, gauge.symmetry.dim, "point")
    sym = gauge.symmetry
    gram_h = sym.orbit_gram(point)
    sym._raise_if_singular(gram_h, point)
    g_chi = gauge.constraint_gram(point)
    fp = gauge.faddeev_popov(point)
    g_hor = gauge.horizontal_gram(point)
    vertical = fp @ np.linalg.solve(gram_h, np.swapaxes(fp, -1, -2))
    scale = np.linalg.norm(g_chi, axis=(-2, -1))
    scale = np.where(scale > 0, scale, 1.0)
    return Proposition1Result(
        general_residual=np.linalg.norm(g_chi - vertical - g_hor, axis=(-2, -1)) / scale,
        orthogonal_residual=np.linalg.norm(g_chi - vertical, axis=(-2, -1)) / scale,
        horizontal_size=np.linalg.norm(g_hor, axis=(-2, -1)) / scale,
        constraint_gram=g_chi,
        faddeev_popov=fp,
        orbit_gram=gram_h,
        horizontal_gram=g_hor,
    )
