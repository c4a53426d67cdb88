"""wengert.autograd.Function against torch.autograd.Function: the same classic custom Functions
are defined for both libraries (each builder takes the library module), run in float64, and
their values, gradients (first and second order), JVPs and errors are compared."""
import gc
import weakref

import numpy as np
import pytest

import wengert as wg
from wengert.autograd import forward_ad as wg_fwad
from wengert.autograd.function import once_differentiable

# torch's forward-mode decompositions are compiled with torch.jit.script on first use
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

X = np.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
W = np.array([[0.5, -0.3, 0.9], [-1.1, 0.4, 0.2], [0.7, 0.6, -0.8], [0.05, -0.9, 0.3]])
B = np.array([0.1, -0.2, 0.3, 0.4])
V = np.array([0.2, -1.4, 0.9, 2.5, -0.1])


def _once(lib):
    if lib is wg:
        return once_differentiable
    from torch.autograd.function import once_differentiable as torch_once
    return torch_once


# --- the classic Functions, written once for both libraries ---------------------------------
def exp_fn(lib, once=False):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            ctx.save_for_forward(result)  # what jvp's ctx.saved_tensors gives
            return result

        @staticmethod
        def backward(ctx, grad_output):
            result, = ctx.saved_tensors
            return grad_output * result

        @staticmethod
        def jvp(ctx, x_t):
            result, = ctx.saved_tensors
            return x_t * result

    if once:
        Exp.backward = staticmethod(_once(lib)(Exp.backward))
    return Exp


def linear_fn(lib, seen=None):
    class Linear(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None):
            ctx.save_for_backward(input, weight, bias)
            ctx.save_for_forward(input, weight, bias)
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            if seen is not None:
                seen.append(tuple(ctx.needs_input_grad))
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

        @staticmethod
        def jvp(ctx, input_t, weight_t, bias_t=None):
            input, weight, bias = ctx.saved_tensors
            out = input_t.mm(weight.t()) + input.mm(weight_t.t())
            return out if bias_t is None else out + bias_t
    return Linear


def clamp_fn(lib, seen):
    """A clamp that also returns the index of its largest output (not differentiable)."""
    class ClampArgmax(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, low, high):
            y = x.clamp(low, high)
            index = y.argmax()
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward((x > low) & (x < high))
            return y, index

        @staticmethod
        def backward(ctx, grad_y, grad_index):
            inside, = ctx.saved_tensors
            seen.append(grad_index)
            return grad_y * inside, None, None
    return ClampArgmax


