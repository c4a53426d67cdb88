"""Anomaly mode: find the first op that produced a NaN or Inf.

``with detect_anomaly():`` checks every op's output in forward and every gradient in backward;
the first non-finite value raises :class:`~wengert.errors.AnomalyError` naming the op, the
input shapes and (for backward) where in the user's code the op was recorded. Checking costs
a pass over every array, so it is off by default.
"""
import os
import traceback
import weakref

import numpy as np

from ..errors import AnomalyError
from .state import ANOMALY, DETOUR, count


class detect_anomaly:
    """Context manager / decorator turning anomaly checks on (``check_nan=True``)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.prev = ANOMALY[0]
        _set_anomaly(self.check_nan)
        return self

    def __exit__(self, *exc):
        _set_anomaly(self.prev)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def _set_anomaly(mode):
    """Turn anomaly mode on or off, keeping :data:`DETOUR` in step (ops check anomalies only
    on their general path)."""
    if bool(mode) != bool(ANOMALY[0]):
        count(DETOUR, 1 if mode else -1)
    ANOMALY[0] = mode


def is_anomaly_enabled():
    """True inside ``detect_anomaly()`` (process-wide, as in PyTorch)."""
    return ANOMALY[0]


# wengert's own source folder: frames inside it are not the user's (a user's project may
# itself live in a folder called "wengert", so the path must be the package's, not a name).
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_frames():
    """The recording call site, without wengert's own frames."""
    frames = [f for f in traceback.extract_stack()[:-3]
              if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    return "".join(traceback.format_list(frames[-3:]))


# node -> where in the user's code it was recorded (only filled in anomaly mode)
_RECORDED_AT = weakref.WeakKeyDictionary()


def recorded_at(node):
    """The user call site that recorded ``node`` ("" outside anomaly mode)."""
    return _RECORDED_AT.get(node, "")


def report_forward(prim, node, out, arrays):
    """Called by every op in anomaly mode: raise if ``out`` has a NaN/Inf its inputs lacked,
    and remember where the op was recorded for backward's report."""
    if node is not None:
        _RECORDED_AT[node] = _user_frames()
    if out.dtype.kind != "f" or np.isfinite(out).all():
        return
    inputs_finite = all(np.isfinite(a).all() for a in arrays
                        if isinstance(a, np.ndarray) and a.dtype.kind == "f")
    if inputs_finite:
        shapes = [getattr(a, "shape", type(a).__name__) for a in arrays]
        raise AnomalyError(
            f"'{prim.name}' produced a non-finite value (nan or inf) from finite inputs of "
            f"shapes {shapes}.\nRecorded at:\n{_user_frames()}Hint: check the op's domain "
            "(log of <= 0, division by zero, overflow of exp)")
