"""Debugging aids: detect_anomaly names the op, the user's line and the input shapes for the
first NaN/Inf in forward and in backward; register_hook on leaves and intermediates."""
import importlib.util
import inspect

import numpy as np
import pytest

import wengert as wg
from wengert.errors import AnomalyError


def _line_of(text, fn):
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def _forward_nan(x):
    return wg.log(x * 2)  # log of a negative: the first NaN


def _backward_inf(x):
    return wg.sqrt(x).sum()  # finite forward at 0, infinite gradient there


def test_forward_nan_names_op_line_and_shapes():
    x = wg.tensor(np.array([[1.0, -1.0, 2.0]]), requires_grad=True)
    with pytest.raises(AnomalyError) as info, np.errstate(invalid="ignore"):
        with wg.detect_anomaly():
            _forward_nan(x)
    message = str(info.value)
    assert "'log' produced a non-finite value" in message
    assert "shapes [(1, 3)]" in message
    assert f'{__file__}", line {_line_of("wg.log", _forward_nan)}' in message


def test_backward_inf_names_op_line_and_shapes():
    x = wg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    with pytest.raises(AnomalyError) as info, np.errstate(divide="ignore"):
        with wg.detect_anomaly():
            _backward_inf(x).backward()
    message = str(info.value)
    assert "the backward of 'sqrt' produced a non-finite gradient" in message
    assert "input shapes [(2,)]" in message
    assert f'{__file__}", line {_line_of("wg.sqrt", _backward_inf)}' in message


def test_without_anomaly_mode_the_nan_passes_silently():
    with np.errstate(invalid="ignore"):
        y = _forward_nan(wg.tensor(np.array([-1.0]), requires_grad=True))
    assert np.isnan(y.item())
    assert not wg.is_anomaly_enabled()


def test_call_site_found_for_user_code_in_a_folder_named_wengert(tmp_path):
    # A project checked out as .../wengert/ must still see its own lines in the report.
    folder = tmp_path / "wengert"
    folder.mkdir()
    (folder / "user_code.py").write_text(
        "import wengert as wg\n\ndef f(x):\n    return wg.log(x)\n")
    spec = importlib.util.spec_from_file_location("user_code", folder / "user_code.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(AnomalyError, match=r"user_code\.py\", line 4"), \
            np.errstate(invalid="ignore"), wg.detect_anomaly():
        module.f(wg.tensor(np.array([-1.0]), requires_grad=True))


def test_hooks_on_leaf_and_intermediate():
    x = wg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    seen = {}
    x.register_hook(lambda g: seen.setdefault("x", g.data.copy()))
    h = x * x
    h.register_hook(lambda g: seen.setdefault("h", g.data.copy()))
    (3 * h).sum().backward()
    np.testing.assert_array_equal(seen["h"], [3.0, 3.0])  # d(3 sum h)/dh
    np.testing.assert_array_equal(seen["x"], [6.0, 12.0])  # 3 * 2x
    np.testing.assert_array_equal(x.grad.data, [6.0, 12.0])


def test_hook_can_replace_a_gradient_and_be_removed():
    x = wg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 5
    handle = h.register_hook(lambda g: g * 0)  # cut the gradient flowing into h
    (h.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    handle.remove()
    x.grad = None
    h = x * 5
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])
