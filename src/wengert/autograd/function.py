"""``wengert.autograd.Function``: PyTorch's API for an op with a hand-written backward.

::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):                 # tensors in, tensors out, nothing recorded
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, dy):               # one gradient per output in, per input out
            y, = ctx.saved_tensors
            return dy * y

    y = Exp.apply(x)

It is a :class:`~wengert.autodiff.primitive.Primitive` underneath, as a unit is
(:mod:`wengert.units`): ``apply`` runs ``forward`` under ``no_grad`` (forward mode off too)
and records one node whose VJP rules run ``backward`` once per backward pass, so the one
engine walks it like any op. The differences from a unit are PyTorch's: ``forward`` and
``backward`` take and return Tensors, state travels on ``ctx``, and only top-level Tensor
arguments are inputs.

* A forward returning a tuple has several outputs. With one differentiable (floating, not
  marked non-differentiable) output the node's output is that tensor; with several, the node
  outputs a hidden packed vector, one block per output (an indicator entry and the flattened
  gradient), and each output is a small node taking its block. Their gradients so arrive at
  the Function's node together, in one call of ``backward``, and the indicator says which
  outputs got none in this pass (None for them, or zeros while ``ctx.materialize_grads``).
  The packed vector's data is a broadcast zero: it costs no memory.
* Saved tensors live on the node (its ``residuals`` slot), so a backward pass without
  ``retain_graph`` frees them, as PyTorch's; saved outputs are held weakly, so a node and its
  output make no reference cycle. Each saved tensor's version is taken when ``apply`` ends:
  ``ctx.saved_tensors`` refuses one modified in place since.
* ``backward`` runs on Tensors. In an ordinary backward pass they wrap the engine's arrays
  and nothing records; under ``create_graph=True`` or forward-over-reverse they are the
  engine's recorded Tensors, so a backward written with wengert ops is differentiated again,
  unless :func:`once_differentiable` marks it.
* ``ctx.mark_dirty(x)``: the write ``forward`` made into ``x`` is recorded with the machinery
  of in-place ops (:func:`wengert.ops.methods.write_in_place`): ``x`` is rebased onto the
  Function's node, and nodes that took ``x`` before take its old value.
* ``jvp(ctx, *tangents)`` gives forward mode (``jvp``, ``jacfwd``, ``hvp``); it runs once
  per forward-mode level that an input has a tangent at, during ``apply``.
* An input that ``forward`` returns as it is (not marked dirty) comes back as a new tensor
  viewing it, with the Function's node.

A None gradient that ``backward`` returns for an input that requires grad is PyTorch's "no
gradient along this edge": the rule returns None and the engine passes nothing on, so a leaf
that no other path reaches keeps ``.grad`` None, and ``autograd.grad`` gives None for it
(with ``allow_unused=True``; otherwise the error for an unused input).

Differences from PyTorch: a write into an input returned as it is is recorded on that input
too, where PyTorch refuses the write. ``jvp`` may return a new tangent for an input marked
dirty (PyTorch insists on the tangent modified in place).
Under :func:`wengert.vmap` a Function runs once per example (forward, and backward for each
example's node); a ``vmap`` staticmethod and ``generate_vmap_rule`` are accepted and not used.
"""
import functools
import inspect
import warnings
import weakref

import numpy as np

