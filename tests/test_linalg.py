"""wengert.linalg: errors, batching, dtypes, the composites (solve_triangular, matrix_power,
norms, multi_dot, cond) against torch.linalg, second order and forward mode. The primitives'
values, gradients, JVPs and second derivatives are in the op table (op_cases_linalg.py)."""
import numpy as np
import pytest

import wengert as wg
from wengert import linalg as LA

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _well_conditioned(*batch, n=3):
    return RNG.uniform(-1, 1, batch + (n, n)) + 4 * np.eye(n)


def _spd(*batch, n=3):
    x = RNG.uniform(-1, 1, batch + (n, n))
    return x @ x.swapaxes(-1, -2) + 3 * np.eye(n)


def _value_and_grad(f, *arrays):
    """f's value and the gradients of sum(f * w) for a fixed random w, in wengert."""
    xs = [wg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = f(*xs)
    w = np.random.default_rng(1).standard_normal(out.shape)
    (out * w).sum().backward()
    return out.data, [x.grad.data for x in xs]


def _torch_value_and_grad(f, *arrays):
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    w = np.random.default_rng(1).standard_normal(tuple(out.shape))
    (out * torch.as_tensor(w)).sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


def _agree_with_torch(f, tf, *arrays, rtol=1e-10, atol=1e-12):
    value, grads = _value_and_grad(f, *arrays)
    t_value, t_grads = _torch_value_and_grad(tf, *arrays)
    np.testing.assert_allclose(value, t_value, rtol=rtol, atol=atol)
    for g, tg in zip(grads, t_grads):
        np.testing.assert_allclose(g, tg, rtol=rtol, atol=atol)


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [LA.det, LA.inv, LA.cholesky, LA.eigh, LA.eigvalsh,
                                lambda a: LA.slogdet(a), lambda a: LA.matrix_power(a, 2)])
def test_non_square_is_a_shape_error_naming_op_and_shape(op):
    with pytest.raises(wg.ShapeError, match=r"\(2, 3\).*Hint"):
        op(wg.ones(2, 3))


def test_shape_errors_name_the_op():
    with pytest.raises(wg.ShapeError, match=r"det: expected a square matrix.*\(4,\)"):
        LA.det(wg.ones(4))
    with pytest.raises(wg.ShapeError, match=r"svd: expected a matrix.*\(4,\)"):
        LA.svd(wg.ones(4))
    with pytest.raises(wg.ShapeError, match=r"solve: A of shape \(3, 3\) and B of shape "
                                            r"\(4, 2\) do not fit"):
        LA.solve(wg.eye(3), wg.ones(4, 2))
    with pytest.raises(wg.ShapeError, match=r"solve.*\(2, 3, 3\).*\(4, 3, 1\)"):
        LA.solve(wg.Tensor(_well_conditioned(2)), wg.ones(4, 3, 1, dtype="float64"))
    with pytest.raises(wg.DTypeError, match=r"solve: A is float64 but B is float32"):
        LA.solve(wg.Tensor(_well_conditioned(2)), wg.ones(2, 3, 1))  # as torch: no promotion
    with pytest.raises(wg.ShapeError, match=r"multi_dot: tensor 1 has shape \(3,\)"):
        LA.multi_dot([wg.ones(2, 3), wg.ones(3), wg.ones(3, 2)])
    with pytest.raises(wg.ShapeError, match=r"matrix_norm: dim=\(0, 0\)"):
        LA.matrix_norm(wg.ones(2, 2), dim=(0, 0))


def test_integer_input_is_a_dtype_error():
    # as torch.linalg: no silent conversion of integers
    with pytest.raises(wg.DTypeError, match=r"det: expected a float32 or float64.*int64"):
        LA.det(wg.tensor([[1, 2], [3, 4]]))


