"""Indexing primitives: getitem (basic and advanced), its scatter-add adjoint, index_put."""
import collections

import numpy as np

from .. import backend
from .._tensor import Tensor, _wrap_dim
from ..autograd._transforms import BatchedData as _BatchedData
from ..autograd.function import Op
from ..autograd.grad_mode import _mode
from . import _xp

__all__ = ["nonzero", "argwhere", "gather", "scatter", "scatter_add", "scatter_reduce",
           "index_select", "index_add", "index_copy", "index_fill", "index_put", "masked_fill",
           "masked_select", "masked_scatter", "take_along_dim", "take", "put", "sort",
           "argsort", "msort", "topk", "kthvalue", "unique", "unique_consecutive",
           "searchsorted", "bucketize"]

_make = Tensor._make
_nd = np.ndarray


def _R():
    from . import reduce
    return reduce


def _batched_order(input, d, descending):
    """For data batched by vmap: (the sort order along logical dim d as a raw array with the
    batch dims first, the vmap levels)."""
    lv, r = _R()._unb(input._data)
    return _order(r, d + len(lv), descending), lv


def _norm_index(idx, ints=True):
    """NumPy index from a torch-style one; returns (index, is_basic). With ``ints``, 0-d
    integer tensors become ints (as torch's ``x[t]``; index_put keeps them as tensors)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    basic = True
    for k in idx:
        if isinstance(k, Tensor):
            k = k._data
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
            if type(k) is _BatchedData:
                pass        # under vmap: an advanced index per sample (the rule maps it)
            elif k.dtype == np.uint8:
                k = k.astype(bool)
            elif ints and k.ndim == 0 and k.dtype.kind in "iu":
                k = int(k)       # a 0-d integer tensor indexes like an int (a view), as torch
        elif type(k) is _BatchedData:
            pass
        elif isinstance(k, (list, np.ndarray)):
            k = np.asarray(k)
            if k.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
        elif isinstance(k, (bool, np.bool_)):
            k = np.asarray(k)
        elif not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices (got "
                             f"{type(k).__name__})")
        if isinstance(k, np.ndarray) or type(k) is _BatchedData:
            basic = False
        out.append(k)
    return tuple(out), basic


def _split(nidx):
    """torch applies integer indices (selects) before advanced ones, where NumPy would treat
    them as advanced too: (the basic part, the rest) when an index mixes both, else None."""
    arrays = (np.ndarray, _BatchedData)      # an index tensor's data, batched under vmap
    if not any(type(k) in arrays for k in nidx) or not any(
            isinstance(k, (int, np.integer)) for k in nidx):
        return None
    first, rest = [], []
    for k in nidx:
        if isinstance(k, (int, np.integer)):
            first.append(k)
        elif type(k) in arrays:
            first.extend([slice(None)] * (k.ndim if k.dtype == bool else 1))
            rest.append(k)
        else:      # slice, Ellipsis or None
            first.append(k)
            rest.append(k if k is Ellipsis else slice(None))
    return tuple(first), tuple(rest)


def _adv_to_int(idx, shape):
    """Bool masks become integer index arrays (np.add.at wants those)."""
    res = []
    dim = 0
    ell = sum(1 for k in idx if k is not None and k is not Ellipsis and not (
        isinstance(k, np.ndarray) and k.dtype == bool)) + sum(
        k.ndim for k in idx if isinstance(k, np.ndarray) and k.dtype == bool)
    for k in idx:
        if k is Ellipsis:
            n = len(shape) - ell
            res.append(k)
            dim += n
        elif k is None:
            res.append(k)
        elif isinstance(k, np.ndarray) and k.dtype == bool:
            res.extend(np.nonzero(k))
            dim += k.ndim
        else:
            res.append(k)
            dim += 1
    return tuple(res)


class GetItem(Op):
    @staticmethod
    def forward(ctx, a, idx, basic):
        ctx.info = (a.shape, idx, basic)
        return a[idx]

    @staticmethod
    def backward(ctx, g):
        shape, idx, basic = ctx.info
        return _xp.call(IndexGrad, g, shape, idx, basic)


class IndexGrad(Op):
    """zeros(shape) with g added at idx; repeated indices accumulate (scatter-add)."""

    @staticmethod
    def forward(ctx, g, shape, idx, basic):
        ctx.info = (idx, basic)
        z = np.zeros(shape, g.dtype)
        if basic or all(k.dtype == bool for k in idx if isinstance(k, np.ndarray)):
            z[idx] = g       # no position repeats: plain assignment
        else:
            backend.add_at(z, _adv_to_int(idx, shape), g)
        return z

    @staticmethod
    def backward(ctx, gg):
        idx, basic = ctx.info
        return _xp.call(GetItem, gg, idx, basic)


class IndexPut(Op):
    """a copy of ``a`` with ``a[idx] = v`` (v broadcast); gradient to v is g[idx]."""

    @staticmethod
    def forward(ctx, a, v, idx, basic):
        ctx.info = (idx, basic)
        out = np.array(a)       # a copy (a may arrive as a NumPy scalar)
        out[idx] = v
        return out

    @staticmethod
    def backward(ctx, g):
        idx, basic = ctx.info
        n = ctx.needs_input_grad
        ga = _xp.call(IndexPut, g, 0.0, idx, basic) if n[0] else None
        gv = _xp.call(GetItem, g, idx, basic) if n[1] else None
        return ga, gv


def getitem(x, idx):
    """``x[idx]``: integers, slices, None, Ellipsis, bool masks and integer tensors.

    >>> import chainrule
    >>> chainrule.arange(6).reshape(2, 3)[:, 1]
    tensor([1, 4])
    """
    nidx, basic = _norm_index(idx)
    sp = _split(nidx)
    if sp is not None:
        return getitem(getitem(x, sp[0]), sp[1])
    try:
        out = GetItem.apply(x, nidx, basic)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None
    if basic:
        from .shape import _as_view
        _as_view(out, x, lambda b: b[nidx])
    return out


def setitem(x, idx, value):
    """``x[idx] = value``: in place, recorded as a differentiable index_put."""
    from .inplace import _bump, _check_inplace, _duals
    from ..autograd import _transforms as _T
    nidx, basic = _norm_index(idx)
    sp = _split(nidx)
    if sp is not None:
        return setitem(getitem(x, sp[0]), sp[1], value)
    # under vmap an index tensor is batched: its per-sample shape gives the result's
    batched = any(type(k) is _BatchedData for k in nidx)
    probe = tuple(np.zeros(k.shape, np.int64) if type(k) is _BatchedData else k
                  for k in nidx) if batched else nidx
    tshape = np.empty(x._data.shape, bool)[probe].shape
    vshape = np.shape(value._data if isinstance(value, Tensor) else value)
    if len(vshape) > len(tshape):
        # torch drops leading size-1 dims of the value
        lead = len(vshape) - len(tshape)
        if any(s != 1 for s in vshape[:lead]):
            raise RuntimeError(f"index_put_: shape mismatch: value tensor of shape "
                               f"{list(vshape)} cannot be broadcast to indexing result of "
                               f"shape {list(tshape)}")
        value = value.reshape(vshape[lead:]) if isinstance(value, Tensor) else \
            np.reshape(value, vshape[lead:])
    v = value._data if isinstance(value, Tensor) else value
    record = _mode.grad and (x._rg or isinstance(value, Tensor) and value._rg)
    _check_inplace(x, record)
    if not record and not batched and not (_T.STACK and _duals(x, (value,))):
        try:
            x._data[nidx] = v
        except ValueError as e:
            raise RuntimeError(f"index_put_: {e} (tensor of shape {list(x.shape)}, value "
                               f"shape {list(np.shape(v))})") from None
        _bump(x)
        return
    from .inplace import inplace
    if isinstance(value, Tensor) and value._data.dtype != x._data.dtype:
        value = value.to(x.dtype)
    try:
        np.broadcast_to(np.empty(np.shape(v), bool), tshape)
    except ValueError as e:
        raise RuntimeError(f"index_put_: {e} (tensor of shape {list(x.shape)}, value shape "
                           f"{list(np.shape(v))})") from None
    inplace(x, lambda t, val: IndexPut.apply(t, val, nidx, basic), value, name="index_put_")


def nonzero(input, *, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or a tuple of 1-D tensors.

    >>> import chainrule
    >>> chainrule.nonzero(chainrule.tensor([0, 3, 0, 5]))
    tensor([[1],
            [3]])
    """
    _tensor_arg(input, "nonzero", "input", 1)
    a = input._data
    if a.ndim == 0:
        # a 0-d input counts as one element: rows of zero coordinates (or a 1-D tuple)
        hit = int(bool(a))
        if as_tuple:
            return (_make(np.zeros(hit, np.int64)),)
        return _make(np.zeros((hit, 0), np.int64))
    nz = np.nonzero(a)
    if as_tuple:
        return tuple(_make(i.astype(np.int64)) for i in nz)
    return _make(np.stack(nz, axis=1).astype(np.int64))


