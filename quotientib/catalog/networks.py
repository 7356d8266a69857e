r"""Catalog: scaling symmetries of networks (ReLU, homogeneous activations, circulant convolution).

Every family here is a commuting torus ``(R_>0)^m`` acting linearly and diagonally on a set of
orthogonal *weight spaces* ``V_K`` of the parameter space: in an orthonormal basis ``Q``
(the identity, or a real Fourier basis for circulant convolutions) coordinate ``i`` lies in the
weight space ``K(i)`` and

.. math:: \mathrm{act}(t, \theta) = Q\, \mathrm{diag}(e^{(C^T t)_{K(i)}})\, Q^T \theta,

with an integer (or real) weight matrix ``C`` of shape ``[m, n_spaces]``. A constant metric is
*compatible* when it does not couple different weight spaces (``Q^T g Q`` is block-diagonal);
Euclidean and the diagonal metrics that respect the blocks are. For a compatible metric, with
``s_K = |P_K theta|_g^2`` the squared g-norm of the part of ``theta`` in ``V_K``,

- ``H = C diag(s) C^T`` (orbit Gram);
- ``mu = C s / 2`` is a moment map (``d mu_a = g(xi_a, .)``; it exists *iff* the metric is
  compatible, because ``g X_a`` is symmetric iff ``g`` commutes with every generator ``X_a``);
- by Cauchy-Binet ``det H(t) = sum_S det(C_S)^2 prod_{K in S} s_K e^{2 t . c_K}`` is a sum of
  exponentials of affine functions of ``t``, so ``log det H`` is *convex* along the orbit in Lie
  coordinates and every stationary point is the global minimum.

The families (paper v1, appendix A): two-layer ReLU (A.2), circulant convolution (A.3), deep
circulant convolution (A.4), ReLU convolution channels (A.5), degree-k homogeneous activations
(A.5, remark 1), deep fully-connected ReLU (A.6).
"""

import autograd.numpy as anp
import numpy as np

from quotientib.catalog._entry import CatalogEntry, block_layout
from quotientib.catalog._torus import WeightSpaceTorus
from quotientib.metric import EuclideanMetric
from quotientib.symmetry import Symmetry

__all__ = [
    "relu_two_layer",
    "deep_relu",
    "relu_conv_channels",
    "homogeneous_activation",
    "circulant_conv",
    "deep_circulant_conv",
    "WeightSpaceTorus",
    "orbit_log_det_gradient",
    "real_fourier_basis",
]

#: Number of fixed probe inputs on which the network invariants are evaluated.
N_PROBES = 7


def orbit_log_det_gradient(torus, theta, metric):
    """Gradient of ``t -> log det H(act(t, theta))`` at ``t = 0``, for any constant metric.

    ``d/dt_a log det H = tr(H^{-1} dH/dt_a)`` with
    ``dH_bc/dt_a = g(X_b X_a theta, X_c theta) + g(X_b theta, X_c X_a theta)``. It vanishes
    exactly at the stationary points of ``log det H`` on the orbit, which for compatible
    metrics are its minimisers (convexity).

    Parameters
    ----------
    torus : WeightSpaceTorus
    theta : array_like, shape=[..., n]
    metric : MetricField
        Any metric; position-dependent ones go through autograd (one point at a time).

    Returns
    -------
    grad : ndarray, shape=[..., m]
    """
    theta = np.asarray(theta, dtype=float)
    if not metric.is_constant:
        return _orbit_gradient_autograd(torus.fields, metric, theta)
    xi = torus.fields(theta)                       # [..., m, n]
    xi2 = torus.second_fields(theta)               # [..., m(a), m(b), n]: X_a X_b theta
    gram = metric.inner_gram(xi, xi, theta)        # [..., m, m]
    # cross[a, b, c] = g(X_a X_b theta, X_c theta)
    cross = np.einsum("...abn,...cn->...abc", xi2, metric.flat(xi, theta))
    hinv = np.linalg.inv(gram)
    return 2.0 * np.einsum("...bc,...abc->...a", hinv, cross)


def _orbit_gradient_autograd(fields, metric, theta):
    """``xi_a . grad_theta log det H`` by autograd, for any metric (one point at a time)."""
    from autograd import grad

    def logdet(p):
        xi = fields(p)
        return anp.linalg.slogdet(metric.inner_gram(xi, xi, p))[1]

    flat = theta.reshape(-1, theta.shape[-1])
    out = np.stack([np.asarray(fields(p)) @ grad(logdet)(p) for p in flat])
    return out.reshape(theta.shape[:-1] + (out.shape[-1],))


# ------------------------------------------------------------------------------------------
# Small array helpers
# ------------------------------------------------------------------------------------------
def _probes(n_in, seed):
    """Fixed probe inputs ``[N_PROBES, n_in]`` (a fixed seed: h must be a fixed function)."""
    return np.random.default_rng(seed).standard_normal((N_PROBES, n_in))


