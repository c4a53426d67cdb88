"""The reverse-mode engine: walk the recorded nodes backwards and apply VJP rules.

* Order: a heap of the tensors that have received a gradient, the most recently created
  node first (creation order is a topological order), leaves last. Nothing is walked ahead
  of time and nothing recurses, so a 1,000,000-op chain works.
* Gradients of intermediates live in a dict during the pass, keyed by tensor; only leaves
  that require grad (and tensors that called ``retain_grad``) receive ``.grad``.
* A value used several times gets the sum of its gradients (the splitter rule).
* A rule that returns None sends no gradient along that edge (an autograd.Function's None).
* A RowSparse gradient reaches a leaf's ``.grad`` (and ``retain_grad``, ``autograd.grad``)
  as it is; a rule only ever takes it dense.
* Unbroadcasting a rule's result to its input's shape happens here and nowhere else.
* Without ``retain_graph`` each node is freed as soon as its rules ran.
"""
from bisect import bisect_right
from heapq import heappop, heappush, heappushpop
from operator import attrgetter, itemgetter

import numpy as np

from ..errors import AnomalyError, DTypeError, GraphError, ShapeError, Unbatchable
from ..sparse import RowSparse, SlicedGrad
from ..tensor import Tensor
from .anomaly import recorded_at
from .grad_mode import set_grad_enabled
from .primitive import ARRAY, TENSOR, raise_freed
from .state import ANOMALY, HOOKED, LAST_WRITE, REBASED, STATE, mark_modified


_by_seq = attrgetter("_node.seq")
_ndarray = np.ndarray
_add_reduce = np.add.reduce
_new = object.__new__


def _recorded(roots):
    """Tensors with a node reachable from ``roots`` through inputs that require grad, inputs
    before their consumers (ascending creation order). Iterative, so a 1,000,000-op chain is
    fine. Only ``autograd.grad`` walks the graph ahead of the pass, to prune the rules that
    cannot reach its inputs."""
    seen = set(roots)
    stack = list(roots)
    found = []
    while stack:
        t = stack.pop()
        node = t._node
        if node is None:
            continue
        if node.inputs is None:
            raise_freed(node)
        found.append(t)
        for a in _inputs_as_recorded(node):
            if isinstance(a, Tensor) and a.requires_grad and a not in seen:
                seen.add(a)
                stack.append(a)
    found.sort(key=_by_seq)
    return found


def _inputs_as_recorded(node):
    """``node``'s inputs as the pass sees them: a tensor rebased by an in-place write since
    is the stand-in for the value the node took (see :func:`_as_recorded`)."""
    if not REBASED[0]:
        return node.inputs
    return [_as_recorded(a, node) if isinstance(a, Tensor) and a._rebases else a
            for a in node.inputs]


def _heap_entry(t):
    """Heap order: the latest node first, leaves (no node) after every node. Node numbers are
    unique, so ties (between leaves only) fall to id() and tensors are never compared."""
    node = t._node
    return (-node.seq, 0, t) if node is not None else (1, id(t), t)


def _as_recorded(a, node):
    """The tensor that ``node`` took as input when it recorded ``a``: ``a`` itself, or, if an
    in-place op rebased ``a`` after the node was recorded, the stand-in for ``a``'s value
    before the first such write (see ``_rebase`` in :mod:`wengert.ops.methods`). The rebases
    are in tick order: a bisection, since a loop writing rows keeps thousands."""
    rebases = a._rebases
    i = bisect_right(rebases, node.seq, key=_TICK)
    return rebases[i][1] if i < len(rebases) else a


_TICK = itemgetter(0)  # a rebase's tick


