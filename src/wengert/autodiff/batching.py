"""Batching: the tensors and per-primitive rules behind ``vmap``.

Inside ``vmap(f)``, ``f`` sees :class:`Batched` tensors: each wraps one *physical* tensor
whose first axis runs over the batch, and shows only the per-example (*logical*) shape, so
``f`` is written for one example. Every primitive applied to a batched tensor goes through
:func:`batch_apply`, which calls the primitive (or a few others) once on the physical tensors
with the axes shifted past the batch axis, and wraps the result. A primitive with no rule
here runs once per example and its results are stacked, which is always right, only slower.

The physical tensors are ordinary tensors, so transforms outside ``vmap`` (``grad``, ``jvp``)
record and differentiate the batched computation as any other, and vmaps nest: a physical
tensor may itself be batched at an outer level. Levels are numbered in the order the vmaps
were entered; an op batches along the innermost level among its arguments, and an argument
batched only at outer levels takes part as an unbatched value (its own dispatch batches it
there), as in JAX.
"""
import functools
import inspect
import itertools

import numpy as np

from ..errors import GraphError, ShapeError, Unbatchable
from ..pytree import flatten, unflatten
from ..tensor import Tensor
from .primitive import TENSOR
from .state import DETOUR, STATE

_levels = itertools.count(1)


def next_level():
    """A fresh level number: larger than every level entered before."""
    return next(_levels)


def _refuse(what):
    raise Unbatchable(
        f"vmap: {what} on a batched tensor; inside vmap a tensor stands for one example of "
        "a batch, so its values cannot be read as one array. Hint: compute with wengert ops "
        "(wg.where instead of an if on values, out-of-place instead of in-place ops), use "
        "wengert.grad instead of backward(), or take the values after vmap returns")


class Batched(Tensor):
    """A tensor inside ``vmap``: the per-example view of a physical tensor whose axis 0 is
    the batch of level ``level``. Shape, ndim, size and dtype are the example's; reading the
    values (``.data``, ``.item()``, ``.numpy()``, ``bool()``) is refused."""

    __slots__ = ("_value", "_level")

    def __init__(self, value, level):
        self._value = value
        self._level = level

    @property
    def data(self):
        batch_size(self._level)  # raises if this tensor escaped its vmap
        _refuse("reading .data (in-place writes, .numpy(), NumPy calls and indexing with it "
                "read it)")

    @property
    def requires_grad(self):
        return self._value.requires_grad

    @property
    def shape(self):
        return self._value.shape[1:]

    @property
    def ndim(self):
        return self._value.ndim - 1

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def is_leaf(self):
        return self._value.is_leaf

    @property
    def grad_fn(self):
        return None

    @property
    def version(self):
        return self._value.version

    def requires_grad_(self, requires_grad=True):
        self._value.requires_grad_(requires_grad)
        return self

    def detach(self):
        return Batched(self._value.detach(), self._level)

    def detach_(self):
        _refuse("detach_()")

    def retain_grad(self):
        _refuse("retain_grad()")

    def register_hook(self, hook):
        _refuse("register_hook()")

    def backward(self, *args, **kwargs):
        _refuse("backward()")

    def numpy(self):
        _refuse("numpy()")

    def item(self):
        _refuse("item()")

    def tolist(self):
        _refuse("tolist()")

    def __array__(self, dtype=None, copy=None):
        _refuse("converting to a NumPy array")

    def __bool__(self):
        _refuse("bool() (an if or while on a tensor's value)")

    def __float__(self):
        _refuse("float()")

    def __int__(self):
        _refuse("int()")

    def __index__(self):
        _refuse("using it as a Python index")

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self):
        return (f"BatchedTensor(level={self._level}, example shape={self.shape}, "
                f"dtype={self.dtype}, value={self._value!r})")


# --- levels ---------------------------------------------------------------------------------
def batch_size(level):
    for lv, size, _ in STATE.vmap_levels:
        if lv == level:
            return size
    raise GraphError(f"vmap: a batched tensor of level {level} was used after its vmap "
                     "returned (it escaped, e.g. through a global or a closure). Hint: return "
                     "it from the vmapped function instead")


