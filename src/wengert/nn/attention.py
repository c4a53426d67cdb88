"""Attention: ``scaled_dot_product_attention`` (exported by ``nn.functional``) and
``MultiheadAttention``, with PyTorch's arguments, masks, shapes and parameter layout.

Both are composites of wengert primitives (matmul, where, softmax, dropout, linear), so they
differentiate in every mode. Attention computes, per query row,
``softmax(q @ k.T * scale + mask) @ v``; where every key of a row is masked out (all its
scores -inf) the row's weights are 0 rather than 0/0, as PyTorch's math path
(``torch._safe_softmax``) gives, so such a query's output is 0 and its gradient 0, not NaN.

Mask conventions differ between the two, as in PyTorch: ``scaled_dot_product_attention``'s
boolean ``attn_mask`` is True where a key *takes part*; ``MultiheadAttention``'s boolean
``attn_mask`` and ``key_padding_mask`` are True where a key is *ignored*. Float masks are
added to the scores in both (-inf removes a key)."""
import math
import warnings

import numpy as np

from ..autodiff.batching import Batched
from ..backend import DEFAULT_FLOAT, as_dtype
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.activation import softmax
from ..ops.elementwise import where
from ..ops.linalg import matmul
from ..ops.reduce import all as all_, mean
from ..ops.shape import (broadcast_to, concatenate, expand_dims, reshape, split, squeeze,
                         swapaxes, transpose)
from ..ops.structure import repeat_interleave
from ..tensor import Tensor
from . import functional as F, init
from .layers import Linear
from .module import Module, Parameter

_SDPA = "scaled_dot_product_attention"


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query @ key.T * scale + bias) @ value`` over the last two axes, as
    ``torch.nn.functional.scaled_dot_product_attention`` (its math path).

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the
    leading (batch, head) axes broadcast. ``scale`` defaults to ``1 / sqrt(E)``.
    ``attn_mask`` broadcasts to the scores' shape (..., L, S): a boolean one is True where a
    key takes part (False: left out), a float one is added to the scores (a float mask must be
    float32 or the query's dtype, as PyTorch's). ``is_causal=True`` uses the top-left causal
    mask ``tril(ones(L, S))`` (query i sees keys 0..i) and cannot be combined with
    ``attn_mask``. ``dropout_p`` drops attention weights (scaling the rest by 1/(1 - p))
    whenever it is above 0: pass 0 in evaluation. ``enable_gqa=True`` (grouped-query
    attention) repeats each key and value head (axis -3) to the query's number of heads,
    which they must divide.

    A query whose keys are all masked out gets weights 0 and output 0 (PyTorch's math path
    gives the same; its ``MultiheadAttention`` with ``need_weights=True`` gives NaN)."""
    _check_inputs(query, key, value, enable_gqa)
    if not 0 <= dropout_p <= 1:
        raise ArgumentError(f"{_SDPA}: dropout_p={dropout_p} is not a probability; use "
                            "0 <= dropout_p <= 1 (0 in evaluation)")
    if is_causal and attn_mask is not None:
        raise ArgumentError(f"{_SDPA}: is_causal=True and an explicit attn_mask cannot be "
                            "combined, as in PyTorch. Hint: fold the causal mask into attn_mask "
                            "(e.g. & tril(ones(L, S)) for a boolean mask), or drop attn_mask")
    if enable_gqa:
        heads = query.shape[-3]
        key = repeat_interleave(key, heads // key.shape[-3], axis=-3)
        value = repeat_interleave(value, heads // value.shape[-3], axis=-3)
    if attn_mask is not None:
        _check_mask(query, key, value, attn_mask)
    out, _ = _attend(query, key, value, attn_mask, dropout_p, is_causal, scale)
    return out


def _check_inputs(query, key, value, enable_gqa):
    """PyTorch's checks of the query, key and value shapes and dtypes, by name."""
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ShapeError(f"{_SDPA}: query, key and value need at least 2 dims (..., L or S, E), "
                         f"got {shapes}. Hint: add the sequence axis, x[None]")
    dtypes = {np.dtype(t.dtype) for t in (query, key, value)}
    if len(dtypes) > 1 or next(iter(dtypes)).kind != "f":
        raise DTypeError(f"{_SDPA}: query, key and value must be floating and of one dtype, got "
                         f"{query.dtype}, {key.dtype} and {value.dtype} ({shapes}). Hint: cast "
                         "them with .astype()")
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(f"{_SDPA}: the query's last axis ({query.shape[-1]}) must equal the "
                         f"key's ({key.shape[-1]}): {shapes}. Hint: both are (..., E)")
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"{_SDPA}: key and value must have the same sequence length (axis -2), "
                         f"got {key.shape[-2]} and {value.shape[-2]}: {shapes}")
    if enable_gqa:
        if min(query.ndim, key.ndim, value.ndim) < 3:
            raise ShapeError(f"{_SDPA}: enable_gqa=True needs a head axis (-3) in query, key "
                             f"and value, got {shapes}. Hint: pass (..., heads, L, E) tensors")
        heads = query.shape[-3]
        if any(t.shape[-3] == 0 or heads % t.shape[-3] for t in (key, value)):
            raise ShapeError(f"{_SDPA}: with enable_gqa=True the key and value heads (axis -3: "
                             f"{key.shape[-3]} and {value.shape[-3]}) must divide the query's "
                             f"{heads}: {shapes}")
    # the leading axes after enable_gqa's repetition of the key and value heads
    lead = [tuple(t.shape[:-3]) + ((query.shape[-3],) if enable_gqa else tuple(t.shape[-3:-2]))
            for t in (query, key, value)]
    try:
        np.broadcast_shapes(*lead)
    except ValueError:
        hint = (" Hint: pass enable_gqa=True for fewer key/value heads"
                if min(query.ndim, key.ndim) >= 3 and query.shape[-3] != key.shape[-3] else "")
        raise ShapeError(f"{_SDPA}: the leading (batch, head) axes do not broadcast: "
                         f"{shapes}.{hint}") from None


