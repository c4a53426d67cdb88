"""Pooling over the trailing N = 1, 2, 3 axes: the primitives behind max and average pooling
and their adaptive forms (the functions with PyTorch's signatures are in
:mod:`wengert.nn.pooling`). An input is (..., *spatial); the geometry tuples have N entries.

Max pooling is a gather: which entry wins each window is found in NumPy (indices have no
derivative), and ``pool_gather`` reads the input there, so the gradient goes to that one
entry. The VJP of the gather is ``pool_scatter_add`` (repeats add up where windows overlap)
and the VJP of that is the gather again, so every derivative order is exact. Average pooling
is linear: ``window_sum`` adds up each window (zero padding; the caller divides by the
counts), one strided slice addition per kernel offset (k^N vectorised steps); its VJP
``window_sum_adjoint`` adds each output's gradient back onto its window the same way, and
the VJP of that is ``window_sum`` again.

Integer inputs (which never require grad) go through the same NumPy code: where a float
input is padded with -inf, an integer one is padded with its dtype's minimum, which likewise
never wins a window (PyTorch's kernels start from that minimum too), and no NaN check runs."""
import itertools
import math

import numpy as np

from ..autodiff.primitive import defop


# --- geometry -------------------------------------------------------------------------------
def output_length(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """PyTorch's pooled length of one axis: windows spanning ``dilation*(kernel-1)+1`` entries,
    every ``stride``, over the input with ``padding`` added at both ends. With ``ceil_mode`` a
    last, partial window counts too, but only if it starts inside the input or the left
    padding (one starting in the right padding would see padding only)."""
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _right_padding(size, out, kernel, stride, padding, dilation=1):
    """How far the last window reaches past the input (ceil_mode's partial window included)."""
    return max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - padding - size)


def _lowest(dtype):
    """The value that never wins a max window of ``dtype``: -inf for floats, the minimum for
    integers (as the start value of PyTorch's max pooling kernels)."""
    dtype = np.dtype(dtype)
    return dtype.type(-np.inf) if dtype.kind == "f" else np.iinfo(dtype).min


def _pad(x, low, high, value):
    """``x`` with ``low``/``high`` entries of ``value`` added around each trailing axis (no
    copy when there are none)."""
    if not any(low) and not any(high):
        return x
    lead = [(0, 0)] * (x.ndim - len(low))
    return np.pad(x, lead + list(zip(low, high)), constant_values=value)


def _axis_shape(d, n, length):
    """Shape that puts a vector of ``length`` on axis ``d`` of ``n`` broadcast axes."""
    return (1,) * d + (length,) + (1,) * (n - 1 - d)


def _slices(offset, out_size, stride, step):
    """The entries of a padded input that offset ``offset`` of each window reads, a view."""
    return (Ellipsis,) + tuple(slice(k * dl, k * dl + (o - 1) * s + 1, s)
                               for k, o, s, dl in zip(offset, out_size, stride, step))


# --- which entry wins a max window (NumPy; not differentiated) -----------------------------
def _window_argmax(read, count, first, shape, dtype):
    """The number (row-major, among ``count`` window offsets) of each window's maximum, as
    PyTorch's CPU loop picks it: the first of equal values, the last NaN, and ``first`` (the
    first entry inside the input) when every entry is -inf (an integer dtype's minimum).
    ``read(k)`` gives every window's entry at offset k, :func:`_lowest` where that entry is
    outside the window."""
    best = np.full(shape, _lowest(dtype), dtype)
    # cast before broadcasting: casting while broadcasting is several times slower
    pick = np.broadcast_to(first.astype(np.min_scalar_type(count)), shape).copy()
    wins = np.empty(shape, bool)
    for k in range(count):
        values = read(k)
        np.greater(values, best, out=wins)  # strict: an equal value later does not win
        np.maximum(best, values, out=best)  # NaN sticks in best, so nothing after wins
        # offsets come in increasing order, so "set pick to k where it wins" is a maximum
        np.maximum(pick, wins * pick.dtype.type(k), out=pick)
    if best.dtype.kind != "f":  # integers have no NaN
        return pick
    nan = np.isnan(best)
    if nan.any():  # PyTorch keeps moving to each NaN it meets: the last one wins
        last = np.zeros_like(pick)
        for k in range(count):
            np.maximum(last, np.isnan(read(k)) * last.dtype.type(k), out=last)
        pick = np.where(nan, last, pick)
    return pick


