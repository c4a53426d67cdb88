"""Differentially private SGD (Abadi et al., 2016) with per-example gradients from ``vmap``.

DP-SGD bounds how much any one training example can move the model: each example's gradient
is clipped to norm ``clip``, the clipped gradients are summed, Gaussian noise of standard
deviation ``noise * clip`` is added, and the step uses their mean. That needs the gradient of
every example separately, which ``vmap(grad(loss))`` gives in one batched pass: ``loss`` is
written for one example, and ``in_dims=(None, 0, 0)`` shares the parameters and maps over
the examples. An MLP 2-32-2 learns the two-moons data this way.

    python examples/per_example_gradients.py [--epochs 60] [--clip 1.0] [--noise 0.5]
"""
import argparse

import numpy as np

import wengert as wg
from wengert import nn
from wengert.data import moons
from wengert.functional import functional_call
from wengert.nn import functional as F


def model_and_loss(seed=0):
    """The model, its parameters (a dict of tensors) and the loss of one example."""
    wg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 2))
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(p, x, y):                      # one example: x of shape (2,), y a class index
        return F.cross_entropy(functional_call(model, p, (x[None],)), y[None])
    return model, params, loss


def private_step(params, per_example, x, y, lr, clip, noise, rng):
    """One DP-SGD step: clip each example's gradient to norm ``clip``, sum, add noise, take
    the mean. Returns the new parameters."""
    grads = per_example(params, x, y)                          # each: (batch, *param.shape)
    norms = wg.sqrt(sum((g.reshape(g.shape[0], -1) ** 2).sum(axis=1) for g in grads.values()))
    scale = wg.clip(clip / (norms + 1e-12), a_max=1.0)        # per example, <= 1
    n = x.shape[0]
    new = {}
    for k, g in grads.items():
        clipped = (g * scale.reshape((n,) + (1,) * (g.ndim - 1))).sum(axis=0)
        noisy = clipped + wg.tensor(rng.normal(0.0, noise * clip, g.shape[1:]).astype(g.dtype))
        new[k] = params[k] - lr * noisy / n
    return new


def train(epochs=60, batch=32, lr=0.5, clip=1.0, noise=0.5, seed=0):
    """DP-SGD on 400 two-moons points; returns the model with the learned parameters and its
    accuracy on the training points."""
    data = moons(n=400, noise=0.1, seed=seed)
    X, Y = data.tensors
    model, params, loss = model_and_loss(seed)
    per_example = wg.vmap(wg.grad(loss), in_dims=(None, 0, 0))
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start:start + batch]
            params = private_step(params, per_example, X[idx], Y[idx], lr, clip, noise, rng)
    with wg.no_grad():
        logits = functional_call(model, params, (X,))
    accuracy = float((wg.argmax(logits, axis=1) == Y).astype("float32").mean())
    return model, params, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description="DP-SGD with per-example gradients (vmap)")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--noise", type=float, default=0.5)
    args = parser.parse_args(argv)
    _, _, accuracy = train(args.epochs, clip=args.clip, noise=args.noise)
    print(f"DP-SGD, clip {args.clip}, noise {args.noise}: training accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
