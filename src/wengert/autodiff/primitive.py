"""Primitives: the one place an op's forward, reverse (VJP) and forward (JVP) rules live.

A primitive is ``Primitive(name, forward, vjp=[rule per input], jvp=[rule per input])``.

* ``forward(*arrays, **params)`` is plain NumPy.
* ``vjp[i](ns, g, ans, *args, **params)`` returns the gradient for input ``i`` in the
  *output's* shape or the input's shape; the engine sums it down to the input's shape
  (:func:`wengert.autodiff.engine` is the single place that unbroadcasts).
* ``jvp[i](ns, t, ans, *args, **params)`` returns the output tangent caused by input ``i``'s
  tangent ``t``; the output tangent is the sum over inputs.
* With ``residuals=True`` the forward returns ``(output, residuals)``: values it computed
  on the way that the VJP rules would otherwise compute again (the softmax of a
  cross-entropy). The node keeps them while the graph lives, and the rules receive them as
  the keyword ``residuals`` when they run on arrays; when they build a graph they get none
  and recompute, so that what they return is differentiable.

Rules are written against a namespace ``ns`` that has one function per primitive. When
nothing needs to be recorded, ``ns`` is :data:`ARRAY` (each name is the primitive's NumPy
forward, so a rule costs what the NumPy code costs); under ``create_graph=True`` or forward
mode it is :data:`TENSOR` (each name is the primitive itself), so the very same rule builds a
graph and higher derivatives are exact. Python operators (``g * y``) work in both.
"""
import inspect
import os

import numpy as np

from ..errors import GraphError, ShapeError, WengertError
from ..tensor import FRESH, Tensor
from .state import ANOMALY, DETOUR, GRAD_OFF, STATE, next_stamp
from .view_registry import ViewRegistry

_ndarray = np.ndarray
_asarray = np.asarray


class Namespace:
    """A plain attribute bag: ``ARRAY.exp`` is NumPy's exp, ``TENSOR.exp`` the primitive."""

    def __repr__(self):
        return f"<namespace {self._kind}: {len(vars(self)) - 1} ops>"


ARRAY = Namespace()
ARRAY._kind = "array"
TENSOR = Namespace()
TENSOR._kind = "tensor"

#: name -> Primitive, every primitive the library (or a user) registered.
REGISTRY = {}

# What a primitive's VJP rules read, which decides what the in-place check guards.
SAVES = ("inputs", "others", "output", "both", "none")


class Node:
    """One recorded application of a primitive: an entry of the Wengert list.

    ``inputs`` are the arguments as given (tensors and constants), ``arrays`` the same with
    tensors replaced by their data, ``out`` the output array and ``out_cell`` the output's
    version cell; ``residuals`` is set only for a primitive that declares them. ``seq`` is the
    clock tick it was recorded at (:func:`wengert.autodiff.state.next_stamp`): it increases
    with creation, so sorting nodes by it in reverse is a topological order for backward (an
    input is always made before its consumers), and a saved input or output whose cell has a
    later stamp was modified in place since. Nodes are built by the ops' fast paths (see
    :func:`_make_apply`)."""

    __slots__ = ("prim", "inputs", "arrays", "params", "out", "out_cell", "seq", "residuals",
                 "__weakref__")

    def __repr__(self):
        return f"<{self.prim.name} node>"

    @property
    def name(self):
        return self.prim.name


_new = object.__new__


def _forward_error(name, exc, arrays):
    """NumPy's broadcasting and axis errors, as a ShapeError naming the op and the shapes."""
    return ShapeError(f"{name}: {exc} (input shapes {[np.shape(a) for a in arrays]})")


def _make_apply(prim):
    """The op as a plain function (so it binds as a Tensor method without a descriptor call):
    unwrap tensors, run the NumPy forward, and record a Node only when an input requires grad
    and grad mode is on. This is the hot path of the whole library, so one- and two-input
    ops without parameters get their own copies with a fixed signature (no argument tuple,
    no keyword dict, no loop over arguments: :func:`_make_unary`, :func:`_make_binary`);
    anomaly mode, forward mode and every other call take the general path."""
    general = _make_general(prim)
    arity = len(prim.vjps) if prim.vjps is not None else None
    if prim.view or prim.residuals or arity not in (1, 2) or _rules_take_params(prim):
        apply = general
    elif arity == 1:
        apply = _make_unary(prim, general)
    else:
        apply = _make_binary(prim, general)
    _describe(apply, prim)
    if apply is not general and _fastpath is not None:
        # the same steps in C (see _fastpath.c); the Python function stays its fallback
        fast = _fastpath.FastOp(arity, prim.forward, apply, prim, prim.name)
        _describe(fast, prim)
        fast.__module__ = apply.__module__
        fast.__wrapped__ = apply  # inspect.signature and help() read the Python function
        return fast
    return apply


