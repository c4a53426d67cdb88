"""The 2-D "playground" classification sets of the TensorFlow Playground (xor, circle,
gaussian, spiral) plus scikit-learn's two moons.

Each function returns a :class:`TensorDataset` of points ``X`` (n x 2) and integer labels
``y`` (n,), half of the points in each class (spiral: ``classes`` arms). ``noise`` is the
standard deviation of Gaussian noise added to the points; ``seed`` makes the set reproducible
(the default gives the same points every time). Coordinates lie roughly in [-6, 6], as in the
Playground; labels are 0/1 (class indices for ``cross_entropy``) rather than the
Playground's -1/+1."""
import numpy as np

from ..backend import as_dtype
from ..errors import ArgumentError
from .dataset import TensorDataset


def _check(name, n, noise, per_class=2):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < per_class:
        raise ArgumentError(f"{name}: n must be an integer >= {per_class} (points in all), "
                         f"got {n!r}")
    if noise < 0:
        raise ArgumentError(f"{name}: noise is a standard deviation and must be >= 0, "
                         f"got {noise}")


def _dataset(points, labels, noise, rng, dtype):
    points = points + noise * rng.standard_normal(points.shape)
    return TensorDataset(points.astype(as_dtype(dtype)), labels.astype(np.int64))


def _halves(n):
    """Class labels with n // 2 zeros followed by ones."""
    return (np.arange(n) >= n // 2).astype(np.int64)


def xor(n=400, noise=0.0, seed=0, dtype="float32"):
    """Points uniform in [-5, 5]² pushed 0.3 away from the axes; label 1 where x·y < 0
    (quadrants II and IV), 0 where x·y > 0."""
    _check("xor", n, noise)
    rng = np.random.default_rng(seed)
    labels = _halves(n)
    magnitude = rng.uniform(0.3, 5.3, size=(n, 2))
    signs = rng.choice([-1.0, 1.0], size=n)
    # first coordinate's sign is random; the second agrees for class 0, disagrees for class 1
    points = magnitude * np.stack([signs, np.where(labels == 0, signs, -signs)], axis=1)
    return _dataset(points, labels, noise, rng, dtype)


def circle(n=400, noise=0.0, seed=0, dtype="float32"):
    """Class 0 inside radius 2.5, class 1 on a ring of radii 3.5 to 5 around the origin."""
    _check("circle", n, noise)
    rng = np.random.default_rng(seed)
    labels = _halves(n)
    radius = np.where(labels == 0, rng.uniform(0, 2.5, n), rng.uniform(3.5, 5, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return _dataset(points, labels, noise, rng, dtype)


def gaussian(n=400, noise=0.0, seed=0, dtype="float32"):
    """Two Gaussian blobs of unit standard deviation centred at (2, 2) (class 0) and (-2, -2)
    (class 1); ``noise`` widens them further."""
    _check("gaussian", n, noise)
    rng = np.random.default_rng(seed)
    labels = _halves(n)
    centres = np.where(labels[:, None] == 0, 2.0, -2.0)
    points = centres + rng.standard_normal((n, 2))
    return _dataset(points, labels, noise, rng, dtype)


def spiral(n=400, noise=0.0, seed=0, classes=2, dtype="float32"):
    """``classes`` interleaved spiral arms (2 in the Playground, 3 in CS231n): arm k has
    radius r = 5·t and angle 1.75·2π·t + 2πk/classes for t evenly spaced in [0, 1)."""
    _check("spiral", n, noise, per_class=classes)
    rng = np.random.default_rng(seed)
    labels = np.arange(n) * classes // n
    t = (np.arange(n) - np.searchsorted(labels, labels)) / np.bincount(labels)[labels]
    angle = 1.75 * 2 * np.pi * t + 2 * np.pi * labels / classes
    points = 5 * t[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    return _dataset(points, labels, noise, rng, dtype)


def moons(n=400, noise=0.0, seed=0, dtype="float32"):
    """scikit-learn's two interleaving half circles (radius 1), scaled by 2.5 and centred, so
    the set spans about the same range as the others."""
    _check("moons", n, noise)
    rng = np.random.default_rng(seed)
    labels = _halves(n)
    counts = np.bincount(labels, minlength=2)
    angle = np.concatenate([np.linspace(0, np.pi, counts[0]), np.linspace(0, np.pi, counts[1])])
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    points = 2.5 * (np.where(labels[:, None] == 0, upper, lower) - [0.5, 0.25])
    return _dataset(points, labels, noise, rng, dtype)
