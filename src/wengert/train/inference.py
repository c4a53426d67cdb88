"""Running a model for its outputs only: eval mode, no graph."""
import contextlib

from ..autodiff.grad_mode import no_grad


@contextlib.contextmanager
def inference(model):
    """Eval mode (dropout off, batch norm on running statistics) and no graph recording for
    the block; afterwards every module gets its own previous mode back, so a submodule kept
    in eval mode inside a training model (a frozen batch norm) stays so, as in Lightning."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training


def predict(model, *inputs):
    """``model(*inputs)`` under :func:`inference`."""
    with inference(model):
        return model(*inputs)
