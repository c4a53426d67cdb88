"""In-place writes through views (PyTorch's semantics, PyTorch as the oracle): a write into a
view is recorded on the tensors it views, a view of a leaf that requires grad refuses writes,
and a view whose values a later write into its base (or another view of it) changed is taken
again from the written base, as PyTorch regenerates a view's grad_fn."""
import numpy as np
import pytest

import wengert as wg
from wengert.errors import GraphError
from wengert.functional import jacfwd, jacrev

X = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def _run(M, scenario):
    """``scenario(M, x, w)`` builds a loss with library ``M`` (wengert or torch); returns the
    loss value and the gradients of x and w (None where w gets none)."""
    x = M.tensor(X, requires_grad=True)
    w = M.tensor([0.5, -1.5], requires_grad=True)
    loss = scenario(M, x, w)
    loss.backward()
    grads = [None if t.grad is None else np.asarray(t.grad.tolist()) for t in (x, w)]
    return float(loss.item()), grads


def _matches_torch(scenario, torch_mod):
    """The scenario's loss and gradients agree between wengert and torch."""
    value, (gx, gw) = _run(wg, scenario)
    t_value, (t_gx, t_gw) = _run(torch_mod, scenario)
    assert value == pytest.approx(t_value)
    np.testing.assert_allclose(gx, t_gx)
    np.testing.assert_allclose(gw, t_gw)


def _write_view_setitem(M, x, w):
    y = x * 2
    v = y[1:3]
    v[0] = w[0] * 5
    return (y * y).sum()


def _write_view_iadd(M, x, w):
    y = x * 2
    v = y[1:3]
    v += w
    return (y * y).sum() + v.sum()  # the view itself, after its own write


def _write_view_imul_keeps_earlier_consumers(M, x, w):
    y = x * 2
    z = y + 1          # recorded before the write: it saw the old values
    v = y[2:4]
    v *= w
    return (z * z).sum() + (y * y).sum()


def _write_view_of_untracked_buffer(M, x, w):
    buf = M.zeros(3)
    v = buf[:2]
    v += w
    return (buf * buf).sum() + x.sum()


def _augmented_slice_assignment(M, x, w):
    buf = M.zeros(3)
    buf[:2] += w       # getitem, += on the view, setitem back
    return (buf * buf).sum() + x.sum()


def _nested_views(M, x, w):
    y = (x * 2).reshape(2, 3)
    row = y[1]
    part = row[0:2]
    part *= w
    return (y * y).sum() + row.sum() + part.sum()


def _transposed_view(M, x, w):
    y = (x * 2).reshape(2, 3)
    col = y.T[0]       # y[:, 0] through a transpose
    col += w
    return (y * y).sum()


def _reshaped_view(M, x, w):
    y = x * 2
    r = y.reshape(2, 3)
    r[1, 1:] = w * 3
    return (y * y).sum()


def _sibling_view_not_overlapping(M, x, w):
    y = x * 2
    a = y[0:2]
    b = y[2:4]
    b += w
    return (a * a).sum() + (y * y).sum()


def _advanced_index_is_a_copy(M, x, w):
    y = x * 2
    c = y[[0, 1]]      # a copy: writing into it leaves y alone
    c += w
    return (c * c).sum() + (y * y).sum()


SCENARIOS = [_write_view_setitem, _write_view_iadd, _write_view_imul_keeps_earlier_consumers,
             _write_view_of_untracked_buffer, _augmented_slice_assignment, _nested_views,
             _transposed_view, _reshaped_view, _sibling_view_not_overlapping,
             _advanced_index_is_a_copy]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_write_through_a_view_matches_torch(scenario, torch_mod):
    _matches_torch(scenario, torch_mod)


