"""Reduction primitives: sum, mean, max/min (with and without dim)."""
import builtins as _b
import collections

import numpy as np

from .. import backend
from .. import dtypes as _dt
from .._tensor import Tensor, _wrap_dim
from ..autograd import _transforms as _T
from ..autograd.function import Op
from . import _xp

__all__ = ["sum", "mean", "max", "min"]

_make = Tensor._make
_nd = np.ndarray


def _unb(d):
    """(vmap levels, raw array) of a tensor's data under vmap: the raw array leads with one
    dim per level, outermost first (NumPy index computations run on it with shifted axes)."""
    return _T.levels_of(d)


def _rewrap(arr, levels):
    """A tensor batched at ``levels`` whose raw array (batch dims first) is arr."""
    return _make(_T.batched(np.asarray(arr), levels))


def _dims(dim, ndim, op):
    """Normalise dim (int, tuple, list or None) to a sorted tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (int, np.integer)):
        d = _wrap_dim(int(dim), ndim, op)
        return (d,) if ndim else None     # a 0-d tensor takes dim 0 or -1: all of it
    if len(dim) == 0:
        return None
    axes = tuple(sorted(_wrap_dim(int(d), ndim, op) for d in dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: dim {list(dim)} appears multiple times in the list of dims")
    return axes if ndim else None


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
    def forward(ctx, a, axes, keepdim, is_max, nan_even=False):
        out = np.asarray((a.max if is_max else a.min)(axis=axes, keepdims=keepdim))
        ctx.kshape = None if keepdim else _keep_shape(a.shape, axes)
        ctx.axes, ctx.nan_even = axes, nan_even
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        am, om = _arr(a), _arr(out)
        if ctx.kshape is not None:
            g = _xp.reshape(g, ctx.kshape)
            om = om.reshape(ctx.kshape)
        # NOTE: the elements equal to the result share it evenly; for a NaN result max() and
        # median() share it among the NaNs while amax() gives NaN (torch's rules)
        mask = np.where(np.isnan(om), np.isnan(am), am == om) if ctx.nan_even else am == om
        w = (mask / np.sum(mask, axis=ctx.axes, keepdims=True)).astype(am.dtype)
        return g * (_make(w) if isinstance(g, Tensor) else w)


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


def _return_type(name, fields=("values", "indices")):
    """A named tuple printed like torch's ``torch.return_types.<name>``."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"chainrule.return_types.{name}(\n{body})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__,
                                "__module__": "chainrule.return_types"})


_RT = {"max": _return_type("max"), "min": _return_type("min")}


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
        return MaxAll.apply(input, None, False, is_max, True)
    d = _wrap_dim(dim, input.ndim, name)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input._data.ndim == 0:
        return _RT[name](input * 1, _make(np.zeros((), np.int64)))
    v, i = MaxDim.apply(input, d, keepdim, is_max)
    return _RT[name](v, i)


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




# -- catalogue: more reductions (issue 3) -----------------------------------------------------
__all__ += ["amax", "amin", "argmax", "argmin", "prod", "cumsum", "cumprod", "all", "any"]


def _arr(x):
    return x._data if isinstance(x, Tensor) else x


def _flip(x, d):
    if isinstance(x, Tensor):
        from .shape import flip
        return flip(x, (d,))
    return np.flip(x, d)


def _cat(xs, d):
    if _b.any(isinstance(x, Tensor) for x in xs):
        from .shape import cat
        return cat([x if isinstance(x, Tensor) else _make(x) for x in xs], d)
    return np.concatenate(xs, d)


def _cumsum(x, d):
    return _xp.call(Cumsum, x, d, None)


def _cumprod(x, d):
    return _xp.call(Cumprod, x, d, None)


def _take(x, i, d):
    """x[..., i, ...] with the integer index on dim d (dim removed)."""
    return x[(slice(None),) * d + (i,)]


def _ones_at(x, d):
    shape = tuple(1 if k == d else s for k, s in enumerate(x.shape))
    one = np.ones(shape, _xp.dtype_of(x))
    return _make(one) if isinstance(x, Tensor) else one


def _exclusive_cumprod(x, d):
    """Products of the elements before each position along d (1 at the start)."""
    n = x.shape[d]
    return _cumprod(_cat([_ones_at(x, d), x[(slice(None),) * d + (slice(0, n - 1),)]], d), d)


