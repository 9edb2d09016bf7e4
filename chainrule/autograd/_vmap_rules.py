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
    from ._transforms import TAN  # noqa: F811  (cheap once imported)
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
    return _carry(p, S.Reshape.apply(p, s[:1] + (1,) * k + s[1:]))


def _carry(src, dst, lifted=False):
    """dst, src reshaped (or, ``lifted``, broadcast over a new batch dim 0) inside a rule,
    gets src's tangents at suspended dual levels, transformed alike. (A dual level computing
    this op's tangent is suspended while its primal runs, but the graph recorded here may save
    dst, and forward-over-reverse reads that saved tensor's tangent later.)"""
    from ._transforms import set_tan, tan_of
    tans = tan_of(src)
    if tans:
        shape = tuple(dst._data.shape)
        for lv, t in tans.items():
            if lv.active:
                continue
            lead = tuple(t._data.shape[:1]) if lv.size else ()   # a batched level's basis
            if lifted:
                t = S.Expand.apply(S.Reshape.apply(t, lead + (1,) + tuple(src._data.shape)),
                                   lead + shape)
            elif tuple(t._data.shape) != lead + shape:
                t = S.Reshape.apply(t, lead + shape)
            set_tan(dst, lv, t)
    return dst


def _bcast_args(args, bat):
    nd = 0
    for a, b in zip(args, bat):
        if isinstance(a, Tensor):
            nd = max(nd, _lnd(a, b))
    return [_align(a, nd) if b else a for a, b in zip(args, bat)]


@register(E.Cast, E.Add, E.Sub, E.Mul, E.Div, E.Neg, E.Pow, E.Exp, E.Log, E.Sqrt, E.Sin, E.Cos,
          E.Tanh, E.TanhBackward, E.ScaledMul, E.Sigmoid, E.Relu, E.Abs, E.Sign, E.Clamp, E.Where,
          E.Maximum, E.Minimum, E.Remainder, S.Clone)
def elementwise(cls, args, bat, kwargs, B):
    """Ops that broadcast their tensor arguments elementwise."""
    return cls.apply(*_bcast_args(args, bat), **kwargs)


@register(LA.MatMul)
def matmul(cls, args, bat, kwargs, B):
    a, b = args
    ba, bb = bat
    if b._data.ndim - bb == 1:
        # matrix @ vector per sample: as matrix @ (n, 1), then drop that axis
        b1 = S.Reshape.apply(b, b._data.shape + (1,))
        r = matmul(cls, (a, b1), bat, kwargs, B)
        return S.Reshape.apply(r, r._data.shape[:-1])
    if a._data.ndim - ba == 1:
        # vector @ matrix per sample: as (1, k) @ matrix, then drop that axis
        sa = a._data.shape
        a1 = S.Reshape.apply(a, sa[:-1] + (1, sa[-1]))
        r = matmul(cls, (a1, b), bat, kwargs, B)
        rs = r._data.shape
        return S.Reshape.apply(r, rs[:-2] + rs[-1:])
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
            raise RuntimeError("vmap: indexing with a batched bool mask is not batchable "
                               "(the result's shape depends on the values); use torch.where "
                               "or gather-style ops")


def _move(t, src, dst):
    nd = t._data.ndim
    perm = list(range(nd))
    perm.insert(dst, perm.pop(src))
    return S.Permute.apply(t, tuple(perm))


