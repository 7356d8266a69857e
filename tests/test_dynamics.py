"""Tests of quotientib.dynamics: closed forms, identities, and moments within 5 standard errors."""

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import integrate

import quotientib  # noqa: F401  (selects the geomstats backend)
from quotientib import LieGroupAction, Symmetry
from quotientib.dynamics import (
    ClippedNoise,
    GaussianNoise,
    QuadraticModel,
    RadialModel,
    SimulationResult,
    StudentTNoise,
    UVModel,
    UVRegression,
    autograd_gradient,
    autograd_metric_derivative,
    gradient_descent,
    horizontal_langevin,
    horizontal_noise_projection,
    langevin,
    metric_drift_correction,
    riemannian_langevin,
    sgd,
    steppers,
)
from quotientib.errors import DivergenceError, ShapeError
from quotientib.metric import FieldMetric

ATOL = 1e-12
N_SE = 5.0


def rng(seed=0):
    return np.random.default_rng(seed)


def _mean_and_se(samples):
    """Mean of [chains, records] samples and its standard error from per-chain means."""
    per_chain = samples.mean(axis=1)
    return per_chain.mean(), per_chain.std(ddof=1) / np.sqrt(per_chain.size)


def _moment(weight, fn, lo, hi):
    num = integrate.quad(lambda r: fn(r) * weight(r), lo, hi, limit=200)[0]
    den = integrate.quad(weight, lo, hi, limit=200)[0]
    return num / den


# -- shapes of results -------------------------------------------------------------------------
def _uv_runs():
    m = UVModel(1.0)
    data = UVRegression(np.linspace(0.5, 1.5, 20), np.linspace(0.5, 1.5, 20), 4)
    obs = {"theta": lambda x: m.invariant(x), "loss": m.loss}
    common = dict(n_steps=10, record_every=3, observables=obs, keep_trajectory=True)
    x0 = np.full((5, 2), 0.5)
    sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]))
    return {
        "em": lambda s: langevin(m.grad, x0, temperature=0.1, dt=0.01, rng=rng(s), **common),
        "lm": lambda s: langevin(m.grad, x0, temperature=0.1, dt=0.01, rng=rng(s),
                                 scheme="leimkuhler_matthews", **common),
        "riemannian": lambda s: riemannian_langevin(
            m.grad, lambda x: (1 + x[..., 0] ** 2)[..., None, None] * anp.eye(2), x0,
            temperature=0.1, dt=0.01, rng=rng(s), **common),
        "horizontal": lambda s: horizontal_langevin(sym, m.grad, x0, temperature=0.1, dt=0.01,
                                                    rng=rng(s), **common),
        "gd": lambda s: gradient_descent(m.grad, x0, lr=0.1, **common),
        "sgd": lambda s: sgd(data.grad_batch, data.sample_batch, x0, lr=0.1, rng=rng(s),
                             noise=StudentTNoise(3.0, 0.1), **common),
    }


@pytest.mark.parametrize("name", list(_uv_runs()))
def test_result_shapes(name):
    res = _uv_runs()[name](0)
    assert isinstance(res, SimulationResult)
    np.testing.assert_array_equal(res.record_steps, [0, 3, 6, 9])
    assert res.observables["theta"].shape == (5, 4, 1)
    assert res.observables["loss"].shape == (5, 4)
    assert res.trajectory.shape == (5, 4, 2)
    assert res.final.shape == (5, 2)
    assert res.status == "completed" and res.n_steps_done == 10
    assert res.n_records == 4 and res.n_chains == 5
    np.testing.assert_array_equal(res.trajectory[:, 0], np.full((5, 2), 0.5))
    with pytest.raises(dataclasses_frozen_error()):
        res.status = "x"


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_no_trajectory_by_default():
    res = langevin(lambda x: x, np.zeros((3, 2)), temperature=1.0, dt=0.1, n_steps=5, rng=rng())
    assert res.trajectory is None and res.observables == {}
    assert res.record_steps.shape == (6,)


@pytest.mark.parametrize("name", ["em", "lm", "riemannian", "horizontal", "sgd"])
def test_reproducible_by_seed(name):
    run = _uv_runs()[name]
    a, b, c = run(7), run(7), run(8)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    np.testing.assert_array_equal(a.final, b.final)
    assert not np.array_equal(a.final, c.final)


