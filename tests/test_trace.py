"""Wengert trace tables (SEED item 1) and the ``wengert trace`` command with its safe parser."""
import math

import numpy as np
import pytest

import wengert as wg
from wengert.cli import main
from wengert.errors import ArgumentError
from wengert.expression import parse
from wengert.trace_table import trace

# SEED-EXAMPLES item 1 at (x1, x2) = (2, 5), derived by hand:
EVALUATION = [("v0", "x1", 2.0), ("v1", "x2", 5.0), ("v2", "ln v0", math.log(2)),
              ("v3", "v0·v1", 10.0), ("v4", "sin v1", math.sin(5)),
              ("v5", "v2 + v3", math.log(2) + 10),
              ("v6", "v5 - v4", math.log(2) + 10 - math.sin(5))]
ADJOINT = {"v̄6": 1.0, "v̄5": 1.0, "v̄4": -1.0, "v̄3": 1.0, "v̄2": 1.0,
           "v̄1": 2 + (-1) * math.cos(5),   # v̄3·v0 + v̄4·cos v1 = 1.716
           "v̄0": 5 + 1 / 2}                 # v̄3·v1 + v̄2/v0 = 5.5
FORWARD_X1 = {"v̇0": 1.0, "v̇1": 0.0, "v̇2": 0.5, "v̇3": 5.0, "v̇4": 0.0, "v̇5": 5.5, "v̇6": 5.5}


def f_item1(x1, x2):
    return wg.log(x1) + x1 * x2 - wg.sin(x2)


def _row_map(rows):
    return {r.name: r for r in rows}


def test_seed1_evaluation_forward_and_adjoint_tables():
    t = trace(f_item1, 2.0, 5.0)
    assert [(r.name, r.expr) for r in t.evaluation] == [(n, e) for n, e, _ in EVALUATION]
    for row, (_, _, value) in zip(t.evaluation, EVALUATION):
        assert float(row.value) == pytest.approx(value, abs=1e-12)
    forward = _row_map(t.forward)
    for name, value in FORWARD_X1.items():
        assert float(forward[name].value) == pytest.approx(value, abs=1e-12)
    assert forward["v̇3"].expr == "v̇0·v1 + v̇1·v0"
    adjoint = _row_map(t.adjoint)
    for name, value in ADJOINT.items():
        assert float(adjoint[name].value) == pytest.approx(value, abs=1e-12)
    assert [r.name for r in t.adjoint] == list(ADJOINT)  # from the output back to the inputs
    assert adjoint["v̄1"].expr == "v̄3·v0 + v̄4·cos v1"
    assert adjoint["v̄0"].expr == "v̄2/v0 + v̄3·v1"
    assert adjoint["v̄4"].expr == "-v̄6"


def test_seed1_printed_numbers():
    text = str(trace(f_item1, 2.0, 5.0))
    lines = {line.split()[0]: line for line in text.splitlines() if line[:1] == "v"}
    for name, printed in [("v2", "0.693"), ("v3", "10"), ("v4", "-0.959"), ("v5", "10.693"),
                          ("v6", "11.652")]:
        assert lines[name].split()[-1] == printed
    for name, printed in [("v̄6", "1"), ("v̄5", "1"), ("v̄4", "-1"), ("v̄3", "1"), ("v̄2", "1"),
                          ("v̄1", "1.716"), ("v̄0", "5.5"), ("v̇6", "5.5")]:
        assert lines[name].split()[-1] == printed
    assert "seeded on x1" in text


def test_forward_table_seeded_on_the_second_input():
    t = trace(f_item1, 2.0, 5.0, wrt=1)
    # dy/dx2 = x1 - cos x2, by hand
    assert float(t.forward[-1].value) == pytest.approx(2 - math.cos(5), abs=1e-12)
    assert float(t.forward[1].value) == 1.0 and float(t.forward[0].value) == 0.0


def test_markdown_and_html_hold_the_same_rows():
    t = trace(f_item1, 2.0, 5.0)
    md = t.to_markdown()
    assert "| v6 | v5 - v4 | 11.652 |" in md and "| v̄1 | v̄3·v0 + v̄4·cos v1 | 1.716 |" in md
    html = t._repr_html_()
    assert "<td>v̄0</td><td>v̄2/v0 + v̄3·v1</td><td>5.5</td>" in html
    assert html.count("<table>") == 3