def _batched_index(idx, B, ndim):
    """An index holding batched integer tensors as one physical advanced index: (the index
    with a batch arange in front, p, nd) where the per-sample result has its nd advanced dims
    after p slice (or None) dims, while NumPy puts them right after the batch dim. ``ndim``:
    the indexed tensor's logical ndim. None when the index is outside this form (bool
    masks)."""
    from ._transforms import BatchedData
    if any(k is Ellipsis for k in idx):
        used = sum(0 if k is None or k is Ellipsis else 1 for k in idx)
        i = next(i for i, k in enumerate(idx) if k is Ellipsis)
        idx = idx[:i] + (slice(None),) * max(ndim - used, 0) + idx[i + 1:]
    pos, shapes = [], []
    for i, k in enumerate(idx):
        if type(k) is BatchedData:
            if k.dtype.kind not in "iu":
                return None
            shapes.append(k.shape)
        elif isinstance(k, np.ndarray):
            if k.dtype.kind not in "iu":
                return None
            shapes.append(k.shape)
        elif isinstance(k, (int, np.integer)):
            shapes.append(())
        elif isinstance(k, slice) or k is None:
            continue
        else:
            return None
        pos.append(i)
    nd = len(np.broadcast_shapes(*shapes))
    full = [np.arange(B).reshape((B,) + (1,) * nd)]
    for k in idx:
        if type(k) is BatchedData:
            ph = k.phys     # batched at lower vmap levels too: their rules map it in turn
            full.append(np.reshape(ph, ph.shape[:1] + (1,) * (nd - k.ndim) + ph.shape[1:]))
        elif isinstance(k, (np.ndarray, int, np.integer)):
            k = np.asarray(k)
            full.append(k.reshape((1,) * (1 + nd - k.ndim) + k.shape))
        else:
            full.append(k)
    adjacent = pos == list(range(pos[0], pos[-1] + 1))
    p = sum(1 for k in idx[:pos[0]] if isinstance(k, slice) or k is None) if adjacent else 0
    return tuple(full), p, nd


def _block_perm(n, p, nd):
    """Permutation taking NumPy's (B, advanced nd dims, slice dims) to the per-sample layout
    (B, p slice dims, advanced dims, other slice dims), for n dims in all."""
    return (0,) + tuple(range(1 + nd, 1 + nd + p)) + tuple(range(1, 1 + nd)) + tuple(
        range(1 + nd + p, n))


def _has_batched(idx):
    from ._transforms import BatchedData
    return any(type(k) is BatchedData for k in idx)


@register(IX.GetItem)
def getitem(cls, args, bat, kwargs, B):
    a, idx, basic = args
    if _has_batched(idx):
        b = _batched_index(idx, B, a._data.ndim - 1 if bat[0] else a._data.ndim)
        if b is None:
            _check_idx(idx)
        full, p, nd = b
        out = cls.apply(a if bat[0] else _lift(a, B), full, False)
        return S.Permute.apply(out, _block_perm(out._data.ndim, p, nd)) if p else out
    out = cls.apply(a, (slice(None),) + tuple(idx), basic)
    k = _adv_layout(idx)
    return out if k is None else _move(out, k, 0)


@register(IX.IndexGrad)
def indexgrad(cls, args, bat, kwargs, B):
    g, shape, idx, basic = args
    if _has_batched(idx):
        b = _batched_index(idx, B, len(shape))
        if b is None:
            _check_idx(idx)
        full, p, nd = b
        if not bat[0]:
            g = _lift(g, B)
        if p:
            perm = _block_perm(g._data.ndim, p, nd)
            g = S.Permute.apply(g, tuple(int(i) for i in np.argsort(perm)))
        return cls.apply(g, (B,) + tuple(shape), full, False)
    _check_idx(idx)
    k = _adv_layout(idx)
    if k is not None:
        g = _move(g, 0, k)
    return cls.apply(g, (B,) + tuple(shape), (slice(None),) + tuple(idx), basic)


def _lift(a, B):
    """An unbatched tensor as a physical one (a broadcast view)."""
    s = tuple(a._data.shape)
    return _carry(a, S.Expand.apply(S.Reshape.apply(a, (1,) + s), (B,) + s), True)


@register(IX.IndexPut)
def indexput(cls, args, bat, kwargs, B):
    a, v, idx, basic = args
    if _has_batched(idx):
        from ._transforms import BatchedData
        b = _batched_index(idx, B, a._data.ndim - 1 if bat[0] else a._data.ndim)
        if b is None:
            _check_idx(idx)
        full, p, nd = b
        if not bat[0]:
            a = _lift(a, B)
        if isinstance(v, Tensor):
            # the value in the per-sample layout of a[idx], then in NumPy's (batch first)
            one = tuple(np.zeros(k.shape, np.int64) if type(k) is BatchedData else k
                        for k in idx)
            tshape = np.empty(a._data.shape[1:], bool)[one].shape
            v = _align(v if bat[1] else _lift(v, B), len(tshape))
            if v._data.shape[1:] != tshape:
                v = S.Expand.apply(v, (B,) + tshape)
            if p:
                perm = _block_perm(len(tshape) + 1, p, nd)
                v = S.Permute.apply(v, tuple(int(i) for i in np.argsort(perm)))
        return cls.apply(a, v, full, False)
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


