"""Sparse gradients. :class:`RowSparse`: what ``Embedding(sparse=True)`` produces.

A :class:`RowSparse` holds the rows of a matrix-shaped gradient that are non-zero:
``indices`` (int64, may repeat) and ``values`` (``len(indices) x row_shape``). The engine
passes it through untouched and adds contributions by concatenation, so a backward through an
embedding never allocates the dense ``vocab x dim`` gradient. Sparse-aware optimizers update
only those rows.

It stays sparse where it is the result: a leaf's ``.grad``, a ``retain_grad`` tensor's, and
``autograd.grad``'s (as PyTorch's sparse gradient). Everything that computes with it gets it
dense: the rules of the op that made a non-leaf weight (``w = base * 2``), hooks (a dense
tensor; the gradient stays sparse unless a hook returns a replacement), and the batched
gradients of ``autograd.grad(..., is_grads_batched=True)``.

:class:`SlicedGrad` is the engine's own: the gradient of a basic slice ``x[key]``, kept as the
slice's values until a second gradient for ``x`` arrives, which is then added into one array
where the slice lies. Cutting a sequence into T steps (``x[t]``, ``split``) and backpropagating
through them then costs one array of x's size, not T."""
import numpy as np

from .errors import ShapeError


def scatter_add_rows(target, indices, values):
    """``target[indices] += values`` with repeated indices adding up, as ``np.add.at`` but
    3-5x faster: rows are grouped by how many times their index was seen before, and each
    group (no repeats inside) is one fancy-indexed add. The sum's order differs from
    ``np.add.at``'s, so results agree to rounding."""
    n = indices.size
    if not n:
        return
    order = np.argsort(indices, kind="stable")
    ranked = indices[order]
    first = np.empty(n, bool)
    first[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))  # k-th repeat
    by_rank = order[np.argsort(rank, kind="stable")]
    idx, vals = indices[by_rank], values[by_rank]
    lo = 0
    for hi in np.cumsum(np.bincount(rank)).tolist():
        target[idx[lo:hi]] += vals[lo:hi]
        lo = hi


class RowSparse:
    """Gradient rows ``values[k]`` for row ``indices[k]`` of a tensor of ``shape``."""

    is_sparse = True
    base = None
    # NumPy defers to __radd__, so ``dense + sparse`` (an engine that met a dense gradient
    # first) is dense, instead of a ufunc adding this object to each element.
    __array_ufunc__ = None

    def __init__(self, indices, values, shape):
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.values = np.asarray(values)
        self.shape = tuple(shape)
        if self.values.shape != (self.indices.size,) + self.shape[1:]:
            from .errors import ShapeError
            raise ShapeError(f"RowSparse: values of shape {self.values.shape} do not fit "
                             f"{self.indices.size} rows of a {self.shape} tensor")

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def data(self):
        return self

    def astype(self, dtype):
        return RowSparse(self.indices, self.values.astype(dtype), self.shape)

    def coalesce(self):
        """Unique sorted rows with their values summed."""
        uniq, inverse = np.unique(self.indices, return_inverse=True)
        vals = np.zeros((uniq.size,) + self.shape[1:], dtype=self.values.dtype)
        np.add.at(vals, inverse, self.values)
        return RowSparse(uniq, vals, self.shape)

    def to_dense(self):
        """The gradient as an array of ``shape``, repeated rows summed."""
        out = np.zeros(self.shape, dtype=self.values.dtype)
        scatter_add_rows(out, self.indices, self.values)
        return out

    def __add__(self, other):
        other_shape = other.shape if isinstance(other, RowSparse) else np.shape(other)
        if other_shape != self.shape:
            raise ShapeError(f"RowSparse: cannot add a gradient of shape {other_shape} to one "
                             f"of shape {self.shape}")
        if isinstance(other, RowSparse):
            return RowSparse(np.concatenate([self.indices, other.indices]),
                             np.concatenate([self.values, other.values]), self.shape)
        dense = np.array(other, dtype=np.result_type(other, self.values), copy=True)
        np.add.at(dense, self.indices, self.values)
        return dense

    __radd__ = __add__

    def __repr__(self):
        return f"RowSparse(rows={self.indices.size}, shape={self.shape}, dtype={self.dtype})"


class SlicedGrad:
    """The gradient ``zeros(shape)`` with ``values`` at the basic index ``key``, not yet
    written out. Only the engine sees one: it turns it into an array before any rule, hook or
    ``.grad`` receives it."""

    __slots__ = ("key", "values", "shape")

    def __init__(self, key, values, shape):
        self.key, self.values, self.shape = key, values, shape

    @property
    def dtype(self):
        return self.values.dtype

    def astype(self, dtype):
        return SlicedGrad(self.key, self.values.astype(dtype), self.shape)

    def to_dense(self):
        out = np.zeros(self.shape, dtype=self.values.dtype)
        out[self.key] = self.values
        return out
