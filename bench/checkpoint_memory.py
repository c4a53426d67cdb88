"""Memory saved by gradient checkpointing on a deep MLP: peak of traced allocations
(tracemalloc, which sees NumPy's buffers) over one forward + backward, and the time of a step
(untraced, candidates alternating), for no checkpointing, a checkpoint per segment of k layers,
and one per layer. Layers are h -> tanh(h W + b), float64. The peak includes the parameters'
gradients, which every variant allocates; "activations MB" is the peak without them, the part
checkpointing can save.

    python bench/checkpoint_memory.py [--quick] [--threads 1] [--json]
"""
import sys
import tracemalloc

from _timing import alternate, emit, pin_threads_from_argv, standard_args, versions

pin_threads_from_argv()


def make_step(depth, width, batch, segment):
    """A function running forward + backward with a checkpoint every ``segment`` layers (0:
    none)."""
    import numpy as np
    import wengert as wg
    from wengert.recompute import checkpoint
    rng = np.random.default_rng(0)
    x = wg.tensor(rng.standard_normal((batch, width)))
    params = []
    for _ in range(depth):
        params += [wg.tensor(rng.standard_normal((width, width)) / np.sqrt(width),
                             requires_grad=True),
                   wg.tensor(np.zeros(width), requires_grad=True)]

    def layers(h, *wb):
        for W, b in zip(wb[0::2], wb[1::2]):
            h = wg.tanh(h @ W + b)
        return h

    def step():
        h = x
        size = segment or depth
        for start in range(0, depth, size):
            chunk = params[2 * start:2 * (start + size)]
            h = checkpoint(layers, h, *chunk) if segment else layers(h, *chunk)
        (h * h).mean().backward()
        for p in params:
            p.grad = None
    step.gradient_mb = sum(p.data.nbytes for p in params) / 2 ** 20
    return step


def peak_mb(step):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2 ** 20


def main():
    args = standard_args(__doc__)
    depth, width, batch = (16, 256, 128) if args.quick else (32, 512, 256)
    segments = {"none": 0, "every 4 layers": 4, "every layer": 1}
    steps = {name: make_step(depth, width, batch, k) for name, k in segments.items()}
    peaks = {name: peak_mb(step) for name, step in steps.items()}
    times = alternate(steps, 3 if args.quick else 9, warmup=1)
    grads = steps["none"].gradient_mb
    rows = [{"checkpoint": name, "peak MB": round(peaks[name], 1),
             "gradients MB": round(grads, 1), "activations MB": round(peaks[name] - grads, 1),
             "activations vs none": round((peaks[name] - grads) / (peaks["none"] - grads), 2),
             "step ms": round(times[name] * 1e3, 1),
             "time vs none": round(times[name] / times["none"], 2)} for name in steps]
    emit({"bench": "checkpoint_memory",
          "config": f"MLP depth {depth}, width {width}, batch {batch}, float64, "
                    f"{args.threads} thread(s)", "rows": rows, "versions": versions()},
         args.json)


if __name__ == "__main__":
    sys.exit(main())
