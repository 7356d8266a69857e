"""Matrix factorisations ``W = U V^T`` and attention ``Q K^T``, and PCA's right O(r) action.

Parameters are flattened row-major: ``theta = (U.ravel(), V.ravel())`` with ``U [p, r]`` and
``V [q, r]``.

* Column scaling (diagonal subalgebra of gl(r)): ``(U_j, V_j) -> (e^{t_j} U_j, e^{-t_j} V_j)``;
  a torus, see :mod:`quotientib.catalog.scalings`. Euclidean: ``H = diag(|U_j|^2 + |V_j|^2)``,
  ``min log det H = sum_j log 2 |U_j| |V_j|``; at an SVD-aligned point this is
  ``sum_j log 2 sigma_j``, elsewhere it is larger (Hadamard's inequality).
* Full GL(r): ``(U, V) -> (U R, V R^{-T})``, ``R = expm(T)``, ``t = T.ravel()`` (``t[a r + b]`` is
  the coefficient of ``E_ab``). Fields ``xi_X = (U X, -V X^T)``; Euclidean orbit Gram is the
  Kronecker sum ``H = U^T U (+) V^T V``, eigenvalues ``alpha_i + beta_j``. Since
  ``alpha_i + beta_j >= 2 sqrt(alpha_i beta_j)`` and ``det(U^T U) det(V^T V)`` is constant on the
  orbit, ``log det H >= r^2 log 2 + r sum_j log sigma_j`` is bounded below; the minimum is
  ``sum_{i,j} log(sigma_i + sigma_j)``, attained on ``U^T U = V^T V`` (an O(r)-orbit of minimisers).
  The paper (sec. 3.2) claims ``inf log det H = -inf``; its one-parameter family makes one
  eigenvalue vanish and ignores the one that blows up at the same rate.
* PCA: ``W [d, r] -> W expm(A)``, ``A`` antisymmetric in the basis ``E_ij - E_ji`` (``i < j``).
  Euclidean ``log det H = sum_{i<j} log(lambda_i + lambda_j)`` with ``lambda = eig(W^T W)``,
  constant on orbits; no moment map (the generators are antisymmetric).
"""

import itertools

import autograd.numpy as anp
import numpy as np

from quotientib.action import LieGroupAction, _expm_autograd
from quotientib.catalog._entry import CatalogEntry, block_layout
from quotientib.catalog.scalings import (
    STRUCTURE_RTOL,
    _constant_matrix,
    _metric_diagonal,
    _random_normal,
    torus_action,
)
from quotientib.errors import ShapeError
from quotientib.metric import EuclideanMetric
from quotientib.symmetry import Symmetry

__all__ = [
    "column_scaling",
    "gl_factorization",
    "attention_columns",
    "attention_gl",
    "pca_orthogonal",
]


def _check_sizes(**sizes):
    for label, value in sizes.items():
        if int(value) != value or value < 1:
            raise ShapeError(f"Expected `{label}` to be a positive integer, got {value!r}.")
    return [int(v) for v in sizes.values()]


def _split(theta, p, q, r):
    """``theta [..., (p+q) r] -> U [..., p, r], V [..., q, r]``."""
    batch = tuple(theta.shape[:-1])
    u = anp.reshape(theta[..., :p * r], batch + (p, r))
    v = anp.reshape(theta[..., p * r:], batch + (q, r))
    return u, v


def _pack_pair(names, p, q, r):
    first, second = names
    pack, unpack, _ = block_layout(**{first: (p, r), second: (q, r)})
    return pack, unpack


def _product_invariant(p, q, r):
    def invariant(theta):
        u, v = _split(theta, p, q, r)
        prod = anp.matmul(u, anp.swapaxes(v, -1, -2))
        return anp.reshape(prod, tuple(prod.shape[:-2]) + (p * q,))

    return invariant


def _top_singular_values(theta, p, q, r):
    u, v = _split(np.asarray(theta, dtype=float), p, q, r)
    return np.linalg.svd(u @ np.swapaxes(v, -1, -2), compute_uv=False)[..., :r]


def _column_norms2(theta, p, q, r):
    u, v = _split(np.asarray(theta, dtype=float), p, q, r)
    return np.sum(u ** 2, axis=-2), np.sum(v ** 2, axis=-2)


