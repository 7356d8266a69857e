"""Numerical verification of the paper's mathematics: Proposition 1, the coarea identity,
moment maps, gauge invariance, and theory-versus-simulation validations."""

from quotientib.verify.coarea import CoareaResult, coarea_check, delta_integral, slice_integral
from quotientib.verify.proposition1 import Proposition1Result, proposition_1

__all__ = [
    "Proposition1Result",
    "proposition_1",
    "CoareaResult",
    "coarea_check",
    "delta_integral",
    "slice_integral",
]
