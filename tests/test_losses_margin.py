"""The margin, ranking, triplet and likelihood losses (wengert.nn.margin_losses and
likelihood_losses) and their modules: values and float64 gradients against PyTorch for every
reduction, batched and unbatched shapes, target dtypes, weights, eps and clamps, the
gradients at the hinges' corners, the numerical gradient checker, and PyTorch's errors."""
import math
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.check import gradcheck

REDUCTIONS = ["none", "mean", "sum"]


def t64(a, requires_grad=True):
    return wg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _compare(torch, ours, theirs, inputs, others=(), rtol=1e-10):
    """Value, shape and the gradients w.r.t. ``inputs`` (float64) of ``ours`` and
    ``theirs``; ``others`` are passed as they are (ours) and as tensors (theirs)."""
    xs = [t64(a) for a in inputs]
    txs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in inputs]
    got = ours(*xs, *others)
    expected = theirs(*txs, *[torch.as_tensor(o) for o in others])
    assert got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=rtol, atol=1e-12)
    w = np.random.default_rng(1).normal(size=got.shape)
    (got * w).sum().backward()
    (expected * torch.as_tensor(w)).sum().backward()
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-12)


def _signs(rng, shape):
    return np.where(rng.random(shape) < 0.5, -1.0, 1.0)


def _cases(rng):
    """name -> (function name, float inputs (differentiated), other arguments, options)."""
    x, x2 = rng.normal(size=(2, 6, 5))
    counts = rng.poisson(2.0, (6, 5)).astype(float)
    counts[0, :3] = [0.0, 1.0, 0.5]  # the Stirling term's y <= 1 (its gradient is 0 there)
    var = rng.uniform(0.1, 2.0, (6, 5))
    labels = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, -1, 0, 0],
                       [0, 1, 2, 3, 4], [4, -1, 7, 9, 9]])  # after -1: ignored, any index
    labels[5, 2:] = 0
    return {
        "margin_ranking": ("margin_ranking_loss", [x[:, 0], x2[:, 0], _signs(rng, 6)], [],
                           {"margin": 0.3}),
        "margin_ranking broadcast": ("margin_ranking_loss",
                                     [x[:, :1], x2[:1], _signs(rng, (6, 5))], [], {}),
        "hinge_embedding": ("hinge_embedding_loss", [x],
                            [rng.choice([-1.0, 1.0, 0.0, 2.0], (6, 5))], {"margin": 0.5}),
        "cosine_embedding": ("cosine_embedding_loss", [x, x2],
                             [np.array([1, -1, 1, -1, -1, 1])], {"margin": -0.2}),
        "cosine_embedding broadcast": ("cosine_embedding_loss", [x, x2[:1]],
                                       [np.array([-1])], {"margin": 0.1}),
        "soft_margin": ("soft_margin_loss", [3 * x], [_signs(rng, (6, 5))], {}),
        "multilabel_soft_margin": ("multilabel_soft_margin_loss", [x, rng.random((6, 5))], [],
                                   {"weight": rng.uniform(0.5, 2.0, 5)}),
        "multilabel_soft_margin 3-D": ("multilabel_soft_margin_loss",
                                       [x.reshape(2, 3, 5), rng.random((2, 3, 5))], [], {}),
        "multilabel_margin": ("multilabel_margin_loss", [x], [labels], {}),
        "multi_margin p=1": ("multi_margin_loss", [x], [rng.integers(0, 5, 6)],
                             {"margin": 0.7, "weight": rng.uniform(0.5, 2.0, 5)}),
        "multi_margin p=2": ("multi_margin_loss", [x], [rng.integers(0, 5, 6)], {"p": 2}),
        "triplet_margin": ("triplet_margin_loss", [x, x2, rng.normal(size=(6, 5))], [],
                           {"margin": 1.5}),
        "triplet_margin p=1 swap": ("triplet_margin_loss",
                                    [x, x2, rng.normal(size=(6, 5))], [],
                                    {"p": 1, "eps": 1e-3, "swap": True}),
        "triplet_margin p=3 broadcast": ("triplet_margin_loss",
                                         [x, x2[:1], rng.normal(size=(6, 5))], [],
                                         {"p": 3, "margin": 2.0}),
        "triplet_with_distance": ("triplet_margin_with_distance_loss",
                                  [x, x2, rng.normal(size=(6, 5))], [],
                                  {"margin": 2.0, "swap": True}),
        "poisson_nll": ("poisson_nll_loss", [x, counts], [], {}),
        # y = 0 left out (PyTorch's target gradient of the full term is NaN there) and y = 1
        # too (the term jumps there, from 0 to log(2 pi) / 2 - 1)
        "poisson_nll full": ("poisson_nll_loss", [x, np.where(counts > 1, counts, 0.5)], [],
                             {"full": True}),
        "poisson_nll rates": ("poisson_nll_loss", [np.abs(x) + 0.1, counts], [],
                              {"log_input": False, "eps": 1e-3}),
        "gaussian_nll": ("gaussian_nll_loss", [x, x2, var], [], {}),
        "gaussian_nll full, var (N, 1)": ("gaussian_nll_loss", [x, x2, var[:, :1]], [],
                                          {"full": True, "eps": 0.2}),
        "gaussian_nll var (N,)": ("gaussian_nll_loss", [x, x2, var[:, 0]], [], {}),
        "gaussian_nll var (1, C)": ("gaussian_nll_loss", [x, x2, var[:1]], [], {}),
    }


