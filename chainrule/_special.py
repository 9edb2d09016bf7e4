"""The special functions chainrule needs, in vectorised NumPy (so NumPy stays the only runtime
dependency). Values, dtypes, poles and inf/nan handling follow scipy.special; float32 inputs
are computed in float64 and rounded once (expit: in float32). No warnings: every function
runs under ``np.errstate(all="ignore")``, as scipy's ufuncs do not warn either.

Methods (float64 relative error ~1e-16 except where a function's own conditioning loses more):
erf/erfc: W. J. Cody's rational Chebyshev approximations (Math. Comp. 1969), exp(-x*x) split
exactly; erfinv: M. Giles' single-precision approximation refined by Halley steps on erf or
erfc; gammaln: the Taylor series of lgamma(2 + z) on |z| <= 1/2, the recurrence, Stirling's
series and the reflection formula; digamma: a Taylor series about its positive root on [1, 2],
the recurrence, the asymptotic series, reflection; polygamma: the Hurwitz zeta by
Euler-Maclaurin summation, reflection through the derivatives of cot."""
import functools
import math
from fractions import Fraction

import numpy as np

__all__ = ["expit", "xlogy", "erf", "erfc", "erfinv", "gammaln", "digamma", "polygamma"]

_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)


def _quiet(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    return wrapper


def _prep(x, f32_loop_first=False):
    """x as a float64 array of >= 1 dimension (ufuncs return scalars for 0-d operands) and the
    dtype scipy's ufunc would return for it: its float32 loop serves float32 inputs, and the
    smaller types too where that loop is listed first."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"unsupported input dtype {x.dtype}")
    small = x.dtype == _F32 or (f32_loop_first and np.can_cast(x.dtype, _F32))
    return x.astype(_F64, copy=False).reshape(x.shape or (1,)), (_F32 if small else _F64)


def _done(out, dt, shape):
    out = out.astype(dt, copy=False)
    return out[0] if shape == () else out


def _fill(out, mask, fn, *args):
    """out[mask] = fn(*(a[mask] for a in args)), skipping the gather when mask is all-true."""
    if not mask.any():
        return
    if mask.all():
        out[...] = fn(*args)
    else:
        out[mask] = fn(*(a[mask] for a in args))


def _horner(t, coefs):
    """coefs[0] * t**(n-1) + ... + coefs[-1]."""
    acc = np.full_like(t, coefs[0])
    for c in coefs[1:]:
        acc *= t
        acc += c
    return acc


# -- expit, xlogy -----------------------------------------------------------------------------

@_quiet
def expit(x):
    x = np.asarray(x)
    if x.dtype not in (_F32, _F64):
        x = x.astype(_F64)
    # NOTE: exp(-|x|) never overflows: the result is 1 / (1 + e) for x >= 0, e / (1 + e) below
    # (both exact up to one rounding; float32 runs in float32, within 4 ulps).
    e = np.exp(-np.abs(x))
    out = np.maximum(e, x >= 0)          # e or 1 (nan stays nan)
    e += 1.0
    out /= e
    return out[()]


@_quiet
def xlogy(x, y):
    x, y = np.asarray(x), np.asarray(y)
    dt = _F32 if x.dtype == y.dtype == _F32 else _F64      # scipy's loop choice
    x, y = x.astype(_F64, copy=False), y.astype(_F64, copy=False)
    out = np.where((x == 0) & ~np.isnan(y), 0.0, x * np.log(y))
    return out.astype(dt, copy=False)[()]


# -- erf, erfc (Cody 1969) --------------------------------------------------------------------
# erf(y) = y P(y^2)/Q(y^2) on |y| <= 0.46875; erfc(y) = exp(-y^2) P(y)/Q(y) on (0.46875, 4];
# erfc(y) = exp(-y^2)/y (1/sqrt(pi) - t P(t)/Q(t)), t = 1/y^2, beyond. Coefficients highest
# power first.
_ERF_P = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
          3.77485237685302021e02, 3.20937758913846947e03)
_ERF_Q = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERFC_P = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
           6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
           1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)
_ERFC_Q = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
           1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
           3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_R = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
           1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)
_ERFC_S = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)
_RSQRT_PI = 0.56418958354775628695
_ERF_SMALL = 0.46875


def _erf_small(x):
    t = x * x
    return x * _horner(t, _ERF_P) / _horner(t, _ERF_Q)


def _exp_neg_sq(y):
    # NOTE: exp(-y*y) as exp(-h*h) * exp(-(y - h)(y + h)) with h = y rounded down to 1/16:
    # h*h is exact, so the rounding of y*y (relative 1e-16 * y*y in the result) never enters.
    h = np.trunc(y * 16.0) / 16.0
    return np.exp(-h * h) * np.exp(-(y - h) * (y + h))


def _erfc_mid(y):
    return _exp_neg_sq(y) * (_horner(y, _ERFC_P) / _horner(y, _ERFC_Q))


def _erfc_tail(y):
    t = 1.0 / (y * y)
    r = (_RSQRT_PI - t * _horner(t, _ERFC_R) / _horner(t, _ERFC_S)) / y
    return _exp_neg_sq(y) * r


def _erfc_pos(y):
    """erfc(y) for y > 0.46875 (nan stays nan)."""
    out = np.where(y > 27.5, 0.0, np.nan)     # erfc(27.5) ~ 1e-330 underflows
    _fill(out, y <= 4.0, _erfc_mid, y)
    _fill(out, (y > 4.0) & (y <= 27.5), _erfc_tail, y)
    return out


def _erf64(x):
    a = np.abs(x)
    out = np.copysign(np.where(a >= 6.0, 1.0, np.nan), x)   # 1 - erf(6) < 1e-16 / 2
    _fill(out, a <= _ERF_SMALL, _erf_small, x)
    _fill(out, (a > _ERF_SMALL) & (a < 6.0),
          lambda x, a: np.copysign((0.5 - _erfc_pos(a)) + 0.5, x), x, a)
    return out


def _erfc64(x):
    a = np.abs(x)
    out = np.where(x < -6.0, 2.0, np.nan)
    _fill(out, a <= _ERF_SMALL, lambda x: 1.0 - _erf_small(x), x)

    def big(x, a):
        r = _erfc_pos(a)
        return np.where(x < 0, 2.0 - r, r)
    _fill(out, (a > _ERF_SMALL) & (x >= -6.0), big, x, a)
    return out


@_quiet
def erf(x):
    x0, (x, dt) = np.shape(x), _prep(x)
    return _done(_erf64(x), dt, x0)


@_quiet
def erfc(x):
    x0, (x, dt) = np.shape(x), _prep(x)
    return _done(_erfc64(x), dt, x0)


# -- erfinv -----------------------------------------------------------------------------------
# Giles' single-precision approximation (relative error ~1e-7 for w < 16), in
# w = -log(1 - x^2)
_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
               0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
_TWO_RSQRT_PI = 2.0 * _RSQRT_PI


def _erfinv_far(c):
    """Start for erfinv(1 - c), c < 1e-7: solve the asymptotic erfc(z) ~ exp(-y) / sqrt(pi y)
    (1 - 1/(2y) + 3/(4y^2)), y = z^2, for y by two fixed-point steps (relative error < 2e-5)."""
    ln = -np.log(c)
    y = ln - 0.5 * np.log(np.pi * ln)
    for _ in range(2):
        y = ln - 0.5 * np.log(np.pi * y) + np.log1p((0.75 / y - 0.5) / y)
    return np.sqrt(y)


def _halley_erf(z, a, c):
    f = np.empty_like(z)
    tail = a > 0.5
    _fill(f, tail, lambda z, c: c - _erfc64(z), z, c)
    _fill(f, ~tail, lambda z, a: _erf64(z) - a, z, a)
    t = f / (_TWO_RSQRT_PI * _exp_neg_sq(z))
    return z - t / (1.0 + z * t)


def _erfinv_open(x):
    """erfinv(x) for 0 < |x| < 1."""
    a = np.abs(x)
    c = 1.0 - a                          # exact for a >= 1/2
    w = -np.log(c * (1.0 + a))
    z = np.empty_like(a)
    _fill(z, w < 5.0, lambda w, a: _horner(w - 2.5, _GILES_CENTRAL) * a, w, a)
    _fill(z, (w >= 5.0) & (w < 16.0),
          lambda w, a: _horner(np.sqrt(w) - 3.0, _GILES_TAIL) * a, w, a)
    _fill(z, w >= 16.0, _erfinv_far, c)
    # NOTE: Halley's iteration z -= t / (1 + z t), t = f / f', on f = erf(z) - a, written as
    # (1 - a) - erfc(z) above a = 1/2: 1 - a is exact there, so the tail keeps full relative
    # accuracy. A step cubes the error: one takes Giles' 1e-7 below rounding, the far start
    # (2e-5) takes two.
    z = _halley_erf(z, a, c)
    _fill(z, w >= 16.0, _halley_erf, z, a, c)
    return np.copysign(z, x)


@_quiet
def erfinv(x):
    x0, (x, dt) = np.shape(x), _prep(x, f32_loop_first=True)
    a = np.abs(x)
    out = np.where(a == 1.0, np.copysign(np.inf, x), np.nan)
    _fill(out, (a < 1.0) & (a != 0.0), _erfinv_open, x)
    out[a == 0.0] = 0.0                  # +0 for both zeros, as scipy
    return _done(out, dt, x0)


# -- gammaln ----------------------------------------------------------------------------------
# lgamma(2 + z) = (1 - euler_gamma) z + sum_{k>=2} (-1)^k (zeta(k) - 1) / k z^k, |z| <= 1/2
_LG2_SERIES = (
    0.42278433509846713, 0.3224670334241132, -0.0673523010531981, 0.020580808427784546,
    -0.007385551028673986, 0.0028905103307415234, -0.001192753911703261,
    0.0005096695247430425, -0.00022315475845357939, 9.945751278180853e-05,
    -4.492623673813314e-05, 2.050721277567069e-05, -9.439488275268397e-06,
    4.374866789907488e-06, -2.039215753801366e-06, 9.55141213040742e-07,
    -4.492469198764566e-07, 2.1207184805554665e-07, -1.0043224823968099e-07,
    4.7698101693639804e-08, -2.2711094608943164e-08, 1.0838659214896955e-08,
    -5.183475041970047e-09, 2.4836745438024785e-09, -1.1921401405860912e-09,
    5.731367241678862e-10, -2.7595228851242334e-10, 1.330476437424449e-10)
_LG2_HORNER = _LG2_SERIES[::-1]
# Bernoulli numbers B_2 .. B_24
_B2K = tuple(Fraction(*b) for b in (
    (1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6), (-3617, 510),
    (43867, 798), (-174611, 330), (854513, 138), (-236364091, 2730)))
# Stirling: lgamma(x) = (x - 1/2) log x - x + log(2 pi)/2 + sum B_2k / (2k (2k-1) x^(2k-1))
_STIRLING = tuple(float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_B2K[:10], 1))[::-1]
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LG_BIG = 8.0


def _lg2(z):
    """lgamma(2 + z) for |z| <= 1/2."""
    return z * _horner(z, _LG2_HORNER)


def _lg_stirling(x):
    lx = np.log(x)
    r = 1.0 / x
    return x * (lx - 1.0) - 0.5 * lx + _HALF_LOG_2PI + r * _horner(r * r, _STIRLING)


def _lg_mid(x):
    """lgamma(x) for 2.5 < x < 8: down to [1.5, 2.5) by lgamma(x) = log(x - 1) + lgamma(x-1)."""
    k = np.floor(x - 1.5)
    p = x - 1.0
    for j in range(2, 7):
        p = np.where(k >= j, p * (x - j), p)
    return np.log(p) + _lg2(x - k - 2.0)


def _lg_pos(x):
    """lgamma(x) for x >= 0.5 (inf and nan pass through)."""
    out = np.array(x, dtype=_F64, copy=True)             # inf -> inf, nan -> nan
    _fill(out, (x >= 0.5) & (x < 1.5), lambda x: _lg2(x - 1.0) - np.log1p(x - 1.0), x)
    _fill(out, (x >= 1.5) & (x <= 2.5), lambda x: _lg2(x - 2.0), x)
    _fill(out, (x > 2.5) & (x < _LG_BIG), _lg_mid, x)
    _fill(out, (x >= _LG_BIG) & (x < np.inf), _lg_stirling, x)
    return out


def _abs_sinpi(x):
    return np.abs(np.sin(np.pi * (x - np.rint(x))))


def _is_pole(x):
    """0 and the negative integers (and -inf is not one)."""
    return (x <= 0) & (x == np.floor(x)) & (x > -np.inf)


@_quiet
def gammaln(x):
    x0, (x, dt) = np.shape(x), _prep(x)
    out = np.where(_is_pole(x), np.inf, x)              # -inf -> -inf, as scipy
    small = (np.abs(x) < 0.5) & (x != 0)                 # both signs: lgamma(2+x) - log|x(1+x)|
    _fill(out, small, lambda x: _lg2(x) - np.log1p(x) - np.log(np.abs(x)), x)
    _fill(out, x >= 0.5, _lg_pos, x)
    # NOTE: reflection, lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x); sin(pi x) is taken
    # after subtracting the nearest integer (exact), so large |x| keeps its accuracy.
    neg = (x <= -0.5) & ~_is_pole(x) & (x > -np.inf)
    _fill(out, neg, lambda x: np.log(np.pi / _abs_sinpi(x)) - _lg_pos(1.0 - x), x)
    return _done(out, dt, x0)


# -- digamma ----------------------------------------------------------------------------------
# psi(x) = log x - 1/(2x) - sum B_2k / (2k x^2k), for x >= 10
_PSI_ASYM = tuple(float(b / (2 * k)) for k, b in enumerate(_B2K[:9], 1))[::-1]
_PSI_BIG = 10.0
# its positive root x0 as hi + lo, and the Taylor coefficients psi^(k)(x0) / k!, k = 1..41
# (radius 1.46: on [1, 2], |x - x0| <= 0.54, the terms fall below 1e-17 relative)
_PSI_ROOT_HI, _PSI_ROOT_LO = 1.4616321449683622, 9.549995429965697e-17
_PSI_ROOT_SERIES = (
    0.9676722454476212, -0.4427631689835921, 0.258499760955651, -0.16394270544240652,
    0.10782405069126237, -0.07219956125645471, 0.04880428816414311, -0.03316112647484736,
    0.022597648232218104, -0.01542476590494896, 0.010538791616612175, -0.007204534386356869,
    0.004926781395729853, -0.003369801655439328, 0.002305126326734928,
    -0.0015769367714301972, 0.0010788252019162967, -0.0007380709389960052,
    0.000504953265834602, -0.0003454680251063077, 0.00023635601564027053,
    -0.00016170622091974803, 0.0001106337276874741, -7.569179582195066e-05,
    5.178575795222081e-05, -3.5430070947659604e-05, 2.424006611860132e-05,
    -1.6584242271854135e-05, 1.134638458466385e-05, -7.762817668462094e-06,
    5.3110609208898636e-06, -3.6336507898010456e-06, 2.486022733129538e-06,
    -1.7008538854332607e-06, 1.1636675363548843e-06, -7.96142543124197e-07,
    5.446941930669446e-07, -3.7266161283438227e-07, 2.549626552021554e-07,
    -1.7443695117727745e-07, 1.1934394829830244e-07)
_PSI_ROOT_HORNER = _PSI_ROOT_SERIES[::-1]


def _psi_asym(x):
    t = 1.0 / (x * x)
    return np.log(x) - 0.5 / x - t * _horner(t, _PSI_ASYM)


def _psi_12(x):
    """psi(x) for 1 <= x <= 2."""
    # NOTE: the Taylor series about the root in d = x - x0, x0 = hi + lo, keeps full relative
    # accuracy there, where a recurrence would cancel to nothing.
    d = (x - _PSI_ROOT_HI) - _PSI_ROOT_LO
    return d * _horner(d, _PSI_ROOT_HORNER)


def _psi_mid(x):
    """psi(x) for 2 < x < 10, by psi(x) = psi(x - k) + sum_{j=1..k} 1/(x - j) down to (1, 2]:
    the terms are positive and psi(1..2) >= -0.58, so nothing cancels."""
    k = np.ceil(x - 2.0)
    s = 1.0 / (x - 1.0)
    for j in range(2, 9):
        s += np.where(k >= j, 1.0 / (x - j), 0.0)
    return _psi_12(x - k) + s


def _psi_pos(x):
    """psi(x) for x >= 0 (psi(+0) = -inf, psi(-0) = +inf; inf and nan pass through)."""
    out = np.array(x, dtype=_F64, copy=True)
    _fill(out, x < 1.0, lambda x: _psi_12(x + 1.0) - 1.0 / x, x)
    _fill(out, (x >= 1.0) & (x <= 2.0), _psi_12, x)
    _fill(out, (x > 2.0) & (x < _PSI_BIG), _psi_mid, x)
    _fill(out, (x >= _PSI_BIG) & (x < np.inf), _psi_asym, x)
    return out


def _cotpi(x):
    # NOTE: cot(pi x) from r = x - round(x) (exact): 1 / tan(pi r) for |r| <= 1/4, else
    # +-tan(pi (1/2 - |r|)) (1/2 - |r| exact), so it keeps relative accuracy (and is exactly 0
    # at half-integers, where 1 / tan(pi / 2) would leave 6e-17).
    r = x - np.rint(x)
    q = np.abs(r)
    return np.where(q <= 0.25, 1.0 / np.tan(np.pi * r), np.copysign(np.tan(np.pi * (0.5 - q)), r))


def _psi64(x):
    out = np.where(x < 0, np.nan, x)                     # poles and -inf: nan, as scipy
    _fill(out, x >= 0, _psi_pos, x)
    # reflection: psi(x) = psi(1 - x) - pi cot(pi x)
    neg = (x < 0) & (x != np.floor(x))
    _fill(out, neg, lambda x: _psi_pos(1.0 - x) - np.pi * _cotpi(x), x)
    return out


@_quiet
def digamma(x):
    x0, (x, dt) = np.shape(x), _prep(x)
    return _done(_psi64(x), dt, x0)


# -- polygamma --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _em_coefs(s):
    """Euler-Maclaurin coefficients B_2j / (2j)! * s (s+1) ... (s+2j-2), j = 1..12, for the
    Hurwitz zeta(s, w) = w^(1-s) (1/(s-1) + 1/(2w) + sum_j c_j w^-2j), highest power first."""
    out, poch = [], Fraction(s)
    for j, b in enumerate(_B2K, 1):
        out.append(_big_float(b / math.factorial(2 * j) * poch))
        poch *= (s + 2 * j - 1) * (s + 2 * j)
    return tuple(out[::-1])


def _zeta_tail(s, w):
    u = 1.0 / w
    t = u * u
    return np.power(w, 1.0 - s) * (1.0 / (s - 1) + 0.5 * u + t * _horner(t, _em_coefs(s)))


def _hurwitz(s, x):
    """zeta(s, x) for x > 0, integer s >= 2: direct sum until x + n >= s + 10, then
    Euler-Maclaurin (12 Bernoulli terms: error below 1e-17 relative there)."""
    big = s + 10.0
    out = np.empty_like(x)

    def small(x):
        n = int(math.ceil(big - x.min()))
        acc = np.zeros_like(x)
        for k in range(n):
            acc += np.power(x + k, -float(s))
        return acc + _zeta_tail(s, x + n)
    _fill(out, x < big, small, x)
    _fill(out, x >= big, lambda x: _zeta_tail(s, x), x)
    return out


def _big_float(i):
    return float(i) if abs(i) < 2 ** 1023 else (math.inf if i > 0 else -math.inf)


@functools.lru_cache(maxsize=None)
def _cot_derivative(n):
    """Coefficients (highest power first) of pi^(n+1) / n! D_n(c), where d^n/dy^n cot(y) =
    D_n(cot y): D_0(c) = c, D_{k+1}(c) = -(1 + c^2) D_k'(c)."""
    p = [0, 1]                                           # lowest power first
    for _ in range(n):
        d = [i * p[i] for i in range(1, len(p))] + [0, 0]
        p = [-(d[i] + (d[i - 2] if i >= 2 else 0)) for i in range(len(d))]
    while p[-1] == 0:
        p.pop()
    scale = math.pi                                      # pi^(n+1) / n!, without overflow
    for k in range(1, n + 1):
        scale *= math.pi / k
    return tuple(_big_float(c * Fraction(scale)) for c in p[::-1])


def _zeta_pos(s, x):
    """zeta(s, x) for x > 0 or +inf (-> 0)."""
    out = np.zeros_like(x)
    _fill(out, x < np.inf, lambda x: _hurwitz(s, x), x)
    return out


def _polygamma1(n, x):
    """polygamma of integer order n >= 1 over a float64 array x."""
    sign, fact = (-1.0) ** (n + 1), _big_float(math.factorial(n))
    out = np.where((x <= 0) & (x == np.floor(x)) | (x == -np.inf), sign * np.inf, np.nan)
    _fill(out, x > 0, lambda x: sign * fact * _zeta_pos(n + 1, x), x)
    # NOTE: reflection, psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) D_n(cot(pi x)), from
    # differentiating psi(1 - x) - psi(x) = pi cot(pi x) n times, i.e.
    # -n! (zeta(n + 1, 1 - x) + pi^(n+1) / n! D_n(cot(pi x))); D_n's terms share one sign.
    neg = (x < 0) & (x != np.floor(x))
    _fill(out, neg, lambda x: -fact * (_zeta_pos(n + 1, 1.0 - x)
                                       + _horner(_cotpi(x), _cot_derivative(n))), x)
    return out


@_quiet
def polygamma(n, x):
    """psi^(n)(x) for integer n >= 0 (nan for other n), n broadcasting against x. Like scipy
    it returns an ndarray, also for scalars; unlike scipy, float32 x gives float32."""
    shape, (x, dt) = np.shape(x), _prep(x)
    n = np.asarray(n)
    if n.ndim == 0 and n.dtype.kind in "biu" and n >= 0:
        k = int(n)
        out = _psi64(x) if k == 0 else _polygamma1(k, x)
        return out.astype(dt, copy=False).reshape(shape)
    n, x = np.broadcast_arrays(n.astype(_F64), x.reshape(shape))
    out = np.full(x.shape, np.nan)
    for k in np.unique(n[(n >= 0) & (n == np.floor(n)) & (n < np.inf)]):
        m = n == k
        k = int(k)
        out[m] = _psi64(x[m]) if k == 0 else _polygamma1(k, x[m])
    return out.astype(dt, copy=False)


# -- scaled modified Bessel functions --------------------------------------------------------
def ive(nu, x):
    """exp(-|x|) I_nu(x) in float64, nu in {0, 1}: the power series (positive terms) for
    |x| <= 20, the asymptotic expansion beyond (its terms shrink until k ~ 2|x| > 40)."""
    ax = np.abs(x)
    out = np.where(np.isnan(x), np.nan, 0.0)

    def series(x, ax):
        h = 0.5 * ax
        h2 = h * h
        term = np.ones_like(h) if nu == 0 else h.copy()
        s = term.copy()
        for k in range(1, 60):
            term = term * h2 / (k * (k + nu))
            s = s + term
        return s * np.exp(-ax)

    def asym(x, ax):
        c = np.ones_like(ax)
        s = np.ones_like(ax)
        mu = 4.0 * nu * nu
        for k in range(1, 41):
            c = c * -(mu - (2 * k - 1) ** 2) / (8.0 * k * ax)
            s = s + c
        return s / np.sqrt(2.0 * np.pi * ax)
    _fill(out, ax <= 20.0, series, x, ax)
    _fill(out, (ax > 20.0) & (ax < np.inf), asym, x, ax)
    return np.copysign(out, x) if nu == 1 else out


# -- regularised incomplete gamma ------------------------------------------------------------
def _log1pmx(d):
    """log(1 + d) - d."""
    out = np.log1p(d) - d
    small = np.abs(d) < 0.5

    def series(d):
        # NOTE: log1p(d) = 2 atanh(t), t = d / (2 + d); 2t - d = -d^2 / (2 + d) exactly
        t = d / (2.0 + d)
        t2 = t * t
        s = np.zeros_like(d)
        for k in range(27, 1, -2):
            s = (s + 1.0 / k) * t2
        return -d * d / (2.0 + d) + 2.0 * t * s
    _fill(out, small, series, d)
    return out


def _igam_prefix(a, x):
    """x^a e^-x / Gamma(a)."""
    out = np.exp(a * np.log(x) - x - gammaln(a))

    def big(a, x):
        # NOTE: Stirling's split: a log(x/a) + a - x = a log1pmx((x - a) / a), with no
        # cancellation between the large terms a log x, x and lgamma(a)
        r = 1.0 / a
        corr = r * _horner(r * r, _STIRLING)
        d = (x - a) / a
        near = np.abs(d) < 0.5
        lpm = np.where(near, _log1pmx(np.where(near, d, 0.0)), np.log(x / a) - d)
        return np.exp(a * lpm - corr) * np.sqrt(a / (2.0 * np.pi))
    _fill(out, a >= 10.0, big, a, x)
    return out


def _igam_series(a, x):
    """P(a, x) by its power series (x < a + 1)."""
    term = np.ones_like(x)
    s = np.ones_like(x)
    for n in range(1, 20000):
        term = term * x / (a + n)
        s = s + term
        if n % 16 == 0 and not (term > 1e-17 * s).any():
            break
    return _igam_prefix(a, x) / a * s


def _igamc_cf(a, x):
    """Q(a, x) by its continued fraction (x >= a + 1), modified Lentz."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    done = np.zeros(x.shape, bool)
    for n in range(1, 20000):
        an = -n * (n - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        # NOTE: converged entries stay frozen: their later deltas drift by rounding
        h = np.where(done, h, h * delta)
        done = done | (np.abs(delta - 1.0) <= 1e-16)
        if n % 8 == 0 and done.all():
            break
    return _igam_prefix(a, x) * h


def _igamc_small(a, x):
    """Q(a, x) for a < 1, x < 2: Q = 1 - x^a / Gamma(a+1) - x^a / Gamma(a) sum_{n>=1}
    (-x)^n / (n! (a + n))."""
    # NOTE: 1 - x^a / Gamma(a+1) = (expm1(lgamma(1+a)) - expm1(a log x)) / Gamma(a+1) keeps
    # the small difference; lgamma(1+a) = lgamma(2+a) - log1p(a) never rounds 1 + a
    lg1 = np.where(a <= 0.5, _lg2(np.minimum(a, 0.5)) - np.log1p(a), gammaln(1.0 + a))
    xa = np.exp(a * np.log(x))
    first = (np.expm1(lg1) - np.expm1(a * np.log(x))) * np.exp(-lg1)
    term = np.ones_like(x)
    s = np.zeros_like(x)
    for n in range(1, 40):
        term = term * -x / n
        s = s + term / (a + n)
    return first - xa * a * np.exp(-lg1) * s


@_quiet
def _igam64(a, x, upper):
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    shape = a.shape
    a, x = a.reshape(-1), x.reshape(-1)
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)       # values of P -> (Q if upper)
    out = np.full(a.shape, np.nan)
    out[(a == 0) & (x > 0)] = hi
    out[(x == 0) & (a > 0)] = lo
    out[(x == np.inf) & (a > 0) & (a < np.inf)] = hi
    out[(a == np.inf) & (x > 0) & (x < np.inf)] = lo
    reg = (a > 0) & (a < np.inf) & (x > 0) & (x < np.inf)
    ser = reg & (x < a + 1.0)
    cf = reg & ~(x < a + 1.0)
    if upper:
        _fill(out, ser & (a < 1.0), _igamc_small, a, x)
        _fill(out, ser & (a >= 1.0), lambda a, x: 1.0 - _igam_series(a, x), a, x)
    else:
        _fill(out, ser, _igam_series, a, x)
    _fill(out, cf, lambda a, x: _igamc_cf(a, x) if upper
              else 1.0 - _igamc_cf(a, x), a, x)
    return out.reshape(shape)
