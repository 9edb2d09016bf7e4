"""chainrule.ops.extra beyond the op table: integer and bool results, dtypes, edge values,
views, in-place forms, named tuples, ties and kinks, and errors, compared with torch."""
import warnings

import numpy as np
import pytest

import chainrule
from conftest import needs_torch, to_np

c = chainrule

X = "m.tensor([[0.5, -1.2, 2.0], [0.3, 0.0, -0.7]])"
Y = "m.tensor([[1.5, 0.2, -2.0], [0.3, 0.1, 0.7]])"
IV = "m.tensor([4, 6, 9])"
NAN = "float('nan')"
INF = "float('inf')"

# expressions evaluated with m = chainrule and m = torch; results compared (values, dtypes)
SAME = [
    f"m.addcmul({IV}, {IV}, {IV}, value=2.5)",
    f"m.addcmul({X}, {IV}, {IV}, value=2.5)",
    f"m.addcdiv({IV}, {IV} * 1.0, {IV})",
    "m.addcmul(m.tensor(1., dtype=m.float64), m.ones(3), m.ones(3))",
    "m.addcmul(m.zeros(2, 1, dtype=m.float64), m.ones(3), m.ones(1, 3))",
    f"{X}.addcmul_({Y}, {Y}, value=2)",
    f"{X}.addcdiv_({Y}, {Y} + 5)",
    f"m.cdist({X}, {Y}, p=0)",
    f"m.cdist({X}[None], {Y}[:, None])",
    "m.cdist(m.ones(2, 0), m.ones(3, 0))",
    "m.cdist(m.ones(0, 2), m.ones(3, 2)).shape",
    "m.cdist(m.ones(2, 3, 1), m.ones(4, 1, 2, 1)).shape",
    f"m.pdist(m.cat([{X}, {Y}]), p=0)",
    "m.pdist(m.ones(1, 2))",
    f"m.diff({X}, n=3, append={Y}, prepend={Y})",
    "m.diff(m.tensor([True, False, False]))",
    "m.diff(m.tensor([1, 5, 2], dtype=m.uint8))",
    "m.diff(m.tensor([True, False]), prepend=m.tensor([1]))",
    "m.diff(m.tensor([1, 2]), prepend=m.tensor([1.5]))",
    f"m.diff({IV}, n=0)",
    f"m.diff({IV}, n=5)",
    "m.diff(m.ones(1, 3), dim=0)",
    "m.logit(m.tensor([0., .2, 1., 1.5]))",
    "m.logit(m.tensor([0., .2, 1., 1.5]), eps=0.1)",
    "m.logit(m.tensor([0, 1]))",
    f"m.heaviside({X}, m.tensor(0.5))",
    f"m.heaviside({IV} - 6, m.tensor([7]))",
    f"m.heaviside({X}, {Y})",
    f"m.fmax(m.tensor([1., {NAN}, {NAN}, -0.]), m.tensor([{NAN}, 2., {NAN}, 0.]))",
    f"m.fmin(m.tensor([1., {NAN}, {NAN}]), m.tensor([{NAN}, 2., {NAN}]))",
    f"m.fmax({IV}, m.tensor(2.5))",
    f"m.fmin({IV}, m.tensor([5, 7, 8], dtype=m.int32))",
    "m.fmax(m.tensor([True, False]), m.tensor([False, False]))",
    "m.sinc(m.tensor([0, 1, 2]))",
    "m.sinc(m.tensor([True]))",
    f"m.sinc(m.tensor([0., -0., 1e-20, {INF}]))",
    "m.deg2rad(m.tensor([180]))",
    "m.deg2rad(m.tensor([True]))",
    "m.rad2deg(m.tensor([3], dtype=m.int8))",
    "m.gcd(m.tensor([4, -6, 0, 0, 7]), m.tensor([6, 4, 0, -5, 13]))",
    "m.lcm(m.tensor([4, -6, 0, 0, 7]), m.tensor([6, 4, 0, -5, 13]))",
    "m.gcd(m.tensor([4], dtype=m.int32), m.tensor([2], dtype=m.int16))",
    "m.gcd(m.tensor([4], dtype=m.uint8), m.tensor([2], dtype=m.int8))",
    "m.lcm(m.tensor([[4], [6]]), m.tensor([10, 3]))",
    "m.gcd_(m.tensor([4, 2], dtype=m.int32), m.tensor([6, 3]))",
    "m.tensor([4, 9]).lcm_(m.tensor([6, 6]))",
    f"m.signbit(m.tensor([-0., 0., -1., {NAN}, -{NAN}, -{INF}]))",
    f"m.signbit({IV} - 5)",
    "m.signbit(m.tensor([True]))",
    "m.signbit(m.tensor([1], dtype=m.uint8))",
    f"m.logcumsumexp(m.tensor([-1000., 0., 1000., -{INF}]), 0)",
    f"m.logcumsumexp(m.tensor([-{INF}, -{INF}, 1.]), 0)",
    "m.logcumsumexp(m.tensor(2.), 0)",
    "m.logcumsumexp(m.tensor([[1., 2.], [3., 4.]], dtype=m.float64), -2)",
    "m.i0(m.tensor([0., 1e-3, 5, 20, 30, 50, 100, 700, -3], dtype=m.float64))",
    "m.i0(m.tensor([0., 1e-3, 5, 20, 30, 50, 88, -3]))",
    f"m.i0({IV})",
    "m.i0(m.tensor([True]))",
    "m.i0_(m.tensor([1., 2.]))",
    f"m.mvlgamma({X}.abs() + 2, 3)",
    f"m.mvlgamma({IV}, 2)",
    "m.mvlgamma(m.tensor([1., 2., 3.]), 3)",
    "m.tensor([1., 2.]).mvlgamma_(1)",
    f"m.dist({X}, {IV}[:3])",
    f"m.dist({X}, {Y}.double())",
    f"m.dist({X}, {Y}, 0)",
    f"m.dist({X}, {Y}, -1)",
    f"m.dist({X}, {Y}, -{INF})",
    "m.diagflat(m.tensor([[1, 2], [3, 4]]), 1)",
    "m.diagflat(m.tensor(5.))",
    "m.diagflat(m.tensor([1, 2]), -1)",
    "m.renorm(m.ones(3, 4), 2, 0, 1)",
    f"m.renorm({X}, {INF}, 1, 0.5)",
    "m.ones(2, 3).renorm_(2, 0, 1)",
    f"m.vander({IV})",
    f"m.vander({X}[0], N=0)",
    "m.vander(m.tensor([True, False]))",
    "m.vander(m.tensor([1, 2], dtype=m.int8))",
    "m.vander(m.tensor([2., 3.]), 1)",
    "m.rsub(m.tensor([1, 2]), 2.5)",
    "m.rsub(m.tensor([1., 2]), m.tensor([1, 2]), alpha=0.5)",
    f"m.rsub({IV}, 3)",
    "m.ravel(m.tensor(3))",
    f"m.nextafter({X}, {Y})",
    f"m.nextafter({X}, m.tensor(5., dtype=m.float64))",
    f"m.nextafter(m.tensor([0., {INF}, 1.]), m.tensor([1., 0., {NAN}]))",
    f"m.ldexp({X}, {IV})",
    f"m.ldexp({IV}, {IV})",
    "m.ldexp(m.tensor([1, 2], dtype=m.int32), m.tensor([1, 2], dtype=m.int32))",
    "m.ldexp(m.tensor([1.]), m.tensor([1.5]))",
    "m.ldexp_(m.tensor([1., 2]), m.tensor([1, 2]))",
    f"m.frexp(m.tensor([0., -0., 8., {INF}, -{INF}, {NAN}, 1e-40, -3.]))",
    "m.frexp(m.tensor([1e-310, 3., 0.1], dtype=m.float64))",
    "m.tensor(8.0, dtype=m.float64).frexp()",
    "m.ones(2, 3).sum_to_size(3)",
    "m.ones(2, 3).sum_to_size((2, 1))",
    "m.ones(2, 3).sum_to_size([1])",
    "m.arange(6).reshape(2, 3).sum_to_size(2, 3)",
    "m.arange(7.).unfold(0, 3, 2)",
    "m.arange(7.).unfold(0, 0, 2)",
    "m.tensor(5.).unfold(0, 1, 1)",
    "m.tensor(5.).unfold(0, 0, 1)",
    "m.arange(24).reshape(2, 3, 4).unfold(1, 2, 1)",
    "m.arange(24).reshape(2, 3, 4).transpose(0, 2).unfold(0, 3, 1)",
    "m.zeros(5, 3).fill_diagonal_(2, wrap=True)",
    "m.zeros(7, 3).fill_diagonal_(2, wrap=True)",
    "m.zeros(7, 3).fill_diagonal_(2)",
    "m.zeros(3, 5).fill_diagonal_(2, wrap=True)",
    "m.zeros(3, 3, 3).fill_diagonal_(2)",
    "m.zeros(3, 3, dtype=m.long).fill_diagonal_(2.7)",
    "m.zeros(3, 3).fill_diagonal_(m.tensor(2.7))",
    "m.zeros(3, 3, dtype=m.bool).fill_diagonal_(2)",
    "m.tril_indices(3, 4, dtype=m.int32)",
    "m.tril_indices(0, 0)",
    "m.triu_indices(3, 3, 10)",
    "m.block_diag(m.tensor(1), m.tensor([2, 3]), m.ones(2, 2))",
    "m.block_diag()",
    "m.block_diag(m.ones(0, 2), m.ones(2, 0))",
    "m.block_diag(m.tensor(1.5, dtype=m.float64), m.ones(2, 2))",
    "m.block_diag(m.tensor([[1, 2]], dtype=m.int8), m.tensor([[3]], dtype=m.uint8))",
    "m.cartesian_prod(m.tensor([1, 2]), m.tensor([3, 4, 5]), m.tensor([7, 8]))",
    "m.cartesian_prod(m.tensor([1, 2]))",
    "m.cartesian_prod(m.tensor([1, 2]), m.tensor([], dtype=m.long))",
    "m.combinations(m.tensor([1, 2, 3, 4]), 3)",
    "m.combinations(m.tensor([1, 2, 3]), r=3, with_replacement=True)",
    "m.combinations(m.tensor([1, 2, 3]), r=0)",
    "m.combinations(m.tensor([1, 2, 3]), r=4)",
    "m.combinations(m.tensor([]), r=2)",
    "m.combinations(m.tensor([1., 2.]), r=1)",
    f"m.cov({IV})",
    f"m.cov(m.stack([{IV}, {IV} * 2]))",
    f"m.cov({X}, correction=0, fweights=m.tensor([1, 2, 1]), aweights=m.tensor([.5, 1., 2.]))",
    f"m.cov({X}, correction=3, fweights=m.tensor([1, 2, 1]), aweights=m.tensor([.5, 1., 2.]))",
    f"m.cov({X}, aweights=m.tensor([0.5, 1., 2.], dtype=m.float64))",
    f"m.cov({X}.double(), aweights=m.tensor([0.5, 1., 2.]))",
    f"m.cov({X}, fweights=m.tensor([1, 2, 1], dtype=m.int32))",
    f"m.cov({X}, fweights=m.tensor([0, 2, 0]))",
    f"m.corrcoef({IV})",
    f"m.corrcoef(m.stack([{IV}, {IV} * 2]))",
    "m.corrcoef(m.tensor([[1., 1, 1], [3, 1, 0]]))",
    "m.corrcoef(m.tensor([[1., 1, 1]]))",
    f"m.trapezoid({IV})",
    f"m.trapezoid({IV}, dx=2)",
    f"m.trapezoid({IV}, dx=2.5)",
    f"m.trapezoid({X}, {IV})",
    f"m.trapezoid({IV}, {IV})",
    f"m.trapezoid({X}, {Y}[:1])",
    "m.trapezoid(m.ones(0, 3), dim=0)",
    "m.trapezoid(m.ones(0, 3, dtype=m.int64), dim=0)",
    f"m.trapezoid({X}.double(), {Y}[0])",
    f"m.trapz({X}, {Y}[0])",
    f"m.cumulative_trapezoid({IV})",
    f"m.cumulative_trapezoid({IV}, dx=2)",
    f"m.cumulative_trapezoid({IV}, {IV})",
    "m.cumulative_trapezoid(m.ones(0, 3), dim=0)",
    "m.cumulative_trapezoid(m.ones(1, 3), dim=0)",
    "m.bincount(m.tensor([1, 1, 3]))",
    "m.bincount(m.tensor([1, 1, 3]), minlength=6)",
    "m.bincount(m.tensor([1, 1, 3]), weights=m.tensor([.5, .5, 2.]))",
    "m.bincount(m.tensor([1, 1, 3]), weights=m.tensor([.5, .5, 2.], dtype=m.float64))",
    "m.bincount(m.tensor([1, 1, 3]), weights=m.tensor([1, 2, 3]))",
    "m.bincount(m.tensor([1, 1, 3]), weights=m.tensor([1, 2, 3], dtype=m.int32))",
    "m.bincount(m.tensor([], dtype=m.long))",
    "m.bincount(m.tensor([], dtype=m.long), weights=m.tensor([]), minlength=2)",
    "m.bincount(m.tensor([1, 1, 3], dtype=m.uint8))",
    "m.tensor([0, 4, 4]).bincount(minlength=2)",
    "m.histc(m.tensor([1., 2, 1, 4, 5]), bins=4, min=0, max=3)",
    "m.histc(m.tensor([1., 2, 1, 4, 5]), bins=4)",
    "m.histc(m.tensor([1., 1, 1]), bins=4)",
    "m.histc(m.tensor([], dtype=m.float32), bins=4)",
    "m.histc(m.tensor([[1., 2], [3, 4]]).double(), bins=3)",
    "m.histc(m.tensor([1., 2]), bins=3, min=1, max=1)",
    f"m.histc(m.tensor([1., {NAN}]), bins=4, min=0, max=2)",
    "m.histc(m.tensor(np.linspace(-3, 3, 1001).astype('float32')), bins=7)",
    "m.histc(m.tensor(np.linspace(-3, 3, 1001)), bins=9, min=-2.5, max=2)",
    "m.tensor([0.1, 0.2, 0.3, 0.7]).histc(bins=3, min=0.1, max=0.7)",
    "m.isin(m.tensor([1, 2, 3]), m.tensor([2, 5]))",
    "m.isin(m.tensor([1, 2, 3]), 2)",
    "m.isin(2, m.tensor([1, 2, 3]))",
    "m.isin(m.tensor([1, 2, 3]), m.tensor([2., 5]))",
    "m.isin(m.tensor([1.5, 2, 3]), m.tensor([2, 1]))",
    "m.isin(m.tensor([1, 2, 3]), m.tensor([2, 5]), invert=True)",
    "m.isin(m.tensor([1, 2, 3]), 2.5)",
    "m.isin(m.tensor([[1, 2], [3, 4]]), m.tensor([[2, 5]]), assume_unique=True)",
    f"m.isin(m.tensor([1., {NAN}]), m.tensor([{NAN}]))",
    "m.unravel_index(m.tensor([4, 1]), (2, 3))",
    "m.unravel_index(m.tensor(4), (2, 3))",
    "m.unravel_index(m.tensor([-1, -7, 6]), (2, 3))",
    "m.unravel_index(m.tensor([1]), 6)",
    "m.unravel_index(m.tensor([1]), ())",
    "m.unravel_index(m.tensor([1], dtype=m.int32), (2, 3))",
    "m.unravel_index(m.tensor([[13, 4], [2, 1]]), m.Size([3, 2, 4]))",
    "m.hann_window(0)",
    "m.hann_window(1)",
    "m.hamming_window(6, True, 0.5, 0.3)",
    "m.hamming_window(5, True, alpha=0.3)",
    "m.kaiser_window(5, True, 5.0)",
    "m.kaiser_window(5, False, beta=5.0)",
    "m.hann_window(3, requires_grad=True)",
    "m.is_signed(m.tensor([1], dtype=m.uint8))",
    "m.is_signed(m.tensor([1], dtype=m.int8))",
    "m.is_signed(m.tensor([1.]))",
    "m.is_signed(m.tensor([True]))",
    "m.tensor([1], dtype=m.int16).is_signed()",
    "m.logit_(m.tensor([0.25, 0.5]))",
    "m.sinc_(m.tensor([0.25, 0.]))",
    "m.deg2rad_(m.tensor([180., 90.]))",
    "m.rad2deg_(m.tensor([1., 2.]))",
    "m.tensor([1., 2.]).heaviside_(m.tensor([0.]))",
    "m.tensor([1., 2.]).nextafter_(m.tensor([0., 0.]))",
]

