"""The per-epoch tqdm progress bar of :func:`~wengert.train.fit`."""
import time

from tqdm.auto import tqdm

REFRESH_S = 0.25  # formatting the postfix every step would cost more than a small step


class EpochBar:
    """A bar over an epoch's batches showing the running loss, metrics and samples/s."""

    def __init__(self, epoch, epochs, total, done, enabled):
        self.bar = tqdm(total=total, initial=done, desc=f"epoch {epoch}/{epochs}",
                        unit="batch", disable=not enabled, dynamic_ncols=True)
        self.next_refresh = 0.0

    def update(self, totals):
        self.bar.update(1)
        now = time.perf_counter()
        if now >= self.next_refresh and not self.bar.disable:
            self.bar.set_postfix(_postfix(totals.means(), totals.count / totals.seconds),
                                 refresh=False)
            self.next_refresh = now + REFRESH_S

    def write(self, message):
        self.bar.write(message)

    def close(self, logs=None):
        if logs is not None:
            self.bar.set_postfix(_postfix({k: v for k, v in logs.items()
                                           if k not in ("epoch", "lr", "time")},
                                          logs["samples_per_s"]), refresh=False)
        self.bar.close()


def _postfix(values, rate):
    shown = {k: f"{v:.4f}" for k, v in values.items() if k != "samples_per_s"}
    shown["samples/s"] = f"{rate:,.0f}"
    return shown
