"""The activations, normalisations, distances and containers that mirror the rest of
torch.nn: each against PyTorch (values, input and parameter gradients, float64 and float32,
several shapes), gradchecked in float64, at stable extremes, and with the errors they raise."""
import math
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
import wengert.optim as optim
from wengert.check import gradcheck

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}
SHAPES = [(5,), (3, 4), (2, 4, 3)]

# name -> (our function, torch's function name, keyword options)
ACTIVATIONS = {
    "hardtanh": (F.hardtanh, "hardtanh", {}),
    "hardtanh_bounds": (F.hardtanh, "hardtanh", {"min_val": -0.5, "max_val": 2.0}),
    "relu6": (F.relu6, "relu6", {}),
    "logsigmoid": (F.logsigmoid, "logsigmoid", {}),
    "mish": (F.mish, "mish", {}),
    "selu": (F.selu, "selu", {}),
    "celu": (F.celu, "celu", {}),
    "celu_alpha": (F.celu, "celu", {"alpha": 0.5}),
    "softsign": (F.softsign, "softsign", {}),
    "hardsigmoid": (F.hardsigmoid, "hardsigmoid", {}),
    "hardswish": (F.hardswish, "hardswish", {}),
    "tanhshrink": (F.tanhshrink, "tanhshrink", {}),
    "threshold": (F.threshold, "threshold", {"threshold": 0.1, "value": 20.0}),
    "softmin": (F.softmin, "softmin", {"dim": -1}),
    "softmin_dim0": (F.softmin, "softmin", {"dim": 0}),
}

# PyTorch's float64 hardsigmoid backward multiplies by 1/6 rounded to float32 (3e-8 off);
# ours uses 1/6 itself (test_hardsigmoid_gradient_is_one_sixth), so its gradient is compared
# to that precision only.
TORCH_GRAD_RTOL = {"hardsigmoid": 1e-7, "Hardsigmoid": 1e-7}

# module -> (our module, torch's module, the same options for both)
MODULES = [(nn.Hardtanh, "Hardtanh", {"min_val": -2.0, "max_val": 3.0}),
           (nn.ReLU6, "ReLU6", {}), (nn.LogSigmoid, "LogSigmoid", {}), (nn.Mish, "Mish", {}),
           (nn.SELU, "SELU", {}), (nn.CELU, "CELU", {"alpha": 0.5}),
           (nn.Softsign, "Softsign", {}), (nn.Hardsigmoid, "Hardsigmoid", {}),
           (nn.Hardswish, "Hardswish", {}), (nn.Tanhshrink, "Tanhshrink", {}),
           (nn.Threshold, "Threshold", {"threshold": 0.1, "value": 20}),
           (nn.Softmin, "Softmin", {"dim": 1}), (nn.GLU, "GLU", {"dim": -1}),
           (nn.GLU, "GLU", {"dim": 1})]


def _inputs(rng, shape, scale=3.0):
    # spread over every piece of the piecewise functions (kinks at 0, +-1, +-3, 6)
    return rng.normal(size=shape) * scale


def _compare(torch, ours, theirs, arrays, dtype, ours_params=(), theirs_params=(),
             grad_rtol=None):
    """Forward values and gradients (inputs, then parameters) under a random upstream
    gradient, ours in ``dtype`` against torch's in the same dtype (gradients to
    ``grad_rtol`` when given)."""
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    xs = [wg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in arrays]
    out, tout = ours(*xs), theirs(*txs)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL[dtype])
    w = np.random.default_rng(7).normal(size=out.shape)
    (out * w.astype(dtype)).sum().backward()
    (tout * torch.tensor(w, dtype=tdtype)).sum().backward()
    grad_tol = dict(TOL[dtype], rtol=max(grad_rtol or 0, TOL[dtype]["rtol"]))
    for a, ta in list(zip(xs, txs)) + list(zip(ours_params, theirs_params)):
        np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), **grad_tol)


