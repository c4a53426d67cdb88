"""Datasets: the map-style :class:`Dataset` protocol, :class:`TensorDataset` over equal-length
tensors, :class:`Subset` and :func:`random_split` (PyTorch's names and semantics)."""
import numpy as np

from ..errors import ArgumentError, ShapeError
from ..random import default_generator
from ..tensor import Tensor


class Dataset:
    """A map-style dataset: ``len(ds)`` samples, ``ds[i]`` one sample (a tuple of tensors).

    A dataset may also define ``__getitems__(indices)`` returning a whole batch at once (a
    tuple of stacked tensors); :class:`~wengert.data.DataLoader` then fetches a batch with one
    fancy-indexing call per tensor instead of one call per sample."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


class TensorDataset(Dataset):
    """Samples are the rows of ``tensors`` (all of the same length): ``ds[i]`` is
    ``tuple(t[i] for t in tensors)``. Arrays are wrapped as tensors without a copy; lists
    follow wengert's dtype rules (floats become float32)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ArgumentError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = [t.shape[0] if t.ndim else None for t in self.tensors]
        if len(set(lengths)) != 1 or lengths[0] is None:
            described = ", ".join(f"tensor {i}: shape {tuple(t.shape)}"
                                  for i, t in enumerate(self.tensors))
            raise ShapeError(f"TensorDataset: the tensors must have the same length (first "
                             f"dimension); got {described}")

    def __len__(self):
        return self.tensors[0].shape[0]

    def __getitem__(self, index):
        return tuple(Tensor(t.data[index]) for t in self.tensors)

    def __getitems__(self, indices):
        return self[indices]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        return fetch(self.dataset, self.indices[indices])


def fetch(dataset, indices):
    """The samples of ``dataset`` at ``indices`` as a tuple of batched tensors: one call of
    ``__getitems__`` when the dataset has it, else one ``__getitem__`` per sample, stacked."""
    if hasattr(dataset, "__getitems__"):
        return dataset.__getitems__(indices)
    samples = [dataset[int(i)] for i in indices]
    if not isinstance(samples[0], (tuple, list)):  # a list is a sample of fields, as in PyTorch
        samples = [(s,) for s in samples]
    return tuple(Tensor(np.stack([np.asarray(s[k].data if isinstance(s[k], Tensor) else s[k])
                                  for s in samples]))
                 for k in range(len(samples[0])))


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping :class:`Subset` s of the given ``lengths``
    (counts summing to ``len(dataset)``, or fractions summing to 1; rounding leftovers go to
    the first subsets one each, as in PyTorch). ``generator`` defaults to the global one."""
    n = len(dataset)
    lengths = list(lengths)
    if all(isinstance(v, float) for v in lengths) and abs(sum(lengths) - 1) < 1e-9:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n or any(int(v) != v or v < 0 for v in lengths):
        raise ArgumentError(f"random_split: lengths {lengths} must be non-negative counts summing "
                         f"to the dataset's length {n}, or fractions summing to 1")
    order = (generator or default_generator()).numpy.permutation(n)
    bounds = np.cumsum([0] + [int(v) for v in lengths])
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
