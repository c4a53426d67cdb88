"""The Playground server: every endpoint of the JSON API, its validation errors, training
through the API, the event stream, the caps, the grace period, shutdown and the CLI.

Fast endpoints go through Starlette's TestClient; the event streams, the grace period and
shutdown need a real uvicorn server, run in a thread on a free port."""
import json
import math
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")
with warnings.catch_warnings():
    # starlette 1.x suggests httpx2 for its TestClient; with httpx it works the same
    warnings.filterwarnings("ignore", message="Using `httpx` with", category=UserWarning)
    from starlette.testclient import TestClient  # noqa: E402

import wengert.playground  # noqa: E402
from wengert.errors import MissingDependencyError  # noqa: E402
from wengert.playground import create_app  # noqa: E402
from wengert.playground.config import ConfigError  # noqa: E402
from wengert.playground.live import LiveSession  # noqa: E402
from wengert.playground.manager import SessionManager  # noqa: E402
from wengert.playground.server import listen, make_server  # noqa: E402

from conftest import REPO  # noqa: E402

N_POINTS = 500


@pytest.fixture
def client(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>Playground</title>")
    (static / "app.js").write_text("console.log('hi');")
    (tmp_path / "secret.txt").write_text("not for the web")
    with TestClient(create_app(static_dir=static)) as c:
        yield c


def _create(client, **config):
    r = client.post("/api/sessions", json={"config": config})
    assert r.status_code == 201, r.text
    return r.json()


def _act(client, sid, action):
    r = client.post(f"/api/sessions/{sid}/{action}")
    assert r.status_code == 200, r.text
    return r.json()["state"]


def _forward(state, config, points):
    """P(class 1) at ``points`` (n, 2) computed here from the state's weights and biases
    with NumPy: an independent check of the weights, the grids and the traces."""
    x1, x2 = points[:, 0], points[:, 1]
    table = {"x1": x1, "x2": x2, "x1^2": x1 * x1, "x2^2": x2 * x2, "x1x2": x1 * x2,
             "sin_x1": np.sin(x1), "sin_x2": np.sin(x2)}
    act = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z,
           "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[config["activation"]]
    h = np.stack([table[f] for f in config["features"]], axis=1)
    layers = list(zip(state["weights"], state["biases"]))
    for k, (w, b) in enumerate(layers):
        h = h @ np.array(w).T + np.array(b)
        if k < len(layers) - 1:
            h = act(h)
    return 1 / (1 + np.exp(-h[:, 0]))


def _cell_centres(grid):
    """Cell centres of a state's grid in the documented order (row 0 at the top)."""
    g, (x0, x1), (y0, y1) = grid["size"], grid["x_range"], grid["y_range"]
    r, c = np.divmod(np.arange(g * g), g)
    return np.stack([x0 + (c + 0.5) * (x1 - x0) / g, y1 - (r + 0.5) * (y1 - y0) / g], axis=1)


# --- the page and the options ---------------------------------------------------------------

def test_page_and_static_files_are_served_without_escaping_the_folder(client):
    r = client.get("/")
    assert r.status_code == 200 and "<title>Playground</title>" in r.text
    assert client.get("/static/app.js").text == "console.log('hi');"
    for path in ["/static/missing.js", "/static/../secret.txt", "/static/%2e%2e/secret.txt",
                 "/static/..%2fsecret.txt", "/static/", "/static/app%00.js",
                 "/static/" + "a" * 5000]:
        r = client.get(path)
        assert r.status_code == 404, path
        assert "not for the web" not in r.text and r.json()["field"] is None


def test_options_list_the_choices_limits_and_a_valid_default_config(client):
    options = client.get("/api/options").json()
    assert options["datasets"] == ["circle", "xor", "gaussian", "spiral", "moons"]
    assert options["features"] == ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]
    assert options["activations"] == ["relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu"]
    assert options["optimizers"] == ["sgd", "momentum", "adam"]
    assert options["regularizations"] == ["none", "l1", "l2"]
    assert options["limits"] == {
        "hidden_layers": [0, 6], "neurons": [1, 8], "batch_size": [1, 100],
        "learning_rate": [1e-5, 10], "noise": [0, 50], "train_fraction": [0.1, 0.9],
        "regularization_rate": [0, 10], "seed": [0, 2147483647]}
    # the defaults are a full config that the server accepts as it is
    created = _create(client, **options["defaults"])
    assert created["config"] == options["defaults"]
    assert _create(client)["config"] == options["defaults"]


