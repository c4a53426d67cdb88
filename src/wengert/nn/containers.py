"""Containers: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict`` (registered
collections), as in PyTorch."""
from collections import OrderedDict

from .module import Module


class _Indexed(Module):
    """What Sequential and ModuleList share: children named "0", "1", ... that index, slice,
    count, iterate, assign, delete and insert like a list."""

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Put ``module`` before position ``index`` (negative counts from the end)."""
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"{type(self).__name__}.insert: index {index} is out of range "
                             f"for {n} modules")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def _renumber(self, modules):
        # Children are named by position, as in PyTorch: after an insert or a delete the
        # names "0", "1", ... follow the new order, so append and state-dict keys agree.
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return self._from_items(items[idx])
        return items[idx][1]

    def __setitem__(self, idx, module):
        self.add_module(list(self._modules)[idx], module)

    def __delitem__(self, idx):
        modules = list(self._modules.values())
        del modules[idx]
        self._renumber(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_Indexed):
    """Modules applied in order: ``Sequential(m0, m1, ...)`` (children named "0", "1", ...)
    or ``Sequential(OrderedDict(name=module, ...))``. A slice is a Sequential of the slice."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for m in modules:
                self.append(m)

    @staticmethod
    def _from_items(items):
        return Sequential(OrderedDict(items))

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_Indexed):
    """A list of modules whose parameters the parent sees (a plain Python list would hide
    them). Supports indexing, slicing, ``len``, iteration, assignment, ``del``, ``append``,
    ``extend`` (and ``+=``) and ``insert``."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    @staticmethod
    def _from_items(items):
        return ModuleList(m for _, m in items)

    def __iadd__(self, modules):
        return self.extend(modules)


class ModuleDict(Module):
    """A dict of modules (insertion order kept) whose parameters the parent sees."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules):
        """Add every ``(name, module)`` of a mapping or an iterable of pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for name, m in items:
            self.add_module(name, m)

    def __getitem__(self, name):
        return self._modules[name]

    def __setitem__(self, name, module):
        self.add_module(name, module)

    def __delitem__(self, name):
        del self._modules[name]

    def pop(self, name):
        """Remove the module ``name`` and return it."""
        module = self[name]
        del self[name]
        return module

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        """The names."""
        return self._modules.keys()

    def values(self):
        """The modules."""
        return self._modules.values()

    def items(self):
        """``(name, module)`` pairs."""
        return self._modules.items()
