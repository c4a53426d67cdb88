"""``wengert.autograd.anomaly_mode``: ``detect_anomaly`` under PyTorch's module name, and
``set_detect_anomaly``."""
from ..autodiff.anomaly import _set_anomaly, detect_anomaly
from ..autodiff.state import ANOMALY

__all__ = ["detect_anomaly", "set_detect_anomaly"]


class set_detect_anomaly:
    """``torch.autograd.set_detect_anomaly(mode, check_nan=True)``: turn anomaly checks (see
    :class:`detect_anomaly`) on or off at once, as a statement or a ``with`` block that puts
    the previous setting back at its end. wengert's anomaly mode is its NaN/Inf checks, so
    ``check_nan=False`` leaves it off (PyTorch would still record the forward call sites)."""

    def __init__(self, mode, check_nan=True):
        self.prev = ANOMALY[0]
        _set_anomaly(bool(mode) and bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_anomaly(self.prev)
        return False
