"""Resizing, as PyTorch's: ``interpolate`` (exported by :mod:`wengert.nn.functional`) and the
modules ``Upsample``, ``UpsamplingNearest2d`` and ``UpsamplingBilinear2d``.

Every mode but 'area' is separable: along each spatial axis, output entry ``o`` is a weighted
sum of a few input entries (1 for nearest, 2 for linear, 4 for cubic, more with antialias)
whose indices and weights depend on the sizes only. So the axes are resized one at a time
(those that shrink most first), each by the fastest exact composite (:func:`_resample`): one
strided slice per tap where each tap's indices step evenly, a gather of the taps where the
axis shrinks a lot or the input is small, otherwise a matmul by a constant (out, in) matrix
holding those weights, one per band of a long axis, whose gradient is the transposed matmul.
Derivatives are exact in every mode and to every order. Inputs a matmul cannot resize
exactly (an infinity or NaN, which its zeros would spread; dtypes other than float32 and
float64) are gathered. 'area' is :func:`~wengert.nn.pooling.adaptive_avg_pool1d` (2d, 3d),
as in PyTorch.

The indices and weights follow ATen's formulas (``UpSample.h``, ``UpSampleKernel.cpp``)
step by step, in the precision PyTorch computes them in (float64 for a float64 input, float32
otherwise), including its ``floorf`` (a float32 floor) of the source coordinate: see
:func:`_scale`, :func:`_source` and the ``_taps_*`` functions."""
import math
import numbers

import numpy as np

from ..autodiff.batching import bottom
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.index import getitem
from ..ops.linalg import matmul
from ..ops.pooling import pool_gather
from ..ops.reduce import sum as _sum
from ..ops.shape import concatenate, copy, reshape
from ..tensor import Tensor
from .module import Module
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_NEEDS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # spatial dims of a mode
_AREA = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d, 3: adaptive_avg_pool3d}
_CUBIC_A = -0.75  # PyTorch's (OpenCV's) cubic convolution constant; antialias uses -0.5 (PIL)
_SMALL_2D = 128  # out_H + out_W up to which PyTorch's 2-D nearest kernel uses ATen's nearest_idx


# --- indices and weights along one axis (NumPy; n input entries, o output entries) ---------
def _scale(n, o, align_corners, factor, ct):
    """ATen's ``area_pixel_compute_scale``: input entries per output entry, in dtype ``ct``.
    A scale factor given by the user (``factor``, None when the size was given or
    recomputed) is used as 1/factor, not n/o, unless align_corners."""
    if align_corners:
        return ct(n - 1) / ct(o - 1) if o > 1 else ct(0)
    return ct(1.0 / factor) if factor is not None and factor > 0 else ct(n) / ct(o)


def _source(scale, o, align_corners, cubic, ct):
    """ATen's ``area_pixel_compute_source_index`` of each output entry: the input coordinate
    of its centre (clamped at 0 except for cubic)."""
    i = np.arange(o, dtype=ct)
    if align_corners:
        return scale * i
    src = scale * (i + ct(0.5)) - ct(0.5)
    return src if cubic else np.where(src < 0, ct(0), src)


def _floor(real, n):
    """ATen's ``guard_index_and_lambda``: the index ``floorf(real)`` (a float32 floor, as
    ATen's, also for float64) kept below n, and the fraction past it, in [0, 1]."""
    index = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), n - 1)
    return index, np.clip(real - index.astype(real.dtype), 0, 1)


def _taps_nearest(n, o, factor, ct, exact, small_2d):
    """The input index of each output entry. PyTorch's 2-D kernel for small outputs uses
    ATen's ``nearest_idx``/``nearest_exact_idx`` (a float32 scale, and for 'nearest' the
    shortcuts o == n and o == 2n); its other kernels a scale and source index in ``ct``."""
    if small_2d:
        if not exact and o == n:
            return np.arange(o)
        if not exact and o == 2 * n:
            return np.arange(o) >> 1
        scale = np.float32(1.0 / factor) if factor is not None and factor > 0 else \
            np.float32(n) / np.float32(o)
        i = np.arange(o, dtype=np.float64 if exact else np.float32)
        real = (i + 0.5) * np.float64(scale) if exact else i * scale
        return np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), n - 1)
    scale = _scale(n, o, False, factor, ct)
    real = _source(scale, o, False, False, ct) + ct(0.5) if exact else \
        _source(scale, o, True, False, ct)
    return np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), n - 1)


