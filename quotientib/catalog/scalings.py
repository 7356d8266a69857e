"""Scaling symmetries: ``uv``, Hadamard ``u ⊙ v``, linear features ``z = A w`` and blocks.

All of them are tori acting diagonally, ``theta -> theta * exp(t @ W)`` with a weight matrix
``W`` of shape ``[m, n]`` (one row per group direction; ``+p`` on the coordinates that are
scaled up, ``-q`` on those scaled down). :func:`torus_action` builds such an action with
analytic fundamental fields ``xi_a = W_a * theta`` and, per metric, the analytic orbit Gram,
moment map and reduced log-determinant where they exist:

* orbit Gram ``H = (W theta) diag(g) (W theta)^T`` for diagonal metrics (Euclidean included);
* moment map ``mu_a = theta^T g diag(W_a) theta / 2`` for every constant metric with
  ``g_kl = 0`` whenever coordinates ``k`` and ``l`` carry different weight columns (exactly the
  constant metrics for which the 1-forms ``g(xi_a, .)`` are closed);
* ``min_orbit log det H`` in closed form when the supports of the generators are disjoint and
  either the metric is diagonal (any weights ``+p, -q``: per direction
  ``min_t P e^{2pt} + N e^{-2qt} = (1 + p/q) (P^q N^p (q/p)^p)^{1/(p+q)}``), or the weights are
  ``+-1`` and the metric does not couple different directions (per direction
  ``min_t A e^{2t} + B e^{-2t} + C = 2 sqrt(A B) + C``, with ``C = -2 theta_+^T g theta_-``).
"""

import autograd.numpy as anp
import numpy as np

from quotientib.action import LieGroupAction
from quotientib.catalog._entry import CatalogEntry, block_layout
from quotientib.catalog._torus import WeightSpaceTorus
from quotientib.errors import ShapeError
from quotientib.metric import ConstantMetric, EuclideanMetric
from quotientib.symmetry import Symmetry

__all__ = [
    "torus_action",
    "uv",
    "hadamard",
    "linear_features",
    "block_scaling",
    "difference_operator",
    "cosine_basis",
]

#: Off-diagonal entries of a constant metric below this (relative) count as zero.
STRUCTURE_RTOL = 1e-14


# -- metric structure helpers (shared by the catalog modules) ----------------------------------
def _constant_matrix(metric):
    """The constant metric matrix, ``"identity"`` for Euclidean, or None (not constant/known)."""
    if isinstance(metric, EuclideanMetric):
        return "identity"
    if isinstance(metric, ConstantMetric):
        return metric.matrix
    return None


def _metric_diagonal(metric, n):
    """Diagonal ``[n]`` of a diagonal constant metric, else None."""
    mat = _constant_matrix(metric)
    if mat is None:
        return None
    if isinstance(mat, str):
        return np.ones(n)
    off = mat - np.diag(np.diag(mat))
    if np.max(np.abs(off)) > STRUCTURE_RTOL * np.max(np.abs(mat)):
        return None
    return np.diag(mat).copy()


def make_metric(kind, n, rng):
    """A constant metric of a named kind, for tests and the catalog table.

    Parameters
    ----------
    kind : {"euclidean", "diagonal", "spd"}
    n : int
    rng : numpy.random.Generator

    Returns
    -------
    spec : None or ndarray
        None (Euclidean), a diagonal ``[n, n]`` or a dense SPD ``[n, n]`` matrix.
    """
    if kind in (None, "euclidean"):
        return None
    if kind == "diagonal":
        return np.diag(rng.uniform(0.5, 2.0, n))
    if kind == "spd":
        b = rng.standard_normal((n, n))
        return b @ b.T / n + 0.5 * np.eye(n)
    raise ValueError(f"Expected `metric` in {{'euclidean', 'diagonal', 'spd'}}, got {kind!r}.")


def _random_normal(n):
    def random_point(rng, batch_shape=()):
        return rng.standard_normal(tuple(batch_shape) + (n,))

    return random_point


