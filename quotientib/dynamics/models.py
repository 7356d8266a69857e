r"""Small test models with analytic gradients, vectorised over chains, and an autograd wrapper.

* :class:`UVModel`: ``L = sum_j (u_j v_j - y_j)^2 / 2 + (lambda/2) |x|^2`` on ``x = (u, v)``,
  the paper's (v2 eqs. 4-7) two-layer scalar model; invariant ``theta = u v`` (elementwise),
  imbalance ``u^2 - v^2``. ``confinement = lambda > 0`` breaks the scaling symmetry so that the
  Gibbs law is normalisable.
* :class:`RadialModel`: ``L = k (|x| - r0)^2 / 2`` in ``R^d`` (paper v1 sec. 2.2), invariant
  under SO(d); the stationary law of ``r = |x|`` under isotropic Langevin is
  ``r^{d-1} exp(-L(r)/T)``.
* :class:`QuadraticModel`: ``L = x^T A x / 2``.
* :class:`UVRegression`: mini-batch data for SGD on ``w = u v``:
  ``l_i(w) = (a_i w - b_i)^2 / 2``.
* :func:`autograd_gradient`: gradient of a user loss, batched over chains.
"""

import dataclasses

import autograd.numpy as anp  # noqa: F401  (user losses are written with it)
import numpy as np
from autograd import elementwise_grad

from quotientib.errors import ShapeError

__all__ = ["UVModel", "RadialModel", "QuadraticModel", "UVRegression", "autograd_gradient"]


def _points(x, dim, name="x"):
    x = np.asarray(x, dtype=float)
    if x.ndim < 1 or x.shape[-1] != dim:
        raise ShapeError(f"Expected `{name}` to have shape (..., {dim}), got {x.shape}.")
    return x


@dataclasses.dataclass(frozen=True)
class UVModel:
    r"""``L(u, v) = sum_j (u_j v_j - y_j)^2 / 2 + (confinement / 2) (|u|^2 + |v|^2)``.

    Points are ``x = (u_1..u_p, v_1..v_p)``, shape ``[..., 2p]``.

    Parameters
    ----------
    target : float or array_like, shape=[p]
        ``y``; its length sets ``p`` (default one pair).
    confinement : float
        ``lambda >= 0``.
    """

    target: object = 1.0
    confinement: float = 0.0

    def __post_init__(self):
        y = np.atleast_1d(np.asarray(self.target, dtype=float))
        if y.ndim != 1:
            raise ShapeError(f"Expected `target` to be a scalar or 1-D, got shape {y.shape}.")
        if self.confinement < 0:
            raise ValueError(f"Expected `confinement >= 0`, got {self.confinement}.")
        object.__setattr__(self, "_y", y)

    @property
    def n_pairs(self):
        """Number of pairs ``p``."""
        return int(self._y.size)

    @property
    def dim(self):
        """Parameter dimension ``n = 2p``."""
        return 2 * self.n_pairs

    def split(self, x):
        """Return ``(u, v)``, each ``[..., p]``."""
        x = _points(x, self.dim)
        p = self.n_pairs
        return x[..., :p], x[..., p:]

    def invariant(self, x):
        """``theta = u v`` (elementwise), shape ``[..., p]``."""
        u, v = self.split(x)
        return u * v

    def imbalance(self, x):
        """``u^2 - v^2`` (conserved by gradient flow of the unconfined loss), ``[..., p]``."""
        u, v = self.split(x)
        return u * u - v * v

    def residual(self, x):
        """``l'(uv) = uv - y``, shape ``[..., p]``."""
        return self.invariant(x) - self._y

    def loss(self, x):
        """``L(x)``, shape ``[...]``."""
        r = self.residual(x)
        out = 0.5 * np.sum(r * r, axis=-1)
        if self.confinement:
            out = out + 0.5 * self.confinement * np.sum(np.asarray(x) ** 2, axis=-1)
        return out

    def grad(self, x):
        """``grad L(x)``, shape ``[..., 2p]``: ``(r v, r u) + lambda x``."""
        u, v = self.split(x)
        r = u * v - self._y
        out = np.concatenate([r * v, r * u], axis=-1)
        if self.confinement:
            out += self.confinement * np.asarray(x, dtype=float)
        return out


@dataclasses.dataclass(frozen=True)
class RadialModel:
    r"""``L(x) = stiffness (|x| - center)^2 / 2`` on ``R^d``.

    Parameters
    ----------
    dim : int
        ``d``.
    center : float
        ``r0`` (paper v1 sec. 2.2 uses ``r0 = 1``).
    stiffness : float
        ``k``.
    """

    dim: int
    center: float = 1.0
    stiffness: float = 1.0

    def __post_init__(self):
        if int(self.dim) != self.dim or self.dim < 1:
            raise ValueError(f"Expected `dim` to be a positive integer, got {self.dim!r}.")

    def radius(self, x):
        """``r = |x|``, shape ``[...]``."""
        x = _points(x, self.dim)
        return np.sqrt(np.einsum("...i,...i->...", x, x))

    def radial_loss(self, r):
        """``L`` as a function of ``r``, shape as ``r``."""
        return 0.5 * self.stiffness * (np.asarray(r) - self.center) ** 2

    def loss(self, x):
        """``L(x)``, shape ``[...]``."""
        return self.radial_loss(self.radius(x))

    def grad(self, x):
        """``grad L = k (r - r0) x / r``, shape ``[..., d]`` (``x = 0`` is a kink; 0 returned)."""
        x = _points(x, self.dim)
        r = np.sqrt(np.einsum("...i,...i->...", x, x))
        with np.errstate(divide="ignore", invalid="ignore"):
            coef = np.where(r > 0, self.stiffness * (r - self.center) / r, 0.0)
        return coef[..., None] * x

    def radial_log_density(self, r, temperature, orbit_volume=True):
        r"""Unnormalised log density of ``r``: ``(d-1) log r - L(r)/T`` or ``-L(r)/T``.

        Parameters
        ----------
        r : array_like, shape=[...]
        temperature : float
        orbit_volume : bool
            Include the orbit-volume factor ``r^{d-1}`` (the exact law under isotropic
            Langevin) or not (the "naive" law ``exp(-L/T)``).

        Returns
        -------
        logp : ndarray, shape=[...]
        """
        r = np.asarray(r, dtype=float)
        out = -self.radial_loss(r) / temperature
        if orbit_volume:
            with np.errstate(divide="ignore"):
                out = out + (self.dim - 1) * np.log(r)
        return out


