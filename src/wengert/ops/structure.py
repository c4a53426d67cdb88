"""Structural ops: roll, tile/repeat, repeat_interleave, triangles and diagonals, diff, flip,
rot90, meshgrid and cross. ``roll``, ``diagonal`` and ``diag_embed`` are primitives; the rest
are written with views, slices, ``where`` and ``getitem``, which are exact and cost what the
NumPy function costs."""
import math

import numpy as np

from ..autodiff.primitive import defop
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from . import elementwise as ew, index, linalg, shape
from .cumulative import one_axis
from .reduce import normalize_axis


def _negated(shift):
    return -shift if isinstance(shift, (int, np.integer)) else tuple(-s for s in shift)


roll = defop(
    "roll", lambda x, shift, axis=None: np.roll(x, shift, axis=axis),
    vjp=[lambda ns, g, ans, x, shift, axis=None: ns.roll(g, shift=_negated(shift), axis=axis)],
    jvp=[lambda ns, t, ans, x, shift, axis=None: ns.roll(t, shift=shift, axis=axis)],
    saves="none", doc="Shift the entries by ``shift`` along ``axis`` (ints or tuples of them), "
                      "wrapping around; over the flattened tensor for ``axis=None`` "
                      "(``numpy.roll``, ``torch.roll``).")


def _int_sizes(op, sizes):
    sizes = (sizes,) if isinstance(sizes, (int, np.integer)) else tuple(sizes)
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0
               for s in sizes):
        raise ArgumentError(f"{op}: repetitions must be non-negative ints, got {sizes}")
    return tuple(int(s) for s in sizes)


def tile(x, reps):
    """``x`` repeated ``reps[d]`` times along each axis d, as ``numpy.tile`` and ``torch.tile``
    (short ``reps`` get leading 1s; long ones give ``x`` new leading axes)."""
    reps = _int_sizes("tile", reps)
    dims = np.shape(x)
    n = max(len(reps), len(dims))
    reps = (1,) * (n - len(reps)) + reps
    dims = (1,) * (n - len(dims)) + dims
    # a size-1 axis before every axis, broadcast to the repetitions, then merged into it
    x = shape.reshape(x, shape=tuple(v for d in dims for v in (1, d)))
    x = shape.broadcast_to(x, shape=tuple(v for r, d in zip(reps, dims) for v in (r, d)))
    return shape.reshape(x, shape=tuple(r * d for r, d in zip(reps, dims)))


def _repeat_method(self, *sizes):
    """PyTorch's ``repeat``: ``tile`` with at least one size per dim (NumPy's ``repeat`` is
    :func:`repeat_interleave`)."""
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if len(sizes) < self.ndim:
        raise ShapeError(f"repeat: {len(sizes)} sizes for a tensor of shape {self.shape}; give "
                         "at least one per dim. Hint: repeat_interleave repeats each entry")
    return tile(self, sizes)


def repeat_interleave(x, repeats, axis=None):
    """Each entry repeated ``repeats`` times along ``axis`` (an int, or a 1-D int array with one
    count per entry), over the flattened tensor for ``axis=None``: ``numpy.repeat`` and
    ``torch.repeat_interleave``."""
    if axis is None:
        x, axis = shape.reshape(x, shape=(-1,)), 0
    if np.ndim(x) == 0:
        raise ShapeError("repeat_interleave: a 0-d tensor has no axis to repeat along. Hint: "
                         "pass axis=None")
    axis = one_axis("repeat_interleave", x, axis)
    dims = np.shape(x)
    counts = repeats.data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype.kind not in "iu" or counts.ndim > 1:
        raise ArgumentError(f"repeat_interleave: repeats must be an int or a 1-D int array, "
                            f"got {counts.dtype} of shape {counts.shape}")
    if np.any(counts < 0):
        raise ArgumentError(f"repeat_interleave: repeats must be non-negative, got {counts}")
    if counts.size == 1:  # one count for all: a new axis after `axis`, broadcast and merged
        r = int(counts.reshape(()))
        wide = shape.broadcast_to(shape.expand_dims(x, axis=axis + 1),
                                  shape=dims[:axis + 1] + (r,) + dims[axis + 1:])
        return shape.reshape(wide, shape=dims[:axis] + (dims[axis] * r,) + dims[axis + 1:])
    if counts.ndim == 0 or counts.shape[0] != dims[axis]:
        raise ShapeError(f"repeat_interleave: {counts.size} repeats for axis {axis} of size "
                         f"{dims[axis]} (tensor of shape {dims}); give one per entry or one "
                         "for all")
    picks = np.repeat(np.arange(dims[axis]), counts)
    return index.getitem(x, key=(slice(None),) * axis + (picks,))


