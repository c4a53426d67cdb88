"""The word2vec network and training: the SGNS/CBOW loss against its formula and a dense
composite, central differences, row-sparse updates, determinism, and a planted structure
that training must recover."""
import re

import numpy as np
import pytest

import wengert as wg
from wengert import optim
from wengert.check import gradcheck
from wengert.errors import ArgumentError, NonFiniteLossError, ShapeError
from wengert.models.word2vec import Word2Vec, Word2VecNet, read_corpus
from wengert.models.word2vec.batches import Batch
from wengert.models.word2vec.model import negative_sampling_loss
from wengert.ops import sgns
from wengert.sparse import RowSparse

V, DIM, WINDOW, NEG = 12, 5, 2, 3
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _batch(rng, streams=2, length=4):
    mask = rng.random((streams, length, 2 * WINDOW + 1)) < 0.7
    mask[..., WINDOW] = False
    inputs = rng.integers(0, V // 2, (streams, length + 2 * WINDOW))  # rows 6..11: outputs
    outputs = rng.integers(0, V - 2, (streams, length, 1 + NEG))     # rows 10, 11: unused
    return Batch(inputs, mask, outputs, streams * length, 0)


def _net(rng, cbow=False):
    net = Word2VecNet(V, DIM, cbow=cbow, dtype=np.float64)
    for p in (net.input.weight, net.output.weight):
        p.data[...] = rng.standard_normal(p.shape)
    return net


def _log_sigmoid(z):
    return -np.logaddexp(0, -z)


def _formula(net, batch, cbow):
    """The objective written out in NumPy, pair by pair (window by window for CBOW)."""
    U, Vout = net.input.weight.data, net.output.weight.data
    total = 0.0
    for r, b in np.ndindex(batch.mask.shape[:2]):
        contexts = [U[batch.inputs[r, b + j]] for j in np.flatnonzero(batch.mask[r, b])]
        target, noise = Vout[batch.outputs[r, b, 0]], Vout[batch.outputs[r, b, 1:]]
        inputs = [np.mean(contexts, axis=0)] if cbow and contexts else [] if cbow else contexts
        for u in inputs:
            total -= _log_sigmoid(u @ target) + _log_sigmoid(-(noise @ u)).sum()
    return total


@pytest.mark.parametrize("cbow", [False, True])
def test_loss_is_the_negative_sampling_objective(rng, cbow):
    net, batch = _net(rng, cbow), _batch(rng)
    loss, examples = net(batch)
    np.testing.assert_allclose(loss.item(), _formula(net, batch, cbow), rtol=1e-12)
    assert examples == (batch.mask.any(axis=-1).sum() if cbow else batch.mask.sum())


def test_cbow_windows_without_context_are_no_examples(rng):
    # A one-word sentence's window and those of a stream that ran out have no context words:
    # CBOW's hidden vector is zero there, and the window must add nothing, not
    # (1 + negative) log 2, to the loss.
    net, batch = _net(rng, cbow=True), _batch(rng)
    batch.mask[0, 1] = False
    batch.mask[1] = False
    loss, examples = net(batch)
    np.testing.assert_allclose(loss.item(), _formula(net, batch, cbow=True), rtol=1e-12)
    assert examples == batch.mask.any(axis=-1).sum() == 3


def test_loss_shape_mismatch_names_the_loss(rng):
    batch = _batch(rng)
    x = rng.standard_normal(batch.inputs.shape + (DIM,))
    y = rng.standard_normal(batch.outputs.shape + (DIM,))
    for bad_x, bad_y in ((x[:, 1:], y), (x, y[:, 1:]), (x, y[..., 1:])):
        with pytest.raises(ShapeError, match=r"negative_sampling_loss: input vectors \(2, "):
            negative_sampling_loss(wg.Tensor(bad_x), wg.Tensor(bad_y), batch.mask)


@pytest.mark.parametrize("op, shape, axis", [
    ("sliding_windows", (4, 6), 2), ("sliding_windows", (4, 6), -3),
    ("overlap_add", (4, 3, 2), 2), ("overlap_add", (4, 3, 2), -3)])
def test_sliding_window_axis_out_of_range_is_an_error(op, shape, axis):
    # NumPy's sliding_window_view and torch's unfold refuse it too; it used to wrap around.
    args = dict(size=2) if op == "sliding_windows" else {}
    with pytest.raises(ShapeError, match=re.escape(f"{op}: axis {axis} is out of range for "
                                                   f"an input of shape {shape}")):
        getattr(sgns, op)(np.ones(shape), axis=axis, **args)


def _dense_composite(U, Vout, batch):
    """The skip-gram loss from plain primitives: pairs gathered with getitem from dense
    matrices (so the gradients are dense), scored with multiply/sum, log-sigmoid as
    softplus."""
    r, b, j = np.nonzero(batch.mask)
    u = U[batch.inputs[r, b + j]]                  # (pairs, dim)
    v = Vout[batch.outputs[r, b]]                  # (pairs, 1 + NEG, dim)
    scores = (v * wg.expand_dims(u, 1)).sum(axis=-1)
    return wg.softplus(-scores[:, 0]).sum() + wg.softplus(scores[:, 1:]).sum()


def test_sparse_gradient_equals_the_dense_composite(rng):
    net, batch = _net(rng), _batch(rng)
    loss, _ = net(batch)
    loss.backward()
    U = wg.Tensor(net.input.weight.data.copy(), requires_grad=True)
    Vout = wg.Tensor(net.output.weight.data.copy(), requires_grad=True)
    dense = _dense_composite(U, Vout, batch)
    dense.backward()
    np.testing.assert_allclose(loss.item(), dense.item(), rtol=1e-12)
    for sparse, ref in ((net.input.weight.grad, U.grad), (net.output.weight.grad, Vout.grad)):
        assert isinstance(sparse, RowSparse)
        np.testing.assert_allclose(sparse.to_dense(), ref.data, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cbow", [False, True])
def test_loss_derivatives_match_central_differences(rng, cbow):
    batch = _batch(rng)
    x = wg.Tensor(rng.standard_normal(batch.inputs.shape + (DIM,)))
    y = wg.Tensor(rng.standard_normal(batch.outputs.shape + (DIM,)))
    gradcheck(lambda x, y: negative_sampling_loss(x, y, batch.mask, cbow)[0], (x, y),
              order=2)  # raises GradcheckError on a mismatch


@pytest.mark.parametrize("cbow", [False, True])
def test_an_update_touches_only_the_rows_in_the_batch(rng, cbow):
    net, batch = _net(rng, cbow), _batch(rng)
    before = [p.data.copy() for p in (net.input.weight, net.output.weight)]
    opt = optim.SGD(net.parameters(), lr=0.1)
    loss, _ = net(batch)
    loss.backward()
    opt.step()
    used_in = set(batch.inputs.ravel().tolist())
    for p, old, used in ((net.input.weight, before[0], used_in),
                         (net.output.weight, before[1], set(batch.outputs.ravel().tolist()))):
        for row in range(V):
            same = np.array_equal(p.data[row].view(np.uint64), old[row].view(np.uint64))
            if row not in used:
                assert same, f"row {row} not in the batch changed"
    changed = [not np.array_equal(net.output.weight.data[r], before[1][r])
               for r in np.unique(batch.outputs)]
    assert all(changed)


def _planted_corpus(path, pairs=12, sentences=3000, seed=0):
    """Pair i is two words, a<i> and b<i>, that appear in exactly the same contexts: four
    topic words of their own. Sentences: two topic words, a or b, two topic words.
    (Indices are letters: the tokenizer keeps only a-z.)"""
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(sentences):
        i = LETTERS[rng.integers(pairs)]
        topic = [f"t{i}{LETTERS[k]}" for k in rng.integers(0, 4, 4)]
        word = f"{'ab'[rng.integers(2)]}{i}"
        lines.append(" ".join(topic[:2] + [word] + topic[2:]))
    path.write_text("\n".join(lines))
    return path


@pytest.mark.parametrize("cbow", [False, True])
def test_words_sharing_contexts_become_nearest_neighbours(tmp_path, cbow):
    corpus = read_corpus(_planted_corpus(tmp_path / "planted.txt"), max_sentence=5)
    w2v = Word2Vec(dim=16, window=2, negative=5, min_count=1, sample=0, epochs=8,
                   alpha=0.05, batch_size=64, streams=8, cbow=cbow, seed=3).fit(corpus)
    wv = w2v.vectors
    hits = sum(wv.most_similar(f"a{i}", topn=1)[0][0] == f"b{i}" for i in LETTERS[:12])
    assert hits >= 11
    assert w2v.history[-1].loss < w2v.history[0].loss


def test_training_is_deterministic_for_a_seed(tmp_path):
    corpus = read_corpus(_planted_corpus(tmp_path / "planted.txt", sentences=400))
    runs = [Word2Vec(dim=8, min_count=1, epochs=2, batch_size=32, streams=4, seed=s).fit(corpus)
            for s in (5, 5, 6)]
    a, b, c = (r.vectors.vectors for r in runs)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_learning_rate_decays_linearly_to_min_alpha(tmp_path):
    corpus = read_corpus(_planted_corpus(tmp_path / "planted.txt", sentences=400))
    w2v = Word2Vec(dim=8, min_count=1, sample=0, epochs=4, alpha=0.04, min_alpha=0.001,
                   batch_size=16, streams=4).fit(corpus)
    lrs = [s.lr for s in w2v.history]
    # the last batch of epoch e starts at most one batch before e/4 of all the words
    np.testing.assert_allclose(lrs, [0.04 - 0.039 * e / 4 for e in (1, 2, 3, 4)], atol=1e-3)
    assert lrs == sorted(lrs, reverse=True)
    assert all(s.effective_words == len(corpus) for s in w2v.history)  # sample=0 keeps all


def test_a_diverging_run_raises_instead_of_training_on_nan(tmp_path):
    # With lr 1e30 the vectors overflow float32 by the third step; the loss is then not
    # finite, and fit stops there instead of carrying NaN vectors to the end.
    corpus = read_corpus(_planted_corpus(tmp_path / "planted.txt", sentences=400))
    with pytest.raises(NonFiniteLossError, match=r"Word2Vec: the loss is .* at step \d+ of "
                                                 r"epoch 1; .* Hint: lower alpha"), \
            np.errstate(over="ignore", invalid="ignore"):  # NumPy's overflow warnings
        Word2Vec(dim=8, min_count=1, epochs=1, alpha=1e30, batch_size=32, streams=4).fit(corpus)


@pytest.mark.parametrize("bad, named", [
    (dict(dim=0), "dim must be a positive integer"), (dict(window=-1), "window"),
    (dict(sample=1.5), "sample must be in"), (dict(alpha=0.01, min_alpha=0.1), "min_alpha"),
    (dict(epochs=2.5), "epochs"), (dict(batch_size=100, streams=16), "multiple of streams"),
    (dict(max_vocab=1), "max_vocab must be an integer >= 2")])
def test_bad_hyperparameters_are_named(bad, named):
    with pytest.raises(ArgumentError, match=named):
        Word2Vec(**bad)


def test_a_one_word_vocabulary_is_refused(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("echo echo echo echo echo rare")
    with pytest.raises(ArgumentError, match="only the word 'echo'"):
        Word2Vec(min_count=2).fit(path)


def test_vectors_before_fit_is_an_error():
    with pytest.raises(ArgumentError, match="fit"):
        _ = Word2Vec().vectors
