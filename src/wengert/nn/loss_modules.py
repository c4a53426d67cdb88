"""Losses as modules (``nn.CrossEntropyLoss()`` ...): each holds its options and calls its
function in :mod:`wengert.nn.losses` as ``loss(input, target)``. Per-class or per-element
weights (``weight``, ``pos_weight``) are buffers, as in PyTorch: saved in ``state_dict``
(when given) and cast by ``to()``."""
from . import losses
from ..tensor import Tensor
from .module import FunctionModule


class _ReducedLoss(FunctionModule):
    """A loss module whose only option is ``reduction``."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)


class _WeightedLoss(FunctionModule):
    """A loss module with weight buffers (``weight``, ``pos_weight``; None when not given).
    Its repr shows the options that are always shown and ``ignore_index`` when it is not
    -100; the weights are in ``state_dict``, as PyTorch shows neither."""

    shown = ()

    def __init__(self, **options):
        weights = {k: options.pop(k) for k in ("weight", "pos_weight") if k in options}
        super().__init__(**options)
        for name, value in weights.items():
            if value is not None and not isinstance(value, Tensor):
                value = Tensor(losses._constant(type(self).__name__, name, value, None))
            self.register_buffer(name, value)
        self._options = tuple(weights) + self._options

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self._options
                         if k in self.shown or (k == "ignore_index" and self.ignore_index != -100))


class MSELoss(_ReducedLoss):
    """Mean squared error; see :func:`wengert.nn.functional.mse_loss`."""
    fn = losses.mse_loss


class L1Loss(_ReducedLoss):
    """Mean absolute error; see :func:`wengert.nn.functional.l1_loss`."""
    fn = losses.l1_loss


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities; ``BCELoss(weight=None, reduction="mean")``;
    see :func:`wengert.nn.functional.binary_cross_entropy`."""
    fn = losses.binary_cross_entropy
    shown = ("reduction",)

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(weight=weight, reduction=reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Binary cross-entropy from logits (stable); ``BCEWithLogitsLoss(weight=None,
    reduction="mean", pos_weight=None)``; see
    :func:`wengert.nn.functional.binary_cross_entropy_with_logits`."""
    fn = losses.binary_cross_entropy_with_logits
    shown = ("reduction",)

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight=weight, pos_weight=pos_weight, reduction=reduction)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; ``NLLLoss(weight=None,
    ignore_index=-100, reduction="mean")``; see :func:`wengert.nn.functional.nll_loss`."""
    fn = losses.nll_loss
    shown = ("reduction",)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from logits; ``CrossEntropyLoss(weight=None, ignore_index=-100,
    reduction="mean", label_smoothing=0.0)``; see
    :func:`wengert.nn.functional.cross_entropy`."""
    fn = losses.cross_entropy
    shown = ("reduction", "label_smoothing")

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight=weight, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


class KLDivLoss(FunctionModule):
    """KL divergence; ``KLDivLoss(reduction="mean", log_target=False)`` (pass
    ``reduction="batchmean"`` for the KL divergence per sample); see
    :func:`wengert.nn.functional.kl_div`."""
    fn = losses.kl_div

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction=reduction, log_target=log_target)


class HuberLoss(FunctionModule):
    """Huber's loss; see :func:`wengert.nn.functional.huber_loss`."""
    fn = losses.huber_loss

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction, delta=delta)


class SmoothL1Loss(FunctionModule):
    """Smooth L1 loss; see :func:`wengert.nn.functional.smooth_l1_loss`."""
    fn = losses.smooth_l1_loss

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction, beta=beta)
