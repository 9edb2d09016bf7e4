"""Top-level names torch has that forward to what chainrule already implements: tensor helpers
(detach, asarray, frombuffer, empty_strided, ...), the ``*_copy`` variants of view ops, the
top-level spellings of nn.functional ops (with torch's top-level signatures) and the top-level
in-place ops (``chainrule.exp_(t)`` is ``t.exp_()``)."""
import sys
import warnings

import numpy as np

from . import _runtime
from . import dtypes as _dt
from ._device import check_device
from ._tensor import Tensor
from .autograd.grad_mode import no_grad
from .creation import tensor as _tensor
from .func import vmap
from .nn import functional as F
from .ops import shape as S
from .ops.index import getitem as _getitem

__all__ = ["detach", "detach_", "scalar_tensor", "asarray", "frombuffer", "empty_strided",
           "is_complex", "is_nonzero", "is_same_size", "isreal", "split_with_sizes",
           "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes", "typename", "adjoint",
           "fill", "vmap",
           "alias_copy", "detach_copy", "diagonal_copy", "expand_copy", "narrow_copy",
           "permute_copy", "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy",
           "squeeze_copy", "t_copy", "transpose_copy", "unbind_copy", "unsqueeze_copy",
           "view_copy",
           "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "convolution", "embedding", "max_pool1d", "max_pool2d",
           "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle", "bilinear", "constant_pad_nd", "ctc_loss",
           "native_layer_norm", "native_batch_norm", "native_group_norm", "native_dropout",
           "embedding_renorm_"]

_make = Tensor._make


def _need_tensor(x, op, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _type_name(d):
    return Tensor._TYPE_NAMES[d.name][:-len("Tensor")]


def _ints(size, op, arg="size", pos=1):
    """A shape given as ints or one sequence of ints (torch's IntArrayRef arguments)."""
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = size[0]
        if isinstance(size, Tensor):
            size = size.tolist()
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be tuple of ints, "
                            f"not {type(size).__name__}")
    out = []
    for k, s in enumerate(size):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be tuple of ints, "
                            f"but found element of type {type(s).__name__} at pos {k}")
        out.append(int(s))
    return tuple(out)


def _check_sizes(shape):
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(shape)}")


def _finish(arr, requires_grad):
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


# -- tensor helpers ---------------------------------------------------------------------------
def detach(input):
    """A tensor sharing ``input``'s memory with no graph history (``input.detach()``).

    >>> import chainrule
    >>> chainrule.detach(chainrule.ones(2, requires_grad=True) * 2)
    tensor([2., 2.])
    """
    _need_tensor(input, "detach")
    return input.detach()


def detach_(input):
    """Cut ``input`` from its graph in place (``input.detach_()``).

    >>> import chainrule
    >>> y = chainrule.ones(2, requires_grad=True) * 2
    >>> chainrule.detach_(y).requires_grad
    False
    """
    _need_tensor(input, "detach_")
    return input.detach_()


