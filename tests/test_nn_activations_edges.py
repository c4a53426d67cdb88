"""The activations at NaN, -inf, +inf, 0 and their kinks (values and gradients against
PyTorch's, float32 and float64, reverse and forward mode), and the activations added to
mirror the rest of torch.nn: hardshrink, softshrink, rrelu, Softmax2d, gumbel_softmax and
one_hot."""
import math
import re

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck
from wengert.functional import jvp
from wengert.nn.activation_functions import SELU_SCALE

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}
NAN, INF = math.nan, math.inf
EDGES = [NAN, -INF, INF, 0.0, -0.0, 1e-30, 1.5, -2.5, 40.0, -40.0, 800.0, -800.0]

# name -> (our function, torch's name in torch.nn.functional (or torch), options, kinks)
ELEMENTWISE = {
    "relu": (F.relu, "relu", {}, []),
    "leaky_relu": (F.leaky_relu, "leaky_relu", {}, []),
    "leaky_relu_negative": (F.leaky_relu, "leaky_relu", {"negative_slope": -0.3}, []),
    "elu": (F.elu, "elu", {}, []),
    "elu_alpha": (F.elu, "elu", {"alpha": 0.3}, []),
    "gelu": (F.gelu, "gelu", {}, []),
    "gelu_tanh": (F.gelu, "gelu", {"approximate": "tanh"}, []),
    "silu": (F.silu, "silu", {}, []),
    "softplus": (F.softplus, "softplus", {}, [20.0, 19.999, 20.001]),
    "softplus_beta": (F.softplus, "softplus", {"beta": 2.0, "threshold": 5.0}, [2.5, 2.4]),
    "softplus_negative_beta": (F.softplus, "softplus", {"beta": -1.0}, [-20.0]),
    "hardtanh": (F.hardtanh, "hardtanh", {}, [-1.0, 1.0]),
    "hardtanh_bounds": (F.hardtanh, "hardtanh", {"min_val": -0.5, "max_val": 2.0}, [-0.5, 2.0]),
    "relu6": (F.relu6, "relu6", {}, [6.0]),
    "hardsigmoid": (F.hardsigmoid, "hardsigmoid", {}, [-3.0, 3.0]),
    "hardswish": (F.hardswish, "hardswish", {}, [-3.0, 3.0]),
    "threshold": (F.threshold, "threshold", {"threshold": 0.1, "value": 20.0}, [0.1]),
    "threshold_inf_value": (F.threshold, "threshold", {"threshold": 0.1, "value": INF}, [0.1]),
    "logsigmoid": (F.logsigmoid, "logsigmoid", {}, []),
    "mish": (F.mish, "mish", {}, []),
    "selu": (F.selu, "selu", {}, []),
    "celu": (F.celu, "celu", {}, []),
    "celu_alpha": (F.celu, "celu", {"alpha": 0.5}, []),
    "softsign": (F.softsign, "softsign", {}, []),
    "tanhshrink": (F.tanhshrink, "tanhshrink", {}, []),
    "hardshrink": (F.hardshrink, "hardshrink", {}, [-0.5, 0.5, 0.2]),
    "hardshrink_lambd": (F.hardshrink, "hardshrink", {"lambd": 0.3}, [-0.3, 0.3]),
    "softshrink": (F.softshrink, "softshrink", {}, [-0.5, 0.5, 0.2]),
    "softshrink_zero": (F.softshrink, "softshrink", {"lambd": 0.0}, []),
    "rrelu_eval": (F.rrelu, "rrelu", {}, []),
    "sigmoid": (F.sigmoid, "sigmoid", {}, []),
    "tanh": (F.tanh, "tanh", {}, []),
}

# PyTorch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32; wengert's by 1/6
GRAD_RTOL = {"hardsigmoid": 1e-7}


def _torch_fn(torch, name):
    return getattr(torch.nn.functional, name, None) or getattr(torch, name)


def _torch_elementwise(torch, name, kwargs, points, dtype):
    """PyTorch's values and gradients, each point in a tensor of its own: a 1-element tensor
    runs PyTorch's scalar kernel, the formula it writes (its vectorised kernels differ at NaN
    for some functions, and which one runs depends on the tensor's length and the CPU)."""
    fn = _torch_fn(torch, name)
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    values, grads = [], []
    for v in points:
        t = torch.tensor([v], dtype=tdtype, requires_grad=True)
        out = fn(t, **kwargs)
        out.sum().backward()
        values.append(out.detach().numpy()[0])
        grads.append(t.grad.numpy()[0])
    return np.array(values), np.array(grads)


