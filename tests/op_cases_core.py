"""Op-table cases for the core primitives (element-wise, reductions, linear algebra, shape,
indexing, softmax). See op_table.py for the format."""
import numpy as np

import wengert as wg
from wengert.ops import elementwise as ew
from wengert.ops import index as ix
from wengert.ops import shape as sh
from op_table import Case, In

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = F = None

BINARY_SHAPES = [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 4)), ((), (3,)), ((2, 1, 3), (2, 3))]


def binary(prim, fn, tfn, kind_x="float", kind_y="float", **kw):
    return [Case(prim, fn, [In(a, kind_x), In(b, kind_y)], tfn, **kw) for a, b in BINARY_SHAPES]


def unary(prim, fn, tfn, kind="float", shapes=((3, 4), (), (5,)), **kw):
    if not isinstance(kind, In):
        return [Case(prim, fn, [In(s, kind)], tfn, **kw) for s in shapes]
    return [Case(prim, fn, [In(s, kind.kind, kind.low, kind.high)], tfn, **kw) for s in shapes]


T = torch
CASES = []
# --- element-wise ---------------------------------------------------------------------------
CASES += binary("add", wg.add, T and T.add)
CASES += binary("subtract", wg.subtract, T and T.sub)
CASES += binary("multiply", wg.multiply, T and T.mul)
CASES += binary("divide", wg.divide, T and T.div, kind_y="away0")
CASES += binary("power", wg.power, T and T.pow, kind_x="positive")
CASES += [Case("power", lambda x: x ** 3, [In((3, 4))], T and (lambda x: x ** 3), label="x**3"),
          Case("power", lambda x: 2.0 ** x, [In((4,))], T and (lambda x: 2.0 ** x), label="2**x"),
          Case("power", lambda x: x ** 0.5, [In((4,), "positive")], T and (lambda x: x ** 0.5),
               label="sqrt-pow")]
CASES += binary("maximum", wg.maximum, T and T.maximum)
CASES += binary("minimum", wg.minimum, T and T.minimum)
CASES += unary("negative", wg.negative, T and T.neg)
CASES += unary("exp", wg.exp, T and T.exp)
CASES += unary("log", wg.log, T and T.log, kind="positive")
CASES += unary("log1p", wg.log1p, T and T.log1p, kind=In((), "float", -0.5, 2.0))
CASES += unary("expm1", wg.expm1, T and T.expm1)
CASES += unary("sqrt", wg.sqrt, T and T.sqrt, kind="positive")
CASES += unary("square", wg.square, T and T.square)
CASES += unary("reciprocal", wg.reciprocal, T and T.reciprocal, kind="away0")
CASES += unary("abs", wg.abs, T and T.abs, kind="away0")
CASES += unary("sin", wg.sin, T and T.sin)
CASES += unary("cos", wg.cos, T and T.cos)
CASES += unary("tan", wg.tan, T and T.tan, kind=In((), "float", -1.2, 1.2))
CASES += unary("tanh", wg.tanh, T and T.tanh)
CASES += unary("sigmoid", wg.sigmoid, T and T.sigmoid, kind=In((), "float", -6, 6))
CASES += unary("relu", wg.relu, T and T.relu, kind="away0")
CASES += unary("leaky_relu", lambda x: wg.leaky_relu(x, negative_slope=0.2), F and
               (lambda x: F.leaky_relu(x, 0.2)), kind="away0")
CASES += unary("elu", lambda x: wg.elu(x, alpha=1.5), F and (lambda x: F.elu(x, 1.5)),
               kind="away0")
CASES += unary("softplus", wg.softplus, F and F.softplus, kind=In((), "float", -8, 8))
CASES += unary("erf", wg.erf, T and T.erf)
CASES += unary("clip", lambda x: wg.clip(x, a_min=-0.5, a_max=0.7),
               T and (lambda x: T.clamp(x, -0.5, 0.7)))
# tensor bounds (broadcasting, differentiable; the second pair has places where a_min > a_max)
CASES += [Case("clip", lambda x, lo, hi: wg.clip(x, lo, hi), [In((3, 4)), lo, hi],
               T and (lambda x, lo, hi: T.clamp(x, lo, hi)), label=label)
          for lo, hi, label in [(In((3, 4), low=-1, high=0), In((4,), low=0, high=1), "tensor bounds"),
                                (In((3, 4), low=-1, high=1), In((4,), low=-1, high=1), "crossing")]]
