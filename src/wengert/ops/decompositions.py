"""Matrix decompositions and inverses as primitives: inv, det, slogdet, solve, cholesky,
eigh, eigvalsh, svd, svdvals, qr and pinv, batched over leading axes (``wengert.linalg`` is
the public face; solve_triangular, matrix_power and the norms are composites over these).

Several outputs, one primitive. A node has one output array, so eigh, svd, qr and slogdet
are primitives whose output *packs* their results: each result's trailing (matrix) axes are
flattened and the pieces concatenated along one last axis, ``(..., size1 + size2 + ...)``.
``wengert.linalg`` slices the pieces back out (getitem + reshape, both differentiable), so
the decomposition runs once, a loss using only some pieces sends zeros for the others, and
the rules receive the packed seed (or return the packed tangent) and split it the same way.

Rules are written with ``ns`` ops, so ``create_graph=True``, forward-over-reverse and
forward mode differentiate them again. Symmetric inputs (cholesky, eigh, eigvalsh) get a
symmetric gradient as in torch, and their JVPs use the tangent's symmetric part, so that a
JVP is exactly the transpose of the VJP (torch's JVP takes the tangent as given; the two
agree on symmetric tangents). Derivatives that do not exist (equal eigenvalues or singular
values reached through the vectors, a zero singular value, a singular matrix for slogdet's
gradient or det's second derivative) raise :class:`LinAlgError` where torch returns inf or
NaN; det's gradient at a singular matrix is its cofactor matrix, as torch's.
"""
import math

import numpy as np

from ..autodiff.primitive import ARRAY, defop
from ..errors import ArgumentError, DTypeError, LinAlgError, ShapeError
from ..tensor import Tensor

_FLOATS = (np.float32, np.float64)


# --- checks and LAPACK failures ---------------------------------------------------------------
def _matrix(op, a, square=True):
    """``a`` as an array, checked: float32/float64 (no silent upcast of ints, as torch) and
    at least 2-D, square in its last two axes when ``square``."""
    a = np.asarray(a)
    if a.dtype not in _FLOATS:
        raise DTypeError(f"{op}: expected a float32 or float64 matrix, got dtype {a.dtype} "
                         f"(shape {a.shape}). Hint: convert it with .astype('float64')")
    if a.ndim < 2 or square and a.shape[-1] != a.shape[-2]:
        kind = "a square matrix (shape (..., n, n))" if square else "a matrix (shape (..., m, n))"
        raise ShapeError(f"{op}: expected {kind} or a batch of them, got shape {a.shape}. "
                         "Hint: the last two axes are the matrix; the ones before are a batch")
    return a


def _lapack(op, fn, a, *args, problem, hint, check=None, **kw):
    """``fn(a, *args, **kw)``, with NumPy's LinAlgError as ours, naming the op, the first
    failing batch element (found by trying ``check``, or ``fn``, on each matrix: this
    costs only when it failed), the shape and dtype."""
    try:
        return fn(a, *args, **kw)
    except np.linalg.LinAlgError:
        check = check or (lambda m: fn(m, *args, **kw))
        where = ""
        for idx in np.ndindex(a.shape[:-2]):
            try:
                check(a[idx])
            except np.linalg.LinAlgError:
                where = f"batch element {idx} of " if idx else ""
                break
        raise LinAlgError(f"{op}: {problem} ({where}a {a.dtype} input of shape {a.shape}). "
                          f"Hint: {hint}") from None


_SINGULAR = "use pinv, or regularize with A + eps * I"


def _values(x):
    """The numbers in ``x`` (an array, or a Tensor when a rule builds a graph), to test."""
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _divide(ns, num, den, op, what):
    """``num / den`` where ``den`` may hold exact zeros (equal eigenvalues or singular
    values, a zero singular value). Where ``num`` is zero too, nothing flows through that
    entry (a loss of the eigenvalues alone, say) and the quotient is 0; where it is not, the
    derivative does not exist and this raises, where torch would return inf or NaN."""
    zero = _values(den) == 0
    if not zero.any():
        return num / den
    if np.any(zero & (_values(num) != 0)):
        raise LinAlgError(f"{op}: the derivative does not exist here: {what}. Hint: it is "
                          "defined for distinct values (perturb the input slightly), or for "
                          "a loss of the values alone (eigvalsh, svdvals)")
    return ns.where(zero, 0, num / ns.where(zero, 1, den))