# --- the snapshot -----------------------------------------------------------------------------

def test_a_new_session_is_paused_at_epoch_0_with_a_complete_snapshot(client):
    config = {"dataset": "moons", "features": ["x1", "x2", "x1x2"], "hidden": [3, 5, 2],
              "train_fraction": 0.3, "noise": 10, "seed": 7}
    created = _create(client, **config)
    assert isinstance(created["id"], str) and len(created["id"]) >= 16
    state = created["state"]
    assert (state["epoch"], state["step"], state["running"]) == (0, 0, False)
    assert state["history"]["epoch"] == [0]
    assert state["history"]["test_loss"] == [state["test_loss"]]
    g = state["grid"]["size"]
    assert state["grid"]["x_range"] == [-6, 6] and state["grid"]["y_range"] == [-6, 6]
    assert len(state["boundary"]) == g * g
    assert all(0 <= p <= 1 for p in state["boundary"])
    layers, n = state["neurons"]["layers"], state["neurons"]["size"]
    assert [len(layer) for layer in layers] == [3, 3, 5, 2, 1]
    assert all(len(m) == n * n for layer in layers for m in layer)
    assert all(0 <= p <= 1 for p in layers[-1][0])
    assert [np.shape(w) for w in state["weights"]] == [(3, 3), (5, 3), (2, 5), (1, 2)]
    assert [len(b) for b in state["biases"]] == [3, 5, 2, 1]
    train, test = state["points"]["train"], state["points"]["test"]
    assert len(train) == round(0.3 * N_POINTS) and len(train) + len(test) == N_POINTS
    assert {p[2] for p in train + test} == {0, 1}


def test_boundary_and_neuron_maps_match_the_weights_in_the_documented_layout(client):
    created = _create(client, dataset="gaussian", features=["x1", "x2", "sin_x2"],
                      hidden=[4], activation="tanh")
    state, config = created["state"], created["config"]
    expected = _forward(state, config, _cell_centres(state["grid"]))
    np.testing.assert_allclose(state["boundary"], expected, atol=2e-3)
    small = {"size": state["neurons"]["size"], "x_range": [-6, 6], "y_range": [-6, 6]}
    centres = _cell_centres(small)
    np.testing.assert_allclose(state["neurons"]["layers"][0][0], centres[:, 0], atol=5e-3)
    np.testing.assert_allclose(state["neurons"]["layers"][0][1], centres[:, 1], atol=5e-3)
    np.testing.assert_allclose(state["neurons"]["layers"][0][2], np.sin(centres[:, 1]),
                               atol=5e-3)
    np.testing.assert_allclose(state["neurons"]["layers"][-1][0],
                               _forward(state, config, centres), atol=2e-3)


# --- training through the API ---------------------------------------------------------------

def test_step_is_one_epoch_of_ceil_n_train_over_batch_steps(client):
    created = _create(client, train_fraction=0.3, batch_size=7)
    n_train = len(created["state"]["points"]["train"])
    assert n_train == 150
    state = _act(client, created["id"], "step")
    assert (state["epoch"], state["step"]) == (1, math.ceil(150 / 7))
    state = _act(client, created["id"], "step")
    assert (state["epoch"], state["step"]) == (2, 2 * math.ceil(150 / 7))
    assert state["history"]["epoch"] == [0, 1, 2] and not state["running"]


