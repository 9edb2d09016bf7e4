"""``chainrule.special``: torch.special's namespace. Most names are aliases or composites of
chainrule's ops; the primitives below (erfcx, log_ndtr, ndtri, i0e, i1e, zeta, gammainc) exist
because a composite would overflow, underflow or cancel. Float64 accuracy against
scipy.special is ~1e-15 relative (zeta and gammainc ~1e-13).

>>> import chainrule
>>> x = chainrule.tensor([0.5, 1.0], requires_grad=True)
>>> y = chainrule.special.ndtr(x).sum()
>>> y.backward()
>>> x.grad
tensor([0.3521, 0.2420])
"""
import math
import warnings

import numpy as np

from . import _special as _sp
from ._tensor import Tensor
from .autograd.function import Op
from .autograd.grad_mode import is_grad_enabled, no_grad
from .nn import _toplevel as _top
from .ops import _xp
from .ops import elementwise as E
from .ops import extra as X
from . import functional_ops as _fo

__all__ = ["erf", "erfc", "erfcx", "erfinv", "expit", "logit", "xlogy", "xlog1py", "gammaln",
           "digamma", "psi", "polygamma", "multigammaln", "i0", "i0e", "i1", "i1e", "ndtr",
           "ndtri", "log_ndtr", "logsumexp", "softmax", "log_softmax", "sinc", "round", "entr",
           "expm1", "exp2", "log1p", "zeta", "gammainc", "gammaincc", "bessel_j0", "bessel_j1",
           "spherical_bessel_j0", "modified_bessel_i0", "modified_bessel_i1",
           "modified_bessel_k0", "modified_bessel_k1", "scaled_modified_bessel_k0",
           "scaled_modified_bessel_k1"]

_make = Tensor._make
_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_TWO_RSQRT_PI = 2.0 / math.sqrt(math.pi)


def _with_out(name, res, out, *inputs):
    """Write ``res`` into ``out`` as torch's ``out=`` does (no autograd through it)."""
    if out is None:
        return res
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad
                                 for t in inputs + (out,)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           "automatic differentiation, but one of the arguments requires grad.")
    if not np.can_cast(res._data.dtype, out._data.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {res.dtype} can't be cast to the desired output "
                           f"type {out.dtype}")
    with no_grad():
        if tuple(out.shape) != tuple(res.shape):
            if out._data.size:
                warnings.warn(f"{name}: an output with one or more elements was resized",
                              UserWarning, stacklevel=3)
            out._data = np.empty(res._data.shape, out._data.dtype)
        out.copy_(res)
    return out


def _aliased(fn, name, example):
    def f(input, *, out=None):
        return _with_out(name, fn(input), out, input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``chainrule.{fn.__name__}`` under torch.special's name.\n\n"
                 f"    >>> import chainrule\n    >>> {example}\n")
    return f


def _float_in(x, name):
    return E._unary_in(x, name)


# -- aliases ---------------------------------------------------------------------------------
erf = _aliased(E.erf, "erf", "chainrule.special.erf(chainrule.tensor([0.0]))\n    tensor([0.])")
erfc = _aliased(E.erfc, "erfc",
                "chainrule.special.erfc(chainrule.tensor([0.0]))\n    tensor([1.])")
erfinv = _aliased(E.erfinv, "erfinv",
                  "chainrule.special.erfinv(chainrule.tensor([0.0]))\n    tensor([0.])")
expit = _aliased(E.sigmoid, "expit",
                 "chainrule.special.expit(chainrule.tensor([0.0]))\n    tensor([0.5000])")
gammaln = _aliased(E.lgamma, "gammaln",
                   "chainrule.special.gammaln(chainrule.tensor([3.0]))\n    tensor([0.6931])")
digamma = _aliased(E.digamma, "digamma",
                   "chainrule.special.digamma(chainrule.tensor([1.0]))\n    tensor([-0.5772])")
psi = _aliased(E.digamma, "psi",
               "chainrule.special.psi(chainrule.tensor([1.0]))\n    tensor([-0.5772])")
i0 = _aliased(X.i0, "i0", "chainrule.special.i0(chainrule.tensor([1.0]))\n    tensor([1.2661])")
sinc = _aliased(X.sinc, "sinc",
                "chainrule.special.sinc(chainrule.tensor([0.0]))\n    tensor([1.])")
