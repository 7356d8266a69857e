"""Stochastic dynamics on ensembles of chains: Langevin, Riemannian Langevin, GD, SGD.

Every engine works on arrays ``x[chains, n]`` with a single Python loop over steps, streams
observables every ``record_every`` steps into preallocated arrays, is reproducible from a
``numpy.random.Generator`` and raises :class:`~quotientib.errors.DivergenceError` (with the
partial :class:`SimulationResult`) when a chain becomes non-finite.
"""

from quotientib.dynamics._result import SimulationResult
from quotientib.dynamics.estimators import (
    DensityEstimate,
    ImbalanceStatistics,
    LawComparison,
    OccupationRatio,
    compare_laws,
    imbalance,
    imbalance_statistics,
    invariant_density,
    occupation_ratio,
)
from quotientib.dynamics.horizontal import horizontal_langevin, horizontal_noise_projection
from quotientib.dynamics.langevin import langevin
from quotientib.dynamics.models import (
    QuadraticModel,
    RadialModel,
    UVModel,
    UVRegression,
    autograd_gradient,
)
from quotientib.dynamics.optimizers import (
    ClippedNoise,
    GaussianNoise,
    StudentTNoise,
    gradient_descent,
    sgd,
)
from quotientib.dynamics.riemannian import (
    autograd_metric_derivative,
    metric_drift_correction,
    riemannian_langevin,
)
from quotientib.dynamics.steppers import EulerMaruyama, LeimkuhlerMatthews

__all__ = [
    "SimulationResult",
    "langevin",
    "riemannian_langevin",
    "horizontal_langevin",
    "horizontal_noise_projection",
    "metric_drift_correction",
    "autograd_metric_derivative",
    "gradient_descent",
    "sgd",
    "GaussianNoise",
    "StudentTNoise",
    "ClippedNoise",
    "EulerMaruyama",
    "LeimkuhlerMatthews",
    "UVModel",
    "RadialModel",
    "QuadraticModel",
    "UVRegression",
    "autograd_gradient",
    "invariant_density",
    "DensityEstimate",
    "occupation_ratio",
    "OccupationRatio",
    "imbalance",
    "imbalance_statistics",
    "ImbalanceStatistics",
    "compare_laws",
    "LawComparison",
]
