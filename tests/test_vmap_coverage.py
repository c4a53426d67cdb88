"""vmap over wengert's public surface: for each callable in the tables, ``vmap(fn)`` on a
batch of B examples equals ``fn`` run on each example and stacked, in value and (for float
inputs) in the gradient of a weighted sum of the outputs; a few losses' per-example gradients
``vmap(grad(loss))`` are checked against ``torch.func``."""
import zlib

import numpy as np
import pytest

import wengert as wg
import wengert.linalg as LA
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.pytree import flatten

B = 3


class Bat:
    """A batched argument: ``value`` has the batch axis first (B examples)."""

    def __init__(self, value):
        self.value = value


def _rng(name):
    # one generator per case, so a case's inputs do not depend on the table's order
    return np.random.default_rng(zlib.crc32(name.encode()))


def fl(*shape, lo=None, hi=None):
    """A batched float64 argument of example shape ``shape`` (uniform in [lo, hi] if given)."""
    def make(r):
        if lo is not None:
            return Bat(r.uniform(lo, hi, size=(B,) + shape))
        return Bat(r.standard_normal((B,) + shape))
    return make


def it(high, *shape, lo=0):
    """A batched int64 argument of example shape ``shape`` with values in [lo, high)."""
    return lambda r: Bat(r.integers(lo, high, size=(B,) + shape).astype(np.int64))


def sign(*shape):
    """A batched float64 argument of +-1 (the margin losses' targets)."""
    return lambda r: Bat(r.choice([-1.0, 1.0], size=(B,) + shape))


def const(value):
    """An unbatched argument passed whole to every example (in_dims None)."""
    return lambda r: value


def ufl(*shape):
    """An unbatched float64 tensor argument (a weight closed over by every example)."""
    return lambda r: wg.tensor(r.standard_normal(shape))


def spd(n):
    """A batched symmetric positive definite n x n matrix."""
    def make(r):
        a = r.standard_normal((B, n, n))
        return Bat(a @ a.transpose(0, 2, 1) + n * np.eye(n))
    return make


def multilabel_target(c):
    """multilabel_margin_loss's target: class indices, then -1 and anything after it."""
    def make(r):
        t = np.full((B, c), -1, dtype=np.int64)
        for b in range(B):
            k = b % c + 1
            t[b, :k] = r.permutation(c)[:k]
        return Bat(t)
    return make


def _inputs(name, specs):
    r = _rng(name)
    args, dims = [], []
    for spec in specs:
        a = spec(r)
        if isinstance(a, Bat):
            args.append(wg.tensor(a.value))
            dims.append(0)
        else:
            args.append(a)
            dims.append(None)
    return args, tuple(dims)


def _loop(fn, args, dims):
    outs = [flatten(fn(*[a[b] if d == 0 else a for a, d in zip(args, dims)]))
            for b in range(B)]
    return [wg.stack([o[0][k] for o in outs]) for k in range(len(outs[0][0]))]


def _vmapped(fn, args, dims):
    return flatten(wg.vmap(fn, in_dims=dims)(*args))[0]


def _is_float(x):
    return np.issubdtype(np.dtype(x.dtype), np.floating)


def check(name, fn, specs, grad=True, wrt=None, atol=1e-9):
    """``wrt``: the positions of the arguments to differentiate (default: every batched float
    one)."""
    args, dims = _inputs(name, specs)
    got = _vmapped(fn, args, dims)
    want = _loop(fn, args, dims)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-9, atol=atol)
    if wrt is None:
        wrt = tuple(i for i, (a, d) in enumerate(zip(args, dims)) if d == 0 and _is_float(a))
    if not grad or not wrt or not any(_is_float(w) for w in want):
        return
    r = _rng(name + "/w")
    weights = [wg.tensor(r.standard_normal(w.shape)) if _is_float(w) else None for w in want]

    def weighted(run):
        def total(*xs):
            full = list(args)
            for i, x in zip(wrt, xs):
                full[i] = x
            outs = run(fn, full, dims)
            return sum(((o * w).sum() for o, w in zip(outs, weights) if w is not None),
                       wg.tensor(0.0))
        return total

    xs = [args[i] for i in wrt]
    g_vmap = wg.grad(weighted(_vmapped), argnums=tuple(range(len(xs))))(*xs)
    g_loop = wg.grad(weighted(_loop), argnums=tuple(range(len(xs))))(*xs)
    for gv, gl in zip(g_vmap, g_loop):
        np.testing.assert_allclose(gv.detach().numpy(), gl.detach().numpy(), rtol=1e-8, atol=atol)


def _cases(table):
    return [pytest.param(fn, specs, opts, id=name) for name, fn, specs, *rest in table
            for opts in [rest[0] if rest else {}]]


# --- wengert.nn.functional ----------------------------------------------------------------
def W3(*shape):
    """Fixed values for an unbatched weight: the same on every call, so the vmapped run and
    the per-example loop see one weight."""
    return np.random.default_rng(sum(shape) * 7 + len(shape)).standard_normal(shape)


def _w(*shape):
    return wg.tensor(W3(*shape))


