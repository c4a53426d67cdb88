"""The Playground page in a real browser: Debian's Chromium driven by Playwright, against the
real server (`python -m wengert playground --port 0`) started as a subprocess.

Skips only when Playwright, Chromium or the server's libraries (the `playground` extra) are
absent; CI installs them. With ``WENGERT_DOCS_SCREENSHOTS=<folder>`` set, the training and the
inspector tests also save the screenshots used in docs/playground.md into that folder
(``WENGERT_DOCS_SCREENSHOTS=docs/images python -m pytest tests/test_playground_browser.py``).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

REPO = Path(__file__).resolve().parents[1]
ADDRESS = re.compile(r"wengert playground: (http://[^\s/]+/)")
VIEWPORT = {"width": 1280, "height": 800}
DOCS_SHOTS = os.environ.get("WENGERT_DOCS_SCREENSHOTS")

# The spiral settings the training test uses: tanh, two hidden layers of 8, the inputs x1, x2,
# sin x1 and sin x2, Adam at 0.03 (the default), batches of 10, seed 0. Training is
# deterministic for a config; measured with the server's Session, the test loss falls under 0.1
# at about epoch 12 and stays under it (at most 0.062 from epoch 20 to 200), a few seconds of
# training. With [6, 6] it only hovers around 0.1; with x1 and x2 alone it needs ~1,300 epochs.
SPIRAL_FEATURES = ["x1", "x2", "sin_x1", "sin_x2"]
SPIRAL_HIDDEN = [8, 8]
CONVERGE_TIMEOUT_S = 90


# --- the server ---------------------------------------------------------------------------

class Server:
    """`wengert playground --port 0` in a subprocess; its output is read by a thread (so the
    pipe never fills) and kept for error messages."""

    def __init__(self):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "wengert", "playground", "--host", "127.0.0.1", "--port", "0"],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self.url = None
        self._found = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self._found.wait(60) or self.url is None:
            self.stop()
            pytest.fail("the playground server did not print its address within 60 s:\n"
                        + "".join(self.lines[-40:]))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            match = ADDRESS.search(line)
            if match and self.url is None:
                self.url = match.group(1)
                self._found.set()
        self._found.set()  # the process ended

    def get(self, path):
        """(status, JSON body or None) of a GET to the server."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=10) as res:
                return res.status, json.loads(res.read() or b"null")
        except urllib.error.HTTPError as err:
            body = err.read()
            return err.code, json.loads(body) if body else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Tab:
    """One browser tab on the playground with its console errors collected."""

    def __init__(self, browser, server):
        self.server = server
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.set_default_timeout(15_000)
        self.page.goto(server.url)
        self.page.wait_for_selector("body[data-ready='true']")

    @property
    def session(self):
        return self.page.evaluate("document.body.dataset.session")

    def text(self, selector):
        return self.page.inner_text(selector).strip()

    def number(self, selector):
        """The number an element shows ("1,234" -> 1234.0); None for a dash."""
        text = self.text(selector).replace(",", "")
        return None if text in ("", "–", "-") else float(text)

    def wait_number(self, selector, predicate, timeout_s=15):
        """Poll the number in ``selector`` until ``predicate(value)``; returns the value."""
        deadline = time.monotonic() + timeout_s
        value = None
        while time.monotonic() < deadline:
            value = self.number(selector)
            if value is not None and predicate(value):
                return value
            time.sleep(0.1)
        raise AssertionError(f"{selector} shows {value!r} after {timeout_s} s")

    def config(self):
        status, body = self.server.get(f"/api/sessions/{self.session}")
        assert status == 200, body
        return body["config"]

    def click_and_wait(self, selector, wait_for):
        """Click, then wait for ``wait_for`` (JS expression) to hold: each click resets the
        model, so the next one must see the new config."""
        self.page.click(selector)
        self.page.wait_for_function(wait_for)

    def set_spiral(self):
        p = self.page
        self.click_and_wait("#dataset-spiral", "app.config.dataset === 'spiral'")
        p.select_option("#activation", "tanh")
        p.wait_for_function("app.config.activation === 'tanh'")
        for name in p.evaluate("app.options.features"):
            on = p.get_attribute(f"#feature-{name.replace('^', '-')}", "aria-pressed") == "true"
            if on != (name in SPIRAL_FEATURES):
                n = len(p.evaluate("app.config.features"))
                n += -1 if on else 1
                self.click_and_wait(f"#feature-{name.replace('^', '-')}",
                                    f"app.config.features.length === {n}")
        while len(p.evaluate("app.config.hidden")) < len(SPIRAL_HIDDEN):
            n = len(p.evaluate("app.config.hidden"))
            self.click_and_wait("#add-layer", f"app.config.hidden.length === {n + 1}")
        for k, want in enumerate(SPIRAL_HIDDEN, start=1):
            while (have := p.evaluate(f"app.config.hidden[{k - 1}]")) != want:
                button = f"#layer-{k}-add" if have < want else f"#layer-{k}-remove"
                step = 1 if have < want else -1
                self.click_and_wait(button, f"app.config.hidden[{k - 1}] === {have + step}")
        assert self.config()["hidden"] == SPIRAL_HIDDEN
        assert sorted(self.config()["features"]) == sorted(SPIRAL_FEATURES)

    def close(self):
        self.context.close()


