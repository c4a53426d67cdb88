"""Op-table cases for the cumulative and structural ops (ops/cumulative.py, ops/structure.py)
and the products written with matmul (mm, bmm, inner, tensordot, kron). Composites are listed
under the primitive they are built on, labelled with their own name. See op_table.py."""
from dataclasses import dataclass

import numpy as np

import wengert as wg
from op_table import Case, In

try:
    import torch
except ImportError:
    torch = None

T = torch
CASES = []


@dataclass
class WithZeros(In):
    """Uniform floats with about a third of the entries exactly 0 (cumprod's hard case)."""

    def sample(self, rng):
        x = rng.uniform(self.low, self.high, self.shape)
        return np.where(rng.random(self.shape) < 0.35, 0.0, x)


# --- cumulative -----------------------------------------------------------------------------
for shape_, axis in [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), -2),
                     ((), 0)]:
    label = f"{shape_},axis={axis}"
    CASES.append(Case("cumsum", lambda x, a=axis: wg.cumsum(x, axis=a), [In(shape_)],
                      T and (lambda x, a=axis: T.cumsum(x, a)), label=label))
    CASES.append(Case("cumprod", lambda x, a=axis: wg.cumprod(x, axis=a), [In(shape_, "away0")],
                      T and (lambda x, a=axis: T.cumprod(x, a)), label=label))
    CASES.append(Case("logcumsumexp", lambda x, a=axis: wg.logcumsumexp(x, axis=a), [In(shape_)],
                      T and (lambda x, a=axis: T.logcumsumexp(x, a)), label=label))
CASES += [
    Case("cumsum", lambda x: wg.cumsum(x), [In((2, 3))], T and (lambda x: T.cumsum(x.reshape(-1), 0)),
         label="axis=None"),
    Case("cumprod", lambda x: wg.cumprod(x, axis=1), [WithZeros((4, 6))],
         T and (lambda x: T.cumprod(x, 1)), label="exact zeros"),
    Case("cumprod", lambda x: wg.cumprod(x, axis=0), [WithZeros((8, 2), low=0.5, high=2.0)],
         T and (lambda x: T.cumprod(x, 0)), label="exact zeros, axis 0"),
    # a wide range: the early entries are far below the later ones (a naive exp underflows)
    Case("logcumsumexp", lambda x: wg.logcumsumexp(x * 300, axis=-1), [In((3, 5))],
         T and (lambda x: T.logcumsumexp(x * 300, -1)), label="wide range"),
    Case("getitem", lambda x: wg.cummax(x, axis=1).values, [In((3, 5))],
         T and (lambda x: T.cummax(x, 1).values), label="cummax"),
    Case("getitem", lambda x: wg.cummin(x, axis=-1).values, [In((2, 3, 4))],
         T and (lambda x: T.cummin(x, -1).values), label="cummin"),
    Case("getitem", lambda x: x.cummax(0).values, [In((4, 3))],
         T and (lambda x: x.cummax(0).values), label="Tensor.cummax(0)"),
]

