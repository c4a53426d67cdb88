"""Units (hand-written backward on the Primitive mechanism), the lecture's units in
examples/units.py (SEED items 7-10, 19), and blocks."""
import importlib.util

import numpy as np
import pytest

import wengert as wg
from conftest import REPO
from wengert.blocks import block, block_path
from wengert.check import gradcheck
from wengert.errors import ArgumentError, GraphError, ShapeError
from wengert.functional import grad, hessian, jvp
from wengert.units import unit
from wengert.walk import walk


@pytest.fixture(scope="module")
def lecture():
    spec = importlib.util.spec_from_file_location("lecture_units", REPO / "examples" / "units.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _t(a):
    return wg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def test_seed7_relu_unit_masks_the_upstream_gradient(lecture):
    x = _t([1, -2, 3, -1])
    lecture.relu(x).backward(np.array([4.0, -1, 5, 9]))
    np.testing.assert_array_equal(x.grad.data, [4, 0, 5, 0])


def test_seed8_9_affine_unit_rules(lecture):
    x = _t([[2, 1, -3], [-3, 4, 2]])
    w = _t([[3, 2, 1, -1], [2, 1, 3, 2], [3, 2, 1, -2]])
    b = _t([0.5, -1, 2, 0])
    dy = np.array([[2.0, 3, -3, 9], [-8, 1, 4, 6]])
    y = lecture.affine(x, (w, b))
    np.testing.assert_allclose(y.data, x.data @ w.data + b.data)
    y.backward(dy)
    np.testing.assert_array_equal(x.grad.data, [[0, 16, -9], [-24, 9, -30]])
    np.testing.assert_array_equal(w.grad.data, [[28, 3, -18, 0], [-30, 7, 13, 33],
                                                [-22, -7, 17, -15]])
    np.testing.assert_array_equal(b.grad.data, dy.sum(axis=0))  # db = sum over rows of dA


def test_seed10_logistic_unit_equals_the_composite(lecture, torch_mod):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 4)) * 3
    T = np.eye(4)[[0, 3, 1, 1, 2]]
    a_unit, a_comp = _t(A), _t(A)
    loss = lecture.logistic(a_unit, T)
    loss.backward(np.array(2.0))  # dD = 2
    composite = -(wg.log(wg.softmax(a_comp, axis=1)) * T).sum() / 5
    composite.backward(np.array(2.0))
    assert loss.item() == pytest.approx(composite.item(), rel=1e-12)
    np.testing.assert_allclose(a_unit.grad.data, a_comp.grad.data, rtol=1e-10)
    Y = np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a_unit.grad.data, 2 * (Y - T) / 5, rtol=1e-10)  # dD (Y-T)/m
    ta = torch_mod.tensor(A)
    ref = torch_mod.nn.functional.cross_entropy(ta, torch_mod.tensor([0, 3, 1, 1, 2]))
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    # stable: scores of 1000 give a finite loss
    assert np.isfinite(lecture.logistic(_t(A + 1000), T).item())


def test_every_lecture_unit_passes_gradcheck_to_second_order(lecture):
    X, T, W1, b1, W2, b2 = lecture.example_batch()
    cases = [(lambda X, W, b: lecture.affine(X, (W, b)), (X, W1, b1)),
             (lambda A: lecture.logistic(A, T), (X[:, :3],)),
             (lecture.relu, (X,)),
             (lambda W1, W2: lecture.decay((W1, W2), 0.3), (W1, W2)),
             (lecture.add, (X, X[::-1].copy()))]
    for f, inputs in cases:
        assert gradcheck(f, inputs, order=2).passed


def _two_layer_numpy(X, T, W1, b1, W2, b2, lam):
    """The model's loss written out independently in NumPy."""
    Z = np.maximum(X @ W1 + b1, 0)
    A2 = Z @ W2 + b2
    log_Y = A2 - np.log(np.exp(A2).sum(axis=1, keepdims=True))
    return -(T * log_Y).sum() / len(X) + lam / 2 * ((W1 ** 2).sum() + (W2 ** 2).sum())


def test_seed19_two_layer_model_with_decay(lecture, torch_mod):
    X, T, W1, b1, W2, b2 = lecture.example_batch()
    lam = 0.1
    params = [_t(p) for p in (W1, b1, W2, b2)]
    loss = lecture.two_layer_loss(X, T, *params, lam)
    assert loss.item() == pytest.approx(_two_layer_numpy(X, T, W1, b1, W2, b2, lam), rel=1e-12)
    loss.backward()
    tp = [torch_mod.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    tX, tT = torch_mod.tensor(X), torch_mod.tensor(T)
    A2 = torch_mod.relu(tX @ tp[0] + tp[1]) @ tp[2] + tp[3]
    ref = (torch_mod.nn.functional.cross_entropy(A2, tT.argmax(1))
           + lam / 2 * ((tp[0] ** 2).sum() + (tp[2] ** 2).sum()))
    ref.backward()
    for ours, theirs in zip(params, tp):
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)
    report = gradcheck(lambda W1, b1, W2, b2: lecture.two_layer_loss(X, T, W1, b1, W2, b2, lam),
                       (W1, b1, W2, b2), order=2)
    assert report.passed


