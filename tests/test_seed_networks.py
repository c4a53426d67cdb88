"""SEED-EXAMPLES 14-19 (the lectures' networks) through wengert.nn and wengert.optim."""
import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
import wengert.optim as optim
from wengert.check import numerical_grad


def t64(a, requires_grad=False):
    return wg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def test_14_perceptron():
    x = t64([2, 3, -1, 5, 1])  # the last input is the constant 1 that carries the bias
    w = t64([[0.1, 0.5, 2.5, 0.2, 3.0]])
    a = F.linear(x, w)
    assert a.item() == pytest.approx(3.2, abs=1e-12)
    assert F.sigmoid(a).item() == pytest.approx(0.961, abs=1e-3)


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def test_15_xor_from_or_nand_and_neurons():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid()).double()
    net.load_state_dict({"0.weight": [[20, 20], [-20, -20]], "0.bias": [-10, 30],  # OR, NAND
                         "2.weight": [[20, 20]], "2.bias": [-30]})                  # AND
    hidden = net[:2](t64(XOR_X)).data
    np.testing.assert_array_equal(np.round(hidden), [[0, 1], [1, 1], [1, 1], [1, 0]])
    np.testing.assert_array_equal(np.round(net(t64(XOR_X)).data), XOR_Y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_15_two_two_one_network_learns_xor(seed):
    wg.manual_seed(seed)
    net = nn.MLP([2, 2, 1], activation="sigmoid", output="sigmoid").double()
    opt = optim.SGD(net.parameters(), lr=2.0, momentum=0.9)
    x = t64(XOR_X)
    for _ in range(1000):
        opt.zero_grad()
        loss = F.binary_cross_entropy(net(x), XOR_Y)
        loss.backward()
        opt.step()
    np.testing.assert_array_equal(net(x).data > 0.5, XOR_Y == 1)
    assert loss.item() < 0.01


def test_17_regression_unit():
    lin = nn.Linear(1, 1).double()
    lin.load_state_dict({"weight": [[4.0]], "bias": [2.0]})
    z = lin(t64([2.0]))  # 4 * 2 + 2 = 10
    loss = F.mse_loss(z, np.array([7.0]), reduction="sum")
    assert z.item() == 10 and loss.item() == 9
    loss.backward()
    assert lin.bias.grad.item() == 6  # 2 (z - y)
    assert lin.weight.grad.item() == 12  # 2 (z - y) x


def test_18_learned_circle_recovers_centre_and_radius():
    rng = np.random.default_rng(0)
    centre, radius = np.array([1.0, -0.5]), 2.0
    points = rng.uniform(-4, 4, (400, 2)) + centre
    labels = (((points - centre) ** 2).sum(axis=1) > radius ** 2).astype(np.float64)
    w = t64([1.0, 0.0, 0.0], requires_grad=True)  # (w0, w1, w2) = (radius, centre)
    opt = optim.SGD([w], lr=0.05)
    x = t64(points)
    for _ in range(500):
        opt.zero_grad()
        z = ((x - w[1:]) ** 2).sum(axis=1) - w[0] ** 2
        F.binary_cross_entropy_with_logits(z, labels).backward()
        opt.step()
    assert abs(w.data[0]) == pytest.approx(radius, abs=0.05)
    np.testing.assert_allclose(w.data[1:], centre, atol=0.05)


def test_19_two_layer_model_with_decay_passes_the_gradient_checker():
    rng = np.random.default_rng(19)
    x, t, lam = rng.normal(size=(6, 4)), rng.integers(0, 3, 6), 0.3
    params = [rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=(3, 5)),
              rng.normal(size=3)]  # W1, b1, W2, b2 in Linear's (out, in) layout

    def loss_fn(w1, b1, w2, b2, decay=lam):
        z = F.relu(F.linear(t64(x), w1, b1))  # A1 = affine(X, (W1, b1)), Z = relu(A1)
        a2 = F.linear(z, w2, b2)               # A2 = affine(Z, (W2, b2))
        return F.cross_entropy(a2, t) + F.l2_penalty([w1, w2], decay)

    tensors = [t64(p, requires_grad=True) for p in params]
    loss = loss_fn(*tensors)
    # The value, by hand in NumPy: logistic (softmax + mean cross-entropy) plus the decay.
    a2 = np.maximum(x @ params[0].T + params[1], 0) @ params[2].T + params[3]
    logp = a2 - a2.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    decay = lam / 2 * ((params[0] ** 2).sum() + (params[2] ** 2).sum())
    assert loss.item() == pytest.approx(-logp[np.arange(6), t].mean() + decay, rel=1e-13)
    loss.backward()
    for k, p in enumerate(tensors):
        others = [a for j, a in enumerate(params) if j != k]
        expected = numerical_grad(loss_fn, params[k], argnum=k, others=others)
        np.testing.assert_allclose(p.grad.data, expected, rtol=1e-6, atol=1e-8,
                                   err_msg=f"parameter {k}")
    # backward of the decay adds exactly lam * W to each weight's gradient
    plain = [t64(p, requires_grad=True) for p in params]
    loss_fn(*plain, decay=0.0).backward()
    for k in (0, 2):
        np.testing.assert_allclose(tensors[k].grad.data - plain[k].grad.data,
                                   lam * params[k], rtol=1e-12, atol=1e-14)