# -- rules for the catalogue's primitives ------------------------------------------------------
def _cls(mod, *names):
    return [getattr(mod, n) for n in names if hasattr(mod, n)]


def _nd(args, bat, i):
    return _lnd(args[i], bat[i])


def _d(dim, nd):
    """A logical dim (possibly negative) as its physical position."""
    return dim % max(nd, 1) + 1 if nd else 1


for _c in _cls(E, "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atan2", "Atanh", "Ceil", "Cosh",
               "Digamma", "Erf", "Erfc", "Erfinv", "Expm1", "Floor", "Fmod", "Hypot", "Lgamma",
               "Log10", "Log1p", "Log2", "Polygamma", "Root", "Round", "SignOf", "Sinh", "Tan",
               "Trunc", "Xlogy"):
    RULES[_c] = elementwise


def _leading(cls, args, bat, kwargs, B):
    """Ops that already map over any leading dims (NumPy's stacked linear algebra)."""
    return cls.apply(*_bcast_args(args, bat), **kwargs)


for _c in _cls(LA, "Inv", "Det", "Cholesky", "Slogdet", "Qr", "Svd", "Eigh", "Pinv",
               "MatrixExp"):
    RULES[_c] = _leading


def _dim_rule(dim_pos):
    def rule(cls, args, bat, kwargs, B):
        args = list(args)
        nd = args[0]._data.ndim - 1
        if nd == 0:
            # a 0-d input: run on (B, 1) along dim 1
            args[0] = S.Reshape.apply(args[0], (B, 1))
            args[dim_pos] = 1
            return S.Reshape.apply(cls.apply(*args, **kwargs), (B,))
        if isinstance(args[dim_pos], (int, np.integer)):
            args[dim_pos] = _d(int(args[dim_pos]), nd)
        return cls.apply(*args, **kwargs)
    return rule


try:
    from ..ops import nn_ops as NN
except ImportError:      # pragma: no cover
    NN = None
if NN is not None:
    for _c in _cls(NN, "Softplus", "BinaryCrossEntropy"):
        RULES[_c] = elementwise
    for _c in _cls(NN, "Softmax", "LogSoftmax"):
        RULES[_c] = _dim_rule(1)
    if hasattr(NN, "Standardize"):
        @register(NN.Standardize)
        def standardize(cls, args, bat, kwargs, B):
            x, w, b, axes, eps, stats = args
            if not bat[0]:
                x = _lift(x, B)
            nd = x._data.ndim - 1
            ax = tuple(_d(a, nd) for a in axes) if axes is not None else None
            w = _align(w, nd) if bat[1] else w
            b = _align(b, nd) if bat[2] else b
            if stats is not None:
                # batch/instance norm in training mode: the per-sample statistics are fine,
                # but updating unbatched running statistics from them is not (torch's error,
                # raised when the caller reads them)
                stats.extend((_BatchedStats(), _BatchedStats()))
                stats = None
            return cls.apply(x, w, b, ax, eps, stats)

    class _BatchedStats:
        def __getattr__(self, name):
            raise RuntimeError(
                "Batch norm got a batched tensor as input while the running_mean or "
                "running_var, which will be updated in place, were not batched.\nIf you are "
                "using a module and do not need eval mode, please set `track_running_stats` to "
                "be False.If you are using a prebuilt module and do not need eval mode, please "
                "see the functorch website for resources on how to patch your module to work "
                "with vmap (vmap: the running-statistics update of batch_norm / instance_norm "
                "is not batchable)")

for _c in _cls(R, "Cumsum", "Cumprod"):
    RULES[_c] = _dim_rule(1)

if hasattr(R, "Prod"):
    @register(R.Prod)
    def prod(cls, args, bat, kwargs, B):
        a, dim, keepdim, npd = args
        nd = a._data.ndim - 1
        if dim is None:
            r = cls.apply(S.Reshape.apply(a, (B, -1 if nd else 1)), 1, False, npd)
            return S.Reshape.apply(r, (B,) + (1,) * nd) if keepdim else r
        return cls.apply(a, _d(dim, nd), keepdim, npd)


def _bidx(idx, B):
    """An index array (or unbatched tensor) repeated over the batch."""
    if isinstance(idx, Tensor):
        idx = idx._data
    idx = np.asarray(idx)
    return np.broadcast_to(idx, (B,) + idx.shape)