WINDOWS = [(name, n, periodic, dt) for name in ("hann_window", "hamming_window",
                                                 "blackman_window", "bartlett_window",
                                                 "kaiser_window")
           for n in (2, 3, 4, 7, 10) for periodic in (True, False)
           for dt in ("float32", "float64")]

# invalid calls: both libraries must raise the same exception class
BAD = [
    f"m.addcmul({X}, {X}, 2.0)",
    f"m.addcmul({X}, m.ones(4), {X})",
    f"m.addcdiv({X}, {IV}, {IV})",
    f"m.addcmul({X}, {X}, {X}, value='a')",
    "m.ones(3).addcmul_(m.ones(2, 3), m.ones(3))",
    "m.ones(3, dtype=m.long).addcdiv_(m.ones(3), m.ones(3))",
    f"m.cdist({IV}[:, None], {IV}[:, None])",
    "m.cdist(m.ones(2, 1, dtype=m.float64), m.ones(3, 1))",
    "m.cdist(m.ones(2, 3, 1), m.ones(3, 2, 1))",
    "m.pdist(m.ones(3, 2, dtype=m.int64))",
    "m.diff(m.ones(3), prepend=m.tensor(1.))",
    "m.diff(m.ones(2, 3), prepend=m.ones(3))",
    "m.diff(m.ones(3), n=1.5)",
    "m.logit('x')",
    f"m.heaviside({X}, 0.5)",
    f"m.heaviside({X}, m.tensor(0.5, dtype=m.float64))",
    "m.heaviside(m.ones(2), m.ones(3))",
    f"m.fmin(2.0, {X})",
    f"m.gcd({IV}, 2)",
    "m.gcd(m.tensor([True]), m.tensor([True]))",
    f"m.lcm({X}, {X})",
    f"m.gcd({IV}, {X}[0])",
    "m.tensor([4], dtype=m.int8).gcd_(m.tensor([[2], [3]], dtype=m.int8))",
    f"m.logcumsumexp({X}, 2)",
    "m.logcumsumexp(m.tensor([True]), 0)",
    "m.i0('x')",
    f"m.dist({X}, m.ones(2))",
    f"m.dist({X}, 1.0)",
    f"m.renorm({IV}[None] , 2, 0, 1)",
    "m.renorm(m.tensor(3.), 2, 0, 1)",
    f"m.renorm({X}, -1, 0, 1)",
    "m.vander(m.tensor(2.))",
    f"m.rsub(2, {X})",
    "m.rsub(m.tensor([True]), m.tensor([True]))",
    "m.nextafter(m.tensor([1, 2]), m.tensor([1, 2]))",
    "m.frexp(m.tensor([True]))",
    "m.ones(2, 3).sum_to_size(1, 1, 3)",
    "m.ones(2, 3).sum_to_size()",
    "m.tensor(5.).unfold(0, 2, 1)",
    "m.ones(2, 3).unfold(1, -1, 1)",
    "m.tril_indices(3, 4, dtype=m.float32)",
    "m.tril_indices(-1, 4)",
    "m.triu_indices(3, -4)",
    "m.block_diag(m.ones(2, 2, 2))",
    "m.cartesian_prod(m.tensor([1, 2]), m.tensor([3., 4., 5.]))",
    "m.cartesian_prod(m.tensor(1))",
    "m.cartesian_prod()",
    "m.combinations(m.ones(2, 2), r=2)",
    f"m.cov({X}, fweights=m.tensor([1., 2, 1]))",
    f"m.cov({X}, fweights=m.tensor([1, -2, 1]))",
    f"m.cov({X}, aweights=m.tensor([1, 2, 1]))",
    f"m.cov({X}, aweights=m.tensor([1., -2, 1]))",
    f"m.cov({X}, aweights=m.tensor([[1., 2, 3]]))",
    f"m.cov({X}, correction=True)",
    "m.cov(m.tensor([[True, False], [True, True]]))",
    "m.corrcoef(m.ones(2, 2, 2))",
    f"m.trapezoid({X}, {X}, dx=2)",
    "m.trapezoid(m.ones(2, 3), m.ones(3, 3))",
    "m.trapezoid(m.ones(2, 3), m.ones(2, 2, 3))",
    "m.trapezoid(m.ones(2), m.tensor([True, False]))",
    "m.cumulative_trapezoid(m.tensor(2.))",
    "m.bincount(m.tensor([1, 1, 3]), weights=m.tensor([1., 2]))",
    "m.bincount(m.tensor([1, -1, 3]))",
    "m.bincount(m.tensor([1., 1, 3]))",
    "m.bincount(m.tensor([[1, 1, 3]]))",
    "m.bincount(m.tensor([1, 1, 3]), minlength=-1)",
    "m.bincount(m.tensor([True, False]))",
    "m.histc(m.tensor([1, 2]), bins=4)",
    "m.histc(m.tensor([1., 2]), bins=0)",
    "m.histc(m.tensor([1., 2]), bins=4, min=3, max=1)",
    f"m.histc(m.tensor([1., {NAN}]), bins=4)",
    f"m.histc(m.tensor([1., {INF}]), bins=4)",
    "m.isin(2, 3)",
    "m.isin(m.tensor([True, False]), m.tensor([True]))",
    "m.unravel_index(m.tensor([1.]), (2, 3))",
    "m.unravel_index(m.tensor([1]), (2, -3))",
    "m.unravel_index(m.tensor([True]), (2, 3))",
    "m.hann_window(-1)",
    "m.hamming_window(3, dtype=m.long)",
    "m.bartlett_window(3.0)",
    "m.kaiser_window(-1)",
    "m.blackman_window(2, dtype=m.int32)",
    "m.is_signed(1)",
    "m.sinc_(m.tensor([1, 2]))",
    "m.tensor([1, 2]).deg2rad_()",
    "m.logit_(m.tensor([1, 2]))",
    "m.i0_(m.tensor([1, 2]))",
    "m.ones(2).addcdiv_(m.ones(2), m.ones(2), 2)",
    "m.ones(2, requires_grad=True).fill_diagonal_(1)",
    "m.ones(2, 2, requires_grad=True).fill_diagonal_(1)",
    "m.ones(2, 2, requires_grad=True).addcmul_(m.ones(2), m.ones(2))",
]


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [x for y in r for x in _flat(y)]
    return [r]


