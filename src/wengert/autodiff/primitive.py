"""Primitives: the one place an op's forward, reverse (VJP) and forward (JVP) rules live.

A primitive is ``Primitive(name, forward, vjp=[rule per input], jvp=[rule per input])``.

* ``forward(*arrays, **params)`` is plain NumPy.
* ``vjp[i](ns, g, ans, *args, **params)`` returns the gradient for input ``i`` in the
  *output's* shape or the input's shape; the engine sums it down to the input's shape
  (:func:`wengert.autodiff.engine` is the single place that unbroadcasts).
* ``jvp[i](ns, t, ans, *args, **params)`` returns the output tangent caused by input ``i``'s
  tangent ``t``; the output tangent is the sum over inputs.

Rules are written against a namespace ``ns`` that has one function per primitive. When
nothing needs to be recorded, ``ns`` is :data:`ARRAY` (each name is the primitive's NumPy
forward, so a rule costs what the NumPy code costs); under ``create_graph=True`` or forward
mode it is :data:`TENSOR` (each name is the primitive itself), so the very same rule builds a
graph and higher derivatives are exact. Python operators (``g * y``) work in both.
"""
from types import MethodType

import numpy as np

from ..errors import GraphError, ShapeError, WengertError
from ..tensor import Tensor
from .state import STATE

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
SAVES = ("inputs", "output", "both", "none")


class Node:
    """One recorded application of a primitive: the entry of the Wengert list."""

    __slots__ = ("prim", "inputs", "arrays", "params", "out", "versions", "out_version",
                 "out_cell", "where", "__weakref__")

    def __init__(self, prim, inputs, arrays, params, out, out_cell):
        self.prim = prim
        self.inputs = inputs
        self.arrays = arrays
        self.params = params
        self.out = out
        self.out_cell = out_cell
        self.out_version = out_cell[0]
        if prim.saves_inputs:
            self.versions = tuple(a._version[0] if isinstance(a, Tensor) else None
                                  for a in inputs)
        else:
            self.versions = None
        self.where = None

    def __repr__(self):
        return f"<{self.prim.name} node>"

    name = property(lambda self: self.prim.name)


class Primitive:
    """An op with a NumPy forward and differentiation rules. Call it on tensors, arrays or
    scalars; it returns a Tensor and records a :class:`Node` when an input requires grad and
    grad mode is on.

    Arguments:
        name: unique name; also the attribute in the :data:`ARRAY`/:data:`TENSOR` namespaces.
        forward: ``forward(*arrays, **params) -> ndarray``.
        vjp: one rule per differentiable positional input (``None`` for an input with no
            gradient, e.g. a condition or an index); ``None`` altogether makes a
            non-differentiable op whose output never requires grad.
        jvp: one forward-mode rule per input, as ``vjp``.
        saves: which values the rules read: ``"inputs"``, ``"output"``, ``"both"`` or
            ``"none"``. Modifying those in place before backward raises an error.
        view: the output shares the first input's memory (reshape, transpose, slicing);
            it then shares its version counter so in-place changes are seen through views.
        register: add the primitive to :data:`REGISTRY` (users' one-off units may not).
    """

    def __init__(self, name, forward, vjp=None, jvp=None, saves="inputs", view=False,
                 register=True, doc=None):
        if saves not in SAVES:
            raise ValueError(f"saves must be one of {SAVES}, got {saves!r}")
        if vjp is not None and jvp is not None and len(vjp) != len(jvp):
            raise ValueError(f"primitive {name}: {len(vjp)} vjp rules but {len(jvp)} jvp rules")
        self.name = self.__name__ = name
        self.forward = forward
        self.vjps = tuple(vjp) if vjp is not None else None
        self.jvps = tuple(jvp) if jvp is not None else None
        self.saves_inputs = saves in ("inputs", "both")
        self.saves_output = saves in ("output", "both")
        self.view = view
        self.__doc__ = doc or forward.__doc__
        if register:
            if name in REGISTRY:
                raise ValueError(f"a primitive named {name!r} is already registered")
            REGISTRY[name] = self
            setattr(ARRAY, name, forward)
            setattr(TENSOR, name, self)

    @property
    def differentiable(self):
        return self.vjps is not None

    def __repr__(self):
        return f"<primitive {self.name}>"

    def __get__(self, obj, objtype=None):
        # Bind like a function, so a primitive can be a Tensor method (x.exp(), x + y).
        return self if obj is None else MethodType(self, obj)

    def __call__(self, *args, **params):
        arrays = []
        record = False
        tangents = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a.data)
                if a.requires_grad:
                    record = True
                if a._tangents is not None:
                    tangents = True
            else:
                arrays.append(a)
        try:
            out = self.forward(*arrays, **params)
        except WengertError:
            raise
        except ValueError as exc:  # NumPy's broadcasting and axis errors
            raise ShapeError(f"{self.name}: {exc} (input shapes "
                             f"{[np.shape(a) for a in arrays]})") from None
        if type(out) is not _ndarray:
            out = _asarray(out)
        state = STATE
        version = args[0]._version if self.view and isinstance(args[0], Tensor) else [0]
        if record and state.grad_enabled and self.vjps is not None:
            node = Node(self, args, arrays, params, out, version)
            result = Tensor._wrap(out, node, True, version)
            if state.anomaly:
                _check_anomaly(self, node, out, arrays)
        else:
            result = Tensor._wrap(out, None, False, version)
            if state.anomaly:
                _check_anomaly(self, None, out, arrays)
        if tangents and state.fw_levels and self.jvps is not None:
            _push_tangents(self, result, args, params, state)
        return result


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


def nondiff(name, forward, doc=None):
    """Register a primitive without derivatives (comparisons, sign, argmax...): its output
    never requires grad."""
    return Primitive(name, forward, vjp=None, jvp=None, saves="none", doc=doc)


def raise_freed(node):
    raise GraphError(
        f"trying to backward through the graph of '{node.prim.name}' a second time, but its "
        "saved values were freed after the first backward. Hint: pass retain_graph=True to "
        "the first backward() (or autograd.grad) if you need to backward twice")