def test_singular_matrix_names_the_batch_element():
    a = _well_conditioned(3)
    a[1] = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]  # rows 0 and 1 dependent
    with pytest.raises(LA.LinAlgError, match=r"inv: the matrix is singular \(batch element "
                                             r"\(1,\) of a float64 input of shape \(3, 3, 3\)\)"
                                             r".*Hint"):
        LA.inv(wg.Tensor(a))
    with pytest.raises(LA.LinAlgError, match=r"solve: A is singular \(batch element \(1,\)"):
        LA.solve(wg.Tensor(a), wg.ones(3, 3, dtype="float64"))
    assert issubclass(LA.LinAlgError, wg.WengertError) and issubclass(LA.LinAlgError, ValueError)


def test_cholesky_of_a_matrix_that_is_not_positive_definite():
    a = np.stack([np.eye(2), -np.eye(2)])
    with pytest.raises(LA.LinAlgError, match=r"cholesky: the matrix is not positive definite "
                                             r"\(batch element \(1,\)"):
        LA.cholesky(wg.Tensor(a))


def _cofactor_matrix(m):
    """C[i, j] = (-1)^(i+j) det(m without row i and column j): d det(m) / d m[i, j]."""
    n = len(m)
    return np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(m, i, 0), j, 1))
                      for j in range(n)] for i in range(n)])


@pytest.mark.parametrize("matrix", [[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]],
                                    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]],
                         ids=["rank2", "rank1"])
def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix(matrix):
    # the cofactor matrix exists where the inverse does not (zero at rank n-2, not at rank
    # n-1); in a batch with an invertible matrix too. torch's det backward agrees on some
    # CPUs and gives zeros at rank n-1 on others (its LU finds an exact zero pivot), so the
    # oracle is the cofactor expansion itself.
    batch = np.stack([np.array(matrix), np.array(matrix) + 3 * np.eye(3)])
    seed = np.array([1.5, -0.5])
    a = wg.Tensor(batch, requires_grad=True)
    (LA.det(a) * wg.Tensor(seed)).sum().backward()
    assert float(LA.det(wg.Tensor(batch[0]))) == 0.0
    expected = np.stack([s * _cofactor_matrix(m) for s, m in zip(seed, batch)])
    np.testing.assert_allclose(a.grad.data, expected, atol=1e-12)


def test_det_second_derivative_at_a_singular_matrix_is_an_error():
    a = wg.Tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    with pytest.raises(LA.LinAlgError, match=r"det: at a singular matrix, only the first "
                                             r"derivative in reverse mode"):
        wg.autograd.grad(LA.det(a), [a], create_graph=True)


def test_repeated_eigenvalues():
    # the eigenvalues alone differentiate at a repeated eigenvalue: d sum(w) / dA = I
    a = wg.Tensor(np.eye(3), requires_grad=True)
    LA.eigh(a).eigenvalues.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.eye(3), atol=1e-15)
    # through the eigenvectors there is no derivative (torch: inf/NaN); an error, not a NaN
    a = wg.Tensor(np.diag([1.0, 1.0, 2.0]), requires_grad=True)
    v = LA.eigh(a).eigenvectors
    with pytest.raises(LA.LinAlgError, match=r"eigh: the derivative does not exist here: two "
                                             r"eigenvalues are equal"):
        (v[:, 0] * np.arange(3.0)).sum().backward()


def test_repeated_singular_values_through_svdvals_and_svd_values():
    x = np.diag([2.0, 2.0, 1.0])
    for f in (LA.svdvals, lambda a: LA.svd(a).S):
        a = wg.Tensor(x, requires_grad=True)
        f(a).sum().backward()  # d sum(S) = U V^T, which is I here
        np.testing.assert_allclose(a.grad.data, np.eye(3), atol=1e-15)


def test_qr_mode_and_matrix_power_exponent():
    with pytest.raises(wg.ArgumentError, match=r"qr: mode 'full' is not one of 'reduced', "
                                               r"'complete', 'r'"):
        LA.qr(wg.eye(2), mode="full")
    with pytest.raises(wg.ArgumentError, match=r"matrix_power: n must be an int"):
        LA.matrix_power(wg.eye(2), 1.5)


