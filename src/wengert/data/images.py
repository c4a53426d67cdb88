"""MNIST and Fashion-MNIST from their original IDX gz files.

Files are looked for in ``<root>/mnist/`` and ``<root>/fashion-mnist/`` under the original
names. ``root`` is the argument, else ``$WENGERT_DATA``, else ``$XDG_CACHE_HOME/wengert``
(``~/.cache/wengert``). With ``download=True`` missing files are fetched from the original
mirrors and kept only when their SHA-256 matches the published file's."""
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..backend import as_dtype
from ..errors import ArgumentError, DTypeError
from .dataset import TensorDataset
from .idx import DatasetError, read_idx

SPLITS = ("train", "test")
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
SIZES = {"train": 60000, "test": 10000}


@dataclass(frozen=True)
class Source:
    folder: str
    mirrors: tuple
    sha256: dict
    classes: tuple


MNIST = Source(
    "mnist",
    ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    {"train-images-idx3-ubyte.gz":
         "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
     "train-labels-idx1-ubyte.gz":
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
     "t10k-images-idx3-ubyte.gz":
         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
     "t10k-labels-idx1-ubyte.gz":
         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
    tuple(str(d) for d in range(10)))

FASHION_MNIST = Source(
    "fashion-mnist",
    ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    {"train-images-idx3-ubyte.gz":
         "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
     "train-labels-idx1-ubyte.gz":
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
     "t10k-images-idx3-ubyte.gz":
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
     "t10k-labels-idx1-ubyte.gz":
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
     "Bag", "Ankle boot"))


class ImageDataset(TensorDataset):
    """A :class:`TensorDataset` of ``(images, labels)`` with the class names in
    ``classes``."""

    def __init__(self, images, labels, classes):
        super().__init__(images, labels)
        self.classes = classes


def data_root(root=None):
    """Where datasets live: ``root``, else ``$WENGERT_DATA``, else the user cache directory."""
    if root is not None:
        return Path(root)
    if os.environ.get("WENGERT_DATA"):
        return Path(os.environ["WENGERT_DATA"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "wengert"


def mnist(root=None, split="train", download=False, flatten=False, dtype="float32"):
    """The MNIST handwritten digits: images scaled to [0, 1] as ``dtype`` (a floating type,
    else :class:`DTypeError`), shape
    (n, 28, 28) or (n, 784) with ``flatten=True``, and int64 labels 0-9. ``split`` is
    "train" (60,000) or "test" (10,000)."""
    return _load(MNIST, root, split, download, flatten, dtype)


def fashion_mnist(root=None, split="train", download=False, flatten=False, dtype="float32"):
    """Fashion-MNIST (Zalando): the same format and sizes as :func:`mnist`, with ten clothing
    classes (names in ``dataset.classes``)."""
    return _load(FASHION_MNIST, root, split, download, flatten, dtype)


def _load(source, root, split, download, flatten, dtype):
    if split not in SPLITS:
        raise ArgumentError(f"{source.folder}: split must be one of {SPLITS}, got {split!r}")
    if as_dtype(dtype).kind != "f":
        raise DTypeError(f"{source.folder}: dtype={dtype!r} is not a floating type; the images "
                         "are scaled to [0, 1]. Hint: use float32 or float64 (read_idx gives "
                         "the raw uint8 pixels)")
    folder = data_root(root) / source.folder
    paths = [folder / name for name in FILES[split]]
    missing = [p for p in paths if not p.is_file()]
    if missing and download:
        for path in missing:
            fetch_file(source, path)
    elif missing:
        raise FileNotFoundError(
            f"{source.folder} {split} split: missing {', '.join(map(str, missing))}. Hint: "
            f"pass download=True, point root= (or $WENGERT_DATA) at a folder holding "
            f"{source.folder}/, or copy the original .gz files there")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    _validate(paths, images, labels, SIZES[split], len(source.classes))
    images = images.reshape(len(images), -1) if flatten else images
    # divide in the target dtype: one pass, no float64 temporary, and correctly rounded like
    # torchvision's x / 255 (times a rounded 1/255 is off by an ulp for half the bytes)
    scaled = np.divide(images, as_dtype(dtype).type(255), dtype=as_dtype(dtype))
    return ImageDataset(scaled, labels.astype(np.int64), source.classes)


def _validate(paths, images, labels, count, num_classes):
    if images.dtype != np.uint8 or images.shape != (count, 28, 28):
        raise DatasetError(f"{paths[0]}: expected {count} images of 28x28 uint8 (magic "
                           f"0x00000803), found shape {images.shape} of {images.dtype}")
    if labels.dtype != np.uint8 or labels.shape != (count,):
        raise DatasetError(f"{paths[1]}: expected {count} uint8 labels (magic 0x00000801), "
                           f"found shape {labels.shape} of {labels.dtype}")
    if labels.max() >= num_classes:
        raise DatasetError(f"{paths[1]}: label {int(labels.max())} is out of range; labels "
                           f"are 0..{num_classes - 1}")


def fetch_file(source, path):
    """Download ``path.name`` of ``source`` into ``path``, trying each mirror; the file appears
    only after its SHA-256 matched the published one."""
    failures = []
    for mirror in source.mirrors:
        url = mirror + path.name
        try:
            with atomic_write(path) as out, urllib.request.urlopen(url, timeout=60) as resp:
                digest = _copy_hashing(resp, out)
                if digest != source.sha256[path.name]:
                    raise DatasetError(f"{url}: SHA-256 {digest} does not match the published "
                                       f"{source.sha256[path.name]}; the download was "
                                       "discarded")
            return
        except (urllib.error.URLError, OSError) as exc:
            failures.append(f"{url}: {exc}")
    raise ConnectionError(f"could not download {path.name} for {source.folder}: "
                          f"{'; '.join(failures)}. Hint: copy the file to {path} by hand")


def _copy_hashing(src, dst, chunk=1 << 20):
    digest = hashlib.sha256()
    while block := src.read(chunk):
        digest.update(block)
        dst.write(block)
    return digest.hexdigest()
