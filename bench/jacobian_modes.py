"""jacrev vs jacfwd on a wide function (many inputs, few outputs) and a tall one (few inputs,
many outputs): f(x) = tanh(W x) with W of shape m x n, float64. Reverse mode takes m VJPs
(one per output), forward mode n JVPs (one per input), so each wins where its count is small.
Both libraries run a transform's products as one batched pass (vmap), which narrows the gap;
wengert's one-pass-per-product mode (``chunk_size=1``) runs beside it, and torch.func's
jacrev/jacfwd when torch is installed. (wengert runs fewer than 6 products one by one
anyway, where that is faster.)

    python bench/jacobian_modes.py [--quick] [--threads 1] [--json]
"""
import sys

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()

SHAPES = {"wide": (4, 400), "tall": (400, 4)}  # (m outputs, n inputs)


def candidates(m, n):
    import numpy as np
    import wengert as wg
    from wengert.functional import jacfwd, jacrev
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((m, n)) / np.sqrt(n), rng.standard_normal(n)
    f = lambda x: wg.tanh(W @ x)  # noqa: E731
    xt = wg.tensor(x, requires_grad=True)
    y, seeds = f(xt), np.eye(m)

    def batched_seeds():  # jacrev's products through the engine's own batched seeds
        return wg.autograd.grad(y, [xt], grad_outputs=seeds, is_grads_batched=True,
                                retain_graph=True)
    out = {"wengert jacrev": lambda: jacrev(f)(x), "wengert jacfwd": lambda: jacfwd(f)(x),
           "wengert jacrev one by one": lambda: jacrev(f, chunk_size=1)(x),
           "wengert jacfwd one by one": lambda: jacfwd(f, chunk_size=1)(x),
           "wengert autograd.grad, is_grads_batched": batched_seeds}
    try:
        import torch
    except ImportError:
        return out
    torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))
    tW, tx = torch.tensor(W), torch.tensor(x)
    tf = lambda x: torch.tanh(tW @ x)  # noqa: E731
    out["torch.func jacrev"] = lambda: torch.func.jacrev(tf)(tx)
    out["torch.func jacfwd"] = lambda: torch.func.jacfwd(tf)(tx)
    txg = tx.clone().requires_grad_(True)
    ty, tseeds = tf(txg), torch.tensor(seeds)
    out["torch autograd.grad, is_grads_batched"] = lambda: torch.autograd.grad(
        ty, [txg], grad_outputs=tseeds, is_grads_batched=True, retain_graph=True)
    return out


def main():
    args = standard_args(__doc__)
    rounds = 3 if args.quick else 15
    rows = []
    for kind, (m, n) in SHAPES.items():
        times = alternate(candidates(m, n), rounds, warmup=1)
        for name, t in times.items():
            # VJPs or JVPs, batched or one by one
            products = m if "jacrev" in name or "autograd" in name else n
            rows.append({"function": f"{kind} ({m} outputs, {n} inputs)", "candidate": name,
                         "products": products, "ms": round(t * 1e3, 2)})
        for lib in ("wengert", "torch.func"):
            if f"{lib} jacrev" in times:
                rows.append({"function": f"{kind}", "candidate": f"{lib} jacfwd / jacrev",
                             "ratio": round(times[f"{lib} jacfwd"] / times[f"{lib} jacrev"],
                                            2)})
    emit({"bench": "jacobian_modes", "config": f"float64, {args.threads} thread(s), "
                                               f"{rounds} rounds",
          "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
