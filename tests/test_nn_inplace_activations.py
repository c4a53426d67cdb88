"""``inplace=True`` on the activations and dropout (functions, ``_`` spellings, modules), each
against PyTorch: the values, the returned object (the input itself), the gradients through a
non-leaf written in place, the refusal on a leaf that requires grad, the reprs, and where a
write over a value saved for backward is refused (torch's version-counter errors)."""
import numpy as np
import pytest

import wengert as wg
import wengert.nn as nn
import wengert.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# name -> (our function, torch's, positional options after the input)
INPLACE = {
    "relu": (F.relu, TF.relu, ()),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu, (0.2,)),
    "elu": (F.elu, TF.elu, (0.7,)),
    "celu": (F.celu, TF.celu, (0.5,)),
    "selu": (F.selu, TF.selu, ()),
    "hardtanh": (F.hardtanh, TF.hardtanh, (-0.5, 0.7)),
    "relu6": (F.relu6, TF.relu6, ()),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid, ()),
    "hardswish": (F.hardswish, TF.hardswish, ()),
    "silu": (F.silu, TF.silu, ()),
    "mish": (F.mish, TF.mish, ()),
    "threshold": (F.threshold, TF.threshold, (0.1, 20.0)),
}
# the functions ending in _ (torch.nn.functional has these, with the same options)
UNDERSCORE = {"relu_": (), "leaky_relu_": (0.2,), "elu_": (0.7,), "celu_": (0.5,),
              "selu_": (), "hardtanh_": (-0.5, 0.7), "threshold_": (0.1, 20.0)}
# torch's float64 hardsigmoid gradient is 1/6 rounded to float32 (docs/nn.md)
GRAD_RTOL = {"hardsigmoid": 1e-7, "Hardsigmoid": 1e-7}