CASE_NAMES = sorted(_cases(np.random.default_rng(0)))


def _torch_options(torch, options):
    return {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
            for k, v in options.items()}


def _call(module, name, inputs, others, options, reduction):
    """``name`` of ``module`` (F or torch's functional) with the inputs in PyTorch's order:
    gaussian_nll_loss takes var (an input here) third."""
    return getattr(module, name)(*inputs, *others, reduction=reduction, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASE_NAMES)
def test_loss_matches_torch(torch_mod, case, reduction):
    name, inputs, others, options = _cases(np.random.default_rng(0))[case]
    _compare(torch_mod,
             lambda *a: _call(F, name, a[:len(inputs)], a[len(inputs):], options, reduction),
             lambda *a: _call(torch_mod.nn.functional, name, a[:len(inputs)], a[len(inputs):],
                              _torch_options(torch_mod, options), reduction),
             inputs, others)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_loss_passes_the_gradient_checker(case):
    """First and second derivatives, reverse and forward mode, against central differences
    (at random points, away from the hinges' corners)."""
    name, inputs, others, options = _cases(np.random.default_rng(0))[case]
    gradcheck(lambda *a: getattr(F, name)(*a, *others, **options), tuple(inputs), order=2)


# --- unbatched shapes -----------------------------------------------------------------------
def _unbatched(rng):
    v, w, u = rng.normal(size=(3, 4))
    return {
        "margin_ranking 0-d": ("margin_ranking_loss", [v[0], w[0], -1.0], [], {}),
        "hinge_embedding 0-d": ("hinge_embedding_loss", [v[0]], [np.array(-1.0)], {}),
        "cosine_embedding (D,)": ("cosine_embedding_loss", [v, w], [np.array(-1)],
                                  {"margin": -0.5}),
        "soft_margin (C,)": ("soft_margin_loss", [v], [_signs(rng, 4)], {}),
        "multilabel_soft_margin (C,)": ("multilabel_soft_margin_loss", [v, rng.random(4)], [],
                                        {}),
        "multilabel_margin (C,)": ("multilabel_margin_loss", [v], [np.array([2, 0, -1, 3])],
                                   {}),
        "multilabel_margin 0-d": ("multilabel_margin_loss", [v[0]], [np.array([0])], {}),
        "multi_margin (C,), 0-d target": ("multi_margin_loss", [v], [np.array(1)], {}),
        "multi_margin (C,), (1,) target": ("multi_margin_loss", [v], [np.array([3])], {}),
        "multi_margin (1, C), 0-d target": ("multi_margin_loss", [v[None]], [np.array(2)], {}),
        "multi_margin 0-d": ("multi_margin_loss", [v[0]], [np.array([0])], {}),
        "triplet_margin (D,)": ("triplet_margin_loss", [v, w, u], [], {"margin": 3.0}),
        "triplet_margin 0-d": ("triplet_margin_loss", [v[0], w[0], u[0]], [], {"margin": 3.0}),
        "triplet_with_distance (D,)": ("triplet_margin_with_distance_loss", [v, w, u], [],
                                       {"margin": 3.0}),
        "poisson_nll 0-d": ("poisson_nll_loss", [v[0], 3.0], [], {"full": True}),
        "gaussian_nll (C,), var ()": ("gaussian_nll_loss", [v, w, np.array(0.5)], [], {}),
    }


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", sorted(_unbatched(np.random.default_rng(0))))
def test_unbatched_loss_matches_torch(torch_mod, case, reduction):
    name, inputs, others, options = _unbatched(np.random.default_rng(0))[case]
    _compare(torch_mod,
             lambda *a: _call(F, name, a[:len(inputs)], a[len(inputs):], options, reduction),
             lambda *a: _call(torch_mod.nn.functional, name, a[:len(inputs)], a[len(inputs):],
                              options, reduction),
             inputs, others)


def test_empty_batch_gives_no_losses_and_its_mean_raises(torch_mod):
    """'none' of an empty batch is empty, as PyTorch's; its mean is undefined (PyTorch:
    NaN), and wengert's mean of nothing raises."""
    x, t = np.zeros((0, 4)), np.zeros((0,), np.int64)
    got = F.multi_margin_loss(t64(x), t, reduction="none")
    expected = torch_mod.nn.functional.multi_margin_loss(torch_mod.tensor(x),
                                                         torch_mod.tensor(t), reduction="none")
    assert got.shape == tuple(expected.shape) == (0,)
    assert F.multi_margin_loss(t64(x), t, reduction="sum").item() == 0.0
    with pytest.raises(wg.ShapeError, match="empty"):
        F.multi_margin_loss(t64(x), t)