@pytest.mark.parametrize("scheme", ["euler_maruyama", "leimkuhler_matthews"])
def test_noise_blocks_do_not_change_the_path(scheme, monkeypatch):
    kw = dict(temperature=0.5, dt=0.05, rng=None, scheme=scheme, keep_trajectory=True)
    kw_long = dict(kw, n_steps=40)
    ref = langevin(lambda x: x ** 3, np.ones((3, 2)), **dict(kw_long, rng=rng(3)))
    monkeypatch.setattr(steppers, "BLOCK_ELEMENTS", 7)  # one step per block
    small = langevin(lambda x: x ** 3, np.ones((3, 2)), **dict(kw_long, rng=rng(3)))
    np.testing.assert_array_equal(ref.trajectory, small.trajectory)
    # A short run is a prefix of a long one.
    short = langevin(lambda x: x ** 3, np.ones((3, 2)), **dict(kw, n_steps=20, rng=rng(3)))
    np.testing.assert_array_equal(short.final, ref.trajectory[:, 20])


# -- divergence ------------------------------------------------------------------------------
def test_divergence_error_keeps_partial_result():
    # L = -x^4/4 explodes in finite time from x = 3 but not from x = 0 at this step.
    x0 = np.array([[0.0], [3.0], [0.0]])
    with pytest.raises(DivergenceError) as info:
        langevin(lambda x: -x ** 3, x0, temperature=1e-4, dt=0.1, n_steps=100, rng=rng(),
                 record_every=2, observables={"x": lambda x: x[:, 0]})
    err = info.value
    part = err.result
    assert part.status == "diverged"
    assert err.step == part.n_steps_done == part.record_steps[-1]
    assert err.step < 100
    assert "1 of 3 chains" in str(err) and f"step {err.step}" in str(err)
    assert part.observables["x"].shape == (3, part.n_records)
    assert np.all(np.isfinite(part.observables["x"][:, :-1]))
    assert not np.isfinite(part.observables["x"][1, -1])


def test_divergence_between_records_is_caught_at_the_end():
    with pytest.raises(DivergenceError) as info:
        gradient_descent(lambda x: -x ** 3, np.array([[3.0]]), lr=0.1, n_steps=50,
                         record_every=1000)
    assert info.value.step == 50 and info.value.result.n_records == 1


# -- steppers: stationary bias and weak order ------------------------------------------------
K = np.array([1.0, 4.0])
T_QUAD, DT_QUAD = 0.7, 0.2


@pytest.mark.parametrize("scheme", ["euler_maruyama", "leimkuhler_matthews"])
def test_stationary_variance_on_a_quadratic(scheme):
    model = QuadraticModel(K)
    exact = T_QUAD / K
    em = T_QUAD / (K * (1 - K * DT_QUAD / 2))
    expected = em if scheme == "euler_maruyama" else exact
    x0 = rng(1).standard_normal((4000, 2)) * np.sqrt(expected)
    res = langevin(model.grad, x0, temperature=T_QUAD, dt=DT_QUAD, n_steps=2000, rng=rng(2),
                   scheme=scheme, record_every=5, observables={"x2": lambda x: x ** 2})
    x2 = res.observables["x2"][:, 20:]  # drop 100 steps of transient
    for j in range(2):
        mean, se = _mean_and_se(x2[..., j])
        assert abs(mean - expected[j]) < N_SE * se
        other = exact[j] if scheme == "euler_maruyama" else em[j]
        assert abs(mean - other) > N_SE * se  # the two closed forms are told apart


def _ou_error(scheme, dt, chains, seed):
    """Weak error of E[x_1^2] for dx = -x dt + sqrt(2T) dW from x = 1, and its SE."""
    temp = 0.5
    exact = np.exp(-2.0) + temp * (1 - np.exp(-2.0))
    n = int(round(1 / dt))
    res = langevin(lambda x: x, np.ones((chains, 1)), temperature=temp, dt=dt, n_steps=n,
                   rng=rng(seed), scheme=scheme, record_every=n,
                   observables={"x2": lambda x: x[:, 0] ** 2})
    v = res.observables["x2"][:, -1]
    return v.mean() - exact, v.std() / np.sqrt(chains)


