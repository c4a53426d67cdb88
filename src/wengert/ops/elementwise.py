"""Element-wise primitives.

For an element-wise op the Jacobian is diagonal, so the VJP and JVP rules are the same
expression: ``rule(ns, g, ans, *args)`` multiplies the incoming gradient (or tangent) by the
local derivative. Each rule is therefore written once and used for both modes.
Numerically delicate forwards (sigmoid, softplus, elu) are written so that no branch
overflows: no NumPy warnings, finite values at +-1e4.

Integer and bool inputs to an op whose values are floats: where the forward is a bare NumPy
ufunc (exp, sin, sqrt, true division...) they follow NumPy's promotion (float64; float16
for bool and 8-bit integers), where PyTorch computes in float32: a check there would cost
every float op about 4% of its no-grad dispatch. The forwards written in Python (sigmoid,
logit, xlogy, erf, softplus, elu, leaky_relu) and reciprocal (whose integer result NumPy
truncates) are declared ``float_valued``: integer and bool inputs are computed in the
default float dtype, float32, as PyTorch promotes them (PyTorch has no integer kernel for
softplus, elu and leaky_relu and raises; these give the float32 values).
"""
import math

import numpy as np

from ..autodiff.primitive import ARRAY, defop, nondiff
from ..backend import DEFAULT_FLOAT
from ..errors import ArgumentError
from ..tensor import Tensor


def elementwise(name, forward, rules, saves="inputs", doc=None, float_valued=False):
    """Register an element-wise primitive whose JVP rules equal its VJP rules;
    ``float_valued``: see the module docstring (:func:`_in_floats`)."""
    if not float_valued:
        return defop(name, forward, vjp=rules, jvp=rules, saves=saves, doc=doc)
    op = defop(name, _in_floats(forward), vjp=rules, jvp=rules, saves=saves,
               doc=doc or forward.__doc__)
    # the rules run on the gradient and on inputs that need one, which are floats: they call
    # the forward itself, without the check
    setattr(ARRAY, name, forward)
    return op


_ndarray = np.ndarray


def _in_floats(forward):
    """``forward``, but where no input is a float array (or NumPy scalar) and one is an
    integer or bool one, computed with those as floats: the default float dtype (float32),
    or the float dtype of the other array inputs where there are any (int64 / float32 is
    float32). Python numbers are left to NumPy. The inputs are looked at before the forward
    runs, so it never computes on integers (where ``-x`` of unsigned ones wraps)."""
    def float_valued(*args, **params):
        if any(_is_integral(a) for a in args):
            return forward(*_as_floats(args), **params)
        return forward(*args, **params)
    float_valued.__name__ = getattr(forward, "__name__", "forward")
    float_valued.__doc__ = forward.__doc__
    return float_valued


def _is_integral(a):
    """Whether ``a`` is an integer or bool array or NumPy scalar (not a Python number)."""
    if type(a) is _ndarray or isinstance(a, (_ndarray, np.generic)):
        return a.dtype.kind in "biu"
    return False


def _as_floats(args):
    """``args`` with the integral arrays cast as :func:`_in_floats` says."""
    integral = [_is_integral(a) for a in args]
    floats = [a for a, i in zip(args, integral)
              if not i and isinstance(a, (_ndarray, np.generic)) and a.dtype.kind == "f"]
    dtype = np.result_type(*floats) if floats else DEFAULT_FLOAT
    return [a.astype(dtype) if i else a for a, i in zip(args, integral)]


def _nonzero(ns, x):
    """x with zeros replaced by ones, so a masked-off division never warns."""
    return ns.where(x == 0, 1, x)


# --- arithmetic -------------------------------------------------------------------------------
add = elementwise("add", np.add, [lambda ns, g, ans, x, y: g, lambda ns, g, ans, x, y: g],
                  saves="none", doc="x + y, broadcasting.")
subtract = elementwise("subtract", np.subtract,
                       [lambda ns, g, ans, x, y: g, lambda ns, g, ans, x, y: -g],
                       saves="none", doc="x - y, broadcasting.")
multiply = elementwise("multiply", np.multiply,
                       [lambda ns, g, ans, x, y: g * y, lambda ns, g, ans, x, y: g * x],
                       saves="others", doc="x * y, broadcasting.")
