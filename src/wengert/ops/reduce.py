"""Reductions over ``axis=None | int | tuple`` with ``keepdims``.

Their VJP rules put the output-shaped gradient back into the input's shape with
:func:`expand`; their JVP rules apply the same reduction to the tangent.
"""
import builtins
import math

import numpy as np

from ..autodiff.primitive import ARRAY, defop, nondiff
from ..errors import ShapeError


def normalize_axis(axis, ndim, op="reduction", ordered=False):
    """``axis`` as a sorted tuple of non-negative ints (all axes for None); in the order
    given when ``ordered`` (axes that pair up with another operand's, as tensordot's)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    span = builtins.max(ndim, 1)  # NumPy accepts axis 0 / -1 on a 0-d array
    for a in axes:
        if not -span <= a < span:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(int(a) % span)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(out) if ordered else tuple(sorted(out))


def kept_shape(shape, axis):
    """The shape the reduction has with keepdims=True."""
    axes = normalize_axis(axis, len(shape))
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def expand(ns, g, shape, axis, keepdims):
    """An output-shaped gradient ``g`` broadcast back to the reduced input's ``shape``."""
    if not keepdims:
        g = ns.reshape(g, shape=kept_shape(shape, axis))
    return ns.broadcast_to(g, shape=shape)


def _nonempty(op, x, axis):
    """Raise for a reduction over an empty axis where the result is undefined (max of
    nothing; the mean of nothing is 0/0): an error instead of NumPy's warning and NaN."""
    if x.size == 0 and _count(x.shape, axis) == 0:
        raise ShapeError(f"{op} over an empty axis is undefined (tensor of shape {x.shape}, "
                         f"axis={axis})")


def _count(shape, axis):
    return math.prod(shape[a] for a in normalize_axis(axis, len(shape)))


# The forwards call the ufuncs' reduce, which is what np.sum/np.max/np.prod do for an array,
# without their Python layer (a few µs, more than the work on a small array).
sum = defop(
    "sum", lambda x, axis=None, keepdims=False: np.add.reduce(x, axis=axis, keepdims=keepdims),
    vjp=[lambda ns, g, ans, x, axis=None, keepdims=False: expand(ns, g, x.shape, axis, keepdims)],
    jvp=[lambda ns, t, ans, x, axis=None, keepdims=False: ns.sum(t, axis=axis, keepdims=keepdims)],
    saves="none", doc="Sum over axis (all axes by default).")


def _mean(x, axis=None, keepdims=False):
    _nonempty("mean", x, axis)
    x = np.asarray(x)
    if x.dtype in (np.float32, np.float64):  # what np.mean computes, without its Python layer
        return np.add.reduce(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)
    return np.mean(x, axis=axis, keepdims=keepdims)  # integers, float16: its accumulator


def _mean_vjp(ns, g, ans, x, axis=None, keepdims=False):
    n = _count(x.shape, axis)
    if ns is ARRAY:  # one broadcasting divide into the result: np.broadcast_to costs more
        g = np.asarray(g)
        if not keepdims:
            g = g.reshape(kept_shape(x.shape, axis))
        return np.divide(g, n, out=np.empty(x.shape, g.dtype))
    return expand(ns, g, x.shape, axis, keepdims) / n


mean = defop(
    "mean", _mean,
    vjp=[_mean_vjp],
    jvp=[lambda ns, t, ans, x, axis=None, keepdims=False: ns.mean(t, axis=axis, keepdims=keepdims)],
    saves="none", doc="Arithmetic mean over axis.")


def _extreme(name, np_fn):
    def mask(ns, ans, x, axis, keepdims):
        # Ties share the gradient equally (as torch.amax/amin), so the rule is symmetric.
        hit = x == expand(ns, ans, x.shape, axis, keepdims)
        hit = ns.cast(hit, dtype=x.dtype)
        return hit / expand(ns, ns.sum(hit, axis=axis, keepdims=keepdims), x.shape, axis, keepdims)

    def fwd(x, axis=None, keepdims=False):
        _nonempty(name, x, axis)
        return np_fn(x, axis=axis, keepdims=keepdims)

    return defop(
        name, fwd,
        vjp=[lambda ns, g, ans, x, axis=None, keepdims=False:
             expand(ns, g, x.shape, axis, keepdims) * mask(ns, ans, x, axis, keepdims)],
        jvp=[lambda ns, t, ans, x, axis=None, keepdims=False:
             ns.sum(t * mask(ns, ans, x, axis, keepdims), axis=axis, keepdims=keepdims)],
        saves="both",
        doc=f"{name.capitalize()} over axis. The gradient goes to the entries equal to the "
            f"{name}; when several tie, they share it equally.")


max = _extreme("max", np.maximum.reduce)
min = _extreme("min", np.minimum.reduce)


def _prod_grad(ns, ans, x, axis, keepdims):
    """d prod / d x_i = product of the other entries, right even when x has zeros."""
    zero = x == 0
    zeros = expand(ns, ns.sum(ns.cast(zero, dtype=np.int64), axis=axis, keepdims=keepdims),
                   x.shape, axis, keepdims)
    nonzero_prod = expand(ns, ns.prod(ns.where(zero, 1, x), axis=axis, keepdims=keepdims),
                          x.shape, axis, keepdims)
    safe_x = ns.where(zero, 1, x)
    return ns.where(zeros == 0, nonzero_prod / safe_x,
                    ns.where((zeros == 1) & zero, nonzero_prod, 0))


