"""``wengert train``: train an MLP on a playground set or (Fashion-)MNIST, print a summary and
write metrics, history, a checkpoint and plots to ``--out``."""
import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_write

IMAGE_DATASETS = ("mnist", "fashion-mnist")
DATASETS = ("spiral", "xor", "circle", "gaussian", "moons", *IMAGE_DATASETS)
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")
#: The element-wise names of nn.ACTIVATIONS: softmax and log_softmax mix the units of a layer
#: (they make a distribution), which is an output's job, not a hidden layer's.
ACTIVATIONS = ("identity", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh",
               "softplus")
CHECKPOINT = "checkpoint.safetensors"


@dataclass(frozen=True)
class Recipe:
    """Defaults for a family of datasets; each flag the user gives overrides its field."""
    hidden: tuple
    batch_size: int
    epochs: int
    lr: dict


PLAYGROUND_RECIPE = Recipe((64, 64), 32, 30,
                           {"sgd": 0.1, "momentum": 0.05, "adam": 0.01, "adamw": 0.01})
IMAGE_RECIPE = Recipe((256, 128), 128, 10,
                      {"sgd": 0.1, "momentum": 0.05, "adam": 2e-3, "adamw": 2e-3})


def _sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive layer widths "
                                         f"such as 64,64, got {text!r}")
    return sizes


