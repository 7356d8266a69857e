r"""Overdamped Langevin dynamics with isotropic (or projected) noise, on an ensemble of chains.

.. math:: dX = -\nabla L(X)\,dt + \sqrt{2T}\,dW,

whose stationary law (when normalisable) is ``exp(-L/T) dx``. With ``noise_projection`` the noise
is ``sqrt(2T) P(X) dW`` (Ito), e.g. the horizontal projection of a symmetry.
"""

import numpy as np

from quotientib.dynamics._engine import check_rng, rng_state, run_loop
from quotientib.dynamics._result import check_initial_state, check_steps
from quotientib.dynamics.steppers import GaussianStream, get_stepper
from quotientib.errors import ShapeError

__all__ = ["langevin"]


def _check_positive(value, name):
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive finite number, got {value!r}.")
    return value


def _checked_gradient(grad_loss, x):
    """Evaluate grad_loss once on x0 to check its shape (a clear error beats a broadcast)."""
    if not callable(grad_loss):
        raise TypeError(f"Expected `grad_loss` to be callable, got {type(grad_loss).__name__}.")
    g = np.asarray(grad_loss(x))
    if g.shape != x.shape:
        raise ShapeError(
            f"`grad_loss` returned shape {g.shape} for x of shape {x.shape}; it must map "
            "[chains, n] to [chains, n]."
        )


def langevin(grad_loss, x0, *, temperature, dt, n_steps, rng, scheme="euler_maruyama",
             record_every=1, observables=None, keep_trajectory=False, progress=None,
             noise_projection=None):
    r"""Simulate overdamped Langevin dynamics ``dX = -grad L dt + sqrt(2T) dW`` for many chains.

    Parameters
    ----------
    grad_loss : callable
        ``x[chains, n] -> grad L(x) [chains, n]``, vectorised over chains.
    x0 : array_like, shape=[chains, n]
        Initial states (copied).
    temperature : float
        ``T > 0``; the noise is ``sqrt(2 T dt) xi`` per step.
    dt : float
        Step size ``> 0``.
    n_steps : int
        Number of steps.
    rng : numpy.random.Generator
        Source of the noise; same seed gives a bit-identical result.
    scheme : {"euler_maruyama", "leimkuhler_matthews"}
        Time stepper (see :mod:`quotientib.dynamics.steppers` for their stationary bias).
    record_every : int
        Record observables at steps ``0, record_every, 2 record_every, ...``.
    observables : dict str -> callable, optional
        ``f(x[chains, n]) -> [chains, ...]``, evaluated at each record.
    keep_trajectory : bool
        Also store the states at each record (memory ``chains x n_records x n``).
    progress : bool or None
        tqdm progress bar; None shows it only when stderr is a terminal.
    noise_projection : callable, optional
        ``(x[chains, n], noise[chains, n]) -> [chains, n]``, applied to each Gaussian increment
        at the pre-step state (Ito). Only with ``scheme="euler_maruyama"``.

    Returns
    -------
    result : SimulationResult
        ``observables[name]`` has shape ``[chains, n_records, ...]``, ``final`` ``[chains, n]``.

    Raises
    ------
    DivergenceError
        If a chain becomes non-finite; ``error.result`` holds the records so far, ``error.step``
        the step at which it was detected.
    ShapeError
        If ``x0`` is not ``[chains, n]`` or ``grad_loss`` returns another shape.
    ValueError
        For non-positive ``temperature``/``dt`` or Leimkuhler-Matthews with a projection.

    Examples
    --------
    >>> import numpy as np
    >>> res = langevin(lambda x: x, np.zeros((4, 2)), temperature=1.0, dt=0.1, n_steps=10,
    ...                rng=np.random.default_rng(0), record_every=5,
    ...                observables={"r2": lambda x: (x ** 2).sum(-1)})
    >>> res.observables["r2"].shape
    (4, 3)
    """
    check_rng(rng)
    x = check_initial_state(x0)
    temperature = _check_positive(temperature, "temperature")
    dt = _check_positive(dt, "dt")
    n_steps, record_every = check_steps(n_steps, record_every)
    stepper = get_stepper(scheme)
    if noise_projection is not None:
        if not callable(noise_projection):
            raise TypeError("Expected `noise_projection` to be callable or None.")
        if not stepper.multiplicative_ok:
            raise ValueError(
                f"scheme={stepper.name!r} averages consecutive increments and is only valid for "
                "additive noise; use scheme='euler_maruyama' with `noise_projection`."
            )
    _checked_gradient(grad_loss, x)
    config = {
        "dynamics": "langevin", "scheme": stepper.name, "temperature": temperature, "dt": dt,
        "n_steps": n_steps, "record_every": record_every, "chains": x.shape[0], "dim": x.shape[1],
        "noise_projection": noise_projection is not None, "rng_state": rng_state(rng),
    }
    stream = GaussianStream(rng, x.shape, n_steps + stepper.extra_draws)
    scale = float(np.sqrt(2.0 * temperature * dt))
    stepper.init(x, stream, noise_projection)
    neg_dt = -dt

    def step(x, k):
        drift = np.asarray(grad_loss(x), dtype=float)
        # grad_loss may return a view of x or a cached array: never scale it in place.
        drift = drift * neg_dt
        stepper.step(x, drift, 1.0, scale, stream, noise_projection)

    return run_loop(step, x, n_steps=n_steps, record_every=record_every, observables=observables,
                    keep_trajectory=keep_trajectory, progress=progress, config=config,
                    desc="langevin")