# --- small matrix helpers that work in both namespaces -----------------------------------------
def _mT(ns, x):
    return ns.swapaxes(x, axis1=-1, axis2=-2)


def _diagonal(ns, x):
    return ns.einsum(x, subscripts="...ii->...i")


def _diag_embed(ns, v):
    return ns.expand_dims(v, axis=-1) * np.eye(v.shape[-1], dtype=v.dtype)


def _sym(ns, x):
    return (x + _mT(ns, x)) * 0.5


def _tril(x, k=0):
    """``x`` with the entries above diagonal ``k`` zeroed (a constant mask, so the same
    multiply is differentiable)."""
    n = x.shape[-1]
    return x * np.tril(np.ones((n, n), dtype=x.dtype), k)


def _solve_right(ns, b, a):
    """``b @ inv(a)``, as a solve."""
    return _mT(ns, ns.solve(_mT(ns, a), _mT(ns, b)))


def _pack(ns, batch, *parts):
    return ns.concatenate(*[ns.reshape(p, shape=batch + (-1,)) for p in parts], axis=-1)


def unpack(ns, packed, shapes):
    """The pieces of a packed output (or seed): one per trailing shape in ``shapes``."""
    batch = tuple(packed.shape[:-1])
    pieces, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        pieces.append(ns.reshape(packed[..., start:start + size], shape=batch + shape))
        start += size
    return pieces


# --- inv, det, slogdet, solve ------------------------------------------------------------------
def _inv(a):
    a = _matrix("inv", a)
    return _lapack("inv", np.linalg.inv, a, problem="the matrix is singular", hint=_SINGULAR)


inv = defop(
    "inv", _inv,
    # d(A^-1) = -A^-1 dA A^-1
    vjp=[lambda ns, g, ans, a: -ns.matmul(_mT(ns, ans), ns.matmul(g, _mT(ns, ans)))],
    jvp=[lambda ns, t, ans, a: -ns.matmul(ans, ns.matmul(t, ans))],
    saves="output", doc="Inverse of a square matrix (batched); LinAlgError if singular.")


def _inverse_for_gradient(ns, a, op):
    """inv(A) inside slogdet's rules: log|det A| has no derivative at a singular matrix."""
    try:
        return ns.inv(a)
    except LinAlgError as exc:
        raise LinAlgError(f"{op}: no derivative at a singular matrix here ({exc})") from None


def _det(a):
    return np.linalg.det(_matrix("det", a))


def _trace_inv_times(ns, a, t, op):
    """trace(A^-1 T) = sum(A^-T * T), the derivative of log|det A| in direction T."""
    return ns.sum(_mT(ns, _inverse_for_gradient(ns, a, op)) * t, axis=(-2, -1))


def _cofactors_by_svd(a):
    """The cofactor matrix det(A) A^-T, also where A is singular (it exists there; the
    inverse does not): with A = U S Vh, it is det(U) det(Vh) U diag(c) Vh, where c_i is the
    product of the singular values other than s_i (prefix times suffix products, no
    division)."""
    u, s, vh = np.linalg.svd(a)
    ones = np.ones_like(s[..., :1])
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * np.matmul(u * (before * after)[..., None, :], vh)


def _cofactors(ns, a, ans):
    """det(A) A^-T, the derivative of det. Where A is singular only first derivatives are
    given (by an SVD, as torch's there), in reverse mode; a graph through them (a second
    derivative, or forward mode, which runs its rules on tensors) raises LinAlgError."""
    try:
        inv_t = _mT(ns, ns.inv(a))
    except LinAlgError as exc:
        if isinstance(a, Tensor):  # a graph through the cofactors, or forward mode
            raise LinAlgError("det: at a singular matrix, only the first derivative in "
                              f"reverse mode is given here ({exc})") from None
        return _cofactors_by_svd(a)
    return ns.expand_dims(ns.expand_dims(ans, axis=-1), axis=-1) * inv_t


