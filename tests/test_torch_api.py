"""The PyTorch-named Tensor methods (ops/torch_api.py) with PyTorch as the oracle: values,
dtypes and gradients (from random upstream gradients) of each method, the dim/keepdim
aliases, the in-place methods in reverse and forward mode, and the errors."""
import numpy as np
import pytest

import wengert as wg
from wengert.autograd import forward_ad as fwd
from wengert.check import gradcheck
from wengert.errors import ArgumentError, DTypeError, GraphError, ShapeError

# torch's forward mode warns from its own internals
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")

# --- helpers -----------------------------------------------------------------------------------


def _pos(*shape):
    """Inputs in [0.5, 2]: inside the domain of log, sqrt, pow with a tensor exponent..."""
    return lambda r: r.uniform(0.5, 2.0, shape)


def _arrays(inputs, rng):
    """A case's inputs: a shape gives standard normal float64, a callable draws from ``rng``,
    an array is used as it is."""
    return [rng.standard_normal(a) if isinstance(a, tuple) else a(rng) if callable(a)
            else np.asarray(a) for a in inputs]


def _leaves(M, arrays):
    """The arrays as leaves of wengert or torch (``M``); floating ones require grad."""
    return [M.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]


def _np(t):
    """The values of a wengert or torch tensor, or of a number, as an array."""
    if isinstance(t, wg.Tensor):
        return np.asarray(t.data)
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _flat(out):
    """A method's result as a list: split, max(dim=...), sort... give several tensors."""
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _assert_same(w, t, itemsize=8):
    """Same shape, dtype and values (to the precision of the dtype, or of ``itemsize``
    bytes when that is less: a float64 gradient through a float32 output)."""
    a, b = _np(w), _np(t)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    size = min(a.dtype.itemsize, itemsize)
    tol = {2: 1e-3, 4: 1e-6}.get(size, 1e-10) if a.dtype.kind == "f" else 0
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _grad(leaf):
    """A leaf's gradient as an array (zeros where none reached it: torch and wengert may
    differ in None against zeros for an overwritten input)."""
    g = leaf.grad
    return np.zeros(leaf.shape, _np(leaf).dtype) if g is None else _np(g)


def _compare(torch, fn, arrays, rng, torch_fn=None):
    """Run ``fn`` on wengert leaves and ``torch_fn`` (default ``fn``: the methods share their
    names) on torch leaves made from ``arrays``; check every output, then backpropagate the
    same random upstream gradients through the outputs that require grad in both and check
    every leaf's gradient."""
    w_in, t_in = _leaves(wg, arrays), _leaves(torch, arrays)
    w_out, t_out = _flat(fn(*w_in)), _flat((torch_fn or fn)(*t_in))
    assert len(w_out) == len(t_out)
    for w, t in zip(w_out, t_out):
        _assert_same(w, t)
        assert getattr(w, "requires_grad", False) == getattr(t, "requires_grad", False)
    pairs = [(w, t) for w, t in zip(w_out, t_out) if getattr(t, "requires_grad", False)]
    if pairs:
        seeds = [rng.standard_normal(t.shape).astype(_np(t).dtype) for _, t in pairs]
        wg.autograd.backward([w for w, _ in pairs], [wg.tensor(s) for s in seeds])
        torch.autograd.backward([t for _, t in pairs], [torch.tensor(s) for s in seeds])
    itemsize = min([_np(t).dtype.itemsize for _, t in pairs], default=8)
    for w, t in zip(w_in, t_in):
        if t.requires_grad:
            _assert_same(_grad(w), _grad(t), itemsize)


def _float_outputs(fn):
    """``fn`` keeping its floating tensor outputs (what gradcheck differentiates)."""
    return lambda *a: [o for o in _flat(fn(*a)) if isinstance(o, wg.Tensor)
                       and o.dtype.kind == "f"]


def _case(name, fn, *inputs, torch_fn=None, check=True):
    """A table row; ``check=False`` where a float64 gradcheck makes no sense (no gradient,
    or a cast to a lower precision)."""
    return pytest.param(fn, inputs, torch_fn, check, id=name)


