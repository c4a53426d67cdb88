"""Per-thread autodiff state: whether ops record, the active forward-mode levels, anomaly mode.

Thread-local, as in PyTorch, so a server training models in several threads keeps each
thread's ``no_grad`` to itself. Reading a thread-local costs as much as a small NumPy call, so
the hot paths first read process-wide counters (one list index) and consult the thread's
state only when a counter says it could matter.
"""
import itertools
import threading

# How many threads have grad mode off right now: while 0, every thread records.
GRAD_OFF = [0]
# How many reasons ops have to leave their fast paths: one per forward-mode level open in any
# thread, plus one while anomaly mode is on, plus one per running vmap. While 0, no op looks
# for tangents, anomalies or batched arguments.
DETOUR = [0]
# Whether any tensor ever asked for hooks or retain_grad: while False, backward skips both.
HOOKED = [False]
# Whether an in-place op ever rebased a recorded tensor: while False, backward does not look
# for the old values that nodes recorded before such a write took as input.
REBASED = [False]

_counter_lock = threading.Lock()  # `n += 1` on a shared list is not atomic across threads


def count(counter, delta):
    """Change a process-wide counter safely from any thread."""
    with _counter_lock:
        counter[0] += delta


class _State(threading.local):
    def __init__(self):
        self._grad_enabled = True
        # Forward-mode levels that ops can see, outermost first. A JVP rule for level k is
        # evaluated with only the levels before k visible (that is what makes nesting exact).
        self.fw_levels = ()
        # The vmaps running, outermost first: (level, batch size, randomness).
        self.vmap_levels = ()
        # generator -> its state at its first draw, put back before each repeat of a
        # computation that must draw the same (wengert.random.same_draws)
        self.same_draws = None

    @property
    def grad_enabled(self):
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, mode):
        if mode != self._grad_enabled:
            count(GRAD_OFF, -1 if mode else 1)
            self._grad_enabled = mode


STATE = _State()

# Process-wide, as PyTorch's anomaly mode: [enabled]. A list so hot code reads one index.
ANOMALY = [False]

#: next_stamp() -> the next tick of one clock shared by recording and in-place writes: a node's
#: ``seq`` is the tick it was recorded at, and a tensor's version cell ``[writes, stamp]`` holds
#: the tick of its last write. A saved value was changed after a node saved it exactly when
#: its stamp is later than the node's ``seq``; no snapshot of versions is taken when recording.
next_stamp = itertools.count(1).__next__

# The stamp of the latest in-place write to any tensor: backward checks a node's saved values
# only if it is later than the node.
LAST_WRITE = [0]


def mark_modified(tensor):
    """Record an in-place write to ``tensor``: count it in its version cell (shared with its
    views) and stamp the cell and :data:`LAST_WRITE` with the clock."""
    cell = tensor._version_cell()
    cell[0] += 1
    cell[1] = LAST_WRITE[0] = next_stamp()