# -- the torus kernel --------------------------------------------------------------------------
class _Torus(WeightSpaceTorus):
    """A diagonal torus ``theta -> theta * exp(t @ W)`` with the scaling families' closed forms.

    Action, fields, orbit Gram and moment map are those of :class:`WeightSpaceTorus` (no
    basis: every coordinate is scaled on its own); this class adds the closed-form
    ``min_orbit log det H`` and the argmin residual for tori whose directions each scale one
    group of coordinates up (weight ``p_a``) and a disjoint group down (weight ``q_a``).
    """

    def __init__(self, weights):
        w = np.asarray(weights, dtype=float)
        if w.ndim != 2:
            raise ShapeError(f"Expected `weights` of shape (m, n), got {w.shape}.")
        super().__init__(w)
        self.w = w
        self.m, self.n = w.shape
        nonzero = w != 0
        self.disjoint = bool(np.all(nonzero.sum(axis=0) <= 1))
        self.pos = np.where(w > 0, w, 0.0)
        self.neg = np.where(w < 0, -w, 0.0)
        # Per direction: one up-weight p_a and one down-weight q_a (needed by the closed form).
        self.p = np.array([_single_value(row[row > 0]) for row in w])
        self.q = np.array([_single_value(-row[row < 0]) for row in w])
        self.uniform = bool(np.all(np.isfinite(self.p)) and np.all(np.isfinite(self.q)))
        self.unit = self.uniform and bool(np.all(self.p == 1) and np.all(self.q == 1))
        # Coordinates with equal weight columns may be coupled by a metric without breaking
        # closedness; label them by their column.
        _, self.column_class = np.unique(w.T, axis=0, return_inverse=True)
        self.column_class = self.column_class.ravel()
        self.label = np.where(nonzero.any(axis=0), np.argmax(nonzero, axis=0), -1)
        self._cache = {}

    # metric classification, cached per metric object (a metric is immutable)
    def _info(self, metric):
        key = id(metric)
        if key not in self._cache:
            self._cache[key] = (metric, self._classify(metric))
        return self._cache[key][1]

    def _classify(self, metric):
        mat = _constant_matrix(metric)
        if mat is None:
            return {"kind": "unknown"}
        diag = _metric_diagonal(metric, self.n)
        if diag is not None:
            return {"kind": "diagonal", "diag": diag}
        scale = np.max(np.abs(mat))
        small = np.abs(mat) <= STRUCTURE_RTOL * scale
        cls = self.column_class
        closed = bool(np.all(small | (cls[:, None] == cls[None, :])))
        lab = self.label
        moved = lab >= 0
        cross = moved[:, None] & moved[None, :] & (lab[:, None] != lab[None, :])
        uncoupled = bool(np.all(small | ~cross))
        return {"kind": "dense", "matrix": mat, "closed": closed, "uncoupled": uncoupled}

    def _up_down(self, theta, info):
        """Per direction: (A, B, C) = (|theta_+|_g^2, |theta_-|_g^2, -2 theta_+ g theta_-)."""
        if info["kind"] == "diagonal":
            sq = info["diag"] * theta ** 2
            a = sq @ (self.pos > 0).T.astype(float)
            b = sq @ (self.neg > 0).T.astype(float)
            return a, b, np.zeros_like(a)
        mat = info["matrix"]
        up = theta[..., None, :] * (self.pos > 0)
        down = theta[..., None, :] * (self.neg > 0)
        a = np.einsum("...ak,kl,...al->...a", up, mat, up)
        b = np.einsum("...ak,kl,...al->...a", down, mat, down)
        c = -2.0 * np.einsum("...ak,kl,...al->...a", up, mat, down)
        return a, b, c

    def reduced_log_det(self, theta, metric):
        info = self._info(metric)
        if not self.disjoint or not self.uniform or info["kind"] == "unknown":
            return NotImplemented
        theta = np.asarray(theta, dtype=float)
        if info["kind"] == "diagonal":
            sq = info["diag"] * theta ** 2
            big_p = sq @ (self.pos ** 2).T
            big_n = sq @ (self.neg ** 2).T
            p, q = self.p, self.q
            with np.errstate(divide="ignore"):
                per = (np.log1p(p / q)
                       + (q * np.log(big_p) + p * np.log(big_n) + p * np.log(q / p)) / (p + q))
            return np.sum(per, axis=-1)
        if not (self.unit and info["uncoupled"]):
            return NotImplemented
        a, b, c = self._up_down(theta, info)
        with np.errstate(divide="ignore"):
            return np.sum(np.log(2.0 * np.sqrt(a * b) + c), axis=-1)

    def argmin_residual(self, metric):
        """``theta -> [...]``, zero where every direction sits at its argmin, or None."""
        info = self._info(metric)
        if not self.disjoint or not self.uniform or info["kind"] == "unknown":
            return None
        if info["kind"] == "diagonal":
            def residual(theta):
                sq = info["diag"] * np.asarray(theta) ** 2
                up = self.p * (sq @ (self.pos ** 2).T)
                down = self.q * (sq @ (self.neg ** 2).T)
                return np.max(np.abs(up - down) / (up + down), axis=-1)

            return residual
        if not (self.unit and info["uncoupled"]):
            return None

        def residual(theta):
            a, b, _ = self._up_down(np.asarray(theta, dtype=float), info)
            return np.max(np.abs(a - b) / (a + b), axis=-1)

        return residual


