r"""Gauge (in)variance of the reduced stationary law, checked numerically by quadrature.

For a symmetry with ``n = m + k`` (the invariants ``h`` are local coordinates on the quotient),
each gauge ``chi`` gives a slice ``S = chi^{-1}(0)`` through the orbits. This module
parametrises every slice by the invariants themselves, ``p(h) in S`` with ``h(p(h)) = h``
(a point of each orbit from ``section`` moved onto ``S`` along its orbit with
:meth:`~quotientib.gauge.Gauge.project_to_slice`), and computes on a grid of invariant values

* the delta-conditioned slice density (the paper's Theorem 1)
  ``exp(-L/T) / sqrt(det G_chi) dsigma_S``,
* the Faddeev-Popov weighted density ``exp(-L/T) |det M| / sqrt(det G_chi) dsigma_S``,
* the orbit-volume density ``exp(-L/T) sqrt(det H) dsigma_S`` (equal to the Faddeev-Popov one
  exactly when the slice is orthogonal to the orbits, by Proposition 1),

each pushed forward to the invariants: ``dsigma_S = sqrt(det(J^T g J)) dh`` with
``J = dp/dh`` solving ``d chi J = 0``, ``dh J = I``. Each density is normalised over the grid
window (Simpson's rule per axis) and compared across gauges.

Normalisation and meaning. For a non-compact group the Gibbs measure ``exp(-L/T) dVol_g`` has
infinite mass, so no density on the quotient is a probability law by itself. The
Faddeev-Popov density is the law of ``h`` under the Gibbs measure restricted to a fixed Haar
window of the group around the slice, ``{exp(t) . s : s in S, t in B}`` (the same ``B`` for every
orbit), when the action preserves ``dVol_g``; ``volume_preserving`` reports whether it does
(``div_g xi_a = 0``). All densities here are normalised within the window of invariant values
spanned by ``invariant_grid``.
"""

import itertools
from dataclasses import dataclass, field

import autograd.numpy as anp
import numpy as np
from autograd import elementwise_grad, jacobian
from scipy.integrate import simpson

from quotientib.errors import ConvergenceError, ShapeError

__all__ = ["GaugeInvarianceResult", "gauge_invariance", "invariant_law_distance", "newton_section"]

#: Newton tolerance of the default section (relative to ``max(1, |h|)``).
SECTION_TOL = 1e-12
#: Bootstrap replicates for the distance of Langevin samples to each density.
N_BOOTSTRAP = 200


