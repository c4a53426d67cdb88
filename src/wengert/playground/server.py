"""The Playground's web server: a Starlette app with the page, the JSON API, one Server-Sent
Events stream per session, and :func:`serve`, which runs it under uvicorn.

Every error answer is JSON ``{"error": message, "field": name or null}``. Handlers that train
or read a model run in Starlette's thread pool (plain ``def`` work passed to
``run_in_threadpool``), never on the event loop; see docs/playground.md for the API."""
import asyncio
import json
import math
import time
from contextlib import asynccontextmanager
from pathlib import Path

from . import check_dependencies, explain

check_dependencies()  # before the imports below, so a missing package names its extra
from starlette.applications import Starlette  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.exceptions import HTTPException  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.responses import (FileResponse, JSONResponse, Response,  # noqa: E402
                                 StreamingResponse)
from starlette.routing import Route  # noqa: E402
import uvicorn  # noqa: E402

from .config import ConfigError, options  # noqa: E402
from .manager import SessionManager  # noqa: E402

STATIC = Path(__file__).parent / "static"
#: Largest request body accepted (a config is well under 1 KB).
MAX_BODY = 64 * 1024
#: How often an event stream looks for a new snapshot: also the cap on its event rate.
POLL_S = 0.1
#: A comment line keeps idle streams (and proxies) from timing out.
PING_S = 10.0
#: Coordinates a graph or trace may be asked for.
POINT_LIMIT = 1e6
ACTIONS = ("play", "pause", "step", "reset")


def _error(message, field=None, status=400):
    return JSONResponse({"error": message, "field": field}, status_code=status)


async def _config_error(request, exc):
    return _error(str(exc), exc.field, exc.status)


async def _http_error(request, exc):
    if exc.status_code == 404:
        message = f"not found: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return _error(message, None, exc.status_code)


async def _internal_error(request, exc):
    return _error(f"internal error: {type(exc).__name__}: {exc}", None, 500)


