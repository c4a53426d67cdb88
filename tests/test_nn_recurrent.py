"""The recurrent layers (RNN, LSTM, GRU), their cells and nn.utils.rnn against PyTorch: with
PyTorch's weights loaded through the state dict, outputs, h_n, c_n and the gradients of every
parameter, the input and h_0/c_0 in float64 (stacked, bidirectional, batch_first, proj_size,
unbatched, given h_0, packed sequences sorted and not); dropout between layers; state dict
names, shapes and order; repr; initialisation; the errors. The cells and a packed layer also
pass wengert's numerical gradient check (reverse and forward mode, second order)."""
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
from wengert import check
from wengert.errors import ArgumentError, DTypeError, ShapeError
from wengert.nn.utils import rnn as rnn_utils

# (layer, keyword arguments, input shape, lengths of a packed input or None, given h_0)
CONFIGS = [
    ("RNN", {}, (5, 2, 3), None, False),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, (5, 2, 3), None,
     True),
    ("RNN", {"batch_first": True, "bias": False}, (2, 5, 3), None, True),
    ("LSTM", {}, (5, 2, 3), None, False),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, (5, 2, 3), None, True),
    ("LSTM", {"batch_first": True, "bias": False}, (2, 5, 3), None, True),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True}, (5, 2, 3), None, True),
    ("LSTM", {"num_layers": 2}, (5, 3), None, True),  # unbatched
    ("LSTM", {"proj_size": 3, "batch_first": True}, (6, 3), None, False),  # unbatched
    ("GRU", {}, (5, 2, 3), None, False),
    ("GRU", {"num_layers": 2, "bidirectional": True}, (5, 2, 3), None, True),
    ("GRU", {"batch_first": True, "bias": False}, (2, 5, 3), None, True),
    ("GRU", {"num_layers": 2}, (5, 3), None, True),  # unbatched
    # packed: lengths not sorted (enforce_sorted=False), ties, a sequence of the full length
    ("RNN", {"num_layers": 2, "bidirectional": True}, (5, 4, 3), [2, 5, 1, 3], True),
    ("LSTM", {"num_layers": 2, "bidirectional": True}, (5, 4, 3), [2, 5, 1, 3], True),
    ("LSTM", {"proj_size": 2, "bidirectional": True, "batch_first": True}, (4, 5, 3),
     [2, 5, 2, 4], False),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}, (4, 5, 3),
     [3, 5, 1, 5], True),
]


def _pair(torch, name, kwargs, hidden=4):
    """Our layer and PyTorch's, built alike, PyTorch's random weights loaded into ours."""
    theirs = getattr(torch.nn, name)(3, hidden, **kwargs)
    ours = getattr(nn, name)(3, hidden, **kwargs, dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _states(name, kwargs, x_shape, lengths, rng):
    """Random h_0 (and c_0) arrays for the configuration."""
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    sizes = [kwargs.get("proj_size") or 4] + ([4] if name == "LSTM" else [])
    if len(x_shape) == 2:
        batch = ()
    elif lengths is not None:
        batch = (len(lengths),)
    else:
        batch = (x_shape[0] if kwargs.get("batch_first") else x_shape[1],)
    return [rng.normal(size=(layers, *batch, n)) for n in sizes]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}{c[1]}{c[2]}{c[3]}")