# -- column scaling ---------------------------------------------------------------------------
def _column_family(name, p, q, r, metric, names, paper_condition, notes):
    n = (p + q) * r
    weights = np.zeros((r, n))
    cols = np.arange(r)
    for i in range(p):
        weights[cols, i * r + cols] = 1.0
    for i in range(q):
        weights[cols, p * r + i * r + cols] = -1.0
    action = torus_action(weights, invariant=_product_invariant(p, q, r), name=name)
    sym = Symmetry(action, metric, name=name)
    pack, unpack = _pack_pair(names, p, q, r)
    first, second = names

    def paper_bias(theta):
        return np.sum(np.log(2.0 * _top_singular_values(theta, p, q, r)), axis=-1)

    def paper_residual(theta):
        a, b = _column_norms2(theta, p, q, r)
        return np.max(np.abs(a - b) / (a + b), axis=-1)

    def svd_aligned_point(rng, batch_shape=()):
        """A point whose columns are the SVD factors ``P_j s_j^a``, ``Q_j s_j^(1-a)``."""
        batch = tuple(batch_shape)
        pu, _ = np.linalg.qr(rng.standard_normal(batch + (p, r)))
        qv, _ = np.linalg.qr(rng.standard_normal(batch + (q, r)))
        sig = rng.uniform(0.5, 2.0, batch + (1, r))
        split = rng.uniform(0.2, 0.8, batch + (1, r))
        return pack(**{first: pu * sig ** split, second: qv * sig ** (1 - split)})

    diag = _metric_diagonal(sym.metric, n)
    if diag is not None and np.allclose(diag, 1.0):
        argmin = f"|{first}_j| = |{second}_j|"
    elif diag is not None:
        argmin = f"|{first}_j|_a = |{second}_j|_b (weighted column norms)"
    else:
        argmin = "per-column weighted balance or stationarity (metric-dependent)"
    return CatalogEntry(
        name=name, group=f"(R_>0)^{r} (diagonal of GL({r}))", symmetry=sym, pack=pack,
        unpack=unpack, random_point=_random_normal(n),
        orbit_gram_formula=f"H = diag(|{first}_j|^2 + |{second}_j|^2) (Euclidean)",
        moment_map_formula=f"mu_j = (|{first}_j|^2 - |{second}_j|^2)/2 (Euclidean)",
        argmin_condition=argmin, paper_condition=paper_condition,
        paper_reduced_bias=paper_bias,
        argmin_residual=action.torus.argmin_residual(sym.metric),
        paper_residual=paper_residual, expected_status="minimum", notes=notes,
        extra={"sizes": (p, q, r), "svd_aligned_point": svd_aligned_point},
    )


def column_scaling(p=4, q=3, r=2, metric=None):
    """``W = U V^T`` with the column-scaling torus (diagonal subalgebra of gl(r)).

    Parameters
    ----------
    p, q, r : int
        ``U`` is ``[p, r]``, ``V`` is ``[q, r]``.
    metric : optional
        Metric on ``theta``, shape ``[(p + q) r]``.

    Returns
    -------
    entry : CatalogEntry
        Closed form ``sum_j log 2 |U_j| |V_j|`` (diagonal metrics: weighted norms); the paper's
        ``sum_j log 2 sigma_j(U V^T)`` as ``paper_reduced_bias``; ``extra["svd_aligned_point"]``
        draws points where the two agree.
    """
    p, q, r = _check_sizes(p=p, q=q, r=r)
    return _column_family(
        "column_scaling", p, q, r, metric, ("U", "V"),
        paper_condition="lambda_u,j = lambda_v,j = sqrt(sigma_j) (app. A.1); reduced "
                        "sum_j log sigma_j (sec. 3.2, diagonal subalgebra)",
        notes="min log det H = sum_j log 2|U_j||V_j| >= sum_j log 2 sigma_j, equal only at "
              "SVD-aligned points (orthogonal columns).",
    )


