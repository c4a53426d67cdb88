"""Pooling functions and modules against PyTorch: values, return_indices, input gradients in
float32 and float64, ties, NaN and -inf, overlapping windows, reprs and error messages.
The derivative rules themselves (JVP, second order) are checked in the op table
(tests/op_cases_pooling.py)."""
import itertools
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck
from wengert.errors import ArgumentError, DTypeError, ShapeError

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-12}}


def _run_both(torch, ours, theirs, x, seed=0):
    """Apply ``ours`` and ``theirs`` to ``x``, backward a random seed through both; returns
    ((values, indices or None, input grad), the same from torch)."""
    xw, xt = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    results = []
    for fn, t, as_np in ((ours, xw, lambda a: a.data), (theirs, xt, lambda a: a.numpy())):
        out = fn(t)
        values, indices = out if isinstance(out, tuple) else (out, None)
        w = np.random.default_rng(seed).normal(size=tuple(values.shape)).astype(x.dtype)
        # the seed itself, not the sum of values * w, which is NaN (with NumPy's warning)
        # where values hold infinities of both signs
        values.backward(torch.tensor(w) if t is xt else w)
        results.append((as_np(values.detach()), None if indices is None else as_np(indices),
                        as_np(t.grad)))
    return results


def _assert_same(torch, ours, theirs, x):
    (v, i, g), (tv, ti, tg) = _run_both(torch, ours, theirs, x)
    tol = TOL[x.dtype.type]
    assert v.dtype == x.dtype and g.dtype == x.dtype  # float32 stays float32
    assert v.shape == tv.shape
    np.testing.assert_allclose(v, tv, **tol)
    np.testing.assert_allclose(g, tg, **tol)
    if ti is not None:
        assert i.dtype == np.int64
        np.testing.assert_array_equal(i, ti)


def _both(torch, name, *args):
    """The function ``name`` of wengert.nn.functional and of torch.nn.functional, with
    ``args`` after the input."""
    return (lambda t: getattr(F, name)(t, *args),
            lambda t: getattr(torch.nn.functional, name)(t, *args))