@dataclass(frozen=True)
class GaugeInvarianceResult:
    """Densities of the invariants from several gauges of one symmetry, and their spreads.

    Attributes
    ----------
    symmetry_name : str
    gauge_names : tuple of str
    temperature : float
    invariant_axes : tuple of ndarray
        The grid axes (one per invariant); the grid is their tensor product.
    delta_densities : ndarray, shape=[G, N_1, ..., N_k]
        Normalised delta-conditioned densities on the grid, one per gauge.
    fp_densities : ndarray, shape=[G, N_1, ..., N_k]
        Normalised Faddeev-Popov weighted densities.
    orbit_volume_densities : ndarray, shape=[G, N_1, ..., N_k]
        Normalised ``exp(-L/T) sqrt(det H) dsigma_S`` on each slice.
    orthogonal : tuple of bool
        Whether each slice is orthogonal to the orbits at every grid point.
    delta_max_discrepancy, fp_max_discrepancy : float
        ``max_{i,j} max_h |rho_i / rho_j - 1|`` over pairs of gauges (sup-norm, relative).
    delta_tv_discrepancy, fp_tv_discrepancy : float
        ``max_{i,j} (1/2) int |rho_i - rho_j| dh`` (total variation within the window).
    orbit_volume_vs_fp : tuple of float
        Per gauge, ``max_h |rho_orbit / rho_FP - 1|`` (zero on orthogonal slices).
    volume_preserving : bool
        Whether ``div_g xi_a = 0`` at all grid points (the condition for Faddeev-Popov
        invariance); ``max_divergence`` is the largest ``|div_g xi_a|`` seen.
    max_divergence : float
    langevin : dict or None
        Distances of an empirical law of ``h`` to each density (see
        :func:`invariant_law_distance`), keyed ``"delta"`` / ``"fp"`` then gauge name.
    window : str
        The normalisation used.
    """

    symmetry_name: str
    gauge_names: tuple
    temperature: float
    invariant_axes: tuple
    delta_densities: np.ndarray
    fp_densities: np.ndarray
    orbit_volume_densities: np.ndarray
    orthogonal: tuple
    delta_max_discrepancy: float
    fp_max_discrepancy: float
    delta_tv_discrepancy: float
    fp_tv_discrepancy: float
    orbit_volume_vs_fp: tuple
    volume_preserving: bool
    max_divergence: float
    langevin: dict = field(default=None)
    window: str = ""

    def to_dict(self):
        """JSON-friendly summary (numbers only, no density arrays).

        Returns
        -------
        summary : dict
        """
        return {
            "symmetry": self.symmetry_name,
            "gauges": list(self.gauge_names),
            "temperature": self.temperature,
            "window": self.window,
            "invariant_range": [[float(a[0]), float(a[-1])] for a in self.invariant_axes],
            "orthogonal": [bool(o) for o in self.orthogonal],
            "delta_max_discrepancy": float(self.delta_max_discrepancy),
            "delta_tv_discrepancy": float(self.delta_tv_discrepancy),
            "fp_max_discrepancy": float(self.fp_max_discrepancy),
            "fp_tv_discrepancy": float(self.fp_tv_discrepancy),
            "orbit_volume_vs_fp": [float(x) for x in self.orbit_volume_vs_fp],
            "volume_preserving": bool(self.volume_preserving),
            "max_divergence": float(self.max_divergence),
            "langevin": self.langevin,
        }

    def table(self):
        """Plain-text table: one row per gauge, then the discrepancies across gauges.

        Returns
        -------
        text : str
        """
        lines = [f"gauge invariance: {self.symmetry_name}, T = {self.temperature:g}",
                 f"window: {self.window}",
                 f"{'gauge':<28} {'orthogonal':>10} {'|orbit/FP-1|':>13}"
                 + ("  TV(delta,Langevin)  TV(FP,Langevin)" if self.langevin else "")]
        for i, name in enumerate(self.gauge_names):
            row = f"{name:<28} {str(self.orthogonal[i]):>10} {self.orbit_volume_vs_fp[i]:>13.2e}"
            if self.langevin:
                d = self.langevin["delta"][name]
                f = self.langevin["fp"][name]
                row += (f"  {d['tv']:.4f} [{d['tv_ci'][0]:.4f},{d['tv_ci'][1]:.4f}]"
                        f"  {f['tv']:.4f} [{f['tv_ci'][0]:.4f},{f['tv_ci'][1]:.4f}]")
            lines.append(row)
        lines.append(f"delta-conditioned: max |rho_i/rho_j - 1| = {self.delta_max_discrepancy:.3e},"
                     f" max TV = {self.delta_tv_discrepancy:.3e}")
        lines.append(f"Faddeev-Popov:     max |rho_i/rho_j - 1| = {self.fp_max_discrepancy:.3e},"
                     f" max TV = {self.fp_tv_discrepancy:.3e}")
        lines.append(f"action preserves dVol_g: {self.volume_preserving} "
                     f"(max |div_g xi| = {self.max_divergence:.2e})")
        return "\n".join(lines)


# -- kernels -------------------------------------------------------------------------------
def _normalise(log_density, axes):
    """Normalise ``exp(log_density)`` on the tensor grid of ``axes`` (Simpson per axis)."""
    dens = np.exp(log_density - np.max(log_density))
    return dens / _integrate(dens, axes)


def _integrate(values, axes):
    """Integrate ``values[..., N_1, ..., N_k]`` over the tensor grid (Simpson per axis)."""
    out = values
    for axis in reversed(axes):
        out = simpson(out, x=axis, axis=-1)
    return out