def _version_error(node):
    """The error for a node whose saved values were modified in place since it was
    recorded, or None."""
    prim = node.prim
    if prim.saves_inputs:
        inputs = node.inputs
        read = range(len(inputs)) if prim.reads is None else _read_inputs(prim.reads, inputs)
        later = {id(a): a for j, a in enumerate(inputs)
                 if j in read and isinstance(a, Tensor) and a._version[1] > node.seq}
        if later:
            changed = ", ".join(f"shape {a.shape} {a.dtype} (version {a._version[0]})"
                                for a in later.values())
            return GraphError(
                f"'{prim.name}' saved its inputs for backward, and one was modified in place "
                f"since: {changed}. Hint: use an out-of-place op (x = x + y instead of "
                "x += y) or .clone() the tensor before modifying it")
    if prim.saves_output and node.out_cell[1] > node.seq:
        return GraphError(
            f"the output of '{prim.name}' (shape {node.out.shape}) was modified in place, but "
            f"'{prim.name}' needs it for backward. Hint: use an out-of-place op or .clone() it")
    return None


def _read_inputs(reads, inputs):
    """The positions of the inputs that the rules of inputs needing a gradient read."""
    return {j for i, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad
            for j in reads[i]}


def _conform(gi, data, ns, differentiable):
    """A rule's result as the gradient of an input whose data is ``data``: summed down to its
    shape (the one place that unbroadcasts) and cast to its dtype. Sparse rows pass through
    untouched; NumPy returns scalars for 0-d results, made arrays again here."""
    kind = type(gi)
    if kind is RowSparse:
        return gi
    if kind is SlicedGrad:
        return gi if gi.dtype == data.dtype else gi.astype(data.dtype)
    if kind is not _ndarray and not differentiable:
        gi = np.asarray(gi)
    if gi.shape != data.shape:
        if not differentiable and gi.ndim > 1 and gi.shape[1:] == data.shape:
            gi = _add_reduce(gi, axis=0)  # one leading axis, as a bias's: sum_to in one call
        else:
            gi = ns.sum_to(gi, shape=data.shape)
    if gi.dtype != data.dtype:
        gi = gi.astype(data.dtype)
    return gi


def _seed(root, gradient, differentiable):
    if gradient is None:
        if root.data.size != 1:
            raise GraphError(
                f"backward() on a tensor of shape {root.shape} needs a gradient argument of "
                "that shape; grad can be implicitly created only for scalar outputs. Hint: "
                "call loss.sum().backward() or pass gradient=ones_like(output)")
        g = np.empty_like(root.data)
        g.fill(1)  # C calls only: np.ones_like is Python code, cold at the start of backward
        return Tensor._wrap(g) if differentiable else g
    if isinstance(gradient, Tensor):
        # cast to the root's dtype, as PyTorch's: a leaf root takes g as its .grad, and
        # hooks and retain_grad see it
        if differentiable:
            g = gradient if gradient.dtype == root.dtype else gradient.astype(root.dtype)
        else:
            g = gradient.data.astype(root.dtype)  # a copy: the engine adds into it
    else:
        g = np.array(gradient, dtype=root.dtype)
        g = Tensor._wrap(g) if differentiable else g
    if g.shape != root.shape:
        raise ShapeError(f"backward(): gradient shape {tuple(g.shape)} does not match the "
                         f"output shape {root.shape}")
    return g


