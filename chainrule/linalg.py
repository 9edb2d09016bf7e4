"""chainrule.linalg: torch.linalg's namespace. Decompositions and solvers are primitives in
``chainrule.ops.linalg`` with analytic adjoints; the rest are composites."""
import numpy as np

from . import _linalg_np as _lnp
from ._tensor import Tensor, _wrap_dim
from .ops import linalg as _L
from .functional_ops import matrix_norm, vector_norm
from .ops.linalg import LinAlgError, cholesky, det, matrix_exp, matrix_power, matmul

__all__ = ["LinAlgError", "inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "lstsq",
           "cholesky", "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh", "pinv",
           "matrix_power", "matrix_exp", "matrix_rank", "norm", "cross", "matmul",
           "multi_dot", "vecdot", "solve_triangular", "cond", "vector_norm", "matrix_norm",
           "lu", "lu_factor", "lu_factor_ex", "lu_solve", "diagonal", "vander", "tensorinv",
           "tensorsolve"]


def inv(A):
    """The inverse of a square matrix (or a batch); raises LinAlgError when singular.

    >>> import chainrule
    >>> chainrule.linalg.inv(chainrule.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return _L._inv(A)


def inv_ex(A, *, check_errors=False):
    """(inverse, info): info is 0 where the inverse exists, else 1 + the index of the first
    zero pivot (that inverse is then nan; ``check_errors`` raises instead).

    >>> import chainrule
    >>> chainrule.linalg.inv_ex(chainrule.eye(2)).info
    tensor(0, dtype=chainrule.int32)
    """
    _L._square(A, "linalg.inv_ex")
    try:
        return _L._inv_ex_t(_L.Inv.apply(A), _info(A))
    except LinAlgError:
        if check_errors:
            raise
    a = A._data
    flat = a.reshape(-1, *a.shape[-2:])
    info = np.array([_zero_pivot(m) for m in flat], np.int32)
    out = np.full(a.shape, np.nan, a.dtype)
    ok = info == 0
    if ok.any():
        out.reshape(flat.shape)[ok] = np.linalg.inv(flat[ok])
    return _L._inv_ex_t(Tensor._make(out), Tensor._make(info.reshape(a.shape[:-2])))


def _zero_pivot(m):
    """1 + the index of the first zero pivot of m's LU factorisation (0 when there is none)."""
    return int(_lnp.first_zero_pivot(m))


def _info(A):
    return Tensor._make(np.zeros(A._data.shape[:-2], np.int32))


def slogdet(A):
    """(sign, logabsdet) of a square matrix; a named tuple.

    >>> import chainrule
    >>> chainrule.linalg.slogdet(chainrule.eye(2) * 3).logabsdet
    tensor(2.1972)
    """
    _L._square(A, "linalg.slogdet")
    return _L._lslogdet_t(*_L.Slogdet.apply(A))


