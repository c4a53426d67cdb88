"""The ``LRScheduler`` base class and the argument checks the schedules share."""
from numbers import Integral

from ...errors import ArgumentError
from ..optimizer import Optimizer


def check_count(where, name, value, meaning="a number of steps"):
    """Raise unless ``value`` is a positive integer (not a bool)."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ArgumentError(f"{where}: {name}={value!r} must be a positive integer "
                            f"({meaning})")


def per_group(where, name, value, optimizer):
    """``value`` as one entry per parameter group: a list or tuple must hold one per group;
    anything else is repeated for every group."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ArgumentError(f"{where}: {len(value)} {name}s for {n} parameter groups. "
                                "Hint: give one value for every group, or a list of one per "
                                "group")
        return list(value)
    return [value] * n


def check_optimizer(where, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: {type(optimizer).__name__} is not an Optimizer (pass e.g. "
                        "optim.SGD(model.parameters(), lr=0.1))")


class LRScheduler:
    """Base class. A schedule's rate at step t (``last_epoch``) is a closed form of each
    group's base rate: subclasses define ``lr_at(base_lr, t)``, or ``lrs(t)`` for all
    groups at once. Constructing a scheduler sets each group's ``initial_lr`` (once) and
    applies the rate for t = 0 (t = last_epoch + 1 when resuming). ``base_lrs`` are the
    groups' ``initial_lr`` unless a subclass passes its own.

    Because ``step()`` sets the closed form, a schedule ignores a rate another one set;
    only :class:`ChainedScheduler` composes schedules, through ``anchor``: 0.0 for a
    schedule that scales the rate (the default), the rate it scales towards
    (CosineAnnealingLR's eta_min), or None for one that sets the rate outright."""

    anchor = 0.0
    #: attributes that are not data (the optimizer, functions): left out of the state dict.
    unsaved = ("optimizer",)

    def __init__(self, optimizer, last_epoch=-1, base_lrs=None):
        check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = list(base_lrs) if base_lrs is not None else \
            [group["initial_lr"] for group in optimizer.param_groups]
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
        self._set_lrs(self.lrs(self.last_epoch))

    def _set_lrs(self, lrs):
        self._last_lr = list(lrs)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _restart(self):
        """Go back to t = 0 and set its rates (what SequentialLR does at a milestone)."""
        self.last_epoch = -1
        self.step()

    def _carry(self, rates, before, after):
        """``rates`` (what the schedules chained before this one made of the rate) moved
        through this schedule's own step from ``before`` to ``after``, as PyTorch's
        chainable forms move the rate they find: a scaling schedule scales the distance to
        its anchor by its own ratio (or, where its own rate sat on the anchor, shifts it by
        its own change); one without an anchor sets its rate."""
        if self.anchor is None:
            return list(after)
        c = self.anchor
        return [x + (a - b) if b == c else c + (x - c) * ((a - c) / (b - c))
                for x, b, a in zip(rates, before, after)]

    def get_last_lr(self):
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer and functions (which are not data)."""
        return {k: v for k, v in self.__dict__.items() if k not in self.unsaved}

    def load_state_dict(self, state_dict):
        """Restore what :meth:`state_dict` saved."""
        self.__dict__.update(state_dict)
