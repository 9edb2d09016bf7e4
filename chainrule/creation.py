"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty (+ _like), arange,
linspace, logspace, eye."""
import numbers

import numpy as np

from . import dtypes as _dt
from ._device import check_device
from ._tensor import Tensor

_make = Tensor._make


def _infer_dtype(data):
    """torch's inference: bools -> bool, ints -> int64, floats -> default dtype."""
    if isinstance(data, Tensor):
        return data.dtype
    if isinstance(data, np.ndarray):
        return _dt.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        return _dt.from_numpy_dtype(data.dtype)
    if isinstance(data, bool):
        return _dt.bool
    if isinstance(data, numbers.Integral):
        return _dt.int64
    if isinstance(data, numbers.Real):
        return _dt.get_default_dtype()
    if isinstance(data, (list, tuple)):
        best = None
        for x in data:
            d = _infer_dtype(x)
            if d is None:
                continue
            best = d if best is None else _dt.promote_types(best, d)
        return best
    if isinstance(data, complex):
        raise TypeError("chainrule has no complex dtypes")
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _to_array(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return np.array([_to_array(x) for x in data]) if any(
            isinstance(x, (Tensor, list, tuple)) for x in data) else np.array(data)
    return np.asarray(data)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, arrays).

    >>> import chainrule
    >>> chainrule.tensor([[1, 2], [3, 4]]).dtype
    chainrule.int64
    >>> chainrule.tensor([1.0, 2.0], requires_grad=True)
    tensor([1., 2.], requires_grad=True)
    """
    check_device(device)
    d = _dt.to_dtype(dtype) or _infer_dtype(data) or _dt.get_default_dtype()
    try:
        arr = np.array(_to_array(data), dtype=d.np)
    except ValueError as e:
        raise ValueError(f"tensor(): could not build a tensor from the data ({e})") from None
    if arr.dtype.kind == "O":
        raise TypeError("tensor(): data must be numbers or nested sequences of numbers")
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with an array or tensor when the dtype allows.

    >>> import chainrule, numpy as np
    >>> a = np.zeros(2); chainrule.as_tensor(a).dtype
    chainrule.float64
    """
    check_device(device)
    d = _dt.to_dtype(dtype)
    if isinstance(data, Tensor):
        return data if d is None or d == data.dtype else data.to(d)
    if isinstance(data, np.ndarray) and (d is None or d.np == data.dtype):
        _dt.from_numpy_dtype(data.dtype)
        return _make(data)
    return tensor(data, dtype=dtype)


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array.

    >>> import chainrule, numpy as np
    >>> a = np.ones(2, np.float32); t = chainrule.from_numpy(a); a[0] = 5; t
    tensor([5., 1.])
    """
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_dtype(ndarray.dtype)
    return _make(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)):
            raise TypeError(f"zeros(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(arr, requires_grad, device):
    check_device(device)
    t = _make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dtype(dtype):
    return (_dt.to_dtype(dtype) or _dt.get_default_dtype()).np


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of zeros.

    >>> import chainrule
    >>> chainrule.zeros(2, 3).shape
    chainrule.Size([2, 3])
    """
    return _finish(np.zeros(_size(size), _dtype(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """A tensor of ones.

    >>> import chainrule
    >>> chainrule.ones(2)
    tensor([1., 1.])
    """
    return _finish(np.ones(_size(size), _dtype(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None,
          memory_format=None, pin_memory=False):
    """An uninitialised tensor.

    >>> import chainrule
    >>> chainrule.empty(2, 2).shape
    chainrule.Size([2, 2])
    """
    return _finish(_uninit(np.empty(_size(size), _dtype(dtype))), requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None):
    """A tensor filled with one value (its dtype inferred from the value, as torch).

    >>> import chainrule
    >>> chainrule.full((2,), 7)
    tensor([7, 7])
    """
    d = _dt.to_dtype(dtype) or _infer_dtype(fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _finish(np.full(_size((size,) if isinstance(size, int) else tuple(size)), fill_value,
                           d.np), requires_grad, device)


def _like(input, dtype):
    return (_dt.to_dtype(dtype) or input.dtype).np


def _like_fill(input, make, dtype, requires_grad, device):
    """make(shape, np dtype) shaped like input; batched like input under vmap (as torch)."""
    d = input._data
    if type(d) is np.ndarray:
        return _finish(make(d.shape, _like(input, dtype)), requires_grad, device)
    from .autograd import _transforms as T
    levels, raw = T.levels_of(d)
    t = _finish(make(raw.shape, _like(input, dtype)), requires_grad, device)
    t._data = T.batched(t._data, levels)
    return t


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with input's shape and dtype.

    >>> import chainrule
    >>> chainrule.zeros_like(chainrule.ones(2))
    tensor([0., 0.])
    """
    return _like_fill(input, np.zeros, dtype, requires_grad, device)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Ones with input's shape and dtype.

    >>> import chainrule
    >>> chainrule.ones_like(chainrule.zeros(2))
    tensor([1., 1.])
    """
    return _like_fill(input, np.ones, dtype, requires_grad, device)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialised, with input's shape and dtype.

    >>> import chainrule
    >>> chainrule.empty_like(chainrule.zeros(3)).shape
    chainrule.Size([3])
    """
    return _like_fill(input, lambda s, d: _uninit(np.empty(s, d)), dtype, requires_grad, device)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):
    """fill_value with input's shape and dtype.

    >>> import chainrule
    >>> chainrule.full_like(chainrule.zeros(2), 3)
    tensor([3., 3.])
    """
    return _like_fill(input, lambda s, d: np.full(s, fill_value, d), dtype, requires_grad,
                      device)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    """Values from start (inclusive) to end (exclusive) by step; ints give int64.

    >>> import chainrule
    >>> chainrule.arange(4)
    tensor([0, 1, 2, 3])
    """
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (vals[1] - vals[0]) * vals[2] < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    d = _dt.to_dtype(dtype) or (_dt.int64 if all(isinstance(v, (int, np.integer))
                                                 for v in vals) else _dt.get_default_dtype())
    n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
    arr = (vals[0] + np.arange(max(n, 0), dtype=np.float64 if d.is_floating_point else np.int64)
           * vals[2]).astype(d.np)
    return _finish(arr, requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    """``steps`` evenly spaced values from start to end (inclusive).

    >>> import chainrule
    >>> chainrule.linspace(0, 1, 3)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    return _finish(np.linspace(float(start), float(end), steps).astype(_dtype(dtype)),
                   requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False,
             out=None):
    """base ** linspace(start, end, steps).

    >>> import chainrule
    >>> chainrule.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    if steps < 0:
        raise RuntimeError("logspace: number of steps must be non-negative")
    return _finish(np.logspace(float(start), float(end), steps, base=base).astype(
        _dtype(dtype)), requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None):
    """The identity matrix (n x m).

    >>> import chainrule
    >>> chainrule.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def _uninit(arr):
    # deterministic mode (use_deterministic_algorithms) fills uninitialised memory as torch does
    from . import _runtime
    return _runtime._fill_uninitialized(arr)