def _copy_params(torch, ours, theirs):
    """Give the torch module our parameter values (the names are the same)."""
    for name, p in ours.named_parameters():
        getattr(theirs, name).data = torch.tensor(p.data.copy())


def _module_params(ours, theirs):
    names = [n for n, _ in ours.named_parameters()]
    assert names == [n for n, _ in theirs.named_parameters()]
    return [p for _, p in ours.named_parameters()], [getattr(theirs, n) for n in names]


# --- activations ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(torch_mod, rng, name, shape, dtype):
    fn, torch_name, kwargs = ACTIVATIONS[name]
    theirs = getattr(torch_mod.nn.functional, torch_name)
    _compare(torch_mod, lambda x: fn(x, **kwargs), lambda x: theirs(x, **kwargs),
             [_inputs(rng, shape)], dtype, grad_rtol=TORCH_GRAD_RTOL.get(name))


def test_hardsigmoid_gradient_is_one_sixth():
    x = wg.tensor([-2.5, 0.3, 2.9], dtype="float64", requires_grad=True)
    F.hardsigmoid(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full(3, 1 / 6))


@pytest.mark.parametrize("name, points", [
    ("relu6", [0.0, 6.0]), ("hardtanh", [-1.0, 1.0]), ("hardsigmoid", [-3.0, 3.0]),
    ("hardswish", [-3.0, 3.0]), ("threshold", [0.1]), ("softsign", [0.0])])
def test_gradients_at_the_kinks_are_torchs(torch_mod, name, points):
    fn, torch_name, kwargs = ACTIVATIONS[name]
    theirs = getattr(torch_mod.nn.functional, torch_name)
    _compare(torch_mod, lambda x: fn(x, **kwargs), lambda x: theirs(x, **kwargs),
             [np.array(points)], np.float64)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_gradcheck(rng, name):
    fn, _, kwargs = ACTIVATIONS[name]
    x = _inputs(rng, (3, 4))
    assert gradcheck(lambda x: fn(x, **kwargs), (x,), order=2).passed


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ours, torch_name, kwargs", MODULES)
def test_activation_module_matches_torch(torch_mod, rng, ours, torch_name, kwargs, dtype):
    module, theirs = ours(**kwargs), getattr(torch_mod.nn, torch_name)(**kwargs)
    assert repr(module) == repr(theirs)
    _compare(torch_mod, module, theirs, [_inputs(rng, (4, 6, 2))], dtype,
             grad_rtol=TORCH_GRAD_RTOL.get(torch_name))


