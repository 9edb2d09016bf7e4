"""Convolution and pooling primitives over 1, 2 or 3 spatial dims (arrays are (N, C, *spatial)).

- Im2Col / Col2Im: sliding windows to columns (N, C*K, L) and back (unfold / fold); each is
  the other's adjoint.
- Conv / ConvTranspose: im2col plus one GEMM per direction. Each one's input gradient is the
  other op, and both weight gradients are a GEMM against Im2Col columns, so every rule is
  differentiable again (double backward through conv works).
- MaxPool keeps the window-local argmax (one small int per output); PoolScatter and
  PoolGather route gradients by it and are each other's adjoint.
- InputGrad ties a recorded gradient to the input of the op it differentiates, as torch's
  pooling / padding / nll backward ops take that input (their derivative in it: zero).
"""
import functools
import itertools

import numpy as np

from .. import backend
from ..autograd.function import Op
from . import _xp


class Geom:
    """Window geometry, per spatial dim: input size, kernel, stride, padding before/after,
    dilation and output size. ``hi`` is widened so that every window fits in the padded
    input (ceil_mode pools)."""
    __slots__ = ("size", "k", "s", "lo", "hi", "d", "out", "K", "L", "taps", "disjoint",
                 "padded", "win", "inner")

    def __init__(self, size, k, s, lo, hi, d, out=None):
        if out is None:
            out = tuple((n + a + b - dd * (kk - 1) - 1) // ss + 1
                        for n, kk, ss, a, b, dd in zip(size, k, s, lo, hi, d))
        hi = tuple(max(b, (o - 1) * ss + (kk - 1) * dd + 1 - n - a)
                   for n, kk, ss, a, b, dd, o in zip(size, k, s, lo, hi, d, out))
        self.size, self.k, self.s, self.lo, self.hi, self.d, self.out = (
            tuple(size), tuple(k), tuple(s), tuple(lo), hi, tuple(d), tuple(out))
        self.K = int(np.prod(k))
        self.L = int(np.prod(out))
        self.taps = list(itertools.product(*[range(kk) for kk in k]))
        self.disjoint = all(ss >= dd * (kk - 1) + 1 for kk, ss, dd in zip(k, s, d))
        self.padded = tuple(n + a + b for n, a, b in zip(size, lo, hi))
        # per tap: the (N, C, ...) slices of the padded input that tap reads in every window
        self.win = [(slice(None), slice(None)) + tuple(
            slice(i * dd, i * dd + (o - 1) * ss + 1, ss)
            for i, dd, o, ss in zip(t, self.d, self.out, self.s)) for t in self.taps]
        self.inner = (slice(None), slice(None)) + tuple(
            slice(a, a + n) for a, n in zip(self.lo, self.size))


@functools.lru_cache(maxsize=512)
def geom(size, k, s, lo, hi, d, out=None):
    """A shared (immutable) Geom for these arguments (tuples of ints)."""
    return Geom(size, k, s, lo, hi, d, out)


_ALL2 = (slice(None), slice(None))


def _pad(x, g, value):
    if not any(g.lo) and not any(g.hi):
        return x
    xp = np.full(x.shape[:2] + g.padded, value, x.dtype)
    xp[g.inner] = x
    return xp


def _pad_value(dtype):
    return -np.inf if dtype.kind == "f" else (np.iinfo(dtype).min if dtype.kind in "iu"
                                              else False)


def im2col(x, g, ones_row=False):
    """(N, C, *size) -> (N, C*K, L): each column one window, rows ordered (c, *tap). With
    ``ones_row`` a last row of ones is appended (a bias then rides along in the GEMM)."""
    n, c = x.shape[:2]
    if not ones_row and g.K == 1 and not any(g.lo) and all(s == 1 for s in g.s) and \
            g.out == g.size:
        return x.reshape(n, c, g.L)
    xp = _pad(x, g, 0)
    st = xp.strides
    sp = st[2:]
    view = backend.as_strided(
        xp, (n, c) + g.k + g.out,
        st[:2] + tuple(a * dd for a, dd in zip(sp, g.d)) + tuple(a * ss for a, ss in
                                                              zip(sp, g.s)))
    if not ones_row:
        return np.ascontiguousarray(view).reshape(n, c * g.K, g.L)
    ck = c * g.K
    col = np.empty((n, ck + 1, g.L), x.dtype)
    np.copyto(col[:, :ck].reshape((n, c) + g.k + g.out), view)
    col[:, ck] = 1
    return col