def _relu(x):
    return anp.maximum(x, 0.0)


def _positive_widths(values, label):
    values = tuple(int(v) for v in values)
    if any(v < 1 for v in values):
        raise ValueError(f"Expected `{label}` to be positive integers, got {values}.")
    return values


def _pair_reduced(k):
    """``min_t log(e^{2t} s_w + k^2 e^{-2kt} s_v)`` summed over pairs, as a function of norms.

    With ``x = e^{2t} s_w`` and ``y = k^2 e^{-2kt} s_v`` the product ``x^k y = k^2 s_w^k s_v``
    is orbit-invariant and the minimum sits at ``x = k y``, where
    ``x + y = (k + 1) (k^{2-k} s_w^k s_v)^{1/(k+1)}``.
    """
    def reduced(sw, sv):
        return (np.log(k + 1.0)
                + ((2.0 - k) * np.log(k) + k * np.log(sw) + np.log(sv)) / (k + 1.0))

    return reduced


def _max_relative_gap(a, b):
    return np.max(np.abs(a - b) / (a + b), axis=-1)


# ------------------------------------------------------------------------------------------
# Neuron-wise scaling: two-layer ReLU and degree-k homogeneous activations
# ------------------------------------------------------------------------------------------
def _neuron_scaling(width, n_in, n_out, degree):
    """Coordinate weights for ``(w_j, v_j) -> (a_j w_j, a_j^{-k} v_j)``, theta = (W, V)."""
    n = width * n_in + width * n_out
    cw = np.zeros((width, n))
    for j in range(width):
        cw[j, j * n_in:(j + 1) * n_in] = 1.0
        start = width * n_in + j * n_out
        cw[j, start:start + n_out] = -float(degree)
    return cw


def homogeneous_activation(width=3, n_in=2, degree=2.0, *, n_out=1, metric=None, probe_seed=0):
    """Two-layer network with a degree-k positively homogeneous activation.

    ``f(x) = sum_j v_j phi(w_j . x)`` with ``phi(h) = max(h, 0)^k``, so
    ``(w_j, v_j) -> (a w_j, a^{-k} v_j)`` leaves ``f`` invariant. Per neuron (Euclidean)
    ``H_jj = |w_j|^2 + k^2 |v_j|^2``. Three representatives on each orbit:

    - argmin of ``log det H``: ``|w_j|^2 = k^3 |v_j|^2`` (computed; ``argmin_residual``);
    - zero of the moment map ``mu_j = (|w_j|^2 - k |v_j|^2)/2``: ``|w_j|^2 = k |v_j|^2``
      (``extra["moment_map_residual"]``);
    - the paper's printed condition (v1, A.5 remark 1, after eq. 40):
      ``|w_j|^2 = k^2 |v_j|^2`` (``paper_residual``).

    All three coincide only for ``k = 1``. The reduced log det is
    ``sum_j log(k+1) + ((2-k) log k + k log|w_j|^2 + log|v_j|^2) / (k+1)``.

    Parameters
    ----------
    width : int
        Number of hidden neurons ``p``.
    n_in : int
        Input dimension ``d``.
    degree : float
        Homogeneity degree ``k > 0``.
    n_out : int
        Output dimension (``v_j`` in ``R^{n_out}``).
    metric : None, array_like or MetricField
        Metric on ``theta = (W.ravel(), V.ravel())``; closed forms hold for any constant metric
        that does not couple different neurons' ``w`` and ``v`` blocks.
    probe_seed : int
        Seed of the fixed probe inputs of the invariant.

    Returns
    -------
    entry : CatalogEntry
    """
    width, n_in, n_out = _positive_widths((width, n_in, n_out), "width, n_in, n_out")
    k = float(degree)
    if not k > 0:
        raise ValueError(f"Expected `degree` > 0, got {degree!r}.")
    return _neuron_family(width, n_in, n_out, k, metric, probe_seed,
                          activation=lambda h: _relu(h) ** k,
                          name="homogeneous_activation")


def relu_two_layer(width=3, n_in=2, *, n_out=1, metric=None, probe_seed=0):
    """Two-layer ReLU network ``f(x) = sum_j v_j ReLU(w_j . x)`` with neuron-wise scaling.

    ``(w_j, v_j) -> (a_j w_j, v_j / a_j)``; ``H = diag(|w_j|^2 + |v_j|^2)`` (Euclidean);
    argmin of ``log det H`` and moment-map zero: ``|w_j| = |v_j|`` (paper v1 A.2, eq. 28);
    reduced log det ``sum_j log(2 |w_j| |v_j|)``.

    Parameters
    ----------
    width : int
        Number of hidden neurons ``p``.
    n_in : int
        Input dimension ``d``.
    n_out : int
        Output dimension.
    metric : None, array_like or MetricField
        Metric on ``theta = (W.ravel(), V.ravel())``.
    probe_seed : int

    Returns
    -------
    entry : CatalogEntry
    """
    width, n_in, n_out = _positive_widths((width, n_in, n_out), "width, n_in, n_out")
    return _neuron_family(width, n_in, n_out, 1.0, metric, probe_seed, activation=_relu,
                          name="relu_two_layer")