def _single_value(values):
    """The common value of a 1-D array, or NaN when it is empty or not constant."""
    if values.size == 0 or np.ptp(values) != 0:
        return np.nan
    return float(values[0])


def torus_action(weights, *, invariant=None, name=None):
    """Diagonal torus action ``theta -> theta * exp(t @ W)`` with analytic hooks.

    Parameters
    ----------
    weights : array_like, shape=[m, n]
        Row ``a`` holds the exponents of direction ``a`` (e.g. ``+1`` on ``u_i``, ``-1`` on
        ``v_i``).
    invariant : callable, optional
        The invariant map ``h``.
    name : str, optional

    Returns
    -------
    action : LieGroupAction
        With analytic fields ``xi_a = W_a * theta``, analytic orbit Gram for diagonal metrics,
        moment map for constant metrics that make ``g(xi_a, .)`` closed, and the closed-form
        ``min_orbit log det H`` described in the module docstring. The kernels are in
        ``action.torus``.

    Examples
    --------
    >>> import numpy as np
    >>> action = torus_action([[1.0, -1.0]])
    >>> action.fundamental_fields(np.ones((3, 2))).shape
    (3, 1, 2)
    """
    torus = _Torus(weights)
    action = LieGroupAction(
        torus.act, torus.n, torus.m, invariant=invariant, fundamental_fields=torus.fields,
        orbit_gram=torus.orbit_gram, moment_map=torus.moment_map,
        reduced_log_det=torus.reduced_log_det, name=name or "torus",
    )
    action.torus = torus
    return action


def _pair_weights(m):
    """Weights of ``(u_i, v_i) -> (e^{t_i} u_i, e^{-t_i} v_i)`` on ``theta = (u, v)``."""
    eye = np.eye(m)
    return np.concatenate([eye, -eye], axis=1)


def _balance_ratio(theta, m):
    """``max_i |u_i^2 - v_i^2| / (u_i^2 + v_i^2)`` on ``theta = (u, v)``."""
    u, v = theta[..., :m], theta[..., m:]
    return np.max(np.abs(u ** 2 - v ** 2) / (u ** 2 + v ** 2), axis=-1)


def _hadamard_family(name, m, invariant, metric, *, paper_bias, paper_condition, notes,
                     extra=None, pack_names=("u", "v")):
    action = torus_action(_pair_weights(m), invariant=invariant, name=name)
    sym = Symmetry(action, metric, name=name)
    torus = action.torus
    first, second = pack_names

    pack, unpack, _ = block_layout(**{first: (m,), second: (m,)})

    info = torus._info(sym.metric)
    if info["kind"] == "diagonal":
        argmin = "a_i u_i^2 = b_i v_i^2 (g = diag(a, b))"
        moment = "mu_i = (a_i u_i^2 - b_i v_i^2)/2"
        if np.allclose(info["diag"], 1.0):
            argmin, moment = "|u_i| = |v_i|", "mu_i = (u_i^2 - v_i^2)/2"
    elif info["kind"] == "dense" and info["uncoupled"]:
        argmin = "u_i^T g_uu u_i = v_i^T g_vv v_i (g coupling u_i with v_i only)"
        moment = ("mu_i = (theta^T g D_i theta)/2" if info["closed"]
                  else "none: g couples u_i and v_i, d(g xi_i) = 2 g_uv du^dv != 0")
    else:
        argmin = "stationarity of log det H along the orbit (no closed form for this metric)"
        moment = "none for this metric" if info["kind"] == "dense" and not info["closed"] \
            else "theta^T g D_i theta / 2"
    return CatalogEntry(
        name=name, group=f"(R_>0)^{m}", symmetry=sym, pack=pack, unpack=unpack,
        random_point=_random_normal(2 * m),
        orbit_gram_formula="H = diag(u_i^2 + v_i^2) (Euclidean); (W theta) g (W theta)^T",
        moment_map_formula=moment, argmin_condition=argmin, paper_condition=paper_condition,
        paper_reduced_bias=paper_bias, argmin_residual=torus.argmin_residual(sym.metric),
        paper_residual=lambda theta: _balance_ratio(np.asarray(theta), m),
        expected_status="minimum", notes=notes, extra=dict(extra or {}),
    )


