"""The convolution modules (Conv1d/2d/3d, ConvTranspose1d/2d/3d) against PyTorch: outputs,
input and parameter gradients with the same weights in float32 and float64, padding='same'
with even kernels, state dicts both ways, repr, initialisation statistics, the errors, and a
small CNN trained by SGD step for step beside PyTorch's. The primitives' own derivatives
(numerical, JVP, second order) are in op_cases_conv.py; padding_mode is tested in
test_nn_padding.py."""
import math

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
import wengert.optim as optim
from wengert.errors import ArgumentError, DTypeError, ShapeError

# (module name, positional args, keyword args, input shape)
CONFIGS = [
    ("Conv1d", (3, 4, 3), {"stride": 2, "padding": 1}, (2, 3, 9)),
    ("Conv1d", (4, 4, 3), {"groups": 4, "dilation": 2, "bias": False}, (3, 4, 10)),
    ("Conv2d", (2, 6, (3, 2)), {"stride": (2, 1), "padding": (1, 0), "groups": 2},
     (2, 2, 7, 6)),
    ("Conv2d", (3, 4, 4), {"padding": "same", "dilation": (1, 2)}, (2, 3, 7, 9)),
    ("Conv2d", (3, 5, 3), {"stride": 2}, (3, 8, 8)),  # unbatched; last row/col not covered
    ("Conv3d", (2, 3, (2, 3, 2)), {"stride": (1, 2, 1), "padding": (1, 1, 0)},
     (2, 2, 4, 5, 3)),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1},
     (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, (2, 3)), {"stride": (2, 1), "output_padding": (1, 0),
                                         "groups": 2, "dilation": (1, 2)}, (2, 4, 3, 4)),
    ("ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1, "bias": False}, (2, 4, 4)),
    ("ConvTranspose3d", (2, 2, 2), {"stride": 2, "padding": (0, 1, 0)}, (1, 2, 2, 3, 2)),
]


def _pair(torch, config, dtype):
    """Our module and PyTorch's, built alike, with PyTorch's (random) values copied into ours
    through the state dict."""
    name, args, kwargs, _ = config
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=getattr(torch, dtype))
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("dtype, rtol, atol", [("float64", 1e-10, 1e-12),
                                               ("float32", 1e-5, 1e-5)])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}{c[2]}{c[3]}")
def test_module_matches_torch(torch_mod, config, dtype, rtol, atol):
    torch = torch_mod
    ours, theirs = _pair(torch, config, dtype)
    rng = np.random.default_rng(1)
    x = rng.normal(size=config[3]).astype(dtype)
    xt, tx = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    assert out.dtype == np.dtype(dtype) and out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    w = rng.normal(size=out.shape).astype(dtype)
    (out * w).sum().backward()
    (tout * torch.as_tensor(w)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=rtol, atol=atol)
    assert xt.grad.dtype == np.dtype(dtype)
    for name, p in ours.named_parameters():
        assert p.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(p.grad.data, getattr(theirs, name).grad.numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("kernel, dilation", [(2, 1), ((4, 2), 1), ((2, 3), (3, 1))])
def test_same_padding_keeps_the_size_and_pads_more_on_the_far_side(torch_mod, kernel,
                                                                   dilation):
    torch = torch_mod
    x = np.random.default_rng(2).normal(size=(2, 2, 6, 7))
    ours = nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation, dtype="float64")
    theirs = torch.nn.Conv2d(2, 3, kernel, padding="same", dilation=dilation)
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    out = ours(wg.tensor(x))
    assert out.shape == (2, 3, 6, 7)
    np.testing.assert_allclose(out.data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    # by hand: total d*(k-1) per axis, the left/top getting the smaller half
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    total = [di * (ki - 1) for ki, di in zip(k, d)]
    padded = np.pad(x, [(0, 0), (0, 0)] + [(t // 2, t - t // 2) for t in total])
    explicit = F.conv2d(wg.tensor(padded), ours.weight, ours.bias, dilation=dilation)
    np.testing.assert_allclose(out.data, explicit.data, rtol=1e-12, atol=1e-12)


def test_state_dict_moves_from_torch_and_back(torch_mod):
    torch = torch_mod
    theirs = torch.nn.Conv2d(3, 4, (3, 2), stride=2, groups=1)
    ours = nn.Conv2d(3, 4, (3, 2), stride=2, dtype="float64")
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).normal(size=(2, 3, 7, 6))
    np.testing.assert_allclose(ours(wg.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    with wg.no_grad():
        ours.weight.data *= 2.0
    back = torch.nn.Conv2d(3, 4, (3, 2), stride=2)
    back.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    np.testing.assert_array_equal(back.weight.detach().numpy(), ours.weight.data)
    np.testing.assert_array_equal(back.weight.detach().numpy(), 2 * theirs.weight.detach().numpy())


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv1d", (2, 4, 3), {}),
    ("Conv2d", (2, 4, (3, 2)), {"stride": 2, "padding": 1, "bias": False}),
    ("Conv2d", (4, 4, 3), {"padding": "same", "dilation": 2, "groups": 2}),
    ("Conv3d", (1, 2, 2), {"padding": (1, 0, 1)}),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "output_padding": 1, "groups": 2}),
    ("ConvTranspose3d", (1, 2, 2), {"dilation": 2, "bias": False}),
])
def test_repr_and_shapes_match_torch(torch_mod, name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch_mod.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].shape == tuple(value.shape)


def test_default_dtype_is_linears():
    assert nn.Conv2d(1, 2, 3).weight.dtype == nn.Linear(1, 2).weight.dtype == np.float32
    assert nn.ConvTranspose1d(1, 2, 3, dtype="float64").bias.dtype == np.float64
    x = wg.tensor(np.ones((1, 1, 5, 5), np.float32))
    assert nn.Conv2d(1, 2, 3)(x).dtype == np.float32


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(16, 32, 5), 16 * 25),
    (lambda: nn.Conv1d(12, 24, 7, groups=3), 4 * 7),
    (lambda: nn.ConvTranspose2d(16, 40, 3, groups=2), 20 * 9),  # fan_in from weight.shape[1]
])
def test_init_is_torchs_uniform(make, fan_in):
    m = make()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)): sqrt(1/3) * sqrt(3/fan_in)
    w, b = m.weight.data, m.bias.data
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound): std bound/sqrt(3), and most of the range is used
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.05
    assert np.abs(w).max() > 0.98 * bound
    assert abs(w.mean()) < 0.05 * bound


