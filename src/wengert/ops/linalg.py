"""Linear algebra primitives: matmul (every NumPy shape case) and einsum; dot, outer, mm,
bmm, inner, tensordot and kron are written with them."""
import string

import numpy as np

from ..autodiff.primitive import defop
from ..errors import ShapeError
from .reduce import normalize_axis


def _matmul(a, b):
    try:
        nb = getattr(b, "ndim", 0)
        if nb > 2 and np.ndim(a) >= 2:
            if b.size and not any(b.strides[:-2]):
                return _matmul_shared(a, b)
            if a.shape[-1] == 1 and b.shape[-2] == 1:
                # stacked outer products (per-example weight gradients under vmap): NumPy's
                # matmul runs a tiny product per matrix, einsum one loop (~5x faster)
                return np.einsum("...ik,...kj->...ij", a, b)
        return np.matmul(a, b)
    except ValueError:  # checked here, not before: matmul is on the hot path of every network
        sa, sb = np.shape(a), np.shape(b)
        if not sa or not sb:
            raise ShapeError(f"matmul: operands must be at least 1-D, got shapes {sa} and "
                             f"{sb}; use * for scalars") from None
        inner = sb[0] if len(sb) == 1 else sb[-2]
        if sa[-1] == inner:  # the contracted axes fit, so the batch axes are what differ
            raise ShapeError(f"matmul: shapes {sa} and {sb} do not fit: their batch axes "
                             f"{sa[:-2]} and {sb[:-2]} do not broadcast") from None
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not fit: the last axis "
                         f"of the first ({sa[-1]}) must equal the "
                         f"{'only' if len(sb) == 1 else 'second-to-last'} axis of the second "
                         f"({inner})") from None


def _matmul_shared(a, b):
    """``a @ b`` for a ``b`` whose stack is one matrix broadcast (stride 0: what vmap makes
    of weights that each example differentiates on its own): one product with that matrix,
    not one per stacked copy."""
    stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if a.shape[:-2] != stack:  # a itself would be repeated: the stacked product is no dearer
        return np.matmul(a, b)
    b = b[(0,) * (b.ndim - 2)]
    return (a.reshape(-1, a.shape[-1]) @ b).reshape(stack + (a.shape[-2], b.shape[-1]))


def _mT(ns, x):
    return ns.swapaxes(x, axis1=-1, axis2=-2)


