"""Data: datasets, the DataLoader, the 2-D playground sets and MNIST / Fashion-MNIST.

``from wengert.data import DataLoader, spiral``;
``loader = DataLoader(spiral(400, noise=0.1), batch_size=32, shuffle=True)``."""
from .dataset import Dataset, Subset, TensorDataset, random_split
from .idx import DatasetError, read_idx
from .loader import DataLoader
from .images import ImageDataset, data_root, fashion_mnist, mnist
from .playground import circle, gaussian, moons, spiral, xor

PLAYGROUND = {"spiral": spiral, "xor": xor, "circle": circle, "gaussian": gaussian,
              "moons": moons}

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "DatasetError",
           "read_idx", "ImageDataset", "data_root", "mnist", "fashion_mnist", "xor", "circle",
           "gaussian", "spiral", "moons", "PLAYGROUND"]