def _eval(expr, m):
    return eval(expr, {"m": m, "np": np})


def _assert_same(a, b, rtol=1e-6, atol=1e-7):
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        if not hasattr(x, "detach"):
            assert tuple(x) == tuple(y) if hasattr(x, "__len__") else x == y
            continue
        xa, ya = to_np(x), to_np(y)
        assert xa.shape == ya.shape, (xa.shape, ya.shape)
        assert xa.dtype == ya.dtype, (xa.dtype, ya.dtype)
        assert x.requires_grad == y.requires_grad
        np.testing.assert_allclose(xa, ya, rtol=rtol, atol=atol, equal_nan=True)


@needs_torch
@pytest.mark.parametrize("expr", SAME)
def test_same_as_torch(expr):
    import torch
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")         # torch and chainrule both warn for cov
        _assert_same(_eval(expr, c), _eval(expr, torch))


@needs_torch
@pytest.mark.parametrize("name,n,periodic,dt", WINDOWS)
def test_windows_match_torch(name, n, periodic, dt):
    import torch
    a = getattr(c, name)(n, periodic, dtype=getattr(c, dt))
    b = getattr(torch, name)(n, periodic, dtype=getattr(torch, dt))
    assert a.dtype.name == dt and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(to_np(a), to_np(b), rtol=0, atol=2e-7 if dt == "float32" else
                               1e-14)