def test_training_learns_and_the_boundary_classifies_the_points(client):
    # xor is learnt from the feature x1*x2 alone; the boundary picture must then separate the
    # quadrants, which also fixes its orientation (a flipped y would swap every point)
    created = _create(client, dataset="xor", features=["x1x2"], hidden=[2])
    sid, first = created["id"], created["state"]
    for _ in range(15):
        state = _act(client, sid, "step")
    assert state["train_loss"] < 0.5 * first["train_loss"]
    assert state["test_loss"] < 0.5 * first["test_loss"]
    g = state["grid"]["size"]
    boundary = np.array(state["boundary"]).reshape(g, g)
    points = np.array(state["points"]["train"])
    col = np.clip(((points[:, 0] + 6) / 12 * g).astype(int), 0, g - 1)
    row = np.clip(((6 - points[:, 1]) / 12 * g).astype(int), 0, g - 1)
    predicted = boundary[row, col] > 0.5
    assert np.mean(predicted == (points[:, 2] == 1)) > 0.95


def test_regularization_and_every_optimizer_and_activation_train(client):
    for optimizer, activation, reg in [("sgd", "relu", "l1"), ("momentum", "linear", "l2"),
                                       ("adam", "sigmoid", "none"),
                                       ("adam", "leaky_relu", "l2"), ("sgd", "elu", "l1")]:
        created = _create(client, optimizer=optimizer, activation=activation,
                          regularization=reg, regularization_rate=0.001, learning_rate=0.03)
        for _ in range(3):
            state = _act(client, created["id"], "step")
        assert state["train_loss"] < created["state"]["train_loss"], (optimizer, activation)


def test_reset_restores_the_initial_weights_of_the_seed(client):
    created = _create(client, seed=11, hidden=[3])
    sid = created["id"]
    for _ in range(2):
        _act(client, sid, "step")
    state = _act(client, sid, "reset")
    assert (state["epoch"], state["step"], state["running"]) == (0, 0, False)
    assert state["history"]["epoch"] == [0]
    assert state["weights"] == created["state"]["weights"]
    assert state["biases"] == created["state"]["biases"]
    # the seed alone fixes them: another session with seed 11 starts alike, seed 12 does not
    assert _create(client, seed=11, hidden=[3])["state"]["weights"] == state["weights"]
    assert _create(client, seed=12, hidden=[3])["state"]["weights"] != state["weights"]


def test_play_trains_in_the_background_and_pause_stops_it(client):
    sid = _create(client)["id"]
    assert _act(client, sid, "play")["running"] is True
    deadline = time.monotonic() + 10
    while client.get(f"/api/sessions/{sid}").json()["state"]["epoch"] < 2:
        assert time.monotonic() < deadline, "no epoch trained in 10 s"
        time.sleep(0.05)
    r = client.post(f"/api/sessions/{sid}/step")
    assert r.status_code == 409 and "pause" in r.json()["error"]
    state = _act(client, sid, "pause")
    assert state["running"] is False
    time.sleep(0.3)
    assert client.get(f"/api/sessions/{sid}").json()["state"]["epoch"] == state["epoch"]


