"""Gradient checkpointing: store a segment's inputs, recompute its inside during backward.

Reverse mode keeps every intermediate a backward rule reads until the backward pass reaches it;
for a deep network that is most of the memory. ``checkpoint(fn, *args)`` runs ``fn`` without
recording, so only its inputs and output stay alive; when the backward pass arrives it runs
``fn`` again, recording, and backpropagates through that copy (the lectures' store-vs-recompute
trade-off: about one more forward pass of time for the memory of one segment).

It is a :mod:`~wengert.units` unit whose back is "the VJP of ``fn``, recomputed" and whose
JVP is "the JVP of ``fn``, recomputed" (once per input that carries a tangent), so it composes
like any op: under ``create_graph=True`` or forward mode the recomputation is itself
differentiated, and second derivatives go through it.
"""
import contextlib

from .autodiff.grad_mode import enable_grad, no_grad
from .errors import ArgumentError, GraphError
from .functional.args import needs_graph, track
from .functional.forward import jvp
from .functional.reverse import pullback
from .pytree import flatten, unflatten
from .random import default_generator
from .tensor import Tensor
from .units import Unit
from .walk import walk


def checkpoint(fn, *args, preserve_rng_state=True):
    """``fn(*args)`` (one Tensor) without keeping ``fn``'s intermediates for backward; they are
    recomputed when the gradient is needed. Every tensor ``fn`` differentiates must be among
    ``args`` (weights too: ``checkpoint(layer_fn, h, W, b)``). With ``preserve_rng_state`` the
    recomputation sees the global generator's state of the first run (same dropout masks)."""
    leaves, treedef = flatten(args)
    positions = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
    # Integer tensors (indices, token ids) are inputs too, but have no gradient or tangent.
    floating = [i for i in positions if leaves[i].dtype.kind == "f"]
    rng = default_generator()
    state = rng.get_state() if preserve_rng_state else None
    name = f"checkpoint({getattr(fn, '__name__', 'fn')})"

    def as_tensors(structured, convert):
        flat = flatten(structured)[0]
        for p in positions:
            flat[p] = convert(flat[p])
        return flat, unflatten(treedef, flat)

    def forward(*structured):
        with no_grad():
            out = fn(*as_tensors(structured, Tensor._wrap)[1])
        if not isinstance(out, Tensor):
            raise ArgumentError(f"{name}: fn must return one Tensor, got "
                                f"{type(out).__name__}")
        return out.data

    @contextlib.contextmanager
    def replay():
        """The global generator as the first run found it, and back where it was after."""
        now = rng.get_state()
        if state is not None:
            rng.set_state(state)
        try:
            yield
        finally:
            rng.set_state(now)

    def input_tensor(x):
        x = x if isinstance(x, Tensor) else Tensor._wrap(x)
        return track(x) if x.dtype.kind == "f" else x

    def back(dy, y, *structured):
        flat, inputs = as_tensors(structured, input_tensor)
        tracked = [flat[p] for p in floating]
        with replay(), enable_grad():
            out = fn(*inputs)
        _check_captured(name, out, tracked)
        grads = pullback([out], [dy], tracked, needs_graph(structured))
        flat = [None] * len(flat)
        for p, g in zip(floating, grads):
            flat[p] = g
        per_arg = unflatten(treedef, flat)
        return per_arg[0] if len(per_arg) == 1 else per_arg

    def tangent(dargs, y, *structured):
        flat, tangents = flatten(structured)[0], flatten(dargs)[0]

        def on_inputs(*xs):
            for p, x in zip(floating, xs):
                flat[p] = x
            return fn(*unflatten(treedef, flat))
        with replay():
            return jvp(on_inputs, tuple(flat[p] for p in floating),
                       tuple(tangents[p] for p in floating))[1]

    return Unit(forward, back, jvp=tangent, name=name)(*args)


def _check_captured(name, out, inputs):
    """Gradients for tensors ``fn`` captures instead of taking as arguments would be lost."""
    ids = {id(t) for t in inputs}
    captured = [t for t in walk([out], expand=lambda t: id(t) not in ids)
                if t.requires_grad and t._node is None and id(t) not in ids]
    if captured:
        shapes = ", ".join(str(t.shape) for t in captured)
        raise GraphError(
            f"{name}: fn uses tensors that require grad but are not among its arguments "
            f"(shapes {shapes}); their gradients would be lost. Hint: pass them as arguments, "
            "checkpoint(fn, x, W, b)")
