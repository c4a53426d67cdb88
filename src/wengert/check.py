"""Numerical differentiation by central differences (float64): the ground truth that
gradient checks compare autodiff against."""
import numpy as np

from .autodiff.grad_mode import no_grad
from .tensor import Tensor


def _values(f, arrays):
    with no_grad():
        out = f(*[Tensor(a) for a in arrays])
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


def numerical_grad(f, x, eps=1e-6, argnum=0, others=()):
    """d f / d x by central differences, for a scalar-valued ``f``: entry i is
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``. ``x`` is converted to float64.
    ``others`` are further positional arguments (held fixed); ``argnum`` is x's position."""
    x = np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    args = [np.array(a.data if isinstance(a, Tensor) else a, dtype=np.float64) for a in others]
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        vals = []
        for step in (eps, -eps):
            flat[i] = old + step
            inputs = args[:argnum] + [x] + args[argnum:]
            out = _values(f, inputs)
            if out.size != 1:
                raise ValueError(f"numerical_grad needs a scalar-valued f, got shape {out.shape}")
            vals.append(float(out.reshape(())))
        flat[i] = old
        grad.reshape(-1)[i] = (vals[0] - vals[1]) / (2 * eps)
    return grad


def numerical_jvp(f, primals, tangents, eps=1e-6):
    """The directional derivative ``(f(x + eps t) - f(x - eps t)) / (2 eps)`` of ``f`` at the
    float64 ``primals`` along ``tangents`` (one tangent per primal)."""
    xs = [np.asarray(p.data if isinstance(p, Tensor) else p, dtype=np.float64) for p in primals]
    ts = [np.asarray(t.data if isinstance(t, Tensor) else t, dtype=np.float64) for t in tangents]
    plus = _values(f, [x + eps * t for x, t in zip(xs, ts)])
    minus = _values(f, [x - eps * t for x, t in zip(xs, ts)])
    return (plus - minus) / (2 * eps)
