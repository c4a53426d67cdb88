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


def _pad(x, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is differentiable here, got mode={mode!r}; "
                            "pad with constant_values, or build other modes from slices and "
                            "concatenate")
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


def _unpad(ns, g, ans, x, pad_width, mode="constant", constant_values=0):
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2)
                             if np.ndim(pad_width) else np.full((1, 2), pad_width),
                             (x.ndim, 2))
    key = tuple(slice(int(a), g.shape[i] - int(b)) for i, (a, b) in enumerate(widths))
    return g[key]


pad = defop(
    "pad", _pad, vjp=[_unpad],
    jvp=[lambda ns, t, ans, x, pad_width, mode="constant", constant_values=0:
         ns.pad(t, pad_width=pad_width)],
    saves="none", doc="Pad with a constant (``numpy.pad`` widths).")


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one (all of them by default)."""
    nd = x.ndim
    if nd == 0:
        return reshape(x, shape=(1,))
    s, e = start_dim % nd, end_dim % nd
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    return reshape(x, shape=shape)