def col2im(col, g, c):
    """Adjoint of im2col: sums every column entry back onto its input position."""
    n = col.shape[0]
    cols = col.reshape((n, c) + g.k + g.out)
    xp = np.zeros((n, c) + g.padded, col.dtype)
    for win, t in zip(g.win, g.taps):
        xp[win] += cols[_ALL2 + t]
    return xp[g.inner]


def _col2im_last(cols, g, n):
    """col2im for batch-last columns (C, *k, *out, N): returns an (N, C, *size) view."""
    c = cols.shape[0]
    xp = np.zeros((c,) + g.padded + (n,), cols.dtype)
    one = (slice(None),)
    for win, t in zip(g.win, g.taps):
        xp[win[1:] + one] += cols[one + t]
    nd = len(g.size)
    return xp[g.inner[1:]].transpose((nd + 1, 0) + tuple(range(1, nd + 1)))


def _matmul(a, b):
    # NOTE: NumPy's matmul is ~20x slower than a broadcast product when the contracted dim
    # is 1 (depthwise convolutions hit this); the product is the same number
    if a.shape[-1] == 1:
        return a * b
    return np.matmul(a, b)


def _conv_transpose(x, w, g, groups):
    """The input gradient of conv (x: (N, O, *out), w: (O, C/G, *k)) -> (N, C, *size)."""
    n, o = x.shape[:2]
    og, cg = o // groups, w.shape[1]
    # NOTE: batch-last layout: one GEMM over all N, and col2im's strided adds then run over
    # rows of out*N contiguous elements instead of rows of out[-1] (measured ~2x faster).
    xt = np.ascontiguousarray(x.reshape(n, groups, og, g.L).transpose(1, 2, 3, 0))
    wt = w.reshape(groups, og, cg * g.K).transpose(0, 2, 1)
    cols = _matmul(wt, xt.reshape(groups, og, g.L * n))
    return _col2im_last(cols.reshape((groups * cg,) + g.k + g.out + (n,)), g, n)


def _bias_shape(b, nd):
    return b.reshape((-1,) + (1,) * nd)


class InputGrad(Op):
    """g, a gradient computed from the output gradient alone, recorded as a function of (g, x)
    where x is the input of the op being differentiated (torch's pooling, padding and nll
    backward ops take that input). Its derivative in x is zero: a derivative taken through the
    op stays on x's graph, and second derivatives in x come out as zeros, not missing."""

    @staticmethod
    def forward(ctx, g, x):
        return g.copy()

    @staticmethod
    def backward(ctx, gg):
        n = ctx.needs_input_grad
        return (gg if n[0] else None), (_zeros(gg) if n[1] else None)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs):
        return tans[0]

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        from ..autograd._vmap_rules import _bcast_args
        return cls.apply(*_bcast_args(args, bat))


def _zeros(g):
    """Zeros shaped like g, as a constant (torch's zeros_like: no graph)."""
    return np.zeros(tuple(g.shape), g._data.dtype if _xp.is_t(g) else g.dtype)


class Im2Col(Op):
    """Sliding windows to columns; ``tied``: the input gradient is tied to x (avg pooling)."""

    @staticmethod
    def forward(ctx, x, g, tied=False):
        ctx.g, ctx.c, ctx.tied = g, x.shape[1], tied
        if tied:
            ctx.save_for_backward(x)
        col = im2col(x, g)
        return col.copy() if np.may_share_memory(col, x) else col   # 1x1: never alias x

    @staticmethod
    def backward(ctx, gr):
        gx = _xp.call(Col2Im, gr, ctx.g, ctx.c)
        if ctx.tied and _xp.is_t(gx):
            gx = InputGrad.apply(gx, ctx.saved_tensors[0])
        return gx


class Col2Im(Op):
    @staticmethod
    def forward(ctx, col, g, c):
        ctx.g = g
        return col2im(col, g, c)

    @staticmethod
    def backward(ctx, gr):
        return _xp.call(Im2Col, gr, ctx.g)


