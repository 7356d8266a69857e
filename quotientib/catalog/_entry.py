"""The record a catalog family returns: a symmetry plus what is known about it in closed form."""

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from quotientib.symmetry import Symmetry

__all__ = ["CatalogEntry"]


@dataclass(frozen=True)
class CatalogEntry:
    """A ready-made symmetry with its closed forms and the paper's printed claims.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"hadamard"``.
    group : str
        The group, e.g. ``"(R_>0)^d"``, ``"GL(r)"``, ``"O(r)"``.
    symmetry : Symmetry
        The symmetry (action + metric) on flattened parameters ``[..., n]``.
    pack : callable
        ``pack(**arrays) -> theta [..., n]``: model parameters to a flat point.
    unpack : callable
        ``unpack(theta) -> dict`` of model parameter arrays with leading batch axes.
    random_point : callable
        ``random_point(rng, batch_shape=()) -> theta [*batch_shape, n]``, a generic point
        where the action is free.
    orbit_gram_formula : str
        ``H`` in words/symbols, for the catalog table.
    moment_map_formula : str
        The moment map (``"none"`` when the 1-forms are not closed).
    argmin_condition : str
        The condition satisfied at the argmin over the orbit of ``log det H``, as computed.
    paper_condition : str
        The condition the paper prints (with its location), or ``""`` if it prints none.
    paper_reduced_bias : callable or None
        The paper's closed form for ``min_orbit log det H`` as a function of ``theta``
        (``[..., n] -> [...]``), or None.
    argmin_residual : callable or None
        ``theta -> [...]``: zero exactly when ``theta`` satisfies ``argmin_condition``.
    paper_residual : callable or None
        ``theta -> [...]``: zero exactly when ``theta`` satisfies ``paper_condition``.
    expected_status : str
        What :func:`quotientib.balance` should report: ``"minimum"``, ``"unbounded"`` or
        ``"constant"``.
    notes : str
        Anything a reader of the table must know (e.g. where the paper and the maths differ).
    """

    name: str
    group: str
    symmetry: Symmetry
    pack: Callable
    unpack: Callable
    random_point: Callable
    orbit_gram_formula: str
    moment_map_formula: str
    argmin_condition: str
    paper_condition: str = ""
    paper_reduced_bias: Optional[Callable] = None
    argmin_residual: Optional[Callable] = None
    paper_residual: Optional[Callable] = None
    expected_status: str = "minimum"
    notes: str = ""
    extra: dict = field(default_factory=dict)

    def reduced_log_det(self, theta):
        """Closed-form ``min_orbit log det H`` at ``theta`` ([..., n] -> [...]), if known."""
        value = self.symmetry.action.analytic_reduced_log_det(np.asarray(theta),
                                                               self.symmetry.metric)
        if value is NotImplemented:
            raise NotImplementedError(f"No closed form for '{self.name}' under this metric.")
        return value