divide = elementwise("divide", np.true_divide,
                     # y's rule recomputes x / y rather than read the output, so (as in
                     # PyTorch) writing into the quotient or into x is fine unless y needs a
                     # gradient: x's rule reads y, y's reads x and y
                     [lambda ns, g, ans, x, y: g / y, lambda ns, g, ans, x, y: -g * (x / y) / y],
                     saves=((1,), (0, 1)), doc="x / y (true division), broadcasting.")
negative = elementwise("negative", np.negative, [lambda ns, g, ans, x: -g], saves="none",
                       doc="-x.")


def _pow_rule_exponent(ns, g, ans, x, y):
    # d(x**y)/dy = x**y * log(x); taken as 0 where x == 0 (the limit for y > 0), as PyTorch.
    # x**y is recomputed rather than read from the output, so that the output (of the common
    # x ** 2) may be written in place afterwards, as PyTorch allows
    return ns.where(x == 0, 0, g * x ** y * ns.log(_nonzero(ns, x)))


def _pow_rule_base(ns, g, ans, x, y):
    # d(x**y)/dx = y * x**(y-1); 0 where y == 0, as PyTorch: x**0 is constant, at x = 0 too,
    # where the formula is 0 * inf. There the exponent is replaced, so 0**-1 is never taken.
    if np.ndim(y) == 0:  # a number (or 0-d exponent): one branch, no where
        return g * 0 if y == 0 else g * y * x ** (y - 1)
    zero = y == 0
    return ns.where(zero, 0, g * y * x ** ns.where(zero, 1, y - 1))


power = elementwise("power", np.power, [_pow_rule_base, _pow_rule_exponent],
                    saves=((0, 1), (0, 1)), doc="x ** y for tensor or scalar exponents.")

# --- exponentials and logarithms --------------------------------------------------------------
exp = elementwise("exp", np.exp, [lambda ns, g, ans, x: g * ans], saves="output", doc="e**x.")
log = elementwise("log", np.log, [lambda ns, g, ans, x: g / x], doc="Natural logarithm.")
log1p = elementwise("log1p", np.log1p, [lambda ns, g, ans, x: g / (1 + x)],
                    doc="log(1 + x), accurate for small x.")
expm1 = elementwise("expm1", np.expm1, [lambda ns, g, ans, x: g * (ans + 1)], saves="output",
                    doc="e**x - 1, accurate for small x.")
sqrt = elementwise("sqrt", np.sqrt, [lambda ns, g, ans, x: g / (2 * ans)], saves="output",
                   doc="Square root.")
square = elementwise("square", np.square, [lambda ns, g, ans, x: g * (2 * x)], doc="x**2.")
reciprocal = elementwise("reciprocal", np.reciprocal,
                         [lambda ns, g, ans, x: -g * ans * ans], saves="output", doc="1 / x.",
                         float_valued=True)
abs = elementwise("abs", np.abs, [lambda ns, g, ans, x: g * ns.sign(x)],
                  doc="|x|; the gradient at 0 is 0 (as PyTorch).")

_LN2 = math.log(2)  # Python floats, so the rules never upcast float32
_LN10 = math.log(10)
exp2 = elementwise("exp2", np.exp2, [lambda ns, g, ans, x: g * ans * _LN2], saves="output",
                   doc="2**x.")
log2 = elementwise("log2", np.log2, [lambda ns, g, ans, x: g / (x * _LN2)],
                   doc="Base-2 logarithm (NaN below 0, as NumPy and PyTorch).")
log10 = elementwise("log10", np.log10, [lambda ns, g, ans, x: g / (x * _LN10)],
                    doc="Base-10 logarithm (NaN below 0, as NumPy and PyTorch).")
# d/dx log(e**x + e**y) = e**x / (e**x + e**y) = sigmoid(x - y): stable for any finite x, y,
# and read from the inputs alone
logaddexp = elementwise(
    "logaddexp", np.logaddexp,
    [lambda ns, g, ans, x, y: g * ns.sigmoid(x - y),
     lambda ns, g, ans, x, y: g * ns.sigmoid(y - x)],
    doc="log(e**x + e**y), without overflow; broadcasting.")
