# %% [markdown]
# # Your own group action and its reduced bias
#
# quotientib's promise: give it a group action and it gives you the implicit bias the symmetry
# induces, $\frac{T}{2}\min_{\text{orbit}} \log\det H$. Here we bring an action the toolkit
# does not know: a neuron with a degree-$k$ homogeneous activation,
# $f(x) = v\,\sigma(w^\top x)$ with $\sigma(a s) = a^k \sigma(s)$, which is invariant under
#
# $$ (w, v) \mapsto (e^{t} w,\; e^{-k t} v). $$
#
# We write only `act`; the fundamental field, the orbit Gram matrix $H$, the orbit
# minimisation (`balance`) and the reduced bias (`reduced_bias`) come from the toolkit.

# %%
import time

import autograd.numpy as anp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import quotientib as qib  # noqa: E402
from quotientib.balance import balance, reduced_bias  # noqa: E402

SMOKE = globals().get("SMOKE", False)
rng = np.random.default_rng(0)
K = 2.0  # degree of homogeneity (k = 2: e.g. the squared ReLU)
P = 3    # input dimension of the neuron

# %% [markdown]
# ## 1. The action
# `act(t, theta)` works on batches (`t` of shape `[..., 1]`, `theta` of shape `[..., P+1]`)
# and is written with `autograd.numpy`, so the fundamental field comes from autograd.
# The invariant (what the loss sees) is $|w|^k\,v$ direction-wise; we use
# $h(w, v) = (w / |w|,\; |w|^k v)$.

# %%
def act(t, theta):
    s = t[..., :1]
    return anp.concatenate([theta[..., :P] * anp.exp(s), theta[..., P:] * anp.exp(-K * s)],
                           axis=-1)


def invariant(theta):
    norm = anp.sqrt(anp.sum(theta[..., :P] ** 2, axis=-1, keepdims=True))
    return anp.concatenate([theta[..., :P] / norm, norm ** K * theta[..., P:]], axis=-1)


action = qib.LieGroupAction(act, dim=P + 1, group_dim=1, invariant=invariant,
                            name="homogeneous neuron")
qib.check_invariance(action, rng.standard_normal((8, P + 1)))
sym = qib.Symmetry(action)

theta = np.array([0.3, -0.4, 1.2, 2.0])
w2, v = np.sum(theta[:P] ** 2), theta[P]
H = sym.orbit_gram(theta)[0, 0]
print("H =", H, " |w|^2 + k^2 v^2 =", w2 + K**2 * v**2)
assert abs(H - (w2 + K**2 * v**2)) < 1e-12

# %% [markdown]
# ## 2. Balancing: the minimum of $\log\det H$ along the orbit
# Along the orbit $H(t) = e^{2t}|w|^2 + k^2 e^{-2kt} v^2$. Setting $dH/dt = 0$ gives the
# balance condition $|w|^2 = k^3 v^2$ and, with the invariant $c = |w|^k |v|$,
#
# $$ \min_{\text{orbit}} \log\det H = \log\big(k^2 (k+1)\big)
#    + \tfrac{2}{k+1}\log c - \tfrac{3k}{k+1}\log k . $$

# %%
def closed_form(theta, metric=None):
    c = np.sqrt(np.sum(theta[..., :P] ** 2, axis=-1)) ** K * np.abs(theta[..., P])
    return (np.log(K**2 * (K + 1)) + 2.0 / (K + 1) * np.log(c)
            - 3.0 * K / (K + 1) * np.log(K))


res = balance(sym, theta)
print(res.status, "|", res.message)
wb2, vb = np.sum(res.point[:P] ** 2), res.point[P]
print("log det H at the argmin:", res.value, " closed form:", closed_form(theta))
print("|w|^2 / v^2 at the argmin:", wb2 / vb**2, " k^3 =", K**3)
assert res.status == "minimum"
assert abs(res.value - closed_form(theta)) < 1e-8
assert abs(wb2 / vb**2 - K**3) < 1e-6

