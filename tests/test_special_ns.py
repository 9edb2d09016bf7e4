"""chainrule.special: values against scipy / mpmath over wide float64 grids, dtypes, errors,
out=, and the arguments torch gives no derivative."""
import numpy as np
import pytest

import chainrule
import chainrule.special as S
from conftest import needs_torch

sp = pytest.importorskip("scipy.special")


def _t(v):
    return chainrule.tensor(np.asarray(v, np.float64), dtype=chainrule.float64)


def _rel(got, want, tiny=1e-300):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    inf = np.isinf(want)
    np.testing.assert_array_equal(got[inf], want[inf])
    m = np.isfinite(want) & (np.abs(want) > tiny)
    return float(np.max(np.abs(got[m] - want[m]) / np.abs(want[m]))) if m.any() else 0.0


X_WIDE = np.concatenate([np.linspace(-40, 40, 4001), -np.logspace(-6, 3, 400),
                         np.logspace(-6, 3, 400), [0.0, np.inf, -np.inf, np.nan]])


@pytest.mark.parametrize("name,ref,tol", [
    ("erfcx", sp.erfcx, 1e-13), ("log_ndtr", sp.log_ndtr, 1e-12), ("ndtr", sp.ndtr, 1e-12),
    ("i0e", sp.i0e, 1e-14), ("i1e", sp.i1e, 1e-14), ("erf", sp.erf, 1e-15),
    ("erfc", sp.erfc, 1e-13), ("expit", sp.expit, 1e-15), ("entr", sp.entr, 1e-15)])
def test_unary_values_vs_scipy(name, ref, tol):
    # ndtr/log_ndtr of very negative x, and erfcx of negative x, are conditioned ~x^2 eps:
    # scipy's own rounding of x^2 gives part of the tolerance there (erfc too: chainrule's
    # splits exp(-x^2) exactly and agrees with mpmath to 1e-16 where scipy is off by 5e-14)
    got = getattr(S, name)(_t(X_WIDE)).numpy()
    assert _rel(got, ref(X_WIDE)) < tol


def test_erfcx_left_tail_vs_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    x = np.linspace(-26.5, -1.0, 37)
    want = np.array([float(mp.exp(mp.mpf(v) ** 2) * mp.erfc(mp.mpf(v))) for v in x])
    assert _rel(S.erfcx(_t(x)).numpy(), want) < 2e-15


def test_i1_and_i0_values():
    x = np.linspace(-700, 700, 2801)
    assert _rel(S.i1(_t(x)).numpy(), sp.i1(x)) < 1e-13
    assert _rel(S.i0(_t(x)).numpy(), sp.i0(x)) < 1e-13
    big = np.array([1e4, 1e8, 1e300])
    assert _rel(S.i0e(_t(big)).numpy(), sp.i0e(big)) < 1e-15
    assert _rel(S.i1e(_t(-big)).numpy(), sp.i1e(-big)) < 1e-15


def test_ndtri_values():
    p = np.concatenate([np.linspace(0, 1, 10001), np.logspace(-300, -1, 600),
                        1 - np.logspace(-16, -1, 300), [np.nan, -0.5, 1.5]])
    assert _rel(S.ndtri(_t(p)).numpy(), sp.ndtri(p)) < 1e-14
    # round trip through ndtr / log_ndtr in the far left tail
    z = S.ndtri(_t(np.logspace(-300, -20, 50)))
    np.testing.assert_allclose(S.log_ndtr(z).numpy(), np.log(np.logspace(-300, -20, 50)),
                               rtol=1e-14)


def test_zeta_values():
    s = np.concatenate([np.linspace(1.01, 30, 40), [2, 3, 4, 5, 50, 100]])
    q = np.concatenate([np.logspace(-3, 4, 60), [-1.5, -2.5, -0.3, 0, -2, np.inf]])
    ss, qq = np.meshgrid(s, q)
    assert _rel(S.zeta(_t(ss), _t(qq)).numpy(), sp.zeta(ss, qq), tiny=1e-290) < 1e-13
    edge_s = np.array([1.0, 0.5, np.nan, 2.0])
    edge_q = np.array([1.0, 1.0, 1.0, np.nan])
    assert _rel(S.zeta(_t(edge_s), _t(edge_q)).numpy(), sp.zeta(edge_s, edge_q)) == 0.0


