"""Activation functions as modules (each calls its ``nn.functional`` counterpart with the
options it was made with; PReLU holds its slopes as a parameter), and the name table that
``MLP`` and :func:`get_activation` read."""
import numpy as np

from ..backend import DEFAULT_FLOAT, as_dtype
from ..errors import ArgumentError, ShapeError
from . import functional as F
from .layers import Identity
from .module import FunctionModule, Module, Parameter


class _InPlace(FunctionModule):
    """An activation with PyTorch's ``inplace`` option (``inplace=True`` writes the result
    into the input and returns it); the repr shows the other options, then ``inplace=True``
    only when set, as PyTorch's."""

    def __init__(self, inplace=False, **options):
        super().__init__(**options, inplace=inplace)

    def extra_repr(self):
        shown = [f"{k}={getattr(self, k)}" for k in self._options if k != "inplace"]
        return ", ".join(shown + ["inplace=True"] * bool(self.inplace))


class Sigmoid(FunctionModule):
    """``1 / (1 + e^-x)``, stable for large |x|."""
    fn = F.sigmoid


class Tanh(FunctionModule):
    """Hyperbolic tangent."""
    fn = F.tanh


class ReLU(_InPlace):
    """``max(x, 0)``."""
    fn = F.relu


class LeakyReLU(_InPlace):
    """``x`` for x > 0, ``negative_slope * x`` otherwise."""
    fn = F.leaky_relu

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__(inplace, negative_slope=negative_slope)


class ELU(_InPlace):
    """``x`` for x > 0, ``alpha * (e^x - 1)`` otherwise."""
    fn = F.elu

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace, alpha=alpha)


class GELU(FunctionModule):
    """``x * Phi(x)`` (exact, or ``approximate="tanh"``)."""
    fn = F.gelu

    def __init__(self, approximate="none"):
        super().__init__(approximate=approximate)


class SiLU(_InPlace):
    """``x * sigmoid(x)`` (swish)."""
    fn = F.silu


class Softplus(FunctionModule):
    """``log(1 + e^(beta x)) / beta`` (linear above ``threshold``)."""
    fn = F.softplus

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__(beta=beta, threshold=threshold)


class Maxout(FunctionModule):
    """The max over groups of ``k`` consecutive features along ``dim``: put it after a
    layer with ``k * units`` outputs to get ``units`` maxout units."""
    fn = F.maxout

    def __init__(self, k, dim=-1):
        if k < 1:
            raise ArgumentError(f"Maxout: k={k} must be a positive number of pieces")
        super().__init__(k=k, dim=dim)


class Softmax(FunctionModule):
    """``exp(x) / sum(exp(x))`` along ``dim``."""
    fn = F.softmax

    def __init__(self, dim=-1):
        super().__init__(dim=dim)


class LogSoftmax(Softmax):
    """``x - logsumexp(x)`` along ``dim``."""
    fn = F.log_softmax


class Softmin(Softmax):
    """``exp(-x) / sum(exp(-x))`` along ``dim``."""
    fn = F.softmin


class Hardtanh(_InPlace):
    """``x`` clamped to [min_val, max_val]."""
    fn = F.hardtanh

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__(inplace, min_val=min_val, max_val=max_val)


class ReLU6(_InPlace):
    """``min(max(x, 0), 6)``."""
    fn = F.relu6


class Hardsigmoid(_InPlace):
    """0 for x <= -3, 1 for x >= 3, ``x/6 + 1/2`` between. (Its repr shows no options,
    ``inplace`` included, as PyTorch's.)"""
    fn = F.hardsigmoid

    def extra_repr(self):
        return ""


class Hardswish(_InPlace):
    """``x * hardsigmoid(x)``. (Its repr shows no options, as PyTorch's.)"""
    fn = F.hardswish

    def extra_repr(self):
        return ""


class Threshold(_InPlace):
    """``x`` where x > threshold, else ``value``."""
    fn = F.threshold

    def __init__(self, threshold, value, inplace=False):
        super().__init__(inplace, threshold=threshold, value=value)


