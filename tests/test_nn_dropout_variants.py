"""Dropout's variants: channel-wise dropout (dropout1d/2d/3d) and alpha dropout (alpha_dropout,
feature_alpha_dropout) and their modules. wengert's random stream is not PyTorch's, so the
masks are checked for their distribution and structure, and the deterministic parts (the
kept and dropped values, the gradients, shapes, errors, warnings, reprs, eval mode) against
PyTorch's."""
import math
import re
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F

CHANNEL = {"dropout1d": F.dropout1d, "dropout2d": F.dropout2d, "dropout3d": F.dropout3d}
ALPHA = {"alpha_dropout": F.alpha_dropout, "feature_alpha_dropout": F.feature_alpha_dropout}
MODULES = ["Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"]
# an input layout each accepts without a warning, and the axes that make up one channel
LAYOUTS = {"dropout1d": [((6, 7, 5), 2), ((7, 5), 1)],
           "dropout2d": [((6, 7, 3, 4), 2)],
           "dropout3d": [((6, 7, 2, 3, 2), 2), ((7, 2, 3, 2), 1)],
           "feature_alpha_dropout": [((6, 7, 4), 2), ((6, 7, 2, 3), 2)]}


def _channels(values, channel_axes):
    """values as (channels, entries of a channel)."""
    return values.reshape(math.prod(values.shape[:channel_axes]), -1)


# --- channel-wise dropout -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CHANNEL))
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(name):
    for shape, channel_axes in LAYOUTS[name]:
        out = CHANNEL[name](wg.ones(*shape, dtype="float64"), p=0.3)
        assert out.shape == shape and out.dtype == np.float64
        rows = _channels(out.data, channel_axes)
        assert np.all(rows == rows[:, :1])  # one value per channel
        assert set(np.unique(rows)) == {0.0, 1 / 0.7}  # PyTorch's 1/(1-p)


@pytest.mark.parametrize("name", sorted(CHANNEL))
def test_channel_dropout_drops_a_fraction_p_of_the_channels(name):
    shape = {"dropout1d": (400, 100, 2), "dropout2d": (400, 100, 1, 2),
             "dropout3d": (400, 100, 1, 1, 2)}[name]
    out = CHANNEL[name](wg.ones(*shape), p=0.3)
    dropped = (out.data.reshape(40_000, -1)[:, 0] == 0).mean()
    # binomial standard error sqrt(0.21 / 40000) = 0.0023: within 5 of them
    assert abs(dropped - 0.3) < 0.0115


@pytest.mark.parametrize("name", sorted(CHANNEL) + sorted(ALPHA))
def test_eval_mode_and_p_zero_are_the_identity(name):
    fn = {**CHANNEL, **ALPHA}[name]
    shape = LAYOUTS.get(name, [((3, 4, 5, 2), 2)])[0][0]
    x = wg.tensor(np.random.default_rng(0).normal(size=shape))
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0, training=True) is x


def test_p_one_gives_zeros():
    for fn in (F.dropout1d, F.dropout2d, F.alpha_dropout, F.feature_alpha_dropout):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # dropout2d's 3-D warning
            out = fn(wg.ones(2, 3, 4), 1.0, training=True)
        np.testing.assert_array_equal(out.data, np.zeros((2, 3, 4)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CHANNEL))
def test_channel_dropout_gradient_is_the_mask_scale(name, dtype):
    shape, channel_axes = LAYOUTS[name][0]
    x = wg.tensor(np.random.default_rng(1).normal(size=shape).astype(dtype),
                  requires_grad=True)
    out = CHANNEL[name](x, p=0.4)
    assert out.dtype == dtype
    w = np.random.default_rng(2).normal(size=shape).astype(dtype)
    (out * w).sum().backward()
    scale = np.where(out.data == 0, 0, 1 / 0.6).astype(dtype)
    np.testing.assert_allclose(out.data, x.data * scale, rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, w * scale, rtol=1e-6)


