"""Issue 3, part A: the elementwise catalogue."""
from .spec import A, B, Bad, I, OpInfo

U = [(A(()),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 1, 4)),)]
POS = [(A((), 0.5, 2.0),), (A((3, 5), 0.5, 2.0),), (A((3, 5), 0.5, 2.0, T=True),),
       (A((2, 1, 4), 0.5, 2.0),)]
UNARY = {"broadcast": "unary op: one input"}
BAD_TYPE = Bad(lambda m: m.floor([1.5]), exc=TypeError)


def _u(name, samples=U, bad=(), **kw):
    return OpInfo(name, lambda m, x: getattr(m, name)(x), samples, skip_kinds=UNARY,
                  bad=bad or [Bad(lambda m: getattr(m, name)("x"), exc=TypeError)], **kw)


def _m(name, samples=U, **kw):
    """The Tensor-method spelling, to cover the mixins."""
    return OpInfo(name + "_method", lambda m, x: getattr(x, name)(), samples, skip_kinds=UNARY,
                  bad=[Bad(lambda m, x: getattr(x, name)(1), A((2,)), exc=TypeError)], **kw)


OPS = [
    _u("floor", bad=[Bad(lambda m, b: m.floor(b), B((3,)), exc=RuntimeError)]),
    _u("ceil"),
    _u("trunc"),
    _u("fix"),
    _m("floor"), _m("ceil"), _m("trunc"),
    _u("round", bad=[Bad(lambda m, b: m.round(b), B((3,)), exc=RuntimeError)]),
    OpInfo("round_decimals", lambda m, x: m.round(x * 10, decimals=2) + x, U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.round(x, decimals=1.5), A((2,)), exc=TypeError)]),
    OpInfo("round_neg_decimals", lambda m, x: x.round(decimals=-1) * x,
           [(A((), -50, 50),), (A((3, 5), -50, 50),), (A((3, 5), -50, 50, T=True),),
            (A((2, 1, 4), -50, 50),)], skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.round(decimals="1"), A((2,)), exc=TypeError)]),
    _u("log1p", POS + [(A((4,), -0.5, 0.5),)]),
    _m("log1p", POS),
    _u("expm1"), _m("expm1"),
    _u("square"), _m("square"),
    _u("reciprocal", POS), _m("reciprocal", POS),
    _u("rsqrt", POS), _m("rsqrt", POS),
    _u("erf"), _m("erf"),
    OpInfo("floor_", lambda m, x: _ip(x, "floor_"), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.floor_(), A((2,)), exc=RuntimeError)]),
    OpInfo("erf_", lambda m, x: _ip(x, "erf_"), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.erf_(), A((2,)), exc=RuntimeError)]),
    OpInfo("log1p_", lambda m, x: _ip(x, "log1p_"), POS, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.log1p_(), A((2,)), exc=RuntimeError)]),
]


def _r(lo, hi):
    return [(A((), lo, hi),), (A((3, 5), lo, hi),), (A((3, 5), lo, hi, T=True),),
            (A((2, 1, 4), lo, hi),)]


def _bin(lo=-2.0, hi=2.0, lo2=None, hi2=None):
    lo2 = lo if lo2 is None else lo2
    hi2 = hi if hi2 is None else hi2
    return [(A((), lo, hi), A((), lo2, hi2)), (A((3, 5), lo, hi), A((3, 5), lo2, hi2)),
            (A((3, 5), lo, hi), A((5,), lo2, hi2)),
            (A((3, 5), lo, hi, T=True), A((3, 1), lo2, hi2)),
            (A((2, 1, 4), lo, hi), A((3, 1), lo2, hi2))]


def _b(name, samples, **kw):
    return OpInfo(name, lambda m, a, b: getattr(m, name)(a, b), samples,
                  bad=[Bad(lambda m, a, b: getattr(m, name)(a, b), A((2, 3)), A((4,)),
                           exc=RuntimeError),
                       Bad(lambda m, a: getattr(m, name)(a, "x"), A((2,)), exc=TypeError)],
                  **kw)


NAN, INF = float("nan"), float("inf")