FUNCTIONAL = [
    ("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3), [fl(2, 7)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [fl(2, 5, 7)]),
    ("adaptive_avg_pool3d", lambda x: F.adaptive_avg_pool3d(x, 2), [fl(1, 4, 5, 3)]),
    ("adaptive_max_pool1d", lambda x: F.adaptive_max_pool1d(x, 3), [fl(2, 7)]),
    ("adaptive_max_pool1d_idx", lambda x: F.adaptive_max_pool1d(x, 3, return_indices=True),
     [fl(2, 7)]),
    ("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)), [fl(2, 5, 7)]),
    ("adaptive_max_pool3d", lambda x: F.adaptive_max_pool3d(x, 2), [fl(1, 4, 5, 3)]),
    ("alpha_dropout_eval", lambda x: F.alpha_dropout(x, 0.3, training=False), [fl(4, 5)]),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 2), [fl(2, 7)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, stride=1, padding=1), [fl(2, 5, 4)]),
    ("avg_pool3d", lambda x: F.avg_pool3d(x, 2), [fl(1, 4, 4, 4)]),
    ("batch_norm_eval", lambda x: F.batch_norm(x, _w(3) * 0.1, wg.tensor(W3(3) ** 2 + 0.5),
                                               _w(3), _w(3), training=False), [fl(4, 3)]),
    ("batch_norm_train", lambda x: F.batch_norm(x, None, None, training=True), [fl(4, 3, 2)]),
    ("binary_cross_entropy", F.binary_cross_entropy, [fl(5, lo=0.05, hi=0.95),
                                                      fl(5, lo=0.0, hi=1.0)]),
    ("binary_cross_entropy_weight",
     lambda x, t: F.binary_cross_entropy(x, t, weight=wg.tensor(W3(5) ** 2)),
     [fl(5, lo=0.05, hi=0.95), fl(5, lo=0.0, hi=1.0)]),
    ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
     [fl(4, 3), fl(4, 3, lo=0.0, hi=1.0)]),
    ("bce_with_logits_pos_weight",
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=wg.tensor(W3(3) ** 2)),
     [fl(4, 3), fl(4, 3, lo=0.0, hi=1.0)]),
    ("celu", F.celu, [fl(4, 5)]),
    ("channel_shuffle", lambda x: F.channel_shuffle(x, 2), [fl(4, 2, 3)]),
    ("conv1d", lambda x: F.conv1d(x, _w(4, 2, 3), _w(4), padding=1), [fl(2, 6)]),
    ("conv1d_weight_batched", lambda x, w: F.conv1d(x, w), [fl(2, 6), fl(4, 2, 3)]),
    ("conv2d", lambda x: F.conv2d(x, _w(4, 2, 3, 3), _w(4), stride=2, padding=1),
     [fl(2, 6, 5)]),
    ("conv2d_groups", lambda x: F.conv2d(x, _w(4, 1, 2, 2), groups=2), [fl(2, 4, 4)]),
    ("conv3d", lambda x: F.conv3d(x, _w(2, 1, 2, 2, 2)), [fl(1, 3, 4, 3)]),
    ("conv_transpose1d", lambda x: F.conv_transpose1d(x, _w(2, 3, 3), _w(3), stride=2),
     [fl(2, 4)]),
    ("conv_transpose2d", lambda x: F.conv_transpose2d(x, _w(2, 3, 2, 2), padding=1),
     [fl(2, 3, 4)]),
    ("conv_transpose3d", lambda x: F.conv_transpose3d(x, _w(1, 2, 2, 2, 2)), [fl(1, 2, 3, 2)]),
    ("cosine_embedding_loss", F.cosine_embedding_loss, [fl(4, 3), fl(4, 3), sign(4)]),
    ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=0), [fl(4, 3), fl(4, 3)]),
    ("cross_entropy", F.cross_entropy, [fl(4, 5), it(5, 4)]),
    ("cross_entropy_probs", F.cross_entropy, [fl(4, 5), fl(4, 5, lo=0.0, hi=1.0)]),
    ("cross_entropy_options",
     lambda x, t: F.cross_entropy(x, t, weight=wg.tensor(W3(5) ** 2), label_smoothing=0.1,
                                  ignore_index=2),
     [fl(4, 5), it(5, 4)]),
    ("cross_entropy_nd", F.cross_entropy, [fl(2, 5, 3), it(5, 2, 3)]),
    ("dropout_eval", lambda x: F.dropout(x, 0.4, training=False), [fl(4, 5)]),
    ("dropout2d_eval", lambda x: F.dropout2d(x, 0.4, training=False), [fl(2, 3, 4)]),
    ("elu", F.elu, [fl(4, 5)]),
    ("embedding", lambda i: F.embedding(i, _w(6, 3)), [it(6, 4)]),
    ("embedding_weight", lambda i, w: F.embedding(i, w, padding_idx=1), [it(6, 4), fl(6, 3)]),
    ("embedding_weight_unbatched_idx", lambda w: F.embedding(wg.tensor([0, 2, 2]), w),
     [fl(4, 3)]),
    ("feature_alpha_dropout_eval", lambda x: F.feature_alpha_dropout(x, 0.3), [fl(2, 3, 4)]),
    ("fold", lambda x: F.fold(x, (3, 4), 2), [fl(4, 6)]),
    ("gaussian_nll_loss", F.gaussian_nll_loss, [fl(4, 2), fl(4, 2), fl(4, 2, lo=0.5, hi=2.0)]),
    ("gaussian_nll_loss_full",
     lambda x, t, v: F.gaussian_nll_loss(x, t, v, full=True, reduction="sum"),
     [fl(4, 2), fl(4, 2), fl(4, 1, lo=0.5, hi=2.0)]),
    ("gelu", F.gelu, [fl(4, 5)]),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [fl(4, 5)]),
    ("glu", F.glu, [fl(3, 6)]),
    ("group_norm", lambda x: F.group_norm(x, 2, _w(4), _w(4)), [fl(2, 4, 3)]),
    ("hardshrink", F.hardshrink, [fl(4, 5)]),
    ("hardsigmoid", F.hardsigmoid, [fl(4, 5)]),
    ("hardswish", F.hardswish, [fl(4, 5)]),
    ("hardtanh", F.hardtanh, [fl(4, 5)]),
    ("hinge_embedding_loss", F.hinge_embedding_loss, [fl(6), sign(6)]),
    ("huber_loss", lambda x, t: F.huber_loss(x, t, delta=0.5), [fl(4, 3), fl(4, 3)]),
    ("instance_norm", lambda x: F.instance_norm(x, weight=_w(2), bias=_w(2)), [fl(1, 2, 5)]),
    ("interpolate_nearest", lambda x: F.interpolate(x, scale_factor=2), [fl(1, 2, 3)]),
    ("interpolate_linear",
     lambda x: F.interpolate(x, size=5, mode="linear", align_corners=False), [fl(1, 2, 3)]),
    ("interpolate_bilinear",
     lambda x: F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=True),
     [fl(1, 2, 3, 2)]),
    ("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean"),
     [fl(4, 3), fl(4, 3, lo=0.1, hi=1.0)]),
    ("kl_div_log_target", lambda x, t: F.kl_div(x, t, log_target=True), [fl(4, 3), fl(4, 3)]),
    ("l1_loss", F.l1_loss, [fl(4, 3), fl(4, 3)]),
    ("l2_penalty", lambda a, b: F.l2_penalty([a, b], 0.1), [fl(4, 3), fl(2)]),
    ("layer_norm", lambda x: F.layer_norm(x, (3,), _w(3), _w(3)), [fl(4, 3)]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), [fl(4, 5)]),
    ("linear", lambda x: F.linear(x, _w(2, 5), _w(2)), [fl(4, 5)]),
    ("linear_batched_weight", F.linear, [fl(4, 5), fl(2, 5), fl(2)]),
    ("local_response_norm", lambda x: F.local_response_norm(x, 3), [fl(4, 5, 2)]),
    ("log_softmax", F.log_softmax, [fl(4, 5)]),
    ("logsigmoid", F.logsigmoid, [fl(4, 5)]),
    ("margin_ranking_loss", lambda a, b, t: F.margin_ranking_loss(a, b, t, margin=0.2),
     [fl(5), fl(5), sign(5)]),
    ("max_pool1d", lambda x: F.max_pool1d(x, 2), [fl(2, 7)]),
    ("max_pool1d_idx", lambda x: F.max_pool1d(x, 2, return_indices=True), [fl(2, 7)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2, stride=1, padding=1), [fl(2, 5, 4)]),
    ("max_pool3d", lambda x: F.max_pool3d(x, 2), [fl(1, 4, 4, 4)]),
    ("maxout", lambda x: F.maxout(x, 2), [fl(3, 6)]),
    ("mean", lambda x: F.mean(x, axis=0), [fl(4, 5)]),
    ("mish", F.mish, [fl(4, 5)]),
    ("mse_loss", F.mse_loss, [fl(4, 3), fl(4, 3)]),
    ("mse_loss_none", lambda x, t: F.mse_loss(x, t, reduction="none"), [fl(4, 3), fl(4, 3)]),
    ("multi_margin_loss", F.multi_margin_loss, [fl(4, 5), it(5, 4)]),
    ("multi_margin_loss_p2",
     lambda x, t: F.multi_margin_loss(x, t, p=2, margin=0.5, weight=wg.tensor(W3(5) ** 2)),
     [fl(4, 5), it(5, 4)]),
    ("multi_margin_loss_1d", F.multi_margin_loss, [fl(5), it(5)]),
    ("multilabel_margin_loss", F.multilabel_margin_loss, [fl(4), multilabel_target(4)]),
    ("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss,
     [fl(4, 3), it(2, 4, 3)]),
    ("nll_loss", F.nll_loss, [fl(4, 5), it(5, 4)]),
    ("nll_loss_weight",
     lambda x, t: F.nll_loss(x, t, weight=wg.tensor(W3(5) ** 2), reduction="sum"),
     [fl(4, 5), it(5, 4)]),
    ("normalize", lambda x: F.normalize(x, dim=0), [fl(4, 5)]),
    ("one_hot", lambda i: F.one_hot(i, 5), [it(5, 4)]),
    ("pad_constant", lambda x: F.pad(x, (1, 2), value=0.5), [fl(2, 3)]),
    ("pad_reflect", lambda x: F.pad(x, (1, 1, 2, 0), mode="reflect"), [fl(1, 3, 4)]),
    ("pad_replicate", lambda x: F.pad(x, (1, 2), mode="replicate"), [fl(2, 3)]),
    ("pad_circular", lambda x: F.pad(x, (1, 2), mode="circular"), [fl(2, 3)]),
    ("pairwise_distance", F.pairwise_distance, [fl(4, 3), fl(4, 3)]),
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), [fl(4, 2, 3)]),
    ("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), [fl(1, 4, 2)]),
    ("poisson_nll_loss", F.poisson_nll_loss, [fl(4, 3), fl(4, 3, lo=0.0, hi=3.0)]),
    ("poisson_nll_loss_full",
     lambda x, t: F.poisson_nll_loss(x, t, log_input=False, full=True),
     [fl(4, 3, lo=0.5, hi=2.0), fl(4, 3, lo=0.0, hi=3.0)]),
    ("prelu", lambda x: F.prelu(x, wg.tensor([0.25, 0.1, 0.3])), [fl(4, 3)]),
    ("relu", F.relu, [fl(4, 5)]),
    ("relu6", F.relu6, [fl(4, 5, lo=-8.0, hi=8.0)]),
    ("rms_norm", lambda x: F.rms_norm(x, (3,), _w(3)), [fl(4, 3)]),
    ("rrelu_eval", F.rrelu, [fl(4, 5)]),
    ("scaled_dot_product_attention", F.scaled_dot_product_attention,
     [fl(4, 3), fl(5, 3), fl(5, 2)]),
    ("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
     [fl(4, 3), fl(4, 3), fl(4, 2)]),
    ("sdpa_mask", lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
     [fl(4, 3), fl(5, 3), fl(5, 2), fl(4, 5)]),
    ("selu", F.selu, [fl(4, 5)]),
    ("sigmoid", F.sigmoid, [fl(4, 5)]),
    ("silu", F.silu, [fl(4, 5)]),
    ("smooth_l1_loss", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5), [fl(4, 3), fl(4, 3)]),
    ("soft_margin_loss", F.soft_margin_loss, [fl(4, 3), sign(4, 3)], {"wrt": (0,)}),
    ("soft_margin_loss_int", F.soft_margin_loss, [fl(4, 3), it(2, 4, 3)]),
    ("softmax", lambda x: F.softmax(x, dim=0), [fl(4, 5)]),
    ("softmin", F.softmin, [fl(4, 5)]),
    ("softplus", lambda x: F.softplus(x, beta=2.0, threshold=1.0), [fl(4, 5)]),
    ("softshrink", F.softshrink, [fl(4, 5)]),
    ("softsign", F.softsign, [fl(4, 5)]),
    ("sqrt", F.sqrt, [fl(4, 5, lo=0.1, hi=2.0)]),
    ("tanh", F.tanh, [fl(4, 5)]),
    ("tanhshrink", F.tanhshrink, [fl(4, 5)]),
    ("threshold", lambda x: F.threshold(x, 0.1, -2.0), [fl(4, 5)]),
    ("triplet_margin_loss", F.triplet_margin_loss, [fl(4, 3), fl(4, 3), fl(4, 3)]),
    ("triplet_margin_loss_swap", lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True, p=1),
     [fl(4, 3), fl(4, 3), fl(4, 3)]),
    ("triplet_margin_with_distance_loss", F.triplet_margin_with_distance_loss,
     [fl(4, 3), fl(4, 3), fl(4, 3)]),
    ("unfold", lambda x: F.unfold(x, 2, padding=1), [fl(2, 3, 3)]),
    ("index_put", lambda x, v: F.index_put(x, v, key=(slice(None), 1)), [fl(4, 3), fl(4)]),
    ("reshape", lambda x: F.reshape(x, shape=(2, -1)), [fl(4, 3)]),
    ("dropout1d_eval", lambda x: F.dropout1d(x, 0.4, training=False), [fl(2, 3)]),
    ("dropout3d_eval", lambda x: F.dropout3d(x, 0.4, training=False), [fl(2, 2, 2, 2)]),
    ("var", lambda x: F.var(x, axis=0), [fl(4, 5)]),
]