def test_write_through_a_view_by_hand():
    # y = 2x; y[1] = 5 w0: loss = sum(y^2) = 4(x0^2 + x2^2 + ...) + 25 w0^2
    x = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = wg.tensor([0.5], requires_grad=True)
    y = x * 2
    y[1:3][0] = w[0] * 5
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [8 * 1.0, 0.0, 8 * 3.0])
    np.testing.assert_allclose(w.grad.numpy(), [50 * 0.5])


# A recorded view whose values a later write changes (through its base, a view of the base or
# an overlapping sibling); each returns the loss, built from the view after the write.
WRITTEN_BEHIND = {
    "base imul": lambda M, x, w: (lambda y: (lambda v: (
        y.__imul__(w[0]), (v * v).sum())[1])(y[1:3]))(x * 1),
    "base slice iadd": lambda M, x, w: (lambda y: (lambda v: (
        y[0:2].__iadd__(w), (v * v).sum() + (y * y).sum())[1])(y[1:3]))(x * 1),
    "base add_": lambda M, x, w: (lambda y: (lambda v: (
        y.add_(w[1] * 2), (v * v).sum())[1])(y[1:3]))(x * 1),
    "base setitem, two writes": lambda M, x, w: (lambda y: (lambda v: (
        y.__setitem__(2, w[0] * 3), y.__imul__(w[1]), (v * v).sum())[2])(y[1:4]))(x * 1),
    "overlapping sibling": lambda M, x, w: (lambda y: (lambda a, b: (
        b.__imul__(w[0]), (a * a).sum() + (b * b).sum())[1])(y[0:3], y[2:5]))(x * 1),
    "sibling inside a view": lambda M, x, w: (lambda v: (lambda u, s: (
        u.__imul__(w), (s * s).sum() + (v * v).sum())[1])(v[0:2], v[1:3]))((x * 1)[1:5]),
    "view of a view": lambda M, x, w: (lambda y: (lambda v: (lambda u: (
        y.__setitem__(2, w[0] * 3), (u * u).sum() + (v * v).sum())[1])(v[1:]))(y[1:4]))(
        x * 1),
    "reshape": lambda M, x, w: (lambda y: (lambda r: (
        y[4:].__imul__(w), (r * r).sum())[1])(y.reshape(2, 3)))(x * 1),
    "transpose": lambda M, x, w: (lambda y: (lambda t: (
        y[0:2].__iadd__(w), (t * t).sum() + t[0].sum())[1])(y.reshape(2, 3).T))(x * 1),
    # used before the write too: that use differentiates the old values, as in PyTorch
    "used before and after": lambda M, x, w: (lambda y: (lambda v: (lambda before: (
        y.__imul__(w[0]), (before * before).sum() + (v * v).sum())[1])(v.exp()))(y[1:3]))(
        x * 1),
    "written into afterwards": lambda M, x, w: (lambda y: (lambda v: (
        y.__imul__(w[0]), v.__iadd__(w * 3), v.__setitem__(0, w[1] * 2),
        (v * v).sum() + (y * y).sum())[3])(y[1:3]))(x * 1),
    # no graph records the write: v keeps differentiating its node, as PyTorch's regenerated
    # grad_fn does (from the base's unchanged one)
    "base written under no_grad": lambda M, x, w: (lambda y: (lambda v: (
        _under_no_grad(M, lambda: y.__imul__(3.0)), (v * w[0]).sum())[1])(y[1:3]))(x * 1),
    "written beside": lambda M, x, w: (lambda y: (lambda v: (
        y[3:5].__imul__(w), (v * v).sum() + (y * y).sum())[1])(y[0:2]))(x * 1),
}


@pytest.mark.parametrize("name", list(WRITTEN_BEHIND))
def test_a_view_whose_values_a_later_write_changed_follows_it_like_torch(name, torch_mod):
    scenario = WRITTEN_BEHIND[name]
    _matches_torch(scenario, torch_mod)


def test_a_view_the_write_does_not_touch_keeps_its_node():
    y = wg.tensor(X, requires_grad=True) * 1
    v, u = y[0:2], y[1:3]
    v_node, u_node = v._node, u._node
    y[3:] *= 2.0
    assert v._node is v_node and u._node is u_node
    y[2] = 7.0
    assert v._node is v_node and u._node is not u_node


