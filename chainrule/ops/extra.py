"""More of torch's math catalogue: pointwise extras (addcmul, logit, fmax, sinc, gcd, i0...),
distances (cdist, pdist, dist), differences and integrals (diff, trapezoid), statistics (cov,
corrcoef, bincount, histc), index builders (tril_indices, combinations, unravel_index) and the
signal windows. Nearly all are composites of existing ops; the few primitives (LogCumSumExp,
I0/I1, NextAfter, Unfold/UnfoldBack) sit next to the functions that use them."""
import itertools
import math
import numbers
import warnings

import numpy as np

from .. import _special as _sp
from .. import backend as _backend
from .. import dtypes as _dt
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Op
from . import _xp
from . import elementwise as E
from . import index as I
from . import reduce as R
from . import shape as S
from .inplace import inplace

__all__ = ["addcmul", "addcdiv", "cdist", "pdist", "cosine_similarity", "pairwise_distance",
           "diff", "logit", "logit_", "heaviside", "fmax", "fmin", "sinc", "sinc_", "deg2rad",
           "deg2rad_", "rad2deg", "rad2deg_", "gcd", "gcd_", "lcm", "lcm_", "signbit",
           "logcumsumexp", "i0", "i0_", "mvlgamma", "dist", "diagflat", "renorm", "vander",
           "rsub", "ravel", "positive", "nextafter", "ldexp", "ldexp_", "frexp", "tril_indices",
           "triu_indices", "block_diag", "cartesian_prod", "combinations", "cov", "corrcoef",
           "trapezoid", "trapz", "cumulative_trapezoid", "bincount", "histc", "isin",
           "unravel_index", "hann_window", "hamming_window", "blackman_window",
           "bartlett_window", "kaiser_window", "is_signed"]

_make = Tensor._make
_TNAMES = _dt.SCALAR_NAMES


# -- helpers ---------------------------------------------------------------------------------
def _tname(x):
    """torch's scalar-type name of a tensor's dtype ('Float', 'Long', ...)."""
    return _TNAMES.get(x.dtype.name, x.dtype.name)


