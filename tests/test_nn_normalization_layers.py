"""BatchNorm2d/3d, InstanceNorm1d/2d/3d and LocalResponseNorm (and their functions) against
PyTorch: values, input and parameter gradients, running statistics, state dicts, reprs and
the inputs that are errors or warnings; every function's derivatives gradchecked in float64
(reverse, forward and second order). BatchNorm1d, which shares their base, is checked not to
have changed."""
import re
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}
RUNNING = ("running_mean", "running_var")


def _tdtype(torch, dtype):
    return {np.float64: torch.float64, np.float32: torch.float32}[dtype]


def _pair(torch, name, *args, dtype=np.float64, **kwargs):
    """Our layer ``name`` and torch's, built alike, with the same random affine parameters."""
    ours = getattr(nn, name)(*args, dtype=dtype, **kwargs)
    theirs = getattr(torch.nn, name)(*args, dtype=_tdtype(torch, dtype), **kwargs)
    rng = np.random.default_rng(3)
    with wg.no_grad():
        for pname, p in ours.named_parameters():
            p[...] = rng.normal(size=p.shape)
            getattr(theirs, pname).data = torch.tensor(p.data.copy())
    return ours, theirs


def _step(torch, ours, theirs, x, dtype=np.float64):
    """One forward and backward of both under the same random upstream gradient: outputs,
    input gradients and parameter gradients agree."""
    tol = TOL[dtype]
    xt = wg.tensor(x.astype(dtype), requires_grad=True)
    tx = torch.tensor(x, dtype=_tdtype(torch, dtype), requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    assert out.shape == tuple(tout.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    w = np.random.default_rng(7).normal(size=out.shape)
    (out * w.astype(dtype)).sum().backward()
    (tout * torch.tensor(w, dtype=tout.dtype)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), **tol)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, getattr(theirs, name).grad.numpy(),
                                   err_msg=name, **tol)
        p.grad = None
    theirs.zero_grad()


def _same_buffers(ours, theirs, rtol=1e-12):
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.data, getattr(theirs, name).numpy(), rtol=rtol,
                                   atol=1e-14, err_msg=name)


# --- BatchNorm2d / BatchNorm3d ----------------------------------------------------------------
BN_CASES = [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 5)),
            ("BatchNorm3d", (2, 3, 2, 3, 2))]


@pytest.mark.parametrize("name, shape", BN_CASES)
@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_batch_norm_layers_match_torch_in_training_and_evaluation(torch_mod, rng, name, shape,
                                                                   momentum):
    ours, theirs = _pair(torch_mod, name, 3, momentum=momentum)
    for _ in range(3):  # running statistics after three batches; None is a cumulative average
        _step(torch_mod, ours, theirs, rng.normal(2.0, 3.0, shape))
    _same_buffers(ours, theirs)
    assert ours.num_batches_tracked.item() == 3 and ours.num_batches_tracked.dtype == np.int64
    ours.eval()
    theirs.eval()
    _step(torch_mod, ours, theirs, rng.normal(size=shape))
    _same_buffers(ours, theirs)  # evaluation leaves them alone


@pytest.mark.parametrize("name, shape", BN_CASES[2:])
def test_batch_norm_layers_match_torch_in_float32(torch_mod, rng, name, shape):
    ours, theirs = _pair(torch_mod, name, 3, dtype=np.float32)
    _step(torch_mod, ours, theirs, rng.normal(1.0, 2.0, shape), np.float32)
    _same_buffers(ours, theirs, rtol=1e-6)
    assert ours.running_mean.dtype == np.float32


