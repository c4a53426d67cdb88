"""interpolate and the Upsample modules against PyTorch, in float64 over a grid of shapes,
non-integer scale factors (shrinking and growing), sizes, both align_corners and both
recompute_scale_factor: the outputs must equal PyTorch's, and the input gradients the exact
derivative of PyTorch's output (the transpose of PyTorch's forward as a matrix), which is
PyTorch's gradient wherever PyTorch's backward agrees with its own forward (see the
interpolate docstring for where it does not). Also float32, antialias, uint8, worked
examples, the errors PyTorch raises, the modules, and second derivatives with wengert's
gradient checker."""
import math
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck
from wengert.errors import ArgumentError, DTypeError, ShapeError


def _normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _torch_matrix(torch, spatial, dtype, **kwargs):
    """PyTorch's forward on one plane as an (in, out) matrix (every plane uses the same):
    row p is its output for the p-th unit plane, all of them resized in one batch."""
    p = math.prod(spatial)
    planes = torch.eye(p, dtype=getattr(torch, np.dtype(dtype).name)).reshape((p, 1) + spatial)
    with torch.no_grad():
        return torch.nn.functional.interpolate(planes, **kwargs).reshape(p, -1).numpy()


def _compare(torch, shape, dtype=np.float64, tol=1e-12, **kwargs):
    """Assert that wengert's output equals PyTorch's and that its input gradient (for a random
    output gradient) is the exact derivative of PyTorch's output; return whether PyTorch's own
    gradient is that derivative too."""
    x = _normal(shape, dtype=dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, **kwargs)
    xw = wg.tensor(x, requires_grad=True)
    yw = F.interpolate(xw, **kwargs)
    assert yw.shape == tuple(yt.shape) and yw.dtype == x.dtype
    np.testing.assert_allclose(yw.data, yt.detach().numpy(), rtol=tol, atol=tol)
    if yt.numel() == 0:
        return True
    g = _normal(tuple(yt.shape), 1, dtype)
    (yt * torch.tensor(g)).sum().backward()
    (yw * g).sum().backward()
    matrix = _torch_matrix(torch, shape[2:], dtype, **kwargs)
    exact = (g.reshape(shape[0] * shape[1], -1).astype(np.float64) @ matrix.T).reshape(shape)
    np.testing.assert_allclose(xw.grad.data, exact, rtol=tol, atol=tol)
    agrees = np.allclose(xt.grad.numpy(), exact, rtol=tol, atol=tol)
    if agrees:
        np.testing.assert_allclose(xw.grad.data, xt.grad.numpy(), rtol=tol, atol=tol)
    return agrees


FACTORS = (0.3, 0.55, 1.0, 1.1, 1.7, 2.0, 2.1, 2.5, 3.25)
SHAPES = {1: [(2, 2, 1), (2, 2, 4), (1, 3, 7)], 2: [(2, 2, 4, 5), (1, 2, 7, 3), (1, 1, 1, 6)],
          3: [(1, 2, 3, 2, 4), (2, 1, 4, 3, 2)]}
MIXED = {1: [], 2: [(0.6, 1.8), (2.5, 0.75)], 3: [(0.7, 1.5, 2.2)]}
SIZES = {1: [1, 3, 8], 2: [1, 3, (2, 9)], 3: [2, (4, 1, 3)]}
MODES = {1: ["nearest", "nearest-exact", "linear", "area"],
         2: ["nearest", "nearest-exact", "bilinear", "bicubic", "area"],
         3: ["nearest", "nearest-exact", "trilinear", "area"]}


def _grid(dims, mode):
    corners = (None,) if mode in ("nearest", "nearest-exact", "area") else (False, True)
    for shape in SHAPES[dims]:
        for align in corners:
            for factor in FACTORS + tuple(MIXED[dims]):
                for recompute in (None, True):
                    out = [math.floor(n * f) for n, f in
                           zip(shape[2:], factor if isinstance(factor, tuple) else
                               (factor,) * dims)]
                    if min(out) < 1:
                        continue  # an error in PyTorch (or an empty 'area' output)
                    yield shape, dict(scale_factor=factor, mode=mode, align_corners=align,
                                      recompute_scale_factor=recompute)
            for size in SIZES[dims]:
                yield shape, dict(size=size, mode=mode, align_corners=align)