def test_gammainc_values_vs_scipy():
    a = np.logspace(-3, 2, 50)
    x = np.logspace(-4, 3, 70)
    aa, xx = np.meshgrid(a, x)
    assert _rel(S.gammainc(_t(aa), _t(xx)).numpy(), sp.gammainc(aa, xx)) < 2e-13
    assert _rel(S.gammaincc(_t(aa), _t(xx)).numpy(), sp.gammaincc(aa, xx)) < 2e-13
    edge_a = np.array([0.0, 0.0, 1.0, -1.0, 1.0, np.inf, 2.0, np.nan])
    edge_x = np.array([0.0, 1.0, 0.0, 1.0, -1.0, 1.0, np.inf, 1.0])
    for f, g in ((S.gammainc, sp.gammainc), (S.gammaincc, sp.gammaincc)):
        assert _rel(f(_t(edge_a), _t(edge_x)).numpy(), g(edge_a, edge_x)) == 0.0


def test_gammainc_large_a_vs_mpmath():
    # scipy itself drifts to ~1e-12 for a ~ 1e3; mpmath is the reference there
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    rng = np.random.default_rng(0)
    a = 10 ** rng.uniform(-3, 3, 60)
    x = a * 10 ** rng.uniform(-1.2, 1.2, 60)
    p = S.gammainc(_t(a), _t(x)).numpy()
    q = S.gammaincc(_t(a), _t(x)).numpy()
    for ai, xi, pi, qi in zip(a, x, p, q):
        rp = mp.gammainc(mp.mpf(ai), 0, mp.mpf(xi), regularized=True)
        rq = mp.gammainc(mp.mpf(ai), mp.mpf(xi), mp.inf, regularized=True)
        if rp > 1e-290:
            assert abs(pi / float(rp) - 1) < 3e-13, (ai, xi)
        if rq > 1e-290:
            assert abs(qi / float(rq) - 1) < 3e-13, (ai, xi)


def test_xlog1py_and_aliases_vs_scipy():
    x = np.array([0.0, 0.0, 2.0, -1.5, 0.0])
    y = np.array([-1.0, np.nan, 3.0, 0.5, 5.0])
    assert _rel(S.xlog1py(_t(x), _t(y)).numpy(), sp.xlog1py(x, y)) < 1e-15
    g = np.linspace(0.1, 6, 30)
    assert _rel(S.gammaln(_t(g)).numpy(), sp.gammaln(g)) < 1e-14
    assert _rel(S.psi(_t(g)).numpy(), sp.psi(g)) < 1e-14
    assert _rel(S.polygamma(3, _t(g)).numpy(), sp.polygamma(3, g)) < 1e-13
    assert _rel(S.multigammaln(_t(g + 2), 3).numpy(),
                np.array([sp.multigammaln(v, 3) for v in g + 2])) < 1e-13
    p = np.linspace(0.01, 0.99, 40)
    assert _rel(S.logit(_t(p)).numpy(), sp.logit(p)) < 1e-13
    assert _rel(S.erfinv(_t(2 * p - 1)).numpy(), sp.erfinv(2 * p - 1)) < 1e-14
    assert _rel(S.exp2(_t(g)).numpy(), sp.exp2(g)) < 1e-15
    assert _rel(S.sinc(_t(g)).numpy(), np.sinc(g)) < 1e-13


def test_integers_promote_to_default_float():
    i = chainrule.tensor([1, 2, 3])
    for name in ("erfcx", "log_ndtr", "ndtr", "ndtri", "i0e", "i1e", "i1", "entr", "expit",
                 "gammaln"):
        assert getattr(S, name)(i).dtype == chainrule.float32, name
    assert S.zeta(i + 1, i).dtype == chainrule.float32
    assert S.xlog1py(i, i).dtype == chainrule.float32
    assert S.gammainc(i, chainrule.tensor([1.0])).dtype == chainrule.float32
    with pytest.raises(NotImplementedError):
        S.gammainc(i, i)
    f64 = chainrule.tensor([1.0], dtype=chainrule.float64)
    assert S.zeta(2.0, f64).dtype == chainrule.float64
    assert S.i0e(chainrule.tensor([1.0])).dtype == chainrule.float32


def test_no_gradient_for_the_first_argument():
    s = chainrule.tensor([2.0, 3.0], dtype=chainrule.float64, requires_grad=True)
    q = chainrule.tensor([1.5, 2.0], dtype=chainrule.float64, requires_grad=True)
    for fn in (S.zeta, S.gammainc, S.gammaincc):
        with pytest.raises(NotImplementedError):
            fn(s, q).sum().backward()
    gq, = chainrule.autograd.grad(S.zeta(s.detach(), q).sum(), [q])
    np.testing.assert_allclose(gq.numpy(), -np.array([2, 3]) * sp.zeta([3, 4], [1.5, 2.0]),
                               rtol=1e-13)