def test_softmin_defaults_to_the_last_axis_as_softmax():
    # wengert's Softmax and Softmin take dim=-1 by default; PyTorch's dim=None guesses one
    assert repr(nn.Softmin()) == "Softmin(dim=-1)"
    x = wg.tensor([[1.0, 2.0, 3.0]], dtype="float64")
    e = np.exp(-np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(nn.Softmin()(x).data, [e / e.sum()], rtol=1e-14)


@pytest.mark.parametrize("dim", [-1, 0, 1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_glu_matches_torch(torch_mod, rng, dim, dtype):
    x = _inputs(rng, (4, 6, 2))
    _compare(torch_mod, lambda x: F.glu(x, dim), lambda x: torch_mod.nn.functional.glu(x, dim),
             [x], dtype)
    assert gradcheck(lambda x: F.glu(x, dim), (x,), order=2).passed


def test_glu_by_hand():
    out = F.glu(wg.tensor([[2.0, -1.0, 0.0, math.log(3.0)]], dtype="float64"))
    np.testing.assert_allclose(out.data, [[2.0 * 0.5, -1.0 * 0.75]], rtol=1e-14)


def test_logsigmoid_is_stable_at_extremes(torch_mod):
    x = np.array([-1000.0, -50.0, 50.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _compare(torch_mod, F.logsigmoid, torch_mod.nn.functional.logsigmoid, [x], np.float64)
        out = F.logsigmoid(wg.tensor(x, dtype="float32"))
    # log sigmoid(-50) = -50 - log(1 + e^-50), log sigmoid(50) = -log(1 + e^-50) ~ -e^-50
    np.testing.assert_allclose(out.data[1:3], [-50.0, -math.exp(-50)], rtol=1e-6)
    assert np.all(np.isfinite(out.data))


def test_mish_and_selu_at_extremes_are_finite(torch_mod):
    x = np.array([-100.0, -30.0, 30.0, 100.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for ours, theirs in ((F.mish, "mish"), (F.selu, "selu"), (F.celu, "celu")):
            _compare(torch_mod, ours, getattr(torch_mod.nn.functional, theirs), [x],
                     np.float64)


# --- PReLU ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("num_parameters, shape",
                         [(1, (5,)), (1, (3, 4)), (3, (2, 3)), (3, (2, 3, 4)), (4, (2, 4, 3, 2))])
def test_prelu_matches_torch(torch_mod, rng, num_parameters, shape, dtype):
    ours = nn.PReLU(num_parameters, init=0.1, dtype=dtype)
    theirs = torch_mod.nn.PReLU(num_parameters, init=0.1,
                                dtype={np.float64: torch_mod.float64,
                                       np.float32: torch_mod.float32}[dtype])
    assert repr(ours) == repr(theirs)
    with wg.no_grad():
        ours.weight[...] = rng.uniform(-1, 1, size=num_parameters)
    _copy_params(torch_mod, ours, theirs)
    _compare(torch_mod, ours, theirs, [_inputs(rng, shape)], dtype, *_module_params(ours, theirs))


def test_prelu_gradcheck_and_defaults(rng):
    m = nn.PReLU()
    assert m.weight.shape == (1,) and m.weight.data[0] == np.float32(0.25)
    assert m.weight.dtype == np.float32
    x, w = _inputs(rng, (2, 3, 4)), rng.uniform(-1, 1, size=3)
    assert gradcheck(F.prelu, (x, w), order=2).passed


# --- Unflatten --------------------------------------------------------------------------------
@pytest.mark.parametrize("dim, sizes, shape", [(1, (2, 5), (3, 10)), (-1, (2, -1), (2, 3, 8)),
                                               (0, [3, 1, 2], (6, 2))])
def test_unflatten_matches_torch(torch_mod, rng, dim, sizes, shape):
    ours, theirs = nn.Unflatten(dim, sizes), torch_mod.nn.Unflatten(dim, sizes)
    assert repr(ours) == repr(theirs)
    _compare(torch_mod, ours, theirs, [rng.normal(size=shape)], np.float64)
    assert nn.Sequential(nn.Flatten(), ours)(wg.ones(*shape)).shape == theirs(
        torch_mod.ones(*shape).flatten(1)).shape


# --- normalize, cosine similarity, pairwise distance -----------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("shape, dim", [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1)])
def test_normalize_matches_torch(torch_mod, rng, shape, dim, p, dtype):
    x = rng.normal(size=shape)
    _compare(torch_mod, lambda x: F.normalize(x, p=p, dim=dim),
             lambda x: torch_mod.nn.functional.normalize(x, p=p, dim=dim), [x], dtype)
    if p != math.inf:  # the max has a kink wherever two entries tie
        assert gradcheck(lambda x: F.normalize(x, p=p, dim=dim), (x,), order=2).passed


def test_normalize_of_a_zero_vector_is_zero_with_torchs_gradient(torch_mod):
    x = np.zeros((2, 3))
    x[1] = [3.0, 4.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for p in (2.0, 1.0, 3.0):
            _compare(torch_mod, lambda x: F.normalize(x, p=p),
                     lambda x: torch_mod.nn.functional.normalize(x, p=p), [x], np.float64)
    out = F.normalize(wg.tensor(x, dtype="float64"))
    np.testing.assert_allclose(out.data, [[0, 0, 0], [0.6, 0.8, 0]], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape1, shape2, dim", [
    ((4, 3), (4, 3), 1), ((5,), (5,), 0), ((2, 3, 4), (1, 3, 4), 1), ((3, 4), (2, 3, 4), 1),
    ((2, 3, 4), (2, 3, 4), -1)])
def test_cosine_similarity_matches_torch(torch_mod, rng, shape1, shape2, dim, dtype):
    a, b = rng.normal(size=shape1), rng.normal(size=shape2)
    _compare(torch_mod, lambda a, b: F.cosine_similarity(a, b, dim=dim),
             lambda a, b: torch_mod.nn.functional.cosine_similarity(a, b, dim=dim), [a, b], dtype)
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b, dim), (a, b), order=2).passed
    ours, theirs = nn.CosineSimilarity(dim=dim), torch_mod.nn.CosineSimilarity(dim=dim)
    assert repr(ours) == repr(theirs)
    _compare(torch_mod, ours, theirs, [a, b], dtype)


def test_cosine_similarity_below_eps_follows_torch(torch_mod, rng):
    """Norms under eps are floored in value only, as PyTorch's (its gradient is not the
    floored function's), and a zero vector gives similarity 0."""
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) * 1e-10
    b[0] = 0
    _compare(torch_mod, F.cosine_similarity, torch_mod.nn.functional.cosine_similarity, [a, b],
             np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 4)])
def test_pairwise_distance_matches_torch(torch_mod, rng, shape, keepdim, p, dtype):
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    _compare(torch_mod, lambda a, b: F.pairwise_distance(a, b, p=p, keepdim=keepdim),
             lambda a, b: torch_mod.nn.functional.pairwise_distance(a, b, p=p, keepdim=keepdim),
             [a, b], dtype)
    assert gradcheck(lambda a, b: F.pairwise_distance(a, b, p), (a, b), order=2).passed
    ours = nn.PairwiseDistance(p=p, keepdim=keepdim)
    theirs = torch_mod.nn.PairwiseDistance(p=p, keepdim=keepdim)
    assert repr(ours) == repr(theirs)
    _compare(torch_mod, ours, theirs, [a, b], dtype)


def test_pairwise_distance_of_equal_vectors(torch_mod):
    # eps is added to the difference: the distance of x to itself is sqrt(D) * eps
    x = np.ones((2, 4))
    out = F.pairwise_distance(wg.tensor(x, dtype="float64"), wg.tensor(x, dtype="float64"))
    np.testing.assert_allclose(out.data, [2e-6, 2e-6], rtol=1e-12)
    _compare(torch_mod, F.pairwise_distance, torch_mod.nn.functional.pairwise_distance,
             [x, x], np.float64)


# --- RMSNorm and GroupNorm --------------------------------------------------------------------
def _randomise(module, rng):
    with wg.no_grad():
        for p in module.parameters():
            p[...] = rng.normal(size=p.shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("normalized_shape, shape, eps, affine",
                         [(4, (3, 4), None, True), ((3, 4), (2, 3, 4), 1e-3, True),
                          ([4], (2, 3, 4), None, False), (5, (5,), 1e-6, True)])
def test_rms_norm_matches_torch(torch_mod, rng, normalized_shape, shape, eps, affine, dtype):
    tdtype = {np.float64: torch_mod.float64, np.float32: torch_mod.float32}[dtype]
    ours = nn.RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine, dtype=dtype)
    theirs = torch_mod.nn.RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine,
                                  dtype=tdtype)
    assert repr(ours) == repr(theirs)
    _randomise(ours, rng)
    _copy_params(torch_mod, ours, theirs)
    x = rng.normal(size=shape)
    _compare(torch_mod, ours, theirs, [x], dtype, *_module_params(ours, theirs))
    w = rng.normal(size=ours.normalized_shape)
    assert gradcheck(lambda x, w: F.rms_norm(x, normalized_shape, w, eps), (x, w),
                     order=2).passed


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("groups, channels, shape, affine, bias",
                         [(2, 4, (3, 4), True, True), (3, 6, (2, 6, 5), True, True),
                          (1, 3, (2, 3, 4, 2), True, False), (4, 4, (2, 4, 3), False, True),
                          (2, 6, (1, 6, 2, 3), True, True)])
