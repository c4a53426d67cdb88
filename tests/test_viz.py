"""Graph pictures: DOT text for tensors and traces, block clusters, rendering and its errors."""
import shutil
import sys

import numpy as np
import pytest

import wengert as wg
from wengert.blocks import block
from wengert.errors import ArgumentError, MissingDependencyError
from wengert.notation import number
from wengert.trace_table import trace
from wengert.viz import render, to_dot


def _t(a, name=None):
    t = wg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
    t.name = name
    return t


def test_dot_of_a_tensor_has_values_ops_and_edges():
    x, w = _t([[1.0, 2.0]], "x"), _t([[3.0], [4.0]], "w")
    y = wg.sigmoid(x @ w).sum()
    dot = to_dot(y)
    assert dot.startswith("digraph wengert {") and dot.rstrip().endswith("}")
    assert 'label="x\\n1×2\\n[1, 2]"' in dot  # name, shape, values
    assert dot.count("shape=ellipse") == 3  # matmul, sigmoid, sum
    for op in ("matmul", "sigmoid", "sum"):
        assert f'label="{op}"' in dot
    assert "t0 -> op" in dot  # inputs feed ops, ops make values
    y.backward(retain_graph=True)
    # gradients shown once known: d sum(sigmoid(11)) / dw = sigma'(11) x^T
    s = 1 / (1 + np.exp(-11.0))
    grad_w = s * (1 - s) * np.array([1.0, 2.0])
    assert np.allclose(w.grad.data.ravel(), grad_w)
    assert f"grad [{number(grad_w[0])}, {number(grad_w[1])}]" in to_dot(y)


def test_dot_of_a_trace_uses_its_names_values_and_adjoints():
    dot = to_dot(trace(lambda x1, x2: wg.log(x1) + x1 * x2 - wg.sin(x2), 2.0, 5.0))
    assert 'label="v0 = x1\\n2\\ngrad 5.5"' in dot
    assert 'label="v1 = x2\\n5\\ngrad 1.716"' in dot
    assert 'label="v6\\n11.652\\ngrad 1"' in dot
    assert dot.count("shape=ellipse") == 5 and "alias" not in dot


def test_blocks_are_clusters_one_per_call():
    @block("layer")
    def layer(h, w):
        return wg.tanh(h @ w)

    @block
    def net(x, w1, w2):
        return layer(layer(x, w1), w2).sum()

    y = net(_t(np.ones((2, 3))), _t(np.ones((3, 3))), _t(np.ones((3, 1))))
    dot = to_dot(y)
    assert dot.count("subgraph cluster_") == 3
    assert dot.count('label="layer";') == 2 and dot.count('label="net";') == 1
    # the layer clusters are nested inside the net cluster: indented one level deeper
    assert '\n    label="net";' in dot and dot.count('\n      label="layer";') == 2


def test_constants_are_drawn_as_plain_labels():
    x = _t([1.0, 2.0])
    dot = to_dot(x * 3 + np.ones(2))
    assert 'shape=plaintext, label="3"' in dot
    assert 'shape=plaintext, label="const 2"' in dot


def test_render_writes_dot_text_without_graphviz(tmp_path):
    path = render(_t([1.0]) * 2, tmp_path / "g.dot")
    assert path.read_text().startswith("digraph")
    with pytest.raises(ArgumentError, match=r"\.svg, \.png, \.pdf"):
        render(_t([1.0]) * 2, tmp_path / "g.jpeg")
    with pytest.raises(ArgumentError, match="expected a Tensor"):
        to_dot("not a graph")


def test_render_creates_the_folder_and_leaves_no_temporary_file(tmp_path):
    path = render(_t([1.0]) * 2, tmp_path / "new" / "sub" / "g.gv")
    assert path.read_text().startswith("digraph")
    assert [p.name for p in path.parent.iterdir()] == ["g.gv"]


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_render_with_graphviz(tmp_path, suffix, magic):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    path = render(trace(lambda a, b: a * b + wg.exp(a), 1.0, 2.0), tmp_path / f"g{suffix}")
    assert magic in path.read_bytes()[:400]


def test_missing_graphviz_package_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'wengert\[viz\]'"):
        render(_t([1.0]) * 2, tmp_path / "g.svg")


def test_missing_dot_program_names_the_install_command(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on PATH
    with pytest.raises(MissingDependencyError, match="apt-get install graphviz"):
        render(_t([1.0]) * 2, tmp_path / "g.png")