@pytest.mark.parametrize("scheme", ["euler_maruyama", "leimkuhler_matthews"])
def test_empirical_weak_order(scheme):
    dts = np.array([0.25, 0.125, 0.0625])
    errs, ses = zip(*[_ou_error(scheme, dt, 1_000_000, 11) for dt in dts])
    errs, ses = np.abs(errs), np.array(ses)
    assert np.all(errs > N_SE * ses)  # the bias is resolved at every step size
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert 0.7 < slope < 1.4  # weak order 1 (finite time) for both schemes


def test_em_weak_error_matches_its_recursion():
    # For OU, EM's second moment obeys m' = (1 - dt)^2 m + 2 T dt exactly.
    dt, temp = 0.25, 0.5
    m = 1.0
    for _ in range(4):
        m = (1 - dt) ** 2 * m + 2 * temp * dt
    err, se = _ou_error("euler_maruyama", dt, 1_000_000, 12)
    exact = np.exp(-2.0) + temp * (1 - np.exp(-2.0))
    assert abs(err - (m - exact)) < N_SE * se


# -- invariance-related identities -----------------------------------------------------------
def test_radial_law_d10():
    model = RadialModel(10, center=1.0, stiffness=1.0)
    temp = 0.5
    x0 = rng(0).standard_normal((2000, 10)) / np.sqrt(10)
    res = langevin(model.grad, x0, temperature=temp, dt=0.01, n_steps=6000, rng=rng(1),
                   scheme="leimkuhler_matthews", record_every=20,
                   observables={"r": model.radius})
    r = res.observables["r"][:, 50:]  # drop t < 10
    orbit = lambda s: np.exp(model.radial_log_density(s, temp, orbit_volume=True))  # noqa: E731
    naive = lambda s: np.exp(model.radial_log_density(s, temp, orbit_volume=False))  # noqa: E731
    for power in (1, 2):
        mean, se = _mean_and_se(r ** power)
        fn = lambda s, p=power: s ** p  # noqa: E731
        assert abs(mean - _moment(orbit, fn, 0, 12)) < N_SE * se
        assert abs(mean - _moment(naive, fn, 0, 12)) > N_SE * se


def test_ito_martingale_of_uv_imbalance():
    model = UVModel(1.0)
    x0 = np.tile([2.0, 0.5], (20000, 1))
    res = langevin(model.grad, x0, temperature=0.1, dt=1e-3, n_steps=1000, rng=rng(4),
                   record_every=250, observables={"D": lambda x: model.imbalance(x)[:, 0]})
    d = res.observables["D"]
    change = d[:, 1:] - d[:, :1]
    mean = change.mean(axis=0)
    se = change.std(axis=0, ddof=1) / np.sqrt(d.shape[0])
    assert np.all(se > 0.003)  # the noise does move D
    assert np.all(np.abs(mean) < N_SE * se)


@pytest.mark.parametrize("lr", [0.05, 0.3])
def test_gd_contraction_factor_identity(lr):
    model = UVModel(1.5)
    x0 = rng(0).uniform(0.2, 2.0, size=(50, 2))
    res = gradient_descent(model.grad, x0, lr=lr, n_steps=20, keep_trajectory=True)
    traj = res.trajectory
    d = traj[..., 0] ** 2 - traj[..., 1] ** 2
    r = traj[..., 0] * traj[..., 1] - 1.5
    predicted = (1 - lr ** 2 * r[:, :-1] ** 2) * d[:, :-1]
    np.testing.assert_allclose(d[:, 1:], predicted, rtol=0, atol=ATOL * np.max(np.abs(d)))