@pytest.mark.parametrize("fn,specs,opts", _cases(FUNCTIONAL))
def test_functional(fn, specs, opts, request):
    check(request.node.callspec.id, fn, specs, **opts)


# --- top-level wengert functions ------------------------------------------------------------
UNARY = ("abs arccos arccosh arcsin arcsinh arctan arctanh ceil cos cosh deg2rad erf exp exp2 "
         "expm1 floor log log10 log1p log2 logit negative rad2deg reciprocal relu round "
         "sigmoid sign sin sinh softplus sqrt square tan tanh trunc isfinite isnan isinf "
         "logical_not").split()
DOMAIN = {"arccos": (-0.9, 0.9), "arcsin": (-0.9, 0.9), "arctanh": (-0.9, 0.9),
          "arccosh": (1.1, 3.0), "log": (0.1, 3.0), "log10": (0.1, 3.0), "log2": (0.1, 3.0),
          "log1p": (-0.5, 3.0), "sqrt": (0.1, 3.0), "logit": (0.1, 0.9),
          "reciprocal": (0.5, 2.0), "tan": (-1.0, 1.0)}
BINARY = ("add arctan2 atan2 divide equal floor_divide fmod greater greater_equal heaviside "
          "hypot less less_equal logaddexp logaddexp2 logical_and logical_or maximum minimum "
          "multiply not_equal power remainder subtract xlogy").split()
BINARY_DOMAIN = {"power": (0.5, 2.0), "xlogy": (0.5, 2.0), "fmod": (0.5, 2.0),
                 "remainder": (0.5, 2.0), "floor_divide": (0.5, 2.0)}


def _unary_case(n):
    lo, hi = DOMAIN.get(n, (-2.0, 2.0))
    return (n, getattr(wg, n), [fl(3, 4, lo=lo, hi=hi)])


def _binary_case(n):
    lo, hi = BINARY_DOMAIN.get(n, (-2.0, 2.0))
    return (n, getattr(wg, n), [fl(3, 4, lo=lo, hi=hi), fl(4, lo=lo, hi=hi)])


def _x_unbatched(n):
    lo, hi = BINARY_DOMAIN.get(n, (-2.0, 2.0))
    return (n + "_unbatched_first",
            lambda y: getattr(wg, n)(wg.tensor(np.linspace(lo, hi, 12).reshape(3, 4)), y),
            [fl(4, lo=lo, hi=hi)])