expm1 = _aliased(E.expm1, "expm1",
                 "chainrule.special.expm1(chainrule.tensor([0.0]))\n    tensor([0.])")
exp2 = _aliased(E.exp2, "exp2",
                "chainrule.special.exp2(chainrule.tensor([3.0]))\n    tensor([8.])")
log1p = _aliased(E.log1p, "log1p",
                 "chainrule.special.log1p(chainrule.tensor([0.0]))\n    tensor([0.])")


def round(input, *, decimals=0, out=None):
    """Round half to even (``chainrule.round``).

    >>> import chainrule
    >>> chainrule.special.round(chainrule.tensor([0.5, 1.5, 1.26]), decimals=0)
    tensor([0., 2., 1.])
    """
    return _with_out("round", E.round(input, decimals=decimals), out, input)


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given.

    >>> import chainrule
    >>> chainrule.special.logit(chainrule.tensor([0.5]))
    tensor([0.])
    """
    return _with_out("logit", X.logit(input, eps), out, input)


def xlogy(input, other, *, out=None):
    """input * log(other), 0 where input == 0.

    >>> import chainrule
    >>> chainrule.special.xlogy(chainrule.tensor([0.0, 2.0]), chainrule.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    return _with_out("xlogy", E.xlogy(input, other), out, input, other)


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma.

    >>> import chainrule
    >>> chainrule.special.polygamma(1, chainrule.tensor([1.0]))
    tensor([1.6449])
    """
    return _with_out("polygamma", E.polygamma(n, input), out, input)


def multigammaln(input, p, *, out=None):
    """The log of the multivariate gamma function of dimension ``p`` (``mvlgamma``).

    >>> import chainrule
    >>> chainrule.special.multigammaln(chainrule.tensor([2.5]), 2)
    tensor([0.8570])
    """
    return _with_out("multigammaln", X.mvlgamma(input, p), out, input)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over ``dim``, computed stably.

    >>> import chainrule
    >>> chainrule.special.logsumexp(chainrule.tensor([0.0, 0.0]), 0)
    tensor(0.6931)
    """
    if isinstance(input, Tensor) and input.dim() == 0 and not isinstance(dim, (tuple, list)):
        X._wrap_dim(dim, 0, "logsumexp")       # 0-d: dim 0 or -1, the value itself
        res = _fo.logsumexp(input.reshape(1), 0, keepdim)
        res = res.reshape(()) if keepdim else res
    else:
        res = _fo.logsumexp(input, dim, keepdim)
    return _with_out("logsumexp", res, out, input)


def softmax(input, dim, *, dtype=None):
    """Softmax over ``dim``.

    >>> import chainrule
    >>> chainrule.special.softmax(chainrule.tensor([0.0, 0.0]), 0)
    tensor([0.5000, 0.5000])
    """
    return _top.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax over ``dim``.

    >>> import chainrule
    >>> chainrule.special.log_softmax(chainrule.tensor([0.0, 0.0]), 0)
    tensor([-0.6931, -0.6931])
    """
    return _top.log_softmax(input, dim, dtype=dtype)


# -- composites ------------------------------------------------------------------------------
def _const(a):
    return _make(np.asarray(a))


def xlog1py(input, other, *, out=None):
    """input * log1p(other), 0 where input == 0 (unless other is NaN).

    >>> import chainrule
    >>> chainrule.special.xlog1py(chainrule.tensor([0.0, 2.0]), chainrule.tensor([-1.0, 1.0]))
    tensor([0.0000, 1.3863])
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlog1py(): expected at least one Tensor argument")
    a, b = E._promote(input, other, "xlog1py", float_only=True)
    E._check_broadcast(a, b, "xlog1py")
    ad = a._data if isinstance(a, Tensor) else np.asarray(a)
    bd = b._data if isinstance(b, Tensor) else np.asarray(b)
    zero = (ad == 0) & ~np.isnan(bd)
    if zero.any():
        m = _const(zero)
        res = E.where(m, 0.0, a * E.log1p(E.where(m, 0.0, b)))
    else:
        res = a * E.log1p(b)
    return _with_out("xlog1py", res, out, input, other)


def entr(input, *, out=None):
    """-x log(x) for x > 0, 0 at 0, -inf for x < 0.

    >>> import chainrule
    >>> chainrule.special.entr(chainrule.tensor([0.0, 0.5, -1.0]))
    tensor([0.0000, 0.3466,   -inf])
    """
    x = _float_in(input, "entr")
    d = x._data
    pos = d > 0
    if pos.all():
        res = -x * E.log(x)
    else:
        p = _const(pos)
        rest = np.where(d == 0, 0.0, np.where(np.isnan(d), np.nan, -np.inf)).astype(d.dtype)
        with np.errstate(invalid="ignore"):          # -inf * log(1) in the unused branch
            res = E.where(p, -x * E.log(E.where(p, x, 1.0)), _const(rest))
    return _with_out("entr", res, out, input)


def ndtr(input, *, out=None):
    """The standard normal CDF, erfc(-x / sqrt 2) / 2.

    >>> import chainrule
    >>> chainrule.special.ndtr(chainrule.tensor([0.0, 1.0]))
    tensor([0.5000, 0.8413])
    """
    x = _float_in(input, "ndtr")
    return _with_out("ndtr", 0.5 * E.erfc(x * (-1.0 / _SQRT2)), out, input)


# -- primitives ------------------------------------------------------------------------------
def _exp_sq(y):
    # NOTE: exp(y*y) with y = h + (y - h), h = y to 1/16 so h*h is exact (no 1e-16 * y*y loss)
    h = np.trunc(y * 16.0) / 16.0
    return np.exp(h * h) * np.exp((y - h) * (y + h))


def _erfcx_asym(y):
    """erfcx(y) for y >= 10: (1/(y sqrt pi)) sum_k (-1)^k (2k-1)!! / (2 y^2)^k."""
    t = 0.5 / (y * y)
    term = np.ones_like(y)
    s = np.ones_like(y)
    for k in range(1, 30):
        term = term * -(2 * k - 1) * t
        s = s + term
    return s / (y * math.sqrt(math.pi))


def _erfcx64(x):
    out = np.where(x < -26.7, np.inf, np.nan)       # 2 exp(x^2) overflows
    _sp._fill(out, (x >= -26.7) & (x < 10.0), lambda x: _exp_sq(x) * _sp._erfc64(x), x)
    _sp._fill(out, x >= 10.0, _erfcx_asym, x)
    return out


def _np_unary(fn):
    @_sp._quiet
    def run(a):
        shape = a.shape
        x = a.astype(np.float64).reshape(shape or (1,))
        return fn(x).astype(a.dtype, copy=False).reshape(shape)
    return run


_erfcx_np = _np_unary(_erfcx64)


class Erfcx(Op):
    @staticmethod
    def forward(ctx, a):
        out = _erfcx_np(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g * (2.0 * a * out - _TWO_RSQRT_PI)


def erfcx(input, *, out=None):
    """The scaled complementary error function exp(x^2) erfc(x), accurate for large x.

    >>> import chainrule
    >>> chainrule.special.erfcx(chainrule.tensor([0.0, 30.0]))
    tensor([1.0000, 0.0188])
    """
    return _with_out("erfcx", Erfcx.apply(_float_in(input, "erfcx")), out, input)


def _log_ndtr64(x):
    # NOTE: x > -1: log1p(-ndtr(-x)) (no cancellation as ndtr(x) -> 1); below, with
    # ndtr(x) = erfcx(-x / sqrt 2) exp(-x^2 / 2) / 2, the exponent stays outside the log.
    out = np.empty_like(x)
    _sp._fill(out, x > -1.0, lambda x: np.log1p(-0.5 * _sp._erfc64(x / _SQRT2)), x)
    _sp._fill(out, ~(x > -1.0),
              lambda x: np.log(0.5 * _erfcx64(-x / _SQRT2)) - 0.5 * x * x, x)
    return out


_log_ndtr_np = _np_unary(_log_ndtr64)


class LogNdtr(Op):
    @staticmethod
    def forward(ctx, a):
        out = _log_ndtr_np(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g * _xp.exp(-0.5 * a * a - out - _LOG_SQRT_2PI)


def log_ndtr(input, *, out=None):
    """log of the standard normal CDF, accurate far into the left tail.

    >>> import chainrule
    >>> chainrule.special.log_ndtr(chainrule.tensor([-40.0], dtype=chainrule.float64))
    tensor([-804.6084], dtype=chainrule.float64)
    """
    return _with_out("log_ndtr", LogNdtr.apply(_float_in(input, "log_ndtr")), out, input)


def _ndtri_tail(q):
    """ndtri(q) for 0 < q < 1/4."""
    c = 2.0 * q
    z = np.empty_like(q)
    _sp._fill(z, c < 1e-7, lambda c: -_sp._erfinv_far(c), c)
    _sp._fill(z, c >= 1e-7, lambda c: _sp._erfinv_open(c - 1.0), c)
    z = _SQRT2 * z
    logq = np.log(q)
    # NOTE: erfinv(2q - 1) loses q's low bits (and the far start is good to 2e-5 only), so
    # Newton steps on log_ndtr(z) = log q restore full relative accuracy (error squares).
    for _ in range(3):
        ln = _log_ndtr64(z)
        z = z - (ln - logq) * np.exp(0.5 * z * z + ln + _LOG_SQRT_2PI)
    return z


def _ndtri64(p):
    out = np.where(p == 0.0, -np.inf, np.where(p == 1.0, np.inf, np.nan))
    _sp._fill(out, (p >= 0.25) & (p <= 0.75),
              lambda p: _SQRT2 * _sp._erfinv_open(2.0 * p - 1.0), p)
    out[p == 0.5] = 0.0
    _sp._fill(out, (p > 0.0) & (p < 0.25), _ndtri_tail, p)
    _sp._fill(out, (p > 0.75) & (p < 1.0), lambda p: -_ndtri_tail(1.0 - p), p)
    return out


_ndtri_np = _np_unary(_ndtri64)


class Ndtri(Op):
    @staticmethod
    def forward(ctx, a):
        out = _ndtri_np(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g * _SQRT_2PI * _xp.exp(0.5 * out * out)


def ndtri(input, *, out=None):
    """The inverse of the standard normal CDF.

    >>> import chainrule
    >>> chainrule.special.ndtri(chainrule.tensor([0.5, 0.975]))
    tensor([0.0000, 1.9600])
    """
    return _with_out("ndtri", Ndtri.apply(_float_in(input, "ndtri")), out, input)


# -- scaled modified Bessel functions --------------------------------------------------------
_i0e_np = _np_unary(lambda x: _sp.ive(0, x))
_i1e_np = _np_unary(lambda x: _sp.ive(1, x))


class I0e(Op):
    @staticmethod
    def forward(ctx, a):
        out = _i0e_np(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        return g * (_xp.call(I1e, a) - _xp.sign(a) * out)


class I1e(Op):
    @staticmethod
    def forward(ctx, a):
        out = _i1e_np(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        zero = a == 0
        d = _xp.call(I0e, a) - out * (_xp.sign(a) + 1.0 / _xp.where(zero, 1.0, a))
        return g * _xp.where(zero, 0.5, d)


def i0e(input, *, out=None):
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0.

    >>> import chainrule
    >>> chainrule.special.i0e(chainrule.tensor([0.0, 1000.0]))
    tensor([1.0000, 0.0126])
    """
    return _with_out("i0e", I0e.apply(_float_in(input, "special_i0e")), out, input)


def i1e(input, *, out=None):
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1.

    >>> import chainrule
    >>> chainrule.special.i1e(chainrule.tensor([1.0, 1000.0]))
    tensor([0.2079, 0.0126])
    """
    return _with_out("i1e", I1e.apply(_float_in(input, "special_i1e")), out, input)




def i1(input, *, out=None):
    """The modified Bessel function of the first kind, order 1.

    >>> import chainrule
    >>> chainrule.special.i1(chainrule.tensor([1.0]))
    tensor([0.5652])
    """
    return _with_out("i1", X.I1.apply(_float_in(input, "special_i1")), out, input)


# -- Hurwitz zeta ----------------------------------------------------------------------------
_EM_B = tuple(float(b / math.factorial(2 * j)) for j, b in enumerate(_sp._B2K, 1))


def _zeta_em(s, w):
    """Euler-Maclaurin tail sum_{k>=0} (w + k)^-s for w >= s + 10 (12 Bernoulli terms)."""
    u = 1.0 / w
    acc = w / (s - 1.0) + 0.5
    poch = s.copy()
    wp = u                                   # w^(1 - 2j)
    for j, b in enumerate(_EM_B, 1):
        acc = acc + b * poch * wp
        poch = poch * (s + 2 * j - 1) * (s + 2 * j)
        wp = wp * u * u
    return np.power(w, -s) * acc


def _zeta_ok(s, q):
    """zeta(s, q) for s > 1 and q > 0, or q < 0 non-integer with integer s."""
    n = np.maximum(np.ceil(np.maximum(s, 0.0) + 10.0 - q), 0.0)
    n = np.where(np.isfinite(q), n, 0.0)
    acc = np.zeros_like(q)
    for k in range(int(n.max()) if n.size else 0):
        acc = acc + np.where(k < n, np.power(q + k, -s), 0.0)
    return acc + _zeta_em(s, q + n)


@_sp._quiet
def _zeta64(s, q):
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    shape = s.shape
    s, q = s.reshape(-1), q.reshape(-1)
    out = np.full(s.shape, np.nan)
    out[s == 1.0] = np.inf
    pole = (s > 1.0) & (q <= 0) & (q == np.floor(q))
    out[pole] = np.inf
    ok = (s > 1.0) & (s < np.inf) & ~pole & ((q > 0) | (s == np.floor(s)))
    _sp._fill(out, ok & (q == np.inf), lambda q: np.zeros_like(q), q)
    _sp._fill(out, ok & (q < np.inf), _zeta_ok, s, q)
    return out.reshape(shape)


class Zeta(Op):
    @staticmethod
    def forward(ctx, s, q):
        ctx.save_for_backward(s, q)
        return _zeta64(s, q).astype(np.result_type(s, q), copy=False)

    @staticmethod
    def backward(ctx, g):
        s, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        gq = None
        if ctx.needs_input_grad[1]:
            gq = g * -s * _xp.call(Zeta, s + 1.0, q)
        return None, gq


def _pair(input, other, name, scalars=True):
    ta, tb = isinstance(input, Tensor), isinstance(other, Tensor)
    if not scalars:
        for v, arg, pos in ((input, "input", 1), (other, "other", 2)):
            if not isinstance(v, Tensor):
                raise TypeError(f"{name}(): argument '{arg}' (position {pos}) must be Tensor, "
                                f"not {type(v).__name__}")
    elif not ta and not tb:
        raise TypeError(f"{name}(): expected at least one Tensor argument")
    a, b = E._promote(input, other, name, float_only=True)
    E._check_broadcast(a, b, name)
    if not isinstance(a, Tensor):
        a = _make(np.asarray(a, b._data.dtype))
    if not isinstance(b, Tensor):
        b = _make(np.asarray(b, a._data.dtype))
    return a, b


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function sum_k (other + k)^-input. Differentiable in ``other``
    (d/dq zeta(s, q) = -s zeta(s + 1, q)); as in torch, not in ``input``.

    >>> import chainrule
    >>> chainrule.special.zeta(chainrule.tensor([2.0]), chainrule.tensor([1.0]))
    tensor([1.6449])
    """
    s, q = _pair(input, other, "special_zeta")
    return _with_out("zeta", Zeta.apply(s, q), out, input, other)


# -- regularised incomplete gamma ------------------------------------------------------------
class Igamma(Op):
    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.upper = upper
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(a, x)
            ctx.lg = _sp.gammaln(a.astype(np.float64)).astype(x.dtype, copy=False)
        return _sp._igam64(a, x, upper).astype(np.result_type(a, x), copy=False)

    @staticmethod
    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            which = "igammac" if ctx.upper else "igamma"
            raise NotImplementedError(f"the derivative for '{which}: input' is not implemented.")
        a, x = ctx.saved_tensors
        # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
        dens = _xp.exp((a - 1.0) * _xp.log(x) - x - ctx.lg)
        return None, (-g if ctx.upper else g) * dens, None


def _igam_args(input, other, name):
    a, x = _pair(input, other, name, scalars=False)
    if input._data.dtype.kind != "f" and other._data.dtype.kind != "f":
        raise NotImplementedError(f'"igamma_cpu" not implemented for {input.dtype} inputs')
    return a, x


def gammainc(input, other, *, out=None):
    """The regularised lower incomplete gamma function P(a, x), a = input, x = other.
    Differentiable in ``other``; as in torch, not in ``input``.

    >>> import chainrule
    >>> chainrule.special.gammainc(chainrule.tensor([1.0]), chainrule.tensor([1.0]))
    tensor([0.6321])
    """
    a, x = _igam_args(input, other, "special_gammainc")
    return _with_out("gammainc", Igamma.apply(a, x, False), out, input, other)


def gammaincc(input, other, *, out=None):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x).
    Differentiable in ``other``; as in torch, not in ``input``.

    >>> import chainrule
    >>> chainrule.special.gammaincc(chainrule.tensor([1.0]), chainrule.tensor([1.0]))
    tensor([0.3679])
    """
    a, x = _igam_args(input, other, "special_gammaincc")
    return _with_out("gammaincc", Igamma.apply(a, x, True), out, input, other)


# -- Bessel functions torch gives no derivative (results are constants) ---------------------
def _j_miller(nu, x):
    """J_nu(x), nu in {0, 1}, 0 < x <= 25, by Miller's backward recurrence normalised with
    J0 + 2 (J2 + J4 + ...) = 1."""
    top = int(2 * ((x.max() + 15.0 + math.sqrt(40.0 * x.max())) // 2)) + 2
    jp1 = np.zeros_like(x)
    j = np.full_like(x, 1e-300)
    norm = np.zeros_like(x)
    want = np.zeros_like(x)
    for k in range(top, 0, -1):                  # j = J_k, jp1 = J_{k+1} (unnormalised)
        jm1 = 2.0 * k / x * j - jp1
        jp1, j = j, jm1
        if k - 1 == nu:
            want = j.copy()
        if (k - 1) % 2 == 0 and k - 1 > 0:
            norm = norm + 2.0 * j
        big = np.abs(j) > 1e250                  # rescale to stay in range
        if big.any():
            sc = np.where(big, 1e-250, 1.0)
            j, jp1, norm, want = j * sc, jp1 * sc, norm * sc, want * sc
    return want / (norm + j)


def _j_asym(nu, x):
    """Hankel's expansion for x > 25: J_nu = sqrt(2/(pi x)) (P cos chi - Q sin chi)."""
    mu = 4.0 * nu * nu
    p = np.ones_like(x)
    q = np.zeros_like(x)
    term = np.ones_like(x)
    for k in range(1, 60):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q = q + (term if k % 4 == 1 else -term)
        else:
            p = p + (-term if k % 4 == 2 else term)
    c, s = np.cos(x), np.sin(x)
    # NOTE: chi = x - (2 nu + 1) pi / 4, expanded so that only x itself is range-reduced
    if nu == 0:
        cc, sc = (c + s), (s - c)
    else:
        cc, sc = (s - c), -(c + s)
    return np.sqrt(1.0 / (np.pi * x)) * (p * cc - q * sc)


def _jn64(nu, x):
    ax = np.abs(x)
    out = np.where(np.isfinite(x), 0.0, np.nan)        # nan at +-inf too, as torch and scipy
    if nu == 0:
        out[ax == 0] = 1.0
    _sp._fill(out, (ax > 0) & (ax <= 25.0), lambda a: _j_miller(nu, a), ax)
    _sp._fill(out, (ax > 25.0) & (ax < np.inf), lambda a: _j_asym(nu, a), ax)
    return np.where(x < 0, -out, out) if nu == 1 else out


def _k_series(nu, x):
    """K_nu(x), nu in {0, 1}, 0 < x <= 2, from the ascending series."""
    h2 = 0.25 * x * x
    lg = np.log(0.5 * x)
    euler = 0.5772156649015329
    psi1, psi2 = -euler, 1.0 - euler              # psi(k+1), psi(k+2) at k = 0
    term = np.ones_like(x)                        # (x^2/4)^k / (k! (k+nu)!)
    i_sum = term.copy()
    s = (psi1 if nu == 0 else psi1 + psi2) * term
    for k in range(1, 30):
        term = term * h2 / (k * (k + nu))
        psi1 = psi1 + 1.0 / k
        psi2 = psi2 + 1.0 / (k + 1)
        i_sum = i_sum + term
        s = s + (psi1 if nu == 0 else psi1 + psi2) * term
    if nu == 0:
        return -lg * i_sum + s
    return 1.0 / x + lg * (0.5 * x * i_sum) - 0.25 * x * s


def _ke_quad(nu, x):
    """exp(x) K_nu(x) for 2 < x <= 25: the trapezoid rule on int_0^inf exp(-x (cosh t - 1))
    cosh(nu t) dt, exponentially accurate for this smooth, fast-decaying integrand."""
    h = 0.02
    t = np.arange(0.0, 6.0 + h, h)[:, None]
    w = np.full(t.shape, h)
    w[0] = 0.5 * h
    f = np.exp(-x[None, :] * (2.0 * np.sinh(0.5 * t) ** 2))
    if nu == 1:
        f = f * np.cosh(t)
    return (w * f).sum(0)


def _ke_asym(nu, x):
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    s = np.ones_like(x)
    for k in range(1, 50):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        s = s + term
    return np.sqrt(np.pi / (2.0 * x)) * s


def _kn64(nu, x, scaled):
    out = np.where(x == 0, np.inf, np.where(x == np.inf, 0.0, np.nan))
    _sp._fill(out, (x > 0) & (x <= 2.0),
              lambda x: _k_series(nu, x) * (np.exp(x) if scaled else 1.0), x)
    for lo, hi, fn in ((2.0, 25.0, _ke_quad), (25.0, np.inf, _ke_asym)):
        _sp._fill(out, (x > lo) & (x <= hi) if hi < np.inf else (x > lo) & (x < hi),
                  lambda x, fn=fn: fn(nu, x) * (1.0 if scaled else np.exp(-x)), x)
    return out


def _const_op(name, fn, example, what):
    def f(input, *, out=None):
        if not isinstance(input, Tensor):
            raise TypeError(f"special_{name}(): argument 'input' (position 1) must be Tensor, "
                            f"not {type(input).__name__}")
        x = _float_in(input, name)._data
        res = _make(_np_unary(fn)(x))
        return _with_out(name, res, out, input)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"{what} (no gradient, as in torch).\n\n    >>> import chainrule\n"
                 f"    >>> {example}\n")
    return f


bessel_j0 = _const_op("bessel_j0", lambda x: _jn64(0, x),
                      "chainrule.special.bessel_j0(chainrule.tensor([1.0]))\n"
                      "    tensor([0.7652])", "The Bessel function of the first kind, order 0")
bessel_j1 = _const_op("bessel_j1", lambda x: _jn64(1, x),
                      "chainrule.special.bessel_j1(chainrule.tensor([1.0]))\n"
                      "    tensor([0.4401])", "The Bessel function of the first kind, order 1")
modified_bessel_i0 = _const_op("modified_bessel_i0", lambda x: np.i0(x),
                               "chainrule.special.modified_bessel_i0(chainrule.tensor([1.0]))\n"
                               "    tensor([1.2661])", "The modified Bessel function I0")
modified_bessel_i1 = _const_op("modified_bessel_i1", lambda x: X._i1(x),
                               "chainrule.special.modified_bessel_i1(chainrule.tensor([1.0]))\n"
                               "    tensor([0.5652])", "The modified Bessel function I1")
modified_bessel_k0 = _const_op("modified_bessel_k0", lambda x: _kn64(0, x, False),
                               "chainrule.special.modified_bessel_k0(chainrule.tensor([1.0]))\n"
                               "    tensor([0.4210])", "The modified Bessel function K0")
modified_bessel_k1 = _const_op("modified_bessel_k1", lambda x: _kn64(1, x, False),
                               "chainrule.special.modified_bessel_k1(chainrule.tensor([1.0]))\n"
                               "    tensor([0.6019])", "The modified Bessel function K1")
scaled_modified_bessel_k0 = _const_op(
    "scaled_modified_bessel_k0", lambda x: _kn64(0, x, True),
    "chainrule.special.scaled_modified_bessel_k0(chainrule.tensor([1.0]))\n    tensor([1.1445])",
    "exp(x) K0(x)")
scaled_modified_bessel_k1 = _const_op(
    "scaled_modified_bessel_k1", lambda x: _kn64(1, x, True),
    "chainrule.special.scaled_modified_bessel_k1(chainrule.tensor([1.0]))\n    tensor([1.6362])",
    "exp(x) K1(x)")


def _sph_j0(x):
    out = np.where(np.isinf(x), 0.0, np.nan)
    small = np.abs(x) < 1e-3
    _sp._fill(out, small, lambda x: 1.0 - x * x / 6.0 * (1.0 - x * x / 20.0), x)
    _sp._fill(out, ~small & np.isfinite(x), lambda x: np.sin(x) / x, x)
    return out


spherical_bessel_j0 = _const_op(
    "spherical_bessel_j0", _sph_j0,
    "chainrule.special.spherical_bessel_j0(chainrule.tensor([0.0, 1.0]))\n"
    "    tensor([1.0000, 0.8415])", "sin(x) / x, the spherical Bessel function j0")
