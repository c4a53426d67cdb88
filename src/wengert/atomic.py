"""Atomic file writes: a file appears complete under its name or not at all, even if the
process dies mid-write (checkpoints, downloads)."""
import contextlib
import os
import secrets
from pathlib import Path

# What tempfile.mkstemp passes, less its mode: O_EXCL makes the name ours alone (and refuses a
# symlink planted there); O_BINARY matters on Windows only.
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


@contextlib.contextmanager
def atomic_write(path):
    """``with atomic_write(path) as f: f.write(...)`` writes to a temporary file in the same
    folder (so the rename cannot cross file systems), fsyncs it and renames it over ``path``
    with ``os.replace``. If the block raises, the temporary file is removed and ``path`` is
    untouched. The file gets the permissions ``open(path, "w")`` would give it: an existing
    file's mode, else 0o666 less the umask."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _create_temporary(path):
    """A new, empty file beside ``path``. Not mkstemp: its 0o600 would survive the rename.
    Created with mode 0o666, the kernel applies the umask itself (nothing reads or sets the
    process-wide umask, which other threads share); over an existing file its mode is kept,
    as open() keeps it when it truncates."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, _FLAGS, 0o666)
            break
        except FileExistsError:
            continue
    try:
        os.chmod(tmp, os.stat(path).st_mode & 0o777)  # not setuid and such
    except FileNotFoundError:
        pass
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    return fd, tmp


def _fsync_dir(folder):
    """Make the rename itself durable (POSIX); Windows cannot open a folder, nor needs to."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
