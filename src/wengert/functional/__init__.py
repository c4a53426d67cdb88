"""JAX-style function transforms over wengert tensors.

``grad``, ``value_and_grad``, ``vjp`` and ``jacrev`` use reverse mode; ``jvp`` and ``jacfwd``
true forward mode (dual numbers); ``hessian`` and ``hvp`` are forward-over-reverse. Arguments
and outputs may be tensors, arrays or nested tuples/lists/dicts of them, and the transforms
compose: ``grad(grad(f))``, ``jacfwd(jacrev(f))``, ``jvp(grad(f), ...)``. ``vmap`` maps a
function written for one example over a batch. ``functional_call``
runs a module with given tensors in place of its parameters, so the transforms differentiate
a model with respect to a dict of them, as ``torch.func``.
"""
from .forward import jacfwd, jvp, linearize
from .module_call import functional_call, stack_module_state
from .reverse import grad, grad_and_value, jacrev, value_and_grad, vjp
from .second import hessian, hvp, jacobian
from .vmap import vmap

__all__ = ["grad", "value_and_grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev",
           "jacfwd", "jacobian", "hessian", "hvp", "vmap", "functional_call",
           "stack_module_state"]
