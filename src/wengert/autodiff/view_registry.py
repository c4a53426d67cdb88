"""The views of one tensor taken with grad on, so that a write into the tensor finds the views
whose values it changed (see ``_rederive_views`` in :mod:`wengert.ops.methods`).

A loop that writes row after row (``y[i] += w[i]``) keeps every row's view alive in the
graph, so a write must not test each view in turn: that made such a loop quadratic. Each view's
memory bounds are kept in one array, filled the first time a write looks, and a write tests
them all in one NumPy expression; only the views whose bounds overlap the written region get
the exact (and slower) ``np.shares_memory`` test.
"""
import weakref

import numpy as np

try:
    from numpy.lib.array_utils import byte_bounds
except ImportError:  # NumPy 1.x
    byte_bounds = np.byte_bounds


class ViewRegistry:
    """Weak references to a tensor's views, in the order they were taken, with their bounds."""
    __slots__ = ("refs", "bounds", "known")

    def __init__(self):
        self.refs = []                            # weakref.ref to each view
        self.bounds = np.empty((8, 2), np.intp)   # [low, high) byte address of refs[i]'s data
        self.known = 0                            # bounds[:known] are filled

    def add(self, view):
        """Register ``view`` (a Tensor); costs one append, its bounds wait for a write."""
        refs = self.refs
        if len(refs) == len(self.bounds):
            self._make_room()
        refs.append(weakref.ref(view))

    def _make_room(self):
        """Drop the dead views; grow the bounds array if at least half the views live, so
        that registering stays amortized constant time."""
        self._fill()
        live = [i for i, r in enumerate(self.refs) if r() is not None]
        size = len(self.bounds)
        bounds = np.empty((size * 2 if 2 * len(live) >= size else size, 2), np.intp)
        bounds[:len(live)] = self.bounds[live]
        self.refs = [self.refs[i] for i in live]
        self.bounds = bounds
        self.known = len(live)

    def _fill(self):
        """Compute the bounds of the views registered since the last look (dead ones get
        empty bounds)."""
        bounds = self.bounds
        for i in range(self.known, len(self.refs)):
            view = self.refs[i]()
            bounds[i] = byte_bounds(view.data) if view is not None else (0, 0)
        self.known = len(self.refs)

    def changed_by(self, written):
        """The live views (in the order they were taken) that share memory with the ndarray
        ``written``."""
        if not self.refs:
            return []
        self._fill()
        low, high = byte_bounds(written)
        bounds = self.bounds[:self.known]
        found = []
        for i in np.flatnonzero((bounds[:, 0] < high) & (bounds[:, 1] > low)).tolist():
            view = self.refs[i]()
            if view is not None and np.shares_memory(view.data, written):
                found.append(view)
        return found
