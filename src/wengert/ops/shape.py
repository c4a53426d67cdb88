"""Shape primitives. Most are views of their input (they share its version counter, so an
in-place change through a view is seen by the backward of whatever saved the base)."""
import numpy as np

from ..autodiff.primitive import defop
from ..errors import ArgumentError, ShapeError

# The array methods, not np.reshape/np.swapaxes: the same result without their Python layer,
# which costs more than the view itself (these run inside most rules).
_asarray = np.asarray


def _sum_to(x, shape):
    shape = tuple(shape)
    lead = x.ndim - len(shape)
    if lead < 0:
        raise ShapeError(f"sum_to: cannot sum shape {x.shape} to the larger shape {shape}")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and x.shape[i + lead] != 1)
    out = x.sum(axis=axes, keepdims=True) if axes else x
    if out.shape[lead:] != shape:
        raise ShapeError(f"sum_to: shape {x.shape} does not broadcast from {shape}")
    return out.reshape(shape)


sum_to = defop(
    "sum_to", _sum_to,
    vjp=[lambda ns, g, ans, x, shape: ns.broadcast_to(g, shape=x.shape)],
    jvp=[lambda ns, t, ans, x, shape: ns.sum_to(t, shape=shape)],
    saves="none", doc="Sum ``x`` down to ``shape`` (the inverse of broadcasting; the engine's "
                      "unbroadcast).")

broadcast_to = defop(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
    vjp=[lambda ns, g, ans, x, shape: g],  # the engine sums g back to x's shape
    jvp=[lambda ns, t, ans, x, shape: ns.broadcast_to(t, shape=shape)],
    saves="none", view=True, doc="Broadcast to ``shape`` (a read-only view).")

reshape = defop(
    "reshape", lambda x, shape: _asarray(x).reshape(shape),
    vjp=[lambda ns, g, ans, x, shape: ns.reshape(g, shape=x.shape)],
    jvp=[lambda ns, t, ans, x, shape: ns.reshape(t, shape=shape)],
    saves="none", view=True, doc="Same data, new shape (one dimension may be -1).")

alias = defop(
    "alias", lambda x: x, vjp=[lambda ns, g, ans, x: g], jvp=[lambda ns, t, ans, x: t],
    saves="none", view=True, doc="A new tensor node over the same data (identity).")

copy = defop(
    "copy", np.copy, vjp=[lambda ns, g, ans, x: g], jvp=[lambda ns, t, ans, x: t],
    saves="none", doc="A copy with its own storage (``Tensor.clone``).")


def _inverse_perm(axes):
    return tuple(np.argsort(axes))


def _transpose(x, axes=None):
    return np.transpose(x, axes)


def _full_axes(x, axes):
    return tuple(range(x.ndim))[::-1] if axes is None else tuple(a % x.ndim for a in axes)


transpose = defop(
    "transpose", _transpose,
    vjp=[lambda ns, g, ans, x, axes=None: ns.transpose(g, axes=_inverse_perm(_full_axes(x, axes)))],
    jvp=[lambda ns, t, ans, x, axes=None: ns.transpose(t, axes=axes)],
    saves="none", view=True, doc="Permute the axes (reverse them by default).")

swapaxes = defop(
    "swapaxes", lambda x, axis1, axis2: _asarray(x).swapaxes(axis1, axis2),
    vjp=[lambda ns, g, ans, x, axis1, axis2: ns.swapaxes(g, axis1=axis1, axis2=axis2)],
    jvp=[lambda ns, t, ans, x, axis1, axis2: ns.swapaxes(t, axis1=axis1, axis2=axis2)],
    saves="none", view=True, doc="Swap two axes.")


