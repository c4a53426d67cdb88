"""Numerical differentiation and gradient checking.

Central differences ``(f(x + eps t) - f(x - eps t)) / (2 eps)`` in float64 are the ground
truth that autodiff is checked against. Their error has two parts: truncation, about
``eps**2 * f''' / 6``, falls as ``eps`` shrinks; rounding, about ``1e-16 * |f| / eps``, grows.
For float64 the sum is smallest near ``eps = 1e-5 .. 1e-6`` (see
:func:`central_difference_errors` and docs/autodiff.md), hence the default ``eps=1e-6``. In
float32 rounding alone is ``1e-7 / 1e-6``, which is why :func:`gradcheck` computes in float64.
"""
import warnings

import numpy as np

from .autodiff.grad_mode import no_grad
from .errors import ArgumentError, GradcheckError, ShapeError
from .ops.shape import concatenate, reshape
from .pytree import flatten
from .tensor import Tensor

__all__ = ["numerical_jvp", "numerical_grad", "central_difference_errors", "gradcheck",
           "GradcheckReport", "CheckResult"]


def _array64(x):
    return np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64)


def _values(f, arrays):
    with no_grad():
        out = f(*[Tensor(a) for a in arrays])
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


def numerical_jvp(f, primals, tangents, eps=1e-6):
    """The directional derivative ``(f(x + eps t) - f(x - eps t)) / (2 eps)`` of ``f`` at the
    float64 ``primals`` along ``tangents`` (one tangent per primal)."""
    xs = [_array64(p) for p in primals]
    ts = [_array64(t) for t in tangents]
    if len(ts) != len(xs):
        raise ArgumentError(f"numerical_jvp: {len(ts)} tangents for {len(xs)} primals; give "
                            "one tangent per primal")
    for k, (x, t) in enumerate(zip(xs, ts)):
        if t.shape != x.shape:  # x + eps * t would broadcast to a different point
            raise ShapeError(f"numerical_jvp: tangent {k} has shape {t.shape} but primal {k} "
                             f"has shape {x.shape}")
    plus = _values(f, [x + eps * t for x, t in zip(xs, ts)])
    minus = _values(f, [x - eps * t for x, t in zip(xs, ts)])
    return (plus - minus) / (2 * eps)


def numerical_grad(f, x, eps=1e-6, argnum=0, others=()):
    """d f / d x by central differences, for a scalar-valued ``f``: entry i is the directional
    derivative along the unit vector e_i. ``x`` is converted to float64. ``others`` are further
    positional arguments (held fixed); ``argnum`` is x's position among all of them (negative
    counts from the end)."""
    x = _array64(x)
    args = [_array64(a) for a in others]
    n = len(args) + 1
    if isinstance(argnum, bool) or not isinstance(argnum, (int, np.integer)) or not (
            -n <= argnum < n):
        raise ArgumentError(f"numerical_grad: argnum={argnum!r} but f takes {n} positional "
                            f"argument(s) (x and {len(args)} in others)")
    argnum = int(argnum) % n
    primals = args[:argnum] + [x] + args[argnum:]
    zeros = [np.zeros_like(a) for a in primals]
    # C order (zeros_like keeps a Fortran-ordered x's layout, whose reshape(-1) is a copy)
    grad = np.zeros(x.shape, x.dtype)
    for i in range(x.size):
        direction = np.zeros(x.shape, x.dtype)
        direction.reshape(-1)[i] = 1
        tangents = zeros[:argnum] + [direction] + zeros[argnum + 1:]
        d = numerical_jvp(f, primals, tangents, eps)
        if d.size != 1:
            raise ArgumentError(f"numerical_grad needs a scalar-valued f, got shape {d.shape}")
        grad.reshape(-1)[i] = d.reshape(())
    return grad


def central_difference_errors(f, exact, x, deltas):
    """Relative error ``|D_delta f(x) - exact| / |exact|`` of the symmetric difference quotient
    ``D_delta f(x) = (f(x + delta) - f(x - delta)) / (2 delta)`` for each step in ``deltas``
    (float64). Plotted against ``delta`` it falls (truncation) and then rises (rounding)."""
    if exact == 0:
        raise ArgumentError("central_difference_errors: exact is 0, so relative errors are "
                            "undefined; pick a point x where the derivative is not 0")
    x = np.float64(x)
    return np.array([abs((f(x + d) - f(x - d)) / (2 * d) - exact) / abs(exact)
                     for d in np.asarray(deltas, dtype=np.float64)])