def test_group_norm_matches_torch(torch_mod, rng, groups, channels, shape, affine, bias, dtype):
    tdtype = {np.float64: torch_mod.float64, np.float32: torch_mod.float32}[dtype]
    ours = nn.GroupNorm(groups, channels, affine=affine, dtype=dtype, bias=bias)
    theirs = torch_mod.nn.GroupNorm(groups, channels, affine=affine, dtype=tdtype, bias=bias)
    assert repr(ours) == repr(theirs)
    _randomise(ours, rng)
    _copy_params(torch_mod, ours, theirs)
    x = rng.normal(size=shape) * 2 + 1
    _compare(torch_mod, ours, theirs, [x], dtype, *_module_params(ours, theirs))
    w, b = rng.normal(size=channels), rng.normal(size=channels)
    assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), (x, w, b), order=2).passed


def test_group_norm_by_hand():
    # one group of two channels: mean 2.5 and variance 1.25 over the four values
    x = wg.tensor([[[1.0, 2.0], [3.0, 4.0]]], dtype="float64")
    out = F.group_norm(x, 1, eps=0.0)
    np.testing.assert_allclose(out.data.ravel(), (np.arange(1.0, 5.0) - 2.5) / math.sqrt(1.25),
                               rtol=1e-14)


def test_rms_norm_default_eps_is_the_dtypes():
    x = wg.tensor([[0.0, 0.0]], dtype="float32")
    # 0 / sqrt(0 + eps) is 0; eps = finfo(float32).eps keeps it finite
    np.testing.assert_array_equal(F.rms_norm(x, 2).data, [[0.0, 0.0]])
    x = wg.tensor([[3.0, 4.0]], dtype="float64")
    expected = np.array([3.0, 4.0]) / math.sqrt(12.5 + np.finfo(np.float64).eps)
    np.testing.assert_allclose(F.rms_norm(x, [2]).data, [expected], rtol=1e-15)


