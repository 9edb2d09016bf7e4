"""chainrule._linalg_np (pure-NumPy expm and LU) against scipy.linalg, closed forms and an
mpmath reference; scipy and mpmath are test-only references."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import _linalg_np as lnp

@pytest.fixture(scope="module")
def sla():
    pytest.importorskip("scipy")
    import scipy.linalg
    return scipy.linalg


def _quiet(fn, *args):
    """fn(*args) with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


def _rel(x, ref):
    """max |x - ref| over max |ref|, per batch element."""
    x, ref = np.asarray(x, np.complex128), np.asarray(ref, np.complex128)
    scale = np.abs(ref).max(axis=(-2, -1))
    return np.abs(x - ref).max(axis=(-2, -1)) / np.where(scale > 0, scale, 1)


def _bounded(shape, norm, rng):
    """Matrices of 1-norm `norm` whose exponential stays in range: a random part scaled to the
    norm, shifted left where the norm is large (skew part keeps oscillation)."""
    a = rng.standard_normal(shape)
    if norm > 10:
        a = a - np.swapaxes(a, -1, -2) + 0.1 * a
    a = a / np.linalg.norm(a, 1, axis=(-2, -1))[..., None, None] * norm
    if norm > 10:
        a = a - 0.5 * norm * np.eye(shape[-1])
    return a


# -- expm ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 3, 5, 8, 16])
@pytest.mark.parametrize("norm", [1e-8, 1e-3, 0.1, 1.0, 10.0, 100.0, 1e3])
def test_expm_matches_scipy(sla, n, norm):
    rng = np.random.default_rng(1)
    a = _bounded((4, n, n), norm, rng)
    got = _quiet(lnp.expm, a)
    ref = sla.expm(a)
    assert got.dtype == np.float64 and got.shape == a.shape
    # the difference grows with ||A|| (the exponential's condition number); most of it is
    # scipy's own error (see the mpmath comparisons below)
    assert _rel(got, ref).max() < 2e-13 * max(1.0, np.linalg.norm(a, 1, axis=(-2, -1)).max())


@pytest.mark.parametrize("n", [2, 4, 9])
@pytest.mark.parametrize("norm", [1e-6, 0.5, 5.0, 50.0])
def test_expm_float32(sla, n, norm):
    rng = np.random.default_rng(2)
    a = _bounded((3, n, n), norm, rng)
    got = _quiet(lnp.expm, a.astype(np.float32))
    assert got.dtype == np.float32
    ref = sla.expm(a)
    assert _rel(got, ref).max() < 2e-6 * max(1.0, norm)
    # no less accurate than scipy's own float32 result, give or take rounding
    ref32 = sla.expm(a.astype(np.float32))
    assert _rel(got, ref).max() < 4 * _rel(ref32, ref).max() + 1e-7


def test_expm_complex(sla):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 4)) + 1j * rng.standard_normal((3, 4, 4))
    got = _quiet(lnp.expm, a)
    assert got.dtype == np.complex128
    assert _rel(got, sla.expm(a)).max() < 1e-13
    theta = np.array([[0.3, 0.0], [1.0, 0.3]]) * 1j
    assert _rel(lnp.expm(theta), sla.expm(theta)).max() < 1e-15


def test_expm_batch_mixed_kinds(sla):
    rng = np.random.default_rng(4)
    # one batch holding zero, diagonal, upper, lower, nilpotent and general matrices of all
    # sizes of norm: each takes its own degree / squarings, and must equal the one-by-one result
    n = 6
    mats = [np.zeros((n, n)), np.diag(rng.standard_normal(n)),
            np.triu(rng.standard_normal((n, n))) * 3, np.tril(rng.standard_normal((n, n))) * 3,
            np.triu(rng.standard_normal((n, n)), 1)]
    mats += [_bounded((n, n), s, rng) for s in (1e-9, 1e-2, 0.2, 0.9, 2.0, 4.0, 30.0, 300.0)]
    a = np.stack(mats).reshape(13, 1, n, n)
    got = _quiet(lnp.expm, a)
    assert got.shape == a.shape
    each = np.stack([sla.expm(m) for m in mats]).reshape(a.shape)
    assert (_rel(got, each) < 1e-12).all()
    assert np.array_equal(got[0, 0], np.eye(n))
    assert np.array_equal(got[2, 0], np.triu(got[2, 0]))
    assert np.array_equal(got[3, 0], np.tril(got[3, 0]))