X = (3, 4)
TIES = np.array([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, -1.0, -1.0], [5.0, 4.0, 4.0, 5.0]])
BOOLS = np.array([[True, True, True], [True, False, False], [False, False, False]])
MASK = np.array([True, False, False, True])  # broadcasts over X's rows
MASK_COL = np.array([[True], [False], [True]])  # and over its columns
IDX_REPEATS = np.array([2, 0, 2, 2])
GATHER_1 = np.array([[3, 0, 0, 2, 1, 3], [1, 1, 2, 0, 3, 3]])  # (2, 6) on X along dim 1
GATHER_0 = np.array([[2, 0, 1], [0, 2, 2]])  # (2, 3) on X along dim 0: smaller outside dim
CMP_A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
CMP_B = np.array([[1.0, 0.0, 3.0], [4.0, 6.0, 5.0]])


def _f32(r):
    return r.standard_normal(X).astype(np.float32)


CASES = [
    # reductions: dim= / keepdim= (negative too), positional, tuples, NumPy's spelling
    _case("sum", lambda x: x.sum(), X),
    _case("sum_dim_neg_keepdim", lambda x: x.sum(dim=-1, keepdim=True), X),
    _case("sum_dim_positional", lambda x: x.sum(1), X),
    _case("sum_dim_tuple", lambda x: x.sum(dim=(0, 2)), (2, 3, 4)),
    _case("sum_axis_keepdims", lambda x: x.sum(axis=0, keepdims=True), X,
          torch_fn=lambda x: x.sum(dim=0, keepdim=True)),
    _case("mean_dim_neg", lambda x: x.mean(dim=-2), X),
    _case("prod_dim_keepdim", lambda x: x.prod(dim=1, keepdim=True), X),
    _case("logsumexp", lambda x: x.logsumexp(dim=-1), X),
    _case("norm", lambda x: x.norm(), X),
    _case("norm_dim", lambda x: x.norm(dim=1, keepdim=True), X),
    _case("argmax", lambda x: x.argmax(), X, check=False),
    _case("argmax_dim", lambda x: x.argmax(dim=1), X, check=False),
    _case("argmin_dim_neg_keepdim", lambda x: x.argmin(dim=-1, keepdim=True), X, check=False),
    _case("any_dim", lambda b: b.any(dim=1), BOOLS, check=False),
    _case("all_dim_keepdim", lambda b: b.all(dim=0, keepdim=True), BOOLS, check=False),
    _case("amax_dim", lambda x: x.amax(dim=1), X),
    _case("amin_dim_tuple_keepdim", lambda x: x.amin(dim=(0, -1), keepdim=True), (2, 3, 4)),
    # ties: amax / max() / max(axis=) share the gradient evenly, as torch's amax and max()
    _case("amax_ties", lambda x: x.amax(dim=1), TIES, check=False),
    _case("amin_ties", lambda x: x.amin(dim=0), TIES, check=False),
    _case("max_all_ties", lambda x: x.max(), TIES, check=False),
    _case("min_all", lambda x: x.min(), X),
    _case("max_axis_is_amax", lambda x: x.max(axis=1), TIES,
          torch_fn=lambda x: x.amax(dim=1), check=False),
    # max/min with a dim: (values, indices), the gradient at the index (distinct values)
    _case("max_dim", lambda x: x.max(dim=1), X),
    _case("max_dim_positional", lambda x: x.max(0), X),
    _case("min_dim_neg_keepdim", lambda x: x.min(dim=-1, keepdim=True), X),
    _case("max_dim_3d", lambda x: x.max(dim=1, keepdim=False), (2, 3, 4)),
    _case("max_tensor", lambda x, y: x.max(y), X, (4,)),
    _case("min_tensor", lambda x, y: x.min(y), X, X),
    # var/std are NumPy's (ddof=0): torch's correction=0 / the default correction=1 with ddof=1
    _case("var_axis", lambda x: x.var(axis=0), X,
          torch_fn=lambda x: x.var(dim=0, correction=0)),
    _case("std_ddof1_keepdims", lambda x: x.std(axis=1, ddof=1, keepdims=True), X,
          torch_fn=lambda x: x.std(dim=1, keepdim=True)),
    _case("softmax_dim0", lambda x: x.softmax(dim=0), X),
    _case("softmax_default_last", lambda x: x.softmax(), X, torch_fn=lambda x: x.softmax(-1)),
    _case("log_softmax_dim_neg", lambda x: x.log_softmax(dim=-1), X),
    _case("squeeze_dim", lambda x: x.squeeze(dim=1), (3, 1, 4)),
    _case("squeeze_all", lambda x: x.squeeze(), (3, 1, 4, 1)),
    # PyTorch's dim=: named axes that are not of size 1 stay
    _case("squeeze_dim_not_size_1_kept", lambda x: x.squeeze(dim=0), X),
    _case("squeeze_dim_tuple_mixed", lambda x: x.squeeze(dim=(0, 1, -1)), (3, 1, 4, 1)),
    _case("unsqueeze_dim_neg", lambda x: x.unsqueeze(dim=-1), X),
    _case("unsqueeze_positional", lambda x: x.unsqueeze(0), X),
    # arithmetic
    _case("add_alpha_broadcast", lambda x, y: x.add(y, alpha=2), X, (4,)),
    _case("add_number", lambda x: x.add(1.5), X),
    _case("sub_alpha", lambda x, y: x.sub(y, alpha=-0.5), X, X),
    _case("subtract", lambda x, y: x.subtract(y), X, (3, 1)),
    _case("mul", lambda x, y: x.mul(y), X, (4,)),
    _case("multiply_number", lambda x: x.multiply(2.5), X),
    _case("div", lambda x, y: x.div(y), X, _pos(*X)),
    _case("divide_broadcast", lambda x, y: x.divide(y), X, _pos(3, 1)),
    _case("pow_tensor", lambda x, y: x.pow(y), _pos(*X), X),
    _case("pow_number", lambda x: x.pow(3), X),
    _case("neg", lambda x: x.neg(), X),
    _case("negative", lambda x: x.negative(), X),
    _case("maximum", lambda x, y: x.maximum(y), X, X),
    _case("minimum", lambda x, y: x.minimum(y), X, (4,)),
    *[_case(op, lambda a, b, op=op: getattr(a, op)(b), CMP_A, CMP_B, check=False)
      for op in ("eq", "ne", "lt", "le", "gt", "ge")],
    _case("gt_number", lambda x: x.gt(0), X, check=False),
    # clamp: number bounds, tensor bounds (broadcast; random, so some min > max), min > max
    _case("clamp", lambda x: x.clamp(min=-0.5, max=0.5), X),
    _case("clamp_min_only", lambda x: x.clamp(min=-0.3), X),
    _case("clamp_max_positional", lambda x: x.clamp(None, 0.2), X),
    _case("clamp_min_gt_max", lambda x: x.clamp(min=1.0, max=-1.0), X),
    _case("clamp_tensor_bounds", lambda x, lo, hi: x.clamp(lo, hi), X, (4,), (3, 1)),
    _case("clamp_tensor_min_gt_max", lambda x, lo, hi: x.clamp(min=lo, max=hi), X,
          lambda r: r.uniform(0.5, 1.0, 4), lambda r: r.uniform(-1.0, -0.5, (3, 1))),
    _case("clamp_tensor_min_number_max", lambda x, lo: x.clamp(lo, 0.4), X, (4,),
          torch_fn=lambda x, lo: x.clamp(lo, lo.new_tensor(0.4))),  # torch wants 2 tensors
    _case("masked_fill_broadcast", lambda x, m: x.masked_fill(m, 1.5), X, MASK),
    _case("masked_fill_0d_tensor", lambda x, m, v: x.masked_fill(m, v), X, MASK_COL, ()),
    _case("where", lambda x, y: x.where(x > 0, y), X, (4,)),
    # dtypes and sizes
    _case("float", lambda x: x.float(), X, check=False),
    _case("double", lambda x: x.double(), _f32, check=False),
    _case("half", lambda x: x.half(), X, check=False),
    _case("long", lambda x: (x * 3).long(), X, check=False),
    _case("int", lambda x: (x * 3).int(), X, check=False),
    _case("bool", lambda x: x.round().bool(), X, check=False),
    _case("type_as", lambda x, y: x.type_as(y), X, _f32, check=False),
    _case("numel_dim", lambda x: (x.numel(), x.dim()), (2, 3, 4), check=False),
    _case("contiguous", lambda x: x.t().contiguous(), X),
    # shape
    _case("expand_minus1_new_dims", lambda x: x.expand(2, -1, 4), (3, 1)),
    _case("expand_tuple", lambda x: x.expand((3, 4)), (4,)),
    _case("expand_as", lambda x, y: x.expand_as(y), (1, 4), X),
    _case("view_as", lambda x, y: x.view_as(y), X, (2, 6)),
    _case("reshape_as_noncontiguous", lambda x, y: x.t().reshape_as(y), X, (2, 6)),
    _case("t", lambda x: x.t(), X),
    _case("t_1d", lambda x: x.t(), (4,)),
    _case("split_size_not_dividing", lambda x: x.split(2, dim=1), (3, 5)),
    _case("split_sections", lambda x: x.split([1, 2], dim=-2), X),
    _case("chunk3_of_4", lambda x: x.chunk(3), (4,)),  # torch: 2 chunks of 2
    _case("chunk3_of_7", lambda x: x.chunk(3), (7,)),  # torch: 3, 3, 1
    _case("chunk3_of_7_dim_neg", lambda x: x.chunk(3, dim=-1), (2, 7)),
    _case("unbind", lambda x: x.unbind(1), X),
    _case("narrow_neg_start", lambda x: x.narrow(1, -3, 2), X),
    _case("select_neg", lambda x: x.select(0, -1), X),
    _case("index_select_repeats", lambda x, i: x.index_select(1, i), X, IDX_REPEATS),
    _case("index_select_dim_neg", lambda x, i: x.index_select(-2, i), X, np.array([1])),
    _case("gather_dim1", lambda x, i: x.gather(1, i), X, GATHER_1),
    _case("gather_smaller_outside_dim", lambda x, i: x.gather(0, i), X, GATHER_0),
    _case("flip", lambda x: x.flip(0, 1), X),
    _case("flip_tuple_neg", lambda x: x.flip((-1,)), (2, 3, 4)),
    _case("sort", lambda x: x.sort(dim=0), X),
    _case("sort_descending", lambda x: x.sort(descending=True), X),
    _case("sort_3d_descending", lambda x: x.sort(dim=1, descending=True), (2, 3, 4)),
    _case("argsort_descending", lambda x: x.argsort(dim=1, descending=True), X, check=False),
    _case("argsort", lambda x: x.argsort(), X, check=False),
    _case("topk_largest", lambda x: x.topk(2), X),
    _case("topk_smallest", lambda x: x.topk(3, dim=0, largest=False), X),
    # new tensors: this tensor's dtype unless dtype= says otherwise
    _case("new_zeros_ones", lambda x: (x.new_zeros(2, 3), x.new_ones((2,))), _f32,
          check=False),
    _case("new_full_requires_grad", lambda x: x.new_full((2, 2), 3.5, requires_grad=True), X,
          check=False),
    _case("new_tensor", lambda x: x.new_tensor([[1, 2], [3, 4]]), _f32, check=False),
    _case("new_zeros_dtype", lambda x: x.new_zeros(2, dtype=np.int32), X,
          torch_fn=lambda x: x.new_zeros(2, dtype=x.int().dtype), check=False),
    # in place on a non-leaf
    _case("fill_0d_tensor", lambda x, v: (x * 1).fill_(v), X, ()),
    _case("copy_broadcast", lambda x, s: (x * 1).copy_(s), X, (4,)),
    _case("copy_float64_into_float32", lambda s: s.float().new_zeros(3, 4).copy_(s), (4,),
          check=False),
    _case("masked_fill_inplace_0d", lambda x, m, v: (x * 1).masked_fill_(m, v), X, MASK, ()),
    _case("clamp_inplace_tensor_bounds", lambda x, lo, hi: (x * 1).clamp_(lo, hi), X, (4,),
          (3, 1)),
    _case("clamp_inplace_min_gt_max", lambda x: (x * 1).clamp_(0.5, -0.5), X),
]