def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A 0-d tensor holding the number ``s`` (default floating dtype unless ``dtype``).

    >>> import chainrule
    >>> chainrule.scalar_tensor(3)
    tensor(3.)
    """
    check_device(device)
    if isinstance(s, Tensor):
        s = s.item()
    if not isinstance(s, (bool, int, float, np.number, np.bool_)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    d = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    return _finish(np.array(s, d.np), requires_grad)


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """An uninitialised tensor with the given strides (in elements) over fresh memory; NaN
    filled under ``use_deterministic_algorithms(True)``, as torch.

    >>> import chainrule
    >>> chainrule.empty_strided((2, 3), (1, 2)).stride()
    (1, 2)
    """
    check_device(device)
    d = _dt.to_dtype(dtype) or _dt.get_default_dtype()
    return _strided(_ints((size,), "empty_strided"), _ints((stride,), "empty_strided",
                                                           "stride", 2), d, requires_grad)


def _strided(shape, stride, d, requires_grad):
    if len(shape) != len(stride):
        raise RuntimeError(f"dimensionality of sizes ({len(shape)}) must match dimensionality "
                           f"of strides ({len(stride)})")
    _check_sizes(shape)
    if any(s < 0 for s in stride):
        raise RuntimeError(f"empty_strided: strides must be non-negative, got sizes="
                           f"{list(shape)} and strides={list(stride)}")
    n = 0 if 0 in shape else 1 + sum((s - 1) * st for s, st in zip(shape, stride))
    buf = _runtime._fill_uninitialized(np.empty(n, d.np))
    overlap = any(s > 1 and st == 0 for s, st in zip(shape, stride))
    arr = np.lib.stride_tricks.as_strided(buf, shape, tuple(st * buf.itemsize for st in stride),
                                          writeable=not overlap)
    return _finish(arr, requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """``obj`` as a tensor, sharing memory when it can (torch.asarray).

    A tensor or NumPy array is shared unless ``dtype`` differs or ``copy=True`` (``copy=False``
    with another dtype raises); an object with the buffer protocol (bytes, bytearray) is read
    as ``dtype`` (default float dtype) in place; numbers and sequences are copied as
    ``tensor()`` would. ``requires_grad`` None keeps a tensor's flag; a value sets it (on a
    shared leaf that is the leaf itself, as torch) or detaches a tensor with history.

    >>> import chainrule, numpy as np
    >>> a = np.zeros(2); t = chainrule.asarray(a); a[0] = 5; t
    tensor([5., 0.], dtype=chainrule.float64)
    >>> chainrule.asarray([1, 2], dtype=chainrule.float32)
    tensor([1., 2.])
    """
    check_device(device)
    d = _dt.to_dtype(dtype)
    if isinstance(obj, Tensor) or isinstance(obj, np.ndarray):
        src = obj._data if isinstance(obj, Tensor) else obj
        if not isinstance(obj, Tensor):
            _dt.from_numpy_dtype(src.dtype)
        wrong = d is not None and d.np != src.dtype
        if copy is False and wrong:
            raise ValueError(f"can't alias tensor with dtype "
                             f"'{_type_name(_dt.from_numpy_dtype(src.dtype))}' into dtype "
                             f"'{_type_name(d)}'.")
        need = wrong if copy is None else copy
        if not isinstance(obj, Tensor) and src.ndim == 0:
            need = True         # a 0-d array is read as a scalar (torch copies it)
        if isinstance(obj, Tensor):
            t = obj.to(d or obj.dtype, copy=True) if need else obj
        else:
            t = _make(np.array(src, dtype=(d.np if d else None))) if need else _make(src)
    elif isinstance(obj, np.generic):
        if copy is False:
            raise ValueError("can't alias NumPy scalars. Either remove copy=False or transform "
                             "it in a ndarray.")
        t = _make(np.array(obj, dtype=d.np if d else None))
        _dt.from_numpy_dtype(t._data.dtype)
    elif not isinstance(obj, (str, list, tuple)) and _has_buffer(obj):
        t = frombuffer(obj, dtype=d or _dt.get_default_dtype())
        if copy:
            t = _make(t._data.copy())
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        if isinstance(obj, str):
            raise TypeError("new(): invalid data type 'str'")
        t = _tensor(obj, dtype=d)
    if requires_grad is not None and t._rg != bool(requires_grad):
        if t.grad_fn is not None:
            t = t.detach()
        else:
            t.requires_grad_(bool(requires_grad))
    return t


def _has_buffer(obj):
    try:
        memoryview(obj)
    except TypeError:
        return False
    return True


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the memory of an object with the buffer protocol (bytearray,
    array.array, mmap...): ``count`` items of ``dtype`` from byte ``offset`` (all when -1).
    Writes go to the buffer. A read-only buffer (bytes) gives a tensor that in-place ops
    cannot write (torch writes into it anyway, and warns).

    >>> import chainrule
    >>> b = bytearray(8); t = chainrule.frombuffer(b, dtype=chainrule.int32)
    >>> t[1] = 7; b[4]
    7
    """
    try:
        nbytes = memoryview(buffer).nbytes
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    d = _dt.to_dtype(dtype)
    size = d.np.itemsize
    if nbytes == 0 or count == 0:
        raise ValueError(f"both buffer length ({nbytes}) and count ({count}) must not be 0")
    if not 0 <= offset < nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1")
    if count < 0:
        if (nbytes - offset) % size:
            raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({size})")
        count = (nbytes - offset) // size
    elif offset + count * size > nbytes:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset "
                         f"({offset} bytes) must not be greater than actual buffer length "
                         f"({nbytes} bytes)")
    arr = np.frombuffer(buffer, dtype=d.np, count=count, offset=offset)
    if not arr.flags.writeable:
        warnings.warn("frombuffer: the buffer is read-only, so in-place operations on this "
                      "tensor will fail; copy it into a bytearray to write.", UserWarning,
                      stacklevel=2)
    return _finish(arr, requires_grad)


