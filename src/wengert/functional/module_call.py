"""Calling a module as a pure function of its tensors, as ``torch.func``: ``functional_call``
and ``stack_module_state``.

``functional_call(model, params, (x,))`` runs ``model(x)`` with the tensors of ``params`` in
place of the parameters and buffers of those names, then puts the module's own back, also when
the call raises. The stand-ins go straight into the module's registries (no Parameter check,
as torch's), so the tracked tensors of a transform reach the layers' fast paths and
``grad(lambda p: loss(functional_call(model, p, (x,))))(params)`` differentiates with respect
to the dict. This layer sits above ``nn``, so a module is recognised by what it has
(``_parameters``, ``_buffers``, ``_modules``), not by its class.
"""
from ..errors import ArgumentError, DTypeError
from ..ops.shape import stack
from ..tensor import Tensor

_MISSING = object()


def _merged(dicts):
    """``parameter_and_buffer_dicts`` (a dict, or a sequence of dicts with distinct keys) as
    one dict; a single dict is returned as it is, so the call can write back into it."""
    if isinstance(dicts, dict):
        return dicts
    if not isinstance(dicts, (tuple, list)):
        raise ArgumentError(f"functional_call: parameter_and_buffer_dicts must be a dict or a "
                            f"tuple/list of dicts, got {type(dicts).__name__}. Hint: pass "
                            "dict(model.named_parameters())")
    if not all(isinstance(d, dict) for d in dicts):
        kinds = [type(d).__name__ for d in dicts]
        raise ArgumentError(f"functional_call: every element of parameter_and_buffer_dicts "
                            f"must be a dict, got {kinds}")
    merged = {}
    for d in dicts:
        repeated = sorted(k for k in d if k in merged)
        if repeated:
            raise ArgumentError(f"functional_call: {repeated} appear in more than one of the "
                                "dicts, so which value to use is ambiguous. Hint: give each "
                                "name in one dict only")
        merged.update(d)
    return merged


def _named_tensors(module):
    """``{dotted name: tensor}`` of every parameter and buffer, under every path."""
    out = dict(module.named_parameters(remove_duplicate=False))
    out.update(module.named_buffers(remove_duplicate=False))
    return out


def _untied(module, tensors):
    """``tensors`` plus, for each given name of a tensor the module holds under several names
    (tied weights), the same value under the other names, as torch's ``tie_weights=True``.
    Two different values for names of one tied tensor are an error."""
    names_of = {}
    for name, t in _named_tensors(module).items():
        names_of.setdefault(id(t), []).append(name)
    out = dict(tensors)
    for names in names_of.values():
        given = [n for n in names if n in tensors]
        if len(names) < 2 or not given:
            continue
        if len({id(tensors[n]) for n in given}) > 1:
            raise ArgumentError(f"functional_call: got different values for {sorted(given)}, "
                                f"which name one tied tensor (tied names: {sorted(names)}). "
                                "Hint: pass one of them, or tie_weights=False")
        for n in names:
            out[n] = tensors[given[0]]
    return out


def _check_keys(module, tensors):
    valid = set(_named_tensors(module))
    missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
    if missing or unexpected:
        raise ArgumentError(f"functional_call(strict=True) for {type(module).__name__}: "
                            f"missing keys {missing}, unexpected keys {unexpected}. Hint: pass "
                            "every parameter and buffer (model.state_dict() names), or "
                            "strict=False")


def _owner(module, path):
    """The submodule holding ``path`` (dotted) and the last name."""
    prefix, _, name = path.rpartition(".")
    owner = module
    for part in prefix.split(".") if prefix else ():
        child = getattr(owner, part, None)
        if not hasattr(child, "_modules"):
            raise ArgumentError(f"functional_call: {type(owner).__name__} has no submodule "
                                f"{part!r} (key {path!r}). Hint: the keys are "
                                "model.state_dict()'s dotted names")
        owner = child
    return owner, name