def test_second_order_through_a_view_taken_again_matches_torch(torch_mod):
    results = {}
    for M in (wg, torch_mod):
        x = M.tensor(np.array(X), requires_grad=True)
        w = M.tensor(np.array([0.5, -1.5]), requires_grad=True)
        y = x * 1
        v = y[1:4]
        before = v.exp()
        y[2:4] *= w
        loss = (v ** 3).sum() + (before * v).sum()
        (gx,) = M.autograd.grad(loss, [x], create_graph=True)
        (gx * gx).sum().backward()
        results[M] = [np.asarray(t.grad.tolist()) for t in (x, w)]
    for mine, theirs in zip(results[wg], results[torch_mod]):
        np.testing.assert_allclose(mine, theirs)


FORWARD_WRITTEN_BEHIND = {
    # (M, x, w) -> outputs; x and w are duals whose primals require grad
    "base imul": lambda M, x, w: (lambda y: (lambda v: (
        y.__imul__(w[0]), [v, v * v])[1])(y[1:3]))(x * 1),
    "slice of the base": lambda M, x, w: (lambda y: (lambda v: (lambda before: (
        y[0:2].__imul__(w), [v, before, v * 3, y])[1])(v * 2))(y[1:3]))(x * 1),
    "view of a view": lambda M, x, w: (lambda y: (lambda v: (lambda u: (
        y.__setitem__(2, w[0] * 3), [u, v * u[0]])[1])(v[1:]))(y[1:4]))(x * 1),
    "overlapping sibling": lambda M, x, w: (lambda y: (lambda a, b: (
        b.__iadd__(w), [a * a, b])[1])(y[0:2], y[1:3]))(x * 1),
    # tangents only: the write records no graph, as PyTorch's forward AD under no_grad
    "under no_grad": lambda M, x, w: (lambda y: (lambda v: (
        _under_no_grad(M, lambda: y.__imul__(x)), [v, v * 2])[1])(y[1:3]))(x * 1),
}


def _under_no_grad(M, write):
    with M.no_grad():
        write()


@pytest.mark.parametrize("name", list(FORWARD_WRITTEN_BEHIND))
def test_forward_mode_through_a_view_taken_again_matches_torch(name, torch_mod):
    """Tangents of the view (and of what uses it), then the gradients of a loss of them."""
    from torch.autograd import forward_ad as t_fw
    from wengert.autograd import forward_ad as w_fw
    results = {}
    for M, fw in ((wg, w_fw), (torch_mod, t_fw)):
        with fw.dual_level():
            px = M.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
            pw = M.tensor([0.5, -1.5], requires_grad=True)
            x = fw.make_dual(px, M.tensor([1.0, -1.0, 2.0, 0.5]))
            w = fw.make_dual(pw, M.tensor([0.25, 2.0]))
            outs = FORWARD_WRITTEN_BEHIND[name](M, x, w)
            found = [np.asarray(fw.unpack_dual(o).tangent.tolist()) for o in outs]
            sum((o * o).sum() for o in outs).backward()
            found += [np.zeros(t.shape) if t.grad is None else np.asarray(t.grad.tolist())
                      for t in (px, pw)]
        results[M] = found
    for mine, theirs in zip(results[wg], results[torch_mod]):
        np.testing.assert_allclose(mine, theirs)


@pytest.mark.parametrize("order", [1, 2])
def test_gradcheck_through_a_view_taken_again(order):
    def f(x, w):
        y = x * 1
        v = y[1:4]
        before = v.exp()
        y[0:2] *= w
        u = v.reshape(3, 1)
        u[2] += w[1] * x[0]
        return (v.sin(), before * v, y)

    report = wg.check.gradcheck(f, (np.array([0.3, -0.7, 1.1, 0.4, 2.0]),
                                    np.array([1.5, -0.5])), order=order)
    assert report.passed


