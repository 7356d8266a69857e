"""Tests of the network families of the catalog (two-layer / deep ReLU, conv, homogeneous)."""

import numpy as np
import pytest
from autograd import jacobian
from scipy.optimize import minimize

from quotientib import check_invariance
from quotientib.balance import balance
from quotientib.catalog import networks as nets
from quotientib.errors import NotClosedError, NotFreeError, ShapeError

#: Agreement of analytic and autograd quantities (float64).
EXACT = 1e-10
#: Agreement of a closed form with a numerical minimisation.
MINIMUM = 1e-6

FACTORIES = {
    "relu_two_layer": lambda metric=None: nets.relu_two_layer(metric=metric),
    "homogeneous_k2": lambda metric=None: nets.homogeneous_activation(degree=2.0,
                                                                       metric=metric),
    "homogeneous_k3_out2": lambda metric=None: nets.homogeneous_activation(
        width=2, degree=3.0, n_out=2, metric=metric),
    "deep_relu": lambda metric=None: nets.deep_relu(metric=metric),
    "relu_conv_channels": lambda metric=None: nets.relu_conv_channels(metric=metric),
    "circulant_conv": lambda metric=None: nets.circulant_conv(metric=metric),
    "deep_circulant_conv": lambda metric=None: nets.deep_circulant_conv(depth=2, length=5,
                                                                        metric=metric),
}
CLOSED_FORM = [name for name in FACTORIES if name != "deep_relu"]


def _spd(rng, k):
    a = rng.standard_normal((k, k))
    return a @ a.T + k * np.eye(k)


