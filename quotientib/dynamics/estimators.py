r"""Estimators on recorded observables, with uncertainties from independent chains.

Records of one chain are autocorrelated; chains are independent. Every interval here therefore
comes from the spread across *blocks of chains* (or, with a single chain, across blocks of
time, i.e. batch means), never from treating records as independent samples.

* :func:`invariant_density`: histogram density of a scalar invariant with a pointwise
  confidence band (Student-t across blocks).
* :func:`occupation_ratio`: ``P(A) / P(B)`` of the time spent in two regions, jackknife over
  blocks.
* :func:`imbalance` and :func:`imbalance_statistics`: ``sum_a x_a^2 - sum_b x_b^2`` (e.g.
  ``u^2 - v^2``, ``|W_j|^2 - v_j^2``) and its ensemble mean, drift and contraction rate.
* :func:`compare_laws`: distance of an empirical law to each candidate law (Kolmogorov-Smirnov
  and total variation, bootstrap intervals over blocks of chains) and a verdict from them.
"""

import dataclasses

import numpy as np
from scipy import stats

from quotientib.errors import ShapeError

__all__ = [
    "DensityEstimate",
    "invariant_density",
    "OccupationRatio",
    "occupation_ratio",
    "imbalance",
    "ImbalanceStatistics",
    "imbalance_statistics",
    "LawComparison",
    "compare_laws",
]

#: Default KS threshold of :func:`compare_laws`: two CDFs within 0.02 everywhere "agree".
KS_THRESHOLD = 0.02


