"""Tests of quotientib.experiments: model gradients, closed forms, and tiny end-to-end runs.

Full-mode numbers are not asserted here (they are reported in docs/ledger/experiments.md);
these tests check the machinery: analytic gradients against central finite differences,
closed-form values, batched-versus-stacked evaluation, and that every experiment's quick
configuration runs at a tiny size and writes a sane results file.
"""

import json
import os

import numpy as np
import pytest

from quotientib.experiments import _linear, _param, get_run, list_experiments, reproduce
from quotientib.experiments import attention as att
from quotientib.experiments import channel_coupling as cc
from quotientib.experiments import group_lasso as gl
from quotientib.experiments import matrix_completion as mc
from quotientib.experiments import relu_bce as bce
from quotientib.experiments import relu_teacher_student as rts
from quotientib.experiments import spectral_sparse as ss
from quotientib.experiments import total_variation as tv
from quotientib.experiments.registry import EXPERIMENTS

#: Central differences with step 1e-6 on O(1) functions: truncation ~1e-12, rounding ~1e-10.
FD_STEP = 1e-6
FD_ATOL = 1e-7
#: Tolerance of exact float64 identities.
EXACT_ATOL = 1e-12


def finite_difference(f, x):
    """Central-difference gradient of ``f: [chains, p] -> [chains]``."""
    g = np.zeros_like(x)
    for i in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, i] = FD_STEP
        g[:, i] = (f(x + e) - f(x - e)) / (2 * FD_STEP)
    return g


def _loss_fns(rng):
    """(name, loss_and_grad: params -> (loss, grad), params) for every analytic model."""
    cases = []
    h, d = 4, 3
    x, y = rng.standard_normal((2, 6, d)), rng.standard_normal((2, 6))
    cases.append(("relu_mse", lambda p: rts.loss_and_grad(p, x, y, h, d),
                  rng.standard_normal((2, h + h * d))))
    yb = (rng.random((2, 6)) > 0.5).astype(float)
    cases.append(("relu_bce", lambda p: bce.bce_and_grad(p, x, yb, h, d),
                  rng.standard_normal((2, h + h * d))))
    dd, rk = 4, 3
    X, Y = rng.standard_normal((2, 3, 5, dd)), rng.standard_normal((2, 3, 5, rk))
    cases.append(("attention", lambda p: att.loss_and_grad(p, X, Y, dd, rk),
                  rng.standard_normal((2, 3 * dd * rk))))
    m, n, r = 4, 5, 3
    T, W = rng.standard_normal((2, m, n)), rng.random((2, m, n))
    cases.append(("matrix_completion", lambda p: mc.loss_and_grad(p, T, W, m, n, r),
                  rng.standard_normal((2, r * (m + n)))))
    Xc, Yc = rng.standard_normal((2, 6, 4)), rng.standard_normal((2, 6, 3))
    cases.append(("channel_mse", lambda p: cc.mse_and_grad_w(p, Xc, Yc, 4, 3),
                  rng.standard_normal((2, 12))))
    Phi, yl = rng.standard_normal((2, 6, 5)), rng.standard_normal((2, 6))
    cases.append(("linear_mse", lambda p: _linear.mse_and_grad_w(p, Phi, yl),
                  rng.standard_normal((2, 5))))
    return cases


@pytest.mark.parametrize("index", range(6))
def test_model_gradient_matches_finite_differences(index):
    rng = np.random.default_rng(index)
    name, fn, p = _loss_fns(rng)[index]
    loss, grad = fn(p)
    assert loss.shape == (2,) and grad.shape == p.shape, name
    fd = finite_difference(lambda q: fn(q)[0], p)
    np.testing.assert_allclose(grad, fd, atol=FD_ATOL, err_msg=name)


@pytest.mark.parametrize("index", range(6))
def test_model_gradient_batched_equals_stacked(index):
    rng = np.random.default_rng(10 + index)
    name, fn, p = _loss_fns(rng)[index]
    # Each chain only reads its own data: perturbing chain 1 must not change chain 0.
    loss, grad = fn(p)
    q = p.copy()
    q[1] += 1.0
    loss2, grad2 = fn(q)
    np.testing.assert_allclose(loss2[0], loss[0], atol=EXACT_ATOL, err_msg=name)
    np.testing.assert_allclose(grad2[0], grad[0], atol=EXACT_ATOL, err_msg=name)


