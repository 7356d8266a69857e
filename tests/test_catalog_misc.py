"""Rotations, discrete permutation symmetry, and the catalog's entry list."""

import math

import numpy as np
import pytest

from quotientib import NotClosedError, NotFreeError, ShapeError, check_invariance
from quotientib.catalog import (
    CatalogEntry,
    all_entries,
    brute_force_stabilizer_size,
    collapse_example,
    log_orbit_size,
    make_metric,
    neuron_classes,
    pseudo_log_det,
    rotation_orbit_log_volume,
    rotations,
    stabilizer_size,
)
from quotientib.catalog.table import brute_force_balance
from tests.test_catalog_scalings import (
    MINIMUM_ATOL,
    build,
    check_fields_and_gram,
    check_minimum,
    check_moment_map,
)

OWN_NAMES = {"uv", "hadamard", "linear_features[tv]", "linear_features[cosine]",
             "block_scaling", "column_scaling", "gl_factorization", "attention_columns",
             "attention_gl", "pca_orthogonal", "rotations[2]"}


# -- rotations ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["euclidean", "diagonal", "spd"])
def test_rotations_2d_entry(kind):
    entry = build(rotations, kind)
    rng = np.random.default_rng(1)
    check_fields_and_gram(entry, rng)
    assert not check_moment_map(entry, rng)  # never closed: NotClosedError checked inside
    check_minimum(entry, rng)
    check_invariance(entry.symmetry.action, entry.random_point(rng, (4,)), rng=rng)


def test_rotations_2d_closed_forms():
    entry = rotations(2)
    x = np.array([[3.0, 4.0], [1.0, 0.0]])
    np.testing.assert_allclose(entry.symmetry.orbit_gram(x)[:, 0, 0], [25.0, 1.0])
    np.testing.assert_allclose(entry.reduced_log_det(x), np.log([25.0, 1.0]))
    g = np.array([[2.0, 0.3], [0.3, 1.0]])
    entry = rotations(2, metric=g)
    np.testing.assert_allclose(entry.reduced_log_det(x),
                               np.log(np.array([25.0, 1.0]) * np.linalg.eigvalsh(g)[0]))


@pytest.mark.parametrize("d", [3, 4])
def test_rotations_not_free_in_higher_dimension(d):
    entry = rotations(d)
    rng = np.random.default_rng(d)
    x = rng.standard_normal((3, d))
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(x)
    check_invariance(entry.symmetry.action, x, rng=rng)
    gram = entry.symmetry.orbit_gram(x)
    assert np.all(np.linalg.matrix_rank(gram, tol=1e-10) == d - 1)
    r = np.linalg.norm(x, axis=-1)
    # pdet H = r^{2(d-1)}: orbit volume ~ r^{d-1}
    np.testing.assert_allclose(pseudo_log_det(gram), 2 * (d - 1) * np.log(r), rtol=1e-12)
    np.testing.assert_allclose(rotation_orbit_log_volume(2.0 * x) - rotation_orbit_log_volume(x),
                               (d - 1) * np.log(2.0), rtol=1e-12)


def test_rotation_orbit_volume_sphere_areas():
    np.testing.assert_allclose(np.exp(rotation_orbit_log_volume(np.array([2.0, 0.0]))),
                               2 * np.pi * 2.0)
    np.testing.assert_allclose(np.exp(rotation_orbit_log_volume(np.array([0.0, 3.0, 0.0]))),
                               4 * np.pi * 9.0)


def test_rotations_no_moment_map_any_metric():
    for metric in (None, np.diag([1.0, 2.0, 3.0])):
        with pytest.raises(NotClosedError):
            rotations(3, metric=metric).symmetry.moment_map_gauge()
    with pytest.raises(ShapeError):
        rotations(1)


# -- discrete permutations ------------------------------------------------------------------------
def _network_with_duplicates(rng, classes, d=3, k=2):
    rows, cols = [], []
    for size in classes:
        row, col = rng.standard_normal(d), rng.standard_normal(k)
        rows += [row] * size
        cols += [col] * size
    perm = rng.permutation(len(rows))
    return np.array(rows)[perm], np.array(cols).T[:, perm]