def _ours(fn, kwargs, points, dtype):
    x = wg.tensor(np.array(points, dtype=dtype), requires_grad=True)
    out = fn(x, **kwargs)
    assert out.dtype == dtype
    out.sum().backward()
    return out.data, x.grad.data


@pytest.fixture(autouse=True)
def _quiet_nan():
    # NaN results (gelu(-inf), softmax of a row with +inf...) are PyTorch's answers here;
    # NumPy warns as it makes them
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        yield


def _assert_close(actual, expected, dtype, rtol=None):
    tol = dict(TOL[dtype], rtol=max(rtol or 0, TOL[dtype]["rtol"]))
    np.testing.assert_allclose(actual, expected, equal_nan=True, **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_values_and_gradients_at_non_finite_inputs_and_kinks(torch_mod, name, dtype):
    fn, torch_name, kwargs, kinks = ELEMENTWISE[name]
    points = EDGES + kinks
    values, grads = _ours(fn, kwargs, points, dtype)
    t_values, t_grads = _torch_elementwise(torch_mod, torch_name, kwargs, points, dtype)
    if name == "hardswish":
        # wengert's deliberate difference: 0 at -inf (the limit), PyTorch's -inf * 0 = NaN
        assert np.isnan(t_values[1]) and values[1] == 0
        t_values[1] = 0.0
    _assert_close(values, t_values, dtype)
    _assert_close(grads, t_grads, dtype, GRAD_RTOL.get(name))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_forward_mode_gives_the_reverse_gradients_at_the_edges(name):
    # elementwise: the JVP with tangent 1 is the gradient, NaN where it is NaN
    fn, _, kwargs, kinks = ELEMENTWISE[name]
    x = np.array(EDGES + kinks)
    _, grads = _ours(fn, kwargs, x, np.float64)
    _, tangent = jvp(lambda v: fn(v, **kwargs), (x,), (np.ones_like(x),))
    np.testing.assert_allclose(tangent.data, grads, rtol=1e-14, atol=0, equal_nan=True)


def test_the_reported_non_finite_cases_by_hand():
    x = wg.tensor([NAN, -INF, INF], dtype="float64", requires_grad=True)
    F.hardsigmoid(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])
    x = wg.tensor([NAN, -INF, INF], dtype="float64", requires_grad=True)
    out = F.hardswish(x)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [NAN, 0.0, INF])
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])
    x = wg.tensor([NAN, 0.1, 0.2], dtype="float64", requires_grad=True)
    out = F.threshold(x, 0.1, 20.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [NAN, 20.0, 0.2])
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 1.0])


# the gradient at NaN of PyTorch's scalar formulas, where its vectorised kernels give 0 or NaN
NAN_GRADIENTS = {"hardtanh": 1.0, "relu6": 1.0, "hardswish": 1.0, "hardshrink": 1.0,
                 "softshrink": 1.0, "elu": 1.0, "celu": 1.0, "selu": SELU_SCALE}