logaddexp2 = elementwise(
    "logaddexp2", np.logaddexp2,
    [lambda ns, g, ans, x, y: g * ns.sigmoid((x - y) * _LN2),
     lambda ns, g, ans, x, y: g * ns.sigmoid((y - x) * _LN2)],
    doc="log2(2**x + 2**y), without overflow; broadcasting.")


def _xlogy(x, y):
    # log is taken of 1 where x == 0, so 0 * log(0) and 0 * log(inf) are 0 (and warn nothing);
    # a NaN y still gives NaN there, as torch. np.where(x == 0, 1, y) is a float64 array when
    # y is a Python number, which would upcast x: the result is cast to the dtype NumPy's
    # promotion gives x and y (integers come here as floats: see float_valued).
    out = np.where(np.isnan(y), np.nan, x * np.log(np.where(x == 0, 1, y)))
    return out.astype(np.result_type(x, y, 1.0), copy=False)


xlogy = elementwise(
    "xlogy", _xlogy,
    # as torch: d/dx is log(y), but 0 where x == 0 and y <= 0 (the value is 0 there whatever
    # x's sign); y is replaced by 1 there, so log(y) is 0 and never taken out of its domain
    [lambda ns, g, ans, x, y: ns.xlogy(g, ns.where((x == 0) & (y <= 0), 1, y)),
     lambda ns, g, ans, x, y: g * x / y],
    doc="x * log(y), and 0 where x == 0 (even where y is 0), as torch.xlogy; broadcasting.",
    float_valued=True)

# --- trigonometric and hyperbolic -------------------------------------------------------------
sin = elementwise("sin", np.sin, [lambda ns, g, ans, x: g * ns.cos(x)], doc="Sine.")
cos = elementwise("cos", np.cos, [lambda ns, g, ans, x: -g * ns.sin(x)], doc="Cosine.")
tan = elementwise("tan", np.tan, [lambda ns, g, ans, x: g * (1 + ans * ans)], saves="output",
                  doc="Tangent.")
tanh = elementwise("tanh", np.tanh, [lambda ns, g, ans, x: g * (1 - ans * ans)],
                   saves="output", doc="Hyperbolic tangent.")
sinh = elementwise("sinh", np.sinh, [lambda ns, g, ans, x: g * ns.cosh(x)],
                   doc="Hyperbolic sine.")
cosh = elementwise("cosh", np.cosh, [lambda ns, g, ans, x: g * ns.sinh(x)],
                   doc="Hyperbolic cosine.")
# The inverse functions are NaN outside their domains (NumPy's and PyTorch's values); their
# gradients are PyTorch's formulas, infinite at the domain's ends.
arcsin = elementwise("arcsin", np.arcsin, [lambda ns, g, ans, x: g / ns.sqrt(1 - x * x)],
                     doc="Inverse sine (``asin``), for x in [-1, 1].")
arccos = elementwise("arccos", np.arccos, [lambda ns, g, ans, x: -g / ns.sqrt(1 - x * x)],
                     doc="Inverse cosine (``acos``), for x in [-1, 1].")
arctan = elementwise("arctan", np.arctan, [lambda ns, g, ans, x: g / (1 + x * x)],
                     doc="Inverse tangent (``atan``).")
arcsinh = elementwise("arcsinh", np.arcsinh, [lambda ns, g, ans, x: g / ns.sqrt(x * x + 1)],
                      doc="Inverse hyperbolic sine (``asinh``).")
arccosh = elementwise("arccosh", np.arccosh, [lambda ns, g, ans, x: g / ns.sqrt(x * x - 1)],
                      doc="Inverse hyperbolic cosine (``acosh``), for x >= 1.")
arctanh = elementwise("arctanh", np.arctanh, [lambda ns, g, ans, x: g / (1 - x * x)],
                      doc="Inverse hyperbolic tangent (``atanh``), for x in (-1, 1).")


def _arctan2_scale(ns, y, x):
    """1 / (y**2 + x**2), the factor of both of arctan2's derivatives; 0 at the origin, where
    PyTorch gives both inputs a zero gradient."""
    r = y * y + x * x
    return ns.where(r == 0, 0, 1 / _nonzero(ns, r))


