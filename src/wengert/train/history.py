"""The per-epoch record of a training run."""
from ..atomic import atomic_write


class History(dict):
    """``{key: [value per epoch]}`` with keys such as "epoch", "loss", "accuracy",
    "val_loss", "val_accuracy", "lr", "time", "samples_per_s". ``stopped`` says why training
    ended early (early stopping, an interrupt), or is None."""

    def __init__(self, columns=None, stopped=None):
        super().__init__({k: list(v) for k, v in (columns or {}).items()})
        self.stopped = stopped

    def append(self, logs):
        """Add one epoch's row."""
        for key, value in logs.items():
            self.setdefault(key, []).append(value)

    def rows(self):
        """The epochs as a list of ``{key: value}`` dicts."""
        return [dict(zip(self, values)) for values in zip(*self.values())]

    def to_csv(self, path):
        """Write one line per epoch, with a header of the keys."""
        with atomic_write(path) as f:
            lines = [",".join(self)] + [",".join(map(repr, r.values())) for r in self.rows()]
            f.write(("\n".join(lines) + "\n").encode())