def _check_same_dtype(A, B, op):
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"{op}: Expected A and B to have the same dtype, but found A of type "
                           f"{_L._DT_NAMES[A.dtype.name]} and B of type "
                           f"{_L._DT_NAMES[B.dtype.name]} instead")


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B). B may be a vector or a batch of them, and
    batch dims broadcast.

    >>> import chainrule
    >>> chainrule.linalg.solve(chainrule.tensor([[2.0, 0.0], [0.0, 4.0]]),
    ...                        chainrule.tensor([2.0, 2.0]))
    tensor([1.0000, 0.5000])
    """
    _L._square(A, "linalg.solve")
    _L._need_tensor(B, "linalg.solve", "B", 2)
    _check_same_dtype(A, B, "linalg.solve")
    sa, sb = A._data.shape, B._data.shape
    vector = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and sb == sa[:-1])
    if vector:
        if not left:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False. In this case linalg.solve is "
                               "equivalent to B / A.squeeze(-1)")
        B = B.unsqueeze(-1)
    n = sa[-1]
    k = B._data.shape[-2] if left else B._data.shape[-1]
    if B._data.ndim < 2 or k != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({'x'.join(map(str, sa[-2:]))} "
                           f"and {'x'.join(map(str, sb[-2:]))})")
    try:
        np.broadcast_shapes(sa[:-2], B._data.shape[:-2])
    except ValueError:
        raise RuntimeError(f"linalg.solve: the batch dimensions of A {list(sa[:-2])} and B "
                           f"{list(B.shape[:-2])} are not broadcastable") from None
    if left:
        X = _L.Solve.apply(A, B)
    else:
        X = _L.Solve.apply(A.mT, B.mT).mT
    return X.squeeze(-1) if vector else X


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info) of linalg.solve; info is 0 on success.

    >>> import chainrule
    >>> chainrule.linalg.solve_ex(chainrule.eye(2), chainrule.ones(2)).result
    tensor([1., 1.])
    """
    return _L._solve_ex_t(solve(A, B, left=left), _info(A))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B for a triangular A (only its ``upper`` or lower triangle is read).

    >>> import chainrule
    >>> A = chainrule.tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> chainrule.linalg.solve_triangular(A, chainrule.tensor([[2.0], [3.0]]), upper=False)
    tensor([[1.],
            [2.]])
    """
    _L._square(A, "linalg.solve_triangular")
    _L._need_tensor(B, "linalg.solve_triangular", "B", 2)
    _check_same_dtype(A, B, "linalg.solve_triangular")
    if B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    n = A._data.shape[-1]
    mask = np.triu(np.ones((n, n), A._data.dtype), 1 if unitriangular else 0) if upper else \
        np.tril(np.ones((n, n), A._data.dtype), -1 if unitriangular else 0)
    T = A * Tensor._make(mask)
    if unitriangular:
        T = T + Tensor._make(np.eye(n, dtype=A._data.dtype))
    return solve(T, B, left=left)


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): info is 0 on success, else the order of the first minor that is not
    positive-definite (that L is then nan; ``check_errors`` raises instead).

    >>> import chainrule
    >>> chainrule.linalg.cholesky_ex(-chainrule.eye(2)).info
    tensor(1, dtype=chainrule.int32)
    """
    _L._square(A, "linalg.cholesky_ex")
    try:
        return _L._chol_ex_t(cholesky(A, upper), _info(A))
    except LinAlgError:
        if check_errors:
            raise
    a = A._data
    flat = a.reshape(-1, *a.shape[-2:])
    info = np.array([_minor_or_zero(m) for m in flat], np.int32)
    out = np.full(flat.shape, np.nan, a.dtype)
    for i, m in enumerate(flat):
        if info[i] == 0:
            out[i] = np.linalg.cholesky(m)
    out = out.reshape(a.shape)
    if upper:
        out = np.swapaxes(out, -1, -2).copy()
    return _L._chol_ex_t(Tensor._make(out), Tensor._make(info.reshape(a.shape[:-2])))


def _minor_or_zero(m):
    try:
        np.linalg.cholesky(m)
        return 0
    except np.linalg.LinAlgError:
        return _L._bad_minor(m)


def qr(A, mode="reduced"):
    """QR factorisation; ``mode`` 'reduced', 'complete' or 'r' (Q empty). A named tuple.

    >>> import chainrule
    >>> chainrule.linalg.qr(chainrule.ones(3, 2)).Q.shape
    chainrule.Size([3, 2])
    """
    return _L._lqr_t(*_L._qr(A, mode, "linalg.qr"))


def svd(A, full_matrices=True, *, driver=None):
    """``A = U diag(S) Vh`` as a named tuple (U, S, Vh); the gradient through U or Vh is
    infinite where singular values repeat (as torch), through S alone it is always finite.

    >>> import chainrule
    >>> chainrule.linalg.svd(chainrule.ones(3, 2), full_matrices=False).U.shape
    chainrule.Size([3, 2])
    """
    _L._matrix(A, "linalg.svd")
    return _L._lsvd_t(*_L.Svd.apply(A, bool(full_matrices)))


def svdvals(A, *, driver=None):
    """The singular values, in descending order.

    >>> import chainrule
    >>> chainrule.linalg.svdvals(chainrule.tensor([[0.0, 2.0], [1.0, 0.0]]))
    tensor([2., 1.])
    """
    _L._matrix(A, "linalg.svdvals")
    return _L.Svd.apply(A, False)[1]


