"""The server's table of live sessions: creating them under a cap, finding them by token,
deleting them, removing the ones no page watches any more, and closing all at shutdown."""
import secrets
import threading
import time

from ..errors import ArgumentError
from .config import ConfigError
from .live import LiveSession


class SessionManager:
    """Live sessions by id. At most ``max_sessions`` live at once (creating one more is a
    429); a session with no event stream connected for ``grace_s`` seconds is removed by
    :meth:`reap` (its tab was closed)."""

    def __init__(self, max_sessions=8, grace_s=30.0):
        if max_sessions < 1:
            raise ArgumentError(f"max_sessions={max_sessions} must be at least 1")
        self.max_sessions = max_sessions
        self.grace_s = grace_s
        self.closing = False
        self._sessions = {}
        self._lock = threading.Lock()

    def __len__(self):
        return len(self._sessions)

    def create(self, config=None):
        """A new paused session from ``config`` (partial; validated). Raises ConfigError:
        400 for a bad config, 429 when the cap is reached, 503 while shutting down."""
        self.reap()
        with self._lock:
            if self.closing:
                raise ConfigError("the server is shutting down", None, status=503)
            if len(self._sessions) >= self.max_sessions:
                raise ConfigError(
                    f"too many sessions: {len(self._sessions)} are live, the limit is "
                    f"{self.max_sessions} (wengert playground --max-sessions); close a "
                    f"Playground tab or wait {self.grace_s:g} s for an abandoned one to be "
                    "removed", None, status=429)
            session_id = secrets.token_urlsafe(16)
            # reserve the slot before the (slower) build, so concurrent creates respect the cap
            self._sessions[session_id] = None
        try:
            live = LiveSession(session_id, config)
        except BaseException:
            with self._lock:
                self._sessions.pop(session_id, None)  # close_all may have cleared it
            raise
        with self._lock:
            # close_all ran during the build: a session added now would outlive the server's
            # shutdown with nobody to close it
            if not self.closing:
                self._sessions[session_id] = live
                return live
        live.close()
        raise ConfigError("the server is shutting down", None, status=503)

    def get(self, session_id):
        """The live session ``session_id``; ConfigError 404 when there is none."""
        live = self._sessions.get(session_id)
        if live is None or live.closed:
            raise ConfigError(
                f"no session {session_id[:40]!r}: it was deleted, removed after "
                f"{self.grace_s:g} s without an event stream, or never existed; create one "
                "with POST /api/sessions", None, status=404)
        return live

    def delete(self, session_id):
        """Stop and forget ``session_id`` (404 when unknown)."""
        live = self.get(session_id)
        with self._lock:
            self._sessions.pop(session_id, None)
        live.close()

    def reap(self, now=None):
        """Remove sessions that have had no event stream for the grace period; returns their
        ids."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [sid for sid, live in self._sessions.items()
                    if live is not None and live.streams == 0
                    and now - live.idle_since > self.grace_s]
            removed = [self._sessions.pop(sid) for sid in gone]
        for live in removed:
            live.close()
        return gone

    def close_all(self, timeout=2.0):
        """Shutting down: refuse new sessions, end event streams, stop every thread."""
        with self._lock:
            self.closing = True
            removed = [live for live in self._sessions.values() if live is not None]
            self._sessions.clear()
        for live in removed:
            live.close()
        deadline = time.monotonic() + timeout
        for live in removed:
            live.join(max(0.0, deadline - time.monotonic()))
