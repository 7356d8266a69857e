"""Per-chain SGD step time of each experiment: vectorised ensemble vs a plain single-chain loop.

For every experiment, the vectorised side is the code the experiments run: the module's own
problem (``make_problem``/``make_sgd``) with ``CHAINS`` chains trained by
:func:`quotientib.dynamics.sgd`. The reference side is the same model written the way the
paper's scripts run it: one chain, a Python loop over steps, a fresh mini-batch drawn each step,
plain numpy without a chain axis (hand-written gradients, which is already faster than
per-step autodiff). Printed per experiment: microseconds per chain-step on both sides and their
ratio; target >= 10x (PASS/MISS).

Run: ``python benchmarks/bench_experiments.py [--chains 64] [--steps 1000]``.
"""

import argparse
import time

import autograd
import autograd.numpy as anp
import numpy as np

from quotientib.dynamics import sgd
from quotientib.experiments import _linear
from quotientib.experiments import attention as att
from quotientib.experiments import channel_coupling as cc
from quotientib.experiments import group_lasso as gl
from quotientib.experiments import matrix_completion as mc
from quotientib.experiments import relu_bce as bce
from quotientib.experiments import relu_teacher_student as rts
from quotientib.experiments import sparse_regression as sr
from quotientib.experiments import spectral_sparse as ss
from quotientib.experiments import total_variation as tv

TARGET = 10.0


# --- vectorised problems (the experiments' own code) -------------------------------------------

def vec_problem(name, chains):
    """(grad_batch, sample_batch, x0, lr) of experiment ``name`` with ``chains`` chains."""
    seeds = list(range(chains))
    if name in ("relu_teacher_student", "attention", "matrix_completion", "relu_bce"):
        mod = {"relu_teacher_student": rts, "attention": att, "matrix_completion": mc,
               "relu_bce": bce}[name]
        p = mod.make_problem(dict(mod.CONFIGS["quick"]), seeds)
        return p["grad_batch"], p["sample_batch"], p["x0"], p["lr"]
    if name == "channel_coupling":
        cfg = dict(cc.CONFIGS["quick"])
        p = cc.make_problem(cfg, seeds)
        param, x0, lr = p["models"]["matrix"]
        g, s = cc.make_sgd(param, p["X"], p["Y"], cfg["batch_size"])
        return g, s, x0, lr
    mod, phi = {"spectral_sparse": (ss, "Phi"), "total_variation": (tv, "A"),
                "sparse_regression": (sr, "X"), "group_lasso": (gl, "X")}[name]
    cfg = dict(mod.CONFIGS["quick"])
    p = mod.make_problem(cfg, seeds)
    param, x0, lr = p["models"]["designed"]
    g, s = _linear.make_sgd(param, p[phi], p["y"], cfg["batch_size"])
    return g, s, x0, lr


# --- reference single-chain loops (paper style) ------------------------------------------------
#
# Each reference returns one chain's data and step pieces: ``sample()`` (a fresh batch, drawn
# per step), ``loss(p, batch)`` written with autograd.numpy (differentiated per step by
# reverse-mode autodiff, as the authors' PyTorch scripts do with ``loss.backward()``),
# ``grad(p, batch)`` the hand-written gradient, the initial flat parameters and the lr.

def _relu_net(anp_, p, x, h, d):
    v, W = p[:h], anp_.reshape(p[h:], (h, d))
    return anp_.dot(anp_.maximum(anp_.dot(x, W.T), 0.0), v)


def ref_relu(rng):
    cfg = rts.CONFIGS["quick"]
    h, d, B = cfg["hidden"], cfg["input_dim"], cfg["batch_size"]
    pt = rng.normal(0, 1.5, h + h * d)

    def sample():
        x = rng.standard_normal((B, d))
        return x, _relu_net(np, pt, x, h, d) + 0.1 * rng.standard_normal(B)

    def loss(p, batch):
        x, y = batch
        return anp.mean((_relu_net(anp, p, x, h, d) - y) ** 2)

    def grad(p, batch):
        x, y = batch
        v, W = p[:h], p[h:].reshape(h, d)
        pre = x @ W.T
        a = np.maximum(pre, 0)
        r = 2 * (a @ v - y) / B
        gW = ((r[:, None] * v[None, :]) * (pre > 0)).T @ x
        return np.concatenate([a.T @ r, gW.ravel()])

    return sample, loss, grad, rng.normal(0, 0.05, h + h * d), cfg["lr"]