@needs_torch
@pytest.mark.parametrize("expr", BAD)
def test_same_error_class_as_torch(expr):
    import torch
    errs = []
    for m in (c, torch):
        with pytest.raises(Exception) as ei:
            _eval(expr, m)
        errs.append(ei.value)
    mine, theirs = errs
    assert isinstance(mine, type(theirs)) or isinstance(theirs, type(mine)), (mine, theirs)
    assert str(mine)


# -- gradients at ties, kinks and edges, against torch ---------------------------------------
def _grads(m, fn, *arrays, w=None):
    ts = [m.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    out = fn(m, *ts)
    wt = m.tensor(np.arange(1.0, out.numel() + 1).reshape(tuple(out.shape)))
    gs = m.autograd.grad((out * wt).sum(), ts, allow_unused=True)
    return to_np(out), [to_np(g) if g is not None else np.zeros(np.shape(a))
                        for g, a in zip(gs, arrays)]


def _both_grads(fn, *arrays, atol=1e-12):
    import torch
    o1, g1 = _grads(c, fn, *arrays)
    o2, g2 = _grads(torch, fn, *arrays)
    np.testing.assert_allclose(o1, o2, atol=atol, rtol=1e-9, equal_nan=True)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-9, equal_nan=True)
    return g1


TIES_A = [[1.0, 2.0, 3.0, 0.0], [2.0, -1.0, 0.0, 0.0]]
TIES_B = [[1.0, 3.0, 2.0, 0.0], [2.0, -1.0, 5.0, -0.0]]


