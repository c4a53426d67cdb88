"""Forward-mode transforms: ``jvp``, ``linearize`` and ``jacfwd``.

True forward mode: the inputs become dual numbers (:func:`~wengert.autograd.make_dual`) and one
evaluation of ``f`` carries their tangents through the primitives' JVP rules; there is no
backward pass. A Jacobian takes one evaluation per input element (``n`` passes for ``n``
inputs, which is why ``jacfwd`` suits tall functions, few inputs and many outputs).
"""
import functools

import numpy as np

from ..autodiff.forward import dual_level, make_dual, tangent_of
from ..errors import ArgumentError
from ..pytree import flatten, leaf_paths, unflatten
from ..tensor import Tensor
from .args import (float_tensor, fname, leaves_of, matching_leaves, normalize_argnums,
                   output_leaves, split_aux, zeros_for_none)
from .reverse import jacobian_blocks, regroup


def _push(transform, f, args, kwargs, has_aux, duals, level):
    """Evaluate ``f`` inside the open ``level`` with ``duals`` (position -> tensor)
    substituted; returns ``(output, aux, output leaves, their tangents, output treedef)``."""
    args = list(args)
    for i, tree in duals.items():
        args[i] = tree
    out, aux = split_aux(transform, f, f(*args, **kwargs), has_aux)
    outs, out_def = output_leaves(transform, f, out)
    tangents = zeros_for_none([tangent_of(o, level) for o in outs], outs)
    return out, aux, outs, tangents, out_def


def _check_unwritten(transform, f, inputs, versions, names):
    """Raise if ``f`` wrote into one of its ``inputs`` in place (its version moved past
    ``versions``): the writes reach the caller's arrays, so the next pass would differentiate
    at another point, and the Jacobian's columns would silently disagree."""
    for t, version, name in zip(inputs, versions, names):
        if t.version != version:
            raise ArgumentError(
                f"{transform}({fname(f)}): {fname(f)} modified {name} in place; {transform} "
                "evaluates it once per input element, and each evaluation must see the same "
                "input. Hint: compute out of place (y = x * 2, not x *= 2), or clone() the "
                "argument inside the function")


def _forget_level(tensors, level, aux=None):
    # A closed level's tangents are never read again; drop them so they do not stay alive.
    # Aux comes back as a plain value of this level too (as in JAX): its tangents go as well.
    for t in list(tensors) + [x for x in leaves_of(aux) if isinstance(x, Tensor)]:
        if t._tangents:
            t._tangents.pop(level, None)


def jvp(f, primals, tangents, has_aux=False):
    """``(f(*primals), J_f(primals) . tangents)`` in one forward pass, or with ``has_aux``
    ``(out, tangent_out, aux)``. ``primals`` is a tuple of arguments (each a tensor, an array or
    a tree of them); ``tangents`` has the same structure and shapes."""
    return named_jvp("jvp", f, primals, tangents, has_aux)


def named_jvp(transform, f, primals, tangents, has_aux=False):
    """:func:`jvp`, with errors naming ``transform`` (``hvp`` calls it too)."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise ArgumentError(
            f"{transform}({fname(f)}): primals and tangents must be tuples of arguments, got "
            f"{type(primals).__name__} and {type(tangents).__name__}. Hint: "
            f"{transform}(f, (x,), (v,)) for a function of one argument")
    p_leaves, p_def = flatten(tuple(primals))
    p_leaves = [float_tensor(transform, x, f"primals{p}", chosen=False)
                for x, p in zip(p_leaves, leaf_paths(p_def))]
    t_leaves = matching_leaves(transform, "tangents", p_leaves, p_def, tuple(tangents))
    with dual_level() as level:
        duals = unflatten(p_def, [make_dual(p, t) for p, t in zip(p_leaves, t_leaves)])
        out, aux, outs, tangents_out, out_def = _push(transform, f, duals, {}, has_aux,
                                                      dict(enumerate(duals)), level)
    _forget_level(outs, level, aux)
    result = (out, unflatten(out_def, tangents_out))
    return result + (aux,) if has_aux else result


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``, as ``torch.func.linearize``: ``jvp_fn(*tangents)`` (one
    tangent per primal, same structure and shapes) returns ``J_func(primals) . tangents``.
    The primals' values are copied now, so later writes into them do not move the point.
    Unlike torch, which replays a traced graph, each ``jvp_fn`` call is one forward-mode pass
    of ``func`` (what :func:`jvp` costs); the values are the same."""
    leaves, treedef = flatten(tuple(primals))
    leaves = [Tensor(float_tensor("linearize", x, f"primals{p}", chosen=False).data.copy())
              for x, p in zip(leaves, leaf_paths(treedef))]
    point = unflatten(treedef, leaves)
    out = func(*point)

    def jvp_fn(*tangents):
        return named_jvp("linearize", func, point, tangents)[1]
    return out, jvp_fn


def jacfwd(f, argnums=0, has_aux=False):
    """``f`` -> its Jacobian by forward mode: one JVP per element of the inputs in ``argnums``.
    Blocks and structure are those of :func:`jacrev`, so the two agree entry for entry."""
    return forward_jacobian("jacfwd", f, argnums, has_aux)


def forward_jacobian(transform, f, argnums, has_aux):
    """:func:`jacfwd`, with errors naming ``transform`` (``hessian`` builds on it too)."""
    @functools.wraps(f)
    def jacfwd_f(*args, **kwargs):
        nums, single = normalize_argnums(transform, f, argnums, len(args))
        leaves, treedefs, names = [], [], []
        for i in nums:
            flat, treedef = flatten(args[i])
            paths = leaf_paths(treedef)
            leaves.append([float_tensor(transform, x, f"argument {i}{p} of {fname(f)}")
                           for x, p in zip(flat, paths)])
            treedefs.append(treedef)
            names += [f"argument {i}{p}" for p in paths]
        flat_inputs = [x for group in leaves for x in group]
        columns, first = [[] for _ in flat_inputs], None
        for j, x in enumerate(flat_inputs):
            for k in range(x.size):
                direction = np.zeros(x.size, dtype=x.dtype)
                direction[k] = 1
                with dual_level() as level:
                    seeded = list(flat_inputs)
                    seeded[j] = make_dual(x, direction.reshape(x.shape))
                    versions = [t.version for t in seeded]
                    trees = regroup(seeded, treedefs, [len(group) for group in leaves])
                    result = _push(transform, f, args, kwargs, has_aux,
                                   dict(zip(nums, trees)), level)
                _forget_level(result[2], level, result[1])
                _check_unwritten(transform, f, seeded, versions, names)
                first = first or result
                columns[j].append(result[3])
        if first is None:  # no input elements: evaluate once for the output's structure
            trees = regroup(flat_inputs, treedefs, [len(group) for group in leaves])
            with dual_level() as level:
                first = _push(transform, f, args, kwargs, has_aux, dict(zip(nums, trees)),
                              level)
        _, aux, outs, _, out_def = first
        per_output = []
        for m, o in enumerate(outs):
            blocks = [jacobian_blocks(o, x, True, [col[m] for col in cols])
                      for x, cols in zip(flat_inputs, columns)]
            trees = regroup(blocks, treedefs, [len(group) for group in leaves])
            per_output.append(trees[0] if single else tuple(trees))
        jac = unflatten(out_def, per_output)
        return (jac, aux) if has_aux else jac
    return jacfwd_f
