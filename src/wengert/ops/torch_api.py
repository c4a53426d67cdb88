"""Tensor methods under PyTorch's names and signatures, each a call of the primitives that
define it: ``dim=``/``keepdim=`` beside NumPy's ``axis=``/``keepdims=``, ``max(dim=...)``
giving values and indices, ``x.add_(y, alpha=2)`` and the other in-place ``_`` methods,
``chunk``, ``gather``, ``new_zeros``... The module-level functions (``wg.split``,
``wg.max``) stay NumPy's; where a method's name is PyTorch's, so is its meaning."""
from collections import namedtuple

import numpy as np

from ..autodiff.batching import Batched, per_example
from ..backend import as_dtype
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from . import activation, index, reduce, shape
from . import cumulative, structure
from . import elementwise as ew
from .methods import _setitem, write_in_place

#: What ``max``/``min``/``sort``/``topk`` with a ``dim`` return, as PyTorch's return types.
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _axis(name, axis, dim):
    """The axis given as NumPy's ``axis`` or PyTorch's ``dim`` (not both)."""
    if dim is None:
        return axis
    if axis is not None:
        raise ArgumentError(f"{name}: got axis={axis!r} and dim={dim!r}; they are the same "
                            "argument (NumPy's and PyTorch's name). Hint: pass one")
    return dim


def _keep(keepdims, keepdim):
    return keepdims if keepdim is None else keepdim


