"""Attention against PyTorch: ``F.scaled_dot_product_attention`` (masks of each kind, causal,
broadcast batch axes, grouped-query attention, fully masked rows, dropout statistics, the
numerical gradient check, torch's errors) and ``nn.MultiheadAttention`` (outputs, weights and
every gradient in float64 with torch's state dict loaded, parameter names, layout and
initialisation, unbatched and batch_first inputs, kdim/vdim, add_bias_kv, add_zero_attn,
dropout in training and evaluation, torch's errors)."""
import math
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck
from wengert.errors import ArgumentError, DTypeError, ShapeError

NEG_INF = -np.inf


def _mask_row_dead(rng, shape, dead_row):
    """A boolean SDPA mask (True: takes part) with one query row that sees no key."""
    mask = rng.random(shape) > 0.4
    mask[..., dead_row, :] = False
    return mask


# (query, key, value shapes, attn_mask maker or None, keyword arguments)
SDPA_CASES = [
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {}),
    ((4, 5), (6, 5), (6, 3), None, {"scale": 0.3}),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), None, {"is_causal": True}),
    ((2, 6, 5), (2, 4, 5), (2, 4, 3), None, {"is_causal": True}),  # L > S
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), lambda r: _mask_row_dead(r, (4, 6), 1), {}),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), lambda r: r.random((2, 1, 1, 6)) > 0.3, {}),
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), lambda r: r.normal(size=(3, 1, 6)), {}),
    ((2, 4, 5), (2, 6, 5), (2, 6, 7),
     lambda r: np.where(r.random((2, 4, 6)) > 0.3, r.normal(size=(2, 4, 6)), NEG_INF), {}),
    ((2, 1, 4, 5), (3, 6, 5), (6, 7), None, {}),  # broadcast batch axes
    ((2, 4, 3, 5), (2, 2, 6, 5), (2, 1, 6, 7), None, {"enable_gqa": True}),
    ((4, 3, 5), (2, 6, 5), (2, 6, 4), lambda r: r.random((3, 6)) > 0.5, {"enable_gqa": True}),
]


