"""The symmetry of a model as a geomstats fiber bundle.

:class:`Symmetry` is a :class:`~geomstats.geometry.fiber_bundle.FiberBundle` whose total space is
the parameter space ``Theta`` (a geomstats ``Euclidean(n)`` carrying the chosen metric), whose
fibres are the orbits of a :class:`~quotientib.action.LieGroupAction`, and whose Riemannian
submersion is the invariant map ``h`` (the predictor). It computes the orbit geometry of the
paper: fundamental fields ``xi``, the orbit Gram matrix ``H_ab = g(xi_a, xi_b)``, its log
determinant (the log local orbit volume, twice), and the vertical / horizontal split of tangent
vectors with respect to ``g``.
"""

import autograd.numpy as anp
import numpy as np
from autograd import make_jvp
from geomstats.geometry.euclidean import Euclidean
from geomstats.geometry.fiber_bundle import FiberBundle

from quotientib._linalg import SINGULAR_RTOL, as_points, first_index, logdet_spd, singular_mask
from quotientib.action import LieGroupAction, check_invariance
from quotientib.errors import NotClosedError, NotFreeError
from quotientib.metric import as_metric

__all__ = ["Symmetry"]

#: Tolerance (relative to the tangent vector's g-norm) of is_vertical / is_horizontal.
PROJECTION_RTOL = 1e-9
#: Relative size of the antisymmetric part of d(g xi_a) above which a 1-form is not closed.
CLOSEDNESS_RTOL = 1e-8