from ..autodiff.anomaly import report_forward
from ..autodiff.batching import per_example
from ..autodiff.grad_mode import no_grad
from ..autodiff.primitive import ARRAY, Primitive, _record, raise_freed
from ..autodiff.state import ANOMALY, STATE, mark_modified
from ..creation import zeros_like
from ..errors import GraphError, ShapeError
from ..ops.methods import _check_writable, _record_write, _stand_in
from ..ops.shape import alias, concatenate
from ..sparse import SlicedGrad
from ..tensor import FRESH, Tensor
from ..units import _broadcasts_from, once_per_node

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` that ``forward`` (or ``setup_context``), ``backward`` and ``jvp`` of one
    application share. Store anything on it (``ctx.k = k``); tensors needed in backward go
    through :meth:`save_for_backward`, so that in-place changes to them are caught.

    ``ctx.needs_input_grad``: one bool per forward input, True for a Tensor that requires
    grad. ``ctx.materialize_grads``: whether missing output gradients arrive as zeros (see
    :meth:`set_materialize_grads`)."""

    def __init__(self, function, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._function = function
        self._to_save = ()          # save_for_backward's tensors until apply ends
        self._for_forward = None    # save_for_forward's, read by jvp
        self._dirty = ()
        self._non_differentiable = ()
        self._node = None           # weakref to the node holding the saved tensors
        self._pass = None           # (namespace, node output) while backward runs
        self._inputs = ()           # per forward input: (shape, dtype) of a Tensor, else None
        self._outputs = ()          # per forward output: (shape, dtype) of a Tensor, else None
        self._layout = None         # position of the one differentiable output, or
        #                             {position: (start, shape, dtype)} of the packed ones

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (Tensors or None) for ``backward``'s :attr:`saved_tensors`. Called
        again, it replaces what was saved."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but "
                                f"argument {i} is of type {type(t).__name__}. Hint: keep "
                                "other values as attributes of ctx (ctx.k = k)")
        self._to_save = tensors

    def save_for_forward(self, *tensors):
        """Keep ``tensors`` for ``jvp``: there :attr:`saved_tensors` gives these instead of
        those saved for backward."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_forward can only save tensors (or None), but "
                                f"argument {i} is of type {type(t).__name__}")
        self._for_forward = tensors

    def mark_dirty(self, *tensors):
        """Say that ``forward`` modified these inputs in place; it must return them."""
        self._dirty = _only_tensors("mark_dirty", tensors)

    def mark_non_differentiable(self, *tensors):
        """Say that these outputs get no gradient (indices, masks): they do not require grad,
        and ``backward`` still receives a gradient (zeros, or None) for each."""
        self._non_differentiable = _only_tensors("mark_non_differentiable", tensors)

    def set_materialize_grads(self, value):
        """With False, ``backward`` gets None (not zeros) for outputs that received no
        gradient, and ``jvp`` None for inputs without a tangent."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """The tensors given to :meth:`save_for_backward` (in ``jvp``: to
        :meth:`save_for_forward`, if called). In backward, a tensor modified in place since
        ``apply`` ended raises GraphError, and so does reading them after a backward pass
        without ``retain_graph`` freed them."""
        if self._node is None:  # still inside apply (forward, setup_context, jvp)
            return self._for_forward if self._for_forward is not None else self._to_save
        node = self._node()
        if node is None:
            raise GraphError(f"autograd.Function '{self._function.__name__}': its saved "
                             "tensors are gone with its graph. Hint: read ctx.saved_tensors "
                             "inside backward")
        if node.residuals is None:
            raise_freed(node)
        return tuple(_unpack(self, record) for record in node.residuals)


def _only_tensors(method, tensors):
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise GraphError(f"ctx.{method} accepts only tensors, but argument {i} is of type "
                             f"{type(t).__name__}")
    return tensors


class _Saved:
    """One tensor saved for backward, with its version when ``apply`` ended. An output (at
    ``position``) is held weakly, since it holds the node that holds this record; ``data``
    and, for a packed output, ``tangents`` rebuild it if it is gone."""

    __slots__ = ("tensor", "ref", "position", "data", "tangents", "cell", "version")

    def __init__(self, tensor, position, packed):
        self.cell = tensor._version_cell()
        self.version = self.cell[0]
        self.position = position
        if position is None:
            self.tensor, self.ref = tensor, None
        else:
            self.tensor, self.ref = None, weakref.ref(tensor)
            self.data = tensor.data
            self.tangents = tensor._tangents if packed else None


def _unpack(ctx, record):
    if record is None:  # None was saved
        return None
    tensor = record.tensor if record.ref is None else record.ref()
    if record.cell[0] != record.version:
        shown = tensor if tensor is not None else Tensor._wrap(record.data)
        raise GraphError(
            f"autograd.Function '{ctx._function.__name__}': a tensor it saved for backward "
            f"(shape {shown.shape} {shown.dtype}) was modified in place since: it is at "
            f"version {record.cell[0]}, expected version {record.version}. Hint: use an "
            "out-of-place op (x = x + y instead of x += y) or .clone() the tensor before "
            "modifying it")
    if tensor is None:
        tensor = _rebuild_output(ctx, record)
    return tensor


def _rebuild_output(ctx, record):
    """An output that was dropped, as a tensor in the graph again when the backward builds
    one. Only a packed output can be: the engine holds the output whose node it runs."""
    ns, ans = ctx._pass or (ARRAY, None)
    if ns is not ARRAY and isinstance(ctx._layout, int):
        return ans  # the engine's tensor for the one output
    tensor = Tensor._wrap(record.data, None, False, record.cell)
    if ns is ARRAY:
        return tensor
    tensor._tangents = record.tangents
    if STATE.grad_enabled and ans.requires_grad:  # ans is the packed vector here
        _record(_select_prim(ctx._function), tensor, (ans,), (ans.data,),
                {"_fn_ctx": ctx, "_fn_output": record.position}, record.data, record.cell)
    return tensor


class Function:
    """Base class of a user op with hand-written derivatives, as ``torch.autograd.Function``
    (see the module docstring). Define static methods ``forward(ctx, *args)`` (or
    ``forward(*args)`` with ``setup_context(ctx, inputs, output)``), ``backward(ctx,
    *grad_outputs)`` (or its alias ``vjp``) and optionally ``jvp(ctx, *tangents)``; call
    ``MyFunction.apply(*args)``."""

    generate_vmap_rule = False  # accepted and unused: under vmap a Function runs per example

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._prims = {}  # number of tensor inputs -> the node's Primitive, plus "select"

    @staticmethod
    def forward(*args, **kwargs):
        """The op on Tensors (recorded nothing). Override it."""
        raise GraphError("an autograd.Function must implement forward: define "
                         "@staticmethod forward(ctx, *args)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: fill ``ctx`` from the ``inputs`` tuple and ``forward``'s ``output``; a
        ``forward`` without ``ctx`` goes with it."""
        raise GraphError("setup_context is not implemented")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """One gradient per forward input (None for non-tensor inputs and those that need
        none) from one gradient per output. Override it (or :meth:`vjp`)."""
        raise GraphError("an autograd.Function must implement backward (or vjp) to be "
                         "differentiated in reverse mode")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """The output tangents (one per output) from one tangent per input; optional,
        needed by forward mode."""
        raise GraphError("an autograd.Function must implement jvp to be differentiated in "
                         "forward mode")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the Function on ``args`` and record it (see the module docstring); keyword
        arguments are bound to forward's parameters by position, as PyTorch does."""
        return _apply(cls, *args, **kwargs)


@per_example  # forward and backward read their inputs' values
def _apply(cls, *args, **kwargs):
    if cls.forward is Function.forward:
        raise GraphError(f"autograd.Function '{cls.__name__}' does not implement forward. "
                         "Hint: define @staticmethod forward(ctx, *args)")
    separate = cls.setup_context is not Function.setup_context
    inputs = _bind(cls, args, kwargs, separate)
    ctx = FunctionCtx(cls, tuple(isinstance(a, Tensor) and a.requires_grad
                                 for a in inputs))
    levels = STATE.fw_levels
    STATE.fw_levels = ()  # forward mode goes through jvp, not through forward's ops
    try:
        with no_grad():
            if separate:
                output = cls.forward(*inputs)
                cls.setup_context(ctx, inputs, output)
            else:
                output = cls.forward(ctx, *inputs)
    finally:
        STATE.fw_levels = levels
    return _wrap_outputs(cls, ctx, inputs, output, levels)


def _bind(cls, args, kwargs, separate):
    """The forward inputs, as PyTorch 2.13 makes them: keyword arguments take their
    parameter's position; with ``setup_context`` the defaults fill the rest."""
    if not kwargs and not separate:
        return args
    sig = inspect.signature(cls.forward)
    params = list(sig.parameters.values())[0 if separate else 1:]
    sig = sig.replace(parameters=params)
    for name in kwargs:
        p = sig.parameters.get(name)
        if p is None or p.kind is not p.POSITIONAL_OR_KEYWORD:
            raise TypeError(f"{cls.__name__}.forward() got an unexpected keyword argument "
                            f"'{name}': apply passes keyword arguments by position, as "
                            "PyTorch's, so keyword-only parameters and **kwargs take none")
    bound = sig.bind(*args, **kwargs)
    if separate:
        bound.apply_defaults()
    elif bound.kwargs:  # a parameter before a given keyword was left out
        gap = next(i for i, p in enumerate(params) if p.name not in bound.arguments)
        raise TypeError(f"{cls.__name__}.forward() missing required argument "
                        f"'{params[gap].name}' (position {gap}): apply passes keyword "
                        "arguments by position, as PyTorch's. Hint: pass it too")
    return bound.args


def _function_prim(cls, n):
    """The Primitive of ``cls``'s nodes with ``n`` tensor inputs: one VJP rule per input, all
    served by one call of backward."""
    prim = cls._prims.get(n)
    if prim is None:
        prim = cls._prims[n] = Primitive(
            cls.__name__, cls.forward, vjp=[functools.partial(_input_grad, k) for k in range(n)],
            saves="none", register=False, doc=cls.__doc__)
    return prim


def _select_prim(cls):
    """The Primitive of an output's node when several are packed (see the module docstring)."""
    prim = cls._prims.get("select")
    if prim is None:
        prim = cls._prims["select"] = Primitive(
            f"{cls.__name__}.output", cls.forward, vjp=[_block_grad], saves="none",
            register=False)
    return prim


def _alias(t):
    """A new tensor viewing ``t`` (an input returned as an output): it shares its data and
    version, and a write into it is recorded on ``t`` too."""
    view = Tensor._wrap(t.data, None, False, t._version_cell())
    view._view_src = (t, alias.prim, {})
    return view


def _wrap_outputs(cls, ctx, inputs, output, levels):
    multiple = isinstance(output, tuple)
    outs = list(output) if multiple else [output]
    name = cls.__name__
    for d in ctx._dirty:
        if not any(d is o for o in outs):
            raise GraphError(f"autograd.Function '{name}': a tensor marked dirty (shape "
                             f"{d.shape}) is not among forward's outputs; the inputs "
                             "modified in place must all be returned")
        if not any(d is a for a in inputs):
            warnings.warn(f"autograd.Function '{name}': ctx.mark_dirty() received a tensor "
                          "that is not an input; only inputs modified in place belong there",
                          stacklevel=3)
    tensors = [a for a in inputs if isinstance(a, Tensor)]
    ids = {id(a) for a in tensors}
    finals, values, diff = list(outs), list(outs), []
    for j, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        dirty = id(o) in ids and any(o is d for d in ctx._dirty)
        if not dirty and (id(o) in ids or o.requires_grad or o._node is not None):
            finals[j] = values[j] = _alias(o)
        if o.dtype.kind == "f" and not any(o is n for n in ctx._non_differentiable):
            diff.append(j)
            if dirty:  # carries the node until _record_write rebases o onto it
                values[j] = Tensor._wrap(o.data)
    ctx._inputs = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None for a in inputs)
    ctx._outputs = tuple((o.shape, o.dtype) if isinstance(o, Tensor) else None for o in finals)

    grad_on = STATE.grad_enabled
    record = grad_on and bool(diff) and any(a.requires_grad for a in tensors)
    olds = {}
    if grad_on:
        for d in ctx._dirty:
            _check_writable(d, f"autograd.Function '{name}' (marked dirty)")
            if record and id(d) in ids:
                olds[id(d)] = _stand_in(d, d.data)
    prim = _function_prim(cls, len(tensors))
    node_inputs = tuple(olds.get(id(a), a) for a in tensors)
    arrays = tuple(a.data for a in tensors)
    node = _record_node(cls, ctx, prim, node_inputs, arrays, values, diff) if record else None

    if levels and diff and any(a._tangents and any(lv in a._tangents for lv in levels)
                               for a in tensors):
        _push_tangents(cls, ctx, inputs, values, diff, multiple, levels)
    for j, o in enumerate(outs):
        if isinstance(o, Tensor) and id(o) in ids and any(o is d for d in ctx._dirty):
            mark_modified(o)
            if values[j] is not o and (node is not None or values[j]._tangents is not None):
                _record_write(o, olds.get(id(o)), values[j])

    if node is not None:
        packed = len(diff) > 1
        node.residuals = tuple(
            None if t is None else
            _Saved(t, next((j for j in diff if finals[j] is t), None), packed)
            for t in ctx._to_save)
        ctx._node = weakref.ref(node)
    # the node holds ctx: it must not hold the outputs (a dirty input is one) in turn
    ctx._to_save, ctx._for_forward = (), None
    ctx._dirty = ctx._non_differentiable = ()
    if ANOMALY[0]:
        for j in diff:
            report_forward(prim, node, values[j].data, arrays)
    return tuple(finals) if multiple else finals[0]


def _record_node(cls, ctx, prim, inputs, arrays, values, diff):
    """Record the Function's node (and, for several differentiable outputs, one node per
    output over the packed vector); returns the Function's node."""
    params = {"_fn_ctx": ctx}
    if len(diff) == 1:
        v = values[diff[0]]
        ctx._layout = diff[0]
        return _record(prim, v, inputs, arrays, params, v.data, v._version)
    dtype = np.result_type(*[values[j].dtype for j in diff])
    layout, start = {}, 0
    for j in diff:
        layout[j] = (start, values[j].shape, values[j].dtype)
        start += 1 + values[j].size  # the indicator, then the values
    ctx._layout = layout
    packed = Tensor._wrap(np.broadcast_to(np.zeros((), dtype), (start,)))
    node = _record(prim, packed, inputs, arrays, params, packed.data, FRESH)
    select = _select_prim(cls)
    for j in diff:
        v = values[j]
        _record(select, v, (packed,), (packed.data,), {"_fn_ctx": ctx, "_fn_output": j},
                v.data, v._version)
    return node


def _block_grad(ns, g, ans, packed, _fn_ctx, _fn_output):
    """An output's gradient as the packed vector's: 1 at its indicator, then its values."""
    start, _, _ = _fn_ctx._layout[_fn_output]
    size = g.size
    if ns is ARRAY:
        values = np.empty(size + 1, packed.dtype)
        values[0] = 1
        values[1:] = g.reshape(-1)
        return SlicedGrad(slice(start, start + size + 1), values, packed.shape)
    zeros = np.zeros
    return concatenate([zeros(start, packed.dtype), np.ones(1, packed.dtype),
                        g.reshape(-1).astype(packed.dtype),
                        zeros(packed.shape[0] - start - size - 1, packed.dtype)])


def _input_grad(k, ns, g, ans, /, *inputs, _fn_ctx):
    """VJP rule for tensor input ``k``: backward runs once for all of them. None (backward's
    None) tells the engine that no gradient flows to that input, as PyTorch's None does."""
    return once_per_node(_fn_ctx, g, ans,
                         lambda: _run_backward(_fn_ctx, ns, g, ans, inputs))[k]


def _run_backward(ctx, ns, g, ans, inputs):
    cls = ctx._function
    if cls.backward is not Function.backward and cls.vjp is not Function.backward:
        raise GraphError(f"autograd.Function '{cls.__name__}' implements both backward and "
                         "vjp; implement one of them")
    user = cls.vjp if cls.vjp is not Function.backward else cls.backward
    if user is Function.backward:
        raise GraphError(f"autograd.Function '{cls.__name__}' does not implement backward "
                         "(or vjp), so reverse mode cannot go through it. Hint: define "
                         "@staticmethod backward(ctx, *grad_outputs)")
    grad_outputs = _output_grads(ctx, ns, g)
    ctx._pass = (ns, ans)
    try:
        result = user(ctx, *grad_outputs)
    finally:
        ctx._pass = None
    return _input_grads(ctx, ns, result, inputs + (ans,))


def _output_grads(ctx, ns, g):
    """One gradient per forward output for backward, as Tensors: None (or zeros while
    materializing) for outputs no gradient reached and for non-tensor outputs."""
    grads = [None] * len(ctx._outputs)
    layout = ctx._layout
    if isinstance(layout, int):
        grads[layout] = g
    else:
        marks = g.data if isinstance(g, Tensor) else g
        for j, (start, shape, dtype) in layout.items():
            if marks[start]:  # this output's node ran in this pass
                block = g[start + 1:start + 1 + int(np.prod(shape))].reshape(shape)
                grads[j] = block if block.dtype == dtype else block.astype(dtype)
    for j, spec in enumerate(ctx._outputs):
        if grads[j] is None and spec is not None and ctx.materialize_grads:
            grads[j] = np.zeros(*spec)
        if isinstance(grads[j], np.ndarray):
            grads[j] = Tensor._wrap(grads[j])
    return grads


def _input_grads(ctx, ns, result, held):
    """backward's result, checked as PyTorch checks it, as one gradient per tensor input
    (arrays when nothing records; None where the input needs none). An array that is one
    of ``held`` (the node's input and output arrays), or another input's gradient, is
    copied: the engine may add into a gradient in place."""
    name = ctx._function.__name__
    result = result if isinstance(result, tuple) else (result,)
    n = len(ctx._inputs)
    if len(result) > n and all(r is None for r in result[n:]):
        result = result[:n]
    if len(result) != n:
        raise GraphError(f"autograd.Function '{name}': backward returned {len(result)} "
                         f"gradients, expected {n} (one per forward input, None for the "
                         "non-tensor ones and those that need none)")
    grads = []
    for i, (gi, spec) in enumerate(zip(result, ctx._inputs)):
        if spec is None:
            if gi is not None:
                raise GraphError(f"autograd.Function '{name}': backward returned a gradient "
                                 f"for input {i}, which is not a Tensor; return None there")
            continue
        if gi is None or not ctx.needs_input_grad[i]:
            grads.append(None)
            continue
        if not isinstance(gi, Tensor):
            raise GraphError(f"autograd.Function '{name}': backward returned a "
                             f"{type(gi).__name__} for input {i}; expected a Tensor or None")
        shape = spec[0]
        if gi.shape != shape and not _broadcasts_from(shape, gi.shape):
            raise ShapeError(f"autograd.Function '{name}': backward returned a gradient of "
                             f"shape {gi.shape} for input {i} of shape {shape}. Hint: return "
                             "gradients shaped like the inputs")
        if ns is ARRAY:
            gi = gi.data
            if (any(gi is other for other in grads)
                    or any(np.may_share_memory(gi, a) for a in held)):
                gi = gi.copy()
        grads.append(gi)
    return grads


def _push_tangents(cls, ctx, inputs, values, diff, multiple, levels):
    """Forward mode: the output tangents from ``jvp``, for each open level at which an input
    has a tangent; the rule for level k runs with only the levels before it visible (see
    :func:`wengert.autodiff.primitive._push_tangents`)."""
    name = cls.__name__
    for k, level in enumerate(levels):
        tangents, seen = [], False
        for a in inputs:
            t = None
            if isinstance(a, Tensor):
                t = a._tangents.get(level) if a._tangents else None
                seen = seen or t is not None
                if t is None and ctx.materialize_grads:
                    t = zeros_like(a)
            tangents.append(t)
        if not seen:
            continue
        if cls.jvp is Function.jvp:
            raise GraphError(f"autograd.Function '{name}' does not implement jvp, so forward "
                             "mode (jvp, jacfwd, hvp) cannot go through it. Hint: define "
                             "@staticmethod jvp(ctx, *tangents) returning the output tangents")
        saved = STATE.fw_levels
        STATE.fw_levels = levels[:k]
        try:
            out = cls.jvp(ctx, *tangents)
        finally:
            STATE.fw_levels = saved
        out = out if isinstance(out, tuple) else (out,)
        if len(out) != len(values):
            raise GraphError(f"autograd.Function '{name}': jvp returned {len(out)} tangents, "
                             f"expected {len(values)} (one per output)")
        for j in diff:
            t, v = out[j], values[j]
            if t is None:
                continue
            if not isinstance(t, Tensor):
                raise GraphError(f"autograd.Function '{name}': jvp returned a "
                                 f"{type(t).__name__} for output {j}; expected a Tensor")
            if t.shape != v.shape:
                raise ShapeError(f"autograd.Function '{name}': jvp returned a tangent of "
                                 f"shape {t.shape} for output {j} of shape {v.shape}. Hint: "
                                 "return tangents shaped like the outputs")
            v._tangents = {**(v._tangents or {}),
                           level: t if t.dtype == v.dtype else t.astype(v.dtype)}


def once_differentiable(fn):
    """Decorate ``backward`` so that it is not differentiated: it runs under ``no_grad``,
    and where its result would be differentiated (``create_graph=True`` with upstream
    gradients that require grad) that result raises GraphError when it is, as PyTorch's."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            outputs = fn(ctx, *args)
        if not STATE.grad_enabled or not any(isinstance(a, Tensor) and a.requires_grad
                                             for a in args):
            return outputs
        name = getattr(getattr(ctx, "_function", None), "__name__", fn.__qualname__)

        def guarded(v):
            if not isinstance(v, Tensor):
                return v
            return _TWICE.apply(Tensor._wrap(v.data, None, True), function=name)
        return tuple(map(guarded, outputs)) if isinstance(outputs, tuple) else guarded(outputs)
    return wrapper


def _differentiated_twice(ns, g, ans, x, function):
    raise GraphError(f"trying to differentiate twice the backward of autograd.Function "
                     f"'{function}', which is marked @once_differentiable. Hint: write its "
                     "backward with wengert ops and drop the decorator")


_TWICE = Primitive("once_differentiable", lambda x, function: x, vjp=[_differentiated_twice],
                   saves="none", register=False)
