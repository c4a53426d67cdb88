"""Recurrent cells: one time step of an Elman RNN, an LSTM and a GRU, as the modules
``RNNCell``, ``LSTMCell`` and ``GRUCell`` (PyTorch's names, arguments, parameter layouts and
initialisation) and as the step functions the sequence layers in :mod:`wengert.nn.recurrent`
run at every step.

The gates are stacked in PyTorch's order along the weights' first axis (i, f, g, o for the
LSTM; r, z, n for the GRU), so a PyTorch state dict loads unchanged. A step takes ``xw``, the
input's projection ``x @ weight_ih.T + bias_ih`` (the layers compute it for all time steps
with one matmul), and adds the hidden state's ``h @ weight_hh.T + bias_hh``:

* RNN:  ``h' = tanh(xw + h W_hh^T + b_hh)`` (or relu)
* LSTM: ``i, f, g, o = σ, σ, tanh, σ of (xw + h W_hh^T + b_hh)``; ``c' = f c + i g``;
  ``h' = o tanh(c')``, then ``h' W_hr^T`` with a projection
* GRU:  ``r, z = σ(xw_rz + (h W_hh^T + b_hh)_rz)``; ``n = tanh(xw_n + r (h W_hn^T + b_hn))``;
  ``h' = (1 - z) n + z h``

Everything is a composite of wengert ops (the fused ``linear``, sigmoid, tanh, slicing), so
it differentiates in every mode and to any order.
"""
import math

import numpy as np

from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.elementwise import relu, sigmoid, tanh
from ..tensor import Tensor
from . import functional as F, init
from .layers import _param
from .module import Module


# --- steps ----------------------------------------------------------------------------------
def rnn_tanh_step(xw, state, w_hh, b_hh):
    """One Elman step with tanh: the new ``(h,)``."""
    return (tanh(xw + F.linear(state[0], w_hh, b_hh)),)


def rnn_relu_step(xw, state, w_hh, b_hh):
    """One Elman step with relu: the new ``(h,)``."""
    return (relu(xw + F.linear(state[0], w_hh, b_hh)),)


def lstm_step(xw, state, w_hh, b_hh, w_hr=None):
    """One LSTM step: the new ``(h, c)``; ``w_hr`` projects h (LSTM's ``proj_size``)."""
    h, c = state
    n = c.shape[-1]
    gates = xw + F.linear(h, w_hh, b_hh)
    # One sigmoid over all four gates (g's quarter is unused) rather than three slices with a
    # sigmoid each: fewer ops per step, which is what a small hidden size pays for.
    s = sigmoid(gates)
    c = s[:, n:2 * n] * c + s[:, :n] * tanh(gates[:, 2 * n:3 * n])
    h = s[:, 3 * n:] * tanh(c)
    return (h if w_hr is None else F.linear(h, w_hr), c)


def gru_step(xw, state, w_hh, b_hh):
    """One GRU step: the new ``(h,)``. The reset gate multiplies ``h W_hn^T + b_hn`` (as
    PyTorch and cuDNN), not h before the product."""
    h = state[0]
    n = h.shape[-1]
    hw = F.linear(h, w_hh, b_hh)
    rz = sigmoid(xw[:, :2 * n] + hw[:, :2 * n])
    new = tanh(xw[:, 2 * n:] + rz[:, :n] * hw[:, 2 * n:])
    return (new + rz[:, n:] * (h - new),)