if hasattr(R, "TakeAlong"):
    @register(R.TakeAlong)
    def take_along(cls, args, bat, kwargs, B):
        a, idx, dim = args
        return cls.apply(a, _bidx(idx, B), _d(dim, a._data.ndim - 1))

    @register(R.PutAlong)
    def put_along(cls, args, bat, kwargs, B):
        g, shape, idx, dim = args
        return cls.apply(g, (B,) + tuple(shape), _bidx(idx, B), _d(dim, len(shape)))

if hasattr(IX, "Gather"):
    @register(IX.Gather)
    def gather(cls, args, bat, kwargs, B):
        a, dim, idx = args
        _no_batched_index(bat, 2)
        return cls.apply(a, _d(dim, a._data.ndim - 1), _bidx(idx, B))

    def _scatter(cls, args, bat, kwargs, B):
        a, dim, idx, src = args[:4]
        _no_batched_index(bat, 2)
        if not bat[0]:
            a = _lift(a, B)
        if isinstance(src, Tensor) and not bat[3]:
            src = _lift(src, B)
        return cls.apply(a, _d(dim, a._data.ndim - 1), _bidx(idx, B), src, *args[4:],
                         **kwargs)
    for _c in _cls(IX, "Scatter", "ScatterReduce"):
        RULES[_c] = _scatter


def _no_batched_index(bat, i):
    if bat[i]:
        raise RuntimeError("vmap: gather/scatter with a batched index tensor is not batchable "
                           "yet; build the index outside vmap")


if hasattr(S, "Cat"):
    @register(S.Cat)
    def cat(cls, args, bat, kwargs, B):
        dim, arrs = args[0], list(args[1:])
        nd = max(_lnd(a, b) for a, b in zip(arrs, bat[1:]))
        arrs = [a if b else _lift(a, B) for a, b in zip(arrs, bat[1:])]
        return cls.apply(_d(dim, nd), *arrs)

if hasattr(S, "Diagonal"):
    @register(S.Diagonal)
    def diagonal(cls, args, bat, kwargs, B):
        a, offset, d1, d2 = args
        nd = a._data.ndim - 1
        return cls.apply(a, offset, _d(d1, nd), _d(d2, nd))

    @register(S.DiagEmbed)
    def diag_embed(cls, args, bat, kwargs, B):
        g, shape, offset, d1, d2 = args
        nd = len(shape)
        return cls.apply(g, (B,) + tuple(shape), offset, _d(d1, nd), _d(d2, nd))

if hasattr(LA, "Einsum"):
    @register(LA.Einsum)
    def einsum(cls, args, bat, kwargs, B):
        eq, ops = args[0], list(args[1:])
        lhs, arrow, rhs = eq.replace(" ", "").partition("->")
        terms = lhs.split(",")
        free = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                if c not in eq]
        z = free[0]
        if not arrow:
            # implicit output: the letters used once, sorted, after any ellipsis dims
            letters = [c for c in lhs if c.isalpha()]
            rhs = ("..." if "..." in lhs else "") + "".join(
                sorted(c for c in set(letters) if letters.count(c) == 1))
        terms = [z + t if b else t for t, b in zip(terms, bat[1:])]
        return cls.apply(",".join(terms) + "->" + z + rhs, *ops, **kwargs)


