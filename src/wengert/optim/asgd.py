"""ASGD: stochastic gradient descent with a decaying rate and a running average of the
iterates (Polyak-Ruppert averaging)."""
import numpy as np

from .flags import refuse_differentiable
from .optimizer import Optimizer, axpy, check_nonnegative, decayed_grad


def asgd(param, grad, state, work, *, lr, lambd, alpha, t0, weight_decay, maximize):
    """One ASGD step on arrays, in place (PyTorch's equations), at step t = 1, 2, ...::

        g = g + weight_decay * p                 (g negated when maximize)
        p = p * (1 - lambd * eta) - eta * g      (eta starts at lr)
        ax = ax + mu * (p - ax)                  (ax = p while mu = 1)
        eta = lr / (1 + lambd * lr * t)^alpha
        mu = 1 / max(1, t - t0)

    ``state`` holds "step", "eta" and "mu" (floats) and "ax", the average of the iterates
    since step t0 (read it to evaluate the averaged model); ``work`` is two scratch arrays
    of p's shape."""
    d, tmp = work
    if not state:
        state.update(step=0, eta=float(lr), mu=1.0, ax=np.zeros_like(param))
    state["step"] += 1
    t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
    g = decayed_grad(param, grad, d, tmp, lr=lr, weight_decay=weight_decay, maximize=maximize)
    param *= 1 - lambd * eta
    axpy(param, -eta, g, tmp)
    if mu != 1:
        np.subtract(param, ax, out=tmp)
        axpy(ax, mu, tmp, tmp)
    else:
        np.copyto(ax, param)
    state["eta"] = lr / (1 + lambd * lr * t) ** alpha
    state["mu"] = 1 / max(1, t - t0)


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky; Bottou's schedule): SGD with a rate decaying as
    1 / (1 + lambd lr t)^alpha and an L2-like shrink by lambd, which keeps in the state
    ("ax") the average of the iterates from step t0 on; see :func:`asgd`. ``ASGD(params,
    lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None, maximize=False,
    differentiable=False, capturable=False)``. ``foreach`` and ``capturable`` are accepted
    and ignored, ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`).

    "eta" and "mu" are Python floats (float64). PyTorch keeps them in scalar tensors of its
    default dtype, float32 unless ``torch.set_default_dtype`` says float64, so its steps
    differ from these in about the 8th significant digit then."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_nonnegative("ASGD", lr=lr, weight_decay=weight_decay)
        refuse_differentiable("ASGD", differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, param, grad, state, work, group):
        asgd(param, grad, state, work, lr=group["lr"], lambd=group["lambd"],
             alpha=group["alpha"], t0=group["t0"], weight_decay=group["weight_decay"],
             maximize=group["maximize"])