class CheckResult:
    """One comparison: derivatives of ``order`` for input ``input`` by ``mode`` ("reverse" or
    "forward"), over the full Jacobian or along random directions (``kind``)."""

    def __init__(self, input, order, mode, kind, analytic, numeric, atol, rtol):
        analytic, numeric = np.asarray(analytic), np.asarray(numeric)
        err = np.abs(analytic - numeric)
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        # Relative error is meaningless where both values are ~0; report 0 there.
        rel = np.where(scale > atol, err / np.where(scale > 0, scale, 1), 0.0)
        self.input, self.order, self.mode, self.kind = input, order, mode, kind
        self.max_abs = float(err.max(initial=0.0))
        self.max_rel = float(rel.max(initial=0.0))
        excess = (err - atol - rtol * np.abs(numeric)).reshape(-1)
        self.passed = bool((excess <= 0).all())
        self.worst = ((), 0.0, 0.0)  # (index, analytic, numerical) of the worst entry
        if excess.size:
            k = int(np.argmax(excess))
            self.worst = (tuple(int(i) for i in np.unravel_index(k, err.shape)),
                          float(analytic.reshape(-1)[k]), float(numeric.reshape(-1)[k]))

    def __repr__(self):
        index, a, n = self.worst
        verdict = ("ok" if self.passed else
                   f"FAILED at {list(index)}: analytic {a:.6g} vs numerical {n:.6g}")
        return (f"input {self.input} order {self.order} {self.mode:7s} {self.kind:6s} "
                f"max abs {self.max_abs:.2e}  max rel {self.max_rel:.2e}  {verdict}")


class GradcheckReport:
    """All comparisons of one :func:`gradcheck` call. ``bool(report)`` is True when all passed;
    ``report.worst(i)`` is ``(max absolute error, max relative error)`` for input ``i``."""

    def __init__(self, results):
        self.results = results

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    def __bool__(self):
        return self.passed

    def worst(self, input):
        mine = [r for r in self.results if r.input == input]
        if not mine:
            raise ArgumentError(f"gradcheck report: no input {input}; the differentiated "
                                f"inputs are {sorted({r.input for r in self.results})}")
        return max(r.max_abs for r in mine), max(r.max_rel for r in mine)

    def __str__(self):
        head = f"gradcheck {'passed' if self.passed else 'FAILED'}:"
        return "\n".join([head] + [f"  {r!r}" for r in self.results])

    __repr__ = __str__


def _flat_output(f):
    """``f`` with its output (a tensor or a tree of tensors) raveled into one vector."""
    def flat(*args):
        leaves = [x for x in flatten(f(*args))[0] if isinstance(x, Tensor)]
        if not leaves:
            raise ArgumentError("gradcheck: f returned no Tensor")
        return concatenate([reshape(x, shape=(-1,)) for x in leaves])
    return flat


def _second_order(flat_f, n_inputs, rng):
    """The gradient of ``w . flat_f(x)`` for a fixed random ``w``: checking its derivatives
    checks the second derivatives of ``f`` (reverse-over-reverse, forward-over-reverse)."""
    from .functional import grad
    w = None

    def dot_w(*xs):
        nonlocal w
        out = flat_f(*xs)
        if w is None:
            w = rng.standard_normal(out.shape)
        return (out * w).sum()
    return _flat_output(grad(dot_w, argnums=tuple(range(n_inputs))))


