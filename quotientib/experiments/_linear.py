"""Training of linear-measurement models ``y ~ Phi w(params)`` for the inverse-design experiments.

The spectral, total-variation, sparse and group-sparse experiments all fit measurements that are
linear in the predictor ``w``; only the parameterization ``w = forward(params)`` differs. The
mini-batch MSE gradient is ``grad_w = (2/B) Phi_B^T (Phi_B w - y_B)``, pulled back to the
parameters with the parameterization's ``pullback``.
"""

import numpy as np

from quotientib.experiments import _common as C

__all__ = ["mse_and_grad_w", "make_sgd", "train_linear"]


def mse_and_grad_w(w, Phi, y):
    """Mini-batch MSE of ``Phi w`` against ``y`` and its gradient in ``w``.

    Parameters
    ----------
    w : array_like, shape=[chains, d]
    Phi : array_like, shape=[chains, batch, d]
    y : array_like, shape=[chains, batch]

    Returns
    -------
    loss : ndarray, shape=[chains]
    grad_w : ndarray, shape=[chains, d]
    """
    resid = np.matmul(Phi, w[..., None])[..., 0] - y
    batch = y.shape[-1]
    grad = np.matmul(resid[..., None, :], Phi)[..., 0, :] * (2.0 / batch)
    return np.mean(resid**2, axis=-1), grad


def make_sgd(param, Phi, y, batch_size):
    """The ``grad_batch`` and ``sample_batch`` callbacks of :func:`quotientib.dynamics.sgd`.

    Parameters
    ----------
    param : object
        ``forward``, ``pullback`` (a design Parameterization or the identity).
    Phi : array_like, shape=[chains, n_train, d]
    y : array_like, shape=[chains, n_train]
    batch_size : int
        ``n_train`` means the full training set every step.

    Returns
    -------
    grad_batch, sample_batch : callable
    """
    Phi, y = np.asarray(Phi, dtype=float), np.asarray(y, dtype=float)
    chains, n_train, _ = Phi.shape
    if not 1 <= batch_size <= n_train:
        raise ValueError(f"Expected 1 <= batch_size <= {n_train}, got {batch_size}.")
    full = batch_size == n_train
    rows = np.arange(chains)[:, None]

    def draw(rng_, steps):
        keys = rng_.random((steps, chains, n_train))
        return (np.argsort(keys, axis=-1)[..., :batch_size],)

    if full:
        def sample_batch(rng_):
            return None

        def grad_batch(params, _):
            return param.pullback(params, mse_and_grad_w(param.forward(params), Phi, y)[1])
    else:
        sample_batch = C.BlockSampler(draw, step_elements=chains * n_train)

        def grad_batch(params, data):
            idx = data[0]
            gw = mse_and_grad_w(param.forward(params), Phi[rows, idx], y[rows, idx])[1]
            return param.pullback(params, gw)

    return grad_batch, sample_batch


def train_linear(param, Phi, y, x0, *, lr, batch_size, n_steps, record_every, rng,
                 observables, progress, results, label):
    """SGD on ``mean (Phi_B forward(params) - y_B)^2`` with a fresh batch ``B`` every step.

    Parameters
    ----------
    param : object
        ``forward``, ``pullback``, ``n_params`` (a design Parameterization or the identity).
    Phi : array_like, shape=[chains, n_train, d]
    y : array_like, shape=[chains, n_train]
    x0 : array_like, shape=[chains, n_params]
    lr : float
    batch_size : int
        ``n_train`` means the full training set every step (deterministic gradient descent).
    n_steps, record_every : int
    rng : numpy.random.Generator
    observables : dict name -> f(w[chains, d]) -> [chains, ...]
        Evaluated on the predictor ``w``; the training loss is added as ``"train_loss"``.
    progress : bool
    results : dict
    label : str

    Returns
    -------
    res : SimulationResult
    """
    grad_batch, sample_batch = make_sgd(param, Phi, y, batch_size)
    obs = {name: (lambda x, f=f: f(param.forward(x))) for name, f in observables.items()}
    obs["train_loss"] = lambda x: mse_and_grad_w(param.forward(x), Phi, y)[0]
    return C.run_sgd(grad_batch, sample_batch, x0, lr=lr, n_steps=n_steps, rng=rng,
                     record_every=record_every, observables=obs, progress=progress,
                     results=results, label=label)