TOPLEVEL = [_unary_case(n) for n in UNARY] + [_binary_case(n) for n in BINARY] + [
    _x_unbatched(n) for n in ("add", "multiply", "divide", "power", "maximum")] + [
    ("cumsum", lambda x: wg.cumsum(x, 1), [fl(3, 4)]),
    ("cumsum_flat", wg.cumsum, [fl(3, 4)]),
    ("cumprod", lambda x: wg.cumprod(x, 0), [fl(3, 4)]),
    ("cummax", lambda x: wg.cummax(x, 1), [fl(3, 4)]),
    ("cummin", lambda x: wg.cummin(x, 0), [fl(3, 4)]),
    ("logcumsumexp", lambda x: wg.logcumsumexp(x, -1), [fl(3, 4)]),
    ("flip", lambda x: wg.flip(x, 1), [fl(3, 4)]),
    ("flip_all", wg.flip, [fl(3, 4)]),
    ("roll", lambda x: wg.roll(x, shift=1, axis=0), [fl(3, 4)]),
    ("roll_flat", lambda x: wg.roll(x, shift=2), [fl(3, 4)]),
    ("rot90", wg.rot90, [fl(3, 4)]),
    ("tril", wg.tril, [fl(3, 4)]),
    ("triu", lambda x: wg.triu(x, 1), [fl(4, 3)]),
    ("diff", wg.diff, [fl(3, 4)]),
    ("diff_prepend", lambda x, p: wg.diff(x, axis=0, prepend=p), [fl(3, 4), fl(1, 4)]),
    ("diff_n2", lambda x: wg.diff(x, n=2, axis=0), [fl(4, 3)]),
    ("repeat", lambda x: wg.repeat(x, 2, axis=1), [fl(3, 4)]),
    ("repeat_interleave", lambda x: wg.repeat_interleave(x, 2, axis=0), [fl(3, 4)]),
    ("repeat_interleave_counts",
     lambda x: wg.repeat_interleave(x, np.array([1, 0, 2]), axis=0), [fl(3, 4)]),
    ("repeat_interleave_flat", lambda x: wg.repeat_interleave(x, 2), [fl(3, 4)]),
    ("tile", lambda x: wg.tile(x, (2, 1)), [fl(3, 4)]),
    ("cross", wg.cross, [fl(2, 3), fl(2, 3)]),
    ("cross_unbatched", lambda a: wg.cross(a, wg.tensor([1.0, -2.0, 0.5])), [fl(3)]),
    ("kron", wg.kron, [fl(2, 3), fl(2, 2)]),
    ("einsum", lambda a, b: wg.einsum("ij,jk->ik", a, b), [fl(2, 3), fl(3, 4)]),
    ("einsum_trace", lambda a: wg.einsum("ii", a), [fl(3, 3)]),
    ("einsum_unbatched", lambda a: wg.einsum("ij,j->i", a, _w(3)), [fl(2, 3)]),
    ("where", lambda c, a, b: wg.where(c > 0, a, b), [fl(3, 4), fl(3, 4), fl(4)]),
    ("where_scalar", lambda a: wg.where(a > 0, a, 0.0), [fl(3, 4)]),
    ("clamp", lambda x: wg.clamp(x, -0.5, 0.5), [fl(3, 4)]),
    ("clamp_tensor_bounds", lambda x, lo: wg.clamp(x, lo, 1.0), [fl(3, 4), fl(4, lo=-1, hi=0)]),
    ("clip_min", lambda x: wg.clip(x, a_min=0.0), [fl(3, 4)]),
    ("norm", wg.norm, [fl(3, 4)]),
    ("norm_axis", lambda x: wg.norm(x, axis=1, keepdims=True), [fl(3, 4)]),
    ("diag_vec", wg.diag, [fl(3)]),
    ("diag_mat", lambda x: wg.diag(x, 1), [fl(3, 4)]),
    ("diag_embed", wg.diag_embed, [fl(2, 3)]),
    ("diagonal", wg.diagonal, [fl(3, 4)]),
    ("tensordot", lambda a, b: wg.tensordot(a, b, axes=1), [fl(2, 3), fl(3, 4)]),
    ("inner", wg.inner, [fl(2, 3), fl(4, 3)]),
    ("outer", wg.outer, [fl(3), fl(4)]),
    ("dot", wg.dot, [fl(3), fl(3)]),
    ("matmul", wg.matmul, [fl(2, 3), fl(3, 4)]),
    ("matmul_vec", wg.matmul, [fl(2, 3), fl(3)]),
    ("matmul_unbatched", lambda a: wg.matmul(_w(4, 2), a), [fl(2, 3)]),
    ("mm", wg.mm, [fl(2, 3), fl(3, 4)]),
    ("bmm", wg.bmm, [fl(2, 2, 3), fl(2, 3, 4)]),
    ("take_along_axis", lambda x, i: wg.take_along_axis(x, i, axis=1), [fl(3, 4), it(4, 3, 2)]),
    ("take_along_axis_unbatched_idx",
     lambda x: wg.take_along_axis(x, wg.tensor([[0], [3], [1]]), axis=1), [fl(3, 4)]),
    ("split", lambda x: wg.split(x, 2, axis=1), [fl(3, 4)]),
    ("concatenate", lambda a, b: wg.concatenate([a, b], axis=0), [fl(2, 3), fl(1, 3)]),
    ("concatenate_unbatched", lambda a: wg.concatenate([a, _w(1, 3)], axis=0), [fl(2, 3)]),
    ("stack", lambda a, b: wg.stack([a, b], axis=1), [fl(2, 3), fl(2, 3)]),
    ("pad", lambda x: wg.pad(x, pad_width=((1, 0), (0, 2))), [fl(2, 3)]),
    ("pad_reflect", lambda x: wg.pad(x, pad_width=1, mode="reflect"), [fl(3, 3)]),
    ("one_hot", lambda i: wg.one_hot(i, num_classes=4), [it(4, 3)]),
    ("meshgrid", lambda a, b: wg.meshgrid(a, b), [fl(3), fl(2)]),
    ("lerp", wg.lerp, [fl(3), fl(3), fl(3, lo=0.0, hi=1.0)]),
    ("nan_to_num", lambda x: wg.nan_to_num(wg.log(x)), [fl(3, 4)]),
    ("std", lambda x: wg.std(x, axis=0), [fl(3, 4)]),
    ("var", wg.var, [fl(3, 4)]),
    ("logsumexp", lambda x: wg.logsumexp(x, axis=1), [fl(3, 4)]),
    ("softmax", wg.softmax, [fl(3, 4)]),
    ("log_softmax", lambda x: wg.log_softmax(x, axis=0), [fl(3, 4)]),
    ("max", lambda x: wg.max(x, axis=1), [fl(3, 4)]),
    ("max_all", wg.max, [fl(3, 4)]),
    ("min", lambda x: wg.min(x, axis=0, keepdims=True), [fl(3, 4)]),
    ("argmax", wg.argmax, [fl(3, 4)]),
    ("argmax_axis", lambda x: wg.argmax(x, axis=1), [fl(3, 4)]),
    ("argmin", lambda x: wg.argmin(x, axis=0), [fl(3, 4)]),
    ("prod", lambda x: wg.prod(x, axis=1), [fl(3, 4)]),
    ("sum", lambda x: wg.sum(x, axis=(0, 1)), [fl(3, 4)]),
    ("mean", wg.mean, [fl(3, 4)]),
    ("all_any", lambda x: (wg.all(x > 0, axis=1), wg.any(x > 0)), [fl(3, 4)]),
    ("permute", lambda x: wg.permute(x, axes=(2, 0, 1)), [fl(2, 3, 4)]),
    ("transpose", wg.transpose, [fl(2, 3, 4)]),
    ("swapaxes", lambda x: wg.swapaxes(x, axis1=0, axis2=2), [fl(2, 3, 4)]),
    ("squeeze", wg.squeeze, [fl(1, 3, 1)]),
    ("unsqueeze", lambda x: wg.unsqueeze(x, axis=1), [fl(3, 4)]),
    ("expand_dims", lambda x: wg.expand_dims(x, axis=-1), [fl(3, 4)]),
    ("flatten", lambda x: wg.flatten(x, 1), [fl(2, 3, 4)]),
    ("broadcast_to", lambda x: wg.broadcast_to(x, shape=(2, 3, 4)), [fl(3, 1)]),
    ("reshape", lambda x: wg.reshape(x, shape=(4, -1)), [fl(2, 3, 2)]),
    ("elu", wg.elu, [fl(3, 4)]),
    ("leaky_relu", wg.leaky_relu, [fl(3, 4)]),
    ("getitem_int_index", lambda x, i: x[i], [fl(4, 3), it(4)]),
    ("getitem_slice", lambda x: x[1:, ::2], [fl(4, 3)]),
    ("getitem_bool_where", lambda x: wg.where(x > 0, x, -x)[::-1], [fl(4, 3)]),
    ("methods", lambda x: (x.T @ x).sum(axis=0).exp().mean(), [fl(3, 2)]),
    ("operators", lambda x, y: (x + 1) * y / (x * x + 1) - y ** 2, [fl(3, 2), fl(2)]),
]

