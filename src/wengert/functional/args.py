"""What the transforms share: checking ``argnums``, turning argument leaves into float tensors,
splitting ``(output, aux)``, and deciding when an inner reverse pass must itself be recorded.

Nesting. ``grad(grad(f))`` works because the inner ``grad`` runs its backward with
``create_graph=True`` when something outside can still differentiate its result: it is called
while an outer reverse transform evaluates its function (a thread-local depth counts those),
one of its arguments already requires grad, or ``f`` closes over a tensor that requires grad
(a model weight in a gradient penalty), which :func:`reaches_outside` finds after ``f`` ran.
Under forward mode (``jvp(grad(f))``) the engine pushes tangents through the VJP rules by
itself, so no graph is needed there for the tangents alone.
"""
import contextlib
import threading

import numpy as np

from ..autodiff.batching import bottom, lift_active
from ..autodiff.grad_mode import enable_grad
from ..autodiff.state import REBASED, STATE
from ..creation import zeros_like
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.shape import alias
from ..pytree import describe, flatten, leaf_paths, unflatten
from ..tensor import Tensor


class _Depth(threading.local):
    reverse = 0


_DEPTH = _Depth()


@contextlib.contextmanager
def reverse_scope():
    """Evaluate a function under a reverse transform: record its graph, and tell transforms
    nested inside that their results will be differentiated again."""
    _DEPTH.reverse += 1
    try:
        with enable_grad():
            yield
    finally:
        _DEPTH.reverse -= 1


def needs_graph(*trees):
    """True when a reverse pass over values built from ``trees`` must be recorded."""
    if not STATE.grad_enabled:
        return False
    if _DEPTH.reverse:
        return True
    # A forward-mode tangent that requires grad counts too: the JVP of this reverse pass
    # (hvp's forward-over-reverse) must stay differentiable with respect to it.
    return any(isinstance(x, Tensor) and (x.requires_grad or (x._tangents is not None and any(
        d.requires_grad for d in x._tangents.values()))) for t in trees for x in flatten(t)[0])


def reaches_outside(trees, inputs):
    """True when the recorded graph of the tensors in ``trees`` reaches a tensor that requires
    grad and is none of ``inputs`` (the transform's tracked inputs): a tensor ``f`` captured.
    Then the transform's results must stay differentiable with respect to it (a gradient
    penalty's weight, as ``torch.func``). Walks the graph once, iteratively; stops at the first
    such tensor, and at the inputs, which are leaves when nothing outside requires grad."""
    seen = {bottom(x) for x in inputs}  # inside vmap the graph is the physical tensors'
    stack = []
    rebased = REBASED[0]
    for tree in trees:
        for x in leaves_of(tree):
            x = bottom(x)
            if isinstance(x, Tensor) and x.requires_grad and x not in seen:
                seen.add(x)
                stack.append(x)
    while stack:
        node = stack.pop()._node
        if node is None:
            return True  # a leaf that requires grad and is not an input
        inputs_ = node.inputs
        if inputs_ is None:
            return True  # freed by a backward pass before: recorded outside the transform
        for a in inputs_:
            if isinstance(a, Tensor) and a.requires_grad and a not in seen:
                seen.add(a)
                stack.append(a)
                if rebased and a._rebases:  # written in place: the values before count too
                    for r in a._rebases:  # (tick, stand-in for the old value)
                        old = r[1]
                        if old.requires_grad and old not in seen:
                            seen.add(old)
                            stack.append(old)
    return False


def released(tree):
    """``tree`` with every tensor that requires grad detached from the transform's recording,
    as a result is returned when nothing outside can differentiate it; tangents of open
    forward-mode levels stay, so an outer ``jvp`` still sees through it."""
    leaves = leaves_of(tree)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in leaves):
        return tree
    treedef = flatten(tree)[1]
    out = []
    for x in leaves:
        if isinstance(x, Tensor) and x.requires_grad:
            d = x.detach()
            if x._tangents:
                d._tangents = dict(x._tangents)
            x = d
        out.append(x)
    return unflatten(treedef, out)


def leaves_of(tree):
    """The leaves of ``tree``; a tree that cannot be flattened (a dict with keys that do not
    sort, in an aux) is one leaf."""
    try:
        return flatten(tree)[0]
    except TypeError:
        return [tree]


def fname(f):
    return getattr(f, "__name__", type(f).__name__)


def check_chunk_size(where, chunk_size):
    """``vmap``'s and ``jacrev``'s ``chunk_size``: None or a positive int."""
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(
            chunk_size, (int, np.integer)) or chunk_size < 1):
        raise ArgumentError(f"{where}: chunk_size must be a positive int or None, got "
                            f"{chunk_size!r}")