def _need(x, op, name="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _int_arg(v, op, name):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


def _number(v, op, name):
    if isinstance(v, Tensor) and v._data.ndim == 0:
        return v.item()
    if not isinstance(v, numbers.Number):
        raise TypeError(f"{op}(): argument '{name}' must be Number, not {type(v).__name__}")
    return v


_bcast_shape = I._bcast     # the broadcast shape, or a RuntimeError naming op and shapes


def _not_impl(op, x):
    return RuntimeError(f"\"{op}\" not implemented for '{_tname(x)}'")


def _const(arr):
    return _make(np.asarray(arr))


def _ip(x, fn, *args, name, **kwargs):
    _need(x, name)
    return inplace(x, fn, *args, name=name, **kwargs)


# -- pointwise ---------------------------------------------------------------------------------
def _addc(input, tensor1, tensor2, value, op, divide):
    for name, pos, v in (("input", 1, input), ("tensor1", 2, tensor1), ("tensor2", 3, tensor2)):
        _need(v, op, name, pos)
    value = _number(value, op, "value")
    _bcast_shape([t._data.shape for t in (input, tensor1, tensor2)], op)
    if divide and tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                           "for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    rt = _dt.result_type(input, tensor1, tensor2)
    if not rt.is_floating_point and not isinstance(value, bool):
        value = int(value)      # torch truncates the scalar for integer results
    a, b, c = (E.cast(t, rt) for t in (input, tensor1, tensor2))
    t = E.mul(b, value) if value != 1 else b
    return a + (E.div(t, c) if divide else t * c)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2, broadcasting all three.

    >>> import chainrule
    >>> chainrule.addcmul(chainrule.ones(2), chainrule.tensor([1.0, 2.0]),
    ...                   chainrule.tensor([3.0, 4.0]), value=0.5)
    tensor([2.5000, 5.0000])
    """
    return _addc(input, tensor1, tensor2, value, "addcmul", False)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (tensor1 and tensor2 may not both be integers).

    >>> import chainrule
    >>> chainrule.addcdiv(chainrule.ones(2), chainrule.tensor([1.0, 2.0]),
    ...                   chainrule.tensor([4.0, 4.0]), value=2)
    tensor([1.5000, 2.0000])
    """
    return _addc(input, tensor1, tensor2, value, "addcdiv", True)


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given (the gradient is
    zero outside that range).

    >>> import chainrule
    >>> chainrule.logit(chainrule.tensor([0.5, 0.0]), eps=0.25)
    tensor([ 0.0000, -1.0986])
    """
    x = E._unary_in(input, "logit")
    if eps is not None:
        eps = float(_number(eps, "logit", "eps"))
        if eps >= 0:
            x = E.clamp(x, eps, 1.0 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        return E.log(x / (1.0 - x))


def logit_(input, eps=None):
    """In-place :func:`logit`.

    >>> import chainrule
    >>> chainrule.logit_(chainrule.tensor([0.5]))
    tensor([0.])
    """
    return _ip(input, logit, eps, name="logit_")


def heaviside(input, values):
    """0 where input < 0, ``values`` where input == 0, 1 where input > 0 (same dtypes).
    Only ``values`` gets a gradient (where input == 0).

    >>> import chainrule
    >>> chainrule.heaviside(chainrule.tensor([-1.0, 0.0, 2.0]), chainrule.tensor(0.5))
    tensor([0.0000, 0.5000, 1.0000])
    """
    _need(input, "heaviside")
    _need(values, "heaviside", "values", 2)
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    _bcast_shape([input._data.shape, values._data.shape], "heaviside")
    x = input._data
    return E.where(_const(x == 0), values, _const((x > 0).astype(x.dtype)))


def _fminmax(input, other, op, is_max):
    _need(input, op)
    _need(other, op, "other", 2)
    a, b = E._promote(input, other, op)
    E._check_broadcast(a, b, op)
    # NOTE: ties and NaN in other go to input (torch's rule): a NaN loses to a number
    if type(a._data) is np.ndarray and type(b._data) is np.ndarray:
        ad, bd = a._data, b._data
        keep = (ad >= bd) if is_max else (ad <= bd)
        return E.where(_const(keep | (bd != bd)), a, b)
    keep = (a >= b) if is_max else (a <= b)     # under vmap: batchable comparisons
    return E.where(keep | (b != b), a, b)


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN). At ties the
    gradient goes to ``input``.

    >>> import chainrule
    >>> chainrule.fmax(chainrule.tensor([1.0, float("nan")]), chainrule.tensor([2.0, 3.0]))
    tensor([2., 3.])
    """
    return _fminmax(input, other, "fmax", True)


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN. At ties the gradient goes to ``input``.

    >>> import chainrule
    >>> chainrule.fmin(chainrule.tensor([1.0, float("nan")]), chainrule.tensor([2.0, 3.0]))
    tensor([1., 3.])
    """
    return _fminmax(input, other, "fmin", False)


def sinc(input, *, out=None):
    """sin(pi x) / (pi x), with sinc(0) = 1 (gradient 0 there).

    >>> import chainrule
    >>> chainrule.sinc(chainrule.tensor([0.0, 0.5]))
    tensor([1.0000, 0.6366])
    """
    x = E._unary_in(input, "sinc")
    if type(x._data) is np.ndarray:
        zero = x._data == 0
        if not zero.any():
            px = x * math.pi
            return E.sin(px) / px
        z = _const(zero)
    else:       # under vmap: the mask as a (batchable) tensor
        z = x == 0
    px = E.where(z, 1.0, x) * math.pi       # a safe divisor: no 0/0 in the unused branch
    return E.where(z, 1.0, E.sin(px) / px)


def sinc_(input):
    """In-place :func:`sinc`.

    >>> import chainrule
    >>> chainrule.sinc_(chainrule.tensor([0.0]))
    tensor([1.])
    """
    return _ip(input, sinc, name="sinc_")


def deg2rad(input, *, out=None):
    """Degrees to radians (integers give the default float dtype).

    >>> import chainrule
    >>> chainrule.deg2rad(chainrule.tensor([180.0]))
    tensor([3.1416])
    """
    return E._unary_in(input, "deg2rad") * (math.pi / 180.0)


def rad2deg(input, *, out=None):
    """Radians to degrees (integers give the default float dtype).

    >>> import chainrule
    >>> chainrule.rad2deg(chainrule.tensor([3.141592653589793]))
    tensor([180.])
    """
    return E._unary_in(input, "rad2deg") * (180.0 / math.pi)


def deg2rad_(input):
    """In-place :func:`deg2rad`.

    >>> import chainrule
    >>> chainrule.deg2rad_(chainrule.tensor([90.0]))
    tensor([1.5708])
    """
    return _ip(input, deg2rad, name="deg2rad_")


def rad2deg_(input):
    """In-place :func:`rad2deg`.

    >>> import chainrule
    >>> chainrule.rad2deg_(chainrule.tensor([0.0]))
    tensor([0.])
    """
    return _ip(input, rad2deg, name="rad2deg_")


def _int_pair(input, other, op):
    _need(input, op)
    _need(other, op, "other", 2)
    a, b = E._promote(input, other, op)
    E._check_broadcast(a, b, op)
    if a._data.dtype.kind not in "iu":
        raise _not_impl(f"{op}_cpu", a)
    return a._data, b._data


def gcd(input, other, *, out=None):
    """Greatest common divisor of integer tensors (non-negative; gcd(0, 0) = 0).

    >>> import chainrule
    >>> chainrule.gcd(chainrule.tensor([4, -6, 0]), chainrule.tensor([6, 4, 5]))
    tensor([2, 2, 5])
    """
    a, b = _int_pair(input, other, "gcd")
    return _const(np.gcd(a, b))


def lcm(input, other, *, out=None):
    """Least common multiple of integer tensors (non-negative; 0 if either is 0).

    >>> import chainrule
    >>> chainrule.lcm(chainrule.tensor([4, -6, 0]), chainrule.tensor([6, 4, 5]))
    tensor([12, 12,  0])
    """
    a, b = _int_pair(input, other, "lcm")
    return _const(np.lcm(a, b))


def gcd_(input, other):
    """In-place :func:`gcd`.

    >>> import chainrule
    >>> chainrule.gcd_(chainrule.tensor([4]), chainrule.tensor([6]))
    tensor([2])
    """
    return _ip(input, gcd, other, name="gcd_")


def lcm_(input, other):
    """In-place :func:`lcm`.

    >>> import chainrule
    >>> chainrule.lcm_(chainrule.tensor([4]), chainrule.tensor([6]))
    tensor([12])
    """
    return _ip(input, lcm, other, name="lcm_")


def signbit(input, *, out=None):
    """True where the sign bit is set (including -0.0 and negative NaN).

    >>> import chainrule
    >>> chainrule.signbit(chainrule.tensor([-0.0, 0.0, -2.0]))
    tensor([ True, False,  True])
    """
    d = _need(input, "signbit")._data
    if d.dtype.kind == "f":
        return _const(np.signbit(d))
    if d.dtype.kind == "i":
        return _const(d < 0)
    return _const(np.zeros(d.shape, bool))


class LogCumSumExp(Op):
    """log(cumsum(exp(a))) along ``dim``, computed by a running logaddexp (no overflow)."""

    @staticmethod
    def forward(ctx, a, dim):
        out = np.logaddexp.accumulate(a, axis=dim)
        ctx.dim = dim
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        # grad_k = sum_{i >= k} g_i exp(a_k - out_i)
        return _xp.call(ExpScan, g, -out, a, ctx.dim, True), None

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        a, dim = args
        return cls.apply(a, _shift(dim))


def _shift(dim):
    """A dim of a vmap rule's logical arguments as a dim of their physical tensors."""
    return dim + 1 if dim >= 0 else dim


class ExpScan(Op):
    """out_k = sum of v_j exp(s_j + t_k) over j <= k along ``dim`` (j >= k when reverse):
    logcumsumexp's backward. Linear in v; its vjp in v and s is an ExpScan the other way, so
    every order of derivative stays stable.

    NOTE: summed in log space (a running logaddexp of log|v| + s) for the positive and the
    negative part of v apart, so exp never overflows where the result is finite."""

    @staticmethod
    def forward(ctx, v, s, t, dim, reverse):
        ctx.info = (dim, reverse)
        out = np.zeros(np.broadcast_shapes(v.shape, s.shape, t.shape), v.dtype)
        for sign in (1.0, -1.0):
            part = v * sign > 0
            if not part.any():
                continue
            lv = np.where(part, np.log(np.where(part, np.abs(v), 1.0)) + s, -np.inf)
            if reverse:
                acc = np.flip(np.logaddexp.accumulate(np.flip(lv, dim), axis=dim), dim)
            else:
                acc = np.logaddexp.accumulate(lv, axis=dim)
            out = out + np.exp(acc + t) * sign
        n = ctx.needs_input_grad
        ctx.save_for_backward(v if n[1] else None, s if n[0] or n[1] else None,
                              t if n[0] or n[1] else None, out if n[2] else None)
        return out

    @staticmethod
    def backward(ctx, h):
        v, s, t, out = ctx.saved_tensors
        dim, reverse = ctx.info
        n = ctx.needs_input_grad
        back = _xp.call(ExpScan, h, t, s, dim, not reverse) if n[0] or n[1] else None
        return ((back if n[0] else None), (v * back if n[1] else None),
                (h * out if n[2] else None), None, None)

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        from ..autograd._vmap_rules import _bcast_args
        v, s, t, dim, reverse = _bcast_args(args, bat)
        return cls.apply(v, s, t, _shift(dim), reverse)


def logcumsumexp(input, dim, *, out=None):
    """log(cumsum(exp(input))) along ``dim``, without overflow.

    >>> import chainrule
    >>> chainrule.logcumsumexp(chainrule.tensor([0.0, 0.0, 3.0]), 0)
    tensor([0.0000, 0.6931, 3.0949])
    """
    _need(input, "logcumsumexp")
    if input._data.dtype.kind != "f":
        raise _not_impl("logcumsumexp_out_cpu", input)
    nd = input._data.ndim
    d = _wrap_dim(_int_arg(dim, "logcumsumexp", "dim"), nd, "logcumsumexp")
    if nd == 0:
        return S.reshape(LogCumSumExp.apply(S.reshape(input, (1,)), 0), ())
    return LogCumSumExp.apply(input, d)


# -- Bessel I0 (and I1, its derivative) ------------------------------------------------------
def _i1(x):
    """The modified Bessel function I1 in float64: exp(|x|) times the scaled ive(1, x)
    (2 ulp; exponentiating an asymptotic log form loses about x ulp)."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore"):
        return _sp.ive(1, x) * np.exp(np.abs(x))


class I0(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(np.i0(a)).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * _xp.call(I1, a)


class I1(Op):
    """I1, i0's derivative (reached by i0's double backward); I1' = I0 - I1 / x (1/2 at 0)."""

    @staticmethod
    def forward(ctx, a):
        out = _i1(a).astype(a.dtype, copy=False)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        zero = a == 0
        d = _xp.call(I0, a) - out / _xp.where(zero, 1.0, a)
        return g * _xp.where(zero, 0.5, d)