def _distinct(shape, dtype=np.float64, seed=0):
    """Distinct values (no ties), shuffled."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) / 7 - 3).astype(dtype)


SHAPES = {1: (2, 3, 9), 2: (2, 2, 7, 6), 3: (1, 2, 5, 6, 5)}


# --- functions against torch, over the geometry -----------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_pool_matches_torch(torch_mod, n):
    name = f"max_pool{n}d"
    for k, s, p, d, c in itertools.product((1, 2, 3), (None, 1, 2), (0, 1), (1, 2),
                                           (False, True)):
        if p > k // 2:
            continue
        x = _distinct(SHAPES[n], seed=k + 3 * p)
        args = (k, s, p, d, c, True)
        _assert_same(torch_mod, *_both(torch_mod, name, *args), x)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_avg_pool_matches_torch(torch_mod, n):
    name = f"avg_pool{n}d"
    overrides = (None,) if n == 1 else (None, 3)  # avg_pool1d has no divisor_override
    for k, s, p, c, inc, div in itertools.product((1, 2, 3), (None, 1, 2), (0, 1),
                                                  (False, True), (True, False), overrides):
        if p > k // 2:
            continue
        args = (k, s, p, c, inc) + (() if div is None else (div,))
        _assert_same(torch_mod, *_both(torch_mod, name, *args), _distinct(SHAPES[n], seed=k))


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_adaptive_pool_matches_torch(torch_mod, n, kind):
    name = f"adaptive_{kind}_pool{n}d"
    extra = (True,) if kind == "max" else ()
    x = _distinct(SHAPES[n])
    for size in (1, 2, 3, 4, 5, 7, 10):  # divisible, not, and larger than the input
        _assert_same(torch_mod, *_both(torch_mod, name, size, *extra), x)
    if n > 1:  # None keeps that axis
        size = (None,) + (3,) * (n - 1)
        _assert_same(torch_mod, *_both(torch_mod, name, size, *extra), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, args", [
    ("max_pool2d", (3, 2, 1, 1, True, True)), ("avg_pool2d", (3, 2, 1, True, False)),
    ("adaptive_max_pool2d", (3, True)), ("adaptive_avg_pool2d", (3,)),
    ("max_pool1d", (2,)), ("avg_pool3d", (2, 1)), ("adaptive_max_pool3d", (2,))])
def test_unbatched_and_float32(torch_mod, name, args, dtype):
    n = int(name[-2])
    x = _distinct(SHAPES[n][1:], dtype)  # (C, *spatial)
    _assert_same(torch_mod, *_both(torch_mod, name, *args), x)


# --- modules -----------------------------------------------------------------------------------
MODULES = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "return_indices": True}),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((3, 2),), {"stride": 1, "padding": (1, 0), "dilation": (1, 2), "ceil_mode": True,
                                   "return_indices": True}),
    ("MaxPool3d", (2,), {"stride": 1, "return_indices": True}),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "divisor_override": 4}),
    ("AvgPool3d", ((2, 2, 3),), {"stride": (1, 2, 2), "padding": (0, 1, 1), "ceil_mode": True}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveAvgPool2d", ((None, 4),), {}),
    ("AdaptiveAvgPool3d", (2,), {}),
    ("AdaptiveMaxPool1d", (4,), {"return_indices": True}),
    ("AdaptiveMaxPool2d", ((3, 4),), {}),
    ("AdaptiveMaxPool3d", ((2, None, 3),), {"return_indices": True}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, args, kwargs", MODULES,
                         ids=[f"{m}{a}{k}" for m, a, k in MODULES])
def test_module_matches_torch(torch_mod, name, args, kwargs, dtype):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_mod.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    _assert_same(torch_mod, ours, theirs, _distinct(SHAPES[int(name[-2])], dtype))


def test_modules_have_no_parameters():
    assert list(nn.MaxPool2d(2).parameters()) == []
    assert list(nn.AdaptiveAvgPool2d(1).parameters()) == []


# --- ties, NaN, -inf ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ties_pick_the_entry_torch_picks(torch_mod, dtype):
    # every window is constant, and windows overlap: the gradient goes to one entry of each
    x = np.array([[[[1, 1, 1, 2], [1, 1, 2, 2], [0, 0, 2, 2], [0, 0, 2, 2]]]], dtype)
    # (kernel_size, stride, padding, dilation, ceil_mode), return_indices=True
    for args in [(2, None, 0, 1, False), (2, 1, 0, 1, False), (3, 1, 1, 1, False),
                 ((2, 3), 1, (1, 1), 1, True)]:
        _assert_same(torch_mod, *_both(torch_mod, "max_pool2d", *args, True), x)
    for size in (1, 2, 3):
        _assert_same(torch_mod, *_both(torch_mod, "adaptive_max_pool2d", size, True), x)


def test_a_constant_window_gives_its_first_entry():
    # worked by hand: one 2x2 window of equal values, the first (row-major) entry wins
    x = wg.tensor(np.full((1, 1, 2, 2), 5.0), requires_grad=True)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    values.sum().backward()
    assert indices.data.tolist() == [[[[0]]]]
    assert x.grad.data.tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_nan_propagates_as_in_torch(torch_mod, n):
    x = _distinct(SHAPES[n])
    flat = x.reshape(-1)
    flat[[1, 4, 5, 17, 30]] = np.nan  # windows with one NaN and with several
    # (kernel_size, stride, padding, dilation), then ceil_mode=False, return_indices=True
    for args in [(2, None, 0, 1), (3, 1, 1, 1), (2, 1, 0, 2)]:
        (v, i, g), (tv, ti, tg) = _run_both(
            torch_mod, *_both(torch_mod, f"max_pool{n}d", *args, False, True), x)
        np.testing.assert_array_equal(v, tv)  # NaN where torch has NaN, the rest equal
        np.testing.assert_array_equal(i, ti)
        np.testing.assert_array_equal(g, tg)
    (v, i, g), (tv, ti, tg) = _run_both(
        torch_mod, *_both(torch_mod, f"adaptive_max_pool{n}d", 3, True), x)
    np.testing.assert_array_equal(v, tv)
    np.testing.assert_array_equal(i, ti)


def test_all_minus_inf_window_picks_its_first_entry_inside(torch_mod):
    x = np.full((1, 1, 3, 3), -np.inf)
    for args in [(2, 2, 1), (3, 2, 1, 1, True)]:  # windows that start in the padding
        xw, xt = wg.tensor(x, requires_grad=True), torch_mod.tensor(x, requires_grad=True)
        values, indices = F.max_pool2d(xw, *args, return_indices=True)
        tvalues, tindices = torch_mod.nn.functional.max_pool2d(xt, *args, return_indices=True)
        np.testing.assert_array_equal(values.data, tvalues.detach().numpy())
        np.testing.assert_array_equal(indices.data, tindices.numpy())
        values.sum().backward()
        tvalues.sum().backward()
        np.testing.assert_array_equal(xw.grad.data, xt.grad.numpy())


# --- overlapping windows accumulate ---------------------------------------------------------
def test_overlapping_max_windows_accumulate(torch_mod):
    # the 9 sits in all four 3x3 windows of a 4x4 input (stride 1): its gradient is 4
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 9.0
    x[0, 0, 3, 3] = 1.0  # below 9, so it wins nothing
    xw = wg.tensor(x, requires_grad=True)
    F.max_pool2d(xw, 3, stride=1).sum().backward()
    expected = np.zeros((1, 1, 4, 4))
    expected[0, 0, 1, 2] = 4.0
    np.testing.assert_array_equal(xw.grad.data, expected)
    xt = torch_mod.tensor(x, requires_grad=True)
    torch_mod.nn.functional.max_pool2d(xt, 3, stride=1).sum().backward()
    np.testing.assert_array_equal(xw.grad.data, xt.grad.numpy())


def test_overlapping_avg_windows_accumulate(torch_mod):
    # 1-D, kernel 3, stride 1, length 5: entry j is in min(j+1, 3, 5-j) windows, each /3
    xw = wg.tensor(np.arange(5.0).reshape(1, 1, 5), requires_grad=True)
    F.avg_pool1d(xw, 3, stride=1).sum().backward()
    np.testing.assert_allclose(xw.grad.data[0, 0], np.array([1, 2, 3, 2, 1]) / 3)
    _assert_same(torch_mod, lambda t: F.avg_pool2d(t, 3, 1, 1),
                 lambda t: torch_mod.nn.functional.avg_pool2d(t, 3, 1, 1),
                 _distinct((2, 3, 6, 5)))


def test_hand_worked_values():
    x = wg.tensor(np.array([[[1.0, 2, 3, 4, 5]]]))
    # ceil_mode: a last window [5] of one entry; padding 1: windows [0,1,2] [2,3,4] [4,5,0]
    assert F.avg_pool1d(x, 2, ceil_mode=True).data.tolist() == [[[1.5, 3.5, 5.0]]]
    assert F.max_pool1d(x, 3, 2, 1).data.tolist() == [[[2.0, 4.0, 5.0]]]
    assert F.avg_pool1d(x, 3, 2, 1).data.tolist() == [[[1.0, 3.0, 3.0]]]
    assert F.avg_pool1d(x, 3, 2, 1, count_include_pad=False).data.tolist() == [[[1.5, 3.0,
                                                                                  4.5]]]
    # adaptive, 5 -> 3: windows [0, 2), [1, 4), [3, 5)
    assert F.adaptive_avg_pool1d(x, 3).data.tolist() == [[[1.5, 3.0, 4.5]]]
    assert F.adaptive_max_pool1d(x, 3).data.tolist() == [[[2.0, 4.0, 5.0]]]


def test_empty_batch():
    out = F.max_pool2d(wg.tensor(np.zeros((0, 2, 4, 4))), 2)
    assert out.shape == (0, 2, 2, 2)
    assert F.avg_pool2d(wg.tensor(np.zeros((0, 2, 4, 4))), 2).shape == (0, 2, 2, 2)


def _empty_cases():
    """(function, input shape, arguments after the input): empty batches, channels and
    spatial axes, batched and unbatched, and adaptive output sizes of 0 on each axis."""
    for d in (1, 2, 3):
        spatial = (4,) * d
        shapes = [(0, 1) + spatial, (2, 0) + spatial, (0, 0) + spatial, (0,) + spatial,
                  (1, 1, 0) + spatial[1:], (0, 1) + spatial[1:] + (0,), (0,) + spatial[1:] + (0,)]
        for shape in shapes:
            yield f"max_pool{d}d", shape, (2,)
            yield f"avg_pool{d}d", shape, (2,)
            for size in (0, 2):
                yield f"adaptive_avg_pool{d}d", shape, (size,)
                yield f"adaptive_max_pool{d}d", shape, (size, True)
        for shape in [(2, 3) + spatial, (3,) + spatial, (0, 3) + spatial, (2, 0) + spatial]:
            for axis in range(d):
                size = tuple(0 if a == axis else 3 for a in range(d))
                yield f"adaptive_avg_pool{d}d", shape, (size,)
                yield f"adaptive_max_pool{d}d", shape, (size, True)


@pytest.mark.parametrize("name, shape, args", list(_empty_cases()))
def test_empty_inputs_and_outputs_follow_torch(torch_mod, name, shape, args):
    # PyTorch 2.13 pools an empty batch everywhere, an empty channel in adaptive_avg_pool1d
    # and 2d, and that of an unbatched input in adaptive max pooling and adaptive_avg_pool3d;
    # adaptive output sizes may be 0. An empty spatial axis is an error everywhere.
    try:
        expected = getattr(torch_mod.nn.functional, name)(torch_mod.zeros(shape), *args)
    except RuntimeError:
        with pytest.raises(ShapeError, match=rf"{name}: expected a non-empty"):
            getattr(F, name)(wg.zeros(*shape), *args)
        return
    xw = wg.tensor(np.zeros(shape), requires_grad=True)
    ours = getattr(F, name)(xw, *args)
    if isinstance(expected, tuple):
        (expected, expected_index), (ours, index) = expected, ours
        assert index.dtype == np.int64 and index.shape == tuple(expected_index.shape)
    assert ours.shape == tuple(expected.shape) and ours.dtype == np.float64
    assert ours.data.size == 0
    # the sum of an empty output is the constant 0: a zero gradient (PyTorch's backward
    # refuses most empty outputs)
    ours.sum().backward()
    np.testing.assert_array_equal(xw.grad.data, np.zeros(shape))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, shape, size", [
    ("adaptive_avg_pool1d", (2, 3, 9), 4), ("adaptive_avg_pool2d", (2, 2, 7, 6), (3, 4)),
    ("adaptive_avg_pool2d", (1, 2, 5, 6), (8, 1)),
    ("adaptive_avg_pool3d", (1, 2, 5, 6, 5), (2, 3, 4))])
def test_adaptive_avg_pool_infinities_and_nan_follow_torch(torch_mod, name, shape, size, dtype):
    # the window sums are matmuls by 0/1 matrices, where an infinity times a 0 would be NaN
    # in every window of its row; such inputs are summed entry by entry, as PyTorch sums them
    x = _distinct(shape, dtype)
    flat = x.reshape(-1)
    flat[[2, flat.size // 2, -3, -1]] = [np.inf, np.nan, -np.inf, np.inf]
    (v, _, g), (tv, _, tg) = _run_both(torch_mod, *_both(torch_mod, name, size)[:2], x)
    assert np.isinf(tv).any() and np.isnan(tv).any() and np.isfinite(tv).any()
    np.testing.assert_allclose(v, tv, **TOL[dtype])
    np.testing.assert_allclose(g, tg, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, shape, size", [
    ("adaptive_avg_pool1d", (2, 3, 12), 4),  # windows that tile the axis: a reshape and a sum
    ("adaptive_avg_pool1d", (2, 3, 9), 4),  # a matmul, redone entry by entry
    ("adaptive_avg_pool2d", (1, 2, 8, 6), (4, 4)),  # one axis each way
    ("adaptive_avg_pool3d", (1, 2, 4, 6, 5), (2, 3, 4))])
def test_adaptive_avg_pool_infinities_and_nan_raise_no_numpy_warning(torch_mod, name, shape,
                                                                     size, dtype):
    # entries 3 and 4 share a window, where inf - inf is NaN: PyTorch gives that NaN without
    # a warning, and so does wengert, forward and backward (every warning is an error here)
    x = _distinct(shape, dtype)
    flat = x.reshape(-1)
    flat[[3, 4, flat.size // 2, -1]] = [np.inf, -np.inf, np.nan, np.inf]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (v, _, g), (tv, _, tg) = _run_both(torch_mod, *_both(torch_mod, name, size), x)
    assert np.isinf(tv).any() and np.isnan(tv).any() and np.isfinite(tv).any()
    np.testing.assert_allclose(v, tv, **TOL[dtype])
    np.testing.assert_allclose(g, tg, **TOL[dtype])


def test_adaptive_avg_pool_of_tiling_windows_to_second_order():
    # windows that tile an axis are summed by a reshape (the op table's cases take the
    # matmul): here 4 -> 2 (a reshape) and 6 -> 5 (a matmul)
    f = lambda t: F.adaptive_avg_pool2d(t, (2, 5)) ** 2  # noqa: E731
    assert gradcheck(f, (_distinct((1, 2, 4, 6)),), order=2,
                     modes=("reverse", "forward")).passed


# --- errors ---------------------------------------------------------------------------------
def test_padding_larger_than_half_the_kernel():
    x = wg.tensor(np.zeros((1, 1, 5, 5)))
    with pytest.raises(ArgumentError, match=r"max_pool2d: padding \(2, 2\) must be at most "
                                            r"half the kernel size \(3, 3\)"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ArgumentError, match="avg_pool2d: padding"):
        nn.AvgPool2d(2, padding=2)(x)


def test_kernel_larger_than_input():
    with pytest.raises(ShapeError, match=r"max_pool2d: the input of shape \(1, 1, 3, 3\) is "
                                         r"too small for kernel_size=\(4, 4\).*Hint"):
        F.max_pool2d(wg.tensor(np.zeros((1, 1, 3, 3))), 4)
    with pytest.raises(ShapeError, match=r"avg_pool1d: the input of shape \(2, 2\)"):
        F.avg_pool1d(wg.tensor(np.zeros((2, 2))), 3)


def test_wrong_number_of_axes():
    with pytest.raises(ShapeError, match=r"max_pool2d: expected a non-empty 3-D or 4-D input "
                                         r"\(C, H, W\) or \(N, C, H, W\), got shape \(4, 4\)"):
        F.max_pool2d(wg.tensor(np.zeros((4, 4))), 2)
    with pytest.raises(ShapeError, match=r"adaptive_avg_pool3d: .*got shape \(1, 1, 1, 2, 2, 2\)"):
        F.adaptive_avg_pool3d(wg.tensor(np.zeros((1, 1, 1, 2, 2, 2))), 1)


def test_bad_arguments():
    x = wg.tensor(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ArgumentError, match="avg_pool2d: divisor_override must not be zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ArgumentError, match="max_pool2d: stride must be greater than zero"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ArgumentError, match=r"max_pool2d: kernel_size=\(2, 2, 2\) must be an "
                                            "int or 2 ints"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(ArgumentError, match="adaptive_max_pool2d: output_size=-1"):
        F.adaptive_max_pool2d(x, -1)
    with pytest.raises(DTypeError, match=r"adaptive_max_pool2d: cannot pool an input of dtype "
                                         r"int64 \(shape \(1, 1, 4, 4\)\).*floating inputs "
                                         r"only.*Hint"):
        F.adaptive_max_pool2d(wg.tensor(np.zeros((1, 1, 4, 4), np.int64)), 2)
    with pytest.raises(ArgumentError, match=r"max_pool2d: kernel_size=1.5 must be an int"):
        F.max_pool2d(x, 1.5)
    with pytest.raises(ArgumentError, match=r"avg_pool2d: divisor_override=2.5 must be an int"):
        F.avg_pool2d(x, 2, divisor_override=2.5)  # PyTorch: a TypeError


# --- integer inputs, as PyTorch's CPU kernels take them ---------------------------------------
INT_DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool", "uint16"]
INT_CALLS = [  # (function, positional arguments after the input, keyword arguments)
    ("max_pool1d", (2,), {}), ("max_pool1d", (3, 1, 1), {"return_indices": True}),
    ("max_pool1d", (2, 1, 1, 2, True), {"return_indices": True}),
    ("max_pool2d", (3, 2, 1), {"return_indices": True}), ("max_pool2d", (2,), {}),
    ("max_pool3d", (2, 1), {"return_indices": True}),
    ("avg_pool1d", (3, 2, 1), {}), ("avg_pool2d", (3, 2, 1, True, False), {}),
    ("avg_pool2d", (2,), {"divisor_override": -3}), ("avg_pool3d", (2, 1, 1, True), {}),
    ("adaptive_avg_pool1d", (3,), {}), ("adaptive_avg_pool2d", (2,), {}),
    ("adaptive_avg_pool3d", (2,), {}), ("adaptive_max_pool1d", (3, True), {}),
    ("adaptive_max_pool2d", (2,), {}), ("adaptive_max_pool3d", (2, True), {}),
]


def _int_input(n, dtype, seed=0):
    """(2, 3, 5, ...) values of ``dtype`` with ties, negatives and the dtype's extremes."""
    rng = np.random.default_rng(seed)
    shape = (2, 3) + (5,) * n
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    info = np.iinfo(dtype)
    x = rng.integers(max(info.min, -50), min(info.max, 50), size=shape, endpoint=True)
    x = x.astype(dtype)
    flat = x.reshape(-1)
    flat[::7], flat[3::11] = info.min, info.max  # the minimum must not lose to the padding
    return x


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name, args, kwargs", INT_CALLS,
                         ids=[f"{c[0]}{c[1]}{c[2]}" for c in INT_CALLS])