def _taps_linear(n, o, align_corners, factor, ct):
    """Two indices and weights per output entry (ATen's ``compute_source_index_and_lambda``):
    the entry at or before the source coordinate and the next one (itself at the end), with
    weights 1 - f and f; a copy where o == n."""
    if o == n:
        index, frac = np.arange(o), np.zeros(o, ct)
        return np.stack([index, index], 1), np.stack([np.ones(o, ct), frac], 1)
    index, frac = _floor(_source(_scale(n, o, align_corners, factor, ct), o, align_corners,
                                 False, ct), n)
    following = index + (index < n - 1)
    return np.stack([index, following], 1), np.stack([1 - frac, frac], 1)


def _cubic_near(x, a):
    """ATen's ``cubic_convolution1``: the kernel for |x| <= 1."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x, a):
    """ATen's ``cubic_convolution2``: the kernel for 1 < |x| < 2."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _taps_cubic(n, o, align_corners, factor, ct):
    """Four indices (clamped into the input) and weights per output entry (ATen's
    ``get_cubic_upsample_coefficients``, a = -0.75), around an unclamped source coordinate."""
    index, t = _floor(_source(_scale(n, o, align_corners, factor, ct), o, align_corners,
                              True, ct), n)
    a, one = ct(_CUBIC_A), ct(1)
    weights = np.stack([_cubic_far(t + one, a), _cubic_near(t, a), _cubic_near(one - t, a),
                        _cubic_far(one - t + one, a)], 1)
    return np.clip(index[:, None] + np.arange(-1, 3), 0, n - 1), weights


def _triangle(x):
    return np.maximum(1 - np.abs(x), 0)


def _keys_cubic(x):
    """PIL's cubic filter (a = -0.5), which PyTorch's antialiased bicubic uses."""
    x = np.abs(x)
    return np.where(x < 1, _cubic_near(x, -0.5), np.where(x < 2, _cubic_far(x, -0.5), 0))


def _taps_antialias(n, o, align_corners, factor, ct, cubic):
    """PyTorch's antialiased weights (``_compute_indices_min_size_weights_aa``, PIL's
    resampling): when shrinking, the filter is stretched by the scale, so each output entry
    averages all the input entries under it; weights normalised to sum to 1, zero past each
    entry's window, whose taps there have the index n: read nowhere, as in PyTorch's kernel,
    which stops at each window's end (see :func:`_gather`)."""
    scale = _scale(n, o, align_corners, factor, ct)
    support = (2.0 if cubic else 1.0) * (scale if scale >= 1 else 1)
    width = math.ceil(support) * 2 + 1
    centre = scale * (np.arange(o, dtype=ct) + ct(0.5))
    start = np.maximum((centre - support + 0.5).astype(np.int64), 0)  # C's truncation
    count = np.clip(np.minimum((centre + support + 0.5).astype(np.int64), n) - start, 0, width)
    j = np.arange(width)
    taps = j + start[:, None]
    inverse = 1 / scale if scale >= 1 else 1
    weights = (_keys_cubic if cubic else _triangle)((taps - centre[:, None] + 0.5) * inverse)
    weights = np.where(j < count[:, None], weights, 0).astype(ct)
    total = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, total, out=weights, where=total != 0)
    return np.where(j < count[:, None], taps, n), weights


