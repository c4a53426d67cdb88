"""``wengert.nn.functional``: the stateless functions the layers call — linear, embedding,
dropout, normalisation here; the activations (from :mod:`wengert.nn.activation_functions`),
normalize and the distances (from :mod:`wengert.nn.distance`) and the losses (from
:mod:`wengert.nn.losses`) — with PyTorch's names and arguments (``dim`` for the axis).

Everything here is a composite of wengert primitives (so it differentiates in every mode)
except where a fused primitive is faster or stabler: ``linear`` and ``embedding``
(:mod:`wengert.ops.layer`) and the fused losses (:mod:`wengert.ops.loss`)."""
import numpy as np

from ..autodiff.grad_mode import no_grad
from ..errors import ArgumentError, ShapeError
from ..ops import layer as _layer
from ..ops.elementwise import sigmoid, sqrt, tanh
from .activation_functions import _in_place
from ..ops.index import index_put
from ..ops.reduce import mean, var
from ..ops.shape import reshape
from ..random import default_generator
from ..tensor import Tensor
from .activation_functions import (celu, elu, gelu, glu, hardsigmoid, hardswish, hardtanh,
                                   leaky_relu, log_softmax, logsigmoid, maxout, mish, prelu,
                                   relu6, selu, silu, softmax, softmin, softplus, softsign,
                                   tanhshrink, threshold)
from .activation_functions import (celu_, elu_, hardtanh_, leaky_relu_, relu, relu_, selu_,
                                   threshold_)
from .distance import cosine_similarity, normalize, pairwise_distance
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                   conv_transpose3d)
from .padding import pad
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, kl_div, l1_loss, l2_penalty, mse_loss, nll_loss,
                     smooth_l1_loss)
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                      adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                      avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d)

