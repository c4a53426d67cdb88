"""Differentiable linear algebra, as ``torch.linalg``: ``wengert.linalg.det(A)``.

Every function takes a matrix or a batch of them (leading axes batch, as in torch), keeps
float32 as float32, and is differentiable in reverse mode, forward mode and to any order.
The decompositions are primitives (:mod:`wengert.ops.decompositions`, where their rules and
the packing of several outputs into one are explained); the rest are written with them.
See docs/linalg.md for the gradients at degenerate points and the errors.
"""
import math
from collections import namedtuple

import numpy as np

from .autodiff.primitive import TENSOR
from .errors import ArgumentError, DTypeError, LinAlgError, ShapeError
from .ops import decompositions as dec
from .ops import elementwise as ew
from .ops import reduce as red
from .ops import shape as sh
from .ops.decompositions import cholesky as _cholesky
from .ops.decompositions import det, eigvalsh, inv, pinv, svdvals
from .ops.linalg import matmul
from .tensor import Tensor

__all__ = ["EighResult", "LinAlgError", "LstsqResult", "QRResult", "SVDResult", "SlogdetResult",
           "cholesky", "cond", "det", "eigh", "eigvalsh", "inv", "lstsq", "matrix_norm",
           "matrix_power", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "svdvals", "vector_norm"]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SlogdetResult.__doc__ = "What ``slogdet`` returns: ``(sign, logabsdet)``, as torch's."
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EighResult.__doc__ = "What ``eigh`` returns: ``(eigenvalues, eigenvectors)``, as torch's."
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
SVDResult.__doc__ = "What ``svd`` returns: ``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``."
QRResult = namedtuple("QRResult", ["Q", "R"])
QRResult.__doc__ = "What ``qr`` returns: ``(Q, R)`` with ``A = Q @ R``."
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])
LstsqResult.__doc__ = ("What ``lstsq`` returns: ``(solution, residuals, rank, singular_values)``, "
                       "as torch's.")


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _mT(x):
    return sh.swapaxes(x, axis1=-1, axis2=-2)


def _unpack(packed, shapes):
    return dec.unpack(TENSOR, packed, shapes)


def slogdet(A):
    """Sign and natural log of the absolute determinant, ``(sign, logabsdet)``: stable where
    ``det`` would under- or overflow. The gradient flows through ``logabsdet``
    (``inv(A).mT`` times the seed); ``sign`` is piecewise constant, returned detached."""
    A = _tensor(A)
    sign, logabsdet = _unpack(dec.slogdet_packed(A), [(), ()])
    return SlogdetResult(sign.detach(), logabsdet)


def _is_vector_rhs(A, B):
    # torch's rule: B is a (batch of) vector(s) when 1-D, or when shaped like A without its
    # last axis
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A, B, *, left=True):
    """X with ``A @ X = B`` (``X @ A = B`` when ``left=False``) for a square, invertible
    ``A``. ``B`` is a matrix ``(..., n, k)`` or a vector ``(..., n)`` (as torch: 1-D, or
    shaped like ``A`` without its last axis); batch axes broadcast. LinAlgError if ``A`` is
    singular."""
    A, B = _tensor(A), _tensor(B)
    if not left:  # X A = B  <=>  A^T X^T = B^T
        if B.ndim < 2:
            raise ShapeError(f"solve(left=False): B must be a matrix (..., k, n), got shape "
                             f"{B.shape}")
        return _mT(solve(_mT(A), _mT(B)))
    if _is_vector_rhs(A, B):
        return dec.solve(A, sh.expand_dims(B, axis=-1))[..., 0]
    return dec.solve(A, B)


def _square(op, A):
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: expected a square matrix (shape (..., n, n)) or a batch of "
                         f"them, got shape {A.shape}. Hint: the last two axes are the matrix")


def _matrix(op, A):
    if A.ndim < 2:
        raise ShapeError(f"{op}: expected a matrix (shape (..., m, n)) or a batch of them, got "
                         f"shape {A.shape}. Hint: the last two axes are the matrix")


# Triangles up to this size are one LAPACK solve; larger ones split in two (_solve_triangle).
_TRIANGLE_BLOCK = 128


