"""Fused, numerically stable loss primitives.

Each equals a composite of existing primitives and is tested against it; it is a primitive
because the closed-form rule stays finite where the composite breaks down
(``log(sigmoid(-1000)) = log(0)``) and because it skips the composite's intermediate nodes:

* ``softmax_cross_entropy(x, t) = logsumexp(x) - x[t]`` per row, gradient ``softmax(x) - q``,
  with PyTorch's class ``weight``, ``ignore_index``, ``label_smoothing`` and ``reduction``.
  It reduces inside the primitive because the mean's divisor (the total weight of the
  targets not ignored) is found here, and because that saves the reduction's node;
* ``binary_cross_entropy_with_logits(x, y) = max(x, 0) - x*y + log(1 + e^(-|x|))``, gradient
  ``sigmoid(x) - y``, unreduced (``wengert.nn.functional`` weights and reduces it);
* ``binary_cross_entropy(p, y) = -[y log p + (1 - y) log(1 - p)]`` for probabilities, each log
  clamped at -100 as PyTorch's, with PyTorch's gradient ``(p - y) / max(p (1 - p), 1e-12)``:
  the composite's gradient is 0 where a clamp holds (p = 0 with y = 1 could never learn)."""
import numpy as np

from ..autodiff.batching import Batched, register_rule, repeat_batch
from ..autodiff.primitive import TENSOR, defop
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")  # every loss's reduction options


def check_class_targets(op, x, target, ignore_index=-100):
    """Raise unless ``target`` holds integer class indices for the logits (or log
    probabilities) ``x`` whose classes are on the last axis, each in [0, classes) or equal
    to ``ignore_index``. Return the boolean mask of the ignored targets, or None when there
    are none (then the check costs one min and one max, as without ``ignore_index``)."""
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must be integer class indices, got "
                         f"dtype {target.dtype}. Hint: for class probabilities use "
                         "nn.functional.cross_entropy with a float target of the logits' shape")
    if target.shape != x.shape[:-1]:
        raise ShapeError(f"{op}: targets of shape {target.shape} do not fit "
                         f"an input of shape {x.shape}; they need shape {x.shape[:-1]}")
    if not target.size:
        return None
    classes = x.shape[-1]
    if target.min() >= 0 and target.max() < classes:
        return _mask_if_any(target, ignore_index) if 0 <= ignore_index < classes else None
    ignored = target == ignore_index
    counted = target[~ignored]
    if counted.size and (counted.min() < 0 or counted.max() >= classes):
        raise ShapeError(f"{op}: class indices must be in [0, {classes}), got range "
                         f"[{counted.min()}, {counted.max()}] (targets equal to "
                         f"ignore_index={ignore_index} are skipped)")
    return ignored


def _mask_if_any(target, ignore_index):
    ignored = target == ignore_index
    return ignored if ignored.any() else None


def ignored_targets(target, ignore_index, classes):
    """The mask :func:`check_class_targets` returned, for targets it accepted. One
    reduction shows there is none in the common cases: no target below 0 (for a negative
    ignore_index, as the default -100) or none at or above ``classes``."""
    if not target.size:
        return None
    if ignore_index < 0:
        if np.minimum.reduce(target, axis=None) >= 0:
            return None
    elif ignore_index >= classes and np.maximum.reduce(target, axis=None) < classes:
        return None
    return _mask_if_any(target, ignore_index)


def check_class_weight(op, weight, classes):
    """Raise unless ``weight`` has one entry per class."""
    if weight.shape != (classes,):
        raise ShapeError(f"{op}: weight of shape {weight.shape} does not fit {classes} "
                         f"classes; it needs shape ({classes},), one weight per class")


def target_weights(x, target, weight, ignored):
    """``(safe, wt, total)``: the targets with the ignored ones replaced by class 0 (safe to
    index with), each target's weight in x's dtype (``weight[t]``, or 1 without a weight;
    0 where ignored), and their sum: the mean's divisor."""
    safe = target if ignored is None else np.where(ignored, 0, target)
    if weight is None:
        wt = np.ones(target.shape, x.dtype)
    else:
        wt = np.asarray(weight.astype(x.dtype, copy=False)[safe])
    if ignored is not None:
        wt = np.where(ignored, 0, wt)
    return safe, wt, np.add.reduce(wt, axis=None)