# --- batching and dtypes --------------------------------------------------------------------
def test_batched_results_equal_each_matrix_alone():
    a = _spd(2, 3)
    batched = LA.eigh(wg.Tensor(a)).eigenvalues.data
    for idx in np.ndindex(2, 3):
        np.testing.assert_allclose(batched[idx], LA.eigvalsh(wg.Tensor(a[idx])).data,
                                   rtol=1e-12)
    a = _well_conditioned(2, 3)
    batched = LA.inv(wg.Tensor(a)).data
    for idx in np.ndindex(2, 3):
        np.testing.assert_allclose(batched[idx], np.linalg.inv(a[idx]), rtol=1e-12)


FLOAT32_CASES = {
    "det": lambda a: LA.det(a), "inv": LA.inv, "logabsdet": lambda a: LA.slogdet(a).logabsdet,
    "solve": lambda a: LA.solve(a, a[..., 0]), "cholesky": lambda a: LA.cholesky(a @ a.mT),
    "eigh": lambda a: LA.eigh(a @ a.mT).eigenvectors ** 2, "eigvalsh": LA.eigvalsh,
    "svd": lambda a: LA.svd(a).S, "svdvals": LA.svdvals, "qr": lambda a: LA.qr(a).R ** 2,
    "pinv": LA.pinv, "matrix_power": lambda a: LA.matrix_power(a, -2),
    "matrix_power 0": lambda a: LA.matrix_power(a, 0),
    "lstsq": lambda a: LA.lstsq(a[..., :2], a, driver="gelsd").residuals,
    "qr complete": lambda a: LA.qr(a, mode="complete").Q ** 2,
    "matrix_norm": lambda a: LA.matrix_norm(a, "nuc"), "vector_norm": LA.vector_norm,
    "solve_triangular": lambda a: LA.solve_triangular(a, a, upper=True), "cond": LA.cond,
    "multi_dot": lambda a: LA.multi_dot([a[0], a[1], a[0]]),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
def test_float32_stays_float32(name):
    a = wg.Tensor(_well_conditioned(2).astype(np.float32), requires_grad=True)
    out = FLOAT32_CASES[name](a)
    assert out.dtype == np.float32, name
    out.sum().backward()
    assert a.grad.dtype == np.float32, name


# --- values and gradients of the composites against torch ------------------------------------
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular(upper, left, unitriangular):
    a = _well_conditioned(2)  # the whole matrix: only the triangle read gets a gradient
    b = RNG.standard_normal((2, 3, 4) if left else (2, 4, 3))
    kw = {"upper": upper, "left": left, "unitriangular": unitriangular}
    _agree_with_torch(lambda a, b: LA.solve_triangular(a, b, **kw),
                      lambda a, b: torch.linalg.solve_triangular(a, b, **kw), a, b)


def _large_triangle(*batch, n=300):
    # off-diagonal entries ~ 1/sqrt(n) around a unit diagonal: well conditioned (cond ~ 3),
    # where a random triangle's condition number grows exponentially with n
    return RNG.uniform(-1, 1, batch + (n, n)) / np.sqrt(n) + np.eye(n)


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular_by_blocks(upper, left, unitriangular):
    # n = 300 > 128: the triangle is solved by blocks (two levels of splits), against torch's
    # triangular solve; B has a batch that A broadcasts against
    a = _large_triangle()
    b = RNG.standard_normal((2, 300, 3) if left else (2, 3, 300))
    kw = {"upper": upper, "left": left, "unitriangular": unitriangular}
    _agree_with_torch(lambda a, b: LA.solve_triangular(a, b, **kw),
                      lambda a, b: torch.linalg.solve_triangular(a, b, **kw), a, b,
                      rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("upper", [True, False])
def test_solve_triangular_by_blocks_second_derivative(upper):
    # d/d(A, B) of <grad_A sum(X * w), v>, against torch's double backward
    a, b = _large_triangle(n=150), RNG.standard_normal((150, 2))
    w, v = RNG.standard_normal((150, 2)), RNG.standard_normal((150, 150))

    def second(lib, solve, a, b):
        ga, = lib.autograd.grad((solve(a, b, upper=upper) * lib.tensor(w)).sum(), [a],
                                create_graph=True)
        return lib.autograd.grad((ga * lib.tensor(v)).sum(), [a, b])
    got = second(wg, LA.solve_triangular, wg.Tensor(a, requires_grad=True),
                 wg.Tensor(b, requires_grad=True))
    expected = second(torch, torch.linalg.solve_triangular, torch.tensor(a, requires_grad=True),
                      torch.tensor(b, requires_grad=True))
    for g, t in zip(got, expected):
        np.testing.assert_allclose(g.data, t.numpy(), rtol=1e-9, atol=1e-12)


def test_solve_left_false_and_vector_right_hand_sides():
    a, b = _well_conditioned(2), RNG.standard_normal((2, 5, 3))
    _agree_with_torch(lambda a, b: LA.solve(a, b, left=False),
                      lambda a, b: torch.linalg.solve(a, b, left=False), a, b)
    v = RNG.standard_normal(3)
    _agree_with_torch(LA.solve, torch.linalg.solve, a, v)  # 1-D B broadcasts over the batch


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -3])
def test_matrix_power(n):
    _agree_with_torch(lambda a: LA.matrix_power(a, n), lambda a: torch.linalg.matrix_power(a, n),
                      _well_conditioned(2))