def scale_fn(lib):
    """x *= k in place, marked dirty."""
    class Scale_(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            x.mul_(k)
            ctx.mark_dirty(x)
            ctx.k = k
            return x

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output * ctx.k, None

        @staticmethod
        def jvp(ctx, x_t, k_t):
            x_t.mul_(ctx.k)  # the tangent of an input modified in place, in place (torch's rule)
            return x_t
    return Scale_


def sincos_fn(lib, seen=None, materialize=True):
    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            x, = ctx.saved_tensors
            if seen is not None:
                seen.append((grad_sin is None, grad_cos is None))
            grad = lib.zeros_like(x)
            if grad_sin is not None:
                grad = grad + grad_sin * x.cos()
            if grad_cos is not None:
                grad = grad - grad_cos * x.sin()
            return grad

        @staticmethod
        def jvp(ctx, x_t):
            x, = ctx.saved_tensors
            return x_t * x.cos(), -x_t * x.sin()
    return SinCos


def sincos_saving_outputs_fn(lib):
    class SinCosOut(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            s, c = x.sin(), x.cos()
            ctx.save_for_backward(s, c)
            return s, c

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            s, c = ctx.saved_tensors
            return grad_sin * c - grad_cos * s
    return SinCosOut


def x_only_fn(lib):
    """x * y whose backward sends y no gradient (None), as a straight-through estimator's."""
    class XOnly(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(y)
            return x * y

        @staticmethod
        def backward(ctx, grad_output):
            y, = ctx.saved_tensors
            return grad_output * y, None
    return XOnly


def _pair(torch, data, requires_grad=True):
    return (wg.tensor(np.array(data, dtype=np.float64), requires_grad=requires_grad),
            torch.tensor(np.array(data, dtype=np.float64), requires_grad=requires_grad))


def _close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours.data if isinstance(ours, wg.Tensor) else ours),
                               theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


# --- values and gradients ----------------------------------------------------------------------
def test_exp_saving_its_output_first_and_second_order(torch_mod):
    x, tx = _pair(torch_mod, V)
    y, ty = exp_fn(wg).apply(x), exp_fn(torch_mod).apply(tx)
    _close(y, ty)
    assert y.grad_fn is not None and y.requires_grad
    g, = wg.autograd.grad((y * y).sum(), x, create_graph=True)
    tg, = torch_mod.autograd.grad((ty * ty).sum(), tx, create_graph=True)
    _close(g, tg)
    gg, = wg.autograd.grad(g.sum(), x)
    tgg, = torch_mod.autograd.grad(tg.sum(), tx)
    _close(gg, tgg)  # 4 exp(2x): the backward (dy * y) is differentiated through y's node


@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_layer_gradients_and_needs_input_grad(torch_mod, with_bias):
    seen, tseen = [], []
    x, tx = _pair(torch_mod, X)
    w, tw = _pair(torch_mod, W, requires_grad=False)  # a frozen weight
    b, tb = _pair(torch_mod, B) if with_bias else (None, None)
    out = linear_fn(wg, seen).apply(x, w, b)
    tout = linear_fn(torch_mod, tseen).apply(tx, tw, tb)
    _close(out, tout)
    (out.tanh() * 3).sum().backward()
    (tout.tanh() * 3).sum().backward()
    _close(x.grad, tx.grad)
    assert w.grad is None and tw.grad is None
    if with_bias:
        _close(b.grad, tb.grad)
    assert seen == tseen == [(True, False, True) if with_bias else (True, False, False)]


def test_linear_layer_second_order(torch_mod):
    (x, tx), (w, tw), (b, tb) = (_pair(torch_mod, a) for a in (X, W, B))
    out, tout = linear_fn(wg).apply(x, w, b), linear_fn(torch_mod).apply(tx, tw, tb)
    gx, gw = wg.autograd.grad((out ** 3).sum(), [x, w], create_graph=True)
    tgx, tgw = torch_mod.autograd.grad((tout ** 3).sum(), [tx, tw], create_graph=True)
    _close(gx, tgx)
    _close(gw, tgw)
    second = wg.autograd.grad((gx * gx).sum() + gw.sum(), [x, w, b])
    tsecond = torch_mod.autograd.grad((tgx * tgx).sum() + tgw.sum(), [tx, tw, tb])
    for ours, theirs in zip(second, tsecond):
        _close(ours, theirs)


def test_clamp_with_a_non_differentiable_index_output(torch_mod):
    seen, tseen = [], []
    x, tx = _pair(torch_mod, V)
    y, index = clamp_fn(wg, seen).apply(x, -1.0, 1.0)
    ty, tindex = clamp_fn(torch_mod, tseen).apply(tx, -1.0, 1.0)
    _close(y, ty)
    assert int(index.item()) == int(tindex.item())
    assert (y.requires_grad, index.requires_grad) == (ty.requires_grad, tindex.requires_grad) \
        == (True, False)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(x.grad, tx.grad)
    # the index output's gradient is materialized as zeros of its (integer) dtype
    (g,), (tg,) = seen, tseen
    assert g.shape == tuple(tg.shape) == () and g.dtype.kind == "i" and g.item() == tg.item() == 0


def test_in_place_op_marked_dirty(torch_mod):
    x, tx = _pair(torch_mod, V)
    h, th = x * 2, tx * 2
    out, tout = scale_fn(wg).apply(h, 3.0), scale_fn(torch_mod).apply(th, 3.0)
    assert out is h and tout is th  # the input itself, rebased onto the Function's node
    assert h.version == th._version == 2  # the write in forward, and mark_dirty's
    _close(h, th)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _close(x.grad, tx.grad)  # d/dx (6x)^2 = 72 x


def test_in_place_op_into_a_view(torch_mod):
    x, tx = _pair(torch_mod, V)
    h, th = x * 2, tx * 2
    scale_fn(wg).apply(h[1:3], 3.0)
    scale_fn(torch_mod).apply(th[1:3], 3.0)
    _close(h, th)
    (h * h).sum().backward()
    (th * th).sum().backward()
    _close(x.grad, tx.grad)


def test_dirty_input_invalidates_what_saved_it_before(torch_mod):
    for lib, make in ((wg, lambda: wg.tensor(V, requires_grad=True)),
                      (torch_mod, lambda: torch_mod.tensor(V, requires_grad=True))):
        x = make()
        h = x * 1
        y = h * h  # saves h
        scale_fn(lib).apply(h, 3.0)
        with pytest.raises(RuntimeError, match="modified"):
            y.sum().backward()


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("used", ["sin", "cos", "both"])
def test_two_outputs_and_the_gradients_backward_receives(torch_mod, used, materialize):
    seen, tseen = [], []
    x, tx = _pair(torch_mod, V)
    s, c = sincos_fn(wg, seen, materialize).apply(x)
    ts, tc = sincos_fn(torch_mod, tseen, materialize).apply(tx)
    _close(s, ts)
    _close(c, tc)
    pick = {"sin": lambda a, b: a.sum(), "cos": lambda a, b: (b * b).sum(),
            "both": lambda a, b: (a * b).sum() + b.sum()}[used]
    pick(s, c).backward()
    pick(ts, tc).backward()
    _close(x.grad, tx.grad)
    assert seen == tseen  # one call, None exactly where torch passes None


def test_two_outputs_second_order(torch_mod):
    x, tx = _pair(torch_mod, V)
    s, c = sincos_fn(wg).apply(x)
    ts, tc = sincos_fn(torch_mod).apply(tx)
    g, = wg.autograd.grad((s * c * c).sum(), x, create_graph=True)
    tg, = torch_mod.autograd.grad((ts * tc * tc).sum(), tx, create_graph=True)
    _close(g, tg)
    gg, = wg.autograd.grad((g * g).sum(), x)
    tgg, = torch_mod.autograd.grad((tg * tg).sum(), tx)
    _close(gg, tgg)


def test_a_dropped_output_saved_for_backward_is_still_differentiated(torch_mod):
    x, tx = _pair(torch_mod, V)
    s = sincos_saving_outputs_fn(wg).apply(x)[0]  # the cosine output is dropped at once
    ts = sincos_saving_outputs_fn(torch_mod).apply(tx)[0]
    g, = wg.autograd.grad((s * s).sum(), x, create_graph=True)
    tg, = torch_mod.autograd.grad((ts * ts).sum(), tx, create_graph=True)
    _close(g, tg)
    gg, = wg.autograd.grad(g.sum(), x)
    tgg, = torch_mod.autograd.grad(tg.sum(), tx)
    _close(gg, tgg)  # d/dx 2 sin cos through the saved (rebuilt) cosine


def test_used_twice_and_retained_graph(torch_mod):
    x, tx = _pair(torch_mod, V)
    y = exp_fn(wg).apply(x) * exp_fn(wg).apply(x * 2)
    ty = exp_fn(torch_mod).apply(tx) * exp_fn(torch_mod).apply(tx * 2)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    ty.sum().backward(retain_graph=True)
    ty.sum().backward()
    _close(x.grad, tx.grad)
    y, ty = exp_fn(wg).apply(x), exp_fn(torch_mod).apply(tx)
    y.backward(wg.ones(5))
    ty.backward(torch_mod.ones(5))
    with pytest.raises(wg.GraphError, match="'Exp' a second time.*retain_graph=True"):
        y.backward(wg.ones(5))
    with pytest.raises(RuntimeError, match="second time"):
        ty.backward(torch_mod.ones(5))


def test_an_input_returned_as_is(torch_mod):
    def ident(lib):
        class Ident(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3
        return Ident
    x, tx = _pair(torch_mod, V)
    y, ty = ident(wg).apply(x), ident(torch_mod).apply(tx)
    assert y is not x and ty is not tx  # a new tensor over the same data
    assert np.shares_memory(y.data, x.data)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(x.grad, tx.grad)
    # torch refuses a write into y; here it is recorded on the input too: after y += 1,
    # h = 3-through-the-Function(x) + 1, so d/dx of sum(2 h) + sum(y) is 2 * 3 + 3
    x.grad = None
    h = x * 1
    y = ident(wg).apply(h)
    y.add_(1)
    ((h * 2).sum() + y.sum()).backward()
    np.testing.assert_array_equal(x.grad.data, np.full(5, 9.0))


def test_outputs_of_two_dtypes_with_hooks(torch_mod):
    def two(lib):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * 2, b.exp()

            @staticmethod
            def backward(ctx, ga, gb):
                return ga * 2, gb * 3
        return Two
    a = wg.tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    ta = torch_mod.tensor([1.0, -2.0], dtype=torch_mod.float32, requires_grad=True)
    b, tb = _pair(torch_mod, V)
    u, v = two(wg).apply(a, b)
    tu, tv = two(torch_mod).apply(ta, tb)
    assert (str(u.dtype), str(v.dtype)) == ("float32", "float64")
    u.register_hook(lambda g: g * 10)
    tu.register_hook(lambda g: g * 10)
    v.retain_grad()
    tv.retain_grad()
    (u.sum() + (v * v).sum()).backward()
    (tu.sum() + (tv * tv).sum()).backward()
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    _close(b.grad, tb.grad)
    _close(v.grad, tv.grad)


def test_a_node_and_its_saved_output_make_no_cycle():
    x = wg.tensor(V, requires_grad=True)
    gc.disable()
    try:
        y = exp_fn(wg).apply(x)
        h = scale_fn(wg).apply(x * 1, 2.0)  # the output is the input marked dirty
        nodes = [weakref.ref(y.grad_fn), weakref.ref(h.grad_fn)]
        del y, h
        assert [n() for n in nodes] == [None, None]  # freed by reference counting alone
    finally:
        gc.enable()


def test_non_tensor_arguments_and_outputs(torch_mod):
    def affine(lib):
        class Affine(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale, name, shift):
                ctx.scale = scale
                return x * scale + shift, name, None

            @staticmethod
            def backward(ctx, g, g_name, g_none):
                assert g_name is None and g_none is None
                return g * ctx.scale, None, None, g
        return Affine
    x, tx = _pair(torch_mod, V)
    shift, tshift = _pair(torch_mod, [1.0])
    y, name, none = affine(wg).apply(x, 2.5, "tag", shift)
    ty, tname, tnone = affine(torch_mod).apply(tx, 2.5, "tag", tshift)
    assert (name, none) == (tname, tnone) == ("tag", None)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _close(x.grad, tx.grad)
    _close(shift.grad, tshift.grad)  # a gradient of the output's shape, summed to (1,)


def test_setup_context_style_with_keywords_and_defaults(torch_mod):
    def mul(lib):
        class Mul(lib.autograd.Function):
            @staticmethod
            def forward(x, y, k=2.0):
                return x * y * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, y, k = inputs  # the default is filled in
                ctx.save_for_backward(x, y)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                return g * y * ctx.k, g * x * ctx.k, None
        return Mul
    (x, tx), (y, ty) = _pair(torch_mod, V), _pair(torch_mod, V[::-1].copy())
    for call in (lambda M, a, b: M.apply(a, b), lambda M, a, b: M.apply(a, y=b, k=3.0)):
        out, tout = call(mul(wg), x, y), call(mul(torch_mod), tx, ty)
        _close(out, tout)
        out.sum().backward()
        tout.sum().backward()
        _close(x.grad, tx.grad)
        _close(y.grad, ty.grad)


def test_keyword_arguments_become_positional_inputs(torch_mod):
    def scaled(lib, n_grads):
        class Scaled(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale=2.0, *, offset=0.0):
                ctx.scale = scale
                return x * scale

            @staticmethod
            def backward(ctx, g):
                return (g * ctx.scale, None)[:n_grads]
        return Scaled
    x, tx = _pair(torch_mod, V)
    # without the keyword, forward has one input; with it, two (as torch counts them)
    scaled(wg, 1).apply(x).sum().backward()
    scaled(torch_mod, 1).apply(tx).sum().backward()
    scaled(wg, 2).apply(x, scale=3.0).sum().backward()
    scaled(torch_mod, 2).apply(tx, scale=3.0).sum().backward()
    _close(x.grad, tx.grad)
    with pytest.raises(wg.GraphError, match="'Scaled': backward returned 1 gradients, "
                                            "expected 2"):
        scaled(wg, 1).apply(x, scale=3.0).sum().backward()
    with pytest.raises(RuntimeError, match="expected 2, got 1"):
        scaled(torch_mod, 1).apply(tx, scale=3.0).sum().backward()
    with pytest.raises(TypeError, match="unexpected keyword argument 'offset'"):
        scaled(wg, 1).apply(x, offset=1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'offset'"):
        scaled(torch_mod, 1).apply(tx, offset=1.0)


def test_nothing_recorded_without_grad(torch_mod):
    seen = []
    x, tx = _pair(torch_mod, X)
    w, tw = _pair(torch_mod, W)
    with wg.no_grad():
        out = linear_fn(wg, seen).apply(x, w)
    with torch_mod.no_grad():
        tout = linear_fn(torch_mod).apply(tx, tw)
    assert out.requires_grad is tout.requires_grad is False
    assert out.grad_fn is None
    _close(out, tout)


# --- forward mode ------------------------------------------------------------------------------
def test_jvp_through_dual_numbers(torch_mod):
    import torch.autograd.forward_ad as fwad
    x, tx = _pair(torch_mod, V, requires_grad=False)
    t, tt = _pair(torch_mod, np.linspace(-1, 1, 5), requires_grad=False)
    with wg_fwad.dual_level():
        s, c = sincos_fn(wg).apply(wg_fwad.make_dual(x, t))
        ours = [wg_fwad.unpack_dual(o).tangent for o in (s, c, exp_fn(wg).apply(s))]
    with fwad.dual_level():
        ts, tc = sincos_fn(torch_mod).apply(fwad.make_dual(tx, tt))
        theirs = [fwad.unpack_dual(o).tangent for o in (ts, tc, exp_fn(torch_mod).apply(ts))]
    for a, b in zip(ours, theirs):
        _close(a, b)


def test_jvp_of_an_in_place_function_and_of_several_inputs(torch_mod):
    import torch.autograd.forward_ad as fwad
    (x, tx), (w, tw) = (_pair(torch_mod, a, requires_grad=False) for a in (X, W))
    xt, txt = _pair(torch_mod, np.ones_like(X), requires_grad=False)
    with wg_fwad.dual_level():
        out = linear_fn(wg).apply(wg_fwad.make_dual(x, xt), w)
        h = wg_fwad.make_dual(x * 1, xt)
        scaled = scale_fn(wg).apply(h, 3.0)
        ours = [wg_fwad.unpack_dual(out).tangent, wg_fwad.unpack_dual(scaled).tangent]
        assert scaled is h
    with fwad.dual_level():
        tout = linear_fn(torch_mod).apply(fwad.make_dual(tx, txt), tw)
        tscaled = scale_fn(torch_mod).apply(fwad.make_dual(tx * 1, txt), 3.0)
        theirs = [fwad.unpack_dual(tout).tangent, fwad.unpack_dual(tscaled).tangent]
    for a, b in zip(ours, theirs):
        _close(a, b)


def test_transforms_through_a_function():
    x = wg.tensor(V)
    sincos = sincos_fn(wg)

    def f(t):
        s, c = sincos.apply(t)
        return (s * c).sum()
    _, tangent = wg.jvp(lambda t: sincos.apply(t)[0], (x,), (wg.ones(5),))
    np.testing.assert_allclose(tangent.data, np.cos(V), rtol=1e-12)
    np.testing.assert_allclose(wg.jacfwd(f)(x).data, np.cos(2 * V), rtol=1e-12)
    hvp, = wg.hvp(f, (x,), (wg.ones(5),))  # forward-over-reverse: jvp and backward together
    np.testing.assert_allclose(hvp.data, -2 * np.sin(2 * V), rtol=1e-12)
    np.testing.assert_allclose(wg.hessian(f)(x).data, np.diag(-2 * np.sin(2 * V)), atol=1e-12)


def test_wengert_gradcheck_second_order_in_both_modes():
    sincos, lin = sincos_fn(wg), linear_fn(wg)
    assert wg.check.gradcheck(lambda t: sincos.apply(t), (V,), order=2)
    assert wg.check.gradcheck(lambda a, b, c: lin.apply(a, b, c), (X, W, B), order=2)
    assert wg.check.gradcheck(lambda t: scale_fn(wg).apply(t * 1, 3.0), (V,), order=2)


# --- the torch-named checkers and modes ----------------------------------------------------------
def bad_square(lib):
    class BadSquare(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * x  # the factor 2 is missing
    return BadSquare


def test_gradcheck_and_gradgradcheck_agree_with_torch(torch_mod):
    (x, tx), (w, tw), (b, tb) = (_pair(torch_mod, a) for a in (X, W, B))
    for lib, args in ((wg, (x, w, b)), (torch_mod, (tx, tw, tb))):
        check = lib.autograd
        assert check.gradcheck(linear_fn(lib).apply, args) is True
        assert check.gradcheck(linear_fn(lib).apply, args, check_forward_ad=True) is True
        assert check.gradgradcheck(linear_fn(lib).apply, args) is True
        assert check.gradcheck(exp_fn(lib).apply, args[2]) is True  # a single tensor
        assert check.gradcheck(bad_square(lib).apply, args[2], raise_exception=False) is False
        # a once-differentiable backward passes the first check and fails the second
        assert check.gradcheck(exp_fn(lib, once=True).apply, (args[2],)) is True
        assert check.gradgradcheck(exp_fn(lib, once=True).apply, (args[2],),
                                   raise_exception=False) is False
    with pytest.raises(wg.GradcheckError, match="FAILED"):
        wg.autograd.gradcheck(bad_square(wg).apply, (b,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        torch_mod.autograd.gradcheck(bad_square(torch_mod).apply, (tb,))


def half_wrong(lib):
    class HalfWrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a.mm(b.t())

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g.mm(b), g.t().mm(a) * 0  # wrong for b alone
    return HalfWrong


def test_gradcheck_differentiates_only_what_requires_grad(torch_mod):
    (x, tx), (w, tw) = _pair(torch_mod, X), _pair(torch_mod, W, requires_grad=False)
    for lib, a, b in ((wg, x, w), (torch_mod, tx, tw)):
        assert lib.autograd.gradcheck(half_wrong(lib).apply, (a, b)) is True
        assert lib.autograd.gradcheck(half_wrong(lib).apply, (a, b.detach().requires_grad_()),
                                      raise_exception=False) is False
    with pytest.raises(wg.ArgumentError, match="at least one input tensor to require"):
        wg.autograd.gradcheck(half_wrong(wg).apply, (x.detach(), w))
    with pytest.raises(ValueError, match="at least one input tensor to require"):
        torch_mod.autograd.gradcheck(half_wrong(torch_mod).apply, (tx.detach(), tw))


def test_gradgradcheck_with_given_grad_outputs(torch_mod):
    x, tx = _pair(torch_mod, V)
    go, tgo = _pair(torch_mod, np.linspace(-1, 1, 5), requires_grad=False)
    assert wg.autograd.gradgradcheck(exp_fn(wg).apply, (x,), (go,)) is True
    assert torch_mod.autograd.gradgradcheck(exp_fn(torch_mod).apply, (tx,), (tgo,)) is True


def test_inference_mode_matches_torch(torch_mod):
    x, tx = _pair(torch_mod, V)
    seen = []
    for lib, t in ((wg, x), (torch_mod, tx)):
        with lib.autograd.inference_mode():
            inside = (lib.is_grad_enabled(), (t * 2).requires_grad)
            with lib.autograd.inference_mode(False):
                reenabled = lib.is_grad_enabled()

        @lib.autograd.inference_mode
        def bare():
            return lib.is_grad_enabled()

        @lib.autograd.inference_mode(mode=False)
        def off():
            return lib.is_grad_enabled()
        with lib.no_grad():
            under_no_grad = off()
        seen.append((inside, reenabled, bare(), under_no_grad, lib.is_grad_enabled()))
    assert seen[0] == seen[1] == ((False, False), True, False, True, True)


def test_set_detect_anomaly_matches_torch(torch_mod):
    for lib in (wg, torch_mod):
        lib.autograd.set_detect_anomaly(True)  # a statement switches it at once
        on = lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)
        with lib.autograd.set_detect_anomaly(True):
            inside = lib.is_anomaly_enabled()
        assert (on, inside, lib.is_anomaly_enabled()) == (True, True, False)
    with wg.autograd.set_detect_anomaly(True):
        with pytest.raises(wg.AnomalyError, match="'log' produced a non-finite"):
            exp_fn(wg).apply(wg.tensor([-1.0], requires_grad=True)).log().log()
    assert not wg.is_anomaly_enabled()


# --- a None gradient from backward: no gradient along that edge, as torch's ------------------
def _x_and_y(torch):
    """(library, x, y) for wengert and torch, x = X[0] and y = V[:3] as leaves."""
    (x, tx), (y, ty) = _pair(torch, X[0]), _pair(torch, V[:3])
    return [(wg, x, y), (torch, tx, ty)]


@pytest.mark.parametrize("non_leaf", [False, True])
def test_a_none_gradient_leaves_the_input_without_grad(torch_mod, non_leaf):
    grads = []
    for lib, x, y in _x_and_y(torch_mod):
        z = y * 3 if non_leaf else y  # through a non-leaf, nothing reaches y either
        (x_only_fn(lib).apply(x, z) ** 2).sum().backward()
        assert y.grad is None
        grads.append(x.grad)
    _close(*grads)


def test_a_none_gradient_in_autograd_grad_allow_unused(torch_mod):
    unused = {wg: r"input 1 \(shape \(3,\)\) was not used",
              torch_mod: "appears to not have been used in the graph"}
    results = []
    for lib, x, y in _x_and_y(torch_mod):
        out = x_only_fn(lib).apply(x, y).sum()
        gx, gy = lib.autograd.grad(out, [x, y], allow_unused=True, retain_graph=True)
        assert gy is None
        results.append(gx)
        with pytest.raises(RuntimeError, match=unused[lib]):
            lib.autograd.grad(out, [x, y], allow_unused=False)
    _close(*results)
    # materialize_grads turns the None into zeros, as torch's
    x, y = _x_and_y(torch_mod)[0][1:]
    _, gy = wg.autograd.grad(x_only_fn(wg).apply(x, y).sum(), [x, y], materialize_grads=True)
    np.testing.assert_array_equal(gy.data, np.zeros(3))


@pytest.mark.parametrize("non_leaf", [False, True])
def test_a_none_gradient_and_a_second_path(torch_mod, non_leaf):
    # y's gradient is the y * y path's alone: 2 y (times 3 through z = y * 3)
    grads = []
    for lib, x, y in _x_and_y(torch_mod):
        z = y * 3 if non_leaf else y
        (x_only_fn(lib).apply(x, z).sum() + (z * z).sum()).backward()
        grads.append((x.grad, y.grad))
    (gx, gy), (tgx, tgy) = grads
    _close(gx, tgx)
    _close(gy, tgy)
    np.testing.assert_allclose(gy.data, (18 if non_leaf else 2) * V[:3], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_a_none_gradient_under_create_graph(torch_mod):
    results = []
    for (lib, x, y), (_, x2, y2) in zip(_x_and_y(torch_mod), _x_and_y(torch_mod)):
        f = x_only_fn(lib).apply(x, y)
        gx, gy = lib.autograd.grad(f.sum(), [x, y], create_graph=True, allow_unused=True)
        assert gy is None and gx.requires_grad
        # with a second path: gx = 2 x y^2 (backward's g * y, recorded), gy = 3 y^2 alone
        f = x_only_fn(lib).apply(x, y)
        gx, gy = lib.autograd.grad((f ** 2).sum() + (y ** 3).sum(), [x, y], create_graph=True)
        second = lib.autograd.grad(gx.sum() + gy.sum(), [x, y])
        (x_only_fn(lib).apply(x2, y2) ** 2).sum().backward(create_graph=True)
        assert y2.grad is None and x2.grad.requires_grad
        results.append((gx, gy, *second, x2.grad))
    for ours, theirs in zip(*results):
        _close(ours, theirs)
    np.testing.assert_allclose(results[0][1].data, 3 * V[:3] ** 2, rtol=1e-12)


# --- errors, next to torch raising ---------------------------------------------------------------
def _function(lib, backward, forward=lambda ctx, x: x * 2, jvp=None):
    attrs = {"forward": staticmethod(forward), "backward": staticmethod(backward)}
    if jvp is not None:
        attrs["jvp"] = staticmethod(jvp)
    return type("Faulty", (lib.autograd.Function,), attrs)


def _too_many(lib, x):
    _function(lib, lambda ctx, g: (g, g)).apply(x).sum().backward()


def _too_few(lib, x):
    _function(lib, lambda ctx, g: g, lambda ctx, x, y: x * y).apply(x, x).sum().backward()


def _wrong_shape(lib, x):
    _function(lib, lambda ctx, g: lib.ones(7)).apply(x).sum().backward()


def _scalar_for_a_vector(lib, x):
    _function(lib, lambda ctx, g: g, lambda ctx, x: x.sum()).apply(x).backward()


def _grad_for_a_number(lib, x):
    _function(lib, lambda ctx, g: (g, g), lambda ctx, x, k: x * k).apply(x, 2.0).sum().backward()


def _not_a_tensor(lib, x):
    _function(lib, lambda ctx, g: 2.0).apply(x).sum().backward()


def _saved_then_modified(lib, x):
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2
    h = x * 1
    out = _function(lib, lambda ctx, g: g * ctx.saved_tensors[0], forward).apply(h)
    h.add_(1)
    out.sum().backward()


def _saved_output_then_modified(lib, x):
    y = exp_fn(lib).apply(x)
    y.mul_(2)
    y.sum().backward()


def _no_backward(lib, x):
    type("Faulty", (lib.autograd.Function,), {
        "forward": staticmethod(lambda ctx, x: x * 2)}).apply(x).sum().backward()


def _no_jvp(lib, x):
    fwad = wg_fwad if lib is wg else __import__("torch.autograd.forward_ad").autograd.forward_ad
    with fwad.dual_level():
        _function(lib, lambda ctx, g: g).apply(fwad.make_dual(x.detach(), x.detach()))


def _jvp_count(lib, x):
    fwad = wg_fwad if lib is wg else __import__("torch.autograd.forward_ad").autograd.forward_ad
    forward = lambda ctx, x: (x * 2, x * 3)  # noqa: E731
    with fwad.dual_level():
        _function(lib, lambda ctx, g1, g2: g1, forward, lambda ctx, t: t * 2).apply(
            fwad.make_dual(x.detach(), x.detach()))


def _jvp_shape(lib, x):
    fwad = wg_fwad if lib is wg else __import__("torch.autograd.forward_ad").autograd.forward_ad
    with fwad.dual_level():
        _function(lib, lambda ctx, g: g, jvp=lambda ctx, t: lib.ones(7)).apply(
            fwad.make_dual(x.detach(), x.detach()))


def _dirty_not_returned(lib, x):
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x * 3
    _function(lib, lambda ctx, g: g, forward).apply(x * 1)


def _dirty_leaf(lib, x):
    scale_fn(lib).apply(x, 2.0)


def _save_a_number(lib, x):
    def forward(ctx, x):
        ctx.save_for_backward(x, 3)
        return x * 2
    _function(lib, lambda ctx, g: g, forward).apply(x)


def _twice_once_differentiable(lib, x):
    y = exp_fn(lib, once=True).apply(x)
    seed = lib.ones(5, dtype=lib.float64, requires_grad=True)
    g, = lib.autograd.grad(y, x, seed, create_graph=True)
    g.sum().backward()


ERRORS = [  # trigger, wengert's error, its message, torch's error, its message
    (_too_many, wg.GraphError, r"'Faulty': backward returned 2 gradients, expected 1",
     RuntimeError, "incorrect number of gradients"),
    (_too_few, wg.GraphError, r"'Faulty': backward returned 1 gradients, expected 2",
     RuntimeError, "incorrect number of gradients"),
    (_wrong_shape, wg.ShapeError, r"'Faulty': .*shape \(7,\) for input 0 of shape \(5,\)",
     RuntimeError, "invalid gradient at index 0"),
    (_scalar_for_a_vector, wg.ShapeError, r"'Faulty': .*shape \(\) for input 0 of shape \(5,\)",
     RuntimeError, "invalid gradient at index 0"),
    (_grad_for_a_number, wg.GraphError, r"'Faulty': .*gradient for input 1, which is not a "
     r"Tensor", RuntimeError, "forward input was not a Variable"),
    (_not_a_tensor, wg.GraphError, r"'Faulty': backward returned a float for input 0",
     RuntimeError, r"expected Variable or None \(got float\)"),
    (_saved_then_modified, wg.GraphError, r"'Faulty': a tensor it saved .*\(5,\) float64.* "
     r"version 1, expected version 0", RuntimeError, "modified by an inplace operation"),
    (_saved_output_then_modified, wg.GraphError, r"'Exp': a tensor it saved .*version 1, "
     "expected version 0", RuntimeError, "output 0 of Exp, is at version 1"),
    (_no_backward, wg.GraphError, r"'Faulty' does not implement backward",
     NotImplementedError, "implement either the backward or vjp"),
    (_no_jvp, wg.GraphError, r"'Faulty' does not implement jvp.*forward mode",
     NotImplementedError, "implement the jvp function"),
    (_jvp_count, wg.GraphError, r"'Faulty': jvp returned 1 tangents, expected 2",
     RuntimeError, "invalid number of forward gradients"),
    (_jvp_shape, wg.ShapeError, r"'Faulty': jvp returned a tangent of shape \(7,\) for output 0 "
     r"of shape \(5,\)", RuntimeError, "different size"),
    (_dirty_not_returned, wg.GraphError, r"'Faulty': a tensor marked dirty \(shape \(5,\)\) is "
     "not among forward's outputs", RuntimeError, "marked as dirty.*not returned"),
    (_dirty_leaf, wg.GraphError, r"leaf tensor of shape \(5,\) that requires grad is used in "
     r"autograd.Function 'Scale_'", RuntimeError, "leaf Variable that requires grad"),
    (_save_a_number, TypeError, r"save_for_backward can only save tensors.*argument 1 is of "
     "type int", TypeError, "argument 1 is of type int"),
    (_twice_once_differentiable, wg.GraphError, r"differentiate twice the backward of "
     r"autograd.Function 'Exp', which is marked @once_differentiable", RuntimeError,
     "differentiate twice a function that was marked with @once_differentiable"),
]


@pytest.mark.parametrize("trigger, ours, message, theirs, their_message", ERRORS,
                         ids=[e[0].__name__.strip("_") for e in ERRORS])
def test_errors_next_to_torch(torch_mod, trigger, ours, message, theirs, their_message):
    x, tx = _pair(torch_mod, V)
    with pytest.raises(ours, match=message):
        trigger(wg, x)
    with pytest.raises(theirs, match=their_message):
        trigger(torch_mod, tx)


def test_once_differentiable_first_order_under_create_graph(torch_mod):
    x, tx = _pair(torch_mod, V)
    g, = wg.autograd.grad(exp_fn(wg, once=True).apply(x).sum(), x, create_graph=True)
    tg, = torch_mod.autograd.grad(exp_fn(torch_mod, once=True).apply(tx).sum(), tx,
                                  create_graph=True)
    _close(g, tg)
    assert g.requires_grad is tg.requires_grad is False  # the seed needs no gradient


def test_both_backward_and_vjp_or_neither_forward():
    class Both(wg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g

        vjp = backward
    with pytest.raises(wg.GraphError, match="'Both' implements both backward and vjp"):
        Both.apply(wg.tensor(V, requires_grad=True)).sum().backward()

    class VjpOnly(wg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            return g * 2
    x = wg.tensor(V, requires_grad=True)
    VjpOnly.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(5, 2.0))
    with pytest.raises(wg.GraphError, match="'Nothing' does not implement forward"):
        type("Nothing", (wg.autograd.Function,), {}).apply(x)
