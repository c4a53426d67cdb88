"""Pooling: the functions ``max_pool1d/2d/3d``, ``avg_pool1d/2d/3d``,
``adaptive_max_pool1d/2d/3d`` and ``adaptive_avg_pool1d/2d/3d`` (exported by
:mod:`wengert.nn.functional`) and their modules, with PyTorch's signatures, defaults and
output sizes. An input is (N, C, *spatial) or unbatched (C, *spatial).

The functions check PyTorch's arguments and turn them into calls of the primitives in
:mod:`wengert.ops.pooling`: max pooling gathers the input at the window maxima
(``pool_gather``), average pooling divides window sums (``window_sum``) by the counts, and
adaptive average pooling sums each axis's windows (by a reshape and a sum where they tile
the axis, else by a matmul with a constant 0/1 matrix, or entry by entry where an infinity
or NaN would spread through the matrix's zeros) and divides by the window sizes.

Integer inputs are pooled where PyTorch's CPU kernels pool them (and refused where they do
not, see :data:`_INTEGERS`): max pooling in 2-D and 3-D (in 1-D only with
``return_indices=True``), average pooling of int64 (its means rounded toward zero, as C's
integer division). They never require grad, so they need no gradient path."""
import math

import numpy as np

from ..autodiff.batching import folds_batch
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops import pooling as _pool
from ..ops.index import getitem
from ..ops.linalg import matmul
from ..ops.reduce import sum as _sum
from ..ops.shape import concatenate, reshape
from ..tensor import Tensor
from .module import Module

_AXES = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)",
         3: "(C, D, H, W) or (N, C, D, H, W)"}

# The integer dtypes PyTorch's max pooling kernels pool (none for uint16 and wider unsigned,
# nor bool); its average pooling kernels pool int64 only, its adaptive ones no integers.
_INTEGERS = tuple(map(np.dtype, ("uint8", "int8", "int16", "int32", "int64")))
_INT64 = (np.dtype("int64"),)


# --- argument checks ------------------------------------------------------------------------
def _tuple(op, name, value, n):
    """An int, or 1 or n ints, as a tuple of n ints (PyTorch's rule for pooling sizes)."""
    try:
        values = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    except TypeError:  # a float or None: refused below
        values = (value,)
    if len(values) == 1:
        values *= n
    if len(values) != n or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ArgumentError(f"{op}: {name}={value!r} must be an int or {n} ints. Hint: e.g. "
                            f"{name}=2 or {name}={(2,) * n}")
    return tuple(int(v) for v in values)


# Which axes of an input may be empty (size 0), as in PyTorch's kernels: the batch N
# (non-adaptive pooling); the first axis, N or the C of an unbatched input (adaptive max
# pooling, adaptive_avg_pool3d); N and C (adaptive_avg_pool1d and 2d). Never a spatial one.
_EMPTY = {"batch": "only the batch N may be empty",
          "first": "only its first axis (N, or C without N) may be empty",
          "channels": "only N and C may be empty"}


def _check_input(op, input, n, integers=(), empty="batch"):
    """The input's data, after checking it is a (C, *spatial) or (N, C, *spatial) input,
    floating or of one of the ``integers`` dtypes (those PyTorch's kernel of ``op`` pools),
    whose axes are non-empty but those ``empty`` names (a key of :data:`_EMPTY`)."""
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    filled = {"batch": data.shape[-n - 1:], "first": data.shape[1:],
              "channels": data.shape[-n:]}[empty]
    if data.ndim not in (n + 1, n + 2) or 0 in filled:
        raise ShapeError(f"{op}: expected a non-empty {n + 1}-D or {n + 2}-D input "
                         f"{_AXES[n]}, got shape {data.shape}. Hint: {op} pools the last "
                         f"{n} axes and {_EMPTY[empty]}; add a channel axis, x[None], if "
                         "there is none")
    if data.dtype.kind != "f" and data.dtype not in integers:
        takes = (f"and integer ones of dtype {', '.join(map(str, integers))}" if integers
                 else "only")
        hint = "convert it first: x.float()" + (
            f", or x.astype('{integers[-1]}')" if integers and data.dtype.kind in "biu"
            else "")
        raise DTypeError(f"{op}: cannot pool an input of dtype {data.dtype} (shape "
                         f"{data.shape}); as PyTorch's, it takes floating inputs {takes}. "
                         f"Hint: {hint}")
    return data


