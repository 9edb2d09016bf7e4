"""Issue 2's core operators."""
from .spec import A, B, Bad, I, OpInfo

# shapes: 0-d, an odd (3, 5), a broadcast pair, a transposed view
U = [(A(()),), (A((3, 5)),), (A((3, 5), T=True),), (A((1, 5)),)]
P = [(A((), 0.5, 2.0),), (A((3, 5), 0.5, 2.0),), (A((3, 5), 0.5, 2.0, T=True),),
     (A((2, 1, 4), 0.5, 2.0),)]
BIN = [(A(()), A(())), (A((3, 5)), A((3, 5))), (A((3, 5)), A((5,))), (A((3, 5), T=True),
                                                                      A((3, 1))),
       (A((2, 1, 4)), A((3, 1)))]
BIN_NZ = [(A(()), A((), 0.5, 2.0)), (A((3, 5)), A((3, 5), 0.5, 2.0)),
          (A((3, 5)), A((5,), 0.5, 2.0)), (A((3, 5), T=True), A((3, 1), -2.0, -0.5))]
TIE = [(A(()), A(())), (A((3, 5)), A((3, 5))), (A((3, 5)), A((5,))),
       (A((3, 5), T=True), A((3, 1)))]

BAD_BCAST = Bad(lambda m, a, b: a + b, A((3, 4)), A((5,)), exc=RuntimeError)


def _unary(name, samples=U, **kw):
    kw.setdefault("bad", [Bad(lambda m: getattr(m, name)("x"), exc=TypeError)])
    return OpInfo(name, lambda m, x: getattr(m, name)(x), samples,
                  skip_kinds={"broadcast": "unary op: one input"}, **kw)


