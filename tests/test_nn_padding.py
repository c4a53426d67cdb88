"""Padding: ``nn.functional.pad`` and the padding modules against PyTorch (values, gradients,
negative widths, errors, reprs), ``Conv1d/2d/3d(padding_mode=...)`` against PyTorch, and the
non-constant modes of the ``pad`` primitive: its VJP is the exact adjoint and differentiates
again (reverse over reverse, forward over reverse). The primitive's table checks (numerical
gradient, JVP, second order, PyTorch) are in op_cases_core.py."""
import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck
from wengert.errors import ArgumentError, ShapeError

MODES = ("constant", "reflect", "replicate", "circular")
NUMPY_MODES = ("reflect", "symmetric", "edge", "wrap")

# (input shape, pad): 1, 2 and 3 padded dims, batched and unbatched, negative widths (crops)
PADS = [
    ((2, 5), (2, 3)),
    ((2, 3, 5), (4, 0)),
    ((2, 3, 5), (-1, 2)),
    ((2, 3, 5), (3, -2)),
    ((3, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4, 5), (0, 4, 2, 1)),
    ((2, 3, 4, 5), (-2, 1, 1, -1)),
    ((2, 3, 4, 5), (1, 1, 2, 2, 1, 0)),
    ((2, 2, 3, 4, 5), (2, 1, 0, 3, 1, 1)),
    ((2, 2, 3, 4, 5), (-1, 3, 2, -2, 1, -1)),
]


def _compare(torch, x, pad, mode, value=None, rtol=1e-12, atol=1e-12):
    """Our F.pad and PyTorch's: the same values, and the same input gradient for the
    output weighted by a random w."""
    xt, tx = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = F.pad(xt, pad, mode=mode, value=value)
    tout = torch.nn.functional.pad(tx, pad, mode=mode, value=value)
    assert out.shape == tuple(tout.shape) and out.dtype == x.dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    w = np.random.default_rng(7).normal(size=out.shape).astype(x.dtype)
    (out * w).sum().backward()
    (tout * torch.as_tensor(w)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape, pad", PADS, ids=lambda v: str(v))
def test_functional_pad_matches_torch(torch_mod, mode, shape, pad):
    x = np.random.default_rng(0).normal(size=shape)
    _compare(torch_mod, x, pad, mode)


@pytest.mark.parametrize("mode", MODES)
def test_functional_pad_in_float32(torch_mod, mode):
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5)).astype(np.float32)
    _compare(torch_mod, x, (1, 2, 2, 1), mode, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape, pad, value", [
    ((5,), (2, -1), 1.5),               # a 1-D input: constant mode pads any dims
    ((2, 3), (1, 2, 0, 1), -2.0),       # every dim of a matrix
    ((2, 3, 4, 5), (1, 0, 2, 1, 0, 1, 1, 1), 3.0),  # four dims
    ((3, 4), (-1, 1, 2, -1), None),     # crop and pad in both dims
    ((4, 5), (-5, 0), None),            # cropped to nothing
    ((2, 3), (), None),                 # no padding
])
def test_constant_pad_any_dims_value_and_crops(torch_mod, shape, pad, value):
    x = np.random.default_rng(2).normal(size=shape)
    _compare(torch_mod, x, pad, "constant", value=value)


def test_zero_value_is_allowed_in_every_mode_and_int_inputs_pad(torch_mod):
    x = np.arange(10.0).reshape(2, 5)
    for mode in MODES:
        _compare(torch_mod, x, (2, 1), mode, value=0)
        ints = np.arange(10).reshape(2, 5)
        expected = torch_mod.nn.functional.pad(torch_mod.tensor(ints), (2, 1), mode=mode)
        got = F.pad(wg.tensor(ints), (2, 1), mode=mode)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got.data, expected.numpy())


def test_empty_output_dims_are_pytorchs(torch_mod):
    """PyTorch refuses reflect/replicate only when every padded dim would be empty; one
    empty dim gives an empty tensor (its gradient is all zeros)."""
    for mode in ("reflect", "replicate", "circular"):
        x = np.random.default_rng(3).normal(size=(2, 3, 5))
        expected = torch_mod.nn.functional.pad(torch_mod.tensor(x), (-1, 0, -3, 0), mode=mode)
        xt = wg.tensor(x, requires_grad=True)
        out = F.pad(xt, (-1, 0, -3, 0), mode=mode)
        assert out.shape == tuple(expected.shape) == (2, 0, 4)
        out.sum().backward()
        np.testing.assert_array_equal(xt.grad.data, np.zeros_like(x))


