"""``wengert.nn.functional``: the stateless functions the layers call — linear, embedding,
dropout, normalisation here; the activations (from :mod:`wengert.nn.activation_functions`),
normalize and the distances (from :mod:`wengert.nn.distance`) and the losses (from
:mod:`wengert.nn.losses`) — with PyTorch's names and arguments (``dim`` for the axis).

Everything here is a composite of wengert primitives (so it differentiates in every mode)
except where a fused primitive is faster or stabler: ``linear`` and ``embedding``
(:mod:`wengert.ops.layer`) and the fused losses (:mod:`wengert.ops.loss`)."""
import numpy as np

from ..autodiff.batching import Batched, per_example
from ..autodiff.grad_mode import no_grad
from ..errors import ArgumentError, ShapeError
from ..ops import layer as _layer
from ..ops.elementwise import sigmoid, sqrt, tanh, where
from .dropout import (alpha_dropout, drop as _drop, dropout1d, dropout2d, dropout3d,
                      feature_alpha_dropout)
from ..ops import index as _index
from ..ops.index import index_put
from ..ops.reduce import mean, var
from ..ops.shape import reshape
from ..tensor import Tensor
from .activation_functions import (celu, elu, gelu, glu, hardsigmoid, hardswish, hardtanh,
                                   leaky_relu, log_softmax, logsigmoid, maxout, mish, prelu,
                                   relu6, selu, silu, softmax, softmin, softplus, softsign,
                                   tanhshrink, threshold)
from .activation_functions import (celu_, elu_, hardtanh_, leaky_relu_, relu, relu_, selu_,
                                   threshold_)
from .activation_functions import gumbel_softmax, hardshrink, rrelu, rrelu_, softshrink
from .distance import cosine_similarity, normalize, pairwise_distance
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                   conv_transpose3d)
from .padding import pad
from .attention import scaled_dot_product_attention
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, kl_div, l1_loss, l2_penalty, mse_loss, nll_loss,
                     smooth_l1_loss)
from .losses import _as_array
from .likelihood_losses import gaussian_nll_loss, poisson_nll_loss
from .margin_losses import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,
                            multi_margin_loss, multilabel_margin_loss,
                            multilabel_soft_margin_loss, soft_margin_loss,
                            triplet_margin_loss, triplet_margin_with_distance_loss)
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d,
                      adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                      avg_pool1d, avg_pool2d, avg_pool3d, max_pool1d, max_pool2d, max_pool3d)
from .fold import fold, unfold
from .pixel_shuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from .upsampling import interpolate

__all__ = ["linear", "embedding", "dropout", "layer_norm", "batch_norm", "rms_norm", "group_norm",
           "instance_norm", "local_response_norm",
           "normalize", "cosine_similarity", "pairwise_distance", "relu", "sigmoid", "tanh",
           "leaky_relu", "elu", "gelu", "silu", "softplus", "maxout", "softmax", "log_softmax",
           "softmin", "hardtanh", "relu6", "hardsigmoid", "hardswish", "threshold", "logsigmoid",
           "mish", "selu", "celu", "softsign", "tanhshrink", "glu", "prelu", "relu_", "elu_",
           "leaky_relu_", "hardtanh_", "threshold_", "celu_", "selu_",
           "hardshrink", "softshrink", "rrelu", "rrelu_", "gumbel_softmax", "one_hot",
           "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
           "mse_loss", "l1_loss",
           "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div", "l2_penalty",
           "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
           "multi_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
           "poisson_nll_loss", "gaussian_nll_loss",
           "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
           "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "pad",
           "fold", "unfold", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "interpolate",
           "scaled_dot_product_attention"]


