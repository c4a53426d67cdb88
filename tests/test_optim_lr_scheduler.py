"""Learning-rate schedules against torch.optim.lr_scheduler, the Robbins-Monro schedule by
its formula, and scheduler state dicts."""
import math

import numpy as np
import pytest

import wengert as wg
import wengert.optim as optim
from wengert.optim import lr_scheduler


def _lrs(make, opt, steps=25):
    sched = make(opt)
    out = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out


def _two_groups(module):
    a, b = module.ones(2, requires_grad=True), module.ones(2, requires_grad=True)
    return [{"params": [a]}, {"params": [b], "lr": 0.5}]


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.01}),
    ("CosineAnnealingLR", {"T_max": 7}),
])
def test_schedules_match_torch(torch_mod, name, kwargs):
    ours = _lrs(lambda o: getattr(lr_scheduler, name)(o, **kwargs),
                optim.SGD(_two_groups(wg), lr=0.1))
    theirs = _lrs(lambda o: getattr(torch_mod.optim.lr_scheduler, name)(o, **kwargs),
                  torch_mod.optim.SGD(_two_groups(torch_mod), lr=0.1))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_lambda_lr_matches_torch(torch_mod):
    fns = [lambda t: 0.95 ** t, lambda t: 1 / (1 + t)]
    ours = _lrs(lambda o: lr_scheduler.LambdaLR(o, fns), optim.SGD(_two_groups(wg), lr=0.1))
    theirs = _lrs(lambda o: torch_mod.optim.lr_scheduler.LambdaLR(o, fns),
                  torch_mod.optim.SGD(_two_groups(torch_mod), lr=0.1))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_robbins_monro_schedule():
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=0.4)
    sched = lr_scheduler.RobbinsMonroLR(opt, tau0=10)
    seen = [opt.param_groups[0]["lr"]]
    for _ in range(30):
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(seen, [0.4 / (1 + t / 10) for t in range(31)], rtol=1e-15)
    assert seen[10] == pytest.approx(0.2)  # halved at t = tau0
    doc = lr_scheduler.RobbinsMonroLR.__doc__
    assert "sum_t eps_t = infinity" in doc and "sum_t eps_t^2 < infinity" in doc


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(5):
        sched.step()
    saved = sched.state_dict()
    assert saved["last_epoch"] == 5 and "optimizer" not in saved
    opt2 = optim.SGD([wg.ones(1, requires_grad=True)], lr=1.0)
    sched2 = lr_scheduler.StepLR(opt2, step_size=3, gamma=0.5)
    sched2.load_state_dict(saved)
    sched.step()
    sched2.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_lambda_lr_state_dict_leaves_out_functions():
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=1.0)
    saved = lr_scheduler.LambdaLR(opt, lambda t: 1.0).state_dict()
    assert "lr_lambdas" not in saved and not any(callable(v) for v in saved.values())


def test_scheduler_argument_errors():
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=1.0)
    with pytest.raises(ValueError, match="step_size=0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max=0"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="tau0=-1"):
        lr_scheduler.RobbinsMonroLR(opt, tau0=-1)
    with pytest.raises(ValueError, match="2 lr_lambdas for 1 parameter groups"):
        lr_scheduler.LambdaLR(opt, [math.exp, math.exp])


# --- the schedules PyTorch has beside the ones above, each run against torch's -------------
# Every test steps wengert's scheduler and torch's side by side over the same parameter
# groups (lr 0.1 and 0.5, or the rates a schedule sets itself) and compares the rates each
# step sets: get_last_lr(), the groups' "lr", their momentum (SGD) or beta1 (Adam) and
# last_epoch.

