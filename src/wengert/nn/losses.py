"""Loss functions (PyTorch's names and arguments) and the lectures' decay term.

Every loss takes ``reduction``: ``"mean"`` (default) averages the per-element losses,
``"sum"`` adds them, ``"none"`` returns them unreduced. Inputs and targets must have the
same shape where the loss is element-wise (no silent broadcasting of (N, 1) against (N,))."""
import math

import numpy as np

from ..autodiff.batching import Batched, batch_size, lift, per_example, top_level
from ..autodiff.state import STATE
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops import loss as _fused
from ..ops.activation import log_softmax
from ..ops.elementwise import abs as _abs, exp, log, square, where
from ..ops.index import take_along_axis
from ..ops.reduce import mean, sum as _sum
from ..ops.shape import reshape, squeeze, transpose
from ..tensor import Tensor
from .errors import check_choice

REDUCTIONS = _fused.REDUCTIONS


def _reduce(loss, reduction, where_):
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return _sum(loss)
    return loss


def _same_shape(where_, input, target):
    if tuple(input.shape) != tuple(np.shape(target)):
        raise ShapeError(f"{where_}: input of shape {tuple(input.shape)} and target of shape "
                         f"{tuple(np.shape(target))} differ. Hint: reshape one of them (e.g. "
                         "target.reshape(input.shape)); broadcasting them is usually a bug")


def _as_array(t):
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _operand(t):
    """``t`` for comparisons and ``where``: a Tensor as it is (so that under vmap they run on
    the batch), anything else as an array."""
    return t if isinstance(t, Tensor) else np.asarray(t)