def test_expm_small_and_empty_shapes(sla):
    assert lnp.expm(np.zeros((0, 3, 3))).shape == (0, 3, 3)
    assert lnp.expm(np.zeros((2, 0, 0))).shape == (2, 0, 0)
    assert lnp.expm(np.zeros((0, 0))).shape == (0, 0)
    one = np.array([[[-2.5]], [[0.0]], [[700.0]]])
    assert np.allclose(lnp.expm(one), np.exp(one), rtol=1e-15, atol=0)
    assert np.array_equal(lnp.expm(np.zeros((3, 2, 4, 4))), np.broadcast_to(np.eye(4),
                                                                            (3, 2, 4, 4)))
    assert lnp.expm(np.eye(3, dtype=np.float16)).dtype == np.float32
    assert lnp.expm(np.eye(3, dtype=np.int64)).dtype == np.float64
    with pytest.raises(ValueError):
        lnp.expm(np.zeros((2, 3)))
    with pytest.raises(ValueError):
        lnp.expm(np.zeros(3))


def test_expm_diagonal_closed_form():
    d = np.linspace(-50, 50, 11)
    got = _quiet(lnp.expm, np.diag(d))
    assert np.allclose(got, np.diag(np.exp(d)), rtol=1e-15, atol=0)


@pytest.mark.parametrize("t", [1e-8, 0.5, 3.0, 30.0, 300.0])
def test_expm_rotation_closed_form(t):
    got = _quiet(lnp.expm, np.array([[0.0, -t], [t, 0.0]]))
    c, s = np.cos(t), np.sin(t)
    # cos/sin of t themselves carry t * eps of error in the argument reduction of the squarings
    assert np.abs(got - [[c, -s], [s, c]]).max() < 4e-16 * max(1.0, t)
    # orthogonal to round-off
    assert np.abs(got @ got.T - np.eye(2)).max() < 1e-15 * max(1.0, t)
    gotf = lnp.expm(np.array([[0.0, -t], [t, 0.0]], np.float32))
    assert np.abs(gotf - [[c, -s], [s, c]]).max() < 2e-7 * max(1.0, t)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e4])
def test_expm_nilpotent_and_jordan_closed_forms(scale):
    rng = np.random.default_rng(5)
    n = 5
    nil = np.triu(rng.standard_normal((n, n)), 1) * scale
    series = sum(np.linalg.matrix_power(nil, k) / np.prod(np.arange(1, k + 1))
                 for k in range(n))
    assert _rel(_quiet(lnp.expm, nil), series) < 1e-14
    assert _rel(lnp.expm(nil.T.copy()), series.T) < 1e-14
    lam = -1.7
    assert _rel(lnp.expm(lam * np.eye(n) + nil), np.exp(lam) * series) < 1e-14


@pytest.mark.parametrize("a, c", [(1.0, 1.0), (1.0, 1.0 + 1e-9), (-3.0, 4.0), (-40.0, 2.0)])
def test_expm_badly_scaled_2x2_triangular(a, c):
    b = 1e8
    m = np.array([[a, b], [0.0, c]])
    dd = np.exp(a) if a == c else (np.exp(c) - np.exp(a)) / (c - a)
    if abs(c - a) < 1e-6:
        dd = np.exp((a + c) / 2)  # to first order; the error is (c - a)^2 / 24 relative
    want = np.array([[np.exp(a), b * dd], [0.0, np.exp(c)]])
    got = _quiet(lnp.expm, m)
    assert np.allclose(got, want, rtol=1e-14, atol=0)
    assert np.allclose(lnp.expm(m.T.copy()), want.T, rtol=1e-14, atol=0)