def test_matrix_power_0_stays_in_the_graph_with_gradient_0():
    # as torch: the identity requires grad when A does; exact even where A is not finite
    a = wg.Tensor(np.array([[np.nan, 1.0], [np.inf, 2.0]]), requires_grad=True)
    out = LA.matrix_power(a, 0)
    assert out.requires_grad and torch.linalg.matrix_power(
        torch.ones(2, 2, requires_grad=True), 0).requires_grad
    np.testing.assert_array_equal(out.data, np.eye(2))
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.zeros((2, 2)))


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norm(ord, dim, keepdim):
    a = RNG.standard_normal((3, 2, 4))
    _agree_with_torch(lambda a: LA.matrix_norm(a, ord, dim, keepdim),
                      lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim), a)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, np.inf, -np.inf, 0])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, True), ((0, 2), False)])
def test_vector_norm(ord, dim, keepdim):
    x = RNG.uniform(0.2, 2, (2, 3, 4)) * RNG.choice([-1.0, 1.0], (2, 3, 4))
    if ord == 0:  # a count: in the graph, as torch's, with gradient 0 (torch's is None)
        x[0, 1] = 0.0
        t, xt = torch.tensor(x, requires_grad=True), wg.Tensor(x, requires_grad=True)
        t_out, out = torch.linalg.vector_norm(t, 0, dim, keepdim), LA.vector_norm(xt, 0, dim,
                                                                                   keepdim)
        np.testing.assert_array_equal(out.data, t_out.detach().numpy())
        assert out.requires_grad and t_out.requires_grad
        out.sum().backward()
        np.testing.assert_array_equal(xt.grad.data, np.zeros_like(x))
        return
    _agree_with_torch(lambda x: LA.vector_norm(x, ord, dim, keepdim),
                      lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim), x)


@pytest.mark.parametrize("shape,ord,dim", [((5,), None, None), ((5,), 1, None),
                                           ((3, 4), None, None), ((3, 4), "nuc", None),
                                           ((3, 4), np.inf, None), ((2, 3, 4), None, None),
                                           ((2, 3, 4), 2, (0, 1)), ((2, 3, 4), 3, 2)])
def test_norm_dispatches_as_torch(shape, ord, dim):
    a = RNG.standard_normal(shape)
    _agree_with_torch(lambda a: LA.norm(a, ord, dim), lambda a: torch.linalg.norm(a, ord, dim), a)


