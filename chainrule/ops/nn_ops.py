"""Fused primitives behind nn.functional: each exists because the composite form is slower or
loses precision (the reason is in a NOTE on the class). Everything else in nn.functional is a
composite of the core ops."""
import functools

import numpy as np

from .. import _special as _sp
from .. import backend as _backend
from .._tensor import Tensor
from ..autograd import function as _fn
from ..autograd.function import Op
from ..autograd.grad_mode import _mode
from . import _xp
from . import elementwise as _E
from .elementwise import _ZERO_ROWS, _zero_row

__all__ = []


def _sigmoid(x):
    return x.sigmoid() if isinstance(x, Tensor) else _sp.expit(x)


def _axis(a, dim):
    return dim if a.ndim else None


class LogSoftmax(Op):
    """x - logsumexp(x) along dim.

    NOTE: one primitive instead of five composite nodes; shifting by the max keeps exp from
    overflowing, so any finite input gives finite values and gradients."""

    @staticmethod
    def forward(ctx, a, dim):
        ax = _axis(a, dim)
        out = a - a.max(axis=ax, keepdims=True)
        out -= np.log(np.exp(out).sum(axis=ax, keepdims=True))
        ctx.dim = ax
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g - _xp.exp(out) * _xp.sum(g, ctx.dim, True)


class Softmax(Op):
    """exp(x) / sum(exp(x)) along dim (max-shifted, see LogSoftmax).

    NOTE: a primitive (not exp of log_softmax) to save one pass over the data both ways."""

    @staticmethod
    def forward(ctx, a, dim):
        ax = _axis(a, dim)
        out = np.exp(a - a.max(axis=ax, keepdims=True))
        out /= out.sum(axis=ax, keepdims=True)
        ctx.dim = ax
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        go = g * out
        return go - out * _xp.sum(go, ctx.dim, True)


class Softplus(Op):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (None: nowhere).

    NOTE: log(1 + exp(z)) as logaddexp(0, z) and its derivative as sigmoid(z): exact and
    finite for both signs (the composite overflows exp for large z and loses log1p's
    precision for very negative z)."""

    @staticmethod
    def forward(ctx, a, beta, threshold):
        z = a * beta if beta != 1 else a
        out = np.logaddexp(0, z)
        if beta != 1:
            out /= beta
        if threshold is not None:
            out = np.where(z > threshold, a, out)
        ctx.beta, ctx.threshold = beta, threshold
        ctx.save_for_backward(a)
        return out

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        z = a * ctx.beta if ctx.beta != 1 else a
        d = _sigmoid(z)
        if ctx.threshold is not None:
            d = _xp.where(z > ctx.threshold, 1.0, d)
        return g * d


class BinaryCrossEntropy(Op):
    """-(t log x + (1 - t) log(1 - x)) elementwise, each log clamped below at -100.

    NOTE: a primitive so the input gradient (x - t) / max(x (1 - x), 1e-12) stays finite at
    x = 0 and x = 1, where the composite of clamped logs gives 0 / 0."""

    @staticmethod
    def forward(ctx, x, t):
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        ctx.save_for_backward(x, t)
        return -(t * lx + (1 - t) * l1x)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        n = ctx.needs_input_grad
        gx = gt = None
        if n[0]:
            v = x * (1 - x)
            gx = g * (x - t) / _xp.where(v > 1e-12, v, 1e-12)
        if n[1]:
            gt = g * (_xp.log(1 - x) - _xp.log(x))
        return gx, gt


def _class_weights(target, weight, ignore_index, reduction, dtype):
    """Per-element coefficients of -log p[target] for class-index losses: (safe targets,
    coefficients (None: all 1), the divisor of 'mean', the mask of kept elements (None: all
    kept)). ignore_index None: none ignored."""
    keep = None if ignore_index is None else target != ignore_index
    if keep is None or keep.all():
        keep = None
        tc, w = target, (None if weight is None else weight[target])
    else:
        tc = np.where(keep, target, 0)
        w = keep.astype(dtype) if weight is None else weight[tc] * keep
    if reduction != "mean":
        return tc, w, 1, keep
    return tc, w, (target.size if w is None else w.sum()), keep


_ROWS = {}
_max_reduce = np.maximum.reduce


def _row_starts(n, c):
    """[0, c, 2c, ...] (n of them): each row's first flat position in an (n, c) array."""
    r = _ROWS.get((n, c))
    if r is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        r = _ROWS[(n, c)] = np.arange(0, n * c, c)
        r.flags.writeable = False
    return r