# -- catalogue: more indexing ops (issue 3) ---------------------------------------------------
def _ret(name, fields):
    """A named tuple printed like torch.return_types.<name>."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"chainrule.return_types.{name}(\n{body})"
    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__})
    cls.__module__ = "chainrule.return_types"
    return cls


_sort_t = _ret("sort", ["values", "indices"])
_topk_t = _ret("topk", ["values", "indices"])
_kth_t = _ret("kthvalue", ["values", "indices"])


def _grid(idx, dim):
    """Open index grid selecting, at each position of idx, element idx[...] along ``dim``."""
    nd = idx.ndim
    return tuple(idx if d == dim else np.arange(s).reshape((-1,) + (1,) * (nd - d - 1))
                 for d, s in enumerate(idx.shape))


_IDENT = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}


def _identity(reduce, npd):
    """The value reduce starts from in dtype npd (the dtype's extremes for amax/amin)."""
    v = _IDENT[reduce]
    if not np.isinf(v) or npd.kind == "f":
        return v
    if npd.kind == "b":
        return bool(v > 0)
    info = np.iinfo(npd)
    return info.min if v < 0 else info.max


class Gather(Op):
    """out[...] = a[..., idx[...], ...] along dim (idx as large as a apart from dim, or
    smaller)."""

    @staticmethod
    def forward(ctx, a, dim, idx):
        ctx.info = (a.shape, dim, idx)
        return a[_grid(idx, dim)]

    @staticmethod
    def backward(ctx, g):
        shape, dim, idx = ctx.info
        z = _xp.zeros(shape, g)
        return _xp.call(ScatterReduce, z, dim, idx, g, "sum", True), None, None


class Scatter(Op):
    """a copy of a with src (an array of idx's shape, or a number) written at idx along dim."""

    @staticmethod
    def forward(ctx, a, dim, idx, src):
        ctx.info = (dim, idx)
        out = np.array(a)       # a copy (a may arrive as a NumPy scalar)
        out[_grid(idx, dim)] = src
        return out

    @staticmethod
    def backward(ctx, g):
        dim, idx = ctx.info
        n = ctx.needs_input_grad
        ga = _xp.call(Scatter, g, dim, idx, 0.0) if n[0] else None
        gs = _xp.call(Gather, g, dim, idx) if n[3] else None
        return ga, None, None, gs


class ScatterReduce(Op):
    """a with src reduced into it at idx along dim ('sum', 'prod', 'mean', 'amax', 'amin');
    include_self=False leaves a's old value out wherever something lands."""

    @staticmethod
    def forward(ctx, a, dim, idx, src, reduce, include_self):
        grid = _grid(idx, dim)
        out = np.array(a)       # a copy (a may arrive as a NumPy scalar)
        hits = np.zeros(a.shape, np.int64)
        backend.add_at(hits, grid, 1)
        keep = (hits == 0) if not include_self else np.ones(a.shape, bool)
        if not include_self:
            out[~keep] = _identity(reduce, a.dtype)
        if reduce in ("sum", "mean"):
            backend.add_at(out, grid, src)
        else:
            backend.ufunc_at({"prod": np.multiply, "amax": np.maximum,
                              "amin": np.minimum}[reduce], out, grid, src)
        cnt = None
        if reduce == "mean":
            cnt = hits + keep
            out = out // cnt if a.dtype.kind in "iu" else (out / cnt).astype(a.dtype)
        ctx.info = (dim, idx, reduce, include_self, keep, cnt)
        if reduce in ("amax", "amin"):
            self_is = keep & ((a == out) | (hits == 0))
            src_is = src == out[grid]
            n = self_is.astype(a.dtype)
            backend.add_at(n, grid, src_is)
            ctx.info += (self_is, src_is, np.maximum(n, 1))
        elif reduce == "prod":
            n = ctx.needs_input_grad
            ctx.save_for_backward(a if n[0] or n[3] else None, src if n[0] or n[3] else None,
                                  out)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, idx, reduce, include_self, keep, cnt = ctx.info[:6]
        n = ctx.needs_input_grad
        ga = gs = None
        if reduce in ("sum", "mean"):
            if reduce == "mean":
                g = g / cnt
            ga = (g if include_self else g * keep) if n[0] else None
            gs = _xp.call(Gather, g, dim, idx) if n[3] else None
        elif reduce in ("amax", "amin"):
            self_is, src_is, cnt = ctx.info[6:]
            g = g / cnt
            ga = g * self_is if n[0] else None
            gs = _xp.call(Gather, g, dim, idx) * src_is if n[3] else None
        else:
            ga, gs = _prod_grads(ctx, g, dim, idx, include_self, keep)
        return ga, None, None, gs, None, None


def _lift_b(t, B):
    """A tensor (or array, or number) not batched at this vmap level, repeated over it."""
    return _R()._lift(t, B) if isinstance(t, (Tensor, np.ndarray)) else t


def _scatter_vmap(cls, args, bat, kwargs, B):
    """Batching rule of the scatters whose index is a tensor argument (batched by vmap): every
    tensor argument with the batch first, the dim one further on."""
    a, dim, idx, src = args[:4]
    return cls.apply(a if bat[0] else _lift_b(a, B), dim + 1, idx if bat[2] else _lift_b(idx, B),
                     src if bat[3] or not isinstance(src, Tensor) else _lift_b(src, B),
                     *args[4:], **kwargs)


class ScatterT(Scatter):
    """Scatter with the index a tensor argument, so that vmap can batch it (the gradients are
    Scatter's: they run on the physical arrays)."""
    vmap_rule = staticmethod(_scatter_vmap)


class ScatterReduceT(ScatterReduce):
    """ScatterReduce with the index a tensor argument (batchable by vmap)."""
    vmap_rule = staticmethod(_scatter_vmap)


def _prod_grads(ctx, g, dim, idx, include_self, keep):
    """Gradients of a scatter product: the product of the other members of each group (zeros
    handled exactly: a group with one zero passes the product of the rest to that zero)."""
    a, src, out = ctx.saved_tensors
    n = ctx.needs_input_grad
    za, zs = _raw(a) == 0, _raw(src) == 0
    grid = _grid(idx, dim)
    zeros = (keep & za).astype(np.int64)
    backend.add_at(zeros, grid, zs)
    one = zeros == 1
    others = None
    if (one & (keep & za)).any() or (one[grid] & zs).any():
        others = _xp.call(ScatterReduce, _xp.where(za, 1.0, a), dim, idx,
                          _xp.where(zs, 1.0, src), "prod", include_self) * one
    ga = gs = None
    if n[0]:
        r = out / _xp.where(za, 1.0, a)
        if others is not None:
            r = _xp.where(za, others, r)
        ga = g * r * keep
    if n[3]:
        gs = _xp.call(Gather, g * out, dim, idx) / _xp.where(zs, 1.0, src)
        if others is not None:
            gs = _xp.where(zs, _xp.call(Gather, g * others, dim, idx), gs)
    return ga, gs


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


# -- validation helpers -----------------------------------------------------------------------
def _tensor_arg(x, op, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _index_of(index, op, pos=3):
    """The int64 array of an int32/int64 index tensor."""
    _tensor_arg(index, op, "index", pos)
    a = index._data
    if a.dtype != np.int64 and a.dtype != np.int32:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got "
                           f"{index.dtype.name}")
    return a.astype(np.int64, copy=False)


def _check_bounds(idx, size, dim, exc=RuntimeError, op=""):
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = idx.min() if idx.min() < 0 else idx.max()
        pre = f"{op}: " if op else ""
        raise exc(f"{pre}index {bad} is out of bounds for dimension {dim} with size {size}")


def _same_dtype(x, y, op):
    if x._data.dtype != y._data.dtype:
        raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got "
                           f"{x.dtype.name} and {y.dtype.name})")


