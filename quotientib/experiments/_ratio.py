"""Balance-ratio metrics and figures shared by the teacher-student experiments.

A ratio experiment records, per unit (neuron, attention column, factor column), the paper's ratio
``a / b`` of the two norms exchanged by the scaling symmetry, the imbalance ``D = a^2 - b^2``
(conserved by gradient flow) and the scale ``a^2 + b^2``.
"""

import numpy as np

from quotientib.experiments import _common as C

__all__ = ["fill_ratio_metrics", "plot_ratio_run", "catalog_theory"]


def catalog_theory(entry, theta_init, theta_end):
    """What the symmetry catalog says about the experiment's orbit, and its residuals.

    Parameters
    ----------
    entry : quotientib.catalog.CatalogEntry
        The catalog entry of the model's symmetry (sized like the experiment).
    theta_init, theta_end : array_like, shape=[seeds, n]
        Parameters packed with ``entry.pack`` at the start and at the end.

    Returns
    -------
    theory : dict
        The entry's group, the condition at the argmin of log det H, the paper's printed
        condition, and per seed the entry's residual of the argmin condition (0 exactly at
        the balanced representative) at the start and the end.
    """
    out = {
        "catalog_entry": entry.name,
        "group": entry.group,
        "argmin_condition": entry.argmin_condition,
        "paper_condition": entry.paper_condition,
        "moment_map": entry.moment_map_formula,
    }
    if entry.argmin_residual is not None:
        out["argmin_residual_init"] = C.summarize(entry.argmin_residual(theta_init))
        out["argmin_residual_end"] = C.summarize(entry.argmin_residual(theta_end))
    return out


def fill_ratio_metrics(results, res, config, unit):
    """Ratio spread at the figure step and at the end, imbalance drift, and the verdict."""
    steps = res.record_steps
    ratio = res.observables["ratio"]
    k_fig = int(np.searchsorted(steps, min(config["figure_step"], steps[-1])))
    k_fig = min(k_fig, len(steps) - 1)
    med_init, frac_init = C.log_ratio_stats(ratio[:, 0])
    med_fig, frac_fig = C.log_ratio_stats(ratio[:, k_fig])
    med_end, frac_end = C.log_ratio_stats(ratio[:, -1])
    dev_end = np.median(np.abs(ratio[:, -1] - 1.0), axis=-1)
    dev_fig = np.median(np.abs(ratio[:, k_fig] - 1.0), axis=-1)
    imb, scale = res.observables["imbalance"], res.observables["scale"]
    # How much of the distance from balance is the conserved imbalance: |D| / (a^2 + b^2).
    rel_imb_init = np.median(np.abs(imb[:, 0]) / scale[:, 0], axis=-1)
    rel_imb_end = np.median(np.abs(imb[:, -1]) / scale[:, -1], axis=-1)
    drift = np.median(np.abs(imb[:, -1] - imb[:, 0]) / np.maximum(np.abs(imb[:, 0]), 1e-300),
                      axis=-1)
    m = results["metrics"]
    m["record_steps"] = steps
    m["figure_step"] = int(steps[k_fig])
    m["median_abs_ratio_minus_1_init"] = C.summarize(np.median(np.abs(ratio[:, 0] - 1), -1))
    m["median_abs_ratio_minus_1_figure_step"] = C.summarize(dev_fig)
    m["median_abs_ratio_minus_1_end"] = C.summarize(dev_end)
    m["median_abs_log_ratio_init"] = C.summarize(med_init)
    m["median_abs_log_ratio_end"] = C.summarize(med_end)
    m["fraction_within_10pct_init"] = C.summarize(frac_init)
    m["fraction_within_10pct_figure_step"] = C.summarize(frac_fig)
    m["fraction_within_10pct_end"] = C.summarize(frac_end)
    m["ratios_end"] = C.summarize(ratio[:, -1])
    m["relative_imbalance_init"] = C.summarize(rel_imb_init)
    m["relative_imbalance_end"] = C.summarize(rel_imb_end)
    m["relative_change_of_conserved_imbalance"] = C.summarize(drift)
    m["first_step_all_seeds_median_within_10pct"] = _first_step_within(steps, ratio)
    crit = (f"per-seed median over {unit}s of |ratio - 1| < 0.1 at the last step, for every seed")
    results["verdicts"]["balance"] = C.verdict(
        results["paper"]["claim"], crit, bool(np.all(dev_end < 0.1)),
        {"per_seed_median_abs_ratio_minus_1_end": dev_end},
    )
    crit2 = ("diagnostic, not a paper claim: the ratio is driven to 1 by a drift along the orbit "
             "if the imbalance D = a^2 - b^2 (conserved by gradient flow) changes by more than "
             "50% of its initial size (median over units, every seed)")
    results["verdicts"]["orbit_drift"] = C.verdict(
        "balance comes from motion along the orbit, not from conservation plus growth",
        crit2, bool(np.all(drift > 0.5)), {"median_relative_change_of_D": drift},
    )


def _first_step_within(steps, ratio, tol=0.1):
    dev = np.median(np.abs(ratio - 1.0), axis=-1)  # [chains, records]
    ok = np.all(dev < tol, axis=0)
    idx = np.flatnonzero(ok)
    return int(steps[idx[0]]) if idx.size else None


def plot_ratio_run(res, config, path, results, title, ylabel):
    plt = C.pyplot()
    steps, ratio = res.record_steps, res.observables["ratio"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    ax = axes[0]
    for j in range(ratio.shape[-1]):
        ax.plot(steps, ratio[0, :, j], lw=0.8)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="balanced (ratio = 1)")
    ax.axvline(config["figure_step"], color="grey", ls=":", lw=1, label="paper's figure ends")
    ax.set_yscale("log")
    C.iteration_axis(ax)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}: seed {results['seeds'][0]}")
    ax.legend(fontsize=7)
    ax = axes[1]
    dev = np.median(np.abs(ratio - 1.0), axis=-1)
    for c in range(dev.shape[0]):
        ax.plot(steps, dev[c], label=f"seed {results['seeds'][c]}")
    ax.axhline(0.1, color="k", ls="--", lw=1, label="criterion 0.1")
    ax.set_yscale("log")
    C.iteration_axis(ax)
    ax.set_ylabel("median |ratio - 1|")
    ax.legend(fontsize=7)
    ax = axes[2]
    loss = res.observables["loss"]
    for c in range(loss.shape[0]):
        ax.plot(steps, loss[c])
    ax.set_yscale("log")
    C.iteration_axis(ax)
    ax.set_ylabel("evaluation MSE")
    fig.tight_layout()
    C.save_figure(fig, path, f"{results['experiment']}.png", results)