def _dim_of(t, dim, name):
    """``dim`` (one axis, negative counting from the end) as a non-negative axis of ``t``."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) \
            or not -t.ndim <= dim < t.ndim:
        raise ShapeError(f"{name}: dim {dim!r} is out of range for a tensor of shape {t.shape}")
    return int(dim) % t.ndim


# --- reductions: axis= or dim=, keepdims= or keepdim= -------------------------------------------
def _reduction(op):
    name = op.__name__

    def method(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return op(self, axis=_axis(name, axis, dim), keepdims=_keep(keepdims, keepdim))
    method.__name__ = name
    method.__doc__ = (f"``{name}`` over ``axis`` (or PyTorch's ``dim``); ``keepdims`` (or "
                      "``keepdim``) keeps the reduced axes with size 1.")
    return method


def _numpy_moments(op):
    """var/std: NumPy's (``axis``, ``ddof=0``). PyTorch's spelling would silently change the
    estimator (its default is correction=1), so it is refused with the translation."""
    name = op.__name__

    def method(self, axis=None, ddof=0, keepdims=False, **torch_style):
        if torch_style:
            raise ArgumentError(
                f"{name}: {', '.join(f'{k}=' for k in torch_style)} is PyTorch's spelling; "
                f"this {name} is NumPy's, with axis=, keepdims= and ddof=0 by default (PyTorch "
                f"defaults to correction=1). Hint: x.{name}(axis=0, ddof=1) is PyTorch's "
                f"x.{name}(dim=0)")
        return op(self, axis=axis, ddof=ddof, keepdims=keepdims)
    method.__name__ = name
    method.__doc__ = f"``{name}`` over ``axis`` with ``ddof`` (NumPy's; ddof=0 by default)."
    return method


def _extreme(op, arg, elementwise):
    """``max``/``min``: of everything, or with ``dim`` (PyTorch's, positional too, as in
    ``_, label = out.max(1)``) the pair (values, indices), the gradient going to the element
    each index names; with NumPy's ``axis=`` the values alone (ties share the gradient, as
    ``amax``); with a tensor, the element-wise ``maximum``/``minimum``."""
    name = op.__name__

    def method(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if isinstance(dim, (Tensor, np.ndarray)):
            return elementwise(self, dim)
        keep = keepdim if keepdims is None else keepdims
        if dim is None:
            return op(self, axis=axis, keepdims=keep)
        _axis(name, axis, dim)
        indices = arg(self, axis=dim, keepdims=True)
        values = index.take_along_axis(self, indices, axis=dim)
        if not keep:
            values = shape.squeeze(values, axis=dim)
            indices = shape.squeeze(indices, axis=dim)
        return ValuesIndices(values, indices)
    method.__name__ = name
    method.__doc__ = _extreme.__doc__.replace("``max``/``min``", f"``{name}``")
    return method


def _softmax(op):
    def method(self, axis=None, *, dim=None):
        axis = _axis(op.__name__, axis, dim)
        return op(self, axis=-1 if axis is None else axis)
    method.__name__ = op.__name__
    method.__doc__ = f"``{op.__name__}`` along ``axis`` (or ``dim``), -1 by default."
    return method


def _squeeze(self, axis=None, *, dim=None):
    """Drop every size-1 axis, or those named. ``axis`` (positional too) is NumPy's: each
    must have size 1. ``dim`` (an int or a tuple) is PyTorch's: the named axes that do not
    have size 1 stay, so ``x.squeeze(dim=0)`` of a (2, 3) tensor is that tensor."""
    _axis("squeeze", axis, dim)
    if dim is None:
        return shape.squeeze(self, axis=axis)
    dims = dim if isinstance(dim, tuple) else (dim,)
    dims = tuple(_dim_of(self, d, "squeeze") for d in dims) if self.ndim else ()
    size1 = tuple(d for d in dims if self.shape[d] == 1)
    return shape.squeeze(self, axis=size1)


def _unsqueeze(self, axis=None, *, dim=None):
    """A new size-1 axis at ``axis`` (or ``dim``)."""
    axis = _axis("unsqueeze", axis, dim)
    if axis is None:
        raise ArgumentError("unsqueeze: needs the position of the new axis (dim=...)")
    return shape.expand_dims(self, axis=axis)


# --- arithmetic and comparisons under PyTorch's names ---------------------------------------
def _add(self, other, *, alpha=1):
    """``self + alpha * other``."""
    return ew.add(self, other if alpha == 1 else ew.multiply(other, alpha))


def _sub(self, other, *, alpha=1):
    """``self - alpha * other``."""
    return ew.subtract(self, other if alpha == 1 else ew.multiply(other, alpha))


def _clamp(self, min=None, max=None):
    """Clamp to [min, max] (either may be None or a tensor), as ``torch.clamp``."""
    if min is None and max is None:
        raise ArgumentError("clamp: needs min= or max= (or both)")
    return ew.clip(self, a_min=min, a_max=max)


@per_example  # reads the values, index or mask
def _masked_fill(self, mask, value):
    """``value`` where ``mask`` (a bool tensor broadcasting to this shape) is True."""
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise ArgumentError(f"masked_fill: the mask must be bool, got dtype {m.dtype}")
    if not _broadcasts_to(m.shape, self.shape):
        raise ShapeError(f"masked_fill: a mask of shape {m.shape} does not broadcast to the "
                         f"tensor's shape {self.shape}")
    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"masked_fill: the value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    return ew.where(m, ew.astype(value, dtype=self.dtype) if isinstance(value, Tensor)
                    and value.dtype != self.dtype else value, self)


def _where(self, condition, other):
    """``self`` where ``condition``, else ``other`` (``torch.Tensor.where``)."""
    return ew.where(condition, self, other)


# --- dtypes and sizes -----------------------------------------------------------------------
def _to_dtype(dtype):
    def method(self):
        return self.astype(dtype)
    method.__doc__ = f"This tensor as {np.dtype(dtype).name} (itself if it is one already)."
    return method


def _type_as(self, other):
    """This tensor in ``other``'s dtype."""
    return self.astype(other.dtype)


def _numel(self):
    """The number of elements (NumPy's ``size``)."""
    return self.size


def _dim(self):
    """The number of axes (``ndim``)."""
    return self.ndim