def _others_prod(x, d):
    """At each position, the product of all other elements along d (no division: zero-safe)."""
    if x.shape[d] == 0:
        return x
    left = _exclusive_cumprod(x, d)
    right = _flip(_exclusive_cumprod(_flip(x, d), d), d)
    return left * right


class Prod(Op):
    @staticmethod
    def forward(ctx, a, dim, keepdim, npdtype):
        ctx.info = (a.shape, dim, keepdim)
        ctx.save_for_backward(a)
        return np.asarray(np.prod(a, axis=dim, keepdims=keepdim, dtype=npdtype))

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        shape, dim, keepdim = ctx.info
        if dim is None:
            flat = _xp.reshape(a, (-1,))
            return g * _xp.reshape(_others_prod(flat, 0), shape)
        if not keepdim:
            g = _xp.reshape(g, shape[:dim] + (1,) + shape[dim + 1:])
        return g * _others_prod(a, dim)


class Cumsum(Op):
    @staticmethod
    def forward(ctx, a, dim, npdtype):
        ctx.dim = dim
        if a.ndim == 0:
            return a.astype(npdtype or a.dtype, copy=True)
        return np.cumsum(a, axis=dim, dtype=npdtype)

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g, None, None
        d = ctx.dim
        return _flip(_cumsum(_flip(g, d), d), d), None, None


