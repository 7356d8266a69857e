"""Rank-2 matrix completion with an over-parameterised factorisation (v2 Fig. 4, v1 Fig. 6).

Target ``T* = Q diag(15, 5) P^T`` (20 x 20, ``Q, P`` random orthonormal); 20% of its entries
are observed and every SGD step uses a fresh random half of them. Model ``T_hat = U V`` with
``U`` 20 x 20 and ``V`` 20 x 20 (r = 20, far above the true rank). Recorded:

- the singular values of ``U V`` (v2 Fig. 4a: two grow to 15 and 5, the rest stay near 0);
- the per-column ratios ``|U_[:,j]| / |V_[j,:]|`` (v2 Fig. 4b: all tend to 1);
- the mode energies ``S_i = |U^T p_i|^2 + |V q_i|^2`` of the top singular pairs ``(p_i, q_i)``
  of ``U V`` (v1 Fig. 6: ``S_i -> 2 sigma*_i``). By AM-GM ``S_i >= 2 sigma_i(U V)``, with
  equality exactly when mode ``i`` is balanced, so ``S_i / (2 sigma_i)`` measures balance per
  mode without choosing a gauge.

The imbalance ``U^T U - V V^T`` is conserved by gradient flow; its diagonal is recorded.
"""

import sys

import numpy as np

from quotientib.catalog.factorizations import column_scaling
from quotientib.experiments import _common as C
from quotientib.experiments import _ratio as R

__all__ = [
    "NAME",
    "CONFIGS",
    "PAPER",
    "unpack",
    "loss_and_grad",
    "column_ratios",
    "mode_energies",
    "make_problem",
    "run",
]

NAME = "matrix_completion"
DESCRIPTION = ("Rank-2 20x20 matrix completion with r = 20: spectrum, per-mode ratios, mode "
               "energies (v2 Fig. 4, v1 Fig. 6)")

_BASE = dict(
    rows=20, cols=20, rank=20, true_singular_values=(15.0, 5.0), observed_fraction=0.2,
    batch_fraction=0.5, init_std=0.1, lr=1e-3,
)
CONFIGS = {
    "quick": dict(_BASE, n_steps=150_000, figure_step=150_000, record_every=1_000),
    "full": dict(_BASE, n_steps=500_000, figure_step=500_000, record_every=2_500),
}
PAPER = {
    "location": "v2 Fig. 4 and Experimental setup (eqs. 72-73); v1 Fig. 6 and sec. 6",
    "singular_values_target": [15.0, 5.0],
    "ratio_target": 1.0,
    "mode_energy_target": [30.0, 10.0],
    "v1_final_loss": 2.55e-5,
    "v1_final_loss_step": 1_000_000,
    "claim": "only the two true modes grow (to 15 and 5), the others stay near 0; all per-mode "
             "ratios |U_[:,j]|/|V_[j,:]| converge to 1; mode energies S_i -> 2 sigma*_i",
}
NOTES = [
    "The MSE is averaged over the sub-sampled observed entries of the step.",
    "Mode energies use the singular pairs of U V at each record (the paper does not say which "
    "basis it uses for lambda_U, lambda_V); ordering of modes is by singular value.",
    "'recovery_mse' is the MSE over all 400 entries of T* (unobserved ones included).",
    "20% of 400 entries is 80 observations for a set of rank-2 20 x 20 matrices of dimension "
    "2 (20 + 20 - 2) = 76; 'empty_rows_plus_columns' counts rows and columns with no observed "
    "entry (their part of T* cannot be recovered by any method).",
]


def unpack(params, rows, cols, rank):
    """``U [..., rows, rank]``, ``V [..., rank, cols]`` from ``params [..., rank (m + n)]``."""
    params = np.asarray(params)
    n = rows * rank
    return (params[..., :n].reshape(params.shape[:-1] + (rows, rank)),
            params[..., n:].reshape(params.shape[:-1] + (rank, cols)))


