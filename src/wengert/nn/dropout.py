"""Dropout's variants, as PyTorch's: channel-wise dropout (``dropout1d/2d/3d``, which zero
whole channels), alpha dropout (``alpha_dropout``, ``feature_alpha_dropout``, which keep a
SELU network's mean 0 and variance 1), their modules, and :func:`drop`, the one body that
these and ``nn.functional.dropout`` share.

A mask is drawn per entry, or per channel: an (N, C, ...) input gets an (N, C, 1, ...) mask,
so that every entry of a channel is kept or dropped together. The draws come from
``generator`` (default: wengert's global one, seeded by ``manual_seed``): wengert's random
stream is not PyTorch's, so the masks differ from PyTorch's for the same seed, while their
distribution and the scaling are PyTorch's."""
import math
import warnings

import numpy as np

from ..errors import ArgumentError, DTypeError, ShapeError
from .activation_functions import SELU_ALPHA, SELU_SCALE, _draw, _in_place
from .module import Module

# The SELU's negative saturation value is -SELU_SCALE * SELU_ALPHA; alpha dropout sets the
# dropped entries to it (before its affine correction), PyTorch's 1.7580993408473766.
SELU_SATURATION = SELU_SCALE * SELU_ALPHA


def check_probability(where_, p):
    """An :class:`ArgumentError` unless ``0 <= p <= 1``."""
    if not 0 <= p <= 1:
        raise ArgumentError(f"{where_}: p={p} is not a probability; use 0 <= p <= 1")


def drop(name, input, p, training, inplace, generator, channel_axes=0, alpha=False):
    """The dropout ``name`` of ``input``: the identity when not ``training`` (or p = 0, or an
    empty input); else each entry (``channel_axes=0``) or each index of the leading
    ``channel_axes`` axes (a channel, whose entries go together) is kept with probability
    1 - p. Plain dropout scales the kept entries by 1/(1-p) and zeroes the others; alpha
    dropout maps kept x to ``a x + b`` and dropped ones to ``a (-SELU_SATURATION) + b``,
    with a and b the constants that keep mean 0 and variance 1. p = 1 gives zeros, as
    PyTorch's (x * 0, of any dtype); otherwise an input that is not floating is a
    :class:`DTypeError`, and the result has the input's dtype (float16 too). ``inplace``:
    written into ``input``, which is returned. The checks are PyTorch's, in its order."""
    check_probability(name, p)
    if not training or p == 0 or input.size == 0:
        return input
    shift = None
    if p == 1:
        scale = np.zeros((), input.dtype)  # PyTorch's x * zeros of x's dtype: bools stay bools
    else:
        if input.ndim < channel_axes:
            raise ShapeError(f"{name}: channel-wise dropout needs a channel axis, an input of "
                             f"at least {channel_axes} dimension(s), got shape {input.shape}. "
                             "Hint: give it an (N, C, ...) input, or use dropout for "
                             "element-wise dropout")
        shape = input.shape
        if channel_axes:
            shape = shape[:channel_axes] + (1,) * (input.ndim - channel_axes)
        if np.dtype(input.dtype).kind != "f":
            raise DTypeError(f"{name}: cannot drop entries of an input of dtype {input.dtype} "
                             f"(shape {input.shape}): the kept ones are rescaled, which needs a "
                             "floating input (PyTorch refuses it too). Hint: convert it first, "
                             "x.astype('float32')")
        draw, dtype = _draw(generator, "random", input, shape)
        keep = draw >= p
        if alpha:
            a = 1 / math.sqrt((SELU_SATURATION ** 2 * p + 1) * (1 - p))
            scale = np.multiply(keep, a, dtype=dtype)
            # PyTorch's b = (keep - 1 + p) * saturation * a: a*p*s where kept, -a*(1-p)*s not
            shift = ((keep - 1 + p) * (SELU_SATURATION * a)).astype(dtype)
        else:
            scale = np.multiply(keep, 1 / (1 - p), dtype=dtype)

    def compute(x):
        out = x * scale
        return out if shift is None else out + shift

    if inplace:
        # x * scale (+ shift) reads no array of the input's for its gradient: no copy is kept
        return _in_place(name + "_", input, compute, False)
    return compute(input)


