"""Backprop by hand: a one-hidden-layer classifier, its gradients and optimizers in NumPy.

This package is teaching material. Everything is NumPy (torch is only used by the tests, to
check the hand-written derivatives against autograd), and the code follows the derivation line
by line.

Notation (the course's, row-major: one example per row)::

    X   (t, f)   a batch of t examples with f features
    Y   (t, m)   one-hot labels over m classes
    H   (f, d)   input-to-hidden weights,  b_H (d,)
    U   (d, m)   hidden-to-output weights, b_U (m,)

    K = X H + b_H        (t, d)   hidden pre-activations
    S = ReLU(K)          (t, d)   hidden activations
    Z = S U + b_U        (t, m)   logits
    O = softmax(Z)       (t, m)   class probabilities, row by row
    l_i = -sum_j Y_ij log O_ij    per-example cross-entropy

Loss convention: the loss that is differentiated is the **sum** of the per-example
cross-entropies, ``l = sum_i l_i`` (not the mean). This is what makes ``dl/dZ = O - Y`` hold
exactly, as the course writes it; with the mean, every gradient below would carry an extra
factor ``1/t`` (``dl/dZ = (O - Y) / t``), which is equivalent to dividing the learning rate by t.
Note that ``torch.nn.functional.cross_entropy`` defaults to the mean (``reduction="mean"``).

The backward pass, every partial derivative written out (``*`` is element-wise)::

    dl/dZ   = O - Y                  (t, m)
    dl/dU   = S^T dl/dZ              (d, m)
    dl/db_U = sum over rows of dl/dZ (m,)
    dl/dS   = dl/dZ U^T              (t, d)
    dl/dK   = dl/dS * 1[K > 0]       (t, d)
    dl/dH   = X^T dl/dK              (f, d)
    dl/db_H = sum over rows of dl/dK (d,)

Public names:

* :class:`Params`, :class:`Cache`, :class:`Grads`, :func:`forward`, :func:`losses`,
  :func:`backward`, :func:`sgd_step`, :func:`one_hot`, :func:`init_params`
* :func:`worked_example` / :func:`format_worked_example`: the small example printed by
  ``ftlab scratch --example``
* :class:`SGDMomentum`, :class:`Adam`: from-scratch optimizers with ``torch.optim`` semantics
* :func:`xavier_uniform`, :func:`uniform_inv_sqrt`: the two initializations and their variances
"""

from __future__ import annotations

from ftlab.scratch._example import WorkedExample, format_worked_example, worked_example
from ftlab.scratch._init import uniform_inv_sqrt, xavier_uniform
from ftlab.scratch._mlp import (
    Cache,
    Grads,
    Params,
    backward,
    forward,
    init_params,
    log_softmax,
    losses,
    one_hot,
    sgd_step,
    softmax,
)
from ftlab.scratch._optim import Adam, SGDMomentum

__all__ = [
    "Adam",
    "Cache",
    "Grads",
    "Params",
    "SGDMomentum",
    "WorkedExample",
    "backward",
    "format_worked_example",
    "forward",
    "init_params",
    "log_softmax",
    "losses",
    "one_hot",
    "sgd_step",
    "softmax",
    "uniform_inv_sqrt",
    "worked_example",
    "xavier_uniform",
]
