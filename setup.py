"""The one piece of the build pyproject.toml cannot declare: the optional C extension that
runs the one- and two-input ops' fast paths (src/wengert/autodiff/_fastpath.c). ``optional``:
without a C compiler the install still succeeds and the ops run their Python reference."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("wengert.autodiff._fastpath",
                             ["src/wengert/autodiff/_fastpath.c"], optional=True)])
