"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: construct over an optimizer,
call ``step()`` once per epoch (or per iteration) after ``optimizer.step()``.

Each schedule is a closed form of the base rates and the number of ``step()`` calls t
(``last_epoch``), applied to every parameter group; ``state_dict``/``load_state_dict`` save
and restore t, the base rates and whatever else the schedule counts. ReduceLROnPlateau,
which follows a metric, and the combinations SequentialLR and ChainedScheduler are the
exceptions. The files: ``base`` (LRScheduler), ``decay`` (factors of the base rate),
``cycles`` (warm restarts, cyclical and one-cycle rates), ``plateau``, ``combine``."""
from .base import LRScheduler
from .combine import ChainedScheduler, SequentialLR
from .cycles import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .decay import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR,
                    MultiplicativeLR, MultiStepLR, PolynomialLR, RobbinsMonroLR, StepLR)
from .plateau import ReduceLROnPlateau

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
           "PolynomialLR", "CosineAnnealingLR", "LambdaLR", "MultiplicativeLR",
           "RobbinsMonroLR", "CosineAnnealingWarmRestarts", "CyclicLR", "OneCycleLR",
           "ReduceLROnPlateau", "SequentialLR", "ChainedScheduler"]
