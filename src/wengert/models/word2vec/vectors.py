"""Trained word vectors: lookup, cosine similarity, nearest neighbours and analogies, and the
word2vec file formats (:mod:`.formats`) and benchmarks (:mod:`.evaluation`)."""
import numpy as np

from ...errors import ArgumentError, ShapeError, UnknownWordError
from . import evaluation, formats


class WordVectors:
    """``words`` (a list of str, most frequent first as a trained vocabulary is) and their
    ``vectors`` (an array of shape (len(words), dim)); as gensim's ``KeyedVectors``:
    ``wv["king"]``, ``"king" in wv``, ``wv.most_similar(positive=["king", "woman"],
    negative=["man"])``. A word that is not in the vocabulary raises
    :class:`~wengert.errors.UnknownWordError` (a ``KeyError``) naming it."""

    def __init__(self, words, vectors):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ShapeError(f"WordVectors: {len(words)} words need vectors of shape "
                             f"({len(words)}, dim), got {vectors.shape}")
        self.words = list(words)
        self.vectors = vectors
        self.index = {w: i for i, w in enumerate(self.words)}
        self._unit = None

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def __getitem__(self, word):
        return self.vectors[self.get_index(word)]

    def __repr__(self):
        return f"WordVectors({len(self)} words, dim {self.vectors.shape[1]})"

    def get_index(self, word):
        """The row of ``word``; raises :class:`~wengert.errors.UnknownWordError` if absent."""
        try:
            return self.index[word]
        except KeyError:
            raise UnknownWordError(f"word {word!r} is not in the vocabulary of "
                                   f"{len(self)} words") from None

    @property
    def unit(self):
        """The vectors scaled to unit length (float32; zero vectors stay zero), computed
        once: the vectors are not expected to change after training."""
        if self._unit is None:
            v = self.vectors.astype(np.float32)
            norm = np.linalg.norm(v, axis=1, keepdims=True)
            self._unit = v / np.where(norm > 0, norm, 1)
        return self._unit

    def similarity(self, a, b):
        """Cosine similarity of the words ``a`` and ``b``."""
        return float(self.unit[self.get_index(a)] @ self.unit[self.get_index(b)])

    def most_similar(self, positive=(), negative=(), topn=10, restrict_vocab=None):
        """The ``topn`` words (with cosine similarities, best first) nearest to the mean of
        the unit vectors of ``positive`` minus those of ``negative`` (3CosAdd), the query
        words excluded; only the first ``restrict_vocab`` words are candidates when given.
        ``positive`` may be a single word."""
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        if not positive and not negative:
            raise ValueError("most_similar: give at least one positive or negative word")
        if not isinstance(topn, (int, np.integer)):
            raise ArgumentError(f"most_similar: topn must be an integer, got {topn!r}")
        rows = [self.get_index(w) for w in positive + negative]
        signs = np.array([1.0] * len(positive) + [-1.0] * len(negative), np.float32)
        query = signs @ self.unit[rows]
        candidates = self.unit[:restrict_vocab]
        scores = candidates @ (query / max(np.linalg.norm(query), 1e-30))
        # Query words beyond restrict_vocab are not candidates, so they take no place.
        excluded = {r for r in rows if r < len(candidates)}
        scores[list(excluded)] = -np.inf
        top = min(topn, len(candidates) - len(excluded))
        best = np.argpartition(-scores, top - 1)[:top] if top > 0 else np.array([], int)
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in best]

    def evaluate_analogies(self, path, restrict_vocab=30000, case_insensitive=True):
        """Accuracy on an analogy file (``questions-words.txt`` format) with gensim's
        ``evaluate_word_analogies`` protocol; returns an
        :class:`~wengert.models.word2vec.evaluation.AnalogyResult`."""
        return evaluation.analogies(self, path, restrict_vocab, case_insensitive)

    def evaluate_word_pairs(self, path, restrict_vocab=300000, case_insensitive=True):
        """Pearson and Spearman correlation between cosine similarities and human scores of
        a word-pair file (WordSim-353, SimLex-999), and the share of pairs skipped as
        out-of-vocabulary, as gensim's ``evaluate_word_pairs``; returns a
        :class:`~wengert.models.word2vec.evaluation.WordPairResult`."""
        return evaluation.word_pairs(self, path, restrict_vocab, case_insensitive)

    def save(self, path, binary=False):
        """Write the original tool's format (text, or ``binary=True``); gensim's
        ``KeyedVectors.load_word2vec_format`` and the C tool's programs read it."""
        formats.save(path, self.words, self.vectors, binary)

    @classmethod
    def load(cls, path, binary=None):
        """Read a word2vec text or binary file (``binary=None`` detects which)."""
        return cls(*formats.load(path, binary))
