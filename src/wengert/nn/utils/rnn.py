"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``.

A :class:`PackedSequence` holds a batch of sequences of different lengths without padding:
``data`` has the entries of time step 0 of every sequence, then those of step 1 of every
sequence still running, and so on, with ``batch_sizes[t]`` rows for step t. The sequences are
in order of decreasing length (``sorted_indices[k]`` is the original position of the k-th
longest; ``unsorted_indices`` the inverse permutation), so the rows of step t are the first
``batch_sizes[t]`` sequences. ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` take one and return the
output as one, with the same batch sizes.

Packing is one gather of rows and padding one scatter (``pad_sequence`` joins the sequences
first), so they differentiate like any other op: the gradient reaches the padded input, or the
sequences.
"""
from collections import namedtuple

import numpy as np

from ...errors import ArgumentError, DTypeError, ShapeError
from ...ops.index import index_put
from ...ops.shape import concatenate
from ...tensor import Tensor
from ..recurrent_cells import as_tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


def _indices(x):
    """An index vector (list, array or integer tensor) as an int64 tensor, or None."""
    if x is None:
        return None
    return Tensor(np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.int64))


def invert_permutation(permutation):
    """The inverse of the permutation ``permutation`` (an index tensor), or None for None:
    ``out[permutation[k]] = k``."""
    if permutation is None:
        return None
    p = _indices(permutation).data
    out = np.empty_like(p)
    out[p] = np.arange(p.size)
    return Tensor(out)


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences of different lengths, packed (see the module docstring):
    ``data`` (sum of the lengths, *), ``batch_sizes`` (int64, one entry per time step, not
    increasing), ``sorted_indices`` and ``unsorted_indices`` (int64 permutations of the
    batch, or None when the sequences were given longest first).

    Made by :func:`pack_padded_sequence` and :func:`pack_sequence`, as in PyTorch, where the
    constructor is not meant to be called directly; ``PackedSequence(data, batch_sizes,
    sorted_indices)`` computes ``unsorted_indices``, and ``PackedSequence((data,
    batch_sizes))`` is accepted too. Unpacks as a 4-tuple."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise ArgumentError("PackedSequence: give data and batch_sizes, or one pair "
                                    f"(data, batch_sizes); got a {type(data).__name__} alone")
            data, batch_sizes = data
        sorted_indices = _indices(sorted_indices)
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, as_tensor(data), _indices(batch_sizes), sorted_indices,
                               _indices(unsorted_indices))

    def to(self, dtype):
        """The same packing with ``data`` in ``dtype`` (itself if it is that already)."""
        data = self.data.astype(dtype)
        return self if data is self.data else self._replace(data=data)

    def float(self):
        """``to(float32)``."""
        return self.to(np.float32)

    def double(self):
        """``to(float64)``."""
        return self.to(np.float64)


def _lengths(where, lengths, batch, steps):
    """``lengths`` as an int64 array, checked against a batch of ``batch`` sequences of at
    most ``steps`` steps."""
    data = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if data.dtype.kind not in "iu":
        raise DTypeError(f"{where}: lengths must be integers, got dtype {data.dtype}. Hint: "
                         "pass the number of steps of each sequence, e.g. [4, 2, 1]")
    if data.ndim != 1 or data.size != batch:
        raise ShapeError(f"{where}: lengths of shape {data.shape} do not fit a batch of "
                         f"{batch} sequences; give one length per sequence, as a 1-D list")
    if data.min() < 1:
        raise ArgumentError(f"{where}: every length must be at least 1, got {data.tolist()}. "
                            "Hint: leave empty sequences out of the batch")
    if data.max() > steps:
        raise ShapeError(f"{where}: a length of {data.max()} does not fit an input of "
                         f"{steps} time steps (lengths {data.tolist()})")
    return data.astype(np.int64)


def _packed_rows(lengths):
    """For sequences of ``lengths`` (longest first): the batch sizes, and the (time step,
    sequence) of each row of the packed data, in packed order."""
    steps = int(lengths[0]) if lengths.size else 0
    batch_sizes = (lengths[None, :] > np.arange(steps)[:, None]).sum(axis=1)
    t, k = np.nonzero(np.arange(steps)[:, None] < lengths[None, :])  # row-major: packed order
    return batch_sizes.astype(np.int64), t, k


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch: ``input`` is (T, B, *) (or (B, T, *) with ``batch_first``) and
    sequence b has ``lengths[b]`` valid steps (1 <= length <= T). With ``enforce_sorted`` the
    lengths must not increase (the sequences come longest first); otherwise they are sorted
    here (stably) and the permutation is kept in the result, so the layers and
    :func:`pad_packed_sequence` return the batch in its original order."""
    input = as_tensor(input)
    if input.ndim < 2:
        raise ShapeError(f"pack_padded_sequence: expected an input of shape (T, B, *) or, "
                         f"with batch_first, (B, T, *); got shape {input.shape}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if not batch:  # no time step would have a sequence: a PackedSequence needs one
        raise ArgumentError(f"pack_padded_sequence: cannot pack an empty batch (input of "
                            f"shape {input.shape}), as in PyTorch. Hint: skip empty batches")
    lengths = _lengths("pack_padded_sequence", lengths, batch, steps)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ArgumentError(
                f"pack_padded_sequence: lengths {lengths.tolist()} are not in decreasing "
                "order, which enforce_sorted=True requires. Hint: pass enforce_sorted=False "
                "to have them sorted (the results come back in the original order)")
        sorted_indices = None
        order = np.arange(batch)
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = order
    batch_sizes, t, k = _packed_rows(lengths[order])
    key = (order[k], t) if batch_first else (t, order[k])
    return PackedSequence(input[key], batch_sizes, sorted_indices)


def _check_packed(where, sequence):
    """The batch sizes of ``sequence`` as an array, checked against its data."""
    if not isinstance(sequence, PackedSequence):
        raise ArgumentError(f"{where}: expected a PackedSequence, got a "
                            f"{type(sequence).__name__}. Hint: make one with "
                            "pack_padded_sequence or pack_sequence")
    sizes = sequence.batch_sizes.data
    data = sequence.data
    if (sizes.ndim != 1 or not sizes.size or sizes.min() < 1 or np.any(np.diff(sizes) > 0)
            or data.ndim < 1 or int(sizes.sum()) != data.shape[0]):
        raise ShapeError(f"{where}: batch_sizes {sizes.tolist()} do not fit packed data of "
                         f"shape {data.shape}: they must be positive, not increasing, and "
                         "sum to the data's first axis. Hint: make packed sequences with "
                         "pack_padded_sequence or pack_sequence")
    return sizes


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a :class:`PackedSequence` into a padded batch (T, B, *) (or (B, T, *) with
    ``batch_first``), filling past each sequence's end with ``padding_value``, in the batch's
    original order; returns ``(padded, lengths)`` with the lengths as an int64 tensor. T is
    the longest length, or ``total_length`` if given (it must be at least that)."""
    sizes = _check_packed("pad_packed_sequence", sequence)
    steps = sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ArgumentError(
                f"pad_packed_sequence: total_length={total_length} is shorter than the "
                f"longest sequence ({steps} steps). Hint: pass at least {steps}, or None")
        steps = total_length
    batch = int(sizes[0])
    lengths = (sizes[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    _, t, k = _packed_rows(lengths)
    order = (np.arange(batch) if sequence.sorted_indices is None
             else sequence.sorted_indices.data)
    data = sequence.data
    shape = (batch, steps) if batch_first else (steps, batch)
    padded = np.full(shape + data.shape[1:], padding_value, dtype=data.dtype)
    key = (order[k], t) if batch_first else (t, order[k])
    out_lengths = np.empty(batch, dtype=np.int64)
    out_lengths[order] = lengths
    return index_put(padded, data, key=key), Tensor(out_lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into one padded tensor (T, B, *) (or (B, T, *)
    with ``batch_first``), T the longest length, filling with ``padding_value`` after each
    sequence (``padding_side="right"``) or before it (``"left"``). The result has the first
    sequence's dtype, as PyTorch's. ``sequences`` may be a tensor: its rows are the
    sequences."""
    if padding_side not in ("left", "right"):
        raise ArgumentError(f"pad_sequence: padding_side={padding_side!r} is not allowed; "
                            "use 'right' or 'left'")
    seqs = [as_tensor(s) for s in sequences]
    if not seqs:
        raise ArgumentError("pad_sequence: got no sequences; pass a list of tensors of shape "
                            "(L_i, *)")
    trailing = {s.shape[1:] for s in seqs}
    if any(s.ndim == 0 for s in seqs) or len(trailing) != 1:
        raise ShapeError(f"pad_sequence: sequences of shapes {[s.shape for s in seqs]} do "
                         "not stack: each needs a time axis first and the same shape after "
                         "it")
    dtype = seqs[0].dtype
    seqs = [s if s.dtype == dtype else s.astype(dtype) for s in seqs]
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    steps, batch = int(lengths.max()), len(seqs)
    k = np.repeat(np.arange(batch), lengths)
    t = np.concatenate([np.arange(n) for n in lengths])
    if padding_side == "left":
        t = t + np.repeat(steps - lengths, lengths)
    shape = (batch, steps) if batch_first else (steps, batch)
    padded = np.full(shape + seqs[0].shape[1:], padding_value, dtype=dtype)
    return index_put(padded, concatenate(seqs), key=(k, t) if batch_first else (t, k))


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of :func:`pad_sequence` (right padding): the list of sequences
    ``padded[:lengths[b], b]`` (``padded[b, :lengths[b]]`` with ``batch_first``)."""
    padded = as_tensor(padded_sequences)
    lengths = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if batch_first:
        return [padded[b, :int(n)] for b, n in enumerate(lengths)]
    return [padded[:int(n), b] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences of shapes (L_i, *) (at least one step each):
    ``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``."""
    seqs = [as_tensor(s) for s in sequences]
    lengths = [s.shape[0] if s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The inverse of :func:`pack_sequence`: the list of sequences, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
