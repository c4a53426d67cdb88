"""JAX-style function transforms over wengert tensors.

``grad``, ``value_and_grad``, ``vjp`` and ``jacrev`` use reverse mode; ``jvp`` and ``jacfwd``
true forward mode (dual numbers); ``hessian`` and ``hvp`` are forward-over-reverse. Arguments
and outputs may be tensors, arrays or nested tuples/lists/dicts of them, and the transforms
compose: ``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``jvp(grad(f), ...)``.
"""
from .forward import jacfwd, jvp
from .reverse import grad, jacrev, value_and_grad, vjp
from .second import hessian, hvp, jacobian

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian",
           "hvp"]