def test_padding_modes_other_than_zeros_are_refused_by_transposed_convs_only():
    # Conv1d/2d/3d take every PyTorch padding_mode (tests/test_nn_padding.py checks them
    # against PyTorch); the transposed ones take 'zeros' only, as PyTorch's
    for mode in ("reflect", "replicate", "circular"):
        assert nn.Conv2d(1, 1, 3, padding=1, padding_mode=mode).padding_mode == mode
        with pytest.raises(ArgumentError, match="only 'zeros'"):
            nn.ConvTranspose2d(1, 1, 3, padding_mode=mode)
    with pytest.raises(ArgumentError, match="'mirror' is not one of"):
        nn.Conv1d(1, 1, 3, padding_mode="mirror")


def _t(*shape, dtype=np.float64):
    return wg.tensor(np.zeros(shape, dtype))


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: F.conv2d(_t(1, 3, 5, 5), _t(2, 2, 3, 3)), ShapeError,
     r"conv: the input has 3 channels but the weight \(2, 2, 3, 3\) with groups=1 expects 2"),
    (lambda: F.conv2d(_t(1, 4, 5, 5), _t(3, 2, 3, 3), groups=2), ArgumentError,
     r"groups=2 must divide .* weight's 3"),
    (lambda: F.conv2d(_t(1, 1, 2, 5), _t(1, 1, 3, 3)), ShapeError,
     r"conv: the kernel \(3, 3\).* larger than the padded input \(2, 5\).*Hint"),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), stride=2, padding="same"),
     ArgumentError, r"conv2d: padding='same' is not supported for strided"),
    (lambda: F.conv2d(_t(1, 1, 1, 5, 5), _t(1, 1, 3, 3)), ShapeError,
     r"conv2d: expected input of shape \(N, C, \*spatial\).*got shape \(1, 1, 1, 5, 5\)"),
    (lambda: F.conv1d(_t(1, 2, 5), _t(1, 2, 3, 3)), ShapeError,
     r"conv1d: expected a weight .*got \(1, 2, 3, 3\)"),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3, dtype=np.float32)), DTypeError,
     r"conv: input \(float64\) and weight \(float32\)"),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(2, 1, 3, 3), _t(3)), ShapeError,
     r"conv2d: bias of shape \(3,\) does not fit 2 output channels"),
    (lambda: F.conv2d(_t(1, 1, 5, 5), _t(1, 1, 3, 3), padding="full"), ArgumentError,
     r"padding='full' is not a valid string"),
    (lambda: F.conv_transpose1d(_t(1, 2, 5), _t(2, 1, 3), stride=2, output_padding=2),
     ArgumentError, r"output_padding=\(2,\) must be smaller than either stride"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ArgumentError,
     r"Conv2d: groups=2 must .* divide both in_channels=3 and out_channels=4"),
    (lambda: nn.Conv2d(3, 4, 3, stride=2, padding="same"), ArgumentError,
     r"padding='same' is not supported for strided"),
])
def test_errors_name_the_op_and_the_shapes(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_unbatched_input_gives_unbatched_output():
    m = nn.Conv1d(2, 3, 3, dtype="float64")
    x = np.random.default_rng(4).normal(size=(2, 6))
    out = m(wg.tensor(x))
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out.data, m(wg.tensor(x[None])).data[0], rtol=1e-12)


