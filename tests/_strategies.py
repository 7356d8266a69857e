"""Random symmetries, metrics and gauges for the property tests of the geometry core."""

import autograd.numpy as anp
import numpy as np

from quotientib import Gauge, LieGroupAction, Symmetry
from quotientib.metric import ConstantMetric, FieldMetric


def random_spd(rng, n, cond=10.0):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eig = np.exp(rng.uniform(0, np.log(cond), n))
    return (q * eig) @ q.T


def random_field_metric(rng, n):
    """g(theta) = A(theta) A(theta)^T + I with A depending smoothly on theta."""
    a0 = 0.5 * rng.standard_normal((n, n))
    a1 = 0.3 * rng.standard_normal((n, n, n))

    def matrix(theta):
        a = a0 + anp.einsum("ijk,...k->...ij", a1, anp.sin(theta))
        return anp.matmul(a, anp.swapaxes(a, -1, -2)) + anp.eye(n)

    return FieldMetric(matrix, n)


def scaling_action(rng, n=4, m=2):
    """Abelian scalings theta_i -> exp(sum_a w_ai t_a) theta_i with arbitrary weights."""
    weights = rng.normal(size=(m, n))
    return LieGroupAction.from_generators(np.array([np.diag(w) for w in weights]),
                                          name="weighted scalings")


def gl_factorization_action(p=3, q=3, r=2):
    """GL(r) on (U, V): U -> U exp(T), V -> V exp(-T^T); invariant U V^T."""
    n = (p + q) * r
    gens = []
    for i in range(r):
        for j in range(r):
            gen = np.zeros((n, n))
            e = np.zeros((r, r))
            e[i, j] = 1.0
            for row in range(p):  # (U E)_{row, j} += U_{row, i}
                gen[row * r + j, row * r + i] += 1.0
            for row in range(q):  # V -> V (-E^T): (V E^T)_{row, i} = V_{row, j}
                gen[p * r + row * r + i, p * r + row * r + j] -= 1.0
            gens.append(gen)

    def product(theta):
        u = theta[..., : p * r].reshape(theta.shape[:-1] + (p, r))
        v = theta[..., p * r:].reshape(theta.shape[:-1] + (q, r))
        return anp.matmul(u, anp.swapaxes(v, -1, -2)).reshape(theta.shape[:-1] + (p * q,))

    return LieGroupAction.from_generators(np.array(gens), invariant=product, name="GL(r) on UV^T")


def so3_action():
    """SO(3) rotating a pair of vectors (x, y) of R^3: free where x and y are independent.

    (SO(3) on a single vector of R^3 is never free: its stabiliser is SO(2).)
    """
    gens = np.zeros((3, 6, 6))
    for a, (i, j) in enumerate([(0, 1), (0, 2), (1, 2)]):
        for off in (0, 3):
            gens[a, off + i, off + j], gens[a, off + j, off + i] = -1.0, 1.0

    def gram(theta):
        x, y = theta[..., :3], theta[..., 3:]
        return anp.stack([anp.sum(x * x, -1), anp.sum(x * y, -1), anp.sum(y * y, -1)], -1)

    return LieGroupAction.from_generators(gens, invariant=gram, name="SO(3) on pairs")


def action_by_name(name, rng):
    if name == "scalings":
        return scaling_action(rng)
    if name == "gl2":
        return gl_factorization_action()
    return so3_action()


def metric_by_kind(kind, rng, n):
    if kind == "euclidean":
        return None
    if kind == "constant":
        return ConstantMetric(random_spd(rng, n))
    return random_field_metric(rng, n)


def nonlinear_gauge(sym, rng):
    """A random smooth nonlinear gauge chi: R^n -> R^m."""
    n, m = sym.dim, sym.group_dim
    c1 = rng.standard_normal((m, n))
    c2 = 0.3 * rng.standard_normal((m, n))
    return Gauge(lambda th: anp.einsum("an,...n->...a", c1, th)
                 + anp.einsum("an,...n->...a", c2, anp.tanh(th) ** 2), sym, name="random")


def orthogonal_linear_gauge(sym, base):
    """chi_a(theta) = g_base(xi_a(base), theta - base): orthogonal to the orbit at `base`."""
    covecs = np.asarray(sym.metric.flat(sym.fundamental_fields(base), base))
    return Gauge(lambda th: anp.einsum("an,...n->...a", covecs, th - base), sym,
                 name="orthogonal at base")


def skew_linear_gauge(sym, base, rng):
    covecs = rng.standard_normal((sym.group_dim, sym.dim))
    return Gauge(lambda th: anp.einsum("an,...n->...a", covecs, th - base), sym, name="skew")


def build(name, kind, seed):
    rng = np.random.default_rng(seed)
    action = action_by_name(name, rng)
    return Symmetry(action, metric_by_kind(kind, rng, action.dim)), rng
