"""The small float64 problem the optimizer tests step wengert's and PyTorch's optimizers on
side by side."""
import numpy as np


def problem(module):
    """A small tanh regression in float64: (loss function, [W, b]) for wengert or torch."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 4))
    W, b = rng.normal(size=(3, 4)), rng.normal(size=(4,)) * 0.1
    X, Y = module.tensor(X), module.tensor(Y)
    params = [module.tensor(W, requires_grad=True), module.tensor(b, requires_grad=True)]

    def loss_fn():
        return ((module.tanh(X @ params[0] + params[1]) - Y) ** 2).mean()
    return loss_fn, params


def take_step(opt, loss_fn):
    opt.zero_grad()
    loss = loss_fn()
    loss.backward()
    opt.step()
    return loss.item()


def to_numpy(value):
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)
