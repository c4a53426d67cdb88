"""wengert: NumPy-native automatic differentiation and neural networks.

``import wengert as wg``; ``x = wg.tensor([1., 2.], requires_grad=True)``;
``(x * x).sum().backward()``; ``x.grad``.
"""
__version__ = "0.1.0"

from . import ops as _ops  # noqa: F401  (registers the primitives, installs operators)
from .autodiff.anomaly import detect_anomaly, is_anomaly_enabled
from .autodiff.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autodiff.primitive import REGISTRY, Primitive
from .backend import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from .creation import (arange, eye, full, full_like, linspace, ones, ones_like, tensor, zeros,
                       zeros_like)
from .errors import (AnomalyError, ArgumentError, CheckpointError, DatasetError, DTypeError,
                     GradcheckError, GraphError, MissingDependencyError, NonFiniteLossError,
                     ShapeError, StateDictError, Unbatchable, WengertError)
from .ops.activation import log_softmax, softmax
from .ops.elementwise import (abs, acos, acosh, add, arccos, arccosh, arcsin, arcsinh, arctan,
                              arctan2, arctanh, asin, asinh, atan, atan2, atanh, ceil, clip, cos,
                              cosh, deg2rad, divide, elu, equal, erf, exp, exp2, expm1, floor,
                              floor_divide, fmod, greater, greater_equal, heaviside, hypot,
                              isfinite, isinf, isnan, leaky_relu, lerp, less, less_equal, log,
                              log10, log1p, log2, logaddexp, logaddexp2, logical_and, logical_not,
                              logical_or, logit, maximum, minimum, multiply, nan_to_num, negative,
                              not_equal, power, rad2deg, reciprocal, relu, remainder, round,
                              sigmoid, sign, sin, sinh, softplus, sqrt, square, subtract, tan,
                              tanh, trunc, where, xlogy)
from .ops.cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.index import one_hot, take_along_axis
from .ops.linalg import bmm, dot, einsum, inner, kron, matmul, mm, outer, tensordot
from .ops.reduce import (all, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, std,
                         sum, var)
from .ops.shape import (broadcast_to, concatenate, expand_dims, flatten, pad, reshape, split,
                        squeeze, stack, swapaxes, transpose)
from .ops.structure import (cross, diag, diag_embed, diagonal, diff, flip, meshgrid,
                            repeat, repeat_interleave, roll, rot90, tile, tril, triu)
from .random import Generator, manual_seed, rand, randint, randn, randperm
from .tensor import Tensor
from . import autograd, check, nn, optim  # noqa: E402
from . import linalg  # noqa: E402  (wengert.linalg.det, solve, eigh, svd...)
from .blocks import block
from .functional import (grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad,
                         vjp, vmap)
from .recompute import checkpoint
from .trace_table import trace
from .units import Unit, unit

unsqueeze = expand_dims
permute = transpose
clamp = clip
concat = concatenate
