"""NAdam: Adam with Nesterov momentum (Dozat), with its momentum schedule."""
import numpy as np

from .flags import refuse_differentiable
from .optimizer import (Optimizer, adam_moments, axpy, check_betas, check_nonnegative,
                        decayed_grad)


def nadam(param, grad, state, work, *, lr, beta1, beta2, eps, weight_decay, momentum_decay,
          decoupled_weight_decay, maximize):
    """One NAdam step on arrays, in place (PyTorch's equations), at step t = 1, 2, ...::

        g = g + weight_decay * p      (g negated when maximize; decoupled: p *= 1 - lr * wd)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))
        P = P * mu_t                               (P, the product of the mu's, starts at 1)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        a = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P) * g / a
              - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / a

    ``state`` holds "step", "mu_product" (P, a float), "exp_avg" (m) and "exp_avg_sq" (v);
    ``work`` is three scratch arrays of p's shape."""
    d, tmp, a = work
    if not state:
        state.update(step=0, mu_product=1.0, exp_avg=np.zeros_like(param),
                     exp_avg_sq=np.zeros_like(param))
    state["step"] += 1
    t = state["step"]
    g = decayed_grad(param, grad, d, tmp, lr=lr, weight_decay=weight_decay, maximize=maximize,
                     decoupled=decoupled_weight_decay)
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_product = state["mu_product"] = state["mu_product"] * mu
    m, v = adam_moments(state, g, beta1, beta2, tmp)
    np.divide(v, 1 - beta2 ** t, out=a)
    np.sqrt(a, out=a)
    a += eps
    np.divide(g, a, out=tmp)
    axpy(param, -lr * (1 - mu) / (1 - mu_product), tmp, tmp)
    np.divide(m, a, out=tmp)
    axpy(param, -lr * mu_next / (1 - mu_product * mu_next), tmp, tmp)


class NAdam(Optimizer):
    """NAdam (Dozat): Adam whose first moment looks one step ahead (Nesterov momentum), with
    the momentum warmed up by ``momentum_decay``; see :func:`nadam`. ``NAdam(params,
    lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
    differentiable=False)``; ``decoupled_weight_decay=True`` shrinks the parameters as AdamW
    does (NAdamW). ``foreach`` and ``capturable`` are accepted and ignored,
    ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`).

    The momentum product "mu_product" is a Python float (float64). PyTorch keeps it in a
    scalar tensor of its default dtype, float32 unless ``torch.set_default_dtype`` says
    float64, so its steps differ from these in about the 7th significant digit then."""

    n_work = 3

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_nonnegative("NAdam", lr=lr, eps=eps)
        check_betas("NAdam", betas)
        check_nonnegative("NAdam", weight_decay=weight_decay, momentum_decay=momentum_decay)
        refuse_differentiable("NAdam", differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update(self, param, grad, state, work, group):
        beta1, beta2 = group["betas"]
        nadam(param, grad, state, work, lr=group["lr"], beta1=beta1, beta2=beta2,
              eps=group["eps"], weight_decay=group["weight_decay"],
              momentum_decay=group["momentum_decay"],
              decoupled_weight_decay=group["decoupled_weight_decay"],
              maximize=group["maximize"])
