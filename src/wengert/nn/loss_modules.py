"""Losses as modules (``nn.CrossEntropyLoss()`` ...): each holds its options and calls its
function in :mod:`wengert.nn.losses` as ``loss(input, target)``."""
from . import losses
from .module import FunctionModule


class _ReducedLoss(FunctionModule):
    """A loss module whose only option is ``reduction``."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)


class MSELoss(_ReducedLoss):
    """Mean squared error; see :func:`wengert.nn.functional.mse_loss`."""
    fn = losses.mse_loss


class L1Loss(_ReducedLoss):
    """Mean absolute error; see :func:`wengert.nn.functional.l1_loss`."""
    fn = losses.l1_loss


class BCELoss(_ReducedLoss):
    """Binary cross-entropy of probabilities; see
    :func:`wengert.nn.functional.binary_cross_entropy`."""
    fn = losses.binary_cross_entropy


class BCEWithLogitsLoss(_ReducedLoss):
    """Binary cross-entropy from logits (stable); see
    :func:`wengert.nn.functional.binary_cross_entropy_with_logits`."""
    fn = losses.binary_cross_entropy_with_logits


class NLLLoss(_ReducedLoss):
    """Negative log-likelihood of log-probabilities; see
    :func:`wengert.nn.functional.nll_loss`."""
    fn = losses.nll_loss


class CrossEntropyLoss(FunctionModule):
    """Softmax cross-entropy from logits; ``CrossEntropyLoss(label_smoothing=0.1)``; see
    :func:`wengert.nn.functional.cross_entropy`."""
    fn = losses.cross_entropy

    def __init__(self, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction=reduction, label_smoothing=label_smoothing)


class KLDivLoss(FunctionModule):
    """KL divergence; ``KLDivLoss(reduction="batchmean", log_target=False)``; see
    :func:`wengert.nn.functional.kl_div`."""
    fn = losses.kl_div

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction=reduction, log_target=log_target)