def _solve_triangle(T, B, upper):
    """``T^-1 B`` for a triangular ``T`` (zero outside its triangle), by block substitution:
    split in halves, solve one diagonal block, move its unknowns to the right-hand side of
    the other with a matrix product, solve that. NumPy has no triangular solver, and a general
    solve factorizes (2n^3/3 flops) what is already a factor; here only the diagonal blocks
    of at most ``_TRIANGLE_BLOCK`` are factorized (2nb^2/3 in all) and the rest is matrix
    products (about n^2 k for n x k right-hand sides), so a large triangle costs less; the
    same solve as before up to the block size. Every step is differentiable, so the
    gradients (and higher derivatives) come from solve and matmul."""
    n = T.shape[-1]
    if n <= _TRIANGLE_BLOCK:
        return dec.solve(T, B)
    h = n // 2
    if upper:  # the bottom unknowns first
        bottom = _solve_triangle(T[..., h:, h:], B[..., h:, :], upper)
        top = _solve_triangle(T[..., :h, :h], B[..., :h, :] - matmul(T[..., :h, h:], bottom),
                              upper)
    else:
        top = _solve_triangle(T[..., :h, :h], B[..., :h, :], upper)
        bottom = _solve_triangle(T[..., h:, h:], B[..., h:, :] - matmul(T[..., h:, :h], top),
                                 upper)
    return sh.concatenate([top, bottom], axis=-2)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with ``A @ X = B`` (``X @ A = B`` when ``left=False``), reading only the upper or
    lower triangle of ``A`` (and taking its diagonal as ones when ``unitriangular``). ``B``
    is a matrix ``(..., n, k)``. The gradient for ``A`` is zero outside the triangle read,
    as torch's. Up to n = 128 it is one general solve of the masked triangle; a larger
    triangle is solved by blocks, which costs less (see docs/linalg.md)."""
    A, B = _tensor(A), _tensor(B)
    _square("solve_triangular", A)
    n = A.shape[-1]
    tri = np.triu if upper else np.tril
    ones = np.ones((n, n), dtype=A.dtype)
    if unitriangular:
        T = A * tri(ones, 1 if upper else -1) + np.eye(n, dtype=A.dtype)
    else:
        T = A * tri(ones)
    if B.ndim < 2:
        raise ShapeError(f"solve_triangular: B must be a matrix (..., n, k), got shape "
                         f"{B.shape}. Hint: B[..., None] makes a vector a one-column matrix")
    if left:
        return _solve_triangle(T, B, upper)
    # X A = B  <=>  A^T X^T = B^T, and A^T is triangular the other way
    return _mT(_solve_triangle(_mT(T), _mT(B), not upper))


_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _empty(dtype):
    return Tensor(np.empty((0,), dtype=dtype))


def lstsq(A, B, rcond=None, *, driver=None):
    """Least squares, as ``torch.linalg.lstsq``: ``LstsqResult(solution, residuals, rank,
    singular_values)``. ``solution`` is ``X`` minimizing ``||A X - B||`` (``A`` (..., m, n);
    ``B`` (..., m, k), or a vector shaped like ``A`` without its last axis), the one of least
    norm when there are many (a wide or rank-deficient ``A``); batch axes broadcast. Singular
    values of ``A`` up to ``rcond`` times the largest count as zero (default: torch's
    ``max(m, n) * eps``; a negative ``rcond`` means ``eps``, as LAPACK; ``'gels'`` ignores it).

    ``solution`` is computed as ``pinv(A) @ B`` (through the SVD, as the drivers 'gelsd' and
    'gelss') whatever the driver, so it is differentiable in ``A`` and ``B`` where the rank
    does not change, with torch's gradient. The other fields follow torch's CPU drivers (default
    ``'gelsy'``): ``rank`` (int64, per matrix of ``A``) for all but ``'gels'``;
    ``singular_values`` (descending, detached) for ``'gelsd'`` and ``'gelss'``; ``residuals``,
    the squared column norms of ``A X - B`` (differentiable), for m > n with ``'gels'``, or
    with ``'gelsd'``/``'gelss'`` when every matrix has full rank n. Fields a driver does not
    give are empty tensors."""
    A, B = _tensor(A), _tensor(B)
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise ArgumentError(f"lstsq: driver {driver!r} is not one of {list(_LSTSQ_DRIVERS)}. "
                            "Hint: the default, None, is torch's CPU default 'gelsy'")
    _matrix("lstsq", A)
    if A.dtype not in (np.float32, np.float64) or B.dtype != A.dtype:
        raise DTypeError(f"lstsq: A and B must both be float32 or both float64, got A "
                         f"{A.dtype} (shape {A.shape}) and B {B.dtype} (shape {B.shape}). "
                         "Hint: convert them with .astype('float64')")
    m, n = A.shape[-2:]
    vector = B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]  # torch's rule
    Bm = sh.expand_dims(B, axis=-1) if vector else B
    if Bm.ndim != A.ndim or Bm.shape[-2] != m:
        raise ShapeError(f"lstsq: A of shape {A.shape} and B of shape {B.shape} do not fit: B "
                         f"must be (..., {m}, k) with as many dims as A, or a vector shaped "
                         f"{A.shape[:-1]}")
    try:
        np.broadcast_shapes(A.shape[:-2], Bm.shape[:-2])
    except ValueError:
        raise ShapeError(f"lstsq: the batch axes of A (shape {A.shape}) and B (shape {B.shape}) "
                         "do not broadcast") from None
    eps = float(np.finfo(A.dtype).eps)
    if rcond is None or driver == "gels":
        rtol = max(m, n) * eps
    else:
        rtol = eps if rcond < 0 else float(rcond)
    X = matmul(pinv(A, rtol=rtol), Bm)
    rank, s = _empty(np.int64), _empty(A.dtype)
    if driver != "gels":  # 'gels' assumes full rank and reports neither
        values = svdvals(A.detach())
        # the rank as the SVD drivers count it: singular values above rtol times the largest
        rank = red.sum((values > rtol * values[..., :1]).astype(np.int64), axis=-1)
        if driver in ("gelsd", "gelss"):
            s = values
    if m > n and (driver == "gels" or driver in ("gelsd", "gelss") and np.all(rank.data == n)):
        residuals = red.sum((matmul(A, X) - Bm) ** 2, axis=-2)
    else:
        residuals = _empty(A.dtype)
    return LstsqResult(X[..., 0] if vector else X, residuals, rank, s)


def cholesky(A, *, upper=False):
    """Cholesky factor of a symmetric positive-definite matrix: lower ``L`` with
    ``A = L @ L.mT``, or upper ``U = L.mT`` (``A = U.mT @ U``) when ``upper``. Reads the
    lower triangle; the gradient is symmetric (torch's). LinAlgError if not positive
    definite."""
    L = _cholesky(A)
    return _mT(L) if upper else L


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, as
    ``EighResult(eigenvalues, eigenvectors)``. Reads the triangle ``UPLO`` names. An
    eigenvector's sign is arbitrary: differentiate functions that do not depend on it
    (``V * V``, ``V @ diag(w) @ V.mT``). The gradient through the eigenvectors does not
    exist at equal eigenvalues: LinAlgError there (torch returns inf/NaN)."""
    A = _tensor(A)
    _square("eigh", A)
    w, V = _unpack(dec.eigh_packed(A, UPLO=UPLO), dec.eigh_shapes(A.shape[-1]))
    return EighResult(w, V)


def svd(A, full_matrices=True):
    """``SVDResult(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``, ``S`` descending; as torch,
    ``full_matrices=True`` (the default) gives square ``U`` and ``Vh`` whose extra columns
    and rows get no gradient (they are an arbitrary basis), and forward mode needs
    ``full_matrices=False`` for a non-square ``A``. Singular vectors have arbitrary signs:
    differentiate sign-free functions (``U @ diag(S) @ Vh``, ``U * U``). At equal or zero
    singular values that the loss reaches through the vectors: LinAlgError (torch: inf/NaN)."""
    A = _tensor(A)
    _matrix("svd", A)
    m, n = A.shape[-2:]
    U, S, Vh = _unpack(dec.svd_packed(A, full_matrices=full_matrices),
                       dec.svd_shapes(m, n, full_matrices))
    return SVDResult(U, S, Vh)


def qr(A, mode="reduced"):
    """QR decomposition ``QRResult(Q, R)`` with ``A = Q @ R`` (LAPACK's signs, as torch and
    NumPy), ``k = min(m, n)``. ``mode='reduced'``: ``Q`` (m, k) with orthonormal columns and
    ``R`` (k, n) upper triangular; ``'complete'``: ``Q`` (m, m) orthogonal and ``R`` (m, n);
    ``'r'``: ``R`` (k, n) alone, ``Q`` an empty tensor. Differentiable where the first ``k``
    columns of ``A`` are independent; as torch, not through mode ``'r'`` (no Q), nor through
    ``'complete'`` when m > n (the extra columns of Q are arbitrary): LinAlgError when
    differentiated there."""
    A = _tensor(A)
    _matrix("qr", A)
    packed = dec.qr_packed(A, mode=mode)
    pieces = _unpack(packed, dec.qr_shapes(*A.shape[-2:], mode))
    if mode == "r":
        return QRResult(Tensor(np.empty((0,), dtype=A.dtype)), pieces[0])
    return QRResult(*pieces)


def _constant_in_graph(value, x):
    """``value`` (an array broadcastable with ``x``) as a result that depends on ``x`` with
    derivatives 0 of every order, in the shape the two broadcast to: torch keeps results such
    as ``matrix_power(A, 0)`` in the graph, requiring grad when the input does. A ``where``
    that always picks ``value``, so the value is exact even where ``x`` is inf or NaN."""
    return ew.where(np.True_, value, x)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (an int; 0 gives the identity, negative ``n``
    the power of ``inv(A)``), by repeated squaring. As torch, ``n = 0`` stays in the graph:
    the identity requires grad when ``A`` does, with gradient 0."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentError(f"matrix_power: n must be an int, got {n!r}")
    A = _tensor(A)
    _square("matrix_power", A)
    if n == 0:  # the identity, in the graph of A with gradient 0 (as torch)
        return _constant_in_graph(np.eye(A.shape[-1], dtype=A.dtype), A)
    if n < 0:
        A, n = inv(A), -n
    result = None
    while n:  # binary powers: A, A^2, A^4... multiplied in where n has a one bit
        if n & 1:
            result = A if result is None else matmul(result, A)
        n >>= 1
        if n:
            A = matmul(A, A)
    return result


def _axes(op, dim, ndim, count):
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if len(dims) != count or any(not -ndim <= d < ndim for d in dims) \
            or len({d % ndim for d in dims}) != count:
        raise ShapeError(f"{op}: dim={dim!r} must name {count} distinct axes of a tensor with "
                         f"{ndim} dims")
    return tuple(int(d) % ndim for d in dims)


def vector_norm(x, ord=2, dim=None, keepdim=False):
    """The ``ord``-norm of ``x`` over ``dim`` (all axes when None): ``sum(|x|^ord)^(1/ord)``,
    with ``inf``/``-inf`` the largest/smallest ``|x|`` and ``0`` the number of non-zeros
    (a count: in the graph as torch's, with gradient 0). The 2-norm's gradient at 0 is 0, as
    torch's."""
    x = _tensor(x)
    axis = None if dim is None else _axes("vector_norm", dim, x.ndim,
                                          1 if isinstance(dim, (int, np.integer)) else len(dim))
    if ord == 2:
        return red.norm(x, axis=axis, keepdims=keepdim)
    if ord == float("inf"):
        return red.max(ew.abs(x), axis=axis, keepdims=keepdim)
    if ord == float("-inf"):
        return red.min(ew.abs(x), axis=axis, keepdims=keepdim)
    if ord == 0:
        nonzero = _constant_in_graph((x.detach() != 0).astype(x.dtype), x)
        return red.sum(nonzero, axis=axis, keepdims=keepdim)
    if ord == 1:
        return red.sum(ew.abs(x), axis=axis, keepdims=keepdim)
    return red.sum(ew.abs(x) ** ord, axis=axis, keepdims=keepdim) ** (1.0 / ord)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, float("inf"), float("-inf"))


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False):
    """The matrix norm over the two axes ``dim``: ``'fro'`` (Frobenius), ``'nuc'`` (sum of
    singular values), ``2``/``-2`` (largest/smallest singular value), ``1``/``-1``
    (max/min column sum of ``|A|``), ``inf``/``-inf`` (max/min row sum). As torch, ties in
    max/min share the gradient and the singular-value norms differentiate through
    ``svdvals``."""
    A = _tensor(A)
    if ord not in _MATRIX_ORDS:
        raise ArgumentError(f"matrix_norm: ord={ord!r} is not one of {list(_MATRIX_ORDS)}")
    rows, cols = _axes("matrix_norm", dim, A.ndim, 2)
    if ord == "fro":
        return red.norm(A, axis=(rows, cols), keepdims=keepdim)
    # the two axes last, rows then columns
    rest = [d for d in range(A.ndim) if d not in (rows, cols)]
    M = sh.transpose(A, axes=tuple(rest) + (rows, cols))
    if ord == "nuc":
        out = red.sum(svdvals(M), axis=-1)
    elif ord in (2, -2):
        out = (red.max if ord == 2 else red.min)(svdvals(M), axis=-1)
    else:  # 1: column sums (over the rows); inf: row sums (over the columns)
        sums = red.sum(ew.abs(M), axis=-2 if abs(ord) == 1 else -1)
        out = (red.max if ord > 0 else red.min)(sums, axis=-1)
    if keepdim:
        for d in sorted((rows, cols)):
            out = sh.expand_dims(out, axis=d)
    return out