repeat = repeat_interleave  # NumPy's name; Tensor.repeat is PyTorch's (tile)


def _triangle(op, x, k, lower):
    dims = np.shape(x)
    if len(dims) < 2:
        raise ShapeError(f"{op}: needs a matrix or a batch of them (2 dims or more), got shape "
                         f"{dims}")
    rows, cols = dims[-2:]
    keep = np.tri(rows, cols, k, dtype=bool)
    dtype = x.dtype if isinstance(x, Tensor) else np.asarray(x).dtype
    # where, not a product with the mask: an inf above the diagonal still gives 0
    return ew.where(keep if lower else ~keep, x, np.zeros((), dtype))


def tril(x, k=0):
    """The lower triangle of each matrix in the last two axes (entries on and below diagonal
    ``k``), the rest 0, as ``numpy.tril`` and ``torch.tril``."""
    return _triangle("tril", x, k, lower=True)


def triu(x, k=0):
    """The upper triangle of each matrix in the last two axes (entries on and above diagonal
    ``k``), the rest 0, as ``numpy.triu`` and ``torch.triu``."""
    return _triangle("triu", x, k - 1, lower=False)


def _diagonal_places(offset, length):
    """The (row, column) indices of a diagonal of ``length`` entries at ``offset``."""
    i = np.arange(length)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def _embed(d, shape, offset, axis1, axis2):
    out = np.zeros(shape, dtype=d.dtype)
    rows, cols = _diagonal_places(offset, d.shape[-1])
    # the diagonal's layout (other axes in order, the diagonal last) is NumPy's diagonal's
    np.moveaxis(out, (axis1, axis2), (-2, -1))[..., rows, cols] = d
    return out


_diagonal = defop(
    "diagonal", lambda x, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2).copy(),
    vjp=[lambda ns, g, ans, x, offset, axis1, axis2:
         ns.diag_embed(g, shape=x.shape, offset=offset, axis1=axis1, axis2=axis2)],
    jvp=[lambda ns, t, ans, x, offset, axis1, axis2:
         ns.diagonal(t, offset=offset, axis1=axis1, axis2=axis2)],
    saves="none", doc="The diagonal primitive (see :func:`diagonal`).")

_diag_embed = defop(
    "diag_embed", _embed,
    vjp=[lambda ns, g, ans, d, shape, offset, axis1, axis2:
         ns.diagonal(g, offset=offset, axis1=axis1, axis2=axis2)],
    jvp=[lambda ns, t, ans, d, shape, offset, axis1, axis2:
         ns.diag_embed(t, shape=shape, offset=offset, axis1=axis1, axis2=axis2)],
    saves="none", doc="Zeros of ``shape`` with ``d``'s last axis on the diagonal (the adjoint "
                      "of diagonal; see :func:`diag_embed`).")


