"""Convolution primitives (PyTorch's cross-correlation over 1, 2 or 3 spatial axes) and the
two bilinear maps its derivatives are made of.

* ``conv(x, weight)``: x (N, C_in, *spatial), weight (C_out, C_in/groups, *kernel), output
  (N, C_out, *out) with ``out = (size + lo + hi - dilation*(k-1) - 1) // stride + 1``.
* ``conv_transpose(y, weight)``: the adjoint of ``conv`` in its input (PyTorch's transposed
  convolution, weight (C_in, C_out/groups, *kernel)): every input entry scatters
  ``y[i] * weight`` onto the output positions ``i*stride - lo + k*dilation``.
* ``conv_weight(x, dy, kernel_size)``: the adjoint of ``conv`` in its weight, the correlation
  of the input with an output gradient: ``dw[o, c, k] = sum over n, p of
  dy[n, o, p] * x_padded[n, c, p*stride + k*dilation]``.

All three are bilinear, and each one's VJPs are the other two (see the rules below), so
reverse mode, forward mode and every higher order reduce to these three NumPy forwards.
Padding is given per spatial axis as ``(lo, hi)`` pairs (an int or a tuple of ints pads both
sides alike), so ``padding='same'`` with an even kernel can pad more on the right, as
PyTorch does.

``conv`` and ``conv_weight`` are im2col: a strided window view of the padded input
(``sliding_window_view``, no copy), copied once into a (C_in/groups*K, P) matrix per sample
and group, or into one (C_in/groups*K, N*P) matrix per group when the images are small (see
:func:`_per_sample`), and one batched ``matmul`` (a depthwise convolution is one call too).
``conv_transpose`` is col2im: one batched matmul gives every input entry's contribution to
every kernel offset, and one strided add per kernel offset places them."""
import itertools
import math

import numpy as np

from ..autodiff.primitive import defop
from ..errors import ArgumentError, DTypeError, ShapeError

_window_view = np.lib.stride_tricks.sliding_window_view


# --- argument checks ------------------------------------------------------------------------
def ints(op, name, value, n, least):
    """``value`` (an int or n ints) as a tuple of n ints, each at least ``least``; also
    what :mod:`wengert.nn.conv` checks PyTorch's arguments with."""
    try:
        out = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    except TypeError:  # a float or None: refused below
        out = (value,)
    if len(out) != n or any(not isinstance(v, (int, np.integer)) or v < least for v in out):
        raise ArgumentError(f"{op}: {name}={value!r} must be an int or {n} ints, each "
                            f">= {least}, for {n} spatial dims. Hint: e.g. {name}={least + 1}"
                            f" or {name}={(least + 1,) * n}")
    return tuple(int(v) for v in out)


def _pairs(op, padding, n):
    """``padding`` as n ``(lo, hi)`` pairs: an int, n ints (both sides alike) or n pairs."""
    if isinstance(padding, (int, np.integer)):
        padding = (padding,) * n
    try:
        pairs = tuple((p, p) if isinstance(p, (int, np.integer)) else tuple(p)
                      for p in padding)
    except TypeError:
        pairs = ()
    if len(pairs) != n or any(len(p) != 2 or any(not isinstance(v, (int, np.integer))
                                                 or v < 0 for v in p)
                              for p in pairs):
        raise ArgumentError(f"{op}: padding={padding!r} must be an int, {n} ints or {n} "
                            f"(lo, hi) pairs of non-negative ints, for {n} spatial dims. Hint: "
                            f"e.g. padding=1 or padding={((1, 0),) * n}")
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


def _geometry(op, n, stride, padding, dilation):
    """Stride, padding pairs and dilation, normalised and checked, for n spatial axes."""
    return (ints(op, "stride", stride, n, 1), _pairs(op, padding, n),
            ints(op, "dilation", dilation, n, 1))