@pytest.mark.parametrize("name, shape", BN_CASES)
@pytest.mark.parametrize("affine, bias", [(True, False), (False, True)])
def test_batch_norm_without_tracking_uses_the_batch_in_evaluation(torch_mod, rng, name, shape,
                                                                  affine, bias):
    ours, theirs = _pair(torch_mod, name, 3, affine=affine, bias=bias,
                         track_running_stats=False)
    assert ours.running_mean is None and ours.num_batches_tracked is None
    for mode in (True, False):
        ours.train(mode)
        theirs.train(mode)
        _step(torch_mod, ours, theirs, rng.normal(size=shape))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batch_norm_stops_updating_buffers_when_tracking_is_switched_off(torch_mod, rng):
    # PyTorch passes the buffers to batch_norm only where they are updated or used
    ours, theirs = _pair(torch_mod, "BatchNorm2d", 3)
    ours.track_running_stats = theirs.track_running_stats = False
    _step(torch_mod, ours, theirs, rng.normal(size=(2, 3, 2, 2)))
    assert (ours.running_mean.data == 0).all() and ours.num_batches_tracked.item() == 0
    _same_buffers(ours, theirs)
    ours.eval()
    theirs.eval()
    with wg.no_grad():
        ours.running_var[...] = [1.0, 2.0, 4.0]
    theirs.running_var.copy_(torch_mod.tensor([1.0, 2.0, 4.0]))
    _step(torch_mod, ours, theirs, rng.normal(size=(2, 3, 2, 2)))  # evaluation uses them


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
                                  "InstanceNorm2d", "InstanceNorm3d"])
@pytest.mark.parametrize("affine, bias, track", [(True, True, True), (True, False, False),
                                                 (False, True, True), (False, False, False)])
def test_norm_layers_have_torchs_state_dict_parameters_and_repr(torch_mod, name, affine, bias,
                                                                 track):
    ours = getattr(nn, name)(4, eps=1e-3, momentum=0.2, affine=affine, bias=bias,
                             track_running_stats=track)
    theirs = getattr(torch_mod.nn, name)(4, eps=1e-3, momentum=0.2, affine=affine, bias=bias,
                                         track_running_stats=track)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    state, tstate = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(tstate)
    for key in state:
        assert state[key].shape == tuple(tstate[key].shape), key
        np.testing.assert_array_equal(state[key].data, tstate[key].numpy())


@pytest.mark.parametrize("name", ["BatchNorm1d", "InstanceNorm1d"])
def test_default_reprs_are_torchs(torch_mod, name):
    assert repr(getattr(nn, name)(5)) == repr(getattr(torch_mod.nn, name)(5))
    assert repr(nn.LocalResponseNorm(3)) == repr(torch_mod.nn.LocalResponseNorm(3))
    assert repr(nn.LocalResponseNorm(2, 0.5, 1.0, 2.0)) == \
        repr(torch_mod.nn.LocalResponseNorm(2, 0.5, 1.0, 2.0))


@pytest.mark.parametrize("name", ["BatchNorm2d", "InstanceNorm3d"])
def test_a_torch_state_dict_loads_and_evaluates_alike(torch_mod, rng, name):
    theirs = getattr(torch_mod.nn, name)(3, affine=True, track_running_stats=True)
    shape = (2, 3, 4, 4) if name == "BatchNorm2d" else (2, 3, 3, 2, 2)
    for _ in range(2):
        theirs(torch_mod.tensor(rng.normal(1.0, 2.0, shape)))
    with torch_mod.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = getattr(nn, name)(3, affine=True, track_running_stats=True, dtype="float64")
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    theirs.eval()
    ours.eval()
    _step(torch_mod, ours, theirs, rng.normal(size=shape))
    _same_buffers(ours, theirs, rtol=0)


def test_reset_running_stats_and_parameters_restore_the_initial_state(rng):
    bn = nn.BatchNorm2d(3, dtype="float64")
    with wg.no_grad():
        bn.weight[...] = 2.0
    bn(wg.tensor(rng.normal(2.0, 1.0, (4, 3, 2, 2))))
    bn.reset_running_stats()
    assert (bn.running_mean.data == 0).all() and (bn.running_var.data == 1).all()
    assert bn.num_batches_tracked.item() == 0 and (bn.weight.data == 2).all()
    bn.reset_parameters()
    assert (bn.weight.data == 1).all() and (bn.bias.data == 0).all()
    nn.InstanceNorm1d(3).reset_parameters()  # nothing to reset


