"""Wengert trace tables: the evaluation trace of a function and its forward- and reverse-mode
derivative traces, as the lectures write them.

``wengert.trace(lambda x1, x2: wg.log(x1) + x1 * x2 - wg.sin(x2), 2.0, 5.0)`` prints::

    v0 = x1           2
    v1 = x2           5
    v2 = ln v0        0.693
    v3 = v0·v1        10
    ...

then ``v̇_i`` (forward mode, seeded on one input) and ``v̄_i`` (reverse mode: each adjoint the
sum of local derivative times the adjoints of the values computed from it). The numbers are
not recomputed for display: values come from the forward pass, tangents from true forward mode
(dual numbers through the JVP rules) and adjoints from one reverse pass of the engine.
Steps are listed by depth (longest path from the inputs), which puts independent operations
together as the textbook tables do.
"""
import html
import inspect
import unicodedata
from collections import namedtuple

import numpy as np

from .autodiff.engine import grad as engine_grad
from .autodiff.forward import dual_level, make_dual, unpack_dual
from .blocks import block_path
from .errors import ArgumentError
from .notation import expression, join_terms, number, shape_text, summary, term
from .tensor import Tensor
from .walk import walk

Row = namedtuple("Row", ["name", "expr", "value", "block"])


def _dot(name):
    return name[0] + "\u0307" + name[1:]  # v̇: combining dot above


def _bar(name):
    return name[0] + "\u0304" + name[1:]  # v̄: combining macron


def _width(text):
    """Columns ``text`` takes on a terminal: combining marks (the dot of v̇) take none."""
    return sum(not unicodedata.combining(c) for c in text)


def _input_names(f, n, names):
    if names is not None:
        if len(names) != n:
            raise ArgumentError(f"trace: {len(names)} names for {n} inputs")
        return list(names)
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:n] if len(params) >= n else [f"x{i}" for i in range(n)]


def trace(f, *args, wrt=0, seed=None, names=None):
    """Record ``f(*args)`` and return its :class:`Trace`. ``args`` are numbers or arrays (made
    float64 inputs v0, v1, ...); ``wrt`` picks the input the forward-mode table is seeded on,
    along ``seed`` (default: ones, i.e. d/dx for a scalar input). The adjoint table seeds the
    output with ones (the gradient of its sum). ``names`` labels the inputs (default: f's
    parameter names)."""
    if not args:
        raise ArgumentError("trace: f needs at least one input value")
    if not 0 <= wrt < len(args):
        raise ArgumentError(f"trace: wrt={wrt} but f has {len(args)} input(s)")
    xs = [Tensor(np.array(a.data if isinstance(a, Tensor) else a, dtype=np.float64),
                 requires_grad=True) for a in args]
    directions = [np.zeros_like(x.data) for x in xs]
    directions[wrt] = np.ones_like(xs[wrt].data) if seed is None else np.asarray(seed, float)
    with dual_level():
        inputs = [make_dual(x, d) for x, d in zip(xs, directions)]
        out = f(*inputs)
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise ArgumentError("trace: f must return a Tensor computed from its inputs")
        ids = {id(t) for t in inputs}
        steps = [t for t in walk([out], expand=lambda t: id(t) not in ids)
                 if t._node is not None and id(t) not in ids]
        tangents = [unpack_dual(t).tangent for t in inputs + steps]
    values = inputs + sorted(steps, key=_depth_order(inputs, steps))
    tangent_of = {id(t): d for t, d in zip(inputs + steps, tangents)}
    adjoints = engine_grad(out, values, np.ones_like(out.data), retain_graph=True,
                           allow_unused=True)
    return Trace(_input_names(f, len(args), names), values, out,
                 [tangent_of[id(t)] for t in values], adjoints, wrt)


def _depth_order(inputs, steps):
    depth = {id(t): 0 for t in inputs}
    for t in steps:  # walk order: a step's inputs come before it
        depth[id(t)] = 1 + max((depth.get(id(a), 0) for a in t._node.inputs
                                if isinstance(a, Tensor)), default=0)
    seq = {id(t): t._node.seq for t in steps}
    return lambda t: (depth[id(t)], seq[id(t)])


