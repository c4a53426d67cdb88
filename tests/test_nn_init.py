"""nn.init: gains, the scales of Glorot and He initialisation, in-place filling without a
graph, and seeding."""
import math

import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
from wengert.nn import init


@pytest.mark.parametrize("name, param", [("linear", None), ("sigmoid", None), ("tanh", None),
                                         ("relu", None), ("leaky_relu", None),
                                         ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(torch_mod, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch_mod.nn.init.calculate_gain(name, param), rel=1e-15)


def test_calculate_gain_values():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 1.0) == 1.0
    with pytest.raises(ValueError, match="nonlinearity='swish'.*'tanh'"):
        init.calculate_gain("swish")


def _param(*shape):
    return nn.Parameter(np.zeros(shape, np.float64))


# (fan_in, fan_out) = (300, 200) for a (200, 300) weight, PyTorch's convention.
@pytest.mark.parametrize("fn, kwargs, std, bound", [
    (init.xavier_uniform_, {}, math.sqrt(2 / 500), math.sqrt(6 / 500)),
    (init.xavier_normal_, {"gain": 2.0}, 2 * math.sqrt(2 / 500), None),
    (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2 / 300), math.sqrt(6 / 300)),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200), None),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 300), 1 / math.sqrt(300)),
])
def test_initialisers_have_the_right_scale(fn, kwargs, std, bound):
    w = _param(200, 300)
    fn(w, generator=wg.Generator(0), **kwargs)
    assert w.data.mean() == pytest.approx(0, abs=0.05 * std)
    assert w.data.std() == pytest.approx(std, rel=0.02)
    if bound is not None:
        assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound


def test_fill_in_place_without_graph_and_seeded():
    w = _param(3, 4)
    data, version = w.data, w.version
    assert init.normal_(w, 1.0, 2.0, generator=wg.Generator(5)) is w
    assert w.data is data and w.version > version and w.is_leaf and w.requires_grad
    again = _param(3, 4)
    init.normal_(again, 1.0, 2.0, generator=wg.Generator(5))
    np.testing.assert_array_equal(w.data, again.data)
    init.uniform_(w, -1, 1)
    assert np.abs(w.data).max() <= 1
    assert (init.constant_(w, 0.25).data == 0.25).all()
    assert (init.zeros_(w).data == 0).all() and (init.ones_(w).data == 1).all()


def test_global_generator_makes_layers_reproducible():
    wg.manual_seed(11)
    a = nn.Linear(5, 3)
    wg.manual_seed(11)
    b = nn.Linear(5, 3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_fans_need_two_dims_and_a_known_mode():
    with pytest.raises(ValueError, match=r"at least 2 dims, got shape \(5,\)"):
        init.xavier_uniform_(_param(5))
    with pytest.raises(ValueError, match="mode='fan_avg'.*'fan_in', 'fan_out'"):
        init.kaiming_normal_(_param(2, 2), mode="fan_avg")


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.kaiming_normal_])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
def test_kaiming_of_an_empty_tensor_is_a_no_op(torch_mod, fn, mode):
    # A zero fan used to divide by zero, so Linear(0, 3) could not be built; PyTorch
    # returns the empty tensor unchanged (with a warning).
    theirs = torch_mod.zeros(3, 0)
    with pytest.warns(UserWarning, match="zero-element"):
        getattr(torch_mod.nn.init, fn.__name__)(theirs, mode=mode)
    for shape in ((3, 0), (0, 3)):
        w = _param(*shape)
        assert fn(w, mode=mode) is w and w.shape == shape
    layer = nn.Linear(0, 3)
    assert layer.weight.shape == (3, 0) and (layer.bias.data == 0).all()
