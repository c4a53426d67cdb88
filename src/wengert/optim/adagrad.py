"""Adagrad: steps divided by the root of the sum of all past squared gradients."""
import numpy as np

from ..errors import ArgumentError
from .flags import refuse_differentiable, refuse_fused_sparse, refuse_fused_with_foreach
from .optimizer import Optimizer, check_nonnegative, decayed_grad


def _start(state, param, initial_accumulator_value):
    """Fill an empty state: "step" 0 and "sum" at initial_accumulator_value."""
    if not state:
        state.update(step=0, sum=np.full_like(param, initial_accumulator_value))


def adagrad(param, grad, state, work, *, lr, lr_decay, weight_decay, eps, maximize,
            initial_accumulator_value=0.0):
    """One Adagrad step on arrays, in place (PyTorch's equations), at step t = 1, 2, ...::

        g = g + weight_decay * p         (g negated when maximize)
        s = s + g^2                      (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    ``state`` holds "step" and "sum" (s); ``work`` is two scratch arrays of p's shape."""
    d, tmp = work
    _start(state, param, initial_accumulator_value)
    state["step"] += 1
    g = decayed_grad(param, grad, d, tmp, lr=lr, weight_decay=weight_decay, maximize=maximize)
    total = state["sum"]
    total += np.multiply(g, g, out=tmp)
    std = np.sqrt(total, out=tmp)
    std += eps
    step = np.divide(g, std, out=tmp)
    step *= lr / (1 + (state["step"] - 1) * lr_decay)
    param -= step


def adagrad_sparse(param, grad, state, *, lr, lr_decay, eps, maximize,
                   initial_accumulator_value=0.0):
    """Adagrad on the rows of a row-sparse gradient only (repeated rows summed first):
    ``s[rows] += g^2; p[rows] -= clr * g / (sqrt(s[rows]) + eps)``; other rows untouched."""
    _start(state, param, initial_accumulator_value)
    state["step"] += 1
    grad = grad.coalesce()
    rows, g = grad.indices, grad.values
    total = state["sum"]
    total[rows] += g * g
    clr = lr / (1 + (state["step"] - 1) * lr_decay)
    param[rows] += (g / (np.sqrt(total[rows]) + eps)) * (clr if maximize else -clr)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.): each coordinate's step shrinks with the root of its summed
    squared gradients; see :func:`adagrad`. ``Adagrad(params, lr=1e-2, lr_decay=0,
    weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None, *,
    maximize=False, differentiable=False, fused=None)``; ``foreach`` and ``fused`` are
    accepted and ignored (not both True), ``differentiable=True`` is refused (see
    :mod:`wengert.optim.flags`). Row-sparse gradients update only their rows (weight_decay
    must then be 0 and fused unset, as in PyTorch).

    As PyTorch's, the state ("step" 0, "sum") is filled when constructing. Unlike PyTorch's,
    which starts every sum at the constructor's ``initial_accumulator_value``, a parameter
    group's own ``initial_accumulator_value`` is used for its sums."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_nonnegative("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, eps=eps)
        refuse_differentiable("Adagrad", differentiable)
        refuse_fused_with_foreach("Adagrad", fused, foreach)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))
        # PyTorch fills the state when constructing, so a state dict saved before the first
        # step already holds it (parameters added later start at their first step, as there)
        for group in self.param_groups:
            for p in group["params"]:
                _start(self.state.setdefault(p, {}), p.data, group["initial_accumulator_value"])

    def _update(self, param, grad, state, work, group):
        adagrad(param, grad, state, work, lr=group["lr"], lr_decay=group["lr_decay"],
                weight_decay=group["weight_decay"], eps=group["eps"],
                maximize=group["maximize"],
                initial_accumulator_value=group["initial_accumulator_value"])

    def _sparse_update(self, param, grad, state, group):
        refuse_fused_sparse("Adagrad", group["fused"])
        if group["weight_decay"]:
            raise ArgumentError(
                f"Adagrad: a sparse gradient (Embedding(sparse=True)) needs weight_decay=0 "
                f"(got {group['weight_decay']}), which would otherwise change every row")
        adagrad_sparse(param, grad, state, lr=group["lr"], lr_decay=group["lr_decay"],
                       eps=group["eps"], maximize=group["maximize"],
                       initial_accumulator_value=group["initial_accumulator_value"])
