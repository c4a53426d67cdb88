"""Walking a recorded graph from its outputs: what blocks, traces and graph pictures read."""
from .tensor import Tensor


def walk(outputs, expand=None):
    """The tensors ``outputs`` were computed from, through recorded nodes, each once, inputs
    before the tensors made from them (depth-first post-order, iterative: no recursion limit).
    The walk goes past a tensor to its node's inputs only if ``expand(tensor)`` is true (always
    when ``expand`` is None); never past leaves or nodes freed by a backward pass."""
    order, seen = [], set()
    for root in outputs:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(_parents(root, expand)))]
        while stack:
            t, todo = stack[-1]
            nxt = next((a for a in todo if id(a) not in seen), None)
            if nxt is None:
                stack.pop()
                order.append(t)
            else:
                seen.add(id(nxt))
                stack.append((nxt, iter(_parents(nxt, expand))))
    return order


def _parents(t, expand):
    node = t._node
    if node is None or node.inputs is None or (expand is not None and not expand(t)):
        return []
    return [a for a in node.inputs if isinstance(a, Tensor)]
