"""Variable-length sequences: padding (pad_sequence) and packing (PackedSequence)."""
from collections import namedtuple

from ..._tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpack_sequence", "invert_permutation"]


def _cr():
    import chainrule
    return chainrule


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None).

    >>> import chainrule
    >>> chainrule.nn.utils.rnn.invert_permutation(chainrule.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    perm = [int(i) for i in permutation.tolist()]
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return _cr().tensor(inv, dtype=_cr().int64)


class PackedSequence(namedtuple("PackedSequence_",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of variable-length sequences packed time step by time step: ``data`` holds
    the rows of step 0 for every sequence, then step 1 for those still running, ...;
    ``batch_sizes[t]`` is how many sequences run at step t. Made by pack_padded_sequence.

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import pack_sequence
    >>> p = pack_sequence([chainrule.tensor([1.0, 2.0, 3.0]), chainrule.tensor([4.0])])
    >>> p.data, p.batch_sizes
    (tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise TypeError("PackedSequence expects batch_sizes")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        return self._with_data(self.data.cuda(*args, **kwargs))

    def double(self):
        return self.to(_cr().float64)

    def float(self):
        return self.to(_cr().float32)

    def half(self):
        return self.to(_cr().float16)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T x B x * , or B x T x * with batch_first) of sequences whose
    true lengths are given. With enforce_sorted=False the batch may be in any order.

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import pack_padded_sequence
    >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 0.0]])   # B=2, T=2 (batch_first)
    >>> pack_padded_sequence(x, [2, 1], batch_first=True).data
    tensor([1., 3., 2.])
    """
    cr = _cr()
    lens = _lengths_list(lengths)
    if batch_first:
        input = input.transpose(0, 1)
    if len(lens) != input.shape[1]:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lens)} (batch_size={input.shape[1]})")
    if any(n <= 0 for n in lens):
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lens)), key=lambda i: -lens[i])
        sorted_indices = cr.tensor(order, dtype=cr.int64)
        input = input[:, sorted_indices]
        lens = [lens[i] for i in order]
    if lens[0] > input.shape[0]:
        raise RuntimeError(f"Expected the longest length {lens[0]} to be at most the padded "
                           f"length {input.shape[0]}")
    sizes = [sum(1 for n in lens if n > t) for t in range(lens[0])]
    data = cr.cat([input[t, :b] for t, b in enumerate(sizes)])
    return PackedSequence(data, cr.tensor(sizes, dtype=cr.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a PackedSequence into a padded tensor; returns (padded, lengths).

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> p = pack_sequence([chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0])])
    >>> pad_packed_sequence(p, batch_first=True)
    (tensor([[1., 2.],
            [3., 0.]]), tensor([2, 1]))
    """
    cr = _cr()
    sizes = [int(b) for b in sequence.batch_sizes.tolist()]
    data = sequence.data
    T, B = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {T}")
        T = total_length
    out = cr.full((T, B) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    pos = 0
    for t, b in enumerate(sizes):
        out[t, :b] = data[pos:pos + b]
        pos += b
    lengths = [sum(1 for s in sizes if s > i) for i in range(B)]
    if sequence.unsorted_indices is not None:
        out = out[:, sequence.unsorted_indices]
        lengths = [lengths[int(i)] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        out = out.transpose(0, 1)
    return out, cr.tensor(lengths, dtype=cr.int64)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length tensors (L_i x *) into one L_max x B x * tensor (B x L_max x *
    with batch_first), filling with padding_value on the padding_side.

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import pad_sequence
    >>> pad_sequence([chainrule.ones(2), chainrule.ones(1)], batch_first=True)
    tensor([[1., 1.],
            [1., 0.]])
    >>> pad_sequence([chainrule.ones(2), chainrule.ones(1)], True, padding_side="left")
    tensor([[1., 1.],
            [0., 1.]])
    """
    cr = _cr()
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = [sequences[i] for i in range(sequences.shape[0])]
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"The size of tensor a ({trailing}) must match the size of "
                               f"tensor b ({tuple(s.shape[1:])}) at non-singleton dimension 1")
    T = max(s.shape[0] for s in sequences)
    dtype = sequences[0].dtype
    out = cr.full((len(sequences), T) + trailing, padding_value, dtype=dtype)
    for i, s in enumerate(sequences):
        n = s.shape[0]
        if padding_side == "right":
            out[i, :n] = s
        else:
            out[i, T - n:] = s
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of tensors of the given lengths.

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import unpad_sequence
    >>> unpad_sequence(chainrule.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], batch_first=True)
    [tensor([1., 2.]), tensor([3.])]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :n] for i, n in enumerate(_lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (pad_sequence then pack_padded_sequence).

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import pack_sequence
    >>> pack_sequence([chainrule.ones(1), chainrule.ones(2)], enforce_sorted=False).batch_sizes
    tensor([2, 1])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of tensors a PackedSequence was made from.

    >>> import chainrule
    >>> from chainrule.nn.utils.rnn import pack_sequence, unpack_sequence
    >>> unpack_sequence(pack_sequence([chainrule.ones(2), chainrule.zeros(1)]))
    [tensor([1., 1.]), tensor([0.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
