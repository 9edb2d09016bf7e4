"""Indexing primitives: getitem (basic and advanced), its scatter-add adjoint, index_put."""
import numpy as np

from .. import backend
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import _mode
from . import _xp

__all__ = ["nonzero"]

_make = Tensor._make


def _norm_index(idx, shape=None):
    """NumPy index from a torch-style one; returns (index, is_basic)."""
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
            if k.dtype == np.uint8:
                k = k.astype(bool)
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
        if isinstance(k, np.ndarray):
            basic = False
        out.append(k)
    return tuple(out), basic


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
        out = a.copy()
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
    from .inplace import _check_inplace, _bump
    nidx, basic = _norm_index(idx)
    tshape = np.empty(x._data.shape, bool)[nidx].shape
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
    if not record:
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
    nz = np.nonzero(input._data) if input._data.ndim else np.nonzero(input._data.reshape(1))
    if as_tuple:
        return tuple(_make(a.astype(np.int64)) for a in nz)
    return _make(np.stack(nz, axis=1).astype(np.int64) if nz else
                 np.zeros((0, 0), np.int64))


# -- catalogue: more indexing ops (issue 3) ---------------------------------------------------