@pytest.mark.parametrize("name, good", [("BatchNorm1d", (2, 3)), ("BatchNorm2d", (4,)),
                                        ("BatchNorm3d", (5,)), ("InstanceNorm1d", (2, 3)),
                                        ("InstanceNorm2d", (3, 4)), ("InstanceNorm3d", (4, 5))])
def test_layers_refuse_other_input_dims_as_torch(torch_mod, name, good):
    for ndim in range(1, 7):
        shape = (3, 3, 2, 2, 2, 2)[:ndim]  # C = 3 on the batched and the unbatched axis
        tx = torch_mod.ones(shape)
        if ndim in good:
            getattr(torch_mod.nn, name)(3)(tx)
            assert getattr(nn, name)(3)(wg.ones(*shape)).shape == shape
            continue
        with pytest.raises(ValueError, match=f"got {ndim}D input"):
            getattr(torch_mod.nn, name)(3)(tx)
        dims = " or ".join(f"{d}D" for d in good)
        with pytest.raises(wg.ShapeError, match=re.escape(
                f"{name}: expected {dims} input (got {ndim}D input of shape {shape}). "
                f"Hint: {name} takes")):
            getattr(nn, name)(3)(wg.ones(*shape))


@pytest.mark.parametrize("name, shape", [("BatchNorm2d", (1, 3, 1, 1)),
                                         ("BatchNorm3d", (1, 3, 1, 1, 1))])
def test_batch_norm_needs_more_than_one_value_per_channel_in_training(torch_mod, name, shape):
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        getattr(torch_mod.nn, name)(3)(torch_mod.ones(shape))
    bn = getattr(nn, name)(3)
    with pytest.raises(wg.ShapeError, match=re.escape(
            f"batch_norm: training needs more than one value per channel, got an input of "
            f"shape {shape}")):
        bn(wg.ones(*shape))
    assert bn.num_batches_tracked.item() == 0  # not counted (PyTorch counts it: 1)
    bn = getattr(nn, name)(3, dtype="float64").eval()
    theirs = getattr(torch_mod.nn, name)(3).eval()
    np.testing.assert_allclose(bn(wg.ones(*shape)).data,
                               theirs(torch_mod.ones(shape)).detach().numpy(), rtol=1e-12)
    # one sample with several positions is enough
    getattr(nn, name)(3)(wg.ones(*shape[:-1], 2))


@pytest.mark.parametrize("shape", [(0, 3, 2, 2), (2, 3, 0, 2), (2, 0, 2, 2)])
def test_batch_norm_passes_an_empty_batch_and_keeps_its_statistics(torch_mod, shape):
    # no channels only without affine parameters: PyTorch's affine kernel fails on them
    ours, theirs = _pair(torch_mod, "BatchNorm2d", shape[1], affine=shape[1] > 0)
    x = wg.ones(*shape, dtype="float64", requires_grad=True)
    out = ours(x)
    tout = theirs(torch_mod.ones(shape))
    assert out.shape == tuple(tout.shape) == shape
    _same_buffers(ours, theirs)  # running statistics unchanged, the batch counted
    assert ours.num_batches_tracked.item() == 1
    out.sum().backward()
    assert x.grad.shape == shape
    if shape[1]:
        np.testing.assert_array_equal(ours.weight.grad.data, np.zeros(shape[1]))