def _parameterizations():
    return [
        ("hadamard", _param.hadamard(5), lambda p: p[..., :5] * p[..., 5:]),
        ("cumsum", _param.cumsum_hadamard(5), lambda p: np.cumsum(p[..., :5] * p[..., 5:], -1)),
        ("matrix", _param.matrix_factor(3, 4, 2),
         lambda p: (p[..., :6].reshape(-1, 3, 2)
                    @ p[..., 6:].reshape(-1, 4, 2).swapaxes(-1, -2)).reshape(-1, 12)),
    ]


@pytest.mark.parametrize("index", range(3))
def test_parameterization_forward_closed_form_and_pullback(index):
    name, param, closed = _parameterizations()[index]
    rng = np.random.default_rng(20 + index)
    p = rng.standard_normal((2, param.n_params))
    g = rng.standard_normal((2, param.dim))
    np.testing.assert_allclose(param.forward(p), closed(p), atol=EXACT_ATOL, err_msg=name)
    fd = finite_difference(lambda q: np.sum(param.forward(q) * g, axis=-1), p)
    np.testing.assert_allclose(param.pullback(p, g), fd, atol=FD_ATOL, err_msg=name)


def test_group_scaling_closed_form_and_pullback():
    groups = np.array([0, 1, 0, 2, 1, 2])
    param = _param.group_scaling(groups)
    rng = np.random.default_rng(3)
    p = rng.standard_normal((2, param.n_params))
    w = param.forward(p)
    assert w.shape == (2, 6)
    # Each group's block is its scale times the matching t entries, wherever the scales sit in
    # the parameter vector: the ratios inside a group are those of t.
    g = rng.standard_normal((2, 6))
    fd = finite_difference(lambda q: np.sum(param.forward(q) * g, axis=-1), p)
    np.testing.assert_allclose(param.pullback(p, g), fd, atol=FD_ATOL)


@pytest.mark.parametrize("kind", ["hadamard", "cumsum", "group", "matrix"])
def test_structured_kernels_match_design(kind):
    # The experiments train structured kernels; the design objects are the reference.
    param = {"hadamard": lambda: _param.hadamard(6), "cumsum": lambda: _param.cumsum_hadamard(6),
             "group": lambda: _param.group_scaling(np.array([2, 0, 1, 0, 2, 1])),
             "matrix": lambda: _param.matrix_factor(3, 4, 3)}[kind]()
    rng = np.random.default_rng(30)
    p = rng.standard_normal((2, param.n_params))
    g = rng.standard_normal((2, param.dim))
    np.testing.assert_allclose(param.forward(p), param.design.forward(p), atol=EXACT_ATOL)
    np.testing.assert_allclose(param.pullback(p, g), param.design.pullback(p, g), atol=EXACT_ATOL)


def test_identity_parameterization():
    param = _param.Identity(4)
    p = np.arange(8.0).reshape(2, 4)
    np.testing.assert_array_equal(param.forward(p), p)
    np.testing.assert_array_equal(param.pullback(p, 2 * p), 2 * p)


def test_imbalance_factors_closed_form():
    s = rts.imbalance_factors(16, 1.2)
    np.testing.assert_allclose([s[0], s[-1]], [np.exp(-1.2), np.exp(1.2)], rtol=1e-14)
    np.testing.assert_allclose(s * s[::-1], 1.0, rtol=1e-14)