@pytest.fixture
def tab(browser, server):
    t = Tab(browser, server)
    yield t
    t.close()


def docs_shot(page, name):
    """Save the viewport as docs/images-style PNG ``name`` in DOCS_SHOTS, reduced to 128
    colours when Pillow is there (a third of the size, no visible change)."""
    path = Path(DOCS_SHOTS) / name
    page.screenshot(path=str(path))
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT,
                                           dither=Image.Dither.NONE)
    small.save(path, optimize=True)


def without_http_errors(errors, *statuses):
    """Console errors other than Chromium's own line for an expected HTTP error status."""
    return [e for e in errors
            if not any(f"status of {s}" in e for s in statuses)]


# --- the tests ----------------------------------------------------------------------------

def test_page_loads_with_controls_from_the_server(tab, server):
    p = tab.page
    status, options = server.get("/api/options")
    assert status == 200
    for name in options["datasets"]:
        assert p.is_visible(f"#dataset-{name}")
    assert p.eval_on_selector_all("#activation option", "os => os.map(o => o.value)") \
        == options["activations"]
    assert p.eval_on_selector_all("#optimizer option", "os => os.map(o => o.value)") \
        == options["optimizers"]
    assert p.inner_text("#feature-x1-2").strip() == "x1²"
    assert p.inner_text("#feature-x1x2").strip() == "x1·x2"
    assert p.inner_text("#feature-sin_x1").strip() == "sin x1"
    defaults = options["defaults"]
    assert p.get_attribute(f"#dataset-{defaults['dataset']}", "aria-checked") == "true"
    assert float(p.input_value("#learning-rate")) == defaults["learning_rate"]
    assert tab.number("#layer-count") == len(defaults["hidden"])
    assert tab.number("#epoch") == 0
    # one heat map per neuron: features, hidden layers, the output
    assert p.locator("#network .node").count() == len(options["features"]) + sum(defaults["hidden"]) + 1
    assert server.get(f"/api/sessions/{tab.session}")[0] == 200
    assert tab.errors == []


def test_step_trains_one_epoch(tab):
    tab.page.click("#step")
    tab.wait_number("#epoch", lambda e: e == 1)
    tab.page.click("#step")
    tab.wait_number("#epoch", lambda e: e == 2)
    assert tab.number("#test-loss") is not None
    assert tab.page.evaluate("app.snapshot.history.epoch.length") >= 1
    assert tab.page.get_attribute("#play", "aria-pressed") == "false"
    assert tab.errors == []


def test_spiral_trains_to_low_test_loss(tab, tmp_path):
    p = tab.page
    tab.set_spiral()
    assert tab.number("#epoch") == 0
    p.check("#show-test")
    started = time.monotonic()
    p.click("#play")
    p.wait_for_selector("#play[aria-pressed='true']")
    loss = tab.wait_number("#test-loss", lambda v: v < 0.1, timeout_s=CONVERGE_TIMEOUT_S)
    took = time.monotonic() - started
    epoch = tab.number("#epoch")
    assert epoch > 0 and tab.number("#samples-per-s") > 0
    assert loss < 0.1
    # the page drew what it was sent: loss curves, boundary and the network's edges
    assert p.evaluate("app.snapshot.history.epoch.length") > 0
    assert p.locator("#network-edges path").count() == (
        len(SPIRAL_FEATURES) * SPIRAL_HIDDEN[0] + SPIRAL_HIDDEN[0] * SPIRAL_HIDDEN[1] + SPIRAL_HIDDEN[1])
    shot = tmp_path / "spiral.png"
    p.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if DOCS_SHOTS:  # still training, once the "Model reset" notice has gone
        p.wait_for_selector("#notice", state="hidden")
        tab.wait_number("#test-loss", lambda v: v < 0.1)
        docs_shot(p, "playground-spiral.png")
    p.click("#play")
    p.wait_for_selector("#play[aria-pressed='false']")
    print(f"spiral: test loss {loss} at epoch {epoch:.0f} after {took:.1f} s")
    assert tab.errors == []


