"""vmap: every primitive batched against the loop over examples (the op table's cases), the
API's semantics against torch.func.vmap, and composition with the other transforms."""
import importlib
import pathlib

import numpy as np
import pytest

import wengert as wg
import wengert.nn.functional as F
from wengert import nn
from wengert.functional import functional_call
from wengert.pytree import flatten

HERE = pathlib.Path(__file__).parent
CASES = []
for path in sorted(HERE.glob("op_cases_*.py")):
    CASES += importlib.import_module(path.stem).CASES
B = 3


def _examples(case):
    return [[np.asarray(spec.sample(np.random.default_rng(s))) for spec in case.inputs]
            for s in range(B)]


def _batched_and_loop(case, batch):
    """``batch[i]``: whether input i is batched. Returns the stacked inputs, the in_dims and
    the inputs of each example (an unbatched input is example 0's for all)."""
    sets = _examples(case)
    per_example = [[s[i] if batch[i] else sets[0][i] for i in range(len(batch))] for s in sets]
    stacked = [np.stack([p[i] for p in per_example]) if batch[i] else sets[0][i]
               for i in range(len(batch))]
    dims = tuple(0 if b else None for b in batch)
    return stacked, dims, per_example


def _modes(case):
    """Batch the float inputs (integer inputs are indices and targets, which some cases read
    as arrays in the test itself), the first input alone, and the float inputs but the first
    (per-example weights on a shared input)."""
    floats = [spec.kind in ("float", "away0", "positive") for spec in case.inputs]
    modes = {"first": [i == 0 for i in range(len(case.inputs))]}
    if any(floats):
        modes["floats"] = floats
    if any(floats[1:]):
        modes["floats but the first"] = [False] + floats[1:]
    return modes


def _close(got, expected):
    got = got.data.astype(np.float64) if got.dtype.kind not in "b" else got.data
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_primitive_batches_as_the_loop(case):
    for batch in _modes(case).values():
        stacked, dims, per_example = _batched_and_loop(case, batch)
        got = wg.vmap(case.fn, in_dims=dims)(*[wg.tensor(a) for a in stacked])
        expected = np.stack([case.fn(*[wg.tensor(a) for a in p]).data for p in per_example])
        _close(got, expected)


def _grad_of(x):
    return np.zeros(x.shape) if x.grad is None else x.grad.data  # None: an unused input


DIFF = [c for c in CASES if wg.REGISTRY[c.prim].differentiable and c.differentiable]


@pytest.mark.parametrize("case", DIFF, ids=lambda c: c.id)
def test_gradients_through_and_inside_vmap_match_the_loop(case):
    """grad(vmap(f)): the batched graph differentiates as the examples' graphs do; and
    vmap(grad(f)): one gradient per example."""
    diff = [spec.diff for spec in case.inputs]
    stacked, dims, per_example = _batched_and_loop(case, diff)
    rng = np.random.default_rng(7)
    out_shape = case.fn(*[wg.tensor(a) for a in per_example[0]]).shape
    w = rng.uniform(0.5, 1.5, (B,) + out_shape)
    pos = [i for i, d in enumerate(diff) if d]
    tensors = [wg.tensor(a, requires_grad=d) for a, d in zip(stacked, diff)]
    (wg.vmap(case.fn, in_dims=dims)(*tensors) * w).sum().backward()
    for i in pos:
        loop = []
        for b, p in enumerate(per_example):
            xs = [wg.tensor(a, requires_grad=d) for a, d in zip(p, diff)]
            (case.fn(*xs) * w[b]).sum().backward()
            loop.append(_grad_of(xs[i]))
        np.testing.assert_allclose(_grad_of(tensors[i]), np.stack(loop), rtol=1e-7, atol=1e-9)

    def weighted(*args):
        *xs, wb = args
        return (case.fn(*xs) * wb).sum()
    per = wg.vmap(wg.grad(weighted, argnums=tuple(pos)), in_dims=dims + (0,))(
        *[wg.tensor(a) for a in stacked], wg.tensor(w))
    for k, i in enumerate(pos):
        loop = [wg.grad(weighted, argnums=i)(*[wg.tensor(a) for a in p], wg.tensor(w[b])).data
                for b, p in enumerate(per_example)]
        np.testing.assert_allclose(per[k].data, np.stack(loop), rtol=1e-7, atol=1e-9)