# --- roll, tile, repeat ---------------------------------------------------------------------
CASES += [
    Case("roll", lambda x: wg.roll(x, shift=2, axis=1), [In((3, 5))],
         T and (lambda x: T.roll(x, 2, 1))),
    Case("roll", lambda x: wg.roll(x, shift=-3), [In((3, 4))], T and (lambda x: T.roll(x, -3)),
         label="flattened"),
    Case("roll", lambda x: wg.roll(x, shift=(1, -1), axis=(0, -1)), [In((2, 3, 4))],
         T and (lambda x: T.roll(x, (1, -1), (0, -1))), label="two axes"),
    Case("broadcast_to", lambda x: wg.tile(x, (2, 3)), [In((2, 3))],
         T and (lambda x: T.tile(x, (2, 3))), label="tile"),
    Case("broadcast_to", lambda x: wg.tile(x, (2, 1, 2)), [In((3,))],
         T and (lambda x: T.tile(x, (2, 1, 2))), label="tile new axes"),
    Case("broadcast_to", lambda x: wg.tile(x, 2), [In((2, 3))],
         T and (lambda x: T.tile(x, (2,))), label="tile short reps"),
    Case("broadcast_to", lambda x: x.repeat(2, 1, 3), [In((2, 3))],
         T and (lambda x: x.repeat(2, 1, 3)), label="Tensor.repeat"),
    Case("broadcast_to", lambda x: wg.repeat_interleave(x, 3, axis=1), [In((2, 3))],
         T and (lambda x: T.repeat_interleave(x, 3, dim=1)), label="repeat_interleave int"),
    Case("broadcast_to", lambda x: wg.repeat_interleave(x, 2), [In((2, 2))],
         T and (lambda x: T.repeat_interleave(x, 2)), label="repeat_interleave flat"),
    Case("getitem", lambda x: wg.repeat_interleave(x, np.array([2, 0, 1]), axis=-2),
         [In((2, 3, 2))],
         T and (lambda x: T.repeat_interleave(x, T.tensor([2, 0, 1]), dim=-2)),
         label="repeat_interleave counts"),
]

# --- triangles and diagonals ----------------------------------------------------------------
for k in (0, 1, -1):
    CASES.append(Case("where", lambda x, k=k: wg.tril(x, k), [In((4, 3))],
                      T and (lambda x, k=k: T.tril(x, k)), label=f"tril k={k}"))
    CASES.append(Case("where", lambda x, k=k: wg.triu(x, k), [In((2, 3, 4))],
                      T and (lambda x, k=k: T.triu(x, k)), label=f"triu k={k}, batched"))
for shape_, offset, a1, a2 in [((3, 3), 0, 0, 1), ((3, 5), 1, 0, 1), ((4, 3), -2, 0, 1),
                               ((2, 3, 4), 0, -1, 0), ((2, 3, 4), 1, 1, 2),
                               ((3, 2, 3), -1, 2, 0)]:
    CASES.append(Case("diagonal", lambda x, o=offset, a=a1, b=a2: wg.diagonal(x, o, a, b),
                      [In(shape_)], T and (lambda x, o=offset, a=a1, b=a2: T.diagonal(x, o, a, b)),
                      label=f"{shape_},offset={offset},axes={a1},{a2}"))
for shape_, offset, a1, a2 in [((3,), 0, -2, -1), ((2, 3), 1, -2, -1), ((2, 3), -1, 0, 2),
                               ((2, 3), 2, 2, 1)]:
    CASES.append(Case("diag_embed", lambda x, o=offset, a=a1, b=a2: wg.diag_embed(x, o, a, b),
                      [In(shape_)], T and (lambda x, o=offset, a=a1, b=a2: T.diag_embed(x, o, a, b)),
                      label=f"{shape_},offset={offset},axes={a1},{a2}"))
CASES += [
    Case("diag_embed", lambda x: wg.diag(x, 1), [In((3,))], T and (lambda x: T.diag(x, 1)),
         label="diag of a vector"),
    Case("diagonal", lambda x: wg.diag(x, -1), [In((3, 4))], T and (lambda x: T.diag(x, -1)),
         label="diag of a matrix"),
    Case("diagonal", lambda x: x.diagonal(0, -2, -1), [In((2, 3, 3))],
         T and (lambda x: x.diagonal(0, -2, -1)), label="Tensor.diagonal"),
]

