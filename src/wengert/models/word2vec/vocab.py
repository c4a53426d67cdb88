"""The word2vec vocabulary: which words are kept (``min_count``, ``max_vocab``), how often a
frequent word is dropped (subsampling) and how negatives are drawn (unigram^0.75)."""
from dataclasses import dataclass

import numpy as np

from ...data import DatasetError
from .corpus import BLOCK


@dataclass
class Vocabulary:
    """Words sorted by descending count, ties with the word seen last first (gensim's order,
    so that "the 30,000 most frequent words" are the same set); ``index`` maps a word to its
    row, ``counts`` (int64) are the corpus counts."""
    words: list
    counts: np.ndarray

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    @property
    def total(self):
        """Number of corpus tokens that are in the vocabulary."""
        return int(self.counts.sum())

    def keep_probabilities(self, sample):
        """Per word, the probability that one occurrence is kept by subsampling; gensim's
        and the original tool's formula with ``t = sample * total``:
        ``p = (sqrt(count / t) + 1) * t / count``, capped at 1. ``sample=0`` keeps all."""
        if not sample:
            return np.ones(len(self), np.float32)
        threshold = sample * self.total
        p = (np.sqrt(self.counts / threshold) + 1) * threshold / self.counts
        return np.minimum(p, 1.0).astype(np.float32)

    def noise_cdf(self, power=0.75):
        """Cumulative noise distribution ``count^power`` (normalized to end at 1) from which
        negatives are drawn with ``searchsorted(cdf, uniform, side="right")``."""
        weights = self.counts.astype(np.float64) ** power
        cdf = np.cumsum(weights)
        return cdf / cdf[-1]


def build_vocabulary(corpus, min_count=5, max_vocab=None):
    """The :class:`Vocabulary` of a :class:`~wengert.models.word2vec.corpus.Corpus`: words
    seen at least ``min_count`` times, the ``max_vocab`` most frequent of them when given.
    Returns ``(vocabulary, rows)``: ``rows[corpus_id]`` is the word's row, or -1 if dropped.
    Raises :class:`~wengert.data.DatasetError` when no word is left."""
    order = np.lexsort((-np.arange(corpus.counts.size), -corpus.counts))
    order = order[corpus.counts[order] >= min_count]
    if max_vocab is not None:
        order = order[:max_vocab]
    if not order.size:
        top = int(corpus.counts.max()) if corpus.counts.size else 0
        raise DatasetError(f"corpus {corpus.path}: no word occurs min_count={min_count} times "
                           f"(the most frequent occurs {top} times), so the vocabulary is "
                           "empty. Hint: lower min_count or give a larger corpus")
    rows = np.full(len(corpus.words), -1, np.int32)
    rows[order] = np.arange(order.size, dtype=np.int32)
    words = [corpus.words[i].decode("ascii") for i in order]
    return Vocabulary(words, corpus.counts[order]), rows


def encode(corpus, rows):
    """The corpus as vocabulary rows with dropped words removed (as gensim and the original
    tool do before windowing): ``(ids, bounds)`` like :class:`Corpus`'s, sentences that
    became empty kept as empty ranges. Works a block at a time: indexing with the whole
    int32 corpus would make int64 copies of it."""
    ids = np.empty(len(corpus), np.int32)
    dropped, n = [], 0
    for start in range(0, len(corpus), BLOCK):
        mapped = rows[corpus.ids[start:start + BLOCK]]
        kept = mapped >= 0
        count = int(kept.sum())
        ids[n:n + count] = mapped[kept]
        n += count
        dropped.append(np.flatnonzero(~kept) + start)
    bounds = corpus.bounds - np.searchsorted(np.concatenate(dropped), corpus.bounds)
    return ids[:n], bounds
