"""``torch.autograd.gradcheck`` and ``gradgradcheck``: PyTorch's signatures over
:func:`wengert.check.gradcheck`.

As in PyTorch, only the Tensor inputs that require grad are differentiated (the others, and
non-Tensor inputs, are held fixed), only floating outputs are compared, and the result is
True, or False with ``raise_exception=False``. The checks run in float64 whatever the inputs'
dtype (with a warning for lower precision; PyTorch differentiates in the inputs' dtype, which
fails in float32), by full Jacobians (random projections with ``fast_mode=True``). Failures
raise :class:`~wengert.errors.GradcheckError` (an ``AssertionError``; PyTorch's is a
``RuntimeError``). ``nondet_tol``, ``check_undefined_grad``, ``check_grad_dtypes``,
``check_batched_grad``, ``check_batched_forward_grad``, ``gen_non_contig_grad_outputs`` and
``masked`` are accepted and do nothing.
"""
import numpy as np

from .. import check
from ..autodiff.grad_mode import no_grad
from ..errors import ArgumentError
from ..tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck"]


def _differentiated(transform, inputs):
    """``inputs`` as a tuple, and the positions of those that require grad."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    positions = [k for k, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]
    if not positions:
        raise ArgumentError(f"{transform} expects at least one input tensor to require "
                            "gradient, but none of them have requires_grad=True. Hint: create "
                            "the inputs to check with requires_grad=True")
    return inputs, positions


def _modes(transform, backward, forward):
    modes = ("reverse",) * bool(backward) + ("forward",) * bool(forward)
    if not modes:
        raise ArgumentError(f"{transform}: both modes are off; expected at least one of the "
                            "reverse and forward checks to be on")
    return modes


def _float_outputs(out):
    """The floating Tensors among ``func``'s outputs (a Tensor or a sequence of them)."""
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return tuple(o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f")


def _with(inputs, positions, values):
    args = list(inputs)
    for k, v in zip(positions, values):
        args[k] = v
    return args


def _run(func, points, eps, atol, rtol, modes, fast_mode, raise_exception):
    return check.gradcheck(func, points, eps=eps, atol=atol, rtol=rtol, modes=modes,
                           full=not fast_mode, n_random=2 if fast_mode else 0,
                           raise_exception=raise_exception).passed


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Compare the derivatives of ``func`` at ``inputs`` with central differences (reverse
    mode, and forward mode with ``check_forward_ad=True``); True when they agree (see the
    module docstring)."""
    inputs, positions = _differentiated("gradcheck", inputs)
    modes = _modes("gradcheck", check_backward_ad, check_forward_ad)

    def differentiated(*xs):
        return _float_outputs(func(*_with(inputs, positions, xs)))
    return _run(differentiated, [inputs[k] for k in positions], eps, atol, rtol, modes,
                fast_mode, raise_exception)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Check second derivatives as PyTorch does: :func:`gradcheck` of the vector-Jacobian
    product ``(inputs, grad_outputs) -> grad_outputs . J(inputs)``, differentiated in
    reverse mode (``check_rev_over_rev``) and forward mode (``check_fwd_over_rev``).
    ``grad_outputs`` default to random values in [-1, 1) that are differentiated too; given
    ones are differentiated where they require grad."""
    from ..functional import vjp
    inputs, positions = _differentiated("gradgradcheck", inputs)
    modes = _modes("gradgradcheck", check_rev_over_rev, check_fwd_over_rev)
    with no_grad():
        outputs = _float_outputs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor(rng.uniform(-1, 1, o.shape), dtype=o.dtype,
                                    requires_grad=True) for o in outputs)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(
            grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ArgumentError(f"gradgradcheck: {len(grad_outputs)} grad_outputs for "
                            f"{len(outputs)} floating outputs; give one per output")
    seeds = [m for m, g in enumerate(grad_outputs) if isinstance(g, Tensor) and g.requires_grad]
    n = len(positions)

    def first_derivatives(*args):
        cotangents = _with(grad_outputs, seeds, args[n:])
        _, pull = vjp(lambda *xs: _float_outputs(func(*_with(inputs, positions, xs))),
                      *args[:n])
        return pull(tuple(cotangents))
    points = [inputs[k] for k in positions] + [grad_outputs[m] for m in seeds]
    return _run(first_derivatives, points, eps, atol, rtol, modes, fast_mode, raise_exception)
