"""Adamax, NAdam, RAdam, Adadelta, Rprop, ASGD and LBFGS against torch.optim: side by side
from the same parameters on a small float64 regression (each library computing its own
gradients), parameters compared at every step; their state (names, step counts, values),
state-dict round trips, a learning-rate schedule driving them, and their errors."""
import inspect

import numpy as np
import pytest

from optim_problem import problem, take_step, to_numpy
import wengert as wg
import wengert.optim as optim
from wengert.sparse import RowSparse
from wengert.train.state_file import load_state, save_state

FIRST_ORDER = ["Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD"]


def _assert_close(ours, theirs, what, rtol=1e-10):
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=rtol, atol=rtol / 100,
                               err_msg=what)


def _side_by_side(torch, name, kwargs, steps=20, torch_kwargs=None, groups=False):
    """Run wengert's and torch's optimizer ``name`` together; compare the losses and the
    parameters after every step. Returns both optimizers."""
    ours_loss, ours = problem(wg)
    theirs_loss, theirs = problem(torch)
    if groups:  # the bias in a second group with its own learning rate
        ours = [{"params": ours[:1]}, {"params": ours[1:], "lr": 0.03}]
        theirs = [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.03}]
    opt = getattr(optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **(kwargs if torch_kwargs is None
                                                  else torch_kwargs))
    for step in range(steps):
        assert take_step(opt, ours_loss) == pytest.approx(take_step(topt, theirs_loss), rel=1e-10)
        for group, tgroup in zip(opt.param_groups, topt.param_groups):
            for p, tp in zip(group["params"], tgroup["params"]):
                _assert_close(p.data, tp, f"{name} {kwargs} step {step}")
    return opt, topt


CASES = [
    ("Adamax", {}),
    ("Adamax", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.05, "maximize": True}),
    ("Adamax", {"lr": 0.01, "foreach": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1,
               "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.05, "maximize": True, "foreach": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01, "betas": (0.8, 0.95), "maximize": True, "foreach": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1}),
    ("Adadelta", {"rho": 1.0}),
    ("Adadelta", {"maximize": True, "weight_decay": 0.05, "foreach": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.1)}),
    ("Rprop", {"lr": 0.02, "maximize": True, "foreach": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "lambd": 1e-2, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 3, "maximize": True, "foreach": True}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=lambda v: str(v))
def test_optimizer_matches_torch_at_everystep(torch_mod, name, kwargs):
    opt, topt = _side_by_side(torch_mod, name, kwargs)
    # the same state under the same names and step counts, and the same group entries
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert list(ours["param_groups"][0]) == list(theirs["param_groups"][0])
    for i in (0, 1):
        assert list(ours["state"][i]) == list(theirs["state"][i])
        for key, value in ours["state"][i].items():
            _assert_close(value, theirs["state"][i][key], f"{name} state {key!r}")
    assert ours["state"][0]["step"] == 20


@pytest.mark.parametrize("name", FIRST_ORDER + ["LBFGS"])
def test_signature_is_torchs(torch_mod, name):
    def parameters(cls):
        return [(p.name, p.kind, p.default)
                for p in inspect.signature(cls.__init__).parameters.values()]
    assert parameters(getattr(optim, name)) == parameters(getattr(torch_mod.optim, name))


def test_rprop_meets_both_step_size_bounds(torch_mod):
    # step_sizes tight enough that the clip acts both ways within 20 steps
    opt, _ = _side_by_side(torch_mod, "Rprop", {"lr": 0.05, "etas": (0.2, 1.5),
                                                "step_sizes": (1e-2, 0.1)})
    sizes = np.concatenate([s["step_size"].ravel() for s in opt.state.values()])
    assert sizes.max() == 0.1 and sizes.min() == 0.01


def test_asgd_ax_is_the_mean_of_the_iterates_since_t0():
    # mu = 1 / max(1, t - t0) for the next step gives, at step t > t0 + 1, the plain mean of
    # the iterates of steps t0 + 2, ..., t (derived by hand from the recursion)
    loss_fn, params = problem(wg)
    opt = optim.ASGD(params, lr=0.05, t0=10)
    iterates = []
    for _ in range(20):
        take_step(opt, loss_fn)
        iterates.append(params[0].data.copy())
    state = opt.state[params[0]]
    assert state["mu"] == 1 / 10
    np.testing.assert_allclose(state["ax"], np.mean(iterates[11:], axis=0), rtol=1e-12)


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_param_groups_match_torch(torch_mod, name):
    _side_by_side(torch_mod, name, {}, steps=6, groups=True)


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_capturable_is_ignored(torch_mod, name):
    # PyTorch refuses capturable=True for CPU tensors; here it changes nothing, so the run
    # equals torch's without it
    _side_by_side(torch_mod, name, {"capturable": True}, steps=5, torch_kwargs={})


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_float32_parameters_stay_float32_and_follow_torch(torch_mod, name):
    rng = np.random.default_rng(1)
    init = rng.normal(size=(3, 4)).astype(np.float32)
    p = wg.tensor(init.copy(), requires_grad=True)
    tp = torch_mod.tensor(init.copy(), requires_grad=True)
    opt, topt = getattr(optim, name)([p]), getattr(torch_mod.optim, name)([tp])
    for _ in range(10):
        g = rng.normal(size=(3, 4)).astype(np.float32)
        p.grad, tp.grad = wg.tensor(g), torch_mod.tensor(g)
        opt.step()
        topt.step()
    assert p.data.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if hasattr(v, "dtype"))
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)


