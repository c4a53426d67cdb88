"""The functional transforms: agreement with torch.func, SEED item 20, nesting, trees of
arguments, and the errors for bad input."""
import numpy as np
import pytest

import wengert as wg
from wengert.errors import ArgumentError, DTypeError, ShapeError
from wengert.functional import (grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp,
                                value_and_grad, vjp)

# name -> (wengert function, torch function, input shapes); every function is smooth at the
# random points used, and written once per library with the same formula.
SCALAR = {
    "poly": (lambda x: (x ** 3 - 2 * x).sum(), lambda t, x: (x ** 3 - 2 * x).sum(), [(5,)]),
    "logsumexp": (lambda x: wg.logsumexp(x), lambda t, x: t.logsumexp(x, 0), [(6,)]),
    "tanh_mlp": (lambda x, w: wg.tanh(x @ w).sum(), lambda t, x, w: t.tanh(x @ w).sum(),
                 [(3, 4), (4, 2)]),
    "softmax_ce": (lambda x: -wg.log_softmax(x, axis=-1)[..., 0].sum(),
                   lambda t, x: -t.log_softmax(x, -1)[..., 0].sum(), [(3, 4)]),
    "mixed": (lambda x, y: (wg.sin(x) * wg.exp(y) / (1 + x * x)).mean(),
              lambda t, x, y: (t.sin(x) * t.exp(y) / (1 + x * x)).mean(), [(4,), (4,)]),
}
VECTOR = {
    "elementwise": (lambda x: wg.sigmoid(x) * x, lambda t, x: t.sigmoid(x) * x, [(4,)]),
    "matvec": (lambda w, x: w @ wg.tanh(x), lambda t, w, x: w @ t.tanh(x), [(3, 5), (5,)]),
    "outer_sum": (lambda x: (x[:, None] * x[None, :]).sum(axis=0) + wg.softplus(x),
                  lambda t, x: (x[:, None] * x[None, :]).sum(0) + t.nn.functional.softplus(x),
                  [(4,)]),
}


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _torch(torch, arrays):
    return [torch.tensor(a) for a in arrays]


def _close(ours, theirs, **kw):
    np.testing.assert_allclose(np.asarray(ours.data), theirs.detach().numpy(), rtol=1e-9,
                               atol=1e-11, **kw)


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_grad_and_hessian_agree_with_torch_func(torch_mod, name):
    f, tf, shapes = SCALAR[name]
    xs = _inputs(shapes)
    nums = tuple(range(len(xs)))
    ours = grad(f, argnums=nums)(*xs)
    theirs = torch_mod.func.grad(lambda *a: tf(torch_mod, *a), argnums=nums)(
        *_torch(torch_mod, xs))
    for a, b in zip(ours, theirs):
        _close(a, b)
    h_ours = hessian(f)(*xs)
    h_theirs = torch_mod.func.hessian(lambda *a: tf(torch_mod, *a))(*_torch(torch_mod, xs))
    _close(h_ours, h_theirs)


@pytest.mark.parametrize("name", sorted({**SCALAR, **VECTOR}))
def test_vjp_jvp_and_jacobians_agree_with_torch_func(torch_mod, name):
    f, tf, shapes = {**SCALAR, **VECTOR}[name]
    xs = _inputs(shapes)
    txs = _torch(torch_mod, xs)
    tfun = lambda *a: tf(torch_mod, *a)  # noqa: E731
    out, vjp_fn = vjp(f, *xs)
    t_out, t_vjp_fn = torch_mod.func.vjp(tfun, *txs)
    _close(out, t_out)
    cot = np.random.default_rng(1).standard_normal(out.shape)
    for a, b in zip(vjp_fn(cot), t_vjp_fn(torch_mod.tensor(cot))):
        _close(a, b)
    tangents = _inputs(shapes, seed=2)
    out, tangent = jvp(f, tuple(xs), tuple(tangents))
    t_out, t_tangent = torch_mod.func.jvp(tfun, tuple(txs), tuple(_torch(torch_mod, tangents)))
    _close(out, t_out)
    _close(tangent, t_tangent)
    nums = tuple(range(len(xs)))
    t_jac = torch_mod.func.jacrev(tfun, argnums=nums)(*txs)
    for transform in (jacrev, jacfwd):
        for a, b in zip(transform(f, argnums=nums)(*xs), t_jac):
            _close(a, b)
    for a, b in zip(torch_mod.func.jacfwd(tfun, argnums=nums)(*txs), t_jac):
        _close(b, a)  # the oracle agrees with itself: the shapes line up as ours do


