"""The activation functions of ``wengert.nn.functional``, with PyTorch's names and
arguments, each a composite of wengert primitives (so every one differentiates in reverse
and forward mode and to higher order).

Piecewise functions are written with ``where`` rather than ``clip``: PyTorch gives them no
gradient exactly at their kinks (hardtanh at its bounds, hardsigmoid at +-3), and ``where``
reproduces that where ``clip``, whose rule keeps the bounds inside, would not."""
import math

from ..errors import ArgumentError, ShapeError
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax
from ..ops.elementwise import (abs as _abs, elu as _elu, erf, leaky_relu as _leaky_relu, sigmoid,
                               softplus as _softplus, tanh, where)
from ..ops.reduce import max as _max
from ..ops.shape import reshape, split
from .errors import check_choice

# SELU's constants (Klambauer et al. 2017), to the digits PyTorch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def leaky_relu(input, negative_slope=0.01):
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""
    return _leaky_relu(input, negative_slope=negative_slope)


def elu(input, alpha=1.0):
    """``x`` for x > 0, ``alpha * (e^x - 1)`` otherwise."""
    return _elu(input, alpha=alpha)


def gelu(input, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x) = x/2 (1 + erf(x / sqrt 2))``; with
    ``approximate="tanh"``, ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    if approximate == "tanh":
        return 0.5 * input * (1 + tanh(math.sqrt(2 / math.pi) * (input + 0.044715 * input ** 3)))
    return 0.5 * input * (1 + erf(input * (1 / math.sqrt(2))))


def silu(input):
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``."""
    return input * sigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + e^(beta x)) / beta``, and ``x`` itself where ``beta * x > threshold`` (as
    PyTorch; the stable form needs no threshold, it only keeps the values identical)."""
    scaled = input * beta
    return where(scaled > threshold, input, _softplus(scaled) / beta)


def maxout(input, k, dim=-1):
    """Maxout: the max over groups of ``k`` consecutive entries along ``dim`` (whose size
    must be a multiple of k): shape (..., k*m) -> (..., m). Each group is the k linear
    pieces that a preceding layer computes for one unit."""
    dim = dim % input.ndim
    size = input.shape[dim]
    if k < 1 or size % k:
        raise ShapeError(f"maxout: axis {dim} of the input of shape {input.shape} has {size} "
                         f"entries, not a multiple of k={k}")
    grouped = reshape(input, shape=input.shape[:dim] + (size // k, k) + input.shape[dim + 1:])
    return _max(grouped, axis=dim + 1)


def softmax(input, dim=-1):
    """``exp(x) / sum(exp(x))`` along ``dim``, stable for any finite input."""
    return _softmax(input, axis=dim)


def log_softmax(input, dim=-1):
    """``x - logsumexp(x)`` along ``dim``, stable for any finite input."""
    return _log_softmax(input, axis=dim)


def softmin(input, dim=-1):
    """``softmax(-x)`` along ``dim``: ``exp(-x) / sum(exp(-x))``."""
    return _softmax(-input, axis=dim)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """``x`` clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at and
    beyond the bounds (as PyTorch)."""
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val={min_val} is greater than max_val={max_val}. "
                            "Hint: swap them")
    return where(input <= min_val, min_val, where(input >= max_val, max_val, input))


def relu6(input):
    """``min(max(x, 0), 6)`` (``hardtanh(x, 0, 6)``)."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input):
    """Piecewise-linear sigmoid: 0 for x <= -3, 1 for x >= 3, ``x/6 + 1/2`` between."""
    return where(input <= -3, 0.0, where(input >= 3, 1.0, input * (1 / 6) + 0.5))


def hardswish(input):
    """``x * hardsigmoid(x)``: 0 for x <= -3, x for x >= 3, ``x (x + 3) / 6`` between. Its
    gradient at -3 is 0 and at 3 is 1, as PyTorch's."""
    return where(input <= -3, 0.0, where(input < 3, input * (input + 3) * (1 / 6), input))


def threshold(input, threshold, value):
    """``x`` where x > threshold, else ``value`` (which gets no gradient)."""
    return where(input > threshold, input, value)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x: -50 gives -50 and 50 gives
    -1.9e-22 rather than log(0) or log(1) = 0."""
    return -_softplus(-input)


def mish(input):
    """``x * tanh(softplus(x))`` (Misra 2019), softplus in its stable form."""
    return input * tanh(_softplus(input))


def selu(input):
    """Scaled ELU ``scale * elu(x, alpha)`` with scale = 1.0507... and alpha = 1.6733...,
    the constants that keep activations at mean 0 and variance 1."""
    return SELU_SCALE * _elu(input, alpha=SELU_ALPHA)


def celu(input, alpha=1.0):
    """Continuously differentiable ELU: ``x`` for x > 0, ``alpha (e^(x/alpha) - 1)``
    otherwise (alpha > 0)."""
    if not alpha > 0:
        # PyTorch refuses 0 only; a negative alpha makes CELU non-monotone, and the
        # expm1 inside the elu primitive serves alpha > 0, so wengert takes those only.
        raise ArgumentError(f"celu: alpha={alpha} must be positive. Hint: alpha sets the "
                            "saturation level -alpha for x -> -inf; try alpha=1.0")
    # elu(x / alpha) uses expm1, exact near 0; the where keeps x > 0 bit-exact.
    return where(input > 0, input, alpha * _elu(input * (1 / alpha)))


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (1 + _abs(input))


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - tanh(input)


def glu(input, dim=-1):
    """Gated linear unit: split ``dim`` into halves a and b and return ``a * sigmoid(b)``
    (the size along ``dim`` must be even; the result has half of it)."""
    if input.ndim == 0:
        raise ShapeError("glu: the input is 0-d; GLU halves an axis. Hint: pass a tensor with "
                         "at least one axis")
    size = input.shape[dim % input.ndim]
    if size % 2:
        raise ShapeError(f"glu: axis {dim} of the input of shape {input.shape} has {size} "
                         "entries, an odd number; GLU splits it into a value half and a gate "
                         "half. Hint: make the layer before it output an even number, 2 x "
                         "the units")
    value, gate = split(input, 2, axis=dim)
    return value * sigmoid(gate)


def prelu(input, weight):
    """``x`` for x > 0, ``weight * x`` otherwise. ``weight`` has one entry (shared) or one
    per channel, axis 1 of the input (an input of fewer than 2 axes has one channel)."""
    count = weight.size
    if count == 1:
        slope = reshape(weight, shape=())
    else:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if count != channels:
            raise ShapeError(f"prelu: weight of shape {tuple(weight.shape)} has {count} entries "
                             f"but the input of shape {input.shape} has {channels} channel(s) "
                             "(axis 1). Hint: PReLU(num_parameters) needs num_parameters = 1 "
                             "or input.shape[1]")
        slope = reshape(weight, shape=(count,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, input * slope)