def lift(x, level, size):
    """``x`` batched at ``level`` too: unchanged when it is; else broadcast along a new batch
    axis of ``size`` (a view, whose gradient sums back). Levels stay nested innermost
    outside: a tensor batched at an inner level gets the new axis inside its value."""
    if type(x) is Batched:
        if x._level == level:
            return x
        if x._level > level:
            return Batched(lift(x._value, level, size), x._level)
    elif not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    return Batched(repeat_batch(x, size), level)


def repeat_batch(x, size):
    """Tensor ``x`` repeated along a new axis 0 of ``size``: a stride-0 view, whose gradient
    sums back over that axis."""
    return TENSOR.broadcast_to(TENSOR.expand_dims(x, axis=0), shape=(size,) + tuple(x.shape))


def levels_of(x):
    """The levels ``x`` is batched at, outermost first."""
    out = []
    while type(x) is Batched:
        out.append(x._level)
        x = x._value
    return out[::-1]


def bottom(x):
    """The physical tensor under every level of ``x``: the batch axes first, outermost
    first, then the example's axes."""
    while type(x) is Batched:
        x = x._value
    return x


def lift_to(x, levels):
    """``x`` batched at each of ``levels`` (outermost first), so that tensors lifted to the
    same levels have physical tensors that line up axis for axis."""
    for level in levels:
        x = lift(x, level, batch_size(level))
    return x


def rewrap(x, levels):
    """The inverse of :func:`bottom` for a tensor laid out as one lifted to ``levels``."""
    for level in levels:
        x = Batched(x, level)
    return x


def union_levels(tensors):
    return sorted({lv for t in tensors for lv in levels_of(t)})


def peel(x, level):
    """The physical tensor of ``x`` at ``level`` (batch on axis 0), or None if ``x`` is not
    batched there."""
    if type(x) is Batched and x._level == level:
        return x._value
    return None


def _is_at(x, level):
    return type(x) is Batched and x._level == level


def top_level(args, params):
    """The innermost level any argument or parameter is batched at, else 0."""
    top = 0
    for a in itertools.chain(args, _param_tensors(params)):
        if type(a) is Batched and a._level > top:
            top = a._level
    return top


def _param_tensors(params):
    for v in params.values():
        if isinstance(v, (tuple, list)):
            yield from (k for k in v if isinstance(k, Tensor))
        elif isinstance(v, Tensor):
            yield v


# --- dispatch -------------------------------------------------------------------------------
def batch_apply(prim, args, params, level):
    """Apply ``prim`` to ``args`` (some batched at ``level``) and return a :class:`Batched`
    result: the primitive's rule when it has one and its parameters are not batched, else
    once per example."""
    size = batch_size(level)
    args, params = _named_params(prim, args, params)
    values = [a._value if _is_at(a, level) else a for a in args]
    batched = [_is_at(a, level) for a in args]
    rule = RULES.get(prim.name)
    out = None
    try:
        if rule is not None and (prim.name in _BATCHED_PARAMS or not any(
                _is_at(v, level) for v in _param_tensors(params))):
            out = rule(prim, values, batched, params, size)
        if out is None:
            out = _per_example(prim, args, params, level, size)
    except ShapeError as exc:  # its shapes are the batch's: name the examples' too
        if "inside vmap" in str(exc):
            raise
        shapes = [tuple(np.shape(a)) if not isinstance(a, Tensor) else a.shape for a in args]
        raise ShapeError(f"{exc} (inside vmap, batch of {size}: the example shapes are "
                         f"{shapes})") from None
    return Batched(out, level)


_PARAM_NAMES = {}  # primitive -> names of its forward's positional-or-keyword parameters


def _named_params(prim, args, params):
    """``(inputs, params)`` with the parameters given by position (``wg.sum(x, 1)``) moved
    to ``params`` under their names, so the rules find them where a keyword puts them. The
    inputs are the arguments the primitive differentiates, or (without rules) the leading
    tensors; NumPy's positional-only ufunc arguments always stay."""
    names = _PARAM_NAMES.get(prim)
    if names is None:
        try:
            sig = inspect.signature(prim.forward).parameters.values()
        except (TypeError, ValueError):
            sig = ()
        names = _PARAM_NAMES[prim] = tuple(
            p.name if p.kind is p.POSITIONAL_OR_KEYWORD else None for p in itertools.takewhile(
                lambda p: p.kind is not p.VAR_POSITIONAL, sig))
    if prim.vjps is not None:
        inputs = len(prim.vjps)
    else:
        inputs = next((i for i, a in enumerate(args)
                       if not isinstance(a, (Tensor, np.ndarray))), len(args))
    if len(args) <= inputs or not names:
        return args, params
    moved = dict(params)
    for i in range(inputs, len(args)):
        if i >= len(names) or names[i] is None:
            return args, params
        moved[names[i]] = args[i]
    return args[:inputs], moved


