"""SEED-EXAMPLES items 1-12 and 20, through the public API, with the lectures' numbers."""
import math
import warnings

import numpy as np
import pytest

import wengert as wg
from wengert.autograd import dual_level, make_dual, unpack_dual


def f_item1(x1, x2):
    return wg.log(x1) + x1 * x2 - wg.sin(x2)


def test_item1_values_and_reverse_mode():
    x1 = wg.tensor(2.0, dtype="float64", requires_grad=True)
    x2 = wg.tensor(5.0, dtype="float64", requires_grad=True)
    v2, v3, v4 = wg.log(x1), x1 * x2, wg.sin(x2)
    v5 = v2 + v3
    v6 = v5 - v4
    for v in (v2, v3, v4, v5):
        v.retain_grad()
    assert v2.item() == pytest.approx(0.693, abs=1e-3)
    assert v3.item() == pytest.approx(10.0, abs=1e-3)
    assert v4.item() == pytest.approx(-0.959, abs=1e-3)
    assert v5.item() == pytest.approx(10.693, abs=1e-3)
    assert v6.item() == pytest.approx(11.652, abs=1e-3)
    v6.backward()
    # one reverse pass gives every adjoint
    assert v5.grad.item() == pytest.approx(1.0)
    assert v4.grad.item() == pytest.approx(-1.0)
    assert v3.grad.item() == pytest.approx(1.0)
    assert v2.grad.item() == pytest.approx(1.0)
    assert x2.grad.item() == pytest.approx(1.716, abs=1e-3)
    assert x1.grad.item() == pytest.approx(5.5, abs=1e-3)


def test_item1_forward_mode_seeded_on_x1():
    with dual_level():
        x1 = make_dual(wg.tensor(2.0, dtype="float64"), wg.tensor(1.0, dtype="float64"))
        x2 = wg.tensor(5.0, dtype="float64")
        y = f_item1(x1, x2)
        primal, tangent = unpack_dual(y)
    assert primal.item() == pytest.approx(11.652, abs=1e-3)
    assert tangent.item() == pytest.approx(5.5, abs=1e-12)


def test_item2_shared_value_sums_paths():
    a = wg.tensor(4.0, requires_grad=True)
    b = wg.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    d.backward()
    assert d.item() == 28
    assert a.grad.item() == 11  # 2a + b
    assert b.grad.item() == 4   # a


def test_item3():
    a = wg.tensor(2.0, requires_grad=True)
    b = wg.tensor(1.0, requires_grad=True)
    e = (a + b) * (b + 1)
    e.backward()
    assert (e.item(), a.grad.item(), b.grad.item()) == (6, 2, 5)


def test_item4_exp_of_affine():
    w, x, b = (wg.tensor(v, dtype="float64", requires_grad=True) for v in (2.0, 3.0, -4.0))
    y = wg.exp(w * x + b)
    y.backward()
    assert y.item() == pytest.approx(math.e ** 2)
    assert b.grad.item() == pytest.approx(7.389, abs=1e-3)
    assert w.grad.item() == pytest.approx(22.167, abs=1e-3)
    assert x.grad.item() == pytest.approx(14.778, abs=1e-3)


def test_item5_add_distributes_mul_switches_max_routes():
    x, y, z = (wg.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
    f = (x + y) * z
    f.backward()
    assert (f.item(), x.grad.item(), y.grad.item(), z.grad.item()) == (-12, -4, -4, 3)
    p, q = wg.tensor(3.0, requires_grad=True), wg.tensor(1.0, requires_grad=True)
    wg.maximum(p, q).backward()
    assert (p.grad.item(), q.grad.item()) == (1, 0)


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.0, 0.3, 1.0, 3.0])
def test_item6_chain_rule(x):
    t = wg.tensor(x, dtype="float64", requires_grad=True)
    ((2 * t ** 2 + 1) ** 2).backward()
    assert t.grad.item() == pytest.approx(16 * x ** 3 + 8 * x)


def test_item7_relu_without_jacobian():
    x = wg.tensor([1.0, -2.0, 3.0, -1.0], requires_grad=True)
    wg.relu(x).backward(wg.tensor([4.0, -1.0, 5.0, 9.0]))
    np.testing.assert_array_equal(x.grad.data, [4, 0, 5, 0])