def _swap(module, path, value):
    """Put ``value`` in place of ``path``; returns the function that puts the old one back
    and returns what was there at that time (the module may have replaced it)."""
    owner, name = _owner(module, path)
    params, buffers = owner._parameters, owner._buffers
    for registry in (params, buffers):
        if name in registry:
            old = registry[name]
            registry[name] = value

            def restore(registry=registry, old=old):
                now, registry[name] = registry[name], old
                return now
            return restore
    if name in getattr(params, "computed", ()):
        # A parametrized tensor: a stand-in in the registry wins over the parametrization
        # for the call (see nn.utils.parametrize), and leaves with it.
        params[name] = value
        return lambda: params.pop(name)
    old = getattr(owner, name, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise DTypeError(f"functional_call: attribute {path!r} of {type(owner).__name__} is a "
                         f"{type(old).__name__}, not a tensor, so it cannot be replaced")
    setattr(owner, name, value)

    def restore_attribute():
        now = getattr(owner, name)
        if old is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, old)
        return now
    return restore_attribute


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts`` (a dict of
    dotted names, as ``state_dict``'s, or a tuple of dicts with distinct keys) in place of the
    module's parameters and buffers; the module's own are put back afterwards, also when the
    call raises. As ``torch.func.functional_call``:

    - ``args`` that is not a tuple is one argument; names not given keep the module's tensors
      (``strict=True`` requires exactly the module's names);
    - ``tie_weights=True``: a value given for one name of a tensor the module holds under
      several (a shared layer) is used under all of them;
    - a name the module does not have becomes an attribute for the call; a value the module
      replaced during the call (``self.x = self.x + 1``) is written back into the dict.

    For a parametrized tensor (``nn.utils.parametrize``) ``"weight"`` replaces the
    parametrized value for the call, as torch's documentation describes (torch 2.13 itself
    runs the value through ``right_inverse`` in place instead); pass
    ``"parametrizations.weight.original"`` to apply the parametrization to the value.

    Composes with the transforms: ``grad(lambda p: loss(functional_call(model, p, (x,))))``
    gives a dict of gradients shaped like ``p``."""
    tensors = _merged(parameter_and_buffer_dicts)
    for k, v in tensors.items():
        if v is not None and not isinstance(v, Tensor):
            raise DTypeError(f"functional_call: the value for {k!r} is a {type(v).__name__}, not "
                             "a Tensor (or None). Hint: wrap arrays with wengert.tensor(...)")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    kwargs = {} if kwargs is None else kwargs
    given = _untied(module, tensors) if tie_weights else tensors
    if strict:
        _check_keys(module, given)
    restores = []
    try:
        for path, value in given.items():
            restores.append((path, _swap(module, path, value)))
        return module(*args, **kwargs)
    finally:
        final = {path: restore() for path, restore in reversed(restores)}
        tensors.update({k: final[k] for k in tensors if k in final})


def _stacked_leaf(name, tensors):
    needs = {t.requires_grad for t in tensors}
    if len(needs) > 1:
        raise ArgumentError(f"stack_module_state: {name!r} requires grad in some models and not "
                            "in others; it must be the same in all")
    out = stack([t.detach() for t in tensors])
    return out.requires_grad_(True) if needs == {True} else out


def stack_module_state(models):
    """``(params, buffers)``: for each name of ``named_parameters`` and ``named_buffers`` of
    ``models`` (modules of one class and one training mode), the models' tensors stacked on a
    new leading axis. The stacked parameters are new leaves that require grad (an optimizer
    can take them), unconnected to the models', as ``torch.func.stack_module_state``; take
    model ``i``'s slice with ``{k: v[i] for k, v in params.items()}`` and
    :func:`functional_call`."""
    models = list(models)
    if not models:
        raise ArgumentError("stack_module_state: expected at least one model, got 0")
    if len({bool(m.training) for m in models}) > 1:
        raise ArgumentError("stack_module_state: the models must all be in the same mode "
                            "(training or eval). Hint: call .train() or .eval() on all of them")
    if len({type(m) for m in models}) > 1:
        kinds = sorted({type(m).__name__ for m in models})
        raise ArgumentError(f"stack_module_state: the models must be of one class, got {kinds}")
    out = []
    for members in ("named_parameters", "named_buffers"):
        per_model = [dict(getattr(m, members)()) for m in models]
        out.append({k: _stacked_leaf(k, [named[k] for named in per_model])
                    for k in per_model[0]})
    return tuple(out)
