"""Losses: the fused primitives against their composites, every loss against PyTorch
(values and gradients, float64), the lectures' numbers (SEED-EXAMPLES 10, 11), stability
without warnings, reductions and errors."""
import warnings

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F
from wengert.ops import loss as fused


def t64(a, requires_grad=True):
    return wg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


@pytest.fixture
def strict_numpy():
    """Any warning NumPy gives by default (overflow, divide by zero, invalid) fails the test;
    underflow to 0 is expected and NumPy does not warn about it."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


# --- SEED-EXAMPLES 11: binary cross-entropy l(x) = ln(1 + e^-x) --------------------------------
@pytest.mark.parametrize("x, expected", [(-1, 1.3133), (-2, 2.1269), (-5, 5.0067),
                                         (-10, 10.0000), (-1000, 1000.0)])
def test_bce_with_logits_seed_values(x, expected, strict_numpy):
    xt = t64([x])
    loss = F.binary_cross_entropy_with_logits(xt, np.ones(1), reduction="sum")
    assert loss.item() == pytest.approx(expected, abs=1e-4)
    loss.backward()
    # d/dx ln(1 + e^-x) = -1 / (1 + e^x)
    assert xt.grad.item() == pytest.approx(-1 / (1 + np.exp(x)), rel=1e-12)


def test_bce_with_logits_gradient_is_minus_one_at_minus_1000(strict_numpy):
    x = t64([-1000.0])
    F.binary_cross_entropy_with_logits(x, np.ones(1)).backward()
    assert x.grad.item() == -1.0


def test_bce_with_logits_float32_large_logits_finite(strict_numpy):
    x = wg.tensor(np.array([-1e4, 1e4, 0.0], np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0, 1.0], np.float32),
                                              reduction="none")
    np.testing.assert_allclose(loss.data, [1e4, 1e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [-1.0, 1.0, -0.5])


# --- fused primitives against their composites ------------------------------------------------
def _composite_ce(x, t):
    """The lectures' composite: log_softmax -> pick the target -> mean."""
    picked = wg.take_along_axis(wg.log_softmax(x, axis=-1), t[:, None], axis=-1)
    return -picked.mean()


def test_softmax_cross_entropy_matches_composite(rng):
    logits = rng.normal(0, 3, (7, 5))
    t = rng.integers(0, 5, 7)
    a, b = t64(logits), t64(logits)
    fused_loss = fused.softmax_cross_entropy(a, t).mean()
    comp_loss = _composite_ce(b, t)
    assert fused_loss.item() == pytest.approx(comp_loss.item(), rel=1e-13)
    fused_loss.backward()
    comp_loss.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_label_smoothing_matches_composite(rng):
    logits, t, eps = rng.normal(0, 2, (4, 6)), rng.integers(0, 6, 4), 0.3
    a, b = t64(logits), t64(logits)
    q = (1 - eps) * np.eye(6)[t] + eps / 6
    comp = -(q * wg.log_softmax(b, axis=-1)).sum(axis=-1).mean()
    ours = fused.softmax_cross_entropy(a, t, label_smoothing=eps).mean()
    assert ours.item() == pytest.approx(comp.item(), rel=1e-13)
    ours.backward()
    comp.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-12, atol=1e-15)


def test_bce_with_logits_matches_composite(rng):
    logits, y = rng.normal(0, 3, (5, 3)), rng.random((5, 3))
    a, b = t64(logits), t64(logits)
    ours = fused.binary_cross_entropy_with_logits(a, y).mean()
    s = wg.sigmoid(b)
    comp = (-(y * wg.log(s) + (1 - y) * wg.log(1 - s))).mean()
    assert ours.item() == pytest.approx(comp.item(), rel=1e-12)
    ours.backward()
    comp.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-10, atol=1e-15)


def test_bce_of_probabilities_matches_composite_inside_the_clamps(rng):
    probs, y = rng.uniform(0.01, 0.99, (5, 3)), rng.random((5, 3))
    a, b = t64(probs), t64(probs)
    ours = fused.binary_cross_entropy(a, y).mean()
    comp = (-(y * wg.log(b) + (1 - y) * wg.log(1 - b))).mean()
    assert ours.item() == pytest.approx(comp.item(), rel=1e-12)
    ours.backward()
    comp.backward()
    np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-10, atol=1e-15)


def test_seed_10_logistic_unit_gradient_is_y_minus_t_over_m(rng):
    """dA = (Y - T) / m for softmax + average cross-entropy over m rows."""
    m, c = 6, 4
    logits, t = rng.normal(size=(m, c)), rng.integers(0, c, m)
    a = t64(logits)
    F.cross_entropy(a, t).backward()
    y = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a.grad.data, (y - np.eye(c)[t]) / m, rtol=1e-12, atol=1e-15)


def test_cross_entropy_stable_for_huge_logits(strict_numpy):
    x = t64([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 1000.0]])
    loss = F.cross_entropy(x, np.array([1, 2]), reduction="none")
    # logsumexp - x[t]: row 0 = 1000 - 0, row 1 = 1000 + ln 2 - 1000
    np.testing.assert_allclose(loss.data, [1000.0, np.log(2)], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [[1, -1, 0], [0, 0.5, -0.5]], atol=1e-15)