class LogSigmoid(FunctionModule):
    """``log(sigmoid(x))``, finite for any x."""
    fn = F.logsigmoid


class Mish(_InPlace):
    """``x * tanh(softplus(x))``."""
    fn = F.mish


class SELU(_InPlace):
    """Scaled ELU, ``1.0507 * elu(x, 1.6733)``."""
    fn = F.selu


class CELU(_InPlace):
    """``x`` for x > 0, ``alpha (e^(x/alpha) - 1)`` otherwise."""
    fn = F.celu

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__(inplace, alpha=alpha)


class Softsign(FunctionModule):
    """``x / (1 + |x|)``."""
    fn = F.softsign


class Tanhshrink(FunctionModule):
    """``x - tanh(x)``."""
    fn = F.tanhshrink


class Hardshrink(FunctionModule):
    """``x`` where |x| > lambd, else 0. (Its repr shows lambd alone, ``Hardshrink(0.5)``,
    as PyTorch's.)"""
    fn = F.hardshrink

    def __init__(self, lambd=0.5):
        super().__init__(lambd=lambd)

    def extra_repr(self):
        return str(self.lambd)


class Softshrink(Hardshrink):
    """``x - lambd`` above lambd, ``x + lambd`` below -lambd, 0 between (lambd >= 0)."""
    fn = F.softshrink


class RReLU(_InPlace):
    """Randomised leaky ReLU: ``x`` for x > 0, ``a * x`` otherwise, with a drawn per entry
    from U(lower, upper) in training (from ``generator``, default wengert's global one) and
    ``a = (lower + upper) / 2`` in eval. ``generator`` is wengert's addition."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False, generator=None):
        super().__init__(inplace, lower=lower, upper=upper)
        self.generator = generator

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, self.training, self.inplace, self.generator)


class Softmax2d(Module):
    """Softmax over the channels at each position: axis -3 of an (N, C, H, W) or (C, H, W)
    input; other shapes are a :class:`~wengert.errors.ShapeError` (PyTorch's ValueError)."""

    def forward(self, x):
        if x.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got shape {x.shape}. Hint: for softmax along one axis of any "
                             "input use nn.Softmax(dim)")
        return F.softmax(x, dim=-3)


class GLU(FunctionModule):
    """Gated linear unit: halves a, b of ``dim`` give ``a * sigmoid(b)``."""
    fn = F.glu

    def __init__(self, dim=-1):
        super().__init__(dim=dim)


class PReLU(Module):
    """``x`` for x > 0, ``weight * x`` otherwise, with learnt slopes: one shared
    (``num_parameters=1``) or one per channel (axis 1 of the input). ``weight`` starts at
    ``init``; ``dtype`` defaults to float32."""

    def __init__(self, num_parameters=1, init=0.25, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = Parameter(np.full(num_parameters, init, as_dtype(dtype) or DEFAULT_FLOAT))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


#: Activation names accepted by ``MLP`` and ``get_activation``.
ACTIVATIONS = {"identity": Identity, "relu": ReLU, "leaky_relu": LeakyReLU, "elu": ELU,
               "gelu": GELU, "silu": SiLU, "sigmoid": Sigmoid, "tanh": Tanh,
               "softplus": Softplus,
               "softmax": Softmax, "log_softmax": LogSoftmax}


def get_activation(activation):
    """A fresh activation module from a name in :data:`ACTIVATIONS` or from a callable
    that returns a module (such as the class ``nn.ReLU``)."""
    if callable(activation):
        module = activation()
        if not isinstance(module, Module):
            raise ArgumentError(f"activation: {activation!r} returned a "
                                f"{type(module).__name__}, not a Module")
        return module
    if activation not in ACTIVATIONS:
        raise ArgumentError(f"unknown activation {activation!r}; use one of "
                            f"{', '.join(sorted(ACTIVATIONS))}, or a callable that returns a "
                            "Module")
    return ACTIVATIONS[activation]()
