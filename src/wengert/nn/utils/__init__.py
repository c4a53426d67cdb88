"""Gradient clipping and flat parameter vectors, as ``torch.nn.utils``; its submodule
:mod:`wengert.nn.utils.rnn` packs and pads variable-length sequences for the recurrent layers,
:mod:`~wengert.nn.utils.parametrize` and :mod:`~wengert.nn.utils.parametrizations` constrain
tensors (weight and spectral norm, orthogonal), :mod:`~wengert.nn.utils.stateless` calls a
module with other tensors, and :mod:`~wengert.nn.utils.fusion` folds batch norm into the layer
before it. The older hook-style ``weight_norm`` and ``spectral_norm`` are here too.

Clipping works on the ``.grad`` of each parameter after ``backward()`` and before the
optimizer's step; the gradients are scaled (or clamped) in place. A row-sparse gradient
(``Embedding(sparse=True)``) counts with its rows summed, as the dense gradient it stands for.
"""
import math

import numpy as np

from ...autodiff.grad_mode import no_grad
from ...autodiff.state import mark_modified
from ...errors import AnomalyError, ArgumentError, ShapeError
from ...ops.shape import concatenate
from ...sparse import RowSparse
from ...tensor import Tensor
from . import fusion, parametrizations, parametrize, rnn, stateless
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval,
                     fuse_linear_bn_weights)
from .legacy_norms import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

__all__ = [
    "rnn",
    "parametrize",
    "parametrizations",
    "stateless",
    "fusion",
    "weight_norm",
    "remove_weight_norm",
    "spectral_norm",
    "remove_spectral_norm",
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _tensors(parameters, name):
    """``parameters`` (a tensor or an iterable of them) as a list of tensors."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{name}: element {k} is a {type(p).__name__}, not a Tensor "
                                "(pass model.parameters())")
    return params


def _grads(parameters, name):
    """The gradients of ``parameters`` that exist: arrays, or coalesced RowSparse."""
    out = []
    for p in _tensors(parameters, name):
        g = p.grad
        if type(g) is RowSparse:
            out.append((p, g.coalesce()))
        elif g is not None:
            out.append((p, g))
    return out


def _vector_norm(values, norm_type):
    """The ``norm_type`` norm of an array's entries, as ``torch.linalg.vector_norm``."""
    a = np.abs(values)
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    if norm_type == -math.inf:
        return float(a.min()) if a.size else math.inf
    if norm_type == 0:
        return float(np.count_nonzero(a))
    if norm_type == 2:
        return float(np.sqrt(np.sum(np.square(a, dtype=np.float64))))
    return float(np.sum(a.astype(np.float64) ** norm_type) ** (1 / norm_type))


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The ``norm_type`` norm (2, 1, ``inf``... ) of all the entries of ``tensors`` (gradients:
    tensors, arrays or row-sparse) taken together, as a 0-d float tensor. With
    ``error_if_nonfinite`` a NaN or Inf norm raises :class:`AnomalyError`."""
    norm_type = float(norm_type)
    tensors = [tensors] if isinstance(tensors, (Tensor, RowSparse, np.ndarray)) else list(tensors)
    values = []
    for t in tensors:
        if type(t) is RowSparse:
            t = t.coalesce().values
        values.append(_vector_norm(t.data if isinstance(t, Tensor) else np.asarray(t),
                                   norm_type))
    dtype = np.result_type(*[t.dtype for t in tensors]) if tensors else np.float32
    total = _vector_norm(np.array(values), norm_type) if values else 0.0
    if error_if_nonfinite and not math.isfinite(total):
        raise AnomalyError(
            f"get_total_norm: the total norm of order {norm_type} of the gradients is {total}, "
            "so it cannot be clipped. Hint: find where the gradient became non-finite "
            "(wengert.detect_anomaly()), or pass error_if_nonfinite=False to scale by it anyway")
    return Tensor(np.array(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scale the parameters' gradients in place by ``max_norm / (total_norm + 1e-6)`` when
    that is below 1 (``total_norm`` from :func:`get_total_norm`)."""
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for p, g in _grads(parameters, "clip_grads_with_norm_"):
        if type(g) is RowSparse:
            p.grad = RowSparse(g.indices, g.values * g.values.dtype.type(coef), g.shape)
        else:
            g.data *= g.data.dtype.type(coef)
            mark_modified(g)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of ``parameters`` in place so that their total ``norm_type`` norm
    (all entries together) is at most ``max_norm``; returns the norm before clipping (a 0-d
    tensor). Gradients already within the bound are left as they are (up to the 1e-6 that
    keeps the division finite, as PyTorch)."""
    if max_norm < 0 or math.isnan(max_norm):
        raise ArgumentError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    grads = _grads(parameters, "clip_grad_norm_")
    total = get_total_norm([g for _, g in grads], norm_type, error_if_nonfinite)
    clip_grads_with_norm_([p for p, _ in grads], max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient entry of ``parameters`` into [-clip_value, clip_value], in place
    (a row-sparse gradient after summing its repeated rows)."""
    if clip_value < 0 or math.isnan(clip_value):
        raise ArgumentError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p, g in _grads(parameters, "clip_grad_value_"):
        if type(g) is RowSparse:
            p.grad = RowSparse(g.indices, np.clip(g.values, -clip_value, clip_value), g.shape)
        else:
            np.clip(g.data, -clip_value, clip_value, out=g.data)
            mark_modified(g)


def parameters_to_vector(parameters):
    """All of ``parameters`` flattened and joined into one 1-D tensor (differentiable)."""
    params = _tensors(parameters, "parameters_to_vector")
    if not params:
        raise ArgumentError("parameters_to_vector: got no parameters")
    return concatenate([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Write consecutive slices of the 1-D ``vec`` into ``parameters``, in order (the inverse
    of :func:`parameters_to_vector`); the parameters keep their dtypes. Not recorded."""
    params = _tensors(parameters, "vector_to_parameters")
    data = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    sizes = [p.data.size for p in params]
    if data.ndim != 1 or data.size != sum(sizes):
        raise ShapeError(f"vector_to_parameters: a vector of shape {data.shape} does not fit "
                         f"parameters of {sum(sizes)} entries in all; it must be 1-D of that "
                         "length")
    start = 0
    with no_grad():
        for p, n in zip(params, sizes):
            p[...] = data[start:start + n].reshape(p.shape)
            start += n