def _as_chain_samples(values, name="values"):
    """Return values as [chains, n_records] floats (a 1-D array is one chain)."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2:
        raise ShapeError(
            f"Expected `{name}` to have shape (chains, n_records) or (n_samples,), got {v.shape}."
        )
    if v.size == 0:
        raise ValueError(f"`{name}` is empty.")
    return v


def _blocks(values, n_blocks):
    """Split [chains, n_records] into n_blocks independent groups (by chains, else by time)."""
    chains, n_rec = values.shape
    if int(n_blocks) != n_blocks or n_blocks < 2:
        raise ValueError(f"Expected `n_blocks` to be an integer >= 2, got {n_blocks!r}.")
    if chains >= n_blocks:
        return [b.ravel() for b in np.array_split(values, n_blocks, axis=0)], "chains"
    if chains == 1 and n_rec >= n_blocks:
        return [b.ravel() for b in np.array_split(values[0], n_blocks)], "time"
    raise ValueError(
        f"Cannot form {n_blocks} independent blocks from {chains} chains of {n_rec} records; "
        "use one chain (time blocks) or at least n_blocks chains."
    )


def _t_quantile(confidence, dof):
    if not 0 < confidence < 1:
        raise ValueError(f"Expected 0 < confidence < 1, got {confidence!r}.")
    return float(stats.t.ppf(0.5 + confidence / 2, dof))


@dataclasses.dataclass(frozen=True)
class DensityEstimate:
    """Histogram density of a scalar with a pointwise confidence band.

    Attributes
    ----------
    edges : ndarray, shape=[bins + 1]
    centers : ndarray, shape=[bins]
    density : ndarray, shape=[bins]
        Pooled estimate: counts / (all samples x bin width) (mass outside ``edges`` excluded).
    stderr, lower, upper : ndarray, shape=[bins]
        Standard error across blocks and the Student-t band at ``confidence``.
    n_samples : int
    n_blocks : int
    blocking : {"chains", "time"}
    confidence : float
    fraction_outside : float
        Fraction of samples outside ``[edges[0], edges[-1]]``.
    """

    edges: np.ndarray
    centers: np.ndarray
    density: np.ndarray
    stderr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_samples: int
    n_blocks: int
    blocking: str
    confidence: float
    fraction_outside: float


def invariant_density(values, *, bins=50, range=None, n_blocks=10, confidence=0.95):
    """Histogram density of a recorded scalar invariant with a confidence band from blocks.

    Parameters
    ----------
    values : array_like, shape=[chains, n_records] or [n_samples]
        E.g. ``result.observables["r"]`` (drop burn-in records before).
    bins : int or array_like
        Number of equal bins or the edges.
    range : tuple of float, optional
        ``(lo, hi)`` for integer ``bins``; min and max of the data by default.
    n_blocks : int
        Independent blocks of chains (or of time for a single chain).
    confidence : float

    Returns
    -------
    estimate : DensityEstimate

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).standard_normal((20, 100))
    >>> invariant_density(x, bins=8, range=(-3, 3)).density.shape
    (8,)
    """
    v = _as_chain_samples(values)
    blocks, blocking = _blocks(v, n_blocks)
    flat = v.ravel()
    edges = np.histogram_bin_edges(flat, bins=bins, range=range)
    width = np.diff(edges)
    per_block = np.array([np.histogram(b, bins=edges)[0] / (b.size * width) for b in blocks])
    counts = np.histogram(flat, bins=edges)[0]
    density = counts / (flat.size * width)
    nb = len(blocks)
    stderr = per_block.std(axis=0, ddof=1) / np.sqrt(nb)
    q = _t_quantile(confidence, nb - 1)
    inside = np.count_nonzero((flat >= edges[0]) & (flat <= edges[-1]))
    return DensityEstimate(
        edges=edges, centers=0.5 * (edges[1:] + edges[:-1]), density=density, stderr=stderr,
        lower=density - q * stderr, upper=density + q * stderr, n_samples=int(flat.size),
        n_blocks=nb, blocking=blocking, confidence=float(confidence),
        fraction_outside=float(1.0 - inside / flat.size),
    )


def _region_mask(region, v, name):
    if callable(region):
        mask = np.asarray(region(v), dtype=bool)
        if mask.shape != v.shape:
            raise ShapeError(f"`{name}` returned shape {mask.shape}, expected {v.shape}.")
        return mask
    lo, hi = region
    return (v >= lo) & (v < hi)


@dataclasses.dataclass(frozen=True)
class OccupationRatio:
    """Ratio of occupation times ``P(A) / P(B)``.

    Attributes
    ----------
    ratio : float
    stderr : float
        Jackknife standard error over blocks.
    lower, upper : float
        Student-t interval at ``confidence``.
    fraction_a, fraction_b : float
        Pooled occupation fractions.
    n_blocks : int
    blocking : str
    confidence : float
    """

    ratio: float
    stderr: float
    lower: float
    upper: float
    fraction_a: float
    fraction_b: float
    n_blocks: int
    blocking: str
    confidence: float


def occupation_ratio(values, region_a, region_b, *, n_blocks=10, confidence=0.95):
    """Occupation-time ratio of two regions, ``P(values in A) / P(values in B)``.

    Parameters
    ----------
    values : array_like, shape=[chains, n_records] or [n_samples]
    region_a, region_b : tuple (lo, hi) or callable
        Half-open intervals ``[lo, hi)`` or ``values -> bool mask``.
    n_blocks : int
    confidence : float

    Returns
    -------
    ratio : OccupationRatio

    Raises
    ------
    ValueError
        If region B is never visited.
    """
    v = _as_chain_samples(values)
    in_a = _region_mask(region_a, v, "region_a").astype(float)
    in_b = _region_mask(region_b, v, "region_b").astype(float)
    a_blocks, blocking = _blocks(in_a, n_blocks)
    b_blocks, _ = _blocks(in_b, n_blocks)
    sa = np.array([b.sum() for b in a_blocks])
    sb = np.array([b.sum() for b in b_blocks])
    if sb.sum() == 0:
        raise ValueError("Region B is never visited; the occupation ratio is undefined.")
    ratio = sa.sum() / sb.sum()
    nb = len(sa)
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = (sa.sum() - sa) / (sb.sum() - sb)
    stderr = float(np.sqrt((nb - 1) / nb * np.sum((loo - loo.mean()) ** 2)))
    q = _t_quantile(confidence, nb - 1)
    return OccupationRatio(
        ratio=float(ratio), stderr=stderr, lower=float(ratio - q * stderr),
        upper=float(ratio + q * stderr), fraction_a=float(in_a.mean()),
        fraction_b=float(in_b.mean()), n_blocks=nb, blocking=blocking,
        confidence=float(confidence),
    )


def imbalance(x, pairs):
    r"""Imbalances ``D_j = sum_{a in A_j} x_a^2 - sum_{b in B_j} x_b^2``.

    Parameters
    ----------
    x : array_like, shape=[..., n]
    pairs : sequence of (index sequence, index sequence)
        ``[(A_1, B_1), ...]``; e.g. ``[([0], [1])]`` gives ``u^2 - v^2`` for ``x = (u, v)``,
        ``[(rows of W_j, [v_j]) for j]`` the per-neuron imbalances ``|W_j|^2 - v_j^2``.

    Returns
    -------
    d : ndarray, shape=[..., len(pairs)]

    Examples
    --------
    >>> import numpy as np
    >>> imbalance(np.array([[2.0, 1.0]]), [([0], [1])])
    array([[3.]])
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    out = []
    for a, b in pairs:
        a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
        if np.any(a >= n) or np.any(b >= n) or np.any(a < -n) or np.any(b < -n):
            raise ShapeError(f"Index out of range for points of dimension {n}.")
        out.append(np.sum(x[..., a] ** 2, axis=-1) - np.sum(x[..., b] ** 2, axis=-1))
    return np.stack(out, axis=-1)


