"""The array namespace and dtype rules.

wengert computes with NumPy. Everything that turns user data into arrays lives here so the
rules are in one place:

* Python floats (and lists of them) become ``float32``, as in PyTorch; Python ints become
  ``int64``; bools become ``bool``.
* NumPy arrays and NumPy scalars keep their dtype.
* Mixed-dtype arithmetic follows NumPy 2 promotion (NEP 50): a Python scalar never upcasts
  a ``float32`` tensor.
"""
import numpy as np

from .errors import DTypeError

DEFAULT_FLOAT = np.dtype(np.float32)

_DTYPE_NAMES = {
    "float16": np.float16, "half": np.float16,
    "float32": np.float32, "float": np.float32,
    "float64": np.float64, "double": np.float64,
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "long": np.int64, "uint8": np.uint8, "bool": np.bool_,
}

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8, bool_ = np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_


def as_dtype(dtype):
    """Return ``dtype`` as a ``numpy.dtype``; accepts NumPy dtypes, Python types and names
    such as ``"float32"``. Raises :class:`DTypeError` for anything else."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        if dtype not in _DTYPE_NAMES:
            raise DTypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPE_NAMES)}")
        return np.dtype(_DTYPE_NAMES[dtype])
    if dtype is float:
        return DEFAULT_FLOAT
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise DTypeError(f"unknown dtype {dtype!r}: {exc}") from None
    if dt.kind not in "fiub":
        raise DTypeError(f"dtype {dt} is not supported; use a float, integer or bool dtype")
    return dt


def is_float(dtype):
    """True for floating dtypes, the only ones that can carry gradients."""
    return dtype.kind == "f"


def _python_default(data):
    """The dtype PyTorch would give Python data: float32 for floats, int64 for ints."""
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        return arr.astype(DEFAULT_FLOAT)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr
    raise DTypeError(f"cannot make a tensor from data of dtype {arr.dtype} "
                     f"(type {type(data).__name__}); pass numbers or a numeric array")


def to_array(data, dtype=None, copy=False):
    """Convert user data to an ndarray following the rules in this module's docstring."""
    dtype = as_dtype(dtype)
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = np.array(data, dtype=dtype, copy=copy or None)
        if arr.dtype.kind not in "fiub":
            raise DTypeError(f"cannot make a tensor from an array of dtype {arr.dtype}")
        return arr
    if dtype is not None:
        try:
            return np.array(data, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise DTypeError(f"cannot convert {type(data).__name__} to a {dtype} tensor: {exc}") from None
    try:
        return _python_default(data)
    except ValueError as exc:
        raise DTypeError(f"cannot make a tensor from {type(data).__name__}: {exc}") from None