async def _json_body(request, allowed=("config",)):
    """The request's JSON object (``{}`` for an empty body), at most MAX_BODY bytes, with
    only ``allowed`` keys."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise ConfigError(f"request body: {int(length)} bytes is too large; the limit is "
                          f"{MAX_BODY} bytes", None, status=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ConfigError(f"request body: more than {MAX_BODY} bytes is too large",
                              None, status=413)
    if not body.strip():
        return {}
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"request body: invalid JSON ({exc})") from None
    except RecursionError:
        # 64 KB of "[" is small enough to pass the size check and deep enough for the parser
        raise ConfigError("request body: invalid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ConfigError(f"request body: expected a JSON object such as "
                          f"{{\"config\": {{...}}}}, got {type(data).__name__}")
    for key in data:
        if key not in allowed:
            raise ConfigError(f"request body: unknown key {key!r}; allowed: "
                              f"{', '.join(allowed)}", key)
    return data


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


class SameOriginOnly:
    """ASGI middleware that refuses (403) requests that change something when a browser says
    they come from another site's page (their ``Origin`` is not this server): without it any
    web page could start sessions on a Playground running on this machine. Requests without
    an ``Origin`` (curl, scripts) pass, as do GETs, which a browser does not let other sites
    read."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            host = headers.get(b"host", b"")
            if origin is not None and origin.partition(b"://")[2] != host:
                response = _error(f"cross-site request refused: a page from "
                                  f"{origin.decode('latin-1')[:80]} may not change sessions "
                                  f"on {host.decode('latin-1')[:80]}", None, 403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _point(request):
    """``(x1, x2, label)`` from the query string; label is None, 0 or 1."""
    values = []
    for name in ("x1", "x2"):
        text = request.query_params.get(name)
        if text is None:
            raise ConfigError(f"{name}: missing; give the point as ?x1=<number>&x2=<number>",
                              name)
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{name}: {text[:40]!r} is not a number", name) from None
        if not (math.isfinite(value) and abs(value) <= POINT_LIMIT):
            raise ConfigError(f"{name}: {text[:40]} is out of range; allowed "
                              f"{-POINT_LIMIT:g} to {POINT_LIMIT:g}", name)
        values.append(value)
    label = request.query_params.get("label")
    if label is not None and label not in ("0", "1"):
        raise ConfigError(f"label: {label[:40]!r} is not a class; use 0 or 1 (or leave it "
                          "out for the forward pass alone)", "label")
    return values[0], values[1], None if label is None else int(label)


def create_app(max_sessions=8, grace_s=30.0, static_dir=None):
    """The Playground as an ASGI app. At most ``max_sessions`` sessions live at once; a
    session without an event stream for ``grace_s`` seconds is removed. ``app.state.manager``
    is the :class:`~wengert.playground.manager.SessionManager`."""
    manager = SessionManager(max_sessions, grace_s)
    static = Path(static_dir) if static_dir is not None else STATIC

    async def page(request):
        return await _static_file(static, "index.html")

    async def static_file(request):
        return await _static_file(static, request.path_params["path"])

    async def get_options(request):
        return JSONResponse(options())

    async def create(request):
        body = await _json_body(request)
        live = await run_in_threadpool(manager.create, body.get("config", {}))
        return JSONResponse(await run_in_threadpool(live.describe), status_code=201)

    async def get_session(request):
        live = manager.get(request.path_params["id"])
        return JSONResponse(await run_in_threadpool(live.describe))

    async def delete_session(request):
        await run_in_threadpool(manager.delete, request.path_params["id"])
        return Response(status_code=204)

    async def put_config(request):
        live = manager.get(request.path_params["id"])
        body = await _json_body(request)
        await run_in_threadpool(live.configure, body.get("config", {}))
        return JSONResponse(await run_in_threadpool(live.describe))

    async def action(request):
        live = manager.get(request.path_params["id"])
        name = request.path_params["action"]
        if name not in ACTIONS:
            raise ConfigError(f"unknown action {name[:40]!r}; use one of {', '.join(ACTIONS)}",
                              None, status=404)
        await run_in_threadpool(getattr(live, name))
        return JSONResponse(await run_in_threadpool(live.describe))

    async def graph(request):
        live = manager.get(request.path_params["id"])
        x1, x2, label = _point(request)

        def draw():
            dot = explain.graph_dot(live.session, x1, x2, label)
            return {"dot": dot, "svg": explain.render_svg(dot)}
        return JSONResponse(await run_in_threadpool(draw))

    async def trace(request):
        live = manager.get(request.path_params["id"])
        x1, x2, label = _point(request)
        return JSONResponse(await run_in_threadpool(explain.trace_tables, live.session, x1,
                                                    x2, label))

    async def events(request):
        live = manager.get(request.path_params["id"])
        return StreamingResponse(_stream(manager, live), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    @asynccontextmanager
    async def lifespan(app):
        reaper = asyncio.create_task(_reap_forever(manager))
        try:
            yield
        finally:
            reaper.cancel()
            await run_in_threadpool(manager.close_all)

    routes = [
        Route("/", page),
        Route("/static/{path:path}", static_file),
        Route("/api/options", get_options),
        Route("/api/sessions", create, methods=["POST"]),
        Route("/api/sessions/{id}", get_session, methods=["GET"]),
        Route("/api/sessions/{id}", delete_session, methods=["DELETE"]),
        Route("/api/sessions/{id}/config", put_config, methods=["PUT"]),
        Route("/api/sessions/{id}/events", events),
        Route("/api/sessions/{id}/graph", graph),
        Route("/api/sessions/{id}/trace", trace),
        Route("/api/sessions/{id}/{action}", action, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SameOriginOnly)],
                    exception_handlers={ConfigError: _config_error,
                                        HTTPException: _http_error,
                                        Exception: _internal_error})
    app.state.manager = manager
    return app


async def _static_file(static, path):
    """A file under ``static`` (no way out of it: the resolved path must stay inside)."""
    root = static.resolve()
    try:
        target = (root / path).resolve()
        found = target.is_relative_to(root) and target.is_file()
    except (OSError, ValueError):  # a NUL byte or a name too long for the file system
        found = False
    if not found:
        raise ConfigError(f"not found: /static/{path[:80]}" if path != "index.html" else
                          f"the page is missing: {root / 'index.html'} does not exist",
                          None, status=404)
    return FileResponse(target, headers={"Cache-Control": "no-cache"})


async def _stream(manager, live):
    """The event stream of one session: every new snapshot as an "event: state" (the first
    at once), at most every POLL_S seconds, and a ping comment when idle. Ends when the
    session is closed or the server shuts down."""
    live.attach()
    try:
        sent, last = None, time.monotonic()
        while not (manager.closing or live.closed):
            version, text = live.published
            if version != sent:
                sent, last = version, time.monotonic()
                yield f"event: state\ndata: {text}\n\n"
            elif time.monotonic() - last >= PING_S:
                last = time.monotonic()
                yield ": ping\n\n"
            await asyncio.sleep(POLL_S)
    finally:
        live.detach()


async def _reap_forever(manager):
    """Remove abandoned sessions, checking a few times per grace period."""
    while True:
        await asyncio.sleep(max(0.05, min(1.0, manager.grace_s / 4)))
        await run_in_threadpool(manager.reap)


def listen(host="127.0.0.1", port=8000):
    """A listening TCP socket on ``host``:``port`` (port 0 picks a free one); OSError when
    the address is taken or not this machine's."""
    import socket
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(sock):
    """``http://host:port/`` of a listening socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def make_server(app, log_level="warning"):
    """A uvicorn server for ``app`` that ends the event streams and training threads before
    it waits for connections to close (an open stream would otherwise hold Ctrl-C up)."""
    class PlaygroundServer(uvicorn.Server):
        async def shutdown(self, sockets=None):
            await run_in_threadpool(app.state.manager.close_all)
            await super().shutdown(sockets)

    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    return PlaygroundServer(config)


def serve(sock, max_sessions=8, grace_s=30.0, on_ready=None):
    """Run the Playground on the listening socket ``sock`` until Ctrl-C (or SIGTERM);
    ``on_ready()`` is called once the app is made, before serving."""
    server = make_server(create_app(max_sessions=max_sessions, grace_s=grace_s))
    if on_ready is not None:
        on_ready()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly, then raises the captured Ctrl-C again for the caller;
        # a command line stopped by Ctrl-C has nothing more to report
        pass