# --- the API, against torch.func.vmap -------------------------------------------------------
def test_in_dims_out_dims_and_trees_as_torch(torch_mod):
    torch = torch_mod
    rng = np.random.default_rng(0)
    x, y, m = rng.normal(size=(3, 4, 5)), rng.normal(size=(4, 5)), rng.normal(size=(5, 2))
    z = rng.normal(size=(4,))

    def f(a, pair):
        return {"s": (a * pair[0]).sum(-1), "m": a @ pair[1]}

    def tf(a, pair):
        return {"s": (a * pair[0]).sum(-1), "m": a @ pair[1]}

    got = wg.vmap(f, in_dims=(1, (0, None)), out_dims={"s": 1, "m": 0})(
        wg.tensor(x), (wg.tensor(y), wg.tensor(m)))
    ref = torch.func.vmap(tf, in_dims=(1, (0, None)), out_dims={"s": 1, "m": 0})(
        torch.tensor(x), (torch.tensor(y), torch.tensor(m)))
    for k in ("s", "m"):
        np.testing.assert_allclose(got[k].data, ref[k].numpy(), rtol=1e-12)
    # negative dims, an unbatched output broadcast along out_dims, kwargs never batched
    got = wg.vmap(lambda a, c, scale=1.0: (a * scale, c), in_dims=(-1, None), out_dims=(-1, 0))(
        wg.tensor(x), wg.tensor(z), scale=2.0)
    ref = torch.func.vmap(lambda a, c, scale=1.0: (a * scale, c), in_dims=(-1, None),
                          out_dims=(-1, 0))(torch.tensor(x), torch.tensor(z), scale=2.0)
    np.testing.assert_allclose(got[0].data, ref[0].numpy())
    np.testing.assert_allclose(got[1].data, ref[1].numpy())


def test_out_dims_none_returns_an_unbatched_output_as_it_is():
    c = wg.tensor([1.0, 2.0])
    a, same = wg.vmap(lambda x: (x * 2, c), out_dims=(0, None))(wg.ones((3, 2)))
    assert a.shape == (3, 2) and same is c


def test_nested_vmap_and_chunks_give_the_plain_computation():
    x = np.random.default_rng(1).normal(size=(4, 3, 5))
    f = wg.vmap(wg.vmap(lambda v: wg.softmax(v, axis=-1) * v.sum()))
    e = np.exp(x - x.max(-1, keepdims=True))
    np.testing.assert_allclose(f(wg.tensor(x)).data,
                               e / e.sum(-1, keepdims=True) * x.sum(-1, keepdims=True))
    for chunk in (1, 3, 4, 10):
        np.testing.assert_allclose(wg.vmap(lambda v: v.T @ v, chunk_size=chunk)(
            wg.tensor(x)).data, np.einsum("bji,bjk->bik", x, x))
    # the outer batch of an inner vmap over the second axis
    g = wg.vmap(wg.vmap(lambda v, w: v * w, in_dims=(0, None)), in_dims=(1, 0))
    y = np.random.default_rng(2).normal(size=(3, 5))
    np.testing.assert_allclose(g(wg.tensor(x), wg.tensor(y)).data,
                               np.transpose(x, (1, 0, 2)) * y[:, None, :])


def test_an_empty_batch():
    out = wg.vmap(lambda v: wg.tanh(v).sum())(wg.zeros((0, 3)))
    assert out.shape == (0,)


def test_per_sample_gradients_of_a_model_match_torch(torch_mod):
    torch = torch_mod
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    rng = np.random.default_rng(0)
    xs, ys = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)

    def loss(p, x, y):
        return F.cross_entropy(functional_call(model, p, (x[None],)), y[None])
    got = wg.vmap(wg.grad(loss), in_dims=(None, 0, 0))(params, wg.tensor(xs), wg.tensor(ys))
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    tmodel.load_state_dict({k: torch.tensor(v.data) for k, v in params.items()})
    tparams = {k: v.detach() for k, v in tmodel.named_parameters()}

    def tloss(p, x, y):
        return torch.nn.functional.cross_entropy(
            torch.func.functional_call(tmodel, p, (x[None],)), y[None])
    ref = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(
        tparams, torch.tensor(xs), torch.tensor(ys))
    for k in ref:
        np.testing.assert_allclose(got[k].data, ref[k].numpy(), rtol=1e-10, atol=1e-12)


def test_an_ensemble_of_weights_batches_linear_as_torch(torch_mod):
    torch = torch_mod
    rng = np.random.default_rng(3)
    w, b, x = rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 3)), rng.normal(size=(2, 5))
    got = wg.vmap(F.linear, in_dims=(None, 0, 0))(wg.tensor(x), wg.tensor(w), wg.tensor(b))
    ref = torch.func.vmap(torch.nn.functional.linear, in_dims=(None, 0, 0))(
        torch.tensor(x), torch.tensor(w), torch.tensor(b))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd", "hessian"])
