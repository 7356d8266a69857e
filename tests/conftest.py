"""Import quotientib before anything imports geomstats, so geomstats gets its autograd backend."""

import matplotlib

import quotientib  # noqa: F401

matplotlib.use("Agg")
