"""Small batched linear-algebra kernels shared by the geometry core.

Pure functions on arrays of shape ``[..., k, k]``. They are written with ``autograd.numpy`` so
that they can sit inside functions that autograd differentiates (e.g. pymanopt costs).
"""

import autograd.numpy as anp
import numpy as np

from quotientib.errors import ShapeError

#: Relative eigenvalue threshold below which a Gram matrix is treated as singular (float64).
SINGULAR_RTOL = 1e-12


def as_points(point, dim, name="point"):
    """Return ``point`` as a float array and check that its last axis has length ``dim``.

    Parameters
    ----------
    point : array_like, shape=[..., dim]
        Points.
    dim : int
        Expected length of the last axis.
    name : str
        Argument name used in the error message.

    Returns
    -------
    point : ndarray, shape=[..., dim]

    Raises
    ------
    ShapeError
        If the last axis does not have length ``dim``.
    """
    if not hasattr(point, "shape") or isinstance(point, (list, tuple)):
        point = np.asarray(point, dtype=float)
    if point.ndim == 0 or point.shape[-1] != dim:
        raise ShapeError(
            f"Expected `{name}` to have shape (..., {dim}), got shape {tuple(point.shape)}."
        )
    return point


def sym(mat):
    """Symmetric part of square matrices ``[..., k, k]``."""
    return 0.5 * (mat + anp.swapaxes(mat, -1, -2))


def batched_cholesky(mat):
    """Cholesky factors of SPD matrices ``[..., k, k]``; ``None`` where one fails.

    Returns
    -------
    chol : ndarray or None, shape=[..., k, k]
        Lower factors, or None if some matrix in the batch is not positive definite.
    """
    try:
        return np.linalg.cholesky(mat)
    except np.linalg.LinAlgError:
        return None


def singular_mask(mat, rtol=SINGULAR_RTOL):
    """Which matrices of a batch of symmetric PSD matrices are numerically singular.

    A matrix counts as singular when its smallest eigenvalue is below ``rtol`` times its
    largest one (or when it is all zeros).

    Parameters
    ----------
    mat : array_like, shape=[..., k, k]
    rtol : float

    Returns
    -------
    singular : ndarray of bool, shape=[...]
    """
    eig = np.linalg.eigvalsh(np.asarray(mat))
    top = np.max(np.abs(eig), axis=-1)
    return (eig[..., 0] <= rtol * top) | (top == 0) | ~np.isfinite(top)


def logdet_spd(mat):
    """``log det`` of SPD matrices through a Cholesky factorisation (autograd-friendly).

    Parameters
    ----------
    mat : array_like, shape=[..., k, k]

    Returns
    -------
    logdet : array, shape=[...]
    """
    chol = anp.linalg.cholesky(mat)
    # autograd's VJP of diagonal is only defined for axis1=-1, axis2=-2 (same values).
    diag = anp.diagonal(chol, axis1=-1, axis2=-2)
    return 2.0 * anp.sum(anp.log(diag), axis=-1)


def first_index(mask):
    """Multi-index of the first True entry of a boolean array, as a tuple (``()`` for 0-d)."""
    mask = np.asarray(mask)
    if mask.ndim == 0:
        return ()
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))
