"""Word vectors: lookups, cosine neighbours, 3CosAdd analogies and word-pair correlations
(gensim's protocols, checked against gensim when it is installed), and the word2vec text and
binary files (read back by us, by gensim, and laid out as the original C tool reads them)."""
import struct

import numpy as np
import pytest

from wengert.data import DatasetError
from wengert.errors import ArgumentError, ShapeError, UnknownWordError
from wengert.models.word2vec import WordVectors

try:
    from gensim.models import KeyedVectors
except ImportError:
    KeyedVectors = None

needs_gensim = pytest.mark.skipif(KeyedVectors is None, reason="gensim is not installed "
                                                               "(pip install gensim)")

# Orthogonal directions: royal, male, female, fruit. king = royal + male, and so on.
WORDS = ["king", "queen", "man", "woman", "apple", "prince", "princess"]
BASIS = np.eye(4)
VECS = np.array([BASIS[0] + BASIS[1], BASIS[0] + BASIS[2], BASIS[1], BASIS[2], BASIS[3],
                 0.9 * BASIS[0] + BASIS[1] + 0.2 * BASIS[3],
                 0.9 * BASIS[0] + BASIS[2] + 0.2 * BASIS[3]], np.float32)


@pytest.fixture
def wv():
    return WordVectors(WORDS, VECS)


def _unit(v):
    return v / np.linalg.norm(v)


def test_lookup_and_similarity(wv):
    assert len(wv) == 7 and "queen" in wv and "jack" not in wv
    np.testing.assert_array_equal(wv["man"], VECS[2])
    assert wv.similarity("king", "queen") == pytest.approx(0.5)
    assert wv.similarity("king", "apple") == pytest.approx(0.0)
    assert wv.similarity("man", "king") == wv.similarity("king", "man")


def test_most_similar_is_3cosadd_without_the_query_words(wv):
    result = wv.most_similar(positive=["king", "woman"], negative=["man"], topn=3)
    query = _unit(VECS[0]) + _unit(VECS[3]) - _unit(VECS[2])
    expected = sorted(((w, float(_unit(v) @ _unit(query))) for w, v in zip(WORDS, VECS)
                       if w not in ("king", "woman", "man")), key=lambda p: -p[1])[:3]
    assert [w for w, _ in result] == [w for w, _ in expected] == ["queen", "princess", "prince"]
    np.testing.assert_allclose([s for _, s in result], [s for _, s in expected], rtol=1e-6)
    assert [w for w, _ in wv.most_similar("king", topn=10)][:1] == ["prince"]
    assert len(wv.most_similar("king", topn=10)) == 6  # every other word
    assert [w for w, _ in wv.most_similar("king", topn=2, restrict_vocab=3)] == ["man", "queen"]


def test_query_words_beyond_restrict_vocab_take_no_candidate_place(wv):
    # prince (row 5) is not among the 3 candidates, so all three are returned, by cosine.
    result = wv.most_similar("prince", topn=10, restrict_vocab=3)
    expected = sorted(((w, float(_unit(v) @ _unit(VECS[5]))) for w, v in zip(WORDS[:3], VECS)),
                      key=lambda p: -p[1])
    assert [w for w, _ in result] == [w for w, _ in expected] == ["king", "man", "queen"]
    np.testing.assert_allclose([s for _, s in result], [s for _, s in expected], rtol=1e-6)
    # king is a candidate and excluded, princess is not a candidate: 2 words are left.
    assert [w for w, _ in wv.most_similar(["king", "princess"], topn=5, restrict_vocab=3)] \
        == ["queen", "man"]
    with pytest.raises(ArgumentError, match="most_similar: topn must be an integer, got None"):
        wv.most_similar("king", topn=None)