arctan2 = elementwise(
    "arctan2", np.arctan2,
    [lambda ns, g, ans, y, x: g * x * _arctan2_scale(ns, y, x),
     lambda ns, g, ans, y, x: -g * y * _arctan2_scale(ns, y, x)],
    doc="arctan2(y, x) (``atan2``): the angle of the point (x, y), in [-pi, pi]; "
        "broadcasting.")
hypot = elementwise(
    "hypot", np.hypot,
    [lambda ns, g, ans, x, y: g * x / ans, lambda ns, g, ans, x, y: g * y / ans],
    saves="both", doc="sqrt(x**2 + y**2), without overflow; broadcasting. The gradient at "
                      "the origin is NaN (0/0), as PyTorch's.")
deg2rad = elementwise("deg2rad", np.deg2rad, [lambda ns, g, ans, x: g * (math.pi / 180)],
                      saves="none", doc="Degrees to radians: x * pi / 180.")
rad2deg = elementwise("rad2deg", np.rad2deg, [lambda ns, g, ans, x: g * (180 / math.pi)],
                      saves="none", doc="Radians to degrees: x * 180 / pi.")


# --- activations ------------------------------------------------------------------------------
def _sigmoid(x):
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


sigmoid = elementwise("sigmoid", _sigmoid, [lambda ns, g, ans, x: g * (ans * (1 - ans))],
                      saves="output", doc="Logistic sigmoid 1/(1+e**-x), stable for large |x|.",
                      float_valued=True)
# g * mask rather than where(mask, g, 0): the same values, and 3-4x faster in NumPy. The
# mask is read from the output, as PyTorch's relu saves its result: relu_ then needs no copy
# of its input, and a write into the input after relu is allowed while one into the output is
# refused, both as PyTorch. The output is positive, 0 or NaN, so ans != 0 is x > 0 except at
# NaN, where the gradient passes through as PyTorch's (its rule is "0 where ans <= 0").
relu = elementwise("relu", lambda x: np.maximum(x, 0),
                   [lambda ns, g, ans, x: g * (ans != 0)], saves="output",
                   doc="max(x, 0); the gradient at 0 is 0 and at NaN passes through (as "
                       "PyTorch).")


def _logit(x, eps=None):
    if eps is not None:
        x = np.clip(x, eps, 1 - eps)
    return np.log(x / (1 - x))


def _logit_rule(ns, g, ans, x, eps=None):
    # PyTorch's: without eps the gradient is NaN outside [0, 1] (as the value); with eps it is
    # 0 where the clamp is active, and the clamped x keeps x = 0 or 1 from dividing by 0
    if eps is None:
        return ns.where((x < 0) | (x > 1), np.nan, g / (x * (1 - x)))
    z = ns.clip(x, a_min=eps, a_max=1 - eps)
    return ns.where((x < eps) | (x > 1 - eps), 0, g / (z * (1 - z)))


_logit = elementwise("logit", _logit, [_logit_rule],
                     doc="log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given.",
                     float_valued=True)


def logit(x, eps=None):
    """The inverse of the sigmoid, log(x / (1 - x)), as ``torch.logit``: NaN outside [0, 1];
    with ``eps`` x is first clamped to [eps, 1 - eps], and the gradient is 0 where the clamp
    is active (bounds excluded)."""
    return _logit(x, eps=eps)


def _leaky_relu(x, negative_slope=0.01):
    return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


leaky_relu = elementwise(
    "leaky_relu", _leaky_relu,
    [lambda ns, g, ans, x, negative_slope=0.01: ns.where(x > 0, g, g * negative_slope)],
    doc="x for x > 0, negative_slope * x otherwise.", float_valued=True)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


# x <= 0 rather than x > 0 picks the branch, so that NaN gets the identity's gradient, as
# PyTorch's elu_backward.
elu = elementwise("elu", _elu,
                  [lambda ns, g, ans, x, alpha=1.0: ns.where(x <= 0, g * (ans + alpha), g)],
                  saves="both", doc="x for x > 0, alpha * (e**x - 1) otherwise.", float_valued=True)