det = defop(
    "det", _det,
    # d det(A) = sum(cofactors(A) * dA), with cofactors(A) = det(A) A^-T where A is invertible
    vjp=[lambda ns, g, ans, a: ns.expand_dims(ns.expand_dims(g, axis=-1), axis=-1)
         * _cofactors(ns, a, ans)],
    jvp=[lambda ns, t, ans, a: ns.sum(_cofactors(ns, a, ans) * t, axis=(-2, -1))],
    saves="both", doc="Determinant of a square matrix (batched).")


def _slogdet(a):
    a = _matrix("slogdet", a)
    sign, logabs = np.linalg.slogdet(a)
    return _pack(ARRAY, a.shape[:-2], sign[..., None], logabs[..., None])


def _slogdet_vjp(ns, g, ans, a):
    g_logabs = g[..., 1]  # the sign is piecewise constant: no gradient
    return (ns.expand_dims(ns.expand_dims(g_logabs, axis=-1), axis=-1)
            * _mT(ns, _inverse_for_gradient(ns, a, "slogdet")))


def _slogdet_jvp(ns, t, ans, a):
    dlog = _trace_inv_times(ns, a, t, "slogdet")
    return ns.concatenate(ns.expand_dims(dlog * 0, axis=-1), ns.expand_dims(dlog, axis=-1),
                          axis=-1)


slogdet_packed = defop(
    "slogdet_packed", _slogdet, vjp=[_slogdet_vjp], jvp=[_slogdet_jvp], saves="inputs",
    doc="(sign, log|det|) of a square matrix, packed along a last axis of size 2.")


def _solve(a, b):
    a = _matrix("solve", a)
    b = np.asarray(b)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ShapeError(f"solve: A of shape {a.shape} and B of shape {b.shape} do not fit: "
                         f"B must be (..., {a.shape[-1]}, k) here. Hint: wengert.linalg.solve "
                         "also takes a vector (or a batch of them) as B")
    if b.dtype != a.dtype:
        raise DTypeError(f"solve: A is {a.dtype} but B is {b.dtype}. Hint: convert one with "
                         f".astype('{a.dtype}')")
    return _lapack("solve", np.linalg.solve, a, b, problem="A is singular", hint=_SINGULAR,
                   check=np.linalg.inv)


# X = A^-1 B: dX = A^-1 (dB - dA X); gB = A^-T g, gA = -gB X^T
solve = defop(
    "solve", _solve,
    vjp=[lambda ns, g, ans, a, b: -ns.matmul(ns.solve(_mT(ns, a), g), _mT(ns, ans)),
         lambda ns, g, ans, a, b: ns.solve(_mT(ns, a), g)],
    jvp=[lambda ns, t, ans, a, b: -ns.solve(a, ns.matmul(t, ans)),
         lambda ns, t, ans, a, b: ns.solve(a, t)],
    # B's rule reads A only and A's reads A and X, but a tuple cannot name the output
    saves="both", doc="X with A @ X = B for a square A and a (batch of) matrix B.")


# --- cholesky ---------------------------------------------------------------------------------
def _cholesky(a):
    a = _matrix("cholesky", a)
    return _lapack("cholesky", np.linalg.cholesky, a, problem="the matrix is not positive "
                   "definite", hint="pass a symmetric positive-definite matrix (A @ A.mT + "
                   "eps * I is one)")


def _cholesky_vjp(ns, g, ans, a):
    # torch's rule: gA = L^-T Phi L^-1 with Phi = sym. part of tril(L^T gL), diagonal halved;
    # it is symmetric, the gradient over symmetric matrices
    p = _tril(ns.matmul(_mT(ns, ans), g))
    phi = (p + _mT(ns, _tril(p, -1))) * 0.5
    l_inv = ns.inv(ans)
    return ns.matmul(_mT(ns, l_inv), ns.matmul(phi, l_inv))


def _cholesky_jvp(ns, t, ans, a):
    # dL = L Phi(L^-1 dA L^-T), Phi: the lower triangle with the diagonal halved
    l_inv = ns.inv(ans)
    x = ns.matmul(l_inv, ns.matmul(_sym(ns, t), _mT(ns, l_inv)))
    n = x.shape[-1]
    half_diagonal = np.tril(np.ones((n, n), dtype=x.dtype), -1) + 0.5 * np.eye(n, dtype=x.dtype)
    return ns.matmul(ans, x * half_diagonal)


