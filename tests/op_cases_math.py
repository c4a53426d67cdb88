"""Op-table cases for the element-wise math primitives (inverse trigonometric and hyperbolic
functions, base-2/10 logarithms, arctan2, hypot, logaddexp, xlogy, logit, remainders...).
Inputs stay inside each domain and away from kinks. See op_table.py for the format."""
import wengert as wg
from op_table import Case, In

try:
    import torch
except ImportError:
    torch = None

T = torch
UNARY_SHAPES = [(3, 4), (), (2, 1, 3)]
BINARY_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (3,))]


def unary(prim, fn, tfn, kind="float", low=-2.0, high=2.0, **kw):
    return [Case(prim, fn, [In(s, kind, low, high)], tfn, **kw) for s in UNARY_SHAPES]


def binary(prim, fn, tfn, x=("float", -2.0, 2.0), y=("float", -2.0, 2.0), **kw):
    return [Case(prim, fn, [In(a, *x), In(b, *y)], tfn, **kw) for a, b in BINARY_SHAPES]


CASES = []
# --- unary ----------------------------------------------------------------------------------
CASES += unary("sinh", wg.sinh, T and T.sinh)
CASES += unary("cosh", wg.cosh, T and T.cosh)
CASES += unary("arcsin", wg.arcsin, T and T.asin, low=-0.9, high=0.9)
CASES += unary("arccos", wg.arccos, T and T.acos, low=-0.9, high=0.9)
CASES += unary("arctan", wg.arctan, T and T.atan, low=-3, high=3)
CASES += unary("arcsinh", wg.arcsinh, T and T.asinh, low=-3, high=3)
CASES += unary("arccosh", wg.arccosh, T and T.acosh, kind="positive", low=1.2, high=4)
CASES += unary("arctanh", wg.arctanh, T and T.atanh, low=-0.9, high=0.9)
CASES += unary("log2", wg.log2, T and T.log2, kind="positive", low=0.2, high=5)
CASES += unary("log10", wg.log10, T and T.log10, kind="positive", low=0.2, high=5)
CASES += unary("exp2", wg.exp2, T and T.exp2, low=-3, high=3)
CASES += unary("deg2rad", wg.deg2rad, T and T.deg2rad, low=-360, high=360)
CASES += unary("rad2deg", wg.rad2deg, T and T.rad2deg, low=-4, high=4)
CASES += unary("logit", wg.logit, T and T.logit, kind="positive", low=0.05, high=0.95)
# with eps: inputs on both sides of the clamp at [0.2, 0.8]; with the table's seeds none lies
# within 1e-4 of a bound, far outside the 1e-6 difference step
CASES += [Case("logit", lambda x: wg.logit(x, eps=0.2), [In(s, low=-0.5, high=1.5)],
               T and (lambda x: T.logit(x, eps=0.2)), label=f"eps {s}")
          for s in [(40,), (3, 5)]]
CASES += unary("nan_to_num", wg.nan_to_num, T and T.nan_to_num)

# --- binary, broadcasting -------------------------------------------------------------------
CASES += binary("arctan2", wg.arctan2, T and T.atan2)
CASES += binary("hypot", wg.hypot, T and T.hypot, x=("away0", -3, 3))
CASES += binary("logaddexp", wg.logaddexp, T and T.logaddexp, x=("float", -4, 4))
CASES += binary("logaddexp2", wg.logaddexp2, T and T.logaddexp2, x=("float", -4, 4))
CASES += binary("xlogy", wg.xlogy, T and T.xlogy, y=("positive", 0.2, 3))
# fmod and remainder jump where x / y is an integer: random inputs hit one with probability 0,
# and with the table's seeds none lies within the 1e-6 difference step of one. The quotients
# range over -15..15, so y's gradient (minus the rounded quotient) is checked at many values.
for name, op, t_op in [("fmod", wg.fmod, T and T.fmod),
                       ("remainder", wg.remainder, T and T.remainder)]:
    CASES += binary(name, op, t_op, x=("float", -3, 3), y=("away0", 0, 2))

# --- composite ------------------------------------------------------------------------------
# lerp is written with where/add/multiply/subtract; its cases run under "where"
CASES += [Case("where", lambda a, b, w: wg.lerp(a, b, w),
               [In(sa), In(sb), In(sw, low=-0.5, high=1.5)], T and T.lerp,
               label=f"lerp {sa},{sb},{sw}")
          for sa, sb, sw in [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), (2, 1)), ((), (3,), ())]]
CASES += [Case("where", lambda a, b: wg.lerp(a, b, w), [In((3, 4)), In((4,))],
               T and (lambda a, b: T.lerp(a, b, w)), label=f"lerp weight {w}")
          for w in (0.3, 0.8)]

# --- no gradient ----------------------------------------------------------------------------
CASES += [Case("trunc", wg.trunc, [In((3, 4), low=-3, high=3)], T and T.trunc),
          Case("floor_divide", wg.floor_divide, [In((3, 4), low=-5, high=5), In((4,), "away0")],
               T and T.floor_divide),
          Case("heaviside", wg.heaviside, [In((3, 4), "away0"), In((4,))], T and T.heaviside),
          # x exactly 0 takes the value from `values`
          Case("heaviside", wg.heaviside, [In((2, 3), "int", -1, 2), In((3,))],
               T and (lambda x, v: T.heaviside(x.double(), v)), label="at 0")]
