"""Per-thread autodiff state: whether ops record, the active forward-mode levels, anomaly mode.

Thread-local, as in PyTorch, so a server training models in several threads keeps each
thread's ``no_grad`` to itself.
"""
import threading


class _State(threading.local):
    def __init__(self):
        self.grad_enabled = True
        # Forward-mode levels that ops can see, outermost first. A JVP rule for level k is
        # evaluated with only the levels before k visible (that is what makes nesting exact).
        self.fw_levels = ()


STATE = _State()

# Process-wide, as PyTorch's anomaly mode: [enabled]. A list so hot code reads one index.
ANOMALY = [False]

# Bumped by every in-place write to a tensor. A node remembers the epoch it was recorded in;
# backward re-checks its saved inputs' version counters only if the epoch has moved since.
INPLACE_EPOCH = [0]


def mark_modified(tensor):
    """Record an in-place write to ``tensor``: bump its version counter (shared with its
    views) and the global epoch, so backward re-checks what nodes saved."""
    tensor._version[0] += 1
    INPLACE_EPOCH[0] += 1
