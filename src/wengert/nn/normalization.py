"""Normalisation layers: LayerNorm (per sample) and BatchNorm1d (per channel, with running
statistics for evaluation)."""
import numpy as np

from ..backend import DEFAULT_FLOAT, as_dtype
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
        self.normalized_shape = ((normalized_shape,) if isinstance(normalized_shape, int)
                                 else tuple(normalized_shape))
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