def pack(U, V):
    """Inverse of :func:`unpack`."""
    return np.concatenate([U.reshape(U.shape[:-2] + (-1,)), V.reshape(V.shape[:-2] + (-1,))],
                          axis=-1)


def loss_and_grad(params, target, weights, rows, cols, rank):
    """Weighted squared error ``sum_ij weights_ij ((U V)_ij - T_ij)^2`` and its gradient.

    With ``weights`` equal to ``1/|B|`` on the mini-batch entries ``B`` and 0 elsewhere, this is
    the mini-batch MSE.

    Parameters
    ----------
    params : array_like, shape=[chains, rank (rows + cols)]
    target : array_like, shape=[chains, rows, cols]
    weights : array_like, shape=[chains, rows, cols]

    Returns
    -------
    loss : ndarray, shape=[chains]
    grad : ndarray, shape=[chains, rank (rows + cols)]
    """
    U, V = unpack(params, rows, cols, rank)
    resid = U @ V - target
    wr = weights * resid
    loss = np.sum(wr * resid, axis=(-2, -1))
    wr *= 2.0
    return loss, pack(wr @ np.swapaxes(V, -1, -2), np.swapaxes(U, -1, -2) @ wr)


def column_ratios(params, rows, cols, rank):
    """``|U_[:,j]| / |V_[j,:]|``, shape ``[..., rank]``."""
    U, V = unpack(params, rows, cols, rank)
    return np.linalg.norm(U, axis=-2) / np.linalg.norm(V, axis=-1)


def column_imbalance(params, rows, cols, rank):
    """Diagonal of ``U^T U - V V^T`` (conserved by gradient flow), shape ``[..., rank]``."""
    U, V = unpack(params, rows, cols, rank)
    return np.sum(U**2, axis=-2) - np.sum(V**2, axis=-1)


def column_scales(params, rows, cols, rank):
    """``|U_[:,j]|^2 + |V_[j,:]|^2``, shape ``[..., rank]``."""
    U, V = unpack(params, rows, cols, rank)
    return np.sum(U**2, axis=-2) + np.sum(V**2, axis=-1)


def mode_energies(params, rows, cols, rank, k=2):
    """Singular values of ``U V`` and the energies of its top ``k`` modes.

    Parameters
    ----------
    params : array_like, shape=[..., rank (rows + cols)]
    k : int

    Returns
    -------
    sigma : ndarray, shape=[..., min(rows, cols)]
    energy : ndarray, shape=[..., k]
        ``S_i = |U^T p_i|^2 + |V q_i|^2`` with ``(p_i, q_i)`` the i-th singular pair of ``U V``.
    """
    U, V = unpack(params, rows, cols, rank)
    P, sigma, Qt = np.linalg.svd(U @ V)
    a = np.sum((np.swapaxes(P[..., :, :k], -1, -2) @ U) ** 2, axis=-1)
    b = np.sum((Qt[..., :k, :] @ np.swapaxes(V, -1, -2)) ** 2, axis=-1)
    return sigma, a + b