def _uplo(UPLO, op):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, read from
    its lower (``UPLO='L'``) or upper triangle. A named tuple.

    >>> import chainrule
    >>> chainrule.linalg.eigh(chainrule.tensor([[2.0, 1.0], [1.0, 2.0]])).eigenvalues
    tensor([1., 3.])
    """
    _L._square(A, "linalg.eigh")
    _uplo(UPLO, "linalg.eigh")
    return _L._eigh_t(*_L.Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L"):
    """Eigenvalues of a symmetric matrix, ascending.

    >>> import chainrule
    >>> chainrule.linalg.eigvalsh(chainrule.tensor([[2.0, 1.0], [1.0, 2.0]]))
    tensor([1., 3.])
    """
    _L._square(A, "linalg.eigvalsh")
    _uplo(UPLO, "linalg.eigvalsh")
    return _L.Eigh.apply(A, UPLO)[0]


def pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None):
    """Moore-Penrose pseudo-inverse; singular values at most max(atol, rtol * largest) are
    treated as zero (default rtol: eps * max(m, n)).

    >>> import chainrule
    >>> chainrule.linalg.pinv(chainrule.tensor([[1.0], [1.0]]))
    tensor([[0.5000, 0.5000]])
    """
    _L._matrix(A, "linalg.pinv")
    if hermitian:
        _L._square(A, "linalg.pinv")
    return _L.Pinv.apply(A, *_L._tols(A, atol, rtol, rcond), bool(hermitian))


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    """Number of singular values above max(atol, rtol * largest) (no gradient).

    >>> import chainrule
    >>> chainrule.linalg.matrix_rank(chainrule.ones(3, 3))
    tensor(1)
    """
    _L._matrix(A, "linalg.matrix_rank")
    if tol is not None:
        atol, rtol = tol, 0.0
    a, r = _L._tols(A, atol, rtol)
    x = A._data
    s = np.abs(np.linalg.eigvalsh(x)) if hermitian else np.linalg.svd(x, compute_uv=False)
    cut = np.maximum(a, r * s.max(-1, initial=0.0))
    return Tensor._make(np.asarray((s > cut[..., None]).sum(-1), np.int64))


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B (a named tuple: solution, residuals, rank,
    singular_values), differentiable through the pseudo-inverse. Like torch's default
    'gelsy' driver, residuals and singular values are empty unless another driver is named.

    >>> import chainrule
    >>> A = chainrule.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> chainrule.linalg.lstsq(A, chainrule.tensor([[1.0], [2.0], [3.0]])).solution
    tensor([[1.],
            [2.]])
    """
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    if driver is not None and driver not in drivers:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           f"gelsy, gelsd, gelss), got {driver}")
    driver = driver or "gelsy"
    _L._matrix(A, "torch.linalg.lstsq")
    _L._need_tensor(B, "linalg.lstsq", "B", 2)
    _check_same_dtype(A, B, "torch.linalg.lstsq")
    m, n = A._data.shape[-2:]
    vector = B._data.ndim == A._data.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm._data.ndim < 2 or Bm._data.shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) "
                           f"(got A {list(A.shape)} and B {list(B.shape)})")
    if rcond is None:
        rcond = np.finfo(A._data.dtype).eps * max(m, n)
    P = _L.Pinv.apply(A, *_L._tols(A, 0.0, rcond), False)
    X = matmul(P, Bm)
    empty = Tensor._make(np.zeros((0,), A._data.dtype))
    rank = matrix_rank(A, atol=0.0, rtol=rcond) if driver != "gels" else \
        Tensor._make(np.zeros((0,), np.int64))
    sv = svdvals(A) if driver in ("gelsd", "gelss") else empty
    res = empty
    if driver != "gelsy" and m > n and bool((rank._data == n).all()):
        r = matmul(A, X) - Bm
        res = (r * r).sum(-2)
    return _L._lstsq_t(X.squeeze(-1) if vector else X, res, rank, sv)


def cross(input, other, *, dim=-1):
    """Cross product of 3-vectors along ``dim`` (inputs broadcast).

    >>> import chainrule
    >>> chainrule.linalg.cross(chainrule.tensor([0.0, 1.0, 0.0]),
    ...                        chainrule.tensor([0.0, 0.0, 1.0]))
    tensor([1., 0., 0.])
    """
    return _L._cross(input, other, dim, "linalg.cross")


def multi_dot(tensors):
    """Product of a chain of matrices (the first and last may be vectors), in the cheapest
    order.

    >>> import chainrule
    >>> chainrule.linalg.multi_dot([chainrule.ones(2), chainrule.ones(2, 3),
    ...                             chainrule.ones(3)])
    tensor(6.)
    """
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(1)
    for i, t in enumerate(ts):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    for i in range(len(ts) - 1):
        if ts[i].shape[1] != ts[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               "multiplied")
    out = _chain(ts, _chain_order(dims), 0, len(ts) - 1)
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


