"""word2vec data: corpus reading (text, .gz, .tar.gz; Gutenberg header/footer; blocks),
vocabulary (min_count, max_vocab, order, subsampling, noise) and the batches of windows."""
import gzip
import io
import tarfile

import numpy as np
import pytest

from wengert.data import DatasetError
from wengert.models.word2vec import corpus as corpus_mod
from wengert.models.word2vec import build_vocabulary, iter_sentences, read_corpus, tokenize
from wengert.models.word2vec.batches import epoch_batches
from wengert.models.word2vec.vocab import encode

BOOK = (b"The Project Gutenberg eBook of Test\nHEADER words here\n"
        b"*** START OF THE PROJECT GUTENBERG EBOOK TEST ***\n"
        b"It was the best of times, it was the WORST of times;\n"
        b"Don't panic: caf\xc3\xa9 42 times!\n"
        b"*** END OF THE PROJECT GUTENBERG EBOOK TEST ***\nfooter license words\n")
BODY = ["it", "was", "the", "best", "of", "times", "it", "was", "the", "worst", "of",
        "times", "don", "t", "panic", "caf", "times"]


def _sentences(c):
    return [[c.words[i].decode() for i in c.ids[a:b]] for a, b in zip(c.bounds, c.bounds[1:])]


def test_tokenize_is_text8_style():
    assert tokenize(b"Don't STOP, caf\xc3\xa9 42 x-ray\tend\n") == [
        b"don", b"t", b"stop", b"caf", b"x", b"ray", b"end"]


@pytest.mark.parametrize("kind", ["txt", "gz", "tar.gz"])
def test_formats_read_the_same_words_without_gutenberg_header_and_footer(tmp_path, kind):
    path = tmp_path / f"book.{kind}"
    if kind == "txt":
        path.write_bytes(BOOK)
    elif kind == "gz":
        path.write_bytes(gzip.compress(BOOK))
    else:
        with tarfile.open(path, "w:gz") as tar:
            for name, data in (("b/book.txt", BOOK), ("b/INDEX.tsv", b"not a book\n")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    c = read_corpus(path)
    assert _sentences(c) == [BODY]
    assert sorted(c.words) == sorted({w.encode() for w in BODY})
    assert c.counts[c.words.index(b"times")] == 3


def test_header_and_footer_kept_on_request(tmp_path):
    path = tmp_path / "book.txt"
    path.write_bytes(BOOK)
    words = _sentences(read_corpus(path, strip_gutenberg=False))[0]
    assert words[:3] == ["the", "project", "gutenberg"]
    assert words[-3:] == ["footer", "license", "words"]


def test_small_blocks_split_neither_words_nor_markers(tmp_path, monkeypatch):
    text = b"*** START OF X ***\n" + b" ".join(b"w%d" % (i % 7) for i in range(500)).replace(
        b"w", b"ab") + b"\nlast line\n*** END OF X ***\ngone\n"
    path = tmp_path / "long.txt"
    path.write_bytes(text)
    monkeypatch.setattr(corpus_mod, "BLOCK", 13)
    c = read_corpus(path)
    start = text.index(b"\n") + 1
    assert _sentences(c) == [[w.decode() for w in tokenize(text[start:text.index(b"*** END")])]]


@pytest.mark.parametrize("strip_gutenberg", [True, False])
def test_one_line_file_is_read_in_blocks(tmp_path, monkeypatch, strip_gutenberg):
    text = b" ".join([b"alpha", b"beta", b"gamma"] * 200)  # text8 is one 100 MB line
    path = tmp_path / "text8"
    path.write_bytes(text)
    monkeypatch.setattr(corpus_mod, "BLOCK", 64)
    monkeypatch.setattr(corpus_mod, "HEADER_SPAN", 32)
    assert _sentences(read_corpus(path, strip_gutenberg)) == [[w.decode() for w in text.split()]]
    # Memory does not grow with the line: looking for the Gutenberg header reads the header
    # span and at most one more block of the line, not the whole line.
    blocks = [tokens for _, tokens in corpus_mod.iter_token_blocks(path, strip_gutenberg)]
    assert sum(map(len, blocks)) == 600
    assert max(sum(len(w) + 1 for w in tokens) for tokens in blocks) <= 32 + 2 * 64


def test_sentences_are_capped_and_documents_not_joined(tmp_path):
    path = tmp_path / "two.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, n in (("a.txt", 7), ("b.txt", 3)):
            data = b" ".join(b"w" + bytes([97 + i % 3]) for i in range(n))
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    c = read_corpus(path, max_sentence=3)
    assert [len(s) for s in _sentences(c)] == [3, 3, 1, 3]
    assert list(iter_sentences(path, max_sentence=3)) == _sentences(c)


def test_missing_corpus_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        read_corpus(tmp_path / "nowhere.txt")


def test_directory_corpus_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="is not a file"):
        read_corpus(tmp_path)