cholesky = defop("cholesky", _cholesky, vjp=[_cholesky_vjp], jvp=[_cholesky_jvp],
                 saves="output", doc="Lower Cholesky factor L (A = L @ L.mT) of a symmetric "
                 "positive-definite matrix (batched; reads the lower triangle).")


# --- eigh, eigvalsh ---------------------------------------------------------------------------
def eigh_shapes(n):
    return [(n,), (n, n)]


def _eigh(a, UPLO="L"):
    a = _matrix("eigh", a)
    w, v = _lapack("eigh", np.linalg.eigh, a, UPLO=UPLO, problem="the eigenvalue "
                   "iteration did not converge", hint="check the input for NaN or Inf")
    return _pack(ARRAY, a.shape[:-2], w, v)


def _gaps(ns, values, square=False):
    """E[..., i, j] = values[j] - values[i] (of the squares when ``square``)."""
    if square:
        values = values * values
    return ns.expand_dims(values, axis=-2) - ns.expand_dims(values, axis=-1)


_EQUAL_EIGENVALUES = "two eigenvalues are equal and the loss depends on their eigenvectors"


def _eigh_vjp(ns, g, ans, a, UPLO="L"):
    n = a.shape[-1]
    w, v = unpack(ns, ans, eigh_shapes(n))
    gw, gv = unpack(ns, g, eigh_shapes(n))
    # gA = V (diag(gw) + skew(V^T gV) / E) V^T, E_ij = w_j - w_i: symmetric, as torch's
    x = ns.matmul(_mT(ns, v), gv)
    inner = _divide(ns, (x - _mT(ns, x)) * 0.5, _gaps(ns, w), "eigh", _EQUAL_EIGENVALUES)
    return ns.matmul(v, ns.matmul(inner + _diag_embed(ns, gw), _mT(ns, v)))


def _eigh_jvp(ns, t, ans, a, UPLO="L"):
    n = a.shape[-1]
    w, v = unpack(ns, ans, eigh_shapes(n))
    p = ns.matmul(_mT(ns, v), ns.matmul(_sym(ns, t), v))
    off = p * (1 - np.eye(n, dtype=p.dtype))
    dv = ns.matmul(v, _divide(ns, off, _gaps(ns, w), "eigh", _EQUAL_EIGENVALUES))
    return _pack(ns, tuple(ans.shape[:-1]), _diagonal(ns, p), dv)


eigh_packed = defop(
    "eigh_packed", _eigh, vjp=[_eigh_vjp], jvp=[_eigh_jvp], saves="output",
    doc="Eigenvalues (ascending) and eigenvectors of a symmetric matrix, packed: (..., n + n*n).")


def _eigvalsh(a, UPLO="L"):
    a = _matrix("eigvalsh", a)
    return _lapack("eigvalsh", np.linalg.eigvalsh, a, UPLO=UPLO, problem="the eigenvalue "
                   "iteration did not converge", hint="check the input for NaN or Inf")


def _eigenvectors(ns, a, UPLO):
    """The eigenvectors again, for eigvalsh's rules (its forward skips them)."""
    return unpack(ns, ns.eigh_packed(a, UPLO=UPLO), eigh_shapes(a.shape[-1]))[1]


def _eigvalsh_vjp(ns, g, ans, a, UPLO="L"):
    v = _eigenvectors(ns, a, UPLO)  # gA = V diag(g) V^T
    return ns.matmul(v * ns.expand_dims(g, axis=-2), _mT(ns, v))


def _eigvalsh_jvp(ns, t, ans, a, UPLO="L"):
    v = _eigenvectors(ns, a, UPLO)  # dw_i = v_i^T dA v_i
    return ns.sum(v * ns.matmul(_sym(ns, t), v), axis=-2)


eigvalsh = defop("eigvalsh", _eigvalsh, vjp=[_eigvalsh_vjp], jvp=[_eigvalsh_jvp],
                 saves="inputs", doc="Eigenvalues (ascending) of a symmetric matrix.")


# --- svd, svdvals -----------------------------------------------------------------------------
def svd_shapes(m, n, full_matrices):
    k = min(m, n)
    return [(m, m if full_matrices else k), (k,), (n if full_matrices else k, n)]


