"""Numerically delicate ops at +-1e4 and at float32's extremes: finite values, finite and
correct gradients, and no NumPy warnings."""
import warnings

import numpy as np
import pytest

import wengert as wg

BIG = [-1e4, -50.0, 0.0, 50.0, 1e4]


def _no_warnings(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, grad", [
    ("sigmoid", lambda x: np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2),
    ("softplus", lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                    np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))),
    ("tanh", lambda x: 1 - np.tanh(x) ** 2),
])
def test_elementwise_at_extremes(name, grad, dtype):
    x = wg.tensor(np.array(BIG, dtype=dtype), requires_grad=True)

    def run():
        y = getattr(wg, name)(x)
        y.sum().backward()
        return y
    y = _no_warnings(run)
    assert np.isfinite(y.data).all() and np.isfinite(x.grad.data).all()
    with np.errstate(over="ignore"):
        expected = grad(np.array(BIG, dtype=np.float64))
    # correct to the dtype's precision on the derivative's scale (at most 1): a gradient of
    # 2e-22 computed from an output that rounded to 1.0 comes out 0, as in PyTorch
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-5, atol=np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [1e4, float(np.finfo(np.float32).max) / 4])
def test_softmax_family_at_extremes(dtype, scale):
    raw = np.array([[1.0, -1.0, 0.5], [-1.0, -1.0, 1.0]]) * scale
    x0 = raw.astype(dtype)
    for fn in (lambda t: wg.softmax(t, axis=1), lambda t: wg.log_softmax(t, axis=1),
               lambda t: wg.logsumexp(t, axis=1)):
        x = wg.tensor(x0, requires_grad=True)

        def run():
            y = fn(x)
            (y * wg.tensor(np.linspace(0, 1, y.size, dtype=dtype).reshape(y.shape))).sum().backward()
            return y
        y = _no_warnings(run)
        assert np.isfinite(y.data).all(), y
        assert np.isfinite(x.grad.data).all()
    # the winning entry takes all the probability
    np.testing.assert_allclose(wg.softmax(wg.tensor(x0), axis=1).data,
                               [[1, 0, 0], [0, 0, 1]], atol=1e-6)
    np.testing.assert_allclose(wg.logsumexp(wg.tensor(x0), axis=1).data,
                               x0.max(axis=1), rtol=1e-6)


@pytest.mark.parametrize("exponent", ["number", "tensor"])
def test_power_with_exponent_zero_has_gradient_zero_at_base_zero(exponent, torch_mod):
    """d(x**0)/dx = 0 everywhere, at x = 0 too, where y * x**(y - 1) is 0 * inf (PyTorch
    masks it the same way): polynomial features 1, x, x**2 at x = 0."""
    grads = {}
    for M in (wg, torch_mod):
        x = M.tensor([0.0, 1.0, 2.0], requires_grad=True)
        ks = range(3) if exponent == "number" else [M.tensor([float(k)] * 3) for k in range(3)]
        sum((x ** k).sum() for k in ks).backward()
        grads[M] = np.asarray(x.grad.tolist())
    np.testing.assert_array_equal(grads[wg], [1.0, 3.0, 5.0])  # d(1 + x + x**2) = 1 + 2x
    np.testing.assert_array_equal(grads[wg], grads[torch_mod])


def test_std_of_a_constant_slice_has_gradient_zero(torch_mod):
    """std's gradient (x - mean) / (n std) is 0/0 on a constant slice; PyTorch gives 0."""
    rows = [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]
    grads = {}
    for M, kw in ((wg, {"axis": 1}), (torch_mod, {"dim": 1, "correction": 0})):
        x = M.tensor(rows, requires_grad=True)
        x.std(**kw).sum().backward()
        grads[M] = np.asarray(x.grad.tolist())
    np.testing.assert_array_equal(grads[wg][0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(grads[wg], grads[torch_mod], rtol=1e-6)  # float32 vs float64


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_pass_the_gradient_through_a_nan(name, torch_mod):
    """Where a NaN makes the value NaN no comparison holds, and PyTorch gives both inputs all
    of the gradient (ties split it, the input that lost gets none)."""
    a = [np.nan, 1.0, 2.0, 3.0, np.nan]
    b = [1.0, np.nan, 2.0, 1.0, np.nan]
    grads = {}
    for M in (wg, torch_mod):
        x = M.tensor(np.array(a), requires_grad=True)
        y = M.tensor(np.array(b), requires_grad=True)
        getattr(M, name)(x, y).sum().backward()
        grads[M] = np.array([x.grad.tolist(), y.grad.tolist()])
    np.testing.assert_array_equal(grads[wg][:, [0, 1, 4]], 1.0)  # NaN in either: all of it
    np.testing.assert_array_equal(grads[wg][:, 2], 0.5)          # a tie: half each
    np.testing.assert_array_equal(grads[wg], grads[torch_mod])


@pytest.mark.parametrize("name", ["relu", "elu", "selu", "celu"])
def test_rectifiers_pass_the_gradient_through_a_nan(name, torch_mod):
    """PyTorch's rectifier rules pick the linear branch unless the input is <= 0, so a NaN
    input gets the whole gradient (and a NaN value); -inf gets none, +inf all of it."""
    import wengert.nn.functional as F
    values = np.array([np.nan, -np.inf, np.inf, -1.0, 0.0, 2.0])
    results = {}
    for M, fn in ((wg, getattr(F, name)), (torch_mod, getattr(torch_mod.nn.functional, name))):
        x = M.tensor(values, requires_grad=True)
        y = fn(x)
        y.sum().backward()
        results[M] = (np.asarray(y.tolist()), np.asarray(x.grad.tolist()))
    assert np.isnan(results[wg][0][0])
    assert results[wg][1][0] == (1.0507009873554805 if name == "selu" else 1.0)  # selu's scale
    assert results[wg][1][1] == 0.0
    for ours, theirs in zip(results[wg], results[torch_mod]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
