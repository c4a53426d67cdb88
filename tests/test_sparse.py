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
