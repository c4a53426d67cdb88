"""Sliding blocks, as PyTorch's: ``unfold`` (im2col) and ``fold`` (col2im), exported by
:mod:`wengert.nn.functional`, and the modules ``Unfold`` and ``Fold``.

``unfold`` pads the input and takes, per spatial axis, the windows of ``dilation*(k-1)+1``
entries with :func:`~wengert.ops.sgns.sliding_windows` (a view), keeping every ``stride``-th
window and every ``dilation``-th entry of each (a slice); one transpose and one reshape give
PyTorch's (N, C*kh*kw, L) layout, the only copy. ``fold`` is that map's adjoint, built from the
adjoints in reverse order: the columns put back into the windows they came from
(:func:`~wengert.ops.index.scatter_add` of the slices), summed onto the entries they cover
(:func:`~wengert.ops.sgns.overlap_add`) and cropped to the unpadded size. So
``fold(unfold(x))`` is x times the number of blocks that hold each entry, and each one's
gradient is the other one: exact to every order, in reverse and forward mode. The arguments
are checked with the convolution's :func:`~wengert.ops.conv.ints`."""
import numpy as np

from ..errors import DTypeError, ShapeError
from ..ops.conv import ints
from ..ops.index import getitem, scatter_add
from ..ops.sgns import overlap_add, sliding_windows
from ..ops.shape import pad, reshape, transpose
from ..tensor import Tensor
from .module import Module


def _geometry(op, kernel_size, dilation, padding, stride):
    """PyTorch's ``_pair`` of each argument: an int or 2 ints, each at least its minimum."""
    return (ints(op, "kernel_size", kernel_size, 2, 1), ints(op, "dilation", dilation, 2, 1),
            ints(op, "padding", padding, 2, 0), ints(op, "stride", stride, 2, 1))


