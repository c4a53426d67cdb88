"""RAdam: Adam whose adaptive step is switched on only once its variance is tractable."""
import math

import numpy as np

from .flags import refuse_differentiable
from .optimizer import (Optimizer, adam_moments, axpy, check_betas, check_nonnegative,
                        decayed_grad)


def radam(param, grad, state, work, *, lr, beta1, beta2, eps, weight_decay,
          decoupled_weight_decay, maximize):
    """One RAdam step on arrays, in place (PyTorch's equations), at step t = 1, 2, ...::

        g = g + weight_decay * p      (g negated when maximize; decoupled: p *= 1 - lr * wd)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p = p - lr * m / (1 - beta1^t) * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
                                                                    if rho_t > 5
        p = p - lr * m / (1 - beta1^t)                              otherwise

    ``state`` holds "step", "exp_avg" (m) and "exp_avg_sq" (v); ``work`` is two scratch
    arrays of p's shape."""
    d, tmp = work
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    state["step"] += 1
    t = state["step"]
    g = decayed_grad(param, grad, d, tmp, lr=lr, weight_decay=weight_decay, maximize=maximize,
                     decoupled=decoupled_weight_decay)
    m, v = adam_moments(state, g, beta1, beta2, tmp)
    bias_correction1, bias_correction2 = 1 - beta1 ** t, 1 - beta2 ** t
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2
    if rho_t > 5:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                         / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        np.sqrt(v, out=tmp)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        axpy(param, -lr * rect * math.sqrt(bias_correction2) / bias_correction1, tmp, tmp)
    else:  # too few steps for the variance of the adaptive rate: plain momentum
        axpy(param, -lr / bias_correction1, m, tmp)


class RAdam(Optimizer):
    """RAdam (Liu et al.): Adam that takes plain momentum steps while the variance of its
    adaptive rate is intractable (rho_t <= 5, the first few steps), then rectified adaptive
    steps; see :func:`radam`. ``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
    weight_decay=0, decoupled_weight_decay=False, *, foreach=None, maximize=False,
    capturable=False, differentiable=False)``; ``decoupled_weight_decay=True`` shrinks the
    parameters as AdamW does. ``foreach`` and ``capturable`` are accepted and ignored,
    ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_nonnegative("RAdam", lr=lr, eps=eps)
        check_betas("RAdam", betas)
        check_nonnegative("RAdam", weight_decay=weight_decay)
        refuse_differentiable("RAdam", differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      differentiable=differentiable))

    def _update(self, param, grad, state, work, group):
        beta1, beta2 = group["betas"]
        radam(param, grad, state, work, lr=group["lr"], beta1=beta1, beta2=beta2,
              eps=group["eps"], weight_decay=group["weight_decay"],
              decoupled_weight_decay=group["decoupled_weight_decay"],
              maximize=group["maximize"])
