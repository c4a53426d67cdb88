"""Indexing: ``x[key]`` (basic and advanced), its adjoint ``scatter_add``, the functional
``index_put`` behind ``x[key] = v``, take_along_axis and one_hot."""
import numpy as np

from ..autodiff.batching import Batched, per_example
from ..autodiff.primitive import ARRAY, defop, nondiff
from ..errors import ShapeError
from ..sparse import SlicedGrad
from ..tensor import Tensor


def normalize_key(key):
    """A NumPy index with tensors replaced by their arrays and lists by integer/bool arrays.
    A batched index (inside vmap) stays a tensor: the batching rule reads it."""
    if isinstance(key, tuple):
        return tuple(normalize_key(k) for k in key)
    if isinstance(key, Tensor):
        return key if type(key) is Batched else key.data
    if isinstance(key, list):
        return np.asarray([k.data if isinstance(k, Tensor) else k for k in key])
    return key


def is_basic(key):
    """True when ``key`` has only ints, slices, None and Ellipsis: each element is selected
    at most once, so a plain assignment is a correct adjoint."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice))
               for p in parts)


def _getitem(x, key):
    try:
        out = x[key]
    except IndexError as exc:
        raise ShapeError(f"getitem: index {key!r} does not fit a tensor of shape {x.shape}: "
                         f"{exc}") from None
    if type(out) is not np.ndarray and is_basic(key):
        # an int for every axis gives NumPy a scalar, a copy; with "..." it is a 0-d view, so
        # that a write into x[i] (x[i].fill_(1), v = x[i]; v += 1) reaches x, as PyTorch's
        out = x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]
    return out


def _scatter_add(g, key, shape):
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic(key):
        out[key] = g
    else:
        np.add.at(out, key, g)  # repeated indices add up
    return out


def _getitem_vjp(ns, g, ans, x, key):
    # on arrays a basic slice's gradient stays lazy: the engine adds the slices of one tensor
    # into a single array (see wengert.sparse.SlicedGrad)
    if ns is ARRAY and is_basic(key):
        return SlicedGrad(key, g, x.shape)
    return ns.scatter_add(g, key=key, shape=x.shape)


getitem = defop(
    "getitem", _getitem,
    vjp=[_getitem_vjp],
    jvp=[lambda ns, t, ans, x, key: ns.getitem(t, key=key)],
    saves="none", view=True, doc="``x[key]`` for any NumPy index.")

scatter_add = defop(
    "scatter_add", _scatter_add,
    vjp=[lambda ns, g, ans, x, key, shape: ns.getitem(g, key=key)],
    jvp=[lambda ns, t, ans, x, key, shape: ns.scatter_add(t, key=key, shape=shape)],
    saves="none", doc="Zeros of ``shape`` with ``g`` added at ``key`` (repeats accumulate); "
                      "the adjoint of getitem.")


def indexed_shape(shape, key):
    """The shape of ``x[key]`` for an ``x`` of ``shape``, without touching data."""
    return np.broadcast_to(np.empty((), dtype=bool), shape)[key].shape


def _index_put(x, value, key):
    out = x.copy()
    out[key] = value
    return out


index_put = defop(
    "index_put", _index_put,
    vjp=[lambda ns, g, ans, x, v, key: ns.index_put(g, 0, key=key),
         lambda ns, g, ans, x, v, key: ns.getitem(g, key=key)],
    jvp=[lambda ns, t, ans, x, v, key: ns.index_put(t, 0, key=key),
         lambda ns, t, ans, x, v, key: ns.scatter_add(
             ns.broadcast_to(t, shape=indexed_shape(ans.shape, key)), key=key, shape=ans.shape)],
    saves="none", doc="A copy of ``x`` with ``x[key] = value`` (what ``__setitem__`` records).")


def along_axis_key(indices, axis, ndim):
    """The advanced index that makes ``x[key] == take_along_axis(x, indices, axis)``."""
    axis = axis % ndim
    key = []
    for d in range(ndim):
        if d == axis:
            key.append(indices)
        else:
            shape = [1] * ndim
            shape[d] = -1
            key.append(np.arange(indices.shape[d]).reshape(shape))
    return tuple(key)


@per_example
def take_along_axis(x, indices, axis):
    """Pick values along ``axis`` at ``indices`` (same ndim as x), as NumPy's function;
    the gradient scatters back with repeats added."""
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.ndim != np.ndim(x):
        raise ShapeError(f"take_along_axis: indices of shape {idx.shape} need as many dims as "
                         f"the tensor of shape {np.shape(x)}")
    return getitem(x, key=along_axis_key(idx, axis, idx.ndim))


def _one_hot(indices, num_classes, dtype=np.float32):
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer class indices, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ShapeError(f"one_hot: class indices must be in [0, {num_classes}), got range "
                         f"[{indices.min()}, {indices.max()}]")
    out = np.zeros(indices.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return out


one_hot = nondiff("one_hot", _one_hot, doc="Rows of the identity for integer class indices "
                                           "(float32 by default; no gradient).")
