"""SEED-EXAMPLES item 16, "a two-layer network in 20 lines": the same network trained twice
from the same weights, once with hand-written NumPy gradients and once by wengert's reverse
mode. The losses agree at every step (float64).

    python examples/two_layer_20_lines.py [--steps 500]
"""
import argparse

import numpy as np

import wengert as wg

N, D_in, H, D_out = 64, 1000, 100, 10
LR = 1e-4


def problem(seed=0):
    """Random inputs, targets and initial weights (float64)."""
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((N, D_in)), rng.standard_normal((N, D_out))
    w1, w2 = rng.standard_normal((D_in, H)), rng.standard_normal((H, D_out))
    return x, y, w1, w2


def numpy_losses(x, y, w1, w2, steps):
    """The lecture's 20 lines: sigmoid hidden layer, sum of squared errors, gradient descent
    with the backward pass written by hand."""
    w1, w2 = w1.copy(), w2.copy()
    losses = []
    for _ in range(steps):
        h = 1 / (1 + np.exp(-x @ w1))
        y_pred = h @ w2
        losses.append(np.square(y_pred - y).sum())
        grad_y_pred = 2 * (y_pred - y)
        grad_w2 = h.T @ grad_y_pred
        grad_h = grad_y_pred @ w2.T
        grad_w1 = x.T @ (grad_h * h * (1 - h))
        w1 -= LR * grad_w1
        w2 -= LR * grad_w2
    return losses


def wengert_losses(x, y, w1, w2, steps):
    """The same network with the backward pass done by ``loss.backward()``."""
    x, y = wg.tensor(x), wg.tensor(y)
    w1, w2 = wg.tensor(w1, requires_grad=True), wg.tensor(w2, requires_grad=True)
    losses = []
    for _ in range(steps):
        y_pred = wg.sigmoid(x @ w1) @ w2
        loss = ((y_pred - y) ** 2).sum()
        losses.append(loss.item())
        loss.backward()
        with wg.no_grad():
            for w in (w1, w2):
                w -= LR * w.grad
                w.grad = None
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    steps = parser.parse_args(argv).steps
    reference, ours = (f(*problem(), steps) for f in (numpy_losses, wengert_losses))
    for t in range(0, steps, max(1, steps // 10)):
        print(f"step {t:4d}  numpy {reference[t]:14.6f}  wengert {ours[t]:14.6f}")
    worst = max(abs(a - b) / abs(a) for a, b in zip(reference, ours))
    print(f"largest relative difference over {steps} steps: {worst:.2e}")


if __name__ == "__main__":
    main()
