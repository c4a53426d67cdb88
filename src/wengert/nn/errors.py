"""Errors of ``wengert.nn`` and ``wengert.optim``: wengert errors that are also the matching
built-in, as everywhere in wengert. (They belong beside the core ones in
:mod:`wengert.errors`; they live here until the core takes them.)"""
from ..errors import WengertError


class ArgumentError(WengertError, ValueError):
    """An argument has a value the layer, loss or optimizer cannot use (a negative learning
    rate, an unknown activation name...); the message names it and the allowed values."""


class StateDictError(WengertError, KeyError):
    """A state dict does not fit the module or optimizer: missing or unexpected keys, or a
    different number of parameter groups; the message names them."""

    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""