def test_batched_jacobians_and_hessians_match_torch(torch_mod, transform):
    torch = torch_mod
    x = np.random.default_rng(4).normal(size=(5, 3))

    def f(v):
        return wg.sin(v) * v[0] + (v * v).sum() if transform != "hessian" else \
            (wg.sin(v) * v[0]).sum() + (v ** 3).sum()

    def tf(v):
        return torch.sin(v) * v[0] + (v * v).sum() if transform != "hessian" else \
            (torch.sin(v) * v[0]).sum() + (v ** 3).sum()
    got = wg.vmap(getattr(wg, transform)(f))(wg.tensor(x))
    ref = torch.func.vmap(getattr(torch.func, transform)(tf))(torch.tensor(x))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-10, atol=1e-12)


def test_forward_mode_through_and_inside_vmap_match_torch(torch_mod):
    torch = torch_mod
    rng = np.random.default_rng(5)
    x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))

    def f(v):
        return wg.tanh(v) * v.sum()

    def tf(v):
        return torch.tanh(v) * v.sum()
    _, got = wg.jvp(wg.vmap(f), (wg.tensor(x),), (wg.tensor(t),))
    _, ref = torch.func.jvp(torch.func.vmap(tf), (torch.tensor(x),), (torch.tensor(t),))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    got = wg.vmap(lambda v, u: wg.jvp(f, (v,), (u,))[1])(wg.tensor(x), wg.tensor(t))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    # one tangent shared by the batch
    got = wg.vmap(lambda v: wg.jvp(f, (v,), (wg.tensor(t[0]),))[1])(wg.tensor(x))
    ref = torch.func.vmap(lambda v: torch.func.jvp(tf, (v,), (torch.tensor(t[0]),))[1])(
        torch.tensor(x))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)


def test_a_gradient_with_respect_to_a_shared_input_is_per_example(torch_mod):
    """Inside vmap, grad with respect to an unbatched input (the weights) gives each
    example's gradient, not their sum; and the outer gradient of that reaches the weights."""
    torch = torch_mod
    rng = np.random.default_rng(6)
    xs, w0 = rng.normal(size=(4, 3)), rng.normal(size=3)
    w = wg.tensor(w0, requires_grad=True)
    per = wg.vmap(lambda x: wg.grad(lambda v: wg.tanh(x @ v))(w))(wg.tensor(xs))
    tw = torch.tensor(w0, requires_grad=True)
    tper = torch.func.vmap(lambda x: torch.func.grad(lambda v: torch.tanh(x @ v))(tw))(
        torch.tensor(xs))
    np.testing.assert_allclose(per.data, tper.detach().numpy(), rtol=1e-12)
    (per * per).sum().backward()
    (tper * tper).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)


def test_modules_run_under_vmap_as_the_loop():
    rng = np.random.default_rng(8)
    conv = nn.Conv2d(2, 3, 3, padding=1).double()
    norm = nn.LayerNorm(5).double()
    x = wg.tensor(rng.normal(size=(3, 2, 2, 5, 5)))
    got = wg.vmap(lambda v: norm(F.relu(conv(v))))(x)
    for b in range(3):
        np.testing.assert_allclose(got.data[b], norm(F.relu(conv(x[b]))).data, rtol=1e-12)
    pooled = wg.vmap(lambda v: F.max_pool2d(v, 2))(x)
    for b in range(3):
        np.testing.assert_allclose(pooled.data[b], F.max_pool2d(x[b], 2).data)


# --- randomness and refusals ----------------------------------------------------------------
def test_randomness_error_same_and_different():
    x = wg.ones((6, 40))
    with pytest.raises(wg.GraphError, match="random draw.*randomness='error'"):
        wg.vmap(lambda v: F.dropout(v, 0.5, training=True))(x)
    same = wg.vmap(lambda v: F.dropout(v, 0.5, training=True), randomness="same")(x).data
    assert (same == same[0]).all() and (same[0] == 0).any() and (same[0] == 2).any()
    diff = wg.vmap(lambda v: F.dropout(v, 0.5, training=True), randomness="different")(x).data
    assert len({tuple(r) for r in diff}) == 6  # 6 rows of 40 fair coins: equal rows are 2^-40
    assert set(np.unique(diff)) == {0.0, 2.0}


def test_reading_a_batched_tensors_values_is_refused():
    x = wg.ones((3, 2))
    for read in (lambda v: v.item(), lambda v: v.numpy(), lambda v: float(v.sum()),
                 lambda v: v * 2 if v.sum() > 0 else v,
                 lambda v: v.sum().backward(), lambda v: np.asarray(v)):
        with pytest.raises(wg.GraphError, match="vmap: .* on a batched tensor"):
            wg.vmap(read)(x)