def _neuron_family(width, n_in, n_out, k, metric, probe_seed, activation, name):
    n_w = width * n_in
    n = n_w + width * n_out
    torus = WeightSpaceTorus(_neuron_scaling(width, n_in, n_out, k))
    probes = _probes(n_in, probe_seed)

    pack, unpack, _ = block_layout(W=(width, n_in), V=(width, n_out))

    def invariant(theta):
        W = theta[..., :n_w].reshape(theta.shape[:-1] + (width, n_in))
        V = theta[..., n_w:].reshape(theta.shape[:-1] + (width, n_out))
        hidden = activation(anp.einsum("...jd,pd->...pj", W, probes))
        return anp.einsum("...pj,...jo->...po", hidden, V).reshape(theta.shape[:-1] + (-1,))

    # weight spaces are sorted by weight column: find neuron j's w and v spaces
    w_space = np.array([np.flatnonzero(torus.weights[j] > 0)[0] for j in range(width)])
    v_space = np.array([np.flatnonzero(torus.weights[j] < 0)[0] for j in range(width)])

    def norms_from_s(s):
        return s[..., w_space], s[..., v_space]

    pair = _pair_reduced(k)

    def reduced_of_norms(s):
        sw, sv = norms_from_s(s)
        return np.sum(pair(sw, sv), axis=-1)

    action = torus.build_action(invariant=invariant, reduced_log_det_of_norms=reduced_of_norms,
                                name=name)
    sym = Symmetry(action, metric)
    met = sym.metric

    def _norms_or_euclid(theta):
        s = torus.space_norms(theta, met)
        if s is None:  # incompatible metric: conditions are stated with Euclidean norms
            s = torus.space_norms(theta, EuclideanMetric(n))
        return norms_from_s(s)

    def residual(factor):
        def res(theta):
            sw, sv = _norms_or_euclid(np.asarray(theta, dtype=float))
            return _max_relative_gap(sw, factor * sv)
        return res

    def paper_reduced(theta):
        # log det H at the paper's representative |w|^2 = k^2 |v|^2, where
        # x = e^{2t}|w|^2 = y = k^2 e^{-2kt}|v|^2 and x^{k+1} = k^2 |w|^{2k} |v|^2.
        sw, sv = _norms_or_euclid(np.asarray(theta, dtype=float))
        return np.sum(np.log(2.0) + (2.0 * np.log(k) + k * np.log(sw) + np.log(sv)) / (k + 1),
                      axis=-1)

    def log_det_at_moment_zero(theta):
        # at |w|^2 = k |v|^2: y = k x and x^k y = k^2 s_w^k s_v, so x = (k s_w^k s_v)^(1/(k+1))
        sw, sv = _norms_or_euclid(np.asarray(theta, dtype=float))
        return np.sum(np.log(k + 1.0) + (np.log(k) + k * np.log(sw) + np.log(sv)) / (k + 1),
                      axis=-1)

    def random_point(rng, batch_shape=()):
        return rng.standard_normal(tuple(batch_shape) + (n,))

    kstr = "" if k == 1 else "k^2 "
    if k == 1:
        argmin_cond = "|w_j|_g = |v_j|_g for every neuron j"
        paper_cond = "|w_j| = |v_j| (v1 A.2, eq. 28)"
        notes = ("argmin of log det H, moment-map zero and the paper's condition coincide. "
                 "Closed forms hold for constant metrics that do not couple different "
                 "neurons or a neuron's w and v blocks.")
    else:
        argmin_cond = f"|w_j|_g^2 = k^3 |v_j|_g^2 = {k**3:g} |v_j|_g^2"
        paper_cond = f"|w_j|^2 = k^2 |v_j|^2 = {k**2:g} |v_j|^2 (v1 A.5 remark 1, after eq. 40)"
        notes = (f"Three different representatives for k = {k:g}: argmin of log det H at "
                 f"|w|^2 = k^3 |v|^2, moment-map zero at |w|^2 = k |v|^2, the paper prints "
                 f"|w|^2 = k^2 |v|^2; the paper's condition is not a stationary point of "
                 f"log det H on the orbit.")
    extra = {
        "torus": torus,
        "degree": k,
        "probes": probes,
        "moment_map_condition": f"|w_j|_g^2 = k |v_j|_g^2 = {k:g} |v_j|_g^2",
        "moment_map_residual": residual(k),
        "balanced_point": lambda theta: torus.balanced_point(theta, met),
        "orbit_log_det_gradient": lambda theta: orbit_log_det_gradient(torus, theta, met),
        "log_det_at_moment_map_zero": log_det_at_moment_zero,
    }
    return CatalogEntry(
        name=name,
        group=f"(R_>0)^{width}",
        symmetry=sym,
        pack=pack,
        unpack=unpack,
        random_point=random_point,
        orbit_gram_formula=(f"diag(|w_j|_g^2 + {kstr}|v_j|_g^2)"
                            + ("" if k == 1 else f", k^2 = {k ** 2:g}")),
        moment_map_formula=(f"mu_j = (|w_j|_g^2 - {'' if k == 1 else f'{k:g} '}|v_j|_g^2) / 2"),
        argmin_condition=argmin_cond,
        paper_condition=paper_cond,
        paper_reduced_bias=paper_reduced,
        argmin_residual=residual(k ** 3),
        paper_residual=residual(k ** 2),
        expected_status="minimum",
        notes=notes,
        extra=extra,
    )