# --- state dicts ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("Adamax", {"weight_decay": 0.1}), ("NAdam", {"decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01}), ("Adadelta", {"rho": 0.5}), ("Rprop", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 3})])
def test_state_dict_round_trip_continues_identically(name, kwargs, tmp_path):
    loss_a, a = problem(wg)
    opt_a = getattr(optim, name)(a, **kwargs)
    for _ in range(7):
        take_step(opt_a, loss_a)
    save_state(tmp_path / "opt.safetensors", opt_a.state_dict())  # as a checkpoint does
    saved = load_state(tmp_path / "opt.safetensors")
    loss_b, b = problem(wg)
    for p, q in zip(a, b):
        q.data[...] = p.data
    opt_b = getattr(optim, name)(b, lr=123.0)  # hyperparameters come from the state dict
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0] == {**opt_a.param_groups[0], "params": b}
    for _ in range(7):
        take_step(opt_a, loss_a)
        take_step(opt_b, loss_b)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.data, q.data)


# --- a learning-rate schedule drives them ----------------------------------------------------
@pytest.mark.parametrize("name", FIRST_ORDER)
def test_lr_scheduler_drives_them_as_torch(torch_mod, name):
    ours_loss, ours = problem(wg)
    theirs_loss, theirs = problem(torch_mod)
    opt = getattr(optim, name)(ours, lr=0.05)
    topt = getattr(torch_mod.optim, name)(theirs, lr=0.05)
    sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    tsched = torch_mod.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)
    for step in range(12):
        take_step(opt, ours_loss)
        take_step(topt, theirs_loss)
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-15)
        for p, tp in zip(ours, theirs):
            _assert_close(p.data, tp, f"{name} step {step}")
    assert opt.param_groups[0]["lr"] == 0.05 * 0.5 ** 4


# --- LBFGS ------------------------------------------------------------------------------------
def _lbfgsproblem(module, kind="rosenbrock"):
    """A 6-dimensional function over two parameters (shapes (2, 2) and (2,)): Rosenbrock's
    (minimum at all ones) or a convex quadratic 0.5 x.Ax - b.x (A with eigenvalues 1 to 10).
    Returns (closure maker, params, [number of closure calls])."""
    start = np.array([-1.2, 1.0, -0.5, 0.8, 1.5, -0.3])
    params = [module.tensor(start[:4].reshape(2, 2).copy(), requires_grad=True),
              module.tensor(start[4:].copy(), requires_grad=True)]
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(6, 6)))
    A, b = module.tensor(q @ np.diag(np.linspace(1, 10, 6)) @ q.T), module.tensor(np.ones(6))
    calls = [0]

    def make_closure(opt):
        def closure():
            calls[0] += 1
            opt.zero_grad()
            join = module.cat if module is not wg else wg.concatenate
            x = join([params[0].reshape(-1), params[1]])
            if kind == "rosenbrock":
                loss = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
            else:
                loss = 0.5 * (x * (A @ x)).sum() - (b * x).sum()
            loss.backward()
            return loss
        return closure
    return make_closure, params, calls


