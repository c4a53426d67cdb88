"""unfold/fold (im2col/col2im) and pixel_shuffle, pixel_unshuffle, channel_shuffle with their
modules against PyTorch: values and float64 gradients over many geometries, unbatched and
float32 inputs, bool blocks, reprs and the errors PyTorch raises; the derivatives to second
order in reverse and forward mode with wengert's gradient checker."""
import itertools

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck
from wengert.errors import ArgumentError, DTypeError, ShapeError


def _normal(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _both(torch, ours, theirs, x, seed=1):
    """Outputs and input gradients (for a random seed) of ``ours`` and ``theirs`` at ``x``."""
    xw, xt = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yw, yt = ours(xw), theirs(xt)
    seed_grad = _normal(tuple(yt.shape), seed, x.dtype)
    (yw * seed_grad).sum().backward()
    (yt * torch.tensor(seed_grad)).sum().backward()
    return (yw.data, xw.grad.data), (yt.detach().numpy(), xt.grad.numpy())


def _assert_same(torch, ours, theirs, x, tol=1e-12):
    (v, g), (tv, tg) = _both(torch, ours, theirs, x)
    assert v.shape == tv.shape and v.dtype == tv.dtype
    np.testing.assert_allclose(v, tv, rtol=tol, atol=tol)
    np.testing.assert_allclose(g, tg, rtol=tol, atol=tol)


GEOMETRIES = [dict(kernel_size=k, dilation=d, padding=p, stride=s) for k, d, p, s in
              itertools.product((1, 2, (2, 3)), (1, (2, 1)), (0, 1, (2, 0)), (1, 2, (1, 3)))]


# --- unfold and fold ---------------------------------------------------------------------------
@pytest.mark.parametrize("spatial", [(5, 6), (7, 4)])
def test_unfold_and_fold_match_torch(torch_mod, spatial):
    tf = torch_mod.nn.functional
    for geo in GEOMETRIES:
        x = _normal((2, 3) + spatial)
        _assert_same(torch_mod, lambda t: F.unfold(t, **geo), lambda t: tf.unfold(t, **geo), x)
        cols = tf.unfold(torch_mod.tensor(x), **geo).numpy()
        _assert_same(torch_mod, lambda t: F.fold(t, spatial, **geo),
                     lambda t: tf.fold(t, spatial, **geo), cols)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unbatched_and_float32(torch_mod, dtype):
    tf = torch_mod.nn.functional
    geo = dict(kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=(2, 1))
    x = _normal((3, 6, 5), dtype=dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    _assert_same(torch_mod, lambda t: F.unfold(t, **geo), lambda t: tf.unfold(t, **geo), x, tol)
    cols = tf.unfold(torch_mod.tensor(x), **geo).numpy()
    assert cols.ndim == 2
    _assert_same(torch_mod, lambda t: F.fold(t, (6, 5), **geo),
                 lambda t: tf.fold(t, (6, 5), **geo), cols, tol)


def test_bool_and_empty_batch(torch_mod):
    tf = torch_mod.nn.functional
    x = np.random.default_rng(0).random((2, 2, 4, 5)) > 0.6
    cols = F.unfold(wg.tensor(x), 2, stride=(1, 2))
    np.testing.assert_array_equal(cols.data, tf.unfold(torch_mod.tensor(x), 2,
                                                       stride=(1, 2)).numpy())
    folded = F.fold(cols, (4, 5), 2, stride=(1, 2))  # overlapping blocks: a logical or
    assert folded.dtype == np.bool_
    np.testing.assert_array_equal(folded.data, tf.fold(torch_mod.tensor(cols.data), (4, 5), 2,
                                                       stride=(1, 2)).numpy())
    assert F.unfold(wg.zeros(0, 3, 4, 4), 2).shape == (0, 12, 9)
    assert F.fold(wg.zeros(0, 12, 9), 4, 2).shape == (0, 3, 4, 4)


def test_fold_counts_the_blocks_over_each_entry():
    # by hand: 2x2 blocks, stride 1, on a 3x3 image cover the corners once, the edge middles
    # twice and the centre four times
    ones = wg.ones(1, 1, 3, 3, dtype="float64")
    np.testing.assert_array_equal(F.fold(F.unfold(ones, 2), 3, 2).data[0, 0],
                                  [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    # non-overlapping blocks (stride = kernel) that tile the image: fold undoes unfold
    x = wg.tensor(_normal((2, 3, 4, 6)))
    np.testing.assert_array_equal(F.fold(F.unfold(x, (2, 3), stride=(2, 3)), (4, 6), (2, 3),
                                         stride=(2, 3)).data, x.data)


def test_fold_is_the_adjoint_of_unfold():
    geo = dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2), stride=(2, 3))
    x = _normal((2, 3, 7, 8))
    y = _normal(F.unfold(wg.tensor(x), **geo).shape, 1)
    lhs = float((F.unfold(wg.tensor(x), **geo).data * y).sum())
    rhs = float((x * F.fold(wg.tensor(y), (7, 8), **geo).data).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_derivatives_to_second_order():
    geo = dict(kernel_size=(2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1))
    x = _normal((1, 2, 4, 6))
    cols = F.unfold(wg.tensor(x), **geo).data
    for f, arg in ((lambda t: F.unfold(t, **geo) ** 2, x),
                   (lambda t: F.fold(t, (4, 6), **geo) ** 2, cols)):
        assert gradcheck(f, (arg,), order=2, modes=("reverse", "forward")).passed


def test_modules_match_torch(torch_mod):
    x = _normal((2, 3, 6, 5))
    for args, kwargs in (((2,), {}), (((2, 3),), dict(dilation=2, padding=(1, 0), stride=1)),
                         ((3,), dict(stride=(2, 1)))):
        ours, theirs = nn.Unfold(*args, **kwargs), torch_mod.nn.Unfold(*args, **kwargs)
        assert repr(ours) == repr(theirs)
        np.testing.assert_array_equal(ours(wg.tensor(x)).data,
                                      theirs(torch_mod.tensor(x)).numpy())
        cols = theirs(torch_mod.tensor(x))
        ours, theirs = nn.Fold((6, 5), *args, **kwargs), torch_mod.nn.Fold((6, 5), *args,
                                                                           **kwargs)
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(wg.tensor(cols.numpy())).data, theirs(cols).numpy(),
                                   rtol=1e-12, atol=1e-12)
        assert not list(ours.parameters())


FOLD_ERRORS = [  # (call(F, input maker), wengert error, message pattern); PyTorch raises too
    (lambda f, z: f.unfold(z(2, 3, 5, 6), 7), ShapeError,
     r"unfold: the input's spatial size \(5, 6\) padded by \(0, 0\) is \(5, 6\), smaller "
     r"than a block.*kernel_size=\(7, 7\)"),
    (lambda f, z: f.unfold(z(1, 2, 3, 5, 6), 2), ShapeError,
     r"unfold: expected a 3-D \(C, H, W\) or 4-D .*got shape \(1, 2, 3, 5, 6\)"),
    (lambda f, z: f.unfold(z(5, 6), 2), ShapeError, r"unfold: expected a 3-D"),
    (lambda f, z: f.unfold(z(2, 0, 5, 6), 2), ShapeError, r"unfold: .*\(2, 0, 5, 6\)"),
    (lambda f, z: f.unfold(z(2, 3, 5, 6), 0), ArgumentError,
     r"unfold: kernel_size=0 must be an int or 2 ints, each >= 1"),
    (lambda f, z: f.unfold(z(2, 3, 5, 6), 2, stride=0), ArgumentError, r"unfold: stride=0"),
    (lambda f, z: f.unfold(z(2, 3, 5, 6), 2, padding=-1), ArgumentError,
     r"unfold: padding=-1 must be an int or 2 ints, each >= 0"),
    (lambda f, z: f.unfold(z(2, 3, 5, 6), 2, dilation=0), ArgumentError, r"unfold: dilation"),
    (lambda f, z: f.unfold(z(2, 3, 5, 6), (2, 2, 2)), ArgumentError,
     r"unfold: kernel_size=\(2, 2, 2\)"),
    (lambda f, z: f.unfold(z(2, 3, 5, 6, dtype="int64"), 2), DTypeError,
     r"unfold: cannot take blocks of an input of dtype int64"),
    (lambda f, z: f.fold(z(2, 12, 20), (5, 6), 3), ShapeError,
     r"fold: the input of shape \(2, 12, 20\) has 12 rows \(dim 1\), not divisible by the 9"),
    (lambda f, z: f.fold(z(2, 12, 19), (5, 6), 2), ShapeError,
     r"fold: output_size=\(5, 6\) .* has 4 \* 5 = 20 blocks, but the input of shape "
     r"\(2, 12, 19\) has 19"),
    (lambda f, z: f.fold(z(1, 9, 1), (1, 1), 3), ShapeError,
     r"fold: the output_size \(1, 1\) padded by \(0, 0\) is \(1, 1\), smaller than a block"),
    (lambda f, z: f.fold(z(1, 2, 12, 20), (5, 6), 2), ShapeError,
     r"fold: expected a 2-D \(C\*kh\*kw, L\) or 3-D"),
    (lambda f, z: f.fold(z(2, 12, 0), (1, 1), 1), ShapeError, r"fold: .*\(2, 12, 0\)"),
    (lambda f, z: f.fold(z(2, 12, 20), (5, 6, 7), 2), ArgumentError,
     r"fold: output_size=\(5, 6, 7\) must be an int or 2 ints"),
    (lambda f, z: f.fold(z(2, 12, 20), (5, 6), 2, stride=0), ArgumentError, r"fold: stride"),
    (lambda f, z: f.fold(z(1, 4, 4, dtype="int64"), (3, 3), 2), DTypeError,
     r"fold: cannot take blocks of an input of dtype int64"),
]


@pytest.mark.parametrize("call, error, pattern", FOLD_ERRORS)
def test_fold_errors_where_torch_raises(torch_mod, call, error, pattern):
    def torch_zeros(*shape, dtype="float64"):
        return torch_mod.zeros(shape, dtype=getattr(torch_mod, dtype))

    with pytest.raises((RuntimeError, NotImplementedError, IndexError)):
        call(torch_mod.nn.functional, torch_zeros)
    with pytest.raises(error, match=pattern):
        call(F, lambda *shape, dtype="float64": wg.zeros(*shape, dtype=dtype))


# --- pixel_shuffle, pixel_unshuffle, channel_shuffle -------------------------------------------
SHUFFLES = [("pixel_shuffle", 2, (2, 8, 3, 5)), ("pixel_shuffle", 3, (18, 2, 4)),
            ("pixel_shuffle", 1, (2, 3, 4, 5)), ("pixel_shuffle", 2, (2, 3, 4, 2, 1)),
            ("pixel_unshuffle", 2, (2, 3, 4, 6)), ("pixel_unshuffle", 3, (2, 6, 9)),
            ("pixel_unshuffle", 2, (3, 2, 1, 4, 2)),
            ("channel_shuffle", 2, (2, 6, 3)), ("channel_shuffle", 3, (1, 6, 2, 3)),
            ("channel_shuffle", 4, (2, 8, 1, 2, 3)), ("channel_shuffle", 1, (2, 3, 4))]


@pytest.mark.parametrize("name, factor, shape", SHUFFLES)
def test_shuffles_match_torch(torch_mod, name, factor, shape):
    x = _normal(shape)
    (v, g), (tv, tg) = _both(torch_mod, lambda t: getattr(F, name)(t, factor),
                             lambda t: getattr(torch_mod.nn.functional, name)(t, factor), x)
    np.testing.assert_array_equal(v, tv)  # a permutation: exact
    np.testing.assert_array_equal(g, tg)


def test_shuffle_by_hand_and_round_trip(torch_mod):
    # channel_shuffle of channels 0..5 in 2 groups interleaves them: 0 3 1 4 2 5
    x = wg.tensor(np.arange(6.0).reshape(1, 6, 1))
    np.testing.assert_array_equal(F.channel_shuffle(x, 2).data.ravel(), [0, 3, 1, 4, 2, 5])
    # pixel_shuffle puts channel c*r*r + i*r + j at (h*r + i, w*r + j)
    y = F.pixel_shuffle(wg.tensor(np.arange(4.0).reshape(1, 4, 1, 1)), 2).data
    np.testing.assert_array_equal(y[0, 0], [[0, 1], [2, 3]])
    z = wg.tensor(_normal((2, 3, 6, 4)))
    np.testing.assert_array_equal(F.pixel_shuffle(F.pixel_unshuffle(z, 2), 2).data, z.data)
    ints = np.arange(2 * 8 * 3 * 5).reshape(2, 8, 3, 5)  # any dtype is moved, as in PyTorch
    np.testing.assert_array_equal(F.pixel_shuffle(wg.tensor(ints), 2).data,
                                  torch_mod.nn.functional.pixel_shuffle(
                                      torch_mod.tensor(ints), 2).numpy())


def test_shuffle_derivatives_to_second_order():
    for f, shape in ((lambda t: F.pixel_shuffle(t, 2) ** 2, (1, 8, 2, 3)),
                     (lambda t: F.pixel_unshuffle(t, 2) ** 2, (1, 2, 4, 2)),
                     (lambda t: F.channel_shuffle(t, 3) ** 2, (2, 6, 2))):
        assert gradcheck(f, (_normal(shape),), order=2, modes=("reverse", "forward")).passed


def test_shuffle_modules(torch_mod):
    x = _normal((2, 12, 4, 6))
    for name, arg in (("PixelShuffle", 2), ("PixelUnshuffle", 2), ("ChannelShuffle", 3)):
        ours, theirs = getattr(nn, name)(arg), getattr(torch_mod.nn, name)(arg)
        assert repr(ours) == repr(theirs)
        np.testing.assert_array_equal(ours(wg.tensor(x)).data, theirs(torch_mod.tensor(x)).numpy())
        assert not list(ours.parameters())


SHUFFLE_ERRORS = [
    (lambda f, z: f.pixel_shuffle(z(8, 3), 2), ShapeError,
     r"pixel_shuffle: expected an input with at least 3 dims, got shape \(8, 3\)"),
    (lambda f, z: f.pixel_shuffle(z(2, 8, 3, 5), 3), ShapeError,
     r"pixel_shuffle: .* has 8 entries, not divisible by upscale_factor\*\*2 = 9"),
    (lambda f, z: f.pixel_shuffle(z(2, 8, 3, 5), 0), ArgumentError,
     r"pixel_shuffle: upscale_factor=0 must be a positive int"),
    (lambda f, z: f.pixel_shuffle(z(2, 8, 3, 5), 2.0), ArgumentError,
     r"pixel_shuffle: upscale_factor=2.0 must be a positive int"),
    (lambda f, z: f.pixel_unshuffle(z(2, 2, 3, 6), 2), ShapeError,
     r"pixel_unshuffle: the input's height \(dim -2 of shape \(2, 2, 3, 6\)\) is 3"),
    (lambda f, z: f.pixel_unshuffle(z(2, 2, 4, 6), 4), ShapeError,
     r"pixel_unshuffle: the input's width .* is 6, not divisible by downscale_factor=4"),
    (lambda f, z: f.pixel_unshuffle(z(2, 2, 4, 6), -1), ArgumentError,
     r"pixel_unshuffle: downscale_factor=-1 must be a positive int"),
    (lambda f, z: f.channel_shuffle(z(2, 8), 2), ShapeError,
     r"channel_shuffle: expected an input with more than 2 dims"),
    (lambda f, z: f.channel_shuffle(z(2, 8, 3), 3), ShapeError,
     r"channel_shuffle: the input of shape \(2, 8, 3\) has 8 channels \(dim 1\), not "
     r"divisible by groups=3"),
    (lambda f, z: f.channel_shuffle(z(2, 8, 3), 0), ArgumentError,
     r"channel_shuffle: groups=0 must be a positive int"),
]


@pytest.mark.parametrize("call, error, pattern", SHUFFLE_ERRORS)
def test_shuffle_errors_where_torch_raises(torch_mod, call, error, pattern):
    with pytest.raises((RuntimeError, TypeError)):
        call(torch_mod.nn.functional, lambda *shape: torch_mod.zeros(shape))
    with pytest.raises(error, match=pattern):
        call(F, lambda *shape: wg.zeros(*shape))
