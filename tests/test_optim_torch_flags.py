"""PyTorch's constructor arguments on every optimizer: signatures equal to torch.optim's,
parameter groups with torch's keys, the implementation flags (foreach, capturable, fused)
giving torch's trajectory in every combination torch accepts on CPU, the combinations torch
refuses refused, differentiable=True refused, and Adam(decoupled_weight_decay=True) as
AdamW, step by step against torch in float64."""
import inspect
import itertools

import numpy as np
import pytest

from optim_problem import problem, take_step, to_numpy
import wengert as wg
import wengert.optim as optim
from wengert.sparse import RowSparse

OPTIMIZERS = [name for name in optim.__all__
              if isinstance(getattr(optim, name), type)
              and issubclass(getattr(optim, name), optim.Optimizer)]

# Deliberate differences from torch's signatures, name -> reason. None remain: every
# optimizer takes torch's arguments, in torch's order, with torch's defaults.
SIGNATURE_DIFFERENCES = {}

# the flags each optimizer takes, with the values tried (differentiable has its own test)
FLAG_VALUES = {"foreach": [None, False, True], "capturable": [False, True],
               "fused": [None, False, True]}
WITH_FLAGS = {
    "SGD": ({"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
            ["foreach", "fused"]),
    "Adam": ({"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, ["foreach", "capturable",
                                                                 "fused"]),
    "AdamW": ({"lr": 0.01, "weight_decay": 0.1}, ["foreach", "capturable", "fused"]),
    "RMSprop": ({"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
                ["capturable", "foreach"]),
    "Adagrad": ({"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1}, ["foreach", "fused"]),
}


def _flag_cases():
    for name, (kwargs, flags) in WITH_FLAGS.items():
        for values in itertools.product(*(FLAG_VALUES[f] for f in flags)):
            yield name, kwargs, dict(zip(flags, values))


def _signature(cls):
    return [(p.name, p.kind, p.default)
            for p in inspect.signature(cls.__init__).parameters.values()]


def _side_by_side(torch, name, kwargs, torch_kwargs, steps=20, ours_name=None):
    """wengert's optimizer ``ours_name or name`` (kwargs) and torch's ``name``
    (torch_kwargs) from the same parameters; losses and parameters compared at every step."""
    ours_loss, ours = problem(wg)
    theirs_loss, theirs = problem(torch)
    opt = getattr(optim, ours_name or name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **torch_kwargs)
    for step in range(steps):
        assert take_step(opt, ours_loss) == pytest.approx(take_step(topt, theirs_loss), rel=1e-10)
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.data, to_numpy(tp), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} {kwargs} step {step}")
    return opt, topt


def _assert_same_state(opt, topt):
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert list(ours["state"]) == list(theirs["state"])
    for i, values in ours["state"].items():
        assert list(values) == list(theirs["state"][i])
        for key, value in values.items():
            np.testing.assert_allclose(to_numpy(value), to_numpy(theirs["state"][i][key]),
                                       rtol=1e-10, atol=1e-12, err_msg=key)


# --- signatures and parameter groups ------------------------------------------------------------
def test_every_optimizer_is_checked():
    assert {"Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "SparseAdam", "Adamax",
            "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD", "LBFGS"} <= set(OPTIMIZERS)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_signature_is_torchs(torch_mod, name):
    # names, order, kinds (positional or keyword-only) and defaults (0 == 0.0)
    assert name not in SIGNATURE_DIFFERENCES
    assert _signature(getattr(optim, name)) == _signature(getattr(torch_mod.optim, name))


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "Optimizer"])
def test_param_group_keys_are_torchs(torch_mod, name):
    opt = getattr(optim, name)([wg.zeros(2, requires_grad=True)])
    topt = getattr(torch_mod.optim, name)([torch_mod.zeros(2, requires_grad=True)])
    assert list(opt.param_groups[0]) == list(topt.param_groups[0])
    assert list(opt.state_dict()["param_groups"][0]) == \
        list(topt.state_dict()["param_groups"][0])
    assert list(opt.defaults) == list(topt.defaults)
    for key, value in opt.defaults.items():
        assert value == topt.defaults[key], key


def test_adagrad_state_dict_before_the_first_step_is_torchs(torch_mod):
    # torch's Adagrad fills its state when constructed; a parameter group added later starts
    # empty and is filled at its first step
    p = wg.tensor(np.zeros((2, 3)), requires_grad=True)
    tp = torch_mod.zeros(2, 3, requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.5)
    topt = torch_mod.optim.Adagrad([tp], initial_accumulator_value=0.5)
    _assert_same_state(opt, topt)
    assert opt.state_dict()["state"][0]["step"] == 0
    q, tq = wg.tensor(np.zeros(4), requires_grad=True), torch_mod.zeros(4, requires_grad=True)
    opt.add_param_group({"params": [q], "lr": 0.5})
    topt.add_param_group({"params": [tq], "lr": 0.5})
    _assert_same_state(opt, topt)
    for ours, theirs in ((p, tp), (q, tq)):
        g = np.arange(ours.size, dtype=np.float64).reshape(ours.shape)
        ours.grad, theirs.grad = wg.tensor(g), torch_mod.tensor(g)
    opt.step()
    topt.step()
    _assert_same_state(opt, topt)
    np.testing.assert_allclose(q.data, to_numpy(tq), rtol=1e-12)


def test_adagrad_takes_a_groups_own_initial_accumulator_value():
    # deliberate difference: torch starts every sum at the constructor's value, ignoring a
    # group's own; here each group's sum starts at its value (by hand: s = 0.25 + g^2)
    p = wg.tensor(np.zeros(3), requires_grad=True)
    q = wg.tensor(np.zeros(3), requires_grad=True)
    opt = optim.Adagrad([{"params": [p], "initial_accumulator_value": 0.25}], lr=1.0)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 4.0})
    np.testing.assert_array_equal(opt.state[p]["sum"], [0.25] * 3)
    g = np.array([1.0, 2.0, 3.0])
    p.grad, q.grad = wg.tensor(g), wg.tensor(g)
    opt.step()
    np.testing.assert_allclose(opt.state[p]["sum"], 0.25 + g ** 2, rtol=1e-15)
    np.testing.assert_allclose(opt.state[q]["sum"], 4.0 + g ** 2, rtol=1e-15)
    np.testing.assert_allclose(q.data, -g / (np.sqrt(4.0 + g ** 2) + 1e-10), rtol=1e-14)