def test_norm_needs_dim_beyond_2d_with_ord():
    with pytest.raises(wg.ShapeError, match=r"norm: with ord=2 and no dim.*\(2, 3, 4\)"):
        LA.norm(wg.ones(2, 3, 4), 2)


def test_multi_dot_with_vector_ends():
    v, a, b, w = (RNG.standard_normal(s) for s in [(3,), (3, 4), (4, 2), (2,)])
    _agree_with_torch(lambda *t: LA.multi_dot(t), lambda *t: torch.linalg.multi_dot(t),
                      v, a, b, w)
    _agree_with_torch(lambda *t: LA.multi_dot(t), lambda *t: torch.linalg.multi_dot(t), a, b)


@pytest.mark.parametrize("shapes", [[(3, 4), (4, 5), (5, 2)], [(10, 100), (100, 5), (5, 50)],
                                    [(6,), (6, 2), (2, 7), (7, 3)],
                                    [(2, 8), (8, 3), (3, 9), (9, 1), (1,)],
                                    [(4,), (4, 6), (6, 2), (2, 5), (5,)]],
                         ids=["3 matrices", "3 uneven", "4 vector first", "5 vector last",
                              "5 vectors both ends"])
def test_multi_dot_chains_agree_with_torch(shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    _agree_with_torch(lambda *t: LA.multi_dot(t), lambda *t: torch.linalg.multi_dot(t), *arrays)


def test_multi_dot_multiplies_in_the_cheapest_order(monkeypatch):
    # the textbook chain (Cormen et al., 15.2): dims 30, 35, 15, 5, 10, 20, 25 are cheapest
    # as (A1 (A2 A3)) ((A4 A5) A6), 15125 multiply-adds; left to right costs 40500
    calls = []

    def recording_matmul(x, y):
        calls.append((x.shape, y.shape))
        return x @ y
    monkeypatch.setattr(LA, "matmul", recording_matmul)
    dims = [30, 35, 15, 5, 10, 20, 25]
    arrays = [RNG.standard_normal((dims[i], dims[i + 1])) for i in range(6)]
    out = LA.multi_dot([wg.Tensor(a) for a in arrays])
    assert calls == [((35, 15), (15, 5)), ((30, 35), (35, 5)), ((5, 10), (10, 20)),
                     ((5, 20), (20, 25)), ((30, 5), (5, 25))]
    np.testing.assert_allclose(out.data, np.linalg.multi_dot(arrays), rtol=1e-12)


def test_multi_dot_shapes_that_do_not_fit():
    with pytest.raises(wg.ShapeError, match=r"multi_dot: tensors 1 and 2 of shapes \(3, 4\) "
                                            r"and \(5, 2\).*cannot be multiplied"):
        LA.multi_dot([wg.ones(2, 3), wg.ones(3, 4), wg.ones(5, 2)])


# --- lstsq ---------------------------------------------------------------------------------
LSTSQ_SHAPES = [((5, 3), (5, 2)), ((3, 3), (3, 2)), ((3, 5), (3, 2)), ((2, 6, 4), (2, 6, 3)),
                ((2, 5, 3), (2, 5)), ((5, 3), (5,)), ((1, 5, 3), (4, 5, 2)),
                ((2, 1, 3, 4), (1, 3, 3, 2))]
LSTSQ_IDS = ["tall", "square", "wide", "batched", "batched vectors", "vector",
             "broadcast A", "broadcast both"]


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("a_shape,b_shape", LSTSQ_SHAPES, ids=LSTSQ_IDS)
def test_lstsq_fields_agree_with_torch(a_shape, b_shape, driver):
    # each field's shape, dtype and value as torch's CPU driver gives it (empty where it
    # gives none)
    a, b = RNG.standard_normal(a_shape), RNG.standard_normal(b_shape)
    got = LA.lstsq(wg.Tensor(a), wg.Tensor(b), driver=driver)
    expected = torch.linalg.lstsq(torch.as_tensor(a), torch.as_tensor(b), driver=driver)
    assert isinstance(got, LA.LstsqResult)
    for field, x, t in zip(got._fields, got, expected):
        assert (x.shape, str(x.dtype)) == (tuple(t.shape), str(t.dtype)[6:]), field
        np.testing.assert_allclose(x.data, t.numpy(), rtol=1e-10, atol=1e-12, err_msg=field)


@pytest.mark.parametrize("a_shape,b_shape", LSTSQ_SHAPES, ids=LSTSQ_IDS)
def test_lstsq_solution_gradients_agree_with_torch(a_shape, b_shape):
    a, b = RNG.standard_normal(a_shape), RNG.standard_normal(b_shape)
    _agree_with_torch(lambda a, b: LA.lstsq(a, b).solution,
                      lambda a, b: torch.linalg.lstsq(a, b).solution, a, b,
                      rtol=1e-9, atol=1e-11)


def test_lstsq_residuals_are_differentiable_as_torchs():
    a, b = RNG.standard_normal((2, 6, 3)), RNG.standard_normal((2, 6, 2))
    _agree_with_torch(lambda a, b: LA.lstsq(a, b, driver="gelsd").residuals,
                      lambda a, b: torch.linalg.lstsq(a, b, driver="gelsd").residuals, a, b,
                      rtol=1e-9, atol=1e-11)


def test_lstsq_second_derivative_agrees_with_torch():
    a, b = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    w = RNG.standard_normal((3, 2))
    got = wg.hessian(lambda x: (LA.lstsq(x, wg.Tensor(b)).solution * wg.Tensor(w)).sum())(
        wg.Tensor(a))
    expected = torch.autograd.functional.hessian(
        lambda x: (torch.linalg.lstsq(x, torch.as_tensor(b)).solution
                   * torch.as_tensor(w)).sum(), torch.as_tensor(a))
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss"])
def test_lstsq_rank_deficient_gives_the_least_norm_solution(driver):
    # column 1 is twice column 0: rank 1, and the solution of least norm is pinv(A) @ B
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    b = RNG.standard_normal((3, 2))
    got = LA.lstsq(wg.Tensor(a), wg.Tensor(b), driver=driver)
    expected = torch.linalg.lstsq(torch.as_tensor(a), torch.as_tensor(b), driver=driver)
    np.testing.assert_allclose(got.solution.data, expected.solution.numpy(), atol=1e-12)
    assert int(got.rank.data) == int(expected.rank) == 1
    assert got.residuals.shape == tuple(expected.residuals.shape) == (0,)  # not full rank


@pytest.mark.parametrize("driver", [None, "gelsd"])
def test_lstsq_rcond_drops_small_singular_values(driver):
    # diag(1, 1e-3) with rcond 1e-2: rank 1, the second unknown set to 0
    a, b = np.diag([1.0, 1e-3]), np.ones((2, 1))
    got = LA.lstsq(wg.Tensor(a), wg.Tensor(b), rcond=1e-2, driver=driver)
    expected = torch.linalg.lstsq(torch.as_tensor(a), torch.as_tensor(b), rcond=1e-2,
                                  driver=driver)
    np.testing.assert_array_equal(got.solution.data, expected.solution.numpy())
    np.testing.assert_array_equal(got.solution.data, [[1.0], [0.0]])
    assert int(got.rank.data) == int(expected.rank) == 1


def test_lstsq_errors():
    a = wg.Tensor(RNG.standard_normal((5, 3)))
    with pytest.raises(wg.ArgumentError, match=r"lstsq: driver 'qr' is not one of"):
        LA.lstsq(a, wg.ones(5, 2, dtype="float64"), driver="qr")
    with pytest.raises(wg.DTypeError, match=r"lstsq: A and B must both be.*float32"):
        LA.lstsq(a, wg.ones(5, 2))
    with pytest.raises(wg.ShapeError, match=r"lstsq: A of shape \(5, 3\) and B of shape "
                                            r"\(4, 2\) do not fit"):
        LA.lstsq(a, wg.ones(4, 2, dtype="float64"))
    with pytest.raises(wg.ShapeError, match=r"lstsq: the batch axes"):
        LA.lstsq(wg.Tensor(RNG.standard_normal((2, 5, 3))), wg.ones(3, 5, 2, dtype="float64"))
    with pytest.raises(wg.ShapeError, match=r"lstsq: expected a matrix"):
        LA.lstsq(wg.ones(5, dtype="float64"), wg.ones(5, dtype="float64"))


# --- qr modes ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_qr_modes_agree_with_torch(shape, mode):
    a = RNG.standard_normal(shape)
    got = LA.qr(wg.Tensor(a), mode=mode)
    expected = torch.linalg.qr(torch.as_tensor(a), mode=mode)
    for x, t in zip(got, expected):
        assert x.shape == tuple(t.shape)
        np.testing.assert_allclose(x.data, t.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 3)])
