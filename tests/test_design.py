"""Tests of quotientib.design: parameterizations whose symmetry induces a target bias."""

import numpy as np
import pytest
from autograd import make_jvp, make_vjp

from quotientib import check_invariance
from quotientib.design import (
    Parameterization,
    difference_operator,
    group_sparsity,
    log_sparsity,
    log_spectral,
)
from quotientib.errors import NotFreeError, ShapeError

EXACT = 1e-12
NUMERICAL = 1e-6  # reduced_bias through the numerical minimiser


def cosine_operator(d):
    k = np.arange(d)[:, None]
    i = np.arange(d)[None, :]
    return np.cos(np.pi * k * (i + 0.5) / d)


def all_parameterizations():
    return {
        "l1": log_sparsity(np.eye(4)),
        "tv": log_sparsity(difference_operator(5)),
        "cosine": log_sparsity(cosine_operator(4)),
        "tall": log_sparsity(np.vstack([np.eye(3), np.ones((1, 3))])),
        "group": group_sparsity(np.eye(5), [2, 3]),
        "group_idx": group_sparsity(cosine_operator(4), [[0, 3], [1], [2]]),
        "spectral_columns": log_spectral(None, (3, 2)),
        "spectral_gl": log_spectral(np.kron(np.eye(2), cosine_operator(2)), (2, 2), group="gl"),
    }


NAMES = list(all_parameterizations())


@pytest.fixture(scope="module")
def params_by_name():
    return all_parameterizations()


def test_forward_closed_forms():
    rng = np.random.default_rng(0)
    l1 = log_sparsity(np.eye(4))
    x = l1.init(rng, (3,))
    assert np.max(np.abs(l1.forward(x) - x[:, :4] * x[:, 4:])) <= EXACT
    tv = log_sparsity(difference_operator(5))
    y = tv.init(rng, (2, 3))
    assert tv.forward(y).shape == (2, 3, 5)
    assert np.max(np.abs(tv.forward(y) - np.cumsum(y[..., :5] * y[..., 5:], axis=-1))) <= 1e-12
    spec = log_spectral(None, (3, 2))
    z = spec.init(rng)
    u, v = z[:6].reshape(3, 2), z[6:].reshape(2, 2)
    assert np.max(np.abs(spec.forward(z) - (u @ v.T).ravel())) <= EXACT
    grp = group_sparsity(np.eye(5), [2, 3])
    s = grp.init(rng)
    expected = np.concatenate([s[0] * s[2:4], s[1] * s[4:7]])
    assert np.max(np.abs(grp.forward(s) - expected)) <= EXACT


@pytest.mark.parametrize("name", NAMES)
def test_pullback_and_jvp_match_autograd(params_by_name, name):
    param = params_by_name[name]
    rng = np.random.default_rng(1)
    x = param.init(rng, (3,))
    gw = rng.standard_normal((3, param.dim))
    tangent = rng.standard_normal((3, param.n_params))
    vjp, _ = make_vjp(param.forward)(x)
    assert np.max(np.abs(param.pullback(x, gw) - vjp(gw))) <= 1e-10
    _, jv = make_jvp(param.forward)(x)(tangent)
    assert np.max(np.abs(param.jvp(x, tangent) - jv)) <= 1e-10
    # duality <J^T g, t> = <g, J t>
    lhs = np.sum(param.pullback(x, gw) * tangent, axis=-1)
    rhs = np.sum(gw * param.jvp(x, tangent), axis=-1)
    assert np.max(np.abs(lhs - rhs)) <= 1e-10
    # batched equals stacked
    stacked = np.stack([param.pullback(x[i], gw[i]) for i in range(3)])
    assert np.max(np.abs(stacked - param.pullback(x, gw))) <= EXACT


@pytest.mark.parametrize("name", NAMES)
def test_forward_is_invariant_under_the_symmetry(params_by_name, name):
    param = params_by_name[name]
    x = param.init(np.random.default_rng(2), (4,))
    assert check_invariance(param.symmetry.action, x, rng=np.random.default_rng(3)) <= 1e-8


@pytest.mark.parametrize("name", NAMES)
def test_representative_is_in_the_fibre(params_by_name, name):
    param = params_by_name[name]
    rng = np.random.default_rng(4)
    # for the tall operator the representative's features z = A w lie in range(A): exact
    w = rng.standard_normal((3, param.dim))
    rep = param.representative(w)
    assert rep.shape == (3, param.n_params)
    assert np.max(np.abs(param.forward(rep) - w)) <= 1e-10