def run_backward(roots, seeds, retain_graph, create_graph, inputs=None, allow_unused=False,
                 accumulate=True):
    """Backpropagate ``seeds`` from ``roots``.

    With ``inputs=None`` and ``accumulate=True`` (``Tensor.backward``) gradients go into the
    ``.grad`` of leaves. With ``inputs`` (``autograd.grad``) the gradients for those tensors
    are returned as a list and no ``.grad`` is touched."""
    for r in roots:
        if not r.requires_grad:
            raise GraphError(
                f"element of shape {r.shape} does not require grad and has no grad_fn. Hint: "
                "create the inputs with requires_grad=True, and do not call backward inside "
                "no_grad()")
    # Under create_graph (or inside forward mode) the rules run on tensors and record;
    # otherwise on plain arrays at NumPy speed.
    differentiable = create_graph or bool(STATE.fw_levels)
    ns = TENSOR if differentiable else ARRAY
    anomaly = ANOMALY[0]
    hooked = HOOKED[0]
    rebased = REBASED[0]
    last_write = LAST_WRITE[0]
    grads = {}       # tensor -> its gradient so far (array, or Tensor when differentiable)
    borrowed = set()  # tensors whose gradient array may be shared with another's
    heap = []        # tensors holding a gradient not yet passed on (see _heap_entry)
    for r, s in zip(roots, seeds):
        g = _seed(r, s, differentiable)
        if r in grads:
            grads[r] = grads[r] + g
        else:
            grads[r] = g
            heappush(heap, _heap_entry(r))

    wanted = None
    if inputs is not None:
        wanted = {t: k for k, t in enumerate(inputs)}
        # useful: tensors with a path down to a wanted input; only their rules need to run.
        useful = set()
        for t in _recorded(roots):  # inputs before consumers
            if any(a in useful or a in wanted
                   for a in _inputs_as_recorded(t._node) if isinstance(a, Tensor)):
                useful.add(t)
        results = [None] * len(inputs)

    # The entry pushed last waits outside the heap: heappushpop then hands it straight back
    # when it comes first, which in a chain is every time, so a chain never sifts the heap.
    pending = None
    sliced = False  # whether a SlicedGrad was stored: only then can one be popped
    rows = False    # likewise for a RowSparse
    with set_grad_enabled(create_graph):
        while True:
            if pending is not None:
                t = heappushpop(heap, pending)[2]
                pending = None
            elif heap:
                t = heappop(heap)[2]
            else:
                break
            g = grads.pop(t)
            if sliced and type(g) is SlicedGrad:
                g = g.to_dense()
            if hooked and t._hooks:
                g = _run_hooks(t, g, differentiable, borrowed)
            node = t._node
            if wanted is not None:
                if t in wanted:
                    results[wanted[t]] = _result(g, t in borrowed, differentiable)
                if node is None or t not in useful:
                    continue
            elif node is None:
                if not accumulate:
                    continue
                if t.grad is None and type(g) is _ndarray and t not in borrowed:
                    # the common case, _accumulate_leaf's first, inlined: the leaf takes g
                    grad = _new(Tensor)
                    grad.data = g
                    grad.requires_grad = False
                    t.grad = grad
                else:
                    _accumulate_leaf(t, g, differentiable, t in borrowed)
                continue
            elif hooked and t._retains_grad:
                _accumulate_leaf(t, g, differentiable, True)
            if rows and type(g) is RowSparse:
                g = g.to_dense()  # a non-leaf's: the rules take arrays
            inputs_ = node.inputs
            if inputs_ is None:
                raise_freed(node)
            prim = node.prim
            if node.seq < last_write:
                error = _version_error(node)
                if error is not None:
                    raise error
            if differentiable:
                args = inputs_
                # The output tensor itself where it still holds node.out, so a rule reading
                # `ans` sees its forward-mode tangents too (forward-over-reverse).
                ans = t if t.data is node.out else Tensor._wrap(node.out, node, True,
                                                                 node.out_cell)
            else:
                args = node.arrays
                ans = node.out
            params = node.params
            if prim.residuals and not differentiable:
                params = {**params, "residuals": node.residuals}
            nargs = len(args)
            vjps = prim.vjps
            # Last input first: the first is usually the activation the next rule consumes
            # (matmul's a, linear's x), and computing its gradient last keeps it in cache
            # instead of behind the weight's gradient (a GEMM that streams megabytes).
            i = nargs
            while i:  # cheaper than iterating a reversed range
                i -= 1
                a = inputs_[i]
                if rebased and isinstance(a, Tensor) and a._rebases:
                    a = _as_recorded(a, node)
                if not isinstance(a, Tensor) or not a.requires_grad:
                    continue
                if wanted is not None and a not in useful and a not in wanted:
                    continue
                rule = vjps[i]
                if rule is None:
                    continue
                # spelled out for one and two inputs: a call with *args costs more than the
                # rule of a small op
                if params or nargs > 2:
                    gi = rule(ns, g, ans, *args, **params)
                elif nargs == 2:
                    gi = rule(ns, g, ans, args[0], args[1])
                else:
                    gi = rule(ns, g, ans, args[0])
                data = a.data
                if type(gi) is not _ndarray or gi.shape != data.shape or gi.dtype is not data.dtype:
                    if gi is None:
                        continue  # no gradient along this edge
                    gi = _conform(gi, data, ns, differentiable)
                    if type(gi) is SlicedGrad:
                        sliced = True
                    elif type(gi) is RowSparse:
                        rows = True
                if anomaly and type(gi) is not RowSparse:
                    # a SlicedGrad is checked through its values
                    _check_grad_anomaly(node, gi.data if differentiable
                                        else getattr(gi, "values", gi), i)
                prev = grads.get(a)
                if prev is None:
                    grads[a] = gi
                    # heap order (see _heap_entry, inlined: this runs once per edge)
                    na = a._node
                    entry = (-na.seq, 0, a) if na is not None else (1, id(a), a)
                    if pending is None:
                        pending = entry
                    else:
                        heappush(heap, entry)
                    # A rule may pass g through (add) or return a view of it (reshape): that
                    # array is shared, unless g was t's alone (not borrowed, not handed out
                    # as a result), this is its only input (a transpose's, an alias's) and
                    # the view can be written (sum's broadcast view cannot).
                    if (gi is g or (type(gi) is _ndarray and gi.base is not None
                                    and np.may_share_memory(gi, g))) and (
                            len(inputs_) > 1 or t in borrowed
                            or wanted is not None and t in wanted
                            or type(gi) is not _ndarray or not gi.flags.writeable):
                        borrowed.add(a)
                elif differentiable or type(gi) is not _ndarray or type(prev) is not _ndarray:
                    if sliced and (type(gi) is SlicedGrad or type(prev) is SlicedGrad):
                        grads[a] = _add_sliced(prev, gi, a in borrowed)
                        borrowed.discard(a)
                    else:
                        grads[a] = prev + gi  # tensors record the sum; sparse + dense is dense
                elif a in borrowed:
                    grads[a] = np.add(prev, gi, out=np.empty_like(prev))  # an array, also 0-d
                    borrowed.discard(a)
                else:
                    np.add(prev, gi, out=prev)  # prev is ours alone: accumulate in place
            if not retain_graph:
                node.inputs = node.arrays = node.out = node.residuals = None

    if wanted is not None:
        for k, (t, r) in enumerate(zip(inputs, results)):
            if r is None and not allow_unused:
                raise GraphError(
                    f"input {k} (shape {t.shape}) was not used to compute the outputs, or "
                    "does not require grad. Hint: pass allow_unused=True to get None for it")
        return results
    return None