def is_complex(input):
    """False: chainrule has no complex dtypes.

    >>> import chainrule
    >>> chainrule.is_complex(chainrule.ones(1))
    False
    """
    _need_tensor(input, "is_complex")
    return input.is_complex()


def is_nonzero(input):
    """Whether a one-element tensor is non-zero (RuntimeError for any other size).

    >>> import chainrule
    >>> chainrule.is_nonzero(chainrule.tensor([0.5]))
    True
    """
    _need_tensor(input, "is_nonzero")
    n = input._data.size
    if n != 1:
        raise RuntimeError("Boolean value of Tensor with " +
                           ("no values" if n == 0 else "more than one value") +
                           " is ambiguous")
    return bool(input._data.reshape(()))


def is_same_size(input, other):
    """Whether two tensors have the same shape.

    >>> import chainrule
    >>> chainrule.is_same_size(chainrule.ones(2, 3), chainrule.zeros(2, 3))
    True
    """
    _need_tensor(input, "is_same_size")
    _need_tensor(other, "is_same_size", "other", 2)
    return input._data.shape == other._data.shape


def isreal(input):
    """Elementwise: is the value real? Always True (chainrule has no complex dtypes).

    >>> import chainrule
    >>> chainrule.isreal(chainrule.tensor([1.0, 2.0]))
    tensor([True, True])
    """
    _need_tensor(input, "isreal")
    return _make(np.ones(input._data.shape, bool))


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the listed sizes (views), which must sum to the dim's size.

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.split_with_sizes(chainrule.arange(5), [2, 3])]
    [[0, 1], [2, 3, 4]]
    """
    _need_tensor(input, "split_with_sizes")
    if isinstance(split_sizes, (int, np.integer)):
        raise TypeError(f"split_with_sizes(): argument 'split_sizes' (position 2) must be tuple "
                        f"of ints, not {type(split_sizes).__name__}")
    sizes = _ints((split_sizes,), "split_with_sizes", "split_sizes", 2)
    return S.split(input, list(sizes), dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes`` (torch's unsafe variant skips view tracking; chainrule's pieces
    are tracked views, which is always safe).

    >>> import chainrule
    >>> len(chainrule.unsafe_split_with_sizes(chainrule.arange(5), [1, 4]))
    2
    """
    return split_with_sizes(input, split_sizes, dim)


def unsafe_split(tensor, split_size, dim=0):
    """``split`` with an int size (chainrule's pieces are tracked views, always safe).

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.unsafe_split(chainrule.arange(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    _need_tensor(tensor, "unsafe_split", "self")
    if isinstance(split_size, bool) or not isinstance(split_size, (int, np.integer)):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    return S.split(tensor, int(split_size), dim)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (chainrule's pieces are tracked views, always safe).

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.unsafe_chunk(chainrule.arange(4), 2)]
    [[0, 1], [2, 3]]
    """
    return S.chunk(input, chunks, dim)


def typename(obj):
    """A type name: ``chainrule.FloatTensor``-style for tensors, else module.qualname
    (builtins without module).

    >>> import chainrule
    >>> chainrule.typename(chainrule.ones(1)), chainrule.typename(3)
    ('chainrule.FloatTensor', 'int')
    """
    if isinstance(obj, Tensor):
        return obj.type()
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    module = getattr(obj, "__module__", "") or ""
    if name is None:         # an instance: name its class
        name, module = type(obj).__qualname__, type(obj).__module__ or ""
    return name if module in ("", "builtins") else f"{module}.{name}"


def adjoint(input):
    """The conjugate transpose of the last two dims (a view; real dtypes: the transpose).

    >>> import chainrule
    >>> chainrule.adjoint(chainrule.zeros(2, 3)).shape
    chainrule.Size([3, 2])
    """
    _need_tensor(input, "adjoint")
    if input._data.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input._data.ndim}-D tensor.")
    return S.transpose(input, -2, -1)


