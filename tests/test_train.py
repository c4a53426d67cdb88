"""wengert.train.fit / evaluate: history, metrics, callbacks, early stopping, NaN stop."""
import csv

import numpy as np
import pytest

import wengert as wg
from wengert import nn, optim
from wengert.data import DataLoader, TensorDataset, spiral
from wengert.nn import functional as F
from wengert.optim.lr_scheduler import CosineAnnealingLR, StepLR
from wengert.train import (Callback, EarlyStopping, History, NonFiniteLossError, accuracy,
                           confusion_matrix, evaluate, fit, predict)


def _blobs(n=64, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.standard_normal((n, 2)).astype(np.float32) + 2.0 * (2 * y[:, None] - 1)
    return TensorDataset(X, y)


def _setup(lr=0.1, seed=0):
    wg.manual_seed(seed)
    model = nn.MLP([2, 8, 2])
    return model, optim.SGD(model.parameters(), lr=lr)


def _params(model):
    return [p.data.copy() for p in model.parameters()]


def test_spiral_reaches_99_percent_train_accuracy_in_seconds():
    """Acceptance: a small MLP learns the 2-D spiral (the `wengert train` default recipe)."""
    data = spiral(1000, noise=0.05, seed=0)
    wg.manual_seed(0)
    model = nn.MLP([2, 64, 64, 2])
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    fit(model, F.cross_entropy, optimizer, DataLoader(data, 32, shuffle=True), 30,
        scheduler=CosineAnnealingLR(optimizer, 30), progress=False)
    X, y = data.tensors
    predicted = predict(model, X).data.argmax(axis=1)
    assert np.mean(predicted == y.data) >= 0.99


def test_history_records_each_epoch_and_the_lr_schedule():
    model, optimizer = _setup()
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 16, shuffle=True), 3,
                  val_loader=DataLoader(_blobs(32, seed=1), 32), scheduler=scheduler,
                  progress=False)
    assert history["epoch"] == [1, 2, 3]
    assert history["lr"] == [0.1, 0.05, 0.025]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "time", "samples_per_s"):
        assert len(history[key]) == 3 and all(np.isfinite(history[key]))
    assert history.stopped is None
    assert history["loss"][-1] < history["loss"][0]


def test_val_metrics_equal_an_independent_computation():
    model, optimizer = _setup()
    val = _blobs(50, seed=3)
    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 16), 1,
                  val_loader=DataLoader(val, 7), progress=False)
    X, y = (t.data for t in val.tensors)
    logits = predict(model, wg.tensor(X)).data.astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert history["val_loss"][0] == pytest.approx(-log_probs[np.arange(50), y].mean(), rel=1e-5)
    assert history["val_accuracy"][0] == pytest.approx(np.mean(logits.argmax(1) == y))


def test_train_loss_is_the_sample_weighted_mean_of_the_batch_losses():
    model, optimizer = _setup()
    seen = []

    class Record(Callback):
        def on_batch_end(self, state, logs):
            seen.append(logs["loss"])

    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(40), 16), 1,
                  callbacks=[Record()], progress=False)
    assert len(seen) == 3  # 16 + 16 + 8
    expected = (16 * seen[0] + 16 * seen[1] + 8 * seen[2]) / 40
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_evaluate_restores_training_mode_and_records_no_graph():
    model, _ = _setup()
    model.train()
    result = evaluate(model, F.cross_entropy, DataLoader(_blobs(), 64))
    assert model.training and set(result) == {"loss", "accuracy"}
    model.eval()
    evaluate(model, F.cross_entropy, DataLoader(_blobs(), 64))
    assert not model.training
    assert predict(model, wg.zeros(1, 2)).grad_fn is None


def test_custom_metric_functions_and_unknown_names():
    model, optimizer = _setup()

    def positives(outputs, targets):
        return float(np.mean(targets == 1))

    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 64), 1,
                  metrics=[positives], progress=False)
    assert history["positives"] == [0.5]
    with pytest.raises(wg.ArgumentError, match="unknown metric 'f1'; use one of \\['accuracy'\\]"):
        fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 64), 1, metrics=["f1"])