def test_hvp_is_half_a_plus_a_transpose_times_v_without_the_hessian():
    # SEED-EXAMPLES item 20: f(x) = 1/2 x^T A x + b^T x has H v = 1/2 (A + A^T) v exactly.
    rng = np.random.default_rng(0)
    n = 300
    A, b, x, v = rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n), \
        rng.standard_normal(n)
    calls = []

    def f(x):
        calls.append(1)
        return 0.5 * (x @ (A @ x)) + b @ x

    (hv,) = hvp(f, (x,), (v,))
    np.testing.assert_allclose(hv.data, 0.5 * (A + A.T) @ v, rtol=1e-10, atol=1e-10)
    # One evaluation of f: forward-over-reverse. Forming H (jacfwd) would evaluate it n times.
    assert len(calls) == 1


def test_jacfwd_takes_one_pass_per_input_and_jacrev_one_evaluation():
    calls = []

    def f(x):
        calls.append(1)
        return wg.concatenate([x * x, wg.sin(x), x[:1] * x[1:2]])

    x = np.array([0.5, -1.0, 2.0])
    j_fwd = jacfwd(f)(x)
    assert len(calls) == 3
    calls.clear()
    j_rev = jacrev(f)(x)
    assert len(calls) == 1
    by_hand = np.vstack([np.diag(2 * x), np.diag(np.cos(x)), [[x[1], x[0], 0]]])
    np.testing.assert_allclose(j_fwd.data, by_hand, rtol=1e-12)
    np.testing.assert_allclose(j_rev.data, by_hand, rtol=1e-12)
    np.testing.assert_allclose(jacobian(f, mode="forward")(x).data, by_hand, rtol=1e-12)


def test_jacobians_of_inputs_with_no_elements_have_torch_func_shapes():
    torch = pytest.importorskip("torch")
    from torch.func import jacfwd as torch_jacfwd

    x = np.zeros((0, 3))
    expected = tuple(torch_jacfwd(lambda t: t * 2)(torch.from_numpy(x)).shape)
    # f still runs on Tensors: there is nothing to seed, but f may use Tensor methods
    for transform in (jacfwd, jacrev):
        assert transform(lambda t: (t * 2).reshape(0, 3))(x).shape == expected


def test_nested_transforms_by_hand():
    cube = lambda x: x ** 3  # noqa: E731
    x = np.array(1.5)
    assert grad(cube)(x).item() == pytest.approx(3 * 1.5 ** 2)
    assert grad(grad(cube))(x).item() == pytest.approx(6 * 1.5)
    assert grad(grad(grad(cube)))(x).item() == pytest.approx(6.0)
    # forward over reverse and forward over forward
    _, t = jvp(grad(cube), (x,), (np.array(2.0),))
    assert t.item() == pytest.approx(6 * 1.5 * 2.0)
    _, t = jvp(lambda y: jvp(cube, (y,), (np.array(1.0),))[1], (x,), (np.array(1.0),))
    assert t.item() == pytest.approx(6 * 1.5)
    # reverse over forward
    assert grad(lambda y: jvp(cube, (y,), (np.array(1.0),))[1])(x).item() == pytest.approx(9.0)
    # jacfwd(jacrev) and jacrev(jacrev) give the Hessian of sum(x_i^3): diag(6 x)
    v = np.array([1.0, -2.0, 0.5])
    f = lambda x: (x ** 3).sum()  # noqa: E731
    for h in (jacfwd(jacrev(f)), jacrev(jacrev(f)), jacfwd(jacfwd(f)), hessian(f)):
        np.testing.assert_allclose(h(v).data, np.diag(6 * v), rtol=1e-12)


def test_inner_transform_of_a_closure_is_differentiable():
    # d/dx sum_i grad_y (x * y^2)_i at y0 = d/dx sum(2 x y0) = 2 y0
    y0 = np.array([1.0, 2.0, -3.0])
    outer = grad(lambda x: grad(lambda y: (x * y ** 2).sum())(y0).sum())
    np.testing.assert_allclose(outer(np.array([0.3, 0.1, 0.7])).data, 2 * y0)


def test_grad_of_tensor_requiring_grad_can_be_backpropagated():
    x = wg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    g = grad(lambda x: (x ** 3).sum())(x)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)
    with wg.no_grad():  # the fast path: a plain pass, nothing recorded
        assert not grad(lambda x: (x ** 3).sum())(x).requires_grad


