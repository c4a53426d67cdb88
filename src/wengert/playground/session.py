"""One Playground session's training state: its config, points, features, model and optimizer,
the epoch and step counters, the loss history, and the training step itself.

A :class:`Session` knows nothing of threads or HTTP; :mod:`.live` drives it from a worker
thread and holds :attr:`Session.lock` while it trains or reads the model."""
import math
import threading
import time

import numpy as np

from ..autodiff.grad_mode import no_grad
from ..tensor import Tensor
from . import problem
from .config import validate

#: The loss history keeps at most this many points; older ones are thinned out evenly.
HISTORY_POINTS = 200


class History:
    """Per-epoch losses, thinned to at most :data:`HISTORY_POINTS`: when full, every other
    point is dropped and from then on only every ``stride``-th epoch is kept, so the curve
    stays evenly sampled however long a session runs. The latest point is always shown."""

    def __init__(self):
        self.stride = 1
        self.rows = []     # (epoch, train_loss, test_loss), thinned
        self.latest = None

    def add(self, epoch, train_loss, test_loss):
        self.latest = (epoch, train_loss, test_loss)
        if epoch % self.stride:
            return
        self.rows.append(self.latest)
        if len(self.rows) >= HISTORY_POINTS:
            self.stride *= 2
            self.rows = [r for r in self.rows if r[0] % self.stride == 0]

    def columns(self):
        """``{"epoch": [...], "train_loss": [...], "test_loss": [...]}``."""
        rows = list(self.rows)
        if self.latest is not None and (not rows or rows[-1][0] != self.latest[0]):
            rows.append(self.latest)
        return {key: [r[i] for r in rows]
                for i, key in enumerate(["epoch", "train_loss", "test_loss"])}


class Session:
    """The training state of one config (see the module docstring). Build it with a config
    dict (validated here; missing keys take the defaults)."""

    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.config = None  # configure() fills it from the defaults
        self.configure(config or {})

    def configure(self, changes):
        """Apply ``changes`` (a partial config) and rebuild points, features and model at
        epoch 0. Raises ConfigError, leaving the session as it was, when a value is bad."""
        config = validate(changes, self.config)
        with self.lock:
            self.config = config
            (self.train_points, self.train_labels), (self.test_points, self.test_labels) = \
                problem.make_points(config)
            self.train_x = problem.feature_matrix(self.train_points, config["features"])
            self.test_x = problem.feature_matrix(self.test_points, config["features"])
            self.reset()

    def reset(self):
        """Fresh initial weights (the same for the same seed), a fresh optimizer and batch
        order, epoch and step 0, the history cleared."""
        with self.lock:
            self.model = problem.make_model(self.config)
            self.optimizer = problem.make_optimizer(self.config, self.model)
            self.order_rng = np.random.default_rng([self.config["seed"], 3])
            self._order, self._position = None, 0  # the current epoch's order and progress
            self.batch_loss = 0.0
            self.epoch = self.steps = 0
            self.samples_per_s = 0.0
            self.history = History()
            self._measure()

    @property
    def steps_per_epoch(self):
        """Optimizer steps in one epoch: ceil(n_train / batch_size)."""
        return math.ceil(len(self.train_labels) / self.config["batch_size"])

    def train_for(self, seconds, keep_going=None):
        """Train mini-batches for about ``seconds`` (at least one batch), stopping early when
        ``keep_going()`` turns false or the loss stops being finite. An epoch (one pass over
        the training points in a shuffled order) may span several calls: ``epoch`` counts the
        finished passes, and the losses and history are measured as each one ends."""
        # a far too large learning rate overflows: that is shown (null losses, auto-pause),
        # not warned about on the server's console
        with self.lock, np.errstate(over="ignore", invalid="ignore"):
            start = time.perf_counter()
            samples = 0
            while True:
                samples += self._train_batch()
                elapsed = time.perf_counter() - start
                if (elapsed >= seconds or self.diverged()
                        or (keep_going is not None and not keep_going())):
                    break
            self.samples_per_s = samples / elapsed if elapsed > 0 else 0.0

    def train_epoch(self):
        """Train until the current epoch ends: a whole epoch of ceil(n_train / batch_size)
        steps when called between epochs (as after reset or a previous call)."""
        epoch = self.epoch
        while self.epoch == epoch:
            self.train_for(0.0)

    def _train_batch(self):
        """One optimizer step on the next mini-batch; returns its size."""
        if self._order is None:
            self._order = self.order_rng.permutation(len(self.train_labels))
            self._position = 0
        rows = self._order[self._position:self._position + self.config["batch_size"]]
        self.optimizer.zero_grad()
        loss = problem.data_loss(self.model(Tensor(self.train_x[rows])),
                                 Tensor(self.train_labels[rows]))
        extra = problem.penalty(self.config, self.model)
        (loss if extra is None else loss + extra).backward()
        self.optimizer.step()
        self.batch_loss = loss.item()
        self.steps += 1
        self._position += len(rows)
        if self._position >= len(self._order):
            self._order = None
            self.epoch += 1
            self._measure()
        elif not math.isfinite(self.batch_loss):
            # diverged mid-epoch: the last epoch's losses describe weights that are gone, and
            # would show a finite loss beside the NaN pictures of the model now
            self.train_loss, self.test_loss = self._losses()
        return len(rows)

    def _losses(self):
        """The data loss (no penalty) of the model now on the training and the test set."""
        with no_grad(), np.errstate(over="ignore", invalid="ignore"):
            return tuple(float(problem.data_loss(self.model(Tensor(x)), Tensor(y)).item())
                         for x, y in ((self.train_x, self.train_labels),
                                      (self.test_x, self.test_labels)))

    def _measure(self):
        """Record the data loss (no penalty) on both sets for the current epoch."""
        self.train_loss, self.test_loss = self._losses()
        self.history.add(self.epoch, self.train_loss, self.test_loss)

    def diverged(self):
        """True when the loss is no longer a finite number (learning rate far too large)."""
        return not (math.isfinite(self.train_loss) and math.isfinite(self.batch_loss))
