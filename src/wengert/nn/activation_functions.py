"""The activation functions of ``wengert.nn.functional``, with PyTorch's names and
arguments, each a composite of wengert primitives (so every one differentiates in reverse
and forward mode and to higher order).

Those PyTorch gives ``inplace=True`` take it too (and the ``_`` spellings ``relu_``,
``elu_``...): the result is written into the input tensor, which is returned, through the
in-place write every ``Tensor`` method ending in ``_`` uses
(:func:`wengert.ops.methods.write_in_place`): refused on a leaf that requires grad, recorded
on anything else, and detected by the version counter when it overwrites a value an earlier
op saved for backward.

Piecewise functions are written with ``where`` rather than ``clip``: PyTorch gives them no
gradient exactly at their kinks (hardtanh at its bounds, hardsigmoid at +-3), and ``where``
reproduces that where ``clip``, whose rule keeps the bounds inside, would not."""
import math


from ..errors import ArgumentError, ShapeError
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax
from ..ops.elementwise import (abs as _abs, elu as _elu, erf, leaky_relu as _leaky_relu,
                               relu as _relu, sigmoid, softplus as _softplus, tanh, where)
from ..ops.methods import write_in_place
from ..ops.reduce import max as _max
from ..ops.shape import reshape, split
from ..tensor import Tensor
from .errors import check_choice

# SELU's constants (Klambauer et al. 2017), to the digits PyTorch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _in_place(name, input, compute, saves_input=True):
    """``compute(input)`` written into ``input``, which is returned (PyTorch's
    ``inplace=True``); ``saves_input``: whether compute's graph reads the input's array, which
    the write then must not change (it keeps a copy). The write refuses a result whose dtype
    the input's cannot hold (a float result in an integer tensor), as PyTorch does."""
    if not isinstance(input, Tensor):
        raise ArgumentError(f"{name}: inplace=True writes into its input, which must be a "
                            f"Tensor, got {type(input).__name__}. Hint: pass wg.tensor(x), or "
                            "leave inplace=False")

    return write_in_place(input, name, compute, (), saves_input)


def relu(input, inplace=False):
    """``max(x, 0)``; the gradient at 0 is 0 (as PyTorch). ``inplace=True`` writes the
    result into ``input`` and returns it."""
    if not inplace:
        return _relu(input)
    return _in_place("relu_", input, _relu, _relu.prim.saves_inputs)


def relu_(input):
    """``relu(input, inplace=True)``: ``max(x, 0)`` written into ``input``, returned."""
    return relu(input, inplace=True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (``inplace``: written into
    ``input``, which is returned)."""
    if inplace:
        return _in_place("leaky_relu_", input,
                         lambda x: _leaky_relu(x, negative_slope=negative_slope))
    return _leaky_relu(input, negative_slope=negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu(input, negative_slope, inplace=True)``."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input, alpha=1.0, inplace=False):
    """``x`` for x > 0, ``alpha * (e^x - 1)`` otherwise (``inplace``: written into
    ``input``, which is returned)."""
    if inplace:
        return _in_place("elu_", input, lambda x: _elu(x, alpha=alpha))
    return _elu(input, alpha=alpha)


def elu_(input, alpha=1.0):
    """``elu(input, alpha, inplace=True)``."""
    return elu(input, alpha, inplace=True)


def gelu(input, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x) = x/2 (1 + erf(x / sqrt 2))``; with
    ``approximate="tanh"``, ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    if approximate == "tanh":
        return 0.5 * input * (1 + tanh(math.sqrt(2 / math.pi) * (input + 0.044715 * input ** 3)))
    return 0.5 * input * (1 + erf(input * (1 / math.sqrt(2))))


def silu(input, inplace=False):
    """Sigmoid linear unit (swish) ``x * sigmoid(x)`` (``inplace``: written into ``input``,
    which is returned)."""
    if inplace:
        return _in_place("silu_", input, silu)
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


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at and
    beyond the bounds (as PyTorch). ``inplace``: written into ``input``, which is returned."""
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val={min_val} is greater than max_val={max_val}. "
                            "Hint: swap them")
    if inplace:
        return _in_place("hardtanh_", input, lambda x: hardtanh(x, min_val, max_val))
    return where(input <= min_val, min_val, where(input >= max_val, max_val, input))


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh(input, min_val, max_val, inplace=True)``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """``min(max(x, 0), 6)`` (``hardtanh(x, 0, 6)``; ``inplace`` as its)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """Piecewise-linear sigmoid: 0 for x <= -3, 1 for x >= 3, ``x/6 + 1/2`` between
    (``inplace``: written into ``input``, which is returned)."""
    if inplace:
        return _in_place("hardsigmoid_", input, hardsigmoid)
    return where(input <= -3, 0.0, where(input >= 3, 1.0, input * (1 / 6) + 0.5))


def hardswish(input, inplace=False):
    """``x * hardsigmoid(x)``: 0 for x <= -3, x for x >= 3, ``x (x + 3) / 6`` between. Its
    gradient at -3 is 0 and at 3 is 1, as PyTorch's. ``inplace``: written into ``input``,
    which is returned."""
    if inplace:
        return _in_place("hardswish_", input, hardswish)
    return where(input <= -3, 0.0, where(input < 3, input * (input + 3) * (1 / 6), input))


def threshold(input, threshold, value, inplace=False):
    """``x`` where x > threshold, else ``value`` (which gets no gradient); ``inplace``:
    written into ``input``, which is returned."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    """``threshold(input, threshold, value, inplace=True)``."""
    return _threshold(input, threshold, value, True)


def _threshold(input, threshold, value, inplace):
    # apart from threshold(), whose argument of the same name (PyTorch's) hides it
    if inplace:
        return _in_place("threshold_", input, lambda x: where(x > threshold, x, value))
    return where(input > threshold, input, value)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any x: -50 gives -50 and 50 gives
    -1.9e-22 rather than log(0) or log(1) = 0."""
    return -_softplus(-input)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` (Misra 2019), softplus in its stable form; ``inplace``:
    written into ``input``, which is returned."""
    if inplace:
        return _in_place("mish_", input, mish)
    return input * tanh(_softplus(input))


def selu(input, inplace=False):
    """Scaled ELU ``scale * elu(x, alpha)`` with scale = 1.0507... and alpha = 1.6733...,
    the constants that keep activations at mean 0 and variance 1; ``inplace``: written into
    ``input``, which is returned."""
    if inplace:
        return _in_place("selu_", input, selu)
    return SELU_SCALE * _elu(input, alpha=SELU_ALPHA)


def selu_(input):
    """``selu(input, inplace=True)``."""
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """Continuously differentiable ELU: ``x`` for x > 0, ``alpha (e^(x/alpha) - 1)``
    otherwise (alpha > 0); ``inplace``: written into ``input``, which is returned."""
    if not alpha > 0:
        # PyTorch refuses 0 only; a negative alpha makes CELU non-monotone, and the
        # expm1 inside the elu primitive serves alpha > 0, so wengert takes those only.
        raise ArgumentError(f"celu: alpha={alpha} must be positive. Hint: alpha sets the "
                            "saturation level -alpha for x -> -inf; try alpha=1.0")
    if inplace:
        return _in_place("celu_", input, lambda x: celu(x, alpha))
    # elu(x / alpha) uses expm1, exact near 0; the where keeps x > 0 bit-exact.
    return where(input > 0, input, alpha * _elu(input * (1 / alpha)))


def celu_(input, alpha=1.0):
    """``celu(input, alpha, inplace=True)``."""
    return celu(input, alpha, inplace=True)


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
