"""Reduce the rate when a monitored metric stops improving."""
import math

from ...errors import ArgumentError
from .base import LRScheduler, check_optimizer, per_group


class ReduceLROnPlateau(LRScheduler):
    """``step(metrics)`` once per epoch with the monitored value (a number or a one-element
    tensor). A value better than ``best`` by more than the threshold becomes the new best;
    "better" is, for ``mode="min"``::

        rel: a < best * (1 - threshold)      abs: a < best - threshold

    (for "max": a > best * (1 + threshold), a > best + threshold). After more than
    ``patience`` epochs in a row without a new best, every group's rate becomes
    ``max(lr * factor, min_lr)`` (kept only if it drops by more than ``eps``), and the next
    ``cooldown`` epochs count no bad epochs. Unlike the other schedules it scales the rate
    the group has, whoever set it. ``min_lr`` is one value or one per group."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        where = "ReduceLROnPlateau"
        check_optimizer(where, optimizer)
        if factor >= 1.0:
            raise ArgumentError(f"{where}: factor={factor} must be < 1 (the rate is "
                                "multiplied by it), e.g. 0.1 or 0.5")
        if mode not in ("min", "max"):
            raise ArgumentError(f"{where}: unknown mode {mode!r}; use 'min' (a loss) or "
                                "'max' (an accuracy)")
        if threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"{where}: unknown threshold_mode {threshold_mode!r}; use "
                                "'rel' or 'abs'")
        self.optimizer = optimizer
        self.min_lrs = per_group(where, "min_lr", min_lr, optimizer)
        # a single min_lr also covers groups added later; a list must be extended by hand
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    @property
    def in_cooldown(self):
        """Whether the epochs after a reduction are still being ignored."""
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        """Whether the value ``a`` improves on ``best`` by more than the threshold."""
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if rel else best - self.threshold)
        return a > (best * (1.0 + self.threshold) if rel else best + self.threshold)

    def step(self, metrics):
        """Record one epoch's value of the monitored metric; reduce the rates if it has
        not improved for more than ``patience`` epochs."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce(self):
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):
            if self.default_min_lr is None:
                raise ArgumentError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                    f"parameter groups, but min_lr gave {len(self.min_lrs)} "
                                    "(a group was added since). Hint: set scheduler.min_lrs "
                                    "to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, floor in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, floor)
            if old - new > self.eps:
                group["lr"] = new
