"""The reverse-mode engine: order, accumulation, freeing, grad modes, in-place checks,
higher order, hooks, autograd.grad semantics (PyTorch's)."""
import gc
import weakref

import numpy as np
import pytest

import wengert as wg
from wengert.check import gradcheck


def test_long_chain_backprops_without_recursion():
    x = wg.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_intermediates_are_freed_after_backward():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    h = wg.exp(x)
    ref = weakref.ref(h)
    loss = (h * 2).sum()
    del h
    assert ref() is not None  # kept alive by the graph
    loss.backward()
    gc.disable()
    try:
        del loss
        assert ref() is None  # no cycle keeps it: freed by reference counting alone
    finally:
        gc.enable()


def test_graph_is_released_when_output_dropped():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    y = wg.tanh(x)
    node = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert node() is None
    finally:
        gc.enable()


def test_repeated_backward_accumulates_like_pytorch(torch_mod):
    torch = torch_mod
    x0 = np.array([0.5, -1.0, 2.0])
    x = wg.tensor(x0, requires_grad=True)
    tx = torch.tensor(x0, requires_grad=True)
    for k in range(3):
        (wg.sin(x) * x).sum().backward()
        (torch.sin(tx) * tx).sum().backward()
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2, 2, 2])


def test_second_backward_through_freed_graph_raises():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    y = (wg.exp(x) * x).sum()
    y.backward()
    with pytest.raises(wg.GraphError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = wg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = (wg.exp(x) * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (np.exp([1, 2]) * (1 + np.array([1, 2]))))


def test_nonscalar_backward_needs_gradient():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(wg.GraphError, match=r"shape \(2,\).*gradient"):
        (x * 2).backward()
    (x * 2).backward(wg.tensor([1.0, 3.0]))
    np.testing.assert_array_equal(x.grad.data, [2, 6])


def test_backward_gradient_shape_checked():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(wg.ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(wg.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(wg.GraphError, match="does not require grad"):
        wg.tensor(1.0).backward()


def test_no_grad_records_nothing_and_costs_no_node():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    with wg.no_grad():
        y = x * 2
    assert y.grad_fn is None and not y.requires_grad
    z = wg.tensor([1.0]) * 3  # no input requires grad
    assert z.grad_fn is None and not z.requires_grad

    @wg.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    with wg.no_grad():
        assert not wg.is_grad_enabled()
        with wg.enable_grad():
            assert wg.is_grad_enabled()
            assert (x * 2).requires_grad
    with wg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert wg.is_grad_enabled()


def test_set_grad_enabled_as_statement_and_decorator():
    prev = wg.set_grad_enabled(False)
    try:
        assert not wg.is_grad_enabled()
    finally:
        wg.set_grad_enabled(True)

    @wg.set_grad_enabled(False)
    def f():
        return wg.is_grad_enabled()
    assert wg.is_grad_enabled()
    assert f() is False and wg.is_grad_enabled()
    del prev


def test_higher_order_derivatives():
    x = wg.tensor(1.5, dtype="float64", requires_grad=True)
    y = x ** 4
    (d1,) = wg.autograd.grad(y, x, create_graph=True)
    (d2,) = wg.autograd.grad(d1, x, create_graph=True)
    (d3,) = wg.autograd.grad(d2, x, create_graph=True)
    (d4,) = wg.autograd.grad(d3, x)
    assert (d1.item(), d2.item(), d3.item(), d4.item()) == pytest.approx(
        (4 * 1.5 ** 3, 12 * 1.5 ** 2, 24 * 1.5, 24))


def test_create_graph_backward_sets_differentiable_grad():
    x = wg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 12.0])


def test_autograd_grad_semantics():
    x = wg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    u = wg.tensor([3.0], dtype="float64", requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gx, gh = wg.autograd.grad(y, [x, h], retain_graph=True)
    np.testing.assert_allclose(gh.data, 2 * h.data)       # a non-leaf input
    np.testing.assert_allclose(gx.data, 18 * x.data)      # the path through h counts
    assert x.grad is None                                 # .grad untouched
    with pytest.raises(wg.GraphError, match="allow_unused"):
        wg.autograd.grad(y, [x, u], retain_graph=True)
    gx2, gu = wg.autograd.grad(y, [x, u], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx2.data, gx.data)


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = wg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    a, b = x * 2, x ** 2
    (g,) = wg.autograd.grad([a, b], x, grad_outputs=[wg.tensor([1.0, 1.0]), wg.tensor([0.5, 2.0])])
    np.testing.assert_allclose(g.data, [2 + 0.5 * 2, 2 + 2 * 4])


def _two_outputs(lib, x, w):
    """Two outputs of two inputs, for the batched-seed tests: (sin(x) * w, sum(x^3))."""
    return [lib.sin(x) * w, (x ** 3).sum()]


def test_batched_grad_outputs_match_torch_and_differentiate_again(torch_mod, rng):
    """is_grads_batched: a batch of seeds per output, one vector-Jacobian product per seed,
    stacked; with create_graph the stacked result differentiates like torch's."""
    xv, wv = rng.normal(size=3), rng.normal(size=3)
    seeds = [rng.normal(size=(4, 3)), rng.normal(size=4)]
    x, w = wg.tensor(xv, requires_grad=True), wg.tensor(wv, requires_grad=True)
    tx, tw = (torch_mod.tensor(v, requires_grad=True) for v in (xv, wv))
    gx, gw = wg.autograd.grad(_two_outputs(wg, x, w), [x, w], grad_outputs=seeds,
                              is_grads_batched=True, create_graph=True)
    tgx, tgw = torch_mod.autograd.grad(_two_outputs(torch_mod, tx, tw), [tx, tw],
                                       grad_outputs=[torch_mod.tensor(s) for s in seeds],
                                       is_grads_batched=True, create_graph=True)
    assert gx.shape == (4, 3) and gw.shape == (4, 3)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(gw.data, tgw.detach().numpy(), rtol=1e-13)
    (hx,) = wg.autograd.grad((gx * gw).sum(), [x])
    (thx,) = torch_mod.autograd.grad((tgx * tgw).sum(), [tx])
    np.testing.assert_allclose(hx.data, thx.numpy(), rtol=1e-12)


def test_batched_grad_with_an_unused_input_keeps_the_graph_until_the_last_seed():
    """One backward per seed: the graph is kept for the later seeds, then freed; an unused
    input is None (or batched zeros when materialized). Rows of the identity as seeds give
    the Jacobian of x*x: diag(2x)."""
    x, u = wg.tensor([1.0, 2.0], requires_grad=True), wg.tensor([3.0], requires_grad=True)
    y = x * x
    jac, unused = wg.autograd.grad(y, [x, u], grad_outputs=np.eye(2, dtype=np.float32),
                                   is_grads_batched=True, allow_unused=True, retain_graph=True)
    np.testing.assert_array_equal(jac.data, np.diag([2.0, 4.0]))
    assert unused is None
    jac2, zeros = wg.autograd.grad(y, [x, u], grad_outputs=np.eye(2, dtype=np.float32),
                                   is_grads_batched=True, materialize_grads=True)
    np.testing.assert_array_equal(jac2.data, jac.data)
    assert zeros.shape == (2, 1) and not zeros.data.any()
    with pytest.raises(wg.GraphError, match="second time"):
        wg.autograd.grad(y, [x], grad_outputs=np.eye(2), is_grads_batched=True)


def test_materialize_grads_and_dict_inputs_as_torch(torch_mod):
    x, u = wg.tensor([1.0, 2.0], requires_grad=True), wg.tensor([3.0], requires_grad=True)
    tx, tu = torch_mod.tensor([1.0, 2.0], requires_grad=True), torch_mod.tensor([3.0],
                                                                              requires_grad=True)
    got = wg.autograd.grad((x * x).sum(), {"x": x, "u": u}, materialize_grads=True,
                           create_graph=True)
    want = torch_mod.autograd.grad((tx * tx).sum(), {"x": tx, "u": tu}, materialize_grads=True,
                                   create_graph=True)
    assert list(got) == list(want) == ["x", "u"]
    for k in got:
        np.testing.assert_array_equal(got[k].data, want[k].detach().numpy())
        assert got[k].requires_grad == want[k].requires_grad  # zeros that can be differentiated
    for lib, a, b in ((wg, x, u), (torch_mod, tx, tu)):
        with pytest.raises(ValueError, match="allow_unused"):
            lib.autograd.grad((a * a).sum(), [a, b], materialize_grads=True, allow_unused=False)


def test_inplace_on_saved_tensor_is_detected():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h * h            # multiply saves h
    h += 1               # ... which is now changed
    with pytest.raises(wg.GraphError, match=r"'multiply' saved.*modified in place.*shape \(2,\)"):
        y.sum().backward()


def test_inplace_on_output_needed_by_backward_is_detected():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    y = wg.exp(x)
    z = y.sum()
    with wg.no_grad():
        y *= 2
    with pytest.raises(wg.GraphError, match=r"output of 'exp'"):
        z.backward()


def test_inplace_through_a_view_is_detected():
    x = wg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    v = h.reshape(4)
    with wg.no_grad():
        v[0] = 10.0
    with pytest.raises(wg.GraphError, match="modified in place"):
        y.backward()


@pytest.mark.parametrize("alias", [lambda y: y.reshape(2, 1), lambda y: y.detach(),
                                   lambda y: y[:1]])
def test_inplace_on_an_alias_of_a_saved_output_is_detected(alias):
    """Tensors start with a shared read-only version counter and get their own on the first
    in-place write; a view or a detached tensor made before that write must still share it
    with the output that exp saved (as in PyTorch, detach() shares the counter)."""
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    y = wg.exp(x)
    z = y.sum()
    a = alias(y)
    with wg.no_grad():
        a += 1
    assert y.version == 1 and y.data[0] == pytest.approx(np.e + 1)
    with pytest.raises(wg.GraphError, match=r"output of 'exp'"):
        z.backward()


def test_inplace_that_nothing_saved_is_fine_and_rebases(torch_mod):
    torch = torch_mod
    x0 = np.array([1.0, -2.0, 0.5])
    x = wg.tensor(x0, requires_grad=True)
    h = x + 1         # add saves nothing
    h *= x            # in-place multiply, recorded: h = (x + 1) * x
    h[0] = 7.0        # setitem recorded
    h.sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    th = tx + 1
    th *= tx
    th[0] = 7.0
    th.sum().backward()
    np.testing.assert_allclose(h.data, th.detach().numpy())
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def _consumed_then_modified(lib, make):
    """Programs where a tensor is used, then modified in place while recording, and both the
    earlier use and the new value reach the loss: an op recorded before the write took the
    old value, so its gradient must go to the old value's graph (PyTorch's semantics)."""
    grads = []
    x = make([0.5, 1.0])
    y = x * 1
    z = y.exp()          # exp saves its output, not y: the write below is legal
    y *= 2
    (z.sum() + y.sum()).backward()
    grads.append(x.grad)
    x = make([1.0, 2.0])
    y = x * 1
    y += y               # the right-hand y is the old value too
    y.sum().backward()
    grads.append(x.grad)
    x = make([1.0, 2.0, 3.0])
    y = x * 3
    z = (y + 1).exp()
    y[0] = 7.0
    (z.sum() + (y * y).sum()).backward()
    grads.append(x.grad)
    w, x = make([1.0, 2.0]), make([3.0, 4.0])
    c = lib.zeros(2, dtype=lib.float64)
    u = c + x            # c did not require grad when u was recorded
    c += w
    (u.sum() + (c * x).sum()).backward()
    grads += [w.grad, x.grad]
    return grads


def test_ops_recorded_before_an_inplace_write_get_the_old_value(torch_mod):
    torch = torch_mod
    ours = _consumed_then_modified(
        wg, lambda v: wg.tensor(v, dtype="float64", requires_grad=True))
    theirs = _consumed_then_modified(
        torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12)


def test_ops_recorded_before_an_inplace_write_by_hand():
    """The first program of the above, derived by hand: z = e^x and y = 2x, so
    d(sum z + sum y)/dx = e^x + 2 (the old value of y is x, whose derivative is 1)."""
    x0 = np.array([0.5, 1.0])
    x = wg.tensor(x0, requires_grad=True)
    y = x * 1
    z = y.exp()
    y *= 2
    (z.sum() + y.sum()).backward()
    np.testing.assert_allclose(x.grad.data, np.exp(x0) + 2)


@pytest.mark.parametrize("update, grad", [
    # y = 3x; each update's loss sum(y_new) differentiated by hand
    (lambda y: y.__imul__(y), lambda x: 18 * x),                # sum 9x^2
    (lambda y: y.__iadd__(y), lambda x: np.full_like(x, 6.0)),  # sum 6x
    (lambda y: y.__imul__(y[::-1]), lambda x: 18 * x[::-1]),    # 18 x0 x1
])
def test_inplace_op_reading_its_own_target(update, grad):
    """The right-hand side is the target itself or a view of it: the op reads the value
    before the write (PyTorch refuses y *= y at backward; its value is defined, so we give
    it), and nothing it saved is the overwritten array."""
    x0 = np.array([1.0, 2.0])
    x = wg.tensor(x0, requires_grad=True)
    y = x * 3
    update(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, grad(x0))


def test_input_used_twice_after_an_earlier_inplace_write_is_not_flagged():
    """w was written in place before ``w * w`` saved it, and an unrelated in-place write
    later moves the global epoch, so backward re-checks the saved versions: the check must
    count w twice as the recording did, and find nothing changed. d(sum w^2)/dx = 2 w."""
    x = wg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    w = x * 1.0
    w += 1.0
    y = w * w
    other = wg.tensor([0.0])
    other += 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * (np.array([1.0, 2.0]) + 1.0))


def test_inplace_on_leaf_requiring_grad():
    w = wg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(wg.GraphError, match="leaf tensor.*no_grad"):
        w -= 1.0
    with pytest.raises(wg.GraphError, match="leaf tensor"):
        w[0] = 3.0
    with wg.no_grad():
        w -= 0.5
        w[1] = 9.0
    np.testing.assert_array_equal(w.data, [0.5, 9.0])
    assert w.is_leaf and w.requires_grad


def test_hooks_and_retain_grad():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x * 3
    h.retain_grad()
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = x.register_hook(lambda g: g * 10)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.data)
    np.testing.assert_allclose(h.grad.data, 2 * h.data)
    np.testing.assert_allclose(x.grad.data, 10 * 3 * 2 * h.data)
    handle.remove()
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 1])


