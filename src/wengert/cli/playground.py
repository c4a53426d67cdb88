"""``wengert playground``: the Playground web page, served on this machine.

    wengert playground [--host 127.0.0.1] [--port 8000] [--open] [--max-sessions 8]

Needs the ``playground`` extra (starlette, uvicorn). ``--port 0`` picks a free port; the
address printed is the real one.
"""
import sys


def add_parser(subparsers):
    p = subparsers.add_parser(
        "playground", help="train small networks live in a web page (TensorFlow Playground "
                           "style)",
        description="Serve the wengert Playground: a web page where small networks learn "
                    "2-D data sets live, trained by wengert. Open the printed address in a "
                    "browser; Ctrl-C stops the server.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; the "
                        "server has no login, so think twice before 0.0.0.0)")
    p.add_argument("--port", type=int, default=8000,
                   help="port to listen on (default 8000; 0 picks a free one)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument("--max-sessions", type=int, default=8, metavar="N",
                   help="most sessions (browser tabs) alive at once (default 8)")
    p.set_defaults(run=run, parser=p)


def run(args):
    from ..errors import MissingDependencyError

    if not 0 <= args.port <= 65535:
        args.parser.error(f"--port {args.port}: must be 0 to 65535")
    if args.max_sessions < 1:
        args.parser.error(f"--max-sessions {args.max_sessions}: must be at least 1")
    try:
        from ..playground import server
    except MissingDependencyError as exc:
        print(f"wengert playground: error: {exc}", file=sys.stderr)
        return 1
    try:
        sock = server.listen(args.host, args.port)
    except OSError as exc:
        print(f"wengert playground: error: cannot listen on {args.host}:{args.port}: {exc}; "
              "choose another --port (0 picks a free one)", file=sys.stderr)
        return 1
    url = server.url_of(sock)

    def ready():
        print(f"wengert playground: {url}  (Ctrl-C stops)", flush=True)
        if args.open:
            import webbrowser
            webbrowser.open(url)

    server.serve(sock, max_sessions=args.max_sessions, on_ready=ready)
    return 0