def test_predicted_bias_hadamard_features():
    rng = np.random.default_rng(5)
    for A in (np.eye(4), cosine_operator(4)):
        param = log_sparsity(A)
        w = rng.standard_normal((6, 4))
        expected = 0.5 * 0.2 * np.sum(np.log(2 * np.abs(w @ A.T)), axis=-1)
        closed = param.predicted_bias(w, 0.2)
        numerical = param.predicted_bias(w, 0.2, method="numerical")
        assert closed.shape == (6,)
        assert np.max(np.abs(closed - expected)) <= EXACT
        assert np.max(np.abs(numerical - expected)) <= NUMERICAL


def test_predicted_bias_total_variation():
    d = 6
    tv = log_sparsity(difference_operator(d))
    w = np.random.default_rng(6).standard_normal((5, d))
    jumps = np.diff(np.concatenate([np.zeros((5, 1)), w], axis=-1), axis=-1)
    expected = 0.5 * np.sum(np.log(2 * np.abs(jumps)), axis=-1)
    assert np.max(np.abs(tv.predicted_bias(w, 1.0, method="numerical") - expected)) <= NUMERICAL


def test_predicted_bias_group_sparsity():
    grp = group_sparsity(np.eye(5), [[0, 4], [1, 2, 3]])
    w = np.random.default_rng(7).standard_normal((4, 5))
    expected = 0.5 * 3.0 * (np.log(2 * np.linalg.norm(w[:, [0, 4]], axis=-1))
                            + np.log(2 * np.linalg.norm(w[:, 1:4], axis=-1)))
    assert np.max(np.abs(grp.predicted_bias(w, 3.0) - expected)) <= EXACT
    assert np.max(np.abs(grp.predicted_bias(w, 3.0, method="numerical") - expected)) <= NUMERICAL


def test_predicted_bias_log_spectral():
    rng = np.random.default_rng(8)
    w = rng.standard_normal((3, 6))
    sig = np.linalg.svd(w.reshape(3, 3, 2), compute_uv=False)
    cols = log_spectral(None, (3, 2))
    expected = 0.5 * np.sum(np.log(2 * sig), axis=-1)
    assert np.max(np.abs(cols.predicted_bias(w, 1.0) - expected)) <= 1e-10
    assert np.max(np.abs(cols.predicted_bias(w, 1.0, method="numerical") - expected)) \
        <= NUMERICAL
    gl = log_spectral(None, (3, 2), group="gl")
    expected_gl = 0.5 * np.sum(np.log(sig[:, :, None] + sig[:, None, :]), axis=(-2, -1))
    assert np.max(np.abs(gl.predicted_bias(w, 1.0) - expected_gl)) <= NUMERICAL


def test_vanishing_feature_is_a_degenerate_orbit():
    with pytest.raises(NotFreeError):
        log_sparsity(np.eye(3)).predicted_bias(np.array([1.0, 0.0, 2.0]), 1.0)


def test_bad_operators():
    with pytest.raises(ShapeError, match="2-D operator"):
        log_sparsity(np.ones(3))
    with pytest.raises(ShapeError):
        log_sparsity(np.ones((0, 3)))
    with pytest.raises(ValueError, match="rank 1 < d = 2"):
        log_sparsity(np.ones((3, 2)))
    with pytest.raises(ValueError, match="not injective"):
        group_sparsity(np.ones((2, 3)), [1, 1])
    with pytest.raises(ValueError, match="non-finite"):
        log_sparsity(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="partition"):
        group_sparsity(np.eye(3), [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="add up"):
        group_sparsity(np.eye(3), [1, 1])
    with pytest.raises(ShapeError, match="rows"):
        log_spectral(np.eye(5), (2, 3))
    with pytest.raises(ValueError, match="rank"):
        log_spectral(None, (2, 3), rank=3)
    with pytest.raises(ValueError, match="group"):
        log_spectral(None, (2, 2), group="so")
    with pytest.raises(TypeError):
        log_sparsity("identity")


def test_bad_arguments_and_conditions():
    l1 = log_sparsity(np.eye(3))
    with pytest.raises(ShapeError):
        l1.forward(np.ones(5))
    with pytest.raises(ShapeError):
        l1.pullback(np.ones(6), np.ones(2))
    with pytest.raises(TypeError, match="Generator"):
        l1.init(0)
    assert l1.init(np.random.default_rng(0), (2, 3), scale=0.1).shape == (2, 3, 6)
    assert isinstance(l1, Parameterization)
    assert "exact" in l1.condition
    assert "least-squares" in log_sparsity(np.vstack([np.eye(2), np.ones((1, 2))])).condition