# module -> the same options for ours and torch's
MODULES = [("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {"negative_slope": 0.2}),
           ("ELU", {"alpha": 0.7}), ("CELU", {"alpha": 0.5}), ("SELU", {}),
           ("Hardtanh", {"min_val": -0.5, "max_val": 0.7}), ("Hardsigmoid", {}),
           ("Hardswish", {}), ("SiLU", {}), ("Mish", {}),
           ("Threshold", {"threshold": 0.1, "value": 20.0})]


@pytest.fixture
def data(rng):
    # every piece of the piecewise ones (kinks at 0, -0.5, 0.7, 0.1, +-3, 6), none at a kink
    return rng.uniform(-7, 7, (3, 5))


def _run(lib, fn, data, weights):
    """``fn`` applied (in place) to ``x * 1``, a non-leaf; the result, whether it is that
    non-leaf, and the gradient of ``sum(result * weights)`` for the leaf x."""
    x = lib.tensor(data, requires_grad=True)
    y = x * 1
    out = fn(y)
    same = out is y
    (out * lib.tensor(weights)).sum().backward()
    return out.detach().numpy(), same, x.grad.numpy()


def _agree(ours, theirs, grad_rtol=1e-12):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)
    assert ours[1] and theirs[1]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=grad_rtol, atol=1e-15)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_functions_write_into_a_non_leaf_and_match_torch(data, rng, name):
    ours, theirs, args = INPLACE[name]
    w = rng.normal(size=data.shape)
    got = _run(wg, lambda y: ours(y, *args, inplace=True), data, w)
    _agree(got, _run(torch, lambda y: theirs(y, *args, inplace=True), data, w),
           GRAD_RTOL.get(name, 1e-12))
    # the same values and gradient as out of place
    x = wg.tensor(data, requires_grad=True)
    out = ours(x, *args)
    (out * wg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(got[0], out.data)
    np.testing.assert_array_equal(got[2], x.grad.data)


@pytest.mark.parametrize("name", UNDERSCORE)
def test_underscore_functions_match_torchs(data, rng, name):
    args = UNDERSCORE[name]
    w = rng.normal(size=data.shape)
    _agree(_run(wg, lambda y: getattr(F, name)(y, *args), data, w),
           _run(torch, lambda y: getattr(TF, name)(y, *args), data, w))


@pytest.mark.parametrize("name, options", MODULES, ids=[m for m, _ in MODULES])
def test_inplace_modules_match_torch_and_show_it_in_the_repr(data, rng, name, options):
    ours = getattr(nn, name)(**options, inplace=True)
    theirs = getattr(torch.nn, name)(**options, inplace=True)
    assert ours.inplace is True and theirs.inplace is True
    assert repr(ours) == repr(theirs)
    assert repr(getattr(nn, name)(**options)) == repr(getattr(torch.nn, name)(**options))
    w = rng.normal(size=data.shape)
    _agree(_run(wg, ours, data, w), _run(torch, theirs, data, w), GRAD_RTOL.get(name, 1e-12))


def test_the_module_reprs_are_torchs_for_positional_options():
    for ours, theirs in [(nn.Hardtanh(0, 6, True), torch.nn.Hardtanh(0, 6, True)),
                         (nn.Threshold(0.1, 20, True), torch.nn.Threshold(0.1, 20, True)),
                         (nn.LeakyReLU(0.01, True), torch.nn.LeakyReLU(0.01, True)),
                         (nn.ELU(1.0, True), torch.nn.ELU(1.0, True)),
                         (nn.ReLU(True), torch.nn.ReLU(True)),
                         (nn.Dropout(0.2, True), torch.nn.Dropout(0.2, True)),
                         (nn.Dropout(), torch.nn.Dropout())]:
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_a_leaf_that_requires_grad_is_refused_as_in_torch(name):
    ours, theirs, args = INPLACE[name]
    with pytest.raises(RuntimeError, match="leaf Variable"):
        theirs(torch.ones(3, requires_grad=True), *args, inplace=True)
    with pytest.raises(wg.GraphError, match=r"leaf tensor.*in-place"):
        ours(wg.ones(3, requires_grad=True), *args, inplace=True)
    # allowed under no_grad, in both, and written in place
    x, tx = wg.tensor([-2.0, 0.5, 4.0], requires_grad=True), torch.tensor(
        [-2.0, 0.5, 4.0], requires_grad=True)
    with wg.no_grad():
        assert ours(x, *args, inplace=True) is x
    with torch.no_grad():
        assert theirs(tx, *args, inplace=True) is tx
    np.testing.assert_allclose(x.data, tx.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", INPLACE)
def test_writing_over_a_saved_output_fails_at_backward_as_in_torch(name):
    # sigmoid (and exp) save their output: an activation written over it must be refused
    ours, theirs, args = INPLACE[name]
    for lib, fn, error in ((wg, ours, wg.GraphError), (torch, theirs, RuntimeError)):
        for first in ("sigmoid", "exp"):
            x = lib.tensor([-1.5, 0.25, 2.0], requires_grad=True)
            s = getattr(lib, first)(x * 1)
            fn(s, *args, inplace=True)
            with pytest.raises(error, match="modified"):
                s.sum().backward()


@pytest.mark.parametrize("name", INPLACE)
def test_writing_over_a_saved_input_fails_at_backward_as_in_torch(name):
    ours, theirs, args = INPLACE[name]
    for lib, fn, error in ((wg, ours, wg.GraphError), (torch, theirs, RuntimeError)):
        x = lib.tensor([-1.5, 0.25, 2.0], requires_grad=True)
        y = x * 1
        s = lib.sin(y)  # saves its input
        fn(y, *args, inplace=True)
        with pytest.raises(error, match="modified"):
            (s + y).sum().backward()


# torch's in-place silu, mish, hardswish, hardsigmoid, hardtanh and threshold keep the input
# they read, so a later write into their result is allowed; wengert's keep a copy as well
@pytest.mark.parametrize("name", ["silu", "mish", "hardswish", "hardsigmoid", "hardtanh",
                                  "relu6", "threshold"])
def test_a_later_write_into_the_result_is_allowed_where_torch_allows_it(data, rng, name):
    ours, theirs, args = INPLACE[name]
    w = rng.normal(size=data.shape)

    def write_after(fn):
        def run(y):
            out = fn(y, *args, inplace=True)
            return out.mul_(3.0)
        return run
    _agree(_run(wg, write_after(ours), data, w), _run(torch, write_after(theirs), data, w),
           GRAD_RTOL.get(name, 1e-12))


def test_relu_saves_its_output_as_torch_does(data):
    # relu reads its output for backward (as torch's): a write into its input afterwards is
    # fine, into its output (out of place or in place) refused
    for lib, error in ((wg, wg.GraphError), (torch, RuntimeError)):
        x = lib.tensor(data, requires_grad=True)
        y = x * 1
        r = lib.relu(y)
        y.add_(1.0)
        r.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), data > 0)
        for make in (lambda y: lib.relu(y), lambda y: y.relu_(),
                     lambda y: lib.nn.functional.relu(y, inplace=True)):
            r = make(x * 1)
            r.add_(1.0)
            with pytest.raises(error, match="modified"):
                r.sum().backward()


