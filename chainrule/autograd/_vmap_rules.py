"""Batching rules: how each primitive runs on physical tensors whose dim 0 is the vmap batch.

A rule is ``rule(cls, args, bat, kwargs, B)``: ``args`` holds the physical tensor for each
batched argument (``bat[i]`` true) and the original object otherwise; it returns the physical
output(s), each with the batch as dim 0. Rules call primitives with ``.apply`` so the physical
computation is itself recorded (and differentiable) and lower transform levels still apply.
"""
import numpy as np

from .._tensor import Tensor
from ..ops import elementwise as E
from ..ops import index as IX
from ..ops import inplace as IP
from ..ops import linalg as LA
from ..ops import reduce as R
from ..ops import shape as S

RULES = {}


def rule_for(cls):
    """The batching rule registered for exactly this class, else the class's ``vmap_rule``."""
    r = RULES.get(cls)
    if r is None:
        r = getattr(cls, "vmap_rule", None)
    return r


def register(*classes):
    def deco(fn):
        for c in classes:
            RULES[c] = fn
        return fn
    return deco


_make = Tensor._make


def _const(t):
    """A tensor whose value can be used as a bare array (no graph, no transform state)."""
    from ._transforms import TAN
    d = t._data
    return type(d) is np.ndarray and not t._rg and id(d) not in TAN


def _lnd(a, b):
    """Logical ndim of an argument."""
    return a._data.ndim - 1 if b else a._data.ndim


def _align(p, nd):
    """Physical p (B, *s) reshaped to (B, 1, ..., 1, *s) with nd logical dims."""
    s = p._data.shape
    k = nd - (len(s) - 1)
    if k <= 0:
        return p
    return S.Reshape.apply(p, s[:1] + (1,) * k + s[1:])


def _bcast_args(args, bat):
    nd = 0
    for a, b in zip(args, bat):
        if isinstance(a, Tensor):
            nd = max(nd, _lnd(a, b))
    return [_align(a, nd) if b else a for a, b in zip(args, bat)]


@register(E.Cast, E.Add, E.Sub, E.Mul, E.Div, E.Neg, E.Pow, E.Exp, E.Log, E.Sqrt, E.Sin, E.Cos,
          E.Tanh, E.Sigmoid, E.Relu, E.Abs, E.Sign, E.Clamp, E.Where, E.Maximum, E.Minimum,
          E.Remainder, S.Clone)
def elementwise(cls, args, bat, kwargs, B):
    """Ops that broadcast their tensor arguments elementwise."""
    return cls.apply(*_bcast_args(args, bat), **kwargs)


@register(LA.MatMul)
def matmul(cls, args, bat, kwargs, B):
    a, b = args
    ba, bb = bat
    if ba and not bb and a._data.ndim == 3 and b._data.ndim == 2:
        # NOTE: (B, m, k) @ (k, n) as one GEMM on (B*m, k)
        _, m, k = a._data.shape
        r = cls.apply(S.Reshape.apply(a, (B * m, k)), b)
        return S.Reshape.apply(r, (B, m, r._data.shape[-1]))
    if bb and not ba and b._data.ndim == 3 and a._data.ndim == 2:
        _, k, n = b._data.shape
        m = a._data.shape[0]
        if n == 1:
            # NOTE: B matrix-vector products as one GEMM: (B, k) @ a^T
            at = _make(a._data.T) if _const(a) else S.Transpose.apply(a, (1, 0))
            r = cls.apply(S.Reshape.apply(b, (B, k)), at)
            return S.Reshape.apply(r, (B, m, 1))
        bt = S.Reshape.apply(S.Permute.apply(b, (1, 0, 2)), (k, B * n))
        r = S.Reshape.apply(cls.apply(a, bt), (m, B, n))
        return S.Permute.apply(r, (1, 0, 2))
    return cls.apply(*_bcast_args(args, bat), **kwargs)


def _axes(axes, nd):
    if axes is None:
        return tuple(range(1, nd + 1))
    return tuple(d + 1 for d in axes)


@register(R.Sum, R.Mean)
def sum_(cls, args, bat, kwargs, B):
    a, axes = args[:2]
    return cls.apply(a, _axes(axes, a._data.ndim - 1), *args[2:], **kwargs)