def _flat_indices(pick, axes, kernel, size):
    """Flat indices into each input plane of the picked window offsets. ``axes`` gives per
    axis the start of each window and the step between its entries: entry k of window o is
    at ``start[o] + k * step``."""
    n = len(size)
    plane = [math.prod(size[d + 1:]) for d in range(n)]  # row-major strides of a plane
    table = np.array([sum(k * step * p for k, (_, step), p in zip(offset, axes, plane))
                      for offset in itertools.product(*map(range, kernel))], dtype=np.int64)
    base = sum(start.reshape(_axis_shape(d, n, start.size)) * plane[d]
               for d, (start, _) in enumerate(axes))
    return table[pick] + base


def _first_inside(inside, kernel):
    """Offset number of each window's first entry inside the input, from per-axis
    (windows, kernel) masks of the entries that are."""
    n = len(kernel)
    first = np.zeros((1,) * n, np.int64)
    for d, v in enumerate(inside):
        first = first * kernel[d] + v.argmax(axis=1).reshape(_axis_shape(d, n, len(v)))
    return first


def max_pool_indices(x, kernel, stride, padding, dilation, out_size):
    """Flat index into each plane of the trailing axes of ``x`` (int64, as PyTorch's
    ``return_indices``) of every window's maximum."""
    size = x.shape[-len(kernel):]
    high = [_right_padding(L, o, k, s, p, dl)
            for L, o, k, s, p, dl in zip(size, out_size, kernel, stride, padding, dilation)]
    padded = _pad(x, padding, high, _lowest(x.dtype))  # never wins, so never picked
    offsets = list(itertools.product(*map(range, kernel)))
    starts = [np.arange(o) * s - p for o, s, p in zip(out_size, stride, padding)]
    # past the left padding (the first such entry of a window is inside the input: windows
    # start inside the input or its left padding, and nn.pooling refuses a window whose
    # dilation skips past the whole input, which PyTorch gives an index outside the input)
    past_left = [(st[:, None] + np.arange(k) * dl >= 0)
                 for st, k, dl in zip(starts, kernel, dilation)]
    pick = _window_argmax(lambda k: padded[_slices(offsets[k], out_size, stride, dilation)],
                          len(offsets), _first_inside(past_left, kernel),
                          x.shape[:-len(kernel)] + tuple(out_size), x.dtype)
    return _flat_indices(pick, list(zip(starts, dilation)), kernel, size)