def per_example(fn):
    """Decorate a composite that computes from its inputs' values in NumPy (pooling's window
    indices, an embedding's rows): under ``vmap`` it runs once per example and its results
    (a tensor or a tree of them) are stacked; elsewhere it is ``fn`` itself."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if DETOUR[0] and STATE.vmap_levels:
            level = top_level(args, kwargs)
            if level:  # the wrapper again, for the levels outside this one
                return _stacked_calls(wrapper, args, kwargs, level)
        return fn(*args, **kwargs)
    return wrapper


def folds_batch(position, sample_rank):
    """Decorate a composite like :func:`per_example`, for one whose input at ``position``
    already takes an optional leading batch axis (pooling: one sample is (C, *spatial), a
    batch (N, C, *spatial)); ``sample_rank(args)`` is the rank of one sample. Under ``vmap``,
    when that input alone is batched, the vmap batch becomes (or joins) that leading axis and
    the composite runs once; otherwise it runs once per example."""
    def decorate(fn):
        looped = per_example(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if DETOUR[0] and STATE.vmap_levels:
                level = top_level(args, kwargs)
                x = args[position]
                alone = _is_at(x, level) and not any(
                    _is_at(a, level) for i, a in enumerate(args) if i != position) and not any(
                    _is_at(v, level) for v in _param_tensors(kwargs))
                rank = sample_rank(args)
                if level and alone and x.ndim in (rank, rank + 1):
                    value = x._value  # (B, *sample) or (B, N, *sample)
                    joined, n = x.ndim == rank + 1, value.shape[1]
                    if joined:
                        value = TENSOR.reshape(value, shape=(-1,) + tuple(value.shape[2:]))
                    out, treedef = flatten(wrapper(*args[:position], value, *args[position + 1:],
                                                   **kwargs))
                    size = batch_size(level)
                    return unflatten(treedef, [Batched(TENSOR.reshape(
                        o, shape=(size, n) + tuple(o.shape[1:])) if joined else o, level)
                        for o in out])
            return looped(*args, **kwargs)
        return wrapper
    return decorate


def _stacked_calls(fn, args, kwargs, level):
    size = batch_size(level)
    runs = [flatten(fn(*[_example(x, level, b) for x in args],
                       **{k: _example(v, level, b) for k, v in kwargs.items()}))
            for b in range(size)]
    if not runs:
        _no_examples(getattr(fn, "__name__", "a function"))
    name = getattr(fn, "__name__", "a function")
    leaves = [Batched(_stack([r[0][k] for r in runs], name), level)
              for k in range(len(runs[0][0]))]
    return unflatten(runs[0][1], leaves)


def _stack(outs, name):
    same_shapes([o.shape for o in outs], name)
    return TENSOR.concatenate(*[TENSOR.expand_dims(o, axis=0) for o in outs], axis=0)


def same_shapes(shapes, name):
    """Check that the examples' results, computed apart, agree in shape before they are
    joined into one batch: an op whose output shape follows its input's values (a boolean
    mask's count) does not promise it."""
    shapes = list(dict.fromkeys(shapes))
    if len(shapes) > 1:
        raise ShapeError(
            f"vmap: {name} gave results of different shapes for different examples inside "
            f"vmap ({', '.join(map(str, shapes[:4]))}{', ...' if len(shapes) > 4 else ''}): "
            "its result's shape depends on each example's values (a boolean mask, nonzero, "
            "unique), and a batch needs one shape. Hint: keep shapes fixed, e.g. "
            "where(mask, x, 0) in place of x[mask], or loop over the examples")


def _no_examples(name):
    raise ShapeError(f"vmap: {name} runs once per example under vmap, so on an empty batch "
                     "it cannot tell the shape of its result. Hint: skip the call when the "
                     "batch is empty")


def _example(x, level, b):
    if _is_at(x, level):
        return TENSOR.getitem(x._value, key=b)
    if isinstance(x, (tuple, list)):
        return type(x)(_example(k, level, b) for k in x)
    return x