# --- the corners of the hinges --------------------------------------------------------------
CORNERS = {
    # clamp_min in PyTorch: the gradient passes where the hinge is exactly 0
    "margin_ranking": (lambda m, T, a, b: m.margin_ranking_loss(a, b, T([1.0, -1.0]),
                                                                margin=0.5, reduction="sum"),
                       [[1.0, 0.0], [1.5, -0.5]]),
    "hinge_embedding": (lambda m, T, a: m.hinge_embedding_loss(a, T([-1, -1]), reduction="sum"),
                        [[1.0, 2.0]]),
    "cosine_embedding": (lambda m, T, a, b: m.cosine_embedding_loss(a, b, T([-1])),
                         [[[1.0, 0.0]], [[0.0, 1.0]]]),
    "triplet_margin": (lambda m, T, a, p, n: m.triplet_margin_loss(a, p, n, eps=0.0),
                       [[[0.0, 0.0]], [[1.0, 0.0]], [[2.0, 0.0]]]),
    # and a tie of swap's min splits the gradient
    "triplet_margin swap tie": (lambda m, T, a, p, n: m.triplet_margin_loss(
        a, p, n, eps=0.0, swap=True, margin=3.0), [[[0.0, 0.0]], [[2.0, 0.0]], [[1.0, 1.0]]]),
    # PyTorch's kernels add a term only where it is positive: no gradient at the corner
    "multilabel_margin": (lambda m, T, a: m.multilabel_margin_loss(a, T([[0, -1, 0]])),
                          [[[1.0, 0.0, 0.5]]]),
    "multi_margin p=1": (lambda m, T, a: m.multi_margin_loss(a, T([0])), [[[1.0, 0.0, 0.5]]]),
    "multi_margin p=2": (lambda m, T, a: m.multi_margin_loss(a, T([0]), p=2),
                         [[[1.0, 0.0, 0.5]]]),
}


@pytest.mark.parametrize("case", sorted(CORNERS))
def test_gradient_at_the_corner_is_torchs(torch_mod, case):
    f, inputs = CORNERS[case]
    xs = [t64(a) for a in inputs]
    txs = [torch_mod.tensor(a, requires_grad=True) for a in inputs]
    f(F, np.asarray, *xs).backward()
    f(torch_mod.nn.functional, torch_mod.tensor, *txs).backward()
    for x, tx in zip(xs, txs):
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_corners_by_hand():
    # margin_ranking: -y (x1 - x2) + margin = 0 at both entries; the slope -y passes
    a, b = t64([1.0, 0.0]), t64([1.5, -0.5])
    F.margin_ranking_loss(a, b, np.array([1.0, -1.0]), margin=0.5, reduction="sum").backward()
    np.testing.assert_array_equal(a.grad.data, [-1.0, 1.0])
    # multi_margin: margin - x[y] + x[1] = 0 (no gradient), + x[2] = 0.5 (1/C each way)
    x = t64([[1.0, 0.0, 0.5]])
    F.multi_margin_loss(x, np.array([0])).backward()
    np.testing.assert_allclose(x.grad.data, [[-1 / 3, 0.0, 1 / 3]])


# --- targets --------------------------------------------------------------------------------
F32 = np.float32


ONES, ZEROS = np.ones(3, F32), np.zeros(3, F32)
DTYPE_CASES = {
    "margin_ranking": lambda m, T, t: m.margin_ranking_loss(T(ONES), T(ZEROS), T(t)),
    "hinge_embedding": lambda m, T, t: m.hinge_embedding_loss(T(ONES), T(t)),
    "cosine_embedding": lambda m, T, t: m.cosine_embedding_loss(
        T(np.ones((3, 2), F32)), T(np.eye(3, 2, dtype=F32)), T(t)),
    "soft_margin": lambda m, T, t: m.soft_margin_loss(T(ONES), T(t)),
    "multilabel_soft_margin": lambda m, T, t: m.multilabel_soft_margin_loss(T(ONES), T(t)),
    "poisson_nll": lambda m, T, t: m.poisson_nll_loss(T(ONES), T(t)),
    "gaussian_nll": lambda m, T, t: m.gaussian_nll_loss(T(ONES), T(t), 0.5),
}


@pytest.mark.parametrize("target_dtype", ["float64", "int64", "bool"])
@pytest.mark.parametrize("loss", sorted(DTYPE_CASES))
def test_target_dtypes_are_torchs(torch_mod, loss, target_dtype):
    """A float32 input with a float64, integer or bool target: the result's dtype is
    PyTorch's (promoted, or the input's), and a target PyTorch refuses is a DTypeError."""
    target = np.array([1, 0, 1]).astype(target_dtype)
    f = DTYPE_CASES[loss]
    try:
        expected = f(torch_mod.nn.functional, torch_mod.as_tensor, target)
    except RuntimeError:
        with pytest.raises(wg.DTypeError, match=f"{loss}_loss: the target has dtype bool"):
            f(F, wg.tensor, target)
        return
    got = f(F, wg.tensor, target)
    assert str(got.dtype) == str(expected.dtype).replace("torch.", "")
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("loss", ["multi_margin_loss", "multilabel_margin_loss"])
@pytest.mark.parametrize("target_dtype", ["float64", "bool"])
def test_class_index_targets_must_be_integers(torch_mod, loss, target_dtype):
    target = np.array([[0, 1, -1]] if loss == "multilabel_margin_loss" else [1])
    target = target.astype(target_dtype)
    with pytest.raises(RuntimeError):
        getattr(torch_mod.nn.functional, loss)(torch_mod.ones(1, 3), torch_mod.tensor(target))
    with pytest.raises(wg.DTypeError, match=f"{loss}: targets must be integer class indices"):
        getattr(F, loss)(t64(np.ones((1, 3))), target)