class Trace:
    """The tables of one recorded evaluation. ``evaluation``, ``forward`` and ``adjoint`` are
    lists of :class:`Row` ``(name, expr, value, block)``; ``print(trace)`` shows all three,
    ``to_markdown()`` and ``_repr_html_()`` (notebooks) the same as tables."""

    def __init__(self, input_names, values, out, tangents, adjoints, wrt):
        self.input_names = input_names
        self.tensors = values
        self.output = out
        self.wrt = wrt
        self.names = {id(t): f"v{i}" for i, t in enumerate(values)}
        n_in = len(input_names)
        self.evaluation, self.forward, self.adjoint = [], [], []
        consumers = {id(t): [] for t in values}
        for t in values[n_in:]:
            for i, a in enumerate(t._node.inputs):
                if id(a) in consumers:
                    consumers[id(a)].append((t, i))
        for k, t in enumerate(values):
            name = self.names[id(t)]
            block = "/".join(block_path(t._node)) if k >= n_in else ""
            d = tangents[k]
            d = np.zeros_like(t.data) if d is None else d.data
            g = adjoints[k]
            g = np.zeros_like(t.data) if g is None else g.data
            if k < n_in:
                self.evaluation.append(Row(name, input_names[k], t.data, block))
                seeded = "seed" if k == wrt else "0"  # only the wrt input has a tangent
                self.forward.append(Row(_dot(name), number(d) if d.size == 1 else seeded, d,
                                        block))
            else:
                node = t._node
                args = [self.operand(a) for a in node.inputs]
                self.evaluation.append(Row(name, expression(node.prim.name, args, node.params,
                                                            name), t.data, block))
                terms = [term(node.prim.name, i, args, name, _dot(self.names[id(a)]), False)
                         for i, a in enumerate(node.inputs) if id(a) in self.names]
                self.forward.append(Row(_dot(name), join_terms(terms), d, block))
            if t is out:
                expr = "1 (seed)"
            else:
                expr = join_terms([
                    term(c._node.prim.name, i, [self.operand(a) for a in c._node.inputs],
                         self.names[id(c)], _bar(self.names[id(c)]), True)
                    for c, i in consumers[id(t)]])
            self.adjoint.append(Row(_bar(name), expr, g, block))
        self.adjoint.reverse()  # reverse mode runs from the output back to the inputs

    def operand(self, a):
        """A node input as it reads in an expression: its v-name, or a constant's value."""
        if id(a) in self.names:
            return self.names[id(a)]
        data = a.data if isinstance(a, Tensor) else np.asarray(a)
        return number(data) if data.size == 1 else f"c{data.shape}"

    def _tables(self):
        wrt = self.input_names[self.wrt]
        return [("Evaluation trace", self.evaluation),
                (f"Forward-mode derivative trace (seeded on {wrt})", self.forward),
                ("Reverse-mode adjoint trace", self.adjoint)]

    def _columns(self, rows):
        show_block = any(r.block for r in self.evaluation)
        show_shape = any(np.ndim(r.value) for r in self.evaluation)
        head = (["name", "expression"] + (["shape"] if show_shape else []) + ["value"]
                + (["block"] if show_block else []))
        body = [[r.name, r.expr] + ([shape_text(r.value)] if show_shape else [])
                + [summary(r.value)] + ([r.block] if show_block else []) for r in rows]
        return head, body

    def to_text(self):
        parts = []
        for title, rows in self._tables():
            head, body = self._columns(rows)
            widths = [max(_width(row[i]) for row in [head] + body) for i in range(len(head))]
            lines = ["  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths)).rstrip()
                     for row in [head] + body]
            parts.append("\n".join([title, "-" * len(title)] + lines))
        return "\n\n".join(parts)

    def to_markdown(self):
        parts = []
        for title, rows in self._tables():
            head, body = self._columns(rows)
            lines = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"
                     for row in [head, ["---"] * len(head)] + body]
            parts.append(f"**{title}**\n\n" + "\n".join(lines))
        return "\n\n".join(parts)

    def _repr_html_(self):
        parts = []
        for title, rows in self._tables():
            head, body = self._columns(rows)
            cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
            trs = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                          for row in body)
            parts.append(f"<h4>{html.escape(title)}</h4><table><tr>{cells}</tr>{trs}</table>")
        return "".join(parts)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return f"<Trace of {len(self.evaluation)} values; print() it for the tables>"
