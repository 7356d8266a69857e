# %% [markdown]
# # A non-Euclidean metric study
#
# The paper works with the Euclidean metric. A preconditioner, a natural gradient or simply a
# different parameter scaling changes the metric $g$, and with it the orbit Gram matrix
# $H_{ab} = g(\xi_a, \xi_b)$, the balanced representatives and the reduced bias.
# We study the scaling $(u, v) \mapsto (e^t u, e^{-t} v)$ of $\theta = uv$:
#
# 1. under $g = \mathrm{diag}(a, b)$: moment map $(a u^2 - b v^2)/2$, where the argmin of
#    $\log\det H$ sits, and its closed form;
# 2. under a full SPD metric, where no moment map exists but the argmin still does;
# 3. the three "balanced representatives" of the theory notes (point 4), which coincide for
#    this plain scaling but not for a degree-$k$ homogeneous neuron.

# %%
import autograd.numpy as anp
import numpy as np

import quotientib as qib
from quotientib.balance import balance, reduced_bias

SMOKE = globals().get("SMOKE", False)
rng = np.random.default_rng(0)
scaling = qib.LieGroupAction.from_generators([np.diag([1.0, -1.0])],
                                             invariant=lambda th: th[..., :1] * th[..., 1:])

# %% [markdown]
# ## 1. Diagonal metric $g = \mathrm{diag}(a, b)$
# Along the orbit $H(t) = a u^2 e^{2t} + b v^2 e^{-2t}$, minimised where $a u^2 = b v^2$,
# with minimum $\log(2\sqrt{ab}\,|uv|)$. The 1-form $g(\xi, \cdot) = a u\,du - b v\,dv$ is
# closed, so a moment map exists: $\mu = (a u^2 - b v^2)/2$, and it vanishes at the same
# point.

# %%
a, b = 4.0, 0.5
sym = qib.Symmetry(scaling, metric=np.diag([a, b]))
points = rng.standard_normal((5, 2))
mu = sym.moment_map(points)[..., 0]
print("moment map:", mu, "\nformula   :", (a * points[:, 0] ** 2 - b * points[:, 1] ** 2) / 2)
assert np.allclose(mu, (a * points[:, 0] ** 2 - b * points[:, 1] ** 2) / 2, atol=1e-10)

for theta in points[:3]:
    res = balance(sym, theta)
    u, v = res.point
    closed = np.log(2 * np.sqrt(a * b) * abs(theta[0] * theta[1]))
    print(f"{res.status}: log det H = {res.value:.10f} (closed form {closed:.10f}); "
          f"a u^2 - b v^2 = {a * u**2 - b * v**2:.1e}; |u|/|v| = {abs(u / v):.4f}; "
          f"moment-map distance {res.moment_map_distance:.1e}")
    assert res.status == "minimum"
    assert abs(res.value - closed) < 1e-8
    assert abs(a * u**2 - b * v**2) < 1e-8
    assert res.moment_map_distance < 1e-8
    # the Euclidean balance |u| = |v| is NOT where this metric balances
    assert abs(abs(u / v) - np.sqrt(b / a)) < 1e-8

# %% [markdown]
# The reduced bias is the Euclidean one shifted by a constant, $\frac{T}{2}\log\sqrt{ab}$:
# a diagonal metric moves the representative, not the shape of the bias in $uv$.

# %%
n = 20 if SMOKE else 500
many = rng.standard_normal((n, 2))
T = 0.5
bias_g = reduced_bias(sym, many, T)
bias_e = reduced_bias(qib.Symmetry(scaling), many, T)
shift = bias_g - bias_e
print("bias difference: min", shift.min(), "max", shift.max(), " (T/2) log sqrt(ab) =",
      T / 2 * np.log(np.sqrt(a * b)))
assert np.allclose(shift, T / 2 * np.log(np.sqrt(a * b)), atol=1e-6)

# %% [markdown]
# ## 2. A full SPD metric: no moment map, but an argmin
# With $g = \begin{pmatrix} a & c \\ c & b\end{pmatrix}$,
# $H(t) = a u^2 e^{2t} - 2 c\,uv + b v^2 e^{-2t}$, so the argmin is still at $a u^2 = b v^2$
# and $\min \log\det H = \log(2\sqrt{ab}\,|uv| - 2c\,uv)$: the bias now depends on the sign
# of $uv$. The 1-form $g(\xi,\cdot)$ is not closed ($g X$ is not symmetric), so there is no
# moment-map representative; `balance` says so.