def _scatter_prep(input, dim, index, src, op):
    """Validate a scatter-family call; returns (input, dim, idx, src, squeeze) with 0-d
    operands lifted to 1-D (squeeze says to drop that dim again) and src cut to idx's shape."""
    _tensor_arg(input, op, "input", 1)
    if isinstance(index, Tensor) and type(index._data) is not _nd:
        # an index batched by vmap: a tensor argument of ScatterT/ScatterReduceT
        raw = _raw_index(index, op)
        idx = index if index._data.dtype == np.int64 else index.long()
    else:
        raw = idx = _index_of(index, op)
    d = _wrap_dim(dim, input._data.ndim, op)
    is_t = isinstance(src, Tensor)
    squeeze = input._data.ndim == 0
    if squeeze:
        input = input.reshape(1)
    if idx.ndim == 0:
        idx = idx.reshape(1)
    if is_t and src._data.ndim == 0:
        src = src.reshape(1)
    shape = input._data.shape
    for what, n in (("self", len(shape)), ("src", src._data.ndim if is_t else idx.ndim)):
        if idx.ndim != n:
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions "
                               f"as {what} tensor ({idx.ndim} vs {n})")
    big = any(s > shape[k] for k, s in enumerate(idx.shape) if k != d)
    if is_t:
        big = big or any(s > t for s, t in zip(idx.shape, src._data.shape))
    if big:
        extra = f" and to be no larger size than src {list(src.shape)}" if is_t else ""
        raise RuntimeError(f"{op}(): Expected index {list(idx.shape)} to be no larger than self "
                           f"{list(shape)} apart from dimension {d}{extra}")
    _check_bounds(raw, shape[d], d)
    if is_t and src._data.shape != tuple(idx.shape):
        src = getitem(src, tuple(slice(0, s) for s in idx.shape))
    return input, d, idx, src, squeeze


def _done(out, squeeze):
    return out.reshape(()) if squeeze else out


def gather(input, dim, index, *, sparse_grad=False):
    """Values of input along ``dim`` at ``index`` (same number of dims as input).

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> chainrule.gather(x, 1, chainrule.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    _tensor_arg(input, "gather", "input", 1)
    if isinstance(index, Tensor) and type(index._data) is not _nd:
        return _gather_batched(input, dim, index, "gather")
    idx = _index_of(index, "gather")
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "gather")
    if idx.ndim != nd and not (nd <= 1 and idx.ndim <= 1):
        raise RuntimeError("gather(): Index tensor must have the same number of dimensions as "
                           f"input tensor ({idx.ndim} vs {nd})")
    x = input.reshape(1) if nd == 0 else input
    i1 = idx.reshape(1) if idx.ndim == 0 else idx
    shape = x._data.shape
    for k, s in enumerate(i1.shape):
        if k != d and s > shape[k]:
            raise RuntimeError(f"gather(): Size does not match at dimension {k} expected index "
                               f"{list(idx.shape)} to be no larger than self {list(shape)} "
                               f"apart from dimension {d}")
    _check_bounds(i1, shape[d], d)
    out = Gather.apply(x, d, i1)
    return out.reshape(idx.shape) if i1 is not idx else out


def _raw_index(index, op, pos=3):
    """The raw int array of an index tensor batched by vmap (batch dims first), checked."""
    _tensor_arg(index, op, "index", pos)
    if index._data.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got "
                           f"{index.dtype.name}")
    return _R()._unb(index._data)[1]


def _gather_batched(input, dim, index, op):
    """gather with an index batched by vmap (computed from batched values, say): the gather
    runs as one primitive over the batch, the index a tensor argument."""
    raw = _raw_index(index, op)
    nd, ind = input._data.ndim, index._data.ndim
    d = _wrap_dim(dim, nd, op)
    if ind != nd and not (nd <= 1 and ind <= 1):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"input tensor ({ind} vs {nd})")
    x = input.reshape(1) if nd == 0 else input
    i1 = index.reshape(1) if ind == 0 else index
    shape, ishape = x._data.shape, i1._data.shape
    for k, s in enumerate(ishape):
        if k != d and s > shape[k]:
            raise RuntimeError(f"{op}(): Size does not match at dimension {k} expected index "
                               f"{list(index.shape)} to be no larger than self {list(shape)} "
                               f"apart from dimension {d}")
    _check_bounds(raw, shape[d], d)
    out = _R().TakeAlongT.apply(x, i1, d)
    return out.reshape(()) if ind == 0 else out


def _scatter_src(src, value, input, op):
    if src is None and value is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'src' or 'value'")
    if src is None or not isinstance(src, Tensor):
        v = src if src is not None else value
        if isinstance(v, Tensor) or not isinstance(v, (int, float, bool, np.number)):
            raise TypeError(f"{op}(): argument 'value' must be Number, not "
                            f"{type(v).__name__}")
        return None, np.asarray(v).astype(input._data.dtype).item()
    _same_dtype(input, src, op)
    return src, None


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of input with ``src`` (a tensor, or a number) written at ``index`` along
    ``dim``; ``reduce='add'`` or ``'multiply'`` combines instead of overwriting.

    >>> import chainrule
    >>> chainrule.zeros(3).scatter(0, chainrule.tensor([2, 0]), chainrule.tensor([5.0, 7.0]))
    tensor([7., 0., 5.])
    """
    s, v = _scatter_src(src, value, input, "scatter")
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    x, d, idx, s, sq = _scatter_prep(input, dim, index, s, "scatter")
    bt = isinstance(idx, Tensor)
    if reduce is None:
        return _done((ScatterT if bt else Scatter).apply(x, d, idx, s if s is not None else v),
                     sq)
    if s is None:
        s = _make(np.full(tuple(idx.shape), v, x._data.dtype))
    return _done((ScatterReduceT if bt else ScatterReduce).apply(
        x, d, idx, s, "sum" if reduce == "add" else "prod", True), sq)


