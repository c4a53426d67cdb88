"""Ready-made parametrizations, as ``torch.nn.utils.parametrizations``: ``weight_norm``,
``spectral_norm`` and ``orthogonal``, each registered with
:func:`~wengert.nn.utils.parametrize.register_parametrization`, so their state dict keys are
torch's (``parametrizations.weight.original0``/``original1`` for weight norm;
``parametrizations.weight.original`` and ``parametrizations.weight.0._u``/``_v`` for spectral
norm; ``parametrizations.weight.0.base`` for orthogonal) and a torch state dict loads as it is.

The forward computations are written with wengert ops, so they differentiate in every mode;
the work torch does without recording (spectral norm's power iteration, the orthogonal map's
initialisation) is plain NumPy.
"""
import math

import numpy as np

from ...autodiff.grad_mode import no_grad
from ...errors import ArgumentError, ShapeError
from ...linalg import solve, vector_norm
from ...ops.linalg import dot
from ...ops.shape import concatenate
from ...ops.structure import diagonal, tril
from ...random import default_generator
from ...tensor import Tensor
from ..conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..distance import normalize
from ..errors import check_choice
from ..module import Module
from .parametrize import register_parametrization

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


# --- weight norm ----------------------------------------------------------------------------
def norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every axis but ``dim``, kept as size-1 axes (torch's
    ``norm_except_dim``); ``dim=-1`` means over everything, a 0-d result, as in torch."""
    if dim == -1:
        return vector_norm(v)
    if not -v.ndim <= dim < v.ndim:
        raise ArgumentError(f"weight_norm: dim={dim} is out of range for a tensor of shape "
                            f"{v.shape}. Hint: dim is the axis that keeps one norm per entry "
                            "(0 for a layer's outputs); None normalises the whole tensor")
    axes = tuple(a for a in range(v.ndim) if a != dim % v.ndim)
    return vector_norm(v, 2, dim=axes, keepdim=True) if axes else abs(v)


def weight_norm_value(v, g, dim):
    """``v * (g / ||v||)``, the norm taken over every axis but ``dim`` (torch's
    ``_weight_norm``)."""
    return v * (g / norm_except_dim(v, dim))


class _WeightNorm(Module):
    """``weight = g * v / ||v||``: the magnitude ``g`` (original0) apart from the direction
    ``v`` (original1)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_norm_value(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Weight normalisation (Salimans and Kingma, 2016) of ``module.<name>``:
    ``w = g * v / ||v||``, with the magnitude ``g``
    (``parametrizations.<name>.original0``, one entry per index along ``dim``) and the
    direction ``v`` (``original1``) trained apart. ``dim=None`` takes one norm over the whole
    tensor. Returns ``module``.

    Not done: torch also loads a state dict saved with the hook-style names (``weight_g``,
    ``weight_v``) into this form; load those with :func:`wengert.nn.utils.weight_norm`."""
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


# --- spectral norm --------------------------------------------------------------------------
def weight_matrix(weight, dim):
    """``weight`` as a matrix with axis ``dim`` as rows and the rest flattened as columns."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def normalized(a, eps):
    """``a / max(||a||, eps)`` of a 1-D array (``F.normalize`` on plain NumPy)."""
    return a / max(float(np.linalg.norm(a)), eps)


def unit_normal(n, dtype, eps):
    """A random unit vector (a normalized N(0, 1) draw from wengert's global generator)."""
    return Tensor(normalized(default_generator().numpy.standard_normal(n).astype(dtype), eps))


class _SpectralNorm(Module):
    """``weight / sigma``, ``sigma = u . (W v)`` estimated by power iteration on the buffers
    ``_u``, ``_v`` (a 1-D weight is just normalized)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if not -ndim <= dim < ndim:
            raise ArgumentError(f"spectral_norm: dim={dim} is out of range for a weight of "
                                f"shape {weight.shape}; it must be in [{-ndim}, {ndim - 1}]")
        if n_power_iterations <= 0:
            raise ArgumentError(f"spectral_norm: n_power_iterations={n_power_iterations} must "
                                "be positive")
        self.dim = dim % ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            W = weight_matrix(weight, self.dim)
            h, w = W.shape
            self.register_buffer("_u", unit_normal(h, W.dtype, eps))
            self.register_buffer("_v", unit_normal(w, W.dtype, eps))
            # torch starts from the leading singular vectors, not from the random draws
            self._power_method(W.data, 15)

    def _power_method(self, W, n_power_iterations):
        u, v = self._u, self._v
        with no_grad():
            for _ in range(n_power_iterations):
                u[...] = normalized(W @ v.data, self.eps)
                v[...] = normalized(W.T @ u.data, self.eps)

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        W = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(W.data, self.n_power_iterations)
        u, v = Tensor(self._u.data.copy()), Tensor(self._v.data.copy())
        return weight / dot(u, W @ v)

    def right_inverse(self, value):
        return value


def default_spectral_dim(module):
    """1 for transposed convolutions (their weights are (in, out, ...)), else 0."""
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


def _tensor_of(fname, module, name):
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ArgumentError(f"{fname}: {type(module).__name__} has no parameter or buffer "
                            f"named {name!r}")
    return weight


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalisation (Miyato et al., 2018) of ``module.<name>``: ``W / sigma(W)``,
    ``sigma`` the largest singular value of the weight as a matrix (axis ``dim`` as rows;
    default 0, 1 for transposed convolutions), estimated by power iteration, as torch's:

    - on registration ``u`` and ``v`` (buffers ``parametrizations.<name>.0._u``/``_v``) are
      random unit vectors, refined by 15 iterations (and one more for the check of the new
      parametrization, in training mode);
    - each read of the weight in training mode runs ``n_power_iterations`` more, updating
      the buffers in place; in eval mode the stored ``u``, ``v`` are used as they are;
    - ``sigma = u . (W v)`` with ``u``, ``v`` held constant, so the gradient flows through
      ``W`` in both the numerator and ``sigma``;
    - a 1-D tensor is divided by its norm (at least ``eps``).

    The random start comes from wengert's generator, so values match torch's only once its
    ``_u``/``_v`` are loaded (``load_state_dict``). Returns ``module``."""
    weight = _tensor_of("spectral_norm", module, name)
    dim = default_spectral_dim(module) if dim is None else dim
    return register_parametrization(module, name,
                                    _SpectralNorm(weight, n_power_iterations, dim, eps))


# --- orthogonal -----------------------------------------------------------------------------
_TAYLOR_DEGREE = 18


def _matrix_exp(A):
    """``exp(A)`` of a (batch of) square matrices by scaling and squaring: the degree-18
    Taylor polynomial of ``A / 2^s`` (norm at most 1, remainder below 1e-17) squared ``s``
    times. Written with matmuls, so it differentiates in every mode."""
    n = A.shape[-1]
    norm = float(np.abs(A.data).sum(axis=-2).max()) if A.size else 0.0
    s = max(0, math.ceil(math.log2(norm))) if norm > 0 else 0
    B = A / 2.0 ** s
    eye = np.eye(n, dtype=A.dtype)
    E = eye + B / _TAYLOR_DEGREE
    for j in range(_TAYLOR_DEGREE - 1, 0, -1):
        E = eye + (B @ E) / j
    for _ in range(s):
        E = E @ E
    return E


def _householder_product(A, tau):
    """The first ``k`` columns of ``H_1 ... H_k`` for the reflectors ``H_i = I - tau_i v_i
    v_i^T``, ``v_i`` column ``i`` of ``A`` below the diagonal with a 1 on it (torch's
    ``linalg.householder_product``), as matmuls."""
    n, k = A.shape[-2:]
    V = A + np.eye(n, k, dtype=A.dtype)
    Q = np.broadcast_to(np.eye(n, k, dtype=A.dtype), A.shape)
    for i in range(k - 1, -1, -1):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i:i + 1][..., None] * (v @ (v.mT @ Q))
    return Q


