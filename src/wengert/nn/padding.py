"""Padding with PyTorch's conventions: the function ``pad`` (exported by
:mod:`wengert.nn.functional`, as ``torch.nn.functional.pad``) and the modules ``ZeroPad1d/2d/3d``,
``ConstantPad1d/2d/3d``, ``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d`` and
``CircularPad1d/2d/3d``.

``pad`` turns PyTorch's flat list of (left, right) widths, last dim first, into slicing (a
negative width crops) and one call of the differentiable ``pad`` primitive
(:mod:`wengert.ops.shape`), whose modes are NumPy's: PyTorch's 'replicate' is 'edge' and its
'circular' is 'wrap'. It checks what PyTorch checks, with PyTorch's rules: the non-constant
modes pad the last 1, 2 or 3 dims of an input with one or two dims more."""
import numbers

from ..errors import ArgumentError, ShapeError
from ..ops.shape import pad as _pad
from .module import Module

MODES = ("constant", "reflect", "replicate", "circular")  # PyTorch's
_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pad ``input`` as ``torch.nn.functional.pad``: ``pad`` holds (left, right) pairs for
    the last dims, the last dim first, so ``(1, 2)`` pads the last dim by 1 before and 2
    after and ``(1, 1, 0, 3)`` also the one before it; a negative width crops. ``mode``:

    * ``'constant'`` (any dims): entries of ``value`` (default 0);
    * ``'reflect'``: the input mirrored without its edge entry (widths below the dim's size);
    * ``'replicate'``: the edge entry repeated;
    * ``'circular'``: the input wrapped around (widths up to the dim's size).

    As in PyTorch, the last three pad the last 1, 2 or 3 dims of an input with one or two
    dims more ((C, W) or (N, C, W) for 1 dim, and so on). Differentiable in every mode (each
    padded entry passes its gradient to the entry it copies), to any order."""
    widths = _pairs(input, pad)
    if mode not in MODES:
        raise ArgumentError(f"pad: mode={mode!r} is not a padding mode; use one of "
                            f"{', '.join(map(repr, MODES))} (PyTorch's names)")
    shape = tuple(input.shape)
    if mode == "constant":
        for axis, (lo, hi) in widths.items():
            if shape[axis] + min(lo, 0) + min(hi, 0) < 0:
                raise ArgumentError(f"pad: the widths ({lo}, {hi}) crop more than the "
                                    f"{shape[axis]} entries of dim {axis} (input shape "
                                    f"{shape}). Hint: a negative width crops that many "
                                    "entries")
        x = _crop(input, widths)
        return _pad(x, pad_width=_positive(widths, len(shape)),
                    constant_values=0 if value is None else value)
    if value is not None and value != 0:
        raise ArgumentError(f"pad: mode={mode!r} takes no value (it copies input entries), "
                            f"got value={value!r}. Hint: value is for mode='constant'")
    _check_dims(mode, shape, len(widths))
    numpy_mode = _NUMPY_MODE[mode]
    for axis, (lo, hi) in widths.items():
        size = shape[axis]
        out = size + lo + hi
        how = (f"pad: mode={mode!r} cannot pad dim {axis} of size {size} by ({lo}, {hi}) "
               f"(input shape {shape})")
        if mode == "reflect" and max(lo, hi) >= size:
            raise ArgumentError(f"{how}: a reflect width must be below the dim's size, as "
                                "in PyTorch (the input is mirrored once, without its edge "
                                "entry). Hint: pad in several steps, or use 'replicate'")
        if mode == "circular" and max(lo, hi) > size:
            raise ArgumentError(f"{how}: a circular width may be at most the dim's size, "
                                "as in PyTorch (the input wraps around once). Hint: pad in "
                                "several steps")
        if out < 0:
            raise ArgumentError(f"{how}: the output would have {out} entries there. Hint: "
                                "crop less")
        kept = size + min(lo, 0) + min(hi, 0)
        if mode == "circular" and out and max(lo, hi) > kept:
            raise ArgumentError(f"{how}: circular padding crops first, leaving {kept} "
                                "entries, and wengert wraps each around at most once "
                                "(PyTorch's result here depends on its memory layout). Hint: "
                                "crop and pad in two calls")
    outs = [shape[axis] + lo + hi for axis, (lo, hi) in widths.items()]
    if mode != "circular" and max(outs) < 1:
        # PyTorch's rule: an error only when every padded dim would be empty
        raise ArgumentError(f"pad: mode={mode!r} with pad={tuple(pad)} leaves no entry in "
                            f"any padded dim of the input of shape {shape} (output sizes "
                            f"{outs[::-1]}), as in PyTorch's error. Hint: crop less")
    if mode == "circular":
        # PyTorch crops first, then wraps around what is left
        x = _crop(input, widths)
        return _pad(x, pad_width=_positive(widths, len(shape), skip_empty=x.shape),
                    mode=numpy_mode)
    # reflect and replicate pad first (from the whole input), then crop
    return _crop(_pad(input, pad_width=_positive(widths, len(shape)), mode=numpy_mode),
                 widths)


def _pairs(input, pad):
    """{axis: (lo, hi)} from PyTorch's flat widths (last dim first), after its checks."""
    try:
        values = tuple(pad)
    except TypeError:
        raise ArgumentError(f"pad: pad={pad!r} must be a tuple of ints (left, right) pairs, "
                            "last dim first") from None
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise ArgumentError(f"pad: pad={pad!r} must be a tuple of ints, as in PyTorch")
    if len(values) % 2:
        raise ArgumentError(f"pad: pad={values} has {len(values)} entries; it needs (left, "
                            "right) pairs, last dim first, so its length must be divisible "
                            "by 2")
    ndim = input.ndim
    if len(values) > 2 * ndim:
        raise ShapeError(f"pad: pad={values} pads {len(values) // 2} dims but the input of "
                         f"shape {tuple(input.shape)} has {ndim}. Hint: the padding length "
                         "may be at most two times the input's dims")
    return {ndim - 1 - k: (int(values[2 * k]), int(values[2 * k + 1]))
            for k in range(len(values) // 2)}


def _check_dims(mode, shape, n):
    """PyTorch's rule for the non-constant modes: 1, 2 or 3 padded dims of an input with
    one or two dims more; reflect and replicate need every dim but the batch one non-empty."""
    ndim = len(shape)
    if n not in (1, 2, 3) or ndim not in (n + 1, n + 2):
        raise ShapeError(f"pad: mode={mode!r} pads the last 1, 2 or 3 dims of an input with "
                         f"one or two dims more (e.g. (C, W) or (N, C, W) for 1 dim), as in "
                         f"PyTorch; got {2 * n} widths ({n} dims) for a {ndim}-D input of "
                         f"shape {shape}. Hint: add or drop a batch dim (x[None]), or use "
                         "wengert.pad, which pads any dims")
    if mode != "circular" and 0 in shape[ndim - n - 1:]:
        raise ShapeError(f"pad: mode={mode!r} needs every dim but the batch one non-empty, "
                         f"as in PyTorch; got an input of shape {shape}")


def _crop(x, widths):
    """``x`` with the entries a negative width removes sliced off (``x`` itself if none)."""
    if all(lo >= 0 and hi >= 0 for lo, hi in widths.values()):
        return x
    key = [slice(None)] * x.ndim
    for axis, (lo, hi) in widths.items():
        key[axis] = slice(max(-lo, 0), max(x.shape[axis] - max(-hi, 0), 0))  # may empty it
    return x[tuple(key)]


def _positive(widths, ndim, skip_empty=None):
    """The non-negative parts of ``widths`` as NumPy's one pair per axis; ``skip_empty``
    (a shape) leaves out axes it has empty (a circular pad whose output is empty)."""
    if not ndim:
        return 0  # a 0-d input (padded by nothing)
    pairs = [(0, 0)] * ndim
    for axis, (lo, hi) in widths.items():
        if skip_empty is None or skip_empty[axis]:
            pairs[axis] = (max(lo, 0), max(hi, 0))
    return tuple(pairs)


# --- modules --------------------------------------------------------------------------------
def _widths(padding, n):
    """PyTorch's ``_pair``/``_quadruple``/``_ntuple(6)``: a sequence as given, an int
    repeated 2n times."""
    try:
        return tuple(padding)
    except TypeError:
        return (padding,) * (2 * n)


class _PadNd(Module):
    """What the padding modules share: ``padding`` kept as PyTorch keeps it, and the
    forward ``pad(input, self.padding, mode)``. Subclasses set ``_n`` and ``_mode``."""
    _n = None
    _mode = None

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self._n)

    def forward(self, input):
        return pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    _mode = "constant"

    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``: ``ConstantPad1d(padding, value)``, padding an int
    (both sides) or (left, right); see :func:`pad`."""
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``: ``ConstantPad2d(padding, value)``, padding an
    int or (left, right, top, bottom)."""
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``: ``ConstantPad3d(padding, value)``, padding an
    int or (left, right, top, bottom, front, back)."""
    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros: ``ZeroPad1d(padding)``, padding an int or (left,
    right)."""
    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros: ``ZeroPad2d(padding)``, padding an int or (left,
    right, top, bottom)."""
    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros: ``ZeroPad3d(padding)``, padding an int or (left,
    right, top, bottom, front, back)."""
    _n = 3


class ReflectionPad1d(_PadNd):
    """Pad the last dim of a (C, W) or (N, C, W) input with its reflection (the edge entry
    not repeated): ``ReflectionPad1d(padding)``, padding an int or (left, right), each below
    W."""
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims of a (C, H, W) or (N, C, H, W) input with their reflection:
    ``ReflectionPad2d(padding)``, padding an int or (left, right, top, bottom)."""
    _n, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims of a (C, D, H, W) or (N, C, D, H, W) input with their
    reflection: ``ReflectionPad3d(padding)``, padding an int or six ints."""
    _n, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim of a (C, W) or (N, C, W) input by repeating its edge entries:
    ``ReplicationPad1d(padding)``, padding an int or (left, right)."""
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims of a (C, H, W) or (N, C, H, W) input by repeating their edge
    entries: ``ReplicationPad2d(padding)``, padding an int or four ints."""
    _n, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims of a (C, D, H, W) or (N, C, D, H, W) input by repeating their
    edge entries: ``ReplicationPad3d(padding)``, padding an int or six ints."""
    _n, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input):
        if input.ndim not in (self._n + 1, self._n + 2):  # PyTorch's module checks this
            raise ShapeError(f"{type(self).__name__}: expected {self._n + 1}D or "
                             f"{self._n + 2}D input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)})")
        return pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim of a (C, W) or (N, C, W) input circularly (the far end's entries
    before, the near end's after): ``CircularPad1d(padding)``, padding an int or (left,
    right), each at most W."""
    _n = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims of a (C, H, W) or (N, C, H, W) input circularly:
    ``CircularPad2d(padding)``, padding an int or (left, right, top, bottom)."""
    _n = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims of a (C, D, H, W) or (N, C, D, H, W) input circularly:
    ``CircularPad3d(padding)``, padding an int or six ints."""
    _n = 3
