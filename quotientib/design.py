"""Inverse design: from a target bias to a parameterization whose symmetry induces it.

Paper sec. 3 (Propositions 2-3) and appendix D: choose linear features ``z = A w`` of the
predictor ``w`` and factor them redundantly; the scaling symmetry of the factorisation then
induces, at temperature ``T``, the reduced bias ``(T/2) min_orbit log det H``:

* :func:`log_sparsity`: ``z_i = u_i v_i`` with ``(u_i, v_i) -> (l u_i, v_i / l)``; bias
  ``(T/2) sum_i log 2|(A w)_i|``. ``A = I`` gives an l1-like bias, ``A = D`` (discrete
  gradient) a total-variation one: ``w = cumsum(u * v)``.
* :func:`group_sparsity`: ``z_g = s_g t_g`` (a scalar times a vector per group) with
  ``(s_g, t_g) -> (l s_g, t_g / l)``; bias ``(T/2) sum_g log 2|z_g|``.
* :func:`log_spectral`: ``Z = A(w) = U V^T`` with column scaling (the commuting diagonal
  subalgebra of gl(r)); at the SVD-aligned representative the bias is
  ``(T/2) sum_j log 2 sigma_j(Z)``. With the full GL(r) symmetry the computed bias is
  ``(T/2) sum_{i,j} log(sigma_i + sigma_j)`` (finite; see docs/balance.md).

The map from parameters to ``w`` is ``w = A^+ z``. It parameterises every ``w`` exactly once
per orbit when ``A`` is square and invertible. For a tall injective ``A`` (more features than
``dim w``) ``w = A^+ z`` is the least-squares solution, and the predicted bias
``sum log|(A w)_i|`` holds on the parameters with ``z`` in the range of ``A`` (``condition``
says so); a non-injective ``A`` is refused, since ``A^+ z`` would only reach its row space.

Every predicted bias is computed from the parameterization's :class:`~quotientib.Symmetry`
by :func:`quotientib.balance.reduced_bias` at a representative of ``w``; the tests cross-check
it against the closed forms.
"""

from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np

from quotientib._linalg import as_points
from quotientib.action import LieGroupAction
from quotientib.balance import reduced_bias

# One definition of the TV operator for the catalog, design and experiments (re-exported here).
from quotientib.catalog.scalings import difference_operator
from quotientib.errors import ShapeError
from quotientib.metric import EuclideanMetric
from quotientib.symmetry import Symmetry

__all__ = [
    "Parameterization",
    "log_sparsity",
    "group_sparsity",
    "log_spectral",
    "difference_operator",
]

#: Relative singular-value threshold below which an operator counts as rank deficient.
RANK_RTOL = 1e-10


