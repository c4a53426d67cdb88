"""A sequence cut into its steps: ``x[t]`` for t = 0..T-1, each step ``tanh(x[t]) * w[t]``
summed, then backward, in µs per step for T = 50, 200 and 800 steps of (32, 64) float32,
against PyTorch eager (``x[t]``, and ``x.unbind()``, its linear-time split) and hand-written
NumPy backprop. The gradient of one slice is zero outside it: written out per step it costs T
arrays of x's size, so the per-step cost staying flat as T grows is what this checks.
Candidates alternate in one run.

    python bench/slices.py [--quick] [--threads 1] [--json]
"""
import sys

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()
STEP = (32, 64)


def steps(M, x0, w0, cut):
    """Forward and backward with library ``M``; ``cut(x)`` gives the T step tensors."""
    def run():
        x = M.tensor(x0, requires_grad=True)
        w = M.tensor(w0)
        total = 0.0
        for t, xt in enumerate(cut(x)):
            total = total + (M.tanh(xt) * w[t]).sum()
        total.backward()
        return x.grad
    return run


def numpy_by_hand(np, x0, w0):
    def run():
        ys = [np.tanh(x0[t]) for t in range(len(x0))]
        total = sum(float((y * w0[t]).sum()) for t, y in enumerate(ys))
        gx = np.empty_like(x0)
        for t in range(len(x0) - 1, -1, -1):
            gx[t] = w0[t] * (1 - ys[t] * ys[t])
        return gx, total
    return run


def main():
    args = standard_args(__doc__)
    import numpy as np
    import wengert as wg
    rows = []
    for T in ((50, 200) if args.quick else (50, 200, 800)):
        rng = np.random.default_rng(0)
        x0 = rng.standard_normal((T,) + STEP).astype(np.float32)
        w0 = rng.standard_normal((T,) + STEP).astype(np.float32)
        cands = {"wengert x[t]": steps(wg, x0, w0, lambda x: (x[t] for t in range(T))),
                 "numpy (by hand)": numpy_by_hand(np, x0, w0)}
        expected = cands["numpy (by hand)"]()[0]
        try:
            import torch
            torch.set_num_threads(args.threads)
            cands["torch x[t]"] = steps(torch, x0, w0, lambda x: (x[t] for t in range(T)))
            cands["torch unbind"] = steps(torch, x0, w0, lambda x: x.unbind())
        except ImportError:
            pass
        for name, fn in cands.items():
            if name != "numpy (by hand)":
                np.testing.assert_allclose(np.asarray(fn().tolist()), expected, rtol=1e-5,
                                           atol=1e-6)
        rounds = 3 if args.quick else max(5, 4000 // T)
        med = alternate(cands, rounds, warmup=1)
        for name, t in med.items():
            rows.append({"steps": T, "candidate": name, "us_per_step": round(t * 1e6 / T, 1),
                         "vs_torch_unbind": round(t / med["torch unbind"], 2)
                         if "torch unbind" in med else None,
                         "vs_numpy": round(t / med["numpy (by hand)"], 2)})
    emit({"bench": "slices", "config": f"{args.threads} thread(s), float32 steps of "
          f"{STEP}", "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
