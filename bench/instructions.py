"""Instructions executed per tiny op and per MLP step, with the L1 instruction-cache and L2
misses of a simulated core, counted by valgrind's cachegrind: unlike times, the counts repeat
exactly whatever else the shared machine is doing. Misses matter where instructions do not
tell the whole story: between the MLP's GEMMs, which stream megabytes through the caches,
Python code runs cold. Each case runs twice in a child process (few and many repetitions)
and the difference is divided out, so start-up and imports cancel. Needs the ``valgrind`` program (Debian package valgrind).

    python bench/instructions.py [--quick] [--json]     (--quick: the tiny-op cases only)
"""
import os
import re
import shutil
import subprocess
import sys

from _timing import emit, standard_args, versions

HERE = os.path.dirname(os.path.abspath(__file__))
# case -> (what it counts, repetitions few/many, units per repetition)
CASES = {
    "tiny wengert fwd+bwd": ("op", (10, 40), "tiny_ops"),
    "tiny wengert fwd (recording)": ("op", (10, 40), "tiny_ops"),
    "tiny wengert no_grad": ("op", (10, 40), "tiny_ops"),
    "tiny floor: numpy + an object per op": ("op", (10, 40), "tiny_ops"),
    "tiny numpy fwd+bwd": ("op", (10, 40), "tiny_ops"),
    "tiny numpy fwd": ("op", (10, 40), "tiny_ops"),
    "mlp wengert step": ("step", (1, 5), "mlp"),
    "mlp numpy step": ("step", (1, 5), "mlp"),
}


def workload(case):
    """The function one repetition of ``case`` calls (in the child process)."""
    import numpy as np
    import wengert as wg
    if case.startswith("tiny"):
        from tiny_ops import chain, floor_forward, numpy_fwd_bwd
        x0 = np.random.default_rng(0).random(16).astype(np.float32)
        if case == "tiny numpy fwd+bwd":
            return numpy_fwd_bwd(np, x0)
        if case == "tiny numpy fwd":
            return lambda: chain(x0, np.tanh, np.exp)
        if case.startswith("tiny floor"):
            return floor_forward(np, x0)
        if case == "tiny wengert no_grad":
            def nograd():
                with wg.no_grad():
                    chain(wg.tensor(x0), wg.tanh, wg.exp)
            return nograd
        fwd = lambda: chain(wg.tensor(x0, requires_grad=True), wg.tanh, wg.exp).sum()
        return fwd if "recording" in case else lambda: fwd().backward()
    from mlp_step import make_problem, numpy_step, wengert_step
    X, y, P0 = make_problem(np, np.dtype("float32"))
    if case == "mlp numpy step":
        P, step = [p.copy() for p in P0], numpy_step(np, X, y)
        return lambda: step(P)
    return wengert_step(wg, X, y)([p.copy() for p in P0])[0]


def child(case, reps):
    fn = workload(case)
    for _ in range(2 + reps):  # two warm-up repetitions, then the counted ones
        fn()


# Cachegrind's simulated caches: a core of this machine type (AMD EPYC: 32 KiB L1i and L1d,
# 512 KiB L2), the L2 standing in for cachegrind's last level (L3 is 32 MiB and shared).
CACHES = ["--I1=32768,8,64", "--D1=32768,8,64", "--LL=524288,8,64"]
EVENTS = {"instructions": r"I\s+refs:\s*([\d,]+)", "I1 misses": r"I1\s+misses:\s*([\d,]+)",
          "L2 misses": r"LL misses:\s*([\d,]+)"}


def count(case, reps):
    """Instructions, L1 instruction-cache misses and L2 misses (code and data) of a child
    process running ``case`` ``reps`` times, under cachegrind."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=yes", *CACHES,
                          "--cachegrind-out-file=/dev/null",
                          os.path.realpath(sys.executable), __file__, "--child", case,
                          str(reps)], capture_output=True, text=True, cwd=HERE, env=env)
    found = {k: re.search(rx, out.stderr) for k, rx in EVENTS.items()}
    if out.returncode != 0 or not all(found.values()):
        raise RuntimeError(f"cachegrind failed for {case!r}:\n{out.stderr[-2000:]}")
    return {k: int(m.group(1).replace(",", "")) for k, m in found.items()}


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], int(sys.argv[3]))
    args = standard_args(__doc__)  # --threads is accepted; the counts are taken on one
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    from tiny_ops import OPS_PER_CHAIN
    rows = []
    for case, (unit, (few, many), kind) in CASES.items():
        if args.quick and kind != "tiny_ops":
            continue
        per = OPS_PER_CHAIN if kind == "tiny_ops" else 1
        lo, hi = count(case, few), count(case, many)
        rows.append({"case": case, "unit": unit,
                     **{k: round((hi[k] - lo[k]) / (many - few) / per) for k in EVENTS}})
    emit({"bench": "instructions", "config": "cachegrind, 1 thread, 16-element float32 chain; "
          "MLP 784-512-256-10 float32 batch 128", "rows": rows, "versions": versions()},
         args.json)


if __name__ == "__main__":
    sys.exit(main())
