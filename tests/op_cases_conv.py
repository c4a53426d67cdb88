"""Op-table cases for the convolution primitives (wengert.ops.conv: conv, conv_transpose,
conv_weight) and the nn.functional wrappers that call them. See op_table.py. PyTorch's
torch.nn.functional (and torch.nn.grad for the weight gradient) is the oracle; asymmetric
padding is checked against torch on an input padded by F.pad, and a weight gradient that
covers only the first output positions against a by-hand sum."""
import itertools

import numpy as np

import wengert.nn.functional as wF
from wengert.ops import conv as C
from op_table import Case, In

try:
    import torch
    import torch.nn.functional as F
    import torch.nn.grad as G
except ImportError:
    torch = F = G = None


def _conv(**geo):
    return lambda x, w: C.conv(x, w, **geo)


def _transpose(**geo):
    return lambda y, w: C.conv_transpose(y, w, **geo)


def _weight(kernel_size, **geo):
    return lambda x, dy: C.conv_weight(x, dy, kernel_size=kernel_size, **geo)


def _torch_conv(n, **geo):
    return F and (lambda x, w: getattr(F, f"conv{n}d")(x, w, **geo))


def _torch_transpose(n, **geo):
    return F and (lambda y, w: getattr(F, f"conv_transpose{n}d")(y, w, **geo))