@pytest.mark.parametrize("length", [1, 3, 64, 301])
@pytest.mark.parametrize("name", sorted(NAN_GRADIENTS))
def test_the_gradient_at_nan_does_not_depend_on_the_length(name, length):
    fn, _, kwargs, _ = ELEMENTWISE[name]
    data = np.full(length, 0.25)
    data[length // 2] = NAN
    _, grads = _ours(fn, kwargs, data, np.float64)
    assert grads[length // 2] == pytest.approx(NAN_GRADIENTS[name], rel=1e-15)


@pytest.mark.parametrize("length", [1, 64])
def test_float32_gelu_of_inf_is_inf(length):
    data = np.zeros(length, np.float32)
    data[0] = INF
    assert F.gelu(wg.tensor(data)).data[0] == INF  # PyTorch's vectorised kernel gives NaN


ROWS = np.array([[NAN, 1, 2, 0.5], [INF, 1, 2, 0.5], [-INF, 1, 2, 0.5], [INF, -INF, 0, 1],
                 [-INF, -INF, -INF, -INF], [800, -800, 0, 3], [-INF, 3, -INF, 1]])


def _compare_rows(torch, ours, theirs, arrays, dtype):
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    xs = [wg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in arrays]
    out, tout = ours(*xs), theirs(*txs)
    _assert_close(out.data, tout.detach().numpy(), dtype)
    out.sum().backward()
    tout.sum().backward()
    for x, tx in zip(xs, txs):
        _assert_close(x.grad.data, tx.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmaxes_glu_and_maxout_at_non_finite_rows(torch_mod, dtype):
    TF = torch_mod.nn.functional
    for dim in (-1, 0):
        for ours, theirs in ((F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax),
                             (F.softmin, TF.softmin)):
            _compare_rows(torch_mod, lambda x: ours(x, dim=dim), lambda x: theirs(x, dim=dim),
                          [ROWS], dtype)
    _compare_rows(torch_mod, F.glu, TF.glu, [ROWS], dtype)
    _compare_rows(torch_mod, lambda x: F.maxout(x, 2),
                  lambda x: x.reshape(len(ROWS), 2, 2).amax(-1), [ROWS], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weight", [[0.25], [0.25, -0.5, 2.0, 0.1]])
def test_prelu_at_non_finite_inputs(torch_mod, weight, dtype):
    # +inf in a column used to give its slope the gradient 0 * inf = NaN
    _compare_rows(torch_mod, F.prelu, torch_mod.nn.functional.prelu,
                  [ROWS, np.array(weight)], dtype)


# --- hardshrink, softshrink ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, lambd", [("hardshrink", 0.5), ("hardshrink", 1.5),
                                         ("softshrink", 0.5), ("softshrink", 1.5)])
def test_shrinks_match_torch(torch_mod, rng, name, lambd, dtype):
    x = rng.normal(size=(4, 5)) * 2
    _compare_rows(torch_mod, lambda v: getattr(F, name)(v, lambd),
                  lambda v: getattr(torch_mod.nn.functional, name)(v, lambd), [x], dtype)
    module, theirs = getattr(nn, name.title())(lambd), getattr(torch_mod.nn, name.title())(lambd)
    assert repr(module) == repr(theirs)
    _compare_rows(torch_mod, module, theirs, [x], dtype)


@pytest.mark.parametrize("fn", [F.hardshrink, F.softshrink])
def test_shrinks_gradcheck(rng, fn):
    x = rng.normal(size=(3, 4)) * 2  # no entry at +-lambd
    assert gradcheck(lambda v: fn(v, 0.5), (x,), order=2).passed


def test_shrinks_by_hand_and_softshrink_refuses_a_negative_lambd():
    x = wg.tensor([-2.0, -0.5, 0.1, 0.5, 0.7], dtype="float64")
    np.testing.assert_allclose(F.hardshrink(x).data, [-2.0, 0, 0, 0, 0.7], rtol=0, atol=0)
    np.testing.assert_allclose(F.softshrink(x).data, [-1.5, 0, 0, 0, 0.2], rtol=1e-15,
                               atol=0)
    np.testing.assert_array_equal(F.hardshrink(x, -1.0).data, x.data)  # PyTorch takes it
    with pytest.raises(wg.ArgumentError, match=r"softshrink: lambd=-0.1 must be >= 0"):
        F.softshrink(x, -0.1)


# --- rrelu --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rrelu_in_eval_is_leaky_relu_with_the_mean_slope(torch_mod, rng, dtype):
    x = rng.normal(size=(5, 4))
    _compare_rows(torch_mod, lambda v: F.rrelu(v, 0.1, 0.4),
                  lambda v: torch_mod.nn.functional.rrelu(v, 0.1, 0.4), [x], dtype)
    ours, theirs = nn.RReLU(0.1, 0.4).eval(), torch_mod.nn.RReLU(0.1, 0.4).eval()
    _compare_rows(torch_mod, ours, theirs, [x], dtype)
    np.testing.assert_allclose(F.rrelu(wg.tensor([-2.0, 3.0], dtype="float64")).data,
                               [-2.0 * (1 / 8 + 1 / 3) / 2, 3.0], rtol=1e-15)


def test_rrelu_reprs_are_torchs(torch_mod):
    for args, kwargs in (((), {}), ((0.1, 0.3), {"inplace": True})):
        assert repr(nn.RReLU(*args, **kwargs)) == repr(torch_mod.nn.RReLU(*args, **kwargs))
    assert repr(nn.Softmax2d()) == repr(torch_mod.nn.Softmax2d())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rrelu_in_training_draws_one_slope_per_negative_entry(dtype):
    lower, upper = 0.1, 0.4
    data = np.linspace(-3, 3, 200_001).astype(dtype)
    x = wg.tensor(data, requires_grad=True)
    out = F.rrelu(x, lower, upper, training=True)
    out.sum().backward()
    assert out.dtype == dtype
    negative, positive = data < 0, data > 0
    np.testing.assert_array_equal(out.data[positive], data[positive])
    np.testing.assert_array_equal(x.grad.data[positive], 1)
    slopes = x.grad.data[negative].astype(np.float64)  # the gradient is the slope drawn
    np.testing.assert_allclose(out.data[negative], slopes * data[negative], rtol=1e-6)
    assert lower <= slopes.min() and slopes.max() <= upper
    # U(lower, upper): mean (l + u)/2 = 0.25, variance (u - l)^2 / 12 = 0.0075; 100,000
    # draws put the sample mean within 5 standard errors (0.0014) and the variance likewise
    assert abs(slopes.mean() - 0.25) < 0.0014
    assert abs(slopes.var() - 0.0075) < 0.0005
    assert len(np.unique(slopes)) > 99_000
    # 0 takes a slope too (PyTorch's test is x <= 0), NaN keeps slope 1
    x = wg.tensor(np.array([0.0, NAN], dtype), requires_grad=True)
    F.rrelu(x, lower, upper, training=True).sum().backward()
    assert lower <= x.grad.data[0] <= upper and x.grad.data[1] == 1


def test_rrelu_in_training_is_reproducible_and_fresh_each_call():
    x = wg.tensor(-np.ones(50))
    first = F.rrelu(x, training=True, generator=wg.Generator(3))
    again = F.rrelu(x, training=True, generator=wg.Generator(3))
    np.testing.assert_array_equal(first.data, again.data)
    wg.manual_seed(5)
    one, two = F.rrelu(x, training=True), F.rrelu(x, training=True)
    assert not np.array_equal(one.data, two.data)
    wg.manual_seed(5)
    np.testing.assert_array_equal(nn.RReLU()(x).data, one.data)  # modules train by default
    assert np.all(nn.RReLU().eval()(x).data == -(1 / 8 + 1 / 3) / 2)


def test_rrelu_in_place_writes_the_sample_and_its_gradient():
    base = wg.tensor([-1.0, 2.0, -3.0, 0.5], dtype="float64", requires_grad=True)
    expected = F.rrelu(base * 1, training=True, generator=wg.Generator(1))
    h = base * 1
    out = F.rrelu_(h, training=True, generator=wg.Generator(1))
    assert out is h
    np.testing.assert_array_equal(h.data, expected.data)
    out.sum().backward()
    slopes = expected.data / base.data
    np.testing.assert_array_equal(base.grad.data, np.where(base.data < 0, slopes, 1))
    module = nn.RReLU(inplace=True, generator=wg.Generator(1))
    h = base * 1
    assert module(h) is h
    with pytest.raises(wg.GraphError, match="leaf"):
        F.rrelu(base, training=True, inplace=True)


def test_rrelu_refuses_lower_above_upper():
    for training in (True, False):
        with pytest.raises(wg.ArgumentError, match=r"rrelu: lower=0.4 is greater than "
                                                   r"upper=0.1"):
            F.rrelu(wg.ones(2), 0.4, 0.1, training=training)


# --- Softmax2d ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5)])
def test_softmax2d_matches_torch(torch_mod, rng, shape, dtype):
    _compare_rows(torch_mod, nn.Softmax2d(), torch_mod.nn.Softmax2d(), [rng.normal(size=shape)],
                  dtype)


@pytest.mark.parametrize("shape", [(3,), (3, 4), (1, 2, 3, 4, 5)])
def test_softmax2d_refuses_other_shapes(torch_mod, shape):
    with pytest.raises(ValueError):
        torch_mod.nn.Softmax2d()(torch_mod.zeros(shape))
    with pytest.raises(wg.ShapeError, match=r"Softmax2d: expected a 3-D .* got shape "
                                            + re.escape(str(shape))):
        nn.Softmax2d()(wg.zeros(shape))


# --- gumbel_softmax -----------------------------------------------------------------------
@pytest.mark.parametrize("dim", [-1, 0])
def test_gumbel_softmax_samples_are_distributions_or_one_hot(dim):
    logits = wg.tensor(np.random.default_rng(0).normal(size=(6, 5)))
    soft = F.gumbel_softmax(logits, tau=0.5, dim=dim)
    assert soft.shape == (6, 5) and np.all(soft.data > 0)
    np.testing.assert_allclose(soft.data.sum(axis=dim), 1, rtol=1e-12)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True, dim=dim)
    assert set(np.unique(hard.data)) <= {0.0, 1.0}  # exactly one-hot
    np.testing.assert_array_equal(hard.data.sum(axis=dim), 1)


def test_gumbel_softmax_hard_is_differentiated_as_the_soft_sample():
    logits = np.random.default_rng(1).normal(size=(4, 3))
    w = np.random.default_rng(2).normal(size=(4, 3))
    grads, samples = [], []
    for hard in (False, True):
        x = wg.tensor(logits, requires_grad=True)
        out = F.gumbel_softmax(x, tau=0.7, hard=hard, generator=wg.Generator(4))
        (out * w).sum().backward()
        grads.append(x.grad.data)
        samples.append(out.data)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-15)
    # the hard sample is the argmax of the soft one drawn with the same noise
    np.testing.assert_array_equal(samples[1].argmax(axis=1), samples[0].argmax(axis=1))


