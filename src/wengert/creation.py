"""Tensor factories. Floating factories default to float32 (as PyTorch); pass ``dtype``
(e.g. ``"float64"``) for anything else."""
import numpy as np

from .backend import DEFAULT_FLOAT, as_dtype
from .tensor import Tensor, tensor


def _make(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def zeros(*shape, dtype=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape(shape), dtype=as_dtype(dtype) or DEFAULT_FLOAT), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    """A tensor of ones."""
    return _make(np.ones(_shape(shape), dtype=as_dtype(dtype) or DEFAULT_FLOAT), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if dtype is None:
        dtype = np.asarray(fill_value).dtype
        dtype = DEFAULT_FLOAT if dtype.kind == "f" else (np.int64 if dtype.kind in "iu" else dtype)
    return _make(np.full(shape, fill_value, dtype=as_dtype(dtype)), requires_grad)


def _like(t, dtype):
    if isinstance(t, Tensor):  # its shape and dtype only (inside vmap, an example's)
        return t.shape, as_dtype(dtype) or t.dtype
    data = np.asarray(t)
    return data.shape, as_dtype(dtype) or data.dtype


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros with ``t``'s shape and dtype."""
    shape, dt = _like(t, dtype)
    return _make(np.zeros(shape, dtype=dt), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    """Ones with ``t``'s shape and dtype."""
    shape, dt = _like(t, dtype)
    return _make(np.ones(shape, dtype=dt), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    """``fill_value`` everywhere, with ``t``'s shape and dtype."""
    shape, dt = _like(t, dtype)
    return _make(np.full(shape, fill_value, dtype=dt), requires_grad)


def arange(start, stop=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, stop); integer arguments give int64, floats float32."""
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
        dtype = np.int64 if is_int else DEFAULT_FLOAT
    return _make(np.arange(start, stop, step, dtype=as_dtype(dtype)), requires_grad)


def linspace(start, stop, num=50, dtype=None, requires_grad=False):
    """``num`` evenly spaced values from start to stop inclusive."""
    return _make(np.linspace(start, stop, num, dtype=as_dtype(dtype) or DEFAULT_FLOAT),
                 requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    """The identity matrix (n x m)."""
    return _make(np.eye(n, m, dtype=as_dtype(dtype) or DEFAULT_FLOAT), requires_grad)


__all__ = ["tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like",
           "arange", "linspace", "eye"]