@pytest.mark.parametrize("dims, mode", [(d, m) for d in (1, 2, 3) for m in MODES[d]])
def test_interpolate_matches_torch(torch_mod, dims, mode):
    cases = list(_grid(dims, mode))
    agreed = sum(_compare(torch_mod, shape, **kwargs) for shape, kwargs in cases)
    # PyTorch's backward disagrees with its forward only in a few corners (see the docstring)
    assert agreed >= 0.8 * len(cases)


@pytest.mark.parametrize("mode, shape", [("linear", (2, 3, 9)), ("bilinear", (2, 2, 7, 6)),
                                         ("bicubic", (1, 2, 7, 6)), ("nearest", (2, 2, 7, 6)),
                                         ("nearest-exact", (1, 2, 3, 4, 5)),
                                         ("trilinear", (1, 2, 3, 4, 5)), ("area", (2, 2, 7, 6))])
def test_float32(torch_mod, mode, shape):
    corners = (None,) if mode in ("nearest", "nearest-exact", "area") else (False, True)
    for factor in (0.45, 1.3, 2.6):
        for align in corners:
            _compare(torch_mod, shape, np.float32, 2e-5, scale_factor=factor, mode=mode,
                     align_corners=align)


def test_large_2d_nearest_follows_torch_kernels(torch_mod):
    # PyTorch's 2-D nearest kernel for out_H + out_W <= 128 reads o // 2 where o == 2n, its
    # other kernel floor(o / 2.1): both are followed
    for shape in ((1, 1, 2, 5), (1, 1, 3, 5), (1, 1, 1, 60), (1, 1, 3, 70)):
        for mode in ("nearest", "nearest-exact"):
            _compare(torch_mod, shape, scale_factor=(1.0, 2.1), mode=mode)
    small = F.interpolate(wg.tensor(np.arange(5.0).reshape(1, 1, 1, 5)), scale_factor=2.1)
    large = F.interpolate(wg.tensor(np.tile(np.arange(5.0), (1, 1, 119, 1))),
                          scale_factor=(1, 2.1))  # 119 + 10 output rows and columns
    np.testing.assert_array_equal(small.data[0, 0, 0], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    np.testing.assert_array_equal(large.data[0, 0, 0], [0, 0, 0, 1, 1, 2, 2, 3, 3, 4])


def test_torch_backward_corners_get_the_exact_derivative(torch_mod):
    # PyTorch 2.13's backward uses other indices than its forward here (so _compare returns
    # False: its gradient is not the derivative of its output); wengert's gradient is that
    # derivative (checked against PyTorch's forward as a matrix in _compare). Nearest from 5
    # by 2.1: the forward reads floor(o / 2.1), the backward sends o's gradient to o // 2.
    for shape, kwargs in (((1, 1, 5), dict(scale_factor=2.1)),
                          ((1, 1, 4, 5), dict(scale_factor=1.1, mode="bicubic")),
                          ((1, 1, 7, 3), dict(scale_factor=1.3, mode="bilinear", antialias=True))):
        assert not _compare(torch_mod, shape, **kwargs)


def test_antialias_matches_torch(torch_mod):
    # an output width of 1: see test_antialias_output_width_one
    for shape in ((1, 2, 9, 8), (2, 1, 13, 17), (1, 1, 4, 7)):
        for mode in ("bilinear", "bicubic"):
            for align in (False, True):
                for factor in (0.3, 0.5, 0.7, (0.45, 1.6), (2.6, 0.35), 1.0):
                    for recompute in (None, True):
                        _compare(torch_mod, shape, scale_factor=factor, mode=mode,
                                 align_corners=align, antialias=True,
                                 recompute_scale_factor=recompute)
                for size in ((3, 2), (2, 7), (20, 3)):
                    _compare(torch_mod, shape, size=size, mode=mode, align_corners=align,
                             antialias=True)


def test_antialias_output_width_one(torch_mod):
    # PyTorch's kernel gives every output row the first row's weights when the output width is
    # 1; wengert resizes a column as PyTorch resizes the same values laid out as a row
    x = _normal((1, 2, 7, 1))
    for mode in ("bilinear", "bicubic"):
        row = torch_mod.nn.functional.interpolate(torch_mod.tensor(x).mT, size=(1, 3),
                                                  mode=mode, antialias=True)
        ours = F.interpolate(wg.tensor(x), size=(3, 1), mode=mode, antialias=True)
        np.testing.assert_allclose(ours.data, row.mT.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape, kwargs", [
    # axes longer than 128: resized in bands, or (few rows, or shrunk by 3 or more entries per
    # tap) by gathering the taps
    ((1, 2, 300), dict(size=700, mode="linear")),
    ((4, 16, 300), dict(size=700, mode="linear")),  # bands
    ((1, 8, 3, 300), dict(size=(4, 450), mode="bicubic")),  # bands
    ((2, 1, 300), dict(size=131, mode="linear", align_corners=True)),
    ((1, 1, 3, 200), dict(size=(4, 450), mode="bicubic")),
    ((1, 1, 3, 200), dict(size=(2, 60), mode="bilinear", antialias=True)),
    ((1, 1, 3, 200), dict(size=(5, 23), mode="bicubic", antialias=True, align_corners=True)),
    ((1, 1, 2, 2, 150), dict(size=(3, 1, 290), mode="trilinear")),
    ((1, 2, 3, 200), dict(scale_factor=(1.5, 2.3), mode="nearest")),
    ((1, 1, 3, 300), dict(size=(3, 100), mode="nearest-exact"))])
