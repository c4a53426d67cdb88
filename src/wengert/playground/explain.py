"""The computational graph and the Wengert trace tables of the current model at one point
(x1, x2): the features, every layer, and the loss when a label is given.

Both record the forward pass from the coordinates themselves, so a student sees the whole
chain: x1, x2 -> features -> Linear, activation, ... -> logit -> P(class 1) (or the loss)."""
import numpy as np

from ..nn import Linear
from ..nn import functional as F
from ..notation import summary
from ..ops.elementwise import sigmoid
from ..tensor import Tensor
from ..trace_table import trace
from ..viz import to_dot
from . import problem


def parameter_names(session):
    """Lecture names of the model's parameters, input to output: W1, b1, W2, b2, ..."""
    return [f"{kind}{i}" for i in range(1, len(problem.linear_layers(session.model)) + 1)
            for kind in ("W", "b")]


def point_function(session, label=None):
    """``f(x1, x2, W1, b1, W2, b2, ...)``: the model's output at one point from its
    parameters, P(class 1) without a label, the binary cross-entropy with ``label`` (0 or 1)
    otherwise. The parameters are arguments so that a trace lists their adjoints (the
    gradients backprop computes) and draws them as named inputs."""
    layers, names = list(session.model), session.config["features"]

    def f(x1, x2, *params):
        h = problem.features(x1, x2, names).reshape(1, -1)
        weights = iter(params)
        for layer in layers:
            if not isinstance(layer, Linear):
                h = layer(h)
                continue
            h = F.linear(h, next(weights), next(weights))
        logit = h.reshape(())
        if label is None:
            return sigmoid(logit)
        return F.binary_cross_entropy_with_logits(logit, Tensor(np.float32(label)))
    return f


def _parameters(session):
    """The parameters' arrays in ``point_function``'s order."""
    return [p.data
            for layer in problem.linear_layers(session.model)
            for p in (layer.weight, layer.bias)]


def graph_dot(session, x1, x2, label=None):
    """Graphviz DOT text of the forward graph (and the loss) at (x1, x2)."""
    with session.lock:
        inputs = [Tensor(np.float32(x1)), Tensor(np.float32(x2))]
        inputs += [Tensor(p.copy()) for p in _parameters(session)]
        for t, name in zip(inputs, ["x1", "x2"] + parameter_names(session)):
            t.name = name
            t.requires_grad_(True)
        out = point_function(session, label)(*inputs)
    what = "P(class 1)" if label is None else f"loss for label {label}"
    return to_dot(out, title=f"{what} at x1={x1:g}, x2={x2:g}")


def render_svg(dot):
    """The SVG text of ``dot`` drawn by Graphviz, or None when the graphviz package or the dot
    program is missing (the page then shows the DOT text)."""
    try:
        import graphviz
    except ImportError:
        return None
    try:
        return graphviz.Source(dot).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return None


def _rows(rows):
    return [{"name": r.name, "expr": r.expr, "value": summary(r.value)} for r in rows]


def trace_tables(session, x1, x2, label=None):
    """The Wengert trace at (x1, x2): Markdown tables and the three tables as rows of
    ``{"name", "expr", "value"}`` (values as short text)."""
    with session.lock:
        t = trace(point_function(session, label), float(x1), float(x2),
                  *_parameters(session), names=["x1", "x2"] + parameter_names(session))
    return {"markdown": t.to_markdown(), "evaluation": _rows(t.evaluation),
            "forward": _rows(t.forward), "adjoint": _rows(t.adjoint)}