LINALG = [
    ("cholesky", LA.cholesky, [spd(3)]),
    ("cholesky_upper", lambda a: LA.cholesky(a, upper=True), [spd(3)]),
    ("cond", LA.cond, [spd(3)]),
    ("cond_fro", lambda a: LA.cond(a, "fro"), [spd(3)]),
    ("det", LA.det, [fl(3, 3)]),
    ("eigh", LA.eigh, [spd(3)], {"atol": 1e-8}),
    ("eigvalsh", LA.eigvalsh, [spd(3)]),
    ("inv", LA.inv, [spd(3)]),
    ("lstsq", lambda a, b: LA.lstsq(a, b).solution, [fl(4, 2), fl(4, 3)]),
    ("lstsq_rank", lambda a, b: LA.lstsq(a, b).rank, [fl(2, 4), fl(2)]),
    ("matmul", LA.matmul, [fl(2, 3), fl(3, 2)]),
    ("matrix_norm", LA.matrix_norm, [fl(2, 3)]),
    ("matrix_norm_nuc", lambda a: LA.matrix_norm(a, "nuc"), [fl(2, 3)]),
    ("matrix_norm_2", lambda a: LA.matrix_norm(a, 2), [fl(2, 3)]),
    ("matrix_norm_inf", lambda a: LA.matrix_norm(a, np.inf), [fl(2, 3)]),
    ("matrix_power", lambda a: LA.matrix_power(a, 3), [fl(3, 3)]),
    ("matrix_power_neg", lambda a: LA.matrix_power(a, -2), [spd(3)]),
    ("multi_dot", lambda a, b, c: LA.multi_dot([a, b, c]), [fl(2, 3), fl(3, 4), fl(4, 2)]),
    ("multi_dot_vectors", lambda a, b: LA.multi_dot([a, _w(3, 4), b]), [fl(3), fl(4)]),
    ("norm", LA.norm, [fl(3, 4)]),
    ("norm_vector_ord", lambda a: LA.norm(a, 3), [fl(4)]),
    ("norm_dim", lambda a: LA.norm(a, dim=1, keepdim=True), [fl(3, 4)]),
    ("norm_matrix_ord", lambda a: LA.norm(a, "fro"), [fl(3, 4)]),
    ("pinv", LA.pinv, [fl(3, 2)]),
    ("qr", LA.qr, [fl(4, 3)]),
    ("slogdet", LA.slogdet, [fl(3, 3)]),
    ("solve", LA.solve, [spd(3), fl(3, 2)]),
    ("solve_vector", LA.solve, [spd(3), fl(3)]),
    ("solve_right", lambda a, b: LA.solve(a, b, left=False), [spd(3), fl(2, 3)]),
    ("solve_unbatched_a", lambda b: LA.solve(wg.tensor(np.eye(3) * 2 + 0.1), b), [fl(3)]),
    ("solve_triangular", lambda a, b: LA.solve_triangular(wg.tril(a), b, upper=False),
     [spd(3), fl(3, 2)]),
    ("solve_triangular_right",
     lambda a, b: LA.solve_triangular(wg.triu(a), b, upper=True, left=False,
                                      unitriangular=True), [spd(3), fl(2, 3)]),
    ("svd", lambda a: LA.svd(a, full_matrices=False).S, [fl(4, 3)]),
    ("svd_uv", lambda a: wg.abs(LA.svd(a, full_matrices=False).U), [fl(4, 3)]),
    ("svdvals", LA.svdvals, [fl(3, 4)]),
    ("vector_norm", LA.vector_norm, [fl(3, 4)]),
    ("vector_norm_inf", lambda a: LA.vector_norm(a, np.inf, dim=0), [fl(3, 4)]),
]


@pytest.mark.parametrize("fn,specs,opts", _cases(TOPLEVEL))
def test_toplevel(fn, specs, opts, request):
    check(request.node.callspec.id, fn, specs, **opts)


@pytest.mark.parametrize("fn,specs,opts", _cases(LINALG))
def test_linalg(fn, specs, opts, request):
    check("linalg." + request.node.callspec.id, fn, specs, **opts)


# --- nn modules (their forward, with the module's parameters shared by the batch) -----------
F64 = np.float64


def mod(factory, train=False):
    """A module built from a fixed seed, in eval mode unless ``train``."""
    wg.manual_seed(0)
    m = factory()
    return m.train() if train else m.eval()


def _call(m, how=None):
    """``m``'s forward on the arguments, or ``how(m, *arguments)``."""
    return (lambda *xs: m(*xs)) if how is None else (lambda *xs: how(m, *xs))


ACTIVATION_MODULES = ("CELU ELU GELU GLU Hardshrink Hardsigmoid Hardswish Hardtanh Identity "
                      "LeakyReLU LogSigmoid Mish ReLU ReLU6 RReLU SELU SiLU Sigmoid Softmin "
                      "Softplus Softshrink Softsign Tanh Tanhshrink").split()

