"""functional_call, grad_and_value, linearize and stack_module_state against torch.func, in
float64: values, gradients (dicts of them, to second order), tied weights, restoring the
module (also after an exception) and the errors."""
import numpy as np
import pytest

import wengert as wg
from wengert import nn
from wengert.check import gradcheck
from wengert.functional import (functional_call, grad, grad_and_value, hessian, jacrev,
                                linearize, stack_module_state, value_and_grad)
from wengert.nn.utils import stateless


class _Tied(nn.Module):
    """x @ W.T + x @ V.T with V the same Parameter as W (a tied weight)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3, bias=False, dtype="float64")
        self.b = nn.Linear(3, 3, bias=False, dtype="float64")
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.a(x) + self.b(x)


def _mlp_pair(torch):
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    w = nn.Sequential(nn.Linear(3, 4, dtype="float64"), nn.Tanh(),
                      nn.Linear(4, 2, dtype="float64"))
    w.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return w, t


def test_grad_of_functional_call_over_a_params_dict_matches_torch(torch_mod):
    w, t = _mlp_pair(torch_mod)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    params = {k: rng.standard_normal(v.shape) for k, v in t.state_dict().items()}

    def t_loss(p):
        return ((torch_mod.func.functional_call(t, p, (torch_mod.tensor(x),))
                 - torch_mod.tensor(y)) ** 2).mean()

    def w_loss(p):
        return ((functional_call(w, p, (wg.tensor(x),)) - y) ** 2).mean()

    t_grads = torch_mod.func.grad(t_loss)({k: torch_mod.tensor(v) for k, v in params.items()})
    w_grads = grad(w_loss)({k: wg.tensor(v) for k, v in params.items()})
    assert set(w_grads) == set(params)
    for k in params:
        np.testing.assert_allclose(w_grads[k].data, t_grads[k].numpy(), rtol=1e-12)
    # the module's own parameters are back, and were not used
    for k, v in t.state_dict().items():
        np.testing.assert_array_equal(w.state_dict()[k].data, v.numpy())
    t_h = torch_mod.func.hessian(t_loss)({"2.bias": torch_mod.tensor(params["2.bias"])})
    w_h = hessian(w_loss)({"2.bias": wg.tensor(params["2.bias"])})
    np.testing.assert_allclose(w_h["2.bias"]["2.bias"].data, t_h["2.bias"]["2.bias"].detach().numpy(),
                               rtol=1e-12)
    J = jacrev(lambda p: functional_call(w, p, wg.tensor(x)))({"0.bias": wg.zeros(4)})
    assert J["0.bias"].shape == (5, 2, 4)
    gradcheck(lambda b: functional_call(w, {"0.bias": b}, (wg.tensor(x),)),
              (rng.standard_normal(4),), order=2)


def test_gradient_flows_to_parameters_that_require_grad(torch_mod):
    w, t = _mlp_pair(torch_mod)
    x = np.ones((2, 3))
    w_grads = grad(lambda p: functional_call(w, p, (wg.tensor(x),)).sum())(
        dict(w.named_parameters()))
    t_grads = torch_mod.func.grad(lambda p: torch_mod.func.functional_call(
        t, p, (torch_mod.tensor(x),)).sum())(dict(t.named_parameters()))
    (w_grads["0.weight"] ** 2).sum().backward()  # second order through the parameters
    (t_grads["0.weight"] ** 2).sum().backward()
    np.testing.assert_allclose(w[0].weight.grad.data, t[0].weight.grad.numpy(), rtol=1e-10)


def test_functional_call_options_match_torch(torch_mod):
    w, t = _mlp_pair(torch_mod)
    x = np.random.default_rng(1).standard_normal((2, 3))
    W = np.ones((2, 4))
    # several dicts; args not a tuple; kwargs
    w_out = functional_call(w, ({"2.weight": wg.tensor(W)}, {"2.bias": None}), wg.tensor(x))
    t_out = torch_mod.func.functional_call(
        t, ({"2.weight": torch_mod.tensor(W)}, {"2.bias": None}), torch_mod.tensor(x))
    np.testing.assert_allclose(w_out.data, t_out.detach().numpy(), rtol=1e-12)
    assert w[2].bias is not None and w[2].weight.shape == (2, 4)
    assert stateless.functional_call is functional_call
    lin = nn.Linear(3, 2, dtype="float64")
    out = functional_call(lin, {}, kwargs={"x": wg.tensor(x)})
    np.testing.assert_allclose(out.data, lin(wg.tensor(x)).data)


def test_tied_weights_follow_torch(torch_mod):
    m = _Tied()
    x = wg.tensor(np.eye(3))
    zero = wg.zeros(3, 3, dtype="float64")
    # tie_weights=True: a value for "a.weight" is used for "b.weight" too
    np.testing.assert_array_equal(functional_call(m, {"a.weight": zero}, (x,)).data, 0)
    untied = functional_call(m, {"a.weight": zero}, (x,), tie_weights=False).data
    np.testing.assert_allclose(untied, m.a.weight.data.T)
    assert m.b.weight is m.a.weight
    functional_call(m, {"a.weight": zero, "b.weight": zero}, (x,))  # the same value: fine
    with pytest.raises(wg.ArgumentError, match=r"different values for \['a.weight', "
                                               r"'b.weight'\].*tie_weights=False"):
        functional_call(m, {"a.weight": zero, "b.weight": wg.ones(3, 3)}, (x,))


def test_strict_unknown_names_and_write_back(torch_mod):
    lin = nn.Linear(3, 2, dtype="float64")
    x = wg.ones(1, 3, dtype="float64")
    with pytest.raises(wg.ArgumentError, match=r"missing keys \['bias'\], unexpected keys "
                                               r"\['foo'\]"):
        functional_call(lin, {"weight": wg.ones(2, 3), "foo": wg.ones(1)}, (x,), strict=True)
    functional_call(lin, {"foo": wg.ones(1)}, (x,))  # an attribute for the call only
    assert not hasattr(lin, "foo")
    with pytest.raises(wg.ArgumentError, match="Linear has no submodule 'l3'"):
        functional_call(lin, {"l3.weight": wg.ones(2, 3)}, (x,))
    with pytest.raises(wg.DTypeError, match="value for 'weight' is a float"):
        functional_call(lin, {"weight": 3.0}, (x,))
    with pytest.raises(wg.ArgumentError, match=r"\['weight'\] appear in more than one"):
        functional_call(lin, ({"weight": wg.ones(2, 3)}, {"weight": wg.ones(2, 3)}), (x,))
    with pytest.raises(wg.ArgumentError, match="must be a dict or a tuple/list of dicts"):
        functional_call(lin, 3, (x,))

    class Counter(nn.Module):  # replaces its buffer during the call, as torch's example
        def __init__(self):
            super().__init__()
            self.register_buffer("foo", wg.zeros(()))

        def forward(self, x):
            self.foo = self.foo + 1
            return x + self.foo

    c, given = Counter(), {"foo": wg.zeros(())}
    functional_call(c, given, wg.ones(()))
    assert c.foo.item() == 0 and given["foo"].item() == 1  # torch: the same


def test_module_is_restored_after_an_exception():
    lin = nn.Linear(3, 2, dtype="float64")
    weight = lin.weight
    with pytest.raises(wg.ShapeError):
        functional_call(lin, {"weight": wg.ones(5, 5, dtype="float64")}, (wg.ones(1, 3),))
    assert lin.weight is weight and list(lin._parameters) == ["weight", "bias"]


def test_batch_norm_buffers_are_updated_in_place(torch_mod):
    t = torch_mod.nn.BatchNorm1d(3)
    w = nn.BatchNorm1d(3, dtype="float64")
    x = np.random.default_rng(2).standard_normal((4, 3))
    t_buf = {k: v.clone() for k, v in t.named_buffers()}
    w_buf = {k: wg.tensor(v.numpy()) for k, v in t_buf.items()}
    torch_mod.func.functional_call(t, t_buf, (torch_mod.tensor(x),))
    functional_call(w, w_buf, (wg.tensor(x),))
    for k in t_buf:
        np.testing.assert_allclose(w_buf[k].data, t_buf[k].numpy(), rtol=1e-12)
    np.testing.assert_array_equal(w.running_mean.data, 0)


def test_grad_and_value_matches_torch(torch_mod):
    x = np.array([1.0, 2.0, -0.5])
    g, v = grad_and_value(lambda x: (x ** 3).sum())(wg.tensor(x))
    tg, tv = torch_mod.func.grad_and_value(lambda x: (x ** 3).sum())(torch_mod.tensor(x))
    np.testing.assert_allclose(g.data, tg.numpy())
    assert v.item() == pytest.approx(tv.item())
    g, (v, aux) = grad_and_value(lambda x: ((x ** 3).sum(), x * 2), has_aux=True)(x)
    np.testing.assert_allclose(aux.data, 2 * x)
    assert value_and_grad(lambda x: (x ** 3).sum())(x)[1].data.tolist() == g.data.tolist()
    with pytest.raises(wg.ShapeError, match=r"grad_and_value\(<lambda>\): f must return a "
                                            r"scalar"):
        grad_and_value(lambda x: x * 2)(x)


def test_linearize_matches_torch(torch_mod):
    rng = np.random.default_rng(3)
    x, y, tx, ty = (rng.standard_normal(3) for _ in range(4))
    out, jvp_fn = linearize(lambda a, b: wg.sin(a) * b, wg.tensor(x), wg.tensor(y))
    t_out, t_jvp = torch_mod.func.linearize(lambda a, b: a.sin() * b, torch_mod.tensor(x),
                                            torch_mod.tensor(y))
    np.testing.assert_allclose(out.data, t_out.numpy())
    np.testing.assert_allclose(jvp_fn(wg.tensor(tx), wg.tensor(ty)).data,
                               t_jvp(torch_mod.tensor(tx), torch_mod.tensor(ty)).numpy())
    np.testing.assert_allclose(jvp_fn(tx, ty).data, np.cos(x) * y * tx + np.sin(x) * ty)
    with pytest.raises(wg.ArgumentError, match="linearize: the tangents have structure"):
        jvp_fn(wg.tensor(tx))
    with pytest.raises(wg.ShapeError, match=r"linearize: tangents\[0\] has shape \(2,\)"):
        jvp_fn(wg.ones(2, dtype="float64"), wg.tensor(ty))
    point = wg.tensor(x)
    _, jvp_at_x = linearize(wg.exp, point)
    point.data[...] = 0  # the point was copied
    np.testing.assert_allclose(jvp_at_x(np.ones(3)).data, np.exp(x))


def test_stack_module_state_matches_torch(torch_mod):
    t_models = [torch_mod.nn.BatchNorm1d(2) for _ in range(3)]
    w_models = [nn.BatchNorm1d(2, dtype="float64") for _ in range(3)]
    for w, t in zip(w_models, t_models):
        with torch_mod.no_grad():
            t.weight.uniform_()
        w.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    params, buffers = stack_module_state(w_models)
    t_params, t_buffers = torch_mod.func.stack_module_state(t_models)
    assert list(params) == list(t_params) and list(buffers) == list(t_buffers)
    for mine, theirs in ((params, t_params), (buffers, t_buffers)):
        for k in theirs:
            np.testing.assert_array_equal(mine[k].data, theirs[k].detach().numpy())
            assert mine[k].requires_grad == theirs[k].requires_grad
            assert mine[k].data.dtype == np.dtype(str(theirs[k].dtype).split(".")[1])
    assert params["weight"].is_leaf
    params["weight"].data[0] = 5  # new leaves: the models are untouched
    assert not np.any(w_models[0].weight.data == 5)
    x = wg.ones(4, 2, dtype="float64")
    one = functional_call(w_models[0], {k: v[1] for k, v in params.items()}, (x,))
    np.testing.assert_allclose(one.data, w_models[1](x).data)
    with pytest.raises(wg.ArgumentError, match="at least one model"):
        stack_module_state([])
    with pytest.raises(wg.ArgumentError, match="same mode"):
        stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).eval()])
    with pytest.raises(wg.ArgumentError, match=r"one class, got \['Conv1d', 'Linear'\]"):
        stack_module_state([nn.Linear(2, 2), nn.Conv1d(2, 2, 1)])


def test_functional_call_on_a_parametrized_module(torch_mod):
    from wengert.nn.utils import parametrize as P

    class TSym(torch_mod.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).T

    class WSym(nn.Module):
        def forward(self, X):
            return wg.triu(X) + wg.triu(X, 1).T

    t, w = torch_mod.nn.Linear(3, 3), nn.Linear(3, 3, dtype="float64")
    w.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    torch_mod.nn.utils.parametrize.register_parametrization(t, "weight", TSym())
    P.register_parametrization(w, "weight", WSym())
    rng = np.random.default_rng(4)
    A, x = rng.standard_normal((3, 3)), rng.standard_normal((2, 3))
    key = "parametrizations.weight.original"
    t_g = torch_mod.func.grad(lambda p: torch_mod.func.functional_call(
        t, p, (torch_mod.tensor(x),)).pow(2).sum())({key: torch_mod.tensor(A)})
    w_g = grad(lambda p: (functional_call(w, p, (wg.tensor(x),)) ** 2).sum())(
        {key: wg.tensor(A)})
    np.testing.assert_allclose(w_g[key].data, t_g[key].detach().numpy(), rtol=1e-12)
    # "weight" replaces the parametrized value for the call (torch's documented behaviour)
    g = grad(lambda p: (functional_call(w, p, (wg.tensor(x),)) ** 2).sum())(
        {"weight": wg.tensor(A)})
    np.testing.assert_allclose(g["weight"].data, 2 * (x @ A.T + w.bias.data).T @ x,
                               rtol=1e-12)
    assert list(w._parameters) == ["bias"]
    np.testing.assert_allclose(w.weight.data, w.weight.data.T)
