"""Run the benchmark suite and write its tables into docs/performance.md.

Each bench runs in its own process (BLAS threads are fixed at import): 1 thread is the
headline (steady on these shared 2-core machines), 2 threads beside it. The tables replace
what stands between the page's `<!-- results:start -->` and `<!-- results:end -->` markers
(with `--only`, just the sections of the benches named: the others stay as they were, each
with its own date); the rest of the page (targets, analysis) is written by hand.

    python bench/run.py [--quick] [--only mlp_step,tiny_ops,...] [--out docs/performance.md]
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (script, extra argument sets); each set runs once per thread count listed
SUITE = {
    "mlp_step": [["--dtype", "float32"], ["--dtype", "float64"]],
    "mlp_overhead": [[]],
    "tiny_ops": [[]],
    "row_writes": [[]],
    "slices": [[]],
    "rnn": [[]],
    "vmap": [[]],
    "memory": [[]],
    "mnist_epoch": [[]],
    "jacobian_modes": [[]],
    "checkpoint_memory": [[]],
    "conv": [[]],
    "instructions": [[]],
}
THREADS = {"mlp_step": (1, 2), "mlp_overhead": (1,), "tiny_ops": (1, 2), "row_writes": (1,),
           "slices": (1,), "rnn": (1,), "vmap": (1,), "memory": (1,), "mnist_epoch": (1, 2),
           "jacobian_modes": (1,), "checkpoint_memory": (1,), "conv": (1,), "instructions": (1,)}


def run_one(name, extra, threads, quick):
    cmd = [sys.executable, str(HERE / f"{name}.py"), "--json", "--threads", str(threads)] + extra
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1]), " ".join(
        ["python", f"bench/{name}.py"] + extra + ["--threads", str(threads)])


def table(rows):
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join("" if r.get(k) is None else str(r.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


START, END = "<!-- results:start -->", "<!-- results:end -->"


def split_page(text):
    """``(head, results, tail)``: the page around and between the markers (the markers
    appended, with an empty results part, if the page has none)."""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        results, tail = rest.split(END, 1)
        return head, results, tail
    return text + "\n## Results\n\n", "", "\n"


def sections_by_bench(results):
    """The ``### bench — config`` sections of a results part, grouped by bench name."""
    found = {}
    for part in results.split("\n### ")[1:]:
        found.setdefault(part.split(" — ", 1)[0], []).append("### " + part.rstrip("\n") + "\n")
    return found


def write_results(path, header, fresh):
    """Write ``fresh`` (bench name -> its new sections) between the markers, in suite order,
    keeping the page's earlier sections of every bench not in ``fresh``."""
    head, results, tail = split_page(path.read_text() if path.exists() else "")
    kept = sections_by_bench(results)
    body = [header] + [text for name in SUITE for text in fresh.get(name, kept.get(name, []))]
    path.write_text(f"{head}{START}\n" + "\n".join(body) + f"\n{END}{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(HERE.parent / "docs" / "performance.md"))
    args = ap.parse_args()
    names = [n for n in SUITE if not args.only or n in args.only.split(",")]
    fresh, versions, today = {}, None, datetime.date.today()
    for name in names:
        if not (HERE / f"{name}.py").exists():
            continue
        for extra in SUITE[name]:
            for threads in THREADS[name]:
                result, cmd = run_one(name, extra, threads, args.quick)
                versions = result.get("versions", versions)
                notes = {k: v for k, v in result.items()
                         if k not in ("bench", "config", "rows", "versions")}
                text = (f"### {result['bench']} — {result['config']}\n\n`{cmd}` ({today}"
                        f"{', --quick' if args.quick else ''})\n\n{table(result['rows'])}\n")
                if notes:
                    text += "\n" + "\n".join(f"- {k}: {v}" for k, v in notes.items()) + "\n"
                fresh.setdefault(name, []).append(text)
                print(text, flush=True)
    header = (f"Last written by `python bench/run.py{' --quick' if args.quick else ''}"
              f"{' --only ' + args.only if args.only else ''}` on {today}. "
              f"Machine: {machine()}. Versions: "
              + ", ".join(f"{k} {v}" for k, v in (versions or {}).items()) + ".\n")
    write_results(Path(args.out), header, fresh)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