# --- diff, flip, rot90, meshgrid ------------------------------------------------------------
CASES += [
    Case("subtract", lambda x: wg.diff(x), [In((5,))], T and (lambda x: T.diff(x)), label="diff"),
    Case("subtract", lambda x: wg.diff(x, n=2, axis=0), [In((4, 3))],
         T and (lambda x: T.diff(x, n=2, dim=0)), label="diff n=2 axis=0"),
    Case("subtract", lambda x, p, a: wg.diff(x, axis=-1, prepend=p, append=a),
         [In((2, 3)), In((2, 1)), In((2, 2))],
         T and (lambda x, p, a: T.diff(x, dim=-1, prepend=p, append=a)), label="diff pre/append"),
    Case("getitem", lambda x: wg.flip(x, axis=(0, 2)), [In((2, 3, 4))],
         T and (lambda x: T.flip(x, (0, 2))), label="flip"),
    Case("getitem", lambda x: wg.flip(x), [In((2, 3))], T and (lambda x: T.flip(x, (0, 1))),
         label="flip all"),
] + [Case("getitem", lambda x, k=k: wg.rot90(x, k, axes=(0, -1)), [In((2, 3, 4))],
          T and (lambda x, k=k: T.rot90(x, k, (0, -1))), label=f"rot90 k={k}")
     for k in (1, 2, 3, -1)] + [
    Case("broadcast_to", lambda x, y, z: wg.meshgrid(x, y, z, indexing="ij")[1], [In((2,)), In((3,)), In((4,))],
         T and (lambda x, y, z: T.meshgrid(x, y, z, indexing="ij")[1]), label="meshgrid ij"),
    Case("broadcast_to", lambda x, y: wg.meshgrid(x, y)[0] * wg.meshgrid(x, y)[1],
         [In((2,)), In((3,))],
         T and (lambda x, y: T.meshgrid(x, y, indexing="xy")[0] * T.meshgrid(x, y, indexing="xy")[1]),
         label="meshgrid xy"),
]

# --- products -------------------------------------------------------------------------------
CASES += [
    Case("concatenate", lambda a, b: wg.cross(a, b), [In((4, 3)), In((3,))],
         T and (lambda a, b: T.linalg.cross(a, b.expand(4, 3))), label="cross"),
    Case("concatenate", lambda a, b: wg.cross(a, b, axis=0), [In((3, 2)), In((3, 2))],
         T and (lambda a, b: T.cross(a, b, dim=0)), label="cross axis 0"),
    Case("multiply", lambda a, b: wg.kron(a, b), [In((2, 3)), In((2, 2))],
         T and T.kron, label="kron"),
    Case("multiply", lambda a, b: wg.kron(a, b), [In((3,)), In((2, 2))],
         T and T.kron, label="kron mixed dims"),
    Case("matmul", lambda a, b: wg.inner(a, b), [In((2, 3)), In((4, 3))], T and T.inner,
         label="inner"),
    Case("matmul", lambda a, b: wg.inner(a, b), [In((3,)), In((2, 2, 3))], T and T.inner,
         label="inner 1-D"),
    Case("multiply", lambda a, b: wg.inner(a, b), [In(()), In((3,))], T and T.inner,
         label="inner 0-d"),
    Case("matmul", lambda a, b: wg.tensordot(a, b), [In((2, 3, 4)), In((3, 4, 2))],
         T and (lambda a, b: T.tensordot(a, b)), label="tensordot"),
    Case("matmul", lambda a, b: wg.tensordot(a, b, axes=([0, 2], [2, 0])),
         [In((2, 3, 4)), In((4, 5, 2))],
         T and (lambda a, b: T.tensordot(a, b, dims=([0, 2], [2, 0]))), label="tensordot axes"),
    Case("matmul", lambda a, b: wg.tensordot(a, b, axes=0), [In((2,)), In((3,))],
         T and (lambda a, b: T.tensordot(a, b, dims=0)), label="tensordot outer"),
    Case("matmul", lambda a, b: wg.mm(a, b), [In((2, 3)), In((3, 4))], T and T.mm, label="mm"),
    Case("matmul", lambda a, b: wg.bmm(a, b), [In((2, 2, 3)), In((2, 3, 4))], T and T.bmm,
         label="bmm"),
]
