"""Pictures of the computational graph: Graphviz DOT text, and rendering it to SVG/PNG/PDF.

``to_dot(y)`` draws what ``y`` was computed from (draw before ``backward()``, or pass
``retain_graph=True``: a backward pass frees the graph); ``to_dot(wengert.trace(f, ...))``
draws a trace with its v-names, values and adjoints. Value nodes are boxes (name, shape, value
or a summary, gradient when known), op nodes ellipses; ops recorded inside a
:func:`~wengert.blocks.block` sit in a cluster labelled with the block's name.
``render(obj, "graph.svg")`` needs the ``graphviz`` package and the ``dot`` program (extra
``viz``).
"""
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .blocks import block_scopes
from .errors import ArgumentError, MissingDependencyError
from .notation import number, shape_text, summary
from .pytree import flatten
from .tensor import Tensor
from .trace_table import Trace
from .walk import walk

__all__ = ["to_dot", "render"]

INSTALL_PACKAGE = "pip install 'wengert[viz]'  (the graphviz Python package)"
INSTALL_DOT = ("apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) or "
               "conda install graphviz")


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _value_label(name, data, grad):
    lines = [name]
    if shape_text(data):
        lines.append(shape_text(data))
    lines.append(summary(data))
    if grad is not None:
        lines.append(f"grad {summary(grad)}")
    return "\n".join(lines)


def _graph_of(obj):
    """``(tensors in order, name per tensor id, gradient per tensor id)`` for a tensor, a tree
    of tensors or a Trace."""
    if isinstance(obj, Trace):
        names = {id(t): f"{obj.names[id(t)]} = {label}" if label else obj.names[id(t)]
                 for t, label in zip(obj.tensors, obj.input_names + [""] * len(obj.tensors))}
        grads = {id(t): row.value for t, row in zip(obj.tensors, reversed(obj.adjoint))}
        return obj.tensors, names, grads
    roots = [t for t in flatten(obj)[0] if isinstance(t, Tensor)]
    if not roots:
        raise ArgumentError(f"to_dot: expected a Tensor, a tree of tensors or a Trace, got "
                            f"{type(obj).__name__}")
    tensors = walk(roots)
    names = {id(t): t.name or f"v{i}" for i, t in enumerate(tensors)}
    grads = {id(t): t.grad.data for t in tensors if isinstance(t.grad, Tensor)}
    return tensors, names, grads


def to_dot(obj, title=None):
    """Graphviz DOT text of ``obj``'s graph (see the module docstring)."""
    tensors, names, grads = _graph_of(obj)
    ids = {id(t): f"t{i}" for i, t in enumerate(tensors)}
    clusters = {(): []}  # block path -> statements inside it
    edges, consts = [], 0
    for t in tensors:
        node = t._node
        label = _value_label(names[id(t)], t.data, grads.get(id(t)))
        value = f"{ids[id(t)]} [shape=box, label={_quote(label)}];"
        if node is None or node.inputs is None or _is_input(obj, t):
            clusters[()].append(value)
            continue
        path = block_scopes(node)
        for k in range(1, len(path) + 1):
            clusters.setdefault(path[:k], [])
        op = f"op{ids[id(t)][1:]}"
        clusters[path] += [f"{op} [shape=ellipse, style=filled, fillcolor=\"#e8e8f4\", "
                           f"label={_quote(node.prim.name)}];", value]
        for a in node.inputs:
            if isinstance(a, Tensor) and id(a) in ids:
                edges.append(f"{ids[id(a)]} -> {op};")
            else:
                data = a.data if isinstance(a, Tensor) else a
                text = number(data) if np.size(data) == 1 else f"const {shape_text(data)}"
                clusters[()].append(f"c{consts} [shape=plaintext, label={_quote(text)}];")
                edges.append(f"c{consts} -> {op};")
                consts += 1
        edges.append(f"{op} -> {ids[id(t)]};")
    lines = ["digraph wengert {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];']
    if title:
        lines.append(f"  label={_quote(title)}; labelloc=t;")
    lines += _emit_clusters(clusters, (), 1)
    lines += ["  " + e for e in edges] + ["}"]
    return "\n".join(lines) + "\n"


def _is_input(obj, t):
    """Inputs of a trace are drawn as plain values, not as the alias ops that made them."""
    return isinstance(obj, Trace) and any(t is x for x in obj.tensors[:len(obj.input_names)])


def _emit_clusters(clusters, path, depth):
    pad = "  " * depth
    lines = [pad + s for s in clusters[path]]
    children = [p for p in clusters if len(p) == len(path) + 1 and p[:len(path)] == path]
    for child in children:
        index = sorted(clusters).index(child)
        lines += [f"{pad}subgraph cluster_{index} {{", f"{pad}  label={_quote(child[-1][0])};",
                  f"{pad}  style=rounded; color=\"#8888aa\";"]
        lines += _emit_clusters(clusters, child, depth + 1)
        lines.append(pad + "}")
    return lines


#: The file name endings render draws to: DOT text, then Graphviz's output formats.
DOT_SUFFIXES = ("dot", "gv")
RENDER_SUFFIXES = (*DOT_SUFFIXES, "svg", "png", "pdf")


def render_format(path):
    """The format ``render`` draws ``path`` in (its suffix, lower case); raises
    :class:`ArgumentError` for a name it cannot draw to, before anything is computed."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in RENDER_SUFFIXES:
        raise ArgumentError(f"render: cannot draw to {Path(path).name!r}; use a .svg, .png, "
                            ".pdf, .dot or .gv file name")
    return fmt


def render(obj, path, title=None):
    """Draw ``obj``'s graph to ``path``: ``.svg``, ``.png`` or ``.pdf`` through Graphviz, or
    ``.dot``/``.gv`` as DOT text (no Graphviz needed). Creates the parent folder; the file is
    written atomically (complete or not at all). Returns the path."""
    path = Path(path)
    fmt = render_format(path)
    dot = to_dot(obj, title)
    if fmt in DOT_SUFFIXES:
        data = dot.encode()
    else:
        data = _graphviz(dot, fmt)
    with atomic_write(path) as f:
        f.write(data)
    return path


def _graphviz(dot, fmt):
    try:
        import graphviz
    except ImportError:
        raise MissingDependencyError(f"render needs the graphviz package: {INSTALL_PACKAGE}, "
                                     f"and the dot program: {INSTALL_DOT}") from None
    try:
        return graphviz.Source(dot).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise MissingDependencyError(f"render needs Graphviz's dot program, which is not on "
                                     f"PATH: {INSTALL_DOT}") from None
