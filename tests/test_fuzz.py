"""Property-based fuzzing of the math: random shapes (0-size, 1-size, broadcasting), float32 and
float64, random compositions of primitives; values and gradients against PyTorch and, in
float64, against central differences. `--hypothesis-profile=long` runs 2000 cases per test
(default 60)."""
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import wengert as wg

torch = pytest.importorskip("torch")

# Element-wise unary ops, each made total on the reals where it needs to be (log of |z|+0.5,
# ...), so every random program stays in its domain: (wengert fn, torch fn)
UNARY = {
    "exp": (lambda z: wg.exp(wg.clip(z, a_min=-5, a_max=5)),
            lambda z: torch.exp(torch.clamp(z, -5, 5))),
    "log": (lambda z: wg.log(wg.abs(z) + 0.5), lambda z: torch.log(torch.abs(z) + 0.5)),
    "log1p": (lambda z: wg.log1p(wg.abs(z)), lambda z: torch.log1p(torch.abs(z))),
    "expm1": (lambda z: wg.expm1(wg.clip(z, a_min=-5, a_max=5)),
              lambda z: torch.expm1(torch.clamp(z, -5, 5))),
    "sqrt": (lambda z: wg.sqrt(wg.abs(z) + 0.5), lambda z: torch.sqrt(torch.abs(z) + 0.5)),
    "square": (wg.square, torch.square),
    "sin": (wg.sin, torch.sin),
    "cos": (wg.cos, torch.cos),
    "tanh": (wg.tanh, torch.tanh),
    "sigmoid": (wg.sigmoid, torch.sigmoid),
    "softplus": (wg.softplus, torch.nn.functional.softplus),
    "relu": (wg.relu, torch.relu),
    "elu": (wg.elu, torch.nn.functional.elu),
    "erf": (wg.erf, torch.erf),
    "neg": (wg.negative, torch.neg),
}
BINARY = {
    "add": (wg.add, torch.add), "sub": (wg.subtract, torch.sub), "mul": (wg.multiply, torch.mul),
    "maximum": (wg.maximum, torch.maximum), "minimum": (wg.minimum, torch.minimum),
}
REDUCE = {
    "sum": (lambda x, a: wg.sum(x, axis=a), lambda x, a: torch.sum(x, dim=a)),
    "mean": (lambda x, a: wg.mean(x, axis=a), lambda x, a: torch.mean(x, dim=a)),
    "logsumexp": (lambda x, a: wg.logsumexp(x, axis=a), lambda x, a: torch.logsumexp(x, dim=a)),
    "amax": (lambda x, a: wg.max(x, axis=a), lambda x, a: torch.amax(x, dim=a)),
}

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pair(draw):
    """A shape and a second shape that broadcasts against it (dims dropped or set to 1)."""
    a = draw(shapes)
    b = [d if draw(st.booleans()) else 1 for d in a]
    cut = draw(st.integers(0, len(b)))
    return a, tuple(b[cut:])


@st.composite
def programs(draw):
    """A random composition: unary/binary steps on x (and y), then a reduction or not."""
    (sx, sy) = draw(broadcast_pair())
    steps = draw(st.lists(st.one_of(
        st.tuples(st.just("u"), st.sampled_from(sorted(UNARY))),
        st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)))), min_size=1, max_size=5))
    red = draw(st.one_of(st.none(), st.sampled_from(sorted(REDUCE))))
    dtype = draw(st.sampled_from(["float64", "float32"]))
    seed = draw(st.integers(0, 2 ** 16))
    return sx, sy, steps, red, dtype, seed


def run(prog, lib, x, y):
    sx, sy, steps, red, dtype, seed = prog
    z = x
    for kind, name in steps:
        if kind == "u":
            fn, tfn = UNARY[name]
            z = (fn if lib == "wg" else tfn)(z)
            z = z * 0.5  # keeps chains of exp/square bounded
        else:
            fn, tfn = BINARY[name]
            z = (fn if lib == "wg" else tfn)(z, y)
    if red is not None and len(sx) > 0:
        fn, tfn = REDUCE[red]
        if red in ("amax", "mean") and 0 in np.broadcast_shapes(sx, sy)[-1:]:
            return z  # undefined on an empty axis: see test_empty_reductions
        z = (fn if lib == "wg" else tfn)(z, -1)
    return z


def inputs(prog):
    sx, sy, steps, red, dtype, seed = prog
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-2, 2, sx), rng.uniform(-2, 2, sy)
    return x.astype(dtype), y.astype(dtype)


@given(programs())
def test_compositions_match_pytorch(prog):
    x0, y0 = inputs(prog)
    dtype = x0.dtype
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warnings on in-domain inputs
        x, y = wg.tensor(x0, requires_grad=True), wg.tensor(y0, requires_grad=True)
        out = run(prog, "wg", x, y)
    tx = torch.tensor(x0, requires_grad=True)
    ty = torch.tensor(y0, requires_grad=True)
    tout = run(prog, "torch", tx, ty)
    assert out.shape == tuple(tout.shape) and out.dtype == dtype
    tol = dict(rtol=1e-9, atol=1e-11) if dtype == np.float64 else dict(rtol=2e-4, atol=1e-5)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
    w = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for ours, theirs in ((x, tx), (y, ty)):
        expected = np.zeros(ours.shape, dtype) if theirs.grad is None else theirs.grad.numpy()
        got = np.zeros(ours.shape, dtype) if ours.grad is None else ours.grad.data
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, **tol)


@given(programs().filter(lambda p: p[4] == "float64" and 0 not in p[0] and 0 not in p[1]))
def test_compositions_match_central_differences(prog):
    x0, y0 = inputs(prog)
    w = np.random.default_rng(2).standard_normal(run(prog, "wg", wg.tensor(x0), wg.tensor(y0)).shape)

    def f(xa):
        return float((run(prog, "wg", wg.tensor(xa), wg.tensor(y0)) * w).sum().data)
    x = wg.tensor(x0, requires_grad=True)
    (run(prog, "wg", x, wg.tensor(y0)) * w).sum().backward()
    eps, num = 1e-6, np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        d = np.zeros_like(x0)
        d[i] = eps
        num[i] = (f(x0 + d) - f(x0 - d)) / (2 * eps)
    got = np.zeros_like(x0) if x.grad is None else x.grad.data
    np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-6)


def test_empty_reductions():
    e = wg.zeros(2, 0)
    for op in (wg.max, wg.min, wg.mean):
        with pytest.raises(wg.ShapeError, match=r"empty axis.*\(2, 0\)"):
            op(e, axis=1)
    with pytest.raises(wg.ShapeError, match="ddof=1"):
        wg.var(wg.zeros(3, 1), axis=1, ddof=1)
    assert wg.max(e, axis=0).shape == (0,)  # reducing a non-empty axis of an empty tensor
    np.testing.assert_array_equal(wg.sum(e, axis=1).data, [0, 0])
    lse = wg.logsumexp(e, axis=1)
    np.testing.assert_array_equal(lse.data, torch.logsumexp(torch.zeros(2, 0), dim=1).numpy())