def _chain_order(d):
    """Matrix-chain dynamic programme: split[i][j] is the best split of the product i..j."""
    n = len(d) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + d[i] * d[k + 1] * d[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(ts, split, i, j):
    if i == j:
        return ts[i]
    k = split[i][j]
    return matmul(_chain(ts, split, i, k), _chain(ts, split, k + 1, j))


def vecdot(x, y, *, dim=-1):
    """Dot product of vectors along ``dim`` (broadcasting).

    >>> import chainrule
    >>> chainrule.linalg.vecdot(chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0]))
    tensor(11.)
    """
    _L._need_tensor(x, "linalg.vecdot", "x", 1)
    _L._need_tensor(y, "linalg.vecdot", "y", 2)
    prod = x * y
    return prod.sum(_wrap_dim(dim, prod.ndim, "linalg.vecdot"))


def cond(A, p=None):
    """Condition number in the norm ``p`` (default 2: ratio of extreme singular values).

    >>> import chainrule
    >>> chainrule.linalg.cond(chainrule.tensor([[2.0, 0.0], [0.0, 0.5]]))
    tensor(4.)
    """
    _L._matrix(A, "linalg.cond")
    if p is None or p == 2 or p == -2:
        s = svdvals(A)
        r = s[..., 0] / s[..., -1]
        return r if p != -2 else 1 / r
    _L._square(A, "linalg.cond")
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector norm (``dim`` an int, or a 1-D input), matrix norm (``dim`` a pair, or a 2-D
    input with ``ord`` given), or the 2-norm of all elements (no ord, no dim).

    >>> import chainrule
    >>> chainrule.linalg.norm(chainrule.tensor([[3.0, 0.0], [0.0, 4.0]]))
    tensor(5.)
    """
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or dim is None and ord is not None and A.ndim == 2:
        return matrix_norm(A, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                           keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


_lu_t = _L._ret("linalg_lu", ["P", "L", "U"])
_lu_factor_t = _L._ret("linalg_lu_factor", ["LU", "pivots"])
_lu_factor_ex_t = _L._ret("linalg_lu_factor_ex", ["LU", "pivots", "info"])


def lu(A, *, pivot=True):
    """A = P L U with partial pivoting: P a permutation, L unit lower, U upper triangular.

    >>> import chainrule
    >>> chainrule.linalg.lu(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])).U
    tensor([[3.0000, 4.0000],
            [0.0000, 0.6667]])
    """
    _L._matrix(A, "linalg.lu")
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    return _lu_t(*_L.Lu.apply(A))


def _lu_info(U):
    d = np.diagonal(U._data, axis1=-2, axis2=-1)
    zero = d == 0
    first = np.where(zero.any(-1), zero.argmax(-1) + 1, 0)
    return np.asarray(first, np.int32)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): the packed LU (L below the diagonal, U on and above), LAPACK's
    1-based row interchanges, and 1 + the index of the first zero of U's diagonal (else 0).

    >>> import chainrule
    >>> chainrule.linalg.lu_factor_ex(chainrule.zeros(2, 2)).info
    tensor(1, dtype=chainrule.int32)
    """
    P, L, U = lu(A, pivot=pivot)
    info = _lu_info(U)
    if check_errors and info.any():
        raise LinAlgError(f"linalg.lu_factor_ex: U[{int(info.max()) - 1},"
                          f"{int(info.max()) - 1}] is zero")
    piv = _L._pivots_from_p(P._data, min(A.shape[-2:]))
    return _lu_factor_ex_t(_L._lu_compact(L, U), Tensor._make(piv), Tensor._make(info))


