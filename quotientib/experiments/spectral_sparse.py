"""Sparse spectral recovery with a Hadamard-factored cosine model (v2 Fig. 5, v1 Fig. 3).

Signal ``y*(t) = sum_k w*_k cos(2 pi k t)``, ``D = 64`` frequencies of which 3 (``k >= 1``) are
non-zero with magnitudes uniform in [1, 2] and random signs; 32 noisy training pairs, ``10^4``
noiseless test pairs. Two models trained by SGD on the MSE: the naive ``w`` and the
inverse-designed ``w = w1 * w2`` (:func:`quotientib.design.log_sparsity` with ``A = I``), both
initialised from ``N(0, (1e-4)^2)`` with learning rate ``1e-3``. The theory predicts a
``sum_k log |w_k|`` bias for the factored model, i.e. a sparse spectrum.
"""

import sys

import numpy as np

from quotientib.experiments import _common as C
from quotientib.experiments import _linear as L
from quotientib.experiments import _param

__all__ = ["NAME", "CONFIGS", "PAPER", "cosine_features", "make_problem", "run"]

NAME = "spectral_sparse"
DESCRIPTION = ("Cosine-basis spectral recovery, D = 64: naive vs Hadamard w1*w2 "
               "(v2 Fig. 5, v1 Fig. 3)")

_BASE = dict(
    n_frequencies=64, n_active=3, amplitude_range=(1.0, 2.0), n_train=32, n_test=10_000,
    noise_std=0.1, init_std=1e-4, lr_naive=1e-3, lr_designed=1e-3, batch_size=32,
)
CONFIGS = {
    "quick": dict(_BASE, n_steps=50_000, record_every=500),
    "full": dict(_BASE, n_steps=150_000, record_every=1_000),
}
PAPER = {
    "location": "v2 Fig. 5 and Experimental setup (eqs. 67-69); l1 norms from v1 Fig. 3",
    "v1_l1_designed": 4.89,
    "v1_l1_naive": 10.72,
    "v1_l1_truth": 4.68,
    "claim": "the designed model isolates the 3 non-zero frequencies and generalises better; "
             "the naive model interpolates with spurious spectral noise (larger l1 norm)",
}
NOTES = [
    "Mini-batch size is not stated in the paper (it is for Figs. 2-4); we use the full "
    "training set of 32 pairs each step (batch_size = n_train), so this run is full-batch "
    "gradient descent. Set batch_size < 32 to add mini-batch noise.",
    "Noise: the v2 text says N(0, 0.1^2); the caption says +-5% of the maximum amplitude. We use "
    "the text. The v1 l1 norms (4.89 / 10.72 / 4.68) come from v1's setup (30 training pairs, "
    "noise variance 0.01, 2000 test pairs), not exactly this one.",
    "'isolates the 3 frequencies' is decided as: the 3 largest |w_k| are the true support and "
    "every other |w_k| is below 10% of the smallest true magnitude.",
]


def cosine_features(t, n_frequencies):
    """``cos(2 pi k t)`` for ``k = 0..D-1``.

    Parameters
    ----------
    t : array_like, shape=[...]
    n_frequencies : int

    Returns
    -------
    Phi : ndarray, shape=[..., n_frequencies]
    """
    return np.cos(2.0 * np.pi * np.asarray(t)[..., None] * np.arange(n_frequencies))


def make_problem(config, seeds, name=NAME):
    """Sparse spectra, training and test sets, and both models' initial parameters."""
    D = config["n_frequencies"]
    lo, hi = config["amplitude_range"]
    w_true, Phi, y, Phi_test, y_test, x0n, x0d = [], [], [], [], [], [], []
    naive, designed = _param.Identity(D), _param.hadamard(D)
    for rng in C.seed_rngs(name, seeds):
        w = np.zeros(D)
        support = rng.choice(np.arange(1, D), size=config["n_active"], replace=False)
        w[support] = rng.uniform(lo, hi, size=support.size) * rng.choice([-1.0, 1.0], support.size)
        t = rng.uniform(0.0, 1.0, size=config["n_train"])
        t_test = rng.uniform(0.0, 1.0, size=config["n_test"])
        F = cosine_features(t, D)
        w_true.append(w)
        Phi.append(F)
        y.append(F @ w + rng.normal(0.0, config["noise_std"], size=t.size))
        Phi_test.append(cosine_features(t_test, D))
        y_test.append(Phi_test[-1] @ w)
        x0n.append(rng.normal(0.0, config["init_std"], size=naive.n_params))
        x0d.append(rng.normal(0.0, config["init_std"], size=designed.n_params))
    return dict(w_true=np.stack(w_true), Phi=np.stack(Phi), y=np.stack(y),
                Phi_test=np.stack(Phi_test), y_test=np.stack(y_test),
                models={"naive": (naive, np.stack(x0n), config["lr_naive"]),
                        "designed": (designed, np.stack(x0d), config["lr_designed"])})


def support_isolated(w, w_true, rel=0.1):
    """Whether the largest ``|w_k|`` are the true support and the rest below ``rel`` min|w*|.

    Parameters
    ----------
    w, w_true : array_like, shape=[chains, D]

    Returns
    -------
    ok : ndarray of bool, shape=[chains]
    """
    out = []
    for wc, tc in zip(np.abs(w), np.abs(w_true)):
        supp = np.flatnonzero(tc)
        top = np.argsort(wc)[::-1][:supp.size]
        rest = np.delete(wc, supp)
        out.append(set(top) == set(supp) and rest.max() < rel * tc[supp].min())
    return np.array(out)