def test_unit_with_wengert_ops_back_is_differentiable_twice(torch_mod):
    @unit(back=lambda dy, y, x: dy * wg.cos(x) * 2, jvp=lambda d, y, x: d[0] * wg.cos(x) * 2)
    def two_sin(x):
        return 2 * np.sin(x)

    x = np.array([0.3, -1.2, 2.0])
    h = hessian(lambda x: (two_sin(x) * x).sum())(x)
    th = torch_mod.func.hessian(lambda x: (2 * torch_mod.sin(x) * x).sum())(torch_mod.tensor(x))
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-12)
    xt = _t(x)
    (g,) = wg.autograd.grad(two_sin(xt).sum(), xt, create_graph=True)
    (gg,) = wg.autograd.grad(g.sum(), xt)
    np.testing.assert_allclose(gg.data, -2 * np.sin(x), rtol=1e-12)


def test_unit_with_numpy_back_refuses_a_second_derivative():
    @unit(back=lambda dy, y, x: dy * np.exp(x))
    def np_exp(x):
        return np.exp(x)

    @unit(back=lambda dy, y, x: np.where(x > 0, dy, 0))
    def np_relu(x):
        return np.maximum(x, 0)

    x = _t([0.5, -1.0])
    np_exp(x).sum().backward()  # first order is fine
    np.testing.assert_allclose(x.grad.data, np.exp(x.data))
    for u, what in ((np_exp, "NumPy function"), (np_relu, "returned a ndarray")):
        with pytest.raises(GraphError, match=rf"unit '{u.name}'.*{what}"):
            wg.autograd.grad(u(x).sum(), x, create_graph=True)


def test_unit_without_jvp_names_itself_in_forward_mode():
    @unit(back=lambda dy, y, x: dy * 3 * x ** 2)
    def cube(x):
        return x ** 3

    assert grad(lambda x: cube(x).sum())(np.array([2.0])).item() == pytest.approx(12.0)
    with pytest.raises(GraphError, match="unit 'cube' has no JVP rule"):
        jvp(lambda x: cube(x), (np.array([2.0]),), (np.array([1.0]),))


def test_back_runs_once_per_node_and_constants_pass_through():
    calls = []

    def back(dy, y, x, w, mode, scale=1.0):
        calls.append(mode)
        return dy * w * scale, dy * x * scale, None

    @unit(back=back)
    def scaled(x, w, mode, scale=1.0):
        assert mode == "plain"  # a non-tensor argument arrives unchanged
        return x * w * scale

    x, w = _t([1.0, 2.0]), _t([3.0, 4.0])
    scaled(x, w, "plain", scale=2.0).sum().backward()
    assert calls == ["plain"]
    np.testing.assert_allclose(x.grad.data, 2 * w.data)
    np.testing.assert_allclose(w.grad.data, 2 * x.data)


def test_identity_unit_used_twice_gets_each_applications_backward(torch_mod):
    # A gradient-reversal unit returns its input unchanged, so both applications below get the
    # same upstream gradient and output arrays; each must still run its own back.
    @unit(back=lambda dy, y, x, lam: (-lam * dy, None))
    def reverse_grad(x, lam):
        return x

    x = np.array([1.0, 2.0])
    ours = grad(lambda x: (reverse_grad(x, 2.0) + reverse_grad(x, 3.0)).sum())(x)

    class GRL(torch_mod.autograd.Function):
        @staticmethod
        def forward(ctx, x, lam):
            ctx.lam = lam
            return x.view_as(x)

        @staticmethod
        def backward(ctx, g):
            return -ctx.lam * g, None

    xt = torch_mod.tensor(x, requires_grad=True)
    (GRL.apply(xt, 2.0) + GRL.apply(xt, 3.0)).sum().backward()
    np.testing.assert_allclose(ours.data, xt.grad.numpy(), rtol=1e-15)  # -(2 + 3)


def test_back_runs_once_per_application_of_a_two_input_unit():
    calls = []

    def back(dy, y, x, w):  # y = x, the first input passed through
        calls.append(1)
        return dy, dy * 0 + 1.0

    pass_first = unit(lambda x, w: x, back=back, name="pass_first")
    x, w = _t([1.0, 2.0]), _t([3.0, 4.0])
    (pass_first(x, w) + pass_first(x, w)).sum().backward()
    assert len(calls) == 2  # one per application, not one per input and not one for both
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0])
    np.testing.assert_allclose(w.grad.data, [2.0, 2.0])


# every name a unit's own machinery uses (or used) for its parameters
INTERNAL_NAMES = ["k", "ans", "g", "t", "rebuild", "positions", "ns", "self", "inputs",
                  "arrays", "args", "kwargs", "_consts"]