def _mp_expm(a):
    mp = pytest.importorskip("mpmath")
    with mp.workdps(40):
        return np.array(mp.expm(mp.matrix(a.tolist())).tolist(), dtype=float)


def test_expm_random_vs_mpmath():
    rng = np.random.default_rng(6)
    for i in range(12):
        n = 2 + i % 5
        a = _bounded((n, n), [0.3, 1.0, 4.0, 10.0][i % 4], rng)
        assert _rel(_quiet(lnp.expm, a), _mp_expm(a)) < 5e-14


def test_expm_graded_and_triangular_vs_mpmath(sla):
    rng = np.random.default_rng(7)
    # graded D A D^-1 matrices: conditioning-limited (||A|| reaches 1e9); as accurate as scipy
    # on the whole (either one can be the better on a given matrix)
    errs, ref_errs = [], []
    for n in (3, 5):
        for s in (0.1, 1.0, 30.0):
            d = np.logspace(-4, 4, n)
            g = rng.standard_normal((n, n))
            for a in (d[:, None] * g / d[None, :] * s, d[None, :] * g / d[:, None] * s):
                ref = _mp_expm(a)
                errs.append(_rel(_quiet(lnp.expm, a), ref))
                ref_errs.append(_rel(sla.expm(a), ref))
    assert max(errs) < 1e-10
    assert np.median(errs) <= 4 * np.median(ref_errs) + 1e-16
    # triangular ones with a huge off-diagonal (scipy's result can be far off here)
    for n in (3, 5, 6):
        for s in (0.1, 1.0, 30.0):
            t = np.triu(rng.standard_normal((n, n)))
            t[np.triu_indices(n, 1)] *= 1e6
            for a in (t * s, (t * s).T.copy()):
                assert _rel(_quiet(lnp.expm, a), _mp_expm(a)) < 1e-14


def test_expm_nonfinite_rows_of_the_batch():
    a = np.stack([np.eye(2), [[np.nan, 1.0], [0.0, 1.0]], [[np.inf, 0.0], [0.0, 1.0]]])
    got = _quiet(lnp.expm, a)
    assert np.allclose(got[0], np.diag(np.exp([1.0, 1.0])))
    assert np.isnan(got[1:]).all()


# -- LU -----------------------------------------------------------------------------------------
def _check_lu(a, p, low, up):
    m, n = a.shape[-2:]
    k = min(m, n)
    assert p.shape == a.shape[:-2] + (m, m)
    assert low.shape == a.shape[:-2] + (m, k) and up.shape == a.shape[:-2] + (k, n)
    assert np.array_equal(low, np.tril(low)) and np.array_equal(up, np.triu(up))
    assert np.array_equal(np.diagonal(low, axis1=-2, axis2=-1), np.ones(a.shape[:-2] + (k,)))
    assert (np.abs(low) <= 1).all()
    assert np.array_equal(np.sort(p, axis=-1)[..., -1], np.ones(a.shape[:-2] + (m,)))
    assert np.array_equal(p.sum(axis=-2), np.ones(a.shape[:-2] + (m,)))
    assert np.isfinite(low).all() and np.isfinite(up).all()
    scale = max(1.0, np.abs(a).max(initial=0))
    assert np.abs(p @ low @ up - a).max(initial=0) < 1e-13 * scale * max(m, n, 1)


def _scipy_lu(sla, a):
    out = [np.empty(a.shape[:-2] + s) for s in ((a.shape[-2],) * 2,
                                               (a.shape[-2], min(a.shape[-2:])),
                                               (min(a.shape[-2:]), a.shape[-1]))]
    for idx in np.ndindex(a.shape[:-2]):
        for o, r in zip(out, sla.lu(a[idx])):
            o[idx] = r
    return out