# %%
c = 0.6
full = qib.Symmetry(scaling, metric=np.array([[a, c], [c, b]]))
for theta in (np.array([1.0, 2.0]), np.array([1.0, -2.0])):
    res = balance(full, theta)
    uv = theta[0] * theta[1]
    closed = np.log(2 * np.sqrt(a * b) * abs(uv) - 2 * c * uv)
    print(f"uv = {uv:+.1f}: log det H = {res.value:.10f}, closed form {closed:.10f}; "
          f"moment map: {res.moment_map_message[:40]}...")
    assert abs(res.value - closed) < 1e-8
    assert abs(a * res.point[0] ** 2 - b * res.point[1] ** 2) < 1e-8
    assert res.moment_map_point is None

# %% [markdown]
# ## 3. Three balanced representatives
# For the plain scaling above the argmin of $\log\det H$ and the zero of the moment map agree.
# They do not in general. A degree-$k$ homogeneous neuron, orbit $(e^t w, e^{-kt} v)$, has
# $H = |w|^2 + k^2 v^2$:
#
# * (a) argmin of $\log\det H$: $|w|^2 = k^3 v^2$;
# * (b) zero of the moment map $(|w|^2 - k v^2)/2$ (= minimiser of $|\theta|^2$ on the orbit):
#   $|w|^2 = k v^2$;
# * (c) the paper's printed condition (appendix A.5, eqs. 40-41): $|w|^2 = k^2 v^2$.
#
# We compute (a) and (b) and evaluate $\log\det H$ at all three.

# %%
K = 3.0


def act(t, theta):
    s = t[..., :1]
    return anp.concatenate([theta[..., :2] * anp.exp(s), theta[..., 2:] * anp.exp(-K * s)],
                           axis=-1)


neuron = qib.Symmetry(qib.LieGroupAction(act, dim=3, group_dim=1, name="degree-k neuron"))
theta = np.array([0.5, 1.0, 2.0])
res = balance(neuron, theta)


def ratio(point):
    return np.sum(point[:2] ** 2) / point[2] ** 2


def orbit_point_with_ratio(target):
    # |e^s w|^2 / (e^{-ks} v)^2 = e^{2(k+1)s} ratio(theta) = target
    s = np.log(target / ratio(theta)) / (2 * (K + 1))
    return np.asarray(act(np.array([s]), theta))


paper_point = orbit_point_with_ratio(K**2)
rows = [("(a) argmin log det H", res.point), ("(b) moment map zero", res.moment_map_point),
        ("(c) paper, |w|^2 = k^2 v^2", paper_point)]
for label, point in rows:
    print(f"{label:28s} |w|^2/v^2 = {ratio(point):7.4f}   "
          f"log det H = {float(neuron.log_det_orbit_gram(point)):.6f}")
assert abs(ratio(res.point) - K**3) < 1e-6
assert abs(ratio(res.moment_map_point) - K) < 1e-6
logdets = [float(neuron.log_det_orbit_gram(p)) for _, p in rows]
assert logdets[0] < logdets[2] and logdets[0] < logdets[1]  # only (a) minimises log det H

# %% [markdown]
# Under the metric $\mathrm{diag}(1, 1, \kappa)$ the argmin moves to $|w|^2 = k^3 \kappa v^2$
# (from $H = |w|^2 + \kappa k^2 v^2$), and the moment-map zero to $|w|^2 = k\kappa v^2$.

# %%
kappa = 5.0
neuron_g = qib.Symmetry(neuron.action, metric=np.array([1.0, 1.0, kappa]))
res_g = balance(neuron_g, theta)
print("argmin ratio:", ratio(res_g.point), " expected k^3 kappa =", K**3 * kappa)
print("moment-map ratio:", ratio(res_g.moment_map_point), " expected k kappa =", K * kappa)
assert abs(ratio(res_g.point) - K**3 * kappa) < 1e-5
assert abs(ratio(res_g.moment_map_point) - K * kappa) < 1e-5