def test_batch_norm_refuses_another_channel_count_naming_the_layer():
    bn = nn.BatchNorm2d(5)
    with pytest.raises(wg.ShapeError, match=re.escape(
            "batch_norm: running_mean of shape (5,) does not fit an input of shape "
            "(2, 3, 4, 4) with 3 channels (axis 1). Hint: BatchNorm2d(num_features) needs "
            "num_features = input.shape[1] = 3")):
        bn(wg.ones(2, 3, 4, 4))
    assert bn.num_batches_tracked.item() == 0 and (bn.running_mean.data == 0).all()
    with pytest.raises(wg.ShapeError, match=r"BatchNorm3d\(num_features\)"):
        nn.BatchNorm3d(5)(wg.ones(2, 3, 2, 2, 2))


def test_batch_norm1d_keeps_its_behaviour(torch_mod, rng):
    bn = nn.BatchNorm1d(3)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.weight.dtype == np.float32 and bn.num_batches_tracked.dtype == np.int64
    with pytest.raises(wg.ShapeError, match="more than one value per channel"):
        bn(wg.ones(1, 3))
    with pytest.raises(wg.ShapeError, match=r"BatchNorm1d\(num_features\)"):
        bn(wg.ones(4, 2))
    assert bn.num_batches_tracked.item() == 0


# --- F.batch_norm -----------------------------------------------------------------------------
def _functional_norm_matches_torch(torch_mod, rng, shape, name, flag, momentum):
    """``F.<name>(x, running_mean, running_var, weight, bias, flag, momentum, 1e-3)``
    against torch's: the output, the running statistics it updates, the gradients."""
    x, w, b = rng.normal(1.0, 2.0, shape), rng.normal(size=3), rng.normal(size=3)
    rm, rv = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)
    stats, tstats = [wg.tensor(a) for a in (rm, rv)], [torch_mod.tensor(a) for a in (rm, rv)]
    ins = [wg.tensor(a, requires_grad=True) for a in (x, w, b)]
    tins = [torch_mod.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = getattr(F, name)(ins[0], *stats, ins[1], ins[2], flag, momentum, 1e-3)
    tout = getattr(torch_mod.nn.functional, name)(tins[0], *tstats, tins[1], tins[2], flag,
                                                  momentum, 1e-3)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL[np.float64])
    for ours, theirs in zip(stats, tstats):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    g = rng.normal(size=shape)
    (out * g).sum().backward()
    (tout * torch_mod.tensor(g)).sum().backward()
    for a, ta in zip(ins, tins):
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), **TOL[np.float64])


@pytest.mark.parametrize("shape", [(4, 3), (3, 3, 4), (2, 3, 2, 3), (2, 3, 2, 2, 2),
                                   (2, 3, 2, 1, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_functional_batch_norm_takes_any_dims_as_torch(torch_mod, rng, shape, training):
    _functional_norm_matches_torch(torch_mod, rng, shape, "batch_norm", training, 0.2)


@pytest.mark.parametrize("shape", [(3, 2, 2, 2), (2, 2, 2, 1, 3)])
def test_functional_batch_norm_gradchecks(rng, shape):
    x, w, b = rng.normal(size=shape), rng.normal(size=2), rng.normal(size=2)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                     (x, w, b), order=2).passed
    rm, rv = wg.tensor(rng.normal(size=2)), wg.tensor(rng.uniform(0.5, 2.0, 2))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b), (x, w, b), order=2).passed


@pytest.mark.parametrize("training, eps", [(True, 0.0), (True, -1e-5), (False, -1e-5)])
def test_functional_batch_norm_refuses_torchs_eps(torch_mod, training, eps):
    x = torch_mod.ones(2, 3, 2)
    with pytest.raises(ValueError, match="batch_norm eps must be"):
        torch_mod.nn.functional.batch_norm(x, torch_mod.zeros(3), torch_mod.ones(3),
                                           training=training, eps=eps)
    with pytest.raises(wg.ArgumentError, match=re.escape(
            f"batch_norm: eps={eps} must be positive in training and non-negative in "
            "evaluation")):
        F.batch_norm(wg.ones(2, 3, 2), wg.zeros(3), wg.ones(3), training=training, eps=eps)
    # zero is allowed in evaluation: x / sqrt(running_var)
    out = F.batch_norm(wg.ones(2, 3, 2), wg.zeros(3), wg.full((3,), 4.0), eps=0.0)
    np.testing.assert_array_equal(out.data, np.full((2, 3, 2), 0.5))