def test_qr_complete_gradient_where_torch_gives_one(shape):
    # m <= n: the complete QR is the reduced one; Q * Q and R * R do not depend on the signs
    a = RNG.standard_normal(shape)
    _agree_with_torch(lambda a: _squares_product(LA.qr(a, mode="complete")),
                      lambda a: _squares_product(torch.linalg.qr(a, mode="complete")), a)


def _squares_product(qr):
    return (qr.Q * qr.Q) @ (qr.R * qr.R)


@pytest.mark.parametrize("mode,message", [
    ("complete", (r"qr: no derivative with mode='complete' for a matrix with more rows than "
                  r"columns \(shape \(4, 3\)\).*Hint: use mode='reduced'")),
    ("r", r"qr: no derivative with mode='r'.*needs Q.*Hint: use mode='reduced'")])
def test_qr_modes_without_a_derivative_raise_as_torch(mode, message):
    # the values are given; reverse and forward mode raise (torch: the same, in backward)
    a = wg.Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    r = LA.qr(a, mode=mode).R
    assert r.requires_grad
    with pytest.raises(LA.LinAlgError, match=message):
        (r ** 2).sum().backward()
    with pytest.raises(LA.LinAlgError, match=message):
        wg.jvp(lambda x: LA.qr(x, mode=mode).R, (a.detach(),), (a.detach(),))
    t = torch.tensor(a.data, requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'" if mode == "r" else "nrows > ncols"):
        (torch.linalg.qr(t, mode=mode).R ** 2).sum().backward()


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, np.inf])
def test_cond(p):
    a = _well_conditioned(2)
    np.testing.assert_allclose(LA.cond(wg.Tensor(a), p).data,
                               torch.linalg.cond(torch.as_tensor(a), p).numpy(), rtol=1e-12)
    # torch 2.13's own cond fails in backward for these p (it writes over inv's output), so
    # its gradient is taken from the definition, written with torch.linalg
    _agree_with_torch(lambda a: LA.cond(a, p),
                      lambda a: torch.linalg.cond(a, p) if p in (None, 2, -2) else
                      torch.linalg.matrix_norm(a, p) * torch.linalg.matrix_norm(
                          torch.linalg.inv(a), p), a)