# --- layers ---------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: weight has shape (out_features, in_features), as
    PyTorch's; the input's last axis has in_features entries."""
    return _layer.linear(input, weight) if bias is None else _layer.linear(input, weight, bias)


def one_hot(tensor, num_classes=-1):
    """PyTorch's: int64 rows of the identity, shape ``tensor.shape + (num_classes,)``, for the
    integer class indices ``tensor``; ``num_classes=-1`` takes the largest index + 1 (an
    empty tensor then has no classes to infer: a ``ShapeError``). Indices of any integer
    dtype are taken (PyTorch takes int64 only). ``wg.one_hot`` is NumPy-style: it needs
    ``num_classes`` and returns float32 unless given ``dtype``."""
    # a Tensor goes to the primitive as it is, so that under vmap it runs on the batch
    indices = tensor if isinstance(tensor, Tensor) else np.asarray(tensor)
    if num_classes == -1 and np.dtype(indices.dtype).kind in "iu":
        if indices.size == 0:
            raise ShapeError(f"one_hot: cannot infer the number of classes from an empty "
                             f"tensor (shape {indices.shape}). Hint: pass num_classes")
        num_classes = max(int(indices.max()) + 1, 0)
    return _index.one_hot(indices, num_classes=num_classes, dtype=np.int64)


def embedding(input, weight, padding_idx=None, sparse=False):
    """Rows of ``weight`` (num_embeddings x dim) at the integer indices ``input`` (any
    shape); the result has shape ``input.shape + (dim,)``. ``sparse=True`` makes the weight's
    gradient a :class:`~wengert.sparse.RowSparse` of the rows used. Entries equal to
    ``padding_idx`` (negative counts from the end) read that row but send it no gradient,
    as PyTorch's: the sparse gradient leaves the row out."""
    if padding_idx is None:
        # inside vmap a batched input goes as it is: the primitive's rule looks them all up
        indices = input if type(input) is Batched else _indices(input)
        return _layer.embedding(weight, indices=indices, sparse=sparse)
    if type(input) is Batched or type(weight) is Batched:
        return _batched_padded_embedding(input, weight, padding_idx, sparse)
    return _padded_embedding(input, weight, padding_idx, sparse)


def _batched_padded_embedding(input, weight, padding_idx, sparse):
    """:func:`embedding` with ``padding_idx`` inside ``vmap``, without reading the indices:
    every entry looked up twice, through the weight and through a detached copy of it, and
    the padded entries taken from the copy, so that they send the padding row no gradient."""
    padding_idx = _padding_index("embedding", padding_idx, weight.shape[0])
    indices = input if type(input) is Batched else _indices(input)
    rows = _layer.embedding(weight, indices=indices, sparse=sparse)
    constant = _layer.embedding(weight.detach(), indices=indices)
    return where((indices == padding_idx)[..., None], constant, rows)


def _indices(input):
    return input.data if isinstance(input, Tensor) else np.asarray(input)


