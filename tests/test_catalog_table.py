"""The generated catalog table."""

import numpy as np
import pytest

from quotientib.catalog import (
    block_scaling,
    column_scaling,
    gl_factorization,
    hadamard,
    pca_orthogonal,
    uv,
)
from quotientib.catalog.table import (
    RESIDUAL_TOL,
    VALUE_TOL,
    brute_force_balance,
    catalog_markdown,
    catalog_table,
    orbit_stationarity,
)

KEYS = {"name", "group", "group_dim", "dim", "orbit_gram", "moment_map", "argmin_condition",
        "paper_condition", "status", "expected_status", "min_log_det", "closed_form",
        "paper_value", "closed_form_gap", "paper_value_gap", "argmin_residual",
        "paper_residual", "condition_agrees", "value_agrees", "balanced_by", "notes"}


@pytest.fixture(scope="module")
def rows():
    entries = [uv(), hadamard(3), block_scaling((1, 2)), column_scaling(3, 3, 2),
               gl_factorization(3, 3, 2), pca_orthogonal(3, 2)]
    return {r["name"]: r for r in catalog_table(entries=entries,
                                                rng=np.random.default_rng(0), n_points=2)}


def test_rows_have_all_columns(rows):
    for row in rows.values():
        assert set(row) == KEYS
        assert len(row["min_log_det"]) == 2


def test_status_matches_expected(rows):
    for row in rows.values():
        assert row["status"] == row["expected_status"]


def test_closed_forms_match_numerical_minimum(rows):
    for row in rows.values():
        assert row["closed_form_gap"] is not None
        assert row["closed_form_gap"] <= VALUE_TOL
        if row["argmin_residual"] is not None:
            assert row["argmin_residual"] <= RESIDUAL_TOL


def test_measured_agreement_with_paper(rows):
    # Hadamard and block scaling: the paper's condition and value hold at the argmin.
    for name in ("uv", "hadamard", "block_scaling"):
        assert rows[name]["condition_agrees"] is True
        assert rows[name]["value_agrees"] is True
    # Column scaling: |U_j| = |V_j| holds, but sum_j log 2 sigma_j is not the minimum at
    # generic points.
    assert rows["column_scaling"]["condition_agrees"] is True
    assert rows["column_scaling"]["value_agrees"] is False
    assert rows["column_scaling"]["paper_value_gap"] > 1e-3
    # GL(r): the paper says -inf; the minimum is finite.
    assert rows["gl_factorization"]["value_agrees"] is False
    assert all(np.isfinite(rows["gl_factorization"]["min_log_det"]))
    assert rows["pca_orthogonal"]["value_agrees"] is True


def test_markdown_has_one_line_per_row():
    md = catalog_markdown(entries=[uv(), pca_orthogonal(3, 2)], rng=np.random.default_rng(1),
                          n_points=1)
    lines = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(lines) == 3
    assert "| uv |" in md and "| pca_orthogonal |" in md
    n_cols = lines[0].count(" | ") + 1
    assert all(line.count(" | ") + 1 == n_cols for line in lines)


def test_orbit_stationarity_zero_only_at_argmin():
    entry = uv()
    assert orbit_stationarity(entry.symmetry, np.array([1.5, 1.5])) <= 1e-14
    assert orbit_stationarity(entry.symmetry, np.array([2.0, 1.0])) > 0.1
    res = brute_force_balance(entry.symmetry, np.array([2.0, 1.0]))
    assert orbit_stationarity(entry.symmetry, res["point"]) <= 1e-8


def test_batched_table_values_are_per_point():
    entry = hadamard(2)
    rows = catalog_table(entries=[entry], rng=np.random.default_rng(3), n_points=3)
    vals = rows[0]["min_log_det"]
    assert len(set(np.round(vals, 12))) == 3


@pytest.mark.parametrize("name", ["hadamard", "column_scaling", "gl_factorization",
                                  "pca_orthogonal", "rotations[2]"])
def test_balance_agrees_with_brute_force_without_closed_form(name):
    """Dense SPD metric (no closed form for most entries): two independent optimisers agree."""
    balance_mod = pytest.importorskip("quotientib.balance")
    from quotientib.catalog import all_entries

    rng = np.random.default_rng(4)
    entry = next(e for e in all_entries("spd", rng=rng) if e.name == name)
    theta = entry.random_point(rng)
    res = balance_mod.balance(entry.symmetry, theta, rng=rng)
    ref = brute_force_balance(entry.symmetry, theta, rng=rng)
    assert res.status == ref["status"] == entry.expected_status
    assert abs(res.value - ref["value"]) <= VALUE_TOL
    assert orbit_stationarity(entry.symmetry, res.point) <= 1e-6
