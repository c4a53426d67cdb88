"""Norms, similarities and distances between vectors along an axis: ``normalize``,
``cosine_similarity`` and ``pairwise_distance`` (functions of ``nn.functional``) and the
modules ``CosineSimilarity`` and ``PairwiseDistance``; each puts ``eps`` where PyTorch
does."""
import math

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..ops.elementwise import abs as _abs, clip, where
from ..ops.reduce import max as _max, norm, sum as _sum
from ..ops.shape import broadcast_to
from .module import FunctionModule


def vector_norm(input, p=2.0, dim=-1, keepdim=False):
    """The p-norm ``(sum |x|^p)^(1/p)`` along ``dim`` (p > 0; ``math.inf``: max |x|); its
    gradient at the zero vector is 0, as PyTorch's."""
    if p == 2:
        return norm(input, axis=dim, keepdims=keepdim)
    if not p > 0:
        raise ArgumentError(f"vector norm: p={p} is not supported; use p > 0 or math.inf. "
                            "Hint: p=2 is the Euclidean norm, p=1 the sum of |x|")
    size = _abs(input)
    if p == math.inf:
        return _max(size, axis=dim, keepdims=keepdim)
    if p == 1:
        return _sum(size, axis=dim, keepdims=keepdim)
    total = _sum(size ** p, axis=dim, keepdims=keepdim)
    # total ** (1/p) has an infinite slope at 0; the two wheres keep it (and so the
    # gradient) out of the zero vectors, whose norm is 0 with gradient 0.
    nonzero = total > 0
    return where(nonzero, where(nonzero, total, 1.0) ** (1 / p), 0.0)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``x / max(||x||_p, eps)`` along ``dim``: unit vectors, and a zero vector stays 0."""
    return input / clip(vector_norm(input, p, dim, keepdim=True), a_min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 / ||x1|| * x2 / ||x2||)`` along ``dim`` of the broadcast inputs, each norm
    raised to ``eps`` at least. As PyTorch's, the floor changes the value only: the gradient
    flows through the norm as though it were not there."""
    x1, x2 = _broadcast("cosine_similarity", x1, x2)
    return _sum(x1 / _floored_norm(x1, dim, eps) * (x2 / _floored_norm(x2, dim, eps)), axis=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last axis (PyTorch adds ``eps`` to the difference,
    so equal vectors are a small distance apart and the gradient there is defined)."""
    return vector_norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def _floored_norm(x, dim, eps):
    n = norm(x, axis=dim, keepdims=True)
    # PyTorch clamps its norms in place under no_grad: a constant lift, not a clamp op.
    return n + clip(eps - n.detach(), a_min=0)


def _broadcast(where_, x1, x2):
    try:
        shape = np.broadcast_shapes(np.shape(x1), np.shape(x2))
    except ValueError:
        raise ShapeError(f"{where_}: x1 of shape {tuple(np.shape(x1))} and x2 of shape "
                         f"{tuple(np.shape(x2))} do not broadcast. Hint: compare vectors "
                         "along the same axis, e.g. (N, D) with (N, D) or (1, D)") from None
    return tuple(x if np.shape(x) == shape else broadcast_to(x, shape=shape)
                 for x in (x1, x2))


class CosineSimilarity(FunctionModule):
    """:func:`cosine_similarity` of its two inputs along ``dim``."""
    fn = cosine_similarity

    def __init__(self, dim=1, eps=1e-8):
        super().__init__(dim=dim, eps=eps)

    def extra_repr(self):
        return ""  # PyTorch prints this module without its options


class PairwiseDistance(FunctionModule):
    """:func:`pairwise_distance` of its two inputs (the p-norm of x1 - x2 + eps along the
    last axis)."""
    fn = pairwise_distance

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__(p=p, eps=eps, keepdim=keepdim)

    def extra_repr(self):
        return ""  # PyTorch prints this module without its options
