"""Markdown tables from experiment results: the claims-ledger rows and a per-experiment summary.

Used to write ``docs/ledger/experiments.md`` from a full run, and available to the report
command (``ledger_markdown(results)`` takes what :func:`quotientib.experiments.reproduce`
returns, or the parsed ``results.json`` files).
"""

import json
import os

import numpy as np

__all__ = ["LEDGER_SPEC", "ledger_markdown", "load_results", "format_summary"]

#: Per experiment: (verdict key, the paper's number in words, metrics shown as "ours").
LEDGER_SPEC = {
    "relu_teacher_student": [
        ("balance", "all |v_i|/|W_i| -> 1 from ~3e4 it.; loss 6.3e-2 at 5e5 it.",
         ["median_abs_ratio_minus_1_end", "median_abs_ratio_minus_1_figure_step",
          "final_loss"]),
        ("orbit_drift", "not in the paper (diagnostic)",
         ["relative_change_of_conserved_imbalance", "relative_imbalance_init",
          "relative_imbalance_end"]),
    ],
    "attention": [
        ("balance", "all |Q_j|/|K_j| -> 1 from ~3.5e4 it.; loss 6.8e-2 at 3e5 it.",
         ["median_abs_ratio_minus_1_end", "median_abs_ratio_minus_1_figure_step",
          "final_loss"]),
        ("orbit_drift", "not in the paper (diagnostic)",
         ["relative_change_of_conserved_imbalance", "relative_imbalance_init",
          "relative_imbalance_end"]),
    ],
    "matrix_completion": [
        ("low_rank", "sigma_1,2 -> 15, 5; other modes near 0",
         ["top_singular_values_relative_error", "largest_spurious_singular_value",
          "final_recovery_mse"]),
        ("balance", "all |U_j|/|V_j| -> 1", ["median_abs_ratio_minus_1_end"]),
        ("mode_energy", "v1: S_i -> 2 sigma*_i = 30, 10 (loss 2.55e-5 at 1e6 it.)",
         ["mode_energy_end", "mode_energy_over_2_sigma_model", "final_train_loss"]),
        ("orbit_drift", "not in the paper (diagnostic)",
         ["relative_change_of_conserved_imbalance"]),
    ],
    "spectral_sparse": [
        ("isolates_support", "designed isolates the 3 frequencies",
         ["support_isolated_designed", "support_isolated_naive"]),
        ("l1_norm", "v1: l1 4.89 (designed) vs 10.72 (naive), truth 4.68",
         ["l1_designed", "l1_naive", "l1_truth"]),
        ("generalisation", "designed generalises better (no number)",
         ["test_mse_designed", "test_mse_naive"]),
    ],
    "total_variation": [
        ("test_mse", "test MSE 7.94e-2 (designed) vs 1.39 (naive)",
         ["test_mse_designed", "test_mse_naive", "test_mse_designed_at_figure_step",
          "test_mse_naive_at_figure_step"]),
        ("total_variation", "TV ~23 (designed) vs ~130 (naive); truth 6",
         ["tv_designed", "tv_naive", "tv_designed_at_figure_step", "tv_naive_at_figure_step"]),
        ("paper_numbers", "the four numbers above", []),
    ],
    "sparse_regression": [
        ("l1_norm", "v1: l1/l2 53.0/12.9 (designed), 97.7/10.0 (naive), 50.3/14.5 (truth)",
         ["l1_designed", "l1_naive", "l1_truth", "l2_designed", "l2_naive"]),
        ("generalisation", "designed has lower test error (no number)",
         ["test_mse_designed", "test_mse_naive"]),
    ],
    "group_lasso": [
        ("group_sparsity", "v1: groups > 0.2: 55% (designed), 100% (naive), 12.5% (truth)",
         ["active_groups_designed", "active_groups_naive", "active_groups_truth",
          "group_lasso_designed", "group_lasso_naive", "l1_designed", "l1_naive"]),
        ("generalisation", "v1: designed generalises better (no number)",
         ["test_mse_designed", "test_mse_naive"]),
    ],
    "channel_coupling": [
        ("generalisation", "v1: matrix factorisation has the lowest test error (no number)",
         ["test_mse_matrix", "test_mse_naive", "test_mse_hadamard"]),
        ("low_rank", "v1: only the matrix model recovers the low-rank spectrum",
         ["tail_fraction_matrix", "tail_fraction_naive", "tail_fraction_hadamard",
          "effective_rank_matrix"]),
    ],
    "relu_bce": [
        ("balance", "v1: |w_j|/|v_j| -> 1; loss 1.2e-2 after 700 epochs",
         ["median_abs_ratio_minus_1_end", "final_train_loss", "final_test_accuracy"]),
        ("orbit_drift", "not in the paper (diagnostic)",
         ["relative_change_of_conserved_imbalance", "relative_imbalance_init"]),
    ],
}


#: Results written before the label was harmonised with the claims ledger say "does not hold".
_VERDICT_LABELS = {"does not hold": "fails"}


def _cell(text):
    """Escape a table cell (``|`` would end it)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fmt(x):
    if x is None:
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e3 or abs(x) < 1e-2:
        return f"{x:.2e}"
    return f"{x:.3g}"


def format_summary(summary):
    """``mean +- sd`` of a summary (element-wise, joined by ', ' for vectors)."""
    mean, sd = np.atleast_1d(summary["mean"]), np.atleast_1d(summary["sd"])
    parts = [f"{_fmt(m)} ± {_fmt(s)}" for m, s in zip(mean.ravel(), sd.ravel())]
    return "[" + ", ".join(parts) + "]" if len(parts) > 1 else parts[0]


def load_results(folder, names=None):
    """Parsed ``folder/NAME/results.json`` for every experiment found (or ``names``)."""
    out = {}
    for name in names or sorted(os.listdir(folder)):
        file = os.path.join(folder, name, "results.json")
        if os.path.exists(file):
            with open(file) as fh:
                out[name] = json.load(fh)
    return out


def ledger_markdown(results, command="quotientib reproduce {name} --full --seeds 3"):
    """One ledger row per (experiment, claim).

    Parameters
    ----------
    results : dict name -> results dict
    command : str
        Format string with ``{name}``.

    Returns
    -------
    markdown : str
    """
    lines = ["| experiment: claim | paper location | paper's number | ours (mean ± sd over "
             "seeds) | verdict (criterion) | command |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, res in results.items():
        for key, paper_text, metrics in LEDGER_SPEC.get(name, []):
            v = res["verdicts"].get(key)
            if v is None:
                continue
            ours = "; ".join(f"{m}: {format_summary(res['metrics'][m])}" for m in metrics
                             if m in res["metrics"])
            if not ours:
                ours = "see evidence in results.json"
            nseeds = len(res["seeds"])
            verdict = _VERDICT_LABELS.get(v["verdict"], v["verdict"])
            cells = [f"{name}: {v['claim']}", res["paper"].get("location", ""), paper_text,
                     f"{ours} ({nseeds} seeds, {res['mode']})",
                     f"**{verdict}** ({v['criterion']})"]
            lines.append("| " + " | ".join(_cell(c) for c in cells)
                         + f" | `{command.format(name=name)}` |")
    return "\n".join(lines) + "\n"
