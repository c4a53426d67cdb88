"""Mini-batches of windows for word2vec, drawn as the original tool draws them.

Each epoch, frequent words are dropped by subsampling (a fresh draw per occurrence) and
windows are formed over the words that are left, never across a sentence boundary. Every
remaining position is the centre of one window whose half-width is drawn uniformly from
``1..window`` (the "reduced window", which weights near words more).

A batch advances ``R`` streams, each over its own stretch of the corpus, by ``L`` consecutive
windows, as the original tool's threads each train on their own part of the file. Few
repeats of a word then meet in one step (a table of contents, "chapter i ... chapter ii ...",
in 1,024 consecutive windows made one step overshoot and diverge; 16 streams of 64 windows
still blew a few vectors up, 64 streams of 16 did not), while consecutive windows still
share their tokens' vectors. Arrays (``S = 2 * window + 1`` slots per window):

* ``inputs`` (R, L + S - 1): the words each stream's windows span, rows of the input
  (word-vector) matrix, each read once: slot ``j`` of window ``b`` is ``inputs[r, b + j]``,
  which is what :func:`~wengert.ops.sgns.sliding_windows` gives; slot ``window`` is the centre;
* ``mask`` (R, L, S): which slots are (context, centre) pairs: within the reduced window and
  the sentence, not the centre itself; a stream that ran out has all-false windows;
* ``outputs`` (R, L, 1 + negative): the centre word, then ``negative`` noise words drawn from
  unigram^0.75 and shared by the pairs of that window (Ji et al. 2016, "Parallelizing
  word2vec in shared and distributed memory": the same objective in expectation, six output
  rows per window instead of six per pair). A noise word equal to the centre is redrawn.
"""
from dataclasses import dataclass

import numpy as np

#: tokens subsampled at a time; a block ends at a sentence boundary.
BLOCK = 1 << 20


@dataclass
class Batch:
    """One mini-batch (see the module docstring); ``windows`` is the number of real windows
    (centres) in it, ``done`` the corpus tokens (before subsampling) covered once it is
    trained, for the learning-rate schedule."""
    inputs: np.ndarray
    mask: np.ndarray
    outputs: np.ndarray
    windows: int
    done: int


def draw_noise(rng, cdf, shape):
    """Words drawn from the noise distribution with cumulative ``cdf``."""
    return np.searchsorted(cdf, rng.random(shape), side="right").astype(np.int32)


def epoch_batches(ids, bounds, keep, cdf, rng, window, negative, streams, length):
    """Yield the :class:`Batch` es of one epoch over ``ids`` (vocabulary rows) with sentence
    ``bounds``: ``streams`` streams of ``length`` windows each per batch. ``keep`` are the
    subsampling keep-probabilities per word, ``cdf`` the noise distribution, ``rng`` a
    ``numpy.random.Generator`` (the only source of randomness)."""
    cuts = np.unique(bounds[np.searchsorted(bounds, np.arange(0, ids.size, BLOCK))])
    cuts = np.append(cuts, ids.size)
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        block = ids[lo:hi]
        kept = np.flatnonzero(rng.random(block.size, dtype=np.float32) < keep[block])
        if not kept.size:
            continue
        # Sentence boundaries within the block, in positions of the kept words.
        local = bounds[(bounds >= lo) & (bounds <= hi)] - lo
        sentence_bounds = np.searchsorted(kept, local)
        steps = _block_batches(block[kept], sentence_bounds, cdf, rng, window, negative,
                               streams, length)
        for batch, share in steps:
            batch.done = int(lo + (hi - lo) * share)
            yield batch


def _block_batches(words, sentence_bounds, cdf, rng, window, negative, streams, length):
    """The batches over one block of subsampled ``words``, each with the share of the block
    done once it is trained."""
    n = words.size
    offsets = np.arange(-window, window + 1)
    span = -(-n // streams)
    starts = np.arange(streams)[:, None] * span
    ends = np.minimum(starts + span, n)
    steps = -(-span // length)
    for step in range(steps):
        centres = starts + step * length + np.arange(length)              # (R, L)
        real = centres < ends
        centres = np.minimum(centres, n - 1)
        sentence = np.searchsorted(sentence_bounds, centres, side="right") - 1
        first, last = sentence_bounds[sentence], sentence_bounds[sentence + 1]
        reach = window - rng.integers(0, window, centres.shape)
        pos = centres[..., None] + offsets                                 # (R, L, S)
        mask = ((np.abs(offsets) <= reach[..., None]) & (offsets != 0)
                & (pos >= first[..., None]) & (pos < last[..., None]) & real[..., None])
        outputs = _outputs(words[centres], cdf, rng, negative)
        # Slots outside the block are masked; any in-block word fills them.
        rows = np.clip(starts + step * length + np.arange(-window, length + window), 0, n - 1)
        yield Batch(words[rows], mask, outputs, int(real.sum()), 0), (step + 1) / steps


def _outputs(centre_words, cdf, rng, negative):
    """Each window's centre word, then its noise words (a noise word equal to the centre is
    redrawn)."""
    outputs = np.empty(centre_words.shape + (1 + negative,), np.int32)
    outputs[..., 0] = centre_words
    outputs[..., 1:] = draw_noise(rng, cdf, centre_words.shape + (negative,))
    clash = outputs[..., 1:] == outputs[..., :1]
    while clash.any():
        outputs[..., 1:][clash] = draw_noise(rng, cdf, int(clash.sum()))
        clash = outputs[..., 1:] == outputs[..., :1]
    return outputs
