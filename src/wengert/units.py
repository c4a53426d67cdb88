"""Units: a user's own operation with a forward on arrays and a hand-written backward, built on
the same :class:`~wengert.autodiff.primitive.Primitive` mechanism as the library's ops.

::

    def relu_back(dy, y, x):            # upstream gradient, the unit's output, its inputs
        return dy * (x > 0)             # one gradient per argument

    @wengert.unit(back=relu_back)
    def relu(x):                        # forward: NumPy arrays in, an array out
        return np.maximum(x, 0)

* Tensor arguments are the unit's differentiable inputs, also inside tuples, lists and dicts
  (``affine(X, (W, b))``); every other argument (numbers, arrays, strings) and every keyword
  argument (of any name but ``_unit_call``) passes through to ``forward`` and ``back``
  unchanged and gets no gradient.
* ``back(dy, y, *args, **kwargs)`` returns one gradient per positional argument (with a single
  argument, just its gradient), each shaped like its argument (a tuple for a tuple argument),
  None where there is none. A gradient in the output's shape is summed down to a broadcast
  input's shape by the engine, as for every primitive.
* ``back`` runs on NumPy arrays in an ordinary backward pass, and on Tensors under
  ``create_graph=True`` or forward-over-reverse. Written with Python operators, methods and
  wengert functions (``dy @ w.T``, ``dy.sum(axis=0)``, ``wengert.where``) it is then
  differentiated itself, so the unit is differentiable twice. Written with NumPy functions
  (``np.where``, ``np.exp``) it raises a GraphError there instead of giving a wrong second
  derivative.
* ``jvp(dargs, y, *args, **kwargs)`` (optional) returns the output tangent for the argument
  tangents ``dargs`` (structured like the arguments: zeros for every input without a tangent
  and every numeric constant, None for other constants); it enables forward mode (``jvp``,
  ``jacfwd``, ``hvp``). It always runs on Tensors.
"""
import functools
import threading
import weakref

import numpy as np

from .autodiff.primitive import TENSOR, Primitive
from .autodiff.state import STATE
from .creation import zeros_like
from .errors import ArgumentError, GraphError, ShapeError, Unbatchable
from .pytree import flatten, unflatten
from .tensor import Tensor


class _Call:
    """One application of a unit (one recorded node): its constant arguments, and the identity
    its backward results are cached under. Every call makes its own, so two applications that
    share their upstream gradient and output arrays (an identity forward used twice on the same
    input) never share back's results."""

    __slots__ = ("consts", "__weakref__")

    def __init__(self, consts):
        self.consts = consts


class _LastGrads(threading.local):
    # The engine asks for one input's gradient at a time; back computes all of them at once,
    # so the last call's results are kept, keyed by (application, g, y) of that node: back runs
    # once per application and backward pass, and nothing is kept beyond the last one.
    key = None
    grads = None


_LAST = _LastGrads()
_CALL = "_unit_call"  # the one keyword a unit's node keeps for itself (see _Call)


def once_per_node(call, g, ans, compute):
    """``compute()``: all the input gradients of one recorded application ``call`` (any object
    that can be weakly referenced) for the upstream gradient ``g`` and output ``ans``, run
    once; the engine then asks for the node's other inputs, and they come from the last
    result (see :class:`_LastGrads`). Also used by :mod:`wengert.autograd.function`."""
    key = _LAST.key
    if key is not None and key[0]() is call and key[1]() is g and key[2]() is ans:
        return _LAST.grads
    grads = compute()
    _LAST.key = (weakref.ref(call), weakref.ref(g), weakref.ref(ans))
    _LAST.grads = grads
    return grads