def test_in_place_writes_go_into_the_batched_tensor():
    x0 = np.linspace(-2, 2, 6).reshape(3, 2)

    def f(v):
        v = v * 1.0
        v.add_(1)
        v[0] = v[1] * 3
        return F.relu(v, inplace=True) * v

    def loop(fn, x):
        return np.stack([fn(wg.tensor(r)).numpy() for r in x])
    np.testing.assert_allclose(wg.vmap(f)(wg.tensor(x0)).data, loop(f, x0))
    g = wg.grad(lambda v: f(v).sum())
    np.testing.assert_allclose(wg.vmap(g)(wg.tensor(x0)).data, loop(g, x0))
    xs = wg.tensor(x0)
    wg.vmap(lambda v: v.mul_(2))(xs)  # the input itself, as torch.func.vmap writes it
    np.testing.assert_allclose(xs.data, 2 * x0)
    with pytest.raises(wg.GraphError, match="in-place 'add_' would write values that differ"):
        wg.vmap(lambda v: wg.ones(2, dtype="float64").add_(v))(xs)


def test_a_batched_tensor_used_after_its_vmap_is_refused():
    kept = []
    wg.vmap(lambda v: kept.append(v) or v)(wg.ones((3, 2)))
    with pytest.raises(wg.GraphError, match="after its vmap returned"):
        kept[0] * 2


def test_the_example_view_shows_the_examples_shape():
    seen = {}

    def f(v):
        seen.update(shape=v.shape, ndim=v.ndim, size=v.size, len=len(v), dtype=v.dtype)
        return v.reshape(-1)
    out = wg.vmap(f, in_dims=1)(wg.ones((2, 5, 3), dtype="float32"))
    assert seen == {"shape": (2, 3), "ndim": 2, "size": 6, "len": 2, "dtype": np.float32}
    assert out.shape == (5, 6)


def test_vmap_over_a_vjp_function_gives_the_jacobian_as_torch(torch_mod):
    torch = torch_mod
    w = np.random.default_rng(9).normal(size=(3, 4))
    x = np.linspace(-1, 1, 4)
    _, vjp_fn = wg.vjp(lambda v: wg.tanh(wg.tensor(w) @ v) * v[0], wg.tensor(x))
    got = wg.vmap(vjp_fn)(wg.tensor(np.eye(3)))[0]
    _, tvjp = torch.func.vjp(lambda v: torch.tanh(torch.tensor(w) @ v) * v[0], torch.tensor(x))
    ref = torch.func.vmap(tvjp)(torch.eye(3, dtype=torch.float64))[0]
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    assert not got.requires_grad


def test_indexing_with_a_batched_index_gathers_each_examples_entries(torch_mod):
    torch = torch_mod
    rng = np.random.default_rng(10)
    x, idx = rng.normal(size=(4, 5)), rng.integers(0, 5, (4, 2))
    got = wg.vmap(lambda v, k: v[k])(wg.tensor(x), wg.tensor(idx))
    np.testing.assert_allclose(got.data, np.take_along_axis(x, idx, axis=1))
    rows = idx % 4  # rows of the shared x
    shared = wg.vmap(lambda k: wg.tensor(x)[k])(wg.tensor(rows))
    np.testing.assert_allclose(shared.data, x[rows])
    # a per-example loss picked by the target, differentiated per example
    y = rng.integers(0, 5, 4)
    got = wg.vmap(wg.grad(lambda v, k: -F.log_softmax(v, -1)[k]))(wg.tensor(x), wg.tensor(y))
    ref = torch.func.vmap(torch.func.grad(
        lambda v, k: -torch.log_softmax(v, -1).gather(0, k[None])[0]))(
            torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)