def _describe(op, prim):
    op.__name__ = op.__qualname__ = prim.name
    op.__doc__ = prim.__doc__
    op.prim = prim


def reflected(op):
    """``op`` (a two-input op) with its operands swapped, for Python's reflected operators:
    ``Tensor.__rsub__ = reflected(subtract)``, so ``1 - x`` is ``subtract(1, x)``. In C too
    where ``op`` is (see :func:`_make_apply`)."""
    def swapped(self, other):
        return op(other, self)
    swapped.__name__ = swapped.__qualname__ = f"reflected {op.__name__}"
    swapped.__doc__ = f"``{op.__name__}`` with its operands swapped."
    if _fastpath is None or type(op) is not _fastpath.FastOp:
        return swapped
    fast = _fastpath.FastOp(2, op.prim.forward, swapped, op.prim, op.prim.name, True)
    fast.__name__, fast.__qualname__, fast.__doc__ = (swapped.__name__, swapped.__qualname__,
                                                      swapped.__doc__)
    fast.prim, fast.__module__, fast.__wrapped__ = op.prim, swapped.__module__, swapped
    return fast


def _rules_take_params(prim):
    """Whether the op can be called with keyword parameters: the engine passes them to every
    rule, so an op takes none exactly when no rule accepts more than ``ns, g, ans`` and one
    argument per input (a rule whose signature cannot be read counts as accepting them)."""
    wanted = 3 + len(prim.vjps)
    for rule in prim.vjps + (prim.jvps or ()):
        if rule is None:
            continue
        try:
            sig = inspect.signature(rule)
        except (TypeError, ValueError):
            return True
        if len(sig.parameters) != wanted or any(
                p.kind is not p.POSITIONAL_OR_KEYWORD or p.default is not p.empty
                for p in sig.parameters.values()):
            return True
    return False


def _record(prim, result, inputs, arrays, params, out, out_cell):
    """Attach a Node for ``prim`` to ``result`` (which then requires grad); ``out_cell`` is
    the result's version cell."""
    node = _new(Node)
    node.prim = prim
    node.inputs = inputs
    node.arrays = arrays
    node.params = params
    node.out = out
    node.out_cell = out_cell
    node.seq = next_stamp()
    result._node = node
    result.requires_grad = True
    return node


_NO_PARAMS = {}  # the params of every node recorded by a fast path; never written to


def _make_unary(prim, general):
    """``op(x)`` for a Tensor ``x``: the general path's steps, unrolled."""
    forward = prim.forward
    name = prim.name
    state = STATE

    def apply(x):
        if DETOUR[0] or not isinstance(x, Tensor):
            return general(x)
        data = x.data
        try:
            out = forward(data)
        except WengertError:
            raise
        except ValueError as exc:
            raise _forward_error(name, exc, [data]) from None
        if type(out) is not _ndarray:
            out = _asarray(out)
        result = _new(Tensor)
        result.data = out
        if x.requires_grad and (not GRAD_OFF[0] or state.grad_enabled):
            _record(prim, result, (x,), (data,), _NO_PARAMS, out, FRESH)
        else:
            result.requires_grad = False
        return result

    return apply


def _make_binary(prim, general):
    """``op(x, y)`` with tensors, arrays or numbers: the general path's steps, unrolled."""
    forward = prim.forward
    name = prim.name
    state = STATE

    def apply(x, y):
        if DETOUR[0]:
            return general(x, y)
        if isinstance(x, Tensor):
            xd = x.data
            record = x.requires_grad
        else:
            xd = x
            record = False
        if isinstance(y, Tensor):
            yd = y.data
            record = record or y.requires_grad
        else:
            yd = y
        try:
            out = forward(xd, yd)
        except WengertError:
            raise
        except ValueError as exc:
            raise _forward_error(name, exc, [xd, yd]) from None
        if type(out) is not _ndarray:
            out = _asarray(out)
        result = _new(Tensor)
        result.data = out
        if record and (not GRAD_OFF[0] or state.grad_enabled):
            _record(prim, result, (x, y), (xd, yd), _NO_PARAMS, out, FRESH)
        else:
            result.requires_grad = False
        return result

    return apply


