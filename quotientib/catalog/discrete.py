"""Permutation symmetry of a two-layer network (paper appendix C).

``f(x) = W2 sigma(W1 x)`` with ``W1 [m, d]`` and ``W2 [k, m]`` is unchanged by
``(W1, W2) -> (P W1, W2 P^T)`` for every permutation ``P`` of the ``m`` hidden neurons. The
stabiliser of ``theta`` is the set of permutations that only exchange identical neurons
(equal row of ``W1`` and equal column of ``W2``), so with neuron classes of sizes ``c_1, c_2,
...``: ``|Stab| = prod_c c!`` and ``|Orbit| = m! / prod_c c!``.

The paper's weight on the quotient is ``pi([theta]) ~ |Orbit|``, so ``-log pi = log |Stab| +
const``: larger stabilisers get *less* weight. The paper's text (D1 and the sentence after it)
says they get lower energy and concludes that SGD favours neuron collapse; the sign does not
follow from its own ``pi ~ |Orbit|``.
"""

import itertools
import math

import numpy as np

from quotientib.errors import ShapeError

__all__ = [
    "neuron_classes",
    "stabilizer_size",
    "log_orbit_size",
    "brute_force_stabilizer_size",
    "collapse_example",
]


def _check(w1, w2):
    w1 = np.asarray(w1, dtype=float)
    w2 = np.asarray(w2, dtype=float)
    if w1.ndim != 2 or w2.ndim != 2 or w1.shape[0] != w2.shape[1]:
        raise ShapeError(
            f"Expected `W1` of shape (m, d) and `W2` of shape (k, m) with the same m, got "
            f"{w1.shape} and {w2.shape}."
        )
    return w1, w2


def neuron_classes(w1, w2, decimals=None):
    """Group hidden neurons that are identical (same incoming row and outgoing column).

    Parameters
    ----------
    w1 : array_like, shape=[m, d]
    w2 : array_like, shape=[k, m]
    decimals : int, optional
        Round before comparing (None: exact equality).

    Returns
    -------
    sizes : ndarray of int, shape=[n_classes]
        Class sizes, summing to ``m``.
    """
    w1, w2 = _check(w1, w2)
    neurons = np.concatenate([w1, w2.T], axis=1)
    if decimals is not None:
        neurons = np.round(neurons, decimals)
    _, counts = np.unique(neurons, axis=0, return_counts=True)
    return counts


def stabilizer_size(w1, w2, decimals=None):
    """``|Stab(theta)| = prod_c c!`` over the classes of identical neurons.

    Parameters
    ----------
    w1 : array_like, shape=[m, d]
    w2 : array_like, shape=[k, m]
    decimals : int, optional

    Returns
    -------
    size : int
    """
    return int(np.prod([math.factorial(int(c)) for c in neuron_classes(w1, w2, decimals)]))


def log_orbit_size(w1, w2, decimals=None):
    """``log |Orbit(theta)| = log m! - sum_c log c!``.

    Parameters
    ----------
    w1 : array_like, shape=[m, d]
    w2 : array_like, shape=[k, m]
    decimals : int, optional

    Returns
    -------
    log_size : float
    """
    sizes = neuron_classes(w1, w2, decimals)
    m = int(np.sum(sizes))
    return float(math.lgamma(m + 1) - sum(math.lgamma(int(c) + 1) for c in sizes))


def brute_force_stabilizer_size(w1, w2):
    """Count permutations ``P`` with ``P W1 = W1`` and ``W2 P^T = W2`` (``m <= 8``).

    Parameters
    ----------
    w1 : array_like, shape=[m, d]
    w2 : array_like, shape=[k, m]

    Returns
    -------
    size : int
    """
    w1, w2 = _check(w1, w2)
    m = w1.shape[0]
    if m > 8:
        raise ValueError(f"Brute force over {m}! permutations is too slow; use m <= 8.")
    count = 0
    for perm in itertools.permutations(range(m)):
        perm = list(perm)
        if np.array_equal(w1[perm], w1) and np.array_equal(w2[:, perm], w2):
            count += 1
    return count


def collapse_example(m=4, d=3, k=2, rng=None):
    """The paper's collapse example: all ``m`` neurons identical, against a generic network.

    Parameters
    ----------
    m, d, k : int
        Hidden width, input and output dimensions.
    rng : numpy.random.Generator, optional
        Seed 0 if omitted.

    Returns
    -------
    report : dict
        ``stabilizer`` and ``log_orbit`` for the generic and the collapsed network, and
        ``log_weight_ratio = log pi(collapsed) - log pi(generic)`` under the paper's
        ``pi ~ |Orbit|`` (``= -log m!``).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    w1 = rng.standard_normal((m, d))
    w2 = rng.standard_normal((k, m))
    c1 = np.repeat(w1[:1], m, axis=0)
    c2 = np.repeat(w2[:, :1], m, axis=1)
    generic = {"stabilizer": stabilizer_size(w1, w2), "log_orbit": log_orbit_size(w1, w2)}
    collapsed = {"stabilizer": stabilizer_size(c1, c2), "log_orbit": log_orbit_size(c1, c2)}
    return {
        "generic": generic,
        "collapsed": collapsed,
        "log_weight_ratio": collapsed["log_orbit"] - generic["log_orbit"],
    }
