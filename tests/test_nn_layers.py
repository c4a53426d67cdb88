"""Layers and activations against PyTorch (values and gradients in float64), the sparse
embedding gradient, dropout's statistics and seeding, Maxout and MLP."""
import re

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.sparse import RowSparse


def t64(a, requires_grad=True):
    return wg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _copy_params(ours, theirs, torch):
    """Give the torch module our parameter values (same names, same layouts)."""
    for name, p in ours.named_parameters():
        getattr(theirs, name).data = torch.tensor(p.data.copy())


def _check_module(torch, ours, theirs, x, rtol=1e-10):
    """Output, input gradient and parameter gradients agree for a random upstream gradient."""
    _copy_params(ours, theirs, torch)
    xt, tx = t64(x), torch.tensor(x, requires_grad=True)
    out, tout = ours(xt), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=1e-12)
    w = np.random.default_rng(7).normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch.as_tensor(w)).sum().backward()
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-12)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, getattr(theirs, name).grad.numpy(),
                                   rtol=rtol, atol=1e-12, err_msg=name)


# --- Linear -----------------------------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (3,), (2, 4, 3)])
def test_linear_matches_torch(torch_mod, rng, bias, shape):
    ours = nn.Linear(3, 4, bias=bias, dtype="float64")
    _check_module(torch_mod, ours, torch_mod.nn.Linear(3, 4, bias=bias), rng.normal(size=shape))


def test_linear_weight_layout_and_default_init():
    wg.manual_seed(3)
    lin = nn.Linear(400, 7)
    assert lin.weight.shape == (7, 400) and lin.bias.shape == (7,)
    assert lin.weight.dtype == np.float32
    bound = 1 / np.sqrt(400)  # PyTorch's default: U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(lin.weight.data).max() <= bound and np.abs(lin.weight.data).max() > 0.9 * bound
    # U(-b, b) has standard deviation b / sqrt(3)
    assert lin.weight.data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)


def test_seed_9_affine_unit_gradients():
    """A = X W^T + b (our layout): dW = dA^T X, db = sum of rows of dA, dX = dA W."""
    x = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
    w = np.array([[3.0, 2.0, 3.0], [2.0, 1.0, 2.0], [1.0, 3.0, 1.0], [-1.0, 2.0, -2.0]])
    da = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])
    xt, wt, bt = t64(x), t64(w), t64(np.zeros(4))
    F.linear(xt, wt, bt).backward(wg.tensor(da))
    # SEED-EXAMPLES 8 with w there = our W^T: dL/dx = [[0,16,-9],[-24,9,-30]]
    np.testing.assert_array_equal(xt.grad.data, [[0, 16, -9], [-24, 9, -30]])
    np.testing.assert_array_equal(wt.grad.data.T, [[28, 3, -18, 0], [-30, 7, 13, 33],
                                                   [-22, -7, 17, -15]])
    np.testing.assert_array_equal(bt.grad.data, [-6, 4, 1, 15])


def test_linear_shape_error_names_layout():
    with pytest.raises(wg.ShapeError, match=r"linear: input of shape \(2, 5\).*\(4, 3\).*"
                                            r"\(out_features, in_features\)"):
        nn.Linear(3, 4)(wg.zeros(2, 5))


# --- Embedding --------------------------------------------------------------------------------
def test_embedding_matches_torch_dense(torch_mod, rng):
    ours = nn.Embedding(6, 3, dtype="float64")
    theirs = torch_mod.nn.Embedding(6, 3)
    _copy_params(ours, theirs, torch_mod)
    idx = np.array([[1, 4, 1], [0, 5, 1]])
    out, tout = ours(idx), theirs(torch_mod.as_tensor(idx))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    w = rng.normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch_mod.as_tensor(w)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-14)


