"""The frozen record of a simulation and the streaming recorder that fills it.

A simulation never stores its trajectory unless asked: observables are evaluated every
``record_every`` steps into arrays preallocated once, so memory is ``chains x n_records`` per
observable, whatever the number of steps.
"""

import dataclasses
import time
from types import MappingProxyType

import numpy as np

from quotientib.errors import DivergenceError, ShapeError

__all__ = ["SimulationResult"]


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """What a simulation recorded.

    Attributes
    ----------
    observables : mapping str -> ndarray, shape=[chains, n_records, ...]
        Each observable evaluated at the recorded steps (read-only mapping).
    record_steps : ndarray of int, shape=[n_records]
        The step index of every record (``0`` is the initial state when it is recorded).
    final : ndarray, shape=[chains, n]
        The state after the last completed step.
    trajectory : ndarray, shape=[chains, n_records, n], or None
        The recorded states, only when ``keep_trajectory=True``.
    status : {"completed", "diverged"}
    n_steps_done : int
        Number of steps completed.
    wall_time : float
        Seconds spent in the simulation loop.
    config : mapping
        The settings of the run (scheme, temperature, dt, seed state, ...).
    """

    observables: MappingProxyType
    record_steps: np.ndarray
    final: np.ndarray
    trajectory: np.ndarray | None
    status: str
    n_steps_done: int
    wall_time: float
    config: MappingProxyType

    @property
    def n_records(self):
        """Number of records."""
        return int(self.record_steps.shape[0])

    @property
    def n_chains(self):
        """Number of chains."""
        return int(self.final.shape[0])

    def record_times(self, dt):
        """Times ``record_steps * dt`` of the records.

        Parameters
        ----------
        dt : float

        Returns
        -------
        times : ndarray, shape=[n_records]
        """
        return self.record_steps * float(dt)


def check_initial_state(x0):
    """Return ``x0`` as a float array [chains, n] (a copy), or raise ShapeError."""
    x = np.array(x0, dtype=float, copy=True)
    if x.ndim != 2:
        raise ShapeError(
            f"Expected `x0` to have shape (chains, n), got {x.shape}; pass a single chain as "
            "x0[None, :]."
        )
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ShapeError(
            f"Expected `x0` to have at least one chain and one coordinate, got {x.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("`x0` has non-finite entries.")
    return x


def check_steps(n_steps, record_every):
    """Validate the step counts."""
    if int(n_steps) != n_steps or n_steps < 0:
        raise ValueError(f"Expected `n_steps` to be a non-negative integer, got {n_steps!r}.")
    if int(record_every) != record_every or record_every < 1:
        raise ValueError(
            f"Expected `record_every` to be a positive integer, got {record_every!r}."
        )
    return int(n_steps), int(record_every)


class Recorder:
    """Preallocated streaming storage of observables (private helper of the engines).

    Records are taken at steps ``0, record_every, 2 record_every, ...`` up to ``n_steps``.
    """

    def __init__(self, x0, n_steps, record_every, observables, keep_trajectory, config):
        if observables is None:
            observables = {}
        if not isinstance(observables, dict):
            raise TypeError(
                f"Expected `observables` to be a dict name -> callable, got {type(observables)}."
            )
        for name, fn in observables.items():
            if not callable(fn):
                raise TypeError(f"Observable {name!r} is not callable.")
        self.fns = dict(observables)
        self.steps = np.arange(0, n_steps + 1, record_every, dtype=np.int64)
        self.chains, self.dim = x0.shape
        self.arrays = {}
        for name, fn in self.fns.items():
            val = np.asarray(fn(x0), dtype=float)
            if val.ndim < 1 or val.shape[0] != self.chains:
                raise ShapeError(
                    f"Observable {name!r} returned shape {val.shape} for x of shape {x0.shape}; "
                    "expected (chains, ...)."
                )
            self.arrays[name] = np.empty((self.chains, self.steps.size) + val.shape[1:])
        self.trajectory = (
            np.empty((self.chains, self.steps.size, self.dim)) if keep_trajectory else None
        )
        self.count = 0
        self.config = dict(config)
        self.t0 = time.perf_counter()

    def record(self, x, step):
        """Store observables of ``x`` at ``step``; return the number of non-finite chains."""
        i = self.count
        for name, fn in self.fns.items():
            self.arrays[name][:, i] = fn(x)
        if self.trajectory is not None:
            self.trajectory[:, i] = x
        self.count += 1
        bad = ~np.isfinite(x).all(axis=1)
        return int(np.count_nonzero(bad))

    def result(self, x, n_steps_done, status):
        """Build the frozen result (truncated to what was recorded)."""
        k = self.count
        obs = {name: arr[:, :k] for name, arr in self.arrays.items()}
        traj = None if self.trajectory is None else self.trajectory[:, :k]
        return SimulationResult(
            observables=MappingProxyType(obs),
            record_steps=self.steps[:k].copy(),
            final=np.array(x, copy=True),
            trajectory=traj,
            status=status,
            n_steps_done=int(n_steps_done),
            wall_time=time.perf_counter() - self.t0,
            config=MappingProxyType(self.config),
        )

    def diverged(self, x, step, n_bad):
        """Raise DivergenceError carrying the partial result."""
        partial = self.result(x, step, "diverged")
        raise DivergenceError(
            f"The simulation diverged at step {step}: {n_bad} of {self.chains} chains have "
            f"non-finite coordinates. The partial result (records up to step {step}) is in "
            "`error.result`; reduce the step size or add confinement.",
            result=partial,
            step=step,
        )