def _check_mask(query, key, value, attn_mask):
    """A boolean mask, or a float one of float32 or the query's dtype, that broadcasts to the
    scores' shape without enlarging it (PyTorch adds it in place)."""
    dtype = np.dtype(attn_mask.dtype)
    if dtype != np.bool_ and dtype not in (np.dtype(np.float32), np.dtype(query.dtype)):
        raise DTypeError(f"{_SDPA}: attn_mask must be bool, float32 or the query's dtype "
                         f"({query.dtype}), got {dtype}. Hint: a boolean mask is True where a "
                         "key takes part; a float mask is added to the scores")
    batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2])
    scores = batch + (query.shape[-2], key.shape[-2])
    try:
        fits = np.broadcast_shapes(scores, attn_mask.shape) == scores
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{_SDPA}: attn_mask of shape {tuple(attn_mask.shape)} does not "
                         f"broadcast to the attention scores' shape {scores} (batch..., L, S) "
                         f"of query {tuple(query.shape)} and key {tuple(key.shape)}")


def _attend(query, key, value, mask, dropout_p, is_causal, scale):
    """The attention output and its weights; ``mask`` is None, boolean (True: take part) or
    float (added)."""
    if scale is None:
        # With no features (E = 0) every score is an empty sum, 0, whatever the scale.
        scale = 1 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    scores = matmul(query, swapaxes(key, axis1=-2, axis2=-1)) * scale
    if is_causal:
        mask = np.tril(np.ones(scores.shape[-2:], dtype=bool))
    if mask is not None:
        if np.dtype(mask.dtype) == np.bool_:
            scores = where(mask.data if isinstance(mask, Tensor) else mask, scores, -np.inf)
        else:
            # a float32 mask on a float16 query is added in the query's dtype, as PyTorch's:
            # a plain sum would promote the scores, and the output, to float32
            scores = scores + (mask if mask.dtype == scores.dtype else mask.astype(scores.dtype))
    weights = _safe_softmax(scores)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p)
    return matmul(weights, value), weights


def _safe_softmax(scores):
    """Softmax over the last axis, with 0 (not NaN) for rows whose scores are all -inf."""
    if scores.shape[-1] == 0:  # no keys at all: an empty row, its own softmax
        return scores
    dead = all_(scores == -np.inf, axis=-1, keepdims=True)
    if not (type(dead) is Batched or dead.data.any()):  # under vmap: the general way
        return softmax(scores, axis=-1)
    # The dead rows go through softmax as zeros (no -inf - -inf) and are then replaced, so
    # neither the values nor the gradients see a NaN.
    return where(dead, 0.0, softmax(where(dead, 0.0, scores), axis=-1))