# --- Adam(decoupled_weight_decay=True) is AdamW ----------------------------------------------
@pytest.mark.parametrize("kwargs", [{"lr": 0.01, "weight_decay": 0.1},
                                    {"lr": 0.02, "weight_decay": 0.3, "amsgrad": True,
                                     "maximize": True}], ids=str)
def test_adam_decoupled_weight_decay_matches_torch(torch_mod, kwargs):
    kwargs = {**kwargs, "decoupled_weight_decay": True}
    opt, topt = _side_by_side(torch_mod, "Adam", kwargs, kwargs)
    _assert_same_state(opt, topt)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def test_adam_decoupled_weight_decay_is_adamw_exactly():
    # the same values bit for bit, the same state and the same parameter groups
    kwargs = {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}
    loss_a, a = problem(wg)
    loss_w, w = problem(wg)
    adam = optim.Adam(a, decoupled_weight_decay=True, **kwargs)
    adamw = optim.AdamW(w, **kwargs)
    for _ in range(20):
        assert take_step(adam, loss_a) == take_step(adamw, loss_w)
    for p, q in zip(a, w):
        np.testing.assert_array_equal(p.data, q.data)
    ours, theirs = adam.state_dict(), adamw.state_dict()
    assert ours["param_groups"] == theirs["param_groups"]
    for i, values in ours["state"].items():
        assert list(values) == list(theirs["state"][i])
        for key, value in values.items():
            np.testing.assert_array_equal(value, theirs["state"][i][key])


def test_adam_without_decoupling_differs_from_adamw():
    # the flag is read: plain Adam with the same decay takes other steps
    loss_a, a = problem(wg)
    loss_w, w = problem(wg)
    adam, adamw = optim.Adam(a, lr=0.01, weight_decay=0.5), optim.AdamW(w, lr=0.01,
                                                                        weight_decay=0.5)
    for _ in range(3):
        take_step(adam, loss_a)
        take_step(adamw, loss_w)
    assert not np.allclose(a[0].data, w[0].data, rtol=1e-6)


