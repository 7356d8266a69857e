"""The one loop over steps shared by every dynamics: record, check finiteness, report progress."""

import sys

import numpy as np

from quotientib.dynamics._result import Recorder

#: Minimum number of steps between two progress-bar updates (tqdm calls cost microseconds).
PROGRESS_CHUNK = 1000


def _progress_bar(progress, total, desc):
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", leave=False)


def check_rng(rng):
    """Raise TypeError unless ``rng`` is a numpy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"Expected `rng` to be a numpy.random.Generator, got {type(rng).__name__}; use "
            "numpy.random.default_rng(seed)."
        )
    return rng


def rng_state(rng):
    """A JSON-friendly copy of a Generator's state (kept in the result config)."""
    if rng is None:
        return None
    state = rng.bit_generator.state
    return {"bit_generator": state["bit_generator"], "state": str(state["state"])}


def run_loop(step, x, *, n_steps, record_every, observables, keep_trajectory, progress, config,
             desc):
    """Advance ``x`` in place with ``step(x, k)`` for ``k = 1..n_steps`` and record.

    Returns the frozen :class:`SimulationResult`; raises DivergenceError (carrying the partial
    result) at the first record, or at the end, where some chain is non-finite.
    """
    rec = Recorder(x, n_steps, record_every, observables, keep_trajectory, config)
    bar = _progress_bar(progress, n_steps, desc)
    rec.record(x, 0)
    last_update = 0
    try:
        # Overflow on the way to a divergence is expected and reported by DivergenceError.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for k in range(1, n_steps + 1):
                step(x, k)
                if k % record_every == 0:
                    n_bad = rec.record(x, k)
                    if n_bad:
                        rec.diverged(x, k, n_bad)
                    if bar is not None and k - last_update >= PROGRESS_CHUNK:
                        bar.update(k - last_update)
                        last_update = k
                elif bar is not None and k - last_update >= PROGRESS_CHUNK:
                    bar.update(k - last_update)
                    last_update = k
            if n_steps % record_every != 0:
                n_bad = int(np.count_nonzero(~np.isfinite(x).all(axis=1)))
                if n_bad:
                    rec.diverged(x, n_steps, n_bad)
    finally:
        if bar is not None:
            bar.update(n_steps - last_update if rec.count else 0)
            bar.close()
    return rec.result(x, n_steps, "completed")