def normalize_argnums(transform, f, argnums, nargs):
    """``argnums`` as a tuple of non-negative ints, checked against the call's ``nargs``."""
    single = isinstance(argnums, (int, np.integer))
    nums = (argnums,) if single else argnums
    if not isinstance(nums, (tuple, list)) or not nums or not all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in nums):
        raise ArgumentError(f"{transform}({fname(f)}): argnums must be an int or a non-empty "
                            f"tuple of ints, got {argnums!r}")
    out = []
    for i in nums:
        if not -nargs <= i < nargs:
            raise ArgumentError(
                f"{transform}({fname(f)}, argnums={argnums!r}): argument {i} does not exist; "
                f"{fname(f)} was called with {nargs} positional argument(s). Hint: argnums "
                "counts positional arguments from 0 (keyword arguments are never "
                "differentiated)")
        out.append(int(i) % nargs)
    if len(set(out)) != len(out):
        raise ArgumentError(f"{transform}({fname(f)}): argnums {argnums!r} repeats an argument")
    return tuple(out), single


def float_tensor(transform, x, where, chosen=True):
    """Leaf ``x`` (a Tensor, array or number) as a floating Tensor, or a DTypeError naming it.
    ``chosen``: the leaf is differentiated because ``argnums`` chose its argument, which the
    hint then offers to change (jvp's primals and tangents have no argnums)."""
    t = x
    if not isinstance(x, Tensor):
        try:
            t = Tensor(x)
        except DTypeError:  # a string: say which transform and argument, as for ints
            t = None
    if t is None or t.dtype.kind != "f":
        what = (f"has dtype {t.dtype} (shape {t.shape})" if t is not None
                else f"is a {type(x).__name__}")
        raise DTypeError(
            f"{transform}: {where} {what}; only floating inputs can be differentiated. Hint: "
            "pass it as floats (x.astype('float64'))"
            + (", or leave it out of argnums" if chosen else ""))
    return t


def track(t):
    """A tensor that requires grad and stays connected to ``t``'s graph and tangents, so the
    transform can differentiate with respect to it and outer transforms through it."""
    with enable_grad():
        out = alias(t)
    if not out.requires_grad:
        out.requires_grad_(True)
    return out


def tracked_args(transform, f, args, nums):
    """``args`` with the leaves of the arguments in ``nums`` replaced by tracked tensors;
    returns ``(new_args, leaves per argnum, treedef per argnum)``."""
    args = list(args)
    leaves, treedefs = [], []
    for i in nums:
        flat, treedef = flatten(args[i])
        paths = leaf_paths(treedef)
        flat = [float_tensor(transform, x, f"argument {i}{p} of {fname(f)}")
                for x, p in zip(flat, paths)]
        if STATE.vmap_levels:  # each example differentiates its own copy (see lift_active)
            flat = [lift_active(x) for x in flat]
        flat = [track(x) for x in flat]
        args[i] = unflatten(treedef, flat)
        leaves.append(flat)
        treedefs.append(treedef)
    return args, leaves, treedefs


def split_aux(transform, f, result, has_aux):
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ArgumentError(f"{transform}({fname(f)}, has_aux=True): f must return a pair "
                            f"(output, aux), got {type(result).__name__}")
    return result[0], result[1]


def output_leaves(transform, f, out):
    """The leaves of ``f``'s output, each checked to be a floating Tensor."""
    leaves, treedef = flatten(out)
    for x, p in zip(leaves, leaf_paths(treedef)):
        if not isinstance(x, Tensor):
            raise DTypeError(
                f"{transform}: {fname(f)} returned a {type(x).__name__} at output{p}, not a "
                "Tensor. Hint: compute the output with wengert ops; float() and .item() cut "
                "the graph")
        if x.dtype.kind != "f":
            raise DTypeError(f"{transform}: output{p} of {fname(f)} has dtype {x.dtype}; only "
                             "floating outputs can be differentiated")
    return leaves, treedef


def matching_leaves(transform, what, like, like_def, tree):
    """The leaves of ``tree`` (tangents or cotangents) as tensors, checked to have the structure
    ``like_def`` and the shapes of the tensors ``like``; cast to their dtypes."""
    leaves, treedef = flatten(tree)
    if treedef != like_def:
        raise ArgumentError(f"{transform}: the {what} have structure {describe(treedef)} but "
                            f"must match {describe(like_def)}")
    out = []
    for x, ref, p in zip(leaves, like, leaf_paths(treedef)):
        t = float_tensor(transform, x, f"{what}{p}", chosen=False)
        if t.shape != ref.shape:
            raise ShapeError(f"{transform}: {what}{p} has shape {t.shape} but must have the "
                             f"shape {ref.shape} of the value it goes with")
        out.append(t if t.dtype == ref.dtype else t.astype(ref.dtype))
    return out


def zeros_for_none(values, like):
    """``values`` with each None (an input the output does not depend on) replaced by zeros."""
    return [zeros_like(x) if v is None else v for v, x in zip(values, like)]