def mse_loss(input, target, reduction="mean"):
    """Squared error ``(x - y)^2``."""
    _same_shape("mse_loss", input, target)
    return _reduce(square(input - target), reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """Absolute error ``|x - y|``."""
    _same_shape("l1_loss", input, target)
    return _reduce(_abs(input - target), reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber's loss: ``d^2 / 2`` where ``d = |x - y| < delta``, else ``delta (d - delta/2)``
    (quadratic near 0, linear beyond; the gradient is ``x - y`` clamped to [-delta, delta])."""
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    _same_shape("huber_loss", input, target)
    diff = input - target
    size = _abs(diff)
    return _reduce(where(size < delta, 0.5 * square(diff), delta * (size - 0.5 * delta)),
                   reduction, "huber_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """``d^2 / (2 beta)`` where ``d = |x - y| < beta``, else ``d - beta/2``: Huber's loss
    divided by ``beta`` (``l1_loss`` for beta = 0)."""
    if beta < 0 or math.isnan(beta):
        raise ArgumentError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    _same_shape("smooth_l1_loss", input, target)
    diff = input - target
    size = _abs(diff)
    return _reduce(where(size < beta, (0.5 / beta) * square(diff), size - 0.5 * beta),
                   reduction, "smooth_l1_loss")


def _constant(where_, name, value, input):
    """A loss option given per class or per element (``weight``, ``pos_weight``) as an
    array of the input's dtype (of its own float dtype when there is no input). PyTorch
    computes no gradient for these and refuses one that requires grad; so does wengert,
    rather than leave it silently without one."""
    if isinstance(value, str):
        raise ArgumentError(f"{where_}: {name}={value!r} is not an array. Hint: weight comes "
                            f"before reduction, as in PyTorch; pass reduction={value!r} by "
                            "keyword")
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ArgumentError(f"{where_}: {name} requires grad, but the loss has no "
                                f"gradient for it (as in PyTorch). Hint: pass "
                                f"{name}.detach()")
        value = value.data
    value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise DTypeError(f"{where_}: {name} must be numbers, got dtype {value.dtype}")
    if input is not None and np.dtype(input.dtype).kind == "f":
        return value.astype(input.dtype, copy=False)
    return value if value.dtype.kind == "f" else value.astype(np.float64)


def _elementwise_weight(where_, name, value, input):
    """``value`` as a constant that broadcasts to the input's shape (without growing it)."""
    value = _constant(where_, name, value, input)
    shape = tuple(input.shape)
    try:
        fits = np.broadcast_shapes(value.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{where_}: {name} of shape {value.shape} does not broadcast to the "
                         f"input's shape {shape}. Hint: give it the input's shape, or shape "
                         f"{shape[-1:]} for one entry per class")
    return value


def _class_weight(where_, weight, input):
    """``weight`` as a constant with one entry per class (axis 1, or 0 for a 1-D input)."""
    weight = _constant(where_, "weight", weight, input)
    _fused.check_class_weight(where_, weight, input.shape[1 if input.ndim >= 2 else 0])
    return weight


def _bce_target(where_, input, target, same_dtype):
    """The target of a binary cross-entropy, checked as PyTorch's kernels take it: floating
    (both refuse integer and bool targets), and of the input's dtype when ``same_dtype``
    (``binary_cross_entropy``'s refuses float64 against float32). Python numbers and lists,
    which have no dtype of their own, are made arrays of the input's (float) dtype."""
    if not isinstance(target, (Tensor, np.ndarray, np.generic)):
        dtype = np.dtype(input.dtype)
        return np.asarray(target, dtype=dtype if dtype.kind == "f" else None)
    dtype = np.dtype(target.dtype)
    if dtype.kind != "f":
        raise DTypeError(f"{where_}: the target has dtype {dtype}, but it must hold "
                         f"probabilities as floats (PyTorch refuses it too). Hint: "
                         f"target.astype('{input.dtype}'); for class indices use "
                         "cross_entropy")
    if same_dtype and dtype != input.dtype:
        raise DTypeError(f"{where_}: the input has dtype {input.dtype} and the target dtype "
                         f"{dtype}; they must be the same (PyTorch refuses them too). Hint: "
                         f"target.astype('{input.dtype}')")
    return target


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """``-w [y log p + (1 - y) log(1 - p)]`` for probabilities p in [0, 1]; each log is
    clamped at -100 (as PyTorch), so p = 0 or 1 gives a finite loss, and the gradient is
    PyTorch's ``(p - y) / max(p (1 - p), 1e-12)``, never 0 at a confidently wrong p (one
    fused primitive). ``weight`` (no gradient) broadcasts to the input's shape; ``"mean"``
    averages the weighted losses. The target must be floats of the input's dtype (a
    DTypeError otherwise, as PyTorch refuses them); its gradient is ``log(1 - p) - log p``,
    each log clamped at -100. Prefer :func:`binary_cross_entropy_with_logits`, which is
    exact for any logit."""
    _same_shape("binary_cross_entropy", input, target)
    target = _bce_target("binary_cross_entropy", input, target, same_dtype=True)
    if weight is not None:
        weight = _elementwise_weight("binary_cross_entropy", "weight", weight, input)
    _check_probabilities(input, target)
    loss = _fused.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


@per_example  # reads the values
def _check_probabilities(input, target):
    p = _as_array(input)
    # written so that a NaN fails too, as in PyTorch (which checks the target as well)
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        raise ArgumentError(f"binary_cross_entropy: input probabilities must be in [0, 1], got "
                            f"range [{p.min()}, {p.max()}]. Hint: for logits use "
                            "binary_cross_entropy_with_logits")
    y = _as_array(target)
    if y.size and not (y.min() >= 0 and y.max() <= 1):
        raise ArgumentError(f"binary_cross_entropy: target probabilities must be in [0, 1], "
                            f"got range [{y.min()}, {y.max()}] (PyTorch refuses them too)")


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of ``sigmoid(x)`` against y, from logits x, computed stably as
    ``max(x, 0) - x y + log(1 + e^(-|x|))`` (one fused primitive; gradient
    ``sigmoid(x) - y``). ``pos_weight`` p (per class, broadcast along the last axis)
    weighs the positive term: ``-[p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]``;
    ``weight`` multiplies the result. Neither gets a gradient (as PyTorch); the target gets
    ``-x`` (``-x + (p - 1) log(1 + e^-x)`` with pos_weight) times the weight. The target must
    be floating (a DTypeError otherwise, as PyTorch refuses integers); another float dtype
    than the input's promotes as NumPy does (PyTorch's result takes the target's)."""
    where_ = "binary_cross_entropy_with_logits"
    _same_shape(where_, input, target)
    target = _bce_target(where_, input, target, same_dtype=False)
    loss = _fused.binary_cross_entropy_with_logits(input, target)
    if pos_weight is not None:
        pos_weight = _elementwise_weight(where_, "pos_weight", pos_weight, input)
        # PyTorch's (1 - y) x + (1 + (p - 1) y) log(1 + e^-x) is the loss above plus
        # (p - 1) y log(1 + e^-x), and log(1 + e^-x) is the fused loss at y = 1: exact and
        # finite for any x.
        loss = loss + _fused.binary_cross_entropy_with_logits(input, 1.0) * (
            (pos_weight - 1) * target)
    if weight is not None:
        loss = loss * _elementwise_weight(where_, "weight", weight, input)
    return _reduce(loss, reduction, where_)


def _classes_last(input):
    """The input with its class axis (1, or 0 for a 1-D input) moved to the end."""
    if input.ndim <= 2:
        return input
    return transpose(input, axes=(0,) + tuple(range(2, input.ndim)) + (1,))


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits ``input`` ((C,), (N, C) or (N, C, d...): classes on axis 1)
    against either integer class indices (shape (), (N,) or (N, d...)) or class
    probabilities (the input's shape), with PyTorch's options:

    * ``weight`` (C,): class weights (no gradient). Class indices: each target's loss is
      multiplied by ``weight[t]`` and ``"mean"`` divides by the sum of those weights;
      probabilities: ``-sum_c w_c q_c log p_c``, ``"mean"`` divides by the number of samples.
    * ``ignore_index``: class-index targets equal to it add 0 and are not counted by
      ``"mean"``. A mean over no counted targets (all ignored, or weights summing to 0)
      raises an ArgumentError where PyTorch gives NaN.
    * ``label_smoothing`` eps mixes the target with the uniform distribution:
      ``q = (1 - eps) target + eps / C``.

    Class indices use the fused ``softmax_cross_entropy`` primitive:
    ``logsumexp(x) - x[t]``, gradient ``softmax(x) - q``; probabilities use
    ``-sum(q * log_softmax(x))``. Both are stable for any finite logits."""
    if type(weight) is Batched:  # class weights per example (vmap): read, so once each
        return per_example(cross_entropy)(input, target, weight, ignore_index, reduction,
                                          label_smoothing)
    if not 0 <= label_smoothing <= 1:
        raise ArgumentError(f"cross_entropy: label_smoothing={label_smoothing} must be in "
                            "[0, 1]")
    check_choice("cross_entropy", "reduction", reduction, REDUCTIONS)
    if weight is not None:
        weight = _class_weight("cross_entropy", weight, input)
    t = _operand(target)  # class indices go to the primitive, whose vmap rule reads them
    if t.dtype.kind != "f":
        return _fused.softmax_cross_entropy(_classes_last(input), t, weight=weight,
                                            ignore_index=ignore_index,
                                            label_smoothing=label_smoothing,
                                            reduction=reduction)
    _same_shape("cross_entropy (probability targets)", input, target)
    if ignore_index >= 0:
        raise ArgumentError(f"cross_entropy: ignore_index={ignore_index} applies to class-index "
                            "targets; probability targets have no class to ignore (PyTorch "
                            "refuses it too). Hint: give that class probability 0")
    axis = 1 if input.ndim >= 2 else 0
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / input.shape[axis]
    if weight is not None:
        target = target * weight.reshape(weight.shape + (1,) * (input.ndim - 2))
    loss = -_sum(target * log_softmax(input, axis=axis), axis=axis)
    return _reduce(loss, reduction, "cross_entropy")


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood ``-w_t input[t]`` of log-probabilities ``input`` (classes on
    axis 1, or 0 for a 1-D input) at integer class indices ``target``, with ``weight`` and
    ``ignore_index`` as :func:`cross_entropy`'s (``"mean"`` divides by the total weight
    of the targets not ignored). ``nll_loss`` of ``log_softmax`` is ``cross_entropy``."""
    level = top_level((input, target), {}) if STATE.vmap_levels else 0
    if level and type(weight) is not Batched and batch_size(level):
        return _nll_loss_folded(input, target, weight, ignore_index, reduction, level)
    return _nll_loss(input, target, weight, ignore_index, reduction)


def _nll_loss_folded(input, target, weight, ignore_index, reduction, level):
    """:func:`nll_loss` under ``vmap``: the examples' samples as one batch of samples (the
    loss reads its targets, which the examples' physical tensors give it), each example's
    losses then reduced apart. Its mean divides by its own targets' weight, which is the loss
    of log-probabilities all -1: ``w_t``, or 0 where ignored."""
    check_choice("nll_loss", "reduction", reduction, REDUCTIONS)
    size = batch_size(level)
    x, t = lift(input, level, size)._value, lift(target, level, size)._value
    if type(x) is Batched or type(t) is Batched:  # nested vmaps: once per example
        return _nll_loss(input, target, weight, ignore_index, reduction)
    example_target = tuple(t.shape[1:])
    if input.ndim > 1:  # (B, N, C, d...) -> (B N, C, d...)
        x = reshape(x, shape=(-1,) + tuple(x.shape[2:]))
        t = reshape(t, shape=(-1,) + tuple(t.shape[2:]))
    losses = reshape(nll_loss(x, t, weight, ignore_index, "none"), shape=(size, -1))
    if reduction == "none":
        out = reshape(losses, shape=(size,) + example_target)
    elif reduction == "sum":
        out = _sum(losses, axis=1)
    else:
        total = _sum(nll_loss(Tensor(-np.ones(x.shape, x.dtype)), t, weight, ignore_index,
                              "none").reshape(size, -1), axis=1)
        if size and not total.data.all():  # an example with nothing to average
            b = int(np.argmin(total.data != 0))
            _nll_loss(input._value[b] if type(input) is Batched else input,
                      target._value[b] if type(target) is Batched else target, weight,
                      ignore_index, reduction)
        out = _sum(losses, axis=1) / total
    return Batched(out, level)


def _nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    check_choice("nll_loss", "reduction", reduction, REDUCTIONS)
    logp = _classes_last(input)
    t = _as_array(target)
    ignored = _fused.check_class_targets("nll_loss", logp, t, ignore_index)
    if weight is None and ignored is None:
        picked = take_along_axis(logp, t[..., None], axis=-1)
        return _reduce(-squeeze(picked, axis=-1), reduction, "nll_loss")
    if weight is not None:
        weight = _class_weight("nll_loss", weight, input)
    safe, wt, total = _fused.target_weights(logp, t, weight, ignored)
    picked = squeeze(take_along_axis(logp, safe[..., None], axis=-1), axis=-1)
    if ignored is not None:  # an ignored row may hold log 0 = -inf, and 0 * -inf is NaN
        picked = where(ignored, 0.0, picked)
    loss = picked * -wt
    if reduction != "mean":
        return _reduce(loss, reduction, "nll_loss")
    if not total:
        raise _fused.mean_divisor_error("nll_loss", t, ignored)
    return _sum(loss) / total


_nll_loss.__name__ = "nll_loss"  # what vmap's errors about a loop over examples name
_nll_loss = per_example(_nll_loss)  # reads the class targets


def kl_div(input, target, reduction="mean", log_target=False):
    """Kullback-Leibler divergence, element-wise ``y (log y - x)`` for log-probabilities x
    and probabilities y (``0`` where y = 0), or ``e^y (y - x)`` with ``log_target``.
    ``reduction`` may also be ``"batchmean"`` (the sum divided by the batch size: the
    true KL divergence per sample)."""
    _same_shape("kl_div", input, target)
    check_choice("kl_div", "reduction", reduction, REDUCTIONS + ("batchmean",))
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = _operand(target) > 0
        loss = where(positive, target * (log(where(positive, target, 1.0)) - input), 0.0)
    if reduction == "batchmean":
        return _sum(loss) / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


def l2_penalty(params, lam):
    """The lectures' weight decay term ``lam/2 * sum ||W||_F^2`` over ``params`` (pass the
    weights to decay, usually not the biases); its gradient adds ``lam * W`` to each W."""
    if lam < 0:
        raise ArgumentError(f"l2_penalty: lam={lam} must be >= 0")
    return (lam / 2) * sum(_sum(square(p)) for p in params)
