"""One SGD step of an MLP 784-512-256-10 (ReLU, softmax cross-entropy, batch 128): wengert
against hand-written NumPy backprop (the floor), PyTorch eager, JAX (jit and op by op) and HIPS
autograd, in one run, alternating in blocks of steps. Also times the step's 8 matrix products
alone in NumPy and in PyTorch (the BLAS under each step), and checks that wengert and NumPy
follow the same loss trajectory. Ratios to NumPy: ``ratio`` is the steady state (the steps
after a block's first), ``first step ratio`` a block's first step (on caches the other
frameworks filled), ``block ratio`` the blocks' mean.

    python bench/mlp_step.py [--quick] [--dtype float32|float64] [--threads 1] [--json]
"""
import sys

from _timing import alternate_blocks, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()

SIZES = [784, 512, 256, 10]
BATCH, LR = 128, 0.01
STEPS_PER_BLOCK = 5


def make_problem(np, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((BATCH, SIZES[0])).astype(dtype)
    y = rng.integers(0, SIZES[-1], BATCH)
    params = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        params += [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(dtype), np.zeros(b, dtype)]
    return X, y, params


def numpy_step(np, X, y):
    rows = np.arange(len(y))

    def step(P):
        W1, b1, W2, b2, W3, b3 = P
        h1 = X @ W1 + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ W2 + b2
        a2 = np.maximum(h2, 0)
        z = a2 @ W3 + b3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        p[rows, y] -= 1
        dz = p / len(y)
        dW3, db3 = a2.T @ dz, dz.sum(axis=0)
        dh2 = (dz @ W3.T) * (h2 > 0)
        dW2, db2 = a1.T @ dh2, dh2.sum(axis=0)
        dh1 = (dh2 @ W2.T) * (h1 > 0)
        dW1, db1 = X.T @ dh1, dh1.sum(axis=0)
        for w, g in zip(P, (dW1, db1, dW2, db2, dW3, db3)):
            w -= LR * g
        return float(loss)
    return step


def wengert_step(wg, X, y):
    from wengert import nn, optim
    import wengert.nn.functional as F
    Xt, yt = wg.Tensor(X), wg.Tensor(y)

    def make(P):
        layers = []
        for k in range(3):
            lin = nn.Linear(SIZES[k], SIZES[k + 1], dtype=P[2 * k].dtype)
            with wg.no_grad():  # the lecture's layout X @ W: load W (in, out)
                lin.weight.data[...] = _as_layer_weight(lin, P[2 * k])
                lin.bias.data[...] = P[2 * k + 1]
            layers += [lin, nn.ReLU()] if k < 2 else [lin]
        model = nn.Sequential(*layers)
        opt = optim.SGD(model.parameters(), lr=LR)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(Xt), yt)
            loss.backward()
            opt.step()
            return loss.item()
        return step, model
    return make


def _as_layer_weight(lin, W):
    """wengert's Linear stores what its docs say; this bench's weights are (in, out)."""
    return W if lin.weight.shape == W.shape else W.T


def torch_step(torch, X, y):
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)

    def make(P):
        Ps = [torch.tensor(p, requires_grad=True) for p in P]
        opt = torch.optim.SGD(Ps, lr=LR)

        def step():
            opt.zero_grad()
            W1, b1, W2, b2, W3, b3 = Ps
            h = torch.relu(Xt @ W1 + b1)
            h = torch.relu(h @ W2 + b2)
            loss = torch.nn.functional.cross_entropy(h @ W3 + b3, yt)
            loss.backward()
            opt.step()
            return loss.item()
        return step
    return make