@pytest.mark.parametrize("fn, inputs, torch_fn, check", CASES)
def test_method_matches_torch(torch_mod, rng, fn, inputs, torch_fn, check):
    arrays = _arrays(inputs, rng)
    _compare(torch_mod, fn, arrays, rng, torch_fn)
    if check:
        gradcheck(_float_outputs(fn), tuple(arrays))


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_with_ties_send_the_gradient_to_the_returned_index_only(torch_mod, rng,
                                                                             name):
    # which of the tied entries is returned may differ from torch; in both libraries the
    # gradient must go to the returned one alone (amax/amin would split it)
    seed = rng.standard_normal(3)
    rows = np.arange(3)
    for M in (wg, torch_mod):
        x = M.tensor(TIES, requires_grad=True)
        values, indices = getattr(x, name)(dim=1)
        values.backward(M.tensor(seed))
        idx = _np(indices)
        np.testing.assert_array_equal(TIES[rows, idx], getattr(TIES, name)(axis=1))
        np.testing.assert_array_equal(_np(values), getattr(TIES, name)(axis=1))
        expected = np.zeros_like(TIES)
        expected[rows, idx] = seed
        np.testing.assert_array_equal(_grad(x), expected)
    # the ties are real: every row holds its extreme twice
    assert all(np.sum(row == getattr(row, name)()) == 2 for row in TIES)


