"""Tensor operators and methods, each a thin call of the one primitive that defines it."""
import warnings

import numpy as np

from ..autodiff.batching import Batched, batched_write, refuse_write
from ..autodiff.grad_mode import no_grad
from ..autodiff.primitive import TENSOR, reflected
from ..autodiff.state import DETOUR, REBASED, STATE, mark_modified, next_stamp
from ..backend import as_dtype, is_float
from ..errors import DTypeError, GraphError, ShapeError
from ..tensor import Tensor
from . import elementwise as ew, index, linalg, shape


_warned_accumulation = [False]


def _warn_if_accumulating_a_used_loss(t):
    """The lectures' leak: ``running_loss += loss`` with a loss that requires grad chains
    every step's output into one graph. Said once, with the fix, when the tensor's graph was
    already consumed by a backward (so no gradient can flow through it anyway)."""
    node = t._node if isinstance(t, Tensor) else None
    if node is not None and node.inputs is None and not _warned_accumulation[0]:
        _warned_accumulation[0] = True
        warnings.warn(
            f"accumulating a tensor (shape {t.shape}) whose graph a backward() already freed "
            "records a new node each time and keeps every step's tensors alive. Hint: "
            "accumulate loss.item() (a float) instead", stacklevel=3)


def _radd(self, other):
    _warn_if_accumulating_a_used_loss(self)
    return ew.add(other, self)


def _inplace(op):
    """``x op= y``: writes into x's storage (see :func:`write_in_place`)."""
    def method(self, other):
        _warn_if_accumulating_a_used_loss(other)
        return write_in_place(self, op.__name__, op, (other,), op.prim.saves_inputs)
    return method


def write_in_place(self, name, compute, others=(), saves_input=True):
    """Write ``compute(self, *others)`` into ``self``'s storage and return ``self``. When a
    graph records through it, ``self`` is rebased onto the new node (as PyTorch), and anything
    that saved its old value will refuse to backward (version counter); ``saves_input`` says
    whether ``compute``'s graph keeps its first input's array, which the write then must not
    change. A write into a view is recorded on what it views too."""
    if type(self) is Batched:
        return batched_write(self, name, compute, others, saves_input, write_in_place)
    if DETOUR[0] and STATE.vmap_levels and any(type(o) is Batched for o in others):
        refuse_write(f"an in-place '{name}'")
    if STATE.grad_enabled:
        _check_writable(self, f"an in-place '{name}'")
    if STATE.grad_enabled and (self.requires_grad or any(
            isinstance(o, Tensor) and o.requires_grad for o in others)):
        old = _stand_in(self, self.data.copy() if saves_input else self.data)
        # y *= y, or a view of y: the op reads the value before the write, which the write
        # would change under any array the op saved
        others = [old if o is self else shape.copy(o)
                  if isinstance(o, Tensor) and np.may_share_memory(o.data, self.data) else o
                  for o in others]
        result = compute(old, *others)
        self._write(result.data, name)
        _record_write(self, old, result)
        return self
    with no_grad():
        result = compute(self, *others)
    self._write(result.data, name)
    if DETOUR[0] and STATE.fw_levels:
        _record_write(self, None, result)  # the tangents only
    return self


def _stand_in(t, data):
    """A tensor for ``t``'s value before a write (``data``: that value), with ``t``'s node and
    forward-mode tangents."""
    old = Tensor._wrap(data, t._node, t.requires_grad)
    if t._tangents is not None:
        old._tangents = t._tangents
    return old


def _check_writable(t, what):
    """With grad enabled, refuse writes whose gradient would be wrong (PyTorch refuses them
    too): into a leaf that requires grad or a view of one (its gradient would be for values it
    no longer holds); into a view taken while nothing recorded it (under no_grad, or while its
    base needed no gradient) of a base that requires grad now (the write could not reach the
    base's graph)."""
    bases = [base for _, base, _, _ in _viewed(t)]
    for leaf in [t] + bases:
        if leaf.requires_grad and leaf._node is None:
            of = "" if leaf is t else f"a view (shape {t.shape}) of "
            raise GraphError(
                f"{of}a leaf tensor of shape {leaf.shape} that requires grad is used in "
                f"{what}. Hint: wrap parameter updates in 'with no_grad():' or use an "
                "out-of-place op")
    if t._node is None and any(b.requires_grad for b in bases):
        raise GraphError(
            f"{what} writes into a view (shape {t.shape}) taken while nothing recorded it "
            "(under no_grad, or before its base needed a gradient), and its base (shape "
            f"{bases[-1].shape}) requires grad now: the write could not reach the base's "
            "gradient. Hint: take the view again with grad enabled (v = y[...]) and write "
            "into that")


