"""Adam and AdamW (Adam with decoupled weight decay)."""
import math

import numpy as np

from .flags import refuse_differentiable, refuse_fused_with_foreach
from .optimizer import (Optimizer, adam_moments, check_betas, check_nonnegative,
                        decayed_grad)


def adam(param, grad, state, work, *, lr, beta1, beta2, eps, weight_decay, amsgrad,
         maximize, decoupled_weight_decay):
    """One Adam step on arrays, in place (PyTorch's equations), at step t = 1, 2, ...::

        g = g + weight_decay * p                  (decoupled: p *= 1 - lr * wd instead)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2         (amsgrad: vmax = max(vmax, v), used below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    (g negated when maximize.) ``state`` holds "step", "exp_avg" (m), "exp_avg_sq" (v) and
    with amsgrad "max_exp_avg_sq"; ``work`` is two scratch arrays of p's shape."""
    d, tmp = work
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        if amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(param)
    state["step"] += 1
    t = state["step"]
    g = decayed_grad(param, grad, d, tmp, lr=lr, weight_decay=weight_decay, maximize=maximize,
                     decoupled=decoupled_weight_decay)
    m, v = adam_moments(state, g, beta1, beta2, tmp)
    if amsgrad:
        v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
    denom = np.sqrt(v, out=tmp)
    denom /= math.sqrt(1 - beta2 ** t)
    denom += eps
    step = np.divide(m, denom, out=tmp)
    step *= lr / (1 - beta1 ** t)
    param -= step


class Adam(Optimizer):
    """Adam (Kingma & Ba): per-coordinate steps scaled by running averages of the gradient
    and its square, bias-corrected; see :func:`adam`. ``Adam(params, lr=1e-3,
    betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None,
    maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)``; ``weight_decay`` is an L2 term added to the gradient,
    or with ``decoupled_weight_decay=True`` a shrink of the parameters as :class:`AdamW`'s
    (the same steps and state). ``foreach``, ``capturable`` and ``fused`` are accepted and
    ignored (fused and foreach not both True), ``differentiable=True`` is refused (see
    :mod:`wengert.optim.flags`)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        name = type(self).__name__
        check_nonnegative(name, lr=lr, eps=eps)
        check_betas(name, betas)
        check_nonnegative(name, weight_decay=weight_decay)
        refuse_differentiable(name, differentiable)
        refuse_fused_with_foreach(name, fused, foreach)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param, grad, state, work, group):
        beta1, beta2 = group["betas"]
        adam(param, grad, state, work, lr=group["lr"], beta1=beta1, beta2=beta2,
             eps=group["eps"], weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
             maximize=group["maximize"],
             decoupled_weight_decay=group["decoupled_weight_decay"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): each step first shrinks the
    parameters, ``p *= 1 - lr * weight_decay``, then takes the Adam step without the decay
    in the gradient; see :func:`adam`. ``AdamW(params, lr=1e-3, betas=(0.9, 0.999),
    eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False, foreach=None,
    capturable=False, differentiable=False, fused=None)``: ``Adam(...,
    decoupled_weight_decay=True)`` with another default decay, whose parameter groups hold
    ``decoupled_weight_decay=True``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """As :meth:`Optimizer.load_state_dict`, but the groups always keep
        ``decoupled_weight_decay=True``, even when loaded from an Adam's state dict, as
        PyTorch's ``AdamW.__setstate__`` keeps them."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
