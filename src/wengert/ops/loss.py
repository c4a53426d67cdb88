"""Fused, numerically stable loss primitives.

Each equals a composite of existing primitives and is tested against it; it is a primitive
because the closed-form rule stays finite where the composite breaks down
(``log(sigmoid(-1000)) = log(0)``) and because it skips the composite's intermediate nodes:

* ``softmax_cross_entropy(x, t) = logsumexp(x) - x[t]`` per row, gradient ``softmax(x) - q``;
* ``binary_cross_entropy_with_logits(x, y) = max(x, 0) - x*y + log(1 + e^(-|x|))``, gradient
  ``sigmoid(x) - y``.

Both return the unreduced loss; ``wengert.nn.functional`` applies the reduction."""
import numpy as np

from ..autodiff.primitive import ARRAY, defop
from .activation import _softmax
from ..errors import DTypeError, ShapeError


def check_class_targets(op, x, target):
    """Raise unless ``target`` holds integer class indices for the logits (or log
    probabilities) ``x`` whose classes are on the last axis."""
    if target.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must be integer class indices, got "
                         f"dtype {target.dtype}. Hint: for class probabilities use "
                         "nn.functional.cross_entropy with a float target of the logits' shape")
    if target.shape != x.shape[:-1]:
        raise ShapeError(f"{op}: targets of shape {target.shape} do not fit "
                         f"an input of shape {x.shape}; they need shape {x.shape[:-1]}")
    classes = x.shape[-1]
    if target.size and (target.min() < 0 or target.max() >= classes):
        raise ShapeError(f"{op}: class indices must be in [0, {classes}), "
                         f"got range [{target.min()}, {target.max()}]")


def _at_targets(target):
    """The advanced index of the target class in each row of an array shaped like the
    logits (classes on the last axis, any layout): cheaper than take_along_axis."""
    if target.ndim == 1:
        return np.arange(target.shape[0]), target
    return np.indices(target.shape, sparse=True) + (target,)


def _softmax_cross_entropy(x, target, label_smoothing=0.0):
    check_class_targets("softmax_cross_entropy", x, target)
    # ufunc reductions: np.max/np.sum add a Python layer that costs more than the work here
    z = x - np.maximum.reduce(x, axis=-1, keepdims=True)
    lse = np.log(np.add.reduce(np.exp(z), axis=-1))
    picked = z[_at_targets(target)]
    loss = lse - picked
    if label_smoothing:
        # q = (1 - eps) one_hot + eps / C:  -sum(q log p) = (1 - eps) nll + eps (lse - mean z)
        loss = (1 - label_smoothing) * loss + label_smoothing * (lse - np.mean(z, axis=-1))
    return loss


def _residual(ns, x, target, label_smoothing):
    """d loss / d logits = softmax(x) - q, q the (smoothed) one-hot target."""
    q = ns.one_hot(target, num_classes=x.shape[-1], dtype=x.dtype)
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / x.shape[-1]
    return ns.softmax(x, axis=-1) - q


def _softmax_cross_entropy_vjp(ns, g, ans, x, target, label_smoothing=0.0):
    if ns is ARRAY:  # plain arrays: the residual built in place in a fresh softmax, no one-hot
        r = _softmax(x, axis=-1)
        if label_smoothing:
            r -= label_smoothing / x.shape[-1]
        r[_at_targets(target)] -= 1 - label_smoothing
        r *= g[..., None]
        return r
    return ns.expand_dims(g, axis=-1) * _residual(ns, x, target, label_smoothing)


softmax_cross_entropy = defop(
    "softmax_cross_entropy", _softmax_cross_entropy,
    vjp=[_softmax_cross_entropy_vjp, None],
    jvp=[lambda ns, t, ans, x, target, label_smoothing=0.0:
         ns.sum(t * _residual(ns, x, target, label_smoothing), axis=-1), None],
    doc="Per-row cross-entropy ``logsumexp(x) - x[target]`` of logits x (classes on the last "
        "axis) and integer targets, with optional label smoothing; stable for any finite x.")


def _bce_with_logits(x, y):
    # log(1 + e^x) - x*y written so that no exp overflows: max(x, 0) + log1p(e^-|x|) - x*y.
    return np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))


binary_cross_entropy_with_logits = defop(
    "binary_cross_entropy_with_logits", _bce_with_logits,
    vjp=[lambda ns, g, ans, x, y: g * (ns.sigmoid(x) - y), lambda ns, g, ans, x, y: -g * x],
    jvp=[lambda ns, t, ans, x, y: t * (ns.sigmoid(x) - y), lambda ns, t, ans, x, y: -t * x],
    doc="Element-wise ``-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))]`` from logits x, "
        "stable for any finite x (1000 at x=-1000, y=1, with gradient -1).")