def _add_sliced(prev, gi, prev_shared):
    """``prev + gi`` where one or both are SlicedGrads, as an array of the engine's own: a
    slice is added in place where it lies (the gradient of x[0], x[1], ... is one array)."""
    if type(gi) is SlicedGrad:
        if type(prev) is SlicedGrad:
            prev = prev.to_dense()
        elif type(prev) is not _ndarray:  # RowSparse: sparse + dense is dense
            return prev + gi.to_dense()
        elif prev_shared:
            prev = prev.copy()
        prev[gi.key] += gi.values
        return prev
    if type(gi) is not _ndarray:
        return prev.to_dense() + gi
    out = gi.copy()  # gi may be a rule's pass-through of its own gradient
    out[prev.key] += prev.values
    return out


def _result(g, borrowed, differentiable):
    """A gradient handed to the caller of autograd.grad: a tensor that owns its data."""
    if differentiable or type(g) is RowSparse:
        return g
    return Tensor._wrap(g.copy(order="K") if borrowed else g)


def _run_hooks(t, g, differentiable, borrowed):
    """``t``'s hooks in order, each given the gradient the previous one returned. A hook may
    keep the gradient it was given, and a returned one belongs to the hook's caller, so ``t``
    is marked borrowed: its gradient is copied before anything accumulates into it."""
    borrowed.add(t)
    for hook in list(t._hooks):
        # a hook takes a tensor, so a RowSparse is shown dense; it stays sparse unless replaced
        gt = g if differentiable else Tensor._wrap(g.to_dense() if type(g) is RowSparse else g)
        r = hook(gt)
        if r is not None:
            r = r if isinstance(r, Tensor) else Tensor(r, dtype=t.dtype)
            if r.shape != t.shape:
                raise ShapeError(f"hook returned a gradient of shape {r.shape} for a tensor "
                                 f"of shape {t.shape}")
            if r.dtype != t.dtype:
                raise DTypeError(f"hook returned a {r.dtype} gradient for a {t.dtype} tensor; "
                                 "a gradient has its tensor's dtype. Hint: return "
                                 f"g.astype('{t.dtype}')")
            g = r if differentiable else r.data
    return g


