"""Every registered primitive, through the same checks (see op_table.py)."""
import importlib
import pathlib

import numpy as np
import pytest

import wengert as wg
from wengert.autograd import dual_level, make_dual, unpack_dual

try:
    import torch
except ImportError:
    torch = None

HERE = pathlib.Path(__file__).parent
CASES = []
for path in sorted(HERE.glob("op_cases_*.py")):
    CASES += importlib.import_module(path.stem).CASES
EPS = 1e-6


def _sample(case, seed):
    rng = np.random.default_rng(seed)
    return [spec.sample(rng) for spec in case.inputs], rng


def _tensors(case, arrays, requires_grad=True):
    return [wg.Tensor(np.array(a), requires_grad=requires_grad and spec.diff)
            for spec, a in zip(case.inputs, arrays)]


def _weighted(case, arrays, w):
    """s(x) = sum(fn(x) * w): a scalar whose gradient is the VJP of fn with seed w."""
    out = case.fn(*_tensors(case, arrays))
    return (out * w).sum(), out


def _diff_positions(case):
    return [i for i, spec in enumerate(case.inputs) if spec.diff]


def test_every_primitive_has_a_case():
    covered = {c.prim for c in CASES}
    missing = sorted(set(wg.REGISTRY) - covered)
    assert not missing, f"primitives without an op-table case: {missing}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_forward_value(case):
    arrays, _ = _sample(case, 1)
    out = case.fn(*_tensors(case, arrays, requires_grad=False))
    assert isinstance(out, wg.Tensor)
    if torch is not None and case.torch is not None:
        expected = case.torch(*[torch.as_tensor(a) for a in arrays])
        expected = expected.detach().numpy()
    elif case.ref is not None:
        expected = case.ref(*arrays)
    else:
        pytest.skip("no oracle for this case: torch is not installed")
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data.astype(np.float64) if out.dtype.kind != "b" else out.data,
                               expected, rtol=1e-7, atol=1e-9)
    if not wg.REGISTRY[case.prim].differentiable:
        assert not case.fn(*_tensors(case, arrays)).requires_grad


def _autodiff_grads(case, arrays, w):
    tensors = _tensors(case, arrays)
    s = (case.fn(*tensors) * w).sum()
    s.backward()
    return [tensors[i].grad.data if tensors[i].grad is not None else np.zeros_like(arrays[i])
            for i in _diff_positions(case)]


# Cases of ops without gradients (comparisons, argmax...) are checked by test_forward_value,
# which also asserts their outputs never require grad.
DIFF = [c for c in CASES if wg.REGISTRY[c.prim].differentiable and c.differentiable]


@pytest.mark.parametrize("case", DIFF, ids=lambda c: c.id)
def test_gradient_matches_central_differences(case):
    arrays, rng = _sample(case, 2)
    out = case.fn(*_tensors(case, arrays, requires_grad=False))
    w = rng.standard_normal(out.shape)
    got = _autodiff_grads(case, arrays, w)

    def s(*xs):
        return (case.fn(*[wg.Tensor(x) for x in xs]) * w).sum().data

    for i, g in zip(_diff_positions(case), got):
        expected = _numerical(s, arrays, i)
        np.testing.assert_allclose(g, expected, rtol=case.rtol, atol=case.atol,
                                   err_msg=f"gradient of input {i}")


def _numerical(f, arrays, i):
    arrays = [np.array(a) for a in arrays]
    x = arrays[i].astype(np.float64)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        vals = []
        for step in (EPS, -EPS):
            flat[k] = old + step
            arrays[i] = x
            vals.append(float(f(*arrays)))
        flat[k] = old
        grad.reshape(-1)[k] = (vals[0] - vals[1]) / (2 * EPS)
    return grad


@pytest.mark.parametrize("case", [c for c in DIFF if c.jvp], ids=lambda c: c.id)
def test_jvp_matches_directional_derivative(case):
    arrays, rng = _sample(case, 3)
    tangents = {i: rng.standard_normal(np.shape(arrays[i])) for i in _diff_positions(case)}
    with dual_level():
        inputs = [make_dual(wg.Tensor(a), wg.Tensor(tangents[i])) if i in tangents
                  else wg.Tensor(np.array(a)) for i, a in enumerate(arrays)]
        out = case.fn(*inputs)
        tangent = unpack_dual(out).tangent
    got = np.zeros(out.shape) if tangent is None else tangent.data

    def shifted(eps):
        xs = [a + eps * tangents[i] if i in tangents else a for i, a in enumerate(arrays)]
        return case.fn(*[wg.Tensor(np.array(x)) for x in xs]).data
    expected = (shifted(EPS) - shifted(-EPS)) / (2 * EPS)
    np.testing.assert_allclose(got, expected, rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("case", [c for c in DIFF if c.order2], ids=lambda c: c.id)
def test_second_order_matches_central_differences(case):
    arrays, rng = _sample(case, 4)
    out = case.fn(*_tensors(case, arrays, requires_grad=False))
    w = rng.standard_normal(out.shape)
    positions = _diff_positions(case)
    v = {i: rng.standard_normal(np.shape(arrays[i])) for i in positions}

    def u_of(tensors, create_graph):
        s = (case.fn(*tensors) * w).sum()
        grads = wg.autograd.grad(s, [tensors[i] for i in positions], create_graph=create_graph,
                                 allow_unused=True)
        total = 0.0
        for i, g in zip(positions, grads):
            if g is not None:
                total = total + (g * v[i]).sum()
        return total

    tensors = _tensors(case, arrays)
    u = u_of(tensors, create_graph=True)
    if isinstance(u, wg.Tensor) and u.requires_grad:
        second = wg.autograd.grad(u, [tensors[i] for i in positions], allow_unused=True)
        second = [np.zeros(np.shape(arrays[i])) if g is None else g.data
                  for i, g in zip(positions, second)]
    else:  # the gradient does not depend on the inputs: the op is linear in them
        second = [np.zeros(np.shape(arrays[i])) for i in positions]

    def u_numeric(*xs):
        with wg.enable_grad():
            r = u_of(_tensors(case, xs), create_graph=False)
        return r.data if isinstance(r, wg.Tensor) else r

    for i, g in zip(positions, second):
        expected = _numerical(u_numeric, arrays, i)
        np.testing.assert_allclose(g, expected, rtol=1e-4, atol=1e-5,
                                   err_msg=f"second derivative, input {i}")


@pytest.mark.parametrize("case", [c for c in DIFF if c.torch is not None], ids=lambda c: c.id)
def test_gradient_matches_pytorch(case):
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    arrays, rng = _sample(case, 5)
    out = case.fn(*_tensors(case, arrays, requires_grad=False))
    w = rng.standard_normal(out.shape)
    got = _autodiff_grads(case, arrays, w)
    tt = [torch.tensor(a, requires_grad=bool(spec.diff)) for spec, a in zip(case.inputs, arrays)]
    (case.torch(*tt) * torch.as_tensor(w)).sum().backward()
    for i, g in zip(_diff_positions(case), got):
        expected = tt[i].grad.numpy() if tt[i].grad is not None else np.zeros_like(arrays[i])
        np.testing.assert_allclose(g, expected, rtol=1e-7, atol=1e-9,
                                   err_msg=f"gradient of input {i} vs PyTorch")
