"""Recurrent layers over whole sequences: ``RNN``, ``LSTM`` and ``GRU``, with PyTorch's
arguments (stacked layers, bidirectional, dropout between layers, ``batch_first``, LSTM
projections), parameter names and layouts, initialisation, input and output shapes, and
:class:`~wengert.nn.utils.rnn.PackedSequence` inputs.

Each layer and direction projects its whole input with one ``linear`` (one matmul for all
time steps), then runs the step of :mod:`wengert.nn.recurrent_cells` over time: per step one
matmul with ``weight_hh`` and the gates' element-wise ops. Backpropagation through time is
the engine's ordinary reverse pass over that composite.

A padded batch runs as a packed one whose steps all have the full batch, so there is one
code path: at step t the first ``batch_sizes[t]`` sequences are running (they are sorted
longest first). Going forward in time the batch can only shrink: the hidden states of the
sequences that ended are set aside as their final states. Going backward it can only grow:
a sequence joins, from its initial state, at its last step.
"""
import warnings
from functools import partial

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..ops.shape import concatenate, reshape, stack, swapaxes
from ..tensor import Tensor
from . import functional as F, init
from .layers import _param
from .module import Module
from .recurrent_cells import (as_tensor, check_dtype, check_size, gru_step, lstm_step,
                              rnn_relu_step, rnn_tanh_step)
from .utils.rnn import PackedSequence, _check_packed

