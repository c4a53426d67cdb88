"""The original word2vec tool's vector files, which gensim and the C tool's ``distance``
and ``word-analogy`` programs read.

Both start with the line ``"<words> <dim>\\n"``. Then, per word:

* text: ``word v1 v2 ... vdim\\n`` (values with 9 significant digits, which round-trip
  float32 exactly);
* binary: ``word`` + a space + ``dim`` little-endian float32 + ``\\n`` (the C tool writes the
  newline and its readers skip it before the next word).

Words are UTF-8 and must not contain spaces or line breaks."""
from pathlib import Path

import numpy as np

from ...atomic import atomic_write
from ...data import DatasetError

FLOAT = np.dtype("<f4")


def save(path, words, vectors, binary=False):
    """Write ``words`` and their ``vectors`` (shape (len(words), dim)) to ``path``."""
    bad = next((w for w in words if not w or any(c.isspace() for c in w)), None)
    if bad is not None:
        raise ValueError(f"word2vec format: word {bad!r} is empty or holds whitespace, which "
                         "the format uses as a separator")
    vectors = np.asarray(vectors, dtype=FLOAT)
    with atomic_write(path) as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        if binary:
            for word, row in zip(words, vectors):
                f.write(word.encode() + b" " + row.tobytes() + b"\n")
        else:
            for word, row in zip(words, vectors):
                f.write((word + " " + " ".join(f"{v:.9g}" for v in row.tolist()) + "\n")
                        .encode())


def load(path, binary=None):
    """Read ``(words, vectors)`` (float32) from a word2vec file; ``binary=None`` detects the
    format from the first record. Raises :class:`~wengert.data.DatasetError` naming the file
    for a malformed or truncated one."""
    path = Path(path)
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    try:
        count, dim = (int(x) for x in header.split())
    except ValueError:
        raise DatasetError(f"{path}: the first line {header[:60]!r} is not '<words> <dim>', "
                           "so this is not a word2vec file") from None
    if binary is None:
        binary = _looks_binary(body, dim)
    words, vectors = (_read_binary if binary else _read_text)(path, body, count, dim)
    if len(words) != count:
        raise DatasetError(f"{path}: the header announces {count} words but {len(words)} "
                           "were read; the file is truncated")
    return words, vectors


def _looks_binary(body, dim):
    """A text record is ``word`` then ``dim`` numbers on one line; a binary one is not."""
    line = body.split(b"\n", 1)[0]
    try:
        return len(line.decode().split()) != dim + 1
    except UnicodeDecodeError:
        return True


def _read_text(path, body, count, dim):
    words, rows = [], []
    for number, line in enumerate(body.decode("utf-8").splitlines()[:count], 2):
        parts = line.rstrip().split(" ")
        if len(parts) != dim + 1:
            raise DatasetError(f"{path}: line {number} has {len(parts) - 1} values, the "
                               f"header says {dim}")
        words.append(parts[0])
        rows.append(parts[1:])
    return words, np.array(rows, dtype=np.float32).reshape(len(rows), dim)


def _read_binary(path, body, count, dim):
    words, starts = [], []
    size = dim * FLOAT.itemsize
    at = 0
    for _ in range(count):
        while at < len(body) and body[at:at + 1] == b"\n":  # the newline after a vector
            at += 1
        space = body.find(b" ", at)
        if space < 0 or space + 1 + size > len(body):
            break
        words.append(body[at:space].decode("utf-8"))
        starts.append(space + 1)
        at = space + 1 + size
    vectors = np.empty((len(starts), dim), np.float32)
    for row, start in enumerate(starts):
        vectors[row] = np.frombuffer(body, FLOAT, dim, start)
    return words, vectors
