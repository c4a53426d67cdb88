"""The transformer of "Attention Is All You Need" as ``torch.nn``'s: ``TransformerEncoderLayer``,
``TransformerDecoderLayer``, their stacks ``TransformerEncoder`` and ``TransformerDecoder``, and
``Transformer``, with PyTorch's arguments, submodule names (so state dicts load both ways),
masks and results.

PyTorch runs some inference calls through fused kernels on nested tensors (its "fast path").
They compute the same numbers as its ordinary path but for one visible difference, which
``TransformerEncoder`` reproduces: see its docstring."""
import copy

import numpy as np

from ..autodiff.grad_mode import is_grad_enabled
from ..backend import DEFAULT_FLOAT, as_dtype
from ..errors import ArgumentError, ShapeError
from ..ops.elementwise import where
from ..tensor import Tensor
from . import functional as F, init
from .activation import GELU, ReLU
from .attention import MultiheadAttention, _canonical_mask
from .containers import ModuleList
from .layers import Dropout, Linear
from .module import Module
from .normalization import LayerNorm


def _activation_fn(where_, activation):
    """``activation`` as a callable: 'relu' and 'gelu' name F.relu and F.gelu."""
    if isinstance(activation, str) or not callable(activation):
        if activation not in ("relu", "gelu"):
            raise ArgumentError(f"{where_}: activation={activation!r} is not allowed; use one "
                                "of 'relu', 'gelu' or a callable (e.g. nn.GELU(approximate="
                                "'tanh'))")
        return F.relu if activation == "relu" else F.gelu
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network, each in a residual block:
    ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``, or with ``norm_first=True``
    ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``, where ``sa`` is ``self_attn``
    (a :class:`MultiheadAttention`) followed by ``dropout1`` and ``ff(x) =
    dropout2(linear2(dropout(activation(linear1(x)))))``.

    ``activation`` is 'relu', 'gelu' or a callable (a Module is registered as a submodule, as
    in PyTorch); ``bias=False`` drops the biases of the linear layers, the attention and the
    LayerNorms. Inputs are (S, N, d_model), (N, S, d_model) with ``batch_first`` or
    unbatched (S, d_model). ``dtype`` defaults to float32."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 dtype=None):
        super().__init__()
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        activation = _activation_fn("TransformerEncoderLayer", activation)
        # 1 relu, 2 gelu, 0 another function: what PyTorch's fast path looks at
        self.activation_relu_or_gelu = (1 if activation is F.relu or isinstance(activation, ReLU)
                                        else 2 if activation is F.gelu
                                        or isinstance(activation, GELU) else 0)
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """The layer's output, shaped like ``src``. ``src_mask`` (S, S) or (N * nhead, S, S)
        and ``src_key_padding_mask`` (N, S) are ``MultiheadAttention``'s masks (boolean True:
        ignored; float: added); ``is_causal`` is its hint that ``src_mask`` is causal."""
        src_key_padding_mask = _canonical_mask("TransformerEncoderLayer",
                                               "src_key_padding_mask", src_key_padding_mask,
                                               src.dtype, src_mask, "src_mask")
        src_mask = _canonical_mask("TransformerEncoderLayer", "src_mask", src_mask, src.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward
    network, each in a residual block: ``x = norm1(x + sa(x)); x = norm2(x + mha(x, memory));
    x = norm3(x + ff(x))``, or with ``norm_first=True`` ``x = x + sa(norm1(x)); x = x +
    mha(norm2(x), memory); x = x + ff(norm3(x))``. ``self_attn`` and ``multihead_attn`` are
    :class:`MultiheadAttention` layers (followed by ``dropout1`` and ``dropout2``), ``ff`` as in
    :class:`TransformerEncoderLayer` (``dropout3`` after it). Arguments as there."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 dtype=None):
        super().__init__()
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation_fn("TransformerDecoderLayer", activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """The layer's output, shaped like ``tgt`` (T, N, d_model); ``memory`` is (S, N,
        d_model). ``tgt_mask`` (T, T) and ``tgt_key_padding_mask`` (N, T) mask the
        self-attention, ``memory_mask`` (T, S) and ``memory_key_padding_mask`` (N, S) the
        attention over ``memory`` (``MultiheadAttention``'s masks); the ``*_is_causal`` flags
        are its hint."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                           memory_is_causal))
        return self.norm3(x + self._ff_block(x))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _clones(module, n):
    """``n`` independent copies of ``module`` (the same initial values), as PyTorch's stacks."""
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers``, all starting from its values,
    as in PyTorch) applied in turn, then ``norm`` if given.

    PyTorch's nested-tensor path, which it takes in inference (``enable_nested_tensor``, the
    first layer in eval mode, no gradient recorded for the input or its parameters, a batched
    ``batch_first`` input with a ``src_key_padding_mask`` and no ``mask``, and a first layer
    it can fuse: a :class:`TransformerEncoderLayer` without ``norm_first``, with biases,
    relu or gelu, equal LayerNorm eps and an even number of heads), drops the padded positions
    and gives them back as zeros before ``norm``. Its numbers are reproduced here: in those
    calls the padded positions of the stack's output are 0 (``norm``'s bias after ``norm``).
    The padding it drops is the tail of each sequence: the last ``count(padded)`` positions
    (with ``mask_check=True``, the default, only masks padded at the end take this path); a
    float ``src_key_padding_mask`` counts its nonzero entries as padding there. PyTorch also
    warns, when it is built, if ``enable_nested_tensor`` cannot be used; wengert does not."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor and _fusable(encoder_layer)
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """The stack's output, shaped like ``src``; the masks and ``is_causal`` go to every
        layer (``is_causal=None``: no hint)."""
        src_key_padding_mask = _canonical_mask("TransformerEncoder", "src_key_padding_mask",
                                               src_key_padding_mask, src.dtype, mask, "mask")
        mask = _canonical_mask("TransformerEncoder", "mask", mask, src.dtype)
        padded = self._nested_padding(src, mask, src_key_padding_mask)
        if padded is not None:
            src_key_padding_mask = padded
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=bool(is_causal),
                           src_key_padding_mask=src_key_padding_mask)
        if padded is not None:
            output = where(padded[..., None], 0.0, output)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_padding(self, src, mask, src_key_padding_mask):
        """The (N, S) boolean padding PyTorch's nested-tensor path drops, or None when it
        would not take that path."""
        first = self.layers[0] if len(self.layers) else None
        if (not self.use_nested_tensor or first is None or first.training or src.ndim != 3
                or src_key_padding_mask is None or mask is not None):
            return None
        tensors = [src] + [p for p in (
            first.self_attn.in_proj_weight, first.self_attn.in_proj_bias,
            first.self_attn.out_proj.weight, first.self_attn.out_proj.bias,
            first.norm1.weight, first.norm1.bias, first.norm2.weight, first.norm2.bias,
            first.linear1.weight, first.linear1.bias, first.linear2.weight, first.linear2.bias)
            if p is not None]
        if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad
                                     for t in tensors):
            return None
        kpm = (src_key_padding_mask.data if isinstance(src_key_padding_mask, Tensor)
               else src_key_padding_mask)
        padded = kpm != 0
        length = src.shape[1]
        kept = length - padded.sum(axis=1, keepdims=True)
        tail = np.arange(length) >= kept
        if self.mask_check and not (padded == tail).all():
            return None
        return tail