def test_dict_and_tuple_arguments(torch_mod):
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    batch = (rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))

    def loss(p, batch):
        x, y = batch
        return ((wg.tanh(x @ p["w"] + p["b"]) - y) ** 2).mean()

    g = grad(loss)(params, batch)
    assert isinstance(g, dict) and set(g) == {"w", "b"}
    t = {k: torch_mod.tensor(v, requires_grad=True) for k, v in params.items()}
    tx, ty = (torch_mod.tensor(a) for a in batch)
    ((torch_mod.tanh(tx @ t["w"] + t["b"]) - ty) ** 2).mean().backward()
    for k in params:
        _close(g[k], t[k].grad)
    value, (gp, gb) = value_and_grad(loss, argnums=(0, 1))(params, batch)
    assert value.item() == pytest.approx(loss(params, batch).item())
    assert isinstance(gb, tuple) and gb[0].shape == (4, 3)
    _close(gp["w"], t["w"].grad)
    # jacobians of trees: output structure outside, input structure inside
    jac = jacrev(lambda p: {"out": p["w"].sum(axis=0) * p["b"]})(params)
    assert set(jac) == {"out"} and set(jac["out"]) == {"w", "b"}
    assert jac["out"]["w"].shape == (2, 3, 2) and jac["out"]["b"].shape == (2, 2)
    np.testing.assert_allclose(jac["out"]["b"].data, np.diag(params["w"].sum(axis=0)))
    jf = jacfwd(lambda p: {"out": p["w"].sum(axis=0) * p["b"]})(params)
    np.testing.assert_allclose(jf["out"]["w"].data, jac["out"]["w"].data, rtol=1e-12)
    # jvp with a tree of tangents
    _, t_out = jvp(lambda p: (p["w"] * 2).sum() + p["b"].sum(), (params,),
                   ({"w": np.ones((3, 2)), "b": np.ones(2)},))
    assert t_out.item() == pytest.approx(2 * 6 + 2)


def test_has_aux():
    f = lambda x: ((x ** 2).sum(), {"norm": x.norm()})  # noqa: E731
    g, aux = grad(f, has_aux=True)(np.array([3.0, 4.0]))
    np.testing.assert_allclose(g.data, [6.0, 8.0])
    assert aux["norm"].item() == pytest.approx(5.0)
    (value, aux), g = value_and_grad(f, has_aux=True)(np.array([3.0, 4.0]))
    assert value.item() == pytest.approx(25.0)
    out, fn, aux = vjp(f, np.array([3.0, 4.0]), has_aux=True)
    np.testing.assert_allclose(fn(np.array(2.0))[0].data, [12.0, 16.0])
    with pytest.raises(ArgumentError, match="pair"):
        grad(lambda x: (x ** 2).sum(), has_aux=True)(np.array([1.0]))


def test_unused_input_has_zero_gradient_and_vjp_fn_can_be_called_again():
    g = grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_allclose(g[1].data, np.zeros(3))
    _, fn = vjp(lambda x: x * x, np.array([1.0, 2.0]))
    first = fn(np.array([1.0, 1.0]))[0].data.copy()
    np.testing.assert_allclose(fn(np.array([1.0, 0.0]))[0].data, [2.0, 0.0])
    np.testing.assert_allclose(first, [2.0, 4.0])


def test_errors_name_the_problem():
    f = lambda x, y: (x * y).sum()  # noqa: E731
    with pytest.raises(ArgumentError, match=r"argnums=2.*2 positional"):
        grad(f, argnums=2)(np.ones(2), np.ones(2))
    with pytest.raises(ArgumentError, match="repeats"):
        grad(f, argnums=(0, 0))(np.ones(2), np.ones(2))
    with pytest.raises(ArgumentError, match="int or a non-empty tuple"):
        grad(f, argnums="x")(np.ones(2), np.ones(2))
    with pytest.raises(ShapeError, match=r"scalar.*shape \(2,\)"):
        grad(lambda x: x * 2)(np.ones(2))
    with pytest.raises(DTypeError, match=r"argument 0 of <lambda> has dtype int64"):
        grad(lambda x: x.sum())(np.array([1, 2]))
    with pytest.raises(DTypeError, match=r"\['w'\].*int64"):
        grad(lambda p: p["w"].sum())({"w": np.array([1, 2])})
    with pytest.raises(DTypeError, match="must return a scalar Tensor, got a float"):
        grad(lambda x: float(x.sum()))(np.ones(2))
    with pytest.raises(ShapeError, match=r"tangents\[0\] has shape \(3,\).*\(2,\)"):
        jvp(lambda x: x * 2, (np.ones(2),), (np.ones(3),))
    with pytest.raises(ArgumentError, match="structure"):
        jvp(lambda x, y: x * y, (np.ones(2), np.ones(2)), (np.ones(2),))
    with pytest.raises(ArgumentError, match="tuples"):
        jvp(lambda x: x, np.ones(2), np.ones(2))
    with pytest.raises(DTypeError, match="tangents"):
        jvp(lambda x: x, (np.ones(2),), (np.array([1, 2]),))
    _, fn = vjp(lambda x: x * 2, np.ones(2))
    with pytest.raises(ShapeError, match="cotangents"):
        fn(np.ones(3))
    with pytest.raises(ArgumentError, match="mode"):
        jacobian(lambda x: x, mode="sideways")


