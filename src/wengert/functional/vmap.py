"""``vmap``: a function written for one example, run on a batch (``torch.func.vmap``,
``jax.vmap``).

The function runs once, on :class:`~wengert.autodiff.batching.Batched` tensors that show the
example's shape; each primitive it applies runs once on the whole batch (see
:mod:`wengert.autodiff.batching`). It composes with every other transform in both orders:
``vmap(grad(f))`` gives per-example gradients, ``jacrev(vmap(f))`` differentiates through the
batch, and vmaps nest.
"""
import contextlib
import functools

import numpy as np

from ..autodiff.batching import Batched, next_level, peel, repeat_batch, same_shapes
from ..autodiff.primitive import TENSOR
from ..autodiff.state import DETOUR, STATE, count
from ..errors import ArgumentError, DTypeError, ShapeError
from ..pytree import flatten, leaf_paths, unflatten
from ..random import replay_draws, same_draws
from ..tensor import Tensor
from .args import check_chunk_size, fname

RANDOMNESS = ("error", "different", "same")


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a batch axis of its inputs: ``vmap(f)(xs)[i] == f(xs[i])``.

    Arguments:
        in_dims: the batch axis of each positional argument: an int (every tensor leaf of
            every argument), None (not batched: passed to each example whole), or a tuple with
            one entry per argument, each an int, None or a tree matching that argument.
            Keyword arguments are never batched. At least one input must be batched, and all
            batched inputs must have the same size along their batch axis.
        out_dims: where the batch axis goes in each output (an int, or a tree matching the
            output). An output that does not depend on a batched input is broadcast.
        randomness: what random draws inside ``func`` do (dropout, ``wg.randn``):
            ``"error"`` refuses them, ``"same"`` draws once for the whole batch, and
            ``"different"`` draws for each example independently (``func`` then runs once per
            example instead of once for the batch).
        chunk_size: run the batch this many examples at a time (less memory, same result).

    ``func`` must return tensors (a tree of them). Inside it, reading a batched tensor's
    values (``.item()``, ``.numpy()``, ``if x > 0``, in-place writes, ``.backward()``) is
    refused with a GraphError; use ``wg.where`` for value-dependent choices and
    ``wengert.grad`` for gradients."""
    if randomness not in RANDOMNESS:
        raise ArgumentError(f"vmap({fname(func)}): randomness must be one of {RANDOMNESS}, "
                            f"got {randomness!r}")
    check_chunk_size(f"vmap({fname(func)})", chunk_size)

    @functools.wraps(func)
    def vmapped(*args, **kwargs):
        leaves, treedef = flatten(tuple(args))
        dims = _leaf_dims(func, in_dims, args)
        leaves, size = _batch_inputs(func, leaves, dims, treedef)
        step = chunk_size or max(size, 1)
        parts, counts = [], []
        replay = randomness == "same" and size > step  # chunks draw what the first drew
        with same_draws() if replay else contextlib.nullcontext({}) as first:
            for start in range(0, max(size, 1), step):
                replay_draws(first)
                stop = min(size, start + step)
                part = [x if d is None else _take(x, start, stop)
                        for x, d in zip(leaves, dims)]
                if randomness == "different" and size:
                    # one run per example: each output, batched or not, is that example's
                    for b in range(stop - start):
                        outs, out_def = _run(
                            func, [x if d is None else TENSOR.getitem(x, key=slice(b, b + 1))
                                   for x, d in zip(part, dims)], dims, treedef, kwargs, 1,
                            randomness)
                        parts.append(([(o if batched else repeat_batch(o, 1), True)
                                       for o, batched in outs], out_def))
                        counts.append(1)
                else:
                    parts.append(_run(func, part, dims, treedef, kwargs, stop - start,
                                      randomness))
                    counts.append(stop - start)
        joined = [_join(func, [p[0][k] for p in parts], counts)
                  for k in range(len(parts[0][0]))]
        return unflatten(parts[0][1], _place_outputs(func, joined, out_dims, parts[0][1], size))
    return vmapped


def _join(func, pieces, counts):
    """One output leaf from the runs over chunks (or examples): ``(tensor, batched)``."""
    if not any(batched for _, batched in pieces):
        return pieces[0]
    pieces = [x if batched else repeat_batch(x, n) for (x, batched), n in zip(pieces, counts)]
    same_shapes([x.shape[1:] for x in pieces], fname(func))
    return (pieces[0] if len(pieces) == 1 else TENSOR.concatenate(*pieces, axis=0)), True


def _take(x, start, stop):
    return TENSOR.getitem(x, key=slice(start, stop))


def _leaf_dims(func, in_dims, args):
    """One batch axis (or None) per leaf of ``args``, from ``in_dims``."""
    if _is_dim(in_dims):
        return [in_dims] * len(flatten(tuple(args))[0])
    if not isinstance(in_dims, (tuple, list)) or len(in_dims) != len(args):
        raise ArgumentError(
            f"vmap({fname(func)}): in_dims must be an int, None, or a tuple with one entry per "
            f"positional argument ({len(args)} given), got {in_dims!r}")
    out = []
    for i, (arg, dim) in enumerate(zip(args, in_dims)):
        out += _match(func, arg, dim, f"in_dims[{i}]")
    return out


def _is_dim(d):
    return d is None or isinstance(d, (int, np.integer)) and not isinstance(d, bool)


def _match(func, tree, dims, where):
    """``dims`` (an int/None or a tree that is a prefix of ``tree``) spread over its leaves."""
    if _is_dim(dims):
        return [dims] * len(flatten(tree)[0])
    if isinstance(dims, dict) and isinstance(tree, dict) and set(dims) == set(tree):
        return [d for k in sorted(tree) for d in _match(func, tree[k], dims[k], f"{where}[{k!r}]")]
    if (isinstance(dims, (tuple, list)) and isinstance(tree, (tuple, list))
            and len(dims) == len(tree)):
        return [d for i, (t, s) in enumerate(zip(tree, dims))
                for d in _match(func, t, s, f"{where}[{i}]")]
    raise ArgumentError(f"vmap({fname(func)}): {where} is {dims!r}, which does not match the "
                        f"structure of its argument (a {type(tree).__name__}). Hint: give an "
                        "int or None, or a tuple/dict with one entry per element")


def _batch_inputs(func, leaves, dims, treedef):
    """The leaves with each batched one a Tensor whose batch axis is first; and the size."""
    out, sizes = [], []
    for x, d, path in zip(leaves, dims, leaf_paths(treedef)):
        if d is None:
            out.append(x)
            continue
        if not isinstance(x, (Tensor, np.ndarray)):
            raise DTypeError(f"vmap({fname(func)}): in_dims gives axis {d} for argument{path}, "
                             f"of type {type(x).__name__}; only tensors can be batched. Hint: "
                             "give None for it in in_dims")
        x = x if isinstance(x, Tensor) else Tensor(x)
        if not -x.ndim <= d < x.ndim:
            raise ShapeError(f"vmap({fname(func)}): in_dims gives axis {d} for argument{path}, "
                             f"of shape {x.shape}, which has no such axis")
        d %= x.ndim
        if d:
            x = TENSOR.transpose(x, axes=(d,) + tuple(a for a in range(x.ndim) if a != d))
        out.append(x)
        sizes.append((x.shape[0], path))
    if not sizes:
        raise ArgumentError(f"vmap({fname(func)}): no input is batched (in_dims is None for "
                            "every tensor); give the batch axis of at least one tensor")
    if len({s for s, _ in sizes}) > 1:
        raise ShapeError(f"vmap({fname(func)}): the batched inputs have different sizes along "
                         f"their batch axes: " + ", ".join(f"argument{p}: {s}" for s, p in sizes)
                         + ". Hint: check in_dims")
    return out, sizes[0][0]


@contextlib.contextmanager
def _level(size, randomness):
    level = next_level()
    saved = STATE.vmap_levels
    STATE.vmap_levels = saved + ((level, size, randomness),)
    count(DETOUR, 1)
    try:
        yield level
    finally:
        STATE.vmap_levels = saved
        count(DETOUR, -1)


def _run(func, leaves, dims, treedef, kwargs, size, randomness):
    """``func`` on one batch: per output leaf ``(tensor, batched)``, where a batched output is
    physical (batch axis first) and an unbatched one as ``func`` returned it; and the
    output's structure."""
    with _level(size, randomness) as level:
        args = unflatten(treedef, [x if d is None else Batched(x, level)
                                   for x, d in zip(leaves, dims)])
        outs, out_def = flatten(func(*args, **kwargs))
        results = []
        for x, path in zip(outs, leaf_paths(out_def)):
            if not isinstance(x, Tensor):
                raise DTypeError(f"vmap({fname(func)}): the function must return tensors, but "
                                 f"output{path} is a {type(x).__name__}. Hint: wrap numbers "
                                 "with wg.tensor")
            value = peel(x, level)
            results.append((x, False) if value is None else (value, True))
    return results, out_def


def _place_outputs(func, outs, out_dims, out_def, size):
    """Each output with its batch axis at its place in ``out_dims``; an unbatched output is
    broadcast, or returned as it is where ``out_dims`` is None."""
    if _is_dim(out_dims):
        dims = [out_dims] * len(outs)
    else:
        dims = _match(func, unflatten(out_def, [x for x, _ in outs]), out_dims, "out_dims")
    placed = []
    for (x, batched), d in zip(outs, dims):
        if d is None:
            if batched:
                raise ArgumentError(
                    f"vmap({fname(func)}): out_dims is None for an output that depends on a "
                    "batched input, so it cannot be returned unbatched. Hint: give the axis "
                    "to put the batch on")
            placed.append(x)
            continue
        if not batched:
            x = repeat_batch(x, size)
        nd = x.ndim
        if not -nd <= d < nd:
            raise ShapeError(f"vmap({fname(func)}): out_dims gives axis {d} for an output of "
                             f"example shape {tuple(x.shape[1:])}, which has no such axis")
        d %= nd
        if d:
            axes = list(range(1, nd))
            axes.insert(d, 0)
            x = TENSOR.transpose(x, axes=tuple(axes))
        placed.append(x)
    return placed
