"""Single-head scaled dot-product attention teacher-student: |Q_j| / |K_j| (paper v2, Fig. 3).

Teacher and student are ``Y = softmax(X Q (X K)^T / sqrt(r_k)) X V`` with ``n = 8`` tokens,
``d = 16``, ``r_k = 8``. The student's query and key columns start imbalanced (``Q D``,
``K D^-1`` with the paper's ``s_j``, and a global query factor ``1/4 + |z|/4``); SGD on fresh
mini-batches of 16 sequences. The paper predicts ``|Q_[:,j]| / |K_[:,j]| -> 1``.

The column imbalance ``D_j = |Q_j|^2 - |K_j|^2`` is conserved by gradient flow (column scaling
is a symmetry of every mini-batch loss); it is recorded beside the ratio.
"""

import sys

import numpy as np

from quotientib.catalog.factorizations import attention_columns
from quotientib.experiments import _common as C
from quotientib.experiments import _ratio as R
from quotientib.experiments.relu_teacher_student import imbalance_factors

__all__ = [
    "NAME",
    "CONFIGS",
    "PAPER",
    "unpack",
    "predict",
    "loss_and_grad",
    "balance_ratios",
    "make_problem",
    "run",
]

NAME = "attention"
DESCRIPTION = "Single-head attention teacher-student: |Q_j|/|K_j| -> 1 (v2 Fig. 3)"

_BASE = dict(
    tokens=8, model_dim=16, key_dim=8, teacher_std=0.75, student_std=0.1,
    imbalance_lambda=1.2, batch_size=16, lr=1e-3, label_noise_std=2e-2, n_eval=256,
)
CONFIGS = {
    "quick": dict(_BASE, n_steps=50_000, figure_step=50_000, record_every=500),
    "full": dict(_BASE, n_steps=300_000, figure_step=50_000, record_every=1_000),
}
PAPER = {
    "location": "v2 Fig. 3 and Experimental setup (eqs. 64-66)",
    "final_loss": 6.8e-2,
    "final_loss_step": 300_000,
    "ratio_target": 1.0,
    "converged_by_step": 35_000,
    "claim": "all |Q_[:,j]|/|K_[:,j]| ratios strongly converge to 1 (since ~3.5e4 iterations)",
}
NOTES = [
    "The MSE is averaged over all entries of the mini-batch output (PyTorch's default); the "
    "paper writes ||Y_hat - Y||_F^2.",
    "The loss we report is the MSE on a fixed evaluation set of n_eval sequences with noisy "
    "teacher outputs.",
]


def unpack(params, d, rk):
    """Split parameters into ``Q, K, V``, each ``[..., d, rk]``."""
    params = np.asarray(params)
    shape = params.shape[:-1] + (d, rk)
    n = d * rk
    return (params[..., :n].reshape(shape), params[..., n:2 * n].reshape(shape),
            params[..., 2 * n:].reshape(shape))


def pack(Q, K, V):
    """Inverse of :func:`unpack`."""
    flat = [M.reshape(M.shape[:-2] + (-1,)) for M in (Q, K, V)]
    return np.concatenate(flat, axis=-1)


def _row_max(s):
    # numpy's reductions over a short last axis cost far more than n elementwise maxima.
    out = s[..., 0].copy()
    for i in range(1, s.shape[-1]):
        np.maximum(out, s[..., i], out=out)
    return out[..., None]


def _softmax(s):
    e = np.exp(s - _row_max(s))
    return e / (e @ np.ones(e.shape[-1]))[..., None]


def _forward(params, X, d, rk):
    Q, K, V = unpack(params, d, rk)
    lead = X.shape[:-2]
    # One product with [Q K V] over all tokens of the batch instead of three batched ones.
    XP = X.reshape(X.shape[0], -1, d) @ np.concatenate([Q, K, V], axis=-1)
    XP = XP.reshape(lead + (X.shape[-2], 3 * rk))
    XQ, XK, XV = XP[..., :rk], XP[..., rk:2 * rk], XP[..., 2 * rk:]
    A = _softmax((XQ @ np.swapaxes(XK, -1, -2)) / np.sqrt(rk))
    return A @ XV, (XQ, XK, XV, A)


def predict(params, X, d, rk):
    """Attention outputs.

    Parameters
    ----------
    params : array_like, shape=[chains, 3 d rk]
    X : array_like, shape=[chains, batch, tokens, d]

    Returns
    -------
    Y : ndarray, shape=[chains, batch, tokens, rk]
    """
    return _forward(params, X, d, rk)[0]


def loss_and_grad(params, X, Y, d, rk):
    """Mini-batch MSE (mean over all output entries) and its analytic gradient.

    Parameters
    ----------
    params : array_like, shape=[chains, 3 d rk]
    X : array_like, shape=[chains, batch, tokens, d]
    Y : array_like, shape=[chains, batch, tokens, rk]

    Returns
    -------
    loss : ndarray, shape=[chains]
    grad : ndarray, shape=[chains, 3 d rk]
    """
    out, (XQ, XK, XV, A) = _forward(params, X, d, rk)
    resid = out - Y
    count = resid.shape[-3] * resid.shape[-2] * resid.shape[-1]
    loss = np.sum(resid**2, axis=(-3, -2, -1)) / count
    G = (2.0 / count) * resid
    dA = G @ np.swapaxes(XV, -1, -2)
    dS = A * (dA - ((dA * A) @ np.ones(A.shape[-1]))[..., None]) / np.sqrt(rk)
    # d loss / d(X Q), d(X K), d(X V), then one contraction with X over batch and tokens.
    dP = np.concatenate([dS @ XK, np.swapaxes(dS, -1, -2) @ XQ, np.swapaxes(A, -1, -2) @ G], -1)
    chains = X.shape[0]
    g = np.swapaxes(X.reshape(chains, -1, d), -1, -2) @ dP.reshape(chains, -1, 3 * rk)
    gQ, gK, gV = g[..., :rk], g[..., rk:2 * rk], g[..., 2 * rk:]
    return loss, pack(gQ, gK, gV)


