"""Ready-made symmetries of the paper, each checked against its own numerical minimisation.

Every factory returns a :class:`~quotientib.catalog._entry.CatalogEntry` built fresh on each
call (no registry is filled at import time) and takes ``metric=None`` (Euclidean) or a
constant SPD metric / :class:`~quotientib.metric.MetricField` on the flattened parameters.
"""

import numpy as np

from quotientib.catalog._entry import CatalogEntry
from quotientib.catalog.discrete import (
    brute_force_stabilizer_size,
    collapse_example,
    log_orbit_size,
    neuron_classes,
    stabilizer_size,
)
from quotientib.catalog.factorizations import (
    attention_columns,
    attention_gl,
    column_scaling,
    gl_factorization,
    pca_orthogonal,
)
from quotientib.catalog.rotations import pseudo_log_det, rotation_orbit_log_volume, rotations
from quotientib.catalog.scalings import (
    block_scaling,
    cosine_basis,
    difference_operator,
    hadamard,
    linear_features,
    make_metric,
    torus_action,
    uv,
)
from quotientib.catalog.table import catalog_markdown, catalog_table

__all__ = [
    "CatalogEntry",
    "all_entries",
    "uv",
    "hadamard",
    "linear_features",
    "block_scaling",
    "torus_action",
    "difference_operator",
    "cosine_basis",
    "make_metric",
    "column_scaling",
    "gl_factorization",
    "attention_columns",
    "attention_gl",
    "pca_orthogonal",
    "rotations",
    "rotation_orbit_log_volume",
    "pseudo_log_det",
    "neuron_classes",
    "stabilizer_size",
    "log_orbit_size",
    "brute_force_stabilizer_size",
    "collapse_example",
    "catalog_table",
    "catalog_markdown",
]

#: Factories of helper catalog-B, imported lazily by :func:`all_entries`.
_OTHER_FACTORIES = {
    "quotientib.catalog.networks": ("relu_two_layer", "deep_relu", "relu_conv_channels",
                                    "homogeneous_activation", "circulant_conv",
                                    "deep_circulant_conv"),
    "quotientib.catalog.tensors": ("cp_rank_one", "cp_rank_r", "tensor_train"),
}


def _own_factories():
    return [
        uv,
        hadamard,
        lambda metric=None: linear_features("tv", m=4, metric=metric),
        lambda metric=None: linear_features("cosine", m=4, metric=metric),
        block_scaling,
        column_scaling,
        gl_factorization,
        attention_columns,
        attention_gl,
        pca_orthogonal,
        rotations,
    ]


def _other_factories():
    import importlib

    found = []
    for module_name, names in _OTHER_FACTORIES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        found.extend(getattr(module, name) for name in names if hasattr(module, name))
    return found


def all_entries(metric="euclidean", rng=None):
    """Every catalog entry at its default sizes, built fresh.

    Parameters
    ----------
    metric : {"euclidean", "diagonal", "spd"}
        Euclidean, a random diagonal metric ``diag(U(0.5, 2))`` or a random dense SPD metric
        ``B B^T / n + I/2`` on each entry's parameters.
    rng : numpy.random.Generator, optional
        Source of the random metrics (seed 0 if omitted).

    Returns
    -------
    entries : list of CatalogEntry
        This module's entries followed by those of ``networks`` and ``tensors`` when those
        modules are present.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    entries = []
    for factory in _own_factories() + _other_factories():
        if metric in (None, "euclidean"):
            entries.append(factory())
            continue
        n = factory().symmetry.dim
        entries.append(factory(metric=make_metric(metric, n, rng)))
    return entries
