"""An LSTM layer's forward and backward (sequence 50, batch 32, 64 -> 128 features, float32,
loss = the outputs' sum), in ms per pass: wengert's ``nn.LSTM`` against PyTorch's
``nn.LSTM`` (its fused CPU kernels) and an LSTM written out by hand in NumPy, forward and
backpropagation through time, with the same weights. Candidates alternate in one run.

    python bench/rnn.py [--quick] [--threads 1] [--json]
"""
import sys

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()
T, N, I, H = 50, 32, 64, 128


def numpy_by_hand(np, x, w_ih, w_hh, b):
    """The LSTM (gates i, f, g, o, as PyTorch's) and its backward through time."""
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def run():
        xw = x @ w_ih.T + b                                   # (T, N, 4H), all steps at once
        h, c = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
        hs, cs, gates = [h], [c], []
        for t in range(T):
            z = xw[t] + h @ w_hh.T
            i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 3 * H:])
            g = np.tanh(z[:, 2 * H:3 * H])
            c = f * c + i * g
            h = o * np.tanh(c)
            hs.append(h)
            cs.append(c)
            gates.append((i, f, g, o))
        dz = np.empty_like(xw)
        dw_hh = np.zeros_like(w_hh)
        dh, dc = np.zeros((N, H), x.dtype), np.zeros((N, H), x.dtype)
        for t in range(T - 1, -1, -1):
            i, f, g, o = gates[t]
            dh = dh + 1.0                                     # d(sum of outputs) / d h_t
            tc = np.tanh(cs[t + 1])
            dc = dc + dh * o * (1 - tc * tc)
            dz[t, :, :H] = dc * g * i * (1 - i)
            dz[t, :, H:2 * H] = dc * cs[t] * f * (1 - f)
            dz[t, :, 2 * H:3 * H] = dc * i * (1 - g * g)
            dz[t, :, 3 * H:] = dh * tc * o * (1 - o)
            dw_hh += dz[t].T @ hs[t]
            dh = dz[t] @ w_hh
            dc = dc * f
        flat = dz.reshape(-1, 4 * H)
        return flat.T @ x.reshape(-1, I), dw_hh, flat.sum(axis=0), dz @ w_ih
    return run


def library(M, module, x):
    """Forward and backward of ``module`` (wengert's or torch's nn.LSTM) on ``x``."""
    def run():
        xt = M.tensor(x, requires_grad=True)
        module.zero_grad()
        out, _ = module(xt)
        out.sum().backward()
        return module.weight_ih_l0.grad, module.weight_hh_l0.grad
    return run


def main():
    args = standard_args(__doc__)
    import numpy as np
    import wengert as wg
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    ours = wg.nn.LSTM(I, H)
    w_ih, w_hh = ours.weight_ih_l0.data, ours.weight_hh_l0.data
    b = ours.bias_ih_l0.data + ours.bias_hh_l0.data
    cands = {"wengert nn.LSTM": library(wg, ours, x),
             "numpy (by hand)": numpy_by_hand(np, x, w_ih, w_hh, b)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        theirs = torch.nn.LSTM(I, H)
        theirs.load_state_dict({k: torch.tensor(np.asarray(v.data))
                                for k, v in ours.state_dict().items()})
        cands["torch nn.LSTM"] = library(torch, theirs, x)
    except ImportError:
        pass
    hand = cands["numpy (by hand)"]()
    for name in ("wengert nn.LSTM", "torch nn.LSTM"):
        if name in cands:
            gw_ih, gw_hh = cands[name]()
            np.testing.assert_allclose(np.asarray(gw_ih.tolist()), hand[0], rtol=2e-3, atol=2e-3)
            np.testing.assert_allclose(np.asarray(gw_hh.tolist()), hand[1], rtol=2e-3, atol=2e-3)
    med = alternate(cands, 5 if args.quick else 30, warmup=2)
    rows = [{"candidate": name, "ms": round(t * 1e3, 2),
             "vs_numpy": round(t / med["numpy (by hand)"], 2),
             "vs_torch": round(t / med["torch nn.LSTM"], 2) if "torch nn.LSTM" in med else None}
            for name, t in med.items()]
    emit({"bench": "rnn", "config": f"{args.threads} thread(s), LSTM T={T} N={N} {I}->{H} "
          "float32", "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
