"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and shrink
when it flips; only the gradient's sign moves the parameters."""
import numpy as np

from ..errors import ArgumentError
from .flags import refuse_differentiable
from .optimizer import Optimizer, check_nonnegative


def rprop(param, grad, state, work, *, lr, etaminus, etaplus, step_size_min, step_size_max,
          maximize):
    """One Rprop step on arrays, in place (PyTorch's equations)::

        f = etaplus where g * g_prev > 0, etaminus where < 0, 1 where = 0
        s = clip(s * f, step_size_min, step_size_max)     (s starts at lr)
        g = 0 where g * g_prev < 0                        (no move after a sign flip)
        p = p - sign(g) * s;   g_prev = g

    (g negated when maximize.) ``state`` holds "step", "prev" (g_prev, starting at 0) and
    "step_size" (s); ``work`` is two scratch arrays of p's shape."""
    factor, g = work
    if not state:
        state.update(step=0, prev=np.zeros_like(param), step_size=np.full_like(param, lr))
    state["step"] += 1
    if maximize:
        np.negative(grad, out=g)
    else:
        g = grad
    prev, step_size = state["prev"], state["step_size"]
    np.multiply(g, prev, out=factor)
    np.sign(factor, out=factor)
    flipped = factor < 0
    factor[factor > 0] = etaplus
    factor[flipped] = etaminus
    factor[factor == 0] = 1
    step_size *= factor
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    np.copyto(prev, g)
    prev[flipped] = 0
    np.sign(prev, out=factor)
    factor *= step_size
    param -= factor


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun, the Rprop- variant without weight backtracking): each
    coordinate moves by its own step size in the direction against the gradient's sign; the
    step size is multiplied by etaplus while the sign holds and by etaminus when it flips,
    within ``step_sizes``; see :func:`rprop`. ``Rprop(params, lr=1e-2, etas=(0.5, 1.2),
    step_sizes=(1e-6, 50), *, capturable=False, foreach=None, maximize=False,
    differentiable=False)``; ``lr`` is the initial step size (a schedule that changes it
    later has no effect, as in PyTorch). ``foreach`` and ``capturable`` are accepted and
    ignored, ``differentiable=True`` is refused (see :mod:`wengert.optim.flags`). Meant for
    full-batch gradients: minibatch noise flips the signs."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_nonnegative("Rprop", lr=lr)
        if not 0 < etas[0] < 1 < etas[1]:
            raise ArgumentError(f"Rprop: invalid etas=({etas[0]}, {etas[1]}); they must "
                                "satisfy 0 < etaminus < 1 < etaplus")
        refuse_differentiable("Rprop", differentiable)
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, param, grad, state, work, group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        rprop(param, grad, state, work, lr=group["lr"], etaminus=etaminus, etaplus=etaplus,
              step_size_min=step_size_min, step_size_max=step_size_max,
              maximize=group["maximize"])
