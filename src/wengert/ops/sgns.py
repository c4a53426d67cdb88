"""Sliding windows over the first axis and their adjoint, the primitive pair behind
word2vec's skip-gram and CBOW losses (:mod:`wengert.models.word2vec.model`).

A batch of consecutive windows reads each token's vector once: ``sliding_windows(x, size)``
turns the vectors of ``B + size - 1`` consecutive tokens into ``B`` windows of ``size`` rows
without copying (a strided view), so one batched matmul scores every (context, centre) pair.
Its adjoint ``overlap_add`` sums each window row's gradient back onto its token: ``size``
slice additions, where gathering the pairs by index would need a scatter (``np.add.at``) of
every pair's row, many times slower."""
import numpy as np

from ..autodiff.primitive import defop
from ..errors import ShapeError

PASS_COST = 100  # see _overlap_add


def _check_axis(op, axis, ndim, shape):
    """``axis`` in ``[-ndim, ndim)`` made non-negative; out of range is an error, not a wrap."""
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for an input of shape {shape} "
                         f"(valid: {-ndim} to {ndim - 1})")
    return axis % ndim


def _sliding_windows(x, size, axis=0):
    if x.ndim:
        axis = _check_axis("sliding_windows", axis, x.ndim, x.shape)
    if x.ndim == 0 or not 1 <= size <= x.shape[axis]:
        raise ShapeError(f"sliding_windows: windows of size {size} along axis {axis} do not fit "
                         f"an input of shape {x.shape}")
    view = np.lib.stride_tricks.sliding_window_view(x, size, axis=axis)
    return np.moveaxis(view, -1, axis + 1)


def _overlap_add(w, axis=0):
    if w.ndim < 2:
        raise ShapeError(f"overlap_add: expected windows of shape (..., B, size, ...), got "
                         f"{w.shape}")
    # the window axis follows the count axis, so the last axis cannot be `axis`
    axis = _check_axis("overlap_add", axis, w.ndim - 1, w.shape)
    lead = (slice(None),) * axis
    count, size = w.shape[axis:axis + 2]
    out = np.zeros(w.shape[:axis] + (count + size - 1,) + w.shape[axis + 2:], dtype=w.dtype)
    # Either one pass per slot (each adds `count` separate rows per leading index) or one
    # pass per window (each adds one contiguous block per leading index). NumPy pays about
    # as much for a pass as for PASS_COST separate runs of a loop: take the cheaper order.
    runs = int(np.prod(w.shape[:axis]))
    if count * (PASS_COST + runs) < size * (PASS_COST + runs * count):
        for b in range(count):
            out[lead + (slice(b, b + size),)] += w[lead + (b,)]
    else:
        for j in range(size):
            out[lead + (slice(j, j + count),)] += w[lead + (slice(None), j)]
    return out


sliding_windows = defop(
    "sliding_windows", _sliding_windows,
    vjp=[lambda ns, g, ans, x, size, axis=0: ns.overlap_add(g, axis=axis % x.ndim)],
    jvp=[lambda ns, t, ans, x, size, axis=0: ns.sliding_windows(t, size=size, axis=axis)],
    saves="none", view=True,
    doc="Windows of ``size`` consecutive entries along ``axis``: for axis 0, ``out[b, j] = "
        "x[b + j]``, shape ``(len(x) - size + 1, size) + x.shape[1:]``; the window axis comes "
        "right after ``axis`` (a read-only view, as ``torch.Tensor.unfold(axis, size, 1)`` "
        "with the window axis moved).")

overlap_add = defop(
    "overlap_add", _overlap_add,
    vjp=[lambda ns, g, ans, w, axis=0:
         ns.sliding_windows(g, size=w.shape[axis % (w.ndim - 1) + 1], axis=axis % (w.ndim - 1))],
    jvp=[lambda ns, t, ans, w, axis=0: ns.overlap_add(t, axis=axis)],
    saves="none",
    doc="The adjoint of :func:`sliding_windows`: windows ``w`` of shape (..., B, size, ...) "
        "(B at ``axis``) summed back onto the ``B + size - 1`` entries they cover: for axis 0, "
        "``out[r] = sum of w[b, j] over b + j = r``.")