def _reduce_scaled(per, w, reduction, denom, dtype):
    if w is not None:
        per = per * w
    if reduction == "none":
        return per.astype(dtype, copy=False)
    if denom:       # np.errstate costs microseconds: only for the all-ignored 0 / 0 case
        return np.asarray((_backend.col_sum(per) if per.ndim == 1 else per.sum()) / denom,
                          dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(per.sum() / denom, dtype)


def _scale(g, w, reduction, denom, keep):
    """g times each element's coefficient, shaped (N, 1, d1, ...) against the class axis."""
    if reduction == "none":
        s = g if w is None else g * w
        return _xp.reshape(s, tuple(s.shape[:1]) + (1,) + tuple(s.shape[1:]))
    if denom:
        s = g / denom if w is None else g * (w / denom)
    else:       # a zero total weight: ignored elements still get 0 (torch skips them)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = w / denom if w is not None else None
            if c is not None and keep is not None:
                c = np.where(keep, c, 0).astype(c.dtype, copy=False)
            s = g / denom if w is None else g * c
    return _xp.reshape(s, s.shape[:1] + (1,) + s.shape[1:]) if w is not None else s


def _pick(a, tc):
    """a[n, tc[n], ...] along the class axis 1."""
    if a.ndim == 2:
        return a[np.arange(a.shape[0]), tc]
    return np.take_along_axis(a, tc[:, None], axis=1)[:, 0]


def _onehot(shape, tc):
    return np.arange(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2)) == tc[:, None]


class NllLoss(Op):
    """-logp[n, target[n], ...] for (N, C, d1, ...) log-probabilities, weighted, with
    ignore_index and the reduction done inside. ``spec`` is (target array, weight array or
    None, ignore_index or None, reduction): one constant argument, so the op is a two-argument
    call (the engine's fast binary path).

    NOTE: fused: one gather forward; backward is the gradient times a constant (a scaled
    one-hot), so it needs no scatter op and stays differentiable."""

    @staticmethod
    def forward(ctx, logp, spec):
        target, weight, ignore_index, reduction = spec
        tc, w, denom, keep = _class_weights(target, weight, ignore_index, reduction,
                                            logp.dtype)
        picked = _pick(logp, tc)
        ctx.info = (logp.shape, tc, w, reduction, denom, keep)
        ctx.save_for_backward(logp)
        return _reduce_scaled(-picked, w, reduction, denom, logp.dtype)

    @staticmethod
    def backward(ctx, g):
        shape, tc, w, reduction, denom, keep = ctx.info
        gx = -_scale(g, w, reduction, denom, keep) * _onehot(shape, tc)
        if _xp.is_t(gx):    # on logp's graph, as torch's nll_loss_backward (derivative zero)
            from .conv import InputGrad
            gx = InputGrad.apply(gx, ctx.saved_tensors[0])
        return gx, None


class CrossEntropy(Op):
    """cross_entropy of (N, C, d1, ...) logits against class indices: logsumexp(x) - x[target]
    (max-shifted), weighted, with ignore_index and the reduction done inside; ``spec`` as for
    NllLoss.

    NOTE: fused (the training path): forward keeps exp(x - max) so backward is one pass,
    (softmax - onehot) * coefficient, instead of log_softmax's and nll's passes. A recorded
    backward (create_graph) takes softmax from the Softmax op so it stays differentiable."""
    __slots__ = ("info",)     # what backward needs, without a per-node __dict__

    @staticmethod
    def forward(ctx, x, spec):
        target, weight, ignore_index, reduction = spec
        if weight is None and ignore_index is None:     # _class_weights' common case, inline
            tc, w, denom, keep = target, None, (target.size if reduction == "mean" else 1), None
        else:
            tc, w, denom, keep = _class_weights(target, weight, ignore_index, reduction,
                                                x.dtype)
        z = x - _max_reduce(x, 1, None, None, True)     # ufunc directly: no Python wrapper
        e = np.exp(z)
        if x.ndim == 2:
            s = _backend.row_sum(e)
            # NOTE: the targets' flat positions (row * C + target): 1-D fancy indexing is 2-3x
            # faster than [rows, target], here and in backward's scatter
            flat = _row_starts(*x.shape) + tc
            per = np.log(s) - z.reshape(-1)[flat]
            s = s[:, None]
        else:
            s = e.sum(axis=1, keepdims=True)
            flat = None
            per = np.log(s[:, 0]) - _pick(z, tc)
        if ctx.needs_input_grad[0]:
            ctx.info = (tc, w, reduction, denom, keep, e, s, flat)
            ctx._saved = (x,)
        if w is None and denom and reduction == "mean" and flat is not None:
            return np.asarray(_backend.col_sum(per) / denom, x.dtype)  # _reduce_scaled, inline
        return _reduce_scaled(per, w, reduction, denom, x.dtype)

    @staticmethod
    def backward(ctx, g):
        tc, w, reduction, denom, keep, e, s, flat = ctx.info
        if w is None and denom and reduction == "mean":
            scale = g / denom           # the common case of _scale, inline
        else:
            scale = _scale(g, w, reduction, denom, keep)
        if isinstance(g, Tensor):       # recorded (create_graph): through the Softmax op
            x, = ctx.saved_tensors
            grad = (_xp.call(Softmax, x, 1) - _onehot(x.shape, tc)) * scale
        else:
            grad = np.multiply(e, scale / s, order="C")     # C order: flat views it
            if flat is not None:
                grad.reshape(-1)[flat] -= scale[:, 0] if scale.ndim else scale
            else:
                at = np.take_along_axis(grad, tc[:, None], axis=1)
                np.put_along_axis(grad, tc[:, None], at - scale, axis=1)
        return grad, None


