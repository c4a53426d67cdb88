"""The Playground's parts below the web server: config validation, the data and features, the
loss history, rounding for JSON, and a session's training thread (no starlette needed)."""
import json
import math
import threading
import time

import numpy as np
import pytest

from wengert.playground import ConfigError, Session, validate
from wengert.playground.config import DEFAULTS
from wengert.playground.live import LiveSession
from wengert.playground.problem import make_points
from wengert.playground.session import HISTORY_POINTS, History
from wengert.playground.snapshot import grid_points, rounded


def test_validate_fills_defaults_and_merges_onto_a_base():
    assert validate({}) == DEFAULTS
    config = validate({"hidden": [], "seed": 5.0, "features": ["x1x2"]})
    assert config == {**DEFAULTS, "hidden": [], "seed": 5, "features": ["x1x2"]}
    assert isinstance(config["seed"], int)
    merged = validate({"noise": 20}, base=config)
    assert merged == {**config, "noise": 20} and config["noise"] == 0  # base untouched


@pytest.mark.parametrize("changes, field", [({"noise": float("nan")}, "noise"),
                                            ({"learning_rate": float("inf")}, "learning_rate"),
                                            ({"batch_size": 2.5}, "batch_size"),
                                            ({"hidden": [True]}, "hidden"),
                                            ({"features": [1]}, "features")])
def test_validate_rejects_non_finite_and_non_integer_values(changes, field):
    with pytest.raises(ConfigError) as info:
        validate(changes)
    assert info.value.field == field and info.value.status == 400
    assert isinstance(info.value, ValueError)  # an ArgumentError, as wengert's other errors


def test_noise_spreads_the_points_and_the_split_follows_the_seed():
    clean = make_points(validate({"dataset": "circle"}))
    noisy = make_points(validate({"dataset": "circle", "noise": 50}))
    radius = [np.hypot(*train[0].T) for train, _ in (clean, noisy)]
    outer = [r[train[1] == 1] for r, (train, _) in zip(radius, (clean, noisy))]
    assert outer[0].min() >= 3.5 and outer[1].min() < 3.0  # noise reaches into the gap
    again = make_points(validate({"dataset": "circle"}))
    np.testing.assert_array_equal(clean[0][0], again[0][0])
    other = make_points(validate({"dataset": "circle", "seed": 1}))
    assert not np.array_equal(clean[0][0], other[0][0])
    assert len(clean[0][1]) == 250 and len(clean[1][1]) == 250


def test_grid_points_run_left_to_right_then_top_to_bottom():
    points = grid_points(4, (-6, 6), (-6, 6))
    assert points[0].tolist() == [-4.5, 4.5]      # row 0, column 0: top left
    assert points[3].tolist() == [4.5, 4.5]       # row 0, last column: top right
    assert points[4].tolist() == [-4.5, 1.5]      # row 1 is lower
    assert points[15].tolist() == [4.5, -4.5]     # bottom right


def test_rounded_keeps_four_significant_digits_and_nulls_non_finite_values():
    assert rounded([0.123456, 98765.4, -0.000123456, 0.0, 12.5]) == [
        0.1235, 98770.0, -0.0001235, 0.0, 12.5]
    assert rounded([[1.0, float("nan")], [float("inf"), -2.0]]) == [[1.0, None], [None, -2.0]]
    assert json.dumps(rounded(1 / 3)) == "0.3333"


def test_history_stays_short_evenly_sampled_and_ends_at_the_latest_epoch():
    history = History()
    for epoch in range(1001):
        history.add(epoch, 1.0 / (epoch + 1), 2.0 / (epoch + 1))
    columns = history.columns()
    epochs = columns["epoch"]
    assert len(epochs) <= HISTORY_POINTS + 1 and epochs[0] == 0 and epochs[-1] == 1000
    gaps = np.diff(epochs[:-1])
    assert len(set(gaps)) == 1  # evenly spaced before the latest point
    assert columns["train_loss"][-1] == 1.0 / 1001