# --- results stay connected to tensors f captures (gradient penalty), aux comes back plain ----

def _penalty_setup(torch):
    rng = np.random.default_rng(3)
    Wn, x, v = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    W = wg.tensor(Wn, requires_grad=True)
    Wt = torch.tensor(Wn, requires_grad=True)
    return W, Wt, x, v


PENALTIES = {
    # name -> (wengert penalty of f closing over W, torch.func penalty of ft closing over Wt)
    "grad": (lambda f, x, v: (grad(f)(x) ** 2).sum(),
             lambda t, ft, x, v: (t.func.grad(ft)(x) ** 2).sum()),
    "value_and_grad": (lambda f, x, v: (lambda vg: vg[0] * (vg[1] ** 2).sum())(
                           value_and_grad(f)(x)),
                       lambda t, ft, x, v: (lambda gv: gv[1] * (gv[0] ** 2).sum())(
                           t.func.grad_and_value(ft)(x))),
    "vjp": (lambda f, x, v: (lambda o, fn: o * (fn(np.array(2.0))[0] ** 2).sum())(*vjp(f, x)),
            lambda t, ft, x, v: (lambda o, fn: o * (fn(t.tensor(2.0))[0] ** 2).sum())(
                *t.func.vjp(ft, x))),
    "jacrev": (lambda f, x, v: (jacrev(grad(f))(x) ** 2).sum(),
               lambda t, ft, x, v: (t.func.jacrev(t.func.grad(ft))(x) ** 2).sum()),
    "hessian": (lambda f, x, v: (hessian(f)(x) ** 2).sum(),
                lambda t, ft, x, v: (t.func.hessian(ft)(x) ** 2).sum()),
    "hvp": (lambda f, x, v: (hvp(f, (x,), (v,))[0] ** 2).sum(),
            lambda t, ft, x, v: (t.func.jvp(t.func.grad(ft), (x,), (v,))[1] ** 2).sum()),
}


