"""A full MNIST training epoch — MLP 784-256-128-10, ReLU, Adam (lr 1e-3), batch 128,
shuffled — with wengert's DataLoader, nn and optim, against PyTorch's in the same run
(epochs alternate). Needs the MNIST files ($WENGERT_DATA or ../shared/data).

    python bench/mnist_epoch.py [--quick] [--threads 1] [--json]
"""
import argparse
import os
import sys
import time
from pathlib import Path

from _timing import emit, pin_threads_from_argv, versions

pin_threads_from_argv()
ROOT = Path(os.environ.get("WENGERT_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def wengert_epoch(X, y, epochs_seed):
    import wengert as wg
    from wengert import data, nn, optim
    import wengert.nn.functional as F
    wg.manual_seed(0)
    model = nn.MLP([784, 256, 128, 10], activation="relu")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = data.DataLoader(data.TensorDataset(wg.Tensor(X), wg.Tensor(y)), batch_size=128,
                             shuffle=True, generator=wg.Generator(epochs_seed))

    def epoch(limit):
        for k, (xb, yb) in enumerate(loader):
            if k == limit:
                break
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()
    return epoch


def torch_epoch(X, y, seed):
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    ds = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(ds, batch_size=128, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def epoch(limit):
        for k, (xb, yb) in enumerate(loader):
            if k == limit:
                break
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()
    return epoch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 steps per 'epoch'")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import numpy as np
    from wengert import data
    train = data.mnist(ROOT, "train", flatten=True)
    X = np.ascontiguousarray(train.tensors[0].data.reshape(len(train), -1), dtype=np.float32)
    y = train.tensors[1].data.astype(np.int64)
    cands = {"wengert": wengert_epoch(X, y, 1)}
    try:
        import torch
        torch.set_num_threads(args.threads)
        cands["torch"] = torch_epoch(X, y, 1)
    except ImportError:
        pass
    limit = 100 if args.quick else -1
    times = {k: [] for k in cands}
    for _ in range(2 if args.quick else 3):
        for name, run in cands.items():
            t = time.perf_counter()
            run(limit)
            times[name].append(time.perf_counter() - t)
    med = {k: float(np.median(v)) for k, v in times.items()}
    rows = [{"candidate": k, "epoch_s": round(v, 2), "vs_torch": round(v / med["torch"], 3)
             if "torch" in med else None} for k, v in med.items()]
    emit({"bench": "mnist_epoch", "config": f"{args.threads} thread(s), 784-256-128-10, Adam, "
          f"batch 128{', 100 steps' if args.quick else ', 469 steps'}", "rows": rows,
          "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
