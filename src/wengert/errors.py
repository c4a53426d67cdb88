"""Errors raised by wengert.

Every error is a :class:`WengertError` and also the matching built-in exception, so callers
can catch either ``wengert.WengertError`` or the usual ``ValueError``/``TypeError``/...
"""


class WengertError(Exception):
    """Base class of every error wengert raises on purpose."""


class ShapeError(WengertError, ValueError):
    """Operand shapes do not fit the operation (the message names the op and the shapes)."""


class DTypeError(WengertError, TypeError):
    """A dtype cannot be used here, e.g. an integer tensor asked to require grad."""


class GraphError(WengertError, RuntimeError):
    """The autodiff graph cannot be used as asked: freed graph, non-scalar backward without a
    seed, a saved tensor modified in place, an in-place op on a leaf that requires grad."""


class Unbatchable(GraphError):
    """What ``vmap`` refuses in code that runs on one example: reading a batched tensor's
    values (``.data``, ``.item()``, ``bool()``...), writing batched values into a tensor the
    examples share, a random draw under ``randomness='error'``. ``jacrev`` and ``jacfwd``,
    which batch their passes, catch it and run one pass per seed instead."""


class AnomalyError(WengertError, FloatingPointError):
    """A NaN or Inf where none may be: ``detect_anomaly`` found one (the message names the op
    that produced it), or gradients to clip have a non-finite norm (``error_if_nonfinite``)."""


class ArgumentError(WengertError, ValueError):
    """An argument does not fit the function: ``argnums`` out of range, tangents whose structure
    differs from the primals', an unknown name or bad syntax in a trace expression."""


class GradcheckError(WengertError, AssertionError):
    """``gradcheck`` found analytic derivatives that disagree with the numerical ones."""


class MissingDependencyError(WengertError, ImportError):
    """An optional dependency (a pip extra or a program) is missing; the message names the
    command that installs it."""


class StateDictError(WengertError, KeyError):
    """A state dict does not fit the module, optimizer or checkpoint: missing or unexpected
    keys, or a different number of parameter groups; the message names them."""

    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class UnknownWordError(WengertError, KeyError):
    """A word is not in the vocabulary of a set of word vectors (the message names it)."""

    def __str__(self):  # KeyError would print the message quoted, as a repr
        return str(self.args[0]) if self.args else ""


class DatasetError(WengertError, ValueError):
    """A dataset file is corrupt, truncated or not what was expected (the message names the
    file), or a download did not match its checksum."""


class CheckpointError(WengertError, ValueError):
    """A checkpoint file is corrupt or does not fit what it is loaded into (the message names
    the file and the keys or shapes at fault)."""


class NonFiniteLossError(WengertError, FloatingPointError):
    """The loss became NaN or Inf; the message names the step, epoch and batch."""


class LinAlgError(WengertError, ValueError):
    """A linear-algebra op cannot complete on this input: a singular matrix (``inv``,
    ``solve``), one that is not positive definite (``cholesky``), or a derivative that does
    not exist there (equal eigenvalues or singular values); the message names the op, the
    batch element, the shape and the dtype."""
