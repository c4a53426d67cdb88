"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""
import numpy as np

from .flags import refuse_differentiable
from .optimizer import Optimizer, axpy, check_betas, check_nonnegative, decayed_grad


def adamax(param, grad, state, work, *, lr, beta1, beta2, eps, weight_decay, maximize):
    """One Adamax step on arrays, in place (PyTorch's equations), at step t = 1, 2, ...::

        g = g + weight_decay * p                 (g negated when maximize)
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    ``state`` holds "step", "exp_avg" (m) and "exp_inf" (u); ``work`` is two scratch arrays
    of p's shape."""
    d, tmp = work
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_inf=np.zeros_like(param))
    state["step"] += 1
    g = decayed_grad(param, grad, d, tmp, lr=lr, weight_decay=weight_decay, maximize=maximize)
    m, u = state["exp_avg"], state["exp_inf"]
    m *= beta1
    axpy(m, 1 - beta1, g, tmp)
    u *= beta2
    np.abs(g, out=tmp)
    tmp += eps
    np.maximum(u, tmp, out=u)
    np.divide(m, u, out=tmp)
    axpy(param, -lr / (1 - beta1 ** state["step"]), tmp, tmp)


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, section 7.1): Adam whose second moment is a decaying maximum of
    |g| (the infinity norm) rather than a mean of g^2; see :func:`adamax`. ``Adamax(params,
    lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *, maximize=False,
    differentiable=False, capturable=False)``; ``foreach`` and ``capturable`` are accepted
    and ignored, ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`)."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_nonnegative("Adamax", lr=lr, eps=eps)
        check_betas("Adamax", betas)
        check_nonnegative("Adamax", weight_decay=weight_decay)
        refuse_differentiable("Adamax", differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, param, grad, state, work, group):
        beta1, beta2 = group["betas"]
        adamax(param, grad, state, work, lr=group["lr"], beta1=beta1, beta2=beta2,
               eps=group["eps"], weight_decay=group["weight_decay"],
               maximize=group["maximize"])