def scatter_add(input, dim, index, src):
    """A copy of input with ``src`` added at ``index`` along ``dim`` (repeats accumulate).

    >>> import chainrule
    >>> chainrule.zeros(3).scatter_add(0, chainrule.tensor([2, 2]), chainrule.ones(2))
    tensor([0., 0., 2.])
    """
    _tensor_arg(src, "scatter_add", "src", 4)
    _tensor_arg(input, "scatter_add", "input", 1)
    _same_dtype(input, src, "scatter_add")
    x, d, idx, s, sq = _scatter_prep(input, dim, index, src, "scatter_add")
    op = ScatterReduceT if isinstance(idx, Tensor) else ScatterReduce
    return _done(op.apply(x, d, idx, s, "sum", True), sq)


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into a copy of input at ``index`` along ``dim`` with 'sum', 'prod',
    'mean', 'amax' or 'amin' (ties in amax/amin share the gradient evenly).

    >>> import chainrule
    >>> x = chainrule.tensor([1.0, 2.0])
    >>> x.scatter_reduce(0, chainrule.tensor([0, 0]), chainrule.tensor([5.0, 3.0]), "amax")
    tensor([5., 2.])
    """
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    _tensor_arg(src, "scatter_reduce", "src", 4)
    _tensor_arg(input, "scatter_reduce", "input", 1)
    _same_dtype(input, src, "scatter_reduce")
    x, d, idx, s, sq = _scatter_prep(input, dim, index, src, "scatter_reduce")
    op = ScatterReduceT if isinstance(idx, Tensor) else ScatterReduce
    return _done(op.apply(x, d, idx, s, reduce, bool(include_self)), sq)


def _dim_index(index, op):
    """A 1-D int index for index_* ops (0-d counts as one element)."""
    idx = _index_of(index, op)
    if idx.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    return idx.reshape(-1)


def _dim_key(d, idx):
    return (slice(None),) * d + (idx,)


def index_select(input, dim, index):
    """The slices of input along ``dim`` listed in the 1-D ``index``.

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> chainrule.index_select(x, 0, chainrule.tensor([1, 1]))
    tensor([[3., 4.],
            [3., 4.]])
    """
    _tensor_arg(input, "index_select", "input", 1)
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "index_select")
    if isinstance(index, Tensor) and type(index._data) is not _nd:
        return _index_select_batched(input, d, index)
    idx = _dim_index(index, "index_select")
    if nd == 0:
        if idx.size != 1:
            raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                               f"{idx.size} value(s)")
        _check_bounds(idx, 1, 0, IndexError, "index_select()")
        return input * 1 if input._data.dtype.kind == "f" else _make(input._data.copy())
    if idx.size and (idx.min() < 0 or idx.max() >= input._data.shape[d]):
        raise IndexError(f"index_select(): index out of range in self (index "
                         f"{idx.min() if idx.min() < 0 else idx.max()}, size "
                         f"{input._data.shape[d]} at dim {d})")
    return GetItem.apply(input, _dim_key(d, idx), False)


def _index_select_batched(input, d, index):
    """index_select with an index batched by vmap: a gather of the broadcast index."""
    raw = _raw_index(index, "index_select", 3)
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    shape = input._data.shape
    n = shape[d] if shape else 1
    k = index._data.size
    if raw.size and (raw.min() < 0 or raw.max() >= n):
        raise IndexError(f"index_select(): index out of range in self (index "
                         f"{raw.min() if raw.min() < 0 else raw.max()}, size {n} at dim {d})")
    if not shape:
        if k != 1:
            raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                               f"{k} value(s)")
        return input * 1 if input._data.dtype.kind == "f" else input.clone()
    i = index.reshape((1,) * d + (k,) + (1,) * (len(shape) - d - 1))
    return _R().TakeAlongT.apply(input, i.expand(*(shape[:d] + (k,) + shape[d + 1:])), d)


def _index_source(input, dim, index, source, op, same_dtype_msg, count_exc):
    """Shared checks of index_add/index_copy: returns (dim, idx, source, squeeze)."""
    _tensor_arg(input, op, "input", 1)
    _tensor_arg(source, op, "source", 4)
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, op)
    idx = _dim_index_any(index, op)
    if input._data.dtype != source._data.dtype:
        raise RuntimeError(same_dtype_msg.format(input.dtype.name.capitalize(),
                                                 source.dtype.name.capitalize()))
    shape = input._data.shape or (1,)
    ss = source._data.shape or (1,)
    if len(ss) != len(shape) or any(s != t for k, (s, t) in enumerate(zip(ss, shape))
                                    if k != d):
        raise RuntimeError(f"{op}(): source {list(source.shape)} and self {list(input.shape)} "
                           f"must have the same slice shapes apart from dimension {d}")
    k = _count(idx)
    if k != ss[d]:
        raise count_exc(f"{op}(): Number of indices ({k}) should be equal to "
                         f"source.size(dim) ({ss[d]})")
    return d, idx, shape


def _dim_index_any(index, op):
    """_dim_index, or for an index batched by vmap the flattened index tensor."""
    if isinstance(index, Tensor) and type(index._data) is not _nd:
        _raw_index(index, op)
        if index._data.ndim > 1:
            raise IndexError(f"{op}(): Index is supposed to be a vector")
        return index.reshape(-1)
    return _dim_index(index, op)


def _count(idx):
    return idx._data.size if isinstance(idx, Tensor) else idx.size


def _raw_of(idx):
    return _R()._unb(idx._data)[1] if isinstance(idx, Tensor) else idx


def _full_index(idx, d, shape):
    """A batched 1-D index along d broadcast to ``shape`` (with len(idx) at d): a gather or
    scatter index selecting whole slices."""
    k = idx._data.size
    i = idx.reshape((1,) * d + (k,) + (1,) * (len(shape) - d - 1))
    return i.expand(*(shape[:d] + (k,) + shape[d + 1:])).long()


def index_add(input, dim, index, source, *, alpha=1):
    """input with ``alpha * source`` added at the slices ``index`` along ``dim`` (repeated
    indices accumulate).

    >>> import chainrule
    >>> chainrule.zeros(3).index_add(0, chainrule.tensor([0, 0]), chainrule.tensor([1.0, 2.0]))
    tensor([3., 0., 0.])
    """
    d, idx, shape = _index_source(input, dim, index, source, "index_add",
                                  "index_add_(): self ({}) and source ({}) must have the same "
                                  "scalar type", RuntimeError)
    if input._data.ndim != source._data.ndim:
        raise RuntimeError("index_add(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = "
                           f"{list(input.shape)} source.shape = {list(source.shape)}")
    r = _raw_of(idx)
    if r.size and (r.min() < 0 or r.max() >= shape[d]):
        raise IndexError(f"index_add(): index out of range in self (dim {d}, size {shape[d]})")
    if alpha != 1:
        source = source * alpha
    x = input.reshape(shape) if input._data.ndim == 0 else input
    src = source.reshape(shape[:d] + (_count(idx),) + shape[d + 1:])
    if isinstance(idx, Tensor):
        out = ScatterReduceT.apply(x, d, _full_index(idx, d, shape), src, "sum", True)
        return out.reshape(input._data.shape) if out._data.shape != input._data.shape else out
    add = IndexGrad.apply(src, shape, _dim_key(d, idx), False)
    from .elementwise import add as _add
    out = _add(x, add)
    return out.reshape(input._data.shape) if out._data.shape != input._data.shape else out


def index_copy(input, dim, index, source):
    """input with the slices ``index`` along ``dim`` replaced by those of ``source``.

    >>> import chainrule
    >>> chainrule.zeros(3).index_copy(0, chainrule.tensor([2]), chainrule.tensor([5.0]))
    tensor([0., 0., 5.])
    """
    d, idx, shape = _index_source(input, dim, index, source, "index_copy",
                                  "index_copy_(): self and source expected to have the same "
                                  "dtype, but got (self) {} and (source) {}", IndexError)
    _check_bounds(_raw_of(idx), shape[d], d, IndexError, "index_copy_()")
    x = input.reshape(shape) if input._data.ndim == 0 else input
    src = source.reshape(shape[:d] + (_count(idx),) + shape[d + 1:])
    if isinstance(idx, Tensor):
        out = ScatterT.apply(x, d, _full_index(idx, d, shape), src)
    else:
        out = IndexPut.apply(x, src, _dim_key(d, idx), False)
    return out.reshape(input._data.shape) if out._data.shape != input._data.shape else out


def _fill_value(value, input, op):
    """A number cast to input's dtype, or a 0-d tensor cast (differentiably) to it."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        return value.to(input.dtype) if value._data.dtype != input._data.dtype else value
    if not isinstance(value, (int, float, bool, np.number)):
        raise TypeError(f"{op}(): argument 'value' must be Number, not {type(value).__name__}")
    return _make(np.asarray(value).astype(input._data.dtype))