def dropout1d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of a (N, C, L) or unbatched (C, L) input, each with probability
    ``p``, and scale the rest by 1/(1-p); the identity when not ``training``. Other shapes
    are a :class:`ShapeError` (PyTorch's RuntimeError). ``inplace=True`` writes into
    ``input``; ``generator`` (wengert's addition) gives the masks their own stream."""
    check_probability("dropout1d", p)
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{input.shape}. Hint: dropout1d drops channels of inputs with one "
                         "spatial axis; use dropout2d/dropout3d for 2 or 3, dropout for "
                         "entries")
    return drop("dropout1d", input, p, training, inplace, generator, input.ndim - 1)


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels (axis 1) of an (N, C, H, W) input, each with probability ``p``,
    and scale the rest by 1/(1-p); the identity when not ``training``. As PyTorch's: a 3-D
    input is taken as (N, C, L) (dropout1d's layout, not an unbatched (C, H, W)) with a
    warning, other shapes than 3-D and 4-D warn that they are deprecated, and an input of
    fewer than 2 dims is a :class:`ShapeError` when it drops. ``generator`` as dropout1d's."""
    check_probability("dropout2d", p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. "
                      "Note that dropout2d exists to provide channel-wise dropout on inputs "
                      "with 2 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change "
                      "in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.",
                      stacklevel=2)
    return drop("dropout2d", input, p, training, inplace, generator, 2)


def dropout3d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels of an (N, C, D, H, W) or unbatched (C, D, H, W) input, each with
    probability ``p``, and scale the rest by 1/(1-p); the identity when not ``training``.
    As PyTorch's, other shapes warn that they are deprecated and are taken as unbatched
    (axis 0 is the channel; a 0-d input is a :class:`ShapeError` when it drops).
    ``generator`` as dropout1d's."""
    check_probability("dropout3d", p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. "
                      "Note that dropout3d exists to provide channel-wise dropout on inputs "
                      "with 3 spatial dimensions, a channel dimension, and an optional batch "
                      "dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    return drop("dropout3d", input, p, training, inplace, generator, 2 if input.ndim == 5 else 1)


def alpha_dropout(input, p=0.5, training=False, inplace=False, generator=None):
    """Alpha dropout (Klambauer et al. 2017), for SELU networks: each entry is dropped with
    probability ``p`` to SELU's saturation value -1.7581, then all are mapped by the affine
    ``a x + b`` that keeps an input of mean 0 and variance 1 so. The identity when not
    ``training`` (whose default here is False, as PyTorch's). ``inplace=True`` writes into
    ``input``; ``generator`` as dropout1d's."""
    return drop("alpha_dropout", input, p, training, inplace, generator, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, generator=None):
    """Alpha dropout of whole channels: each channel (axis 1 of an (N, C, ...) input) is
    dropped together, with probability ``p``. An input of fewer than 2 dims is a
    :class:`ShapeError` when it drops. ``training`` defaults to False, as PyTorch's."""
    return drop("feature_alpha_dropout", input, p, training, inplace, generator, 2, alpha=True)


class DropoutBase(Module):
    """A dropout module: it calls its function ``fn`` with ``p``, its training mode,
    ``inplace`` and ``generator`` (optional: the masks' own stream); ``p`` outside [0, 1] is
    an :class:`ArgumentError` when it is made. Its repr is PyTorch's, ``p=0.5,
    inplace=False``."""

    fn = None

    def __init__(self, p=0.5, inplace=False, generator=None):
        super().__init__()
        check_probability(type(self).__name__, p)
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, x):
        return type(self).fn(x, self.p, self.training, self.inplace, self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(DropoutBase):
    """Zero whole channels of (N, C, L) or (C, L) inputs in training (:func:`dropout1d`)."""
    fn = dropout1d


class Dropout2d(DropoutBase):
    """Zero whole channels of (N, C, H, W) inputs in training (:func:`dropout2d`; a 3-D
    input is taken as (N, C, L), with PyTorch's warning)."""
    fn = dropout2d


class Dropout3d(DropoutBase):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs in training
    (:func:`dropout3d`)."""
    fn = dropout3d


class AlphaDropout(DropoutBase):
    """Alpha dropout of entries in training (:func:`alpha_dropout`), the identity in eval.
    As PyTorch's module, it never writes in place: ``inplace`` is kept and shown only."""

    def forward(self, x):
        return alpha_dropout(x, self.p, self.training, False, self.generator)


class FeatureAlphaDropout(DropoutBase):
    """Alpha dropout of whole channels in training (:func:`feature_alpha_dropout`), the
    identity in eval. As PyTorch's module, it never writes in place: ``inplace`` is kept and
    shown only."""

    def forward(self, x):
        return feature_alpha_dropout(x, self.p, self.training, False, self.generator)