def test_sparse_embedding_gradient_holds_only_used_rows(rng):
    dense, sparse = nn.Embedding(10, 4, dtype="float64"), nn.Embedding(10, 4, sparse=True,
                                                                       dtype="float64")
    sparse.load_state_dict(dense.state_dict())
    idx = np.array([[3, 7], [3, 0]])
    w = rng.normal(size=(2, 2, 4))
    (dense(idx) * w).sum().backward()
    (sparse(wg.tensor(idx)) * w).sum().backward()
    g = sparse.weight.grad
    assert isinstance(g, RowSparse) and g.shape == (10, 4)
    assert sorted(set(g.indices.tolist())) == [0, 3, 7]
    np.testing.assert_allclose(g.to_dense(), dense.weight.grad.data, rtol=1e-14)
    assert repr(sparse) == "Embedding(10, 4, sparse=True)"


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("padding_idx", [2, -1])
def test_embedding_padding_idx_matches_torch(torch_mod, rng, sparse, padding_idx):
    ours = nn.Embedding(6, 3, padding_idx=padding_idx, sparse=sparse, dtype="float64")
    theirs = torch_mod.nn.Embedding(6, 3, padding_idx=padding_idx, sparse=sparse)
    row = padding_idx % 6
    np.testing.assert_array_equal(ours.weight.data[row], 0.0)  # initialised to zeros
    assert ours.padding_idx == theirs.padding_idx == row
    assert repr(ours) == repr(theirs)
    with wg.no_grad():  # a padding row that is not zero is read as it is
        ours.weight.data[row] = 5.0
    _copy_params(ours, theirs, torch_mod)
    idx = np.array([[row, 1, row], [0, 4, 1]])
    out, tout = ours(wg.tensor(idx)), theirs(torch_mod.as_tensor(idx))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    w = rng.normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch_mod.as_tensor(w)).sum().backward()
    g, tg = ours.weight.grad, theirs.weight.grad
    if sparse:  # the padding row is left out of the sparse gradient, as PyTorch's
        assert isinstance(g, RowSparse) and row not in g.indices
        assert sorted(set(g.indices.tolist())) == sorted(set(tg.coalesce().indices()[0].tolist()))
        g, tg = g.to_dense(), tg.to_dense()
    else:
        g = g.data
    np.testing.assert_allclose(g, tg.numpy(), rtol=1e-14)
    np.testing.assert_array_equal(g[row], 0.0)


@pytest.mark.parametrize("sparse", [False, True])
def test_embedding_padding_row_stays_put_while_training(sparse):
    emb = nn.Embedding(5, 2, padding_idx=0, sparse=sparse, dtype="float64")
    with wg.no_grad():
        emb.weight.data[0] = 1.5
    before = emb.weight.data.copy()
    opt = (wg.optim.SparseAdam if sparse else wg.optim.Adam)(emb.parameters(), lr=0.1)
    for idx in ([[0, 3], [0, 0]], [[0, 0]], [[1, 0]]):  # the second batch is all padding
        opt.zero_grad()
        (emb(np.array(idx)) ** 2).sum().backward()
        opt.step()
    np.testing.assert_array_equal(emb.weight.data[0], 1.5)
    assert (emb.weight.data[[1, 3]] != before[[1, 3]]).all()
    np.testing.assert_array_equal(emb.weight.data[[2, 4]], before[[2, 4]])


def test_embedding_padding_idx_functional_float32_and_errors(torch_mod, rng):
    weight = wg.tensor(rng.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    idx = np.array([3, 1, 3])
    out = F.embedding(idx, weight, padding_idx=3)
    out.sum().backward()
    tw = torch_mod.tensor(weight.data, requires_grad=True)
    torch_mod.nn.functional.embedding(torch_mod.as_tensor(idx), tw, padding_idx=3).sum().backward()
    assert out.dtype == np.float32 and weight.grad.dtype == np.float32
    np.testing.assert_array_equal(out.data, weight.data[idx])
    np.testing.assert_array_equal(weight.grad.data, tw.grad.numpy())
    for bad in (4, -5):
        with pytest.raises(wg.ArgumentError, match=rf"Embedding: padding_idx={bad} must be in "
                                                   r"\[-4, 4\)"):
            nn.Embedding(4, 3, padding_idx=bad)
        with pytest.raises(AssertionError, match="Padding_idx"):  # PyTorch refuses them too
            torch_mod.nn.Embedding(4, 3, padding_idx=bad)
    with pytest.raises(wg.ArgumentError, match=r"embedding: padding_idx=4"):
        F.embedding(idx, weight, padding_idx=4)


def test_embedding_index_errors():
    emb = nn.Embedding(5, 2)
    with pytest.raises(wg.ShapeError, match=r"embedding: indices must be in \[0, 5\)"):
        emb(np.array([1, 5]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([1.0]))


# --- Dropout, Flatten, Identity ---------------------------------------------------------------
def test_dropout_statistics_and_scaling():
    x = wg.ones(200, 500, dtype="float64", requires_grad=True)
    y = F.dropout(x, p=0.3, generator=wg.Generator(0))
    kept = y.data != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.005)
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)  # inverted dropout keeps E[y] = x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, kept / 0.7)