def _pairwise(dens, axes):
    """Largest relative sup-norm and total-variation discrepancy over pairs of densities."""
    sup, tv = 0.0, 0.0
    for i, j in itertools.combinations(range(dens.shape[0]), 2):
        sup = max(sup, float(np.max(np.abs(dens[i] / dens[j] - 1.0))))
        tv = max(tv, float(0.5 * _integrate(np.abs(dens[i] - dens[j]), axes)))
    return sup, tv


def _invariant_differential(invariant, points, k):
    """``dh`` at points ``[N, n]`` by autograd, shape ``[N, k, n]``."""
    rows = [elementwise_grad(lambda p, i=i: invariant(p)[..., i])(points) for i in range(k)]
    return np.stack([np.asarray(r) for r in rows], axis=-2)


def newton_section(symmetry, targets, base_point, *, tol=SECTION_TOL, max_iter=100):
    """Points with prescribed invariants, by damped Newton steps along ``g^{-1} dh``.

    Parameters
    ----------
    symmetry : Symmetry
        Its action must have an invariant ``h`` with ``k = n - m`` components.
    targets : array_like, shape=[N, k]
        Invariant values.
    base_point : array_like, shape=[n]
        Starting point of every Newton iteration.
    tol : float
    max_iter : int

    Returns
    -------
    points : ndarray, shape=[N, n]
        ``h(points) = targets``.

    Raises
    ------
    ConvergenceError
        If Newton's method does not reach ``tol``.
    """
    targets = np.asarray(targets, dtype=float)
    h = symmetry.action.invariant
    k = targets.shape[-1]
    points = np.broadcast_to(np.asarray(base_point, dtype=float),
                             targets.shape[:-1] + (symmetry.dim,)).copy()
    metric = symmetry.metric
    for _ in range(max_iter):
        resid = targets - np.asarray(h(points))
        if np.max(np.abs(resid) / np.maximum(1.0, np.abs(targets))) <= tol:
            return points
        dh = _invariant_differential(h, points, k)
        # minimum-g-norm step: delta = g^-1 dh^T (dh g^-1 dh^T)^-1 resid
        gram = metric.cometric_gram(dh, dh, points)
        coef = np.linalg.solve(gram, resid[..., None])[..., 0]
        step = np.einsum("...i,...in->...n", coef, metric.sharp(dh, points))
        # damping keeps the iteration inside the domain when the start is far from the orbit
        size = np.linalg.norm(step, axis=-1, keepdims=True)
        scale = np.linalg.norm(points, axis=-1, keepdims=True) + 1.0
        points = points + step * np.minimum(1.0, 0.5 * scale / np.maximum(size, 1e-300))
    raise ConvergenceError(
        f"The default section (Newton on h from base_point) did not reach the invariant values "
        f"within {max_iter} steps; pass `section` explicitly."
    )


def _divergence_of_fields(symmetry, points):
    """``div_g xi_a = tr(D xi_a) + (1/2) xi_a . grad log det g`` at points ``[N, n]``."""
    action = symmetry.action
    m = action.group_dim

    def fields_one(p):
        return action.fundamental_fields(p)

    out = []
    for p in points:
        jac = np.asarray(jacobian(fields_one)(p))  # [m, n, n]
        div = np.trace(jac, axis1=-2, axis2=-1)
        if not symmetry.metric.is_constant:
            glog = np.asarray(jacobian(
                lambda q: anp.linalg.slogdet(symmetry.metric.metric_matrix(q))[1])(p))
            div = div + 0.5 * np.asarray(fields_one(p)).reshape(m, -1) @ glog
        out.append(div)
    return np.asarray(out)


