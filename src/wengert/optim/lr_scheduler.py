"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: construct over an optimizer,
call ``step()`` once per epoch (or per iteration) after ``optimizer.step()``.

Each schedule is a closed form ``lr_t = f(base_lr, t)`` of the number of ``step()`` calls t
(``last_epoch``), applied to every parameter group; ``state_dict``/``load_state_dict`` save
and restore t and the base rates."""
import math

from ..errors import ArgumentError

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "RobbinsMonroLR"]


class LRScheduler:
    """Base class: subclasses define ``lr_at(base_lr, t)`` (or ``lrs(t)``). Constructing a
    scheduler sets each group's ``initial_lr`` (once) and applies the rate for t = 0."""

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr, t):
        raise NotImplementedError

    def lrs(self, t):
        """The learning rate of every parameter group at step t."""
        return [self.lr_at(base, t) for base in self.base_lrs]

    def step(self):
        """Advance t by one and set every group's learning rate to the schedule's value."""
        self.last_epoch += 1
        self._last_lr = self.lrs(self.last_epoch)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer (and LambdaLR's functions, which are not data)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}

    def load_state_dict(self, state_dict):
        """Restore what :meth:`state_dict` saved."""
        self.__dict__.update(state_dict)


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


class ExponentialLR(LRScheduler):
    """``lr_t = base_lr * gamma ** t``."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """``lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2``: half a
    cosine from base_lr down to eta_min over T_max steps (and back up after, as
    PyTorch's closed form)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ArgumentError(f"CosineAnnealingLR: T_max={T_max} must be positive")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t /
                                                                       self.T_max)) / 2


class LambdaLR(LRScheduler):
    """``lr_t = base_lr * lr_lambda(t)``; ``lr_lambda`` is a function or one per group.
    The functions are not in the state dict (save what they close over yourself)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = optimizer.param_groups
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else \
            [lr_lambda] * len(groups)
        if len(lambdas) != len(groups):
            raise ArgumentError(f"LambdaLR: {len(lambdas)} lr_lambdas for {len(groups)} "
                                "parameter groups")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def lrs(self, t):
        return [base * fn(t) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


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