MODULES = [(n, _call(mod(getattr(nn, n))), [fl(3, 4)]) for n in ACTIVATION_MODULES] + [
    ("Softmax", _call(mod(lambda: nn.Softmax(dim=1))), [fl(3, 4)]),
    ("LogSoftmax", _call(mod(lambda: nn.LogSoftmax(dim=0))), [fl(3, 4)]),
    ("Softmax2d", _call(mod(nn.Softmax2d)), [fl(3, 2, 2)]),
    ("Threshold", _call(mod(lambda: nn.Threshold(0.1, 2.0))), [fl(3, 4)]),
    ("PReLU", _call(mod(lambda: nn.PReLU(3, dtype=F64))), [fl(2, 3)]),
    ("Maxout", _call(mod(lambda: nn.Maxout(2))), [fl(3, 4)]),
    ("Linear", _call(mod(lambda: nn.Linear(5, 2, dtype=F64))), [fl(4, 5)]),
    ("Linear_1d", _call(mod(lambda: nn.Linear(5, 2, dtype=F64))), [fl(5)]),
    ("MLP", _call(mod(lambda: nn.MLP([5, 4, 2], dtype=F64))), [fl(3, 5)]),
    ("Sequential", _call(mod(lambda: nn.Sequential(nn.Linear(3, 4, dtype=F64), nn.Tanh(),
                                                   nn.Linear(4, 2, dtype=F64)))), [fl(3)]),
    ("Conv1d", _call(mod(lambda: nn.Conv1d(2, 3, 3, padding=1, dtype=F64))), [fl(2, 6)]),
    ("Conv1d_unbatched", _call(mod(lambda: nn.Conv1d(2, 3, 3, dtype=F64))), [fl(2, 6)]),
    ("Conv1d_circular",
     _call(mod(lambda: nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular", dtype=F64))),
     [fl(1, 2, 6)]),
    ("Conv2d", _call(mod(lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=F64))),
     [fl(1, 2, 5, 5)]),
    ("Conv2d_reflect",
     _call(mod(lambda: nn.Conv2d(2, 2, 2, padding=1, padding_mode="reflect", groups=2,
                                 dtype=F64))), [fl(2, 3, 3)]),
    ("Conv3d", _call(mod(lambda: nn.Conv3d(1, 2, 2, dtype=F64))), [fl(1, 1, 3, 3, 3)]),
    ("ConvTranspose1d", _call(mod(lambda: nn.ConvTranspose1d(2, 3, 3, stride=2, dtype=F64))),
     [fl(1, 2, 4)]),
    ("ConvTranspose2d",
     _call(mod(lambda: nn.ConvTranspose2d(2, 1, 2, padding=1, output_padding=1, stride=2,
                                          dtype=F64))), [fl(2, 3, 3)]),
    ("ConvTranspose3d", _call(mod(lambda: nn.ConvTranspose3d(1, 2, 2, dtype=F64))),
     [fl(1, 1, 2, 2, 2)]),
    ("BatchNorm1d_eval", _call(mod(lambda: nn.BatchNorm1d(3, dtype=F64))), [fl(4, 3)]),
    ("BatchNorm2d_eval", _call(mod(lambda: nn.BatchNorm2d(2, dtype=F64))), [fl(3, 2, 2, 2)]),
    ("BatchNorm1d_batch_stats",
     _call(mod(lambda: nn.BatchNorm1d(3, track_running_stats=False, dtype=F64), train=True)),
     [fl(4, 3)]),
    ("LayerNorm", _call(mod(lambda: nn.LayerNorm(3, dtype=F64))), [fl(4, 3)]),
    ("LayerNorm_2d", _call(mod(lambda: nn.LayerNorm((2, 3), dtype=F64))), [fl(4, 2, 3)]),
    ("GroupNorm", _call(mod(lambda: nn.GroupNorm(2, 4, dtype=F64))), [fl(2, 4, 3)]),
    ("InstanceNorm1d", _call(mod(lambda: nn.InstanceNorm1d(2, affine=True, dtype=F64))),
     [fl(2, 2, 5)]),
    ("InstanceNorm2d", _call(mod(lambda: nn.InstanceNorm2d(2, dtype=F64))), [fl(1, 2, 3, 3)]),
    ("RMSNorm", _call(mod(lambda: nn.RMSNorm(3, dtype=F64))), [fl(4, 3)]),
    ("LocalResponseNorm", _call(mod(lambda: nn.LocalResponseNorm(2))), [fl(2, 4, 3)]),
    ("Embedding", _call(mod(lambda: nn.Embedding(6, 3, dtype=F64))), [it(6, 4)]),
    ("Embedding_padding", _call(mod(lambda: nn.Embedding(6, 3, padding_idx=0, dtype=F64))),
     [it(6, 2, 3)]),
    ("RNN", _call(mod(lambda: nn.RNN(3, 4, dtype=F64))), [fl(5, 2, 3)]),
    ("RNN_unbatched_2layer_bidir",
     _call(mod(lambda: nn.RNN(3, 4, num_layers=2, bidirectional=True, dtype=F64))),
     [fl(5, 3)]),
    ("RNN_hx", _call(mod(lambda: nn.RNN(3, 4, nonlinearity="relu", dtype=F64))),
     [fl(5, 2, 3), fl(1, 2, 4)]),
    ("LSTM", _call(mod(lambda: nn.LSTM(3, 4, batch_first=True, dtype=F64))), [fl(2, 5, 3)]),
    ("LSTM_proj", _call(mod(lambda: nn.LSTM(3, 4, proj_size=2, dtype=F64))), [fl(5, 3)]),
    ("GRU", _call(mod(lambda: nn.GRU(3, 4, num_layers=2, dtype=F64))), [fl(5, 2, 3)]),
    ("RNNCell", _call(mod(lambda: nn.RNNCell(3, 4, dtype=F64))), [fl(2, 3)]),
    ("LSTMCell", _call(mod(lambda: nn.LSTMCell(3, 4, dtype=F64))), [fl(3)]),
    ("LSTMCell_hx",
     _call(mod(lambda: nn.LSTMCell(3, 4, dtype=F64)), lambda m, x, h, c: m(x, (h, c))),
     [fl(2, 3), fl(2, 4), fl(2, 4)]),
    ("GRUCell", _call(mod(lambda: nn.GRUCell(3, 4, dtype=F64))), [fl(2, 3), fl(2, 4)]),
    ("MultiheadAttention", _call(mod(lambda: nn.MultiheadAttention(4, 2, dtype=F64))),
     [fl(3, 2, 4), fl(5, 2, 4), fl(5, 2, 4)]),
    ("MultiheadAttention_self_unbatched",
     _call(mod(lambda: nn.MultiheadAttention(4, 2, batch_first=True, dtype=F64)),
           lambda m, x: m(x, x, x)),
     [fl(3, 4)]),
    ("MultiheadAttention_masks",
     _call(mod(lambda: nn.MultiheadAttention(4, 1, kdim=3, vdim=3, dtype=F64)),
           lambda m, q, k, mask: m(q, k, k, attn_mask=mask, need_weights=False)),
     [fl(3, 2, 4), fl(5, 2, 3), fl(3, 5)]),
    ("TransformerEncoderLayer",
     _call(mod(lambda: nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dtype=F64))),
     [fl(3, 2, 4)]),
    ("TransformerEncoderLayer_norm_first",
     _call(mod(lambda: nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, norm_first=True,
                                                  batch_first=True, dtype=F64))),
     [fl(2, 3, 4)]),
    ("TransformerDecoderLayer",
     _call(mod(lambda: nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, dtype=F64))),
     [fl(3, 2, 4), fl(5, 2, 4)]),
    ("Transformer",
     _call(mod(lambda: nn.Transformer(4, 2, 1, 1, dim_feedforward=8, dtype=F64))),
     [fl(3, 2, 4), fl(2, 2, 4)]),
    ("Upsample", _call(mod(lambda: nn.Upsample(scale_factor=2))), [fl(1, 2, 3)]),
    ("Upsample_bilinear",
     _call(mod(lambda: nn.Upsample(size=(3, 4), mode="bilinear", align_corners=False))),
     [fl(1, 2, 2, 3)]),
    ("PixelShuffle", _call(mod(lambda: nn.PixelShuffle(2))), [fl(4, 2, 3)]),
    ("PixelUnshuffle", _call(mod(lambda: nn.PixelUnshuffle(2))), [fl(1, 4, 2)]),
    ("ChannelShuffle", _call(mod(lambda: nn.ChannelShuffle(2))), [fl(4, 2, 3)]),
    ("Flatten", _call(mod(nn.Flatten)), [fl(2, 3, 4)]),
    ("Unflatten", _call(mod(lambda: nn.Unflatten(1, (2, 2)))), [fl(3, 4)]),
    ("Dropout_eval", _call(mod(nn.Dropout)), [fl(4, 5)]),
    ("AlphaDropout_eval", _call(mod(nn.AlphaDropout)), [fl(4, 5)]),
    ("Fold", _call(mod(lambda: nn.Fold((3, 4), 2))), [fl(4, 6)]),
    ("Unfold", _call(mod(lambda: nn.Unfold(2))), [fl(2, 3, 3)]),
    ("MaxPool2d", _call(mod(lambda: nn.MaxPool2d(2))), [fl(2, 4, 4)]),
    ("AvgPool1d", _call(mod(lambda: nn.AvgPool1d(2))), [fl(2, 4)]),
    ("AdaptiveAvgPool2d", _call(mod(lambda: nn.AdaptiveAvgPool2d(1))), [fl(2, 4, 4)]),
    ("ReflectionPad1d", _call(mod(lambda: nn.ReflectionPad1d(1))), [fl(2, 4)]),
    ("ReplicationPad2d", _call(mod(lambda: nn.ReplicationPad2d((1, 0, 2, 1)))),
     [fl(1, 3, 2)]),
    ("CircularPad1d", _call(mod(lambda: nn.CircularPad1d(2))), [fl(2, 4)]),
    ("ConstantPad2d", _call(mod(lambda: nn.ConstantPad2d(1, 0.5))), [fl(1, 2, 2)]),
    ("ZeroPad3d", _call(mod(lambda: nn.ZeroPad3d(1))), [fl(1, 2, 2, 1)]),
    ("CosineSimilarity", _call(mod(nn.CosineSimilarity)), [fl(2, 3), fl(2, 3)]),
    ("PairwiseDistance", _call(mod(nn.PairwiseDistance)), [fl(2, 3), fl(2, 3)]),
    ("CrossEntropyLoss", _call(mod(lambda: nn.CrossEntropyLoss(label_smoothing=0.1))),
     [fl(4, 5), it(5, 4)]),
    ("NLLLoss", _call(mod(nn.NLLLoss)), [fl(4, 5), it(5, 4)]),
    ("MSELoss", _call(mod(nn.MSELoss)), [fl(4, 3), fl(4, 3)]),
    ("BCELoss", _call(mod(nn.BCELoss)), [fl(4, lo=0.1, hi=0.9), fl(4, lo=0.0, hi=1.0)]),
    ("BCEWithLogitsLoss", _call(mod(nn.BCEWithLogitsLoss)), [fl(4), fl(4, lo=0.0, hi=1.0)]),
    ("HuberLoss", _call(mod(nn.HuberLoss)), [fl(4), fl(4)]),
    ("SmoothL1Loss", _call(mod(nn.SmoothL1Loss)), [fl(4), fl(4)]),
    ("L1Loss", _call(mod(nn.L1Loss)), [fl(4), fl(4)]),
    ("KLDivLoss", _call(mod(lambda: nn.KLDivLoss(reduction="batchmean"))),
     [fl(2, 3), fl(2, 3, lo=0.1, hi=1.0)]),
    ("MarginRankingLoss", _call(mod(nn.MarginRankingLoss)), [fl(4), fl(4), sign(4)]),
    ("HingeEmbeddingLoss", _call(mod(nn.HingeEmbeddingLoss)), [fl(4), sign(4)]),
    ("CosineEmbeddingLoss", _call(mod(nn.CosineEmbeddingLoss)), [fl(2, 3), fl(2, 3), sign(2)]),
    ("SoftMarginLoss", _call(mod(nn.SoftMarginLoss)), [fl(4), sign(4)], {"wrt": (0,)}),
    ("MultiLabelSoftMarginLoss", _call(mod(nn.MultiLabelSoftMarginLoss)),
     [fl(2, 3), it(2, 2, 3)]),
    ("MultiLabelMarginLoss", _call(mod(nn.MultiLabelMarginLoss)), [fl(4), multilabel_target(4)]),
    ("MultiMarginLoss", _call(mod(nn.MultiMarginLoss)), [fl(2, 5), it(5, 2)]),
    ("TripletMarginLoss", _call(mod(nn.TripletMarginLoss)), [fl(2, 3), fl(2, 3), fl(2, 3)]),
    ("TripletMarginWithDistanceLoss",
     _call(mod(lambda: nn.TripletMarginWithDistanceLoss(
         distance_function=lambda a, b: 1.0 - F.cosine_similarity(a, b, dim=-1)))),
     [fl(2, 3), fl(2, 3), fl(2, 3)]),
    ("PoissonNLLLoss", _call(mod(nn.PoissonNLLLoss)), [fl(4), fl(4, lo=0.0, hi=3.0)]),
    ("GaussianNLLLoss", _call(mod(nn.GaussianNLLLoss)),
     [fl(4), fl(4), fl(4, lo=0.5, hi=2.0)]),
]