class Standardize(Op):
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance), then times ``w`` and
    plus ``b`` when given (already shaped to broadcast against x). When ``stats`` is a list,
    forward appends the (mean, var) arrays to it (batch_norm's running statistics).

    NOTE: fused (layer_norm, group_norm, batch_norm, instance_norm): one node and two passes
    each way instead of ten composite nodes; backward is the closed form
    rstd * (h - mean(h) - xhat * mean(h * xhat)) with h = g * w."""

    @staticmethod
    def forward(ctx, x, w, b, axes, eps, stats):
        mu = x.sum(axis=axes, keepdims=True)
        n = x.size // mu.size if mu.size else 1
        mu /= n
        xc = x - mu
        var = np.square(xc).sum(axis=axes, keepdims=True)
        var /= n
        rstd = 1.0 / np.sqrt(var + eps)
        xhat = xc * rstd
        out = xhat if w is None else xhat * w
        if b is not None:
            out = out + b
        if stats is not None:
            stats.extend((mu, var))
        ctx.axes, ctx.eps, ctx.rstd, ctx.n = axes, eps, rstd, n
        ctx.save_for_backward(x, w, xhat)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w, xhat = ctx.saved_tensors
        axes, n = ctx.axes, ctx.n
        if isinstance(x, Tensor):
            # recorded backward: rebuild the statistics from x so they carry its graph
            xc = x - _xp.sum(x, axes, True) / n
            rstd = 1.0 / _xp.sqrt(_xp.sum(xc * xc, axes, True) / n + ctx.eps)
            xhat = xc * rstd
        else:
            rstd = ctx.rstd
        need = ctx.needs_input_grad
        gx = None
        if need[0]:
            h = g if w is None else g * w
            mh = _xp.sum(h, axes, True) / n
            mhx = _xp.sum(h * xhat, axes, True) / n
            gx = rstd * (h - mh - xhat * mhx)
        gw = g * xhat if need[1] else None
        return gx, gw, (g if need[2] else None), None, None, None


class Linear(Op):
    """x @ W.T + b over the last dim of x (one float dtype; linear_fast and F.linear check).

    NOTE: fused (one node instead of transpose, matmul and a broadcast add): the bias is added
    in place into the fresh product and its gradient is one column sum, which halves the
    overhead of small layers."""
    _exact = True

    @staticmethod
    def forward(ctx, x, w, b):
        n = ctx.needs_input_grad
        ctx.save_for_backward(x if n[1] else None, w if n[0] else None)
        out = x @ w.T
        if b is not None:
            out += b
        return out

    # backward: _linear_backward(False, ctx, g), bound below


class LinearRelu(Op):
    """relu(x @ W.T + b): nn.Sequential's Linear followed by ReLU, as one node.

    NOTE: fused (one node and one array instead of two): relu runs in place on the fresh
    product, and backward masks the gradient by the saved output as ReLU's own rule does.
    Built only outside transforms (linear_fast returns None under one, and Sequential then
    runs Linear and ReLU, whose forward-mode and batching rules apply); its backward is made
    of primitives, so recorded and vmapped backwards of a fused graph still work."""
    _no_transforms = True
    _exact = True

    @staticmethod
    def forward(ctx, x, w, b):
        n = ctx.needs_input_grad
        out = x @ w.T
        if b is not None:
            out += b
        np.maximum(out, _zero_row(out), out=out)
        ctx.save_for_backward(x if n[1] else None, w if n[0] else None, out)
        return out

    # backward: _linear_backward(True, ctx, g), bound below


def _linear_backward(relu, ctx, g):
    saved = ctx._saved
    if type(g) is not _nd or type(saved) is not list or not ctx._raw or g.ndim != 2:
        if relu:
            x, w, out = ctx.saved_tensors
            # recorded: relu's rule on out's graph (as torch)
            g = _xp.call(_E.ReluGrad, g, out) if isinstance(g, Tensor) else g * (out != 0)
        else:
            x, w = ctx.saved_tensors
        return _linear_grads(ctx.needs_input_grad, g, x, w)
    # the plain backward of a 2-D layer: saved_tensors' version checks and _linear_grads,
    # inline (a third of a small layer's backward was these calls)
    kx, x, vx = saved[0]
    if kx == 0:
        vc = x._vc
        if vc is not None and vc.v != vx:
            ctx._version_error(x, vc.v, vx)
        x = x._data
    kw, w, vw = saved[1]
    if kw == 0:
        vc = w._vc
        if vc is not None and vc.v != vw:
            ctx._version_error(w, vc.v, vw)
        w = w._data
    if relu:
        _, (out, nr, vc), vo = saved[2]
        if vc.v != vo:
            ctx._version_error(None, vc.v, vo, arr=out, nr=nr)
        g = g * (out != 0)
    n = ctx.needs_input_grad
    return (g @ w if n[0] else None, g.T @ x if n[1] else None,
            _col_sum(g) if n[2] else None)


# a partial, not a wrapper: the engine calls it with no Python frame of its own
Linear.backward = staticmethod(functools.partial(_linear_backward, False))
LinearRelu.backward = staticmethod(functools.partial(_linear_backward, True))


def _linear_grads(n, g, x, w):
    # every gradient is a fresh C-contiguous array: the engine relies on it (Linear._exact)
    g2 = _xp.reshape(g, (-1, g.shape[-1])) if g.ndim > 2 else g
    gx = gw = gb = None
    if n[0]:
        gx = g2 @ w
        if g2 is not g:
            gx = _xp.reshape(gx, g.shape[:-1] + (w.shape[1],))
    if n[1] or n[2]:
        if g2.ndim == 1:
            g2 = _xp.reshape(g, (1, -1))
        if n[1]:
            x2 = _xp.reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
            gw = g2.T @ x2          # one GEMM, (out, in) like the weight
        if n[2]:    # a 1-D result: an array (or Tensor) either way
            gb = _col_sum(g2) if type(g2) is _nd else g2.sum(0)
    return gx, gw, gb


_new = object.__new__
_Version = _fn._Version
_nd = np.ndarray
_col_sum = _backend.col_sum
_INTERPOSE = _fn._INTERPOSE
_anomaly = _fn._anomaly


def linear_fast(x, w, b, relu=False):
    """Linear.apply (LinearRelu.apply with ``relu``) for the call training makes (Tensors of
    one float dtype, a 2-D weight, a matching 1-D bias or None), with the node wired inline.
    None when the general path must take the call: other arguments, a transform active,
    anomaly mode on.

    NOTE: repeats Linear.forward's math and _connect1's wiring unrolled: the generic apply's
    argument loops were a third of a small layer's time."""
    if (not (isinstance(x, Tensor) and isinstance(w, Tensor)) or _INTERPOSE[0] is not None
            or _anomaly[0]):
        return None
    xd = x._data
    wd = w._data
    dt = xd.dtype
    ws = wd.shape
    if (len(ws) != 2 or dt.kind != "f" or wd.dtype is not dt and wd.dtype != dt
            or not xd.ndim or xd.shape[-1] != ws[1]):
        return None
    if b is None:
        bd = None
        rb = False
    elif isinstance(b, Tensor):
        bd = b._data
        if bd.dtype != dt or bd.ndim != 1 or bd.shape[0] != ws[0]:
            return None
        rb = b._rg
    else:
        return None
    rx = x._rg
    rw = w._rg
    out = xd @ wd.T
    if bd is not None:
        out += bd
    if relu:
        z = _ZERO_ROWS.get((ws[:1], dt))     # (_zero_row's hit, inline)
        np.maximum(out, _zero_row(out) if z is None else z, out=out)
    if not ((rx or rw or rb) and _mode.grad):
        return Tensor._make(out)
    ctx = _new(LinearRelu if relu else Linear)
    ctx.needs_input_grad = (rx, rw, rb)
    edge = _fn._edge
    fn = x.grad_fn
    ctx._next = ((fn, x._nr) if fn is not None else edge(x)) if rx else None, \
        edge(w) if rw else None, edge(b) if rb else None
    ctx._in_meta = ((xd.shape, dt) if rx else None, (ws, dt) if rw else None,
                    (bd.shape, dt) if rb else None)
    ctx._nout = 1
    if rw:      # _rec(x), inline
        vc = x._vc
        saved = [(0, x, vc.v if vc is not None else 0)]
    else:
        saved = [_fn._NONE_REC]
    saved.append((0, w, w._vc.v if w._vc is not None else 0) if rx else _fn._NONE_REC)
    res = _new(Tensor)
    res._data = out
    res._rg = True
    res.grad_fn = ctx
    res._nr = 0
    res.grad = None
    if relu:
        vc = res._vc = _new(_Version)      # (_Version(), inline)
        vc.v = 0
        vc.g = 0
        saved.append((1, (out, 0, vc), 0))
    else:
        res._vc = None
    ctx._saved = saved
    return res