def _torch_weight(n, kernel_size, **geo):
    def weight_grad(x, dy):
        size = (dy.shape[1], x.shape[1] // geo.get("groups", 1)) + kernel_size
        return getattr(G, f"conv{n}d_weight")(x, size, dy, **geo)
    return G and weight_grad


def _weight_by_hand(kernel, stride, pads, groups):
    """dw[o, c, k] = sum over n, p of dy[n, o, p] * x_padded[n, g(o)*C/G + c, p*s + k], a
    plain loop over the formula (dilation 1)."""
    def ref(x, dy):
        xp = np.pad(x, [(0, 0), (0, 0)] + list(pads))
        c_out, c_in = dy.shape[1], x.shape[1] // groups
        dw = np.zeros((c_out, c_in) + kernel)
        for o, c in itertools.product(range(c_out), range(c_in)):
            ch = o // (c_out // groups) * c_in + c
            for k in itertools.product(*map(range, kernel)):
                for p in itertools.product(*map(range, dy.shape[2:])):
                    at = tuple(pi * s + ki for pi, s, ki in zip(p, stride, k))
                    dw[(o, c) + k] += (dy[(slice(None), o) + p]
                                       * xp[(slice(None), ch) + at]).sum()
        return dw
    return ref


CASES = [
    # conv: 1d, 2d, 3d, stride, padding (incl. asymmetric), dilation, groups, depthwise
    Case("conv", _conv(stride=2, padding=1), [In((2, 3, 7)), In((4, 3, 3))],
         _torch_conv(1, stride=2, padding=1), label="1d stride 2 pad 1"),
    Case("conv", _conv(stride=3, dilation=2), [In((1, 2, 8)), In((2, 2, 2))],
         _torch_conv(1, stride=3, dilation=2), label="1d trailing entries not covered"),
    Case("conv", _conv(stride=(2, 1), padding=(1, 0)), [In((2, 2, 5, 6)), In((3, 2, 3, 2))],
         _torch_conv(2, stride=(2, 1), padding=(1, 0)), label="2d stride (2,1) pad (1,0)"),
    Case("conv", _conv(padding=((0, 1), (2, 1))), [In((1, 2, 4, 3)), In((2, 2, 2, 3))],
         F and (lambda x, w: F.conv2d(F.pad(x, (2, 1, 0, 1)), w)),
         label="2d asymmetric padding"),
    Case("conv", _conv(stride=2, dilation=(2, 1), groups=2), [In((1, 4, 6, 5)),
                                                               In((6, 2, 2, 2))],
         _torch_conv(2, stride=2, dilation=(2, 1), groups=2), label="2d groups 2 dilation"),
    Case("conv", _conv(padding=1, groups=3), [In((2, 3, 4, 4)), In((3, 1, 3, 3))],
         _torch_conv(2, padding=1, groups=3), label="2d depthwise"),
    Case("conv", _conv(stride=(2, 1, 1), padding=(1, 0, 1)),
         [In((1, 2, 4, 3, 3)), In((2, 2, 2, 2, 3))],
         _torch_conv(3, stride=(2, 1, 1), padding=(1, 0, 1)), label="3d"),
    Case("conv", lambda x, w, b: wF.conv2d(x, w, b, padding="same"),
         [In((2, 4, 5)), In((3, 2, 2, 3)), In((3,))],
         F and (lambda x, w, b: F.conv2d(x, w, b, padding="same")),
         label="F.conv2d unbatched, bias, same with even kernel"),
    Case("conv", lambda x, w, b: wF.conv1d(x, w, b, stride=2, padding="valid"),
         [In((2, 2, 7)), In((3, 2, 3)), In((3,))],
         F and (lambda x, w, b: F.conv1d(x, w, b, stride=2, padding="valid")),
         label="F.conv1d valid"),
    Case("conv", lambda x, w: wF.conv3d(x, w, padding="same", dilation=(1, 2, 1)),
         [In((1, 1, 3, 4, 3)), In((2, 1, 2, 2, 1))],
         F and (lambda x, w: F.conv3d(x, w, padding="same", dilation=(1, 2, 1))),
         label="F.conv3d same dilated"),
    # conv_transpose: stride, output_padding, groups, dilation, padding beyond the kernel
    Case("conv_transpose", _transpose(stride=2, padding=1, output_padding=1),
         [In((2, 3, 4)), In((3, 2, 3))],
         _torch_transpose(1, stride=2, padding=1, output_padding=1), label="1d output_padding"),
    Case("conv_transpose", _transpose(stride=(2, 1), dilation=(1, 2), output_padding=(1, 0),
                                      groups=2),
         [In((1, 4, 3, 3)), In((4, 1, 2, 2))],
         _torch_transpose(2, stride=(2, 1), dilation=(1, 2), output_padding=(1, 0), groups=2),
         label="2d groups dilation output_padding"),
    Case("conv_transpose", _transpose(stride=2, padding=(0, 1, 0)),
         [In((1, 2, 2, 2, 2)), In((2, 2, 2, 2, 2))],
         _torch_transpose(3, stride=2, padding=(0, 1, 0)), label="3d"),
    Case("conv_transpose", _transpose(padding=2), [In((1, 2, 5)), In((2, 2, 2))],
         _torch_transpose(1, padding=2), label="1d padding beyond the kernel"),
    Case("conv_transpose", _transpose(dilation=2, output_padding=1),
         [In((1, 2, 4)), In((2, 3, 3))],
         _torch_transpose(1, dilation=2, output_padding=1),
         label="1d output_padding >= stride"),
    Case("conv_transpose",
         lambda y, w, b: wF.conv_transpose2d(y, w, b, stride=2, padding=1, output_padding=1),
         [In((2, 3, 3)), In((2, 3, 3, 2)), In((3,))],
         F and (lambda y, w, b: F.conv_transpose2d(y, w, b, stride=2, padding=1,
                                                   output_padding=1)),
         label="F.conv_transpose2d unbatched, bias"),
    # conv_weight: the weight gradient, also when the gradient covers only the first outputs
    Case("conv_weight", _weight((3, 3), stride=2), [In((2, 2, 5, 5)), In((2, 3, 2, 2))],
         _torch_weight(2, (3, 3), stride=2), label="2d stride 2"),
    Case("conv_weight", _weight((3,), padding=1, stride=2, groups=2),
         [In((1, 4, 7)), In((1, 2, 4))],
         _torch_weight(1, (3,), padding=1, stride=2, groups=2), label="1d groups 2"),
    Case("conv_weight", _weight((2, 2, 2), dilation=(1, 2, 1)),
         [In((1, 2, 3, 4, 3)), In((1, 2, 2, 2, 2))],
         _torch_weight(3, (2, 2, 2), dilation=(1, 2, 1)), label="3d dilated"),
    Case("conv_weight", _weight((3,), padding=((1, 0),), stride=(2,), groups=2),
         [In((1, 4, 7)), In((1, 2, 2))],
         ref=_weight_by_hand((3,), (2,), ((1, 0),), 2),
         label="1d gradient over the first outputs only, asymmetric padding"),
]