def _make_general(prim):
    """Any number of inputs, views, and anomaly mode (which checks every output)."""
    forward = prim.forward
    name = prim.name
    view = prim.view
    residuals = prim.residuals
    state = STATE

    def apply(*args, **params):
        if DETOUR[0] and state.vmap_levels:
            level = top_level(args, params)
            if level:
                return batch_apply(prim, args, params, level)
        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        try:
            if ANOMALY[0]:  # the anomaly check below reports it; no NumPy warning first
                with np.errstate(all="ignore"):
                    out = forward(*arrays, **params)
            else:
                out = forward(*arrays, **params)
        except WengertError:
            raise
        except ValueError as exc:  # NumPy's broadcasting and axis errors
            raise _forward_error(name, exc, arrays) from None
        if residuals:
            out, saved = out
        if type(out) is not _ndarray:
            out = _asarray(out)
        result = _new(Tensor)
        result.data = out
        if view and isinstance(args[0], Tensor):
            # a view shares its base's cell, so writes through either are seen by both, and
            # knows what it views, so a write into it is recorded on its base too
            if np.may_share_memory(out, arrays[0]):  # not a copy (advanced index...)
                result._version = args[0]._version_cell()
                result._view_src = (args[0], prim, params)
        if record and (not GRAD_OFF[0] or state.grad_enabled) and prim.vjps is not None:
            node = _record(prim, result, args, arrays, params, out, result._version)
            if residuals:
                node.residuals = saved
        else:
            node = None
            result.requires_grad = False
        if view and result._view_src is not None and state.grad_enabled:
            # a view with grad on (recorded or not): when a write into its base changes its
            # values, it is taken again from the base (see _rederive_views in
            # wengert.ops.methods), as PyTorch regenerates a view's grad_fn
            base = args[0]
            if base._views is None:
                base._views = ViewRegistry()
            base._views.add(result)
        if ANOMALY[0]:
            _check_anomaly(prim, node, out, arrays)
        if (DETOUR[0] and state.fw_levels and prim.jvps is not None
                and _has_tangents(args)):
            _push_tangents(prim, result, args, params, state)
        return result

    return apply


class Primitive:
    """An op with a NumPy forward and differentiation rules. Call it (or its faster
    ``.apply`` function) on tensors, arrays or scalars; it returns a Tensor and records a
    :class:`Node` when an input requires grad and grad mode is on.

    Arguments:
        name: unique name; also the attribute in the :data:`ARRAY`/:data:`TENSOR` namespaces.
        forward: ``forward(*arrays, **params) -> ndarray``.
        vjp: one rule per differentiable positional input (``None`` for an input with no
            gradient, e.g. a condition or an index); ``None`` altogether makes a
            non-differentiable op whose output never requires grad.
        jvp: one forward-mode rule per input, as ``vjp``.
        saves: which values the rules read: ``"inputs"``, ``"output"``, ``"both"``,
            ``"none"``, ``"others"`` (each input's rule reads only the other inputs, as
            ``x * y``), or a tuple giving, for each input, the inputs its rule reads (``linear``:
            ``((1,), (0,), ())``). Modifying those in place before backward raises an error;
            with ``"others"`` or a tuple, only when an input whose rule reads them needs a
            gradient.
        view: the output shares the first input's memory (reshape, transpose, slicing);
            it then shares its version counter so in-place changes are seen through views.
        residuals: the forward returns ``(output, residuals)`` and the VJP rules take a
            ``residuals`` keyword (see the module docstring).
        register: add the primitive to :data:`REGISTRY` (users' one-off units may not).
    """

    def __init__(self, name, forward, vjp=None, jvp=None, saves="inputs", view=False,
                 residuals=False, register=True, doc=None):
        if not (saves in SAVES or isinstance(saves, tuple) and vjp is not None
                and len(saves) == len(vjp)):
            raise ValueError(f"saves must be one of {SAVES} or a tuple with the inputs each "
                             f"rule reads (one entry per vjp rule), got {saves!r}")
        if vjp is not None and jvp is not None and len(vjp) != len(jvp):
            raise ValueError(f"primitive {name}: {len(vjp)} vjp rules but {len(jvp)} jvp rules")
        self.name = self.__name__ = name
        self.forward = forward
        self.vjps = tuple(vjp) if vjp is not None else None
        self.jvps = tuple(jvp) if jvp is not None else None
        self.saves_inputs = isinstance(saves, tuple) or saves in ("inputs", "others", "both")
        # reads[i]: the inputs rule i reads (None: any input may matter to any rule)
        n = len(vjp or ())
        self.reads = (saves if isinstance(saves, tuple) else
                      tuple(tuple(j for j in range(n) if j != i) for i in range(n))
                      if saves == "others" else None)
        self.saves_output = saves in ("output", "both")
        self.view = view
        self.residuals = residuals
        self.__doc__ = doc or forward.__doc__
        self.apply = _make_apply(self)
        if register:
            if name in REGISTRY:
                raise ValueError(f"a primitive named {name!r} is already registered")
            REGISTRY[name] = self
            setattr(ARRAY, name, _output_only(forward) if residuals else forward)
            setattr(TENSOR, name, self.apply)

    @property
    def differentiable(self):
        return self.vjps is not None

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __call__(self, *args, **params):
        return self.apply(*args, **params)


