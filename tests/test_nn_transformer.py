"""The transformer modules against PyTorch: TransformerEncoderLayer, TransformerDecoderLayer,
TransformerEncoder, TransformerDecoder and Transformer give PyTorch's outputs and the
gradients of the inputs and of every parameter in float64 with its state dict loaded (masks of
each kind, batch_first, norm_first, bias=False, activations by name, function or module,
unbatched inputs); the state dict keys; the numbers of PyTorch's nested-tensor inference path;
generate_square_subsequent_mask; initialisation; dropout; and PyTorch's errors."""
import math
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.errors import ArgumentError, ShapeError

D, FF = 8, 16


@pytest.fixture(autouse=True)
def _quiet_known_warnings():
    """PyTorch warns when enable_nested_tensor cannot be used (batch_first=False...) and that
    its nested tensors are a prototype; both libraries warn of a boolean key padding mask
    beside a float attention mask, which these tests mix on purpose (the warning itself is
    tested in test_nn_attention.py)."""
    with warnings.catch_warnings():
        for message in ("enable_nested_tensor is True", "The PyTorch API of nested tensors",
                        "Support for mismatched"):
            warnings.filterwarnings("ignore", message=message)
        yield


def _load(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours


def _compare(torch, ours, theirs, arrays, masks, grad=True, rtol=1e-10, atol=1e-12):
    """Run both on the same inputs and masks; compare outputs and (with ``grad``) the input
    and parameter gradients of a random projection of the output."""
    our_in = [wg.tensor(a, requires_grad=grad) for a in arrays]
    their_in = [torch.tensor(a, requires_grad=grad) for a in arrays]
    out = ours(*our_in, **masks)
    tout = theirs(*their_in, **{k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                                for k, v in masks.items()})
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    if not grad:
        return out
    g = np.random.default_rng(99).normal(size=out.shape)
    (out * g).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    for a, b in zip(our_in, their_in):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=rtol, atol=atol)
    their_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(their_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, their_params[name].grad.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)
    return out


def _padding(rng, batch, length, keep):
    """A boolean key padding mask (True: padded) that leaves position ``keep`` free."""
    mask = rng.random((batch, length)) > 0.6
    mask[:, keep] = False
    return mask


def _activation(torch, name):
    """The same activation for both libraries: a name, a function or a module."""
    if name == "silu function":
        return F.silu, torch.nn.functional.silu
    if name == "gelu module":
        return nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")
    return name, name


LAYER_OPTIONS = [
    {},
    {"norm_first": True},
    {"batch_first": True, "activation": "gelu"},
    {"bias": False, "layer_norm_eps": 1e-3},
    {"activation": "silu function", "norm_first": True},
    {"activation": "gelu module", "batch_first": True},
]