def _make_orthogonal(A):
    """The Q of ``A = QR`` with ``diag(R) >= 0`` (a tall matrix or a batch)."""
    Q, R = np.linalg.qr(A)
    return Q * np.sign(np.diagonal(R, axis1=-2, axis2=-1))[..., None, :]


def _is_orthogonal(Q):
    n, k = Q.shape[-2:]
    atol = 10.0 * n * np.finfo(Q.dtype).eps
    return np.allclose(np.swapaxes(Q, -1, -2) @ Q, np.eye(k), atol=atol)


def _reflectors(Q):
    """LAPACK's ``geqrf`` of ``Q`` with the diagonal replaced by the signs that make the
    Householder product of the result ``Q`` again (torch's right inverse without
    trivialization)."""
    h, tau = np.linalg.qr(Q, mode="raw")
    A = np.swapaxes(h, -1, -2).copy()
    k = A.shape[-1]
    signs = np.sign(np.diagonal(A, axis1=-2, axis2=-1)).copy()
    signs[tau == 0] *= -1
    A[..., np.arange(k), np.arange(k)] = signs
    return A


class _Orthogonal(Module):
    """An orthogonal matrix (orthonormal columns, or rows when wide) from an unconstrained
    one, by ``matrix_exp``/``cayley`` of its skew-symmetric part or a product of Householder
    reflectors; times the buffer ``base`` under the dynamic trivialization."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = tril(X)
            if n != k:
                X = concatenate([X, np.zeros(X.shape[:-2] + (n, n - k), X.dtype)], axis=-1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = _matrix_exp(A)
            else:
                eye = np.eye(n, dtype=A.dtype)
                Q = solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = tril(X, -1)
            tau = 2.0 / (1.0 + (A * A).sum(axis=-2))
            Q = _householder_product(A, tau)
            # torch multiplies by the diagonal cast to int (+-1 from the initialisation; it
            # gets no gradient)
            Q = Q * np.trunc(diagonal(X, 0, -2, -1).data)[..., None, :]
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        if Q.shape != self.shape:
            raise ShapeError(f"orthogonal: expected a matrix (or batch) of shape {self.shape}, "
                             f"got {Q.shape}")
        q = Q.data
        n, k = q.shape[-2:]
        transpose = n < k
        if transpose:
            q = np.swapaxes(q, -1, -2)
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "orthogonal: without use_trivialization, matrix_exp and cayley cannot be "
                    "assigned to (as in torch)")
            A = _reflectors(q)
            return Tensor(np.swapaxes(A, -1, -2) if transpose else A)
        if n == k:
            q = q.copy() if _is_orthogonal(q) else _make_orthogonal(q)
        else:
            extra = default_generator().numpy.standard_normal(q.shape[:-2] + (n, n - k))
            q = _make_orthogonal(np.concatenate([q, extra.astype(q.dtype)], axis=-1))
        self.base = Tensor(q)
        neg_eye = np.zeros(Q.shape, Q.dtype)
        neg_eye[..., np.arange(min(Q.shape[-2:])), np.arange(min(Q.shape[-2:]))] = -1
        return Tensor(neg_eye)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Make ``module.<name>`` (a matrix, or a batch of them over leading axes) orthogonal:
    ``Q^T Q = I`` when tall, ``Q Q^T = I`` when wide. ``orthogonal_map``: ``"matrix_exp"``
    (the default for square matrices), ``"cayley"`` or ``"householder"`` (the default
    otherwise), as torch's. With ``use_trivialization`` (default) the buffer
    ``parametrizations.<name>.0.base`` holds the starting orthogonal matrix (the weight made
    orthogonal by QR, completed by random columns when it is not square; from wengert's
    generator) and the map moves away from it. Returns ``module``.

    ``matrix_exp`` is computed by scaling and squaring of a degree-18 Taylor polynomial (agrees
    with ``torch.matrix_exp`` to rounding in float64); real tensors only, as wengert has no
    complex dtypes."""
    weight = _tensor_of("orthogonal", module, name)
    if weight.ndim < 2:
        raise ShapeError(f"orthogonal: expected a matrix or a batch of matrices, got a tensor "
                         f"of shape {weight.shape} ({weight.ndim} dims)")
    if orthogonal_map is None:
        orthogonal_map = ("matrix_exp" if weight.shape[-2] == weight.shape[-1]
                          else "householder")
    check_choice("orthogonal", "orthogonal_map", orthogonal_map,
                 ("matrix_exp", "cayley", "householder"))
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    return register_parametrization(module, name, orth, unsafe=True)