def test_sgd_contraction_identity_with_fresh_batches():
    a = np.linspace(0.5, 2.0, 30)
    data = UVRegression(a, 1.2 * a + 0.1 * np.sin(7 * a), batch_size=5)
    drawn = []

    def sample(g):
        idx = data.sample_batch(g)
        drawn.append(idx)
        return idx

    x0 = rng(1).uniform(0.3, 1.5, size=(40, 2))
    res = sgd(data.grad_batch, sample, x0, lr=0.2, n_steps=15, rng=rng(2), keep_trajectory=True)
    assert len(drawn) == 15
    assert len({tuple(d) for d in drawn}) > 1  # batches are fresh
    traj = res.trajectory
    for k in range(15):
        u, v = traj[:, k, 0], traj[:, k, 1]
        ab = data.a[drawn[k]]
        g = np.mean(ab * (ab * (u * v)[:, None] - data.b[drawn[k]]), axis=1)
        d_next = traj[:, k + 1, 0] ** 2 - traj[:, k + 1, 1] ** 2
        np.testing.assert_allclose(d_next, (1 - 0.2 ** 2 * g ** 2) * (u ** 2 - v ** 2),
                                   rtol=0, atol=1e-12)


# -- riemannian sampler -------------------------------------------------------------------
def _metric_2d(x):
    # g = I + a a^T with a = (x2, x1 / 2): position dependent, not diagonal.
    a = anp.stack([x[..., 1], 0.5 * x[..., 0]], axis=-1)
    return anp.eye(2) + a[..., :, None] * a[..., None, :]


def _metric_2d_derivative(x):
    # d_j g_kl = d_j a_k a_l + a_k d_j a_l with d_1 a_0 = 1, d_0 a_1 = 1/2.
    a0, a1 = x[..., 1], 0.5 * x[..., 0]
    out = np.zeros(x.shape + (2, 2))
    out[..., 0, 0, 1] = out[..., 0, 1, 0] = 0.5 * a0  # j = 0: d_0 a = (0, 1/2)
    out[..., 0, 1, 1] = a1
    out[..., 1, 0, 0] = 2 * a0  # j = 1: d_1 a = (1, 0)
    out[..., 1, 0, 1] = out[..., 1, 1, 0] = a1
    return out


def test_autograd_metric_derivative_matches_closed_form():
    x = rng(0).standard_normal((7, 2))
    metric = FieldMetric(_metric_2d, 2)
    np.testing.assert_allclose(autograd_metric_derivative(metric)(x), _metric_2d_derivative(x),
                               rtol=0, atol=ATOL)


def test_drift_correction_closed_form_1d():
    # g = 1 + x^2: d(1/g)/dx + (1/2)(1/g) d log g/dx = -x / g^2; the Lebesgue target keeps -2x/g^2.
    metric = FieldMetric(lambda x: (1 + x[..., 0] ** 2)[..., None, None] * anp.ones((1, 1)), 1)
    x = np.linspace(-2, 2, 9)[:, None]
    g = 1 + x ** 2
    np.testing.assert_allclose(metric_drift_correction(metric, x), -x / g ** 2, atol=ATOL)
    np.testing.assert_allclose(metric_drift_correction(metric, x, target="lebesgue"),
                               -2 * x / g ** 2, atol=ATOL)
    np.testing.assert_array_equal(metric_drift_correction(np.diag([2.0]), x), np.zeros_like(x))


def test_drift_correction_batched_equals_stacked():
    metric = FieldMetric(_metric_2d, 2)
    x = rng(3).standard_normal((6, 2))
    batched = metric_drift_correction(metric, x)
    stacked = np.concatenate([metric_drift_correction(metric, x[i:i + 1]) for i in range(6)])
    np.testing.assert_allclose(batched, stacked, rtol=0, atol=ATOL)