@pytest.mark.parametrize("content", [b"", b"1984 -- 42!\n"])
def test_corpus_without_words_is_an_error(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match="empty.txt holds no words"):
        read_corpus(path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(b"some words " * 1000)[:-40])
    with pytest.raises(DatasetError, match="broken.gz"):
        read_corpus(path)


def test_archive_without_text_files(tmp_path):
    path = tmp_path / "none.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("readme.md")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(DatasetError, match="no .txt file"):
        read_corpus(path)


def _corpus(tmp_path, text):
    path = tmp_path / "c.txt"
    path.write_text(text)
    return read_corpus(path)


def test_vocabulary_min_count_max_vocab_and_gensim_tie_order(tmp_path):
    c = _corpus(tmp_path, "b a c a d b e c a f f f f")
    vocab, rows = build_vocabulary(c, min_count=2)
    # counts: a 3, b 2, c 2, f 4; ties (b, c): the one seen last first, as gensim
    assert vocab.words == ["f", "a", "c", "b"]
    assert vocab.counts.tolist() == [4, 3, 2, 2]
    assert vocab.total == 11
    assert rows[c.words.index(b"d")] == -1
    small, _ = build_vocabulary(c, min_count=2, max_vocab=2)
    assert small.words == ["f", "a"]
    ids, bounds = encode(c, rows)
    assert [vocab.words[i] for i in ids] == list("bacabcaffff")
    assert bounds.tolist() == [0, 11]
    # Sentences of 3 words: "b a c | a d b | e c a | f f f | f"; d and e are dropped.
    c3 = read_corpus(tmp_path / "c.txt", max_sentence=3)
    ids, bounds = encode(c3, build_vocabulary(c3, min_count=2)[1])
    assert [[vocab.words[i] for i in ids[a:b]] for a, b in zip(bounds, bounds[1:])] == [
        list("bac"), list("ab"), list("ca"), list("fff"), list("f")]


def test_vocabulary_emptied_by_min_count(tmp_path):
    c = _corpus(tmp_path, "one two two three")
    with pytest.raises(DatasetError, match=r"c.txt: no word occurs min_count=5 times \(the "
                                           r"most frequent occurs 2 times\)"):
        build_vocabulary(c, min_count=5)


def test_subsampling_and_noise_follow_the_original_formulas(tmp_path):
    c = _corpus(tmp_path, " ".join(["a"] * 600 + ["b"] * 300 + ["c"] * 10))
    vocab, _ = build_vocabulary(c, min_count=1)
    t = 0.01 * 910  # sample * total; c's (sqrt(10 / t) + 1) * t / 10 = 1.86 is capped
    keep = vocab.keep_probabilities(0.01)
    np.testing.assert_allclose(keep, [(np.sqrt(600 / t) + 1) * t / 600,
                                      (np.sqrt(300 / t) + 1) * t / 300, 1.0], rtol=1e-6)
    assert vocab.keep_probabilities(0).tolist() == [1, 1, 1]
    w = np.array([600, 300, 10]) ** 0.75
    np.testing.assert_allclose(np.diff(vocab.noise_cdf(), prepend=0), w / w.sum())


def _batches(seed, ids, bounds, keep, cdf, window=3, negative=4, streams=4, length=8):
    return list(epoch_batches(ids, bounds, keep, cdf, np.random.default_rng(seed), window,
                              negative, streams, length))