def test_bce_of_probabilities_clamps_log_at_minus_100(strict_numpy):
    p = t64([0.0, 1.0, 0.5])
    loss = F.binary_cross_entropy(p, np.array([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0, np.log(2)], rtol=1e-12)
    loss.sum().backward()
    assert np.isfinite(p.grad.data).all()


@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_bce_gradient_at_the_clamps_is_torchs_not_zero(torch_mod, strict_numpy, y):
    # p = 0 with y = 1 is confidently wrong: PyTorch's (p - y) / max(p (1 - p), 1e-12) pushes
    # it with -1e12, where the clamped log's own derivative would be 0
    p0 = np.array([0.0, 1e-50, 1e-13, 0.25, 0.5, 1 - 1e-13, 1.0])
    p = t64(p0)
    loss = F.binary_cross_entropy(p, np.full(7, y), reduction="none")
    loss.sum().backward()
    tp = torch_mod.tensor(p0, requires_grad=True)
    theirs = torch_mod.nn.functional.binary_cross_entropy(tp, torch_mod.full_like(tp, y),
                                                         reduction="none")
    theirs.sum().backward()
    np.testing.assert_allclose(loss.data, theirs.detach().numpy(), rtol=1e-12)
    # PyTorch's 1e-12 floor is a float32 constant in float64 too, and so is wengert's
    np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-14)
    if y == 1.0:
        assert p.grad.data[0] == pytest.approx(-1e12)


def test_bce_target_gradient_is_the_clamped_losss(strict_numpy):
    # d/dy of -[y log p + (1 - y) log(1 - p)] = log(1 - p) - log p, each log clamped at -100
    # (PyTorch's is unclamped: inf at p = 0 and -inf at p = 1)
    p = np.array([0.0, 0.25, 1.0])
    y = t64([0.5, 0.5, 0.5])
    F.binary_cross_entropy(wg.tensor(p), y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, [100.0, np.log(0.75) - np.log(0.25), -100.0],
                               rtol=1e-12)


# --- every loss against PyTorch ---------------------------------------------------------------
def _compare(torch, ours, theirs, inputs, others, rtol=1e-10):
    """Value and gradients (w.r.t. ``inputs``) of ``ours`` and ``theirs`` on float64 data."""
    xs = [t64(a) for a in inputs]
    txs = [torch.tensor(a, requires_grad=True) for a in inputs]
    got = ours(*xs, *others)
    expected = theirs(*txs, *[torch.as_tensor(o) for o in others])
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=rtol, atol=1e-12)
    w = np.random.default_rng(1).normal(size=got.shape)
    (got * w).sum().backward()
    (expected * torch.as_tensor(w)).sum().backward()
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=rtol, atol=1e-12)


REDUCTIONS = ["mean", "sum", "none"]


