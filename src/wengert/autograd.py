"""PyTorch-style ``wengert.autograd``: ``grad``, ``backward`` and the forward-mode API."""
from .autodiff.anomaly import detect_anomaly, is_anomaly_enabled
from .autodiff.engine import grad
from .autodiff.forward import dual_level, make_dual, unpack_dual
from .autodiff.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Backpropagate from several outputs at once (their gradients add up in the leaves)."""
    from .autodiff.engine import run_backward
    from .tensor import Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, list(grad_tensors), retain_graph, create_graph)


class forward_ad:
    """``wengert.autograd.forward_ad.dual_level / make_dual / unpack_dual`` (PyTorch names)."""
    dual_level = dual_level
    make_dual = staticmethod(make_dual)
    unpack_dual = staticmethod(unpack_dual)


__all__ = ["grad", "backward", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "forward_ad",
           "dual_level", "make_dual", "unpack_dual"]
