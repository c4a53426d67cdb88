"""Rearranging channels and pixels, as PyTorch's: the functions ``pixel_shuffle``,
``pixel_unshuffle`` and ``channel_shuffle`` (exported by :mod:`wengert.nn.functional`) and the
modules ``PixelShuffle``, ``PixelUnshuffle`` and ``ChannelShuffle``.

Each is one reshape, one transpose and one reshape, so every entry of the output is a copy of
one input entry and the gradient (a transpose of the gradient back) is exact in every mode.
Any dtype is moved, as PyTorch moves any."""
import numpy as np

from ..errors import ArgumentError, ShapeError
from ..ops.shape import reshape, transpose
from .module import FunctionModule


def _positive_int(op, name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ArgumentError(f"{op}: {name}={value!r} must be a positive int, as in PyTorch. "
                            f"Hint: e.g. {name}=2")
    return int(value)


def _shape(op, input, least):
    shape = tuple(input.shape)
    if len(shape) < least:
        raise ShapeError(f"{op}: expected an input with at least {least} dims, got shape "
                         f"{shape}. Hint: {op} works on (*, C, H, W) inputs; add a channel "
                         "axis, x[None], if there is none")
    return shape


def pixel_shuffle(input, upscale_factor):
    """Move channels into space, as ``torch.nn.functional.pixel_shuffle``: an input of shape
    (*, C r², H, W) becomes (*, C, H r, W r) with ``out[..., c, h r + i, w r + j] =
    in[..., c r² + i r + j, h, w]`` for ``r = upscale_factor`` (sub-pixel convolution)."""
    op = "pixel_shuffle"
    r = _positive_int(op, "upscale_factor", upscale_factor)
    *lead, channels, h, w = _shape(op, input, 3)
    if channels % (r * r):
        raise ShapeError(f"{op}: the input's channel dim (dim -3 of shape "
                         f"{tuple(input.shape)}) has {channels} entries, not divisible by "
                         f"upscale_factor**2 = {r * r}, as PyTorch requires. Hint: the layer "
                         f"before it needs C * {r * r} output channels")
    n = len(lead)
    x = reshape(input, shape=(*lead, channels // (r * r), r, r, h, w))
    x = transpose(x, axes=(*range(n + 1), n + 3, n + 1, n + 4, n + 2))
    return reshape(x, shape=(*lead, channels // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """The inverse of :func:`pixel_shuffle`, as ``torch.nn.functional.pixel_unshuffle``: an
    input of shape (*, C, H r, W r) becomes (*, C r², H, W) for ``r = downscale_factor``."""
    op = "pixel_unshuffle"
    r = _positive_int(op, "downscale_factor", downscale_factor)
    *lead, channels, h, w = _shape(op, input, 3)
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ShapeError(f"{op}: the input's {name} (dim {dim} of shape "
                             f"{tuple(input.shape)}) is {size}, not divisible by "
                             f"downscale_factor={r}, as PyTorch requires. Hint: crop or pad "
                             f"the input to a multiple of {r}")
    n = len(lead)
    x = reshape(input, shape=(*lead, channels, h // r, r, w // r, r))
    x = transpose(x, axes=(*range(n + 1), n + 2, n + 4, n + 1, n + 3))
    return reshape(x, shape=(*lead, channels * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Interleave the channel groups, as ``torch.nn.functional.channel_shuffle`` (ShuffleNet):
    the C channels of an (N, C, *) input with at least 3 dims, seen as ``groups`` groups of
    C/groups, are reordered so that channel ``g * (C / groups) + k`` goes to ``k * groups +
    g``."""
    op = "channel_shuffle"
    g = _positive_int(op, "groups", groups)
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ShapeError(f"{op}: expected an input with more than 2 dims (N, C, *), got shape "
                         f"{shape}, as PyTorch requires. Hint: add a spatial axis, x[..., "
                         "None]")
    n_batch, channels, *rest = shape
    if channels % g:
        raise ShapeError(f"{op}: the input of shape {shape} has {channels} channels (dim 1), "
                         f"not divisible by groups={g}, as PyTorch requires. Hint: pick a "
                         "groups that divides the channels")
    x = reshape(input, shape=(n_batch, g, channels // g, *rest))
    x = transpose(x, axes=(0, 2, 1, *range(3, len(shape) + 1)))
    return reshape(x, shape=shape)


class PixelShuffle(FunctionModule):
    """:func:`pixel_shuffle` as a module: ``PixelShuffle(upscale_factor)``."""
    fn = pixel_shuffle

    def __init__(self, upscale_factor):
        super().__init__(upscale_factor=upscale_factor)


class PixelUnshuffle(FunctionModule):
    """:func:`pixel_unshuffle` as a module: ``PixelUnshuffle(downscale_factor)``."""
    fn = pixel_unshuffle

    def __init__(self, downscale_factor):
        super().__init__(downscale_factor=downscale_factor)


class ChannelShuffle(FunctionModule):
    """:func:`channel_shuffle` as a module: ``ChannelShuffle(groups)``."""
    fn = channel_shuffle

    def __init__(self, groups):
        super().__init__(groups=groups)