def ref_attention(rng):
    cfg = att.CONFIGS["quick"]
    n, d, rk, B = cfg["tokens"], cfg["model_dim"], cfg["key_dim"], cfg["batch_size"]
    k = d * rk

    def model(anp_, p, X):
        Q, K, V = (anp_.reshape(p[i * k:(i + 1) * k], (d, rk)) for i in range(3))
        s = anp_.matmul(anp_.matmul(X, Q), anp_.transpose(anp_.matmul(X, K), (0, 2, 1)))
        s = s / np.sqrt(rk)
        e = anp_.exp(s - anp_.max(s, axis=-1, keepdims=True))
        return anp_.matmul(e / anp_.sum(e, axis=-1, keepdims=True), anp_.matmul(X, V))

    pt = rng.normal(0, 0.75, 3 * k)

    def sample():
        X = rng.standard_normal((B, n, d))
        Y = model(np, pt, X)
        return X, Y + 0.02 * rng.standard_normal(Y.shape)

    def loss(p, batch):
        X, Y = batch
        return anp.mean((model(anp, p, X) - Y) ** 2)

    def grad(p, batch):
        return att.loss_and_grad(p[None], batch[0][None], batch[1][None], d, rk)[1][0]

    return sample, loss, grad, rng.normal(0, 0.1, 3 * k), cfg["lr"]


def ref_matrix_completion(rng):
    cfg = mc.CONFIGS["quick"]
    m, n, r = cfg["rows"], cfg["cols"], cfg["rank"]
    T = rng.standard_normal((m, 2)) @ rng.standard_normal((2, n))
    obs = rng.choice(m * n, size=80, replace=False)

    def sample():
        idx = rng.choice(obs, size=40, replace=False)
        return idx // n, idx % n

    def loss(p, batch):
        i, j = batch
        U, V = anp.reshape(p[:m * r], (m, r)), anp.reshape(p[m * r:], (r, n))
        return anp.mean((anp.sum(U[i] * V[:, j].T, axis=1) - T[i, j]) ** 2)

    def grad(p, batch):
        i, j = batch
        U, V = p[:m * r].reshape(m, r), p[m * r:].reshape(r, n)
        g = 2 * (np.einsum("bk,kb->b", U[i], V[:, j]) - T[i, j]) / i.size
        gU, gV = np.zeros_like(U), np.zeros_like(V)
        np.add.at(gU, i, g[:, None] * V[:, j].T)
        np.add.at(gV.T, j, g[:, None] * U[i])
        return np.concatenate([gU.ravel(), gV.ravel()])

    return sample, loss, grad, rng.normal(0, 0.1, r * (m + n)), cfg["lr"]


def _ref_linear(rng, Phi, y, lr, forward, pullback, p0, batch):
    n = Phi.shape[0]

    def sample():
        if batch < n:
            idx = rng.choice(n, size=batch, replace=False)
            return Phi[idx], y[idx]
        return Phi, y

    def loss(p, b):
        return anp.mean((anp.dot(b[0], forward(anp, p)) - b[1]) ** 2)

    def grad(p, b):
        Pb, yb = b
        return pullback(p, 2 * Pb.T @ (Pb @ forward(np, p) - yb) / yb.size)

    return sample, loss, grad, p0, lr