def test_gumbel_softmax_gradcheck_with_fixed_noise():
    logits = np.random.default_rng(3).normal(size=(3, 4))
    assert gradcheck(lambda x: F.gumbel_softmax(x, tau=0.8, generator=wg.Generator(6)),
                     (logits,), order=2).passed


def test_gumbel_max_frequencies_are_the_softmax_probabilities():
    # argmax(logits + Gumbel noise) is a sample of softmax(logits) (the Gumbel-max trick)
    logits = np.log(np.array([0.2, 0.3, 0.5]))
    samples = F.gumbel_softmax(wg.tensor(np.tile(logits, (40_000, 1))), hard=True)
    freq = samples.data.mean(axis=0)
    # binomial standard error sqrt(0.25 / 40000) = 0.0025: within 5 of them
    np.testing.assert_allclose(freq, [0.2, 0.3, 0.5], atol=0.0125)


def test_gumbel_softmax_arguments():
    x = wg.zeros(2, 3)
    for tau in (0, -1.0):
        with pytest.raises(wg.ArgumentError, match=rf"gumbel_softmax: tau={tau} must be "
                                                   "positive"):
            F.gumbel_softmax(x, tau=tau)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        F.gumbel_softmax(x, eps=1e-5)
    assert F.gumbel_softmax(wg.zeros(2, 3, dtype="float32")).dtype == np.float32


