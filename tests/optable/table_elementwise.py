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


def _ip(x, name, *args, **kw):
    """An in-place method on a non-leaf copy, then a use of the result."""
    y = x * 1.5
    getattr(y, name)(*args, **kw)
    return y * x
