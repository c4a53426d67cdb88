"""Running a model for its outputs only: eval mode, no graph."""
import contextlib

from ..autodiff.grad_mode import no_grad


@contextlib.contextmanager
def inference(model):
    """Eval mode (dropout off, batch norm on running statistics) and no graph recording for
    the block; the model's previous mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            yield
    finally:
        model.train(was_training)


def predict(model, *inputs):
    """``model(*inputs)`` under :func:`inference`."""
    with inference(model):
        return model(*inputs)
