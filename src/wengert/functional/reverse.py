"""Reverse-mode transforms: ``grad``, ``value_and_grad`` (and ``grad_and_value``), ``vjp`` and
``jacrev``.

Each evaluates ``f`` once while recording, then runs reverse passes over that graph: one for a
gradient or a VJP, one per output element for a Jacobian (``m`` passes for ``m`` outputs, which
is why ``jacrev`` suits wide functions, many inputs and few outputs). ``jacrev`` runs its ``m``
passes as one pass over a batch of seeds (``vmap`` over the pullback, as torch.func does).
"""
import functools
import itertools

import numpy as np

from ..autodiff.batching import any_batched, physical_pullback
from ..autodiff.engine import BATCH_FROM
from ..autodiff.engine import grad as engine_grad
from ..autodiff.engine import run_backward
from ..autodiff.state import ANOMALY, HOOKED, STATE
from ..errors import DTypeError, ShapeError, Unbatchable
from ..ops.shape import concatenate, reshape, stack
from ..pytree import unflatten
from ..sparse import RowSparse
from ..tensor import Tensor
from .args import (check_chunk_size, fname, matching_leaves, needs_graph, normalize_argnums,
                   output_leaves, reaches_outside, released, reverse_scope, split_aux,
                   tracked_args, zeros_for_none)


def pullback(outputs, cotangents, inputs, create_graph, sealed=False):
    """``sum_k cotangent_k . d output_k / d input`` for every input, in one reverse pass; zeros
    for inputs the outputs do not reach. A None cotangent seeds a scalar output with 1. The
    graph is kept, so the same outputs can be pulled back again (``jacrev``, ``vjp_fn``).

    ``sealed``: the ``inputs`` are the transform's own leaves and every tensor that requires
    grad in the outputs' graph leads only to them (:func:`reaches_outside` said so). Then no
    rule can be pruned, so the pass skips the engine's walk for pruning and collects the
    gradients in the inputs' ``.grad``, which nothing else sees. Not once a tensor has asked
    for ``retain_grad`` or hooks: such a pass would also fill intermediates' ``.grad``.

    Inside ``vmap`` the pass runs on the batched tensors' physical tensors."""
    if STATE.vmap_levels and any_batched(itertools.chain(outputs, inputs, cotangents)):
        return physical_pullback(pullback, outputs, cotangents, inputs, create_graph, sealed)
    live = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    if not live:
        return zeros_for_none([None] * len(inputs), inputs)
    roots, seeds = [o for o, _ in live], [c for _, c in live]
    if not sealed or HOOKED[0]:
        grads = engine_grad(roots, inputs, seeds, retain_graph=True, create_graph=create_graph,
                            allow_unused=True)
        return zeros_for_none(grads, inputs)
    for x in inputs:
        x.grad = None
    run_backward(roots, seeds, True, create_graph)
    grads = [x.grad for x in inputs]
    for x in inputs:
        x.grad = None
    return zeros_for_none(grads, inputs)


def regroup(flat, treedefs, counts):
    """Split ``flat`` into one tree per argument (``counts[i]`` leaves shaped ``treedefs[i]``)."""
    it = iter(flat)
    return [unflatten(d, [next(it) for _ in range(n)]) for d, n in zip(treedefs, counts)]


def _evaluate(transform, f, args, kwargs, argnums, has_aux):
    """Record ``f`` on tracked copies of the differentiated arguments. Also decides ``create``:
    whether the reverse passes are recorded, so that the results (gradient, value, aux) stay
    differentiable: when an outer transform or the arguments ask for it (:func:`needs_graph`),
    or, with grad mode on, when ``f``'s output or aux reaches a captured tensor that requires
    grad. Otherwise the passes are plain NumPy and value and aux come back detached.
    ``sealed`` says the graph was walked and leads to the tracked inputs only (see
    :func:`pullback`)."""
    nums, single = normalize_argnums(transform, f, argnums, len(args))
    enabled = STATE.grad_enabled
    create = needs_graph(args, kwargs)
    args, leaves, treedefs = tracked_args(transform, f, args, nums)
    with reverse_scope():
        out, aux = split_aux(transform, f, f(*args, **kwargs), has_aux)
    sealed = False
    if enabled and not create:
        create = reaches_outside((out, aux), [x for group in leaves for x in group])
        sealed = not create
    if not create:
        aux = released(aux)
    return out, aux, leaves, treedefs, single, create, sealed


