"""Issue 3, part B: linear algebra (einsum and products, decompositions, solvers)."""
from .spec import A, Bad, OpInfo

SQ = "matrices only"
ONE = "one matrix input"


def _shift(m, a, c=4.0):
    """a + c * I: well conditioned for inv / solve / det samples."""
    return a + c * m.eye(a.shape[-1], dtype=a.dtype)


def _spd(m, a):
    """A symmetric positive-definite matrix built from any square a."""
    return a @ a.mT + _shift(m, a * 0, 2.0)


def _sym(m, a):
    return a + a.mT


def _svd_inv(m, a, full):
    """Values and a sign-free (gauge-invariant) function of U and Vh: sum_i w_i u_i vh_i."""
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    w = m.arange(1, k + 1, dtype=a.dtype)
    return s, (u[..., :, :k] * w) @ vh[..., :k, :]


def _eigh_inv(m, a):
    w, q = m.linalg.eigh(_sym(m, a))
    c = m.arange(1, w.shape[-1] + 1, dtype=a.dtype)
    return w, (q * c) @ q.mT


MATS = [(A((3, 3)),), (A((2, 3, 3)),), (A((3, 3), T=True),), (A((1, 2, 2)),)]
RECT = [(A((3, 5)),), (A((5, 3)),), (A((2, 4, 3), T=True),), (A((3, 3)),)]
BAD_SQ = [Bad(lambda m, a: m.linalg.inv(a), A((2, 3)), exc=RuntimeError)]

