"""Reproducible randomness: a global generator seeded by ``manual_seed`` and explicit
:class:`Generator` objects (NumPy's PCG64 underneath)."""
import contextlib

import numpy as np

from .autodiff.state import STATE
from .backend import DEFAULT_FLOAT, as_dtype
from .errors import Unbatchable
from .tensor import Tensor


class Generator:
    """A random number generator; ``Generator(seed)`` or ``Generator().manual_seed(seed)``.

    ``generator.numpy`` is the underlying ``numpy.random.Generator``. ``get_state`` /
    ``set_state`` save and restore it exactly (checkpoints use them)."""

    def __init__(self, seed=None):
        self._numpy = np.random.default_rng(seed)

    @property
    def numpy(self):
        # every draw reads it, so this is where vmap's randomness="error" is kept
        if STATE.vmap_levels and any(r == "error" for _, _, r in STATE.vmap_levels):
            raise Unbatchable(
                "vmap: a random draw (dropout, wg.randn, ...) inside a function vmapped "
                "with randomness='error'. Hint: pass randomness='different' for "
                "independent draws per example, or 'same' for one draw shared by the batch")
        first = STATE.same_draws
        if first is not None and self not in first:
            first[self] = self.get_state()
        return self._numpy

    def manual_seed(self, seed):
        self._numpy = np.random.default_rng(seed)
        return self

    def get_state(self):
        """The generator's state as a plain dict of ints (JSON-serialisable)."""
        return self._numpy.bit_generator.state

    def set_state(self, state):
        self._numpy.bit_generator.state = state


_default = Generator(0)


@contextlib.contextmanager
def same_draws():
    """Make every repeat of a computation draw what its first run drew: inside, each
    generator's state at its first draw is recorded in the dict this yields, which
    :func:`replay_draws` puts back before a repeat (vmap's chunks with randomness='same',
    jacfwd's directions). Nested, the outermost record is shared, so the repeats of an
    inner one draw what the outer first drew too."""
    if STATE.same_draws is not None:
        yield STATE.same_draws
        return
    STATE.same_draws = first = {}
    try:
        yield first
    finally:
        STATE.same_draws = None


def replay_draws(first):
    """Put every generator in ``first`` (see :func:`same_draws`) back to its recorded state."""
    for generator, state in first.items():
        generator.set_state(state)


def default_generator():
    """The global generator used when no ``generator`` is passed."""
    return _default


def manual_seed(seed):
    """Seed the global generator; returns it."""
    return _default.manual_seed(seed)


def _rng(generator):
    return (generator or _default).numpy


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(int(s) for s in shape)


def rand(*shape, dtype=None, generator=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    dt = as_dtype(dtype) or DEFAULT_FLOAT
    return Tensor(_rng(generator).random(_shape(shape), dtype=np.float64).astype(dt),
                  requires_grad=requires_grad)


def randn(*shape, dtype=None, generator=None, requires_grad=False):
    """Standard normal samples."""
    dt = as_dtype(dtype) or DEFAULT_FLOAT
    return Tensor(_rng(generator).standard_normal(_shape(shape)).astype(dt),
                  requires_grad=requires_grad)


def randint(low, high, shape, generator=None):
    """Integers in [low, high) as an int64 tensor."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return Tensor(_rng(generator).integers(low, high, size=shape, dtype=np.int64))


def randperm(n, generator=None):
    """A random permutation of 0..n-1 (int64)."""
    return Tensor(_rng(generator).permutation(n).astype(np.int64))