def _pair(torch, cls, *args, **options):
    options = dict(options)
    ours_act, theirs_act = _activation(torch, options.pop("activation", "relu"))
    theirs = getattr(torch.nn, cls)(*args, dropout=0.0, activation=theirs_act, **options)
    ours = getattr(nn, cls)(*args, dropout=0.0, activation=ours_act, **options, dtype="float64")
    return _load(ours, theirs), theirs


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=str)
def test_encoder_layer_matches_torch(torch_mod, options):
    torch = torch_mod
    ours, theirs = _pair(torch, "TransformerEncoderLayer", D, 2, FF, **options)
    rng = np.random.default_rng(1)
    shape = (3, 5, D) if options.get("batch_first") else (5, 3, D)
    _compare(torch, ours, theirs, [rng.normal(size=shape)],
             {"src_mask": np.triu(np.ones((5, 5), bool), 1),
              "src_key_padding_mask": _padding(rng, 3, 5, 0)})
    _compare(torch, ours, theirs, [rng.normal(size=shape)],
             {"src_mask": rng.normal(size=(6, 5, 5))})
    _compare(torch, ours, theirs, [rng.normal(size=(5, D))],  # unbatched
             {"src_key_padding_mask": _padding(rng, 1, 5, 2)[0]})


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=str)
def test_decoder_layer_matches_torch(torch_mod, options):
    torch = torch_mod
    ours, theirs = _pair(torch, "TransformerDecoderLayer", D, 2, FF, **options)
    rng = np.random.default_rng(2)
    bf = options.get("batch_first")
    tgt, memory = rng.normal(size=(3, 4, D) if bf else (4, 3, D)), rng.normal(
        size=(3, 5, D) if bf else (5, 3, D))
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype="float64").data
    _compare(torch, ours, theirs, [tgt, memory],
             {"tgt_mask": causal, "memory_mask": rng.normal(size=(4, 5)),
              "tgt_key_padding_mask": _padding(rng, 3, 4, 0),
              "memory_key_padding_mask": _padding(rng, 3, 5, 1)})
    _compare(torch, ours, theirs, [tgt, memory], {"tgt_mask": causal, "tgt_is_causal": True})
    _compare(torch, ours, theirs, [rng.normal(size=(4, D)), rng.normal(size=(5, D))],
             {"memory_mask": np.triu(np.ones((4, 5), bool), 2)})


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch(torch_mod, batch_first, norm_first):
    torch = torch_mod
    theirs = torch.nn.Transformer(D, 2, 2, 2, FF, dropout=0.0, batch_first=batch_first,
                                  norm_first=norm_first)
    ours = _load(nn.Transformer(D, 2, 2, 2, FF, dropout=0.0, batch_first=batch_first,
                                norm_first=norm_first, dtype="float64"), theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(3)
    src = rng.normal(size=(3, 5, D) if batch_first else (5, 3, D))
    tgt = rng.normal(size=(3, 4, D) if batch_first else (4, 3, D))
    masks = {"src_mask": rng.normal(size=(5, 5)),
             "tgt_mask": nn.Transformer.generate_square_subsequent_mask(4, dtype="float64").data,
             "src_key_padding_mask": _padding(rng, 3, 5, 0),
             "tgt_key_padding_mask": _padding(rng, 3, 4, 0),
             "memory_key_padding_mask": _padding(rng, 3, 5, 0)}
    _compare(torch, ours, theirs, [src, tgt], masks)
    _compare(torch, ours, theirs, [src[0] if batch_first else src[:, 0],
                                   tgt[0] if batch_first else tgt[:, 0]], {})


def test_stacks_match_torch_and_copy_the_layer(torch_mod):
    torch = torch_mod
    their_enc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, 2, FF, dropout=0.0), 3, torch.nn.LayerNorm(D))
    layer = nn.TransformerEncoderLayer(D, 2, FF, dropout=0.0, dtype="float64")
    ours_enc = nn.TransformerEncoder(layer, 3, nn.LayerNorm(D, dtype="float64"))
    # every copy starts from the layer's values, none is the layer itself (as PyTorch)
    for copy in ours_enc.layers:
        assert copy is not layer
        np.testing.assert_array_equal(copy.linear1.weight.data, layer.linear1.weight.data)
    assert list(ours_enc.state_dict()) == list(their_enc.state_dict())
    _load(ours_enc, their_enc)
    rng = np.random.default_rng(4)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype="float64").data
    _compare(torch, ours_enc, their_enc, [rng.normal(size=(5, 2, D))], {"mask": causal})
    _compare(torch, ours_enc, their_enc, [rng.normal(size=(5, 2, D))],
             {"mask": causal, "is_causal": True})
    their_dec = torch.nn.TransformerDecoder(
        torch.nn.TransformerDecoderLayer(D, 2, FF, dropout=0.0, batch_first=True), 2)
    ours_dec = _load(nn.TransformerDecoder(
        nn.TransformerDecoderLayer(D, 2, FF, dropout=0.0, batch_first=True, dtype="float64"),
        2), their_dec)
    assert ours_dec.norm is None and len(ours_dec.layers) == 2
    _compare(torch, ours_dec, their_dec, [rng.normal(size=(2, 4, D)),
                                          rng.normal(size=(2, 5, D))],
             {"tgt_mask": np.triu(np.ones((4, 4), bool), 1),
              "memory_key_padding_mask": _padding(rng, 2, 5, 0)})


