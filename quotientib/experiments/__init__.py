"""The paper's experiments, reproduced end to end.

Each experiment is a module with a ``run(mode, seeds, out, progress, overrides)`` function that
trains a vectorised ensemble (one chain per seed) with :func:`quotientib.dynamics.sgd` and writes
``out/NAME/results.json`` (configuration, per-seed metrics, mean and spread, the paper's numbers
beside ours, verdicts with their criteria) and PNG figures.

Examples
--------
>>> from quotientib.experiments import list_experiments
>>> len(list_experiments()) >= 9
True
"""

import importlib
import json
import os
import time

from quotientib.experiments.registry import EXPERIMENTS

__all__ = ["list_experiments", "reproduce", "get_run"]


def list_experiments():
    """The registered experiments.

    Returns
    -------
    experiments : list of (str, str)
        ``(name, one-line description)`` in the registry's order.
    """
    return [(name, entry[2]) for name, entry in EXPERIMENTS.items()]


def get_run(name):
    """The ``run`` function of experiment ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not registered.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"Unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}.")
    module, func, _ = EXPERIMENTS[name]
    return getattr(importlib.import_module(module), func)


def reproduce(names, *, mode="quick", seeds=3, out="results", progress=None, overrides=None):
    """Run experiments and write their results folders.

    Parameters
    ----------
    names : str, sequence of str, or "all"
    mode : {"quick", "full"}
        ``quick``: shorter runs that still show the effect (all experiments together within
        minutes); ``full``: the paper's iteration counts.
    seeds : int or sequence of int
        Number of seeds (``k`` means seeds ``0..k-1``), run as one vectorised ensemble.
    out : str
        Output folder; experiment ``NAME`` writes ``out/NAME/results.json`` and PNGs.
    progress : bool or None
        Progress bars; ``None`` (default) shows them only when stderr is a terminal.
    overrides : dict name -> dict, optional
        Per-experiment configuration overrides (e.g. tiny sizes in tests).

    Returns
    -------
    results : dict name -> results dict
        Each results dict also carries ``wall_time`` (seconds).
    """
    if isinstance(names, str):
        names = list(EXPERIMENTS) if names == "all" else [names]
    names = list(names)
    for name in names:
        if name not in EXPERIMENTS:
            raise ValueError(f"Unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}.")
    if mode not in ("quick", "full"):
        raise ValueError(f"Expected `mode` to be 'quick' or 'full', got {mode!r}.")
    overrides = overrides or {}
    out_all = {}
    for name in names:
        t0 = time.perf_counter()
        res = get_run(name)(mode=mode, seeds=seeds, out=out, progress=progress,
                            overrides=overrides.get(name))
        res["wall_time"] = time.perf_counter() - t0
        _record_wall_time(out, name, res["wall_time"])
        out_all[name] = res
    return out_all


def _record_wall_time(out, name, seconds):
    """Add the run's wall time to ``out/name/results.json``."""
    file = os.path.join(os.fspath(out), name, "results.json")
    with open(file) as fh:
        data = json.load(fh)
    data["wall_time"] = seconds
    with open(file, "w") as fh:
        json.dump(data, fh, indent=1, allow_nan=False)
