# %% [markdown]
# # Quickstart: a symmetry, its orbit geometry, and a gauge
#
# We write down the simplest symmetry of the paper, the rescaling of a two-parameter
# factorisation $\theta = uv$:
#
# $$(u, v) \mapsto (e^{t} u, e^{-t} v),$$
#
# compute its orbit geometry (fundamental field $\xi$, orbit Gram $H$), pick gauges $\chi$,
# and check Proposition 1 numerically: $G_\chi = M H^{-1} M^T + G_{hor}$.

# %%
import autograd.numpy as anp
import matplotlib.pyplot as plt
import numpy as np

import quotientib as qib
from quotientib.verify import proposition_1

SMOKE = globals().get("SMOKE", False)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The group action
# `act(t, theta)` takes Lie-algebra coordinates `t` of shape `[..., m]` and points of shape
# `[..., n]`. The invariant map `h` (the predictor $uv$) is the Riemannian submersion.

# %%
def act(t, theta):
    e = anp.exp(t[..., 0])
    return anp.stack([theta[..., 0] * e, theta[..., 1] / e], axis=-1)


action = qib.LieGroupAction(act, dim=2, group_dim=1,
                            invariant=lambda th: th[..., :1] * th[..., 1:], name="uv")
qib.check_invariance(action, rng.standard_normal((10, 2)))  # raises if h were not invariant
sym = qib.Symmetry(action)  # Euclidean metric by default

points = np.array([[1.0, 2.0], [3.0, 0.5], [0.2, 0.2]])
print("xi =", sym.fundamental_fields(points)[:, 0])   # autograd: (u, -v)
print("H  =", sym.orbit_gram(points)[:, 0, 0])        # u^2 + v^2
assert np.allclose(sym.orbit_gram(points)[:, 0, 0], np.sum(points**2, axis=-1))

# %% [markdown]
# ## 2. Gauges
# The balanced gauge is the moment map $\mu = (u^2 - v^2)/2$: quotientib checks that the
# 1-form $g(\xi, \cdot)$ is closed and builds it. Its Faddeev-Popov matrix equals $H$.
# A Lie-coordinate gauge $\chi = \log(u/v)/2$ has $M = 1$; an oblique gauge $u - 2v$ gives a
# slice that is not orthogonal to the orbits.

# %%
balanced = sym.moment_map_gauge()
log_gauge = qib.Gauge(lambda th: 0.5 * anp.log(th[..., :1] / th[..., 1:]), sym, name="log")
oblique = qib.Gauge(lambda th: th[..., :1] - 2 * th[..., 1:], sym, name="oblique")

on_slice = balanced.project_to_slice(points)  # moves each point along its orbit to u = v
print("on the balanced slice:", on_slice)
assert np.allclose(np.prod(on_slice, -1), np.prod(points, -1))  # same orbit, same uv

for gauge in (balanced, log_gauge, oblique):
    p = gauge.project_to_slice(points)
    res = proposition_1(gauge, p)
    print(f"{gauge.name:>10}: M = {res.faddeev_popov[:, 0, 0].round(3)}, "
          f"general residual {res.max_general_residual:.1e}, "
          f"|G_hor|/|G_chi| = {res.max_horizontal_size:.2f}")
    assert res.max_general_residual < 1e-10

# %% [markdown]
# ## 3. A non-Euclidean metric
# With $g = \mathrm{diag}(a, b)$ the moment map becomes $(a u^2 - b v^2)/2$.

# %%
a, b = 2.0, 0.5
sym_ab = qib.Symmetry(action, metric=np.diag([a, b]))
mu = sym_ab.moment_map(points)[:, 0]
assert np.allclose(mu, (a * points[:, 0] ** 2 - b * points[:, 1] ** 2) / 2)
print("moment map under diag(2, 0.5):", mu)

# %% [markdown]
# ## 4. The log-det correction along an orbit
# $\log\det H = \log(u^2 + v^2)$ along the orbit of $(3, 0.5)$ is smallest where $|u| = |v|$,
# at $\log(2|uv|)$.

# %%
ts = np.linspace(-2.5, 1.5, 50 if SMOKE else 400)
orbit = act(ts[:, None], np.broadcast_to(points[1], (len(ts), 2)))
logdet = sym.log_det_orbit_gram(orbit)
t_star = ts[np.argmin(logdet)]
print("argmin t =", t_star, "point", act(np.array([t_star]), points[1]))
assert abs(logdet.min() - np.log(2 * 3.0 * 0.5)) < 1e-2

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(ts, logdet, label=r"$\log\det H$ along the orbit")
ax.axhline(np.log(2 * 1.5), ls="--", c="k", label=r"$\log(2|uv|)$")
ax.set_xlabel("group coordinate t")
ax.legend()
plt.close(fig) if SMOKE else plt.show()
