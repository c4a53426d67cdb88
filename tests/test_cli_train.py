"""`wengert train`: the default spiral run, outputs, argument errors, MNIST, Ctrl-C + resume."""
import csv
import json
import signal
import subprocess
import sys

import numpy as np
import pytest
import safetensors.numpy

import wengert as wg
from wengert import nn
from wengert.cli import main
from wengert.data import DataLoader, spiral


def _train(tmp_path, *flags, out="out"):
    return main(["train", "--no-progress", "--out", str(tmp_path / out), *flags])


def test_default_run_learns_the_spiral_and_writes_its_outputs(tmp_path, capsys):
    assert _train(tmp_path) == 0
    printed = capsys.readouterr().out
    assert "wengert train: spiral, MLP 2-64-64-2 (relu), adam lr=0.01 (cosine)" in printed
    assert "steps/s" in printed and "wall time" in printed
    out = tmp_path / "out"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 30 and metrics["steps"] == 30 * 32  # 1000 points, batch 32
    assert metrics["train_accuracy"] >= 0.99
    with open(out / "history.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 30
    # the checkpoint's weights reproduce the reported train accuracy
    model = nn.MLP([2, 64, 64, 2])
    arrays = safetensors.numpy.load_file(out / "checkpoint.safetensors")
    model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items()
                           if k.startswith("model/")})
    X, y = spiral(1000, noise=0.05, seed=0).tensors
    with wg.no_grad():
        accuracy = np.mean(model(X).data.argmax(axis=1) == y.data)
    assert accuracy == metrics["train_accuracy"]