def _number(kind, minimum, inclusive, wording):
    """An argparse type: ``kind(text)`` that must be > minimum (>= when ``inclusive``)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < minimum or \
                (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}")
        return value
    return parse


_positive_int = _number(int, 0, False, "a positive integer")
_positive_float = _number(float, 0, False, "a positive number")
_non_negative = _number(float, 0, True, "a number >= 0")
_seed = _number(int, 0, True, "a seed >= 0")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "train", help="train an MLP classifier (spiral by default; MNIST with --dataset mnist)",
        description="Train an MLP classifier and print train/test loss and accuracy. "
                    "Defaults: playground sets use a 2-64-64-2 MLP, batch 32, 30 epochs; "
                    "(fashion-)mnist uses 784-256-128-10, batch 128, 10 epochs; Adam with "
                    "a cosine learning-rate schedule.")
    p.add_argument("--dataset", choices=DATASETS, default="spiral",
                   help="built-in 2-D set or an MNIST-format set (default spiral)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder holding mnist/ and fashion-mnist/ (default $WENGERT_DATA, "
                        "else ~/.cache/wengert)")
    p.add_argument("--download", action="store_true",
                   help="download missing MNIST files (checksums verified)")
    p.add_argument("--samples", type=_positive_int, default=1000,
                   help="points in a playground training set (the test set has as many)")
    p.add_argument("--noise", type=_non_negative, default=0.05,
                   help="standard deviation of the noise added to playground points")
    p.add_argument("--hidden", type=_sizes, default=None, help="hidden widths, e.g. 64,64")
    p.add_argument("--activation", choices=ACTIVATIONS, default="relu",
                   help="element-wise activation of the hidden layers (default relu)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                   help="momentum is SGD with momentum 0.9")
    p.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate (default: Adam 2e-3 on images, 0.01 on playground "
                        "sets; 0.1 SGD, 0.05 momentum)")
    p.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                   help="learning rate over the run: cosine annealing to 0 over --epochs "
                        "(default), or constant")
    p.add_argument("--batch-size", type=_positive_int, default=None)
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help="total epochs (with --resume: including those already done; only "
                        "a constant schedule can be extended)")
    p.add_argument("--weight-decay", type=_non_negative, default=None,
                   help="L2 weight decay (default: the optimizer's own, 0.01 for AdamW, "
                        "else 0)")
    p.add_argument("--clip-grad-norm", type=_positive_float, default=None, metavar="C",
                   help="scale each step's gradients to a total 2-norm of at most C")
    p.add_argument("--seed", type=_seed, default=0)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--out", type=Path, default=None,
                   help="write metrics.json, history.csv, the checkpoint and plots here")
    p.add_argument("--resume", action="store_true",
                   help=f"continue an interrupted run from --out/{CHECKPOINT} (give the same "
                        "flags, else it refuses; the result equals an uninterrupted run)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(run=run, parser=p)


def run(args):
    from ..errors import WengertError

    if args.resume and (args.out is None or not (args.out / CHECKPOINT).is_file()):
        args.parser.error(f"--resume needs --out DIR holding {CHECKPOINT} from an earlier run")
    try:
        return _train(args)
    except (WengertError, OSError) as exc:
        missing_data = isinstance(exc, FileNotFoundError) and args.dataset in IMAGE_DATASETS
        hint = " (on the command line: --download, or --data-dir DIR)" if missing_data else ""
        print(f"wengert train: error: {exc}{hint}", file=sys.stderr)
        return 1


def _train(args):
    from .. import optim
    from ..data import DataLoader
    from ..nn import MLP
    from ..nn.functional import cross_entropy
    from ..optim.lr_scheduler import CosineAnnealingLR
    from ..random import manual_seed
    from ..train import evaluate, fit

    recipe = IMAGE_RECIPE if args.dataset in IMAGE_DATASETS else PLAYGROUND_RECIPE
    hidden = args.hidden or recipe.hidden
    batch_size = args.batch_size or recipe.batch_size
    epochs = args.epochs or recipe.epochs
    lr = args.lr or recipe.lr[args.optimizer]
    train_set, test_set = _datasets(args)
    classes = int(train_set.tensors[1].data.max()) + 1
    manual_seed(args.seed)
    sizes = [train_set.tensors[0].shape[1], *hidden, classes]
    model = MLP(sizes, activation=args.activation, dtype=args.dtype)
    decay = {} if args.weight_decay is None else {"weight_decay": args.weight_decay}
    make, extra = {"sgd": (optim.SGD, {}), "momentum": (optim.SGD, {"momentum": 0.9}),
                   "adam": (optim.Adam, {}), "adamw": (optim.AdamW, {})}[args.optimizer]
    optimizer = make(model.parameters(), lr=lr, **extra, **decay)
    scheduler = CosineAnnealingLR(optimizer, epochs) if args.schedule == "cosine" else None
    flags = {"dataset": args.dataset, "hidden": list(hidden), "activation": args.activation,
             "optimizer": args.optimizer, "lr": lr, "schedule": args.schedule,
             "batch_size": batch_size,
             "weight_decay": optimizer.param_groups[0]["weight_decay"],
             "clip_grad_norm": args.clip_grad_norm, "seed": args.seed, "dtype": args.dtype}
    if args.dataset not in IMAGE_DATASETS:
        flags.update(samples=args.samples, noise=args.noise)
    if scheduler is not None:  # the cosine's length; a constant rate runs on for any --epochs
        flags["epochs"] = epochs
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    checkpoint = None if args.out is None else args.out / CHECKPOINT

    began = time.perf_counter()
    history = fit(model, cross_entropy, optimizer, train_loader, epochs, val_loader=test_loader,
                  scheduler=scheduler, callbacks=[_run_flags(flags, checkpoint)],
                  checkpoint=checkpoint, resume=args.resume, progress=not args.no_progress,
                  clip_grad_norm=args.clip_grad_norm)
    fit_seconds = time.perf_counter() - began
    if history.stopped:
        print(f"wengert train: {history.stopped}", file=sys.stderr)
        return 130
    train = evaluate(model, cross_entropy, DataLoader(train_set, batch_size=1000))
    test = evaluate(model, cross_entropy, test_loader)
    steps = len(train_loader) * len(history["epoch"])
    summary = {
        "dataset": args.dataset, "model": "-".join(map(str, sizes)),
        "activation": args.activation, "optimizer": args.optimizer, "lr": lr,
        "schedule": args.schedule,
        "weight_decay": optimizer.param_groups[0]["weight_decay"],
        "clip_grad_norm": args.clip_grad_norm, "batch_size": batch_size,
        "epochs": len(history["epoch"]), "dtype": args.dtype, "seed": args.seed,
        "train_loss": train["loss"], "train_accuracy": train["accuracy"],
        "test_loss": test["loss"], "test_accuracy": test["accuracy"],
        "wall_time_s": fit_seconds, "epoch_time_s": history["time"], "steps": steps,
        # training steps only (validation excluded), over every epoch of the run
        "steps_per_s": steps / sum(history["time"])}
    print(_report(summary))
    if args.out is not None:
        _write_outputs(args.out, summary, history, model, train_set, test_set)
    return 0


def _run_flags(flags, checkpoint):
    """A callback that saves ``flags`` (those that shape training) in the checkpoint and, on
    --resume, refuses a checkpoint written with other values: the checkpoint's optimizer and
    schedule would silently win over a new --lr or --epochs, or crash the step (another
    --optimizer)."""
    from ..train import Callback, CheckpointError

    class RunFlags(Callback):
        def state_dict(self):
            return flags

        def load_state_dict(self, saved):
            differ = [f"--{key.replace('_', '-')} {_flag(saved[key])} (this run: "
                      f"{_flag(value)})" for key, value in flags.items()
                      if key in saved and saved[key] != value]
            if differ:
                raise CheckpointError(f"{checkpoint}: written by a run with other flags: "
                                      f"{', '.join(differ)}; --resume needs the same flags "
                                      "(start a new run in another --out to change them)")

    return RunFlags()


def _flag(value):
    return ",".join(map(str, value)) if isinstance(value, list) else f"{value:g}" \
        if isinstance(value, float) else str(value)


def _datasets(args):
    from .. import data

    if args.dataset in data.PLAYGROUND:
        make = data.PLAYGROUND[args.dataset]
        # the test set is a fresh draw from the same distribution
        return tuple(make(args.samples, noise=args.noise, seed=args.seed + k, dtype=args.dtype)
                     for k in (0, 1))
    load = data.mnist if args.dataset == "mnist" else data.fashion_mnist
    return tuple(load(args.data_dir, split, download=args.download, flatten=True,
                      dtype=args.dtype) for split in ("train", "test"))


def _report(s):
    return "\n".join([
        f"wengert train: {s['dataset']}, MLP {s['model']} ({s['activation']}), "
        f"{s['optimizer']} lr={s['lr']:g} ({s['schedule']}), batch {s['batch_size']}, "
        f"{s['epochs']} epochs, {s['dtype']}",
        f"  train  loss {s['train_loss']:.4f}  accuracy {100 * s['train_accuracy']:.2f}%",
        f"  test   loss {s['test_loss']:.4f}  accuracy {100 * s['test_accuracy']:.2f}%",
        f"  wall time {s['wall_time_s']:.1f} s, {s['steps']} steps, "
        f"{s['steps_per_s']:.0f} steps/s"])


def _write_outputs(out, summary, history, model, train_set, test_set):
    from ..train import confusion_matrix, predict, predictions

    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "metrics.json") as f:
        f.write((json.dumps(summary, indent=2) + "\n").encode())
    history.to_csv(out / "history.csv")
    written = ["metrics.json", "history.csv", CHECKPOINT]
    try:
        from ..train import plots
        plots.plot_history(history, out / "history.png")
    except ImportError:
        print(f"wrote {', '.join(written)} to {out} (pip install matplotlib for plots)")
        return
    X, y = test_set.tensors
    logits = predict(model, X)
    classes = getattr(test_set, "classes", None)
    plots.plot_confusion_matrix(confusion_matrix(logits, y, logits.shape[1]), classes,
                                out / "confusion_matrix.png")
    written += ["history.png", "confusion_matrix.png"]
    if X.shape[1] == 2:
        plots.plot_decision_boundary(model, *train_set.tensors, out / "decision_boundary.png")
        written.append("decision_boundary.png")
    else:
        plots.plot_samples(X.data[:32], y.data[:32], predictions(logits)[:32], classes,
                           out / "samples.png")
        written.append("samples.png")
    print(f"wrote {', '.join(written)} to {out}")
