"""Long checks, excluded by default: run with ``python -m pytest -m slow`` (a few minutes).

They assert only what is mathematics or what was measured to hold across seeds: the classical
radial law of isotropic Langevin at ledger sizes, and the sanity of every result file of the
quick experiment battery.
"""

import json
import math

import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [0, 1])
def test_radial_law_at_ledger_size(seed):
    # For SO(d) acting on R^d the law of r is r^(d-1) exp(-L/T): classical, compact orbits.
    from quotientib.verify.validations import radial_validation

    res = radial_validation(chains=10000, n_steps=20000, burn_in=2000, seed=seed)
    candidates = res["comparison"]["candidates"]
    assert res["comparison"]["consistent_with"] == ["r^(d-1) exp(-L/T) (orbit volume, paper)"]
    assert all(np.isfinite(c["tv"]) for c in candidates.values())


def test_quick_experiment_battery_writes_sane_results(tmp_path):
    from quotientib.experiments import list_experiments, reproduce

    results = reproduce("all", mode="quick", seeds=3, out=str(tmp_path), progress=False)
    assert set(results) == {name for name, _ in list_experiments()}
    for name, res in results.items():
        saved = json.loads((tmp_path / name / "results.json").read_text())
        assert saved["status"] == "completed" and saved["seeds"] == [0, 1, 2]
        assert saved["verdicts"], name
        for verdict in saved["verdicts"].values():
            assert verdict["criterion"] and verdict["verdict"] in ("holds", "does not hold",
                                                                   "fails")
        assert list((tmp_path / name).glob("*.png")), name
        assert math.isfinite(res["wall_time"])