@pytest.mark.parametrize("fn,specs,opts", _cases(MODULES))
def test_module(fn, specs, opts, request):
    check("nn." + request.node.callspec.id, fn, specs, **opts)


# --- parameters given by position -----------------------------------------------------------
# the same calls as in the tables above, with the primitives' parameters by position
POSITIONAL = [
    ("sum", lambda x: wg.sum(x, 1), [fl(3, 4)]),
    ("argmax", lambda x: wg.argmax(x, 1), [fl(3, 4)]),
    ("max", lambda x: wg.max(x, 0), [fl(3, 4)]),
    ("logsumexp", lambda x: wg.logsumexp(x, 0), [fl(3, 4)]),
    ("roll", lambda x: wg.roll(x, 1, 0), [fl(3, 4)]),
    ("unsqueeze", lambda x: wg.unsqueeze(x, 0), [fl(3, 4)]),
    ("reshape", lambda x: wg.reshape(x, (4, 3)), [fl(3, 4)]),
    ("broadcast_to", lambda x: wg.broadcast_to(x, (2, 3, 4)), [fl(3, 4)]),
    ("swapaxes", lambda x: wg.swapaxes(x, 0, 1), [fl(3, 4)]),
    ("pad", lambda x: wg.pad(x, 1), [fl(3, 4)]),
]


@pytest.mark.parametrize("fn,specs,opts", _cases(POSITIONAL))
def test_positional_parameters(fn, specs, opts, request):
    check("positional." + request.node.callspec.id, fn, specs, **opts)


# --- in_dims, out_dims and nesting on a few of the above --------------------------------------
def test_in_dims_other_axis_and_unbatched_weight():
    r = np.random.default_rng(5)
    x, w = r.standard_normal((4, B, 5)), r.standard_normal((2, 5))
    lin = mod(lambda: nn.Linear(5, 2, dtype=F64))
    got = wg.vmap(lambda a, b: F.linear(a, b, lin.bias), in_dims=(1, None))(wg.tensor(x),
                                                                        wg.tensor(w))
    want = np.stack([x[:, b] @ w.T + lin.bias.detach().numpy() for b in range(B)])
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)


def test_nested_vmap_of_a_loss():
    r = np.random.default_rng(6)
    x, t = r.standard_normal((2, B, 4, 5)), r.integers(0, 5, size=(2, B, 4))
    got = wg.vmap(wg.vmap(F.cross_entropy))(wg.tensor(x), wg.tensor(t))
    want = [[F.cross_entropy(wg.tensor(x[i, j]), wg.tensor(t[i, j])).item() for j in range(B)]
            for i in range(2)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


# --- randomness ----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [lambda x: F.dropout(x, 0.5), lambda x: F.dropout1d(x, 0.5),
                                lambda x: F.alpha_dropout(x, 0.5, training=True),
                                lambda x: F.rrelu(x - 0.5, training=True),
                                lambda x: F.gumbel_softmax(x, hard=True)],
                         ids=["dropout", "dropout1d", "alpha_dropout", "rrelu", "gumbel_hard"])
def test_random_functions_under_each_randomness(fn):
    x = wg.tensor(np.ones((B, 8, 6)) * 0.25)
    with pytest.raises(wg.GraphError, match="random draw"):
        wg.vmap(fn)(x)
    same = wg.vmap(fn, randomness="same")(x).numpy()
    assert all(np.array_equal(same[0], same[b]) for b in range(B))
    different = wg.vmap(fn, randomness="different")(x).numpy()
    assert not all(np.array_equal(different[0], different[b]) for b in range(B))
    # each example is one draw of the function on that example
    assert different.shape == same.shape == (B, 8, 6)


def test_dropout_module_in_training_draws_per_example():
    m = mod(lambda: nn.Dropout(0.5), train=True)
    out = wg.vmap(m, randomness="different")(wg.tensor(np.ones((B, 40)))).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert not np.array_equal(out[0], out[1])


# --- in-place ops write into the batched tensor ---------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: F.relu_(x * 1.0), lambda x: F.elu_(x * 1.0), lambda x: F.celu_(x * 1.0),
    lambda x: F.selu_(x * 1.0), lambda x: F.leaky_relu_(x * 1.0),
    lambda x: F.hardtanh_(x * 1.0), lambda x: F.threshold_(x * 1.0, 0.0, 1.0),
    lambda x: F.relu(x * 1.0, inplace=True),
], ids=["relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "threshold_",
        "relu_inplace"])
def test_in_place_activations_match_the_loop(fn):
    x = np.random.default_rng(7).standard_normal((B, 4, 3))
    got = wg.vmap(fn)(wg.tensor(x))
    want = np.stack([fn(wg.tensor(x[b])).numpy() for b in range(B)])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    per = wg.vmap(wg.grad(lambda v: fn(v).sum()))(wg.tensor(x))
    loop = np.stack([wg.grad(lambda v: fn(v).sum())(wg.tensor(x[b])).numpy() for b in range(B)])
    np.testing.assert_allclose(per.numpy(), loop, rtol=1e-12)


# --- what vmap refuses, with a GraphError ---------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: F.one_hot(wg.argmax(x, axis=-1)),  # num_classes inferred from the values
    _call(mod(lambda: nn.BatchNorm1d(3, dtype=F64), train=True)),  # writes running stats
], ids=["one_hot_inferred", "batch_norm_running_stats"])
def test_refused_with_a_graph_error(fn):
    x = wg.tensor(np.random.default_rng(7).standard_normal((B, 4, 3)))
    with pytest.raises(wg.GraphError, match="vmap: (reading .data|int|an in-place)"):
        wg.vmap(fn)(x)


def test_nested_vmap_of_composites_without_a_loop():
    r = np.random.default_rng(8)
    x, y = r.standard_normal((2, B, 4, 3)), r.standard_normal((2, B, 4, 3))

    def fn(a, b):
        return F.smooth_l1_loss(a, b) + F.cosine_similarity(a, b, dim=0).sum()
    got = wg.vmap(wg.vmap(fn))(wg.tensor(x), wg.tensor(y))
    want = [[fn(wg.tensor(x[i, j]), wg.tensor(y[i, j])).item() for j in range(B)]
            for i in range(2)]
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