@needs_gensim
@pytest.mark.parametrize("restrict", [None, 3, 5])
def test_most_similar_agrees_with_gensim(rng, restrict):
    words = [f"w{i}" for i in range(9)]
    vecs = rng.standard_normal((9, 4)).astype(np.float32)
    kv = KeyedVectors(4)
    kv.add_vectors(words, vecs)
    wv = WordVectors(words, vecs)
    for positive, negative in ((["w7"], []), (["w1", "w8"], ["w4"]), (["w0"], ["w6"])):
        for topn in (1, 3, 20):
            ours = wv.most_similar(positive, negative, topn=topn, restrict_vocab=restrict)
            theirs = kv.most_similar(positive, negative, topn=topn, restrict_vocab=restrict)
            assert [w for w, _ in ours] == [w for w, _ in theirs]
            np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-6)


def test_unknown_words_raise_a_key_error_naming_them(wv):
    for call in (lambda: wv["jack"], lambda: wv.similarity("king", "jack"),
                 lambda: wv.most_similar(positive=["king"], negative=["jack"])):
        with pytest.raises(UnknownWordError, match="'jack' is not in the vocabulary") as info:
            call()
        assert isinstance(info.value, KeyError)
    with pytest.raises(ValueError, match="at least one"):
        wv.most_similar()


def test_vectors_must_fit_the_words():
    with pytest.raises(ShapeError, match=r"3 words need vectors of shape \(3, dim\)"):
        WordVectors(["a", "b", "c"], np.zeros((2, 4)))


ANALOGIES = """: royal
MAN KING WOMAN QUEEN
man prince woman princess
man king apple queen
man king woman unicorn
this line is malformed ok
: fruit
king queen prince princess
"""


def test_analogy_sections_counts_and_oov(tmp_path, wv):
    path = tmp_path / "analogies.txt"
    path.write_text(ANALOGIES)
    result = wv.evaluate_analogies(path)
    royal, fruit = result.sections
    assert royal.name == "royal" and fruit.name == "fruit"
    # man:king :: apple:? answers princess (apple is orthogonal to everything else).
    assert royal.correct == [("MAN", "KING", "WOMAN", "QUEEN"),
                             ("MAN", "PRINCE", "WOMAN", "PRINCESS")]
    assert royal.incorrect == [("MAN", "KING", "APPLE", "QUEEN")]
    assert fruit.asked == 1 and fruit.accuracy == 1.0
    assert (result.questions, result.asked) == (5, 4)  # "unicorn" is out of vocabulary
    assert result.accuracy == 0.75 and result.oov_ratio == 20.0
    # With only the 5 most frequent words, prince(ss) questions are skipped and no longer
    # candidates: man:king :: apple:? now answers queen.
    small = wv.evaluate_analogies(path, restrict_vocab=5)
    assert small.asked == 2 and small.accuracy == 1.0


def test_analogy_file_needs_section_headers(tmp_path, wv):
    path = tmp_path / "bad.txt"
    path.write_text("man king woman queen\n")
    with pytest.raises(DatasetError, match="line 1 comes before any section header"):
        wv.evaluate_analogies(path)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        wv.evaluate_analogies(tmp_path / "missing.txt")


def test_evaluation_files_that_are_not_utf8_are_named(tmp_path, wv):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b": family\nman king woman queen\nmann k\xf6nig frau k\xf6nigin\n")
    with pytest.raises(DatasetError, match="latin1.txt is not UTF-8 text"):
        wv.evaluate_analogies(path)
    with pytest.raises(DatasetError, match="latin1.txt is not UTF-8 text"):
        wv.evaluate_word_pairs(path)


def test_word_pairs_spearman_with_ties_and_oov(tmp_path, wv):
    path = tmp_path / "pairs.tsv"
    path.write_text("# header\n# word1\tword2\tscore\nking\tqueen\t8\nking\tprince\t9\n"
                    "man\tapple\t1\nking\tapple\t1\nqueen\tunicorn\t5\nnot a pair\n")
    r = wv.evaluate_word_pairs(path)
    model = [wv.similarity("king", "queen"), wv.similarity("king", "prince"),
             wv.similarity("man", "apple"), wv.similarity("king", "apple")]
    gold_ranks, model_ranks = [3, 4, 1.5, 1.5], np.argsort(np.argsort(model)) + 1.0
    assert model[2] == model[3] == 0  # a tie in the model too: average ranks
    model_ranks[2:] = 1.5
    assert r.spearman == pytest.approx(np.corrcoef(gold_ranks, model_ranks)[0, 1])
    assert r.pearson == pytest.approx(np.corrcoef([8, 9, 1, 1], model)[0, 1])
    assert (r.pairs, r.oov_ratio) == (4, 20.0)