prod = defop(
    "prod", lambda x, axis=None, keepdims=False:
    np.multiply.reduce(x, axis=axis, keepdims=keepdims),
    vjp=[lambda ns, g, ans, x, axis=None, keepdims=False:
         expand(ns, g, x.shape, axis, keepdims) * _prod_grad(ns, ans, x, axis, keepdims)],
    jvp=[lambda ns, t, ans, x, axis=None, keepdims=False:
         ns.sum(t * _prod_grad(ns, ans, x, axis, keepdims), axis=axis, keepdims=keepdims)],
    saves="both", doc="Product over axis; the gradient is right at zeros too.")


def _var(x, axis=None, ddof=0, keepdims=False):
    n = _count(x.shape, axis)
    if n - ddof <= 0:
        raise ShapeError(f"var needs more than ddof={ddof} entries along axis={axis}, got {n} "
                         f"(tensor of shape {x.shape})")
    return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)


def _var_grad(ns, x, axis, ddof):
    centred = x - ns.mean(x, axis=axis, keepdims=True)
    return centred * (2.0 / (_count(x.shape, axis) - ddof))


var = defop(
    "var", _var,
    vjp=[lambda ns, g, ans, x, axis=None, ddof=0, keepdims=False:
         expand(ns, g, x.shape, axis, keepdims) * _var_grad(ns, x, axis, ddof)],
    jvp=[lambda ns, t, ans, x, axis=None, ddof=0, keepdims=False:
         ns.sum(t * _var_grad(ns, x, axis, ddof), axis=axis, keepdims=keepdims)],
    doc="Variance over axis with ``ddof`` (0: population, 1: sample, as torch's correction).")


def _std_grad(ns, ans, x, axis, ddof, keepdims):
    s = expand(ns, ans, x.shape, axis, keepdims)
    # var's gradient / (2 std); 0 where std is 0 (a constant slice), as PyTorch
    return ns.where(s == 0, 0, _var_grad(ns, x, axis, ddof) / ns.where(s == 0, 1, 2 * s))


std = defop(
    "std", lambda x, axis=None, ddof=0, keepdims=False: np.sqrt(_var(x, axis, ddof, keepdims)),
    vjp=[lambda ns, g, ans, x, axis=None, ddof=0, keepdims=False:
         expand(ns, g, x.shape, axis, keepdims) * _std_grad(ns, ans, x, axis, ddof, keepdims)],
    jvp=[lambda ns, t, ans, x, axis=None, ddof=0, keepdims=False:
         ns.sum(t * _std_grad(ns, ans, x, axis, ddof, keepdims), axis=axis, keepdims=keepdims)],
    saves="both", doc="Standard deviation over axis with ``ddof``; its gradient is 0 where it "
                      "is 0 (a constant slice), as PyTorch.")


def _logsumexp(x, axis=None, keepdims=False):
    if _count(x.shape, axis) == 0:  # log of an empty sum
        return np.full_like(np.sum(x, axis=axis, keepdims=keepdims), -np.inf)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf rows stay -inf without NaN
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _lse_weights(ns, ans, x, axis, keepdims):
    return ns.exp(x - expand(ns, ans, x.shape, axis, keepdims))  # the softmax of x


logsumexp = defop(
    "logsumexp", _logsumexp,
    vjp=[lambda ns, g, ans, x, axis=None, keepdims=False:
         expand(ns, g, x.shape, axis, keepdims) * _lse_weights(ns, ans, x, axis, keepdims)],
    jvp=[lambda ns, t, ans, x, axis=None, keepdims=False:
         ns.sum(t * _lse_weights(ns, ans, x, axis, keepdims), axis=axis, keepdims=keepdims)],
    saves="both", doc="log(sum(exp(x))) over axis, computed stably (max subtracted first).")


def _norm(x, axis=None, keepdims=False):
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _norm_grad(ns, ans, x, axis, keepdims):
    n = expand(ns, ans, x.shape, axis, keepdims)
    return ns.where(n == 0, 0, x / ns.where(n == 0, 1, n))  # 0 at the origin, as PyTorch


norm = defop(
    "norm", _norm,
    vjp=[lambda ns, g, ans, x, axis=None, keepdims=False:
         expand(ns, g, x.shape, axis, keepdims) * _norm_grad(ns, ans, x, axis, keepdims)],
    jvp=[lambda ns, t, ans, x, axis=None, keepdims=False:
         ns.sum(t * _norm_grad(ns, ans, x, axis, keepdims), axis=axis, keepdims=keepdims)],
    saves="both", doc="Euclidean (2-)norm over axis (Frobenius for a matrix with axis=None); "
                      "its gradient at 0 is 0.")

argmax = nondiff("argmax", lambda x, axis=None, keepdims=False:
                 np.argmax(x, axis=axis, keepdims=keepdims), doc="Index of the max (no grad).")
argmin = nondiff("argmin", lambda x, axis=None, keepdims=False:
                 np.argmin(x, axis=axis, keepdims=keepdims), doc="Index of the min (no grad).")
any = nondiff("any", lambda x, axis=None, keepdims=False: np.any(x, axis=axis, keepdims=keepdims),
              doc="True where any entry along axis is true.")
all = nondiff("all", lambda x, axis=None, keepdims=False: np.all(x, axis=axis, keepdims=keepdims),
              doc="True where every entry along axis is true.")