def _momentum(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def _run(sched, opt, steps, step=lambda s, i: s.step()):
    """Step ``sched`` ``steps`` times (``step(sched, i)``) and record what it set."""
    rec = {"last_lr": [], "lr": [], "momentum": [], "last_epoch": []}

    def record():
        rec["last_lr"].append(list(sched.get_last_lr()))
        rec["lr"].append([g["lr"] for g in opt.param_groups])
        rec["momentum"].append([_momentum(g) for g in opt.param_groups])
        rec["last_epoch"].append(getattr(sched, "last_epoch", None))

    record()
    for i in range(steps):
        opt.step()
        step(sched, i)
        record()
    return rec


def _assert_same(ours, theirs):
    assert ours["last_epoch"] == theirs["last_epoch"]
    for key in ("last_lr", "lr", "momentum"):
        a, b = np.array(ours[key], dtype=float), np.array(theirs[key], dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=key)


def _side_by_side(torch_mod, make, steps=25, optimizer="SGD", step=lambda s, i: s.step(),
                  **opt_kwargs):
    """``make(lr_scheduler_module, optimizer)`` builds the same schedule in both libraries."""
    opt_kwargs = {"lr": 0.1, **opt_kwargs}
    ours_opt = getattr(optim, optimizer)(_two_groups(wg), **opt_kwargs)
    theirs_opt = getattr(torch_mod.optim, optimizer)(_two_groups(torch_mod), **opt_kwargs)
    ours = _run(make(lr_scheduler, ours_opt), ours_opt, steps, step)
    theirs = _run(make(torch_mod.optim.lr_scheduler, theirs_opt), theirs_opt, steps, step)
    _assert_same(ours, theirs)
    return ours


@pytest.mark.parametrize("name, kwargs", [
    ("MultiStepLR", {"milestones": [3, 7, 7, 12], "gamma": 0.5}),  # 7 twice: gamma**2 there
    ("MultiStepLR", {"milestones": [12, 2]}),
    ("ConstantLR", {}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 4}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 6}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 10}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 8, "power": 2.0}),
    ("PolynomialLR", {"total_iters": 12, "power": 0.5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.01}),
])
def test_new_schedules_match_torch(torch_mod, name, kwargs):
    ours = _side_by_side(torch_mod, lambda m, o: getattr(m, name)(o, **kwargs))
    assert len({tuple(r) for r in ours["lr"]}) > 1  # the rate really moves


def test_multiplicative_lr_matches_torch(torch_mod):
    fns = [lambda t: 0.9, lambda t: 1 - 0.02 * t]
    _side_by_side(torch_mod, lambda m, o: m.MultiplicativeLR(o, fns))
    _side_by_side(torch_mod, lambda m, o: m.MultiplicativeLR(o, lambda t: 0.95 if t % 3 else
                                                                1.1))


def test_multiplicative_lr_by_hand():
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=2.0)
    sched = lr_scheduler.MultiplicativeLR(opt, lambda t: 1 / t)
    for _ in range(4):
        sched.step()
    assert sched.get_last_lr() == [pytest.approx(2.0 / 24)]  # 2 / (1 * 2 * 3 * 4)


def test_warm_restarts_fractional_epochs_match_torch(torch_mod):
    # per batch (epoch + i / 4), then a jump ahead, plain steps from there, and a jump back
    epochs = [e + i / 4 for e in range(12) for i in range(4)] + [26.3, None, None, 2.0, None]

    def step(sched, i):
        sched.step(epochs[i]) if epochs[i] is not None else sched.step()

    for kwargs in ({"T_0": 3, "T_mult": 2, "eta_min": 0.001}, {"T_0": 4}):
        _side_by_side(torch_mod, lambda m, o: m.CosineAnnealingWarmRestarts(o, **kwargs),
                      steps=len(epochs), step=step)


def test_warm_restarts_epoch_on_a_restart(torch_mod):
    """With T_0=1, T_mult=3 the periods start at 0, 1, 4, 13, 40, 121: step(121) restarts
    at the base rate, as 121 plain steps do. (torch's step(121) takes the period from a
    float logarithm, log3(243) = 4.999..., and gives eta_min there: wengert differs.)"""
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=0.5)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=3, eta_min=0.1)
    sched.step(121)
    assert (sched.T_cur, sched.T_i, sched.get_last_lr()) == (0, 243, [0.5])
    sched.step(121.5)
    assert sched.get_last_lr() == [pytest.approx(0.1 + 0.4 * (1 + math.cos(math.pi * 0.5 /
                                                                            243)) / 2)]
    topt = torch_mod.optim.SGD([torch_mod.ones(1, requires_grad=True)], lr=0.5)
    theirs = torch_mod.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=1, T_mult=3,
                                                                      eta_min=0.1)
    for _ in range(121):
        topt.step()
        theirs.step()
    assert theirs.get_last_lr() == [0.5]


