"""Complete models built on wengert: :mod:`wengert.models.word2vec` (skip-gram and CBOW with
negative sampling)."""
