"""``wengert.optim``: optimizers (each a small class over a pure, in-place update function
whose docstring holds its equations) and ``wengert.optim.lr_scheduler``. See docs/nn.md."""
from . import lr_scheduler
from .adadelta import Adadelta, adadelta
from .adagrad import Adagrad, adagrad
from .adam import Adam, AdamW, adam
from .adamax import Adamax, adamax
from .asgd import ASGD, asgd
from .lbfgs import LBFGS, lbfgs_direction, strong_wolfe
from .nadam import NAdam, nadam
from .optimizer import Optimizer
from .radam import RAdam, radam
from .rmsprop import RMSprop, rmsprop
from .rprop import Rprop, rprop
from .sgd import SGD, sgd
from .sparse_adam import SparseAdam, sparse_adam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "SparseAdam",
           "Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD", "LBFGS",
           "lr_scheduler", "sgd", "adam", "rmsprop", "adagrad", "sparse_adam",
           "adamax", "nadam", "radam", "adadelta", "rprop", "asgd", "lbfgs_direction",
           "strong_wolfe"]