class Unit:
    """A user-defined operation (see the module docstring); made by :func:`unit`."""

    def __init__(self, forward, back, jvp=None, name=None):
        if not callable(back):
            raise ArgumentError(f"unit {name or forward.__name__!r}: back must be a function "
                                "back(dy, y, *args) returning the argument gradients")
        self.forward, self.back, self.jvp = forward, back, jvp
        self.name = name or getattr(forward, "__name__", "unit")
        self._prims = {}  # argument structure -> Primitive
        functools.update_wrapper(self, forward)

    def __repr__(self):
        return f"<unit {self.name}>"

    def __call__(self, /, *args, **kwargs):
        if _CALL in kwargs:
            raise ArgumentError(f"unit '{self.name}': the keyword {_CALL!r} is reserved for "
                                "wengert's own use; rename that argument")
        leaves, treedef = flatten(args)
        positions = tuple(i for i, x in enumerate(leaves) if isinstance(x, Tensor))
        prim = self._prims.get((treedef, positions))
        if prim is None:
            prim = self._prims[(treedef, positions)] = self._primitive(treedef, positions)
        consts = tuple(None if i in positions else x for i, x in enumerate(leaves))
        # .apply, not prim(...): Primitive.__call__ has a parameter "self" of its own
        return prim.apply(*[leaves[i] for i in positions], _unit_call=_Call(consts), **kwargs)

    def _primitive(self, treedef, positions):
        def rebuild(inputs, consts):
            leaves = list(consts)
            for p, x in zip(positions, inputs):
                leaves[p] = x
            return unflatten(treedef, leaves)

        def forward(*arrays, _unit_call, **kwargs):
            return self.forward(*rebuild(arrays, _unit_call.consts), **kwargs)

        vjps = [functools.partial(self._vjp, k, rebuild, positions)
                for k in range(len(positions))]
        jvps = [functools.partial(self._jvp, k, rebuild) for k in range(len(positions))]
        return Primitive(self.name, forward, vjp=vjps, jvp=jvps, saves="both", register=False,
                         doc=self.forward.__doc__)

    # The parameters before "/" are positional-only, so a user's keyword argument of the same
    # name (k, g, ans, t...) goes to **kwargs and on to forward and back.
    def _vjp(self, k, rebuild, positions, ns, g, ans, /, *inputs, _unit_call, **kwargs):
        grads = once_per_node(_unit_call, g, ans, lambda: self._call_back(
            ns, g, ans, rebuild(inputs, _unit_call.consts), kwargs, positions))
        gk, x = grads[k], inputs[k]
        if gk is None:
            return zeros_like(x)
        if ns is TENSOR and not isinstance(gk, Tensor):
            raise _numpy_back_error(
                f"unit '{self.name}': back returned a {type(gk).__name__} for input {k} while "
                "a differentiable backward was asked for (create_graph=True or "
                "forward-over-reverse), so its second derivative would be silently wrong. "
                "Hint: write back with wengert ops (operators, .sum(), wengert.where, "
                "wengert.exp) instead of NumPy functions")
        if np.shape(gk) != x.shape and not _broadcasts_from(x.shape, np.shape(gk)):
            raise ShapeError(f"unit '{self.name}': back returned a gradient of shape "
                             f"{np.shape(gk)} for an input of shape {x.shape}")
        if isinstance(gk, np.ndarray) and any(gk is other for other in grads[:k]):
            gk = gk.copy()  # the engine may add into one gradient in place; keep them apart
        return gk

    def _call_back(self, ns, g, ans, args, kwargs, positions):
        try:
            result = self.back(g, ans, *args, **kwargs)
        except TypeError as exc:
            if ns is TENSOR and "ufunc" in str(exc):
                raise _numpy_back_error(
                    f"unit '{self.name}': back applied a NumPy function to Tensors ({exc}); "
                    "this happens when it is differentiated (create_graph=True or "
                    "forward-over-reverse). Hint: write back with wengert ops to make the unit "
                    "differentiable twice") from exc
            raise
        if len(args) == 1:
            result = (result,)
        if not isinstance(result, (tuple, list)) or len(result) != len(args):
            got = (f"{len(result)} values" if isinstance(result, (tuple, list))
                   else f"a {type(result).__name__}")
            raise ArgumentError(f"unit '{self.name}': back must return one gradient per "
                                f"argument ({len(args)}), got {got}")
        flat = []
        for j, (gj, arg) in enumerate(zip(result, args)):
            arg_leaves, arg_def = flatten(arg)
            if gj is None:
                flat += [None] * len(arg_leaves)
                continue
            leaves, g_def = flatten(gj)
            if g_def != arg_def:
                raise ArgumentError(f"unit '{self.name}': the gradient back returned for "
                                    f"argument {j} is not structured like the argument")
            flat += leaves
        return [flat[p] for p in positions]

    def _jvp(self, k, rebuild, ns, t, ans, /, *inputs, _unit_call, **kwargs):
        if self.jvp is None:
            raise GraphError(f"unit '{self.name}' has no JVP rule, so forward mode (jvp, "
                             "jacfwd, hvp) cannot go through it. Hint: pass "
                             "jvp=fn(dargs, y, *args) to wengert.unit")
        tangents = [t if i == k else zeros_like(x) for i, x in enumerate(inputs)]
        consts = _unit_call.consts
        dargs = rebuild(tangents, [zeros_like(c) if _numeric(c) else None for c in consts])
        out = self.jvp(dargs, ans, *rebuild(inputs, consts), **kwargs)
        if not isinstance(out, Tensor):
            raise GraphError(f"unit '{self.name}': jvp returned a {type(out).__name__}; it "
                             "runs on Tensors and must return one. Hint: write it with "
                             "wengert ops")
        if not _broadcasts_from(out.shape, ans.shape):  # the engine broadcasts it up
            raise ShapeError(f"unit '{self.name}': jvp returned a tangent of shape {out.shape} "
                             f"for an output of shape {ans.shape}. Hint: dargs is structured "
                             "like the arguments, a tuple even for one argument (dargs[0])")
        return out


def _numeric(x):
    """A constant that has a (zero) tangent: a number or a numeric array, not a bool."""
    return (isinstance(x, (int, float, np.ndarray, np.generic)) and not isinstance(x, bool)
            and np.asarray(x).dtype.kind in "fiu")


def _broadcasts_from(shape, grad_shape):
    """True when ``grad_shape`` is ``shape`` broadcast (so the engine can sum it down)."""
    try:
        return np.broadcast_shapes(shape, grad_shape) == grad_shape
    except ValueError:
        return False


def unit(forward=None, *, back, jvp=None, name=None):
    """Define a unit from its ``forward`` and ``back`` (and optional ``jvp``); use as
    ``@unit(back=...)`` over the forward or call ``unit(forward, back=...)``."""
    if forward is None:
        return lambda fwd: Unit(fwd, back, jvp, name)
    return Unit(forward, back, jvp, name)


def _numpy_back_error(message):
    """A back written in NumPy met tensors. Inside ``vmap`` (a batch of cotangents: ``jacrev``,
    ``vmap`` over a ``vjp_fn``) that is :class:`~wengert.errors.Unbatchable`, which ``jacrev``
    answers with one pass per seed, where back runs on arrays."""
    return (Unbatchable if STATE.vmap_levels else GraphError)(message)
