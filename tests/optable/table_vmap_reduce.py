"""Order statistics and gathers under vmap: the indices are computed per batch entry and the
values gathered by one primitive with a batched index (TakeAlongT, adjoint PutAlongT), whose
gradients, double backward and JVP the runner checks through the vmap."""
from .spec import A, Bad, I, OpInfo

# a vmapped input needs a batch dim, so no sample is 0-d (a 0-d per-sample input is a (3,) one)
NO0D = {"0d": "vmap maps over a batch dim: the per-sample 0-d case is the (3,) sample"}
ONE = dict(NO0D, broadcast="one input mapped over")


def _vsort(m, x):
    # squared: the gradient depends on x, so the double backward records PutAlongT
    return m.func.vmap(lambda t: m.sort(t, -1, descending=True).values ** 2)(x)


def _vmedian(m, x):
    return m.func.vmap(lambda t: m.median(t) + m.median(t, 0).values.sum())(x)


def _vmedian_0d(m, x):
    return m.func.vmap(lambda t: m.median(t) * 2)(x)


def _vtake(m, x, y):
    return m.func.vmap(lambda a, b: m.take_along_dim(a * b, b.argsort(-1), -1),
                       in_dims=(0, None))(x, y)


def _vgather_index(m, x, i):
    return m.func.vmap(lambda j: x.gather(0, j))(i)


def _vscatter_add(m, x, y):
    return m.func.vmap(lambda a: y.scatter_add(0, a.argsort(0), a * a))(x)


def _vscatter(m, x, y):
    return m.func.vmap(lambda a: y.scatter(1, a.argsort(1)[:, :2], a[:, 1:3] ** 2))(x)


def _vscatter_reduce(m, x):
    return m.func.vmap(lambda a: a.scatter_reduce(0, a.argsort(0)[:2], a[:2] * 2, "prod"))(x)


OPS = [
    OpInfo("vmap_sort", _vsort, [(A((3, 5)),), (A((4, 3), T=True),), (A((2, 3, 4)),),
                                 (A((3,)),)],
           skip_kinds=ONE,
           bad=[Bad(lambda m, x: m.func.vmap(lambda t: m.sort(t, 2))(x), A((3, 4)),
                    exc=IndexError)]),
    OpInfo("vmap_median", _vmedian, [(A((3, 5)),), (A((4, 3), T=True),), (A((2, 3, 4)),)],
           skip_kinds=ONE,
           bad=[Bad(lambda m, x: m.func.vmap(lambda t: m.median(t, 1))(x), A((3, 4)),
                    exc=IndexError)]),
    OpInfo("vmap_median_0d", _vmedian_0d, [(A((3,)),), (A((2, 3)),), (A((3, 2), T=True),)],
           skip_kinds=ONE, bad_see="vmap_median"),
    OpInfo("vmap_take_along_dim", _vtake, [(A((3, 4)), A((4,))), (A((2, 3, 4), T=True),
                                                                   A((3, 4)))],
           skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.func.vmap(lambda t: m.take_along_dim(t, t.argsort(0), 2))(x),
                    A((3, 4)), exc=IndexError)]),
    OpInfo("vmap_gather_batched_index", _vgather_index,
           [(A((3, 4)), I((2, 2, 4), 3)), (A((4, 3), T=True), I((3, 2, 3), 3))],
           skip_kinds={"0d": NO0D["0d"], "broadcast": "the index is the mapped input"},
           bad=[Bad(lambda m, x, i: m.func.vmap(lambda j: x.gather(0, j))(i), A((3, 4)),
                    I([[[0, 5, 1, 1]]]), exc=RuntimeError)]),
    OpInfo("vmap_scatter_add_batched_index", _vscatter_add,
           [(A((2, 3, 4)), A((3, 4))), (A((2, 4, 3), T=True), A((4, 3)))], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.func.vmap(lambda a: a.scatter_add(0, a.argsort(0), a[:1]))(x),
                    A((2, 3, 4)), exc=RuntimeError)]),
    OpInfo("vmap_scatter_batched_index", _vscatter,
           [(A((2, 3, 4)), A((3, 4))), (A((2, 4, 3), T=True), A((4, 3)))], skip_kinds=NO0D,
           bad=[Bad(lambda m, x: m.func.vmap(lambda a: a.scatter(2, a.argsort(0), a))(x),
                    A((2, 3, 4)), exc=IndexError)]),
    OpInfo("vmap_scatter_reduce_batched_index", _vscatter_reduce,
           [(A((2, 3, 4), 0.5, 2.0),), (A((2, 4, 3), 0.5, 2.0, T=True),)], skip_kinds=ONE,
           bad=[Bad(lambda m, x: m.func.vmap(lambda a: a.scatter_reduce(
               0, a.argsort(0), a, "max_abs"))(x), A((2, 3, 4)), exc=RuntimeError)]),
]
