"""``wengert word2vec``: train, evaluate, print neighbours, write vectors and metrics."""
import json

import numpy as np
import pytest

from wengert.cli import main
from wengert.models.word2vec import WordVectors


def _corpus(path, seed=0):
    """Two groups of words that share contexts: (north, south) among ocean words,
    (king, queen) among court words."""
    rng = np.random.default_rng(seed)
    groups = [(["north", "south"], ["sea", "wave", "ship", "coast"]),
              (["king", "queen"], ["court", "crown", "throne", "palace"])]
    lines = []
    for _ in range(1500):
        pair, context = groups[rng.integers(2)]
        words = list(rng.choice(context, 4))
        lines.append(" ".join(words[:2] + [pair[rng.integers(2)]] + words[2:]))
    path.write_text("\n".join(lines))
    return path


def test_trains_evaluates_and_writes(tmp_path, monkeypatch, capsys):
    corpus = _corpus(tmp_path / "corpus.txt")
    text = tmp_path / "data" / "text"
    text.mkdir(parents=True)
    (text / "questions-words.txt").write_text(": group\nnorth south king queen\n"
                                              "sea wave court crown\nsea wave unicorn x\n")
    (text / "wordsim353.tsv").write_text("# h\nnorth\tsouth\t9\nnorth\tking\t1\n"
                                         "sea\twave\t7\nsea\tcrown\t2\n")
    monkeypatch.setenv("WENGERT_DATA", str(tmp_path / "data"))  # SimLex absent: skipped
    out = tmp_path / "run"
    code = main(["word2vec", "--corpus", str(corpus), "--out", str(out), "--dim", "12",
                 "--window", "2", "--min-count", "1", "--sample", "0", "--epochs", "3",
                 "--batch-size", "64", "--streams", "8", "--neighbours", "king,unicorn", "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "epoch 3: loss" in printed and "vocabulary 12 words" in printed
    assert "of 2 asked (3 in the file)" in printed
    assert "wordsim353.tsv: Spearman" in printed and "simlex" not in printed
    assert "king: queen" in printed  # its nearest neighbour comes first
    assert "unicorn: not in the vocabulary" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["vocabulary"] == 12 and len(metrics["epochs"]) == 3
    assert metrics["analogies"]["asked"] == 2 and "wordsim" in metrics
    text_vectors = WordVectors.load(out / "vectors.txt")
    binary_vectors = WordVectors.load(out / "vectors.bin")
    assert text_vectors.words == binary_vectors.words and len(text_vectors) == 12
    assert np.array_equal(text_vectors.vectors, binary_vectors.vectors)


def test_errors_are_reported_with_their_cause(tmp_path, capsys):
    missing = tmp_path / "missing.txt"
    assert main(["word2vec", "--corpus", str(missing), "--out", str(tmp_path / "o"),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"wengert word2vec: error: corpus {missing} does not exist" in err
    corpus = _corpus(tmp_path / "c.txt")
    assert main(["word2vec", "--corpus", str(corpus), "--out", str(tmp_path / "o"),
                 "--min-count", "100000", "--no-progress"]) == 1
    assert "no word occurs min_count=100000 times" in capsys.readouterr().err
    assert main(["word2vec", "--corpus", str(corpus), "--out", str(tmp_path / "o"),
                 "--dim", "0", "--no-progress"]) == 1
    assert "dim must be a positive integer" in capsys.readouterr().err
    assert main(["word2vec", "--corpus", str(corpus), "--out", str(tmp_path / "o"),
                 "--wordsim", str(tmp_path / "nope.tsv"), "--no-progress"]) == 1
    assert "--wordsim" in capsys.readouterr().err


def test_vectors_are_saved_and_a_too_small_evaluation_is_skipped(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus.txt")
    simlex = tmp_path / "simlex.txt"
    simlex.write_text("north\tunicorn\t5\ndragon\tking\t3\n")  # no pair fully in the vocabulary
    out = tmp_path / "run"
    assert main(["word2vec", "--corpus", str(corpus), "--out", str(out), "--dim", "4",
                 "--min-count", "1", "--epochs", "1", "--batch-size", "64", "--streams", "8",
                 "--simlex", str(simlex), "--neighbours", "", "--no-progress"]) == 0
    assert "wengert word2vec: warning: simlex skipped: " in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert "0 word pair(s) with both words in the vocabulary" in metrics["simlex"]["skipped"]
    assert len(WordVectors.load(out / "vectors.txt")) == len(WordVectors.load(out / "vectors.bin"))


def test_an_unusable_out_is_reported_before_training(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus.txt")
    (tmp_path / "file").write_text("")
    assert main(["word2vec", "--corpus", str(corpus), "--out", str(tmp_path / "file" / "o"),
                 "--min-count", "1", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "epoch 1" not in captured.out
    assert captured.err.startswith("wengert word2vec: error: ") and "file/o" in captured.err


def test_a_negative_seed_is_an_argument_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["word2vec", "--corpus", "c.txt", "--out", str(tmp_path), "--seed", "-1"])
    assert info.value.code == 2
    assert "argument --seed: expected a seed >= 0, got '-1'" in capsys.readouterr().err


def test_a_restrict_vocab_below_one_is_an_argument_error(tmp_path, capsys):
    # a negative one used to slice the vocabulary from its end: all words but the last 5
    with pytest.raises(SystemExit) as info:
        main(["word2vec", "--corpus", "c.txt", "--out", str(tmp_path), "--restrict-vocab", "-5"])
    assert info.value.code == 2
    assert "argument --restrict-vocab: expected a positive integer, got '-5'" in \
        capsys.readouterr().err