def fill(input, value):
    """A new tensor shaped like ``input`` filled with ``value`` (a number, cast to input's
    dtype, or a 0-d tensor, which receives the gradient).

    >>> import chainrule
    >>> chainrule.fill(chainrule.zeros(2), 3)
    tensor([3., 3.])
    """
    _need_tensor(input, "fill")
    from .ops.elementwise import where
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        value = value.to(input.dtype)
    else:
        value = _make(np.array(value, input._data.dtype))
    # where keeps the graph of both: input gets a zero gradient and value the sum
    return where(_make(np.ones((), bool)), value, input)


# -- *_copy: view ops returning fresh memory ----------------------------------------------------
def alias_copy(input):
    """A copy of ``input`` (the copying form of an alias).

    >>> import chainrule
    >>> chainrule.alias_copy(chainrule.tensor([1, 2]))
    tensor([1, 2])
    """
    _need_tensor(input, "alias_copy")
    return S.clone(input)


def detach_copy(input):
    """A detached copy of ``input``.

    >>> import chainrule
    >>> chainrule.detach_copy(chainrule.ones(1, requires_grad=True)).requires_grad
    False
    """
    _need_tensor(input, "detach_copy")
    return _make(input._data.copy())


def diagonal_copy(input, offset=0, dim1=0, dim2=1):
    """``diagonal`` in fresh memory.

    >>> import chainrule
    >>> chainrule.diagonal_copy(chainrule.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    return S.clone(S.diagonal(input, offset, dim1, dim2))


def expand_copy(input, size, *, implicit=False):
    """``expand`` in fresh memory.

    >>> import chainrule
    >>> chainrule.expand_copy(chainrule.tensor([[1], [2]]), [2, 2])
    tensor([[1, 1],
            [2, 2]])
    """
    _need_tensor(input, "expand_copy")
    return S.clone(S.expand(input, _ints((size,), "expand_copy", "size", 2)))


def narrow_copy(input, dim, start, length):
    """``narrow`` in fresh memory.

    >>> import chainrule
    >>> chainrule.narrow_copy(chainrule.arange(5), 0, 1, 2)
    tensor([1, 2])
    """
    return S.clone(S.narrow(input, dim, start, length))


def permute_copy(input, dims):
    """``permute`` in fresh memory.

    >>> import chainrule
    >>> chainrule.permute_copy(chainrule.zeros(2, 3), (1, 0)).shape
    chainrule.Size([3, 2])
    """
    _need_tensor(input, "permute_copy")
    return S.clone(S.permute(input, _ints((dims,), "permute_copy", "dims", 2)))


def select_copy(input, dim, index):
    """``select`` in fresh memory.

    >>> import chainrule
    >>> chainrule.select_copy(chainrule.tensor([[1, 2], [3, 4]]), 1, 0)
    tensor([1, 3])
    """
    return S.clone(S.select(input, dim, index))


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step, ...]`` along ``dim``, in fresh memory.

    >>> import chainrule
    >>> chainrule.slice_copy(chainrule.arange(5), 0, 1, None, 2)
    tensor([1, 3])
    """
    _need_tensor(input, "slice_copy")
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    from ._tensor import _wrap_dim
    d = _wrap_dim(dim, input._data.ndim, "slice_copy")
    return S.clone(_getitem(input, (slice(None),) * d + (slice(start, end, step),)))


