"""Second order and the mode-neutral names: ``hessian``, ``hvp`` and ``jacobian``.
Their errors name them, not the transforms they are built of."""
import functools

from ..errors import ArgumentError
from .args import fname
from .forward import forward_jacobian, jacfwd, named_jvp
from .reverse import jacrev, reverse_jacobian, value_aux_grad


def hessian(f, argnums=0):
    """``f`` -> its Hessian, forward-over-reverse (``jacfwd(jacrev(f))``): one forward pass of
    the gradient per input element. For a scalar ``f`` of ``x`` the block has shape
    ``x.shape + x.shape``."""
    return forward_jacobian("hessian", reverse_jacobian("hessian", f, argnums, False),
                            argnums, False)


def hvp(f, primals, tangents):
    """The Hessian-vector product ``H(primals) . tangents`` of a scalar ``f``, without forming
    ``H`` (Pearlmutter): the JVP of the gradient, one forward pass through the reverse pass.
    Costs a small constant times one gradient, whatever the number of inputs. Returns one tree
    per primal, shaped like ``primals``."""
    if not isinstance(primals, (tuple, list)) or not primals:
        raise ArgumentError(f"hvp({fname(f)}): primals must be a non-empty tuple of arguments, "
                            f"got {type(primals).__name__}. Hint: hvp(f, (x,), (v,))")
    value_aux_gradient = value_aux_grad("hvp", f, tuple(range(len(primals))), False)
    gradient = functools.wraps(f)(lambda *args: value_aux_gradient(*args)[2])
    return named_jvp("hvp", gradient, primals, tangents)[1]


def jacobian(f, argnums=0, has_aux=False, mode="reverse"):
    """``f`` -> its Jacobian: ``mode="reverse"`` (:func:`jacrev`, one pass per output element,
    for wide functions) or ``"forward"`` (:func:`jacfwd`, one pass per input element, for tall
    ones). Both give the same blocks."""
    modes = {"reverse": jacrev, "forward": jacfwd}
    if mode not in modes:
        raise ArgumentError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")
    return modes[mode](f, argnums, has_aux)