@pytest.mark.parametrize("kwargs", [
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4},
    {"base_lr": [0.01, 0.05], "max_lr": [0.1, 0.4], "step_size_up": 3, "step_size_down": 5,
     "mode": "triangular2", "base_momentum": [0.8, 0.7], "max_momentum": 0.95},
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "step_size_down": 3,
     "mode": "exp_range", "gamma": 0.9},
    {"base_lr": 0.02, "max_lr": 0.2, "step_size_up": 5, "step_size_down": 0},  # sawtooth
    {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "cycle_momentum": False},
])
@pytest.mark.parametrize("optimizer, opt_kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {})])
def test_cyclic_lr_matches_torch(torch_mod, kwargs, optimizer, opt_kwargs):
    _side_by_side(torch_mod, lambda m, o: m.CyclicLR(o, **kwargs), optimizer=optimizer,
                  **opt_kwargs)


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_cyclic_lr_scale_fn_matches_torch(torch_mod, scale_mode):
    _side_by_side(torch_mod, lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                      scale_fn=lambda x: 1 / (1 + 0.1 * x),
                                                      scale_mode=scale_mode, mode="ignored"),
                  momentum=0.5)


@pytest.mark.parametrize("kwargs", [
    {"max_lr": 0.1, "total_steps": 25},
    {"max_lr": [0.1, 0.3], "epochs": 5, "steps_per_epoch": 5, "anneal_strategy": "linear"},
    {"max_lr": 0.1, "total_steps": 25, "three_phase": True, "pct_start": 0.25},
    {"max_lr": 0.1, "total_steps": 25, "three_phase": True, "anneal_strategy": "linear",
     "div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": [0.8, 0.7]},
    {"max_lr": 0.1, "total_steps": 25, "cycle_momentum": False},
])
@pytest.mark.parametrize("optimizer, opt_kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {})])
def test_one_cycle_lr_matches_torch(torch_mod, kwargs, optimizer, opt_kwargs):
    # 25 steps is the whole cycle: step() may be called total_steps times
    _side_by_side(torch_mod, lambda m, o: m.OneCycleLR(o, **kwargs), optimizer=optimizer,
                  **opt_kwargs)


def test_one_cycle_lr_refuses_to_step_past_total_steps(torch_mod):
    ours_opt = optim.SGD(_two_groups(wg), lr=0.1, momentum=0.9)
    ours = lr_scheduler.OneCycleLR(ours_opt, max_lr=0.1, total_steps=4)
    theirs_opt = torch_mod.optim.SGD(_two_groups(torch_mod), lr=0.1, momentum=0.9)
    theirs = torch_mod.optim.lr_scheduler.OneCycleLR(theirs_opt, max_lr=0.1, total_steps=4)
    for _ in range(4):
        ours.step()
        theirs_opt.step()
        theirs.step()
    with pytest.raises(ValueError, match="Tried to step 5 times"):
        theirs.step()
    lrs = ours.get_last_lr()
    with pytest.raises(wg.ArgumentError, match=r"OneCycleLR: step 5 is past total_steps=4"):
        ours.step()
    assert ours.last_epoch == 4 and ours.get_last_lr() == lrs  # nothing changed


def _plateau_metrics():
    # improves, stalls (patience runs out twice), improves by less than the threshold,
    # then falls steadily; the rates reach min_lr and reductions smaller than eps stop
    return [1.0, 0.9, 0.9, 0.9, 0.9, 0.95, 0.9, 0.85, 0.8499, 0.8499, 0.8499, 0.8499, 0.84,
            0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83, 0.83,
            0.83, 0.83, 0.83, 0.83]


@pytest.mark.parametrize("kwargs", [
    {"patience": 2},
    {"patience": 1, "cooldown": 2, "factor": 0.5, "min_lr": [0.01, 0.02]},
    {"patience": 0, "threshold": 0.05, "threshold_mode": "abs", "min_lr": 0.03},
    {"mode": "max", "patience": 1, "factor": 0.5},
    {"mode": "max", "patience": 2, "threshold_mode": "abs", "threshold": 0.01},
    {"patience": 0, "factor": 0.9, "eps": 0.01},  # a reduction under eps is skipped
])
def test_reduce_lr_on_plateau_matches_torch(torch_mod, kwargs):
    metrics = _plateau_metrics()
    if kwargs.get("mode") == "max":
        metrics = [2.0 - m for m in metrics]  # an accuracy: rises, then stalls
    state = []

    def step(sched, i):
        value = metrics[i]
        if i % 2:  # every other epoch as a one-element tensor
            value = wg.tensor(value, dtype="float64") if isinstance(
                sched, lr_scheduler.ReduceLROnPlateau) else torch_mod.tensor(value)
        sched.step(value)
        state.append((sched.best, sched.num_bad_epochs, sched.cooldown_counter))

    ours = _side_by_side(torch_mod, lambda m, o: m.ReduceLROnPlateau(o, **kwargs),
                         steps=len(metrics), step=step)
    n = len(metrics)
    assert state[:n] == state[n:]  # wengert's counters, then torch's
    assert len({tuple(r) for r in ours["lr"]}) > 2


def test_reduce_lr_on_plateau_by_hand():
    opt = optim.SGD(_two_groups(wg), lr=1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5, min_lr=[0.3, 0.1])
    for loss in [3.0, 3.0, 3.0]:  # a baseline, then 2 epochs without improvement > patience
        sched.step(loss)
    assert sched.get_last_lr() == [0.5, 0.25]
    for loss in [3.0, 3.0]:
        sched.step(loss)
    assert sched.get_last_lr() == [0.3, 0.125]  # group 0 stops at its min_lr
    assert sched.last_epoch == 5 and sched.best == 3.0


@pytest.mark.parametrize("make, milestones", [
    (lambda m, o: [m.LinearLR(o, start_factor=0.1, total_iters=4),
                   m.CosineAnnealingLR(o, T_max=10, eta_min=0.01)], [4]),
    (lambda m, o: [m.ConstantLR(o, factor=0.5, total_iters=10), m.ExponentialLR(o, 0.9),
                   m.MultiStepLR(o, [2, 5], gamma=0.5)], [3, 8]),
    (lambda m, o: [m.LinearLR(o, start_factor=0.2, total_iters=3),
                   m.CyclicLR(o, 0.01, 0.1, step_size_up=3),
                   m.CosineAnnealingWarmRestarts(o, T_0=4)], [5, 12]),
    (lambda m, o: [m.LambdaLR(o, lambda t: 1 / (1 + t)), m.PolynomialLR(o, 6, 2.0)], [7]),
])
def test_sequential_lr_matches_torch(torch_mod, make, milestones):
    _side_by_side(torch_mod, lambda m, o: m.SequentialLR(o, make(m, o), milestones),
                  momentum=0.9)


@pytest.mark.parametrize("make", [
    lambda m, o: [m.ConstantLR(o, factor=0.5, total_iters=3), m.ExponentialLR(o, 0.9)],
    lambda m, o: [m.LinearLR(o, start_factor=0.1, total_iters=5), m.StepLR(o, 4, 0.5),
                  m.MultiStepLR(o, [9, 15], 0.3), m.PolynomialLR(o, 20, 1.5)],
    lambda m, o: [m.MultiplicativeLR(o, lambda t: 0.97), m.ConstantLR(o, 0.2, 6)],
    # cosine with eta_min > 0 moves the rate around eta_min; T_max=6 passes its troughs
    lambda m, o: [m.LinearLR(o, start_factor=0.5, total_iters=4),
                  m.CosineAnnealingLR(o, T_max=6, eta_min=0.01), m.ExponentialLR(o, 0.98)],
    lambda m, o: [m.CosineAnnealingLR(o, T_max=6, eta_min=0.02), m.StepLR(o, 5, 0.5)],
    # a schedule that sets the rate outright wipes out the ones before it, not after
    lambda m, o: [m.ExponentialLR(o, 0.9), m.LambdaLR(o, lambda t: 1 / (1 + t)),
                  m.StepLR(o, 3, 0.5)],
    lambda m, o: [m.CyclicLR(o, 0.01, 0.1, step_size_up=4), m.ExponentialLR(o, 0.9)],
])
def test_chained_scheduler_matches_torch(torch_mod, make):
    _side_by_side(torch_mod, lambda m, o: m.ChainedScheduler(make(m, o)), momentum=0.9)


def test_chained_scheduler_is_the_product_of_factors():
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=2.0)
    sched = lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, 0.5, total_iters=2),
                                           lr_scheduler.ExponentialLR(opt, 0.9)])
    seen = [sched.get_last_lr()[0]]
    for _ in range(4):
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    want = [2.0 * (0.5 if t < 2 else 1.0) * 0.9 ** t for t in range(5)]
    np.testing.assert_allclose(seen, want, rtol=1e-15)


