"""Checkpoint files: safetensors + JSON metadata (no pickle), atomic writes, and an error
naming the file for every way loading can fail."""
import json
import os

import numpy as np
import pytest
import safetensors.numpy

import wengert as wg
from wengert import nn, optim
from wengert.atomic import atomic_write
from wengert.optim.lr_scheduler import StepLR
from wengert.train import CheckpointError, load_checkpoint, save_checkpoint
from wengert.train import state_file


def _trained(sizes=(3, 5, 2), seed=0):
    wg.manual_seed(seed)
    model = nn.MLP(list(sizes))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        loss = (model(wg.randn(4, sizes[0])) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler


def _header(path):
    raw = path.read_bytes()
    return json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])


def test_round_trip_restores_model_optimizer_scheduler_rng_and_extra(tmp_path):
    model, optimizer, scheduler = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model, optimizer, scheduler, epoch=3, note="hello",
                    order=np.arange(5))
    expected_draw = wg.randn(3).data
    fresh, fresh_opt, fresh_sched = _trained(seed=1)
    extra = load_checkpoint(path, fresh, fresh_opt, fresh_sched)
    np.testing.assert_array_equal(wg.randn(3).data, expected_draw)  # RNG state restored
    assert extra["epoch"] == 3 and extra["note"] == "hello"
    np.testing.assert_array_equal(extra["order"], np.arange(5))
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert np.array_equal(a.data, b.data)
    for sa, sb in zip(optimizer.state.values(), fresh_opt.state.values()):
        assert sa["step"] == sb["step"] == 3
        assert np.array_equal(sa["exp_avg"], sb["exp_avg"])
    assert fresh_opt.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"] == 0.01 * 0.5 ** 3
    assert fresh_opt.param_groups[0]["betas"] == (0.9, 0.999)
    assert fresh_sched.state_dict() == scheduler.state_dict()


def test_the_file_is_plain_safetensors_with_json_metadata(tmp_path):
    model, optimizer, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model, optimizer, epoch=1)
    arrays = safetensors.numpy.load_file(path)  # any safetensors reader can open it
    np.testing.assert_array_equal(arrays["model/0.weight"], model[0].weight.data)
    metadata = _header(path)["__metadata__"]
    document = json.loads(metadata["state"])
    assert document["extra"]["epoch"] == 1
    assert document["model"]["0.weight"] == {"$tensor": "model/0.weight"}
    assert b"\x80\x04" not in path.read_bytes()[:16]  # no pickle protocol header


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path, monkeypatch):
    model, optimizer, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model, epoch=1)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(state_file.safetensors.numpy, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, epoch=2)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def test_missing_and_unexpected_keys_are_named_with_the_file(tmp_path):
    model, _, _ = _trained((3, 5, 2))
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    deeper = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2), nn.Linear(2, 2))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, deeper)
    message = str(info.value)
    assert str(path) in message and "missing keys ['3.weight', '3.bias']" in message
    assert isinstance(info.value, ValueError)


def test_mismatched_shapes_are_named(tmp_path):
    model, _, _ = _trained((3, 5, 2))
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    wider, _, _ = _trained((3, 7, 2))
    with pytest.raises(CheckpointError, match=r"0.weight: checkpoint \(5, 3\) vs model \(7, 3\)"):
        load_checkpoint(path, wider)


def test_a_flipped_byte_fails_the_checksum(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x40  # inside the last tensor's data
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError,
                       match=r"ck.safetensors: bad checksum \(stored [0-9a-f]{64}"):
        load_checkpoint(path, model)


def test_edited_metadata_fails_the_checksum(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model, epoch=3)
    raw = path.read_bytes()
    assert raw.count(b'\\"epoch\\":3') == 1  # the document is a JSON string in the header
    path.write_bytes(raw.replace(b'\\"epoch\\":3', b'\\"epoch\\":4'))
    with pytest.raises(CheckpointError, match="bad checksum"):
        load_checkpoint(path, model)


def test_a_truncated_file_is_named(tmp_path):
    model, _, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="ck.safetensors: not a readable safetensors file"):
        load_checkpoint(path, model)


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(3)}, path)
    with pytest.raises(CheckpointError, match="other.safetensors: format None is not "
                                              "'wengert-state/1'"):
        load_checkpoint(path, _trained()[0])


