"""The original word2vec tool's vector files, which gensim and the C tool's ``distance``
and ``word-analogy`` programs read.

Both start with the line ``"<words> <dim>\\n"``. Then, per word:

* text: ``word v1 v2 ... vdim\\n`` (values with 9 significant digits, which round-trip
  float32 exactly);
* binary: ``word`` + a space + ``dim`` little-endian float32 + ``\\n`` (the C tool writes the
  newline and its readers skip it before the next word).

Words are UTF-8 and must not contain spaces or line breaks. A word that comes again is
ignored, with a warning, as gensim does: the first vector of a word is the one kept."""
import warnings
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
    for a malformed or truncated one (and the line, or the word's number in a binary file)."""
    path = Path(path)
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    try:
        count, dim = (int(x) for x in header.split())
    except ValueError:
        raise DatasetError(f"{path}: the first line {header[:60]!r} is not '<words> <dim>', "
                           "so this is not a word2vec file") from None
    guessed = binary is None
    if guessed:
        binary = _looks_binary(body, dim)
    words, vectors = (_read_binary if binary else _read_text)(path, body, count, dim)
    if len(words) != count:
        how = (f" (read as binary, line 2 not being a word and {dim} numbers; binary=False "
               "reads it as text)" if guessed and binary else "")
        raise DatasetError(f"{path}: the header announces {count} words but {len(words)} "
                           f"were read; the file is truncated{how}")
    first = {}
    for row, word in enumerate(words):
        first.setdefault(word, row)
    if len(first) < len(words):
        repeated = sorted({w for row, w in enumerate(words) if first[w] != row})
        warnings.warn(f"{path}: {len(words) - len(first)} repeated word(s), e.g. "
                      f"{repeated[:3]}; kept the first vector of each (as gensim does)",
                      stacklevel=3)
        keep = list(first.values())
        words, vectors = list(first), vectors[keep]
    return words, vectors


def _looks_binary(body, dim):
    """A text record is a word then ``dim`` numbers on one line; a binary one is not. The
    ``4 * dim`` bytes of a binary record can split into ``dim`` fields too (most float32
    values do when ``dim`` is 1), so the fields must also read as numbers. Judged on bytes,
    so that a text file holding a word that is not UTF-8 is not taken for binary."""
    fields = body.split(b"\n", 1)[0].split()
    return len(fields) != dim + 1 or not all(_is_number(v) for v in fields[1:])


def _is_number(text):
    try:
        np.float32(text)
    except ValueError:
        return False
    return True


def _read_text(path, body, count, dim):
    words, rows = [], []
    lines = body.split(b"\n")
    if lines[-1] == b"":  # the newline that ends the last line
        lines.pop()
    for number, raw in enumerate(lines[:count], 2):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}: line {number} is not UTF-8 text ({exc.reason} at byte "
                               f"{exc.start}); a binary word2vec file loads with binary=True "
                               "(or binary=None, which detects it)") from None
        parts = line.rstrip().split(" ")
        if len(parts) != dim + 1:
            raise DatasetError(f"{path}: line {number} has {len(parts) - 1} values, the "
                               f"header says {dim}")
        words.append(parts[0])
        rows.append(parts[1:])
    try:
        return words, np.array(rows, dtype=np.float32).reshape(len(rows), dim)
    except ValueError:  # only then look for the culprit
        number, value = next((n, v) for n, row in enumerate(rows, 2) for v in row
                             if not _is_number(v))
        raise DatasetError(f"{path}: line {number}: {value!r} is not a number") from None


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
        try:
            words.append(body[at:space].decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{path}: word {len(words) + 1} (byte {at} after the header) "
                               f"is not UTF-8 ({exc.reason}); the file is corrupt") from None
        starts.append(space + 1)
        at = space + 1 + size
    vectors = np.empty((len(starts), dim), np.float32)
    for row, start in enumerate(starts):
        vectors[row] = np.frombuffer(body, FLOAT, dim, start)
    return words, vectors
