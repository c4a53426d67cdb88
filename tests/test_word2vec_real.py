"""word2vec on the real Gutenberg corpus (../shared/data/text): the corpus and vocabulary are
those gensim measured in the issue, and training (a slice) answers analogies from the analogy
set far above chance (SEED-EXAMPLES item 21)."""
import numpy as np
import pytest

from wengert.models.word2vec import Word2Vec, WordVectors, build_vocabulary, read_corpus
from wengert.models.word2vec.corpus import Corpus


@pytest.fixture(scope="module")
def gutenberg(data_dir):
    return read_corpus(data_dir / "text" / "gutenberg-en-84books.tar.gz")


def test_corpus_vocabulary_and_questions_asked_match_gensims_figures(gutenberg, data_dir):
    # The baseline (gensim 4.4 on this corpus): 10.27M words, 36,515 words at
    # min_count 5, and 7,630 of the 19,544 analogy questions asked with restrict_vocab
    # 30,000. Which questions are asked depends on the vocabulary and its order only.
    assert round(len(gutenberg) / 1e4) == 1027
    vocab, _ = build_vocabulary(gutenberg, min_count=5)
    assert len(vocab) == 36515
    vectors = np.random.default_rng(0).standard_normal((len(vocab), 8)).astype(np.float32)
    result = WordVectors(vocab.words, vectors).evaluate_analogies(
        data_dir / "text" / "questions-words.txt", restrict_vocab=30000)
    assert (result.asked, result.questions) == (7630, 19544)
    assert result.accuracy < 0.002  # random vectors: chance level


@pytest.mark.slow
def test_skipgram_answers_analogies_far_above_chance(gutenberg, data_dir):
    cut = int(np.searchsorted(gutenberg.bounds, 3_000_000))
    ids = gutenberg.ids[:gutenberg.bounds[cut]]
    part = Corpus(gutenberg.path, ids, gutenberg.bounds[:cut + 1], gutenberg.words,
                  np.bincount(ids, minlength=len(gutenberg.words)))
    wv = Word2Vec(epochs=2, seed=1).fit(part).vectors
    result = wv.evaluate_analogies(data_dir / "text" / "questions-words.txt")
    # Chance is about 1 in 30,000 candidates; every section counts, none is picked.
    assert result.asked > 3000
    assert result.accuracy > 0.03, result.accuracy
    family = next(s for s in result.sections if s.name == "family")
    assert family.accuracy > 0.1, family.accuracy
    pairs = wv.evaluate_word_pairs(data_dir / "text" / "wordsim353.tsv")
    assert pairs.spearman > 0.2, pairs.spearman
