"""Callbacks for :func:`~wengert.train.fit`: hooks called after each batch and each epoch.

A callback sees the :class:`FitState` (model, optimizer, epoch, step, history) and may set
``state.stop = "reason"`` to end training after the current epoch. Callbacks that keep state
across epochs return it from ``state_dict`` so a resumed run continues exactly."""
import numpy as np

from ..errors import ArgumentError
from ..tensor import Tensor


class Callback:
    """Base class; override the hooks you need."""

    def on_train_begin(self, state):
        """At the start of each ``fit`` call, after a resume has restored the state."""

    def on_batch_end(self, state, logs):
        """After each optimizer step; ``logs`` has ``batch`` (index in the epoch) and
        ``loss``."""

    def on_epoch_end(self, state, logs):
        """After each epoch (and validation); ``logs`` is that epoch's row of the history."""

    def on_train_end(self, state):
        """When training ends: the last epoch is done or ``state.stop`` was set. Not after
        Ctrl-C, which pauses a run that ``resume=True`` continues, nor after an error."""

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` (a history key, e.g. "val_loss" or "val_accuracy") has not
    improved by more than ``min_delta`` for ``patience`` epochs. ``mode`` "min"/"max"
    ("auto": max for accuracies, min otherwise). With ``restore_best_weights=True`` the model
    gets the parameters of its best epoch back when training ends, whether this callback
    stopped it or the epochs ran out (Keras 3's rule).

    As in Keras, a new ``fit`` starts the count afresh, so one instance serves several runs;
    a resumed run keeps it, and resuming a run this callback stopped trains no further."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        if mode not in ("auto", "min", "max"):
            raise ArgumentError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        # abs: a negative min_delta would count a worse value as an improvement (Keras too)
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.sign = -1.0 if mode == "max" or (mode == "auto" and "acc" in monitor) else 1.0
        self.restore_best_weights = restore_best_weights
        self._reset()

    def _reset(self):
        self.best, self.best_epoch, self.wait, self.best_weights = np.inf, None, 0, None

    def on_train_begin(self, state):
        if state.epoch == 0:  # a new run (or one resumed before its first epoch ended)
            self._reset()
        elif self.wait >= self.patience:
            state.stop = self._stopped()

    def on_epoch_end(self, state, logs):
        if self.monitor not in logs:
            raise ArgumentError(f"EarlyStopping monitors {self.monitor!r}, which this run does not "
                           f"record; it has {sorted(logs)} (val_* keys need a val_loader)")
        score = self.sign * logs[self.monitor]
        if score < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = score, logs["epoch"], 0
            if self.restore_best_weights:
                self.best_weights = {k: Tensor(v.data.copy())
                                     for k, v in state.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop = self._stopped()

    def on_train_end(self, state):
        if self.best_weights is not None:
            state.model.load_state_dict(self.best_weights)

    def _stopped(self):
        return (f"early stopping: {self.monitor} did not improve for {self.patience} epochs "
                f"(best {self.sign * self.best:.6g} at epoch {self.best_epoch})")

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.best_weights = state["wait"], state["best_weights"]