def attention_columns(seq_len=5, d=3, metric=None):
    """Attention ``Q K^T`` with the column-scaling torus ``(q_i, k_i) -> (e^t q_i, e^-t k_i)``.

    Parameters
    ----------
    seq_len : int
        Rows of ``Q`` and ``K``.
    d : int
        Head dimension (columns).
    metric : optional

    Returns
    -------
    entry : CatalogEntry
        ``theta = (Q.ravel(), K.ravel())``; argmin ``|q_i| = |k_i|`` (paper eq. 47).
    """
    seq_len, d = _check_sizes(seq_len=seq_len, d=d)
    return _column_family(
        "attention_columns", seq_len, seq_len, d, metric, ("Q", "K"),
        paper_condition="|q_i| = |k_i| (app. A.8 eq. 47)",
        notes="Same torus as column scaling; the paper restricts GL(d) to its diagonal.",
    )


# -- full GL(r) ---------------------------------------------------------------------------------
class _GLKernels:
    """Kernels of ``(U, V) -> (U R, V R^{-T})`` on ``theta = (U.ravel(), V.ravel())``."""

    def __init__(self, p, q, r):
        self.p, self.q, self.r = p, q, r
        self.n = (p + q) * r
        self.m = r * r

    def act(self, t, theta):
        r = self.r
        gen = anp.reshape(t, tuple(t.shape[:-1]) + (r, r))
        up = _expm_autograd(gen)
        down = _expm_autograd(-anp.swapaxes(gen, -1, -2))
        u, v = _split(theta, self.p, self.q, r)
        u2, v2 = anp.matmul(u, up), anp.matmul(v, down)
        batch = tuple(u2.shape[:-2])
        return anp.concatenate([anp.reshape(u2, batch + (self.p * r,)),
                                anp.reshape(v2, batch + (self.q * r,))], axis=-1)

    def fields(self, theta):
        p, q, r = self.p, self.q, self.r
        u, v = _split(theta, p, q, r)
        eye = np.eye(r)
        batch = tuple(u.shape[:-2])
        # X = E_ab: U E_ab puts U[:, a] in column b; -V E_ba puts -V[:, b] in column a.
        xu = anp.einsum("...ia,bc->...abic", u, eye)
        xv = -anp.einsum("...ib,ac->...abic", v, eye)
        xu = anp.reshape(xu, batch + (r * r, p * r))
        xv = anp.reshape(xv, batch + (r * r, q * r))
        return anp.concatenate([xu, xv], axis=-1)

    def _weights(self, metric):
        diag = _metric_diagonal(metric, self.n)
        if diag is None:
            return None
        p, q, r = self.p, self.q, self.r
        return diag[:p * r].reshape(p, r), diag[p * r:].reshape(q, r)

    def orbit_gram(self, theta, metric):
        weights = self._weights(metric)
        if weights is None:
            return NotImplemented
        du, dv = weights
        r = self.r
        u, v = _split(theta, self.p, self.q, r)
        eye = np.eye(r)
        # <U E_ab, U E_cd>_g = delta_bd sum_i U_ia U_ic du_ib;
        # <V E_ba, V E_dc>_g = delta_ac sum_i V_ib V_id dv_ia.
        ku = anp.einsum("...ia,...ic,ib->...acb", u, u, du)
        kv = anp.einsum("...ib,...id,ia->...bda", v, v, dv)
        gram = (anp.einsum("...acb,bd->...abcd", ku, eye)
                + anp.einsum("...bda,ac->...abcd", kv, eye))
        return anp.reshape(gram, tuple(gram.shape[:-4]) + (r * r, r * r))

    def reduced_log_det(self, theta, metric):
        if not isinstance(metric, EuclideanMetric):
            return NotImplemented
        sig = _top_singular_values(theta, self.p, self.q, self.r)
        with np.errstate(divide="ignore"):
            return np.sum(np.log(sig[..., :, None] + sig[..., None, :]), axis=(-2, -1))


