"""Op-table cases for the decompositions behind wengert.linalg (see op_table.py).

Each case builds a well-conditioned matrix from a free input inside the case function
(``x + 4I`` for inverses, ``x x^T + 3I`` for Cholesky, a symmetric ``x + x^T`` plus a spread
diagonal for distinct eigenvalues, a rectangular spread diagonal for distinct singular values
away from 0), so central differences stay accurate; torch does the same construction.
Eigen- and singular vectors and Q, R have arbitrary signs, so the cases differentiate
functions that do not depend on them: projections ``V diag(c) V^T`` with distinct constants
``c``, squares ``Q * Q``, products ``U diag(S) Vh``."""
import numpy as np

from wengert import linalg as LA
from op_table import Case, In

try:
    import torch
except ImportError:
    torch = None

T = torch


def _eye(n):
    return np.eye(n)


def _spread(m, n, top=6.0):
    """A rectangular diagonal with well-separated entries (top, top - 2.5, ...)."""
    d = np.zeros((m, n))
    for i in range(min(m, n)):
        d[i, i] = top - 2.5 * i
    return d


def _t(a):
    return T.as_tensor(a)


def _inv_input(x):
    return x + 4 * _eye(x.shape[-1])


def _spd(x, tx=None):
    """x x^T + 3I, in wengert (tx None) or torch."""
    n = x.shape[-1]
    return x @ x.mT + 3 * (_eye(n) if tx is None else _t(_eye(n)))


def _sym(x):
    """Symmetric with eigenvalues near 0, 4, 8: distinct (x is small)."""
    return x + x.mT + np.diag(4.0 * np.arange(x.shape[-1]))


def _sym_t(x):
    return x + x.mT + _t(np.diag(4.0 * np.arange(x.shape[-1])))


def _projector(v, w=None):
    """V diag(c) V^T with distinct constants c (plus the eigenvalues w): sign-free."""
    c = np.arange(1.0, v.shape[-1] + 1)
    if torch is not None and isinstance(v, torch.Tensor):
        c = _t(c)
    scale = c if w is None else w + c
    return (v * scale[..., None, :]) @ v.mT


def _signed(result):
    return result.sign * result.logabsdet


def _square(x):
    return x * x


SMALL = {"kind": "float", "low": -1.0, "high": 1.0}
TINY = {"kind": "float", "low": -0.3, "high": 0.3}
CASES = []

# --- inv, det, slogdet, solve -------------------------------------------------------------
for shape in [(3, 3), (2, 3, 3)]:
    CASES += [
        Case("inv", lambda x: LA.inv(_inv_input(x)), [In(shape, **SMALL)],
             T and (lambda x: T.linalg.inv(x + 4 * _t(_eye(x.shape[-1]))))),
        Case("det", lambda x: LA.det(_inv_input(x)), [In(shape, **SMALL)],
             T and (lambda x: T.linalg.det(x + 4 * _t(_eye(x.shape[-1]))))),
        Case("slogdet_packed", lambda x: LA.slogdet(_inv_input(x)).logabsdet,
             [In(shape, **SMALL)],
             T and (lambda x: T.linalg.slogdet(x + 4 * _t(_eye(x.shape[-1]))).logabsdet)),
    ]
CASES += [
    Case("det", lambda x: LA.det(x - 4 * _eye(3)), [In((3, 3), **SMALL)],
         T and (lambda x: T.linalg.det(x - 4 * _t(_eye(3)))), label="negative"),
    Case("slogdet_packed", lambda x: _signed(LA.slogdet(x - 4 * _eye(3))),
         [In((3, 3), **SMALL)], T and (lambda x: _signed(T.linalg.slogdet(x - 4 * _t(_eye(3))))),
         label="negative det, sign * logabsdet"),
]
for a_shape, b_shape, label in [((3, 3), (3, 2), "matrix"), ((2, 3, 3), (2, 3), "vectors"),
                                ((3, 3), (2, 3, 2), "broadcast A"),
                                ((2, 1, 3, 3), (4, 3, 1), "broadcast both")]:
    CASES.append(Case("solve", lambda a, b: LA.solve(_inv_input(a), b),
                      [In(a_shape, **SMALL), In(b_shape)],
                      T and (lambda a, b: T.linalg.solve(a + 4 * _t(_eye(3)), b)), label=label))

# --- cholesky, eigh, eigvalsh --------------------------------------------------------------
for shape in [(3, 3), (2, 3, 3)]:
    CASES += [
        Case("cholesky", lambda x: LA.cholesky(_spd(x)), [In(shape, **SMALL)],
             T and (lambda x: T.linalg.cholesky(_spd(x, True)))),
        Case("eigh_packed", lambda x: _projector(*reversed(LA.eigh(_sym(x)))),
             [In(shape, **TINY)],
             T and (lambda x: _projector(*reversed(T.linalg.eigh(_sym_t(x))))),
             label="x".join(map(str, shape)) + " V diag(c + w) V^T"),
        Case("eigvalsh", lambda x: LA.eigvalsh(_sym(x)), [In(shape, **TINY)],
             T and (lambda x: T.linalg.eigvalsh(_sym_t(x)))),
    ]
