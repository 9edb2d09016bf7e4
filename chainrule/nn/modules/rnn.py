"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, batch_first, dropout between
layers, PackedSequence input) and the single-step RNNCell, LSTMCell, GRUCell. Parameters
follow torch's names and layouts (weight_ih_l0, weight_hh_l0_reverse, ...; LSTM gates in the
order i, f, g, o; GRU gates r, z, n)."""
import math
import numbers
import warnings

from ..._device import check_device
from ... import ops as _ops
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_sigmoid = _ops.elementwise.sigmoid
_tanh = _ops.elementwise.tanh
_relu = _ops.elementwise.relu


def _cr():
    import chainrule
    return chainrule


def _gates(g, n, size):
    """Split the last dim of g into n gate blocks of width size."""
    return [g[..., k * size:(k + 1) * size] for k in range(n)]


# -- one time step of each cell type (gi: input projection incl. b_ih, h/c: state) --------
def _rnn_tanh_step(gi, h, w_hh, b_hh, hidden):
    return _tanh(gi + F.linear(h, w_hh, b_hh))


def _rnn_relu_step(gi, h, w_hh, b_hh, hidden):
    return _relu(gi + F.linear(h, w_hh, b_hh))


def _gru_step(gi, h, w_hh, b_hh, hidden):
    gh = F.linear(h, w_hh, b_hh)
    i_r, i_z, i_n = _gates(gi, 3, hidden)
    h_r, h_z, h_n = _gates(gh, 3, hidden)
    r = _sigmoid(i_r + h_r)
    z = _sigmoid(i_z + h_z)
    n = _tanh(i_n + r * h_n)
    return n + z * (h - n)


def _lstm_step(gi, state, w_hh, b_hh, hidden, w_hr=None):
    h, c = state
    g = gi + F.linear(h, w_hh, b_hh)
    i, f, gg, o = _gates(g, 4, hidden)
    c = _sigmoid(f) * c + _sigmoid(i) * _tanh(gg)
    h = _sigmoid(o) * _tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _take_rows(state, b):
    if isinstance(state, tuple):
        return tuple(s[:b] for s in state)
    return state[:b]


def _merge_rows(new, old, b):
    """Rows [0, b) from new, the rest from old (sequences that are not running)."""
    cr = _cr()
    if isinstance(new, tuple):
        return tuple(_merge_rows(n, o, b) for n, o in zip(new, old))
    if b == old.shape[0]:
        return new
    return cr.cat([new, old[b:]], 0)


def _out_of(state):
    return state[0] if isinstance(state, tuple) else state


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (parameters, checks, the layer loop).

    >>> import chainrule
    >>> isinstance(chainrule.nn.GRU(2, 3), chainrule.nn.RNNBase)
    True
    """
    _mode_gates = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
                 dtype=None):
        super().__init__()
        check_device(device)
        cr = _cr()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout) if isinstance(dropout, numbers.Number) else dropout
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or
                not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: "
                            f"{type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in self._mode_gates:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size = self._mode_gates[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        real_hidden = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                in_size = input_size if layer == 0 else real_hidden * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, in_size)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for base, shape in shapes:
                    name = f"{base}_l{layer}{suffix}"
                    setattr(self, name, Parameter(cr.empty(*shape, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    def flatten_parameters(self):
        """A no-op (cuDNN weight packing has no NumPy counterpart)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

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

    # -- checks -----------------------------------------------------------------------------
    def check_input(self, input, batch_sizes):
        wdt = getattr(self, self._flat_weights_names[0]).dtype
        if input.dtype != wdt and not _cr().is_autocast_enabled():
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({wdt}). Convert input: input.to({wdt}), or convert model: "
                             f"model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    @staticmethod
    def check_hidden_size(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    @staticmethod
    def permute_hidden(hx, permutation):
        if permutation is None:
            return hx
        return hx[:, permutation]

    # -- the computation --------------------------------------------------------------------
    def _step_fn(self):
        return {"RNN_TANH": _rnn_tanh_step, "RNN_RELU": _rnn_relu_step,
                "GRU": _gru_step, "LSTM": _lstm_step}[self.mode]

    def _run_direction(self, steps_in, sizes, state, params, reverse):
        """Run one direction of one layer over per-step input projections; returns the
        per-step outputs and the final state."""
        step = self._step_fn()
        w_hh = params["weight_hh"]
        b_hh = params.get("bias_hh")
        extra = (params["weight_hr"],) if "weight_hr" in params else ()
        outs = [None] * len(sizes)
        order = range(len(sizes) - 1, -1, -1) if reverse else range(len(sizes))
        for t in order:
            b = sizes[t]
            cur = _take_rows(state, b) if b != sizes[0] else state
            new = step(steps_in[t], cur, w_hh, b_hh, self.hidden_size, *extra)
            outs[t] = _out_of(new)
            state = _merge_rows(new, state, b) if b != sizes[0] else new
        return outs, state

    def _run(self, x, sizes, hx, packed):
        """x: (T, B, F) padded or (N, F) packed data; hx: (L*D, B, H) or an (h, c) pair.
        Returns (output in x's layout, final h or (h, c))."""
        cr = _cr()
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        h_final, c_final = [], []
        offsets = [0]
        for b in sizes:
            offsets.append(offsets[-1] + b)
        for layer in range(self.num_layers):
            dir_outs = []
            for d in range(D):
                suffix = f"_l{layer}" + ("_reverse" if d == 1 else "")
                params = {}
                for base in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"):
                    if hasattr(self, base + suffix):
                        params[base] = getattr(self, base + suffix)
                proj = F.linear(x, params["weight_ih"], params.get("bias_ih"))
                if packed:
                    steps_in = [proj[offsets[t]:offsets[t + 1]] for t in range(len(sizes))]
                else:
                    steps_in = [proj[t] for t in range(len(sizes))]
                k = layer * D + d
                state = (hx[0][k], hx[1][k]) if lstm else hx[k]
                outs, state = self._run_direction(steps_in, sizes, state, params, d == 1)
                if lstm:
                    h_final.append(state[0])
                    c_final.append(state[1])
                else:
                    h_final.append(state)
                dir_outs.append(cr.cat(outs, 0) if packed else cr.stack(outs, 0))
            x = dir_outs[0] if D == 1 else cr.cat(dir_outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        h = cr.stack(h_final, 0)
        return x, ((h, cr.stack(c_final, 0)) if lstm else h)

    def _prepare(self, input, hx):
        """Normalise the input (packed, batched, unbatched) to time-major form."""
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            sizes = [int(b) for b in batch_sizes.tolist()]
            return data, sizes, batch_sizes, sorted_indices, unsorted_indices, True
        name = type(self).__name__
        if input.dim() not in (2, 3):
            word = " tensor" if name == "RNN" else ""
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D"
                             f"{word} instead")
        return input, None, None, None, None, input.dim() == 3

    def _forward_impl(self, input, hx):
        cr = _cr()
        lstm = self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        x, sizes, batch_sizes, sorted_idx, unsorted_idx, batched = self._prepare(input, hx)
        if not packed:
            if not batched:
                x = x.unsqueeze(1)
                if hx is not None:
                    if lstm:
                        if hx[0].dim() != 2 or hx[1].dim() != 2:
                            raise RuntimeError("For unbatched 2-D input, hx and cx should also "
                                               f"be 2-D but got ({hx[0].dim()}-D, "
                                               f"{hx[1].dim()}-D) tensors")
                        hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                    else:
                        if hx.dim() != 2:
                            raise RuntimeError("For unbatched 2-D input, hx should also be 2-D "
                                               f"but got {hx.dim()}-D tensor")
                        hx = hx.unsqueeze(1)
            else:
                if self.batch_first:
                    x = x.transpose(0, 1)
                if hx is not None:
                    if lstm:
                        if hx[0].dim() != 3 or hx[1].dim() != 3:
                            raise RuntimeError("For batched 3-D input, hx and cx should also be "
                                               f"3-D but got ({hx[0].dim()}-D, "
                                               f"{hx[1].dim()}-D) tensors")
                    elif hx.dim() != 3:
                        raise RuntimeError("For batched 3-D input, hx should also be 3-D but "
                                           f"got {hx.dim()}-D tensor")
            sizes = [x.shape[1]] * x.shape[0]
        D = 2 if self.bidirectional else 1
        B = sizes[0] if sizes else x.shape[1]
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        if hx is None:
            h0 = cr.zeros(self.num_layers * D, B, real_hidden, dtype=x.dtype)
            hx = (h0, cr.zeros(self.num_layers * D, B, self.hidden_size, dtype=x.dtype)) \
                if lstm else h0
        elif sorted_idx is not None:
            hx = tuple(self.permute_hidden(h, sorted_idx) for h in hx) if lstm else \
                self.permute_hidden(hx, sorted_idx)
        check_in = x if packed else x.transpose(0, 1) if self.batch_first else x
        self.check_input(check_in, batch_sizes)
        expected = self.get_expected_hidden_size(check_in, batch_sizes)
        if lstm:
            self.check_hidden_size(hx[0], expected, "Expected hidden[0] size {}, got {}")
            c_exp = expected[:2] + (self.hidden_size,)
            self.check_hidden_size(hx[1], c_exp, "Expected hidden[1] size {}, got {}")
        else:
            self.check_hidden_size(hx, expected)
        if not sizes:
            raise RuntimeError(f"{type(self).__name__}: the input has no time steps")
        out, hidden = self._run(x, sizes, hx, packed)
        if packed:
            output = PackedSequence(out, batch_sizes, sorted_idx, unsorted_idx)
            if lstm:
                hidden = tuple(self.permute_hidden(h, unsorted_idx) for h in hidden)
            else:
                hidden = self.permute_hidden(hidden, unsorted_idx)
            return output, hidden
        if not batched:
            out = out.squeeze(1)
            hidden = tuple(h.squeeze(1) for h in hidden) if lstm else hidden.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, hidden

    def forward(self, input, hx=None):
        return self._forward_impl(input, hx)


def _split_nonlinearity(args, kwargs):
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if len(args) > 3:
        nonlinearity = args[3]
        args = args[:3] + args[4:]
    else:
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
    return nonlinearity, args


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked
    num_layers deep, optionally bidirectional. Input (T, B, F) (B, T, F with batch_first),
    (T, F) unbatched, or a PackedSequence; returns (output, h_n).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)

    >>> import chainrule
    >>> rnn = chainrule.nn.RNN(4, 8, num_layers=2, batch_first=True)
    >>> out, h = rnn(chainrule.randn(3, 5, 4))
    >>> out.shape, h.shape
    (chainrule.Size([3, 5, 8]), chainrule.Size([2, 3, 8]))
    """

    def __init__(self, *args, **kwargs):
        self.nonlinearity, args = _split_nonlinearity(args, kwargs)
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o from x_t and h_{t-1}; c_t = f*c + i*g,
    h_t = o*tanh(c_t) (projected by weight_hr when proj_size > 0). Returns
    (output, (h_n, c_n)).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)

    >>> import chainrule
    >>> lstm = chainrule.nn.LSTM(4, 8, bidirectional=True)
    >>> out, (h, c) = lstm(chainrule.randn(5, 3, 4))
    >>> out.shape, h.shape, c.shape
    (chainrule.Size([5, 3, 16]), chainrule.Size([2, 3, 8]), chainrule.Size([2, 3, 8]))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit: r, z gates and candidate n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)); h_t = (1 - z) * n + z * h_{t-1}. Returns (output, h_n).

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)

    >>> import chainrule
    >>> gru = chainrule.nn.GRU(4, 8)
    >>> out, h = gru(chainrule.randn(5, 4))   # unbatched (T, F)
    >>> out.shape, h.shape
    (chainrule.Size([5, 8]), chainrule.Size([1, 8]))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """Shared parameters of the single-step cells.

    >>> import chainrule
    >>> [n for n, _ in chainrule.nn.GRUCell(2, 3).named_parameters()]
    ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        check_device(device)
        cr = _cr()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(cr.empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(cr.empty(num_chunks * hidden_size, hidden_size,
                                            dtype=dtype))
        if bias:
            self.bias_ih = Parameter(cr.empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(cr.empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.__dict__.get("bias", True) is not True:
            s += f", bias={self.bias}"
        if self.__dict__.get("nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _batched(self, input, hx, name):
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D "
                             "instead")
        return input.dim() == 2

    def _zeros(self, input):
        return _cr().zeros(input.size(0), self.hidden_size, dtype=input.dtype)

    def _check_sizes(self, input, hiddens):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} "
                               f"expected {self.input_size}")
        for k, h in enumerate(hiddens):
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match "
                                   f"hidden{k} batch size {h.size(0)}")
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, "
                                   f"expected {self.hidden_size}")


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    >>> import chainrule
    >>> cell = chainrule.nn.RNNCell(4, 3)
    >>> cell(chainrule.randn(2, 4)).shape
    chainrule.Size([2, 3])
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        batched = self._batched(input, hx, "RNNCell")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                             "instead")
        if not batched:
            input = input.unsqueeze(0)
        hx = self._zeros(input) if hx is None else (hx if batched else hx.unsqueeze(0))
        self._check_sizes(input, (hx,))
        if self.nonlinearity == "tanh":
            step = _rnn_tanh_step
        elif self.nonlinearity == "relu":
            step = _rnn_relu_step
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        h = step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh,
                 self.bias_hh, self.hidden_size)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c').

    >>> import chainrule
    >>> cell = chainrule.nn.LSTMCell(4, 3)
    >>> h, c = cell(chainrule.randn(2, 4)); h.shape, c.shape
    (chainrule.Size([2, 3]), chainrule.Size([2, 3]))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        batched = self._batched(input, hx, "LSTMCell")
        if hx is not None:
            for k in (0, 1):
                if hx[k].dim() not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{k}] to be 1D or 2D, got "
                                     f"{hx[k].dim()}D instead")
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            z = self._zeros(input)
            hx = (z, z)
        elif not batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        self._check_sizes(input, hx)
        h, c = _lstm_step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh,
                          self.bias_hh, self.hidden_size)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step.

    >>> import chainrule
    >>> chainrule.nn.GRUCell(4, 3)(chainrule.randn(4)).shape
    chainrule.Size([3])
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):
        batched = self._batched(input, hx, "GRUCell")
        if hx is not None and hx.dim() not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.dim()}D "
                             "instead")
        if not batched:
            input = input.unsqueeze(0)
        hx = self._zeros(input) if hx is None else (hx if batched else hx.unsqueeze(0))
        self._check_sizes(input, (hx,))
        h = _gru_step(F.linear(input, self.weight_ih, self.bias_ih), hx, self.weight_hh,
                      self.bias_hh, self.hidden_size)
        return h if batched else h.squeeze(0)
