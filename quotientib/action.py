r"""Lie group actions on a parameter space, written in Lie-algebra coordinates.

A :class:`LieGroupAction` is a geomstats :class:`~geomstats.geometry.group_action.GroupAction`
whose group elements are Lie-algebra coordinates ``t`` in ``R^m`` (``t = 0`` is the identity):
``act(t, theta)`` moves ``theta`` along its orbit. The fundamental vector fields

.. math:: \xi_a(\theta) = \frac{d}{ds} \mathrm{act}(s e_a, \theta) \Big|_{s=0}

come from autograd (forward mode, all ``m`` directions in one batched pass) unless an analytic
formula is supplied. An optional invariant map ``h`` (the predictor through which the loss
factors) is the Riemannian submersion of the fiber bundle.
"""

import autograd.numpy as anp
import numpy as np
from autograd import grad, make_jvp
from geomstats.geometry.group_action import GroupAction

from quotientib._linalg import as_points
from quotientib.errors import NotInvariantError, ShapeError

__all__ = ["LieGroupAction", "check_invariance"]

#: Relative tolerance of the invariance and identity checks.
INVARIANCE_RTOL = 1e-8


class LieGroupAction(GroupAction):
    """A Lie group acting on ``R^n`` through Lie-algebra coordinates.

    Parameters
    ----------
    act : callable
        ``act(t, theta)`` with ``t`` of shape ``[..., m]`` and ``theta`` of shape ``[..., n]``,
        returning ``[..., n]``; written with ``autograd.numpy`` and broadcasting over the leading
        axes. ``act(0, theta) = theta``.
    dim : int
        Dimension ``n`` of the parameter space.
    group_dim : int
        Dimension ``m`` of the group.
    invariant : callable, optional
        ``h(theta)``, shape ``[..., n] -> [..., k]``: the predictor, invariant under the action.
    fundamental_fields : callable, optional
        Analytic fields ``theta -> xi(theta)`` of shape ``[..., m, n]``; autograd otherwise.
    orbit_gram : callable, optional
        Analytic orbit Gram ``(theta, metric) -> H`` of shape ``[..., m, m]``, or
        ``NotImplemented`` for metrics it does not cover.
    moment_map : callable, optional
        Analytic moment map ``(theta, metric) -> mu`` of shape ``[..., m]`` with
        ``d mu_a = g(xi_a, .)``, or ``NotImplemented`` for metrics it does not cover.
    reduced_log_det : callable, optional
        Closed form ``(theta, metric) -> min over the orbit of log det H`` of shape ``[...]``,
        or ``NotImplemented`` for metrics it does not cover (``-inf`` when unbounded below).
    generators : array_like, shape=[m, n, n], optional
        For a linear action ``theta -> expm(sum_a t_a X_a) theta``: the matrices ``X_a``. Used
        for Lie brackets; see :meth:`from_generators`.
    name : str, optional

    Attributes
    ----------
    group_elem_shape : tuple
        ``(m,)``, the shape of a group element in Lie-algebra coordinates (geomstats
        convention).
    """

    def __init__(self, act, dim, group_dim, *, invariant=None, fundamental_fields=None,
                 orbit_gram=None, moment_map=None, reduced_log_det=None, generators=None,
                 name=None):
        if not callable(act):
            raise TypeError(f"Expected `act` to be callable, got {type(act).__name__}.")
        for label, value in (("dim", dim), ("group_dim", group_dim)):
            if int(value) != value or value < 1:
                raise ValueError(f"Expected `{label}` to be a positive integer, got {value!r}.")
        self.act = act
        self.dim = int(dim)
        self.group_dim = int(group_dim)
        self.invariant = invariant
        self._fields = fundamental_fields
        self._orbit_gram = orbit_gram
        self._moment_map = moment_map
        self._reduced_log_det = reduced_log_det
        self.generators = None if generators is None else np.asarray(generators, dtype=float)
        self.name = name or "action"

    @property
    def group_elem_shape(self):
        """Shape ``(m,)`` of a group element in Lie-algebra coordinates."""
        return (self.group_dim,)

    def __call__(self, group_elem, point):
        """Act with Lie-algebra coordinates ``group_elem`` on ``point``.

        Parameters
        ----------
        group_elem : array_like, shape=[..., m]
        point : array_like, shape=[..., n]

        Returns
        -------
        orbit_point : array, shape=[..., n]
        """
        return self.act(group_elem, point)

    @property
    def has_analytic_fields(self):
        """True when the fundamental fields have an analytic formula."""
        return self._fields is not None

    def fundamental_fields(self, base_point):
        """Fundamental vector fields ``xi_a(theta)``.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]

        Returns
        -------
        fields : ndarray, shape=[..., m, n]
            Row ``a`` is ``xi_a``.
        """
        base_point = as_points(base_point, self.dim, "base_point")
        if self._fields is not None:
            return self._fields(base_point)
        return self.autograd_fundamental_fields(base_point)

    def autograd_fundamental_fields(self, base_point):
        """Fundamental fields by autograd, ignoring any analytic formula.

        All ``m`` directions go through one forward-mode pass on the point batch tiled ``m``
        times, so the cost is that of ``m`` evaluations of ``act`` with a single Python call.

        Parameters
        ----------
        base_point : array_like, shape=[..., n]

        Returns
        -------
        fields : ndarray, shape=[..., m, n]
        """
        base_point = as_points(base_point, self.dim, "base_point")
        m = self.group_dim
        batch = tuple(base_point.shape[:-1])
        # anp (not np) so that the fields stay differentiable when base_point is traced,
        # e.g. inside the moment map's ray integral.
        tiled = base_point + np.zeros((m,) + tuple(base_point.shape))
        t0 = np.zeros((m,) + batch + (m,))
        directions = np.broadcast_to(
            np.eye(m).reshape((m,) + (1,) * len(batch) + (m,)), t0.shape
        )
        try:
            _, fields = make_jvp(lambda t: self.act(t, tiled))(t0)(directions)
        except NotImplementedError:
            # Some primitives (e.g. autograd's expm, used by geomstats' matrix groups) have a
            # reverse rule but no forward rule: fall back to one reverse pass on n tiled copies.
            fields = self._reverse_mode_fields(base_point)
        if tuple(fields.shape) != (m,) + tuple(base_point.shape):
            raise ShapeError(
                f"act(t, theta) returned shape {tuple(fields.shape[1:])} for theta of shape "
                f"{tuple(base_point.shape)}; it must return the shape of theta and broadcast "
                "over leading axes."
            )
        return anp.moveaxis(fields, 0, -2)

    def _reverse_mode_fields(self, base_point):
        n, m = self.dim, self.group_dim
        batch = tuple(base_point.shape[:-1])
        select = np.eye(n).reshape((n,) + (1,) * len(batch) + (n,))

        def total(t):
            return anp.sum(self.act(t, base_point) * select)

        rows = grad(total)(np.zeros((n,) + batch + (m,)))  # [n, ..., m]: d act_k / d t_a
        # [n, ..., m] -> [m, ..., n], the layout of the forward-mode result.
        return anp.moveaxis(anp.moveaxis(rows, 0, -1), -2, 0)

    def analytic_orbit_gram(self, base_point, metric):
        """The analytic orbit Gram for ``metric`` if one was given, else ``NotImplemented``."""
        if self._orbit_gram is None:
            return NotImplemented
        return self._orbit_gram(base_point, metric)

    def analytic_moment_map(self, base_point, metric):
        """The analytic moment map for ``metric`` if one was given, else ``NotImplemented``."""
        if self._moment_map is None:
            return NotImplemented
        return self._moment_map(base_point, metric)

    def analytic_reduced_log_det(self, base_point, metric):
        """Closed-form ``min_orbit log det H`` for ``metric`` if known, else ``NotImplemented``."""
        if self._reduced_log_det is None:
            return NotImplemented
        return self._reduced_log_det(base_point, metric)

    def lie_bracket_fields(self, base_point):
        """Lie brackets of fundamental fields ``[xi_a, xi_b]`` (vector-field commutators).

        Parameters
        ----------
        base_point : array_like, shape=[n]
            A single point (the Jacobian of the fields is taken by autograd).

        Returns
        -------
        brackets : ndarray, shape=[m, m, n]
            ``brackets[a, b] = D xi_b . xi_a - D xi_a . xi_b``.
        """
        from autograd import jacobian

        base_point = as_points(base_point, self.dim, "base_point")
        if base_point.ndim != 1:
            raise ShapeError("lie_bracket_fields takes a single point of shape (n,).")
        if self._fields is not None:
            field_fn = self._fields
        else:
            def field_fn(p):
                m = self.group_dim
                out = [make_jvp(lambda s, a=a: self.act(s * anp.eye(m)[a], p))(0.0)(1.0)[1]
                       for a in range(m)]
                return anp.stack(out)
        xi = np.asarray(field_fn(base_point))
        dxi = np.asarray(jacobian(field_fn)(base_point))  # [m, n, n]: d xi_a^i / d theta^j
        lie = np.einsum("bij,aj->abi", dxi, xi)
        return lie - np.swapaxes(lie, 0, 1)

    @classmethod
    def from_generators(cls, generators, *, invariant=None, name=None):
        """Linear action ``theta -> expm(sum_a t_a X_a) theta`` from matrices ``X_a``.

        The fields ``xi_a = X_a theta`` are analytic.

        Parameters
        ----------
        generators : array_like, shape=[m, n, n]
        invariant : callable, optional
        name : str, optional

        Returns
        -------
        action : LieGroupAction
        """
        gens = np.asarray(generators, dtype=float)
        if gens.ndim != 3 or gens.shape[1] != gens.shape[2]:
            raise ShapeError(f"Expected `generators` of shape (m, n, n), got {gens.shape}.")
        m, n, _ = gens.shape

        def act(t, theta):
            algebra = anp.einsum("...a,aij->...ij", t, gens)
            group = _expm_autograd(algebra)
            return anp.einsum("...ij,...j->...i", group, theta)

        def fields(theta):
            return anp.einsum("aij,...j->...ai", gens, theta)

        def moment_map(theta, metric):
            # For a constant metric g, alpha_a = g X_a theta is closed iff g X_a is symmetric,
            # and then mu_a = theta^T g X_a theta / 2.
            if not metric.is_constant:
                return NotImplemented
            gx = np.einsum("ij,ajk->aik", metric.metric_matrix(), gens)
            if not np.allclose(gx, np.swapaxes(gx, -1, -2), rtol=1e-12, atol=1e-12):
                return NotImplemented
            return 0.5 * anp.einsum("...i,aij,...j->...a", theta, gx, theta)

        return cls(act, n, m, invariant=invariant, fundamental_fields=fields,
                   moment_map=moment_map, generators=gens, name=name or "linear action")

    @classmethod
    def from_geomstats(cls, group, group_action, dim, *, invariant=None, name=None):
        """Action built from a geomstats matrix Lie group and a geomstats group action.

        ``act(t, theta) = group_action(exp(matrix_representation(t)), theta)`` with the group's
        Lie algebra basis, so ``t`` are the coordinates in that basis.

        Parameters
        ----------
        group : geomstats.geometry.lie_group.MatrixLieGroup
        group_action : callable
            ``group_action(group_elem, point)`` with matrix group elements, e.g. a geomstats
            :class:`~geomstats.geometry.group_action.GroupAction`.
        dim : int
            Dimension ``n`` of the points acted on.
        invariant : callable, optional
        name : str, optional

        Returns
        -------
        action : LieGroupAction
        """
        algebra = group.lie_algebra
        m = algebra.dim

        def act(t, theta):
            mat = algebra.matrix_representation(t)
            return group_action(group.exp(mat), theta)

        return cls(act, dim, m, invariant=invariant, name=name or type(group).__name__)


