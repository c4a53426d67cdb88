"""Op-table cases for the fused loss primitives (wengert.ops.loss). See op_table.py."""
from wengert.ops import loss
from op_table import Case, In

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None


def _ce(smoothing=0.0):
    return lambda x, t: loss.softmax_cross_entropy(x, t, label_smoothing=smoothing)


def _torch_ce(smoothing=0.0, ndim=2):
    def fn(x, t):
        if ndim == 3:  # PyTorch wants the classes on axis 1
            x = x.permute(0, 2, 1)
        return F.cross_entropy(x, t, reduction="none", label_smoothing=smoothing)
    return F and fn


CASES = [
    Case("softmax_cross_entropy", _ce(), [In((4, 5), low=-3, high=3), In((4,), "int", 0, 5)],
         _torch_ce()),
    Case("softmax_cross_entropy", _ce(0.2), [In((4, 5), low=-3, high=3), In((4,), "int", 0, 5)],
         _torch_ce(0.2), label="label_smoothing"),
    Case("softmax_cross_entropy", _ce(), [In((2, 3, 4)), In((2, 3), "int", 0, 4)],
         _torch_ce(ndim=3), label="3d"),
    Case("softmax_cross_entropy", _ce(), [In((6,), low=-20, high=20), In((), "int", 0, 6)],
         _torch_ce(), label="one row, wide logits"),
    Case("binary_cross_entropy_with_logits", loss.binary_cross_entropy_with_logits,
         [In((3, 4), low=-6, high=6), In((3, 4), low=0, high=1)],
         F and (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"))),
    Case("binary_cross_entropy_with_logits", loss.binary_cross_entropy_with_logits,
         [In((5,), "away0", high=30), In((5,), low=0, high=1)],
         F and (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none")),
         label="large logits"),
]
