"""Parametrizations, as ``torch.nn.utils.parametrize``: ``module.weight`` computed from other
tensors on every read (``weight = f(original)``), so training moves ``original`` and the weight
stays constrained (symmetric, orthogonal, of unit norm...).

``register_parametrization(m, "weight", f)`` moves the tensor to
``m.parametrizations.weight.original`` (a :class:`ParametrizationList`, which also holds ``f``
and the parametrizations chained after it) and gives ``m`` a class of its own,
``Parametrized<Class>``, with a property ``weight`` that returns ``f(original)``, as torch
does; ``state_dict`` keys follow (``parametrizations.weight.original``).

wengert's layers read their tensors from ``self._parameters`` on the hot path rather than
through attribute lookup (``Linear.forward`` takes ``self._parameters["weight"]``). So the
parametrized module's ``_parameters`` becomes a :class:`ComputedRegistry`: an ordered dict
that holds the same entries and, asked for a computed name it does not hold, answers with the
property's value. Iteration, ``state_dict`` and ``named_parameters`` see only what it holds.
A tensor ``functional_call`` puts in the registry under a computed name wins over the
computation while it is there.

The older hook-style ``weight_norm`` and ``spectral_norm`` (:mod:`.legacy_norms`) use the same
machinery with a value recomputed before each call instead (torch's forward pre-hook).
"""
import functools
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

from ...autodiff.grad_mode import no_grad
from ...autodiff.state import mark_modified
from ...errors import ArgumentError, DTypeError, ShapeError
from ...tensor import Tensor
from ..containers import ModuleDict, ModuleList
from ..module import Module, Parameter

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized",
           "remove_parametrizations", "type_before_parametrizations",
           "transfer_parametrizations_and_params", "ComputedRegistry"]

_CACHE = {"depth": 0, "values": {}}


@contextmanager
def cached():
    """Within this context each parametrized tensor is computed once, at its first read, and
    reused (a weight read at every step of a recurrent loop, or shared between layers); the
    values are dropped when the outermost ``cached()`` exits. As torch's."""
    _CACHE["depth"] += 1
    try:
        yield
    finally:
        _CACHE["depth"] -= 1
        if not _CACHE["depth"]:
            _CACHE["values"] = {}


class ComputedRegistry(OrderedDict):
    """A parametrized module's ``_parameters``: an ordered dict of its own parameters which,
    asked for one of the ``computed`` names it does not hold, returns the module's attribute
    of that name (the parametrized value), so layers that read ``self._parameters[name]``
    see the parametrization. ``in``, ``get`` and iteration see the held entries only."""

    def __init__(self, items=(), owner=None, computed=()):
        super().__init__(items)
        self.owner = owner
        self.computed = frozenset(computed)

    def __missing__(self, name):
        if name in self.computed:
            return getattr(self.owner, name)
        raise KeyError(name)


def _set_data(dest, src):
    """Give ``dest`` the values of ``src`` without changing its identity (what torch's
    ``set_`` does here): an optimizer holding ``dest`` keeps training it."""
    if src is dest:
        return
    with no_grad():
        if dest.shape == src.shape and dest.dtype == src.dtype:
            dest[...] = src
        else:  # an unsafe parametrization may change the shape
            dest.data = np.array(src.data)
            mark_modified(dest)


def _register(module, name, tensor):
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