def split_copy(tensor, split_size, dim=0):
    """``split`` with each piece in fresh memory.

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.split_copy(chainrule.arange(3), 2)]
    [[0, 1], [2]]
    """
    return tuple(S.clone(p) for p in unsafe_split(tensor, split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim=0):
    """``split_with_sizes`` with each piece in fresh memory.

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.split_with_sizes_copy(chainrule.arange(3), [1, 2])]
    [[0], [1, 2]]
    """
    return tuple(S.clone(p) for p in split_with_sizes(input, split_sizes, dim))


def squeeze_copy(input, dim=None):
    """``squeeze`` in fresh memory.

    >>> import chainrule
    >>> chainrule.squeeze_copy(chainrule.zeros(1, 2)).shape
    chainrule.Size([2])
    """
    return S.clone(S.squeeze(input, dim))


def t_copy(input):
    """``t`` in fresh memory.

    >>> import chainrule
    >>> chainrule.t_copy(chainrule.zeros(2, 3)).shape
    chainrule.Size([3, 2])
    """
    return S.clone(S.t(input))


def transpose_copy(input, dim0, dim1):
    """``transpose`` in fresh memory.

    >>> import chainrule
    >>> chainrule.transpose_copy(chainrule.zeros(2, 3), 0, 1).is_contiguous()
    True
    """
    return S.clone(S.transpose(input, dim0, dim1))


def unbind_copy(input, dim=0):
    """``unbind`` with each slice in fresh memory.

    >>> import chainrule
    >>> chainrule.unbind_copy(chainrule.tensor([[1, 2], [3, 4]]))
    (tensor([1, 2]), tensor([3, 4]))
    """
    return tuple(S.clone(p) for p in S.unbind(input, dim))


def unsqueeze_copy(input, dim):
    """``unsqueeze`` in fresh memory.

    >>> import chainrule
    >>> chainrule.unsqueeze_copy(chainrule.zeros(2), 0).shape
    chainrule.Size([1, 2])
    """
    return S.clone(S.unsqueeze(input, dim))


def view_copy(input, size):
    """``view`` (a shape or a dtype) in fresh memory.

    >>> import chainrule
    >>> chainrule.view_copy(chainrule.arange(4), [2, 2])
    tensor([[0, 1],
            [2, 3]])
    """
    _need_tensor(input, "view_copy")
    if isinstance(size, _dt.dtype) or size in (float, int, bool):
        return _make(input._data.view(_dt.to_dtype(size).np).copy())
    return S.clone(S.view(input, _ints((size,), "view_copy", "size", 2)))


# -- nn.functional ops under their top-level names --------------------------------------------
conv1d = F.conv1d
conv2d = F.conv2d
conv3d = F.conv3d
conv_transpose1d = F.conv_transpose1d
conv_transpose2d = F.conv_transpose2d
conv_transpose3d = F.conv_transpose3d
pixel_shuffle = F.pixel_shuffle
pixel_unshuffle = F.pixel_unshuffle
channel_shuffle = F.channel_shuffle
native_channel_shuffle = F.native_channel_shuffle
bilinear = F.bilinear
adaptive_avg_pool1d = F.adaptive_avg_pool1d


def _stride(stride):
    """torch's top-level pools take stride=() for 'same as the kernel'."""
    return None if stride is None or (isinstance(stride, (tuple, list)) and not stride) \
        else stride


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """Any convolution: N-d from ``weight``'s dims, transposed or not (``conv{N}d`` /
    ``conv_transpose{N}d``).

    >>> import chainrule
    >>> x, w = chainrule.ones(1, 1, 4), chainrule.ones(1, 1, 2)
    >>> chainrule.convolution(x, w, None, [1], [0], [1], False, [0], 1)
    tensor([[[2., 2., 2.]]])
    """
    _need_tensor(weight, "convolution", "weight", 2)
    n = weight._data.ndim - 2
    if n not in (1, 2, 3):
        raise RuntimeError(f"convolution: expected a weight with 3, 4 or 5 dims, got "
                           f"{weight._data.ndim}")
    if transposed:
        f = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
        return f(input, weight, bias, stride, padding, output_padding, groups, dilation)
    f = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    return f(input, weight, bias, stride, padding, dilation, groups)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at ``indices`` (``nn.functional.embedding`` with torch's top-level
    argument order; a negative padding_idx means none).

    >>> import chainrule
    >>> chainrule.embedding(chainrule.eye(3), chainrule.tensor([2, 0]))
    tensor([[0., 0., 1.],
            [1., 0., 0.]])
    """
    p = None if padding_idx is None or padding_idx < 0 else padding_idx
    return F.embedding(indices, weight, p, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def embedding_renorm_(input, indices, max_norm, norm_type):
    """Rescale, in place, the rows of ``input`` picked by ``indices`` whose ``norm_type``-norm
    exceeds ``max_norm`` down to that norm (what ``embedding(max_norm=...)`` does); returns
    ``input``.

    >>> import chainrule
    >>> w = chainrule.tensor([[3.0, 4.0], [0.3, 0.4]])
    >>> chainrule.embedding_renorm_(w, chainrule.tensor([0, 1]), 1.0, 2.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    from .autograd.grad_mode import _mode
    from .ops.inplace import _check_inplace
    _need_tensor(input, "embedding_renorm_", "self")
    _need_tensor(indices, "embedding_renorm_", "indices", 2)
    _check_inplace(input, _mode.grad)
    with no_grad():
        F.embedding(indices, input, None, max_norm, norm_type)
    return input


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``nn.functional.max_pool1d`` (stride () means the kernel size).

    >>> import chainrule
    >>> chainrule.max_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    tensor([[[3., 2.]]])
    """
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``nn.functional.max_pool2d`` (stride () means the kernel size).

    >>> import chainrule
    >>> chainrule.max_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``nn.functional.max_pool3d`` (stride () means the kernel size).

    >>> import chainrule
    >>> chainrule.max_pool3d(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[7.]]]]])
    """
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1,
                            ceil_mode=False):
    """``max_pool1d`` and the flat indices of the maxima, as a tuple.

    >>> import chainrule
    >>> chainrule.max_pool1d_with_indices(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    (tensor([[[3., 2.]]]), tensor([[[1, 2]]]))
    """
    return F.max_pool1d_with_indices(input, kernel_size, _stride(stride), padding, dilation,
                                     ceil_mode, True)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    """``nn.functional.avg_pool1d`` (stride () means the kernel size).

    >>> import chainrule
    >>> chainrule.avg_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    tensor([[[2., 1.]]])
    """
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode,
                        count_include_pad)