def jax_step(X, y, jit):
    """JAX's value_and_grad and an SGD update: compiled by XLA with ``jit``, else dispatched op
    by op. The step waits for its result (JAX runs asynchronously)."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", X.dtype.itemsize == 8)
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    def loss_fn(P):
        W1, b1, W2, b2, W3, b3 = P
        h = jax.nn.relu(Xj @ W1 + b1)
        h = jax.nn.relu(h @ W2 + b2)
        logp = jax.nn.log_softmax(h @ W3 + b3)
        return -jnp.mean(jnp.take_along_axis(logp, yj[:, None], axis=1))

    def update(P):
        loss, grads = jax.value_and_grad(loss_fn)(P)
        return [w - LR * d for w, d in zip(P, grads)], loss
    update = jax.jit(update, donate_argnums=0) if jit else update

    def make(P):
        state = [[jnp.asarray(p) for p in P]]

        def step():
            state[0], loss = update(state[0])
            return float(loss)
        return step
    return make


def autograd_step(X, y):
    import autograd.numpy as anp
    from autograd import grad
    rows = anp.arange(len(y))

    def loss_fn(P):
        W1, b1, W2, b2, W3, b3 = P
        h = anp.maximum(X @ W1 + b1, 0)
        h = anp.maximum(h @ W2 + b2, 0)
        z = h @ W3 + b3
        z = z - anp.max(z, axis=1, keepdims=True)
        logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(logp[rows, y])
    g = grad(loss_fn)

    def make(P):
        P = [p.copy() for p in P]

        def step():
            for w, d in zip(P, g(P)):
                w -= LR * d
        return step
    return make


def gemms_only(matmul, X, P):
    """The step's 8 matrix products alone (the forward's three, the backward's weight and
    input gradients) with one library's ``matmul``: how fast its BLAS is, which bounds any
    step built on it."""
    W1, _, W2, _, W3, _ = P
    h1 = matmul(X, W1)
    h2 = matmul(h1, W2)
    z = matmul(h2, W3)

    def step():
        matmul(X, W1), matmul(h1, W2), matmul(h2, W3)
        matmul(h2.T, z), matmul(z, W3.T), matmul(h1.T, h2), matmul(h2, W2.T), matmul(X.T, h1)
    return step


def main():
    args = standard_args(__doc__, dtype=True)
    import numpy as np
    import wengert as wg
    X, y, P0 = make_problem(np, np.dtype(args.dtype))

    # Same loss trajectory: 20 steps from the same weights.
    P_np = [p.copy() for p in P0]
    step_np = numpy_step(np, X, y)
    step_wg, _ = wengert_step(wg, X, y)([p.copy() for p in P0])
    traj = [(step_np(P_np), step_wg()) for _ in range(20)]
    rel = max(abs(a - b) / abs(a) for a, b in traj)

    cands = {"numpy": lambda P=[p.copy() for p in P0]: step_np(P),
             "wengert": wengert_step(wg, X, y)([p.copy() for p in P0])[0],
             "numpy GEMMs only": gemms_only(np.matmul, X, P0)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        cands["torch"] = torch_step(torch, X, y)(P0)
        cands["torch GEMMs only"] = gemms_only(
            torch.matmul, torch.as_tensor(X), [torch.as_tensor(p) for p in P0])
    except ImportError:
        pass
    try:
        cands["jax jit"] = jax_step(X, y, jit=True)(P0)
        cands["jax (no jit)"] = jax_step(X, y, jit=False)(P0)
    except ImportError:
        pass
    try:
        cands["autograd"] = autograd_step(X, y)(P0)
    except ImportError:
        pass
    # Blocks of STEPS_PER_BLOCK steps, alternating, as a training loop repeats its step: when
    # candidates alternated every single step, one's temporaries changed the other's
    # allocator state (NumPy's float64 step page-faulted or not depending on what ran last).
    # The headline is the steady state, the steps after a block's first (a training loop's
    # steps follow one another); the first step of a block, which starts on caches the other
    # frameworks filled, and the whole block's mean are reported beside it.
    rounds = 3 if args.quick else 40
    med = alternate_blocks(cands, rounds, STEPS_PER_BLOCK)
    base = med["numpy"]
    rows = [{"candidate": k, "ms": round(v["steady"] * 1e3, 3),
             "ratio": round(v["steady"] / base["steady"], 3),
             "first step ratio": round(v["first"] / base["first"], 3),
             "block ratio": round(v["block"] / base["block"], 3)}
            for k, v in med.items()]
    emit({"bench": "mlp_step", "config": f"{args.dtype}, {args.threads} thread(s), batch {BATCH}",
          "rows": rows, "loss_trajectory_max_rel_diff": rel, "versions": versions()}, args.json)
    if not args.json:
        print(f"  wengert vs numpy loss trajectory, 20 steps: max relative difference {rel:.2e}")


if __name__ == "__main__":
    sys.exit(main())