def _state_round_trip_cases():
    sgd = {"lr": 0.1, "momentum": 0.9}
    return [
        ("MultiStepLR", sgd, lambda m, o: m.MultiStepLR(o, [3, 7, 7])),
        ("ConstantLR", sgd, lambda m, o: m.ConstantLR(o, 0.2, 9)),
        ("LinearLR", sgd, lambda m, o: m.LinearLR(o, 0.1, 1.0, 9)),
        ("PolynomialLR", sgd, lambda m, o: m.PolynomialLR(o, 12, 2.0)),
        ("MultiplicativeLR", sgd, lambda m, o: m.MultiplicativeLR(o, lambda t: 0.9)),
        ("WarmRestarts", sgd, lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, 2)),
        ("CyclicLR", sgd, lambda m, o: m.CyclicLR(o, 0.01, 0.1, 3, mode="triangular2")),
        ("CyclicLR-scale_fn", {"lr": 0.1}, lambda m, o: m.CyclicLR(
            o, 0.01, 0.1, 3, scale_fn=lambda x: 0.8 ** x, cycle_momentum=False)),
        ("OneCycleLR", sgd, lambda m, o: m.OneCycleLR(o, 0.1, total_steps=20)),
        ("ReduceLROnPlateau", sgd, lambda m, o: m.ReduceLROnPlateau(o, patience=1,
                                                                    cooldown=1)),
        ("SequentialLR", sgd, lambda m, o: m.SequentialLR(
            o, [m.LinearLR(o, 0.1, total_iters=4), m.CosineAnnealingWarmRestarts(o, 3)], [5])),
        ("ChainedScheduler", sgd, lambda m, o: m.ChainedScheduler(
            [m.LinearLR(o, 0.1, total_iters=4), m.CosineAnnealingLR(o, 5, eta_min=0.01)])),
    ]


