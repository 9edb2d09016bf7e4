"""chainrule.special (torch.special's namespace): gradients and torch parity."""
from .spec import A, Bad, OpInfo

UNARY = {"broadcast": "unary op: one input"}


def _r(lo, hi):
    return [(A((), lo, hi),), (A((3, 5), lo, hi),), (A((3, 5), lo, hi, T=True),),
            (A((2, 1, 4), lo, hi),)]


def _u(name, lo=-2.0, hi=2.0, extra=(), **kw):
    return OpInfo("special." + name, lambda m, x: getattr(m.special, name)(x),
                  _r(lo, hi) + list(extra), skip_kinds=UNARY,
                  bad=[Bad(lambda m: getattr(m.special, name)("x"), exc=TypeError)], **kw)


def _bin(lo, hi, lo2, hi2, g1=True, g2=True):
    return [(A((), lo, hi, grad=g1), A((), lo2, hi2, grad=g2)),
            (A((3, 5), lo, hi, grad=g1), A((3, 5), lo2, hi2, grad=g2)),
            (A((3, 5), lo, hi, grad=g1), A((5,), lo2, hi2, grad=g2)),
            (A((3, 5), lo, hi, T=True, grad=g1), A((3, 5), lo2, hi2, grad=g2, T=True))]


def _shape_bad(name):
    return Bad(lambda m, a, b: getattr(m.special, name)(a, b), A((2,), 0.5, 1.0),
               A((3,), 0.5, 1.0), exc=RuntimeError)


OPS = [
    _u("erf"), _u("erfc"), _u("erfinv", -0.9, 0.9), _u("expit"),
    _u("gammaln", 0.5, 4.0), _u("digamma", 0.5, 4.0), _u("psi", 0.5, 4.0),
    _u("i0"), _u("i1", extra=[(A((4,), 25.0, 30.0),)]),
    _u("i0e", extra=[(A((4,), -30.0, -21.0),), (A((4,), 21.0, 30.0),)]),
    _u("i1e", extra=[(A((4,), -30.0, -21.0),), (A((4,), 21.0, 30.0),)]),
    _u("ndtr", -3.0, 3.0),
    _u("ndtri", 0.05, 0.95, extra=[(A((3,), 1e-6, 1e-3),)]),
    _u("log_ndtr", -3.0, 3.0, extra=[(A((3,), -30.0, -5.0),)]),
    _u("erfcx", -2.0, 2.0, extra=[(A((3,), 9.0, 15.0),)]),
    _u("sinc", 0.1, 2.0),
    _u("round", -3.0, 3.0),
    _u("entr", 0.1, 2.0),
    _u("expm1"), _u("exp2"), _u("log1p", -0.5, 2.0),
    OpInfo("special.logit", lambda m, x: m.special.logit(x), _r(0.1, 0.9), skip_kinds=UNARY,
           bad=[Bad(lambda m: m.special.logit([0.5]), exc=TypeError)]),
    OpInfo("special.logit_eps", lambda m, x: m.special.logit(x, eps=0.05), _r(0.1, 0.9),
           skip_kinds=UNARY, bad_see="special.logit"),
    OpInfo("special.polygamma", lambda m, x: m.special.polygamma(2, x), _r(0.5, 3.0),
           skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.special.polygamma(1.5, x), A((2,)), exc=TypeError)]),
    OpInfo("special.multigammaln", lambda m, x: m.special.multigammaln(x, 3), _r(2.0, 4.0),
           skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.special.multigammaln(x, 0), A((2,), 2, 3),
                    exc=RuntimeError)]),
    OpInfo("special.logsumexp", lambda m, x: m.special.logsumexp(x, -1),
           _r(-2.0, 2.0), skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.special.logsumexp(x, 3), A((2, 3)), exc=IndexError)]),
    OpInfo("special.softmax", lambda m, x: m.special.softmax(x, 0),
           _r(-2.0, 2.0), skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.special.softmax(x, 3), A((2, 3)), exc=IndexError)]),
    OpInfo("special.log_softmax", lambda m, x: m.special.log_softmax(x, 0),
           _r(-2.0, 2.0), skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.special.log_softmax(x, 3), A((2, 3)), exc=IndexError)]),
    OpInfo("special.xlogy", lambda m, a, b: m.special.xlogy(a, b), _bin(-2, 2, 0.5, 2),
           bad=[_shape_bad("xlogy")]),
    OpInfo("special.xlog1py", lambda m, a, b: m.special.xlog1py(a, b), _bin(-2, 2, -0.5, 2),
           bad=[_shape_bad("xlog1py"),
                Bad(lambda m: m.special.xlog1py(1.0, 2.0), exc=TypeError)]),
    OpInfo("special.xlog1py_zero", lambda m, a, b: m.special.xlog1py(a * 0, b),
           [(A((2, 3), grad=False), A((2, 3), -0.5, 2.0))], bad_see="special.xlog1py",
           skip_kinds={"0d": "the zero mask case", "odd": "see xlog1py",
                       "broadcast": "see xlog1py", "T": "see xlog1py"}),
    # torch has no derivative w.r.t. zeta's / gammainc's first argument: constants here
    OpInfo("special.zeta", lambda m, s, q: m.special.zeta(s, q),
           _bin(1.5, 4.0, 0.5, 3.0, g1=False),
           bad=[_shape_bad("zeta"), Bad(lambda m: m.special.zeta(2.0, 1.0), exc=TypeError)]),
    OpInfo("special.gammainc", lambda m, a, x: m.special.gammainc(a, x),
           _bin(0.5, 4.0, 0.3, 5.0, g1=False) + [(A((4,), 20.0, 30.0, grad=False),
                                                   A((4,), 15.0, 35.0))],
           bad=[_shape_bad("gammainc"),
                Bad(lambda m, x: m.special.gammainc(2.0, x), A((2,)), exc=TypeError)]),
    OpInfo("special.gammaincc", lambda m, a, x: m.special.gammaincc(a, x),
           _bin(0.5, 4.0, 0.3, 5.0, g1=False) + [(A((4,), 0.1, 0.9, grad=False),
                                                   A((4,), 0.2, 1.5))],
           bad=[_shape_bad("gammaincc"),
                Bad(lambda m, x: m.special.gammaincc(x, 2.0), A((2,)), exc=TypeError)]),
]
