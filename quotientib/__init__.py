"""quotientib: the implicit bias that continuous parameter symmetries induce, computed.

Import order matters for geomstats, which picks its array backend once: importing quotientib
selects geomstats' autograd backend (see :mod:`quotientib._backend`).
"""

# ruff: noqa: I001  (import order matters: the backend module must run before geomstats loads)

from quotientib import _backend  # noqa: F401  (must run before geomstats is imported)
from quotientib.action import LieGroupAction, check_invariance
from quotientib.errors import (
    ConvergenceError,
    DivergenceError,
    MetricNotSPDError,
    NotClosedError,
    NotFreeError,
    NotInvariantError,
    NotRegularValueError,
    QuotientIBError,
    ShapeError,
    SubalgebraNotClosedError,
)
from quotientib.gauge import Gauge
from quotientib.metric import (
    ConstantMetric,
    EuclideanMetric,
    FieldMetric,
    GeomstatsMetric,
    MetricField,
    as_metric,
)
from quotientib.symmetry import Symmetry

# Subpackages, importable as attributes (quotientib.catalog, quotientib.dynamics, ...).
from quotientib import balance as balance  # noqa: E402  (the module; see balance.balance)
from quotientib import catalog, design, dynamics, verify  # noqa: E402
from quotientib.balance import BalanceResult, reduced_bias  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "balance",
    "catalog",
    "design",
    "dynamics",
    "verify",
    "BalanceResult",
    "reduced_bias",
    "LieGroupAction",
    "check_invariance",
    "Symmetry",
    "Gauge",
    "MetricField",
    "EuclideanMetric",
    "ConstantMetric",
    "FieldMetric",
    "GeomstatsMetric",
    "as_metric",
    "QuotientIBError",
    "ShapeError",
    "MetricNotSPDError",
    "NotFreeError",
    "NotRegularValueError",
    "NotInvariantError",
    "NotClosedError",
    "SubalgebraNotClosedError",
    "ConvergenceError",
    "DivergenceError",
]