CASES += [Case("where", wg.where, [In(s, "bool"), In(s), In(s2)],
               T and (lambda c, x, y: T.where(c, x, y)))
          for s, s2 in [((3, 4), (3, 4)), ((3, 4), (4,))]]
CASES += [Case("astype", lambda x: ew.astype(x, dtype=np.float64) * 2, [In((3,))],
               T and (lambda x: x.to(T.float64) * 2))]
for name, t_name in [("sign", "sign"), ("floor", "floor"), ("ceil", "ceil"), ("round", "round"),
                     ("isnan", "isnan"), ("isfinite", "isfinite"), ("isinf", "isinf")]:
    CASES.append(Case(name, getattr(wg, name), [In((3, 4), low=-3, high=3)],
                      T and getattr(T, t_name)))
for name, t_name in [("equal", "eq"), ("not_equal", "ne"), ("less", "lt"),
                     ("less_equal", "le"), ("greater", "gt"), ("greater_equal", "ge")]:
    CASES.append(Case(name, getattr(wg, name), [In((3, 4), "int", 0, 3), In((4,), "int", 0, 3)],
                      T and getattr(T, t_name)))
for name, t_name in [("logical_and", "logical_and"), ("logical_or", "logical_or")]:
    CASES.append(Case(name, getattr(wg, name), [In((3, 4), "bool"), In((4,), "bool")],
                      T and getattr(T, t_name)))
CASES.append(Case("logical_not", wg.logical_not, [In((5,), "bool")], T and T.logical_not))
CASES.append(Case("cast", lambda x: ew.cast(x, dtype=np.int64), [In((5,), low=-3, high=3)],
                  T and (lambda x: x.to(T.int64))))

# --- reductions -----------------------------------------------------------------------------
AXES = [(None, False), (0, False), ((0, 2), False), (-1, True), ((1,), True)]


def reduction(prim, fn, tfn, kind="float", shape=(2, 3, 4)):
    out = []
    for axis, keep in AXES:
        t_axis = tuple(range(len(shape))) if axis is None else axis
        out.append(Case(prim, lambda x, a=axis, k=keep: fn(x, axis=a, keepdims=k), [In(shape, kind)],
                        tfn and (lambda x, a=t_axis, k=keep: tfn(x, a, k)),
                        label=f"axis={axis},keepdims={keep}"))
    return out


CASES += reduction("sum", wg.sum, T and (lambda x, a, k: T.sum(x, dim=a, keepdim=k)))
CASES += reduction("mean", wg.mean, T and (lambda x, a, k: T.mean(x, dim=a, keepdim=k)))
CASES += reduction("max", wg.max, T and (lambda x, a, k: T.amax(x, dim=a, keepdim=k)))
CASES += reduction("min", wg.min, T and (lambda x, a, k: T.amin(x, dim=a, keepdim=k)))
CASES += reduction("prod", wg.prod, T and (lambda x, a, k: _torch_prod(x, a, k)), kind="away0")
CASES += reduction("var", wg.var, T and (lambda x, a, k: T.var(x, dim=a, keepdim=k, correction=0)))
CASES += [Case("var", lambda x: wg.var(x, axis=1, ddof=1), [In((3, 4))],
               T and (lambda x: T.var(x, dim=1)), label="ddof=1")]
CASES += reduction("std", wg.std, T and (lambda x, a, k: T.std(x, dim=a, keepdim=k, correction=0)))
CASES += [Case("std", lambda x: wg.std(x, axis=1, ddof=1), [In((3, 4))],
               T and (lambda x: T.std(x, dim=1)), label="ddof=1")]
CASES += reduction("logsumexp", wg.logsumexp,
                   T and (lambda x, a, k: T.logsumexp(x, dim=a, keepdim=k)))
CASES += reduction("norm", wg.norm,
                   T and (lambda x, a, k: T.linalg.vector_norm(x, dim=a, keepdim=k)))
for name in ("argmax", "argmin"):
    CASES.append(Case(name, lambda x, f=getattr(wg, name): f(x, axis=1), [In((3, 5))],
                      T and (lambda x, f=getattr(T, name): f(x, dim=1))))
CASES.append(Case("any", lambda x: wg.any(x, axis=0), [In((3, 4), "bool")],
                  T and (lambda x: T.any(x, dim=0))))
