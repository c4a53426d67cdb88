"""Negative log-likelihood losses of ``wengert.nn.functional`` for counts and real values:
``poisson_nll_loss`` and ``gaussian_nll_loss``, with PyTorch's names, arguments, eps and
clamping rules; composites of wengert primitives."""
import math
import numbers

import numpy as np

from ..autodiff.batching import per_example
from ..errors import ArgumentError, ShapeError
from ..ops.elementwise import clip, exp, log, square, where
from ..tensor import Tensor
from .errors import check_choice
from .losses import REDUCTIONS, _as_array, _reduce, _same_shape
from .margin_losses import _numeric_target

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    """Negative log-likelihood of counts ``y`` under a Poisson distribution of rate λ:
    ``e^x - y x`` for log-rates ``x`` (``log_input=True``), else ``x - y log(x + eps)`` for
    rates ``x``; ``full`` adds Stirling's approximation of ``log y!``,
    ``y log y - y + log(2 pi y) / 2``, where y > 1 (0 elsewhere, as PyTorch). The target must
    have the input's shape (PyTorch broadcasts them); a float target gets its gradient
    (``-x``, or ``-log(x + eps)``, plus the Stirling term's ``log y + 1/(2y)`` where y > 1),
    integer and bool targets are used as the input's dtype. Two differences from PyTorch,
    both where it gives NaN: rates with ``x + eps <= 0`` (or NaN) are an ArgumentError, and
    the Stirling term's gradient is 0 at y <= 1, also at y = 0 and y < 0."""
    where_ = "poisson_nll_loss"
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    _same_shape(where_, input, target)
    target = _numeric_target(where_, input, target, bools=True)
    if log_input:
        loss = exp(input) - target * input
    else:
        _check_rates(where_, input, eps)
        loss = input - target * log(input + eps)
    if full:
        counted = target > 1
        # where() twice, so that no log of y <= 1 (NaN or -inf) reaches the gradient
        safe = where(counted, target, 2.0)
        loss = loss + where(counted, safe * log(safe) - safe + 0.5 * log(2 * math.pi * safe),
                            0.0)
    return _reduce(loss, reduction, where_)


@per_example  # reads the values
def _check_rates(where_, input, eps):
    rate = _as_array(input)
    if rate.size and not np.all(rate + eps > 0):
        raise ArgumentError(f"{where_}: with log_input=False the input holds rates, and "
                            f"input + eps must be > 0, got a smallest rate of "
                            f"{np.min(rate)} with eps={eps} (PyTorch gives NaN or inf). "
                            "Hint: pass log-rates with log_input=True, or make the rates "
                            "non-negative (e.g. softplus)")


@per_example  # reads the values
def _check_variance(where_, var):
    values = _as_array(var)
    if values.size and not np.all(values >= 0):
        raise ArgumentError(f"{where_}: var must be >= 0 everywhere, got a smallest entry of "
                            f"{np.min(values)} (PyTorch refuses negative entries too; a NaN "
                            "neither). Hint: predict exp(log_var) or softplus(...) for a "
                            "positive variance")


def _variance(where_, input, var):
    """``var`` as PyTorch's gaussian_nll_loss takes it: non-negative (a NaN neither), a
    number or an array of the input's shape, or of it with one axis of size 1 (or with the
    last axis missing, which is added)."""
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if not var >= 0:
            raise ArgumentError(f"{where_}: var={var} must be >= 0 (PyTorch refuses a "
                                "negative one too). Hint: pass a variance, not a log-variance")
        return np.full(tuple(input.shape), var, dtype=input.dtype)
    values = var if isinstance(var, Tensor) else np.asarray(var)
    _check_variance(where_, values)
    if not isinstance(var, Tensor) or np.dtype(values.dtype).kind != "f":
        var = values.astype(input.dtype if np.dtype(input.dtype).kind == "f" else np.float64)
    shape, vshape = tuple(input.shape), tuple(values.shape)
    if vshape == shape:
        return var
    if vshape == shape[:-1]:
        return var.reshape(vshape + (1,))
    if len(vshape) == len(shape) and sum(v for s, v in zip(shape, vshape) if s != v) == 1:
        return var
    raise ShapeError(f"{where_}: var of shape {vshape} does not fit an input of shape "
                     f"{shape}; it needs the input's shape, that shape with one axis of size "
                     f"1, or {shape[:-1]} (PyTorch refuses it too). Hint: one variance per "
                     "prediction, or one per sample")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under a Gaussian of mean ``input`` and
    variance ``var``: ``(log v + (x - y)^2 / v) / 2`` with ``v = max(var, eps)``, plus
    ``log(2 pi) / 2`` when ``full``. As PyTorch's, the clamp changes the value only: the
    gradient reaches ``var`` as though it were not there (at v = eps for var < eps).
    ``var`` is a number or an array: of the input's shape (one variance per prediction), of
    it with one axis of size 1, or without its last axis (shared along that axis); it must
    be >= 0, and NaN is refused too (an ArgumentError; PyTorch refuses negative entries and
    gives NaN for NaN). The target must have the input's shape (PyTorch broadcasts them);
    integer targets are used as the input's dtype, bool ones are a DTypeError (PyTorch
    refuses them too); the input, a float target and a var Tensor get their gradients."""
    where_ = "gaussian_nll_loss"
    var = _variance(where_, input, var)
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    _same_shape(where_, input, target)
    target = _numeric_target(where_, input, target)
    # PyTorch clamps a clone of var in place under no_grad: a constant lift, not a clamp op
    var = var + clip(eps - (var.detach() if isinstance(var, Tensor) else var), a_min=0)
    loss = 0.5 * (log(var) + square(input - target) / var)
    if full:
        loss = loss + HALF_LOG_2PI
    return _reduce(loss, reduction, where_)


__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]