@needs_torch
@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_ties_and_nan_gradients(name):
    _both_grads(lambda m, a, b: getattr(m, name)(a, b), TIES_A, TIES_B)
    nan = float("nan")
    _both_grads(lambda m, a, b: getattr(m, name)(a, b), [1.0, nan, 3.0, nan],
                [nan, 3.0, 2.0, nan])


P1 = [[1.0, -2.0, 2.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.5]]
P2 = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.5]]


@needs_torch
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary",
                                  "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"])
def test_cdist_zero_distances_and_inf_ties(p, mode):
    # zero distances (identical rows) get gradient 0; at p = inf every tied coordinate gets the
    # full gradient; p < 1 with a zero coordinate (row 3 vs row 3) is 0 there too
    _both_grads(lambda m, a, b: m.cdist(a, b, p=p, compute_mode=mode), P1, P2)


@needs_torch
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 1.5, float("inf")])
def test_pdist_zero_distances_and_ties(p):
    _both_grads(lambda m, a: m.pdist(a, p), P1 + [[1.0, -2.0, 2.0]])


@needs_torch
def test_cdist_matrix_product_path_for_many_rows():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(30, 4)), rng.normal(size=(3, 4))
    _both_grads(lambda m, x, y: m.cdist(x, y), a, b, atol=1e-9)
    _both_grads(lambda m, x, y: m.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist"),
                a, b, atol=1e-9)


