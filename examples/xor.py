"""SEED-EXAMPLES item 15: XOR, the function one neuron cannot compute.

1. Wired by hand: XOR(a, b) = AND(OR(a, b), NAND(a, b)) with sigmoid neurons whose weights
   (w_a, w_b, bias) are OR (20, 20, -10), NAND (-20, -20, 30), AND (20, 20, -30).
2. Learned: a 2-2-1 network (tanh hidden layer, sigmoid output) trained from random weights
   on the four rows of the truth table with binary cross-entropy. About half of all random
   starts of so small a network end in a local minimum that gets two rows wrong, so the
   example restarts from the next seed until the table is right (and says how often).

    python examples/xor.py [--steps 500] [--seed 0]
"""
import argparse

import wengert as wg
from wengert import nn, optim
from wengert.nn import functional as F

INPUTS = wg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = wg.tensor([[0.0], [1.0], [1.0], [0.0]])


def neuron(x, w_a, w_b, bias):
    return wg.sigmoid(w_a * x[:, 0] + w_b * x[:, 1] + bias)


def hand_wired(x):
    """Outputs of the hand-wired OR/NAND/AND network for rows of ``x``."""
    hidden = wg.stack([neuron(x, 20, 20, -10), neuron(x, -20, -20, 30)], axis=1)
    return neuron(hidden, 20, 20, -30)


def train_2_2_1(steps=500, seed=0):
    """A 2-2-1 network trained on the truth table; returns it and its final loss."""
    wg.manual_seed(seed)
    model = nn.MLP([2, 2, 1], activation="tanh")
    optimizer = optim.Adam(model.parameters(), lr=0.1)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(INPUTS), TARGETS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, loss.item()


def learn_xor(steps=500, seed=0, attempts=10):
    """Train from seeds ``seed, seed + 1, ...`` until the outputs round to XOR; returns the
    model, its final loss and the seed that worked."""
    for s in range(seed, seed + attempts):
        model, loss = train_2_2_1(steps, s)
        if (predict(model).round() == TARGETS[:, 0]).all():
            return model, loss, s
    raise RuntimeError(f"no start among seeds {seed}..{seed + attempts - 1} learned XOR")


def predict(model):
    """The network's probabilities for the four rows."""
    with wg.no_grad():
        return wg.sigmoid(model(INPUTS))[:, 0]


def main(argv=None):
    parser = argparse.ArgumentParser(description="XOR by hand and by training")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    wired = hand_wired(INPUTS)
    model, loss, seed = learn_xor(args.steps, args.seed)
    learned = predict(model)
    print(" a  b | XOR | hand-wired | learned 2-2-1")
    for (a, b), t, w, l in zip(INPUTS.tolist(), TARGETS[:, 0].tolist(), wired.tolist(),
                               learned.tolist()):
        print(f" {a:.0f}  {b:.0f} |  {t:.0f}  |   {w:.4f}   |   {l:.4f}")
    print(f"2-2-1 network: final loss {loss:.4f} after {args.steps} Adam steps from seed "
          f"{seed} ({seed - args.seed} restart(s) after a local minimum)")


if __name__ == "__main__":
    main()