class MultiheadAttention(Module):
    """Multi-head attention, ``torch.nn.MultiheadAttention``:
    ``concat(head_1..head_h) @ out_proj``, ``head_i = attention(q W_i^Q, k W_i^K, v W_i^V)``.

    Parameters (PyTorch's names and layout): ``in_proj_weight`` (3E, E), the query, key and
    value projections stacked, when ``kdim`` and ``vdim`` equal ``embed_dim`` (E); otherwise
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim).
    ``in_proj_bias`` (3E,) and ``out_proj`` (a ``Linear(E, E)``) with ``bias=True``;
    ``bias_k``, ``bias_v`` (1, 1, E) with ``add_bias_kv`` (one more key and value appended to
    every sequence). The projections start xavier_uniform_, the biases 0, ``bias_k`` and
    ``bias_v`` xavier_normal_, ``out_proj.weight`` as a Linear's. ``dropout`` drops attention
    weights in training. ``add_zero_attn`` appends a zero key and value after the
    projections. ``batch_first=True`` takes (N, L, E) inputs instead of (L, N, E); an
    unbatched (L, E) input gives an unbatched output. ``dtype`` defaults to float32.

    A query whose keys are all masked gets zero attention weights, so its output is
    ``out_proj.bias``. PyTorch gives that with ``need_weights=False`` in training, but NaN
    with ``need_weights=True`` or on its inference fast path; wengert gives the same finite
    answer on every path."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ArgumentError(f"MultiheadAttention: embed_dim and num_heads must be greater "
                                f"than 0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ArgumentError(f"MultiheadAttention: embed_dim={embed_dim} is not divisible by "
                                f"num_heads={num_heads}. Hint: each head takes embed_dim / "
                                "num_heads features; pick a divisor")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        dtype = as_dtype(dtype) or DEFAULT_FLOAT

        def param(*shape):
            return Parameter(np.empty(shape, dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", param(3 * embed_dim) if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.register_parameter("bias_k", param(1, 1, embed_dim) if add_bias_kv else None)
        self.register_parameter("bias_v", param(1, 1, embed_dim) if add_bias_kv else None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """``(attn_output, attn_weights)``.

        query (L, N, E) (``batch_first``: (N, L, E); unbatched: (L, E)), key (S, N, kdim) and
        value (S, N, vdim) likewise. ``key_padding_mask`` (N, S) (unbatched: (S,)) and
        ``attn_mask`` (L, S) or (N * num_heads, L, S): boolean True ignores that key, a float
        mask is added to the scores. ``is_causal=True`` is a hint that ``attn_mask`` is the
        causal mask (it is then required, as in PyTorch; without a key_padding_mask and with
        ``need_weights=False`` the top-left causal mask is used in its place). As PyTorch, it
        promotes no dtype: query, key and value must have the parameters' dtype, and the float
        masks, added, the query's (or float32 with ``need_weights=False``); else a DTypeError.

        attn_output has the query's shape with E features; attn_weights (None unless
        ``need_weights``) are (N, L, S) averaged over the heads, or (N, num_heads, L, S) with
        ``average_attn_weights=False`` (unbatched: without N), after dropout. With
        ``add_bias_kv`` or ``add_zero_attn``, S counts the keys they add."""
        batched = _check_mha_inputs(self, query, key, value, key_padding_mask, attn_mask)
        _check_mha_dtypes(self, query, key, value)
        given_masks = {"attn_mask": attn_mask, "key_padding_mask": key_padding_mask}
        key_padding_mask = _canonical_mask("MultiheadAttention", "key_padding_mask",
                                           key_padding_mask, query.dtype, attn_mask, "attn_mask")
        attn_mask = _canonical_mask("MultiheadAttention", "attn_mask", attn_mask, query.dtype)
        self_attention = query is key and key is value
        if self.batch_first and batched:
            query, key, value = (swapaxes(t, axis1=0, axis2=1) for t in (query, key, value))
        elif not batched:
            query, key, value = (expand_dims(t, axis=1) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = expand_dims(key_padding_mask, axis=0)
        if is_causal and attn_mask is None:
            raise ArgumentError("MultiheadAttention: is_causal=True is a hint that attn_mask is "
                                "the causal mask, and needs that attn_mask, as in PyTorch. Hint: "
                                "pass attn_mask=nn.Transformer.generate_square_subsequent_mask(L)")
        if is_causal and key_padding_mask is None and not need_weights:
            attn_mask = None  # PyTorch hands the hint on to attention; the mask is not used
        else:
            is_causal = False  # PyTorch's paths that keep the mask do not look at the hint
        _check_mha_mask_dtypes(query, attn_mask, key_padding_mask, given_masks, need_weights)
        q, k, v = self._in_projection(query, key, value, self_attention)
        out, weights = self._attention(q, k, v, key_padding_mask, attn_mask, is_causal)
        if need_weights:
            weights = mean(weights, axis=1) if average_attn_weights else weights
        if not batched:
            out = squeeze(out, axis=1)
            weights = squeeze(weights, axis=0) if need_weights else None
        elif self.batch_first:
            out = swapaxes(out, axis1=0, axis2=1)
        return out, (weights if need_weights else None)

    def _attention(self, q, k, v, key_padding_mask, attn_mask, is_causal):
        """The attention of the projected (L, N, E) query and (S, N, E) key and value: the
        output (L, N, E) and the weights (N, heads, L, S)."""
        length, batch, embed = q.shape
        heads, head_dim = self.num_heads, self.head_dim
        if attn_mask is not None:
            attn_mask = (reshape(attn_mask, shape=(1, 1) + attn_mask.shape)
                         if attn_mask.ndim == 2 else
                         reshape(attn_mask, shape=(batch, heads) + attn_mask.shape[1:]))
        if key_padding_mask is not None:
            key_padding_mask = reshape(key_padding_mask,
                                       shape=(batch, 1, 1, key_padding_mask.shape[-1]))
        if self.bias_k is not None:
            k = concatenate([k, broadcast_to(self.bias_k, shape=(1, batch, embed))], axis=0)
            v = concatenate([v, broadcast_to(self.bias_v, shape=(1, batch, embed))], axis=0)
            attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)

        def heads_first(t):  # (S, N, E) -> (N, heads, S, head_dim)
            return transpose(reshape(t, shape=(t.shape[0], batch, heads, head_dim)),
                             axes=(1, 2, 0, 3))

        q, k, v = heads_first(q), heads_first(k), heads_first(v)
        if self.add_zero_attn:
            zeros = np.zeros((batch, heads, 1, head_dim), k.dtype)
            k, v = concatenate([k, zeros], axis=2), concatenate([v, zeros], axis=2)
            attn_mask, key_padding_mask = _pad_key(attn_mask), _pad_key(key_padding_mask)
        mask = attn_mask
        if key_padding_mask is not None:
            mask = key_padding_mask if mask is None else mask + key_padding_mask
        dropout_p = self.dropout if self.training else 0.0
        if not 0 <= dropout_p <= 1:
            raise ArgumentError(f"MultiheadAttention: dropout={dropout_p} is not a probability; "
                                "use 0 <= dropout <= 1")
        out, weights = _attend(q, k, v, mask, dropout_p, is_causal, None)
        out = reshape(transpose(out, axes=(2, 0, 1, 3)), shape=(length, batch, embed))
        return self.out_proj(out), weights

    def _in_projection(self, query, key, value, self_attention):
        w, b = self.in_proj_weight, self.in_proj_bias
        biases = (None,) * 3 if b is None else split(b, 3)
        if not self._qkv_same_embed_dim:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        elif self_attention:  # one product for all three
            return split(F.linear(query, w, b), 3, axis=-1)
        else:
            weights = split(w, 3)
        return tuple(F.linear(x, wx, bx) for x, wx, bx in zip((query, key, value), weights,
                                                                biases))


def _check_mha_inputs(mha, query, key, value, key_padding_mask, attn_mask):
    """PyTorch's shape checks of MultiheadAttention.forward; returns whether it is batched."""
    where_ = "MultiheadAttention"
    shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
    if query.ndim not in (2, 3):
        raise ShapeError(f"{where_}: the query must be unbatched 2-D (L, E) or batched 3-D "
                         f"(L, N, E) ((N, L, E) with batch_first=True), got {shapes}")
    batched = query.ndim == 3
    kind = "batched (3-D)" if batched else "unbatched (2-D)"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{where_}: for a {kind} query, key and value must be "
                         f"{query.ndim}-D too, got {shapes}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ShapeError(f"{where_}: for a {kind} query, key_padding_mask must be "
                         f"{'(N, S)' if batched else '(S,)'}, got shape "
                         f"{tuple(key_padding_mask.shape)} ({shapes})")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ShapeError(f"{where_}: attn_mask must be 2-D (L, S) or 3-D (N * num_heads, L, S), "
                         f"got shape {tuple(attn_mask.shape)} ({shapes})")
    seq = 0 if not batched or not mha.batch_first else 1
    length, source = query.shape[seq], key.shape[seq]
    batch = query.shape[1 - seq] if batched else 1
    embed = query.shape[-1]
    if embed != mha.embed_dim:
        raise ShapeError(f"{where_}: expected the query's last axis to be embed_dim="
                         f"{mha.embed_dim}, got {shapes}")
    if mha._qkv_same_embed_dim and key.shape != value.shape:
        raise ShapeError(f"{where_}: key and value must have the same shape, got {shapes}")
    if key.shape[:-1] != value.shape[:-1]:
        raise ShapeError(f"{where_}: key and value must have the same sequence length and "
                         f"batch size, got {shapes}")
    if key.shape[-1] != mha.kdim or value.shape[-1] != mha.vdim:
        raise ShapeError(f"{where_}: the key's and value's last axes must be kdim={mha.kdim} "
                         f"and vdim={mha.vdim}, got {shapes}. Hint: build the layer with "
                         "kdim=/vdim= for keys and values of other sizes")
    if batched and query.shape[1 - seq] != key.shape[1 - seq]:
        raise ShapeError(f"{where_}: query, key and value must have the same batch size, got "
                         f"{shapes}")
    if attn_mask is not None:
        expected = ((length, source) if attn_mask.ndim == 2
                    else (batch * mha.num_heads, length, source) if batched
                    else (mha.num_heads, length, source))
        if tuple(attn_mask.shape) != expected:
            raise ShapeError(f"{where_}: the {attn_mask.ndim}-D attn_mask has shape "
                             f"{tuple(attn_mask.shape)}, but should be {expected} ({shapes}, "
                             f"num_heads={mha.num_heads})")
    if key_padding_mask is not None:
        expected = (batch, source) if batched else (source,)
        if tuple(key_padding_mask.shape) != expected:
            raise ShapeError(f"{where_}: key_padding_mask has shape "
                             f"{tuple(key_padding_mask.shape)}, but should be {expected} "
                             f"(batch size, source length) ({shapes})")
    return batched