def value_aux_grad(transform, f, argnums, has_aux):
    """``f`` -> a function returning ``(value, aux, gradient)``, its errors naming
    ``transform``: what ``grad``, ``value_and_grad`` and ``hvp`` are built on."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        out, aux, leaves, treedefs, single, create, sealed = _evaluate(
            transform, f, args, kwargs, argnums, has_aux)
        if not isinstance(out, Tensor):
            raise DTypeError(f"{transform}({fname(f)}): f must return a scalar Tensor, got a "
                             f"{type(out).__name__}. Hint: use vjp or jacrev for several "
                             "outputs; float() and .item() cut the graph")
        if out.size != 1:
            raise ShapeError(
                f"{transform}({fname(f)}): f must return a scalar (one element), got shape "
                f"{out.shape}. Hint: reduce it (.sum(), .mean()), or use vjp/jacrev for a "
                "non-scalar output")
        output_leaves(transform, f, out)
        flat = pullback([out], [None], [x for group in leaves for x in group], create, sealed)
        trees = regroup(flat, treedefs, [len(group) for group in leaves])
        g = trees[0] if single else tuple(trees)
        return (out if create else released(out)), aux, g
    return wrapper


def value_and_grad(f, argnums=0, has_aux=False):
    """``f`` -> a function returning ``(f(*args), gradient)``, or ``((f(*args), aux), gradient)``
    with ``has_aux``. The gradient has the structure of the argument(s) in ``argnums``."""
    inner = value_aux_grad("value_and_grad", f, argnums, has_aux)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        value, aux, g = inner(*args, **kwargs)
        return ((value, aux) if has_aux else value), g
    return value_and_grad_f


def grad_and_value(func, argnums=0, has_aux=False):
    """``torch.func.grad_and_value``: :func:`value_and_grad` with the pair the other way round,
    ``(gradient, f(*args))``, or ``(gradient, (f(*args), aux))`` with ``has_aux``."""
    inner = value_aux_grad("grad_and_value", func, argnums, has_aux)

    @functools.wraps(func)
    def grad_and_value_f(*args, **kwargs):
        value, aux, g = inner(*args, **kwargs)
        return g, ((value, aux) if has_aux else value)
    return grad_and_value_f


def grad(f, argnums=0, has_aux=False):
    """``f`` -> its gradient function. ``f`` returns a scalar Tensor; the gradient with respect to
    argument ``argnums`` (an int, or a tuple for a tuple of gradients) has that argument's
    structure: a dict of parameters gives a dict of gradients. With ``has_aux`` ``f`` returns
    ``(output, aux)`` and the result is ``(gradient, aux)``. Compose freely: ``grad(grad(f))``.

    Arguments that already require grad, calls nested in another reverse transform, and ``f``
    closing over a tensor that requires grad (a gradient penalty on a model's weight) get a
    recorded backward pass so their result can be differentiated again, aux included; otherwise,
    and always under ``no_grad()``, the pass is plain NumPy (the fast way to take gradients of
    parameters in a training loop) and aux comes back detached."""
    inner = value_aux_grad("grad", f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        _, aux, g = inner(*args, **kwargs)
        return (g, aux) if has_aux else g
    return grad_f


def vjp(f, *primals, has_aux=False):
    """``(f(*primals), vjp_fn)``, or ``(out, vjp_fn, aux)`` with ``has_aux``:
    ``vjp_fn(cotangents)`` (cotangents shaped like the output) returns one tree per primal,
    ``cotangents . J``. It may be called many times; each call is one reverse pass."""
    out, aux, leaves, treedefs, _, create, sealed = _evaluate(
        "vjp", f, primals, {}, tuple(range(len(primals))), has_aux)
    outs, out_def = output_leaves("vjp", f, out)
    flat_inputs = [x for group in leaves for x in group]

    def vjp_fn(cotangents):
        cots = matching_leaves("vjp", "cotangents", outs, out_def, cotangents)
        deeper = create or needs_graph(cots)
        flat = pullback(outs, cots, flat_inputs, deeper, sealed)
        return tuple(regroup(flat, treedefs, [len(group) for group in leaves]))

    value = out if create else released(out)
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jacrev(f, argnums=0, has_aux=False, *, chunk_size=None):
    """``f`` -> its Jacobian by reverse mode: one VJP per output element. For output leaf ``o``
    and input leaf ``x`` the block has shape ``o.shape + x.shape``; the result has the output's
    structure with, at each leaf, the structure of the argument(s) in ``argnums``.

    The VJPs run as one reverse pass over a batch of one-hot seeds, ``chunk_size`` seeds at a
    time (None: as many as keep the seeds within 2**20 entries, and one pass per seed for
    fewer than 6 outputs, where that is faster; 1: one pass per seed, as torch.func's
    ``chunk_size=1``). Where a backward rule reads values, which a batch of seeds
    cannot give it (a user's unit computing in NumPy), the passes run one by one; the result
    is the same."""
    return reverse_jacobian("jacrev", f, argnums, has_aux, chunk_size)


def reverse_jacobian(transform, f, argnums, has_aux, chunk_size=None):
    """:func:`jacrev`, with errors naming ``transform`` (``hessian`` builds on it too)."""
    check_chunk_size(f"{transform}({fname(f)})", chunk_size)

    @functools.wraps(f)
    def jacrev_f(*args, **kwargs):
        out, aux, leaves, treedefs, single, create, sealed = _evaluate(
            transform, f, args, kwargs, argnums, has_aux)
        outs, out_def = output_leaves(transform, f, out)
        flat_inputs = [x for group in leaves for x in group]
        per_output = []
        for o in outs:
            rows = _vjp_rows(o, flat_inputs, create, sealed, chunk_size)
            blocks = [Tensor(np.zeros(o.shape + x.shape, dtype=x.dtype)) if r is None else
                      reshape(r, shape=o.shape + x.shape) for x, r in zip(flat_inputs, rows)]
            trees = regroup(blocks, treedefs, [len(group) for group in leaves])
            per_output.append(trees[0] if single else tuple(trees))
        jac = unflatten(out_def, per_output)
        return (jac, aux) if has_aux else jac
    return jacrev_f


SEED_ENTRIES = 2 ** 20  # a chunk of one-hot seeds (or jacfwd's directions): 8 MB in float64


def over_one_hot_seeds(fn, like, chunk_size):
    """``fn`` (a function of one seed shaped as ``like``, returning a list of tensors) run
    over every one-hot seed of ``like`` as one batched pass per chunk (``vmap``): per result,
    the seeds' values stacked along a first axis. None where one pass per seed is asked for
    or faster (fewer than :data:`~wengert.autodiff.engine.BATCH_FROM` seeds by default, or
    ``chunk_size=1``), or where the batch runs into what vmap refuses
    (:class:`~wengert.errors.Unbatchable`); the caller then runs one pass per seed."""
    n = like.size
    if chunk_size is None:
        step = max(1, SEED_ENTRIES // n) if n >= BATCH_FROM else 1
    else:
        step = chunk_size if n > 1 else 1
    if step == 1 or ANOMALY[0]:  # anomaly mode names the op whose backward failed
        return None
    from .vmap import vmap  # vmap builds on these transforms
    # randomness "same": the seeds of one product share its draws, as the passes one by one
    # do under same_draws (jacfwd's directions; a backward pass draws nothing)
    eye, run = np.eye(n, dtype=like.dtype), vmap(fn, randomness="same")
    try:
        chunks = [run(Tensor(eye[start:start + step].reshape((-1,) + like.shape)))
                  for start in range(0, n, step)]
    except Unbatchable:
        return None
    return [column[0] if len(column) == 1 else concatenate(column) for column in zip(*chunks)]


def _vjp_rows(o, inputs, create, sealed, chunk_size):
    """For each input, the VJPs of ``o``'s one-hot seeds stacked along a first axis (None
    when ``o`` is empty): one batched pass per chunk of seeds, or one pass per seed."""
    batched = over_one_hot_seeds(lambda seeds: pullback([o], [seeds], inputs, create, sealed),
                                 o, chunk_size)
    if batched is not None:
        return batched
    rows = [[] for _ in inputs]
    for k in range(o.size):
        seed = np.zeros(o.size, dtype=o.dtype)
        seed[k] = 1
        for row, g in zip(rows, pullback([o], [seed.reshape(o.shape)], inputs, create,
                                         sealed)):
            # a sparse embedding's weight gradient: its rows stack dense
            row.append(Tensor._wrap(g.to_dense()) if type(g) is RowSparse else g)
    return [stack(row) if row else None for row in rows]