def test_a_hooks_returned_gradient_stays_the_callers(torch_mod):
    """.grad accumulates in place; it must not do so into an array a hook returned (the
    caller may hold it), as PyTorch."""
    held = {}
    for M in (wg, torch_mod):
        x = M.tensor([1.0, 2.0], requires_grad=True)
        clipped = M.tensor([5.0, 5.0])
        x.register_hook(lambda g, c=clipped: c)
        (x * 1).sum().backward()
        (x * 1).sum().backward()
        held[M] = (np.asarray(clipped.tolist()), np.asarray(x.grad.tolist()))
    for a, b in zip(held[wg], held[torch_mod]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("returned", [lambda g: g.astype("float64"), lambda g: g.astype("int64")],
                         ids=["float64", "int64"])
def test_a_hook_may_not_change_the_gradients_dtype(returned):
    x = wg.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    x.register_hook(returned)
    with pytest.raises(wg.DTypeError, match="hook returned a .* gradient for a float32 tensor"):
        (x * 3).sum().backward()


def test_a_hook_may_return_a_list_of_numbers():
    x = wg.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    x.register_hook(lambda g: [1, 1])  # numbers take the tensor's dtype
    (x * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1, 1])


def test_detach_item_and_float_cut_the_graph():
    x = wg.tensor([2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    assert isinstance(y.item(), float) and float(y) == 6.0


def test_shared_input_used_twice_in_one_op():
    x = wg.tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_gradients_of_shared_leaves_are_not_aliased():
    a = wg.tensor([1.0, 2.0], requires_grad=True)
    b = wg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 5  # in-place edits of one .grad (e.g. clipping) must not touch another
    np.testing.assert_array_equal(b.grad.data, [1, 1])


def test_broadcast_gradients_sum_to_input_shape():
    x = wg.tensor(np.ones((3, 1)), requires_grad=True)
    y = wg.tensor(np.ones(4), requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    np.testing.assert_array_equal(x.grad.data, [[4], [4], [4]])
    np.testing.assert_array_equal(y.grad.data, [3, 3, 3, 3])


def test_float32_stays_float32_through_backward():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2.5 + 1).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_mixed_precision_gradient_takes_input_dtype():
    a = wg.tensor([1.0, 2.0], requires_grad=True)             # float32
    b = wg.tensor(np.array([1.0, 2.0]), requires_grad=True)   # float64
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_backward_with_inputs_only_fills_those():
    a = wg.tensor([1.0], requires_grad=True)
    b = wg.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_threads_have_their_own_grad_mode():
    import threading
    seen = {}

    def worker():
        seen["enabled"] = wg.is_grad_enabled()

    with wg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["enabled"] is True


def test_one_threads_no_grad_does_not_stop_another_recording():
    """Ops read a process-wide count of threads in no_grad before their own thread's mode:
    a worker must still record (and backprop d(x*x)/dx = 2x) while the main thread is in
    no_grad, and the main thread must not record meanwhile."""
    import threading
    x = wg.tensor([3.0], requires_grad=True)
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def worker():
        inside.wait()
        y = (x * x).sum()
        seen["recorded"] = y.requires_grad
        y.backward()
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with wg.no_grad():
        inside.set()
        done.wait()
        seen["main"] = (x * x).requires_grad
    t.join()
    assert seen == {"recorded": True, "main": False} and x.grad.item() == 6.0
    assert wg.is_grad_enabled() and (x * x).requires_grad


def test_zero_d_value_used_many_times():
    # NumPy turns 0-d results into scalars; accumulating a third contribution must still work
    x = wg.tensor(np.float64(1.5), requires_grad=True)
    y = wg.tensor(np.float64(2.0), requires_grad=True)
    z = x + y + y + y + y
    z.backward()
    assert (x.grad.item(), y.grad.item()) == (1.0, 4.0)


def test_running_loss_accumulation_warns_once_with_the_fix():
    """The lectures' leak: summing losses that require grad chains every step's graph."""
    from wengert.ops import methods
    methods._warned_accumulation[0] = False
    w = wg.tensor(np.ones(3), requires_grad=True)
    running_loss = 0.0
    with pytest.warns(UserWarning, match=r"loss.item\(\)") as record:
        for step in range(5):
            loss = (w * float(step)).sum()
            loss.backward()
            running_loss += loss
    assert len(record) == 1  # once, not every step
    assert running_loss.item() == 3.0 * (0 + 1 + 2 + 3 + 4)
    total = 0.0
    for step in range(3):  # the fix: no warning, no graph
        loss = (w * 2.0).sum()
        loss.backward()
        total += loss.item()
    assert isinstance(total, float)


# --- residuals: values the forward hands to the backward --------------------------------------
def _exp_with_residuals(calls):
    """exp whose forward hands its rule e^x again as a residual; ``calls`` records whether
    each run of the rule received it."""
    def forward(x):
        out = np.exp(x)
        return out, out.copy()

    def vjp(ns, g, ans, x, residuals=None):
        calls.append(residuals is not None)
        return g * (residuals if residuals is not None else ns.exp(x))

    return wg.Primitive("exp_residual", forward, vjp=[vjp], residuals=True, register=False)


def test_rules_on_arrays_receive_the_residuals_and_the_node_frees_them():
    calls = []
    exp = _exp_with_residuals(calls)
    x = wg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = exp(x)
    assert isinstance(y.data, np.ndarray) and y.shape == (2,)  # the output alone, not the pair
    node = y._node
    y.sum().backward(retain_graph=True)
    y.sum().backward()  # the residuals survive a retained graph, and are then freed
    assert calls == [True, True] and node.residuals is None
    np.testing.assert_allclose(x.grad.data, 2 * np.exp([0.5, -1.0]), rtol=1e-15)


def test_rules_building_a_graph_get_no_residuals_and_stay_differentiable():
    calls = []
    exp = _exp_with_residuals(calls)
    x = wg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    (g,) = wg.autograd.grad(exp(x).sum(), [x], create_graph=True)
    (gg,) = wg.autograd.grad(g.sum(), [x])
    assert calls == [False]  # a residual is a constant array: it would cut the second order
    np.testing.assert_allclose(gg.data, np.exp([0.5, -1.0]), rtol=1e-15)


def test_gradcheck_passes_a_primitive_with_residuals():
    from wengert.check import gradcheck
    exp = _exp_with_residuals([])
    assert gradcheck(lambda x: exp(x), np.array([0.3, -0.7]), modes="reverse",
                        order=2).passed


def test_the_slices_of_one_tensor_add_into_one_gradient(torch_mod, rng):
    """x[t] for every t, sums and overlapping slices, and x used whole as well: the gradient
    of each slice is added where it lies (the engine keeps slice gradients lazy), in every
    order the engine can meet them: slice then slice, dense then slice, slice then dense,
    and a dense gradient shared with another tensor (add passes g through)."""
    data = rng.standard_normal((5, 3, 4))
    weights = rng.standard_normal((5, 3, 4))

    def f(M, x, w):
        total = (x[0] * w[0]).sum()            # first: a lazy slice
        for t in range(1, 5):                  # then slices into it
            total = total + (M.tanh(x[t]) * w[t]).sum()
        total = total + (x[1:3, ::2] ** 2).sum()  # a strided slice overlapping two steps
        y = x + 0.0                             # add passes its gradient on (shared)
        total = total + (y * w).sum() + y[2, 1].sum() + (y[:, None, 0] * 3).sum()
        return total

    grads = {}
    for M in (wg, torch_mod):
        x = M.tensor(data, requires_grad=True)
        w = M.tensor(weights)
        f(M, x, w).backward()
        grads[M] = np.asarray(x.grad.tolist())
    np.testing.assert_allclose(grads[wg], grads[torch_mod], rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x: f(wg, x, wg.tensor(weights)), (data,), order=2).passed


def test_a_sliced_gradient_meets_sparse_rows_and_hooks(torch_mod):
    """An embedding's weight used through a sparse lookup and a slice gets one dense
    gradient, as PyTorch's; a hook on a sliced tensor sees a plain array gradient."""
    from wengert import nn
    emb = nn.Embedding(6, 3, sparse=True)
    idx = wg.tensor(np.array([1, 4, 1]))
    (emb(idx).sum() + (emb.weight[2:4] * 2).sum()).backward()
    expected = np.zeros((6, 3))
    expected[[1, 4]] = [[2.0] * 3, [1.0] * 3]
    expected[2:4] += 2.0
    np.testing.assert_array_equal(np.asarray(emb.weight.grad.tolist()), expected)

    seen = []
    x = wg.tensor(np.arange(6.0), requires_grad=True)
    y = x * 1.0
    y.register_hook(lambda g: seen.append(g) or None)
    (y[:2].sum() + y[4:].sum() * 3).backward()
    assert isinstance(seen[0], wg.Tensor)
    np.testing.assert_array_equal(seen[0].numpy(), [1, 1, 0, 0, 3, 3])
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1, 0, 0, 3, 3])


