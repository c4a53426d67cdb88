"""The 2-D playground datasets: each one's defining geometry, checked on noise-free points."""
import numpy as np
import pytest

from wengert.data import PLAYGROUND, circle, gaussian, moons, spiral, xor
from wengert.errors import ArgumentError


def _arrays(ds):
    X, y = ds.tensors
    return X.data.astype(np.float64), y.data


@pytest.mark.parametrize("name", sorted(PLAYGROUND))
def test_shapes_dtypes_balance_and_seeds(name):
    make = PLAYGROUND[name]
    X, y = _arrays(make(300, noise=0.2, seed=4))
    assert X.shape == (300, 2) and make(300).tensors[0].dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [150, 150]
    np.testing.assert_array_equal(X, _arrays(make(300, noise=0.2, seed=4))[0])
    assert not np.array_equal(X, _arrays(make(300, noise=0.2, seed=5))[0])
    assert make(10, dtype="float64").tensors[0].dtype == np.float64


@pytest.mark.parametrize("name", sorted(PLAYGROUND))
def test_noise_moves_points_by_about_its_standard_deviation(name):
    clean, _ = _arrays(PLAYGROUND[name](2000, noise=0.0, seed=1))
    noisy, _ = _arrays(PLAYGROUND[name](2000, noise=0.3, seed=1))
    assert abs(np.std(noisy - clean) - 0.3) < 0.02


def test_xor_labels_are_the_sign_of_the_product():
    X, y = _arrays(xor(400))
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    assert np.abs(X).min() >= 0.3 - 1e-6 and np.abs(X).max() <= 5.3 + 1e-6


def test_circle_inner_disc_and_outer_ring():
    X, y = _arrays(circle(400))
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 0].max() <= 2.5 + 1e-6
    assert r[y == 1].min() >= 3.5 - 1e-6 and r[y == 1].max() <= 5 + 1e-6


def test_gaussian_blob_centres():
    X, y = _arrays(gaussian(4000))
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [1, 1], atol=0.1)


@pytest.mark.parametrize("classes", [2, 3])
def test_spiral_arms_follow_r_equals_5t(classes):
    n = 300
    X, y = _arrays(spiral(n, classes=classes))
    assert np.bincount(y).tolist() == [n // classes] * classes
    for k in range(classes):
        arm = X[y == k]
        t = np.arange(len(arm)) / len(arm)
        np.testing.assert_allclose(np.hypot(arm[:, 0], arm[:, 1]), 5 * t, atol=1e-5)
        angle = 1.75 * 2 * np.pi * t + 2 * np.pi * k / classes
        np.testing.assert_allclose(arm[1:, 0], 5 * t[1:] * np.sin(angle[1:]), atol=1e-5)


def test_moons_are_scikit_learns_half_circles_scaled():
    X, y = _arrays(moons(200))
    u = X / 2.5 + [0.5, 0.25]  # back to scikit-learn's coordinates
    upper, lower = u[y == 0], u[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1, atol=1e-5)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-5)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


@pytest.mark.parametrize("name", sorted(PLAYGROUND))
def test_bad_arguments_are_named(name):
    with pytest.raises(ArgumentError, match=f"{name}: n must be an integer"):
        PLAYGROUND[name](1)
    with pytest.raises(ArgumentError, match=f"{name}: noise .* must be >= 0"):
        PLAYGROUND[name](10, noise=-0.1)
