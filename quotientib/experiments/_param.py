"""The parameterizations the inverse-design experiments train.

The designed models come from :mod:`quotientib.design` (``log_sparsity``, ``group_sparsity``,
``log_spectral``), used through ``forward(params[..., p]) -> w[..., d]``,
``pullback(params, grad_w) -> grad_params``, ``n_params``, ``dim``. The plain "naive" baseline
(``w`` learned directly) is :class:`Identity`. Every parameter of every model is initialised
i.i.d. Gaussian by the experiments, so the order of the parameters inside ``params`` does not
matter to them.
"""

import numpy as np

from quotientib import design

__all__ = ["Identity", "Structured", "hadamard", "cumsum_hadamard", "group_scaling",
           "matrix_factor", "source"]


class Identity:
    """The baseline ``w = params`` (no redundancy, no symmetry).

    Parameters
    ----------
    dim : int
    """

    def __init__(self, dim):
        self.dim = self.n_params = int(dim)

    def forward(self, params):
        """``w = params``, shape ``[..., dim]``."""
        return np.asarray(params)

    def pullback(self, params, grad_w):
        """``grad_params = grad_w``, shape ``[..., dim]``."""
        return np.asarray(grad_w)


def source():
    """The module the designed parameterizations come from (recorded in results files)."""
    return design.__name__ + " (structured forward/pullback, checked against it)"


class Structured:
    """A :mod:`quotientib.design` parameterization with structured ``forward``/``pullback``.

    The design objects apply their operator as a dense ``A^+`` (an ``einsum`` with a ``d x d``
    matrix, even for the identity or the cumulative sum), which dominates the cost of an SGD
    step for ``d`` in the hundreds. This wrapper keeps the design object (its symmetry,
    predicted bias and parameter layout) and replaces only the two maps by structured kernels
    with the same layout; the tests check them against the design's own ``forward`` and
    ``pullback``.

    Parameters
    ----------
    design_param : quotientib.design.Parameterization
    forward, pullback : callable
        ``[..., p] -> [..., d]`` and ``([..., p], [..., d]) -> [..., p]``.
    """

    def __init__(self, design_param, forward, pullback):
        self.design = design_param
        self.n_params, self.dim = design_param.n_params, design_param.dim
        self.symmetry = design_param.symmetry
        self._forward, self._pullback = forward, pullback

    def forward(self, params):
        """The predictor ``w``, shape ``[..., d]`` (same values as the design's)."""
        return self._forward(params)

    def pullback(self, params, grad_w):
        """``J(params)^T grad_w``, shape ``[..., p]`` (same values as the design's)."""
        return self._pullback(params, grad_w)

    def predicted_bias(self, w, temperature):
        """The design's predicted bias."""
        return self.design.predicted_bias(w, temperature)


def _uv(params, m):
    return params[..., :m], params[..., m:]


def hadamard(dim):
    """``w = u * v``: :func:`quotientib.design.log_sparsity` with ``A = I``."""
    m = int(dim)

    def forward(params):
        u, v = _uv(params, m)
        return u * v

    def pullback(params, g):
        u, v = _uv(params, m)
        return np.concatenate([g * v, g * u], axis=-1)

    return Structured(design.log_sparsity(np.eye(m)), forward, pullback)


def cumsum_hadamard(dim):
    """``w = cumsum(u * v)``: :func:`quotientib.design.log_sparsity` with the discrete gradient."""
    m = int(dim)

    def forward(params):
        u, v = _uv(params, m)
        return np.cumsum(u * v, axis=-1)

    def pullback(params, g):
        u, v = _uv(params, m)
        # The transpose of the cumulative sum is the reversed cumulative sum.
        gz = np.cumsum(g[..., ::-1], axis=-1)[..., ::-1]
        return np.concatenate([gz * v, gz * u], axis=-1)

    return Structured(design.log_sparsity(design.difference_operator(m)), forward, pullback)


def group_scaling(groups):
    """``w_g = s_g t_g``: :func:`quotientib.design.group_sparsity` with ``A = I``.

    Parameters
    ----------
    groups : array_like of int, shape=[d]
        The group label of every coordinate (labels ``0..G-1``).
    """
    groups = np.asarray(groups, dtype=int)
    G = int(groups.max()) + 1
    index = [np.flatnonzero(groups == g) for g in range(G)]
    member = (groups[None, :] == np.arange(G)[:, None]).astype(float)  # [G, d]

    def forward(params):
        return params[..., :G][..., groups] * params[..., G:]

    def pullback(params, g):
        s, t = params[..., :G], params[..., G:]
        return np.concatenate([(g * t) @ member.T, g * s[..., groups]], axis=-1)

    return Structured(design.group_sparsity(np.eye(groups.size), index), forward, pullback)


def matrix_factor(m, n, r):
    """``W = U V^T`` (``U`` m x r, ``V`` n x r, ``vec W`` row-major): ``log_spectral``."""
    m, n, r = int(m), int(n), int(r)

    def split(params):
        lead = params.shape[:-1]
        return (params[..., :m * r].reshape(lead + (m, r)),
                params[..., m * r:].reshape(lead + (n, r)))

    def forward(params):
        U, V = split(params)
        return (U @ np.swapaxes(V, -1, -2)).reshape(params.shape[:-1] + (m * n,))

    def pullback(params, g):
        U, V = split(params)
        G = g.reshape(g.shape[:-1] + (m, n))
        lead = params.shape[:-1]
        return np.concatenate([(G @ V).reshape(lead + (m * r,)),
                               (np.swapaxes(G, -1, -2) @ U).reshape(lead + (n * r,))], axis=-1)

    return Structured(design.log_spectral(None, (m, n), rank=r), forward, pullback)
