"""Functions a backward rule may call: each runs on a NumPy array (plain backward) or on a
Tensor (create_graph=True, recorded). Operators (+ - * / ** @, comparisons, indexing) already
work on both, so rules need only these for everything else."""
import numpy as np

from .. import backend as _backend
from .._tensor import Tensor


def is_t(x):
    return isinstance(x, Tensor)


def exp(x):
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def log(x):
    return x.log() if isinstance(x, Tensor) else np.log(x)


def sqrt(x):
    return x.sqrt() if isinstance(x, Tensor) else np.sqrt(x)


def sin(x):
    return x.sin() if isinstance(x, Tensor) else np.sin(x)


def cos(x):
    return x.cos() if isinstance(x, Tensor) else np.cos(x)


def tanh(x):
    return x.tanh() if isinstance(x, Tensor) else np.tanh(x)


def abs(x):
    return x.abs() if isinstance(x, Tensor) else np.abs(x)


def sign(x):
    if isinstance(x, Tensor):
        from . import elementwise as E
        return E.sign(x)
    return np.sign(x)


def floor(x):
    """Floor as a constant (its derivative is zero almost everywhere)."""
    return Tensor._make(np.floor(x._data)) if isinstance(x, Tensor) else np.floor(x)


def where(c, a, b):
    if isinstance(c, Tensor) or isinstance(a, Tensor) or isinstance(b, Tensor):
        from . import elementwise as E
        return E.where(c, a, b)
    return np.where(c, a, b)


def sum(x, axis, keepdims=False):
    if axis == ():
        return x        # NumPy's empty axis tuple: nothing reduced (torch's dim=() means all)
    if isinstance(x, Tensor):
        return x.sum(axis, keepdims)
    return np.asarray(x.sum(axis=axis, keepdims=keepdims))   # the method skips np.sum's wrapper


def col_sum(x):
    """Sum over the first axis of a 2-D x."""
    return x.sum(0) if isinstance(x, Tensor) else _backend.col_sum(x)


def reshape(x, shape):
    return x.reshape(shape)


def expand(x, shape):
    """Broadcast to shape (a read-only view for arrays)."""
    if isinstance(x, Tensor):
        return x.expand(shape)
    xs = x.shape
    if xs == shape:
        return x
    if len(xs) != len(shape) or not x.flags.c_contiguous or not x.size:
        return np.broadcast_to(x, shape)
    # NOTE: the same view np.broadcast_to makes (stride 0 on broadcast axes), built with the
    # ndarray constructor: 20x less overhead, which dominates for the small gradients of sums
    strides = []
    for st, d, t in zip(x.strides, xs, shape):
        if d == t:
            strides.append(st)
        elif d == 1:
            strides.append(0)
        else:
            return np.broadcast_to(x, shape)     # raises NumPy's error
    v = np.ndarray(shape, x.dtype, x, 0, tuple(strides))
    v.flags.writeable = False
    return v


def permute(x, axes):
    return x.permute(*axes) if isinstance(x, Tensor) else x.transpose(axes)


def swap_last(x):
    """Transpose the last two axes."""
    return x.transpose(-1, -2) if isinstance(x, Tensor) else x.swapaxes(-1, -2)


def cast(x, npdtype):
    if isinstance(x, Tensor):
        return x.to(Tensor._dtype_of(np.dtype(npdtype)))
    return x.astype(npdtype, copy=False)


def zeros(shape, like):
    z = np.zeros(shape, like.dtype if not isinstance(like, Tensor) else like._data.dtype)
    return Tensor._make(z) if isinstance(like, Tensor) else z


def dtype_of(x):
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


def call(cls, *args, **kwargs):
    """Run primitive ``cls`` recorded when a Tensor is involved, else straight on arrays."""
    for a in args:
        if isinstance(a, Tensor):
            return cls.apply(*args, **kwargs)
    from ..autograd.function import _NO_NEEDS
    ctx = cls.__new__(cls)
    ctx._saved = None
    ctx.needs_input_grad = _NO_NEEDS
    out = cls.forward(ctx, *args, **kwargs)
    return out if type(out) is np.ndarray or type(out) is tuple else np.asarray(out)