def test_dropout_eval_is_identity_and_seeded_masks_repeat():
    drop = nn.Dropout(0.5)
    x = wg.randn(4, 6)
    drop.eval()
    assert drop(x) is x
    drop.train()
    a = F.dropout(x, 0.5, generator=wg.Generator(42)).data
    b = F.dropout(x, 0.5, generator=wg.Generator(42)).data
    np.testing.assert_array_equal(a, b)
    wg.manual_seed(1)
    c = drop(x).data
    wg.manual_seed(1)
    np.testing.assert_array_equal(drop(x).data, c)
    assert (F.dropout(x, 1.0).data == 0).all() and F.dropout(x, 0.0) is x


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="p=1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="p=-0.1"):
        F.dropout(wg.ones(2), -0.1)


def test_flatten_and_identity():
    x = wg.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Identity()(x) is x


# --- normalisation ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape, normalized", [((4, 5), 5), ((2, 3, 4), (3, 4))])
def test_layer_norm_matches_torch(torch_mod, rng, shape, normalized):
    ours = nn.LayerNorm(normalized, dtype="float64")
    with wg.no_grad():  # non-trivial affine parameters
        ours.weight[...] = rng.normal(size=ours.weight.shape)
        ours.bias[...] = rng.normal(size=ours.bias.shape)
    _check_module(torch_mod, ours, torch_mod.nn.LayerNorm(normalized), rng.normal(size=shape))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batch_norm_matches_torch_in_train_and_eval(torch_mod, rng, shape):
    ours, theirs = nn.BatchNorm1d(3, dtype="float64"), torch_mod.nn.BatchNorm1d(3)
    with wg.no_grad():
        ours.weight[...] = rng.normal(size=3)
    for _ in range(3):  # training steps update the running statistics
        _check_module(torch_mod, ours, theirs, rng.normal(2.0, 3.0, shape))
        for p in ours.parameters():
            p.grad = None
        theirs.zero_grad()
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(ours, name).data,
                                   getattr(theirs, name).numpy(), rtol=1e-12)
    assert ours.num_batches_tracked.item() == 3
    ours.eval()
    theirs.eval()
    _check_module(torch_mod, ours, theirs, rng.normal(size=shape))


def test_batch_norm_cumulative_average_and_no_tracking(torch_mod, rng):
    ours, theirs = nn.BatchNorm1d(2, momentum=None, dtype="float64"), \
        torch_mod.nn.BatchNorm1d(2, momentum=None)
    for _ in range(3):
        x = rng.normal(size=(5, 2))
        ours(t64(x))
        theirs(torch_mod.tensor(x))
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)
    plain = nn.BatchNorm1d(2, track_running_stats=False, affine=False, dtype="float64").eval()
    _check_module(torch_mod, plain, torch_mod.nn.BatchNorm1d(2, track_running_stats=False,
                                                             affine=False).eval(),
                  rng.normal(size=(4, 2)))
    assert list(plain.state_dict()) == []


def test_batch_norm_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match=r"more than one value per channel.*\(1, 3\)"):
        nn.BatchNorm1d(3)(wg.ones(1, 3))


