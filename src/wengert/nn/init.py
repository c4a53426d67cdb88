"""Parameter initialisation, in place and without recording a graph, as ``torch.nn.init``.

Every random initialiser takes ``generator=`` (a :class:`wengert.Generator`; default: the
global one seeded by ``wengert.manual_seed``). Fans follow PyTorch's convention for a weight
of shape (out, in, *kernel): ``fan_in = in * prod(kernel)``, ``fan_out = out *
prod(kernel)`` — which is :class:`~wengert.nn.Linear`'s (out_features, in_features) layout."""
import math

import numpy as np

from ..autodiff.grad_mode import no_grad
from ..random import default_generator
from ..errors import ArgumentError
from .errors import check_choice

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]

_GAINS = {"linear": 1.0, "identity": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0,
          "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of the weights before ``nonlinearity``: 1 for linear and
    sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for leaky_relu with
    negative slope a (``param``, default 0.01), 3/4 for selu."""
    check_choice("calculate_gain", "nonlinearity", nonlinearity,
                 tuple(_GAINS) + ("leaky_relu",))
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    return _GAINS[nonlinearity]


def _fans(tensor):
    if tensor.ndim < 2:
        raise ArgumentError(f"fan in and fan out need a tensor with at least 2 dims, got shape "
                            f"{tensor.shape}. Hint: initialise biases with uniform_/zeros_")
    receptive = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, values):
    with no_grad():
        tensor[...] = values
    return tensor


def _rng(generator):
    return (generator or default_generator()).numpy


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b); returns the tensor."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2); returns the tensor."""
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor, val):
    """Fill with ``val``; returns the tensor."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill with 0; returns the tensor."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1; returns the tensor."""
    return _fill(tensor, 1)


def _xavier_std(tensor, gain):
    fan_in, fan_out = _fans(tensor)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    check_choice("kaiming init", "mode", mode, ("fan_in", "fan_out"))
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    gain = calculate_gain(nonlinearity, a)
    # A fan of 0 comes only from an empty tensor (e.g. Linear(0, n)'s weight): there is
    # nothing to fill, as in PyTorch, rather than a division by zero.
    return gain / math.sqrt(fan) if fan else 0.0


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b) with ``b = gain * sqrt(3 / fan)``, gain from
    ``calculate_gain(nonlinearity, a)`` and fan the ``mode`` ("fan_in" or "fan_out")."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan)``."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)