def _gl_family(name, p, q, r, metric, names, paper_condition, notes):
    kern = _GLKernels(p, q, r)
    action = LieGroupAction(
        kern.act, kern.n, kern.m, invariant=_product_invariant(p, q, r),
        fundamental_fields=kern.fields, orbit_gram=kern.orbit_gram,
        reduced_log_det=kern.reduced_log_det, name=name,
    )
    sym = Symmetry(action, metric, name=name)
    pack, unpack = _pack_pair(names, p, q, r)
    first, second = names

    def gram_gap(theta):
        u, v = _split(np.asarray(theta, dtype=float), p, q, r)
        cu = np.swapaxes(u, -1, -2) @ u
        cv = np.swapaxes(v, -1, -2) @ v
        return np.linalg.norm(cu - cv, axis=(-2, -1)) / np.linalg.norm(cu + cv, axis=(-2, -1))

    euclid = isinstance(sym.metric, EuclideanMetric)
    return CatalogEntry(
        name=name, group=f"GL({r})", symmetry=sym, pack=pack, unpack=unpack,
        random_point=_random_normal(kern.n),
        orbit_gram_formula=f"H = {first}^T{first} (+) {second}^T{second} (Kronecker sum, "
                           "Euclidean)",
        moment_map_formula="none: g(xi_X, .) not closed for off-diagonal X; zero set of "
                           f"({first}^T{first} - {second}^T{second})/2 = min-norm points",
        argmin_condition=(f"{first}^T{first} = {second}^T{second}; min = sum_ij log(sigma_i + "
                          "sigma_j)") if euclid else "stationarity (no closed form)",
        paper_condition=paper_condition,
        paper_reduced_bias=lambda theta: np.full(np.shape(theta)[:-1], -np.inf),
        argmin_residual=gram_gap if euclid else None, paper_residual=None,
        expected_status="minimum", notes=notes, extra={"sizes": (p, q, r)},
    )


def gl_factorization(p=4, q=3, r=2, metric=None):
    """``W = U V^T`` with the full GL(r) action ``(U, V) -> (U R, V R^{-T})``.

    Parameters
    ----------
    p, q, r : int
    metric : optional

    Returns
    -------
    entry : CatalogEntry
        Euclidean closed form ``min log det H = sum_{i,j} log(sigma_i + sigma_j)`` (finite:
        ``expected_status == "minimum"``, against the paper's ``-inf``), attained on
        ``U^T U = V^T V``.
    """
    p, q, r = _check_sizes(p=p, q=q, r=r)
    return _gl_family(
        "gl_factorization", p, q, r, metric, ("U", "V"),
        paper_condition="no finite minimiser, inf log det H = -inf (sec. 3.2); at the balanced "
                        "point log det H = sum_ij log(sigma_i + sigma_j) (eq. 22)",
        notes="Computed: log det H >= r^2 log 2 + r sum log sigma_j, minimum sum_ij "
              "log(sigma_i + sigma_j) at U^T U = V^T V; the paper's escape family "
              "R = diag(g, 1/g) sends alpha_1 + beta_2 -> 0 but alpha_2 + beta_1 -> inf.",
    )


def attention_gl(seq_len=5, d=3, metric=None):
    """Attention ``Q K^T`` with the full GL(d) gauge ``(Q, K) -> (Q R, K R^{-T})``.

    Parameters
    ----------
    seq_len, d : int
    metric : optional

    Returns
    -------
    entry : CatalogEntry
        As :func:`gl_factorization` with ``(U, V) = (Q, K)``.
    """
    seq_len, d = _check_sizes(seq_len=seq_len, d=d)
    return _gl_family(
        "attention_gl", seq_len, seq_len, d, metric, ("Q", "K"),
        paper_condition="GL(d) gauge (app. A.8 eq. 45), restricted to the diagonal because the "
                        "full group is said to have no finite minimiser (sec. 3.2)",
        notes="Same algebra as gl_factorization: finite minimum on Q^T Q = K^T K.",
    )


# -- PCA, right O(r) -----------------------------------------------------------------------------
def _antisymmetric_basis(r):
    pairs = list(itertools.combinations(range(r), 2))
    basis = np.zeros((len(pairs), r, r))
    for k, (i, j) in enumerate(pairs):
        basis[k, i, j], basis[k, j, i] = 1.0, -1.0
    return basis, pairs


def _row_weights(metric, d, r):
    """``G [d, d]`` when the metric is ``G (x) I_r`` on ``W [d, r]`` (then O(r)-invariant)."""
    mat = _constant_matrix(metric)
    if mat is None:
        return None
    if isinstance(mat, str):
        return np.eye(d)
    block = mat.reshape(d, r, d, r)
    rows = block[:, 0, :, 0]
    expected = np.einsum("ik,ce->icke", rows, np.eye(r))
    if np.max(np.abs(block - expected)) > STRUCTURE_RTOL * np.max(np.abs(mat)):
        return None
    return rows