__all__ = ["linear", "embedding", "dropout", "layer_norm", "batch_norm", "rms_norm", "group_norm",
           "normalize", "cosine_similarity", "pairwise_distance", "relu", "sigmoid", "tanh",
           "leaky_relu", "elu", "gelu", "silu", "softplus", "maxout", "softmax", "log_softmax",
           "softmin", "hardtanh", "relu6", "hardsigmoid", "hardswish", "threshold", "logsigmoid",
           "mish", "selu", "celu", "softsign", "tanhshrink", "glu", "prelu", "relu_", "elu_",
           "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_", "mse_loss", "l1_loss",
           "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "l2_penalty",
           "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "pad"]


# --- layers ---------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: weight has shape (out_features, in_features), as
    PyTorch's; the input's last axis has in_features entries."""
    return _layer.linear(input, weight) if bias is None else _layer.linear(input, weight, bias)


def embedding(input, weight, padding_idx=None, sparse=False):
    """Rows of ``weight`` (num_embeddings x dim) at the integer indices ``input`` (any
    shape); the result has shape ``input.shape + (dim,)``. ``sparse=True`` makes the weight's
    gradient a :class:`~wengert.sparse.RowSparse` of the rows used. Entries equal to
    ``padding_idx`` (negative counts from the end) read that row but send it no gradient,
    as PyTorch's: the sparse gradient leaves the row out."""
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if padding_idx is None:
        return _layer.embedding(weight, indices=indices, sparse=sparse)
    padding_idx = _padding_index("embedding", padding_idx, weight.shape[0])
    padded = indices == padding_idx
    if not padded.any():
        return _layer.embedding(weight, indices=indices, sparse=sparse)
    # Look up the other entries (their rows get the gradient) and put them into a constant
    # that holds the padding row's values at the padded entries.
    others = ~padded
    rows = _layer.embedding(weight, indices=indices[others], sparse=sparse)
    data = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    base = np.zeros(indices.shape + data.shape[1:], data.dtype)
    base[padded] = data[padding_idx]
    return index_put(base, rows, key=np.nonzero(others))


def _padding_index(where_, padding_idx, num_embeddings):
    """``padding_idx`` in [0, num_embeddings) (a negative one counts from the end)."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ArgumentError(f"{where_}: padding_idx={padding_idx} must be in "
                            f"[-{num_embeddings}, {num_embeddings}) for {num_embeddings} "
                            "embeddings")
    return padding_idx % num_embeddings


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero each entry with probability ``p`` and scale the rest by ``1/(1-p)`` (inverted
    dropout, so evaluation needs no rescaling); the identity when not ``training``. The mask
    comes from ``generator`` (default: wengert's global one, seeded by ``manual_seed``).
    ``inplace=True`` writes the result into ``input`` and returns it, as PyTorch's."""
    if not 0 <= p <= 1:
        raise ArgumentError(f"dropout: p={p} is not a probability; use 0 <= p <= 1")
    if not training or p == 0:
        return input
    if p == 1:
        scale = 0
    else:
        dtype = input.dtype if input.dtype in (np.float32, np.float64) else np.float64
        keep = (generator or default_generator()).numpy.random(input.shape, dtype=dtype) >= p
        scale = np.multiply(keep, 1 / (1 - p), dtype=input.dtype)
    if inplace:
        # input * scale reads no array of the input's for its gradient: no copy is kept
        return _in_place("dropout_", input, lambda x: x * scale, False)
    return input * scale


def _shape_tuple(normalized_shape):
    """A normalized shape as a tuple (an int is a one-axis shape), as the norm layers keep it."""
    return ((normalized_shape,) if isinstance(normalized_shape, int)
            else tuple(normalized_shape))


def _trailing_axes(where_, input, normalized_shape):
    """The (negative) axes that ``normalized_shape`` covers at the end of ``input``."""
    shape = _shape_tuple(normalized_shape)
    if len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ShapeError(f"{where_}: input of shape {input.shape} does not end in the "
                         f"normalized shape {shape}. Hint: normalized_shape is the trailing "
                         "axes, e.g. the feature size of an (N, features) input")
    return tuple(range(-len(shape), 0))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` axes to mean 0 and variance 1
    (biased variance, ``eps`` added), then scale by ``weight`` and shift by ``bias``."""
    axes = _trailing_axes("layer_norm", input, normalized_shape)
    centred = input - mean(input, axis=axes, keepdims=True)
    out = centred / sqrt(var(input, axis=axes, keepdims=True) + eps)
    return _affine(out, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes:
    ``x / sqrt(mean(x^2) + eps) * weight`` (no centring, no bias). ``eps=None`` is the
    machine epsilon of the input's dtype, as PyTorch's."""
    axes = _trailing_axes("rms_norm", input, normalized_shape)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    out = input / sqrt(mean(input * input, axis=axes, keepdims=True) + eps)
    return _affine(out, weight, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels (axis 1 of an (N, C, ...) input) into ``num_groups`` groups of
    consecutive channels and normalise each group of each sample to mean 0 and variance 1
    (biased, ``eps`` added) over its channels and positions; then scale by ``weight`` and
    shift by ``bias``, one entry per channel."""
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected an (N, C, ...) input, got shape {input.shape}. "
                         "Hint: add a batch axis, x[None]")
    channels = input.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ShapeError(f"group_norm: the input of shape {input.shape} has {channels} "
                         f"channels (axis 1), not divisible into num_groups={num_groups} "
                         "groups. Hint: pick num_groups dividing the number of channels")
    _check_per_channel("group_norm", "GroupNorm(num_groups, num_channels) needs num_channels",
                       input, weight=weight, bias=bias)
    grouped = reshape(input, shape=(input.shape[0], num_groups, -1))
    centred = grouped - mean(grouped, axis=2, keepdims=True)
    out = reshape(centred / sqrt(var(grouped, axis=2, keepdims=True) + eps), shape=input.shape)
    return _per_channel_affine(out, weight, bias)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1 of an (N, C) or (N, C, L) input) with the batch's
    statistics when ``training`` (and update the running ones in place:
    ``r = (1 - momentum) r + momentum * batch``, the variance unbiased), else with the
    running statistics; then scale by ``weight`` and shift by ``bias``."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"batch_norm: expected an (N, C) or (N, C, L) input, got shape "
                         f"{input.shape}")
    channels = input.shape[1]
    # Checked here, before the running statistics are written: a (1,) statistic against C
    # channels, or C statistics against one channel, would otherwise broadcast silently.
    _check_per_channel("batch_norm", "BatchNorm1d(num_features) needs num_features", input,
                       running_mean=running_mean, running_var=running_var, weight=weight,
                       bias=bias)
    has_stats = running_mean is not None
    if has_stats != (running_var is not None) or not (training or has_stats):
        raise ArgumentError("batch_norm: give both running_mean and running_var (evaluation, "
                            "training=False, normalises with them), or neither in training. "
                            "Hint: pass training=True to use the batch's statistics")
    axes = (0,) if input.ndim == 2 else (0, 2)
    stat_shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        count = input.size // input.shape[1]
        if count < 2:
            raise ShapeError(f"batch_norm: training needs more than one value per channel, "
                             f"got an input of shape {input.shape}. Hint: use a batch larger "
                             "than 1, or call model.eval()")
        batch_mean = mean(input, axis=axes, keepdims=True)
        batch_var = var(input, axis=axes, keepdims=True)
        if running_mean is not None:
            with no_grad():
                running_mean[...] = ((1 - momentum) * running_mean.data
                                     + momentum * batch_mean.data.reshape(-1))
                running_var[...] = ((1 - momentum) * running_var.data
                                    + momentum * batch_var.data.reshape(-1) * count / (count - 1))
        centred, spread = input - batch_mean, batch_var
    else:
        centred = input - reshape(running_mean, shape=stat_shape)
        spread = reshape(running_var, shape=stat_shape)
    return _per_channel_affine(centred / sqrt(spread + eps), weight, bias)


def _check_per_channel(where_, needs, input, **tensors):
    """Each of ``tensors`` (None or not) has one entry per channel, axis 1 of ``input``;
    ``needs`` names the layer's size argument for the hint."""
    channels = input.shape[1]
    for name, t in tensors.items():
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"{where_}: {name} of shape {tuple(t.shape)} does not fit an "
                             f"input of shape {input.shape} with {channels} channels (axis 1). "
                             f"Hint: {needs} = input.shape[1] = {channels}")


def _per_channel_affine(x, weight, bias):
    """``x * weight + bias`` with (C,) weight and bias on axis 1 of an (N, C, ...) ``x``."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return _affine(x, None if weight is None else reshape(weight, shape=shape),
                   None if bias is None else reshape(bias, shape=shape))


def _affine(x, weight, bias):
    if weight is not None:
        x = x * weight
    if bias is not None:
        x = x + bias
    return x
