"""Tensor methods for the linear algebra catalogue (issue 3).
Each method forwards to a function in chainrule.ops / functional_ops / nn.functional."""


def _la():
    from ..ops import linalg
    return linalg


class LinalgMethods:
    __slots__ = ()

    def det(self):
        return _la().det(self)

    def logdet(self):
        return _la().logdet(self)

    def slogdet(self):
        return _la().slogdet(self)

    def inverse(self):
        return _la().inverse(self)

    def cholesky(self, upper=False):
        return _la().cholesky(self, upper)

    def cholesky_solve(self, input2, upper=False):
        return _la().cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        return _la().cholesky_inverse(self, upper)

    def qr(self, some=True):
        return _la().qr(self, some)

    def svd(self, some=True, compute_uv=True):
        return _la().svd(self, some, compute_uv)

    def pinverse(self, rcond=1e-15):
        return _la().pinverse(self, rcond)

    def matrix_power(self, n):
        return _la().matrix_power(self, n)

    def matrix_exp(self):
        return _la().matrix_exp(self)

    def trace(self):
        return _la().trace(self)

    def outer(self, vec2):
        return _la().outer(self, vec2)

    def ger(self, vec2):
        return _la().outer(self, vec2)

    def inner(self, other):
        return _la().inner(self, other)

    def kron(self, other):
        return _la().kron(self, other)

    def cross(self, other, dim=None):
        return _la().cross(self, other, dim)

    def vdot(self, other):
        return _la().vdot(self, other)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return _la().addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        from ..ops.inplace import inplace
        return inplace(self, _la().addmm, mat1, mat2, beta=beta, alpha=alpha, name="addmm_")

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _la().addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        return _la().addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _la().baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return _la().addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def lu(self, pivot=True, get_infos=False):
        return _la().lu(self, pivot, get_infos)

    def lu_solve(self, LU_data, LU_pivots):
        return _la().lu_solve(self, LU_data, LU_pivots)