class ParametrizationList(ModuleList):
    """``module.parametrizations[name]``: the parametrizations of one tensor, applied in
    registration order, and the unconstrained tensor(s) they start from: ``original``, or
    ``original0``, ``original1``... when the first parametrization's ``right_inverse``
    returns several. Made by :func:`register_parametrization`, not by hand. Calling it
    computes the parametrized tensor; ``right_inverse(value)`` sets the originals so that it
    equals ``value`` (as far as the parametrizations' ``right_inverse`` allow)."""

    def __init__(self, modules, original, unsafe=False):
        modules = list(modules)
        if not modules:
            raise ArgumentError("ParametrizationList needs at least one parametrization")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for m in reversed(modules):
                inverse = getattr(m, "right_inverse", None)
                if inverse is not None:
                    try:
                        new = inverse(new)
                    except NotImplementedError:
                        pass  # taken as the identity, as torch does
        self.is_tensor = isinstance(new, Tensor)
        if not self.is_tensor and not (isinstance(new, (tuple, list))
                                       and all(isinstance(t, Tensor) for t in new)):
            raise ArgumentError(f"register_parametrization: right_inverse of "
                                f"{type(modules[0]).__name__} must return a Tensor or a "
                                f"sequence of Tensors, got {_kinds(new)}")
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise DTypeError(f"register_parametrization: right_inverse returned dtype "
                                 f"{new.dtype} for a tensor of dtype {original.dtype}; with one "
                                 "output it may not change the dtype")
            _set_data(original, new)
            _register(self, "original", original)
        else:
            for i, t in enumerate(new):
                if isinstance(original, Parameter):
                    t = Parameter(t, requires_grad=original.requires_grad)
                elif t.requires_grad != original.requires_grad:
                    t = t.detach().requires_grad_(original.requires_grad)
                _register(self, f"original{i}", t)
        if not unsafe:
            _check_same("register_parametrization", "the tensor", shape, dtype, self(),
                        "parametrized")

    def right_inverse(self, value):
        """Set the originals from ``value``: each parametrization's ``right_inverse``, last
        registered first; not recorded."""
        with no_grad():
            for m in reversed(list(self)):
                inverse = getattr(m, "right_inverse", None)
                if inverse is None:
                    raise ArgumentError(
                        f"cannot assign to a tensor parametrized by {type(m).__name__}: it has "
                        "no right_inverse. Hint: give the parametrization a right_inverse "
                        "method, or write into parametrizations.<name>.original")
                value = inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor) or value.dtype != self.original.dtype:
                    raise DTypeError(f"right_inverse returned {_kinds(value)}, but original is "
                                     f"a Tensor of dtype {self.original.dtype}")
                _set_data(self.original, value)
                return
            if not isinstance(value, (tuple, list)) or len(value) != self.ntensors:
                raise ArgumentError(f"right_inverse must return a sequence of "
                                    f"{self.ntensors} tensors, got {_kinds(value)}")
            for i, t in enumerate(value):
                dest = getattr(self, f"original{i}")
                if not isinstance(t, Tensor) or t.dtype != dest.dtype:
                    raise DTypeError(f"right_inverse returned {_kinds(t)} at position {i}, but "
                                     f"original{i} is a Tensor of dtype {dest.dtype}")
                _set_data(dest, t)

    def forward(self):
        mods = iter(self._modules.values())
        first = next(mods)
        if self.is_tensor:
            x = first(self._parameters.get("original", self._buffers.get("original")))
        else:
            x = first(*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for m in mods:
            x = m(x)
        return x


def _kinds(x):
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {[type(t).__name__ for t in x]}"
    return f"a {type(x).__name__}"


def _check_same(where, what, shape, dtype, after, verb):
    if not isinstance(after, Tensor):
        raise ArgumentError(f"{where}: a parametrization must return a Tensor, got "
                            f"{_kinds(after)}")
    if after.dtype != dtype:
        raise DTypeError(f"{where}: the {verb} tensor has dtype {after.dtype} but {what} has "
                         f"{dtype}; a parametrization may not change the dtype. Hint: pass "
                         "unsafe=True if that is intended")
    if after.shape != shape:
        raise ShapeError(f"{where}: the {verb} tensor has shape {after.shape} but {what} has "
                         f"{shape}; a parametrization may not change the shape. Hint: pass "
                         "unsafe=True if that is intended")


# --- the parametrized class ---------------------------------------------------------------
def type_before_parametrizations(module):
    """The module's class before parametrizations (or the hook-style weight/spectral norms)
    gave it a class of its own; its class when it has none."""
    cls = type(module)
    return cls.__dict__.get("_plain_class", cls)


def _read_computed(name, module):
    params = module._parameters
    if name in params:  # functional_call's stand-in for the call
        return params[name]
    hook = module.__dict__.get("_norm_hooks", {}).get(name)
    if hook is not None:
        return hook.value
    plist = module._modules["parametrizations"]._modules[name]
    if not _CACHE["depth"]:
        return plist()
    key = (id(module), name)
    values = _CACHE["values"]
    if key not in values:
        values[key] = plist()
    return values[key]


def _write_computed(module, name, value):
    if isinstance(value, (Parameter, Module)):
        raise KeyError(f"attribute {name!r} already exists: it is computed by a "
                       f"parametrization of {type(module).__name__}, so a "
                       f"{type(value).__name__} cannot replace it. Hint: assign a Tensor (set "
                       "through right_inverse), or remove the parametrization first")
    hook = module.__dict__.get("_norm_hooks", {}).get(name)
    if hook is not None:  # as torch's plain attribute: the next call recomputes it
        hook.value = value
        return
    value = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
    module._modules["parametrizations"]._modules[name].right_inverse(value)


def _setattr(self, name, value):
    if name in type(self)._computed:
        _write_computed(self, name, value)
    else:
        type(self)._plain_class.__setattr__(self, name, value)


def _call_after_hooks(self, *args, **kwargs):
    for hook in self.__dict__["_norm_hooks"].values():
        hook(self)
    return type(self)._plain_class.__call__(self, *args, **kwargs)


def update_class(module):
    """Give ``module`` the class and ``_parameters`` registry that its parametrizations and
    hook-style norms need now: a fresh ``Parametrized<Class>`` with one property per computed
    name (classes are never changed once made, so a deep copy sharing one stays right), or
    its plain class and an ordered dict when nothing is computed any more."""
    base = type_before_parametrizations(module)
    plists = module._modules.get("parametrizations")
    parametrized = list(plists) if isinstance(plists, ModuleDict) else []
    hooks = module.__dict__.get("_norm_hooks", {})
    names = parametrized + [n for n in hooks if n not in parametrized]
    registry = (ComputedRegistry(module._parameters, module, names) if names
                else OrderedDict(module._parameters))
    object.__setattr__(module, "_parameters", registry)
    if not names:
        module.__class__ = base
        return
    namespace = {"_plain_class": base, "_computed": frozenset(names), "__setattr__": _setattr,
                 "__module__": base.__module__}
    for n in names:
        namespace[n] = property(functools.partial(_read_computed, n))
    if hooks:
        namespace["__call__"] = _call_after_hooks
    # torch renames the class only for parametrizations; its hook-style norms keep the name
    prefix = "Parametrized" if parametrized else ""
    module.__class__ = type(prefix + base.__name__, (base,), namespace)


# --- registering and removing -------------------------------------------------------------
def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization on ``tensor_name`` (on any tensor when None)."""
    plists = module._modules.get("parametrizations") if isinstance(module, Module) else None
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrize ``module.<tensor_name>`` (a parameter or buffer) by the module
    ``parametrization``: reading it returns ``parametrization(original)``, and gradients reach
    ``module.parametrizations.<tensor_name>.original``. A second registration on the same
    name chains: ``second(first(original))``. Returns ``module``. As torch's:

    - ``parametrization.right_inverse(X)``, if defined, gives the first original from the
      current tensor (else it is the tensor itself); returning a tuple stores several,
      ``original0``, ``original1``..., and ``forward`` then takes them all;
    - assigning ``module.<tensor_name> = X`` runs the ``right_inverse``s, last one first;
    - unless ``unsafe``, the parametrized tensor must keep the tensor's shape and dtype
      (checked once, here);
    - the parametrization takes the module's training mode."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        plist = module._modules["parametrizations"][tensor_name]
        if not unsafe:
            Y = getattr(module, tensor_name)
            X = parametrization(Y)
            _check_same("register_parametrization", f"module.{tensor_name}", Y.shape,
                        Y.dtype, X, "parametrized")
            inverse = getattr(parametrization, "right_inverse", None)
            if inverse is not None:
                try:
                    Z = inverse(X)
                except NotImplementedError:
                    pass
                else:
                    _check_same("register_parametrization", f"module.{tensor_name}",
                                Y.shape, Y.dtype, Z, "right_inverse's")
        plist.append(parametrization)
        plist.unsafe = plist.unsafe or unsafe
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ArgumentError(f"register_parametrization: {type(module).__name__} has no "
                            f"parameter, buffer or parametrized tensor named {tensor_name!r}")
    original = getattr(module, tensor_name)
    if original is None:
        raise ArgumentError(f"register_parametrization: {type(module).__name__}."
                            f"{tensor_name} is None; there is no tensor to parametrize")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        module.add_module("parametrizations", ModuleDict())
    module._modules["parametrizations"][tensor_name] = plist
    update_class(module)
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo :func:`register_parametrization` on ``tensor_name`` (all its chained
    parametrizations): the tensor becomes a parameter (or buffer) again, holding its current
    parametrized value (``leave_parametrized=True``) or the original (only possible with
    one original). With one original it is the same tensor object as ``original``, so an
    optimizer holding it keeps training it. The module gets its class back when nothing is
    parametrized any more. Returns ``module``."""
    if not is_parametrized(module, tensor_name):
        raise ArgumentError(f"remove_parametrizations: {type(module).__name__} has no "
                            f"parametrization on {tensor_name!r}")
    plists = module._modules["parametrizations"]
    plist = plists[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                _set_data(original, getattr(module, tensor_name))
    elif leave_parametrized:
        t = getattr(module, tensor_name)
        original = Parameter(t.detach()) if t.requires_grad else t
    else:
        raise ArgumentError(f"remove_parametrizations: {tensor_name!r} is parametrized by "
                            f"{plist.ntensors} tensors, so leave_parametrized=False has no "
                            "single original to restore. Hint: leave_parametrized=True")
    del plists[tensor_name]
    if not len(plists):
        delattr(module, "parametrizations")
    update_class(module)
    _register(module, tensor_name, original)
    return module


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register on ``to_module`` the parametrizations of ``from_module`` (those of
    ``tensor_name``, or all) and make its originals the same tensors as ``from_module``'s;
    a parametrized name ``to_module`` lacks is created first. Returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    plists = from_module._modules["parametrizations"]
    for name in list(plists) if tensor_name is None else [tensor_name]:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        for parametrization in plists[name]:
            register_parametrization(to_module, name, parametrization)
        source, target = plists[name], to_module._modules["parametrizations"][name]
        for i in range(source.ntensors):
            key = "original" if source.is_tensor else f"original{i}"
            setattr(target, key, getattr(source, key))
    return to_module