def test_vector_steps_show_shape_and_a_summary():
    x = np.arange(12.0).reshape(3, 4)
    t = trace(lambda x: (x * x).sum(), x)
    text = t.to_text()
    assert "3×4" in text and "min 0, max 121, mean 42.167" in text
    assert float(t.evaluation[-1].value) == pytest.approx((x * x).sum())
    np.testing.assert_allclose(t.adjoint[-1].value, 2 * x)  # d sum(x^2)/dx = 2x


def test_trace_argument_errors():
    with pytest.raises(ArgumentError, match="wrt=2"):
        trace(f_item1, 2.0, 5.0, wrt=2)
    with pytest.raises(ArgumentError, match="computed from its inputs"):
        trace(lambda x: wg.tensor(1.0), 2.0)


def test_parser_builds_the_function_without_eval():
    f = parse("ln(x1) + x1*x2 - sin(x2)", ["x1", "x2"])
    assert f(wg.tensor(2.0, dtype="float64"), wg.tensor(5.0, dtype="float64")).item() == \
        pytest.approx(math.log(2) + 10 - math.sin(5))
    assert parse("-x ** 2 / pi + e", ["x"])(wg.tensor(3.0, dtype="float64")).item() == \
        pytest.approx(-9 / math.pi + math.e)


@pytest.mark.parametrize("text, message, caret", [
    ("ln(x1) + foo", "unknown name 'foo'", "         ^^^"),
    ("ln(x1) + foo(x1)", "unknown function 'foo'", "         ^^^"),
    ("x1.__class__", "Attribute is not allowed", "^^^^^^^^^^^^"),
    ("__import__('os').system('true')", "unknown function", None),
    ("x1 if x1 else x1", "IfExp is not allowed", None),
    ("(lambda: 1)()", "unknown function", None),
    ("x1 + 'a'", "only numbers", None),
    ("ln(x1, x1)", "exactly one argument", None),
    ("ln(x1 +", "invalid syntax", None),
    ("ln", "is a function", None),
])
def test_parser_rejects_and_points_at_the_spot(text, message, caret):
    with pytest.raises(ArgumentError, match=message) as info:
        parse(text, ["x1"])
    lines = str(info.value).splitlines()
    assert lines[1] == "  " + text
    assert "^" in lines[2]
    if caret:
        assert lines[2] == "  " + caret


def test_parser_constant_overflow_is_an_error_not_a_hang():
    f = parse("2**10**10 * x", ["x"])
    with pytest.raises(ArgumentError, match="overflows"):
        f(wg.tensor(1.0))