# Rosenbrock's valley amplifies rounding (the two libraries sum dot products in different
# orders) by about 10x per few iterations, so each run is kept to ~30 iterations, where the
# parameters still agree to 1e-10; the quadratic converges, which exercises the early stops.
@pytest.mark.parametrize("kind, kwargs, steps", [
    ("rosenbrock", {}, 1),
    ("rosenbrock", {"max_iter": 5}, 6),
    ("rosenbrock", {"line_search_fn": "strong_wolfe"}, 1),
    ("rosenbrock", {"max_iter": 5, "line_search_fn": "strong_wolfe"}, 6),
    ("rosenbrock", {"lr": 0.5, "max_iter": 7, "history_size": 3}, 4),
    ("rosenbrock", {"max_iter": 10, "history_size": 4, "line_search_fn": "strong_wolfe"}, 2),
    ("rosenbrock", {"lr": 0.1, "max_iter": 15, "max_eval": 9, "tolerance_change": 1e-6}, 6),
    ("quadratic", {"line_search_fn": "strong_wolfe"}, 4),
    ("quadratic", {"lr": 0.3, "history_size": 2}, 4),
    ("quadratic", {"max_iter": 4, "tolerance_grad": 1e-3}, 6),
], ids=str)
def test_lbfgs_matches_torch(torch_mod, kind, kwargs, steps):
    make, ours, calls = _lbfgsproblem(wg, kind)
    tmake, theirs, tcalls = _lbfgsproblem(torch_mod, kind)
    opt, topt = optim.LBFGS(ours, **kwargs), torch_mod.optim.LBFGS(theirs, **kwargs)
    closure, tclosure = make(opt), tmake(topt)
    for step in range(steps):
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert isinstance(loss, wg.Tensor)  # the first closure call's loss itself
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
        assert calls == tcalls
        for p, tp in zip(ours, theirs):
            _assert_close(p.data, tp, f"LBFGS {kwargs} step {step}")
    state, tstate = opt.state[ours[0]], topt.state[theirs[0]]
    assert sorted(state) == sorted(tstate)
    for key in ("func_evals", "n_iter"):
        assert state[key] == tstate[key]
    # gradients, and the history made of them, carry the parameters' rounding times the
    # Hessian (up to ~1e3 on Rosenbrock)
    for key in ("d", "prev_flat_grad", "t", "H_diag", "prev_loss"):
        _assert_close(state[key], tstate[key], f"state {key!r}", rtol=1e-7)
    for key in ("old_dirs", "old_stps", "ro"):
        assert len(state[key]) == len(tstate[key])
        for v, tv in zip(state[key], tstate[key]):
            _assert_close(v, tv, f"state {key!r}", rtol=1e-7)


def test_lbfgs_with_strong_wolfe_finds_the_minimum():
    make, params, _ = _lbfgsproblem(wg)
    opt = optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=100)
    closure = make(opt)
    for _ in range(3):
        opt.step(closure)
    np.testing.assert_allclose(params[0].data, np.ones((2, 2)), atol=1e-5)
    np.testing.assert_allclose(params[1].data, np.ones(2), atol=1e-5)
    assert closure().item() < 1e-10


def test_lbfgs_returns_at_once_when_the_gradient_is_small(torch_mod):
    p = wg.tensor([1.0, 1.0], requires_grad=True)
    opt = optim.LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss
    assert opt.step(closure).item() == 0.0
    assert opt.state[p] == {"func_evals": 1, "n_iter": 0}


def test_lbfgs_state_dict_round_trip_continues_identically(tmp_path):
    make_a, a, _ = _lbfgsproblem(wg)
    make_b, b, _ = _lbfgsproblem(wg)
    kwargs = {"max_iter": 5, "history_size": 3, "line_search_fn": "strong_wolfe"}
    opt_a = optim.LBFGS(a, **kwargs)
    closure_a = make_a(opt_a)
    for _ in range(2):
        opt_a.step(closure_a)
    save_state(tmp_path / "lbfgs.safetensors", opt_a.state_dict())
    saved = load_state(tmp_path / "lbfgs.safetensors")
    assert sorted(saved["state"][0]) == sorted(opt_a.state[a[0]])
    for p, q in zip(a, b):
        q.data[...] = p.data
    opt_b = optim.LBFGS(b, lr=0.25)
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["line_search_fn"] == "strong_wolfe"
    closure_b = make_b(opt_b)
    for _ in range(2):
        assert opt_a.step(closure_a).item() == opt_b.step(closure_b).item()
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.data, q.data)


def test_lbfgs_state_of_another_size_is_refused():
    make, params, _ = _lbfgsproblem(wg)
    opt = optim.LBFGS(params, max_iter=3)
    opt.step(make(opt))
    other = optim.LBFGS([wg.ones(5, requires_grad=True), wg.ones(2, requires_grad=True)])
    with pytest.raises(wg.ShapeError, match=r"LBFGS.load_state_dict: state 'd' has shape "
                       r"\(6,\) but the parameters have 7 elements in all"):
        other.load_state_dict(opt.state_dict())