CASES.append(Case("all", lambda x: wg.all(x, axis=1), [In((3, 4), "bool")],
                  T and (lambda x: T.all(x, dim=1))))


def _torch_prod(x, axes, keep):
    for a in sorted([a % x.ndim for a in (axes if isinstance(axes, tuple) else (axes,))],
                    reverse=True):
        x = T.prod(x, dim=a, keepdim=keep)
    return x


# --- linear algebra -------------------------------------------------------------------------
for a, b in [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
             ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((4,), (2, 4, 3)), ((2, 2, 3), (3,))]:
    CASES.append(Case("matmul", wg.matmul, [In(a), In(b)], T and T.matmul))
for spec, shapes in [("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]), ("ii", [(3, 3)]),
                     ("ij->", [(2, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
                     ("...ij,...jk", [(2, 2, 3), (3, 2)]), ("i,i", [(4,), (4,)]),
                     ("ij->j", [(3, 2)]), ("i,j->ij", [(3,), (2,)]), ("iij->j", [(2, 2, 3)])]:
    CASES.append(Case("einsum", lambda *xs, s=spec: wg.einsum(s, *xs), [In(s_) for s_ in shapes],
                      T and (lambda *xs, s=spec: T.einsum(s, *xs)), label=spec))

# --- shape ----------------------------------------------------------------------------------
CASES += [
    Case("reshape", lambda x: wg.reshape(x, shape=(4, -1)), [In((2, 3, 4))],
         T and (lambda x: x.reshape(4, -1))),
    Case("transpose", lambda x: wg.transpose(x), [In((2, 3, 4))], T and (lambda x: x.permute(2, 1, 0))),
    Case("transpose", lambda x: wg.transpose(x, axes=(1, 2, 0)), [In((2, 3, 4))],
         T and (lambda x: x.permute(1, 2, 0)), label="axes=(1,2,0)"),
    Case("swapaxes", lambda x: wg.swapaxes(x, axis1=0, axis2=2), [In((2, 3, 4))],
         T and (lambda x: x.transpose(0, 2))),
    Case("squeeze", lambda x: wg.squeeze(x, axis=1), [In((3, 1, 2))], T and (lambda x: x.squeeze(1))),
    Case("squeeze", lambda x: wg.squeeze(x), [In((1, 3, 1))], T and (lambda x: x.squeeze()),
         label="all"),
    Case("expand_dims", lambda x: wg.expand_dims(x, axis=1), [In((3, 2))],
         T and (lambda x: x.unsqueeze(1))),
    Case("broadcast_to", lambda x: wg.broadcast_to(x, shape=(2, 3, 4)), [In((3, 1))],
         T and (lambda x: x.expand(2, 3, 4))),
    Case("sum_to", lambda x: sh.sum_to(x, shape=(3, 1)), [In((2, 3, 4))],
         T and (lambda x: x.sum(dim=(0, 2)).reshape(3, 1))),
    Case("concatenate", lambda x, y: wg.concatenate([x, y], axis=1), [In((2, 3)), In((2, 2))],
         T and (lambda x, y: T.cat([x, y], dim=1))),
    Case("concatenate", lambda x, y, z: wg.stack([x, y, z], axis=0), [In((3,)), In((3,)), In((3,))],
         T and (lambda x, y, z: T.stack([x, y, z], dim=0)), label="stack"),
    Case("pad", lambda x: wg.pad(x, pad_width=((1, 0), (2, 1))), [In((2, 3))],
         T and (lambda x: F.pad(x, (2, 1, 1, 0)))),
]
# the non-constant pad modes (NumPy's names; PyTorch's in _TORCH_PAD): the last two axes of a
# (C, H, W) input as PyTorch pads them; the first axis of a matrix (PyTorch pads it as the
# second-to-last of a (1, H, W)); the widest pad each mode takes; and the pad squared, whose
# second derivative runs through the VJP rule's own ops (getitem, sum, constant pad, add)
_TORCH_PAD = {"reflect": "reflect", "edge": "replicate", "wrap": "circular", "symmetric": None}


def _pad_cases(mode):
    tm = _TORCH_PAD[mode]

    def case(fn, shape, tfn, ref, label):
        return Case("pad", fn, [In(shape)], T and tm and tfn,
                    ref=None if tm else ref, label=f"{mode}-{label}")

    widest = {"reflect": 2, "edge": 5, "wrap": 3, "symmetric": 3}[mode]  # the last axis is 3
    return [
        case(lambda x: wg.pad(x, pad_width=((0, 0), (1, 2), (2, 1)), mode=mode), (2, 3, 4),
             lambda x: F.pad(x, (2, 1, 1, 2), mode=tm),
             lambda x: np.pad(x, ((0, 0), (1, 2), (2, 1)), mode=mode), "last-two"),
        case(lambda x: wg.pad(x, pad_width=((2, 1), (0, 1)), mode=mode), (3, 4),
             lambda x: F.pad(x[None], (0, 1, 2, 1), mode=tm)[0],
             lambda x: np.pad(x, ((2, 1), (0, 1)), mode=mode), "first-axis"),
        case(lambda x: wg.pad(x, pad_width=((0, 0), (widest, widest)), mode=mode), (2, 3),
             lambda x: F.pad(x, (widest, widest), mode=tm),
             lambda x: np.pad(x, ((0, 0), (widest, widest)), mode=mode), "widest"),
        case(lambda x: wg.pad(x, pad_width=((0, 0), (2, 1), (1, 2)), mode=mode) ** 2,
             (2, 3, 3), lambda x: F.pad(x, (1, 2, 2, 1), mode=tm) ** 2,
             lambda x: np.pad(x, ((0, 0), (2, 1), (1, 2)), mode=mode) ** 2, "squared"),
    ]


CASES += [c for mode in _TORCH_PAD for c in _pad_cases(mode)]
CASES += [
    Case("alias", lambda x: sh.alias(x) * 1, [In((3,))], T and (lambda x: x * 1)),
    Case("copy", lambda x: x.clone(), [In((3, 2))], T and (lambda x: x.clone())),
]

# --- indexing -------------------------------------------------------------------------------
_rep = np.array([0, 2, 2, 1, 0])
_mask = np.array([True, False, True, True])
CASES += [
    Case("getitem", lambda x: x[1:, ::2], [In((3, 4))], T and (lambda x: x[1:, ::2]), label="slices"),
    Case("getitem", lambda x: x[1], [In((3, 4))], T and (lambda x: x[1]), label="int"),
    Case("getitem", lambda x: x[None, ..., 0], [In((3, 4))], T and (lambda x: x[None, ..., 0]),
         label="None-Ellipsis"),
    Case("getitem", lambda x: x[_rep], [In((3, 4))], T and (lambda x: x[T.as_tensor(_rep)]),
         label="repeated-ints"),
    Case("getitem", lambda x: x[:, _mask], [In((3, 4))], T and (lambda x: x[:, T.as_tensor(_mask)]),
         label="bool-mask"),
    Case("getitem", lambda x: x[_rep, _rep % 3], [In((3, 4))],
         T and (lambda x: x[T.as_tensor(_rep), T.as_tensor(_rep % 3)]), label="pairs"),
    Case("getitem", lambda x, i: wg.take_along_axis(x, i, axis=1), [In((3, 4)), In((3, 2), "int", 0, 4)],
         T and (lambda x, i: T.take_along_dim(x, i, dim=1)), label="take_along_axis"),
    Case("scatter_add", lambda g: ix.scatter_add(g, key=(_rep,), shape=(3, 4)), [In((5, 4))],
         T and (lambda g: T.zeros(3, 4, dtype=T.float64).index_put((T.as_tensor(_rep),), g, accumulate=True))),
    Case("index_put", lambda x, v: ix.index_put(x, v, key=(slice(1, 3),)), [In((4, 3)), In((3,))],
         T and (lambda x, v: x.index_put((T.arange(1, 3),), v))),
    Case("one_hot", lambda i: wg.one_hot(i, num_classes=5), [In((4,), "int", 0, 5)],
         F and (lambda i: F.one_hot(i, 5).to(T.float32))),
    Case("softmax", lambda x: wg.softmax(x, axis=-1), [In((3, 4))], T and (lambda x: T.softmax(x, -1))),
    Case("softmax", lambda x: wg.softmax(x, axis=0), [In((3, 4))], T and (lambda x: T.softmax(x, 0)),
         label="axis0"),
    Case("log_softmax", lambda x: wg.log_softmax(x, axis=-1), [In((3, 4))],
         T and (lambda x: T.log_softmax(x, -1))),
    Case("log_softmax", lambda x: wg.log_softmax(x, axis=1), [In((2, 3, 2))],
         T and (lambda x: T.log_softmax(x, 1)), label="axis1"),
]
