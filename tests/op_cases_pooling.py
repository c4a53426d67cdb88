"""Op-table cases for the pooling primitives (wengert.ops.pooling), mostly through the
functions of wengert.nn.functional that use them, with PyTorch's functions as the oracle.
See op_table.py. Max pooling samples "away0" values: distinct, so no window has a near tie
that a central difference could flip. Shapes stay tiny: every entry is differentiated
numerically."""
import numpy as np
from op_table import Case, In

import wengert.nn.functional as F
from wengert.ops import pooling

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None


def _max(name, *args, **kwargs):
    """``name`` (a pooling function) with these arguments, ours and PyTorch's."""
    def ours(x):
        return getattr(F, name)(x, *args, **kwargs)

    def theirs(x):
        return getattr(TF, name)(x, *args, **kwargs)
    return ours, TF and theirs


def _case(prim, name, shape, *args, kind="float", label="", **kwargs):
    ours, theirs = _max(name, *args, **kwargs)
    extra = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return Case(prim, ours, [In(shape, kind)], theirs,
                label=label or f"{name}({'x'.join(map(str, shape))}, {extra})")


def _first(name, shape, *args):
    """A case for the values of a pooling function called with return_indices=True."""
    def ours(x):
        return getattr(F, name)(x, *args, return_indices=True)[0]

    def theirs(x):
        return getattr(TF, name)(x, *args, return_indices=True)[0]
    return Case("pool_gather", ours, [In(shape, "away0")], TF and theirs,
                label=f"{name} return_indices")


# pool_scatter_add on its own: flat plane indices with repeats (as overlapping windows give)
SCATTER_INDEX = np.random.default_rng(0).integers(0, 12, size=(2, 3, 2, 2))


def _scatter(g):
    return pooling.pool_scatter_add(g, index=SCATTER_INDEX, shape=(2, 3, 3, 4), dims=2)


def _torch_scatter(g):
    index = torch.as_tensor(SCATTER_INDEX).reshape(2, 3, -1)
    flat = torch.zeros((2, 3, 12), dtype=g.dtype).scatter_add(-1, index, g.reshape(2, 3, -1))
    return flat.reshape(2, 3, 3, 4)


# window_sum and its adjoint on their own: PyTorch's avg_pool2d with divisor 1 is a window
# sum, and its input gradient (kept differentiable) the adjoint
WINDOW = {"kernel": (2, 3), "stride": (1, 2), "padding": (1, 1)}


def _window_sum(x):
    return pooling.window_sum(x, out_size=(5, 3), **WINDOW)


def _torch_window_sum(x):
    return TF.avg_pool2d(x, (2, 3), (1, 2), (1, 1), ceil_mode=True, divisor_override=1)


def _window_sum_adjoint(g):
    return pooling.window_sum_adjoint(g, in_size=(4, 5), **WINDOW)


def _torch_window_sum_adjoint(g):
    x = torch.zeros((2, 1, 4, 5), dtype=g.dtype, requires_grad=True)
    return torch.autograd.grad(_torch_window_sum(x), x, g, create_graph=True)[0]


CASES = [
    # max pooling: the output is pool_gather at the window maxima
    _case("pool_gather", "max_pool1d", (2, 3, 7), 2, kind="away0"),
    _case("pool_gather", "max_pool1d", (2, 9), 3, 1, 1, kind="away0", label="max_pool1d unbatched"),
    _case("pool_gather", "max_pool1d", (1, 2, 8), 3, 2, 1, 2, True, kind="away0"),
    _case("pool_gather", "max_pool2d", (2, 2, 4, 5), 2, kind="away0"),
    _case("pool_gather", "max_pool2d", (1, 2, 5, 5), 3, 1, 1, kind="away0"),
    _case("pool_gather", "max_pool2d", (2, 5, 6), (2, 3), (2, 1), (1, 0), (2, 1), True,
          kind="away0"),
    _case("pool_gather", "max_pool3d", (1, 2, 4, 4, 3), 2, 1, kind="away0"),
    _case("pool_gather", "max_pool3d", (1, 1, 5, 4, 4), (3, 2, 2), 2, 1, ceil_mode=True,
          kind="away0"),
    _first("max_pool2d", (1, 2, 5, 4), 3, 2, 1),
    _case("pool_gather", "adaptive_max_pool1d", (2, 2, 7), 3, kind="away0"),
    _case("pool_gather", "adaptive_max_pool2d", (1, 2, 5, 7), (3, 4), kind="away0"),
    _case("pool_gather", "adaptive_max_pool2d", (2, 5, 3), (2, None), kind="away0",
          label="adaptive_max_pool2d unbatched, None"),
    _case("pool_gather", "adaptive_max_pool3d", (1, 1, 3, 5, 4), (2, 3, 3), kind="away0"),
    _first("adaptive_max_pool1d", (1, 2, 6), 4),
    Case("pool_scatter_add", _scatter, [In((2, 3, 2, 2))], TF and _torch_scatter),
    # average pooling: window_sum divided by the counts
    _case("window_sum", "avg_pool1d", (2, 3, 7), 2),
    _case("window_sum", "avg_pool1d", (2, 8), 3, 2, 1, True, False, label="avg_pool1d "
          "unbatched, ceil, no pad count"),
    _case("window_sum", "avg_pool2d", (2, 2, 4, 5), 2),
    _case("window_sum", "avg_pool2d", (1, 2, 5, 5), 3, 1, 1),
    _case("window_sum", "avg_pool2d", (1, 2, 5, 6), (3, 2), 2, 1, True, False),
    _case("window_sum", "avg_pool2d", (1, 1, 5, 5), 2, 2, 1, True, True, 3),
    _case("window_sum", "avg_pool3d", (1, 2, 4, 3, 4), 2, 1),
    _case("window_sum", "avg_pool3d", (1, 1, 5, 4, 3), (3, 2, 2), 2, 1, True, False),
    _case("window_sum", "avg_pool3d", (1, 4, 4, 5), 2, divisor_override=5),
    Case("window_sum", _window_sum, [In((2, 1, 4, 5))], TF and _torch_window_sum,
         label="avg_pool2d sum, ceil_mode overhang"),
    Case("window_sum_adjoint", _window_sum_adjoint, [In((2, 1, 5, 3))],
         TF and _torch_window_sum_adjoint, label="avg_pool2d sum backward"),
    # adaptive average pooling: matmul by constant averaging matrices
    _case("matmul", "adaptive_avg_pool1d", (2, 3, 7), 3),
    _case("matmul", "adaptive_avg_pool2d", (1, 2, 5, 7), (3, 4)),
    _case("matmul", "adaptive_avg_pool2d", (2, 5, 4), (None, 3), label="adaptive_avg_pool2d "
          "unbatched, None"),
    _case("matmul", "adaptive_avg_pool3d", (1, 1, 5, 3, 4), (2, 2, 3)),
]