def test_long_axes_match_torch(torch_mod, shape, kwargs):
    _compare(torch_mod, shape, **kwargs)
    # float32 source coordinates past 256 are rounded to 3e-5, and PyTorch's kernel rounds
    # them differently from ATen's scalar formula, which wengert follows
    _compare(torch_mod, shape, np.float32, 1e-4, **kwargs)


NON_FINITE = [((1, 2, 9), dict(size=20, mode="linear")), ((1, 2, 9), dict(size=4, mode="linear")),
              ((1, 2, 200), dict(size=450, mode="linear")),
              ((1, 1, 5, 6), dict(size=(11, 13), mode="bicubic")),
              ((1, 1, 6, 150), dict(size=(3, 40), mode="bilinear", antialias=True)),
              ((1, 1, 3, 4, 5), dict(scale_factor=1.5, mode="trilinear")),
              ((1, 2, 5, 6), dict(scale_factor=2, mode="nearest")),
              ((1, 2, 6, 9), dict(scale_factor=(0.5, 1 / 3), mode="nearest")),
              ((1, 2, 5, 6), dict(scale_factor=1.5, mode="nearest-exact"))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, kwargs", NON_FINITE)
def test_infinities_and_nan_stay_where_torch_puts_them(torch_mod, shape, kwargs, dtype):
    # a matmul would also multiply them by its zeros (NaN in every entry of their rows):
    # such inputs are resized tap by tap, as PyTorch's kernels
    x = _normal(shape, dtype=dtype)
    flat = x.reshape(-1)
    flat[[1, flat.size // 2, -2]] = [np.inf, np.nan, -np.inf]
    theirs = torch_mod.nn.functional.interpolate(torch_mod.tensor(x), **kwargs).numpy()
    xw = wg.tensor(x, requires_grad=True)
    ours = F.interpolate(xw, **kwargs)
    assert np.isnan(theirs).any() and np.isfinite(theirs).any()
    np.testing.assert_allclose(ours.data, theirs, rtol=2e-5, atol=2e-5)  # NaN where NaN
    # the map is linear, so its gradient does not depend on the input: as for zeros
    g = _normal(ours.shape, 1, dtype)
    ours.backward(g)
    zeros = wg.tensor(np.zeros_like(x), requires_grad=True)
    (F.interpolate(zeros, **kwargs) * g).sum().backward()
    np.testing.assert_allclose(xw.grad.data, zeros.grad.data, rtol=1e-6, atol=1e-6)


# with each way of resizing too: bands of a matmul (enough rows), slices (shrinking by a
# whole factor), taps gathered (shrinking by 3 or more entries per tap), 'area' by a reshape
# (windows that tile the axis) and by a matmul
QUIET = NON_FINITE + [((8, 16, 300), dict(size=200, mode="linear")),
                      ((1, 2, 64), dict(size=16, mode="linear")),
                      ((1, 1, 12, 100), dict(size=(3, 8), mode="bicubic")),
                      ((1, 2, 12), dict(size=4, mode="area")),
                      ((1, 2, 5, 6), dict(size=(3, 4), mode="area"))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, kwargs", QUIET)
def test_infinities_and_nan_raise_no_numpy_warning(torch_mod, shape, kwargs, dtype):
    # inf * 0 and inf - inf are NaN in PyTorch's output too, which it gives without a
    # warning: so does wengert, forward and backward (every warning is an error here)
    x = _normal(shape, dtype=dtype)
    xt = torch_mod.tensor(x, requires_grad=True)
    torch_mod.nn.functional.interpolate(xt, **kwargs).sum().backward()
    read = np.flatnonzero(xt.grad.numpy())  # the entries that the output reads
    x.reshape(-1)[read[[1, len(read) // 2, -2]]] = [np.inf, np.nan, -np.inf]
    xt = torch_mod.tensor(x, requires_grad=True)
    theirs = torch_mod.nn.functional.interpolate(xt, **kwargs)
    g = _normal(tuple(theirs.shape), 1, dtype)
    theirs.backward(torch_mod.tensor(g))
    xw = wg.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = F.interpolate(xw, **kwargs)
        ours.backward(g)
    assert np.isnan(ours.data).any() and np.isfinite(ours.data).any()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(xw.grad.data, xt.grad.numpy(), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2, mode="nearest"),
                                    dict(scale_factor=0.5, mode="nearest"),
                                    dict(scale_factor=(1, 2.5), mode="nearest-exact")])
def test_uint8_copies_match_torch(torch_mod, kwargs):
    x = np.random.default_rng(0).integers(0, 256, (2, 3, 6, 4)).astype(np.uint8)
    np.testing.assert_array_equal(F.interpolate(wg.tensor(x), **kwargs).data,
                                  torch_mod.nn.functional.interpolate(torch_mod.tensor(x),
                                                                      **kwargs).numpy())


@pytest.mark.parametrize("shape, kwargs", [
    ((0, 2, 5, 6), dict(scale_factor=2, mode="bilinear")),
    ((0, 1, 3, 200), dict(size=(4, 450), mode="bicubic")),
    ((0, 1, 3, 4, 5), dict(scale_factor=2)), ((0, 1, 6, 6), dict(scale_factor=0.5)),
    ((0, 1, 6, 150), dict(size=(2, 50), mode="bilinear", antialias=True))])
def test_empty_batch(torch_mod, shape, kwargs):
    expected = torch_mod.nn.functional.interpolate(torch_mod.zeros(shape), **kwargs)
    x = wg.tensor(np.zeros(shape, np.float32), requires_grad=True)
    y = F.interpolate(x, **kwargs)
    assert y.shape == tuple(expected.shape) and y.dtype == np.float32
    y.sum().backward()  # the sum of an empty output is the constant 0
    np.testing.assert_array_equal(x.grad.data, np.zeros(shape))


def test_result_is_not_a_view_of_the_input():
    # nearest by whole factors reads a slice of the input: the result is still a copy
    for kwargs in (dict(scale_factor=0.5), dict(scale_factor=(1, 0.5)), dict(size=(4, 4))):
        x = wg.tensor(np.arange(16.0).reshape(1, 1, 4, 4))
        y = F.interpolate(x, **kwargs)
        y.data[...] = -1
        np.testing.assert_array_equal(x.data, np.arange(16.0).reshape(1, 1, 4, 4))


def test_worked_examples():
    x = wg.tensor(np.array([[[0.0, 1.0, 2.0]]]))
    # scale 3/5: nearest reads floor(0.6 o), nearest-exact floor(0.6 (o + 0.5))
    np.testing.assert_array_equal(F.interpolate(x, size=5).data.ravel(), [0, 0, 1, 1, 2])
    np.testing.assert_array_equal(F.interpolate(x, size=5, mode="nearest-exact").data.ravel(),
                                  [0, 0, 1, 2, 2])
    # linear on 0, 1, 2 gives its source coordinate 0.6 (o + 0.5) - 0.5, clamped to [0, 2]
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear").data.ravel(),
                               [0, 0.4, 1, 1.6, 2], rtol=1e-15)
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear",
                                             align_corners=True).data.ravel(),
                               [0, 0.5, 1, 1.5, 2], rtol=1e-15)


def test_scale_factor_is_used_unless_recomputed():
    # length 4 by 1.7 gives 6 entries; the coordinates use 1/1.7, or 4/6 when recomputed
    x = wg.tensor(np.arange(4.0).reshape(1, 1, 4))
    o = np.arange(6)
    given = F.interpolate(x, scale_factor=1.7, mode="linear")
    recomputed = F.interpolate(x, scale_factor=1.7, mode="linear", recompute_scale_factor=True)
    np.testing.assert_allclose(given.data.ravel(), np.clip((o + 0.5) / 1.7 - 0.5, 0, 3),
                               rtol=1e-14)
    np.testing.assert_allclose(recomputed.data.ravel(), np.clip((o + 0.5) * 4 / 6 - 0.5, 0, 3),
                               rtol=1e-14)
    np.testing.assert_array_equal(recomputed.data,
                                  F.interpolate(x, size=6, mode="linear").data)


def test_area_is_adaptive_average_pooling():
    x = wg.tensor(_normal((2, 3, 7, 5)))
    np.testing.assert_array_equal(F.interpolate(x, size=(3, 4), mode="area").data,
                                  F.adaptive_avg_pool2d(x, (3, 4)).data)
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=0.5, mode="area").data,
                                  F.adaptive_avg_pool2d(x, (3, 2)).data)