def test_lbfgs_densifies_sparse_gradients(torch_mod):
    # a row-sparse gradient (Embedding(sparse=True)) enters the flat gradient as dense rows
    p = wg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    tp = torch_mod.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    opt = optim.LBFGS([p], max_iter=1)
    topt = torch_mod.optim.LBFGS([tp], max_iter=1)
    values = np.array([[1.0, -2.0], [0.5, 3.0]])

    def closure():
        p.grad = RowSparse([0, 2], values, (3, 2))  # as backward through the embedding
        return wg.tensor(np.float64(1.0))

    def tclosure():
        tp.grad = torch_mod.sparse_coo_tensor(torch_mod.tensor([[0, 2]]),
                                              torch_mod.tensor(values), (3, 2),
                                              check_invariants=True)
        return torch_mod.tensor(1.0)
    opt.step(closure)
    topt.step(tclosure)
    _assert_close(p.data, tp, "sparse LBFGS")


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs, pattern", [
    ("Adamax", {"lr": -1.0}, r"Adamax: invalid lr=-1.0"),
    ("Adamax", {"eps": -1e-8}, r"invalid eps=-1e-08"),
    ("Adamax", {"betas": (1.0, 0.999)}, r"Adamax: invalid betas\[0\]=1.0.*\[0, 1\)"),
    ("Adamax", {"weight_decay": -0.1}, r"invalid weight_decay=-0.1"),
    ("NAdam", {"betas": (0.9, -0.1)}, r"NAdam: invalid betas\[1\]=-0.1"),
    ("NAdam", {"momentum_decay": -1e-3}, r"NAdam: invalid momentum_decay=-0.001"),
    ("RAdam", {"betas": (0.9, 1.0)}, r"RAdam: invalid betas\[1\]=1.0"),
    ("RAdam", {"weight_decay": -1}, r"RAdam: invalid weight_decay=-1"),
    ("Adadelta", {"rho": 1.5}, r"Adadelta: invalid rho=1.5; it must be in \[0, 1\]"),
    ("Adadelta", {"rho": -0.1}, r"invalid rho=-0.1"),
    ("Adadelta", {"eps": -1}, r"Adadelta: invalid eps=-1"),
    ("Rprop", {"lr": -0.1}, r"Rprop: invalid lr=-0.1"),
    ("Rprop", {"etas": (1.0, 1.2)}, r"Rprop: invalid etas=\(1.0, 1.2\).*0 < etaminus < 1 < "
                                    r"etaplus"),
    ("Rprop", {"etas": (0.5, 1.0)}, r"invalid etas=\(0.5, 1.0\)"),
    ("Rprop", {"etas": (0.0, 1.2)}, r"invalid etas=\(0.0, 1.2\)"),
    ("ASGD", {"lr": -0.01}, r"ASGD: invalid lr=-0.01"),
    ("ASGD", {"weight_decay": -1}, r"ASGD: invalid weight_decay=-1"),
    ("LBFGS", {"lr": -1}, r"LBFGS: invalid lr=-1"),
])
def test_invalid_hyperparameters_are_refused_as_torch_refuses_them(torch_mod, name, kwargs,
                                                                   pattern):
    with pytest.raises(ValueError):
        getattr(torch_mod.optim, name)([torch_mod.ones(2, requires_grad=True)], **kwargs)
    with pytest.raises(wg.ArgumentError, match=pattern):
        getattr(optim, name)([wg.ones(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_sparse_gradients_are_refused(name):
    p = wg.zeros(4, 2, requires_grad=True)
    p.grad = RowSparse([1], np.ones((1, 2), np.float32), (4, 2))
    with pytest.raises(wg.DTypeError, match=rf"{name} does not support sparse gradients"):
        getattr(optim, name)([p]).step()


def test_lbfgs_errors(torch_mod):
    w, v = wg.ones(2, requires_grad=True), wg.ones(3, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        torch_mod.optim.LBFGS([{"params": [torch_mod.ones(2, requires_grad=True)]},
                               {"params": [torch_mod.ones(2, requires_grad=True)]}])
    with pytest.raises(wg.ArgumentError, match=r"LBFGS doesn't support per-parameter "
                       r"options \(parameter groups\).*Hint"):
        optim.LBFGS([{"params": [w]}, {"params": [v]}])
    opt = optim.LBFGS([w])
    with pytest.raises(wg.ArgumentError, match="parameter groups"):
        opt.add_param_group({"params": [v]})  # PyTorch fails later, in take_step()
    with pytest.raises(wg.ArgumentError, match=r"line_search_fn='wolfe' is not allowed; use "
                       r"None or 'strong_wolfe'"):
        optim.LBFGS([w], line_search_fn="wolfe")  # PyTorch: a RuntimeError in take_step()
    for kwargs, pattern in (({"history_size": 0}, r"history_size=0"),
                            ({"max_iter": 0}, r"max_iter=0"),
                            ({"max_eval": 0}, r"max_eval=0"),
                            ({"max_iter": 2.5}, r"max_iter=2.5")):
        with pytest.raises(wg.ArgumentError, match=rf"LBFGS: {pattern} must be a positive "
                           r"integer"):
            optim.LBFGS([w], **kwargs)
    with pytest.raises(TypeError):
        opt.step()  # the closure is required, as in PyTorch