def test_loading_keeps_torchs_decoupling(torch_mod):
    # AdamW keeps decoupled_weight_decay=True even from an Adam's state dict; a group saved
    # without the key (wengert before it took the flag) gets False, as in torch
    p, tp = wg.zeros(2, requires_grad=True), torch_mod.zeros(2, requires_grad=True)
    adamw, tadamw = optim.AdamW([p]), torch_mod.optim.AdamW([tp])
    adamw.load_state_dict(optim.Adam([p]).state_dict())
    tadamw.load_state_dict(torch_mod.optim.Adam([tp]).state_dict())
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    assert tadamw.param_groups[0]["decoupled_weight_decay"] is True

    old = optim.Adam([p]).state_dict()
    del old["param_groups"][0]["decoupled_weight_decay"]
    told = torch_mod.optim.Adam([tp]).state_dict()
    del told["param_groups"][0]["decoupled_weight_decay"]
    adam, tadam = optim.Adam([p], decoupled_weight_decay=True), \
        torch_mod.optim.Adam([tp], decoupled_weight_decay=True)
    adam.load_state_dict(old)
    tadam.load_state_dict(told)
    assert adam.param_groups[0]["decoupled_weight_decay"] is False
    assert tadam.param_groups[0]["decoupled_weight_decay"] is False