# --- binary cross-entropy: exact 0 and 1, the target's gradient, dtypes ------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_input_gradient_at_exactly_0_and_1_is_torchs(torch_mod, dtype):
    p0, y0 = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.3, 0.0, 0.7, 0.0, 1.0])
    p, y = wg.tensor(p0, dtype=dtype, requires_grad=True), wg.tensor(y0, dtype=dtype)
    tdtype = getattr(torch_mod, dtype)
    tp = torch_mod.tensor(p0, dtype=tdtype, requires_grad=True)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    theirs = torch_mod.nn.functional.binary_cross_entropy(
        tp, torch_mod.tensor(y0, dtype=tdtype), reduction="none")
    np.testing.assert_array_equal(loss.data, theirs.detach().numpy())
    loss.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-6 if dtype == "float32"
                               else 1e-15)
    assert p.grad.dtype == np.dtype(dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_target_gradient_matches_torch_where_no_clamp_holds(torch_mod, rng, reduction):
    # log p > -100 for p > 3.7e-44: down to 1e-40 and up to 1 - 1e-13 the logs are exact
    p = np.concatenate([rng.uniform(0.01, 0.99, 6), [1e-13, 1 - 1e-13, 1e-40]]).reshape(3, 3)
    y, w = rng.random((3, 3)), rng.uniform(0.2, 3.0, (3,))
    _compare(torch_mod, lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
             lambda a, b: torch_mod.nn.functional.binary_cross_entropy(
                 a, b, torch_mod.as_tensor(w), reduction=reduction), [p, y], [])


def test_bce_target_gradient_where_a_clamp_holds_is_that_of_torchs_own_loss(torch_mod):
    # a difference: torch's target gradient is -logit(p), +-inf at p = 0 and 1 and 115 at
    # p = 1e-50, the derivative of the loss without its clamps; wengert's is the derivative of
    # the loss both compute (logs clamped at -100), here measured on torch's own values
    p0, y0 = np.array([0.0, 1.0, 1e-50, 0.0]), np.array([0.5, 0.5, 0.5, 0.25])
    y = t64(y0)
    F.binary_cross_entropy(wg.tensor(p0), y, reduction="sum").backward()
    tp, ty = torch_mod.tensor(p0), torch_mod.tensor(y0, requires_grad=True)
    torch_mod.nn.functional.binary_cross_entropy(tp, ty, reduction="sum").backward()
    np.testing.assert_allclose(ty.grad.numpy()[:3], [np.inf, -np.inf, 50 * np.log(10)])

    def torch_loss(yy):
        return torch_mod.nn.functional.binary_cross_entropy(
            tp, torch_mod.tensor(yy), reduction="none").numpy()
    h = 1e-3  # the clamped loss is linear in y: central differences are exact
    slope = (torch_loss(y0 + h) - torch_loss(y0 - h)) / (2 * h)
    np.testing.assert_allclose(y.grad.data, slope, rtol=1e-9)
    np.testing.assert_allclose(y.grad.data, [100.0, -100.0, 100.0, 100.0], rtol=1e-9)


@pytest.mark.parametrize("input_dtype, target_dtype", [
    ("float32", "float64"), ("float64", "float32"), ("float32", "float16"),
    ("float32", "int64"), ("float64", "bool")])
def test_bce_refuses_a_target_of_another_dtype_as_torch(torch_mod, input_dtype, target_dtype):
    p0, y0 = np.array([0.25, 0.5, 0.75]), np.array([0, 1, 1])
    with pytest.raises(RuntimeError):
        torch_mod.nn.functional.binary_cross_entropy(
            torch_mod.tensor(p0, dtype=getattr(torch_mod, input_dtype)),
            torch_mod.tensor(y0.astype(target_dtype)))
    p = wg.tensor(p0, dtype=input_dtype, requires_grad=True)
    for target in (wg.tensor(y0.astype(target_dtype)), y0.astype(target_dtype)):
        with pytest.raises(wg.DTypeError, match=rf"binary_cross_entropy: .*{target_dtype}.*"
                                                rf"Hint: target.astype\('{input_dtype}'\)"):
            F.binary_cross_entropy(p, target)
        with pytest.raises(wg.DTypeError, match=rf"binary_cross_entropy: .*{input_dtype}"):
            nn.BCELoss()(p, target)
    # Python numbers have no dtype: they take the input's
    assert F.binary_cross_entropy(p, [0.0, 1.0, 1.0]).dtype == np.dtype(input_dtype)


@pytest.mark.parametrize("target_dtype", ["int64", "int32", "bool"])
def test_bce_with_logits_refuses_integer_targets_as_torch(torch_mod, target_dtype):
    x0, y0 = np.array([-1.0, 0.5, 2.0]), np.array([0, 1, 1]).astype(target_dtype)
    with pytest.raises(RuntimeError):
        torch_mod.nn.functional.binary_cross_entropy_with_logits(torch_mod.tensor(x0),
                                                                 torch_mod.tensor(y0))
    for target in (wg.tensor(y0), y0):
        with pytest.raises(wg.DTypeError, match=rf"binary_cross_entropy_with_logits: the "
                                                rf"target has dtype {target_dtype}.*floats"):
            F.binary_cross_entropy_with_logits(t64(x0), target)


@pytest.mark.parametrize("input_dtype, target_dtype", [("float32", "float64"),
                                                       ("float64", "float32")])
def test_bce_with_logits_takes_mixed_float_dtypes_as_torch(torch_mod, rng, input_dtype,
                                                           target_dtype):
    # PyTorch accepts them; its result has the target's dtype, wengert's NumPy's promotion
    # (float64 either way): the values agree to float32's precision, and each input's
    # gradient has that input's dtype in both
    x0, y0, pw = rng.normal(0, 2, 5), rng.random(5), rng.uniform(0.5, 3.0, 5)
    x = wg.tensor(x0, dtype=input_dtype, requires_grad=True)
    y = wg.tensor(y0, dtype=target_dtype, requires_grad=True)
    tx = torch_mod.tensor(x0, dtype=getattr(torch_mod, input_dtype), requires_grad=True)
    ty = torch_mod.tensor(y0, dtype=getattr(torch_mod, target_dtype), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction="sum")
    theirs = torch_mod.nn.functional.binary_cross_entropy_with_logits(
        tx, ty, pos_weight=torch_mod.tensor(pw, dtype=tx.dtype), reduction="sum")
    assert loss.dtype == np.float64
    assert str(theirs.dtype) == f"torch.{target_dtype}"
    assert loss.item() == pytest.approx(theirs.item(), rel=1e-6)
    loss.backward()
    theirs.backward()
    for ours, t in ((x, tx), (y, ty)):
        assert str(ours.grad.dtype) == str(t.grad.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.grad.data, t.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits"])
def test_elementwise_losses_match_torch(torch_mod, rng, name, reduction):
    probabilities = name == "binary_cross_entropy"
    x = rng.uniform(0.05, 0.95, (4, 3)) if probabilities else rng.normal(size=(4, 3))
    y = rng.uniform(0, 1, (4, 3))
    _compare(torch_mod, lambda a, b: getattr(F, name)(a, b, reduction=reduction),
             lambda a, b: getattr(torch_mod.nn.functional, name)(a, b, reduction=reduction),
             [x], [y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 4, 3)])
def test_cross_entropy_class_indices_matches_torch(torch_mod, rng, reduction, smoothing, shape):
    x = rng.normal(0, 2, shape)
    t = rng.integers(0, 4, (shape[0],) + shape[2:] if len(shape) > 1 else ())
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, reduction=reduction,
                                                     label_smoothing=smoothing),
             lambda a, b: torch_mod.nn.functional.cross_entropy(
                 a, b, reduction=reduction, label_smoothing=smoothing), [x], [t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_cross_entropy_probability_targets_match_torch(torch_mod, rng, reduction, smoothing,
                                                        shape):
    x = rng.normal(0, 2, shape)
    p = rng.random(shape)
    p /= p.sum(axis=1, keepdims=True)
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, reduction=reduction,
                                                     label_smoothing=smoothing),
             lambda a, b: torch_mod.nn.functional.cross_entropy(
                 a, b, reduction=reduction, label_smoothing=smoothing), [x], [p])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_nll_loss_matches_torch(torch_mod, rng, reduction, shape):
    logp = np.log(rng.dirichlet(np.ones(shape[1]), (shape[0],) + shape[2:]))
    logp = np.moveaxis(logp, -1, 1)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    _compare(torch_mod, lambda a, b: F.nll_loss(a, b, reduction=reduction),
             lambda a, b: torch_mod.nn.functional.nll_loss(a, b, reduction=reduction),
             [logp], [t])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # PyTorch's deprecation note
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(torch_mod, rng, reduction, log_target):
    logq = np.log(rng.dirichlet(np.ones(5), 3))
    p = rng.dirichlet(np.ones(5), 3)
    p[0, 1] = 0.0  # a zero-probability target contributes 0, not NaN
    target = np.log(p[1:]) if log_target else p
    logq = logq[1:] if log_target else logq
    _compare(torch_mod, lambda a, b: F.kl_div(a, b, reduction, log_target),
             lambda a, b: torch_mod.nn.functional.kl_div(a, b, reduction=reduction,
                                                         log_target=log_target),
             [logq], [target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [("huber_loss", {}), ("huber_loss", {"delta": 0.3}),
                                          ("smooth_l1_loss", {}),
                                          ("smooth_l1_loss", {"beta": 0.4}),
                                          ("smooth_l1_loss", {"beta": 0.0})])
def test_huber_and_smooth_l1_match_torch(torch_mod, rng, name, kwargs, reduction):
    x = rng.normal(size=(5, 4))
    y = x + rng.normal(scale=0.5, size=(5, 4))  # differences on both sides of delta and beta
    _compare(torch_mod, lambda a, b: getattr(F, name)(a, b, reduction=reduction, **kwargs),
             lambda a, b: getattr(torch_mod.nn.functional, name)(a, b, reduction=reduction,
                                                                 **kwargs), [x], [y])


def test_huber_loss_by_hand_and_its_bad_parameters():
    # d = 0.5 < 1: 0.125; d = 3 > 1: 1 * (3 - 0.5) = 2.5; gradients 0.5 and 1 (clamped)
    x = wg.tensor([0.5, 3.0], requires_grad=True)
    loss = F.huber_loss(x, wg.tensor([0.0, 0.0]), reduction="sum")
    assert loss.item() == pytest.approx(2.625)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0])
    with pytest.raises(wg.ArgumentError, match="huber_loss: delta must be positive"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(wg.ArgumentError, match="smooth_l1_loss: beta must be >= 0"):
        F.smooth_l1_loss(x, x, beta=-1.0)


@pytest.mark.parametrize("ours, theirs, kwargs", [
    (nn.MSELoss, "MSELoss", {}), (nn.L1Loss, "L1Loss", {"reduction": "sum"}),
    (nn.HuberLoss, "HuberLoss", {"delta": 0.5}), (nn.SmoothL1Loss, "SmoothL1Loss", {"beta": 2.0}),
    (nn.BCEWithLogitsLoss, "BCEWithLogitsLoss", {}),
    (nn.KLDivLoss, "KLDivLoss", {"reduction": "batchmean"})])
def test_loss_modules_match_torch_modules(torch_mod, rng, ours, theirs, kwargs):
    x, y = rng.normal(size=(4, 3)), rng.random((4, 3))
    _compare(torch_mod, lambda a, b: ours(**kwargs)(a, b),
             lambda a, b: getattr(torch_mod.nn, theirs)(**kwargs)(a, b), [x], [y])


def test_classification_loss_modules_match_torch_modules(torch_mod, rng):
    x, t = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    _compare(torch_mod, lambda a, b: nn.CrossEntropyLoss(label_smoothing=0.1)(a, b),
             lambda a, b: torch_mod.nn.CrossEntropyLoss(label_smoothing=0.1)(a, b), [x], [t])
    _compare(torch_mod, lambda a, b: nn.NLLLoss(reduction="sum")(wg.log_softmax(a), b),
             lambda a, b: torch_mod.nn.NLLLoss(reduction="sum")(a.log_softmax(-1), b), [x], [t])
    p = rng.uniform(0.1, 0.9, (6, 4))
    y = rng.random((6, 4))
    _compare(torch_mod, lambda a, b: nn.BCELoss()(a, b), lambda a, b: torch_mod.nn.BCELoss()(a, b),
             [p], [y])


def test_loss_module_repr():
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1)) == \
        "CrossEntropyLoss(reduction='mean', label_smoothing=0.1)"


