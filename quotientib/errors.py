"""Exceptions raised by quotientib.

Every error the toolkit raises on bad input is a subclass of :class:`QuotientIBError`, so a
caller can catch them all at once, and of the matching builtin (``ValueError`` for bad values,
``RuntimeError`` for failed computations) so that generic handlers still work.
"""

__all__ = [
    "QuotientIBError",
    "BackendError",
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


class QuotientIBError(Exception):
    """Base class of every error raised by quotientib."""


class BackendError(QuotientIBError, RuntimeError):
    """geomstats was imported with a backend other than autograd."""


class ShapeError(QuotientIBError, ValueError):
    """An array argument does not have the documented shape."""


class MetricNotSPDError(QuotientIBError, ValueError):
    """A metric matrix is not symmetric positive definite."""


class NotFreeError(QuotientIBError, ValueError):
    """The orbit Gram matrix is singular: the action is not free at a point."""


class NotRegularValueError(QuotientIBError, ValueError):
    """The differential of a gauge map is not surjective at a point of its slice."""


class NotInvariantError(QuotientIBError, ValueError):
    """A map that should be invariant under the group action is not."""


class NotClosedError(QuotientIBError, ValueError):
    """The 1-forms g(xi_a, .) are not closed, so no moment-map gauge exists."""


class SubalgebraNotClosedError(QuotientIBError, ValueError):
    """A basis of Lie-algebra directions is not closed under the Lie bracket."""


class ConvergenceError(QuotientIBError, RuntimeError):
    """An iterative computation did not converge."""


class DivergenceError(QuotientIBError, FloatingPointError):
    """A simulation produced non-finite values.

    Attributes
    ----------
    result : object
        What was recorded before the divergence (a partial result object), so that a long run
        that blows up keeps its data.
    step : int
        The step at which the divergence was detected.
    """

    def __init__(self, message, result=None, step=None):
        super().__init__(message)
        self.result = result
        self.step = step