def _expm_autograd(mat):
    """Matrix exponential ``[..., k, k]`` by scaling and squaring of a Taylor series.

    Written with autograd.numpy (scipy's expm has no autograd rule); accurate to float64 for
    the moderate norms met in Lie-algebra coordinates.
    """
    norm = anp.max(anp.sum(anp.abs(mat), axis=-1))
    while hasattr(norm, "_value"):  # unwrap autograd boxes, nested under higher-order tracing
        norm = norm._value
    squarings = int(max(0, np.ceil(np.log2(max(float(norm), 1e-300))) + 1))
    scaled = mat / (2.0 ** squarings)
    eye = anp.eye(mat.shape[-1])
    term = eye + 0.0 * scaled
    result = term
    for k in range(1, 19):
        term = anp.matmul(term, scaled) / k
        result = result + term
    for _ in range(squarings):
        result = anp.matmul(result, result)
    return result


def check_invariance(action, point, *, rng=None, n_group=8, scale=0.5, rtol=INVARIANCE_RTOL):
    """Check ``h(act(t, theta)) = h(theta)`` on random group elements; raise if it fails.

    Also checks that ``act(0, theta) = theta``.

    Parameters
    ----------
    action : LieGroupAction
        Must have an ``invariant``.
    point : array_like, shape=[..., n]
        Points at which to check.
    rng : numpy.random.Generator, optional
        Source of the random Lie-algebra coordinates ``t ~ N(0, scale^2)``; seed 0 if omitted.
    n_group : int
        Number of random group elements per point.
    scale : float
        Standard deviation of the coordinates.
    rtol : float
        Tolerance relative to ``max(1, |h(theta)|)``.

    Returns
    -------
    max_deviation : float
        The largest relative deviation seen (below ``rtol``).

    Raises
    ------
    NotInvariantError
        If ``h`` changes along an orbit, or ``act(0, .)`` is not the identity; the message gives
        the worst point, group element and deviation.
    ValueError
        If the action has no invariant map.
    """
    if action.invariant is None:
        raise ValueError("The action has no invariant map `h`; nothing to check.")
    rng = np.random.default_rng(0) if rng is None else rng
    point = as_points(point, action.dim, "point")
    ident = np.asarray(action.act(np.zeros(point.shape[:-1] + (action.group_dim,)), point))
    dev_id = np.max(np.abs(ident - point)) / max(1.0, float(np.max(np.abs(point))))
    if dev_id > rtol:
        raise NotInvariantError(
            f"act(0, theta) differs from theta by {dev_id:.3g} (relative): t = 0 must be the "
            "identity of the group."
        )
    batch = point.shape[:-1]
    h0 = np.asarray(action.invariant(point)).reshape(batch + (-1,))
    t = scale * rng.standard_normal((n_group,) + point.shape[:-1] + (action.group_dim,))
    moved = np.asarray(action.act(t, np.broadcast_to(point, (n_group,) + point.shape)))
    h1 = np.asarray(action.invariant(moved)).reshape((n_group,) + batch + (-1,))
    denom = np.maximum(1.0, np.abs(h0))
    dev = np.abs(h1 - h0) / denom
    worst = float(np.max(dev)) if dev.size else 0.0
    if not np.isfinite(worst) or worst > rtol:
        flat = int(np.nanargmax(np.where(np.isfinite(dev), dev, np.inf)))
        idx = np.unravel_index(flat, dev.shape)
        raise NotInvariantError(
            f"The map h is not invariant under the action '{action.name}': "
            f"|h(act(t, theta)) - h(theta)| reaches {worst:.3g} (relative, tolerance {rtol:g}) "
            f"at group element t = {np.round(t[idx[:-1]], 4)} "
            f"(sample {idx[0]}, point index {tuple(int(i) for i in idx[1:-1])})."
        )
    return worst