@dataclass(frozen=True)
class Parameterization:
    """Trainable parameters ``params [..., p]`` mapped (after factorisation) to ``w [..., d]``.

    Attributes
    ----------
    name : str
    n_params : int
        ``p``, the number of trainable parameters.
    dim : int
        ``d``, the dimension of the predictor ``w``.
    symmetry : Symmetry
        The symmetry of the parameters (its invariant is ``forward``).
    condition : str
        When the predicted bias is exact (e.g. "A square and invertible").
    target : str
        The bias the construction targets, in words.
    """

    name: str
    n_params: int
    dim: int
    symmetry: Symmetry
    _forward: Callable
    _pullback: Callable
    _jvp: Callable
    _representative: Callable
    _init: Callable
    condition: str
    target: str

    def _params(self, params, name="params"):
        params = as_points(params, self.n_params, name)
        # keep autograd boxes as they are, so that forward stays differentiable
        return params.astype(float, copy=False) if isinstance(params, np.ndarray) else params

    def forward(self, params):
        """The predictor ``w`` of the parameters.

        Parameters
        ----------
        params : array_like, shape=[..., p]

        Returns
        -------
        w : ndarray, shape=[..., d]
        """
        return self._forward(self._params(params))

    def pullback(self, params, grad_w):
        """Vector-Jacobian product: ``grad_params = J(params)^T grad_w`` (analytic).

        Parameters
        ----------
        params : array_like, shape=[..., p]
        grad_w : array_like, shape=[..., d]
            Gradient of a loss with respect to ``w``.

        Returns
        -------
        grad_params : ndarray, shape=[..., p]
        """
        params = self._params(params)
        grad_w = np.asarray(as_points(grad_w, self.dim, "grad_w"), dtype=float)
        shape = np.broadcast_shapes(params.shape[:-1], grad_w.shape[:-1])
        return self._pullback(np.broadcast_to(params, shape + (self.n_params,)),
                              np.broadcast_to(grad_w, shape + (self.dim,)))

    def jvp(self, params, tangent):
        """Jacobian-vector product ``J(params) tangent``.

        Parameters
        ----------
        params : array_like, shape=[..., p]
        tangent : array_like, shape=[..., p]

        Returns
        -------
        dw : ndarray, shape=[..., d]
        """
        params = self._params(params)
        tangent = self._params(tangent, "tangent")
        shape = np.broadcast_shapes(params.shape, tangent.shape)
        return self._jvp(np.broadcast_to(params, shape), np.broadcast_to(tangent, shape))

    def init(self, rng, batch_shape=(), scale=1.0):
        """Random parameters.

        Parameters
        ----------
        rng : numpy.random.Generator
        batch_shape : tuple of int
        scale : float
            Standard deviation of each factor entry.

        Returns
        -------
        params : ndarray, shape=[*batch_shape, p]
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Expected `rng` to be a numpy.random.Generator, got "
                            f"{type(rng).__name__}.")
        return self._init(rng, tuple(batch_shape), float(scale))

    def representative(self, w):
        """Balanced parameters mapping to ``w`` (a point of the fibre over ``w``).

        Parameters
        ----------
        w : array_like, shape=[..., d]

        Returns
        -------
        params : ndarray, shape=[..., p]
        """
        w = np.asarray(as_points(w, self.dim, "w"), dtype=float)
        return self._representative(w)

    def predicted_bias(self, w, temperature, *, method="auto"):
        """The bias ``(T/2) min_orbit log det H`` the symmetry induces, as a function of ``w``.

        Computed by :func:`quotientib.balance.reduced_bias` at :meth:`representative`.

        Parameters
        ----------
        w : array_like, shape=[..., d]
        temperature : float or array_like, shape=[...]
        method : {"auto", "closed_form", "numerical"}
            Passed to :func:`~quotientib.balance.reduced_bias`.

        Returns
        -------
        bias : ndarray, shape=[...]

        Raises
        ------
        NotFreeError
            Where a feature vanishes (the orbit degenerates; the bias is ``-inf`` there).
        """
        return reduced_bias(self.symmetry, self.representative(w), temperature, method=method)


# --------------------------------------------------------------------------------------------
# operators
# --------------------------------------------------------------------------------------------
class _Operator:
    """An injective feature operator ``A [m, d]`` with its left inverse ``A^+``.

    The identity is kept implicit (no ``m x m`` products), which matters for matrix features
    where ``m = p q``.
    """

    def __init__(self, matrix, pinv, condition, identity=False, shape=None, difference=False):
        self.matrix = matrix
        self.pinv = pinv
        self.condition = condition
        self.identity = identity
        self.difference = difference
        self.shape = matrix.shape if shape is None else tuple(shape)

    def solve(self, z):
        """``w = A^+ z`` for features ``z [..., m]`` (autograd-traceable)."""
        if self.identity:
            return z
        if self.difference:
            return anp.cumsum(z, axis=-1)
        return anp.einsum("dm,...m->...d", self.pinv, z)

    def adjoint(self, grad_w):
        """``(A^+)^T grad_w``: the gradient with respect to the features."""
        if self.identity:
            return grad_w
        if self.difference:  # the transpose of a cumulative sum is the reversed one
            return np.cumsum(grad_w[..., ::-1], axis=-1)[..., ::-1]
        return grad_w @ self.pinv

    def features(self, w):
        """``z = A w``."""
        if self.identity:
            return w
        if self.difference:
            return np.diff(w, axis=-1, prepend=0.0)
        return w @ self.matrix.T


def _operator(A, name="A"):
    """Check a feature operator ``[m, d]``; return it as an :class:`_Operator`."""
    if isinstance(A, str) or not hasattr(A, "__len__") and not hasattr(A, "shape"):
        raise TypeError(f"Expected `{name}` to be an array of shape (m, d), got "
                        f"{type(A).__name__}.")
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ShapeError(
            f"Expected `{name}` to be a 2-D operator of shape (m, d) mapping w in R^d to "
            f"features in R^m, got shape {A.shape}."
        )
    if not np.all(np.isfinite(A)):
        raise ValueError(f"`{name}` has non-finite entries.")
    m, d = A.shape
    if m == d and np.array_equal(A, np.eye(d)):
        return _Operator(A, None, f"exact: {name} is the identity", identity=True)
    if m == d and np.array_equal(A, difference_operator(d)):
        return _Operator(A, None, f"exact: {name} is the discrete gradient (inverse: cumsum)",
                         difference=True)
    sv = np.linalg.svd(A, compute_uv=False)
    rank = int(np.sum(sv > RANK_RTOL * sv[0])) if sv[0] > 0 else 0
    if rank < d:
        raise ValueError(
            f"`{name}` of shape {A.shape} has rank {rank} < d = {d}: it is not injective, so "
            f"w = {name}^+ z would only reach a {rank}-dimensional subspace of R^{d} and the "
            f"features would not determine w. Use an injective operator (rank d)."
        )
    if m == d:
        return _Operator(A, np.linalg.inv(A),
                         f"exact: {name} is square and invertible (cond {sv[0] / sv[-1]:.3g})")
    return _Operator(A, np.linalg.pinv(A), (
        f"{name} is tall ({m} > {d}) and injective: w = {name}^+ z is the least-squares "
        f"solution; the bias is exact on parameters whose features z lie in range({name}) "
        "(then z = A w); off that set the fibres of params -> w are larger than the orbits"
    ))


class _SegmentSum:
    """Sums of per-coordinate values over the groups of a partial partition.

    ``group[i]`` is the group of coordinate ``i`` (-1 for none). The members of each group are
    gathered into a padded ``[G, s_max]`` index table (padding points at an appended zero), so
    a sum is one gather and one reduction: autograd-traceable, exact (no cumulative-sum
    cancellation) and without the dense ``[G, p]`` products a mask would cost.
    """

    def __init__(self, group, n_groups):
        members = [np.flatnonzero(group == g) for g in range(n_groups)]
        if any(mem.size == 0 for mem in members):
            raise ValueError("Every group of a scaling symmetry needs at least one coordinate.")
        width = max(mem.size for mem in members)
        pad = group.size  # index of the appended zero
        self.table = np.array([np.concatenate([mem, np.full(width - mem.size, pad)])
                               for mem in members])

    def __call__(self, values):
        padded = anp.concatenate([values, anp.zeros(values.shape[:-1] + (1,))], axis=-1)
        return anp.sum(padded[..., self.table], axis=-1)


def _scaling_symmetry(up, down, pairs_fn, name):
    """Symmetry ``(a_g, b_g) -> (l_g a_g, b_g / l_g)`` on params, given index masks.

    ``up[g]`` / ``down[g]`` are 0/1 masks [G, p] of the coordinates scaled up / down by
    group ``g``; each coordinate belongs to at most one group.
    """
    weights = up - down  # [G, p]
    n_groups, n = weights.shape
    if np.any(np.sum(up + down, axis=0) > 1):
        raise ValueError("A coordinate belongs to two scaling groups.")
    sign = np.sum(weights, axis=0)  # +1 up, -1 down, 0 untouched
    group = np.where(sign != 0, np.argmax(up + down, axis=0), -1)
    index = np.maximum(group, 0)
    seg_all = _SegmentSum(group, n_groups)
    seg_up = _SegmentSum(np.where(sign > 0, group, -1), n_groups)
    seg_down = _SegmentSum(np.where(sign < 0, group, -1), n_groups)

    def act(t, theta):
        return theta * anp.exp(t[..., index] * sign)

    def fields(theta):
        return weights * theta[..., None, :]

    def orbit_gram(theta, metric):
        if not isinstance(metric, EuclideanMetric):
            return NotImplemented
        return seg_all(theta ** 2)[..., :, None] * np.eye(n_groups)

    def moment_map(theta, metric):
        if not isinstance(metric, EuclideanMetric):
            return NotImplemented
        return 0.5 * seg_all(sign * theta ** 2)

    def reduced_log_det(theta, metric):
        # min_l l^2 |a|^2 + |b|^2 / l^2 = 2 |a| |b| for each group (AM-GM)
        if not isinstance(metric, EuclideanMetric):
            return NotImplemented
        a = np.sqrt(seg_up(theta ** 2))
        b = np.sqrt(seg_down(theta ** 2))
        with np.errstate(divide="ignore"):
            return np.sum(np.log(2.0 * a * b), axis=-1)

    return LieGroupAction(act, n, n_groups, invariant=pairs_fn, fundamental_fields=fields,
                          orbit_gram=orbit_gram, moment_map=moment_map,
                          reduced_log_det=reduced_log_det, name=name)


# --------------------------------------------------------------------------------------------
# factories
# --------------------------------------------------------------------------------------------
def log_sparsity(A):
    """Parameterization ``w = A^+ (u * v)`` inducing the bias ``(T/2) sum_i log 2|(A w)_i|``.

    Parameters are ``params = (u, v)``, shape ``[..., 2m]``; the symmetry is the coordinate-wise
    scaling ``(u_i, v_i) -> (l_i u_i, v_i / l_i)`` (paper Proposition 2).

    Parameters
    ----------
    A : array_like, shape=[m, d]
        Injective feature operator (``identity`` for l1, :func:`difference_operator` for total
        variation).

    Returns
    -------
    param : Parameterization

    Raises
    ------
    ShapeError
        If ``A`` is not a non-empty 2-D array.
    ValueError
        If ``A`` is not injective (rank below ``d``) or has non-finite entries.

    Examples
    --------
    >>> import numpy as np
    >>> from quotientib.design import difference_operator, log_sparsity
    >>> tv = log_sparsity(difference_operator(4))
    >>> params = np.arange(8.0)
    >>> tv.forward(params), np.cumsum(params[:4] * params[4:])
    (array([ 0.,  5., 17., 38.]), array([ 0.,  5., 17., 38.]))
    """
    op = _operator(A)
    condition = op.condition
    m, d = op.shape
    up = np.hstack([np.eye(m), np.zeros((m, m))])
    down = np.hstack([np.zeros((m, m)), np.eye(m)])

    def forward(params):
        z = params[..., :m] * params[..., m:]
        return op.solve(z)

    def pullback(params, grad_w):
        grad_z = op.adjoint(grad_w)
        return np.concatenate([grad_z * params[..., m:], grad_z * params[..., :m]], axis=-1)

    def jvp(params, tangent):
        dz = tangent[..., :m] * params[..., m:] + params[..., :m] * tangent[..., m:]
        return op.solve(dz)

    def representative(w):
        z = op.features(w)
        root = np.sqrt(np.abs(z))
        return np.concatenate([root, np.sign(z) * root], axis=-1)

    def init(rng, batch_shape, scale):
        return scale * rng.standard_normal(batch_shape + (2 * m,))

    action = _scaling_symmetry(up, down, forward, "coordinate-wise scaling (u_i, v_i)")
    return Parameterization(
        name="log_sparsity", n_params=2 * m, dim=d, symmetry=Symmetry(action),
        _forward=forward, _pullback=pullback, _jvp=jvp, _representative=representative,
        _init=init, condition=condition, target="(T/2) sum_i log 2|(A w)_i|")


def _groups(groups, m):
    """Normalise ``groups`` (sizes or index lists) to a list of index arrays partitioning m."""
    groups = list(groups)
    if not groups:
        raise ValueError("Expected at least one group, got none.")
    if all(np.ndim(g) == 0 for g in groups):
        sizes = [int(g) for g in groups]
        if any(s < 1 for s in sizes) or sum(sizes) != m:
            raise ValueError(
                f"Group sizes {sizes} must be positive and add up to the number of features "
                f"m = {m}, got total {sum(sizes)}."
            )
        bounds = np.cumsum([0] + sizes)
        return [np.arange(bounds[i], bounds[i + 1]) for i in range(len(sizes))]
    index = [np.asarray(g, dtype=int).ravel() for g in groups]
    flat = np.sort(np.concatenate(index))
    if not np.array_equal(flat, np.arange(m)):
        raise ValueError(
            f"`groups` must partition the feature indices 0..{m - 1} (each exactly once); got "
            f"{[list(g) for g in index]}."
        )
    if any(g.size == 0 for g in index):
        raise ValueError("Every group must contain at least one feature index.")
    return index


def group_sparsity(A, groups):
    """Parameterization ``(A w)_g = s_g t_g`` inducing ``(T/2) sum_g log 2|(A w)_g|``.

    Parameters are ``params = (s, t)``: one scalar ``s_g`` per group and a vector ``t_g`` of the
    group's size (``t`` stored in feature order), shape ``[..., G + m]``. The symmetry is
    ``(s_g, t_g) -> (l_g s_g, t_g / l_g)``; its orbit Gram is ``s_g^2 + |t_g|^2``, minimised to
    ``2 |s_g| |t_g| = 2 |z_g|`` (group lasso, paper appendix D).

    Parameters
    ----------
    A : array_like, shape=[m, d]
        Injective feature operator.
    groups : sequence of int or sequence of index arrays
        Group sizes (consecutive features) or the feature indices of each group (a partition
        of ``0..m-1``).

    Returns
    -------
    param : Parameterization

    Raises
    ------
    ShapeError
        If ``A`` is not a non-empty 2-D array.
    ValueError
        If ``A`` is not injective, or ``groups`` is not a partition of the features.
    """
    op = _operator(A)
    condition = op.condition
    m, d = op.shape
    index = _groups(groups, m)
    n_groups = len(index)
    member = np.zeros((n_groups, m))  # member[g, i] = 1 if feature i is in group g
    for g, idx in enumerate(index):
        member[g, idx] = 1.0
    group_of = np.argmax(member, axis=0)  # [m]
    up = np.hstack([np.eye(n_groups), np.zeros((n_groups, m))])
    down = np.hstack([np.zeros((n_groups, n_groups)), member])

    def features(params):
        return params[..., :n_groups][..., group_of] * params[..., n_groups:]

    def forward(params):
        return op.solve(features(params))

    def pullback(params, grad_w):
        grad_z = op.adjoint(grad_w)  # [..., m]
        s = params[..., :n_groups]
        t = params[..., n_groups:]
        grad_s = (grad_z * t) @ member.T
        grad_t = grad_z * s[..., group_of]
        return np.concatenate([grad_s, grad_t], axis=-1)

    def jvp(params, tangent):
        s, t = params[..., :n_groups], params[..., n_groups:]
        ds, dt = tangent[..., :n_groups], tangent[..., n_groups:]
        dz = ds[..., group_of] * t + s[..., group_of] * dt
        return op.solve(dz)

    def representative(w):
        z = op.features(w)
        norms = np.sqrt((z ** 2) @ member.T)  # [..., G]
        root = np.sqrt(norms)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(norms[..., group_of] > 0, z / root[..., group_of], 0.0)
        return np.concatenate([root, t], axis=-1)

    def init(rng, batch_shape, scale):
        return scale * rng.standard_normal(batch_shape + (n_groups + m,))

    action = _scaling_symmetry(up, down, forward, "block scaling (s_g, t_g)")
    return Parameterization(
        name="group_sparsity", n_params=n_groups + m, dim=d, symmetry=Symmetry(action),
        _forward=forward, _pullback=pullback, _jvp=jvp, _representative=representative,
        _init=init, condition=condition, target="(T/2) sum_g log 2|(A w)_g|_2")


def _gl_generators(p, q, r):
    """gl(r) on (vec U, vec V), row-major: (U, V) -> (U E, -V E^T)."""
    gens = []
    for a in range(r):
        for b in range(r):
            e = np.zeros((r, r))
            e[a, b] = 1.0
            gen = np.zeros(((p + q) * r, (p + q) * r))
            gen[:p * r, :p * r] = np.kron(np.eye(p), e.T)
            gen[p * r:, p * r:] = np.kron(np.eye(q), -e)
            gens.append(gen)
    return np.array(gens)


def log_spectral(A, shape, rank=None, *, group="columns"):
    """Parameterization ``A(w) = U V^T`` inducing a log-spectral bias.

    Parameters are ``params = (vec U, vec V)`` (row-major), shape ``[..., (p + q) r]``, and
    ``w = A^+ vec(U V^T)``.

    * ``group="columns"``: column scaling ``(U_j, V_j) -> (l_j U_j, V_j / l_j)`` (the diagonal,
      commuting subalgebra of gl(r), paper sec. 3.2). Its reduced bias at a point is
      ``sum_j log 2|U_j||V_j|``; :meth:`Parameterization.predicted_bias` evaluates it at the
      SVD-aligned representative, where it is ``(T/2) sum_j log 2 sigma_j(A(w))``.
    * ``group="gl"``: the full GL(r) symmetry; the computed minimum over the orbit is
      ``sum_{i,j} log(sigma_i + sigma_j)`` (finite, against the paper's claim of no finite
      minimiser; docs/balance.md), which the prediction reports.

    Parameters
    ----------
    A : array_like, shape=[p q, d] or None
        Injective linear map from ``w`` to ``vec Z`` (row-major ``p x q``); None for the
        identity (``d = p q``, ``w = vec Z``).
    shape : tuple of int
        ``(p, q)``, the shape of ``Z``.
    rank : int, optional
        ``r``, the inner dimension (default ``min(p, q)``).
    group : {"columns", "gl"}

    Returns
    -------
    param : Parameterization

    Raises
    ------
    ShapeError
        If ``A`` does not have ``p q`` rows.
    ValueError
        If ``A`` is not injective, ``rank`` is not in ``1..min(p, q)``, or ``group`` is unknown.
    """
    if len(shape) != 2 or int(shape[0]) < 1 or int(shape[1]) < 1:
        raise ShapeError(f"Expected `shape` = (p, q) with positive entries, got {shape!r}.")
    p, q = int(shape[0]), int(shape[1])
    r = min(p, q) if rank is None else int(rank)
    if not 1 <= r <= min(p, q):
        raise ValueError(f"Expected `rank` in 1..{min(p, q)}, got {rank!r}.")
    if group not in ("columns", "gl"):
        raise ValueError(f"Expected `group` in ('columns', 'gl'), got {group!r}.")
    if A is None:  # w = vec Z: keep the identity implicit (p q may be large)
        op = _Operator(None, None, "exact: A is the identity", identity=True,
                       shape=(p * q, p * q))
    else:
        op = _operator(A)
    condition = op.condition
    if op.shape[0] != p * q:
        raise ShapeError(
            f"Expected `A` to map w to vec(Z) with Z of shape {(p, q)}, i.e. to have {p * q} "
            f"rows, got shape {op.shape}."
        )
    d = op.shape[1]
    if r < min(p, q):
        condition += f"; rank r = {r} < min(p, q): only w with rank(A(w)) <= {r} are reachable"
    n = (p + q) * r

    def split(params):
        u = params[..., :p * r].reshape(params.shape[:-1] + (p, r))
        v = params[..., p * r:].reshape(params.shape[:-1] + (q, r))
        return u, v

    def forward(params):
        u = anp.reshape(params[..., :p * r], params.shape[:-1] + (p, r))
        v = anp.reshape(params[..., p * r:], params.shape[:-1] + (q, r))
        z = anp.matmul(u, anp.swapaxes(v, -1, -2))
        return op.solve(anp.reshape(z, params.shape[:-1] + (p * q,)))

    def pullback(params, grad_w):
        u, v = split(params)
        grad_z = (op.adjoint(grad_w)).reshape(grad_w.shape[:-1] + (p, q))
        grad_u = grad_z @ v
        grad_v = np.swapaxes(grad_z, -1, -2) @ u
        return np.concatenate([grad_u.reshape(grad_u.shape[:-2] + (p * r,)),
                               grad_v.reshape(grad_v.shape[:-2] + (q * r,))], axis=-1)

    def jvp(params, tangent):
        u, v = split(params)
        du, dv = split(tangent)
        dz = du @ np.swapaxes(v, -1, -2) + u @ np.swapaxes(dv, -1, -2)
        return op.solve(dz.reshape(dz.shape[:-2] + (p * q,)))

    def representative(w):
        z = op.features(w).reshape(w.shape[:-1] + (p, q))
        left, sig, right_t = np.linalg.svd(z, full_matrices=False)
        root = np.sqrt(sig[..., :r])
        u = left[..., :, :r] * root[..., None, :]
        v = np.swapaxes(right_t, -1, -2)[..., :, :r] * root[..., None, :]
        return np.concatenate([u.reshape(u.shape[:-2] + (p * r,)),
                               v.reshape(v.shape[:-2] + (q * r,))], axis=-1)

    def init(rng, batch_shape, scale):
        return scale * rng.standard_normal(batch_shape + (n,))

    if group == "columns":
        up = np.zeros((r, n))
        down = np.zeros((r, n))
        for j in range(r):
            up[j, j:p * r:r] = 1.0
            down[j, p * r + j::r] = 1.0
        action = _scaling_symmetry(up, down, forward, "column scaling of U V^T")
        target = "(T/2) sum_j log 2 sigma_j(A(w)) (at the SVD-aligned representative)"
    else:
        base = LieGroupAction.from_generators(_gl_generators(p, q, r))
        action = LieGroupAction(base.act, n, r * r, invariant=forward,
                                fundamental_fields=base._fields,
                                generators=base.generators, name="GL(r) on U V^T")
        target = "(T/2) sum_{i,j} log(sigma_i + sigma_j)(A(w)) (computed, full GL(r))"
    return Parameterization(
        name=f"log_spectral[{group}]", n_params=n, dim=d, symmetry=Symmetry(action),
        _forward=forward, _pullback=pullback, _jvp=jvp, _representative=representative,
        _init=init, condition=condition, target=target)
