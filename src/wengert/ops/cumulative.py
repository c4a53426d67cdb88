"""Cumulative ops along one axis: ``cumsum``, ``cumprod`` and ``logcumsumexp`` are primitives;
``cummax`` and ``cummin`` gather the values at indices computed in NumPy, so the gradient goes
to the entry each index names (as PyTorch's)."""
import numpy as np

from ..autodiff.batching import per_example
from ..autodiff.primitive import ARRAY, defop
from ..errors import ArgumentError
from ..tensor import Tensor
from . import index, shape
from .reduce import normalize_axis


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def one_axis(op, x, axis):
    """``axis`` (one int, negative counting from the end) as a non-negative axis of ``x``."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ArgumentError(f"{op}: axis must be one int, got {axis!r}. Hint: pass axis=-1 "
                            "for the last axis")
    return normalize_axis(axis, np.ndim(x), op)[0]


def _reversed(x, axis):
    """``x`` backwards along ``axis`` (a view of an array; getitem on a tensor)."""
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def _revcumsum(ns, g, axis):
    """``out[i] = sum(g[k] for k >= i)``: the adjoint of cumsum."""
    return _reversed(ns.cumsum(_reversed(g, axis), axis=axis), axis)


_cumsum = defop(
    "cumsum", lambda x, axis: np.cumsum(x, axis=axis),
    vjp=[lambda ns, g, ans, x, axis: _revcumsum(ns, g, axis)],
    jvp=[lambda ns, t, ans, x, axis: ns.cumsum(t, axis=axis)],
    saves="none", doc="Cumulative sum along ``axis`` (the primitive; see :func:`cumsum`).")


def _zero_masks(x, axis):
    """Where each slice along ``axis`` is before its first zero, and where that zero is."""
    zero = _data(x) == 0
    seen = np.cumsum(zero, axis=axis)
    return seen == 0, zero & (seen == 1)


def _cumprod_grad(ns, g, ans, x, axis, exact=True):
    before, first = _zero_masks(x, axis)
    if before.all():  # no zeros: d y_k / d x_i = y_k / x_i
        return _revcumsum(ns, g * ans, axis) / x
    # Before a slice's first zero z, y_k / x_i is still the product of the others (both are 0
    # once the zero is in). At z that product is the cumprod with x_z set to 1 (call it x1).
    # After z every product holds x_z: the gradient there is x_z times x1's, which is 0 but
    # has the right derivative in x_z, so second derivatives are exact at zeros too. That
    # term is built only when recording (its value is 0), and only at the top level: x1's
    # gradient need only be right in value, not in its own derivatives.
    x1 = ns.where(first, 1, x)
    past = _revcumsum(ns, g * ans, axis) / ns.where(before, x, 1)
    x1_grad = _revcumsum(ns, g * ns.cumprod(x1, axis=axis), axis) if ns is ARRAY or not exact \
        else _cumprod_grad(ns, g, ns.cumprod(x1, axis=axis), x1, axis, exact=False)
    grad = ns.where(before, past, 0) + ns.where(first, x1_grad, 0)
    if exact and ns is not ARRAY:
        x_z = ns.sum(ns.where(first, x, 0), axis=axis, keepdims=True)
        grad = grad + ns.where(before | first, 0, x_z * x1_grad)
    return grad


def _cumprod_vjp(ns, g, ans, x, axis):
    return _cumprod_grad(ns, g, ans, x, axis)


def _cumprod_jvp(ns, t, ans, x, axis):
    before, first = _zero_masks(x, axis)
    if before.all():
        return ns.cumsum(t / x, axis=axis) * ans
    # only the entries up to a slice's first zero move its products (the same split as above)
    moved = ns.cumsum(ns.where(before, t / ns.where(before, x, 1), 0), axis=axis) * ans
    return moved + (ns.cumprod(ns.where(first, 1, x), axis=axis)
                    * ns.cumsum(ns.where(first, t, 0), axis=axis))


_cumprod = defop(
    "cumprod", lambda x, axis: np.cumprod(x, axis=axis),
    vjp=[_cumprod_vjp], jvp=[_cumprod_jvp], saves="both",
    doc="Cumulative product along ``axis`` (the primitive; see :func:`cumprod`).")


def _log_parts(ns, v):
    """``log(v)`` where ``v > 0`` and ``log(-v)`` where ``v < 0``; elsewhere a quarter of the
    lowest finite number: finite (log 0 = -inf would make NaNs of the differences taken from
    it), yet with room to add the inputs and outputs without overflow, and exp of it is 0. The
    log's argument is 1 at the masked places, so higher derivatives get no NaN from them."""
    low = float(np.finfo(v.dtype).min) / 4
    pos, neg = v > 0, v < 0
    return (ns.where(pos, ns.log(ns.where(pos, v, 1)), low),
            ns.where(neg, ns.log(ns.where(neg, -v, 1)), low))