@needs_torch
def test_dist_inf_ties_split_the_gradient():
    _both_grads(lambda m, a, b: m.dist(a, b, float("inf")), [1.0, -2.0, 2.0], [0.0, 0.0, 0.0])
    _both_grads(lambda m, a, b: m.dist(a, b), [1.0, 2.0], [1.0, 2.0])


@needs_torch
def test_logit_eps_gradient_at_and_outside_the_clamp():
    _both_grads(lambda m, x: m.logit(x, eps=0.1), [0.05, 0.1, 0.5, 0.9, 0.95])
    _both_grads(lambda m, x: m.logit(x), [0.2, 0.5, 0.7])


@needs_torch
def test_sinc_at_zero_and_i0_second_derivative():
    _both_grads(lambda m, x: m.sinc(x), [0.0, 1.0, -2.5])
    import torch
    x = [0.0, 0.5, -3.0, 12.0, 25.0, -40.0]
    for m in (c, torch):
        t = m.tensor(x, dtype=m.float64, requires_grad=True)
        g, = m.autograd.grad(m.i0(t).sum(), t, create_graph=True)
        gg, = m.autograd.grad(g.sum(), t)
        if m is c:
            mine = (to_np(g), to_np(gg))
    np.testing.assert_allclose(mine[0], to_np(g), rtol=1e-12)
    np.testing.assert_allclose(mine[1], to_np(gg), rtol=1e-12)