def _svd(a, full_matrices=True):
    a = _matrix("svd", a, square=False)
    u, s, vh = _lapack("svd", np.linalg.svd, a, full_matrices=full_matrices,
                       problem="the SVD did not converge", hint="check the input for NaN or Inf")
    return _pack(ARRAY, a.shape[:-2], u, s, vh)


_EQUAL_SINGULAR = "two singular values are equal and the loss depends on their singular vectors"
_ZERO_SINGULAR = ("a singular value is 0 and the loss depends on the singular vectors "
                  "outside the range (a rank-deficient non-square matrix)")


def _svd_parts(ns, packed, a, full_matrices):
    """U, S, V (not Vh) of the reduced SVD: for full_matrices=True, the extra columns of U
    and rows of Vh are an arbitrary basis, so their gradients are ignored (as torch)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = unpack(ns, packed, svd_shapes(m, n, full_matrices))
    return u[..., :k], s, _mT(ns, vh[..., :k, :])


def _svd_vjp(ns, g, ans, a, full_matrices=True):
    m, n = a.shape[-2:]
    u, s, v = _svd_parts(ns, ans, a, full_matrices)
    gu, gs, gv = _svd_parts(ns, g, a, full_matrices)
    # gA = U [J S + S K + diag(gS)] V^T with J = skew(U^T gU)/E, K = skew(V^T gV)/E,
    # E_ij = s_j^2 - s_i^2; plus the parts of gU, gV outside the ranges of U, V
    gaps = _gaps(ns, s, square=True)
    x = ns.matmul(_mT(ns, u), gu)
    y = ns.matmul(_mT(ns, v), gv)
    j = _divide(ns, x - _mT(ns, x), gaps, "svd", _EQUAL_SINGULAR)
    k = _divide(ns, y - _mT(ns, y), gaps, "svd", _EQUAL_SINGULAR)
    inner = j * ns.expand_dims(s, axis=-2) + ns.expand_dims(s, axis=-1) * k + _diag_embed(ns, gs)
    ga = ns.matmul(u, ns.matmul(inner, _mT(ns, v)))
    if m > min(m, n):  # (I - U U^T) gU S^-1 V^T
        rest = gu - ns.matmul(u, x)
        ga = ga + ns.matmul(_divide(ns, rest, ns.expand_dims(s, axis=-2), "svd", _ZERO_SINGULAR),
                            _mT(ns, v))
    if n > min(m, n):  # U S^-1 gV^T (I - V V^T)
        rest = _mT(ns, gv - ns.matmul(v, y))
        ga = ga + ns.matmul(u, _divide(ns, rest, ns.expand_dims(s, axis=-1), "svd",
                                       _ZERO_SINGULAR))
    return ga


def _svd_jvp(ns, t, ans, a, full_matrices=True):
    m, n = a.shape[-2:]
    k = min(m, n)
    if full_matrices and m != n:
        raise LinAlgError(f"svd: forward mode is not defined for full_matrices=True on a "
                          f"non-square matrix (shape {a.shape}): the extra singular vectors are "
                          "an arbitrary basis. Hint: pass full_matrices=False")
    u, s, v = _svd_parts(ns, ans, a, full_matrices)
    # dP = U^T dA V; dS = diag(dP); dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1,
    # dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1, F_ij = 1 / (s_j^2 - s_i^2)
    gaps = _gaps(ns, s, square=True)
    av = ns.matmul(t, v)
    atu = ns.matmul(_mT(ns, t), u)
    dp = ns.matmul(_mT(ns, u), av)
    s_row, s_col = ns.expand_dims(s, axis=-2), ns.expand_dims(s, axis=-1)
    off = 1 - np.eye(k, dtype=dp.dtype)
    du = ns.matmul(u, _divide(ns, (dp * s_row + s_col * _mT(ns, dp)) * off, gaps, "svd",
                              _EQUAL_SINGULAR))
    dv = ns.matmul(v, _divide(ns, (s_col * dp + _mT(ns, dp) * s_row) * off, gaps, "svd",
                              _EQUAL_SINGULAR))
    if m > k:
        du = du + _divide(ns, av - ns.matmul(u, dp), s_row, "svd", _ZERO_SINGULAR)
    if n > k:
        dv = dv + _divide(ns, atu - ns.matmul(v, _mT(ns, dp)), s_row, "svd", _ZERO_SINGULAR)
    return _pack(ns, tuple(ans.shape[:-1]), du, _diagonal(ns, dp), _mT(ns, dv))


svd_packed = defop(
    "svd_packed", _svd, vjp=[_svd_vjp], jvp=[_svd_jvp], saves="output",
    doc="U, S, Vh of a matrix (batched), packed: (..., size(U) + k + size(Vh)).")


def _svdvals(a):
    a = _matrix("svdvals", a, square=False)
    return _lapack("svdvals", np.linalg.svd, a, compute_uv=False,
                   problem="the SVD did not converge", hint="check the input for NaN or Inf")


def _singular_vectors(ns, a):
    """U and V again, for svdvals' rules (its forward skips them)."""
    u, _, v = _svd_parts(ns, ns.svd_packed(a, full_matrices=False), a, False)
    return u, v


