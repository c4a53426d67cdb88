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
reproduces that where ``clip``, whose rule keeps the bounds inside, would not.

At NaN and +-inf they give PyTorch's values and gradients. A ``where`` sends a zero gradient
into the branch it did not select, and that branch's own rule can turn it into 0 * inf = NaN:
so a branch that a NaN or infinite input would poison reads the input clamped (``clip``,
whose rule also gives NaN no gradient) rather than the input itself. Where PyTorch's
vectorised CPU kernels and its scalar ones disagree (they do at NaN for the gradients of
hardtanh, relu6, hardswish, hardshrink, softshrink, elu, selu and celu, and float32
gelu(+inf) is NaN in the vectorised one), wengert follows the scalar kernel, the formula
PyTorch writes: a tensor of any size then gets the same answer, which in PyTorch depends on
the tensor's length and the CPU."""
import math
import warnings

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax
from ..ops.elementwise import (abs as _abs, clip, elu as _elu, erf, leaky_relu as _leaky_relu,
                               relu as _relu, sigmoid, softplus as _softplus, tanh, where)
from ..ops.methods import write_in_place
from ..ops.reduce import argmax, max as _max
from ..ops.shape import reshape, split
from ..random import default_generator
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


def _draw(generator, sample, input, shape=None):
    """``(draws, dtype)``: random numbers for ``input`` from ``generator`` (default:
    wengert's global one) by its NumPy method ``sample`` ("random", "standard_exponential"),
    of ``shape`` (default: the input's), and the dtype that what is made of them takes, the
    input's when floating, else float64. NumPy draws float32 and float64 only, so the draws
    for any other input are float64: a caller casts its result, so that a float16 input
    gives a float16 result as in PyTorch."""
    dtype = np.dtype(input.dtype) if np.dtype(input.dtype).kind == "f" else np.dtype(np.float64)
    drawn = getattr((generator or default_generator()).numpy, sample)(
        input.shape if shape is None else shape,
        dtype=dtype if dtype in (np.float32, np.float64) else np.float64)
    return drawn, dtype


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
    (``inplace``: written into ``input``, which is returned). NaN gives NaN with gradient 0,
    as PyTorch's."""
    if inplace:
        return _in_place("hardsigmoid_", input, hardsigmoid)
    # NaN fails both tests and so lands in the middle piece: the clamp keeps the NaN value
    # and, its rule being 0 outside [-3, 3], gives it PyTorch's zero gradient
    middle = clip(input, -3, 3) * (1 / 6) + 0.5
    return where(input <= -3, 0.0, where(input >= 3, 1.0, middle))


def hardswish(input, inplace=False):
    """``x * hardsigmoid(x)``: 0 for x <= -3, x for x >= 3, ``x (x + 3) / 6`` between. Its
    gradient at -3 is 0 and at 3 is 1, at -inf 0, at +inf and NaN 1, as PyTorch's (its
    vectorised kernel gives NaN the gradient NaN). ``inplace``: written into ``input``, which
    is returned.

    Differs from PyTorch at -inf: wengert gives 0, the limit, where PyTorch computes
    ``-inf * 0`` = NaN."""
    if inplace:
        return _in_place("hardswish_", input, hardswish)
    # the middle piece reads x clamped to [-3, 3]: finite at +-inf, and the clamp's rule
    # stops the gradient at NaN, so the unselected piece adds 0 rather than 0 * inf = NaN
    mid = clip(input, -3, 3)
    return where(input <= -3, 0.0, where(input < 3, mid * (mid + 3) * (1 / 6), input))