def test_a_view_taken_again_after_the_write_is_fine(torch_mod):
    def scenario(M, x, w):
        y = x * 2
        y[0:2] = w * 4
        v = y[1:3]     # taken after the write
        return (v * v).sum()
    _matches_torch(scenario, torch_mod)


@pytest.mark.parametrize("write", [
    lambda w: w[1:].__iadd__(1.0),
    lambda w: w[0:2].__setitem__(0, 7.0),
    lambda w: w.reshape(3).__imul__(2.0),
    lambda w: w[None][0].__isub__(1.0),
], ids=["iadd-slice", "setitem-slice", "imul-reshape", "nested"])
def test_a_view_of_a_leaf_that_requires_grad_refuses_writes(write):
    w = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"a view \(shape .*\) of a leaf tensor of shape \(3,\)"):
        write(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])  # nothing was written
    with wg.no_grad():  # how optimizers write: allowed
        write(w)
    assert not np.array_equal(w.data, [1.0, 2.0, 3.0])


def test_a_copy_of_a_leaf_can_be_written():
    w = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = w[[0, 2]]      # advanced indexing copies
    c += 1.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])
    c.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 0.0, 1.0])


@pytest.mark.parametrize("how", ["autograd.grad", "backward(inputs=)"])
@pytest.mark.parametrize("write", ["whole", "slice", "reshape"])
def test_gradients_for_chosen_inputs_follow_rebased_tensors(how, write, torch_mod):
    """autograd.grad prunes the graph ahead of the pass; an op recorded before an in-place
    write took the old value, and the pruning must follow it there, as the pass does."""
    def scenario(M, x, w):
        y = x * 1
        z = y * 2          # recorded before the write: took the old y
        if write == "whole":
            y += w[0]
        elif write == "slice":
            y[1:3] += w
        else:
            y.reshape(2, 3)[1] += w[0]
        return z.sum() + (y * y).sum()
    results = {}
    for M in (wg, torch_mod):
        x = M.tensor(X, requires_grad=True)
        w = M.tensor([0.5, -1.5], requires_grad=True)
        loss = scenario(M, x, w)
        if how == "autograd.grad":
            results[M] = [np.asarray(g.tolist()) for g in M.autograd.grad(loss, [x, w])]
        else:
            loss.backward(inputs=[x, w])
            results[M] = [np.asarray(x.grad.tolist()), np.asarray(w.grad.tolist())]
    for mine, theirs in zip(results[wg], results[torch_mod]):
        np.testing.assert_allclose(mine, theirs)


def test_writing_into_a_view_taken_under_no_grad_of_a_base_that_requires_grad_is_refused():
    """PyTorch refuses it too: the write could not reach the base's graph."""
    w = wg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = w * 1
    with wg.no_grad():
        v = y[1:3]
    with pytest.raises(GraphError, match=r"view \(shape \(2,\)\) taken while nothing recorded"):
        v *= 2.0


CONSTANT_VIEWS = {
    # views taken before their base needed a gradient; a recorded write into the base then
    # changes their values, and PyTorch regenerates their grad_fn, so they differentiate
    "use the view": lambda M, w: (lambda y: (lambda v: (y.__iadd__(w), [v * M.c])[1])(
        y[1:3]))(M.zeros(4)),
    "view of a view": lambda M, w: (lambda y: (lambda v: (lambda u: (
        y.__iadd__(w), [u * M.c, v])[1])(v[1:]))(y[1:3]))(M.zeros(4)),
    "transpose": lambda M, w: (lambda y: (lambda t: (
        y.__iadd__(w.reshape(2, 2)), [t * M.c[:, None]])[1])(y.T))(M.zeros(4).reshape(2, 2)),
    "write beside it": lambda M, w: (lambda y: (lambda v: (
        y[2:].__iadd__(w[2:]), [v * 1.0, y * M.c.sum()])[1])(y[:1]))(M.zeros(4)),
}


