"""word2vec skip-gram on the Gutenberg corpus: wengert against gensim (1 worker by default),
same corpus, hyperparameters (dim 100, window 5, negative 5, min_count 5, sample 1e-3) and
seed. Reports effective (after subsampling) words/s over the training epochs, peak memory
(each candidate in its own process), and analogy accuracy (restrict_vocab 30,000),
WordSim-353 and SimLex-999 Spearman after the run, all scored by the same code, which
follows gensim's evaluation protocol. A run is minutes long, so each candidate runs once
(gensim first), not alternated.

    python bench/word2vec.py [--quick] [--epochs 5] [--words N] [--threads 1] [--json]
    python bench/word2vec.py --candidate wengert|gensim ...   (one measurement, JSON)
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from _timing import emit, pin_threads_from_argv, versions

pin_threads_from_argv()

HERE = Path(__file__).resolve().parent
HYPER = dict(dim=100, window=5, negative=5, min_count=5, sample=1e-3, seed=1)
QUICK_WORDS = 2_000_000


def _data_dir(given):
    return Path(given or os.environ.get("WENGERT_DATA") or HERE.parent.parent / "shared" / "data")


def _corpus(data, words):
    """The corpus read by wengert, cut after the first sentence that reaches ``words``."""
    from wengert.models.word2vec import read_corpus
    from wengert.models.word2vec.corpus import Corpus
    import numpy as np

    corpus = read_corpus(_corpus_path(data))
    if not words or words >= len(corpus):
        return corpus
    cut = int(np.searchsorted(corpus.bounds, words))
    ids = corpus.ids[:corpus.bounds[cut]]
    return Corpus(corpus.path, ids, corpus.bounds[:cut + 1], corpus.words,
                  np.bincount(ids, minlength=len(corpus.words)))


def _corpus_path(data):
    return data / "text" / "gutenberg-en-84books.tar.gz"


class _Sentences:
    """The same sentences for gensim, streamed from the file on every pass (as gensim's
    corpus readers do), cut as :func:`_corpus` cuts them."""

    def __init__(self, path, words):
        self.path, self.words = path, words

    def __iter__(self):
        from wengert.models.word2vec import iter_sentences
        total = 0
        for sentence in iter_sentences(self.path):
            if self.words and total >= self.words:
                return
            total += len(sentence)
            yield sentence


def _evaluate(words, vectors, data):
    from wengert.models.word2vec import WordVectors

    wv = WordVectors(words, vectors)
    analogies = wv.evaluate_analogies(data / "text" / "questions-words.txt", restrict_vocab=30000)
    return {"analogy_pct": round(100 * analogies.accuracy, 2), "asked": analogies.asked,
            "wordsim": round(wv.evaluate_word_pairs(data / "text" / "wordsim353.tsv").spearman, 4),
            "simlex": round(wv.evaluate_word_pairs(data / "text" / "simlex999.txt").spearman, 4)}


def measure(candidate, epochs, words, data, workers, batch_size):
    """Train one candidate in this process; returns its row."""
    if candidate == "wengert":
        from wengert.models.word2vec import Word2Vec
        # A path lets fit drop the raw corpus once encoded; a slice has to be read here.
        corpus = _corpus(data, words) if words else _corpus_path(data)
        w2v = Word2Vec(epochs=epochs, batch_size=batch_size, **HYPER).fit(corpus)
        train_s = sum(s.seconds for s in w2v.history)
        effective = sum(s.effective_words for s in w2v.history)
        words_, vectors, name = w2v.vocab.words, w2v.net.input.weight.data, "wengert"
    else:
        from gensim.models import Word2Vec as GensimWord2Vec
        sentences = _Sentences(_corpus_path(data), words)
        model = GensimWord2Vec(vector_size=HYPER["dim"], window=HYPER["window"],
                               negative=HYPER["negative"], min_count=HYPER["min_count"],
                               sample=HYPER["sample"], seed=HYPER["seed"], sg=1,
                               workers=workers)
        model.build_vocab(sentences)
        began = time.perf_counter()
        effective, _ = model.train(sentences, total_examples=model.corpus_count, epochs=epochs)
        train_s = time.perf_counter() - began
        words_, vectors = model.wv.index_to_key, model.wv.vectors
        name = f"gensim ({workers} worker{'s' if workers > 1 else ''})"
    row = {"candidate": name, "epochs": epochs, "train_s": round(train_s, 1),
           "words_per_s": round(effective / train_s),
           "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    row.update(_evaluate(words_, vectors, data))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"the first {QUICK_WORDS:,} words, 1 epoch (a smoke run)")
    ap.add_argument("--epochs", type=int, default=None, help="default 5 (1 with --quick)")
    ap.add_argument("--words", type=int, default=None, help="train on the first N words")
    ap.add_argument("--data", default=None, help="the shared data folder (holding text/)")
    ap.add_argument("--gensim-workers", default="1", help="comma-separated, e.g. 1,2")
    ap.add_argument("--batch-size", type=int, default=1024, help="wengert's windows per step")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--candidate", choices=["wengert", "gensim"], default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    epochs = args.epochs or (1 if args.quick else 5)
    words = args.words or (QUICK_WORDS if args.quick else None)
    data = _data_dir(args.data)
    if args.candidate:
        workers = int(args.gensim_workers.split(",")[0])
        print(json.dumps(measure(args.candidate, epochs, words, data, workers, args.batch_size)))
        return 0
    rows = []
    runs = [("gensim", w) for w in args.gensim_workers.split(",")] + [("wengert", "1")]
    for candidate, workers in runs:
        cmd = [sys.executable, __file__, "--candidate", candidate, "--epochs", str(epochs),
               "--data", str(data), "--gensim-workers", workers, "--threads", str(args.threads),
               "--batch-size", str(args.batch_size)] + (["--words", str(words)] if words else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    ours, base = rows[-1], rows[0]
    rows.append({"candidate": f"wengert / {base['candidate']}",
                 "words_per_s": round(ours["words_per_s"] / base["words_per_s"], 3),
                 "peak_mb": round(ours["peak_mb"] / base["peak_mb"], 3),
                 "analogy_pct": round(ours["analogy_pct"] - base["analogy_pct"], 2),
                 "wordsim": round(ours["wordsim"] - base["wordsim"], 4),
                 "simlex": round(ours["simlex"] - base["simlex"], 4)})
    emit({"bench": "word2vec",
          "config": f"skip-gram, {epochs} epoch(s), {words or 'all'} words, {args.threads} "
                    f"thread(s); last row: ratios (speed, memory) and differences (scores)",
          "rows": rows, "versions": versions()}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
