"""The word2vec network: two embedding matrices with row-sparse gradients and the negative
sampling loss, written with wengert ops (backward is the engine's; nothing is hand-derived).

For a window with centre (target) word ``t``, context words ``c_j`` and noise words ``n_k``,
with input vectors ``u`` (the word vectors kept at the end) and output vectors ``v``:

* skip-gram: each pair (c_j, t) costs ``-log σ(u_cj·v_t) - Σ_k log σ(-u_cj·v_nk)``;
* CBOW: the mean ``h`` of the ``u_cj`` costs ``-log σ(h·v_t) - Σ_k log σ(-h·v_nk)``.

Both are binary cross-entropies of logits against the label 1 for the target and 0 for the
noise words, which is how they are computed (stable for any logit)."""
import numpy as np

from ... import nn
from ...errors import ShapeError
from ...nn import functional as F
from ...ops.linalg import matmul
from ...ops.reduce import sum as reduce_sum
from ...ops.sgns import sliding_windows
from ...ops.shape import swapaxes


class Word2VecNet(nn.Module):
    """``input`` and ``output`` are ``nn.Embedding(vocab_size, dim, sparse=True)``: a
    backward gives each a :class:`~wengert.sparse.RowSparse` gradient of the rows in the
    batch only. Initialized as the original tool: input vectors U(-0.5/dim, 0.5/dim), output
    vectors zero. ``cbow=True`` averages a window's context vectors (CBOW) instead of pairing
    each with the centre (skip-gram)."""

    def __init__(self, vocab_size, dim, cbow=False, generator=None, dtype=np.float32):
        super().__init__()
        self.cbow = cbow
        self.input = nn.Embedding(vocab_size, dim, sparse=True, dtype=dtype)
        self.output = nn.Embedding(vocab_size, dim, sparse=True, dtype=dtype)
        nn.init.uniform_(self.input.weight, -0.5 / dim, 0.5 / dim, generator=generator)
        nn.init.zeros_(self.output.weight)

    def forward(self, batch):
        """The summed loss of a :class:`~wengert.models.word2vec.batches.Batch` (a scalar
        tensor) and the number of examples in it (pairs for skip-gram, windows for CBOW)."""
        return negative_sampling_loss(self.input(batch.inputs), self.output(batch.outputs),
                                      batch.mask, self.cbow)


def negative_sampling_loss(x, y, mask, cbow=False):
    """The summed negative-sampling loss of runs of consecutive windows and the number of
    examples (pairs, or windows for CBOW). For runs of ``L`` windows of ``S`` slots (any
    leading batch axes ``...``): ``x`` (..., L + S - 1, dim) are the input vectors of the
    tokens a run spans, ``y`` (..., L, 1 + negative, dim) the output vectors of each window's
    centre and noise words, ``mask`` (..., L, S) which slots are context words (slot ``j`` of
    window ``b`` is token ``b + j``)."""
    _check_shapes(x.shape, y.shape, mask.shape)
    slots = sliding_windows(x, size=mask.shape[-1], axis=-2)    # (..., L, S, dim), a view
    weight = mask[..., None].astype(x.dtype)                    # (..., L, S, 1)
    if cbow:
        count = np.maximum(weight.sum(axis=-2, keepdims=True), 1)
        hidden = matmul(swapaxes(weight / count, axis1=-1, axis2=-2), slots)  # (..., L, 1, dim)
        logits = matmul(hidden, swapaxes(y, axis1=-1, axis2=-2))  # (..., L, 1, 1 + negative)
        # A window without context words (a one-word sentence, a stream that ran out) is no
        # example: its zero hidden vector would add (1 + negative) log 2 to the loss.
        weight = mask.any(axis=-1)[..., None, None].astype(x.dtype)  # (..., L, 1, 1)
        examples = int(weight.sum())
    else:
        # Every slot is scored (one batched matmul); those that are not pairs (the centre,
        # beyond the reduced window or the sentence) are dropped by weight 0, which is
        # cheaper than selecting the pairs (their adjoint would scatter back). The slots
        # come first so that their gradient, which overlap_add sums, is contiguous.
        logits = matmul(slots, swapaxes(y, axis1=-1, axis2=-2))   # (..., L, S, 1 + negative)
        examples = int(mask.sum())
    labels = np.zeros(logits.shape, logits.dtype)
    labels[..., 0] = 1
    loss = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    return reduce_sum(loss * weight), examples


def _check_shapes(x, y, mask):
    """The shapes negative_sampling_loss documents, checked so that a mismatch is named here
    and not as a matmul of intermediate shapes."""
    lead, (runs, size) = mask[:-2], mask[-2:]
    if (len(x) != len(mask) or len(y) != len(mask) + 1 or x[:-2] != lead or y[:-3] != lead
            or x[-2] != runs + size - 1 or y[-3] != runs or x[-1] != y[-1]):
        raise ShapeError(f"negative_sampling_loss: input vectors {x}, output vectors {y} and "
                         f"mask {mask} do not fit: for runs of L windows of S slots they must "
                         "be (..., L + S - 1, dim), (..., L, 1 + negative, dim) and (..., L, S)")