@needs_torch
def test_i1_matches_torch_special_over_a_wide_range():
    import torch
    from chainrule.ops.extra import _i1
    x = np.concatenate([np.linspace(-60, 60, 2401), [0.0, 1e-300, 19.999, 20.0, 20.001, 700]])
    np.testing.assert_allclose(_i1(x), torch.special.i1(torch.tensor(x)).numpy(), rtol=1e-13,
                               atol=0)


@needs_torch
def test_logcumsumexp_gradient_with_extreme_values():
    _both_grads(lambda m, x: m.logcumsumexp(x, 0), [-1000.0, 0.0, 1000.0, 3.0, -2.0])
    _both_grads(lambda m, x: m.logcumsumexp(x, 1), [[1.0, 2.0, 3.0], [-5.0, 40.0, 0.0]])


@needs_torch
def test_renorm_gradient_for_slices_over_and_under_the_limit():
    _both_grads(lambda m, x: m.renorm(x, 2, 0, 1.0), [[3.0, 4.0], [0.3, 0.4]])
    _both_grads(lambda m, x: m.renorm(x, float("inf"), 1, 1.0), [[3.0, 4.0], [-3.0, 0.4]])


@needs_torch
def test_fill_diagonal_gradient_and_tensor_value():
    _both_grads(lambda m, x: (x * 1).fill_diagonal_(2.5, wrap=True), np.ones((5, 2)) * 3)


@needs_torch
def test_nextafter_frexp_and_ldexp_gradients():
    _both_grads(lambda m, a, b: m.nextafter(a, b), [1.0, 2.0], [0.5, 3.0])
    _both_grads(lambda m, a: m.frexp(a * 3).mantissa, [1.0, 2.0, -7.0])
    _both_grads(lambda m, a, b: m.ldexp(a, b), [1.0, 2.0], [0.5, -3.0])


@needs_torch
def test_cov_gradient_with_respect_to_aweights():
    x = [[1.0, 2.0, 4.0, 0.5], [3.0, 1.0, 0.0, 2.0]]
    _both_grads(lambda m, a, w: m.cov(a, aweights=w), x, [0.5, 1.0, 2.0, 1.5])
    _both_grads(lambda m, a, w: m.cov(a, correction=2, aweights=w,
                                      fweights=m.tensor([1, 2, 1, 1])), x, [0.5, 1.0, 2.0, 1.5])


@needs_torch
def test_heaviside_values_gradient_where_input_is_zero():
    x = c.tensor([-1.0, 0.0, 2.0, 0.0])
    v = c.tensor([5.0, 6.0, 7.0, 8.0], requires_grad=True)
    c.heaviside(x, v).sum().backward()
    assert to_np(v.grad).tolist() == [0.0, 1.0, 0.0, 1.0]