OPS += [
    OpInfo("div_floor", lambda m, a, b: m.div(a, b, rounding_mode="floor") + a * b,
           _bin(0.5, 2.0),
           bad=[Bad(lambda m, a, b: m.div(a, b, rounding_mode="round"), A((2,)), A((2,)),
                    exc=RuntimeError),
                Bad(lambda m, a, b: m.div(a, b, rounding_mode="floor"), A((2,)), A((3,)),
                    exc=RuntimeError)]),
    OpInfo("div_trunc", lambda m, a, b: m.div(a, b, rounding_mode="trunc") * 0.5 + a / b,
           _bin(0.5, 2.0, -2.0, -0.5), bad_see="div_floor"),
    _u("exp2"), _m("exp2"),
    _u("log2", POS), _m("log2", POS),
    _u("log10", POS), _m("log10", POS),
    OpInfo("sign_sgn", lambda m, x: m.sign(x) * x + m.sgn(x) + x.sgn() * x.sign(), U,
           skip_kinds=UNARY, bad=[Bad(lambda m: m.sgn(1.0), exc=TypeError)]),
    _u("frac", bad=[Bad(lambda m, i: m.frac(i), I([1, 2]), exc=RuntimeError)]), _m("frac"),
    _u("tan", _r(-1.2, 1.2)), _m("tan", _r(-1.2, 1.2)),
    _u("asin", _r(-0.9, 0.9)), _m("asin", _r(-0.9, 0.9)), _u("arcsin", _r(-0.9, 0.9)),
    _u("acos", _r(-0.9, 0.9)), _m("acos", _r(-0.9, 0.9)), _u("arccos", _r(-0.9, 0.9)),
    _u("atan"), _m("atan"), _u("arctan"),
    _u("sinh"), _m("sinh"),
    _u("cosh"), _m("cosh"),
    _u("asinh"), _m("asinh"), _u("arcsinh"),
    _u("acosh", _r(1.2, 3.0)), _m("acosh", _r(1.2, 3.0)), _u("arccosh", _r(1.2, 3.0)),
    _u("atanh", _r(-0.9, 0.9)), _m("atanh", _r(-0.9, 0.9)), _u("arctanh", _r(-0.9, 0.9)),
    _u("erfc"), _m("erfc"),
    _u("erfinv", _r(-0.9, 0.9)), _m("erfinv", _r(-0.9, 0.9)),
    _u("lgamma", _r(0.5, 3.0) + [(A((4,), -2.7, -2.2),)]), _m("lgamma", _r(0.5, 3.0)),
    _u("digamma", _r(0.5, 3.0)), _m("digamma", _r(0.5, 3.0)),
    OpInfo("polygamma", lambda m, x: m.polygamma(1, x) + x.polygamma(2) + m.polygamma(0, x),
           _r(0.5, 3.0), skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.polygamma(-1, x), A((2,)), exc=RuntimeError),
                Bad(lambda m, x: m.polygamma(1.5, x), A((2,)), exc=TypeError)]),
    _b("atan2", _bin(0.3, 2.0, -2.0, 2.0)), _b("arctan2", _bin(-2.0, -0.3, -2.0, 2.0)[:4]),
    OpInfo("atan2_method", lambda m, a, b: a.atan2(b), _bin(0.3, 2.0)[:4],
           bad=[Bad(lambda m, a: a.atan2(1.0), A((2,)), exc=TypeError)]),
    _b("hypot", _bin(0.3, 2.0, -2.0, -0.3)),
    OpInfo("hypot_method", lambda m, a, b: a.hypot(b), _bin(0.3, 2.0)[:4],
           bad=[Bad(lambda m, i: m.hypot(i, i), I([1, 2]), exc=RuntimeError)]),
    _b("logaddexp", _bin() + [(A((2, 3), 500, 600), A((3,), 500, 600))]),
    _b("logaddexp2", _bin()),
    OpInfo("logaddexp_method", lambda m, a, b: a.logaddexp(b) + a.logaddexp2(b), _bin()[:4],
           bad=[Bad(lambda m, i: m.logaddexp(i, i), I([1, 2]), exc=RuntimeError)]),
    _b("xlogy", _bin(-2.0, 2.0, 0.5, 2.0)),
    OpInfo("xlogy_scalars", lambda m, a: m.xlogy(a, 2.5) + m.xlogy(1.5, a) + a.xlogy(a),
           _r(0.5, 2.0), skip_kinds=UNARY,
           bad=[Bad(lambda m: m.xlogy(1.0, 2.0), exc=TypeError)]),
    OpInfo("lerp", lambda m, a, b: m.lerp(a, b, 0.3), _bin(),
           bad=[Bad(lambda m, a, i: m.lerp(a, i, 0.5), A((2,)), I([1, 2]), exc=RuntimeError),
                Bad(lambda m, a, b: m.lerp(a, b, 0.5), A((2, 3)), A((4,)), exc=RuntimeError)]),
    OpInfo("lerp_tensor_weight", lambda m, a, b, w: a.lerp(b, w),
           [(A(()), A(()), A(())), (A((3, 5)), A((3, 5)), A((3, 5))),
            (A((3, 5)), A((5,)), A((3, 1))), (A((3, 5), T=True), A((3, 5)), A(()))],
           bad=[Bad(lambda m, a, b: a.lerp(b, "w"), A((2,)), A((2,)), exc=TypeError)]),
    OpInfo("fmod", lambda m, a, b: m.fmod(a, b),
           [(A((), -3, 3), A((), 0.7, 0.9)), (A((3, 5), -3, 3), A((3, 5), 0.7, 0.9)),
            (A((3, 5), -3, 3), A((5,), -0.9, -0.7)), (A((3, 5), 0.1, 3, T=True), A((3, 1), 0.7,
                                                                                 0.9))],
           atol=1e-4,
           bad=[Bad(lambda m, i: m.fmod(i, 0), I([1, 2]), exc=RuntimeError),
                Bad(lambda m, a, b: m.fmod(a, b), A((2, 3)), A((4,)), exc=RuntimeError)]),
    OpInfo("fmod_scalar", lambda m, a: a.fmod(0.8) + m.remainder(a, -0.8) + a.remainder(0.9),
           _r(-3, 3), skip_kinds=UNARY, atol=1e-4,
           bad=[Bad(lambda m, i: m.remainder(i, 0), I([1, 2]), exc=RuntimeError)]),
    OpInfo("copysign", lambda m, a, b: m.copysign(a, b), _bin(-2.0, 2.0, 0.2, 2.0)[:2] +
           _bin(-2.0, 2.0, -2.0, -0.2)[2:],
           bad=[Bad(lambda m, a, b: m.copysign(a, b), A((2, 3)), A((4,)), exc=RuntimeError)]),
    OpInfo("copysign_scalar", lambda m, a: a.copysign(-1.0) + m.copysign(a, 0.0), U,
           skip_kinds=UNARY, bad=[Bad(lambda m, a: a.copysign("x"), A((2,)), exc=TypeError)]),
    OpInfo("nan_to_num", lambda m, a: m.nan_to_num(a) * a.isfinite(),
           [(A(()),), (A((3, 5)),), (A((3, 5), T=True),), (A((4,), values=[1.0, NAN, INF,
                                                                              -INF]),)],
           skip_kinds=UNARY,
           bad=[Bad(lambda m, a: m.nan_to_num(a, nan="a"), A((2,)), exc=TypeError)]),
    OpInfo("nan_to_num_args", lambda m, a: a.nan_to_num(1.5, 9.0, -9.0) + 0,
           [(A((4,), values=[1.0, NAN, INF, -INF]),), (A((3, 5)),), (A((3, 5), T=True),),
            (A(()),)], skip_kinds=UNARY,
           bad=[Bad(lambda m, a: a.nan_to_num(posinf="x"), A((2,)), exc=TypeError)]),
    OpInfo("isnan_isinf", lambda m, a: (m.isnan(a), a.isinf(), m.isfinite(a), a.isposinf(),
                                        m.isneginf(a), m.isnan(a.long())),
           [(A((4,), values=[1.0, NAN, INF, -INF]),), (A((3, 5)),), (A((3, 5), T=True),),
            (A(()),)], grad=False, skip_kinds=UNARY,
           bad=[Bad(lambda m: m.isnan([1.0]), exc=TypeError)]),
    OpInfo("float_power", lambda m, a, b: m.float_power(a, b), _bin(0.5, 2.0, -2.0, 2.0),
           bad=[Bad(lambda m: m.float_power(2.0, 3.0), exc=TypeError)]),
    OpInfo("float_power_scalar", lambda m, a: a.float_power(2) + m.float_power(2.0, a.float()),
           U, skip_kinds=UNARY, eps=1e-3, atol=1e-3,
           bad=[Bad(lambda m, a: a.float().float_power_(2), A((2,)), exc=RuntimeError)]),
    OpInfo("true_divide", lambda m, a, b: m.true_divide(a, b) + a.true_divide(b),
           _bin(-2.0, 2.0, 0.5, 2.0),
           bad=[Bad(lambda m, a, b: m.true_divide(a, b), A((2, 3)), A((4,)), exc=RuntimeError)]),
    OpInfo("floor_divide", lambda m, a, b: (m.floor_divide(a, b), a // 0.7,
                                            m.floor_divide(a.long(), 2)),
           _bin(-3.0, 3.0, 0.4, 2.0), grad=False,
           bad=[Bad(lambda m, i: m.floor_divide(i, 0), I([1, 2]), exc=RuntimeError)]),
    OpInfo("clamp_min_max", lambda m, a: m.clamp_min(a, -0.5) + a.clamp_max(0.3) +
           m.clamp_max(a, m.tensor(0.2, dtype=a.dtype)), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, a: m.clamp_min(a, "x"), A((2,)), exc=TypeError)]),
    OpInfo("clamp_tensor_crossed", lambda m, a, lo, hi: m.clamp(a, lo, hi),
           [(A(()), A((), 0.5, 1), A((), -1, 0)), (A((3, 5)), A((3, 5), -1, 1), A((5,), -1, 1)),
            (A((3, 5), T=True), A((3, 1), -1, 1), A((3, 5), -1, 1)),
            (A((3, 5)), A((5,), 0.1, 1), A((3, 1), -1, 0.0))],
           bad=[Bad(lambda m, a, lo: m.clamp(a, lo), A((2, 3)), A((4,)), exc=RuntimeError)]),
]


def _ip(x, name, *args, **kw):
    """An in-place method on a non-leaf copy, then a use of the result."""
    y = x * 1.5
    getattr(y, name)(*args, **kw)
    return y * x