def index_fill(input, dim, index, value):
    """input with the slices ``index`` along ``dim`` set to ``value`` (a number or 0-d tensor).

    >>> import chainrule
    >>> chainrule.zeros(2, 2).index_fill(1, chainrule.tensor([0]), -1.0)
    tensor([[-1.,  0.],
            [-1.,  0.]])
    """
    _tensor_arg(input, "index_fill", "input", 1)
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "index_fill")
    idx = _dim_index_any(index, "index_fill")
    shape = input._data.shape or (1,)
    _check_bounds(_raw_of(idx), shape[d], d, IndexError, "index_fill_()")
    v = _fill_value(value, input, "index_fill_")
    x = input.reshape(shape) if nd == 0 else input
    if isinstance(idx, Tensor):
        # vmap: a mask of the filled slots, each sample its own
        lv, r = _R()._unb(idx._data)
        L = len(lv)
        full = np.broadcast_to(r.reshape(r.shape[:L] + (1,) * d + r.shape[L:] +
                                         (1,) * (len(shape) - d - 1)),
                               r.shape[:L] + shape[:d] + r.shape[L:] + shape[d + 1:])
        mask = np.zeros(r.shape[:L] + shape, bool)
        np.put_along_axis(mask, full, True, d + L)
        from .elementwise import where
        out = where(_R()._rewrap(mask, lv), v, x)
        return out.reshape(()) if nd == 0 else out
    # a repeated index fills once (and passes the value one gradient per slot, as torch)
    out = IndexPut.apply(x, v, _dim_key(d, np.unique(idx)), False)
    return out.reshape(()) if nd == 0 else out


def _bool_mask(mask, op):
    _tensor_arg(mask, op, "mask", 2)
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    return mask


def _bcast(shapes, op):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"{op}: shapes {', '.join(str(list(s)) for s in shapes)} cannot be "
                           "broadcast together") from None


def masked_fill(input, mask, value):
    """input with ``value`` (a number or 0-d tensor) where the bool ``mask`` is True.

    >>> import chainrule
    >>> chainrule.zeros(3).masked_fill(chainrule.tensor([True, False, True]), 2.0)
    tensor([2., 0., 2.])
    """
    _tensor_arg(input, "masked_fill", "input", 1)
    _bool_mask(mask, "masked_fill_")
    _bcast((input._data.shape, mask._data.shape), "masked_fill")
    v = _fill_value(value, input, "masked_fill_")
    from .elementwise import where as _where
    return _where(mask, v, input)


def masked_select(input, mask):
    """The elements of input where ``mask`` is True, as a 1-D tensor (both broadcast).

    >>> import chainrule
    >>> chainrule.masked_select(chainrule.tensor([1.0, 2.0, 3.0]),
    ...                         chainrule.tensor([True, False, True]))
    tensor([1., 3.])
    """
    _tensor_arg(input, "masked_select", "input", 1)
    _tensor_arg(mask, "masked_select", "mask", 2)
    if mask._data.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = _bcast((input._data.shape, mask._data.shape), "masked_select")
    x = input.expand(shape) if input._data.shape != shape else input
    m = np.broadcast_to(mask._data, shape)
    return GetItem.apply(x, (m,), False)


def masked_scatter(input, mask, source):
    """input with the positions where ``mask`` is True filled, in order, by the first
    elements of ``source``.

    >>> import chainrule
    >>> chainrule.zeros(3).masked_scatter(chainrule.tensor([True, False, True]),
    ...                                   chainrule.tensor([1.0, 2.0]))
    tensor([1., 0., 2.])
    """
    _tensor_arg(input, "masked_scatter", "input", 1)
    _tensor_arg(source, "masked_scatter", "source", 3)
    _bool_mask(mask, "masked_scatter_")
    if input._data.dtype != source._data.dtype:
        raise RuntimeError("masked_scatter: expected self and source to have same dtypes but "
                           f"got {input.dtype.name.capitalize()} and "
                           f"{source.dtype.name.capitalize()}")
    shape = _bcast((input._data.shape, mask._data.shape), "masked_scatter")
    m = np.broadcast_to(mask._data, shape)
    k = int(m.sum())
    if source._data.size < k:
        raise RuntimeError("masked_scatter: Number of elements of source < number of ones in "
                           f"mask ({source._data.size} < {k})")
    x = input.expand(shape) if input._data.shape != shape else input
    src = source.reshape(-1)
    if src._data.size != k:
        src = getitem(src, slice(0, k))
    return IndexPut.apply(x, src, (m,), False)