def test_a_config_change_merges_rebuilds_and_pauses(client):
    created = _create(client, dataset="circle", hidden=[4, 2])
    sid = created["id"]
    _act(client, sid, "step")
    _act(client, sid, "play")
    r = client.put(f"/api/sessions/{sid}/config", json={"config": {"hidden": [5]}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["config"] == {**created["config"], "hidden": [5]}
    state = body["state"]
    assert (state["epoch"], state["step"], state["running"]) == (0, 0, False)
    assert [np.shape(w) for w in state["weights"]] == [(5, 2), (1, 5)]
    r = client.put(f"/api/sessions/{sid}/config", json={"config": {"dataset": "spiral"}})
    assert r.json()["state"]["points"] != state["points"]


def test_a_rejected_config_change_leaves_the_session_as_it_was(client):
    created = _create(client)
    sid = created["id"]
    before = _act(client, sid, "step")
    r = client.put(f"/api/sessions/{sid}/config",
                   json={"config": {"hidden": [3], "noise": 99}})
    assert r.status_code == 400 and r.json()["field"] == "noise"
    after = client.get(f"/api/sessions/{sid}").json()
    assert after["config"] == created["config"]
    assert after["state"]["epoch"] == before["epoch"] == 1
    assert after["state"]["weights"] == before["weights"]


# --- validation ----------------------------------------------------------------------------

BAD_CONFIGS = [
    # (config, field, words the message must contain)
    ({"noise": "high"}, "noise", ["noise", "number", "'high'"]),
    ({"noise": True}, "noise", ["noise", "number", "boolean"]),
    ({"learning_rate": None}, "learning_rate", ["learning_rate", "null"]),
    ({"seed": 1.5}, "seed", ["seed", "whole number", "1.5"]),
    ({"batch_size": "10"}, "batch_size", ["batch_size", "string"]),
    ({"hidden": "4,2"}, "hidden", ["hidden", "list"]),
    ({"hidden": [4, "2"]}, "hidden", ["hidden[1]", "'2'"]),
    ({"features": "x1"}, "features", ["features", "list"]),
    ({"dataset": 3}, "dataset", ["dataset", "circle"]),
    ({"noise": 51}, "noise", ["noise", "51", "0 to 50"]),
    ({"noise": -1}, "noise", ["noise", "-1", "0 to 50"]),
    ({"learning_rate": 0}, "learning_rate", ["learning_rate", "1e-05 to 10"]),
    ({"train_fraction": 0.95}, "train_fraction", ["train_fraction", "0.95", "0.1 to 0.9"]),
    ({"regularization_rate": 11}, "regularization_rate", ["regularization_rate", "0 to 10"]),
    ({"batch_size": 0}, "batch_size", ["batch_size", "1 to 100"]),
    ({"seed": -3}, "seed", ["seed", "-3", "0 to 2147483647"]),
    ({"hidden": [4, 9]}, "hidden", ["hidden[1]", "9", "1 to 8"]),
    ({"hidden": [2] * 7}, "hidden", ["hidden", "7 hidden layers", "0 to 6"]),
    ({"colour": "red"}, "colour", ["unknown config key 'colour'", "dataset"]),
    ({"dataset": "swirl"}, "dataset", ["dataset", "'swirl'", "spiral"]),
    ({"activation": "softmax"}, "activation", ["activation", "'softmax'", "tanh"]),
    ({"optimizer": "lbfgs"}, "optimizer", ["optimizer", "'lbfgs'", "momentum"]),
    ({"regularization": "l3"}, "regularization", ["regularization", "'l3'", "l2"]),
    ({"features": ["x1", "x3"]}, "features", ["features", "'x3'", "sin_x1"]),
    ({"features": []}, "features", ["features", "empty"]),
    ({"features": ["x1", "x1"]}, "features", ["features", "'x1'", "twice"]),
]


@pytest.mark.parametrize("config, field, words", BAD_CONFIGS,
                         ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_CONFIGS)])
def test_bad_configs_are_400_naming_the_field_and_value(client, config, field, words):
    sid = _create(client)["id"]
    for r in (client.post("/api/sessions", json={"config": config}),
              client.put(f"/api/sessions/{sid}/config", json={"config": config})):
        assert r.status_code == 400
        body = r.json()
        assert body["field"] == field
        for word in words:
            assert word in body["error"], (word, body["error"])


BAD_BODIES = [
    (b'{"config": {"noise": ', 400, None, ["invalid JSON"]),
    (b'{"config": {"noise": NaN}}', 400, None, ["invalid JSON", "NaN"]),
    (b'{"config": {"noise": 1e999}}', 400, "noise", ["noise", "finite"]),
    (b'[1, 2]', 400, None, ["JSON object"]),
    (b'{"config": [1]}', 400, "config", ["config", "object"]),
    (b'{"cfg": {}}', 400, "cfg", ["unknown key 'cfg'", "config"]),
    (b'\xff\xfe', 400, None, ["invalid JSON"]),
    (b'{"config": {"dataset": "' + b"x" * 70_000 + b'"}}', 413, None, ["too large", "65536"]),
    # small enough for the size limit, too deep for Python's JSON parser
    (b"[" * 30_000, 400, None, ["invalid JSON", "nested too deeply"]),
    # integers too large for a float (JSON has no size limit on numbers)
    (b'{"config": {"learning_rate": 1' + b"0" * 999 + b'}}', 400, "learning_rate",
     ["learning_rate", "out of range", "1e-05 to 10"]),
    (b'{"config": {"noise": -1' + b"0" * 999 + b'}}', 400, "noise", ["noise", "out of range"]),
    (b'{"config": {"seed": 1' + b"0" * 999 + b'}}', 400, "seed", ["seed", "out of range"]),
    (b'{"config": {"features": ["' + b"x" * 60_000 + b'"]}}', 400, "features",
     ["features", "unknown feature 'xxx"]),
]