def _torch_sdpa(torch, *args, **kwargs):
    """PyTorch's math path (the one whose numbers the brief asks for)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        return torch.nn.functional.scaled_dot_product_attention(*args, **kwargs)


@pytest.mark.parametrize("case", SDPA_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}{c[4]}")
def test_sdpa_matches_torch(torch_mod, case):
    torch = torch_mod
    qs, ks, vs, make_mask, kwargs = case
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=s) for s in (qs, ks, vs)]
    ours = [wg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    mask = make_mask(rng) if make_mask else None
    float_mask = mask is not None and mask.dtype != bool
    our_mask = wg.tensor(mask, requires_grad=True) if float_mask else mask
    their_mask = (torch.tensor(mask, requires_grad=float_mask) if mask is not None else None)
    out = F.scaled_dot_product_attention(*ours, attn_mask=our_mask, **kwargs)
    tout = _torch_sdpa(torch, *theirs, attn_mask=their_mask, **kwargs)
    assert out.shape == tuple(tout.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-13)
    w = rng.normal(size=out.shape)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    pairs = list(zip(ours, theirs)) + ([(our_mask, their_mask)] if float_mask else [])
    for a, b in pairs:
        assert np.isfinite(a.grad.data).all()
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-11, atol=1e-13)


def test_sdpa_fully_masked_row_gives_zeros_as_torch(torch_mod):
    """PyTorch 2.13's math path (``_safe_softmax``) gives a query that sees no key weights 0,
    so output 0 and gradient 0; a boolean all-False row and a float all--inf row alike."""
    torch = torch_mod
    rng = np.random.default_rng(4)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    bool_mask = np.ones((3, 5), bool)
    bool_mask[1] = False
    float_mask = np.where(bool_mask, 0.0, NEG_INF)
    for mask in (bool_mask, float_mask):
        xs = [wg.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = F.scaled_dot_product_attention(*xs, attn_mask=mask)
        np.testing.assert_array_equal(out.data[1], 0.0)
        tout = _torch_sdpa(torch, *(torch.tensor(a) for a in (q, k, v)),
                           attn_mask=torch.tensor(mask))
        np.testing.assert_allclose(out.data, tout.numpy(), rtol=1e-12, atol=1e-14)
        out.sum().backward()
        np.testing.assert_array_equal(xs[0].grad.data[1], 0.0)
        assert all(np.isfinite(x.grad.data).all() for x in xs)


def test_sdpa_float32_mask_keeps_a_float16_query_float16(torch_mod):
    """A float32 mask is allowed beside any query dtype; PyTorch adds it in the query's
    dtype, so the output (and the query's gradient) stay float16, while the mask's gradient
    is float32."""
    torch = torch_mod
    rng = np.random.default_rng(12)
    q, k = rng.normal(size=(2, 3, 4)).astype(np.float16), rng.normal(size=(2, 5, 4))
    k = k.astype(np.float16)
    mask = rng.normal(size=(3, 5)).astype(np.float32)
    mask[0, 1] = NEG_INF
    ours = [wg.tensor(a, requires_grad=True) for a in (q, k, mask)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, mask)]
    out = F.scaled_dot_product_attention(ours[0], ours[1], ours[1], attn_mask=ours[2])
    tout = _torch_sdpa(torch, theirs[0], theirs[1], theirs[1], attn_mask=theirs[2])
    assert out.dtype == np.float16 and tout.dtype == torch.float16
    np.testing.assert_allclose(out.data.astype(float), tout.detach().numpy().astype(float),
                               rtol=2e-3, atol=2e-3)
    out.astype("float32").sum().backward()
    tout.float().sum().backward()
    for a, b in zip(ours, theirs):
        assert a.grad.dtype == b.grad.numpy().dtype
        np.testing.assert_allclose(a.grad.data.astype(float), b.grad.numpy().astype(float),
                                   rtol=5e-3, atol=5e-3)


def test_sdpa_causal_is_the_top_left_mask():
    rng = np.random.default_rng(5)
    q, k, v = (wg.tensor(rng.normal(size=s)) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    top_left = np.tril(np.ones((3, 5), bool))  # query i sees keys 0..i
    explicit = F.scaled_dot_product_attention(q, k, v, attn_mask=top_left)
    np.testing.assert_array_equal(causal.data, explicit.data)
    # the first query sees only the first key: its output is that key's value
    np.testing.assert_allclose(causal.data[:, 0], v.data[:, 0], rtol=1e-15)


def test_sdpa_by_hand():
    """One query, two keys: weights softmax([q.k1, q.k2] / sqrt(2)), output their mix."""
    q = wg.tensor([[1.0, 0.0]])
    k = wg.tensor([[1.0, 0.0], [0.0, 1.0]])
    v = wg.tensor([[2.0], [4.0]])
    a = math.exp(1 / math.sqrt(2))
    expected = (2 * a + 4) / (a + 1)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).data, [[expected]],
                               rtol=1e-6)
    # a float mask is added to the scores: -1/sqrt(2) evens them out
    evened = F.scaled_dot_product_attention(q, k, v, attn_mask=np.array([[-1 / math.sqrt(2),
                                                                          0.0]], np.float32))
    np.testing.assert_allclose(evened.data, [[3.0]], rtol=1e-6)


def test_sdpa_empty_key_sequence_gives_zeros(torch_mod):
    torch = torch_mod
    q, k, v = np.ones((2, 3, 4)), np.ones((2, 0, 4)), np.ones((2, 0, 5))
    out = F.scaled_dot_product_attention(wg.tensor(q), wg.tensor(k), wg.tensor(v))
    tout = _torch_sdpa(torch, torch.tensor(q), torch.tensor(k), torch.tensor(v))
    assert out.shape == tuple(tout.shape) == (2, 3, 5)
    np.testing.assert_array_equal(out.data, tout.numpy())


def test_sdpa_numerical_gradient_check():
    rng = np.random.default_rng(6)
    q, k, v = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 3))
    mask = rng.random((3, 4)) > 0.3
    mask[2] = False  # a query that sees no key: its output is 0, and so is its derivative
    bias = rng.normal(size=(1, 3, 4))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                     (q, k, v), order=2).passed
    assert gradcheck(lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b),
                     (q, k, v, bias)).passed
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                    scale=0.7),
                     (q, k, v)).passed


def test_sdpa_dropout_scales_kept_weights():
    """With value = identity the output is the (dropped) weight matrix: each entry is 0 with
    probability p or weight / (1 - p), so it is the undropped weight on average."""
    p, n = 0.3, 4000
    rng = np.random.default_rng(7)
    q = np.broadcast_to(rng.normal(size=(1, 2, 3)), (n, 2, 3))
    k = rng.normal(size=(4, 3))
    eye = np.eye(4)
    clean = F.scaled_dot_product_attention(wg.tensor(q[:1]), wg.tensor(k), wg.tensor(eye)).data
    wg.manual_seed(1)
    dropped = F.scaled_dot_product_attention(wg.tensor(q), wg.tensor(k), wg.tensor(eye),
                                             dropout_p=p).data
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], np.broadcast_to(clean / (1 - p), dropped.shape)[kept],
                               rtol=1e-12)
    assert abs(1 - kept.mean() - p) < 0.01  # 32000 draws: 4 standard deviations
    np.testing.assert_allclose(dropped.mean(axis=0), clean[0], rtol=0.05)
    no_drop = F.scaled_dot_product_attention(wg.tensor(q[:2]), wg.tensor(k), wg.tensor(eye),
                                             dropout_p=0.0)
    np.testing.assert_array_equal(no_drop.data, np.broadcast_to(clean, (2, 2, 4)))


def _sdpa_error_cases():
    t = np.ones
    return [
        ("1-D inputs", (t(4), t(4), t(4)), {}, ShapeError, "at least 2 dims"),
        ("feature sizes", (t((3, 4)), t((5, 3)), t((5, 6))), {}, ShapeError,
         r"query's last axis \(4\) must equal the key's \(3\)"),
        ("key and value lengths", (t((3, 4)), t((5, 4)), t((6, 6))), {}, ShapeError,
         "same sequence length"),
        ("batch axes", (t((2, 3, 4)), t((3, 5, 4)), t((3, 5, 6))), {}, ShapeError,
         "do not broadcast"),
        ("heads without gqa", (t((1, 4, 3, 4)), t((1, 2, 5, 4)), t((1, 2, 5, 4))), {},
         ShapeError, "enable_gqa=True"),
        ("gqa heads do not divide", (t((1, 4, 3, 4)), t((1, 3, 5, 4)), t((1, 3, 5, 4))),
         {"enable_gqa": True}, ShapeError, "must divide the query's 4"),
        ("gqa without a head axis", (t((3, 4)), t((5, 4)), t((5, 4))), {"enable_gqa": True},
         ShapeError, "head axis"),
        ("mixed dtypes", (t((3, 4)), t((5, 4), np.float32), t((5, 6))), {}, DTypeError,
         "one dtype"),
        ("integer inputs", (t((3, 4), int), t((5, 4), int), t((5, 6), int)), {}, DTypeError,
         "floating"),
        ("mask shape", (t((1, 2, 3, 4)), t((1, 2, 5, 4)), t((1, 2, 5, 4))),
         {"attn_mask": t((3, 4), bool)}, ShapeError, r"attn_mask of shape \(3, 4\)"),
        ("mask enlarges the scores", (t((1, 2, 3, 4)), t((1, 2, 5, 4)), t((1, 2, 5, 4))),
         {"attn_mask": t((3, 1, 2, 3, 5), bool)}, ShapeError, "does not broadcast"),
        ("integer mask", (t((3, 4)), t((5, 4)), t((5, 6))), {"attn_mask": t((3, 5), int)},
         DTypeError, "bool, float32 or the query's dtype"),
        ("float64 mask, float32 query", (t((3, 4), np.float32), t((5, 4), np.float32),
                                         t((5, 6), np.float32)),
         {"attn_mask": t((3, 5))}, DTypeError, "float32"),
        ("is_causal with a mask", (t((3, 4)), t((5, 4)), t((5, 6))),
         {"attn_mask": t((3, 5), bool), "is_causal": True}, ArgumentError,
         "is_causal=True and an explicit attn_mask"),
        ("dropout above 1", (t((3, 4)), t((5, 4)), t((5, 6))), {"dropout_p": 1.5},
         ArgumentError, "dropout_p=1.5"),
    ]


@pytest.mark.parametrize("case", _sdpa_error_cases(), ids=lambda c: c[0])
def test_sdpa_errors_as_torch(torch_mod, case):
    torch = torch_mod
    _, arrays, kwargs, kind, pattern = case
    with pytest.raises(kind, match=pattern):
        F.scaled_dot_product_attention(*(wg.tensor(a) for a in arrays), **kwargs)
    torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                    for k, v in kwargs.items()}
    with pytest.raises((RuntimeError, ValueError, IndexError)):  # PyTorch refuses it too
        _torch_sdpa(torch, *(torch.tensor(a) for a in arrays), **torch_kwargs)


# --- MultiheadAttention -----------------------------------------------------------------------
def _mha_pair(torch, **kwargs):
    theirs = torch.nn.MultiheadAttention(**kwargs)
    ours = nn.MultiheadAttention(**kwargs, dtype="float64")
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _rand_bool(rng, shape, keep_col):
    """A boolean MultiheadAttention mask (True: ignored) that leaves key ``keep_col`` free, so
    that no query loses all its keys."""
    mask = rng.random(shape) > 0.6
    mask[..., keep_col] = False
    return mask


E = 8
# (module kwargs, query, key, value shapes, forward kwargs (arrays made from rng), self-attn)
MHA_CASES = [
    ({"embed_dim": E, "num_heads": 2}, (4, 3, E), (5, 3, E), (5, 3, E), {}, False),
    ({"embed_dim": E, "num_heads": 2}, (4, 3, E), None, None, {}, True),
    ({"embed_dim": E, "num_heads": 4, "batch_first": True}, (3, 4, E), (3, 5, E), (3, 5, E),
     {"average_attn_weights": False}, False),
    ({"embed_dim": E, "num_heads": 2, "kdim": 3, "vdim": 5}, (4, 3, E), (5, 3, 3), (5, 3, 5),
     {}, False),
    ({"embed_dim": E, "num_heads": 2, "add_bias_kv": True, "add_zero_attn": True}, (4, 3, E),
     (5, 3, E), (5, 3, E), {}, False),
    ({"embed_dim": E, "num_heads": 2, "bias": False}, (4, 3, E), (5, 3, E), (5, 3, E),
     {"need_weights": False}, False),
    ({"embed_dim": E, "num_heads": 2}, (4, E), (5, E), (5, E), {}, False),
    ({"embed_dim": E, "num_heads": 2, "batch_first": True, "kdim": 6, "vdim": 6}, (4, E),
     (5, 6), (5, 6), {"average_attn_weights": False}, False),
    ({"embed_dim": E, "num_heads": 2}, (4, 3, E), (5, 3, E), (5, 3, E),
     {"key_padding_mask": lambda r: _rand_bool(r, (3, 5), 0)}, False),
    ({"embed_dim": E, "num_heads": 2, "batch_first": True}, (3, 4, E), (3, 5, E), (3, 5, E),
     {"attn_mask": lambda r: _rand_bool(r, (4, 5), 1),
      "key_padding_mask": lambda r: _rand_bool(r, (3, 5), 1)}, False),
    ({"embed_dim": E, "num_heads": 2}, (4, 3, E), (5, 3, E), (5, 3, E),
     {"attn_mask": lambda r: r.normal(size=(6, 4, 5)),
      "key_padding_mask": lambda r: r.normal(size=(3, 5))}, False),
    ({"embed_dim": E, "num_heads": 2, "add_bias_kv": True, "add_zero_attn": True,
      "kdim": 3, "vdim": 4}, (4, 3, E), (5, 3, 3), (5, 3, 4),
     {"attn_mask": lambda r: _rand_bool(r, (4, 5), 2),
      "key_padding_mask": lambda r: _rand_bool(r, (3, 5), 2), "need_weights": False}, False),
    ({"embed_dim": E, "num_heads": 2}, (4, 3, E), None, None,
     {"attn_mask": lambda r: np.triu(np.full((4, 4), NEG_INF), 1), "is_causal": True,
      "need_weights": False}, True),
    ({"embed_dim": E, "num_heads": 2}, (4, 3, E), None, None,
     {"attn_mask": lambda r: np.triu(np.ones((4, 4), bool), 1), "is_causal": True}, True),
    ({"embed_dim": E, "num_heads": 2}, (4, E), (5, E), (5, E),
     {"attn_mask": lambda r: r.normal(size=(2, 4, 5)),
      "key_padding_mask": lambda r: _rand_bool(r, (5,), 3).astype(float) * -1e9}, False),
]


@pytest.mark.parametrize("case", MHA_CASES, ids=lambda c: f"{c[0]}{c[1]}{sorted(c[4])}")
def test_multihead_attention_matches_torch(torch_mod, case):
    """Outputs, returned weights and the gradients of the inputs and every parameter, with
    PyTorch's state dict loaded, in float64 (dropout 0)."""
    torch = torch_mod
    module_kwargs, qs, ks, vs, forward_kwargs, self_attention = case
    ours, theirs = _mha_pair(torch, **module_kwargs)
    rng = np.random.default_rng(8)
    arrays = [rng.normal(size=qs)] if self_attention else [rng.normal(size=s)
                                                           for s in (qs, ks, vs)]
    our_in = [wg.tensor(a, requires_grad=True) for a in arrays]
    their_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    if self_attention:
        our_in, their_in = our_in * 3, their_in * 3
    made = {k: v(rng) if callable(v) else v for k, v in forward_kwargs.items()}
    out, weights = ours(*our_in, **made)
    tout, tweights = theirs(*their_in, **{k: torch.tensor(v) if isinstance(v, np.ndarray)
                                          else v for k, v in made.items()})
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-11, atol=1e-13)
    g = rng.normal(size=out.shape)
    loss, tloss = (out * g).sum(), (tout * torch.tensor(g)).sum()
    if tweights is None:
        assert weights is None
    else:
        assert weights.shape == tuple(tweights.shape)
        np.testing.assert_allclose(weights.data, tweights.detach().numpy(), rtol=1e-11,
                                   atol=1e-13)
        gw = rng.normal(size=weights.shape)
        loss, tloss = loss + (weights * gw).sum(), tloss + (tweights * torch.tensor(gw)).sum()
    loss.backward()
    tloss.backward()
    for a, b in zip(our_in[:len(arrays)], their_in[:len(arrays)]):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-10, atol=1e-12)
    their_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(their_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, their_params[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("kwargs", [{}, {"kdim": 3, "vdim": 5}, {"bias": False},
                                    {"add_bias_kv": True}, {"kdim": 8, "vdim": 4,
                                                            "add_bias_kv": True,
                                                            "bias": False}])
def test_multihead_attention_parameters_as_torch(torch_mod, kwargs):
    """The state dict's keys, order and shapes; and a wengert state dict loads into PyTorch's
    module and gives its outputs."""
    torch = torch_mod
    ours = nn.MultiheadAttention(E, 2, **kwargs, dtype="float64")
    theirs = torch.nn.MultiheadAttention(E, 2, **kwargs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    assert all(ours_sd[k].shape == tuple(v.shape) for k, v in theirs_sd.items())
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours_sd.items()})
    x = np.random.default_rng(9).normal(size=(4, 3, E))
    kv = np.random.default_rng(10).normal(size=(5, 3, ours.kdim))
    vv = np.random.default_rng(11).normal(size=(5, 3, ours.vdim))
    out, _ = ours(wg.tensor(x), wg.tensor(kv), wg.tensor(vv))
    tout, _ = theirs(torch.tensor(x), torch.tensor(kv), torch.tensor(vv))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-11, atol=1e-13)
    assert ours.out_proj.weight.shape == (E, E) and ours.head_dim == 4
    assert ours._qkv_same_embed_dim == theirs._qkv_same_embed_dim