def test_layer_matches_torch(torch_mod, config):
    torch = torch_mod
    name, kwargs, x_shape, lengths, given = config
    ours, theirs = _pair(torch, name, kwargs)
    rng = np.random.default_rng(1)
    x = rng.normal(size=x_shape)
    xs, txs = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    states = _states(name, kwargs, x_shape, lengths, rng) if given else []
    hs = [wg.tensor(s, requires_grad=True) for s in states]
    ths = [torch.tensor(s, requires_grad=True) for s in states]
    hx = None if not given else (tuple(hs) if name == "LSTM" else hs[0])
    thx = None if not given else (tuple(ths) if name == "LSTM" else ths[0])
    inp, tinp = xs, txs
    if lengths is not None:
        first = kwargs.get("batch_first", False)
        inp = rnn_utils.pack_padded_sequence(xs, lengths, first, enforce_sorted=False)
        tinp = torch.nn.utils.rnn.pack_padded_sequence(txs, lengths, first,
                                                       enforce_sorted=False)
    out, hn = ours(inp, hx)
    tout, thn = theirs(tinp, thx)
    if lengths is not None:
        assert isinstance(out, rnn_utils.PackedSequence)
        np.testing.assert_array_equal(out.batch_sizes.data, tout.batch_sizes.numpy())
        np.testing.assert_array_equal(out.unsorted_indices.data, tout.unsorted_indices.numpy())
        out, tout = out.data, tout.data
    results = [out] + (list(hn) if name == "LSTM" else [hn])
    expected = [tout] + (list(thn) if name == "LSTM" else [thn])
    seeds = []
    for ours_t, theirs_t in zip(results, expected):
        assert ours_t.shape == tuple(theirs_t.shape)
        np.testing.assert_allclose(ours_t.data, theirs_t.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        seeds.append(rng.normal(size=ours_t.shape))
    sum((r * s).sum() for r, s in zip(results, seeds)).backward()
    sum((e * torch.tensor(s)).sum() for e, s in zip(expected, seeds)).backward()
    params = dict(ours.named_parameters())
    for key, p in theirs.named_parameters():
        np.testing.assert_allclose(params[key].grad.data, p.grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=key)
    for ours_t, theirs_t in zip([xs] + hs, [txs] + ths):
        np.testing.assert_allclose(ours_t.grad.data, theirs_t.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)


@pytest.mark.parametrize("name, kwargs", [
    ("RNN", {"num_layers": 3, "bidirectional": True, "bias": False}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
    ("LSTM", {"num_layers": 2, "proj_size": 3, "bias": False}),
    ("GRU", {"num_layers": 2, "batch_first": True, "dropout": 0.3}),
])
def test_state_dict_names_shapes_and_repr(torch_mod, name, kwargs):
    ours, theirs = _pair(torch_mod, name, kwargs, hidden=5)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert [v.shape for v in ours_sd.values()] == [tuple(v.shape) for v in theirs_sd.values()]
    assert repr(ours) == repr(theirs)
    assert [[p.shape for p in ps] for ps in ours.all_weights] == \
        [[tuple(p.shape) for p in ps] for ps in theirs.all_weights]


def test_cell_state_dict_and_repr(torch_mod):
    for name, kwargs in (("RNNCell", {"nonlinearity": "relu", "bias": False}),
                         ("LSTMCell", {}), ("GRUCell", {"bias": False})):
        theirs = getattr(torch_mod.nn, name)(3, 4, **kwargs)
        ours = getattr(nn, name)(3, 4, **kwargs)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("module", [lambda: nn.LSTM(2, 100, num_layers=2, proj_size=50),
                                    lambda: nn.GRUCell(3, 100)])
def test_initialisation_is_uniform_in_one_over_sqrt_hidden(module):
    m = module()
    bound = 1 / np.sqrt(100)
    values = np.concatenate([p.data.ravel() for p in m.parameters()])
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert values.size > 30000 and np.abs(values).max() <= bound
    # U(-b, b): mean 0, standard deviation b / sqrt(3); the extremes come close to +-b
    assert abs(values.mean()) < 0.01 * bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.01 * bound
    assert values.min() < -0.999 * bound and values.max() > 0.999 * bound


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_training_only(torch_mod, name):
    torch = torch_mod
    ours, theirs = _pair(torch, name, {"num_layers": 3, "dropout": 1.0})
    x = np.random.default_rng(2).normal(size=(4, 2, 3))
    # p = 1 zeroes the input of layers 1 and 2 in training: deterministic, so comparable
    out, tout = ours(wg.tensor(x))[0], theirs(torch.tensor(x))[0]
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.eval(), theirs.eval()
    evaluated, tevaluated = ours(wg.tensor(x))[0], theirs(torch.tensor(x))[0]
    np.testing.assert_allclose(evaluated.data, tevaluated.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    assert not np.allclose(out.data, evaluated.data)
    half = getattr(nn, name)(3, 4, num_layers=2, dropout=0.5)
    first = half(wg.tensor(x.astype(np.float32)))[0].data
    assert not np.array_equal(first, half(wg.tensor(x.astype(np.float32)))[0].data)


def test_dropout_with_one_layer_warns_as_torch(torch_mod):
    with pytest.warns(UserWarning, match="dropout=0.5 and num_layers=1") as ours:
        nn.LSTM(3, 4, dropout=0.5)
    with pytest.warns(UserWarning) as theirs:
        torch_mod.nn.LSTM(3, 4, dropout=0.5)
    assert str(ours[0].message) == str(theirs[0].message)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched, given, kwargs", [
    (True, False, {}), (True, True, {"bias": False}), (False, True, {}), (False, False, {})])
def test_cell_matches_torch(torch_mod, name, batched, given, kwargs):
    torch = torch_mod
    if name == "RNNCell" and given:
        kwargs = {**kwargs, "nonlinearity": "relu"}
    theirs = getattr(torch.nn, name)(3, 4, **kwargs)
    ours = getattr(nn, name)(3, 4, **kwargs, dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(3)
    batch = (2,) if batched else ()
    x = rng.normal(size=batch + (3,))
    states = [rng.normal(size=batch + (4,)) for _ in range(2 if name == "LSTMCell" else 1)]
    xs, txs = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hs = [wg.tensor(s, requires_grad=True) for s in states]
    ths = [torch.tensor(s, requires_grad=True) for s in states]
    pick = (lambda s: tuple(s)) if name == "LSTMCell" else (lambda s: s[0])
    out = ours(xs, pick(hs) if given else None)
    tout = theirs(txs, pick(ths) if given else None)
    out, tout = (list(out), list(tout)) if name == "LSTMCell" else ([out], [tout])
    seeds = [rng.normal(size=o.shape) for o in out]
    for o, t in zip(out, tout):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    sum((o * s).sum() for o, s in zip(out, seeds)).backward()
    sum((t * torch.tensor(s)).sum() for t, s in zip(tout, seeds)).backward()
    params = dict(ours.named_parameters())
    for key, p in theirs.named_parameters():
        np.testing.assert_allclose(params[key].grad.data, p.grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=key)
    for o, t in zip([xs] + (hs if given else []), [txs] + (ths if given else [])):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-12)


def _with_parameters(module, f):
    """``f(*inputs)`` as a function of the inputs followed by the module's parameters, so
    the gradient check perturbs the parameters too (they are swapped into the registry)."""
    names = list(module._parameters)

    def g(*args):
        inputs, params = args[:len(args) - len(names)], args[len(args) - len(names):]
        module._parameters.update(zip(names, params))
        return f(*inputs)
    return g, [p.data.copy() for p in module.parameters()]


@pytest.mark.parametrize("cell", [lambda: nn.RNNCell(2, 3, dtype="float64"),
                                  lambda: nn.RNNCell(2, 3, nonlinearity="relu",
                                                     dtype="float64"),
                                  lambda: nn.LSTMCell(2, 3, dtype="float64"),
                                  lambda: nn.GRUCell(2, 3, dtype="float64")])
def test_cells_pass_gradcheck(cell):
    m = cell()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 2))
    if isinstance(m, nn.LSTMCell):
        f, params = _with_parameters(m, lambda x, h, c: m(x, (h, c)))
        inputs = (x, rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))
    else:
        f, params = _with_parameters(m, lambda x, h: m(x, h))
        inputs = (x, rng.normal(size=(2, 3)))
    assert check.gradcheck(f, (*inputs, *params), order=2).passed