def test_errors_and_out():
    with pytest.raises(TypeError):
        S.gammainc(1.0, chainrule.tensor([1.0]))
    with pytest.raises(TypeError):
        S.zeta(2.0, 1.0)
    with pytest.raises(RuntimeError):
        S.zeta(chainrule.ones(2), chainrule.ones(3))
    x = chainrule.tensor([0.5, 1.0])
    o = chainrule.empty(2)
    r = S.erfcx(x, out=o)
    assert r is o
    np.testing.assert_allclose(o.numpy(), sp.erfcx([0.5, 1.0]), rtol=1e-6)
    with pytest.raises(RuntimeError):
        S.ndtr(x, out=chainrule.empty(2, dtype=chainrule.int64))
    with pytest.raises(RuntimeError):
        S.ndtr(x.requires_grad_(), out=chainrule.empty(2))
    with pytest.raises(IndexError):
        S.logsumexp(chainrule.tensor(1.0), 1)
    assert float(S.logsumexp(chainrule.tensor(1.0), -1)) == 1.0


@needs_torch
@pytest.mark.parametrize("name", ["erfcx", "log_ndtr", "ndtr", "ndtri", "i0e", "i1e", "i1",
                                  "entr", "expit", "sinc", "round", "psi"])
def test_float32_and_edge_values_match_torch(name):
    import torch
    v = [0.0, -0.0, 1e-30, 0.25, 0.5, 1.0, -3.0, 20.0, -40.0, 1e4, float("inf"),
         float("-inf"), float("nan")]
    for dt in ("float32", "float64"):
        a = getattr(S, name)(chainrule.tensor(v, dtype=getattr(chainrule, dt))).numpy()
        b = getattr(torch.special, name)(torch.tensor(v, dtype=getattr(torch, dt))).numpy()
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=2e-6 if dt == "float32" else 1e-12, atol=1e-300)


def test_module_namespace():
    assert chainrule.special is S
    for name in S.__all__:
        assert callable(getattr(S, name)), name


BESSEL = [("bessel_j0", "j0"), ("bessel_j1", "j1"), ("modified_bessel_i0", "i0"),
          ("modified_bessel_i1", "i1"), ("modified_bessel_k0", "k0"),
          ("modified_bessel_k1", "k1"), ("scaled_modified_bessel_k0", "k0e"),
          ("scaled_modified_bessel_k1", "k1e")]


@pytest.mark.parametrize("name,ref", BESSEL + [("spherical_bessel_j0", None)])
def test_bessel_values_vs_scipy(name, ref):
    x = np.concatenate([np.linspace(-100, 100, 4001), np.logspace(-8, 3, 300),
                        -np.logspace(-8, 3, 300), [0.0, np.inf, -np.inf, np.nan]])
    want = (getattr(sp, ref)(x) if ref else sp.spherical_jn(0, x))
    got = getattr(S, name)(_t(x)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    m = np.isfinite(want)
    np.testing.assert_array_equal(got[~m & ~np.isnan(want)], want[~m & ~np.isnan(want)])
    # oscillating J's: error relative to max(|f|, 1) (absolute near their zeros)
    scale = 1.0 if (ref or "j").startswith("j") else 1e-300
    err = np.abs(got[m] - want[m]) / np.maximum(np.abs(want[m]), scale)
    assert err.max() < 5e-15


@needs_torch
@pytest.mark.parametrize("name", [n for n, _ in BESSEL] + ["spherical_bessel_j0"])
def test_bessel_no_grad_dtype_errors_match_torch(name):
    import torch
    x = chainrule.tensor([0.5, 3.0], requires_grad=True)
    r = getattr(S, name)(x)
    t = getattr(torch.special, name)(torch.tensor([0.5, 3.0], requires_grad=True))
    assert r.requires_grad == t.requires_grad
    assert r.dtype == chainrule.float32
    np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-5)
    assert getattr(S, name)(chainrule.tensor([1, 2])).dtype == chainrule.float32
    with pytest.raises(TypeError):
        getattr(S, name)(1.0)
    v = [0.0, -1.0, 1e-6, 2.0, 2.5, 24.9, 25.1, 60.0, float("inf"), float("nan")]
    a = getattr(S, name)(chainrule.tensor(v, dtype=chainrule.float64)).numpy()
    b = getattr(torch.special, name)(torch.tensor(v, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)     # torch's J's are ~1e-7
