"""Op-table cases for the sliding-window pair behind word2vec (wengert.ops.sgns). See
op_table.py. PyTorch's oracles: ``unfold`` for the windows, ``fold`` (its adjoint) for
overlap_add."""
from wengert.ops import sgns
from op_table import Case, In

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None


def _windows(size, axis=0):
    return lambda x: sgns.sliding_windows(x, size=size, axis=axis)


def _torch_windows(size, axis=0):
    return torch and (lambda x: x.unfold(axis, size, 1).movedim(-1, axis + 1))


def _overlap_add(axis):
    return lambda w: sgns.overlap_add(w, axis=axis)


def _torch_overlap_add(w):
    """F.fold sums the patches (B of them, each ``size`` x channels) into a 1 x L image."""
    count, size = w.shape[:2]
    channels = w[0, 0].numel()
    patches = w.reshape(count, size, channels).permute(2, 1, 0).reshape(1, channels * size, count)
    out = F.fold(patches, output_size=(1, count + size - 1), kernel_size=(1, size))
    return out.reshape(channels, count + size - 1).T.reshape((count + size - 1,) + w.shape[2:])


CASES = [
    Case("sliding_windows", _windows(3), [In((7, 4))], _torch_windows(3)),
    Case("sliding_windows", _windows(2), [In((5,))], _torch_windows(2), label="1-D"),
    Case("sliding_windows", _windows(4), [In((4, 2, 3))], _torch_windows(4),
         label="one window, 3-D"),
    Case("sliding_windows", _windows(3, axis=1), [In((2, 5, 3))], _torch_windows(3, 1),
         label="axis 1"),
    Case("sliding_windows", _windows(2, axis=-2), [In((2, 4, 3))], _torch_windows(2, 1),
         label="axis -2"),
    Case("overlap_add", sgns.overlap_add, [In((5, 3, 4))], F and _torch_overlap_add),
    Case("overlap_add", _overlap_add(1), [In((2, 4, 3, 2))],
         F and (lambda w: torch.stack([_torch_overlap_add(part) for part in w])),
         label="axis 1"),
    Case("overlap_add", _overlap_add(1), [In((6, 2, 5, 3))],
         F and (lambda w: torch.stack([_torch_overlap_add(part) for part in w])),
         label="axis 1, a pass per window"),
    Case("overlap_add", sgns.overlap_add, [In((4, 2))], F and _torch_overlap_add,
         label="scalar rows"),
    Case("overlap_add", sgns.overlap_add, [In((1, 3, 2, 2))], F and _torch_overlap_add,
         label="one window, 4-D"),
]