@pytest.mark.parametrize("name", ["relu", "elu"])
def test_a_later_write_into_relus_and_elus_result_is_refused_as_in_torch(name):
    # both read their result for backward (wengert's elu reads its input too)
    ours, theirs, args = INPLACE[name]
    for lib, fn, error in ((wg, ours, wg.GraphError), (torch, theirs, RuntimeError)):
        x = lib.tensor([-1.5, 0.25, 2.0], requires_grad=True)
        y = fn(x * 1, *args, inplace=True).mul_(3.0)
        with pytest.raises(error, match="modified"):
            y.sum().backward()


@pytest.mark.parametrize("name", ["leaky_relu", "celu", "selu"])
def test_a_later_write_after_leaky_relu_celu_selu_is_allowed_with_the_right_gradient(
        data, rng, name):
    # a difference: torch's in-place leaky_relu, celu and selu read their result for
    # backward, so torch refuses a later write into it; wengert's read a copy of the input,
    # so the write is allowed, with torch's gradient for the write made into a clone
    ours, theirs, args = INPLACE[name]
    w = rng.normal(size=data.shape)
    x = wg.tensor(data, requires_grad=True)
    y = x * 1
    ours(y, *args, inplace=True).mul_(3.0)
    (y * wg.tensor(w)).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    ty = theirs(tx * 1, *args, inplace=True).mul_(3.0)
    with pytest.raises(RuntimeError, match="modified"):
        ty.sum().backward()
    tz = theirs(tx * 1, *args, inplace=True).clone().mul_(3.0)
    (tz * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.data, tz.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, args", [("leaky_relu", (-0.5,)), ("elu", (-0.5,))])
def test_a_negative_slope_in_place_differentiates_as_out_of_place(data, rng, name, args):
    # a difference: torch refuses the backward of in-place leaky_relu / elu with a negative
    # slope or alpha (they read their result, which no longer tells the sign of the input);
    # wengert's reads the input, so it gives torch's out-of-place gradient
    ours, theirs, _ = INPLACE[name]
    w = rng.normal(size=data.shape)
    with pytest.raises(RuntimeError, match="negative slope"):
        _run(torch, lambda y: theirs(y, *args, inplace=True), data, w)
    got = _run(wg, lambda y: ours(y, *args, inplace=True), data, w)
    x = torch.tensor(data, requires_grad=True)
    expected = theirs(x, *args)
    (expected * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(got[0], expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got[2], x.grad.numpy(), rtol=1e-12)


def test_inplace_into_views_reaches_their_base_as_in_torch(data, rng):
    w = rng.normal(size=data.shape)

    def run(lib):
        F_ = lib.nn.functional
        x = lib.tensor(data, requires_grad=True)
        y = x * 1
        F_.hardtanh_(y.t()[1], -0.5, 0.7)  # column 1
        F_.silu(y[0], inplace=True)  # row 0, column 1 written again
        F_.relu_(y[1:, ::2])  # last: torch's relu saves this view, which a write into y
        (y * lib.tensor(w)).sum().backward()  # after it would change
        return y.detach().numpy(), True, x.grad.numpy()
    _agree(run(wg), run(torch))


def test_a_network_with_inplace_activations_matches_torch(rng):
    data, target = rng.normal(size=(8, 4)), rng.normal(size=(8, 3))
    ours = nn.Sequential(nn.Linear(4, 6, dtype="float64"), nn.ReLU(inplace=True),
                         nn.Linear(6, 5, dtype="float64"), nn.Hardtanh(-0.5, 0.5, True),
                         nn.Linear(5, 3, dtype="float64"), nn.ELU(inplace=True))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(inplace=True),
                                 torch.nn.Linear(6, 5), torch.nn.Hardtanh(-0.5, 0.5, True),
                                 torch.nn.Linear(5, 3), torch.nn.ELU(inplace=True)).double()
    with torch.no_grad():
        for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            tp.copy_(torch.tensor(p.data))
    loss = F.mse_loss(ours(wg.tensor(data)), wg.tensor(target))
    tloss = TF.mse_loss(theirs(torch.tensor(data)), torch.tensor(target))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_inplace_on_an_integer_tensor_as_torch(data):
    # relu keeps integers (in place too); a float result cannot be stored in an integer
    # tensor: torch refuses it, and so does wengert (a DTypeError naming the dtypes)
    ints = np.array([-2, 0, 3])
    x, tx = wg.tensor(ints), torch.tensor(ints)
    assert F.relu_(x) is x and TF.relu_(tx) is tx
    np.testing.assert_array_equal(x.data, tx.numpy())
    assert x.dtype == np.int64
    for ours, theirs in [(F.silu, TF.silu), (F.elu, TF.elu), (F.hardsigmoid, TF.hardsigmoid)]:
        with pytest.raises(RuntimeError):
            theirs(torch.tensor(ints), inplace=True)
        y = wg.tensor(ints)
        with pytest.raises(wg.DTypeError, match=r"float.*int64"):
            ours(y, inplace=True)
        np.testing.assert_array_equal(y.data, ints)  # untouched


def test_inplace_needs_a_tensor():
    with pytest.raises(wg.ArgumentError, match="relu_.*Tensor.*ndarray"):
        F.relu(np.ones(3), inplace=True)


# --- dropout -----------------------------------------------------------------------------------
def test_inplace_dropout_writes_the_out_of_place_result_into_its_input(rng):
    data, w = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    x = wg.tensor(data, requires_grad=True)
    expected = F.dropout(x, 0.4, generator=wg.Generator(7))
    (expected * wg.tensor(w)).sum().backward()
    grad = x.grad.data.copy()
    x.grad = None
    y = x * 1
    out = F.dropout(y, 0.4, True, True, generator=wg.Generator(7))
    assert out is y
    np.testing.assert_array_equal(y.data, expected.data)
    (y * wg.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, grad)
    assert set(np.unique(grad / w).round(12)) <= {0.0, round(1 / 0.6, 12)}


def test_inplace_dropout_identity_leaf_and_module_as_torch():
    for lib, error in ((wg, wg.GraphError), (torch, RuntimeError)):
        fn = lib.nn.functional.dropout
        leaf = lib.ones(5, requires_grad=True)
        with pytest.raises(error, match="leaf"):
            fn(leaf, 0.5, True, True)
        y = leaf * 2
        assert fn(y, 0.5, False, True) is y  # not training: the input itself
        assert fn(y, 1.0, True, True) is y
        np.testing.assert_array_equal(y.detach().numpy(), np.zeros(5))
        drop = lib.nn.Dropout(0.5, inplace=True)
        z = leaf * 2
        assert drop(z) is z and drop.inplace is True
        assert set(np.unique(z.detach().numpy())) <= {0.0, 4.0}
        drop.eval()
        assert drop(z) is z


def test_inplace_activations_in_forward_mode_match_torch(data, rng):
    from wengert.autograd import forward_ad as fwd
    tangent = rng.normal(size=data.shape)
    tfwd = torch.autograd.forward_ad

    def chain(lib, x):
        F_ = lib.nn.functional
        y = x * 1
        F_.silu(y, inplace=True)
        F_.hardtanh_(y, -0.5, 0.7)
        return F_.relu(y - 0.1, inplace=True)
    with fwd.dual_level():
        ours = fwd.unpack_dual(chain(wg, fwd.make_dual(wg.tensor(data), wg.tensor(tangent))))
    with tfwd.dual_level():
        theirs = tfwd.unpack_dual(chain(torch, tfwd.make_dual(torch.tensor(data),
                                                               torch.tensor(tangent))))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-15)
