"""The older, hook-style ``weight_norm``/``remove_weight_norm`` and
``spectral_norm``/``remove_spectral_norm`` of ``torch.nn.utils``, kept for their state dict
names: ``weight_g`` and ``weight_v``; ``weight_orig``, ``weight_u`` and ``weight_v``.

torch recomputes ``module.weight`` in a forward pre-hook, once per call, and keeps it as a
plain attribute in between. wengert's modules have no hooks, so the module gets a class of
its own (same name) whose ``__call__`` recomputes the weight first; reads of ``module.weight``
(and the layers' ``self._parameters["weight"]``) return the value of the last call, as in
torch, through :mod:`.parametrize`'s machinery.
"""
from ...autodiff.grad_mode import no_grad
from ...errors import ArgumentError
from ...ops.linalg import dot
from ...tensor import Tensor
from ..module import Parameter
from .parametrizations import (default_spectral_dim, norm_except_dim, normalized, unit_normal,
                               weight_matrix, weight_norm_value)
from .parametrize import update_class

__all__ = ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


class _WeightNormHook:
    """Recomputes ``name`` as ``g * v / ||v||`` from ``name_g`` and ``name_v``."""

    def __init__(self, name, dim):
        self.name, self.dim, self.value = name, dim, None

    def compute(self, module):
        p = module._parameters
        return weight_norm_value(p[self.name + "_v"], p[self.name + "_g"], self.dim)

    def __call__(self, module):
        self.value = self.compute(module)


class _SpectralNormHook:
    """Recomputes ``name`` as ``name_orig / sigma``, with a power iteration on the buffers
    ``name_u`` and ``name_v`` first in training mode."""

    def __init__(self, name, n_power_iterations, dim, eps):
        self.name, self.dim, self.eps, self.value = name, dim, eps, None
        self.n_power_iterations = n_power_iterations

    def compute(self, module, do_power_iteration):
        weight = module._parameters[self.name + "_orig"]
        u, v = module._buffers[self.name + "_u"], module._buffers[self.name + "_v"]
        W = weight_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():  # v first, then u: the order of torch's hook
                for _ in range(self.n_power_iterations):
                    v[...] = normalized(W.data.T @ u.data, self.eps)
                    u[...] = normalized(W.data @ v.data, self.eps)
        u, v = Tensor(u.data.copy()), Tensor(v.data.copy())
        return weight / dot(u, W @ v)

    def __call__(self, module):
        self.value = self.compute(module, module.training)


def _hooks(module):
    return module.__dict__.get("_norm_hooks", {})


def _install(module, hook):
    object.__setattr__(module, "_norm_hooks", {**_hooks(module), hook.name: hook})
    update_class(module)


def _uninstall(module, name):
    hooks = dict(_hooks(module))
    del hooks[name]
    object.__setattr__(module, "_norm_hooks", hooks)
    update_class(module)


def _check_free(fname, module, name):
    if name in _hooks(module):
        raise ArgumentError(f"{fname}: {type(module).__name__}.{name} is already normalised "
                            "by a weight_norm or spectral_norm hook; cannot register two on one "
                            "parameter. Hint: remove the first (remove_weight_norm)")
    if module._parameters.get(name) is None:
        raise ArgumentError(f"{fname}: {type(module).__name__} has no parameter {name!r} "
                            "(or it is None)")


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation in the older form of ``torch.nn.utils.weight_norm``: the parameter
    ``name`` is replaced by ``name_g`` (the norms over every axis but ``dim``, one per index;
    ``dim=None`` one norm of everything) and ``name_v`` (the old parameter), and
    ``module.<name> = name_g * name_v / ||name_v||`` is recomputed before each call.
    Prefer :func:`wengert.nn.utils.parametrizations.weight_norm`. Returns ``module``."""
    _check_free("weight_norm", module, name)
    dim = -1 if dim is None else dim
    weight = module._parameters[name]
    g = Parameter(norm_except_dim(weight, dim).detach())
    hook = _WeightNormHook(name, dim)
    delattr(module, name)
    module.register_parameter(name + "_g", g)
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    hook(module)
    _install(module, hook)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo :func:`weight_norm`: ``name`` becomes a plain parameter holding the current
    ``g * v / ||v||``. Returns ``module``."""
    hook = _hooks(module).get(name)
    if not isinstance(hook, _WeightNormHook):
        raise ArgumentError(f"remove_weight_norm: weight_norm of {name!r} not found in "
                            f"{type(module).__name__}")
    weight = hook.compute(module).detach()
    delattr(module, name + "_g")
    delattr(module, name + "_v")
    _uninstall(module, name)
    module.register_parameter(name, Parameter(weight))
    return module


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalisation in the older form of ``torch.nn.utils.spectral_norm``: the
    parameter becomes ``name_orig``, random unit vectors (wengert's generator) become the
    buffers ``name_u`` and ``name_v``, and before each call ``module.<name> = name_orig /
    sigma`` is recomputed, after ``n_power_iterations`` of the power iteration in training
    mode (none in eval mode). Until the first call ``module.<name>`` is the unnormalised
    weight, as in torch. ``dim`` defaults to 0 (1 for transposed convolutions). Prefer
    :func:`wengert.nn.utils.parametrizations.spectral_norm`. Returns ``module``."""
    _check_free("spectral_norm", module, name)
    if n_power_iterations <= 0:
        raise ArgumentError(f"spectral_norm: n_power_iterations={n_power_iterations} must be "
                            "positive")
    dim = default_spectral_dim(module) if dim is None else dim
    weight = module._parameters[name]
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    h, w = weight_matrix(weight, dim).shape
    u, v = unit_normal(h, weight.dtype, eps), unit_normal(w, weight.dtype, eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    hook.value = weight.detach()
    _install(module, hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``name`` becomes a plain parameter holding
    ``name_orig / sigma`` with the stored ``u``, ``v`` (no further iteration). Returns
    ``module``."""
    hook = _hooks(module).get(name)
    if not isinstance(hook, _SpectralNormHook):
        raise ArgumentError(f"remove_spectral_norm: spectral_norm of {name!r} not found in "
                            f"{type(module).__name__}")
    with no_grad():
        weight = hook.compute(module, do_power_iteration=False).detach()
    for suffix in ("_u", "_v", "_orig"):
        delattr(module, name + suffix)
    _uninstall(module, name)
    module.register_parameter(name, Parameter(weight))
    return module