def test_contiguous_and_same_dtype_casts_return_the_tensor_itself(torch_mod):
    for M in (wg, torch_mod):
        x = M.tensor(np.ones(X))
        assert x.contiguous() is x and x.double() is x and x.type_as(x) is x
        assert x.t().contiguous() is not x


# --- in place ------------------------------------------------------------------------------------
UNARY_INPLACE = ["exp_", "log_", "log1p_", "expm1_", "sqrt_", "square_", "reciprocal_", "abs_",
                 "sin_", "cos_", "tan_", "tanh_", "sigmoid_", "relu_", "neg_"]


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace_on_a_non_leaf_matches_torch(torch_mod, rng, name):
    # (0.2, 1.2) lies in every domain (log, sqrt, tan's first branch); sign-free ops get both
    low = 0.2 if name in ("log_", "log1p_", "sqrt_", "reciprocal_", "tan_") else -1.2
    x = rng.uniform(low, 1.2, X)

    def fn(x):
        z = x * 1
        assert getattr(z, name)() is z
        return z
    _compare(torch_mod, fn, [x], rng)
    gradcheck(fn, (x,))


# torch refuses a write over a value that a backward needs (exp_, tanh_... save their
# output; so does pow_ with a tensor exponent): those come last
def _chain_arith(x, y, own=lambda z: z):
    z = x * 1
    z.sin_().mul_(y).add_(y, alpha=2).sub_(x, alpha=0.5).div_(y.abs() + 1).cos_().neg_()
    # z and a view of it as the operand: read before the write (torch refuses that, so its
    # oracle passes a clone as `own`)
    z.add_(own(z).flip(0)).mul_(own(z))
    return z.square_().tanh_()