# --- per-example gradients against torch.func -----------------------------------------------
def _per_example_losses(torch):
    tf = torch.nn.functional
    return [
        ("mse_loss", F.mse_loss, tf.mse_loss, [fl(4, 3), fl(4, 3)]),
        ("l1_loss", F.l1_loss, tf.l1_loss, [fl(4, 3), fl(4, 3)]),
        ("huber_loss", lambda x, t: F.huber_loss(x, t, delta=0.5),
         lambda x, t: tf.huber_loss(x, t, delta=0.5), [fl(4, 3), fl(4, 3)]),
        ("smooth_l1_loss", F.smooth_l1_loss, tf.smooth_l1_loss, [fl(4, 3), fl(4, 3)]),
        ("cross_entropy", F.cross_entropy, tf.cross_entropy, [fl(4, 5), it(5, 4)]),
        ("cross_entropy_smoothing", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
         lambda x, t: tf.cross_entropy(x, t, label_smoothing=0.2), [fl(4, 5), it(5, 4)]),
        ("nll_loss", lambda x, t: F.nll_loss(F.log_softmax(x, dim=-1), t),
         lambda x, t: tf.nll_loss(tf.log_softmax(x, dim=-1), t), [fl(4, 5), it(5, 4)]),
        ("bce_with_logits", F.binary_cross_entropy_with_logits,
         tf.binary_cross_entropy_with_logits, [fl(4, 3), fl(4, 3, lo=0.0, hi=1.0)]),
        ("binary_cross_entropy", F.binary_cross_entropy, tf.binary_cross_entropy,
         [fl(4, lo=0.05, hi=0.95), fl(4, lo=0.0, hi=1.0)]),
        ("kl_div", lambda x, t: F.kl_div(x, t, reduction="batchmean"),
         lambda x, t: tf.kl_div(x, t, reduction="batchmean"),
         [fl(4, 3), fl(4, 3, lo=0.1, hi=1.0)]),
        ("soft_margin_loss", F.soft_margin_loss, tf.soft_margin_loss, [fl(4, 3), sign(4, 3)]),
        ("hinge_embedding_loss", F.hinge_embedding_loss, tf.hinge_embedding_loss,
         [fl(6), sign(6)]),
        ("multi_margin_loss", F.multi_margin_loss, tf.multi_margin_loss, [fl(4, 5), it(5, 4)]),
        ("multilabel_margin_loss", F.multilabel_margin_loss, tf.multilabel_margin_loss,
         [fl(4), multilabel_target(4)]),
        ("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss,
         lambda x, t: tf.multilabel_soft_margin_loss(x, t.to(x.dtype)), [fl(4, 3), it(2, 4, 3)]),
        ("poisson_nll_loss", lambda x, t: F.poisson_nll_loss(x, t, full=True),
         lambda x, t: tf.poisson_nll_loss(x, t, full=True), [fl(4, 3), fl(4, 3, lo=0, hi=3)]),
        ("poisson_nll_loss_rates", lambda x, t: F.poisson_nll_loss(x, t, log_input=False),
         lambda x, t: tf.poisson_nll_loss(x, t, log_input=False),
         [fl(4, 3, lo=0.5, hi=2.0), fl(4, 3, lo=0, hi=3)]),
        ("gaussian_nll_loss",
         lambda x, t: F.gaussian_nll_loss(x, t, wg.tensor([[0.5], [2.0], [1e-8]])),
         lambda x, t: tf.gaussian_nll_loss(x, t, torch.tensor([[0.5], [2.0], [1e-8]])),
         [fl(3, 2), fl(3, 2)]),
        ("cosine_embedding_loss", lambda a, t: F.cosine_embedding_loss(a, a * a, t),
         lambda a, t: tf.cosine_embedding_loss(a, a * a, t), [fl(4, 3), sign(4)]),
        ("triplet_margin_loss", lambda a, p: F.triplet_margin_loss(a, p, a * 0.5),
         lambda a, p: tf.triplet_margin_loss(a, p, a * 0.5), [fl(4, 3), fl(4, 3)]),
        ("margin_ranking_loss", lambda a, b: F.margin_ranking_loss(a, b, wg.tensor([1.0, -1.0,
                                                                                1.0])),
         lambda a, b: tf.margin_ranking_loss(a, b, torch.tensor([1.0, -1.0, 1.0])),
         [fl(3), fl(3)]),
    ]


def test_per_example_gradients_of_losses_match_torch_func(torch_mod):
    torch = torch_mod
    for name, ours, theirs, specs in _per_example_losses(torch):
        args, _ = _inputs("per-example/" + name, specs)
        got = wg.vmap(wg.grad(ours))(*args)
        want = torch.func.vmap(torch.func.grad(theirs))(
            *[torch.tensor(a.numpy()) for a in args])
        # rtol 1e-8: torch's var clamp (eps 1e-6) rounds differently in the last digits
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-8, atol=1e-12,
                                   err_msg=name)


def test_per_example_parameter_gradients_match_torch_func(torch_mod):
    torch = torch_mod
    r = np.random.default_rng(9)
    x, t = r.standard_normal((B, 4, 5)), r.integers(0, 3, size=(B, 4))
    w1, b1, w2 = r.standard_normal((6, 5)), r.standard_normal(6), r.standard_normal((3, 6))

    def ours(params, xs, ts):
        hidden = F.gelu(F.layer_norm(F.linear(xs, params["w1"], params["b1"]), (6,)))
        return F.cross_entropy(F.linear(hidden, params["w2"]), ts)

    def theirs(params, xs, ts):
        tf = torch.nn.functional
        hidden = tf.gelu(tf.layer_norm(tf.linear(xs, params["w1"], params["b1"]), (6,)))
        return tf.cross_entropy(tf.linear(hidden, params["w2"]), ts)

    params = {"w1": wg.tensor(w1), "b1": wg.tensor(b1), "w2": wg.tensor(w2)}
    got = wg.vmap(wg.grad(ours), in_dims=(None, 0, 0))(params, wg.tensor(x), wg.tensor(t))
    want = torch.func.vmap(torch.func.grad(theirs), in_dims=(None, 0, 0))(
        {k: torch.tensor(v.numpy()) for k, v in params.items()}, torch.tensor(x),
        torch.tensor(t))
    for k in params:
        assert got[k].shape == (B,) + params[k].shape
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-9, atol=1e-12)


def test_per_example_gradients_of_a_module_through_functional_call(torch_mod):
    torch = torch_mod
    ours_model = mod(lambda: nn.Sequential(nn.Conv1d(2, 3, 3, dtype=F64), nn.ReLU(),
                                           nn.Flatten(0), nn.Linear(12, 4, dtype=F64)))
    theirs_model = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 3), torch.nn.ReLU(),
                                       torch.nn.Flatten(0), torch.nn.Linear(12, 4))
    theirs_model.load_state_dict({k: torch.tensor(v.detach().numpy())
                                  for k, v in ours_model.state_dict().items()})
    r = np.random.default_rng(10)
    x, t = r.standard_normal((B, 2, 6)), r.integers(0, 4, size=(B,))
    params = {k: v.detach() for k, v in ours_model.named_parameters()}

    def ours(p, xs, ts):
        return F.cross_entropy(wg.functional.functional_call(ours_model, p, (xs,)), ts)

    def theirs(p, xs, ts):
        return torch.nn.functional.cross_entropy(
            torch.func.functional_call(theirs_model, p, (xs,)), ts)

    got = wg.vmap(wg.grad(ours), in_dims=(None, 0, 0))(params, wg.tensor(x), wg.tensor(t))
    want = torch.func.vmap(torch.func.grad(theirs), in_dims=(None, 0, 0))(
        {k: torch.tensor(v.numpy()) for k, v in params.items()}, torch.tensor(x),
        torch.tensor(t))
    for k in params:
        np.testing.assert_allclose(got[k].numpy(), want[k].detach().numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=k)


# every public function of nn.functional is in a table above, or in one of these tests
TESTED_ELSEWHERE = {
    "dropout", "dropout1d", "alpha_dropout", "rrelu", "gumbel_softmax",  # randomness
    "relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "threshold_",  # refused
    "rrelu_"}


def test_every_public_function_of_nn_functional_is_covered():
    public = set(F.__all__)
    ids = [case[0] for case in FUNCTIONAL]
    missing = {n for n in public - TESTED_ELSEWHERE
               if not any(i == n or i.startswith(n + "_") for i in ids)}
    assert not missing, sorted(missing)