class Cumprod(Op):
    @staticmethod
    def forward(ctx, a, dim, npdtype):
        ctx.dim = dim
        if a.ndim == 0:
            return a.astype(npdtype or a.dtype, copy=True)
        out = np.cumprod(a, axis=dim, dtype=npdtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g, None, None
        a, out = ctx.saved_tensors
        d = ctx.dim
        if not np.any(_arr(a) == 0):
            # d out_k / d a_i = out_k / a_i for k >= i
            return _flip(_cumsum(_flip(g * out, d), d), d) / a, None, None
        # NOTE: zero-safe form: grad_i = prod(a_<i) * S_i with S_i = g_i + a_(i+1) S_(i+1)
        n = a.shape[d]
        s = [None] * n
        s[n - 1] = _take(g, n - 1, d)
        for i in range(n - 2, -1, -1):
            s[i] = _take(g, i, d) + _take(a, i + 1, d) * s[i + 1]
        if isinstance(s[0], Tensor):
            from .shape import stack
            S = stack(s, d)
        else:
            S = np.stack(s, d)
        return _exclusive_cumprod(a, d) * S, None, None


def _acc_dtype(input, dtype):
    """Integer and bool sums/products accumulate in int64 unless a dtype is given."""
    if dtype is not None:
        return _dt.to_dtype(dtype).np
    return np.int64 if input._data.dtype.kind in "biu" else None


def _nonempty_dims(input, axes, op):
    shape = input._data.shape
    if axes is None:
        if input._data.size == 0:
            raise RuntimeError(f"{op}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        return
    for a in axes:
        if shape and shape[a] == 0:
            raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size.")


def _amax_amin(input, dim, keepdim, is_max, op):
    _check_input(input, op)
    axes = _dims(dim, input._data.ndim, op)
    _nonempty_dims(input, axes, op)
    if input._data.dtype == np.bool_:
        if type(input._data) is not _nd:
            return _batched_reduce(input._data, axes, keepdim, np.any if is_max else np.all)
        out = (np.any if is_max else np.all)(input._data, axis=axes, keepdims=keepdim)
        return _make(np.asarray(out))
    return MaxAll.apply(input, axes, keepdim, is_max)


def amax(input, dim=(), keepdim=False, *, out=None):
    """Maximum over ``dim`` (int or tuple; all dims by default); ties share the gradient.

    >>> import chainrule
    >>> chainrule.amax(chainrule.tensor([[1.0, 4.0], [3.0, 2.0]]), dim=0)
    tensor([3., 4.])
    """
    return _amax_amin(input, dim, keepdim, True, "amax")


def amin(input, dim=(), keepdim=False, *, out=None):
    """Minimum over ``dim`` (int or tuple; all dims by default); ties share the gradient.

    >>> import chainrule
    >>> chainrule.amin(chainrule.tensor([[1.0, 4.0], [3.0, 2.0]]), dim=1)
    tensor([1., 2.])
    """
    return _amax_amin(input, dim, keepdim, False, "amin")


def _arg(input, dim, keepdim, is_max, op):
    _check_input(input, op)
    a = input._data
    if a.dtype == np.bool_:
        raise RuntimeError(f"{op}(): does not support bool input")
    npfn = np.argmax if is_max else np.argmin
    if dim is None:
        if a.size == 0:
            raise IndexError(f"{op}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        if type(a) is not _nd:
            lv, r = _unb(a)
            r = npfn(r.reshape(r.shape[:len(lv)] + (-1,)), axis=-1).astype(np.int64)
            return _rewrap(r.reshape(r.shape + (1,) * a.ndim) if keepdim else r, lv)
        r = np.asarray(npfn(a.reshape(-1)), np.int64)
        return _make(r.reshape((1,) * a.ndim) if keepdim else r)
    d = _wrap_dim(dim, a.ndim, op)
    if a.ndim == 0:
        return _make(np.zeros((), np.int64))
    if a.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    if type(a) is not _nd:
        lv, r = _unb(a)
        return _rewrap(npfn(r, axis=d + len(lv), keepdims=keepdim).astype(np.int64), lv)
    return _make(np.asarray(npfn(a, axis=d, keepdims=keepdim), np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index of the first maximum (flattened when dim is None); NaN counts as the maximum.

    >>> import chainrule
    >>> chainrule.argmax(chainrule.tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1)
    tensor([1, 0])
    """
    return _arg(input, dim, keepdim, True, "argmax")


def argmin(input, dim=None, keepdim=False):
    """Index of the first minimum (flattened when dim is None).

    >>> import chainrule
    >>> chainrule.argmin(chainrule.tensor([3.0, 1.0, 2.0]))
    tensor(1)
    """
    return _arg(input, dim, keepdim, False, "argmin")


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements or along one dim; the gradient is exact with zeros present.

    >>> import chainrule
    >>> chainrule.prod(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]), 1)
    tensor([ 2., 12.])
    """
    _check_input(input, "prod")
    if dim is not None and not isinstance(dim, (int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    npd = _acc_dtype(input, dtype)
    if dim is None:
        return Prod.apply(input, None, False, npd)
    d = _wrap_dim(dim, input._data.ndim, "prod")
    if input._data.ndim == 0:
        return Prod.apply(input, None, False, npd)
    return Prod.apply(input, d, keepdim, npd)


def _cum(cls, input, dim, dtype, op):
    _check_input(input, op)
    d = _wrap_dim(dim, input._data.ndim, op)
    return cls.apply(input, d, _acc_dtype(input, dtype))


def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along ``dim`` (integers and bools accumulate in int64).

    >>> import chainrule
    >>> chainrule.cumsum(chainrule.tensor([1.0, 2.0, 3.0]), 0)
    tensor([1., 3., 6.])
    """
    return _cum(Cumsum, input, dim, dtype, "cumsum")


def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along ``dim``; the gradient is exact with zeros present.

    >>> import chainrule
    >>> chainrule.cumprod(chainrule.tensor([1.0, 2.0, 3.0]), 0)
    tensor([1., 2., 6.])
    """
    return _cum(Cumprod, input, dim, dtype, "cumprod")


def _logical(input, dim, keepdim, npfn, op):
    _check_input(input, op)
    axes = _dims(dim, input._data.ndim, op)
    if type(input._data) is not _nd:
        return _batched_reduce(input._data, axes, keepdim, npfn, np.uint8)
    r = np.asarray(npfn(input._data, axis=axes, keepdims=keepdim))
    return _make(r.astype(np.uint8) if input._data.dtype == np.uint8 else r)


def _batched_reduce(a, axes, keepdim, npfn, keep_dtype=None, out_dtype=None):
    """npfn(data, axis, keepdims) for data batched by vmap: on the raw array, axes shifted past
    the batch dims (all logical dims for None). A result in ``keep_dtype`` when the input is."""
    lv, r = _unb(a)
    L = len(lv)
    ax = tuple(range(L, r.ndim)) if axes is None else tuple(k + L for k in axes)
    if ax:
        res = np.asarray(npfn(r, axis=ax, keepdims=keepdim))
    else:           # a 0-d sample: the reduction is elementwise
        res = np.asarray(npfn(r[..., None], axis=-1, keepdims=False))
    if out_dtype is not None:
        res = res.astype(out_dtype)
    elif keep_dtype is not None and a.dtype == keep_dtype:
        res = res.astype(keep_dtype)
    return _rewrap(res, lv)


def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element (over ``dim``, an int or tuple) is non-zero.

    >>> import chainrule
    >>> chainrule.all(chainrule.tensor([[1, 0], [2, 3]]), dim=1)
    tensor([False,  True])
    """
    return _logical(input, dim, keepdim, np.all, "all")


def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element (over ``dim``, an int or tuple) is non-zero.

    >>> import chainrule
    >>> chainrule.any(chainrule.tensor([[1, 0], [0, 0]]), dim=1)
    tensor([ True, False])
    """
    return _logical(input, dim, keepdim, np.any, "any")


# -- group 3: order statistics and friends ---------------------------------------------------
__all__ += ["cummax", "cummin", "median", "nanmedian", "mode", "count_nonzero", "aminmax"]


def _along_index(idx, dim):
    """Full index arrays addressing ``idx`` positions along ``dim`` (for np.add.at)."""
    ind = list(np.indices(idx.shape, sparse=True))
    ind[dim] = idx
    return tuple(ind)


class TakeAlong(Op):
    """``a`` gathered at integer positions ``idx`` (same ndim as ``a``) along ``dim``."""

    @staticmethod
    def forward(ctx, a, idx, dim):
        ctx.info = (a.shape, idx, dim)
        return np.take_along_axis(a, idx, dim)

    @staticmethod
    def backward(ctx, g):
        shape, idx, dim = ctx.info
        return _xp.call(PutAlong, g, shape, idx, dim), None, None


class PutAlong(Op):
    """zeros(shape) with ``g`` added at ``idx`` along ``dim`` (TakeAlong's adjoint)."""

    @staticmethod
    def forward(ctx, g, shape, idx, dim):
        ctx.info = (idx, dim)
        z = np.zeros(shape, g.dtype)
        backend.add_at(z, _along_index(idx, dim), g)
        return z

    @staticmethod
    def backward(ctx, gg):
        idx, dim = ctx.info
        return _xp.call(TakeAlong, gg, idx, dim), None, None, None


def _lift(t, B):
    """An index (array, or tensor not batched at this level) repeated over the batch B."""
    if isinstance(t, Tensor):
        from . import shape as S
        s = tuple(t._data.shape)
        return S.Expand.apply(S.Reshape.apply(t, (1,) + s), (B,) + s)
    return np.broadcast_to(t, (B,) + t.shape)


class TakeAlongT(TakeAlong):
    """TakeAlong whose index may be a tensor argument (so vmap can batch it: indices computed
    from batched values), with gather's rule that idx may be smaller than ``a`` off ``dim``."""

    @staticmethod
    def forward(ctx, a, idx, dim):
        ctx.info = (a.shape, idx, dim)
        return a[_along_index(idx, dim)]

    @staticmethod
    def backward(ctx, g):
        shape, idx, dim = ctx.info
        return _xp.call(PutAlongT, g, shape, idx, dim), None, None

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        a, idx, dim = args
        return cls.apply(a if bat[0] else _lift(a, B), idx if bat[1] else _lift(idx, B),
                         dim + 1)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs, B=None):
        return None if tans[0] is None else cls.apply(tans[0], *args[1:])


class PutAlongT(PutAlong):
    """PutAlong with a possibly batched index tensor (TakeAlongT's adjoint)."""

    @staticmethod
    def backward(ctx, gg):
        idx, dim = ctx.info
        return _xp.call(TakeAlongT, gg, idx, dim), None, None, None

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        g, shape, idx, dim = args
        return cls.apply(g if bat[0] else _lift(g, B), (B,) + tuple(shape),
                         idx if bat[2] else _lift(idx, B), dim + 1)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs, B=None):
        return None if tans[0] is None else cls.apply(tans[0], *args[1:])


class MedianAll(MaxAll):
    """The lower median of all elements (NaN if any, unless ignore_nan); ties share the
    gradient evenly, as max() does."""

    @staticmethod
    def forward(ctx, a, ignore_nan, lead=0):
        if lead:
            return _median_rows(ctx, a, ignore_nan, lead)
        flat = a.reshape(-1)
        if a.dtype.kind == "f":
            nan = np.isnan(flat)
            if ignore_nan:
                flat = flat[~nan]
            elif nan.any():
                flat = flat[:0]
        if flat.size:
            k = (flat.size - 1) // 2
            out = np.asarray(np.partition(flat, k)[k])
        else:
            out = np.asarray(np.nan, a.dtype)
        ctx.kshape, ctx.axes, ctx.nan_even = None, None, True
        ctx.save_for_backward(a, out)
        return out


    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        # the median of each sample: one more leading dim kept
        a, ignore_nan = args[:2]
        return cls.apply(a, ignore_nan, (args[2] if len(args) > 2 else 0) + 1)


def _median_rows(ctx, a, ignore_nan, lead):
    """MedianAll over all but the first ``lead`` dims of a."""
    rows = a.reshape(a.shape[:lead] + (-1,))
    n = rows.shape[-1]
    if n == 0:
        out = np.full(rows.shape[:-1], np.nan, a.dtype)
    elif a.dtype.kind == "f":
        s = np.sort(rows, axis=-1)                        # NaNs sort last
        cnt = n - np.isnan(rows).sum(-1)
        k = (np.maximum(cnt, 1) - 1) // 2 if ignore_nan else np.full(cnt.shape, (n - 1) // 2)
        out = np.take_along_axis(s, k[..., None], -1)[..., 0]
        out = np.where(cnt == 0 if ignore_nan else cnt < n, np.nan, out).astype(a.dtype)
    else:
        out = np.partition(rows, (n - 1) // 2, axis=-1)[..., (n - 1) // 2]
    ctx.kshape = a.shape[:lead] + (1,) * (a.ndim - lead)
    ctx.axes, ctx.nan_even = tuple(range(lead, a.ndim)), True
    ctx.save_for_backward(a, out)
    return out


def _select_dim(input, idx, d, keepdim, rtype, lv=None):
    """(values, indices) with values = input gathered at idx (keepdim shape) along d; with
    ``lv`` (vmap levels), idx is the raw batched index array (batch dims first)."""
    if lv is not None:
        from .shape import squeeze
        it = _rewrap(idx.astype(np.int64, copy=False), lv)
        vals = TakeAlongT.apply(input, it, d)
        if not keepdim:
            vals, it = squeeze(vals, d), _rewrap(idx.squeeze(d + len(lv)), lv)
        return rtype(vals, it)
    vals = TakeAlong.apply(input, idx, d)
    if not keepdim:
        from .shape import squeeze
        vals, idx = squeeze(vals, d), idx.squeeze(d)
    return rtype(vals, _make(idx.astype(np.int64)))


def _dim_or_scalar(input, dim, op, need_nonempty=True):
    _check_input(input, op)
    d = _wrap_dim(dim, input._data.ndim, op)
    if need_nonempty and input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")
    return d


def _cum_ext(input, dim, is_max, op):
    d = _dim_or_scalar(input, dim, op, need_nonempty=False)
    a = input._data
    rt = _RTS[op]
    if a.ndim == 0:
        return rt(input * 1, _make(np.zeros((), np.int64)))
    lv, dl = None, d
    if type(a) is not _nd:
        lv, a = _unb(a)
        d += len(lv)
    idx = np.zeros(a.shape, np.int64)
    if a.shape[d]:
        x = np.moveaxis(a, d, 0)
        cur, ci = x[0].copy(), np.zeros(x.shape[1:], np.int64)
        out = np.moveaxis(idx, d, 0)
        isf = a.dtype.kind == "f"
        for k in range(x.shape[0]):
            v = x[k]
            # torch's rule: a NaN always takes over; otherwise >= (<=) moves to the latest tie
            take = (v >= cur) if is_max else (v <= cur)
            if isf:
                take = np.isnan(v) | (take & ~np.isnan(cur))
            cur = np.where(take, v, cur)
            ci = np.where(take, k, ci)
            out[k] = ci
    if lv is not None:
        return _select_dim(input, idx, dl, True, rt, lv)
    return _select_dim(input, idx, d, True, rt)


def cummax(input, dim):
    """Running maximum along ``dim`` and the index where it was reached (latest tie).

    >>> import chainrule
    >>> chainrule.cummax(chainrule.tensor([1.0, 3.0, 2.0, 3.0]), 0).indices
    tensor([0, 1, 1, 3])
    """
    return _cum_ext(input, dim, True, "cummax")


def cummin(input, dim):
    """Running minimum along ``dim`` and the index where it was reached (latest tie).

    >>> import chainrule
    >>> chainrule.cummin(chainrule.tensor([3.0, 1.0, 2.0, 0.0]), 0).values
    tensor([3., 1., 1., 0.])
    """
    return _cum_ext(input, dim, False, "cummin")


def _median_dim(input, dim, keepdim, ignore_nan, op):
    d = _dim_or_scalar(input, dim, op)
    a = input._data
    if a.ndim == 0:
        return _RTS[op](input * 1, _make(np.zeros((), np.int64)))
    lv, dl = None, d
    if type(a) is not _nd:
        lv, a = _unb(a)
        d += len(lv)
    order = np.argsort(a, axis=d, kind="stable")          # NaNs sort last
    n = a.shape[d]
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        cnt = n - nan.sum(axis=d, keepdims=True)
        if ignore_nan:
            k = np.where(cnt == 0, (n - 1) // 2, (cnt - 1) // 2)
            idx = np.take_along_axis(order, k, d)
        else:
            idx = np.take_along_axis(order, np.full(cnt.shape, (n - 1) // 2), d)
            first_nan = np.argmax(nan, axis=d, keepdims=True)
            idx = np.where(cnt < n, first_nan, idx)
    else:
        idx = np.take_along_axis(order, np.full(_keep_shape(a.shape, (d,)), (n - 1) // 2), d)
    if lv is not None:
        return _select_dim(input, idx, dl, keepdim, _RTS[op], lv)
    return _select_dim(input, idx, d, keepdim, _RTS[op])


def median(input, dim=None, keepdim=False):
    """The lower median (NaN if present); with ``dim``, ``(values, indices)``.

    >>> import chainrule
    >>> chainrule.median(chainrule.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.)
    """
    if dim is None:
        _check_input(input, "median")
        return MedianAll.apply(input, False)
    return _median_dim(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim=False):
    """The lower median ignoring NaNs; with ``dim``, ``(values, indices)``.

    >>> import chainrule
    >>> chainrule.nanmedian(chainrule.tensor([4.0, float("nan"), 3.0]))
    tensor(3.)
    """
    if dim is None:
        _check_input(input, "nanmedian")
        return MedianAll.apply(input, True)
    return _median_dim(input, dim, keepdim, True, "nanmedian")


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and
    the index of its last occurrence.

    >>> import chainrule
    >>> chainrule.mode(chainrule.tensor([2.0, 1.0, 2.0, 1.0, 3.0]))
    chainrule.return_types.mode(
    values=tensor(1.),
    indices=tensor(3))
    """
    d = _dim_or_scalar(input, dim, "mode")
    a = input._data
    if a.ndim == 0:
        return _RTS["mode"](input * 1, _make(np.zeros((), np.int64)))
    lv, dl = None, d
    if type(a) is not _nd:
        lv, a = _unb(a)
        d += len(lv)
    x = np.moveaxis(a, d, -1)
    rows = x.reshape(-1, x.shape[-1])
    r, n = rows.shape
    s = np.sort(rows, axis=1)
    new = np.ones((r, n), bool)
    same = s[:, 1:] == s[:, :-1]
    if a.dtype.kind == "f":
        same |= np.isnan(s[:, 1:]) & np.isnan(s[:, :-1])
    new[:, 1:] = ~same
    starts = np.flatnonzero(new.reshape(-1))
    lengths = np.diff(np.append(starts, r * n))
    run = np.repeat(lengths, lengths).reshape(r, n)
    val = s[np.arange(r), np.argmax(run, axis=1)]
    eq = rows == val[:, None]
    if a.dtype.kind == "f":
        eq |= np.isnan(rows) & np.isnan(val)[:, None]
    last = n - 1 - np.argmax(eq[:, ::-1], axis=1)
    idx = np.moveaxis(last.reshape(x.shape[:-1] + (1,)), -1, d)
    if lv is not None:
        return _select_dim(input, idx, dl, keepdim, _RTS["mode"], lv)
    return _select_dim(input, idx, d, keepdim, _RTS["mode"])


def count_nonzero(input, dim=None):
    """The number of non-zero elements (over ``dim``, an int or tuple), as int64.

    >>> import chainrule
    >>> chainrule.count_nonzero(chainrule.tensor([[0, 1], [2, 3]]), dim=0)
    tensor([1, 2])
    """
    _check_input(input, "count_nonzero")
    axes = _dims(dim, input._data.ndim, "count_nonzero")
    if type(input._data) is not _nd:
        return _batched_reduce(input._data, axes, False, _count_nonzero, out_dtype=np.int64)
    return _make(np.asarray(np.count_nonzero(input._data, axis=axes), np.int64))


def _count_nonzero(a, axis, keepdims):
    return np.count_nonzero(a, axis=axis)


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` in one call.

    >>> import chainrule
    >>> chainrule.aminmax(chainrule.tensor([3.0, 1.0, 2.0])).max
    tensor(3.)
    """
    _check_input(input, "aminmax")
    if dim is None and input._data.ndim and input._data.size == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                           "operation has no identity.")
    d = () if dim is None else dim
    return _RTS["aminmax"](_amax_amin(input, d, keepdim, False, "aminmax"),
                           _amax_amin(input, d, keepdim, True, "aminmax"))


_RTS = {n: _return_type(n) for n in ("cummax", "cummin", "median", "nanmedian", "mode")}
_RTS["aminmax"] = _return_type("aminmax", ("min", "max"))


# -- vmap support for composites in functional_ops -------------------------------------------
def _count_notnan(a, axis, keepdims=False):
    return np.sum(~np.isnan(a), axis=axis, keepdims=keepdims)


def _lse_shift(a, axes):
    """logsumexp's constant shift for data batched by vmap: each sample's max over ``axes``
    (kept), 0 where infinite."""
    lv, r = _unb(a)
    L = len(lv)
    ax = tuple(range(L, r.ndim)) if axes is None else tuple(k + L for k in axes)
    m = np.max(r, axis=ax, keepdims=True) if ax else r
    return _rewrap(np.where(np.isfinite(m), m, 0).astype(r.dtype), lv)


def _quantile_core(x, qs, ignore_nan, interpolation):
    """quantile's selection: x holds each row's values on its last dim; returns the (Q, *rows)
    quantiles (rows keeping a size-1 last dim), interpolated between the sorted values (NaNs
    sort last) that receive the gradient."""
    from . import shape as S
    lv, xd = _unb(x._data)
    L = len(lv)          # vmap batch dims leading xd (0 outside vmap)
    n = xd.shape[-1]
    nan = np.isnan(xd)
    cnt = (n - nan.sum(-1, keepdims=True)) if ignore_nan else np.full(xd.shape[:-1] + (1,), n)
    rank = qs.reshape((-1,) + (1,) * xd.ndim) * np.maximum(cnt - 1, 0)   # (Q, ..., 1)
    if not ignore_nan:
        # a row with NaN gives its last sorted value, a NaN (which receives the gradient)
        rank = np.where(nan.any(-1, keepdims=True), float(n - 1), rank)
    if interpolation == "lower":
        rank = np.floor(rank)
    elif interpolation == "higher":
        rank = np.ceil(rank)
    elif interpolation == "nearest":
        rank = np.round(rank)          # half to even, as torch
    lo = np.floor(rank).astype(np.int64)
    hi = np.ceil(rank).astype(np.int64)
    w = np.full(rank.shape, 0.5) if interpolation == "midpoint" else rank - lo
    order = np.argsort(xd, axis=-1, kind="stable")        # NaNs sort last
    big = S.expand(S.unsqueeze(x, 0), (len(qs),) + tuple(x._data.shape))
    if L:
        # the q dim goes after the batch dims
        lo, hi, w = (np.moveaxis(t, 0, L) for t in (lo, hi, w))
        order = np.expand_dims(order, L)
    full = np.broadcast_to(order, lo.shape[:-1] + (n,))
    pos_lo = np.take_along_axis(full, lo, -1)
    pos_hi = np.take_along_axis(full, hi, -1)
    if L:
        last = x._data.ndim
        v_lo = TakeAlongT.apply(big, _rewrap(pos_lo, lv), last)
        v_hi = TakeAlongT.apply(big, _rewrap(pos_hi, lv), last)
        return v_lo + _rewrap(w.astype(xd.dtype), lv) * (v_hi - v_lo)
    v_lo = TakeAlong.apply(big, pos_lo, -1)
    v_hi = TakeAlong.apply(big, pos_hi, -1)
    return v_lo + _make(w.astype(xd.dtype)) * (v_hi - v_lo)
