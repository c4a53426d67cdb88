"""Training word2vec: corpus -> vocabulary -> epochs of mini-batches through
:class:`~wengert.models.word2vec.model.Word2VecNet` -> ``backward()`` -> ``optim.SGD`` on
the rows in the batch, with the original tool's linearly decaying learning rate."""
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import optim
from ...errors import ArgumentError, NonFiniteLossError
from ...random import Generator
from .batches import epoch_batches
from .corpus import Corpus, read_corpus
from .model import Word2VecNet
from .vectors import WordVectors
from .vocab import build_vocabulary, encode


@dataclass
class EpochStats:
    """What an epoch did: its mean loss per example, the tokens trained after subsampling
    (``effective_words``, gensim's count), seconds and the learning rate at its end."""
    epoch: int
    loss: float
    effective_words: int
    seconds: float
    lr: float

    @property
    def words_per_s(self):
        """Effective words per second, the rate gensim reports."""
        return self.effective_words / self.seconds if self.seconds else 0.0


@dataclass
class Word2Vec:
    """Skip-gram (or CBOW) with negative sampling, trained as the original tool and gensim
    do; every hyperparameter has gensim's name and default except ``dim`` (gensim's
    ``vector_size``), ``cbow`` (gensim's ``sg=0``, its default), ``max_vocab`` (the first
    words of the sorted vocabulary; gensim's ``max_final_vocab`` raises ``min_count``
    instead), ``batch_size`` (windows per step) and ``streams`` (how many stretches of the
    corpus a step advances together, ``batch_size / streams`` windows each; see
    :mod:`.batches`).

    ``Word2Vec(epochs=5, seed=1).fit("corpus.tar.gz").vectors.most_similar("king")``.
    The same seed, corpus and settings give the same vectors, bit for bit."""
    dim: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    max_vocab: int = None
    sample: float = 1e-3
    epochs: int = 5
    alpha: float = 0.025
    min_alpha: float = 0.0001
    cbow: bool = False
    batch_size: int = 1024
    streams: int = 64
    seed: int = 1
    strip_gutenberg: bool = True
    vocab: object = field(default=None, init=False, repr=False)
    net: object = field(default=None, init=False, repr=False)
    history: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self):
        for name in ("dim", "window", "negative", "epochs", "batch_size", "streams",
                     "min_count"):
            if not isinstance(getattr(self, name), (int, np.integer)) or getattr(self, name) < 1:
                raise ArgumentError(f"Word2Vec: {name} must be a positive integer, got "
                                    f"{getattr(self, name)!r}")
        if self.max_vocab is not None and not (isinstance(self.max_vocab, (int, np.integer))
                                               and self.max_vocab >= 2):
            raise ArgumentError(f"Word2Vec: max_vocab must be an integer >= 2 (or None), got "
                                f"{self.max_vocab!r}")
        if self.batch_size % self.streams:
            raise ArgumentError(f"Word2Vec: batch_size={self.batch_size} is not a multiple of "
                                f"streams={self.streams}")
        if not 0 <= self.sample < 1:
            raise ArgumentError(f"Word2Vec: sample must be in [0, 1), got {self.sample}")
        if not 0 <= self.min_alpha <= self.alpha:
            raise ArgumentError(f"Word2Vec: need 0 <= min_alpha <= alpha, got min_alpha="
                                f"{self.min_alpha}, alpha={self.alpha}")

    def fit(self, corpus, progress=False, on_epoch=None):
        """Train on ``corpus`` (a path, see :mod:`.corpus`, or a read
        :class:`~wengert.models.word2vec.corpus.Corpus`) for ``epochs`` epochs from a fresh
        start; ``progress`` shows a tqdm bar (words/s, loss, learning rate); ``on_epoch``
        is called with each :class:`EpochStats`. Returns ``self``."""
        if isinstance(corpus, (str, Path)):
            corpus = read_corpus(corpus, self.strip_gutenberg)
        elif not isinstance(corpus, Corpus):
            raise TypeError(f"Word2Vec.fit: expected a corpus path or a Corpus, got "
                            f"{type(corpus).__name__}")
        self.vocab, rows = build_vocabulary(corpus, self.min_count, self.max_vocab)
        if len(self.vocab) < 2:
            raise ArgumentError(f"Word2Vec: the vocabulary of {corpus.path} has only the word "
                                f"{self.vocab.words[0]!r}; negative sampling needs at least "
                                "two words. Hint: lower min_count")
        ids, bounds = encode(corpus, rows)
        del corpus, rows  # training needs only the encoded ids (the caller may keep more)
        generator = Generator(self.seed)
        self.net = Word2VecNet(len(self.vocab), self.dim, self.cbow, generator)
        self.history = []
        run = _Run(self, ids, bounds, generator.numpy, progress)
        try:
            for epoch in range(1, self.epochs + 1):
                stats = run.epoch(epoch)
                self.history.append(stats)
                if on_epoch is not None:
                    on_epoch(stats)
        finally:
            run.close()
        return self

    @property
    def vectors(self):
        """The trained word vectors (the input embedding) as :class:`WordVectors`."""
        if self.net is None:
            raise ArgumentError("Word2Vec: call fit() before asking for vectors")
        return WordVectors(self.vocab.words, self.net.input.weight.data)


