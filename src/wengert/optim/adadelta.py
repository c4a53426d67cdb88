"""Adadelta: steps whose units come from a running mean of past squared steps."""
import numpy as np

from ..errors import ArgumentError
from .flags import refuse_differentiable
from .optimizer import Optimizer, axpy, check_nonnegative, decayed_grad


def adadelta(param, grad, state, work, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step on arrays, in place (PyTorch's equations)::

        g = g + weight_decay * p                 (g negated when maximize)
        s = rho * s + (1 - rho) * g^2
        x = sqrt(u + eps) / sqrt(s + eps) * g
        u = rho * u + (1 - rho) * x^2
        p = p - lr * x

    ``state`` holds "step", "square_avg" (s) and "acc_delta" (u); ``work`` is three scratch
    arrays of p's shape."""
    d, std, delta = work
    if not state:
        state.update(step=0, square_avg=np.zeros_like(param), acc_delta=np.zeros_like(param))
    state["step"] += 1
    g = decayed_grad(param, grad, d, std, lr=lr, weight_decay=weight_decay, maximize=maximize)
    square_avg, acc_delta = state["square_avg"], state["acc_delta"]
    square_avg *= rho
    np.multiply(g, g, out=std)
    axpy(square_avg, 1 - rho, std, std)
    np.add(square_avg, eps, out=std)
    np.sqrt(std, out=std)
    np.add(acc_delta, eps, out=delta)
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    acc_delta *= rho
    np.multiply(delta, delta, out=std)
    axpy(acc_delta, 1 - rho, std, std)
    axpy(param, -lr, delta, std)


class Adadelta(Optimizer):
    """Adadelta (Zeiler): each coordinate's step is g scaled by the ratio of the root mean
    squares of its past steps and of its gradients, so the step has the parameter's units;
    see :func:`adadelta`. ``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0,
    foreach=None, *, capturable=False, maximize=False, differentiable=False)``; ``lr``
    scales the step (1 is the paper's method). ``foreach`` and ``capturable`` are accepted
    and ignored, ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`)."""

    n_work = 3

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_nonnegative("Adadelta", lr=lr)
        if not 0 <= rho <= 1:
            raise ArgumentError(f"Adadelta: invalid rho={rho}; it must be in [0, 1]")
        check_nonnegative("Adadelta", eps=eps, weight_decay=weight_decay)
        refuse_differentiable("Adadelta", differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _update(self, param, grad, state, work, group):
        adadelta(param, grad, state, work, lr=group["lr"], rho=group["rho"], eps=group["eps"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"])