def test_functional_batch_norm_refuses_inputs_without_a_channel_axis():
    with pytest.raises(wg.ShapeError, match=r"batch_norm: expected an \(N, C, \.\.\.\) input, "
                                            r"got shape \(3,\)"):
        F.batch_norm(wg.ones(3), None, None, training=True)


# --- InstanceNorm1d / 2d / 3d -----------------------------------------------------------------
IN_CASES = [("InstanceNorm1d", (4, 3, 5)), ("InstanceNorm1d", (3, 5)),
            ("InstanceNorm2d", (2, 3, 4, 3)), ("InstanceNorm2d", (3, 2, 4)),
            ("InstanceNorm3d", (2, 3, 2, 3, 2)), ("InstanceNorm3d", (3, 2, 2, 3))]


@pytest.mark.parametrize("name, shape", IN_CASES)
@pytest.mark.parametrize("affine, bias", [(False, True), (True, True), (True, False)])
def test_instance_norm_layers_match_torch(torch_mod, rng, name, shape, affine, bias):
    ours, theirs = _pair(torch_mod, name, 3, affine=affine, bias=bias)
    assert ours.running_mean is None and list(ours.state_dict()) == list(theirs.state_dict())
    for mode in (True, False):  # the input's statistics in both modes
        ours.train(mode)
        theirs.train(mode)
        _step(torch_mod, ours, theirs, rng.normal(1.0, 2.0, shape))


@pytest.mark.parametrize("name, shape", IN_CASES)
@pytest.mark.parametrize("momentum", [0.1, 0.4, None])
def test_instance_norm_running_statistics_match_torch(torch_mod, rng, name, shape, momentum):
    ours, theirs = _pair(torch_mod, name, 3, affine=True, track_running_stats=True,
                         momentum=momentum)
    for _ in range(3):
        _step(torch_mod, ours, theirs, rng.normal(2.0, 3.0, shape))
    _same_buffers(ours, theirs)
    if momentum is None:  # PyTorch's InstanceNorm passes momentum 0.0: nothing moves
        assert (ours.running_mean.data == 0).all()
    else:
        assert np.abs(ours.running_mean.data).min() > 0
    assert ours.num_batches_tracked.item() == 0  # kept, never counted, as PyTorch's
    ours.eval()
    theirs.eval()
    _step(torch_mod, ours, theirs, rng.normal(size=shape))  # with the running statistics
    _same_buffers(ours, theirs)


def test_instance_norm_by_hand():
    # one channel [1, 3]: mean 2, biased variance 1
    out = nn.InstanceNorm1d(1)(wg.tensor([[[1.0, 3.0]]], dtype="float64"))
    np.testing.assert_allclose(out.data, [[[-1.0, 1.0]]] / np.sqrt(1 + 1e-5), rtol=1e-15)


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (2, 4, 5)),
                                         ("InstanceNorm1d", (4, 5)),
                                         ("InstanceNorm2d", (4, 3, 3))])