def _cnn(torch=None):
    """Conv2d - ReLU - Conv2d (stride 2) - Flatten - Linear, in either library."""
    lib = torch.nn if torch is not None else nn
    return lib.Sequential(lib.Conv2d(1, 4, 3), lib.ReLU(), lib.Conv2d(4, 6, 3, stride=2),
                          lib.Flatten(), lib.Linear(6 * 3 * 3, 3))


def test_small_cnn_trains_like_torch_step_for_step(torch_mod):
    torch = torch_mod
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 1, 9, 9))
    y = (x[:, 0, :4].mean(axis=(1, 2)) > 0).astype(np.int64) + (x[:, 0, :, :4].mean(axis=(1, 2))
                                                                  > 0)
    theirs = _cnn(torch)
    ours = _cnn().double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    opt = optim.SGD(ours.parameters(), lr=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    losses, tlosses = [], []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(ours(wg.tensor(x)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        topt.step()
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-9)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].data, v.numpy(), rtol=1e-8, atol=1e-12)
    assert losses[-1] < 0.7 * losses[0]


# --- huge dilation, groups and output_padding: raise where PyTorch raises --------------------
@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", [
    # dilated kernels spanning past the input: some windows see padding only (zero there)
    ("conv1d", (2, 3, 5), (4, 3, 2), {"padding": 3, "dilation": 9}),
    ("conv2d", (2, 3, 5, 4), (4, 3, 2, 3), {"padding": (4, 2), "dilation": (9, 3),
                                            "stride": (2, 1)}),
    ("conv3d", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), {"padding": 2, "dilation": 5}),
    ("conv1d", (2, 2, 3), (2, 1, 2), {"padding": 4, "dilation": 6, "groups": 2}),
    ("conv_transpose1d", (2, 3, 4), (3, 2, 3), {"dilation": 7, "stride": 3, "padding": 2,
                                                "output_padding": 2}),
    ("conv_transpose2d", (1, 2, 2, 3), (2, 1, 2, 2), {"dilation": (8, 1), "padding": (3, 0)}),
])
def test_huge_dilation_matches_torch(torch_mod, name, x_shape, w_shape, kwargs):
    torch = torch_mod
    rng = np.random.default_rng(6)
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    xw, ww = wg.tensor(x, requires_grad=True), wg.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    out, tout = getattr(F, name)(xw, ww, **kwargs), getattr(torch.nn.functional, name)(xt, wt,
                                                                                        **kwargs)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=out.shape)
    (out * g).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xw.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ww.grad.data, wt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs, error, pattern", [
    ("conv1d", (1, 1, 5), (1, 1, 3), {"dilation": 3}, ShapeError,
     r"conv: the kernel \(3,\) \(dilation \(3,\)\) is larger than the padded input \(5,\)"),
    ("conv2d", (1, 1, 4, 9), (1, 1, 2, 2), {"dilation": (1, 9), "padding": (0, 0)}, ShapeError,
     r"conv: the kernel \(2, 2\) \(dilation \(1, 9\)\) is larger than the padded input "
     r"\(4, 9\).*Hint"),
    ("conv_transpose1d", (1, 1, 1), (1, 1, 1), {"padding": 1}, ShapeError,
     r"conv_transpose: .*give an empty output \(-1,\)"),
    ("conv1d", (1, 4, 5), (4, 1, 3), {"groups": 0}, ArgumentError,
     r"conv: groups=0 must be a positive int \(input \(1, 4, 5\), weight \(4, 1, 3\)\)\. Hint"),
    ("conv_transpose1d", (1, 4, 5), (4, 1, 3), {"groups": -1}, ArgumentError,
     r"conv_transpose: groups=-1 must be a positive int"),
    ("conv1d", (1, 4, 5), (3, 2, 3), {"groups": 2}, ArgumentError,
     r"conv: groups=2 must divide the 4 input channels and the weight's 3.*Hint"),
    ("conv_transpose1d", (1, 3, 5), (3, 1, 3), {"groups": 2}, ArgumentError,
     r"conv_transpose: groups=2 must divide the 3 input channels"),
    ("conv_transpose1d", (1, 3, 5), (4, 1, 3), {}, ShapeError,
     r"conv_transpose: the input has 3 channels but the weight \(4, 1, 3\) with groups=1 "
     r"expects 4 \(input \(1, 3, 5\)\)\. Hint"),
    ("conv_transpose1d", (1, 2, 5), (2, 1, 3), {"stride": 2, "output_padding": 2,
                                                "dilation": 2}, ArgumentError,
     r"conv_transpose1d: output_padding=\(2,\) must be smaller than either stride \(2,\) or "
     r"dilation \(2,\).*Hint"),
    ("conv_transpose2d", (1, 2, 5, 5), (2, 1, 3, 3), {"stride": (2, 1),
                                                      "output_padding": (1, 1)}, ArgumentError,
     r"conv_transpose2d: output_padding=\(1, 1\) must be smaller"),
    ("conv_transpose1d", (1, 2, 5), (2, 1, 3), {"output_padding": -1}, ArgumentError,
     r"conv_transpose1d: output_padding=-1 must be an int or 1 ints, each >= 0.*Hint"),
    ("conv1d", (1, 1, 5), (1, 1, 3), {"stride": 0}, ArgumentError,
     r"conv1d: stride=0 must be an int or 1 ints, each >= 1.*Hint: e.g. stride=2"),
    ("conv2d", (1, 1, 5, 5), (1, 1, 3, 3), {"padding": -1}, ArgumentError,
     r"conv2d: padding=-1 must be an int or 2 ints, each >= 0"),
    ("conv1d", (1, 1, 5), (1, 1, 3), {"dilation": 1.5}, ArgumentError,
     r"conv1d: dilation=1.5 must be an int"),
])
def test_errors_where_torch_raises(torch_mod, name, x_shape, w_shape, kwargs, error, pattern):
    torch = torch_mod
    with pytest.raises((RuntimeError, TypeError)):  # torch refuses these too
        getattr(torch.nn.functional, name)(torch.zeros(x_shape), torch.zeros(w_shape), **kwargs)
    with pytest.raises(error, match=pattern):
        getattr(F, name)(_t(*x_shape), _t(*w_shape), **kwargs)


