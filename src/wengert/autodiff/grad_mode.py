"""Switching graph recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Each works as a context manager and as a decorator, as in PyTorch.
"""
import functools

from .state import STATE


def is_grad_enabled():
    """True when ops on tensors that require grad record a graph (the default)."""
    return STATE.grad_enabled


class set_grad_enabled:
    """Turn recording on or off inside a ``with`` block or a decorated function.

    Called plainly (``set_grad_enabled(False)``) it also switches the mode at once, as
    PyTorch's does, so the object can be used as a statement."""

    def __init__(self, mode):
        self.prev = STATE.grad_enabled
        self.mode = bool(mode)
        STATE.grad_enabled = self.mode

    def __enter__(self):
        STATE.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode
        STATE.grad_enabled = self.prev  # decorating must not switch the mode now

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _FixedMode:
    mode = None

    def __enter__(self):
        self.prev = STATE.grad_enabled
        STATE.grad_enabled = self.mode
        return self

    def __exit__(self, *exc):
        STATE.grad_enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_FixedMode):
    """Context manager / decorator: ops inside record nothing and cost about a NumPy call.
    Use it for evaluation and for in-place updates of parameters (optimizers do)."""
    mode = False


class enable_grad(_FixedMode):
    """Context manager / decorator: turn recording back on inside a ``no_grad`` region."""
    mode = True
