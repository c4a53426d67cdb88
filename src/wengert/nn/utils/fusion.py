"""Folding an evaluation-mode batch norm into the convolution or linear layer before it, as
``torch.nn.utils.fusion``: ``bn(conv(x)) == fused(x)`` with one layer fewer at inference.

With ``s = bn.weight / sqrt(running_var + eps)`` per channel the fused layer has weight
``W * s`` (along the output channels) and bias ``(b - running_mean) * s + bn.bias``.
"""
import copy

import numpy as np

from ...errors import ArgumentError
from ...tensor import Tensor
from ..module import Parameter

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _array(t, like=None, fill=0.0):
    if t is None:
        return np.full_like(like, fill)
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _requires_grad(t):
    return isinstance(t, Tensor) and t.requires_grad


def _check_eval(fname, layer, bn):
    if layer.training or bn.training:
        raise ArgumentError(f"{fname}: fusion is for evaluation only, but "
                            f"{type(layer).__name__}.training={layer.training} and "
                            f"{type(bn).__name__}.training={bn.training}. Hint: call .eval() "
                            "on both")
    if bn.running_mean is None or bn.running_var is None:
        raise ArgumentError(f"{fname}: {type(bn).__name__} has no running statistics "
                            "(track_running_stats=False), so there is nothing to fold")


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """``(weight, bias)`` of the convolution that computes ``bn(conv(x))`` in eval mode, as
    new Parameters in the convolution's dtypes (``transpose``: the weight is a transposed
    convolution's, (in, out, ...)). A missing conv bias, bn weight or bn bias counts as 0, 1
    and 0; as in torch, a bias made from a missing one does not require grad."""
    rm = _array(bn_rm)
    w, b = _array(conv_w), _array(conv_b, rm)
    rsqrt = 1.0 / np.sqrt(_array(bn_rv) + bn_eps)
    scale = _array(bn_w, rm, 1.0) * rsqrt
    shape = ([1, -1] if transpose else [-1, 1]) + [1] * (w.ndim - 2)
    bias_dtype = b.dtype if conv_b is not None else w.dtype
    fused_w = (w * scale.reshape(shape)).astype(w.dtype)
    fused_b = ((b - rm) * rsqrt * _array(bn_w, rm, 1.0) + _array(bn_b, rm)).astype(bias_dtype)
    return (Parameter(fused_w, requires_grad=_requires_grad(conv_w)),
            Parameter(fused_b, requires_grad=_requires_grad(conv_b)))


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A new convolution (a deep copy of ``conv``) computing ``bn(conv(x))``; both must be in
    eval mode and ``bn`` must track running statistics."""
    _check_eval("fuse_conv_bn_eval", conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """``(weight, bias)`` of the linear layer that computes ``bn(linear(x))`` in eval mode, as
    new Parameters in the layer's dtypes (a missing bias counts as 0, a missing bn weight as
    1: torch's version fails on those)."""
    rm = _array(bn_rm)
    w, b = _array(linear_w), _array(linear_b, rm)
    scale = _array(bn_w, rm, 1.0) / np.sqrt(_array(bn_rv) + bn_eps)
    bias_dtype = b.dtype if linear_b is not None else w.dtype
    fused_w = w * scale[..., None].astype(w.dtype)
    fused_b = ((b - rm) * scale + _array(bn_b, rm)).astype(bias_dtype)
    return (Parameter(fused_w, requires_grad=_requires_grad(linear_w)),
            Parameter(fused_b, requires_grad=_requires_grad(linear_b)))


def fuse_linear_bn_eval(linear, bn):
    """A new linear layer (a deep copy of ``linear``) computing ``bn(linear(x))``; both in eval
    mode, and ``bn.num_features`` equal to ``linear.out_features`` (or 1)."""
    _check_eval("fuse_linear_bn_eval", linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise ArgumentError(f"fuse_linear_bn_eval: linear.out_features={linear.out_features} "
                            f"and bn.num_features={bn.num_features} must be equal (or "
                            "num_features 1)")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