def test_custom_functions_units_and_blocks_run_per_example_under_vmap():
    class Cube(wg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 3 * x * x * g

    @wg.unit(back=lambda dy, y, x: dy * (x > 0))
    def positive(x):
        return np.maximum(x, 0)

    @wg.block
    def scaled_tanh(x):
        return wg.tanh(x) * 2

    x = np.linspace(-2, 2, 6).reshape(3, 2)
    for fn, value, slope in ((Cube.apply, x ** 3, 3 * x ** 2),
                             (positive, np.maximum(x, 0), (x > 0) * 1.0),
                             (scaled_tanh, 2 * np.tanh(x), 2 * (1 - np.tanh(x) ** 2))):
        np.testing.assert_allclose(wg.vmap(fn)(wg.tensor(x)).data, value)
        np.testing.assert_allclose(
            wg.vmap(wg.grad(lambda v: fn(v).sum()))(wg.tensor(x)).data, slope)


@pytest.mark.parametrize("a_shape", [(4, 2, 5), (4, 1, 5), (3, 4, 2, 5), (2, 5)])
def test_a_product_with_a_broadcast_stack_is_the_stacked_product(a_shape):
    """matmul with a stride-0 stack (the weights vmap(grad) differentiates per example) is
    computed as one product; the values and gradients are those of the stacked product."""
    rng = np.random.default_rng(11)
    a0, w = rng.normal(size=a_shape), rng.normal(size=(5, 3))
    b0 = np.broadcast_to(w, (4, 5, 3))
    assert b0.strides[0] == 0
    a, b = wg.tensor(a0, requires_grad=True), wg.Tensor(b0, requires_grad=True)
    out = a @ b
    np.testing.assert_allclose(out.data, np.matmul(a0, np.ascontiguousarray(b0)), rtol=1e-12)
    g = rng.normal(size=out.shape)
    (out * wg.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.data, g @ w.T if len(a_shape) > 2 else
                               (g @ w.T).sum(axis=0), rtol=1e-12)
    ga = np.broadcast_to(a0, out.shape[:-1] + (5,))
    expected_b = np.einsum("...nk,...nm->...km", ga, g)
    while expected_b.ndim > 3:
        expected_b = expected_b.sum(axis=0)
    np.testing.assert_allclose(b.grad.data, expected_b, rtol=1e-12)


def test_cross_entropy_under_vmap_reduces_each_example_with_its_own_weights():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 4, 5))
    t = np.array([[0, 1, -100, 4], [2, 2, 2, 2], [-100, 3, 3, 1]])
    w = rng.uniform(0.5, 2, 5)
    kw = dict(weight=wg.tensor(w), ignore_index=-100, label_smoothing=0.1)
    got = wg.vmap(lambda a, b: F.cross_entropy(a, b, **kw))(wg.tensor(x), wg.tensor(t))
    want = [F.cross_entropy(wg.tensor(x[b]), wg.tensor(t[b]), **kw).item() for b in range(3)]
    np.testing.assert_allclose(got.data, want, rtol=1e-12)
    t[1] = -100  # every target of example 1 ignored: its mean is undefined
    with pytest.raises(wg.ArgumentError, match="every target equals ignore_index"):
        wg.vmap(lambda a, b: F.cross_entropy(a, b))(wg.tensor(x), wg.tensor(t))


def test_randomness_per_example_and_once_whatever_the_outputs_and_chunks():
    # 'different': a draw that no batched input touches is still each example's own
    rows = wg.vmap(lambda x: wg.randn(3, dtype="float64"), randomness="different")(
        wg.zeros((4, 1))).data
    assert len({tuple(r) for r in rows}) == 4
    pair = wg.vmap(lambda x: (x, wg.randn(2)), randomness="different")(wg.ones((3, 2)))[1].data
    assert len({tuple(r) for r in pair}) == 3
    # 'same' in chunks: one draw for the whole batch, as without chunks
    for chunk in (1, 2, 3):
        wg.manual_seed(5)
        got = wg.vmap(lambda x: x * wg.randn(2), randomness="same", chunk_size=chunk)(
            wg.ones((4, 2))).data
        wg.manual_seed(5)
        whole = wg.vmap(lambda x: x * wg.randn(2), randomness="same")(wg.ones((4, 2))).data
        np.testing.assert_array_equal(got, whole)
        assert (got == got[0]).all()


def test_per_example_gradients_of_an_embedding_and_of_weighted_cross_entropy(torch_mod):
    torch = torch_mod
    rng = np.random.default_rng(13)
    w, idx = rng.normal(size=(6, 3)), rng.integers(0, 6, (4, 2))
    got = wg.vmap(wg.grad(lambda v, i: (F.embedding(i, v) ** 2).sum()), in_dims=(None, 0))(
        wg.tensor(w), wg.tensor(idx))
    ref = torch.func.vmap(torch.func.grad(
        lambda v, i: (torch.nn.functional.embedding(i, v) ** 2).sum()), in_dims=(None, 0))(
            torch.tensor(w), torch.tensor(idx))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    x, y, cw = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, 4), rng.uniform(0.5, 2, (3, 5))
    got = wg.vmap(lambda a, b, c: F.cross_entropy(a, b, weight=c), in_dims=(0, None, 0))(
        wg.tensor(x), wg.tensor(y), wg.tensor(cw))
    ref = torch.func.vmap(lambda a, b, c: torch.nn.functional.cross_entropy(a, b, weight=c),
                          in_dims=(0, None, 0))(torch.tensor(x), torch.tensor(y),
                                                torch.tensor(cw))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)


def test_shape_queries_likes_empty_batches_and_0d_examples():
    x = wg.ones((2, 3))
    out = wg.vmap(lambda v: v * v.numel() + v.dim() + wg.zeros_like(v) + wg.full_like(v, 2.0)
                  + v.contiguous())(x)
    np.testing.assert_allclose(out.data, np.full((2, 3), 3 + 1 + 0 + 2 + 1.0))
    for f in (lambda v: v.reshape(-1), lambda v: v.flatten(), lambda v: wg.argmax(v),
              lambda v: wg.roll(v, 1)):
        empty = wg.vmap(f)(wg.zeros((0, 2, 3)))
        assert empty.shape == (0,) + f(wg.zeros((2, 3))).shape
    np.testing.assert_allclose(wg.vmap(lambda v: v.sum(0))(wg.tensor([1.0, 2.0])).data, [1, 2])


