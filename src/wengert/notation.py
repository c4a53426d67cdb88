"""How a recorded op reads in a Wengert table or a graph picture.

Each entry gives the op's expression and, per input, the term it contributes to a derivative:
in forward mode ``v̇_out = sum_j term_j(d=v̇_j)``, in reverse mode ``v̄_j += term_j(d=v̄_out)``.
``{0}``, ``{1}`` are the input names, ``{y}`` the output's and ``{d}`` the derivative being
propagated. For element-wise ops the two modes' terms are the same local derivative times
``{d}``; for matmul they differ (``v̇0 @ v1`` forward, ``v̄ @ v1ᵀ`` reverse). An op missing
here is shown as a call, with ``jvp``/``vjp`` terms. This is display only: the numbers in
the tables come from the primitives' own rules.
"""
import numpy as np


def _same(expr, *terms):
    return expr, list(terms), list(terms)


FORMS = {
    "add": _same("{0} + {1}", "{d}", "{d}"),
    "subtract": _same("{0} - {1}", "{d}", "-{d}"),
    "multiply": _same("{0}·{1}", "{d}·{1}", "{d}·{0}"),
    "divide": _same("{0} / {1}", "{d}/{1}", "-{d}·{y}/{1}"),
    "negative": _same("-{0}", "-{d}"),
    "power": _same("{0}^{1}", "{d}·{1}·{0}^({1}-1)", "{d}·{y}·ln {0}"),
    "log": _same("ln {0}", "{d}/{0}"),
    "log1p": _same("ln(1 + {0})", "{d}/(1 + {0})"),
    "exp": _same("exp {0}", "{d}·{y}"),
    "expm1": _same("exp {0} - 1", "{d}·({y} + 1)"),
    "sqrt": _same("√{0}", "{d}/(2·{y})"),
    "square": _same("{0}²", "{d}·2·{0}"),
    "reciprocal": _same("1/{0}", "-{d}·{y}²"),
    "abs": _same("|{0}|", "{d}·sign {0}"),
    "sin": _same("sin {0}", "{d}·cos {0}"),
    "cos": _same("cos {0}", "-{d}·sin {0}"),
    "tan": _same("tan {0}", "{d}·(1 + {y}²)"),
    "tanh": _same("tanh {0}", "{d}·(1 - {y}²)"),
    "sigmoid": _same("σ({0})", "{d}·{y}·(1 - {y})"),
    "softplus": _same("softplus {0}", "{d}·σ({0})"),
    "relu": _same("relu {0}", "{d}·[{0} > 0]"),
    # ties split the derivative, as the rules (and PyTorch's) do
    "maximum": _same("max({0}, {1})", "{d}·([{0} > {1}] + ½[{0} = {1}])",
                     "{d}·([{1} > {0}] + ½[{0} = {1}])"),
    "minimum": _same("min({0}, {1})", "{d}·([{0} < {1}] + ½[{0} = {1}])",
                     "{d}·([{1} < {0}] + ½[{0} = {1}])"),
    "matmul": ("{0} @ {1}", ["{d} @ {1}", "{0} @ {d}"], ["{d} @ {1}ᵀ", "{0}ᵀ @ {d}"]),
    "sum": ("Σ {0}", ["Σ {d}"], ["{d} (broadcast)"]),
    "mean": ("mean {0}", ["mean {d}"], ["{d}/n (broadcast)"]),
    "transpose": _same("{0}ᵀ", "{d}ᵀ"),
    "alias": _same("{0}", "{d}"),
}


def _param_text(v):
    """A parameter as it reads in a call; an array of more than 4 values (an index) by its
    dtype and shape, so that one table row is not thousands of characters wide."""
    if isinstance(v, np.ndarray) and v.size > 4:
        return f"<{v.dtype} {shape_text(v)}>"
    if isinstance(v, tuple):
        return "(" + ", ".join(map(_param_text, v)) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def _params(params):
    shown = {k: v for k, v in params.items() if not k.startswith("_")}
    return "".join(f", {k}={_param_text(v)}" for k, v in shown.items())


def expression(op, names, params, y):
    """The op applied to ``names`` (one per input: a variable name or a constant's text)."""
    form = FORMS.get(op)
    if form is None or len(names) != len(form[1]):
        return f"{op}({', '.join(names)}{_params(params)})"
    return form[0].format(*names, y=y)


def term(op, i, names, y, d, reverse):
    """Input ``i``'s term in the forward (``d`` = its tangent) or reverse (``d`` = the output's
    adjoint) derivative of ``y = op(names)``."""
    form = FORMS.get(op)
    if form is None or len(names) != len(form[1]):
        return f"{'vjp' if reverse else 'jvp'}_{op}[{i}]({d})"
    return form[2 if reverse else 1][i].format(*names, y=y, d=d)


def join_terms(terms):
    """``a + b - c`` from terms that may start with a minus sign."""
    if not terms:
        return "0"
    out = terms[0]
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def number(v):
    """A value as the lectures print it: ``0.693``, ``10``, ``-0.959``, ``4.540e-05``.
    A one-element array of any shape prints as its element."""
    v = float(np.ravel(v)[0])
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else str(v)
    if 1e-3 <= abs(v) < 1e6:
        return f"{v:.3f}".rstrip("0").rstrip(".")
    return f"{v:.3e}"


def summary(a):
    """A scalar as a number; up to 4 values listed (flat); more by their range and mean."""
    a = np.asarray(a)
    if a.size == 1:
        return number(a.reshape(()))
    if a.size <= 4:
        return "[" + ", ".join(number(v) for v in a.reshape(-1)) + "]"
    if a.dtype.kind not in "fiu":
        return str(a.dtype)
    return f"min {number(a.min())}, max {number(a.max())}, mean {number(a.mean())}"


def shape_text(a):
    """``"2×3"`` for an array, ``""`` for a scalar."""
    shape = np.shape(a)
    return "×".join(str(s) for s in shape) if shape else ""