def compatible_metric(entry, rng, kind):
    """A constant metric that does not couple weight spaces (diagonal or full blocks)."""
    torus = entry.extra["torus"]
    n = torus.dim
    if kind == "diagonal" and torus.basis is not None:
        # in a Fourier basis only a scalar per factor keeps a diagonal metric compatible
        length = len(entry.extra["classes"])
        return np.diag(np.repeat(rng.uniform(0.5, 2.0, n // length), length))
    block = np.zeros((n, n))
    for space in range(torus.n_spaces):
        idx = np.flatnonzero(torus.labels == space)
        if kind == "diagonal":
            block[idx, idx] = rng.uniform(0.5, 2.0, idx.size)
        else:
            block[np.ix_(idx, idx)] = _spd(rng, idx.size)
    return block if torus.basis is None else torus.basis @ block @ torus.basis.T


def orbit_minimum(entry, theta):
    """Brute-force min over Lie coordinates of log det H(act(t, theta)) (BFGS, exact gradient)."""
    sym = entry.symmetry
    act = sym.action
    torus = entry.extra["torus"]

    def cost(t):
        return float(sym.log_det_orbit_gram(np.asarray(act.act(t, theta))))

    def grad(t):
        # abelian group: the t-gradient is the orbit gradient at the moved point
        return nets.orbit_log_det_gradient(torus, np.asarray(act.act(t, theta)), sym.metric)

    res = minimize(cost, np.zeros(act.group_dim), jac=grad, method="BFGS",
                   options={"gtol": 1e-11, "maxiter": 5000})
    return res.fun, np.asarray(act.act(res.x, theta))


def minimum_norm_point(entry, theta):
    """Minimiser of |theta|_g^2 along the orbit (convex in Lie coordinates)."""
    sym = entry.symmetry
    act = sym.action

    def cost(t):
        p = np.asarray(act.act(t, theta))
        return float(sym.metric.inner_product(p, p))

    def grad(t):
        # commuting linear action: d/dt_a |theta_t|_g^2 = 2 g(xi_a(theta_t), theta_t)
        p = np.asarray(act.act(t, theta))
        return 2.0 * sym.metric.inner_gram(act.fundamental_fields(p), p[None, :])[:, 0]

    res = minimize(cost, np.zeros(act.group_dim), jac=grad, method="BFGS",
                   options={"gtol": 1e-13, "maxiter": 5000})
    return np.asarray(act.act(res.x, theta))


# -- structure: fields, Gram, invariance, pack -----------------------------------------------
@pytest.mark.parametrize("name", FACTORIES)
def test_fields_gram_invariance(name):
    entry = FACTORIES[name]()
    rng = np.random.default_rng(0)
    theta = entry.random_point(rng, (3, 2))
    act = entry.symmetry.action
    xi = act.fundamental_fields(theta)
    assert xi.shape == (3, 2, act.group_dim, act.dim)
    np.testing.assert_allclose(xi, act.autograd_fundamental_fields(theta), atol=EXACT)
    gram = entry.symmetry.orbit_gram(theta)
    np.testing.assert_allclose(gram, np.einsum("...an,...bn->...ab", xi, xi), atol=EXACT)
    stacked = np.stack([entry.symmetry.orbit_gram(p) for p in theta.reshape(6, -1)])
    np.testing.assert_allclose(gram.reshape(stacked.shape), stacked, atol=EXACT)
    assert check_invariance(act, theta, rng=rng) < 1e-10
    arrays = entry.unpack(theta)
    np.testing.assert_array_equal(entry.pack(**arrays), theta)


@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("kind", ["diagonal", "full"])
def test_analytic_gram_and_moment_map_under_compatible_metrics(name, kind):
    rng = np.random.default_rng(1)
    base = FACTORIES[name]()
    entry = FACTORIES[name](metric=compatible_metric(base, rng, kind))
    sym = entry.symmetry
    theta = entry.random_point(rng, (4,))
    xi = sym.fundamental_fields(theta)
    analytic = sym.action.analytic_orbit_gram(theta, sym.metric)
    assert analytic is not NotImplemented
    np.testing.assert_allclose(analytic, sym.metric.inner_gram(xi, xi, theta), atol=EXACT)
    gauge = sym.moment_map_gauge()
    np.testing.assert_allclose(gauge.faddeev_popov(theta), sym.orbit_gram(theta), atol=EXACT)
    # d mu_a = g(xi_a, .) at one point, mu by its analytic hook
    mu = lambda p: sym.action.analytic_moment_map(p, sym.metric)  # noqa: E731
    np.testing.assert_allclose(jacobian(mu)(theta[0]), sym.metric.flat(xi[0]), atol=EXACT)


@pytest.mark.parametrize("name", CLOSED_FORM)
@pytest.mark.parametrize("kind", [None, "diagonal", "full"])
def test_closed_form_equals_numerical_minimum(name, kind):
    rng = np.random.default_rng(2)
    base = FACTORIES[name]()
    metric = None if kind is None else compatible_metric(base, rng, kind)
    entry = FACTORIES[name](metric=metric)
    points = entry.random_point(rng, (3,))
    closed = entry.reduced_log_det(points)
    assert closed.shape == (3,)
    for theta, value in zip(points, closed):
        numeric, argmin = orbit_minimum(entry, theta)
        assert abs(numeric - value) < MINIMUM
        assert entry.argmin_residual(argmin) < MINIMUM
        res = balance(entry.symmetry, theta, rng=np.random.default_rng(0))
        assert res.status == "minimum"
        assert abs(res.value - value) < MINIMUM


@pytest.mark.parametrize("name", ["relu_two_layer", "circulant_conv", "deep_circulant_conv"])
def test_incompatible_metric_falls_back_to_generic_path(name):
    rng = np.random.default_rng(3)
    n = FACTORIES[name]().symmetry.dim
    # relu: full SPD couples neurons; circulant: a generic diagonal mixes frequency classes
    g = _spd(rng, n) if name == "relu_two_layer" else np.diag(rng.uniform(0.5, 2.0, n))
    entry = FACTORIES[name](metric=g)
    sym = entry.symmetry
    theta = entry.random_point(rng)
    assert sym.action.analytic_orbit_gram(theta, sym.metric) is NotImplemented
    assert sym.action.analytic_moment_map(theta, sym.metric) is NotImplemented
    with pytest.raises(NotImplementedError):
        entry.reduced_log_det(theta)
    with pytest.raises(NotClosedError):
        sym.moment_map_gauge()
    xi = sym.fundamental_fields(theta)
    np.testing.assert_allclose(sym.orbit_gram(theta), xi @ g @ xi.T, atol=EXACT)
    numeric, argmin = orbit_minimum(entry, theta)
    grad = entry.extra["orbit_log_det_gradient"](argmin)
    assert np.linalg.norm(grad) < MINIMUM


def test_relu_closed_form_value():
    entry = nets.relu_two_layer(width=2, n_in=2)
    theta = entry.pack(W=np.array([[3.0, 4.0], [1.0, 0.0]]), V=np.array([[2.0], [0.5]]))
    np.testing.assert_allclose(entry.reduced_log_det(theta),
                               np.log(2 * 5.0 * 2.0) + np.log(2 * 1.0 * 0.5), atol=EXACT)
    np.testing.assert_allclose(entry.symmetry.orbit_gram(theta), np.diag([29.0, 1.25]),
                               atol=EXACT)


# -- homogeneous activation: three representatives ---------------------------------------------
@pytest.mark.parametrize("k", [0.5, 2.0, 3.0])
def test_homogeneous_three_representatives(k):
    entry = nets.homogeneous_activation(width=3, n_in=2, degree=k)
    rng = np.random.default_rng(4)
    theta = entry.random_point(rng)
    value, argmin = orbit_minimum(entry, theta)
    W, V = entry.unpack(argmin)["W"], entry.unpack(argmin)["V"]
    ratio = np.sum(W ** 2, -1) / np.sum(V ** 2, -1)
    np.testing.assert_allclose(ratio, k ** 3, rtol=MINIMUM)          # argmin: k^3
    mm = minimum_norm_point(entry, theta)
    W, V = entry.unpack(mm)["W"], entry.unpack(mm)["V"]
    np.testing.assert_allclose(np.sum(W ** 2, -1) / np.sum(V ** 2, -1), k, rtol=MINIMUM)
    assert np.max(np.abs(entry.symmetry.moment_map(mm))) < 1e-7      # moment map zero: k
    assert entry.extra["moment_map_residual"](mm) < MINIMUM
    # the paper's k^2 condition is neither
    assert entry.paper_residual(argmin) > 0.1
    assert entry.paper_residual(mm) > 0.1
    # log det H at the three representatives: argmin is strictly lowest
    assert entry.paper_reduced_bias(theta) > value + 1e-3
    assert entry.extra["log_det_at_moment_map_zero"](theta) > value + 1e-3
    np.testing.assert_allclose(entry.symmetry.log_det_orbit_gram(mm),
                               entry.extra["log_det_at_moment_map_zero"](theta), atol=1e-8)


def test_homogeneous_degree_one_is_relu():
    a = nets.homogeneous_activation(degree=1.0)
    b = nets.relu_two_layer()
    theta = a.random_point(np.random.default_rng(5), (4,))
    np.testing.assert_allclose(a.reduced_log_det(theta), b.reduced_log_det(theta), atol=EXACT)
    np.testing.assert_allclose(a.paper_reduced_bias(theta), b.reduced_log_det(theta),
                               atol=EXACT)


# -- deep ReLU: H is not diagonal, argmin is not the balanced point ------------------------------
def test_deep_relu_gram_off_diagonal():
    entry = nets.deep_relu(widths=(2, 3, 2, 1))
    theta = entry.random_point(np.random.default_rng(6))
    gram = entry.symmetry.orbit_gram(theta)
    W2 = entry.unpack(theta)["W2"]
    neurons = entry.extra["neurons"]
    for a, (la, ja) in enumerate(neurons):
        for b, (lb, jb) in enumerate(neurons):
            if la == 1 and lb == 2:
                assert gram[a, b] == pytest.approx(-W2[jb, ja] ** 2, abs=EXACT)
    a_in, a_out = entry.extra["in_out_norms"](theta)
    np.testing.assert_allclose(np.diag(gram), a_in + a_out, atol=EXACT)
    assert np.max(np.abs(gram - np.diag(np.diag(gram)))) > 0.01


def test_deep_relu_argmin_differs_from_balanced_point():
    entry = nets.deep_relu(widths=(2, 3, 2, 1))
    rng = np.random.default_rng(7)
    gaps = []
    for theta in entry.random_point(rng, (3,)):
        value, argmin = orbit_minimum(entry, theta)
        assert entry.argmin_residual(argmin) < MINIMUM
        mm = minimum_norm_point(entry, theta)
        assert entry.paper_residual(mm) < MINIMUM
        # log det H at the paper's balanced point is above the minimum
        gaps.append(float(entry.symmetry.log_det_orbit_gram(mm)) - value)
        assert entry.paper_residual(argmin) > 0.01
    assert min(gaps) > 1e-4


def test_deep_relu_log_det_convex_along_orbit():
    entry = nets.deep_relu()
    rng = np.random.default_rng(8)
    theta = entry.random_point(rng)
    direction = rng.standard_normal(entry.symmetry.group_dim)
    s = np.linspace(-1.5, 1.5, 31)
    pts = np.asarray(entry.symmetry.action.act(s[:, None] * direction, theta))
    values = entry.symmetry.log_det_orbit_gram(pts)
    assert np.min(values[:-2] - 2 * values[1:-1] + values[2:]) > -1e-12


# -- circulant convolutions ---------------------------------------------------------------------
def test_real_fourier_basis_diagonalises_circulants():
    basis, classes = nets.real_fourier_basis(6)
    np.testing.assert_allclose(basis.T @ basis, np.eye(6), atol=EXACT)
    circ = nets._circulant(np.random.default_rng(9).standard_normal(6), 6)
    rotated = basis.T @ circ @ basis
    mask = classes[:, None] != classes[None, :]
    assert np.max(np.abs(rotated[mask])) < EXACT


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_deep_circulant_log_det_bias_and_balanced_norm(depth):
    entry = nets.deep_circulant_conv(depth=depth, length=6)
    rng = np.random.default_rng(10)
    theta = entry.random_point(rng, (2,))
    c = entry.extra["fourier_coefficients"](theta)
    moved = entry.symmetry.action.act(rng.standard_normal(entry.symmetry.group_dim), theta)
    np.testing.assert_allclose(entry.extra["fourier_coefficients"](moved), c, atol=1e-9)
    np.testing.assert_allclose(entry.extra["reduced_log_det_of_c"](c),
                               entry.reduced_log_det(theta), atol=EXACT)
    for p, cc in zip(theta, c):
        mm = minimum_norm_point(entry, p)
        np.testing.assert_allclose(np.sum(mm ** 2), entry.extra["balanced_norm_of_c"](cc),
                                   rtol=MINIMUM)
        # the balanced point is also the argmin of log det H here
        assert entry.argmin_residual(mm) < MINIMUM
    # different functions of c: scaling c by lam shifts one, multiplies the other
    lam, n_classes = 3.0, 4
    shift = entry.extra["reduced_log_det_of_c"](lam * c) - entry.extra["reduced_log_det_of_c"](c)
    np.testing.assert_allclose(shift, n_classes * 2 * depth / (depth + 1) * np.log(lam),
                               atol=EXACT)
    ratio = entry.extra["balanced_norm_of_c"](lam * c) / entry.extra["balanced_norm_of_c"](c)
    np.testing.assert_allclose(ratio, lam ** (2.0 / (depth + 1)), rtol=EXACT)


def test_circulant_is_depth_one():
    a = nets.circulant_conv(length=6)
    b = nets.deep_circulant_conv(depth=1, length=6)
    theta = a.random_point(np.random.default_rng(11), (3,))
    np.testing.assert_allclose(a.reduced_log_det(theta), b.reduced_log_det(theta), atol=EXACT)
    np.testing.assert_allclose(a.symmetry.riemannian_submersion(theta),
                               b.symmetry.riemannian_submersion(theta), atol=EXACT)


# -- bad input ------------------------------------------------------------------------------------
def test_dead_neuron_raises_not_free():
    entry = nets.relu_two_layer(width=2, n_in=2)
    theta = entry.pack(W=np.array([[1.0, 2.0], [0.0, 0.0]]), V=np.array([[1.0], [0.0]]))
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(theta)
    with pytest.raises(NotFreeError):
        entry.reduced_log_det(theta)
    with pytest.raises(NotFreeError):
        balance(entry.symmetry, theta)


def test_one_sided_zero_is_unbounded():
    entry = nets.relu_two_layer(width=2, n_in=2)
    theta = entry.pack(W=np.array([[1.0, 2.0], [1.0, 1.0]]), V=np.array([[1.0], [0.0]]))
    assert entry.reduced_log_det(theta) == -np.inf
    assert balance(entry.symmetry, theta, rng=np.random.default_rng(0)).status == "unbounded"


@pytest.mark.parametrize("name", ["deep_relu", "relu_conv_channels", "circulant_conv"])
def test_dead_channel_raises_not_free(name):
    entry = FACTORIES[name]()
    theta = np.zeros(entry.symmetry.dim)
    with pytest.raises(NotFreeError):
        entry.symmetry.log_det_orbit_gram(theta)


def test_bad_arguments():
    with pytest.raises(ValueError):
        nets.deep_relu(widths=(2, 1))
    with pytest.raises(ValueError):
        nets.relu_conv_channels(length=3, kernel_size=4)
    with pytest.raises(ValueError):
        nets.homogeneous_activation(degree=0.0)
    with pytest.raises(ValueError):
        nets.deep_circulant_conv(depth=0)
    entry = nets.relu_two_layer()
    with pytest.raises(ShapeError):
        entry.symmetry.orbit_gram(np.zeros(entry.symmetry.dim + 1))
    with pytest.raises(ShapeError):
        entry.pack(W=np.zeros((2, 2)), V=np.zeros((3, 1)))
    with pytest.raises(ShapeError):
        nets.relu_two_layer(metric=np.eye(3))


@pytest.mark.parametrize("name", FACTORIES)
def test_balanced_point_is_moment_map_zero_and_norm_minimum(name):
    rng = np.random.default_rng(12)
    base = FACTORIES[name]()
    entry = FACTORIES[name](metric=compatible_metric(base, rng, "full"))
    sym = entry.symmetry
    points = entry.random_point(rng, (3,))
    balanced = entry.extra["balanced_point"](points)
    assert balanced.shape == points.shape
    stacked = np.stack([entry.extra["balanced_point"](p) for p in points])
    np.testing.assert_allclose(balanced, stacked, atol=1e-9)
    assert np.max(np.abs(sym.moment_map(balanced))) < 1e-8
    np.testing.assert_allclose(sym.riemannian_submersion(balanced),
                               sym.riemannian_submersion(points), atol=1e-9)
    np.testing.assert_allclose(balanced[0], minimum_norm_point(entry, points[0]), atol=1e-6)


def test_deep_relu_paper_value_is_orbit_invariant_and_above_minimum():
    entry = nets.deep_relu()
    rng = np.random.default_rng(13)
    theta = entry.random_point(rng)
    moved = entry.symmetry.action.act(rng.standard_normal(entry.symmetry.group_dim), theta)
    np.testing.assert_allclose(entry.paper_reduced_bias(moved), entry.paper_reduced_bias(theta),
                               atol=1e-9)
    value, _ = orbit_minimum(entry, theta)
    # Hadamard's inequality: the paper's diagonal-only value exceeds log det H at the balanced
    # point, which exceeds the minimum
    at_balanced = float(entry.symmetry.log_det_orbit_gram(entry.extra["balanced_point"](theta)))
    assert entry.paper_reduced_bias(theta) > at_balanced > value


def test_orbit_gradient_under_position_dependent_metric():
    import autograd.numpy as anp

    from quotientib.metric import FieldMetric

    entry0 = nets.relu_two_layer(width=2, n_in=2)
    n = entry0.symmetry.dim
    field = FieldMetric(lambda p: anp.eye(n) * (1.0 + anp.sum(p ** 2, -1))[..., None, None], n)
    entry = nets.relu_two_layer(width=2, n_in=2, metric=field)
    sym = entry.symmetry
    theta = entry.random_point(np.random.default_rng(14))
    assert sym.action.analytic_orbit_gram(theta, sym.metric) is NotImplemented
    grad = entry.extra["orbit_log_det_gradient"](theta)
    h = 1e-6
    for a in range(sym.group_dim):
        step = h * np.eye(sym.group_dim)[a]
        fd = (sym.log_det_orbit_gram(sym.action.act(step, theta))
              - sym.log_det_orbit_gram(sym.action.act(-step, theta))) / (2 * h)
        assert abs(fd - grad[a]) < 1e-6
