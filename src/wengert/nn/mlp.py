"""``MLP``: the multilayer perceptron of the lectures as one line."""
from .activation import get_activation
from .containers import Sequential
from ..errors import ArgumentError
from .layers import Dropout, Linear


class MLP(Sequential):
    """``MLP([d_in, h1, ..., d_out], activation="relu", dropout=0.0, output=None)``:
    Linear layers between consecutive sizes, ``activation`` (a name or a callable returning
    a module) after every layer but the last, ``Dropout(dropout)`` after each activation
    when ``dropout > 0``, and the ``output`` activation (e.g. "sigmoid", "softmax"; None for
    raw logits) at the end. It is a ``Sequential``, so layers are ``mlp[0]``, ``mlp[2]``...
    and state-dict keys are "0.weight", "0.bias", ..."""

    def __init__(self, sizes, activation="relu", dropout=0.0, output=None, dtype=None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ArgumentError(f"MLP: sizes={sizes} needs at least an input and an output size")
        if not 0 <= dropout < 1:
            raise ArgumentError(f"MLP: dropout={dropout} must be in [0, 1)")
        get_activation(activation)  # a bad name is an error even with no hidden layer
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(get_activation(activation))
                if dropout:
                    layers.append(Dropout(dropout))
        if output is not None:
            layers.append(get_activation(output))
        super().__init__(*layers)
