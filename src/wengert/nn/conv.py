"""Convolution: the functions ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d`` (exported by
:mod:`wengert.nn.functional`) and the modules ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``,
with PyTorch's signatures, weight layouts and initialisation.

The functions turn PyTorch's arguments (unbatched input, ``padding='same'``/``'valid'``,
bias) into calls of the primitives in :mod:`wengert.ops.conv`, which hold the arithmetic and
the derivative rules. A Conv module's ``padding_mode`` other than 'zeros' pads the input with
:func:`wengert.nn.padding.pad` in that mode first, as PyTorch's modules do."""
import math

import numpy as np

from ..backend import DEFAULT_FLOAT, as_dtype
from ..errors import ArgumentError, ShapeError
from ..ops import conv as _conv
from ..ops.shape import reshape
from . import init
from .module import Module, Parameter
from .padding import pad

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")  # PyTorch's


# --- functions ------------------------------------------------------------------------------
def _pads(where_, padding, kernel, stride, dilation):
    """(lo, hi) per spatial axis for an int, a tuple, 'valid' or 'same'. 'same' pads
    dilation*(k-1) in all, the odd one on the far side, as PyTorch."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding != "same":
            raise ArgumentError(f"{where_}: padding={padding!r} is not a valid string. Hint: "
                                "use 'valid', 'same', an int or a tuple of ints")
        if any(s != 1 for s in stride):
            raise ArgumentError(f"{where_}: padding='same' is not supported for strided "
                                f"convolutions (stride={tuple(stride)}), as in PyTorch. Hint: "
                                "give the padding as numbers")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in _conv.ints(where_, "padding", padding, n, 0))


def _batched(where_, input, n):
    """The input with a batch axis, and whether it had one (PyTorch takes (C, *spatial))."""
    if input.ndim == n + 2:
        return input, True
    if input.ndim == n + 1:
        return reshape(input, shape=(1,) + tuple(input.shape)), False
    raise ShapeError(f"{where_}: expected input of shape (N, C, *spatial) or (C, *spatial) "
                     f"with {n} spatial dims ({n + 2}-D or {n + 1}-D), got shape "
                     f"{tuple(input.shape)}. Hint: conv{n}d convolves the last {n} axes; "
                     f"for another number of spatial axes use conv{{1,2,3}}d")


def _finish(where_, y, bias, batched, n):
    """Add the bias per output channel and drop the batch axis an unbatched input lacked."""
    if bias is not None:
        if tuple(bias.shape) != (y.shape[1],):
            raise ShapeError(f"{where_}: bias of shape {tuple(bias.shape)} does not fit "
                             f"{y.shape[1]} output channels (output {tuple(y.shape)}). Hint: "
                             f"it needs shape ({y.shape[1]},), one entry per output channel")
        y = y + reshape(bias, shape=(-1,) + (1,) * n)
    return y if batched else reshape(y, shape=tuple(y.shape[1:]))


def _check_weight(where_, weight, n):
    if weight.ndim != n + 2:
        raise ShapeError(f"{where_}: expected a weight of shape (C_out, C_in/groups, *kernel) "
                         f"with {n} kernel dims ({n + 2}-D), got {tuple(weight.shape)}. "
                         f"Hint: a conv{n}d weight has one kernel axis per spatial axis")


def _convolve(n, input, weight, bias, stride, padding, dilation, groups):
    where_ = f"conv{n}d"
    _check_weight(where_, weight, n)
    x, batched = _batched(where_, input, n)
    stride = _conv.ints(where_, "stride", stride, n, 1)
    dilation = _conv.ints(where_, "dilation", dilation, n, 1)
    pads = _pads(where_, padding, tuple(weight.shape[2:]), stride, dilation)
    y = _conv.conv(x, weight, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return _finish(where_, y, bias, batched, n)


def _convolve_transposed(n, input, weight, bias, stride, padding, output_padding, groups,
                         dilation):
    where_ = f"conv_transpose{n}d"
    _check_weight(where_, weight, n)
    x, batched = _batched(where_, input, n)
    stride = _conv.ints(where_, "stride", stride, n, 1)
    dilation = _conv.ints(where_, "dilation", dilation, n, 1)
    extra = _conv.ints(where_, "output_padding", output_padding, n, 0)
    if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
        raise ArgumentError(f"{where_}: output_padding={extra} must be smaller than either "
                            f"stride {stride} or dilation {dilation} on every axis, as in "
                            "PyTorch (a larger one would add outputs no input reaches). "
                            "Hint: use output_padding < stride (it picks among the output "
                            "sizes a strided conv maps to one input size)")
    pads = _conv.ints(where_, "padding", padding, n, 0)
    y = _conv.conv_transpose(x, weight, stride=stride, padding=pads, output_padding=extra,
                             dilation=dilation, groups=groups)
    return _finish(where_, y, bias, batched, n)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation, as ``torch.nn.functional.conv1d``: input (N, C_in, L) or
    (C_in, L), weight (C_out, C_in/groups, k); ``padding`` an int, a 1-tuple, 'valid' or
    'same' (stride 1 only)."""
    return _convolve(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``: input (N, C_in, H, W) or
    (C_in, H, W), weight (C_out, C_in/groups, kH, kW); ``padding`` an int, a 2-tuple,
    'valid' or 'same' (stride 1 only; an even kernel pads one more at the bottom/right)."""
    return _convolve(2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation, as ``torch.nn.functional.conv3d``: input (N, C_in, D, H, W)
    or (C_in, D, H, W), weight (C_out, C_in/groups, kD, kH, kW)."""
    return _convolve(3, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution (the input gradient of conv1d), as
    ``torch.nn.functional.conv_transpose1d``: weight (C_in, C_out/groups, k), output length
    ``(L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``."""
    return _convolve_transposed(1, input, weight, bias, stride, padding, output_padding,
                                groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``: weight
    (C_in, C_out/groups, kH, kW)."""
    return _convolve_transposed(2, input, weight, bias, stride, padding, output_padding,
                                groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution, as ``torch.nn.functional.conv_transpose3d``: weight
    (C_in, C_out/groups, kD, kH, kW)."""
    return _convolve_transposed(3, input, weight, bias, stride, padding, output_padding,
                                groups, dilation)


_FUNCTIONS = {(1, False): conv1d, (2, False): conv2d, (3, False): conv3d,
              (1, True): conv_transpose1d, (2, True): conv_transpose2d,
              (3, True): conv_transpose3d}


# --- modules --------------------------------------------------------------------------------
class _ConvBase(Module):
    """What the convolution modules share: checked arguments, the weight and bias, PyTorch's
    initialisation and repr. Subclasses set ``_n`` (spatial dims) and ``_transposed``."""
    _n = None
    _transposed = False

    def _setup(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
               groups, bias, padding_mode, output_padding, dtype):
        name, n = type(self).__name__, self._n
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ArgumentError(f"{name}: groups={groups} must be positive and divide both "
                                f"in_channels={in_channels} and out_channels={out_channels}. "
                                "Hint: groups splits the channels into equal groups; pick a "
                                "divisor of both (1 for an ordinary convolution)")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _conv.ints(name, "kernel_size", kernel_size, n, 1)
        self.stride = _conv.ints(name, "stride", stride, n, 1)
        self.dilation = _conv.ints(name, "dilation", dilation, n, 1)
        self.output_padding = _conv.ints(name, "output_padding", output_padding, n, 0)
        self._check_padding_mode(padding_mode)
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            _pads(name, padding, self.kernel_size, self.stride, self.dilation)  # checks it
            self.padding = padding
        else:
            self.padding = _conv.ints(name, "padding", padding, n, 0)
        shape = ((in_channels, out_channels // groups) if self._transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.weight = Parameter(np.empty(shape, dtype))
        self.register_parameter("bias", Parameter(np.empty(out_channels, dtype)) if bias
                                else None)
        self.reset_parameters()

    def _check_padding_mode(self, padding_mode):
        name = type(self).__name__
        if padding_mode not in PADDING_MODES:
            raise ArgumentError(f"{name}: padding_mode={padding_mode!r} is not one of "
                                f"PyTorch's {PADDING_MODES}")

    def reset_parameters(self):
        """Draw fresh initial values (from wengert's global generator), as PyTorch:
        kaiming_uniform_ with a = sqrt(5) for the weight, U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) for the bias, fan_in = weight.shape[1] * prod(kernel_size)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        n = self._n
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _ConvNd(_ConvBase):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, 0, dtype)

    @property
    def _reversed_padding_repeated_twice(self):
        """The padding as F.pad's flat (left, right) pairs, last axis first, as PyTorch's
        attribute of that name: ``padding='same'`` gives the asymmetric amounts (the
        larger half after), ``'valid'`` zeros."""
        pads = _pads(type(self).__name__, self.padding, self.kernel_size, self.stride,
                     self.dilation)
        return tuple(w for lo_hi in reversed(pads) for w in lo_hi)

    def forward(self, input):
        p = self._parameters
        if self.padding_mode != "zeros":
            # PyTorch's way: pad in that mode, then convolve without padding
            input = pad(input, self._reversed_padding_repeated_twice, self.padding_mode)
            return _FUNCTIONS[self._n, False](input, p["weight"], p["bias"], self.stride, 0,
                                              self.dilation, self.groups)
        return _FUNCTIONS[self._n, False](input, p["weight"], p["bias"], self.stride,
                                          self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvBase):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None):
        super().__init__()
        if isinstance(padding, str):
            raise ArgumentError(f"{type(self).__name__}: padding={padding!r}: string padding "
                                "is for Conv layers, as in PyTorch. Hint: give ints, e.g. "
                                "padding=1")
        self._setup(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                    bias, padding_mode, output_padding, dtype)
        if any(e >= s and e >= d for e, s, d in zip(self.output_padding, self.stride,
                                                    self.dilation)):
            raise ArgumentError(f"{type(self).__name__}: output_padding={self.output_padding}"
                                f" must be smaller than either stride {self.stride} or "
                                f"dilation {self.dilation} on every axis, as in PyTorch. "
                                "Hint: use output_padding < stride")

    def _check_padding_mode(self, padding_mode):
        if padding_mode != "zeros":
            raise ArgumentError(f"{type(self).__name__}: padding_mode={padding_mode!r}: only "
                                "'zeros' is supported for transposed convolutions (as in "
                                "PyTorch)")

    def forward(self, input):
        p = self._parameters
        return _FUNCTIONS[self._n, True](input, p["weight"], p["bias"], self.stride,
                                         self.padding, self.output_padding, self.groups,
                                         self.dilation)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L): ``weight`` (out_channels,
    in_channels/groups, k), ``bias`` (out_channels,); see :func:`conv1d`."""
    _n = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W): ``weight`` (out_channels,
    in_channels/groups, kH, kW), ``bias`` (out_channels,); see :func:`conv2d`."""
    _n = 2


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) or (C_in, D, H, W): ``weight``
    (out_channels, in_channels/groups, kD, kH, kW), ``bias`` (out_channels,)."""
    _n = 3


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: ``weight`` (in_channels, out_channels/groups, k), ``bias``
    (out_channels,); see :func:`conv_transpose1d`."""
    _n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution: ``weight`` (in_channels, out_channels/groups, kH, kW),
    ``bias`` (out_channels,); see :func:`conv_transpose2d`."""
    _n = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution: ``weight`` (in_channels, out_channels/groups, kD, kH,
    kW), ``bias`` (out_channels,)."""
    _n = 3