def _chain_unary(x, y):
    z = x * 1
    z.abs_().add_(0.1).log_().square_().cos_().clamp_(-0.7, 0.9).add_(1).log1p_()
    return z.pow_(y)


def _chain_views(x, y, m):
    # writes through narrow / select / t() views of a non-leaf reach it, as in torch
    z = x * 1
    z.narrow(1, 1, 2).mul_(y[:, :2]).sin_()
    z.select(0, -1).masked_fill_(m, 0.25)
    z.t().sub_(y.t(), alpha=0.5).relu_()
    return z


@pytest.mark.parametrize("chain, torch_chain, extra", [
    (_chain_arith, lambda x, y: _chain_arith(x, y, own=lambda z: z.clone()), ()),
    (_chain_unary, None, ()), (_chain_views, None, (MASK,))], ids=["arith", "unary", "views"])
def test_inplace_chain_on_a_non_leaf_matches_torch(torch_mod, rng, chain, torch_chain, extra):
    x, y = rng.standard_normal(X), rng.standard_normal(X)
    _compare(torch_mod, chain, [x, y, *extra], rng, torch_chain)
    gradcheck(chain, (x, y, *extra))


def _dual_chain(x, y):
    z = x * 1
    return z.exp_().mul_(y).add_(y, alpha=-2).clamp_(-1.5, 1.5).sigmoid_()


def _dual_copy(x, y):
    z = y.new_zeros(3, 4)  # no tangent: copy_ gives it x's
    return z.copy_(x).mul_(y)