def test_uint8_and_a_new_tensor(torch_mod):
    x = np.random.default_rng(0).integers(0, 256, (1, 3, 5, 7)).astype(np.uint8)
    for mode in ("nearest", "nearest-exact"):
        ours = F.interpolate(wg.tensor(x), scale_factor=1.7, mode=mode)
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(ours.data, torch_mod.nn.functional.interpolate(
            torch_mod.tensor(x), scale_factor=1.7, mode=mode).numpy())
    with pytest.raises(DTypeError, match=r"interpolate: cannot resize an input of dtype uint8 "
                                         r"\(shape \(1, 3, 5, 7\)\) with mode='bilinear'"):
        F.interpolate(wg.tensor(x), scale_factor=2, mode="bilinear")
    y = wg.tensor(_normal((1, 2, 3)), requires_grad=True)
    same = F.interpolate(y, scale_factor=1)  # nothing to resize: still a new tensor
    assert same is not y
    np.testing.assert_array_equal(same.data, y.data)
    same.sum().backward()
    np.testing.assert_array_equal(y.grad.data, np.ones((1, 2, 3)))


@pytest.mark.parametrize("kwargs", [dict(scale_factor=1.6, mode="nearest"),
                                    dict(scale_factor=0.6, mode="linear"),
                                    dict(size=7, mode="linear", align_corners=True)])