def test_integer_inputs_as_torch(torch_mod, name, args, kwargs, dtype):
    """Where PyTorch pools an integer (or bool) dtype, the same values, dtype and indices;
    where it raises, a DTypeError naming the op and the dtype."""
    n = int(name[-2])
    x = _int_input(n, dtype) if dtype != "int64" or "avg" not in name else \
        _int_input(n, "int16").astype(np.int64)  # sums that do not overflow int64
    try:
        expected = getattr(torch_mod.nn.functional, name)(torch_mod.from_numpy(x), *args,
                                                          **kwargs)
    except (NotImplementedError, RuntimeError, TypeError):  # "not implemented for 'Int'"
        with pytest.raises(DTypeError, match=rf"{name}: .*{dtype}.*shape \({x.shape[0]}, "
                                             r".*Hint: .*x\.float\(\)"):
            getattr(F, name)(wg.tensor(x), *args, **kwargs)
        return
    out = getattr(F, name)(wg.tensor(x), *args, **kwargs)
    outs = out if isinstance(out, tuple) else (out,)
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert len(outs) == len(expected)
    for ours, theirs in zip(outs, expected):
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        assert not ours.requires_grad
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_integer_average_rounds_toward_zero(torch_mod):
    # by hand: windows [pad, -7, 3], [3, -2, 5], [5, 9, -1], [-1, 4, pad], sums -4, 6, 13, 3
    x = np.array([[[-7, 3, -2, 5, 9, -1, 4]]], np.int64)
    out = F.avg_pool1d(wg.tensor(x), 3, 2, 1)
    assert out.dtype == np.int64
    assert out.data.tolist() == [[[-1, 2, 4, 1]]]  # -4/3 is -1 (C's division), not -2
    assert F.avg_pool2d(wg.tensor(x[None]), (1, 2), divisor_override=-3).data.tolist() == \
        [[[[1, -1, -2]]]]  # sums -4, 3, 8
    # exact where a float division would round: (2**60 + 1 + 2**60 + 3) / 2 = 2**60 + 2
    big = np.array([[[2 ** 60 + 1, 2 ** 60 + 3]]], np.int64)
    assert F.avg_pool1d(wg.tensor(big), 2).data.tolist() == [[[2 ** 60 + 2]]]
    for data, args in ((x, (3, 2, 1)), (big, (2,))):
        np.testing.assert_array_equal(
            F.avg_pool1d(wg.tensor(data), *args).data,
            torch_mod.nn.functional.avg_pool1d(torch_mod.from_numpy(data), *args).numpy())


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int64"])
def test_integer_max_pool_of_the_minimum_picks_the_first_entry_inside(torch_mod, dtype):
    # every entry is the dtype's minimum (0 for uint8), which the padding also stands for
    x = np.full((1, 1, 3, 3), np.iinfo(dtype).min, dtype)
    for args in [(2, 2, 1), (3, 2, 1, 1, True), (3, 1, 1, 2)]:  # windows starting in padding
        values, indices = F.max_pool2d(wg.tensor(x), *args, return_indices=True)
        tvalues, tindices = torch_mod.nn.functional.max_pool2d(torch_mod.from_numpy(x), *args,
                                                               return_indices=True)
        assert values.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(values.data, tvalues.numpy())
        np.testing.assert_array_equal(indices.data, tindices.numpy())