def _squeeze(x, axis=None):
    if axis is not None:
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        for a in axes:
            if not -x.ndim <= a < x.ndim or x.shape[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {x.shape} is not of size 1")
    return np.squeeze(x, axis=axis)


squeeze = defop(
    "squeeze", _squeeze,
    vjp=[lambda ns, g, ans, x, axis=None: ns.reshape(g, shape=x.shape)],
    jvp=[lambda ns, t, ans, x, axis=None: ns.squeeze(t, axis=axis)],
    saves="none", view=True, doc="Drop size-1 axes (all of them, or those named).")

expand_dims = defop(
    "expand_dims", lambda x, axis: np.expand_dims(x, axis),
    vjp=[lambda ns, g, ans, x, axis: ns.reshape(g, shape=x.shape)],
    jvp=[lambda ns, t, ans, x, axis: ns.expand_dims(t, axis=axis)],
    saves="none", view=True, doc="Insert a size-1 axis at ``axis`` (``unsqueeze``).")


def _concat(*xs, axis=0):
    try:
        return np.concatenate(xs, axis=axis)
    except ValueError as exc:
        raise ShapeError(f"concatenate: shapes {[x.shape for x in xs]} along axis {axis}: "
                         f"{exc}") from None


def _concat_slice(i, xs, axis):
    """The index selecting input i's block of the concatenation."""
    ndim = xs[0].ndim
    axis = axis % ndim
    start = sum(x.shape[axis] for x in xs[:i])
    return (slice(None),) * axis + (slice(start, start + xs[i].shape[axis]),)


def _concat_vjp(i):
    return lambda ns, g, ans, *xs, axis=0: g[_concat_slice(i, xs, axis)]


def _concat_jvp(i):
    def rule(ns, t, ans, *xs, axis=0):
        axis_ = axis % ans.ndim
        before = sum(x.shape[axis_] for x in xs[:i])
        after = ans.shape[axis_] - before - xs[i].shape[axis_]
        widths = [(0, 0)] * ans.ndim
        widths[axis_] = (before, after)
        return ns.pad(t, pad_width=tuple(widths))
    return rule


class _Variadic(tuple):
    """A rule table with one rule per position, made on demand (concatenate takes any
    number of inputs)."""

    def __new__(cls, factory):
        self = super().__new__(cls)
        self.factory = factory
        self.cache = {}
        return self

    def __getitem__(self, i):
        if i not in self.cache:
            self.cache[i] = self.factory(i)
        return self.cache[i]

    def __len__(self):
        return 0


concat = defop("concatenate", _concat, saves="none")
concat.prim.vjps = _Variadic(_concat_vjp)
concat.prim.jvps = _Variadic(_concat_jvp)


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = list(tensors)
    if not tensors:
        raise ArgumentError("concatenate needs at least one tensor; got an empty sequence")
    return concat(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ArgumentError("stack needs at least one tensor; got an empty sequence")
    shapes = {tuple(np.shape(t)) for t in tensors}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    return concat(*[expand_dims(t, axis=axis) for t in tensors], axis=axis)


def split(x, indices_or_sections, axis=0):
    """Split along ``axis`` into equal sections (an int) or at the given indices (a list);
    returns a list of tensors, each a differentiable slice."""
    n = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ShapeError(f"split: axis {axis} of size {n} does not split into "
                             f"{indices_or_sections} equal sections")
        step = n // indices_or_sections
        bounds = list(range(0, n + 1, step))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    prefix = (slice(None),) * (axis % x.ndim)
    return [x[prefix + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:])]


# NumPy's names for the modes; PyTorch's 'replicate' is 'edge' and its 'circular' is 'wrap'.
PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def _pad(x, pad_width, mode="constant", constant_values=0):
    if mode == "constant":  # first, so the common case costs what np.pad costs
        try:
            return np.pad(x, pad_width, mode="constant", constant_values=constant_values)
        except ValueError as exc:  # negative or ill-shaped widths: say so as the others do
            raise ArgumentError(f"pad: pad_width={pad_width!r} does not fit an input of "
                                f"shape {np.shape(x)} ({exc}); give non-negative ints: one, "
                                "one (before, after) pair or one pair per axis. Hint: crop "
                                "by slicing, or use nn.functional.pad, which crops where a "
                                "width is negative") from None
    widths = _checked_widths(x, pad_width, mode, constant_values)
    return np.pad(x, widths, mode=mode)


def _widths(pad_width, ndim):
    """``pad_width`` as NumPy reads it (an int, one (before, after) pair, or one per axis):
    an (ndim, 2) array of ints."""
    return np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))