def test_instance_norm_channel_mismatch_warns_or_fails_as_torch(torch_mod, rng, name, shape):
    dim = len(shape) - {"InstanceNorm1d": 2, "InstanceNorm2d": 3}[name]
    x = rng.normal(size=shape)
    with pytest.warns(UserWarning, match=f"input's size at dim={dim} does not match"):
        expected = getattr(torch_mod.nn, name)(3)(torch_mod.tensor(x))
    with pytest.warns(UserWarning, match=re.escape(
            f"{name}: the input's size at dim={dim} (4) does not match num_features (3), "
            "which is not used because affine=False")):
        out = getattr(nn, name)(3, dtype="float64")(wg.tensor(x))
    np.testing.assert_allclose(out.data, expected.numpy(), **TOL[np.float64])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the sizes agree
        getattr(nn, name)(4)(wg.tensor(x))
    with pytest.raises(ValueError, match=f"expected input's size at dim={dim} to match"):
        getattr(torch_mod.nn, name)(3, affine=True)(torch_mod.tensor(x))
    with pytest.raises(wg.ShapeError, match=re.escape(
            f"{name}: expected the input's size at dim={dim} to match num_features (3), but "
            f"got 4 (input of shape {shape}). Hint: {name}(num_features) needs "
            "num_features = 4")):
        getattr(nn, name)(3, affine=True)(wg.tensor(x))
    # tracked statistics of another size: a warning, then an error, in both
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="running_mean"):
        getattr(torch_mod.nn, name)(3, track_running_stats=True)(torch_mod.tensor(x))
    with pytest.warns(UserWarning), pytest.raises(wg.ShapeError, match=re.escape(
            "instance_norm: running_mean of shape (3,) does not fit")):
        getattr(nn, name)(3, track_running_stats=True)(wg.tensor(x))


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (2, 3, 1)),
                                         ("InstanceNorm1d", (3, 1)),
                                         ("InstanceNorm2d", (2, 3, 1, 1))])
def test_instance_norm_needs_more_than_one_position_with_input_statistics(torch_mod, name,
                                                                          shape):
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        getattr(torch_mod.nn, name)(3)(torch_mod.ones(shape))
    with pytest.raises(wg.ShapeError, match=r"instance_norm: normalising with the input's "
                                            r"statistics needs more than one position"):
        getattr(nn, name)(3)(wg.ones(*shape))
    # with running statistics in evaluation one position is enough, as in PyTorch
    theirs = getattr(torch_mod.nn, name)(3, track_running_stats=True).eval()
    ours = getattr(nn, name)(3, track_running_stats=True, dtype="float64").eval()
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    np.testing.assert_allclose(ours(wg.tensor(x)).data,
                               theirs(torch_mod.tensor(x)).numpy(), rtol=1e-12)


# --- F.instance_norm --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3, 2, 2), (1, 3, 2, 2, 2), (2, 3, 2, 1, 2, 2)])
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_functional_instance_norm_matches_torch(torch_mod, rng, shape, use_input_stats):
    _functional_norm_matches_torch(torch_mod, rng, shape, "instance_norm", use_input_stats, 0.3)


def test_functional_instance_norm_defaults_and_hand_values(torch_mod, rng):
    x = rng.normal(size=(2, 3, 5))
    np.testing.assert_allclose(F.instance_norm(wg.tensor(x)).data,
                               torch_mod.nn.functional.instance_norm(
                                   torch_mod.tensor(x)).numpy(), **TOL[np.float64])
    # the running update by hand: batch mean of the per-sample means, of the unbiased variances
    rm, rv = wg.zeros(3, dtype="float64"), wg.ones(3, dtype="float64")
    F.instance_norm(wg.tensor(x), rm, rv, momentum=0.25)
    np.testing.assert_allclose(rm.data, 0.25 * x.mean(axis=2).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rv.data, 0.75 + 0.25 * x.var(axis=2, ddof=1).mean(axis=0),
                               rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 2, 4), (2, 2, 2, 3)])
def test_functional_instance_norm_gradchecks(rng, shape):
    x, w, b = rng.normal(size=shape), rng.normal(size=2), rng.normal(size=2)
    assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b),
                     order=2).passed
    rm, rv = wg.tensor(rng.normal(size=2)), wg.tensor(rng.uniform(0.5, 2.0, 2))
    assert gradcheck(lambda x, w, b: F.instance_norm(x, rm, rv, w, b, use_input_stats=False),
                     (x, w, b), order=2).passed