def run(mode="quick", seeds=3, out="results", progress=True, overrides=None):
    """Train both models on every seed and write ``out/spectral_sparse/``.

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
    results["parameterization_source"] = _param.source()
    prob = make_problem(config, seeds)
    Phi_test, y_test = prob["Phi_test"], prob["y_test"]
    obs = {
        "test_mse": lambda w: np.mean((np.matmul(Phi_test, w[..., None])[..., 0] - y_test) ** 2,
                                      axis=-1),
        "l1": lambda w: np.sum(np.abs(w), axis=-1),
        "w": lambda w: w,
    }
    runs = {}
    for label, (param, x0, lr) in prob["models"].items():
        runs[label] = L.train_linear(
            param, prob["Phi"], prob["y"], x0, lr=lr, batch_size=config["batch_size"],
            n_steps=config["n_steps"], record_every=config["record_every"],
            rng=C.training_rng(f"{NAME}/{label}", seeds), observables=obs, progress=progress,
            results=results, label=label)
    m = results["metrics"]
    w_true = prob["w_true"]
    m["l1_truth"] = C.summarize(np.abs(w_true).sum(-1), PAPER["v1_l1_truth"])
    isolated = {}
    for label, res in runs.items():
        w = res.observables["w"][:, -1]
        m[f"test_mse_{label}"] = C.summarize(res.observables["test_mse"][:, -1])
        m[f"train_loss_{label}"] = C.summarize(res.observables["train_loss"][:, -1])
        m[f"l1_{label}"] = C.summarize(res.observables["l1"][:, -1], PAPER[f"v1_l1_{label}"])
        isolated[label] = support_isolated(w, w_true)
        m[f"support_isolated_{label}"] = C.summarize(isolated[label].astype(float))
        m[f"spectrum_{label}"] = C.summarize(w)
    m["spectrum_truth"] = C.summarize(w_true)
    m["record_steps"] = runs["naive"].record_steps
    te_n, te_d = (runs[k].observables["test_mse"][:, -1] for k in ("naive", "designed"))
    l1_n, l1_d = (runs[k].observables["l1"][:, -1] for k in ("naive", "designed"))
    v = results["verdicts"]
    v["generalisation"] = C.verdict(
        "the designed model generalises better than the naive one",
        "test MSE(designed) < test MSE(naive) at the last step, for every seed",
        bool(np.all(te_d < te_n)), {"test_mse_naive": te_n, "test_mse_designed": te_d})
    v["l1_norm"] = C.verdict(
        "the designed model's spectrum has a smaller l1 norm than the naive one's",
        "l1(designed) < l1(naive) at the last step, for every seed",
        bool(np.all(l1_d < l1_n)), {"l1_naive": l1_n, "l1_designed": l1_d})
    v["isolates_support"] = C.verdict(
        "the designed model isolates the 3 non-zero frequencies",
        "for every seed: the 3 largest |w_k| are the true frequencies and all others are < 10% "
        "of the smallest true magnitude",
        bool(np.all(isolated["designed"])),
        {"designed": isolated["designed"], "naive": isolated["naive"]})
    path = C.output_dir(out, NAME)
    _plot(runs, prob, config, path, results)
    C.add_curves(results, runs["naive"].record_steps, {
        f"{key}_{label}": r.observables[key] for label, r in runs.items()
        for key in ("train_loss", "test_mse")})
    C.write_results(path, results)
    return results


def _plot(runs, prob, config, path, results):
    plt = C.pyplot()
    D = config["n_frequencies"]
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.6))
    ax = axes[0]
    k = np.arange(D)
    ax.stem(k, prob["w_true"][0], linefmt="k-", markerfmt="ko", basefmt=" ", label="truth")
    for i, label in enumerate(("naive", "designed")):
        ax.plot(k + 0.25 * (i + 1), runs[label].observables["w"][0, -1], "o", ms=3,
                color=f"C{i}", label=label)
    ax.set_xlabel("frequency k")
    ax.set_ylabel(r"$w_k$")
    ax.set_title(f"a: spectrum (seed {results['seeds'][0]})")
    ax.legend(fontsize=7)
    ax = axes[1]
    t = np.linspace(0, 1, 1000)
    F = cosine_features(t, D)
    ax.plot(t, F @ prob["w_true"][0], "k-", lw=1.5, label="truth")
    for i, label in enumerate(("naive", "designed")):
        ax.plot(t, F @ runs[label].observables["w"][0, -1], color=f"C{i}", lw=1, label=label)
    ax.set_xlabel("t")
    ax.set_ylabel("y(t)")
    ax.set_title("b: signal")
    ax.legend(fontsize=7)
    ax = axes[2]
    for i, label in enumerate(("naive", "designed")):
        res = runs[label]
        ax.plot(res.record_steps, res.observables["train_loss"].mean(0), color=f"C{i}",
                ls=":", label=f"{label} train")
        ax.plot(res.record_steps, res.observables["test_mse"].mean(0), color=f"C{i}",
                label=f"{label} test")
    ax.set_yscale("log")
    C.iteration_axis(ax)
    ax.set_ylabel("MSE (mean over seeds)")
    ax.legend(fontsize=7)
    ax = axes[3]
    for i, label in enumerate(("naive", "designed")):
        res = runs[label]
        ax.plot(res.record_steps, res.observables["l1"].T, color=f"C{i}", lw=0.8)
    ax.axhline(np.abs(prob["w_true"]).sum(-1).mean(), color="k", ls="--", lw=1,
               label="truth (mean)")
    C.iteration_axis(ax)
    ax.set_ylabel(r"$\|w\|_1$ (C0 naive, C1 designed)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    C.save_figure(fig, path, f"{NAME}.png", results)
