"""The whole stack against PyTorch: the same MLP, initial weights and mini-batches give the
same losses for 100 steps (float64, rtol 1e-6) with SGD + momentum and with Adam."""
import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
import wengert.optim as optim

SIZES = [10, 32, 16, 3]


def _batches(steps, batch=32, n=256):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, SIZES[0]))
    y = (x[:, :3].sum(axis=1) > 0).astype(np.int64) + (x[:, 3] > 1)  # 3 classes
    order = np.concatenate([rng.permutation(n) for _ in range(steps * batch // n + 1)])
    return [(x[order[i:i + batch]], y[order[i:i + batch]])
            for i in range(0, steps * batch, batch)]


def _torch_mlp(torch, ours):
    layers = []
    for m in ours:
        if isinstance(m, nn.Linear):
            lin = torch.nn.Linear(m.in_features, m.out_features)
            lin.weight.data = torch.tensor(m.weight.data.copy())  # same (out, in) layout
            lin.bias.data = torch.tensor(m.bias.data.copy())
            layers.append(lin)
        else:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.05, "momentum": 0.9}),
                                          ("Adam", {"lr": 1e-2})])
def test_mlp_training_matches_torch_for_100_steps(torch_mod, name, kwargs):
    wg.manual_seed(0)
    model = nn.MLP(SIZES, activation="relu").double()
    reference = _torch_mlp(torch_mod, model)
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch_mod.optim, name)(reference.parameters(), **kwargs)
    ours, theirs = [], []
    for x, y in _batches(100):
        opt.zero_grad()
        loss = F.cross_entropy(model(wg.tensor(x)), y)
        loss.backward()
        opt.step()
        ours.append(loss.item())
        topt.zero_grad()
        tloss = torch_mod.nn.functional.cross_entropy(reference(torch_mod.tensor(x)),
                                                      torch_mod.tensor(y))
        tloss.backward()
        topt.step()
        theirs.append(tloss.item())
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert ours[-1] < 0.5 * ours[0]  # and it actually learned