def _check_inputs(op, x, weight, x_name="input"):
    """Same ndim (3, 4 or 5), floating and of one dtype, as PyTorch requires."""
    if x.ndim not in (3, 4, 5) or weight.ndim != x.ndim:
        raise ShapeError(f"{op}: expected a batched {x_name} (N, C, *spatial) with 1-3 spatial "
                         f"dims and a weight of the same ndim, got {x_name} {x.shape} and "
                         f"weight {weight.shape}. Hint: the nn.functional conv functions also "
                         "take unbatched input (C, *spatial)")
    if x.dtype != weight.dtype or x.dtype.kind != "f":
        raise DTypeError(f"{op}: {x_name} ({x.dtype}) and weight ({weight.dtype}) must be "
                         f"floating and of the same dtype ({x_name} shape {x.shape}, weight "
                         f"shape {weight.shape}). Hint: cast one with .astype(), e.g. "
                         "x.astype(weight.dtype)")


def _check_groups(op, groups, x_shape, weight, expected):
    """The input's channels (axis 1 of ``x_shape``) in ``groups`` groups, where the weight
    expects ``expected`` input channels and its axis 0 must split into the groups too."""
    channels = x_shape[1]
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentError(f"{op}: groups={groups!r} must be a positive int (input "
                            f"{x_shape}, weight {weight.shape}). Hint: groups=1 is an "
                            "ordinary convolution, groups=C_in a depthwise one")
    if channels % groups or weight.shape[0] % groups:
        raise ArgumentError(f"{op}: groups={groups} must divide the {channels} input channels "
                            f"and the weight's {weight.shape[0]} (input {x_shape}, weight "
                            f"{weight.shape}). Hint: groups splits the channels into equal "
                            "groups; pick a divisor of both")
    if expected != channels:
        raise ShapeError(f"{op}: the input has {channels} channels but the weight "
                         f"{weight.shape} with groups={groups} expects {expected} (input "
                         f"{x_shape}). Hint: a conv weight is (C_out, C_in/groups, *kernel), "
                         "a conv_transpose one (C_in, C_out/groups, *kernel)")


def _out_size(op, shape, kernel, stride, pads, dilation):
    """Output spatial sizes of a correlation; an empty output is an error."""
    sizes = tuple((m + lo + hi - d * (k - 1) - 1) // s + 1
                  for m, k, s, (lo, hi), d in zip(shape, kernel, stride, pads, dilation))
    if any(m < 1 for m in sizes):
        padded = tuple(m + lo + hi for m, (lo, hi) in zip(shape, pads))
        raise ShapeError(f"{op}: the kernel {tuple(kernel)} (dilation {dilation}) is larger "
                         f"than the padded input {padded} (input spatial {tuple(shape)}, "
                         f"padding {pads}). Hint: pad more or use a smaller kernel or dilation")
    return sizes


# --- NumPy kernels --------------------------------------------------------------------------
def _pad(x, pads):
    """Zeros around the spatial axes, (lo, hi) per axis."""
    if any(lo or hi for lo, hi in pads):
        return np.pad(x, [(0, 0), (0, 0)] + list(pads))
    return x


def _windows(x, kernel, stride, pads, dilation, sizes=None):
    """The view (N, C, *P, *K) with ``[..., p, k] = x_padded[..., p*stride + k*dilation]``
    (no copy); ``sizes`` keeps only the first output positions."""
    n = len(kernel)
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    view = _window_view(_pad(x, pads), spans, axis=tuple(range(2, 2 + n)))
    sizes = sizes or (None,) * n
    return view[(slice(None),) * 2 + tuple(slice(0, m * s if m else None, s)
                                           for m, s in zip(sizes, stride))
                + tuple(slice(None, None, d) for d in dilation)]


