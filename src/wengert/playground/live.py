"""A session as the server runs it: a worker thread that trains while the session plays, the
control actions (play, pause, step, reset, a new config), and the latest published snapshot,
already encoded as JSON for every event stream to send as it is.

Training runs in its own thread, never on the server's event loop, in slices of about
:data:`SLICE_S` seconds taken under the session's lock; the thread looks at the controls after
every mini-batch, so pause takes effect within one step. After each slice the thread sleeps
so that it trains at most :data:`DUTY_CYCLE` of the time, and it publishes a snapshot at most
every :data:`PUBLISH_S` seconds (and never spends more than a quarter of its time on them),
which bounds both the CPU a session takes and the rate of its events. Sessions take turns
(:data:`TRAINING_TURN`)."""
import json
import threading
import time

from . import snapshot
from .config import ConfigError, validate
from .session import Session

#: Seconds of training between looks at the controls.
SLICE_S = 0.05
#: The largest share of wall time one session's thread trains and draws.
DUTY_CYCLE = 0.8
#: Shortest time between two snapshots of a running session (about 6-7 per second).
PUBLISH_S = 0.15
#: Held by the session that is training now. Training is pure-Python work under the GIL, so
#: sessions taking turns lose nothing, and the event loop competes with one thread, not eight.
TRAINING_TURN = threading.Lock()


class LiveSession:
    """A :class:`Session` with its training thread. ``id`` is the session's token; ``config``
    the (partial) config it starts from. The thread starts paused."""

    def __init__(self, id, config=None):
        self.id = id
        self.session = Session(config)
        self.pictures = snapshot.Pictures(self.session)
        self.running = False
        self.closed = False
        self.published = (0, "")  # (version, snapshot JSON), replaced as a whole
        self.streams = 0          # event streams connected now
        self.idle_since = time.monotonic()
        self._wake = threading.Event()  # set while running or closed
        # running and _wake change together under this lock: a play and a pause from two
        # request threads at once must not leave running true with _wake clear (a session
        # that says it trains but does not)
        self._control = threading.Lock()
        self._closing = threading.Event()
        self._publish_cost = 0.0
        self.publish()
        self._thread = threading.Thread(target=self._train, name=f"playground-{id[:8]}",
                                        daemon=True)
        self._thread.start()

    # --- what the server reads --------------------------------------------------------------

    @property
    def config(self):
        return self.session.config

    def describe(self):
        """``{"id", "config", "state"}`` for a JSON response (the state decoded from the
        latest snapshot, so it is exactly what the event streams send)."""
        return {"id": self.id, "config": self.session.config,
                "state": json.loads(self.published[1])}

    def publish(self):
        """Take a snapshot and make it the latest one. Runs under the session lock, so
        snapshots are published in the order their states happened."""
        with self.session.lock:
            start = time.perf_counter()
            version = self.published[0] + 1
            state = snapshot.snapshot(self.session, self.pictures, self.running)
            # an action's answer and the event stream travel separately, so a page can get
            # an older state after a newer one; the version lets it keep the newest
            state["version"] = version
            text = json.dumps(state, separators=(",", ":"), allow_nan=False)
            self.published = (version, text)
            self._publish_cost = time.perf_counter() - start

    # --- control actions (called from request threads) ---------------------------------------

    def play(self):
        """Start (or keep) training in the background."""
        self._check_open()
        with self._control:
            self.running = True
            self._wake.set()
        self.publish()

    def pause(self):
        """Stop training after the current mini-batch."""
        self._stop_training()
        self.publish()

    def step(self):
        """Train one epoch (the rest of the current one, if a pause came mid-epoch); only
        while paused (409 otherwise)."""
        self._check_open()
        if self.running:
            raise ConfigError("step: the session is running; pause it first (POST .../pause)",
                              None, status=409)
        with self.session.lock:
            self.session.train_epoch()
            self.publish()

    def reset(self):
        """Pause, then start again from fresh initial weights (same seed, same weights)."""
        self._stop_training()
        with self.session.lock:
            self.session.reset()
            self.publish()

    def configure(self, changes):
        """Merge ``changes`` onto the config and rebuild data and model, paused at epoch 0.
        A bad value raises ConfigError before anything changes."""
        self._check_open()
        validate(changes, self.session.config)  # fail before pausing anything
        self._stop_training()
        with self.session.lock:
            self.session.configure(changes)
            self.pictures = snapshot.Pictures(self.session)
            self.publish()

    def close(self):
        """Stop the thread (it ends after its current slice); the session is unusable after."""
        with self._control:
            self.closed = True
            self.running = False
            self._closing.set()
            self._wake.set()

    def join(self, timeout=None):
        """Wait for the training thread to end (after :meth:`close`)."""
        self._thread.join(timeout)

    # --- event-stream bookkeeping (the server's grace period reads these) --------------------

    def attach(self):
        """An event stream connected."""
        self.streams += 1

    def detach(self):
        """An event stream went away."""
        self.streams -= 1
        if self.streams == 0:
            self.idle_since = time.monotonic()

    # --- the training thread ----------------------------------------------------------------

    def _check_open(self):
        if self.closed:
            raise ConfigError(f"session {self.id} was closed", None, status=404)

    def _stop_training(self):
        self._check_open()
        with self._control:
            self.running = False
            self._wake.clear()

    def _train(self):
        last_publish = 0.0
        while True:
            self._wake.wait()
            if self.closed:
                return
            start = time.perf_counter()
            with TRAINING_TURN, self.session.lock:
                if not self.running:
                    # paused, reset or reconfigured while this thread waited for its turn:
                    # train_for would still take one batch, a step the user never asked for
                    # (on a fresh model after reset or a config change)
                    continue
                self.session.train_for(SLICE_S, lambda: self.running)
                if self.session.diverged():  # NaN/Inf: nothing more to learn
                    with self._control:
                        self.running = False
                        self._wake.clear()
                now = time.perf_counter()
                if now - last_publish >= max(PUBLISH_S, 4 * self._publish_cost) \
                        or not self.running:
                    self.publish()
                    last_publish = now
            busy = time.perf_counter() - start
            # sleep so that this session computes at most DUTY_CYCLE of the time; an Event
            # wait, not time.sleep, so close() ends the thread at once
            self._closing.wait(busy * (1 - DUTY_CYCLE) / DUTY_CYCLE)
