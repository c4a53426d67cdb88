"""The ``Optimizer`` base: parameter groups, per-parameter state, ``zero_grad``, ``step``,
and state dicts, as ``torch.optim.Optimizer``.

A subclass supplies ``_update(param, grad, state, work, group)`` for dense gradients and,
if it takes them, ``_sparse_update(param, grad, state, group)`` for row-sparse ones
(:class:`~wengert.sparse.RowSparse`, from ``Embedding(sparse=True)``); each calls the
optimizer's pure update function on NumPy arrays. Updates happen in place: the parameter's
array is modified (its version counter is bumped, so a graph that saved it refuses to
backward), and every intermediate goes into per-parameter scratch arrays (``work``)
allocated once, because fresh multi-megabyte temporaries every step cost page faults."""
import copy
import inspect

import numpy as np

from ..autodiff.grad_mode import enable_grad
from ..autodiff.state import mark_modified
from ..errors import ArgumentError, DTypeError, ShapeError
from ..sparse import RowSparse
from ..tensor import Tensor
from ..nn.errors import StateDictError


def check_nonnegative(where, **values):
    """Raise an :class:`ArgumentError` naming the first hyperparameter that is negative."""
    for name, value in values.items():
        if not value >= 0:
            raise ArgumentError(f"{where}: invalid {name}={value}; it must be >= 0")


def check_betas(where, betas):
    """Raise unless both coefficients of ``betas`` are in [0, 1)."""
    for i, b in enumerate(betas):
        if not 0 <= b < 1:
            raise ArgumentError(f"{where}: invalid betas[{i}]={b}; it must be in [0, 1)")


def decayed_grad(param, grad, d, tmp, *, lr, weight_decay, maximize, decoupled=False):
    """The gradient a step follows: ``grad`` negated when ``maximize``, plus ``weight_decay *
    param`` (L2), or with ``decoupled`` that term left out and ``param`` shrunk in place by
    ``1 - lr * weight_decay`` instead (AdamW's). Written into the scratch ``d`` when it
    differs from ``grad``; ``tmp`` (p's shape) is clobbered."""
    g = np.negative(grad, out=d) if maximize else grad
    if weight_decay:
        if decoupled:
            param *= 1 - lr * weight_decay
        else:
            np.multiply(param, weight_decay, out=tmp)
            g = np.add(g, tmp, out=d)
    return g


def adam_moments(state, g, beta1, beta2, tmp):
    """Adam's running moments, in place: ``m = beta1 m + (1 - beta1) g`` and ``v = beta2 v
    + (1 - beta2) g^2`` (state "exp_avg" and "exp_avg_sq"); returns (m, v)."""
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m *= beta1
    axpy(m, 1 - beta1, g, tmp)
    v *= beta2
    np.multiply(g, g, out=tmp)
    axpy(v, 1 - beta2, tmp, tmp)
    return m, v


def axpy(y, a, x, tmp):
    """``y += a * x`` in place, with ``tmp`` (x's shape) holding the product."""
    if a == 1:
        y += x
    else:
        np.multiply(x, a, out=tmp)
        y += tmp