OPS = [
    OpInfo("einsum_matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b),
           [(A((3, 5)), A((5, 2))), (A((1, 4)), A((4, 3), T=True)), (A((2, 1)), A((1, 3)))],
           skip_kinds={"0d": "subscripts need dims"},
           bad=[Bad(lambda m, a, b: m.einsum("ij,jk->ik", a, b), A((2, 3)), A((2, 3)),
                    exc=RuntimeError),
                Bad(lambda m, a: m.einsum("ij->ij", a, a), A((2, 3)), exc=RuntimeError)]),
    OpInfo("einsum_diag", lambda m, a: m.einsum("ii->i", a),
           [(A((3, 3)),), (A((4, 4), T=True),), (A((1, 1)),)],
           skip_kinds={"0d": "needs a square", "odd": "square", "broadcast": ONE},
           bad=[Bad(lambda m, a: m.einsum("ii->i", a), A((2, 3)), exc=RuntimeError)]),
    OpInfo("einsum_trace", lambda m, a: m.einsum("ii", a),
           [(A((3, 3)),), (A((4, 4), T=True),)],
           skip_kinds={"0d": "square", "odd": "square", "broadcast": ONE}, bad_see="einsum_matmul"),
    OpInfo("einsum_batch_ellipsis", lambda m, a, b: m.einsum("...ij,...jk", a, b),
           [(A((2, 3, 4)), A((2, 4, 5))), (A((3, 4)), A((2, 1, 4, 2))),
            (A((2, 1, 3, 4), T=True), A((3, 4, 2))), (A((1, 1)), A((1, 1)))],
           skip_kinds={"0d": "matrices"}, bad_see="einsum_matmul"),
    OpInfo("einsum_broadcast_label", lambda m, a, b: m.einsum("bij,bjk->bik", a, b),
           [(A((1, 3, 4)), A((2, 4, 5))), (A((2, 3, 4), T=True), A((1, 4, 2)))],
           skip_kinds={"0d": "matrices"}, bad_see="einsum_matmul"),
    OpInfo("einsum_three_repeated", lambda m, a, b, c: m.einsum("iij,jk,k->ik", a, b, c),
           [(A((3, 3, 4)), A((4, 2)), A((2,))), (A((2, 2, 3), T=True), A((3, 5)), A((5,))),
            (A((1, 1, 1)), A((1, 1)), A((1,)))],
           skip_kinds={"0d": "needs dims"}, bad_see="einsum_matmul"),
    OpInfo("einsum_scalar_and_sum", lambda m, a, b: m.einsum(",ij->j", a, b),
           [(A(()), A((3, 5))), (A(()), A((3, 5), T=True)), (A(()), A((2, 1)))],
           bad_see="einsum_matmul"),
    OpInfo("einsum_sublist", lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [2, 0]),
           [(A((3, 5)), A((5, 2))), (A((3, 5), T=True), A((5, 1))), (A((1, 1)), A((1, 4)))],
           skip_kinds={"0d": "needs dims"}, bad_see="einsum_matmul"),
    OpInfo("tensordot", lambda m, a, b, d: m.tensordot(a, b, d),
           [(A((2, 3, 4)), A((3, 4, 5)), 2), (A((3, 5)), A((2, 3)), ([0], [1])),
            (A((3, 5), T=True), A((5,)), 1), (A(()), A((2,)), 0)],
           bad=[Bad(lambda m, a, b: m.tensordot(a, b, 1), A((2, 3)), A((2, 3)),
                    exc=RuntimeError)]),
    OpInfo("outer", lambda m, a, b: m.outer(a, b), [(A((3,)), A((5,))), (A((1,)), A((4,)))],
           skip_kinds={"0d": "1-D only", "T": "1-D only", "odd": "1-D only"},
           bad=[Bad(lambda m, a, b: m.outer(a, b), A((2, 2)), A((2,)), exc=RuntimeError)]),
    OpInfo("inner", lambda m, a, b: m.inner(a, b),
           [(A(()), A((3, 5))), (A((3, 5)), A((2, 5))), (A((3, 5), T=True), A((5,))),
            (A((4,)), A((4,)))],
           bad=[Bad(lambda m, a, b: m.inner(a, b), A((2, 3)), A((2, 2)), exc=RuntimeError)]),
    OpInfo("kron", lambda m, a, b: m.kron(a, b),
           [(A(()), A((2, 3))), (A((3, 5)), A((2, 2))), (A((3, 5), T=True), A((2, 2), T=True)),
            (A((2, 1, 2)), A((3, 2)))],
           bad=[Bad(lambda m, a: m.kron(a, 3), A((2,)), exc=TypeError)]),
    OpInfo("cross", lambda m, a, b: m.cross(a, b, dim=0),
           [(A((3,)), A((3,))), (A((3, 5)), A((3, 5))), (A((3, 5), T=True), A((3, 1)))],
           skip_kinds={"0d": "3-vectors"},
           bad=[Bad(lambda m, a, b: m.cross(a, b, dim=0), A((2, 3)), A((2, 3)),
                    exc=RuntimeError)]),
    OpInfo("linalg_cross", lambda m, a, b: m.linalg.cross(a, b),
           [(A((1, 3)), A((2, 3))), (A((5, 3)), A((5, 3))), (A((5, 3), T=True), A((1, 3)))],
           skip_kinds={"0d": "3-vectors"},
           bad=[Bad(lambda m, a, b: m.linalg.cross(a, b), A((3, 2)), A((3, 2)),
                    exc=RuntimeError)]),
    OpInfo("trace", lambda m, a: m.trace(a), [(A((3, 5)),), (A((3, 5), T=True),), (A((1, 1)),)],
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.trace(a), A((2, 2, 2)), exc=RuntimeError)]),
    OpInfo("inv", lambda m, a: m.linalg.inv(_shift(m, a)), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=BAD_SQ + [Bad(lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.int64)),
                             exc=RuntimeError)]),
    OpInfo("inverse", lambda m, a: m.inverse(_shift(m, a)), MATS[:3],
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="inv"),
    OpInfo("det", lambda m, a: m.det(a), MATS + [(A((4, 4)),)],
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.det(a), A((2, 3)), exc=RuntimeError)]),
    OpInfo("linalg_det", lambda m, a: m.linalg.det(a), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="det"),
    # rank n - 1 (one zero singular value): the gradient is the cofactor matrix
    OpInfo("det_singular", lambda m, a: m.det(a.mT @ a),
           [(A((1, 2)),), (A((2, 3)),), (A((2, 3, 4), T=True),)],
           skip_kinds={"0d": SQ, "broadcast": ONE}, atol=1e-4, bad_see="det"),
    OpInfo("slogdet", lambda m, a: m.linalg.slogdet(_shift(m, a, 1.0)), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.linalg.slogdet(a), A((3,)), exc=RuntimeError)]),
    OpInfo("logdet", lambda m, a: m.logdet(_spd(m, a)), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="slogdet"),
    OpInfo("solve", lambda m, a, b: m.linalg.solve(_shift(m, a), b),
           [(A((3, 3)), A((3, 2))), (A((2, 3, 3)), A((3,))), (A((3, 3), T=True), A((2, 3, 1))),
            (A((2, 3, 3)), A((2, 3)))],
           skip_kinds={"0d": SQ},
           bad=[Bad(lambda m, a, b: m.linalg.solve(a, b), A((3, 3)), A((2, 2)),
                    exc=RuntimeError),
                Bad(lambda m, a, b: m.linalg.solve(a, b), A((2, 2)), A((3,)),
                    exc=RuntimeError)]),
    OpInfo("solve_right", lambda m, a, b: m.linalg.solve(_shift(m, a), b, left=False),
           [(A((3, 3)), A((2, 3))), (A((2, 3, 3), T=True), A((4, 3)))],
           skip_kinds={"0d": SQ}, bad_see="solve"),
    OpInfo("solve_triangular", lambda m, a, b: m.linalg.solve_triangular(
        _shift(m, a), b, upper=True), [(A((3, 3)), A((3, 2))), (A((2, 3, 3), T=True),
                                                               A((3, 1)))],
           skip_kinds={"0d": SQ}, bad_see="solve"),
    OpInfo("cholesky", lambda m, a: m.linalg.cholesky(_spd(m, a)), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.linalg.cholesky(a), A((2, 3)), exc=RuntimeError)]),
    OpInfo("cholesky_upper", lambda m, a: m.cholesky(_spd(m, a), upper=True), MATS[:3],
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="cholesky"),
    OpInfo("cholesky_solve", lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(
        _spd(m, a))), [(A((3, 3)), A((3, 2))), (A((2, 3, 3), T=True), A((3, 1)))],
           skip_kinds={"0d": SQ}, bad_see="cholesky"),
    OpInfo("qr", lambda m, a: m.linalg.qr(a), RECT, skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.linalg.qr(a, mode="x"), A((2, 2)), exc=RuntimeError)]),
    OpInfo("qr_complete_wide", lambda m, a: m.linalg.qr(a, mode="complete"),
           [(A((2, 4)),), (A((3, 3), T=True),), (A((2, 2, 3)),)],
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="qr"),
    OpInfo("qr_some", lambda m, a: m.qr(a), RECT[:3], skip_kinds={"0d": SQ, "broadcast": ONE},
           bad_see="qr"),
    OpInfo("svd", lambda m, a: _svd_inv(m, a, False), RECT,
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m: m.linalg.svd(m.ones(2, 2, dtype=m.int64)), exc=RuntimeError)]),
    OpInfo("svd_full", lambda m, a: _svd_inv(m, a, True), RECT,
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="svd"),
    OpInfo("torch_svd", lambda m, a: _torch_svd(m, a), RECT,
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="svd"),
    OpInfo("svdvals", lambda m, a: m.linalg.svdvals(a), RECT,
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="svd"),
    OpInfo("eigh", lambda m, a: _eigh_inv(m, a), MATS, skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.linalg.eigh(a), A((2, 3)), exc=RuntimeError)]),
    OpInfo("eigh_upper", lambda m, a: m.linalg.eigh(_sym(m, a), UPLO="U")[0], MATS[:3],
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="eigh"),
    OpInfo("eigvalsh", lambda m, a: m.linalg.eigvalsh(_sym(m, a)), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="eigh"),
    OpInfo("pinv", lambda m, a: m.linalg.pinv(a), RECT, skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m: m.linalg.pinv(m.ones(2, 2, dtype=m.int64)), exc=RuntimeError)]),
    OpInfo("pinv_rank_deficient", lambda m, a, b: m.linalg.pinv(a @ b),
           [(A((4, 2)), A((2, 3))), (A((3, 1), T=True), A((1, 4)))],
           skip_kinds={"0d": SQ}, bad_see="pinv"),
    OpInfo("pinv_hermitian", lambda m, a: m.linalg.pinv(_spd(m, a), hermitian=True), MATS[:3],
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="pinv"),
    OpInfo("pinverse", lambda m, a: m.pinverse(a), RECT[:3],
           skip_kinds={"0d": SQ, "broadcast": ONE}, bad_see="pinv"),
    OpInfo("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution,
           [(A((5, 3)), A((5, 2))), (A((2, 4, 3)), A((2, 4))), (A((4, 3), T=True),
                                                                A((4, 1)))],
           skip_kinds={"0d": SQ},
           bad=[Bad(lambda m, a, b: m.linalg.lstsq(a, b), A((3, 2)), A((4, 1)),
                    exc=RuntimeError)]),
    OpInfo("lstsq_gelsd", lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd")[:2],
           [(A((5, 3)), A((5, 2))), (A((4, 3), T=True), A((4,)))], skip_kinds={"0d": SQ},
           bad_see="lstsq"),
    OpInfo("matrix_power", lambda m, a, n: m.linalg.matrix_power(a, n),
           [(A((3, 3)), 3), (A((2, 3, 3)), 0), (A((3, 3), T=True), 5),
            (A((2, 2)), -2)],
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.linalg.matrix_power(a, 2), A((2, 3)), exc=RuntimeError)]),
    OpInfo("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), MATS,
           skip_kinds={"0d": SQ, "broadcast": ONE},
           bad=[Bad(lambda m, a: m.matrix_exp(a), A((2, 3)), exc=RuntimeError)]),
    OpInfo("matrix_rank", lambda m, a, b: m.linalg.matrix_rank(a @ b),
           [(A((4, 2)), A((2, 3))), (A((3, 3), T=True), A((3, 3))), (A((2, 3, 1)), A((1, 3)))],
           skip_kinds={"0d": SQ}, grad=False,
           bad=[Bad(lambda m: m.linalg.matrix_rank(m.ones(2, 2, dtype=m.int64)),
                    exc=RuntimeError)]),
    OpInfo("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]),
           [(A((3,)), A((3, 5)), A((5, 2))), (A((2, 4), T=True), A((4, 1)), A((1,)))],
           skip_kinds={"0d": SQ},
           bad=[Bad(lambda m, a, b: m.linalg.multi_dot([a, b]), A((2, 3)), A((2, 3)),
                    exc=RuntimeError)]),
    OpInfo("vecdot", lambda m, a, b: m.linalg.vecdot(a, b, dim=0),
           [(A((3,)), A((3,))), (A((3, 5)), A((3, 1))), (A((3, 5), T=True), A((3, 5)))],
           skip_kinds={"0d": "needs a dim"},
           bad=[Bad(lambda m, a, b: m.linalg.vecdot(a, b), A((3,)), A((2,)),
                    exc=RuntimeError)]),
    OpInfo("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0),
           [(A(()), A((3, 5)), A((5, 2))), (A((3, 2)), A((3, 5), T=True), A((5, 2))),
            (A((2,)), A((1, 2)), A((2, 2)))],
           bad=[Bad(lambda m, c, a, b: m.addmm(c, a, b), A((2, 2)), A((2, 3)), A((2, 2)),
                    exc=RuntimeError)]),
    OpInfo("addmv", lambda m, c, a, b: m.addmv(c, a, b, alpha=-1.0),
           [(A(()), A((3, 5)), A((5,))), (A((3,)), A((3, 5), T=True), A((5,)))],
           bad=[Bad(lambda m, c, a, b: m.addmv(c, a, b), A((2,)), A((2, 3)), A((2,)),
                    exc=RuntimeError)]),
    OpInfo("addr", lambda m, c, a, b: c.addr(a, b, beta=2.0),
           [(A(()), A((3,)), A((5,))), (A((3, 5), T=True), A((3,)), A((5,)))],
           bad=[Bad(lambda m, c, a, b: m.addr(c, a, b), A((2,)), A((2, 2)), A((2,)),
                    exc=RuntimeError)]),
    OpInfo("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b),
           [(A(()), A((2, 3, 4)), A((2, 4, 5))), (A((3, 1)), A((2, 3, 4)), A((2, 4, 1)))],
           skip_kinds={"T": "covered by bmm"},
           bad=[Bad(lambda m, c, a, b: m.baddbmm(c, a, b), A(()), A((2, 3, 4)), A((3, 4, 5)),
                    exc=RuntimeError)]),
    OpInfo("addbmm", lambda m, c, a, b: m.addbmm(c, a, b),
           [(A(()), A((2, 3, 4)), A((2, 4, 5))), (A((3, 1)), A((2, 3, 4)), A((2, 4, 1)))],
           skip_kinds={"T": "covered by bmm"},
           bad=[Bad(lambda m, c, a, b: m.addbmm(c, a, b), A(()), A((2, 3)), A((2, 3, 4)),
                    exc=RuntimeError)]),
]


def _torch_svd(m, a):
    u, s, v = m.svd(a)
    k = s.shape[-1]
    return s, (u * m.arange(1, k + 1, dtype=a.dtype)) @ v.mT
