# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Reproduce a figure of the paper, then change one hyper-parameter
#
# Paper v2, Fig. 2: a shallow ReLU student `y = v^T ReLU(W x)` learns a teacher of the same form
# by SGD. Each hidden neuron can be rescaled, `(v_i, W_i) -> (v_i / a, a W_i)`, without changing
# the function, and the paper predicts that SGD selects the balanced representative,
# `|v_i| / |W_[i,:]| -> 1`, "initialized far from equilibrium".
#
# `quotientib.experiments` has the paper's exact setup (v2 "Experimental setup": `d = 3`,
# `h = 16`, teacher `N(0, 1.5^2)`, student `N(0, 0.05^2)` then imbalanced by
# `s_i = exp(2 lam (i-1)/(h-1) - lam)`, batches of 8, lr `5e-5`, label noise 0.1). We run it
# for three seeds at once (one vectorised ensemble), then change one hyper-parameter: the
# scale of the student's initialisation.

# %%
import os
import tempfile

import numpy as np

from quotientib.experiments import relu_teacher_student as rts

SMOKE = globals().get("SMOKE", False)
N_STEPS = 10_000 if SMOKE else 40_000  # the paper's figure stops at 4e4 iterations
OUT = tempfile.mkdtemp(prefix="qib_tutorial06_")
common = dict(n_steps=N_STEPS, figure_step=N_STEPS, record_every=500 if SMOKE else 1_000)

# %% [markdown]
# ## 1. The paper's setup
#
# `run` trains the ensemble with `quotientib.dynamics.sgd` and writes
# `OUT/relu_teacher_student/results.json` and a PNG like the paper's figure.

# %%
paper = rts.run(mode="quick", seeds=3, out=os.path.join(OUT, "paper"), progress=False,
                overrides=common)
dev_paper = np.array(paper["metrics"]["median_abs_ratio_minus_1_end"]["per_seed"])
print("figure:", os.path.join(OUT, "paper", "relu_teacher_student", paper["figures"][0]))
print("median |ratio - 1| at the start:",
      np.round(paper["metrics"]["median_abs_ratio_minus_1_init"]["per_seed"], 3))
print("median |ratio - 1| at the end:  ", np.round(dev_paper, 4))
print("verdict:", paper["verdicts"]["balance"]["verdict"], "-",
      paper["verdicts"]["balance"]["criterion"])

# %% [markdown]
# The ratios, spread over two orders of magnitude at the start, end within a few percent of 1:
# the figure is reproduced.
#
# Now look at the imbalance `D_i = v_i^2 - |W_i|^2`. Gradient flow conserves it exactly
# (the rescaling is a symmetry of every mini-batch loss, so the gradient is orthogonal to the
# orbit); finite-step SGD changes it only at order `lr^2`.

# %%
drift_paper = np.array(paper["metrics"]["relative_change_of_conserved_imbalance"]["per_seed"])
rel_end = np.array(paper["metrics"]["relative_imbalance_end"]["per_seed"])
print("relative change of D over training:", np.round(drift_paper, 4))
print("|D| / (v^2 + |W|^2) at the end:     ", np.round(rel_end, 4))

# %% [markdown]
# `D` barely moves. The ratios reach 1 because the weights grow from a tiny initialisation
# (std 0.05) to the teacher's scale (std 1.5), so the conserved `D` becomes negligible next to
# `v_i^2 + |W_i|^2`: `ratio^2 = (1 + D/S) / (1 - D/S)` with `S = v^2 + |W|^2`.
#
# ## 2. Change one hyper-parameter: the initialisation scale
#
# If SGD noise drove the ratios to 1, a larger initialisation would not matter. If the
# conservation law explains the figure, a student initialised at std 0.5 keeps its large
# imbalance and its ratios stay away from 1.

# %%
large = rts.run(mode="quick", seeds=3, out=os.path.join(OUT, "large_init"), progress=False,
                overrides=dict(common, student_std=0.5))
dev_large = np.array(large["metrics"]["median_abs_ratio_minus_1_end"]["per_seed"])
drift_large = np.array(large["metrics"]["relative_change_of_conserved_imbalance"]["per_seed"])
print("student std 0.05: median |ratio - 1| at the end:", np.round(dev_paper, 4))
print("student std 0.5 : median |ratio - 1| at the end:", np.round(dev_large, 4))
print("student std 0.5 : relative change of D:         ", np.round(drift_large, 5))
print("verdict with std 0.5:", large["verdicts"]["balance"]["verdict"])

# %% [markdown]
# With the larger initialisation the ratios stay far from 1 while `D` is conserved to a part
# in a thousand or better. Over this horizon the balance in Fig. 2 is explained by
# conservation plus growth from a small initialisation, not by a drift of SGD along the orbit.
# (A drift at order `lr^2` exists; at the paper's `lr = 5e-5` it is too slow to see.) The full
# run and the other experiments are in `docs/experiments.md`.

# %%
assert np.all(dev_paper < 0.1), dev_paper          # the paper's figure: balanced
assert np.all(drift_paper < 0.2), drift_paper      # ... while D is (nearly) conserved
assert np.all(dev_large > 0.1), dev_large          # larger init: not balanced
assert np.all(drift_large < 0.01), drift_large     # ... and D conserved
