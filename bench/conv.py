"""Conv2d forward + backward, wengert against hand-written NumPy (im2col) and PyTorch eager
(CPU), float32, in ms per step: an MNIST-shaped first layer (128, 1, 28, 28) -> 32 channels
3x3, and a hidden layer (128, 32, 14, 14) -> 64 channels 3x3, stride 1, padding 1 (its input
requires grad, as a hidden layer's does). Candidates alternate in one run; same weights and
inputs.

    python bench/conv.py [--quick] [--threads 1] [--json]
"""
import sys

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()

CASES = [  # label, input shape, out channels, Conv2d keyword arguments, input requires grad
    ("mnist 1->32 3x3", (128, 1, 28, 28), 32, {}, False),
    ("14x14 32->64 3x3 pad 1", (128, 32, 14, 14), 64, {"padding": 1}, True),
]


def wengert_step(wg, x0, conv, needs_input_grad):
    """One forward and backward through a wengert Conv2d (the loss: the output's sum)."""
    def run():
        conv.zero_grad()
        x = wg.tensor(x0, requires_grad=needs_input_grad)
        conv(x).sum().backward()
    return run


def numpy_step(np, x0, w, b, padding, needs_input_grad):
    """The same step written by hand in NumPy, as a NumPy author would: the padded input's
    windows copied once into a (C*9, N*P) matrix (im2col) that the forward and the weight
    gradient share, and the input gradient placed back with one strided add per kernel
    offset (col2im). The floor for a NumPy engine's convolution."""
    windows = np.lib.stride_tricks.sliding_window_view
    n, c, h, wd = x0.shape
    o, _, kh, kw = w.shape
    wm = w.reshape(o, -1)

    def run():
        xp = np.pad(x0, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        win = windows(xp, (kh, kw), axis=(2, 3))  # (N, C, Ho, Wo, kh, kw), no copy
        ho, wo = win.shape[2:4]
        cols = win.transpose(1, 4, 5, 0, 2, 3).reshape(c * kh * kw, n * ho * wo)
        out = (wm @ cols).reshape(o, n, ho, wo).transpose(1, 0, 2, 3) + b[:, None, None]
        out.sum()
        g = np.ones_like(out)  # the loss is the sum
        gm = g.transpose(1, 0, 2, 3).reshape(o, -1)
        dw = (gm @ cols.T).reshape(w.shape)
        db = g.sum(axis=(0, 2, 3))
        if needs_input_grad:
            dcols = (wm.T @ gm).reshape(c, kh, kw, n, ho, wo)
            dxp = np.zeros_like(xp)
            for i in range(kh):
                for j in range(kw):
                    dxp[:, :, i:i + ho, j:j + wo] += dcols[:, i, j].transpose(1, 0, 2, 3)
            return dw, db, dxp[:, :, padding:padding + h, padding:padding + wd]
        return dw, db
    return run


def torch_step(torch, x0, conv, needs_input_grad):
    """The same step through a PyTorch Conv2d."""
    def run():
        conv.zero_grad()
        x = torch.tensor(x0, requires_grad=needs_input_grad)
        conv(x).sum().backward()
    return run


def main():
    args = standard_args(__doc__)
    import numpy as np
    import wengert as wg
    import wengert.nn as nn
    rows = []
    rounds = 3 if args.quick else 30
    for label, shape, c_out, kwargs, needs_input_grad in CASES:
        x0 = np.random.default_rng(0).normal(size=shape).astype(np.float32)
        ours = nn.Conv2d(shape[1], c_out, 3, **kwargs)
        cands = {"wengert": wengert_step(wg, x0, ours, needs_input_grad),
                 "numpy (by hand)": numpy_step(np, x0, ours.weight.data, ours.bias.data,
                                               kwargs.get("padding", 0), needs_input_grad)}
        try:
            import torch
            torch.set_num_threads(args.threads)
            theirs = torch.nn.Conv2d(shape[1], c_out, 3, dtype=torch.float32, **kwargs)
            theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
            cands["torch"] = torch_step(torch, x0, theirs, needs_input_grad)
        except ImportError:
            pass
        med = alternate(cands, rounds, warmup=1 if args.quick else 3)
        ref = med.get("torch")
        for name, t in med.items():
            rows.append({"case": label, "candidate": name, "ms": round(t * 1e3, 2),
                         "vs_numpy": round(t / med["numpy (by hand)"], 2),
                         "vs_torch": round(t / ref, 2) if ref else None})
    emit({"bench": "conv", "config": f"{args.threads} thread(s), float32, forward + backward",
          "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