# convolution and pooling: fold the vmap batch into the sample dim N (dim 0)
def _fold(n_tensor, n_array=()):
    """Rule for ops whose args at positions n_tensor (tensors) and n_array (index arrays)
    lead with the sample dim N; other tensor args (weights) must not be batched."""
    def rule(cls, args, bat, kwargs, B):
        args = list(args)
        for i, b in enumerate(bat):
            if b and i not in n_tensor:
                raise RuntimeError(f"vmap: {cls.__name__} with a batched weight is not "
                                   "batchable yet (only its input may carry the batch)")
        n = None
        for i in n_tensor:
            a = args[i]
            if not isinstance(a, Tensor):
                continue
            if not bat[i]:
                a = _lift(a, B)
            s = a._data.shape
            n = s[1]
            args[i] = S.Reshape.apply(a, (B * s[1],) + s[2:])
        for i in n_array:
            k = np.asarray(args[i])
            if k.ndim and k.shape[0] != B * (n or 1):
                k = np.broadcast_to(k, (B,) + k.shape).reshape((-1,) + k.shape[1:])
            args[i] = k
        out = cls.apply(*args, **kwargs)

        def unfold(o):
            if isinstance(o, Tensor):
                s = o._data.shape
                return S.Reshape.apply(o, (B, s[0] // B) + s[1:])
            return o
        return tuple(unfold(o) for o in out) if type(out) is tuple else unfold(out)
    return rule


try:
    from ..ops import conv as CV
except ImportError:      # pragma: no cover
    CV = None
if CV is not None:
    for _name, _t, _a in (("Conv", (0,), ()), ("ConvTranspose", (0,), ()),
                          ("Im2Col", (0,), ()), ("Col2Im", (0,), ()), ("MaxPool", (0,), ()),
                          ("PoolGather", (0,), (1,)), ("PoolScatter", (0,), (1,))):
        if hasattr(CV, _name):
            RULES[getattr(CV, _name)] = _fold(_t, _a)

    _conv_input_only = _fold((0,), ())

    def conv(cls, args, bat, kwargs, B):
        """Conv / ConvTranspose. A batched weight or bias (model ensembles, per-sample
        gradients) becomes one grouped convolution: the vmap batch joins the channels, x
        (B, N, C, ...) -> (N, B*C, ...), w (B, O, ...) -> (B*O, ...), groups -> B*groups, and
        the output's channels split back into (B, N, O, ...)."""
        if not bat[1] and not bat[2]:
            return _conv_input_only(cls, args, bat, kwargs, B)
        x, w, b, g, groups = args[:5]
        x = x if bat[0] else _lift(x, B)
        w = w if bat[1] else _lift(w, B)
        xs, ws = x._data.shape, w._data.shape
        perm = (1, 0) + tuple(range(2, len(xs)))
        x = S.Reshape.apply(S.Permute.apply(x, perm), (xs[1], B * xs[2]) + xs[3:])
        w = S.Reshape.apply(w, (B * ws[1],) + ws[2:])
        if b is not None:
            b = S.Reshape.apply(b if bat[2] else _lift(b, B), (-1,))
        y = cls.apply(x, w, b, g, groups * B, *args[5:], **kwargs)
        ys = y._data.shape
        y = S.Reshape.apply(y, (ys[0], B, ys[1] // B) + ys[2:])
        return S.Permute.apply(y, (1, 0) + tuple(range(2, len(ys) + 1)))

    RULES[CV.Conv] = RULES[CV.ConvTranspose] = conv


if NN is not None and hasattr(NN, "Linear"):
    @register(NN.Linear)
    def linear(cls, args, bat, kwargs, B):
        x, w, b = args
        if not bat[1] and not bat[2]:
            return cls.apply(x, w, b)      # x @ W.T + b maps over x's leading dims
        if _lnd(x, bat[0]) < 2:
            raise RuntimeError("vmap: linear with batched weights needs an input with a "
                               "sample dim; unsqueeze the input first")
        wt = S.Transpose.apply(w, (0, 2, 1)) if bat[1] else S.Transpose.apply(w, (1, 0))
        nd = max(_lnd(x, bat[0]), 2)
        out = LA.MatMul.apply(_align(x, nd) if bat[0] else x, _align(wt, nd) if bat[1] else wt)
        if b is not None:
            ond = out._data.ndim - (1 if bat[0] or bat[1] else 0)
            if bat[2]:
                b = _align(b, ond)
                if not (bat[0] or bat[1]):
                    out = _lift(out, B)
            out = E.Add.apply(out, b)
        return out


try:
    from ..ops import extra as _EX
except ImportError:      # pragma: no cover
    _EX = None
if _EX is not None and hasattr(_EX, "LogCumSumExp"):
    RULES[_EX.LogCumSumExp] = _dim_rule(1)


# elementwise special functions (their constant arguments pass through unchanged)
for _c in _cls(_EX, "I0", "I1", "NextAfter") + _cls(E, "RoundedDiv"):
    RULES[_c] = elementwise
try:
    from .. import special as _SP
except ImportError:      # pragma: no cover
    _SP = None
if _SP is not None:
    for _c in _cls(_SP, "Erfcx", "LogNdtr", "Ndtri", "I0e", "I1e", "Zeta", "Igamma"):
        RULES[_c] = elementwise
