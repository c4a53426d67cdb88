"""The convolution kernels' two GEMM layouts (wengert.ops.conv._per_sample picks one per
call: one GEMM per sample and group, or one per group over all samples) give PyTorch's
results, whichever is forced, for conv, conv_transpose and conv_weight; the op table's cases
are small enough to take only the second layout by default."""
import itertools

import numpy as np
import pytest

from wengert.ops import conv as C

torch = pytest.importorskip("torch")
F = torch.nn.functional

GEOMETRIES = [  # spatial input size, kernel, stride, padding, dilation, groups
    ((9,), (3,), 2, 1, 1, 1),
    ((7, 6), (3, 2), 1, 1, 2, 2),
    ((6, 5), (2, 2), (2, 1), 0, 1, 4),
    ((4, 5, 4), (2, 3, 2), 1, (1, 0, 1), 1, 2),
]


@pytest.fixture(params=["per sample", "one matrix"])
def layout(request, monkeypatch):
    forced = request.param == "per sample"
    monkeypatch.setattr(C, "_MIN_POSITIONS", 0 if forced else 1 << 60)
    monkeypatch.setattr(C, "_MIN_WORK", 0 if forced else 1 << 60)
    return request.param


@pytest.mark.parametrize("spatial, kernel, stride, padding, dilation, groups", GEOMETRIES)
def test_layouts_match_torch(layout, spatial, kernel, stride, padding, dilation, groups):
    rng = np.random.default_rng(len(spatial))
    n = len(spatial)
    x = rng.normal(size=(3, 4) + spatial)
    w = rng.normal(size=(8, 4 // groups) + kernel)
    geo = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    tx, tw = torch.tensor(x), torch.tensor(w)
    y = C._conv(x, w, **geo)
    np.testing.assert_allclose(y, getattr(F, f"conv{n}d")(tx, tw, **geo).numpy(),
                               rtol=1e-12, atol=1e-12)
    for dy in (rng.normal(size=y.shape), np.broadcast_to(1.0, y.shape)):  # sum()'s gradient
        expected = getattr(torch.nn.grad, f"conv{n}d_weight")(tx, w.shape, torch.tensor(dy),
                                                               **geo)
        np.testing.assert_allclose(C._conv_weight(x, dy, kernel, **geo), expected.numpy(),
                                   rtol=1e-12, atol=1e-12)
    wt = rng.normal(size=(4, 8 // groups) + kernel)
    for extra in itertools.product(*[range(s) for s in np.broadcast_to(stride, n)]):
        if any(e >= max(s, d) for e, s, d in zip(extra, np.broadcast_to(stride, n),
                                                 np.broadcast_to(dilation, n))):
            continue  # torch's limit on output_padding
        expected = getattr(F, f"conv_transpose{n}d")(tx, torch.tensor(wt), output_padding=extra,
                                                     **geo)
        np.testing.assert_allclose(C._conv_transpose(x, wt, output_padding=extra, **geo),
                                   expected.numpy(), rtol=1e-12, atol=1e-12)


def test_an_empty_batch_convolves_and_differentiates_as_torch():
    import wengert as wg
    import wengert.nn.functional as wF
    x, w = wg.zeros((0, 4, 5, 5), requires_grad=True), wg.ones((2, 4, 3, 3), requires_grad=True)
    y = wF.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.shape == tuple(F.conv2d(torch.zeros(0, 4, 5, 5), torch.ones(2, 4, 3, 3),
                                     padding=1).shape)
    assert x.grad.shape == (0, 4, 5, 5) and not w.grad.data.any()
    out = wF.conv_transpose2d(wg.zeros((0, 4, 5, 5)), wg.ones((4, 2, 3, 3)))
    assert out.shape == tuple(F.conv_transpose2d(torch.zeros(0, 4, 5, 5),
                                                 torch.ones(4, 2, 3, 3)).shape)