def test_plots_are_written_when_matplotlib_is_present(tmp_path):
    pytest.importorskip("matplotlib")
    assert _train(tmp_path, "--dataset", "xor", "--epochs", "2") == 0
    for name in ("history.png", "confusion_matrix.png", "decision_boundary.png"):
        assert (tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG"


def test_plots_are_written_atomically_in_the_format_of_their_suffix(tmp_path):
    pytest.importorskip("matplotlib")
    from wengert.train import History, plot_history

    history = History()
    for epoch in (1, 2):
        history.append({"epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5})
    plot_history(history, tmp_path / "new" / "h.svg")  # saved through a file object
    assert b"<svg" in (tmp_path / "new" / "h.svg").read_bytes()[:400]
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["h.svg"]


@pytest.mark.parametrize("flags, message", [
    (["--dataset", "iris"], "argument --dataset: invalid choice: 'iris' (choose from 'spiral', "
                            "'xor', 'circle', 'gaussian', 'moons', 'mnist', 'fashion-mnist')"),
    (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop' (choose from 'sgd', 'momentum', "
                                 "'adam', 'adamw')"),
    (["--dtype", "float16"], "invalid choice: 'float16' (choose from 'float32', 'float64')"),
    (["--activation", "swish"], "invalid choice: 'swish' (choose from 'identity', 'relu', "
                                "'leaky_relu', 'elu', 'gelu', 'silu', 'sigmoid', 'tanh', "
                                "'softplus')"),
    # softmax and log_softmax are in nn.ACTIVATIONS but are no hidden-layer activations
    (["--activation", "softmax"], "invalid choice: 'softmax' (choose from 'identity',"),
    (["--activation", "log_softmax"], "invalid choice: 'log_softmax' (choose from 'identity',"),
    (["--hidden", "64,x"], "argument --hidden: expected comma-separated positive layer widths "
                           "such as 64,64, got '64,x'"),
    (["--hidden", "64,0"], "got '64,0'"),
    (["--lr", "-1"], "argument --lr: expected a positive number, got '-1'"),
    (["--batch-size", "0"], "argument --batch-size: expected a positive integer, got '0'"),
    (["--epochs", "two"], "argument --epochs: expected a positive integer, got 'two'"),
    (["--weight-decay", "-0.1"], "argument --weight-decay: expected a number >= 0, got '-0.1'"),
    (["--noise", "lots"], "argument --noise: expected a number >= 0, got 'lots'"),
    (["--clip-grad-norm", "0"], "argument --clip-grad-norm: expected a positive number, got '0'"),
    (["--lr", "nan"], "argument --lr: expected a positive number, got 'nan'"),
    (["--resume"], "--resume needs --out DIR holding checkpoint.safetensors"),
    (["--seed", "-1"], "argument --seed: expected a seed >= 0, got '-1'"),
])
def test_bad_arguments_are_argparse_errors_naming_what_is_allowed(flags, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *flags])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_clip_grad_norm_bounds_each_sgd_step(tmp_path):
    # SGD moves the weights by lr * (clipped gradient) per step: with C = 1e-8 and 2 steps of
    # lr 0.1 they stay within 2e-9 of their initial values; unclipped they move far more
    def moved(*flags):
        out = f"out{len(flags)}"
        assert _train(tmp_path, "--dataset", "xor", "--samples", "64", "--batch-size", "32",
                      "--epochs", "1", "--hidden", "4", "--optimizer", "sgd", "--lr", "0.1",
                      "--schedule", "constant", *flags, out=out) == 0
        arrays = safetensors.numpy.load_file(tmp_path / out / "checkpoint.safetensors")
        wg.manual_seed(0)  # the run's seed, set before the model is built
        start = nn.MLP([2, 4, 2]).state_dict()
        step = np.concatenate([(arrays["model/" + k] - v.data).ravel() for k, v in start.items()])
        return float(np.sqrt(np.sum(step.astype(np.float64) ** 2))), json.loads(
            (tmp_path / out / "metrics.json").read_text())
    clipped, metrics = moved("--clip-grad-norm", "1e-8")
    free, _ = moved()
    assert metrics["clip_grad_norm"] == 1e-8
    assert clipped <= 2 * 0.1 * 1e-8 * 1.01 and free > 1e-4


def test_activation_choices_are_the_element_wise_activations_of_nn(tmp_path):
    from wengert.cli.train import ACTIVATIONS
    # a new activation in nn.ACTIVATIONS must be sorted into one of these two groups
    assert set(ACTIVATIONS) == set(nn.ACTIVATIONS) - {"softmax", "log_softmax"}
    assert _train(tmp_path, "--dataset", "xor", "--samples", "64", "--epochs", "1",
                  "--hidden", "4", "--activation", "softplus") == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["activation"] == "softplus"


def test_missing_mnist_files_are_a_clean_error(tmp_path, capsys):
    rc = main(["train", "--dataset", "fashion-mnist", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("wengert train: error: fashion-mnist train split: missing")
    assert "--download, or --data-dir DIR" in err


def test_mnist_one_quick_epoch(tmp_path, data_dir, capsys):
    assert _train(tmp_path, "--dataset", "mnist", "--data-dir", str(data_dir), "--epochs", "1",
                  "--hidden", "32", "--batch-size", "256") == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["model"] == "784-32-10" and metrics["test_accuracy"] > 0.9


def test_ctrl_c_then_resume_equals_a_straight_run(tmp_path, monkeypatch, capsys):
    flags = ["--dataset", "moons", "--epochs", "3", "--optimizer", "momentum", "--samples", "300"]
    assert _train(tmp_path, *flags, out="straight") == 0

    original = DataLoader.batches
    epochs_started = []

    def ctrl_c_in_epoch_2(self, order, start=0):
        if self.shuffle:
            epochs_started.append(start)
        for index, batch in enumerate(original(self, order, start), start):
            if self.shuffle and len(epochs_started) == 2 and index == 4:
                signal.raise_signal(signal.SIGINT)
            yield batch

    monkeypatch.setattr(DataLoader, "batches", ctrl_c_in_epoch_2)
    assert _train(tmp_path, *flags, out="resumed") == 130
    assert "interrupted in epoch 2 after batch 4" in capsys.readouterr().err
    monkeypatch.setattr(DataLoader, "batches", original)
    assert _train(tmp_path, *flags, "--resume", out="resumed") == 0

    straight, resumed = (safetensors.numpy.load_file(tmp_path / d / "checkpoint.safetensors")
                         for d in ("straight", "resumed"))
    model_keys = [k for k in straight if k.startswith("model/")]
    assert model_keys and all(np.array_equal(straight[k], resumed[k]) for k in model_keys)
    metrics = [json.loads((tmp_path / d / "metrics.json").read_text())
               for d in ("straight", "resumed")]
    assert metrics[0]["test_loss"] == metrics[1]["test_loss"]


def test_resume_refuses_flags_other_than_the_checkpoints(tmp_path, capsys):
    small = ["--samples", "100", "--hidden", "8"]
    assert _train(tmp_path, *small, "--epochs", "2") == 0
    before = (tmp_path / "out" / "checkpoint.safetensors").read_bytes()
    capsys.readouterr()
    # another optimizer used to crash the step (KeyError 'momentum'); another --lr or --epochs
    # was silently replaced by the checkpoint's schedule
    assert _train(tmp_path, *small, "--epochs", "3", "--optimizer", "sgd", "--resume") == 1
    err = capsys.readouterr().err
    assert err.startswith("wengert train: error: ")
    assert "checkpoint.safetensors: written by a run with other flags: --optimizer adam " \
           "(this run: sgd), --lr 0.01 (this run: 0.1), --epochs 2 (this run: 3); --resume " \
           "needs the same flags" in err
    assert _train(tmp_path, *small, "--epochs", "2", "--lr", "0.5", "--resume") == 1
    assert "--lr 0.01 (this run: 0.5)" in capsys.readouterr().err
    assert (tmp_path / "out" / "checkpoint.safetensors").read_bytes() == before


def test_resume_extends_a_constant_schedule(tmp_path):
    flags = ["--samples", "100", "--hidden", "8", "--schedule", "constant"]
    assert _train(tmp_path, *flags, "--epochs", "1") == 0
    assert _train(tmp_path, *flags, "--epochs", "2", "--resume") == 0
    with open(tmp_path / "out" / "history.csv") as f:
        assert [float(row["lr"]) for row in csv.DictReader(f)] == [0.01, 0.01]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert (metrics["epochs"], metrics["lr"], metrics["schedule"]) == (2, 0.01, "constant")


def test_the_console_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "wengert", "train", "--epochs", "1",
                             "--samples", "64", "--no-progress"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "train  loss" in result.stdout and "test   loss" in result.stdout