def _two_axes(op, ndim, axis1, axis2):
    if ndim < 2:
        raise ShapeError(f"{op}: needs 2 dims or more, got {ndim}")
    a1, a2 = (normalize_axis(a, ndim, op)[0] for a in (axis1, axis2))
    if a1 == a2:
        raise ShapeError(f"{op}: axis1 and axis2 are both axis {a1} of {ndim} dims; they must "
                         "differ")
    return a1, a2


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The entries ``x[..., i, i + offset, ...]`` over ``axis1`` and ``axis2``, which go away,
    the diagonal becoming the last axis: ``numpy.diagonal`` and ``torch.diagonal`` (same
    defaults; ``torch.linalg.diagonal`` takes the last two axes)."""
    a1, a2 = _two_axes("diagonal", np.ndim(x), axis1, axis2)
    return _diagonal(x, offset=int(offset), axis1=a1, axis2=a2)


def diag_embed(x, offset=0, axis1=-2, axis2=-1):
    """Matrices with ``x``'s last axis on diagonal ``offset`` and zeros elsewhere, spanning the
    new output axes ``axis1`` and ``axis2``, as ``torch.diag_embed``."""
    dims = np.shape(x)
    if not dims:
        raise ShapeError("diag_embed: needs 1 dim or more (the diagonals), got a 0-d tensor")
    a1, a2 = _two_axes("diag_embed", len(dims) + 1, axis1, axis2)
    out = list(dims[:-1])
    for a in sorted((a1, a2)):
        out.insert(a, dims[-1] + abs(int(offset)))
    return _diag_embed(x, shape=tuple(out), offset=int(offset), axis1=a1, axis2=a2)


def diag(x, k=0):
    """A 1-D ``x`` on diagonal ``k`` of a square matrix, or a matrix's diagonal ``k``, as
    ``numpy.diag`` and ``torch.diag``."""
    nd = np.ndim(x)
    if nd == 1:
        return diag_embed(x, offset=k)
    if nd == 2:
        return diagonal(x, offset=k)
    raise ShapeError(f"diag: needs a 1-D or 2-D tensor, got shape {np.shape(x)}. Hint: "
                     "diagonal and diag_embed take batches")


def diff(x, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th forward difference ``x[i + 1] - x[i]`` along ``axis``, after joining
    ``prepend`` and ``append`` to ``x`` there (numbers broadcast), as ``numpy.diff``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ArgumentError(f"diff: n must be a non-negative int, got {n!r}")
    dims = np.shape(x)
    if not dims:
        raise ShapeError("diff: needs 1 dim or more, got a 0-d tensor")
    axis = one_axis("diff", x, axis)
    dtype = x.dtype if isinstance(x, Tensor) else np.asarray(x).dtype
    edge = dims[:axis] + (1,) + dims[axis + 1:]

    def joined(v):  # a number takes x's dtype, as in x's arithmetic (a Python scalar is weak)
        if np.ndim(v) == 0:
            v = v if isinstance(v, Tensor) else np.asarray(v, dtype=dtype)
            return shape.broadcast_to(v, shape=edge)
        return v

    parts = [joined(prepend)] if prepend is not None else []
    parts.append(x)
    if append is not None:
        parts.append(joined(append))
    if len(parts) > 1:
        x = shape.concatenate(parts, axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        x = ew.subtract(index.getitem(x, key=lead + (slice(1, None),)),
                        index.getitem(x, key=lead + (slice(None, -1),)))
    return x


def flip(x, axis=None):
    """The entries in reverse order along ``axis`` (an int or a tuple; every axis for None),
    as ``numpy.flip``; ``Tensor.flip(*dims)`` is PyTorch's."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    dims = range(x.ndim) if axis is None else (
        (axis,) if isinstance(axis, (int, np.integer)) else axis)
    return x.flip(*dims)