def test_item8_matmul_rule():
    x = wg.tensor([[2.0, 1, -3], [-3, 4, 2]], requires_grad=True)
    w = wg.tensor([[3.0, 2, 1, -1], [2, 1, 3, 2], [3, 2, 1, -2]], requires_grad=True)
    (x @ w).backward(wg.tensor([[2.0, 3, -3, 9], [-8, 1, 4, 6]]))
    np.testing.assert_array_equal(x.grad.data, [[0, 16, -9], [-24, 9, -30]])
    np.testing.assert_array_equal(w.grad.data, [[28, 3, -18, 0], [-30, 7, 13, 33], [-22, -7, 17, -15]])


def test_item9_affine_unit():
    rng = np.random.default_rng(0)
    X, W, b, dA = rng.normal(size=(5, 3)), rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(5, 4))
    Xt, Wt, bt = (wg.tensor(a, requires_grad=True) for a in (X, W, b))
    (Xt @ Wt + bt).backward(wg.tensor(dA))
    np.testing.assert_allclose(Wt.grad.data, X.T @ dA)
    np.testing.assert_allclose(bt.grad.data, dA.sum(axis=0))  # broadcast forward = sum backward
    np.testing.assert_allclose(Xt.grad.data, dA @ W.T)


def test_item10_logistic_unit_equals_composite():
    rng = np.random.default_rng(1)
    m, k = 6, 4
    A = rng.normal(size=(m, k))
    T = np.eye(k)[rng.integers(0, k, m)]
    dD = 1.7
    At = wg.tensor(A, requires_grad=True)
    loss = -(wg.tensor(T) * wg.log_softmax(At, axis=1)).sum() / m
    (loss * dD).backward()
    Y = np.exp(A) / np.exp(A).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(At.grad.data, dD * (Y - T) / m, rtol=1e-12)
    # the naive composite softmax -> log -> sum gives the same gradient here
    A2 = wg.tensor(A, requires_grad=True)
    naive = -(wg.tensor(T) * wg.log(wg.exp(A2) / wg.exp(A2).sum(axis=1, keepdims=True))).sum() / m
    (naive * dD).backward()
    np.testing.assert_allclose(A2.grad.data, At.grad.data, rtol=1e-10)


@pytest.mark.parametrize("x, expected", [(-1, 1.3133), (-2, 2.1269), (-5, 5.0067),
                                         (-10, 10.0000), (-1000, 1000.0)])
def test_item11_stable_binary_cross_entropy(x, expected):
    t = wg.tensor(float(x), dtype="float64", requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = wg.softplus(-t)  # ln(1 + e^-x), stable
        loss.backward()
    assert loss.item() == pytest.approx(expected, abs=1e-4)
    if x == -1000:
        assert t.grad.item() == -1.0


def test_item12_softmax():
    np.testing.assert_allclose(wg.softmax(wg.tensor([1.0, 2.0])).data, [0.269, 0.731], atol=1e-3)
    s = wg.softmax(wg.tensor([10.0, 20.0], dtype="float64")).data
    np.testing.assert_allclose(s, [4.54e-5, 0.99995], rtol=1e-3)
    x = wg.tensor([0.3, -1.0, 2.0], dtype="float64")
    np.testing.assert_allclose(wg.softmax(x + 10).data, wg.softmax(x).data, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = wg.softmax(wg.tensor([1000.0, 1001.0]))
    assert np.isfinite(big.data).all()
    np.testing.assert_allclose(big.data, [0.269, 0.731], atol=1e-3)


def test_item20_hessian_vector_product_without_the_hessian():
    rng = np.random.default_rng(2)
    n = 5
    A, b, x0, v = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    x = wg.tensor(x0, requires_grad=True)
    f = 0.5 * (x @ (wg.tensor(A) @ x)) + wg.tensor(b) @ x
    (g,) = wg.autograd.grad(f, x, create_graph=True)
    (hv,) = wg.autograd.grad((g * wg.tensor(v)).sum(), x)  # reverse-over-reverse, O(n) memory
    np.testing.assert_allclose(hv.data, 0.5 * (A + A.T) @ v, rtol=1e-12)