class Symmetry(FiberBundle):
    """A Lie group action with a metric: the fiber bundle ``Theta -> Theta / G``.

    Parameters
    ----------
    action : LieGroupAction
        The group action (its ``invariant`` is the submersion).
    metric : None, MetricField, RiemannianMetric, callable or array_like, optional
        The metric on ``Theta``; Euclidean by default (see :func:`quotientib.metric.as_metric`).
    aligner : geomstats AlignerAlgorithm or bool, optional
        Passed to :class:`FiberBundle`.
    name : str, optional

    Examples
    --------
    >>> import numpy as np
    >>> from quotientib import LieGroupAction, Symmetry
    >>> scaling = LieGroupAction.from_generators([np.diag([1.0, -1.0])])
    >>> sym = Symmetry(scaling)
    >>> sym.orbit_gram(np.array([[1.0, 2.0], [3.0, 1.0]])).shape
    (2, 1, 1)
    """

    def __init__(self, action, metric=None, *, aligner=None, name=None):
        if not isinstance(action, LieGroupAction):
            raise TypeError(f"Expected a LieGroupAction, got {type(action).__name__}.")
        self.action = action
        self.metric = as_metric(metric, action.dim)
        # A fresh total space per symmetry: one metric object may serve several symmetries,
        # and equipping its own space with this action would change theirs.
        total_space = Euclidean(action.dim, equip=False)
        total_space.metric = self.metric
        total_space.equip_with_group_action(action)
        super().__init__(total_space, aligner=aligner)
        self.name = name or action.name

    # -- sizes -----------------------------------------------------------------------------
    @property
    def dim(self):
        """Dimension ``n`` of the parameter space."""
        return self.action.dim

    @property
    def group_dim(self):
        """Dimension ``m`` of the group."""
        return self.action.group_dim

    def _points(self, base_point, name="base_point"):
        return as_points(base_point, self.dim, name)

    # -- orbit geometry --------------------------------------------------------------------
    def fundamental_fields(self, base_point):
        """Fundamental vector fields ``xi_a(theta)``.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]

        Returns
        -------
        fields : ndarray, shape=[..., m, n]
        """
        return self.action.fundamental_fields(self._points(base_point))

    def orbit_gram(self, base_point):
        """Orbit Gram matrix ``H_ab = g(xi_a, xi_b)``.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]

        Returns
        -------
        gram : ndarray, shape=[..., m, m]
        """
        base_point = self._points(base_point)
        gram = self.action.analytic_orbit_gram(base_point, self.metric)
        if gram is NotImplemented:
            xi = self.action.fundamental_fields(base_point)
            gram = self.metric.inner_gram(xi, xi, base_point)
        return gram

    def is_free(self, base_point, rtol=SINGULAR_RTOL):
        """Whether the action is free (``H`` nonsingular) at each point.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]
        rtol : float
            Eigenvalue ratio below which ``H`` counts as singular.

        Returns
        -------
        free : ndarray of bool, shape=[...]
        """
        return ~singular_mask(self.orbit_gram(base_point), rtol)

    def check_free(self, base_point, rtol=SINGULAR_RTOL):
        """Raise :class:`NotFreeError` at the first point where ``H`` is singular.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]
        rtol : float
        """
        base_point = self._points(base_point)
        self._raise_if_singular(self.orbit_gram(base_point), base_point, rtol)

    def _raise_if_singular(self, gram, base_point, rtol=SINGULAR_RTOL):
        bad = singular_mask(gram, rtol)
        if np.any(bad):
            idx = first_index(bad)
            point = np.asarray(base_point)[idx] if idx else np.asarray(base_point)
            raise NotFreeError(
                f"The orbit Gram matrix of '{self.name}' is singular at point {np.round(point, 6)}"
                f" (batch index {idx}): the action is not free there (the orbit degenerates), so "
                "H^-1, log det H and the quotient geometry are undefined at that point."
            )

    def log_det_orbit_gram(self, base_point, check=True):
        """``log det H`` through a Cholesky factorisation.

        ``(1/2) log det H`` is the log of the local orbit volume density.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]
        check : bool
            If True, raise :class:`NotFreeError` where ``H`` is singular instead of returning
            ``-inf`` or NaN.

        Returns
        -------
        logdet : ndarray, shape=[...]
        """
        base_point = self._points(base_point)
        gram = self.orbit_gram(base_point)
        if check:
            self._raise_if_singular(gram, base_point)
        return logdet_spd(gram)

    def _vertical_coefficients(self, tangent_vec, base_point):
        """Coefficients ``c = H^{-1} g(xi, v)`` of the vertical part ``sum_a c_a xi_a``."""
        xi = self.action.fundamental_fields(base_point)
        gram = self.orbit_gram(base_point)
        self._raise_if_singular(gram, base_point)
        rhs = self.metric.inner_gram(xi, tangent_vec[..., None, :], base_point)
        return np.linalg.solve(gram, rhs)[..., 0], xi

    def vertical_projection(self, tangent_vec, base_point):
        """g-orthogonal projection onto the tangent space of the orbit.

        Parameters
        ----------
        tangent_vec : array_like, shape=[..., n]
        base_point : array_like, shape=[..., n]

        Returns
        -------
        vertical : ndarray, shape=[..., n]
        """
        base_point = self._points(base_point)
        tangent_vec = as_points(tangent_vec, self.dim, "tangent_vec")
        batch = np.broadcast_shapes(tangent_vec.shape, base_point.shape)
        tangent_vec = np.broadcast_to(tangent_vec, batch)
        base_point = np.broadcast_to(base_point, batch)
        coef, xi = self._vertical_coefficients(tangent_vec, base_point)
        return np.einsum("...a,...an->...n", coef, xi)

    def horizontal_projection(self, tangent_vec, base_point):
        """g-orthogonal projection onto the horizontal space (orthogonal to the orbit).

        Parameters
        ----------
        tangent_vec : array_like, shape=[..., n]
        base_point : array_like, shape=[..., n]

        Returns
        -------
        horizontal : ndarray, shape=[..., n]
        """
        tangent_vec = as_points(tangent_vec, self.dim, "tangent_vec")
        return tangent_vec - self.vertical_projection(tangent_vec, base_point)

    def horizontal_projection_stack(self, tangent_vecs, base_point):
        """Horizontal parts of a stack of tangent vectors at each point.

        Parameters
        ----------
        tangent_vecs : array_like, shape=[..., k, n]
        base_point : array_like, shape=[..., n]

        Returns
        -------
        horizontal : ndarray, shape=[..., k, n]
        """
        base_point = self._points(base_point)
        xi = self.action.fundamental_fields(base_point)
        gram = self.orbit_gram(base_point)
        self._raise_if_singular(gram, base_point)
        rhs = self.metric.inner_gram(xi, tangent_vecs, base_point)  # [..., m, k]
        coef = np.linalg.solve(gram, rhs)
        return tangent_vecs - np.einsum("...ak,...an->...kn", coef, xi)

    def _norm(self, vec, base_point):
        return np.sqrt(np.abs(self.metric.inner_product(vec, vec, base_point)))

    def is_vertical(self, tangent_vec, base_point, atol=None, rtol=PROJECTION_RTOL):
        """Whether tangent vectors are tangent to the orbit (horizontal part ~ 0).

        Parameters
        ----------
        tangent_vec : array_like, shape=[..., n]
        base_point : array_like, shape=[..., n]
        atol : float, optional
            Absolute tolerance on the g-norm of the horizontal part; default ``rtol |v|_g``.
        rtol : float

        Returns
        -------
        vertical : ndarray of bool, shape=[...]
        """
        hor = self.horizontal_projection(tangent_vec, base_point)
        tol = rtol * self._norm(tangent_vec, base_point) if atol is None else atol
        return self._norm(hor, base_point) <= tol

    def is_horizontal(self, tangent_vec, base_point, atol=None, rtol=PROJECTION_RTOL):
        """Whether tangent vectors are g-orthogonal to the orbit (vertical part ~ 0).

        Parameters
        ----------
        tangent_vec : array_like, shape=[..., n]
        base_point : array_like, shape=[..., n]
        atol : float, optional
            Absolute tolerance on the g-norm of the vertical part; default ``rtol |v|_g``.
        rtol : float

        Returns
        -------
        horizontal : ndarray of bool, shape=[...]
        """
        ver = self.vertical_projection(tangent_vec, base_point)
        tol = rtol * self._norm(tangent_vec, base_point) if atol is None else atol
        return self._norm(ver, base_point) <= tol

    # -- submersion ------------------------------------------------------------------------
    def riemannian_submersion(self, point):
        """The invariant map ``h`` (the predictor), the projection of the bundle.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        invariants : ndarray, shape=[..., k]
        """
        if self.action.invariant is None:
            raise NotImplementedError(
                f"The action '{self.name}' was built without an invariant map `h`."
            )
        return self.action.invariant(self._points(point, "point"))

    def tangent_riemannian_submersion(self, tangent_vec, base_point):
        """Differential of ``h``: ``dh_theta(v)``.

        Parameters
        ----------
        tangent_vec : array_like, shape=[..., n]
        base_point : array_like, shape=[..., n]

        Returns
        -------
        dh : ndarray, shape=[..., k]
        """
        base_point = self._points(base_point)
        if self.action.invariant is None:
            return self.horizontal_projection(tangent_vec, base_point)
        tangent_vec = np.broadcast_to(as_points(tangent_vec, self.dim, "tangent_vec"),
                                      np.broadcast_shapes(np.shape(tangent_vec),
                                                          base_point.shape))
        base_point = np.broadcast_to(base_point, tangent_vec.shape)
        return make_jvp(self.action.invariant)(base_point)(tangent_vec)[1]

    def check_invariance(self, point, **kwargs):
        """Check that ``h`` is invariant; see :func:`quotientib.action.check_invariance`."""
        return check_invariance(self.action, point, **kwargs)

    # -- moment map ------------------------------------------------------------------------
    def closedness_defect(self, point):
        """Size of the antisymmetric part of ``d(g xi_a)``, relative to its size, per point.

        The 1-forms ``alpha_a = g(xi_a, .)`` are closed exactly when the Jacobian of
        ``g xi_a`` is symmetric; a moment map (``d mu_a = alpha_a``) exists only then.

        Parameters
        ----------
        point : array_like, shape=[..., n]

        Returns
        -------
        defect : ndarray, shape=[..., m]
        """
        from autograd import jacobian

        point = self._points(point, "point")
        flat = point.reshape(-1, self.dim)

        def alpha(p):
            xi = _single_fields(self.action, p)
            if self.metric.is_constant:
                return self.metric.flat(xi)
            return anp.einsum("ij,aj->ai", self.metric.metric_matrix(p), xi)

        out = []
        for p in flat:
            jac = np.asarray(jacobian(alpha)(p))  # [m, n, n]
            anti = jac - np.swapaxes(jac, -1, -2)
            size = np.linalg.norm(jac, axis=(-2, -1))
            out.append(np.linalg.norm(anti, axis=(-2, -1)) / np.maximum(size, 1e-300))
        return np.asarray(out).reshape(point.shape[:-1] + (self.group_dim,))

    def moment_map(self, point, *, origin=None, check_points=None, n_nodes=32):
        """Moment map ``mu`` with ``d mu_a = g(xi_a, .)`` (so its gauge has ``M = H``).

        Uses the action's analytic moment map when it has one for this metric; otherwise
        checks that the 1-forms are closed at ``check_points`` and integrates them along rays
        from ``origin`` (Poincare lemma on a star-shaped domain) by Gauss-Legendre quadrature.

        Parameters
        ----------
        point : array_like, shape=[..., n]
        origin : array_like, shape=[n], optional
            Centre of the rays (default 0); ``mu(origin) = 0``.
        check_points : array_like, shape=[..., n], optional
            Where closedness is checked (default: ``point``).
        n_nodes : int
            Quadrature nodes (exact for polynomial 1-forms of degree below ``2 n_nodes``).

        Returns
        -------
        mu : ndarray, shape=[..., m]

        Raises
        ------
        NotClosedError
            If some ``g(xi_a, .)`` is not closed, e.g. rotations of the plane.
        """
        point = self._points(point, "point")
        mu = self.action.analytic_moment_map(point, self.metric)
        if mu is not NotImplemented:
            return mu
        self.check_closed(point if check_points is None else check_points)
        return self._ray_integral(point, origin, n_nodes)

    def check_closed(self, point):
        """Raise :class:`NotClosedError` unless every ``g(xi_a, .)`` is closed at the points.

        Parameters
        ----------
        point : array_like, shape=[..., n]
        """
        point = self._points(point, "point")
        defect = self.closedness_defect(point)
        if np.any(defect > CLOSEDNESS_RTOL):
            idx = first_index(np.any(defect > CLOSEDNESS_RTOL, axis=-1))
            worst = int(np.argmax(defect[idx]))
            raise NotClosedError(
                f"No moment-map gauge exists for '{self.name}': the 1-form g(xi_{worst}, .) is "
                f"not closed (its exterior derivative has relative size {defect[idx][worst]:.3g}"
                f" at point {np.round(point[idx], 6)}). A function mu with d mu_a = g(xi_a, .) "
                "exists only when these 1-forms are closed; e.g. for rotations of the plane "
                "-y dx + x dy is not. Use another gauge (a Lie-coordinate or orthogonal slice)."
            )

    def _ray_integral(self, point, origin, n_nodes):
        nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
        s = 0.5 * (nodes + 1.0)
        w = 0.5 * weights
        origin = np.zeros(self.dim) if origin is None else np.asarray(origin, dtype=float)
        disp = point - origin
        ray = origin + s.reshape((-1,) + (1,) * point.ndim) * disp  # [q, ..., n]
        xi = self.action.fundamental_fields(ray)  # [q, ..., m, n]
        alpha = self.metric.flat(xi, ray)
        integrand = anp.einsum("q...an,...n->q...a", alpha, disp)
        return anp.einsum("q,q...a->...a", w, integrand)

    def moment_map_gauge(self, *, check_points=None, origin=None):
        """The balanced (moment-map) gauge ``chi = mu``, for which ``M = H``.

        Parameters
        ----------
        check_points : array_like, shape=[..., n], optional
            Where closedness of ``g(xi_a, .)`` is checked when no analytic moment map is
            known; default: 16 standard normal points (seed 0).
        origin : array_like, shape=[n], optional
            Centre of the ray integration.

        Returns
        -------
        gauge : quotientib.gauge.Gauge

        Raises
        ------
        NotClosedError
            If the 1-forms are not closed (no moment map exists).
        """
        from quotientib.gauge import Gauge

        probe = np.random.default_rng(0).standard_normal((16, self.dim)) \
            if check_points is None else self._points(check_points, "check_points")
        if self.action.analytic_moment_map(probe, self.metric) is NotImplemented:
            self.check_closed(probe)
        return Gauge(self._moment_fn(origin), self, name="moment map")

    def _moment_fn(self, origin):
        def mu(p):
            analytic = self.action.analytic_moment_map(p, self.metric)
            if analytic is not NotImplemented:
                return analytic
            return self._ray_integral(p, origin, 32)

        return mu


def _single_fields(action, p):
    """Fundamental fields at one point, autograd-traceable (for Jacobians of fields)."""
    m = action.group_dim
    return anp.stack([make_jvp(lambda s, a=a: action.act(s * anp.eye(m)[a], p))(0.0)(1.0)[1]
                      for a in range(m)])