@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_results_stay_connected_to_captured_weights_like_torch_func(torch_mod, name):
    ours, theirs = PENALTIES[name]
    W, Wt, x, v = _penalty_setup(torch_mod)
    h = W * 0.5  # a captured intermediate, recorded before the transform runs
    f = lambda x: wg.tanh(W @ x).sum() + (h @ x).sum() ** 2  # noqa: E731
    penalty = ours(f, x, v)
    assert penalty.requires_grad
    ((W ** 2).sum() + penalty).backward()
    ht = Wt * 0.5
    ft = lambda x: torch_mod.tanh(Wt @ x).sum() + (ht @ x).sum() ** 2  # noqa: E731
    xt, vt = torch_mod.tensor(x), torch_mod.tensor(v)
    ((Wt ** 2).sum() + theirs(torch_mod, ft, xt, vt)).backward()
    np.testing.assert_allclose(W.grad.data, Wt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_hvp_stays_differentiable_in_a_tangent_that_requires_grad(torch_mod):
    # u . H v is linear in v: its gradient with respect to v is H u (H symmetric)
    rng = np.random.default_rng(6)
    x, v0, u = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3)
    f = lambda x: (wg.sin(x) * x ** 3).sum()  # noqa: E731
    v = wg.tensor(v0, requires_grad=True)
    (hvp(f, (x,), (v,))[0] * u).sum().backward()
    vt = torch_mod.tensor(v0, requires_grad=True)
    ft = lambda x: (torch_mod.sin(x) * x ** 3).sum()  # noqa: E731
    hv = torch_mod.func.jvp(torch_mod.func.grad(ft), (torch_mod.tensor(x),), (vt,))[1]
    (hv * torch_mod.tensor(u)).sum().backward()
    np.testing.assert_allclose(v.grad.data, vt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_without_captured_tensors_or_under_no_grad_results_are_plain():
    rng = np.random.default_rng(4)
    x = rng.standard_normal(3)
    f = lambda x: (x ** 3).sum()  # noqa: E731
    for result in (grad(f)(x), value_and_grad(f)(x)[0], value_and_grad(f)(x)[1],
                   vjp(f, x)[0], vjp(f, x)[1](np.array(1.0))[0], jacrev(grad(f))(x),
                   hessian(f)(x), hvp(f, (x,), (x,))[0]):
        assert not result.requires_grad
    np.testing.assert_allclose(grad(f)(x).numpy(), 3 * x ** 2)
    W = wg.tensor(np.eye(3), requires_grad=True)
    with wg.no_grad():  # nothing outside records, so nothing stays connected
        g = grad(lambda x: wg.tanh(W @ x).sum())(x)
    assert not g.requires_grad
    np.testing.assert_allclose(g.numpy(), 1 - np.tanh(x) ** 2)


def test_aux_comes_back_plain_or_follows_the_value(torch_mod):
    x = np.array([3.0, 4.0])
    f = lambda x: ((x ** 2).sum(), {"twice": x * 2, "tag": "t"})  # noqa: E731
    g, aux = grad(f, has_aux=True)(x)
    (_, aux2), _ = value_and_grad(f, has_aux=True)(x)
    jac, aux3 = jacrev(lambda x: (x ** 2, x * 2), has_aux=True)(x)
    _, _, aux4 = vjp(lambda x: (x ** 2, x * 2), x, has_aux=True)
    for a in (aux["twice"], aux2["twice"], aux3, aux4):
        assert not a.requires_grad
        np.testing.assert_allclose(a.numpy(), [6.0, 8.0])
    assert aux["tag"] == "t"
    # with a captured weight the aux stays connected to it, as torch.func's does
    W, Wt, xs, _ = _penalty_setup(torch_mod)
    _, aux = grad(lambda x: (wg.tanh(W @ x).sum(), W @ x), has_aux=True)(xs)
    (aux ** 2).sum().backward()
    _, auxt = torch_mod.func.grad(lambda x: (torch_mod.tanh(Wt @ x).sum(), Wt @ x),
                                  has_aux=True)(torch_mod.tensor(xs))
    (auxt ** 2).sum().backward()
    np.testing.assert_allclose(W.grad.data, Wt.grad.numpy(), rtol=1e-12)


def test_forward_mode_sees_through_value_and_aux_and_aux_drops_closed_tangents():
    x, v = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    f = lambda x: ((x ** 3).sum(), x * 2)  # noqa: E731
    # d/dt of the value sum(x³) along v: sum(3 x² v) = 1.5 - 12
    _, t_value = jvp(lambda x: value_and_grad(f, has_aux=True)(x)[0][0], (x,), (v,))
    assert t_value.item() == pytest.approx(-10.5)
    _, t_aux = jvp(lambda x: grad(f, has_aux=True)(x)[1], (x,), (v,))
    np.testing.assert_allclose(t_aux.data, 2 * v)
    out, t_out, aux = jvp(f, (x,), (v,), has_aux=True)
    np.testing.assert_allclose(t_out.data, 3 * x ** 2 @ v)
    assert not aux._tangents  # the level is closed: its tangent is not kept alive
    _, aux = jacfwd(f, has_aux=True)(x)
    assert not aux._tangents


# --- second audit: names in errors, in-place inputs, dtypes, forward_ad and backward as torch --

def test_errors_of_hvp_and_hessian_name_them_and_odd_leaves_name_their_path():
    f = lambda x: (x ** 3).sum()  # noqa: E731
    x = np.ones(3)
    with pytest.raises(ShapeError, match=r"^hvp: tangents\[0\] has shape \(2,\)"):
        hvp(f, (x,), (np.ones(2),))
    with pytest.raises(ShapeError, match=r"^hvp\(<lambda>\): f must return a scalar"):
        hvp(lambda x: x * 2, (x,), (x,))
    # jvp and hvp have no argnums: their hint does not offer to change it
    with pytest.raises(DTypeError, match=r"^hvp: primals\[0\] has dtype int64.*'float64'\)\)$"):
        hvp(f, (np.array([1, 2]),), (np.ones(2),))
    with pytest.raises(DTypeError, match=r"^hessian: argument 0 of <lambda> has dtype int64"):
        hessian(f)(np.array([1, 2]))
    with pytest.raises(ArgumentError, match=r"^hessian\(<lambda>, argnums=1\)"):
        hessian(f, argnums=1)(x)
    # strings are leaves that cannot be differentiated: said with the transform and path
    with pytest.raises(DTypeError, match=r"^jvp: primals\[1\] is a str"):
        jvp(lambda a, b: a * 2, (x, "b"), (x, "b"))
    # None is a tree without leaves (as JAX's): not a cotangent for a tensor output
    _, fn = vjp(lambda a: a * 2, x)
    with pytest.raises(ArgumentError, match=r"^vjp: the cotangents have structure None but "
                                            r"must match \*"):
        fn(None)


def test_none_is_a_tree_without_leaves_as_in_jax():
    # JAX's rule (jax.tree_util): None holds no leaves, so its gradient is None and a
    # function may return it beside its outputs; the gradients are derived by hand
    x = np.array([1.0, 2.0])
    ours = grad(lambda p: (p["w"] ** 2).sum())({"w": x, "b": None})
    assert ours["b"] is None
    np.testing.assert_allclose(ours["w"].data, 2 * x)
    out, fn = vjp(lambda a: (a * 3, None), x)
    assert out[1] is None
    (g,) = fn((np.ones(2), None))
    np.testing.assert_allclose(g.data, [3.0, 3.0])
    assert jacrev(lambda a: (a * 2, None))(x)[1] is None


def test_jacfwd_refuses_a_function_that_writes_into_its_input(torch_mod):
    # Each of jacfwd's passes would see the input the previous one left: the columns would be
    # derivatives at different points (here [[8, 0], [0, 32]] instead of torch's [[8, 0], [0, 16]]).
    def double_then_square(a):
        a *= 2.0
        return a * a

    with pytest.raises(ArgumentError, match=r"jacfwd\(double_then_square\): .*modified argument "
                                            r"0 in place.*clone\(\)"):
        jacfwd(double_then_square)(np.array([1.0, 2.0]))
    with pytest.raises(ArgumentError, match=r"modified argument 1\['w'\] in place"):
        jacfwd(lambda a, p: p["w"].__setitem__(0, 1.0) or a * p["w"], argnums=(0, 1))(
            np.ones(2), {"w": np.ones(2)})
    # writes into the function's own intermediates are fine, and agree with torch.func
    def overwrite(a):
        b = a * 1.0
        b[0] = 5.0
        return b * a

    def t_overwrite(a):
        b = a * 1.0
        b[0] = 5.0
        return b * a

    x = np.array([1.0, 2.0])
    expected = torch_mod.func.jacfwd(t_overwrite)(torch_mod.tensor(x)).numpy()
    np.testing.assert_allclose(jacfwd(overwrite)(x).numpy(), expected)


def test_jacobian_with_no_output_elements_has_the_dtype_of_a_full_one():
    # a gradient has its input's dtype, so a Jacobian block does (as in JAX), empty or not
    x = np.ones(2, dtype=np.float32)
    full = jacrev(lambda a: (a * 2).astype("float64"))(x)
    empty = jacrev(lambda a: (a[:0] * 2).astype("float64"))(x)
    assert full.dtype == np.float32 and empty.dtype == full.dtype and empty.shape == (0, 2)


def test_unpack_dual_and_make_dual_follow_torch_forward_ad(torch_mod):
    from torch.autograd import forward_ad as t_fw
    from wengert.autograd import forward_ad as w_fw

    def run(fw, lib, tensor):
        with fw.dual_level():
            x = fw.make_dual(tensor([1.0, 2.0]), tensor([1.0, -1.0]))
            primal, tangent = fw.unpack_dual(x * x)
            # the primal no longer carries the tangent: what is computed from it has none
            after = fw.unpack_dual(primal * 3).tangent
            y = x * 2
        outside = fw.unpack_dual(y)  # the level is closed: no tangent, no error
        return tangent, after, outside.tangent, outside.primal

    w = run(w_fw, wg, lambda v: wg.tensor(np.array(v)))
    t = run(t_fw, torch_mod, lambda v: torch_mod.tensor(v, dtype=torch_mod.float64))
    np.testing.assert_allclose(w[0].numpy(), t[0].numpy())
    assert w[1] is None and t[1] is None
    assert w[2] is None and t[2] is None
    np.testing.assert_allclose(w[3].numpy(), t[3].numpy())
    # nested levels: the primal at the inner level keeps the outer level's tangent
    with w_fw.dual_level() as outer:
        x = w_fw.make_dual(wg.tensor(np.array(2.0)), wg.tensor(np.array(1.0)))
        with w_fw.dual_level():
            y = w_fw.make_dual(x, wg.tensor(np.array(1.0))) ** 3
            primal, tangent = w_fw.unpack_dual(y)
            assert tangent.item() == pytest.approx(12.0)  # 3 x²
            assert w_fw.unpack_dual(primal, level=outer).tangent.item() == pytest.approx(12.0)
    with w_fw.dual_level() as closed:
        pass
    with w_fw.dual_level(), pytest.raises(wg.GraphError, match=rf"level {closed} is not open"):
        w_fw.make_dual(wg.ones(2), wg.ones(2), level=closed)


def test_make_dual_refuses_a_primal_with_a_tangent_at_that_level_as_torch(torch_mod):
    from torch.autograd import forward_ad as t_fw
    from wengert.autograd import forward_ad as w_fw
    with t_fw.dual_level():
        x = t_fw.make_dual(torch_mod.ones(2), torch_mod.ones(2))
        with pytest.raises(RuntimeError, match="already has a forward gradient"):
            t_fw.make_dual(x, torch_mod.zeros(2))
    with w_fw.dual_level():
        x = w_fw.make_dual(wg.ones(2), wg.ones(2))
        with pytest.raises(wg.GraphError, match="already has a tangent at level"):
            w_fw.make_dual(x, wg.zeros(2))
        # the way out the message names: a second tangent for the primal of x
        y = w_fw.make_dual(w_fw.unpack_dual(x).primal, wg.zeros(2))
        np.testing.assert_array_equal(w_fw.unpack_dual(y * 3).tangent.numpy(), [0.0, 0.0])
        np.testing.assert_array_equal(w_fw.unpack_dual(x * 3).tangent.numpy(), [3.0, 3.0])


def test_autograd_backward_takes_an_array_gradient_and_refuses_a_missing_one(torch_mod):
    x0 = np.array([1.0, 2.0, 3.0])
    x = wg.tensor(x0, requires_grad=True)
    wg.autograd.backward(x * x, grad_tensors=np.array([1.0, 0.0, 2.0]))  # one gradient
    xt = torch_mod.tensor(x0, requires_grad=True)
    torch_mod.autograd.backward(xt * xt, grad_tensors=torch_mod.tensor([1.0, 0.0, 2.0],
                                                                        dtype=torch_mod.float64))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    # two outputs and one gradient: the second output's part must not silently go missing
    with pytest.raises(ArgumentError, match=r"2 tensors but 1 grad_tensors"):
        wg.autograd.backward([(x * 2).sum(), (x * 3).sum()], grad_tensors=[None])


# --- jacrev / jacfwd run their passes as one batched pass (vmap) ---------------------------
def _tree_function():
    """Two inputs (6 and 2x4 elements), two outputs (7 and 2x3 elements): enough elements on
    every side for the batched passes."""
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((7, 6)), rng.standard_normal((6, 4))

    def f(x, y):
        h = wg.tanh(wg.tensor(A) @ x + (y * y).sum())
        return {"h": h * wg.exp(x.sum() / 10), "m": wg.sin(y @ wg.tensor(B)[:4, :3]) * x[0]}

    def torch_f(t, x, y):
        h = t.tanh(t.tensor(A) @ x + (y * y).sum())
        return {"h": h * t.exp(x.sum() / 10), "m": t.sin(y @ t.tensor(B)[:4, :3]) * x[0]}
    return f, torch_f, rng.standard_normal(6), rng.standard_normal((2, 4))


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("chunk_size", [None, 1, 4])
def test_batched_jacobians_match_torch_func(transform, chunk_size, torch_mod):
    f, torch_f, x, y = _tree_function()
    ours = {"jacrev": jacrev, "jacfwd": jacfwd}[transform](f, argnums=(0, 1),
                                                          chunk_size=chunk_size)(x, y)
    theirs = getattr(torch_mod.func, transform)(lambda a, b: torch_f(torch_mod, a, b),
                                                argnums=(0, 1))(torch_mod.tensor(x),
                                                                torch_mod.tensor(y))
    for key in ("h", "m"):
        for k in range(2):
            assert ours[key][k].shape == tuple(theirs[key][k].shape)
            np.testing.assert_allclose(ours[key][k].data, theirs[key][k].numpy(),
                                       rtol=1e-10, atol=1e-12)


def test_batched_jacobians_evaluate_f_once_or_twice():
    calls = []

    def f(x):
        calls.append(1)
        return wg.concatenate([x * x, wg.sin(x[:3])])

    x = np.linspace(-1.0, 1.0, 8)
    by_hand = np.vstack([np.diag(2 * x), np.diag(np.cos(x))[:3]])
    np.testing.assert_allclose(jacrev(f)(x).data, by_hand, rtol=1e-12)
    assert len(calls) == 1  # one evaluation, one batched reverse pass
    calls.clear()
    np.testing.assert_allclose(jacfwd(f)(x).data, by_hand, rtol=1e-12)
    assert len(calls) == 2  # one batched evaluation, one plain for the output
    calls.clear()
    np.testing.assert_allclose(jacfwd(f, chunk_size=3)(x).data, by_hand, rtol=1e-12)
    assert len(calls) == 4  # chunks of 3, 3 and 2 directions, and the plain one


def test_what_a_batch_cannot_run_falls_back_to_one_pass_per_seed():
    from wengert.units import unit

    @unit(back=lambda dy, y, x: dy * np.exp(x))  # a backward written in NumPy
    def np_exp(x):
        return np.exp(x)

    x = np.linspace(-1.0, 1.0, 7)
    np.testing.assert_allclose(jacrev(np_exp)(x).data, np.diag(np.exp(x)), rtol=1e-12)

    def branchy(v):  # an if on a value: a batch of directions has no single truth value
        return v * 3 if float(v.sum()) > 0 else v * -1

    np.testing.assert_allclose(jacfwd(branchy)(x + 1).data, 3 * np.eye(7), rtol=1e-12)
    np.testing.assert_allclose(jacfwd(branchy)(x - 1).data, -np.eye(7), rtol=1e-12)

    def writes(v):  # in place into its argument: still the error that names it
        v.mul_(2)
        return v

    with pytest.raises(ArgumentError, match=r"jacfwd\(writes\): writes modified argument 0 "
                                            r"in place"):
        jacfwd(writes)(wg.tensor(x))


def test_jacobians_inside_vmap_are_per_example():
    x = np.random.default_rng(4).standard_normal((3, 7))
    f = lambda v: wg.tanh(v) * v.sum()  # noqa: E731
    for transform in (jacrev, jacfwd):
        batched = wg.vmap(transform(f))(x)
        for b in range(3):
            np.testing.assert_allclose(batched.data[b], jacrev(f, chunk_size=1)(x[b]).data,
                                       rtol=1e-12)


def test_hessian_of_a_quadratic_with_batched_passes():
    """SEED item 20's H = (A + A^T) / 2 of f(x) = x^T A x / 2 + b^T x, with n = 9."""
    rng = np.random.default_rng(5)
    A, b = rng.standard_normal((9, 9)), rng.standard_normal(9)
    f = lambda x: 0.5 * x @ wg.tensor(A) @ x + wg.tensor(b) @ x  # noqa: E731
    np.testing.assert_allclose(hessian(f)(rng.standard_normal(9)).data, (A + A.T) / 2,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_chunk_size_must_be_a_positive_int(bad):
    for transform in (jacrev, jacfwd):
        with pytest.raises(ArgumentError, match=rf"{transform.__name__}\(<lambda>\): "
                                                r"chunk_size must be a positive int"):
            transform(lambda v: v * 2, chunk_size=bad)


def test_random_draws_are_the_same_for_every_direction_of_jacfwd():
    """A Jacobian of a function that draws (dropout) is the Jacobian at one draw: jacfwd's
    directions, batched, in chunks or one by one, see the draw jacrev's one evaluation sees."""
    import wengert.nn.functional as F
    f = lambda v: F.dropout(v, 0.5) * 1.0  # noqa: E731
    for n in (8, 4):  # batched, and fewer directions than a batch is worth
        x = np.linspace(0.5, 2.0, n)
        wg.manual_seed(3)
        by_rev = jacrev(f)(x).data
        kept = np.diag(by_rev)
        assert set(kept) <= {0.0, 2.0} and not (by_rev - np.diag(kept)).any()
        for chunk_size in (None, 3, 1):
            wg.manual_seed(3)
            np.testing.assert_array_equal(jacfwd(f, chunk_size=chunk_size)(x).data, by_rev)


def test_anomaly_mode_names_the_op_whose_backward_failed_whatever_the_seed_count():
    x = wg.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True)
    with wg.autograd.detect_anomaly():
        y = wg.sqrt(x)
        for seeds in (np.eye(4), np.vstack([np.eye(4)] * 2)):
            with pytest.raises(wg.AnomalyError, match="the backward of 'sqrt'"):
                wg.autograd.grad(y, [x], grad_outputs=seeds, is_grads_batched=True,
                                 retain_graph=True)
        with pytest.raises(wg.AnomalyError, match="the backward of 'sqrt'"):
            jacrev(wg.sqrt)(np.arange(7.0))


def test_jacrev_through_a_sparse_embedding_one_seed_at_a_time():
    import wengert.nn.functional as F
    w, idx = np.random.default_rng(8).normal(size=(5, 2)), np.array([[0, 3], [3, 4], [1, 1]])
    f = lambda v: F.embedding(wg.tensor(idx), v, sparse=True) * 2  # noqa: E731
    expected = np.zeros((3, 2, 2, 5, 2))
    for (i, j), row in np.ndenumerate(idx):
        expected[i, j, :, row, :] += 2 * np.eye(2)
    for chunk_size in (None, 1):
        np.testing.assert_array_equal(jacrev(f, chunk_size=chunk_size)(w).data, expected)
