"""The Tensor API: creation, attributes, dtype rules, operators, indexing, conversions,
random numbers, and the bad-input errors of the core."""
import numpy as np
import pytest

import wengert as wg


def test_creation_functions():
    assert wg.zeros(2, 3).shape == (2, 3) and wg.zeros((2, 3)).dtype == np.float32
    np.testing.assert_array_equal(wg.ones(2).data, [1, 1])
    np.testing.assert_array_equal(wg.full((2,), 7.0).data, [7, 7])
    np.testing.assert_array_equal(wg.arange(4).data, [0, 1, 2, 3])
    assert wg.arange(4).dtype == np.int64 and wg.arange(0.0, 1.0, 0.5).dtype == np.float32
    np.testing.assert_allclose(wg.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(wg.eye(2).data, [[1, 0], [0, 1]])
    t = wg.tensor([[1.0, 2.0]], dtype="float64")
    assert wg.zeros_like(t).dtype == np.float64 and wg.ones_like(t).shape == (1, 2)
    np.testing.assert_array_equal(wg.full_like(t, 3).data, [[3, 3]])
    assert wg.zeros(3, requires_grad=True).requires_grad


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = wg.tensor(a)
    a[0] = 5
    assert t.data[0] == 1.0


def test_dtype_rules():
    assert wg.tensor(1.5).dtype == np.float32          # Python floats -> float32 (PyTorch)
    assert wg.tensor([1, 2]).dtype == np.int64
    assert wg.tensor([True]).dtype == np.bool_
    assert wg.tensor(np.array([1.0])).dtype == np.float64   # NumPy arrays keep their dtype
    x32 = wg.tensor([1.0, 2.0])
    assert (x32 * 2.5).dtype == np.float32             # a Python scalar does not upcast
    assert (x32 + np.float64(1)).dtype == np.float64   # NEP 50: NumPy scalars are strong
    assert (x32 + np.array([1.0, 1.0])).dtype == np.float64
    assert (x32.astype("float64")).dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(wg.DTypeError, match=r"int64.*\(2,\).*float"):
        wg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError):  # also a TypeError, for callers catching built-ins
        wg.arange(3).requires_grad_()


def test_unknown_dtype():
    with pytest.raises(wg.DTypeError, match="unknown dtype 'float128x'"):
        wg.zeros(2, dtype="float128x")
    with pytest.raises(wg.DTypeError, match="cannot make a tensor"):
        wg.tensor(["a", "b"])


def test_attributes():
    t = wg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert (t.shape, t.ndim, t.size, t.dtype) == ((1, 3), 2, 3, np.float32)
    assert t.is_leaf and t.grad is None
    assert t.T.shape == (3, 1)
    assert (t * 2).is_leaf is False
    assert isinstance(t.data, np.ndarray)
    assert "requires_grad=True" in repr(t)
    assert "grad_fn=<multiply>" in repr(t * 2)


def test_conversions():
    t = wg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.tolist() == [[1, 2], [3, 4]]
    assert np.asarray(t) is t.data
    assert len(t) == 2
    assert [r.tolist() for r in t] == [[1, 2], [3, 4]]
    assert float(wg.tensor([2.5])) == 2.5 and bool(wg.tensor(1.0)) is True
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="one element"):
        t.item()
    with pytest.raises(wg.GraphError, match="detach"):
        wg.tensor([1.0], requires_grad=True).numpy()
    c = t.clone()
    c.data[0, 0] = 9
    assert t.data[0, 0] == 1


def test_operators_with_scalars_and_arrays():
    x = wg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    a = np.array([3.0, 4.0])
    y = (2 - x) * a + 1 / x + x ** 2 - (a / x) + (-x) + abs(x) + 2 ** x + a @ x
    np.testing.assert_allclose(y.data, (2 - x.data) * a + 1 / x.data + x.data ** 2 - a / x.data
                               - x.data + abs(x.data) + 2 ** x.data + a @ x.data)
    assert isinstance(a * x, wg.Tensor) and (a * x).requires_grad  # reflected from NumPy
    y.sum().backward()
    expected = -a - 1 / x.data ** 2 + 2 * x.data + a / x.data ** 2 - 1 + np.sign(x.data) \
        + np.log(2) * 2 ** x.data + 2 * a  # a @ x is a scalar broadcast to both entries
    np.testing.assert_allclose(x.grad.data, expected)