def ref_spectral(rng):
    cfg = ss.CONFIGS["quick"]
    D = cfg["n_frequencies"]
    t = rng.uniform(size=cfg["n_train"])
    Phi = np.cos(2 * np.pi * t[:, None] * np.arange(D))
    return _ref_linear(rng, Phi, Phi @ rng.standard_normal(D), cfg["lr_designed"],
                       lambda a, p: p[:D] * p[D:],
                       lambda p, g: np.concatenate([p[D:] * g, p[:D] * g]),
                       rng.normal(0, 1e-4, 2 * D), cfg["batch_size"])


def ref_total_variation(rng):
    cfg = tv.CONFIGS["quick"]
    N, m = 200, cfg["n_measurements"]
    A = rng.normal(0, 1 / np.sqrt(m), (m, N))
    y = A @ tv.piecewise_signal(cfg["segment_lengths"], cfg["amplitudes"])

    def pullback(p, g):
        c = np.cumsum(g[::-1])[::-1]
        return np.concatenate([p[N:] * c, p[:N] * c])

    return _ref_linear(rng, A, y, cfg["lr_designed"], lambda a, p: a.cumsum(p[:N] * p[N:]),
                       pullback, rng.normal(0, 0.3, 2 * N), cfg["batch_size"])


def ref_sparse(rng):
    cfg = sr.CONFIGS["quick"]
    d = cfg["dim"]
    X = rng.standard_normal((cfg["n_train"], d))
    return _ref_linear(rng, X, X @ rng.standard_normal(d), cfg["lr_designed"],
                       lambda a, p: p[:d] * p[d:],
                       lambda p, g: np.concatenate([p[d:] * g, p[:d] * g]),
                       rng.normal(0, 1e-2, 2 * d), cfg["batch_size"])


def ref_group(rng):
    cfg = gl.CONFIGS["quick"]
    d, G = cfg["dim"], cfg["n_groups"]
    groups = rng.permutation(np.arange(d) % G)
    X = rng.standard_normal((cfg["n_train"], d))

    def pullback(p, g):
        gs = np.zeros(G)
        np.add.at(gs, groups, p[G:] * g)
        return np.concatenate([gs, p[:G][groups] * g])

    return _ref_linear(rng, X, X @ rng.standard_normal(d), cfg["lr_designed"],
                       lambda a, p: p[:G][groups] * p[G:], pullback,
                       rng.normal(0, 1e-2, G + d), cfg["batch_size"])


def ref_channel(rng):
    cfg = cc.CONFIGS["quick"]
    D, Cc, k, n, B = (cfg["input_dim"], cfg["channels"], cfg["factor_rank"], cfg["n_train"],
                      cfg["batch_size"])
    X = rng.standard_normal((n, D))
    Y = X @ rng.standard_normal((D, Cc))

    def sample():
        idx = rng.choice(n, size=B, replace=False)
        return X[idx], Y[idx]

    def loss(p, b):
        P, Q = anp.reshape(p[:D * k], (D, k)), anp.reshape(p[D * k:], (k, Cc))
        return anp.mean((anp.dot(anp.dot(b[0], P), Q) - b[1]) ** 2)

    def grad(p, b):
        P, Q = p[:D * k].reshape(D, k), p[D * k:].reshape(k, Cc)
        G = 2 * b[0].T @ (b[0] @ P @ Q - b[1]) / (B * Cc)
        return np.concatenate([(G @ Q.T).ravel(), (P.T @ G).ravel()])

    return sample, loss, grad, rng.normal(0, 1e-2, k * (D + Cc)), cfg["lr"]


def ref_relu_bce(rng):
    cfg = bce.CONFIGS["quick"]
    h, d, n, B = cfg["hidden"], cfg["input_dim"], cfg["n_train"], cfg["batch_size"]
    lab = (np.arange(n) % 2).astype(float)
    X = rng.standard_normal((n, d)) + np.where(lab[:, None] > 0, 2.0, -2.0)

    def sample():
        idx = rng.choice(n, size=B, replace=False)
        return X[idx], lab[idx]

    def loss(p, b):
        z = _relu_net(anp, p, b[0], h, d)
        return anp.mean(anp.logaddexp(0.0, z) - b[1] * z)

    def grad(p, b):
        x, y = b
        v, W = p[:h], p[h:].reshape(h, d)
        pre = x @ W.T
        a = np.maximum(pre, 0)
        r = (1 / (1 + np.exp(-(a @ v))) - y) / B
        gW = ((r[:, None] * v[None, :]) * (pre > 0)).T @ x
        return np.concatenate([a.T @ r, gW.ravel()])

    return sample, loss, grad, rng.normal(0, 0.1, h + h * d), cfg["lr"]


