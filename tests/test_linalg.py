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


@pytest.mark.parametrize("matrix", [[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]],
                                    [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]]],
                         ids=["rank2", "rank1"])
def test_det_gradient_at_a_singular_matrix_is_torchs_adjugate(torch_mod, matrix):
    # the cofactor matrix exists where the inverse does not; in a batch with an invertible
    # matrix too
    batch = np.stack([np.array(matrix), np.array(matrix) + 3 * np.eye(3)])
    seed = np.array([1.5, -0.5])
    a, t = wg.Tensor(batch, requires_grad=True), torch_mod.tensor(batch, requires_grad=True)
    (LA.det(a) * wg.Tensor(seed)).sum().backward()
    (torch_mod.linalg.det(t) * torch_mod.tensor(seed)).sum().backward()
    assert float(LA.det(wg.Tensor(batch[0]))) == 0.0
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), atol=1e-12)


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
    with pytest.raises(wg.ArgumentError, match=r"qr: mode 'complete'"):
        LA.qr(wg.eye(2), mode="complete")
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


def test_solve_left_false_and_vector_right_hand_sides():
    a, b = _well_conditioned(2), RNG.standard_normal((2, 5, 3))
    _agree_with_torch(lambda a, b: LA.solve(a, b, left=False),
                      lambda a, b: torch.linalg.solve(a, b, left=False), a, b)
    v = RNG.standard_normal(3)
    _agree_with_torch(LA.solve, torch.linalg.solve, a, v)  # 1-D B broadcasts over the batch


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -3])
def test_matrix_power(n):
    _agree_with_torch(lambda a: LA.matrix_power(a, n) * 1.0,
                      lambda a: torch.linalg.matrix_power(a, n) * 1.0, _well_conditioned(2)) \
        if n else np.testing.assert_array_equal(LA.matrix_power(wg.ones(2, 3, 3), 0).data,
                                                np.broadcast_to(np.eye(3), (2, 3, 3)))


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
    if ord == 0:  # a count: no gradient
        np.testing.assert_array_equal(LA.vector_norm(wg.Tensor(x), 0, dim, keepdim).data,
                                      torch.linalg.vector_norm(torch.as_tensor(x), 0, dim,
                                                               keepdim).numpy())
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