def test_output_padding_below_stride_or_dilation_is_allowed_as_in_torch(torch_mod):
    # output_padding 2 >= stride 2 but < dilation 3: PyTorch accepts it (either one suffices)
    torch = torch_mod
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=(1, 2, 5)), rng.normal(size=(2, 1, 3))
    kwargs = {"stride": 2, "output_padding": 2, "dilation": 3}
    out = F.conv_transpose1d(wg.tensor(x), wg.tensor(w), **kwargs)
    tout = torch.nn.functional.conv_transpose1d(torch.tensor(x), torch.tensor(w), **kwargs)
    assert out.shape == tuple(tout.shape) == (1, 1, 17)  # (5-1)*2 + 3*2 + 2 + 1
    np.testing.assert_allclose(out.data, tout.numpy(), rtol=1e-10, atol=1e-12)
    assert nn.ConvTranspose1d(2, 1, 3, **kwargs).output_padding == (2,)


@pytest.mark.parametrize("name, args, kwargs", [
    ("Conv1d", (4, 4, 3), {"groups": 0}), ("Conv2d", (4, 3, 3), {"groups": 2}),
    ("ConvTranspose1d", (3, 4, 3), {"groups": 2}), ("ConvTranspose2d", (4, 4, 3),
                                                    {"groups": -2}),
])
def test_module_groups_errors_where_torch_raises(torch_mod, name, args, kwargs):
    with pytest.raises(ValueError):  # torch: "... must be divisible by groups" and the like
        getattr(torch_mod.nn, name)(*args, **kwargs)
    with pytest.raises(ArgumentError, match=rf"{name}: groups={kwargs['groups']} must be "
                                            r"positive and divide both.*Hint"):
        getattr(nn, name)(*args, **kwargs)