def test_float_targets_get_torchs_gradient_and_selecting_ones_none(torch_mod):
    """margin_ranking, multilabel_soft_margin, poisson and gaussian NLL differentiate their
    target (checked in the PyTorch cases); hinge and cosine embedding only select by it;
    soft_margin refuses a target that requires grad, as PyTorch."""
    y = t64([1.0, -1.0])
    F.hinge_embedding_loss(t64([0.5, 0.5]), y).backward()
    assert y.grad is None
    ty = torch_mod.tensor([1.0, -1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
        torch_mod.nn.functional.soft_margin_loss(torch_mod.tensor([0.5, 0.5]), ty)
    with pytest.raises(wg.ArgumentError, match="soft_margin_loss: the target requires grad"):
        F.soft_margin_loss(t64([0.5, 0.5]), y)


def test_multilabel_margin_targets_stop_at_minus_one_and_repeat(torch_mod):
    x = np.array([[0.1, 0.2, 0.4, 0.8], [0.3, -0.2, 0.5, 0.1]])
    for target in ([[3, 0, -1, 1], [1, 2, 3, -1]], [[0, 0, -1, 1], [-1, 2, 3, 3]]):
        t = np.array(target)
        expected = torch_mod.nn.functional.multilabel_margin_loss(
            torch_mod.tensor(x), torch_mod.tensor(t), reduction="none").numpy()
        np.testing.assert_allclose(F.multilabel_margin_loss(t64(x), t, reduction="none").data,
                                   expected, rtol=1e-12)
    # by hand: targets {3, 0} of row 0; the others 1, 2 score 0.2, 0.4
    terms = [1 - (x[0, j] - x[0, i]) for j in (3, 0) for i in (1, 2)]
    assert F.multilabel_margin_loss(t64(x[0]), np.array([3, 0, -1, 1])).item() == \
        pytest.approx(sum(max(0, z) for z in terms) / 4, rel=1e-12)


# --- weights --------------------------------------------------------------------------------
def test_multilabel_soft_margin_weight_gets_torchs_gradient(torch_mod):
    rng = np.random.default_rng(2)
    x, y, w = rng.normal(size=(3, 4)), rng.random((3, 4)), rng.uniform(0.5, 2.0, 4)
    _compare(torch_mod, lambda a, b, c: F.multilabel_soft_margin_loss(a, b, weight=c),
             lambda a, b, c: torch_mod.nn.functional.multilabel_soft_margin_loss(a, b, weight=c),
             [x, y, w])


@pytest.mark.parametrize("weight", [np.ones((1, 4)), np.ones(3), np.array(2.0)])
def test_multi_margin_weight_must_be_one_per_class(torch_mod, weight):
    x, t = np.ones((2, 4)), np.array([0, 1])
    with pytest.raises((ValueError, RuntimeError)):
        torch_mod.nn.functional.multi_margin_loss(torch_mod.tensor(x), torch_mod.tensor(t),
                                                  weight=torch_mod.tensor(weight))
    with pytest.raises(wg.ShapeError, match=r"multi_margin_loss: weight of shape .* 4 classes"):
        F.multi_margin_loss(t64(x), t, weight=weight)
    with pytest.raises((ValueError, RuntimeError)):
        torch_mod.nn.MultiMarginLoss(weight=torch_mod.tensor(weight))(torch_mod.tensor(x),
                                                                      torch_mod.tensor(t))
    with pytest.raises(wg.ShapeError, match="MultiMarginLoss|multi_margin_loss"):
        nn.MultiMarginLoss(weight=weight)(t64(x), t)


def test_weights_are_constants_where_torchs_are(torch_mod):
    w = t64([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument"):
        torch_mod.nn.functional.multi_margin_loss(
            torch_mod.ones(1, 3), torch_mod.tensor([0]),
            weight=torch_mod.ones(3, requires_grad=True))
    with pytest.raises(wg.ArgumentError, match="multi_margin_loss: weight requires grad"):
        F.multi_margin_loss(t64(np.ones((1, 3))), np.array([0]), weight=w)


def test_multilabel_soft_margin_weight_may_not_grow_the_input():
    with pytest.raises(wg.ShapeError, match=r"weight of shape \(2, 4, 3\) does not broadcast"):
        F.multilabel_soft_margin_loss(t64(np.ones((4, 3))), np.ones((4, 3)),
                                      weight=np.ones((2, 4, 3)))


# --- eps, clamps and stability -------------------------------------------------------------
def test_cosine_embedding_eps_is_torchs_at_zero_vectors(torch_mod):
    """PyTorch adds 1e-12 (a float32 constant) to each squared norm: zero vectors have
    cosine 0 and a finite gradient of 1/sqrt(3 eps) against ones."""
    _compare(torch_mod, lambda a, b: F.cosine_embedding_loss(a, b, np.array([1, -1]),
                                                            margin=-0.5, reduction="none"),
             lambda a, b: torch_mod.nn.functional.cosine_embedding_loss(
                 a, b, torch_mod.tensor([1, -1]), margin=-0.5, reduction="none"),
             [np.zeros((2, 3)), np.ones((2, 3))])
    zeros = t64(np.zeros((2, 3)))
    loss = F.cosine_embedding_loss(zeros, t64(np.ones((2, 3))), np.array([1, -1]),
                                   margin=-0.5, reduction="none")
    np.testing.assert_allclose(loss.data, [1.0, 0.5])
    loss.sum().backward()
    eps = float(np.float32(1e-12))
    np.testing.assert_allclose(zeros.grad.data[0], -1 / math.sqrt(eps * (3 + eps)),
                               rtol=1e-13)


def test_gaussian_nll_clamps_var_in_value_only(torch_mod):
    """var = 0 counts as eps in the loss, and gets the gradient there as though unclamped."""
    x, y, v = t64([1.0, -1.0]), np.array([0.0, 1.0]), t64([0.0, 2.0])
    loss = F.gaussian_nll_loss(x, y, v, eps=1e-6, reduction="sum")
    assert loss.item() == pytest.approx(0.5 * (math.log(1e-6) + 1 / 1e-6)
                                        + 0.5 * (math.log(2.0) + 4 / 2.0), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(v.grad.data, [0.5 * (1e6 - 1e12), 0.5 * (1 / 2 - 4 / 4)],
                               rtol=1e-12)
    _compare(torch_mod, lambda a, b, c: F.gaussian_nll_loss(a, b, c, eps=1e-6, reduction="sum"),
             lambda a, b, c: torch_mod.nn.functional.gaussian_nll_loss(a, b, c, eps=1e-6,
                                                                       reduction="sum"),
             [[1.0, -1.0], [0.0, 1.0], [0.0, 2.0]])


def test_gaussian_nll_takes_a_number_for_var(torch_mod):
    x, y = np.array([0.5, -1.0, 2.0]), np.array([0.0, 1.0, 1.5])
    expected = torch_mod.nn.functional.gaussian_nll_loss(torch_mod.tensor(x),
                                                         torch_mod.tensor(y), 0.25, full=True)
    got = F.gaussian_nll_loss(t64(x), y, 0.25, full=True)
    assert got.item() == pytest.approx(expected.item(), rel=1e-12)
    by_hand = np.mean(0.5 * (np.log(0.25) + (x - y) ** 2 / 0.25) + 0.5 * np.log(2 * np.pi))
    assert got.item() == pytest.approx(by_hand, rel=1e-12)


def test_poisson_full_term_is_zero_at_counts_up_to_one_and_so_is_its_gradient(torch_mod):
    """Where PyTorch's target gradient is NaN (y = 0: 0 * log 0), wengert's is 0, the
    gradient of the term it adds there (none); elsewhere they agree."""
    x, y = np.array([0.3, 0.3, 0.3, 0.3]), np.array([0.0, 0.5, 1.0, 3.0])
    ours_y = t64(y)
    loss = F.poisson_nll_loss(t64(x), ours_y, full=True, reduction="none")
    ty = torch_mod.tensor(y, requires_grad=True)
    theirs = torch_mod.nn.functional.poisson_nll_loss(torch_mod.tensor(x), ty, full=True,
                                                      reduction="none")
    np.testing.assert_allclose(loss.data, theirs.detach().numpy(), rtol=1e-12)
    stirling = 3 * math.log(3) - 3 + 0.5 * math.log(2 * math.pi * 3)
    assert loss.data[3] == pytest.approx(math.exp(0.3) - 3 * 0.3 + stirling, rel=1e-12)
    loss.sum().backward()
    theirs.sum().backward()
    assert np.isnan(ty.grad[0].item())
    np.testing.assert_allclose(ours_y.grad.data, [-0.3, -0.3, -0.3,
                                                  -0.3 + math.log(3) + 1 / 6], rtol=1e-12)
    np.testing.assert_allclose(ours_y.grad.data[1:], ty.grad.numpy()[1:], rtol=1e-12)


def test_poisson_rates_use_eps_as_torch(torch_mod):
    x, y = np.array([0.0, 1e-9, 2.0]), np.array([1.0, 2.0, 0.0])
    _compare(torch_mod, lambda a: F.poisson_nll_loss(a, y, log_input=False, reduction="none"),
             lambda a: torch_mod.nn.functional.poisson_nll_loss(a, torch_mod.tensor(y),
                                                                log_input=False,
                                                                reduction="none"), [x])
    got = F.poisson_nll_loss(t64(x), y, log_input=False, reduction="none")
    np.testing.assert_allclose(got.data, x - y * np.log(x + 1e-8), rtol=1e-12)


def test_soft_margin_is_finite_where_torchs_overflows(torch_mod):
    """softplus(-y x) = 1000 with gradient -y at y x = -1000, without a warning; PyTorch's
    log1p(exp(1000)) is inf there (and its gradient NaN)."""
    x = t64([-1000.0, 1000.0, 2.0])
    y = np.array([1.0, -1.0, 1.0])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss = F.soft_margin_loss(x, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1000.0, 1000.0, math.log1p(math.exp(-2.0))])
    np.testing.assert_allclose(x.grad.data, [-1.0, 1.0, -1 / (1 + math.exp(2.0))])
    theirs = torch_mod.nn.functional.soft_margin_loss(torch_mod.tensor([-1000.0]),
                                                      torch_mod.tensor([1.0]))
    assert math.isinf(theirs.item())


# --- errors PyTorch raises too --------------------------------------------------------------
def _errors(m, tensor):
    """name -> (call, wengert's error, message pattern); ``m`` is the functional module."""
    x, t2 = tensor(np.ones((2, 3))), tensor(np.array([0, 1]))
    return {
        "margin_ranking dims": (lambda: m.margin_ranking_loss(tensor(np.ones(4)),
                                                              tensor(np.ones(4)),
                                                              tensor(np.ones((4, 1)))),
                                wg.ShapeError, r"margin_ranking_loss: input1 of shape \(4,\), "
                                               r".*\(4, 1\) must have the same number of dims"),
        "margin_ranking broadcast": (lambda: m.margin_ranking_loss(tensor(np.ones(4)),
                                                                   tensor(np.ones(3)),
                                                                   tensor(np.ones(4))),
                                     wg.ShapeError, r"\(4,\).*\(3,\).*do not broadcast"),
        "cosine target dims": (lambda: m.cosine_embedding_loss(tensor(np.ones((2, 3, 4))),
                                                               tensor(np.ones((2, 3, 4))),
                                                               tensor(np.ones((2, 3)))),
                               wg.ShapeError, r"0-d or 1-D target, got shape \(2, 3\)"),
        "cosine input dims": (lambda: m.cosine_embedding_loss(x, x, tensor(np.array(1.0))),
                              wg.ShapeError, r"target of shape \(\) needs 1-D inputs"),
        "cosine target length": (lambda: m.cosine_embedding_loss(x, x, tensor(np.ones(3))),
                                 wg.ShapeError, r"target of shape \(3,\).*\(2,\).*broadcast"),
        "multilabel_margin 3-D": (lambda: m.multilabel_margin_loss(
            tensor(np.ones((2, 3, 4))), tensor(np.zeros((2, 3, 4), np.int64))),
            wg.ShapeError, r"\(C,\) or \(N, C\).*\(2, 3, 4\)"),
        "multilabel_margin no classes": (lambda: m.multilabel_margin_loss(
            tensor(np.ones((2, 0))), tensor(np.zeros((2, 0), np.int64))),
            wg.ShapeError, r"C > 0.*\(2, 0\)"),
        "multilabel_margin target shape": (lambda: m.multilabel_margin_loss(
            x, tensor(np.zeros((2, 2), np.int64))), wg.ShapeError, r"\(2, 2\).*\(2, 3\)"),
        "multilabel_margin target range": (lambda: m.multilabel_margin_loss(
            x, tensor(np.array([[0, -1, 3], [0, 1, 2]]))), wg.ShapeError,
            r"\[0, 3\) or -1.*\[-1, 3\]"),
        "multilabel_margin target -2": (lambda: m.multilabel_margin_loss(
            x, tensor(np.array([[-2, -1, 0], [0, 1, 2]]))), wg.ShapeError, r"\[-2, 2\]"),
        "multi_margin p": (lambda: m.multi_margin_loss(x, t2, p=3), wg.ArgumentError,
                           r"multi_margin_loss: p=3.*p == 1 and p == 2"),
        "multi_margin 3-D": (lambda: m.multi_margin_loss(tensor(np.ones((2, 3, 4))), t2),
                             wg.ShapeError, r"\(C,\) or \(N, C\).*\(2, 3, 4\)"),
        "multi_margin target shape": (lambda: m.multi_margin_loss(x, tensor(np.array([[0],
                                                                                    [1]]))),
                                      wg.ShapeError, r"\(2, 1\).*\(2, 3\).*\(2,\)"),
        "multi_margin target range": (lambda: m.multi_margin_loss(x, tensor(np.array([0, 3]))),
                                      wg.ShapeError, r"\[0, 3\), got range \[0, 3\]"),
        "multi_margin target -1": (lambda: m.multi_margin_loss(x, tensor(np.array([-1, 0]))),
                                   wg.ShapeError, r"\[0, 3\), got range \[-1, 0\]"),
        "multilabel_soft_margin 0-d": (lambda: m.multilabel_soft_margin_loss(
            tensor(np.array(1.0)), tensor(np.array(1.0))), wg.ShapeError,
            r"classes on the last axis.*\(\)"),
        "triplet margin 0": (lambda: m.triplet_margin_loss(x, x, x, margin=0.0),
                             wg.ArgumentError, r"triplet_margin_loss: margin must be greater "
                                               r"than 0, got 0.0"),
        "triplet margin -1": (lambda: m.triplet_margin_with_distance_loss(x, x, x, margin=-1.0),
                              wg.ArgumentError, r"triplet_margin_with_distance_loss: margin "
                                                r"must be greater than 0, got -1.0"),
        "triplet dims": (lambda: m.triplet_margin_loss(x, tensor(np.ones(3)), x), wg.ShapeError,
                         r"anchor of shape \(2, 3\), positive of shape \(3,\).*same number"),
        "triplet with distance dims": (lambda: m.triplet_margin_with_distance_loss(
            x, tensor(np.ones(3)), x), wg.ShapeError, r"same number of dims"),
        "triplet broadcast": (lambda: m.triplet_margin_loss(x, tensor(np.ones((3, 3))), x),
                              wg.ShapeError, r"do not broadcast"),
        "gaussian var negative": (lambda: m.gaussian_nll_loss(x, x, tensor(-np.ones((2, 3)))),
                                  wg.ArgumentError, r"gaussian_nll_loss: var must be >= 0.*-1"),
        "gaussian var negative number": (lambda: m.gaussian_nll_loss(x, x, -1.0),
                                         wg.ArgumentError, r"var=-1.0 must be >= 0"),
        "gaussian var shape": (lambda: m.gaussian_nll_loss(x, x, tensor(np.ones(3))),
                               wg.ShapeError, r"var of shape \(3,\).*\(2, 3\)"),
        "gaussian var two axes of 1": (lambda: m.gaussian_nll_loss(x, x,
                                                                   tensor(np.ones((1, 1)))),
                                       wg.ShapeError, r"var of shape \(1, 1\)"),
        "reduction": (lambda: m.triplet_margin_loss(x, x, x, reduction="avg"),
                      wg.ArgumentError, r"reduction='avg' is not allowed"),
        "gaussian reduction": (lambda: m.gaussian_nll_loss(x, x, 1.0, reduction="avg"),
                               wg.ArgumentError, r"reduction='avg' is not allowed"),
    }


@pytest.mark.parametrize("case", sorted(_errors(F, np.asarray)))
def test_errors_are_torchs(torch_mod, case):
    call, _, _ = _errors(torch_mod.nn.functional, torch_mod.as_tensor)[case]
    with pytest.raises((RuntimeError, ValueError, IndexError)):
        call()
    call, kind, pattern = _errors(F, lambda a: wg.tensor(a))[case]
    with pytest.raises(kind, match=pattern):
        call()


def test_nan_variance_and_negative_rates_raise_where_torch_gives_nan(torch_mod):
    x = np.ones(3)
    nan_var = np.array([1.0, np.nan, 1.0])
    assert torch_mod.isnan(torch_mod.nn.functional.gaussian_nll_loss(
        torch_mod.tensor(x), torch_mod.tensor(x), torch_mod.tensor(nan_var)))
    with pytest.raises(wg.ArgumentError, match="var must be >= 0.*NaN"):
        F.gaussian_nll_loss(t64(x), x, nan_var)
    rates = np.array([1.0, -0.5, 2.0])
    assert torch_mod.isnan(torch_mod.nn.functional.poisson_nll_loss(
        torch_mod.tensor(rates), torch_mod.tensor(x), log_input=False))
    with pytest.raises(wg.ArgumentError, match=r"log_input=False.*input \+ eps must be > 0.*-0.5"):
        F.poisson_nll_loss(t64(rates), x, log_input=False)


@pytest.mark.parametrize("loss", ["hinge_embedding_loss", "soft_margin_loss",
                                  "multilabel_soft_margin_loss", "poisson_nll_loss"])
def test_element_wise_targets_must_have_the_inputs_shape(loss):
    """Deliberately stricter than PyTorch, as wengert's other element-wise losses: an (N,)
    target against an (N, 1) input would broadcast to (N, N)."""
    with pytest.raises(wg.ShapeError, match=rf"{loss}: input of shape \(4, 1\) and target of "
                                            r"shape \(4,\) differ"):
        getattr(F, loss)(t64(np.ones((4, 1))), np.ones(4))
    with pytest.raises(wg.ShapeError, match=r"gaussian_nll_loss: input of shape \(4, 1\)"):
        F.gaussian_nll_loss(t64(np.ones((4, 1))), np.ones(4), np.ones((4, 1)))


# --- modules --------------------------------------------------------------------------------
def _modules(torch, rng):
    """(ours, theirs, float inputs, others) for each module with non-default options."""
    x, x2, x3 = rng.normal(size=(3, 4, 3))
    w = rng.uniform(0.5, 2.0, 3)
    tw = torch.as_tensor(w) if torch else None
    return {
        "MarginRankingLoss": (nn.MarginRankingLoss(margin=0.2), "MarginRankingLoss",
                              {"margin": 0.2}, [x[:, 0], x2[:, 0]], [_signs(rng, 4)]),
        "HingeEmbeddingLoss": (nn.HingeEmbeddingLoss(margin=0.5, reduction="sum"),
                               "HingeEmbeddingLoss", {"margin": 0.5, "reduction": "sum"}, [x],
                               [_signs(rng, (4, 3))]),
        "CosineEmbeddingLoss": (nn.CosineEmbeddingLoss(margin=0.1), "CosineEmbeddingLoss",
                                {"margin": 0.1}, [x, x2], [np.array([1, -1, -1, 1])]),
        "SoftMarginLoss": (nn.SoftMarginLoss(reduction="none"), "SoftMarginLoss",
                           {"reduction": "none"}, [x], [_signs(rng, (4, 3))]),
        "MultiLabelSoftMarginLoss": (nn.MultiLabelSoftMarginLoss(weight=w),
                                     "MultiLabelSoftMarginLoss", {"weight": tw}, [x],
                                     [rng.integers(0, 2, (4, 3))]),
        "MultiLabelMarginLoss": (nn.MultiLabelMarginLoss(), "MultiLabelMarginLoss", {}, [x],
                                 [np.array([[0, -1, 0], [2, 1, -1], [1, 0, 2], [-1, 1, 1]])]),
        "MultiMarginLoss": (nn.MultiMarginLoss(p=2, margin=0.5, weight=w), "MultiMarginLoss",
                            {"p": 2, "margin": 0.5, "weight": tw}, [x],
                            [np.array([0, 2, 1, 1])]),
        "TripletMarginLoss": (nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True),
                              "TripletMarginLoss", {"margin": 2.0, "p": 1.0, "swap": True},
                              [x, x2, x3], []),
        "TripletMarginWithDistanceLoss": (nn.TripletMarginWithDistanceLoss(margin=2.0),
                                          "TripletMarginWithDistanceLoss", {"margin": 2.0},
                                          [x, x2, x3], []),
        "PoissonNLLLoss": (nn.PoissonNLLLoss(full=True), "PoissonNLLLoss", {"full": True},
                           [x, rng.poisson(3.0, (4, 3)) + 2.0], []),
        "GaussianNLLLoss": (nn.GaussianNLLLoss(eps=0.1, full=True), "GaussianNLLLoss",
                            {"eps": 0.1, "full": True}, [x, x2, np.abs(x3)], []),
    }


@pytest.mark.parametrize("name", sorted(_modules(None, np.random.default_rng(0))))
def test_module_matches_torch_module(torch_mod, name):
    ours, theirs, options, inputs, others = _modules(torch_mod, np.random.default_rng(0))[name]
    _compare(torch_mod, ours, getattr(torch_mod.nn, theirs)(**options), inputs, others)


def test_module_options_buffers_and_repr():
    assert repr(nn.MarginRankingLoss()) == "MarginRankingLoss(margin=0.0, reduction='mean')"
    assert repr(nn.MultiMarginLoss(weight=[1.0, 2.0])) == \
        "MultiMarginLoss(p=1, margin=1.0, reduction='mean')"
    assert repr(nn.TripletMarginWithDistanceLoss()) == (
        "TripletMarginWithDistanceLoss(\n  margin=1.0, swap=False, reduction='mean'\n"
        "  (distance_function): PairwiseDistance()\n)")
    assert list(nn.MultiMarginLoss(weight=[1.0, 2.0]).state_dict()) == ["weight"]
    assert list(nn.MultiLabelSoftMarginLoss(weight=[1.0, 2.0]).state_dict()) == ["weight"]
    assert list(nn.MultiMarginLoss().state_dict()) == []
    m = nn.PoissonNLLLoss()
    assert (m.log_input, m.full, m.eps, m.reduction) == (True, False, 1e-8, "mean")
    m = nn.TripletMarginLoss()
    assert (m.margin, m.p, m.eps, m.swap) == (1.0, 2.0, 1e-6, False)
    assert (nn.GaussianNLLLoss().eps, nn.HingeEmbeddingLoss().margin) == (1e-6, 1.0)


def test_module_keyword_only_options_and_checks_are_torchs(torch_mod):
    for ours, theirs in ((nn.GaussianNLLLoss, torch_mod.nn.GaussianNLLLoss),
                         (nn.TripletMarginWithDistanceLoss,
                          torch_mod.nn.TripletMarginWithDistanceLoss)):
        with pytest.raises(TypeError):
            theirs(True)
        with pytest.raises(TypeError):
            ours(True)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        torch_mod.nn.MultiMarginLoss(p=3)
    with pytest.raises(wg.ArgumentError, match=r"MultiMarginLoss: p=3.*p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    for name in ("TripletMarginLoss", "TripletMarginWithDistanceLoss"):
        with pytest.raises(ValueError, match="greater than 0"):
            getattr(torch_mod.nn, name)(margin=0.0)
        with pytest.raises(wg.ArgumentError, match=rf"{name}: margin must be greater than 0"):
            getattr(nn, name)(margin=0.0)
    with pytest.raises(ValueError, match="1D"):
        torch_mod.nn.MultiMarginLoss(weight=torch_mod.ones(1, 3))
    with pytest.raises(wg.ShapeError, match=r"MultiMarginLoss: weight of shape \(1, 3\) must be "
                                            "1-D"):
        nn.MultiMarginLoss(weight=np.ones((1, 3)))


def test_triplet_with_a_custom_distance_module(torch_mod):
    """A distance given as a function or a module, as in PyTorch's example (1 - cosine)."""
    rng = np.random.default_rng(3)
    a, p, n = rng.normal(size=(3, 5, 4))
    cos = nn.CosineSimilarity(dim=1)
    tcos = torch_mod.nn.CosineSimilarity(dim=1)
    _compare(torch_mod,
             nn.TripletMarginWithDistanceLoss(distance_function=lambda u, v: 1 - cos(u, v),
                                              margin=0.5, swap=True),
             torch_mod.nn.TripletMarginWithDistanceLoss(
                 distance_function=lambda u, v: 1 - tcos(u, v), margin=0.5, swap=True),
             [a, p, n])
    loss = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1.0))
    assert "(distance_function): PairwiseDistance()" in repr(loss)
    _compare(torch_mod, loss, torch_mod.nn.TripletMarginWithDistanceLoss(
        distance_function=torch_mod.nn.PairwiseDistance(p=1.0)), [a, p, n])