def test_a_write_into_one_element_reaches_its_tensor(torch_mod):
    """x[i, j] (an int per axis) is a 0-d view, as PyTorch's: an in-place op on it, directly
    or through a view of a view, changes x and is differentiated through; a 0-d tensor's
    x[()] too, and a parameter's entry under no_grad (as init code writes it)."""
    data = np.arange(6.0).reshape(2, 3)
    seen = {}
    for M in (wg, torch_mod):
        x = M.tensor(data, requires_grad=True)
        y = x * 1.0
        y[1, 0].mul_(2)
        v = y[0][1]
        v += 10
        y[1][2].mul_(y[0, 0] + 3)
        (y * y).sum().backward()
        z = M.tensor(3.0)
        z[()].add_(1)
        b = M.tensor(np.zeros(3), requires_grad=True)
        with M.no_grad():
            b[0].fill_(1.0)
        seen[M] = [np.asarray(t.tolist()) for t in (y.detach(), x.grad, z, b.detach())]
    for ours, theirs in zip(seen[wg], seen[torch_mod]):
        np.testing.assert_array_equal(ours, theirs)
    # by hand: y[1, 0] = 2 * 3, y[0, 1] = 1 + 10, y[1, 2] = 5 * (0 + 3)
    np.testing.assert_array_equal(seen[wg][0], [[0, 11, 2], [6, 4, 15]])


