"""SEED-EXAMPLES item 13: how the step delta of a central difference decides its error.

For f(x) = x**3 the symmetric quotient (f(x + d) - f(x - d)) / (2 d) equals 3 x**2 + d**2
exactly, so in exact arithmetic the relative error d**2 / (3 x**2) falls as d shrinks. In
float64 each f value carries a rounding error near 1e-16 * |f|, divided by 2 d, which grows as
d shrinks. The sum is smallest near d = 1e-5; gradcheck's eps = 1e-6 sits in that flat bottom.

    python examples/central_differences.py [out.png]   # prints the table; plots if matplotlib
"""
import sys

import numpy as np

from wengert.check import central_difference_errors

DELTAS = np.logspace(-1, -13, 25)
X = 1.0


def errors():
    return central_difference_errors(lambda x: x ** 3, 3 * X ** 2, X, DELTAS)


def plot(path):
    """Draw the error curve to ``path``; returns False (and draws nothing) without
    matplotlib (pip install 'wengert[plot]')."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(DELTAS, errors(), "o-", label="relative error of the central difference")
    ax.loglog(DELTAS, DELTAS ** 2 / 3, "--", label="truncation d²/3")
    ax.loglog(DELTAS, np.finfo(np.float64).eps / DELTAS, ":", label="rounding ~ 2.2e-16 / d")
    ax.set_ylim(1e-14, 1e-1)
    ax.axvline(1e-6, color="gray", linestyle=":", label="gradcheck eps = 1e-6")
    ax.set_xlabel("step d")
    ax.set_ylabel("relative error against 3x² at x = 1")
    ax.set_title("f(x) = x³: truncation falls, rounding rises")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for d, e in zip(DELTAS, errors()):
        print(f"delta {d:8.1e}   relative error {e:8.1e}")
    path = argv[0] if argv else "central_differences.png"
    print(f"plot written to {path}" if plot(path) else
          "matplotlib is not installed (pip install 'wengert[plot]'): no plot")


if __name__ == "__main__":
    main()