@pytest.mark.parametrize("name, opt_kwargs, make", _state_round_trip_cases(),
                         ids=[c[0] for c in _state_round_trip_cases()])
def test_state_dict_round_trip_resumes_the_same_rates(tmp_path, name, opt_kwargs, make):
    """Stop after 6 steps, save optimizer and scheduler state through a checkpoint-format
    file, build both afresh, load, and continue: the rates equal an uninterrupted run's."""
    from wengert.train.state_file import load_state, save_state
    metrics = _plateau_metrics()

    def step(sched, i):
        sched.step(metrics[i]) if name == "ReduceLROnPlateau" else sched.step()

    opt = optim.SGD(_two_groups(wg), **opt_kwargs)
    straight = _run(make(lr_scheduler, opt), opt, 16, step)
    opt = optim.SGD(_two_groups(wg), **opt_kwargs)
    sched = make(lr_scheduler, opt)
    _run(sched, opt, 6, step)
    save_state(tmp_path / "s.safetensors", {"optimizer": opt.state_dict(),
                                            "scheduler": sched.state_dict()})
    saved = load_state(tmp_path / "s.safetensors")
    opt = optim.SGD(_two_groups(wg), **opt_kwargs)
    sched = make(lr_scheduler, opt)
    opt.load_state_dict(saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    resumed = _run(sched, opt, 10, lambda s, i: step(s, i + 6))
    for key in straight:
        assert resumed[key] == straight[key][6:], key


def test_cyclic_lr_starts_at_base_lr_after_another_scheduler(torch_mod):
    """A deliberate difference: torch's CyclicLR takes its first rate from the groups'
    initial_lr, which a scheduler built before it has set to the optimizer's lr (here
    0.1); wengert's starts the cycle at base_lr, as it does on a fresh optimizer."""
    opt = optim.SGD(_two_groups(wg), lr=0.1, momentum=0.9)
    lr_scheduler.ExponentialLR(opt, 0.9)
    assert lr_scheduler.CyclicLR(opt, 0.01, 0.1, 4).get_last_lr() == [0.01, 0.01]
    topt = torch_mod.optim.SGD(_two_groups(torch_mod), lr=0.1, momentum=0.9)
    torch_mod.optim.lr_scheduler.ExponentialLR(topt, 0.9)
    assert torch_mod.optim.lr_scheduler.CyclicLR(topt, 0.01, 0.1, 4).get_last_lr() == [0.1,
                                                                                        0.5]


def test_constant_lr_with_factor_zero():
    # torch divides by the factor when the constant phase ends (ZeroDivisionError)
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=0.3)
    sched = lr_scheduler.ConstantLR(opt, factor=0.0, total_iters=2)
    seen = [sched.get_last_lr()[0]]
    for _ in range(3):
        sched.step()
        seen.append(sched.get_last_lr()[0])
    assert seen == [0.0, 0.0, 0.3, 0.3]


