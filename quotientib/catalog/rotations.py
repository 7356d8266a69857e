"""Rotations ``SO(d)`` of ``R^d`` (paper sec. 2.2): orbits are spheres, volume ``~ r^{d-1}``.

Basis ``A_ij = E_ij - E_ji`` (``i < j``), fields ``xi_ij(x) = x_j e_i - x_i e_j``. Euclidean:
``H_(ij),(kl) = |x|^2 (delta_ik delta_jl) - ...``; ``Xi^T Xi = |x|^2 I - x x^T``, so the nonzero
eigenvalues of ``H`` are ``|x|^2`` (``d - 1`` times). For ``d = 2`` the action is free on
``x != 0`` and ``log det H = 2 log r`` is constant on orbits; for ``d >= 3`` the stabiliser
``SO(d-1)`` has positive dimension, ``H`` is singular everywhere and the orbit volume is
``sqrt(pdet H) = r^{d-1}`` (pseudo-determinant) times ``vol(S^{d-1})``. There is no moment map:
``g A_ij`` is never symmetric for an SPD ``g`` (``-y dx + x dy`` is not closed).
"""

import itertools

import autograd.numpy as anp
import numpy as np
from scipy.special import gammaln

from quotientib._linalg import as_points
from quotientib.action import LieGroupAction, _expm_autograd
from quotientib.catalog._entry import CatalogEntry
from quotientib.catalog.scalings import _constant_matrix, _random_normal
from quotientib.errors import ShapeError
from quotientib.metric import EuclideanMetric
from quotientib.symmetry import Symmetry

__all__ = ["rotations", "rotation_orbit_log_volume", "pseudo_log_det"]


def _basis(d):
    pairs = list(itertools.combinations(range(d), 2))
    basis = np.zeros((len(pairs), d, d))
    for k, (i, j) in enumerate(pairs):
        basis[k, i, j], basis[k, j, i] = 1.0, -1.0
    return basis


def pseudo_log_det(gram, rtol=1e-10):
    """``log`` of the product of the nonzero eigenvalues of PSD matrices.

    Parameters
    ----------
    gram : array_like, shape=[..., m, m]
    rtol : float
        Eigenvalues below ``rtol`` times the largest count as zero.

    Returns
    -------
    logpdet : ndarray, shape=[...]
    """
    eig = np.linalg.eigvalsh(np.asarray(gram, dtype=float))
    keep = eig > rtol * np.max(eig, axis=-1, keepdims=True)
    return np.sum(np.where(keep, np.log(np.where(keep, eig, 1.0)), 0.0), axis=-1)


def rotation_orbit_log_volume(x):
    """Log of the Euclidean volume of the ``SO(d)`` orbit of ``x``: ``log(r^{d-1} |S^{d-1}|)``.

    Parameters
    ----------
    x : array_like, shape=[..., d]

    Returns
    -------
    logvol : ndarray, shape=[...]
    """
    x = np.asarray(x, dtype=float)
    d = x.shape[-1]
    log_sphere = np.log(2.0) + 0.5 * d * np.log(np.pi) - gammaln(0.5 * d)
    with np.errstate(divide="ignore"):
        return (d - 1) * np.log(np.linalg.norm(x, axis=-1)) + log_sphere


