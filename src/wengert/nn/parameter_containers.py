"""``ParameterList`` and ``ParameterDict``: parameters held in a list or a dict and
registered as the module's own, so that ``parameters()``, ``state_dict()`` (keys
``plist.0``, ``pdict.key``, as PyTorch's), ``to()``, ``zero_grad()`` and optimizers see
them. A tensor or array put in becomes a :class:`Parameter` (sharing its data); a Parameter
goes in as it is."""
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..errors import ArgumentError
from ..tensor import Tensor
from .module import Module, Parameter


def _as_parameter(where_, value):
    if isinstance(value, Parameter):
        return value
    if isinstance(value, (Tensor, np.ndarray)):
        return Parameter(value)
    raise ArgumentError(f"{where_}: got a {type(value).__name__}; it holds tensors, which "
                        "become Parameters. Hint: wrap numbers as wg.tensor(...)")


def _check_key(key):
    if not isinstance(key, str):
        raise ArgumentError(f"ParameterDict: the key {key!r} is a {type(key).__name__}, not a "
                            "str; keys are names in the module tree and the state_dict. Hint: "
                            f"use str(key), e.g. {str(key)!r}")


def _describe(p):
    """One entry's line, in PyTorch's words: ``Parameter containing: [float32 of size 2x3]``."""
    return f"Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"


class _ParameterContainer(Module):
    """What both containers share: length, and a repr listing each entry."""

    def __len__(self):
        return len(self._parameters)

    def extra_repr(self):
        return "\n".join(f"({name}): {_describe(p)}" for name, p in self._parameters.items())


class ParameterList(_ParameterContainer):
    """A list of parameters, named "0", "1", ... in the module tree. Supports indexing
    (negative too), slicing (a ParameterList of the same parameters), assignment, ``len``,
    iteration, ``append``, ``extend`` and ``+=``."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _name(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ParameterList: index {index} is out of range for {n} "
                             "parameters")
        return str(index % n)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[self._name(index)]

    def __setitem__(self, index, value):
        self.register_parameter(self._name(index), _as_parameter("ParameterList", value))

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add ``value`` (a tensor or array, made a Parameter) at the end; returns self."""
        self.register_parameter(str(len(self)), _as_parameter("ParameterList.append", value))
        return self

    def extend(self, values):
        """Append each of ``values``; returns self."""
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values):
        return self.extend(values)


class ParameterDict(_ParameterContainer):
    """A dict of parameters under string keys (insertion order kept), each key a name in
    the module tree. Supports ``[]``, assignment, ``del``, ``in``, ``len``, iteration over
    the keys, ``keys``, ``values``, ``items``, ``get``, ``pop`` and ``update``."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        _check_key(key)
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __contains__(self, key):
        return key in self._parameters

    def __iter__(self):
        return iter(self._parameters)

    def keys(self):
        """The keys, in insertion order."""
        return self._parameters.keys()

    def values(self):
        """The parameters."""
        return self._parameters.values()

    def items(self):
        """``(key, parameter)`` pairs."""
        return self._parameters.items()

    def get(self, key, default=None):
        """The parameter under ``key``, or ``default``."""
        return self._parameters.get(key, default)

    def pop(self, key):
        """Remove the parameter under ``key`` and return it."""
        return self._parameters.pop(key)

    def update(self, parameters):
        """Add every ``(key, value)`` of a mapping or an iterable of pairs. As in PyTorch, a
        plain dict's entries go in sorted by key; an ``OrderedDict``, a ParameterDict or a
        sequence of pairs keeps its order."""
        keeps_order = not isinstance(parameters, Mapping) or isinstance(parameters, OrderedDict)
        pairs = list(parameters.items() if isinstance(parameters, (Mapping, ParameterDict))
                     else parameters)
        for key, _ in pairs:  # before sorting, which would fail on mixed key types
            _check_key(key)
        if not keeps_order:
            pairs.sort(key=lambda pair: pair[0])
        for key, value in pairs:
            self[key] = value