def reduce_rows(op, loss, reduction, divisor, target, ignored):
    """Reduce per-target losses; the mean divides by ``divisor``, which must not be 0."""
    if reduction == "none":
        return loss
    total = np.add.reduce(loss, axis=None)
    if reduction == "sum":
        return total
    if reduction != "mean":
        raise ArgumentError(f"{op}: reduction={reduction!r} is not allowed; use one of "
                            f"{', '.join(map(repr, REDUCTIONS))}")
    if not divisor:
        raise mean_divisor_error(op, target, ignored)
    return total / divisor


def mean_divisor_error(op, target, ignored):
    """The error for a mean over targets of total weight 0, where PyTorch gives NaN: wengert
    raises, as its ``mean`` of nothing does."""
    if not target.size:
        why = "there are no targets"
    elif ignored is not None and ignored.all():
        why = "every target equals ignore_index"
    else:
        why = "the weights of the targets not ignored sum to 0"
    return ArgumentError(f"{op}: reduction='mean' divides by the total weight of the targets "
                         f"not ignored, and {why}, so the mean is undefined (PyTorch gives "
                         "NaN). Hint: use reduction='sum', or skip such batches")


def _at_targets(target):
    """The advanced index of the target class in each row of an array shaped like the
    logits (classes on the last axis, any layout): cheaper than take_along_axis."""
    if target.ndim == 1:
        return np.arange(target.shape[0]), target
    return np.indices(target.shape, sparse=True) + (target,)


def _softmax_cross_entropy(x, target, weight=None, ignore_index=-100, label_smoothing=0.0,
                           reduction="none"):
    """The loss, and as residuals the exponentials, their row sums and the mask of ignored
    targets, from which the gradient divides out the softmax (recomputing it, with its two
    reductions along short rows, would cost the rule more than the rest of its work; the
    division is left to the rule, whose result it makes, so a forward without backward
    skips it)."""
    ignored = check_class_targets("softmax_cross_entropy", x, target, ignore_index)
    # ufunc reductions: np.max/np.sum add a Python layer that costs more than the work here
    z = x - np.maximum.reduce(x, axis=-1, keepdims=True)
    p = np.exp(z)
    total = np.add.reduce(p, axis=-1, keepdims=True)
    lse = np.log(total[..., 0])
    loss = _class_loss(x, target, weight, ignored, label_smoothing, reduction, z, lse)
    return loss, (p, total, ignored)


def _class_loss(x, target, weight, ignored, label_smoothing, reduction, z, lse):
    """:func:`_softmax_cross_entropy`'s loss from the shifted logits ``z`` and their
    log-sum-exp ``lse``."""
    if weight is None and ignored is None:  # the common case: every row counts once
        loss = lse - z[_at_targets(target)]
        if label_smoothing:
            # q = (1 - eps) one_hot + eps / C:  -sum(q log p) = (1 - eps) nll + eps (lse - mean z)
            loss = (1 - label_smoothing) * loss + label_smoothing * (lse - np.mean(z, axis=-1))
        return reduce_rows("softmax_cross_entropy", loss, reduction, target.size, target, None)
    classes = x.shape[-1]
    if weight is not None:
        check_class_weight("softmax_cross_entropy", weight, classes)
    safe, wt, total = target_weights(x, target, weight, ignored)
    loss = wt * (lse - z[_at_targets(safe)])
    if label_smoothing:
        # PyTorch: (1 - eps) w_t nll + eps/C sum_c w_c (lse - z_c), the mean over sum w_t
        if weight is None:
            smooth = lse - np.mean(z, axis=-1)
        else:
            w = weight.astype(x.dtype, copy=False)
            smooth = (lse * np.add.reduce(w) - z @ w) / classes
        loss = (1 - label_smoothing) * loss + label_smoothing * smooth
    if ignored is not None:
        loss = np.where(ignored, 0, loss)
    return reduce_rows("softmax_cross_entropy", loss, reduction, total, target, ignored)