# --- PyTorch's weight, ignore_index and pos_weight options ------------------------------------
def _targets(rng, shape, ignore):
    """Class indices for logits of ``shape`` (classes on axis 1); with ``ignore`` not None,
    every third one (flat order, the first included) set to it."""
    classes = shape[1] if len(shape) > 1 else shape[0]
    t = rng.integers(0, classes, (shape[0],) + shape[2:] if len(shape) > 1 else ())
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


CLASS_OPTIONS = {"weight": ({"weight": True}, None), "ignored (-100)": ({}, -100),
                 "ignore_index=1": ({"ignore_index": 1}, 1),
                 "weight, ignore_index=2": ({"weight": True, "ignore_index": 2}, 2)}


def _class_options(rng, shape, option):
    kwargs, ignore = CLASS_OPTIONS[option]
    kwargs = dict(kwargs)
    if kwargs.get("weight"):  # positive, with a zero: a class that counts for nothing
        kwargs["weight"] = np.r_[0.0, rng.uniform(0.2, 3.0, shape[1 if len(shape) > 1 else 0]
                                                  - 1)]
    return kwargs, _targets(rng, shape, ignore)


def _torch_kwargs(torch, kwargs):
    return {k: torch.as_tensor(v) if k == "weight" else v for k, v in kwargs.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("option", sorted(CLASS_OPTIONS))
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_cross_entropy_weight_and_ignore_index_match_torch(torch_mod, rng, reduction,
                                                           smoothing, option, shape):
    x = rng.normal(0, 2, shape)
    kwargs, t = _class_options(rng, shape, option)
    tkwargs = _torch_kwargs(torch_mod, kwargs)
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, reduction=reduction,
                                                     label_smoothing=smoothing, **kwargs),
             lambda a, b: torch_mod.nn.functional.cross_entropy(
                 a, b, reduction=reduction, label_smoothing=smoothing, **tkwargs), [x], [t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_weight_one_sample_matches_torch(torch_mod, rng, reduction, smoothing):
    x, w = rng.normal(0, 2, 5), rng.uniform(0.2, 3, 5)
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, w, reduction=reduction,
                                                     label_smoothing=smoothing),
             lambda a, b: torch_mod.nn.functional.cross_entropy(
                 a, b, torch_mod.as_tensor(w), reduction=reduction, label_smoothing=smoothing),
             [x], [np.array(3)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (4,)])
