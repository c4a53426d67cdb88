"""Optimizers against torch.optim (20 steps on the same parameters and gradients, float64),
row-sparse updates that touch only their rows, state-dict round trips, and errors."""
import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.optim as optim
from wengert.sparse import RowSparse

SHAPES = [(3, 4), (5,)]


def _run_against_torch(torch, ours_cls, theirs_cls, kwargs, steps=20, groups=False):
    rng = np.random.default_rng(0)
    init = [rng.normal(size=s) for s in SHAPES]
    ours = [wg.tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    if groups:  # a second group with its own learning rate
        lr = kwargs.get("lr", 0.01) * 3
        opt = ours_cls([{"params": ours[:1]}, {"params": ours[1:], "lr": lr}], **kwargs)
        topt = theirs_cls([{"params": theirs[:1]}, {"params": theirs[1:], "lr": lr}], **kwargs)
    else:
        opt, topt = ours_cls(ours, **kwargs), theirs_cls(theirs, **kwargs)
    for step in range(steps):
        for p, tp in zip(ours, theirs):
            g = rng.normal(size=p.shape)
            p.grad, tp.grad = wg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-6, atol=1e-12,
                                       err_msg=f"step {step}")
    return ours, theirs


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.1,
             "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.05, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5,
                 "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                 "initial_accumulator_value": 0.1, "eps": 1e-8}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=lambda v: str(v))
def test_optimizer_matches_torch_for_20_steps(torch_mod, name, kwargs):
    _run_against_torch(torch_mod, getattr(optim, name), getattr(torch_mod.optim, name), kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_param_groups_match_torch(torch_mod, name):
    _run_against_torch(torch_mod, getattr(optim, name), getattr(torch_mod.optim, name),
                       {"lr": 0.01}, steps=5, groups=True)


# --- sparse gradients -------------------------------------------------------------------------
def _sparse_pair(torch, rng, rows):
    values = rng.normal(size=(len(rows), 3))
    ours = RowSparse(rows, values, (8, 3))
    theirs = torch.sparse_coo_tensor(torch.as_tensor(np.array(rows))[None],
                                     torch.tensor(values), (8, 3), check_invariants=True)
    return ours, theirs


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # raised inside torch's Adagrad
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"lr": 0.1}), ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("SparseAdam", {"lr": 0.01}), ("SparseAdam", {"lr": 0.01, "betas": (0.8, 0.9),
                                                 "maximize": True})])
def test_sparse_updates_match_torch_and_touch_only_their_rows(torch_mod, rng, name, kwargs):
    init = rng.normal(size=(8, 3))
    p, tp = wg.tensor(init.copy(), requires_grad=True), torch_mod.tensor(init.copy(),
                                                                         requires_grad=True)
    opt, topt = getattr(optim, name)([p], **kwargs), getattr(torch_mod.optim, name)([tp], **kwargs)
    for rows in ([1, 4, 1], [4, 6], [0, 1, 1, 6]):  # repeated rows add up
        before = p.data.copy()
        p.grad, tp.grad = _sparse_pair(torch_mod, rng, rows)
        opt.step()
        topt.step()
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-6, atol=1e-12)
        untouched = np.setdiff1d(np.arange(8), rows)
        assert np.array_equal(p.data[untouched], before[untouched])  # bit-identical


def test_sparse_embedding_training_step_leaves_other_rows_alone():
    emb = nn.Embedding(50, 4, sparse=True, dtype="float64")
    opt = optim.SparseAdam(emb.parameters(), lr=0.1)
    before = emb.weight.data.copy()
    idx = np.array([[3, 9], [9, 17]])
    (emb(idx) ** 2).sum().backward()
    opt.step()
    changed = np.flatnonzero((emb.weight.data != before).any(axis=1))
    assert changed.tolist() == [3, 9, 17]


def test_sparse_gradient_errors():
    p = wg.zeros(4, 2, requires_grad=True)
    p.grad = RowSparse([1], np.ones((1, 2), np.float32), (4, 2))
    with pytest.raises(TypeError, match="Adam does not support sparse gradients.*SparseAdam"):
        optim.Adam([p]).step()
    with pytest.raises(ValueError, match="momentum=0 and weight_decay=0"):
        optim.SGD([p], lr=0.1, momentum=0.9).step()
    with pytest.raises(ValueError, match="Adagrad: a sparse gradient.*weight_decay=0"):
        optim.Adagrad([p], weight_decay=0.1).step()
    p.grad = wg.ones(4, 2)
    with pytest.raises(TypeError, match="SparseAdam takes sparse gradients only.*optim.Adam"):
        optim.SparseAdam([p]).step()


# --- state dicts ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}),
                                          ("Adam", {"lr": 0.01, "amsgrad": True}),
                                          ("RMSprop", {"centered": True, "momentum": 0.5}),
                                          ("Adagrad", {})])
def test_state_dict_round_trip_continues_identically(name, kwargs):
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=(4, 3)) for _ in range(10)]
    a = wg.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    opt_a = getattr(optim, name)([a], **kwargs)
    for g in grads[:5]:
        a.grad = wg.tensor(g)
        opt_a.step()
    saved = opt_a.state_dict()
    assert saved["param_groups"][0]["params"] == [0] and 0 in saved["state"]
    b = wg.tensor(a.data.copy(), requires_grad=True)
    opt_b = getattr(optim, name)([b], lr=123.0)  # hyperparameters come from the state dict
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"]
    for g in grads[5:]:
        a.grad, b.grad = wg.tensor(g), wg.tensor(g)
        opt_a.step()
        opt_b.step()
    np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_is_a_snapshot():
    p = wg.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = wg.ones(2)
    opt.step()
    saved = opt.state_dict()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], [1, 1])