def _sgd(lr=0.1, groups=1):
    return optim.SGD([{"params": [wg.ones(1, requires_grad=True)]} for _ in range(groups)],
                     lr=lr)


@pytest.mark.parametrize("make, kind, pattern", [
    (lambda o: lr_scheduler.StepLR("sgd", 3), TypeError, r"StepLR: str is not an Optimizer"),
    (lambda o: lr_scheduler.MultiStepLR(o, [2, 4.5]), wg.ArgumentError,
     r"MultiStepLR: milestones must be integers \(step counts\), got 4.5"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), wg.ArgumentError,
     r"ConstantLR: factor=1.5 must be in \[0, 1\]"),
    (lambda o: lr_scheduler.ConstantLR(o, total_iters=0), wg.ArgumentError,
     r"ConstantLR: total_iters=0 must be a positive integer"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0), wg.ArgumentError,
     r"LinearLR: start_factor=0 must be in \(0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=-0.5), wg.ArgumentError,
     r"LinearLR: end_factor=-0.5 must be in \[0, 1\]"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=2.5), wg.ArgumentError,
     r"PolynomialLR: total_iters=2.5 must be a positive integer"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, [math.exp] * 3), wg.ArgumentError,
     r"MultiplicativeLR: 3 lr_lambdas for 1 parameter groups"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, 0.9), TypeError,
     r"MultiplicativeLR: lr_lambda must be a function of the step t, got a float"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), wg.ArgumentError,
     r"CosineAnnealingWarmRestarts: T_0=0 must be a positive integer"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
     wg.ArgumentError, r"T_mult=1.5 must be a positive integer"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), wg.ArgumentError,
     r"eta_min='0' must be a number"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 2).step(-1), wg.ArgumentError,
     r"CosineAnnealingWarmRestarts: step\(epoch=-1\); the epoch must be >= 0"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, mode="triangle"), wg.ArgumentError,
     r"CyclicLR: unknown mode 'triangle'; use 'triangular', 'triangular2' or 'exp_range'"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, scale_fn=abs, scale_mode="epoch"),
     wg.ArgumentError, r"CyclicLR: unknown scale_mode 'epoch'"),
    (lambda o: lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=0), wg.ArgumentError,
     r"CyclicLR: step_size_up=0 must be > 0"),
    (lambda o: lr_scheduler.CyclicLR(o, [0.01, 0.02], 0.1), wg.ArgumentError,
     r"CyclicLR: 2 base_lrs for 1 parameter groups"),
    (lambda o: lr_scheduler.CyclicLR(optim.Adagrad([wg.ones(1, requires_grad=True)]), 0.01,
                                     0.1), wg.ArgumentError,
     r"CyclicLR: cycle_momentum=True, but Adagrad has neither momentum nor betas to cycle\. "
     r"Hint: pass cycle_momentum=False"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), wg.ArgumentError,
     r"OneCycleLR: give total_steps, or both epochs and steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=5),
     wg.ArgumentError, r"OneCycleLR: epochs=0 must be a positive integer"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, pct_start=1.5), wg.ArgumentError,
     r"OneCycleLR: pct_start=1.5 must be a fraction in \[0, 1\]"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 10, anneal_strategy="cosine"),
     wg.ArgumentError, r"OneCycleLR: unknown anneal_strategy 'cosine'; use 'cos' or 'linear'"),
    (lambda o: lr_scheduler.OneCycleLR(optim.Adagrad([wg.ones(1, requires_grad=True)]), 0.1,
                                       10), wg.ArgumentError,
     r"OneCycleLR: cycle_momentum=True, but Adagrad has neither momentum nor betas"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), wg.ArgumentError,
     r"ReduceLROnPlateau: factor=1.0 must be < 1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="minimum"), wg.ArgumentError,
     r"ReduceLROnPlateau: unknown mode 'minimum'; use 'min' \(a loss\) or 'max'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="relative"),
     wg.ArgumentError, r"ReduceLROnPlateau: unknown threshold_mode 'relative'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), wg.ArgumentError,
     r"ReduceLROnPlateau: 2 min_lrs for 1 parameter groups"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(None), TypeError,
     r"ReduceLROnPlateau: NoneType is not an Optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), wg.ArgumentError,
     r"SequentialLR needs at least one scheduler, got none"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)] * 2, []),
     wg.ArgumentError, r"SequentialLR: 2 schedulers need 1 milestones .*got 0"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ExponentialLR(o, 0.9)] * 3, [5, 5]),
     wg.ArgumentError, r"SequentialLR: milestones \[5, 5\] must increase"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], []),
     wg.ArgumentError, r"SequentialLR: schedulers\[0\] is a ReduceLROnPlateau, whose step\(\) "
                       r"needs the metric"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(_sgd(), 2)], []),
     wg.ArgumentError, r"SequentialLR: schedulers\[0\] \(StepLR\) schedules another "
                       r"optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [o], []), TypeError,
     r"SequentialLR: schedulers\[0\] is a SGD, not a learning-rate scheduler"),
    (lambda o: lr_scheduler.ChainedScheduler([]), wg.ArgumentError,
     r"ChainedScheduler needs at least one scheduler"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(o, 2),
                                              lr_scheduler.ReduceLROnPlateau(o)]),
     wg.ArgumentError, r"ChainedScheduler: schedulers\[1\] is a ReduceLROnPlateau"),
    (lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(o, 2)], optimizer=_sgd()),
     wg.ArgumentError, r"ChainedScheduler: schedulers\[0\] \(StepLR\) schedules another"),
])
def test_new_scheduler_argument_errors(make, kind, pattern):
    with pytest.raises(kind, match=pattern):
        make(_sgd())