def test_batches_hold_the_windows_of_the_original_tool():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 30, 2000).astype(np.int32)
    bounds = np.array([0, 700, 701, 1500, 2000])  # a one-word sentence too
    sentence_of = np.searchsorted(bounds, np.arange(2000), side="right")
    window, streams, length = 3, 3, 16
    span = -(-2000 // streams)  # stream r's centres are positions r * span ... (r + 1) * span
    centres = []
    for step, batch in enumerate(_batches(1, ids, bounds, np.ones(30, np.float32),
                                          np.linspace(1 / 30, 1, 30), window,
                                          streams=streams, length=length)):
        assert batch.inputs.shape == (streams, length + 2 * window)
        assert batch.mask.shape == (streams, length, 2 * window + 1)
        assert batch.outputs.shape == (streams, length, 5)
        assert (batch.outputs[..., 1:] != batch.outputs[..., :1]).all()
        real = 0
        for r in range(streams):
            for b in range(length):
                p = r * span + step * length + b
                offsets = np.flatnonzero(batch.mask[r, b]) - window
                if p >= min((r + 1) * span, 2000):  # this stream has run out
                    assert not offsets.size
                    continue
                real += 1
                centres.append(p)
                assert batch.outputs[r, b, 0] == ids[p]
                assert np.array_equal(batch.inputs[r, b + window + offsets], ids[p + offsets])
                reach = max(abs(offsets), default=0)
                same = [o for o in range(-reach, reach + 1) if o and 0 <= p + o < 2000
                        and sentence_of[p + o] == sentence_of[p]]
                assert offsets.tolist() == same  # the reduced window, cut at the sentence
        assert batch.windows == real
    assert sorted(centres) == list(range(2000))  # no subsampling: every word a centre once


def test_reduced_window_weights_near_words_more():
    ids = np.zeros(20000, np.int32)
    ids[1::2] = 1
    bounds = np.array([0, 20000])
    counts = np.zeros(5)
    for batch in _batches(3, ids, bounds, np.ones(2, np.float32), np.array([0.5, 1.0]),
                          window=5, negative=1, streams=8, length=100):
        counts += batch.mask[..., 6:].sum(axis=(0, 1))  # offsets 1..5
    # P(offset d is inside the reduced window) = (window - d + 1) / window
    np.testing.assert_allclose(counts / counts[0], [1, 0.8, 0.6, 0.4, 0.2], atol=0.02)


def test_subsampling_keeps_the_expected_share_and_negatives_follow_the_noise():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 3, 60000).astype(np.int32)
    bounds = np.array([0, 60000])
    keep = np.array([1.0, 0.5, 0.25], np.float32)
    cdf = np.array([0.5, 0.8, 1.0])
    centres, noise, windows = [], [], 0
    for batch in _batches(5, ids, bounds, keep, cdf, window=1, negative=3, streams=8,
                          length=512):
        real = batch.mask.any(axis=-1)
        centres.append(batch.outputs[..., 0][real])
        noise.append(batch.outputs[batch.outputs[..., 0] == 2][:, 1:].ravel())
        windows += batch.windows
    centres = np.concatenate(centres)
    assert windows == len(centres)  # random words: every kept one has a neighbour
    kept = np.bincount(centres, minlength=3) / np.bincount(ids, minlength=3)
    np.testing.assert_allclose(kept, keep, atol=0.02)
    # Noise for centre word 2 is drawn from (0.5, 0.3, 0.2) without 2: (5/8, 3/8).
    share = np.bincount(np.concatenate(noise), minlength=3) / sum(len(n) for n in noise)
    np.testing.assert_allclose(share, [5 / 8, 3 / 8, 0], atol=0.02)


def test_batches_are_deterministic_for_a_seed():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 10, 500).astype(np.int32)
    args = (ids, np.array([0, 500]), np.full(10, 0.7, np.float32), np.linspace(0.1, 1, 10))
    a, b, c = _batches(7, *args), _batches(7, *args), _batches(8, *args)
    assert all(np.array_equal(x.inputs, y.inputs) and np.array_equal(x.mask, y.mask)
               and np.array_equal(x.outputs, y.outputs) for x, y in zip(a, b))
    assert not all(np.array_equal(x.mask, y.mask) for x, y in zip(a, c))
