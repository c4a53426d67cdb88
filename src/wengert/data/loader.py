"""DataLoader: batches of a dataset, optionally shuffled by a seedable generator."""
import numpy as np

from ..errors import ArgumentError
from ..random import default_generator
from .dataset import fetch


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` samples; each batch is a tuple of
    tensors (one per field of a sample). ``shuffle=True`` draws a new order each epoch from
    ``generator`` (a :class:`wengert.Generator`; default the global one, seeded by
    ``wengert.manual_seed``). ``drop_last=True`` drops a final batch smaller than
    ``batch_size``.

    ``iter(loader)`` is ``loader.batches(loader.order())``; the two steps are public so a
    training loop can save an epoch's order and resume it from a given batch."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ArgumentError(f"DataLoader: batch_size must be a positive integer, got "
                             f"{batch_size!r}")
        if len(dataset) == 0:
            raise ArgumentError("DataLoader: the dataset is empty")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def order(self):
        """The sample order for one epoch (draws from the generator when shuffling)."""
        n = len(self.dataset)
        if self.shuffle:
            return (self.generator or default_generator()).numpy.permutation(n)
        return np.arange(n)

    def batches(self, order, start=0):
        """Yield the batches of ``order``, beginning with batch number ``start``."""
        size = self.batch_size
        stop = len(self) * size
        for begin in range(start * size, stop, size):
            yield fetch(self.dataset, order[begin:begin + size])

    def __iter__(self):
        return self.batches(self.order())