def test_a_tensor_seed_takes_the_roots_dtype(torch_mod):
    """backward(gradient=...) and autograd.grad(grad_outputs=...) cast a seed of another
    dtype to the root's, as PyTorch: a leaf root's .grad, a hook and retain_grad see it."""
    for M in (wg, torch_mod):
        f32, f64 = (torch_mod.float32, torch_mod.float64) if M is torch_mod else ("float32",
                                                                                  "float64")
        x = M.tensor(np.ones(3), dtype=f32, requires_grad=True)
        x.backward(M.tensor(np.ones(3), dtype=f64))
        assert str(x.grad.dtype).endswith("float32")
        x = M.tensor(np.ones(3), dtype=f32, requires_grad=True)
        x.backward(M.tensor(np.ones(3, np.int64)))
        assert str(x.grad.dtype).endswith("float32")
        y = M.tensor(np.ones(3), dtype=f64, requires_grad=True) * 2
        y.retain_grad()
        hooked = []
        y.register_hook(lambda g: hooked.append(str(g.dtype)) or None)
        y.backward(M.tensor(np.ones(3), dtype=f32))
        assert hooked[0].endswith("float64") and str(y.grad.dtype).endswith("float64")
        x = M.tensor(np.ones(3), dtype=f32, requires_grad=True)
        for create_graph in (False, True):
            (g,) = M.autograd.grad(x, x, M.tensor(np.ones(3), dtype=f64),
                                   create_graph=create_graph)
            assert str(g.dtype).endswith("float32")