# --- the resampling --------------------------------------------------------------------------
# An axis of up to _DENSE entries is resized by one matmul with its whole (out, in) matrix; a
# longer one by bands of about _BAND input entries and at least _ROWS output entries each,
# so that the work per output entry stays bounded (measured in docs/nn.md).
_DENSE = 128
_BAND = 32
_ROWS = 16
# Up to _TAPS taps per output entry (nearest, linear, cubic; not antialias's wider windows)
# are gathered rather than multiplied where the axis shrinks by _SHRINK input entries per tap
# or more, or where the matmul takes bands and the gather reads under _TAPS_PER_BAND taps per
# band: a band costs about 20 us of Python (its slice, matmul and their gradients), a tap
# about 6 ns (measured in docs/nn.md)
_TAPS = 4
_SHRINK = 3
_TAPS_PER_BAND = 3000
_BLAS = (np.dtype(np.float32), np.dtype(np.float64))


def _as_slice(index):
    """``index`` (1-D) as a slice where it steps evenly forward: a view, whose gradient the
    engine keeps lazy, where a gather's is a scatter-add. Otherwise None."""
    step = int(index[1] - index[0]) if len(index) > 1 else 1
    if step >= 1 and (index[1:] - index[:-1] == step).all():
        return slice(int(index[0]), int(index[-1]) + 1, step)
    return None


def _slices(index):
    """Each tap's indices (a column of a 2-D ``index``, or a 1-D one) as a slice, where each
    tap's step evenly forward; otherwise None."""
    keys = [_as_slice(taps) for taps in index.reshape(len(index), -1).T]
    return None if None in keys else keys


def _take(x, axis, index):
    """``x`` at ``index`` along ``axis``: a slice, or ``index`` (o,), gives
    ``x[..., index, ...]``; ``index`` (k, o) gives k taps of each output entry,
    ``out[..., t, o, ...] = x[..., index[t, o], ...]``. Index arrays by ``pool_gather`` (a
    ``np.take`` from the flattened input, whose gradient is a flat ``np.add.at``, NumPy's
    fast path: ten times faster than the ``np.add.at`` by a tuple of index arrays that
    ``getitem`` would scatter its gradient with)."""
    if isinstance(index, slice):
        return getitem(x, key=(Ellipsis, index) + (slice(None),) * (-1 - axis))
    shape = tuple(x.shape)
    inner = shape[len(shape) + axis + 1:]
    size = math.prod(inner)
    plane = (index.reshape(-1, 1) * size + np.arange(size)).reshape((index.size,) + inner)
    taps = pool_gather(x, index=np.broadcast_to(plane, shape[:axis] + plane.shape), dims=-axis)
    return taps if index.ndim == 1 else reshape(taps, shape=shape[:axis] + index.shape + inner)


def _gather(x, axis, index, weights=None, keys=None):
    """``out[..., o, ...] = sum over t of weights[o, t] * x[..., index[o, t], ...]``, or
    ``x[..., index[o], ...]`` without weights, by :func:`_take`: where ``keys`` gives each
    tap as a slice (see :func:`_slices`), tap by tap, the taps added in order as ATen adds
    them; otherwise all the taps at once, then summed. A tap of index n (past the end: an
    antialiased window shorter than the longest) reads an appended zero."""
    if keys is None:
        shape, at = tuple(x.shape), axis % len(x.shape)
        if index.max() == shape[at]:
            x = concatenate([x, np.zeros(shape[:at] + (1,) + shape[at + 1:], x.dtype)],
                            axis=axis)
    if weights is None:
        return _take(x, axis, index if keys is None else keys[0])
    weights = weights.astype(x.dtype).reshape(weights.shape + (1,) * (-1 - axis))
    # An infinity times a tap's weight of 0 and inf - inf are NaN, and a sum past the largest
    # float is an infinity, here as in PyTorch's kernels, which add the same products, but
    # without NumPy's warnings
    if keys is None:
        taps = _take(x, axis, index.T)  # the taps before the outputs: summed array by array
        with np.errstate(invalid="ignore", over="ignore"):
            return _sum(taps * weights.swapaxes(0, 1), axis=axis - 1)
    out = None
    for t, key in enumerate(keys):
        tap = _take(x, axis, key)
        with np.errstate(invalid="ignore", over="ignore"):
            term = tap * weights[:, t]
            out = term if out is None else out + term
    return out