# ------------------------------------------------------------------------------------------
# Deep fully-connected ReLU: one scaling per hidden neuron
# ------------------------------------------------------------------------------------------
def deep_relu(widths=(2, 3, 2, 1), *, metric=None, probe_seed=0):
    """Deep fully-connected ReLU network with one positive scaling per hidden neuron.

    ``f(x) = W_L ReLU(W_{L-1} ... ReLU(W_1 x))``; hidden neuron ``(l, j)`` scales row ``j``
    of ``W_l`` by ``a`` and column ``j`` of ``W_{l+1}`` by ``1/a`` (paper v1 A.6, eq. 41).
    An entry ``W_{l+1}[i, j]`` between two hidden neurons is moved by both, so ``H`` is *not*
    diagonal: ``H_{(l,j),(l+1,i)} = -W_{l+1}[i, j]^2``. The paper's correction (eq. 43) keeps
    only the diagonal ``|w_in|^2 + |w_out|^2``. The moment-map zero is the per-neuron balance
    ``|w_in(l, j)| = |w_out(l, j)|`` (the paper's eq. 42); the argmin of ``log det H`` over
    the whole torus is a different point in general (its condition, a leverage-score balance,
    has no closed form; ``argmin_residual`` is the norm of the orbit gradient of log det H).
    ``log det H`` is convex in the Lie coordinates, so the argmin is unique up to the
    directions along which it is constant.

    Parameters
    ----------
    widths : sequence of int
        ``(d_0, d_1, ..., d_L)`` with ``L >= 2``; ``d_1 .. d_{L-1}`` are hidden widths.
    metric : None, array_like or MetricField
        Metric on ``theta = (W_1.ravel(), ..., W_L.ravel())``.
    probe_seed : int

    Returns
    -------
    entry : CatalogEntry
    """
    widths = _positive_widths(widths, "widths")
    if len(widths) < 3:
        raise ValueError(f"Expected `widths` (d_0, ..., d_L) with L >= 2, got {widths}.")
    depth = len(widths) - 1
    shapes = [(widths[li + 1], widths[li]) for li in range(depth)]
    offsets = np.cumsum([0] + [a * b for a, b in shapes])
    n = int(offsets[-1])
    neurons = [(li, j) for li in range(1, depth) for j in range(widths[li])]
    m = len(neurons)
    cw = np.zeros((m, n))
    for a, (li, j) in enumerate(neurons):
        inc = np.zeros(shapes[li - 1])
        inc[j, :] = 1.0           # row j of W_l (incoming)
        out = np.zeros(shapes[li])
        out[:, j] = -1.0          # column j of W_{l+1} (outgoing)
        cw[a, offsets[li - 1]:offsets[li]] += inc.ravel()
        cw[a, offsets[li]:offsets[li + 1]] += out.ravel()
    torus = WeightSpaceTorus(cw)
    probes = _probes(widths[0], probe_seed)

    pack, unpack, _ = block_layout(**{f"W{li + 1}": shapes[li] for li in range(depth)})

    def layer(theta, li):
        return theta[..., offsets[li]:offsets[li + 1]].reshape(theta.shape[:-1] + shapes[li])

    def invariant(theta):
        act = anp.broadcast_to(probes.T, theta.shape[:-1] + probes.T.shape)
        for li in range(depth):
            act = anp.matmul(layer(theta, li), act)
            if li < depth - 1:
                act = _relu(act)
        return act.reshape(theta.shape[:-1] + (-1,))

    action = torus.build_action(invariant=invariant, name="deep_relu")
    sym = Symmetry(action, metric)
    met = sym.metric
    in_mask = np.maximum(cw, 0.0)
    out_mask = np.maximum(-cw, 0.0)

    def in_out_norms(theta):
        """Per hidden neuron ``(|w_in|_g^2, |w_out|_g^2)`` (Euclidean for other metrics)."""
        theta = np.asarray(theta, dtype=float)
        mat = torus.compatible_matrix(met)
        if mat is None or isinstance(mat, str):
            sq = theta ** 2
        else:
            sq = (theta @ mat) * theta
        return sq @ in_mask.T, sq @ out_mask.T

    def balance_residual(theta):
        a, b = in_out_norms(theta)
        return _max_relative_gap(a, b)

    def argmin_residual(theta):
        return np.linalg.norm(orbit_log_det_gradient(torus, theta, met), axis=-1)

    def paper_correction(theta):
        """The paper's eq. 43 summand: sum over hidden neurons of log(|w_in|^2 + |w_out|^2)."""
        a, b = in_out_norms(theta)
        return np.sum(np.log(a + b), axis=-1)

    def paper_reduced(theta):
        """The paper's eq. 43 at its balanced point (eq. 42): sum log(2 |w_in|^2) there."""
        return paper_correction(torus.balanced_point(theta, met))

    def random_point(rng, batch_shape=()):
        return rng.standard_normal(tuple(batch_shape) + (n,))

    return CatalogEntry(
        name="deep_relu",
        group=f"(R_>0)^{m}",
        symmetry=sym,
        pack=pack,
        unpack=unpack,
        random_point=random_point,
        orbit_gram_formula=("H_aa = |w_in(a)|^2 + |w_out(a)|^2, H_(l,j),(l+1,i) = -W_{l+1}[i,j]^2"
                            " (not diagonal)"),
        moment_map_formula="mu_(l,j) = (|w_in(l,j)|_g^2 - |w_out(l,j)|_g^2) / 2",
        argmin_condition=("grad_t log det H = 0 (per neuron: leverage-weighted in/out balance); "
                          "not |w_in| = |w_out| in general"),
        paper_condition="|w_in(l,j)| = |w_out(l,j)| for every hidden neuron (v1 A.6, eq. 42)",
        paper_reduced_bias=paper_reduced,
        argmin_residual=argmin_residual,
        paper_residual=balance_residual,
        expected_status="minimum",
        notes=("Adjacent hidden neurons share the weights between them, so H has off-diagonal "
               "entries -W[i,j]^2 that the paper's eq. 43 drops. The paper's condition is the "
               "moment-map zero; the argmin of log det H over the torus differs from it "
               "(no closed form; numerical)."),
        extra={"torus": torus, "probes": probes, "neurons": neurons,
               "moment_map_condition": "|w_in(l,j)|_g = |w_out(l,j)|_g",
               "moment_map_residual": balance_residual,
               "balanced_point": lambda theta: torus.balanced_point(theta, met),
               "paper_correction": paper_correction,
               "in_out_norms": in_out_norms,
               "orbit_log_det_gradient": lambda theta: orbit_log_det_gradient(torus, theta,
                                                                               met)},
    )