@pytest.mark.parametrize("classes", [(1, 1, 1, 1), (2, 1, 1), (3, 2), (2, 2, 1), (5,)])
def test_stabilizer_matches_brute_force(classes):
    rng = np.random.default_rng(sum(classes) * 7 + len(classes))
    w1, w2 = _network_with_duplicates(rng, classes)
    expected = int(np.prod([math.factorial(c) for c in classes]))
    assert stabilizer_size(w1, w2) == expected
    assert brute_force_stabilizer_size(w1, w2) == expected
    m = sum(classes)
    np.testing.assert_allclose(log_orbit_size(w1, w2), np.log(math.factorial(m) / expected))
    assert sorted(neuron_classes(w1, w2)) == sorted(classes)


def test_equal_rows_different_outgoing_weights_not_stabilised():
    w1 = np.ones((3, 2))
    w2 = np.array([[1.0, 2.0, 3.0]])
    assert stabilizer_size(w1, w2) == 1 == brute_force_stabilizer_size(w1, w2)


def test_collapse_example():
    report = collapse_example(m=5, rng=np.random.default_rng(0))
    assert report["generic"]["stabilizer"] == 1
    assert report["collapsed"]["stabilizer"] == math.factorial(5)
    np.testing.assert_allclose(report["generic"]["log_orbit"], math.lgamma(6))
    assert report["collapsed"]["log_orbit"] == 0.0
    # pi ~ |orbit| gives the collapsed class m! times LESS weight than a generic one
    np.testing.assert_allclose(report["log_weight_ratio"], -math.lgamma(6))


def test_discrete_shape_error():
    with pytest.raises(ShapeError):
        stabilizer_size(np.ones((3, 2)), np.ones((2, 4)))


# -- the entry list -------------------------------------------------------------------------------
def test_all_entries_fresh_and_complete():
    first = all_entries()
    second = all_entries()
    names = {e.name for e in first}
    assert OWN_NAMES <= names
    assert all(isinstance(e, CatalogEntry) for e in first)
    assert all(a is not b and a.symmetry is not b.symmetry for a, b in zip(first, second))
    assert all(e.expected_status in ("minimum", "unbounded", "constant") for e in first)


@pytest.mark.parametrize("kind", ["diagonal", "spd"])
def test_all_entries_metric(kind):
    for entry in all_entries(kind, rng=np.random.default_rng(0)):
        if entry.name not in OWN_NAMES:
            continue
        mat = entry.symmetry.metric.metric_matrix()
        off = mat - np.diag(np.diag(mat))
        assert (np.max(np.abs(off)) > 0) == (kind == "spd")


def test_make_metric_errors():
    with pytest.raises(ValueError):
        make_metric("hyperbolic", 3, np.random.default_rng(0))


def test_brute_force_balance_statuses():
    rng = np.random.default_rng(2)
    entry = rotations(2)
    assert brute_force_balance(entry.symmetry, entry.random_point(rng))["status"] == "constant"
    from quotientib.catalog import uv

    res = brute_force_balance(uv().symmetry, np.array([3.0, 0.25]))
    assert res["status"] == "minimum"
    np.testing.assert_allclose(np.abs(res["point"]), np.sqrt(0.75) * np.ones(2), rtol=1e-7)
    assert abs(res["value"] - np.log(1.5)) <= MINIMUM_ATOL


def test_block_layout_round_trip_broadcast_and_errors():
    from quotientib import ShapeError
    from quotientib.catalog._entry import block_layout
    from quotientib.catalog.scalings import hadamard

    pack, unpack, n = block_layout(W=(2, 3), v=(4,))
    assert n == 10
    w = np.arange(6.0).reshape(2, 3)
    theta = pack(W=w, v=np.ones((5, 4)))
    assert theta.shape == (5, 10)
    np.testing.assert_array_equal(theta[3, :6], w.ravel())  # C-order, blocks in given order
    back = unpack(theta)
    np.testing.assert_array_equal(back["W"][2], w)
    assert back["v"].shape == (5, 4)
    with pytest.raises(ShapeError, match=r"`W` of shape \(\.\.\., 2, 3\)"):
        pack(W=np.ones((3, 2)), v=np.ones(4))
    with pytest.raises(ShapeError, match="Expected the blocks"):
        pack(W=w)
    # The scaling families' pack used to concatenate mis-shaped blocks silently.
    entry = hadamard(3)
    with pytest.raises(ShapeError):
        entry.pack(u=np.ones(2), v=np.ones(4))
