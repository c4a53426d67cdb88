"""``wengert trace``: the Wengert tables of a formula, from the command line.

    wengert trace "ln(x1) + x1*x2 - sin(x2)" --at x1=2 x2=5 --wrt x1 --dot graph.svg

The formula is parsed safely (:mod:`wengert.expression`, never ``eval``); a value may be a
number or a comma-separated vector (``--at x=1,2,3``).
"""
import sys

import numpy as np

from ..errors import ArgumentError, WengertError


def add_parser(subparsers):
    p = subparsers.add_parser(
        "trace", help="print the forward and adjoint trace tables of a formula",
        description="Print the evaluation trace, the forward-mode derivative trace and the "
                    "reverse-mode adjoint trace of a formula at given input values.")
    p.add_argument("expression", help='the formula, e.g. "ln(x1) + x1*x2 - sin(x2)"; '
                                      "functions: ln exp sqrt sin cos tan tanh sigmoid relu "
                                      "abs log1p expm1 softplus square; constants pi, e")
    p.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE",
                   help="input values in order, e.g. x1=2 x2=5 (a vector: x=1,2,3)")
    p.add_argument("--wrt", metavar="NAME", help="input that seeds forward mode (default: "
                                                 "the first)")
    p.add_argument("--format", choices=["text", "markdown", "html"], default="text",
                   help="table format (default: text)")
    p.add_argument("--dot", metavar="FILE", help="also draw the graph: .svg/.png/.pdf with "
                                                 "Graphviz, or .dot for the DOT text")
    p.set_defaults(run=run)


def _values(pairs):
    names, values = [], []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ArgumentError(f"--at: expected NAME=VALUE, got {pair!r}")
        try:
            value = np.array([float(v) for v in text.split(",")])
        except ValueError:
            raise ArgumentError(f"--at {pair}: {text!r} is not a number or a comma-separated "
                                "list of numbers") from None
        names.append(name)
        values.append(value[0] if value.size == 1 else value)
    if len(set(names)) != len(names):
        raise ArgumentError(f"--at: a name is given twice in {names}")
    return names, values


def run(args):
    from ..expression import parse
    from ..trace_table import trace
    from ..viz import render, render_format

    try:
        names, values = _values(args.at)
        if args.wrt is not None and args.wrt not in names:
            raise ArgumentError(f"--wrt {args.wrt}: not one of the inputs {names}")
        if args.dot:  # a bad name is found before the tables, not after
            render_format(args.dot)
        f = parse(args.expression, names)
        wrt = names.index(args.wrt) if args.wrt else 0
        t = trace(f, *values, wrt=wrt, names=names)
        print({"text": t.to_text, "markdown": t.to_markdown,
               "html": t._repr_html_}[args.format]())
        if args.dot:
            print(f"graph written to {render(t, args.dot, title=args.expression)}")
    except (WengertError, OSError) as exc:  # e.g. --at vectors that do not broadcast
        print(f"wengert trace: error: {exc}", file=sys.stderr)
        return 2
    return 0
