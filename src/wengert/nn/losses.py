"""Loss functions (PyTorch's names and arguments) and the lectures' decay term.

Every loss takes ``reduction``: ``"mean"`` (default) averages the per-element losses,
``"sum"`` adds them, ``"none"`` returns them unreduced. Inputs and targets must have the
same shape where the loss is element-wise (no silent broadcasting of (N, 1) against (N,))."""
import numpy as np

from ..errors import ArgumentError, ShapeError
from ..ops import loss as _fused
from ..ops.activation import log_softmax
from ..ops.elementwise import abs as _abs, clip, exp, log, maximum, square, where
from ..ops.index import take_along_axis
from ..ops.reduce import mean, sum as _sum
from ..ops.shape import squeeze, transpose
from ..tensor import Tensor
from .errors import check_choice

REDUCTIONS = ("mean", "sum", "none")


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


def mse_loss(input, target, reduction="mean"):
    """Squared error ``(x - y)^2``."""
    _same_shape("mse_loss", input, target)
    return _reduce(square(input - target), reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    """Absolute error ``|x - y|``."""
    _same_shape("l1_loss", input, target)
    return _reduce(_abs(input - target), reduction, "l1_loss")


def binary_cross_entropy(input, target, reduction="mean"):
    """``-[y log p + (1 - y) log(1 - p)]`` for probabilities p in [0, 1]; each log is
    clamped at -100 (as PyTorch), so p = 0 or 1 gives a finite loss. Prefer
    :func:`binary_cross_entropy_with_logits`, which is exact for any logit."""
    _same_shape("binary_cross_entropy", input, target)
    p = _as_array(input)
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ArgumentError(f"binary_cross_entropy: input probabilities must be in [0, 1], got "
                            f"range [{p.min()}, {p.max()}]. Hint: for logits use "
                            "binary_cross_entropy_with_logits")
    # Clipping at the smallest subnormal keeps log finite (no warnings) and its gradient
    # zero where the -100 clamp is active.
    tiny = np.finfo(p.dtype).smallest_subnormal

    def clamped_log(q):
        return maximum(log(clip(q, a_min=tiny)), -100.0)

    loss = -(target * clamped_log(input) + (1 - target) * clamped_log(1 - input))
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """Binary cross-entropy of ``sigmoid(x)`` against y, from logits x, computed stably as
    ``max(x, 0) - x y + log(1 + e^(-|x|))`` (one fused primitive; gradient
    ``sigmoid(x) - y``)."""
    _same_shape("binary_cross_entropy_with_logits", input, target)
    return _reduce(_fused.binary_cross_entropy_with_logits(input, target), reduction,
                   "binary_cross_entropy_with_logits")


def _classes_last(input):
    """The input with its class axis (1, or 0 for a 1-D input) moved to the end."""
    if input.ndim <= 2:
        return input
    return transpose(input, axes=(0,) + tuple(range(2, input.ndim)) + (1,))


def cross_entropy(input, target, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` ((C,), (N, C) or (N, C, d...): classes on axis 1)
    against either integer class indices (shape (), (N,) or (N, d...)) or class
    probabilities (the input's shape). ``label_smoothing`` eps mixes the target with the
    uniform distribution: ``q = (1 - eps) target + eps / C``.

    Class indices use the fused ``softmax_cross_entropy`` primitive:
    ``logsumexp(x) - x[t]``, gradient ``softmax(x) - q``; probabilities use
    ``-sum(q * log_softmax(x))``. Both are stable for any finite logits."""
    if not 0 <= label_smoothing <= 1:
        raise ArgumentError(f"cross_entropy: label_smoothing={label_smoothing} must be in "
                            "[0, 1]")
    t = _as_array(target)
    if t.dtype.kind == "f":
        _same_shape("cross_entropy (probability targets)", input, target)
        axis = 1 if input.ndim >= 2 else 0
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[axis]
        loss = -_sum(target * log_softmax(input, axis=axis), axis=axis)
    else:
        loss = _fused.softmax_cross_entropy(_classes_last(input), t,
                                            label_smoothing=label_smoothing)
    return _reduce(loss, reduction, "cross_entropy")


def nll_loss(input, target, reduction="mean"):
    """Negative log-likelihood ``-input[t]`` of log-probabilities ``input`` (classes on
    axis 1, or 0 for a 1-D input) at integer class indices ``target``. ``nll_loss`` of
    ``log_softmax`` is ``cross_entropy``."""
    logp = _classes_last(input)
    t = _as_array(target)
    _fused.check_class_targets("nll_loss", logp, t)
    picked = take_along_axis(logp, t[..., None], axis=-1)
    return _reduce(-squeeze(picked, axis=-1), reduction, "nll_loss")


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
        positive = _as_array(target) > 0
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