def pca_orthogonal(d=4, r=3, metric=None):
    """PCA's ``W [d, r]`` with the right O(r) action ``W -> W R`` (paper appendix B).

    Parameters
    ----------
    d, r : int
    metric : optional
        Metric on ``theta = W.ravel()``. For metrics of the form ``G (x) I_r`` (Euclidean
        included) the action is isometric and ``log det H`` is constant on orbits.

    Returns
    -------
    entry : CatalogEntry
        ``log det H = sum_{i<j} log(lambda_i + lambda_j)``, ``lambda = eig(W^T G W)``, in the
        basis ``E_ij - E_ji`` (the paper's orthonormal basis adds ``-(r(r-1)/2) log 2``).
    """
    d, r = _check_sizes(d=d, r=r)
    if r < 2:
        raise ShapeError(f"O(r) needs r >= 2 for a continuous symmetry, got r = {r}.")
    basis, pairs = _antisymmetric_basis(r)
    m, n = len(pairs), d * r

    def shape_w(theta):
        return anp.reshape(theta, tuple(theta.shape[:-1]) + (d, r))

    def act(t, theta):
        gen = anp.einsum("...k,kef->...ef", t, basis)
        w2 = anp.matmul(shape_w(theta), _expm_autograd(gen))
        return anp.reshape(w2, tuple(w2.shape[:-2]) + (n,))

    def fields(theta):
        xi = anp.einsum("...ie,kef->...kif", shape_w(theta), basis)
        return anp.reshape(xi, tuple(xi.shape[:-2]) + (n,))

    def gram_matrix(theta, metric):
        rows = _row_weights(metric, d, r)
        if rows is None:
            return None
        w = shape_w(theta)
        return anp.matmul(anp.swapaxes(w, -1, -2), anp.einsum("ik,...ke->...ie", rows, w))

    def orbit_gram(theta, metric):
        c = gram_matrix(theta, metric)
        if c is None:
            return NotImplemented
        # tr(A_k^T C A_l)
        return anp.einsum("kef,...eg,lgf->...kl", basis, c, basis)

    def reduced_log_det(theta, metric):
        c = gram_matrix(np.asarray(theta, dtype=float), metric)
        if c is None:
            return NotImplemented
        lam = np.linalg.eigvalsh(c)
        iu = np.triu_indices(r, 1)
        with np.errstate(divide="ignore"):
            return np.sum(np.log((lam[..., :, None] + lam[..., None, :])[..., iu[0], iu[1]]),
                          axis=-1)

    def invariant(theta):
        w = shape_w(theta)
        out = anp.matmul(w, anp.swapaxes(w, -1, -2))
        return anp.reshape(out, tuple(out.shape[:-2]) + (d * d,))

    action = LieGroupAction(act, n, m, invariant=invariant, fundamental_fields=fields,
                            orbit_gram=orbit_gram, reduced_log_det=reduced_log_det,
                            name="pca_orthogonal")
    sym = Symmetry(action, metric, name="pca_orthogonal")
    isometric = _row_weights(sym.metric, d, r) is not None

    pack, unpack, _ = block_layout(W=(d, r))

    def paper_bias(theta):
        w = np.asarray(shape_w(np.asarray(theta, dtype=float)))
        lam = np.linalg.eigvalsh(np.swapaxes(w, -1, -2) @ w)
        iu = np.triu_indices(r, 1)
        return np.sum(np.log((lam[..., :, None] + lam[..., None, :])[..., iu[0], iu[1]]), -1)

    return CatalogEntry(
        name="pca_orthogonal", group=f"O({r})", symmetry=sym, pack=pack, unpack=unpack,
        random_point=_random_normal(n),
        orbit_gram_formula="H_kl = tr(A_k^T W^T W A_l); eigenvalues lambda_i + lambda_j",
        moment_map_formula="none: generators antisymmetric, g(xi, .) not closed",
        argmin_condition=("none: log det H constant on orbits" if isometric
                          else "stationarity (metric not O(r)-invariant)"),
        paper_condition="log det G = sum_{i<j} log(lambda_i + lambda_j) + const, independent "
                        "of the orbit point (app. B)",
        paper_reduced_bias=paper_bias, argmin_residual=None, paper_residual=None,
        expected_status="constant" if isometric else "minimum",
        notes="Agrees with the paper (its orthonormal basis shifts the constant).",
        extra={"sizes": (d, r), "basis": basis},
    )
