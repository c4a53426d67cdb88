"""Per-op overhead: a 200-op chain cycling mul, add, tanh, exp, then backward, in µs per op
(forward + backward), on 16-element float32 vectors and on 0-d scalars; and with grad
disabled against raw NumPy (forward only), with the floor of any pure-Python wrapper (NumPy
plus one new object per op) for scale. Candidates alternate in one run.

    python bench/tiny_ops.py [--quick] [--threads 1] [--json]
"""
import argparse
import math
import sys

from _timing import alternate, emit, pin_threads_from_argv, versions

pin_threads_from_argv()
N_OPS = 200


def chain(x, tanh, exp):
    for i in range(N_OPS):
        k = i % 4
        if k == 0:
            x = x * 1.0001
        elif k == 1:
            x = x + 0.001
        elif k == 2:
            x = tanh(x)
        else:
            x = exp(x) * 0.5  # keeps values bounded; counts as two ops
    return x


OPS_PER_CHAIN = N_OPS + N_OPS // 4 + 1  # the chain, the extra multiplies, the final sum


def numpy_fwd_bwd(np, x0):
    """Hand-written forward and backward of the same chain (the floor for a NumPy engine)."""
    c1, c2, c3 = x0.dtype.type(1.0001), x0.dtype.type(0.001), x0.dtype.type(0.5)

    def run():
        x, tape = x0, []
        for i in range(N_OPS):
            k = i % 4
            if k == 0:
                x = x * c1
            elif k == 1:
                x = x + c2
            elif k == 2:
                x = np.tanh(x)
                tape.append(x)
            else:
                x = np.exp(x)
                tape.append(x)
                x = x * c3
        x.sum()
        g = np.ones_like(x0)
        for i in reversed(range(N_OPS)):
            k = i % 4
            if k == 0:
                g = g * c1
            elif k == 2:
                t = tape.pop()
                g = g * (1 - t * t)
            elif k == 3:
                g = g * c3
                g = g * tape.pop()
        return g
    return run


class Boxed:
    """The least any pure-Python array type does per op: one NumPy call and one new object
    holding the result (no checks, no graph). Its time over raw NumPy's is the floor for a
    no-grad path that returns a Python object per op."""
    __slots__ = ("data",)

    def __mul__(self, c):
        b = _new(Boxed)
        b.data = self.data * c
        return b

    def __add__(self, c):
        b = _new(Boxed)
        b.data = self.data + c
        return b


def boxed(f):
    """``f`` (a NumPy function of one array) on Boxed values, as bare as Boxed's operators.
    (``boxed(np.copy)(b)`` makes a chain's starting value, as ``wg.tensor`` copies.)"""
    def op(x):
        b = _new(Boxed)
        b.data = f(x.data)
        return b
    return op


_new = object.__new__


def floor_forward(np, x0):
    """The forward chain from ``x0`` on Boxed values: the floor's candidate."""
    start = _new(Boxed)
    start.data = x0
    return lambda: chain(boxed(np.copy)(start), boxed(np.tanh), boxed(np.exp))


def micrograd_unary(Value, f, df_from_out):
    """tanh/exp for micrograd's Value (its PyPI release has neither), written the way its
    own ops are: a new Value whose _backward closure applies the local derivative."""
    def op(v):
        out = Value(f(v.data), (v,), f.__name__)

        def _backward():
            v.grad += df_from_out(out.data) * out.grad
        out._backward = _backward
        return out
    return op


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import numpy as np
    import wengert as wg
    rows = []
    rounds = 5 if args.quick else 40
    for label, x0 in (("16-vector", np.random.default_rng(0).random(16).astype(np.float32)),
                      ("0-d scalar", np.float32(0.3) * np.ones((), np.float32))):
        cands = {
            "wengert": lambda: chain(wg.tensor(x0, requires_grad=True), wg.tanh, wg.exp).sum().backward(),
            "numpy (by hand)": numpy_fwd_bwd(np, x0),
        }
        try:
            import torch
            torch.set_num_threads(args.threads)
            cands["torch"] = lambda: chain(torch.tensor(x0, requires_grad=True), torch.tanh,
                                           torch.exp).sum().backward()
        except ImportError:
            pass
        try:
            import autograd.numpy as anp
            from autograd import grad
            g = grad(lambda x: anp.sum(chain(x, anp.tanh, anp.exp)))
            cands["autograd"] = lambda: g(x0)
        except ImportError:
            pass
        if x0.ndim == 0:
            try:
                from micrograd.engine import Value
                mg_tanh = micrograd_unary(Value, math.tanh, lambda y: 1 - y * y)
                mg_exp = micrograd_unary(Value, math.exp, lambda y: y)
                cands["micrograd"] = lambda: chain(Value(float(x0)), mg_tanh,
                                                   mg_exp).backward()
            except ImportError:
                pass
        med = alternate(cands, rounds)
        ref = med.get("torch")
        for name, t in med.items():
            us = t * 1e6 / OPS_PER_CHAIN
            rows.append({"case": label, "candidate": name, "us_per_op": round(us, 2),
                         "vs_torch": round(t / ref, 3) if ref else None})
        # grad disabled: wengert's op dispatch against the bare NumPy calls
        with wg.no_grad():
            nog = alternate({"wengert no_grad": lambda: chain(wg.tensor(x0), wg.tanh, wg.exp),
                             "numpy forward": lambda: chain(x0, np.tanh, np.exp),
                             "floor: numpy + an object per op": floor_forward(np, x0)},
                            rounds)
        for name, t in nog.items():
            rows.append({"case": label + " fwd", "candidate": name,
                         "us_per_op": round(t * 1e6 / OPS_PER_CHAIN, 2),
                         "vs_numpy": round(t / nog["numpy forward"], 3)})
    emit({"bench": "tiny_ops", "config": f"{args.threads} thread(s), {N_OPS}-op chain",
          "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
