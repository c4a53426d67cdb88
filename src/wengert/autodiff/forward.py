"""Forward mode: tensors carry tangents (dual numbers) through the primitives' JVP rules.

The API follows ``torch.autograd.forward_ad``::

    with dual_level():
        x = make_dual(x, t)          # primal x with tangent t
        y = f(x)
        primal, tangent = unpack_dual(y)   # tangent = J_f(x) @ t, in one forward pass

Levels nest: an inner level's tangents may themselves carry the outer level's tangents, which
is what ``jvp(jvp(f))`` and forward-over-reverse Hessian-vector products use.
"""
import itertools
from collections import namedtuple

from ..errors import DTypeError, GraphError, ShapeError
from ..ops.shape import alias
from ..tensor import Tensor
from .batching import Batched, batched_dual, batched_tangent
from .state import DETOUR, STATE, count

_ids = itertools.count(1)

UnpackedDual = namedtuple("UnpackedDual", ["primal", "tangent"])


class dual_level:
    """Context manager opening a forward-mode level; returns the level id."""

    def __enter__(self):
        self.level = next(_ids)
        self.prev = STATE.fw_levels
        STATE.fw_levels = self.prev + (self.level,)
        count(DETOUR, 1)
        return self.level

    def __exit__(self, *exc):
        STATE.fw_levels = self.prev
        count(DETOUR, -1)
        return False


def _current_level(level):
    if not STATE.fw_levels:
        raise GraphError("forward-mode AD needs an active level: use 'with dual_level():'")
    if level is None:
        return STATE.fw_levels[-1]
    if level not in STATE.fw_levels:
        # a tangent there would never be read: no op pushes tangents of a closed level
        raise GraphError(f"forward-mode level {level!r} is not open; the open levels are "
                         f"{list(STATE.fw_levels)}. Hint: make duals inside the 'with "
                         "dual_level() as level:' block whose level you pass")
    return level


def make_dual(primal, tangent, level=None):
    """A new tensor with ``primal``'s values (and graph) whose tangent at ``level`` (the
    innermost by default) is ``tangent``. Shapes must match; the tangent takes the primal's
    dtype. A primal that already has a tangent at that level is refused, as in PyTorch."""
    level = _current_level(level)
    if type(primal) is Batched or type(tangent) is Batched:
        return batched_dual(make_dual, primal, tangent, level)
    if not isinstance(primal, Tensor):
        primal = Tensor(primal)
    if not isinstance(tangent, Tensor):
        tangent = Tensor(tangent, dtype=primal.dtype)
    if tangent.shape != primal.shape:
        raise ShapeError(f"make_dual: tangent shape {tangent.shape} does not match primal "
                         f"shape {primal.shape}")
    if primal.dtype.kind != "f":
        raise DTypeError(f"make_dual: the primal must be floating, got dtype {primal.dtype} "
                         f"(shape {primal.shape}); forward mode differentiates floats only. "
                         f"Hint: convert it with .astype('float64')")
    if tangent_of(primal, level) is not None:
        raise GraphError(
            f"make_dual: the primal (shape {primal.shape}) already has a tangent at level "
            f"{level}, and a tensor has one tangent per level (as in PyTorch). Hint: take "
            "unpack_dual(x).primal first, or open a nested dual_level() for a second tangent")
    if tangent.dtype != primal.dtype:
        tangent = tangent.astype(primal.dtype)
    dual = alias(primal)  # a fresh tensor in the primal's graph
    dual._tangents = dict(primal._tangents or {})
    dual._tangents[level] = tangent
    return dual


def tangent_of(tensor, level):
    """``tensor``'s tangent at ``level``, or None: when it does not depend on the level's
    inputs, or the level is not open (a tangent left from a closed level is stale, no op
    updated it since; PyTorch clears them on exit)."""
    if type(tensor) is Batched:
        return batched_tangent(tangent_of, tensor, level)
    if level in STATE.fw_levels and tensor._tangents:
        return tensor._tangents.get(level)
    return None


def unpack_dual(tensor, level=None):
    """``(primal, tangent)`` of ``tensor`` at ``level`` (the innermost open one by default;
    outside every level the tangent is None, as in PyTorch). Also as in PyTorch the primal is
    ``tensor`` without that tangent (a new tensor in its graph, keeping the tangents of other
    levels), so what is computed from it does not carry the tangent further."""
    if level is None and STATE.fw_levels:
        level = STATE.fw_levels[-1]
    tangent = tangent_of(tensor, level)
    if tangent is None:
        return UnpackedDual(tensor, None)
    primal = alias(tensor)
    primal._tangents = {k: t for k, t in tensor._tangents.items() if k != level} or None
    return UnpackedDual(primal, tangent)