@pytest.mark.parametrize("shape", [(4, 4), (6, 3), (3, 6), (1, 1), (1, 5), (5, 1), (3, 2, 5),
                                   (2, 3, 7, 7), (70, 70), (80, 45), (45, 80), (4, 33, 33)])
def test_lu_matches_scipy(sla, shape):
    rng = np.random.default_rng(8)
    a = rng.standard_normal(shape)
    p, low, up = _quiet(lnp.lu, a)
    _check_lu(a, p, low, up)
    sp, sl, su = _scipy_lu(sla, a)
    assert np.array_equal(p, sp)
    assert np.abs(low - sl).max() < 1e-12 and np.abs(up - su).max() < 1e-12 * shape[-1]


@pytest.mark.parametrize("a", [
    np.zeros((3, 3)),
    np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]),
    np.array([[0.0, 1], [0, 2]]),
    np.array([[1.0, 2], [2, 4]]),
    np.array([[0.0, 0, 1], [0, 1, 0], [0, 0, 0]]),
    np.array([[2.0, 1, 0, 4], [4, 2, 0, 8], [1, 3, 0, 5]]),
    np.array([[1.0, 0], [1, 0], [2, 0]]),
    np.array([[1.0, 2], [-1, 3]]),                         # an exact tie: first row wins
    np.array([[-1.0, 2, 0], [1, 0, 1], [1, 1, 1]]),
], ids=lambda a: "x".join(map(str, a.shape)))
def test_lu_singular_and_ties_match_scipy(sla, a):
    # small integer entries: every operation is exact, so scipy's factors are the reference
    p, low, up = _quiet(lnp.lu, a)
    _check_lu(a, p, low, up)
    sp, sl, su = sla.lu(a)
    assert np.array_equal(p, sp) and np.allclose(low, sl, atol=1e-15)
    assert np.allclose(up, su, atol=1e-15)


def test_lu_rank_deficient_random():
    rng = np.random.default_rng(9)
    u = rng.standard_normal((5, 6, 2))
    a = u @ rng.standard_normal((5, 2, 6))            # rank 2
    a = np.concatenate([a, np.zeros((1, 6, 6))])
    p, low, up = _quiet(lnp.lu, a)
    _check_lu(a, p, low, up)
    assert np.abs(np.diagonal(up, axis1=-2, axis2=-1)[:-1, 2:]).max() < 1e-14
    assert (np.diagonal(up[-1]) == 0).all()


def test_lu_empty_and_dtypes(sla):
    rng = np.random.default_rng(10)
    for shape in [(0, 0), (0, 3), (2, 0, 3), (0, 4, 4), (3, 0)]:
        a = np.zeros(shape)
        p, low, up = lnp.lu(a)
        m, n = shape[-2:]
        k = min(m, n)
        assert (p.shape, low.shape, up.shape) == (shape[:-2] + (m, m), shape[:-2] + (m, k),
                                                  shape[:-2] + (k, n))
    # P is m x m even for an m x 0 input (scipy gives 0 x 0 there; torch gives m x m)
    assert np.array_equal(lnp.lu(np.zeros((3, 0)))[0], np.eye(3))
    assert lnp.lu(np.eye(2, dtype=np.float16))[1].dtype == np.float32
    assert lnp.lu(np.eye(2, dtype=np.int32))[2].dtype == np.float64
    a32 = rng.standard_normal((3, 5, 5)).astype(np.float32)
    p, low, up = lnp.lu(a32)
    assert low.dtype == np.float32 and np.abs(p @ low @ up - a32).max() < 1e-5
    c = rng.standard_normal((2, 4, 3)) + 1j * rng.standard_normal((2, 4, 3))
    p, low, up = lnp.lu(c)
    for i in range(2):
        rp, rl, ru = sla.lu(c[i])
        assert np.array_equal(p[i], rp) and np.allclose(low[i], rl) and np.allclose(up[i], ru)
    with pytest.raises(ValueError):
        lnp.lu(np.zeros(3))