@dataclasses.dataclass(frozen=True)
class QuadraticModel:
    """``L(x) = x^T A x / 2`` with a symmetric matrix ``A``.

    Parameters
    ----------
    hessian : array_like, shape=[n, n] or [n]
        ``A`` (a 1-D array is a diagonal).
    """

    hessian: object

    def __post_init__(self):
        a = np.asarray(self.hessian, dtype=float)
        if a.ndim == 1:
            a = np.diag(a)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ShapeError(f"Expected `hessian` of shape (n, n) or (n,), got {a.shape}.")
        if not np.allclose(a, a.T, rtol=1e-12, atol=0):
            raise ValueError("Expected `hessian` to be symmetric.")
        object.__setattr__(self, "_a", a)

    @property
    def dim(self):
        """``n``."""
        return self._a.shape[0]

    def loss(self, x):
        """``x^T A x / 2``, shape ``[...]``."""
        x = _points(x, self.dim)
        return 0.5 * np.einsum("...i,ij,...j->...", x, self._a, x)

    def grad(self, x):
        """``A x``, shape ``[..., n]``."""
        x = _points(x, self.dim)
        return x @ self._a  # A symmetric


class UVRegression:
    r"""Scalar regression through ``w = u v``: ``l_i(w) = (a_i w - b_i)^2 / 2``, data ``(a, b)``.

    Mini-batch gradient on ``x = (u, v)``: with ``g_B = mean_{i in B} a_i (a_i w - b_i)``,
    ``grad = (g_B v, g_B u)``; every mini-batch loss is invariant under ``(u, v) -> (s u, v/s)``.

    Parameters
    ----------
    features, targets : array_like, shape=[N]
    batch_size : int
    per_chain : bool
        If True each chain draws its own batch (indices ``[chains, B]``); else chains share one.
    chains : int, optional
        Needed when ``per_chain``.
    """

    def __init__(self, features, targets, batch_size, *, per_chain=False, chains=None):
        self.a = np.asarray(features, dtype=float).ravel()
        self.b = np.asarray(targets, dtype=float).ravel()
        if self.a.shape != self.b.shape:
            raise ShapeError(f"features {self.a.shape} and targets {self.b.shape} differ.")
        if not 1 <= int(batch_size) <= self.a.size:
            raise ValueError(f"Expected 1 <= batch_size <= {self.a.size}, got {batch_size}.")
        if per_chain and not chains:
            raise ValueError("`chains` is needed when `per_chain=True`.")
        self.batch_size, self.per_chain, self.chains = int(batch_size), per_chain, chains

    def sample_batch(self, rng):
        """Indices of a fresh batch (with replacement), ``[B]`` or ``[chains, B]``."""
        shape = (self.chains, self.batch_size) if self.per_chain else (self.batch_size,)
        return rng.integers(0, self.a.size, size=shape)

    def _dloss(self, w, idx):
        a, b = self.a[idx], self.b[idx]
        if self.per_chain:
            return np.mean(a * (a * w[:, None] - b), axis=-1)
        return (a * (a * w[:, None] - b)).mean(axis=-1)

    def grad_batch(self, x, idx):
        """Mini-batch gradient, ``[chains, 2]``."""
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        g = self._dloss(u * v, idx)
        return np.stack([g * v, g * u], axis=-1)

    def grad(self, x):
        """Full-batch gradient, ``[chains, 2]``."""
        x = _points(x, 2)
        u, v = x[..., 0], x[..., 1]
        w = u * v
        g = np.mean(self.a * (self.a * w[:, None] - self.b), axis=-1)
        return np.stack([g * v, g * u], axis=-1)


def autograd_gradient(loss):
    r"""Gradient of a user loss, batched over chains, by autograd.

    Parameters
    ----------
    loss : callable
        ``x[..., n] -> [...]`` written with ``autograd.numpy``, broadcasting over leading axes
        (each chain's loss depends only on its own row).

    Returns
    -------
    grad_loss : callable
        ``x[chains, n] -> [chains, n]``.

    Examples
    --------
    >>> import autograd.numpy as anp, numpy as np
    >>> g = autograd_gradient(lambda x: 0.5 * anp.sum(x ** 2, axis=-1))
    >>> g(np.ones((3, 2))).shape
    (3, 2)
    """
    if not callable(loss):
        raise TypeError(f"Expected `loss` to be callable, got {type(loss).__name__}.")
    # The chains are independent, so d(sum_c L(x_c))/dx_c is the gradient of chain c.
    egrad = elementwise_grad(lambda x: anp.sum(loss(x)))

    def grad_loss(x):
        x = np.asarray(x, dtype=float)
        out = egrad(x)
        if np.shape(out) != x.shape:
            raise ShapeError(f"autograd gradient has shape {np.shape(out)}, expected {x.shape}.")
        return np.asarray(out)

    return grad_loss
