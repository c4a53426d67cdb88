"""Op-table cases for the layer primitives (wengert.ops.layer: linear, embedding). See
op_table.py. The row-sparse gradient of embedding is tested in test_nn_layers.py."""
from wengert.ops import layer
from op_table import Case, In

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None


def _lookup(weight, indices):
    return layer.embedding(weight, indices=indices.data)


CASES = [
    Case("linear", layer.linear, [In((3, 4)), In((5, 4)), In((5,))], F and F.linear),
    Case("linear", layer.linear, [In((3, 4)), In((5, 4))], F and F.linear, label="no bias"),
    Case("linear", layer.linear, [In((4,)), In((2, 4)), In((2,))], F and F.linear,
         label="vector input"),
    Case("linear", layer.linear, [In((2, 3, 4)), In((5, 4)), In((5,))], F and F.linear,
         label="batched"),
    Case("embedding", _lookup, [In((6, 3)), In((5,), "int", 0, 6)],
         F and (lambda w, i: F.embedding(i, w))),
    Case("embedding", _lookup, [In((4, 2)), In((2, 3), "int", 0, 4)],
         F and (lambda w, i: F.embedding(i, w)), label="2d indices, repeats"),
]