def _structured_vectors(rng, n_pairs=40, dim=30):
    """Words w<i>a / w<i>b whose vectors differ by one of two section offsets plus noise,
    so 3CosAdd gets some analogies right and some wrong."""
    words, vecs = [], []
    offsets = rng.standard_normal((2, dim))
    for i in range(n_pairs):
        base = rng.standard_normal(dim)
        words += [f"w{i}a", f"w{i}b"]
        vecs += [base, base + offsets[i % 2] + rng.standard_normal(dim) * 1.3]
    return words, np.array(vecs, np.float32)


@needs_gensim
def test_analogies_and_word_pairs_agree_with_gensim(tmp_path, rng):
    words, vecs = _structured_vectors(rng)
    lines = []
    for section in (0, 1):
        lines.append(f": section{section}")
        pairs = [i for i in range(40) if i % 2 == section]
        lines += [f"w{i}a w{i}b w{j}a w{j}b" for i in pairs for j in pairs if i != j]
    lines.append("w1a w1b w3a unknown")
    path = tmp_path / "analogies.txt"
    path.write_text("\n".join(lines) + "\n")
    wv = WordVectors(words, vecs)
    kv = KeyedVectors(vecs.shape[1])
    kv.add_vectors(words, vecs)
    for restrict in (30000, 50):
        ours = wv.evaluate_analogies(path, restrict_vocab=restrict)
        score, sections = kv.evaluate_word_analogies(str(path), restrict_vocab=restrict)
        assert 0.05 < ours.accuracy < 0.95
        assert ours.accuracy == pytest.approx(score)
        for mine, theirs in zip(ours.sections, sections):
            assert mine.name == theirs["section"]
            assert mine.correct == theirs["correct"] and mine.incorrect == theirs["incorrect"]
    pairs = tmp_path / "pairs.tsv"
    pair_rng = np.random.default_rng(1)
    pairs.write_text("".join(f"{words[a]}\t{words[b]}\t{pair_rng.integers(0, 5)}\n"
                             for a, b in pair_rng.integers(0, 80, (60, 2)))
                     + "w1a\tunknown\t3\n")
    r = wv.evaluate_word_pairs(pairs)
    pearson, spearman, oov = kv.evaluate_word_pairs(str(pairs))
    assert r.pearson == pytest.approx(pearson.statistic, rel=1e-5)
    assert r.spearman == pytest.approx(spearman.statistic, rel=1e-5)
    assert r.oov_ratio == pytest.approx(oov)


def test_binary_files_of_small_dim_are_detected(tmp_path, rng):
    # "a " + float32 1.0 (00 00 80 3f) + "\n": two whitespace-separated fields, as a text
    # record of dim 1 has; only the fields not being numbers tells them apart.
    path = tmp_path / "v.bin"
    WordVectors(["a", "b"], np.array([[1.0], [2.0]], np.float32)).save(path, binary=True)
    assert WordVectors.load(path).vectors.tolist() == [[1.0], [2.0]]
    for dim in (1, 2, 3):
        for _ in range(30):
            vecs = rng.standard_normal((3, dim)).astype(np.float32)
            WordVectors(["x", "y", "z"], vecs).save(path, binary=True)
            assert np.array_equal(WordVectors.load(path).vectors, vecs)


@pytest.mark.parametrize("binary", [False, True])
def test_save_load_round_trip_is_exact(tmp_path, rng, binary):
    words = ["the", "naïve", "x", "end"]
    vecs = (rng.standard_normal((4, 7)) * 10.0 ** rng.integers(-6, 6, (4, 7))).astype(np.float32)
    path = tmp_path / "v.bin"
    WordVectors(words, vecs).save(path, binary=binary)
    for given in (binary, None):  # None: the format is detected
        back = WordVectors.load(path, binary=given)
        assert back.words == words
        assert np.array_equal(back.vectors, vecs)


