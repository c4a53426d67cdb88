"""wengert.data: TensorDataset, DataLoader, Subset / random_split."""
import numpy as np
import pytest

import wengert as wg
from wengert.data import DataLoader, Dataset, TensorDataset, random_split


def _rows(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def test_tensor_dataset_samples_are_rows():
    ds = _rows()
    x, y = ds[3]
    assert len(ds) == 10
    np.testing.assert_array_equal(x.data, [6.0, 7.0])
    assert int(y) == 3


def test_tensor_dataset_rejects_different_lengths_naming_the_shapes():
    with pytest.raises(wg.ShapeError) as info:
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    assert "(3, 2)" in str(info.value) and "(4,)" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_tensor_dataset_needs_a_tensor():
    with pytest.raises(wg.ArgumentError, match="at least one tensor"):
        TensorDataset()


def test_loader_batches_in_order_with_a_short_last_batch():
    batches = list(DataLoader(_rows(), batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([y.data for _, y in batches]), np.arange(10))
    assert isinstance(batches[0][0], wg.Tensor) and batches[0][0].shape == (4, 2)
    assert len(DataLoader(_rows(), batch_size=4)) == 3


def test_loader_drop_last():
    loader = DataLoader(_rows(), batch_size=4, drop_last=True)
    assert [len(y) for _, y in loader] == [4, 4] and len(loader) == 2


def test_shuffle_is_a_permutation_each_epoch_and_reproducible_from_the_seed():
    loader = DataLoader(_rows(50), batch_size=8, shuffle=True, generator=wg.Generator(3))
    epochs = [np.concatenate([y.data for _, y in loader]) for _ in range(2)]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(50))
    assert not np.array_equal(epochs[0], epochs[1])
    again = DataLoader(_rows(50), batch_size=8, shuffle=True, generator=wg.Generator(3))
    np.testing.assert_array_equal(np.concatenate([y.data for _, y in again]), epochs[0])


def test_shuffle_without_a_generator_follows_manual_seed():
    orders = []
    for _ in range(2):
        wg.manual_seed(11)
        orders.append(np.concatenate([y.data for _, y in DataLoader(_rows(30), 7, True)]))
    np.testing.assert_array_equal(orders[0], orders[1])


def test_batches_resume_from_a_given_batch():
    loader = DataLoader(_rows(10), batch_size=3, shuffle=True, generator=wg.Generator(0))
    order = loader.order()
    rest = [y.data for _, y in loader.batches(order, start=2)]
    np.testing.assert_array_equal(np.concatenate(rest), order[6:])


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_loader_rejects_bad_batch_size(size):
    with pytest.raises(wg.ArgumentError, match="batch_size"):
        DataLoader(_rows(), batch_size=size)


def test_loader_rejects_empty_dataset():
    with pytest.raises(wg.ArgumentError, match="empty"):
        DataLoader(TensorDataset(np.zeros((0, 2))), batch_size=2)


class Squares(Dataset):
    """A dataset with only __getitem__: the loader must stack single samples."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return wg.tensor([float(i), float(i * i)]), wg.tensor(i)


def test_loader_stacks_samples_of_a_plain_dataset():
    x, y = next(iter(DataLoader(Squares(), batch_size=5)))
    np.testing.assert_array_equal(x.data, [[0, 0], [1, 1], [2, 4], [3, 9], [4, 16]])
    np.testing.assert_array_equal(y.data, np.arange(5))


def test_dataset_base_requires_getitem_and_len():
    with pytest.raises(NotImplementedError):
        len(Dataset())


def test_random_split_partitions_the_dataset():
    parts = random_split(_rows(10), [7, 3], generator=wg.Generator(1))
    assert [len(p) for p in parts] == [7, 3]
    seen = np.concatenate([[int(p[i][1]) for i in range(len(p))] for p in parts])
    np.testing.assert_array_equal(np.sort(seen), np.arange(10))


def test_random_split_fractions_and_loading_a_subset():
    train, val = random_split(_rows(10), [0.75, 0.25], generator=wg.Generator(1))
    assert (len(train), len(val)) == (8, 2)  # 7.5 + 2.5: the leftover goes to the first
    labels = np.concatenate([y.data for _, y in DataLoader(val, batch_size=4)])
    np.testing.assert_array_equal(labels, val.indices)


def test_random_split_rejects_lengths_that_do_not_add_up():
    with pytest.raises(wg.ArgumentError, match="summing to the dataset's length 10"):
        random_split(_rows(10), [5, 4])


class ListSamples(Dataset):
    """Samples as lists of fields, which PyTorch's default_collate batches field by field."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return [wg.tensor([float(i), 2.0 * i]), i]


def test_loader_batches_samples_given_as_lists_field_by_field():
    x, y = next(iter(DataLoader(ListSamples(), batch_size=3)))
    np.testing.assert_array_equal(x.data, [[0, 0], [1, 2], [2, 4]])
    np.testing.assert_array_equal(y.data, [0, 1, 2])