def test_cross_entropy_probability_targets_with_weight_match_torch(torch_mod, rng, reduction,
                                                                   smoothing, shape):
    x = rng.normal(0, 2, shape)
    p = rng.random(shape)
    p /= p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    w = rng.uniform(0.2, 3.0, shape[1] if len(shape) > 1 else shape[0])
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, weight=w, reduction=reduction,
                                                     label_smoothing=smoothing,
                                                     ignore_index=-5),
             lambda a, b: torch_mod.nn.functional.cross_entropy(
                 a, b, weight=torch_mod.as_tensor(w), reduction=reduction,
                 label_smoothing=smoothing, ignore_index=-5), [x], [p])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", sorted(CLASS_OPTIONS))
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5)])
def test_nll_loss_weight_and_ignore_index_match_torch(torch_mod, rng, reduction, option, shape):
    logp = np.moveaxis(np.log(rng.dirichlet(np.ones(shape[1]), (shape[0],) + shape[2:])), -1, 1)
    kwargs, t = _class_options(rng, shape, option)
    tkwargs = _torch_kwargs(torch_mod, kwargs)
    _compare(torch_mod, lambda a, b: F.nll_loss(a, b, reduction=reduction, **kwargs),
             lambda a, b: torch_mod.nn.functional.nll_loss(a, b, reduction=reduction, **tkwargs),
             [logp], [t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_weight_one_sample_matches_torch(torch_mod, rng, reduction):
    logp, w = np.log(rng.dirichlet(np.ones(5))), rng.uniform(0.2, 3, 5)
    _compare(torch_mod, lambda a, b: F.nll_loss(a, b, w, reduction=reduction),
             lambda a, b: torch_mod.nn.functional.nll_loss(a, b, torch_mod.as_tensor(w),
                                                           reduction=reduction),
             [logp], [np.array(2)])


def test_nll_loss_ignored_row_may_hold_minus_infinity(strict_numpy):
    logp = t64([[-np.inf, 0.0], [np.log(0.25), np.log(0.75)]])
    loss = F.nll_loss(logp, np.array([-100, 1]), weight=np.array([1.0, 2.0]))
    assert loss.item() == pytest.approx(-np.log(0.75), rel=1e-14)  # 2 (-log .75) / 2
    loss.backward()
    np.testing.assert_array_equal(logp.grad.data, [[0.0, 0.0], [0.0, -1.0]])


def test_ignore_index_outside_the_classes_matches_torch(torch_mod, rng):
    """PyTorch ignores targets equal to ignore_index even where no class has that index;
    the other targets must still be classes."""
    x = rng.normal(size=(4, 3))
    t = np.array([7, 1, 7, 2])
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, ignore_index=7),
             lambda a, b: torch_mod.nn.functional.cross_entropy(a, b, ignore_index=7), [x], [t])
    with pytest.raises(wg.ShapeError, match=r"class indices must be in \[0, 3\).*\[1, 5\]"
                                            r".*ignore_index=7"):
        F.cross_entropy(t64(x), np.array([7, 1, 5, 2]), ignore_index=7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape, pos_weight_shape", [
    ((3,), None), (None, (3,)), ((4, 3), (3,)), ((4, 1), (1, 3)), ((), (4, 3))])
def test_bce_with_logits_weight_and_pos_weight_match_torch(torch_mod, rng, reduction,
                                                           weight_shape, pos_weight_shape):
    x, y = rng.normal(0, 3, (4, 3)), rng.random((4, 3))
    kwargs = {k: rng.uniform(0.2, 4.0, s) for k, s in (("weight", weight_shape),
                                                      ("pos_weight", pos_weight_shape))
              if s is not None}
    tkwargs = {k: torch_mod.as_tensor(v) for k, v in kwargs.items()}
    # the target is differentiated too: PyTorch gives it a gradient
    _compare(torch_mod, lambda a, b: F.binary_cross_entropy_with_logits(
                 a, b, reduction=reduction, **kwargs),
             lambda a, b: torch_mod.nn.functional.binary_cross_entropy_with_logits(
                 a, b, reduction=reduction, **tkwargs), [x, y], [])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [(4, 3), (3,), (4, 1), ()])