def make_problem(config, seeds, name=NAME):
    """Targets, observed masks, initial factors and the SGD callbacks.

    Returns
    -------
    problem : dict
        ``x0``, ``target [chains, rows, cols]``, ``observed [chains, n_obs]`` (flat indices),
        ``grad_batch``, ``sample_batch``, ``train_loss``, ``recovery_mse``, ``lr``.
    """
    m, n, r = config["rows"], config["cols"], config["rank"]
    s_true = np.asarray(config["true_singular_values"], dtype=float)
    n_obs = int(round(config["observed_fraction"] * m * n))
    n_batch = int(round(config["batch_fraction"] * n_obs))
    targets, observed, x0 = [], [], []
    for rng in C.seed_rngs(name, seeds):
        Q = np.linalg.qr(rng.standard_normal((m, s_true.size)))[0]
        P = np.linalg.qr(rng.standard_normal((n, s_true.size)))[0]
        targets.append((Q * s_true) @ P.T)
        observed.append(np.sort(rng.choice(m * n, size=n_obs, replace=False)))
        x0.append(rng.normal(0.0, config["init_std"], size=r * (m + n)))
    target, observed = np.stack(targets), np.stack(observed)
    chains = len(seeds)
    obs_weights = np.zeros((chains, m * n))
    np.put_along_axis(obs_weights, observed, 1.0 / n_obs, axis=-1)
    obs_weights = obs_weights.reshape(chains, m, n)
    full_weights = np.full((chains, m, n), 1.0 / (m * n))

    def draw(rng, steps):
        # A fresh random half of each chain's observed entries, for `steps` steps at once.
        pick = np.argsort(rng.random((steps, chains, n_obs)), axis=-1)[..., :n_batch]
        idx = np.take_along_axis(np.broadcast_to(observed, (steps, chains, n_obs)), pick, -1)
        w = np.zeros((steps, chains, m * n))
        np.put_along_axis(w, idx, 1.0 / n_batch, axis=-1)
        return (w.reshape(steps, chains, m, n),)

    def grad_batch(params, data):
        return loss_and_grad(params, target, data[0], m, n, r)[1]

    return dict(
        x0=np.stack(x0), target=target, observed=observed, grad_batch=grad_batch,
        sample_batch=C.BlockSampler(draw, step_elements=chains * (m * n + n_obs)), lr=config["lr"],
        train_loss=lambda x: loss_and_grad(x, target, obs_weights, m, n, r)[0],
        recovery_mse=lambda x: loss_and_grad(x, target, full_weights, m, n, r)[0],
    )