def _per_example(prim, args, params, level, size):
    """The primitive once per example, stacked: the rule every primitive has."""
    if not size:
        _no_examples(prim.name)
    return _stack([prim.apply(*[_example(x, level, b) for x in args],
                              **{k: _constant(_example(v, level, b)) for k, v in params.items()})
                   for b in range(size)], prim.name)


def _constant(p):
    """A parameter as the rules expect it: never differentiated, so an array, not a tensor
    (an example's slice of a batched index)."""
    if isinstance(p, Tensor) and type(p) is not Batched:
        return p.data
    if isinstance(p, tuple):
        return tuple(_constant(k) for k in p)
    return p


# --- helpers for rules ----------------------------------------------------------------------
def _ndim(x, batched):
    return (x.ndim - 1) if batched else np.ndim(x)


def _pad(x, k):
    """Physical ``x`` (batch first) with ``k`` size-1 axes put right after the batch axis."""
    if k <= 0:
        return x
    return TENSOR.reshape(x, shape=(x.shape[0],) + (1,) * k + tuple(x.shape[1:]))


def _axis(a, ndim):
    """Logical axis ``a`` of a tensor with ``ndim`` logical axes, as a physical axis."""
    if ndim == 0 and a in (0, -1):
        return 1  # NumPy's one axis of a 0-d reduction's keepdims; the forward raises if wrong
    return a % ndim + 1 if ndim else a + 1


def _axes(a, ndim):
    if isinstance(a, (tuple, list)):
        return tuple(_axis(k, ndim) for k in a)
    return _axis(a, ndim)


def _with(params, **changes):
    out = dict(params)
    out.update(changes)
    return out


# --- rules: each returns the physical output (batch on axis 0), or None for per-example ----
def _elementwise(prim, values, batched, params, size):
    """Broadcasting ops: batched inputs get size-1 axes after the batch axis up to the
    largest example rank, so NumPy's right-aligned broadcasting pairs the example axes."""
    rank = max(_ndim(v, b) for v, b in zip(values, batched))
    values = [_pad(v, rank - _ndim(v, b)) if b else v for v, b in zip(values, batched)]
    return prim.apply(*values, **params)


def _reduce(prim, values, batched, params, size):
    x = values[0]
    nd = _ndim(x, True)
    axis = params.get("axis")
    if nd == 0 and axis is not None:
        return None  # an axis of a 0-d example: whatever the op makes of it, once each
    if axis is None:
        if prim.name in ("argmax", "argmin"):
            if params.get("keepdims"):
                return None
            flat = TENSOR.reshape(x, shape=_flat(x, size))
            return prim.apply(flat, **_with(params, axis=1))
        axis = tuple(range(1, nd + 1))
        if not axis and prim.name == "norm":
            return None
    else:
        axis = _axes(axis, nd)
    return prim.apply(x, *values[1:], **_with(params, axis=axis))


def _along_axis(default):
    """Ops that work along one axis (softmax, cumsum...): that axis, shifted."""
    def rule(prim, values, batched, params, size):
        if len(values) != 1:
            return None
        axis = params.get("axis", default)
        if axis is None:
            return None
        return prim.apply(values[0], **_with(params, axis=_axis(axis, _ndim(values[0], True))))
    return rule


