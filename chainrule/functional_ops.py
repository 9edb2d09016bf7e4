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
    if type(a) is not np.ndarray and a.size:
        m = _R._lse_shift(a, axes)          # under vmap: each sample's own shift
    else:
        if a.size:
            m = np.max(a, axis=axes, keepdims=True)
            m = np.where(np.isfinite(m), m, 0).astype(a.dtype)
        else:
            m = np.zeros(_R._keep_shape(a.shape, axes), a.dtype)
        m = _make(m)
    s = _R.Sum.apply(_E.exp(x - m), axes, True, None)
    res = _E.log(s) + m
    return res if keepdim else _S.reshape(res, _out_shape(a.shape, axes, False))


# -- group 3 ---------------------------------------------------------------------------------
# vector_norm and matrix_norm are torch.linalg's: chainrule.linalg re-exports them
__all__ += ["nansum", "nanmean", "quantile", "nanquantile", "norm"]


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating NaN as zero (NaN positions get no gradient).

    >>> import chainrule
    >>> chainrule.nansum(chainrule.tensor([1.0, float("nan"), 2.0]))
    tensor(3.)
    """
    _R._check_input(input, "nansum")
    x = input
    if input._data.dtype.kind == "f":
        x = _E.where(_E.isnan(input), 0.0, input)
    return _R.sum(x, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over the non-NaN elements.

    >>> import chainrule
    >>> chainrule.nanmean(chainrule.tensor([1.0, float("nan"), 2.0]))
    tensor(1.5000)
    """
    _R._check_input(input, "nanmean")
    if dtype is not None:
        input = _E.cast(input, dtype)
    if input._data.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {input.dtype.name.capitalize()}")
    axes = _R._dims(dim, input._data.ndim, "nanmean")
    if type(input._data) is not np.ndarray:      # under vmap: count each sample's own
        cnt = _R._batched_reduce(input._data, axes, keepdim, _R._count_notnan,
                                 out_dtype=input._data.dtype)
        return nansum(input, dim, keepdim) / cnt
    cnt = np.sum(~np.isnan(input._data), axis=axes, keepdims=keepdim)
    return nansum(input, dim, keepdim) / _make(np.asarray(cnt, input._data.dtype))


