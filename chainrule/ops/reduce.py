"""Reduction primitives: sum, mean, max/min (with and without dim)."""
import collections

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Op
from . import _xp

__all__ = ["sum", "mean", "max", "min"]

_make = Tensor._make


def _dims(dim, ndim, op):
    """Normalise dim (int, tuple, list or None) to a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(int(dim), ndim, op),)
    if len(dim) == 0:
        return None
    axes = tuple(sorted(_wrap_dim(int(d), ndim, op) for d in dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: dim {list(dim)} appears multiple times in the list of dims")
    return axes


def _keep_shape(shape, axes):
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Op):
    @staticmethod
    def forward(ctx, a, axes, keepdim, npdtype):
        ctx.shape = a.shape
        ctx.kshape = None if keepdim else _keep_shape(a.shape, axes)
        return np.asarray(a.sum(axis=axes, keepdims=keepdim, dtype=npdtype))

    @staticmethod
    def backward(ctx, g):
        if ctx.kshape is not None:
            g = _xp.reshape(g, ctx.kshape)
        return _xp.expand(g, ctx.shape)


class Mean(Op):
    @staticmethod
    def forward(ctx, a, axes, keepdim):
        ctx.shape = a.shape
        ctx.kshape = None if keepdim else _keep_shape(a.shape, axes)
        out = np.asarray(a.mean(axis=axes, keepdims=keepdim))
        ctx.n = a.size // out.size if out.size else 0
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.kshape is not None:
            g = _xp.reshape(g, ctx.kshape)
        return _xp.expand(g / ctx.n, ctx.shape)


class MaxAll(Op):
    """max/min/amax/amin without indices: ties share the gradient evenly (torch's rule)."""

    @staticmethod
    def forward(ctx, a, axes, keepdim, is_max):
        out = np.asarray((a.max if is_max else a.min)(axis=axes, keepdims=keepdim))
        ctx.kshape = None if keepdim else _keep_shape(a.shape, axes)
        ctx.axes = axes
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        if ctx.kshape is not None:
            g = _xp.reshape(g, ctx.kshape)
            out = _xp.reshape(out, ctx.kshape)
        mask = a == out
        count = _xp.sum(mask, ctx.axes, True)
        return g * mask / count


class MaxDim(Op):
    """max/min along one dim returning (values, indices); the gradient goes to the index."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, is_max):
        idx = (np.argmax if is_max else np.argmin)(a, axis=dim, keepdims=True)
        vals = np.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            vals, idx = vals.squeeze(dim), idx.squeeze(dim)
        ctx.info = (a.shape, dim, keepdim, idx)
        ctx.mark_non_differentiable(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, gi):
        shape, dim, keepdim, idx = ctx.info
        if not keepdim:
            g = _xp.reshape(g, shape[:dim] + (1,) + shape[dim + 1:])
            idx = np.expand_dims(idx, dim)
        r = np.arange(shape[dim]).reshape((-1,) + (1,) * (len(shape) - dim - 1))
        return g * (r == idx)


# -- public functions ------------------------------------------------------------------------
def _check_input(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over all elements or over ``dim`` (int or tuple); ints and bools sum to int64.

    >>> import chainrule
    >>> chainrule.sum(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]), dim=0)
    tensor([4., 6.])
    """
    _check_input(input, "sum")
    axes = _dims(dim, input.ndim, "sum")
    npd = _dt.to_dtype(dtype).np if dtype is not None else (
        np.int64 if input._data.dtype.kind in "biu" else None)
    return Sum.apply(input, axes, keepdim, npd)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean (floating inputs only, as torch).

    >>> import chainrule
    >>> chainrule.mean(chainrule.tensor([1.0, 2.0, 3.0]))
    tensor(2.)
    """
    _check_input(input, "mean")
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype.name.capitalize()}")
    return Mean.apply(input, _dims(dim, input.ndim, "mean"), keepdim)


_minmax = collections.namedtuple("minmax", ["values", "indices"])


def _max_or_min(input, dim, keepdim, is_max, name):
    _check_input(input, name)
    if isinstance(dim, Tensor):
        from . import elementwise as E
        return (E.maximum if is_max else E.minimum)(input, dim)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return MaxAll.apply(input, None, False, is_max)
    d = _wrap_dim(dim, input.ndim, name)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input._data.ndim == 0:
        return _minmax(input * 1, _make(np.zeros((), np.int64)))
    v, i = MaxDim.apply(input, d, keepdim, is_max)
    out = type(_ret_types[name])(v, i)
    return out


def max(input, dim=None, keepdim=False):
    """The maximum; with ``dim`` returns ``(values, indices)``; with a tensor, ``maximum``.

    >>> import chainrule
    >>> chainrule.max(chainrule.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).values
    tensor([5., 7.])
    """
    return _max_or_min(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim=False):
    """The minimum; with ``dim`` returns ``(values, indices)``.

    >>> import chainrule
    >>> chainrule.min(chainrule.tensor([3.0, 1.0, 2.0]))
    tensor(1.)
    """
    return _max_or_min(input, dim, keepdim, False, "min")


_max_t = collections.namedtuple("max", ["values", "indices"])
_min_t = collections.namedtuple("min", ["values", "indices"])
_ret_types = {"max": _max_t(None, None), "min": _min_t(None, None)}


# -- catalogue: more reductions (issue 3) -----------------------------------------------------
