"""Interrupt + resume == a straight run, bit for bit: at an epoch boundary and mid-epoch
(Ctrl-C), with dropout drawing from the global generator or its own, a shuffling loader with
its own or the global generator, momentum / Adam state and an LR schedule."""
import signal

import numpy as np
import pytest

import wengert as wg
from wengert import nn, optim
from wengert.data import DataLoader, moons
from wengert.nn import functional as F
from wengert.optim.lr_scheduler import StepLR
from wengert.train import Callback, CheckpointError, EarlyStopping, fit

EPOCHS = 4
DATA = moons(100, noise=0.2, seed=0)


class At(Callback):
    """Acts once when training reaches (epoch index, batch index)."""

    def __init__(self, epoch, batch, action):
        self.where, self.action = (epoch, batch), action

    def on_batch_end(self, state, logs):
        if (state.epoch, logs["batch"]) == self.where:
            self.action(state)


def ctrl_c(state):
    signal.raise_signal(signal.SIGINT)


def _run(checkpoint, optimizer_name, own_generator, init_seed=0, callbacks=(), resume=False):
    wg.manual_seed(init_seed)  # a resumed run starts from other weights: the checkpoint rules
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    if optimizer_name == "momentum":
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    else:
        optimizer = optim.Adam(model.parameters(), lr=0.01)
    generator = wg.Generator(init_seed + 7) if own_generator else None
    loader = DataLoader(DATA, batch_size=16, shuffle=True, generator=generator)
    history = fit(model, F.cross_entropy, optimizer, loader, EPOCHS,
                  scheduler=StepLR(optimizer, step_size=1, gamma=0.7), callbacks=callbacks,
                  checkpoint=checkpoint, resume=resume, progress=False)
    return model, optimizer, history


def _same(a, b):
    (model_a, opt_a, hist_a), (model_b, opt_b, hist_b) = a, b
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        assert np.array_equal(pa.data, pb.data)
    for sa, sb in zip(opt_a.state.values(), opt_b.state.values()):
        for key in sa:
            assert np.array_equal(sa[key], sb[key])
    assert opt_a.param_groups[0]["lr"] == opt_b.param_groups[0]["lr"]
    for key in ("epoch", "loss", "accuracy", "lr"):
        assert hist_a[key] == hist_b[key]