class _Lib:
    """The few constructors the scenarios need, for wengert or torch (float64)."""

    def __init__(self, lib, tensor):
        self.zeros = lambda n: lib.zeros(n, dtype=lib.float64)
        self.c = tensor([10.0, 100.0]) if tensor else None


@pytest.mark.parametrize("name", sorted(CONSTANT_VIEWS))
def test_views_taken_before_the_base_needed_grad_follow_its_writes_like_torch(name, torch_mod):
    scenario = CONSTANT_VIEWS[name]
    w0 = np.array([1.0, 2.0, 3.0, 4.0])
    w = wg.tensor(w0, requires_grad=True)
    outs = scenario(_Lib(wg, lambda a: wg.tensor(np.array(a))), w)
    sum(((o * (k + 1.5)).sum() for k, o in enumerate(outs)), wg.tensor(0.0)).backward()
    wt = torch_mod.tensor(w0, requires_grad=True)
    touts = scenario(_Lib(torch_mod, lambda a: torch_mod.tensor(a, dtype=torch_mod.float64)),
                     wt)
    sum(((o * (k + 1.5)).sum() for k, o in enumerate(touts))).backward()
    for o, t in zip(outs, touts):
        np.testing.assert_allclose(o.data, t.detach().numpy())
    np.testing.assert_allclose(w.grad.data, wt.grad.numpy(), rtol=1e-12)


def test_a_write_into_such_a_view_reaches_the_base_by_hand():
    # y = w; y[1:3] *= 3 makes y = (w0, 3 w1, 3 w2, w3), so d sum(y) / dw = (1, 3, 3, 1).
    # (PyTorch 2.13 allows this write only once something has read the view's grad_fn.)
    w = wg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = wg.zeros(4, dtype=w.dtype)
    v = y[1:3]
    y += w
    v *= 3.0
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [1.0, 6.0, 9.0, 4.0])
    np.testing.assert_array_equal(w.grad.data, [1.0, 3.0, 3.0, 1.0])


def test_forward_mode_follows_a_write_into_the_base_of_a_constant_view(torch_mod):
    def f(M):
        def run(x):
            y = M.zeros(4)
            v = y[1:3]
            y += x
            return v * 1.0
        return run

    x = np.array([1.0, 2.0, 3.0, 4.0])
    expected = torch_mod.func.jacfwd(f(_Lib(torch_mod, None)))(torch_mod.tensor(x)).numpy()
    np.testing.assert_array_equal(expected, np.eye(4)[1:3])
    for transform in (jacfwd, jacrev):
        np.testing.assert_array_equal(transform(f(_Lib(wg, None)))(x).numpy(), expected)


@pytest.mark.parametrize("region", ["interleaved", "columns", "one element elsewhere"])
def test_a_write_beside_a_view_leaves_the_view_usable(region, torch_mod):
    def scenario(M, x, w):
        y = (x * 1).reshape(2, 3)
        if region == "interleaved":
            v = y.reshape(6)[0::2]
            y.reshape(6)[1::2] *= w[0]
        elif region == "columns":
            v = y[:, :2]
            y[:, 2:] *= w[0]
        else:
            v = y[0]
            y[1, 2] = w[1] * 4
        return (v * v).sum() + (y * y).sum()
    _matches_torch(scenario, torch_mod)


def test_a_copy_made_by_indexing_has_its_own_version_counter(torch_mod):
    """y[[0]] copies: writing into the copy does not touch what saved y."""
    results = {}
    for M in (wg, torch_mod):
        w = M.tensor(X, requires_grad=True)
        y = w * 1
        s = (y * y).sum()
        c = y[[0, 1]]
        c += 1.0
        (s + c.sum()).backward()
        results[M] = np.asarray(w.grad.tolist())
    np.testing.assert_allclose(results[wg], results[torch_mod])