def _t(*shape):
    return wg.tensor(np.arange(float(np.prod(shape))).reshape(shape))


# (input shape, pad, mode, value, our error, what our message says); PyTorch raises too
ERRORS = [
    ((2, 5), (1, 1), "edge", None, ArgumentError, r"mode='edge' is not a padding mode"),
    ((2, 5), (1, 1, 1), "constant", None, ArgumentError, r"divisible by 2"),
    ((2, 5), (1,), "reflect", None, ArgumentError, r"divisible by 2"),
    ((5,), (1, 1, 1, 1), "constant", None, ShapeError, r"at most two times the input's dims"),
    ((2, 5), (1, 1), "reflect", 1.0, ArgumentError, r"mode='reflect' takes no value"),
    ((5,), (1, 1), "reflect", None, ShapeError, r"last 1, 2 or 3 dims.*1-D input.*Hint"),
    ((1, 1, 1, 5), (1, 1), "replicate", None, ShapeError, r"one or two dims more.*4-D"),
    ((1, 5), (1, 1, 1, 1), "circular", None, ShapeError, r"got 4 widths \(2 dims\)"),
    ((2, 5), (), "reflect", None, ShapeError, r"got 0 widths"),
    ((1, 1, 2, 2, 2, 5), (1,) * 8, "reflect", None, ShapeError, r"last 1, 2 or 3 dims"),
    ((0, 3, 5), (1, 1, 1, 1), "reflect", None, ShapeError, r"non-empty.*\(0, 3, 5\)"),
    ((2, 3, 0), (1, 1), "replicate", None, ShapeError, r"non-empty"),
    ((1, 5), (5, 0), "reflect", None, ArgumentError,
     r"dim 1 of size 5 by \(5, 0\).*below the dim's size.*Hint"),
    ((1, 1, 5), (7, -4), "reflect", None, ArgumentError, r"below the dim's size"),
    ((1, 5), (6, 0), "circular", None, ArgumentError, r"at most the dim's size"),
    ((1, 2, 0), (1, 1), "circular", None, ArgumentError, r"at most the dim's size"),
    ((1, 5), (-1, 5), "circular", None, ArgumentError, r"crops first, leaving 4"),
    ((1, 5), (3, -4), "circular", None, ArgumentError, r"crops first, leaving 1"),
    ((1, 5), (-3, -3), "circular", None, ArgumentError, r"would have -1 entries"),
    ((1, 5), (-5, 0), "reflect", None, ArgumentError, r"leaves no entry in any padded dim"),
    ((1, 1, 5), (-6, 1), "replicate", None, ArgumentError, r"leaves no entry"),
    ((2, 3, 5), (-5, 0, -3, 0), "replicate", None, ArgumentError, r"output sizes \[0, 0\]"),
    ((1, 5), (-3, -3), "constant", None, ArgumentError, r"crop more than the 5 entries"),
    ((1, 5), (-6, 1), "constant", None, ArgumentError, r"crop more than"),
]


@pytest.mark.parametrize("shape, pad, mode, value, error, pattern", ERRORS,
                         ids=lambda v: str(v))
def test_errors_are_pytorchs(torch_mod, shape, pad, mode, value, error, pattern):
    x = np.zeros(shape)
    with pytest.raises(Exception):
        torch_mod.nn.functional.pad(torch_mod.tensor(x), pad, mode=mode, value=value)
    with pytest.raises(error, match=pattern):
        F.pad(wg.tensor(x), pad, mode=mode, value=value)


def test_pad_must_be_ints(torch_mod):
    with pytest.raises(TypeError):
        torch_mod.nn.functional.pad(torch_mod.zeros(1, 5), (1.0, 1.0))
    with pytest.raises(ArgumentError, match=r"pad: pad=\(1.0, 1.0\) must be a tuple of ints"):
        F.pad(_t(1, 5), (1.0, 1.0))
    with pytest.raises(ArgumentError, match="must be a tuple of ints"):
        F.pad(_t(1, 5), 2)


