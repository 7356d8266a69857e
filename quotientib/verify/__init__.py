"""Numerical verification of the paper's mathematics.

Proposition 1, the coarea identity, moment maps, gauge invariance, and the
theory-versus-simulation validations.
"""

from quotientib.verify.coarea import CoareaResult, coarea_check, delta_integral, slice_integral
from quotientib.verify.gauge_invariance import (
    GaugeInvarianceResult,
    gauge_invariance,
    invariant_law_distance,
    newton_section,
)
from quotientib.verify.proposition1 import Proposition1Result, proposition_1
from quotientib.verify.validations import (
    balancing_validation,
    compare_with_candidates,
    gauge_invariance_validation,
    metric_validation,
    radial_validation,
    uv_law_validation,
)
from quotientib.verify.validations import run_all as run_validations

__all__ = [
    "Proposition1Result",
    "proposition_1",
    "CoareaResult",
    "coarea_check",
    "delta_integral",
    "slice_integral",
    "GaugeInvarianceResult",
    "gauge_invariance",
    "invariant_law_distance",
    "newton_section",
    "radial_validation",
    "uv_law_validation",
    "balancing_validation",
    "metric_validation",
    "gauge_invariance_validation",
    "compare_with_candidates",
    "run_validations",
]
