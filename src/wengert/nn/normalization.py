"""Normalisation layers: LayerNorm and RMSNorm (per sample, over trailing axes), GroupNorm
(per sample, over groups of channels) and BatchNorm1d (per channel, with running statistics
for evaluation)."""
import numpy as np

from ..backend import DEFAULT_FLOAT, as_dtype
from ..errors import ArgumentError
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class LayerNorm(Module):
    """Normalise each sample over its trailing ``normalized_shape`` axes, then scale by
    ``weight`` (ones) and shift by ``bias`` (zeros) when ``elementwise_affine``:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        self.normalized_shape = F._shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        affine = elementwise_affine
        self.register_parameter(
            "weight", Parameter(np.ones(self.normalized_shape, dtype)) if affine else None)
        self.register_parameter(
            "bias", Parameter(np.zeros(self.normalized_shape, dtype)) if affine and bias
            else None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes:
    ``y = x / sqrt(mean(x^2) + eps) * weight``, ``weight`` ones (none without
    ``elementwise_affine``); ``eps=None`` is the machine epsilon of the input's dtype."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        self.normalized_shape = F._shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.register_parameter(
            "weight", Parameter(np.ones(self.normalized_shape, dtype)) if elementwise_affine
            else None)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Group normalisation of an (N, C, ...) input: the C channels form ``num_groups``
    groups of consecutive channels, each normalised per sample over its channels and
    positions, ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with ``weight`` (ones)
    and ``bias`` (zeros) per channel when ``affine`` (no ``bias`` with ``bias=False``)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None, *,
                 bias=True):
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ArgumentError(f"GroupNorm: num_channels={num_channels} is not divisible by "
                                f"num_groups={num_groups}. Hint: each group takes "
                                "num_channels / num_groups channels; pick a divisor")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.affine = eps, affine
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.register_parameter("weight", Parameter(np.ones(num_channels, dtype)) if affine
                                else None)
        self.register_parameter("bias", Parameter(np.zeros(num_channels, dtype))
                                if affine and bias else None)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class BatchNorm1d(Module):
    """Batch normalisation of an (N, C) or (N, C, L) input, per channel C.

    Training: normalise with the batch's mean and (biased) variance and update the running
    statistics ``r = (1 - momentum) r + momentum * batch`` (variance unbiased; with
    ``momentum=None`` a cumulative average). Evaluation: normalise with the running
    statistics. Then ``* weight + bias`` when ``affine``. Buffers: ``running_mean``,
    ``running_var``, ``num_batches_tracked`` (in the state dict)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype)) if affine
                                else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype)) if affine
                                else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, x):
        # Batch statistics in training, and in evaluation when no running ones are kept.
        use_batch = self.training or self.running_mean is None
        momentum = self.momentum
        counting = self.training and self.track_running_stats
        if counting and momentum is None:  # cumulative moving average
            momentum = 1.0 / (self.num_batches_tracked.item() + 1)
        out = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                           use_batch, momentum, self.eps)
        if counting:  # after the call, so that an input it refuses leaves the count alone
            self.num_batches_tracked += 1
        return out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")
