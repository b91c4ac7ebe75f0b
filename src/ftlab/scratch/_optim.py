"""SGD with momentum and Adam from scratch, on dicts of NumPy arrays.

Both follow ``torch.optim``'s semantics exactly (the tests run them side by side with
``torch.optim.SGD`` / ``torch.optim.Adam`` on the same gradients), and both are pure: ``step``
returns new arrays and leaves its arguments untouched. What they remember between steps (the
velocity, the moment estimates, the step count) lives in the optimizer object, one entry per
parameter name.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Adam", "SGDMomentum"]

Arrays = dict[str, np.ndarray]


def _check_same_keys(params: Arrays, grads: Arrays) -> None:
    if params.keys() != grads.keys():
        raise ValueError(f"params and grads must have the same names, but got params "
                         f"{sorted(params)} and grads {sorted(grads)}.")


def _check_nonneg(**values: float) -> None:
    for name, value in values.items():
        if not value >= 0.0:  # also refuses NaN
            raise ValueError(f"`{name} >= 0` must hold, but got {name}={value!r}.")


class SGDMomentum:
    """Stochastic gradient descent with (heavy-ball or Nesterov) momentum, as ``torch.optim.SGD``.

    For each parameter ``p`` with gradient ``g``, one step is::

        g <- g + weight_decay * p                 (L2 penalty folded into the gradient)
        v <- mu * v + (1 - dampening) * g         (v <- g on the first step)
        g <- g + mu * v   if nesterov   else   v
        p <- p - lr * g

    This is PyTorch's convention, ``v = mu v + g; p -= lr v``, which differs from the
    textbook's ``v = mu v - lr g; p += v`` only when the learning rate changes during training
    (the velocity here is in gradient units, not step units). On the first step the velocity is
    the gradient itself, as in torch; with ``dampening=0`` (the default) that is the same as
    starting from ``v = 0``.

    Args:
        lr: the learning rate.
        momentum: ``mu``, the velocity's decay (0 gives plain SGD).
        dampening: scales the new gradient's share of the velocity by ``1 - dampening``.
        weight_decay: the L2 coefficient added to every gradient.
        nesterov: look ahead: step along ``g + mu * v`` instead of ``v``.

    Raises:
        ValueError: a negative hyperparameter, or Nesterov without momentum or with dampening
            (torch refuses the same).
    """

    def __init__(self, lr: float, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False) -> None:
        _check_nonneg(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError(f"Nesterov momentum needs momentum > 0 and dampening = 0, but got "
                             f"momentum={momentum!r}, dampening={dampening!r}.")
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.velocity: Arrays = {}

    def step(self, params: Arrays, grads: Arrays) -> Arrays:
        """One update of every parameter.

        Args:
            params: the current parameters by name (left unchanged).
            grads: their gradients, same names and shapes.

        Returns:
            The updated parameters.
        """
        _check_same_keys(params, grads)
        mu = self.momentum
        new: Arrays = {}
        for name, p in params.items():
            g = grads[name] + self.weight_decay * p
            if mu != 0.0:
                if name not in self.velocity:
                    v = g.copy()  # first step: v = g
                else:
                    v = mu * self.velocity[name] + (1.0 - self.dampening) * g
                self.velocity[name] = v
                g = g + mu * v if self.nesterov else v
            new[name] = p - self.lr * g
        return new


class Adam:
    """Adam (Kingma & Ba, 2015) as in Goodfellow et al., *Deep Learning*, Algorithm 8.7.

    With ``rho1, rho2 = betas``, ``delta = eps`` and the step count ``t`` (1 on the first
    step), one step is, for each parameter ``p`` with gradient ``g``::

        g <- g + weight_decay * p                  (L2, as torch.optim.Adam; not AdamW)
        s <- rho1 * s + (1 - rho1) * g             biased first moment (mean of g)
        r <- rho2 * r + (1 - rho2) * g * g         biased second moment (mean of g^2)
        s_hat = s / (1 - rho1^t)                   bias corrections: s and r start at 0,
        r_hat = r / (1 - rho2^t)                   so early averages are too small
        p <- p - lr * s_hat / (sqrt(r_hat) + delta)

    ``delta`` is added after the square root of the *bias-corrected* second moment, which is
    also where ``torch.optim.Adam`` adds ``eps``: torch computes
    ``(sqrt(r) / sqrt(1 - rho2^t) + eps)`` = ``sqrt(r_hat) + eps``, so the two agree.

    Args:
        lr: the step size (Goodfellow's epsilon).
        betas: ``(rho1, rho2)``, the moment estimates' decay rates, each in ``[0, 1)``.
        eps: ``delta``, the small constant for numerical stability.
        weight_decay: the L2 coefficient added to every gradient.

    Raises:
        ValueError: a negative hyperparameter, or a beta outside ``[0, 1)``.
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        _check_nonneg(lr=lr, eps=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"`0 <= betas[{i}] < 1` must hold, but got betas={betas!r}.")
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.rho1, self.rho2 = betas
        self.t = 0
        self.s: Arrays = {}
        self.r: Arrays = {}

    def step(self, params: Arrays, grads: Arrays) -> Arrays:
        """One update of every parameter.

        Args:
            params: the current parameters by name (left unchanged).
            grads: their gradients, same names and shapes.

        Returns:
            The updated parameters.
        """
        _check_same_keys(params, grads)
        self.t += 1
        rho1, rho2, t = self.rho1, self.rho2, self.t
        new: Arrays = {}
        for name, p in params.items():
            g = grads[name] + self.weight_decay * p
            s = rho1 * self.s.get(name, np.zeros_like(p)) + (1.0 - rho1) * g
            r = rho2 * self.r.get(name, np.zeros_like(p)) + (1.0 - rho2) * g * g
            self.s[name], self.r[name] = s, r
            s_hat = s / (1.0 - rho1**t)
            r_hat = r / (1.0 - rho2**t)
            new[name] = p - self.lr * s_hat / (np.sqrt(r_hat) + self.eps)
        return new