def _checked_widths(x, pad_width, mode, constant_values):
    """The (ndim, 2) widths of a non-constant pad, after checking that ``mode`` can pad
    ``x`` with them in one step (each padded entry a copy of one input entry)."""
    shape = np.shape(x)
    if mode not in PAD_MODES:
        raise ArgumentError(f"pad: mode={mode!r} is not a padding mode; use one of "
                            f"{', '.join(map(repr, PAD_MODES))} (NumPy's names: PyTorch's "
                            "'replicate' is 'edge', its 'circular' is 'wrap')")
    if np.any(np.asarray(constant_values) != 0):
        raise ArgumentError(f"pad: constant_values={constant_values!r} is for "
                            f"mode='constant'; mode={mode!r} copies input entries")
    try:
        widths = _widths(pad_width, len(shape))
    except (TypeError, ValueError):
        raise ArgumentError(f"pad: pad_width={pad_width!r} does not fit an input of shape "
                            f"{shape}; give an int, one (before, after) pair or one pair "
                            "per axis") from None
    if (widths < 0).any():
        raise ArgumentError(f"pad: pad_width={widths.tolist()} has a negative width (input "
                            f"shape {shape}). Hint: crop by slicing, or use "
                            "nn.functional.pad, which crops where a width is negative")
    limit = {"reflect": 1, "symmetric": 0, "wrap": 0}.get(mode)  # widths <= size - limit
    for axis, (size, (before, after)) in enumerate(zip(shape, widths.tolist())):
        if not before and not after:
            continue
        where = (f"pad: mode={mode!r} cannot pad axis {axis} of size {size} by "
                 f"({before}, {after}) (input shape {shape})")
        if mode == "edge" and size == 0:
            raise ArgumentError(f"{where}: an empty axis has no edge entry to repeat. Hint: "
                                "use mode='constant'")
        if limit is not None and max(before, after) > size - limit:
            how = {"reflect": "mirrors the axis once, without its edge entry, so a width must "
                              "be below the axis size (as PyTorch's reflect)",
                   "symmetric": "mirrors the axis once, with its edge entry, so a width may "
                                "be at most the axis size",
                   "wrap": "wraps around the axis once, so a width may be at most the axis "
                           "size (as PyTorch's circular)"}[mode]
            raise ArgumentError(f"{where}: {mode!r} {how}. Hint: pad in several steps, or "
                                "use mode='edge' or 'constant'")
    return widths


def _unpad(ns, g, ans, x, pad_width, mode="constant", constant_values=0):
    """The VJP: a constant pad's gradient is the middle of ``g``; other modes fold the
    borders back onto the entries they copy (:func:`_fold`)."""
    widths = _widths(pad_width, x.ndim)
    if mode != "constant":
        return _fold(ns, g, x.shape, widths, mode)
    key = tuple(slice(int(a), g.shape[i] - int(b)) for i, (a, b) in enumerate(widths))
    return g[key]


def _fold(ns, g, shape, widths, mode):
    """The adjoint of a non-constant pad, axis by axis (the pad is one copy per axis, so
    its adjoint is one fold per axis): the middle of ``g`` plus each border block, reversed
    where the pad mirrored it, added at the entries it copies; 'edge' borders are summed
    onto the first or last entry. Written with getitem, sum, constant pad and add, so it
    differentiates again."""
    for axis, (n, (a, b)) in enumerate(zip(shape, widths.tolist())):
        if not a and not b:
            continue
        lead = (slice(None),) * axis
        out = g[lead + (slice(a, a + n),)]
        for block, start in _borders(ns, g, lead, axis, n, a, b, mode):
            width = [(0, 0)] * len(shape)
            width[axis] = (start, n - start - block.shape[axis])
            out = out + ns.pad(block, pad_width=tuple(width))
        g = out
    return g


def _borders(ns, g, lead, axis, n, a, b, mode):
    """(block of g, index of the input entry its first entry copies) for the two borders
    along ``axis``; a mirrored block is read backwards."""
    def take(start, stop, reverse=False):
        if reverse:
            return g[lead + (slice(stop - 1, start - 1 if start else None, -1),)]
        return g[lead + (slice(start, stop),)]

    end = a + n + b
    blocks = []
    if a:
        if mode == "edge":
            blocks.append((ns.sum(take(0, a), axis=axis, keepdims=True), 0))
        elif mode == "wrap":
            blocks.append((take(0, a), n - a))
        else:  # reflect skips the edge entry, symmetric repeats it
            blocks.append((take(0, a, reverse=True), 1 if mode == "reflect" else 0))
    if b:
        if mode == "edge":
            blocks.append((ns.sum(take(a + n, end), axis=axis, keepdims=True), n - 1))
        elif mode == "wrap":
            blocks.append((take(a + n, end), 0))
        else:
            blocks.append((take(a + n, end, reverse=True),
                           n - 1 - b if mode == "reflect" else n - b))
    return blocks


pad = defop(
    "pad", _pad, vjp=[_unpad],
    jvp=[lambda ns, t, ans, x, pad_width, mode="constant", constant_values=0:
         ns.pad(t, pad_width=pad_width, mode=mode)],
    saves="none",
    doc="Pad as ``numpy.pad`` (its widths: an int, one (before, after) pair or one per "
        "axis), differentiable in every mode: ``'constant'`` (``constant_values``), "
        "``'reflect'`` (mirror without the edge entry; widths below the axis size), "
        "``'symmetric'`` (mirror with it), ``'edge'`` (repeat the edge entry) and "
        "``'wrap'`` (circular; widths up to the axis size). The gradient of a copied entry "
        "adds onto the entry it copies.")


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
    nd = x.ndim
    if nd == 0:
        return reshape(x, shape=(1,))
    s, e = start_dim % nd, end_dim % nd
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    return reshape(x, shape=shape)