def _logit_gradient(ns, x, target, weight, ignored, label_smoothing):
    """d loss / d logits per row: ``softmax(x) - q`` with q the (smoothed) one-hot target;
    with weights ``s * softmax(x) - q``, ``s = (1 - eps) w_t + eps sum(w) / C`` and
    ``q = (1 - eps) w_t one_hot + eps w / C``; 0 in ignored rows."""
    classes = x.shape[-1]
    if weight is None and ignored is None:
        q = ns.one_hot(target, num_classes=classes, dtype=x.dtype)
        if label_smoothing:
            q = q * (1 - label_smoothing) + label_smoothing / classes
        return ns.softmax(x, axis=-1) - q
    s, q = _residual_terms(x, target, weight, ignored, label_smoothing)
    return s[..., None] * ns.softmax(x, axis=-1) - q


def _residual_terms(x, target, weight, ignored, label_smoothing):
    """The constants ``s`` (per row) and ``q`` (per row and class) of :func:`_logit_gradient`."""
    classes = x.shape[-1]
    safe, wt, _ = target_weights(x, target, weight, ignored)
    keep = 1 - label_smoothing
    s = keep * wt
    q = np.zeros(x.shape, x.dtype)
    q[_at_targets(safe)] = s
    if label_smoothing:
        w = np.ones(classes, x.dtype) if weight is None else weight.astype(x.dtype, copy=False)
        counted = np.ones(target.shape, x.dtype) if ignored is None else (~ignored).astype(
            x.dtype)
        s = s + (label_smoothing / classes) * np.add.reduce(w) * counted
        q += (label_smoothing / classes) * np.multiply.outer(counted, w)
    return s, q


def _array(a):
    """The array of a tensor (the rules get tensors when they build a graph)."""
    return a.data if isinstance(a, Tensor) else a


def _seed(g, x, target, weight, ignored, reduction):
    """The per-row seed: g, or g over the mean's divisor."""
    if reduction != "mean":
        return g
    if weight is None and ignored is None:
        return g / target.size
    return g / target_weights(x, target, weight, ignored)[2]


def _softmax_cross_entropy_vjp(ns, g, ans, x, target, weight=None, ignore_index=-100,
                               label_smoothing=0.0, reduction="none", residuals=None):
    target = _array(target)
    if residuals is not None:  # plain arrays: the gradient built in a fresh softmax
        exp, total, ignored = residuals
        g = _seed(g, x, target, weight, ignored, reduction)
        r = exp / total  # a new array: the residuals stay as they were for another backward
        if weight is None and ignored is None:  # no one-hot: subtract at the targets
            if label_smoothing:
                r -= label_smoothing / x.shape[-1]
            r[_at_targets(target)] -= 1 - label_smoothing
        else:
            s, q = _residual_terms(x, target, weight, ignored, label_smoothing)
            r *= s[..., None]
            r -= q
        r *= g[..., None]
        return r
    ignored = ignored_targets(target, ignore_index, x.shape[-1])
    g = _seed(g, x, target, weight, ignored, reduction)
    return ns.expand_dims(g, axis=-1) * _logit_gradient(ns, x, target, weight, ignored,
                                                        label_smoothing)


def _softmax_cross_entropy_jvp(ns, t, ans, x, target, weight=None, ignore_index=-100,
                               label_smoothing=0.0, reduction="none"):
    target = _array(target)
    ignored = ignored_targets(target, ignore_index, x.shape[-1])
    rows = ns.sum(t * _logit_gradient(ns, x, target, weight, ignored, label_smoothing),
                  axis=-1)
    if reduction == "none":
        return rows
    return _seed(ns.sum(rows), x, target, weight, ignored, reduction)


softmax_cross_entropy = defop(
    "softmax_cross_entropy", _softmax_cross_entropy,
    vjp=[_softmax_cross_entropy_vjp, None],
    jvp=[_softmax_cross_entropy_jvp, None], residuals=True,
    doc="Cross-entropy ``w_t (logsumexp(x) - x[t])`` of logits x (classes on the last axis) "
        "and integer targets t, as PyTorch's: optional class ``weight`` (an array, one per "
        "class; no gradient), targets equal to ``ignore_index`` count 0, label smoothing, "
        "and ``reduction`` 'none' (per row, the default here), 'sum' or 'mean' (divided by "
        "the total weight of the targets not ignored). Stable for any finite x.")