def i0(input, *, out=None):
    """The modified Bessel function of the first kind, order 0 (gradient: I1).

    >>> import chainrule
    >>> chainrule.i0(chainrule.tensor([0.0, 1.0]))
    tensor([1.0000, 1.2661])
    """
    return I0.apply(E._unary_in(input, "i0"))


def i0_(input):
    """In-place :func:`i0`.

    >>> import chainrule
    >>> chainrule.i0_(chainrule.tensor([1.0]))
    tensor([1.2661])
    """
    return _ip(input, i0, name="i0_")


def mvlgamma(input, p, *, out=None):
    """The log of the multivariate gamma function of dimension ``p``:
    sum_i lgamma(x - i / 2) + p (p - 1) / 4 log(pi).

    >>> import chainrule
    >>> chainrule.mvlgamma(chainrule.tensor([2.5]), 2)
    tensor([0.8570])
    """
    p = _int_arg(p, "mvlgamma", "p")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = E._unary_in(input, "mvlgamma")
    offsets = np.array([-(p - 1 - k) / 2.0 for k in range(p)], x._data.dtype)
    args = S.unsqueeze(x, -1) + _const(offsets)
    return R.sum(E.lgamma(args), -1) + p * (p - 1) * math.log(math.pi) / 4.0


# -- distances ---------------------------------------------------------------------------------
def _dist_norm(d, p):
    """The p-norm of d over its last dim with torch's cdist/pdist gradients: zero where the
    distance (or, for p < 1, a coordinate) is zero, and at p = inf the full gradient to every
    coordinate that ties for the maximum."""
    a = E.abs(d)
    if d._data.shape[-1] == 0:
        return R.sum(a, -1)
    if p == 0:     # the count of non-zeros (NaN counts), with a zero gradient as in torch
        nz = E.sign(a)
        if np.isnan(a._data).any():
            nz = E.where(_const(np.isnan(a._data)), 1.0, nz)
        return R.sum(nz, -1)
    if p == 1:
        return R.sum(a, -1)
    if p == 2:
        return E.Root.apply(R.sum(d * d, -1), 2)
    if math.isinf(p):
        m = R.amax(a, -1, True).detach()
        tie = _const((a._data == m._data).astype(a._data.dtype))
        return S.squeeze(m + R.sum((a - m) * tie, -1, True), -1)
    zero = a._data == 0
    if zero.any():
        z = _const(zero)
        ap = E.where(z, 0.0, E.where(z, 1.0, a) ** p)
    else:
        ap = a ** p
    return E.Root.apply(R.sum(ap, -1), float(p))


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def _check_p(p, op):
    p = _number(p, op, "p")
    if p < 0:
        raise RuntimeError(f"{op} only supports non-negative p values")
    return float(p)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M): a (..., P, R)
    tensor. Batch dims broadcast. For p = 2 with P or R above 25 (or compute_mode
    'use_mm_for_euclid_dist') the distances come from one matrix product.

    >>> import chainrule
    >>> chainrule.cdist(chainrule.tensor([[0.0, 0.0]]), chainrule.tensor([[3.0, 4.0]]))
    tensor([[5.]])
    """
    _need(x1, "cdist", "x1", 1)
    _need(x2, "cdist", "x2", 2)
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t._data.ndim}D")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._data.shape[-1]} X2: {x2._data.shape[-1]}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_tname(t)}")
    if x1._data.dtype != x2._data.dtype:
        raise RuntimeError(f"expected scalar type {_tname(x1)} but found {_tname(x2)}")
    p = _check_p(p, "cdist")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    _bcast_shape([x1._data.shape[:-2], x2._data.shape[:-2]], "cdist")
    rows, cols = x1._data.shape[-2], x2._data.shape[-2]
    if p == 2 and (compute_mode == _CDIST_MODES[1] or compute_mode == _CDIST_MODES[0]
                   and (rows > 25 or cols > 25)):
        # |a|^2 + |b|^2 - 2 a.b, clamped at 0 against rounding
        s = (R.sum(x1 * x1, -1, True) + S.transpose(R.sum(x2 * x2, -1, True), -1, -2)
             - (x1 @ S.transpose(x2, -1, -2)) * 2.0)
        return E.Root.apply(E.clamp(s, min=0.0), 2)
    return _dist_norm(S.unsqueeze(x1, -2) - S.unsqueeze(x2, -3), p)


def pdist(input, p=2):
    """p-norm distances between all pairs of rows i < j of a 2-D input, in row-major pair
    order: a tensor of N (N - 1) / 2 values.

    >>> import chainrule
    >>> chainrule.pdist(chainrule.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
    tensor([5.0000, 1.0000, 4.2426])
    """
    _need(input, "pdist")
    if input._data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input._data.ndim}D")
    if input._data.dtype.kind != "f":
        raise RuntimeError("pdist only supports floating-point dtypes")
    p = _check_p(p, "pdist")
    i, j = np.triu_indices(input._data.shape[0], 1)
    d = I.index_select(input, 0, _const(i)) - I.index_select(input, 0, _const(j))
    return _dist_norm(d, p)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Top-level ``nn.functional.cosine_similarity``.

    >>> import chainrule
    >>> chainrule.cosine_similarity(chainrule.tensor([[1.0, 0.0]]),
    ...                             chainrule.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    from ..nn import functional as F
    return F.cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """Top-level ``nn.functional.pairwise_distance``.

    >>> import chainrule
    >>> chainrule.pairwise_distance(chainrule.tensor([[3.0, 0.0]]),
    ...                             chainrule.tensor([[0.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    from ..nn import functional as F
    return F.pairwise_distance(x1, x2, p, eps, keepdim)


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast), as a 0-d tensor.

    >>> import chainrule
    >>> chainrule.dist(chainrule.tensor([3.0, 0.0]), chainrule.tensor([0.0, 4.0]))
    tensor(5.)
    """
    _need(input, "dist")
    _need(other, "dist", "other", 2)
    a, b = E._promote(input, other, "dist")
    E._check_broadcast(a, b, "dist")
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {_tname(a)} instead.")
    from .. import functional_ops as FO
    return FO.vector_norm(a - b, _number(p, "dist", "p"))


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` is scaled down to norm
    ``maxnorm`` (exactly: by maxnorm / (norm + 1e-7)).

    >>> import chainrule
    >>> chainrule.renorm(chainrule.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    _need(input, "renorm")
    nd = input._data.ndim
    if nd < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {nd} dimensions")
    p = _number(p, "renorm", "p")
    maxnorm = _number(maxnorm, "renorm", "maxnorm")
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = _wrap_dim(_int_arg(dim, "renorm", "dim"), nd, "renorm")
    from .. import functional_ops as FO
    norm = FO.vector_norm(input, p, tuple(k for k in range(nd) if k != d), True)
    return input * E.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)


# -- shape-like helpers --------------------------------------------------------------------------
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``, after concatenating ``prepend`` and
    ``append`` (bool tensors: != of neighbours).

    >>> import chainrule
    >>> chainrule.diff(chainrule.tensor([1.0, 4.0, 9.0]), prepend=chainrule.tensor([0.0]))
    tensor([1., 3., 5.])
    """
    _need(input, "diff")
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = _int_arg(n, "diff", "n")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _wrap_dim(_int_arg(dim, "diff", "dim"), nd, "diff")
    parts = []
    for name, t in (("prepend", prepend), ("append", append)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t._data.ndim != nd:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
        for k in range(nd):
            if k != d and t._data.shape[k] != input._data.shape[k]:
                raise RuntimeError(
                    "diff expects the shape of tensor to prepend or append to match that of "
                    "input except along the differencing dimension; input.size("
                    f"{k}) = {input._data.shape[k]}, but got tensor.size({k}) = "
                    f"{t._data.shape[k]}")
    if prepend is not None:
        parts.append(prepend)
    parts.append(input)
    if append is not None:
        parts.append(append)
    x = S.cat(parts, d) if len(parts) > 1 else input
    if n == 0:
        return S.clone(x)
    for _ in range(n):
        hi, lo = S._slice_dim(x, d, 1, None), S._slice_dim(x, d, 0, -1)
        x = E.logical_xor(hi, lo) if x._data.dtype == np.bool_ else hi - lo
    return x


def diagflat(input, offset=0):
    """A 2-D matrix with the flattened input on diagonal ``offset``.

    >>> import chainrule
    >>> chainrule.diagflat(chainrule.tensor([[1, 2]]))
    tensor([[1, 0],
            [0, 2]])
    """
    _need(input, "diagflat")
    return S.diag_embed(S.reshape(input, (-1,)), _int_arg(offset, "diagflat", "offset"), 0, 1)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D x: columns x^(N-1), ..., x^0 (or increasing powers);
    integer and bool x give int64.

    >>> import chainrule
    >>> chainrule.vander(chainrule.tensor([1, 2, 3]), N=3)
    tensor([[1, 1, 1],
            [4, 2, 1],
            [9, 3, 1]])
    """
    _need(x, "vander", "x")
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    rows = x._data.shape[0]
    N = rows if N is None else _int_arg(N, "vander", "N")
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    rt = _dt.promote_types(x.dtype, _dt.int64)
    if N == 0:
        return _const(np.empty((rows, 0), rt.np))
    ones = _const(np.ones((rows, 1), rt.np))
    if N == 1:
        out = ones
    else:
        col = S.expand(S.unsqueeze(E.cast(x, rt), 1), (rows, N - 1))
        out = S.cat([ones, R.cumprod(col, 1)], 1)
    return out if increasing else S.flip(out, [1])


def rsub(input, other, *, alpha=1):
    """other - alpha * input (``other`` may be a number).

    >>> import chainrule
    >>> chainrule.rsub(chainrule.tensor([1.0, 2.0]), 5)
    tensor([4., 3.])
    """
    _need(input, "rsub")
    return E.sub(other, input, alpha=alpha)


def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows).

    >>> import chainrule
    >>> chainrule.ravel(chainrule.tensor([[1, 2], [3, 4]]))
    tensor([1, 2, 3, 4])
    """
    return S.reshape(_need(input, "ravel"), (-1,))


def positive(input):
    """input itself (unary plus); bool tensors are refused.

    >>> import chainrule
    >>> x = chainrule.tensor([1.0])
    >>> chainrule.positive(x) is x
    True
    """
    _need(input, "positive")
    if input._data.dtype == np.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


class NextAfter(Op):
    """The next representable value after a towards b; torch passes the gradient to a
    unchanged and gives b zeros that are constant (off the graph)."""

    @staticmethod
    def forward(ctx, a, b):
        return np.nextafter(a, b)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        zeros = np.zeros(tuple(g.shape), g._data.dtype if _xp.is_t(g) else g.dtype)
        return (g if n[0] else None), (zeros if n[1] else None)     # torch: a constant


def nextafter(input, other, *, out=None):
    """The next floating-point value after ``input`` in the direction of ``other``.

    >>> import chainrule
    >>> chainrule.nextafter(chainrule.tensor([1.0], dtype=chainrule.float64),
    ...                     chainrule.tensor([2.0], dtype=chainrule.float64)).item() - 1
    2.220446049250313e-16
    """
    _need(input, "nextafter")
    _need(other, "nextafter", "other", 2)
    a, b = E._promote(input, other, "nextafter")
    E._check_broadcast(a, b, "nextafter")
    if a._data.dtype.kind != "f":
        raise _not_impl("nextafter_cpu", a)
    return NextAfter.apply(a, b)


def ldexp(input, other, *, out=None):
    """input * 2 ** other (differentiable in both).

    >>> import chainrule
    >>> chainrule.ldexp(chainrule.tensor([1.0, 3.0]), chainrule.tensor([3, 1]))
    tensor([8., 6.])
    """
    _need(input, "ldexp")
    _need(other, "ldexp", "other", 2)
    return E.mul(input, E.pow(2.0, other))


def ldexp_(input, other):
    """In-place :func:`ldexp`.

    >>> import chainrule
    >>> chainrule.ldexp_(chainrule.tensor([1.0]), chainrule.tensor([2]))
    tensor([4.])
    """
    return _ip(input, ldexp, other, name="ldexp_")


_FREXP = R._return_type("frexp", ("mantissa", "exponent"))


def frexp(input, *, out=None):
    """Split into mantissa in [0.5, 1) (sign kept) and an int32 exponent:
    input = mantissa * 2 ** exponent. The mantissa's gradient is 2 ** -exponent.

    >>> import chainrule
    >>> m, e = chainrule.frexp(chainrule.tensor([8.0, -3.0]))
    >>> m, e
    (tensor([ 0.5000, -0.7500]), tensor([4, 2], dtype=chainrule.int32))
    """
    _need(input, "frexp")
    x = input._data
    if x.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    _, e = np.frexp(x)
    e = np.asarray(e, np.int32)
    # NOTE: dividing by the power of two 2**e is exact (it is representable down to the
    # smallest subnormal), so the mantissa matches np.frexp bit for bit
    scale = np.ldexp(np.ones_like(x), e)
    return _FREXP(input / _const(scale), _const(e))


# -- index builders -------------------------------------------------------------------------------
def _tri_indices(row, col, offset, dtype, lower):
    op = "tril_indices" if lower else "triu_indices"
    row = _int_arg(row, op, "row")
    col = _int_arg(col, op, "col")
    offset = _int_arg(offset, op, "offset")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    dt = _dt.int64 if dtype is None else _dt.to_dtype(dtype)
    if dt.np.kind not in "iu":
        raise RuntimeError(f"\"{op}\" not implemented for '{_TNAMES.get(dt.name, dt.name)}'")
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _const(np.stack([r, c]).astype(dt.np).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) coordinates of the lower triangle (j <= i + offset) of a row x col
    matrix, as a 2 x N tensor in row-major order.

    >>> import chainrule
    >>> chainrule.tril_indices(3, 3)
    tensor([[0, 1, 1, 2, 2, 2],
            [0, 0, 1, 0, 1, 2]])
    """
    return _tri_indices(row, col, offset, dtype, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (row, col) coordinates of the upper triangle (j >= i + offset), 2 x N.

    >>> import chainrule
    >>> chainrule.triu_indices(3, 3, 1)
    tensor([[0, 0, 1],
            [1, 2, 2]])
    """
    return _tri_indices(row, col, offset, dtype, False)


def block_diag(*tensors):
    """A block diagonal matrix of the given 0-, 1- or 2-D tensors (a 1-D tensor is one row).

    >>> import chainrule
    >>> chainrule.block_diag(chainrule.tensor([[1, 2]]), chainrule.tensor(3))
    tensor([[1, 2, 0],
            [0, 0, 3]])
    """
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag(): argument 'tensors' must be tuple of Tensors, but "
                            f"found element of type {type(t).__name__} at pos {k}")
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {k} has {t._data.ndim} dimensions")
    if not tensors:
        return _const(np.zeros((1, 0), _dt.get_default_dtype().np))
    rt = _dt.result_type(*tensors)
    mats = [S.reshape(E.cast(t, rt), (1, -1) if t._data.ndim == 1 else
                      (1, 1) if t._data.ndim == 0 else t._data.shape) for t in tensors]
    width = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m._data.shape
        pieces = [_const(np.zeros((r, left), rt.np)), m,
                  _const(np.zeros((r, width - left - c), rt.np))]
        rows.append(S.cat(pieces, 1))
        left += c
    return S.cat(rows, 0)


def _one_d(t, op):
    _need(t, op)
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


def cartesian_prod(*tensors):
    """All tuples of the 1-D tensors' elements (like itertools.product), one per row.

    >>> import chainrule
    >>> chainrule.cartesian_prod(chainrule.tensor([1, 2]), chainrule.tensor([3, 4]))
    tensor([[1, 3],
            [1, 4],
            [2, 3],
            [2, 4]])
    """
    for t in tensors:
        _one_d(t, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0]
    grids = S.meshgrid(*tensors, indexing="ij")
    return S.stack([S.reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The length-r combinations of a 1-D tensor's elements (like itertools.combinations, or
    combinations_with_replacement), one per row.

    >>> import chainrule
    >>> chainrule.combinations(chainrule.tensor([1, 2, 3]))
    tensor([[1, 2],
            [1, 3],
            [2, 3]])
    """
    _one_d(input, "combinations")
    r = _int_arg(r, "combinations", "r")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _const(np.empty((0,), input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    idx = np.array(list(pick(range(input._data.shape[0]), r)), np.int64).reshape(-1, r)
    return S.reshape(I.index_select(input, 0, _const(idx.reshape(-1))), (-1, r))


def unravel_index(indices, shape):
    """Flat indices to a tuple of coordinate tensors for ``shape`` (indices are taken modulo
    the shape, as torch does).

    >>> import chainrule
    >>> chainrule.unravel_index(chainrule.tensor([4, 1]), (2, 3))
    (tensor([1, 0]), tensor([1, 1]))
    """
    _need(indices, "unravel_index", "indices")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)) or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise TypeError("expected 'shape' to be int or sequence of ints, but got "
                        f"{type(shape).__name__}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    idx = indices._data.astype(np.int64)
    coefs = np.cumprod((shape[1:] + (1,))[::-1])[::-1] if shape else ()
    with np.errstate(divide="ignore", invalid="ignore"):
        return tuple(_const(np.asarray((idx // c) % s)) for c, s in zip(coefs, shape))


# -- statistics ---------------------------------------------------------------------------------
def _weights(w, op, name, nobs, integral):
    if not isinstance(w, Tensor):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(w).__name__}")
    if w._data.ndim > 1:
        raise RuntimeError(f"{op}(): expected {name} to have one or fewer dimensions but got "
                           f"{name} with {w._data.ndim} dimensions")
    kind = w._data.dtype.kind
    if integral and kind not in "iu":
        raise RuntimeError(f"{op}(): expected {name} to have integral dtype but got {name} "
                           f"with {_tname(w)} dtype")
    if not integral and kind != "f":
        raise RuntimeError(f"{op}(): expected {name} to have floating point dtype but got "
                           f"{name} with {_tname(w)} dtype")
    if w._data.size != nobs:
        raise RuntimeError(f"{op}(): expected {name} to have the same numel as there are "
                           f"observations in the input but got {w._data.size} != {nobs}")
    if (w._data < 0).any():
        raise RuntimeError(f"{op}(): {name} cannot be negative")
    return w


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the rows (variables) of a 1-D or 2-D input over its columns
    (observations), with integer frequency weights and float observation weights.

    >>> import chainrule
    >>> chainrule.cov(chainrule.tensor([[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]]))
    tensor([[ 2.3333, -2.1667],
            [-2.1667,  2.3333]])
    """
    _need(input, "cov")
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {nd} dimensions")
    if input._data.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    correction = _int_arg(correction, "cov", "correction")
    x = S.reshape(input, (1, -1)) if nd < 2 else input
    nobs = x._data.shape[1]
    w = None
    if fweights is not None:
        w = _weights(fweights, "cov", "fweights", nobs, True)
    if aweights is not None:
        aw = _weights(aweights, "cov", "aweights", nobs, False)
        w = aw if w is None else w * aw
    if w is None:
        w_sum = nobs
    else:
        w_sum = R.sum(w)
        if not w_sum._data.any():
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    avg = R.sum(x if w is None else x * w, 1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm = w_sum - R.sum(w * aweights) * correction / w_sum
    else:
        norm = w_sum - correction
    if float(norm._data if isinstance(norm, Tensor) else norm) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm = 0
    xc = x - S.unsqueeze(avg, 1)
    c = xc @ S.t(xc if w is None else xc * w)
    with np.errstate(divide="ignore", invalid="ignore"):
        return S.squeeze(E.div(c, norm))


def corrcoef(input):
    """Pearson correlation coefficients of the rows of a 1-D or 2-D input (clipped to
    [-1, 1]).

    >>> import chainrule
    >>> chainrule.corrcoef(chainrule.tensor([[1.0, 2.0, 4.0], [3.0, 1.0, 0.0]]))
    tensor([[ 1.0000, -0.9286],
            [-0.9286,  1.0000]])
    """
    _need(input, "corrcoef")
    nd = input._data.ndim
    if nd > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but "
                           f"got an input with {nd} dimensions")
    c = cov(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c._data.ndim == 0:
            return c / c
        sd = E.sqrt(S.diagonal(c))
        c = c / S.reshape(sd, (-1, 1))
        c = c / S.reshape(sd, (1, -1))
    return E.clamp(c, -1, 1)


def _trap_args(y, x, dx, dim, op):
    _need(y, op, "y")
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments - got both x "
                        "and dx; pass one of them")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'x' (position 2) must be Tensor, not "
                        f"{type(x).__name__}")
    if y._data.dtype == np.bool_ or x is not None and x._data.dtype == np.bool_:
        raise RuntimeError(f"{op}: received a bool input for `x` or `y`, but bool is not "
                           "supported")
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _wrap_dim(_int_arg(dim, op, "dim"), y._data.ndim, op)
    if x is None:
        return d, _number(1 if dx is None else dx, op, "dx")
    if x._data.ndim == 1:
        if x._data.shape[0] != y._data.shape[d]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        shape = [1] * y._data.ndim
        shape[d] = x._data.shape[0]
        x = S.reshape(x, tuple(shape))
    elif x._data.ndim < y._data.ndim:
        x = S.reshape(x, (1,) * (y._data.ndim - x._data.ndim) + x._data.shape)
    return d, S._slice_dim(x, d, 1, None) - S._slice_dim(x, d, 0, -1)


def _pair_sum(y, d):
    return S._slice_dim(y, d, 1, None) + S._slice_dim(y, d, 0, -1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along ``dim``: with sample points ``x`` (1-D, or broadcasting with
    y) or a constant spacing ``dx`` (default 1).

    >>> import chainrule
    >>> chainrule.trapezoid(chainrule.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
    >>> chainrule.trapezoid(chainrule.tensor([1.0, 2.0, 3.0]), chainrule.tensor([0.0, 1.0, 3.0]))
    tensor(6.5000)
    """
    d, step = _trap_args(y, x, dx, dim, "trapezoid")
    if y._data.shape[d] == 0:
        shape = y._data.shape[:d] + y._data.shape[d + 1:]
        return _const(np.zeros(shape, y._data.dtype))
    if x is None:
        ends = S.select(y, d, 0) + S.select(y, d, -1)
        return (R.sum(y, d) - ends * 0.5) * step
    return R.sum(step * _pair_sum(y, d), d) / 2.0


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of :func:`trapezoid`.

    >>> import chainrule
    >>> chainrule.trapz(chainrule.tensor([1.0, 2.0, 3.0]), dx=2)
    tensor(8.)
    """
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim`` (one element shorter than y there).

    >>> import chainrule
    >>> chainrule.cumulative_trapezoid(chainrule.tensor([1.0, 2.0, 3.0]))
    tensor([1.5000, 4.0000])
    """
    d, step = _trap_args(y, x, dx, dim, "cumulative_trapezoid")
    if x is None:
        return R.cumsum(_pair_sum(y, d) * (step / 2.0), d)
    return R.cumsum(step * _pair_sum(y, d) / 2.0, d)


def bincount(input, weights=None, minlength=0):
    """Counts of each value of a 1-D non-negative integer tensor (or sums of ``weights``:
    float32 weights give float32, other weights float64). Not differentiable.

    >>> import chainrule
    >>> chainrule.bincount(chainrule.tensor([1, 1, 3]))
    tensor([0, 2, 0, 1])
    """
    _need(input, "bincount")
    x = input._data
    if x.dtype.kind not in "iu":
        raise _not_impl("bincount_cpu", input)
    minlength = _int_arg(minlength, "bincount", "minlength")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if x.ndim == 1 and x.size == 0:
        return _const(np.zeros(minlength, np.int64))
    if x.ndim != 1 or x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _const(np.bincount(x, minlength=minlength).astype(np.int64))
    _need(weights, "bincount", "weights", 2)
    w = weights._data
    if w.ndim != 1 or w.shape[0] != x.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out_dt = np.float32 if w.dtype == np.float32 else np.float64
    return _const(np.bincount(x, w.astype(np.float64), minlength).astype(out_dt))


def histc(input, bins=100, min=0, max=0, *, out=None):
    """A histogram of ``bins`` equal-width bins over [min, max] (the data's range when
    min == max); elements outside are ignored, the last bin includes max. Not differentiable.

    >>> import chainrule
    >>> chainrule.histc(chainrule.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
    tensor([0., 2., 1., 0.])
    """
    _need(input, "histc")
    x = input._data
    if x.dtype.kind != "f":
        raise _not_impl("histogram_cpu", input)
    bins = _int_arg(bins, "histc", "bins")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    lo, hi = float(_number(min, "histc", "min")), float(_number(max, "histc", "max"))
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    t = x.dtype.type
    lo_t, hi_t = t(lo), t(hi)
    v = x[(x >= lo_t) & (x <= hi_t)]
    # the bin in the input's precision, as torch computes it: (x - lo) * bins / (hi - lo)
    pos = ((v - lo_t) * t(bins) / (hi_t - lo_t)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return _const(np.bincount(pos.ravel(), minlength=bins).astype(x.dtype))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` occurs in ``test_elements`` (either may be a
    number); NaN matches nothing.

    >>> import chainrule
    >>> chainrule.isin(chainrule.tensor([1, 2, 3]), chainrule.tensor([2, 5]))
    tensor([False,  True, False])
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}); at "
                        "least one of them must be a Tensor")
    vals = []
    for v, name in ((elements, "elements"), (test_elements, "test_elements")):
        if isinstance(v, Tensor):
            if v._data.dtype == np.bool_:
                raise RuntimeError("Unsupported input type encountered for isin(): Bool")
            vals.append(v._data)
        else:
            vals.append(np.asarray(_number(v, "isin", name)))
    return _const(np.isin(vals[0], vals[1], assume_unique=bool(assume_unique),
                          invert=bool(invert)))


def is_signed(input):
    """True for signed integer and floating dtypes, False for uint8 and bool.

    >>> import chainrule
    >>> chainrule.is_signed(chainrule.tensor([1], dtype=chainrule.uint8))
    False
    """
    return _need(input, "is_signed")._data.dtype.kind in "if"


# -- signal windows -------------------------------------------------------------------------------
def _window(name, n, periodic, dtype, requires_grad, fn):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' (position 1) must be int, not "
                        f"{type(n).__name__}")
    n = int(n)
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={n}")
    dt = _dt.get_default_dtype() if dtype is None else _dt.to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if n <= 1:
        out = np.ones(n, dt.np)
    else:
        m = n + 1 if periodic else n
        out = np.asarray(fn(m, dt.np.type), dt.np)[:n]
    t = _make(np.ascontiguousarray(out))
    return t.requires_grad_(True) if requires_grad else t


def _cosine_sum(m, f, alpha, beta):
    w = np.arange(m, dtype=f) * f(2.0 * math.pi / (m - 1))
    return np.cos(w) * f(-beta) + f(alpha)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    """The Hann window 0.5 - 0.5 cos(2 pi n / (N - 1)); ``periodic`` computes N + 1 points and
    drops the last (for spectral analysis).

    >>> import chainrule
    >>> chainrule.hann_window(5, periodic=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   lambda m, f: _cosine_sum(m, f, 0.5, 0.5))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False):
    """The generalised Hamming window alpha - beta cos(2 pi n / (N - 1)).

    >>> import chainrule
    >>> chainrule.hamming_window(5, periodic=False)
    tensor([0.0800, 0.5400, 1.0000, 0.5400, 0.0800])
    """
    alpha = float(_number(alpha, "hamming_window", "alpha"))
    beta = float(_number(beta, "hamming_window", "beta"))
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   lambda m, f: _cosine_sum(m, f, alpha, beta))


def _blackman(m, f):
    w = np.arange(m, dtype=f) * f(math.pi / (m - 1))
    return np.cos(w * f(4)) * f(0.08) - np.cos(w * f(2)) * f(0.5) + f(0.42)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """The Blackman window 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1)).

    >>> import chainrule
    >>> chainrule.blackman_window(3, periodic=False, dtype=chainrule.float64)
    tensor([0., 1., 0.], dtype=chainrule.float64)
    """
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   _blackman)


def _bartlett(m, f):
    w = np.arange(m, dtype=f) * f(2.0 / (m - 1))
    half = (m - 1) // 2 + 1
    w[half:] = f(2) - w[half:]
    return w


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """The triangular Bartlett window 1 - |2 n / (N - 1) - 1|.

    >>> import chainrule
    >>> chainrule.bartlett_window(5, periodic=False)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   _bartlett)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    """The Kaiser window I0(beta sqrt(1 - ((n - a) / a)^2)) / I0(beta), a = (N - 1) / 2.

    >>> import chainrule
    >>> chainrule.kaiser_window(3, periodic=False, beta=0.0)
    tensor([1., 1., 1.])
    """
    beta = float(_number(beta, "kaiser_window", "beta"))

    def fn(m, f):
        a = f((m - 1) / 2.0)
        r = (np.arange(m, dtype=f) - a) / a
        arg = f(beta) * np.sqrt(np.abs(f(1) - r * r))
        return np.i0(arg.astype(np.float64)) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, fn)


# -- Tensor-only operations (reached through methods) --------------------------------------------
def sum_to_size(input, *size):
    """Sum ``input`` down to ``size`` (which must broadcast to input's shape).

    >>> import chainrule
    >>> chainrule.ones(2, 3).sum_to_size(1, 3)
    tensor([[2., 2., 2.]])
    """
    if not size:
        raise TypeError("sum_to_size() missing 1 required positional arguments: \"size\"")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(_int_arg(s, "sum_to_size", "size") for s in size)
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != shape[lead + k] for k, s in enumerate(size)):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(size)
                                      if s == 1 and shape[lead + k] != 1)
    if not axes:
        return input
    return S.reshape(R.sum(input, axes, True), size)


def _windows(a, d, size, step):
    """The strided view of ``a``'s windows along d (a new dim of length size at the end)."""
    count = (a.shape[d] - size) // step + 1
    st = a.strides
    shape = a.shape[:d] + (count,) + a.shape[d + 1:] + (size,)
    strides = st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],)
    return _backend.as_strided(a, shape, strides,
                               writeable=a.flags.writeable and step >= size)


class Unfold(Op):
    """Tensor.unfold: the windows of size ``size`` every ``step`` along ``d`` (a view)."""

    @staticmethod
    def forward(ctx, a, d, size, step):
        ctx.info = (a.shape, d, size, step)
        return _windows(a, d, size, step)

    @staticmethod
    def backward(ctx, g):
        shape, d, size, step = ctx.info
        return _xp.call(UnfoldBack, g, shape, d, size, step), None, None, None

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        a, d, size, step = args
        return cls.apply(a, _shift(d), size, step)


class UnfoldBack(Op):
    """Unfold's adjoint: zeros(shape) with each window of g added back where it came from."""

    @staticmethod
    def forward(ctx, g, shape, d, size, step):
        ctx.info = (d, size, step)
        out = np.zeros(shape, g.dtype)
        count = g.shape[d]
        if size <= count:       # one strided add per position inside the windows
            for k in range(size):
                sl = (slice(None),) * d + (slice(k, k + step * (count - 1) + 1, step),)
                out[sl] += g[..., k]
        else:                   # one add per window
            for i in range(count):
                sl = (slice(None),) * d + (slice(i * step, i * step + size),)
                out[sl] += np.moveaxis(np.take(g, i, axis=d), -1, d)
        return out

    @staticmethod
    def backward(ctx, gg):
        d, size, step = ctx.info
        return _xp.call(Unfold, gg, d, size, step), None, None, None, None

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        g, shape, d, size, step = args
        return cls.apply(g, (B,) + tuple(shape), _shift(d), size, step)


def unfold(input, dimension, size, step):
    """All slices of length ``size`` along ``dimension``, ``step`` apart, as a new last dim
    (a view of input).

    >>> import chainrule
    >>> chainrule.arange(5.0).unfold(0, 2, 2)
    tensor([[0., 1.],
            [2., 3.]])
    """
    nd = input._data.ndim
    d = _wrap_dim(_int_arg(dimension, "unfold", "dimension"), nd, "unfold")
    size = _int_arg(size, "unfold", "size")
    step = _int_arg(step, "unfold", "step")
    n = input._data.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if nd == 0:
        return S._slice_dim(S.reshape(input, (1,)), 0, 0, size)
    out = Unfold.apply(input, d, size, step)
    return S._as_view(out, input, lambda b: unfold(b, d, size, step) if isinstance(b, Tensor)
                      else _windows(b, d, size, step))


def fill_diagonal_(input, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal in place (all dims equal when more than 2;
    ``wrap`` restarts the diagonal below a tall matrix's square part, after one blank row).

    >>> import chainrule
    >>> chainrule.zeros(2, 2).fill_diagonal_(5)
    tensor([[5., 0.],
            [0., 5.]])
    """
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(shape, bool)
    np.fill_diagonal(mask, True, wrap=bool(wrap))
    if isinstance(fill_value, Tensor):
        if fill_value._data.ndim:
            raise RuntimeError("fill_diagonal_ only supports a 0-dimensional value tensor, "
                               f"but got a value tensor with {fill_value._data.ndim} dimensions")
        fill_value = fill_value.item()     # a number, as in torch (no gradient to it)
    v = _const(np.asarray(_number(fill_value, "fill_diagonal_", "fill_value")).astype(
        input._data.dtype))
    m = _const(mask)
    return inplace(input, lambda x, val: E.where(m, val, x), v, name="fill_diagonal_")
