"""Numerical differentiation and gradcheck: SEED item 13, the report, and that a wrong rule
(first or second order) is caught."""
import importlib.util
import warnings

import numpy as np
import pytest

import wengert as wg
from conftest import REPO
from wengert.check import (central_difference_errors, gradcheck, numerical_grad,
                           numerical_jvp)
from wengert.errors import ArgumentError, GradcheckError, ShapeError


def _load_example(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_numerical_grad_and_jvp_match_hand_derivatives():
    # f(x, y) = sum(x^2 y): df/dx = 2 x y
    x, y = np.array([1.0, -2.0, 0.5]), np.array([3.0, 1.0, -1.0])
    g = numerical_grad(lambda x, y: (x * x * y).sum(), x, others=(y,))
    np.testing.assert_allclose(g, 2 * x * y, rtol=1e-8)
    gy = numerical_grad(lambda x, y: (x * x * y).sum(), y, argnum=1, others=(x,))
    np.testing.assert_allclose(gy, x * x, rtol=1e-8)
    d = numerical_jvp(lambda x: wg.sin(x), [x], [np.ones(3)])
    np.testing.assert_allclose(d, np.cos(x), rtol=1e-8)
    with pytest.raises(ArgumentError, match="scalar"):
        numerical_grad(lambda x: x * 2, x)


def test_seed13_central_difference_error_falls_then_rises():
    # (f(x+d) - f(x-d)) / 2d = 3x^2 + d^2 for x^3, so at x = 1 the truncation part of the
    # relative error is d^2 / 3 exactly; rounding (~1e-16 / d) takes over for small d.
    deltas = np.logspace(-1, -13, 25)
    err = central_difference_errors(lambda x: x ** 3, 3.0, 1.0, deltas)
    np.testing.assert_allclose(err[:6], deltas[:6] ** 2 / 3, rtol=1e-3)
    best = int(np.argmin(err))
    assert 1e-7 <= deltas[best] <= 1e-4
    assert np.all(np.diff(err[:best + 1]) < 0)  # falls while truncation dominates
    assert err[-1] > 1e3 * err[best]  # and grows again from rounding
    at_eps = central_difference_errors(lambda x: x ** 3, 3.0, 1.0, [1e-6])[0]
    assert at_eps < 1e-9  # the checker's default step sits in the stable range


def test_central_difference_errors_need_a_nonzero_derivative():
    # d/dx x**2 at 0 is 0: every relative error would divide by it
    with pytest.raises(ArgumentError, match="exact is 0"):
        central_difference_errors(lambda x: x ** 2, 0.0, 0.0, [1e-3])


def test_seed13_plot_example_runs(tmp_path, capsys):
    example = _load_example("central_differences")
    example.main([str(tmp_path / "cd.png")])
    out = capsys.readouterr().out
    assert "delta  1.0e-06" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert (tmp_path / "cd.png").stat().st_size > 1000


def test_gradcheck_passes_and_reports_worst_errors_per_input():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    report = gradcheck(lambda x, w: wg.tanh(x @ w), (x, w), order=2)
    assert report.passed and bool(report)
    assert {r.input for r in report.results} == {0, 1}
    assert {(r.order, r.mode, r.kind) for r in report.results} == {
        (o, m, k) for o in (1, 2) for m in ("reverse", "forward") for k in ("full", "random")}
    for i in (0, 1):
        max_abs, max_rel = report.worst(i)
        assert 0 <= max_abs < 1e-7 and 0 <= max_rel < 1e-5
    assert "max abs" in str(report) and "max rel" in str(report)


def test_integer_inputs_pass_through():
    idx = np.array([2, 0])
    report = gradcheck(lambda x, i: x[i] * 3, (np.array([1.0, 2.0, 3.0]), idx))
    assert report.passed and {r.input for r in report.results} == {0}


def _bad_square():
    # d(x^2)/dx = 2x, but this rule says x
    return wg.Primitive("bad_square", lambda x: x * x,
                        vjp=[lambda ns, g, ans, x: g * x], jvp=[lambda ns, t, ans, x: 2 * t * x],
                        register=False)


def test_gradcheck_catches_a_wrong_rule_and_names_it():
    bad = _bad_square()
    x = np.array([1.0, 2.0])
    with pytest.raises(GradcheckError, match=r"input 0 order 1 reverse full .*FAILED"):
        gradcheck(lambda x: bad(x), x)
    report = gradcheck(lambda x: bad(x), x, raise_exception=False)
    assert not report.passed
    reverse = [r for r in report.results if r.mode == "reverse" and r.kind == "full"][0]
    # the wrong rule gives x = 2 where 2x = 4 is right: abs error 2, relative 2/4
    assert reverse.max_abs == pytest.approx(2.0, rel=1e-6)
    assert reverse.max_rel == pytest.approx(0.5, rel=1e-6)
    assert all(r.passed for r in report.results if r.mode == "forward")
    assert gradcheck(lambda x: bad(x), x, modes="forward").passed


def test_order_two_catches_a_rule_that_is_only_right_once():
    # The VJP turns x into a plain array, so its own derivative is lost: first derivatives are
    # right, second derivatives are not.
    leaky = wg.Primitive("detached_cube", lambda x: x ** 3,
                         vjp=[lambda ns, g, ans, x: g * 3 * np.asarray(x) ** 2],
                         jvp=[lambda ns, t, ans, x: t * 3 * x ** 2], register=False)
    x = np.array([0.5, 1.5])
    assert gradcheck(lambda x: leaky(x), x, modes="reverse").passed
    report = gradcheck(lambda x: leaky(x), x, order=2, modes="reverse", raise_exception=False)
    assert not report.passed
    assert all(r.passed for r in report.results if r.order == 1)
    assert not any(r.passed for r in report.results if r.order == 2 and r.kind == "full")


def test_float32_input_warns_and_bad_options_raise():
    with pytest.warns(UserWarning, match="input 0 is float32"):
        gradcheck(lambda x: (x * x).sum(), np.array([1.0, 2.0], dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradcheck(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    with pytest.raises(ArgumentError, match="order"):
        gradcheck(lambda x: x, np.ones(2), order=3)
    with pytest.raises(ArgumentError, match="modes"):
        gradcheck(lambda x: x, np.ones(2), modes=("sideways",))
    with pytest.raises(ArgumentError, match="no floating input"):
        gradcheck(lambda i: wg.tensor([1.0])[i], np.array([0]))
    with pytest.raises(ArgumentError, match="no input 5"):
        gradcheck(lambda x: x * 2, np.ones(2)).worst(5)


def test_numerical_grad_argnum_counts_all_arguments_and_is_checked():
    # f(a, b) = sum(a * b^3): df/db = 3 a b^2, derived by hand; x in the last place
    a, b = np.array([3.0, 5.0]), np.array([1.0, 2.0])

    def f(a, b):
        return (a * b ** 3).sum()
    for argnum in (1, -1):
        np.testing.assert_allclose(numerical_grad(f, b, argnum=argnum, others=(a,)),
                                   3 * a * b ** 2, rtol=1e-8)
    np.testing.assert_allclose(numerical_grad(f, a, argnum=-2, others=(b,)), b ** 3, rtol=1e-8)
    for argnum in (2, -3, 0.5):  # outside f's two arguments: was a silent zero gradient
        with pytest.raises(ArgumentError, match=f"argnum={argnum!r} but f takes 2"):
            numerical_grad(f, b, argnum=argnum, others=(a,))


def test_numerical_jvp_wants_one_tangent_per_primal_shaped_like_it():
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    with pytest.raises(ArgumentError, match="1 tangents for 2 primals"):
        numerical_jvp(lambda x, y: x * y, [x, y], [np.ones(2)])
    # a (2, 1) tangent would broadcast x + eps t to a (2, 2) point
    with pytest.raises(ShapeError, match=r"tangent 0 has shape \(2, 1\) but primal 0 has "
                                         r"shape \(2,\)"):
        numerical_jvp(lambda x: x * x, [x], [np.ones((2, 1))])


def test_gradcheck_of_an_empty_input_and_options_that_check_nothing():
    # an input with no element has an empty Jacobian, in both modes and to second order
    report = gradcheck(lambda x, w: (x @ w).sum() + (w * w).sum(),
                       (np.zeros((0, 3)), np.ones((3, 2))), order=2)
    assert report.passed and {r.input for r in report.results} == {0, 1}
    report = gradcheck(lambda x: x * 2, np.zeros((0, 3)))
    assert report.passed and all(np.shape(r.max_abs) == () for r in report.results)
    with pytest.raises(ArgumentError, match="nothing to compare"):
        gradcheck(lambda x: x * 2, np.ones(2), full=False, n_random=0)


def test_gradcheck_warns_when_f_computes_in_float32():
    # float64 inputs, a float32 result: the differences are float32 rounding (~1e-2 here)
    with pytest.warns(UserWarning, match="f returns float32 for float64 inputs"):
        report = gradcheck(lambda x: (x * x).astype("float32"), np.array([1.0, 2.0]),
                           raise_exception=False)
    assert not report.passed


def test_gradcheck_and_numerical_grad_take_fortran_ordered_inputs():
    """Linear keeps its weight in Fortran order; the one-hot directions must still reach it
    (a reshape(-1) of a Fortran-ordered array is a copy)."""
    w = np.asfortranarray(np.random.default_rng(1).standard_normal((3, 4)))
    x = np.random.default_rng(2).standard_normal((2, 4))
    assert gradcheck(lambda w: wg.tanh(wg.tensor(x) @ w.T), (w,), n_random=0).passed
    g = numerical_grad(lambda w: (w * w).sum(), w)
    np.testing.assert_allclose(g, 2 * w, rtol=1e-6)
