"""nn.utils.parametrize, nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal),
the hook-style weight_norm/spectral_norm and nn.utils.fusion, against torch 2.13 in float64:
state dict keys, values, gradients and buffers (spectral norm's random u/v and orthogonal's
random completion loaded from torch)."""
import copy

import numpy as np
import pytest

import wengert as wg
from wengert import nn
from wengert.check import gradcheck
from wengert.nn import utils
from wengert.nn.utils import parametrizations as PZ
from wengert.nn.utils import parametrize as P


def _load(w, t):
    """Copy torch module ``t``'s state into wengert module ``w`` (same keys required)."""
    assert list(w.state_dict()) == list(t.state_dict())
    w.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})


def _pair(torch, name, *args):
    t = getattr(torch.nn, name)(*args)
    w = getattr(nn, name)(*args, dtype="float64")
    _load(w, t)
    return w, t


def _close(a, b, tol=1e-12):
    a = a.data if isinstance(a, wg.Tensor) else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _symmetric(torch):
    class TSym(torch.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

        def right_inverse(self, A):
            return A.triu()

    class WSym(nn.Module):
        def forward(self, X):
            return wg.triu(X) + wg.triu(X, 1).T

        def right_inverse(self, A):
            return wg.triu(A)
    return TSym(), WSym()


def _scale(torch):
    class TScale(torch.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, Y):
            return Y / 2

    class WScale(nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, Y):
            return Y / 2
    return TScale(), WScale()


def _backward_both(w, t, torch, x):
    to, wo = t(torch.tensor(x)), w(wg.tensor(x))
    _close(wo, to)
    (to ** 2).sum().backward()
    (wo ** 2).sum().backward()


# --- register_parametrization ----------------------------------------------------------------
def test_register_parametrization_matches_torch(torch_mod):
    w, t = _pair(torch_mod, "Linear", 3, 3)
    ts, ws = _symmetric(torch_mod)
    torch_mod.nn.utils.parametrize.register_parametrization(t, "weight", ts)
    assert P.register_parametrization(w, "weight", ws) is w
    assert type(w).__name__ == type(t).__name__ == "ParametrizedLinear"
    assert isinstance(w, nn.Linear) and P.type_before_parametrizations(w) is nn.Linear
    assert list(w.state_dict()) == list(t.state_dict()) == ["bias",
                                                            "parametrizations.weight.original"]
    assert [n for n, _ in w.named_parameters()] == [n for n, _ in t.named_parameters()]
    _close(w.parametrizations.weight.original, t.parametrizations.weight.original)
    _close(w.weight, t.weight)
    np.testing.assert_allclose(w.weight.data, w.weight.data.T)
    assert repr(w) == repr(t).replace("TSym", "WSym")
    _backward_both(w, t, torch_mod, np.random.default_rng(0).standard_normal((4, 3)))
    _close(w.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad)
    assert P.is_parametrized(w) and P.is_parametrized(w, "weight")
    assert not P.is_parametrized(w, "bias") and not P.is_parametrized(nn.Linear(2, 2))


def test_assigning_runs_right_inverse_and_keeps_the_original_object(torch_mod):
    w, t = _pair(torch_mod, "Linear", 3, 3)
    ts, ws = _symmetric(torch_mod)
    torch_mod.nn.utils.parametrize.register_parametrization(t, "weight", ts)
    P.register_parametrization(w, "weight", ws)
    original = w.parametrizations.weight.original
    A = np.random.default_rng(1).standard_normal((3, 3))
    t.weight = torch_mod.tensor(A + A.T)
    w.weight = wg.tensor(A + A.T)
    assert w.parametrizations.weight.original is original
    _close(original, t.parametrizations.weight.original)
    _close(w.weight, A + A.T)
    with pytest.raises(KeyError, match="'weight' already exists"):
        w.weight = nn.Parameter(np.eye(3))


def test_chained_parametrizations_and_cached(torch_mod):
    w, t = _pair(torch_mod, "Linear", 3, 3)
    (ts, ws), (tk, wk) = _symmetric(torch_mod), _scale(torch_mod)
    for m, ps in ((t, (ts, tk)), (w, (ws, wk))):
        register = (torch_mod.nn.utils.parametrize if m is t else P).register_parametrization
        for p in ps:
            register(m, "weight", p)
    assert len(w.parametrizations.weight) == 2 and w.parametrizations.weight[1] is wk
    assert list(w.state_dict()) == list(t.state_dict())
    _close(w.weight, t.weight)
    _backward_both(w, t, torch_mod, np.ones((2, 3)))
    _close(w.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad)
    t.weight = torch_mod.eye(3) * 4
    w.weight = wg.eye(3, dtype="float64") * 4
    _close(w.parametrizations.weight.original, t.parametrizations.weight.original)
    # cached(): the parametrization runs once however often the weight is read
    calls = []
    wk_forward = type(wk).forward
    type(wk).forward = lambda self, X: calls.append(1) or wk_forward(self, X)
    try:
        with P.cached():
            a, b = w.weight, w._parameters["weight"]
            assert a is b and len(calls) == 1
        w.weight
        assert len(calls) == 2
    finally:
        type(wk).forward = wk_forward


def test_right_inverse_with_several_originals(torch_mod):
    class TRankOne(torch_mod.nn.Module):
        def forward(self, x, y):
            return x.unsqueeze(-1) @ y.unsqueeze(-2)

        def right_inverse(self, Z):
            return Z[:, 0].clone(), Z[0, :].clone()

    class WRankOne(nn.Module):
        def forward(self, x, y):
            return x[:, None] @ y[None, :]

        def right_inverse(self, Z):
            return Z[:, 0], Z[0, :]

    w, t = _pair(torch_mod, "Linear", 3, 4)
    torch_mod.nn.utils.parametrize.register_parametrization(t, "weight", TRankOne())
    P.register_parametrization(w, "weight", WRankOne())
    assert list(w.state_dict()) == list(t.state_dict()) == [
        "bias", "parametrizations.weight.original0", "parametrizations.weight.original1"]
    assert isinstance(w.parametrizations.weight.original0, nn.Parameter)
    _close(w.weight, t.weight)
    _backward_both(w, t, torch_mod, np.ones((2, 3)))
    for k in ("original0", "original1"):
        _close(getattr(w.parametrizations.weight, k).grad,
               getattr(t.parametrizations.weight, k).grad)
    with pytest.raises(wg.ArgumentError, match="leave_parametrized=False"):
        P.remove_parametrizations(w, "weight", leave_parametrized=False)
    torch_mod.nn.utils.parametrize.remove_parametrizations(t, "weight")
    P.remove_parametrizations(w, "weight")
    assert list(w.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    _close(w.weight, t.weight)


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations_matches_torch(torch_mod, leave):
    w, t = _pair(torch_mod, "Linear", 3, 3)
    tk, wk = _scale(torch_mod)
    torch_mod.nn.utils.parametrize.register_parametrization(t, "weight", tk)
    P.register_parametrization(w, "weight", wk)
    torch_mod.nn.utils.parametrize.register_parametrization(t, "bias", type(tk)())
    P.register_parametrization(w, "bias", type(wk)())
    original = w.parametrizations.weight.original
    torch_mod.nn.utils.parametrize.remove_parametrizations(t, "weight", leave_parametrized=leave)
    P.remove_parametrizations(w, "weight", leave_parametrized=leave)
    assert w.weight is original and isinstance(w.weight, nn.Parameter)
    _close(w.weight, t.weight)
    assert list(w.state_dict()) == list(t.state_dict())
    assert type(w).__name__ == "ParametrizedLinear"  # bias is still parametrized
    torch_mod.nn.utils.parametrize.remove_parametrizations(t, "bias")
    P.remove_parametrizations(w, "bias")
    assert type(w) is nn.Linear and "parametrizations" not in w._modules
    assert list(w.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    _close(w.bias, t.bias)
    with pytest.raises(wg.ArgumentError, match="has no parametrization on 'weight'"):
        P.remove_parametrizations(w, "weight")


def test_parametrized_buffer_and_state_dict_round_trip(torch_mod):
    w, t = _pair(torch_mod, "BatchNorm1d", 3)
    tk, wk = _scale(torch_mod)
    torch_mod.nn.utils.parametrize.register_parametrization(t, "running_var", tk)
    P.register_parametrization(w, "running_var", wk)
    assert list(w.state_dict()) == list(t.state_dict())
    assert "parametrizations.running_var.original" in dict(w.named_buffers())
    _load(w, t)
    w.eval()
    t.eval()
    x = np.random.default_rng(2).standard_normal((4, 3))
    _close(w(wg.tensor(x)), t(torch_mod.tensor(x)))


def test_deepcopy_and_transfer(torch_mod):
    w = nn.Linear(3, 3, dtype="float64")
    _, ws = _symmetric(torch_mod)
    P.register_parametrization(w, "weight", ws)
    twin = copy.deepcopy(w)
    assert twin._parameters.owner is twin
    twin.parametrizations.weight.original.data[...] = 0
    assert np.abs(w.weight.data).sum() > 0 and np.abs(twin.weight.data).sum() == 0
    P.remove_parametrizations(twin, "weight")
    assert type(w).__name__ == "ParametrizedLinear"  # classes are never changed once made
    other = nn.Linear(3, 3, dtype="float64")
    P.transfer_parametrizations_and_params(w, other)
    assert other.parametrizations.weight.original is w.parametrizations.weight.original
    _close(other.weight, w.weight.data)


def test_register_parametrization_errors():
    w = nn.Linear(3, 4)

    class Row(nn.Module):
        def forward(self, X):
            return X[0]

    class Double(nn.Module):
        def forward(self, X):
            return X.astype("float64")

    with pytest.raises(wg.ShapeError, match=r"shape \(3,\).*\(4, 3\).*unsafe=True"):
        P.register_parametrization(w, "weight", Row())
    with pytest.raises(wg.DTypeError, match="dtype float64.*float32"):
        P.register_parametrization(w, "weight", Double())
    with pytest.raises(wg.ArgumentError, match="Linear has no parameter, buffer.*'foo'"):
        P.register_parametrization(w, "foo", Row())
    P.register_parametrization(w, "weight", Row(), unsafe=True)
    assert w.weight.shape == (3,)
    with pytest.raises(wg.ArgumentError, match="Row: it has no right_inverse"):
        w.weight = wg.ones(3)


# --- weight_norm, spectral_norm, orthogonal --------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, None, -2, 2])
def test_weight_norm_matches_torch(torch_mod, dim):
    w, t = _pair(torch_mod, "Conv1d", 2, 3, 4)
    torch_mod.nn.utils.parametrizations.weight_norm(t, dim=dim)
    PZ.weight_norm(w, dim=dim)
    assert list(w.state_dict()) == list(t.state_dict())
    assert [v.shape for v in w.state_dict().values()] == [
        tuple(v.shape) for v in t.state_dict().values()]
    _close(w.weight, t.weight)
    _backward_both(w, t, torch_mod, np.random.default_rng(3).standard_normal((2, 2, 6)))
    for k in ("original0", "original1"):
        _close(getattr(w.parametrizations.weight, k).grad,
               getattr(t.parametrizations.weight, k).grad, 1e-10)


def test_weight_norm_gradcheck():
    m = PZ.weight_norm(nn.Linear(3, 2, dtype="float64"))
    # C-ordered copies: gradcheck's full Jacobian misses the columns of a Fortran-ordered
    # input (Linear's weight), whose tangents it writes through a reshape copy
    g0, v0 = (wg.tensor(np.ascontiguousarray(p.data)) for p in m.parameters()
              if p.ndim == 2)
    x = wg.tensor(np.random.default_rng(4).standard_normal((2, 3)))

    def f(g, v):
        return wg.functional.functional_call(
            m, {"parametrizations.weight.original0": g,
                "parametrizations.weight.original1": v}, (x,))
    gradcheck(f, (g0, v0), order=2)


@pytest.mark.parametrize("layer, args, options", [
    ("Linear", (3, 4), {}),
    ("Linear", (3, 4), {"dim": 1, "eps": 1e-3}),
    ("Conv2d", (2, 3, 2), {"n_power_iterations": 3}),
    ("ConvTranspose1d", (2, 3, 2), {}),  # dim 1 by default
])
def test_spectral_norm_matches_torch_in_train_and_eval(torch_mod, layer, args, options):
    w, t = _pair(torch_mod, layer, *args)
    torch_mod.nn.utils.parametrizations.spectral_norm(t, **options)
    PZ.spectral_norm(w, **options)
    assert list(w.state_dict()) == list(t.state_dict())
    assert list(w.state_dict())[-2:] == ["parametrizations.weight.0._u",
                                         "parametrizations.weight.0._v"]
    _load(w, t)  # torch's u, v (random draws refined by 15 iterations)
    shape = {"Linear": (2, 3), "Conv2d": (2, 2, 5, 5), "ConvTranspose1d": (2, 2, 5)}[layer]
    x = np.random.default_rng(5).standard_normal(shape)
    for mode in ("train", "eval", "train"):
        getattr(w, mode)()
        getattr(t, mode)()
        u_before = w.parametrizations.weight[0]._u.data.copy()
        _backward_both(w, t, torch_mod, x)
        _close(w.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad,
               1e-10)
        for b in ("_u", "_v"):
            _close(getattr(w.parametrizations.weight[0], b), getattr(t.parametrizations.weight[0], b))
        if mode == "eval":  # no power iteration in eval mode
            np.testing.assert_array_equal(u_before, w.parametrizations.weight[0]._u.data)
    # sigma is the largest singular value once the iteration has converged
    for _ in range(50):
        w.weight
    W = PZ.weight_matrix(w.weight, w.parametrizations.weight[0].dim).data
    assert np.linalg.svd(W, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-6)


def test_spectral_norm_of_a_vector_and_errors(torch_mod):
    w, t = _pair(torch_mod, "Linear", 3, 4)
    torch_mod.nn.utils.parametrizations.spectral_norm(t, name="bias")
    PZ.spectral_norm(w, name="bias")
    assert list(w.state_dict()) == list(t.state_dict())
    _close(w.bias, t.bias)
    with pytest.raises(wg.ArgumentError, match="n_power_iterations=0 must be positive"):
        PZ.spectral_norm(nn.Linear(3, 4), n_power_iterations=0)
    with pytest.raises(wg.ArgumentError, match=r"dim=2 is out of range.*\[-2, 1\]"):
        PZ.spectral_norm(nn.Linear(3, 4), dim=2)
    with pytest.raises(wg.ArgumentError, match="no parameter or buffer named 'foo'"):
        PZ.spectral_norm(nn.Linear(3, 4), name="foo")


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("trivialization", [True, False])
def test_orthogonal_matches_torch(torch_mod, shape, orthogonal_map, trivialization):
    square = shape[0] == shape[1]
    if not trivialization and (orthogonal_map in ("matrix_exp", "cayley")
                               or orthogonal_map is None and square):
        return  # torch cannot initialise these either (its right_inverse refuses)
    w, t = _pair(torch_mod, "Linear", shape[1], shape[0])
    torch_mod.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orthogonal_map,
                                                   use_trivialization=trivialization)
    PZ.orthogonal(w, orthogonal_map=orthogonal_map, use_trivialization=trivialization)
    assert list(w.state_dict()) == list(t.state_dict())
    if square or not trivialization:  # no random completion: the initial weight is torch's
        _close(w.weight, t.weight, 1e-10)
    rng = np.random.default_rng(6)
    # off the diagonal: householder multiplies by the diagonal cast to int (+-1), as torch's
    off_diagonal = 1 - np.eye(*shape)
    state = {k: v.detach().numpy() + (0.3 * rng.standard_normal(v.shape) * off_diagonal
                                      if k.endswith("original") else 0)
             for k, v in t.state_dict().items()}
    t.load_state_dict({k: torch_mod.tensor(v) for k, v in state.items()})
    w.load_state_dict(state)
    Q = w.weight.data
    small = min(shape)
    np.testing.assert_allclose(Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T, np.eye(small),
                               atol=1e-12)
    _close(w.weight, t.weight, 1e-10)
    _backward_both(w, t, torch_mod, rng.standard_normal((2, shape[1])))
    _close(w.parametrizations.weight.original.grad, t.parametrizations.weight.original.grad,
           1e-9)


def test_orthogonal_gradcheck_and_errors():
    m = PZ.orthogonal(nn.Linear(3, 3, dtype="float64"))
    x = wg.tensor(np.random.default_rng(7).standard_normal((2, 3)))
    X0 = wg.tensor(np.ascontiguousarray(m.parametrizations.weight.original.data) + 0.2)
    gradcheck(lambda X: wg.functional.functional_call(
        m, {"parametrizations.weight.original": X}, (x,)), (X0,))
    with pytest.raises(wg.ShapeError, match=r"orthogonal: expected a matrix.*\(4,\)"):
        PZ.orthogonal(nn.Linear(3, 4), name="bias")
    with pytest.raises(wg.ArgumentError, match="orthogonal_map='qr' is not allowed"):
        PZ.orthogonal(nn.Linear(3, 4), orthogonal_map="qr")


# --- the hook-style weight_norm and spectral_norm --------------------------------------------
@pytest.mark.filterwarnings("ignore:.*torch.nn.utils.weight_norm. is deprecated")
@pytest.mark.parametrize("dim", [0, 1, None])
def test_legacy_weight_norm_matches_torch(torch_mod, dim):
    w, t = _pair(torch_mod, "Linear", 3, 4)
    torch_mod.nn.utils.weight_norm(t, dim=dim)
    utils.weight_norm(w, dim=dim)
    assert type(w).__name__ == "Linear"
    assert list(w.state_dict()) == list(t.state_dict()) == ["bias", "weight_g", "weight_v"]
    _close(w.weight, t.weight)
    state = {k: v.detach().numpy() + 0.1 for k, v in t.state_dict().items()}
    t.load_state_dict({k: torch_mod.tensor(v) for k, v in state.items()})
    w.load_state_dict(state)
    _backward_both(w, t, torch_mod, np.ones((2, 3)))
    _close(w.weight_g.grad, t.weight_g.grad)
    _close(w.weight_v.grad, t.weight_v.grad)
    with pytest.raises(wg.ArgumentError, match="cannot register two"):
        utils.weight_norm(w)
    torch_mod.nn.utils.remove_weight_norm(t)
    utils.remove_weight_norm(w)
    assert type(w) is nn.Linear and list(w.state_dict()) == ["bias", "weight"]
    _close(w.weight, t.weight)
    with pytest.raises(wg.ArgumentError, match="weight_norm of 'weight' not found"):
        utils.remove_weight_norm(w)


@pytest.mark.parametrize("layer, args", [("Linear", (3, 4)), ("ConvTranspose1d", (2, 3, 2))])
def test_legacy_spectral_norm_matches_torch(torch_mod, layer, args):
    w, t = _pair(torch_mod, layer, *args)
    torch_mod.nn.utils.spectral_norm(t, n_power_iterations=2)
    utils.spectral_norm(w, n_power_iterations=2)
    assert list(w.state_dict()) == list(t.state_dict()) == ["bias", "weight_orig", "weight_u",
                                                            "weight_v"]
    _close(w.weight, t.weight)  # the unnormalised weight until the first call, as torch's
    _load(w, t)
    x = np.random.default_rng(8).standard_normal((2, 3) if layer == "Linear" else (2, 2, 5))
    for mode in ("train", "eval", "train"):
        getattr(w, mode)()
        getattr(t, mode)()
        _backward_both(w, t, torch_mod, x)
        _close(w.weight, t.weight)  # the value of the last call
        _close(w.weight_orig.grad, t.weight_orig.grad, 1e-10)
        _close(w.weight_u, t.weight_u)
        _close(w.weight_v, t.weight_v)
    torch_mod.nn.utils.remove_spectral_norm(t)
    utils.remove_spectral_norm(w)
    assert list(w.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    _close(w.weight, t.weight)
    with pytest.raises(wg.ArgumentError, match="spectral_norm of 'weight' not found"):
        utils.remove_spectral_norm(w)


# --- fusion ----------------------------------------------------------------------------------
def _trained_bn(torch, name, n):
    t = getattr(torch.nn, name)(n)
    with torch.no_grad():
        t.running_mean.uniform_(-1, 1)
        t.running_var.uniform_(0.5, 2)
        t.weight.uniform_(0.5, 2)
        t.bias.uniform_(-1, 1)
    w = getattr(nn, name)(n, dtype="float64")
    _load(w, t)
    return w.eval(), t.eval()


@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_and_linear_bn_match_torch(torch_mod, bias):
    from torch.nn.utils import fusion
    wc = nn.Conv2d(2, 3, 2, bias=bias, dtype="float64").eval()
    tc = torch_mod.nn.Conv2d(2, 3, 2, bias=bias).eval()
    _load(wc, tc)
    wb, tb = _trained_bn(torch_mod, "BatchNorm2d", 3)
    fused, tfused = utils.fuse_conv_bn_eval(wc, wb), fusion.fuse_conv_bn_eval(tc, tb)
    x = np.random.default_rng(9).standard_normal((2, 2, 4, 4))
    _close(fused(wg.tensor(x)), tfused(torch_mod.tensor(x)))
    _close(fused(wg.tensor(x)), wb(wc(wg.tensor(x))).data)
    assert fused.bias.requires_grad == tfused.bias.requires_grad
    assert wc.bias is None or not np.array_equal(wc.bias.data, fused.bias.data)  # a copy
    wl = nn.Linear(3, 3, bias=bias, dtype="float64").eval()
    tl = torch_mod.nn.Linear(3, 3, bias=bias).eval()
    _load(wl, tl)
    wb1, tb1 = _trained_bn(torch_mod, "BatchNorm1d", 3)
    fused, tfused = utils.fuse_linear_bn_eval(wl, wb1), fusion.fuse_linear_bn_eval(tl, tb1)
    x = np.random.default_rng(10).standard_normal((4, 3))
    _close(fused(wg.tensor(x)), tfused(torch_mod.tensor(x)))
    # a transposed convolution's weight is (in, out, k): the scale goes along axis 1
    wt = nn.ConvTranspose1d(3, 2, 2, dtype="float64").eval()
    wb2, _ = _trained_bn(torch_mod, "BatchNorm1d", 2)
    w_t, b_t = utils.fuse_conv_bn_weights(wt.weight, wt.bias, wb2.running_mean,
                                          wb2.running_var, wb2.eps, None, None, transpose=True)
    scale = 1 / np.sqrt(wb2.running_var.data + wb2.eps)  # no bn weight: 1
    _close(w_t, wt.weight.data * scale[None, :, None])
    _close(b_t, (wt.bias.data - wb2.running_mean.data) * scale)


def test_fusion_needs_eval_mode():
    with pytest.raises(wg.ArgumentError, match="fusion is for evaluation only.*eval"):
        utils.fuse_conv_bn_eval(nn.Conv2d(2, 3, 2), nn.BatchNorm2d(3))
