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
        """Add one epoch's row. A key that earlier epochs lacked (a ``val_loader`` added on
        resume) gets None for them, and one this row lacks gets None, so every column keeps
        one value per epoch and rows stay aligned."""
        epochs = max(map(len, self.values()), default=0)
        for key, value in logs.items():
            self.setdefault(key, [None] * epochs).append(value)
        for column in self.values():
            if len(column) == epochs:
                column.append(None)

    def rows(self):
        """The epochs as a list of ``{key: value}`` dicts."""
        return [dict(zip(self, values)) for values in zip(*self.values())]

    def to_csv(self, path):
        """Write one line per epoch, with a header of the keys; a missing value is an empty
        cell."""
        with atomic_write(path) as f:
            lines = [",".join(self)] + [",".join("" if v is None else repr(v) for v in r.values())
                                        for r in self.rows()]
            f.write(("\n".join(lines) + "\n").encode())