def test_bce_weight_matches_torch(torch_mod, rng, reduction, weight_shape):
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.random((4, 3))
    w = rng.uniform(0.2, 4.0, weight_shape)
    _compare(torch_mod, lambda a, b: F.binary_cross_entropy(a, b, w, reduction=reduction),
             lambda a, b: torch_mod.nn.functional.binary_cross_entropy(
                 a, b, torch_mod.as_tensor(w), reduction=reduction), [p], [y])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bce_with_logits_pos_weight_stable_at_1e4(torch_mod, strict_numpy, dtype):
    x = np.array([-1e4, 1e4, -1e4, 1e4, 0.0], dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0], dtype)
    pw, w = np.array([3.0, 3.0, 0.5, 0.5, 3.0]), np.array([2.0, 2.0, 1.0, 1.0, 1.0])
    xt = wg.tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt, y, weight=w, pos_weight=pw, reduction="none")
    loss.sum().backward()
    tx = torch_mod.tensor(x, requires_grad=True)
    tloss = torch_mod.nn.functional.binary_cross_entropy_with_logits(
        tx, torch_mod.as_tensor(y), weight=torch_mod.as_tensor(w, dtype=tx.dtype),
        pos_weight=torch_mod.as_tensor(pw, dtype=tx.dtype), reduction="none")
    tloss.sum().backward()
    assert loss.dtype == np.dtype(dtype) and xt.grad.dtype == np.dtype(dtype)
    # 2 * 3 * 1e4, 2 * 1e4, 0, 0, 3 log 2; gradients w (p y (sigmoid - 1) + (1 - y) sigmoid)
    np.testing.assert_allclose(loss.data, [6e4, 2e4, 0.0, 0.0, 3 * np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(xt.grad.data, [-6.0, 2.0, 0.0, 0.0, -1.5], rtol=1e-6)
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-6)


FLOAT32_CASES = {  # name: (input kind, our loss, PyTorch's); t has ignored targets
    "cross_entropy": ("logits", lambda F, T, a, t, p, y, w: F.cross_entropy(
        a, T(t), weight=T(w), label_smoothing=0.1)),
    "cross_entropy, probabilities": ("logits", lambda F, T, a, t, p, y, w: F.cross_entropy(
        a, T(p), weight=T(w))),
    "nll_loss": ("log p", lambda F, T, a, t, p, y, w: F.nll_loss(a, T(t), weight=T(w))),
    "bce_with_logits": ("logits", lambda F, T, a, t, p, y, w: F.binary_cross_entropy_with_logits(
        a, T(y), weight=T(w), pos_weight=T(w))),
    "bce": ("p", lambda F, T, a, t, p, y, w: F.binary_cross_entropy(a, T(y), weight=T(w))),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_loss_options_keep_float32(torch_mod, rng, name):
    """float32 in, float32 out (value and gradient), with weights given in float64."""
    p = rng.dirichlet(np.ones(4), 6).astype(np.float32)
    inputs = {"logits": rng.normal(0, 2, (6, 4)).astype(np.float32), "log p": np.log(p), "p": p}
    kind, loss_fn = FLOAT32_CASES[name]
    data = dict(t=np.array([0, -100, 2, 3, 1, -100]), p=p,
                y=rng.random((6, 4)).astype(np.float32), w=rng.uniform(0.5, 2, 4))
    a = wg.tensor(inputs[kind], requires_grad=True)
    loss = loss_fn(F, lambda v: v, a, **data)
    loss.backward()
    assert loss.dtype == np.float32 and a.grad.dtype == np.float32
    ta = torch_mod.tensor(inputs[kind], requires_grad=True)

    def to_torch(v):  # PyTorch wants weights of the input's dtype
        v = torch_mod.as_tensor(v)
        return v.to(torch_mod.float32) if v.is_floating_point() else v

    tloss = loss_fn(torch_mod.nn.functional, to_torch, ta, **data)
    tloss.backward()
    np.testing.assert_allclose(loss.data, tloss.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_all_ignored_targets_sum_to_zero_and_have_no_mean(torch_mod):
    x, t = t64(np.ones((2, 3))), np.array([-100, -100])
    for reduction, expected in (("sum", 0.0), ("none", [0.0, 0.0])):
        tx = torch_mod.ones((2, 3))
        np.testing.assert_array_equal(F.cross_entropy(x, t, reduction=reduction).data, expected)
        np.testing.assert_array_equal(torch_mod.nn.functional.cross_entropy(
            tx, torch_mod.as_tensor(t), reduction=reduction).numpy(), expected)
        np.testing.assert_array_equal(F.nll_loss(x, t, reduction=reduction).data, expected)
    # PyTorch's mean is 0/0 = NaN; wengert says why instead
    assert np.isnan(torch_mod.nn.functional.cross_entropy(torch_mod.ones((2, 3)),
                                                          torch_mod.as_tensor(t)).item())
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(wg.ArgumentError, match="every target equals ignore_index.*'sum'"):
            loss(x, t)
    with pytest.raises(wg.ArgumentError, match="weights of the targets not ignored sum to 0"):
        F.cross_entropy(x, np.array([0, 0]), weight=np.array([0.0, 1.0, 1.0]))
    with pytest.raises(wg.ArgumentError, match="there are no targets"):
        F.cross_entropy(t64(np.ones((0, 3))), np.zeros(0, int))


def test_ignored_rows_get_zero_gradient_with_create_graph(rng):
    """The rules written with the tensor namespace (create_graph) zero the ignored rows
    too, and agree with the plain-array rules."""
    x = t64(rng.normal(size=(4, 3)))
    t, w = np.array([0, -100, 2, 1]), np.array([1.0, 2.0, 0.5])
    (g,) = wg.autograd.grad(F.cross_entropy(x, t, weight=w, label_smoothing=0.1), [x],
                            create_graph=True)
    plain = wg.autograd.grad(F.cross_entropy(x, t, weight=w, label_smoothing=0.1), [x])[0]
    np.testing.assert_allclose(g.data, plain.data, rtol=1e-14, atol=1e-17)
    np.testing.assert_array_equal(g.data[1], 0.0)


def test_weighted_loss_modules_match_torch_modules(torch_mod, rng):
    x, w = rng.normal(size=(6, 4)), rng.uniform(0.2, 3, 4)
    t = np.array([0, 1, 3, 1, 2, -100])
    tw = torch_mod.as_tensor(w)
    pairs = [
        (nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1),
         torch_mod.nn.CrossEntropyLoss(weight=tw, ignore_index=1, label_smoothing=0.1),
         [x], [np.where(t < 0, 1, t)]),
        (nn.CrossEntropyLoss(wg.tensor(w), reduction="sum"),
         torch_mod.nn.CrossEntropyLoss(tw, reduction="sum"), [x], [t]),
        (nn.NLLLoss(weight=w, reduction="none"),
         torch_mod.nn.NLLLoss(weight=tw, reduction="none"), [x], [t]),
        (nn.BCEWithLogitsLoss(weight=w[:1], pos_weight=w),
         torch_mod.nn.BCEWithLogitsLoss(weight=tw[:1], pos_weight=tw),
         [x, rng.random((6, 4))], []),
        (nn.BCELoss(weight=w), torch_mod.nn.BCELoss(weight=tw),
         [rng.uniform(0.1, 0.9, (6, 4))], [rng.random((6, 4))]),
    ]
    for ours, theirs, inputs, others in pairs:
        _compare(torch_mod, ours, theirs, inputs, others)
        assert list(ours.state_dict()) == list(theirs.state_dict())  # weights are buffers
    assert repr(nn.CrossEntropyLoss(weight=w, ignore_index=1)) == \
        "CrossEntropyLoss(ignore_index=1, reduction='mean', label_smoothing=0.0)"
    assert repr(nn.BCEWithLogitsLoss(pos_weight=w)) == "BCEWithLogitsLoss(reduction='mean')"
    # the buffers are cast with the module; the loss then follows the input's dtype
    loss = nn.CrossEntropyLoss(weight=w).float()
    assert loss.weight.dtype == np.float32
    assert loss(wg.tensor(x, dtype="float32"), t).dtype == np.float32


def test_loss_option_errors():
    x, t = t64(np.zeros((2, 3))), np.array([0, 1])
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(wg.ShapeError, match=r"weight of shape \(4,\) does not fit 3 "
                                                r"classes.*\(3,\)"):
            loss(x, t, weight=np.ones(4))
        with pytest.raises(wg.ShapeError, match=r"weight of shape \(1, 3\)"):
            loss(x, t, weight=np.ones((1, 3)))
    with pytest.raises(wg.ShapeError, match=r"cross_entropy: weight of shape \(2,\)"):
        F.cross_entropy(x, np.full((2, 3), 1 / 3), weight=np.ones(2))
    for name in ("weight", "pos_weight"):
        with pytest.raises(wg.ShapeError, match=name + r" of shape \(2, 2, 3\) does not "
                                                r"broadcast to the input's shape \(2, 3\)"):
            F.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), **{name: np.ones((2, 2, 3))})
        with pytest.raises(wg.ShapeError, match=name + r" of shape \(2,\)"):
            F.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), **{name: np.ones(2)})
    with pytest.raises(wg.ShapeError, match=r"binary_cross_entropy: weight of shape \(4, 3\)"):
        F.binary_cross_entropy(t64(np.full((2, 3), 0.5)), np.zeros((2, 3)), np.ones((4, 3)))
    # no gradient for the weights, as PyTorch: one that requires grad is refused
    with pytest.raises(wg.ArgumentError, match=r"weight requires grad.*weight.detach\(\)"):
        F.cross_entropy(x, t, weight=wg.ones(3, requires_grad=True))
    with pytest.raises(wg.ArgumentError, match=r"pos_weight requires grad"):
        F.binary_cross_entropy_with_logits(x, np.zeros((2, 3)),
                                           pos_weight=wg.ones(3, requires_grad=True))
    # the third argument is weight now, as in PyTorch
    with pytest.raises(wg.ArgumentError, match=r"weight='sum' is not an array.*reduction='sum'"):
        F.cross_entropy(x, t, "sum")
    with pytest.raises(wg.ArgumentError, match=r"ignore_index=0 applies to class-index"):
        F.cross_entropy(x, np.full((2, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match=r"reduction='avg'"):
        F.cross_entropy(x, t, weight=np.ones(3), reduction="avg")


def test_loss_option_errors_match_torch_in_kind(torch_mod):
    """Where wengert raises for an option, PyTorch raises too (its types differ)."""
    x, t, p = torch_mod.zeros((2, 3)), torch_mod.tensor([0, 1]), torch_mod.full((2, 3), 1 / 3)
    fn = torch_mod.nn.functional
    for bad in (lambda: fn.cross_entropy(x, t, weight=torch_mod.ones(4)),
                lambda: fn.nll_loss(x, t, weight=torch_mod.ones((1, 3))),
                lambda: fn.cross_entropy(x, p, ignore_index=0),
                lambda: fn.binary_cross_entropy_with_logits(x, p, weight=torch_mod.ones(2)),
                lambda: fn.binary_cross_entropy_with_logits(x, p,
                                                            pos_weight=torch_mod.ones(2, 2, 3)),
                lambda: fn.cross_entropy(x, t, weight=torch_mod.ones(3, requires_grad=True)),
                lambda: fn.cross_entropy(x, torch_mod.tensor([0, 3]), ignore_index=7)):
        with pytest.raises((RuntimeError, ValueError, IndexError)):
            bad()


# --- the decay term ---------------------------------------------------------------------------
def test_l2_penalty_value_and_gradient():
    w1 = t64([[1.0, -2.0], [3.0, 0.5]])
    w2 = t64([[2.0], [-1.0]])
    lam = 0.1
    penalty = F.l2_penalty([w1, w2], lam)
    # lam/2 * (1 + 4 + 9 + 0.25 + 4 + 1) = 0.05 * 19.25
    assert penalty.item() == pytest.approx(0.9625, rel=1e-14)
    penalty.backward()
    np.testing.assert_allclose(w1.grad.data, lam * w1.data)
    np.testing.assert_allclose(w2.grad.data, lam * w2.data)


# --- errors -----------------------------------------------------------------------------------
def test_unknown_reduction_lists_allowed_values():
    with pytest.raises(ValueError, match="reduction='avg'.*'mean', 'sum', 'none'") as info:
        F.mse_loss(t64([1.0]), np.ones(1), reduction="avg")
    assert isinstance(info.value, wg.WengertError)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(wg.ShapeError, match=r"mse_loss.*\(4, 1\).*\(4,\)"):
        F.mse_loss(t64(np.zeros((4, 1))), np.zeros(4))


def test_class_index_out_of_range():
    with pytest.raises(wg.ShapeError, match=r"class indices must be in \[0, 3\).*\[0, 3\]"):
        F.cross_entropy(t64(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(wg.ShapeError, match=r"nll_loss.*\[0, 3\)"):
        F.nll_loss(t64(np.zeros((2, 3))), np.array([-1, 0]))


def test_cross_entropy_target_errors():
    with pytest.raises(wg.ShapeError, match=r"targets of shape \(3,\).*need shape \(2,\)"):
        F.cross_entropy(t64(np.zeros((2, 3))), np.array([0, 1, 2]))
    with pytest.raises(wg.ShapeError, match="probability targets"):
        F.cross_entropy(t64(np.zeros((2, 3))), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="label_smoothing=1.5"):
        F.cross_entropy(t64(np.zeros((2, 3))), np.array([0, 1]), label_smoothing=1.5)


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"\[0, 1\].*binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(t64([0.5, 1.5]), np.ones(2))


@pytest.mark.parametrize("bad", [[0.5, 1.5], [-0.1, 0.5], [0.5, np.nan]])
def test_bce_refuses_inputs_and_targets_outside_zero_one_or_nan_as_torch(torch_mod, bad):
    fn = torch_mod.nn.functional.binary_cross_entropy
    good = [0.5, 0.5]
    for p, y, which in ((bad, good, "input"), (good, bad, "target")):
        with pytest.raises(RuntimeError, match=f"{which} should be between 0 and 1"):
            fn(torch_mod.tensor(p), torch_mod.tensor(y))
        with pytest.raises(wg.ArgumentError, match=rf"binary_cross_entropy: {which} "
                                                   r"probabilities must be in \[0, 1\]"):
            F.binary_cross_entropy(t64(p), t64(y, requires_grad=False))


def test_cross_entropy_gradient_from_the_saved_softmax_survives_a_retained_graph(rng):
    """The rule on arrays builds the gradient in a softmax divided out of what the forward saved:
    a second backward through the retained graph gets the same gradient, softmax - one_hot
    over the batch, and the node lets those residuals go once the graph is freed."""
    logits, t = rng.normal(0, 2, (5, 4)), rng.integers(0, 4, 5)
    x = t64(logits)
    loss = F.cross_entropy(x, t)
    node = loss._node
    while node.prim.name != "softmax_cross_entropy":  # reach the fused op under the mean
        node = node.inputs[0]._node
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    x.grad = None
    loss.backward()
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expected = (p - np.eye(4)[t]) / 5
    np.testing.assert_allclose(first, expected, rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(x.grad.data, first)
    assert node.residuals is None


def test_cross_entropy_on_plain_arrays_returns_the_loss_alone(rng):
    from wengert.autodiff.primitive import ARRAY
    logits, t = rng.normal(size=(3, 4)), rng.integers(0, 4, 3)
    loss = ARRAY.softmax_cross_entropy(logits, t)
    z = logits - logits.max(axis=1, keepdims=True)
    np.testing.assert_allclose(loss, np.log(np.exp(z).sum(axis=1)) - z[np.arange(3), t],
                               rtol=1e-14)