def test_comparisons_give_bool_tensors_without_grad():
    x = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    np.testing.assert_array_equal((x == 2).data, [False, True, False])
    np.testing.assert_array_equal(((x > 1) & (x < 3)).data, [False, True, False])
    np.testing.assert_array_equal((~(x > 1)).data, [True, False, False])


def test_getitem_scatter_add_with_repeated_indices():
    x = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[0, 0, 2, 0]]
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 0, 1])
    x.grad = None
    x[wg.tensor([True, False, True])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 1])


def test_setitem_without_grad_and_inplace_ops():
    t = wg.zeros(3)
    t[1] = 5.0
    t += 1
    t *= 2
    t -= 1
    t /= 2
    np.testing.assert_allclose(t.data, [0.5, 5.5, 0.5])
    assert t.version == 5


def test_shape_methods():
    t = wg.arange(6).astype("float32")
    assert t.reshape(2, 3).shape == (2, 3) and t.reshape((3, 2)).shape == (3, 2)
    m = t.reshape(2, 3)
    assert m.transpose().shape == (3, 2) and m.permute(1, 0).shape == (3, 2)
    assert m.unsqueeze(0).shape == (1, 2, 3) and m.unsqueeze(0).squeeze().shape == (2, 3)
    assert m.flatten().shape == (6,) and wg.flatten(wg.zeros(2, 3, 4), 1).shape == (2, 12)
    a, b = wg.split(m, 3, axis=1)[0], wg.split(m, [1], axis=0)[1]
    assert a.shape == (2, 1) and b.shape == (1, 3)
    assert wg.concatenate([m, m], axis=0).shape == (4, 3) and wg.stack([m, m]).shape == (2, 2, 3)
    assert m.mT.shape == (3, 2)


def test_transpose_with_two_dims_swaps_them_as_torch(torch_mod):
    a = np.arange(24.0).reshape(2, 3, 4)
    for dims in [(0, 1), (1, 2), (-1, 0), (2, 2)]:
        mine = wg.tensor(a).transpose(*dims)
        theirs = torch_mod.tensor(a).transpose(*dims)
        np.testing.assert_array_equal(mine.data, theirs.numpy())
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(wg.tensor(m).transpose(0, 1).data, m.T)  # a swap, not NumPy's identity
    np.testing.assert_array_equal(wg.tensor(a).transpose((2, 0, 1)).data, a.transpose(2, 0, 1))
    np.testing.assert_array_equal(wg.tensor(a).transpose(2, 0, 1).data, a.transpose(2, 0, 1))


def test_reduction_methods_and_tie_rule():
    x = wg.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0.5, 0.5], [0, 0, 0]])  # ties share
    assert x.argmax(axis=1).tolist() == [1, 0]
    assert x.sum(axis=0).tolist() == [3, 3, 4]
    np.testing.assert_allclose(x.std().item(), np.std(x.data), rtol=1e-6)


def test_random_is_reproducible():
    wg.manual_seed(123)
    a = wg.randn(3)
    wg.manual_seed(123)
    b = wg.randn(3)
    np.testing.assert_array_equal(a.data, b.data)
    g1, g2 = wg.Generator(7), wg.Generator(7)
    np.testing.assert_array_equal(wg.rand(4, generator=g1).data, wg.rand(4, generator=g2).data)
    state = g1.get_state()
    r1 = wg.randint(0, 10, (5,), generator=g1)
    g1.set_state(state)
    np.testing.assert_array_equal(wg.randint(0, 10, (5,), generator=g1).data, r1.data)
    assert sorted(wg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    assert wg.rand(2, 2).dtype == np.float32 and wg.randn(2, dtype="float64").dtype == np.float64


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "divide", "maximum", "power"])
def test_binary_shape_mismatch_names_op_and_shapes(op):
    with pytest.raises(wg.ShapeError, match=rf"{op}.*\(2, 3\).*\(4,\)"):
        getattr(wg, op)(wg.ones(2, 3), wg.ones(4))


def test_matmul_shape_mismatch():
    with pytest.raises(wg.ShapeError, match=r"matmul: shapes \(2, 3\) and \(4, 5\).*3.*4"):
        wg.ones(2, 3) @ wg.ones(4, 5)
    with pytest.raises(wg.ShapeError, match="at least 1-D"):
        wg.matmul(wg.tensor(1.0), wg.ones(2))
    # inner axes that fit (3 and 3): the batch axes (2, 3) and (2, 4) are what differ
    with pytest.raises(wg.ShapeError,
                       match=r"batch axes \(2, 3\) and \(2, 4\) do not broadcast"):
        wg.ones(2, 3, 5, 3) @ wg.ones(2, 4, 3, 6)