# %% [markdown]
# The moment map $\mu = (|w|^2 - k v^2)/2$ (here built by the toolkit from the closed 1-form
# $g(\xi,\cdot)$) vanishes at a *different* orbit point: $|w|^2 = k v^2$. `balance` reports
# both and their distance.

# %%
print("moment-map representative:", res.moment_map_point, "(", res.moment_map_message, ")")
wm2, vm = np.sum(res.moment_map_point[:P] ** 2), res.moment_map_point[P]
print("|w|^2 / v^2 there:", wm2 / vm**2, " distance to the argmin:", res.moment_map_distance)
assert abs(wm2 / vm**2 - K) < 1e-6
assert res.moment_map_distance > 0.1

# %% [markdown]
# ## 3. The reduced bias over many points
# `reduced_bias` is vectorised over points. Without a closed form it minimises numerically
# (a batched Newton iteration, falling back to `balance` where Newton does not settle).
# Give the action a closed form (`reduced_log_det`) and `method="auto"` uses it instead.

# %%
n_points = 50 if SMOKE else 2000
points = rng.standard_normal((n_points, P + 1))
T = 0.1
start = time.perf_counter()
numerical = reduced_bias(sym, points, T)
t_num = time.perf_counter() - start

with_closed_form = qib.Symmetry(qib.LieGroupAction(
    act, dim=P + 1, group_dim=1, invariant=invariant, reduced_log_det=closed_form,
    name="homogeneous neuron (closed form)"))
start = time.perf_counter()
closed = reduced_bias(with_closed_form, points, T)
t_closed = time.perf_counter() - start
print(f"max |numerical - closed form| = {np.max(np.abs(numerical - closed)):.2e}")
print(f"numerical: {t_num:.3f} s, closed form: {t_closed:.5f} s for {n_points} points")
assert np.max(np.abs(numerical - closed)) < 1e-6

# %%
c = np.sqrt(np.sum(points[:, :P] ** 2, axis=-1)) ** K * np.abs(points[:, P])
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.semilogx(c, numerical, ".", ms=3, label="numerical (balance)")
order = np.argsort(c)
ax.semilogx(c[order], closed[order], "-", lw=1, label="closed form")
ax.set_xlabel(r"invariant $c = |w|^k |v|$")
ax.set_ylabel(r"$\frac{T}{2}\min\log\det H$")
ax.legend()
fig.tight_layout()
plt.close(fig)
# the bias grows like (T/2) (2/(k+1)) log c: a log penalty on the neuron's output scale
slope = np.polyfit(np.log(c), numerical, 1)[0]
print("slope in log c:", slope, " expected (T/2) 2/(k+1) =", T / (K + 1))
assert abs(slope - T / (K + 1)) < 1e-8

# %% [markdown]
# ## 4. What else `balance` can say
# Not every orbit has a finite minimiser of $\log\det H$. Two more home-made actions:
#
# * rotations of the plane: $H = |x|^2$ is constant on orbits, status `constant`
#   (and there is no moment map: $-y\,dx + x\,dy$ is not closed);
# * complex multiplication by $e^{t_1 + i t_2}$ on $\mathbb{R}^2$ (dilations and rotations):
#   $\det H = |x|^4$ shrinks without bound along the dilation, status `unbounded`, with the
#   escape direction and the values seen.

# %%
rotation = qib.Symmetry(qib.LieGroupAction.from_generators([[[0.0, -1.0], [1.0, 0.0]]]))
res_rot = balance(rotation, np.array([1.0, 2.0]))
print(res_rot.status, "|", res_rot.moment_map_message[:60], "...")
assert res_rot.status == "constant"

similarity = qib.Symmetry(qib.LieGroupAction.from_generators(
    [np.eye(2), [[0.0, -1.0], [1.0, 0.0]]]))
res_sim = balance(similarity, np.array([1.0, 2.0]))
print(res_sim.status, "direction:", res_sim.direction, "values:", np.round(res_sim.values_seen, 2))
assert res_sim.status == "unbounded"
assert np.allclose(res_sim.direction, [-1.0, 0.0], atol=1e-6)