def test_lu_nonfinite_is_silent():
    a = np.array([[np.nan, 1.0], [2.0, np.inf]])
    _quiet(lnp.lu, a)
    _quiet(lnp.first_zero_pivot, a)


def _old_zero_pivot(sla, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu = sla.lu_factor(m, check_finite=False)[0]
    zero = np.flatnonzero(np.diagonal(lu) == 0)
    return int(zero[0]) + 1 if zero.size else 0


def test_first_zero_pivot_matches_lu_factor(sla):
    rng = np.random.default_rng(11)
    mats = [np.zeros((3, 3)), np.eye(3), np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]),
            np.array([[0.0, 0, 1], [0, 1, 0], [0, 0, 0]]), np.array([[0.0, 1], [0, 2]]),
            np.array([[1.0, 2], [2, 4]]), np.array([[4.0, 1, 2], [2, 0.5, 1], [1, 3, 3]]),
            np.diag([1.0, 2.0, 0.0]), rng.standard_normal((3, 3)),
            np.array([[1.0, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 2], [0, 0, 2, 4]])]
    for m in mats:
        assert lnp.first_zero_pivot(m) == _old_zero_pivot(sla, m)
    sq = [m for m in mats if m.shape == (3, 3)]
    got = _quiet(lnp.first_zero_pivot, np.stack(sq)[None])
    assert got.shape == (1, len(sq))
    assert got.ravel().tolist() == [_old_zero_pivot(sla, m) for m in sq]


def test_chainrule_inv_ex_and_lu_use_the_numpy_kernels(sla):
    rng = np.random.default_rng(12)
    a = np.stack([np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]]), np.eye(3), np.zeros((3, 3))])
    info = chainrule.linalg.inv_ex(chainrule.tensor(a)).info.numpy()
    assert info.tolist() == [_old_zero_pivot(sla, m) for m in a]
    b = rng.standard_normal((2, 4, 3))
    res = chainrule.linalg.lu(chainrule.tensor(b, dtype=chainrule.float64))
    for got, want in zip(res, _scipy_lu(sla, b)):
        assert np.allclose(got.numpy(), want, rtol=0, atol=1e-14)
    x = _bounded((2, 3, 3), 2.0, rng)
    e = chainrule.matrix_exp(chainrule.tensor(x, dtype=chainrule.float64)).numpy()
    assert _rel(e, sla.expm(x)).max() < 1e-14


def test_kernels_import_and_run_without_scipy():
    # load the module file on its own in a fresh interpreter where importing scipy fails
    path = os.path.join(os.path.dirname(chainrule.__file__), "_linalg_np.py")
    code = (
        "import sys, importlib.util, numpy as np\n"
        "sys.modules['scipy'] = None\n"
        f"spec = importlib.util.spec_from_file_location('lnp', {path!r})\n"
        "lnp = importlib.util.module_from_spec(spec); spec.loader.exec_module(lnp)\n"
        "a = np.array([[0.0, -1.0], [1.0, 0.0]])\n"
        "e = lnp.expm(np.stack([a, 3 * a, 100 * a]))\n"
        "assert np.allclose(e[0], [[np.cos(1), -np.sin(1)], [np.sin(1), np.cos(1)]])\n"
        "p, l, u = lnp.lu(np.array([[1.0, 2.0], [3.0, 4.0]]))\n"
        "assert np.allclose(p @ l @ u, [[1, 2], [3, 4]]) and p[0, 1] == 1\n"
        "assert lnp.first_zero_pivot(np.zeros((2, 2))) == 1\n"
        "assert 'scipy' not in {m.split('.')[0] for m in sys.modules if sys.modules[m]}\n"
        "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_linalg_modules_do_not_import_scipy():
    import ast
    import chainrule.linalg
    import chainrule.ops.linalg
    for mod in (chainrule.linalg, chainrule.ops.linalg, lnp):
        tree = ast.parse(open(mod.__file__).read())
        names = [a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for a in node.names]
        names += [node.module or "" for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "scipy"], mod.__name__