OPS = [
    OpInfo("add", lambda m, a, b: a + b, BIN, bad=[BAD_BCAST]),
    OpInfo("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), BIN, bad_see="add"),
    OpInfo("radd_scalar", lambda m, a: 2.5 + a, U, skip_kinds={"broadcast": "scalar operand"}, bad_see="add"),
    OpInfo("sub", lambda m, a, b: a - b, BIN,
           bad=[Bad(lambda m, a, b: a - b, A((2, 3)), A((4, 3)), exc=RuntimeError)]),
    OpInfo("rsub_scalar", lambda m, a: 1.5 - a, U, skip_kinds={"broadcast": "scalar operand"}, bad_see="sub"),
    OpInfo("mul", lambda m, a, b: a * b, BIN,
           bad=[Bad(lambda m, a, b: a * b, A((2,)), A((3,)), exc=RuntimeError)]),
    OpInfo("mul_scalar", lambda m, a: a * 3.0, U, skip_kinds={"broadcast": "scalar operand"}, bad_see="mul"),
    OpInfo("div", lambda m, a, b: a / b, BIN_NZ,
           bad=[Bad(lambda m, a, b: a / b, A((2, 3)), A((2,)), exc=RuntimeError)]),
    OpInfo("rdiv_scalar", lambda m, a: 2.0 / a, P, skip_kinds={"broadcast": "scalar operand"}, bad_see="div"),
    OpInfo("neg", lambda m, a: -a, U, skip_kinds={"broadcast": "unary op"},
           bad=[Bad(lambda m, b: -b, B((3,)), exc=RuntimeError)]),
    OpInfo("pow_scalar", lambda m, a: a ** 3, U, skip_kinds={"broadcast": "scalar exponent"}, bad_see="pow_tensor"),
    OpInfo("pow_frac", lambda m, a: a ** 2.5, P, skip_kinds={"broadcast": "scalar exponent"}, bad_see="pow_tensor"),
    OpInfo("pow_zero", lambda m, a: a ** 0, U, skip_kinds={"broadcast": "scalar exponent"}, bad_see="pow_tensor"),
    OpInfo("pow_tensor", lambda m, a, b: a ** b,
           [(A((), 0.5, 2), A(())), (A((3, 5), 0.5, 2), A((3, 5))),
            (A((3, 5), 0.5, 2), A((5,))), (A((3, 5), 0.5, 2, T=True), A((3, 1)))],
           bad=[Bad(lambda m, i: i ** -1, I([1, 2]), exc=RuntimeError)]),
    OpInfo("rpow", lambda m, a: 2.0 ** a, U, skip_kinds={"broadcast": "scalar base"}, bad_see="pow_tensor"),
    _unary("exp"),
    _unary("log", P, bad=[Bad(lambda m: m.log("x"), exc=TypeError)]),
    _unary("sqrt", P),
    _unary("sin"),
    _unary("cos"),
    _unary("tanh"),
    _unary("sigmoid"),
    _unary("relu"),
    _unary("abs"),
    OpInfo("sign", lambda m, a: m.sign(a) * a, U, skip_kinds={"broadcast": "unary op"},
           bad=[Bad(lambda m: m.sign("x"), exc=TypeError)]),
    OpInfo("clamp", lambda m, a: m.clamp(a, -0.5, 0.7), U, skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, a: m.clamp(a), A((3,)), exc=RuntimeError)]),
    OpInfo("clamp_min", lambda m, a: m.clamp(a, min=-0.3), U, skip_kinds={"broadcast": "unary"}, bad_see="clamp"),
    OpInfo("clip_max", lambda m, a: m.clip(a, max=0.3), U, skip_kinds={"broadcast": "unary"}, bad_see="clamp"),
    OpInfo("clamp_tensor", lambda m, a, lo, hi: m.clamp(a, lo, hi),
           [(A(()), A((), -1, 0), A((), 0, 1)), (A((3, 5)), A((3, 5), -1, 0), A((5,), 0, 1)),
            (A((3, 5), T=True), A((3, 1), -1, 0), A((3, 5), 0, 1)),
            (A((3, 5)), A((5,), -1, 0), A((3, 1), 0.0, 1.0))],
           bad=[Bad(lambda m, a, b: m.clamp(a, b), A((2, 3)), A((4,)), exc=RuntimeError)]),
    OpInfo("where", lambda m, c, a, b: m.where(c, a, b),
           [(B(()), A(()), A(())), (B((3, 5)), A((3, 5)), A((3, 5))),
            (B((3, 5)), A((5,)), A((3, 1))), (B((3, 5)), A((3, 5), T=True), A(()))],
           bad=[Bad(lambda m, c, a, b: m.where(c, a, b), I([1, 0]), A((2,)), A((2,)),
                    exc=RuntimeError)]),
    OpInfo("maximum", lambda m, a, b: m.maximum(a, b), TIE,
           bad=[Bad(lambda m, a, b: m.maximum(a, b), A((2,)), A((3,)), exc=RuntimeError)]),
    OpInfo("minimum", lambda m, a, b: m.minimum(a, b), TIE,
           bad=[Bad(lambda m, a, b: m.minimum(a, b), A((2,)), A((3,)), exc=RuntimeError)]),
    OpInfo("maximum_ties", lambda m, a: m.maximum(a, a * 1.0), U,
           skip_kinds={"broadcast": "ties need equal shapes"}, bad_see="maximum"),
    OpInfo("remainder", lambda m, a, b: m.remainder(a, b),
           [(A((), 0.1, 3), A((), 0.7, 0.9)), (A((3, 5), 0.1, 3), A((3, 5), 0.7, 0.9)),
            (A((3, 5), 0.1, 3), A((5,), 0.7, 0.9)), (A((3, 5), 0.1, 3, T=True), A((3, 1), 0.7,
                                                                               0.9))],
           atol=1e-4,
           bad=[Bad(lambda m, a, b: m.remainder(a, b), A((2,)), A((3,)), exc=RuntimeError)]),
    OpInfo("sum", lambda m, a: a.sum(), U, skip_kinds={"broadcast": "unary"}, bad_see="sum_dim"),
    OpInfo("sum_dim", lambda m, a: a.sum(dim=-1, keepdim=True),
           [(A((4,)),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),)],
           skip_kinds={"broadcast": "unary", "0d": "0-d has no dim -1 to keep"},
           bad=[Bad(lambda m, a: a.sum(dim=3), A((2, 3)), exc=IndexError)]),
    OpInfo("sum_dims", lambda m, a: m.sum(a, (0, 2)),
           [(A((2, 3, 4)),), (A((3, 1, 5)),), (A((4, 3, 2), T=True),), (A((1, 5, 3)),)],
           skip_kinds={"broadcast": "unary", "0d": "needs 3 dims"}, bad_see="sum_dim"),
    OpInfo("mean", lambda m, a: a.mean(), U, skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, i: i.mean(), I([1, 2]), exc=RuntimeError)]),
    OpInfo("mean_dim", lambda m, a: a.mean(0), [(A((4,)),), (A((3, 5)),), (A((3, 5), T=True),),
                                                (A((2, 3, 4)),)],
           skip_kinds={"broadcast": "unary", "0d": "dim 0 of a 0-d tensor is itself"}, bad_see="mean"),
    OpInfo("max_all", lambda m, a: a.max(), U, skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, a: a.max(), A((0,)), exc=RuntimeError)]),
    OpInfo("max_ties", lambda m, a: m.max(a), [(A((), values=1.0),),
                                               (A((4,), values=[1.0, 3.0, 3.0, 2.0]),),
                                               (A((3, 5)),), (A((3, 5), T=True),)],
           skip_kinds={"broadcast": "unary"}, gradgrad=False, bad_see="max_all"),
    OpInfo("min_all", lambda m, a: a.min(), U, skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, a: a.min(), A((0, 2)), exc=RuntimeError)]),
    OpInfo("max_dim", lambda m, a: m.max(a, 1),
           [(A((4, 2)),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),)],
           skip_kinds={"broadcast": "unary", "0d": "no dim 1"},
           bad=[Bad(lambda m, a: m.max(a, 2), A((2, 3)), exc=IndexError)]),
    OpInfo("min_dim_keep", lambda m, a: m.min(a, 0, keepdim=True)[0],
           [(A(()),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),)],
           skip_kinds={"broadcast": "unary"}, bad_see="max_dim"),
    OpInfo("matmul", lambda m, a, b: a @ b,
           [(A((3,)), A((3,))), (A((3, 5)), A((5, 4))), (A((3, 5)), A((2, 5, 4))),
            (A((3, 5), T=True), A((5,))), (A((3,)), A((2, 3, 4))), (A((2, 1, 3, 4)),
                                                                    A((5, 4, 2)))],
           skip_kinds={"0d": "matmul needs at least 1-D operands"},
           bad=[Bad(lambda m, a, b: a @ b, A((2, 3)), A((4, 5)), exc=RuntimeError),
                Bad(lambda m, a, b: a @ b, A(()), A((3,)), exc=RuntimeError)]),
    OpInfo("mm", lambda m, a, b: m.mm(a, b),
           [(A((1, 1)), A((1, 1))), (A((3, 5)), A((5, 4))), (A((3, 5), T=True), A((5, 2))),
            (A((2, 3)), A((3, 4), T=True))],
           skip_kinds={"0d": "matrices only", "broadcast": "mm does not broadcast"},
           bad=[Bad(lambda m, a, b: m.mm(a, b), A((3,)), A((3, 2)), exc=RuntimeError)]),
    OpInfo("bmm", lambda m, a, b: m.bmm(a, b),
           [(A((2, 3, 5)), A((2, 5, 4))), (A((1, 1, 1)), A((1, 1, 1))),
            (A((2, 3, 4), T=True), A((2, 4, 5))), (A((3, 2, 4)), A((3, 4, 1)))],
           skip_kinds={"0d": "3-D only", "broadcast": "bmm does not broadcast"},
           bad=[Bad(lambda m, a, b: m.bmm(a, b), A((2, 3, 4)), A((3, 4, 5)),
                    exc=RuntimeError)]),
    OpInfo("mv", lambda m, a, b: m.mv(a, b),
           [(A((3, 5)), A((5,))), (A((1, 1)), A((1,))), (A((3, 5), T=True), A((5,))),
            (A((2, 4)), A((4,)))], skip_kinds={"0d": "matrix-vector", "broadcast": "no"},
           bad=[Bad(lambda m, a, b: m.mv(a, b), A((2, 3)), A((2,)), exc=RuntimeError)]),
    OpInfo("dot", lambda m, a, b: m.dot(a, b),
           [(A((3,)), A((3,))), (A((1,)), A((1,))), (A((7,)), A((7,))), (A((2,)), A((2,)))],
           skip_kinds={"0d": "1-D only", "broadcast": "no broadcasting", "T": "1-D only",
                       "odd": "1-D only"},
           bad=[Bad(lambda m, a, b: m.dot(a, b), A((2, 2)), A((2, 2)), exc=RuntimeError)]),
    OpInfo("reshape", lambda m, a: a.reshape(-1, 3),
           [(A((3,)),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 2)),)],
           skip_kinds={"0d": "0-d has 1 element", "broadcast": "unary"},
           bad=[Bad(lambda m, a: a.reshape(4, 4), A((3, 5)), exc=RuntimeError)]),
    OpInfo("view", lambda m, a: a.view(15), [(A((15,)),), (A((3, 5)),), (A((5, 3)),),
                                             (A((1, 3, 5)),)],
           skip_kinds={"0d": "size 1", "broadcast": "unary", "T": "view needs contiguity"},
           bad=[Bad(lambda m, a: a.t().view(15), A((3, 5)), exc=RuntimeError)]),
    OpInfo("transpose", lambda m, a: a.transpose(0, -1),
           [(A((3,)),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),)],
           skip_kinds={"0d": "no dims", "broadcast": "unary"},
           bad=[Bad(lambda m, a: a.transpose(0, 3), A((2, 3)), exc=IndexError)]),
    OpInfo("permute", lambda m, a: a.permute(2, 0, 1),
           [(A((2, 3, 4)),), (A((3, 5, 1)),), (A((4, 3, 2), T=True),), (A((1, 1, 2)),)],
           skip_kinds={"0d": "3-D", "broadcast": "unary"},
           bad=[Bad(lambda m, a: a.permute(0, 0, 1), A((2, 3, 4)), exc=RuntimeError)]),
    OpInfo("t", lambda m, a: a.t() * 1, [(A((3,)),), (A((3, 5)),), (A((3, 5), T=True),),
                                         (A((1, 4)),)],
           skip_kinds={"0d": "t of 0-d is itself", "broadcast": "unary"},
           bad=[Bad(lambda m, a: a.t(), A((2, 3, 4)), exc=RuntimeError)]),
    OpInfo("mT", lambda m, a: a.mT, [(A((2, 3, 4)),), (A((3, 5)),), (A((3, 5), T=True),),
                                     (A((1, 4)),)],
           skip_kinds={"0d": "needs 2 dims", "broadcast": "unary"}, bad_see="transpose"),
    OpInfo("expand", lambda m, a: a.expand(2, 3, 5),
           [(A(()),), (A((3, 5)),), (A((5, 1)), ) if False else (A((3, 1)),),
            (A((3, 5), T=True),)], skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, a: a.expand(3, 4), A((2, 4)), exc=RuntimeError)]),
    OpInfo("squeeze", lambda m, a: a.squeeze(), [(A(()),), (A((3, 1, 5)),),
                                                 (A((5, 1, 3), T=True),), (A((1, 4)),)],
           skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, a: a.squeeze(3), A((2, 3)), exc=IndexError)]),
    OpInfo("squeeze_dim", lambda m, a: a.squeeze(1), [(A((2, 1)),), (A((3, 1, 5)),),
                                                      (A((5, 1, 3), T=True),), (A((3, 4)),)],
           skip_kinds={"broadcast": "unary", "0d": "no dim 1"}, bad_see="squeeze"),
    OpInfo("unsqueeze", lambda m, a: a.unsqueeze(-1), [(A(()),), (A((3, 5)),),
                                                       (A((3, 5), T=True),), (A((4,)),)],
           skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m, a: a.unsqueeze(4), A((2, 3)), exc=IndexError)]),
    OpInfo("getitem_basic", lambda m, a: a[1:, ::2],
           [(A((3, 5)),), (A((2, 2)),), (A((3, 5), T=True),), (A((4, 6, 2)),)],
           skip_kinds={"0d": "0-d cannot be sliced", "broadcast": "unary"},
           bad=[Bad(lambda m, a: a[5], A((3, 2)), exc=IndexError)]),
    OpInfo("getitem_int", lambda m, a: a[1], [(A((3,)),), (A((3, 5)),), (A((3, 5), T=True),),
                                              (A((2, 3, 4)),)],
           skip_kinds={"0d": "0-d has no index", "broadcast": "unary"}, bad_see="getitem_basic"),
    OpInfo("getitem_none_ellipsis", lambda m, a: a[None, ..., 0],
           [(A((3,)),), (A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),)],
           skip_kinds={"0d": "0-d has no index", "broadcast": "unary"}, bad_see="getitem_basic"),
    OpInfo("getitem_adv", lambda m, a, i: a[i],
           [(A((4,)), I([0, 2, 2, 3])), (A((3, 5)), I([[0, 1], [2, 2]])),
            (A((3, 5), T=True), I([1, 1, 0])), (A((4, 2, 3)), I([3, 0]))],
           skip_kinds={"0d": "0-d has no index", "broadcast": "unary"},
           bad=[Bad(lambda m, a, i: a[i], A((3,)), I([0, 5]), exc=IndexError)]),
    OpInfo("getitem_mask", lambda m, a, b: a[b],
           [(A(()), B((), values=True)), (A((3, 5)), B((3, 5))), (A((3, 5), T=True), B((3,))),
            (A((3, 2)), B((3, 2), values=[[1, 0], [0, 0], [1, 1]]))],
           skip_kinds={"broadcast": "mask shapes match"}, bad_see="getitem_adv"),
    OpInfo("getitem_mixed", lambda m, a, i: a[1:, i, None],
           [(A((3, 4)), I([0, 3])), (A((3, 5)), I([4, 4, 0])), (A((3, 5), T=True), I([1])),
            (A((2, 3, 4)), I([[0], [2]]))],
           skip_kinds={"0d": "needs dims", "broadcast": "unary"}, bad_see="getitem_adv"),
    OpInfo("setitem", lambda m, a, v: _setitem(a, v),
           [(A((3, 5)), A(())), (A((3, 5)), A((5,))), (A((3, 5), T=True), A((1,))),
            (A((4, 5)), A((1, 5)))], skip_kinds={"0d": "the target needs rows"},
           bad=[Bad(lambda m, a, v: _setitem(a, v), A((3, 5)), A((4,)))]),
    OpInfo("setitem_adv", lambda m, a, v, i: _setitem_adv(a, v, i),
           [(A((4, 5)), A(()), I([0, 2])), (A((3, 5)), A((5,)), I([1])),
            (A((3, 5), T=True), A((2, 1)), I([2, 0])), (A((4, 5)), A((3, 5)), I([0, 1, 3]))],
           skip_kinds={"0d": "the target needs rows"}, bad_see="setitem"),
    OpInfo("clone", lambda m, a: a.clone(), U, skip_kinds={"broadcast": "unary"},
           bad=[Bad(lambda m: m.clone([1.0]), exc=TypeError)]),
    OpInfo("to_float32", lambda m, a: a.to(m.float32), U, skip_kinds={"broadcast": "unary"},
           eps=1e-3, atol=1e-3, rtol=1e-3,
           bad=[Bad(lambda m, a: a.to("bogus"), A((2,)))]),
    OpInfo("copy_", lambda m, a, b: _copy(a, b), BIN[:4],
           bad=[Bad(lambda m, a, b: a.copy_(b), A((2, 3), grad=False), A((4,)), exc=RuntimeError)]),
    OpInfo("inplace_add", lambda m, a, b: _inplace(a, b, "add_"), BIN[:4],
           bad=[Bad(lambda m, a, b: a.add_(b), A((2, 1)), A((3,)), exc=RuntimeError)]),
    OpInfo("inplace_mul", lambda m, a, b: _inplace(a, b, "mul_"), BIN[:4],
           bad=[Bad(lambda m, a, b: a.mul_(b), A((2, 1), grad=False), A((3,)), exc=RuntimeError)]),
    OpInfo("inplace_view", lambda m, a, b: _inplace_view(a, b),
           [(A((3, 5)), A(())), (A((3, 5)), A((5,))), (A((3, 5), T=True), A((5,))),
            (A((2, 5)), A((1, 5)))], skip_kinds={"0d": "needs rows"}, bad_see="inplace_add"),
    OpInfo("inplace_exp_sigmoid", lambda m, a: _chain_inplace(a), U,
           skip_kinds={"broadcast": "unary"}, bad_see="inplace_add"),
]


def _setitem(a, v):
    y = a * 1
    y[1] = v
    return y


def _setitem_adv(a, v, i):
    y = a * 2
    y[i] = v * 3
    return y


def _copy(a, b):
    y = a * 2
    y.copy_(b)
    return y * a


def _inplace(a, b, op):
    y = a * 1
    getattr(y, op)(b)
    return y


def _inplace_view(a, b):
    y = a * 1
    y[1:].mul_(b)
    return y


def _chain_inplace(a):
    y = a * 1
    y.exp_()
    return y * 2