# -- views, in-place forms and objects ------------------------------------------------------------
@needs_torch
def test_unfold_is_a_view_with_torch_strides():
    import torch
    base = c.arange(12.0).reshape(3, 4)
    u = base.unfold(1, 2, 2)
    assert u.stride() == torch.arange(12.0).reshape(3, 4).unfold(1, 2, 2).stride()
    base[0, 1] = 100.0
    assert u[0, 0, 1].item() == 100.0          # a base write shows in the view
    u.mul_(2)                                   # non-overlapping windows: writes reach base
    assert to_np(base).tolist() == (torch.arange(12.0).reshape(3, 4).index_put_(
        (torch.tensor(0), torch.tensor(1)), torch.tensor(100.0)) * 2).tolist()


def test_unfold_with_overlapping_windows_refuses_in_place_writes():
    u = c.arange(7.0).unfold(0, 3, 2)
    with pytest.raises(RuntimeError, match="more than one element"):
        u.add_(1)


@needs_torch
def test_unfold_gradient_overlaps_and_double_backward():
    _both_grads(lambda m, x: m.exp(x.unfold(0, 3, 1)), np.linspace(-1, 1, 6))
    _both_grads(lambda m, x: x.unfold(1, 3, 2) ** 2, np.linspace(-1, 1, 14).reshape(2, 7))
    x = c.tensor(np.linspace(-1, 1, 6), requires_grad=True)
    assert c.autograd.gradgradcheck(lambda t: t.unfold(0, 4, 1) ** 3, [x])


@needs_torch
def test_in_place_view_of_unfold_propagates_gradients_to_base():
    import torch
    res = []
    for m in (c, torch):
        x = m.tensor(np.linspace(-1, 1, 8), requires_grad=True)
        y = x * 1
        y.unfold(0, 2, 2).mul_(3)
        (y * m.arange(8.0)).sum().backward()
        res.append(to_np(x.grad))
    np.testing.assert_allclose(*res)


def test_ravel_positive_and_sum_to_size_share_or_return_input():
    x = c.ones(2, 3)
    assert c.positive(x) is x and x.sum_to_size(2, 3) is x
    r = c.ravel(x)
    r[0] = 5.0
    assert x[0, 0].item() == 5.0


@needs_torch
def test_frexp_is_a_named_tuple_like_torch():
    import torch
    a = c.frexp(c.tensor([8.0, 0.75]))
    b = torch.frexp(torch.tensor([8.0, 0.75]))
    assert type(a).__name__ == type(b).__name__ == "frexp"
    assert a._fields == ("mantissa", "exponent") and a.exponent.dtype == c.int32
    assert "return_types.frexp(" in repr(a) and "mantissa=" in repr(a)
    assert not a.exponent.requires_grad


def test_addcmul_and_addcdiv_in_place_as_an_optimizer_writes_them():
    # an Adam-style update under no_grad, against the same arithmetic in NumPy
    p = c.tensor([1.0, -2.0, 0.5], requires_grad=True)
    g = c.tensor([0.1, 0.2, -0.3])
    v = c.zeros(3)
    with c.no_grad():
        v.mul_(0.9).addcmul_(g, g, value=0.1)
        p.addcdiv_(g, v.sqrt().add(1e-8), value=-0.01)
    vn = 0.1 * np.array([0.1, 0.2, -0.3], np.float32) ** 2
    pn = np.array([1.0, -2.0, 0.5], np.float32) - 0.01 * np.array(
        [0.1, 0.2, -0.3], np.float32) / (np.sqrt(vn) + 1e-8)
    np.testing.assert_allclose(to_np(v), vn, rtol=1e-6)
    np.testing.assert_allclose(to_np(p), pn, rtol=1e-6)
    assert p.grad is None and p.requires_grad


def test_cov_warns_when_degrees_of_freedom_run_out():
    with pytest.warns(UserWarning, match="degrees of freedom"):
        r = c.cov(c.tensor([1.0]))
    assert np.isnan(r.item())


def test_integer_and_window_results_do_not_require_grad():
    x = c.tensor([1.0, 2.0], requires_grad=True)
    assert not c.histc(x, bins=3).requires_grad
    assert not c.signbit(x).requires_grad and not c.isin(x, x).requires_grad
    assert not c.bincount(c.tensor([0, 1]), weights=x).requires_grad
    assert c.hann_window(4, requires_grad=True).is_leaf
