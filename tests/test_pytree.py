"""Pytrees as the transforms see them: the leaf order and rebuilding follow JAX's tree_util
for the containers both treat as nodes (dict keys sorted, sequences and namedtuple fields in
order); the expected leaves below are derived from those rules by hand."""
import collections
import time

import numpy as np
import pytest

from wengert.pytree import describe, flatten, leaf_paths, unflatten

Pair = collections.namedtuple("Pair", "w b")


class Tagged(tuple):
    """A tuple subclass that is not a namedtuple: built from one iterable."""


TREES = [
    # keys a, b, w in sorted order: Pair(5, 6), then [2, (3, 4)], then 1
    ({"w": 1, "b": [2, (3, 4)], "a": Pair(5, 6)}, [5, 6, 2, 3, 4, 1]),
    # fields w then b; b's keys sorted: x (4) before y (3)
    ([Pair(w=(1, 2), b={"y": 3, "x": 4}), 5], [1, 2, 4, 3, 5]),
    ((((1,), [], {}, 2)), [1, 2]),  # empty containers hold no leaves
    ({"a": None, "b": [None, 1, (None, 2)]}, [1, 2]),  # and None holds none either
]


@pytest.mark.parametrize("tree, leaves_in_order", TREES)
def test_leaves_and_rebuild_follow_jaxs_rules(tree, leaves_in_order):
    leaves, treedef = flatten(tree)
    assert leaves == leaves_in_order
    rebuilt = unflatten(treedef, leaves)
    assert rebuilt == tree and type(rebuilt) is type(tree)
    scaled = unflatten(treedef, [x * 10 for x in leaves])
    assert flatten(scaled)[0] == [x * 10 for x in leaves_in_order]
    assert flatten(scaled)[1] == treedef


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


def test_none_is_a_tree_without_leaves_as_jaxs_tree_util():
    # jax.tree_util.tree_leaves of this tree is [1.5, 2.5, 3.5]: keys a, b, c sorted, None
    # holding no leaves
    tree = {"b": [None, 1.5, (None, 2.5)], "a": None, "c": (3.5, None)}
    leaves, treedef = flatten(tree)
    assert leaves == [1.5, 2.5, 3.5]
    assert unflatten(treedef, leaves) == tree
    assert describe(treedef) == "{'a': None, 'b': [None, *, (None, *)], 'c': (*, None)}"
    assert leaf_paths(treedef) == ["['b'][1]", "['b'][2][1]", "['c'][0]"]
    leaves, treedef = flatten(None)
    assert leaves == [] and unflatten(treedef, []) is None