def test_multihead_attention_initialisation():
    """xavier_uniform_ projections (bound sqrt(6 / (fan_in + fan_out))), zero biases,
    xavier_normal_ bias_k/bias_v (std sqrt(2 / (E + E)) for their (1, 1, E) shape)."""
    embed = 256
    mha = nn.MultiheadAttention(embed, 8, add_bias_kv=True, dtype="float64")
    w = mha.in_proj_weight.data
    bound = math.sqrt(6 / (embed + 3 * embed))
    assert w.shape == (3 * embed, embed) and np.abs(w).max() <= bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.02
    np.testing.assert_array_equal(mha.in_proj_bias.data, 0)
    np.testing.assert_array_equal(mha.out_proj.bias.data, 0)
    out_bound = 1 / math.sqrt(embed)  # out_proj keeps Linear's initialisation, as PyTorch's
    assert np.abs(mha.out_proj.weight.data).max() <= out_bound
    both = np.concatenate([mha.bias_k.data.ravel(), mha.bias_v.data.ravel()])
    assert abs(both.std() * math.sqrt(embed) - 1) < 0.15  # 512 draws
    separate = nn.MultiheadAttention(embed, 8, kdim=64, vdim=32, dtype="float64")
    bound_k = math.sqrt(6 / (embed + 64))
    assert np.abs(separate.k_proj_weight.data).max() <= bound_k
    assert abs(separate.k_proj_weight.data.std() / (bound_k / math.sqrt(3)) - 1) < 0.03
    assert separate.in_proj_weight is None and separate.v_proj_weight.shape == (embed, 32)
    assert mha.in_proj_weight.dtype == np.float64
    assert nn.MultiheadAttention(4, 2).in_proj_weight.dtype == np.float32