# --- ParameterList and ParameterDict ----------------------------------------------------------
class _Holder(nn.Module):
    def __init__(self, plist, pdict):
        super().__init__()
        self.lin = nn.Linear(2, 3)
        self.plist = nn.ParameterList(plist)
        self.pdict = nn.ParameterDict(pdict)


def _torch_holder(torch):
    class Holder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(2, 3)
            self.plist = torch.nn.ParameterList([torch.zeros(2), torch.nn.Parameter(
                torch.zeros(3, 2))])
            self.pdict = torch.nn.ParameterDict({"scale": torch.zeros(3), "alpha": torch.zeros(1)})
    return Holder()


def _holder():
    return _Holder([wg.zeros(2), nn.Parameter(np.zeros((3, 2), np.float32))],
                   {"scale": wg.zeros(3), "alpha": wg.zeros(1)})


def test_parameter_containers_state_dict_keys_are_torchs(torch_mod):
    ours, theirs = _holder(), _torch_holder(torch_mod)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ([n for n, _ in ours.named_parameters()]
            == [n for n, _ in theirs.named_parameters()]
            == ["lin.weight", "lin.bias", "plist.0", "plist.1", "pdict.alpha", "pdict.scale"])
    # and a torch state dict loads into ours
    rng = np.random.default_rng(1)
    for t in theirs.state_dict().values():
        t.copy_(torch_mod.tensor(rng.normal(size=tuple(t.shape))))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(v.data, theirs.state_dict()[k].numpy(), rtol=1e-6)