def test_packed_bidirectional_lstm_passes_gradcheck():
    m = nn.LSTM(2, 3, bidirectional=True, proj_size=2, dtype="float64")
    f, params = _with_parameters(
        m, lambda x: m(rnn_utils.pack_padded_sequence(x, [1, 3], enforce_sorted=False))[0].data)
    x = np.random.default_rng(5).normal(size=(3, 2, 2))
    assert check.gradcheck(f, (x, *params)).passed


def test_default_dtype_and_empty_batch(torch_mod):
    out, (h, c) = nn.LSTM(3, 4, num_layers=2)(wg.ones(5, 2, 3))
    assert out.dtype == h.dtype == c.dtype == np.float32
    tout, thn = torch_mod.nn.GRU(3, 4, 2)(torch_mod.ones(5, 0, 3))
    out, hn = nn.GRU(3, 4, 2)(wg.ones(5, 0, 3, dtype="float32"))
    assert out.shape == tuple(tout.shape) and hn.shape == tuple(thn.shape)


# --- nn.utils.rnn ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([5, 3, 3, 1], True),
                                                     ([2, 5, 1, 5], False)])
def test_pack_and_pad_match_torch(torch_mod, batch_first, lengths, enforce_sorted):
    torch = torch_mod
    tr = torch.nn.utils.rnn
    x = np.random.default_rng(6).normal(size=(4, 6, 2) if batch_first else (6, 4, 2))
    xs, txs = wg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    p = rnn_utils.pack_padded_sequence(xs, lengths, batch_first, enforce_sorted)
    tp = tr.pack_padded_sequence(txs, lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(p.data.data, tp.data.detach().numpy())
    for ours, theirs in zip(p[1:], tp[1:]):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.dtype == np.int64
            np.testing.assert_array_equal(ours.data, theirs.numpy())
    for out_first in (False, True):
        padded, lens = rnn_utils.pad_packed_sequence(p, out_first, padding_value=-2.0,
                                                     total_length=7)
        tpadded, tlens = tr.pad_packed_sequence(tp, out_first, padding_value=-2.0,
                                                total_length=7)
        np.testing.assert_array_equal(padded.data, tpadded.detach().numpy())
        np.testing.assert_array_equal(lens.data, tlens.numpy())
        assert lens.dtype == np.int64
    seed = np.random.default_rng(7).normal(size=padded.shape)
    (padded * seed).sum().backward()
    (tpadded * torch.tensor(seed)).sum().backward()
    np.testing.assert_array_equal(xs.grad.data, txs.grad.numpy())
    unpacked, tunpacked = rnn_utils.unpack_sequence(p), tr.unpack_sequence(tp)
    for ours, theirs in zip(unpacked, tunpacked):
        np.testing.assert_array_equal(ours.data, theirs.detach().numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_and_pack_sequence_match_torch(torch_mod, batch_first, padding_side):
    torch = torch_mod
    tr = torch.nn.utils.rnn
    rng = np.random.default_rng(8)
    seqs = [rng.normal(size=(n, 2, 1)) for n in (3, 1, 4)]
    ours = [wg.tensor(s, requires_grad=True) for s in seqs]
    theirs = [torch.tensor(s, requires_grad=True) for s in seqs]
    padded = rnn_utils.pad_sequence(ours, batch_first, 9.0, padding_side)
    tpadded = tr.pad_sequence(theirs, batch_first, 9.0, padding_side)
    np.testing.assert_array_equal(padded.data, tpadded.detach().numpy())
    seed = rng.normal(size=padded.shape)
    (padded * seed).sum().backward()
    (tpadded * torch.tensor(seed)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.data, t.grad.numpy())
    p = rnn_utils.pack_sequence(ours, enforce_sorted=False)
    tp = tr.pack_sequence(theirs, enforce_sorted=False)
    np.testing.assert_array_equal(p.data.data, tp.data.detach().numpy())
    np.testing.assert_array_equal(p.batch_sizes.data, tp.batch_sizes.numpy())
    lengths = torch.tensor([3, 1, 4])
    for o, t in zip(rnn_utils.unpad_sequence(padded, lengths.numpy(), batch_first),
                    tr.unpad_sequence(tpadded.detach().clone(), lengths, batch_first)):
        if padding_side == "right":
            np.testing.assert_array_equal(o.data, t.numpy())


def test_pad_sequence_keeps_the_first_dtype_and_takes_a_tensor(torch_mod):
    tr = torch_mod.nn.utils.rnn
    mixed = rnn_utils.pad_sequence([wg.ones(2, dtype="float32"), wg.ones(1, dtype="float64")])
    assert mixed.dtype == tr.pad_sequence([torch_mod.ones(2, dtype=torch_mod.float32),
                                           torch_mod.ones(1)]).numpy().dtype
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(rnn_utils.pad_sequence(wg.tensor(x)).data,
                                  tr.pad_sequence(torch_mod.tensor(x)).numpy())


def test_packed_sequence_construction(torch_mod):
    p = rnn_utils.PackedSequence(wg.ones(3, 2), [2, 1], [1, 0])
    tp = torch_mod.nn.utils.rnn.PackedSequence(torch_mod.ones(3, 2), torch_mod.tensor([2, 1]),
                                               torch_mod.tensor([1, 0]))
    np.testing.assert_array_equal(p.unsorted_indices.data, tp.unsorted_indices.numpy())
    data, batch_sizes, sorted_indices, unsorted_indices = rnn_utils.PackedSequence(
        (wg.ones(3, 2), [2, 1]))
    assert sorted_indices is None and unsorted_indices is None
    assert p.float() is p and p.double().data.dtype == np.float64  # wg.ones is float32
    perm = torch_mod.tensor([2, 0, 3, 1])
    np.testing.assert_array_equal(rnn_utils.invert_permutation(perm.numpy()).data,
                                  torch_mod.nn.utils.rnn.invert_permutation(perm).numpy())
    assert rnn_utils.invert_permutation(None) is None


# --- errors ---------------------------------------------------------------------------------
def _both_raise(torch, ours, theirs, error, match):
    """PyTorch refuses the same input; ours raises ``error`` naming what is wrong."""
    with pytest.raises(Exception):
        theirs(torch)
    with pytest.raises(error, match=match):
        ours()


@pytest.mark.parametrize("args, kwargs, match", [
    ((3, 4), {"dropout": 1.5}, r"LSTM: dropout=1.5 must be a number in \[0, 1\]"),
    ((3, 4), {"dropout": True}, r"dropout=True"),
    ((3, 4), {"proj_size": 4}, r"proj_size=4 must be smaller than hidden_size=4"),
    ((3, 4), {"proj_size": -1}, r"proj_size=-1 must be an int >= 0"),
    ((3, 4), {"num_layers": 0}, r"num_layers=0 must be an int >= 1"),
    ((3, 0), {}, r"hidden_size=0 must be an int >= 1"),
    ((0, 3), {}, r"input_size=0 must be an int >= 1"),
    ((3.0, 3), {}, r"input_size=3.0"),
    ((3, 4), {"bias": 1}, r"bias must be a bool, got 1"),
    ((3, 4), {"batch_first": 1}, r"batch_first must be a bool"),
])
def test_constructor_errors(torch_mod, args, kwargs, match):
    _both_raise(torch_mod, lambda: nn.LSTM(*args, **kwargs),
                lambda t: t.nn.LSTM(*args, **kwargs), ArgumentError, match)


def test_nonlinearity_errors(torch_mod):
    _both_raise(torch_mod, lambda: nn.RNN(3, 4, nonlinearity="sigmoid"),
                lambda t: t.nn.RNN(3, 4, nonlinearity="sigmoid"), ArgumentError,
                r"RNN: unknown nonlinearity 'sigmoid'; select 'tanh' or 'relu'")
    # PyTorch's cell refuses it at the first call, ours when built
    _both_raise(torch_mod, lambda: nn.RNNCell(3, 4, nonlinearity="sigmoid"),
                lambda t: t.nn.RNNCell(3, 4, nonlinearity="sigmoid")(t.ones(3)),
                ArgumentError, r"RNNCell: unknown nonlinearity 'sigmoid'")


def _lstm_hx(t, shapes):
    return tuple(t.ones(*s) for s in shapes)


@pytest.mark.parametrize("name, x_shape, hx, error, match", [
    ("GRU", (5, 2, 2, 3), None, ShapeError, r"GRU: expected an input of shape \(L, N, "
                                            r"input_size\).*got shape \(5, 2, 2, 3\)"),
    ("GRU", (5,), None, ShapeError, r"GRU: expected an input"),
    ("GRU", (5, 2, 4), None, ShapeError, r"GRU: the input's last axis has 4 entries but "
                                         r"input_size=3"),
    ("GRU", (5, 2, 3), [(2, 4)], ShapeError, r"GRU: h_0 of shape \(2, 4\) does not fit: it "
                                             r"needs shape \(2, 2, 4\)"),
    ("GRU", (5, 3), [(2, 1, 4)], ShapeError, r"h_0 of shape \(2, 1, 4\).*\(2, 4\).*unbatched"),
    ("RNN", (5, 2, 3), [(2, 3, 4)], ShapeError, r"RNN: h_0 of shape \(2, 3, 4\).*\(2, 2, 4\)"),
    ("RNN", (0, 2, 3), None, ShapeError, r"RNN: the input of shape \(0, 2, 3\) has no time "
                                         r"steps"),
    ("LSTM", (5, 2, 3), [(2, 2, 2), (2, 2, 4)], ShapeError,
     r"LSTM: h_0 of shape \(2, 2, 2\).*\(2, 2, 4\)"),
    ("LSTM", (5, 2, 3), [(2, 2, 4), (2, 2, 2)], ShapeError,
     r"LSTM: c_0 of shape \(2, 2, 2\).*\(2, 2, 4\), \(num_layers \* num_directions, batch, "
     r"hidden_size\)"),
    ("LSTM", (5, 2, 3), [(2, 2, 4)], ArgumentError, r"LSTM: hx must be a pair \(h_0, c_0\)"),
])
def test_forward_shape_errors(torch_mod, name, x_shape, hx, error, match):
    def call(lib, t):
        m = getattr(lib, name)(3, 4, num_layers=2)
        h = None if hx is None else (_lstm_hx(t, hx) if name == "LSTM" else t.ones(*hx[0]))
        return m(t.ones(*x_shape), h)
    _both_raise(torch_mod, lambda: call(nn, wg), lambda t: call(t.nn, t), error, match)


def test_dtype_errors(torch_mod):
    _both_raise(torch_mod, lambda: nn.GRU(3, 4)(wg.ones(5, 2, 3, dtype="float64")),
                lambda t: t.nn.GRU(3, 4, dtype=t.float32)(t.ones(5, 2, 3, dtype=t.float64)),
                DTypeError, r"GRU: the input has dtype float64 \(shape \(5, 2, 3\)\) but the "
                            r"weights are float32\. Hint")
    _both_raise(torch_mod, lambda: nn.RNNCell(3, 4)(wg.ones(2, 3, dtype="float64")),
                lambda t: t.nn.RNNCell(3, 4, dtype=t.float32)(t.ones(2, 3, dtype=t.float64)),
                DTypeError, r"RNNCell: the input has dtype float64")
    with pytest.raises(DTypeError, match=r"LSTM: h_0 has dtype float32"):
        nn.LSTM(3, 4, dtype="float64")(wg.ones(5, 2, 3, dtype="float64"),
                                       (wg.ones(1, 2, 4, dtype="float32"),
                                        wg.ones(1, 2, 4, dtype="float64")))


@pytest.mark.parametrize("name, x_shape, hx, error, match", [
    ("RNNCell", (2, 5), None, ShapeError, r"RNNCell: expected an input of shape \(N, 3\) or "
                                          r"\(3,\).*got shape \(2, 5\)"),
    ("RNNCell", (2, 2, 3), None, ShapeError, r"got shape \(2, 2, 3\)"),
    ("RNNCell", (2, 3), [(3, 4)], ShapeError, r"RNNCell: hx of shape \(3, 4\) does not fit an "
                                              r"input of shape \(2, 3\); it needs shape \(2, 4\)"),
    ("GRUCell", (2, 3), [(2, 5)], ShapeError, r"GRUCell: hx of shape \(2, 5\)"),
    ("GRUCell", (2, 3), [(1, 2, 4)], ShapeError, r"GRUCell: hx of shape \(1, 2, 4\)"),
    ("LSTMCell", (2, 3), [(2, 4), (3, 4)], ShapeError, r"LSTMCell: hx\[1\] of shape \(3, 4\)"),
    ("LSTMCell", (2, 3), [(2, 4)], ArgumentError, r"LSTMCell: hx must be a pair"),
])
def test_cell_errors(torch_mod, name, x_shape, hx, error, match):
    def call(lib, t):
        h = None if hx is None else (_lstm_hx(t, hx) if name == "LSTMCell" else t.ones(*hx[0]))
        return getattr(lib, name)(3, 4)(t.ones(*x_shape), h)
    _both_raise(torch_mod, lambda: call(nn, wg), lambda t: call(t.nn, t), error, match)


@pytest.mark.parametrize("call, error, match", [
    (lambda r, t: r.pack_padded_sequence(t.ones(4, 3, 2), [2, 4, 1]), ArgumentError,
     r"lengths \[2, 4, 1\] are not in decreasing order.*enforce_sorted=False"),
    (lambda r, t: r.pack_padded_sequence(t.ones(4, 3, 2), [4, 2, 0]), ArgumentError,
     r"every length must be at least 1, got \[4, 2, 0\]"),
    (lambda r, t: r.pack_padded_sequence(t.ones(4, 3, 2), [4, 2]), ShapeError,
     r"lengths of shape \(2,\) do not fit a batch of 3 sequences"),
    (lambda r, t: r.pack_padded_sequence(t.ones(4, 3, 2), [[4, 2, 1]]), ShapeError,
     r"lengths of shape \(1, 3\)"),
    (lambda r, t: r.pack_padded_sequence(t.ones(4), [4]), ShapeError,
     r"expected an input of shape \(T, B, \*\).*got shape \(4,\)"),
    (lambda r, t: r.pad_packed_sequence(r.pack_sequence([t.ones(3, 2)]), total_length=2),
     ArgumentError, r"total_length=2 is shorter than the longest sequence \(3 steps\)"),
    (lambda r, t: r.pad_sequence([]), ArgumentError, r"pad_sequence: got no sequences"),
    (lambda r, t: r.pad_sequence([t.ones(3, 2), t.ones(1, 3)]), ShapeError,
     r"pad_sequence: sequences of shapes \[\(3, 2\), \(1, 3\)\] do not stack"),
    (lambda r, t: r.pad_sequence([t.ones(2)], padding_side="middle"), ArgumentError,
     r"padding_side='middle' is not allowed"),
    (lambda r, t: r.pack_sequence([t.ones(3, 2), t.ones(0, 2)]), ArgumentError,
     r"every length must be at least 1, got \[3, 0\]"),
    (lambda r, t: r.pack_padded_sequence(t.ones(4, 0, 2), []), ArgumentError,
     r"cannot pack an empty batch \(input of shape \(4, 0, 2\)\)"),
    (lambda r, t: r.pack_padded_sequence(t.ones(0, 4, 2), [], batch_first=True,
                                         enforce_sorted=False), ArgumentError,
     r"cannot pack an empty batch"),
])
def test_packing_errors(torch_mod, call, error, match):
    _both_raise(torch_mod, lambda: call(rnn_utils, wg),
                lambda t: call(t.nn.utils.rnn, t), error, match)


def test_packing_errors_torch_lets_through():
    # PyTorch packs a length past the input's end into batch sizes that overrun the data
    with pytest.raises(ShapeError, match=r"a length of 5 does not fit an input of 4 time "
                                         r"steps"):
        rnn_utils.pack_padded_sequence(wg.ones(4, 3, 2), [5, 2, 1])
    with pytest.raises(DTypeError, match=r"lengths must be integers, got dtype float64"):
        rnn_utils.pack_padded_sequence(wg.ones(4, 3, 2), [4.0, 2.0, 1.0])
    with pytest.raises(ShapeError, match=r"GRU: batch_sizes \[1, 2\] do not fit packed data "
                                         r"of shape \(3, 2\)"):
        nn.GRU(2, 3)(rnn_utils.PackedSequence(wg.ones(3, 2), [1, 2]))
    with pytest.raises(ArgumentError, match=r"expected a PackedSequence, got a Tensor"):
        rnn_utils.pad_packed_sequence(wg.ones(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # dropout=0 with one layer does not warn
        nn.GRU(2, 3, dropout=0.0)
