"""Layer primitives: ``linear`` (the affine unit ``x @ W.T + b``) and ``embedding`` (row
lookup, with an optional row-sparse gradient).

Both could be written with matmul/transpose/add and getitem; they are primitives because
that buys speed on the hot path of every network: ``linear`` is one node instead of three
and its weight gradient ``g.T @ x`` comes out contiguous in the weight's (out, in) layout
(no transposed copy), and ``embedding`` can hand the optimizer only the rows it used."""
import numpy as np

from ..autodiff.batching import Batched, register_rule
from ..autodiff.primitive import ARRAY, TENSOR, defop
from ..errors import DTypeError, ShapeError
from ..sparse import RowSparse
from ..tensor import Tensor


def _linear(x, weight, bias=None):
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                         f"{weight.shape}; the weight is (out_features, in_features) and the "
                         "input's last axis must have in_features entries")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape} does not fit a weight of shape "
                         f"{weight.shape}; it needs shape ({weight.shape[0]},)")
    y = np.matmul(x, weight.T)
    if bias is not None:
        y += bias  # y is a fresh array: adding in place saves a temporary
    return y


def _linear_vjp_weight(ns, g, ans, x, weight, bias=None):
    # .T, which tensors and arrays both have, rather than namespace calls: this is on the hot
    # path of every network.
    if g.ndim != 2:  # leading (batch) axes folded: dW = sum over rows of g_r x_r^T
        g = ns.reshape(g, shape=(-1, weight.shape[0]))
        x = ns.reshape(x, shape=(-1, weight.shape[1]))
    if _data(weight).flags.f_contiguous and weight.shape[0] > 1:
        # (x^T g)^T: the same values, laid out like the weight (Fortran order), so the
        # optimizer's element-wise update runs over contiguous memory.
        return ns.matmul(x.T, g).T
    return ns.matmul(g.T, x)


def _data(a):
    return a.data if isinstance(a, Tensor) else a


linear = defop(
    "linear", _linear,
    vjp=[lambda ns, g, ans, x, weight, bias=None: ns.matmul(g, weight),
         _linear_vjp_weight,
         lambda ns, g, ans, x, weight, bias=None: g],  # the engine sums g over the rows
    jvp=[lambda ns, t, ans, x, weight, bias=None: ns.linear(t, weight),
         lambda ns, t, ans, x, weight, bias=None: ns.linear(x, t),
         lambda ns, t, ans, x, weight, bias=None: t],
    saves=((1,), (0,), ()),  # x's rule reads the weight, the weight's x, the bias's nothing
    doc="The affine map ``x @ weight.T + bias`` with weight of shape (out, in), as "
        "``torch.nn.functional.linear``; bias may be None.")


def _embedding(weight, indices, sparse=False):
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise ShapeError(f"embedding: indices must be in [0, {weight.shape[0]}) for a weight "
                         f"of shape {weight.shape}, got range [{indices.min()}, "
                         f"{indices.max()}]")
    return np.take(weight, indices, axis=0)


def _embedding_vjp(ns, g, ans, weight, indices, sparse=False):
    # The row-sparse gradient is a storage format for first-order gradients; under
    # create_graph (ns is TENSOR) the gradient must be differentiable, so it is dense.
    if sparse and ns is ARRAY:
        rows = g.reshape((-1,) + weight.shape[1:]).astype(weight.dtype, copy=False)
        return RowSparse(indices, rows, weight.shape)
    return ns.scatter_add(g, key=indices, shape=weight.shape)


def _batched_embedding(prim, values, batched, params, size):
    """vmap's rule. Batched indices into a shared weight: one lookup of all of them. A
    batched weight (an ensemble, or the weights vmap(grad) differentiates per example):
    each example's rows of its own weight, by one index (its gradient dense)."""
    indices = params["indices"]
    if type(indices) is Batched:
        if type(indices._value) is Batched:
            return None  # nested vmaps: once per example
        indices, indices_batched = indices._value.data, True
    else:
        indices, indices_batched = np.asarray(indices), False
    if not batched[0]:
        if not indices_batched:
            return None
        return prim.apply(values[0], **dict(params, indices=indices))
    if indices_batched:
        rows = np.arange(size).reshape((size,) + (1,) * (indices.ndim - 1))
        return TENSOR.getitem(values[0], key=(rows, indices))
    return TENSOR.getitem(values[0], key=(slice(None), indices))


embedding = defop(
    "embedding", _embedding,
    vjp=[_embedding_vjp],
    jvp=[lambda ns, t, ans, weight, indices, sparse=False:
         ns.embedding(t, indices=indices, sparse=sparse)],
    saves="none",
    doc="Rows ``weight[indices]`` (indices: an integer array, any shape). With "
        "``sparse=True`` the weight's gradient is a :class:`~wengert.sparse.RowSparse` "
        "holding only the rows used.")
register_rule("embedding", _batched_embedding, batched_params=True)