def test_derivatives_to_second_order_1d(kwargs):
    f = lambda t: F.interpolate(t, **kwargs) ** 2  # noqa: E731
    assert gradcheck(f, (_normal((1, 2, 5)),), order=2, modes=("reverse", "forward")).passed


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 30, 140), dict(size=300, mode="linear")),  # in bands (enough rows)
    ((1, 1, 140), dict(size=300, mode="linear")),  # the taps gathered (a small input)
    ((1, 1, 140), dict(scale_factor=0.5, mode="linear", align_corners=True)),
    ((1, 1, 40), dict(size=6, mode="linear")),  # the taps gathered (shrunk by 3 per tap)
    ((1, 1, 6, 8), dict(scale_factor=0.5, mode="bilinear")),  # slices, tap by tap
    ((1, 1, 3, 4, 2), dict(scale_factor=2, mode="nearest")),  # repeats
    ((1, 1, 6, 4), dict(scale_factor=0.5, mode="nearest"))])  # slices
def test_derivatives_to_second_order_of_each_way(shape, kwargs):
    f = lambda t: F.interpolate(t, **kwargs) ** 2  # noqa: E731
    # random projections only for the 8400 entries of the bands' input
    assert gradcheck(f, (_normal(shape),), order=2, modes=("reverse", "forward"),
                     full=math.prod(shape) < 1000).passed