# --- the modules ----------------------------------------------------------------------------
MODULES = [
    ("ZeroPad1d", (2,), (2, 3, 5)),
    ("ZeroPad1d", ((1, -2),), (3, 5)),
    ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
    ("ZeroPad3d", (1,), (2, 3, 4, 5)),
    ("ConstantPad1d", (2, 3.5), (2, 3, 5)),
    ("ConstantPad2d", ((0, 1, 2, 1), -1), (3, 4, 5)),
    ("ConstantPad3d", ((1, 0, 0, 2, 1, 1), 2.25), (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", ((3, 1),), (2, 3, 5)),
    ("ReflectionPad2d", (2,), (3, 4, 5)),
    ("ReflectionPad3d", ((1, 2, 0, 1, 1, 0),), (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", (4,), (3, 5)),
    ("ReplicationPad2d", ((0, 3, 2, -1),), (2, 3, 4, 5)),
    ("ReplicationPad3d", (2,), (2, 3, 4, 5)),
    ("CircularPad1d", ((5, 2),), (2, 3, 5)),
    ("CircularPad2d", (1,), (3, 4, 5)),
    ("CircularPad3d", ((1, 2, 2, 0, 1, 1),), (1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize("name, args, shape", MODULES, ids=lambda v: str(v))
def test_modules_match_torch(torch_mod, name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch_mod.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding
    if hasattr(theirs, "value"):
        assert ours.value == theirs.value
    x = np.random.default_rng(4).normal(size=shape)
    xt, tx = wg.tensor(x, requires_grad=True), torch_mod.tensor(x, requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = np.random.default_rng(5).normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch_mod.as_tensor(w)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []


def test_circular_modules_check_the_input_dims_as_torch(torch_mod):
    for name, shape in (("CircularPad1d", (5,)), ("CircularPad2d", (1, 1, 1, 4, 5)),
                        ("CircularPad3d", (2, 3, 4))):
        with pytest.raises(ValueError):
            getattr(torch_mod.nn, name)(1)(torch_mod.zeros(shape))
        with pytest.raises(ShapeError, match=rf"{name}: expected .*D input \(got "
                                             rf"{len(shape)}D input"):
            getattr(nn, name)(1)(wg.tensor(np.zeros(shape)))


def test_modules_in_a_sequential():
    model = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(2, 3, 3, dtype="float64"))
    x = wg.tensor(np.random.default_rng(6).normal(size=(1, 2, 5, 5)))
    assert model(x).shape == (1, 3, 5, 5)
    assert "(0): ReflectionPad2d((1, 1, 1, 1))" in repr(model)


# --- Conv(padding_mode=...) -----------------------------------------------------------------
CONVS = [
    ("Conv1d", (2, 3, 3), {"padding": 2}, (2, 2, 7)),
    ("Conv1d", (2, 4, 4), {"padding": "same", "dilation": 2}, (2, 9)),  # unbatched
    ("Conv2d", (2, 3, (3, 2)), {"padding": (1, 2), "stride": 2}, (2, 2, 5, 6)),
    ("Conv2d", (2, 4, 4), {"padding": "same", "groups": 2, "bias": False}, (2, 2, 5, 6)),
    ("Conv3d", (1, 2, 3), {"padding": (1, 0, 2)}, (2, 1, 3, 4, 5)),
    ("Conv3d", (2, 2, 2), {"padding": "same"}, (2, 3, 4, 5)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on even kernels
@pytest.mark.parametrize("padding_mode", ("reflect", "replicate", "circular", "zeros"))
@pytest.mark.parametrize("config", CONVS, ids=lambda c: f"{c[0]}{c[2]}{c[3]}")
def test_conv_padding_modes_match_torch(torch_mod, config, padding_mode):
    torch = torch_mod
    name, args, kwargs, shape = config
    theirs = getattr(torch.nn, name)(*args, **kwargs, padding_mode=padding_mode)
    ours = getattr(nn, name)(*args, **kwargs, padding_mode=padding_mode, dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(8).normal(size=shape)
    xt, tx = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(9).normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch.as_tensor(w)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for pname, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, getattr(theirs, pname).grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=pname)


def test_conv_padding_mode_errors_are_torchs(torch_mod):
    torch = torch_mod
    with pytest.raises(ValueError):
        torch.nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ArgumentError, match="'mirror' is not one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    for mode in ("reflect", "replicate", "circular"):
        with pytest.raises(ValueError):
            torch.nn.ConvTranspose2d(1, 1, 3, padding_mode=mode)
        with pytest.raises(ArgumentError, match=rf"ConvTranspose2d: padding_mode='{mode}'.*"
                                                "only 'zeros'"):
            nn.ConvTranspose2d(1, 1, 3, padding_mode=mode)
    # a reflect padding as large as the input: F.pad's error, in PyTorch too
    x = np.zeros((1, 1, 3, 3))
    with pytest.raises(RuntimeError):
        torch.nn.Conv2d(1, 1, 7, padding=3, padding_mode="reflect")(torch.tensor(x))
    with pytest.raises(ArgumentError, match="below the dim's size"):
        nn.Conv2d(1, 1, 7, padding=3, padding_mode="reflect")(wg.tensor(x))


# --- the pad primitive's non-constant modes -------------------------------------------------
@pytest.mark.parametrize("mode", NUMPY_MODES)
@pytest.mark.parametrize("shape, widths", [
    ((5,), (2, 3)),
    ((3, 4), ((2, 1), (0, 3))),
    ((2, 3, 4), ((1, 1), (2, 0), (3, 3))),  # borders that overlap when folded back
    ((1, 3), ((0, 0), (1, 1))),
])
def test_pad_primitive_is_numpys_and_its_vjp_the_exact_adjoint(mode, shape, widths):
    rng = np.random.default_rng(10)
    x = rng.normal(size=shape)
    if mode == "reflect" and shape == (1, 3):
        widths = ((0, 0), (2, 2))  # reflect needs widths below the size
    out = wg.pad(wg.tensor(x), pad_width=widths, mode=mode)
    np.testing.assert_array_equal(out.data, np.pad(x, widths, mode=mode))
    # <pad(x), y> == <x, pad^T(y)> for the VJP pad^T
    y = rng.normal(size=out.shape)
    _, back = wg.vjp(lambda x: wg.pad(x, pad_width=widths, mode=mode), wg.tensor(x))
    (adjoint,) = back(wg.tensor(y))
    np.testing.assert_allclose((out.data * y).sum(), (x * adjoint.data).sum(), rtol=1e-12)
    # every input entry's gradient counts the padded entries that copy it
    ones = np.ones(out.shape)
    index = np.arange(x.size, dtype=float).reshape(shape)
    copies = np.bincount(np.pad(index, widths, mode=mode).astype(int).ravel(),
                         minlength=x.size).reshape(shape)
    np.testing.assert_array_equal(back(wg.tensor(ones))[0].data, copies)
    # the JVP is the pad of the tangent
    t = rng.normal(size=shape)
    _, tangent = wg.jvp(lambda x: wg.pad(x, pad_width=widths, mode=mode), (wg.tensor(x),),
                        (wg.tensor(t),))
    np.testing.assert_array_equal(tangent.data, np.pad(t, widths, mode=mode))


@pytest.mark.parametrize("mode", NUMPY_MODES + ("constant",))
def test_pad_primitive_passes_gradcheck_to_second_order(mode):
    x = np.random.default_rng(11).normal(size=(2, 3, 4))
    widths = ((1, 0), (2, 2), (3, 1))
    report = gradcheck(lambda x: wg.tanh(wg.pad(x, pad_width=widths, mode=mode)) ** 2, x,
                       order=2)
    assert report.passed


@pytest.mark.parametrize("padding_mode", ("reflect", "replicate", "circular"))
def test_conv_with_padding_mode_passes_gradcheck(padding_mode):
    conv = nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode=padding_mode, dtype="float64")
    rng = np.random.default_rng(12)
    x, w, b = rng.normal(size=(1, 2, 4, 5)), conv.weight.data.copy(), conv.bias.data.copy()

    def f(x, w, b):
        padded = F.pad(x, conv._reversed_padding_repeated_twice, mode=padding_mode)
        return wg.tanh(F.conv2d(padded, w, b))

    assert gradcheck(f, (x, w, b), order=2, full=False, n_random=3).passed
    np.testing.assert_allclose(f(wg.tensor(x), conv.weight, conv.bias).data,
                               wg.tanh(conv(wg.tensor(x))).data, rtol=1e-12)


@pytest.mark.parametrize("mode", ("reflect", "replicate", "circular"))
def test_forward_over_reverse_matches_torchs_hvp(torch_mod, mode):
    torch = torch_mod
    rng = np.random.default_rng(13)
    x, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    pad = (2, 1, -1, 2)
    w = rng.normal(size=F.pad(wg.tensor(x), pad, mode=mode).shape)

    def f(x):
        return (F.pad(x, pad, mode=mode) ** 3 * w).sum()

    (ours,) = wg.hvp(f, (wg.tensor(x),), (wg.tensor(v),))

    def tf(x):
        return (torch.nn.functional.pad(x, pad, mode=mode) ** 3 * torch.tensor(w)).sum()

    _, theirs = torch.autograd.functional.hvp(tf, torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"pad_width": 1, "mode": "mean"}, r"pad: mode='mean' is not a padding mode.*'wrap'"),
    ({"pad_width": (3, 0), "mode": "reflect"},
     r"mode='reflect' cannot pad axis 0 of size 3 by \(3, 0\) \(input shape \(3,\)\).*below "
     r"the axis size.*Hint"),
    ({"pad_width": 4, "mode": "wrap"}, r"axis 0 of size 3 by \(4, 4\).*at most the axis size"),
    ({"pad_width": (0, 4), "mode": "symmetric"}, r"at most the axis size"),
    ({"pad_width": (-1, 1), "mode": "edge"}, r"negative width.*Hint: crop by slicing"),
    ({"pad_width": 1, "mode": "edge", "constant_values": 2}, r"constant_values=2 is for"),
    ({"pad_width": ((1, 1), (1, 1)), "mode": "wrap"}, r"pad_width=.*does not fit.*\(3,\)"),
])
def test_pad_primitive_errors(kwargs, pattern):
    with pytest.raises(ArgumentError, match=pattern):
        wg.pad(wg.ones(3), **kwargs)


def test_pad_primitive_edge_of_an_empty_axis_is_an_error():
    with pytest.raises(ArgumentError, match=r"empty axis has no edge entry"):
        wg.pad(wg.ones((2, 0)), pad_width=((0, 0), (1, 0)), mode="edge")
    # an empty axis that is not padded is fine
    assert wg.pad(wg.ones((0, 3)), pad_width=((0, 0), (1, 2)), mode="edge").shape == (0, 6)


def test_the_examples_in_the_docs_by_hand():
    """docs/nn.md's Padding example, its values worked out by hand from the definitions."""
    x = wg.tensor(np.array([[1.0, 2.0, 3.0, 4.0]]), requires_grad=True)
    assert F.pad(x, (2, 1), mode="reflect").data.tolist() == [[3, 2, 1, 2, 3, 4, 3]]
    assert F.pad(x, (2, 0), mode="replicate").data.tolist() == [[1, 1, 1, 2, 3, 4]]
    assert F.pad(x, (1, 2), mode="circular").data.tolist() == [[4, 1, 2, 3, 4, 1, 2]]
    assert F.pad(x, (-1, 2), value=9.0).data.tolist() == [[2, 3, 4, 9, 9]]
    F.pad(x, (2, 1), mode="reflect").sum().backward()
    assert x.grad.data.tolist() == [[1, 2, 3, 1]]
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"


def test_review_fixes_circular_crop_to_empty_and_constant_width_errors():
    """A circular pad whose crop empties a dim gives torch's empty shape; wg.pad's constant
    mode names bad widths as an ArgumentError, as its other modes do."""
    torch = pytest.importorskip("torch")
    x = np.arange(6.0).reshape(3, 2)
    for pad in [(1, -3), (-3, 1), (0, -2)]:
        ours = F.pad(wg.tensor(x), pad, mode="circular")
        theirs = torch.nn.functional.pad(torch.tensor(x), pad, mode="circular")
        assert ours.shape == tuple(theirs.shape)
    for widths in (-1, (1, 2, 3)):
        with pytest.raises(wg.ArgumentError, match=r"pad: pad_width=.*Hint"):
            wg.pad(wg.ones((2, 2)), widths)