def _has_tangents(args):
    return any(isinstance(a, Tensor) and a._tangents is not None for a in args)


def _push_tangents(prim, result, args, params, state):
    """Forward mode: give ``result`` a tangent for every visible level that an input has a
    tangent at. Levels go outermost first, and the rule for level k runs with only the
    levels before k visible, so the tangent itself carries the outer levels' tangents."""
    levels = state.fw_levels
    saved = levels
    try:
        for k, level in enumerate(levels):
            terms = [(i, a._tangents[level]) for i, a in enumerate(args)
                     if isinstance(a, Tensor) and a._tangents is not None
                     and level in a._tangents]
            if not terms:
                continue
            state.fw_levels = levels[:k]
            total = None
            for i, t in terms:
                rule = prim.jvps[i]
                if rule is None:
                    continue
                ti = rule(TENSOR, t, result, *args, **params)
                if ti.shape != result.shape:
                    ti = TENSOR.broadcast_to(ti, result.shape)
                total = ti if total is None else total + ti
            state.fw_levels = saved
            if total is None:
                continue
            if total.dtype != result.dtype:
                total = total.astype(result.dtype)
            if result._tangents is None:
                result._tangents = {}
            result._tangents[level] = total
    finally:
        state.fw_levels = saved


def _check_anomaly(prim, node, out, arrays):
    from .anomaly import report_forward
    report_forward(prim, node, out, arrays)


def _output_only(forward):
    """A forward that returns ``(output, residuals)`` as one that returns the output."""
    def output(*arrays, **params):
        return forward(*arrays, **params)[0]
    return output


def defop(name, forward, vjp=None, jvp=None, saves="inputs", view=False, residuals=False,
          doc=None):
    """Register a primitive and return its op function (what the library exports)."""
    return Primitive(name, forward, vjp=vjp, jvp=jvp, saves=saves, view=view,
                     residuals=residuals, doc=doc).apply


def nondiff(name, forward, doc=None):
    """Register a primitive without derivatives (comparisons, sign, argmax...) and return its
    op function; its output never requires grad."""
    return defop(name, forward, saves="none", doc=doc)


def raise_freed(node):
    raise GraphError(
        f"trying to backward through the graph of '{node.prim.name}' a second time, but its "
        "saved values were freed after the first backward. Hint: pass retain_graph=True to "
        "the first backward() (or autograd.grad) if you need to backward twice")


def _load_fastpath():
    """The C fast paths (:mod:`wengert.autodiff._fastpath`), configured with the objects
    they read; None where the extension is not built (an install without a C compiler) or
    the environment variable ``WENGERT_PURE_PYTHON`` is set to anything but 0 (to run or step
    through the Python reference)."""
    if os.environ.get("WENGERT_PURE_PYTHON", "0") not in ("", "0"):
        return None
    try:
        from . import _fastpath as module
    except ImportError:
        return None
    module.configure(Tensor, _ndarray, _asarray, DETOUR, GRAD_OFF, STATE, _record,
                     _forward_error, WengertError, _NO_PARAMS, FRESH)
    return module


#: The C extension behind the one- and two-input ops, or None (see :func:`_load_fastpath`).
_fastpath = _load_fastpath()

# vmap's dispatch uses the TENSOR namespace defined above, so it is imported last
from .batching import batch_apply, top_level  # noqa: E402
