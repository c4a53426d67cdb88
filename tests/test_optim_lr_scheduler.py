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
