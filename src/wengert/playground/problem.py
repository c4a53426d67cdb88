"""The learning problem a Playground config describes: the points and their split, the input
features, the network, the optimizer and the training objective, all built with wengert's own
data sets, modules, optimizers and losses."""
import math

import numpy as np

from .. import nn, optim
from ..autodiff.grad_mode import no_grad
from ..data import PLAYGROUND
from ..nn import functional as F
from ..nn import init
from ..ops.elementwise import abs as abs_, sin
from ..ops.shape import stack
from ..random import Generator
from ..tensor import Tensor
from .config import ACTIVATIONS, N_POINTS

#: Gaussian noise std at the Playground's noise 50 (%), per data set; it scales linearly with
#: the noise level. Chosen to look like the TensorFlow Playground, whose noise is uniform with
#: a per-set amplitude at level 50: circle and xor ±2.5 (std 1.44), spiral ±0.5 (std 0.29),
#: gaussian variance 0.5 -> 4 (our blobs already have std 1); moons follow scikit-learn's
#: usual noise 0.25 on radius 1, times our scale 2.5.
NOISE_STD_AT_50 = {"circle": 1.44, "xor": 1.44, "gaussian": 1.7, "spiral": 0.29,
                   "moons": 0.6}

#: Feature name -> its value from the coordinates, in wengert ops, so the same definition
#: makes the training inputs and appears in the Wengert trace of one point.
FEATURE_FUNCTIONS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: sin(x1),
    "sin_x2": lambda x1, x2: sin(x2),
}


def noise_std(dataset, noise):
    """The Gaussian noise std for the Playground's noise level (0 to 50) on ``dataset``."""
    return NOISE_STD_AT_50[dataset] * noise / 50


def make_points(config):
    """``(train, test)``: each a pair (points (n, 2) float32, labels (n,) float32), the
    N_POINTS points of the config's data set split by ``train_fraction`` with its seed."""
    ds = PLAYGROUND[config["dataset"]](n=N_POINTS, seed=config["seed"],
                                      noise=noise_std(config["dataset"], config["noise"]))
    points, labels = (t.data for t in ds.tensors)
    order = np.random.default_rng([config["seed"], 1]).permutation(N_POINTS)
    n_train = min(N_POINTS - 1, max(1, round(N_POINTS * config["train_fraction"])))
    labels = labels.astype(np.float32)
    return ((points[order[:n_train]], labels[order[:n_train]]),
            (points[order[n_train:]], labels[order[n_train:]]))


def features(x1, x2, names):
    """The named features of coordinates ``x1``, ``x2`` (tensors of one shape), stacked on a
    new last axis: shape (..., len(names))."""
    return stack([FEATURE_FUNCTIONS[name](x1, x2) for name in names], axis=-1)


def feature_matrix(points, names):
    """The feature values of ``points`` (n, 2) as a float32 array (n, len(names))."""
    with no_grad():
        x = features(Tensor(points[:, 0]), Tensor(points[:, 1]), names)
    return np.ascontiguousarray(x.data, dtype=np.float32)


def make_model(config):
    """The MLP from the features through ``hidden`` to one logit, with initial weights drawn
    from a generator seeded by the config's seed (same seed, same weights)."""
    model = nn.MLP([len(config["features"]), *config["hidden"], 1],
                   activation=ACTIVATIONS[config["activation"]])
    reinitialize(model, config["seed"])
    return model


def linear_layers(model):
    """The model's Linear layers, input to output."""
    return [m for m in model if isinstance(m, nn.Linear)]


def reinitialize(model, seed):
    """Draw the Linear layers' initial values again, as ``Linear.reset_parameters`` does
    (PyTorch's default), but from a private generator: sessions train in threads, and the
    global generator would make one session's weights depend on another's timing."""
    generator = Generator([seed, 2])
    for layer in linear_layers(model):
        init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(layer.in_features)
        init.uniform_(layer.bias, -bound, bound, generator=generator)


def make_optimizer(config, model):
    """SGD, SGD with momentum 0.9, or Adam at the config's learning rate."""
    lr = config["learning_rate"]
    if config["optimizer"] == "adam":
        return optim.Adam(model.parameters(), lr=lr)
    momentum = 0.9 if config["optimizer"] == "momentum" else 0.0
    return optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def data_loss(logits, labels):
    """Mean binary cross-entropy of one-logit outputs (n, 1) against 0/1 labels (n,)."""
    return F.binary_cross_entropy_with_logits(logits, labels.reshape(-1, 1))


def penalty(config, model):
    """The regularization term added to the training objective: ``rate * sum |W|`` (l1) or
    ``rate/2 * sum W^2`` (l2) over the weights, not the biases (the TensorFlow Playground's
    definitions); None for "none" or rate 0."""
    rate = config["regularization_rate"]
    if config["regularization"] == "none" or rate == 0:
        return None
    weights = [layer.weight for layer in linear_layers(model)]
    if config["regularization"] == "l2":
        return F.l2_penalty(weights, rate)
    return rate * sum(abs_(w).sum() for w in weights)
