"""Normalisation layers: LayerNorm and RMSNorm (per sample, over trailing axes), GroupNorm
(per sample, over groups of channels), BatchNorm1d/2d/3d (per channel over the batch, with
running statistics for evaluation), InstanceNorm1d/2d/3d (per sample and channel) and
LocalResponseNorm (across neighbouring channels)."""
import warnings

import numpy as np

from ..autodiff.grad_mode import no_grad
from ..backend import DEFAULT_FLOAT, as_dtype
from ..errors import ArgumentError, ShapeError
from ..ops.shape import reshape
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


class _NormBase(Module):
    """What batch and instance normalisation share: (C,) ``weight`` (ones) and ``bias``
    (zeros) when ``affine`` (no ``bias`` with ``bias=False``), and with
    ``track_running_stats`` the buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` (0, int64), in PyTorch's order and with its state-dict keys.
    A subclass names the input dims it takes (``_dims``, as ``_layout`` in words)."""

    _dims, _layout = (), ""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, dtype, bias):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype)) if affine
                                else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype))
                                if affine and bias else None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        """Set the running mean to 0, the running variance to 1 and the count to 0."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean[...] = 0
                self.running_var[...] = 1
                self.num_batches_tracked[...] = 0

    def reset_parameters(self):
        """:meth:`reset_running_stats`, and ``weight`` back to ones, ``bias`` to zeros."""
        self.reset_running_stats()
        with no_grad():
            for p, value in ((self.weight, 1), (self.bias, 0)):
                if p is not None:
                    p[...] = value

    def _check_input_dim(self, input):
        if input.ndim not in self._dims:
            name = type(self).__name__
            dims = " or ".join(f"{d}D" for d in self._dims)
            raise ShapeError(f"{name}: expected {dims} input (got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}). Hint: {name} takes {self._layout}; "
                             "pick the 1d, 2d or 3d layer that fits the input")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Batch normalisation of an (N, C, ...) input, per channel C (see :class:`BatchNorm1d`)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def forward(self, input):
        self._check_input_dim(input)
        counting = (self.training and self.track_running_stats
                    and self.num_batches_tracked is not None)
        momentum = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:  # cumulative moving average
            momentum = 1.0 / (self.num_batches_tracked.item() + 1)
        # Batch statistics in training, and in evaluation when no running ones are kept; the
        # running ones go in where they are used (evaluation) or updated (training, tracked).
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        passed = not self.training or self.track_running_stats
        out = F.batch_norm(input, self.running_mean if passed else None,
                           self.running_var if passed else None, self.weight, self.bias,
                           use_batch, momentum, self.eps)
        if counting:  # after the call, so that an input it refuses leaves the count alone
            self.num_batches_tracked += 1
        return out


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of an (N, C) or (N, C, L) input, per channel C.

    Training: normalise with the batch's mean and (biased) variance over N (and L) and update
    the running statistics ``r = (1 - momentum) r + momentum * batch`` (variance unbiased;
    with ``momentum=None`` a cumulative average over the ``num_batches_tracked`` batches).
    Evaluation: normalise with the running statistics (with the batch's when
    ``track_running_stats=False``). Then ``* weight + bias`` when ``affine`` (no ``bias``
    with ``bias=False``). Buffers: ``running_mean``, ``running_var``,
    ``num_batches_tracked`` (in the state dict). Unlike PyTorch, which counts the batch
    first, an input that ``batch_norm`` refuses leaves ``num_batches_tracked`` as it was."""

    _dims, _layout = (2, 3), "(N, C) or (N, C, L) inputs"


class BatchNorm2d(_BatchNorm):
    """:class:`BatchNorm1d` for an (N, C, H, W) input: each channel normalised over N, H
    and W."""

    _dims, _layout = (4,), "(N, C, H, W) inputs"


class BatchNorm3d(_BatchNorm):
    """:class:`BatchNorm1d` for an (N, C, D, H, W) input: each channel normalised over N,
    D, H and W."""

    _dims, _layout = (5,), "(N, C, D, H, W) inputs"


class _InstanceNorm(_NormBase):
    """Instance normalisation, per sample and channel (see :class:`InstanceNorm1d`)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.ndim == self._dims[0]
        channel_dim = 0 if unbatched else 1
        channels = input.shape[channel_dim]
        if channels != self.num_features:
            name = type(self).__name__
            if self.affine:
                raise ShapeError(f"{name}: expected the input's size at dim={channel_dim} to "
                                 f"match num_features ({self.num_features}), but got "
                                 f"{channels} (input of shape {tuple(input.shape)}). Hint: "
                                 f"{name}(num_features) needs num_features = {channels}")
            warnings.warn(f"{name}: the input's size at dim={channel_dim} ({channels}) does not "
                          f"match num_features ({self.num_features}), which is not used "
                          "because affine=False. Hint: pass the number of channels to "
                          "silence this warning", UserWarning, stacklevel=2)
        x = reshape(input, shape=(1,) + tuple(input.shape)) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              0.0 if self.momentum is None else self.momentum, self.eps)
        return reshape(out, shape=tuple(input.shape)) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of an (N, C, L) or unbatched (C, L) input: each channel of
    each sample normalised over L, ``(x - mean) / sqrt(var + eps)`` (biased variance), in
    training and evaluation alike; then ``* weight + bias`` per channel with ``affine=True``
    (default False; no ``bias`` with ``bias=False``).

    With ``track_running_stats=True`` (default False) training also updates ``running_mean``
    and ``running_var`` (``r = (1 - momentum) r + momentum * s``, ``s`` the batch's mean of
    the per-sample statistics, variances unbiased; ``momentum=None`` updates nothing) and
    evaluation normalises with them; ``num_batches_tracked`` is kept but, as in PyTorch,
    never counted. As in PyTorch, an input whose channels are not ``num_features`` is an
    error with ``affine=True`` and a warning without."""

    _dims, _layout = (2, 3), "(N, C, L) or unbatched (C, L) inputs"


class InstanceNorm2d(_InstanceNorm):
    """:class:`InstanceNorm1d` for an (N, C, H, W) or unbatched (C, H, W) input: each
    channel of each sample normalised over H and W."""

    _dims, _layout = (3, 4), "(N, C, H, W) or unbatched (C, H, W) inputs"


class InstanceNorm3d(_InstanceNorm):
    """:class:`InstanceNorm1d` for an (N, C, D, H, W) or unbatched (C, D, H, W) input: each
    channel of each sample normalised over D, H and W."""

    _dims, _layout = (4, 5), "(N, C, D, H, W) or unbatched (C, D, H, W) inputs"


class LocalResponseNorm(Module):
    """Local response normalisation across channels of an (N, C, ...) input (at least 3
    dims): ``y_c = x_c / (k + alpha / size * sum x_c'^2) ** beta`` over the ``size``
    channels around c (see :func:`~wengert.nn.functional.local_response_norm`)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