@register(R.MaxAll)
def maxall(cls, args, bat, kwargs, B):
    a, axes, keepdim = args[:3]
    rest = tuple(args[3:])
    if a._data.ndim == 1:
        # NOTE: a 0-d reduction is the identity; reduce a size-1 axis rather than axes=(),
        # which _xp.sum reads as "all axes" on tensors
        return S.Reshape.apply(cls.apply(S.Reshape.apply(a, (B, 1)), (1,), False, *rest,
                                         **kwargs), (B,))
    return cls.apply(a, _axes(axes, a._data.ndim - 1), keepdim, *rest, **kwargs)


@register(R.MaxDim)
def maxdim(cls, args, bat, kwargs, B):
    a, dim, keepdim = args[:3]
    return cls.apply(a, dim + 1, keepdim, *args[3:], **kwargs)


@register(S.Reshape, S.View, S.Squeeze, S.Unsqueeze)
def reshape(cls, args, bat, kwargs, B):
    a, shape = args
    return cls.apply(a, (B,) + tuple(shape))


@register(S.Permute, S.Transpose)
def permute(cls, args, bat, kwargs, B):
    a, dims = args
    return cls.apply(a, (0,) + tuple(d + 1 for d in dims))


@register(S.Expand)
def expand(cls, args, bat, kwargs, B):
    a, shape = args
    return cls.apply(_align(a, len(shape)), (B,) + tuple(shape))


def _adv_layout(idx):
    """For an index with non-adjacent advanced parts, the number of dims those produce (NumPy
    puts them first, ahead of the batch dim); else None."""
    pos = [i for i, k in enumerate(idx) if isinstance(k, np.ndarray)]
    if not pos:
        return None
    adv = set(pos) | {i for i, k in enumerate(idx) if isinstance(k, (int, np.integer))}
    lo, hi = min(adv), max(adv)
    if all(i in adv for i in range(lo, hi + 1)):
        return None
    shapes = [(int(k.sum()),) if k.dtype == bool else k.shape for k in idx
              if isinstance(k, np.ndarray)]
    return len(np.broadcast_shapes(*shapes))


def _check_idx(idx):
    from ._transforms import BatchedData
    for k in idx:
        if type(k) is BatchedData:
            raise RuntimeError("vmap: indexing with a batched index tensor is not batchable "
                               "yet; index with a tensor created outside vmap, or use "
                               "gather-style ops")


def _move(t, src, dst):
    nd = t._data.ndim
    perm = list(range(nd))
    perm.insert(dst, perm.pop(src))
    return S.Permute.apply(t, tuple(perm))


@register(IX.GetItem)
def getitem(cls, args, bat, kwargs, B):
    a, idx, basic = args
    _check_idx(idx)
    out = cls.apply(a, (slice(None),) + tuple(idx), basic)
    k = _adv_layout(idx)
    return out if k is None else _move(out, k, 0)


@register(IX.IndexGrad)
def indexgrad(cls, args, bat, kwargs, B):
    g, shape, idx, basic = args
    _check_idx(idx)
    k = _adv_layout(idx)
    if k is not None:
        g = _move(g, 0, k)
    return cls.apply(g, (B,) + tuple(shape), (slice(None),) + tuple(idx), basic)


def _lift(a, B):
    """An unbatched tensor as a physical one (a broadcast view)."""
    s = tuple(a._data.shape)
    return S.Expand.apply(S.Reshape.apply(a, (1,) + s), (B,) + s)


@register(IX.IndexPut)
def indexput(cls, args, bat, kwargs, B):
    a, v, idx, basic = args
    _check_idx(idx)
    if not bat[0]:
        a = _lift(a, B)
    if bat[1]:
        tshape = np.empty(a._data.shape[1:], bool)[idx].shape
        v = _align(v, len(tshape))
        k = _adv_layout(idx)
        if k is not None:
            v = _move(v, 0, k)
    return cls.apply(a, v, (slice(None),) + tuple(idx), basic)


@register(IP.CopyFrom)
def copyfrom(cls, args, bat, kwargs, B):
    a, s = args
    if not bat[0]:
        a = _lift(a, B)
    if bat[1]:
        s = _align(s, a._data.ndim - 1)
    return cls.apply(a, s)