@pytest.mark.parametrize("f", [lambda m, x: (m.exp(x) * x.sum()).sum(),
                               lambda m, x: x.sum() * x.sum(),
                               lambda m, x: (x[0] * x.sum(0)).sum(),
                               lambda m, x: (x[None] * x.sum()).sum(),
                               lambda m, x: (x.T.T * 2 + x.reshape(3)).sum() * x.mean()])
def test_a_read_only_view_gradient_is_never_accumulated_into(torch_mod, f):
    # sum's gradient is a broadcast (read-only) view of its seed: a second gradient for the
    # same tensor must be added into a new array, whatever the node's inputs
    x0 = np.array([0.5, 1.0, 2.0])
    x, tx = wg.tensor(x0, requires_grad=True), torch_mod.tensor(x0, requires_grad=True)
    f(wg, x).backward()
    f(torch_mod, tx).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


def test_a_gradient_a_hook_kept_is_not_changed_by_later_accumulation(torch_mod):
    # z's gradient (a fresh array, seen by the hook) reaches y as a transpose view first;
    # y's second gradient, from w, must then be added into a new array, not into that view
    x0 = np.arange(6.0).reshape(2, 3)
    c = np.linspace(1, 2, 6).reshape(3, 2)
    kept = []
    for lib in (wg, torch_mod):
        y = lib.tensor(x0, requires_grad=True) * 3
        w = y * y                    # recorded before z, so its gradient reaches y second
        z = y.T
        z.register_hook(lambda g, lib=lib: kept.append(g.clone() if lib is torch_mod else g))
        ((z * lib.tensor(c)).sum() + w.sum()).backward()
    np.testing.assert_allclose(kept[0].data, c, rtol=1e-12)
    np.testing.assert_allclose(kept[1].numpy(), c, rtol=1e-12)


