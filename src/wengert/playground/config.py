"""What a Playground session may be set to: the choices, the numeric limits, the defaults,
and :func:`validate`, which turns untrusted JSON into a full, checked config.

Everything a request can name is looked up in the fixed tables here (never evaluated), and
every number is bounded, so no request can run code or make a session large."""
import math

from ..errors import ArgumentError

#: Points in every data set (train and test together); fixed so memory stays bounded.
N_POINTS = 500

DATASETS = ["circle", "xor", "gaussian", "spiral", "moons"]
FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]
#: Page name -> wengert activation name ("linear" is wengert's "identity").
ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "identity",
               "leaky_relu": "leaky_relu", "elu": "elu"}
OPTIMIZERS = ["sgd", "momentum", "adam"]
REGULARIZATIONS = ["none", "l1", "l2"]

#: Inclusive bounds. hidden_layers and neurons bound the "hidden" list's length and items.
LIMITS = {"hidden_layers": [0, 6], "neurons": [1, 8], "batch_size": [1, 100],
          "learning_rate": [1e-5, 10], "noise": [0, 50], "train_fraction": [0.1, 0.9],
          "regularization_rate": [0, 10], "seed": [0, 2147483647]}

#: A config that visibly learns the default data set within a second or two.
DEFAULTS = {"dataset": "circle", "noise": 0, "train_fraction": 0.5, "seed": 0,
            "features": ["x1", "x2"], "hidden": [4, 2], "activation": "tanh",
            "learning_rate": 0.03, "optimizer": "adam", "regularization": "none",
            "regularization_rate": 0, "batch_size": 10}

_CHOICES = {"dataset": DATASETS, "activation": list(ACTIVATIONS), "optimizer": OPTIMIZERS,
            "regularization": REGULARIZATIONS}
_NUMBERS = ["noise", "train_fraction", "learning_rate", "regularization_rate"]
_INTEGERS = ["seed", "batch_size"]


class ConfigError(ArgumentError):
    """A Playground request is invalid; ``field`` names the config key at fault (None when
    the request as a whole is wrong) and ``status`` is the HTTP status to answer with."""

    def __init__(self, message, field=None, status=400):
        super().__init__(message)
        self.field = field
        self.status = status


def options():
    """Everything the page needs to draw its controls: choices, limits and defaults."""
    return {"datasets": list(DATASETS), "features": list(FEATURES),
            "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
            "regularizations": list(REGULARIZATIONS),
            "limits": {k: list(v) for k, v in LIMITS.items()}, "defaults": default_config()}


def default_config():
    """A fresh copy of :data:`DEFAULTS` (lists copied too)."""
    return {k: list(v) if isinstance(v, list) else v for k, v in DEFAULTS.items()}


def validate(changes, base=None):
    """The full config made of ``base`` (default: :data:`DEFAULTS`) with ``changes`` (a dict
    from JSON) applied, each value checked. Raises :class:`ConfigError` naming the first bad
    field, its value and what is allowed; ``base`` is never modified."""
    if not isinstance(changes, dict):
        raise ConfigError(f"config: expected a JSON object of settings, got "
                          f"{_kind(changes)}", "config")
    unknown = [k for k in changes if k not in DEFAULTS]
    if unknown:
        raise ConfigError(f"unknown config key {_short(unknown[0])}; the keys are "
                          f"{', '.join(DEFAULTS)}", str(unknown[0]))
    config = dict(base if base is not None else default_config())
    for key, value in changes.items():
        config[key] = _check(key, value)
    return config


def _check(key, value):
    if key in _CHOICES:
        return _choice(key, value, _CHOICES[key])
    if key in _NUMBERS:
        return _number(key, value, *LIMITS[key])
    if key in _INTEGERS:
        return _integer(key, value, *LIMITS[key])
    if key == "features":
        return _features(value)
    return _hidden(value)


def _kind(value):
    """How a JSON value reads in an error message: its JSON type and a short repr."""
    names = {bool: "a boolean", str: "a string", list: "a list", dict: "an object",
             type(None): "null", int: "a number", float: "a number"}
    return f"{names.get(type(value), type(value).__name__)} ({_short(value)})"


def _short(value):
    """``repr(value)`` cut to 40 characters: a request may send a 60 KB string or a
    thousand-digit integer, and the error message should not repeat all of it."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _choice(key, value, choices):
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected one of {', '.join(choices)} as a string, got "
                          f"{_kind(value)}", key)
    if value not in choices:
        raise ConfigError(f"{key}: unknown choice {value[:40]!r}; choose one of "
                          f"{', '.join(choices)}", key)
    return value


def _number(key, value, low, high):
    # bool is an int subclass in Python; true/false are not numbers in a config
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: expected a number from {low} to {high}, got "
                          f"{_kind(value)}", key)
    # only floats can be NaN or infinite; math.isfinite would overflow on a huge JSON integer
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: {value} is not a finite number; allowed {low} to {high}",
                          key)
    if not low <= value <= high:
        raise ConfigError(f"{key}: {_short(value)} is out of range; allowed {low} to {high}",
                          key)
    return value


def _integer(key, value, low, high, what=None):
    name = what or key
    whole = isinstance(value, float) and math.isfinite(value) and value.is_integer()
    if isinstance(value, bool) or not (isinstance(value, int) or whole):
        raise ConfigError(f"{name}: expected a whole number from {low} to {high}, got "
                          f"{_kind(value)}", key)
    if not low <= value <= high:
        raise ConfigError(f"{name}: {_short(value)} is out of range; allowed {low} to {high}",
                          key)
    return int(value)


def _features(value):
    if not isinstance(value, list):
        raise ConfigError(f"features: expected a list of feature names from "
                          f"{', '.join(FEATURES)}, got {_kind(value)}", "features")
    if not value:
        raise ConfigError(f"features: the list is empty; pick at least one of "
                          f"{', '.join(FEATURES)}", "features")
    for name in value:
        if not isinstance(name, str) or name not in FEATURES:
            raise ConfigError(f"features: unknown feature {_short(name)}; choose from "
                              f"{', '.join(FEATURES)}", "features")
    if len(set(value)) != len(value):
        twice = next(n for n in value if value.count(n) > 1)
        raise ConfigError(f"features: {twice!r} is listed twice; each feature may appear "
                          "once", "features")
    return list(value)


def _hidden(value):
    low, high = LIMITS["hidden_layers"]
    if not isinstance(value, list):
        raise ConfigError(f"hidden: expected a list of {low} to {high} layer sizes, got "
                          f"{_kind(value)}", "hidden")
    if not low <= len(value) <= high:
        raise ConfigError(f"hidden: {len(value)} hidden layers is out of range; allowed "
                          f"{low} to {high}", "hidden")
    return [_integer("hidden", n, *LIMITS["neurons"], what=f"hidden[{i}] (neurons)")
            for i, n in enumerate(value)]
