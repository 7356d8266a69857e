"""Static registry of the paper's experiments: name -> (module, run function, description).

A plain dict literal: importing this module imports no experiment.
"""

__all__ = ["EXPERIMENTS"]

EXPERIMENTS = {
    "relu_teacher_student": (
        "quotientib.experiments.relu_teacher_student", "run",
        "Shallow ReLU teacher-student: neuron balance |v_i|/|W_i| -> 1 (v2 Fig. 2)",
    ),
    "attention": (
        "quotientib.experiments.attention", "run",
        "Single-head attention teacher-student: |Q_j|/|K_j| -> 1 (v2 Fig. 3)",
    ),
    "matrix_completion": (
        "quotientib.experiments.matrix_completion", "run",
        "Rank-2 20x20 matrix completion with r = 20: spectrum, per-mode ratios, mode energies "
        "(v2 Fig. 4, v1 Fig. 6)",
    ),
    "spectral_sparse": (
        "quotientib.experiments.spectral_sparse", "run",
        "Cosine-basis spectral recovery, D = 64: naive vs Hadamard w1*w2 (v2 Fig. 5, v1 Fig. 3)",
    ),
    "total_variation": (
        "quotientib.experiments.total_variation", "run",
        "Piecewise-constant recovery, N = 200, m = 60: naive vs cumsum(w1*w2) (v2 Fig. 6)",
    ),
    "sparse_regression": (
        "quotientib.experiments.sparse_regression", "run",
        "l1-sparse regression d = 200, n = 80: naive vs u*v (v1 Fig. 9)",
    ),
    "group_lasso": (
        "quotientib.experiments.group_lasso", "run",
        "Group-sparse regression, 40 groups of 5: naive vs s_g t_g (v1 Fig. 10)",
    ),
    "channel_coupling": (
        "quotientib.experiments.channel_coupling", "run",
        "Multi-channel low-rank regression: naive / Hadamard / matrix factorisation (v1 Fig. 5)",
    ),
    "relu_bce": (
        "quotientib.experiments.relu_bce", "run",
        "Two-layer ReLU binary classification with BCE: |w_j|/|v_j| -> 1 (v1 Fig. 8)",
    ),
}