# --- the implementation flags ----------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs, flags", list(_flag_cases()), ids=str)
def test_flags_torch_accepts_give_its_trajectory(torch_mod, name, kwargs, flags):
    if flags.get("fused") and flags.get("foreach"):
        # two implementations at once: torch refuses them when constructing, so does wengert
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True`"):
            getattr(torch_mod.optim, name)([torch_mod.zeros(2, requires_grad=True)],
                                           **kwargs, **flags)
        with pytest.raises(wg.ArgumentError, match=rf"{name}: fused=True and foreach=True "
                           r"cannot be combined.*Hint"):
            getattr(optim, name)([wg.zeros(2, requires_grad=True)], **kwargs, **flags)
        return
    torch_flags = dict(flags)
    if flags.get("capturable") and not flags.get("fused"):
        # torch's unfused capturable step refuses CPU tensors; wengert ignores the flag, so
        # its run is torch's without it
        tp = torch_mod.zeros(2, requires_grad=True)
        topt = getattr(torch_mod.optim, name)([tp], **kwargs, **flags)
        tp.grad = torch_mod.ones(2)
        with pytest.raises(AssertionError, match="capturable=True"):
            topt.step()
        del torch_flags["capturable"]
    opt, topt = _side_by_side(torch_mod, name, {**kwargs, **flags}, {**kwargs, **torch_flags})
    _assert_same_state(opt, topt)
    assert opt.state_dict()["param_groups"][0] == \
        {**topt.state_dict()["param_groups"][0], **flags}


def test_rmsprop_positional_arguments_are_torchs(torch_mod):
    # all positional, as torch's: maximize comes after capturable and foreach
    args = (0.01, 0.99, 1e-8, 0, 0.5, True, False, None, True)
    ours_loss, ours = problem(wg)
    theirs_loss, theirs = problem(torch_mod)
    opt, topt = optim.RMSprop(ours, *args), torch_mod.optim.RMSprop(theirs, *args)
    assert opt.param_groups[0] == {**topt.param_groups[0], "params": ours}
    assert opt.param_groups[0]["maximize"] is True
    for _ in range(5):
        assert take_step(opt, ours_loss) == pytest.approx(take_step(topt, theirs_loss), rel=1e-10)


@pytest.mark.parametrize("name", list(WITH_FLAGS) + ["Adamax", "NAdam", "RAdam", "Adadelta",
                                                    "Rprop", "ASGD"])
def test_differentiable_is_refused(torch_mod, name):
    # torch's differentiable step fails on leaf parameters; wengert never records a step
    tp = torch_mod.ones(2, requires_grad=True)
    topt = getattr(torch_mod.optim, name)([tp], differentiable=True)
    tp.grad = torch_mod.ones(2)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        topt.step()
    with pytest.raises(wg.ArgumentError, match=rf"{name}: differentiable=True is not "
                       r"supported.*Hint"):
        getattr(optim, name)([wg.ones(2, requires_grad=True)], differentiable=True)


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_fused_refuses_sparse_gradients_as_torch(torch_mod, name):
    emb = torch_mod.nn.Embedding(5, 3, sparse=True)
    topt = getattr(torch_mod.optim, name)(emb.parameters(), lr=0.1, fused=True)
    emb(torch_mod.tensor([1, 2, 1])).sum().backward()
    with pytest.raises(RuntimeError, match="sparse"):
        topt.step()
    p = wg.zeros(5, 3, requires_grad=True)
    p.grad = RowSparse([1, 2, 1], np.ones((3, 3)), (5, 3))
    with pytest.raises(wg.ArgumentError, match=rf"{name}: fused=True does not take sparse "
                       r"gradients.*Hint"):
        getattr(optim, name)([p], lr=0.1, fused=True).step()
    # fused unset (None or False) takes them, as in torch
    getattr(optim, name)([p], lr=0.1, fused=False).step()
    np.testing.assert_allclose(p.data[0], 0.0)
    assert (p.data[1:3] < 0).all()


# --- loading an older state dict -----------------------------------------------------------------
# values other than the constructor's for the flags torch's __setstate__ fills in
NON_DEFAULT = {"maximize": True, "foreach": True, "capturable": True, "amsgrad": True,
               "centered": True, "momentum": 0.5, "nesterov": True,
               "decoupled_weight_decay": True}


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n != "Optimizer"])
def test_a_group_lacking_a_key_gets_its_constructor_default_as_torchs(torch_mod, name):
    # a state dict saved before the optimizer took a flag: the saved optimizer behaved as
    # the flag's default, whatever the loading optimizer was built with
    params = set(inspect.signature(getattr(torch_mod.optim, name).__init__).parameters)
    flags = {k: v for k, v in NON_DEFAULT.items() if k in params}
    p, tp = wg.zeros(2, requires_grad=True), torch_mod.zeros(2, requires_grad=True)
    opt, topt = getattr(optim, name)([p], **flags), getattr(torch_mod.optim, name)([tp], **flags)
    old, told = getattr(optim, name)([p]).state_dict(), getattr(torch_mod.optim, name)([tp])\
        .state_dict()
    for group in (old["param_groups"][0], told["param_groups"][0]):
        for key in list(group):
            if key not in ("params", "lr"):
                del group[key]
    opt.load_state_dict(old)
    topt.load_state_dict(told)
    ours, theirs = opt.param_groups[0], topt.param_groups[0]
    filled = [k for k in theirs if k not in ("params", "lr")]  # what torch fills in
    if name == "SGD":  # torch's SGD alone fills fused=False, not its default None: both unfused
        assert theirs["fused"] is False and ours["fused"] is None
        filled.remove("fused")
    assert {k: ours[k] for k in filled} == {k: theirs[k] for k in filled}
    # every key is back (torch leaves the others missing, and fails when it steps)
    assert set(ours) == set(opt.defaults) | {"params"}
    if name != "AdamW":  # whose groups always keep decoupled_weight_decay=True
        assert {k: ours[k] for k in flags} == {k: type(opt)([p]).defaults[k] for k in flags}


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_a_group_saved_before_fused_takes_sparse_gradients(name):
    # "fused" is filled in as None, so the sparse step reads it like any other key
    p = wg.zeros(5, 3, requires_grad=True)
    old = getattr(optim, name)([p], lr=0.1).state_dict()
    del old["param_groups"][0]["fused"]
    opt = getattr(optim, name)([p], lr=0.1, fused=True)
    opt.load_state_dict(old)
    assert opt.param_groups[0]["fused"] is None
    p.grad = RowSparse([1, 2, 1], np.ones((3, 3)), (5, 3))
    opt.step()
    np.testing.assert_allclose(p.data[0], 0.0)
    assert (p.data[1:3] < 0).all()
