"""Issue 3, part A: reductions."""
from .spec import A, B, Bad, I, OpInfo

U = [(A(()),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 1, 4)),)]
UNARY = {"broadcast": "unary op: one input"}
NO0D = {"broadcast": "unary op: one input", "0d": "needs a dim to reduce over"}
D2 = [(A((4,)),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),)]
ZEROS = [(A((3,), values=[2.0, 0.0, 3.0]),), (A((2, 3), values=[[0.0, 2.0, 0.0],
                                                                [1.5, 0.5, 2.0]]),)]
NZ = [(A((), 0.5, 1.5),), (A((3, 5), 0.5, 1.5),), (A((3, 5), 0.5, 1.5, T=True),),
      (A((2, 1, 4), -1.5, -0.5),)]


OPS = [
    OpInfo("var", lambda m, x: m.var(x), U[1:], skip_kinds=NO0D,
           bad=[Bad(lambda m, i: m.var(i), I([1, 2, 3]), exc=RuntimeError)]),
    OpInfo("var_dim", lambda m, x: x.var(-1, keepdim=True), D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: x.var(2), A((2, 3)), exc=IndexError)]),
    OpInfo("var_unbiased_false", lambda m, x: m.var(x, 0, False, False), D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.var(x, (0, 0)), A((2, 3)), exc=RuntimeError)]),
    OpInfo("var_correction", lambda m, x: m.var(x, dim=(0, -1), correction=2),
           [(A((3, 5)),), (A((2, 3, 4)),), (A((3, 5), T=True),), (A((4, 2, 3)),)],
           skip_kinds=NO0D, bad=[Bad(lambda m, x: m.var(x, 3), A((2, 3)), exc=IndexError)]),
    OpInfo("std", lambda m, x: x.std(), U[1:], skip_kinds=NO0D,
           bad=[Bad(lambda m, i: i.std(), I([1, 2, 3]), exc=RuntimeError)]),
    OpInfo("std_dim", lambda m, x: m.std(x, 0, correction=0), D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.std(x, 0, True, correction=1), A((2, 3)),
                    exc=TypeError)]),
    OpInfo("var_mean", lambda m, x: m.var_mean(x, 1), D2[1:] + [(A((1, 5)),)],
           skip_kinds=NO0D, bad=[Bad(lambda m, x: m.var_mean(x, 1), A((3,)), exc=IndexError)]),
    OpInfo("std_mean", lambda m, x: m.std_mean(x, (0, 1), keepdim=True), D2[1:] + [(A((1, 5)),)],
           skip_kinds=NO0D,
           bad=[Bad(lambda m, i: m.std_mean(i), I([1, 2]), exc=RuntimeError)]),
    OpInfo("logsumexp", lambda m, x: m.logsumexp(x, 1), D2[1:] + [(A((3, 2), 500, 600),)],
           skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.logsumexp(x, 2), A((2, 2)), exc=IndexError)]),
    OpInfo("logsumexp_all", lambda m, x: x.logsumexp((0, -1), keepdim=True),
           [(A((3, 5)),), (A((2, 3, 4)),), (A((3, 5), T=True),), (A((1, 1)),)],
           skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.logsumexp(x), A((2, 2)), exc=TypeError)]),
    OpInfo("amax", lambda m, x: m.amax(x, -1), D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.amax(x, 1), A((2, 0)), exc=IndexError)]),
    OpInfo("amax_all", lambda m, x: x.amax(), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.amax(x), A((0,)), exc=RuntimeError)]),
    OpInfo("amin_dims", lambda m, x: x.amin((0, 1), keepdim=True), D2[1:] + [(A((2, 1)),)],
           skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.amin(x, (0, 0)), A((2, 3)), exc=RuntimeError)]),
    OpInfo("argmax", lambda m, x: m.argmax(x, 1), D2[1:] + [(A((2, 1)),)], grad=False,
           skip_kinds=NO0D,
           bad=[Bad(lambda m, b: m.argmax(b), B((3,)), exc=RuntimeError),
                Bad(lambda m, x: m.argmax(x), A((0,)), exc=IndexError)]),
    OpInfo("argmin", lambda m, x: x.argmin(keepdim=True), U, grad=False, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.argmin(2), A((2, 2)), exc=IndexError)]),
    OpInfo("argmax_ties", lambda m, x: m.argmax(x, 0),
           [(A((4,), values=[1.0, 3.0, 3.0, 0.0]),)], grad=False,
           skip_kinds={"0d": "fixed", "broadcast": "fixed", "T": "fixed", "odd": "fixed"},
           bad=[Bad(lambda m, x: m.argmax(x, 0), A((0,)), exc=IndexError)]),
    OpInfo("prod", lambda m, x: m.prod(x), NZ + ZEROS, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.prod(x, (0, 1)), A((2, 2)), exc=TypeError)]),
    OpInfo("prod_dim", lambda m, x: x.prod(1, keepdim=True),
           [(A((3, 5), 0.5, 1.5),), (A((3, 5), 0.5, 1.5, T=True),), (A((2, 3, 4), -1.5, -.5),),
            (A((2, 3), values=[[0.0, 2.0, 0.0], [1.5, 0.0, 2.0]]),),
            (A((2, 3), values=[[0.0, 2.0, 1.0], [1.5, 3.0, 2.0]]),)],
           skip_kinds=NO0D, bad=[Bad(lambda m, x: x.prod(2), A((2, 2)), exc=IndexError)]),
    OpInfo("prod_int", lambda m, i: m.prod(i, 0), [(I([[1, 2], [3, 4]]),), (B((2, 3)),)],
           grad=False, skip_kinds={"0d": "ints", "broadcast": "u", "T": "ints", "odd": "ints"},
           bad=[Bad(lambda m, i: m.prod(i, 1), I([1, 2]), exc=IndexError)]),
    OpInfo("cumsum", lambda m, x: m.cumsum(x, -1), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.cumsum(x, 2), A((2, 2)), exc=IndexError)]),
    OpInfo("cumsum_dtype", lambda m, x: x.float().cumsum(0, dtype=m.float64), D2,
           skip_kinds=NO0D, eps=1e-3, atol=1e-3,
           bad=[Bad(lambda m, x: x.cumsum(), A((2, 2)), exc=TypeError)]),
    OpInfo("cumprod", lambda m, x: m.cumprod(x, 0), NZ + ZEROS, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.cumprod(x, -3), A((2, 2)), exc=IndexError)]),
    OpInfo("cumprod_zeros", lambda m, x: x.cumprod(1),
           [(A((2, 4), values=[[0.0, 2.0, 0.0, 3.0], [1.5, 0.0, 2.0, 0.5]]),),
            (A((3, 5)),), (A((3, 5), T=True),), (A((1, 3), values=[[2.0, 3.0, 0.0]]),)],
           skip_kinds=NO0D, bad=[Bad(lambda m, x: x.cumprod(1), A((2,)), exc=IndexError)]),
    OpInfo("cumsum_", lambda m, x: _ip(x, "cumsum_", 0), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.cumsum_(0), A((2,)), exc=RuntimeError)]),
    OpInfo("all", lambda m, x: m.all(x > 0, 1), D2[1:] + [(A((1, 3)),)], grad=False,
           skip_kinds=NO0D, bad=[Bad(lambda m, x: m.all(x, 2), A((2, 2)), exc=IndexError)]),
    OpInfo("any", lambda m, x: (x > 1).any(), U, grad=False, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: x.any(5), A((2, 2)), exc=IndexError)]),
    OpInfo("all_uint8", lambda m, i: m.all(i.to(m.uint8)), [(I([1, 2]),), (I([[0, 3]]),)],
           grad=False, skip_kinds={"0d": "ints", "broadcast": "u", "T": "ints", "odd": "ints"},
           bad=[Bad(lambda m, i: m.any(i, (0, 0)), I([[1]]), exc=RuntimeError)]),
]


def _ip(x, name, *args, **kw):
    y = x * 1.5
    getattr(y, name)(*args, **kw)
    return y * x