def test_many_batched_seeds_run_as_one_pass_and_match_torch(torch_mod, rng):
    """From 6 seeds on is_grads_batched runs one batched backward (vmap), as torch does; the
    values, the second derivative through it and the freed graph are the per-seed ones."""
    xv, wv = rng.normal(size=3), rng.normal(size=3)
    seeds = [rng.normal(size=(7, 3)), rng.normal(size=7)]
    x, w = wg.tensor(xv, requires_grad=True), wg.tensor(wv, requires_grad=True)
    tx, tw = (torch_mod.tensor(v, requires_grad=True) for v in (xv, wv))
    outs = _two_outputs(wg, x, w)
    gx, gw = wg.autograd.grad(outs, [x, w], grad_outputs=seeds, is_grads_batched=True,
                              create_graph=True)
    tgx, tgw = torch_mod.autograd.grad(_two_outputs(torch_mod, tx, tw), [tx, tw],
                                       grad_outputs=[torch_mod.tensor(s) for s in seeds],
                                       is_grads_batched=True, create_graph=True)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(gw.data, tgw.detach().numpy(), rtol=1e-13)
    (hx,) = wg.autograd.grad((gx * gw).sum(), [x], retain_graph=True)
    (thx,) = torch_mod.autograd.grad((tgx * tgw).sum(), [tx])
    np.testing.assert_allclose(hx.data, thx.numpy(), rtol=1e-12)
    # without create_graph the results are constants, and the graph is freed after
    plain = wg.autograd.grad(outs, [x, w], grad_outputs=seeds, is_grads_batched=True)
    assert not plain[0].requires_grad
    np.testing.assert_allclose(plain[0].data, gx.data, rtol=1e-15)
    with pytest.raises(wg.GraphError, match="second time"):
        wg.autograd.grad(outs, [x, w], grad_outputs=seeds, is_grads_batched=True)