# ------------------------------------------------------------------------------------------
# Convolutions
# ------------------------------------------------------------------------------------------
def _circulant(w, length):
    """Circulant matrices ``C(w)[i, j] = w[(i - j) mod N]`` for kernels ``w [..., K]``."""
    k = w.shape[-1]
    padded = anp.concatenate([w, anp.zeros(w.shape[:-1] + (length - k,))], -1) \
        if k < length else w
    idx = (np.arange(length)[:, None] - np.arange(length)[None, :]) % length
    return padded[..., idx]


def real_fourier_basis(length):
    """Orthonormal real Fourier basis of ``R^N`` and the frequency class of each column.

    Columns: the constant (``omega = 0``), then ``sqrt(2/N) cos``, ``sqrt(2/N) sin`` for
    ``0 < omega < N/2``, then the alternating vector for ``omega = N/2`` (``N`` even). A
    circulant matrix maps each class subspace to itself (as a scaled rotation).

    Parameters
    ----------
    length : int
        Signal length ``N``.

    Returns
    -------
    basis : ndarray, shape=[N, N]
        Orthonormal columns.
    classes : ndarray of int, shape=[N]
        Frequency ``omega`` in ``0 .. N // 2`` of each column.
    """
    length = int(length)
    i = np.arange(length)
    cols, classes = [np.ones(length) / np.sqrt(length)], [0]
    for omega in range(1, (length + 1) // 2):
        ang = 2.0 * np.pi * omega * i / length
        cols += [np.sqrt(2.0 / length) * np.cos(ang), np.sqrt(2.0 / length) * np.sin(ang)]
        classes += [omega, omega]
    if length % 2 == 0:
        cols.append((-1.0) ** i / np.sqrt(length))
        classes.append(length // 2)
    return np.stack(cols, axis=1), np.asarray(classes)


def relu_conv_channels(n_channels=2, length=5, kernel_size=3, *, metric=None, probe_seed=0):
    """One-layer ReLU circular convolution with channel-wise scaling (paper v1 A.5).

    ``f(x) = sum_j v_j . ReLU(C(w_j) x)`` with kernels ``w_j in R^K`` (zero-padded to
    ``N``) and readouts ``v_j in R^N``; ``(w_j, v_j) -> (a w_j, v_j / a)``.
    ``H = diag(|w_j|^2 + |v_j|^2)``; argmin and moment-map zero ``|w_j| = |v_j|`` (eq. 39);
    reduced log det ``sum_j log(2 |w_j| |v_j|)``.

    Parameters
    ----------
    n_channels : int
    length : int
        Signal length ``N``.
    kernel_size : int
        ``K <= N``.
    metric : None, array_like or MetricField
        Metric on ``theta = (W.ravel(), V.ravel())``.
    probe_seed : int

    Returns
    -------
    entry : CatalogEntry
    """
    n_channels, length, kernel_size = _positive_widths((n_channels, length, kernel_size),
                                                      "n_channels, length, kernel_size")
    if kernel_size > length:
        raise ValueError(f"Expected `kernel_size` <= `length`, got {kernel_size} > {length}.")
    c, big_n, k = n_channels, length, kernel_size
    n_w = c * k
    n = n_w + c * big_n
    torus = WeightSpaceTorus(np.concatenate(
        [np.kron(np.eye(c), np.ones((1, k))), -np.kron(np.eye(c), np.ones((1, big_n)))], 1))
    probes = _probes(big_n, probe_seed)

    pack, unpack, _ = block_layout(W=(c, k), V=(c, big_n))

    def invariant(theta):
        W = theta[..., :n_w].reshape(theta.shape[:-1] + (c, k))
        V = theta[..., n_w:].reshape(theta.shape[:-1] + (c, big_n))
        conv = anp.einsum("...cij,pj->...pci", _circulant(W, big_n), probes)
        return anp.einsum("...pci,...ci->...p", _relu(conv), V)

    w_space = np.array([np.flatnonzero(torus.weights[j] > 0)[0] for j in range(c)])
    v_space = np.array([np.flatnonzero(torus.weights[j] < 0)[0] for j in range(c)])
    pair = _pair_reduced(1.0)
    action = torus.build_action(
        invariant=invariant, name="relu_conv_channels",
        reduced_log_det_of_norms=lambda s: np.sum(pair(s[..., w_space], s[..., v_space]), -1))
    sym = Symmetry(action, metric)
    met = sym.metric

    def norms(theta):
        s = torus.space_norms(np.asarray(theta, dtype=float), met)
        if s is None:
            s = torus.space_norms(np.asarray(theta, dtype=float), EuclideanMetric(n))
        return s[..., w_space], s[..., v_space]

    def balance_residual(theta):
        a, b = norms(theta)
        return _max_relative_gap(a, b)

    def paper_reduced(theta):
        a, b = norms(theta)
        return np.sum(np.log(2.0) + 0.5 * (np.log(a) + np.log(b)), axis=-1)

    return CatalogEntry(
        name="relu_conv_channels",
        group=f"(R_>0)^{c}",
        symmetry=sym,
        pack=pack,
        unpack=unpack,
        random_point=lambda rng, batch_shape=(): rng.standard_normal(tuple(batch_shape) + (n,)),
        orbit_gram_formula="diag(|w_j|_g^2 + |v_j|_g^2)",
        moment_map_formula="mu_j = (|w_j|_g^2 - |v_j|_g^2) / 2",
        argmin_condition="|w_j|_g = |v_j|_g for every channel j",
        paper_condition="|w_j| = |v_j| for every channel (v1 A.5, eq. 39)",
        paper_reduced_bias=paper_reduced,
        argmin_residual=balance_residual,
        paper_residual=balance_residual,
        expected_status="minimum",
        notes="argmin, moment-map zero and the paper's condition coincide.",
        extra={"torus": torus, "probes": probes,
               "moment_map_condition": "|w_j|_g = |v_j|_g",
               "moment_map_residual": balance_residual,
               "balanced_point": lambda theta: torus.balanced_point(theta, met),
               "orbit_log_det_gradient": lambda theta: orbit_log_det_gradient(torus, theta,
                                                                               met)},
    )


def circulant_conv(length=6, *, metric=None, probe_seed=0):
    """Two-layer linear circulant convolution ``f(x) = v^T (w * x)`` (paper v1 A.3).

    The predictor depends on the Fourier products ``c(omega) = conj(v^(omega)) w^(omega)``
    and is invariant under the frequency-wise scaling ``w^(omega) -> a(omega) w^(omega)``,
    ``v^(omega) -> v^(omega) / a(omega)`` with ``a(omega) = a(N - omega) > 0`` (one group
    coordinate per frequency class ``omega = 0 .. N // 2``). This is :func:`deep_circulant_conv`
    with depth 1; see there for the formulas.

    Parameters
    ----------
    length : int
        Signal length ``N``.
    metric : None, array_like or MetricField
        Metric on ``theta = (w, v)``; closed forms hold for constant metrics that map each
        (factor, frequency class) subspace to itself, e.g. ``diag(a I_N, b I_N)`` or
        block-circulant metrics. A generic diagonal metric does not.
    probe_seed : int

    Returns
    -------
    entry : CatalogEntry
    """
    return _circulant_family(1, length, metric, probe_seed, "circulant_conv")


def deep_circulant_conv(depth=2, length=6, *, metric=None, probe_seed=0):
    r"""Deep linear circulant convolution ``f(x) = v^T C(w_L) ... C(w_1) x`` (paper v1 A.4).

    With the unitary DFT ``z^(omega) = N^{-1/2} sum_i z_i e^{-2 pi i omega i / N}``, the
    predictor depends on ``c(omega) = conj(v^(omega)) prod_l w_l^(omega)``. Per frequency class
    the torus ``(R_>0)^L`` acts by ``w_l -> a_l w_l``, ``v -> v / a_l`` (generator ``l``), and,
    with ``x_0 = |P_omega v|^2`` and ``x_l = |P_omega w_l|^2``,
    ``H_omega = diag(x_1..x_L) + x_0 1 1^T``, ``det H_omega = sum_i prod_{j != i} x_j``.
    By AM-GM the minimum over the orbit sits at ``x_0 = ... = x_L = X^{1/(L+1)}``,
    ``X = prod_i x_i`` (the paper's eq. 35), with value

    .. math:: \min \log\det H_\omega = \log(L+1) + \tfrac{L}{L+1} \log X
              = \log(L+1) + L \log m_\omega + \tfrac{2L}{L+1} \log|c(\omega)|,

    ``m_omega`` = 2 for complex classes, 1 for ``omega = 0, N/2``. This *log-det bias* is
    logarithmic in ``|c|``. The squared norm at the balanced point,
    ``(L+1) sum_{omega=0}^{N-1} |c(omega)|^{2/(L+1)}``, is the ``l_{2/(L+1)}`` quantity the
    paper quotes; it is a different function of ``c`` (``extra["reduced_log_det_of_c"]`` and
    ``extra["balanced_norm_of_c"]``).

    Parameters
    ----------
    depth : int
        Number of convolution layers ``L >= 1``.
    length : int
        Signal length ``N``.
    metric : None, array_like or MetricField
        Metric on ``theta = (w_1, ..., w_L, v)``.
    probe_seed : int

    Returns
    -------
    entry : CatalogEntry
    """
    depth = int(depth)
    if depth < 1:
        raise ValueError(f"Expected `depth` >= 1, got {depth}.")
    return _circulant_family(depth, length, metric, probe_seed, "deep_circulant_conv")


def _circulant_family(depth, length, metric, probe_seed, name):
    (big_n,) = _positive_widths((length,), "length")
    n_factors = depth + 1
    n = n_factors * big_n
    fourier, classes = real_fourier_basis(big_n)
    n_classes = big_n // 2 + 1
    mult = np.bincount(classes, minlength=n_classes).astype(float)
    # generator (l, omega): +1 on class omega of w_l, -1 on class omega of v (last factor)
    cw = np.zeros((depth * n_classes, n))
    for li in range(depth):
        for om in range(n_classes):
            a = li * n_classes + om
            cw[a, li * big_n:(li + 1) * big_n] = (classes == om)
            cw[a, depth * big_n:] = -1.0 * (classes == om)
    basis = np.kron(np.eye(n_factors), fourier)
    torus = WeightSpaceTorus(cw, basis=basis)
    probes = _probes(big_n, probe_seed)
    # (factor, class) -> weight space index
    space_of = np.zeros((n_factors, n_classes), dtype=int)
    for f in range(n_factors):
        for om in range(n_classes):
            col = f * big_n + int(np.flatnonzero(classes == om)[0])
            space_of[f, om] = torus.labels[col]

    pack, unpack, _ = block_layout(**{f"w{li + 1}": (big_n,) for li in range(depth)},
                                   v=(big_n,))

    def invariant(theta):
        sig = anp.broadcast_to(probes.T, theta.shape[:-1] + probes.T.shape)  # [..., N, P]
        for li in range(depth):
            sig = anp.matmul(_circulant(theta[..., li * big_n:(li + 1) * big_n], big_n), sig)
        return anp.einsum("...i,...ip->...p", theta[..., depth * big_n:], sig)

    def class_products(s):
        """``X_omega = prod_factors x_factor,omega``, shape ``[..., n_classes]``."""
        return np.prod(s[..., space_of], axis=-2)

    def reduced_of_norms(s):
        logx = np.log(class_products(s))
        return np.sum(np.log(depth + 1.0) + depth / (depth + 1.0) * logx, axis=-1)

    action = torus.build_action(invariant=invariant, reduced_log_det_of_norms=reduced_of_norms,
                                name=name)
    sym = Symmetry(action, metric)
    met = sym.metric

    def factor_norms(theta):
        theta = np.asarray(theta, dtype=float)
        s = torus.space_norms(theta, met)
        if s is None:
            s = torus.space_norms(theta, EuclideanMetric(n))
        return s[..., space_of]                      # [..., n_factors, n_classes]

    def balance_residual(theta):
        x = factor_norms(theta)
        spread = (np.max(x, axis=-2) - np.min(x, axis=-2)) / np.sum(x, axis=-2)
        return np.max(spread, axis=-1)

    def fourier_coefficients(theta):
        """``c(omega) = conj(v^(omega)) prod_l w_l^(omega)`` (unitary DFT), ``[..., N]``."""
        theta = np.asarray(theta, dtype=float)
        spec = np.fft.fft(theta.reshape(theta.shape[:-1] + (n_factors, big_n)), axis=-1,
                          norm="ortho")
        return np.conj(spec[..., depth, :]) * np.prod(spec[..., :depth, :], axis=-2)

    def reduced_log_det_of_c(c):
        """``min_orbit log det H`` from the Fourier products ``c [..., N]`` (Euclidean)."""
        c = np.asarray(c)[..., :n_classes]
        return np.sum(np.log(depth + 1.0) + depth * np.log(mult)
                      + 2.0 * depth / (depth + 1.0) * np.log(np.abs(c)), axis=-1)

    def balanced_norm_of_c(c):
        """``|theta|^2`` at the balanced representative: ``(L+1) sum |c|^{2/(L+1)}``."""
        return (depth + 1.0) * np.sum(np.abs(np.asarray(c)) ** (2.0 / (depth + 1.0)), axis=-1)

    def paper_reduced(theta):
        # the paper's balanced point (eq. 35) evaluated in its det H (eq. 34): same as ours
        x = factor_norms(theta)
        return np.sum(np.log(depth + 1.0) + depth / (depth + 1.0) * np.log(np.prod(x, -2)), -1)

    rate = f"2/{depth + 1}" if depth > 1 else "1"
    return CatalogEntry(
        name=name,
        group=f"(R_>0)^{depth * n_classes} (frequency-wise, {n_classes} classes)",
        symmetry=sym,
        pack=pack,
        unpack=unpack,
        random_point=lambda rng, batch_shape=(): rng.standard_normal(tuple(batch_shape) + (n,)),
        orbit_gram_formula=("per class omega: diag(|P_omega w_l|^2) + |P_omega v|^2 1 1^T"
                            if depth > 1 else "diag(|P_omega w|^2 + |P_omega v|^2)"),
        moment_map_formula="mu_(l,omega) = (|P_omega w_l|_g^2 - |P_omega v|_g^2) / 2",
        argmin_condition=("|P_omega w_1| = ... = |P_omega w_L| = |P_omega v| for every class "
                          "omega (= |c(omega)|^(1/(L+1)) per unitary Fourier coefficient)"),
        paper_condition=("|w^(omega)| = |v^(omega)| (v1 A.3, eq. 33)" if depth == 1 else
                         "|w_l^(omega)| = |v^(omega)| = |c(omega)|^(1/(L+1)) (v1 A.4, eq. 35)"),
        paper_reduced_bias=paper_reduced,
        argmin_residual=balance_residual,
        paper_residual=balance_residual,
        expected_status="minimum",
        notes=(f"Condition agrees with the paper. The reduced log-det bias is "
               f"sum_omega (2L/(L+1)) log|c(omega)| + const (logarithmic); the norm at the "
               f"balanced point is (L+1) sum |c|^({rate}), the l_(2/(L+1)) quantity the paper "
               "quotes as the bias: different functions of c. Frequency-wise phase rotations "
               "(also symmetries of the linear model) are not part of this group."),
        extra={"torus": torus, "probes": probes, "depth": depth, "classes": classes,
               "multiplicity": mult,
               "moment_map_condition": "|P_omega w_l|_g = |P_omega v|_g",
               "moment_map_residual": balance_residual,
               "balanced_point": lambda theta: torus.balanced_point(theta, met),
               "fourier_coefficients": fourier_coefficients,
               "reduced_log_det_of_c": reduced_log_det_of_c,
               "balanced_norm_of_c": balanced_norm_of_c,
               "factor_norms": factor_norms,
               "orbit_log_det_gradient": lambda theta: orbit_log_det_gradient(torus, theta,
                                                                               met)},
    )