def adaptive_max_pool1d(input, output_size):
    """Adaptive max pooling; returns (values, indices) as torch's top-level op does.

    >>> import chainrule
    >>> chainrule.adaptive_max_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
    (tensor([[[3., 2.]]]), tensor([[[1, 2]]]))
    """
    return F.adaptive_max_pool1d_with_indices(input, output_size, True)


def constant_pad_nd(input, pad, value=0):
    """Pad with a constant (``nn.functional.pad`` in 'constant' mode).

    >>> import chainrule
    >>> chainrule.constant_pad_nd(chainrule.tensor([1, 2]), [1, 0], 9)
    tensor([9, 1, 2])
    """
    return F.pad(input, list(pad), "constant", value)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=1,
             zero_infinity=False):
    """``nn.functional.ctc_loss`` with torch's integer reduction codes (0 none, 1 mean,
    2 sum).

    >>> import chainrule
    >>> lp = chainrule.zeros(2, 1, 2).log_softmax(2)
    >>> chainrule.ctc_loss(lp, chainrule.tensor([[1]]), [2], [1], reduction=2)
    tensor(0.2877)
    """
    if isinstance(reduction, bool) or not isinstance(reduction, (int, np.integer)):
        raise TypeError(f"ctc_loss(): argument 'reduction' must be int, not "
                        f"{type(reduction).__name__}")
    r = {0: "none", 1: "mean", 2: "sum"}.get(int(reduction))
    if r is None:
        raise RuntimeError(f"ctc_loss: invalid reduction code {reduction} (0 none, 1 mean, "
                           "2 sum)")
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, r,
                      zero_infinity)


def _stats(x, dims, eps):
    """Biased mean and 1/sqrt(var + eps) over ``dims`` (keepdim)."""
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    return mean, (var + eps).rsqrt()