def _reshape(prim, values, batched, params, size):
    shape = params["shape"]
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if -1 in shape:  # the example's own count: NumPy cannot infer it from an empty batch
        known = int(np.prod([d for d in shape if d != -1]))
        count = int(np.prod(values[0].shape[1:]))
        shape = tuple(count // known if d == -1 and known else d for d in shape)
    return prim.apply(values[0], shape=(size,) + shape)


def _flat(x, size):
    """The shape of physical ``x`` with each example flattened."""
    return (size, int(np.prod(x.shape[1:])))


def _broadcast_to(prim, values, batched, params, size):
    shape = tuple(params["shape"])
    x = _pad(values[0], len(shape) - _ndim(values[0], True))
    return prim.apply(x, shape=(size,) + shape)


def _sum_to(prim, values, batched, params, size):
    shape = tuple(params["shape"])
    x = values[0]
    extra = _ndim(x, True) - len(shape)
    out = prim.apply(x, shape=(size,) + (1,) * extra + shape)
    return TENSOR.reshape(out, shape=(size,) + shape) if extra else out


def _transpose(prim, values, batched, params, size):
    nd = _ndim(values[0], True)
    axes = params.get("axes")
    axes = tuple(range(nd, 0, -1)) if axes is None else tuple(_axis(a, nd) for a in axes)
    return prim.apply(values[0], axes=(0,) + axes)


def _swapaxes(prim, values, batched, params, size):
    nd = _ndim(values[0], True)
    return prim.apply(values[0], axis1=_axis(params["axis1"], nd),
                      axis2=_axis(params["axis2"], nd))


def _squeeze(prim, values, batched, params, size):
    x = values[0]
    axis = params.get("axis")
    if axis is None:
        axis = tuple(i + 1 for i, d in enumerate(x.shape[1:]) if d == 1)
        return prim.apply(x, axis=axis) if axis else prim.apply(x, axis=())
    return prim.apply(x, axis=_axes(axis, _ndim(x, True)))


def _expand_dims(prim, values, batched, params, size):
    axis = params["axis"]
    out_nd = _ndim(values[0], True) + (len(axis) if isinstance(axis, (tuple, list)) else 1)
    return prim.apply(values[0], axis=_axes(axis, out_nd))


def _diagonal(prim, values, batched, params, size):
    nd = _ndim(values[0], True)
    return prim.apply(values[0], **_with(params, axis1=_axis(params["axis1"], nd),
                                         axis2=_axis(params["axis2"], nd)))


def _pad_rule(prim, values, batched, params, size):
    nd = _ndim(values[0], True)
    width = np.broadcast_to(np.asarray(params["pad_width"], dtype=np.int64), (nd, 2))
    return prim.apply(values[0], **_with(params, pad_width=((0, 0),) + tuple(map(tuple, width))))


def _roll(prim, values, batched, params, size):
    x = values[0]
    axis = params.get("axis")
    if axis is None:
        flat = TENSOR.reshape(x, shape=_flat(x, size))
        return TENSOR.reshape(prim.apply(flat, **_with(params, axis=1)), shape=x.shape)
    return prim.apply(x, **_with(params, axis=_axes(axis, _ndim(x, True))))


def _key(key):
    """A basic index of one example as an index of the batch (None: not basic)."""
    parts = key if isinstance(key, tuple) else (key,)
    if all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts):
        return (slice(None),) + parts
    return None


def _getitem(prim, values, batched, params, size):
    key = params["key"]
    if type(key) is tuple and len(key) == 1:
        key = key[0]
    if type(key) is Batched:
        return _gather(prim, values[0], batched[0], key, size)
    key = _key(key)
    if key is None or any(type(k) is Batched for k in key):
        return None
    return prim.apply(values[0], key=key)


def _gather(prim, x, x_batched, index, size):
    """``x[index]`` with a batched integer index: each example's rows of its own ``x``
    (paired with the batch by an arange), or of the shared ``x``."""
    index = index._value
    if type(index) is Batched or index.dtype.kind not in "iu":
        return None  # a mask (its examples may select different counts) or nested levels
    index = index.data
    if not x_batched:
        return prim.apply(x, key=index)
    rows = np.arange(size).reshape((size,) + (1,) * (index.ndim - 1))
    return prim.apply(x, key=(rows, index))


def _scatter_add(prim, values, batched, params, size):
    key = _key(params["key"])
    if key is None:
        return None
    return prim.apply(values[0], key=key, shape=(size,) + tuple(params["shape"]))


def _index_put(prim, values, batched, params, size):
    key = _key(params["key"])
    if key is None:
        return None
    x, v = values
    if not batched[0]:
        x = repeat_batch(x, size)
    if batched[1]:
        target = np.broadcast_to(np.empty((), bool), x.shape)[key].ndim - 1
        v = _pad(v, target - _ndim(v, True))
    return prim.apply(x, v, key=key)


def _concatenate(prim, values, batched, params, size):
    values = [v if b else repeat_batch(v if isinstance(v, Tensor) else Tensor(np.asarray(v)),
                                       size) for v, b in zip(values, batched)]
    nd = _ndim(values[0], True)
    return prim.apply(*values, **_with(params, axis=_axis(params.get("axis", 0), nd)))


def _stacked(prim, values, batched, params, size):
    """Ops NumPy already maps over leading axes (the linear algebra of square matrices)."""
    if len(values) != 1:
        return None
    return prim.apply(values[0], **params)