def test_accuracy_and_confusion_matrix_by_hand():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    targets = np.array([0, 1, 1, 2])
    assert accuracy(logits, targets) == 0.5
    assert accuracy(logits, np.eye(3)[targets]) == 0.5  # one-hot targets
    assert accuracy(np.array([[0.3], [-2.0], [1.0]]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    np.testing.assert_array_equal(confusion_matrix(logits, targets, 3),
                                  [[1, 0, 0], [0, 1, 1], [1, 0, 0]])


def test_accuracy_rejects_mismatched_lengths():
    with pytest.raises(wg.ShapeError, match="3 predictions .* but 2 targets"):
        accuracy(np.zeros((3, 2)), np.zeros(2))


def test_nan_loss_stops_naming_step_epoch_and_batch_before_the_update():
    data = _blobs(64)
    X = data.tensors[0].data.copy()
    X[40] = np.nan  # batch 2 (samples 32..47) of the first epoch, in order
    model, optimizer = _setup()
    snapshots = []

    class Snapshot(Callback):
        def on_batch_end(self, state, logs):
            snapshots.append(_params(state.model))

    with pytest.raises(NonFiniteLossError) as info:
        fit(model, F.cross_entropy, optimizer, DataLoader(TensorDataset(X, data.tensors[1]), 16),
            2, callbacks=[Snapshot()], progress=False)
    message = str(info.value)
    assert "loss is nan at step 3 (epoch 1, batch 2)" in message
    assert "lower the learning rate" in message and "detect_anomaly" in message
    assert isinstance(info.value, FloatingPointError)
    for saved, now in zip(snapshots[-1], _params(model)):
        np.testing.assert_array_equal(saved, now)


def test_inf_loss_from_a_diverging_lr_is_caught():
    model, optimizer = _setup(lr=1e30)
    with np.errstate(over="ignore", invalid="ignore"), \
            pytest.raises(NonFiniteLossError, match=r"loss is (inf|nan) at step \d+ .*now 1e\+30"):
        fit(model, F.mse_loss, optimizer,
            DataLoader(TensorDataset(np.ones((8, 2), np.float32), np.ones((8, 2), np.float32)),
                       4), 5, metrics=(), progress=False)


def test_callbacks_see_batches_and_can_stop():
    model, optimizer = _setup()
    batches = []

    class StopAfterTwo(Callback):
        def on_batch_end(self, state, logs):
            batches.append((state.epoch, logs["batch"], state.step))

        def on_epoch_end(self, state, logs):
            if logs["epoch"] == 2:
                state.stop = "enough"

    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(32), 16), 10,
                  callbacks=[StopAfterTwo()], progress=False)
    assert batches == [(0, 0, 1), (0, 1, 2), (1, 0, 3), (1, 1, 4)]
    assert history["epoch"] == [1, 2] and history.stopped == "enough"


def test_early_stopping_waits_patience_epochs_without_improvement():
    model, optimizer = _setup(lr=0.0)  # nothing changes: val_loss never improves after epoch 1
    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 16), 20,
                  val_loader=DataLoader(_blobs(16, seed=2), 16),
                  callbacks=[EarlyStopping("val_loss", patience=3)], progress=False)
    assert history["epoch"] == [1, 2, 3, 4]
    assert history.stopped.startswith("early stopping: val_loss did not improve for 3 epochs")


def _score_run(scores, epochs, stopper):
    """Train with a validation score that takes the given values, snapshotting each epoch."""
    scores, snapshots = iter(scores), {}

    def score(outputs, targets):  # the validation batch has 7 rows, training batches 8
        return next(scores) if len(targets) == 7 else 0.0

    class Snapshot(Callback):
        def on_epoch_end(self, state, logs):
            snapshots[logs["epoch"]] = _params(state.model)

    model, optimizer = _setup()
    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(16), 8), epochs,
                  val_loader=DataLoader(_blobs(7, seed=4), 7), metrics=[score],
                  callbacks=[Snapshot(), stopper], progress=False)
    return model, history, snapshots


def test_early_stopping_restores_the_best_weights():
    stopper = EarlyStopping("val_score", patience=2, mode="max", restore_best_weights=True)
    model, history, snapshots = _score_run([0.5, 0.9, 0.7, 0.6, 0.6, 0.6], 10, stopper)
    assert history["epoch"] == [1, 2, 3, 4]
    assert "best 0.9 at epoch 2" in history.stopped
    for best, now in zip(snapshots[2], _params(model)):
        np.testing.assert_array_equal(best, now)


def test_early_stopping_errors():
    model, optimizer = _setup()
    with pytest.raises(wg.ArgumentError, match="'val_loss', which this run does not record"):
        fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 64), 2,
            callbacks=[EarlyStopping()], progress=False)
    with pytest.raises(wg.ArgumentError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="up")


def test_fit_accepts_any_iterable_of_batches():
    model, optimizer = _setup()
    X, y = _blobs(32).tensors
    batches = [(X[:16], y[:16]), (X[16:], y[16:])]
    history = fit(model, F.cross_entropy, optimizer, batches, 2, progress=False)
    assert len(history["loss"]) == 2


def test_history_csv_round_trips(tmp_path):
    model, optimizer = _setup()
    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 16), 2,
                  progress=False)
    history.to_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert [float(r["loss"]) for r in rows] == history["loss"]
    assert history.rows()[1]["epoch"] == 2


def test_history_keeps_epochs_aligned_when_keys_come_and_go(tmp_path):
    # a val_loader added on resume: val_loss exists from epoch 2 only; lr is logged once
    history = History()
    history.append({"epoch": 1, "loss": 0.9})
    history.append({"epoch": 2, "loss": 0.7, "val_loss": 0.8})
    history.append({"epoch": 3, "loss": 0.5, "val_loss": 0.6, "lr": 0.1})
    assert history["val_loss"] == [None, 0.8, 0.6] and history["lr"] == [None, None, 0.1]
    history.append({"epoch": 4, "loss": 0.4})  # a row without validation
    assert history.rows()[3] == {"epoch": 4, "loss": 0.4, "val_loss": None, "lr": None}
    history.to_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["epoch"], r["val_loss"], r["lr"]) for r in rows] == [
        ("1", "", ""), ("2", "0.8", ""), ("3", "0.6", "0.1"), ("4", "", "")]