def test_svd_full_matrices_shapes_and_reconstruction():
    a = RNG.standard_normal((2, 5, 3))
    for full, (u_shape, vh_shape) in [(True, ((2, 5, 5), (2, 3, 3))),
                                      (False, ((2, 5, 3), (2, 3, 3)))]:
        U, S, Vh = LA.svd(wg.Tensor(a), full_matrices=full)
        assert (U.shape, S.shape, Vh.shape) == (u_shape, (2, 3), vh_shape)
        np.testing.assert_allclose(((U[..., :3] * S[..., None, :]) @ Vh).data, a, atol=1e-12)
    # forward mode needs the reduced SVD of a non-square matrix (torch: the same)
    with pytest.raises(LA.LinAlgError, match=r"full_matrices=False"):
        wg.jvp(lambda x: LA.svd(x).S, (wg.Tensor(a),), (wg.Tensor(a),))


def test_slogdet_sign_and_det_agree_with_torch():
    a = _well_conditioned(4) - np.array([0, 8, 0, 8])[:, None, None] * np.eye(3)
    sign, logabsdet = LA.slogdet(wg.Tensor(a))
    t_sign, t_logabsdet = torch.linalg.slogdet(torch.as_tensor(a))
    np.testing.assert_array_equal(sign.data, t_sign.numpy())
    np.testing.assert_allclose(logabsdet.data, t_logabsdet.numpy(), rtol=1e-12)
    np.testing.assert_allclose(LA.det(wg.Tensor(a)).data, torch.linalg.det(torch.as_tensor(a)),
                               rtol=1e-12)