def _svdvals_vjp(ns, g, ans, a):
    u, v = _singular_vectors(ns, a)  # gA = U diag(g) V^T
    return ns.matmul(u * ns.expand_dims(g, axis=-2), _mT(ns, v))


def _svdvals_jvp(ns, t, ans, a):
    u, v = _singular_vectors(ns, a)  # ds_i = u_i^T dA v_i
    return ns.sum(u * ns.matmul(t, v), axis=-2)


svdvals = defop("svdvals", _svdvals, vjp=[_svdvals_vjp], jvp=[_svdvals_jvp], saves="inputs",
                doc="Singular values of a matrix (batched), descending.")


# --- qr ---------------------------------------------------------------------------------------
QR_MODES = ("reduced", "complete", "r")


def qr_shapes(m, n, mode="reduced"):
    """The packed pieces of ``qr_packed``: Q and R, or R alone for mode 'r' (which does not
    compute Q)."""
    k = min(m, n)
    if mode == "r":
        return [(k, n)]
    if mode == "complete":
        return [(m, m), (m, n)]
    return [(m, k), (k, n)]


def _qr(a, mode="reduced"):
    if mode not in QR_MODES:
        raise ArgumentError(f"qr: mode {mode!r} is not one of {', '.join(map(repr, QR_MODES))}. "
                            "Hint: 'reduced' (the default) is the one to differentiate")
    a = _matrix("qr", a, square=False)
    if mode == "r":
        return _pack(ARRAY, a.shape[:-2], np.linalg.qr(a, mode="r"))
    q, r = np.linalg.qr(a, mode=mode)
    return _pack(ARRAY, a.shape[:-2], q, r)


def _check_differentiable_mode(a, mode):
    """As torch: mode 'r' has no Q, which the derivative needs; a complete Q of a tall matrix
    has m - n extra columns that are an arbitrary basis of the complement of the range, with
    no derivative. (For m <= n the complete and reduced QR are the same.)"""
    m, n = a.shape[-2:]
    if mode == "r":
        raise LinAlgError(f"qr: no derivative with mode='r' (input of shape {tuple(a.shape)}): "
                          "the derivative needs Q, which mode 'r' does not compute. Hint: "
                          "use mode='reduced' to differentiate through qr")
    if mode == "complete" and m > n:
        raise LinAlgError(f"qr: no derivative with mode='complete' for a matrix with more rows "
                          f"than columns (shape {tuple(a.shape)}): the last m - n columns of "
                          "Q are an arbitrary basis. Hint: use mode='reduced', whose Q and R "
                          "are the first n columns and rows of the complete ones")


def _qr_tall_vjp(ns, gq, gr, q, r):
    # m >= n: gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q, copyltu mirrors the lower
    # triangle onto the upper
    m_ = ns.matmul(r, _mT(ns, gr)) - ns.matmul(_mT(ns, gq), q)
    b = gq + ns.matmul(q, _tril(m_) + _mT(ns, _tril(m_, -1)))
    return _solve_right(ns, b, _mT(ns, r))