def _matmul(prim, values, batched, params, size):
    """A batched vector becomes a one-row (or one-column) matrix, so the batch axis is never
    read as a matrix axis; the size-1 axis is taken out of the product again."""
    a, b = values
    na, nb = _ndim(a, batched[0]), _ndim(b, batched[1])
    a_row = batched[0] and na == 1
    b_col = batched[1] and nb == 1
    if a_row:
        a, na = TENSOR.expand_dims(a, axis=1), 2
    if b_col:
        b, nb = TENSOR.expand_dims(b, axis=-1), 2
    if batched[0] and batched[1]:
        a, b = _pad(a, nb - na), _pad(b, na - nb)
    elif batched[0] and nb > na:
        a = _pad(a, nb - na)
    elif batched[1] and na > nb:
        b = _pad(b, na - nb)
    out = prim.apply(a, b, **params)
    drop = ([-2] if a_row and nb >= 2 else [-1] if a_row else []) + ([-1] if b_col else [])
    if a_row and b_col:
        drop = [-2, -1]
    if drop:
        out = TENSOR.squeeze(out, axis=tuple(d % out.ndim for d in drop))
    return out


def _linear(prim, values, batched, params, size):
    x, w = values[0], values[1]
    if not batched[1] and not any(batched[2:]):
        return prim.apply(*values, **params) if _ndim(x, batched[0]) >= 1 else None
    # per-example weights (an ensemble, or weights vmap(grad) differentiates per example):
    # x @ w^T as a batched matmul, then the bias
    if not batched[1]:
        w = repeat_batch(w, size)
    out = _matmul(TENSOR.matmul.prim, [x, TENSOR.swapaxes(w, axis1=-1, axis2=-2)],
                  [batched[0], True], {}, size)
    if len(values) < 3 or values[2] is None:
        return out
    bias = values[2]
    return TENSOR.add(out, _pad(bias, _ndim(out, True) - 1) if batched[2] else bias)


def _einsum(prim, values, batched, params, size):
    subscripts = params["subscripts"].replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(values):
        return None
    used = set(subscripts) - set(".,->")
    letter = next(c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
                  if c not in used)
    if not arrow:  # implicit output: the letters used once, sorted, after any ellipsis
        counts = {c: inputs.count(c) for c in used}
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c, n in counts.items() if n == 1))
    terms = [letter + t if b else t for t, b in zip(terms, batched)]
    return prim.apply(*values, subscripts=",".join(terms) + "->" + letter + output)


def _merge_batch(prim, values, batched, params, size):
    """Ops with their own batch axis first (convolutions): the vmap batch joins it."""
    if not batched[0] or any(batched[1:]):
        return None
    x = values[0]
    merged = TENSOR.reshape(x, shape=(-1,) + tuple(x.shape[2:]))
    out = prim.apply(merged, *values[1:], **params)
    return TENSOR.reshape(out, shape=(size, x.shape[1]) + tuple(out.shape[1:]))


def _conv(prim, values, batched, params, size):
    """A convolution: a batched input alone joins the conv's own batch axis; per-example
    weights (an ensemble, or the copies vmap(grad) differentiates) become groups, as
    PyTorch's rule does: example b's channels convolve with example b's weights only."""
    x, w = values
    if not batched[1]:
        return _merge_batch(prim, values, batched, params, size)
    if not batched[0]:
        x = repeat_batch(x, size)
    groups = params.get("groups", 1)
    n, c, spatial = x.shape[1], x.shape[2], tuple(x.shape[3:])
    # (B, N, C, *s) -> (N, B * C, *s): channel b * C + c is example b's channel c
    x = TENSOR.reshape(TENSOR.swapaxes(x, axis1=0, axis2=1), shape=(n, size * c) + spatial)
    out_channels = w.shape[1]
    w = TENSOR.reshape(w, shape=(size * out_channels,) + tuple(w.shape[2:]))
    out = prim.apply(x, w, **_with(params, groups=size * groups))
    out = TENSOR.reshape(out, shape=(n, size, out_channels) + tuple(out.shape[2:]))
    return TENSOR.swapaxes(out, axis1=0, axis2=1)


