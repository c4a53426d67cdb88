"""Schedules that go up and down: cosine annealing with warm restarts, cyclical rates and
the one-cycle policy (the last two also cycle momentum, inversely to the rate)."""
import math
from numbers import Real

from ...errors import ArgumentError
from .base import LRScheduler, check_count, check_optimizer, per_group


def _momentum_key(where, optimizer):
    """The group entry that cycled momentum goes into, chosen as PyTorch does from the
    optimizer's defaults: "betas" (its first coefficient, Adam's beta1) or "momentum"."""
    for key in ("betas", "momentum"):
        if key in optimizer.defaults:
            return key
    raise ArgumentError(f"{where}: cycle_momentum=True, but {type(optimizer).__name__} has "
                        "neither momentum nor betas to cycle. Hint: pass "
                        "cycle_momentum=False, or use SGD(momentum=...), RMSprop or Adam")


def _set_momentum(group, key, value):
    group[key] = (value, *group["betas"][1:]) if key == "betas" else value


class _CyclesMomentum(LRScheduler):
    """Writes ``momentum_t`` (defined by the subclass) into the groups after each step
    when ``cycle_momentum`` is on."""

    anchor = None  # chained, these set the rate outright

    def _init_momentum(self, where, optimizer, cycle_momentum, base_momentum, max_momentum,
                       last_epoch):
        self.cycle_momentum = cycle_momentum
        if not cycle_momentum:
            return
        self.momentum_key = _momentum_key(where, optimizer)
        self.base_momentums = per_group(where, "base_momentum", base_momentum, optimizer)
        self.max_momentums = per_group(where, "max_momentum", max_momentum, optimizer)
        if last_epoch == -1:
            for group, low, high in zip(optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                _set_momentum(group, self.momentum_key, high)
                group["max_momentum"], group["base_momentum"] = high, low

    def momentum_t(self, t):
        raise NotImplementedError

    def step(self):
        super().step()
        if self.cycle_momentum:
            for group, m in zip(self.optimizer.param_groups, self.momentum_t(self.last_epoch)):
                _set_momentum(group, self.momentum_key, m)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi T_cur / T_i)) / 2``, where
    T_cur counts the epochs since the last restart and the i-th period lasts
    ``T_i = T_0 * T_mult**i`` epochs. ``step()`` advances T_cur by one; ``step(epoch)``
    jumps to ``epoch``, which may be fractional (call it after each batch with
    ``epoch + batch / batches``)."""

    anchor = None

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        where = "CosineAnnealingWarmRestarts"
        check_count(where, "T_0", T_0, "epochs until the first restart")
        check_count(where, "T_mult", T_mult, "each period is T_mult times the one before")
        if not isinstance(eta_min, Real):
            raise ArgumentError(f"{where}: eta_min={eta_min!r} must be a number")
        self.T_0 = self.T_i = T_0
        self.T_mult, self.eta_min, self.T_cur = T_mult, eta_min, last_epoch
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur /
                                                                       self.T_i)) / 2

    def step(self, epoch=None):
        """Advance by one epoch, or go to ``epoch`` (a number >= 0, fractional allowed)."""
        if epoch is None and self.last_epoch >= 0:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur, self.T_i = self.T_cur % self.T_i, self.T_i * self.T_mult
        else:
            epoch = 0 if epoch is None else epoch
            if epoch < 0:
                raise ArgumentError(f"CosineAnnealingWarmRestarts: step(epoch={epoch}); the "
                                    "epoch must be >= 0")
            self.T_cur, self.T_i = self._period(epoch)
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.lrs(self.last_epoch))

    def _period(self, epoch):
        """(T_cur, T_i) at ``epoch``: the periods start at T_0 (T_mult**n - 1) / (T_mult - 1)
        for n = 0, 1, ..., counted in integers (PyTorch takes n from a float logarithm,
        which can land one period short on a restart: epoch 121 for T_0=1, T_mult=3)."""
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        start, length = 0, self.T_0
        while epoch >= start + length:
            start, length = start + length, length * self.T_mult
        return epoch - start, length


class CyclicLR(_CyclesMomentum):
    """Cyclical learning rates (Smith 2017). With ``size = step_size_up + step_size_down``
    and ``r = step_size_up / size``, at step t::

        cycle = floor(1 + t / size);  x = 1 + t / size - cycle   (x in [0, 1))
        h = x / r  if x <= r  else  (x - 1) / (r - 1)            (0 -> 1 -> 0)
        lr_t = base_lr + (max_lr - base_lr) * h * s
        momentum_t = max_momentum - (max_momentum - base_momentum) * h * s

    where s = scale_fn(cycle) (``scale_mode="cycle"``) or scale_fn(t) ("iterations"):
    mode "triangular" s = 1, "triangular2" s = 1 / 2**(cycle - 1), "exp_range"
    s = gamma**t. A ``scale_fn`` given replaces the mode; it is not in the state dict.
    Momentum (SGD's momentum, Adam's beta1) is cycled when ``cycle_momentum``."""

    unsaved = ("optimizer", "scale_fn")

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        where = "CyclicLR"
        check_optimizer(where, optimizer)
        base_lrs = per_group(where, "base_lr", base_lr, optimizer)
        self.max_lrs = per_group(where, "max_lr", max_lr, optimizer)
        step_size_down = step_size_up if step_size_down is None else step_size_down
        if not step_size_up > 0 or not step_size_down >= 0:
            raise ArgumentError(f"{where}: step_size_up={step_size_up} must be > 0 and "
                                f"step_size_down={step_size_down} >= 0 (steps)")
        if scale_fn is None:
            if mode not in ("triangular", "triangular2", "exp_range"):
                raise ArgumentError(f"{where}: unknown mode {mode!r}; use 'triangular', "
                                    "'triangular2' or 'exp_range', or pass scale_fn")
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        elif scale_mode not in ("cycle", "iterations"):
            raise ArgumentError(f"{where}: unknown scale_mode {scale_mode!r}; use 'cycle' or "
                                "'iterations'")
        self.total_size = float(step_size_up + step_size_down)
        self.step_ratio = step_size_up / self.total_size
        self.mode, self.gamma, self.scale_fn, self.scale_mode = mode, gamma, scale_fn, \
            scale_mode
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self._init_momentum(where, optimizer, cycle_momentum, base_momentum, max_momentum,
                            last_epoch)
        super().__init__(optimizer, last_epoch, base_lrs=base_lrs)

    def _scale(self, x):
        if self.scale_fn is not None:
            return self.scale_fn(x)
        if self.mode == "triangular":
            return 1.0
        return 1 / 2.0 ** (x - 1) if self.mode == "triangular2" else self.gamma ** x

    def _height(self, t):
        """(h, s) at step t: where in its cycle t is (0 at the ends, 1 at the top) and the
        scale of that cycle's amplitude."""
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        h = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return h, self._scale(cycle if self.scale_mode == "cycle" else t)

    def lrs(self, t):
        h, s = self._height(t)
        return [low + (high - low) * h * s for low, high in zip(self.base_lrs, self.max_lrs)]

    def momentum_t(self, t):
        h, s = self._height(t)
        return [high - (high - low) * h * s
                for low, high in zip(self.base_momentums, self.max_momentums)]