def test_load_state_dict_errors():
    p, q = wg.ones(2, requires_grad=True), wg.ones(3, requires_grad=True)
    opt = optim.SGD([p, q], lr=0.1, momentum=0.9)
    p.grad, q.grad = wg.ones(2), wg.ones(3)
    opt.step()
    with pytest.raises(KeyError, match=r"groups of sizes \[2\], the optimizer \[1\]"):
        optim.SGD([p], lr=0.1).load_state_dict(opt.state_dict())
    with pytest.raises(wg.ShapeError, match=r"'momentum_buffer' has shape \(2,\).*\(3,\)"):
        optim.SGD([q, p], lr=0.1).load_state_dict(opt.state_dict())
    edited = opt.state_dict()
    edited["state"][5] = edited["state"].pop(1)  # numbered past the two parameters
    with pytest.raises(KeyError, match="state for parameter 5, but the optimizer has 2"):
        optim.SGD([p, q], lr=0.1).load_state_dict(edited)


# --- the step itself --------------------------------------------------------------------------
def test_step_is_in_place_and_invalidates_saved_graphs():
    p = wg.tensor([1.0, 2.0], requires_grad=True)
    data = p.data
    loss = (p * p).sum()
    p.grad = wg.ones(2)
    optim.SGD([p], lr=0.5).step()
    assert p.data is data
    np.testing.assert_array_equal(p.data, [0.5, 1.5])
    with pytest.raises(wg.GraphError, match="modified in place"):
        loss.backward()


def test_params_without_grad_are_skipped_and_closure_returns_loss():
    p, q = wg.tensor([1.0], requires_grad=True), wg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * 3).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 3.0
    assert p.data[0] == pytest.approx(0.9) and q.data[0] == 1.0


def test_zero_grad():
    p = wg.ones(2, requires_grad=True)
    opt = optim.SGD([p])
    p.grad = wg.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, [0, 0])
    opt.zero_grad()
    assert p.grad is None


# --- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, names", [
    (lambda ps: optim.SGD(ps, lr=-0.1), "lr=-0.1"),
    (lambda ps: optim.SGD(ps, momentum=-0.5), "momentum=-0.5"),
    (lambda ps: optim.SGD(ps, weight_decay=-1), "weight_decay=-1"),
    (lambda ps: optim.SGD(ps, nesterov=True), "nesterov=True needs momentum > 0"),
    (lambda ps: optim.SGD(ps, momentum=0.9, dampening=0.1, nesterov=True), "dampening = 0"),
    (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), r"betas\[0\]=1.0"),
    (lambda ps: optim.AdamW(ps, betas=(0.9, -0.1)), r"AdamW: invalid betas\[1\]=-0.1"),
    (lambda ps: optim.Adam(ps, eps=-1e-8), "eps=-1e-08"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.9), "alpha=-0.9"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-1), "lr_decay=-1"),
    (lambda ps: optim.SparseAdam(ps, lr=-1), "SparseAdam: invalid lr=-1"),
    (lambda ps: optim.SparseAdam(ps, lr=0), "SparseAdam: invalid lr=0"),   # PyTorch refuses
    (lambda ps: optim.SparseAdam(ps, eps=0), "SparseAdam: .* eps=0"),       # 0 here too
])
def test_invalid_hyperparameters_are_named(make, names):
    with pytest.raises(ValueError, match=names) as info:
        make([wg.ones(2, requires_grad=True)])
    assert isinstance(info.value, wg.WengertError)


def test_parameter_list_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    p = wg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p])
    with pytest.raises(TypeError, match="only optimize Tensors, got a ndarray"):
        optim.SGD([np.ones(2)])


def test_non_leaf_and_unordered_parameters_are_refused(torch_mod):
    # A non-leaf never gets a .grad, so an optimizer over one silently did nothing; a set
    # numbers its parameters in a different order each run. PyTorch refuses both (a set as
    # a group's params).
    w = wg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        torch_mod.optim.SGD([torch_mod.ones(2, requires_grad=True) * 2], lr=0.1)
    with pytest.raises(wg.ArgumentError, match=r"can't optimize a non-leaf tensor \(shape "
                       r"\(2,\), made by 'multiply'\).*Hint"):
        optim.Adam([w * 2])
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(wg.ArgumentError, match="non-leaf"):
        opt.add_param_group({"params": [wg.ones(3, requires_grad=True) + 1]})
    with pytest.raises(TypeError, match="sets"):
        torch_mod.optim.SGD([{"params": {torch_mod.ones(2, requires_grad=True)}}], lr=0.1)
    for make in (lambda: optim.SGD({w}), lambda: opt.add_param_group({"params": {w}})):
        with pytest.raises(wg.ArgumentError, match="in a set have no fixed order.*list"):
            make()
    with wg.no_grad():  # made without recording: a leaf
        frozen_copy = w * 2
    kept = w * 3
    kept.retain_grad()  # a retained non-leaf gets a .grad, so PyTorch allows it too
    opt = optim.SGD([frozen_copy.requires_grad_(), kept], lr=0.5)
    (kept * kept).sum().backward()
    opt.step()
    np.testing.assert_allclose(kept.data, 3 - 0.5 * 2 * 3)