def balance_ratios(params, d, rk):
    """The paper's column ratios ``|Q_[:,j]| / |K_[:,j]|``, shape ``[..., rk]``."""
    Q, K, _ = unpack(params, d, rk)
    return np.linalg.norm(Q, axis=-2) / np.linalg.norm(K, axis=-2)


def imbalance(params, d, rk):
    """``D_j = |Q_j|^2 - |K_j|^2``, conserved by gradient flow; shape ``[..., rk]``."""
    Q, K, _ = unpack(params, d, rk)
    return np.sum(Q**2, axis=-2) - np.sum(K**2, axis=-2)


def imbalance_scales(params, d, rk):
    """``|Q_j|^2 + |K_j|^2``; shape ``[..., rk]``."""
    Q, K, _ = unpack(params, d, rk)
    return np.sum(Q**2, axis=-2) + np.sum(K**2, axis=-2)


def make_problem(config, seeds, name=NAME):
    """Teachers, imbalanced students, evaluation sets and the SGD callbacks (see the ReLU one)."""
    n, d, rk = config["tokens"], config["model_dim"], config["key_dim"]
    p = 3 * d * rk
    s = imbalance_factors(rk, config["imbalance_lambda"])
    teachers, students, xs, noises = [], [], [], []
    for rng in C.seed_rngs(name, seeds):
        Q, K, V = unpack(rng.normal(0.0, config["teacher_std"], size=p), d, rk)
        Q = Q * (4.0 + 4.0 * abs(rng.standard_normal()))
        teachers.append(pack(Q, K, V))
        Q, K, V = unpack(rng.normal(0.0, config["student_std"], size=p), d, rk)
        Q, K = Q * s, K / s
        Q = Q * (0.25 + 0.25 * abs(rng.standard_normal()))
        students.append(pack(Q, K, V))
        xs.append(rng.standard_normal((config["n_eval"], n, d)))
        noises.append(rng.normal(0.0, config["label_noise_std"], size=(config["n_eval"], n, rk)))
    teacher = np.stack(teachers)
    x_eval = np.stack(xs)
    y_eval = predict(teacher, x_eval, d, rk) + np.stack(noises)
    chains, batch, noise = len(seeds), config["batch_size"], config["label_noise_std"]

    def draw(rng, steps):
        X = rng.standard_normal((steps, chains, batch, n, d))
        Xs = np.swapaxes(X, 0, 1).reshape(chains, steps * batch, n, d)
        Y = predict(teacher, Xs, d, rk).reshape(chains, steps, batch, n, rk).swapaxes(0, 1)
        return X, Y + noise * rng.standard_normal((steps, chains, batch, n, rk))

    sample_batch = C.BlockSampler(draw, step_elements=chains * batch * n * (d + rk))

    def grad_batch(params, data):
        return loss_and_grad(params, data[0], data[1], d, rk)[1]

    def eval_loss(params):
        return loss_and_grad(params, x_eval, y_eval, d, rk)[0]

    return dict(x0=np.stack(students), teacher=teacher, grad_batch=grad_batch,
                sample_batch=sample_batch, eval_loss=eval_loss, lr=config["lr"])


def run(mode="quick", seeds=3, out="results", progress=True, overrides=None):
    """Train the ensemble of attention students and write ``out/attention/``.

    Parameters
    ----------
    mode : {"quick", "full"}
    seeds : int or list of int
    out : str
    progress : bool
    overrides : dict or None

    Returns
    -------
    results : dict
    """
    config, seeds, results = C.begin(sys.modules[__name__], mode, seeds, overrides)
    d, rk = config["model_dim"], config["key_dim"]
    prob = make_problem(config, seeds)
    obs = {
        "ratio": lambda x: balance_ratios(x, d, rk),
        "imbalance": lambda x: imbalance(x, d, rk),
        "scale": lambda x: imbalance_scales(x, d, rk),
        "loss": prob["eval_loss"],
    }
    res = C.run_sgd(prob["grad_batch"], prob["sample_batch"], prob["x0"], lr=prob["lr"],
                    n_steps=config["n_steps"], rng=C.training_rng(NAME, seeds),
                    record_every=config["record_every"], observables=obs, progress=progress,
                    results=results, label="student")
    path = C.output_dir(out, NAME)
    R.fill_ratio_metrics(results, res, config, unit="column")
    entry = attention_columns(seq_len=d, d=rk)

    def qk(params):
        Q, K, _ = unpack(params, d, rk)
        return entry.pack(Q=Q, K=K)

    results["theory"] = R.catalog_theory(entry, qk(prob["x0"]), qk(res.final))
    results["metrics"]["final_loss"] = C.summarize(res.observables["loss"][:, -1],
                                                   PAPER["final_loss"])
    R.plot_ratio_run(res, config, path, results, title="Attention teacher-student",
                    ylabel=r"$\|Q_{[:,j]}\|_2 / \|K_{[:,j]}\|_2$")
    C.add_curves(results, res.record_steps, {"loss": res.observables["loss"]})
    C.write_results(path, results)
    return results
