"""SparseAdam: Adam whose moments are updated only on the rows a sparse gradient holds."""
import math

import numpy as np

from ..errors import ArgumentError, DTypeError
from .optimizer import Optimizer, check_betas


def sparse_adam(param, grad, state, *, lr, beta1, beta2, eps, maximize):
    """One lazy Adam step on the rows of a row-sparse gradient (repeated rows summed first),
    in place (PyTorch's equations), at step t = 1, 2, ...; other rows are not touched::

        m[rows] = beta1 * m[rows] + (1 - beta1) * g
        v[rows] = beta2 * v[rows] + (1 - beta2) * g^2
        p[rows] -= lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[rows] / (sqrt(v[rows]) + eps)

    ``state`` holds "step", "exp_avg" (m) and "exp_avg_sq" (v)."""
    if not state:
        state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    state["step"] += 1
    t = state["step"]
    grad = grad.coalesce()
    rows, g = grad.indices, grad.values
    if maximize:
        g = -g
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m_rows = m[rows]
    m_rows += (g - m_rows) * (1 - beta1)
    m[rows] = m_rows
    v_rows = v[rows]
    v_rows += (g * g - v_rows) * (1 - beta2)
    v[rows] = v_rows
    step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    param[rows] -= step_size * m_rows / (np.sqrt(v_rows) + eps)


class SparseAdam(Optimizer):
    """Adam for row-sparse gradients (``Embedding(sparse=True)``): only the rows present in
    a step have their moments and values updated ("lazy" Adam); see :func:`sparse_adam`.
    ``SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False)``. Dense
    gradients are refused: use :class:`Adam` for those parameters."""

    n_work = 0  # row-sized temporaries only: no scratch of the (large) table's size

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not (lr > 0 and eps > 0):  # PyTorch's SparseAdam, unlike Adam, refuses 0 too
            raise ArgumentError(f"SparseAdam: invalid lr={lr} or eps={eps}; both must be > 0")
        check_betas("SparseAdam", betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize))

    def _update(self, param, grad, state, work, group):
        raise DTypeError("SparseAdam takes sparse gradients only (from Embedding(sparse=True)), "
                         f"got a dense one for a parameter of shape {param.shape}. Hint: use "
                         "optim.Adam for dense parameters")

    def _sparse_update(self, param, grad, state, group):
        beta1, beta2 = group["betas"]
        sparse_adam(param, grad, state, lr=group["lr"], beta1=beta1, beta2=beta2,
                    eps=group["eps"], maximize=group["maximize"])
