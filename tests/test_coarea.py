import numpy as np
import pytest

from quotientib.verify import coarea_check, slice_integral
from quotientib.verify.examples import coarea_examples

EXAMPLES = coarea_examples()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_coarea_identity(example):
    res = coarea_check(example)
    assert np.isfinite(res.delta_side) and res.delta_side > 0
    assert res.relative_error <= 1e-9


def test_check_has_power_against_a_wrong_density():
    # Replacing 1/sqrt(det G_chi) by 1/det G_chi must break the identity on a slice where
    # G_chi is not 1, so the check is able to fail.
    ex = EXAMPLES[0]
    gauge = ex.gauge

    def wrong_weight(point):
        return ex.weight(point) / np.sqrt(gauge.constraint_gram(point)[0, 0])

    wrong = slice_integral(wrong_weight, gauge, ex.curve, ex.curve_bounds)
    assert abs(wrong - coarea_check(ex).delta_side) > 1e-2 * abs(wrong)
