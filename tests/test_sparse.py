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