def _fusable(layer):
    """Whether PyTorch's nested-tensor path takes a stack of ``layer``."""
    attn = getattr(layer, "self_attn", None)
    return (isinstance(layer, TransformerEncoderLayer) and not layer.norm_first
            and attn.batch_first and attn._qkv_same_embed_dim and attn.in_proj_bias is not None
            and bool(layer.activation_relu_or_gelu) and layer.norm1.eps == layer.norm2.eps
            and attn.num_heads % 2 == 0)


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (``layers``) applied in turn to ``tgt``,
    each attending to ``memory``, then ``norm`` if given."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """The stack's output, shaped like ``tgt``; masks as
        :meth:`TransformerDecoderLayer.forward` (``tgt_is_causal=None``: no hint)."""
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder-decoder transformer, ``torch.nn.Transformer``: ``encoder`` (a
    :class:`TransformerEncoder` of ``num_encoder_layers`` layers and a final LayerNorm) reads
    ``src``, ``decoder`` (a :class:`TransformerDecoder`, likewise) reads ``tgt`` and attends
    to the encoder's output. ``custom_encoder``/``custom_decoder`` replace them. Every
    parameter with two or more dims starts xavier_uniform_ (as PyTorch's, the custom ones
    included). Other arguments as :class:`TransformerEncoderLayer`'s."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=F.relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, dtype=None):
        super().__init__()
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                       norm_first=norm_first, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """The decoder's output, shaped like ``tgt``: src (S, N, E) and tgt (T, N, E)
        ((N, ·, E) with ``batch_first``; unbatched (S, E), (T, E)). Masks: ``src_mask`` (S, S),
        ``tgt_mask`` (T, T), ``memory_mask`` (T, S) (or (N * nhead, ·, ·)) and the key padding
        masks (N, S), (N, T), (N, S), as ``MultiheadAttention``'s (boolean True: ignored)."""
        batched = src.ndim == 3
        batch_axis = 0 if self.batch_first else 1
        if batched and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise ShapeError(f"Transformer: the batch number of src and tgt must be equal, got "
                             f"src {tuple(src.shape)} and tgt {tuple(tgt.shape)} (batch axis "
                             f"{batch_axis}, batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ShapeError(f"Transformer: the feature number of src and tgt must be equal to "
                             f"d_model={self.d_model}, got src {tuple(src.shape)} and tgt "
                             f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, dtype=None):
        """The (sz, sz) causal float mask: 0 on and below the diagonal, -inf above (position
        i attends to 0..i). ``dtype`` defaults to float32."""
        dtype = as_dtype(dtype) or DEFAULT_FLOAT
        return Tensor(np.triu(np.full((sz, sz), -np.inf, dtype), 1))