@dataclasses.dataclass(frozen=True)
class ImbalanceStatistics:
    """Ensemble statistics of a scalar imbalance ``D`` over time.

    Attributes
    ----------
    times : ndarray, shape=[n_records]
    mean, stderr : ndarray, shape=[n_records]
        ``E[D](t)`` over chains and its standard error.
    mean_square, mean_square_stderr : ndarray, shape=[n_records]
        ``E[D^2](t)`` and its standard error.
    drift, drift_stderr : float
        ``E[D(t_end) - D(t_0)]`` (zero for a martingale) and its standard error (paired over
        chains).
    rate, rate_stderr : float
        Contraction rate ``lambda`` of ``E[D^2] ~ exp(-2 lambda t)``: least-squares slope of
        ``log E[D^2]`` against time, divided by -2; the error is a jackknife over 10 blocks of
        chains. Positive means contraction; ``nan`` if ``E[D^2]`` vanishes.
    n_chains : int
    """

    times: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    mean_square: np.ndarray
    mean_square_stderr: np.ndarray
    drift: float
    drift_stderr: float
    rate: float
    rate_stderr: float
    n_chains: int


def _log_slope_rate(times, ms):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(ms)
    if not np.all(np.isfinite(y)) or times.size < 2:
        return np.nan
    return float(-0.5 * np.polyfit(times, y, 1)[0])


