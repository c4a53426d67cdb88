"""SEED-EXAMPLES item 18, the learned circle: points are labelled 1 outside a circle and 0
inside; the model

    z = (x1 - w1)^2 + (x2 - w2)^2 - w0^2,    y_hat = sigmoid(z)

trained by plain gradient descent on binary cross-entropy recovers the circle's centre
(w1, w2) and radius |w0|.

    python examples/circle.py [--steps 2000] [--lr 0.5] [--seed 0]
"""
import argparse

import numpy as np

import wengert as wg
from wengert.nn import functional as F

CENTRE, RADIUS = (1.0, -0.5), 1.5


def points(n=1000, seed=0):
    """Points uniform in the square [-3, 3]^2 around the centre, labelled by the circle."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=(n, 2)) + CENTRE
    y = (np.hypot(x[:, 0] - CENTRE[0], x[:, 1] - CENTRE[1]) > RADIUS).astype(np.float64)
    return wg.tensor(x), wg.tensor(y)


def learn_circle(steps=2000, lr=0.5, seed=0):
    """Gradient descent from w = (1, 0, 0): returns (radius, centre x, centre y) and the
    final loss."""
    x, y = points(seed=seed)
    w = wg.tensor([1.0, 0.0, 0.0], dtype="float64", requires_grad=True)
    for _ in range(steps):
        z = (x[:, 0] - w[1]) ** 2 + (x[:, 1] - w[2]) ** 2 - w[0] ** 2
        loss = F.binary_cross_entropy_with_logits(z, y)
        loss.backward()
        with wg.no_grad():
            w -= lr * w.grad
            w.grad = None
    return abs(w[0].item()), w[1].item(), w[2].item(), loss.item()


def main(argv=None):
    parser = argparse.ArgumentParser(description="recover a circle by gradient descent")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    radius, cx, cy, loss = learn_circle(args.steps, args.lr, args.seed)
    print(f"true:    centre ({CENTRE[0]:.3f}, {CENTRE[1]:.3f}), radius {RADIUS:.3f}")
    print(f"learned: centre ({cx:.3f}, {cy:.3f}), radius {radius:.3f} (loss {loss:.4f})")


if __name__ == "__main__":
    main()