def test_only_a_value_a_needed_rule_reads_must_stay_unmodified(torch_mod):
    """linear's rules: x's reads the weight, the weight's reads x, the bias's reads nothing;
    multiply's each read the other input (saves=((1,), (0,), ()) and "others")."""
    results = {}
    for M in (wg, torch_mod):
        F = wg.nn.functional if M is wg else torch_mod.nn.functional
        x = M.tensor([[1.0, 2.0]], requires_grad=True)
        b = M.tensor([1.0, 1.0], requires_grad=True)
        weight = M.tensor([[1.0, 2.0], [3.0, 4.0]])     # needs no gradient
        x2, b2, y = x * 1, b * 1, x * 1
        z = F.linear(x2, weight, b2) + y * 3.0
        x2 += 1.0      # read by the weight's rule only, which does not run
        b2 += 1.0      # read by no rule
        y += 1.0       # multiply by a constant: y's own rule reads the constant only
        z.sum().backward()
        results[M] = (np.asarray(x.grad.tolist()), np.asarray(b.grad.tolist()))
    for mine, theirs in zip(results[wg], results[torch_mod]):
        np.testing.assert_allclose(mine, theirs)


def _fw_cat(M, xs):
    return M.cat(xs) if M is not wg else wg.concatenate(xs)


def _fw_zeros(M, n):
    return wg.zeros(n, dtype="float64") if M is wg else M.zeros(n, dtype=M.float64)


FORWARD_WRITES = {
    "imul": lambda M, x: (lambda y: (y.__imul__(x), [y])[1])(x * 1),
    "into zeros": lambda M, x: (lambda z: (z.__iadd__(x), [z])[1])(_fw_zeros(M, 3)),
    "view": lambda M, x: (lambda y, v: (v.__imul__(x[:2]), [y, v])[1])(
        *(lambda y: (y, y[1:3]))(_fw_cat(M, [x * 1, x * 2]))),
    "setitem": lambda M, x: (lambda b: (b.__setitem__(slice(0, 2), x[1:] * 3), [b])[1])(
        _fw_zeros(M, 4)),
    "transposed view": lambda M, x: (lambda y, c: (c.__iadd__(x[:2]), [y, c])[1])(
        *(lambda y: (y, y.reshape(2, 3).T[0]))(_fw_cat(M, [x * 1, x * 2]))),
    "constant into an element": lambda M, x: (lambda y: (y.__setitem__(1, 7.0), [y])[1])(x * 1),
}


@pytest.mark.parametrize("name", list(FORWARD_WRITES))
def test_forward_mode_tangents_follow_in_place_writes(name, torch_mod):
    from torch.autograd import forward_ad as t_fw
    from wengert.autograd import forward_ad as w_fw
    tangents = {}
    for M, fw in ((wg, w_fw), (torch_mod, t_fw)):
        with fw.dual_level():
            x = fw.make_dual(M.tensor(np.array([1.0, 2.0, 3.0])),
                             M.tensor(np.array([1.0, -1.0, 2.0])))
            outs = FORWARD_WRITES[name](M, x)
            tangents[M] = [np.asarray(fw.unpack_dual(o).tangent.tolist()) for o in outs]
    for mine, theirs in zip(tangents[wg], tangents[torch_mod]):
        np.testing.assert_allclose(mine, theirs)


def test_divide_saves_what_its_rules_read(torch_mod):
    """x / y: x's rule reads y, y's reads x and y; the quotient itself is never read."""
    results = {}
    for M in (wg, torch_mod):
        x = M.tensor([1.0, 2.0], requires_grad=True)
        h = x / 2
        h += 1                       # the quotient: read by no rule
        y = x * 1
        z = y / 3.0
        y += 1                       # the dividend: read by y's rule only, which does not run
        ((h * h).sum() + z.sum() + y.sum()).backward()
        results[M] = np.asarray(x.grad.tolist())
    np.testing.assert_allclose(results[wg], results[torch_mod])
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    c = wg.tensor([2.0, 4.0], requires_grad=True)
    y = x * 1
    z = y / c
    y += 1                           # c's rule reads the dividend: refused, as PyTorch
    with pytest.raises(GraphError, match="'divide' saved its inputs"):
        z.sum().backward()