def _contiguous(self):
    """This tensor when its data is C-contiguous, else a (differentiable) C-ordered copy."""
    if type(self) is Batched or self.data.flags.c_contiguous:  # a layout, not a value
        return self
    return shape.copy(self)


# --- shape ----------------------------------------------------------------------------------
def _sizes(sizes):
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes


def _expand(self, *sizes):
    """Broadcast to ``sizes`` (``-1`` keeps an axis; new axes go in front), a read-only view."""
    sizes = _sizes(sizes)
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes for a tensor of {self.ndim} dims "
                         f"(shape {self.shape}); give at least one size per dim")
    target = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise ShapeError(f"expand: -1 at position {i} is a new leading dim, which "
                                 f"has no size to keep (sizes {sizes}, shape {self.shape})")
            s = self.shape[i - lead]
        target.append(s)
    return shape.broadcast_to(self, shape=tuple(target))


def _expand_as(self, other):
    """``expand`` to ``other``'s shape."""
    return _expand(self, *other.shape)


def _reshape_as(self, other):
    """This tensor's values in ``other``'s shape (``view_as`` too: a view where NumPy can)."""
    return shape.reshape(self, shape=other.shape)


def _t(self):
    """The transpose of a matrix; a tensor of fewer than 2 dims is returned as it is."""
    if self.ndim > 2:
        raise ShapeError(f"t(): expects a tensor of at most 2 dims, got shape {self.shape}. "
                         "Hint: use transpose(d0, d1) or mT")
    return self if self.ndim < 2 else shape.transpose(self)


def _take(self, dim, key):
    """``self[..., key, ...]`` with ``key`` at axis ``dim``."""
    return index.getitem(self, key=(slice(None),) * dim + (key,))


def _split_sizes(n, split_size_or_sections, name):
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ArgumentError(f"{name}: the split size must be positive, got {size}")
        return [min(size, n - start) for start in range(0, n, size)] or [0]
    sizes = [int(s) for s in split_size_or_sections]
    if any(s < 0 for s in sizes) or sum(sizes) != n:
        raise ShapeError(f"{name}: sections {sizes} must be non-negative and add up to the "
                         f"dim's size {n}")
    return sizes


def _split(self, split_size_or_sections, dim=0):
    """PyTorch's split: pieces of ``split_size`` along ``dim`` (the last one smaller if the
    size does not divide), or of the sizes in a list. (``wg.split`` is NumPy's.)"""
    dim = _dim_of(self, dim, "split")
    pieces, start = [], 0
    for size in _split_sizes(self.shape[dim], split_size_or_sections, "split"):
        pieces.append(_take(self, dim, slice(start, start + size)))
        start += size
    return tuple(pieces)