@pytest.mark.parametrize("fn", [lambda v, k: v.sort().values, lambda v, k: v.argsort(),
                                lambda v, k: v.topk(2).indices, lambda v, k: v.topk(2).values,
                                lambda v, k: v.gather(0, k), lambda v, k: v.index_select(0, k),
                                lambda v, k: v.masked_fill(v > 0, 0.0),
                                lambda v, k: v.masked_fill(k[:1] == 1, -1.0)],
                         ids=["sort", "argsort", "topk-indices", "topk-values", "gather",
                              "index_select", "masked_fill", "masked_fill-batched-mask"])
def test_value_reading_methods_run_per_example(fn):
    rng = np.random.default_rng(14)
    x, k = rng.normal(size=(3, 5)), rng.integers(0, 5, (3, 2))
    got = wg.vmap(fn)(wg.tensor(x), wg.tensor(k))
    want = np.stack([fn(wg.tensor(x[b]), wg.tensor(k[b])).data for b in range(3)])
    np.testing.assert_array_equal(got.data, want)


def test_a_users_primitive_runs_per_example_or_through_its_registered_rule():
    from wengert.autodiff.batching import RULES, register_rule
    from wengert.autodiff.primitive import Primitive
    double = Primitive("test_vmap_double", lambda x: 2 * x,
                       vjp=[lambda ns, g, ans, x: 2 * g], register=False)
    x = wg.tensor(np.arange(6.0).reshape(3, 2))
    np.testing.assert_allclose(wg.vmap(double)(x).data, 2 * x.data)   # once per example
    calls = []

    def rule(prim, values, batched, params, size):
        calls.append(size)
        return prim.apply(values[0])          # element-wise: the batch as it is
    register_rule("test_vmap_double", rule)
    try:
        np.testing.assert_allclose(wg.vmap(double)(x).data, 2 * x.data)
        np.testing.assert_allclose(wg.vmap(wg.grad(lambda v: double(v).sum()))(x).data,
                                   np.full((3, 2), 2.0))
        assert calls == [3, 3]                # one call per batch, not per example
    finally:
        del RULES["test_vmap_double"]


def test_a_shape_error_inside_vmap_names_the_examples_shapes():
    with pytest.raises(wg.ShapeError, match=r"matmul: .*inside vmap, batch of 8: the example "
                                            r"shapes are \[\(16,\), \(3, 3\)\]"):
        wg.vmap(lambda v: v @ wg.ones((3, 3)))(wg.ones((8, 16)))


def test_a_mask_selecting_as_many_per_example_batches_and_different_counts_are_refused():
    x = wg.tensor([[1.0, -2.0, 3.0], [-1.0, 2.0, 3.0]])
    out = wg.vmap(lambda r: r[r > 0])(x)  # two positive entries in each row
    np.testing.assert_array_equal(out.data, [[1.0, 3.0], [2.0, 3.0]])
    ragged = wg.tensor([[1.0, -2.0, 3.0], [1.0, 2.0, 3.0]])
    with pytest.raises(wg.ShapeError, match=r"getitem gave results of different shapes for "
                                            r"different examples inside vmap \(\(2,\), \(3,\)\)"):
        wg.vmap(lambda r: r[r > 0])(ragged)
    with pytest.raises(wg.ShapeError, match=r"<lambda> gave results of different shapes.*"
                                            r"\(2,\), \(3,\)"):
        wg.vmap(lambda r: r[r > 0] + 0 * wg.rand(1), randomness="different")(ragged)
    # the sum over a fixed-shape mask is the same per example, and batches
    np.testing.assert_array_equal(
        wg.vmap(lambda r: wg.where(r > 0, r, 0.0).sum())(ragged).data, [4.0, 6.0])


@pytest.mark.parametrize("pool", [
    lambda v: F.max_pool2d(v, 2, stride=1, padding=1),
    lambda v: F.max_pool2d(v, 2, return_indices=True),
    lambda v: F.avg_pool2d(v, 3, stride=2, padding=1, count_include_pad=False),
    lambda v: F.adaptive_avg_pool2d(v, (2, 3)),
    lambda v: F.adaptive_max_pool2d(v, 2, return_indices=True)])
