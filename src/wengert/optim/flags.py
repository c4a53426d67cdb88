"""PyTorch's implementation flags ``foreach``, ``capturable``, ``fused`` and
``differentiable``, which every optimizer takes where PyTorch's does (SparseAdam and LBFGS
take none).

``foreach`` picks between PyTorch's per-tensor loop and its multi-tensor kernels,
``fused`` its single-kernel CPU/GPU implementation (SGD, Adam, AdamW, Adagrad), and
``capturable`` lets a CUDA graph capture the step; none changes the update beyond rounding,
so all are accepted and kept in the parameter groups (PyTorch's state dicts hold them) but do
nothing here. PyTorch refuses ``capturable=True`` for CPU tensors when it steps (unless
``fused=True``); wengert, which has no graph capture, ignores it on every device. The
combinations PyTorch refuses are refused here too: ``fused=True`` with ``foreach=True``,
and ``fused=True`` for a sparse gradient.
``differentiable=True`` asks for a step that autograd records, to differentiate through the
update; wengert's steps write NumPy arrays in place without recording, so it is refused."""
from ..errors import ArgumentError


def refuse_differentiable(where, differentiable):
    """Raise an :class:`ArgumentError` for ``differentiable=True``."""
    if differentiable:
        raise ArgumentError(f"{where}: differentiable=True is not supported: wengert's "
                            "optimizer steps update the parameters' arrays in place without "
                            "recording a graph, so no gradient can flow through them. Hint: "
                            "to differentiate through an update, write it with wengert ops "
                            "on tensors (e.g. w - lr * g)")


def refuse_fused_with_foreach(where, fused, foreach):
    """Raise an :class:`ArgumentError` for ``fused=True`` with ``foreach=True``, which
    PyTorch refuses: they name two different implementations."""
    if fused and foreach:
        raise ArgumentError(f"{where}: fused=True and foreach=True cannot be combined (they "
                            "pick two different PyTorch kernels; PyTorch refuses both). "
                            "Hint: pass at most one of them")


def refuse_fused_sparse(where, fused):
    """Raise an :class:`ArgumentError` for a sparse gradient under ``fused=True``, which
    PyTorch's fused kernels refuse."""
    if fused:
        raise ArgumentError(f"{where}: fused=True does not take sparse gradients (from "
                            "Embedding(sparse=True)), as PyTorch's fused kernel does not. "
                            "Hint: leave fused=None for those parameters")