def test_changing_a_control_mid_training_resets_the_model(tab):
    p = tab.page
    p.click("#play")
    tab.wait_number("#epoch", lambda e: e >= 3)
    assert p.evaluate("app.snapshot.history.epoch.length") > 0
    p.select_option("#activation", "relu")
    tab.wait_number("#epoch", lambda e: e == 0)
    p.wait_for_selector("#notice:not([hidden])")
    assert "reset" in tab.text("#notice").lower()
    assert p.get_attribute("#play", "aria-pressed") == "false"
    # the loss history starts again: at most the new model's epoch-0 losses
    assert p.evaluate("app.snapshot.history.epoch.every(e => e === 0)")
    assert tab.config()["activation"] == "relu"
    # it stays reset: no late event of the old model brings the old epoch back
    p.wait_for_timeout(1000)
    assert tab.number("#epoch") == 0
    status, body = tab.server.get(f"/api/sessions/{tab.session}")
    assert body["state"]["epoch"] == 0 and not body["state"]["running"]
    # the same with a typed learning rate while playing
    p.click("#play")
    tab.wait_number("#epoch", lambda e: e >= 2)
    p.fill("#learning-rate", "0.01")
    p.press("#learning-rate", "Enter")
    tab.wait_number("#epoch", lambda e: e == 0)
    assert tab.config()["learning_rate"] == 0.01
    assert p.get_attribute("#play", "aria-pressed") == "false"
    assert tab.errors == []


@pytest.mark.parametrize("selector, field, typed", [
    ("#learning-rate", "learning_rate", "-1"),
    ("#learning-rate", "learning_rate", "abc"),
    ("#batch-size", "batch_size", "0"),
    ("#regularization-rate", "regularization_rate", "100"),
])
def test_bad_input_shows_the_servers_message(tab, selector, field, typed):
    p = tab.page
    before = tab.config()
    p.fill(selector, typed)
    p.press(selector, "Enter")
    p.wait_for_selector("#error:not([hidden])")
    banner = tab.text("#error-text")
    assert field in banner, banner
    beside = p.text_content(f".field-error[data-error-for='{field}']")
    assert beside.strip() == banner
    assert p.get_attribute(selector, "aria-invalid") == "true"
    # the message is the server's own, and the session is unchanged
    status, body = tab.server.get(f"/api/sessions/{tab.session}")
    assert status == 200 and body["config"] == before
    # a good value clears it
    p.fill(selector, str(before[field]))
    p.press(selector, "Enter")
    p.wait_for_selector("#error", state="hidden")
    assert p.text_content(f".field-error[data-error-for='{field}']").strip() == ""
    assert without_http_errors(tab.errors, 400) == []


def test_server_message_matches_the_api(tab, server):
    """What the page shows is the text of the 400 answer itself."""
    p = tab.page
    p.fill("#learning-rate", "-1")
    p.press("#learning-rate", "Enter")
    p.wait_for_selector("#error:not([hidden])")
    shown = tab.text("#error-text")
    req = urllib.request.Request(
        f"{server.url}api/sessions/{tab.session}/config", method="PUT",
        data=json.dumps({"config": {"learning_rate": -1}}).encode(),
        headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    body = json.loads(info.value.read())
    assert info.value.code == 400 and body["field"] == "learning_rate"
    assert shown == body["error"]
    assert without_http_errors(tab.errors, 400) == []


def test_clicking_a_point_opens_graph_and_trace(tab):
    p = tab.page
    for _ in range(3):
        p.click("#step")
    tab.wait_number("#epoch", lambda e: e == 3)
    box = p.locator("#boundary").bounding_box()
    p.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45)
    p.wait_for_selector("#inspector:not([hidden])")
    assert "label" in tab.text("#selected-point")
    assert re.search(r"x1 = -?[\d.]+, x2 = -?[\d.]+ \(label [01]\)", tab.text("#inspector-point"))
    # the graph: Graphviz's SVG, or the DOT text when the server has no Graphviz
    p.wait_for_function("document.querySelector('#graph-view svg, #graph-view pre.dot')")
    if p.locator("#graph-view svg").count():
        assert p.locator("#graph-view svg g.node").count() > 5
    else:
        assert "digraph" in tab.text("#graph-view pre.dot")
    # the trace: evaluation, forward-tangent and adjoint tables with rows
    p.wait_for_selector("#trace-view table")
    for part in ["evaluation", "forward", "adjoint"]:
        rows = p.locator(f"#trace-view .trace-{part} tbody tr").count()
        assert rows > 5, part
    assert p.locator("#trace-view .trace-evaluation td.col-value").first.inner_text().strip()
    # one table at a time, chosen by its tab
    assert p.is_visible("#trace-evaluation") and not p.is_visible("#trace-adjoint")
    p.click("#trace-tab-adjoint")
    assert p.is_visible("#trace-adjoint") and not p.is_visible("#trace-evaluation")
    assert "(seed)" in p.inner_text("#trace-adjoint tbody tr:first-child")
    if DOCS_SHOTS:
        p.wait_for_timeout(800)  # the page's own smooth scroll to the panel ends
        p.evaluate("document.getElementById('inspector').scrollIntoView({block: 'start'})")
        p.wait_for_timeout(200)
        docs_shot(p, "playground-inspector.png")
    p.click("#inspector-close")
    p.wait_for_selector("#inspector", state="hidden")
    assert tab.errors == []


