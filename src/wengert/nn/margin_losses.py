"""Margin (hinge) losses of ``wengert.nn.functional``, with PyTorch's names, arguments and
shape rules: ranking and embedding losses of pairs (``margin_ranking_loss``,
``hinge_embedding_loss``, ``cosine_embedding_loss``), of triplets (``triplet_margin_loss``,
``triplet_margin_with_distance_loss``) and the multi-class and multi-label losses
(``soft_margin_loss``, ``multilabel_soft_margin_loss``, ``multilabel_margin_loss``,
``multi_margin_loss``). Each is a composite of wengert primitives.

The hinges have PyTorch's gradient at their corners (where the clamped value is exactly 0):
the losses PyTorch writes with ``clamp_min`` (the pair and triplet losses) pass the full
gradient there, as ``clip`` does; ``multi_margin_loss`` and ``multilabel_margin_loss``,
whose kernels add a term only where it is positive, give none there, as ``relu`` does."""
import numpy as np

from ..autodiff.batching import per_example
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops import loss as _fused
from ..ops.elementwise import clip, minimum, relu, softplus, sqrt, square, where
from ..ops.index import take_along_axis
from ..ops.reduce import sum as _sum
from ..ops.shape import reshape
from ..tensor import Tensor
from .distance import pairwise_distance
from .errors import check_choice
from .losses import (REDUCTIONS, _as_array, _class_weight, _elementwise_weight, _operand,
                     _reduce, _same_shape)

# PyTorch's cosine_embedding_loss adds this to each squared norm: its EPSILON, 1e-12 as a
# float32 constant, 9.99999996e-13, in float64 too
COSINE_EPS = float(np.float32(1e-12))


def _shape(a):
    return tuple(a.shape) if hasattr(a, "shape") else np.shape(a)


def _listed(shapes):
    return ", ".join(f"{name} of shape {shape}" for name, shape in shapes.items())


def _same_ndim(where_, hint, shapes):
    """PyTorch's check that the named ``shapes`` have one number of dims (beyond that it
    broadcasts them)."""
    if len({len(s) for s in shapes.values()}) > 1:
        raise ShapeError(f"{where_}: {_listed(shapes)} must have the same number of dims "
                         f"(PyTorch requires it too). Hint: {hint}")


def _broadcast(where_, hint, shapes):
    """The shape the named ``shapes`` broadcast to; a ShapeError naming them otherwise."""
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        raise ShapeError(f"{where_}: {_listed(shapes)} do not broadcast. Hint: "
                         f"{hint}") from None


def _numeric_target(where_, input, target, bools=False):
    """A target used in arithmetic, as PyTorch takes it: a float one as it is (a Tensor
    gets its gradient), an integer one (bool too where ``bools``; PyTorch's arithmetic
    refuses bool elsewhere) as a constant of the input's dtype, as PyTorch's result keeps
    the input's dtype then. Python numbers and lists take the input's dtype."""
    dtype = np.dtype(input.dtype)
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    if not isinstance(target, (Tensor, np.ndarray, np.generic)):
        return np.asarray(target, dtype=dtype)
    kind = np.dtype(target.dtype).kind
    if kind == "f":
        return target
    if kind in "iu" or (kind == "b" and bools):
        return target.astype(dtype)
    raise DTypeError(f"{where_}: the target has dtype {target.dtype}, which PyTorch refuses "
                     f"here too; it needs numbers. Hint: target.astype('{dtype}')")


def _class_indices(where_, target):
    t = _as_array(target)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{where_}: targets must be integer class indices, got dtype "
                         f"{t.dtype}. Hint: target.astype('int64')")
    return t


def _vectors(where_, input):
    """``(frames, classes)`` of a (C,) or (N, C) input with C > 0 (a 0-d one: one class)."""
    shape = tuple(input.shape)
    if len(shape) > 2 or (shape and not shape[-1]):
        raise ShapeError(f"{where_}: expected an input of shape (C,) or (N, C) with C > 0 "
                         f"classes, got shape {shape} (PyTorch refuses it too). Hint: flatten "
                         "the leading axes, input.reshape(-1, C)")
    return (shape[0] if len(shape) == 2 else 1), (shape[-1] if shape else 1)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``max(0, -y (x1 - x2) + margin)``: ``x1`` should rank above ``x2`` (by the margin)
    where y = 1, below where y = -1. The three must have one number of dims and broadcast
    (PyTorch's rule). A float target gets its gradient (``-(x1 - x2)`` where the hinge is
    active), as PyTorch's; integer targets are used as the inputs' dtype; bool targets are a
    DTypeError (PyTorch refuses them too). At the corner (value 0) the gradient passes, as
    PyTorch's ``clamp_min``."""
    where_ = "margin_ranking_loss"
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    shapes = {"input1": _shape(input1), "input2": _shape(input2), "target": _shape(target)}
    hint = "give input1, input2 and target the same shape, e.g. (N,)"
    _same_ndim(where_, hint, shapes)
    _broadcast(where_, hint, shapes)
    target = _numeric_target(where_, input1, target)
    return _reduce(clip((input1 - input2) * -target + margin, a_min=0), reduction, where_)


def hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    """``x`` where y = 1, ``max(0, margin - x)`` where y = -1, for distances ``x`` and labels
    y of ±1 (any other label adds both terms, as PyTorch's). The target only selects (any
    numeric or bool dtype; no gradient) and must have the input's shape (PyTorch would
    broadcast (N, 1) against (N,) to (N, N)). At the corner ``x = margin`` the gradient
    passes, as PyTorch's ``clamp_min``."""
    where_ = "hinge_embedding_loss"
    _same_shape(where_, input, target)
    t = _operand(target)
    loss = (where(t != 1, clip(margin - input, a_min=0), 0.0)
            + where(t != -1, input, 0.0))
    return _reduce(loss, reduction, where_)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``1 - cos(x1, x2)`` where y = 1 and ``max(0, cos(x1, x2) - margin)`` where y = -1 (0
    for any other label), with PyTorch's cosine ``sum(x1 x2) / sqrt((|x1|^2 + eps)
    (|x2|^2 + eps))``, eps = 1e-12 (a float32 constant, as PyTorch's). Inputs (N, D) with
    an (N,) target, or (D,) with a 0-d one (PyTorch's rule); the inputs, and the target with
    the N cosines, broadcast. The target only selects (no gradient). At the corner
    ``cos = margin`` the gradient passes, as PyTorch's ``clamp_min``."""
    where_ = "cosine_embedding_loss"
    t = _operand(target)
    if t.ndim > 1:
        raise ShapeError(f"{where_}: expected a 0-d or 1-D target, got shape {t.shape} "
                         "(PyTorch refuses it too). Hint: one label of +-1 per pair of "
                         "vectors, shape (N,)")
    wanted = t.ndim + 1
    if len(_shape(input1)) != wanted or len(_shape(input2)) != wanted:
        raise ShapeError(f"{where_}: a target of shape {t.shape} needs {wanted}-D inputs "
                         f"({'(N, D)' if t.ndim else '(D,)'}), got {_shape(input1)} and "
                         f"{_shape(input2)} (PyTorch refuses them too). Hint: compare vectors "
                         "along the last axis, with one label per pair")
    pairs = _broadcast(where_, "vectors along the last axis, (N, D) or (1, D)",
                       {"input1": _shape(input1), "input2": _shape(input2)})
    _broadcast(where_, "one label per pair of vectors", {"target": t.shape,
                                                         "the cosines": pairs[:-1]})
    axis = t.ndim
    dot = _sum(input1 * input2, axis=axis)
    sizes = (_sum(input1 * input1, axis=axis) + COSINE_EPS) * (
        _sum(input2 * input2, axis=axis) + COSINE_EPS)
    cos = dot / sqrt(sizes)
    loss = where(t == 1, 1 - cos, 0.0) + where(t == -1, clip(cos - margin, a_min=0), 0.0)
    return _reduce(loss, reduction, where_)


def soft_margin_loss(input, target, reduction="mean"):
    """``log(1 + e^(-y x))`` for labels y (usually ±1), as the stable ``softplus(-y x)``:
    finite for any x, where PyTorch's ``log1p(exp(-y x))`` overflows to inf beyond
    ``-y x`` = 88 in float32 (710 in float64) and its gradient to NaN. The target must have
    the input's shape; any numeric or bool dtype is used as the input's (the result keeps
    the input's dtype, as PyTorch's). As in PyTorch the target gets no gradient: one that
    requires grad is an ArgumentError."""
    where_ = "soft_margin_loss"
    _same_shape(where_, input, target)
    if isinstance(target, Tensor) and target.requires_grad:
        raise ArgumentError(f"{where_}: the target requires grad, but the loss has no "
                            "gradient for it (PyTorch refuses it too). Hint: pass "
                            "target.detach()")
    # a constant of the input's dtype: PyTorch's result keeps it, whatever the target's
    t = _numeric_target(where_, input, target, bools=True)
    if isinstance(t, Tensor):
        t = t.detach()
    if np.dtype(t.dtype) != np.dtype(input.dtype):
        t = t.astype(input.dtype)
    return _reduce(softplus(input * -t), reduction, where_)


def multilabel_soft_margin_loss(input, target, weight=None, reduction="mean"):
    """The mean over classes (the last axis, C > 0) of the binary cross-entropy of logits
    ``x`` against 0/1 labels ``y``, ``-[y log sigmoid(x) + (1 - y) log sigmoid(-x)]``,
    times ``weight``: one loss per sample, shape ``input.shape[:-1]``. Computed by the stable
    fused ``binary_cross_entropy_with_logits`` (gradient ``sigmoid(x) - y``, the target's
    ``-x``). The target must have the input's shape (PyTorch broadcasts it); a float target
    gets its gradient, integer labels are used as the input's dtype, bool ones are a
    DTypeError (PyTorch refuses them too). ``weight`` broadcasts to the input's shape, e.g.
    (C,) per class; a float Tensor weight gets its gradient and its dtype promotes the
    loss's, as in PyTorch, whose loss is this composite (other weights are constants of the
    input's dtype)."""
    where_ = "multilabel_soft_margin_loss"
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    if input.ndim == 0 or not input.shape[-1]:
        raise ShapeError(f"{where_}: expected classes on the last axis of the input, got "
                         f"shape {tuple(input.shape)}. Hint: an (N, C) input with C > 0")
    _same_shape(where_, input, target)
    loss = _fused.binary_cross_entropy_with_logits(input, _numeric_target(where_, input,
                                                                          target))
    if isinstance(weight, Tensor) and np.dtype(weight.dtype).kind == "f":
        _elementwise_weight(where_, "weight", weight.detach(), input)  # the shape check
        loss = loss * weight  # differentiable, as in PyTorch, whose loss is this composite
    elif weight is not None:
        loss = loss * _elementwise_weight(where_, "weight", weight, input)
    return _reduce(_sum(loss, axis=-1) / input.shape[-1], reduction, where_)


@per_example  # builds index arrays from the targets
def multilabel_margin_loss(input, target, reduction="mean"):
    """For each sample, ``sum_j sum_i max(0, 1 - (x[y_j] - x[i])) / C`` over its target
    classes y_j and the classes i that are not targets: every target should score at least 1
    above every other class. Input (C,) or (N, C); the target has the input's shape and
    holds integer class indices, the targets first, then -1 (the rest is ignored; a class
    given twice counts twice, as in PyTorch). ``"none"`` gives shape (N,), or () for a
    (C,) input. A term gets no gradient where its hinge is exactly 0, as PyTorch's kernel."""
    where_ = "multilabel_margin_loss"
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    frames, classes = _vectors(where_, input)
    t = _class_indices(where_, target)
    if input.ndim == 2 and t.shape != tuple(input.shape) or (
            input.ndim < 2 and (t.ndim > 1 or t.size != classes)):
        raise ShapeError(f"{where_}: targets of shape {t.shape} do not fit an input of shape "
                         f"{tuple(input.shape)}; they need its shape (class indices, then "
                         "-1 padding)")
    if t.size and not (t.min() >= -1 and t.max() < classes):
        raise ShapeError(f"{where_}: class indices must be in [0, {classes}) or -1 (the end "
                         f"of a sample's targets), got range [{t.min()}, {t.max()}]")
    t = t.reshape(frames, classes)
    listed = np.cumprod(t != -1, axis=1).astype(bool)  # the targets before the first -1
    k = int(listed.sum(axis=1).max()) if frames else 0
    rows, cols = np.nonzero(listed)
    other = np.ones((frames, classes), bool)
    other[rows, t[rows, cols]] = False
    x = reshape(input, shape=(frames, classes))
    picked = take_along_axis(x, np.where(listed, t, 0)[:, :k], axis=1)
    hinge = relu(1 - reshape(picked, shape=(frames, k, 1)) + reshape(x, shape=(frames, 1,
                                                                              classes)))
    counted = (listed[:, :k, None] & other[:, None, :]).astype(hinge.dtype)
    loss = _sum(hinge * counted, axis=(1, 2)) / classes
    return _reduce(loss if input.ndim == 2 else reshape(loss, shape=()), reduction, where_)


@per_example  # builds index arrays from the targets
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multi-class hinge loss ``w[y] sum_{i != y} max(0, margin - x[y] + x[i])^p / C``
    of scores ``x`` (C,) or (N, C) and integer class indices ``y`` (one per sample: shape
    (N,), or () or (1,) for a (C,) input), with p 1 or 2. ``weight`` (C,) weighs each
    sample by its class (no gradient); ``"mean"`` averages over samples. ``"none"`` gives
    shape (N,), or () for a 0-d target. A term gets no gradient where its hinge is exactly
    0, as PyTorch's kernel."""
    where_ = "multi_margin_loss"
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    if p not in (1, 2):
        raise ArgumentError(f"{where_}: p={p!r} is not supported; only p == 1 and p == 2 "
                            "are, as in PyTorch")
    frames, classes = _vectors(where_, input)
    x = reshape(input, shape=(frames, classes))
    if weight is not None:
        weight = _class_weight(where_, weight, x)
    t = _class_indices(where_, target)
    if t.ndim > 1 or t.size != frames:
        raise ShapeError(f"{where_}: targets of shape {t.shape} do not fit an input of shape "
                         f"{tuple(input.shape)}; they need shape ({frames},), one class index "
                         "per sample")
    if t.size and not (t.min() >= 0 and t.max() < classes):
        raise ShapeError(f"{where_}: class indices must be in [0, {classes}), got range "
                         f"[{t.min()}, {t.max()}]")
    per_sample = t.ndim == 1
    t = t.reshape(frames)
    hinge = relu(margin - take_along_axis(x, t[:, None], axis=1) + x)
    others = (np.arange(classes) != t[:, None]).astype(hinge.dtype)
    loss = _sum((hinge if p == 1 else square(hinge)) * others, axis=1) / classes
    if weight is not None:
        loss = loss * weight[t]
    return _reduce(loss if per_sample else reshape(loss, shape=()), reduction, where_)


def check_triplet_margin(where_, margin):
    """PyTorch's check of a triplet loss's margin (in the function and the module)."""
    if not margin > 0:
        raise ArgumentError(f"{where_}: margin must be greater than 0, got {margin} (PyTorch "
                            "refuses it too). Hint: the distance by which the negative "
                            "should be farther than the positive, e.g. 1.0")


def _triplet(where_, anchor, positive, negative, distance, margin, swap, reduction,
             broadcast):
    """The triplet loss with PyTorch's checks; ``broadcast``: also check that the three
    broadcast (a distance function of the user's may take other shapes)."""
    check_choice(where_, "reduction", reduction, REDUCTIONS)
    check_triplet_margin(where_, margin)
    shapes = {"anchor": _shape(anchor), "positive": _shape(positive),
              "negative": _shape(negative)}
    hint = "give the three one shape, (N, D) or (D,)"
    _same_ndim(where_, hint, shapes)
    if broadcast:
        _broadcast(where_, hint, shapes)
    near = distance(anchor, positive)
    far = distance(anchor, negative)
    if swap:
        far = minimum(far, distance(positive, negative))
    return _reduce(clip(margin + near - far, a_min=0), reduction, where_)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with d the :func:`pairwise_distance`
    ``||x1 - x2 + eps||_p`` along the last axis (p > 0 or math.inf; PyTorch also takes
    p <= 0, which pairwise_distance refuses). ``swap`` uses ``min(d(a, n), d(p, n))`` for
    the negative distance (ties split the gradient, as PyTorch's ``min``). margin must be
    > 0 and the three must have one number of dims and broadcast (PyTorch's rules). At the
    corner the gradient passes, as PyTorch's ``clamp_min``."""
    return _triplet("triplet_margin_loss", anchor, positive, negative,
                    lambda x1, x2: pairwise_distance(x1, x2, p, eps), margin, swap, reduction,
                    broadcast=True)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """:func:`triplet_margin_loss` with any ``distance_function(x1, x2)`` (a function or a
    module returning one distance per pair; default :func:`pairwise_distance`, p = 2,
    eps = 1e-6). The options are keyword-only, as in PyTorch."""
    return _triplet("triplet_margin_with_distance_loss", anchor, positive, negative,
                    pairwise_distance if distance_function is None else distance_function,
                    margin, swap, reduction, broadcast=False)


__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
           "multi_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss"]