def take_along_dim(input, indices, dim=None):
    """Gather along ``dim`` after broadcasting input and indices over the other dims; with
    ``dim=None`` both are flattened.

    >>> import chainrule
    >>> x = chainrule.tensor([[10.0, 30.0, 20.0]])
    >>> chainrule.take_along_dim(x, x.argsort(dim=1), dim=1)
    tensor([[10., 20., 30.]])
    """
    _tensor_arg(input, "take_along_dim", "input", 1)
    _tensor_arg(indices, "take_along_dim", "indices", 2)
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype.name.capitalize()}")
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    nd = input._data.ndim
    d = _wrap_dim(dim, nd, "take_along_dim")
    if indices._data.ndim != nd:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {nd} dimensions for input, and "
                           f"{indices._data.ndim} dimensions for indices")
    if nd == 0:
        raise IndexError("take_along_dim(): Dimension specified as 0 but tensor has no "
                         "dimensions")
    si, sx = list(indices._data.shape), list(input._data.shape)
    si[d] = sx[d] = 1
    b = list(_bcast((tuple(si), tuple(sx)), "take_along_dim"))
    bx, bi = list(b), list(b)
    bx[d], bi[d] = input._data.shape[d], indices._data.shape[d]
    x = input.expand(*bx) if tuple(bx) != input._data.shape else input
    if type(indices._data) is not _nd:
        return gather(x, d, indices.expand(*bi) if tuple(bi) != indices._data.shape else
                      indices)
    i = _make(np.broadcast_to(indices._data, tuple(bi)))
    return gather(x, d, i)


def take(input, index):
    """Elements of the flattened input at ``index`` (result has index's shape).

    >>> import chainrule
    >>> chainrule.take(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]), chainrule.tensor([3, 0]))
    tensor([4., 1.])
    """
    _tensor_arg(input, "take", "input", 1)
    n = input._data.size
    if isinstance(index, Tensor) and type(index._data) is not _nd:
        raw = _raw_index(index, "take", 2)
        if raw.size and (raw.min() < -n or raw.max() >= n):
            bad = raw.min() if raw.min() < -n else raw.max()
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                             "elements.")
        lv = _R()._unb(index._data)[0]
        i = _R()._rewrap(np.where(raw < 0, raw + n, raw), lv).reshape(-1)
        return _R().TakeAlongT.apply(input.reshape(-1), i, 0).reshape(index.shape)
    idx = _index_of(index, "take", 2)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    return GetItem.apply(input.reshape(-1), (idx,), False)


def put(input, index, source, accumulate=False):
    """A copy of input with its flattened positions ``index`` set to (or, with accumulate,
    increased by) ``source``.

    >>> import chainrule
    >>> chainrule.zeros(2, 2).put(chainrule.tensor([3]), chainrule.tensor([9.0]))
    tensor([[0., 0.],
            [0., 9.]])
    """
    _tensor_arg(input, "put", "input", 1)
    idx = _index_of(index, "put", 2)
    _tensor_arg(source, "put", "source", 3)
    n = input._data.size
    if idx.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {source._data.size}, "
                           f"index.numel() = {idx.size}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.min() if idx.min() < -n else idx.max()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    flat = index_put(input.reshape(-1), (_make(idx.reshape(-1)),), source.reshape(-1),
                     accumulate)
    return flat.reshape(input._data.shape)


def index_put(input, indices, values, accumulate=False):
    """A copy of input with ``input[indices] = values`` (or ``+=`` with ``accumulate``, where
    repeated indices add up); ``indices`` is a tuple of index tensors.

    >>> import chainrule
    >>> i = (chainrule.tensor([0, 0]),)
    >>> chainrule.zeros(2).index_put(i, chainrule.tensor(1.0), accumulate=True)
    tensor([2., 0.])
    """
    _tensor_arg(input, "index_put", "input", 1)
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for k, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {k} in argument 1, but got "
                            f"{type(t).__name__}")
    _tensor_arg(values, "index_put", "values", 3)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{input.dtype.name.capitalize()} for the destination and "
                           f"{values.dtype.name.capitalize()} for the source.")
    nidx, basic = _norm_index(tuple(indices), ints=False)
    probe = nidx
    if not basic and any(type(k) is _BatchedData for k in nidx):
        # under vmap: an index tensor's per-sample shape gives the result's
        probe = tuple(np.zeros(k.shape, np.int64) if type(k) is _BatchedData else k
                      for k in nidx)
    try:
        tshape = np.empty(input._data.shape, bool)[probe].shape
    except IndexError as e:
        raise IndexError(f"index_put: {e} (tensor of shape {list(input.shape)})") from None
    vshape = values._data.shape
    try:
        ok = len(vshape) <= len(tshape) and np.broadcast_shapes(vshape, tshape) == tshape
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be "
                           f"broadcast to indexing result of shape {list(tshape)}")
    if not accumulate:
        return IndexPut.apply(input, values, nidx, basic)
    v = values.expand(*tshape) if values._data.shape != tshape else values
    from .elementwise import add as _add
    return _add(input, IndexGrad.apply(v, input._data.shape, nidx, basic))


# -- sorting and searching (indices are constants; values gather differentiably) --------------
def _order(a, axis, descending):
    """Stable argsort along axis; descending keeps equal elements in their original order and
    puts NaN first (ascending puts it last), as torch."""
    if not descending:
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.flip(a, axis)
    return (n - 1) - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis)


def _sort_dim(input, dim, op):
    _tensor_arg(input, op, "input", 1)
    return _wrap_dim(dim, input._data.ndim, op)