def _solve(prim, values, batched, params, size):
    """NumPy's solve reads a 1-d ``b`` as one vector: a batched vector becomes a one-column
    matrix. The stacks of matrices are then lined up as matmul's."""
    a, b = values
    na, nb = _ndim(a, batched[0]), _ndim(b, batched[1])
    column = batched[1] and nb == 1
    if column:
        b, nb = TENSOR.expand_dims(b, axis=-1), 2
    if nb >= 2:
        if batched[0] and nb > na:
            a = _pad(a, nb - na)
        if batched[1] and na > nb:
            b = _pad(b, na - nb)
    out = prim.apply(a, b, **params)
    return TENSOR.squeeze(out, axis=out.ndim - 1) if column else out


_ELEMENTWISE = (
    "abs add alias arccos arccosh arcsin arcsinh arctan arctan2 arctanh astype cast ceil clip "
    "copy cos cosh deg2rad divide elu equal erf exp exp2 expm1 floor floor_divide fmod "
    "greater greater_equal heaviside hypot isfinite isinf isnan leaky_relu less less_equal log "
    "log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or logit maximum "
    "minimum multiply nan_to_num negative not_equal one_hot power rad2deg reciprocal relu "
    "remainder round sigmoid sign sin sinh softplus sqrt square subtract tan tanh trunc where "
    "xlogy binary_cross_entropy binary_cross_entropy_with_logits").split()

# rules that read batched tensors in their parameters themselves (a batched index)
_BATCHED_PARAMS = {"getitem"}


def register_rule(name, rule, batched_params=False):
    """Give the primitive ``name`` the batching rule ``rule(prim, values, batched, params,
    size)`` (the physical output, batch axis first, or None for once per example); with
    ``batched_params`` the rule also runs when a parameter is batched (and reads it)."""
    RULES[name] = rule
    if batched_params:
        _BATCHED_PARAMS.add(name)

#: primitive name -> batching rule ``rule(prim, values, batched, params, size)``.
RULES = {name: _elementwise for name in _ELEMENTWISE}
RULES.update({name: _reduce for name in (
    "sum mean prod max min std var norm all any logsumexp argmax argmin").split()})
RULES.update({"softmax": _along_axis(-1), "log_softmax": _along_axis(-1),
              "cumsum": _along_axis(None), "cumprod": _along_axis(None),
              "logcumsumexp": _along_axis(None), "sliding_windows": _along_axis(0)})
RULES.update({name: _stacked for name in (
    "cholesky det inv slogdet_packed eigh_packed eigvalsh svd_packed svdvals qr_packed "
    "pinv").split()})
RULES.update({
    "reshape": _reshape, "broadcast_to": _broadcast_to, "sum_to": _sum_to,
    "transpose": _transpose, "swapaxes": _swapaxes, "squeeze": _squeeze,
    "expand_dims": _expand_dims, "diagonal": _diagonal, "pad": _pad_rule, "roll": _roll,
    "getitem": _getitem, "scatter_add": _scatter_add, "index_put": _index_put,
    "concatenate": _concatenate, "matmul": _matmul, "linear": _linear, "einsum": _einsum,
    "conv": _conv, "conv_transpose": _merge_batch, "solve": _solve,
})


# --- in-place writes ------------------------------------------------------------------------
def refuse_write(what):
    """``what`` (``"an in-place 'add_'"``, ``"an assignment"``) is refused under vmap."""
    raise Unbatchable(f"vmap: {what} would write values that differ between "
                     "examples into a tensor the examples share (not batched by that vmap), "
                     "as PyTorch refuses too. Hint: use the out-of-place op (y = x + v, not "
                     "x.add_(v))")


def batched_write(self, name, compute, others, saves_input, write_in_place):
    """``write_in_place`` (see :func:`wengert.ops.methods.write_in_place`) into a batched
    tensor: the write goes into its physical tensor, which is where its values are (the
    vmapped function's own input, as in PyTorch, or a tensor it made); the values written are
    ``compute``'s, batched as any op."""
    level = self._level
    value = self._value
    if type(value) is not Batched and value.data.strides[0] == 0 and \
            not value.data.flags.writeable:
        # a repeat of one tensor (an unbatched input that a transform lifted to the batch, a
        # read-only broadcast): the examples share its memory
        refuse_write(f"an in-place '{name}'")

    def physical(old, *rest):
        out = compute(Batched(old, level), *[Batched(r, level) if b else r
                                             for r, b in zip(rest, batched)])
        if level < max([0] + levels_of(out)):
            refuse_write(f"an in-place '{name}'")
        return lift(out, level, batch_size(level))._value

    batched = [_is_at(o, level) for o in others]
    write_in_place(self._value, name, physical, [o._value if b else o
                                                 for o, b in zip(others, batched)], saves_input)
    return self