def _blocks(op, spatial, kernel, dilation, padding, stride, what):
    """The number of blocks along each spatial axis (at least one each, or a ShapeError)."""
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    padded = tuple(s + 2 * p for s, p in zip(spatial, padding))
    if any(m < span for m, span in zip(padded, spans)):
        raise ShapeError(f"{op}: the {what} {tuple(spatial)} padded by {padding} is "
                         f"{padded}, smaller than a block: kernel_size={kernel} with "
                         f"dilation={dilation} spans {spans}, so there is no block to "
                         "take, as in PyTorch's error. Hint: pad more, or use a smaller "
                         "kernel or dilation")
    return tuple((m - span) // s + 1 for m, span, s in zip(padded, spans, stride))


def _check_dtype(op, input):
    dtype = input.dtype if isinstance(input, Tensor) else np.asarray(input).dtype
    if dtype.kind not in "fb":
        raise DTypeError(f"{op}: cannot take blocks of an input of dtype {dtype} (shape "
                         f"{tuple(input.shape)}); as PyTorch's, it takes floating and bool "
                         "inputs only. Hint: convert it first: x.float()")


def _window_keys(blocks, dilation, stride):
    """Per spatial axis (2, then 4 once the first window axis is in), the slice of the
    sliding-window view that keeps every stride-th window and every dilation-th entry, or
    None where every window and entry is kept."""
    keys = []
    for axis, count, d, s in zip((2, 4), blocks, dilation, stride):
        if s == 1 and d == 1:
            keys.append(None)
            continue
        keys.append((slice(None),) * axis + (slice(0, (count - 1) * s + 1, s),
                                             slice(None, None, d)))
    return keys


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of a batched (N, C, H, W) or unbatched (C, H, W) input, as
    ``torch.nn.functional.unfold`` (im2col): an (N, C*kh*kw, L) output whose column
    ``l = i*Lw + j`` holds block (i, j), ``out[n, (c*kh + a)*kw + b, l] =
    x_pad[n, c, i*sh + a*dh, j*sw + b*dw]``, with ``padding`` zeros around each plane and
    ``L = Lh*Lw`` blocks, ``Lh = (H + 2*ph - dh*(kh-1) - 1) // sh + 1``. The sizes are an int
    or a pair. Its gradient is :func:`fold` of the output's gradient."""
    op = "unfold"
    kernel, dilation, padding, stride = _geometry(op, kernel_size, dilation, padding, stride)
    shape = tuple(input.shape)
    if len(shape) not in (3, 4) or 0 in shape[-3:]:
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input with "
                         f"non-empty C, H and W (the batch may be empty), got shape {shape}, "
                         "as PyTorch requires. Hint: unfold takes blocks of image planes; "
                         "add a channel axis, x[None], if there is none")
    _check_dtype(op, input)
    if len(shape) == 3:
        out = unfold(reshape(input, shape=(1,) + shape), kernel, dilation, padding, stride)
        return reshape(out, shape=out.shape[1:])
    n_batch, channels = shape[:2]
    blocks = _blocks(op, shape[2:], kernel, dilation, padding, stride, "input's spatial size")
    x = pad(input, pad_width=((0, 0), (0, 0)) + tuple((p, p) for p in padding)) \
        if any(padding) else input
    for axis, key, k, d in zip((2, 4), _window_keys(blocks, dilation, stride),
                               kernel, dilation):
        x = sliding_windows(x, size=d * (k - 1) + 1, axis=axis)
        if key is not None:
            x = getitem(x, key=key)
    # (N, C, Lh, kh, Lw, kw) -> (N, C, kh, kw, Lh, Lw): PyTorch's column layout
    x = transpose(x, axes=(0, 1, 3, 5, 2, 4))
    return reshape(x, shape=(n_batch, channels * kernel[0] * kernel[1], blocks[0] * blocks[1]))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks into an image, as ``torch.nn.functional.fold`` (col2im): the adjoint
    of :func:`unfold`. A batched (N, C*kh*kw, L) or unbatched (C*kh*kw, L) input, one column
    per block of an image of ``output_size`` (an int or (H, W)), gives an (N, C, H, W) or
    (C, H, W) output in which each entry is the sum of the block entries that cover it
    (entries in the padding are dropped); L must be the number of blocks :func:`unfold`
    takes from that image. Its gradient is :func:`unfold` of the output's gradient."""
    op = "fold"
    size = ints(op, "output_size", output_size, 2, 1)
    kernel, dilation, padding, stride = _geometry(op, kernel_size, dilation, padding, stride)
    shape = tuple(input.shape)
    if len(shape) not in (2, 3) or 0 in shape[-2:]:
        raise ShapeError(f"{op}: expected a 2-D (C*kh*kw, L) or 3-D (N, C*kh*kw, L) input "
                         f"with non-empty columns and blocks (the batch may be empty), got "
                         f"shape {shape}, as PyTorch requires. Hint: fold takes what unfold "
                         "gives")
    _check_dtype(op, input)
    if len(shape) == 2:
        out = fold(reshape(input, shape=(1,) + shape), size, kernel, dilation, padding, stride)
        return reshape(out, shape=out.shape[1:])
    n_batch, rows, count = shape
    per_block = kernel[0] * kernel[1]
    if rows % per_block:
        raise ShapeError(f"{op}: the input of shape {shape} has {rows} rows (dim 1), not "
                         f"divisible by the {per_block} entries of a kernel_size={kernel} "
                         "block, as PyTorch requires. Hint: dim 1 is C*kh*kw")
    blocks = _blocks(op, size, kernel, dilation, padding, stride, "output_size")
    if count != blocks[0] * blocks[1]:
        raise ShapeError(f"{op}: output_size={size} with kernel_size={kernel}, dilation="
                         f"{dilation}, padding={padding} and stride={stride} has {blocks[0]} "
                         f"* {blocks[1]} = {blocks[0] * blocks[1]} blocks, but the input of "
                         f"shape {shape} has {count} (dim 2), as in PyTorch's error. Hint: "
                         "pass the geometry of the unfold that made the input")
    channels = rows // per_block
    x = reshape(input, shape=(n_batch, channels, kernel[0], kernel[1], blocks[0], blocks[1]))
    x = transpose(x, axes=(0, 1, 4, 2, 5, 3))  # (N, C, Lh, kh, Lw, kw), as unfold made it
    padded = tuple(m + 2 * p for m, p in zip(size, padding))
    keys = _window_keys(blocks, dilation, stride)
    # unfold's steps undone last first: the window view of axis 4, then that of axis 2
    for axis, key, k, d, m in reversed(tuple(zip((2, 4), keys, kernel, dilation, padded))):
        if key is not None:
            span = d * (k - 1) + 1
            x = scatter_add(x, key=key, shape=x.shape[:axis] + (m - span + 1, span)
                            + x.shape[axis + 2:])
        x = overlap_add(x, axis=axis)
    if any(padding):
        x = getitem(x, key=(slice(None),) * 2 + tuple(slice(p, p + m)
                                                       for p, m in zip(padding, size)))
    return x


class Unfold(Module):
    """:func:`unfold` as a module: ``Unfold(kernel_size, dilation=1, padding=0, stride=1)``,
    the sizes kept as given, as PyTorch's."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """:func:`fold` as a module: ``Fold(output_size, kernel_size, dilation=1, padding=0,
    stride=1)``, the sizes kept as given, as PyTorch's."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
