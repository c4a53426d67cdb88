"""docs/errors.md lists every error wengert raises for bad input; each entry has a trigger
here asserting the error's type and what its message names, and the two lists must agree."""
import re
import warnings

import numpy as np
import pytest

import wengert as wg
from conftest import REPO
from wengert import nn, optim
import wengert.nn.functional as F


def _leaf_inplace():
    w = wg.tensor([1.0], requires_grad=True)
    w += 1


def _freed():
    x = wg.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _saved_modified():
    x = wg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    h += 1
    y.backward()


def _anomaly():
    with wg.detect_anomaly():
        wg.log(wg.tensor([-1.0], requires_grad=True))


def _state_dict_missing():
    m = nn.Linear(2, 3)
    m.load_state_dict({"weight": m.weight.data})


def _state_dict_shape():
    m = nn.Linear(2, 3)
    m.load_state_dict({"weight": np.zeros((4, 2), np.float32), "bias": m.bias.data})


def _params():
    return nn.Linear(2, 2).parameters()


def _idx_file(payload):
    import gzip
    import tempfile
    path = tempfile.mkstemp(suffix=".idx1-ubyte.gz")[1]
    with gzip.open(path, "wb") as f:
        f.write(payload)
    return path


def _bad_magic():
    from wengert import data
    data.read_idx(_idx_file(b"\x00\x00\x07\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03"))


def _truncated():
    from wengert import data
    data.read_idx(_idx_file(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + b"\x01\x02"))


def _loader_lengths():
    from wengert import data
    data.TensorDataset(wg.ones(3), wg.ones(4))


def _checkpoint_mismatch():
    import tempfile
    from wengert import train
    path = tempfile.mkstemp(suffix=".safetensors")[1]
    train.save_checkpoint(path, nn.Linear(2, 3))
    train.load_checkpoint(path, nn.Linear(2, 4))


def _nonfinite_loss():
    from wengert import data, train
    model = nn.Linear(1, 1)
    loader = data.DataLoader(data.TensorDataset(wg.tensor([[1.0]]), wg.tensor([[np.inf]])))
    train.fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.1), loader, epochs=1,
              progress=False)


# id -> (trigger, error type, regex the message must match)
CATALOGUE = {
    "binary-shape": (lambda: wg.ones(2, 3) * wg.ones(4), wg.ShapeError, r"multiply.*\(2, 3\).*\(4,\)"),
    "matmul-shape": (lambda: wg.ones(2, 3) @ wg.ones(4, 5), wg.ShapeError,
                     r"matmul: shapes \(2, 3\) and \(4, 5\)"),
    "reduce-axis": (lambda: wg.ones(2, 2).sum(axis=3), wg.ShapeError, r"sum: axis 3.*\(2, 2\)"),
    "empty-reduction": (lambda: wg.zeros(2, 0).mean(axis=1), wg.ShapeError,
                        r"mean over an empty axis.*\(2, 0\)"),
    "int-requires-grad": (lambda: wg.tensor([1, 2], requires_grad=True), wg.DTypeError,
                          r"int64.*\(2,\).*astype"),
    "unknown-dtype": (lambda: wg.zeros(2, dtype="float128x"), wg.DTypeError, r"unknown dtype"),
    "nonscalar-backward": (lambda: (wg.ones(2, requires_grad=True) * 2).backward(),
                           wg.GraphError, r"shape \(2,\).*gradient"),
    "no-grad-backward": (lambda: wg.ones(2).sum().backward(), wg.GraphError,
                         r"does not require grad"),
    "freed-graph": (_freed, wg.GraphError, r"second time.*retain_graph=True"),
    "saved-tensor-modified": (_saved_modified, wg.GraphError,
                              r"'multiply' saved.*modified in place.*\(2,\)"),
    "leaf-inplace": (_leaf_inplace, wg.GraphError, r"leaf tensor.*no_grad"),
    "anomaly": (_anomaly, wg.AnomalyError, r"'log' produced a non-finite.*\(1,\).*Recorded at"),
    "unknown-activation": (lambda: nn.MLP([2, 3], activation="swishy"), ValueError,
                           r"swishy.*relu"),
    "negative-lr": (lambda: optim.SGD(_params(), lr=-1.0), ValueError, r"lr.*-1"),
    "bad-betas": (lambda: optim.Adam(_params(), betas=(0.9, 1.0)), ValueError, r"beta"),
    "negative-momentum": (lambda: optim.SGD(_params(), lr=0.1, momentum=-0.5), ValueError,
                          r"momentum.*-0.5"),
    "negative-weight-decay": (lambda: optim.AdamW(_params(), weight_decay=-1e-2), ValueError,
                              r"weight_decay"),
    "nesterov-without-momentum": (lambda: optim.SGD(_params(), lr=0.1, nesterov=True),
                                  ValueError, r"nesterov.*momentum"),
    "state-dict-missing": (_state_dict_missing, KeyError, r"bias"),
    "state-dict-shape": (_state_dict_shape, ValueError, r"weight.*\(4, 2\).*\(3, 2\)"),
    "idx-magic": (_bad_magic, wg.DatasetError, r"idx1-ubyte.gz.*magic"),
    "idx-truncated": (_truncated, wg.DatasetError, r"idx1-ubyte.gz.*truncated"),
    "dataset-lengths": (_loader_lengths, wg.ShapeError, r"TensorDataset.*\(3,\).*\(4,\)"),
    "checkpoint-mismatch": (_checkpoint_mismatch, wg.CheckpointError,
                            r"safetensors.*weight: checkpoint \(3, 2\) vs model \(4, 2\)"),
    "nonfinite-loss": (_nonfinite_loss, wg.NonFiniteLossError, r"step.*batch"),
    "cross-entropy-targets": (lambda: F.cross_entropy(wg.ones(2, 3), wg.tensor([0, 5])),
                              wg.ShapeError, r"\[0, 3\).*5"),
}


@pytest.mark.parametrize("entry", sorted(CATALOGUE))
def test_error(entry):
    trigger, kind, pattern = CATALOGUE[entry]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error is the report: no NumPy warning first
        with pytest.raises(kind) as info:
            trigger()
    assert isinstance(info.value, wg.WengertError), f"{entry}: not a WengertError"
    assert re.search(pattern, str(info.value), re.S), f"{entry}: {info.value}"


def test_catalogue_matches_docs():
    text = (REPO / "docs" / "errors.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.M))
    assert documented == set(CATALOGUE), (
        f"in docs only: {sorted(documented - set(CATALOGUE))}; "
        f"tested only: {sorted(set(CATALOGUE) - documented)}")