@pytest.mark.parametrize("kwargs", [dict(scale_factor=(1.4, 0.7), mode="bicubic"),
                                    dict(size=(2, 4), mode="bilinear", antialias=True),
                                    dict(scale_factor=0.6, mode="bicubic", antialias=True,
                                         align_corners=True)])
def test_derivatives_to_second_order_2d(kwargs):
    f = lambda t: F.interpolate(t, **kwargs) ** 2  # noqa: E731
    assert gradcheck(f, (_normal((1, 1, 4, 5)),), order=2, modes=("reverse", "forward")).passed


def test_modules_match_torch(torch_mod):
    x = _normal((1, 2, 4, 5))
    for name, args, kwargs in (
            ("Upsample", (), dict(scale_factor=2)),
            ("Upsample", (), dict(size=(3, 7), mode="bilinear")),
            ("Upsample", (), dict(scale_factor=(1.5, 0.5), mode="bicubic", align_corners=True)),
            ("Upsample", (), dict(scale_factor=1.7, mode="bilinear",
                                  recompute_scale_factor=True)),
            ("UpsamplingNearest2d", (), dict(scale_factor=(2, 3))),
            ("UpsamplingNearest2d", ((5, 2),), {}),
            ("UpsamplingBilinear2d", (), dict(scale_factor=2.5)),
            ("UpsamplingBilinear2d", (), dict(size=6))):
        ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_mod.nn, name)(*args,
                                                                                       **kwargs)
        assert repr(ours) == repr(theirs)
        assert (ours.size, ours.scale_factor, ours.mode, ours.align_corners) == \
            (theirs.size, theirs.scale_factor, theirs.mode, theirs.align_corners)
        np.testing.assert_allclose(ours(wg.tensor(x)).data, theirs(torch_mod.tensor(x)).numpy(),
                                   rtol=1e-12, atol=1e-12)
        assert not list(ours.parameters())


