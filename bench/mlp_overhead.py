"""What an MLP step costs besides its GEMMs, phase by phase: the step of bench/mlp_step.py
with every matrix product replaced by a copy of a cached product of the same shapes, for
hand-written NumPy and for wengert, alternating in blocks. The GEMMs are ~88% of the real
step; what is left is where wengert's excess lives, and it runs cold (the real GEMMs evict
it from the caches; the copies, of the same sizes, do too).

    python bench/mlp_overhead.py [--quick] [--dtype float32|float64] [--threads 1] [--json]
"""
import sys
import time

from _timing import emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()
PHASES = ("forward", "loss", "backward", "update")


def copying_matmul(np):
    """A stand-in for np.matmul: a copy of the product first computed for those shapes (the
    values stay those of real products, so nothing overflows; they are not this call's)."""
    real, cache = np.matmul, {}

    def matmul(a, b, *args, **kwargs):
        key = (np.shape(a), np.shape(b), np.result_type(a, b))
        if key not in cache:
            cache[key] = real(a, b)
        return cache[key].copy()
    return matmul


def numpy_phases(np, X, y, lr):
    rows = np.arange(len(y))

    def step(P):
        mm = np.matmul  # looked up per step: the stand-in is installed after import
        W1, b1, W2, b2, W3, b3 = P
        t0 = time.perf_counter()
        h1 = mm(X, W1) + b1
        a1 = np.maximum(h1, 0)
        h2 = mm(a1, W2) + b2
        a2 = np.maximum(h2, 0)
        z = mm(a2, W3) + b3
        t1 = time.perf_counter()
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        float(-np.log(p[rows, y]).mean())
        t2 = time.perf_counter()
        p[rows, y] -= 1
        dz = p / len(y)
        dW3, db3 = mm(a2.T, dz), dz.sum(axis=0)
        dh2 = mm(dz, W3.T) * (h2 > 0)
        dW2, db2 = mm(a1.T, dh2), dh2.sum(axis=0)
        dh1 = mm(dh2, W2.T) * (h1 > 0)
        dW1, db1 = mm(X.T, dh1), dh1.sum(axis=0)
        t3 = time.perf_counter()
        for w, g in zip(P, (dW1, db1, dW2, db2, dW3, db3)):
            w -= lr * g
        return t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3
    return step


def wengert_phases(wg, X, y, model, lr):
    from wengert import optim
    import wengert.nn.functional as F
    Xt, yt = wg.Tensor(X), wg.Tensor(y)
    opt = optim.SGD(model.parameters(), lr=lr)

    def step():
        t0 = time.perf_counter()
        opt.zero_grad()
        out = model(Xt)
        t1 = time.perf_counter()
        loss = F.cross_entropy(out, yt)
        loss.item()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        return t1 - t0, t2 - t1, t3 - t2, time.perf_counter() - t3
    return step


def main():
    args = standard_args(__doc__, dtype=True)
    import numpy as np
    import wengert as wg
    from mlp_step import LR, STEPS_PER_BLOCK, make_problem, wengert_step
    X, y, P0 = make_problem(np, np.dtype(args.dtype))
    P = [p.copy() for p in P0]
    _, model = wengert_step(wg, X, y)([p.copy() for p in P0])
    numpy_step = numpy_phases(np, X, y, LR)
    cands = {"numpy": lambda: numpy_step(P), "wengert": wengert_phases(wg, X, y, model, LR)}
    np.matmul = copying_matmul(np)
    times = {name: [] for name in cands}
    for r in range(3 + (10 if args.quick else 60)):
        for name, fn in cands.items():
            for _ in range(STEPS_PER_BLOCK):
                t = fn()
                if r >= 3:  # warm-up blocks
                    times[name].append(t)
    med = {name: np.median(np.array(ts), axis=0) * 1e6 for name, ts in times.items()}
    rows = [{"phase": ph, "numpy_us": round(med["numpy"][i], 1),
             "wengert_us": round(med["wengert"][i], 1),
             "excess_us": round(med["wengert"][i] - med["numpy"][i], 1)}
            for i, ph in enumerate(PHASES)]
    rows.append({"phase": "step", **{k: round(sum(r[k] for r in rows), 1)
                                     for k in ("numpy_us", "wengert_us", "excess_us")}})
    emit({"bench": "mlp_overhead", "config": f"{args.dtype}, {args.threads} thread(s), "
          "GEMMs replaced by copies", "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
