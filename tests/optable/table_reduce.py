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


NAN = float("nan")
INF = float("inf")
WITH_NAN = (A((2, 3), values=[[1.0, NAN, 3.0], [NAN, -1.0, 0.5]]),)


def _vals(m, r):
    return r.values * 1.0 + r.indices


def _has_svdvals():
    import chainrule
    return hasattr(chainrule.linalg, "svdvals")


OPS += [
    OpInfo("cummax", lambda m, x: _vals(m, m.cummax(x, -1)), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.cummax(x, 2), A((2, 2)), exc=IndexError)]),
    OpInfo("cummin", lambda m, x: _vals(m, x.cummin(0)), D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: x.cummin(-3), A((2, 2)), exc=IndexError)]),
    OpInfo("median", lambda m, x: m.median(x), U + [(A((4,)),)], skip_kinds=UNARY,
           bad=[Bad(lambda m: m.median([1.0]), exc=TypeError)]),
    OpInfo("median_dim", lambda m, x: _vals(m, m.median(x, 1, keepdim=True)),
           D2[1:] + [(A((2, 1)),)], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.median(x, 1), A((2, 0)), exc=IndexError)]),
    OpInfo("nanmedian", lambda m, x: m.nanmedian(x) + x.nanmedian(0).values.sum(),
           D2[1:] + [WITH_NAN, (A((4,)),)], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.nanmedian(x, 2), A((2, 2)), exc=IndexError)]),
    OpInfo("mode", lambda m, x: m.mode(x).values ** 2, U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.mode(x), A((0,)), exc=IndexError)]),
    OpInfo("mode_dim", lambda m, x: _vals(m, x.mode(0, True)), D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: x.mode(2), A((2, 2)), exc=IndexError)]),
    OpInfo("count_nonzero", lambda m, x: (m.count_nonzero(x > 0), x.gt(0).count_nonzero((0, 1))),
           D2[1:] + [(A((2, 1)),)], grad=False, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.count_nonzero(x, 3), A((2, 2)), exc=IndexError)]),
    OpInfo("aminmax", lambda m, x: m.aminmax(x, dim=1), D2[1:] + [(A((2, 1)),)],
           skip_kinds=NO0D, bad=[Bad(lambda m, x: m.aminmax(x), A((0,)), exc=RuntimeError)]),
    OpInfo("aminmax_all", lambda m, x: x.aminmax(), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.aminmax(x, dim=1), A((2, 0)), exc=IndexError)]),
    OpInfo("nansum", lambda m, x: m.nansum(x) + x.nansum(-1).sum(), D2[1:] + [WITH_NAN],
           skip_kinds=NO0D, bad=[Bad(lambda m, x: m.nansum(x, 3), A((2, 2)), exc=IndexError)]),
    OpInfo("nanmean", lambda m, x: m.nanmean(x, 0) + x.nanmean(), D2[1:] + [WITH_NAN],
           skip_kinds=NO0D,
           bad=[Bad(lambda m, i: m.nanmean(i), I([1, 2]), exc=RuntimeError)]),
    OpInfo("quantile", lambda m, x: m.quantile(x, 0.3), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: m.quantile(x, 1.5), A((3,)), exc=RuntimeError),
                Bad(lambda m, i: m.quantile(i, 0.5), I([1, 2]), exc=RuntimeError),
                Bad(lambda m, x: m.quantile(x, 0.5, interpolation="x"), A((3,)),
                    exc=RuntimeError),
                Bad(lambda m, x: m.quantile(x, 0.5), A((0,)), exc=RuntimeError)]),
    OpInfo("quantile_q_tensor", lambda m, x: x.quantile(m.tensor([0.0, 0.25, 0.6, 1.0],
                                                                  dtype=x.dtype), 1, True),
           D2[1:] + [(A((2, 1)),)], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.quantile(x, m.tensor([[0.5]])), A((3,)), exc=RuntimeError),
                Bad(lambda m, x: m.quantile(x, m.tensor([0.5], dtype=m.float32)), A((3,)),
                    exc=RuntimeError)]),
    OpInfo("quantile_interp", lambda m, x: sum(m.quantile(x, 0.4, 0, interpolation=k) for k in
                                               ("lower", "higher", "midpoint", "nearest")),
           D2, skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.quantile(x, -0.1), A((3,)), exc=RuntimeError)]),
    OpInfo("nanquantile", lambda m, x: m.nanquantile(x, 0.7, -1) + x.nanquantile(0.2),
           D2[1:] + [WITH_NAN], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.nanquantile(x, 2.0), A((3,)), exc=RuntimeError)]),
    OpInfo("norm", lambda m, x: m.norm(x), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, i: m.norm(i), I([1, 2]), exc=RuntimeError)]),
    OpInfo("norm_p_dim", lambda m, x: x.norm(3, 1) + m.norm(x, 1, (0, 1), keepdim=True) +
           m.norm(x, float("inf"), 1) + m.norm(x, 0.5, 1) + m.norm(x, "fro", (0, 1)),
           D2[1:] + [(A((2, 1)),)], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.norm(x, "bad"), A((2, 2)), exc=RuntimeError)]),
    OpInfo("vector_norm", lambda m, x: _vn(m)(x) + _vn(m)(x, 1), U, skip_kinds=UNARY,
           bad=[Bad(lambda m, x: _vn(m)(x, "fro"), A((2,)), exc=TypeError)]),
    OpInfo("vector_norm_ords", lambda m, x: sum(_vn(m)(x, o, -1, True) for o in
                                                (2, 3, -1, 0.5, 0, INF, -INF)),
           D2[1:] + [(A((2, 1)),)], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: _vn(m)(x, INF), A((0,)), exc=RuntimeError),
                Bad(lambda m, i: _vn(m)(i), I([1]), exc=RuntimeError)]),
    OpInfo("vector_norm_dtype", lambda m, x: _vn(m)(x.float(), dim=(0, 1), dtype=m.float64),
           D2[1:] + [(A((2, 1)),)], skip_kinds=NO0D, eps=1e-3, atol=1e-3,
           bad=[Bad(lambda m, x: _vn(m)(x, 2, 3), A((2,)), exc=IndexError),
                Bad(lambda m, x: _vn(m)(x, dtype=m.float32), A((2,)), exc=RuntimeError)]),
    OpInfo("matrix_norm", lambda m, x: sum(_mn(m)(x, o) for o in ("fro", 1, -1, INF, -INF)),
           [(A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),), (A((1, 1)),)],
           skip_kinds={"0d": "matrices only", "broadcast": "unary"},
           bad=[Bad(lambda m, x: _mn(m)(x), A((3,)), exc=RuntimeError),
                Bad(lambda m, x: _mn(m)(x, 3), A((2, 2)), exc=RuntimeError),
                Bad(lambda m, x: _mn(m)(x, dim=(0, 0)), A((2, 2)), exc=RuntimeError)]),
    OpInfo("matrix_norm_dims", lambda m, x: _mn(m)(x, 1, (2, 0), keepdim=True) +
           _mn(m)(x, -INF, (0, -1), True),
           [(A((2, 3, 4)),), (A((4, 3, 2), T=True),), (A((3, 1, 2)),), (A((2, 2, 2)),)],
           skip_kinds={"0d": "matrices only", "broadcast": "unary"},
           bad=[Bad(lambda m, x: _mn(m)(x, "bad"), A((2, 2)), exc=RuntimeError)]),
]
if _has_svdvals():
    OPS += [
        OpInfo("matrix_norm_svd", lambda m, x: sum(_mn(m)(x, o) for o in ("nuc", 2, -2)) +
               (m.norm(x, "nuc") if x.dim() == 2 else 0),
               [(A((3, 5)),), (A((3, 5), T=True),), (A((2, 3, 4)),), (A((2, 2)),)],
               skip_kinds={"0d": "matrices only", "broadcast": "unary"},
               bad=[Bad(lambda m, x: _mn(m)(x, "nuc"), A((3,)), exc=RuntimeError)]),
    ]


def _vn(m):
    """torch.linalg.vector_norm; chainrule's lives at the top level until linalg re-exports
    it."""
    return getattr(m.linalg, "vector_norm", None) or m.functional_ops.vector_norm


def _mn(m):
    return getattr(m.linalg, "matrix_norm", None) or m.functional_ops.matrix_norm


def _ip(x, name, *args, **kw):
    y = x * 1.5
    getattr(y, name)(*args, **kw)
    return y * x
