"""Training plots (matplotlib, Agg): each writes a PNG and draws what it claims."""
import sys

import numpy as np
import pytest

import wengert as wg
from wengert import nn
from wengert.train import (History, plot_confusion_matrix, plot_decision_boundary,
                           plot_history, plot_samples)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def matplotlib(request):
    """Every test here needs matplotlib except the one about its absence."""
    if "without_matplotlib" not in request.node.name:
        pytest.importorskip("matplotlib")


def test_without_matplotlib_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    with pytest.raises(wg.MissingDependencyError, match=r"pip install 'wengert\[plot\]'"):
        plot_history(History({"epoch": [1], "loss": [0.5]}))


def _history():
    h = History()
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.6, 0.7), (0.4, 0.8)], 1):
        h.append({"epoch": epoch, "loss": loss, "accuracy": acc, "val_loss": loss + 0.1,
                  "val_accuracy": acc - 0.05})
    return h


def test_history_curves(tmp_path):
    fig = plot_history(_history(), tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.lines] == ["loss", "val_loss"]
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), [0.45, 0.65, 0.75])


def test_history_with_validation_from_a_later_epoch_is_drawn_from_there():
    h = History()
    h.append({"epoch": 1, "loss": 0.9})
    h.append({"epoch": 2, "loss": 0.7, "val_loss": 0.8})
    val = plot_history(h).axes[0].lines[1]
    assert val.get_label() == "val_loss"
    np.testing.assert_allclose(np.asarray(val.get_ydata(), float), [np.nan, 0.8])


def test_history_without_accuracy_has_one_panel():
    h = History({"epoch": [1, 2], "loss": [0.5, 0.4]})
    assert len(plot_history(h).axes) == 1


def test_decision_boundary_of_a_known_classifier(tmp_path):
    class RightHalf(nn.Module):
        """Class 1 where x > 0: the boundary is the vertical axis."""

        def forward(self, x):
            return wg.stack([-x[:, 0], x[:, 0]], axis=1)

    X = np.array([[-1.0, -1.0], [1.0, 1.0], [-2.0, 1.0], [2.0, -1.0]], np.float32)
    y = np.array([0, 1, 0, 1])
    model = RightHalf()
    fig = plot_decision_boundary(model, X, y, tmp_path / "b.png", resolution=50)
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG
    assert model.training  # mode restored
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((-2.5, 2.5))
    assert len(ax.collections[-1].get_offsets()) == 4  # the scattered points


def test_confusion_matrix_shows_every_count(tmp_path):
    matrix = np.array([[5, 1], [2, 7]])
    fig = plot_confusion_matrix(matrix, ["cat", "dog"], tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]


def test_sample_grid_marks_wrong_predictions_in_red(tmp_path):
    images = np.random.default_rng(0).random((10, 784))
    labels = np.arange(10)
    predicted = labels.copy()
    predicted[[2, 7]] = 0
    fig = plot_samples(images, labels, predicted, path=tmp_path / "s.png", columns=5)
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG
    titles = [ax.title for ax in fig.axes]
    red = [t.get_text() for t in titles if t.get_color() == "red"]
    assert red == ["2 → 0", "7 → 0"]
    names = plot_samples(images[:2], labels[:2], classes=["zero", "one"]).axes
    assert [ax.get_title() for ax in names[:2]] == ["zero", "one"]