def sort(input, dim=-1, descending=False, stable=False):
    """Sorted values and their indices along ``dim`` (stable; NaN sorts as the largest).

    >>> import chainrule
    >>> chainrule.sort(chainrule.tensor([3.0, 1.0, 2.0])).indices
    tensor([1, 2, 0])
    """
    d = _sort_dim(input, dim, "sort")
    if input._data.ndim == 0:
        return _sort_t(input * 1 if input._data.dtype.kind == "f" else
                       _make(input._data.copy()), _make(np.zeros((), np.int64)))
    if type(input._data) is not _nd:
        o, lv = _batched_order(input, d, descending)
        idx = _R()._rewrap(o, lv)
        return _sort_t(_R().TakeAlongT.apply(input, idx, d), idx)
    idx = _order(input._data, d, descending)
    return _sort_t(Gather.apply(input, d, idx), _make(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort input along ``dim``.

    >>> import chainrule
    >>> chainrule.argsort(chainrule.tensor([3.0, 1.0, 2.0]), descending=True)
    tensor([0, 2, 1])
    """
    d = _sort_dim(input, dim, "argsort")
    if input._data.ndim == 0:
        return _make(np.zeros((), np.int64))
    if type(input._data) is not _nd:
        return _R()._rewrap(*_batched_order(input, d, descending))
    return _make(_order(input._data, d, descending))


def msort(input):
    """input sorted along its first dim.

    >>> import chainrule
    >>> chainrule.msort(chainrule.tensor([[2.0], [1.0]]))
    tensor([[1.],
            [2.]])
    """
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices.

    >>> import chainrule
    >>> chainrule.topk(chainrule.tensor([1.0, 5.0, 3.0]), 2).values
    tensor([5., 3.])
    """
    d = _sort_dim(input, dim, "topk")
    n = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size {n} at dim {d})")
    if input._data.ndim == 0:
        r = sort(input)
        return _topk_t(*r) if k else _topk_t(_make(np.zeros(0, input._data.dtype)),
                                             _make(np.zeros(0, np.int64)))
    if type(input._data) is not _nd:
        o, lv = _batched_order(input, d, largest)
        idx = _R()._rewrap(np.take(o, np.arange(k), axis=d + len(lv)), lv)
        return _topk_t(_R().TakeAlongT.apply(input, idx, d), idx)
    idx = np.take(_order(input._data, d, largest), np.arange(k), axis=d)
    return _topk_t(Gather.apply(input, d, idx), _make(idx))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value along ``dim`` (k counts from 1) and its index.

    >>> import chainrule
    >>> chainrule.kthvalue(chainrule.tensor([3.0, 1.0, 2.0]), 2)
    chainrule.return_types.kthvalue(
    values=tensor(2.),
    indices=tensor(2))
    """
    d = _sort_dim(input, dim, "kthvalue")
    nd = input._data.ndim
    n = input._data.shape[d] if nd else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if nd == 0:
        return _kth_t(*sort(input))
    if type(input._data) is not _nd:
        o, lv = _batched_order(input, d, False)
        idx = np.take(o, [k - 1], axis=d + len(lv))
        return _R()._select_dim(input, idx, d, keepdim, _kth_t, lv)
    idx = np.take(_order(input._data, d, False), [k - 1], axis=d)
    vals = Gather.apply(input, d, idx)
    if not keepdim:
        vals, idx = vals.squeeze(d), idx.squeeze(d)
    return _kth_t(vals, _make(idx))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or, with ``dim``, distinct slices) in ascending order; optionally
    the inverse mapping and the counts (not differentiable).

    >>> import chainrule
    >>> chainrule.unique(chainrule.tensor([3, 1, 3]), return_counts=True)
    (tensor([1, 3]), tensor([1, 2]))
    """
    _tensor_arg(input, "unique", "input", 1)
    a = input._data
    if dim is None:
        vals, inv, cnt = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inv = inv.reshape(a.shape)
    else:
        d = _wrap_dim(dim, a.ndim, "unique")
        if a.ndim == 0:
            raise IndexError("unique(): dim out of range for a 0-d tensor")
        vals, inv, cnt = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    return _uniq_out(vals, inv, cnt, return_inverse, return_counts)


def _uniq_out(vals, inv, cnt, return_inverse, return_counts):
    out = (_make(vals),)
    if return_inverse:
        out += (_make(inv.astype(np.int64)),)
    if return_counts:
        out += (_make(cnt.astype(np.int64)),)
    return out[0] if len(out) == 1 else out


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive values (or slices along ``dim``).

    >>> import chainrule
    >>> chainrule.unique_consecutive(chainrule.tensor([1, 1, 2, 1]))
    tensor([1, 2, 1])
    """
    _tensor_arg(input, "unique_consecutive", "input", 1)
    a = input._data
    if dim is None:
        a, d = a.reshape(-1), 0
    else:
        d = _wrap_dim(dim, a.ndim, "unique_consecutive")
    m = np.moveaxis(a, d, 0).reshape(a.shape[d] if a.ndim else 1, -1)
    new = np.ones(m.shape[0], bool)
    new[1:] = (m[1:] != m[:-1]).any(axis=1)
    starts = np.flatnonzero(new)
    vals = np.take(a, starts, axis=d)
    inv = np.cumsum(new) - 1
    cnt = np.diff(np.append(starts, m.shape[0]))
    if dim is None:
        inv = inv.reshape(input._data.shape)
    return _uniq_out(vals, inv, cnt, return_inverse, return_counts)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Insertion points of ``input`` into the last dim of ``sorted_sequence`` (1-D, or with
    leading dims matching input's).

    >>> import chainrule
    >>> chainrule.searchsorted(chainrule.tensor([1, 3, 5]), chainrule.tensor([3, 6]))
    tensor([1, 3])
    """
    op = "torch.searchsorted()"
    _tensor_arg(sorted_sequence, "searchsorted", "sorted_sequence", 1)
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"{op}: side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError(f"{op}: side and right can't be set to opposites, got side of left "
                           "while right was True")
    sd = "right" if right or side == "right" else "left"
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    v = np.asarray(input) if scalar else input._data
    if scalar and seq.ndim != 1:
        raise RuntimeError(f"{op}: input value can be a scalar only when boundaries tensor "
                           f"dimension is 1, but we got boundaries tensor dim({seq.ndim}) and "
                           f"input value's dim(0) numel(1)")
    if seq.ndim == 0 or (seq.ndim > 1 and (v.ndim != seq.ndim or
                                           v.shape[:-1] != seq.shape[:-1])):
        raise RuntimeError(f"{op}: boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, "
                           f"but we got boundaries tensor {list(seq.shape)} and input value "
                           f"tensor {list(v.shape)}")
    srt = None
    if sorter is not None:
        srt = sorter._data
        if srt.shape != seq.shape:
            raise RuntimeError(f"{op}: boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor "
                               f"{list(srt.shape)}")
        if srt.dtype != np.int64:
            raise RuntimeError(f"{op}: sorter must be a tensor of long dtype but got "
                               f"{sorter.dtype.name}")
        if type(srt) is not _nd:
            srt = _R()._unb(srt)[1]
        if srt.size and (srt.min() < 0 or srt.max() >= seq.shape[-1]):
            raise RuntimeError(f"{op}: sorter index out of range")
    if type(seq) is not _nd or type(v) is not _nd or (
            srt is not None and type(sorter._data) is not _nd):
        return _searchsorted_batched(sorted_sequence, v, sd, sorter,
                                     np.int32 if out_int32 else np.int64)
    if seq.ndim == 1:
        out = np.searchsorted(seq, v, side=sd, sorter=srt)
    else:
        s2, v2 = seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1])
        o2 = [np.searchsorted(s2[r], v2[r], side=sd,
                              sorter=None if srt is None else srt.reshape(s2.shape)[r])
              for r in range(s2.shape[0])]
        out = np.stack(o2).reshape(v.shape) if o2 else np.zeros(v.shape, np.int64)
    return _make(np.asarray(out).astype(np.int32 if out_int32 else np.int64))


