"""The cumulative and structural ops beyond the op table: argument errors, cummax/cummin's
indices, dtypes kept, and the Tensor methods under PyTorch's names against torch."""
import numpy as np
import pytest

import wengert as wg

torch = pytest.importorskip("torch")


def _pair(shape, seed=0, dtype=np.float64):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return wg.Tensor(x.copy()), torch.tensor(x)


# --- argument errors --------------------------------------------------------------------------
@pytest.mark.parametrize("call, kind, message", [
    (lambda: wg.cumsum(wg.ones((2, 3)), axis=2), wg.ShapeError, "cumsum: axis 2 is out of range"),
    (lambda: wg.cumprod(wg.ones((2, 3)), axis=(0, 1)), wg.ArgumentError, "cumprod: axis must be one int"),
    (lambda: wg.cummax(wg.ones(3), axis=-2), wg.ShapeError, "cummax: axis -2 is out of range"),
    (lambda: wg.mm(wg.ones(3), wg.ones((3, 2))), wg.ShapeError, r"mm: needs two 2-D matrices, got shapes \(3,\)"),
    (lambda: wg.mm(wg.ones((2, 3)), wg.ones((2, 3))), wg.ShapeError, r"mm: shapes \(2, 3\) and \(2, 3\) do not fit"),
    (lambda: wg.bmm(wg.ones((2, 3)), wg.ones((2, 3, 4))), wg.ShapeError, "bmm: needs two 3-D tensors"),
    (lambda: wg.bmm(wg.ones((2, 2, 3)), wg.ones((3, 3, 4))), wg.ShapeError, "batch sizes must be equal"),
    (lambda: wg.repeat_interleave(wg.ones((2, 3)), np.array([1, 2]), axis=1), wg.ShapeError,
     "repeat_interleave: 2 repeats for axis 1 of size 3"),
    (lambda: wg.repeat_interleave(wg.ones(3), -1), wg.ArgumentError, "must be non-negative"),
    (lambda: wg.repeat_interleave(wg.ones(3), 1.5), wg.ArgumentError, "int or a 1-D int array"),
    (lambda: wg.ones((2, 3)).repeat(2), wg.ShapeError, r"repeat: 1 sizes for a tensor of shape \(2, 3\)"),
    (lambda: wg.tile(wg.ones(2), (-1,)), wg.ArgumentError, "tile: repetitions must be non-negative"),
    (lambda: wg.tril(wg.ones(3)), wg.ShapeError, r"tril: needs a matrix .* got shape \(3,\)"),
    (lambda: wg.diagonal(wg.ones((2, 2)), 0, 1, -1), wg.ShapeError, "diagonal: axis1 and axis2 .* must differ"),
    (lambda: wg.diagonal(wg.ones(3)), wg.ShapeError, "diagonal: needs 2 dims or more"),
    (lambda: wg.diag(wg.ones((2, 2, 2))), wg.ShapeError, r"diag: needs a 1-D or 2-D tensor"),
    (lambda: wg.diag_embed(wg.tensor(1.0)), wg.ShapeError, "diag_embed: needs 1 dim or more"),
    (lambda: wg.diff(wg.ones(3), n=-1), wg.ArgumentError, "diff: n must be a non-negative int"),
    (lambda: wg.diff(wg.ones((2, 3)), prepend=wg.ones((3, 1))), wg.ShapeError, "concatenate"),
    (lambda: wg.rot90(wg.ones((2, 2)), axes=(0, 0)), wg.ShapeError, "rot90: axis1 and axis2"),
    (lambda: wg.meshgrid(wg.ones(2), indexing="xz"), wg.ArgumentError, "meshgrid: indexing must be"),
    (lambda: wg.meshgrid(wg.ones((2, 2))), wg.ShapeError, "meshgrid: needs 1-D"),
    (lambda: wg.cross(wg.ones((2, 3)), wg.ones((2, 2))), wg.ShapeError, "cross: needs 3-vectors"),
    (lambda: wg.ones((2, 2)).cross(wg.ones((2, 2))), wg.ShapeError, "cross: no axis of size 3"),
    (lambda: wg.inner(wg.ones(3), wg.ones(2)), wg.ShapeError, "inner: the last axes"),
    (lambda: wg.tensordot(wg.ones((2, 3)), wg.ones((2, 3)), axes=1), wg.ShapeError,
     "tensordot: axes .* differ in size"),
    (lambda: wg.tensordot(wg.ones(2), wg.ones(2), axes=2), wg.ShapeError, "tensordot: cannot contract 2 axes"),
    (lambda: wg.roll(wg.ones((2, 3)), shift=1, axis=2), wg.ShapeError, "roll"),
])
def test_bad_arguments_raise_clear_errors(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


# --- cummax / cummin -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("values, dim", [
    ([1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 0.0], 0),                      # ties: the latest index
    ([[2.0, 1.0, 1.0, 4.0], [0.0, 0.0, -1.0, 7.0]], 1),
    ([[2.0, 1.0], [1.0, 2.0], [2.0, 2.0]], 0),
    ([1.0, np.nan, 3.0, np.nan, 0.0], 0),                          # NaN propagates, latest NaN named
    (4.0, 0),                                                       # 0-d
])
def test_cummax_cummin_values_and_indices_match_torch(name, values, dim):
    x = wg.tensor(values, dtype="float64", requires_grad=True)
    tx = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    got = getattr(wg, name)(x, axis=dim)
    method = getattr(x, name)(dim)
    expected = getattr(torch, name)(tx, dim)
    np.testing.assert_array_equal(got.indices.numpy(), expected.indices.numpy())
    np.testing.assert_array_equal(method.indices.numpy(), expected.indices.numpy())
    np.testing.assert_array_equal(got.values.data, expected.values.detach().numpy())
    assert got.indices.dtype == np.int64
    seed = np.arange(1.0, got.values.size + 1).reshape(got.values.shape)
    if np.isnan(seed).any() or np.isnan(np.asarray(values)).any():
        return  # NaN values: the gradient is checked on finite inputs only
    (got.values * seed).sum().backward()
    (expected.values * torch.tensor(seed)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


# --- cumprod with zeros, logcumsumexp's range -------------------------------------------------
def test_cumprod_gradient_with_several_zeros_matches_torch():
    data = np.array([[2.0, 0.0, 3.0, 0.0, -1.5], [0.0, 0.0, 2.0, 1.0, 4.0],
                     [1.5, -2.0, 0.5, 3.0, 0.0]])
    x = wg.tensor(data, dtype="float64", requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    seed = np.random.default_rng(3).standard_normal(data.shape)
    (wg.cumprod(x, axis=1) * seed).sum().backward()
    (torch.cumprod(tx, 1) * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_logcumsumexp_is_stable_where_exp_overflows_or_underflows():
    data = np.array([[-1000.0, 0.0, 800.0, 790.0], [1e4, -1e4, 1e4, 3.0]])
    x = wg.tensor(data, dtype="float64", requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    out = wg.logcumsumexp(x, axis=1)
    expected = torch.logcumsumexp(tx, 1)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    seed = np.array([[1.0, -2.0, 0.0, 3.0], [0.5, 0.0, -1.0, 2.0]])
    (out * seed).sum().backward()
    (expected * torch.tensor(seed)).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- dtypes ---------------------------------------------------------------------------------
F32_OPS = {
    "cumsum": lambda x: wg.cumsum(x, axis=1), "cumprod": lambda x: wg.cumprod(x, axis=0),
    "logcumsumexp": lambda x: wg.logcumsumexp(x, axis=1),
    "cummax": lambda x: wg.cummax(x, axis=1).values, "roll": lambda x: wg.roll(x, 1, axis=0),
    "tile": lambda x: wg.tile(x, (2, 1)), "repeat": lambda x: x.repeat(1, 2),
    "repeat_interleave": lambda x: wg.repeat_interleave(x, np.array([1, 0, 2]), axis=0),
    "tril": lambda x: wg.tril(x), "triu": lambda x: wg.triu(x, 1),
    "diagonal": lambda x: wg.diagonal(x), "diag_embed": lambda x: wg.diag_embed(x),
    "diag": lambda x: wg.diag(x[0]), "diff": lambda x: wg.diff(x, prepend=1.5, append=2),
    "flip": lambda x: wg.flip(x), "rot90": lambda x: wg.rot90(x),
    "meshgrid": lambda x: wg.meshgrid(x[0], x[1])[0], "cross": lambda x: wg.cross(x, x * 2 + 1),
    "kron": lambda x: wg.kron(x, x), "inner": lambda x: wg.inner(x, x),
    "tensordot": lambda x: wg.tensordot(x, x, axes=1), "mm": lambda x: wg.mm(x, x),
    "bmm": lambda x: wg.bmm(x[None], x[None]),
}


@pytest.mark.parametrize("name", sorted(F32_OPS))
def test_float32_stays_float32(name):
    x = wg.tensor(np.random.default_rng(1).uniform(0.5, 2.0, (3, 3)), dtype="float32",
                  requires_grad=True)
    out = F32_OPS[name](x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_cumulative_of_a_0d_tensor_and_flattened_axis():
    x, tx = _pair(())
    for name in ("cumsum", "cumprod", "logcumsumexp"):
        np.testing.assert_allclose(getattr(wg, name)(x, axis=0).numpy(),
                                   getattr(torch, name)(tx, 0).numpy())
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(wg.cumsum(wg.tensor(m)).numpy(), np.cumsum(m))


# --- methods under PyTorch's names ------------------------------------------------------------
METHODS = [
    ("cumsum", (1,)), ("cumprod", (-1,)), ("logcumsumexp", (0,)),
    ("roll", (1,)), ("roll", ((1, -2), (0, 1))), ("tile", ((2, 1),)), ("tile", (2, 1, 2)),
    ("repeat", (2, 1, 2)), ("repeat", ((1, 3),)), ("repeat_interleave", (2,)),
    ("repeat_interleave", (2, 1)), ("tril", ()), ("tril", (-1,)), ("triu", (1,)),
    ("diagonal", ()), ("diagonal", (1, 1, 0)), ("diag", ()), ("diag", (1,)),
    ("diag_embed", ()), ("diag_embed", (1, 0, 2)), ("diff", ()), ("diff", (2, 0)),
    ("rot90", ()), ("rot90", (3, (1, 0))), ("flip", (0, 1)),
]


@pytest.mark.parametrize("name, args", METHODS, ids=lambda v: str(v))
def test_methods_with_pytorch_names_agree_with_torch(name, args):
    x, tx = _pair((3, 4), seed=2)
    x.requires_grad_()
    tx.requires_grad_()
    out = getattr(x, name)(*args)
    expected = getattr(tx, name)(*args)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    seed = np.random.default_rng(4).standard_normal(out.shape)
    (out * seed).sum().backward()
    (expected * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


# torch.cross without dim warns that its default will change; the method follows it as it is
@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@pytest.mark.parametrize("name, shapes, args", [
    ("mm", [(2, 3), (3, 4)], ()), ("bmm", [(2, 2, 3), (2, 3, 4)], ()),
    ("inner", [(2, 3), (4, 3)], ()), ("kron", [(2, 3), (3, 2)], ()),
    ("cross", [(3, 2), (3, 2)], ()), ("cross", [(2, 3), (2, 3)], (1,)),
])
def test_binary_methods_agree_with_torch(name, shapes, args):
    (a, ta), (b, tb) = _pair(shapes[0], 5), _pair(shapes[1], 6)
    out = getattr(a, name)(b, *args)
    expected = getattr(ta, name)(tb, *args)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_meshgrid_defaults_to_numpy_xy_and_takes_torch_ij():
    x, y = np.arange(2.0), np.arange(3.0)
    for got, expected in zip(wg.meshgrid(wg.tensor(x), wg.tensor(y)), np.meshgrid(x, y)):
        np.testing.assert_array_equal(got.numpy(), expected)
    for got, expected in zip(wg.meshgrid([wg.tensor(x), wg.tensor(y)], indexing="ij"),
                             torch.meshgrid(torch.tensor(x), torch.tensor(y), indexing="ij")):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_numpy_repeat_is_repeat_interleave_and_flip_defaults_to_every_axis():
    m = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(wg.repeat(wg.tensor(m), 2, axis=1).numpy(),
                                  np.repeat(m, 2, axis=1))
    np.testing.assert_array_equal(wg.flip(wg.tensor(m)).numpy(), np.flip(m))
    np.testing.assert_array_equal(wg.flip(m, axis=1).numpy(), np.flip(m, axis=1))