def _weight_grad(gy, col, groups, wshape, n, L):
    gf = _xp.reshape(gy, (n, groups, wshape[0] // groups, L))
    cf = _xp.reshape(col, (n, groups, -1, L))
    return _xp.reshape(_xp.sum(gf @ _xp.swap_last(cf), 0), wshape)


def _bias_grad(gy):
    return _xp.sum(gy, (0,) + tuple(range(2, gy.ndim)))


class Conv(Op):
    """conv(x, w) + b with groups; x (N, C, *size), w (O, C/G, *k) -> (N, O, *out)."""

    @staticmethod
    def forward(ctx, x, w, b, g, groups):
        n, o = x.shape[0], w.shape[0]
        ni = ctx.needs_input_grad
        ctx.g, ctx.groups, ctx.wshape = g, groups, w.shape
        # NOTE: with one group the bias is an extra weight column against a row of ones, so
        # the GEMM adds it and the weight-gradient GEMM yields its gradient (no extra passes)
        ctx.ext = ext = b is not None and groups == 1
        if ext:
            col = im2col(x, g, True)
            wm = np.concatenate([w.reshape(o, -1), b.reshape(o, 1).astype(w.dtype)], 1)
            y = _matmul(wm, col)
        else:
            col = im2col(x, g)
            y = _matmul(w.reshape(groups, o // groups, -1), col.reshape(n, groups, -1, g.L))
            if b is not None:
                y += b.reshape(groups, o // groups, 1)
        ctx.save_for_backward(x if ni[1] else None, w if ni[0] else None,
                              col if ni[1] else None)
        return y.reshape((n, o) + g.out)

    @staticmethod
    def backward(ctx, gy):
        x, w, col = ctx.saved_tensors
        ni = ctx.needs_input_grad
        g, groups = ctx.g, ctx.groups
        gx = gw = gb = None
        if ni[0]:
            gx = _xp.call(ConvTranspose, gy, w, None, g, groups, True)
        if _xp.is_t(gy):
            if ni[1]:       # recorded: the columns must stay differentiable in x
                gw = _weight_grad(gy, _xp.call(Im2Col, x, g), groups, ctx.wshape, gy.shape[0],
                                  g.L)
            if ni[2]:
                gb = _bias_grad(gy)
            return gx, gw, gb
        if ctx.ext and ni[1]:
            o = ctx.wshape[0]
            both = np.matmul(gy.reshape(gy.shape[0], o, g.L), col.transpose(0, 2, 1)).sum(0)
            gw = both[:, :-1].reshape(ctx.wshape)
            if ni[2]:
                gb = both[:, -1]
            return gx, gw, gb
        if ni[1]:
            gw = _weight_grad(gy, col, groups, ctx.wshape, gy.shape[0], g.L)
        if ni[2]:
            gb = _bias_grad(gy)
        return gx, gw, gb


class ConvTranspose(Op):
    """The adjoint of Conv in its input: x (N, O, *out), w (O, C/G, *k) -> (N, C, *size)."""

    @staticmethod
    def forward(ctx, x, w, b, g, groups, contiguous):
        out = _conv_transpose(x, w, g, groups)
        if b is not None or contiguous:
            res = np.empty(out.shape, out.dtype)
            if b is None:
                np.copyto(res, out)
            else:
                np.add(out, _bias_shape(b, len(g.size)), out=res)
            out = res
        ni = ctx.needs_input_grad
        ctx.g, ctx.groups, ctx.wshape = g, groups, w.shape
        ctx.save_for_backward(x if ni[1] else None, w if ni[0] else None)
        return out

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        ni = ctx.needs_input_grad
        g, groups = ctx.g, ctx.groups
        gx = gw = gb = None
        if ni[0] and ni[1] and not _xp.is_t(gy):
            # both gradients from one set of columns
            n, o = gy.shape[0], ctx.wshape[0]
            col = im2col(gy, g)
            gx = _matmul(w.reshape(groups, o // groups, -1), col.reshape(n, groups, -1, g.L))
            gx = gx.reshape((n, o) + g.out)
        elif ni[0]:
            gx = _xp.call(Conv, gy, w, None, g, groups)
        if ni[1]:
            if gx is None or _xp.is_t(gy):
                col = _xp.call(Im2Col, gy, g)
            gw = _weight_grad(x, col, groups, ctx.wshape, x.shape[0], g.L)
        if ni[2]:
            gb = _bias_grad(gy)
        return gx, gw, gb


# -- gathers along one axis (interpolation, padding) ----------------------------------------
def _axis_sum(g, idx, w, axis, n):
    """Along ``axis``: out[i] = sum over (t, j) with idx[t, j] == i of g[j] * w[t, j]."""
    o = idx.shape[1]
    if w is None and idx.shape[0] == 1 and axis == -1 and g.dtype.kind == "f" and \
            n * o > g.size:
        # NOTE: one plain gather along the last axis into few rows (adaptive max pooling):
        # a bincount over flat positions, one pass, where the dense matrix below would be
        # larger than the gradient itself
        lead = g.shape[:-1]
        rows = g.size // o if o else 0
        flat = (np.arange(rows)[:, None] * n + idx[0]).reshape(-1)
        out = np.bincount(flat, g.reshape(-1), rows * n)
        return out.astype(g.dtype, copy=False).reshape(lead + (n,))
    if n * o <= 1 << 22:
        # NOTE: as one GEMM against the dense (o, n) weight matrix: a single pass where a
        # scatter-add of repeated indices (np.add.at, reduceat) is 5-20x slower
        m = np.zeros((o, n), g.dtype)
        rows = np.arange(o)
        for t in range(idx.shape[0]):
            backend.add_at(m, (rows, idx[t]), 1 if w is None else w[t])
        if axis == -1:
            return g @ m
        return np.moveaxis(np.moveaxis(g, axis, -1) @ m, -1, axis)
    if w is not None:
        g = np.concatenate([g * _along(wt, axis, g.ndim) for wt in w], axis)
    idx = idx.reshape(-1)
    shape = list(g.shape)
    shape[axis] = n
    out = np.zeros(shape, g.dtype)
    lead = (slice(None),) * (axis % g.ndim)
    order = np.argsort(idx, kind="stable")
    idx = idx[order]
    g = np.take(g, order, axis)
    starts = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    out[lead + (idx[starts],)] = np.add.reduceat(g, starts, axis)
    return out


def _along(w, axis, ndim):
    """A 1-D weight shaped to broadcast along ``axis`` (negative) of an ndim array."""
    return w.reshape((-1,) + (1,) * (-axis - 1))


class AxisGather(Op):
    """Along ``axis``: out[j] = sum_t x[idx[t, j]] * w[t, j] (w None: one plain gather).
    Interpolation and the index-based paddings are this op with constant idx and w;
    ``tied``: the input gradient is tied to x (paddings, adaptive max pooling)."""

    @staticmethod
    def forward(ctx, x, idx, w, axis, tied=False):
        ctx.info = (idx, w, axis, x.shape[axis])
        ctx.tied = tied
        if tied:
            ctx.save_for_backward(x)
        out = np.take(x, idx[0], axis)
        if w is None:
            return out
        out *= _along(w[0], axis, x.ndim)
        for t in range(1, idx.shape[0]):
            term = np.take(x, idx[t], axis)
            term *= _along(w[t], axis, x.ndim)
            out += term
        return out

    @staticmethod
    def backward(ctx, g):
        idx, w, axis, n = ctx.info
        gx = _xp.call(AxisScatter, g, idx, w, axis, n)
        if ctx.tied and _xp.is_t(gx):
            gx = InputGrad.apply(gx, ctx.saved_tensors[0])
        return gx

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        # idx and w are constant arrays: only x carries the batch, one dim further on
        x, idx, w, axis = args[:4]
        return cls.apply(x, idx, w, axis + 1 if axis >= 0 else axis, *args[4:])


def _matmul_along(x, m, axis):
    """The (out, in) matrix m applied along ``axis`` (negative) of x, as one matmul."""
    if axis == -1:
        return x @ m.T
    if axis == -2:
        return m @ x
    shape = x.shape
    nd = -axis
    lead = shape[:len(shape) - nd]
    out = m @ x.reshape(lead + (shape[-nd], -1))
    return out.reshape(lead + (m.shape[0],) + shape[len(shape) - nd + 1:])


class AxisMatmul(Op):
    """The constant (out, in) matrix m applied along ``axis`` (negative) of x (adaptive
    average pooling, area interpolation); ``tied``: the input gradient is tied to x."""

    @staticmethod
    def forward(ctx, x, m, axis, tied=False):
        ctx.m, ctx.axis, ctx.tied = m, axis, tied
        if tied:
            ctx.save_for_backward(x)
        return _matmul_along(x, m, axis)

    @staticmethod
    def backward(ctx, g):
        gx = _xp.call(AxisMatmul, g, ctx.m.T, ctx.axis)
        if ctx.tied and _xp.is_t(gx):
            gx = InputGrad.apply(gx, ctx.saved_tensors[0])
        return gx

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs):
        t = tans[0]
        return None if t is None else cls.apply(t, args[1], args[2])

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        return cls.apply(*args)     # the axis is negative: a leading batch dim changes nothing


class AxisScatter(Op):
    """The adjoint of AxisGather: g[j] * w[t, j] summed into position idx[t, j]."""

    @staticmethod
    def forward(ctx, g, idx, w, axis, n):
        ctx.info = (idx, w, axis)
        return _axis_sum(g, idx, w, axis, n)

    @staticmethod
    def backward(ctx, gg):
        idx, w, axis = ctx.info
        return _xp.call(AxisGather, gg, idx, w, axis)

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        g, idx, w, axis, n = args
        return cls.apply(g, idx, w, axis + 1 if axis >= 0 else axis, n)


# -- max pooling -----------------------------------------------------------------------------
def _kdtype(K):
    return np.int8 if K < 128 else (np.int16 if K < 32768 else np.int32)


def _argmax_taps(xp, g):
    """Window max and the first tap reaching it (torch's order), by one pass per tap."""
    views = [xp[win] for win in g.win]
    best = np.array(views[0])
    kd = _kdtype(g.K)
    k = np.zeros(best.shape, kd)
    hit = np.empty(best.shape, bool)
    tmp = np.empty(best.shape, kd)
    for t in range(1, g.K):
        v = views[t]
        np.greater(v, best, out=hit)
        np.maximum(best, v, out=best)
        # NOTE: taps come in increasing order, so "k = t where hit" is a max (no masked copy)
        np.multiply(hit, kd(t), out=tmp)
        np.maximum(k, tmp, out=k)
    if best.dtype.kind == "f" and np.isnan(best).any():
        # NOTE: torch lets a NaN win (the last NaN of the window): redo with that rule
        best = np.array(views[0])
        k[...] = 0
        for t in range(1, g.K):
            v = views[t]
            hit = (v > best) | np.isnan(v)
            best = np.where(hit, v, best)
            k = np.where(hit, kd(t), k)
    if any(g.lo) or any(g.hi):
        _first_valid(best, k, g, xp.dtype)
    return best, k


def _first_valid(best, k, g, dtype):
    """Windows whose max is the padding value itself: torch names the window's first input
    position, not a padding one."""
    at_pad = best == _pad_value(dtype)
    if not at_pad.any():
        return
    inside = _pad(np.ones((1, 1) + g.size, bool), g, False)
    valid = np.stack([inside[win] for win in g.win])
    first = np.broadcast_to(valid.argmax(0).astype(k.dtype), k.shape)
    k[at_pad] = first[at_pad]


class MaxPool(Op):
    """(values, window-local argmax) of max pooling; the argmax output is not differentiable."""

    @staticmethod
    def forward(ctx, x, g):
        best, k = _argmax_taps(_pad(x, g, _pad_value(x.dtype)), g)
        ctx.g, ctx.k = g, k
        ctx.mark_non_differentiable(k)
        ctx.save_for_backward(x)
        return best, k

    @staticmethod
    def backward(ctx, gy, gk):
        gx = _xp.call(PoolScatter, gy, ctx.k, ctx.g)
        return InputGrad.apply(gx, ctx.saved_tensors[0]) if _xp.is_t(gx) else gx


class PoolScatter(Op):
    """Each gradient entry goes to the input position its window's argmax names."""

    @staticmethod
    def forward(ctx, gy, k, g):
        ctx.k, ctx.g = k, g
        shape = gy.shape[:2] + g.padded
        tiled = g.disjoint and all(o * s == n for o, s, n in zip(g.out, g.s, g.padded)) and \
            all(kk == s and dd == 1 for kk, s, dd in zip(g.k, g.s, g.d))
        xp = np.empty(shape, gy.dtype) if tiled else np.zeros(shape, gy.dtype)
        hit = np.empty(k.shape, bool)
        for t, win in enumerate(g.win):
            dst = xp[win]
            np.equal(k, t, out=hit)
            if g.disjoint:
                np.multiply(gy, hit, out=dst)
            else:
                dst += gy * hit
        return xp[g.inner]

    @staticmethod
    def backward(ctx, gg):
        return _xp.call(PoolGather, gg, ctx.k, ctx.g)


class PoolGather(Op):
    """out[w] = x[argmax position of window w] (the adjoint of PoolScatter)."""

    @staticmethod
    def forward(ctx, x, k, g):
        ctx.k, ctx.g = k, g
        xp = _pad(x, g, 0)
        out = np.zeros(k.shape, x.dtype)
        for t, win in enumerate(g.win):
            out = np.where(k == t, xp[win], out)
        return out

    @staticmethod
    def backward(ctx, gy):
        return _xp.call(PoolScatter, gy, ctx.k, ctx.g)
