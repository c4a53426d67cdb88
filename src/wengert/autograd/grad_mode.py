"""``wengert.autograd.grad_mode``: the grad modes under PyTorch's module name, and
``inference_mode``."""
from ..autodiff.grad_mode import _FixedMode, enable_grad, no_grad, set_grad_enabled

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode"]


class inference_mode(_FixedMode):
    """``torch.inference_mode(mode=True)``: context manager / decorator (also bare,
    ``@inference_mode``) that turns recording off, as :class:`no_grad`; ``mode=False`` turns it
    on inside, as PyTorch's does. PyTorch also makes the tensors created inside "inference
    tensors" that no later graph may record, and ignores ``enable_grad`` inside; here they
    are ordinary tensors and ``enable_grad`` records again."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # @inference_mode without a call
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = not mode
