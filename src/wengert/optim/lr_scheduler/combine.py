"""Schedules made of other schedules: one after another (SequentialLR) or applied together
(ChainedScheduler)."""
from bisect import bisect_right

from ...errors import ArgumentError
from .base import LRScheduler
from .plateau import ReduceLROnPlateau


class _Combined(LRScheduler):
    """Holds the schedulers; its state dict holds theirs."""

    anchor = None  # chained in turn, it sets the rate its schedulers make
    unsaved = ("optimizer", "_schedulers")

    def _take(self, where, schedulers, optimizer):
        schedulers = list(schedulers)
        if not schedulers:
            raise ArgumentError(f"{where} needs at least one scheduler, got none")
        optimizer = schedulers[0].optimizer if optimizer is None else optimizer
        for i, s in enumerate(schedulers):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"{where}: schedulers[{i}] is a {type(s).__name__}, not a "
                                "learning-rate scheduler")
            if isinstance(s, ReduceLROnPlateau):
                raise ArgumentError(f"{where}: schedulers[{i}] is a ReduceLROnPlateau, whose "
                                    "step() needs the metric. Hint: step it yourself, beside "
                                    f"the {where}")
            if s.optimizer is not optimizer:
                raise ArgumentError(f"{where}: schedulers[{i}] ({type(s).__name__}) "
                                    "schedules another optimizer; all must share one")
        self._schedulers, self.optimizer = schedulers, optimizer
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]

    def state_dict(self):
        """Its own counters and, under "_schedulers", each scheduler's state dict."""
        return {**super().state_dict(), "_schedulers": [s.state_dict() for s in
                                                        self._schedulers]}

    def load_state_dict(self, state_dict):
        """Restore its counters and each scheduler's state."""
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, saved in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(saved)


class SequentialLR(_Combined):
    """``schedulers[0]`` runs until step ``milestones[0]``, where ``schedulers[1]`` starts
    again from its own t = 0, and so on (a warm-up followed by a decay, say). All schedule
    the same optimizer; ``last_epoch`` counts the steps of the whole sequence."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        self._take("SequentialLR", schedulers, optimizer)
        milestones = list(milestones)
        if len(milestones) != len(self._schedulers) - 1:
            raise ArgumentError(f"SequentialLR: {len(self._schedulers)} schedulers need "
                                f"{len(self._schedulers) - 1} milestones (the steps where "
                                f"the next one starts), got {len(milestones)}")
        if any(a >= b for a, b in zip(milestones, milestones[1:])):
            raise ArgumentError(f"SequentialLR: milestones {milestones} must increase")
        self._milestones = milestones
        self._restart()
        self.last_epoch = last_epoch + 1

    def _restart(self):
        self.last_epoch = 0
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._restart()
        self._last_lr = first.get_last_lr()

    def step(self):
        """Advance t by one: step the scheduler whose turn it is, or start the next one."""
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Combined):
    """Steps every scheduler at each ``step()`` and combines their changes, as PyTorch's
    chainable schedules combine on the group's rate: with the running rate x, each
    scheduler in turn moves x as its own rate moved (scaled by its ratio, around its
    ``anchor``), or sets it (schedules without an anchor: LambdaLR, the cyclic ones). For
    schedules that scale the rate (StepLR, MultiStepLR, ExponentialLR, ConstantLR,
    LinearLR, PolynomialLR, MultiplicativeLR, CosineAnnealingLR with eta_min=0) that is
    ``base_lr * product of their factors``. ``optimizer`` defaults to the schedulers'."""

    def __init__(self, schedulers, optimizer=None):
        self._take("ChainedScheduler", schedulers, optimizer)
        self._chain_from_start()

    def _chain_from_start(self):
        rates = self.base_lrs
        for s in self._schedulers:
            rates = s._carry(rates, s.base_lrs, s.get_last_lr())
        self._set_lrs(rates)

    def _restart(self):
        for s in self._schedulers:
            s._restart()
        self._chain_from_start()

    def step(self):
        """Step every scheduler, carrying the rate through each one's change."""
        rates = self._last_lr
        for s in self._schedulers:
            before = s.get_last_lr()
            s.step()
            rates = s._carry(rates, before, s.get_last_lr())
        self._set_lrs(rates)