def uv(metric=None):
    """The scalar factorisation ``w = u v`` with ``(u, v) -> (e^t u, e^{-t} v)``.

    Under ``g = diag(a, b)``: ``H = a u^2 + b v^2``, moment map ``mu = (a u^2 - b v^2)/2``,
    argmin of ``log det H`` at ``a u^2 = b v^2`` with value ``log(2 sqrt(ab) |uv|)``. Under a
    full SPD ``g = [[a, c], [c, b]]``: ``H = a u^2 + b v^2 - 2 c uv``, the argmin is still
    ``a u^2 = b v^2`` with value ``log(2 sqrt(ab) |uv| - 2 c uv)``, and there is no moment map
    (``d(g xi) = 2c du ^ dv``).

    Parameters
    ----------
    metric : None, array_like of shape [2, 2] or [2], or MetricField, optional
        Metric on ``theta = (u, v)``.

    Returns
    -------
    entry : CatalogEntry
        ``theta = (u, v)``, shape ``[..., 2]``; invariant ``h = u v`` of shape ``[..., 1]``.
    """
    return _hadamard_family(
        "uv", 1, lambda theta: theta[..., :1] * theta[..., 1:], metric,
        paper_bias=lambda theta: np.log(2.0 * np.abs(np.asarray(theta)[..., 0]
                                                     * np.asarray(theta)[..., 1])),
        paper_condition="u = v, balanced slice chi = (u^2 - v^2)/2 (v2 eq. 5); L_eff = L + "
                        "(T/2) log theta (eq. 7)",
        notes="The paper's eq. 7 drops the constant: min log det H = log(2|uv|).",
    )


def hadamard(m=4, metric=None):
    """Hadamard factorisation ``w = u ⊙ v`` with the coordinate-wise scaling torus.

    Parameters
    ----------
    m : int
        Number of coordinates.
    metric : optional
        Metric on ``theta = (u, v)`` of shape ``[2m]``.

    Returns
    -------
    entry : CatalogEntry
        Closed form ``min log det H = sum_i log 2|u_i v_i|`` (Euclidean).
    """
    return linear_features("identity", m=m, metric=metric, name="hadamard")


def difference_operator(d):
    """Discrete gradient ``(D w)_0 = w_0``, ``(D w)_i = w_i - w_{i-1}``; ``D^{-1}`` is cumsum.

    Parameters
    ----------
    d : int

    Returns
    -------
    op : ndarray, shape=[d, d]
    """
    return np.eye(d) - np.eye(d, k=-1)


def cosine_basis(d):
    """Orthonormal DCT-II matrix ``C`` (``z = C w`` are cosine coefficients).

    Parameters
    ----------
    d : int

    Returns
    -------
    op : ndarray, shape=[d, d]
    """
    k = np.arange(d)[:, None]
    j = np.arange(d)[None, :]
    op = np.cos(np.pi * k * (2 * j + 1) / (2 * d)) * np.sqrt(2.0 / d)
    op[0] /= np.sqrt(2.0)
    return op


_OPERATORS = {"identity": np.eye, "gradient": difference_operator, "tv": difference_operator,
              "cosine": cosine_basis}


def linear_features(operator="identity", m=4, metric=None, name=None):
    """Linear features ``z = A w`` factorised as ``z = u ⊙ v``, so ``w = A^{-1}(u ⊙ v)``.

    Parameters
    ----------
    operator : {"identity", "gradient", "tv", "cosine"} or array_like, shape=[m, m]
        The operator ``A`` (square and invertible); "gradient"/"tv" is the discrete gradient
        (``w = cumsum(u ⊙ v)``), "cosine" the orthonormal DCT-II.
    m : int
        Size when ``operator`` is a name.
    metric : optional
        Metric on ``theta = (u, v)``, shape ``[2m]``.
    name : str, optional

    Returns
    -------
    entry : CatalogEntry
        Invariant ``h(theta) = w = A^{-1}(u ⊙ v)``, shape ``[..., m]``; the paper's closed form
        ``sum_i log 2|(A w)_i|``. ``entry.extra["operator"]`` holds ``A``.

    Raises
    ------
    ShapeError
        If ``A`` is not a square 2-D array, or is singular (then ``w`` is not determined by
        the features).
    """
    if isinstance(operator, str):
        if operator not in _OPERATORS:
            raise ValueError(f"Unknown operator {operator!r}; use one of {sorted(_OPERATORS)} "
                             "or pass a matrix.")
        label = operator
        op = _OPERATORS[operator](int(m))
    else:
        label = "custom"
        op = np.asarray(operator, dtype=float)
    if op.ndim != 2 or op.shape[0] != op.shape[1] or op.shape[0] < 1:
        raise ShapeError(
            f"Expected the operator `A` to be a square matrix of shape (m, m), got shape "
            f"{op.shape}; the factorisation z = u * v needs one feature per coordinate of w."
        )
    m = op.shape[0]
    sv = np.linalg.svd(op, compute_uv=False)
    if sv[-1] <= 1e-12 * sv[0]:
        raise ShapeError(
            f"The operator `A` of shape {op.shape} has rank {int(np.sum(sv > 1e-12 * sv[0]))} "
            f"< {m}: w = A^-1 (u * v) is not defined."
        )
    inverse = np.linalg.inv(op)

    def invariant(theta):
        return anp.matmul(theta[..., :m] * theta[..., m:], inverse.T)

    def paper_bias(theta):
        theta = np.asarray(theta)
        features = invariant(theta) @ op.T
        return np.sum(np.log(2.0 * np.abs(features)), axis=-1)

    entry_name = name or f"linear_features[{label}]"
    return _hadamard_family(
        entry_name, m, invariant, metric, paper_bias=paper_bias,
        paper_condition="|u_i| = |v_i| (v2 eq. 16; v1 Prop. 2)",
        notes="Paper: min log det H = sum_i log|(A w)_i| + const, const = m log 2.",
        extra={"operator": op},
    )


