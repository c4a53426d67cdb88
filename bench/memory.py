"""Memory of training: peak RSS that training adds beyond data and parameters, and RSS drift
over many steps (a leak shows as growth). MLP 784-512-256-10 on 60,000 x 784 float32 inputs,
batch 128, SGD; each candidate in its own process (RSS is per process).

    python bench/memory.py [--quick] [--steps N] [--json]
    python bench/memory.py --candidate wengert|numpy|torch --steps N   (one measurement)
"""
import argparse
import json
import os
import resource
import subprocess
import sys

from _timing import emit, pin_threads_from_argv, versions

pin_threads_from_argv()


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(candidate, steps):
    import numpy as np
    from mlp_step import BATCH, LR, SIZES, make_problem, numpy_step
    rng = np.random.default_rng(0)
    data = rng.random((60_000, SIZES[0]), dtype=np.float32)
    labels = rng.integers(0, SIZES[-1], 60_000)
    _, _, P0 = make_problem(np, np.float32)

    def batches():
        while True:
            for s in range(0, 60_000 - BATCH + 1, BATCH):
                yield data[s:s + BATCH], labels[s:s + BATCH]
    it = batches()
    if candidate == "numpy":
        P = [p.copy() for p in P0]

        def step():
            X, y = next(it)
            numpy_step(np, X, y)(P)
    elif candidate == "wengert":
        import wengert as wg
        from wengert import nn, optim
        import wengert.nn.functional as F
        model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        opt = optim.SGD(model.parameters(), lr=LR)

        def step():
            X, y = next(it)
            opt.zero_grad()
            loss = F.cross_entropy(model(wg.Tensor(X)), wg.Tensor(y))
            loss.backward()
            opt.step()
    else:
        import torch
        torch.set_num_threads(1)
        model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                    torch.nn.Linear(512, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 10))
        opt = torch.optim.SGD(model.parameters(), lr=LR)

        def step():
            X, y = next(it)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(X)),
                                                     torch.from_numpy(y))
            loss.backward()
            opt.step()
    base_rss, base_peak = rss_mb(), peak_mb()
    step()
    after_first = rss_mb()
    samples = []
    for k in range(1, steps):
        step()
        if k % max(1, steps // 10) == 0:
            samples.append(rss_mb())
    return {"candidate": candidate, "steps": steps,
            "training_adds_peak_mb": round(peak_mb() - max(base_peak, base_rss), 1),
            "rss_after_first_step_mb": round(after_first - base_rss, 1),
            "rss_drift_mb": round(samples[-1] - samples[0], 1) if len(samples) > 1 else 0.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--candidate", choices=["wengert", "numpy", "torch"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    steps = args.steps or (500 if args.quick else 10_000)
    if args.candidate:
        print(json.dumps(measure(args.candidate, steps)))
        return
    rows = []
    for cand in ("numpy", "wengert", "torch"):
        out = subprocess.run([sys.executable, __file__, "--candidate", cand, "--steps", str(steps)],
                             capture_output=True, text=True)
        if out.returncode == 0:
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        elif cand != "torch":
            raise RuntimeError(out.stderr)
    emit({"bench": "memory", "config": f"{steps} steps, batch 128, 60,000 x 784 float32",
          "rows": rows, "versions": versions()}, args.json)


if __name__ == "__main__":
    sys.exit(main())
