"""``wengert word2vec``: train word vectors on a corpus, evaluate them on the analogy set,
WordSim-353 and SimLex-999, print nearest neighbours, and write the vectors (word2vec text
and binary formats) and metrics.json to ``--out``.

    wengert word2vec --corpus gutenberg-en-84books.tar.gz --out runs/w2v --epochs 5
"""
import json
import os
import sys
from pathlib import Path

from ..atomic import atomic_write
from .train import _number, _positive_int

# Evaluation files looked for under $WENGERT_DATA/text (else ~/.cache/wengert/text) when
# not given.
EVAL_FILES = {"analogies": "questions-words.txt", "wordsim": "wordsim353.tsv",
              "simlex": "simlex999.txt"}
NEIGHBOURS = ("king", "france", "night")


def add_parser(subparsers):
    p = subparsers.add_parser(
        "word2vec", help="train word2vec (skip-gram or CBOW, negative sampling) on a corpus",
        description="Train word vectors with negative sampling on a text corpus (.txt, .gz or "
                    ".tar.gz of .txt), then report analogy accuracy, WordSim-353 and "
                    "SimLex-999 correlations and nearest neighbours. Defaults are the "
                    "original tool's and gensim's.")
    p.add_argument("--corpus", type=Path, required=True, help="the training text")
    p.add_argument("--out", type=Path, required=True,
                   help="folder for vectors.txt, vectors.bin and metrics.json")
    p.add_argument("--dim", type=int, default=100, help="vector size (default 100)")
    p.add_argument("--window", type=int, default=5, help="maximum context distance (5)")
    p.add_argument("--negative", type=int, default=5, help="noise words per window (5)")
    p.add_argument("--min-count", type=int, default=5, help="drop rarer words (5)")
    p.add_argument("--max-vocab", type=int, default=None,
                   help="keep only this many most frequent words")
    p.add_argument("--sample", type=float, default=1e-3,
                   help="subsampling threshold of frequent words (1e-3; 0 keeps all)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--alpha", type=float, default=0.025,
                   help="initial learning rate, decaying linearly to --min-alpha (0.025)")
    p.add_argument("--min-alpha", type=float, default=0.0001)
    p.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    p.add_argument("--batch-size", type=int, default=1024, help="windows per step (1024)")
    p.add_argument("--streams", type=int, default=64,
                   help="stretches of the corpus a step advances together (64; divides "
                        "--batch-size)")
    p.add_argument("--seed", type=_number(int, 0, True, "a seed >= 0"), default=1)
    p.add_argument("--keep-gutenberg-header", action="store_true",
                   help="keep the Project Gutenberg header and footer (dropped by default)")
    for name, file in EVAL_FILES.items():
        p.add_argument(f"--{name}", type=Path, default=None,
                       help=f"evaluation file (default $WENGERT_DATA/text/{file} if present)")
    p.add_argument("--restrict-vocab", type=_positive_int, default=30000,
                   help="candidate words for analogies (30000, as gensim's evaluation)")
    p.add_argument("--neighbours", default=",".join(NEIGHBOURS),
                   help="comma-separated words whose nearest neighbours are printed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args):
    from ..errors import WengertError

    try:
        return _run(args)
    except (WengertError, OSError) as exc:
        print(f"wengert word2vec: error: {exc}", file=sys.stderr)
        return 1


def _run(args):
    from ..models.word2vec import Word2Vec

    w2v = Word2Vec(dim=args.dim, window=args.window, negative=args.negative,
                   min_count=args.min_count, max_vocab=args.max_vocab, sample=args.sample,
                   epochs=args.epochs, alpha=args.alpha, min_alpha=args.min_alpha,
                   cbow=args.cbow, batch_size=args.batch_size, streams=args.streams,
                   seed=args.seed,
                   strip_gutenberg=not args.keep_gutenberg_header)
    eval_paths = _eval_paths(args)
    args.out.mkdir(parents=True, exist_ok=True)
    if not os.access(args.out, os.W_OK | os.X_OK):  # found now, not after training
        raise PermissionError(f"--out {args.out}: the folder is not writable")
    w2v.fit(args.corpus, progress=not args.no_progress, on_epoch=_print_epoch)
    wv = w2v.vectors
    # saved before evaluating, so an evaluation that fails cannot lose them
    wv.save(args.out / "vectors.txt")
    wv.save(args.out / "vectors.bin", binary=True)
    metrics = {"corpus": str(args.corpus), "config": _config(w2v),
               "vocabulary": len(wv), "corpus_words": w2v.vocab.total,
               "epochs": [vars(s) | {"words_per_s": s.words_per_s} for s in w2v.history]}
    print(f"vocabulary {len(wv):,} words; {w2v.vocab.total:,} corpus words in it")
    metrics.update(_evaluate(wv, eval_paths, args.restrict_vocab))
    metrics["neighbours"] = _neighbours(wv, [w for w in args.neighbours.split(",") if w])
    with atomic_write(args.out / "metrics.json") as f:
        f.write((json.dumps(metrics, indent=2) + "\n").encode())
    print(f"wrote {args.out / 'vectors.txt'}, vectors.bin and metrics.json")
    return 0


def _eval_paths(args):
    """Evaluation files: those given (which must exist), else the defaults that exist."""
    from ..data import data_root

    paths = {}
    for name, file in EVAL_FILES.items():
        given = getattr(args, name)
        if given is not None:
            if not given.is_file():
                raise FileNotFoundError(f"--{name}: {given} does not exist")
            paths[name] = given
        elif (data_root() / "text" / file).is_file():
            paths[name] = data_root() / "text" / file
    return paths


def _config(w2v):
    return {k: getattr(w2v, k) for k in ("dim", "window", "negative", "min_count", "max_vocab",
                                         "sample", "epochs", "alpha", "min_alpha", "cbow",
                                         "batch_size", "streams", "seed", "strip_gutenberg")}


def _print_epoch(stats):
    print(f"epoch {stats.epoch}: loss {stats.loss:.4f}, {stats.effective_words:,} effective "
          f"words in {stats.seconds:.1f} s ({stats.words_per_s:,.0f} words/s), "
          f"lr {stats.lr:.5f}")


def _evaluate(wv, paths, restrict_vocab):
    from ..errors import DatasetError

    out = {}
    if "analogies" in paths:
        result = wv.evaluate_analogies(paths["analogies"], restrict_vocab=restrict_vocab)
        print(f"analogies ({paths['analogies'].name}, restrict_vocab {restrict_vocab}): "
              f"{100 * result.accuracy:.2f}% of {result.asked:,} asked "
              f"({result.questions:,} in the file)")
        for s in result.sections:
            print(f"  {s.name:<28} {100 * s.accuracy:6.2f}% of {s.asked}")
        out["analogies"] = {"accuracy": result.accuracy, "asked": result.asked,
                            "questions": result.questions,
                            "sections": {s.name: {"accuracy": s.accuracy, "asked": s.asked}
                                         for s in result.sections}}
    for name in ("wordsim", "simlex"):
        if name in paths:
            try:
                r = wv.evaluate_word_pairs(paths[name])
            except DatasetError as exc:  # e.g. a small vocabulary holding too few of its pairs
                print(f"wengert word2vec: warning: {name} skipped: {exc}", file=sys.stderr)
                out[name] = {"skipped": str(exc)}
                continue
            print(f"{paths[name].name}: Spearman {r.spearman:.3f}, Pearson {r.pearson:.3f}, "
                  f"{r.oov_ratio:.1f}% of pairs out of vocabulary")
            out[name] = vars(r)
    return out


def _neighbours(wv, words):
    found = {}
    for word in words:
        if word not in wv:
            print(f"{word}: not in the vocabulary")
            continue
        found[word] = wv.most_similar(word, topn=8)
        print(f"{word}: " + ", ".join(f"{w} {s:.2f}" for w, s in found[word]))
    return found
