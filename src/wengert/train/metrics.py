"""Classification metrics on model outputs (logits or scores) and targets, as NumPy."""
import numpy as np

from ..errors import ArgumentError, ShapeError
from ..tensor import Tensor


def as_array(x):
    """The NumPy array of a tensor or array-like (no copy)."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def predictions(outputs):
    """Predicted classes: the argmax over the last axis, or ``outputs > 0`` for a single
    column of binary logits."""
    outputs = as_array(outputs)
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (outputs.reshape(len(outputs)) > 0).astype(np.int64)
    return outputs.argmax(axis=-1)


def labels(targets):
    """Class indices from targets given as indices or as one-hot / probability rows."""
    targets = as_array(targets)
    return targets.argmax(axis=-1) if targets.ndim == 2 and targets.shape[1] > 1 else \
        targets.reshape(len(targets)).astype(np.int64)


def _classes(name, outputs, targets):
    """Predicted and true classes, of equal lengths (else a ShapeError naming both shapes)."""
    pred, true = predictions(outputs), labels(targets)
    if pred.shape != true.shape:
        raise ShapeError(f"{name}: {len(pred)} predictions from outputs of shape "
                         f"{as_array(outputs).shape} but {len(true)} targets of shape "
                         f"{as_array(targets).shape}")
    return pred, true


def accuracy(outputs, targets):
    """The fraction of rows whose predicted class equals the target class."""
    pred, true = _classes("accuracy", outputs, targets)
    return float(np.mean(pred == true))


def confusion_matrix(outputs, targets, num_classes=None):
    """``m[i, j]`` = how many samples of true class i were predicted as class j."""
    pred, true = _classes("confusion_matrix", outputs, targets)
    both = np.concatenate([true, pred])
    k = num_classes or (int(both.max()) + 1 if both.size else 0)
    outside = both[(both < 0) | (both >= k)]
    if outside.size:
        raise ShapeError(f"confusion_matrix: classes must be in [0, {k}), got "
                         f"{sorted(set(outside.tolist()))} (targets in [{true.min()}, "
                         f"{true.max()}], predictions in [{pred.min()}, {pred.max()}]). "
                         f"Hint: pass num_classes >= {int(both.max()) + 1} (the output "
                         "layer's size) and check the labels")
    return np.bincount(true * k + pred, minlength=k * k).reshape(k, k)


METRICS = {"accuracy": accuracy}


def metric_functions(metrics):
    """``{name: fn(outputs, targets) -> float}`` from names in :data:`METRICS` and callables
    (named by their ``__name__``), or from such a dict itself."""
    if isinstance(metrics, dict):
        return dict(metrics)
    out = {}
    for m in metrics:
        if callable(m):
            out[m.__name__] = m
        elif m in METRICS:
            out[m] = METRICS[m]
        else:
            raise ArgumentError(f"unknown metric {m!r}; use one of {sorted(METRICS)} or a "
                             "function fn(outputs, targets) -> float")
    return out


class Totals:
    """Sample-weighted running sums of the loss and metrics over an epoch."""

    def __init__(self, functions, state=None):
        self.functions = functions
        self.sums = dict.fromkeys(["loss", *functions], 0.0)
        self.count, self.seconds = 0, 0.0
        if state is not None:
            self.sums, self.count, self.seconds = state["sums"], state["count"], state["seconds"]

    def add(self, n, loss, outputs, targets):
        self.count += n
        self.sums["loss"] += loss * n
        for name, fn in self.functions.items():
            # float(): a NumPy scalar from a user's metric would reach the history, whose CSV
            # would then read "np.float64(0.5)"
            self.sums[name] += float(fn(outputs, targets)) * n

    def means(self):
        return {k: v / self.count for k, v in self.sums.items()}

    def state_dict(self):
        return {"sums": self.sums, "count": self.count, "seconds": self.seconds}