def test_forward_mode_view_of_a_base_written_with_a_dual_follows_it(torch_mod):
    # y = x; v = y[1:3]; y *= x: v holds x[1:3]**2, so its Jacobian is diag(2 x[1:3]) there
    def f(x):
        y = x * 1.0
        v = y[1:3]
        y *= x
        return v * 1.0

    x = np.array([1.0, 2.0, 3.0, 4.0])
    expected = torch_mod.func.jacfwd(f)(torch_mod.tensor(x)).numpy()
    np.testing.assert_array_equal(expected, [[0, 4, 0, 0], [0, 0, 6, 0]])
    np.testing.assert_array_equal(jacfwd(f)(x).numpy(), expected)


def test_rows_written_in_a_loop_while_earlier_rows_are_read_match_torch(torch_mod):
    """A loop writing row after row keeps every row's view alive in the graph (the case the
    view registry's bounds exist for); each row also reads the row before, after its write."""
    rng = np.random.default_rng(0)
    w0, x0 = rng.normal(size=(40, 3)), rng.normal(size=3)
    results = {}
    for M in (wg, torch_mod):
        w = M.tensor(w0, requires_grad=True)
        x = M.tensor(x0, requires_grad=True)
        y = M.zeros((40, 3), dtype=w.dtype) * 1.0
        y[0] += x
        for i in range(1, 40):
            y[i] += w[i] * M.tanh(y[i - 1])
        ((y * y).sum() + (y[5] * y[30]).sum()).backward()
        results[M] = [np.asarray(t.grad.tolist()) for t in (w, x)]
    for ours, theirs in zip(results[wg], results[torch_mod]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_writing_a_view_back_into_its_own_region_records_nothing():
    """`y[i] += w` ends with y[i] = (the updated view): the values are already there, so
    neither y nor the view gets another node."""
    w = wg.tensor([1.0, 2.0], requires_grad=True)
    y = wg.zeros((3, 2)) * 1.0
    v = y[1]
    v += w
    y_node, v_node = y._node, v._node
    y[1] = v
    assert y._node is y_node and v._node is v_node
    y[1:2] = v.reshape(1, 2)      # another tensor's memory (a reshape of the row is a view of v)
    assert y._node is not y_node  # counts as a write: not the view y[1:2] itself
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match="leaf tensor"):
        x[0:1] = x[0:1]           # a leaf that requires grad still refuses the assignment


def test_the_view_registry_finds_exactly_the_overlapping_live_views():
    from wengert.autodiff.view_registry import ViewRegistry
    base = np.arange(64.0).reshape(8, 8)
    views = {"row 2": base[2], "column 3": base[:, 3], "rows 4-5": base[4:6],
             "transpose": base.T, "every other of row 7": base[7, ::2]}
    registry = ViewRegistry()
    tensors = {name: wg.tensor(0.0) for name in views}
    for name, t in tensors.items():
        t.data = views[name]
        registry.add(t)
    for written in (base[2, 3:5], base[5, 1], base[7, 1::2], base[0, :3], base[6]):
        found = {name for name, t in tensors.items() if any(t is f for f in
                                                          registry.changed_by(written))}
        assert found == {name for name, v in views.items() if np.shares_memory(v, written)}
    del tensors["row 2"], t
    changed = registry.changed_by(base[2])  # row 2 is gone: column 3 and the transpose stay
    assert len(changed) == 2
    assert changed[0] is tensors["column 3"] and changed[1] is tensors["transpose"]
    for i in range(40):  # many dead views: the registry drops them instead of growing
        registry.add(wg.tensor(np.zeros(1)))
    assert len(registry.refs) <= 16