def _matmul_vjp_a(ns, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * b
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
        return ns.expand_dims(g, axis=-1) * b
    if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
        return ns.matmul(b, ns.expand_dims(g, axis=-1))[..., 0]
    return ns.matmul(g, _mT(ns, b))


def _matmul_vjp_b(ns, g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if b.ndim == 1:  # gradient (..., k): sum over n of g[..., n] * a[..., n, k]
        return ns.matmul(ns.expand_dims(g, axis=-2), a)[..., 0, :]
    if a.ndim == 1:  # gradient (..., n, m) = a[n] g[..., m]
        return ns.expand_dims(a, axis=-1) * ns.expand_dims(g, axis=-2)
    return ns.matmul(_mT(ns, a), g)


matmul = defop(
    "matmul", _matmul, vjp=[_matmul_vjp_a, _matmul_vjp_b],
    jvp=[lambda ns, t, ans, a, b: ns.matmul(t, b), lambda ns, t, ans, a, b: ns.matmul(a, t)],
    saves="others", doc="Matrix product with NumPy's rules: 1-D operands are vectors, leading axes batch "
        "and broadcast.")


def dot(a, b):
    """Dot product of two vectors, or a matrix product for 1-D/2-D operands (as ``numpy.dot``
    for those); use ``matmul`` or ``einsum`` beyond 2-D."""
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise ShapeError(f"dot: operands of shapes {np.shape(a)} and {np.shape(b)} have more "
                         "than 2 dims; use matmul (batched) or einsum")
    return matmul(a, b)


def outer(a, b):
    """Outer product of two vectors: ``out[i, j] = a[i] * b[j]``."""
    from .shape import reshape
    return reshape(a, shape=(-1, 1)) * reshape(b, shape=(1, -1))


# --- einsum -----------------------------------------------------------------------------------
def _parse_einsum(subscripts, shapes):
    """Explicit per-operand letter strings and output letters (ellipses expanded)."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins, out = subscripts, None
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ShapeError(f"einsum: '{subscripts}' names {len(ins)} operands, got {len(shapes)}")
    used = set(subscripts) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_ndim = 0
    for s, shp in zip(ins, shapes):
        if "..." in s:
            ell_ndim = max(ell_ndim, len(shp) - (len(s) - 3))
    ell = "".join(spare[:ell_ndim])
    full = []
    for s, shp in zip(ins, shapes):
        if "..." in s:
            k = len(shp) - (len(s) - 3)
            s = s.replace("...", ell[ell_ndim - k:] if k else "")
        if len(s) != len(shp):
            raise ShapeError(f"einsum: subscripts '{s}' do not match an operand of shape {shp}")
        full.append(s)
    if out is None:
        counts = {}
        for s in full:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    else:
        out = out.replace("...", ell)
    return full, out


def _einsum(*operands, subscripts):
    try:
        return np.einsum(subscripts, *operands, optimize=len(operands) > 2)
    except ValueError as exc:
        raise ShapeError(f"einsum '{subscripts}' with shapes "
                         f"{[np.shape(o) for o in operands]}: {exc}") from None


def _einsum_vjp(i):
    def rule(ns, g, ans, *ops, subscripts):
        ins, out = _parse_einsum(subscripts, [o.shape for o in ops])
        target = ins[i]
        sizes = {c: d for s, o in zip(ins, ops) for c, d in zip(s, o.shape)}
        # Repeated letters in the target (a diagonal) get fresh letters tied by identity
        # matrices; letters found only in the target are broadcast with a ones vector.
        used = set("".join(ins) + out)
        spare = iter(c for c in string.ascii_letters if c not in used)
        letters, extra_subs, extra_ops = [], [], []
        for c in target:
            if c in letters:
                fresh = next(spare)
                letters.append(fresh)
                extra_subs.append(c + fresh)
                extra_ops.append(np.eye(sizes[c], dtype=g.dtype))
            else:
                letters.append(c)
        others = [s for k, s in enumerate(ins) if k != i]
        available = set(out + "".join(others) + "".join(extra_subs))
        for c in dict.fromkeys(letters):
            if c not in available:
                extra_subs.append(c)
                extra_ops.append(np.ones(sizes[c], dtype=g.dtype))
        spec = ",".join([out] + others + extra_subs) + "->" + "".join(letters)
        return ns.einsum(g, *[o for k, o in enumerate(ops) if k != i], *extra_ops,
                         subscripts=spec)
    return rule


def _einsum_jvp(i):
    def rule(ns, t, ans, *ops, subscripts):
        return ns.einsum(*ops[:i], t, *ops[i + 1:], subscripts=subscripts)
    return rule


_einsum_prim = defop("einsum", _einsum, saves="inputs")


def einsum(subscripts, *operands):
    """Einstein summation (``numpy.einsum`` subscripts, ellipses and implicit output
    included); differentiable in every operand, diagonals (``'ii->i'``) included."""
    return _einsum_prim(*operands, subscripts=subscripts)


def _install_variadic():
    from .shape import _Variadic
    _einsum_prim.prim.vjps = _Variadic(_einsum_vjp)
    _einsum_prim.prim.jvps = _Variadic(_einsum_jvp)


_install_variadic()


# --- written with matmul and shape ops ------------------------------------------------------
def mm(a, b):
    """Matrix product of two matrices, strictly 2-D (``torch.mm``); ``matmul`` batches and
    broadcasts."""
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) != 2 or len(sb) != 2:
        raise ShapeError(f"mm: needs two 2-D matrices, got shapes {sa} and {sb}. Hint: use "
                         "matmul for vectors or batches")
    if sa[1] != sb[0]:
        raise ShapeError(f"mm: shapes {sa} and {sb} do not fit: the columns of the first "
                         f"({sa[1]}) must equal the rows of the second ({sb[0]})")
    return matmul(a, b)


def bmm(a, b):
    """Batched matrix product of two 3-D tensors with the same batch size, no broadcasting
    (``torch.bmm``)."""
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) != 3 or len(sb) != 3:
        raise ShapeError(f"bmm: needs two 3-D tensors (batch, rows, columns), got shapes {sa} "
                         f"and {sb}. Hint: use matmul to broadcast batches")
    if sa[0] != sb[0] or sa[2] != sb[1]:
        raise ShapeError(f"bmm: shapes {sa} and {sb} do not fit: the batch sizes must be equal "
                         f"({sa[0]}, {sb[0]}) and the columns of the first ({sa[2]}) equal the "
                         f"rows of the second ({sb[1]})")
    return matmul(a, b)


def tensordot(a, b, axes=2):
    """Sum of products over ``axes``: an int N (the last N axes of ``a`` with the first N of
    ``b``) or a pair of axis lists, as ``numpy.tensordot`` and ``torch.tensordot``. The
    contracted axes are moved together and the sum is one ``matmul``."""
    from .shape import reshape, transpose
    sa, sb = np.shape(a), np.shape(b)
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(len(sa), len(sb)):
            raise ShapeError(f"tensordot: cannot contract {axes} axes of shapes {sa} and {sb}")
        axes_a, axes_b = list(range(len(sa) - axes, len(sa))), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a, axes_b = (list(normalize_axis(ax, len(shape), "tensordot", ordered=True))
                          for ax, shape in ((axes_a, sa), (axes_b, sb)))
    if [sa[i] for i in axes_a] != [sb[i] for i in axes_b]:
        raise ShapeError(f"tensordot: axes {axes_a} of shape {sa} and axes {axes_b} of shape "
                         f"{sb} differ in size")
    free_a = [d for d in range(len(sa)) if d not in axes_a]
    free_b = [d for d in range(len(sb)) if d not in axes_b]
    k = int(np.prod([sa[i] for i in axes_a]))
    a2 = reshape(transpose(a, axes=tuple(free_a + axes_a)), shape=(-1, k))
    b2 = reshape(transpose(b, axes=tuple(axes_b + free_b)), shape=(k, -1))
    return reshape(matmul(a2, b2), shape=tuple(sa[d] for d in free_a) +
                   tuple(sb[d] for d in free_b))


def inner(a, b):
    """Sum of products over the last axes of both, as ``numpy.inner`` and ``torch.inner``:
    the result's shape is ``a.shape[:-1] + b.shape[:-1]`` (a product if either is 0-d)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        from .elementwise import multiply
        return multiply(a, b)
    if np.shape(a)[-1] != np.shape(b)[-1]:
        raise ShapeError(f"inner: the last axes of shapes {np.shape(a)} and {np.shape(b)} "
                         "differ")
    return tensordot(a, b, axes=([-1], [-1]))


def kron(a, b):
    """The Kronecker product, as ``numpy.kron`` and ``torch.kron``: block (i, j...) is
    ``a[i, j...] * b`` (the operands' dims are aligned at the right)."""
    from .shape import reshape
    sa, sb = np.shape(a), np.shape(b)
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    # a's axes interleaved with size-1 axes for b's, and the other way round: one broadcast
    # product holds every pair, merged axis by axis
    wide = (reshape(a, shape=tuple(v for s in sa for v in (s, 1)))
            * reshape(b, shape=tuple(v for s in sb for v in (1, s))))
    return reshape(wide, shape=tuple(x * y for x, y in zip(sa, sb)))
