"""RMSprop: steps divided by a running root-mean-square of the gradient."""
import numpy as np

from .flags import refuse_differentiable
from .optimizer import Optimizer, axpy, check_nonnegative


def rmsprop(param, grad, state, work, *, lr, alpha, eps, weight_decay, momentum, centered,
            maximize):
    """One RMSprop step on arrays, in place (PyTorch's equations)::

        g = g + weight_decay * p                    (g negated when maximize)
        s = alpha * s + (1 - alpha) * g^2
        a = sqrt(s) + eps;  centered: m = alpha * m + (1 - alpha) * g, a = sqrt(s - m^2) + eps
        b = momentum * b + g / a;  p = p - lr * b   if momentum > 0
        p = p - lr * g / a                          otherwise

    ``state`` holds "step", "square_avg" (s), "grad_avg" (m), "momentum_buffer" (b);
    ``work`` is two scratch arrays of p's shape."""
    d, tmp = work
    if not state:
        state.update(step=0, square_avg=np.zeros_like(param))
        if momentum > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if centered:
            state["grad_avg"] = np.zeros_like(param)
    state["step"] += 1
    g = np.negative(grad, out=d) if maximize else grad
    if weight_decay:
        np.multiply(param, weight_decay, out=tmp)
        g = np.add(g, tmp, out=d)
    square_avg = state["square_avg"]
    square_avg *= alpha
    np.multiply(g, g, out=tmp)
    axpy(square_avg, 1 - alpha, tmp, tmp)
    if centered:
        grad_avg = state["grad_avg"]
        grad_avg *= alpha
        axpy(grad_avg, 1 - alpha, g, tmp)
        np.multiply(grad_avg, grad_avg, out=tmp)
        avg = np.subtract(square_avg, tmp, out=tmp)
        np.sqrt(avg, out=avg)
    else:
        avg = np.sqrt(square_avg, out=tmp)
    avg += eps
    step = np.divide(g, avg, out=tmp)
    if momentum > 0:
        buf = state["momentum_buffer"]
        buf *= momentum
        buf += step
        step = buf
    axpy(param, -lr, step, tmp)


class RMSprop(Optimizer):
    """RMSprop (Hinton): divide each coordinate's step by the root of a running mean of its
    squared gradients; see :func:`rmsprop`. ``RMSprop(params, lr=1e-2, alpha=0.99,
    eps=1e-8, weight_decay=0, momentum=0, centered=False, capturable=False, foreach=None,
    maximize=False, differentiable=False)`` (all positional, as PyTorch's); ``capturable``
    and ``foreach`` are accepted and ignored, ``differentiable=True`` is refused (see
    :mod:`wengert.optim.flags`)."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_nonnegative("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                          momentum=momentum)
        refuse_differentiable("RMSprop", differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _update(self, param, grad, state, work, group):
        rmsprop(param, grad, state, work, lr=group["lr"], alpha=group["alpha"],
                eps=group["eps"], weight_decay=group["weight_decay"],
                momentum=group["momentum"], centered=group["centered"],
                maximize=group["maximize"])