REFERENCES = {
    "relu_teacher_student": ref_relu,
    "attention": ref_attention,
    "matrix_completion": ref_matrix_completion,
    "spectral_sparse": ref_spectral,
    "total_variation": ref_total_variation,
    "sparse_regression": ref_sparse,
    "group_lasso": ref_group,
    "channel_coupling": ref_channel,
    "relu_bce": ref_relu_bce,
}


def time_vectorised(name, chains, steps):
    g, s, x0, lr = vec_problem(name, chains)
    t0 = time.perf_counter()
    sgd(g, s, x0, lr=lr, n_steps=steps, rng=np.random.default_rng(1), record_every=steps,
        progress=False)
    return (time.perf_counter() - t0) / (steps * chains)


def time_reference(name, steps, autodiff):
    """Seconds per step of one chain in a plain loop (autodiff or hand-written gradient)."""
    sample, loss, grad, p, lr = REFERENCES[name](np.random.default_rng(2))
    g = autograd.grad(loss) if autodiff else grad
    t0 = time.perf_counter()
    for _ in range(steps):
        p = p - lr * g(p, sample())
    return (time.perf_counter() - t0) / steps


def check_references(names):
    """The two reference gradients agree (so both loops run the same model)."""
    for name in names:
        sample, loss, grad, p, _ = REFERENCES[name](np.random.default_rng(3))
        b = sample()
        ga, gh = autograd.grad(loss)(p, b), grad(p, b)
        if not np.allclose(ga, gh, rtol=1e-8, atol=1e-10):
            raise AssertionError(f"{name}: autodiff and hand-written reference gradients differ")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args(argv)
    names = args.only or list(REFERENCES)
    check_references(names)
    print("microseconds per chain-step. Reference loops (one chain, a Python loop over steps, a "
          "fresh batch drawn each step): 'autodiff' differentiates the model each step as the "
          "paper's PyTorch scripts do; 'hand' uses a hand-written gradient (a stronger "
          f"baseline). Vectorised: the experiments' code with C chains. Target >= {TARGET:.0f}x "
          "against the paper-style (autodiff) loop; the ratio against 'hand' is printed too.")
    head = f"{'experiment':22s} {'autodiff':>9s} {'hand':>8s}"
    for c in args.chains:
        head += f" {f'C={c}':>8s}"
    print(head + f" {'best C':>7s} {'x autodiff':>10s} {'x hand':>7s}  verdict")
    rows = []
    for name in names:
        ref_ad = time_reference(name, max(args.steps // 4, 50), autodiff=True)
        ref_h = time_reference(name, args.steps, autodiff=False)
        vec = {c: time_vectorised(name, c, args.steps) for c in args.chains}
        best = min(vec, key=vec.get)
        r_ad, r_h = ref_ad / vec[best], ref_h / vec[best]
        line = f"{name:22s} {ref_ad * 1e6:9.1f} {ref_h * 1e6:8.1f}"
        for c in args.chains:
            line += f" {vec[c] * 1e6:8.2f}"
        line += f" {best:7d} {r_ad:10.1f} {r_h:7.1f}  {'PASS' if r_ad >= TARGET else 'MISS'}"
        print(line, flush=True)
        rows.append(dict(name=name, autodiff=ref_ad, hand=ref_h, vectorised=vec, best=best,
                         ratio_autodiff=r_ad, ratio_hand=r_h))
    return rows


if __name__ == "__main__":
    main()
