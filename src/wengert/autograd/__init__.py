"""PyTorch-style ``wengert.autograd``: ``grad``, ``backward``, the forward-mode API, custom
``Function``s, the gradient checkers and the grad and anomaly modes."""
from ..autodiff.anomaly import detect_anomaly, is_anomaly_enabled
from ..autodiff.engine import grad
from ..autodiff.forward import dual_level, make_dual, unpack_dual
from ..autodiff.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .anomaly_mode import set_detect_anomaly
from .function import Function
from .grad_mode import inference_mode
from .gradcheck import gradcheck, gradgradcheck


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Backpropagate from several outputs at once (their gradients add up in the leaves).
    ``grad_tensors``: one gradient per tensor (None for a scalar one), or one gradient (a
    tensor or an array) for a single tensor."""
    from ..autodiff.engine import run_backward
    from ..errors import ArgumentError
    from ..tensor import Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]  # an array is one gradient, not one per row
    if len(grad_tensors) != len(tensors):
        # zip would drop the tensors without a gradient, and their part of every leaf's .grad
        raise ArgumentError(f"autograd.backward: {len(tensors)} tensors but "
                            f"{len(grad_tensors)} grad_tensors; give one per tensor (None for "
                            "a scalar one)")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, list(grad_tensors), retain_graph, create_graph)


class forward_ad:
    """``wengert.autograd.forward_ad.dual_level / make_dual / unpack_dual`` (PyTorch names)."""
    dual_level = dual_level
    make_dual = staticmethod(make_dual)
    unpack_dual = staticmethod(unpack_dual)


__all__ = ["grad", "backward", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "inference_mode", "detect_anomaly", "set_detect_anomaly",
           "is_anomaly_enabled", "forward_ad", "dual_level", "make_dual", "unpack_dual",
           "Function", "gradcheck", "gradgradcheck"]
