"""The wengert Playground: a local web page where small networks learn 2-D data sets live
(after the TensorFlow Playground), trained by wengert itself.

``wengert playground`` starts it (extra ``playground``: starlette and uvicorn). The server
parts import those packages; this package alone does not, so importing wengert never needs
them. :func:`create_app` makes the ASGI app for another server or for tests."""
import importlib

from ..errors import MissingDependencyError
from .config import DEFAULTS, ConfigError, options, validate
from .session import Session

__all__ = ["create_app", "check_dependencies", "Session", "ConfigError", "options",
           "validate", "DEFAULTS"]

INSTALL = "pip install 'wengert[playground]'"


def check_dependencies():
    """Raise MissingDependencyError, naming the install command, unless the server's
    packages (starlette and uvicorn) can be imported."""
    missing = []
    for name in ("starlette", "uvicorn"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependencyError(f"the Playground server needs {' and '.join(missing)}: "
                                     f"{INSTALL}")


def create_app(max_sessions=8, grace_s=30.0, static_dir=None):
    """The Playground's Starlette app (see :func:`wengert.playground.server.create_app`);
    raises MissingDependencyError naming ``pip install 'wengert[playground]'`` when starlette
    is missing."""
    check_dependencies()
    from .server import create_app as make
    return make(max_sessions=max_sessions, grace_s=grace_s, static_dir=static_dir)