def _const_stats(x, dims, eps):
    with no_grad():
        return _stats(x.detach(), dims, eps)


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``layer_norm`` plus the mean and 1/std it used (over the normalized dims, kept as
    size-1 dims); only the output is differentiable, as torch.

    >>> import chainrule
    >>> out, mean, rstd = chainrule.native_layer_norm(chainrule.tensor([[1.0, 3.0]]), [2],
    ...                                               None, None, 0.0)
    >>> out, mean, rstd
    (tensor([[-1.,  1.]]), tensor([[2.]]), tensor([[1.]]))
    """
    _need_tensor(input, "native_layer_norm")
    out = F.layer_norm(input, normalized_shape, weight, bias, eps)
    k = len(_ints((normalized_shape,), "native_layer_norm", "normalized_shape", 2))
    nd = input._data.ndim
    mean, rstd = _const_stats(input, tuple(range(nd - k, nd)), eps)
    return out, mean, rstd


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum,
                      eps):
    """``batch_norm`` plus the batch mean and 1/std per channel it used in training (empty
    tensors in evaluation); running statistics update in place as in ``batch_norm``.

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0], [3.0]])
    >>> chainrule.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)[1:]
    (tensor([2.]), tensor([1.0000]))
    """
    _need_tensor(input, "native_batch_norm")
    out = F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = _make(np.zeros(0, input._data.dtype))
        return out, empty, _make(np.zeros(0, input._data.dtype))
    dims = (0,) + tuple(range(2, input._data.ndim))
    mean, rstd = _const_stats(input, dims, eps)
    return out, mean.reshape(-1), rstd.reshape(-1)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """``group_norm`` plus the mean and 1/std per (sample, group), each of shape (N, group)
    and, as in torch, differentiable.

    >>> import chainrule
    >>> x = chainrule.tensor([[[1.0], [3.0]]])
    >>> chainrule.native_group_norm(x, None, None, 1, 2, 1, 1, 0.0)[1:]
    (tensor([[2.]]), tensor([[1.]]))
    """
    _need_tensor(input, "native_group_norm")
    s = input._data.shape
    if len(s) < 2 or s[0] != N or s[1] != C or input._data.size != N * C * HxW:
        raise RuntimeError(f"native_group_norm: expected an input of N={N}, C={C}, HxW={HxW} "
                           f"elements per channel, got shape {list(s)}")
    out = F.group_norm(input, group, weight, bias, eps)
    mean, rstd = _stats(input.reshape(N, group, -1), (2,), eps)
    return out, mean.reshape(N, group), rstd.reshape(N, group)


def native_dropout(input, p, train):
    """Dropout that also returns its keep mask (bool). ``train`` None counts as True; with
    ``train`` False the output is a copy and the mask all True.

    >>> import chainrule
    >>> out, mask = chainrule.native_dropout(chainrule.ones(3), 0.5, False)
    >>> out, mask
    (tensor([1., 1., 1.]), tensor([True, True, True]))
    """
    _need_tensor(input, "native_dropout")
    if train is False:
        return S.clone(input), _make(np.ones(input._data.shape, bool))
    from .random import rand
    keep = rand(*input._data.shape, dtype=input.dtype)._data >= p
    scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    return input * _make((keep * scale).astype(input._data.dtype)), _make(keep)


# -- top-level in-place ops: chainrule.exp_(t) is t.exp_() --------------------------------------
# torch's top-level X_ names; each is made here when chainrule's Tensor has the method X_ and no
# module imported before this one defines it.
_TORCH_INPLACE = (
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_",
    "clamp_", "clamp_max_", "clamp_min_", "clip_", "conj_physical_", "cos_", "cosh_",
    "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_",
    "gcd_", "i0_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "resize_as_", "round_",
    "rsqrt_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_",
    "xlogy_", "zero_")
# (input, extra arguments) of each docstring example; the default is a float and no arguments
_EXAMPLE = {"clamp_": ("[0.5]", ", 0.0, 1.0"), "clip_": ("[0.5]", ", 0.0, 1.0"),
            "clamp_min_": ("[0.5]", ", 0.0"), "clamp_max_": ("[0.5]", ", 1.0"),
            "fill_": ("[0.5]", ", 2.0"), "xlogy_": ("[0.5]", ", 2.0"),
            "ldexp_": ("[0.5]", ", chainrule.tensor([1])"),
            "gcd_": ("[4]", ", chainrule.tensor([6])"), "lcm_": ("[4]", ", chainrule.tensor([6])"),
            "addmv_": ("[0.5]", ", chainrule.ones(1, 1), chainrule.ones(1)"),
            "resize_as_": ("[0.5]", ", chainrule.ones(2)"),
            "as_strided_": ("[0.5]", ", (1,), (1,)")}


def _inplace_alias(name):
    def f(input, *args, **kwargs):
        _need_tensor(input, name)
        return getattr(input, name)(*args, **kwargs)
    inp, args = _EXAMPLE.get(name, ("[0.5]", ""))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``input.{name}(...)`` at top level: {name[:-1]} in place, returning input."
                 f"\n\n    >>> import chainrule\n    >>> t = chainrule.tensor({inp})\n"
                 f"    >>> chainrule.{name}(t{args}) is t\n    True\n    ")
    return f


_pkg = sys.modules[__name__.rpartition(".")[0]]     # chainrule, as imported so far
for _name in _TORCH_INPLACE:
    if hasattr(Tensor, _name) and not hasattr(_pkg, _name):
        globals()[_name] = _inplace_alias(_name)
        __all__.append(_name)
del _name, _pkg