# --- argument checks shared with the sequence layers ----------------------------------------
def check_size(where, name, value, minimum=1):
    """An int size (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ArgumentError(f"{where}: {name}={value!r} must be an int >= {minimum}")


def check_dtype(where, what, t, weight):
    """``t`` (an input or a hidden state) must have the weights' dtype, as PyTorch's."""
    if t.dtype != weight.dtype:
        raise DTypeError(f"{where}: {what} has dtype {t.dtype} (shape {t.shape}) but the "
                         f"weights are {weight.dtype}. Hint: convert it (x.astype("
                         f"'{weight.dtype}')) or the module (.to({t.dtype.name!r}))")


def as_tensor(x):
    """``x`` as a Tensor (an array or a list is wrapped; a Tensor passes as it is)."""
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


# --- cells ----------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The parameters of a cell with ``num_chunks`` gates: ``weight_ih`` (num_chunks *
    hidden_size, input_size), ``weight_hh`` (num_chunks * hidden_size, hidden_size),
    ``bias_ih`` and ``bias_hh`` (num_chunks * hidden_size,) (None with ``bias=False``), all
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) as PyTorch's."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, dtype=None):
        super().__init__()
        name = type(self).__name__
        check_size(name, "input_size", input_size, 0)
        check_size(name, "hidden_size", hidden_size, 0)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = num_chunks * hidden_size
        # Fortran order as Linear's: weight.T is C-contiguous, so h @ weight.T is a plain GEMM
        self.weight_ih = _param((gates, input_size), dtype, order="F")
        self.weight_hh = _param((gates, hidden_size), dtype, order="F")
        self.register_parameter("bias_ih", _param((gates,), dtype) if bias else None)
        self.register_parameter("bias_hh", _param((gates,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) values (from wengert's
        global generator) for every parameter."""
        bound = 1 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _run(self, input, hx, n_states):
        """Check ``input`` and ``hx`` (None, a tensor, or a pair for the LSTM), run one
        step, and return the new states without the batch axis an unbatched input lacked."""
        name = type(self).__name__
        p = self._parameters
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected an input of shape (N, {self.input_size}) or "
                             f"({self.input_size},) (input_size={self.input_size}), got "
                             f"shape {x.shape}")
        check_dtype(name, "the input", x, p["weight_ih"])
        batched = x.ndim == 2
        if not batched:
            x = x[None]
        if hx is None:
            zeros = Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
            states = (zeros,) * n_states
        else:
            states = _given_states(name, hx, n_states)
            expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
            for k, h in enumerate(states):
                what = "hx" if n_states == 1 else f"hx[{k}]"
                if h.shape != expected:
                    raise ShapeError(
                        f"{name}: {what} of shape {h.shape} does not fit an input of shape "
                        f"{tuple(input.shape)}; it needs shape {expected} (the input's batch "
                        f"axis, if any, then hidden_size={self.hidden_size})")
                check_dtype(name, what, h, p["weight_hh"])
            if not batched:
                states = tuple(h[None] for h in states)
        new = self.step(F.linear(x, p["weight_ih"], p["bias_ih"]), states, p["weight_hh"],
                        p["bias_hh"])
        return new if batched else tuple(h[0] for h in new)


def _given_states(name, hx, n_states):
    if n_states == 1:
        return (as_tensor(hx),)
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise ArgumentError(f"{name}: hx must be a pair (h_0, c_0) of tensors, got a "
                            f"{type(hx).__name__}")
    return tuple(as_tensor(h) for h in hx)


class RNNCell(RNNCellBase):
    """One Elman RNN step, ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (``relu`` with
    ``nonlinearity="relu"``). ``forward(input, hx=None)``: input (N, input_size) or unbatched
    (input_size,), hx (N, hidden_size) or (hidden_size,), zeros by default; returns h'.
    An unknown nonlinearity is an error when the cell is built (PyTorch's is at the first
    call)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select "
                                "'tanh' or 'relu'")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    @property
    def step(self):
        return rnn_tanh_step if self.nonlinearity == "tanh" else rnn_relu_step

    def forward(self, input, hx=None):
        return self._run(input, hx, 1)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o stacked in that order in the weights).
    ``forward(input, hx=None)``: input (N, input_size) or (input_size,), ``hx`` a pair
    ``(h, c)`` of shape (N, hidden_size) or (hidden_size,), zeros by default; returns the
    pair ``(h', c')``."""

    step = staticmethod(lstm_step)

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, dtype=dtype)

    def forward(self, input, hx=None):
        return self._run(input, hx, 2)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n stacked in that order in the weights; r multiplies
    ``h W_hn^T + b_hn``). ``forward(input, hx=None)`` as :class:`RNNCell`'s; returns h'."""

    step = staticmethod(gru_step)

    def __init__(self, input_size, hidden_size, bias=True, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def forward(self, input, hx=None):
        return self._run(input, hx, 1)[0]