def rotations(d=2, metric=None):
    """``SO(d)`` acting on ``R^d`` by ``x -> expm(sum_k t_k A_k) x``.

    Parameters
    ----------
    d : int
        Dimension, ``d >= 2``. The action is free only for ``d = 2``.
    metric : optional
        Metric on ``R^d``.

    Returns
    -------
    entry : CatalogEntry
        Invariant ``h(x) = |x|``. For ``d = 2`` and any constant metric ``g``:
        ``H = (J x)^T g (J x)`` and ``min_orbit log det H = log(|x|^2 lambda_min(g))`` (constant
        ``2 log |x|`` when ``g = I``). ``extra["orbit_log_volume"]`` is
        :func:`rotation_orbit_log_volume`.
    """
    if int(d) != d or d < 2:
        raise ShapeError(f"Expected `d` >= 2, got {d!r}.")
    d = int(d)
    basis = _basis(d)
    m = len(basis)

    def act(t, x):
        group = _expm_autograd(anp.einsum("...k,kij->...ij", t, basis))
        return anp.einsum("...ij,...j->...i", group, x)

    def fields(x):
        return anp.einsum("kij,...j->...ki", basis, x)

    def orbit_gram(x, metric):
        if not isinstance(metric, EuclideanMetric):
            return NotImplemented
        # <A_k x, A_l x> = x^T A_k^T A_l x
        return anp.einsum("...i,kji,ljm,...m->...kl", x, basis, basis, x)

    def reduced_log_det(x, metric):
        mat = _constant_matrix(metric)
        if d != 2 or mat is None:
            return NotImplemented
        lam = 1.0 if isinstance(mat, str) else np.linalg.eigvalsh(mat)[0]
        with np.errstate(divide="ignore"):
            return np.log(np.sum(np.asarray(x, dtype=float) ** 2, axis=-1) * lam)

    def invariant(x):
        return anp.sqrt(anp.sum(x ** 2, axis=-1, keepdims=True))

    action = LieGroupAction(act, d, m, invariant=invariant, fundamental_fields=fields,
                            orbit_gram=orbit_gram, reduced_log_det=reduced_log_det,
                            generators=basis, name=f"rotations[{d}]")
    sym = Symmetry(action, metric, name=f"rotations[{d}]")
    euclid = isinstance(sym.metric, EuclideanMetric)

    def pack(x):
        return np.asarray(x, dtype=float)

    def unpack(theta):
        return {"x": as_points(theta, d, "theta")}

    mat = _constant_matrix(sym.metric)
    if d == 2 and mat is not None and not euclid:
        g = np.asarray(mat)
        eigval, eigvec = np.linalg.eigh(g)
        e_min = eigvec[:, 0]

        def argmin_residual(x):
            # At the argmin J x is parallel to the smallest-eigenvalue eigenvector of g.
            x = np.asarray(x, dtype=float)
            jx = np.stack([-x[..., 1], x[..., 0]], axis=-1)
            # |sin| of the angle between J x and e_min (linear in the angle, unlike 1 - cos).
            cross = jx[..., 0] * e_min[1] - jx[..., 1] * e_min[0]
            return np.abs(cross) / np.linalg.norm(jx, axis=-1)

        argmin = "J x parallel to the lambda_min eigenvector of g"
        status = "minimum" if eigval[1] > eigval[0] * (1 + 1e-12) else "constant"
    else:
        argmin_residual = None
        argmin = ("none: log det H = 2 log|x| constant on orbits" if d == 2
                  else f"none: H has rank {d - 1} < {m} (stabiliser SO({d - 1})); use pdet H")
        status = "constant"
    return CatalogEntry(
        name=f"rotations[{d}]", group=f"SO({d})", symmetry=sym, pack=pack, unpack=unpack,
        random_point=_random_normal(d),
        orbit_gram_formula="nonzero eigenvalues |x|^2 (d-1 times); H = |x|^2 for d = 2",
        moment_map_formula="none: -y dx + x dy not closed",
        argmin_condition=argmin,
        paper_condition="orbit volume ~ r^{d-1}, p_s(r) ~ r^{d-1} e^{-beta L(r)} (sec. 2.2)",
        paper_reduced_bias=(lambda x: 2.0 * np.log(np.linalg.norm(np.asarray(x), axis=-1)))
        if d == 2 else None,
        argmin_residual=argmin_residual, paper_residual=None, expected_status=status,
        notes=("free only for d = 2; for d >= 3 log det H = -inf and the orbit volume is "
               "the pseudo-determinant (1/2) log pdet H = (d-1) log r."),
        extra={"orbit_log_volume": rotation_orbit_log_volume, "pseudo_log_det": pseudo_log_det},
    )