def _fusable_encoder(torch, **options):
    """An encoder PyTorch runs on nested tensors in inference (batch_first, post-norm, relu,
    even heads, biases), with a final norm whose bias is not zero."""
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(D, 2, FF, dropout=0.0, batch_first=True), 2,
        torch.nn.LayerNorm(D), **options).eval()
    with torch.no_grad():
        theirs.norm.bias.copy_(torch.arange(D) / 10.0)
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, 2, FF, dropout=0.0, batch_first=True, dtype="float64"),
        2, nn.LayerNorm(D, dtype="float64"), **options).eval()
    return _load(ours, theirs), theirs


def test_encoder_inference_gives_torch_nested_tensor_numbers(torch_mod):
    """In inference with a key padding mask PyTorch drops the padded positions and gives them
    back as zeros before the final norm: they come out as the norm's bias."""
    torch = torch_mod
    ours, theirs = _fusable_encoder(torch)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 5, D))
    padding = np.zeros((2, 5), bool)
    padding[0, 3:] = True
    with torch.no_grad(), wg.no_grad():
        out = _compare(torch, ours, theirs, [x], {"src_key_padding_mask": padding}, grad=False)
        np.testing.assert_allclose(out.data[0, 3:], np.broadcast_to(np.arange(D) / 10.0, (2, D)),
                                   atol=1e-15)
        # a float mask's nonzero entries are the padding there
        _compare(torch, ours, theirs, [x], {"src_key_padding_mask": np.where(padding, -1.0, 0.0)},
                 grad=False)
        # a mask not padded at the end takes PyTorch's ordinary path
        scattered = np.zeros((2, 5), bool)
        scattered[0, 1] = True
        out = _compare(torch, ours, theirs, [x], {"src_key_padding_mask": scattered}, grad=False)
        assert not np.allclose(out.data[0, 1], np.arange(D) / 10.0)
    # recording gradients (or training) takes the ordinary path: no zeros
    out = _compare(torch, ours, theirs, [x], {"src_key_padding_mask": padding})
    assert not np.allclose(out.data[0, 3], np.arange(D) / 10.0)


def test_encoder_inference_without_mask_check_as_torch(torch_mod):
    """With mask_check=False PyTorch keeps the first count(not padded) positions of each
    sequence, wherever the padding is."""
    torch = torch_mod
    ours, theirs = _fusable_encoder(torch, mask_check=False)
    scattered = np.zeros((2, 5), bool)
    scattered[0, [1, 3]] = True
    with torch.no_grad(), wg.no_grad():
        out = _compare(torch, ours, theirs, [np.random.default_rng(6).normal(size=(2, 5, D))],
                       {"src_key_padding_mask": scattered}, grad=False)
    np.testing.assert_allclose(out.data[0, 3:], np.broadcast_to(np.arange(D) / 10.0, (2, D)),
                               atol=1e-15)


def test_generate_square_subsequent_mask(torch_mod):
    torch = torch_mod
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(
        mask.data, torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float32))
    np.testing.assert_array_equal(mask.data[np.tril_indices(4)], 0.0)
    assert (mask.data[np.triu_indices(4, 1)] == -np.inf).all()
    assert nn.Transformer.generate_square_subsequent_mask(3, dtype="float64").dtype == np.float64


def test_transformer_initialisation_and_layout():
    d, ff = 32, 64
    model = nn.Transformer(d, 4, 1, 1, ff, dtype="float64")
    for name, p in model.named_parameters():
        if p.ndim > 1:  # xavier_uniform_, PyTorch's reset of every matrix
            fan_out, fan_in = p.shape
            assert np.abs(p.data).max() <= math.sqrt(6 / (fan_in + fan_out)), name
    layer = model.encoder.layers[0]
    np.testing.assert_array_equal(layer.self_attn.in_proj_bias.data, 0)
    assert np.abs(layer.linear1.bias.data).max() <= 1 / math.sqrt(d)  # Linear's bias
    assert not np.all(layer.linear1.bias.data == 0)
    np.testing.assert_array_equal(model.encoder.norm.weight.data, 1)
    assert layer.linear1.weight.shape == (ff, d) and model.decoder.norm is not None
    assert model.d_model == d and model.nhead == 4 and model.batch_first is False
    assert nn.TransformerEncoderLayer(d, 4).linear1.weight.shape == (2048, d)  # the default
    assert nn.TransformerEncoderLayer(d, 4).self_attn.in_proj_weight.dtype == np.float32


