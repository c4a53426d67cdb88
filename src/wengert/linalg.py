"""Differentiable linear algebra, as ``torch.linalg``: ``wengert.linalg.det(A)``.

Every function takes a matrix or a batch of them (leading axes batch, as in torch), keeps
float32 as float32, and is differentiable in reverse mode, forward mode and to any order.
The decompositions are primitives (:mod:`wengert.ops.decompositions`, where their rules and
the packing of several outputs into one are explained); the rest are written with them.
See docs/linalg.md for the gradients at degenerate points and the errors.
"""
from collections import namedtuple
from functools import reduce

import numpy as np

from .autodiff.primitive import TENSOR
from .errors import ArgumentError, LinAlgError, ShapeError
from .ops import decompositions as dec
from .ops import elementwise as ew
from .ops import reduce as red
from .ops import shape as sh
from .ops.decompositions import cholesky as _cholesky
from .ops.decompositions import det, eigvalsh, inv, pinv, svdvals
from .ops.linalg import matmul
from .tensor import Tensor

__all__ = ["EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult", "cholesky",
           "cond", "det", "eigh", "eigvalsh", "inv", "matrix_norm", "matrix_power",
           "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd",
           "svdvals", "vector_norm"]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
SlogdetResult.__doc__ = "What ``slogdet`` returns: ``(sign, logabsdet)``, as torch's."
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EighResult.__doc__ = "What ``eigh`` returns: ``(eigenvalues, eigenvectors)``, as torch's."
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
SVDResult.__doc__ = "What ``svd`` returns: ``(U, S, Vh)`` with ``A = U @ diag(S) @ Vh``."
QRResult = namedtuple("QRResult", ["Q", "R"])
QRResult.__doc__ = "What ``qr`` returns: ``(Q, R)`` with ``A = Q @ R``."


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


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with ``A @ X = B`` (``X @ A = B`` when ``left=False``), reading only the upper or
    lower triangle of ``A`` (and taking its diagonal as ones when ``unitriangular``). ``B``
    is a matrix ``(..., n, k)``. The gradient for ``A`` is zero outside the triangle read,
    as torch's. Written as ``solve`` of the masked triangle, so it costs a general solve."""
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
    return dec.solve(T, B) if left else _mT(dec.solve(_mT(T), _mT(B)))


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
    """Reduced QR: ``QRResult(Q, R)`` with ``A = Q @ R``, ``Q`` (m, k) with orthonormal
    columns, ``R`` (k, n) upper triangular, ``k = min(m, n)`` (LAPACK's signs, as torch and
    NumPy). Differentiable where the first ``k`` columns of ``A`` are independent."""
    if mode != "reduced":
        raise ArgumentError(f"qr: mode {mode!r} is not supported; only 'reduced'. Hint: the "
                            "complete Q's extra columns are an arbitrary basis, with no "
                            "gradient")
    A = _tensor(A)
    _matrix("qr", A)
    Q, R = _unpack(dec.qr_packed(A), dec.qr_shapes(*A.shape[-2:]))
    return QRResult(Q, R)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (an int; 0 gives the identity, negative ``n``
    the power of ``inv(A)``), by repeated squaring."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ArgumentError(f"matrix_power: n must be an int, got {n!r}")
    A = _tensor(A)
    _square("matrix_power", A)
    if n == 0:
        return Tensor(np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy())
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
    (no gradient). The 2-norm's gradient at 0 is 0, as torch's."""
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
        return red.sum(ew.cast(ew.not_equal(x, 0), dtype=x.dtype), axis=axis, keepdims=keepdim)
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


def multi_dot(tensors):
    """The product of a sequence of matrices, left to right; the first may be a 1-D row
    vector and the last a 1-D column vector (as torch and NumPy); the others are 2-D."""
    tensors = [_tensor(t) for t in tensors]
    if len(tensors) < 2:
        raise ArgumentError(f"multi_dot: needs at least 2 tensors, got {len(tensors)}")
    for i, t in enumerate(tensors):
        ends = i in (0, len(tensors) - 1)
        if t.ndim != 2 and not (ends and t.ndim == 1):
            raise ShapeError(f"multi_dot: tensor {i} has shape {t.shape}; the first and last "
                             "may be 1-D or 2-D, the others must be 2-D")
    return reduce(matmul, tensors)


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
