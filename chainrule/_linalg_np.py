"""Dense linear-algebra kernels on NumPy alone, batched over leading dims: the matrix
exponential (scaling and squaring with a Pade approximant) and LU with partial pivoting.

References: N. J. Higham, "The scaling and squaring method for the matrix exponential
revisited", SIAM J. Matrix Anal. Appl. 26(4), 2005; A. H. Al-Mohy and N. J. Higham, "A new
scaling and squaring algorithm for the matrix exponential", SIAM J. Matrix Anal. Appl. 31(3),
2009 (Algorithm 5.1, Code Fragment 2.1); LAPACK's xGETRF for the pivoting rule."""
import math

import numpy as np

__all__ = ["expm", "lu", "lu_factor", "first_zero_pivot"]


def _work_dtype(a):
    """The dtype the kernels compute in: float16 -> float32, ints/bools -> float64."""
    if a.dtype == np.float16:
        return np.dtype(np.float32)
    if a.dtype.kind in "fc":
        return a.dtype
    return np.dtype(np.float64)


def _check_matrix(a, name, square):
    if a.ndim < 2:
        raise ValueError(f"{name}: expected an array with at least 2 dims, got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected square matrices, got shape {a.shape}")


# -- matrix exponential ------------------------------------------------------------------------
def _pade_coeffs(m):
    """Numerator coefficients b_0..b_m of the [m/m] Pade approximant of exp (the denominator is
    the numerator at -x), scaled to integers: b_j = (2m - j)! / (j! (m - j)!)."""
    f = math.factorial
    return tuple(float(f(2 * m - j) // (f(j) * f(m - j))) for j in range(m + 1))


_DEGREES = (3, 5, 7, 9, 13)
_B = {m: _pade_coeffs(m) for m in _DEGREES}
# largest ||2^-s A|| for which r_m has backward error <= 2^-53 (Higham 2005, Table 2.3);
# theta_13 = 4.25 instead of 5.37 leaves room for the ell() correction, as scipy does
_THETA = {3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1,
          9: 2.097847961257068e0, 13: 4.25}
# |c_{2m+1}|: the leading coefficient of the backward-error series log(e^-x r_m(x))
_C = {m: 1.0 / (math.comb(2 * m, m) * math.factorial(2 * m + 1)) for m in _DEGREES}


def _norm1(x):
    """Batched matrix 1-norm (max absolute column sum), in float64."""
    return np.abs(x).sum(axis=-2, dtype=np.float64).max(axis=-1)


class _AbsPowers:
    """|| |A|^p ||_1 for growing p, exactly: 1^T |A|^p by repeated vector-matrix products."""

    def __init__(self, abs_a):
        self.abs_a = abs_a
        self.v = np.ones(abs_a.shape[:-2] + (1, abs_a.shape[-1]))
        self.p = 0

    def norm(self, p):
        while self.p < p:
            self.v = self.v @ self.abs_a
            self.p += 1
        return self.v[..., 0, :].max(axis=-1)


def _ell(powers, norm_a, m, u):
    """Extra squarings so that the rounding of r_m's backward-error series stays below u."""
    alpha = powers.norm(2 * m + 1) * (_C[m] / u) / norm_a
    ell = np.ceil(np.log2(np.where(alpha > 0, alpha, 1.0)) / (2 * m))
    return np.where(np.isfinite(ell), np.maximum(ell, 0), np.inf)


def _mT(x):
    return np.swapaxes(x, -1, -2)


def _pade(m, a, a2, a4, a6, a8, upper):
    """r_m(A) = (V - U)^-1 (V + U) with U the odd and V the even part of the numerator."""
    b = _B[m]
    eye = np.eye(a.shape[-1], dtype=a.dtype)
    if m == 13:
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
                 + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = (a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2)
             + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye)
    else:
        pows = (eye, a2, a4, a6, a8)[:m // 2 + 1]
        u = a @ sum(b[2 * k + 1] * p for k, p in enumerate(pows))
        v = sum(b[2 * k] * p for k, p in enumerate(pows))
    # NOTE: (V - U)^-1 (V + U) = I + 2 U (V - U)^-1 (U, V commute) loses less to cancellation.
    # Solving from the right pivots over columns of V - U (as scipy), more accurate on graded
    # matrices; upper triangular ones solve from the left, where no pivoting is needed.
    x = _mT(np.linalg.solve(_mT(v - u), _mT(u)))
    if upper.any():
        x[upper] = np.linalg.solve((v - u)[upper], u[upper])
    return 2 * x + eye


def _exp_divdiff(x, y):
    """The divided difference (e^y - e^x) / (y - x), e^x where x == y."""
    # NOTE: close arguments use e^((x+y)/2) sinh(z)/z, z = (y-x)/2, which avoids the
    # cancellation in e^y - e^x; far apart ones use the quotient itself (no overflow of sinh)
    z = (y - x) / 2
    near = np.abs(z) <= 1
    zs = np.where(near & (z != 0), z, 1)
    close = np.exp((x + y) / 2) * np.where(z == 0, 1, np.sinh(zs) / zs)
    d = np.where(near, 1, y - x)
    far = (np.exp(y) - np.exp(x)) / d
    return np.where(near, close, far)


def _fix_triangular(x, lam, off, upper, scale):
    """Code Fragment 2.1: overwrite the diagonal and first off-diagonal of x ~ exp(scale T),
    T triangular, with their exact values (lam: T's diagonal, off: its first off-diagonal)."""
    n = x.shape[-1]
    i = np.arange(n)
    sl = lam * scale
    x[:, i, i] = np.exp(sl)
    if n > 1:
        j = np.arange(n - 1)
        rows = j + np.where(upper, 0, 1)[:, None]
        cols = j + np.where(upper, 1, 0)[:, None]
        b = np.arange(x.shape[0])[:, None]
        x[b, rows, cols] = off * scale * _exp_divdiff(sl[:, :-1], sl[:, 1:])


def _pick(mask):
    """Indices where mask holds; a full slice (views, no copies) where it holds everywhere."""
    return slice(None) if mask.all() else np.flatnonzero(mask)


def _squarings(eta):
    return np.maximum(np.ceil(np.log2(eta / _THETA[13])), 0)


def _expm_general(a, upper, lower):
    """exp of a batch (B, n, n) of finite, non-diagonal matrices, n >= 2; upper / lower flag
    the triangular ones. Al-Mohy & Higham's Algorithm 5.1 with exact norms of powers."""
    bsz = a.shape[0]
    u = np.finfo(a.dtype).eps / 2
    abs_a = np.abs(a).astype(np.float64)
    norm_a = abs_a.sum(axis=-2).max(axis=-1)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    d6 = _norm1(a6) ** (1 / 6)
    eta = np.maximum(_norm1(a4) ** 0.25, d6)
    deg = np.zeros(bsz, int)
    powers = _AbsPowers(abs_a)
    for m in (3, 5):
        ok = (deg == 0) & (eta <= _THETA[m])
        if ok.any():
            deg[ok & (_ell(powers, norm_a, m, u) == 0)] = m
    out = np.empty_like(a)
    for m in (3, 5):
        if (deg == m).any():
            k = _pick(deg == m)
            out[k] = _pade(m, a[k], a2[k], a4[k], None, None, upper[k])
    if deg.all():
        return out
    r = _pick(deg == 0)
    a8 = a4[r] @ a4[r]
    d8 = np.zeros(bsz)
    d8[r] = _norm1(a8) ** 0.125
    eta3 = np.maximum(d6, d8)
    powers = _AbsPowers(abs_a[r])
    for m in (7, 9):
        ok = (deg[r] == 0) & (eta3[r] <= _THETA[m])
        if ok.any():
            ok &= _ell(powers, norm_a[r], m, u) == 0
            deg[np.arange(bsz)[r][ok]] = m
    for m in (7, 9):
        if (deg == m).any():
            k = _pick(deg == m)
            out[k] = _pade(m, a[k], a2[k], a4[k], a6[k], a8[_pick(deg[r] == m)], upper[k])
    if deg.all():
        return out
    r = _pick(deg == 0)
    a, a2, a4, a6, upper, lower = a[r], a2[r], a4[r], a6[r], upper[r], lower[r]
    abs_a, norm_a, d8, eta3 = abs_a[r], norm_a[r], d8[r], eta3[r]
    # NOTE: ||A^k||^(1/k) <= ||A|| bounds eta where the powers overflowed; ||A^10|| is only
    # formed where it can lower the number of squarings
    eta3 = np.minimum(eta3, norm_a)
    s = _squarings(eta3)
    maybe = np.flatnonzero(_squarings(np.minimum(eta3, d8)) < s)
    if maybe.size:
        d10 = _norm1(a6[maybe] @ a4[maybe]) ** 0.1
        s[maybe] = _squarings(np.minimum(eta3[maybe], np.maximum(d8[maybe], d10)))
    ell = _ell(_AbsPowers(abs_a * (2.0 ** -s)[:, None, None]), norm_a * 2.0 ** -s, 13, u)
    s = (s + np.where(np.isfinite(ell), ell, 0)).astype(int)
    f = (2.0 ** -s).astype(a.dtype)[:, None, None]
    x = _pade(13, a * f, a2 * f ** 2, a4 * f ** 4, a6 * f ** 6, None, upper)
    tri = np.flatnonzero(upper | lower)
    if tri.size:
        at, up = a[tri], upper[tri]
        lam = np.diagonal(at, axis1=-2, axis2=-1)
        off = np.where(up[:, None], np.diagonal(at, 1, -2, -1), np.diagonal(at, -1, -2, -1))
        xt = x[tri]
        _fix_triangular(xt, lam, off, up, (2.0 ** -s[tri])[:, None])
        x[tri] = xt
    for level in range(int(s.max()) - 1, -1, -1):
        if s.min() > level:
            x = x @ x
        else:
            act = np.flatnonzero(s > level)
            x[act] = x[act] @ x[act]
        t = np.flatnonzero(s[tri] > level)
        if t.size:
            xt = x[tri[t]]
            _fix_triangular(xt, lam[t], off[t], up[t], 2.0 ** -level)
            x[tri[t]] = xt
    out[r] = x
    return out


def expm(a):
    """exp(A) for a batch of square matrices (..., n, n), float or complex; integer input
    gives float64 and float16 gives float32 (as scipy.linalg.expm)."""
    a = np.asarray(a)
    _check_matrix(a, "expm", True)
    a = a.astype(_work_dtype(a), copy=False)
    n = a.shape[-1]
    if a.size == 0:
        return np.empty(a.shape, a.dtype)
    if n == 1:
        return np.exp(a)
    flat = a.reshape(-1, n, n)
    out = np.full(flat.shape, np.nan, a.dtype)
    below = np.tri(n, n, -1, dtype=bool)
    upper = ~flat[:, below].any(axis=-1)
    lower = ~flat[:, below.T].any(axis=-1)
    finite = np.isfinite(flat).all(axis=(-2, -1))
    diag = finite & upper & lower
    if diag.any():
        d = np.exp(np.diagonal(flat[diag], axis1=-2, axis2=-1))
        out[diag] = d[:, :, None] * np.eye(n, dtype=a.dtype)
    gen = np.flatnonzero(finite & ~diag)
    if gen.size:
        with np.errstate(all="ignore"):
            res = _expm_general(flat[gen], upper[gen], lower[gen])
        for tri, keep in ((upper[gen], np.triu), (lower[gen], np.tril)):
            if tri.any():
                res[tri] = keep(res[tri])
        out[gen] = res
    return out.reshape(a.shape)


# -- LU with partial pivoting --------------------------------------------------------------------
_PANEL = 32


def lu_factor(a):
    """Packed LU of a batch of (m, n) matrices with partial pivoting, LAPACK getrf style.

    Returns (lu, perm): lu holds U on and above the diagonal and L's multipliers below it;
    perm (..., m) is the row order, a[..., perm, :] = L U. The pivot of column j is the first
    row of maximal |value| (|re| + |im| if complex) at or below j; a zero pivot column is left
    as it is."""
    a = np.asarray(a)
    _check_matrix(a, "lu_factor", False)
    m, n = a.shape[-2:]
    bsz = math.prod(a.shape[:-2])
    # the row order rides along as an extra column, so row swaps carry it
    ext = np.empty((bsz, m, n + 1), _work_dtype(a))
    ext[:, :, :n] = a.reshape(bsz, m, n)
    ext[:, :, n] = np.arange(m)
    w = ext[:, :, :n]
    rows = np.arange(bsz)
    k = min(m, n)
    # BLAS i?amax: |re| + |im| for complex entries
    mag = (lambda x: np.abs(x.real) + np.abs(x.imag)) if w.dtype.kind == "c" else np.abs
    with np.errstate(all="ignore"):
        # NOTE: blocked right-looking LU: factor a panel of columns one at a time, then
        # U12 = L11^-1 A12 by forward substitution and the trailing update as one product
        for j0 in range(0, k, _PANEL):
            j1 = min(j0 + _PANEL, k)
            for j in range(j0, j1):
                p = j + np.argmax(mag(w[:, j:, j]), axis=1)
                if (p != j).any():
                    ext[rows, j], ext[rows, p] = ext[rows, p], ext[rows, j].copy()
                piv = w[:, j, j]
                mult = w[:, j + 1:, j] / np.where(piv != 0, piv, 1)[:, None]
                w[:, j + 1:, j] = mult
                w[:, j + 1:, j + 1:j1] -= mult[:, :, None] * w[:, j, None, j + 1:j1]
            if j1 < n:
                for i in range(j0, j1 - 1):
                    w[:, i + 1:j1, j1:] -= w[:, i + 1:j1, i, None] * w[:, i, None, j1:]
                if j1 < m:
                    w[:, j1:, j1:] -= w[:, j1:, j0:j1] @ w[:, j0:j1, j1:]
    perm = ext[:, :, n].real.astype(np.intp)
    batch = a.shape[:-2]
    return np.ascontiguousarray(w).reshape(batch + (m, n)), perm.reshape(batch + (m,))


def lu(a):
    """(P, L, U) with A = P L U for a batch of (m, n) matrices: P (m, m) a permutation, L (m, k)
    unit lower and U (k, n) upper triangular, k = min(m, n) (scipy.linalg.lu's layout)."""
    packed, perm = lu_factor(a)
    m, n = packed.shape[-2:]
    k = min(m, n)
    low = np.tril(packed[..., :, :k], -1) + np.eye(m, k, dtype=packed.dtype)
    up = np.triu(packed[..., :k, :])
    p = np.zeros(packed.shape[:-2] + (m, m), packed.real.dtype)
    np.put_along_axis(p, perm[..., None, :], 1, axis=-2)
    return p, low, up


def first_zero_pivot(a):
    """1 + the index of the first exactly-zero pivot of A's LU factorisation, 0 where there is
    none (getrf's info), an int array over the batch dims."""
    packed, _ = lu_factor(a)
    d = np.diagonal(packed, axis1=-2, axis2=-1) == 0
    return np.where(d.any(axis=-1), d.argmax(axis=-1) + 1, 0)