def test_multihead_attention_fully_masked_query(torch_mod):
    """A query whose keys are all masked: PyTorch's need_weights=False path gives weights 0,
    so the output is out_proj.bias; wengert gives that with need_weights=True too (where
    PyTorch gives NaN), with weights 0 for that row."""
    torch = torch_mod
    ours, theirs = _mha_pair(torch, embed_dim=E, num_heads=2)
    with wg.no_grad():
        ours.out_proj.bias[...] = np.arange(E) / 10.0
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(12).normal(size=(4, 3, E))
    mask = np.zeros((4, 4), bool)
    mask[2] = True
    tout, _ = theirs(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(mask), need_weights=False)
    for need_weights in (False, True):
        out, weights = ours(*(wg.tensor(x),) * 3, attn_mask=mask, need_weights=need_weights)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(out.data[2], np.broadcast_to(np.arange(E) / 10.0, (3, E)),
                                   rtol=1e-15)
    np.testing.assert_array_equal(weights.data[:, 2], 0.0)


def test_multihead_attention_dropout_training_and_eval():
    p = 0.5
    mha = nn.MultiheadAttention(E, 2, dropout=p, dtype="float64")
    x = wg.tensor(np.random.default_rng(13).normal(size=(6, 2, E)))
    mha.eval()
    out_a, w_clean = mha(x, x, x, average_attn_weights=False)
    out_b, _ = mha(x, x, x, average_attn_weights=False)
    np.testing.assert_array_equal(out_a.data, out_b.data)  # eval: deterministic
    mha.train()
    out_c, w_dropped = mha(x, x, x, average_attn_weights=False)
    out_d, _ = mha(x, x, x, average_attn_weights=False)
    assert not np.allclose(out_c.data, out_a.data) and not np.allclose(out_c.data, out_d.data)
    kept = w_dropped.data != 0
    assert 0.3 < kept.mean() < 0.7  # 144 weights, each kept with probability 0.5
    np.testing.assert_allclose(w_dropped.data[kept], (w_clean.data / (1 - p))[kept],
                               rtol=1e-12)


