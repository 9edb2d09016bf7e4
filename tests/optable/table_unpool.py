"""max_unpool1d/2d/3d (chainrule.nn.functional): a scatter of the values to their indices.
The indices are distinct per plane (torch leaves the winner of a repeated index unspecified)."""
import numpy as np

from .spec import A, Bad, I, OpInfo


def F(m):
    return m.nn.functional


def _ix(shape, plane, nsp, seed=0):
    """Distinct flat positions in [0, plane) for each plane (the last nsp dims) of an input of
    ``shape``."""
    rng = np.random.default_rng(seed)
    sp = int(np.prod(shape[len(shape) - nsp:]))
    planes = int(np.prod(shape)) // sp
    vals = np.stack([rng.choice(plane, sp, replace=False) for _ in range(planes)])
    return I(vals.reshape(shape).tolist())


SKIP = {"0d": "needs (C, *spatial) input", "broadcast": "one float input; the indices match it"}


def _u1(m, x, i, k, s, p, o):
    return F(m).max_unpool1d(x, i, k, s, p, o)


def _u2(m, x, i, k, s, p, o):
    return F(m).max_unpool2d(x, i, k, s, p, o)


def _u3(m, x, i, k, s, p, o):
    return F(m).max_unpool3d(x, i, k, s, p, o)


OPS = [
    OpInfo("max_unpool2d", _u2,
           [(A((1, 2, 2, 3)), _ix((1, 2, 2, 3), 24, 2), 2, None, 0, None),
            (A((2, 3, 2), T=True), _ix((2, 3, 2), 24, 2, 1), 2, None, 0, None),
            (A((2, 1, 2, 2)), _ix((2, 1, 2, 2), 12, 2, 2), 3, 2, 1, (2, 1, 4, 3))],
           skip_kinds=SKIP,
           bad=[Bad(lambda m, x, i: F(m).max_unpool2d(x, i, 2, output_size=(6, 4)),
                    A((1, 1, 2, 2)), I([[[[0, 1], [2, 3]]]]), exc=ValueError),
                Bad(lambda m, x, i: F(m).max_unpool2d(x, i, 2), A((1, 1, 2, 2)),
                    I([[[[0, 1], [2, 16]]]]), exc=RuntimeError),
                Bad(lambda m, x, i: F(m).max_unpool2d(x, i.int(), 2), A((1, 1, 2, 2)),
                    I([[[[0, 1], [2, 3]]]]), exc=RuntimeError),
                Bad(lambda m, x, i: F(m).max_unpool2d(x, i, 2), A((1, 1, 2, 2)),
                    I([[[[0, 1]]]]), exc=RuntimeError)]),
    OpInfo("max_unpool1d", _u1,
           [(A((1, 3, 3)), _ix((1, 3, 3), 7, 1, 3), 2, 2, 0, [7]),
            (A((2, 4)), _ix((2, 4), 8, 1, 4), 2, None, 0, None),
            (A((3, 2), T=True), _ix((3, 2), 2, 1, 5), 3, 1, 1, None)],
           skip_kinds=SKIP,
           bad=[Bad(lambda m, x, i: F(m).max_unpool1d(x, i, 2, output_size=[1, 2, 3, 4]),
                    A((1, 2)), I([[0, 1]]), exc=ValueError),
                Bad(lambda m, x, i: F(m).max_unpool1d(x, i, 2), A((1, 1, 1, 2)),
                    I([[[[0, 1]]]]), exc=RuntimeError)]),
    OpInfo("max_unpool3d", _u3,
           [(A((1, 1, 2, 2, 3)), _ix((1, 1, 2, 2, 3), 48, 3, 6), (1, 2, 2), None, 0, None),
            (A((2, 1, 2, 2), T=True), _ix((2, 1, 2, 2), 16, 3, 7), 2, None, 0, None),
            (A((1, 2, 1, 2, 2)), _ix((1, 2, 1, 2, 2), 9, 3, 8), 2, 2, 0, (1, 3, 3))],
           skip_kinds=SKIP,
           bad=[Bad(lambda m, x, i: F(m).max_unpool3d(x, i, 2), A((1, 2, 2)),
                    I([[[0, 1], [2, 3]]]), exc=RuntimeError),
                Bad(lambda m, x, i: F(m).max_unpool3d(x, i, 2), A((1, 1, 1, 1, 2)),
                    I([[[[[0, 16]]]]]), exc=RuntimeError)]),
]
