r"""A commuting torus acting diagonally on orthogonal weight spaces: the shared catalog kernel.

In an orthonormal basis ``Q`` (the identity, or a real Fourier basis), coordinate ``i`` lies in
the weight space ``K(i)`` and ``act(t, theta) = Q diag(e^{(C^T t)_K(i)}) Q^T theta``. A constant
metric is *compatible* when it does not couple different weight spaces; then
``H = C diag(s) C^T`` and ``mu = C s / 2`` with ``s_K = |P_K theta|_g^2``. Used by the scaling
families (:mod:`quotientib.catalog.scalings`) and the network families
(:mod:`quotientib.catalog.networks`).
"""

import autograd.numpy as anp
import numpy as np

from quotientib._linalg import first_index, singular_mask
from quotientib.action import LieGroupAction
from quotientib.errors import ConvergenceError, NotFreeError
from quotientib.metric import ConstantMetric, EuclideanMetric

__all__ = ["WeightSpaceTorus", "COMPATIBILITY_RTOL"]

#: Relative size of a cross-space metric entry above which a metric counts as incompatible.
COMPATIBILITY_RTOL = 1e-12


class WeightSpaceTorus:
    """A commuting torus acting by ``exp(C^T t)`` on orthogonal weight spaces.

    Parameters
    ----------
    coordinate_weights : array_like, shape=[m, n]
        Weight of each basis coordinate under each one-parameter subgroup: generator ``a``
        scales basis coordinate ``i`` at rate ``coordinate_weights[a, i]``.
    basis : array_like, shape=[n, n], optional
        Orthonormal basis ``Q`` (columns) in which the action is diagonal; identity if None.

    Attributes
    ----------
    labels : ndarray of int, shape=[n]
        Weight space of each basis coordinate (coordinates with equal weight columns share one).
    weights : ndarray, shape=[m, n_spaces]
        The weight matrix ``C`` on weight spaces.
    """

    def __init__(self, coordinate_weights, basis=None):
        cw = np.asarray(coordinate_weights, dtype=float)
        self.group_dim, self.dim = cw.shape
        self.coordinate_weights = cw
        uniq, labels = np.unique(cw.T, axis=0, return_inverse=True)
        self.labels = labels.reshape(-1)
        self.weights = uniq.T
        self.n_spaces = uniq.shape[0]
        self.onehot = np.zeros((self.dim, self.n_spaces))
        self.onehot[np.arange(self.dim), self.labels] = 1.0
        self.basis = None if basis is None else np.asarray(basis, dtype=float)

    # -- coordinates ------------------------------------------------------------------------
    def to_basis(self, theta):
        """Coordinates ``Q^T theta`` ([..., n] -> [..., n])."""
        return theta if self.basis is None else anp.matmul(theta, self.basis)

    def from_basis(self, coords):
        """Point ``Q coords`` ([..., n] -> [..., n])."""
        return coords if self.basis is None else anp.matmul(coords, self.basis.T)

    # -- action and fields ------------------------------------------------------------------
    def act(self, t, theta):
        """``act(t, theta)``, shapes ``[..., m]``, ``[..., n]`` -> ``[..., n]``."""
        rates = anp.matmul(t, self.coordinate_weights)
        return self.from_basis(anp.exp(rates) * self.to_basis(theta))

    def fields(self, theta):
        """Fundamental fields ``xi_a = X_a theta``, shape ``[..., m, n]``."""
        coords = self.to_basis(theta)[..., None, :] * self.coordinate_weights
        return self.from_basis(coords)

    def second_fields(self, theta):
        """``X_a X_b theta``, shape ``[..., m, m, n]`` (the generators commute)."""
        cw = self.coordinate_weights
        coords = self.to_basis(theta)[..., None, None, :] * cw[:, None, :] * cw[None, :, :]
        return self.from_basis(coords)

    # -- metric compatibility ---------------------------------------------------------------
    def compatible_matrix(self, metric):
        """``Q^T g Q`` if ``metric`` is constant and does not couple weight spaces, else None.

        Parameters
        ----------
        metric : MetricField

        Returns
        -------
        g_basis : ndarray, shape=[n, n], str or None
            ``Q^T g Q`` for a compatible constant metric, the string ``"euclidean"`` for the
            Euclidean metric (so that callers skip the products), None otherwise.
        """
        if isinstance(metric, EuclideanMetric):
            return "euclidean"
        if not isinstance(metric, ConstantMetric):
            return None
        mat = metric.matrix if self.basis is None else self.basis.T @ metric.matrix @ self.basis
        cross = self.labels[:, None] != self.labels[None, :]
        if np.max(np.abs(mat[cross]), initial=0.0) > COMPATIBILITY_RTOL * np.max(np.abs(mat)):
            return None
        return mat

    def space_norms(self, theta, metric):
        """Squared g-norms ``s_K`` of the weight-space components, or None if incompatible.

        Parameters
        ----------
        theta : array_like, shape=[..., n]
        metric : MetricField

        Returns
        -------
        s : ndarray, shape=[..., n_spaces], or None
        """
        mat = self.compatible_matrix(metric)
        if mat is None:
            return None
        coords = self.to_basis(theta)
        weighted = coords if isinstance(mat, str) else anp.matmul(coords, mat)
        return anp.matmul(weighted * coords, self.onehot)

    def balanced_point(self, theta, metric, *, max_iter=100, tol=1e-24):
        """The minimum-norm point of the orbit, where the moment map vanishes.

        Minimises the convex function ``t -> |act(t, theta)|_g^2 = sum_K s_K e^{2 c_K . t}``
        by damped Newton steps (vectorised over points).

        Parameters
        ----------
        theta : array_like, shape=[..., n]
        metric : MetricField
            A compatible metric (see :meth:`compatible_matrix`); Euclidean norms are used for
            other metrics.
        max_iter : int
        tol : float
            Stop when every Newton decrement is below ``tol`` times the squared norm (or the
            Newton step is below 1e-12; convergence is quadratic there).

        Returns
        -------
        point : ndarray, shape=[..., n]

        Raises
        ------
        ConvergenceError
            If the iteration does not converge, e.g. when the infimum is not attained (a
            factor of the orbit is zero).
        """
        theta = np.asarray(theta, dtype=float)
        s = self.space_norms(theta, metric)
        if s is None:
            s = self.space_norms(theta, EuclideanMetric(self.dim))
        c = self.weights
        t = np.zeros(theta.shape[:-1] + (self.group_dim,))

        def value(tt):
            return np.sum(s * np.exp(2.0 * tt @ c), axis=-1)

        for _ in range(max_iter):
            r = s * np.exp(2.0 * t @ c)
            g = 2.0 * r @ c.T
            hess = 4.0 * np.einsum("ak,...k,bk->...ab", c, r, c)
            step = np.linalg.solve(hess, g[..., None])[..., 0]
            decrement = np.sum(g * step, axis=-1)
            if np.all(decrement <= tol * np.maximum(1.0, value(t))) \
                    or np.max(np.abs(step)) < 1e-12:
                return self.act(t, theta)
            alpha = np.ones(t.shape[:-1] + (1,))
            f0 = value(t)
            for _ in range(40):
                worse = value(t - alpha * step) > f0
                if not np.any(worse):
                    break
                alpha = np.where(worse[..., None], 0.5 * alpha, alpha)
            t = t - alpha * step
        raise ConvergenceError(
            "The minimum-norm point of the orbit was not reached in "
            f"{max_iter} Newton steps; the infimum of |theta|^2 on the orbit may not be attained"
            " (a factor is zero)."
        )

    # -- hooks ------------------------------------------------------------------------------
    def orbit_gram(self, theta, metric):
        """``H = C diag(s) C^T`` for compatible metrics, else ``NotImplemented``."""
        s = self.space_norms(theta, metric)
        if s is None:
            return NotImplemented
        return anp.einsum("ak,...k,bk->...ab", self.weights, s, self.weights)

    def moment_map(self, theta, metric):
        """``mu = C s / 2`` for compatible metrics, else ``NotImplemented``."""
        s = self.space_norms(theta, metric)
        if s is None:
            return NotImplemented
        return 0.5 * anp.einsum("ak,...k->...a", self.weights, s)

    def build_action(self, *, invariant, reduced_log_det_of_norms=None, name):
        """A :class:`LieGroupAction` with analytic fields, Gram, moment map, reduced log det.

        Parameters
        ----------
        invariant : callable
        reduced_log_det_of_norms : callable, optional
            Closed form ``s [..., n_spaces] -> min_orbit log det H [...]`` valid for every
            compatible metric.
        name : str
        """
        def reduced(theta, metric):
            if reduced_log_det_of_norms is None:
                return NotImplemented
            s = self.space_norms(theta, metric)
            if s is None:
                return NotImplemented
            gram = anp.einsum("ak,...k,bk->...ab", self.weights, s, self.weights)
            if np.any(singular_mask(gram)):
                raise NotFreeError(
                    f"The orbit Gram matrix of '{name}' is singular at batch index "
                    f"{first_index(singular_mask(gram))}: a whole orbit block vanishes (e.g. a "
                    "dead neuron w_j = 0, v_j = 0), so min log det H is undefined there."
                )
            # a zero factor (free action, one side zero) sends the infimum to -inf
            with np.errstate(divide="ignore"):
                return reduced_log_det_of_norms(s)

        return LieGroupAction(self.act, self.dim, self.group_dim, invariant=invariant,
                              fundamental_fields=self.fields, orbit_gram=self.orbit_gram,
                              moment_map=self.moment_map, reduced_log_det=reduced, name=name)
