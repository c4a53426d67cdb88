"""Training: ``fit`` / ``evaluate``, callbacks, checkpoints, metrics and plots.

``history = fit(model, F.cross_entropy, optimizer, loader, epochs=10, val_loader=val,
checkpoint="run.safetensors")``; ``fit(..., resume=True)`` continues an interrupted run."""
from .callbacks import Callback, EarlyStopping
from .checkpoint import load_checkpoint, save_checkpoint
from .fit import FitState, NonFiniteLossError, evaluate, fit
from .history import History
from .inference import inference, predict
from .metrics import accuracy, confusion_matrix, predictions
from .plots import plot_confusion_matrix, plot_decision_boundary, plot_history, plot_samples
from .state_file import CheckpointError

__all__ = ["fit", "evaluate", "FitState", "NonFiniteLossError", "Callback", "EarlyStopping",
           "History", "inference", "predict", "save_checkpoint", "load_checkpoint",
           "CheckpointError", "accuracy", "confusion_matrix", "predictions", "plot_history",
           "plot_decision_boundary", "plot_confusion_matrix", "plot_samples"]