def test_a_diverging_session_pauses_itself_and_reports_null_losses():
    live = LiveSession("test", {"learning_rate": 10, "optimizer": "sgd", "activation": "linear",
                                "hidden": [8] * 6, "features": ["x1^2", "x2^2", "x1x2"],
                                "batch_size": 100})
    try:
        live.play()
        deadline = time.monotonic() + 10
        while json.loads(live.published[1])["running"]:
            assert time.monotonic() < deadline, "the session did not stop"
            time.sleep(0.05)
        state = json.loads(live.published[1])
        assert state["train_loss"] is None and state["epoch"] >= 1
        assert not math.isfinite(live.session.train_loss)
    finally:
        live.close()
        live.join(5)


def test_the_seed_fixes_the_whole_run():
    a, b = Session({"seed": 4}), Session({"seed": 4})
    for _ in range(3):
        a.train_epoch()
        b.train_epoch()
    np.testing.assert_array_equal(a.model[0].weight.data, b.model[0].weight.data)
    assert a.steps == b.steps == 3 * a.steps_per_epoch


# a config that diverges within its first epoch: SGD at learning rate 10 through five linear
# layers, one point per step (250 steps an epoch)
DIVERGES_AT_ONCE = {"learning_rate": 10, "optimizer": "sgd", "activation": "linear",
                    "hidden": [4, 2, 2, 2, 2], "batch_size": 1}


def test_a_session_diverging_mid_epoch_reports_null_losses_not_the_last_epochs():
    session = Session(DIVERGES_AT_ONCE)
    session.train_for(2.0)
    assert session.diverged() and session.epoch == 0
    weights = np.concatenate([p.data.ravel() for p in session.model.parameters()])
    assert not np.isfinite(weights).all()  # the model the losses must describe is NaN
    assert math.isnan(session.train_loss) and math.isnan(session.test_loss)


def _weights(session):
    return [p.data.copy() for p in session.model.parameters()]


def test_reset_and_config_changes_while_other_sessions_train_leave_step_0():
    """Sessions take turns training: a thread waiting for its turn when its session is reset
    (or reconfigured, or paused) must not train that batch once its turn comes."""
    big = {"hidden": [8] * 6, "batch_size": 1,
           "features": ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]}
    others = [LiveSession(f"other{i}", big) for i in range(2)]
    live = LiveSession("target", {"batch_size": 1})
    try:
        for other in others:
            other.play()
        for change in ("reset", "configure", "reset", "configure"):
            live.play()
            time.sleep(0.1)
            if change == "reset":
                live.reset()
                expected = _weights(Session({"batch_size": 1}))
            else:
                live.configure({"learning_rate": 0.01})
                expected = _weights(Session({"batch_size": 1, "learning_rate": 0.01}))
            time.sleep(0.3)  # several turns of the other sessions
            state = json.loads(live.published[1])
            assert (live.session.steps, state["step"], state["running"]) == (0, 0, False), change
            for have, want in zip(_weights(live.session), expected):
                np.testing.assert_array_equal(have, want)
    finally:
        for s in others + [live]:
            s.close()
        for s in others + [live]:
            s.join(5)


class _PlayWhileClearing(threading.Event):
    """An Event whose clear() lets another thread press play first, as a play request can
    arrive while a pause request is half done."""

    def __init__(self, live):
        super().__init__()
        self.live = live

    def clear(self):
        player = threading.Thread(target=self.live.play)
        player.start()
        player.join(0.2)  # play finishes here unless pause holds the controls
        super().clear()
        self.player = player


def test_a_play_during_a_pause_leaves_a_session_that_is_training_or_says_it_is_paused():
    live = LiveSession("race", {"batch_size": 1})
    try:
        live.play()
        live._wake = _PlayWhileClearing(live)
        live.pause()
        live._wake.player.join(5)
        time.sleep(0.2)
        state, steps = json.loads(live.published[1]), live.session.steps
        time.sleep(0.4)
        assert state["running"] == (live.session.steps > steps), \
            f"the state says running={state['running']} but steps went {steps} -> " \
            f"{live.session.steps}"
    finally:
        live.close()
        live.join(5)
