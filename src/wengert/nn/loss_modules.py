"""Losses as modules (``nn.CrossEntropyLoss()`` ...): each holds its options and calls its
function in :mod:`wengert.nn.losses` as ``loss(input, target)``. Per-class or per-element
weights (``weight``, ``pos_weight``) are buffers, as in PyTorch: saved in ``state_dict``
(when given) and cast by ``to()``."""
from . import likelihood_losses, losses, margin_losses
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from .distance import PairwiseDistance
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


class MarginRankingLoss(FunctionModule):
    """Ranking hinge of pairs; ``MarginRankingLoss(margin=0.0, reduction="mean")``, called
    as ``loss(input1, input2, target)``; see
    :func:`wengert.nn.functional.margin_ranking_loss`."""
    fn = margin_losses.margin_ranking_loss

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__(margin=margin, reduction=reduction)


class HingeEmbeddingLoss(FunctionModule):
    """Hinge loss of distances and ±1 labels; ``HingeEmbeddingLoss(margin=1.0,
    reduction="mean")``; see :func:`wengert.nn.functional.hinge_embedding_loss`."""
    fn = margin_losses.hinge_embedding_loss

    def __init__(self, margin=1.0, reduction="mean"):
        super().__init__(margin=margin, reduction=reduction)


class CosineEmbeddingLoss(FunctionModule):
    """Cosine hinge of pairs; ``CosineEmbeddingLoss(margin=0.0, reduction="mean")``, called
    as ``loss(input1, input2, target)``; see
    :func:`wengert.nn.functional.cosine_embedding_loss`."""
    fn = margin_losses.cosine_embedding_loss

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__(margin=margin, reduction=reduction)


class SoftMarginLoss(_ReducedLoss):
    """Logistic loss of ±1 labels; see :func:`wengert.nn.functional.soft_margin_loss`."""
    fn = margin_losses.soft_margin_loss


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Multi-label binary cross-entropy from logits, averaged over classes;
    ``MultiLabelSoftMarginLoss(weight=None, reduction="mean")``; see
    :func:`wengert.nn.functional.multilabel_soft_margin_loss`."""
    fn = margin_losses.multilabel_soft_margin_loss
    shown = ("reduction",)

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(weight=weight, reduction=reduction)


class MultiLabelMarginLoss(_ReducedLoss):
    """Multi-label hinge loss of class-index targets; see
    :func:`wengert.nn.functional.multilabel_margin_loss`."""
    fn = margin_losses.multilabel_margin_loss


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss; ``MultiMarginLoss(p=1, margin=1.0, weight=None,
    reduction="mean")`` (p 1 or 2 and a 1-D weight, checked here as PyTorch does); see
    :func:`wengert.nn.functional.multi_margin_loss`."""
    fn = margin_losses.multi_margin_loss
    shown = ("p", "margin", "reduction")

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        if p not in (1, 2):
            raise ArgumentError(f"MultiMarginLoss: p={p!r} is not supported; only p == 1 and "
                                "p == 2 are, as in PyTorch")
        super().__init__(p=p, margin=margin, weight=weight, reduction=reduction)
        if self.weight is not None and self.weight.ndim != 1:
            raise ShapeError(f"MultiMarginLoss: weight of shape {tuple(self.weight.shape)} "
                             "must be 1-D, one weight per class (PyTorch refuses it too)")


class TripletMarginLoss(FunctionModule):
    """Triplet loss with the p-norm distance; ``TripletMarginLoss(margin=1.0, p=2.0,
    eps=1e-6, swap=False, reduction="mean")`` (margin > 0), called as ``loss(anchor,
    positive, negative)``; see :func:`wengert.nn.functional.triplet_margin_loss`."""
    fn = margin_losses.triplet_margin_loss

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        margin_losses.check_triplet_margin("TripletMarginLoss", margin)
        super().__init__(margin=margin, p=p, eps=eps, swap=swap, reduction=reduction)


class TripletMarginWithDistanceLoss(FunctionModule):
    """Triplet loss with any distance; ``TripletMarginWithDistanceLoss(*,
    distance_function=None, margin=1.0, swap=False, reduction="mean")`` (margin > 0; the
    default distance is a :class:`PairwiseDistance` submodule, as PyTorch's); see
    :func:`wengert.nn.functional.triplet_margin_with_distance_loss`."""
    fn = margin_losses.triplet_margin_with_distance_loss

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        margin_losses.check_triplet_margin("TripletMarginWithDistanceLoss", margin)
        super().__init__(distance_function=(PairwiseDistance() if distance_function is None
                                            else distance_function),
                         margin=margin, swap=swap, reduction=reduction)

    def extra_repr(self):  # a distance module is shown as a child
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self._options
                         if k != "distance_function")


class PoissonNLLLoss(FunctionModule):
    """Poisson negative log-likelihood; ``PoissonNLLLoss(log_input=True, full=False,
    eps=1e-8, reduction="mean")``; see :func:`wengert.nn.functional.poisson_nll_loss`."""
    fn = likelihood_losses.poisson_nll_loss

    def __init__(self, log_input=True, full=False, eps=1e-8, reduction="mean"):
        super().__init__(log_input=log_input, full=full, eps=eps, reduction=reduction)


class GaussianNLLLoss(FunctionModule):
    """Gaussian negative log-likelihood; ``GaussianNLLLoss(*, full=False, eps=1e-6,
    reduction="mean")``, called as ``loss(input, target, var)``; see
    :func:`wengert.nn.functional.gaussian_nll_loss`."""
    fn = likelihood_losses.gaussian_nll_loss

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(full=full, eps=eps, reduction=reduction)