@pytest.mark.parametrize("name", INTERNAL_NAMES)
def test_any_keyword_argument_passes_through_to_forward_back_and_jvp(name):
    scaled = unit(lambda x, **kw: x * kw[name], back=lambda dy, y, x, **kw: dy * kw[name],
                  jvp=lambda d, y, x, **kw: d[0] * kw[name], name="scaled")
    x, v = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 0.5])
    g = grad(lambda x: scaled(x, **{name: 3.0}).sum())(x)
    np.testing.assert_allclose(g.data, [3.0, 3.0, 3.0])
    out, tangent = jvp(lambda x: scaled(x, **{name: 3.0}), (x,), (v,))
    np.testing.assert_allclose(out.data, 3 * x)
    np.testing.assert_allclose(tangent.data, 3 * v)
    h = hessian(lambda x: (scaled(x, **{name: 3.0}) * x).sum())(x)  # d²/dx² 3x² = 6 I
    np.testing.assert_allclose(h.data, 6 * np.eye(3))


def test_the_one_reserved_keyword_is_refused_by_name():
    u = unit(lambda x, **kw: x, back=lambda dy, y, x, **kw: dy, name="ident")
    with pytest.raises(ArgumentError, match="unit 'ident'.*'_unit_call' is reserved"):
        u(_t([1.0]), _unit_call=1)


def test_malformed_back_results_are_named():
    x = _t([1.0, 2.0])
    wrong_count = unit(lambda x, y: x * y, back=lambda dy, out, x, y: dy * y, name="pair")
    with pytest.raises(ArgumentError, match=r"unit 'pair'.*one gradient per argument \(2\)"):
        wrong_count(x, x).sum().backward()
    wrong_shape = unit(lambda x: x * 2, back=lambda dy, y, x: np.ones(3), name="twice")
    with pytest.raises(ShapeError, match=r"unit 'twice'.*shape \(3,\).*\(2,\)"):
        wrong_shape(_t([1.0, 2.0])).sum().backward()
    wrong_tree = unit(lambda p: p[0] * p[1], back=lambda dy, y, p: dy, name="tree")
    with pytest.raises(ArgumentError, match="not structured like the argument"):
        wrong_tree((_t([1.0]), _t([2.0]))).sum().backward()


def test_block_labels_its_nodes_and_changes_no_value():
    @block("layer")
    def layer(h, w):
        return wg.tanh(h @ w)

    @block
    def mlp(x, w1, w2):
        return layer(layer(x, w1), w2).sum()

    x = _t(np.ones((2, 3)))
    before = x * 2  # recorded before the block: keeps no label
    w1, w2 = _t(np.full((3, 3), 0.1)), _t(np.full((3, 1), 0.2))
    y = mlp(before, w1, w2)
    paths = {}
    for t in walk([y]):
        if t._node is not None:
            paths.setdefault(t._node.prim.name, []).append(block_path(t._node))
    assert block_path(before._node) == ()
    assert paths["tanh"] == paths["matmul"] == [("mlp", "layer")] * 2
    assert paths["sum"] == [("mlp",)]
    plain = wg.tanh(wg.tanh((x * 2) @ w1) @ w2).sum()
    assert y.item() == pytest.approx(plain.item(), rel=1e-15)
    y.backward()
    g = w1.grad.data.copy()
    w1.grad = None
    plain.backward()
    np.testing.assert_allclose(g, w1.grad.data, rtol=1e-15)


def test_a_jvp_returning_a_tangent_of_another_shape_is_named():
    # dargs is a tuple even for one argument: dargs * y makes a (1, 3) tangent for a (3,)
    # output, which used to surface as a broadcast_to error naming no unit
    def forward(x):
        return 1 / (1 + np.exp(-x))

    def back(dy, y, x):
        return dy * y * (1 - y)

    x = np.array([0.3, -1.2, 2.0])
    bad = unit(forward, back=back, jvp=lambda dargs, y, x: dargs * y * (1 - y), name="sig")
    with pytest.raises(ShapeError, match=r"unit 'sig': jvp returned a tangent of shape "
                                         r"\(1, 3\) for an output of shape \(3,\).*dargs\[0\]"):
        jvp(bad, (x,), (np.ones(3),))
    good = unit(forward, back=back, jvp=lambda dargs, y, x: dargs[0] * y * (1 - y))
    s = forward(x)
    np.testing.assert_allclose(jvp(good, (x,), (np.ones(3),))[1].data, s * (1 - s),
                               rtol=1e-14)
    # a tangent that broadcasts to the output (a scalar) is the engine's to broadcast
    scalar = unit(forward, back=back, jvp=lambda dargs, y, x: (dargs[0] * y * (1 - y)).sum())
    np.testing.assert_allclose(jvp(scalar, (x,), (np.ones(3),))[1].data,
                               np.full(3, (s * (1 - s)).sum()), rtol=1e-14)
