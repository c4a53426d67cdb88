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
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, reduction, smoothing),
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
    _compare(torch_mod, lambda a, b: F.cross_entropy(a, b, reduction, smoothing),
             lambda a, b: torch_mod.nn.functional.cross_entropy(
                 a, b, reduction=reduction, label_smoothing=smoothing), [x], [p])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_nll_loss_matches_torch(torch_mod, rng, reduction, shape):
    logp = np.log(rng.dirichlet(np.ones(shape[1]), (shape[0],) + shape[2:]))
    logp = np.moveaxis(logp, -1, 1)
    t = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    _compare(torch_mod, lambda a, b: F.nll_loss(a, b, reduction),
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


@pytest.mark.parametrize("ours, theirs, kwargs", [
    (nn.MSELoss, "MSELoss", {}), (nn.L1Loss, "L1Loss", {"reduction": "sum"}),
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