@pytest.mark.parametrize("optimizer_name, own_generator", [("momentum", False), ("adam", True)])
def test_ctrl_c_mid_epoch_then_resume_equals_a_straight_run(tmp_path, optimizer_name,
                                                            own_generator):
    straight = _run(tmp_path / "straight.safetensors", optimizer_name, own_generator)
    path = tmp_path / "run.safetensors"
    model, _, history = _run(path, optimizer_name, own_generator,
                             callbacks=[At(1, 3, ctrl_c)])
    assert history.stopped.startswith("interrupted in epoch 2 after batch 3 (step 11)")
    assert str(path) in history.stopped and history["epoch"] == [1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    resumed = _run(path, optimizer_name, own_generator, init_seed=123, resume=True)
    _same(straight, resumed)
    assert resumed[2].stopped is None


def test_stop_at_an_epoch_boundary_then_resume(tmp_path):
    straight = _run(None, "momentum", False)
    path = tmp_path / "run.safetensors"

    class StopAfterTwo(Callback):
        def on_epoch_end(self, state, logs):
            if logs["epoch"] == 2:
                state.stop = "planned"

    assert _run(path, "momentum", False, callbacks=[StopAfterTwo()])[2]["epoch"] == [1, 2]
    _same(straight, _run(path, "momentum", False, init_seed=9, resume=True))


def test_resuming_a_finished_run_changes_nothing(tmp_path):
    path = tmp_path / "run.safetensors"
    first = _run(path, "adam", True)
    _same(first, _run(path, "adam", True, init_seed=5, resume=True))


def test_ctrl_c_without_a_checkpoint_returns_cleanly(tmp_path):
    model, _, history = _run(None, "momentum", False, callbacks=[At(0, 2, ctrl_c)])
    assert history.stopped.endswith("nothing saved (pass checkpoint=PATH to make runs "
                                    "resumable)")
    assert history == {}  # no epoch completed


def test_a_second_ctrl_c_interrupts_at_once():
    def twice(state):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        _run(None, "momentum", False, callbacks=[At(0, 1, twice)])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_resume_errors(tmp_path):
    with pytest.raises(wg.ArgumentError, match="resume=True needs checkpoint=PATH"):
        _run(None, "momentum", False, resume=True)
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.safetensors"):
        _run(tmp_path / "missing.safetensors", "momentum", False, resume=True)
    path = tmp_path / "run.safetensors"
    _run(path, "momentum", False, callbacks=[EarlyStopping("loss"), At(0, 1, ctrl_c)])
    with pytest.raises(CheckpointError, match=r"holds the state of callbacks \['EarlyStopping'\] "
                                         "that this run does not have"):
        _run(path, "momentum", False, resume=True)


def test_early_stopping_state_survives_a_resume(tmp_path):
    def stopper():
        return EarlyStopping("loss", patience=1, min_delta=10.0)  # stops after epoch 2

    straight = _run(None, "momentum", False, callbacks=[stopper()])
    path = tmp_path / "run.safetensors"
    _run(path, "momentum", False, callbacks=[stopper(), At(1, 0, ctrl_c)])
    resumed = _run(path, "momentum", False, init_seed=3, callbacks=[stopper()], resume=True)
    assert resumed[2]["epoch"] == [1, 2] and resumed[2].stopped == straight[2].stopped
    _same(straight, resumed)


def _dropout_with_own_generator(path, epochs, init_seed=0, resume=False, callbacks=()):
    wg.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(),
                          nn.Dropout(0.3, generator=wg.Generator().manual_seed(init_seed + 1)),
                          nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(DATA, batch_size=16, shuffle=True, generator=wg.Generator(init_seed + 7))
    history = fit(model, F.cross_entropy, optimizer, loader, epochs, callbacks=callbacks,
                  checkpoint=path, resume=resume, progress=False)
    return model, optimizer, history


@pytest.mark.parametrize("stop", ["epoch 2 done", "ctrl-c in epoch 2"])
def test_resume_with_a_dropout_that_owns_its_generator(tmp_path, stop):
    straight = _dropout_with_own_generator(None, EPOCHS)
    path = tmp_path / "run.safetensors"
    if stop == "epoch 2 done":
        _dropout_with_own_generator(path, 2)
    else:
        _dropout_with_own_generator(path, EPOCHS, callbacks=[At(1, 2, ctrl_c)])
    # other initial weights and another dropout seed: the checkpoint must restore both
    resumed = _dropout_with_own_generator(path, EPOCHS, init_seed=11, resume=True)
    _same(straight, resumed)
    assert straight[0][2].generator.get_state() == resumed[0][2].generator.get_state()


class CtrlCInValidation(DataLoader):
    """A validation loader that presses Ctrl-C when epoch ``at`` (1-based) validates."""

    def __init__(self, at, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.at, self.calls = at, 0

    def __iter__(self):
        self.calls += 1
        if self.calls == self.at:
            signal.raise_signal(signal.SIGINT)
        return super().__iter__()


def _with_validation(path, val_loader, init_seed=0, resume=False, callbacks=()):
    wg.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(DATA, batch_size=16, shuffle=True, generator=wg.Generator(init_seed))
    history = fit(model, F.cross_entropy, optimizer, loader, EPOCHS, val_loader=val_loader,
                  callbacks=callbacks, checkpoint=path, resume=resume, progress=False)
    return model, optimizer, history


@pytest.mark.parametrize("at", [2, EPOCHS])
def test_ctrl_c_during_validation_stops_at_that_epochs_end(tmp_path, at):
    """It took one more step in the next epoch, or (in the last epoch) was dropped unsaid."""
    val = moons(30, seed=1)
    straight = _with_validation(None, DataLoader(val, 10))
    path = tmp_path / "run.safetensors"
    steps = []

    class Steps(Callback):
        def on_batch_end(self, state, logs):
            steps.append(state.step)

    _, _, history = _with_validation(path, CtrlCInValidation(at, val, 10), callbacks=[Steps()])
    assert steps[-1] == 7 * at  # 100 samples in batches of 16: 7 steps an epoch
    assert history.stopped == (f"interrupted after epoch {at} (step {7 * at}); saved {path}: "
                               "resume=True continues from there")
    assert history["epoch"] == list(range(1, at + 1))
    resumed = _with_validation(path, DataLoader(val, 10), init_seed=5, resume=True)
    _same(straight, resumed)
    assert resumed[2]["val_loss"] == straight[2]["val_loss"]


def test_resume_restores_a_shuffling_validation_loaders_generator(tmp_path):
    """Its order sets the order of the sums, so val_loss differed in the last bits."""
    val = moons(997, noise=0.3, seed=1)

    def val_loader():
        return DataLoader(val, 7, shuffle=True, generator=wg.Generator(2))

    straight = _with_validation(None, val_loader())
    path = tmp_path / "run.safetensors"
    _with_validation(path, val_loader(), callbacks=[At(1, 2, ctrl_c)])
    resumed = _with_validation(path, val_loader(), init_seed=5, resume=True)
    _same(straight, resumed)
    assert resumed[2]["val_loss"] == straight[2]["val_loss"]


def test_resuming_a_run_that_early_stopping_ended_trains_no_further(tmp_path):
    def stopper():
        return EarlyStopping("loss", patience=1, min_delta=10.0, restore_best_weights=True)

    straight = _run(None, "momentum", False, callbacks=[stopper()])
    assert straight[2]["epoch"] == [1, 2]
    path = tmp_path / "run.safetensors"
    _run(path, "momentum", False, callbacks=[stopper()])
    resumed = _run(path, "momentum", False, init_seed=3, callbacks=[stopper()], resume=True)
    assert resumed[2]["epoch"] == [1, 2] and resumed[2].stopped == straight[2].stopped
    _same(straight, resumed)


def test_resuming_mid_epoch_over_other_data_is_refused(tmp_path):
    path = tmp_path / "run.safetensors"
    _run(path, "momentum", False, callbacks=[At(0, 2, ctrl_c)])
    wg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    smaller = DataLoader(moons(60, seed=0), batch_size=16, shuffle=True)
    with pytest.raises(CheckpointError, match=r"run.safetensors: was saved in the middle of an "
                                              r"epoch over 100 samples, but this train_loader's "
                                              r"dataset has 60"):
        fit(model, F.cross_entropy, optimizer, smaller, EPOCHS,
            scheduler=StepLR(optimizer, step_size=1, gamma=0.7), checkpoint=path, resume=True,
            progress=False)


def test_resuming_mid_epoch_with_another_batch_size_is_refused(tmp_path):
    path = tmp_path / "run.safetensors"
    _run(path, "momentum", False, callbacks=[At(0, 2, ctrl_c)])  # stops after 3 batches of 16
    wg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    other = DataLoader(moons(100, seed=0), batch_size=32, shuffle=True)
    with pytest.raises(CheckpointError, match=r"after 3 batches of 16 samples, but this "
                                              r"train_loader has batch_size=32"):
        fit(model, F.cross_entropy, optimizer, other, EPOCHS,
            scheduler=StepLR(optimizer, step_size=1, gamma=0.7), checkpoint=path, resume=True,
            progress=False)