def _softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


softplus = elementwise("softplus", _softplus, [lambda ns, g, ans, x: g * ns.sigmoid(x)],
                       doc="log(1 + e**x), stable for large |x|.", float_valued=True)

_erf_scalar = np.vectorize(math.erf, otypes=[np.float64])


def _erf(x):
    return _erf_scalar(x).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


erf = elementwise("erf", _erf,
                  [lambda ns, g, ans, x: g * (2 / math.sqrt(math.pi)) * ns.exp(-(x * x))],
                  doc="The error function (exact, from math.erf).", float_valued=True)


# --- two-input selections ---------------------------------------------------------------------
def _pick_first(ns, g, ans, x, y):
    # As PyTorch's maximum/minimum: ties split the gradient equally, the input that lost gets
    # none, and where a NaN made the value NaN (no comparison holds) both get all of it.
    return ns.where(x == y, g * 0.5, ns.where(ans == y, 0, g))


def _pick_second(ns, g, ans, x, y):
    return ns.where(x == y, g * 0.5, ns.where(ans == x, 0, g))


maximum = elementwise("maximum", np.maximum, [_pick_first, _pick_second], saves="both",
                      doc="Element-wise max; at ties each input gets half the gradient.")
minimum = elementwise("minimum", np.minimum, [_pick_first, _pick_second], saves="both",
                      doc="Element-wise min; at ties each input gets half the gradient.")


# --- remainders: the gradient is 1 for x and -(the quotient) for y ---------------------------
# x = q * y + r with the quotient q piecewise constant, so dr/dx = 1 and dr/dy = -q, where
# q is x / y rounded toward zero for fmod and down for remainder (PyTorch's rules). Both
# rules read no output; x's reads nothing at all.
fmod = elementwise(
    "fmod", np.fmod,
    [lambda ns, g, ans, x, y: g, lambda ns, g, ans, x, y: -g * ns.trunc(x / y)],
    saves=((), (0, 1)),
    doc="The remainder of x / y with x's sign (C's fmod, ``torch.fmod``); broadcasting.")
remainder = elementwise(
    "remainder", np.remainder,
    [lambda ns, g, ans, x, y: g, lambda ns, g, ans, x, y: -g * ns.floor_divide(x, y)],
    saves=((), (0, 1)),
    doc="The remainder of x / y with y's sign (Python's ``%``, ``torch.remainder``); "
        "broadcasting.")


def _clip(x, a_min=None, a_max=None):
    if a_min is None and a_max is None:
        raise ArgumentError("clip: give a_min, a_max or both (both are None)")
    return np.clip(x, a_min, a_max)


def _clip_rule(ns, g, ans, x, a_min=None, a_max=None):
    # gradient where x lies within the bounds, bounds included (so none where a_min > a_max),
    # as PyTorch; read from x alone, so the output may be written in place afterwards
    if a_min is None:
        inside = x <= a_max
    elif a_max is None:
        inside = x >= a_min
    else:
        inside = (x >= a_min) & (x <= a_max)
    return ns.where(inside, g, 0)


_clip = elementwise("clip", _clip, [_clip_rule],
                    doc="Clamp to number or array bounds [a_min, a_max]; gradient 1 inside "
                        "(bounds included), 0 outside.")


def clip(x, a_min=None, a_max=None):
    """Clamp to [a_min, a_max] (``torch.clamp``); either bound may be None. ``x`` gets the
    gradient where it is the value (bounds included). A bound that is a Tensor broadcasts and
    gets the gradient where it is the value; where a_min > a_max the value is a_max."""
    if not (isinstance(a_min, Tensor) or isinstance(a_max, Tensor)):
        return _clip(x, a_min=a_min, a_max=a_max)
    low = x if a_min is None else where(less(x, a_min), a_min, x)
    return low if a_max is None else where(greater(low, a_max), a_max, low)

where = elementwise(
    "where", np.where,
    [None, lambda ns, g, ans, c, x, y: ns.where(c, g, 0),
     lambda ns, g, ans, c, x, y: ns.where(c, 0, g)],
    doc="where(condition, x, y): x where condition holds, else y.")


