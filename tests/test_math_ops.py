"""The element-wise math primitives where the op table cannot reach: float32, edge values
inside the domain (xlogy at x = 0, nan_to_num's gradient, logit at its clamp), the Tensor
methods under PyTorch's names, and what each op saves for backward. PyTorch is the oracle."""
import numpy as np
import pytest

import wengert as wg

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
UNARY = {  # wengert name -> (PyTorch name, inputs inside the domain)
    "sinh": ("sinh", [-1.5, 0.3, 2.0]), "cosh": ("cosh", [-1.5, 0.3, 2.0]),
    "arcsin": ("asin", [-0.7, 0.1, 0.9]), "arccos": ("acos", [-0.7, 0.1, 0.9]),
    "arctan": ("atan", [-3.0, 0.1, 2.0]), "arcsinh": ("asinh", [-3.0, 0.1, 2.0]),
    "arccosh": ("acosh", [1.1, 2.0, 5.0]), "arctanh": ("atanh", [-0.7, 0.1, 0.9]),
    "log2": ("log2", [0.3, 1.0, 7.0]), "log10": ("log10", [0.3, 1.0, 70.0]),
    "exp2": ("exp2", [-2.0, 0.5, 3.0]), "deg2rad": ("deg2rad", [-90.0, 10.0, 400.0]),
    "rad2deg": ("rad2deg", [-3.0, 0.1, 7.0]), "logit": ("logit", [0.1, 0.5, 0.8]),
    "nan_to_num": ("nan_to_num", [-1.0, 0.5, 3.0]), "trunc": ("trunc", [-1.5, 0.3, 2.7]),
}
BINARY = {  # wengert name -> (PyTorch name, x, y)
    "arctan2": ("atan2", [1.0, -2.0, 0.5], [0.5, -1.0, -3.0]),
    "hypot": ("hypot", [1.0, -2.0, 0.5], [0.5, -1.0, -3.0]),
    "logaddexp": ("logaddexp", [1.0, -2.0, 30.0], [0.5, -1.0, -3.0]),
    "logaddexp2": ("logaddexp2", [1.0, -2.0, 30.0], [0.5, -1.0, -3.0]),
    "xlogy": ("xlogy", [1.0, -2.0, 0.5], [0.5, 1.0, 3.0]),
    "fmod": ("fmod", [5.5, -5.5, 1.0], [2.0, 2.0, -0.75]),
    "remainder": ("remainder", [5.5, -5.5, 1.0], [2.0, 2.0, -0.75]),
    "floor_divide": ("floor_divide", [5.5, -5.5, 1.0], [2.0, 2.0, -0.75]),
    "heaviside": ("heaviside", [-1.0, 0.0, 2.0], [0.5, 0.5, 0.5]),
}


def _both(values, dtype=np.float64):
    """The same values as a wengert and a torch tensor, both requiring grad when floating."""
    a = np.array(values, dtype=dtype)
    return wg.Tensor(a.copy(), requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(got, expected, rtol=1e-12):
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=rtol, atol=1e-12)


def _grads(out_w, out_t, inputs_w, inputs_t):
    seed = np.linspace(0.5, 1.5, out_w.data.size).reshape(out_w.shape)
    (out_w * seed).sum().backward()
    (out_t * torch.tensor(seed)).sum().backward()
    for w, t in zip(inputs_w, inputs_t):
        _check(w.grad, t.grad)


# --- float32 stays float32 ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_float32_stays_float32(name):
    t_name, values = UNARY[name]
    x, xt = _both(values, np.float32)
    out = getattr(wg, name)(x)
    assert out.dtype == np.float32
    _check(out, getattr(torch, t_name)(xt), rtol=1e-6)
    if wg.REGISTRY[name].differentiable:
        out.sum().backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("other", ["tensor", "number"])
def test_binary_float32_stays_float32(name, other):
    t_name, xs, ys = BINARY[name]
    x, xt = _both(xs, np.float32)
    # a Python number is weak (NumPy 2's promotion): it never upcasts the tensor
    y, yt = _both(ys, np.float32) if other == "tensor" else (ys[0], torch.tensor(ys[0], dtype=torch.float32))
    out = getattr(wg, name)(x, y)
    assert out.dtype == np.float32
    _check(out, getattr(torch, t_name)(xt, yt), rtol=1e-6)
    if wg.REGISTRY[name].differentiable:
        out.sum().backward()
        assert x.grad.dtype == np.float32
        if other == "tensor":
            assert y.grad.dtype == np.float32


