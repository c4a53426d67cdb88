"""In-place writes through views (PyTorch's semantics, PyTorch as the oracle): a write into a
view is recorded on the tensors it views, a view of a leaf that requires grad refuses writes,
and a view whose values a later write changed behind its back is refused, not silently
differentiated as its old values."""
import numpy as np
import pytest

import wengert as wg
from wengert.errors import GraphError

X = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def _run(M, scenario):
    """``scenario(M, x, w)`` builds a loss with library ``M`` (wengert or torch); returns the
    loss value and the gradients of x and w (None where w gets none)."""
    x = M.tensor(X, requires_grad=True)
    w = M.tensor([0.5, -1.5], requires_grad=True)
    loss = scenario(M, x, w)
    loss.backward()
    grads = [None if t.grad is None else np.asarray(t.grad.tolist()) for t in (x, w)]
    return float(loss.item()), grads


def _write_view_setitem(M, x, w):
    y = x * 2
    v = y[1:3]
    v[0] = w[0] * 5
    return (y * y).sum()


def _write_view_iadd(M, x, w):
    y = x * 2
    v = y[1:3]
    v += w
    return (y * y).sum() + v.sum()  # the view itself, after its own write


def _write_view_imul_keeps_earlier_consumers(M, x, w):
    y = x * 2
    z = y + 1          # recorded before the write: it saw the old values
    v = y[2:4]
    v *= w
    return (z * z).sum() + (y * y).sum()


def _write_view_of_untracked_buffer(M, x, w):
    buf = M.zeros(3)
    v = buf[:2]
    v += w
    return (buf * buf).sum() + x.sum()


def _augmented_slice_assignment(M, x, w):
    buf = M.zeros(3)
    buf[:2] += w       # getitem, += on the view, setitem back
    return (buf * buf).sum() + x.sum()


def _nested_views(M, x, w):
    y = (x * 2).reshape(2, 3)
    row = y[1]
    part = row[0:2]
    part *= w
    return (y * y).sum() + row.sum() + part.sum()


def _transposed_view(M, x, w):
    y = (x * 2).reshape(2, 3)
    col = y.T[0]       # y[:, 0] through a transpose
    col += w
    return (y * y).sum()


def _reshaped_view(M, x, w):
    y = x * 2
    r = y.reshape(2, 3)
    r[1, 1:] = w * 3
    return (y * y).sum()


def _sibling_view_not_overlapping(M, x, w):
    y = x * 2
    a = y[0:2]
    b = y[2:4]
    b += w
    return (a * a).sum() + (y * y).sum()


def _advanced_index_is_a_copy(M, x, w):
    y = x * 2
    c = y[[0, 1]]      # a copy: writing into it leaves y alone
    c += w
    return (c * c).sum() + (y * y).sum()


SCENARIOS = [_write_view_setitem, _write_view_iadd, _write_view_imul_keeps_earlier_consumers,
             _write_view_of_untracked_buffer, _augmented_slice_assignment, _nested_views,
             _transposed_view, _reshaped_view, _sibling_view_not_overlapping,
             _advanced_index_is_a_copy]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_write_through_a_view_matches_torch(scenario, torch_mod):
    value, (gx, gw) = _run(wg, scenario)
    t_value, (t_gx, t_gw) = _run(torch_mod, scenario)
    assert value == pytest.approx(t_value)
    np.testing.assert_allclose(gx, t_gx)
    np.testing.assert_allclose(gw, t_gw)


def test_write_through_a_view_by_hand():
    # y = 2x; y[1] = 5 w0: loss = sum(y^2) = 4(x0^2 + x2^2 + ...) + 25 w0^2
    x = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = wg.tensor([0.5], requires_grad=True)
    y = x * 2
    y[1:3][0] = w[0] * 5
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [8 * 1.0, 0.0, 8 * 3.0])
    np.testing.assert_allclose(w.grad.numpy(), [50 * 0.5])


def test_a_view_changed_by_a_later_write_is_refused():
    x = wg.tensor(X, requires_grad=True)
    w = wg.tensor(3.0, requires_grad=True)
    y = x * 2
    v = y[1:3]
    y *= w             # v's values change with y's, but v's node computed the old ones
    loss = (v * v).sum()
    with pytest.raises(GraphError, match="view .* after its base .* was modified in place"):
        loss.backward()


def test_a_view_taken_again_after_the_write_is_fine(torch_mod):
    def scenario(M, x, w):
        y = x * 2
        y[0:2] = w * 4
        v = y[1:3]     # taken after the write
        return (v * v).sum()
    value, (gx, gw) = _run(wg, scenario)
    t_value, (t_gx, t_gw) = _run(torch_mod, scenario)
    assert value == pytest.approx(t_value)
    np.testing.assert_allclose(gx, t_gx)
    np.testing.assert_allclose(gw, t_gw)


@pytest.mark.parametrize("write", [
    lambda w: w[1:].__iadd__(1.0),
    lambda w: w[0:2].__setitem__(0, 7.0),
    lambda w: w.reshape(3).__imul__(2.0),
    lambda w: w[None][0].__isub__(1.0),
], ids=["iadd-slice", "setitem-slice", "imul-reshape", "nested"])
def test_a_view_of_a_leaf_that_requires_grad_refuses_writes(write):
    w = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"a view \(shape .*\) of a leaf tensor of shape \(3,\)"):
        write(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])  # nothing was written
    with wg.no_grad():  # how optimizers write: allowed
        write(w)
    assert not np.array_equal(w.data, [1.0, 2.0, 3.0])


def test_a_copy_of_a_leaf_can_be_written():
    w = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = w[[0, 2]]      # advanced indexing copies
    c += 1.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])
    c.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [1.0, 0.0, 1.0])
