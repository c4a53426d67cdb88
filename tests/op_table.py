"""The op test table's vocabulary: a :class:`Case` exercises one registered primitive on
inputs described by :class:`In`. ``tests/test_op_table.py`` runs every case in every
``tests/op_cases_*.py`` module (each defines ``CASES``) through the same checks:

* forward value against PyTorch (when installed) or a NumPy reference;
* float64 reverse-mode gradient against central differences;
* forward-mode (JVP) tangent against a numerical directional derivative;
* second order: the gradient of <grad, v> against central differences of the gradient;
* gradients against PyTorch's.

A registered primitive that no case covers fails the suite.
"""
from dataclasses import dataclass
from typing import Callable, Optional



@dataclass
class In:
    """One input: ``kind`` is "float" (uniform in [low, high]), "away0" (|x| in [0.2, high]
    with random sign, to stay off kinks), "positive" (in [low, high] with low > 0), "int"
    (integers in [low, high)) or "bool". ``diff`` inputs are differentiated."""
    shape: tuple
    kind: str = "float"
    low: float = -2.0
    high: float = 2.0
    diff: Optional[bool] = None

    def __post_init__(self):
        if self.diff is None:
            self.diff = self.kind in ("float", "away0", "positive")
        if self.kind == "positive" and self.low <= 0:
            self.low = 0.5

    def sample(self, rng):
        if self.kind == "float" or self.kind == "positive":
            return rng.uniform(self.low, self.high, self.shape)
        if self.kind == "away0":
            mag = rng.uniform(0.2, self.high, self.shape)
            return mag * rng.choice([-1.0, 1.0], self.shape)
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high), self.shape)
        if self.kind == "bool":
            return rng.random(self.shape) < 0.5
        raise ValueError(self.kind)


@dataclass
class Case:
    """``fn(*tensors)`` applies the primitive ``prim``; ``torch(*torch_tensors)`` is the
    PyTorch oracle; ``ref(*arrays)`` a NumPy reference when there is no oracle."""
    prim: str
    fn: Callable
    inputs: list
    torch: Optional[Callable] = None
    ref: Optional[Callable] = None
    label: str = ""
    jvp: bool = True
    order2: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6

    @property
    def id(self):
        shapes = ",".join("x".join(map(str, i.shape)) or "0d" for i in self.inputs)
        return f"{self.prim}[{self.label or shapes}]"

    @property
    def differentiable(self):
        return any(i.diff for i in self.inputs)