def block_scaling(group_sizes=(1, 2, 3), metric=None):
    """Block scaling ``w_g = s_g t_g`` (group lasso design, paper appendix D.2).

    Parameters
    ----------
    group_sizes : sequence of int
        Block sizes ``k_g``.
    metric : optional
        Metric on ``theta = (s, t)`` of shape ``[G + sum_g k_g]``.

    Returns
    -------
    entry : CatalogEntry
        ``theta = (s [G], t [d])``; invariant ``w = (s_g t_g)_g`` of shape ``[..., d]``.
        Closed form ``min log det H = sum_g log 2 |w_g|`` (Euclidean).
    """
    sizes = [int(k) for k in group_sizes]
    if not sizes or min(sizes) < 1:
        raise ShapeError(f"Expected positive block sizes, got {group_sizes!r}.")
    n_groups, d = len(sizes), sum(sizes)
    weights = np.zeros((n_groups, n_groups + d))
    owner = np.repeat(np.arange(n_groups), sizes)
    weights[np.arange(n_groups), np.arange(n_groups)] = 1.0
    weights[owner, n_groups + np.arange(d)] = -1.0

    def invariant(theta):
        return theta[..., n_groups + np.arange(d)] * theta[..., owner]

    def block_norms(theta):
        w = invariant(np.asarray(theta))
        return np.sqrt(np.stack([np.sum(w[..., owner == g] ** 2, axis=-1)
                                 for g in range(n_groups)], axis=-1))

    action = torus_action(weights, invariant=invariant, name="block_scaling")
    sym = Symmetry(action, metric, name="block_scaling")

    pack, unpack, _ = block_layout(s=(n_groups,), t=(d,))

    def paper_residual(theta):
        theta = np.asarray(theta)
        s2 = theta[..., :n_groups] ** 2
        t2 = np.stack([np.sum(theta[..., n_groups:][..., owner == g] ** 2, axis=-1)
                       for g in range(n_groups)], axis=-1)
        return np.max(np.abs(s2 - t2) / (s2 + t2), axis=-1)

    return CatalogEntry(
        name="block_scaling", group=f"(R_>0)^{n_groups}", symmetry=sym, pack=pack,
        unpack=unpack, random_point=_random_normal(n_groups + d),
        orbit_gram_formula="H = diag(s_g^2 + |t_g|^2) (Euclidean)",
        moment_map_formula="mu_g = (s_g^2 - |t_g|^2)/2 (Euclidean)",
        argmin_condition="s_g^2 = |t_g|^2 (Euclidean; a_g s_g^2 = |t_g|_b^2 diagonal)",
        paper_condition="s_g^2 = |t_g|^2, min s_g^2 + |t_g|^2 = 2|w_g| (app. D.2 eq. 62)",
        paper_reduced_bias=lambda theta: np.sum(np.log(2.0 * block_norms(theta)), axis=-1),
        argmin_residual=action.torus.argmin_residual(sym.metric),
        paper_residual=paper_residual, expected_status="minimum",
        notes=("min log det H = sum_g log 2|w_g| (log group sparsity); the paper's eq. 63 "
               "calls the reduced potential the group lasso sum_g |w_g|, which is "
               "min (|s|^2 + |t|^2)/2, the min-norm value, not the log det one."),
        extra={"group_sizes": tuple(sizes), "block_norms": block_norms},
    )
