"""The "state" a Playground page draws: counters, losses, the decision boundary on a grid,
every neuron's map, the weights and the points, as JSON-ready lists.

Grids are laid out row-major with row 0 at the TOP of the picture: entry ``r*G + c`` is the
value at ``x = x_min + (c + 0.5) * (x_max - x_min) / G``, ``y = y_max - (r + 0.5) *
(y_max - y_min) / G``. Floats are rounded to 4 significant digits to keep messages small, and
NaN/Inf (a diverged model) become null, since JSON has no such numbers."""
import numpy as np

from .. import nn
from ..autodiff.grad_mode import no_grad
from ..ops.elementwise import sigmoid
from ..tensor import Tensor
from . import problem

#: Cells per side of the decision-boundary picture and of each neuron's small map.
BOUNDARY_SIZE = 50
NEURON_SIZE = 20
#: The square the pictures cover (the data lie in about [-6, 6]).
X_RANGE = (-6.0, 6.0)
Y_RANGE = (-6.0, 6.0)
SIGNIFICANT_DIGITS = 4


def grid_points(size, x_range=X_RANGE, y_range=Y_RANGE):
    """The (size*size, 2) cell centres of a grid, in the row-major, top-row-first order of
    the module docstring."""
    (x0, x1), (y0, y1) = x_range, y_range
    xs = x0 + (np.arange(size) + 0.5) * (x1 - x0) / size
    ys = y1 - (np.arange(size) + 0.5) * (y1 - y0) / size
    gx, gy = np.meshgrid(xs, ys)  # gx[r, c] = xs[c], gy[r, c] = ys[r]
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def rounded(values, digits=SIGNIFICANT_DIGITS):
    """``values`` (an array or number) as nested lists of floats rounded to ``digits``
    significant digits, non-finite values as None."""
    a = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(a)
    safe = np.where(finite & (np.abs(a) > 1e-30), a, 0.0)  # tiny values round to 0
    exponent = np.floor(np.log10(np.abs(np.where(safe == 0, 1.0, safe))))
    decimals = digits - 1 - exponent
    # dividing by an exact power of ten gives the float nearest the decimal, so JSON prints
    # it short ("0.1235", not "0.12350000000000001")
    scale = 10.0 ** np.abs(decimals)
    out = np.where(decimals >= 0, np.round(safe * scale) / scale, np.round(safe / scale) * scale)
    if finite.all():
        return out.tolist()
    obj = out.astype(object)
    obj[~finite] = None
    return obj.tolist()


def layer_maps(model, x):
    """Each neuron's value over the inputs ``x`` (n, features): a list per layer (features,
    each hidden layer after its activation, the output as P(class 1)) of (units, n) arrays."""
    maps = [x.T]
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        h = Tensor(x)
        for layer in model:
            h = layer(h)
            if not isinstance(layer, nn.Linear):  # an activation: a hidden layer's output
                maps.append(h.data.T)
        maps.append(sigmoid(h).data.T)
    return maps


class Pictures:
    """What stays fixed while a config trains, computed once per config: the features of
    the boundary grid and of the neuron grid, the rounded feature maps and points."""

    def __init__(self, session):
        names = session.config["features"]
        self.boundary_x = problem.feature_matrix(grid_points(BOUNDARY_SIZE), names)
        self.neuron_x = problem.feature_matrix(grid_points(NEURON_SIZE), names)
        self.feature_maps = rounded(self.neuron_x.T)
        self.points = {"train": _points(session.train_points, session.train_labels),
                       "test": _points(session.test_points, session.test_labels)}


def _points(points, labels):
    """``[[x1, x2, label], ...]`` with the label as the integer 0 or 1."""
    return [[x1, x2, int(label)] for (x1, x2), label in zip(rounded(points), labels)]


def snapshot(session, pictures, running):
    """The state dict of ``session`` (hold its lock while calling) for a page; ``pictures``
    are the session's :class:`Pictures`, ``running`` whether it is training now."""
    model = session.model
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        logits = model(Tensor(pictures.boundary_x))
        boundary = sigmoid(logits).data.ravel()
    hidden_and_output = layer_maps(model, pictures.neuron_x)[1:]
    layers = [pictures.feature_maps] + [rounded(m) for m in hidden_and_output]
    linears = problem.linear_layers(model)
    history = session.history.columns()
    return {
        "epoch": session.epoch,
        "step": session.steps,
        "running": bool(running),
        "samples_per_s": rounded(session.samples_per_s if running else 0.0),
        "train_loss": rounded(session.train_loss),
        "test_loss": rounded(session.test_loss),
        "history": {"epoch": history["epoch"], "train_loss": rounded(history["train_loss"]),
                    "test_loss": rounded(history["test_loss"])},
        "grid": {"size": BOUNDARY_SIZE, "x_range": list(X_RANGE), "y_range": list(Y_RANGE)},
        "boundary": rounded(boundary),
        "neurons": {"size": NEURON_SIZE, "layers": layers},
        "weights": [rounded(layer.weight.data) for layer in linears],
        "biases": [rounded(layer.bias.data) for layer in linears],
        "points": pictures.points,
    }