CASES += [
    Case("cholesky", lambda x: LA.cholesky(_spd(x), upper=True), [In((3, 3), **SMALL)],
         T and (lambda x: T.linalg.cholesky(_spd(x, True), upper=True)), label="upper"),
    Case("eigh_packed", lambda x: LA.eigh(_sym(x)).eigenvalues, [In((2, 3, 3), **TINY)],
         T and (lambda x: T.linalg.eigh(_sym_t(x)).eigenvalues), label="eigenvalues only"),
    Case("eigh_packed", lambda x: _square(LA.eigh(_sym(x)).eigenvectors), [In((4, 4), **TINY)],
         T and (lambda x: _square(T.linalg.eigh(_sym_t(x)).eigenvectors)),
         label="V * V"),
]

# --- svd, svdvals --------------------------------------------------------------------------
def _svd_input(x):
    return x + _spread(*x.shape[-2:])


def _svd_input_t(x):
    return x + _t(_spread(*x.shape[-2:]))


def _svd_case(shape, pick, label, full_matrices=False):
    k = min(shape[-2:])

    def parts(r):  # the reduced factors
        return r[0][..., :k], r[1], r[2][..., :k, :]
    return Case("svd_packed",
                lambda x: pick(*parts(LA.svd(_svd_input(x), full_matrices=full_matrices))),
                [In(shape, **TINY)],
                T and (lambda x: pick(*parts(T.linalg.svd(_svd_input_t(x),
                                                          full_matrices=full_matrices)))),
                label=f"{'x'.join(map(str, shape))} {label}", jvp=not full_matrices
                or shape[-1] == shape[-2])


for shape in [(4, 3), (2, 3, 4), (3, 3)]:
    CASES += [
        _svd_case(shape, lambda u, s, vh: _projector(u), "U diag(c) U^T"),
        _svd_case(shape, lambda u, s, vh: _projector(vh.mT), "V diag(c) V^T"),
        _svd_case(shape, lambda u, s, vh: (u * s[..., None, :]) @ vh * s[..., :1, None],
                  "U diag(S) Vh * S[0]"),
        _svd_case(shape, lambda u, s, vh: s, "S"),
        Case("svdvals", lambda x: LA.svdvals(_svd_input(x)), [In(shape, **TINY)],
             T and (lambda x: T.linalg.svdvals(_svd_input_t(x)))),
    ]
CASES += [_svd_case((4, 3), lambda u, s, vh: _projector(u) * s.sum(), "full U", True),
          _svd_case((2, 3, 4), lambda u, s, vh: _projector(vh.mT), "full Vh", True)]

# --- qr, pinv ------------------------------------------------------------------------------
for shape in [(4, 3), (2, 3, 4), (3, 3)]:
    CASES += [
        Case("qr_packed", lambda x: _square(LA.qr(_svd_input(x)).Q), [In(shape, **TINY)],
             T and (lambda x: _square(T.linalg.qr(_svd_input_t(x)).Q)),
             label=f"{'x'.join(map(str, shape))} Q * Q"),
        Case("qr_packed", lambda x: _square(LA.qr(_svd_input(x)).R), [In(shape, **TINY)],
             T and (lambda x: _square(T.linalg.qr(_svd_input_t(x)).R)),
             label=f"{'x'.join(map(str, shape))} R * R"),
        Case("pinv", lambda x: LA.pinv(_svd_input(x)), [In(shape, **TINY)],
             T and (lambda x: T.linalg.pinv(_svd_input_t(x)))),
        # mode 'r' has no derivative (as torch): its values alone
        Case("qr_packed", lambda x: _square(LA.qr(_svd_input(x), mode="r").R),
             [In(shape, **TINY, diff=False)],
             T and (lambda x: _square(T.linalg.qr(_svd_input_t(x), mode="r").R)),
             label=f"{'x'.join(map(str, shape))} mode r, R * R"),
    ]
# mode 'complete' is differentiable where it equals the reduced QR, m <= n (as torch)
for shape in [(2, 3, 4), (3, 3)]:
    CASES += [
        Case("qr_packed", lambda x: _square(LA.qr(_svd_input(x), mode="complete").Q),
             [In(shape, **TINY)],
             T and (lambda x: _square(T.linalg.qr(_svd_input_t(x), mode="complete").Q)),
             label=f"{'x'.join(map(str, shape))} complete, Q * Q"),
        Case("qr_packed", lambda x: _square(LA.qr(_svd_input(x), mode="complete").R),
             [In(shape, **TINY)],
             T and (lambda x: _square(T.linalg.qr(_svd_input_t(x), mode="complete").R)),
             label=f"{'x'.join(map(str, shape))} complete, R * R"),
    ]
# a tall complete QR has no derivative (torch neither): its values alone
CASES.append(Case("qr_packed", lambda x: _square(LA.qr(_svd_input(x), mode="complete").Q),
                  [In((2, 4, 3), **TINY, diff=False)],
                  T and (lambda x: _square(T.linalg.qr(_svd_input_t(x), mode="complete").Q)),
                  label="2x4x3 complete, Q * Q"))