@pytest.mark.parametrize("example", [(2, 5, 6), (3, 2, 5, 6)], ids=["C,H,W", "N,C,H,W"])
def test_pools_fold_the_batch_into_theirs_and_match_the_loop(pool, example):
    """A pool takes an optional batch axis of its own: vmap's batch becomes (or joins) it, so
    the pool runs once. Values, indices and per-example gradients are the loop's, and nested
    vmaps fold both batches."""
    xs = np.random.default_rng(6).standard_normal((4,) + example)
    got = wg.vmap(pool)(wg.tensor(xs))
    for g, e in zip(flatten(got)[0], zip(*[flatten(pool(wg.tensor(x)))[0] for x in xs])):
        np.testing.assert_array_equal(g.data, np.stack([t.data for t in e]))
    first = lambda v: flatten(pool(v))[0][0]  # noqa: E731
    loss = lambda v: (first(v) ** 2).sum()  # noqa: E731
    per = wg.vmap(wg.grad(loss))(wg.tensor(xs))
    for b in range(4):
        np.testing.assert_allclose(per.data[b], wg.grad(loss)(wg.tensor(xs[b])).data,
                                   rtol=1e-12)
    nested = wg.vmap(wg.vmap(first))(wg.tensor(xs.reshape((2, 2) + example)))
    np.testing.assert_array_equal(nested.data.reshape((4,) + nested.shape[2:]),
                                  wg.vmap(first)(wg.tensor(xs)).data)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("example", [((5,), ()), ((3, 5), (3,)), ((3, 5, 2), (3, 2))],
                         ids=["C", "N,C", "N,C,d"])
def test_nll_loss_runs_once_on_the_examples_samples_and_matches_the_loop(example, reduction):
    """nll_loss folds the examples' samples into one batch and reduces each example apart:
    values and per-example gradients are the loop's, with class weights and ignore_index
    (each example's mean divided by its own targets' weight)."""
    rng = np.random.default_rng(7)
    (shape, target_shape), weight = example, wg.tensor(rng.random(5) + 0.5)
    xs, ts = rng.standard_normal((4,) + shape), rng.integers(0, 5, (4,) + target_shape)
    ts.reshape(4, -1)[:, 0] = 2  # every example keeps a counted target
    for w, ignore in ((None, -100), (weight, 1)):
        def loss(x, t):
            return F.nll_loss(F.log_softmax(x, dim=0 if x.ndim == 1 else 1), t, w, ignore,
                              reduction)
        got = wg.vmap(loss)(wg.tensor(xs), wg.tensor(ts))
        expected = np.stack([loss(wg.tensor(x), wg.tensor(t)).data for x, t in zip(xs, ts)])
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)
        total = lambda x, t: loss(x, t).sum()  # noqa: E731
        per = wg.vmap(wg.grad(total))(wg.tensor(xs), wg.tensor(ts))
        for b in range(4):
            np.testing.assert_allclose(per.data[b], wg.grad(total)(wg.tensor(xs[b]),
                                                                   wg.tensor(ts[b])).data,
                                       rtol=1e-12)


def test_nll_loss_mean_of_an_example_with_every_target_ignored_raises_as_the_loop():
    xs, ts = wg.tensor(np.zeros((2, 3, 4))), wg.tensor(np.array([[0, 1, 2], [1, 1, 1]]))
    with pytest.raises(wg.ArgumentError) as loop:
        F.nll_loss(xs[1], ts[1], ignore_index=1)
    with pytest.raises(wg.ArgumentError) as batched:
        wg.vmap(lambda x, t: F.nll_loss(x, t, ignore_index=1))(xs, ts)
    assert str(batched.value) == str(loop.value)


@pytest.mark.parametrize("padding_idx", [2, -1])
def test_an_embedding_with_padding_batches_without_reading_its_indices(torch_mod, padding_idx):
    """padding_idx under vmap: per-example gradients (the padding row gets none from padded
    entries) as torch.func's, per-example weights as the loop's."""
    torch = torch_mod
    rng = np.random.default_rng(14)
    w, idx = rng.normal(size=(6, 3)), rng.integers(0, 6, (5, 4))
    idx[:, 0] = padding_idx % 6  # every example has padded entries
    scale = rng.normal(size=3)

    def loss(lib, F_, v, i):
        return (F_.embedding(i, v, padding_idx=padding_idx) ** 2 * lib.tensor(scale)).sum()
    got = wg.vmap(wg.grad(lambda v, i: loss(wg, F, v, i)), in_dims=(None, 0))(
        wg.tensor(w), wg.tensor(idx))
    ref = torch.func.vmap(torch.func.grad(lambda v, i: loss(torch, torch.nn.functional, v, i)),
                          in_dims=(None, 0))(torch.tensor(w), torch.tensor(idx))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    assert not got.data[:, padding_idx % 6].any()
    ws = rng.normal(size=(5, 6, 3))
    per_weight = wg.vmap(lambda v, i: F.embedding(i, v, padding_idx=padding_idx))(
        wg.tensor(ws), wg.tensor(idx))
    for b in range(5):
        np.testing.assert_array_equal(per_weight.data[b], ws[b][idx[b]])