def test_composites_float32_stay_float32():
    x = wg.Tensor(np.float32([0.1, 0.5, 0.9]), requires_grad=True)
    for out in (wg.lerp(x, 2.0, 0.3), wg.lerp(x, x * 2, x), wg.logit(x, eps=0.2),
                wg.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0)):
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32


# --- edge values inside the domain, against PyTorch -----------------------------------------
def test_xlogy_at_x_zero_matches_torch():
    # 0 * log(0) = 0, 0 * log(inf) = 0 and a NaN y stays NaN; x's gradient is log(y) but 0
    # where x == 0 and y <= 0; y's is x / y (NaN at 0 / 0, as torch)
    x, xt = _both([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0])
    y, yt = _both([0.0, 2.0, -1.0, INF, NAN, 0.0, 3.0])
    with np.errstate(divide="ignore", invalid="ignore"):  # x / y at 0 / 0 and log(0)
        out = wg.xlogy(x, y)
        expected = torch.xlogy(xt, yt)
        _check(out, expected)
        _grads(out, expected, [x, y], [xt, yt])


def test_xlogy_takes_no_log_of_zero_where_x_is_zero():
    with np.errstate(all="raise"):  # a NumPy warning would raise
        x = wg.tensor([0.0, 0.0], dtype="float64", requires_grad=True)
        out = wg.xlogy(x, wg.tensor([0.0, -1.0], dtype="float64"))
        out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 0.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_nan_to_num_gradient_is_zero_where_replaced():
    x, xt = _both([1.5, NAN, INF, -INF, -2.0])
    for kw in ({}, {"nan": 7.0, "posinf": 1e3, "neginf": -1e3}):
        x.grad = xt.grad = None
        out = wg.nan_to_num(x, **kw)
        expected = torch.nan_to_num(xt, **kw)
        _check(out, expected)
        with np.errstate(over="ignore"):  # the seed times float64's largest value
            _grads(out, expected, [x], [xt])
    np.testing.assert_array_equal(x.grad.data, [0.5, 0.0, 0.0, 0.0, 1.5])


def test_nan_to_num_float32_defaults_are_float32_limits():
    x = wg.Tensor(np.float32([INF, -INF]))
    expected = torch.nan_to_num(torch.tensor([INF, -INF], dtype=torch.float32)).numpy()
    np.testing.assert_array_equal(wg.nan_to_num(x).data, expected)


def test_logit_with_eps_at_the_clamp_matches_torch():
    # at eps and 1 - eps exactly the gradient is still 1 / (x (1 - x)); outside, 0; x = 0
    # and 1 are clamped, so nothing divides by 0
    x, xt = _both([-1.0, 0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0, 2.0])
    with np.errstate(all="raise"):
        out = wg.logit(x, eps=0.1)
        expected = torch.logit(xt, eps=0.1)
        _check(out, expected)
        _grads(out, expected, [x], [xt])


def test_logit_without_eps_is_nan_outside_the_domain_as_torch():
    x, xt = _both([-0.5, 0.0, 0.5, 1.0, 1.5])
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) and 1 / 0 at the ends
        out = wg.logit(x)
        expected = torch.logit(xt)
        _check(out, expected)
        _grads(out, expected, [x], [xt])
    assert np.isnan(x.grad.data[[0, 4]]).all() and np.isinf(x.grad.data[[1, 3]]).all()


def test_arctan2_at_the_origin_has_zero_gradient_as_torch():
    y, yt = _both([0.0, 1.0])
    x, xt = _both([0.0, -1.0])
    out, expected = wg.arctan2(y, x), torch.atan2(yt, xt)
    _check(out, expected)
    _grads(out, expected, [y, x], [yt, xt])


def test_fmod_and_remainder_signs_and_gradients_match_torch():
    # fmod takes x's sign, remainder y's; y's gradient is minus the truncated/floored quotient
    for name in ("fmod", "remainder"):
        x, xt = _both([5.5, -5.5, 5.5, -5.5, 0.25])
        y, yt = _both([2.0, 2.0, -2.0, -2.0, 0.1])
        out, expected = getattr(wg, name)(x, y), getattr(torch, name)(xt, yt)
        _check(out, expected)
        _grads(out, expected, [x, y], [xt, yt])