def imbalance_statistics(values, times=None, *, n_blocks=10):
    """Mean, drift and contraction rate of an imbalance recorded over chains.

    Parameters
    ----------
    values : array_like, shape=[chains, n_records]
        ``D`` per chain and record (e.g. ``imbalance(traj, pairs)[..., 0]`` or an observable).
    times : array_like, shape=[n_records], optional
        Record times (``result.record_times(dt)``, or ``record_steps`` for discrete
        optimisers); ``0, 1, 2, ...`` by default.
    n_blocks : int
        Blocks of chains of the jackknife of the rate.

    Returns
    -------
    statistics : ImbalanceStatistics
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ShapeError(f"Expected `values` of shape (chains, n_records), got {v.shape}.")
    chains, n_rec = v.shape
    times = np.arange(n_rec, dtype=float) if times is None else np.asarray(times, dtype=float)
    if times.shape != (n_rec,):
        raise ShapeError(f"Expected `times` of shape ({n_rec},), got {times.shape}.")
    sq = v * v
    sqrt_c = np.sqrt(chains)
    ddof = 1 if chains > 1 else 0
    delta = v[:, -1] - v[:, 0]
    rate = _log_slope_rate(times, sq.mean(axis=0))
    rate_se = np.nan
    if chains >= n_blocks >= 2:
        groups = np.array_split(np.arange(chains), n_blocks)
        loo = []
        for g in groups:
            keep = np.ones(chains, dtype=bool)
            keep[g] = False
            loo.append(_log_slope_rate(times, sq[keep].mean(axis=0)))
        loo = np.array(loo)
        rate_se = float(np.sqrt((n_blocks - 1) / n_blocks * np.sum((loo - loo.mean()) ** 2)))
    return ImbalanceStatistics(
        times=times, mean=v.mean(axis=0), stderr=v.std(axis=0, ddof=ddof) / sqrt_c,
        mean_square=sq.mean(axis=0), mean_square_stderr=sq.std(axis=0, ddof=ddof) / sqrt_c,
        drift=float(delta.mean()), drift_stderr=float(delta.std(ddof=ddof) / sqrt_c),
        rate=rate, rate_stderr=rate_se, n_chains=chains,
    )


@dataclasses.dataclass(frozen=True)
class LawComparison:
    """Distances of an empirical law to candidate laws, and the verdict they imply.

    Attributes
    ----------
    names : tuple of str
    ks, ks_lower, ks_upper : dict str -> float
        Kolmogorov-Smirnov distance ``sup |F_emp - F_cand|`` (on a grid of ``grid_bins``
        cells; resolution ``ks_resolution``) and its bootstrap interval: the percentile
        interval of the replicates shifted by their bias (mean replicate minus estimate),
        clipped at 0.
    tv, tv_lower, tv_upper : dict str -> float
        Total-variation distance between the ``bins``-bin histograms (biased upwards by
        sampling noise, about ``sqrt(bins / n_eff)``; reported, not used for the verdict).
    status : dict str -> {"compatible", "rejected", "inconclusive"}
        ``compatible`` if ``ks_upper <= threshold``, ``rejected`` if ``ks_lower > threshold``.
    verdict : str
        The name of the only compatible candidate when all others are rejected; ``"none"`` when
        all are rejected; otherwise ``"inconclusive"``.
    threshold : float
        KS threshold of the verdict.
    confidence : float
    n_samples, n_groups, n_boot : int
        Samples inside the support, independent groups of chains resampled, replicates.
    support : tuple of float
    fraction_outside : float
        Fraction of samples outside the support (excluded: the laws are compared conditioned
        on the support).
    ks_resolution : float
        Largest candidate mass of one grid cell (bound on the grid error of the KS value).
    rule : str
        The verdict rule in words.
    """

    names: tuple
    ks: dict
    ks_lower: dict
    ks_upper: dict
    tv: dict
    tv_lower: dict
    tv_upper: dict
    status: dict
    verdict: str
    threshold: float
    confidence: float
    n_samples: int
    n_groups: int
    n_boot: int
    support: tuple
    fraction_outside: float
    ks_resolution: float
    rule: str

    def summary(self):
        """One line per candidate: KS and TV with intervals and status."""
        lines = [f"verdict: {self.verdict}  ({self.rule})"]
        for n in self.names:
            lines.append(
                f"  {n}: KS {self.ks[n]:.4f} [{self.ks_lower[n]:.4f}, {self.ks_upper[n]:.4f}]"
                f"  TV {self.tv[n]:.4f} [{self.tv_lower[n]:.4f}, {self.tv_upper[n]:.4f}]"
                f"  -> {self.status[n]}"
            )
        return "\n".join(lines)


def _candidate_cdf(log_density, support, grid_bins):
    """Candidate CDF at the grid edges, normalised on the support by the trapezoid rule."""
    lo, hi = support
    # Refine 8x inside each grid cell so that the quadrature error is far below the KS noise.
    fine = np.linspace(lo, hi, 8 * grid_bins + 1)
    logp = np.asarray(log_density(fine), dtype=float)
    if logp.shape != fine.shape:
        raise ShapeError(f"A candidate log density returned shape {logp.shape} for {fine.shape}.")
    logp = np.where(np.isnan(logp), -np.inf, logp)
    if not np.any(np.isfinite(logp)):
        raise ValueError("A candidate log density is -inf on the whole support.")
    p = np.exp(logp - np.max(logp[np.isfinite(logp)]))
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(fine))])
    cum /= cum[-1]
    return cum[::8]


def compare_laws(samples, log_densities, *, support, rng, bins=50, grid_bins=4096, n_boot=200,
                 n_groups=100, confidence=0.95, threshold=KS_THRESHOLD):
    """Distance of an empirical law to each candidate law, with bootstrap intervals and verdict.

    Parameters
    ----------
    samples : array_like, shape=[chains, n_records] or [n_samples]
        Recorded values (burn-in removed). Rows are independent chains; a 1-D array is read as
        iid samples.
    log_densities : dict str -> callable
        Unnormalised log densities ``r[k] -> [k]`` of the candidate laws; each is normalised on
        ``support`` by quadrature.
    support : tuple of float
        ``(lo, hi)``; samples outside are dropped and the laws compared conditioned on it.
    rng : numpy.random.Generator
        For the bootstrap.
    bins : int
        Histogram bins of the TV distance.
    grid_bins : int
        Grid cells of the KS distance.
    n_boot : int
        Bootstrap replicates (resampling groups of chains with replacement).
    n_groups : int
        Chains are pooled into at most this many independent groups before resampling.
    confidence : float
    threshold : float
        KS threshold of the verdict (stated in the result).

    Returns
    -------
    comparison : LawComparison
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"Expected `rng` to be a numpy.random.Generator, got {type(rng).__name__}.")
    if not log_densities:
        raise ValueError("`log_densities` is empty.")
    v = np.asarray(samples, dtype=float)
    if v.ndim == 1:
        v = v.reshape(-1, 1)  # iid samples: each one is its own "chain"
    if v.ndim != 2:
        raise ShapeError(f"Expected `samples` of shape (chains, n_records), got {v.shape}.")
    lo, hi = map(float, support)
    if not hi > lo:
        raise ValueError(f"Expected support (lo, hi) with hi > lo, got {support}.")
    chains = v.shape[0]
    g = int(min(n_groups, chains))
    if g < 2:
        raise ValueError("Need at least two independent chains (or iid samples) to bootstrap.")
    group_of = np.repeat(np.arange(g), np.diff(np.linspace(0, chains, g + 1).astype(int)))
    # Per-group counts on the fine KS grid; the TV histogram is a coarsening when it divides it.
    edges = np.linspace(lo, hi, grid_bins + 1)
    inside = (v >= lo) & (v <= hi)
    n_inside = int(np.count_nonzero(inside))
    if n_inside == 0:
        raise ValueError("No sample lies in the support.")
    cell = np.clip(((v - lo) / (hi - lo) * grid_bins).astype(np.int64), 0, grid_bins - 1)
    key = (group_of[:, None] * grid_bins + cell)[inside]
    counts = np.bincount(key, minlength=g * grid_bins).reshape(g, grid_bins).astype(float)
    tv_edges = np.linspace(lo, hi, bins + 1)
    tv_cell = np.searchsorted(tv_edges, edges[:-1] + 0.5 * (hi - lo) / grid_bins, side="right") - 1
    tv_cell = np.clip(tv_cell, 0, bins - 1)

    cdfs = {name: _candidate_cdf(fn, (lo, hi), grid_bins) for name, fn in log_densities.items()}
    resolution = max(float(np.max(np.diff(c))) for c in cdfs.values())

    onehot = np.zeros((grid_bins, bins))
    onehot[np.arange(grid_bins), tv_cell] = 1.0
    cand_tv = {name: np.diff(cdf) @ onehot for name, cdf in cdfs.items()}

    def distances(cnt):
        # cnt: [k, grid_bins] counts of k (pooled or resampled) ensembles
        tot = cnt.sum(axis=-1, keepdims=True)
        emp_cdf = np.concatenate([np.zeros_like(tot), np.cumsum(cnt, axis=-1)], axis=-1) / tot
        emp_tv = (cnt @ onehot) / tot
        out = {}
        for name, cdf in cdfs.items():
            ks = np.max(np.abs(emp_cdf - cdf), axis=-1)
            tv = 0.5 * np.sum(np.abs(emp_tv - cand_tv[name]), axis=-1)
            out[name] = (ks, tv)
        return out

    point = distances(counts.sum(axis=0, keepdims=True))
    weights = rng.multinomial(g, np.full(g, 1.0 / g), size=n_boot).astype(float)
    boot = distances(weights @ counts)
    alpha = (1 - confidence) / 2
    names = tuple(log_densities)
    ks = {n: float(point[n][0][0]) for n in names}
    tv = {n: float(point[n][1][0]) for n in names}
    # Distances are biased upwards by sampling noise, and so is their bootstrap distribution
    # relative to the point estimate: shift the percentile interval by the bootstrap bias.
    def interval(reps, est):
        shift = float(np.mean(reps)) - est
        lo_, hi_ = np.quantile(reps, [alpha, 1 - alpha]) - shift
        return max(float(lo_), 0.0), max(float(hi_), 0.0)

    ks_int = {n: interval(boot[n][0], ks[n]) for n in names}
    tv_int = {n: interval(boot[n][1], tv[n]) for n in names}
    ks_lo = {n: ks_int[n][0] for n in names}
    ks_hi = {n: ks_int[n][1] for n in names}
    tv_lo = {n: tv_int[n][0] for n in names}
    tv_hi = {n: tv_int[n][1] for n in names}
    status = {}
    for n in names:
        if ks_hi[n] <= threshold:
            status[n] = "compatible"
        elif ks_lo[n] > threshold:
            status[n] = "rejected"
        else:
            status[n] = "inconclusive"
    compatible = [n for n in names if status[n] == "compatible"]
    if len(compatible) == 1 and all(status[n] == "rejected" for n in names if n != compatible[0]):
        verdict = compatible[0]
    elif all(s == "rejected" for s in status.values()):
        verdict = "none"
    else:
        verdict = "inconclusive"
    rule = (
        f"a candidate is compatible if the upper {confidence:.0%} bootstrap bound of its KS "
        f"distance is <= {threshold}, rejected if the lower bound is > {threshold}; the verdict "
        "names the only compatible candidate when all others are rejected"
    )
    return LawComparison(
        names=names, ks=ks, ks_lower=ks_lo, ks_upper=ks_hi, tv=tv, tv_lower=tv_lo,
        tv_upper=tv_hi, status=status, verdict=verdict, threshold=float(threshold),
        confidence=float(confidence), n_samples=n_inside, n_groups=g, n_boot=int(n_boot),
        support=(lo, hi), fraction_outside=float(1.0 - n_inside / v.size),
        ks_resolution=resolution, rule=rule,
    )