def test_dropout2d_takes_a_3d_input_as_n_c_l_with_torchs_warning(torch_mod):
    with pytest.warns(UserWarning) as ours:
        out = F.dropout2d(wg.ones(40, 50, 3), p=0.5)
    with pytest.warns(UserWarning) as theirs:
        torch_mod.nn.functional.dropout2d(torch_mod.ones(40, 50, 3), p=0.5)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    rows = out.data.reshape(2000, 3)  # (N, C) channels of length L = 3
    assert np.all(rows == rows[:, :1])
    assert 0 < (rows[:, 0] == 0).mean() < 1


@pytest.mark.parametrize("fn, shape", [("dropout2d", (4, 6)), ("dropout2d", (2, 3, 4, 1, 2)),
                                       ("dropout3d", (2, 3, 4)), ("dropout3d", (4,)),
                                       ("dropout3d", (1, 2, 3, 1, 1, 2))])
def test_deprecated_shapes_warn_as_torch_and_drop_its_channels(torch_mod, fn, shape):
    with pytest.warns(UserWarning) as ours:
        out = CHANNEL[fn](wg.ones(*shape), p=0.5)
    with pytest.warns(UserWarning) as theirs:
        expected = getattr(torch_mod.nn.functional, fn)(torch_mod.ones(shape), p=0.5)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert out.shape == tuple(expected.shape)
    # dropout2d drops (N, C) channels; dropout3d takes them as unbatched: axis 0 is C
    rows = _channels(out.data, 2 if fn == "dropout2d" else 1)
    assert np.all(rows == rows[:, :1])


@pytest.mark.parametrize("name, shape, training", [
    ("dropout1d", (5,), True), ("dropout1d", (2, 3, 4, 5), False), ("dropout2d", (5,), True),
    ("dropout3d", (), True), ("feature_alpha_dropout", (5,), True)])
def test_inputs_torch_refuses_are_shape_errors(torch_mod, name, shape, training):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation warnings before the error
        with pytest.raises(RuntimeError):
            getattr(torch_mod.nn.functional, name)(torch_mod.ones(shape), training=training)
        with pytest.raises(wg.ShapeError, match=rf"{name}: .*shape {re.escape(str(shape))}"):
            {**CHANNEL, **ALPHA}[name](wg.ones(*shape), training=training)


def test_inputs_without_a_channel_axis_pass_when_nothing_is_dropped(torch_mod):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = wg.ones(5)
        assert F.dropout2d(x, training=False) is x
        np.testing.assert_array_equal(F.dropout2d(x, p=1.0).data, np.zeros(5))
        assert F.dropout2d(wg.ones(0)).shape == (0,)
        assert F.feature_alpha_dropout(x, training=False) is x
        assert tuple(torch_mod.nn.functional.dropout2d(torch_mod.ones(0)).shape) == (0,)


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                  "feature_alpha_dropout"])
def test_p_outside_zero_one_is_an_argument_error(name):
    fn = {**CHANNEL, **ALPHA}[name]
    for p in (-0.1, 1.5):
        with pytest.raises(wg.ArgumentError, match=rf"{name}: p={p} is not a probability"):
            fn(wg.ones(2, 3, 4, 5), p, training=True)
    for module_name in MODULES:
        with pytest.raises(wg.ArgumentError, match=rf"{module_name}: p=1.5"):
            getattr(nn, module_name)(1.5)


# --- alpha dropout ------------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5])
@pytest.mark.parametrize("name", sorted(ALPHA))
def test_alpha_dropout_kept_and_dropped_values_are_torchs(torch_mod, name, p):
    # at x = 0 the kept entries are b and the dropped a * saturation + b: PyTorch's constants
    fn, shape = ALPHA[name], (50, 40, 3)
    for x in (0.0, 1.5):
        ours = np.unique(fn(wg.full(shape, x, dtype="float64"), p, training=True).data)
        theirs = np.unique(getattr(torch_mod.nn.functional, name)(
            torch_mod.full(shape, x, dtype=torch_mod.float64), p, training=True).numpy())
        assert len(ours) == 2
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)


