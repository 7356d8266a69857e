r"""The coarea / slice identity behind Theorem 1, checked by quadrature in two dimensions.

For a map ``chi`` with 0 a regular value, a weight ``f`` and a metric ``g``,

.. math:: \int f\, \delta(\chi)\, d\mathrm{Vol}_g
          = \int_S \frac{f}{\sqrt{\det G_\chi}}\, d\sigma_S .

The two sides are computed by different routes so that the check means something:

* the left side line by line: in coordinates ``x = line(a, s)`` with Lebesgue Jacobian
  ``J(a, s)``, the one-dimensional rule ``delta(c(s)) = sum_roots delta(s - s*) / |c'(s*)|``
  gives ``int da sum_{s*} f sqrt(det g) J / |d_s chi|`` (roots by Brent's method);
* the right side along a parametrisation ``gamma(s)`` of the slice, with ``G_chi`` from the
  :class:`~quotientib.gauge.Gauge` and ``d sigma = |gamma'(s)|_g ds``.
"""

from dataclasses import dataclass

import numpy as np
from autograd import grad, jacobian
from scipy.integrate import quad
from scipy.optimize import brentq

__all__ = ["CoareaResult", "delta_integral", "slice_integral", "coarea_check"]

#: quad's relative tolerance for the coarea integrals.
QUAD_EPSREL = 1e-12


@dataclass(frozen=True)
class CoareaResult:
    """Both sides of the coarea identity.

    Attributes
    ----------
    name : str
    delta_side : float
        ``int f delta(chi) dVol_g``, computed line by line.
    slice_side : float
        ``int_S f / sqrt(det G_chi) dsigma``, computed along the slice.
    relative_error : float
        ``|delta_side - slice_side| / |slice_side|``.
    """

    name: str
    delta_side: float
    slice_side: float
    relative_error: float


def delta_integral(f, chi, line, jacobian_det, a_bounds, s_bracket, metric=None):
    """``int f delta(chi) dVol_g`` in 2-D by the one-dimensional delta rule along lines.

    Parameters
    ----------
    f : callable
        Weight, ``[2] -> float``.
    chi : callable
        Scalar gauge function, ``[2] -> float`` (autograd-differentiable).
    line : callable
        ``line(a, s) -> [2]``: coordinates covering the domain by lines ``a = const``.
    jacobian_det : callable
        ``|det d line / d(a, s)|`` as a function of ``(a, s)``.
    a_bounds : tuple of float
        Integration range of ``a``.
    s_bracket : callable
        ``s_bracket(a) -> list of (lo, hi)``: intervals, each containing exactly one root of
        ``s -> chi(line(a, s))`` with a sign change.
    metric : MetricField, optional
        Euclidean if omitted.

    Returns
    -------
    value : float
    """

    def chi_on_line(s, a):
        return chi(line(a, s))

    dchi_ds = grad(chi_on_line, 0)

    def column(a):
        total = 0.0
        for lo, hi in s_bracket(a):
            root = brentq(chi_on_line, lo, hi, args=(a,), xtol=1e-15, rtol=4 * np.finfo(float).eps)
            point = np.asarray(line(a, root), dtype=float)
            vol = 1.0 if metric is None else np.exp(0.5 * metric.log_det_metric(point))
            total += f(point) * vol * jacobian_det(a, root) / abs(dchi_ds(root, a))
        return total

    value, _ = quad(column, *a_bounds, epsabs=0.0, epsrel=QUAD_EPSREL, limit=400)
    return value


def slice_integral(f, gauge, curve, s_bounds):
    """``int_S f / sqrt(det G_chi) dsigma_g`` along a parametrised slice.

    Parameters
    ----------
    f : callable
        Weight, ``[2] -> float``.
    gauge : quotientib.Gauge
        The gauge whose slice is parametrised (its metric defines ``dsigma``).
    curve : callable
        ``curve(s) -> [2]``, a parametrisation of ``chi^{-1}(0)``.
    s_bounds : tuple of float

    Returns
    -------
    value : float
    """
    metric = gauge.symmetry.metric
    velocity = jacobian(curve)

    def integrand(s):
        point = np.asarray(curve(s), dtype=float)
        vel = np.asarray(velocity(s), dtype=float)
        speed = np.sqrt(metric.inner_product(vel, vel, point))
        g_chi = gauge.constraint_gram(point)
        return f(point) * speed / np.sqrt(np.linalg.det(g_chi))

    value, _ = quad(integrand, *s_bounds, epsabs=0.0, epsrel=QUAD_EPSREL, limit=400)
    return value


def coarea_check(example):
    """Compute both sides of the coarea identity for a :class:`CoareaExample`.

    Parameters
    ----------
    example : quotientib.verify.examples.CoareaExample

    Returns
    -------
    result : CoareaResult
    """
    gauge = example.gauge
    chi = example.scalar_chi

    lhs = delta_integral(example.weight, chi, example.line, example.line_jacobian,
                         example.a_bounds, example.s_bracket, gauge.symmetry.metric)
    rhs = slice_integral(example.weight, gauge, example.curve, example.curve_bounds)
    return CoareaResult(example.name, lhs, rhs, abs(lhs - rhs) / abs(rhs))


