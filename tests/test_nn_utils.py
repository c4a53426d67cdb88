"""nn.utils: gradient clipping and flat parameter vectors, against torch.nn.utils."""
import math

import numpy as np
import pytest

import wengert as wg
from wengert import nn
from wengert.nn import utils


def _pair(torch, rng, shapes, scale=1.0):
    """The same parameters with the same (random) gradients in wengert and in torch."""
    ws, ts = [], []
    for shape in shapes:
        value, grad = rng.standard_normal(shape), rng.standard_normal(shape) * scale
        w = wg.tensor(value, requires_grad=True)
        w.grad = wg.tensor(grad)
        t = torch.tensor(value, requires_grad=True)
        t.grad = torch.tensor(grad)
        ws.append(w)
        ts.append(t)
    return ws, ts


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipped, and left alone
def test_clip_grad_norm_matches_torch(torch_mod, norm_type, max_norm):
    rng = np.random.default_rng(0)
    ws, ts = _pair(torch_mod, rng, [(3, 4), (4,), (2, 2, 2)])
    w_total = utils.clip_grad_norm_(ws, max_norm, norm_type=norm_type)
    t_total = torch_mod.nn.utils.clip_grad_norm_(ts, max_norm, norm_type=norm_type)
    assert w_total.item() == pytest.approx(t_total.item(), rel=1e-12)
    for w, t in zip(ws, ts):
        np.testing.assert_allclose(w.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_bounds_the_norm_and_keeps_the_direction():
    # derived by hand: gradients (3, 4) have norm 5; clipped to 1 they become (0.6, 0.8)
    w = wg.tensor([0.0, 0.0], requires_grad=True)
    w.grad = wg.tensor([3.0, 4.0])
    assert utils.clip_grad_norm_([w], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_skips_parameters_without_gradients_and_takes_one_tensor():
    a = wg.tensor([1.0], requires_grad=True)
    b = wg.tensor([2.0], requires_grad=True)
    b.grad = wg.tensor([4.0])
    assert utils.clip_grad_norm_([a, b], 2.0).item() == pytest.approx(4.0)
    assert a.grad is None and b.grad.item() == pytest.approx(2.0, rel=1e-5)
    assert utils.clip_grad_norm_(b, 1.0).item() == pytest.approx(2.0, rel=1e-5)


def test_clip_grad_norm_keeps_float32_gradients_float32():
    layer = nn.Linear(3, 2)
    layer(wg.ones(4, 3)).sum().backward()
    total = utils.clip_grad_norm_(layer.parameters(), 0.1)
    assert total.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())
    norm = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum())
                         for p in layer.parameters()))
    assert norm == pytest.approx(0.1, rel=1e-5)


