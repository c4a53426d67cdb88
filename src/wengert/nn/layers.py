"""Layers with parameters or modes: Linear, Embedding, Dropout, Flatten, Unflatten, Identity.

Weight layout: ``Linear`` stores its weight as (out_features, in_features) and computes
``y = x @ W.T + b``, PyTorch's layout. The lectures write the affine unit ``A = X W + b``
with W of shape (in, out); the two are the same unit with W transposed. PyTorch's layout
was chosen so that state dicts move between wengert and PyTorch unchanged and ``nn.init``'s
fan-in/fan-out mean the same as PyTorch's for any tensor; the fused ``linear`` primitive
makes the transposed product cost nothing (its weight gradient ``g.T @ x`` comes out in
(out, in) order directly)."""
import math

import numpy as np

from ..autodiff.grad_mode import no_grad
from ..backend import DEFAULT_FLOAT, as_dtype
from ..ops.shape import flatten, reshape
from . import functional as F, init
from ..errors import ShapeError
from .dropout import DropoutBase
from .module import Module, Parameter


def _param(shape, dtype, order="C"):
    return Parameter(np.empty(shape, dtype=as_dtype(dtype) or DEFAULT_FLOAT, order=order))


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for "no activation")."""

    def forward(self, x):
        return x


class Linear(Module):
    """The affine unit ``y = x @ weight.T + bias``.

    ``weight`` has shape (out_features, in_features), ``bias`` (out_features,). Both start
    as U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default (kaiming_uniform_
    with a = sqrt(5)). ``dtype`` defaults to float32."""

    def __init__(self, in_features, out_features, bias=True, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        # Shape (out, in) as PyTorch, stored in Fortran order: weight.T is then C-contiguous,
        # so the forward x @ weight.T is BLAS's plain NN product (the transposed NT kernel is
        # ~15% slower in OpenBLAS float32), as in hand-written x @ W code.
        self.weight = _param((out_features, in_features), dtype, order="F")
        self.register_parameter("bias", _param((out_features,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh initial values (from wengert's global generator)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        # From the registry, not self.weight: that lookup fails first and then reaches
        # Module.__getattr__, which costs ten times as much (this is every network's hot path).
        p = self._parameters
        return F.linear(x, p["weight"], p["bias"])

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Embedding(Module):
    """A lookup table: ``Embedding(n, d)(indices)`` gives the rows ``weight[indices]``
    (shape ``indices.shape + (d,)``). ``weight`` (n, d) starts as N(0, 1). With
    ``padding_idx`` (negative counts from the end) that row starts as zeros and gets no
    gradient, so it stays as it is while training (as PyTorch's). With ``sparse=True`` the
    weight's gradient is a :class:`~wengert.sparse.RowSparse` holding only the rows used,
    which ``optim.SGD``, ``Adagrad`` and ``SparseAdam`` update without touching the other
    rows."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, sparse=False,
                 dtype=None):
        super().__init__()
        if padding_idx is not None:
            padding_idx = F._padding_index("Embedding", padding_idx, num_embeddings)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.sparse = padding_idx, sparse
        self.weight = _param((num_embeddings, embedding_dim), dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh N(0, 1) values (from wengert's global generator); the padding row,
        if any, is zeros."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight.data[self.padding_idx] = 0

    def forward(self, indices):
        return F.embedding(indices, self.weight, padding_idx=self.padding_idx,
                           sparse=self.sparse)

    def extra_repr(self):
        return (f"{self.num_embeddings}, {self.embedding_dim}"
                + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
                + (", sparse=True" if self.sparse else ""))


class Dropout(DropoutBase):
    """In training mode, zero each entry with probability ``p`` and scale the others by
    1/(1-p); in eval mode, the identity. ``inplace=True`` writes the result into the input
    (as PyTorch's); ``generator`` (optional) makes the masks a reproducible stream of their
    own. Its channel-wise and alpha variants are in :mod:`wengert.nn.dropout`."""

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace, self.generator)


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` (default: all but the batch axis) into one."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`; one
    size may be -1, inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x):
        dim = self.dim % x.ndim
        sizes = tuple(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        size = x.shape[dim]
        fits = size == known if -1 not in sizes else (sizes.count(-1) == 1 and known > 0
                                                     and size % known == 0)
        if not fits:
            raise ShapeError(f"Unflatten: axis {self.dim} of the input of shape {x.shape} has "
                             f"{size} entries, which do not split into {sizes}. Hint: the "
                             f"sizes must multiply to {size} (one of them may be -1)")
        return reshape(x, shape=x.shape[:dim] + sizes + x.shape[dim + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