_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, op):
    _R._check_input(input, op)
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q._data.dtype != a.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        qs, q_dim = q._data.astype(np.float64).reshape(-1), q._data.ndim == 1
    elif isinstance(q, (int, float)) and not isinstance(q, bool):
        qs, q_dim = np.array([float(q)]), False
    else:
        raise TypeError(f"{op}(): argument 'q' must be Tensor or float, not {type(q).__name__}")
    if a.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if np.any((qs < 0) | (qs > 1)):
        bad = qs[(qs < 0) | (qs > 1)][0]
        raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {bad}")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    # rows: the reduced values on the last axis
    if dim is None:
        x = _S.reshape(input, -1)
        kshape = (1,) * a.ndim
    else:
        d = _R._wrap_dim(dim, a.ndim, op)
        perm = [k for k in range(a.ndim) if k != d] + [d]
        x = _S.permute(input, perm) if a.ndim else _S.reshape(input, 1)
        kshape = _R._keep_shape(a.shape, (d,)) if a.ndim else ()
    res = _R._quantile_core(x, qs, ignore_nan, interpolation)
    if dim is None:
        out_shape = (1,) * a.ndim if keepdim else ()
    else:
        out_shape = kshape if keepdim else tuple(s for k, s in enumerate(a.shape) if k != d)
    res = _S.reshape(res, (len(qs),) + out_shape)
    return res if q_dim else _S.reshape(res, tuple(res.shape[1:]))


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles (q a number or a 1-D tensor, prepended as a dim) over ``dim``
    (flattened when None); NaN if the reduced values contain NaN.

    >>> import chainrule
    >>> chainrule.quantile(chainrule.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
    tensor(2.5000)
    >>> chainrule.quantile(chainrule.tensor([1.0, 2.0, 3.0, 4.0]), 0.5, interpolation="lower")
    tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile ignoring NaNs (NaN only where every reduced value is NaN).

    >>> import chainrule
    >>> chainrule.nanquantile(chainrule.tensor([1.0, float("nan"), 3.0]), 0.5)
    tensor(2.)
    """
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def _float_in(x, op, dtype):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    if dtype is not None:
        d = _dt.to_dtype(dtype)
        if x.dtype.is_floating_point and _dt.promote_types(x.dtype, d) is not d:
            raise RuntimeError(f"{op}: the dtype of the input ({x.dtype.name.capitalize()}) "
                               "should be convertible without narrowing to the specified dtype "
                               f"({d.name.capitalize()})")
        x = _E.cast(x, d)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{x.dtype.name.capitalize()}")
    return x


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ord-norm of the elements over ``dim`` (all when None): (sum |x|^ord)^(1/ord), with
    ord = inf / -inf the max / min of |x| and ord = 0 the count of non-zeros. The gradient is
    0 where the norm is 0 (torch's subgradient).

    >>> import chainrule
    >>> chainrule.functional_ops.vector_norm(chainrule.tensor([3.0, 4.0]))
    tensor(5.)
    >>> chainrule.functional_ops.vector_norm(chainrule.tensor([3.0, -4.0]), ord=1)
    tensor(7.)
    """
    x = _float_in(x, "linalg.vector_norm", dtype)
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    axes = _R._dims(dim, x._data.ndim, "linalg.vector_norm")
    if ord in (np.inf, -np.inf):
        if x._data.size == 0 or axes is not None and 0 in [x._data.shape[k] for k in axes]:
            raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty "
                               "tensor because the operation does not have an identity")
        return (_R.amax if ord > 0 else _R.amin)(_E.abs(x), () if axes is None else axes,
                                                 keepdim)
    if ord == 0:
        return _R.Sum.apply(_E.abs(_E.sign(x)), axes, keepdim, None)
    if ord == 1:
        return _R.Sum.apply(_E.abs(x), axes, keepdim, None)
    if ord == 2:
        return _E.Root.apply(_R.Sum.apply(x * x, axes, keepdim, None), 2)
    return _E.Root.apply(_R.Sum.apply(_E.abs(x) ** ord, axes, keepdim, None), float(ord))


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm over the two dims ``dim``: 'fro' (default), 'nuc' (sum of singular
    values), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min row sum), 2 / -2
    (largest / smallest singular value).

    >>> import chainrule
    >>> A = chainrule.tensor([[1.0, -2.0], [3.0, 4.0]])
    >>> chainrule.functional_ops.matrix_norm(A, ord=1)
    tensor(6.)
    >>> chainrule.functional_ops.matrix_norm(A, ord=float("inf"))
    tensor(7.)
    """
    A = _float_in(A, "linalg.matrix_norm", dtype)
    nd = A._data.ndim
    if nd < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if isinstance(ord, str) and ord not in ("fro", "nuc") or not isinstance(ord, str) and (
            isinstance(ord, bool) or ord not in _MATRIX_ORDS):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {tuple(dim)}")
    d0, d1 = (_R._wrap_dim(k, nd, "linalg.matrix_norm") for k in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got {tuple(dim)}")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        from . import linalg as _L
        perm = [k for k in range(nd) if k not in (d0, d1)] + [d0, d1]
        sv = _L.svdvals(_S.permute(A, perm))
        r = _R.Sum.apply(sv, (sv.ndim - 1,), False, None) if ord == "nuc" else \
            (_R.amax if ord == 2 else _R.amin)(sv, -1)
        if keepdim:
            r = _S.unsqueeze(_S.unsqueeze(r, min(d0, d1)), max(d0, d1))
        return r
    # 1 / -1: reduce rows (d0) first, then over columns; inf / -inf: the other way round
    first, second = (d0, d1) if ord in (1, -1) else (d1, d0)
    s = _R.Sum.apply(_E.abs(A), (first,), True, None)
    r = (_R.amax if ord > 0 else _R.amin)(s, second, True)
    return r if keepdim else _S.reshape(r, _out_shape(A._data.shape, (d0, d1), False))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, out=None):
    """torch.norm: 'fro' and numeric p are vector norms over ``dim`` (all elements when None);
    'nuc' is the nuclear matrix norm over two dims.

    >>> import chainrule
    >>> chainrule.norm(chainrule.tensor([[3.0, 0.0], [0.0, 4.0]]))
    tensor(5.)
    >>> chainrule.norm(chainrule.tensor([[3.0, 0.0], [0.0, 4.0]]), p=1, dim=1)
    tensor([3., 4.])
    """
    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc":
        if dim is None and input.dim() != 2:
            raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got "
                               + " ".join(str(d) for d in range(input.dim())))
        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"norm(): unsupported norm type {p}")
        if dim is not None and len(dim) > 2:
            raise RuntimeError(f"norm(): the frobenius norm needs at most 2 dims, got {dim}")
        p = 2
    if p is None:
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)