def test_alpha_dropout_keeps_mean_zero_and_variance_one():
    x = np.random.default_rng(0).normal(size=400_000)
    out = F.alpha_dropout(wg.tensor(x), p=0.2, training=True).data
    # the standard error of the mean is 1/sqrt(400000) = 0.0016, of the variance ~0.003
    assert abs(out.mean()) < 0.008
    assert abs(out.var() - 1) < 0.015
    assert abs(x.var() - 1) < 0.015


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_alpha_dropout_is_affine_with_the_kept_entries_gradient(dtype):
    p = 0.3
    a = 1 / math.sqrt((1.7580993408473766 ** 2 * p + 1) * (1 - p))
    x = wg.tensor(np.random.default_rng(3).normal(size=(20, 30)).astype(dtype),
                  requires_grad=True)
    out = F.alpha_dropout(x, p, training=True)
    assert out.dtype == dtype
    out.sum().backward()
    dropped_value = a * -1.7580993408473766 + a * 1.7580993408473766 * p
    dropped = np.isclose(out.data, dropped_value, rtol=1e-6)
    kept = ~dropped
    assert 0.2 < dropped.mean() < 0.4
    np.testing.assert_allclose(out.data[kept], a * x.data[kept] + a * 1.7580993408473766 * p,
                               rtol=1e-5)
    np.testing.assert_allclose(x.grad.data, np.where(kept, a, 0), rtol=1e-6)


def test_feature_alpha_dropout_drops_whole_channels():
    out = F.feature_alpha_dropout(wg.zeros(30, 40, 2, 3, dtype="float64"), 0.5, training=True)
    rows = _channels(out.data, 2)
    assert np.all(rows == rows[:, :1])
    assert len(np.unique(rows)) == 2


def test_alpha_dropout_defaults_to_no_training(torch_mod):
    x = wg.ones(3, 4)
    assert F.alpha_dropout(x) is x and F.feature_alpha_dropout(x) is x
    t = torch_mod.ones(3, 4)
    assert torch_mod.nn.functional.alpha_dropout(t) is t


# --- in place, modules ----------------------------------------------------------------------
@pytest.mark.parametrize("name, shape", [("dropout1d", (3, 4)), ("dropout1d", (2, 3, 4)),
                                         ("dropout2d", (2, 3, 4, 5)), ("dropout3d", (3, 2, 2, 2)),
                                         ("alpha_dropout", (3, 4)),
                                         ("feature_alpha_dropout", (2, 3, 4))])
def test_in_place_writes_what_out_of_place_returns(name, shape):
    fn = {**CHANNEL, **ALPHA}[name]
    base = wg.tensor(np.random.default_rng(4).normal(size=shape), requires_grad=True)
    expected = fn(base * 1, 0.5, training=True, generator=wg.Generator(9))
    expected.sum().backward()
    grad = base.grad.data.copy()
    base.grad = None
    h = base * 1
    out = fn(h, 0.5, training=True, inplace=True, generator=wg.Generator(9))
    assert out is h
    np.testing.assert_array_equal(h.data, expected.data)
    out.sum().backward()
    np.testing.assert_array_equal(base.grad.data, grad)
    with pytest.raises(wg.GraphError, match="leaf"):
        fn(base, 0.5, training=True, inplace=True)


def test_generator_makes_the_masks_reproducible():
    x = wg.ones(20, 30, 2)
    one = F.dropout1d(x, generator=wg.Generator(7))
    two = F.dropout1d(x, generator=wg.Generator(7))
    np.testing.assert_array_equal(one.data, two.data)
    assert not np.array_equal(F.dropout1d(x).data, F.dropout1d(x).data)
    module = nn.Dropout1d(generator=wg.Generator(7))
    np.testing.assert_array_equal(module(x).data, one.data)