def test_a_metric_returning_a_numpy_scalar_is_recorded_as_a_float(tmp_path):
    model, optimizer = _setup()

    def agreement(outputs, targets):
        return np.mean(outputs.argmax(axis=1) == targets)  # np.float64, as NumPy gives it

    history = fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 16), 1,
                  metrics=[agreement], progress=False)
    assert type(history["agreement"][0]) is float
    history.to_csv(tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert float(row["agreement"]) == history["agreement"][0]  # not "np.float64(...)"


def test_confusion_matrix_rejects_classes_outside_num_classes():
    logits = np.eye(3)
    with pytest.raises(wg.ShapeError, match=r"classes must be in \[0, 3\), got \[3\].*"
                                            r"num_classes >= 4"):
        confusion_matrix(logits, np.array([0, 1, 3]), 3)
    with pytest.raises(wg.ShapeError, match=r"got \[-1\]"):
        confusion_matrix(logits, np.array([0, -1, 2]), 3)
    with pytest.raises(wg.ShapeError, match="3 predictions .* but 2 targets"):
        confusion_matrix(logits, np.array([0, 1]), 3)


def test_loaders_that_yield_no_batches_are_named_not_divided_by():
    model, optimizer = _setup()
    empty = DataLoader(_blobs(8), batch_size=16, drop_last=True)  # 8 < 16: no full batch
    assert len(empty) == 0 and list(empty) == []  # as PyTorch's DataLoader
    hint = r"8 samples, batch_size=16, drop_last=True\), so there is no loss to average"
    with pytest.raises(wg.ArgumentError, match="fit: train_loader yields no batches .*" + hint):
        fit(model, F.cross_entropy, optimizer, empty, 1, progress=False)
    before = _params(model)
    with pytest.raises(wg.ArgumentError, match="fit: val_loader yields no batches"):
        fit(model, F.cross_entropy, optimizer, DataLoader(_blobs(), 16), 1, val_loader=empty,
            progress=False)
    for saved, now in zip(before, _params(model)):  # refused before training an epoch
        np.testing.assert_array_equal(saved, now)
    with pytest.raises(wg.ArgumentError, match="evaluate: the loader yields no batches"):
        evaluate(model, F.cross_entropy, empty)
    X, y = _blobs(16).tensors
    one_pass = ((X[i:i + 8], y[i:i + 8]) for i in (0, 8))  # a generator is spent after epoch 1
    with pytest.raises(wg.ArgumentError, match="train_loader in epoch 2 yields no batches.*"
                                               "not a generator"):
        fit(model, F.cross_entropy, optimizer, one_pass, 2, progress=False)


def test_evaluation_gives_each_submodule_its_own_mode_back():
    """A submodule kept in eval mode inside a training model (a frozen dropout or batch norm)
    stays so after predict/evaluate, as Lightning restores it."""
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    model[1].eval()
    predict(model, wg.zeros(1, 2))
    evaluate(model, F.cross_entropy, DataLoader(_blobs(), 64))
    assert [m.training for m in model.modules()] == [True, True, False, True]


def test_early_stopping_restores_the_best_weights_when_the_epochs_run_out():
    """Keras 3: restore_best_weights acts at the end of training, stopped early or not."""
    stopper = EarlyStopping("val_score", patience=5, mode="max", restore_best_weights=True)
    model, history, snapshots = _score_run([0.5, 0.9, 0.7], 3, stopper)
    assert history["epoch"] == [1, 2, 3] and history.stopped is None
    for best, now in zip(snapshots[2], _params(model)):
        np.testing.assert_array_equal(best, now)
    assert not np.array_equal(snapshots[3][0], snapshots[2][0])


def test_an_early_stopping_instance_starts_afresh_in_each_fit():
    """Keras resets the count in on_train_begin; a stale one stopped the next run at once."""
    stopper = EarlyStopping("val_score", patience=1, mode="max")
    _, first, _ = _score_run([0.9, 0.1], 10, stopper)
    assert first["epoch"] == [1, 2]
    _, second, _ = _score_run([0.1, 0.2, 0.3, 0.3], 10, stopper)  # worse than 0.9 throughout
    assert second["epoch"] == [1, 2, 3, 4] and "best 0.3 at epoch 3" in second.stopped


def test_early_stopping_min_delta_is_a_magnitude():
    """Keras takes abs(min_delta): -0.5 must not count a drop of 0.2 as an improvement."""
    stopper = EarlyStopping("val_score", patience=1, min_delta=-0.5, mode="max")
    _, history, _ = _score_run([0.9, 0.7], 10, stopper)
    assert history["epoch"] == [1, 2] and "best 0.9 at epoch 1" in history.stopped
