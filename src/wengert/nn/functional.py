"""``wengert.nn.functional``: the stateless functions the layers call — linear, embedding,
dropout, normalisation, activations — and the losses (from :mod:`wengert.nn.losses`), with
PyTorch's names and arguments (``dim`` for the axis).

Everything here is a composite of wengert primitives (so it differentiates in every mode)
except where a fused primitive is faster or stabler: ``linear`` and ``embedding``
(:mod:`wengert.ops.layer`) and the fused losses (:mod:`wengert.ops.loss`)."""
import math

import numpy as np

from ..autodiff.grad_mode import no_grad
from ..errors import ArgumentError, ShapeError
from ..ops import layer as _layer
from ..ops.activation import log_softmax as _log_softmax, softmax as _softmax
from ..ops.index import index_put
from ..ops.elementwise import (elu as _elu, erf, leaky_relu as _leaky_relu, relu, sigmoid,
                               softplus as _softplus, sqrt, tanh, where)
from ..ops.reduce import max as _max, mean, var
from ..ops.shape import reshape
from ..random import default_generator
from ..tensor import Tensor
from .errors import check_choice
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, kl_div, l1_loss, l2_penalty, mse_loss, nll_loss,
                     smooth_l1_loss)

__all__ = ["linear", "embedding", "dropout", "layer_norm", "batch_norm", "relu", "sigmoid",
           "tanh", "leaky_relu", "elu", "gelu", "silu", "softplus", "maxout", "softmax",
           "log_softmax", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "nll_loss", "kl_div", "l2_penalty"]


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
    padding_idx = padding_index("embedding", padding_idx, weight.shape[0])
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


def padding_index(where_, padding_idx, num_embeddings):
    """``padding_idx`` in [0, num_embeddings) (a negative one counts from the end)."""
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ArgumentError(f"{where_}: padding_idx={padding_idx} must be in "
                            f"[-{num_embeddings}, {num_embeddings}) for {num_embeddings} "
                            "embeddings")
    return padding_idx % num_embeddings


def dropout(input, p=0.5, training=True, generator=None):
    """Zero each entry with probability ``p`` and scale the rest by ``1/(1-p)`` (inverted
    dropout, so evaluation needs no rescaling); the identity when not ``training``. The mask
    comes from ``generator`` (default: wengert's global one, seeded by ``manual_seed``)."""
    if not 0 <= p <= 1:
        raise ArgumentError(f"dropout: p={p} is not a probability; use 0 <= p <= 1")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    dtype = input.dtype if input.dtype in (np.float32, np.float64) else np.float64
    keep = (generator or default_generator()).numpy.random(input.shape, dtype=dtype) >= p
    return input * np.multiply(keep, 1 / (1 - p), dtype=input.dtype)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` axes to mean 0 and variance 1
    (biased variance, ``eps`` added), then scale by ``weight`` and shift by ``bias``."""
    normalized_shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                        else tuple(normalized_shape))
    if tuple(input.shape[input.ndim - len(normalized_shape):]) != normalized_shape:
        raise ShapeError(f"layer_norm: input of shape {input.shape} does not end in the "
                         f"normalized shape {normalized_shape}")
    axes = tuple(range(-len(normalized_shape), 0))
    centred = input - mean(input, axis=axes, keepdims=True)
    out = centred / sqrt(var(input, axis=axes, keepdims=True) + eps)
    return _affine(out, weight, bias)


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
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"batch_norm: {name} of shape {tuple(t.shape)} does not fit an "
                             f"input of shape {input.shape} with {channels} channels (axis 1). "
                             f"Hint: BatchNorm1d(num_features) needs num_features = "
                             f"input.shape[1] = {channels}")
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
    out = centred / sqrt(spread + eps)
    if weight is not None:
        weight = reshape(weight, shape=stat_shape)
    if bias is not None:
        bias = reshape(bias, shape=stat_shape)
    return _affine(out, weight, bias)


def _affine(x, weight, bias):
    if weight is not None:
        x = x * weight
    if bias is not None:
        x = x + bias
    return x


# --- activations ----------------------------------------------------------------------------
def leaky_relu(input, negative_slope=0.01):
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""
    return _leaky_relu(input, negative_slope=negative_slope)


def elu(input, alpha=1.0):
    """``x`` for x > 0, ``alpha * (e^x - 1)`` otherwise."""
    return _elu(input, alpha=alpha)


def gelu(input, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x) = x/2 (1 + erf(x / sqrt 2))``; with
    ``approximate="tanh"``, ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``."""
    check_choice("gelu", "approximate", approximate, ("none", "tanh"))
    if approximate == "tanh":
        return 0.5 * input * (1 + tanh(math.sqrt(2 / math.pi) * (input + 0.044715 * input ** 3)))
    return 0.5 * input * (1 + erf(input * (1 / math.sqrt(2))))


def silu(input):
    """Sigmoid linear unit (swish) ``x * sigmoid(x)``."""
    return input * sigmoid(input)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + e^(beta x)) / beta``, and ``x`` itself where ``beta * x > threshold`` (as
    PyTorch; the stable form needs no threshold, it only keeps the values identical)."""
    scaled = input * beta
    return where(scaled > threshold, input, _softplus(scaled) / beta)


def maxout(input, k, dim=-1):
    """Maxout: the max over groups of ``k`` consecutive entries along ``dim`` (whose size
    must be a multiple of k): shape (..., k*m) -> (..., m). Each group is the k linear
    pieces that a preceding layer computes for one unit."""
    dim = dim % input.ndim
    size = input.shape[dim]
    if k < 1 or size % k:
        raise ShapeError(f"maxout: axis {dim} of the input of shape {input.shape} has {size} "
                         f"entries, not a multiple of k={k}")
    grouped = reshape(input, shape=input.shape[:dim] + (size // k, k) + input.shape[dim + 1:])
    return _max(grouped, axis=dim + 1)


def softmax(input, dim=-1):
    """``exp(x) / sum(exp(x))`` along ``dim``, stable for any finite input."""
    return _softmax(input, axis=dim)


def log_softmax(input, dim=-1):
    """``x - logsumexp(x)`` along ``dim``, stable for any finite input."""
    return _log_softmax(input, axis=dim)
