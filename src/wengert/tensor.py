"""The Tensor: an ndarray plus what autodiff needs (``requires_grad``, ``grad``, the node
that made it). Arithmetic operators and methods are attached in :mod:`wengert.ops.methods`,
from the one definition of each primitive."""
import numpy as np

from .backend import is_float, to_array
from .autodiff.state import HOOKED
from .errors import DTypeError, GraphError


#: The version cell ``(writes, stamp of the last write)`` of every tensor never written in
#: place: shared and read-only (a tuple), so making a tensor allocates no cell; the first
#: in-place write (or a view, which must share its base's cell) gives the tensor its own list
#: (:meth:`Tensor._version_cell`; the stamps are explained in :mod:`wengert.autodiff.state`).
FRESH = (0, 0)


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    ``Tensor(data, dtype=None, requires_grad=False)`` copies ``data`` when it is a list or
    scalar and keeps a NumPy array's dtype. Only floating tensors can require grad.
    ``t.data`` is the underlying ``numpy.ndarray``.
    """

    # Every op makes a Tensor, so only the fields every tensor sets are slots; the others live
    # in the instance's attributes (stored inline by CPython, no dict made) and default to these
    # class values. That keeps an op's result that records nothing to two assignments.
    __slots__ = ("data", "requires_grad", "__dict__", "__weakref__")
    _node = None           # the Node that made this tensor (None: a leaf)
    _version = FRESH       # the version cell, see FRESH
    grad = None
    _tangents = None       # forward mode: {level: tangent tensor}
    _retains_grad = False
    _hooks = None
    _rebases = None        # in-place rebases while recording: [(tick, stand-in for the old
    #                        value)]
    _view_src = None       # a view: (the tensor it views, the view primitive, its params)
    _views = None          # a ViewRegistry of this tensor's views taken with grad on
    #                        (recorded or not): a write takes those it changed again
    name = None
    # NumPy must hand mixed expressions (ndarray * Tensor) to the Tensor's reflected operator.
    __array_ufunc__ = None

    def __init__(self, data, dtype=None, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.data
        self.data = to_array(data, dtype)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, node=None, requires_grad=False, version=None):
        """Fast internal constructor around an existing ndarray (no conversion, no copy)."""
        t = object.__new__(cls)
        t.data = data
        t.requires_grad = requires_grad
        if node is not None:
            t._node = node
        if version is not None:
            t._version = version
        return t

    def _version_cell(self):
        """This tensor's own, writable version counter (created on first need). The node
        that produced the tensor shared the FRESH counter until now, so it is pointed at the
        new one: it must see in-place writes to its output."""
        cell = self._version
        if cell is FRESH:
            cell = self._version = [0, 0]
            node = self._node
            if node is not None and node.out_cell is FRESH and node.out is self.data:
                node.out_cell = cell
        return cell

    # --- properties -------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def is_leaf(self):
        """True for tensors made by the user (and for results of ops that did not record)."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that produced this tensor (None for leaves), as in PyTorch."""
        return self._node

    @property
    def version(self):
        """How many times this tensor's storage was modified in place."""
        return self._version[0]

    # --- grad bookkeeping -------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place (leaves only); returns self."""
        if requires_grad and not is_float(self.data.dtype):
            raise DTypeError(
                f"only floating tensors can require grad; this tensor has dtype "
                f"{self.data.dtype} and shape {self.shape}. Hint: convert it with "
                f".astype('float32') or create it with a float dtype")
        if not requires_grad and self._node is not None:
            raise GraphError("requires_grad_(False) works on leaves only; use .detach() "
                             "to cut a non-leaf tensor from its graph")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise GraphError("retain_grad() on a tensor that does not require grad")
        HOOKED[0] = True
        self._retains_grad = True
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed. If it returns a
        tensor, that replaces the gradient. Returns a handle with ``.remove()``."""
        if not self.requires_grad:
            raise GraphError("register_hook on a tensor that does not require grad")
        HOOKED[0] = True
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def detach(self):
        """A tensor sharing this one's data but cut from the graph (requires_grad False)."""
        return Tensor._wrap(self.data, None, False, self._version_cell())

    def detach_(self):
        """Cut this tensor from its graph in place."""
        self._node = None
        self.requires_grad = False
        return self

    # --- conversion -------------------------------------------------------------------------
    def numpy(self):
        """The data as a NumPy array (shared, not copied). Fails if it requires grad, as in
        PyTorch; use ``.detach().numpy()``."""
        if self.requires_grad:
            raise GraphError("numpy() on a tensor that requires grad; call "
                             ".detach().numpy() to say you want the values only")
        return self.data

    def item(self):
        """The single value as a Python number (cuts the graph)."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with shape {self.shape} is "
                             "ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if self.data.dtype != np.float32 and self.data.dtype != np.int64 and self.data.dtype != np.bool_:
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.prim.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def tensor(data, dtype=None, requires_grad=False):
    """Make a tensor from data (a list, scalar, ndarray or tensor); copies the data."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(to_array(data, dtype, copy=True), requires_grad=requires_grad)

