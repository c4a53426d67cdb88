"""Op-table cases for the fused loss primitives (wengert.ops.loss). See op_table.py."""
import numpy as np

from wengert.ops import loss
from op_table import Case, In

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None


W5 = np.array([0.5, 2.0, 1.0, 0.25, 3.0])  # class weights for 5 classes
W4 = W5[:4]


def _mark(t, ignore_index):
    """Every third target (flat order) set to ignore_index, the others kept."""
    if ignore_index is None:
        return t
    shape = tuple(t.shape)
    every_third = (np.arange(int(np.prod(shape))) % 3 == 0).reshape(shape)
    if torch is not None and isinstance(t, torch.Tensor):
        return torch.where(torch.as_tensor(every_third), ignore_index, t)
    return np.where(every_third, ignore_index, t.data)


def _ce(smoothing=0.0, weight=None, ignore=None, reduction="none"):
    kw = {} if ignore is None else {"ignore_index": ignore}
    return lambda x, t: loss.softmax_cross_entropy(
        x, _mark(t, ignore), weight=weight, label_smoothing=smoothing, reduction=reduction, **kw)


def _torch_ce(smoothing=0.0, ndim=2, weight=None, ignore=None, reduction="none"):
    kw = {} if ignore is None else {"ignore_index": ignore}

    def fn(x, t):
        if ndim == 3:  # PyTorch wants the classes on axis 1
            x = x.permute(0, 2, 1)
        return F.cross_entropy(x, _mark(t, ignore), reduction=reduction, label_smoothing=smoothing,
                               weight=None if weight is None else torch.as_tensor(weight), **kw)
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
    Case("softmax_cross_entropy", _ce(reduction="mean"),
         [In((4, 5), low=-3, high=3), In((4,), "int", 0, 5)], _torch_ce(reduction="mean"),
         label="mean"),
    Case("softmax_cross_entropy", _ce(weight=W5), [In((4, 5), low=-3, high=3),
                                                   In((4,), "int", 0, 5)],
         _torch_ce(weight=W5), label="weight"),
    Case("softmax_cross_entropy", _ce(weight=W5, ignore=-100, reduction="mean"),
         [In((6, 5), low=-3, high=3), In((6,), "int", 0, 5)],
         _torch_ce(weight=W5, ignore=-100, reduction="mean"), label="weight, ignored, mean"),
    Case("softmax_cross_entropy", _ce(0.2, ignore=-100, reduction="mean"),
         [In((6, 5), low=-3, high=3), In((6,), "int", 0, 5)],
         _torch_ce(0.2, ignore=-100, reduction="mean"), label="smoothing, ignored, mean"),
    Case("softmax_cross_entropy", _ce(0.3, weight=W4, ignore=1, reduction="sum"),
         [In((2, 3, 4)), In((2, 3), "int", 0, 4)],
         _torch_ce(0.3, ndim=3, weight=W4, ignore=1, reduction="sum"),
         label="3d, weight, smoothing, ignore_index=1, sum"),
    Case("binary_cross_entropy_with_logits", loss.binary_cross_entropy_with_logits,
         [In((3, 4), low=-6, high=6), In((3, 4), low=0, high=1)],
         F and (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"))),
    Case("binary_cross_entropy_with_logits", loss.binary_cross_entropy_with_logits,
         [In((5,), "away0", high=30), In((5,), low=0, high=1)],
         F and (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none")),
         label="large logits"),
    Case("binary_cross_entropy", loss.binary_cross_entropy,
         [In((3, 4), low=0.05, high=0.95), In((3, 4), low=0, high=1)],
         F and (lambda p, y: F.binary_cross_entropy(p, y, reduction="none"))),
]