def test_relu_ratio_and_imbalance_closed_form():
    v = np.array([[3.0, -1.0]])
    W = np.array([[[4.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    p = rts.pack(v, W)
    np.testing.assert_allclose(rts.balance_ratios(p, 2, 3), [[0.75, 1.0]])
    np.testing.assert_allclose(rts.imbalance(p, 2, 3), [[-7.0, 0.0]])


def test_relu_imbalance_invariant_under_gradient_flow_direction():
    # d/dt D_i = -2 v_i dL/dv_i + 2 W_i . dL/dW_i = 0 for the scaling symmetry (exact identity).
    rng = np.random.default_rng(4)
    h, d = 5, 3
    p = rng.standard_normal((2, h + h * d))
    _, g = rts.loss_and_grad(p, rng.standard_normal((2, 9, d)), rng.standard_normal((2, 9)), h, d)
    v, W = rts.unpack(p, h, d)
    gv, gW = rts.unpack(g, h, d)
    np.testing.assert_allclose(v * gv - np.sum(W * gW, axis=-1), 0.0, atol=1e-12)


def test_attention_column_scaling_is_a_symmetry():
    rng = np.random.default_rng(5)
    d, rk = 4, 3
    p = rng.standard_normal((1, 3 * d * rk))
    Q, K, V = att.unpack(p, d, rk)
    lam = np.array([0.5, 2.0, 3.0])
    q = att.pack(Q * lam, K / lam, V)
    X = rng.standard_normal((1, 2, 5, d))
    np.testing.assert_allclose(att.predict(q, X, d, rk), att.predict(p, X, d, rk), atol=1e-12)
    np.testing.assert_allclose(att.balance_ratios(q, d, rk),
                               att.balance_ratios(p, d, rk) * lam**2, rtol=1e-12)


def test_mode_energies_balanced_factorisation_closed_form():
    rng = np.random.default_rng(6)
    P = np.linalg.qr(rng.standard_normal((6, 2)))[0]
    Qm = np.linalg.qr(rng.standard_normal((5, 2)))[0]
    s = np.array([4.0, 1.5])
    R = np.linalg.qr(rng.standard_normal((2, 2)))[0]  # any orthogonal mixing keeps balance
    U = (P * np.sqrt(s)) @ R
    V = R.T @ (np.sqrt(s)[:, None] * Qm.T)
    sigma, energy = mc.mode_energies(mc.pack(U, V)[None], 6, 5, 2, k=2)
    np.testing.assert_allclose(sigma[0, :2], s, rtol=1e-12)
    np.testing.assert_allclose(energy[0], 2 * s, rtol=1e-10)
    # Imbalancing mode 1 raises its energy above 2 sigma (AM-GM), keeping the product.
    U2, V2 = U @ R.T, R @ V
    U2[:, 0] *= 2.0
    V2[0] /= 2.0
    _, energy2 = mc.mode_energies(mc.pack(U2, V2)[None], 6, 5, 2, k=2)
    np.testing.assert_allclose(energy2[0, 0], s[0] * (4 + 0.25), rtol=1e-10)


def test_total_variation_closed_form():
    x = tv.piecewise_signal((50, 70, 40, 40), (1.0, -1.5, 0.5, 2.0))
    assert x.shape == (200,)
    np.testing.assert_allclose(tv.total_variation(x), 6.0)
    np.testing.assert_allclose(tv.total_variation(np.stack([x, 2 * x])), [6.0, 12.0])


def test_group_norms_and_support_isolation():
    groups = np.array([0, 0, 1, 1, 2])
    w = np.array([[3.0, 4.0, 0.0, 0.0, -2.0]])
    np.testing.assert_allclose(gl.group_norms(w, groups, 3), [[5.0, 0.0, 2.0]])
    truth = np.array([[0.0, 2.0, 0.0, -1.0]])
    good = np.array([[0.05, 1.9, 0.01, -1.2]])
    bad = np.array([[0.5, 1.9, 0.01, -1.2]])
    np.testing.assert_array_equal(ss.support_isolated(np.concatenate([good, bad]),
                                                      np.concatenate([truth, truth])),
                                  [True, False])


def test_cosine_features_closed_form():
    F = ss.cosine_features(np.array([0.0, 0.25]), 3)
    np.testing.assert_allclose(F, [[1, 1, 1], [1, 0, -1]], atol=1e-15)


def test_registry_matches_modules():
    names = [n for n, _ in list_experiments()]
    assert names == list(EXPERIMENTS)
    assert len(names) == 9
    for name in names:
        assert callable(get_run(name))


def test_unknown_experiment_and_bad_override_raise():
    with pytest.raises(ValueError, match="Unknown experiment"):
        reproduce(["no_such_experiment"])
    with pytest.raises(ValueError, match="mode"):
        reproduce(["relu_bce"], mode="medium")
    with pytest.raises(ValueError, match="Unknown configuration key"):
        get_run("relu_bce")(overrides={"no_such_key": 1}, progress=False)


#: Tiny configurations: seconds in total, large enough for the losses to move.
TINY = {
    "relu_teacher_student": dict(n_steps=400, record_every=100, figure_step=200, n_eval=64),
    "attention": dict(n_steps=200, record_every=50, figure_step=100, n_eval=16),
    "matrix_completion": dict(n_steps=600, record_every=150, figure_step=300),
    "spectral_sparse": dict(n_steps=400, record_every=100, n_test=200),
    "total_variation": dict(n_steps=400, record_every=100, figure_step=200),
    "sparse_regression": dict(n_steps=400, record_every=100, n_test=100),
    "group_lasso": dict(n_steps=400, record_every=100, n_test=100),
    "channel_coupling": dict(n_steps=400, record_every=100, n_test=100),
    "relu_bce": dict(epochs=20, record_every_epochs=5, n_test=100),
}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("experiments")
    results = reproduce("all", mode="quick", seeds=2, out=str(out), progress=False,
                        overrides=TINY)
    return out, results


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_tiny_run_writes_sane_results(tiny_runs, name):
    out, results = tiny_runs
    path = os.path.join(out, name, "results.json")
    with open(path) as fh:
        res = json.load(fh)
    for key in ("experiment", "description", "mode", "seeds", "config", "paper", "notes",
                "metrics", "verdicts", "status", "figures", "curves"):
        assert key in res, (name, key)
    assert res["experiment"] == name and res["seeds"] == [0, 1] and res["status"] == "completed"
    for key, val in TINY[name].items():
        assert res["config"][key] == val
    assert res["verdicts"], name
    for v in res["verdicts"].values():
        assert set(v) >= {"claim", "criterion", "verdict", "evidence"}
        assert v["verdict"] in ("holds", "fails")
    summaries = [m for m in res["metrics"].values() if isinstance(m, dict) and "per_seed" in m]
    assert summaries, name
    for m in summaries:
        assert set(m) >= {"per_seed", "mean", "sd", "paper"} and len(m["per_seed"]) == 2
    for fig in res["figures"]:
        assert os.path.getsize(os.path.join(out, name, fig)) > 1000
    assert res["figures"], name
    losses = {k: np.array(v, dtype=float) for k, v in res["curves"].items()
              if k == "loss" or k.startswith("train_loss")}
    assert losses, name
    for key, curve in losses.items():
        assert curve.shape[0] == 2, (name, key)
        assert np.all(np.isfinite(curve)), (name, key)
        assert np.all(curve[:, -1] < curve[:, 0]), (name, key, curve[:, [0, -1]])
    assert results[name]["wall_time"] > 0 and res["wall_time"] > 0


def test_runs_are_reproducible_by_seed(tmp_path):
    kw = dict(mode="quick", seeds=[3], progress=False, overrides=TINY["relu_teacher_student"])
    run = get_run("relu_teacher_student")
    a = run(out=str(tmp_path / "a"), **kw)
    b = run(out=str(tmp_path / "b"), **kw)
    assert a["curves"]["loss"] == b["curves"]["loss"]
    assert a["metrics"]["ratios_end"] == b["metrics"]["ratios_end"]


def test_seed_data_independent_of_ensemble():
    # Seed 1's teacher is the same whether it runs alone or beside seed 0.
    cfg = dict(rts.CONFIGS["quick"])
    alone = rts.make_problem(cfg, [1])["teacher"]
    pair = rts.make_problem(cfg, [0, 1])["teacher"]
    np.testing.assert_array_equal(alone[0], pair[1])


def test_ledger_markdown_has_one_row_per_claim(tiny_runs):
    from quotientib.experiments._markdown import LEDGER_SPEC, ledger_markdown, load_results

    out, results = tiny_runs
    loaded = load_results(str(out))
    assert set(loaded) == set(EXPERIMENTS)
    text = ledger_markdown(loaded)
    rows = [line for line in text.splitlines()[2:] if line.startswith("|")]
    assert len(rows) == sum(len(v) for v in LEDGER_SPEC.values())
    for name in EXPERIMENTS:
        assert f"quotientib reproduce {name} --full --seeds 3" in text
