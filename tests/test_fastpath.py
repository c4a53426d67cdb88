"""The C fast path of one- and two-input ops (wengert/autodiff/_fastpath.c) against the
Python reference it follows (``op.fallback``, primitive._make_unary / _make_binary): the same
tensors, nodes, gradients and errors on every op-table case, no leaked references, per-thread
grad mode, and the pure-Python mode (``WENGERT_PURE_PYTHON``)."""
import importlib
import os
import pathlib
import subprocess
import sys
import threading

import numpy as np
import pytest

import wengert as wg
from wengert.autodiff import primitive
from wengert.errors import ArgumentError, ShapeError, WengertError
from wengert.tensor import FRESH

HERE = pathlib.Path(__file__).parent
CASES = []
for path in sorted(HERE.glob("op_cases_*.py")):
    CASES += importlib.import_module(path.stem).CASES

PURE = os.environ.get("WENGERT_PURE_PYTHON", "0") not in ("", "0")
FastOp = getattr(primitive._fastpath, "FastOp", None)
FAST = {name: p for name, p in wg.REGISTRY.items() if FastOp and type(p.apply) is FastOp}
# one case per fast primitive whose inputs are exactly the op's arguments
FAST_CASES = [c for c in CASES if c.prim in FAST and len(c.inputs) == len(FAST[c.prim].vjps)]


def test_the_c_extension_is_built():
    """An install with a C compiler builds the extension, and every one- or two-input op
    without parameters runs through it (``WENGERT_PURE_PYTHON`` turns it off)."""
    assert PURE or primitive._fastpath is not None, (
        "wengert.autodiff._fastpath was not built: the install found no C compiler, so ops "
        "run their Python reference. Install gcc and reinstall (pip install -e .)")
    if not PURE:
        for op in (wg.exp, wg.tanh, wg.multiply, wg.add, wg.Tensor.__mul__):
            assert type(op) is FastOp
        assert {"exp", "tanh", "add", "multiply", "matmul"} <= set(FAST)


def test_every_fast_primitive_has_a_case():
    assert PURE or set(FAST) == {c.prim for c in FAST_CASES}


def _same_tensor(a, b, inputs):
    """``a`` (C) and ``b`` (Python) hold the same values and were recorded the same way."""
    assert type(a) is type(b) is wg.Tensor
    assert type(a.data) is type(b.data) is np.ndarray
    assert (a.data.dtype, a.data.shape) == (b.data.dtype, b.data.shape)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.requires_grad is b.requires_grad
    assert (a._node is None) == (b._node is None)
    for t in (a, b):
        if t._node is not None:
            node = t._node
            assert node.prim is b._node.prim
            assert all(x is y for x, y in zip(node.inputs, inputs, strict=True))
            data = [x.data if isinstance(x, wg.Tensor) else x for x in inputs]
            assert all(x is y for x, y in zip(node.arrays, data, strict=True))
            assert node.params is primitive._NO_PARAMS
            assert node.out is t.data and node.out_cell is FRESH
            assert t._version is FRESH and t.grad is None


@pytest.mark.parametrize("case", FAST_CASES or CASES[:1], ids=lambda c: c.id)
def test_c_and_python_agree(case):
    if PURE:  # nothing in C to compare: every op is its Python reference
        assert type(FAST_CASES) is list and not FAST_CASES and primitive._fastpath is None
        return
    rng = np.random.default_rng(0)
    arrays = [spec.sample(rng) for spec in case.inputs]
    op = FAST[case.prim].apply
    tensors = [wg.Tensor(np.array(a), requires_grad=spec.diff)
               for spec, a in zip(case.inputs, arrays)]
    # recording: same nodes, then the same gradients through them. Some cases' inputs only
    # fit after their fn reshapes them (kron, tensordot, cholesky of A A^T): then both paths
    # raise the same error.
    try:
        a = op(*tensors)
    except WengertError as err:
        with pytest.raises(type(err)) as py_err:
            op.fallback(*tensors)
        assert str(py_err.value) == str(err)
        return
    b = op.fallback(*tensors)
    _same_tensor(a, b, tensors)
    wanted = [t for t in tensors if t.requires_grad]
    if a.requires_grad:
        seed = wg.tensor(rng.uniform(-1, 1, a.shape))
        for ga, gb in zip(wg.autograd.grad((a * seed).sum(), wanted),
                          wg.autograd.grad((b * seed).sum(), wanted)):
            np.testing.assert_array_equal(ga.data, gb.data)
    with wg.no_grad():
        _same_tensor(op(*tensors), op.fallback(*tensors), tensors)
    plain = [wg.Tensor(np.array(x)) for x in arrays]
    _same_tensor(op(*plain), op.fallback(*plain), plain)
    if len(arrays) == 2:  # the other operand an ndarray or a NumPy scalar, as NumPy takes it
        mixed = [[tensors[0], np.array(arrays[1])], [arrays[0], tensors[1]]]
        if np.ndim(arrays[1]) == 0:
            mixed.append([tensors[0], np.array(arrays[1])[()]])
        for args in mixed:
            _same_tensor(op(*args), op.fallback(*args), args)