def _repeat(x, axis, k):
    """Each entry along ``axis`` repeated ``k`` times (nearest by an integer factor): a
    product with ones, exact for every value (unlike a matmul by a 0/1 matrix, where an
    infinity times 0 is NaN), whose gradient sums the k copies."""
    shape = tuple(x.shape)
    axis += len(shape)
    wide = reshape(x, shape=shape[:axis + 1] + (1,) + shape[axis + 1:]) * \
        np.ones((k,) + (1,) * (len(shape) - 1 - axis), x.dtype)
    return reshape(wide, shape=shape[:axis] + (shape[axis] * k,) + shape[axis + 1:])


def _matrix(index, weights, start, stop, dtype):
    """The matrix of :func:`_gather` restricted to the input entries ``start`` to ``stop``
    (where every tap of these rows lies): row o holds each tap's weight at its index (the
    weights of a clamped index that repeats added; 1 without weights)."""
    rows = np.arange(len(index))
    matrix = np.zeros((len(index), stop - start), dtype)
    if weights is None:
        matrix[rows, index - start] = 1
    else:
        np.add.at(matrix, (rows[:, None], index - start), weights.astype(dtype))
    return matrix


def _matmul_axis(x, axis, matrix):
    """``x`` with ``axis`` multiplied by ``matrix`` (out, n): ``x @ matrix.T`` for the last
    axis, else ``matrix @ x`` with the axes after it flattened, without moving any axis."""
    if axis == -1:
        return matmul(x, np.ascontiguousarray(matrix.T))  # BLAS is twice as fast on it
    shape = tuple(x.shape)
    rows = reshape(x, shape=shape[:axis] + (shape[axis], math.prod(shape[axis + 1:])))
    return reshape(matmul(matrix, rows), shape=shape[:axis] + (len(matrix),) +
                   shape[axis + 1:])