# --- one_hot ------------------------------------------------------------------------------
@pytest.mark.parametrize("labels, num_classes", [([[0, 3], [2, 1]], 4), ([[0, 3], [2, 1]], -1),
                                                  (2, 5), ([], 3), ([4, 0, 4], -1)])
def test_one_hot_is_pytorchs(torch_mod, labels, num_classes):
    labels = np.array(labels, dtype=np.int64)
    expected = torch_mod.nn.functional.one_hot(torch_mod.tensor(labels), num_classes).numpy()
    for dtype in (np.int64, np.int32, np.uint8):  # PyTorch takes int64 only
        ours = F.one_hot(wg.tensor(labels.astype(dtype)), num_classes)
        assert ours.dtype == np.int64 and ours.shape == expected.shape
        np.testing.assert_array_equal(ours.data, expected)


@pytest.mark.parametrize("labels, dtype, num_classes, error", [
    ([], "int64", -1, wg.ShapeError), ([-1], "int64", 3, wg.ShapeError),
    ([3], "int64", 3, wg.ShapeError), ([1.0], "float64", -1, TypeError)])
def test_one_hot_refuses_what_pytorch_refuses(torch_mod, labels, dtype, num_classes, error):
    with pytest.raises(RuntimeError):
        torch_mod.nn.functional.one_hot(torch_mod.tensor(labels, dtype=getattr(torch_mod, dtype)),
                                        num_classes)
    with pytest.raises(error):
        F.one_hot(wg.tensor(np.array(labels, dtype=dtype)), num_classes)


# --- float16 inputs of the random activations --------------------------------------------------
def test_rrelu_and_gumbel_softmax_keep_a_float16_input_float16(torch_mod):
    # their draws are float64 (NumPy draws no float16) and once made the result float32
    x = np.random.default_rng(6).normal(size=(5, 7)).astype(np.float16)
    assert torch_mod.nn.functional.gumbel_softmax(torch_mod.tensor(x)).dtype == \
        torch_mod.float16
    assert torch_mod.nn.functional.rrelu(torch_mod.tensor(x)).dtype == torch_mod.float16
    for draw in (lambda x: F.rrelu(x, 0.1, 0.3, training=True),
                 lambda x: F.gumbel_softmax(x, tau=0.5),
                 lambda x: F.gumbel_softmax(x, hard=True)):
        wg.manual_seed(2)
        ours = draw(wg.tensor(x, requires_grad=True))
        assert ours.dtype == np.float16
        wg.manual_seed(2)  # the same draws, with the rest in float64: equal to rounding
        wide = draw(wg.tensor(x.astype(np.float64)))
        np.testing.assert_allclose(ours.data.astype(np.float64), wide.data, rtol=2e-3,
                                   atol=2e-3)
    x16 = wg.tensor(x, requires_grad=True)
    F.rrelu(x16, 0.1, 0.3, training=True).sum().backward()
    slopes = x16.grad.data[x < 0]
    assert x16.grad.dtype == np.float16 and ((slopes >= 0.0999) & (slopes <= 0.3001)).all()
