"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from ..errors import ArgumentError
from ..sparse import scatter_add_rows
from .flags import refuse_differentiable, refuse_fused_sparse, refuse_fused_with_foreach
from .optimizer import Optimizer, axpy, check_nonnegative


def sgd(param, grad, state, work, *, lr, momentum, dampening, nesterov, weight_decay,
        maximize):
    """One SGD step on arrays, in place (PyTorch's equations)::

        d = g + weight_decay * p               (g negated when maximize)
        b = d                                  first step, when momentum > 0
        b = momentum * b + (1 - dampening) * d later steps
        d = d + momentum * b  if nesterov  else  b
        p = p - lr * d

    ``state`` holds "momentum_buffer"; ``work`` is two scratch arrays of p's shape."""
    d, tmp = work
    if weight_decay:
        np.multiply(param, weight_decay, out=d)
        (np.subtract if maximize else np.add)(d, grad, out=d)
    elif maximize:
        np.negative(grad, out=d)
    else:
        d = grad  # read only
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.array(d, copy=True)
        else:
            buf *= momentum
            axpy(buf, 1 - dampening, d, tmp)
        if nesterov:
            if d is grad:
                d = np.multiply(buf, momentum, out=work[0])
                d += grad
            else:
                axpy(d, momentum, buf, tmp)
        else:
            d = buf
    axpy(param, -lr, d, tmp)


def sgd_sparse(param, grad, *, lr, maximize):
    """Plain SGD on the rows of a row-sparse gradient only: ``p[rows] -= lr * g[rows]``
    (repeated rows add up); the other rows are not touched."""
    # float(lr): a NumPy float64 lr would make the update float64 and the add 6x slower
    scatter_add_rows(param, grad.indices, grad.values * float(lr if maximize else -lr))


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight
    decay; see :func:`sgd` for the equations. ``SGD(params, lr=1e-3, momentum=0,
    dampening=0, weight_decay=0, nesterov=False, *, maximize=False, foreach=None,
    differentiable=False, fused=None)``; ``foreach`` and ``fused`` are accepted and ignored
    (not both True), ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`).

    Row-sparse gradients (``Embedding(sparse=True)``) are applied to their rows only; this
    needs momentum = 0 and weight_decay = 0, which would otherwise change every row, and
    fused unset, as in PyTorch. A group loaded from a state dict without "fused" gets the
    constructor's None, where PyTorch's SGD alone fills in False (both mean unfused)."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_nonnegative("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ArgumentError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got "
                                f"momentum={momentum}, dampening={dampening}")
        refuse_differentiable("SGD", differentiable)
        refuse_fused_with_foreach("SGD", fused, foreach)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, param, grad, state, work, group):
        sgd(param, grad, state, work, lr=group["lr"], momentum=group["momentum"],
            dampening=group["dampening"], nesterov=group["nesterov"],
            weight_decay=group["weight_decay"], maximize=group["maximize"])

    def _sparse_update(self, param, grad, state, group):
        refuse_fused_sparse("SGD", group["fused"])
        if group["momentum"] or group["weight_decay"]:
            raise ArgumentError(
                f"SGD: a sparse gradient (Embedding(sparse=True)) needs momentum=0 and "
                f"weight_decay=0 (got {group['momentum']} and {group['weight_decay']}), which "
                "would otherwise change every row. Hint: use optim.SparseAdam or a dense "
                "Embedding")
        sgd_sparse(param, grad, lr=group["lr"], maximize=group["maximize"])
