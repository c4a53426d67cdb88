"""Blocks: ordinary Python functions of tensors shown as one labelled group in traces and graph
pictures (``wengert.trace``, ``wengert.viz``). Their backward is automatic; a block changes
nothing about the values or gradients.

A thread-local stack holds the blocks being run. When a block returns, the nodes recorded
during the call that its outputs were computed from are labelled with the stack's path
(``mlp/layer`` for nested blocks; the innermost block labels a node first and keeps it; each
call is its own group). Nodes made before the block started (its arguments' history, tensors
it captures) keep their labels: node sequence numbers tell them apart. Labels live in a weak
table beside the graph, so they cost the graph nothing and vanish with it.
"""
import functools
import threading
import weakref

from .autodiff.state import next_stamp
from .pytree import flatten
from .tensor import Tensor
from .walk import walk

# Node -> the calls of blocks it was recorded in, outermost first, as (label, call id) pairs:
# two calls of one block are two groups.
_SCOPES = weakref.WeakKeyDictionary()


class _Stack(threading.local):
    def __init__(self):
        self.scopes = []


_STACK = _Stack()


def block(fn=None, *, name=None):
    """Mark ``fn`` as a block: ``@block``, ``@block("encoder")`` or ``block(fn, name=...)``.
    The label defaults to the function's name."""
    if isinstance(fn, str):
        return functools.partial(block, name=fn)
    if fn is None:
        return functools.partial(block, name=name)
    label = name or getattr(fn, "__name__", "block")

    @functools.wraps(fn)
    def run_block(*args, **kwargs):
        start = next_stamp()  # nodes recorded from here on belong to this call
        _STACK.scopes.append((label, start))
        try:
            out = fn(*args, **kwargs)
        finally:
            path = tuple(_STACK.scopes)
            _STACK.scopes.pop()
        outputs = [t for t in flatten(out)[0] if isinstance(t, Tensor)]
        for t in walk(outputs, expand=lambda t: t._node.seq > start):
            node = t._node
            if node is not None and node.seq > start and node not in _SCOPES:
                _SCOPES[node] = path
        return out
    return run_block


def block_scopes(node):
    """The block calls ``node`` was recorded in, outermost first: ``(label, call id)`` pairs
    (``()`` if none)."""
    return _SCOPES.get(node, ())


def block_path(node):
    """The labels of the blocks ``node`` was recorded in, outermost first (``()`` if none)."""
    return tuple(label for label, _ in block_scopes(node))
