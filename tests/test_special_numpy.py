"""chainrule._special (pure NumPy) against scipy.special, which is a test-only reference: values
on dense grids (tiny, moderate, huge, negative, near poles and zeros, inf, nan), float32 and
float64, 0-d and empty inputs, result types, no warnings, and no scipy import."""
import ast
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from chainrule import _special as S

sp = pytest.importorskip("scipy.special")

TINY = np.finfo(np.float64).tiny
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def both_signs(a):
    a = np.asarray(a, dtype=np.float64)
    return np.concatenate([a, -a])


def near(points, offsets=np.logspace(-15, -1, 57)):
    return np.concatenate([p + both_signs(offsets) for p in points])


SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
WIDE = both_signs(np.logspace(-300, 300, 1201))
MODERATE = np.linspace(-40, 40, 16001)


def call_quiet(fn, *args):
    """fn(*args) with warnings and floating-point errors raised (chainrule's functions must stay
    silent everywhere, as scipy's ufuncs do)."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        return fn(*args)


def call_ref(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*args)


def assert_close(got, ref, rtol, scale=0.0, atol=0.0, x=None):
    """Same nan/inf pattern; elsewhere |got - ref| <= rtol * max(|ref|, scale) + atol, where
    scale (>= 0) is the size of terms that cancel in the exact value (its conditioning)."""
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    inf = np.isinf(ref)
    np.testing.assert_array_equal(got[inf], ref[inf])
    fin = np.isfinite(ref)
    assert np.isfinite(got[fin]).all()
    scale = np.broadcast_to(scale, ref.shape)[fin]
    err = np.abs(got[fin] - ref[fin])
    bound = rtol * np.maximum(np.abs(ref[fin]), scale) + atol
    bad = err > bound
    if bad.any():
        i = np.argmax(np.where(bad, err / np.maximum(bound, TINY), -1.0))
        where = "" if x is None else f" at x={np.broadcast_to(x, ref.shape)[fin][i]!r}"
        pytest.fail(f"{bad.sum()} values off: worst {got[fin][i]!r} vs {ref[fin][i]!r}{where} "
                    f"(error {err[i]:.3g}, bound {bound[i]:.3g})")


# -- float64 accuracy -------------------------------------------------------------------------

def test_expit():
    x = np.concatenate([WIDE, MODERATE, np.linspace(-760, 760, 30401), SPECIAL])
    # scipy flushes the subnormal range (x < -708) to 0, chainrule keeps it: atol one TINY
    assert_close(call_quiet(S.expit, x), sp.expit(x), 1e-13, atol=TINY, x=x)


def test_xlogy():
    xs = np.concatenate([[0.0, -0.0, 1e-300, -2.5, 3.0, 1e300, np.inf, -np.inf, np.nan],
                         np.linspace(-5, 5, 41)])
    ys = np.concatenate([[0.0, -0.0, 1e-300, 1.0, 1e300, np.inf, -1.0, -np.inf, np.nan],
                         np.logspace(-300, 300, 61), np.linspace(0, 3, 31)])
    x, y = np.meshgrid(xs, ys)
    assert_close(call_quiet(S.xlogy, x, y), sp.xlogy(x, y), 1e-13)


def test_erf():
    x = np.concatenate([WIDE, MODERATE, np.linspace(-7, 7, 28001), near([0.46875, 4.0, 6.0]),
                        SPECIAL])
    got = call_quiet(S.erf, x)
    assert_close(got, sp.erf(x), 1e-13, x=x)
    np.testing.assert_array_equal(np.signbit(got[x == 0]), np.signbit(x[x == 0]))


def test_erfc_keeps_relative_accuracy_into_the_tail():
    x = np.concatenate([WIDE, MODERATE, np.linspace(-7, 28, 70001), near([0.46875, 4.0, 6.0]),
                        SPECIAL])
    ref = sp.erfc(x)
    got = call_quiet(S.erfc, x)
    normal = ref >= TINY
    assert_close(got[normal], ref[normal], 1e-13, x=x[normal])
    # the subnormal tail (x in 26.55..27.3): absolute error below the smallest normal
    assert_close(got[~normal], ref[~normal], 0.0, atol=TINY)
    assert (got[(x > 26.0) & (x < 27.2)] > 0).all()


def test_erfinv_near_and_beyond_one():
    tail = both_signs(1.0 - np.logspace(-16, -0.31, 4001))
    x = np.concatenate([np.linspace(-1, 1, 40001), tail, both_signs(np.logspace(-300, -1, 601)),
                        both_signs([1.0 - 2.0 ** -53, 1.0, 1.0 + 2.0 ** -52, 1.5, 1e300]),
                        SPECIAL])
    got = call_quiet(S.erfinv, x)
    assert_close(got, sp.erfinv(x), 1e-13, x=x)
    fin = np.isfinite(got) & (np.abs(x) > 0.5)
    assert_close(S.erfc(np.abs(got[fin])), 1.0 - np.abs(x[fin]), 1e-13)   # round trip


def _reflection_scale(x, regular, singular):
    """For x < 0 the size of the two reflection terms (which cancel near the function's negative
    zeros), from scipy and NumPy; 0 for x >= 0."""
    neg = (x < 0) & np.isfinite(x)
    out = np.zeros_like(x)
    with np.errstate(all="ignore"):
        out[neg] = np.abs(regular(1.0 - x[neg])) + np.abs(singular(x[neg]))
    return np.nan_to_num(out, posinf=0.0)


def test_gammaln():
    ints = np.arange(-30.0, 1.0)
    x = np.concatenate([WIDE, MODERATE, np.linspace(0, 10, 20001), near([1.0, 2.0]),
                        near(ints[:-1], np.logspace(-12, -1, 23)), near([2.5, 8.0, 0.5, -0.5]),
                        -np.logspace(0, 15, 301) - 0.5, np.logspace(300, 305.5, 101),
                        [2.5563e305, 2.6e305, 1e306, np.finfo(np.float64).max], ints,
                        [-1e20, -2.0 ** 52, -2.0 ** 52 - 0.5], SPECIAL])
    scale = _reflection_scale(x, sp.gammaln,
                              lambda x: np.log(np.pi / np.abs(np.sin(np.pi * (x - np.round(x))))))
    # near its zeros at 1 and 2 an absolute error of 1e-15 is allowed (scipy is off by 1e-10
    # relative there; chainrule keeps full relative accuracy, checked in test_against_mpmath)
    assert_close(call_quiet(S.gammaln, x), sp.gammaln(x), 1e-13, scale, atol=1e-15, x=x)


def test_digamma():
    ints = np.arange(-30.0, 1.0)
    x = np.concatenate([WIDE, MODERATE, np.linspace(0, 12, 24001),
                        near([1.4616321449683622, 1.0, 2.0, 10.0]),
                        near(ints[:-1], np.logspace(-12, -1, 23)), -np.logspace(0, 15, 301) - 0.5,
                        -np.logspace(0, 15, 301) - 0.25, ints, [-1e20, 5e-324, -5e-324], SPECIAL])
    cot = lambda x: np.pi / np.tan(np.pi * (x - np.round(x)))  # noqa: E731
    scale = _reflection_scale(x, sp.digamma, cot)
    ref = sp.digamma(x)
    # scipy loses up to 1e-4 (relative) just right of the negative integers (-2 + 1e-12 gives
    # -9.9985e11 for -9.9991e11): there the reference is the reflection formula on scipy's
    # digamma(1 - x), psi(x) = psi(1 - x) - pi cot(pi x)
    with np.errstate(all="ignore"):
        off = (x < 0) & (np.abs(x - np.round(x)) < 1e-3) & (x != np.round(x))
        ref[off] = sp.digamma(1.0 - x[off]) - cot(x[off])
    assert_close(call_quiet(S.digamma, x), ref, 1e-13, scale, atol=1e-15, x=x)


def _zeta_terms(n, x):
    """n! sum_k |x + k|^-(n+1): the size of the terms in psi^(n)(x)'s series (which cancel
    near its zeros for x < 0); a tolerance scale only."""
    s = np.zeros_like(x)
    with np.errstate(all="ignore"):
        for k in range(60):
            s += np.abs(x + k) ** -(n + 1.0)
        return np.nan_to_num(math.factorial(n) * s, posinf=0.0)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 12])
def test_polygamma(n):
    ints = np.arange(-20.0, 1.0)
    x = np.concatenate([np.logspace(-300, 300, 601), np.linspace(-30, 60, 9001),
                        near(ints[:-1], np.logspace(-8, -1, 15)), near([1.0, 2.0, 10.0]),
                        np.arange(-20.5, 0), -np.logspace(0, 5, 51) - 0.3, ints, SPECIAL])
    got = call_quiet(S.polygamma, n, x)
    assert_close(got, call_ref(sp.polygamma, n, x), 1e-12, _zeta_terms(n, x), atol=1e-300,
                 x=x)


def test_trigamma_far_left():
    # scipy sums the series term by term for x < 0 (minutes at -1e10): check against
    # psi'(x) + psi'(1 - x) = pi^2 / sin^2(pi x) instead
    x = -np.logspace(5, 15, 41) - 0.3
    r = x - np.round(x)
    ref = np.pi ** 2 / np.sin(np.pi * r) ** 2 - sp.polygamma(1, 1.0 - x)
    assert_close(call_quiet(S.polygamma, 1, x), ref, 1e-13)


def test_polygamma_orders():
    x = np.linspace(-5.3, 7.1, 37)
    np.testing.assert_array_equal(S.polygamma(0, x), S.digamma(x))
    n = np.array([[0], [1], [2], [5], [-1], [1.5]])
    assert_close(call_quiet(S.polygamma, n, x), call_ref(sp.polygamma, n, x), 1e-12,
                 _zeta_terms(5, x))
    assert_close(S.polygamma(3.0, x), S.polygamma(3, x), 0.0)


# -- float32, 0-d, empty, dtypes --------------------------------------------------------------

F32_CASES = {
    "expit": np.linspace(-110, 110, 4001),
    "erf": np.linspace(-5, 5, 4001),
    "erfc": np.linspace(-5, 10, 4001),
    "erfinv": np.concatenate([np.linspace(-1, 1, 4001), 1 - np.logspace(-7.2, -1, 401)]),
    "gammaln": np.concatenate([np.linspace(-20.3, 30, 4001),
                               near([1.0, 2.0], np.logspace(-7, -1, 13))]),
    "digamma": np.concatenate([np.linspace(-20.3, 30, 4001),
                               near([1.4616321], np.logspace(-6, -1, 11))]),
}


@pytest.mark.parametrize("name", sorted(F32_CASES))
def test_float32(name):
    x = np.concatenate([F32_CASES[name], both_signs(np.logspace(-30, 30, 121)), SPECIAL])
    x = x.astype(np.float32)
    got = call_quiet(getattr(S, name), x)
    assert got.dtype == np.float32 and getattr(sp, name)(x).dtype == np.float32
    # against scipy's float64 value rounded once (chainrule's float32 is computed that way;
    # expit runs in float32 itself: a few ulps)
    ref = getattr(sp, name)(x.astype(np.float64))
    ref32 = ref.astype(np.float32)
    assert_close(got, ref32, 5e-7, atol=1e-14)


def test_float32_polygamma_and_xlogy():
    x = np.linspace(-9.7, 20, 2001).astype(np.float32)
    for n in (1, 2, 5):
        got = S.polygamma(n, x)
        assert got.dtype == np.float32
        ref = call_ref(sp.polygamma, n, x.astype(np.float64)).astype(np.float32)
        assert_close(got, ref, 5e-7, _zeta_terms(n, x.astype(np.float64)), atol=1e-30)
    a, b = np.meshgrid(np.linspace(-2, 2, 41, dtype=np.float32),
                       np.linspace(0, 4, 41, dtype=np.float32))
    got = call_quiet(S.xlogy, a, b)
    assert got.dtype == np.float32 == sp.xlogy(a, b).dtype
    assert_close(got, sp.xlogy(a.astype(np.float64), b.astype(np.float64)).astype(np.float32),
                 5e-7)


UNARY = ["expit", "erf", "erfc", "erfinv", "gammaln", "digamma"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("value", [0.3, np.float32(0.3), np.array(0.3), np.array(-2.5, np.float32),
                                   np.zeros(0), np.zeros((2, 0), np.float32), np.ones((1, 3, 1)),
                                   3, np.int8(1), np.int16(2), np.int64(7), np.float16(0.5),
                                   True, np.array([0.5, 0.25], np.float16)])
def test_result_types_match_scipy(name, value):
    got, ref = call_quiet(getattr(S, name), value), getattr(sp, name)(value)
    assert type(got) is type(ref)
    assert np.shape(got) == np.shape(ref) and got.dtype == ref.dtype
    assert_close(got, ref, 5e-7 if ref.dtype == np.float32 else 1e-13, atol=1e-15)


@pytest.mark.parametrize("x,y", [(0.3, 2.0), (np.float32(0.3), np.float32(2.0)),
                                 (np.array(0.3, np.float32), np.float32(0.0)),
                                 (np.zeros(0, np.float32), np.float32(1.0)),
                                 (np.ones((2, 1), np.float32), np.ones(3, np.int16)),
                                 (np.float32(2.0), 1.5), (3, np.ones(2, np.int8))])
def test_xlogy_result_types_match_scipy(x, y):
    got, ref = call_quiet(S.xlogy, x, y), sp.xlogy(x, y)
    assert type(got) is type(ref) and np.shape(got) == np.shape(ref)
    assert got.dtype == ref.dtype
    assert_close(got, ref, 1e-13)


@pytest.mark.parametrize("value", [0.3, np.array(0.3), np.zeros(0), np.ones((2, 3)), 4])
def test_polygamma_result_types(value):
    got, ref = S.polygamma(2, value), sp.polygamma(2, value)
    assert type(got) is type(ref) is np.ndarray
    assert got.shape == ref.shape and got.dtype == ref.dtype == np.float64
    assert S.polygamma(2, np.float32(value) if np.ndim(value) == 0 else
                       np.asarray(value, np.float32)).dtype == np.float32


def test_no_scipy_at_runtime():
    """chainrule/_special.py runs with scipy unimportable; the modules it serves import it."""
    path = os.path.join(ROOT, "chainrule", "_special.py")
    code = (
        "import sys, importlib.util\n"
        "sys.modules['scipy'] = None\n"
        f"spec = importlib.util.spec_from_file_location('special_alone', {path!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "import numpy as np\n"
        "x = np.linspace(-3.3, 3.3, 12)\n"
        "vals = [m.expit(x), m.xlogy(x, x * x), m.erf(x), m.erfc(x), m.erfinv(x / 4),\n"
        "        m.gammaln(x), m.digamma(x), m.polygamma(0, x), m.polygamma(3, x)]\n"
        "assert all(np.isfinite(v).all() for v in vals)\n"
        "assert not [k for k, v in sys.modules.items() if k.startswith('scipy') and v]\n"
        "print('ok')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    for rel in ("chainrule/_special.py", "chainrule/ops/elementwise.py",
                "chainrule/ops/nn_ops.py"):
        with open(os.path.join(ROOT, rel)) as f:
            tree = ast.parse(f.read())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in names if m.split(".")[0] == "scipy"], rel


def test_special_ops_run_without_scipy():
    """The public ops built on _special, forward and backward, with scipy unimportable."""
    code = (
        "import sys\n"
        "sys.modules['scipy'] = None\n"
        "import chainrule as c\n"
        "import chainrule.nn.functional as F\n"
        "for dt in (c.float32, c.float64):\n"
        "    x = c.tensor([0.3, 1.7, -2.5], dtype=dt, requires_grad=True)\n"
        "    y = (c.sigmoid(x) + c.erf(x) + c.erfc(x) + c.erfinv(x / 3) + c.lgamma(x)\n"
        "         + c.digamma(x) + c.polygamma(2, x) + c.xlogy(x, x * x)\n"
        "         + F.binary_cross_entropy_with_logits(x, c.sigmoid(x)))\n"
        "    y.sum().backward()\n"
        "    assert y.dtype == dt and bool(c.isfinite(x.grad).all())\n"
        "assert not [k for k, v in sys.modules.items() if k.startswith('scipy') and v]\n"
        "print('ok')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


# -- where scipy itself is off: a high-precision reference ------------------------------------

def test_against_mpmath():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    # (function, reference, points, absolute slack): full relative accuracy except at negative
    # points next to the function's zeros, where the reflection terms (~1) cancel
    cases = [
        (S.gammaln, lambda v: mp.log(abs(mp.gamma(v))),
         [1.0 - 1e-10, 1.0 + 1e-7, 0.9999750000000001, 2.0 - 1e-5, 2.0 + 3e-9, 0.99, 1e-300,
          -0.5, 170.6, 3e5], 0.0),
        (S.gammaln, lambda v: mp.log(abs(mp.gamma(v))), [-2.5, -2.4570247, -3.99], 5e-16),
        (S.digamma, mp.digamma, [1.46163214496836, 1.4616321449683622 + 1e-12, 1.2, 1.95, 0.3,
                                 -0.5, -5.9998, -2 + 1e-12, -1 + 1e-12], 0.0),
        (S.digamma, mp.digamma, [-2.6104, -0.5040830082644554], 5e-16),
        (S.erfc, mp.erfc, [5.0, 10.3, 20.7, 25.9, 26.2, 26.5], 0.0),
        (S.erfinv, mp.erfinv, [1 - 2.0 ** -53, -(1 - 1e-14), 1 - 1e-10, 0.5, 1e-300], 0.0),
        (lambda v: S.polygamma(12, v), lambda v: mp.polygamma(12, v), [-9.5, -9.3, 0.01, 40.0],
         0.0),
        (lambda v: S.polygamma(4, v), lambda v: mp.polygamma(4, v), [-19.5, -0.3, 2.0], 0.0),
    ]
    for fn, ref, xs, slack in cases:
        for v in xs:
            want = float(ref(mp.mpf(v)))
            got = float(fn(np.float64(v)))
            assert abs(got - want) <= 4e-16 * abs(want) + slack, (v, got, want)