def _bands(n, o):
    """How many bands :func:`_by_matrix` cuts an axis of n entries, resized to o, into."""
    return 1 if n <= _DENSE else max(1, min(-(-n // _BAND), o // _ROWS))


def _by_matrix(x, axis, index, weights):
    """:func:`_gather` as matmuls: by the whole matrix, or for a long axis band by band
    (each output range times the input range its taps read, then joined)."""
    n, o = x.shape[axis], len(index)
    if n <= _DENSE:
        return _matmul_axis(x, axis, _matrix(index, weights, 0, n, x.dtype))
    bounds = np.linspace(0, o, _bands(n, o) + 1).round()
    before = (slice(None),) * (len(x.shape) + axis)
    parts = []
    for r0, r1 in zip(bounds[:-1].astype(int), bounds[1:].astype(int)):
        taps = index[r0:r1]
        start, stop = int(taps.min()), int(taps.max()) + 1
        band = _matrix(taps, None if weights is None else weights[r0:r1], start, stop,
                       x.dtype)
        parts.append(_matmul_axis(getitem(x, key=before + (slice(start, stop),)), axis, band))
    return concatenate(parts, axis=axis)


def _data(x):
    # inside vmap, every example's values at once: what is read here (finiteness, shared
    # memory) holds for the batch exactly when it holds for each example
    return bottom(x).data if isinstance(x, Tensor) else np.asarray(x)


def _finite(x):
    """Whether every entry of ``x`` is finite (a finite sum implies it; an overflowing sum
    of finite entries only sends the caller down its slower exact path)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.isfinite(np.sum(_data(x))))


def _resample(x, axis, index, weights=None):
    """``x`` resampled along ``axis`` (negative) by the taps ``index`` and ``weights`` (see
    :func:`_gather`), by the fastest exact way. Without weights (nearest), an entry repeated
    k times is :func:`_repeat` (but along the last axis, where NumPy's copies into runs of k
    are slow). Up to _TAPS taps per output entry are gathered where each tap's indices step
    evenly (slices: a copy, or shrinking by a whole factor), where the axis shrinks by
    _SHRINK entries per tap or more (a gather reads only the taps, a matmul every entry of
    its band) and where a banded matmul's Python costs more than the gather's reads.
    Otherwise a matmul (float32 and float64), which multiplies every entry a band reads,
    also by the zeros of its matrix: where an infinity or NaN is among them (checked on the
    smaller of input and output: a finite output means finite entries) the taps are
    gathered instead, giving NaN and infinity where PyTorch gives them."""
    n, o = x.shape[axis], len(index)
    k = 1 if index.ndim == 1 else index.shape[1]
    if weights is None and axis != -1 and o % n == 0 and \
            np.array_equal(index, np.arange(o) // (o // n)):
        return _repeat(x, axis, o // n)
    keys = _slices(index) if k <= _TAPS and index.max() < n else None
    rows = math.prod(x.shape) // n  # the entries each index reads, one per other position
    if keys is not None or x.dtype not in _BLAS or k <= _TAPS and (
            n >= _SHRINK * k * o or n > _DENSE and rows * o * k < _TAPS_PER_BAND * _bands(n, o)
    ) or (n <= o and not _finite(x)):
        return _gather(x, axis, index, weights, keys)
    # a tap of index n has weight 0: any column of its row's band will do for it
    inside = np.where(index < n, index, np.minimum(index[:, :1], n - 1)) if index.ndim == 2 \
        else index
    # a NaN or infinity of the matmuls is not kept: the output is then gathered instead
    with np.errstate(invalid="ignore", over="ignore"):
        out = _by_matrix(x, axis, inside, weights)
    return out if n <= o or _finite(out) else _gather(x, axis, index, weights, keys)


def _check(input, dims, mode, antialias):
    shape = tuple(input.shape)
    if mode not in MODES:
        raise ArgumentError(f"interpolate: mode={mode!r} is not a mode; use one of "
                            f"{', '.join(map(repr, MODES))} (input of shape {shape})")
    if not 3 <= len(shape) <= 5:
        raise ShapeError(f"interpolate: expected a 3-D, 4-D or 5-D input (N, C, *spatial) "
                         f"with 1 to 3 spatial dims, got shape {shape}, as PyTorch requires. "
                         "Hint: interpolate takes batched inputs only; add a batch axis, "
                         "x[None]")
    if mode in _NEEDS and _NEEDS[mode] != dims:
        raise ShapeError(f"interpolate: mode={mode!r} needs a {_NEEDS[mode] + 2}-D input "
                         f"({_NEEDS[mode]} spatial dims), got shape {shape}, as in PyTorch. "
                         f"Hint: for {dims} spatial dims use mode="
                         f"{ {1: 'linear', 2: 'bilinear', 3: 'trilinear'}[dims]!r}")
    if antialias and (mode not in ("bilinear", "bicubic") or dims != 2):
        raise ArgumentError(f"interpolate: antialias=True is for modes 'bilinear' and "
                            f"'bicubic' on a 4-D input, as in PyTorch; got mode={mode!r} and "
                            f"shape {shape}. Hint: pass antialias=False")
    if mode != "area" and (shape[1] == 0 or 0 in shape[2:]):  # area: adaptive pooling's checks
        raise ShapeError(f"interpolate: the input of shape {shape} has an empty channel or "
                         "spatial dim (only the batch may be empty), as PyTorch requires")
    dtype = input.dtype if isinstance(input, Tensor) else np.asarray(input).dtype
    if dtype.kind != "f" and not (dtype == np.uint8 and mode in ("nearest", "nearest-exact")):
        raise DTypeError(f"interpolate: cannot resize an input of dtype {dtype} (shape "
                         f"{shape}) with mode={mode!r}; it takes floating inputs, and uint8 "
                         "ones in the nearest modes (as PyTorch's CPU kernels, except that "
                         "PyTorch also computes bilinear and bicubic in uint8). Hint: convert "
                         "it first: x.float()")


def _per_axis(name, value, dims, shape, integral):
    """``value`` (a number or one per spatial dim) as a tuple of ``dims`` ints (``integral``)
    or finite numbers."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims
    if len(values) != dims:
        raise ArgumentError(f"interpolate: {name}={value!r} has {len(values)} entries but the "
                            f"input of shape {shape} has {dims} spatial dims, as PyTorch "
                            f"requires one per spatial dim. Hint: e.g. {name}="
                            f"{(values[0] if values else 2,) * dims}")
    fits = (lambda v: isinstance(v, numbers.Integral) and not isinstance(v, bool)) \
        if integral else (lambda v: isinstance(v, numbers.Real) and math.isfinite(v))
    if not all(map(fits, values)):
        raise ArgumentError(f"interpolate: {name}={value!r} must be "
                            f"{'an int' if integral else 'a finite number'} or one per "
                            "spatial dim, as in PyTorch")
    return values


def _sizes(input, dims, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, scale factors the coordinates use: None for each where they come from
    the sizes), after PyTorch's checks."""
    shape = tuple(input.shape)
    if size is not None and scale_factor is not None:
        raise ArgumentError(f"interpolate: give size or scale_factor, not both (size={size!r}, "
                            f"scale_factor={scale_factor!r}), as PyTorch requires")
    if size is None and scale_factor is None:
        raise ArgumentError("interpolate: give size or scale_factor, as PyTorch requires "
                            f"(input of shape {shape}). Hint: e.g. scale_factor=2")
    if recompute_scale_factor and size is not None:
        raise ArgumentError("interpolate: recompute_scale_factor=True is not meaningful with "
                            "an explicit size, as in PyTorch. Hint: leave it None")
    if size is not None:
        out = tuple(int(v) for v in _per_axis("size", size, dims, shape, True))
        factors = (None,) * dims
    else:
        factors = tuple(float(f) for f in _per_axis("scale_factor", scale_factor, dims, shape,
                                                     False))
        out = tuple(math.floor(n * f) for n, f in zip(shape[2:], factors))
        if recompute_scale_factor or mode == "area":
            factors = (None,) * dims
    if min(out) < 1 and mode != "area":  # adaptive pooling gives empty axes, as PyTorch's
        raise ShapeError(f"interpolate: the output sizes {out} of the input of shape {shape} "
                         f"(size={size!r}, scale_factor={scale_factor!r}) must be greater than "
                         "0, as in PyTorch. Hint: a scale factor gives floor(size * factor) "
                         "entries")
    return out, factors


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of an (N, C, *spatial) input, as
    ``torch.nn.functional.interpolate``, to ``size`` (an int or one per spatial dim) or to
    ``floor(in * scale_factor)`` entries (a number or one per dim). ``mode``:

    * ``'nearest'``: ``out[o] = in[floor(o * scale)]``; ``'nearest-exact'``:
      ``in[floor((o + 0.5) * scale)]`` (any spatial dims; also uint8 inputs);
    * ``'linear'`` (3-D input), ``'bilinear'`` (4-D), ``'trilinear'`` (5-D): the two entries
      around the source coordinate ``(o + 0.5) * scale - 0.5`` (clamped at 0), weighted by
      their distances; ``'bicubic'`` (4-D): four entries, cubic convolution with a = -0.75,
      indices clamped into the input;
    * ``'area'``: the mean over adaptive windows (``adaptive_avg_pool``).

    ``scale`` is input entries per output entry: ``in/out``, or ``1/scale_factor`` when a
    scale factor is given and ``recompute_scale_factor`` is not True (so ``scale_factor=1.5``
    and ``size=floor(1.5 * in)`` can differ, as in PyTorch). ``align_corners=True`` (the linear
    and cubic modes; default False) maps the corner entries onto each other instead: source
    ``o * (in - 1) / (out - 1)``. ``antialias=True`` (bilinear and bicubic) widens the filter
    when shrinking, as PyTorch's (PIL's filters). Differentiable in every mode, to any order.

    PyTorch 2.13 computes the nearest indices two ways: its 2-D kernel for outputs with
    ``out_H + out_W <= 128`` uses ATen's ``nearest_idx`` (a float32 scale, with ``o == n``
    copied and ``o == 2n`` read at ``o // 2``), its other kernels ``floorf(o * scale)`` in the
    input's precision; wengert does the same, so the outputs agree. Its backward kernels
    always use ``nearest_idx``; given a scale factor other than 1 along an axis whose size
    does not change, its bicubic forward resamples (with scale 1/factor) where its backward
    copies the gradient (when no axis changes), and its antialiased forward leaves the axis
    alone where its backward resamples it. There PyTorch's gradient is not the derivative
    of its output; wengert's is. Where
    PyTorch's antialiased kernel has an output width of 1 it gives every output row the first
    row's weights (a PyTorch bug); wengert gives each row its own."""
    shape = tuple(input.shape)
    dims = len(shape) - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ArgumentError(f"interpolate: align_corners is for the modes 'linear', "
                                f"'bilinear', 'bicubic' and 'trilinear', not mode={mode!r}, "
                                "as in PyTorch. Hint: leave it None")
    elif align_corners is None:
        align_corners = False
    _check(input, dims, mode, antialias)
    out, factors = _sizes(input, dims, size, scale_factor, recompute_scale_factor, mode)
    if mode == "area":
        return _AREA[dims](input, out)
    ct = np.float64 if input.dtype == np.float64 else np.float32  # PyTorch's opmath type
    small_2d = dims == 2 and sum(out) <= _SMALL_2D
    x = input
    # The axes that shrink most first and those that grow most last, so that every axis
    # resizes as few entries as it can; of axes that grow alike the last one first, as
    # PyTorch's kernels nest them (a matmul along it is the fastest), of axes that shrink
    # alike the first one first (its taps are whole rows). The order changes the rounding
    # only: the output is the same separable sum of the same products.
    for axis in sorted(range(-dims, 0), key=lambda a: (out[a] / shape[a],
                                                       a if out[a] < shape[a] else -a)):
        n, o, factor = shape[axis], out[axis], factors[axis]
        if mode in ("nearest", "nearest-exact"):
            index = _taps_nearest(n, o, factor, ct, mode == "nearest-exact", small_2d)
            if o != n or np.any(index != np.arange(o)):
                x = _resample(x, axis, index)
        elif antialias:
            if o != n:  # PyTorch's antialiased kernel leaves an axis of the same size alone
                x = _resample(x, axis, *_taps_antialias(n, o, align_corners, factor, ct,
                                                         mode == "bicubic"))
        elif mode == "bicubic":
            x = _resample(x, axis, *_taps_cubic(n, o, align_corners, factor, ct))
        else:
            x = _resample(x, axis, *_taps_linear(n, o, align_corners, factor, ct))
    # a new tensor, as PyTorch's, also where every axis was left alone or sliced
    return copy(x) if np.may_share_memory(_data(x), _data(input)) else x


# --- modules ---------------------------------------------------------------------------------
class Upsample(Module):
    """:func:`interpolate` as a module: ``Upsample(size=None, scale_factor=None,
    mode='nearest', align_corners=None, recompute_scale_factor=None)``. As PyTorch's, it keeps
    ``scale_factor`` as a float (or a tuple of floats; 0 becomes None) and prints the size or
    the scale factor and the mode."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        self.scale_factor = tuple(float(f) for f in scale_factor) \
            if isinstance(scale_factor, tuple) else (float(scale_factor) if scale_factor
                                                     else None)
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else \
            f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')``: ``UpsamplingNearest2d(size=None,
    scale_factor=None)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``:
    ``UpsamplingBilinear2d(size=None, scale_factor=None)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