class OneCycleLR(_CyclesMomentum):
    """The 1cycle policy (Smith and Topin 2018): over ``total_steps`` (or ``epochs *
    steps_per_epoch``) steps the rate anneals from ``max_lr / div_factor`` up to ``max_lr``
    in the first ``pct_start`` of the steps, then down to ``initial_lr /
    final_div_factor``; with ``three_phase`` it comes back to the initial rate by step
    ``2 pct_start total_steps - 2`` and anneals to the minimum after. Each phase anneals
    from a to b as ``b + (a - b) (1 + cos(pi p)) / 2`` ("cos") or ``a + (b - a) p``
    ("linear"), p the fraction of the phase done. Momentum runs inversely, between
    max_momentum and base_momentum. The rates live in the groups ("initial_lr", "max_lr",
    "min_lr"), as in PyTorch. Stepping past ``total_steps`` raises an ArgumentError."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True,
                 base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, last_epoch=-1):
        where = "OneCycleLR"
        check_optimizer(where, optimizer)
        if total_steps is not None:
            check_count(where, "total_steps", total_steps, "optimizer steps in the cycle")
        elif epochs is not None and steps_per_epoch is not None:
            check_count(where, "epochs", epochs, "epochs of training")
            check_count(where, "steps_per_epoch", steps_per_epoch, "batches per epoch")
            total_steps = epochs * steps_per_epoch
        else:
            raise ArgumentError(f"{where}: give total_steps, or both epochs and "
                                "steps_per_epoch (e.g. steps_per_epoch=len(loader))")
        if not isinstance(pct_start, Real) or not 0 <= pct_start <= 1:
            raise ArgumentError(f"{where}: pct_start={pct_start!r} must be a fraction in "
                                "[0, 1] (of the steps spent raising the rate)")
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"{where}: unknown anneal_strategy {anneal_strategy!r}; use "
                                "'cos' or 'linear'")
        self.total_steps, self.anneal_strategy = total_steps, anneal_strategy
        # (last step, rate from, rate to, momentum from, momentum to) of each phase
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (2 * up, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                           (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                            "max_momentum")]
        else:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (total_steps - 1, "max_lr", "min_lr", "base_momentum",
                            "max_momentum")]
        max_lrs = per_group(where, "max_lr", max_lr, optimizer)
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"], group["max_lr"] = top / div_factor, top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self._init_momentum(where, optimizer, cycle_momentum, base_momentum, max_momentum,
                            last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, a, b, p):
        if self.anneal_strategy == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
        return (b - a) * p + a

    def _at(self, t, which):
        """The value of every group at step t: ``which`` is 1 for the rate, 3 for momentum
        (the positions of a phase's "from" key)."""
        start = 0.0
        for i, phase in enumerate(self.phases):
            if t <= phase[0] or i == len(self.phases) - 1:
                p = (t - start) / (phase[0] - start)
                return [self._anneal(g[phase[which]], g[phase[which + 1]], p)
                        for g in self.optimizer.param_groups]
            start = phase[0]

    def lrs(self, t):
        return self._at(t, 1)

    def momentum_t(self, t):
        return self._at(t, 3)

    def step(self):
        if self.last_epoch + 1 > self.total_steps:
            raise ArgumentError(f"OneCycleLR: step {self.last_epoch + 1} is past "
                                f"total_steps={self.total_steps} (the rate at step 0 is set "
                                "on construction, so a run has total_steps calls of step()). "
                                "Hint: pass the total number of optimizer steps, e.g. "
                                "epochs * len(loader)")
        super().step()