# --- transforms inside vmap -----------------------------------------------------------------
# Reverse and forward passes run on the physical tensors: examples never mix in a batched
# computation, so one pass over the physical graph gives every example's derivative at once.
def lift_active(x):
    """``x`` batched at every running vmap level. A transform inside vmap differentiates
    with respect to such a copy, so each example gets its own derivative even for an input
    shared by the batch (an unbatched input's gradient would otherwise sum over it)."""
    return lift_to(x, [level for level, _, _ in STATE.vmap_levels])


def any_batched(tensors):
    return any(type(t) is Batched for t in tensors)


def physical_pullback(pullback, outputs, cotangents, inputs, create_graph, sealed):
    """``pullback`` (see :func:`wengert.functional.reverse.pullback`) with batched tensors.

    When every input is batched at every level present (what the transforms' tracking
    makes), the pass runs on the physical tensors, the outputs and cotangents lifted to
    those levels, and the gradients are wrapped again. When only the cotangents are batched
    (``vmap`` over a ``vjp_fn``: one graph, a batch of seeds), the pass runs over that graph
    with batched gradients, each rule batched as any op is."""
    levels = union_levels(list(outputs) + list(inputs)
                          + [c for c in cotangents if isinstance(c, Tensor)])
    # a None cotangent seeds a scalar output with 1
    seeds = [Tensor(np.ones(o.shape, dtype=o.dtype)) if c is None else c
             for o, c in zip(outputs, cotangents)]
    if all(levels_of(x) == levels for x in inputs):
        outs = [bottom(lift_to(o, levels)) for o in outputs]
        cots = [bottom(lift_to(c, levels)) for c in seeds]
        grads = pullback(outs, cots, [bottom(x) for x in inputs], create_graph, sealed)
        return [rewrap(g, levels) for g in grads]
    from .engine import grad  # the engine imports the primitives, which import this module
    # The graph's own levels (those of a vjp taken inside outer vmaps; the transforms lift
    # their inputs to every level open when they record, and a vjp_fn cannot leave its vmap,
    # so the cotangents' own levels are inner ones): the pass runs over that graph's
    # physical tensors, the cotangents batched at the inner levels alone around a value laid
    # out as the graph's physical tensors (batch axes of the graph's levels first), and the
    # gradients are laid out back.
    graph = union_levels(list(outputs) + list(inputs))
    inner = [level for level in levels if level not in graph]
    k, m = len(graph), len(inner)

    def moved(p, first, count):  # the ``count`` batch axes from ``first`` moved to the front
        if not first or not count:
            return p
        order = tuple(range(first, first + count)) + tuple(
            a for a in range(p.ndim) if not first <= a < first + count)
        return TENSOR.transpose(p, axes=order)

    outs = [bottom(lift_to(o, graph)) for o in outputs]
    cots = [rewrap(moved(bottom(lift_to(c, graph + inner)), k, m), inner) for c in seeds]
    leaves = [bottom(x) for x in inputs]
    live = [(o, c) for o, c in zip(outs, cots) if o.requires_grad]
    grads = grad([o for o, _ in live], leaves, [c for _, c in live], retain_graph=True,
                 create_graph=True, allow_unused=True) if live else [None] * len(leaves)
    out = []
    for x, g in zip(leaves, grads):
        # a rule may give a gradient that no seed reached (a unit's zeros): lifted, it lines
        # up with the others
        g = lift_to(Tensor(np.zeros(x.shape, dtype=x.dtype)) if g is None else g, inner)
        g = rewrap(moved(bottom(g), m, k), graph + inner)
        out.append(g if create_graph else g.detach())
    return out


def batched_dual(make_dual, primal, tangent, level):
    """``make_dual`` for a batched primal or tangent: the dual is made on the physical
    tensors, both lifted to the levels either is batched at."""
    levels = union_levels([t for t in (primal, tangent) if isinstance(t, Tensor)])
    return rewrap(make_dual(bottom(lift_to(primal, levels)), bottom(lift_to(tangent, levels)),
                            level), levels)


def batched_tangent(tangent_of, tensor, level):
    t = tangent_of(bottom(tensor), level)
    return None if t is None else rewrap(t, levels_of(tensor))
