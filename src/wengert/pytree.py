"""Nested containers of tensors ("pytrees"), as the functional transforms see their arguments.

A tree is a tuple, list, namedtuple or dict whose entries are trees, or None, a tree with no
leaves (as in JAX and ``torch.utils._pytree``: ``grad`` gives None back for it, and a function
may return None beside its tensors); anything else (a Tensor, an array, a number) is a leaf.
:func:`flatten` gives the leaves in a fixed order plus a ``treedef`` (plain nested tuples, so two structures compare with ``==``); :func:`unflatten`
rebuilds a tree of the same structure from new leaves. Dict entries go in sorted key order (as
JAX), so ``{"w": .., "b": ..}`` and ``{"b": .., "w": ..}`` have the same structure.
"""

LEAF = None
_NONE = (type(None), 0, ())  # None's treedef: a node with no children


def flatten(tree):
    """``(leaves, treedef)`` of ``tree``."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    if tree is None:
        return _NONE
    if isinstance(tree, dict):
        keys = tuple(sorted(tree))
        return (dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if isinstance(tree, (tuple, list)):
        return (type(tree), len(tree), tuple(_flatten(x, leaves) for x in tree))
    leaves.append(tree)
    return LEAF


def unflatten(treedef, leaves):
    """The tree of structure ``treedef`` holding ``leaves`` (an iterable, consumed in order)."""
    it = iter(leaves)
    tree = _build(treedef, it)
    if next(it, _END) is not _END:
        raise ValueError("unflatten: more leaves than the structure holds")
    return tree


_END = object()


def _build(treedef, it):
    if treedef is LEAF:
        leaf = next(it, _END)
        if leaf is _END:
            raise ValueError("unflatten: fewer leaves than the structure holds")
        return leaf
    if treedef == _NONE:
        return None
    kind, keys, children = treedef
    values = [_build(child, it) for child in children]
    if kind is dict:
        return dict(zip(keys, values))
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        return kind(*values)  # a namedtuple takes its fields positionally
    return kind(values)


def leaf_paths(treedef, prefix=""):
    """A readable path per leaf (``"['w']"``, ``"[1][0]"``), for error messages."""
    if treedef is LEAF:
        return [prefix]
    kind, keys, children = treedef
    names = [f"[{k!r}]" for k in keys] if kind is dict else [f"[{i}]" for i in range(keys)]
    return [p for name, child in zip(names, children) for p in leaf_paths(child, prefix + name)]


def describe(treedef):
    """The structure in words, with ``*`` for leaves: ``(*, {'b': *, 'w': *})``."""
    if treedef is LEAF:
        return "*"
    if treedef == _NONE:
        return "None"
    kind, keys, children = treedef
    inner = [describe(c) for c in children]
    if kind is dict:
        return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(keys, inner)) + "}"
    if kind is list:
        return "[" + ", ".join(inner) + "]"
    return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"