@pytest.mark.parametrize("value", [0.5, [0.5, -1.0]])
def test_zero_d_results_are_arrays(value):
    """NumPy returns a NumPy scalar for 0-d inputs; the tensor's data is still an ndarray."""
    x = wg.tensor(value, requires_grad=True)
    for op in (wg.exp, wg.tanh):
        y = op(x)
        assert type(y.data) is np.ndarray and y.shape == np.shape(value)
        np.testing.assert_allclose(y.data, getattr(np, op.__name__)(value))
    z = x * x
    assert type(z.data) is np.ndarray
    z.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.asarray(value))


def test_broadcast_errors_match_the_python_path():
    x, y = wg.ones(2), wg.ones(3)
    errors = []
    for op in (wg.add, getattr(wg.add, "fallback", wg.add)):
        with pytest.raises(ShapeError) as info:
            op(x, y)
        errors.append(info.value)
    assert str(errors[0]) == str(errors[1])
    assert "add" in str(errors[0]) and "(2,)" in str(errors[0]) and "(3,)" in str(errors[0])
    for err in errors:  # raised `from None`, as the Python path does
        assert err.__cause__ is None and err.__suppress_context__


def _primitive(forward, arity=1):
    rule = (lambda ns, g, ans, x: g) if arity == 1 else (lambda ns, g, ans, x, y: g)
    return primitive.Primitive("test_fastpath_op", forward, vjp=[rule] * arity,
                               register=False).apply


@pytest.mark.parametrize("error", [ArgumentError("test_fastpath_op: bad input"),
                                   TypeError("not a ValueError"),
                                   ZeroDivisionError("division")])
def test_other_forward_errors_pass_through_unchanged(error):
    def forward(x):
        raise error
    op = _primitive(forward)
    assert PURE or type(op) is FastOp
    with pytest.raises(type(error)) as info:
        op(wg.ones(2, requires_grad=True))
    assert info.value is error


def test_a_user_primitive_runs_through_the_c_path():
    double = _primitive(lambda x, y: 2 * x + y, arity=2)
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    y = double(x, 3.0)
    np.testing.assert_array_equal(y.data, [5.0, 7.0])
    assert y.grad_fn.prim.name == "test_fastpath_op" and y._node.inputs[1] == 3.0


def test_arguments_the_c_path_does_not_take_go_to_python():
    x = wg.tensor([0.0, 1.0])
    np.testing.assert_allclose(wg.exp(x=x).data, np.exp([0.0, 1.0]))  # a keyword
    np.testing.assert_allclose(wg.exp([0.0, 1.0]).data, np.exp([0.0, 1.0]))  # a list
    for call, args in ((wg.exp, ()), (wg.exp, (x, x)), (wg.add, (x,))):
        with pytest.raises(TypeError) as c_err:
            call(*args)
        with pytest.raises(TypeError) as py_err:
            getattr(call, "fallback", call)(*args)
        assert str(c_err.value) == str(py_err.value)


def test_methods_bind_as_python_functions_do():
    t = wg.tensor([1.0, 2.0])
    for y in (t * 2, t.__mul__(2), wg.Tensor.__mul__(t, 2), 2 * t):
        np.testing.assert_array_equal(y.data, [2.0, 4.0])
    np.testing.assert_allclose(t.exp().data, np.exp([1.0, 2.0]))
    assert wg.Tensor.exp is wg.exp  # looked up on the class: the op itself
    assert wg.exp.__name__ == "exp" and wg.exp.prim is wg.REGISTRY["exp"]
    assert "x" in str(__import__("inspect").signature(wg.exp))


def test_grad_mode_is_per_thread():
    """Another thread's no_grad (which sets the process-wide counter) does not stop this
    thread recording; this thread's own no_grad does."""
    inside, leave = threading.Event(), threading.Event()

    def other():
        with wg.no_grad():
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert inside.wait(10)
        x = wg.tensor([1.0, 2.0], requires_grad=True)
        assert (x * x).requires_grad and wg.exp(x).requires_grad
        with wg.no_grad():
            assert not (x * x).requires_grad and not wg.exp(x).requires_grad
    finally:
        leave.set()
        thread.join()