def test_vmap_over_a_vjp_fn_taken_inside_an_outer_vmap_matches_torch(torch_mod):
    """Each example's graph, an inner batch of cotangents (shared by the examples or their
    own): torch.func's result, with create_graph-free results and a gradient through them."""
    torch = torch_mod
    rng = np.random.default_rng(15)
    xs, shared, own = (rng.normal(size=s) for s in ((3, 4), (5, 4), (3, 5, 4)))

    def ours(x, c):
        return wg.vmap(wg.vjp(lambda v: wg.tanh(v) * v.sum(), x)[1])(c)[0]

    def theirs(x, c):
        return torch.func.vmap(torch.func.vjp(lambda v: torch.tanh(v) * v.sum(), x)[1])(c)[0]

    for cts, dims in ((shared, (0, None)), (own, (0, 0))):
        got = wg.vmap(ours, in_dims=dims)(wg.tensor(xs), wg.tensor(cts))
        ref = torch.func.vmap(theirs, in_dims=dims)(torch.tensor(xs), torch.tensor(cts))
        np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    # and differentiated from outside, through both vmaps
    g = wg.grad(lambda x: (wg.vmap(ours, in_dims=(0, None))(x, wg.tensor(shared)) ** 2).sum())(
        wg.tensor(xs))
    tg = torch.func.grad(lambda x: (torch.func.vmap(theirs, in_dims=(0, None))(
        x, torch.tensor(shared)) ** 2).sum())(torch.tensor(xs))
    np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-10)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_with_class_weights_batched_by_another_vmap_matches_torch(torch_mod,
                                                                          reduction):
    torch = torch_mod
    rng = np.random.default_rng(16)
    lp = np.log(rng.dirichlet(np.ones(5), size=(3, 4)))
    t, w = rng.integers(0, 5, (3, 4)), rng.uniform(0.5, 2, (3, 5))
    ours = lambda x, y, c: F.nll_loss(x, y, c, reduction=reduction)  # noqa: E731
    theirs = lambda x, y, c: torch.nn.functional.nll_loss(x, y, c,  # noqa: E731
                                                          reduction=reduction)
    got = wg.vmap(lambda x, y: wg.vmap(lambda c: ours(x, y, c))(wg.tensor(w)))(
        wg.tensor(lp), wg.tensor(t))
    ref = torch.func.vmap(lambda x, y: torch.func.vmap(lambda c: theirs(x, y, c))(
        torch.tensor(w)))(torch.tensor(lp), torch.tensor(t))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)
    got = wg.vmap(lambda c: wg.vmap(lambda x, y: ours(x, y, c))(wg.tensor(lp), wg.tensor(t)))(
        wg.tensor(w))
    ref = torch.func.vmap(lambda c: torch.func.vmap(lambda x, y: theirs(x, y, c))(
        torch.tensor(lp), torch.tensor(t)))(torch.tensor(w))
    np.testing.assert_allclose(got.data, ref.numpy(), rtol=1e-12)


def test_nll_loss_on_an_empty_batch_names_itself():
    with pytest.raises(wg.ShapeError, match=r"vmap: nll_loss runs once per example.*empty"):
        wg.vmap(lambda x, t: F.nll_loss(x, t))(wg.zeros((0, 4, 5)),
                                               wg.zeros((0, 4), dtype="int64"))


def test_an_in_place_write_into_a_writable_stride_0_batch_of_one_is_allowed():
    x = wg.Tensor(np.arange(3.0)[None])  # strides (0, 8): one example, its own memory
    assert x.data.strides[0] == 0 and x.data.flags.writeable
    out = wg.vmap(lambda v: v.add_(1))(x)
    np.testing.assert_array_equal(out.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(x.data, [[1.0, 2.0, 3.0]])


def test_a_gradient_no_cotangent_reaches_lines_up_with_the_batch():
    """A unit's back may return a constant for an input (no seed reaches it): vmap over the
    vjp_fn still gives each cotangent its own (zero) gradient, inside an outer vmap too."""
    from wengert.units import unit

    @unit(back=lambda dy, y, x, z: (dy * 2, wg.zeros(z.shape)))
    def doubled(x, z):
        return 2 * x + 0 * z

    z = wg.tensor(np.ones(3))

    def pulled(a):
        return wg.vmap(wg.vjp(doubled, a, z)[1])(wg.tensor(np.eye(3)))

    gx, gz = pulled(wg.tensor(np.ones(3)))
    np.testing.assert_array_equal(gx.data, 2 * np.eye(3))
    assert gz.shape == (3, 3) and not gz.data.any()
    gx, gz = wg.vmap(pulled)(wg.tensor(np.ones((2, 3))))
    np.testing.assert_array_equal(gx.data, np.broadcast_to(2 * np.eye(3), (2, 3, 3)))
    assert gz.shape == (2, 3, 3) and not gz.data.any()
