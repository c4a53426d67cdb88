"""Training plots with matplotlib (the ``plot`` extra): loss/accuracy curves, the decision
boundary of a 2-D classifier, a confusion matrix and a grid of images with predictions.

Each function returns a ``matplotlib.figure.Figure`` and, given ``path``, saves it there.
Figures are made without pyplot (Agg canvas), so nothing opens a window or touches global
state. Files are written atomically (complete or not at all)."""
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import MissingDependencyError
from ..tensor import Tensor
from .inference import predict
from .metrics import as_array, predictions


def _figure(width, height):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("plots need matplotlib: pip install 'wengert[plot]' "
                                     "(or pip install matplotlib)") from None
    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig, path):
    if path is not None:
        # a file object has no name to take the format from: give it (None: matplotlib's png)
        with atomic_write(path) as f:
            fig.savefig(f, dpi=100, format=Path(path).suffix.lstrip(".").lower() or None)
    return fig


def plot_history(history, path=None):
    """Loss (left) and accuracy (right, when recorded) per epoch, train and validation."""
    groups = [k for k in ("loss", "accuracy") if k in history]
    fig = _figure(5 * len(groups), 3.5)
    for ax, key in zip(fig.subplots(1, len(groups), squeeze=False)[0], groups):
        for name, style in ((key, "-"), (f"val_{key}", "--")):
            if name in history:
                ax.plot(history["epoch"], history[name], style, marker="o", label=name)
        ax.set(xlabel="epoch", ylabel=key, title=key)
        ax.legend()
        ax.grid(alpha=0.3)
    return _finish(fig, path)


def plot_decision_boundary(model, X, y, path=None, resolution=200, margin=0.5):
    """The class ``model`` predicts over the plane around the 2-D points ``X`` (filled
    regions), with the points coloured by their labels ``y``."""
    X, y = as_array(X), as_array(y)
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(X.dtype)
    classes = predictions(predict(model, Tensor(grid))).reshape(gx.shape)
    fig = _figure(5, 5)
    ax = fig.subplots()
    levels = np.arange(max(classes.max(), y.max()) + 2) - 0.5
    ax.contourf(gx, gy, classes, levels=levels, cmap="coolwarm", alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), title="decision boundary")
    return _finish(fig, path)


def plot_confusion_matrix(matrix, classes=None, path=None):
    """The counts ``matrix[true, predicted]`` (from :func:`confusion_matrix`) as a heat map."""
    matrix = np.asarray(matrix)
    k = len(matrix)
    classes = classes or [str(i) for i in range(k)]
    fig = _figure(1.0 + 0.6 * k, 0.8 + 0.6 * k)
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7,
                color="white" if count > matrix.max() / 2 else "black")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true",
           title="confusion matrix")
    ax.set_xticklabels(classes, rotation=45, ha="right")
    ax.set_yticklabels(classes)
    return _finish(fig, path)


def plot_samples(images, labels, predicted=None, classes=None, path=None, columns=8):
    """A grid of images titled with their labels, and predictions (red when wrong)."""
    images, labels = as_array(images), as_array(labels)
    predicted = None if predicted is None else as_array(predicted)
    n = len(images)
    side = int(round(np.sqrt(images[0].size)))
    rows = -(-n // columns)
    fig = _figure(1.2 * columns, 1.35 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    name = (lambda c: classes[c]) if classes else str
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].reshape(side, side), cmap="gray_r")
        title, color = name(int(labels[i])), "black"
        if predicted is not None:
            title += f" → {name(int(predicted[i]))}"
            color = "black" if predicted[i] == labels[i] else "red"
        ax.set_title(title, fontsize=7, color=color)
    return _finish(fig, path)