@pytest.mark.parametrize("target", ["volume", "lebesgue"])
def test_riemannian_stationary_law_2d(target):
    temp = 1.0
    loss = lambda x0, x1: 0.5 * (x0 ** 2 + 2 * x1 ** 2)  # noqa: E731
    grad = lambda x: x * np.array([1.0, 2.0])  # noqa: E731

    grid = np.linspace(-9, 9, 1801)  # trapezoid on a fine grid: Gaussian tails, error << SE
    y1, y0 = np.meshgrid(grid, grid, indexing="ij")

    def moments(volume):
        w = np.exp(-loss(y0, y1) / temp)
        if volume:
            w = w * np.sqrt(1 + y1 ** 2 + 0.25 * y0 ** 2)  # det(I + a a^T) = 1 + |a|^2
        z = np.trapezoid(np.trapezoid(w, grid, axis=1), grid)
        return [np.trapezoid(np.trapezoid(y ** 2 * w, grid, axis=1), grid) / z for y in (y0, y1)]

    expected, other = moments(target == "volume"), moments(target != "volume")
    res = riemannian_langevin(grad, _metric_2d, np.zeros((3000, 2)), temperature=temp, dt=0.005,
                              n_steps=2000, rng=rng(5), record_every=25, target=target,
                              metric_derivative=_metric_2d_derivative,
                              observables={"x2": lambda x: x ** 2})
    x2 = res.observables["x2"][:, 24:]  # drop t < 3
    for j in range(2):
        mean, se = _mean_and_se(x2[..., j])
        assert abs(mean - expected[j]) < N_SE * se
    # The two targets are told apart (by x0^2, which the volume factor weights most).
    mean, se = _mean_and_se(x2[..., 0])
    assert abs(mean - other[0]) > N_SE * se


def test_riemannian_constant_metric_is_preconditioned_langevin():
    # For constant g the law is exp(-L/T) whatever g: Var x_j = T / k_j for L = sum k x^2 / 2.
    g = np.array([[2.0, 0.5], [0.5, 1.0]])
    res = riemannian_langevin(lambda x: x * K, g, np.zeros((4000, 2)), temperature=0.5,
                              dt=0.02, n_steps=2000, rng=rng(6), record_every=20,
                              scheme="leimkuhler_matthews",
                              observables={"x2": lambda x: x ** 2})
    x2 = res.observables["x2"][:, 20:]
    for j in range(2):
        mean, se = _mean_and_se(x2[..., j])
        assert abs(mean - 0.5 / K[j]) < N_SE * se


# -- horizontal noise --------------------------------------------------------------------
def _rotations():
    return Symmetry(LieGroupAction.from_generators([np.array([[0.0, -1.0], [1.0, 0.0]])]))


def test_horizontal_noise_preserves_the_angle_of_rotations():
    # Horizontal = radial for SO(2): with a radial loss the angle never moves (EM step is radial).
    model = RadialModel(2, center=1.0)
    x0 = np.stack([np.cos(np.linspace(0, 6, 50)), np.sin(np.linspace(0, 6, 50))], axis=1)
    res = horizontal_langevin(_rotations(), model.grad, x0, temperature=0.05, dt=0.01,
                              n_steps=200, rng=rng(0), record_every=50,
                              observables={"angle": lambda x: np.arctan2(x[:, 1], x[:, 0])})
    ang = res.observables["angle"]
    np.testing.assert_allclose(ang, np.repeat(ang[:, :1], ang.shape[1], axis=1), atol=1e-10)
    assert np.std(res.final[:, 0] ** 2 + res.final[:, 1] ** 2) > 1e-3  # radius did move


def test_horizontal_noise_with_a_metric_is_g_orthogonal_to_the_orbit():
    # Scaling xi = (u, -v) with g = diag(a, b): every zero-drift increment satisfies
    # g(xi, dx) = a u du - b v dv = 0 exactly.
    a, b = 2.0, 0.5
    sym = Symmetry(LieGroupAction.from_generators([np.diag([1.0, -1.0])]), metric=[a, b])
    x0 = rng(0).uniform(0.5, 2.0, size=(20, 2))
    res = horizontal_langevin(sym, lambda x: np.zeros_like(x), x0, temperature=0.1, dt=1e-3,
                              n_steps=30, rng=rng(1), keep_trajectory=True)
    traj = res.trajectory
    dx = np.diff(traj, axis=1)
    inner = a * traj[:, :-1, 0] * dx[..., 0] - b * traj[:, :-1, 1] * dx[..., 1]
    np.testing.assert_allclose(inner, 0.0, atol=ATOL)
    assert np.max(np.abs(dx)) > 1e-3  # the noise did move the chains


