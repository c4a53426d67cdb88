"""Timing helpers shared by the benchmarks: candidates run alternately (A B A B ...) and
report medians, so drifts of a shared, noisy machine hit every candidate alike."""
import json
import os
import platform
import sys
import time


def pin_threads_from_argv(default=1):
    """Pin BLAS/OpenMP threads to ``--threads N`` (default 1) before NumPy or torch is
    imported: they read these variables once, at import. Returns N."""
    n = default
    if "--threads" in sys.argv:
        n = int(sys.argv[sys.argv.index("--threads") + 1])
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if n == 1:  # XLA (JAX) runs its CPU kernels on its own thread pool unless told not to
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   " --xla_cpu_multi_thread_eigen=false").strip()
    return n


def standard_args(doc, dtype=False):
    """The options every bench takes: ``--quick`` (a smoke run), ``--threads N`` (read by
    :func:`pin_threads_from_argv`) and ``--json`` (one line for bench/run.py); with ``dtype``
    also ``--dtype float32|float64``."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    if dtype:
        ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    return ap.parse_args()


def alternate(candidates, rounds, warmup=3, inner=1):
    """Median seconds per call of each ``name -> fn``, the candidates interleaved."""
    import numpy as np
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            t = time.perf_counter()
            for _ in range(inner):
                fn()
            times[name].append((time.perf_counter() - t) / inner)
    return {name: float(np.median(ts)) for name, ts in times.items()}


def alternate_blocks(candidates, rounds, block, warmup=3):
    """Each ``name -> fn`` called in blocks of ``block`` calls, the candidates' blocks
    interleaved, every call timed. Returns ``name -> {"steady": median seconds of the calls
    after a block's first, "first": median of the blocks' first calls, "block": median of the
    blocks' mean}``. A block's first call runs on caches the other candidates have just
    filled; the later calls run as a training loop's steps do, one after another."""
    import numpy as np
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    clock = time.perf_counter
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            calls = []
            for _ in range(block):
                t = clock()
                fn()
                calls.append(clock() - t)
            times[name].append(calls)
    out = {}
    for name, ts in times.items():
        ts = np.array(ts)
        out[name] = {"steady": float(np.median(ts[:, 1:])), "first": float(np.median(ts[:, 0])),
                     "block": float(np.median(ts.mean(axis=1)))}
    return out


def versions():
    """Versions of wengert and the peers that are installed."""
    import numpy as np
    out = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("wengert", "torch", "jax", "autograd", "micrograd", "gensim"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "installed")
        except ImportError:
            pass
    return out


def emit(result, as_json):
    """Print a benchmark's result: JSON for the runner, a table for people."""
    if as_json:
        print(json.dumps(result))
        return
    print(f"# {result['bench']} ({result['config']})")
    for row in result["rows"]:
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