def adaptive_windows(size, out):
    """PyTorch's adaptive windows of one axis: window i covers ``floor(i*size/out)`` up to
    (not including) ``ceil((i+1)*size/out)``; returns (starts, ends)."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def adaptive_max_pool_indices(x, out_size):
    """Flat index into each plane of the trailing axes of ``x`` (int64) of the maximum of
    every adaptive window (:func:`adaptive_windows`)."""
    n = len(out_size)
    size = x.shape[-n:]
    windows = [adaptive_windows(L, o) for L, o in zip(size, out_size)]
    kernel = tuple(int((e - s).max(initial=1)) for s, e in windows)  # the longest window
    inside = [np.arange(k) < (e - s)[:, None] for (s, e), k in zip(windows, kernel)]
    # entries past a shorter window's end are read at its last entry, then masked (lowest)
    at = [np.minimum(s[:, None] + np.arange(k), e[:, None] - 1)
          for (s, e), k in zip(windows, kernel)]
    offsets = list(itertools.product(*map(range, kernel)))

    def read(k):
        key = tuple(a[:, j].reshape(_axis_shape(d, n, len(a)))
                    for d, (a, j) in enumerate(zip(at, offsets[k])))
        mask = math.prod(m[:, j].reshape(_axis_shape(d, n, len(m)))
                         for d, (m, j) in enumerate(zip(inside, offsets[k])))
        return np.where(mask, x[(Ellipsis,) + key], np.array(_lowest(x.dtype), x.dtype))

    pick = _window_argmax(read, len(offsets), np.zeros((1,) * n, np.int64),
                          x.shape[:-n] + tuple(out_size), x.dtype)
    return _flat_indices(pick, [(s, 1) for s, _ in windows], kernel, size)


# --- gather and scatter over planes ---------------------------------------------------------
def _global(index, lead_shape, plane):
    """Plane indices made indices into the flattened array (plane number * plane size added)."""
    rows = np.arange(math.prod(lead_shape), dtype=np.int64).reshape(
        tuple(lead_shape) + (1,) * (index.ndim - len(lead_shape)))
    return index + rows * plane


def _pool_gather(x, index, dims):
    lead, spatial = x.shape[:-dims], x.shape[-dims:]
    if index.shape[:-dims] != lead:
        raise ValueError(f"indices of shape {index.shape} do not fit an input of shape "
                         f"{x.shape} over its last {dims} axes")
    return np.take(x.reshape(-1), _global(index, lead, math.prod(spatial)))


def _pool_scatter_add(g, index, shape, dims):
    out = np.zeros(math.prod(shape), dtype=g.dtype)
    # np.add.at on a flat array with flat indices is NumPy's fast path (since 1.25): measured
    # faster than bincount (which also works in float64) and than assignment, where it
    # applies, for a (128, 32, 28, 28) float32 input
    np.add.at(out, _global(index, shape[:-dims], math.prod(shape[-dims:])).reshape(-1),
              g.reshape(-1))
    return out.reshape(shape)


pool_gather = defop(
    "pool_gather", _pool_gather,
    vjp=[lambda ns, g, ans, x, index, dims:
         ns.pool_scatter_add(g, index=index, shape=x.shape, dims=dims)],
    jvp=[lambda ns, t, ans, x, index, dims: ns.pool_gather(t, index=index, dims=dims)],
    saves="none",
    doc="``out[..., o] = x[..., index[..., o]]`` with ``index`` flat indices into each plane "
        "of the last ``dims`` axes (what max pooling returns as indices).")

pool_scatter_add = defop(
    "pool_scatter_add", _pool_scatter_add,
    vjp=[lambda ns, g, ans, x, index, shape, dims: ns.pool_gather(g, index=index, dims=dims)],
    jvp=[lambda ns, t, ans, x, index, shape, dims:
         ns.pool_scatter_add(t, index=index, shape=shape, dims=dims)],
    saves="none",
    doc="The adjoint of :func:`pool_gather`: zeros of ``shape`` with each ``g[..., o]`` added "
        "at flat plane index ``index[..., o]`` (repeats add up).")


# --- window sums (average pooling) ----------------------------------------------------------
def _window_sum(x, kernel, stride, padding, out_size):
    n = len(kernel)
    high = [_right_padding(L, o, k, s, p)
            for L, o, k, s, p in zip(x.shape[-n:], out_size, kernel, stride, padding)]
    padded = _pad(x, padding, high, 0)
    out = np.zeros(x.shape[:-n] + tuple(out_size), x.dtype)
    for offset in itertools.product(*map(range, kernel)):
        out += padded[_slices(offset, out_size, stride, (1,) * n)]
    return out


def _window_sum_adjoint(g, kernel, stride, padding, in_size):
    n = len(kernel)
    out_size = g.shape[-n:]
    extent = [p + L + _right_padding(L, o, k, s, p)
              for L, o, k, s, p in zip(in_size, out_size, kernel, stride, padding)]
    out = np.zeros(g.shape[:-n] + tuple(extent), g.dtype)
    for offset in itertools.product(*map(range, kernel)):
        out[_slices(offset, out_size, stride, (1,) * n)] += g
    return out[(Ellipsis,) + tuple(slice(p, p + L) for p, L in zip(padding, in_size))]


window_sum = defop(
    "window_sum", _window_sum,
    vjp=[lambda ns, g, ans, x, kernel, stride, padding, out_size:
         ns.window_sum_adjoint(g, kernel=kernel, stride=stride, padding=padding,
                               in_size=x.shape[-len(kernel):])],
    jvp=[lambda ns, t, ans, x, kernel, stride, padding, out_size:
         ns.window_sum(t, kernel=kernel, stride=stride, padding=padding, out_size=out_size)],
    saves="none",
    doc="The sum of each ``kernel`` window, every ``stride``, over the trailing axes of ``x`` "
        "with ``padding`` zeros at both ends (and past the end, where ceil_mode's last window "
        "reaches); ``out_size`` windows per axis. Average pooling divides it by the counts.")

window_sum_adjoint = defop(
    "window_sum_adjoint", _window_sum_adjoint,
    vjp=[lambda ns, g, ans, y, kernel, stride, padding, in_size:
         ns.window_sum(g, kernel=kernel, stride=stride, padding=padding,
                       out_size=y.shape[-len(kernel):])],
    jvp=[lambda ns, t, ans, y, kernel, stride, padding, in_size:
         ns.window_sum_adjoint(t, kernel=kernel, stride=stride, padding=padding,
                               in_size=in_size)],
    saves="none",
    doc="The adjoint of :func:`window_sum`: each ``y[..., o]`` added onto every entry of its "
        "window; the result has ``in_size`` on the trailing axes (padding dropped).")