def test_integer_modules_as_torch(torch_mod):
    x = _int_input(2, "int32")
    np.testing.assert_array_equal(nn.MaxPool2d(3, 2, 1)(wg.tensor(x)).data,
                                  torch_mod.nn.MaxPool2d(3, 2, 1)(torch_mod.from_numpy(x)).numpy())
    x1 = _int_input(1, "int64")
    with pytest.raises(NotImplementedError):
        torch_mod.nn.MaxPool1d(2)(torch_mod.from_numpy(x1))
    with pytest.raises(DTypeError, match=r"max_pool1d: pools an integer input \(here int64, "
                                         r"shape \(2, 3, 5\)\) only with return_indices=True"):
        nn.MaxPool1d(2)(wg.tensor(x1))
    values, _ = nn.MaxPool1d(2, return_indices=True)(wg.tensor(x1))
    np.testing.assert_array_equal(
        values.data, torch_mod.nn.MaxPool1d(2, return_indices=True)(
            torch_mod.from_numpy(x1))[0].numpy())


# --- windows that hold padding only -----------------------------------------------------------
def _max_pool1d_both(torch, x, args):
    """(values, indices) as arrays, or the exception raised: torch's, then ours."""
    results = []
    for call, as_array in (
            (lambda: torch.nn.functional.max_pool1d(torch.tensor(x), *args, True),
             lambda t: t.numpy()),
            (lambda: F.max_pool1d(wg.tensor(x), *args, True), lambda t: t.data)):
        try:
            results.append(tuple(map(as_array, call())))
        except Exception as exc:  # the type is what is compared
            results.append(exc)
    return results