_STEPS = {"RNN_TANH": rnn_tanh_step, "RNN_RELU": rnn_relu_step, "LSTM": lstm_step,
          "GRU": gru_step}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _run_direction(step, xw, batch_sizes, state, reverse):
    """Run ``step`` over the packed projections ``xw`` (rows grouped by time step, the
    first ``batch_sizes[t]`` sequences at step t) from the initial ``state`` (a tuple of
    (batch, *) tensors); returns the packed outputs (the first state at every step) and the
    final state of every sequence."""
    bounds = np.concatenate([[0], np.cumsum(batch_sizes)])
    # the engine adds the slices' gradients into one array (see wengert.sparse.SlicedGrad)
    steps = [xw[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
    outputs = [None] * len(steps)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    initial, ended = state, []
    rows = state[0].shape[0]
    if reverse and batch_sizes[-1] < rows:
        rows = batch_sizes[-1]
        state = tuple(s[:rows] for s in state)
    for t in order:
        b = batch_sizes[t]
        if b < rows:  # forward in time: sequences rows b.. ended at step t - 1
            ended.append(tuple(s[b:] for s in state))
            state = tuple(s[:b] for s in state)
        elif b > rows:  # backward in time: sequences rows.. start (at their last step)
            state = tuple(concatenate([s, s0[rows:b]]) for s, s0 in zip(state, initial))
        rows = b
        state = step(steps[t], state)
        outputs[t] = state[0]
    if ended:  # those that ended last are the longest, first in the batch
        state = tuple(concatenate(parts) for parts in zip(state, *reversed(ended)))
    return concatenate(outputs), state


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of ``num_layers`` layers (two directions
    each when ``bidirectional``) and the run over a sequence. ``mode`` is 'RNN_TANH',
    'RNN_RELU', 'LSTM' or 'GRU'.

    Parameters, per layer k and direction (suffix ``_reverse`` for the backward one), as
    PyTorch's and in its order: ``weight_ih_l{k}`` (gates * hidden_size, layer input),
    ``weight_hh_l{k}`` (gates * hidden_size, h size), ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (gates * hidden_size,) unless ``bias=False``, and for an LSTM with ``proj_size > 0``
    ``weight_hr_l{k}`` (proj_size, hidden_size). The layer input is ``input_size`` for layer
    0 and (1 or 2) * h size after; h size is ``proj_size`` if set, else ``hidden_size``. All
    start as U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 dtype=None):
        super().__init__()
        self.mode = mode
        name = self._name
        if mode not in _STEPS:
            raise ArgumentError(f"{name}: unknown mode {mode!r}; use one of {list(_STEPS)}")
        if (isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.number))
                or not 0 <= dropout <= 1):
            raise ArgumentError(f"{name}: dropout={dropout!r} must be a number in [0, 1], the "
                                "probability of zeroing an entry between layers")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        for flag, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise ArgumentError(f"{name}: {flag} must be a bool, got {value!r}")
        check_size(name, "input_size", input_size)
        check_size(name, "hidden_size", hidden_size)
        check_size(name, "num_layers", num_layers)
        check_size(name, "proj_size", proj_size, 0)
        if proj_size >= hidden_size:
            raise ArgumentError(f"{name}: proj_size={proj_size} must be smaller than "
                                f"hidden_size={hidden_size}")
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        gates = _GATES[mode] * hidden_size
        out_size = proj_size or hidden_size
        directions = 2 if bidirectional else 1
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for base, shape in shapes:
                    # Fortran order as Linear's: weight.T is C-contiguous for the GEMMs
                    setattr(self, base + suffix, _param(shape, dtype, order="F"))
                self._all_weights.append([base + suffix for base, _ in shapes])
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) values (from wengert's
        global generator) for every parameter."""
        bound = 1 / self.hidden_size ** 0.5
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    @property
    def all_weights(self):
        """The parameters as a list per layer and direction (``[weight_ih_l0, weight_hh_l0,
        bias_ih_l0, bias_hh_l0], ...``), as PyTorch's."""
        return [[self._parameters[n] for n in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Does nothing: PyTorch packs the weights into one cuDNN buffer here; wengert has no
        such buffer. Kept so that code written for PyTorch runs unchanged."""

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    @property
    def _name(self):
        return "RNN" if self.mode.startswith("RNN") else self.mode

    def _state_sizes(self):
        """The sizes of the states' last axis: (h,), or (h, c) for an LSTM."""
        h = self.proj_size or self.hidden_size
        return (h, self.hidden_size) if self.mode == "LSTM" else (h,)

    def forward(self, input, hx=None):
        """Run over ``input``: (L, N, input_size), (N, L, input_size) with ``batch_first``,
        unbatched (L, input_size), or a :class:`PackedSequence`. ``hx`` is h_0 (an LSTM's is
        the pair (h_0, c_0)) of shape (num_layers * directions, N, size), or without the N
        axis for an unbatched input; zeros by default. Returns ``(output, h_n)`` (an LSTM's
        ``(output, (h_n, c_n))``): output (L, N, directions * h size) in the input's layout
        (a PackedSequence for a packed input), h_n with h_0's shape, holding each
        sequence's state after its last step (for the backward direction, after step 0)."""
        name = self._name
        weight = self._parameters["weight_ih_l0"]
        packed = isinstance(input, PackedSequence)
        if packed:
            batch_sizes = _check_packed(name, input)
            data, sorted_indices = input.data, input.sorted_indices
            if data.ndim != 2:
                raise ShapeError(f"{name}: a packed input's data must be 2-D (rows, "
                                 f"input_size), got shape {data.shape}")
            batched, batch = True, int(batch_sizes[0])
        else:
            x = as_tensor(input)
            if x.ndim not in (2, 3):
                raise ShapeError(f"{name}: expected an input of shape (L, N, input_size) "
                                 "(batch_first: (N, L, input_size)) or unbatched (L, "
                                 f"input_size), got shape {x.shape}")
            batched, sorted_indices = x.ndim == 3, None
            if not batched:
                x = x[:, None]
            elif self.batch_first:
                x = swapaxes(x, axis1=0, axis2=1)
            steps, batch = x.shape[:2]
            data = x
        check_dtype(name, "the input", data, weight)
        if data.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: the input's last axis has {data.shape[-1]} entries but "
                             f"input_size={self.input_size} (input of shape {data.shape})")
        if not packed:
            if steps == 0:
                raise ShapeError(f"{name}: the input of shape {tuple(input.shape)} has no "
                                 "time steps; a sequence needs at least one")
            data = reshape(x, shape=(steps * batch, self.input_size))
            batch_sizes = np.full(steps, batch)
        states = self._initial_states(hx, batched, batch, data.dtype)
        if sorted_indices is not None:
            states = tuple(s[:, sorted_indices.data] for s in states)
        out, finals = self._layers(data, batch_sizes, states)
        if packed:
            if sorted_indices is not None:
                finals = tuple(s[:, input.unsorted_indices.data] for s in finals)
            out = PackedSequence(out, input.batch_sizes, sorted_indices, input.unsorted_indices)
        else:
            out = reshape(out, shape=(steps, batch, out.shape[-1]))
            if not batched:
                out, finals = out[:, 0], tuple(s[:, 0] for s in finals)
            elif self.batch_first:
                out = swapaxes(out, axis1=0, axis2=1)
        return out, (finals if self.mode == "LSTM" else finals[0])

    def _initial_states(self, hx, batched, batch, dtype):
        """h_0 (and c_0) as (num_layers * directions, batch, size) tensors: zeros, or ``hx``
        checked."""
        name = self._name
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes = self._state_sizes()
        if hx is None:
            return tuple(Tensor(np.zeros((layers, batch, n), dtype=dtype)) for n in sizes)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ArgumentError(f"LSTM: hx must be a pair (h_0, c_0) of tensors, got a "
                                    f"{type(hx).__name__}")
            states, names = tuple(as_tensor(h) for h in hx), ("h_0", "c_0")
        else:
            states, names = (as_tensor(hx),), ("h_0",)
        weight = self._parameters["weight_hh_l0"]
        checked = []
        for s, what, n in zip(states, names, sizes):
            expected = (layers, batch, n) if batched else (layers, n)
            if s.shape != expected:
                size = "hidden_size" if n == self.hidden_size else "proj_size"
                layout = (f"(num_layers * num_directions, batch, {size})" if batched else
                          f"(num_layers * num_directions, {size}) for an unbatched input")
                raise ShapeError(f"{name}: {what} of shape {s.shape} does not fit: it needs "
                                 f"shape {expected}, {layout}")
            check_dtype(name, what, s, weight)
            checked.append(s if batched else s[:, None])
        return tuple(checked)

    def _layers(self, data, batch_sizes, states):
        """Run every layer and direction over the packed ``data``; returns the last layer's
        packed output and the stacked final states."""
        directions = 2 if self.bidirectional else 1
        step = _STEPS[self.mode]
        p = self._parameters
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                weights = {"w_hh": p["weight_hh" + suffix], "b_hh": p.get("bias_hh" + suffix)}
                if self.proj_size:
                    weights["w_hr"] = p["weight_hr" + suffix]
                xw = F.linear(data, p["weight_ih" + suffix], p.get("bias_ih" + suffix))
                out, final = _run_direction(partial(step, **weights), xw, batch_sizes,
                                            tuple(s[k] for s in states), reverse=direction == 1)
                outputs.append(out)
                finals.append(final)
            data = outputs[0] if directions == 1 else concatenate(outputs, axis=1)
            if self.training and self.dropout and layer < self.num_layers - 1:
                data = F.dropout(data, self.dropout, True)
        return data, tuple(stack(parts) for parts in zip(*finals))


class RNN(RNNBase):
    """An Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (relu with
    ``nonlinearity="relu"``), over ``num_layers`` stacked layers. Arguments, parameters,
    shapes and packed inputs as PyTorch's (see :class:`RNNBase` and :meth:`RNNBase.forward`);
    ``dtype`` defaults to float32."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ArgumentError(f"RNN: unknown nonlinearity {nonlinearity!r}; select 'tanh' "
                                "or 'relu'")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A long short-term memory network over ``num_layers`` stacked layers (gates i, f, g, o
    stacked in that order in the weights). With ``proj_size > 0`` each h is projected by
    ``weight_hr_l{k}`` to proj_size entries (the output's and h_n's size; c_n keeps
    hidden_size). ``forward(input, hx=None)`` takes ``hx = (h_0, c_0)`` and returns
    ``(output, (h_n, c_n))``; see :class:`RNNBase`."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, dtype=dtype)


class GRU(RNNBase):
    """A gated recurrent unit network over ``num_layers`` stacked layers (gates r, z, n
    stacked in that order in the weights; r multiplies ``h W_hn^T + b_hn``, as PyTorch's).
    See :class:`RNNBase`."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype)