class _Run:
    """The state of one ``fit``: data, noise and subsampling tables, the optimizer, the
    schedule and the progress bar."""

    def __init__(self, w2v, ids, bounds, rng, progress):
        from tqdm.auto import tqdm
        self.w2v, self.ids, self.bounds, self.rng = w2v, ids, bounds, rng
        self.keep = w2v.vocab.keep_probabilities(w2v.sample)
        self.cdf = w2v.vocab.noise_cdf()
        self.opt = optim.SGD(w2v.net.parameters(), lr=w2v.alpha)
        self.total = w2v.epochs * ids.size
        self.bar = tqdm(total=self.total, unit="word", unit_scale=True, disable=not progress,
                        dynamic_ncols=True, desc="word2vec")

    def epoch(self, epoch):
        w2v, opt = self.w2v, self.opt
        start, seen, loss_sum, examples, words, shown = time.perf_counter(), 0, 0.0, 0, 0, 0
        offset = (epoch - 1) * self.ids.size
        lr = w2v.alpha
        batches = epoch_batches(self.ids, self.bounds, self.keep, self.cdf, self.rng,
                                w2v.window, w2v.negative, w2v.streams,
                                w2v.batch_size // w2v.streams)
        for step, batch in enumerate(batches, 1):
            # Linear decay over all epochs by corpus position, as the original tool.
            lr = w2v.alpha - (w2v.alpha - w2v.min_alpha) * (offset + seen) / self.total
            opt.param_groups[0]["lr"] = lr
            opt.zero_grad()
            loss, n = w2v.net(batch)
            value = loss.item()
            if not math.isfinite(value):
                raise NonFiniteLossError(
                    f"Word2Vec: the loss is {value} at step {step} of epoch {epoch}; training "
                    f"stopped before that step's update. Hint: lower alpha (the learning rate "
                    f"is {lr:.5g} now) or batch_size ({w2v.batch_size}): a step applies the "
                    "summed gradient of its windows, and a word repeated in many of them "
                    "overshoots")
            loss.backward()
            opt.step()
            loss_sum += value
            examples += n
            words += batch.windows
            seen = batch.done
            if seen - shown >= 200_000 and not self.bar.disable:
                elapsed = time.perf_counter() - start
                self.bar.set_postfix(loss=f"{loss_sum / max(examples, 1):.4f}", lr=f"{lr:.5f}",
                                     eff_words_s=f"{words / elapsed:,.0f}", refresh=False)
                self.bar.update(seen - shown)
                shown = seen
        self.bar.update(self.ids.size - shown)
        return EpochStats(epoch, loss_sum / max(examples, 1), words,
                          time.perf_counter() - start, lr)

    def close(self):
        self.bar.close()