@pytest.mark.parametrize("fn", [_dual_chain, _dual_copy], ids=["chain", "copy_"])
def test_inplace_methods_in_forward_mode_match_torch(torch_mod, rng, fn):
    x, y = rng.standard_normal(X), rng.standard_normal(X)
    tx, ty = rng.standard_normal(X), rng.standard_normal(X)
    tfwd = torch_mod.autograd.forward_ad
    with fwd.dual_level():
        out = fn(fwd.make_dual(wg.tensor(x), wg.tensor(tx)),
                 fwd.make_dual(wg.tensor(y), wg.tensor(ty)))
        w_primal, w_tangent = fwd.unpack_dual(out)
    with tfwd.dual_level():
        out = fn(tfwd.make_dual(torch_mod.tensor(x), torch_mod.tensor(tx)),
                 tfwd.make_dual(torch_mod.tensor(y), torch_mod.tensor(ty)))
        t_primal, t_tangent = tfwd.unpack_dual(out)
    _assert_same(w_primal, t_primal)
    _assert_same(w_tangent, t_tangent)


def test_clamp_with_one_bound_in_forward_mode_and_double_backward(torch_mod, rng):
    # with one bound, clip's rule builds its mask from tensors too (forward mode,
    # create_graph)
    x, t, seed = (rng.standard_normal(X) for _ in range(3))
    with fwd.dual_level():
        w_tangent = fwd.unpack_dual(fwd.make_dual(wg.tensor(x), wg.tensor(t)).clamp(max=0.2))[1]
    tfwd = torch_mod.autograd.forward_ad
    with tfwd.dual_level():
        t_tangent = tfwd.unpack_dual(
            tfwd.make_dual(torch_mod.tensor(x), torch_mod.tensor(t)).clamp(max=0.2))[1]
    _assert_same(w_tangent, t_tangent)
    grads = []
    for M in (wg, torch_mod):
        xl = M.tensor(x, requires_grad=True)
        out = xl.clamp(max=0.2) * xl
        g, = M.autograd.grad(out, [xl], M.tensor(seed), create_graph=True)
        g.backward(M.tensor(seed))
        grads.append((g, xl.grad))
    for w, t in zip(*grads):
        _assert_same(w, t)


@pytest.mark.parametrize("write", [lambda x, s: x.zero_(), lambda x, s: x.fill_(-2.5),
                                   lambda x, s: x.copy_(s)], ids=["zero_", "fill_", "copy_"])
def test_leaf_writes_under_no_grad_then_differentiate_as_torch(torch_mod, rng, write):
    # a parameter update: allowed under no_grad, the leaf still requires grad, and what is
    # computed from it afterwards differentiates at its new values
    x, s, seed = rng.standard_normal(X), rng.standard_normal(4), rng.standard_normal(X)

    def run(M):
        leaf = M.tensor(x, requires_grad=True)
        with M.no_grad():
            assert write(leaf, M.tensor(s)) is leaf
        assert leaf.requires_grad and leaf.grad is None
        (leaf * leaf).backward(M.tensor(seed))
        return leaf
    w, t = run(wg), run(torch_mod)
    _assert_same(w, t)
    _assert_same(_grad(w), _grad(t))


@pytest.mark.parametrize("name, write", [
    ("zero_", lambda x: x.zero_()), ("fill_", lambda x: x.fill_(1.0)),
    ("copy_", lambda x: x.copy_(x * 2)), ("add_", lambda x: x.add_(1.0, alpha=2)),
    ("clamp_", lambda x: x.clamp_(0.0, 1.0)), ("mul_", lambda x: x.mul_(2.0)),
    ("exp_", lambda x: x.exp_()), ("neg_", lambda x: x.neg_())])
def test_writing_into_a_leaf_that_requires_grad_is_refused_as_torch(torch_mod, name, write):
    x = np.arange(4.0)
    with pytest.raises(GraphError, match=name):
        write(wg.tensor(x, requires_grad=True))
    with pytest.raises(RuntimeError, match="leaf"):
        write(torch_mod.tensor(x, requires_grad=True))


@pytest.mark.parametrize("name", ["exp_", "expm1_", "sqrt_", "reciprocal_", "tan_", "tanh_",
                                  "sigmoid_"])
def test_writing_over_an_output_that_backward_needs_is_refused_as_torch(torch_mod, name):
    x = np.linspace(0.2, 1.2, 6)
    for M, error in ((wg, GraphError), (torch_mod, RuntimeError)):
        z = M.tensor(x, requires_grad=True) * 1
        getattr(z, name)().mul_(2)
        with pytest.raises(error, match="modified"):
            z.sum().backward()


