"""Per-example gradients (the gradient of each example's loss, not of their mean: what
differential privacy and influence estimates need) of an MLP 784-128-10 with tanh and softmax
cross-entropy, batch 64, float32, in ms per batch: wengert's ``vmap(grad(loss))`` against a
Python loop of ``grad`` over the examples, the per-example backward written by hand in NumPy
(outer products by einsum), ``torch.func.vmap(grad)`` and ``jax.vmap(grad)`` (jit-compiled);
and of a small CNN (conv 1->8 3x3, ReLU, 2x2 max pool, linear to 10; 28x28 inputs, batch
32), where the convolution's per-example weights and the pool are what vmap must batch,
against the loop and torch.func. Candidates alternate in one run.

    python bench/vmap.py [--quick] [--threads 1] [--json]
"""
import sys

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()
B, I, H, O = 64, 784, 128, 10


def numpy_by_hand(np, params, x, y):
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]

    def run():
        h = np.tanh(x @ w1.T + b1)                          # (B, H)
        z = h @ w2.T + b2
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(B), y] -= 1                             # d loss_b / d z_b
        dh = (p @ w2) * (1 - h * h)
        return {"w1": np.einsum("bh,bi->bhi", dh, x), "b1": dh,
                "w2": np.einsum("bo,bh->boh", p, h), "b2": p}
    return run


def loss_of(M, F):
    """One example's loss, written as for PyTorch: ``M`` is wengert or torch, ``F`` its
    ``nn.functional``."""
    def loss(p, x, y):
        z = F.linear(M.tanh(F.linear(x, p["w1"], p["b1"])), p["w2"], p["b2"])
        return F.cross_entropy(z[None], y[None])
    return loss


def main():
    args = standard_args(__doc__)
    import numpy as np
    import wengert as wg
    import wengert.nn.functional as wF
    rng = np.random.default_rng(0)
    params = {"w1": rng.normal(0, I ** -0.5, (H, I)), "b1": np.zeros(H),
              "w2": rng.normal(0, H ** -0.5, (O, H)), "b2": np.zeros(O)}
    params = {k: v.astype(np.float32) for k, v in params.items()}
    x = rng.random((B, I), dtype=np.float32)
    y = rng.integers(0, O, B)
    wparams = {k: wg.tensor(v) for k, v in params.items()}
    wx, wy = wg.tensor(x), wg.tensor(y)
    per_example = wg.vmap(wg.grad(loss_of(wg, wF)), in_dims=(None, 0, 0))
    one = wg.grad(loss_of(wg, wF))
    cands = {"wengert vmap(grad)": lambda: per_example(wparams, wx, wy),
             "wengert loop of grad": lambda: [one(wparams, wx[b], wy[b]) for b in range(B)],
             "numpy (by hand)": numpy_by_hand(np, params, x, y)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        tparams = {k: torch.tensor(v) for k, v in params.items()}
        tx, ty = torch.tensor(x), torch.tensor(y)
        tper = torch.func.vmap(torch.func.grad(loss_of(torch, torch.nn.functional)),
                               in_dims=(None, 0, 0))
        cands["torch.func vmap(grad)"] = lambda: tper(tparams, tx, ty)
    except ImportError:
        pass
    try:
        import jax
        import jax.numpy as jnp

        def jloss(p, x, y):
            h = jnp.tanh(x @ p["w1"].T + p["b1"])
            return -jax.nn.log_softmax(h @ p["w2"].T + p["b2"])[y]
        jper = jax.jit(jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0)))
        jparams = {k: jnp.asarray(v) for k, v in params.items()}
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        cands["jax vmap(grad), jit"] = lambda: jax.block_until_ready(jper(jparams, jx, jy))
    except ImportError:
        pass
    hand = cands["numpy (by hand)"]()
    for name in cands:
        if name.startswith("numpy") or name.startswith("wengert loop"):
            continue
        got = cands[name]()
        for k in hand:
            np.testing.assert_allclose(np.asarray(got[k].tolist() if hasattr(got[k], "tolist")
                                                  else got[k]), hand[k], rtol=1e-3, atol=1e-5)
    loop = cands["wengert loop of grad"]()
    np.testing.assert_allclose(np.stack([g["w2"].data for g in loop]), hand["w2"], rtol=1e-3,
                               atol=1e-5)
    med = alternate(cands, 3 if args.quick else 20, warmup=2)
    rows = [{"candidate": name, "ms": round(t * 1e3, 2),
             "vs_numpy": round(t / med["numpy (by hand)"], 2),
             "vs_torch": round(t / med["torch.func vmap(grad)"], 2)
             if "torch.func vmap(grad)" in med else None}
            for name, t in med.items()]
    for row in rows:
        row["model"] = f"MLP {I}-{H}-{O}, batch {B}"
    rows += cnn_rows(np, wg, wF, args)
    emit({"bench": "vmap", "config": f"{args.threads} thread(s), per-example gradients, "
          "float32", "rows": [{"model": r.pop("model"), **r} for r in rows],
          "versions": versions()}, args.json)


def cnn_rows(np, wg, wF, args):
    """The CNN's per-example gradients: wengert vmap(grad), its loop, torch.func."""
    rng, batch = np.random.default_rng(1), 32
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    params = {"c": rng.normal(0, 1 / 3, (8, 1, 3, 3)).astype(np.float32),
              "w": rng.normal(0, 0.01, (10, 8 * 13 * 13)).astype(np.float32)}

    def loss_of(M, F):
        def loss(p, x, y):
            h = F.max_pool2d(F.relu(F.conv2d(x[None], p["c"])), 2)
            return F.cross_entropy(h.reshape(1, -1) @ p["w"].T, y[None])
        return loss
    wparams = {k: wg.tensor(v) for k, v in params.items()}
    wx, wy = wg.tensor(x), wg.tensor(y)
    per_example = wg.vmap(wg.grad(loss_of(wg, wF)), in_dims=(None, 0, 0))
    one = wg.grad(loss_of(wg, wF))
    cands = {"wengert vmap(grad)": lambda: per_example(wparams, wx, wy),
             "wengert loop of grad": lambda: [one(wparams, wx[b], wy[b]) for b in range(batch)]}
    try:
        import torch
        tparams = {k: torch.tensor(v) for k, v in params.items()}
        tx, ty = torch.tensor(x), torch.tensor(y)
        tper = torch.func.vmap(torch.func.grad(loss_of(torch, torch.nn.functional)),
                               in_dims=(None, 0, 0))
        cands["torch.func vmap(grad)"] = lambda: tper(tparams, tx, ty)
        got, ref = cands["wengert vmap(grad)"](), cands["torch.func vmap(grad)"]()
        for k in params:
            np.testing.assert_allclose(got[k].data, ref[k].numpy(), rtol=1e-3, atol=1e-5)
    except ImportError:
        pass
    med = alternate(cands, 3 if args.quick else 20, warmup=2)
    return [{"model": f"CNN conv 1->8, pool, linear, batch {batch}", "candidate": name,
             "ms": round(t * 1e3, 2), "vs_numpy": None,
             "vs_torch": round(t / med["torch.func vmap(grad)"], 2)
             if "torch.func vmap(grad)" in med else None} for name, t in med.items()]


if __name__ == "__main__":
    sys.exit(main())