def _record_write(tensor, old, value, written=None):
    """``value`` (recorded, unless nothing records) now holds ``tensor``'s values, which
    ``old`` held before the write. For a view, the tensors it views changed too (their
    memory is its memory), so each records the write, from the outermost down (as PyTorch's
    CopySlices): a base takes
    ``index_put(base, view, key)`` for a getitem view; a view of all its base's elements
    (reshape, transpose...) gives the base its inverse, which is the view's own VJP rule.
    ``written`` is the part of ``tensor`` the write changed (all of it by default).
    The views are then taken again from their rebased bases, and so is every other view of
    these tensors whose values the write changed (:func:`_rederive_views`). Every tensor
    written takes its new value's forward-mode tangents; with ``old`` None (nothing records:
    forward mode alone) that is all that happens."""
    recording = old is not None
    chain = _viewed(tensor)
    written = tensor.data if written is None else written
    tensor._tangents = value._tangents
    if not chain:
        if recording:
            _rebase(tensor, value._node, old)
        _rederive_views(tensor, written, recording)
        return
    olds = [old]
    for t, base, prim, params in chain:
        base_old = _stand_in(base, base.data)
        value = _put_into(base_old, value, prim, params)
        olds.append(base_old)
    root = chain[-1][1]
    root._tangents = value._tangents
    if recording:
        _rebase(root, value._node, olds[-1])
    for (t, base, prim, params), t_old in zip(reversed(chain), reversed(olds[:-1])):
        node = _take_again(t, base, prim, params)
        if recording:
            _rebase(t, node, t_old)
    # after the chain, so that a view of a chain member is taken from its final value
    done = {id(t) for t, _, _, _ in chain}
    for t in [root] + [t for t, _, _, _ in reversed(chain)]:
        _rederive_views(t, written, recording, done)


def _rederive_views(base, written, recording, done=()):
    """``base``'s views taken with grad on, recorded or constant, whose values the write into
    ``written`` changed (but those whose ids are in ``done``, taken again already) are taken
    again from the base, as PyTorch regenerates a view's grad_fn: they take its new tangents
    and, when the write was recorded, a new node, so that they and what is computed from
    them from now on differentiate through the written values, while ops recorded before
    the write still differentiate the old values (:func:`_rebase`). Their views in turn
    follow. A view beside the write keeps its node: its values did not change."""
    if base._views is None:
        return
    for v in base._views.changed_by(written):
        if id(v) in done:
            continue
        _, prim, params = v._view_src
        old = _stand_in(v, v.data) if recording else None  # before the tangents change
        node = _take_again(v, base, prim, params)
        if recording:
            _rebase(v, node, old)
        _rederive_views(v, written, recording)


def _take_again(view, base, prim, params):
    """Give ``view`` the tangents of the same view taken again from ``base``, which was just
    written, and return that one's node (None when nothing records). A function of its own
    so that the view taken again, which ``base`` lists among its views, is gone before
    anything walks that list."""
    again = prim.apply(base, **params)
    view._tangents = again._tangents
    return again._node


def _viewed(t):
    """``[(view, its base, the view primitive, its params)]`` from ``t`` outwards, while each
    view still shares its base's memory (a tensor whose data was replaced since is where a
    write into it stays)."""
    chain = []
    while t._view_src is not None:
        base, prim, params = t._view_src
        if not np.may_share_memory(t.data, base.data):
            break
        chain.append((t, base, prim, params))
        t = base
    return chain


def _put_into(base, value, prim, params):
    """``base`` with its ``prim`` view holding ``value``, recorded."""
    if prim is index.getitem.prim:
        return index.index_put(base, value, key=params["key"])
    if value.data.size != base.data.size or prim.vjps is None:
        raise GraphError(
            f"an in-place write into a '{prim.name}' view of a tensor that is part of a graph "
            "is not supported. Hint: clone() the view first, or write into the tensor itself")
    new = prim.vjps[0](TENSOR, value, None, base, **params)  # the inverse of a bijective view
    return shape.alias(new) if new is value else new