def _slice_log_volume(gauge, points, k):
    """``(1/2) log det(J^T g J)``: the slice's surface measure per unit of invariants."""
    sym = gauge.symmetry
    dchi = gauge.differential(points)  # [N, m, n]
    dh = _invariant_differential(sym.action.invariant, points, k)  # [N, k, n]
    system = np.concatenate([dchi, dh], axis=-2)  # [N, n, n]
    rhs = np.concatenate([np.zeros(dchi.shape[:-2] + (dchi.shape[-2], k)),
                          np.broadcast_to(np.eye(k), dh.shape[:-2] + (k, k))], axis=-2)
    jac = np.linalg.solve(system, rhs)  # [N, n, k]
    tangent = np.swapaxes(jac, -1, -2)  # [N, k, n]
    gram = sym.metric.inner_gram(tangent, tangent, points)
    return 0.5 * np.linalg.slogdet(gram)[1]


# -- main entry point ------------------------------------------------------------------------
def gauge_invariance(symmetry, gauges, loss, temperature, *, invariant_grid, section=None,
                     base_point=None, langevin_samples=None, sample_groups=None, bins=40,
                     rng=None):
    r"""Compare the reduced densities of the invariants given by several gauges.

    Parameters
    ----------
    symmetry : Symmetry
        With an invariant map ``h`` of ``k = n - m`` components (a free action).
    gauges : sequence of Gauge
        At least two gauges of ``symmetry`` (three or more to be informative), whose slices
        each meet every orbit of the grid once.
    loss : callable
        ``L(theta)``, ``[..., n] -> [...]`` (invariant).
    temperature : float
        ``T > 0``.
    invariant_grid : array_like, shape=[N] or sequence of k arrays
        Grid axes of invariant values (tensor product for ``k > 1``); its range is the window
        within which each density is normalised. Use an odd number of points per axis for
        Simpson's rule.
    section : callable, optional
        ``h_values[N, k] -> points[N, n]`` with ``h(points) = h_values`` (any representative of
        each orbit). Default: Newton's method on ``h`` from ``base_point``.
    base_point : array_like, shape=[n], optional
        Start of the default section's Newton iterations (required without ``section``).
    langevin_samples : array_like, shape=[N_s] or [N_s, 1], optional
        Samples of the invariant from a simulation (``k = 1``), already restricted to the
        observable's window; compared with every density.
    sample_groups : array_like of int, shape=[N_s], optional
        Chain index of each sample: the bootstrap resamples whole chains (time-correlated
        samples within a chain are not independent). Default: every sample independent.
    bins : int
        Number of equal-width bins of the histogram over the grid window.
    rng : numpy.random.Generator, optional
        For the bootstrap; seed 0 if omitted.

    Returns
    -------
    result : GaugeInvarianceResult

    Raises
    ------
    ShapeError
        If ``n != m + k`` or the grid does not have ``k`` axes.
    ValueError
        If fewer than two gauges are given, ``temperature <= 0``, or neither ``section`` nor
        ``base_point`` is given.
    NotFreeError, ConvergenceError
        From the projection onto a slice.

    Examples
    --------
    >>> import numpy as np
    >>> from quotientib.verify.examples import uv_symmetry, uv_log_gauge
    >>> sym = uv_symmetry()
    >>> res = gauge_invariance(sym, [sym.moment_map_gauge(), uv_log_gauge(sym)],
    ...                        lambda p: 0.5 * (p[..., 0] * p[..., 1] - 1) ** 2, 0.5,
    ...                        invariant_grid=np.linspace(0.2, 3.0, 101),
    ...                        section=lambda h: np.concatenate([h, np.ones_like(h)], -1))
    >>> res.fp_max_discrepancy < 1e-8, res.delta_max_discrepancy > 0.5
    (True, True)
    """
    gauges = list(gauges)
    if len(gauges) < 2:
        raise ValueError(f"Expected at least two gauges to compare, got {len(gauges)}.")
    temperature = float(temperature)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"Expected `temperature` > 0, got {temperature!r}.")
    n, m = symmetry.dim, symmetry.group_dim
    k = n - m
    if symmetry.action.invariant is None:
        raise ValueError("The symmetry's action has no invariant map `h` to push densities to.")
    axes = _grid_axes(invariant_grid, k)
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)  # [N_1..N_k, k]
    grid_shape = mesh.shape[:-1]
    targets = mesh.reshape(-1, k)
    if section is None:
        if base_point is None:
            raise ValueError("Pass `section` or `base_point` to place a point on every orbit.")
        start = newton_section(symmetry, targets, base_point)
    else:
        start = np.asarray(section(targets), dtype=float)
        if start.shape != (targets.shape[0], n):
            raise ShapeError(f"`section` returned shape {start.shape}; expected "
                             f"{(targets.shape[0], n)}.")
    h_start = np.asarray(symmetry.action.invariant(start)).reshape(targets.shape)
    if np.max(np.abs(h_start - targets)) > 1e-8 * max(1.0, float(np.max(np.abs(targets)))):
        raise ValueError("`section` returned points whose invariants differ from the grid.")

    log_delta, log_fp, log_orbit, orthogonal = [], [], [], []
    for gauge in gauges:
        if gauge.symmetry.dim != n or gauge.symmetry.group_dim != m:
            raise ShapeError(f"Gauge '{gauge.name}' belongs to a symmetry of another size.")
        points = gauge.project_to_slice(start)
        gauge.check_regular(points)
        base = -np.asarray(loss(points), dtype=float) / temperature
        base = base + _slice_log_volume(gauge, points, k)
        half_logdet_g = 0.5 * np.linalg.slogdet(gauge.constraint_gram(points))[1]
        logdet_m = np.linalg.slogdet(gauge.faddeev_popov(points))[1]
        half_logdet_h = 0.5 * symmetry.log_det_orbit_gram(points)
        log_delta.append((base - half_logdet_g).reshape(grid_shape))
        log_fp.append((base - half_logdet_g + logdet_m).reshape(grid_shape))
        log_orbit.append((base + half_logdet_h).reshape(grid_shape))
        orthogonal.append(bool(np.all(gauge.is_orthogonal(points))))

    delta = np.stack([_normalise(x, axes) for x in log_delta])
    fp = np.stack([_normalise(x, axes) for x in log_fp])
    orbit = np.stack([_normalise(x, axes) for x in log_orbit])
    d_sup, d_tv = _pairwise(delta, axes)
    f_sup, f_tv = _pairwise(fp, axes)
    orbit_vs_fp = tuple(float(np.max(np.abs(orbit[i] / fp[i] - 1.0)))
                        for i in range(len(gauges)))
    div = _divergence_of_fields(symmetry, start[:: max(1, len(start) // 16)])
    max_div = float(np.max(np.abs(div)))
    scale = float(np.max(np.abs(symmetry.fundamental_fields(start)))) + 1.0
    names = tuple(g.name for g in gauges)

    langevin = None
    if langevin_samples is not None:
        if k != 1:
            raise ShapeError("Comparison with Langevin samples is implemented for k = 1 only.")
        langevin = {"delta": {}, "fp": {}}
        for i, name in enumerate(names):
            langevin["delta"][name] = invariant_law_distance(
                langevin_samples, axes[0], delta[i], groups=sample_groups, bins=bins, rng=rng)
            langevin["fp"][name] = invariant_law_distance(
                langevin_samples, axes[0], fp[i], groups=sample_groups, bins=bins, rng=rng)

    window = (f"densities normalised over the invariant window "
              f"{[(float(a[0]), float(a[-1])) for a in axes]}; for a non-compact group the "
              "Faddeev-Popov density is the law of h under exp(-L/T) dVol_g restricted to a "
              "fixed Haar window of the group around the slice (valid when the action preserves "
              "dVol_g)")
    return GaugeInvarianceResult(
        symmetry_name=symmetry.name, gauge_names=names, temperature=temperature,
        invariant_axes=tuple(axes), delta_densities=delta, fp_densities=fp,
        orbit_volume_densities=orbit, orthogonal=tuple(orthogonal),
        delta_max_discrepancy=d_sup, fp_max_discrepancy=f_sup, delta_tv_discrepancy=d_tv,
        fp_tv_discrepancy=f_tv, orbit_volume_vs_fp=orbit_vs_fp,
        volume_preserving=bool(max_div <= 1e-8 * scale), max_divergence=max_div,
        langevin=langevin, window=window)


def _grid_axes(invariant_grid, k):
    if isinstance(invariant_grid, (list, tuple)) and len(invariant_grid) and \
            np.ndim(invariant_grid[0]) == 1:
        axes = [np.asarray(a, dtype=float) for a in invariant_grid]
    else:
        arr = np.asarray(invariant_grid, dtype=float)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ShapeError(f"Expected `invariant_grid` of shape (N,) or a list of k axes, got "
                             f"shape {arr.shape}.")
        axes = [arr]
    if len(axes) != k:
        raise ShapeError(
            f"The symmetry has n - m = {k} invariant directions but `invariant_grid` has "
            f"{len(axes)} axes; the slice must be parametrised by the invariants (n = m + k).")
    for a in axes:
        if a.size < 3 or np.any(np.diff(a) <= 0):
            raise ValueError("Each `invariant_grid` axis must be increasing with >= 3 points.")
    return axes


def _bin_probabilities(axis, density, edges):
    """Probability of each bin under a grid density (cumulative trapezoid + interpolation)."""
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(axis))])
    cdf = np.interp(edges, axis, cum)
    prob = np.diff(cdf)
    return prob / prob.sum()


