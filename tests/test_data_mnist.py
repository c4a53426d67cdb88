"""MNIST / Fashion-MNIST from the shared IDX gz files, and every way a file can be wrong."""
import dataclasses
import gzip
import hashlib
import shutil

import numpy as np
import pytest

from wengert.data import DatasetError, data_root, fashion_mnist, mnist, read_idx
from wengert.data import images as mnist_module
from wengert.errors import ArgumentError, DTypeError

# from shared/data/README.md
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
UNCOMPRESSED_MD5 = {"t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
                    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637"}


@pytest.mark.parametrize("name", sorted(UNCOMPRESSED_MD5))
def test_read_idx_reproduces_the_official_file_byte_for_byte(data_dir, name):
    array = read_idx(data_dir / "mnist" / name)
    magic = bytes([0, 0, 0x08, array.ndim])
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    rebuilt = magic + dims + array.astype(">u1").tobytes()
    assert hashlib.md5(rebuilt).hexdigest() == UNCOMPRESSED_MD5[name]


@pytest.mark.parametrize("split, counts", [("train", MNIST_TRAIN_COUNTS),
                                           ("test", MNIST_TEST_COUNTS)])
def test_mnist_splits(data_dir, split, counts):
    ds = mnist(data_dir, split)
    images, labels = ds.tensors
    assert images.shape == (sum(counts), 28, 28) and images.dtype == np.float32
    assert labels.dtype == np.int64
    assert np.bincount(labels.data).tolist() == counts
    assert images.data.min() == 0.0 and images.data.max() == 1.0
    assert ds.classes == tuple("0123456789")


def test_mnist_pixels_are_the_bytes_over_255(data_dir):
    with gzip.open(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(10000, 784)
    images = mnist(data_dir, "test", flatten=True, dtype="float64").tensors[0].data
    assert images.shape == (10000, 784) and images.dtype == np.float64
    np.testing.assert_allclose(images, raw / 255.0, rtol=1e-15)


def test_pixels_equal_torchvisions_division_by_255(data_dir, torch_mod):
    """ToTensor's img.float().div(255), correctly rounded: a multiply by a rounded 1/255 was
    one ulp off for 126 of the 256 byte values in float32."""
    with gzip.open(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(10000, 784)
    assert len(np.unique(raw)) == 256  # every byte value is checked
    for dtype, torch_dtype in (("float32", torch_mod.float32), ("float64", torch_mod.float64)):
        images = mnist(data_dir, "test", flatten=True, dtype=dtype).tensors[0].data
        expected = torch_mod.from_numpy(raw.copy()).to(torch_dtype).div(255).numpy()
        np.testing.assert_array_equal(images, expected)


def test_fashion_mnist(data_dir):
    ds = fashion_mnist(data_dir, "test")
    assert np.bincount(ds.tensors[1].data).tolist() == [1000] * 10
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert fashion_mnist(data_dir, "train").tensors[0].shape == (60000, 28, 28)


def test_root_comes_from_the_environment_then_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("WENGERT_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("WENGERT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_root() == tmp_path / "cache" / "wengert"


def test_mnist_reads_wengert_data(monkeypatch, data_dir):
    monkeypatch.setenv("WENGERT_DATA", str(data_dir))
    assert len(mnist(split="test")) == 10000


# --- corrupt files ------------------------------------------------------------------------
def _idx(shape, code=0x08, data=None, ndim=None):
    header = bytes([0, 0, code, len(shape) if ndim is None else ndim])
    body = np.zeros(shape, np.uint8).tobytes() if data is None else data
    return header + np.asarray(shape, ">u4").tobytes() + body


def _write(path, content, compress=True):
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


def test_bad_magic_number(tmp_path):
    path = _write(tmp_path / "x-idx1-ubyte.gz", b"\x08\x03" + _idx((4,))[2:])
    with pytest.raises(DatasetError, match="bad magic number 0x0803") as info:
        read_idx(path)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)


def test_unknown_type_code(tmp_path):
    path = _write(tmp_path / "x.gz", _idx((4,), code=0x07))
    with pytest.raises(DatasetError, match="bad magic number 0x00000701"):
        read_idx(path)


def test_truncated_data(tmp_path):
    path = _write(tmp_path / "x.gz", _idx((10, 28, 28))[:-100])
    with pytest.raises(DatasetError, match=r"truncated: shape \(10, 28, 28\) of uint8 needs "
                                           r"7840 bytes of data, the file has 7740") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_header(tmp_path):
    path = _write(tmp_path / "x.gz", _idx((10, 28, 28))[:9])
    with pytest.raises(DatasetError, match="truncated header: 3 dimensions need 16 bytes"):
        read_idx(path)


def test_too_short_for_a_magic_number(tmp_path):
    with pytest.raises(DatasetError, match="too short"):
        read_idx(_write(tmp_path / "x.gz", b"\x00\x00"))


def test_sizes_whose_product_wraps_int64_are_still_truncated(tmp_path):
    # 65536**4 == 2**64, which int64 arithmetic wraps to 0: an empty body looked complete
    path = _write(tmp_path / "x.idx", _idx((65536,) * 4, data=b""), compress=False)
    with pytest.raises(DatasetError, match=r"truncated: shape \(65536, 65536, 65536, 65536\) "
                                           r"of uint8 needs 18446744073709551616 bytes"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = _write(tmp_path / "x.gz", _idx((3,)) + b"\x01\x02")
    with pytest.raises(DatasetError, match=r"2 unexpected bytes after the data of shape \(3,\)"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path):
    whole = gzip.compress(_idx((100, 28, 28), data=np.random.default_rng(0).integers(
        0, 255, 78400, dtype=np.uint8).tobytes()))
    path = tmp_path / "x.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DatasetError, match="gzip stream is corrupt or truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_not_gzip_at_all(tmp_path):
    path = _write(tmp_path / "x.gz", b"hello, this is not gzip", compress=False)
    with pytest.raises(DatasetError, match="gzip stream is corrupt"):
        read_idx(path)


def test_uncompressed_and_wider_types(tmp_path):
    values = np.arange(-3, 3, dtype=">i4").reshape(2, 3)
    path = _write(tmp_path / "x.idx", _idx((2, 3), code=0x0C, data=values.tobytes()),
                  compress=False)
    array = read_idx(path)
    assert array.dtype == np.int32 and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


def _fake_split(root, images, labels, folder="mnist"):
    (root / folder).mkdir(parents=True)
    _write(root / folder / "t10k-images-idx3-ubyte.gz", images)
    _write(root / folder / "t10k-labels-idx1-ubyte.gz", labels)


def test_wrong_image_count_names_the_file_and_the_expected_shape(tmp_path):
    _fake_split(tmp_path, _idx((10, 28, 28)), _idx((10,)))
    with pytest.raises(DatasetError, match=r"expected 10000 images of 28x28 uint8 \(magic "
                                           r"0x00000803\), found shape \(10, 28, 28\)") as info:
        mnist(tmp_path, "test")
    assert "t10k-images-idx3-ubyte.gz" in str(info.value)


def test_labels_file_of_the_wrong_kind(tmp_path):
    _fake_split(tmp_path, _idx((10000, 28, 28)), _idx((10000, 1)))
    with pytest.raises(DatasetError, match=r"t10k-labels.*expected 10000 uint8 labels"):
        mnist(tmp_path, "test")


def test_label_out_of_range(tmp_path):
    labels = np.zeros(10000, np.uint8)
    labels[5] = 12
    _fake_split(tmp_path, _idx((10000, 28, 28)), _idx((10000,), data=labels.tobytes()))
    with pytest.raises(DatasetError, match="label 12 is out of range; labels are 0..9"):
        mnist(tmp_path, "test")


def test_missing_files_name_the_path_and_the_ways_out(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist(tmp_path, "train")
    message = str(info.value)
    assert str(tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz") in message
    assert "download=True" in message and "WENGERT_DATA" in message


def test_unknown_split():
    with pytest.raises(ArgumentError, match=r"split must be one of \('train', 'test'\), got 'val'"):
        mnist(split="val")


@pytest.mark.parametrize("dtype", ["uint8", "int64", bool])
def test_a_dtype_that_is_not_floating_is_refused(dtype):
    # it used to scale by 1/255 in that dtype: every image all zeros
    with pytest.raises(DTypeError, match="is not a floating type; the images are scaled"):
        mnist(split="test", dtype=dtype)


# --- download (from a local mirror: file:// URLs go through the same urllib path) --------
@pytest.fixture
def local_mirror(tmp_path, data_dir, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data_dir / "mnist" / name, mirror / name)
    monkeypatch.setattr(mnist_module, "MNIST", dataclasses.replace(
        mnist_module.MNIST, mirrors=("file:///nonexistent/", mirror.as_uri() + "/")))
    return mirror


def test_download_verifies_and_keeps_the_files(tmp_path, local_mirror):
    root = tmp_path / "root"
    ds = mnist(root, "test", download=True)
    assert np.bincount(ds.tensors[1].data).tolist() == MNIST_TEST_COUNTS
    assert sorted(p.name for p in (root / "mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_download_with_a_bad_checksum_is_discarded(tmp_path, local_mirror):
    (local_mirror / "t10k-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    root = tmp_path / "root"
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz: SHA-256 .* does not "
                                           "match the published f7ae60f9"):
        mnist(root, "test", download=True)
    assert not any(p.name.startswith(".t10k-labels") or p.name == "t10k-labels-idx1-ubyte.gz"
                   for p in (root / "mnist").iterdir())


def test_download_failure_from_every_mirror(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "MNIST", dataclasses.replace(
        mnist_module.MNIST, mirrors=("file:///nonexistent/a/", "file:///nonexistent/b/")))
    with pytest.raises(ConnectionError, match="could not download t10k-images-idx3-ubyte.gz "
                                              "for mnist: file:///nonexistent/a/"):
        mnist(tmp_path, "test", download=True)
    assert list((tmp_path / "mnist").iterdir()) == []
