"""Schedules that are a factor of the base rate at step t: step and milestone decays,
warm-ups, exponential, polynomial and cosine decays, and user functions."""
import math
from bisect import bisect_right
from numbers import Integral

from ...errors import ArgumentError
from .base import LRScheduler, check_count, check_optimizer, per_group


def _check_factor(where, name, value, low_open=False):
    if not ((0 < value <= 1) if low_open else (0 <= value <= 1)):
        raise ArgumentError(f"{where}: {name}={value} must be in {'(0' if low_open else '[0'}"
                            ", 1]; it multiplies the base rate")


def _lambdas(where, optimizer, lr_lambda):
    check_optimizer(where, optimizer)
    fns = per_group(where, "lr_lambda", lr_lambda, optimizer)
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{where}: lr_lambda must be a function of the step t, got a "
                            f"{type(fn).__name__}")
    return fns


class StepLR(LRScheduler):
    """``lr_t = base_lr * gamma ** (t // step_size)``: decay by ``gamma`` every
    ``step_size`` steps."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if step_size < 1:
            raise ArgumentError(f"StepLR: step_size={step_size} must be a positive integer")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """``lr_t = base_lr * gamma ** (number of milestones <= t)``: decay by ``gamma`` at each
    milestone (one listed twice decays twice there)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        for m in milestones:
            if not isinstance(m, Integral) or isinstance(m, bool):
                raise ArgumentError(f"MultiStepLR: milestones must be integers (step "
                                    f"counts), got {m!r} in {milestones}")
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect_right(self.milestones, t)


class ConstantLR(LRScheduler):
    """``lr_t = base_lr * factor`` for t < total_iters, then ``base_lr``."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        _check_factor("ConstantLR", "factor", factor)
        check_count("ConstantLR", "total_iters", total_iters)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (self.factor if t < self.total_iters else 1.0)


class LinearLR(LRScheduler):
    """``lr_t = base_lr * (s + (e - s) * min(t, total_iters) / total_iters)``: the factor
    goes linearly from ``start_factor`` s to ``end_factor`` e, then stays (a warm-up when
    s < e)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        _check_factor("LinearLR", "start_factor", start_factor, low_open=True)
        _check_factor("LinearLR", "end_factor", end_factor)
        check_count("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        s, e = self.start_factor, self.end_factor
        return base_lr * (s + (e - s) * min(t, self.total_iters) / self.total_iters)


class ExponentialLR(LRScheduler):
    """``lr_t = base_lr * gamma ** t``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** t


class PolynomialLR(LRScheduler):
    """``lr_t = base_lr * (1 - min(t, total_iters) / total_iters) ** power``: down to 0 at
    total_iters, and 0 after."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        check_count("PolynomialLR", "total_iters", total_iters)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (1.0 - min(t, self.total_iters) / self.total_iters) ** self.power


class CosineAnnealingLR(LRScheduler):
    """``lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2``: half a
    cosine from base_lr down to eta_min over T_max steps (and back up after, as
    PyTorch's closed form)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ArgumentError(f"CosineAnnealingLR: T_max={T_max} must be positive")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    @property
    def anchor(self):  # chained, it scales the rate's distance to eta_min
        return self.eta_min

    def lr_at(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t /
                                                                       self.T_max)) / 2


class LambdaLR(LRScheduler):
    """``lr_t = base_lr * lr_lambda(t)``; ``lr_lambda`` is a function or one per group.
    The functions are not in the state dict (save what they close over yourself)."""

    anchor = None  # chained, it sets base_lr * lr_lambda(t) whatever came before
    unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def lrs(self, t):
        return [base * fn(t) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(LRScheduler):
    """``lr_t = lr_{t-1} * lr_lambda(t)`` for t >= 1, lr_0 = base_lr: the base rate times
    the product of the factors so far, which ``factors`` keeps per group (it is in the
    state dict; the functions are not)."""

    unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        self.factors = [math.prod((fn(s) for s in range(1, last_epoch + 1)), start=1.0)
                        for fn in self.lr_lambdas]
        super().__init__(optimizer, last_epoch)

    def step(self):
        t = self.last_epoch + 1
        self.factors = [1.0 if t == 0 else f * fn(t)
                        for f, fn in zip(self.factors, self.lr_lambdas)]
        super().step()

    def lrs(self, t):
        return [base * f for base, f in zip(self.base_lrs, self.factors)]


class RobbinsMonroLR(LRScheduler):
    """The Robbins-Monro schedule ``eps_t = eps_0 / (1 + t / tau0)`` (eps_0 the base rate).

    Stochastic gradient descent converges (for a convex objective with bounded gradient
    noise, to the minimiser; in general to a stationary point) when the step sizes satisfy
    the Robbins-Monro conditions ``sum_t eps_t = infinity`` (the steps can travel any
    distance) and ``sum_t eps_t^2 < infinity`` (the noise they inject has finite total
    variance). ``eps_0 / (1 + t / tau0)`` decays like 1/t, which meets both: the harmonic
    series diverges and sum 1/t^2 converges. ``tau0`` sets how long the rate stays near
    eps_0 (it has halved at t = tau0)."""

    def __init__(self, optimizer, tau0, last_epoch=-1):
        if tau0 <= 0:
            raise ArgumentError(f"RobbinsMonroLR: tau0={tau0} must be positive")
        self.tau0 = tau0
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr / (1 + t / self.tau0)
