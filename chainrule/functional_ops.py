"""Composites built from primitives (no backward of their own): var, std, norm, logsumexp,
...: the reductions catalogue (issue 3)."""
import builtins as _b

import numpy as np

from . import dtypes as _dt
from ._tensor import Tensor
from .ops import elementwise as _E
from .ops import reduce as _R
from .ops import shape as _S

__all__ = ["var", "std", "var_mean", "std_mean", "logsumexp"]

_make = Tensor._make


def _reduced_count(shape, axes):
    n = 1
    for k, s in enumerate(shape):
        if axes is None or k in axes:
            n *= s
    return n


def _out_shape(shape, axes, keepdim):
    if keepdim:
        return _R._keep_shape(shape, axes)
    return tuple(s for k, s in enumerate(shape) if axes is not None and k not in axes)


def _var_args(input, dim, unbiased, keepdim, correction, op):
    """Sort out torch's overloads: var(x, unbiased), var(x, dim, unbiased, keepdim),
    var(x, dim, *, correction, keepdim)."""
    _R._check_input(input, op)
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): can't specify both unbiased and correction")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    return _R._dims(dim, input._data.ndim, op), correction


def _var(input, axes, correction, keepdim):
    mu = _R.Mean.apply(input, axes, True)
    d = input - mu
    n = _reduced_count(input._data.shape, axes)
    v = _R.Sum.apply(d * d, axes, keepdim, None) / _b.max(0, n - correction)
    return v, mu


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance over ``dim`` with ``correction`` (1: Bessel's, the default; 0: population).

    >>> import chainrule
    >>> chainrule.var(chainrule.tensor([1.0, 2.0, 3.0, 4.0]))
    tensor(1.6667)
    >>> chainrule.var(chainrule.tensor([1.0, 2.0, 3.0, 4.0]), correction=0)
    tensor(1.2500)
    """
    axes, c = _var_args(input, dim, unbiased, keepdim, correction, "var")
    return _var(input, axes, c, keepdim)[0]


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation (the square root of ``var``; gradient 0 where it is 0, as torch).

    >>> import chainrule
    >>> chainrule.std(chainrule.tensor([1.0, 3.0]))
    tensor(1.4142)
    """
    axes, c = _var_args(input, dim, unbiased, keepdim, correction, "std")
    return _E.Root.apply(_var(input, axes, c, keepdim)[0], 2)


def _mean_out(mu, shape, axes, keepdim):
    return mu if keepdim else _S.reshape(mu, _out_shape(shape, axes, False))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` in one pass.

    >>> import chainrule
    >>> chainrule.var_mean(chainrule.tensor([1.0, 3.0]))
    (tensor(2.), tensor(2.))
    """
    axes, c = _var_args(input, dim, unbiased, keepdim, correction, "var_mean")
    v, mu = _var(input, axes, c, keepdim)
    return v, _mean_out(mu, input._data.shape, axes, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``.

    >>> import chainrule
    >>> chainrule.std_mean(chainrule.tensor([1.0, 3.0]))
    (tensor(1.4142), tensor(2.))
    """
    axes, c = _var_args(input, dim, unbiased, keepdim, correction, "std_mean")
    v, mu = _var(input, axes, c, keepdim)
    return _E.Root.apply(v, 2), _mean_out(mu, input._data.shape, axes, keepdim)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over ``dim``, computed stably (shifted by the maximum).

    >>> import chainrule
    >>> chainrule.logsumexp(chainrule.tensor([[0.0, 0.0], [10.0, 10.0]]), dim=1)
    tensor([ 0.6931, 10.6931])
    """
    _R._check_input(input, "logsumexp")
    x = _E._unary_in(input, "logsumexp")
    a = x._data
    axes = _R._dims(dim, a.ndim, "logsumexp")
    # NOTE: shift by the (constant) max so exp never overflows; infinite maxima shift by 0
    if a.size:
        m = np.max(a, axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0).astype(a.dtype)
    else:
        m = np.zeros(_R._keep_shape(a.shape, axes), a.dtype)
    m = _make(m)
    s = _R.Sum.apply(_E.exp(x - m), axes, True, None)
    res = _E.log(s) + m
    return res if keepdim else _S.reshape(res, _out_shape(a.shape, axes, False))