def test_horizontal_projection_batched_equals_stacked():
    proj = horizontal_noise_projection(_rotations())
    x = rng(1).standard_normal((5, 2))
    noise = rng(2).standard_normal((5, 2))
    batched = proj(x, noise)
    stacked = np.concatenate([proj(x[i:i + 1], noise[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(batched, stacked, atol=ATOL)
    np.testing.assert_allclose(np.sum(batched * (x @ np.array([[0, 1], [-1, 0]])), axis=1), 0,
                               atol=ATOL)  # orthogonal to xi = (-y, x)


# -- added noise ------------------------------------------------------------------------
def test_sgd_added_noise_variance_closed_form():
    # Zero gradient: x_n = x_0 - lr sum zeta_k, Var = n lr^2 Var(zeta).
    lr, n, df, scale = 0.1, 20, 5.0, 0.3
    zero = lambda x, b: np.zeros_like(x)  # noqa: E731
    res = sgd(zero, lambda g: None, np.zeros((50000, 2)), lr=lr, n_steps=n, rng=rng(0),
              noise=StudentTNoise(df, scale), record_every=n)
    x2 = res.final ** 2
    exact = n * lr ** 2 * scale ** 2 * df / (df - 2)
    se = x2.std() / np.sqrt(x2.size)
    assert abs(x2.mean() - exact) < N_SE * se


def test_noise_samplers():
    g = GaussianNoise(2.0).sample(rng(0), (100000,))
    assert abs(g.var() - 4.0) < N_SE * np.sqrt(2 * 16 / g.size)
    c = ClippedNoise(1.0, 0.5).sample(rng(0), (1000, 3))
    norms = np.linalg.norm(c, axis=1)
    assert np.all(norms <= 0.5 + ATOL) and np.mean(np.isclose(norms, 0.5)) > 0.9
    raw = rng(0).standard_normal((1000, 3))  # unclipped ones are unchanged
    small = np.linalg.norm(raw, axis=1) < 0.5
    np.testing.assert_allclose(c[small], raw[small], atol=ATOL)
    with pytest.raises(ValueError):
        StudentTNoise(-1.0, 1.0)


# -- models -------------------------------------------------------------------------------
def test_models_closed_forms_and_autograd():
    x = rng(0).standard_normal((6, 4))
    uv = UVModel([1.0, -0.5], confinement=0.1)
    u, v = x[:, :2], x[:, 2:]
    np.testing.assert_allclose(uv.loss(x), 0.5 * np.sum((u * v - [1.0, -0.5]) ** 2, 1)
                               + 0.05 * np.sum(x ** 2, 1), atol=ATOL)
    np.testing.assert_allclose(uv.imbalance(x), u ** 2 - v ** 2, atol=ATOL)
    ag = autograd_gradient(lambda y: 0.5 * anp.sum((y[..., :2] * y[..., 2:] - anp.array(
        [1.0, -0.5])) ** 2, -1) + 0.05 * anp.sum(y ** 2, -1))
    np.testing.assert_allclose(ag(x), uv.grad(x), atol=ATOL)
    rad = RadialModel(4, center=2.0, stiffness=3.0)
    ag_rad = autograd_gradient(lambda y: 1.5 * (anp.sqrt(anp.sum(y ** 2, -1)) - 2.0) ** 2)
    np.testing.assert_allclose(ag_rad(x), rad.grad(x), atol=ATOL)
    np.testing.assert_allclose(rad.loss(np.array([[3.0, 4.0, 0, 0]])), [1.5 * 9], atol=ATOL)
    quad = QuadraticModel([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(quad.grad(np.array([[1.0, 1.0]])), [[3.0, 4.0]], atol=ATOL)
    np.testing.assert_allclose(quad.loss(np.array([[1.0, 1.0]])), [3.5], atol=ATOL)


def test_uv_regression_batched_equals_stacked():
    a = np.linspace(0.1, 1, 10)
    data = UVRegression(a, 2 * a, 3)
    idx = data.sample_batch(rng(0))
    x = rng(1).standard_normal((4, 2))
    batched = data.grad_batch(x, idx)
    stacked = np.concatenate([data.grad_batch(x[i:i + 1], idx) for i in range(4)])
    np.testing.assert_allclose(batched, stacked, atol=ATOL)
    full = UVRegression(a, 2 * a, 10)
    np.testing.assert_allclose(full.grad_batch(x, np.arange(10)), full.grad(x), atol=ATOL)


def test_uv_regression_per_chain_batches():
    a = np.linspace(0.1, 1, 10)
    data = UVRegression(a, 2 * a + 0.3, 3, per_chain=True, chains=4)
    idx = data.sample_batch(rng(0))
    assert idx.shape == (4, 3)
    x = rng(1).standard_normal((4, 2))
    got = data.grad_batch(x, idx)
    for i in range(4):
        ab, bb = a[idx[i]], data.b[idx[i]]
        g = np.mean(ab * (ab * x[i, 0] * x[i, 1] - bb))
        np.testing.assert_allclose(got[i], [g * x[i, 1], g * x[i, 0]], atol=ATOL)


# -- input checks ------------------------------------------------------------------------
def test_bad_input_raises():
    with pytest.raises(ShapeError):
        langevin(lambda x: x, np.zeros(3), temperature=1, dt=0.1, n_steps=1, rng=rng())
    with pytest.raises(ShapeError):
        langevin(lambda x: x[:, :1], np.zeros((2, 3)), temperature=1, dt=0.1, n_steps=1,
                 rng=rng())
    with pytest.raises(ValueError):
        langevin(lambda x: x, np.zeros((2, 3)), temperature=1, dt=-0.1, n_steps=1, rng=rng())
    with pytest.raises(ValueError):
        langevin(lambda x: x, np.zeros((2, 3)), temperature=1, dt=0.1, n_steps=1, rng=rng(),
                 scheme="leimkuhler_matthews", noise_projection=lambda x, n: n)
    with pytest.raises(ValueError):
        langevin(lambda x: x, np.zeros((2, 3)), temperature=1, dt=0.1, n_steps=1, rng=rng(),
                 scheme="heun")
    with pytest.raises(TypeError):
        langevin(lambda x: x, np.zeros((2, 3)), temperature=1, dt=0.1, n_steps=1, rng=0)
    with pytest.raises(ValueError):
        riemannian_langevin(lambda x: x, _metric_2d, np.zeros((2, 2)), temperature=1, dt=0.1,
                            n_steps=1, rng=rng(), scheme="leimkuhler_matthews")


def test_sgd_checks_gradient_shape():
    with pytest.raises(ShapeError):
        sgd(lambda x, b: x[:, :1], lambda g: None, np.zeros((3, 2)), lr=0.1, n_steps=2, rng=rng())


def test_progress_bar_runs():
    res = langevin(lambda x: x, np.zeros((2, 1)), temperature=1, dt=0.1, n_steps=2500,
                   rng=rng(), record_every=500, progress=True)
    assert res.n_steps_done == 2500


def test_stationary_bias_order_on_a_non_gaussian_potential():
    # L = x^2/2 + sin(2x) (Lipschitz gradient): E[x] under the stationary law by quadrature.
    weight = lambda s: np.exp(-(s ** 2 / 2 + np.sin(2 * s)))  # noqa: E731
    exact = _moment(weight, lambda s: s, -12, 12)
    grad = lambda x: x + 2 * np.cos(2 * x)  # noqa: E731
    errs = {}
    for scheme in ("euler_maruyama", "leimkuhler_matthews"):
        for dt in (0.2, 0.1):
            burn = int(10 / dt) // 5
            res = langevin(grad, np.zeros((20000, 1)), temperature=1.0, dt=dt,
                           n_steps=5 * burn + int(100 / dt), rng=rng(3), scheme=scheme,
                           record_every=5, observables={"x": lambda x: x[:, 0]})
            mean, se = _mean_and_se(res.observables["x"][:, burn:])
            errs[scheme, dt] = (mean - exact, se)
    for dt in (0.2, 0.1):
        em, em_se = errs["euler_maruyama", dt]
        lm, lm_se = errs["leimkuhler_matthews", dt]
        assert abs(em) > N_SE * em_se  # Euler-Maruyama's O(dt) bias is resolved
        assert abs(lm) + N_SE * lm_se < abs(em) / 2  # and Leimkuhler-Matthews' is much smaller
    em_ratio = errs["euler_maruyama", 0.2][0] / errs["euler_maruyama", 0.1][0]
    assert 3.5 > em_ratio > 1.5  # O(dt) at these steps (2 asymptotically)