def invariant_law_distance(samples, axis, density, *, groups=None, bins=40, rng=None,
                           n_bootstrap=N_BOOTSTRAP):
    """Total-variation and Kolmogorov-Smirnov distances of samples to a grid density.

    Both are computed on a histogram of ``bins`` equal bins spanning ``axis`` (samples outside
    are dropped), with a percentile bootstrap over groups (chains).

    Parameters
    ----------
    samples : array_like, shape=[N_s] or [N_s, 1]
    axis : array_like, shape=[N]
        Grid of the density (its range is the window).
    density : array_like, shape=[N]
        Density values on ``axis`` (normalised or not).
    groups : array_like of int, shape=[N_s], optional
        Chain index of each sample; bootstrap resamples chains.
    bins : int
    rng : numpy.random.Generator, optional
    n_bootstrap : int

    Returns
    -------
    distance : dict
        ``tv``, ``tv_ci`` (95 %), ``ks``, ``ks_ci``, ``n_samples``, ``bins``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    samples = np.asarray(samples, dtype=float).reshape(-1)
    axis = np.asarray(axis, dtype=float)
    edges = np.linspace(axis[0], axis[-1], int(bins) + 1)
    prob = _bin_probabilities(axis, np.asarray(density, dtype=float), edges)
    groups = np.arange(samples.size) if groups is None else np.asarray(groups).reshape(-1)
    inside = (samples >= edges[0]) & (samples <= edges[-1])
    samples, groups = samples[inside], groups[inside]
    if samples.size == 0:
        raise ValueError("No sample falls inside the invariant window.")
    _, gid = np.unique(groups, return_inverse=True)
    n_groups = gid.max() + 1
    idx = np.clip(np.searchsorted(edges, samples, side="right") - 1, 0, int(bins) - 1)
    counts = np.zeros((n_groups, int(bins)))
    np.add.at(counts, (gid, idx), 1.0)

    def distances(c):
        emp = c / c.sum()
        return 0.5 * np.abs(emp - prob).sum(), np.max(np.abs(np.cumsum(emp) - np.cumsum(prob)))

    tv, ks = distances(counts.sum(0))
    boot = np.empty((n_bootstrap, 2))
    for b in range(n_bootstrap):
        pick = rng.integers(0, n_groups, n_groups)
        boot[b] = distances(counts[pick].sum(0))
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    return {"tv": float(tv), "tv_ci": [float(lo[0]), float(hi[0])], "ks": float(ks),
            "ks_ci": [float(lo[1]), float(hi[1])], "n_samples": int(samples.size),
            "bins": int(bins)}