def lerp(start, end, weight):
    """start + weight * (end - start), as ``torch.lerp``: ``weight`` is a number or a tensor
    (broadcasting), and all three get gradients. Where weight >= 0.5 it is computed as
    end - (end - start) * (1 - weight), as PyTorch does, so weight 1 gives exactly end."""
    # weight's own operators: a Python number stays one (weak, so it never upcasts float32)
    diff = subtract(end, start)
    return where(weight < 0.5, add(start, multiply(weight, diff)),
                 subtract(end, multiply(diff, 1 - weight)))


_nan_to_num = elementwise(
    "nan_to_num", np.nan_to_num,
    # as PyTorch: the gradient passes where x is finite and is 0 where a value was replaced
    [lambda ns, g, ans, x, nan=0.0, posinf=None, neginf=None: g * ns.isfinite(x)],
    doc="NaN, +inf and -inf replaced by nan, posinf and neginf.")


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default
    0 and the dtype's largest and lowest finite values), as ``torch.nan_to_num``. The gradient
    passes where x is finite and is 0 where a value was replaced."""
    return _nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# --- no gradient ------------------------------------------------------------------------------
sign = nondiff("sign", np.sign, doc="-1, 0 or 1 by the sign of x (no gradient).")
floor = nondiff("floor", np.floor, doc="Round down (no gradient).")
ceil = nondiff("ceil", np.ceil, doc="Round up (no gradient).")
round = nondiff("round", np.round, doc="Round half to even (no gradient).")
trunc = nondiff("trunc", np.trunc, doc="Round toward zero (no gradient).")
floor_divide = nondiff("floor_divide", np.floor_divide,
                       doc="x / y rounded down (Python's ``//``, ``torch.floor_divide``; no "
                           "gradient); broadcasting.")


def _heaviside(x, values):
    # torch's: values where x == 0, else 1 where x > 0 and 0 elsewhere, so a NaN x gives 0
    # (NumPy's np.heaviside gives NaN); the dtype is x's and values' (an integer one stays)
    return np.where(x == 0, values, x > 0).astype(np.result_type(x, values), copy=False)


heaviside = nondiff("heaviside", _heaviside,
                    doc="heaviside(x, values): 0 where x < 0, values where x == 0, 1 where "
                        "x > 0 (no gradient), as torch.heaviside: a NaN x gives 0 (NumPy's "
                        "np.heaviside gives NaN).")
isnan = nondiff("isnan", np.isnan, doc="True where x is NaN.")
isfinite = nondiff("isfinite", np.isfinite, doc="True where x is neither NaN nor infinite.")
isinf = nondiff("isinf", np.isinf, doc="True where x is +-inf.")
equal = nondiff("equal", np.equal, doc="x == y, element-wise (bool).")
not_equal = nondiff("not_equal", np.not_equal, doc="x != y, element-wise (bool).")
less = nondiff("less", np.less, doc="x < y, element-wise (bool).")
less_equal = nondiff("less_equal", np.less_equal, doc="x <= y, element-wise (bool).")
greater = nondiff("greater", np.greater, doc="x > y, element-wise (bool).")
greater_equal = nondiff("greater_equal", np.greater_equal, doc="x >= y, element-wise (bool).")
logical_and = nondiff("logical_and", np.logical_and, doc="Element-wise and (bool).")
logical_or = nondiff("logical_or", np.logical_or, doc="Element-wise or (bool).")
logical_not = nondiff("logical_not", np.logical_not, doc="Element-wise not (bool).")


def _astype(x, dtype):
    return x.astype(dtype, copy=False)


astype = defop("astype", _astype,
                   vjp=[lambda ns, g, ans, x, dtype: g],  # the engine casts back to x.dtype
                   jvp=[lambda ns, t, ans, x, dtype: ns.astype(t, dtype=dtype)],
                   saves="none", doc="Cast to another floating dtype (differentiable).")
cast = nondiff("cast", _astype, doc="Cast to any dtype; the result carries no gradient.")

# PyTorch's spellings
asin, acos, atan = arcsin, arccos, arctan
asinh, acosh, atanh = arcsinh, arccosh, arctanh
atan2 = arctan2
