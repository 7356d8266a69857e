"""Shared plumbing of the paper's experiments: seeds, configurations, summaries, results files.

Every experiment module builds a results dictionary with :func:`new_results`, fills in metrics
with :func:`summarize`, decides a verdict with :func:`verdict` (the criterion is written into the
file beside the decision) and writes it with :func:`write_results`. Figures are PNGs saved with
:func:`save_figure` at a small dpi.
"""

import json
import os
import time
import zlib

import numpy as np

from quotientib.errors import DivergenceError

__all__ = [
    "seed_list",
    "seed_rngs",
    "resolve_config",
    "new_results",
    "summarize",
    "verdict",
    "write_results",
    "output_dir",
    "save_figure",
    "run_sgd",
    "log_ratio_stats",
    "add_curves",
]

#: Figures are for the docs: small files.
FIGURE_DPI = 80


def seed_list(seeds):
    """Seeds as a list of ints: an int ``k`` means ``0, ..., k-1``.

    Parameters
    ----------
    seeds : int or sequence of int

    Returns
    -------
    seeds : list of int
    """
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"Expected `seeds` to be a positive int, got {seeds}.")
        return list(range(int(seeds)))
    out = [int(s) for s in seeds]
    if not out:
        raise ValueError("Expected at least one seed, got an empty sequence.")
    return out


def seed_rngs(name, seeds):
    """One Generator per seed for the data of one experiment (teacher, measurements, tests).

    The stream depends on the experiment's name and the seed only, so seed ``k`` draws the same
    teacher whatever the other seeds of the ensemble are.

    Parameters
    ----------
    name : str
    seeds : list of int

    Returns
    -------
    rngs : list of numpy.random.Generator
    """
    tag = zlib.crc32(name.encode())
    return [np.random.default_rng([tag, int(s)]) for s in seeds]


def training_rng(name, seeds):
    """The Generator of the mini-batches and noise of the vectorised ensemble of ``seeds``."""
    tag = zlib.crc32(name.encode())
    return np.random.default_rng([tag, 7919] + [int(s) for s in seeds])


def resolve_config(configs, mode, overrides=None):
    """The configuration of ``mode`` updated by ``overrides``.

    Parameters
    ----------
    configs : dict mode -> dict
    mode : {"quick", "full"}
    overrides : dict or None
        Keys must exist in the configuration (a typo is an error, not a silent no-op).

    Returns
    -------
    config : dict
    """
    if mode not in configs:
        raise ValueError(f"Expected `mode` in {sorted(configs)}, got {mode!r}.")
    config = dict(configs[mode])
    for key, value in (overrides or {}).items():
        if key not in config:
            raise ValueError(
                f"Unknown configuration key {key!r}; known keys: {sorted(config)}."
            )
        config[key] = value
    return config