def test_pow_with_a_number_exponent_can_be_followed_by_writes_as_torch(torch_mod, rng):
    # torch's pow(x, number) backward reads only x, which it keeps: the write after is fine
    _compare(torch_mod, lambda x: (x * 1).pow_(2).neg_(), [rng.uniform(0.5, 2.0, X)], rng)


# --- errors -----------------------------------------------------------------------------------
def _long(x, data):
    """An int64 tensor of the library of ``x`` (torch or wengert)."""
    return x.new_tensor(data).long()


ERRORS = [
    # (id, call, wengert's error, match, whether torch refuses it too)
    ("sum_axis_and_dim", lambda x: x.sum(axis=0, dim=0), ArgumentError, "axis=0 and dim=0",
     True),
    ("amax_axis_and_dim", lambda x: x.amax(axis=1, dim=1), ArgumentError, "dim=1", True),
    ("max_axis_and_dim", lambda x: x.max(dim=0, axis=0), ArgumentError, "dim=0", True),
    ("softmax_axis_and_dim", lambda x: x.softmax(axis=0, dim=0), ArgumentError, "dim=0", True),
    ("squeeze_axis_and_dim", lambda x: x.squeeze(axis=0, dim=0), ArgumentError, "dim=0", True),
    ("unsqueeze_no_dim", lambda x: x.unsqueeze(), ArgumentError, "dim", True),
    ("squeeze_dim_out_of_range", lambda x: x.squeeze(dim=2), ShapeError, "dim 2", True),
    ("sum_bad_dim", lambda x: x.sum(dim=2), ShapeError, "2", True),
    ("logsumexp_bad_neg_dim", lambda x: x.logsumexp(dim=-3), ShapeError, "-3", True),
    ("max_bad_dim", lambda x: x.max(dim=2), ShapeError, "2", True),
    ("min_bad_neg_dim", lambda x: x.min(dim=-3), ShapeError, "-3", True),
    ("softmax_bad_dim", lambda x: x.softmax(dim=2), ShapeError, "2", True),
    ("unsqueeze_bad_dim", lambda x: x.unsqueeze(3), ShapeError, "3", True),
    ("split_bad_dim", lambda x: x.split(2, dim=2), ShapeError, "dim 2", True),
    ("chunk_bad_dim", lambda x: x.chunk(2, dim=-3), ShapeError, "dim -3", True),
    ("unbind_bad_dim", lambda x: x.unbind(2), ShapeError, "dim 2", True),
    ("flip_bad_dim", lambda x: x.flip(2), ShapeError, "dim 2", True),
    ("sort_bad_dim", lambda x: x.sort(dim=2), ShapeError, "dim 2", True),
    ("narrow_past_the_end", lambda x: x.narrow(1, 3, 2), ShapeError, "start 3", True),
    ("select_out_of_range", lambda x: x.select(0, 3), ShapeError, "index 3", True),
    ("topk_k_too_large", lambda x: x.topk(5), ShapeError, "k=5", True),
    ("var_dim", lambda x: x.var(dim=0), ArgumentError, "dim=.*ddof", False),
    ("std_unbiased", lambda x: x.std(unbiased=False), ArgumentError, "unbiased=", False),
    ("split_size_0", lambda x: x.split(0), ArgumentError, "positive", True),
    ("split_sections_bad_sum", lambda x: x.split([1, 1]), ShapeError, "add up", True),
    ("chunk_0", lambda x: x.chunk(0), ArgumentError, "positive", True),
    ("gather_index_too_large", lambda x: x.gather(1, _long(x, np.zeros((4, 3)))), ShapeError,
     r"\(4, 3\)", True),
    ("gather_index_fewer_dims", lambda x: x.gather(1, _long(x, [0, 1, 2])), ShapeError,
     "same number of dims", True),
    ("index_select_2d", lambda x: x.index_select(1, _long(x, [[0, 1]])), ShapeError, "1-D",
     True),
    ("index_select_float", lambda x: x.index_select(1, x.new_tensor([0.0])), ShapeError,
     "integer", True),
    ("expand_fewer_sizes", lambda x: x.expand(4), ShapeError, "at least one size", True),
    ("expand_minus1_new_dim", lambda x: x.expand(-1, 3, 4), ShapeError, "leading", True),
    ("t_3d", lambda x: x.new_zeros(2, 2, 2).t(), ShapeError, "at most 2 dims", True),
    ("clamp_no_bounds", lambda x: x.clamp(), ArgumentError, "min= or max=", True),
    ("masked_fill_float_mask", lambda x: x.masked_fill(x.new_zeros(4), 1.0), ArgumentError,
     "bool", True),
    ("masked_fill_1d_value", lambda x: x.masked_fill(x.new_zeros(4).bool(), x.new_zeros(2)),
     ShapeError, "0-d", True),
    ("masked_fill_mask_not_broadcasting", lambda x: x.masked_fill(x.new_zeros(3).bool(), 1.0),
     ShapeError, "does not broadcast", True),
    ("fill_1d_value", lambda x: x.clone().fill_(x.new_zeros(2)), ShapeError, "0-d", True),
    ("copy_src_not_broadcasting", lambda x: x.clone().copy_(x.new_zeros(3)), ShapeError,
     "does not broadcast", True),
    ("copy_src_larger", lambda x: x.clone().copy_(x.new_zeros(2, 3, 4)), ShapeError,
     "does not broadcast", True),
    ("inplace_into_expand", lambda x: x.expand(2, 3, 4).add_(1.0), GraphError, "read-only",
     True),
    ("new_zeros_unknown_dtype", lambda x: x.new_zeros(2, dtype="complex64"), DTypeError,
     "complex64", False),
    ("new_full_complex_dtype", lambda x: x.new_full((2,), 1, dtype=np.complex128), DTypeError,
     "complex128", False),
]