def test_lerp_matches_torch_and_hits_end_exactly_at_weight_one():
    a, at = _both([1.0, -2.0, 0.1])
    b, bt = _both([3.0, 4.0, 0.3])
    w, wt = _both([0.0, 0.7, 1.0])
    out, expected = wg.lerp(a, b, w), torch.lerp(at, bt, wt)
    _check(out, expected)
    _grads(out, expected, [a, b, w], [at, bt, wt])
    assert out.data[2] == 0.3 and out.data[0] == 1.0
    np.testing.assert_array_equal(wg.lerp(a, b, 1.0).data, b.data)


def test_heaviside_takes_values_at_zero_and_gives_0_for_nan_as_torch():
    values = [-2.0, 0.0, -0.0, 3.0, NAN, INF, -INF]
    x, xt = wg.tensor(values, dtype="float64"), torch.tensor(values, dtype=torch.float64)
    for v in ([0.25], [NAN], 0.25):
        vt = torch.tensor(v, dtype=torch.float64)
        out = wg.heaviside(x, wg.tensor(v, dtype="float64"))
        _check(out, torch.heaviside(xt, vt))
        assert not out.requires_grad
    # torch's 0 for a NaN x, where NumPy's np.heaviside gives NaN
    assert wg.heaviside(x, wg.tensor([0.25], dtype="float64")).data[4] == 0
    assert np.isnan(np.heaviside(NAN, 0.25))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32, np.uint8])
