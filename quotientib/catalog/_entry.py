"""The record a catalog family returns: a symmetry plus what is known about it in closed form."""

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import autograd.numpy as anp
import numpy as np

from quotientib._linalg import as_points
from quotientib.errors import ShapeError
from quotientib.symmetry import Symmetry

__all__ = ["CatalogEntry", "block_layout"]


def block_layout(**shapes):
    """``pack``/``unpack`` between named parameter blocks and flat points ``theta [..., n]``.

    Blocks are laid out in the order given, each flattened in C order.

    Parameters
    ----------
    **shapes : tuple of int
        The trailing shape of each block, e.g. ``W=(width, n_in), V=(width, n_out)``.

    Returns
    -------
    pack : callable
        ``pack(**arrays) -> theta [..., n]``; leading batch axes of the blocks broadcast.
        Raises :class:`ShapeError` for a missing, extra or mis-shaped block.
    unpack : callable
        ``unpack(theta [..., n]) -> dict`` of blocks ``[..., *shape]``.
    n : int
        Total dimension.

    Examples
    --------
    >>> pack, unpack, n = block_layout(u=(3,), v=(3,))
    >>> pack(u=np.ones(3), v=np.zeros((5, 3))).shape
    (5, 6)
    """
    names = list(shapes)
    shapes = {name: tuple(int(d) for d in shape) for name, shape in shapes.items()}
    sizes = [math.prod(shapes[name]) for name in names]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    n = int(offsets[-1])

    def pack(**arrays):
        if set(arrays) != set(names):
            raise ShapeError(f"Expected the blocks {names}, got {sorted(arrays)}.")
        mats = [anp.asarray(arrays[name], dtype=float) for name in names]
        batches = []
        for name, mat in zip(names, mats):
            shape = shapes[name]
            if mat.ndim < len(shape) or tuple(mat.shape[mat.ndim - len(shape):]) != shape:
                raise ShapeError(f"Expected `{name}` of shape (..., {', '.join(map(str, shape))})"
                                 f", got {tuple(mat.shape)}.")
            batches.append(tuple(mat.shape[:mat.ndim - len(shape)]))
        batch = np.broadcast_shapes(*batches)
        return anp.concatenate(
            [anp.reshape(anp.broadcast_to(mat, batch + shapes[name]), batch + (size,))
             for name, mat, size in zip(names, mats, sizes)], axis=-1)

    def unpack(theta):
        theta = as_points(theta, n, "theta")
        batch = theta.shape[:-1]
        return {name: theta[..., offsets[i]:offsets[i + 1]].reshape(batch + shapes[name])
                for i, name in enumerate(names)}

    return pack, unpack, n


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