def rot90(x, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``, from the first axis towards
    the second, as ``numpy.rot90`` and ``torch.rot90``."""
    axes = tuple(axes)
    if len(axes) != 2:
        raise ArgumentError(f"rot90: axes must name two axes, got {axes}")
    a0, a1 = _two_axes("rot90", np.ndim(x), *axes)
    k %= 4
    if k == 0:
        return flip(x, axis=())
    if k == 2:
        return flip(x, axis=(a0, a1))
    if k == 1:
        return shape.swapaxes(flip(x, axis=a1), axis1=a0, axis2=a1)
    return flip(shape.swapaxes(x, axis1=a0, axis2=a1), axis=a1)


def meshgrid(*xs, indexing="xy"):
    """Coordinate grids from 1-D tensors (a tuple of read-only broadcast views). The default
    ``indexing="xy"`` is NumPy's (the first two axes swapped, for plots); ``"ij"`` is
    PyTorch's default (the grids' axes in the inputs' order)."""
    if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
        xs = tuple(xs[0])
    if indexing not in ("xy", "ij"):
        raise ArgumentError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    bad = [np.shape(x) for x in xs if np.ndim(x) > 1]
    if bad:
        raise ShapeError(f"meshgrid: needs 1-D (or 0-d) tensors, got shapes {bad}")
    sizes = [math.prod(np.shape(x)) for x in xs]
    order = list(range(len(xs)))
    if indexing == "xy" and len(xs) > 1:
        order[0], order[1] = 1, 0
    grid = tuple(sizes[i] for i in order)
    out = []
    for i, x in enumerate(xs):
        view = [1] * len(xs)
        view[order.index(i)] = -1
        out.append(shape.broadcast_to(shape.reshape(x, shape=tuple(view)), shape=grid))
    return tuple(out)


def _component(x, axis, i):
    key = (slice(None),) * axis + (i,) if axis >= 0 else \
        (Ellipsis, i) + (slice(None),) * (-axis - 1)
    return index.getitem(x, key=key)


def cross(a, b, axis=-1):
    """The cross product of 3-vectors along ``axis`` (the other axes broadcast), as
    ``numpy.cross`` and ``torch.linalg.cross``."""
    for x in (a, b):
        dims = np.shape(x)
        if not -len(dims) <= axis < len(dims) or dims[axis] != 3:
            raise ShapeError(f"cross: needs 3-vectors along axis {axis}, got shapes "
                             f"{np.shape(a)} and {np.shape(b)}")
    a0, a1, a2 = (_component(a, axis, i) for i in range(3))
    b0, b1, b2 = (_component(b, axis, i) for i in range(3))
    return shape.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=axis)


def _cross_method(self, other, dim=None):
    """PyTorch's ``cross``: along ``dim``, by default the first axis of size 3."""
    if dim is None:
        dims = np.broadcast_shapes(self.shape, np.shape(other))
        if 3 not in dims:
            raise ShapeError(f"cross: no axis of size 3 in shapes {self.shape} and "
                             f"{np.shape(other)}")
        dim = dims.index(3) - len(dims)  # negative, so it names the same axis in both
    return cross(self, other, axis=dim)


#: Tensor methods under PyTorch's names and signatures (installed by ``torch_api``).
TORCH_METHODS = {
    "roll": lambda self, shifts, dims=None: roll(self, shift=shifts, axis=dims),
    "tile": lambda self, *dims: tile(self, dims[0] if len(dims) == 1 else dims),
    "repeat": _repeat_method,
    "repeat_interleave": lambda self, repeats, dim=None: repeat_interleave(self, repeats, dim),
    "tril": lambda self, diagonal=0: tril(self, diagonal),
    "triu": lambda self, diagonal=0: triu(self, diagonal),
    "diagonal": lambda self, offset=0, dim1=0, dim2=1: diagonal(self, offset, dim1, dim2),
    "diag": lambda self, diagonal=0: diag(self, diagonal),
    "diag_embed": lambda self, offset=0, dim1=-2, dim2=-1: diag_embed(self, offset, dim1, dim2),
    "diff": lambda self, n=1, dim=-1, prepend=None, append=None:
        diff(self, n, dim, prepend, append),
    "rot90": lambda self, k=1, dims=(0, 1): rot90(self, k, dims),
    "cross": _cross_method,
    "mm": linalg.mm, "bmm": linalg.bmm, "inner": linalg.inner, "kron": linalg.kron,
}
for _name, _fn in TORCH_METHODS.items():
    if _fn.__doc__ is None:  # the lambdas: point help() at the function they call
        _fn.__doc__ = f"PyTorch's ``Tensor.{_name}``; see ``wengert.{_name}``."