def test_functional_instance_norm_refuses_what_torch_refuses(torch_mod):
    tF, x, tx = torch_mod.nn.functional, wg.ones(2, 3, 4), torch_mod.ones(2, 3, 4)
    with pytest.raises(ValueError, match="both be None or neither"):
        tF.instance_norm(tx, torch_mod.zeros(3), None)
    with pytest.raises(wg.ArgumentError, match="instance_norm: give both running_mean and "
                                               "running_var"):
        F.instance_norm(x, wg.zeros(3), None)
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var"):
        tF.instance_norm(tx, use_input_stats=False)
    with pytest.raises(wg.ArgumentError, match=r"use_input_stats=False normalises with them"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(RuntimeError, match="weight should contain"):
        tF.instance_norm(tx, weight=torch_mod.ones(4))
    with pytest.raises(wg.ShapeError, match=re.escape(
            "instance_norm: weight of shape (4,) does not fit an input of shape (2, 3, 4) with "
            "3 channels (axis 1). Hint: InstanceNorm1d(num_features)")):
        F.instance_norm(x, weight=wg.ones(4))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        tF.instance_norm(torch_mod.ones(2, 3))
    with pytest.raises(wg.ShapeError, match=r"instance_norm: normalising .*\(2, 3\)"):
        F.instance_norm(wg.ones(2, 3))
    with pytest.raises(wg.ShapeError, match=r"instance_norm: expected an \(N, C, \.\.\.\)"):
        F.instance_norm(wg.ones(3), wg.zeros(3), wg.ones(3), use_input_stats=False)


def test_functional_instance_norm_passes_empty_inputs(torch_mod):
    for shape in ((2, 3, 0), (0, 3, 4)):
        rm, rv = wg.zeros(3), wg.ones(3)
        out = F.instance_norm(wg.ones(*shape), rm, rv)
        assert out.shape == tuple(torch_mod.nn.functional.instance_norm(
            torch_mod.ones(shape)).shape) == shape
        # left alone (PyTorch writes NaN for N = 0)
        assert (rm.data == 0).all() and (rv.data == 1).all()


# --- LocalResponseNorm ------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 6, 3, 2), (1, 4, 2, 2, 3), (2, 3, 1, 2, 1, 2)])
@pytest.mark.parametrize("size, alpha, beta, k", [(1, 1e-4, 0.75, 1.0), (2, 0.5, 0.75, 2.0),
                                                  (3, 1.0, 0.5, 1.0), (4, 0.3, 1.5, 0.5),
                                                  (9, 2.0, 0.75, 1.0)])
def test_local_response_norm_matches_torch(torch_mod, rng, shape, size, alpha, beta, k):
    ours = nn.LocalResponseNorm(size, alpha, beta, k)
    theirs = torch_mod.nn.LocalResponseNorm(size, alpha, beta, k)
    for dtype in (np.float64, np.float32):
        _step(torch_mod, ours, theirs, rng.normal(0.0, 2.0, shape), dtype)


def test_local_response_norm_by_hand():
    # size 2 looks at channels c - 1 and c; channel -1 counts as zero
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    squares = np.array([0 + 1, 1 + 4, 4 + 9]).reshape(1, 3, 1)
    out = F.local_response_norm(wg.tensor(x), 2, alpha=0.5, beta=0.75, k=2.0)
    np.testing.assert_allclose(out.data, x / (2.0 + 0.5 * squares / 2) ** 0.75, rtol=1e-15)


@pytest.mark.parametrize("shape, size", [((2, 5, 3), 3), ((2, 4, 2, 3), 2),
                                         ((1, 3, 2, 2, 2), 4)])
def test_local_response_norm_gradchecks(rng, shape, size):
    x = rng.normal(size=shape)
    assert gradcheck(lambda x: F.local_response_norm(x, size, alpha=0.8, beta=0.75, k=1.5),
                     (x,), order=2).passed


def test_local_response_norm_refuses_what_torch_refuses(torch_mod):
    tF = torch_mod.nn.functional
    with pytest.raises(ValueError, match="Expected 3D or higher"):
        tF.local_response_norm(torch_mod.ones(2, 3), 2)
    with pytest.raises(wg.ShapeError, match=re.escape(
            "local_response_norm: expected an input with 3 or more dims, (N, C, L), "
            "(N, C, H, W)..., got shape (2, 3)")):
        nn.LocalResponseNorm(2)(wg.ones(2, 3))
    for size in (0, -1, 2.0):
        with pytest.raises((RuntimeError, TypeError)):
            tF.local_response_norm(torch_mod.ones(2, 3, 4), size)
        with pytest.raises(wg.ArgumentError, match=re.escape(
                f"local_response_norm: size={size!r} must be a positive int")):
            F.local_response_norm(wg.ones(2, 3, 4), size)
    x = wg.ones(0, 3, 4)
    assert F.local_response_norm(x, 2) is x  # an empty input comes back, as in PyTorch
    assert tF.local_response_norm(torch_mod.ones(0, 3, 4), 2).shape == (0, 3, 4)


# --- running statistics given as NumPy arrays -------------------------------------------------
@pytest.mark.parametrize("function", ["batch_norm", "instance_norm"])
def test_numpy_running_statistics_are_updated_in_place_as_torchs(torch_mod, rng, function):
    # an ndarray's .data is its raw buffer, not its values: training once failed with a
    # TypeError here, while evaluation with the same arrays worked
    x = rng.normal(1.0, 2.0, (4, 3, 5))
    stats = [rng.normal(size=3), rng.uniform(0.5, 2.0, 3)]
    torch_stats = [torch_mod.tensor(a.copy()) for a in stats]
    if function == "batch_norm":
        out = F.batch_norm(wg.tensor(x), *stats, training=True, momentum=0.3)
        expected = torch_mod.nn.functional.batch_norm(torch_mod.tensor(x), *torch_stats,
                                                      training=True, momentum=0.3)
    else:
        out = F.instance_norm(wg.tensor(x), *stats, momentum=0.3)
        expected = torch_mod.nn.functional.instance_norm(torch_mod.tensor(x), *torch_stats,
                                                         momentum=0.3)
    np.testing.assert_allclose(out.data, expected.numpy(), **TOL[np.float64])
    for ours, theirs in zip(stats, torch_stats):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


# --- empty inputs of LayerNorm, RMSNorm and GroupNorm -------------------------------------------
@pytest.mark.parametrize("name, args, shape", [
    ("GroupNorm", (2, 4), (0, 4, 5)), ("GroupNorm", (2, 4), (0, 4)),
    ("GroupNorm", (2, 4), (3, 4, 0)), ("LayerNorm", ((0, 3),), (2, 0, 3)),
    ("LayerNorm", ((0,),), (3, 0)), ("RMSNorm", ((0,),), (3, 0))])
def test_an_empty_input_comes_back_empty_as_torchs(torch_mod, name, args, shape):
    # GroupNorm on an empty batch once failed in a reshape to (0, groups, -1), and the others
    # in a mean over an empty axis, where torch has no value to normalise and returns them
    ours, theirs = _pair(torch_mod, name, *args)
    x = wg.tensor(np.zeros(shape), requires_grad=True)
    tx = torch_mod.zeros(shape, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    assert out.shape == tuple(tout.shape) == shape
    out.sum().backward()
    tout.sum().backward()
    assert x.grad.shape == shape
    for pname, p in ours.named_parameters():
        theirs_grad = getattr(theirs, pname).grad.numpy()
        if name == "GroupNorm" and shape[2:] == (0,) and pname == "weight":
            # torch's weight gradient there is 0 / 0 = NaN; wengert's is the empty sum
            assert np.isnan(theirs_grad).all()
            theirs_grad = np.zeros_like(theirs_grad)
        np.testing.assert_array_equal(p.grad.data, theirs_grad)
