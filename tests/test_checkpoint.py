"""Gradient checkpointing: same gradients (first and second order), no stored intermediates,
the same random numbers in the recomputation, and captured weights refused."""
import numpy as np
import pytest

import wengert as wg
from wengert.errors import ArgumentError, GraphError
from wengert.functional import hessian
from wengert.random import default_generator
from wengert.recompute import checkpoint
from wengert.walk import walk


def _layer(h, w, b):
    return wg.tanh(h @ w + b) * wg.sigmoid(h @ w)


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [wg.tensor(a, requires_grad=True) for a in
            (rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3),
             rng.standard_normal((3, 2)), rng.standard_normal(2))]


def _loss(x, w1, b1, w2, b2, use_checkpoint):
    run = checkpoint if use_checkpoint else (lambda fn, *a: fn(*a))
    h = run(_layer, x, w1, b1)
    return (run(_layer, h, w2, b2) ** 2).sum()


def test_gradients_equal_with_and_without_checkpoint(torch_mod):
    grads = []
    for use in (False, True):
        params = _params()
        _loss(*params, use).backward()
        grads.append([p.grad.data for p in params])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    tp = [torch_mod.tensor(p.data, requires_grad=True) for p in _params()]

    def t_layer(h, w, b):
        return torch_mod.tanh(h @ w + b) * torch_mod.sigmoid(h @ w)
    (t_layer(t_layer(tp[0], tp[1], tp[2]), tp[3], tp[4]) ** 2).sum().backward()
    for a, t in zip(grads[1], tp):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-10)


def test_second_derivatives_through_a_checkpoint():
    _, w1, b1, _, _ = [p.detach() for p in _params()]
    x = np.array([[0.3, -0.2, 0.5]])
    plain = hessian(lambda x: _layer(x, w1, b1).sum())(x)
    ckpt = hessian(lambda x: checkpoint(_layer, x, w1, b1).sum())(x)
    np.testing.assert_allclose(ckpt.data, plain.data, rtol=1e-12)


def test_segment_keeps_no_intermediates():
    params = _params()
    plain = walk([_layer(*params[:3])])
    ckpt = walk([checkpoint(_layer, *params[:3])])
    assert len([t for t in plain if t._node is not None]) == 6  # matmul x2, add, tanh, sig, mul
    nodes = [t for t in ckpt if t._node is not None]
    assert len(nodes) == 1 and nodes[0]._node.name == "checkpoint(_layer)"


def test_recomputation_sees_the_same_random_numbers():
    def noisy(h):
        return h * wg.rand(*h.shape, dtype="float64")  # a dropout-like random mask

    x = wg.tensor(np.ones(5), requires_grad=True)
    wg.manual_seed(3)
    y = checkpoint(noisy, x)
    mask = y.data.copy()
    wg.rand(7)  # the generator moves on before backward
    after = default_generator().get_state()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, mask)  # d(x * mask)/dx = the same mask
    assert default_generator().get_state() == after  # and the generator is left where it was


def test_captured_weights_and_bad_outputs_are_refused():
    x, w1, b1, _, _ = _params()
    with pytest.raises(GraphError, match=r"not among its arguments \(shapes \(3, 3\), \(3,\)\)"):
        checkpoint(lambda h: _layer(h, w1, b1), x).sum().backward()
    with pytest.raises(ArgumentError, match="one Tensor"):
        checkpoint(lambda h: (h, h), x)


def test_integer_tensor_arguments_pass_through_reverse_forward_and_second_order(torch_mod):
    # Token ids as a tensor argument (as torch.utils.checkpoint takes them) get no gradient;
    # they used to be tracked like weights, which only floats can be.
    import wengert.nn.functional as F
    rng = np.random.default_rng(0)
    ids_np, w_np = np.array([[1, 3], [3, 0]]), rng.standard_normal((4, 3))
    ids, w = wg.tensor(ids_np), wg.tensor(w_np, requires_grad=True)

    def segment(ids, w):
        return wg.tanh(F.embedding(ids, w)) ** 2

    checkpoint(segment, ids, w).sum().backward()
    assert ids.grad is None
    tw = torch_mod.tensor(w_np, requires_grad=True)
    torch_mod.utils.checkpoint.checkpoint(
        lambda i, w: torch_mod.tanh(torch_mod.nn.functional.embedding(i, w)) ** 2,
        torch_mod.tensor(ids_np), tw, use_reentrant=False).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-12)
    ours = hessian(lambda w: checkpoint(segment, ids, w).sum())(w_np)
    theirs = torch_mod.autograd.functional.hessian(
        lambda w: (torch_mod.tanh(torch_mod.nn.functional.embedding(
            torch_mod.tensor(ids_np), w)) ** 2).sum(), torch_mod.tensor(w_np))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, atol=1e-14)
    from wengert.check import gradcheck
    assert gradcheck(lambda w: checkpoint(segment, ids, w), w_np, order=2).passed