def test_other_shape_errors():
    with pytest.raises(wg.ShapeError, match=r"sum: axis 3 is out of bounds.*\(2, 2\)"):
        wg.sum(wg.ones(2, 2), axis=3)
    with pytest.raises(wg.ShapeError, match="squeeze: axis 0"):
        wg.squeeze(wg.ones(2, 1), axis=0)
    with pytest.raises(wg.ShapeError, match="getitem"):
        wg.ones(2)[5]
    with pytest.raises(wg.ShapeError, match="concatenate"):
        wg.concatenate([wg.ones(2, 2), wg.ones(3, 3)], axis=0)
    with pytest.raises(wg.ShapeError, match="einsum"):
        wg.einsum("ij,jk->ik", wg.ones(2, 3), wg.ones(4, 2))
    with pytest.raises(wg.ShapeError, match="reshape"):
        wg.ones(6).reshape(4, 2)


def test_sum_to_refuses_shapes_that_do_not_broadcast():
    from wengert.ops.shape import sum_to
    with pytest.raises(wg.ShapeError, match=r"sum_to.*\(2, 3\).*\(3, 2\)"):
        sum_to(wg.ones(2, 3), shape=(3, 2))  # same size: must not be silently reshaped
    assert sum_to(wg.ones(4, 2, 3), shape=(2, 1)).tolist() == [[12], [12]]


def test_errors_are_wengert_errors_and_builtins():
    assert issubclass(wg.ShapeError, ValueError) and issubclass(wg.ShapeError, wg.WengertError)
    assert issubclass(wg.DTypeError, TypeError) and issubclass(wg.GraphError, RuntimeError)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float32"])
@pytest.mark.parametrize("write", ["exp_", "mul_ 1.5", "add_ 2", "iadd 0.5", "iadd 1",
                                   "div_ 2", "mul_ True"])
def test_in_place_result_dtypes_refused_where_torch_refuses(dtype, write):
    """An in-place op keeps the tensor's dtype: torch raises where the result's dtype cannot
    be cast to it (same kind), and so does wengert, writing nothing; elsewhere both give the
    same values."""
    torch = pytest.importorskip("torch")
    name, *arg = write.split()
    arg = [eval(a) for a in arg]  # a number: 1.5, 2, True...
    values = np.array([1, 0, 1] if dtype == "bool" else [1, 2, 3], dtype=dtype)

    def apply(t):
        if name == "iadd":
            t += arg[0]
        else:
            getattr(t, name)(*arg)
        return t
    theirs = torch.tensor(values)
    try:
        apply(theirs)
    except RuntimeError:
        ours = wg.tensor(values)
        with pytest.raises(wg.DTypeError, match="in-place"):
            apply(ours)
        np.testing.assert_array_equal(ours.data, values)
        return
    ours = apply(wg.tensor(values))
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_allclose(ours.data.astype(float), theirs.numpy().astype(float), rtol=1e-6)


@pytest.mark.parametrize("ours_dtype, other_dtype", [("uint8", "int64"), ("uint8", "int8"),
                                                     ("int16", "int64"), ("int32", "bool"),
                                                     ("bool", "int64"), ("int64", "float32")])
@pytest.mark.parametrize("op", ["add_", "mul_"])
def test_in_place_with_a_tensor_operand_refused_where_torch_refuses(ours_dtype, other_dtype, op):
    """Integers wrap into a narrower integer dtype (torch's canCast), while bool from
    integers and integers from floats are refused, by both libraries alike."""
    torch = pytest.importorskip("torch")
    a = np.array([1, 0, 1], ours_dtype)
    b = np.array([300, 2, 1], other_dtype) if other_dtype not in ("bool", "int8") else \
        np.array([1, 0, 1], other_dtype)
    theirs = torch.tensor(a)
    try:
        getattr(theirs, op)(torch.tensor(b))
    except RuntimeError:
        with pytest.raises(wg.DTypeError, match="in-place"):
            getattr(wg.tensor(a), op)(wg.tensor(b))
        return
    ours = getattr(wg.tensor(a), op)(wg.tensor(b))
    assert ours.dtype == np.dtype(ours_dtype)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