@pytest.mark.parametrize("body, status, field, words", BAD_BODIES,
                         ids=[f"{i}-{status}" for i, (_, status, _, _) in enumerate(BAD_BODIES)])
def test_bad_request_bodies(client, body, status, field, words):
    r = client.post("/api/sessions", content=body,
                    headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["field"] == field
    for word in words:
        assert word in r.json()["error"]
    assert len(r.json()["error"]) < 300  # the value is named, not repeated in full


def test_an_empty_body_makes_a_default_session(client):
    r = client.post("/api/sessions")
    assert r.status_code == 201 and r.json()["config"]["dataset"] == "circle"


def test_unknown_sessions_routes_and_actions_are_404(client):
    sid = _create(client)["id"]
    missing = "no-such-session"
    for method, path in [("GET", ""), ("DELETE", ""), ("PUT", "/config"), ("POST", "/play"),
                         ("GET", "/events"), ("GET", "/graph?x1=0&x2=0"),
                         ("GET", "/trace?x1=0&x2=0")]:
        r = client.request(method, f"/api/sessions/{missing}{path}", json={})
        assert r.status_code == 404, (method, path)
        assert "no session 'no-such-session'" in r.json()["error"]
    r = client.post(f"/api/sessions/{sid}/jump")
    assert r.status_code == 404 and "unknown action 'jump'" in r.json()["error"]
    assert client.get("/api/nothing").status_code == 404
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_other_sites_pages_cannot_change_sessions(client):
    sid = _create(client)["id"]
    evil = {"origin": "http://evil.example"}
    r = client.post("/api/sessions", json={}, headers=evil)
    assert r.status_code == 403 and "evil.example" in r.json()["error"]
    assert client.post(f"/api/sessions/{sid}/play", headers=evil).status_code == 403
    assert client.delete(f"/api/sessions/{sid}", headers=evil).status_code == 403
    assert client.get(f"/api/sessions/{sid}").json()["state"]["running"] is False
    # the page itself sends its own origin
    own = {"origin": "http://testserver"}
    assert client.post("/api/sessions", json={}, headers=own).status_code == 201


def test_the_session_cap_gives_429_until_one_is_deleted(tmp_path):
    with TestClient(create_app(max_sessions=2)) as client:
        first = _create(client)["id"]
        _create(client)
        r = client.post("/api/sessions", json={})
        assert r.status_code == 429
        assert "limit is 2" in r.json()["error"] and r.json()["field"] is None
        assert client.delete(f"/api/sessions/{first}").status_code == 204
        _create(client)


def test_a_session_created_while_the_server_shuts_down_is_closed_not_kept():
    manager = SessionManager()
    built = []

    class ShutdownDuringBuild(LiveSession):
        def __init__(self, *args):
            manager.close_all()  # Ctrl-C arrives while the session is being built
            super().__init__(*args)
            built.append(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("wengert.playground.manager.LiveSession", ShutdownDuringBuild)
        with pytest.raises(ConfigError) as info:
            manager.create({})
    assert info.value.status == 503 and len(manager) == 0
    built[0].join(5)
    assert built[0].closed and not built[0]._thread.is_alive()


def test_every_new_state_has_a_higher_version(client):
    """Answers and events travel separately; the version tells a page which state is newer."""
    sid = _create(client)["id"]
    versions = [client.get(f"/api/sessions/{sid}").json()["state"]["version"]]
    for action in ("step", "reset", "play", "pause", "step"):
        versions.append(_act(client, sid, action)["version"])
    r = client.put(f"/api/sessions/{sid}/config", json={"config": {"seed": 2}})
    versions.append(r.json()["state"]["version"])
    assert versions == sorted(set(versions)), versions


def test_sessions_are_independent(client):
    a = _create(client, dataset="circle", seed=3)
    b = _create(client, dataset="circle", seed=3)
    assert a["id"] != b["id"] and a["state"]["weights"] == b["state"]["weights"]
    _act(client, a["id"], "play")
    client.put(f"/api/sessions/{a['id']}/config", json={"config": {"hidden": [1]}})
    _act(client, a["id"], "step")
    b_now = client.get(f"/api/sessions/{b['id']}").json()
    assert b_now["config"]["hidden"] == [4, 2]
    assert b_now["state"]["epoch"] == 0 and b_now["state"]["weights"] == b["state"]["weights"]


# --- graph and trace ------------------------------------------------------------------------

def test_graph_draws_the_forward_pass_and_the_loss(client):
    sid = _create(client, features=["x1", "x2", "sin_x1"], hidden=[3])["id"]
    forward = client.get(f"/api/sessions/{sid}/graph", params={"x1": 1.5, "x2": -2}).json()
    assert forward["dot"].startswith("digraph")
    assert '"x1\\n1.5"' in forward["dot"] and '"x2\\n-2"' in forward["dot"]
    for op in ("sin", "linear", "tanh", "sigmoid"):
        assert f'label="{op}"' in forward["dot"]
    assert "binary_cross_entropy_with_logits" not in forward["dot"]
    loss = client.get(f"/api/sessions/{sid}/graph?x1=1.5&x2=-2&label=1").json()
    assert "binary_cross_entropy_with_logits" in loss["dot"]
    has_dot = shutil.which("dot") is not None
    try:
        import graphviz  # noqa: F401
    except ImportError:
        has_dot = False
    if has_dot:
        assert "<svg" in loss["svg"]
    else:
        assert loss["svg"] is None


def test_trace_tables_start_at_x1_x2_and_agree_with_the_weights(client):
    created = _create(client, features=["x1", "x2", "x1x2"], hidden=[2])
    sid, state, config = created["id"], created["state"], created["config"]
    p = _forward(state, config, np.array([[0.5, -1.25]]))[0]
    forward = client.get(f"/api/sessions/{sid}/trace?x1=0.5&x2=-1.25").json()
    rows = forward["evaluation"]
    assert [(r["name"], r["expr"], r["value"]) for r in rows[:2]] == [
        ("v0", "x1", "0.5"), ("v1", "x2", "-1.25")]
    assert float(rows[-1]["value"]) == pytest.approx(p, abs=2e-3)
    assert len(forward["adjoint"]) == len(forward["forward"]) == len(rows)
    assert "**Evaluation trace**" in forward["markdown"]
    for label, loss in [(1, -math.log(p)), (0, -math.log(1 - p))]:
        rows = client.get(f"/api/sessions/{sid}/trace?x1=0.5&x2=-1.25&label={label}").json()
        assert float(rows["evaluation"][-1]["value"]) == pytest.approx(loss, rel=5e-3)


@pytest.mark.parametrize("query, field", [("x2=1", "x1"), ("x1=1", "x2"), ("x1=a&x2=1", "x1"),
                                          ("x1=1&x2=nan", "x2"), ("x1=1&x2=inf", "x2"),
                                          ("x1=1e9&x2=0", "x1"), ("x1=1&x2=1&label=2", "label"),
                                          ("x1=1&x2=1&label=", "label")])
def test_graph_and_trace_reject_bad_points(client, query, field):
    sid = _create(client)["id"]
    for what in ("graph", "trace"):
        r = client.get(f"/api/sessions/{sid}/{what}?{query}")
        assert r.status_code == 400 and r.json()["field"] == field
        assert field in r.json()["error"]


# --- a real server: event streams, the grace period, shutdown -----------------------------

@contextmanager
def real_server(**options):
    """The app under uvicorn in a thread, on a free port; yields (base url, app)."""
    app = create_app(**options)
    server = make_server(app)
    sock = listen("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "the server did not stop within 10 s"


class Events:
    """Reads a session's event stream in a thread; ``next()`` gives (time, state) pairs."""

    def __init__(self, url):
        self.queue = queue.Queue()
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self.thread.start()

    def _read(self, url):
        try:
            with httpx.stream("GET", url, timeout=20) as r:
                self.status, self.content_type = r.status_code, r.headers["content-type"]
                event = None
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "state":
                        self.queue.put((time.monotonic(), json.loads(line[6:])))
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def next(self, timeout=5):
        return self.queue.get(timeout=timeout)


def test_events_stream_states_while_training(tmp_path):
    with real_server() as (url, app):
        sid = httpx.post(f"{url}/api/sessions", json={}).json()["id"]
        events = Events(f"{url}/api/sessions/{sid}/events")
        start, first = events.next()
        assert events.content_type.startswith("text/event-stream")
        assert first["epoch"] == 0 and first["running"] is False
        httpx.post(f"{url}/api/sessions/{sid}/play")
        seen = []
        while time.monotonic() - start < 2.5:
            seen.append(events.next())
            # graphs and traces (forward mode, no_grad) while the training thread records
            for what in ("graph", "trace"):
                r = httpx.get(f"{url}/api/sessions/{sid}/{what}?x1=1&x2=2&label=1")
                assert r.status_code == 200
        states = [s for _, s in seen]
        assert any(s["running"] for s in states)
        epochs = [s["epoch"] for s in states if s["running"]]
        assert epochs == sorted(epochs) and epochs[-1] > epochs[0]
        rate = len(seen) / (seen[-1][0] - start)
        assert rate <= 12, f"{rate:.1f} events per second"
        httpx.post(f"{url}/api/sessions/{sid}/pause")
        deadline = time.monotonic() + 5
        while events.next()[1]["running"]:
            assert time.monotonic() < deadline
        # deleting the session ends its stream
        assert httpx.delete(f"{url}/api/sessions/{sid}").status_code == 204
        assert events.ended.wait(5)


def test_an_abandoned_session_is_removed_after_the_grace_period():
    with real_server(grace_s=0.6) as (url, app):
        watched = httpx.post(f"{url}/api/sessions", json={}).json()["id"]
        abandoned = httpx.post(f"{url}/api/sessions", json={}).json()["id"]
        events = Events(f"{url}/api/sessions/{watched}/events")
        events.next()
        time.sleep(1.6)
        assert httpx.get(f"{url}/api/sessions/{abandoned}").status_code == 404
        assert httpx.get(f"{url}/api/sessions/{watched}").status_code == 200
        assert len(app.state.manager) == 1


def test_shutdown_ends_open_streams_and_training(tmp_path):
    with real_server() as (url, app):
        sid = httpx.post(f"{url}/api/sessions", json={}).json()["id"]
        httpx.post(f"{url}/api/sessions/{sid}/play")
        events = Events(f"{url}/api/sessions/{sid}/events")
        events.next()
        live = app.state.manager.get(sid)
    # real_server's exit asserted that the server stopped; the stream and thread ended too
    assert events.ended.wait(5)
    live.join(5)
    assert not live._thread.is_alive()


# --- the command ------------------------------------------------------------------------------

def test_cli_serves_the_page_on_a_free_port_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "wengert", "playground", "--port", "0"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("wengert playground: http://127.0.0.1:"), line
        url = line.split()[2]
        assert not url.endswith(":0/") and "(Ctrl-C stops)" in line
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and "html" in r.headers["content-type"]
        with urllib.request.urlopen(url + "api/options", timeout=10) as r:
            assert json.load(r)["defaults"]["dataset"] == "circle"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_without_starlette_the_error_names_the_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "starlette", None)  # makes the import fail
    monkeypatch.delitem(sys.modules, "wengert.playground.server", raising=False)
    monkeypatch.delattr(wengert.playground, "server", raising=False)  # import it afresh
    with pytest.raises(MissingDependencyError, match=r"pip install 'wengert\[playground\]'"):
        create_app()
    from wengert.cli import main
    assert main(["playground", "--port", "0"]) == 1
    assert "pip install 'wengert[playground]'" in capsys.readouterr().err
