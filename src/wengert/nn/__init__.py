"""``wengert.nn``: modules, layers, activations, losses and initialisation, with PyTorch's
names. ``wengert.nn.functional`` holds the stateless functions, ``wengert.nn.init`` the
initialisers, ``wengert.nn.utils`` gradient clipping. See docs/nn.md."""
from . import functional, init, utils
from .activation import (ACTIVATIONS, ELU, GELU, LeakyReLU, LogSoftmax, Maxout, ReLU, SiLU,
                         Sigmoid, Softmax, Softplus, Tanh, get_activation)
from .containers import ModuleDict, ModuleList, Sequential
from .errors import StateDictError
from .layers import Dropout, Embedding, Flatten, Identity, Linear
from .loss_modules import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss,
                           L1Loss, MSELoss, NLLLoss, SmoothL1Loss)
from .mlp import MLP
from .module import Module, Parameter
from .normalization import BatchNorm1d, LayerNorm

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
           "ModuleDict", "Linear", "Embedding", "Dropout", "Flatten", "Identity", "LayerNorm",
           "BatchNorm1d", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU",
           "Softplus", "Maxout", "Softmax", "LogSoftmax", "MLP", "ACTIVATIONS", "get_activation",
           "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "StateDictError"]
