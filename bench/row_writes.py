"""In-place writes row by row: ``y[i] += w[i] * tanh(y[i - 1])`` for i = 1..n, then
``(y * y).sum()`` and backward, in µs per row for n = 100, 1000 and 4000, against PyTorch eager
and hand-written NumPy backprop. Each row's view stays alive in the graph, so the per-row cost
staying flat as n grows is what this checks (a write that tested every live view made it grow
with n). Candidates alternate in one run.

    python bench/row_writes.py [--quick] [--threads 1] [--json]
"""
import sys

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()
WIDTH = 8


def recurrence(M, w0, x0):
    """Forward and backward of the row loop with library ``M`` (wengert or torch)."""
    def run():
        w = M.tensor(w0, requires_grad=True)
        y = M.zeros(w0.shape, dtype=w.dtype) * 1.0
        y[0] += M.tensor(x0)
        for i in range(1, len(w0)):
            y[i] += w[i] * M.tanh(y[i - 1])
        (y * y).sum().backward()
        return w.grad
    return run


def numpy_by_hand(np, w0, x0):
    """The same loop's forward and backward written out: the floor."""
    def run():
        n = len(w0)
        y = np.zeros_like(w0)
        t = np.zeros_like(w0)  # t[i] = tanh(y[i - 1])
        y[0] = x0
        for i in range(1, n):
            t[i] = np.tanh(y[i - 1])
            y[i] = w0[i] * t[i]
        gy = 2 * y
        gw = np.zeros_like(w0)
        for i in range(n - 1, 0, -1):
            gw[i] = gy[i] * t[i]
            gy[i - 1] += gy[i] * w0[i] * (1 - t[i] * t[i])
        return gw
    return run


def main():
    args = standard_args(__doc__)
    import numpy as np
    import wengert as wg
    rows = []
    sizes = (100, 400) if args.quick else (100, 1000, 4000)
    for n in sizes:
        rng = np.random.default_rng(0)
        w0, x0 = rng.normal(size=(n, WIDTH)), rng.normal(size=WIDTH)
        cands = {"wengert": recurrence(wg, w0, x0), "numpy (by hand)": numpy_by_hand(np, w0, x0)}
        try:
            import torch
            torch.set_num_threads(args.threads)
            cands["torch"] = recurrence(torch, w0, x0)
            np.testing.assert_allclose(cands["wengert"]().numpy(), cands["torch"]().numpy(),
                                       rtol=1e-10)
        except ImportError:
            pass
        np.testing.assert_allclose(cands["wengert"]().numpy(), cands["numpy (by hand)"](),
                                   rtol=1e-10)
        rounds = 3 if args.quick else max(5, 20000 // n)
        med = alternate(cands, rounds, warmup=1)
        for name, t in med.items():
            rows.append({"rows": n, "candidate": name, "us_per_row": round(t * 1e6 / n, 1),
                         "vs_torch": round(t / med["torch"], 3) if "torch" in med else None,
                         "vs_numpy": round(t / med["numpy (by hand)"], 2)})
    emit({"bench": "row_writes", "config": f"{args.threads} thread(s), float64 rows of "
          f"{WIDTH}", "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