@pytest.mark.parametrize("call, error, match, torch_refuses",
                         [pytest.param(*row[1:], id=row[0]) for row in ERRORS])
def test_errors(torch_mod, call, error, match, torch_refuses):
    x = np.arange(12.0).reshape(X)
    with pytest.raises(error, match=match):
        call(wg.tensor(x))
    if torch_refuses:  # not a refusal of wengert's own
        with pytest.raises((RuntimeError, IndexError, TypeError)):
            call(torch_mod.tensor(x))


def test_squeeze_positional_axis_is_numpys_and_refuses_an_axis_not_of_size_1():
    # NumPy's rule for axis (positional or axis=); PyTorch's dim= keeps such an axis instead
    x = wg.tensor(np.ones(X))
    for call in (lambda: x.squeeze(0), lambda: x.squeeze(axis=0)):
        with pytest.raises(ShapeError, match="not of size 1"):
            call()
    with pytest.raises(ValueError):
        np.ones(X).squeeze(0)


MATH_INPLACE = ["sinh_", "cosh_", "asin_", "acos_", "atan_", "asinh_", "atanh_", "arcsin_",
                "arccos_", "arctan_", "arcsinh_", "arctanh_", "log2_", "log10_", "exp2_",
                "deg2rad_", "rad2deg_", "logit_", "nan_to_num_", "erf_"]
MATH_INPLACE_BINARY = ["atan2_", "arctan2_", "hypot_", "xlogy_", "fmod_", "remainder_"]


@pytest.mark.parametrize("name, args", [
    *[(n, lambda y: ()) for n in MATH_INPLACE], *[(n, lambda y: (y,)) for n in MATH_INPLACE_BINARY],
    ("lerp_", lambda y: (y, 0.3)), ("logit_", lambda y: (0.3,))],
    ids=[*MATH_INPLACE, *MATH_INPLACE_BINARY, "lerp_", "logit_eps"])
def test_math_inplace_on_a_non_leaf_matches_torchs_out_of_place_op(torch_mod, rng, name, args):
    # torch has no derivative for some of these in place (asinh_...), so its oracle is the
    # out-of-place method, which the in-place one must equal
    x, y = rng.uniform(0.2, 0.8, X), rng.uniform(0.5, 2.0, X)

    def fn(x, y):
        z = x * 1
        assert getattr(z, name)(*args(y)) is z
        return z * y
    _compare(torch_mod, fn, [x, y], rng,
             torch_fn=lambda x, y: getattr(x * 1, name[:-1])(*args(y)) * y)
    gradcheck(fn, (x, y))