def _accumulate_leaf(t, g, differentiable, borrowed):
    if type(g) is RowSparse or type(t.grad) is RowSparse:
        # A sparse gradient is kept as is (PyTorch's sparse .grad); adding it to a dense one
        # gives a dense array.
        prev = t.grad
        if prev is None:
            total = g
        elif type(prev) is RowSparse:
            total = prev + (g.data if isinstance(g, Tensor) else g)
        else:
            total = g + prev.data
        t.grad = total if type(total) is RowSparse else Tensor._wrap(total)
        return
    if differentiable:
        t.grad = g if t.grad is None else t.grad + g
        return
    if t.grad is None:
        t.grad = Tensor._wrap(g.copy(order="K") if borrowed else g)
    elif t.grad.requires_grad:
        t.grad = Tensor._wrap(t.grad.data + g)
    else:
        t.grad.data += g
        mark_modified(t.grad)


def _check_grad_anomaly(node, g, i):
    if g.dtype.kind == "f" and not np.isfinite(g).all():
        site = recorded_at(node)
        where = f"\nThe forward op was recorded at:\n{site}" if site else ""
        raise AnomalyError(
            f"the backward of '{node.prim.name}' produced a non-finite gradient for input {i} "
            f"(shape {g.shape}); input shapes "
            f"{[getattr(a, 'shape', ()) for a in node.arrays]}{where}")


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``tensor.backward()``: accumulate d tensor / d leaf into every leaf's ``.grad``."""
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = run_backward([tensor], [gradient], retain_graph, create_graph, inputs,
                             allow_unused=True)
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate_leaf(t, g if create_graph else g.data, create_graph, True)
        return
    run_backward([tensor], [gradient], retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple (a dict with
    the same keys when ``inputs`` is a dict); ``.grad`` is left alone. Semantics as
    ``torch.autograd.grad``: ``materialize_grads=True`` gives unused inputs zeros instead of
    None (``allow_unused`` defaults to it), and ``is_grads_batched=True`` reads the first axis
    of every ``grad_outputs`` entry as a batch of seeds and returns, per input, their
    vector-Jacobian products stacked along a first axis (one batched backward, or one per
    seed: see :func:`_batched_grads`; materialized zeros then have that axis too)."""
    if materialize_grads and allow_unused is False:
        raise ValueError("autograd.grad: materialize_grads=True gives unused inputs zeros, "
                         "which allow_unused=False forbids. Hint: leave allow_unused unset")
    if allow_unused is None:
        allow_unused = materialize_grads
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    keys = None
    if type(inputs) is dict:
        keys, inputs = list(inputs), list(inputs.values())
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for k, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd.grad: input {k} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise GraphError(f"autograd.grad: input {k} (shape {t.shape}) does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: {len(outputs)} outputs but {len(grad_outputs)} "
                         "grad_outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        results = _batched_grads(outputs, grad_outputs, retain_graph, create_graph, inputs,
                                 allow_unused)
    else:
        results = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs,
                               allow_unused, accumulate=False)
    if materialize_grads:
        batch = np.shape(grad_outputs[0])[:1] if is_grads_batched else ()
        results = [Tensor._wrap(np.zeros(batch + t.shape, t.dtype), requires_grad=create_graph)
                   if r is None else r for t, r in zip(inputs, results)]
    return tuple(results) if keys is None else dict(zip(keys, results))


# From this many seeds on, one batched pass (is_grads_batched here, jacrev's seeds and
# jacfwd's directions) beats one pass per seed: its vmap costs about seven plain passes
# (jacrev of f(x) = tanh(W x): 4 seeds 113 us against 145, 8 seeds 190 against 150).
BATCH_FROM = 6


def _batched_grads(outputs, grad_outputs, retain_graph, create_graph, inputs, allow_unused):
    """:func:`grad` with ``is_grads_batched``: one backward over the batch of seeds (``vmap``,
    as PyTorch), or, for a few seeds, where a rule cannot run on a batch, where hooks are
    registered (they would see batched gradients) and in anomaly mode (whose report names
    the op whose backward failed, not an op inside its batched rule), a backward per seed
    (the graph kept until the last); each input's results stacked along a new first axis
    (None stays None: whether an input is used does not depend on the seed)."""
    from ..ops.shape import stack  # the ops build on the engine
    sizes = set()
    for k, (out, seeds) in enumerate(zip(outputs, grad_outputs)):
        shape = None if seeds is None else np.shape(seeds)
        if shape is None or shape[1:] != out.shape or not shape:
            raise ShapeError(
                f"autograd.grad(is_grads_batched=True): grad_outputs[{k}] is "
                f"{'None' if shape is None else f'of shape {shape}'}, "
                f"but output {k} has shape {out.shape}, so a batch of B seeds for it has shape "
                f"(B, {', '.join(map(str, out.shape))}). Hint: stack the seeds along a new "
                "first axis")
        sizes.add(shape[0])
    if len(sizes) != 1 or 0 in sizes:
        raise ShapeError(f"autograd.grad(is_grads_batched=True): the grad_outputs need one "
                         f"batch size of at least 1 on their first axis, got {sorted(sizes)}")
    (count,) = sizes
    if count >= BATCH_FROM and not (HOOKED[0] or ANOMALY[0] or STATE.vmap_levels):
        try:
            return _one_batched_pass(outputs, grad_outputs, retain_graph, create_graph,
                                     inputs, allow_unused)
        except Unbatchable:
            pass  # a rule that reads values (a unit's NumPy backward): one pass per seed
    per_seed = [run_backward(outputs, [seeds[b] for seeds in grad_outputs],
                             retain_graph or b < count - 1, create_graph, inputs,
                             allow_unused, accumulate=False)
                for b in range(count)]
    # a RowSparse (a sparse embedding's weight) is stacked dense: a stack is one array
    return [None if column[0] is None else
            stack([Tensor._wrap(g.to_dense()) if type(g) is RowSparse else g for g in column])
            for column in zip(*per_seed)]


def _one_batched_pass(outputs, grad_outputs, retain_graph, create_graph, inputs, allow_unused):
    """The backward of every seed at once: the seeds batched by ``vmap``, every rule batched
    as any op is (so the pass records, as ``create_graph`` does; the results are detached
    unless it was asked for). The graph is kept through it, so that a rule refusing the batch
    halfway leaves it whole for the passes per seed; without ``retain_graph`` one plain pass
    then frees what a last pass per seed would have."""
    from ..functional.vmap import vmap  # vmap builds on the engine
    unused = []

    def one(*seeds):
        grads = run_backward(outputs, list(seeds), True, True, inputs, allow_unused,
                             accumulate=False)
        unused[:] = [g is None for g in grads]
        return [Tensor._wrap(np.zeros(t.shape, t.dtype)) if g is None else g
                for t, g in zip(inputs, grads)]

    seeds = [s if isinstance(s, Tensor) else Tensor(np.asarray(s)) for s in grad_outputs]
    grads = vmap(one)(*seeds)
    if not retain_graph:
        run_backward(outputs, [s[0] for s in seeds], False, False, inputs, True,
                     accumulate=False)
    return [None if skip else g if create_graph else g.detach()
            for g, skip in zip(grads, unused)]