def test_multihead_attention_shapes():
    mha = nn.MultiheadAttention(E, 4, dtype="float64")
    q, kv = wg.ones((5, E), dtype="float64"), wg.ones((7, E), dtype="float64")
    out, weights = mha(q, kv, kv)
    assert out.shape == (5, E) and weights.shape == (5, 7)
    out, weights = mha(q, kv, kv, average_attn_weights=False)
    assert weights.shape == (4, 5, 7)
    assert mha(q, kv, kv, need_weights=False)[1] is None
    extra = nn.MultiheadAttention(E, 4, add_bias_kv=True, add_zero_attn=True, batch_first=True)
    out, weights = extra(wg.ones((2, 5, E), dtype="float32"), wg.ones((2, 7, E), dtype="float32"),
                         wg.ones((2, 7, E), dtype="float32"))
    assert out.shape == (2, 5, E) and weights.shape == (2, 5, 9)  # bias key and zero key
    assert out.dtype == np.float32


def test_multihead_attention_mismatched_mask_types_warn_as_torch():
    mha = nn.MultiheadAttention(E, 2, dtype="float64")
    x = wg.ones((3, 2, E), dtype="float64")
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 3), bool), attn_mask=np.zeros((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mha(x, x, x, key_padding_mask=np.zeros((2, 3), bool), attn_mask=np.zeros((3, 3), bool))


def _mha_error_cases():
    t = np.ones
    q, kv = t((4, 3, E)), t((5, 3, E))
    return [
        ("1-D query", {}, (t(E), t(E), t(E)), {}, ShapeError, "unbatched 2-D"),
        ("4-D query", {}, (t((1, 4, 3, E)),) * 3, {}, ShapeError, "batched 3-D"),
        ("2-D key for a 3-D query", {}, (q, t((5, E)), t((5, E))), {}, ShapeError,
         "3-D too"),
        ("embed_dim", {}, (t((4, 3, 6)), t((5, 3, 6)), t((5, 3, 6))), {}, ShapeError,
         "embed_dim=8"),
        ("key and value shapes", {}, (q, kv, t((6, 3, E))), {}, ShapeError,
         "same shape"),
        ("key features", {}, (q, t((5, 3, 7)), t((5, 3, 7))), {}, ShapeError, "kdim=8"),
        ("kdim", {"kdim": 3, "vdim": 5}, (q, t((5, 3, 4)), t((5, 3, 5))), {}, ShapeError,
         "kdim=3"),
        ("key and value lengths", {"kdim": 3, "vdim": 5}, (q, t((5, 3, 3)), t((6, 3, 5))), {},
         ShapeError, "same sequence length"),
        ("batch sizes", {}, (q, t((5, 2, E)), t((5, 2, E))), {}, ShapeError, "batch size"),
        ("2-D attn_mask", {}, (q, kv, kv), {"attn_mask": t((5, 4), bool)}, ShapeError,
         r"should be \(4, 5\)"),
        ("3-D attn_mask", {}, (q, kv, kv), {"attn_mask": t((3, 4, 5))}, ShapeError,
         r"should be \(6, 4, 5\)"),
        ("4-D attn_mask", {}, (q, kv, kv), {"attn_mask": t((1, 6, 4, 5))}, ShapeError,
         "2-D .* or 3-D"),
        ("unbatched 3-D attn_mask", {}, (t((4, E)), t((5, E)), t((5, E))),
         {"attn_mask": t((4, 4, 5))}, ShapeError, r"should be \(2, 4, 5\)"),
        ("key_padding_mask length", {}, (q, kv, kv),
         {"key_padding_mask": t((3, 4), bool)}, ShapeError, r"should be \(3, 5\)"),
        ("1-D key_padding_mask, batched", {}, (q, kv, kv),
         {"key_padding_mask": t(5, bool)}, ShapeError, r"\(N, S\)"),
        ("integer key_padding_mask", {}, (q, kv, kv), {"key_padding_mask": t((3, 5), int)},
         DTypeError, "key_padding_mask must be bool or floating"),
        ("integer attn_mask", {}, (q, kv, kv), {"attn_mask": t((4, 5), int)}, DTypeError,
         "attn_mask must be bool or floating"),
        ("is_causal without a mask", {}, (q, kv, kv), {"is_causal": True}, ArgumentError,
         "needs that attn_mask"),
        ("dropout above 1 in training", {"dropout": 1.5}, (q, kv, kv), {}, ArgumentError,
         "dropout=1.5"),
    ]


@pytest.mark.parametrize("case", _mha_error_cases(), ids=lambda c: c[0])
def test_multihead_attention_errors_as_torch(torch_mod, case):
    torch = torch_mod
    _, module_kwargs, arrays, kwargs, kind, pattern = case
    with pytest.raises(kind, match=pattern):
        nn.MultiheadAttention(E, 2, **module_kwargs, dtype="float64")(
            *(wg.tensor(a) for a in arrays), **kwargs)
    their_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                    for k, v in kwargs.items()}
    with pytest.raises((AssertionError, RuntimeError, ValueError)):  # PyTorch refuses it too
        torch.nn.MultiheadAttention(E, 2, **module_kwargs)(
            *(torch.tensor(a) for a in arrays), **their_kwargs)


@pytest.mark.parametrize("module, query, key, value", [
    ("float32", "float32", "float64", "float64"), ("float32", "float32", "float32", "float64"),
    ("float64", "float32", "float32", "float32"), ("float32", "float64", "float64", "float64"),
    ("float64", "float64", "float32", "float64")])
@pytest.mark.parametrize("kdim", [None, 6])
def test_multihead_attention_mixed_dtypes_raise_as_torch(torch_mod, module, query, key, value,
                                                         kdim):
    """PyTorch's projections refuse inputs of another dtype than the module's weights, each
    input its own (no promotion); so does wengert, naming the input and both dtypes."""
    torch = torch_mod
    rng = np.random.default_rng(0)
    kd = kdim or E
    arrays = [rng.normal(size=(4, 3, E)).astype(query),
              rng.normal(size=(5, 3, kd)).astype(key), rng.normal(size=(5, 3, kd)).astype(value)]
    first = next(name for name, dtype in zip(("query", "key", "value"), (query, key, value))
                 if dtype != module)
    bad = {"query": query, "key": key, "value": value}[first]
    with pytest.raises(DTypeError, match=rf"MultiheadAttention: the {first} is {bad} but the "
                                         rf"module's parameters are {module} .*Hint: cast the "
                                         rf"inputs, x.astype\('{module}'\), or the module, "
                                         rf"module.to\('{bad}'\)"):
        nn.MultiheadAttention(E, 2, kdim=kdim, vdim=kdim, dtype=module)(
            *(wg.tensor(a) for a in arrays))
    with pytest.raises(RuntimeError, match="must have the same dtype"):
        torch.nn.MultiheadAttention(E, 2, kdim=kdim, vdim=kdim, dtype=getattr(torch, module))(
            *(torch.tensor(a) for a in arrays))


def test_multihead_attention_self_attention_of_another_dtype_raises_as_torch(torch_mod):
    x = np.ones((4, 3, E), np.float32)
    with pytest.raises(DTypeError, match="the query is float32 but the module's parameters "
                                         "are float64"):
        nn.MultiheadAttention(E, 2, dtype="float64")(*(wg.tensor(x),) * 3)
    with pytest.raises(RuntimeError, match="must have the same dtype"):
        torch_mod.nn.MultiheadAttention(E, 2, dtype=torch_mod.float64)(*(torch_mod.tensor(x),) * 3)


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("module, attn_mask, key_padding_mask, need_weights, refused", [
    ("float32", "float64", None, False, True), ("float32", "float16", None, True, True),
    ("float64", "float32", None, True, True),
    ("float64", "float32", None, False, False),  # attention's other dtype
    ("float64", "float32", "float32", False, False),
    ("float32", "bool", "float64", False, True),  # bool is float32 here: + float64 = float64
    ("float32", "float16", "float32", True, False),  # float16 + float32 = float32
    ("float64", "float16", "bool", True, False)])  # + a float64 (the bool one) = float64
def test_multihead_attention_float_mask_dtypes_as_torch(torch_mod, module, attn_mask,
                                                         key_padding_mask, need_weights,
                                                         refused):
    """PyTorch adds a float mask of another dtype than the query's (after adding the two
    masks, a boolean one being a float one of the query's dtype) only without need_weights
    and only if it is float32; otherwise it raises, and so does wengert."""
    torch = torch_mod
    rng = np.random.default_rng(1)
    masks = {"attn_mask": (attn_mask, (4, 5)), "key_padding_mask": (key_padding_mask, (3, 5))}
    made = {name: (rng.random(shape) > 0.7 if dtype == "bool" else
                   rng.normal(size=shape)).astype(dtype)
            for name, (dtype, shape) in masks.items() if dtype is not None}
    for mask in made.values():
        mask[..., 0] = 0  # a key that no query loses
    ours = nn.MultiheadAttention(E, 2, dtype=module)
    theirs = torch.nn.MultiheadAttention(E, 2, dtype=getattr(torch, module))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    q, kv = (rng.normal(size=s).astype(module) for s in ((4, 3, E), (5, 3, E)))

    def call_ours():
        return ours(wg.tensor(q), wg.tensor(kv), wg.tensor(kv), need_weights=need_weights,
                    **{k: wg.tensor(v) for k, v in made.items()})

    def call_theirs():
        return theirs(torch.tensor(q), torch.tensor(kv), torch.tensor(kv),
                      need_weights=need_weights, **{k: torch.tensor(v) for k, v in made.items()})

    if refused:
        with pytest.raises(DTypeError, match=r"MultiheadAttention: the masks \(.*\) add up "
                                             r"to .*Hint: cast the float mask"):
            call_ours()
        with pytest.raises(RuntimeError):
            call_theirs()
    else:
        out, tout = call_ours()[0], call_theirs()[0]
        assert out.dtype == np.dtype(module)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args, pattern", [((6, 4), "embed_dim=6 is not divisible by "
                                                    "num_heads=4"),
                                           ((6, 0), "greater than 0"),
                                           ((0, 2), "greater than 0")])
def test_multihead_attention_constructor_errors_as_torch(torch_mod, args, pattern):
    with pytest.raises(ArgumentError, match=pattern):
        nn.MultiheadAttention(*args)
    with pytest.raises((AssertionError, ValueError)):
        torch_mod.nn.MultiheadAttention(*args)


def test_multihead_attention_eval_dropout_is_not_checked_as_torch():
    """PyTorch checks MultiheadAttention's dropout only when it drops (in training)."""
    mha = nn.MultiheadAttention(E, 2, dropout=1.5).eval()
    x = wg.ones((3, 2, E), dtype="float32")
    assert mha(x, x, x)[0].shape == (3, 2, E)