def test_cli_prints_the_tables(capsys, tmp_path):
    dot = tmp_path / "graph.dot"
    rc = main(["trace", "ln(x1) + x1*x2 - sin(x2)", "--at", "x1=2", "x2=5", "--wrt", "x1",
               "--dot", str(dot)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "v6    v5 - v4     11.652" in out
    assert "1.716" in out and "seeded on x1" in out
    assert dot.read_text().startswith("digraph wengert")
    rc = main(["trace", "x*x", "--at", "x=1,2,3", "--format", "markdown"])
    assert rc == 0 and "| v1 | v0·v0 | 3 | [1, 4, 9] |" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["trace", "ln(y)", "--at", "x1=2"], "unknown name 'y'"),
    (["trace", "x", "--at", "x=abc"], "not a number"),
    (["trace", "x", "--at", "x"], "NAME=VALUE"),
    (["trace", "x", "--at", "x=1", "--wrt", "z"], "--wrt z"),
    (["trace", "x1*x2", "--at", "x1=1,2", "x2=1,2,3"],
     "could not be broadcast together with shapes (2,) (3,)"),
    # checked before the tables are printed
    (["trace", "x", "--at", "x=1", "--dot", "g.txt"], "cannot draw to 'g.txt'"),
])
def test_cli_errors(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("wengert trace: error:") and message in captured.err
    assert captured.out == ""


def test_one_element_arrays_print_as_numbers():
    """A (1,)-shaped input or constant (a Linear(n, 1) bias) is shown by its element: the
    tables hold x * 2 = 6 and its derivative 2, and the constant 0.5 times x = 1.5."""
    t = trace(lambda x: x * 2, np.array([3.0]))
    assert [row.expr for row in t.evaluation] == ["x", "v0·2"]
    assert t.evaluation[1].value.tolist() == [6.0] and t.adjoint[-1].value.tolist() == [2.0]
    b = wg.tensor([0.5])
    t = trace(lambda x: x * b, 3.0)
    assert t.evaluation[1].expr == "v0·0.5" and float(t.evaluation[1].value.ravel()[0]) == 1.5
    from wengert.viz import to_dot
    dot = to_dot(wg.tensor([2.0], requires_grad=True) * wg.tensor([0.25]))
    assert "0.25" in dot


@pytest.mark.parametrize("text, message", [
    ("1/0 * x", "the constant part 1 / 0 divides by zero"),
    ("0**-1 + x", r"the constant part 0 \*\* \(-1\) divides by zero"),
    # Python floats make (-8) ** (1/3) complex; a tensor would hold nan
    ("(-8)**(1/3) * x", r"the constant part \(-8\) \*\* \(1 / 3\) has no real value"),
])
def test_parser_names_a_constant_part_without_a_real_value(text, message):
    f = parse(text, ["x"])
    with pytest.raises(ArgumentError, match=message):
        f(wg.tensor(2.0, dtype="float64"))


def test_parser_rejects_a_number_too_large_for_a_float():
    text = "1" + "0" * 400 + " * x"  # was an OverflowError from float() while evaluating
    with pytest.raises(ArgumentError, match="too large for a float") as info:
        parse(text, ["x"])
    assert str(info.value).splitlines()[2] == "  " + "^" * 401


def test_forward_table_marks_only_the_seeded_array_input_as_seed():
    t = trace(lambda a, b: (a * b).sum(), [1.0, 2.0, 3.0], [4.0, 5.0, 6.0], wrt=1)
    assert [(r.expr, r.value.tolist()) for r in t.forward[:2]] == [
        ("0", [0.0, 0.0, 0.0]), ("seed", [1.0, 1.0, 1.0])]
    assert t.forward[-1].value == pytest.approx(1 + 2 + 3)  # d/db of a.b along ones


@pytest.mark.parametrize("op, smaller", [(wg.maximum, False), (wg.minimum, True)])
def test_max_and_min_rows_show_the_tie_split_the_numbers_hold(op, smaller, torch_mod):
    # at a tie PyTorch gives each input half the gradient, and so do the tables' numbers
    t = trace(lambda a, b: op(a, b), 2.0, 2.0)
    a, b = (torch_mod.tensor(2.0, requires_grad=True) for _ in range(2))
    (torch_mod.minimum if smaller else torch_mod.maximum)(a, b).backward()
    adjoint = _row_map(t.adjoint)
    assert adjoint["v̄0"].value == pytest.approx(a.grad.item()) == 0.5
    sign = "<" if smaller else ">"
    assert adjoint["v̄0"].expr == f"v̄2·([v0 {sign} v1] + ½[v0 = v1])"
    assert adjoint["v̄1"].expr == f"v̄2·([v1 {sign} v0] + ½[v0 = v1])"
    assert _row_map(t.forward)["v̇2"].value == pytest.approx(0.5)


def test_an_index_array_parameter_is_shown_by_dtype_and_shape():
    index = np.arange(1000) % 3
    t = trace(lambda a: a[index].sum() + a[np.array([0, 1]), ].sum(), [1.0, 2.0, 3.0])
    exprs = [r.expr for r in t.evaluation]
    assert "getitem(v0, key=<int64 1000>)" in exprs  # not a thousand numbers in one row
    assert "getitem(v0, key=(array([0, 1]),))" in exprs  # a short one still reads in full
    # each element's adjoint counts its uses, by hand: 334, 333, 333 lookups, plus 1, 1, 0
    np.testing.assert_array_equal(t.adjoint[-1].value, [335, 334, 333])
