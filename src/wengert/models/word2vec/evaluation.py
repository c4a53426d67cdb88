"""Word-vector benchmarks with gensim's protocols, so numbers compare with gensim's:
analogies (``evaluate_word_analogies``: 3CosAdd over the ``restrict_vocab`` most frequent
words, questions with a word outside them skipped) and word-pair similarity
(``evaluate_word_pairs``: Pearson and Spearman correlation, out-of-vocabulary pairs skipped).
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...data import DatasetError

# Candidates per analogy question: gensim takes the top 5 and walks them (see _predict).
TOPN = 5
# Questions scored at a time: CHUNK x restrict_vocab float32 scores and int64 positions
# (15 + 30 MB for 30,000 words), small next to the vectors' own memory.
CHUNK = 128


@dataclass
class AnalogySection:
    """One section of an analogy file: its questions answered right and wrong, as
    ``(a, b, c, expected)`` tuples in the file's spelling (upper-cased when
    case-insensitive, as gensim reports them)."""
    name: str
    correct: list = field(default_factory=list)
    incorrect: list = field(default_factory=list)

    @property
    def asked(self):
        """Questions with all four words in the vocabulary."""
        return len(self.correct) + len(self.incorrect)

    @property
    def accuracy(self):
        """Share answered right among those asked (0 when none was)."""
        return len(self.correct) / self.asked if self.asked else 0.0


@dataclass
class AnalogyResult:
    """Total ``accuracy`` over the questions asked, per-``sections`` results, how many
    questions the file holds (``questions``) and how many were ``asked``."""
    accuracy: float
    sections: list
    questions: int
    asked: int

    @property
    def oov_ratio(self):
        """Percentage of questions skipped because a word is out of the vocabulary."""
        return 100.0 * (self.questions - self.asked) / self.questions if self.questions else 0.0


@dataclass
class WordPairResult:
    """Correlations of model and human similarity over the ``pairs`` scored, and the
    percentage of pairs skipped as out-of-vocabulary."""
    pearson: float
    spearman: float
    oov_ratio: float
    pairs: int


def _lookup(wv, restrict_vocab, case_insensitive):
    """gensim's ``ok_vocab``: word -> row over the first ``restrict_vocab`` words, upper-cased
    when case-insensitive (the most frequent spelling wins)."""
    words = wv.words[:restrict_vocab]
    if not case_insensitive:
        return {w: i for i, w in enumerate(words)}
    return {w.upper(): i for i, w in reversed(list(enumerate(words)))}


def _lines(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"evaluation file {path} does not exist")
    with open(path, encoding="utf-8") as f:
        number = 0
        try:
            for number, line in enumerate(f, 1):
                yield line
        except UnicodeDecodeError:  # decoded by blocks: the bad byte is somewhere after
            raise DatasetError(f"{path} is not UTF-8 text (a byte after line {number} is "
                               "not); evaluation files are UTF-8") from None


def analogies(wv, path, restrict_vocab=30000, case_insensitive=True):
    """See :meth:`~wengert.models.word2vec.vectors.WordVectors.evaluate_analogies`."""
    ok = _lookup(wv, restrict_vocab, case_insensitive)
    sections, asked, questions = [], [], 0
    for number, line in enumerate(_lines(path), 1):
        if line.startswith(": "):
            sections.append(AnalogySection(line[2:].strip()))
            continue
        if not sections:
            raise DatasetError(f"{path}: line {number} comes before any section header "
                               "(': name')")
        words = line.upper().split() if case_insensitive else line.split()
        if len(words) != 4:
            continue  # gensim skips malformed lines too
        questions += 1
        if all(w in ok for w in words):
            asked.append((sections[-1], words))
    rows = np.array([[ok[w] for w in words] for _, words in asked], np.int64).reshape(-1, 4)
    predicted = _predict(wv.unit[:restrict_vocab], rows, wv.words, case_insensitive)
    for (section, words), guess in zip(asked, predicted):
        (section.correct if guess == words[3] else section.incorrect).append(tuple(words))
    total = sum(len(s.correct) for s in sections)
    return AnalogyResult(total / len(asked) if asked else 0.0, sections, questions, len(asked))


def _predict(unit, rows, words, case_insensitive):
    """The answer to each question ``a : b :: c : ?`` (rows of ``rows``) as gensim gives it:
    the best of the top 5 words by cosine to ``b - a + c`` (unit vectors) whose spelling is
    not one of the question's words; the fifth when all are."""
    answers = []
    for lo in range(0, len(rows), CHUNK):
        chunk = rows[lo:lo + CHUNK]
        query = unit[chunk[:, 1]] + unit[chunk[:, 2]] - unit[chunk[:, 0]]
        scores = query @ unit.T
        np.put_along_axis(scores, chunk[:, :3], -np.inf, axis=1)
        k = min(TOPN, scores.shape[1])
        top = np.argpartition(scores, -k, axis=1)[:, -k:]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        for question, candidates in zip(chunk, top):
            ignore = {words[i].upper() if case_insensitive else words[i] for i in question[:3]}
            guess = None
            for i in candidates:
                guess = words[i].upper() if case_insensitive else words[i]
                if guess not in ignore:
                    break
            answers.append(guess)
    return answers


def word_pairs(wv, path, restrict_vocab=300000, case_insensitive=True):
    """See :meth:`~wengert.models.word2vec.vectors.WordVectors.evaluate_word_pairs`."""
    ok = _lookup(wv, restrict_vocab, case_insensitive)
    gold, model, oov = [], [], 0
    for line in _lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            a, b, score = parts
            score = float(score)
        except ValueError:
            continue  # gensim skips lines that are not "word<TAB>word<TAB>number"
        if case_insensitive:
            a, b = a.upper(), b.upper()
        if a not in ok or b not in ok:
            oov += 1
            continue
        gold.append(score)
        model.append(float(wv.unit[ok[a]] @ wv.unit[ok[b]]))
    if len(gold) < 2:
        raise DatasetError(f"{path}: {len(gold)} word pair(s) with both words in the "
                           "vocabulary; correlations need at least 2")
    gold, model = np.array(gold), np.array(model)
    return WordPairResult(_pearson(gold, model), _pearson(_ranks(gold), _ranks(model)),
                          100.0 * oov / (len(gold) + oov), len(gold))


def _pearson(x, y):
    x, y = x - x.mean(), y - y.mean()
    return float((x @ y) / np.sqrt((x @ x) * (y @ y)))


def _ranks(x):
    """Ranks 1..n with ties given their mean rank (scipy's ``rankdata``), so that Pearson of
    ranks is Spearman's rho."""
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    first = np.concatenate([[True], sorted_x[1:] != sorted_x[:-1]])
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(x))
    ranks = np.empty(len(x))
    ranks[order] = ((starts + ends + 1) / 2)[group]
    return ranks