def run(mode="quick", seeds=3, out="results", progress=True, overrides=None):
    """Train the ensemble of factorisations and write ``out/matrix_completion/``.

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
    m, n, r = config["rows"], config["cols"], config["rank"]
    k = len(config["true_singular_values"])
    prob = make_problem(config, seeds)
    obs = {
        "ratio": lambda x: column_ratios(x, m, n, r),
        "imbalance": lambda x: column_imbalance(x, m, n, r),
        "scale": lambda x: column_scales(x, m, n, r),
        "sigma": lambda x: mode_energies(x, m, n, r, k)[0],
        "energy": lambda x: mode_energies(x, m, n, r, k)[1],
        "loss": prob["train_loss"],
        "recovery_mse": prob["recovery_mse"],
    }
    res = C.run_sgd(prob["grad_batch"], prob["sample_batch"], prob["x0"], lr=prob["lr"],
                    n_steps=config["n_steps"], rng=C.training_rng(NAME, seeds),
                    record_every=config["record_every"], observables=obs, progress=progress,
                    results=results, label="factorisation")
    path = C.output_dir(out, NAME)
    R.fill_ratio_metrics(results, res, config, unit="column")
    entry = column_scaling(p=m, q=n, r=r)

    def uv(params):
        U, V = unpack(params, m, n, r)
        return entry.pack(U=U, V=np.swapaxes(V, -1, -2))

    results["theory"] = R.catalog_theory(entry, uv(prob["x0"]), uv(res.final))
    s_true = np.asarray(config["true_singular_values"])
    sigma, energy = res.observables["sigma"][:, -1], res.observables["energy"][:, -1]
    mm = results["metrics"]
    mm["final_train_loss"] = C.summarize(res.observables["loss"][:, -1], PAPER["v1_final_loss"])
    # How informative the mask is: observations against the dimension of the rank-k matrices.
    obs_rows = prob["observed"] // n
    obs_cols = prob["observed"] % n
    empty = [m - np.unique(rr).size + n - np.unique(cc).size
             for rr, cc in zip(obs_rows, obs_cols)]
    mm["observed_entries"] = int(prob["observed"].shape[1])
    mm["rank_k_dimension"] = int(k * (m + n - k))
    mm["empty_rows_plus_columns"] = C.summarize(empty)
    mm["final_recovery_mse"] = C.summarize(res.observables["recovery_mse"][:, -1])
    mm["singular_values_end"] = C.summarize(sigma, list(s_true))
    mm["top_singular_values_relative_error"] = C.summarize(np.abs(sigma[:, :k] / s_true - 1))
    mm["largest_spurious_singular_value"] = C.summarize(sigma[:, k])
    mm["mode_energy_end"] = C.summarize(energy, list(2 * s_true))
    mm["mode_energy_over_2_sigma_true"] = C.summarize(energy / (2 * s_true))
    mm["mode_energy_over_2_sigma_model"] = C.summarize(energy / (2 * sigma[:, :k]))
    sv_err = np.abs(sigma[:, :k] / s_true - 1)
    v = results["verdicts"]
    v["low_rank"] = C.verdict(
        "only the two true modes grow to (15, 5); the remaining modes stay near zero",
        f"|sigma_i / sigma*_i - 1| < 0.1 for i = 1..{k} and sigma_{k + 1} < 0.1 sigma*_{k} at the "
        "last step, for every seed",
        bool(np.all(sv_err < 0.1) and np.all(sigma[:, k] < 0.1 * s_true[-1])),
        {"relative_error_top": sv_err, "sigma_next": sigma[:, k]},
    )
    en_err = np.abs(energy / (2 * s_true) - 1)
    v["mode_energy"] = C.verdict(
        "v1 Fig. 6: each mode's energy S_i approaches 2 sigma*_i",
        f"|S_i / (2 sigma*_i) - 1| < 0.1 for i = 1..{k} at the last step, for every seed",
        bool(np.all(en_err < 0.1)), {"relative_error": en_err},
    )
    _plot(res, config, path, results)
    C.add_curves(results, res.record_steps, {
        "train_loss": res.observables["loss"],
        "recovery_mse": res.observables["recovery_mse"]})
    C.write_results(path, results)
    return results


def _plot(res, config, path, results):
    plt = C.pyplot()
    steps = res.record_steps
    s_true = np.asarray(config["true_singular_values"])
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    ax = axes[0]
    ax.plot(steps, res.observables["sigma"][0], lw=0.9)
    for s in s_true:
        ax.axhline(s, color="k", ls="--", lw=1)
    C.iteration_axis(ax)
    ax.set_ylabel(r"$\sigma_i(UV)$")
    ax.set_title(f"a: singular values (seed {results['seeds'][0]})")
    ax = axes[1]
    ax.plot(steps, res.observables["ratio"][0], lw=0.8)
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.set_yscale("log")
    C.iteration_axis(ax)
    ax.set_ylabel(r"$\|U_{[:,j]}\| / \|V_{[j,:]}\|$")
    ax.set_title("b: per-column ratios")
    ax = axes[2]
    en = res.observables["energy"]
    for c in range(en.shape[0]):
        for i in range(en.shape[-1]):
            ax.plot(steps, en[c, :, i], lw=0.9, color=f"C{i}", alpha=0.8)
    for i, s in enumerate(s_true):
        ax.axhline(2 * s, color=f"C{i}", ls="--", lw=1, label=fr"$2\sigma^*_{i + 1}$")
    C.iteration_axis(ax)
    ax.set_ylabel(r"$S_i = |U^T p_i|^2 + |V q_i|^2$")
    ax.set_title("v1 Fig. 6: mode energies (all seeds)")
    ax.legend(fontsize=7)
    ax = axes[3]
    for name, ls in (("loss", "-"), ("recovery_mse", ":")):
        for c in range(res.observables[name].shape[0]):
            ax.plot(steps, res.observables[name][c], ls=ls, color=f"C{c}")
    ax.set_yscale("log")
    C.iteration_axis(ax)
    ax.set_ylabel("observed MSE (solid), all-entries MSE (dotted)")
    fig.tight_layout()
    C.save_figure(fig, path, f"{NAME}.png", results)