def test_heaviside_keeps_its_inputs_dtype_as_torch(dtype):
    x, v = np.array([-2, 0, 3] if dtype != np.uint8 else [5, 0, 3], dtype), np.array([7], dtype)
    out = wg.heaviside(wg.tensor(x), wg.tensor(v))
    expected = torch.heaviside(torch.tensor(x), torch.tensor(v))
    assert str(out.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_array_equal(out.data, expected.numpy())


def test_out_of_domain_is_nan_and_anomaly_mode_names_the_op():
    with np.errstate(invalid="ignore"):
        assert np.isnan(wg.arcsin(wg.tensor([2.0])).data).all()
    with pytest.raises(wg.AnomalyError, match="'arccosh' produced a non-finite"):
        with wg.detect_anomaly():
            wg.arccosh(wg.tensor([0.5], requires_grad=True))


# --- Tensor methods and aliases under PyTorch's names ---------------------------------------
METHOD_ARGS = {"lerp": lambda: (np.array([2.0, 1.0, 0.5]), 0.25)}


@pytest.mark.parametrize("method", [
    "sinh", "cosh", "asin", "acos", "atan", "asinh", "atanh", "arcsin", "arccos", "arctan",
    "arcsinh", "arctanh", "log2", "log10", "exp2", "logit", "nan_to_num", "deg2rad",
    "rad2deg", "trunc", "atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "xlogy",
    "fmod", "remainder", "floor_divide", "heaviside", "lerp"])
def test_tensor_methods_agree_with_torch(method):
    x, xt = _both([0.2, 0.4, 0.7])  # inside every domain but acosh's (tested below)
    others = ()
    if method in ("atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "fmod",
                  "remainder", "floor_divide", "heaviside"):
        others = (np.array([0.3, 0.6, 0.9]),)
    others = METHOD_ARGS.get(method, lambda: others)()
    out = getattr(x, method)(*[wg.Tensor(o) if isinstance(o, np.ndarray) else o for o in others])
    expected = getattr(xt, method)(*[torch.tensor(o) if isinstance(o, np.ndarray) else o
                                     for o in others])
    _check(out, expected)


def test_acosh_method_and_logit_eps_method():
    x, xt = _both([1.5, 3.0])
    _check(x.acosh(), xt.acosh())
    _check(x.arccosh(), xt.arccosh())
    p, pt = _both([0.05, 0.5])
    _check(p.logit(0.1), pt.logit(0.1))
    _check(p.logit(eps=0.1), pt.logit(eps=0.1))
    _check(p.nan_to_num(1.0, 2.0, -2.0), pt.nan_to_num(1.0, 2.0, -2.0))


def test_torch_spellings_are_the_same_functions():
    for alias, name in [("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"),
                        ("asinh", "arcsinh"), ("acosh", "arccosh"), ("atanh", "arctanh"),
                        ("atan2", "arctan2")]:
        assert getattr(wg, alias) is getattr(wg, name)


def test_mod_and_floordiv_operators_are_torch_s():
    x, xt = _both([5.5, -5.5, 1.0])
    y, yt = _both([2.0, 2.0, -0.75])
    _check(x % y, xt % yt)
    _check(x // y, xt // yt)
    _check(x % 2, xt % 2)
    _check(7 % x, 7 % xt)
    _check(7 // x, 7 // xt)


# --- what the rules save --------------------------------------------------------------------
def test_rules_that_read_no_output_allow_writing_it_in_place():
    for op in (wg.log2, wg.arcsin, wg.sinh, wg.logit):
        x = wg.tensor([0.3, 0.6], dtype="float64", requires_grad=True)
        z = op(x * 1)
        z.mul_(2)
        z.sum().backward()  # op's rule read only its input
        assert x.grad is not None


def test_fmod_gradient_for_x_reads_nothing():
    x = wg.tensor([5.5, -1.0], dtype="float64", requires_grad=True)
    y = wg.tensor([2.0, 0.75], dtype="float64")
    out = wg.fmod(x, y)
    y.mul_(3)  # y needs no gradient, so x's rule (gradient 1) does not read it
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


@pytest.mark.parametrize("op", [wg.exp2, lambda x: wg.hypot(x, 2.0)])
def test_rules_that_read_the_output_refuse_a_write_over_it(op):
    x = wg.tensor([0.3, 0.6], dtype="float64", requires_grad=True)
    z = op(x)
    z.mul_(2)
    with pytest.raises(wg.GraphError, match="modified"):
        z.sum().backward()


# --- integer and bool inputs to float-valued ops -----------------------------------------
# The ops written in Python and reciprocal compute them in the default float dtype, float32,
# as torch; the bare NumPy ufuncs keep NumPy's promotion (float64, float16 for bool and 8-bit
# integers), with torch's values (see wengert.ops.elementwise's docstring).
@pytest.fixture
def torch_float32():
    """torch's own default dtype, float32, which it gives integer inputs of these ops."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(default)


AS_TORCH = {"reciprocal": "reciprocal", "sigmoid": "sigmoid", "logit": "logit", "erf": "erf"}
AS_NUMPY = {  # wengert name -> torch's
    "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt",
    "exp2": "exp2", "log2": "log2", "log10": "log10",
    "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh", "sinh": "sinh",
    "cosh": "cosh", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "deg2rad": "deg2rad",
    "rad2deg": "rad2deg",
}
INTEGRAL = [np.int64, np.int32, np.int16, np.uint8, np.bool_]


def _integral(dtype):
    return np.array([0, 1, 2, 3, 1, 0], dtype) if dtype != np.bool_ else np.array(
        [True, False, True, True, False, False])


def _same(out, expected, dtype=None):
    """``out`` has ``dtype`` (torch's result's when None) and torch's values."""
    dtype = dtype or str(expected.dtype).replace("torch.", "")
    assert str(out.dtype) == str(np.dtype(dtype)), (out.dtype, dtype)
    rtol = 1e-3 if out.dtype == np.float16 else 2e-6
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=rtol, atol=1e-7,
                               equal_nan=True)


@pytest.mark.parametrize("dtype", INTEGRAL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(AS_TORCH))
def test_integer_inputs_to_python_float_valued_ops_give_float32_as_torch(torch_float32, name,
                                                                        dtype):
    a = _integral(dtype)
    with np.errstate(all="ignore"):  # logit(0): the same inf as torch
        out = getattr(wg, name)(wg.tensor(a))
    _same(out, getattr(torch, AS_TORCH[name])(torch.tensor(a)))
    if hasattr(wg.Tensor, name):  # the method the same way
        with np.errstate(all="ignore"):
            assert getattr(wg.tensor(a), name)().dtype == np.float32


@pytest.mark.parametrize("dtype", INTEGRAL, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(AS_NUMPY))
def test_integer_inputs_to_ufunc_ops_follow_numpys_promotion_with_torchs_values(
        torch_float32, name, dtype):
    a = _integral(dtype)
    with np.errstate(all="ignore"):  # log(0), arccosh(0)...: the same inf and NaN as torch
        out = getattr(wg, name)(wg.tensor(a))
        numpy_dtype = getattr(np, name)(a).dtype
    _same(out, getattr(torch, AS_NUMPY[name])(torch.tensor(a)), numpy_dtype)


@pytest.mark.parametrize("other", ["int64", "bool", "float32", "float64", "python float",
                                   "python int"])
def test_integer_inputs_to_xlogy_promote_as_torch(torch_float32, other):
    x = np.array([0, 1, 2, 3, -4])
    y = {"int64": np.array([1, 2, 3, 4, 5]), "bool": np.array([True, False, True, True, True]),
         "float32": np.array([0.5, 2.0, 3.0, 0.25, 1.5], np.float32),
         "float64": np.array([0.5, 2.0, 3.0, 0.25, 1.5]), "python float": 2.5,
         "python int": 3}[other]

    def wrap(lib, a):
        return lib.tensor(a) if isinstance(a, np.ndarray) else a
    with np.errstate(all="ignore"):
        _same(wg.xlogy(wrap(wg, x), wrap(wg, y)), torch.xlogy(wrap(torch, x), wrap(torch, y)))
        if isinstance(y, np.ndarray):  # and with the integers second
            _same(wg.xlogy(wrap(wg, y), wrap(wg, x)),
                  torch.xlogy(wrap(torch, y), wrap(torch, x)))


def test_int_over_int_is_true_division_with_numpys_dtype_and_torchs_values(torch_float32):
    a, b = np.array([1, 2, 7]), np.array([2, 4, 3])
    _same(wg.tensor(a) / wg.tensor(b), torch.tensor(a) / torch.tensor(b), (a / b).dtype)
    _same(wg.tensor(a) / 2, torch.tensor(a) / 2, (a / 2).dtype)
    _same(5 / wg.tensor(b), 5 / torch.tensor(b), (5 / b).dtype)
    _same(wg.tensor(a).div(wg.tensor(b)), torch.tensor(a).div(torch.tensor(b)), (a / b).dtype)


def test_gradient_of_a_float_input_beside_an_integer_one_matches_torch(torch_float32):
    x = np.array([0, 1, 2, 3])
    y = np.array([0.5, 2.0, 3.0, 0.25], np.float32)
    for ours, theirs in [(wg.xlogy, torch.xlogy), (wg.divide, torch.div),
                         (wg.arctan2, torch.atan2)]:
        yw, yt = wg.tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
        out, expected = ours(wg.tensor(x), yw), theirs(torch.tensor(x), yt)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=2e-6)
        out.sum().backward()
        expected.sum().backward()
        assert yw.grad.dtype == np.float32  # a gradient has its tensor's dtype
        np.testing.assert_allclose(yw.grad.data, yt.grad.numpy(), rtol=2e-6)


@pytest.mark.parametrize("name, torch_fn", [
    ("softplus", torch.nn.functional.softplus), ("elu", torch.nn.functional.elu),
    ("leaky_relu", torch.nn.functional.leaky_relu)])
def test_float_valued_ops_torch_has_no_integer_kernel_for_compute_in_float32(torch_float32,
                                                                           name, torch_fn):
    # torch raises ("not implemented for 'Long'"); wengert computes them as its other
    # Python float-valued ops do, in float32: torch's values for the inputs as float32
    a = np.array([-3, -1, 0, 2, 5])
    with pytest.raises(RuntimeError, match="not implemented"):
        torch_fn(torch.tensor(a))
    _same(getattr(wg, name)(wg.tensor(a)), torch_fn(torch.tensor(a, dtype=torch.float32)))


def test_float_inputs_keep_their_dtype_and_python_numbers_stay_numpys():
    for dtype in (np.float16, np.float32, np.float64):
        x = wg.tensor(np.array([0.5, 1.5], dtype))
        assert wg.exp(x).dtype == dtype and (x / 2).dtype == dtype
        assert wg.xlogy(x, 2).dtype == dtype and wg.sigmoid(x).dtype == dtype
    assert wg.exp(2.0).dtype == np.float64  # a Python number: NumPy's promotion
