"""Validations: result structure, closed forms they rely on, exact per-step identities."""

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import k0

from quotientib.dynamics import UVRegression, gradient_descent, sgd
from quotientib.verify import validations as V

#: Accuracy of the s-quadrature of the orbit weights (201 Simpson nodes).
QUAD_RTOL = 1e-6
#: Float64 accuracy of the per-step identities.
STEP_RTOL = 1e-12


def _finite_numbers(obj):
    """All floats found in a nested result are finite (NaN only where documented)."""
    if isinstance(obj, dict):
        return all(_finite_numbers(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return all(_finite_numbers(v) for v in obj)
    if isinstance(obj, float):
        return np.isfinite(obj)
    return True


@pytest.mark.parametrize("z", [0.01, 0.3, 2.0])
def test_orbit_weight_all_is_bessel_k0(z):
    # int_R exp(-z cosh 2s) ds = K_0(z): the exact law of theta under confinement eps
    theta = np.array([z])
    got = V._orbit_weight(theta, eps=1.0, temperature=1.0, kind="all", lie_window=1.0,
                          shell=0.1)
    assert got[0] == pytest.approx(k0(z), rel=1e-12)
    ref = quad(lambda s: np.exp(-z * np.cosh(2 * s)), -12.0, 12.0, limit=200)[0]
    assert got[0] == pytest.approx(ref, rel=1e-8)


def test_orbit_weight_windows_without_confinement():
    theta = np.array([0.3, 1.0, 2.0])
    lie = V._orbit_weight(theta, 0.0, 0.5, "lie", lie_window=0.7, shell=0.1)
    np.testing.assert_allclose(lie, 1.4, rtol=QUAD_RTOL)  # flat in theta: a Haar window
    shell = V._orbit_weight(theta, 0.0, 0.5, "shell", lie_window=0.7, shell=0.1)
    np.testing.assert_allclose(shell, np.arcsinh(0.1 / theta), rtol=QUAD_RTOL)


def test_orbit_weight_with_confinement_matches_quadrature():
    theta, eps, temp = 0.8, 0.2, 0.5
    got = V._orbit_weight(np.array([theta]), eps, temp, "lie", lie_window=1.0, shell=0.1)[0]
    ref = quad(lambda s: np.exp(-eps * theta * np.cosh(2 * s) / temp), -1.0, 1.0)[0]
    assert got == pytest.approx(ref, rel=QUAD_RTOL)


def test_compare_with_candidates_recovers_the_true_law():
    # deterministic quantile samples of exp(-(x-1)^2) on [0.2, 2.5], spread over 100 "chains"
    grid, dens = V._grid_density(lambda x: -(x - 1) ** 2, (0.2, 2.5))
    cdf = np.concatenate([[0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(grid))])
    q = (np.arange(20000) + 0.5) / 20000 * cdf[-1]
    samples = np.interp(q, cdf, grid)
    rng = np.random.default_rng(0)
    samples = rng.permutation(samples).reshape(100, 200)
    out = V.compare_with_candidates(samples, (0.2, 2.5), {
        "true": lambda x: -(x - 1) ** 2, "tilted": lambda x: -(x - 1) ** 2 + np.log(x)},
        rng=rng)
    assert out["consistent_with"] == ["true"]
    assert out["closest"] == "true"
    assert out["candidates"]["true"]["tv"] < 0.01


def test_gd_kunin_identity_is_exact():
    from quotientib.dynamics import UVModel

    eta = 0.1
    res = gradient_descent(UVModel(target=1.0).grad, np.array([[3.0, 0.1], [-1.0, 2.0]]),
                           lr=eta, n_steps=200,
                           observables={"D": lambda x: x[:, 0] ** 2 - x[:, 1] ** 2,
                                        "theta": lambda x: x[:, 0] * x[:, 1]})
    d, th = res.observables["D"], res.observables["theta"]
    pred = d[:, :-1] * (1 - eta ** 2 * (th[:, :-1] - 1) ** 2)
    np.testing.assert_allclose(d[:, 1:], pred, rtol=STEP_RTOL, atol=1e-14)


@pytest.mark.parametrize("metric", [(1.0, 1.0), (4.0, 1.0)])
def test_sgd_moment_map_identity_is_exact(metric):
    # preconditioned SGD with g = diag(a, b): mu' = (1 - eta^2 g_B^2 / (ab)) mu, per step
    a_, b_ = metric
    rng = np.random.default_rng(3)
    feats, targs = rng.standard_normal(50), rng.standard_normal(50)
    data = UVRegression(feats, targs, 2, per_chain=True, chains=3)
    batches = []

    def sample(r):
        idx = data.sample_batch(r)
        batches.append(idx)
        return idx

    inv = np.array([1 / a_, 1 / b_])
    eta = 0.05
    x0 = np.array([[2.0, 0.5], [1.0, -1.5], [0.3, 0.9]])
    res = sgd(lambda x, idx: data.grad_batch(x, idx) * inv, sample, x0, lr=eta, n_steps=40,
              rng=np.random.default_rng(4), keep_trajectory=True)
    traj = res.trajectory
    batches = batches[-40:]  # the engine probes sample_batch once before the loop
    mu = 0.5 * (a_ * traj[..., 0] ** 2 - b_ * traj[..., 1] ** 2)
    for k in range(40):
        w = traj[:, k, 0] * traj[:, k, 1]
        idx = batches[k]
        g = np.mean(feats[idx] * (feats[idx] * w[:, None] - targs[idx]), axis=-1)
        np.testing.assert_allclose(mu[:, k + 1], mu[:, k] * (1 - eta ** 2 * g ** 2 / (a_ * b_)),
                                   rtol=STEP_RTOL, atol=1e-13)


def test_radial_validation_result_fields(tmp_path):
    res = V.radial_validation(chains=300, n_steps=1500, burn_in=500, out=str(tmp_path))
    assert {"claim", "observable", "comparison", "verdict", "criterion", "config"} <= set(res)
    comp = res["comparison"]
    assert set(comp["candidates"]) == {"r^(d-1) exp(-L/T) (orbit volume, paper)",
                                       "exp(-L/T) (naive)"}
    assert _finite_numbers(comp)
    assert (tmp_path / "radial.png").exists() and (tmp_path / "radial.json").exists()


def test_uv_law_validation_result_fields():
    res = V.uv_law_validation(confinements=(0.1, 0.0), dts=(0.02,), chains=150,
                              time_length=20.0)
    kinds = {(r["confinement"], r["observable"]) for r in res["rows"]}
    assert kinds == {(0.1, "all"), (0.1, "lie"), (0.1, "shell"), (0.0, "all"), (0.0, "lie"),
                     (0.0, "shell")}
    for row in res["rows"]:
        assert row["comparison"] is None or _finite_numbers(row["comparison"])
    assert res["verdict"] and "criterion" in res


def test_metric_validation_result_fields():
    res = V.metric_validation(quick=True)
    rows = res["rows"]
    assert set(rows) == {"preconditioned SGD (g^-1 grad)", "plain SGD (Euclidean)",
                         "preconditioned Langevin", "homogeneous unit, plain SGD"}
    # (a) and (b) coincide for the scaling under a diagonal metric (theory.md point 4)
    cands = res["candidates_model1"]
    assert cands["(a) argmin log det H"] == pytest.approx(
        cands["(b) moment-map zero a u^2 = b v^2"], abs=1e-6)
    assert _finite_numbers(rows)


def test_balancing_validation_result_fields():
    res = V.balancing_validation(quick=True)
    assert set(res["sections"]) == {"gradient_descent", "sgd", "isotropic_langevin",
                                    "horizontal_langevin", "heavy_tailed", "compact_SO(d)"}
    for sec in res["sections"].values():
        assert sec["verdict"]
    assert max(r["identity_max_rel_error"]
               for r in res["sections"]["gradient_descent"]["rows"]) < 1e-12