def test_binary_file_is_laid_out_as_the_c_tool_reads_it(tmp_path):
    vecs = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = tmp_path / "v.bin"
    WordVectors(["ab", "c"], vecs).save(path, binary=True)
    data = path.read_bytes()
    assert data == (b"2 3\n" + b"ab " + struct.pack("<3f", 0, 1, 2) + b"\n"
                    + b"c " + struct.pack("<3f", 3, 4, 5) + b"\n")


def test_text_file_layout(tmp_path):
    path = tmp_path / "v.txt"
    WordVectors(["ab", "c"], np.array([[0.5, -1], [1e-8, 3]], np.float32)).save(path)
    assert path.read_text() == "2 2\nab 0.5 -1\nc 9.99999994e-09 3\n"


@needs_gensim
@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files_and_we_read_gensims(tmp_path, rng, binary):
    words = [f"w{i}" for i in range(20)] + ["über"]
    vecs = rng.standard_normal((21, 8)).astype(np.float32)
    ours = tmp_path / "ours.w2v"
    WordVectors(words, vecs).save(ours, binary=binary)
    kv = KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert kv.index_to_key == words
    np.testing.assert_array_equal(kv.vectors, vecs)
    theirs = tmp_path / "theirs.w2v"
    kv.save_word2vec_format(str(theirs), binary=binary)
    back = WordVectors.load(theirs)
    assert back.words == words
    np.testing.assert_allclose(back.vectors, vecs, rtol=1e-6)


def test_malformed_and_truncated_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("hello world\n")
    with pytest.raises(DatasetError, match="bad.txt: the first line"):
        WordVectors.load(bad)
    short = tmp_path / "short.bin"
    WordVectors(["a", "b", "c"], np.ones((3, 4), np.float32)).save(short, binary=True)
    short.write_bytes(short.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="announces 3 words but 2 were read"):
        WordVectors.load(short, binary=True)
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("2 3\na 1 2 3\nb 1 2\n")
    with pytest.raises(DatasetError, match="line 3 has 2 values, the header says 3"):
        WordVectors.load(ragged, binary=False)


@pytest.mark.parametrize("content, binary, message", [
    (b"1 2\na 1 zz\n", False, "bad.txt: line 2: 'zz' is not a number"),
    (b"2 2\na 1 2\nb 1 zz\n", None, "bad.txt: line 3: 'zz' is not a number"),
    # a first record that is not a word and numbers is taken for binary: the error says so
    (b"1 2\na 1 zz\n", None, "bad.txt: .* truncated \\(read as binary.*binary=False reads it"),
    # a text file whose word is not UTF-8 was taken for a truncated binary one
    (b"1 2\n\xff\xfe 1 2\n", None, "bad.txt: line 2 is not UTF-8 text"),
    (b"1 2\na " + np.array([1, 2], "<f4").tobytes() + b"\n", False,
     "bad.txt: line 2 .* binary=True"),
    (b"1 2\n\xff " + np.array([1, 2], "<f4").tobytes() + b"\n", True,
     "bad.txt: word 1 .* is not UTF-8"),
])
def test_malformed_files_name_the_file_and_the_line(tmp_path, content, binary, message):
    (tmp_path / "bad.txt").write_bytes(content)
    with pytest.raises(DatasetError, match=message):
        WordVectors.load(tmp_path / "bad.txt", binary=binary)


def test_a_repeated_word_keeps_its_first_vector_as_gensim_does(tmp_path):
    (tmp_path / "dup.txt").write_text("3 2\na 1 2\nb 5 6\na 3 4\n")
    with pytest.warns(UserWarning, match=r"dup.txt: 1 repeated word\(s\), e.g. \['a'\]"):
        wv = WordVectors.load(tmp_path / "dup.txt")
    assert wv.words == ["a", "b"]
    assert np.array_equal(wv["a"], [1, 2]) and np.array_equal(wv["b"], [5, 6])


def test_words_with_spaces_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="'new york'"):
        WordVectors(["new york"], np.zeros((1, 2))).save(tmp_path / "v.txt")
