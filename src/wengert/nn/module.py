"""``Module`` (the base of every layer and model) and ``Parameter``.

A module registers what is assigned to it: a :class:`Parameter` becomes a parameter, a
``Module`` a child, and ``register_buffer`` adds state that is saved but not trained (batch
norm's running statistics). What walks the tree (``parameters``, ``buffers``,
``state_dict``, ``train``) goes through ``named_modules``, in registration order, as
PyTorch does: a module reached by two paths (``Sequential(lin, act, lin)``) counts once for
``parameters`` and ``train``, but ``state_dict`` lists it under every path."""
from collections import OrderedDict, namedtuple

import numpy as np

from ..autodiff.grad_mode import no_grad
from ..backend import as_dtype, is_float
from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor
from .errors import StateDictError


class Parameter(Tensor):
    """A tensor that is a trainable parameter of a module: it requires grad by default and
    is registered when assigned as a module attribute. ``Parameter(t)`` shares ``t``'s data."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models. Subclasses assign parameters and submodules in
    ``__init__`` (after calling ``super().__init__()``) and define ``forward``; calling the
    module calls ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # --- registration -------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called "
                                 f"in {type(self).__name__}.__init__")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, (Parameter, Module)):
            registry = params if isinstance(value, Parameter) else modules
            self._forget(name, keep=registry)
            registry[name] = value
            return
        slots = ((params, "a Parameter", Parameter), (modules, "a Module", Module),
                 (buffers, "a Tensor", Tensor))
        for registry, kind, ok in slots:
            if name in registry:
                if value is not None and not isinstance(value, ok):
                    raise TypeError(f"cannot assign a {type(value).__name__} to {name!r} of "
                                    f"{type(self).__name__}: it holds {kind} (or None)")
                registry[name] = value
                return
        object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Drop ``name`` from everywhere but the registry ``keep``, where a re-assignment
        then keeps its place (as PyTorch)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)

    def __getattr__(self, name):
        # Only called when normal lookup fails: registered names live in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Add a parameter (or None, a placeholder such as a missing bias) under ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got "
                            f"{type(param).__name__}. Hint: wrap it as nn.Parameter(t)")
        self._check_name("register_parameter", name, self._parameters)
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add state that is not trained (e.g. running statistics). Persistent buffers are
        in ``state_dict``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._check_name("register_buffer", name, self._buffers)
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name`` (as ``setattr``, for names that are not
        identifiers, such as ``"0"``)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got "
                            f"{type(module).__name__}")
        self._check_name("add_module", name, self._modules)
        self._forget(name, keep=self._modules)
        self._modules[name] = module

    def _check_name(self, where, name, registry):
        """PyTorch's rules for an explicit registration (assignment replaces silently): a
        name is a non-empty string without "." (the separator of state_dict keys), and not
        an attribute of another kind (a method, a parameter registered as a buffer)."""
        if not isinstance(name, str):
            raise TypeError(f"{where}: the name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{where}: the name {name!r} must be non-empty and contain no '.', "
                           "which separates the levels of state_dict keys")
        if name not in registry and hasattr(self, name):
            raise KeyError(f"{where}: attribute {name!r} already exists in "
                           f"{type(self).__name__}. Hint: pick another name, or assign with "
                           f"self.{name} = ... to replace it")

    # --- walking the tree ---------------------------------------------------------------------
    def named_modules(self, prefix="", memo=None, remove_duplicate=True):
        """``(name, module)`` for this module and every descendant, depth first. A module
        reached by several paths comes once, under its first name; with
        ``remove_duplicate=False`` it comes under every path (what ``state_dict`` walks, as
        PyTorch's)."""
        memo = set() if memo is None else memo
        stack = [(prefix, self, ())]
        while stack:
            name, module, ancestors = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            elif id(module) in ancestors:  # every path of a cycle is endless
                raise ArgumentError(f"{type(module).__name__} at {name!r} contains itself; "
                                    "a module tree with a cycle has no state_dict")
            yield name, module
            inside = ancestors + (id(module),)
            children = [(f"{name}.{k}" if name else k, m, inside)
                        for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        """This module and every descendant."""
        return (m for _, m in self.named_modules())

    def named_children(self):
        """``(name, module)`` for the direct children."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """The direct children."""
        return (m for _, m in self.named_children())

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                if recurse else [(prefix, self)])
        for module_prefix, module in mods:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield _join(module_prefix, name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, Parameter)`` in registration order, names starting with
        ``prefix``; a shared parameter once (under every name with
        ``remove_duplicate=False``). The arguments are PyTorch's, in its order."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """The parameters, in registration order (what an optimizer takes)."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, buffer)`` in registration order (arguments as
        :meth:`named_parameters`)."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """The buffers, in registration order."""
        return (b for _, b in self.named_buffers(recurse=recurse))

    # --- modes and utilities ------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (dropout active, batch norm uses batch statistics) here and in
        every descendant; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch ``requires_grad`` of every parameter (freeze with False); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the parameters' gradients (set to None, or zero them in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none or not isinstance(p.grad, Tensor):
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant, children first, then on self (as
        ``torch.nn.Module.apply``, e.g. for custom initialisation); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype):
        """Cast floating parameters and buffers to ``dtype`` in place; returns self."""
        dtype = as_dtype(dtype)
        for m in self.modules():
            for registry in (m._parameters, m._buffers):
                for t in registry.values():
                    if t is not None and is_float(t.dtype) and t.dtype != dtype:
                        t.data = t.data.astype(dtype)
                        t.grad = None
        return self

    def double(self):
        """``to(float64)``."""
        return self.to(np.float64)

    def float(self):
        """``to(float32)``."""
        return self.to(np.float32)

    # --- state --------------------------------------------------------------------------------
    def state_dict(self):
        """An ordered ``{dotted name: tensor}`` of parameters and persistent buffers. The
        tensors are detached and share storage with the module (copy them to snapshot). A
        module reached by several paths is listed under each (``0.weight`` and ``2.weight``
        for ``Sequential(lin, act, lin)``), as in PyTorch, so the two exchange state dicts."""
        out = OrderedDict()
        for prefix, m in self.named_modules(remove_duplicate=False):
            for name, t in m._parameters.items():
                if t is not None:
                    out[_join(prefix, name)] = t.detach()
            for name, t in m._buffers.items():
                if t is not None and name not in m._non_persistent:
                    out[_join(prefix, name)] = t.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (tensors or arrays) into the parameters and buffers in place.

        Shapes must match. With ``strict`` every key must match too; otherwise the missing
        and unexpected keys are returned as ``(missing_keys, unexpected_keys)``. Nothing is
        written unless everything fits. The keys are ``state_dict()``'s: a shared module is
        expected under each of its paths, and where they differ the last one wins (as in
        PyTorch)."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = [f"{k}: checkpoint {np.shape(_array(state_dict[k]))} vs model "
                      f"{own[k].shape}" for k in own
                      if k in state_dict and np.shape(_array(state_dict[k])) != own[k].shape]
        name = type(self).__name__
        if mismatched:
            raise ShapeError(f"load_state_dict for {name}: shape mismatch for "
                             f"{'; '.join(mismatched)}. Hint: the checkpoint was saved from "
                             "a model with different layer sizes")
        if strict and (missing or unexpected):
            raise StateDictError(f"load_state_dict for {name}: missing keys {missing}, "
                                 f"unexpected keys {unexpected}. Hint: pass strict=False to "
                                 "load the keys that match")
        with no_grad():
            for k, t in own.items():
                if k in state_dict:
                    t[...] = _array(state_dict[k])  # casts to the tensor's dtype
        return IncompatibleKeys(missing, unexpected)

    # --- printing -----------------------------------------------------------------------------
    def extra_repr(self):
        """The text between the parentheses of this module's line in ``repr``."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [f"({name}): " + repr(child).replace("\n", "\n  ")
                    for name, child in self._modules.items()]
        if not children and len(lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines + children) + "\n)"


class FunctionModule(Module):
    """A module that calls the function ``fn`` (a class attribute) with its stored options:
    ``forward(*inputs) = fn(*inputs, **options)``. The options are attributes (``m.alpha``)
    and make up the repr. Activations and losses are such modules."""

    fn = None

    def __init__(self, **options):
        super().__init__()
        self._options = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, *inputs):
        return type(self).fn(*inputs, **{k: getattr(self, k) for k in self._options})

    def extra_repr(self):
        return ", ".join(f"{k}={getattr(self, k)!r}" for k in self._options)


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _array(value):
    return value.data if isinstance(value, Tensor) else np.asarray(value)