def _chunk(self, chunks, dim=0):
    """``chunks`` pieces along ``dim`` of ceil(size / chunks) each (fewer pieces when the
    size runs out first, as PyTorch's)."""
    if chunks <= 0:
        raise ArgumentError(f"chunk: needs a positive number of chunks, got {chunks}")
    dim = _dim_of(self, dim, "chunk")
    return _split(self, max(-(-self.shape[dim] // chunks), 1), dim)


def _unbind(self, dim=0):
    """The slices along ``dim``, as a tuple (each without that dim)."""
    dim = _dim_of(self, dim, "unbind")
    return tuple(_take(self, dim, i) for i in range(self.shape[dim]))


def _narrow(self, dim, start, length):
    """``length`` entries from ``start`` along ``dim`` (a view)."""
    dim = _dim_of(self, dim, "narrow")
    n = self.shape[dim]
    start = start + n if start < 0 else start
    if not (0 <= start <= n and 0 <= length <= n - start):
        raise ShapeError(f"narrow: start {start} and length {length} do not fit dim {dim} of "
                         f"size {n}")
    return _take(self, dim, slice(start, start + length))


def _select(self, dim, index_):
    """The slice at ``index`` along ``dim``, without that dim."""
    dim = _dim_of(self, dim, "select")
    n = self.shape[dim]
    if not -n <= index_ < n:
        raise ShapeError(f"select: index {index_} is out of range for dim {dim} of size {n}")
    return _take(self, dim, index_)


@per_example  # reads the values, index or mask
def _index_select(self, dim, index_):
    """The entries at the 1-D integer ``index`` along ``dim`` (repeats allowed; their
    gradients add up)."""
    idx = index_.data if isinstance(index_, Tensor) else np.asarray(index_)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise ShapeError(f"index_select: the index must be a 1-D integer tensor, got shape "
                         f"{idx.shape} and dtype {idx.dtype}")
    return _take(self, _dim_of(self, dim, "index_select"), idx.reshape(-1))


@per_example  # reads the values, index or mask
def _gather(self, dim, index_):
    """``out[i][j] = self[index[i][j]][j]`` for dim 0 (and so on), as ``torch.gather``: the
    index has this tensor's number of dims and, outside ``dim``, sizes no larger."""
    idx = index_.data if isinstance(index_, Tensor) else np.asarray(index_)
    dim = _dim_of(self, dim, "gather")
    if idx.ndim != self.ndim or any(i > s for d, (i, s) in enumerate(zip(idx.shape, self.shape))
                                    if d != dim):
        raise ShapeError(f"gather: an index of shape {idx.shape} does not fit a tensor of "
                         f"shape {self.shape} along dim {dim} (same number of dims, and no "
                         "larger outside dim)")
    part = self
    if any(i < s for d, (i, s) in enumerate(zip(idx.shape, self.shape)) if d != dim):
        part = index.getitem(self, key=tuple(slice(None) if d == dim else slice(0, i)
                                             for d, i in enumerate(idx.shape)))
    return index.take_along_axis(part, idx, axis=dim)


def _flip(self, *dims):
    """The entries in reverse order along each of ``dims``."""
    dims = {_dim_of(self, d, "flip") for d in _sizes(dims)}
    return index.getitem(self, key=tuple(slice(None, None, -1) if d in dims else slice(None)
                                         for d in range(self.ndim)))


@per_example  # reads the values, index or mask
def _sort(self, dim=-1, descending=False):
    """``(values, indices)`` sorted along ``dim`` (stable); the values' gradient goes back to
    where each came from."""
    dim = _dim_of(self, dim, "sort")
    data = self.data
    if descending:  # ascending order of the negation; unsigned and bool values negate as int64
        data = -(data.astype(np.int64) if data.dtype.kind in "ub" else data)
    order = np.argsort(data, axis=dim, kind="stable")
    return ValuesIndices(index.take_along_axis(self, order, axis=dim), Tensor._wrap(order))


def _argsort(self, dim=-1, descending=False):
    """The indices that sort along ``dim`` (stable)."""
    return _sort(self, dim, descending).indices


def _topk(self, k, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest (or smallest) entries along ``dim``, in
    order (``sorted`` is accepted for PyTorch's signature: they always are)."""
    dim = _dim_of(self, dim, "topk")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= self.shape[dim]:
        raise ShapeError(f"topk: k={k} is out of range for dim {dim} of size {self.shape[dim]}")
    values, indices = _sort(self, dim, descending=largest)
    key = (slice(None),) * dim + (slice(0, k),)
    return ValuesIndices(index.getitem(values, key=key), index.getitem(indices, key=key))


# --- new tensors like this one --------------------------------------------------------------
def _new(fill):
    def method(self, *size, dtype=None, requires_grad=False):
        data = np.full(_sizes(size), fill, dtype=self.dtype if dtype is None else as_dtype(dtype))
        return Tensor(data, requires_grad=requires_grad)
    method.__doc__ = (f"A tensor of ``size`` filled with {fill}, in this tensor's dtype unless "
                      "``dtype`` says otherwise.")
    return method


def _new_full(self, size, fill_value, *, dtype=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value``, in this tensor's dtype by default."""
    data = np.full(tuple(size), fill_value, dtype=self.dtype if dtype is None else as_dtype(dtype))
    return Tensor(data, requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, requires_grad=False):
    """A copy of ``data`` as a new leaf, in this tensor's dtype unless ``dtype`` is given."""
    data = data.data if isinstance(data, Tensor) else data
    return Tensor(np.array(data, dtype=self.dtype if dtype is None else as_dtype(dtype)),
                  requires_grad=requires_grad)


# --- in place ---------------------------------------------------------------------------------
def _saves_input(op):
    """Whether ``op``'s graph keeps its input's array (a composite may: assume so)."""
    prim = getattr(op, "prim", None)
    return True if prim is None else prim.saves_inputs


def _in_place_unary(op, name):
    """``x.exp_()``, ``x.logit_(eps)`` and the like: ``op``'s result (with the options
    given) written into x (errors say ``name``)."""
    saves = _saves_input(op)

    def method(self, *args, **kwargs):
        return write_in_place(self, name, lambda x: op(x, *args, **kwargs), (), saves)
    method.__name__ = name
    method.__doc__ = f"``{op.__name__}`` in place; returns this tensor."
    return method


def _add_(self, other, *, alpha=1):
    """``self += alpha * other`` in place."""
    return write_in_place(self, "add_", lambda x, o: _add(x, o, alpha=alpha), (other,), False)


def _sub_(self, other, *, alpha=1):
    """``self -= alpha * other`` in place."""
    return write_in_place(self, "sub_", lambda x, o: _sub(x, o, alpha=alpha), (other,), False)


def _binary_(op, name):
    saves = _saves_input(op)

    def method(self, other):
        return write_in_place(self, name, op, (other,), saves)
    method.__name__ = name
    method.__doc__ = f"``{op.__name__}`` with ``other``, in place; returns this tensor."
    return method


def _lerp_(self, end, weight):
    """``lerp`` towards ``end`` by ``weight``, in place."""
    return write_in_place(self, "lerp_", ew.lerp, (end, weight))


def _clamp_(self, min=None, max=None):
    """``clamp`` in place."""
    return write_in_place(self, "clamp_", lambda x: _clamp(x, min, max))


def _masked_fill_(self, mask, value):
    """``masked_fill`` in place."""
    return write_in_place(self, "masked_fill_", lambda x, v: _masked_fill(x, mask, v),
                          (value,))


def _fill_(self, value):
    """Every element set to ``value`` (a number or a 0-d tensor, whose gradient is the sum of
    this tensor's); returns this tensor."""
    if isinstance(value, Tensor) and value.ndim:
        raise ShapeError(f"fill_: the value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    _setitem(self, Ellipsis, value, "an in-place 'fill_'")
    return self


def _zero_(self):
    """Every element set to 0; returns this tensor."""
    _setitem(self, Ellipsis, 0, "an in-place 'zero_'")
    return self


def _copy_(self, src):
    """``src``'s values (broadcast to this shape, cast to this dtype) written into this
    tensor; ``src`` gets the gradient. Returns this tensor."""
    src_shape = src.shape if isinstance(src, Tensor) else np.shape(src)
    if not _broadcasts_to(src_shape, self.shape):
        raise ShapeError(f"copy_: a source of shape {src_shape} does not broadcast to the "
                         f"tensor's shape {self.shape}")
    if isinstance(src, Tensor) and src.dtype != self.dtype:
        src = src.astype(self.dtype)
    _setitem(self, Ellipsis, src, "an in-place 'copy_'")
    return self


TORCH_METHODS = {
    **{op.__name__: _reduction(op) for op in (reduce.sum, reduce.mean, reduce.prod,
                                              reduce.logsumexp, reduce.norm, reduce.argmax,
                                              reduce.argmin, reduce.any, reduce.all)},
    "amax": _reduction(reduce.max), "amin": _reduction(reduce.min),
    "max": _extreme(reduce.max, reduce.argmax, ew.maximum),
    "min": _extreme(reduce.min, reduce.argmin, ew.minimum),
    "var": _numpy_moments(reduce.var), "std": _numpy_moments(reduce.std),
    "softmax": _softmax(activation.softmax), "log_softmax": _softmax(activation.log_softmax),
    "squeeze": _squeeze, "unsqueeze": _unsqueeze,
    "add": _add, "sub": _sub, "subtract": _sub, "mul": ew.multiply, "multiply": ew.multiply,
    "div": ew.divide, "divide": ew.divide, "pow": ew.power, "neg": ew.negative,
    "negative": ew.negative, "maximum": ew.maximum, "minimum": ew.minimum,
    "eq": ew.equal, "ne": ew.not_equal, "lt": ew.less, "le": ew.less_equal, "gt": ew.greater,
    "ge": ew.greater_equal, "clamp": _clamp, "masked_fill": _masked_fill, "where": _where,
    "float": _to_dtype(np.float32), "double": _to_dtype(np.float64),
    "half": _to_dtype(np.float16), "long": _to_dtype(np.int64), "int": _to_dtype(np.int32),
    "bool": _to_dtype(np.bool_), "type_as": _type_as, "numel": _numel, "dim": _dim,
    "contiguous": _contiguous,
    "expand": _expand, "expand_as": _expand_as, "view_as": _reshape_as,
    "reshape_as": _reshape_as,
    "t": _t, "split": _split, "chunk": _chunk, "unbind": _unbind, "narrow": _narrow,
    "select": _select, "index_select": _index_select, "gather": _gather, "flip": _flip,
    "sort": _sort, "argsort": _argsort, "topk": _topk,
    "new_zeros": _new(0), "new_ones": _new(1), "new_full": _new_full,
    "new_tensor": _new_tensor,
    # element-wise math, under PyTorch's names (and NumPy's, which PyTorch has too)
    **{name: getattr(ew, name) for name in (
        "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "asin",
        "acos", "atan", "asinh", "acosh", "atanh", "arctan2", "atan2", "hypot", "log2",
        "log10", "exp2", "logaddexp", "logaddexp2", "xlogy", "logit", "lerp", "fmod",
        "remainder", "floor_divide", "heaviside", "nan_to_num", "deg2rad", "rad2deg",
        "trunc")},
    # in place
    **{op.__name__ + "_": _in_place_unary(op, op.__name__ + "_")
       for op in (ew.exp, ew.log, ew.log1p, ew.expm1, ew.sqrt, ew.square, ew.reciprocal,
                  ew.abs, ew.sin, ew.cos, ew.tan, ew.tanh, ew.sigmoid, ew.relu)},
    "neg_": _in_place_unary(ew.negative, "neg_"),
    "add_": _add_, "sub_": _sub_, "mul_": _binary_(ew.multiply, "mul_"),
    "div_": _binary_(ew.divide, "div_"),
    "pow_": _binary_(ew.power, "pow_"), "clamp_": _clamp_, "masked_fill_": _masked_fill_,
    "fill_": _fill_, "zero_": _zero_, "copy_": _copy_, "lerp_": _lerp_,
    # element-wise math in place (its ops with no gradient are left out: writing their
    # result into a tensor that records would need a zero-gradient node)
    **{name + "_": _in_place_unary(getattr(ew, name), name + "_") for name in (
        "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "asin",
        "acos", "atan", "asinh", "acosh", "atanh", "log2", "log10", "exp2", "deg2rad",
        "rad2deg", "logit", "nan_to_num", "erf")},
    **{name + "_": _binary_(getattr(ew, name), name + "_") for name in (
        "arctan2", "atan2", "hypot", "xlogy", "fmod", "remainder")},
    **cumulative.TORCH_METHODS, **structure.TORCH_METHODS,
}