def _rebase(tensor, node, old):
    """Make ``node`` (which computed the values just written into ``tensor``) the tensor's
    node; its tick moves past the write, which is part of what it recorded. ``old`` stands for
    the value before the write (with the previous node): nodes recorded before it took
    ``tensor`` as input meaning that value, so backward sends their gradients to ``old``
    (:func:`wengert.autodiff.engine._as_recorded`).
    The tensor keeps ``old`` (the rebasing node, which also holds it, may be freed first)."""
    tensor._node = node
    tensor.requires_grad = True
    node.out = tensor.data
    node.out_cell = tensor._version_cell()
    node.seq = next_stamp()
    if tensor._rebases is None:
        tensor._rebases = []
    tensor._rebases.append((node.seq, old))
    REBASED[0] = True


# PyTorch's canCast: a result may go into a tensor of its kind or a higher one
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _write(self, values, opname):
    if values.shape != self.data.shape:
        raise ShapeError(f"in-place '{opname}': the result has shape {values.shape} but the "
                         f"tensor has shape {self.data.shape}")
    if not self.data.flags.writeable:
        raise GraphError(f"in-place '{opname}' on a read-only tensor (a broadcast view); "
                         "clone() it first")
    if values.dtype != self.data.dtype and _KIND_RANK[values.dtype.kind] > _KIND_RANK[
            self.data.dtype.kind]:
        # NumPy would truncate a float result into an integer tensor; PyTorch refuses it
        # (and bool from anything else), but wraps integers into a narrower integer dtype
        raise DTypeError(f"in-place '{opname}': the result has dtype {values.dtype}, which "
                         f"cannot be stored in the tensor's dtype {self.data.dtype} (shape "
                         f"{self.data.shape}). Hint: use the out-of-place op, or convert "
                         "the tensor first (x.float())")
    self.data[...] = values
    mark_modified(self)


def _setitem(self, key, value, what="an assignment (x[...] = v)"):
    key = index.normalize_key(key)
    if type(self) is Batched or type(value) is Batched:
        if type(self) is not Batched:
            refuse_write(what)
        write_in_place(self, "setitem", lambda old, v: index.index_put(old, v, key=key),
                       (value,), saves_input=False)
        return
    value_grad = isinstance(value, Tensor) and value.requires_grad
    if not self.data.flags.writeable:
        raise GraphError("assignment into a read-only tensor (a broadcast view); clone() it first")
    if STATE.grad_enabled:
        _check_writable(self, what)
    if _is_region_itself(self, key, value):
        # the last step of `y[i] += w` writes the view it updated back into itself: nothing
        # changes, and recording it would add two nodes and take the view again
        return
    if STATE.grad_enabled and (self.requires_grad or value_grad):
        old = _stand_in(self, self.data)
        result = index.index_put(old, value, key=key)
        self.data[key] = result.data[key]
        mark_modified(self)
        _record_write(self, old, result, _region(self.data, key))
        return
    if DETOUR[0] and STATE.fw_levels:  # forward mode: the tangents are written too
        with no_grad():
            result = index.index_put(self, value, key=key)
        self.data[key] = result.data[key]
        mark_modified(self)
        _record_write(self, None, result, _region(self.data, key))
        return
    self.data[key] = value.data if isinstance(value, Tensor) else value
    mark_modified(self)


def _is_region_itself(t, key, value):
    """Whether ``value`` is a view of ``t`` holding exactly the memory ``t[key]`` names."""
    if not (isinstance(value, Tensor) and value._view_src is not None
            and value._view_src[0] is t and index.is_basic(key)):
        return False
    region, data = _region(t.data, key), value.data
    return (region.shape == data.shape and region.strides == data.strides
            and region.ctypes.data == data.ctypes.data)


def _region(data, key):
    """The part of ``data`` that ``data[key] = ...`` writes, as a view: for a basic key (with
    an Ellipsis, so that integers alone give a 0-d view rather than a scalar), else all of
    ``data`` (an advanced key's result is a copy)."""
    if not index.is_basic(key):
        return data
    parts = key if isinstance(key, tuple) else (key,)
    return data[parts if any(p is Ellipsis for p in parts) else parts + (Ellipsis,)]


def _getitem(self, key):
    return index.getitem(self, key=index.normalize_key(key))