def lu_factor(A, *, pivot=True):
    """(LU, pivots) of ``lu_factor_ex``; raises when U has a zero on its diagonal.

    >>> import chainrule
    >>> chainrule.linalg.lu_factor(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])).pivots
    tensor([2, 2], dtype=chainrule.int32)
    """
    r = lu_factor_ex(A, pivot=pivot)
    if r.info._data.any():
        i = int(r.info._data.max()) - 1
        raise RuntimeError(f"torch.linalg.lu_factor: U[{i},{i}] is zero and using it on "
                           "lu_solve would result in a division by zero. If you still want to "
                           "perform the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")
    return _lu_factor_t(r.LU, r.pivots)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (``left=False``: X A = B; ``adjoint``: A^T in place of A) from A's
    packed LU; differentiable in LU and B.

    >>> import chainrule
    >>> LU, piv = chainrule.linalg.lu_factor(chainrule.tensor([[2.0, 0.0], [0.0, 4.0]]))
    >>> chainrule.linalg.lu_solve(LU, piv, chainrule.tensor([[2.0], [4.0]]))
    tensor([[1.],
            [1.]])
    """
    _L._square(LU, "linalg.lu_solve")
    _L._need_tensor(B, "linalg.lu_solve", "B", 3)
    _check_same_dtype(LU, B, "linalg.lu_solve")
    n = LU._data.shape[-1]
    if B._data.ndim < 2 or (B._data.shape[-2] if left else B._data.shape[-1]) != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                           f"{'x'.join(map(str, B.shape[-2:]))})")
    P, L, U = _L.lu_unpack(LU, pivots)
    if not left:
        # X A = B  <=>  A^T X^T = B^T (and X A^T = B  <=>  A X^T = B^T)
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    if adjoint:
        # A^T = U^T L^T P^T: X = P L^-T U^-T B
        return P @ _L.Solve.apply(L.mT, _L.Solve.apply(U.mT, B))
    return _L.Solve.apply(U, _L.Solve.apply(L, P.mT @ B))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of a batch of matrices (``torch.diagonal`` over the last two dims).

    >>> import chainrule
    >>> chainrule.linalg.diagonal(chainrule.arange(4.0).reshape(2, 2))
    tensor([0., 3.])
    """
    from .ops.shape import diagonal as _diagonal
    return _diagonal(A, offset, dim1, dim2)


def vander(x, *, N=None):
    """The Vandermonde matrix: columns x**0, x**1, ..., x**(N-1) (batched over x's dims).

    >>> import chainrule
    >>> chainrule.linalg.vander(chainrule.tensor([1, 2, 3]))
    tensor([[1, 1, 1],
            [1, 2, 4],
            [1, 3, 9]])
    """
    _L._need_tensor(x, "linalg.vander", "x", 1)
    if x._data.ndim == 0:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x._data.shape[-1] if N is None else N
    if n < 0:
        raise RuntimeError(f"linalg.vander: N must be non-negative, got {n}")
    return x.unsqueeze(-1) ** Tensor._make(np.arange(n, dtype=np.int64))


def tensorinv(A, ind=2):
    """The inverse of A seen as a map from its last dims to its first ``ind`` dims.

    >>> import chainrule
    >>> chainrule.linalg.tensorinv(chainrule.eye(4).reshape(4, 2, 2), ind=1).shape
    chainrule.Size([2, 2, 4])
    """
    _L._need_tensor(A, "linalg.tensorinv", "A", 1)
    if ind <= 0:
        raise RuntimeError(f"linalg.tensorinv: Expected a strictly positive integer for 'ind', "
                           f"but got {ind}")
    out_s, in_s = A._data.shape[:ind], A._data.shape[ind:]
    rows, cols = int(np.prod(out_s)), int(np.prod(in_s))
    if rows != cols:
        raise RuntimeError(f"linalg.tensorinv: Expected self to satisfy the requirement "
                           f"prod(self.shape[ind:]) == prod(self.shape[:ind]), but got {cols} "
                           f"!= {rows}")
    return inv(A.reshape(rows, cols)).reshape(*(in_s + out_s))


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B (``dims``: dims of A moved to the end first).

    >>> import chainrule
    >>> chainrule.linalg.tensorsolve(chainrule.eye(6).reshape(2, 3, 6), chainrule.ones(2, 3))
    tensor([1., 1., 1., 1., 1., 1.])
    """
    _L._need_tensor(A, "linalg.tensorsolve", "A", 1)
    _L._need_tensor(B, "linalg.tensorsolve", "B", 2)
    if dims is not None:
        nd = A._data.ndim
        dd = [_wrap_dim(d, nd, "linalg.tensorsolve") for d in dims]
        A = A.permute(*([k for k in range(nd) if k not in dd] + dd))
    rest = A._data.shape[B._data.ndim:]
    n = int(np.prod(B._data.shape))
    if int(np.prod(rest)) != n:
        raise RuntimeError(f"linalg.tensorsolve: Expected self to satisfy the requirement "
                           f"prod(result.shape) == prod(B.shape), got A {list(A.shape)} and B "
                           f"{list(B.shape)}")
    return solve(A.reshape(n, n), B.reshape(n)).reshape(*rest)