def _geometry(op, data, n, kernel_size, stride, padding, dilation, ceil_mode):
    """(kernel, stride, padding, dilation, out_size) as tuples, checked as PyTorch checks
    them; a kernel that leaves no window, or a window of padding only, is a ShapeError."""
    kernel = _tuple(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or stride == () or stride == [] else \
        _tuple(op, "stride", stride, n)
    padding, dilation = _tuple(op, "padding", padding, n), _tuple(op, "dilation", dilation, n)
    for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if min(values) <= 0:
            raise ArgumentError(f"{op}: {name} must be greater than zero, got {values}. "
                                f"Hint: {name} counts entries; use {name}=1 or more")
    if min(padding) < 0:
        raise ArgumentError(f"{op}: padding must be non-negative, got {padding}. Hint: "
                            "padding adds that many entries at both ends; use 0 for none")
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ArgumentError(f"{op}: padding {padding} must be at most half the kernel size "
                            f"{kernel}. Hint: use padding <= kernel_size // 2 (as PyTorch)")
    size = data.shape[-n:]
    out = tuple(_pool.output_length(*a, ceil_mode=ceil_mode)
                for a in zip(size, kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ShapeError(f"{op}: the input of shape {data.shape} is too small for kernel_size="
                         f"{kernel} (dilation={dilation}, padding={padding}): the output "
                         f"would be {out}. Hint: the spatial sizes plus twice the padding must "
                         "be at least dilation * (kernel_size - 1) + 1")
    _check_windows_reach_the_input(op, data.shape, kernel, stride, padding, dilation, out)
    return kernel, stride, padding, dilation, out


def _check_windows_reach_the_input(op, shape, kernel, stride, padding, dilation, out):
    """A window that starts in the left padding reads the input first at ``start % dilation``
    (its entries are ``dilation`` apart, and it reaches past 0, since padding is at most half
    the kernel); with a dilation larger than the input that can be past its end, so the
    window holds padding only. PyTorch returns -inf there with an index outside the input
    (and its backward writes outside the input gradient); here that is an error."""
    size = shape[-len(kernel):]
    for axis, (L, s, p, dl, o) in enumerate(zip(size, stride, padding, dilation, out)):
        for i in range(min(o, -(-p // s))):  # the windows that start in the left padding
            start = i * s - p
            if start % dl >= L:
                raise ShapeError(
                    f"{op}: window {i} along spatial axis {axis} holds only padding: it "
                    f"starts at {start} and its entries are {dl} apart, so its first one "
                    f"not in the left padding, at {start % dl}, is past the end of the "
                    f"input of length {L} (input of shape {tuple(shape)}, kernel_size="
                    f"{kernel}, stride={stride}, padding={padding}, dilation={dilation}); "
                    "PyTorch returns -inf there with an index outside the input. Hint: use "
                    "a smaller dilation or padding")


def _output_size(op, data, n, output_size):
    """An adaptive pool's output size as n ints (None keeps the input's size)."""
    sizes = (output_size,) * n if output_size is None or isinstance(
        output_size, (int, np.integer)) else tuple(output_size)
    if len(sizes) == 1:
        sizes *= n
    if len(sizes) != n or not all(s is None or isinstance(s, (int, np.integer)) for s in sizes):
        raise ArgumentError(f"{op}: output_size={output_size!r} must be an int or {n} ints "
                            f"(None keeps that size), for an input of shape {data.shape}. "
                            f"Hint: e.g. output_size=1 (global pooling) or {(1,) * n}")
    sizes = tuple(int(L if s is None else s) for s, L in zip(sizes, data.shape[-n:]))
    if min(sizes) < 0:
        raise ArgumentError(f"{op}: output_size={output_size!r} must not be negative (input "
                            f"of shape {data.shape}). Hint: give the number of windows per "
                            "axis, e.g. output_size=1 for global pooling")
    return sizes


# --- functions ------------------------------------------------------------------------------
@folds_batch(2, lambda args: args[1] + 1)  # (op, n, input...): a sample is (C, *n axes)
def _max_pool(op, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    data = _check_input(op, input, n, _INTEGERS)
    if n == 1 and not return_indices and data.dtype.kind != "f":
        raise DTypeError(f"{op}: pools an integer input (here {data.dtype}, shape "
                         f"{data.shape}) only with return_indices=True, as PyTorch's, whose "
                         "max_pool1d without indices takes floats only. Hint: pass "
                         "return_indices=True and keep the values, or convert it: x.float()")
    kernel, stride, padding, dilation, out = _geometry(op, data, n, kernel_size, stride,
                                                       padding, dilation, ceil_mode)
    index = _pool.max_pool_indices(data, kernel, stride, padding, dilation, out)
    values = _pool.pool_gather(input, index=index, dims=n)
    return (values, Tensor._wrap(index)) if return_indices else values


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window of ``kernel_size`` entries (``dilation`` apart, every
    ``stride``, default ``kernel_size``) along the last axis of a (C, L) or (N, C, L) input,
    with ``padding`` (at most kernel_size // 2) entries of -inf at both ends, as PyTorch's.
    ``return_indices=True`` also returns where each maximum is (int64 flat index into each
    input row). The gradient goes to that entry (the first of equal values)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """:func:`max_pool1d` over the last two axes of a (C, H, W) or (N, C, H, W) input; sizes
    are an int or a pair, and the indices are flat into each H x W plane (``h * W + w``)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """:func:`max_pool1d` over the last three axes of a (C, D, H, W) or (N, C, D, H, W)
    input; the indices are flat into each D x H x W volume."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def _divisor(kernel, stride, padding, size, out, count_include_pad, dtype):
    """Each window's divisor, as PyTorch's: its length clipped to the padded input (a
    ceil_mode window past the right padding counts only up to it), or without
    ``count_include_pad`` only the entries inside the input; a product over the axes."""
    n = len(kernel)
    divisor = np.ones((1,) * n, dtype)
    for d, (k, s, p, L, o) in enumerate(zip(kernel, stride, padding, size, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, L + p)
        count = end - start if count_include_pad else \
            np.minimum(end, L) - np.maximum(start, 0)
        divisor = divisor * count.reshape((1,) * d + (o,) + (1,) * (n - 1 - d)).astype(dtype)
    return divisor


def _divide_toward_zero(a, b):
    """Integer ``a / b`` rounded toward zero, as C's integer division (PyTorch's integer
    average pooling); exact, where a float division would round large int64 sums."""
    q = a // b  # rounded down: one too low where the quotient is negative and inexact
    return q + ((q < 0) & (q * b != a)).astype(q.dtype)


@folds_batch(2, lambda args: args[1] + 1)  # (op, n, input...): a sample is (C, *n axes)
def _avg_pool(op, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    data = _check_input(op, input, n, _INT64)
    kernel, stride, padding, _, out = _geometry(op, data, n, kernel_size, stride, padding, 1,
                                                ceil_mode)
    if divisor_override is not None:
        if not isinstance(divisor_override, (int, np.integer)) or \
                isinstance(divisor_override, bool):
            raise ArgumentError(f"{op}: divisor_override={divisor_override!r} must be an int "
                                "(or None), as PyTorch's. Hint: round it, or divide the "
                                "result yourself")
        if divisor_override == 0:
            raise ArgumentError(f"{op}: divisor_override must not be zero (input of shape "
                                f"{data.shape}). Hint: None divides by the window sizes")
        divisor = np.asarray(divisor_override, data.dtype)
    else:
        divisor = _divisor(kernel, stride, padding, data.shape[-n:], out, count_include_pad,
                           data.dtype)
    sums = _pool.window_sum(input, kernel=kernel, stride=stride, padding=padding,
                            out_size=out)
    if data.dtype.kind != "f":  # int64, which never requires grad: C's division, as PyTorch
        return Tensor._wrap(_divide_toward_zero(sums.data, divisor))
    return sums / divisor


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window of ``kernel_size`` entries (every ``stride``, default
    ``kernel_size``) along the last axis of a (C, L) or (N, C, L) input, with ``padding``
    (at most kernel_size // 2) zeros at both ends that count in the mean unless
    ``count_include_pad=False``, as PyTorch's (which has no ``divisor_override`` here)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """:func:`avg_pool1d` over the last two axes of a (C, H, W) or (N, C, H, W) input;
    ``divisor_override`` divides every window sum by that number instead."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """:func:`avg_pool2d` over the last three axes of a (C, D, H, W) or (N, C, D, H, W)
    input."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def _window_matrix(size, out, dtype):
    """(out, size) zeros and ones: row i marks PyTorch's adaptive window i."""
    starts, ends = _pool.adaptive_windows(size, out)
    cols = np.arange(size)
    return ((cols >= starts[:, None]) & (cols < ends[:, None])).astype(dtype)


def _sum_by_matmul(x, axis, size, o):
    """The window sums along ``axis``: a matmul by a constant 0/1 matrix, so every
    derivative comes from matmul's rules."""
    matrix = _window_matrix(size, o, x.dtype)
    if axis == -1:
        return matmul(x, np.ascontiguousarray(matrix.T))
    shape = tuple(x.shape)  # explicit sizes: a -1 cannot be inferred when a size is 0
    rows = reshape(x, shape=shape[:axis] + (size, math.prod(shape[axis + 1:])))
    return reshape(matmul(matrix, rows), shape=shape[:axis] + (o,) + shape[axis + 1:])


def _sum_by_reshape(x, axis, size, o):
    """The window sums along ``axis`` where o windows of size // o entries tile it (PyTorch's
    adaptive windows then neither overlap nor leave gaps): the axis split into (o, size // o)
    and summed over its second part, reading each entry once. An infinity and a -infinity in
    one window give NaN, as in PyTorch's sums, without NumPy's warning."""
    shape = tuple(x.shape)
    at = len(shape) + axis
    windows = reshape(x, shape=shape[:at] + (o, size // o) + shape[at + 1:])
    with np.errstate(invalid="ignore", over="ignore"):
        return _sum(windows, axis=axis)


def _sum_by_gathers(x, axis, size, o):
    """The window sums along ``axis``, one window entry after another (a getitem each; a
    window shorter than the longest reads an appended zero), so that an infinity or NaN
    reaches only the windows that hold it, as in PyTorch; in a matmul it is also multiplied
    by the matrix's zeros, giving NaN in every window of its row."""
    shape, at = tuple(x.shape), axis % len(x.shape)
    starts, ends = _pool.adaptive_windows(size, o)
    padded = concatenate([x, np.zeros(shape[:at] + (1,) + shape[at + 1:], x.dtype)],
                         axis=axis)
    after = (slice(None),) * (-1 - axis)
    sums = None
    for j in range(int((ends - starts).max())):
        entry = getitem(padded, key=(Ellipsis, np.where(starts + j < ends, starts + j, size))
                        + after)
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, as PyTorch's
            sums = entry if sums is None else sums + entry
    return sums


def _window_sums(x, axis, size, o):
    """The sums of the adaptive windows along ``axis``: by :func:`_sum_by_reshape` where
    they tile the axis; otherwise by a matmul, unless that gives an infinity or NaN (a finite
    result means that every entry was finite), where they are redone entry by entry."""
    if o and size % o == 0:
        return _sum_by_reshape(x, axis, size, o)
    with np.errstate(invalid="ignore", over="ignore"):  # a NaN of the matmul is not kept
        sums = _sum_by_matmul(x, axis, size, o)
        finite = np.isfinite(np.sum(sums.data))
    return sums if finite else _sum_by_gathers(x, axis, size, o)


@folds_batch(2, lambda args: args[1] + 1)  # (op, n, input...): a sample is (C, *n axes)
def _adaptive_avg_pool(op, n, input, output_size, empty):
    data = _check_input(op, input, n, empty=empty)
    out = _output_size(op, data, n, output_size)
    # Window sums one axis at a time (they are separable; axes that keep their size are
    # left alone), then one division by the window sizes, as PyTorch's sum / count.
    changed = [axis for axis in range(-n, 0) if data.shape[axis] != out[axis]]
    x = input
    for axis in changed:
        x = _window_sums(x, axis, data.shape[axis], out[axis])
    count = np.ones((1,) * n, data.dtype)
    for axis in changed:
        starts, ends = _pool.adaptive_windows(data.shape[axis], out[axis])
        count = count * (ends - starts).astype(data.dtype).reshape((-1,) + (1,) * (-1 - axis))
    return x / count


def adaptive_avg_pool1d(input, output_size):
    """The mean over each of ``output_size`` windows along the last axis of a (C, L) or
    (N, C, L) input, as PyTorch's: window i covers entries floor(i*L/out) to
    ceil((i+1)*L/out) - 1, so windows may differ in length and overlap by one."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size, "channels")


def adaptive_avg_pool2d(input, output_size):
    """:func:`adaptive_avg_pool1d` over the last two axes; ``output_size`` is an int or a
    pair whose entries may be None (keep that axis's size)."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size, "channels")


def adaptive_avg_pool3d(input, output_size):
    """:func:`adaptive_avg_pool1d` over the last three axes; ``output_size`` is an int or
    three entries that may be None."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size, "first")


@folds_batch(2, lambda args: args[1] + 1)  # (op, n, input...): a sample is (C, *n axes)
def _adaptive_max_pool(op, n, input, output_size, return_indices):
    data = _check_input(op, input, n, empty="first")
    out = _output_size(op, data, n, output_size)
    index = _pool.adaptive_max_pool_indices(data, out)
    values = _pool.pool_gather(input, index=index, dims=n)
    return (values, Tensor._wrap(index)) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The maximum over each of ``output_size`` windows (those of
    :func:`adaptive_avg_pool1d`) along the last axis; ``return_indices=True`` also returns
    where each is (int64, flat into each input row), as PyTorch's."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool1d` over the last two axes (indices flat into each plane)."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """:func:`adaptive_max_pool1d` over the last three axes (indices flat into each
    volume)."""
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size, return_indices)


# --- modules --------------------------------------------------------------------------------
class _MaxPoolNd(Module):
    _function = None  # the pooling function, set by each subclass

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return type(self)._function(input, self.kernel_size, self.stride, self.padding,
                                self.dilation, ceil_mode=self.ceil_mode,
                                return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, "
                f"ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """:func:`max_pool1d` as a module: ``MaxPool1d(kernel_size, stride=None, padding=0,
    dilation=1, return_indices=False, ceil_mode=False)`` (stride None is kernel_size)."""
    _function = staticmethod(max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """:func:`max_pool2d` as a module, with :class:`MaxPool1d`'s arguments."""
    _function = staticmethod(max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """:func:`max_pool3d` as a module, with :class:`MaxPool1d`'s arguments."""
    _function = staticmethod(max_pool3d)


class _AvgPoolNd(Module):
    _function = None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return type(self)._function(input, self.kernel_size, self.stride, self.padding,
                                self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """:func:`avg_pool1d` as a module: ``AvgPool1d(kernel_size, stride=None, padding=0,
    ceil_mode=False, count_include_pad=True)``; as PyTorch's, it keeps its sizes as
    1-tuples."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        one = _tuple("AvgPool1d", "kernel_size", kernel_size, 1)
        super().__init__(one, _tuple("AvgPool1d", "stride", one if stride is None else stride,
                                     1), _tuple("AvgPool1d", "padding", padding, 1),
                         ceil_mode, count_include_pad)

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """:func:`avg_pool2d` as a module: ``AvgPool2d(kernel_size, stride=None, padding=0,
    ceil_mode=False, count_include_pad=True, divisor_override=None)``."""
    _function = staticmethod(avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """:func:`avg_pool3d` as a module, with :class:`AvgPool2d`'s arguments."""
    _function = staticmethod(avg_pool3d)


class _AdaptivePoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePoolNd):
    """:func:`adaptive_avg_pool1d` as a module: ``AdaptiveAvgPool1d(output_size)``."""

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePoolNd):
    """:func:`adaptive_avg_pool2d` as a module (entries of ``output_size`` may be None)."""

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePoolNd):
    """:func:`adaptive_avg_pool3d` as a module (entries of ``output_size`` may be None)."""

    def forward(self, input):
        return adaptive_avg_pool3d(input, self.output_size)


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    _function = None

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return type(self)._function(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """:func:`adaptive_max_pool1d` as a module: ``AdaptiveMaxPool1d(output_size,
    return_indices=False)``."""
    _function = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """:func:`adaptive_max_pool2d` as a module (entries of ``output_size`` may be None)."""
    _function = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """:func:`adaptive_max_pool3d` as a module (entries of ``output_size`` may be None)."""
    _function = staticmethod(adaptive_max_pool3d)
