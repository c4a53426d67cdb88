"""docs/errors.md lists every error wengert raises for bad input; each entry has a trigger
here asserting the error's type and what its message names, and the two lists must agree."""
import re
import tempfile
import warnings

import numpy as np
import pytest

import wengert as wg
from conftest import REPO
from wengert import nn, optim
import wengert.nn.functional as F
from wengert.playground import ConfigError, validate


@pytest.fixture(autouse=True)
def _files_in_tmp_path(tmp_path, monkeypatch):
    """The files the triggers write (tempfile.mkstemp/mkdtemp) go under pytest's tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def _op_options():
    for bad, message in ((lambda: wg.stack([]), "stack needs at least one tensor"),
                         (lambda: wg.concatenate([]), "concatenate needs at least one tensor"),
                         (lambda: wg.clip(wg.ones(2)), "clip: give a_min, a_max or both")):
        with pytest.raises(wg.ArgumentError, match=message):
            bad()
    with pytest.raises(wg.ArgumentError, match=r"pad: mode='reflect' cannot pad axis 0 of size 2"):
        wg.pad(wg.ones(2), [(2, 0)], mode="reflect")
    with pytest.raises(wg.ArgumentError, match=r"pad: mode='reflect' takes no value"):
        F.pad(wg.ones((1, 2)), (1, 1), mode="reflect", value=1.0)
    wg.pad(wg.ones(2), [(1, 1)], mode="mean")


def _inplace_dtype():
    for write in (lambda x: x.exp_(), lambda x: x.mul_(1.5), lambda x: x.__iadd__(0.5)):
        x = wg.tensor([1, 2])
        with pytest.raises(wg.DTypeError, match="in-place .*float64.*int64"):
            write(x)
        np.testing.assert_array_equal(x.data, [1, 2])  # nothing written
    F.silu(wg.tensor([1, 2]), inplace=True)


def _leaf_inplace():
    w = wg.tensor([1.0], requires_grad=True)
    w += 1


def _leaf_view_inplace():
    w = wg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = w[1:]
    v += 1


def _hook_dtype():
    x = wg.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    x.register_hook(lambda g: g.astype("float64"))
    (x * 3).sum().backward()


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



def _module(name):
    import importlib
    return importlib.import_module(name)


def _tmp(name, content=None):
    from pathlib import Path
    path = Path(tempfile.mkdtemp()) / name
    if content is not None:
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


def _load_file(raw):
    from wengert import train
    train.load_checkpoint(_tmp("run.safetensors", raw), nn.Linear(2, 2))


def _saved_checkpoint(**extra):
    from wengert import train
    path = _tmp("run.safetensors")
    train.save_checkpoint(path, nn.Linear(2, 2), **extra)
    return path


def _checkpoint_checksum():
    path = _saved_checkpoint()
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x40  # a bit of the last tensor's data
    _load_file(bytes(raw))


def _checkpoint_oversized_header():
    # a header length past the end of the file
    with pytest.raises(wg.CheckpointError, match=r"run.safetensors: .*invalid header length"):
        _load_file((1000).to_bytes(8, "little") + b'{"__metadata__":{}}')
    # the 8-byte little-endian header length claims 2**40 bytes (a terabyte): refused from the
    # length alone (a try to read or allocate it would end in a MemoryError, not this error)
    _load_file((2 ** 40).to_bytes(8, "little") + b'{"__metadata__":{}}')


def _checkpoint_malformed_header():
    header = b'{"__metadata__": not json}'
    _load_file(len(header).to_bytes(8, "little") + header)


def _checkpoint_truncated():
    _load_file(_saved_checkpoint().read_bytes()[:-10])


def _checkpoint_not_safetensors():
    _load_file(b"PK\x03\x04 this is a zip archive, not a checkpoint")


def _checkpoint_no_document():
    import json
    header = json.dumps({"__metadata__": {"format": "wengert-state/1"}}).encode()
    _load_file(len(header).to_bytes(8, "little") + header)


def _checkpoint_foreign():
    import safetensors.numpy
    path = _tmp("weights.safetensors")
    safetensors.numpy.save_file({"w": np.zeros(3)}, str(path))
    from wengert import train
    train.load_checkpoint(path, nn.Linear(2, 2))


def _checkpoint_not_a_checkpoint():
    from wengert.train import load_checkpoint, state_file
    path = _tmp("state.safetensors")
    state_file.save_state(path, {"weights": np.zeros(2)})
    load_checkpoint(path, nn.Linear(2, 2))


def _checkpoint_section_missing():
    from wengert import train
    model = nn.Linear(2, 2)
    train.load_checkpoint(_saved_checkpoint(), model, optim.SGD(model.parameters(), lr=0.1))


def _resume_without_checkpoint():
    from wengert import data, train
    model = nn.Linear(1, 1)
    loader = data.DataLoader(data.TensorDataset(wg.ones(2, 1), wg.ones(2, 1)))
    train.fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.1), loader, epochs=1,
              progress=False, resume=True)


def _resume_with_other_flags():
    from wengert.cli import build_parser, train as cli_train
    out = tempfile.mkdtemp()
    parse = build_parser().parse_args
    small = ["train", "--no-progress", "--out", out, "--samples", "50", "--hidden", "4"]
    cli_train._train(parse([*small, "--epochs", "1"]))
    cli_train._train(parse([*small, "--epochs", "1", "--lr", "0.5", "--resume"]))


def _early_stopping_monitor():
    from wengert import data, train
    model = nn.Linear(1, 1)
    loader = data.DataLoader(data.TensorDataset(wg.ones(2, 1), wg.ones(2, 1)))
    train.fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.1), loader, epochs=1,
              progress=False, callbacks=[train.EarlyStopping(monitor="val_loss")])


def _vectors():
    from wengert.models.word2vec import WordVectors
    return WordVectors(["king", "queen", "man"], np.eye(3, dtype=np.float32))


def _corpus_empty():
    from wengert.models.word2vec import Word2Vec
    Word2Vec(min_count=1).fit(_tmp("corpus.txt", "123 456 ... !!!\n"))


def _corpus_rare():
    from wengert.models.word2vec import Word2Vec
    Word2Vec(min_count=5).fit(_tmp("corpus.txt", "the cat sat on the mat\n"))


def _word2vec_not_fitted():
    from wengert.models.word2vec import Word2Vec
    return Word2Vec().vectors


def _analogy_file():
    _vectors().evaluate_analogies(_tmp("questions.txt", "king queen man woman\n"))


def _vectors_file():
    from wengert.models.word2vec import WordVectors
    WordVectors.load(_tmp("vectors.txt", "3 2\nking 0.1 0.2\nqueen 0.3\n"))


def _mnist_split():
    from wengert import data
    data.mnist(root=_tmp("data"), split="validation")


def _mnist_labels():
    from wengert import data
    import gzip
    folder = _tmp("data") / "mnist"
    folder.mkdir(parents=True)
    for name, magic, shape, fill in (("t10k-images-idx3-ubyte.gz", 3, (10000, 28, 28), 0),
                                     ("t10k-labels-idx1-ubyte.gz", 1, (10000,), 12)):
        header = bytes([0, 0, 8, magic]) + b"".join(n.to_bytes(4, "big") for n in shape)
        with gzip.open(folder / name, "wb") as f:
            f.write(header + bytes([fill]) * int(np.prod(shape)))
    data.mnist(root=folder.parent, split="test")


def _gradcheck_fails():
    from wengert import check
    # a unit whose hand-written backward forgot the factor 2 of d(x^2)/dx
    square = wg.unit(lambda x: x * x, back=lambda dy, y, x: dy * x, name="bad_square")
    check.gradcheck(square, wg.tensor([0.5, -1.0, 2.0], dtype="float64"), modes="reverse")


def _render_without_graphviz():
    import sys
    from wengert import viz
    x = wg.ones(2, requires_grad=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "graphviz", None)  # as if not installed: import fails
        viz.render((x * 2).sum(), _tmp("graph.svg"))


def _unit_back_count():
    u = wg.unit(lambda x, y: x * y, back=lambda dy, z, x, y: (dy * y,), name="mul")
    u(wg.ones(2, requires_grad=True), wg.ones(2)).sum().backward()


def _unit_back_shape():
    u = wg.unit(lambda x: x * 2, back=lambda dy, y, x: np.ones(5), name="double")
    u(wg.ones(2, requires_grad=True)).sum().backward()


def _unit_no_jvp():
    u = wg.unit(lambda x: x * 2, back=lambda dy, y, x: dy * 2, name="double")
    wg.jvp(u, (wg.ones(2),), (wg.ones(2),))


def _faulty_function(backward=None):
    attrs = {"forward": staticmethod(lambda ctx, x: x * 2)}
    if backward is not None:
        attrs["backward"] = staticmethod(backward)
    return type("Faulty", (wg.autograd.Function,), attrs)


def _function_no_backward():
    _faulty_function().apply(wg.ones(5, requires_grad=True)).sum().backward()


def _function_backward_count():
    _faulty_function(lambda ctx, g: (g, g)).apply(wg.ones(5, requires_grad=True)).sum().backward()


def _twice_once_differentiable():
    from wengert.autograd.function import once_differentiable

    class Exp(wg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            return g * ctx.saved_tensors[0]
    x = wg.ones(2, requires_grad=True)
    g, = wg.autograd.grad(Exp.apply(x), x, wg.ones(2, requires_grad=True), create_graph=True)
    g.sum().backward()


def _recompute_captured():
    w = wg.ones(2, requires_grad=True)
    wg.checkpoint(lambda x: x * w, wg.ones(2, requires_grad=True)).sum().backward()


def _grad_unused():
    x, y = wg.ones(2, requires_grad=True), wg.ones(2, requires_grad=True)
    wg.autograd.grad((x * 2).sum(), [x, y])


def _backward_gradient_shape():
    (wg.ones(2, requires_grad=True) * 2).backward(gradient=wg.ones(3))


def _hook_shape():
    x = wg.ones(2, requires_grad=True)
    x.register_hook(lambda g: wg.ones(3))
    (x * 2).sum().backward()


def _pytorch_spelling():
    with pytest.raises(wg.ArgumentError, match=r"sum: got axis=0 and dim=1.*pass one"):
        wg.ones(2, 3).sum(axis=0, dim=1)
    wg.ones(2, 3).var(dim=0)


def _dual_level():
    from wengert.autodiff.forward import dual_level, make_dual
    with dual_level():  # the related checks the entry names
        with pytest.raises(wg.ShapeError, match=r"make_dual: tangent shape \(3,\).*\(2,\)"):
            make_dual(wg.ones(2), wg.ones(3))
        with pytest.raises(wg.DTypeError, match=r"make_dual: .*dtype int64.*astype"):
            make_dual(wg.tensor([1, 2]), wg.ones(2))
        with pytest.raises(wg.GraphError, match=r"make_dual: .*already has a tangent"):
            make_dual(make_dual(wg.ones(2), wg.ones(2)), wg.ones(2))
    make_dual(wg.ones(2), wg.ones(2))


def _inplace_shape():
    x = wg.ones(2)
    x += wg.ones(2, 2)


def _readonly_view():
    x = wg.broadcast_to(wg.ones(1), (3,))
    x += 1


def _detach_first():
    (wg.ones(2, requires_grad=True) * 2).numpy()


def _hook_needs_grad():
    wg.ones(2).register_hook(lambda g: g)


def _optimizer_state_dict():
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.load_state_dict(optim.SGD([model.weight], lr=0.1).state_dict())


def _sparse_grad_dense_optimizer():
    emb = nn.Embedding(5, 2, sparse=True)
    opt = optim.Adam(emb.parameters())
    emb(wg.tensor([1, 2])).sum().backward()
    opt.step()


def _sparse_with_momentum():
    emb = nn.Embedding(5, 2, sparse=True)
    opt = optim.SGD(emb.parameters(), lr=0.1, momentum=0.9)
    emb(wg.tensor([1, 2])).sum().backward()
    opt.step()


def _unit_back_numpy():
    # back uses np.exp, which cannot run on the Tensors a differentiable backward passes it
    u = wg.unit(lambda x: wg.exp(x), back=lambda dy, y, x: dy * np.exp(x), name="my_exp")
    x = wg.ones(2, requires_grad=True)
    wg.autograd.grad(u(x).sum(), [x], create_graph=True)


def _state_name_clash():
    from wengert.train import state_file
    state_file.save_state(_tmp("state.safetensors"), {"a/b": np.zeros(1), "a": {"b": np.ones(1)}})


def _download_checksum():
    import io
    import urllib.request
    from wengert import data
    with pytest.MonkeyPatch.context() as mp:  # a mirror that serves the wrong bytes
        mp.setattr(urllib.request, "urlopen", lambda url, timeout: io.BytesIO(b"not mnist"))
        data.mnist(root=_tmp("data"), split="test", download=True)


def _module_assign():
    m = nn.Linear(2, 2)
    m.weight = np.zeros((2, 2))


def _config_error(changes, pattern):
    """The related checks an entry names: ``validate(changes)`` raises a ConfigError."""
    with pytest.raises(ConfigError, match=pattern):
        validate(changes)


def _playground_key():
    _config_error([1], r"config: expected a JSON object of settings, got a list")
    validate({"colour": "red"})


def _playground_choice():
    _config_error({"dataset": 3}, r"dataset: expected one of circle.* as a string, got a number")
    validate({"dataset": "swirl"})


def _playground_number():
    _config_error({"noise": "high"}, r"noise: expected a number from 0 to 50, got a string")
    _config_error({"noise": True}, r"noise: expected a number.*got a boolean")
    _config_error({"learning_rate": float("inf")}, r"learning_rate: inf is not a finite number")
    _config_error({"seed": 1.5}, r"seed: expected a whole number.*got a number \(1.5\)")
    validate({"noise": 51})


def _playground_hidden():
    _config_error({"hidden": "4,2"}, r"hidden: expected a list of 0 to 6 layer sizes")
    _config_error({"hidden": [2] * 7}, r"hidden: 7 hidden layers is out of range; allowed 0 to 6")
    validate({"hidden": [4, 9]})


def _playground_features():
    _config_error({"features": "x1"}, r"features: expected a list of feature names")
    _config_error({"features": []}, r"features: the list is empty")
    _config_error({"features": ["x1", "x1"]}, r"features: 'x1' is listed twice")
    validate({"features": ["x1", "x3"]})


def _playground_without_starlette():
    import sys
    playground = _module("wengert.playground")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "starlette", None)  # as if not installed: import fails
        mp.delitem(sys.modules, "wengert.playground.server", raising=False)  # import afresh
        mp.delattr(playground, "server", raising=False)
        playground.create_app()


def _linalg_singular():
    with pytest.raises(wg.linalg.LinAlgError, match=r"cholesky: the matrix is not positive "
                                                    r"definite"):  # the related check
        wg.linalg.cholesky(-wg.eye(2))
    wg.linalg.inv(wg.tensor([[1.0, 2.0], [2.0, 4.0]]))


def _linalg_derivative():
    a = wg.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    wg.linalg.eigh(a).eigenvectors[:, 0].sum().backward()


def _z(*shape, dtype="float64"):
    """Zeros of ``shape``: a convolution or pooling input or weight."""
    return wg.zeros(*shape, dtype=dtype)


def _conv_input_shape():
    with pytest.raises(wg.ShapeError, match=r"conv1d: expected a weight of shape \(C_out, "
                                            r"C_in/groups, \*kernel\).*\(1, 2, 3, 3\).*Hint"):
        F.conv1d(_z(1, 2, 5), _z(1, 2, 3, 3))  # the related check: the weight's ndim
    F.conv2d(_z(1, 1, 1, 5, 5), _z(1, 1, 3, 3))


def _conv_groups():
    with pytest.raises(wg.ArgumentError, match=r"Conv2d: groups=2 must be positive and divide "
                                               r"both in_channels=3 and out_channels=4.*Hint"):
        nn.Conv2d(3, 4, 3, groups=2)  # the related check of the modules
    F.conv2d(_z(1, 4, 5, 5), _z(3, 2, 3, 3), groups=2)


def _conv_kernel_size():
    with pytest.raises(wg.ShapeError, match=r"conv_transpose: input \(1, 1, 1\).*empty output "
                                            r"\(-1,\).*Hint"):
        F.conv_transpose1d(_z(1, 1, 1), _z(1, 1, 1), padding=1)  # the related check
    F.conv1d(_z(1, 1, 5), _z(1, 1, 3), dilation=3)


def _conv_padding_string():
    with pytest.raises(wg.ArgumentError, match=r"conv2d: padding='full' is not a valid "
                                               r"string\. Hint"):
        F.conv2d(_z(1, 1, 5, 5), _z(1, 1, 3, 3), padding="full")  # the related checks
    with pytest.raises(wg.ArgumentError, match=r"ConvTranspose2d: padding='same': string "
                                               r"padding is for Conv layers"):
        nn.ConvTranspose2d(1, 1, 3, padding="same")
    F.conv2d(_z(1, 1, 5, 5), _z(1, 1, 3, 3), stride=2, padding="same")


def _window_args():
    # the related checks the entry names, in pooling and convolution modules
    for call, pattern in (
            (lambda: F.max_pool2d(_z(1, 1, 4, 4), (2, 2, 2)),
             r"max_pool2d: kernel_size=\(2, 2, 2\) must be an int or 2 ints\. Hint"),
            (lambda: F.max_pool2d(_z(1, 1, 4, 4), 2, stride=0),
             r"max_pool2d: stride must be greater than zero, got \(0, 0\)\. Hint"),
            (lambda: F.avg_pool2d(_z(1, 1, 4, 4), 2, divisor_override=0),
             r"avg_pool2d: divisor_override must not be zero.*Hint"),
            (lambda: F.avg_pool2d(_z(1, 1, 4, 4), 2, divisor_override=2.5),
             r"avg_pool2d: divisor_override=2.5 must be an int"),
            (lambda: nn.Conv2d(1, 1, (3, 3, 3)),
             r"Conv2d: kernel_size=\(3, 3, 3\) must be an int or 2 ints, each >= 1"),
            (lambda: F.unfold(_z(1, 1, 4, 4), 2, padding=-1),
             r"unfold: padding=-1 must be an int or 2 ints, each >= 0")):
        with pytest.raises(wg.ArgumentError, match=pattern):
            call()
    F.conv1d(_z(1, 1, 5), _z(1, 1, 3), stride=0)


def _interpolate_args():
    # related checks the entry names: align_corners with nearest, a size per spatial dim
    for call, pattern in (
            (lambda: F.interpolate(_z(1, 1, 4), scale_factor=2, align_corners=True),
             r"interpolate: align_corners is for the modes 'linear'.*not mode='nearest'"),
            (lambda: F.interpolate(_z(1, 1, 4), size=(3, 4)),
             r"interpolate: size=\(3, 4\) has 2 entries but the input of shape \(1, 1, 4\) "
             r"has 1 spatial dims")):
        with pytest.raises(wg.ArgumentError, match=pattern):
            call()
    F.interpolate(_z(1, 1, 4), size=3, scale_factor=2)


def _pool_dtype():
    # the related checks: an integer max_pool1d input without indices, bool, adaptive pooling
    for call, pattern in (
            (lambda: F.max_pool1d(_z(1, 4, dtype="int64"), 2),
             r"max_pool1d: pools an integer input \(here int64, shape \(1, 4\)\) only with "
             r"return_indices=True"),
            (lambda: F.max_pool2d(_z(1, 4, 4, dtype="bool"), 2),
             r"max_pool2d: cannot pool an input of dtype bool.*uint8, int8, int16, int32, "
             r"int64.*Hint"),
            (lambda: F.adaptive_avg_pool2d(_z(1, 4, 4, dtype="int64"), 2),
             r"adaptive_avg_pool2d: cannot pool an input of dtype int64.*floating inputs "
             r"only"),
            (lambda: F.interpolate(_z(1, 1, 4, dtype="int64"), size=5),
             r"interpolate: cannot resize an input of dtype int64"),
            (lambda: F.unfold(_z(1, 1, 4, 4, dtype="int64"), 2),
             r"unfold: cannot take blocks of an input of dtype int64")):
        with pytest.raises(wg.DTypeError, match=pattern):
            call()
    F.avg_pool2d(_z(1, 1, 4, 4, dtype="int32"), 2)


def _attention_dtype():
    x = wg.ones(3, 2, 4, dtype="float64")
    with pytest.raises(wg.DTypeError, match=r"MultiheadAttention: the masks \(attn_mask "
                                            r"float16\) add up to float16 .*need_weights=False "
                                            r".*\(float64\) or float32"):
        nn.MultiheadAttention(4, 2, dtype="float64")(x, x, x, need_weights=False,
                                                    attn_mask=np.zeros((3, 3), np.float16))
    nn.MultiheadAttention(4, 2)(wg.ones(3, 2, 4), x, x)


def _vmap_escaped():
    kept = []
    wg.vmap(lambda v: kept.append(v) or v)(wg.ones((3, 2)))
    kept[0] * 2


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
    "leaf-view-inplace": (_leaf_view_inplace, wg.GraphError,
                          r"a view \(shape \(2,\)\) of a leaf tensor of shape \(3,\).*no_grad"),
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
    "parametrize-args": (lambda: nn.utils.parametrize.register_parametrization(
                             nn.Linear(3, 4), "foo", nn.Identity()),
                         wg.ArgumentError, r"register_parametrization: Linear has no parameter, "
                                           r"buffer or parametrized tensor named 'foo'"),
    "parametrize-shape": (lambda: nn.utils.parametrize.register_parametrization(
                              nn.Linear(3, 4), "weight", nn.Flatten(0)),
                          wg.ShapeError, r"register_parametrization: the parametrized tensor has "
                                         r"shape \(12,\) but the tensor has \(4, 3\).*Hint: pass "
                                         r"unsafe=True"),
    "idx-magic": (_bad_magic, wg.DatasetError, r"idx1-ubyte.gz.*magic"),
    "idx-truncated": (_truncated, wg.DatasetError, r"idx1-ubyte.gz.*truncated"),
    "dataset-lengths": (_loader_lengths, wg.ShapeError, r"TensorDataset.*\(3,\).*\(4,\)"),
    "checkpoint-mismatch": (_checkpoint_mismatch, wg.CheckpointError,
                            r"safetensors.*weight: checkpoint \(3, 2\) vs model \(4, 2\)"),
    "nonfinite-loss": (_nonfinite_loss, wg.NonFiniteLossError, r"step.*batch"),
    "cross-entropy-targets": (lambda: F.cross_entropy(wg.ones(2, 3), wg.tensor([0, 5])),
                              wg.ShapeError, r"\[0, 3\).*5"),
    "loss-weight-shape": (lambda: F.cross_entropy(wg.ones(2, 3), wg.tensor([0, 1]),
                                                  weight=np.ones(4)),
                          wg.ShapeError, r"cross_entropy: weight of shape \(4,\).*3 classes"),
    "loss-mean-undefined": (lambda: F.cross_entropy(wg.ones(2, 3), wg.tensor([-100, -100])),
                            wg.ArgumentError,
                            r"reduction='mean'.*every target equals ignore_index.*NaN.*"
                            r"reduction='sum'"),
    # --- errors added with the full catalogue (grouped by the fix they share) ---
    "shape-op": (lambda: wg.concatenate([wg.ones(2, 3), wg.ones(2, 4)], axis=0), wg.ShapeError,
                 r"concatenate.*\(2, 3\).*\(2, 4\)"),
    "index-shape": (lambda: wg.ones(2, 3)[5], wg.ShapeError, r"getitem.*5.*\(2, 3\)"),
    "einsum-subscripts": (lambda: wg.einsum("ij,jk->ik", wg.ones(2, 3, 4), wg.ones(3, 2)),
                          wg.ShapeError, r"einsum 'ij,jk->ik'.*\(2, 3, 4\).*ellipsis"),
    "linalg-shape": (lambda: wg.linalg.det(wg.ones(2, 3)), wg.ShapeError,
                     r"det: expected a square matrix.*\(2, 3\).*Hint"),
    "linalg-singular": (_linalg_singular, wg.linalg.LinAlgError,
                        r"inv: the matrix is singular \(a float32 input of shape \(2, 2\)\)"
                        r".*Hint: use pinv"),
    "linalg-derivative": (_linalg_derivative, wg.linalg.LinAlgError,
                          r"eigh: the derivative does not exist here: two eigenvalues are "
                          r"equal.*Hint"),
    "linear-shape": (lambda: F.linear(wg.ones(4, 3), wg.ones(5, 2)), wg.ShapeError,
                     r"linear.*\(4, 3\).*\(5, 2\)"),
    "embedding-indices": (lambda: nn.Embedding(5, 2)(wg.tensor([1, 7])), wg.ShapeError,
                          r"embedding.*\[0, 5\).*7"),
    "target-dtype": (lambda: F.nll_loss(wg.ones(2, 3), wg.tensor([0.0, 1.0])),
                     wg.DTypeError, r"nll_loss: targets must be integer.*float32"),
    "target-shape": (lambda: F.mse_loss(wg.ones(2, 3), wg.ones(3, 2)), wg.ShapeError,
                     r"mse_loss.*\(2, 3\).*\(3, 2\)"),
    "loss-input-shape": (lambda: F.margin_ranking_loss(wg.ones(4), wg.ones(4), wg.ones(4, 1)),
                         wg.ShapeError, r"margin_ranking_loss: input1 of shape \(4,\).*\(4, 1\) "
                                        r"must have the same number of dims.*Hint"),
    "tensor-from-data": (lambda: wg.tensor(["a", "b"]), wg.DTypeError,
                         r"cannot make a tensor from data of dtype <U1"),
    "gradient-shape": (_backward_gradient_shape, wg.ShapeError, r"gradient shape \(3,\).*\(2,\)"),
    "hook-shape": (_hook_shape, wg.ShapeError, r"hook.*\(3,\).*\(2,\)"),
    "autograd-grad-inputs": (_grad_unused, wg.GraphError,
                             r"input 1 \(shape \(2,\)\).*allow_unused"),
    "autograd-grad-batched": (
        lambda: wg.autograd.grad(wg.ones(2, requires_grad=True) * 2, wg.ones(2, requires_grad=True),
                                 grad_outputs=wg.ones(2), is_grads_batched=True),
        wg.ShapeError, r"grad_outputs\[0\] is of shape \(2,\).*\(B, 2\)"),
    "dual-level": (_dual_level, wg.GraphError,
                   r"forward-mode AD needs an active level.*dual_level"),
    "pytorch-spelling": (_pytorch_spelling, wg.ArgumentError,
                         r"var: dim= is PyTorch's spelling.*ddof=0.*correction=1.*axis=0, ddof=1"),
    "inplace-shape": (_inplace_shape, wg.ShapeError, r"in-place 'add'.*\(2, 2\).*\(2,\)"),
    "inplace-dtype": (_inplace_dtype, wg.DTypeError,
                      r"in-place 'silu_': .*float64.*int64 \(shape \(2,\)\).*Hint"),
    "read-only-view": (_readonly_view, wg.GraphError, r"read-only.*clone"),
    "detach-first": (_detach_first, wg.GraphError, r"numpy\(\).*detach"),
    "hook-dtype": (_hook_dtype, wg.DTypeError, r"hook returned a float64 gradient for a float32"),
    "hook-needs-grad": (_hook_needs_grad, wg.GraphError, r"register_hook.*does not require grad"),
    "functional-argnums": (lambda: wg.grad(lambda x: (x * x).sum(), argnums=1)(wg.ones(2)),
                           wg.ArgumentError, r"grad\(<lambda>, argnums=1\): argument 1.*1 "
                                             r"positional"),
    "functional-dtype": (lambda: wg.grad(lambda x: (x * x).sum())(wg.tensor([1, 2])),
                         wg.DTypeError, r"grad: .*int64.*\(2,\).*floating"),
    "functional-scalar-output": (lambda: wg.grad(lambda x: x * x)(wg.ones(2)), wg.ShapeError,
                                 r"grad\(<lambda>\).*scalar.*\(2,\).*vjp"),
    "tangent-shape": (lambda: wg.jvp(lambda x: x * 2, (wg.ones(2),), (wg.ones(3),)),
                      wg.ShapeError, r"jvp: tangents.*\(3,\).*\(2,\)"),
    "functional-args": (lambda: wg.jvp(lambda x: x * 2, wg.ones(2), wg.ones(2)),
                        wg.ArgumentError, r"jvp\(<lambda>\).*tuples.*Tensor"),
    "vmap-args": (lambda: wg.vmap(lambda a, b: a + b, in_dims=(None, None))(wg.ones(2), wg.ones(2)),
                  wg.ArgumentError, r"vmap\(<lambda>\): no input is batched"),
    "vmap-batch-size": (lambda: wg.vmap(lambda a, b: a + b)(wg.ones((2, 3)), wg.ones((4, 3))),
                        wg.ShapeError, r"different sizes.*argument\[0\]: 2, argument\[1\]: 4"),
    "vmap-non-tensor": (lambda: wg.vmap(lambda a, n: a * n, in_dims=(0, 0))(wg.ones((2, 3)), 3),
                        wg.DTypeError, r"argument\[1\], of type int; only tensors"),
    "vmap-read-values": (lambda: wg.vmap(lambda a: a.sum().item())(wg.ones((2, 3))),
                         wg.Unbatchable, r"vmap: item\(\) on a batched tensor.*Hint"),
    "vmap-in-place": (lambda: wg.vmap(lambda v: wg.ones(3).add_(v))(wg.ones((2, 3))),
                      wg.Unbatchable, r"in-place 'add_' would write values that differ.*Hint"),
    "vmap-empty-batch": (lambda: wg.vmap(lambda v, i: wg.take_along_axis(v, i, axis=0))(
        wg.ones((0, 3)), wg.zeros((0, 2), dtype="int64")), wg.ShapeError,
        r"take_along_axis runs once per example.*empty batch.*Hint"),
    "vmap-ragged": (lambda: wg.vmap(lambda r: r[r > 0])(wg.tensor([[1.0, -2.0, 3.0],
                                                                [1.0, 2.0, 3.0]])),
                    wg.ShapeError, r"getitem gave results of different shapes.*\(2,\), \(3,\)"
                                   r".*Hint: keep shapes fixed"),
    "vmap-escaped": (_vmap_escaped, wg.GraphError, r"used after its vmap returned"),
    "vmap-randomness": (lambda: wg.vmap(lambda v: wg.randn(3) + v)(wg.ones((2, 3))),
                        wg.Unbatchable, r"random draw.*randomness='error'.*'different'"),
    "has-aux": (lambda: wg.grad(lambda x: (x * x).sum(), has_aux=True)(wg.ones(2)),
                wg.ArgumentError, r"has_aux=True.*pair"),
    "functional-call-args": (lambda: wg.functional.functional_call(
                                 nn.Linear(3, 2), {"foo": wg.ones(1)}, (wg.ones(1, 3),),
                                 strict=True),
                             wg.ArgumentError, r"functional_call\(strict=True\) for Linear: "
                                               r"missing keys \['bias', 'weight'\], unexpected "
                                               r"keys \['foo'\]\. Hint"),
    "unit-definition": (lambda: wg.unit(lambda x: x, back=None, name="ident"), wg.ArgumentError,
                        r"unit 'ident': back must be a function"),
    "unit-back-result": (_unit_back_count, wg.ArgumentError,
                         r"unit 'mul': back must return one gradient per argument \(2\)"),
    "unit-back-shape": (_unit_back_shape, wg.ShapeError, r"unit 'double'.*\(5,\).*\(2,\)"),
    "unit-no-jvp": (_unit_no_jvp, wg.GraphError, r"unit 'double' has no JVP rule.*jvp="),
    "function-definition": (_function_no_backward, wg.GraphError,
                            r"autograd.Function 'Faulty' does not implement backward.*Hint"),
    "function-backward-result": (_function_backward_count, wg.GraphError,
                                 r"'Faulty': backward returned 2 gradients, expected 1"),
    "once-differentiable": (_twice_once_differentiable, wg.GraphError,
                            r"differentiate twice the backward of autograd.Function 'Exp'.*"
                            r"@once_differentiable"),
    "recompute-fn": (_recompute_captured, wg.GraphError,
                     r"checkpoint.*not among its arguments.*\(2,\)"),
    "gradcheck-args": (lambda: wg.check.gradcheck(lambda x: x.sum(), wg.ones(2), order=3),
                       wg.ArgumentError, r"gradcheck: order must be 1 or 2, got 3"),
    "gradcheck-mismatch": (_gradcheck_fails, wg.GradcheckError,
                           r"gradcheck FAILED.*analytic 2 vs numerical 4.*Hint: .*backward rule"),
    "trace-args": (lambda: wg.trace_table.trace(lambda a, b: a * b, 1.0, 2.0, wrt=2),
                   wg.ArgumentError, r"trace: wrt=2 but f has 2 input"),
    "expression-syntax": (lambda: _module("wengert.expression").parse("ln(x1) + foo(x2)",
                                                                      ["x1", "x2"]),
                          wg.ArgumentError, r"expression: .*foo"),
    "viz-args": (lambda: _module("wengert.viz").render(wg.ones(2, requires_grad=True) * 2,
                                                       _tmp("graph.jpg")),
                 wg.ArgumentError, r"render: cannot draw to 'graph.jpg'.*\.svg"),
    "missing-dependency": (_render_without_graphviz, wg.MissingDependencyError,
                           r"render needs the graphviz package: pip install"),
    "layer-args": (lambda: nn.Dropout(p=1.5), wg.ArgumentError, r"Dropout: p=1.5.*0 <= p <= 1"),
    "mlp-sizes": (lambda: nn.MLP([4]), wg.ArgumentError, r"MLP: sizes=\[4\]"),
    "init-fan": (lambda: nn.init.xavier_uniform_(nn.Linear(2, 3).bias), wg.ArgumentError,
                 r"fan in and fan out.*\(3,\).*zeros_"),
    "choice-args": (lambda: F.mse_loss(wg.ones(2), wg.ones(2), reduction="avg"),
                    wg.ArgumentError, r"mse_loss: reduction='avg' is not allowed.*'mean'"),
    "norm-input-shape": (lambda: F.layer_norm(wg.ones(2, 3), (4,)), wg.ShapeError,
                         r"layer_norm.*\(2, 3\).*\(4,\)"),
    "attention-shape": (lambda: F.scaled_dot_product_attention(wg.ones(2, 4), wg.ones(5, 3),
                                                               wg.ones(5, 6)),
                        wg.ShapeError, r"scaled_dot_product_attention: the query's last axis "
                                       r"\(4\) must equal the key's \(3\).*\(5, 3\)"),
    "attention-args": (lambda: F.scaled_dot_product_attention(
                           wg.ones(2, 4), wg.ones(5, 4), wg.ones(5, 6), is_causal=True,
                           attn_mask=np.ones((2, 5), bool)),
                       wg.ArgumentError, r"is_causal=True and an explicit attn_mask.*Hint"),
    "attention-dtype": (_attention_dtype, wg.DTypeError,
                        r"MultiheadAttention: the key is float64 but the module's parameters "
                        r"are float32 \(query float32, key float64, value float64\).*Hint: "
                        r"cast the inputs, x\.astype\('float32'\), or the module"),
    "maxout-pieces": (lambda: F.maxout(wg.ones(2, 5), 2), wg.ShapeError,
                      r"maxout.*\(2, 5\).*5.*2"),
    "channel-input-shape": (lambda: F.dropout1d(wg.ones(2, 3, 4, 5)), wg.ShapeError,
                            r"dropout1d: expected a 2-D \(C, L\) or 3-D \(N, C, L\) input, "
                            r"got shape \(2, 3, 4, 5\)\. Hint"),
    "dropout-dtype": (lambda: F.dropout(wg.tensor([1, 2, 3]), 0.5), wg.DTypeError,
                      r"dropout: cannot drop entries of an input of dtype int64 \(shape "
                      r"\(3,\)\).*floating input.*Hint"),
    "activation-args": (lambda: F.rrelu(wg.ones(2), 0.5, 0.25), wg.ArgumentError,
                        r"rrelu: lower=0.5 is greater than upper=0.25.*Hint: swap them"),
    "rnn-input-shape": (lambda: nn.GRU(3, 4)(wg.ones(5, 2, 4)), wg.ShapeError,
                        r"GRU: the input's last axis has 4 entries but input_size=3 \(input "
                        r"of shape \(5, 2, 4\)\)"),
    "rnn-hidden-shape": (lambda: nn.GRU(3, 4, 2)(wg.ones(5, 2, 3), wg.ones(2, 4)),
                         wg.ShapeError, r"GRU: h_0 of shape \(2, 4\) does not fit: it needs "
                                        r"shape \(2, 2, 4\), \(num_layers \* num_directions"),
    "rnn-dtype": (lambda: nn.GRU(3, 4)(wg.ones(5, 2, 3, dtype="float64")), wg.DTypeError,
                  r"GRU: the input has dtype float64 \(shape \(5, 2, 3\)\) but the weights "
                  r"are float32\. Hint"),
    "packed-sequence-args": (lambda: nn.utils.rnn.pack_padded_sequence(wg.ones(4, 3, 2),
                                                                        [2, 4, 1]),
                             wg.ArgumentError, r"pack_padded_sequence: lengths \[2, 4, 1\] "
                                               r"are not in decreasing order.*Hint: pass "
                                               r"enforce_sorted=False"),
    "loss-args": (lambda: F.binary_cross_entropy(wg.tensor([0.5, 1.5]), wg.tensor([0.0, 1.0])),
                  wg.ArgumentError, r"binary_cross_entropy.*\[0, 1\].*1.5"),
    "optimizer-params": (lambda: optim.SGD([], lr=0.1), wg.ArgumentError,
                         r"SGD got an empty parameter list"),
    "optimizer-state-dict": (_optimizer_state_dict, wg.StateDictError,
                             r"SGD.load_state_dict.*sizes \[1\].*\[2\]"),
    "sparse-gradient": (_sparse_grad_dense_optimizer, wg.DTypeError,
                        r"Adam does not support sparse gradients"),
    "optimizer-differentiable": (lambda: optim.NAdam(_params(), differentiable=True),
                                 wg.ArgumentError,
                                 r"NAdam: differentiable=True is not supported.*Hint"),
    "sparse-options": (_sparse_with_momentum, wg.ArgumentError,
                       r"SGD: a sparse gradient.*momentum=0.*0.9"),
    "scheduler-args": (lambda: optim.lr_scheduler.StepLR(optim.SGD(_params(), lr=0.1),
                                                         step_size=0),
                       wg.ArgumentError, r"StepLR: step_size=0 must be a positive integer"),
    "loader-args": (lambda: _module("wengert.data").DataLoader(wg.ones(3), batch_size=0),
                    wg.ArgumentError,
                    r"DataLoader: batch_size must be a positive integer, got 0"),
    "playground-args": (lambda: _module("wengert.data").spiral(n=1),
                        wg.ArgumentError, r"spiral: n must be an integer >= 2.*1"),
    "mnist-files": (_mnist_labels, wg.DatasetError, r"t10k-labels-idx1-ubyte.gz: label 12"),
    "mnist-dtype": (lambda: _module("wengert.data").mnist(dtype="uint8"), wg.DTypeError,
                    r"mnist: dtype='uint8' is not a floating type"),
    "resume-flags": (_resume_with_other_flags, wg.CheckpointError,
                     r"written by a run with other flags: --lr 0.01 \(this run: 0.5\)"),
    "dataset-split": (_mnist_split, wg.ArgumentError, r"mnist: split must be one of.*'validation'"),
    "checkpoint-checksum": (_checkpoint_checksum, wg.CheckpointError,
                            r"run.safetensors: bad checksum \(stored [0-9a-f]{64}"),
    "checkpoint-unreadable": (_checkpoint_truncated, wg.CheckpointError,
                              r"run.safetensors: not a readable safetensors file"),
    "checkpoint-oversized-header": (_checkpoint_oversized_header, wg.CheckpointError,
                                    r"run.safetensors: not a readable safetensors file.*"
                                    r"header too large"),
    "checkpoint-malformed-header": (_checkpoint_malformed_header, wg.CheckpointError,
                                    r"run.safetensors: not a readable.*invalid JSON in header"),
    "checkpoint-not-safetensors": (_checkpoint_not_safetensors, wg.CheckpointError,
                                   r"run.safetensors: not a readable safetensors file"),
    "checkpoint-no-state": (_checkpoint_no_document, wg.CheckpointError,
                            r"run.safetensors: .*no 'state' document"),
    "checkpoint-foreign": (_checkpoint_foreign, wg.CheckpointError,
                           r"weights.safetensors: format None is not 'wengert-state/1'"),
    "checkpoint-not-a-checkpoint": (_checkpoint_not_a_checkpoint, wg.CheckpointError,
                                    r"state.safetensors: .*not a checkpoint"),
    "checkpoint-section-missing": (_checkpoint_section_missing, wg.CheckpointError,
                                   r"run.safetensors: holds no optimizer state, but an optimizer "
                                   r"was given"),
    "resume-args": (_resume_without_checkpoint, wg.ArgumentError,
                    r"fit: resume=True needs checkpoint=PATH"),
    "callback-args": (_early_stopping_monitor, wg.ArgumentError,
                      r"EarlyStopping monitors 'val_loss'.*val_loader"),
    "unknown-metric": (lambda: _module("wengert.train.metrics").metric_functions(["f1"]),
                       wg.ArgumentError,
                       r"unknown metric 'f1'.*accuracy"),
    "unknown-word": (lambda: _vectors()["kingg"], wg.errors.UnknownWordError,
                     r"word 'kingg' is not in the vocabulary of 3 words"),
    "word2vec-args": (lambda: _module("wengert.models.word2vec").Word2Vec(dim=0), wg.ArgumentError,
                      r"Word2Vec: dim must be a positive integer, got 0"),
    "word2vec-not-fitted": (_word2vec_not_fitted, wg.ArgumentError, r"call fit\(\)"),
    "corpus-file": (_corpus_empty, wg.DatasetError, r"corpus .*corpus.txt holds no words"),
    "corpus-vocabulary": (_corpus_rare, wg.DatasetError,
                          r"corpus .*corpus.txt: no word occurs min_count=5.*2 times"),
    "evaluation-file": (_analogy_file, wg.DatasetError,
                        r"questions.txt: line 1 comes before any section header"),
    "vectors-file": (_vectors_file, wg.DatasetError, r"vectors.txt: line 3 has 1 values.*2"),
    "word-vectors-shape": (lambda: _module("wengert.models.word2vec").WordVectors(
                               ["a", "b"], np.zeros((3, 4))), wg.ShapeError,
                           r"WordVectors: 2 words.*\(2, dim\).*\(3, 4\)"),
    "unit-back-not-differentiable": (_unit_back_numpy, wg.GraphError,
                                     r"unit 'my_exp': back applied a NumPy function.*wengert ops"),
    "checkpoint-unstorable": (_state_name_clash, wg.ArgumentError,
                              r"save_state: two entries map to the tensor name 'a/b'"),
    "download-checksum": (_download_checksum, wg.DatasetError,
                          r"t10k-images-idx3-ubyte.gz: SHA-256 [0-9a-f]{64} does not match"),
    # the Playground (wengert.playground; its server's HTTP answers are in HTTP_CATALOGUE)
    "playground-config-key": (_playground_key, ConfigError,
                              r"unknown config key 'colour'; the keys are dataset, noise, .*"
                              r"batch_size"),
    "playground-config-choice": (_playground_choice, ConfigError,
                                 r"dataset: unknown choice 'swirl'; choose one of circle, .*"
                                 r"spiral"),
    "playground-config-number": (_playground_number, ConfigError,
                                 r"noise: 51 is out of range; allowed 0 to 50"),
    "playground-config-hidden": (_playground_hidden, ConfigError,
                                 r"hidden\[1\] \(neurons\): 9 is out of range; allowed 1 to 8"),
    "playground-config-features": (_playground_features, ConfigError,
                                   r"features: unknown feature 'x3'; choose from x1, x2, .*"
                                   r"sin_x2"),
    "playground-missing-dependency": (_playground_without_starlette, wg.MissingDependencyError,
                                      r"the Playground server needs starlette.*: pip install "
                                      r"'wengert\[playground\]'"),
    "op-options": (_op_options, wg.ArgumentError,
                   r"pad: mode='mean' is not a padding mode; use one of 'constant', "
                   r"'reflect'"),
    # convolution and pooling
    "conv-input-shape": (_conv_input_shape, wg.ShapeError,
                         r"conv2d: expected input of shape \(N, C, \*spatial\) or \(C, "
                         r"\*spatial\) with 2 spatial dims.*\(1, 1, 1, 5, 5\)\. Hint"),
    "conv-bias-shape": (lambda: F.conv2d(_z(1, 1, 5, 5), _z(2, 1, 3, 3), _z(3)), wg.ShapeError,
                        r"conv2d: bias of shape \(3,\) does not fit 2 output channels "
                        r"\(output \(1, 2, 3, 3\)\)\. Hint: it needs shape \(2,\)"),
    "conv-dtype": (lambda: F.conv2d(_z(1, 1, 5, 5), _z(1, 1, 3, 3, dtype="float32")),
                   wg.DTypeError, r"conv: input \(float64\) and weight \(float32\) must be "
                                  r"floating.*\(1, 1, 5, 5\).*\(1, 1, 3, 3\)\)\. Hint"),
    "conv-channels": (lambda: F.conv2d(_z(1, 3, 5, 5), _z(2, 2, 3, 3)), wg.ShapeError,
                      r"conv: the input has 3 channels but the weight \(2, 2, 3, 3\) with "
                      r"groups=1 expects 2 \(input \(1, 3, 5, 5\)\)\. Hint"),
    "conv-groups": (_conv_groups, wg.ArgumentError,
                    r"conv: groups=2 must divide the 4 input channels and the weight's 3 "
                    r"\(input \(1, 4, 5, 5\), weight \(3, 2, 3, 3\)\)\. Hint"),
    "conv-kernel-size": (_conv_kernel_size, wg.ShapeError,
                         r"conv: the kernel \(3,\) \(dilation \(3,\)\) is larger than the "
                         r"padded input \(5,\).*Hint"),
    "conv-padding-string": (_conv_padding_string, wg.ArgumentError,
                            r"conv2d: padding='same' is not supported for strided convolutions "
                            r"\(stride=\(2, 2\)\).*Hint"),
    "conv-output-padding": (lambda: F.conv_transpose1d(_z(1, 2, 5), _z(2, 1, 3), stride=2,
                                                       output_padding=2),
                            wg.ArgumentError,
                            r"conv_transpose1d: output_padding=\(2,\) must be smaller than "
                            r"either stride \(2,\) or dilation \(1,\).*Hint"),
    "window-args": (_window_args, wg.ArgumentError,
                    r"conv1d: stride=0 must be an int or 1 ints, each >= 1.*Hint"),
    "pool-input-shape": (lambda: F.max_pool2d(_z(4, 4), 2), wg.ShapeError,
                         r"max_pool2d: expected a non-empty 3-D or 4-D input \(C, H, W\) or "
                         r"\(N, C, H, W\), got shape \(4, 4\)\. Hint"),
    "pool-dtype": (_pool_dtype, wg.DTypeError,
                   r"avg_pool2d: cannot pool an input of dtype int32 \(shape \(1, 1, 4, 4\)\); "
                   r".*int64\. Hint: convert it first"),
    "pool-padding": (lambda: F.max_pool2d(_z(1, 1, 5, 5), 3, padding=2), wg.ArgumentError,
                     r"max_pool2d: padding \(2, 2\) must be at most half the kernel size "
                     r"\(3, 3\)\. Hint"),
    "pool-output-size": (lambda: F.max_pool2d(_z(1, 1, 3, 3), 4), wg.ShapeError,
                         r"max_pool2d: the input of shape \(1, 1, 3, 3\) is too small for "
                         r"kernel_size=\(4, 4\).*Hint"),
    "pool-padding-only-window": (lambda: F.max_pool2d(_z(1, 1, 4, 4), 2, 1, 1, 5),
                                 wg.ShapeError,
                                 r"max_pool2d: window 0 along spatial axis 0 holds only "
                                 r"padding.*\(1, 1, 4, 4\).*dilation=\(5, 5\).*Hint"),
    "adaptive-output-size": (lambda: F.adaptive_max_pool2d(_z(1, 1, 4, 4), -1),
                             wg.ArgumentError,
                             r"adaptive_max_pool2d: output_size=-1 must not be negative "
                             r"\(input of shape \(1, 1, 4, 4\)\)\. Hint"),
    # resizing, sliding blocks and shuffles
    "interpolate-args": (_interpolate_args, wg.ArgumentError,
                         r"interpolate: give size or scale_factor, not both \(size=3, "
                         r"scale_factor=2\), as PyTorch requires"),
    "interpolate-shape": (lambda: F.interpolate(_z(1, 1, 4), scale_factor=2, mode="bilinear"),
                          wg.ShapeError,
                          r"interpolate: mode='bilinear' needs a 4-D input \(2 spatial dims\), "
                          r"got shape \(1, 1, 4\).*Hint: for 1 spatial dims use mode='linear'"),
    "fold-shape": (lambda: F.fold(_z(2, 12, 19), (5, 6), 2), wg.ShapeError,
                   r"fold: output_size=\(5, 6\) with kernel_size=\(2, 2\).* has 4 \* 5 = 20 "
                   r"blocks, but the input of shape \(2, 12, 19\) has 19.*Hint"),
    "shuffle-shape": (lambda: F.channel_shuffle(_z(2, 8, 3), 3), wg.ShapeError,
                      r"channel_shuffle: the input of shape \(2, 8, 3\) has 8 channels \(dim 1\), "
                      r"not divisible by groups=3.*Hint"),
    # plain built-in errors, as Python and NumPy raise them (not WengertErrors; see BUILTIN)
    "module-assign": (_module_assign, TypeError, r"ndarray.*'weight'.*Linear.*Parameter"),
    "python-protocol": (lambda: len(wg.tensor(1.0)), TypeError, r"len\(\) of a 0-d tensor"),
    "pytree-leaves": (lambda: wg.pytree.unflatten(wg.pytree.flatten((1, 2))[1], [1]),
                      ValueError, r"unflatten: fewer leaves than the structure holds"),
    "op-call": (lambda: wg.tanh(wg.tensor([1.0]), axis=0), TypeError,
                r"tanh\(\) got an unexpected keyword argument 'axis'"),
}

# entries whose error is the plain built-in Python or NumPy would raise, not a WengertError
BUILTIN = {"module-assign", "python-protocol", "pytree-leaves", "op-call"}

#: The session cap of the Playground app the HTTP triggers talk to.
HTTP_MAX_SESSIONS = 2


def _json_post(client, path, body):
    return client.post(path, content=body, headers={"content-type": "application/json"})


def _new_session(client):
    r = client.post("/api/sessions", json={})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _http_invalid_json(client):
    # the related checks the entry names: the body is not an object, has an unknown key, a
    # point of graph/trace is not a number; then the body that is not JSON at all
    for body, words in ((b"[1, 2]", "expected a JSON object"),
                        (b'{"cfg": {}}', "unknown key 'cfg'; allowed: config")):
        r = _json_post(client, "/api/sessions", body)
        assert r.status_code == 400 and words in r.json()["error"], r.text
    r = client.get(f"/api/sessions/{_new_session(client)}/graph?x1=abc&x2=0")
    assert r.status_code == 400 and r.json() == {"error": "x1: 'abc' is not a number",
                                                 "field": "x1"}
    return _json_post(client, "/api/sessions", b'{"config": {"noise": ')


def _http_unknown_action(client):
    return client.post(f"/api/sessions/{_new_session(client)}/jump")


def _http_step_while_running(client):
    sid = _new_session(client)
    assert client.post(f"/api/sessions/{sid}/play").status_code == 200
    return client.post(f"/api/sessions/{sid}/step")


def _http_too_many_sessions(client):
    for _ in range(HTTP_MAX_SESSIONS):
        _new_session(client)
    return client.post("/api/sessions", json={})


# Playground server answers: id -> (request(client) -> response, HTTP status, regex the JSON
# "error" must match); client is Starlette's TestClient over
# create_app(max_sessions=HTTP_MAX_SESSIONS)
HTTP_CATALOGUE = {
    "playground-body-too-large": (
        lambda client: _json_post(client, "/api/sessions",
                                  b'{"config": {"dataset": "' + b"x" * 70_000 + b'"}}'),
        413, r"request body: 70027 bytes is too large; the limit is 65536 bytes"),
    "playground-invalid-json": (_http_invalid_json, 400,
                                r"request body: invalid JSON \(Expecting value: line 1"),
    "playground-unknown-session": (lambda client: client.get("/api/sessions/no-such-session"),
                                   404, r"no session 'no-such-session': it was deleted.*"
                                        r"POST /api/sessions"),
    "playground-unknown-action": (_http_unknown_action, 404,
                                  r"unknown action 'jump'; use one of play, pause, step, reset"),
    "playground-running": (_http_step_while_running, 409,
                           r"step: the session is running; pause it first"),
    "playground-session-limit": (_http_too_many_sessions, 429,
                                 r"too many sessions: 2 are live, the limit is 2 \(wengert "
                                 r"playground --max-sessions\)"),
    "playground-cross-site": (
        lambda client: client.post("/api/sessions", json={},
                                   headers={"origin": "http://evil.example"}),
        403, r"cross-site request refused: a page from http://evil.example may not change "
             r"sessions on testserver"),
}


def _cli_word2vec(*flags):
    return ["word2vec", "--corpus", "corpus.txt", "--out", "unused", *flags]


# command-line errors: id -> (argv for wengert.cli.main, exit status, regex stderr must match)
CLI_CATALOGUE = {
    "cli-choice": (["train", "--optimizer", "adamm"], 2,
                   r"argument --optimizer: invalid choice: 'adamm' \(choose from .*'sgd'.*"
                   r"'adam'"),
    "cli-number": (["train", "--lr", "-1"], 2,
                   r"argument --lr: expected a positive number, got '-1'"),
    "cli-resume": (["train", "--resume"], 2, r"--resume needs --out DIR"),
    "cli-trace-values": (["trace", "x * y", "--at", "x=1", "y=abc"], 2,
                         r"wengert trace: error: --at y=abc: 'abc' is not a number"),
    "cli-word2vec-args": (_cli_word2vec("--dim", "0"), 1,
                          r"wengert word2vec: error: Word2Vec: dim must be a positive "
                          r"integer, got 0"),
    "cli-playground-port": (["playground", "--port", "70000"], 2,
                            r"wengert playground: error: --port 70000: must be 0 to 65535"),
    "cli-playground-sessions": (["playground", "--max-sessions", "0"], 2,
                                r"wengert playground: error: --max-sessions 0: must be at "
                                r"least 1"),
}


@pytest.mark.parametrize("entry", sorted(CATALOGUE))
def test_error(entry):
    trigger, kind, pattern = CATALOGUE[entry]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error is the report: no NumPy warning first
        with pytest.raises(kind) as info:
            trigger()
    assert isinstance(info.value, wg.WengertError) != (entry in BUILTIN), entry
    assert re.search(pattern, str(info.value), re.S), f"{entry}: {info.value}"


@pytest.mark.parametrize("entry", sorted(CLI_CATALOGUE))
def test_cli_error(entry, capsys):
    from wengert.cli import main
    argv, status, pattern = CLI_CATALOGUE[entry]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse reports a usage error and exits with status 2
        code = exc.code
    err = capsys.readouterr().err
    assert code == status, f"{entry}: exit status {code}; stderr: {err}"
    assert re.search(pattern, err, re.S), f"{entry}: {err}"


@pytest.mark.parametrize("entry", sorted(HTTP_CATALOGUE))
def test_http_error(entry):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    pytest.importorskip("httpx")  # Starlette's TestClient runs on it
    with warnings.catch_warnings():
        # starlette 1.x suggests httpx2 for its TestClient; with httpx it works the same
        warnings.filterwarnings("ignore", message="Using `httpx` with", category=UserWarning)
        from starlette.testclient import TestClient
    from wengert.playground import create_app
    request, status, pattern = HTTP_CATALOGUE[entry]
    with TestClient(create_app(max_sessions=HTTP_MAX_SESSIONS)) as client:
        response = request(client)
    assert response.status_code == status, f"{entry}: {response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"error", "field"}, f"{entry}: {body}"
    assert re.search(pattern, body["error"], re.S), f"{entry}: {body['error']}"


def test_catalogue_matches_docs():
    text = (REPO / "docs" / "errors.md").read_text()
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.M))
    tested = set(CATALOGUE) | set(CLI_CATALOGUE) | set(HTTP_CATALOGUE)
    assert len(tested) == len(CATALOGUE) + len(CLI_CATALOGUE) + len(HTTP_CATALOGUE)
    assert documented == tested, (f"in docs only: {sorted(documented - tested)}; "
                                  f"tested only: {sorted(tested - documented)}")
