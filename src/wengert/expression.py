"""Safe parsing of a formula such as ``ln(x1) + x1*x2 - sin(x2)`` into a function of tensors.

Python's ``ast`` parses the text; only numbers, the given variable names, the constants ``pi``
and ``e``, ``+ - * / **``, unary minus and calls of the whitelisted functions below are
accepted. Nothing is ever passed to ``eval``: the tree is interpreted node by node. An unknown
name or a disallowed construct raises an :class:`~wengert.errors.ArgumentError` that shows the
formula with the offending part underlined.
"""
import ast
import math
import operator

from .errors import ArgumentError
from .ops import elementwise as ew

FUNCTIONS = {
    "ln": ew.log, "log": ew.log, "exp": ew.exp, "sqrt": ew.sqrt, "sin": ew.sin, "cos": ew.cos,
    "tan": ew.tan, "tanh": ew.tanh, "sigmoid": ew.sigmoid, "relu": ew.relu, "abs": ew.abs,
    "log1p": ew.log1p, "expm1": ew.expm1, "softplus": ew.softplus, "square": ew.square,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _error(text, node, message):
    """ArgumentError with ``text`` and a caret line under ``node`` (1-based offsets for
    SyntaxError, 0-based columns for an ast node)."""
    if isinstance(node, SyntaxError):
        start = max((node.offset or 1) - 1, 0)
        end = max((getattr(node, "end_offset", None) or start + 2) - 1, start + 1)
    else:
        start, end = node.col_offset, max(node.end_col_offset or node.col_offset + 1,
                                          node.col_offset + 1)
    return ArgumentError(f"{message}\n  {text}\n  {' ' * start}{'^' * (end - start)}")


def parse(text, variables):
    """A function ``f(*values)`` (one value per name in ``variables``, in order) computing the
    formula ``text`` with wengert ops."""
    if "\n" in text:
        raise ArgumentError("expression: write the formula on one line")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _error(text.strip(), exc, f"expression: invalid syntax ({exc.msg})") from None
    except (RecursionError, MemoryError):
        raise ArgumentError("expression: nested too deeply") from None
    text = text.strip()
    variables = list(variables)
    for name in variables:
        if name in FUNCTIONS or name in CONSTANTS or not name.isidentifier():
            raise ArgumentError(f"expression: {name!r} cannot be a variable name (a function, "
                                "a constant, or not an identifier)")
    _check(text, tree.body, set(variables))

    def f(*values):
        if len(values) != len(variables):
            raise ArgumentError(f"expression: {len(values)} values for the variables "
                                f"{variables}")
        return _evaluate(tree.body, dict(zip(variables, values)))
    f.__name__ = "expression"
    return f


def _check(text, node, variables):
    """Raise for anything outside the whitelist (iterative, any nesting depth)."""
    todo = [node]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
            todo += [node.left, node.right]
        elif isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
            todo.append(node.operand)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _error(text, node, f"expression: only numbers are allowed as constants, "
                                         f"got {node.value!r}")
            try:
                float(node.value)
            except OverflowError:
                raise _error(text, node, "expression: this number is too large for a "
                                         "float") from None
        elif isinstance(node, ast.Name):
            if node.id not in variables and node.id not in CONSTANTS:
                hint = (f"{node.id!r} is a function; call it as {node.id}(...)"
                        if node.id in FUNCTIONS else
                        f"variables: {', '.join(sorted(variables)) or 'none'} (give values "
                        "with --at NAME=VALUE); constants: pi, e")
                raise _error(text, node, f"expression: unknown name {node.id!r}; {hint}")
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in FUNCTIONS:
                raise _error(text, node.func,
                             f"expression: unknown function {ast.unparse(node.func)!r}; "
                             f"allowed: {', '.join(sorted(FUNCTIONS))}")
            if len(node.args) != 1 or node.keywords:
                raise _error(text, node, f"expression: {name}() takes exactly one argument")
            todo.append(node.args[0])
        else:
            raise _error(text, node, f"expression: {type(node).__name__} is not allowed; use "
                                     "numbers, variables, + - * / ** and function calls")


def _evaluate(node, env):
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, env), _evaluate(node.right, env)
        # Between two numbers this is Python arithmetic, which raises or turns complex where
        # a tensor would hold inf or nan: name the constant part instead.
        try:
            out = BINARY[type(node.op)](left, right)
        except OverflowError:
            raise ArgumentError(f"expression: the constant part {ast.unparse(node)} "
                                "overflows") from None
        except ZeroDivisionError:
            raise ArgumentError(f"expression: the constant part {ast.unparse(node)} divides "
                                "by zero") from None
        if isinstance(out, complex):  # (-8) ** (1/3)
            raise ArgumentError(f"expression: the constant part {ast.unparse(node)} has no "
                                "real value")
        return out
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_evaluate(node.operand, env))
    if isinstance(node, ast.Constant):
        return float(node.value)  # floats: 2**10**10 overflows at once instead of running on
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else CONSTANTS[node.id]
    return FUNCTIONS[node.func.id](_evaluate(node.args[0], env))