def test_closing_the_page_drops_the_session(browser, server):
    tab = Tab(browser, server)
    try:
        session = tab.session
        assert server.get(f"/api/sessions/{session}")[0] == 200
        tab.page.click("#step")
        tab.wait_number("#epoch", lambda e: e == 1)
        assert tab.errors == []
        tab.page.close()
        deadline = time.monotonic() + 10
        while server.get(f"/api/sessions/{session}")[0] != 404:
            assert time.monotonic() < deadline, "the session outlived its page"
            time.sleep(0.1)
    finally:
        tab.close()


def test_a_session_the_server_dropped_is_replaced(tab, server):
    """The server forgets sessions (a restart, or no event stream for a while): the page
    notices through its event stream and starts a new session with the same settings."""
    p = tab.page
    p.select_option("#optimizer", "sgd")
    p.wait_for_function("app.config.optimizer === 'sgd'")
    old = tab.session
    req = urllib.request.Request(f"{server.url}api/sessions/{old}", method="DELETE")
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 204
    p.wait_for_function(f"document.body.dataset.session && document.body.dataset.session !== '{old}'")
    assert tab.config()["optimizer"] == "sgd"
    p.click("#step")
    tab.wait_number("#epoch", lambda e: e == 1)
    assert without_http_errors(tab.errors, 404) == [], tab.errors


# JavaScript: the colour the page painted at plane coordinates (x, y) on the boundary canvas
BOUNDARY_PIXEL = """([x, y]) => {
  const c = document.getElementById('boundary'), r = window.devicePixelRatio || 1;
  const area = plotArea(c.clientWidth, c.clientHeight);
  const px = area.x + (x + 6) / 12 * area.size, py = area.y + (6 - y) / 12 * area.size;
  return Array.from(c.getContext('2d').getImageData(Math.round(px * r), Math.round(py * r), 1, 1).data);
}"""


def _grey(rgba):
    """A neutral colour (no class shown): orange is (245, 147, 34), blue (8, 119, 189)."""
    r, g, b = rgba[:3]
    return max(r, g, b) - min(r, g, b) < 12


def test_a_model_that_diverged_in_its_first_epoch_shows_no_class_and_plays_again(tab):
    p = tab.page
    # SGD at learning rate 10 through five linear layers, one point a step: NaN within
    # the first of 250 steps of epoch 0 (the page's own function that every control calls)
    p.evaluate("sendConfig({learning_rate: 10, optimizer: 'sgd', activation: 'linear', "
               "hidden: [4, 2, 2, 2, 2], batch_size: 1})")
    p.wait_for_function("app.config.batch_size === 1")
    p.click("#play")
    p.wait_for_function("app.snapshot.step > 0 && !app.snapshot.running")
    p.wait_for_selector("#play[aria-pressed='false']")
    assert p.evaluate("app.snapshot.epoch") == 0
    # NaN weights: no loss and no probability, so no class may be painted
    assert tab.text("#test-loss") == "–" and tab.text("#train-loss") == "–"
    p.wait_for_timeout(200)  # the next animation frame has drawn the state
    corner = p.evaluate(BOUNDARY_PIXEL, [-5.7, 5.7])  # no data point there
    assert _grey(corner), corner
    output = p.evaluate("Array.from(document.querySelector('#network .node.output canvas')"
                        ".getContext('2d').getImageData(5, 5, 1, 1).data)")
    assert _grey(output), output
    # the button shows play, so one click plays (the server trains a step, then stops again)
    step = p.evaluate("app.snapshot.step")
    with p.expect_request(lambda r: r.url.endswith("/play")):
        p.click("#play")
    p.wait_for_function(f"app.snapshot.step > {step}")
    assert tab.errors == []


def test_the_picked_point_is_dropped_when_the_data_change(tab):
    p = tab.page
    box = p.locator("#boundary").bounding_box()
    p.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.45)
    p.wait_for_selector("#trace-view table")
    # another activation keeps the points: the panel stays, for the new model
    p.select_option("#activation", "relu")
    p.wait_for_function("app.config.activation === 'relu'")
    assert p.is_visible("#inspector") and p.evaluate("app.selected") is not None
    # another data set moves them: the panel closes rather than trace a point not on the map
    p.click("#dataset-xor")
    p.wait_for_function("app.config.dataset === 'xor'")
    p.wait_for_selector("#inspector", state="hidden")
    assert p.evaluate("app.selected") is None
    assert "Click a point" in tab.text("#selected-point")
    assert tab.errors == []