def _columns(view, groups, per_sample):
    """im2col: the window view (N, C, *P, *K) as matrices of C/groups*K rows. Per sample,
    (N, groups, C/groups*K, P): one GEMM per sample and group writes the output straight in
    PyTorch's (N, C_out, *P) layout. Else one (groups, C/groups*K, N*P) matrix: one GEMM per
    group, whose (C_out, N*P) product must then be copied into that layout. Either order
    copies runs of consecutive positions (the view's contiguous axis last), three times
    faster than putting the channels last."""
    n_batch, channels = view.shape[:2]
    n = (view.ndim - 2) // 2
    spatial, kernel = view.shape[2:2 + n], view.shape[2 + n:]
    view = view.reshape((n_batch, groups, channels // groups) + spatial + kernel)
    rows = channels // groups * math.prod(kernel)
    taps = tuple(range(3 + n, 3 + 2 * n))
    if per_sample:
        order = (0, 1, 2) + taps + tuple(range(3, 3 + n))
        return view.transpose(order).reshape(n_batch, groups, rows, math.prod(spatial))
    order = (1, 2) + taps + (0,) + tuple(range(3, 3 + n))
    return view.transpose(order).reshape(groups, rows, n_batch * math.prod(spatial))


def _per_sample(rows, inner, positions):
    """Whether a product of a (rows, inner) weight block with every sample's (inner,
    positions) columns runs as one GEMM per sample and group: it skips copying the
    (N, C, P) operand or result between the sample-major layout and a (C, N*P) matrix, and
    pays a GEMM call per sample and group, which the copy outweighs only when each call has
    enough work and enough positions for BLAS to run at speed (measured: 14x14 images gain
    up to 20%, 4x4 and 7x7 ones lose up to 2x; depthwise blocks of one row gain nothing)."""
    return positions >= _MIN_POSITIONS and rows * inner * positions >= _MIN_WORK


_MIN_POSITIONS = 64  # output positions per sample (the GEMM's narrow side)
_MIN_WORK = 1 << 16  # multiply-adds per GEMM call


def _group_rows(a, groups):
    """(N, C, *P) as one (groups, C/groups, N*P) matrix per group (a copy)."""
    n_batch, channels = a.shape[:2]
    positions = math.prod(a.shape[2:])  # not -1: an empty batch has no size to infer it from
    a = a.reshape((n_batch, groups, channels // groups, positions)).transpose(1, 2, 0, 3)
    return a.reshape(groups, channels // groups, n_batch * positions)


def _conv(x, weight, stride=1, padding=0, dilation=1, groups=1):
    _check_inputs("conv", x, weight)
    _check_groups("conv", groups, x.shape, weight, weight.shape[1] * groups)
    stride, pads, dilation = _geometry("conv", x.ndim - 2, stride, padding, dilation)
    kernel = weight.shape[2:]
    sizes = _out_size("conv", x.shape[2:], kernel, stride, pads, dilation)
    n_batch, c_out = x.shape[0], weight.shape[0]
    w = weight.reshape(groups, c_out // groups, -1)
    per_sample = _per_sample(w.shape[1], w.shape[2], math.prod(sizes))
    cols = _columns(_windows(x, kernel, stride, pads, dilation), groups, per_sample)
    out = np.matmul(w, cols)
    if per_sample:  # (N, G, C_out/G, P): already sample-major
        return out.reshape((n_batch, c_out) + sizes)
    out = out.reshape((c_out, n_batch) + sizes).swapaxes(0, 1)
    return np.ascontiguousarray(out)


def _conv_transpose(y, weight, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    op = "conv_transpose"
    _check_inputs(op, y, weight)
    _check_groups(op, groups, y.shape, weight, weight.shape[0])
    n = y.ndim - 2
    stride, pads, dilation = _geometry(op, n, stride, padding, dilation)
    extra = ints(op, "output_padding", output_padding, n, 0)
    kernel, spatial = weight.shape[2:], y.shape[2:]
    n_batch, c_in = y.shape[:2]
    per_group = weight.shape[1]
    sizes = tuple((m - 1) * s + d * (k - 1) + 1 - lo - hi + e for m, s, k, d, (lo, hi), e
                  in zip(spatial, stride, kernel, dilation, pads, extra))
    if any(m < 1 for m in sizes):
        raise ShapeError(f"{op}: input {y.shape}, weight {weight.shape}, stride {stride}, "
                         f"padding {pads}, output_padding {extra} give an empty output "
                         f"{sizes}. Hint: use less padding")
    # col2im: what every input entry gives every kernel offset, (G, C_out/G*K, I) per
    # sample (or for all samples at once) from one batched matmul, then one strided add per
    # kernel offset at i*stride + k*dilation of the unpadded output (no zeros multiplied,
    # whatever the stride).
    w = weight.reshape(groups, c_in // groups, -1).transpose(0, 2, 1)
    positions = math.prod(spatial)
    per_sample = _per_sample(w.shape[1], w.shape[2], positions)
    if per_sample:
        cols = np.matmul(w, y.reshape(n_batch, groups, c_in // groups, positions))
        cols = cols.reshape((n_batch, groups, per_group) + kernel + spatial)
    else:
        cols = np.matmul(w, _group_rows(y, groups))
        cols = np.moveaxis(cols.reshape((groups, per_group) + kernel + (n_batch,) + spatial),
                           2 + n, 0)
    full = tuple(max((m - 1) * s + d * (k - 1) + 1, lo + size) for m, s, k, d, (lo, _), size
                 in zip(spatial, stride, kernel, dilation, pads, sizes))
    out = np.zeros((n_batch, groups, per_group) + full, dtype=y.dtype)
    for k in itertools.product(*map(range, kernel)):
        at = tuple(slice(ki * d, ki * d + (m - 1) * s + 1, s)
                   for ki, d, m, s in zip(k, dilation, spatial, stride))
        out[(slice(None),) * 3 + at] += cols[(slice(None),) * 3 + k]
    # the padding takes lo entries off the start; output_padding may reach past the end
    keep = tuple(slice(lo, lo + size) for (lo, _), size in zip(pads, sizes))
    out = out[(slice(None),) * 3 + keep]
    return np.ascontiguousarray(out).reshape((n_batch, groups * per_group) + sizes)


def _conv_weight(x, dy, kernel_size, stride=1, padding=0, dilation=1, groups=1):
    op = "conv_weight"
    _check_inputs(op, x, dy)
    n = x.ndim - 2
    kernel = ints(op, "kernel_size", kernel_size, n, 1)
    stride, pads, dilation = _geometry(op, n, stride, padding, dilation)
    if not isinstance(groups, (int, np.integer)) or groups < 1 or x.shape[1] % groups \
            or dy.shape[1] % groups:
        raise ArgumentError(f"{op}: groups={groups!r} must be a positive int dividing the "
                            f"input's channels ({x.shape}) and the gradient's ({dy.shape}). "
                            "Hint: pass the groups of the convolution whose gradient this is")
    full = _out_size(op, x.shape[2:], kernel, stride, pads, dilation)
    if dy.shape[0] != x.shape[0] or any(m > f for m, f in zip(dy.shape[2:], full)):
        raise ShapeError(f"{op}: an output gradient of shape {dy.shape} does not fit the "
                         f"input {x.shape} (at most {full} output positions, same batch). "
                         "Hint: pass the stride, padding and dilation of the convolution "
                         "whose gradient this is")
    per_group, c_in = dy.shape[1] // groups, x.shape[1] // groups
    positions = math.prod(dy.shape[2:])
    # Per sample, the products are summed over the samples afterwards (an (N, C_out,
    # C_in/G*K) temporary), which is cheaper than copying dy into one matrix only while
    # there are fewer window entries than positions (a first layer's few input channels).
    per_sample = (_per_sample(per_group, c_in * math.prod(kernel), positions)
                  and c_in * math.prod(kernel) < positions)
    cols = _columns(_windows(x, kernel, stride, pads, dilation, dy.shape[2:]), groups,
                    per_sample)
    if per_sample:
        rows = dy.reshape(dy.shape[0], groups, per_group, positions)
        out = np.add.reduce(np.matmul(rows, cols.swapaxes(-1, -2)), axis=0)
    else:
        out = np.matmul(_group_rows(dy, groups), cols.swapaxes(-1, -2))
    return out.reshape((dy.shape[1], c_in) + kernel)


# --- rules ----------------------------------------------------------------------------------
def _output_padding(in_sizes, out_sizes, kernel, stride, padding, dilation):
    """The output_padding that makes conv_transpose of ``out_sizes`` come back to
    ``in_sizes``: the trailing input entries no window reached (stride not covering them)."""
    n = len(in_sizes)
    stride, pads, dilation = _geometry("conv", n, stride, padding, dilation)
    return tuple(m + lo + hi - d * (k - 1) - 1 - (o - 1) * s for m, o, k, s, (lo, hi), d
                 in zip(in_sizes, out_sizes, kernel, stride, pads, dilation))


def _crop(ns, a, sizes):
    """The first ``sizes`` entries of a's spatial axes (a transposed convolution's output
    padding reaches past what the forward read)."""
    if tuple(a.shape[2:]) == tuple(sizes):
        return a
    return ns.getitem(a, key=(slice(None),) * 2 + tuple(slice(0, m) for m in sizes))


def _conv_vjp_x(ns, g, ans, x, weight, stride=1, padding=0, dilation=1, groups=1):
    extra = _output_padding(x.shape[2:], g.shape[2:], weight.shape[2:], stride, padding,
                            dilation)
    return ns.conv_transpose(g, weight, stride=stride, padding=padding, output_padding=extra,
                             dilation=dilation, groups=groups)


def _conv_vjp_weight(ns, g, ans, x, weight, stride=1, padding=0, dilation=1, groups=1):
    return ns.conv_weight(x, g, kernel_size=weight.shape[2:], stride=stride, padding=padding,
                          dilation=dilation, groups=groups)


conv = defop(
    "conv", _conv,
    vjp=[_conv_vjp_x, _conv_vjp_weight],
    jvp=[lambda ns, t, ans, x, weight, **geo: ns.conv(t, weight, **geo),
         lambda ns, t, ans, x, weight, **geo: ns.conv(x, t, **geo)],
    saves=((1,), (0,)),
    doc="Cross-correlation of x (N, C_in, *spatial) with weight (C_out, C_in/groups, "
        "*kernel), 1-3 spatial dims, as ``torch.nn.functional.conv{1,2,3}d`` without bias; "
        "``padding`` is an int, one int per axis, or one (lo, hi) pair per axis.")


def _conv_transpose_vjp_y(ns, g, ans, y, weight, stride=1, padding=0, output_padding=0,
                          dilation=1, groups=1):
    back = ns.conv(g, weight, stride=stride, padding=padding, dilation=dilation,
                   groups=groups)
    return _crop(ns, back, y.shape[2:])


def _conv_transpose_vjp_weight(ns, g, ans, y, weight, stride=1, padding=0, output_padding=0,
                               dilation=1, groups=1):
    return ns.conv_weight(g, y, kernel_size=weight.shape[2:], stride=stride, padding=padding,
                          dilation=dilation, groups=groups)


conv_transpose = defop(
    "conv_transpose", _conv_transpose,
    vjp=[_conv_transpose_vjp_y, _conv_transpose_vjp_weight],
    jvp=[lambda ns, t, ans, y, weight, **geo: ns.conv_transpose(t, weight, **geo),
         lambda ns, t, ans, y, weight, **geo: ns.conv_transpose(y, t, **geo)],
    saves=((1,), (0,)),
    doc="Transposed convolution of y (N, C_in, *spatial) with weight (C_in, C_out/groups, "
        "*kernel), as ``torch.nn.functional.conv_transpose{1,2,3}d`` without bias: the "
        "adjoint of :func:`conv` in its input; ``output_padding`` extends the output's far "
        "end (any size here; the nn.functional wrappers check PyTorch's limit).")


def _conv_weight_vjp_x(ns, g, ans, x, dy, kernel_size, stride=1, padding=0, dilation=1,
                       groups=1):
    extra = _output_padding(x.shape[2:], dy.shape[2:], g.shape[2:], stride, padding, dilation)
    return ns.conv_transpose(dy, g, stride=stride, padding=padding, output_padding=extra,
                             dilation=dilation, groups=groups)


def _conv_weight_vjp_dy(ns, g, ans, x, dy, kernel_size, stride=1, padding=0, dilation=1,
                        groups=1):
    out = ns.conv(x, g, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return _crop(ns, out, dy.shape[2:])


conv_weight = defop(
    "conv_weight", _conv_weight,
    vjp=[_conv_weight_vjp_x, _conv_weight_vjp_dy],
    jvp=[lambda ns, t, ans, x, dy, **geo: ns.conv_weight(t, dy, **geo),
         lambda ns, t, ans, x, dy, **geo: ns.conv_weight(x, t, **geo)],
    saves=((1,), (0,)),
    doc="The weight gradient of :func:`conv`: x (N, C_in, *spatial) correlated with an "
        "output gradient dy (N, C_out, *out) into shape (C_out, C_in/groups, *kernel_size); "
        "dy may cover only the first output positions (the rest count as zero), as "
        "``torch.nn.grad.conv{1,2,3}d_weight``.")