# --- second order and forward mode -------------------------------------------------------------
def test_hessian_of_logdet_matches_torch():
    a = _spd(n=3)
    got = wg.hessian(lambda x: LA.slogdet(x).logabsdet)(wg.Tensor(a))
    expected = torch.autograd.functional.hessian(lambda x: torch.linalg.slogdet(x).logabsdet,
                                                 torch.as_tensor(a))
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-10, atol=1e-12)
    # by hand: d2 log det / dA_ij dA_kl = -inv(A)_li inv(A)_jk
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(got.data, -np.einsum("li,jk->ijkl", inv, inv), atol=1e-12)


def _symmetric_input(x):
    return x + x.mT + wg.Tensor(np.diag([0.0, 4.0, 8.0]))


def _weighted_squares(vectors, values):
    return vectors ** 2 * values


JAC_CASES = {
    "det": lambda x: LA.det(x + wg.Tensor(4 * np.eye(3))),
    "inv": lambda x: LA.inv(x + wg.Tensor(4 * np.eye(3))),
    "solve": lambda x: LA.solve(x + wg.Tensor(4 * np.eye(3)), x[:, 0]),
    "cholesky": lambda x: LA.cholesky(x @ x.mT + wg.Tensor(3 * np.eye(3))),
    "eigh": lambda x: _weighted_squares(*LA.eigh(_symmetric_input(x))[::-1]),
    "eigvalsh": lambda x: LA.eigvalsh(_symmetric_input(x)),
    "svd": lambda x: _weighted_squares(*LA.svd(_symmetric_input(x), False)[:2]),
    "qr": lambda x: LA.qr(_symmetric_input(x)).R ** 2,
    "pinv": lambda x: LA.pinv(x[:, :2] + wg.Tensor(np.eye(3)[:, :2] * 3)),
    "lstsq": lambda x: LA.lstsq(x[:, :2] + wg.Tensor(np.eye(3)[:, :2] * 3), x[:, 1:]).solution,
    "matrix_norm": lambda x: LA.matrix_norm(_symmetric_input(x), "nuc"),
}


@pytest.mark.parametrize("name", sorted(JAC_CASES))
def test_jacfwd_agrees_with_jacrev(name):
    x = wg.Tensor(RNG.uniform(-0.3, 0.3, (3, 3)))
    f = JAC_CASES[name]
    np.testing.assert_allclose(wg.jacfwd(f)(x).data, wg.jacrev(f)(x).data, rtol=1e-9,
                               atol=1e-11)


def test_cholesky_and_eigh_jvp_use_the_symmetric_part_of_the_tangent():
    # so that forward mode is exactly the transpose of the (symmetric) reverse-mode gradient
    a, t = wg.Tensor(_spd()), wg.Tensor(RNG.standard_normal((3, 3)))
    for f in (LA.cholesky, LA.eigvalsh):
        _, tangent = wg.jvp(f, (a,), (t,))
        _, sym_tangent = wg.jvp(f, (a,), ((t + t.mT) * 0.5,))
        np.testing.assert_allclose(tangent.data, sym_tangent.data, atol=1e-14)