def _shape_arg(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _astype(self, dtype):
    dtype = as_dtype(dtype)
    if dtype == self.dtype:
        return self
    if is_float(dtype) and is_float(self.dtype):
        return ew.astype(self, dtype=dtype)
    return ew.cast(self, dtype=dtype)


def _transpose(self, axes):
    """``t.transpose(d0, d1)`` swaps two dims, as PyTorch's; ``t.transpose()`` reverses them
    and ``t.transpose(axes)`` (a tuple) or three or more dims permute them, as NumPy's. (For
    NumPy two dims are a permutation too, which on a matrix makes ``transpose(0, 1)`` the
    identity: written by a PyTorch user, it always means the swap.)"""
    if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
        return shape.swapaxes(self, axis1=axes[0], axis2=axes[1])
    return shape.transpose(self, axes=_shape_arg(axes) or None)


def _mT(self):
    return shape.swapaxes(self, axis1=-1, axis2=-2)


METHODS = {
    "__add__": ew.add, "__radd__": _radd,
    "__sub__": ew.subtract, "__rsub__": reflected(ew.subtract),
    "__mul__": ew.multiply, "__rmul__": reflected(ew.multiply),
    "__truediv__": ew.divide, "__rtruediv__": reflected(ew.divide),
    "__pow__": ew.power, "__rpow__": reflected(ew.power),
    "__matmul__": linalg.matmul, "__rmatmul__": reflected(linalg.matmul),
    "__mod__": ew.remainder, "__rmod__": reflected(ew.remainder),  # Python's %, as torch
    "__floordiv__": ew.floor_divide, "__rfloordiv__": reflected(ew.floor_divide),
    "__neg__": ew.negative, "__pos__": lambda self: self, "__abs__": ew.abs,
    "__eq__": ew.equal, "__ne__": ew.not_equal, "__lt__": ew.less, "__le__": ew.less_equal,
    "__gt__": ew.greater, "__ge__": ew.greater_equal,
    "__and__": ew.logical_and, "__or__": ew.logical_or, "__invert__": ew.logical_not,
    "__iadd__": _inplace(ew.add), "__isub__": _inplace(ew.subtract),
    "__imul__": _inplace(ew.multiply), "__itruediv__": _inplace(ew.divide),
    "__getitem__": _getitem, "__setitem__": _setitem, "_write": _write,
    # element-wise
    "exp": ew.exp, "log": ew.log, "log1p": ew.log1p, "expm1": ew.expm1, "sqrt": ew.sqrt,
    "square": ew.square, "reciprocal": ew.reciprocal, "abs": ew.abs, "sin": ew.sin,
    "cos": ew.cos, "tan": ew.tan, "tanh": ew.tanh, "sigmoid": ew.sigmoid, "relu": ew.relu,
    "sign": ew.sign, "floor": ew.floor, "ceil": ew.ceil, "round": ew.round,
    "clip": lambda self, a_min=None, a_max=None: ew.clip(self, a_min=a_min, a_max=a_max),
    "isnan": ew.isnan, "isfinite": ew.isfinite,
    "astype": _astype, "clone": shape.copy,
    # shape
    "reshape": lambda self, *shape_: shape.reshape(self, shape=_shape_arg(shape_)),
    "view": lambda self, *shape_: shape.reshape(self, shape=_shape_arg(shape_)),
    "flatten": shape.flatten,
    "transpose": lambda self, *axes: _transpose(self, axes),
    "permute": lambda self, *axes: shape.transpose(self, axes=_shape_arg(axes)),
    "swapaxes": lambda self, axis1, axis2: shape.swapaxes(self, axis1=axis1, axis2=axis2),
    "expand_dims": lambda self, axis: shape.expand_dims(self, axis=axis),
    "broadcast_to": lambda self, *shape_: shape.broadcast_to(self, shape=_shape_arg(shape_)),
    "matmul": linalg.matmul, "dot": linalg.dot,
}


def install():
    from .torch_api import TORCH_METHODS  # built on this module's in-place writes
    for name, fn in {**METHODS, **TORCH_METHODS}.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda self: shape.transpose(self))
    Tensor.mT = property(_mT)
    Tensor.backward = _backward


def _backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradient of this tensor into the ``.grad`` of every leaf that requires
    grad (or only of ``inputs``). A non-scalar tensor needs ``gradient`` (the seed of its
    shape). The graph is freed unless ``retain_graph`` (default: ``create_graph``)."""
    from ..autodiff.engine import backward
    backward(self, gradient, retain_graph, create_graph, inputs)


install()
