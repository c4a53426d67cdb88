"""word2vec: skip-gram and CBOW with negative sampling on the wengert engine.

``from wengert.models.word2vec import Word2Vec``;
``w2v = Word2Vec(epochs=5, seed=1).fit("gutenberg-en-84books.tar.gz", progress=True)``;
``w2v.vectors.most_similar(positive=["king", "woman"], negative=["man"])``;
``w2v.vectors.save("vectors.bin", binary=True)``. See docs/word2vec.md."""
from .corpus import Corpus, iter_sentences, read_corpus, tokenize
from .evaluation import AnalogyResult, AnalogySection, WordPairResult
from .model import Word2VecNet
from .trainer import EpochStats, Word2Vec
from .vectors import WordVectors
from .vocab import Vocabulary, build_vocabulary

__all__ = ["Word2Vec", "EpochStats", "Word2VecNet", "WordVectors", "Vocabulary",
           "build_vocabulary", "Corpus", "read_corpus", "iter_sentences", "tokenize",
           "AnalogyResult", "AnalogySection", "WordPairResult"]
