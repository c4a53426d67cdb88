"""Callbacks for :func:`~wengert.train.fit`: hooks called after each batch and each epoch.

A callback sees the :class:`FitState` (model, optimizer, epoch, step, history) and may set
``state.stop = "reason"`` to end training after the current epoch. Callbacks that keep state
across epochs return it from ``state_dict`` so a resumed run continues exactly."""
import numpy as np

from ..errors import ArgumentError
from ..tensor import Tensor


class Callback:
    """Base class; override the hooks you need."""

    def on_batch_end(self, state, logs):
        """After each optimizer step; ``logs`` has ``batch`` (index in the epoch) and
        ``loss``."""

    def on_epoch_end(self, state, logs):
        """After each epoch (and validation); ``logs`` is that epoch's row of the history."""

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` (a history key, e.g. "val_loss" or "val_accuracy") has not
    improved by more than ``min_delta`` for ``patience`` epochs. ``mode`` "min"/"max"
    ("auto": max for accuracies, min otherwise). With ``restore_best_weights=True`` the model
    gets the parameters of its best epoch back when training stops."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        if mode not in ("auto", "min", "max"):
            raise ArgumentError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.sign = -1.0 if mode == "max" or (mode == "auto" and "acc" in monitor) else 1.0
        self.restore_best_weights = restore_best_weights
        self.best, self.best_epoch, self.wait, self.best_weights = np.inf, None, 0, None

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
            state.stop = (f"early stopping: {self.monitor} did not improve for "
                          f"{self.patience} epochs (best {self.sign * self.best:.6g} at epoch "
                          f"{self.best_epoch})")
            if self.best_weights is not None:
                state.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.wait, self.best_weights = state["wait"], state["best_weights"]