@per_example  # reads the indices (vmap goes to _batched_padded_embedding)
def _padded_embedding(input, weight, padding_idx, sparse):
    indices = _indices(input)
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
    return _drop("dropout", input, p, training, inplace, generator)


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
    (biased variance, ``eps`` added), then scale by ``weight`` and shift by ``bias``. An
    empty input has no values to normalise: it is only scaled and shifted, as PyTorch's."""
    axes = _trailing_axes("layer_norm", input, normalized_shape)
    if input.size == 0:  # a mean over an empty axis would be an error
        return _affine(input, weight, bias)
    centred = input - mean(input, axis=axes, keepdims=True)
    out = centred / sqrt(var(input, axis=axes, keepdims=True) + eps)
    return _affine(out, weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes:
    ``x / sqrt(mean(x^2) + eps) * weight`` (no centring, no bias). ``eps=None`` is the
    machine epsilon of the input's dtype, as PyTorch's. An empty input is only scaled."""
    axes = _trailing_axes("rms_norm", input, normalized_shape)
    if input.size == 0:  # a mean over an empty axis would be an error
        return _affine(input, weight, None)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    out = input / sqrt(mean(input * input, axis=axes, keepdims=True) + eps)
    return _affine(out, weight, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels (axis 1 of an (N, C, ...) input) into ``num_groups`` groups of
    consecutive channels and normalise each group of each sample to mean 0 and variance 1
    (biased, ``eps`` added) over its channels and positions; then scale by ``weight`` and
    shift by ``bias``, one entry per channel. An empty input (N = 0, or no positions) is
    only scaled and shifted, as PyTorch's (whose ``weight`` gradient is then NaN where there
    are no positions; wengert's is 0, the sum over no entries)."""
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
    if input.size == 0:  # no group to reshape to (-1 is ambiguous) or to take a mean of
        return _per_channel_affine(input, weight, bias)
    grouped = reshape(input, shape=(input.shape[0], num_groups, -1))
    centred = grouped - mean(grouped, axis=2, keepdims=True)
    out = reshape(centred / sqrt(var(grouped, axis=2, keepdims=True) + eps), shape=input.shape)
    return _per_channel_affine(out, weight, bias)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalise each channel (axis 1 of an (N, C, ...) input: (N, C), (N, C, L),
    (N, C, H, W), (N, C, D, H, W)...) over the batch and positions (every axis but 1):
    with the batch's statistics when ``training`` (and update the running ones in place:
    ``r = (1 - momentum) r + momentum * batch``, the variance unbiased), else with the
    running statistics; then scale by ``weight`` and shift by ``bias``.

    As PyTorch's: ``eps`` must be positive in training and non-negative in evaluation, and
    a training batch with no values (N = 0 or an empty position axis) comes back as it is,
    leaving the running statistics alone."""
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected an (N, C, ...) input, got shape {input.shape}. "
                         "Hint: add a batch axis, x[None]")
    layer = _BATCH_NORM_LAYERS.get(input.ndim)
    # Checked here, before the running statistics are written: a (1,) statistic against C
    # channels, or C statistics against one channel, would otherwise broadcast silently.
    _check_per_channel("batch_norm", f"{layer}(num_features) needs num_features" if layer
                       else "num_features", input, running_mean=running_mean,
                       running_var=running_var, weight=weight, bias=bias)
    _check_running_pair("batch_norm", running_mean, running_var, training, "training")
    if eps <= 0 if training else eps < 0:
        raise ArgumentError(f"batch_norm: eps={eps} must be positive in training and "
                            "non-negative in evaluation, as PyTorch's. Hint: eps keeps "
                            "x / sqrt(var + eps) finite on a constant channel; the default "
                            "is 1e-5")
    if not training:
        return _per_channel_affine(_with_running_stats(input, running_mean, running_var, eps),
                                   weight, bias)
    count = input.shape[0] * int(np.prod(input.shape[2:]))
    if count == 1:
        raise ShapeError(f"batch_norm: training needs more than one value per channel, "
                         f"got an input of shape {input.shape}. Hint: use a batch larger "
                         "than 1, or call model.eval()")
    if input.size == 0:  # no values to normalise or to learn statistics from
        return _per_channel_affine(input, weight, bias)
    axes = (0,) + tuple(range(2, input.ndim))
    batch_mean = mean(input, axis=axes, keepdims=True)
    batch_var = var(input, axis=axes, keepdims=True)
    if running_mean is not None:
        _update_running(running_mean, running_var, momentum, batch_mean.data.reshape(-1),
                        batch_var.data.reshape(-1) * count / (count - 1))
    return _per_channel_affine((input - batch_mean) / sqrt(batch_var + eps), weight, bias)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample (axis 1 of an (N, C, ...) input) over its
    positions (axes 2 on) to mean 0 and variance 1 (biased, ``eps`` added) with
    ``use_input_stats``, then scale by ``weight`` and shift by ``bias``, one entry per channel.

    With ``use_input_stats`` the running statistics, when given, are updated in place with
    the batch's mean of the per-sample statistics (variances unbiased):
    ``r = (1 - momentum) r + momentum * mean_n(stat_n)``; without it the input is normalised
    with them, as ``batch_norm`` in evaluation. As PyTorch's, normalising with the input's
    statistics needs more than one position per channel (so an (N, C) input only without),
    and an input with no values comes back as it is. Unlike PyTorch, which writes NaN into
    the running statistics for an empty batch (N = 0), they are left alone."""
    if input.ndim < 2:
        raise ShapeError(f"instance_norm: expected an (N, C, ...) input, got shape "
                         f"{input.shape}. Hint: add a batch axis, x[None]")
    layer = _INSTANCE_NORM_LAYERS.get(input.ndim)
    _check_per_channel("instance_norm", f"{layer}(num_features) needs num_features" if layer
                       else "num_features", input, running_mean=running_mean,
                       running_var=running_var, weight=weight, bias=bias)
    _check_running_pair("instance_norm", running_mean, running_var, use_input_stats,
                        "use_input_stats")
    if not use_input_stats:
        return _per_channel_affine(_with_running_stats(input, running_mean, running_var, eps),
                                   weight, bias)
    count = int(np.prod(input.shape[2:]))
    if count == 1:
        raise ShapeError(f"instance_norm: normalising with the input's statistics needs more "
                         f"than one position per channel, got an input of shape "
                         f"{input.shape}. Hint: instance norm takes (N, C, L), (N, C, H, W) "
                         "or (N, C, D, H, W) inputs; for (N, C) features use batch_norm or "
                         "layer_norm")
    if input.size == 0:
        return _per_channel_affine(input, weight, bias)
    axes = tuple(range(2, input.ndim))
    sample_mean = mean(input, axis=axes, keepdims=True)
    sample_var = var(input, axis=axes, keepdims=True)
    if running_mean is not None:
        per_sample = input.shape[:2]
        _update_running(running_mean, running_var, momentum,
                        sample_mean.data.reshape(per_sample).mean(axis=0),
                        (sample_var.data.reshape(per_sample) * count / (count - 1)).mean(axis=0))
    return _per_channel_affine((input - sample_mean) / sqrt(sample_var + eps), weight, bias)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (axis 1 of an (N, C, ...) input with at
    least one position axis): ``y_c = x_c / (k + alpha / size * sum x_c'^2) ** beta``, the
    sum over the ``size`` channels ``c - size // 2 ... c + (size - 1) // 2``, counting
    channels past either end as zeros (as PyTorch's, which divides by ``size`` there too)."""
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ArgumentError(f"local_response_norm: size={size!r} must be a positive int (the "
                            "number of neighbouring channels summed). Hint: e.g. size=5, as "
                            "in AlexNet")
    if input.ndim < 3:
        raise ShapeError(f"local_response_norm: expected an input with 3 or more dims, "
                         f"(N, C, L), (N, C, H, W)..., got shape {input.shape}. Hint: add "
                         "a position axis, x[..., None]")
    if input.size == 0:
        return input
    shape = tuple(input.shape)
    # The channels become the first pooled axis of one image per sample, the positions the
    # second: a (size, 1) average pool is then the mean over each channel window.
    squares = reshape(input * input, shape=(shape[0], 1, shape[1], -1))
    window_mean = avg_pool2d(pad(squares, (0, 0, size // 2, (size - 1) // 2)), (size, 1),
                             stride=1)
    return input / (reshape(window_mean, shape=shape) * alpha + k) ** beta


# The layer whose num_features the channel hints name, by the input's number of dims.
_BATCH_NORM_LAYERS = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}
_INSTANCE_NORM_LAYERS = {3: "InstanceNorm1d", 4: "InstanceNorm2d", 5: "InstanceNorm3d"}


def _check_running_pair(where_, running_mean, running_var, uses_input, flag):
    """Both running statistics or neither, and both where the input's are not used."""
    has_stats = running_mean is not None
    if has_stats != (running_var is not None) or not (uses_input or has_stats):
        raise ArgumentError(f"{where_}: give both running_mean and running_var "
                            f"({flag}=False normalises with them), or neither with "
                            f"{flag}=True. Hint: pass {flag}=True to use the input's "
                            "statistics")


def _with_running_stats(input, running_mean, running_var, eps):
    """``(x - running_mean) / sqrt(running_var + eps)`` per channel, axis 1 of ``input``."""
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    return ((input - reshape(running_mean, shape=shape))
            / sqrt(reshape(running_var, shape=shape) + eps))


def _update_running(running_mean, running_var, momentum, batch_mean, batch_var):
    """``r = (1 - momentum) r + momentum * batch`` in place, from the (C,) arrays of the
    batch's mean and unbiased variance; the running statistics are Tensors or NumPy arrays
    (whose ``.data`` is a raw buffer, not their values)."""
    with no_grad():
        running_mean[...] = (1 - momentum) * _as_array(running_mean) + momentum * batch_mean
        running_var[...] = (1 - momentum) * _as_array(running_var) + momentum * batch_var


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