def _check(flat_f, xs, eps, atol, rtol, order, modes, full, n_random, rng):
    from .functional import jacfwd, jacrev, jvp, vjp
    results = []
    nums = tuple(range(len(xs)))
    m = _values(flat_f, xs).size
    if full:
        numeric = []
        for x in xs:
            cols = []
            for k in range(x.size):
                tangents = [np.zeros(y.shape, y.dtype) for y in xs]  # C order: see above
                tangents[len(numeric)].reshape(-1)[k] = 1
                cols.append(numerical_jvp(flat_f, xs, tangents, eps))
            numeric.append(np.stack(cols, axis=-1).reshape((m,) + x.shape) if cols
                           else np.zeros((m,) + x.shape))
        jacobians = {"reverse": jacrev, "forward": jacfwd}
        for mode in modes:
            analytic = jacobians[mode](flat_f, argnums=nums)(*xs)
            for i, (a, n) in enumerate(zip(analytic, numeric)):
                results.append(CheckResult(i, order, mode, "full", a.data, n, atol, rtol))
    for _ in range(n_random):
        w = rng.standard_normal(m)
        for i, x in enumerate(xs):
            u = [np.zeros_like(y) for y in xs]
            u[i] = rng.standard_normal(x.shape)
            numeric = w @ numerical_jvp(flat_f, xs, u, eps)
            for mode in modes:
                if mode == "reverse":
                    analytic = float(np.sum(vjp(flat_f, *xs)[1](w)[i].data * u[i]))
                else:
                    analytic = float(w @ jvp(flat_f, tuple(xs), tuple(u))[1].data)
                results.append(CheckResult(i, order, mode, "random", analytic, numeric,
                                           atol, rtol))
    return results


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, order=1,
              modes=("reverse", "forward"), full=True, n_random=2, seed=0,
              raise_exception=True):
    """Compare wengert's derivatives of ``f`` at ``inputs`` with central differences.

    ``inputs`` is a tuple of positional arguments (or one); floating ones are differentiated
    (as float64 copies: a float32 input triggers a warning, since float32 differences are mostly
    rounding), others are passed through. ``f`` returns a tensor or a tree of tensors. For
    each differentiated input and each mode in ``modes`` it compares the full Jacobian
    (``full``; ``jacrev`` / ``jacfwd`` against one central difference per input element) and
    ``n_random`` random projections ``w . J . u`` (``vjp`` / ``jvp``; cheap for large inputs).
    ``order=2`` also checks second derivatives: the derivatives of the gradient of
    ``w . f(x)``. An entry passes when ``|analytic - numerical| <= atol + rtol * |numerical|``.

    Returns a :class:`GradcheckReport` with the worst absolute and relative error per input;
    on a failure raises :class:`~wengert.errors.GradcheckError` carrying it, unless
    ``raise_exception=False``.
    """
    if order not in (1, 2):
        raise ArgumentError(f"gradcheck: order must be 1 or 2, got {order!r}")
    if not full and not n_random:
        raise ArgumentError("gradcheck: full=False and n_random=0 leave nothing to compare; "
                            "check the full Jacobian or some random projections")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    if not modes or set(modes) - {"reverse", "forward"}:
        raise ArgumentError(f"gradcheck: modes must be a subset of ('reverse', 'forward'), "
                            f"got {modes!r}")
    inputs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    positions, xs = [], []
    for k, a in enumerate(inputs):
        dtype = a.dtype if isinstance(a, (Tensor, np.ndarray)) else np.asarray(a).dtype
        if dtype.kind != "f":
            continue
        if dtype.itemsize < 8:
            warnings.warn(f"gradcheck: input {k} is {dtype}; the check runs on a float64 copy "
                          "(in lower precision central differences are mostly rounding "
                          "error)", stacklevel=2)
        positions.append(k)
        xs.append(_array64(a))
    if not xs:
        raise ArgumentError("gradcheck: no floating input to differentiate")

    def with_constants(*diff):
        args = list(inputs)
        for k, x in zip(positions, diff):
            args[k] = x
        return f(*args)

    rng = np.random.default_rng(seed)
    flat_f = _flat_output(with_constants)
    with no_grad():
        out_dtype = flat_f(*[Tensor(x) for x in xs]).dtype
    if out_dtype.kind == "f" and out_dtype.itemsize < 8:
        warnings.warn(f"gradcheck: f returns {out_dtype} for float64 inputs, so the central "
                      "differences are mostly rounding error; compute f in float64 (a model's "
                      "float32 weights or an astype inside f lower the precision)", stacklevel=2)
    results = _check(flat_f, xs, eps, atol, rtol, 1, modes, full, n_random, rng)
    if order == 2:
        results += _check(_second_order(flat_f, len(xs), rng), xs, eps, atol, rtol, 2, modes,
                          full, n_random, rng)
    for r in results:
        r.input = positions[r.input]
    report = GradcheckReport(results)
    if raise_exception and not report.passed:
        raise GradcheckError(
            f"{report}\nHint: look for points where f is not smooth (relu at 0, max at ties), "
            "a backward rule that misses a term, or an eps too small for f's scale")
    return report