def test_activation_module_is_a_submodule_as_torch(torch_mod):
    torch = torch_mod
    theirs = torch.nn.TransformerEncoderLayer(D, 2, FF, activation=torch.nn.PReLU())
    ours = nn.TransformerEncoderLayer(D, 2, FF, activation=nn.PReLU())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "activation.weight" in ours.state_dict()
    assert nn.TransformerEncoderLayer(D, 2, FF, activation="relu").activation is F.relu
    assert nn.TransformerDecoderLayer(D, 2, FF, activation="gelu").activation is F.gelu


def test_dropout_in_training_and_eval():
    model = nn.Transformer(D, 2, 1, 1, FF, dropout=0.3, dtype="float64")
    rng = np.random.default_rng(7)
    src, tgt = wg.tensor(rng.normal(size=(5, 2, D))), wg.tensor(rng.normal(size=(4, 2, D)))
    a, b = model(src, tgt), model(src, tgt)
    assert not np.allclose(a.data, b.data)  # training: fresh masks each call
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).data, model(src, tgt).data)


@pytest.mark.parametrize("build, kind, pattern", [
    (lambda nn: nn.TransformerEncoderLayer(D, 2, activation="tanh"), ArgumentError,
     "activation='tanh' is not allowed"),
    (lambda nn: nn.TransformerDecoderLayer(D, 2, activation="swish"), ArgumentError,
     "activation='swish' is not allowed"),
    (lambda nn: nn.TransformerEncoderLayer(6, 4), ArgumentError, "not divisible by num_heads"),
    (lambda nn: nn.Transformer(D, 3, 1, 1, FF), ArgumentError, "not divisible by num_heads"),
    (lambda nn: nn.TransformerEncoderLayer(D, 2, dropout=1.5), ArgumentError, "p=1.5"),
])
def test_constructor_errors_as_torch(torch_mod, build, kind, pattern):
    with pytest.raises(kind, match=pattern):
        build(nn)
    with pytest.raises((RuntimeError, AssertionError, ValueError)):
        build(torch_mod.nn)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_input_errors_as_torch(torch_mod, batch_first):
    torch = torch_mod
    ours = nn.Transformer(D, 2, 1, 1, FF, batch_first=batch_first, dtype="float64")
    theirs = torch.nn.Transformer(D, 2, 1, 1, FF, batch_first=batch_first)
    bad = [((5, 3, D), (4, 2, D), "batch number"), ((5, 3, D), (4, 3, D + 1), "feature number"),
           ((5, D - 1), (4, D - 1), "feature number")]
    for src_shape, tgt_shape, pattern in bad:
        if batch_first:
            src_shape, tgt_shape = (src_shape[1::-1] + src_shape[2:],
                                    tgt_shape[1::-1] + tgt_shape[2:])
        with pytest.raises(ShapeError, match=pattern):
            ours(wg.ones(src_shape, dtype="float64"), wg.ones(tgt_shape, dtype="float64"))
        with pytest.raises(RuntimeError, match=pattern):
            theirs(torch.ones(src_shape), torch.ones(tgt_shape))


def test_is_causal_needs_the_mask_as_torch(torch_mod):
    torch = torch_mod
    x = np.ones((4, 2, D))
    with pytest.raises(ArgumentError, match="is_causal=True"):
        nn.TransformerEncoderLayer(D, 2, FF, dtype="float64")(wg.tensor(x), is_causal=True)
    with pytest.raises(RuntimeError, match="is_causal"):
        torch.nn.TransformerEncoderLayer(D, 2, FF)(torch.tensor(x), is_causal=True)