@pytest.mark.parametrize("name", MODULES)
def test_module_reprs_and_modes_are_torchs(torch_mod, name):
    for args in ((), (0.2, True)):
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch_mod.nn, name)(*args))
    module = getattr(nn, name)(0.5)
    assert module.training
    shape = (20, 30, 2, 2, 2) if name == "Dropout3d" else (20, 30, 4)
    if name == "Dropout2d":
        shape = (20, 30, 2, 2)
    x = wg.zeros(*shape) + 1.0
    assert not np.array_equal(module(x).data, x.data)  # training draws masks
    np.testing.assert_array_equal(module.eval()(x).data, x.data)


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_modules_do_not_write_in_place_as_torchs(torch_mod, name):
    t = torch_mod.ones(4, 5, 2)
    theirs = getattr(torch_mod.nn, name)(0.5, inplace=True)(t)
    assert theirs is not t and torch_mod.all(t == 1)
    x = wg.ones(4, 5, 2)
    out = getattr(nn, name)(0.5, inplace=True)(x)
    assert out is not x
    np.testing.assert_array_equal(x.data, np.ones((4, 5, 2)))


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout2d", "Dropout3d"])
def test_channel_modules_write_in_place_when_asked(name):
    shape = {"Dropout1d": (3, 4), "Dropout2d": (2, 3, 4, 5), "Dropout3d": (3, 2, 2, 2)}[name]
    x = wg.ones(*shape)
    assert getattr(nn, name)(0.5, inplace=True)(x) is x
    assert set(np.unique(x.data)) <= {0.0, 2.0}


def test_error_messages_name_the_layer_and_the_shape():
    with pytest.raises(wg.ShapeError, match=re.escape(
            "dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape (5,)")):
        nn.Dropout1d()(wg.ones(5))
    with pytest.raises(wg.ShapeError, match=r"feature_alpha_dropout: channel-wise dropout "
                                            r"needs a channel axis.*\(5,\)"):
        nn.FeatureAlphaDropout()(wg.ones(5))


# --- dtypes ------------------------------------------------------------------------------------
DROPOUTS = {"dropout": F.dropout, **CHANNEL, **ALPHA}
# an input each takes without a warning
SHAPES = {"dropout": (3, 4, 5), "dropout1d": (3, 4, 5), "dropout2d": (2, 3, 4, 5),
          "dropout3d": (2, 3, 2, 2, 2), "alpha_dropout": (3, 4, 5),
          "feature_alpha_dropout": (3, 4, 5)}


@pytest.mark.parametrize("name", list(DROPOUTS))
def test_a_float16_input_stays_float16_as_torchs(torch_mod, name):
    # the alpha dropouts once gave float64, their affine map being made in the draws' dtype
    x = np.random.default_rng(4).normal(size=SHAPES[name]).astype(np.float16)
    theirs = getattr(torch_mod.nn.functional, name)(torch_mod.tensor(x), 0.4, True)
    assert theirs.dtype == torch_mod.float16
    wg.manual_seed(5)
    ours = DROPOUTS[name](wg.tensor(x), 0.4, True)
    assert ours.dtype == np.float16
    # the same draws (float64 for both inputs) with the map in float64: equal to rounding
    wg.manual_seed(5)
    wide = DROPOUTS[name](wg.tensor(x.astype(np.float64)), 0.4, True)
    np.testing.assert_allclose(ours.data.astype(np.float64), wide.data, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("name", list(DROPOUTS))
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_and_bool_inputs_are_refused_when_dropping_as_torch(torch_mod, name, dtype):
    x = np.ones(SHAPES[name], dtype=dtype)
    tF = getattr(torch_mod.nn.functional, name)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        tF(torch_mod.tensor(x), 0.5, True)
    with pytest.raises(wg.DTypeError, match=rf"{name}: cannot drop entries of an input of "
                                            rf"dtype {dtype} \(shape .*floating input.*Hint"):
        DROPOUTS[name](wg.tensor(x), 0.5, True)
    # p = 1 multiplies by zeros of the input's dtype, which torch does for any dtype
    theirs, ours = tF(torch_mod.tensor(x), 1.0, True), DROPOUTS[name](wg.tensor(x), 1.0, True)
    assert ours.dtype == np.dtype(dtype) and theirs.dtype == getattr(torch_mod, dtype)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
