"""Pytrees as the transforms see them: the leaf order and rebuilding agree with JAX's
tree_util for the containers both treat as nodes."""
import collections
import time

import numpy as np
import pytest

from wengert.pytree import describe, flatten, leaf_paths, unflatten

Pair = collections.namedtuple("Pair", "w b")


class Tagged(tuple):
    """A tuple subclass that is not a namedtuple: built from one iterable."""


TREES = [
    {"w": 1, "b": [2, (3, 4)], "a": Pair(5, 6)},
    [Pair(w=(1, 2), b={"y": 3, "x": 4}), 5],
    ((1,), [], {}, 2),
]


@pytest.mark.parametrize("tree", TREES)
def test_leaves_and_rebuild_agree_with_jax(tree):
    jtu = pytest.importorskip("jax.tree_util")
    leaves, treedef = flatten(tree)
    assert leaves == jtu.tree_leaves(tree)  # dict keys sorted, as JAX
    rebuilt = unflatten(treedef, [x * 10 for x in leaves])
    assert rebuilt == jtu.tree_map(lambda x: x * 10, tree)
    assert type(rebuilt) is type(tree)


def test_tuple_subclasses_that_are_not_namedtuples_rebuild():
    # these take one iterable, not their fields positionally (Tagged(1, 2) is a TypeError)
    for tree in (Tagged((1, 2)), time.gmtime(0)):
        leaves, treedef = flatten(tree)
        rebuilt = unflatten(treedef, leaves)
        assert type(rebuilt) is type(tree) and rebuilt == tree


def test_paths_and_description_name_each_leaf():
    leaves, treedef = flatten({"w": np.ones(2), "b": (1, [2])})
    assert leaf_paths(treedef) == ["['b'][0]", "['b'][1][0]", "['w']"]
    assert describe(treedef) == "{'b': (*, [*]), 'w': *}"
    with pytest.raises(ValueError, match="fewer leaves"):
        unflatten(treedef, leaves[:2])