def _batched_softmax_cross_entropy(prim, values, batched, params, size):
    """vmap's rule: every example's rows in one call (their losses 'none'), then each
    example's own sum or mean (divided by its own targets' total weight)."""
    x, target = values
    if not batched[0]:
        x = repeat_batch(x, size)
    if not batched[1]:
        target = np.broadcast_to(_array(target), (size,) + np.shape(target))
    if type(x) is Batched or type(target) is Batched:
        return None  # nested vmaps: once per example
    target = _array(target)
    reduction = params.get("reduction", "none")
    rows = prim.apply(x, target, **dict(params, reduction="none"))
    if reduction == "none":
        return rows
    total = TENSOR.sum(rows, axis=tuple(range(1, rows.ndim)))
    if reduction != "mean":
        return total
    ignore_index = params.get("ignore_index", -100)
    ignored = target == ignore_index
    _, wt, _ = target_weights(x, target, params.get("weight"), ignored)
    divisor = np.add.reduce(wt.reshape(size, -1), axis=1)
    for b in np.flatnonzero(divisor == 0)[:1]:
        raise mean_divisor_error("softmax_cross_entropy", target[b], ignored[b])
    return total / divisor


register_rule("softmax_cross_entropy", _batched_softmax_cross_entropy)


def _bce_with_logits(x, y):
    # log(1 + e^x) - x*y written so that no exp overflows: max(x, 0) + log1p(e^-|x|) - x*y.
    return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


binary_cross_entropy_with_logits = defop(
    "binary_cross_entropy_with_logits", _bce_with_logits,
    vjp=[lambda ns, g, ans, x, y: g * (ns.sigmoid(x) - y), lambda ns, g, ans, x, y: -g * x],
    jvp=[lambda ns, t, ans, x, y: t * (ns.sigmoid(x) - y), lambda ns, t, ans, x, y: -t * x],
    doc="Element-wise ``-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]`` from logits x, "
        "stable for any finite x (1000 at x=-1000, y=1, with gradient -1).")



# PyTorch's floor on p (1 - p) in the gradient of binary_cross_entropy: 1e-12 as a float32
# constant, 9.99999996e-13, in float64 too
BCE_EPS = float(np.float32(1e-12))


def _bce(p, y):
    with np.errstate(divide="ignore"):  # log 0 = -inf, clamped at -100 as PyTorch's
        log_p = np.maximum(np.log(p), -100)
        log_q = np.maximum(np.log1p(-p), -100)  # log1p: exact for small p, as PyTorch's
    return -(y * log_p + (1 - y) * log_q)


def _clamped_log(ns, q):
    """``log q`` clamped at -100 in the rules: q is clipped at the smallest subnormal first,
    so that no value or gradient (of the clip, then the log) is inf or NaN at q = 0."""
    return ns.maximum(ns.log(ns.clip(q, a_min=np.finfo(q.dtype).smallest_subnormal)), -100.0)


def _bce_input_rule(ns, g, ans, p, y):
    return g * (p - y) / ns.maximum(p * (1 - p), BCE_EPS)


def _bce_target_rule(ns, g, ans, p, y):
    # the derivative of the clamped loss (PyTorch's is unclamped: inf at p = 0 or 1)
    return g * (_clamped_log(ns, 1 - p) - _clamped_log(ns, p))


binary_cross_entropy = defop(
    "binary_cross_entropy", _bce,
    vjp=[_bce_input_rule, _bce_target_rule],
    jvp=[_bce_input_rule, _bce_target_rule],  # each is linear in its tangent: the same rule
    doc="Element-wise ``-[y log p + (1 - y) log(1 - p)]`` for probabilities p in [0, 1], each "
        "log clamped at -100, with PyTorch's gradient ``(p - y) / max(p (1 - p), 1e-12)`` "
        "(finite and non-zero at p = 0 and 1).")