def test_clip_grad_norm_refuses_a_nonfinite_norm_when_asked(torch_mod):
    w = wg.tensor([1.0, 2.0], requires_grad=True)
    w.grad = wg.tensor([np.nan, 1.0])
    t = torch_mod.tensor([1.0, 2.0], requires_grad=True)
    t.grad = torch_mod.tensor([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        torch_mod.nn.utils.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
    with pytest.raises(wg.AnomalyError, match="non-finite.*error_if_nonfinite=False"):
        utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert np.isnan(w.grad.numpy()[0])  # nothing was scaled
    with pytest.raises(wg.ArgumentError, match="max_norm"):
        utils.clip_grad_norm_([w], -1.0)


def test_clip_grad_value_matches_torch(torch_mod):
    rng = np.random.default_rng(1)
    ws, ts = _pair(torch_mod, rng, [(5, 3), (3,)], scale=2.0)
    utils.clip_grad_value_(ws, 0.7)
    torch_mod.nn.utils.clip_grad_value_(ts, 0.7)
    for w, t in zip(ws, ts):
        np.testing.assert_array_equal(w.grad.numpy(), t.grad.numpy())


def test_row_sparse_gradients_clip_as_their_dense_sum():
    # repeated rows add up first: the dense gradient is the oracle
    emb = nn.Embedding(5, 2, sparse=True)
    dense = nn.Embedding(5, 2)
    with wg.no_grad():
        dense.weight[...] = emb.weight
    ids = wg.tensor([1, 1, 3])
    for e in (emb, dense):
        (e(ids) * wg.tensor([[2.0, -1.0], [2.0, 0.5], [0.3, 0.1]])).sum().backward()
    assert type(emb.weight.grad).__name__ == "RowSparse"
    sparse_norm = utils.clip_grad_norm_(emb.parameters(), 1.0)
    dense_norm = utils.clip_grad_norm_(dense.parameters(), 1.0)
    assert sparse_norm.item() == pytest.approx(dense_norm.item(), rel=1e-6)
    np.testing.assert_allclose(emb.weight.grad.to_dense(), dense.weight.grad.numpy(), rtol=1e-6)
    emb.weight.grad = None
    dense.weight.grad = None
    for e in (emb, dense):
        (e(ids) * 3.0).sum().backward()
        utils.clip_grad_value_(e.parameters(), 4.0)  # row 1's summed 6 clamps to 4
    np.testing.assert_allclose(emb.weight.grad.to_dense(), dense.weight.grad.numpy())


def test_parameters_to_vector_and_back_match_torch(torch_mod):
    rng = np.random.default_rng(2)
    ws, ts = _pair(torch_mod, rng, [(2, 3), (3,)])
    wv = utils.parameters_to_vector(ws)
    tv = torch_mod.nn.utils.parameters_to_vector(ts)
    np.testing.assert_array_equal(wv.detach().numpy(), tv.detach().numpy())
    # differentiable: d(sum(v * c))/dp = c, reshaped
    c = rng.standard_normal(9)
    for w in ws:
        w.grad = None
    (wv * wg.tensor(c)).sum().backward()
    np.testing.assert_array_equal(ws[0].grad.numpy(), c[:6].reshape(2, 3))
    new = rng.standard_normal(9)
    utils.vector_to_parameters(wg.tensor(new), ws)
    torch_mod.nn.utils.vector_to_parameters(torch_mod.tensor(new), ts)
    for w, t in zip(ws, ts):
        np.testing.assert_array_equal(w.detach().numpy(), t.detach().numpy())
    with pytest.raises(wg.ShapeError, match="vector_to_parameters.*\\(8,\\).*9 entries"):
        utils.vector_to_parameters(wg.zeros(8), ws)


def test_fit_clips_each_step(torch_mod):
    # one SGD step of fit(clip_grad_norm=...) equals the same step in torch with clipping
    from wengert import optim
    from wengert.train import fit
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    model = nn.Linear(3, 2, dtype="float64")
    tmodel = torch_mod.nn.Linear(3, 2)
    with torch_mod.no_grad():
        tmodel.weight.copy_(torch_mod.tensor(model.weight.data))
        tmodel.bias.copy_(torch_mod.tensor(model.bias.data))
    fit(model, nn.functional.cross_entropy, optim.SGD(model.parameters(), lr=1.0),
        [(wg.tensor(x), wg.tensor(y))], epochs=1, metrics=(), progress=False,
        clip_grad_norm=0.05)
    topt = torch_mod.optim.SGD(tmodel.parameters(), lr=1.0)
    torch_mod.nn.functional.cross_entropy(tmodel(torch_mod.tensor(x)),
                                          torch_mod.tensor(y)).backward()
    torch_mod.nn.utils.clip_grad_norm_(tmodel.parameters(), 0.05)
    topt.step()
    np.testing.assert_allclose(model.weight.data, tmodel.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(model.bias.data, tmodel.bias.detach().numpy(), rtol=1e-12)
    with pytest.raises(wg.ArgumentError, match="clip_grad_norm must be a positive"):
        fit(model, nn.functional.cross_entropy, optim.SGD(model.parameters(), lr=1.0),
            [(wg.tensor(x), wg.tensor(y))], epochs=1, progress=False, clip_grad_norm=0)
