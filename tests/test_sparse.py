"""Row-sparse gradients and the scatter that applies them."""
import numpy as np
import pytest

from wengert.sparse import RowSparse, scatter_add_rows


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_add_rows_equals_numpy_add_at(seed, dtype):
    rng = np.random.default_rng(seed)
    target = rng.standard_normal((50, 7)).astype(dtype)
    indices = rng.integers(0, 50, 400)          # many repeats
    indices[:30] = 3                           # one row repeated 30+ times
    values = rng.standard_normal((400, 7)).astype(dtype)
    expected = target.copy()
    np.add.at(expected, indices, values)
    untouched = np.setdiff1d(np.arange(50), indices)
    before = target[untouched].copy()
    scatter_add_rows(target, indices, values)
    np.testing.assert_allclose(target, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(target[untouched], before)  # other rows bit-identical


def test_scatter_add_rows_empty_and_row_sparse_densify():
    target = np.ones((3, 2))
    scatter_add_rows(target, np.array([], dtype=np.int64), np.zeros((0, 2)))
    np.testing.assert_array_equal(target, np.ones((3, 2)))
    g = RowSparse([2, 0, 2], np.arange(6.0).reshape(3, 2), (3, 2))
    np.testing.assert_array_equal(g.to_dense(), [[2, 3], [0, 0], [4, 6]])


@pytest.mark.parametrize("sparse_first", [True, False])
def test_a_weight_with_a_sparse_and_a_dense_gradient_sums_them(sparse_first):
    # W feeds a sparse embedding lookup and (W * W).sum(); the engine meets the two
    # gradients in either order. By hand: 2 W, plus 1 per lookup of a row (row 1 twice).
    import wengert as wg
    import wengert.nn.functional as F
    W = wg.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    lookup = F.embedding(np.array([1, 3, 1]), W, sparse=True).sum()
    square = (W * W).sum()
    (lookup + square if sparse_first else square + lookup).backward()
    expected = 2 * np.arange(8.0).reshape(4, 2) + np.array([[0], [2], [0], [1]])
    np.testing.assert_array_equal(W.grad.data, expected)


def test_row_sparse_addition_densifies_from_either_side_and_checks_shapes():
    from wengert.errors import ShapeError
    g = RowSparse([2, 0, 2], np.arange(6.0).reshape(3, 2), (3, 2))
    dense = np.ones((3, 2), dtype=np.float32)
    expected = [[3, 4], [1, 1], [5, 7]]
    for total in (g + dense, dense + g):
        assert type(total) is np.ndarray and total.dtype == np.float64
        np.testing.assert_array_equal(total, expected)
    with pytest.raises(ShapeError, match=r"shape \(9, 2\) to one of shape \(3, 2\)"):
        g + RowSparse([0], np.ones((1, 2)), (9, 2))
    with pytest.raises(ShapeError, match=r"shape \(2,\) to one of shape \(3, 2\)"):
        np.ones(2) + g


# --- a sparse embedding gradient reaching a non-leaf, hooks, retain_grad, autograd.grad -------
# Against torch.nn.functional.embedding(..., sparse=True) where torch supports the case; its
# sparse gradients are compared through .to_dense(). Rows 1 and 3 are looked up, row 1 twice.
IDX = np.array([1, 3, 1])
BASE = np.arange(8.0).reshape(4, 2) / 4 - 0.5


def _dense(g):
    """A gradient as an array: wengert's Tensor, RowSparse or array, or torch's (sparse too)."""
    if type(g) is RowSparse:
        return g.to_dense()
    if type(g).__module__.startswith("torch"):
        g = g.detach()
        return (g.to_dense() if g.is_sparse else g).numpy()
    return np.asarray(g.data)


def _lookup(lib, weight, idx=IDX):
    if lib.__name__ == "torch":
        import torch.nn.functional as TF
        return TF.embedding(lib.tensor(idx), weight, sparse=True)
    import wengert.nn.functional as F
    return F.embedding(idx, weight, sparse=True)


def _both(torch_mod):
    import wengert as wg
    return [(wg, wg.tensor(BASE.copy(), requires_grad=True)),
            (torch_mod, torch_mod.tensor(BASE.copy(), requires_grad=True))]


@pytest.mark.parametrize("make", ["mul", "exp", "add"])
def test_a_sparse_gradient_into_a_non_leaf_weight_reaches_its_leaf(torch_mod, make):
    grads = []
    for lib, b in _both(torch_mod):
        w = {"mul": lambda: b * 2, "exp": lambda: b.exp(), "add": lambda: b + 1}[make]()
        (_lookup(lib, w) * 3).sum().backward()
        grads.append(_dense(b.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    assert grads[0][0].tolist() == [0, 0]  # a row not looked up gets nothing


@pytest.mark.parametrize("dense_first", [True, False])
def test_sparse_and_dense_gradients_accumulate_into_a_non_leaf(torch_mod, dense_first):
    # two sparse lookups (concatenated rows) and a dense path into w, in either order
    grads = []
    for lib, b in _both(torch_mod):
        w = b * 2
        sparse = _lookup(lib, w).sum() + (_lookup(lib, w, IDX[:1]) ** 2).sum()
        dense = (w * w).sum()
        (dense + sparse if dense_first else sparse + dense).backward()
        grads.append(_dense(b.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_sparse_gradient_with_a_slice_gradient_and_padding_into_a_non_leaf(torch_mod):
    import wengert as wg
    import wengert.nn.functional as F
    import torch.nn.functional as TF
    idx = np.array([1, 0, 3, 1])
    b, tb = wg.tensor(BASE.copy(), requires_grad=True), torch_mod.tensor(BASE.copy(),
                                                                          requires_grad=True)
    w, tw = b * 2, tb * 2
    (F.embedding(idx, w, padding_idx=0, sparse=True).sum() + w[1].sum()).backward()
    (TF.embedding(torch_mod.tensor(idx), tw, padding_idx=0, sparse=True).sum()
     + tw[1].sum()).backward()
    np.testing.assert_allclose(_dense(b.grad), _dense(tb.grad), rtol=1e-12)


def test_retain_grad_on_a_non_leaf_keeps_the_sparse_gradient(torch_mod):
    out = []
    for lib, b in _both(torch_mod):
        w = b * 2
        w.retain_grad()
        loss = (_lookup(lib, w) ** 2).sum()
        loss.backward(retain_graph=True)
        loss.backward()  # a second pass adds to both
        out.append((w.grad, b.grad))
    (w_grad, b_grad), (tw_grad, tb_grad) = out
    assert type(w_grad) is RowSparse and tw_grad.is_sparse
    np.testing.assert_allclose(_dense(w_grad), _dense(tw_grad), rtol=1e-12)
    np.testing.assert_allclose(_dense(b_grad), _dense(tb_grad), rtol=1e-12)


def test_backward_with_inputs_a_non_leaf_weight(torch_mod):
    out = []
    for lib, b in _both(torch_mod):
        w = b * 2
        _lookup(lib, w).sum().backward(inputs=[w])
        out.append((w.grad, b.grad))
    (w_grad, b_grad), (tw_grad, tb_grad) = out
    assert type(w_grad) is RowSparse and b_grad is None and tb_grad is None
    np.testing.assert_allclose(_dense(w_grad), _dense(tw_grad), rtol=1e-12)


def test_hooks_see_a_sparse_gradient_dense_and_may_replace_it(torch_mod):
    # a non-leaf's hook scaling the gradient: torch's g * 3 is sparse, ours dense, same values
    grads = []
    for lib, b in _both(torch_mod):
        w = b * 2
        w.register_hook(lambda g: g * 3)
        _lookup(lib, w).sum().backward()
        grads.append(_dense(b.grad))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    # on a leaf: a hook that only looks leaves .grad sparse; one that returns replaces it
    seen, replaced = [], []
    for lib, b in _both(torch_mod):
        b.register_hook(lambda g: seen.append(_dense(g)))
        _lookup(lib, b).sum().backward()
        c = lib.tensor(BASE.copy(), requires_grad=True)
        c.register_hook(lambda g: g * 3)
        _lookup(lib, c).sum().backward()
        replaced.append(_dense(c.grad))
        if lib.__name__ == "wengert":
            assert type(b.grad) is RowSparse
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-12)
    np.testing.assert_allclose(replaced[0], replaced[1], rtol=1e-12)


def test_autograd_grad_with_respect_to_a_non_leaf_weight_and_its_leaf(torch_mod):
    out = []
    for lib, b in _both(torch_mod):
        w = b.exp()
        out.append(lib.autograd.grad((_lookup(lib, w) ** 2).sum(), [w, b]))
    (gw, gb), (tgw, tgb) = out
    assert type(gw) is RowSparse and tgw.is_sparse
    np.testing.assert_allclose(_dense(gw), _dense(tgw), rtol=1e-12)
    np.testing.assert_allclose(_dense(gb), _dense(tgb), rtol=1e-12)


def test_create_graph_through_a_non_leaf_weight_second_order(torch_mod):
    out = []
    for lib, b in _both(torch_mod):
        w = b * b
        gb, = lib.autograd.grad((_lookup(lib, w) ** 2).sum(), b, create_graph=True)
        dense = gb.to_dense() if lib is torch_mod else gb
        ggb, = lib.autograd.grad((dense * dense).sum(), b)
        out.append((gb, ggb))
    (gb, ggb), (tgb, tggb) = out
    np.testing.assert_allclose(_dense(gb), _dense(tgb), rtol=1e-12)
    np.testing.assert_allclose(_dense(ggb), _dense(tggb), rtol=1e-12)


@pytest.mark.parametrize("non_leaf", [False, True])
def test_batched_autograd_grad_stacks_sparse_gradients_dense(non_leaf):
    # torch refuses is_grads_batched through a sparse embedding; by hand, seed s gives
    # scale * (s's rows added at their indices), scale 2 through w = b * 2
    import wengert as wg
    b = wg.tensor(BASE.copy(), requires_grad=True)
    w = b * 2 if non_leaf else b
    seeds = np.arange(12.0).reshape(2, 3, 2)
    g, = wg.autograd.grad(_lookup(wg, w), b, grad_outputs=wg.tensor(seeds),
                          is_grads_batched=True)
    expected = np.zeros((2, 4, 2))
    for k in range(2):
        np.add.at(expected[k], IDX, seeds[k])
    assert g.shape == (2, 4, 2) and g.dtype == np.float64
    np.testing.assert_array_equal(g.data, expected * (2 if non_leaf else 1))


def test_a_sparse_gradient_into_a_function_and_a_unit(torch_mod):
    # their backward takes a dense gradient: 2 g for y = 2 x, as torch's dense lookup gives
    import wengert as wg
    import torch.nn.functional as TF

    class Double(wg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            assert isinstance(g, wg.Tensor) and type(g.data) is np.ndarray
            return g * 2

    double = wg.unit(lambda x: x * 2, back=lambda dy, y, x: dy * 2)
    tb = torch_mod.tensor(BASE.copy(), requires_grad=True)
    (TF.embedding(torch_mod.tensor(IDX), tb * 2) ** 2).sum().backward()
    for make in (Double.apply, double):
        b = wg.tensor(BASE.copy(), requires_grad=True)
        (_lookup(wg, make(b)) ** 2).sum().backward()
        np.testing.assert_allclose(b.grad.data, _dense(tb.grad), rtol=1e-12)
