"""Forward-mode transforms: ``jvp``, ``linearize`` and ``jacfwd``.

True forward mode: the inputs become dual numbers (:func:`~wengert.autograd.make_dual`) and one
evaluation of ``f`` carries their tangents through the primitives' JVP rules; there is no
backward pass. A Jacobian takes one JVP per input element (``n`` of them for ``n`` inputs,
which is why ``jacfwd`` suits tall functions, few inputs and many outputs); ``jacfwd`` runs
them as one evaluation over a batch of directions (``vmap``, as torch.func does).
"""
import functools

import numpy as np

from ..autodiff.forward import dual_level, make_dual, tangent_of
from ..errors import ArgumentError
from ..ops.shape import reshape, stack, transpose
from ..pytree import flatten, leaf_paths, unflatten
from ..random import replay_draws, same_draws
from ..tensor import Tensor
from .args import (check_chunk_size, float_tensor, fname, leaves_of, matching_leaves,
                   normalize_argnums, output_leaves, split_aux, zeros_for_none)
from .reverse import over_one_hot_seeds, regroup


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


def jacfwd(f, argnums=0, has_aux=False, *, chunk_size=None):
    """``f`` -> its Jacobian by forward mode: one JVP per element of the inputs in ``argnums``.
    Blocks and structure are those of :func:`jacrev`, so the two agree entry for entry.

    The JVPs of an input run as one evaluation of ``f`` over a batch of one-hot directions
    (``vmap``), ``chunk_size`` directions at a time (None: as many as keep them within 2**20
    entries, and one evaluation per direction for inputs of fewer than 6 elements, where
    that is faster; 1: always one per direction), plus one plain evaluation for the output
    and ``aux``. Where ``f`` reads values, which a batch of directions cannot give it (an
    ``if`` on a tensor, ``.item()``), or writes into a shared tensor, ``f`` runs once per
    direction; the result is the same. Random draws in ``f`` (dropout) are the same for
    every direction, as ``jacrev``'s one evaluation has one draw: the Jacobian at that draw."""
    return forward_jacobian("jacfwd", f, argnums, has_aux, chunk_size)


def forward_jacobian(transform, f, argnums, has_aux, chunk_size=None):
    """:func:`jacfwd`, with errors naming ``transform`` (``hessian`` builds on it too)."""
    check_chunk_size(f"{transform}({fname(f)})", chunk_size)

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
        counts = [len(group) for group in leaves]

        def push(j, direction):
            """``f``'s output leaves' tangents for ``direction`` on input ``j`` (None: no
            tangent), and the pass's result (see :func:`_push`)."""
            replay_draws(draws)  # every direction sees the first one's random draws
            with dual_level() as level:
                seeded = list(flat_inputs)
                if direction is not None:
                    seeded[j] = make_dual(flat_inputs[j], direction)
                versions = [t.version for t in seeded]
                result = _push(transform, f, args, kwargs, has_aux,
                               dict(zip(nums, regroup(seeded, treedefs, counts))), level)
            _forget_level(result[2], level, result[1])
            _check_unwritten(transform, f, seeded, versions, names)
            return result

        first = None
        columns = []  # per input: each output leaf's tangents stacked by direction, or None
        with same_draws() as draws:
            for j, x in enumerate(flat_inputs):
                stacked = over_one_hot_seeds(lambda directions: push(j, directions)[3], x,
                                             chunk_size)
                if stacked is None:
                    results = []
                    for k in range(x.size):
                        direction = np.zeros(x.size, dtype=x.dtype)
                        direction[k] = 1
                        results.append(push(j, direction.reshape(x.shape)))
                    first = first or (results[0] if results else None)
                    stacked = [stack([r[3][m] for r in results]) for m in
                               range(len(results[0][3]))] if results else None
                columns.append(stacked)
            if first is None:  # every input batched or empty: evaluate once for the output
                first = push(None, None)
        _, aux, outs, _, out_def = first
        per_output = []
        for m, o in enumerate(outs):
            blocks = [Tensor(np.zeros(o.shape + x.shape, dtype=o.dtype)) if col is None else
                      reshape(transpose(col[m], axes=(*range(1, col[m].ndim), 0)),
                              shape=o.shape + x.shape)
                      for x, col in zip(flat_inputs, columns)]
            trees = regroup(blocks, treedefs, counts)
            per_output.append(trees[0] if single else tuple(trees))
        jac = unflatten(out_def, per_output)
        return (jac, aux) if has_aux else jac
    return jacfwd_f