class Optimizer:
    """Base class. ``params`` is an iterable of tensors, or of dicts (parameter groups)
    with a "params" entry and per-group hyperparameters overriding ``defaults``."""

    #: how many scratch arrays of a parameter's shape ``_update`` receives.
    n_work = 2

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        self._work = {}
        params = self._ordered(params)
        if not params:
            raise ArgumentError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a group of parameters (a dict with "params" and optional hyperparameters)."""
        group = dict(group)
        group["params"] = self._ordered(group["params"])
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, got a "
                                f"{type(p).__name__}")
            if not (p.is_leaf or p._retains_grad):  # it would never get a .grad to move by
                raise ArgumentError(f"{type(self).__name__} can't optimize a non-leaf tensor "
                                    f"(shape {p.shape}, made by {p.grad_fn.prim.name!r}), as "
                                    "PyTorch can't: it never gets a .grad. Hint: optimize the "
                                    "leaf it was computed from, or pass t.detach()"
                                    ".requires_grad_()")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or \
                len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ArgumentError(f"{type(self).__name__}: a parameter appears more than once "
                                "in the parameter groups")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def _ordered(self, params):
        """``params`` (a tensor or an iterable) as a list. A set is refused (PyTorch refuses
        one as a group's params): its order, which numbers the parameters in state dicts,
        changes between runs."""
        if isinstance(params, Tensor):
            return [params]
        if isinstance(params, (set, frozenset)):
            raise ArgumentError(f"{type(self).__name__}: parameters in a set have no fixed "
                                "order, so a saved state dict could be loaded into the wrong "
                                "parameters. Hint: pass a list, e.g. list(model.parameters())")
        return list(params)

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all parameters (set them to None, or zero them in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or not isinstance(p.grad, Tensor):
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient. ``closure`` (optional) re-evaluates
        the model and returns the loss, which ``step`` returns."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad, state = p.grad.data, self.state.setdefault(p, {})
                if type(grad) is RowSparse:
                    self._sparse_update(p.data, grad, state, group)
                else:
                    self._update(p.data, grad, state, self._scratch(p), group)
                mark_modified(p)
        return loss

    def _scratch(self, p):
        work = self._work.get(p)
        data = p.data  # the array's own attributes below, not the Tensor's properties
        if work is None or (work and (work[0].shape != data.shape or work[0].dtype != data.dtype)):
            work = self._work[p] = [np.empty_like(data) for _ in range(self.n_work)]
        return work

    def _update(self, param, grad, state, work, group):
        raise NotImplementedError

    def _sparse_update(self, param, grad, state, group):
        raise DTypeError(f"{type(self).__name__} does not support sparse gradients (from "
                         "Embedding(sparse=True)). Hint: use optim.SGD, optim.Adagrad or "
                         "optim.SparseAdam for those parameters")

    # --- state dicts --------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {name: value}}, "param_groups": [{hyperparameters, "params":
        [index, ...]}]}``, parameters numbered in group order (PyTorch's format). Arrays
        are copies."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: copy.deepcopy(s) for p, s in self.state.items()
                 if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by :meth:`state_dict` from an optimizer
        over parameters of the same shapes, in the same groups. A hyperparameter that a saved
        group lacks (an older state dict, from before the optimizer took it) gets the
        constructor's default, as PyTorch's ``__setstate__`` gives it (not this optimizer's
        own value: the saved optimizer had the old behaviour), or ``self.defaults``' value
        where the constructor has none."""
        saved = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        saved_sizes = [len(g["params"]) for g in saved]
        if sizes != saved_sizes:
            raise StateDictError(f"{type(self).__name__}.load_state_dict: the state dict has "
                                 f"parameter groups of sizes {saved_sizes}, the optimizer "
                                 f"{sizes}")
        params = [p for g in self.param_groups for p in g["params"]]
        state = {}
        for key, values in state_dict["state"].items():
            if not 0 <= int(key) < len(params):
                raise StateDictError(f"{type(self).__name__}.load_state_dict: the state dict "
                                     f"has state for parameter {key}, but the optimizer has "
                                     f"{len(params)} parameters (numbered from 0)")
            p = params[int(key)]
            state[p] = {k: _cast_state(v, p, k, type(self).__name__) for k, v in values.items()}
        self.state = state
        missing = {**self.defaults, **{k: v for k, v in _constructor_defaults(type(self)).items()
                                       if k in self.defaults}}
        groups = []
        for group, saved_group in zip(self.param_groups, saved):
            loaded = {k: v for k, v in saved_group.items() if k != "params"}
            loaded["params"] = group["params"]
            for k, v in missing.items():
                loaded.setdefault(k, v)
            groups.append(loaded)
        self.param_groups = groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _constructor_defaults(cls):
    """The default values of ``cls.__init__``'s arguments, by name."""
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _cast_state(value, param, name, where):
    """A copy of a saved state value; arrays shaped like the parameter take its dtype."""
    if not isinstance(value, (np.ndarray, Tensor)):
        return copy.deepcopy(value)
    arr = np.array(value.data if isinstance(value, Tensor) else value)
    if arr.ndim and arr.shape != param.shape:
        raise ShapeError(f"{where}.load_state_dict: state {name!r} has shape {arr.shape} but "
                         f"its parameter has shape {param.shape}")
    return arr.astype(param.dtype) if arr.dtype.kind == "f" else arr