def threshold(input, threshold, value, inplace=False):
    """``value`` where x <= threshold, else ``x`` (``value`` gets no gradient): PyTorch's
    rule, so NaN stays NaN with gradient 1. ``inplace``: written into ``input``, which is
    returned."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input, threshold, value):
    """``threshold(input, threshold, value, inplace=True)``."""
    return _threshold(input, threshold, value, True)


def _threshold(input, threshold, value, inplace):
    # apart from threshold(), whose argument of the same name (PyTorch's) hides it
    if inplace:
        return _in_place("threshold_", input, lambda x: where(x <= threshold, value, x))
    return where(input <= threshold, value, input)


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
    # elu(x / alpha) uses expm1, exact near 0; the where keeps x > 0 bit-exact. The elu
    # branch sees 0 where x > 0: at x = +inf its zero gradient is then 0 * 1, not 0 * inf (a
    # NaN the where drops, with a warning); NaN takes the elu branch, as in PyTorch.
    positive = input > 0
    return where(positive, input, alpha * _elu(where(positive, 0.0, input) * (1 / alpha)))


def celu_(input, alpha=1.0):
    """``celu(input, alpha, inplace=True)``."""
    return celu(input, alpha, inplace=True)


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (1 + _abs(input))


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - tanh(input)


def hardshrink(input, lambd=0.5):
    """``x`` where |x| > lambd, else 0 (the gradient is 0 at +-lambd, and NaN passes with
    gradient 1, PyTorch's rule ``-lambd <= x <= lambd ? 0 : x``). Any lambd is taken, as
    PyTorch's; a negative one keeps every x."""
    return where((input >= -lambd) & (input <= lambd), 0.0, input)


def softshrink(input, lambd=0.5):
    """``x - lambd`` for x > lambd, ``x + lambd`` for x < -lambd, 0 between (gradient 0 at
    +-lambd; NaN stays NaN with gradient 1, as PyTorch's). ``lambd`` must be >= 0."""
    if not lambd >= 0:
        raise ArgumentError(f"softshrink: lambd={lambd} must be >= 0 (PyTorch refuses it too). "
                            "Hint: lambd is the half-width of the band set to 0")
    # x minus x clamped to the band: the clamp's rule (1 inside the band, bounds included,
    # 0 outside and at NaN) gives the gradient 0 in the band and 1 elsewhere
    return input - clip(input, -lambd, lambd)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, generator=None):
    """Randomised leaky ReLU (Xu et al. 2015): ``x`` for x > 0, ``a * x`` otherwise. When
    ``training``, each entry has its own slope ``a`` drawn from U(lower, upper) (from
    ``generator``, default wengert's global one, as ``dropout`` draws its masks), and the
    gradient is that slope; otherwise ``a = (lower + upper) / 2``, ``leaky_relu``.
    ``inplace=True`` writes the result into ``input`` and returns it. ``generator`` is
    wengert's addition to PyTorch's signature."""
    if lower > upper:
        raise ArgumentError(f"rrelu: lower={lower} is greater than upper={upper}; the slopes "
                            "are drawn from U(lower, upper). Hint: swap them")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    draw, dtype = _draw(generator, "random", input)
    # a slope for every entry, as PyTorch draws them; x <= 0 takes it (PyTorch's test, so
    # NaN keeps slope 1)
    slopes = where(input <= 0, (draw * (upper - lower) + lower).astype(dtype, copy=False), 1)
    if inplace:
        # x * slopes reads no array of the input's for its gradient: no copy is kept
        return _in_place("rrelu_", input, lambda x: x * slopes, False)
    return input * slopes


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """``rrelu(input, lower, upper, training, inplace=True)``."""
    return rrelu(input, lower, upper, training, True, generator)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1, generator=None):
    """A sample from the Gumbel-softmax (concrete) distribution: ``softmax((logits + g) /
    tau)`` along ``dim``, with g = -log(E), E ~ Exponential(1), drawn from ``generator``
    (default wengert's global one). With ``hard=True`` the result is the one-hot vector of
    the sample's largest entry, differentiated as the soft sample (straight-through: ``hard
    + soft - soft.detach()``, exactly one-hot). ``eps`` is unused, as in PyTorch (which
    warns when it is given). ``tau`` must be positive: PyTorch accepts any and divides by
    it; wengert refuses a tau that makes NaN (0) or inverts the distribution (< 0).
    ``generator`` is wengert's addition to PyTorch's signature."""
    if not tau > 0:
        raise ArgumentError(f"gumbel_softmax: tau={tau} must be positive; it is the "
                            "temperature that divides the perturbed logits. Hint: tau -> 0 "
                            "approaches one-hot samples, tau = 1 is the default")
    if eps != 1e-10:
        warnings.warn("gumbel_softmax: `eps` parameter is deprecated and has no effect.",
                      stacklevel=2)
    exponential, dtype = _draw(generator, "standard_exponential", logits)
    # the log before the cast: a float16 draw could round to 0, whose log is -inf
    gumbels = (-np.log(exponential)).astype(dtype, copy=False)
    soft = _softmax((logits + gumbels) / tau, axis=dim)
    if not hard:
        return soft
    if soft.ndim == 0:  # one class, which every sample is (as PyTorch)
        return soft - soft.detach() + 1.0
    axis = dim % soft.ndim
    classes = np.arange(soft.shape[axis]).reshape((-1,) + (1,) * (soft.ndim - 1 - axis))
    one_hot = (argmax(soft, axis=axis, keepdims=True) == classes).astype(soft.dtype)
    return soft - soft.detach() + one_hot


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
    # x times a per-entry factor rather than where(x > 0, x, x * slope): the slope's gradient
    # is then masked by the where, not 0 * x, which is NaN at x = +inf
    return input * where(input > 0, 1, slope)