def test_a_state_file_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "state.safetensors"
    state_file.save_state(path, {"weights": np.zeros(2)})
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(path, _trained()[0])


def test_asking_for_optimizer_state_the_file_lacks(tmp_path):
    model, optimizer, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load_checkpoint(path, model, optimizer)


def test_optimizer_state_for_other_parameters_is_named(tmp_path):
    model, optimizer, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model, optimizer)
    other = optim.Adam(list(model.parameters())[:2], lr=0.1)
    with pytest.raises(CheckpointError, match="the optimizer state does not fit: .*groups of "
                                              "sizes \\[4\\], the optimizer \\[2\\]"):
        load_checkpoint(path, model, other)


def test_unstorable_values_are_named():
    with pytest.raises(TypeError, match="cannot store set at extra/tags"):
        save_checkpoint("unused.safetensors", _trained()[0], tags={1, 2})


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        load_checkpoint("/nonexistent/ck.safetensors", _trained()[0])


def test_state_values_round_trip_exactly(tmp_path):
    state = {"ints": {0: [1, 2], 5: None}, "tuple": (1.5, "a"), "$odd": True,
             "scalar32": np.float32(0.1), "nan": float("nan"), "big": 2 ** 100,
             "t": wg.tensor([1.0, 2.0])}
    state_file.save_state(tmp_path / "s", state)
    back = state_file.load_state(tmp_path / "s")
    assert back["ints"] == {0: [1, 2], 5: None} and back["tuple"] == (1.5, "a")
    assert back["$odd"] is True and back["big"] == 2 ** 100 and np.isnan(back["nan"])
    assert type(back["scalar32"]) is np.float32 and back["scalar32"] == np.float32(0.1)
    assert isinstance(back["t"], wg.Tensor) and back["t"].tolist() == [1.0, 2.0]


def _with_own_generator():
    generator = wg.Generator(5)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5, generator=generator)), \
        generator


def test_generators_owned_by_modules_are_saved_and_restored(tmp_path):
    model, generator = _with_own_generator()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    document = json.loads(_header(path)["__metadata__"]["state"])
    assert list(document["module_rng"]) == ["2.generator"]  # the Dropout's name and attribute
    after_save = generator.numpy.random(6)
    generator.numpy.random(100)  # the run goes on
    load_checkpoint(path, model, restore_rng=False)
    assert not np.array_equal(generator.numpy.random(6), after_save)  # left alone
    load_checkpoint(path, model)
    np.testing.assert_array_equal(generator.numpy.random(6), after_save)


def test_a_checkpoint_without_module_generators_still_loads(tmp_path):
    # A file written before module generators were saved: the model's generator goes on
    model, generator = _with_own_generator()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model, epoch=3)
    old = state_file.load_state(path)
    del old["module_rng"]
    state_file.save_state(path, old)
    twin = wg.Generator()
    twin.set_state(generator.get_state())
    assert load_checkpoint(path, model) == {"epoch": 3}
    np.testing.assert_array_equal(generator.numpy.random(6), twin.numpy.random(6))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_open_would_give(tmp_path, umask, mode):
    # A new file: 0o666 less the umask, as open(path, "w") makes it (not mkstemp's 0o600)
    model, _, _ = _trained()
    previous = os.umask(umask)
    try:
        save_checkpoint(tmp_path / "ck.safetensors", model)
        with atomic_write(tmp_path / "plain.txt") as f:
            f.write(b"x")
    finally:
        os.umask(previous)
    assert os.stat(tmp_path / "ck.safetensors").st_mode & 0o777 == mode
    assert os.stat(tmp_path / "plain.txt").st_mode & 0o777 == mode


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_overwriting_keeps_the_files_mode(tmp_path):
    # open(path, "w") on an existing file keeps its mode; so does a rewrite
    model, _, _ = _trained()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(path, model)
    os.chmod(path, 0o640)
    previous = os.umask(0o022)
    try:
        save_checkpoint(path, model, epoch=2)
    finally:
        os.umask(previous)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert load_checkpoint(path, model) == {"epoch": 2}