def test_pooling_geometry_against_torch(torch_mod):
    """Over kernel, stride, padding, dilation and ceil_mode on short inputs: where PyTorch
    raises (padding over half the kernel, no window) ours raises an ArgumentError or
    ShapeError; where its indices are inside the input, the same values and indices; where
    a window holds only padding (a dilation past the input) PyTorch returns -inf with an
    index outside the input, and ours is a ShapeError saying so."""
    seen = set()
    for L, k, s, p, d, c in itertools.product(range(1, 6), range(1, 4), (1, 2, 3), (0, 1),
                                              (1, 2, 3, 5), (False, True)):
        x = (np.arange(L, dtype=np.float64)[::-1] - 1).reshape(1, 1, L)
        theirs, ours = _max_pool1d_both(torch_mod, x, (k, s, p, d, c))
        if isinstance(theirs, Exception):
            assert isinstance(ours, (ArgumentError, ShapeError)), (L, k, s, p, d, c, ours)
            seen.add("raises")
        elif (theirs[1] >= L).any():
            assert np.isneginf(theirs[0][theirs[1] >= L]).all()  # torch's -inf
            assert isinstance(ours, ShapeError) and "holds only padding" in str(ours), ours
            seen.add("padding only")
        else:
            assert not isinstance(ours, Exception), (L, k, s, p, d, c, ours)
            np.testing.assert_array_equal(ours[0], theirs[0])
            np.testing.assert_array_equal(ours[1], theirs[1])
            seen.add("same")
    assert seen == {"raises", "padding only", "same"}