def new_results(name, description, mode, config, seeds, paper, notes=()):
    """The skeleton of a results dictionary.

    Parameters
    ----------
    name, description : str
    mode : str
    config : dict
    seeds : list of int
    paper : dict
        The paper's reported numbers and where they are printed.
    notes : sequence of str
        Choices the paper does not state, and deviations.

    Returns
    -------
    results : dict
    """
    return {
        "experiment": name,
        "description": description,
        "mode": mode,
        "seeds": list(seeds),
        "config": dict(config),
        "paper": dict(paper),
        "notes": list(notes),
        "metrics": {},
        "verdicts": {},
        "status": "completed",
        "figures": [],
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def begin(module, mode, seeds, overrides=None):
    """Resolve an experiment module's configuration, seeds and empty results, in one call.

    Every experiment's ``run`` starts the same way; this is that start.

    Parameters
    ----------
    module : module
        The experiment module (its ``NAME``, ``DESCRIPTION``, ``CONFIGS``, ``PAPER``, ``NOTES``).
    mode : {"quick", "full"}
    seeds : int or sequence of int
    overrides : dict, optional

    Returns
    -------
    config : dict
    seeds : list of int
    results : dict
    """
    config = resolve_config(module.CONFIGS, mode, overrides)
    seeds = seed_list(seeds)
    results = new_results(module.NAME, module.DESCRIPTION, mode, config, seeds, module.PAPER,
                          module.NOTES)
    return config, seeds, results


def summarize(values, paper=None):
    """Per-seed values with their mean and sample standard deviation.

    Parameters
    ----------
    values : array_like, shape=[seeds, ...]
    paper : float or None
        The paper's number for the same quantity, kept beside ours.

    Returns
    -------
    summary : dict
        ``per_seed``, ``mean``, ``sd`` (``ddof=1``; 0 for one seed) and ``paper``.
    """
    arr = np.asarray(values, dtype=float)
    sd = arr.std(axis=0, ddof=1) if arr.shape[0] > 1 else np.zeros(arr.shape[1:])
    return {
        "per_seed": arr.tolist(),
        "mean": arr.mean(axis=0).tolist(),
        "sd": np.asarray(sd).tolist(),
        "paper": paper,
    }


def verdict(name, criterion, holds, evidence):
    """A verdict entry: the criterion in words, whether the data meet it, and the numbers used.

    Parameters
    ----------
    name : str
        The claim, in the paper's words.
    criterion : str
    holds : bool
    evidence : dict

    Returns
    -------
    entry : dict
    """
    return {
        "claim": name,
        "criterion": criterion,
        "verdict": "holds" if bool(holds) else "fails",
        "evidence": _jsonable(evidence),
    }


def log_ratio_stats(ratios):
    """Spread of balance ratios around 1, per seed.

    Parameters
    ----------
    ratios : array_like, shape=[seeds, units]

    Returns
    -------
    median_abs_log : ndarray, shape=[seeds]
        ``median_i |log ratio_i|``.
    frac_within_10 : ndarray, shape=[seeds]
        Fraction of units with ``|ratio - 1| < 0.1``.
    """
    r = np.asarray(ratios, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.abs(np.log(r))
    return np.nanmedian(lr, axis=-1), np.mean(np.abs(r - 1.0) < 0.1, axis=-1)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if np.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    return obj


def add_curves(results, record_steps, curves):
    """Keep learning curves (``[seeds, records]`` arrays) in ``results['curves']``."""
    store = results.setdefault("curves", {})
    store["record_steps"] = np.asarray(record_steps).tolist()
    for key, val in curves.items():
        store[key] = np.asarray(val, dtype=float).tolist()


def output_dir(out, name):
    """Create and return ``out/name``."""
    path = os.path.join(os.fspath(out), name)
    os.makedirs(path, exist_ok=True)
    return path


def write_results(path, results):
    """Write ``results`` as ``path/results.json`` (non-finite floats become null).

    Returns
    -------
    file : str
    """
    results = dict(results)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    file = os.path.join(path, "results.json")
    with open(file, "w") as fh:
        json.dump(_jsonable(results), fh, indent=1, allow_nan=False)
    return file


def save_figure(fig, path, filename, results):
    """Save ``fig`` as a PNG in ``path``, close it, and list it in ``results['figures']``."""
    import matplotlib.pyplot as plt

    file = os.path.join(path, filename)
    fig.savefig(file, dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(fig)
    results["figures"].append(filename)
    return file


def iteration_axis(ax):
    """Label an axis of SGD iterations, with its ticks in scientific notation."""
    ax.set_xlabel("SGD iteration")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))


def pyplot():
    """matplotlib.pyplot with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def run_sgd(grad_batch, sample_batch, x0, *, lr, n_steps, rng, record_every, observables,
            progress, results, label):
    """Mini-batch SGD through :func:`quotientib.dynamics.sgd`, keeping what a divergence left.

    A divergence is recorded in ``results`` (status and step) and the partial record returned,
    so one exploding model does not erase the others of the experiment.

    Returns
    -------
    res : SimulationResult
    """
    from quotientib.dynamics import sgd

    try:
        return sgd(grad_batch, sample_batch, x0, lr=lr, n_steps=n_steps, rng=rng,
                   record_every=record_every, observables=observables, progress=progress)
    except DivergenceError as err:
        results["status"] = "diverged"
        results.setdefault("divergences", {})[label] = {"step": err.step, "message": str(err)}
        return err.result


def sgd_ratio_curve(times, values):
    """Keep finite records only (for plotting a partially diverged run)."""
    ok = np.all(np.isfinite(values.reshape(values.shape[0], values.shape[1], -1)), axis=(0, 2))
    return times[ok], values[:, ok]


class BlockSampler:
    """Serve one mini-batch per call from blocks drawn many steps at a time.

    Drawing the inputs (and the teacher's labels) of ``block`` steps in one vectorised call
    removes the per-step cost of small random draws; the stream is still a function of the
    Generator passed to the first call.

    Parameters
    ----------
    draw : callable
        ``(rng, n) -> tuple of arrays, each with leading axis n`` (n steps' batches).
    block : int
        Largest number of steps per draw.
    step_elements : int, optional
        Number of array elements one step's batch holds (all chains); the block is shortened
        so that a block holds about ``BLOCK_ELEMENTS`` elements and stays in cache.
    """

    BLOCK_ELEMENTS = 1 << 16

    def __init__(self, draw, block=256, step_elements=None):
        if step_elements is not None:
            block = min(block, max(1, self.BLOCK_ELEMENTS // max(1, int(step_elements))))
        self.draw, self.block = draw, int(block)
        self.buf, self.i, self.rng = None, self.block, None

    def __call__(self, rng):
        # A call with another Generator (e.g. a shape probe) must not leave its draws behind.
        if self.i >= self.block or rng is not self.rng:
            self.rng = rng
            self.buf = self.draw(rng, self.block)
            self.i = 0
        i = self.i
        self.i += 1
        return tuple(a[i] for a in self.buf)