def _logcumsumexp_vjp(ns, g, ans, x, axis):
    # grad_i = sum_{k >= i} g_k exp(x_i - y_k), summed in log space (positive and negative
    # g apart) so no exp overflows
    def part(log_g):
        tail = _reversed(ns.logcumsumexp(_reversed(log_g - ans, axis), axis=axis), axis)
        return ns.exp(x + tail)
    pos, neg = _log_parts(ns, g)
    return part(pos) - part(neg)


def _logcumsumexp_jvp(ns, t, ans, x, axis):
    # tangent_k = sum_{i <= k} t_i exp(x_i - y_k), in log space as above
    pos, neg = _log_parts(ns, t)
    return (ns.exp(ns.logcumsumexp(pos + x, axis=axis) - ans)
            - ns.exp(ns.logcumsumexp(neg + x, axis=axis) - ans))


_logcumsumexp = defop(
    "logcumsumexp", lambda x, axis: np.logaddexp.accumulate(x, axis=axis),
    vjp=[_logcumsumexp_vjp], jvp=[_logcumsumexp_jvp], saves="both",
    doc="log(cumsum(exp(x))) along ``axis`` (the primitive; see :func:`logcumsumexp`).")


def _along(prim, op, x, axis):
    """``prim`` along one axis; ``axis=None`` runs over the flattened tensor (as NumPy) and a
    0-d tensor is its own cumulative value (as PyTorch)."""
    if axis is None:
        x, axis = shape.reshape(x, shape=(-1,)), 0
    axis = one_axis(op, x, axis)
    if np.ndim(x) == 0:
        return shape.reshape(prim(shape.reshape(x, shape=(1,)), axis=0), shape=())
    return prim(x, axis=axis)


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (over the flattened tensor for None, as NumPy)."""
    return _along(_cumsum, "cumsum", x, axis)


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (over the flattened tensor for None, as NumPy). The
    gradient is right where ``x`` has zeros, as PyTorch's."""
    return _along(_cumprod, "cumprod", x, axis)


def logcumsumexp(x, axis=None):
    """``log(cumsum(exp(x)))`` along ``axis``, computed stably (a running ``logaddexp``), as
    ``torch.logcumsumexp``; over the flattened tensor for None."""
    return _along(_logcumsumexp, "logcumsumexp", x, axis)


def _cumulative_extreme(op, accumulate):
    @per_example
    def extreme(x, axis):
        from .torch_api import ValuesIndices  # torch_api imports this module
        data = _data(x)
        axis = one_axis(op, data, axis)
        if data.ndim == 0:
            values, indices = extreme(shape.reshape(x, shape=(1,)), 0)
            return ValuesIndices(shape.reshape(values, shape=()), Tensor._wrap(indices.data[0]))
        running = accumulate(data, axis=axis)
        # a new extreme, or a NaN: PyTorch names the latest of ties and the latest NaN
        hit = (data == running) | (data != data)
        positions = np.arange(data.shape[axis]).reshape(
            [-1 if d == axis else 1 for d in range(data.ndim)])
        indices = np.maximum.accumulate(np.where(hit, positions, 0), axis=axis)
        values = index.take_along_axis(x, indices, axis=axis)
        return ValuesIndices(values, Tensor._wrap(indices))
    return extreme


cummax = _cumulative_extreme("cummax", np.maximum.accumulate)
cummax.__name__ = "cummax"
cummax.__doc__ = ("``(values, indices)``: the running maximum along ``axis`` and where each "
                  "came from (the latest of ties), as ``torch.cummax``; the gradient goes to "
                  "that entry.")
cummin = _cumulative_extreme("cummin", np.minimum.accumulate)
cummin.__name__ = "cummin"
cummin.__doc__ = ("``(values, indices)``: the running minimum along ``axis`` and where each "
                  "came from (the latest of ties), as ``torch.cummin``; the gradient goes to "
                  "that entry.")


def _method(fn):
    def method(self, dim):
        return fn(self, axis=dim)
    method.__name__ = fn.__name__
    method.__doc__ = f"``{fn.__name__}`` along ``dim``, as PyTorch's."
    return method


#: Tensor methods under PyTorch's names and signatures (installed by ``torch_api``).
TORCH_METHODS = {f.__name__: _method(f) for f in (cumsum, cumprod, logcumsumexp, cummax, cummin)}