def norm(A, ord=None, dim=None, keepdim=False):
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or ``A`` is 1-D), a
    matrix norm when ``dim`` is a pair (or ``A`` is 2-D and ``ord`` is given); with neither
    ``ord`` nor ``dim``, the 2-norm of all entries."""
    A = _tensor(A)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim)
    if ord is None:
        return vector_norm(A, 2, None, keepdim)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim)
    raise ShapeError(f"norm: with ord={ord!r} and no dim, A must be 1-D or 2-D, got shape "
                     f"{A.shape}. Hint: pass dim (an int for vector norms, a pair for matrix "
                     "norms)")


def _chain_splits(dims):
    """The cheapest order to multiply matrices ``i`` (dims[i] x dims[i + 1]): dynamic
    programming over the chain, as ``numpy.linalg.multi_dot``. ``splits[i][j]`` is where the
    product of matrices i..j splits into (i..s)(s+1..j); the cost of a product is counted as
    the multiply-adds of its matmuls."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    splits = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = math.inf
            for split in range(i, j):
                c = cost[i][split] + cost[split + 1][j] + dims[i] * dims[split + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], splits[i][j] = c, split
    return splits


def multi_dot(tensors):
    """The product of a sequence of matrices, multiplied in the cheapest order (as torch and
    NumPy); the first may be a 1-D row vector and the last a 1-D column vector, the others are
    2-D; with both ends 1-D the result is a scalar."""
    tensors = [_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise ArgumentError(f"multi_dot: needs at least 2 tensors, got {len(tensors)}")
    for i, t in enumerate(tensors):
        ends = i in (0, len(tensors) - 1)
        if t.ndim != 2 and not (ends and t.ndim == 1):
            raise ShapeError(f"multi_dot: tensor {i} has shape {t.shape}; the first and last "
                             "may be 1-D or 2-D, the others must be 2-D")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    # the vectors as a (1, n) row and an (n, 1) column, so the chain is all matrices
    if first_vector:
        tensors[0] = sh.expand_dims(tensors[0], axis=0)
    if last_vector:
        tensors[-1] = sh.expand_dims(tensors[-1], axis=-1)
    for i in range(len(tensors) - 1):
        if tensors[i].shape[1] != tensors[i + 1].shape[0]:
            raise ShapeError(f"multi_dot: tensors {i} and {i + 1} of shapes {tensors[i].shape} "
                             f"and {tensors[i + 1].shape} (vectors as a row and a column) "
                             "cannot be multiplied. Hint: each matrix's columns must match the "
                             "next one's rows")
    splits = _chain_splits([tensors[0].shape[0]] + [t.shape[1] for t in tensors])

    def product(i, j):  # of matrices i..j; recursion as deep as the chain is long
        if i == j:
            return tensors[i]
        split = splits[i][j]
        return matmul(product(i, split), product(split + 1, j))

    out = product(0, len(tensors) - 1)
    if last_vector:
        out = out[..., 0]
    if first_vector:
        out = out[0]
    return out


def cond(A, p=None):
    """Condition number of ``A`` in the norm ``p``: ``smax / smin`` for ``None``/``2``
    (``smin / smax`` for ``-2``), else ``matrix_norm(A, p) * matrix_norm(inv(A), p)``
    (square ``A``; LinAlgError if singular, where torch returns inf)."""
    A = _tensor(A)
    if p in (None, 2, -2):
        s = svdvals(A)
        ratio = s[..., 0] / s[..., -1]
        return ratio if p != -2 else 1 / ratio
    _square("cond", A)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)