def _qr_vjp(ns, g, ans, a, mode="reduced"):
    _check_differentiable_mode(a, mode)
    m, n = a.shape[-2:]
    q, r = unpack(ns, ans, qr_shapes(m, n, mode))
    gq, gr = unpack(ns, g, qr_shapes(m, n, mode))
    if m >= n:
        return _with_rank_check(lambda: _qr_tall_vjp(ns, gq, gr, q, r), a)
    # wide: A = [X Y], X = Q U, Y = Q V (R = [U V]); V = Q^T Y sends gV to Q and to Y
    u, v = r[..., :m], r[..., m:]
    gu, gv = gr[..., :m], gr[..., m:]
    y = ns.matmul(q, v)
    gx = _with_rank_check(lambda: _qr_tall_vjp(ns, gq + ns.matmul(y, _mT(ns, gv)), gu, q, u), a)
    return ns.concatenate(gx, ns.matmul(q, gv), axis=-1)


def _qr_tall_jvp(ns, t, q, r):
    # C = Q^T dA R^-1 = Omega (skew) + Delta (upper): dR = Delta R, dQ = dA R^-1 - Q Delta
    t_rinv = _solve_right(ns, t, r)
    c = ns.matmul(_mT(ns, q), t_rinv)
    lower = _tril(c, -1)
    delta = c - lower + _mT(ns, lower)
    return t_rinv - ns.matmul(q, delta), ns.matmul(delta, r)


def _qr_jvp(ns, t, ans, a, mode="reduced"):
    _check_differentiable_mode(a, mode)
    m, n = a.shape[-2:]
    q, r = unpack(ns, ans, qr_shapes(m, n, mode))
    batch = tuple(ans.shape[:-1])
    if m >= n:
        dq, dr = _with_rank_check(lambda: _qr_tall_jvp(ns, t, q, r), a)
        return _pack(ns, batch, dq, dr)
    u, v = r[..., :m], r[..., m:]
    dq, du = _with_rank_check(lambda: _qr_tall_jvp(ns, t[..., :m], q, u), a)
    dv = ns.matmul(_mT(ns, dq), ns.matmul(q, v)) + ns.matmul(_mT(ns, q), t[..., m:])
    return _pack(ns, batch, dq, ns.concatenate(du, dv, axis=-1))


def _with_rank_check(rule, a):
    """QR's derivative solves with R, which is singular when A has dependent columns."""
    try:
        return rule()
    except LinAlgError:
        raise LinAlgError(f"qr: no derivative for an input of shape {tuple(a.shape)} whose "
                          "first min(m, n) columns are linearly dependent (R is singular). "
                          "Hint: QR is differentiable at full-rank inputs") from None


qr_packed = defop("qr_packed", _qr, vjp=[_qr_vjp], jvp=[_qr_jvp], saves="output",
                  doc="QR of a matrix (batched), packed: Q and R of the mode ('reduced': "
                  "(..., m*k + k*n); 'complete': (..., m*m + m*n)), or R alone for mode 'r'.")


# --- pinv -------------------------------------------------------------------------------------
def _pinv(a, rtol=None):
    a = _matrix("pinv", a, square=False)
    # rtol=None: torch's default cutoff, max(m, n) * eps times the largest singular value
    return _lapack("pinv", np.linalg.pinv, a, rtol=rtol, problem="the SVD did not converge",
                   hint="check the input for NaN or Inf")


def _pinv_vjp(ns, g, ans, a, rtol=None):
    # gA = -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A), P = pinv(A); valid where
    # the rank does not change (Golub and Pereyra)
    p, pt, gt = ans, _mT(ns, ans), _mT(ns, g)
    first = -ns.matmul(pt, ns.matmul(g, pt))
    second = ns.matmul(gt - ns.matmul(a, ns.matmul(p, gt)), ns.matmul(p, pt))
    third = ns.matmul(ns.matmul(pt, p), gt - ns.matmul(ns.matmul(gt, p), a))
    return first + second + third


def _pinv_jvp(ns, t, ans, a, rtol=None):
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P
    p, pt, tt = ans, _mT(ns, ans), _mT(ns, t)
    first = -ns.matmul(p, ns.matmul(t, p))
    second = ns.matmul(ns.matmul(p, pt), tt - ns.matmul(ns.matmul(tt, a), p))
    third = ns.matmul(tt - ns.matmul(p, ns.matmul(a, tt)), ns.matmul(pt, p))
    return first + second + third


pinv = defop("pinv", _pinv, vjp=[_pinv_vjp], jvp=[_pinv_jvp], saves="both",
             doc="Moore-Penrose pseudo-inverse (batched), via the SVD.")