ERRORS = [  # (keyword arguments, input shape, wengert error, message pattern)
    (dict(scale_factor=2, mode="nearest", align_corners=False), (1, 1, 4), ArgumentError,
     r"interpolate: align_corners is for the modes 'linear', 'bilinear', 'bicubic' and "
     r"'trilinear', not mode='nearest'"),
    (dict(scale_factor=2, mode="area", align_corners=True), (1, 1, 4), ArgumentError,
     r"not mode='area'"),
    (dict(size=3, scale_factor=2), (1, 1, 4), ArgumentError,
     r"interpolate: give size or scale_factor, not both"),
    (dict(), (1, 1, 4), ArgumentError, r"interpolate: give size or scale_factor"),
    (dict(size=(3, 4)), (1, 1, 4), ArgumentError,
     r"interpolate: size=\(3, 4\) has 2 entries but the input of shape \(1, 1, 4\) has 1 "
     r"spatial dims"),
    (dict(scale_factor=(2, 2)), (1, 1, 4), ArgumentError, r"scale_factor=\(2, 2\) has 2"),
    (dict(size=3.0), (1, 1, 4), ArgumentError, r"interpolate: size=3.0 must be an int"),
    (dict(size=4, recompute_scale_factor=True), (1, 1, 4), ArgumentError,
     r"recompute_scale_factor=True is not meaningful with an explicit size"),
    (dict(size=4, antialias=True), (1, 1, 4, 4), ArgumentError,
     r"interpolate: antialias=True is for modes 'bilinear' and 'bicubic' on a 4-D input"),
    (dict(size=4, mode="linear", antialias=True), (1, 1, 4), ArgumentError,
     r"antialias=True is for"),
    (dict(scale_factor=2, mode="bilinear"), (1, 1, 4), ShapeError,
     r"interpolate: mode='bilinear' needs a 4-D input \(2 spatial dims\), got shape "
     r"\(1, 1, 4\).*mode='linear'"),
    (dict(scale_factor=2, mode="linear"), (1, 1, 4, 4), ShapeError, r"mode='linear' needs a 3-D"),
    (dict(scale_factor=2, mode="bicubic"), (1, 1, 3, 3, 3), ShapeError,
     r"mode='bicubic' needs a 4-D"),
    (dict(scale_factor=2, mode="trilinear"), (1, 1, 4, 4), ShapeError,
     r"mode='trilinear' needs a 5-D"),
    (dict(scale_factor=2), (3, 3), ShapeError,
     r"interpolate: expected a 3-D, 4-D or 5-D input \(N, C, \*spatial\).*\(3, 3\)"),
    (dict(scale_factor=2), (1, 1, 1, 3, 3, 3), ShapeError, r"expected a 3-D, 4-D or 5-D"),
    (dict(scale_factor=2, mode="foo"), (1, 1, 4), ArgumentError,
     r"interpolate: mode='foo' is not a mode; use one of 'nearest', 'linear'"),
    (dict(scale_factor=0.2), (1, 1, 4), ShapeError,
     r"interpolate: the output sizes \(0,\) of the input of shape \(1, 1, 4\).*must be "
     r"greater than 0"),
    (dict(size=-2, mode="linear"), (1, 1, 4), ShapeError, r"output sizes \(-2,\)"),
    (dict(size=5, mode="bilinear"), (1, 0, 4, 4), ShapeError,
     r"interpolate: the input of shape \(1, 0, 4, 4\) has an empty channel or spatial dim"),
    (dict(size=5), (2, 1, 0, 4), ShapeError, r"empty channel or spatial dim"),
]


@pytest.mark.parametrize("kwargs, shape, error, pattern", ERRORS)
def test_errors_where_torch_raises(torch_mod, kwargs, shape, error, pattern):
    with pytest.raises((ValueError, TypeError, RuntimeError, NotImplementedError)):
        torch_mod.nn.functional.interpolate(torch_mod.zeros(shape), **kwargs)
    with pytest.raises(error, match=pattern):
        F.interpolate(wg.zeros(*shape), **kwargs)


def test_integer_input_is_refused_as_by_torch(torch_mod):
    with pytest.raises(NotImplementedError):
        torch_mod.nn.functional.interpolate(torch_mod.zeros((1, 1, 4), dtype=torch_mod.int64),
                                            size=5)
    with pytest.raises(DTypeError, match=r"interpolate: cannot resize an input of dtype int64"):
        F.interpolate(wg.zeros(1, 1, 4, dtype="int64"), size=5)
