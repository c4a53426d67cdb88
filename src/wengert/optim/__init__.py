"""``wengert.optim``: optimizers (each a small class over a pure, in-place update function
whose docstring holds its equations) and ``wengert.optim.lr_scheduler``. See docs/nn.md."""
from . import lr_scheduler
from .adagrad import Adagrad, adagrad
from .adam import Adam, AdamW, adam
from .optimizer import Optimizer
from .rmsprop import RMSprop, rmsprop
from .sgd import SGD, sgd
from .sparse_adam import SparseAdam, sparse_adam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "SparseAdam",
           "lr_scheduler", "sgd", "adam", "rmsprop", "adagrad", "sparse_adam"]
