"""Streaming corpus reading for word2vec: plain text, ``.gz`` and ``.tar.gz`` (of ``.txt``
files), tokenized as text8 was made: lower-case, every byte outside ``[a-z]`` becomes a
space (so "Don't" gives "don", "t"; UTF-8 letters such as "é" split a word), words are the
runs left. Project Gutenberg header and footer (before ``*** START OF``, from ``*** END OF``)
are dropped by default.

Files are read in blocks of about 1 MiB, so memory does not grow with the file: a 10M-word
corpus becomes a 40 MB array of word ids (:func:`read_corpus`), never a list of strings."""
import gzip
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...data import DatasetError

BLOCK = 1 << 20
#: gensim's cap on a sentence (``MAX_WORDS_IN_BATCH``): longer documents are cut into
#: sentences of this many words, and windows never cross a sentence boundary.
MAX_SENTENCE = 10000
# byte -> byte: A-Z lowered, a-z kept, everything else a space.
_TABLE = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 else 32 for c in range(256))
START, END = b"*** START OF", b"*** END OF"
# Where the START marker is looked for: Project Gutenberg headers are a few KB; a file
# without the marker in its first HEADER_SPAN bytes is kept whole.
HEADER_SPAN = 64 << 10


def tokenize(text):
    """The word tokens (bytes) of a bytes ``text``: lower-cased runs of ``[a-z]``."""
    return text.translate(_TABLE).split()


def _documents(path):
    """Yield a binary file object per document: the file itself, or each ``.txt`` member of
    a tar archive in archive order (read as a stream: a .tar.gz is decompressed once)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"corpus {path} does not exist")
    if not path.is_file():
        raise DatasetError(f"corpus {path} is not a file; give a .txt, .gz or .tar.gz file")
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        found = False
        with tarfile.open(path, "r|*") as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".txt"):
                    found = True
                    yield tar.extractfile(member)
        if not found:
            raise DatasetError(f"corpus {path}: the archive holds no .txt file")
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            yield f
    else:
        with open(path, "rb") as f:
            yield f


def _blocks(f, strip_gutenberg):
    """Raw byte blocks of one document, each ending at a line break (or a space, for a
    one-line file such as text8) so no word or marker is cut in two."""
    rest = b""
    if strip_gutenberg:  # the header span, completed to a whole line of at most a block (a
        # one-line file such as text8 would otherwise be read whole)
        rest = _after_start(f.read(HEADER_SPAN) + f.readline(BLOCK))
    while True:
        block = f.read(BLOCK)
        data = rest + block
        if strip_gutenberg:
            end = data.find(END)
            if end >= 0:
                yield data[:end]
                return
        if not block:
            yield data
            return
        cut = data.rfind(b"\n")
        if cut < 0:  # cutting at a space could split a marker line; only when no line ends
            cut = data.rfind(b" ")
        if cut < 0:
            rest = data
            continue
        yield data[:cut + 1]
        rest = data[cut + 1:]


def _after_start(head):
    """``head`` without the Project Gutenberg header: what follows the line holding
    ``*** START OF``, when there is one."""
    at = head.find(START)
    if at < 0:
        return head
    eol = head.find(b"\n", at)
    return b"" if eol < 0 else head[eol + 1:]


def iter_token_blocks(path, strip_gutenberg=True):
    """Yield ``(document_number, tokens)`` for each block of the corpus at ``path``;
    ``tokens`` is a list of bytes words (see :func:`tokenize`)."""
    try:
        for number, f in enumerate(_documents(path)):
            for block in _blocks(f, strip_gutenberg):
                tokens = tokenize(block)
                if tokens:
                    yield number, tokens
    except (OSError, EOFError, zlib.error, tarfile.TarError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DatasetError(f"corpus {path}: cannot be read: {exc}") from None


def iter_sentences(path, strip_gutenberg=True, max_sentence=MAX_SENTENCE):
    """Yield the corpus as sentences, lists of str words: each document cut into runs of at
    most ``max_sentence`` words: the sentences :func:`read_corpus` holds, in the form gensim
    takes (bench/word2vec.py streams them to gensim)."""
    current, words, pending = None, {}, []
    for number, tokens in iter_token_blocks(path, strip_gutenberg):
        if number != current and pending:
            yield pending
            pending = []
        current = number
        for token in tokens:
            word = words.get(token)
            if word is None:  # share one str per word type, as a vocabulary would
                word = words[token] = token.decode("ascii")
            pending.append(word)
            if len(pending) == max_sentence:
                yield pending
                pending = []
    if pending:
        yield pending


@dataclass
class Corpus:
    """A tokenized corpus in memory: ``ids`` (int32, one per token, in corpus order) index
    ``words`` (bytes, in order of first appearance) and ``counts``; ``bounds`` (int64) are the
    sentence boundaries: sentence ``i`` is ``ids[bounds[i]:bounds[i + 1]]``."""
    path: str
    ids: np.ndarray
    bounds: np.ndarray
    words: list
    counts: np.ndarray

    def __len__(self):
        return int(self.ids.size)


def read_corpus(path, strip_gutenberg=True, max_sentence=MAX_SENTENCE):
    """Read and tokenize the corpus at ``path`` into a :class:`Corpus` (one pass, streaming).

    Raises ``FileNotFoundError`` for a missing path and
    :class:`~wengert.data.DatasetError` for a corrupt file or a corpus without words."""
    index = {}
    chunks, doc_starts = [], []
    total, current = 0, None
    for number, tokens in iter_token_blocks(path, strip_gutenberg):
        if number != current:
            doc_starts.append(total)
            current = number
        # New words get ids in order of first appearance (dict.fromkeys keeps it), and one
        # map() over the block keeps the per-token work in C.
        new = [t for t in dict.fromkeys(tokens) if t not in index]
        index.update(zip(new, range(len(index), len(index) + len(new))))
        chunks.append(np.fromiter(map(index.__getitem__, tokens), np.int32, len(tokens)))
        total += len(tokens)
    if not total:
        raise DatasetError(f"corpus {path} holds no words (only letters a-z make words)")
    ids = np.concatenate(chunks)
    del chunks[:]
    doc_bounds = np.append(np.asarray(doc_starts, np.int64), total)
    bounds = np.unique(np.concatenate(
        [np.arange(a, b, max_sentence) for a, b in zip(doc_bounds[:-1], doc_bounds[1:])]
        + [doc_bounds[-1:]]))
    counts = np.zeros(len(index), np.int64)
    for start in range(0, total, BLOCK):  # bincount casts to int64: a slice at a time
        counts += np.bincount(ids[start:start + BLOCK], minlength=len(index))
    return Corpus(str(path), ids, bounds, list(index), counts)