@pytest.mark.parametrize("shape", [(8, 1), (8, 3), (4, 1, 6)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_refuses_another_channel_count_and_leaves_its_state(torch_mod, shape,
                                                                       affine):
    # BatchNorm1d(5, affine=False) on (8, 1) used to broadcast channel 0's statistics into
    # all five running ones without an error; PyTorch refuses it ("running_mean should
    # contain 1 elements not 5").
    with pytest.raises(RuntimeError, match="should contain"):
        torch_mod.nn.BatchNorm1d(5, affine=affine)(torch_mod.ones(shape))
    bn = nn.BatchNorm1d(5, affine=affine)
    for training in (True, False):
        bn.train(training)
        with pytest.raises(wg.ShapeError, match=re.escape(
                f"batch_norm: running_mean of shape (5,) does not fit an input of shape "
                f"{shape} with {shape[1]} channels (axis 1). Hint: BatchNorm1d(num_features) "
                f"needs num_features = input.shape[1] = {shape[1]}")):
            bn(wg.randn(*shape))
    assert (bn.running_mean.data == 0).all() and (bn.running_var.data == 1).all()
    assert bn.num_batches_tracked.item() == 0


def test_functional_batch_norm_checks_weights_and_running_statistics():
    x = wg.randn(4, 3)
    with pytest.raises(wg.ShapeError, match=r"batch_norm: weight of shape \(2,\) does not fit"):
        F.batch_norm(x, None, None, weight=wg.ones(2), training=True)
    with pytest.raises(wg.ArgumentError, match="give both running_mean and running_var"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(wg.ArgumentError, match="give both running_mean and running_var"):
        F.batch_norm(x, wg.zeros(3), None, training=True)


# --- activations ------------------------------------------------------------------------------
ACTIVATION_PAIRS = [
    (nn.Sigmoid(), "Sigmoid", {}), (nn.Tanh(), "Tanh", {}), (nn.ReLU(), "ReLU", {}),
    (nn.LeakyReLU(0.2), "LeakyReLU", {"negative_slope": 0.2}), (nn.ELU(0.7), "ELU", {"alpha": 0.7}),
    (nn.GELU(), "GELU", {}), (nn.GELU("tanh"), "GELU", {"approximate": "tanh"}),
    (nn.SiLU(), "SiLU", {}),
    (nn.Softplus(), "Softplus", {}), (nn.Softplus(beta=2.0, threshold=3.0), "Softplus",
                                      {"beta": 2.0, "threshold": 3.0}),
    (nn.Softmax(dim=1), "Softmax", {"dim": 1}), (nn.LogSoftmax(dim=0), "LogSoftmax", {"dim": 0}),
]


@pytest.mark.parametrize("ours, name, kwargs", ACTIVATION_PAIRS, ids=lambda v: repr(v)[:40])
def test_activation_modules_match_torch(torch_mod, rng, ours, name, kwargs):
    x = rng.normal(0, 3, (4, 5))
    x[0, 0] = 0.3  # Softplus(beta=2, threshold=3): one entry on each side of the threshold
    x[0, 1] = 1.8
    _check_module(torch_mod, ours, getattr(torch_mod.nn, name)(**kwargs), x)


def test_maxout_by_hand():
    x = t64([[1.0, 5.0, -2.0, 3.0, 0.0, 4.0]])
    y = nn.Maxout(2)(x)
    np.testing.assert_array_equal(y.data, [[5.0, 3.0, 4.0]])
    y.backward(wg.tensor(np.array([[10.0, 20.0, 30.0]])))
    np.testing.assert_array_equal(x.grad.data, [[0, 10, 0, 20, 0, 30]])
    z = F.maxout(t64(np.arange(12.0).reshape(2, 6, 1)), 3, dim=1)
    np.testing.assert_array_equal(z.data[..., 0], [[2, 5], [8, 11]])
    with pytest.raises(wg.ShapeError, match="not a multiple of k=4"):
        nn.Maxout(4)(x)


# --- MLP --------------------------------------------------------------------------------------
def test_mlp_structure():
    mlp = nn.MLP([4, 8, 8, 3], activation="tanh", dropout=0.1, output="softmax")
    kinds = [type(m).__name__ for m in mlp]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear",
                     "Softmax"]
    assert [n for n, _ in mlp.named_parameters()] == ["0.weight", "0.bias", "3.weight",
                                                      "3.bias", "6.weight", "6.bias"]
    out = mlp.eval()(wg.randn(5, 4))
    np.testing.assert_allclose(out.data.sum(axis=1), 1, rtol=1e-6)
    assert [type(m).__name__ for m in nn.MLP([2, 1])] == ["Linear"]
    assert isinstance(nn.MLP([2, 3, 1], activation=lambda: nn.LeakyReLU(0.3))[1], nn.LeakyReLU)


def test_mlp_unknown_activation_lists_allowed_names():
    with pytest.raises(ValueError, match="unknown activation 'swish'; use one of elu, gelu, "
                                         "identity, leaky_relu, log_softmax, relu, sigmoid, "
                                         "silu, softmax, softplus, tanh") as info:
        nn.MLP([2, 3, 1], activation="swish")
    assert isinstance(info.value, wg.WengertError)
    with pytest.raises(ValueError, match="sizes=\\[2\\] needs"):
        nn.MLP([2])