def test_a_window_of_padding_only_is_a_shape_error(torch_mod):
    # 4 entries, padding 1, dilation 5: the only window reads positions -1 and 4, both padding
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    tvalues, tindices = torch_mod.nn.functional.max_pool2d(torch_mod.tensor(x), 2, 1, 1, 5,
                                                           return_indices=True)
    assert tvalues.tolist() == [[[[-np.inf]]]] and tindices.tolist() == [[[[20]]]]  # 20 >= 16
    with pytest.raises(ShapeError, match=r"max_pool2d: window 0 along spatial axis 0 holds "
                                         r"only padding: it starts at -1 and its entries are 5 "
                                         r"apart.*at 4, is past the end of the input of length "
                                         r"4 \(input of shape \(1, 1, 4, 4\).*Hint: use a "
                                         r"smaller dilation or padding"):
        F.max_pool2d(wg.tensor(x), 2, 1, 1, 5)
    with pytest.raises(ShapeError, match=r"max_pool3d: window 0 along spatial axis 2 holds "
                                         r"only padding"):
        nn.MaxPool3d((1, 1, 2), 1, (0, 0, 1), (1, 1, 5))(wg.tensor(np.zeros((1, 2, 2, 4))))
    # one entry inside is enough: by hand, the windows read positions (-1, 2) and (0, 3),
    # each one entry inside the input [1, 2, 3], as torch's
    x1 = np.array([[[1.0, 2, 3]]])
    values = F.max_pool1d(wg.tensor(x1), 2, 1, 1, 3)
    assert values.data.tolist() == [[[3.0, 1.0]]]
    assert torch_mod.nn.functional.max_pool1d(torch_mod.tensor(x1), 2, 1, 1, 3).tolist() == \
        [[[3.0, 1.0]]]