def _check_mha_dtypes(mha, query, key, value):
    """The query, key and value must have the dtype of the projection weights they are
    multiplied by, as in PyTorch, whose matmuls refuse a mix (no promotion)."""
    weights = ((mha.in_proj_weight,) * 3 if mha._qkv_same_embed_dim else
               (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight))
    for name, x, w in zip(("query", "key", "value"), (query, key, value), weights):
        have, want = np.dtype(x.dtype), np.dtype(w.dtype)
        if have != want:
            raise DTypeError(f"MultiheadAttention: the {name} is {have} but the module's "
                             f"parameters are {want} (query {query.dtype}, key {key.dtype}, "
                             f"value {value.dtype}); as in PyTorch, they must be of one dtype. "
                             f"Hint: cast the inputs, x.astype('{want}'), or the module, "
                             f"module.to('{have}') (module.double() for float64)")


def _check_mha_mask_dtypes(query, attn_mask, key_padding_mask, given, need_weights):
    """The float masks, added together (a boolean one is a float one of the query's dtype
    by now), must have the query's dtype, or be float32 without ``need_weights``, as in
    PyTorch: it adds them to the scores in one kernel that refuses other dtypes (with
    ``need_weights``) or passes them to attention, which takes float32 or the query's."""
    masks = [m for m in (attn_mask, key_padding_mask) if m is not None]
    if not masks:
        return
    dtype, query_dtype = np.result_type(*(m.dtype for m in masks)), np.dtype(query.dtype)
    if dtype == query_dtype or dtype == np.float32 and not need_weights:
        return
    named = ", ".join(f"{name} {np.dtype(m.dtype)}" for name, m in given.items()
                      if m is not None)
    takes = "" if need_weights else " or float32"
    raise DTypeError(f"MultiheadAttention: the masks ({named}) add up to {dtype} (a boolean "
                     f"one as the query's dtype), but with need_weights={need_weights} they "
                     f"must be of the query's dtype ({query_dtype}){takes}, as in PyTorch. "
                     f"Hint: cast the float mask, mask.astype('{query_dtype}'), or pass a "
                     "boolean one (True ignores a key)")


def _canonical_mask(where_, name, mask, dtype, other=None, other_name=""):
    """A boolean mask (True: ignore) as a float one of ``dtype`` (0 or -inf); a float mask
    as it is. PyTorch warns when the two masks of one call differ in dtype, and so does this."""
    if mask is None:
        return None
    mask_dtype = np.dtype(mask.dtype)
    if mask_dtype != np.bool_ and mask_dtype.kind != "f":
        raise DTypeError(f"{where_}: {name} must be bool or floating, got dtype {mask_dtype} "
                         f"(shape {tuple(mask.shape)}). Hint: a boolean mask is True where a key "
                         "is ignored; a float mask is added to the scores")
    if other is not None and np.dtype(other.dtype) != mask_dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", stacklevel=4)
    if mask_dtype == np.bool_:
        data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        return np.where(data, -np.inf, 0.0).astype(dtype)
    return mask


def _pad_key(mask):
    """``mask`` with a column of zeros for one more key (None stays None)."""
    if mask is None:
        return None
    return concatenate([mask, np.zeros(mask.shape[:-1] + (1,), mask.dtype)], axis=-1)