def test_no_references_leak():
    x = wg.tensor(np.ones(4), requires_grad=True)
    y = wg.tensor(np.ones(4))
    held = (x, x.data, y, y.data)

    def run():
        for _ in range(200):
            with wg.no_grad():
                x * y, wg.exp(x), x * 2.0
            z = wg.tanh(x * y)
            del z
            with pytest.raises(ShapeError):
                x + np.ones(3)

    run()
    before = [sys.getrefcount(o) for o in held]
    run()
    assert [sys.getrefcount(o) for o in held] == before


def test_pure_python_mode_gives_the_same_gradient():
    code = ("import numpy as np, wengert as wg\n"
            "from wengert.autodiff import primitive\n"
            "assert primitive._fastpath is None and type(wg.exp).__name__ == 'function'\n"
            "x = wg.tensor([0.3, -1.2, 2.0], dtype='float64', requires_grad=True)\n"
            "(wg.tanh(x * x + 1.5) * wg.exp(x)).sum().backward()\n"
            "print(repr(x.grad.data.tolist()))\n")
    env = dict(os.environ, WENGERT_PURE_PYTHON="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    x = wg.tensor([0.3, -1.2, 2.0], dtype="float64", requires_grad=True)
    (wg.tanh(x * x + 1.5) * wg.exp(x)).sum().backward()
    assert eval(out.stdout) == x.grad.data.tolist()


def test_a_requires_grad_set_by_hand_is_read_as_python_reads_it():
    t = wg.tensor([1.0, 2.0])
    t.requires_grad = np.True_
    for op in (wg.exp, getattr(wg.exp, "fallback", wg.exp)):
        assert op(t).requires_grad is True and op(t)._node.inputs[0] is t
    t.requires_grad = np.array([True, False])  # no single truth value: NumPy's ValueError
    for op in (wg.exp, getattr(wg.exp, "fallback", wg.exp)):
        with pytest.raises(ValueError, match="truth value of an array"):
            op(t)


def test_ops_copy_and_take_weak_references_as_python_functions_do():
    """copy.copy and copy.deepcopy return the op itself (a module holding an activation op
    deep-copies, as torch's _get_clones and EMA copies do); a weak reference finds it."""
    import copy

    holder = wg.nn.Module()
    holder.act = wg.tanh
    holder.lin = wg.nn.Linear(2, 2)
    clone = copy.deepcopy(holder)
    assert clone.act is wg.tanh and clone.lin is not holder.lin
    assert copy.copy(wg.multiply) is wg.multiply
    assert copy.deepcopy([wg.exp]) == [wg.exp]
    import weakref

    assert weakref.ref(wg.exp)() is wg.exp


REFLECTED = ["__rsub__", "__rmul__", "__rtruediv__", "__rpow__", "__rmod__", "__rfloordiv__",
             "__rmatmul__"]


@pytest.mark.parametrize("name", REFLECTED)
def test_reflected_operators_swap_their_operands_in_c_as_in_python(name):
    op, forward_op = getattr(wg.Tensor, name), getattr(wg.Tensor, name.replace("__r", "__", 1))
    assert PURE or (type(op) is FastOp) == (type(forward_op) is FastOp)
    x = wg.tensor([[1.5, 2.0], [0.5, 3.0]], requires_grad=True)
    others = [np.array([[1.0, -2.0], [3.0, 0.5]])] + ([2.5] if name != "__rmatmul__" else [])
    for other in others:
        a = op(x, other)
        b = getattr(op, "fallback", op)(x, other)
        _same_tensor(a, b, [other, x])  # recorded as forward(other, x)
        numpy_name = name.replace("__r", "__", 1)
        np.testing.assert_allclose(a.data, getattr(np.asarray(other), numpy_name)(x.data))
    np.testing.assert_allclose((2.0 - x).data, 2.0 - x.data)  # through Python's operator


def test_a_reflected_op_needs_two_inputs():
    if not PURE:
        with pytest.raises(ValueError, match="only a two-input op is reflected"):
            FastOp(1, np.exp, lambda x: x, wg.REGISTRY["exp"], "exp", True)


def test_the_node_keeps_the_arrays_the_forward_read_when_data_is_rebound_meanwhile():
    """A forward may run Python code (an object array's __mul__) or release the GIL while
    another thread rebinds ``x.data``: the node must still save the array it read, alive."""
    x = wg.Tensor(np.zeros(1))

    class Rebinds:
        def __mul__(self, other):
            x.data = np.ones(1)  # drops the last other reference to the array being read
            return 1.0

    read = np.empty(1, object)
    read[0] = Rebinds()
    x.data = read
    read_id = id(read)
    del read
    z = x * wg.tensor([2.0], requires_grad=True)
    saved = z._node.arrays[0]
    assert id(saved) == read_id and isinstance(saved[0], Rebinds)
    np.testing.assert_array_equal(x.data, [1.0])
