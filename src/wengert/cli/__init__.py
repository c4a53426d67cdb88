"""The ``wengert`` command. Each subcommand lives in its own module of this package and
registers itself through ``add_parser(subparsers)`` and ``run(args)``."""
import argparse
import importlib
import sys

from .. import __version__

# name -> module implementing add_parser(subparsers) and run(args)
SUBCOMMANDS = ["train", "trace", "word2vec", "playground"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="wengert", description="wengert: NumPy-native autodiff and neural networks")
    parser.add_argument("--version", action="version", version=f"wengert {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