def test_reduce_lr_on_plateau_min_lrs_after_a_group_is_added():
    opt = _sgd()
    listed = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.01])
    single = lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.01)
    opt.add_param_group({"params": [wg.ones(1, requires_grad=True)], "lr": 0.5})
    single.step(1.0)
    single.step(2.0)  # a bad epoch: both groups reduced, the new one with the single min_lr
    assert single.get_last_lr() == [pytest.approx(0.01), pytest.approx(0.05)]
    listed.step(1.0)
    with pytest.raises(wg.ArgumentError, match=r"the optimizer has 2 parameter groups, but "
                                               r"min_lr gave 1"):
        listed.step(2.0)


def test_torch_refuses_cycle_momentum_without_momentum_too(torch_mod):
    topt = torch_mod.optim.Adagrad([torch_mod.ones(1, requires_grad=True)])
    for make in (lambda: torch_mod.optim.lr_scheduler.CyclicLR(topt, 0.01, 0.1),
                 lambda: torch_mod.optim.lr_scheduler.OneCycleLR(topt, 0.1, 10)):
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            make()
    opt = optim.Adagrad([wg.ones(1, requires_grad=True)])
    assert lr_scheduler.CyclicLR(opt, 0.01, 0.1, 2, cycle_momentum=False).get_last_lr() == \
        [0.01]


def test_sequential_lr_starts_each_schedule_from_its_base_rate():
    """At its milestone every schedule starts again at its t = 0 (here 1.0): the
    MultiplicativeLR too, where torch's continues from the rate the ExponentialLR left
    (0.25 * 0.9), and a ChainedScheduler, whose schedules all start again."""
    opt = optim.SGD([wg.ones(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.SequentialLR(opt, [
        lr_scheduler.ExponentialLR(opt, 0.5),
        lr_scheduler.MultiplicativeLR(opt, lambda t: 0.9),
        lr_scheduler.ChainedScheduler([lr_scheduler.ConstantLR(opt, 0.5, total_iters=2),
                                       lr_scheduler.ExponentialLR(opt, 0.8)])], [3, 6])
    seen = [sched.get_last_lr()[0]]
    for _ in range(9):
        sched.step()
        seen.append(opt.param_groups[0]["lr"])
    want = [1.0, 0.5, 0.25, 1.0, 0.9, 0.81, 0.5, 0.5 * 0.8, 0.8 ** 2, 0.8 ** 3]
    np.testing.assert_allclose(seen, want, rtol=1e-15)
    assert sched.last_epoch == 9