def _searchsorted_batched(seq_t, v, side, sorter, dtype):
    """searchsorted with vmap-batched operands: every operand on the raw arrays of all their
    levels (broadcast where not batched), one search per row of the flattened batch."""
    from ..autograd import _transforms as T
    seq = seq_t._data
    datas = [seq, v] + ([sorter._data] if sorter is not None else [])
    lv = T.union_levels(*(T.levels_of(x)[0] for x in datas))
    if seq.ndim == 1 and type(seq) is _nd and (sorter is None or type(sorter._data) is _nd):
        r = np.searchsorted(seq, T.phys_at(v, lv), side=side,
                            sorter=None if sorter is None else sorter._data)
        return _R()._rewrap(r.astype(dtype), lv)
    S = T.phys_at(seq, lv)
    V = T.phys_at(v, lv)
    # rows: one sequence each (per batch entry, and per leading dim of an N-d sequence); a
    # 1-D sequence's row holds all the values of its batch entry
    S2 = S.reshape(-1, S.shape[-1])
    out = np.zeros(V.shape, dtype)
    if S2.shape[0] and V.size:
        V2, o2 = V.reshape(S2.shape[0], -1), out.reshape(S2.shape[0], -1)
        O2 = None if sorter is None else T.phys_at(sorter._data, lv).reshape(S2.shape)
        for i in range(S2.shape[0]):
            o2[i] = np.searchsorted(S2[i], V2[i], side=side,
                                    sorter=None if O2 is None else O2[i])
    return _R()._rewrap(out, lv)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element of ``input`` given sorted 1-D ``boundaries`` (``right``
    picks which side of a boundary a tie falls on).

    >>> import chainrule
    >>> chainrule.bucketize(chainrule.tensor([1, 4]), chainrule.tensor([1, 3, 5]))
    tensor([0, 2])
    """
    _tensor_arg(boundaries, "bucketize", "boundaries", 2)
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def argwhere(input):
    """Indices of the non-zero elements, one row each (``nonzero``).

    >>> import chainrule
    >>> chainrule.argwhere(chainrule.tensor([0.0, 2.0]))
    tensor([[1]])
    """
    return nonzero(input)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """Reduce the slices of ``source`` into those of input listed in ``index`` along
    ``dim``, with 'prod', 'mean', 'amax' or 'amin'.

    >>> import chainrule
    >>> chainrule.ones(2).index_reduce(0, chainrule.tensor([0, 0]),
    ...                                chainrule.tensor([2.0, 3.0]), "prod")
    tensor([6., 1.])
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError("index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d, idx, shape = _index_source(input, dim, index, source, "index_reduce",
                                  "index_reduce_(): self ({}) and source ({}) must have the "
                                  "same scalar type", RuntimeError)
    _check_bounds(idx, shape[d], d, IndexError, "index_reduce_()")
    x = input.reshape(shape) if input._data.ndim == 0 else input
    ss = shape[:d] + (idx.size,) + shape[d + 1:]
    src = source.reshape(ss)
    full = np.broadcast_to(idx.reshape((-1,) + (1,) * (len(ss) - d - 1)), ss)
    out = ScatterReduce.apply(x, d, full, src, reduce, bool(include_self))
    return out.reshape(input._data.shape) if out._data.shape != input._data.shape else out


def index_put_(input, indices, values, accumulate=False):
    """In-place ``index_put``.

    >>> import chainrule
    >>> chainrule.index_put_(chainrule.zeros(2), (chainrule.tensor([1]),), chainrule.ones(1))
    tensor([0., 1.])
    """
    from .inplace import inplace
    return inplace(input, index_put, indices, values, accumulate, name="index_put_")


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero`` with exactly ``size`` rows: cut, or padded with ``fill_value``.

    >>> import chainrule
    >>> chainrule.nonzero_static(chainrule.tensor([0, 3]), size=2)
    tensor([[ 1],
            [-1]])
    """
    nz = nonzero(input)._data
    out = np.full((size, nz.shape[1]), fill_value, np.int64)
    k = min(size, nz.shape[0])
    out[:k] = nz[:k]
    return _make(out)


def _embed(input, src, key, view_shape, op):
    _tensor_arg(input, op, "input", 1)
    _tensor_arg(src, op, "src", 2)
    if tuple(src._data.shape) != tuple(view_shape):
        raise RuntimeError(f"{op}: expected src to have a size equal to the slice of self. src "
                           f"size = {list(src.shape)}, slice size = {list(view_shape)}")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}: expected src and self to have the same dtype, got "
                           f"{src.dtype.name} and {input.dtype.name}")
    return IndexPut.apply(input, src, key, True)


def _key_shape(a, key):
    """The shape of a[key] (from the logical shape when a is batched by vmap)."""
    if type(a) is _nd:
        return a[key].shape
    return np.empty(a.shape, bool)[key].shape


def select_scatter(input, src, dim, index):
    """A copy of input with ``input.select(dim, index)`` replaced by ``src``.

    >>> import chainrule
    >>> chainrule.select_scatter(chainrule.zeros(2, 2), chainrule.ones(2), 0, 1)
    tensor([[0., 0.],
            [1., 1.]])
    """
    _tensor_arg(input, "select_scatter", "input", 1)
    d = _wrap_dim(dim, input._data.ndim, "select_scatter")
    n = input._data.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {d}")
    key = (slice(None),) * d + (int(index),)
    return _embed(input, src, key, _key_shape(input._data, key), "select_scatter")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of input with the slice ``start:end:step`` of ``dim`` replaced by ``src``.

    >>> import chainrule
    >>> chainrule.slice_scatter(chainrule.zeros(4), chainrule.ones(2), 0, 1, None, 2)
    tensor([0., 1., 0., 1.])
    """
    _tensor_arg(input, "slice_scatter", "input", 1)
    d = _wrap_dim(dim, input._data.ndim, "slice_scatter")
    if step <= 0:
        raise RuntimeError("slice_scatter(): slice step must be positive")
    key = (slice(None),) * d + (slice(start, end, step),)
    return _embed(input, src, key, _key_shape(input._data, key), "slice_scatter")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with its diagonal (as ``torch.diagonal`` picks it) replaced by ``src``.

    >>> import chainrule
    >>> chainrule.diagonal_scatter(chainrule.zeros(2, 2), chainrule.ones(2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    _tensor_arg(input, "diagonal_scatter", "input", 1)
    nd = input._data.ndim
    d1, d2 = (_wrap_dim(k, nd, "diagonal_scatter") for k in (dim1, dim2))
    if d1 == d2:
        raise RuntimeError("diagonal_scatter(): dim1 and dim2 cannot be equal")
    perm = [k for k in range(nd) if k not in (d1, d2)] + [d1, d2]
    xp = input.permute(*perm)
    r, c = xp._data.shape[-2:]
    n = max(0, min(r + min(offset, 0), c - max(offset, 0)))
    i = np.arange(n)
    key = (Ellipsis, i - min(offset, 0), i + max(offset, 0))
    _tensor_arg(src, "diagonal_scatter", "src", 2)
    want = xp._data.shape[:-2] + (n,)
    if tuple(src._data.shape) != want:
        raise RuntimeError(f"diagonal_scatter: expected src to have a size equal to the "
                           f"diagonal of self. src size = {list(src.shape)}, diagonal size = "
                           f"{list(want)}")
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"diagonal_scatter: expected src and self to have the same dtype, "
                           f"got {src.dtype.name} and {input.dtype.name}")
    out = IndexPut.apply(xp, src, key, False)
    return out.permute(*np.argsort(perm).tolist())


__all__ += ["index_reduce", "index_put_", "nonzero_static", "select_scatter",
            "slice_scatter", "diagonal_scatter"]