def test_batched_seeds_through_a_numpy_backward_fall_back_to_one_pass_each():
    from wengert.units import unit

    @unit(back=lambda dy, y, x: dy * np.exp(x))  # NumPy: cannot run on a batch of seeds
    def np_exp(x):
        return np.exp(x)

    xv = np.linspace(-1.0, 1.0, 8)
    x = wg.tensor(xv, requires_grad=True)
    y = wg.tanh(np_exp(x)) * 2
    (jac,) = wg.autograd.grad(y, [x], grad_outputs=np.eye(8), is_grads_batched=True)
    by_hand = np.diag(2 * (1 - np.tanh(np.exp(xv)) ** 2) * np.exp(xv))
    np.testing.assert_allclose(jac.data, by_hand, rtol=1e-12)
    with pytest.raises(wg.GraphError, match="second time"):  # freed by the last pass
        wg.autograd.grad(y, [x], grad_outputs=np.eye(8), is_grads_batched=True)


def test_batched_seeds_with_hooks_run_one_pass_each_so_hooks_see_plain_gradients():
    x = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))  # values: one seed at a time
    (jac,) = wg.autograd.grad(h * h, [x], grad_outputs=np.eye(3)[[0, 1, 2, 0, 1, 2]],
                              is_grads_batched=True)
    np.testing.assert_allclose(jac.data, np.tile(np.diag(8 * x.data), (2, 1)))
    assert len(seen) == 6 and all(s.shape == (3,) for s in seen)