def test_parameter_containers_load_state_dict_round_trip():
    a, b = _holder(), _holder()
    with wg.no_grad():
        for i, p in enumerate(a.parameters()):
            p[...] = np.arange(p.size).reshape(p.shape) + i
    b.load_state_dict({k: v.data.copy() for k, v in a.state_dict().items()})
    for (k, p), (k2, q) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(p.data, q.data)
    assert b.plist[1] is list(b.parameters())[3]  # loaded in place, same Parameter objects


def test_parameter_containers_train_with_an_optimizer():
    m = _holder()
    with wg.no_grad():
        m.plist[0][...] = [1.0, 2.0]
        m.pdict["scale"][...] = [3.0, 4.0, 5.0]
    loss = (m.plist[0] * m.plist[0]).sum() + m.pdict["scale"].sum()
    opt = optim.SGD(m.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 6
    opt.zero_grad()
    loss.backward()
    opt.step()
    # d/dp sum(p^2) = 2p: [1, 2] - 0.1 [2, 4]; d/ds sum(s) = 1: s - 0.1
    np.testing.assert_allclose(m.plist[0].data, [0.8, 1.6], rtol=1e-6)
    np.testing.assert_allclose(m.pdict["scale"].data, [2.9, 3.9, 4.9], rtol=1e-6)
    m.zero_grad()
    assert m.plist[0].grad is None and m.pdict["scale"].grad is None
    m.double()
    assert m.plist[1].dtype == np.float64 and m.pdict["alpha"].dtype == np.float64


def test_parameter_list_behaves_as_a_list():
    t = wg.ones(2)
    plist = nn.ParameterList([t])
    assert isinstance(plist[0], nn.Parameter) and plist[0].requires_grad
    np.testing.assert_array_equal(plist[0].data, [1, 1])
    p = nn.Parameter(np.zeros(3))
    plist.append(p).extend([np.ones((2, 2))])
    plist += [wg.zeros(1)]
    assert len(plist) == 4 and plist[1] is p and plist[-3] is p
    assert [tuple(q.shape) for q in plist] == [(2,), (3,), (2, 2), (1,)]
    assert isinstance(plist[2], nn.Parameter)
    sliced = plist[1:3]
    assert isinstance(sliced, nn.ParameterList) and list(sliced) == [plist[1], plist[2]]
    plist[0] = wg.zeros(5)
    assert plist[0].shape == (5,) and [n for n, _ in plist.named_parameters()] == list("0123")
    assert repr(nn.ParameterList([wg.zeros(2, 3), wg.zeros(4)])) == (
        "ParameterList(\n  (0): Parameter containing: [float32 of size 2x3]\n"
        "  (1): Parameter containing: [float32 of size 4]\n)")


def test_parameter_dict_behaves_as_a_dict(torch_mod):
    pdict = nn.ParameterDict({"b": wg.zeros(1), "a": wg.zeros(2)})
    # a plain dict goes in sorted by key, an OrderedDict or pairs in their order, as torch's
    assert list(pdict) == list(torch_mod.nn.ParameterDict(
        {"b": torch_mod.zeros(1), "a": torch_mod.zeros(2)})) == ["a", "b"]
    pdict.update([("z", wg.zeros(3)), ("c", np.ones(1))])
    assert list(pdict.keys()) == ["a", "b", "z", "c"]
    assert "z" in pdict and "q" not in pdict and len(pdict) == 4
    assert all(isinstance(v, nn.Parameter) for v in pdict.values())
    assert [k for k, _ in pdict.items()] == list(pdict)
    pdict["new"] = wg.ones(2)
    assert pdict.get("new") is pdict["new"] and pdict.get("missing") is None
    popped = pdict.pop("z")
    del pdict["c"]
    assert popped.shape == (3,) and list(pdict) == ["a", "b", "new"]
    other = nn.ParameterDict(pdict)
    assert list(other) == ["a", "b", "new"] and other["a"] is pdict["a"]


def test_parameter_container_errors():
    with pytest.raises(wg.ArgumentError, match=r"ParameterDict: the key 1 is a int.*str"):
        nn.ParameterDict()[1] = wg.zeros(2)
    with pytest.raises(wg.ArgumentError, match=r"ParameterDict: the key 3 .*Hint"):
        nn.ParameterDict({"a": wg.zeros(1), 3: wg.zeros(1)})
    with pytest.raises(wg.ArgumentError, match=r"ParameterList.append: got a float"):
        nn.ParameterList().append(1.5)
    with pytest.raises(IndexError, match=r"index 2 is out of range for 2"):
        nn.ParameterList([wg.zeros(1), wg.zeros(1)])[2]
    with pytest.raises(KeyError, match=r"contain no '\.'"):
        nn.ParameterDict({"a.b": wg.zeros(1)})


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, kind, pattern", [
    (lambda: nn.GroupNorm(2, 5), wg.ArgumentError,
     r"GroupNorm: num_channels=5 is not divisible by num_groups=2.*Hint"),
    (lambda: F.group_norm(wg.ones(2, 5), 2), wg.ShapeError,
     r"group_norm: the input of shape \(2, 5\) has 5 channels.*num_groups=2.*Hint"),
    (lambda: nn.GroupNorm(2, 4)(wg.ones(2, 6)), wg.ShapeError,
     r"group_norm: weight of shape \(4,\).*\(2, 6\).*Hint: GroupNorm"),
    (lambda: F.group_norm(wg.ones(3), 1), wg.ShapeError, r"group_norm.*\(3,\).*Hint"),
    (lambda: F.glu(wg.ones(2, 5)), wg.ShapeError,
     r"glu: axis -1 of the input of shape \(2, 5\) has 5 entries, an odd number.*Hint"),
    (lambda: nn.GLU(dim=0)(wg.ones(3, 2)), wg.ShapeError, r"glu: axis 0.*\(3, 2\).*Hint"),
    (lambda: nn.PReLU(3)(wg.ones(2, 4)), wg.ShapeError,
     r"prelu: weight of shape \(3,\).*\(2, 4\) has 4 channel.*Hint: PReLU"),
    (lambda: nn.PReLU(3)(wg.ones(3)), wg.ShapeError, r"prelu.*\(3,\) has 1 channel"),
    (lambda: F.hardtanh(wg.ones(2), 1.0, -1.0), wg.ArgumentError,
     r"hardtanh: min_val=1.0 is greater than max_val=-1.0"),
    (lambda: nn.CELU(0.0)(wg.ones(2)), wg.ArgumentError, r"celu: alpha=0.0 must be positive"),
    (lambda: nn.Unflatten(1, (2, 4))(wg.ones(3, 10)), wg.ShapeError,
     r"Unflatten: axis 1 of the input of shape \(3, 10\) has 10 entries.*\(2, 4\).*Hint"),
    (lambda: nn.Unflatten(1, (3, -1))(wg.ones(3, 10)), wg.ShapeError, r"Unflatten.*\(3, -1\)"),
    (lambda: F.rms_norm(wg.ones(2, 3), (4,)), wg.ShapeError,
     r"rms_norm: input of shape \(2, 3\) does not end in the normalized shape \(4,\)"),
    (lambda: nn.RMSNorm([2, 3])(wg.ones(3)), wg.ShapeError, r"rms_norm.*\(3,\).*\(2, 3\)"),
    (lambda: F.cosine_similarity(wg.ones(2, 3), wg.ones(4, 3)), wg.ShapeError,
     r"cosine_similarity: x1 of shape \(2, 3\) and x2 of shape \(4, 3\) do not broadcast"),
    (lambda: F.normalize(wg.ones(2, 3), p=0), wg.ArgumentError, r"p=0 is not supported"),
])
def test_bad_arguments_raise_wengert_errors(bad, kind, pattern):
    with pytest.raises(kind, match=pattern) as info:
        bad()
    assert isinstance(info.value, wg.WengertError)
