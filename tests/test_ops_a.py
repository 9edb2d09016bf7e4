"""Issue 3, part A: behaviour the op table does not cover (dtypes, ties, zeros, views,
in-place forms, named tuples), compared with torch where it is installed."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch, to_np


def both(fn, *arrays, grad=True, dtype="float64"):
    """Run fn(m, *tensors) in chainrule and torch; return (outs, grads) for each."""
    import torch
    res = []
    for m in (chainrule, torch):
        ts = [m.tensor(np.asarray(a, dtype), requires_grad=grad) for a in arrays]
        out = fn(m, *ts)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        grads = []
        if grad and any(getattr(o, "requires_grad", False) for o in outs):
            total = sum((o.double() * (k + 1.5)).sum() for k, o in enumerate(outs)
                        if o.requires_grad)
            grads = m.autograd.grad(total, ts, allow_unused=True)
        res.append(([to_np(o) for o in outs], [to_np(g) for g in grads]))
    return res


def assert_same(fn, *arrays, grad=True, dtype="float64", atol=1e-10):
    (o1, g1), (o2, g2) = both(fn, *arrays, grad=grad, dtype=dtype)
    assert len(o1) == len(o2)
    for a, b in zip(o1, o2):
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        np.testing.assert_allclose(a, b, atol=atol, equal_nan=True)
    for a, b in zip(g1, g2):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, atol=atol, equal_nan=True)


# -- group 1 ---------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("fn", [
    lambda m, x: m.amax(x, 1), lambda m, x: m.amin(x, (0, 1)), lambda m, x: x.amax(),
    lambda m, x: m.max(x), lambda m, x: m.max(x, 1).values])
def test_max_ties_follow_torch(fn):
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]]
    assert_same(fn, x)


@needs_torch
@pytest.mark.parametrize("x", [[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [1.0, 2.0, 0.0],
                               [[0.0, 1.0], [2.0, 0.0]], [[2.0, 1.0], [0.0, 0.0]]])
@pytest.mark.parametrize("fn", [lambda m, x: m.prod(x), lambda m, x: m.prod(x, 0),
                                lambda m, x: x.prod(-1, keepdim=True),
                                lambda m, x: m.cumprod(x, 0), lambda m, x: x.cumprod(-1)])
def test_prod_cumprod_zero_gradients(fn, x):
    assert_same(fn, x)


@needs_torch
@pytest.mark.parametrize("x", [[0.0, 2.0, 3.0], [[0.0, 0.0, 3.0], [1.0, 0.5, 0.0]]])
def test_prod_cumprod_zero_second_derivatives(x):
    def f(m, t):
        g, = m.autograd.grad((m.prod(t) + m.cumprod(t, -1).pow(2).sum()), t, create_graph=True)
        return g * g
    assert_same(f, x)


@needs_torch
def test_integer_reductions_dtypes():
    import torch
    for fn in [lambda m, x: m.prod(x), lambda m, x: m.cumsum(x, 0), lambda m, x: m.cumprod(x, 1),
               lambda m, x: m.square(x), lambda m, x: m.floor(x), lambda m, x: m.round(x),
               lambda m, x: m.reciprocal(x), lambda m, x: m.rsqrt(x + 1), lambda m, x: m.log1p(x),
               lambda m, x: m.all(x), lambda m, x: m.any(x, 0), lambda m, x: m.argmax(x),
               lambda m, x: m.amax(x, 0), lambda m, x: m.erf(x)]:
        for data, dt in [([[1, 2], [3, 4]], "int64"), ([[1, 0], [1, 1]], "bool"),
                         ([[1, 2], [3, 0]], "uint8"), ([[1, 2], [3, 0]], "int32")]:
            outs = []
            for m in (chainrule, torch):
                try:
                    r = fn(m, m.tensor(np.array(data, dt)))
                    outs.append((str(r.dtype).split(".")[-1], to_np(r)))
                except Exception as e:
                    outs.append(type(e).__name__)
            if isinstance(outs[1], str):
                assert isinstance(outs[0], str), (data, dt, outs)
                continue
            assert outs[0][0] == outs[1][0], (dt, outs)
            np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-6)


@needs_torch
def test_round_half_even_and_decimals():
    x = [0.5, 1.5, 2.5, -0.5, -1.5, 1.2345, 123.456, -987.65]
    for kw in [{}, {"decimals": 2}, {"decimals": -1}, {"decimals": 3}]:
        assert_same(lambda m, t: m.round(t, **kw), x)
        assert_same(lambda m, t: m.round(t, **kw), x, dtype="float32", atol=1e-4)


def test_rounding_gradients_are_zero_and_recorded():
    x = chainrule.tensor([0.3, 1.7], requires_grad=True)
    for name in ("floor", "ceil", "trunc", "round"):
        y = getattr(chainrule, name)(x)
        assert y.grad_fn is not None
        g, = chainrule.autograd.grad(y.sum(), x)
        assert g.tolist() == [0.0, 0.0]


@needs_torch
def test_var_std_signatures():
    x = np.random.default_rng(0).standard_normal((3, 4))
    for fn in [lambda m, t: m.var(t, False), lambda m, t: m.var(t, 1, True, True),
               lambda m, t: m.var(t, unbiased=False), lambda m, t: m.std(t, dim=[0, 1]),
               lambda m, t: m.var(t, dim=0, correction=2), lambda m, t: t.std(1, False),
               lambda m, t: m.var_mean(t, 0, correction=0), lambda m, t: m.std_mean(t, 1, True),
               lambda m, t: m.std(t, 0, keepdim=True, correction=0)]:
        assert_same(fn, x)


@needs_torch
def test_std_var_degenerate():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(lambda m, t: m.std(t, 1), [[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
        assert_same(lambda m, t: m.var(t), [1.5], grad=False)
        assert_same(lambda m, t: m.std_mean(t, 0), [[1.0, 1.0]], grad=False)


@needs_torch
def test_logsumexp_extremes():
    inf = float("inf")
    assert_same(lambda m, t: m.logsumexp(t, 1), [[1000.0, 1000.0], [-1000.0, -1000.0]])
    assert_same(lambda m, t: m.logsumexp(t, 0), [[-inf, 1.0], [-inf, 2.0]], grad=False)
    assert_same(lambda m, t: m.logsumexp(t, 1), [[inf, 1.0]], grad=False)
    assert_same(lambda m, t: m.logsumexp(t.long(), 1), [[1, 2]], grad=False)


@needs_torch
def test_argmax_nan_and_keepdim():
    nan = float("nan")
    for fn in [lambda m, t: m.argmax(t), lambda m, t: m.argmin(t, 1),
               lambda m, t: m.argmax(t, keepdim=True), lambda m, t: m.argmax(t, 0, True)]:
        assert_same(fn, [[1.0, nan, 3.0], [4.0, 5.0, 0.0]], grad=False)


@needs_torch
def test_cat_split_chunk_edges():
    import torch
    for fn in [lambda m: [t.shape for t in m.split(m.zeros(5, 3), [2, 0, 3])],
               lambda m: [t.shape for t in m.chunk(m.zeros(0), 3)],
               lambda m: [t.shape for t in m.chunk(m.zeros(6), 4)],
               lambda m: [t.shape for t in m.split(m.zeros(0), 0)],
               lambda m: m.cat([m.zeros(0), m.ones(2, 2)]).shape,
               lambda m: m.cat([m.ones(1, 2)]).shape,
               lambda m: m.cat([m.ones(2, dtype=m.int32), m.ones(1, dtype=m.uint8)]).dtype,
               lambda m: m.stack([m.tensor(1), m.tensor(2.0)]).dtype]:
        a, b = fn(chainrule), fn(torch)
        assert str(a).replace("chainrule", "torch") == str(b), (a, b)


def test_views_and_copies():
    x = chainrule.arange(6.0).reshape(2, 3)
    a, b = chainrule.split(x, [1, 2], 1)
    a.mul_(10)                      # split pieces are views
    assert x[:, 0].tolist() == [0.0, 30.0]
    c = chainrule.cat([x, x])       # cat copies
    c.zero_()
    assert x.sum().item() != 0
    f = x.flip(0)                   # flip copies, as in torch
    f.zero_()
    assert x.sum().item() != 0
    w = chainrule.ones(2, 3)
    assert w.flatten()._base is w and w.unflatten(1, (3, 1))._base is w


def test_return_type_repr_and_errors():
    from chainrule.ops.reduce import _return_type
    rt = _return_type("cummax")
    r = rt(chainrule.tensor([1.0]), chainrule.tensor([0]))
    assert repr(r).startswith("chainrule.return_types.cummax(\nvalues=tensor([1.])")
    v, i = r
    assert r.values is v and r.indices is i
    with pytest.raises(TypeError):
        chainrule.cat([chainrule.ones(2), [1.0]])
    with pytest.raises(IndexError):
        chainrule.cumsum(chainrule.ones(2), 1)


def test_inplace_forms_bump_version_and_keep_grad():
    x = chainrule.tensor([0.2, 1.4, 2.6], requires_grad=True)
    y = x * 2
    v = y._version
    y.floor_()
    assert y._version == v + 1 and y.tolist() == [0.0, 2.0, 5.0]
    z = x * 1
    z.cumsum_(0)
    z.sum().backward()
    assert x.grad.tolist() == [3.0, 2.0, 1.0]
    with pytest.raises(RuntimeError):
        x.erf_()


# -- group 2 ---------------------------------------------------------------------------------
NAN, INF = float("nan"), float("inf")
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-8, 40.0, -40.0, INF, -INF, NAN]


@needs_torch
@pytest.mark.parametrize("name", [
    "floor", "ceil", "round", "trunc", "frac", "log1p", "expm1", "square", "reciprocal",
    "rsqrt", "erf", "erfc", "erfinv", "exp2", "log2", "log10", "sign", "sgn", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "lgamma", "digamma",
    "nan_to_num", "isnan", "isinf", "isfinite", "isposinf", "isneginf"])
def test_unary_special_values(name):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(lambda m, t: getattr(m, name)(t), SPECIAL, grad=False)
        assert_same(lambda m, t: getattr(m, name)(t), SPECIAL, grad=False, dtype="float32",
                    atol=1e-6)


@needs_torch
@pytest.mark.parametrize("name", [
    "floor", "round", "frac", "log1p", "square", "reciprocal", "erf", "exp2", "log2", "sign",
    "sgn", "atan", "lgamma", "digamma", "nan_to_num", "isnan", "isfinite"])
@pytest.mark.parametrize("dt", ["int64", "int32", "uint8", "bool"])
def test_unary_integer_inputs(name, dt):
    import torch
    data = np.array([0, 1, 3], dt)
    res = []
    for m in (chainrule, torch):
        try:
            r = getattr(m, name)(m.tensor(data))
            res.append((str(r.dtype).split(".")[-1], to_np(r)))
        except Exception as e:
            res.append(type(e))
    if isinstance(res[1], type):
        assert isinstance(res[0], type) and issubclass(res[1], res[0]) or \
            issubclass(res[0], res[1]), res
    else:
        assert res[0][0] == res[1][0], res
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "fmod",
                                  "remainder", "copysign", "float_power", "maximum",
                                  "minimum"])
def test_binary_special_values(name):
    import itertools
    import warnings
    vals = [0.0, -0.0, 1.0, -2.5, INF, -INF, NAN]
    a, b = zip(*itertools.product(vals, vals))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(lambda m, x, y: getattr(m, name)(x, y), a, b, grad=False)


@needs_torch
def test_binary_gradients_at_edges():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # xlogy at x == 0 (gradient to x is log-free), copysign at 0, hypot off the origin
        assert_same(lambda m, x, y: m.xlogy(x, y), [0.0, 0.0, 2.0], [0.5, 2.0, 3.0])
        assert_same(lambda m, x, y: m.copysign(x, y), [0.0, 1.5, -2.0], [-1.0, -0.0, 0.0])
        assert_same(lambda m, x, y: m.logaddexp(x, y), [1.0, -3.0, 1e3], [1.0, 2.0, -1e3])
        assert_same(lambda m, x, y: m.logaddexp2(x, y), [1.0, -3.0], [1.0, 2.0])
        assert_same(lambda m, x, y, w: m.lerp(x, y, w), [1.0, 2.0], [3.0, -1.0], [0.2, 0.9])


@needs_torch
def test_float_power_and_dtypes():
    import torch
    for fn in [lambda m: m.float_power(m.tensor([2, 3]), 2),
               lambda m: m.float_power(2, m.tensor([1.5], dtype=m.float32)),
               lambda m: m.atan2(m.tensor([1, 2]), m.tensor([3, 4])),
               lambda m: m.fmod(m.tensor([5, -5]), 3), lambda m: m.fmod(m.tensor([5, -5]), 2.5),
               lambda m: m.remainder(m.tensor([5, -5]), -3),
               lambda m: m.copysign(m.tensor([1, 2]), -1),
               lambda m: m.xlogy(m.tensor([1, 2]), m.tensor([3, 4])),
               lambda m: m.hypot(m.ones(2), m.tensor(3.0, dtype=m.float64)),
               lambda m: m.clamp(m.tensor([1, 5]), m.tensor([2.5, 0.0])),
               lambda m: m.clamp_max(m.tensor([1, 5]), 2.5),
               lambda m: m.nan_to_num(m.tensor([NAN, INF, -INF], dtype=m.float16)),
               lambda m: m.true_divide(m.tensor([3]), 2),
               lambda m: m.sign(m.tensor([True, False]))]:
        a, b = fn(chainrule), fn(torch)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (a, b)
        np.testing.assert_allclose(to_np(a).astype(float), to_np(b).astype(float), rtol=1e-6)


def test_group2_inplace_methods():
    x = chainrule.tensor([0.5, 0.25], requires_grad=True)
    y = x * 1
    y.atanh_()
    y.lerp_(y * 2, 0.5)
    y.clamp_min_(0.3)
    y.sum().backward()
    t = chainrule.tensor([0.5, 0.25], dtype=chainrule.float64, requires_grad=True)
    r = (t.atanh() * 1.5).clamp_min(0.3)
    r.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    z = chainrule.tensor([1.5, -2.0])
    z.copysign_(chainrule.tensor([-1.0, -0.0]))
    z.float().nan_to_num_()
    assert z.tolist() == [-1.5, -2.0]
    with pytest.raises(RuntimeError):
        chainrule.ones(2).float_power_(2)
    d = chainrule.ones(2, dtype=chainrule.float64)
    d.float_power_(3)
    assert d.tolist() == [1.0, 1.0]


# -- group 3 ---------------------------------------------------------------------------------
def _vi(r):
    return (r.values, r.indices)


TIES = [[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 2.0, 1.0, 1.0, 2.0], [0.0, -1.0, 0.0, -1.0, 5.0]]
NANS = [[1.0, NAN, 3.0, NAN, 5.0], [2.0, 1.0, 2.0, 0.0, 1.0], [NAN, NAN, NAN, NAN, NAN]]


@needs_torch
@pytest.mark.parametrize("x", [TIES, NANS])
@pytest.mark.parametrize("fn", [
    lambda m, x: _vi(m.cummax(x, 1)), lambda m, x: _vi(x.cummin(1)),
    lambda m, x: _vi(m.cummax(x, 0)), lambda m, x: _vi(m.max(x, 1)),
    lambda m, x: _vi(m.min(x, 1, keepdim=True)), lambda m, x: m.max(x, x.flip(1)),
    lambda m, x: m.median(x), lambda m, x: m.nanmedian(x), lambda m, x: m.amax(x, 1),
    lambda m, x: m.nanmedian(x, 1).values, lambda m, x: m.median(x, 1).values,
    lambda m, x: m.quantile(x, 0.3, 1), lambda m, x: m.nanquantile(x, 0.6, 1),
    lambda m, x: m.quantile(x, m.tensor([0.1, 0.9], dtype=x.dtype)),
    lambda m, x: m.nanquantile(x, 0.5), lambda m, x: m.nansum(x, 1),
    lambda m, x: m.nanmean(x, 0), lambda m, x: m.count_nonzero(x, 1)])
def test_ties_and_nans_follow_torch(fn, x):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(fn, x)


@needs_torch
def test_mode_ties_follow_torch():
    rows = [[2.0, 2.0, 1.0, 1.0], [5.0, 1.0, 5.0, 7.0], [4.0, 4.0, 4.0, 1.0], [3.0, 2.0, 1.0, 0.5]]
    assert_same(lambda m, x: _vi(m.mode(x)), rows)
    assert_same(lambda m, x: _vi(m.mode(x, 0, keepdim=True)), rows)
    assert_same(lambda m, x: _vi(m.mode(x.long(), 1)), rows, grad=False)


@needs_torch
def test_median_index_points_at_the_median():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 4, (6, 7)).astype(float)
    x = chainrule.tensor(a)
    v, i = chainrule.median(x, 1)
    np.testing.assert_array_equal(np.take_along_axis(a, i.numpy()[:, None], 1)[:, 0],
                                  v.numpy())
    import torch
    np.testing.assert_array_equal(v.numpy(), torch.median(torch.tensor(a), 1).values.numpy())


@needs_torch
def test_norms_at_zero_have_zero_gradient():
    z = [[0.0, 0.0], [0.0, 0.0]]
    for fn in [lambda m, x: m.norm(x), lambda m, x: m.norm(x, dim=1),
               lambda m, x: m.norm(x, 3), lambda m, x: m.norm(x, 1), lambda m, x: m.std(x),
               lambda m, x: m.norm(x, float("inf"))]:
        assert_same(fn, z)


@needs_torch
def test_reduction_dtypes_and_shapes():
    import torch
    for fn in [lambda m: m.nansum(m.tensor([1, 2])), lambda m: m.nansum(m.tensor([True])),
               lambda m: m.median(m.tensor([[3, 1, 2]])), lambda m: m.median(m.zeros(0)),
               lambda m: m.nanmedian(m.tensor([NAN])), lambda m: m.nanmean(m.tensor([NAN])),
               lambda m: m.count_nonzero(m.eye(3), (0, 1)),
               lambda m: m.quantile(m.arange(6.0).reshape(2, 3), 0.5, keepdim=True),
               lambda m: m.quantile(m.tensor(3.0), 0.5, 0, True),
               lambda m: m.cummax(m.tensor(2.0), 0).indices,
               lambda m: m.cummax(m.tensor([True, False]), 0).values,
               lambda m: m.mode(m.tensor(3.0)).values,
               lambda m: m.aminmax(m.tensor([[1, 5], [3, 2]]), dim=0).max,
               lambda m: m.norm(m.ones(2, 3, dtype=m.float32), dtype=m.float64)]:
        a, b = fn(chainrule), fn(torch)
        assert tuple(a.shape) == tuple(b.shape), (a, b)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], (a, b)
        np.testing.assert_allclose(to_np(a).astype(float), to_np(b).astype(float), rtol=1e-6,
                                   equal_nan=True)


def test_return_types_print_like_torch():
    r = chainrule.cummax(chainrule.tensor([1.0, 0.0]), 0)
    assert type(r).__name__ == "cummax" and repr(r).startswith("chainrule.return_types.cummax(")
    assert chainrule.aminmax(chainrule.tensor([1.0, 2.0]))._fields == ("min", "max")
    assert chainrule.max(chainrule.ones(2, 2), 1)._fields == ("values", "indices")


@needs_torch
@pytest.mark.skipif(not hasattr(chainrule.linalg, "svdvals"), reason="needs linalg.svdvals")
def test_matrix_norm_svd_orders():
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    for o in ("nuc", 2, -2):
        assert_same(lambda m, x: (m.linalg.matrix_norm if m is not chainrule else
                                  chainrule.functional_ops.matrix_norm)(x, o, keepdim=True), a)


# -- group 4 ---------------------------------------------------------------------------------
@needs_torch
def test_shape_results_match_torch():
    import torch
    x = np.arange(24.0).reshape(2, 3, 4)
    for fn in [lambda m, t: m.tensor_split(t, [1, 5, 2], 2),
               lambda m, t: m.tensor_split(t, 4, 1), lambda m, t: m.tile(t[0, 0, 0], (2, 3)),
               lambda m, t: t.repeat(1, 1, 1, 2), lambda m, t: m.repeat_interleave(t, 2),
               lambda m, t: m.repeat_interleave(m.tensor([2, 0, 1])),
               lambda m, t: m.repeat_interleave(t, m.tensor([2]), 1),
               lambda m, t: m.roll(t, (5, -1), (2, 0)), lambda m, t: m.rot90(t, 3, (2, 0)),
               lambda m, t: m.diag_embed(t, -2, 0, 3), lambda m, t: m.diagonal(t, 2, 2, 1),
               lambda m, t: m.diagonal(t, 9), lambda m, t: m.diag(t[0], -5),
               lambda m, t: m.diag(t[0, 0], 2), lambda m, t: m.tril(t, -1),
               lambda m, t: m.triu(t.long(), 2), lambda m, t: m.tril(t > 5),
               lambda m, t: m.meshgrid(t[0, 0], t[0, :, 0], indexing="xy"),
               lambda m, t: m.hstack([t[0, 0, 0], t[0, 0]]),
               lambda m, t: m.column_stack([t[0, 0, 0], t[0, 0, :1]]),
               lambda m, t: m.atleast_3d(t[0]),
               lambda m, t: m.narrow(t, -1, m.tensor(1), 2), lambda m, t: m.unbind(t, -1),
               lambda m, t: m.movedim(t, (2, 0), (0, 2)), lambda m, t: m.fliplr(t)]:
        a, b = fn(chainrule, chainrule.tensor(x)), fn(torch, torch.tensor(x))
        a, b = (a, b) if isinstance(a, (tuple, list)) else ((a,), (b,))
        assert len(a) == len(b)
        for u, v in zip(a, b):
            assert tuple(u.shape) == tuple(v.shape) and str(u.dtype)[-5:] == str(v.dtype)[-5:]
            np.testing.assert_array_equal(to_np(u), to_np(v))


def test_views_share_memory_and_copies_do_not():
    x = chainrule.tensor(np.arange(12.0).reshape(3, 4))
    for view in [lambda t: t.narrow(1, 1, 2), lambda t: t.select(0, 1), lambda t: t.unbind(1)[2],
                 lambda t: t.tensor_split(2, 1)[1], lambda t: t.diagonal(),
                 lambda t: t.movedim(0, 1),
                 lambda t: t.hsplit(2)[0], lambda t: chainrule.broadcast_tensors(t, t[0])[1]]:
        v = view(x)
        assert np.shares_memory(v.numpy(), x.numpy()) and v._base is x, view
    for copy in [lambda t: t.repeat(1, 1), lambda t: t.roll(0, 0), lambda t: t.rot90(4),
                 lambda t: t.flip(0), lambda t: t.diag(), lambda t: t.tril(5),
                 lambda t: t.repeat_interleave(1, 0), lambda t: t.repeat_interleave(1),
                 lambda t: t.tile((1,))]:
        assert not np.shares_memory(copy(x).numpy(), x.numpy()), copy


@needs_torch
def test_inplace_through_diagonal_and_narrow_views():
    def f(m, t):
        y = t * 2
        y.diagonal().mul_(t[0, :3])
        y.narrow(1, 0, 1).add_(1.0)
        y.tril_(1)
        return y
    assert_same(f, np.arange(12.0).reshape(3, 4) / 7)
    z = chainrule.zeros(3, 3)
    z.diagonal().fill_(1.0)
    assert z.tolist() == chainrule.eye(3).tolist()


@needs_torch
def test_diag_embed_second_derivative():
    def f(m, t):
        g, = m.autograd.grad((m.diag_embed(t, 1) ** 3).sum() + (m.diagonal(
            m.diag_embed(t)) ** 2).sum(), t, create_graph=True)
        return g * t
    assert_same(f, [[1.0, -2.0, 0.5], [0.3, 0.2, 0.1]])


def test_meshgrid_default_is_ij_and_atleast_returns():
    a, b = chainrule.meshgrid(chainrule.arange(2), chainrule.arange(3))
    assert a.shape == (2, 3) and b.shape == (2, 3)
    t = chainrule.ones(2)
    assert chainrule.atleast_1d(t) is t
    assert isinstance(chainrule.atleast_2d(t, t), tuple)
    assert chainrule.broadcast_shapes((2, 1), (3,), 1) == (2, 3)
    with pytest.raises(RuntimeError):
        chainrule.broadcast_shapes((2,), (3,))


# -- broadcasting property test for the binary ops (issue 3 Tests) ---------------------------
hyp = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra.numpy import mutually_broadcastable_shapes  # noqa: E402

# name: (fn, domain of a, domain of b); domains keep each op smooth
BINARY = {
    "add": (lambda m, a, b: a + b, (-2, 2), (-2, 2)),
    "sub": (lambda m, a, b: m.sub(a, b, alpha=1.5), (-2, 2), (-2, 2)),
    "mul": (lambda m, a, b: a * b, (-2, 2), (-2, 2)),
    "div": (lambda m, a, b: a / b, (-2, 2), (0.5, 2)),
    "pow": (lambda m, a, b: a ** b, (0.5, 2), (-2, 2)),
    "maximum": (lambda m, a, b: m.maximum(a, b), (-2, 2), (-2, 2)),
    "minimum": (lambda m, a, b: m.minimum(a, b), (-2, 2), (-2, 2)),
    "atan2": (lambda m, a, b: m.atan2(a, b), (0.3, 2), (-2, 2)),
    "hypot": (lambda m, a, b: m.hypot(a, b), (0.3, 2), (-2, 2)),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), (-2, 2), (-2, 2)),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), (-2, 2), (-2, 2)),
    "xlogy": (lambda m, a, b: m.xlogy(a, b), (-2, 2), (0.5, 2)),
    "copysign": (lambda m, a, b: m.copysign(a, b), (-2, 2), (0.2, 2)),
    "fmod": (lambda m, a, b: m.fmod(a, b), (0.1, 0.6), (0.7, 0.9)),
    "remainder": (lambda m, a, b: m.remainder(a, b), (0.1, 0.6), (0.7, 0.9)),
    "float_power": (lambda m, a, b: m.float_power(a, b), (0.5, 2), (-2, 2)),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.3), (-2, 2), (-2, 2)),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=12, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=1, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_binary_broadcast_gradients(name, shapes, seed):
    import torch
    fn, da, db = BINARY[name]
    if name == "lerp" and shapes.input_shapes[0] != shapes.result_shape:
        shapes = shapes._replace(input_shapes=(shapes.result_shape, shapes.input_shapes[1]))
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(lo, hi, s) for (lo, hi), s in zip((da, db), shapes.input_shapes)]
    ts = [chainrule.tensor(x, requires_grad=True) for x in xs]
    assert chainrule.autograd.gradcheck(lambda a, b: fn(chainrule, a, b), ts, atol=1e-5)
    out = fn(chainrule, *ts)
    assert tuple(out.shape) == shapes.result_shape
    w = rng.uniform(0.5, 1.5, shapes.result_shape)
    g = chainrule.autograd.grad((out * chainrule.tensor(w)).sum(), ts)
    tt = [torch.tensor(x, requires_grad=True) for x in xs]
    tout = fn(torch, *tt)
    tg = torch.autograd.grad((tout * torch.tensor(w)).sum(), tt)
    np.testing.assert_allclose(to_np(out), to_np(tout), rtol=1e-10, atol=1e-12)
    for a, b in zip(g, tg):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-9, atol=1e-10)


@needs_torch
def test_core_inplace_method_forms():
    import torch
    for name, args in [("eq_", (1.0,)), ("lt_", (2.0,)), ("ge_", (1.0,)), ("not_equal_", (0.0,)),
                       ("logical_and_", (chainrule.tensor([True, False, True, True]),)),
                       ("logical_not_", ()), ("absolute_", ()),
                       ("negative_", ()), ("multiply_", (2.0,)), ("subtract_", (1.0,)),
                       ("divide_", (4.0,)), ("greater_equal_", (0.0,))]:
        res = []
        for m in (chainrule, torch):
            t = m.tensor([0.0, 1.0, -2.0, 3.0])
            args = tuple(m.tensor(a.numpy()) if isinstance(a, chainrule.Tensor) else a
                         for a in args)
            r = getattr(t, name)(*args)
            assert r is t
            res.append(to_np(t))
        np.testing.assert_array_equal(*res)
    for name in ("bitwise_and_", "bitwise_or_", "bitwise_xor_"):
        a, b = chainrule.tensor([5, 3]), torch.tensor([5, 3])
        getattr(a, name)(6), getattr(b, name)(6)
        np.testing.assert_array_equal(to_np(a), to_np(b))
    a, b = chainrule.tensor([5, 3]), torch.tensor([5, 3])
    np.testing.assert_array_equal(to_np(a.bitwise_not_()), to_np(b.bitwise_not_()))


def test_relu_at_nan_and_zero_matches_torch_rule():
    # torch's relu backward masks where the output is <= 0, so a NaN input passes its gradient
    x = chainrule.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
    y = chainrule.relu(x)
    y.backward(chainrule.ones(4))
    assert np.isnan(y[0].item()) and y[1:].tolist() == [0.0, 0.0, 2.0]
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 1.0]
    big = chainrule.randn(3, 700, requires_grad=True)
    chainrule.relu(big).sum().backward()
    assert np.array_equal(big.grad.numpy(), (big.detach().numpy() > 0).astype(np.float32))


def test_python_float_operands_match_numpy_bit_for_bit():
    # float operands of float32/float64 tensors are cached as 0-d arrays; the results must be
    # exactly NumPy's weak-scalar ones, signed zeros, NaN and out-of-range values included
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        xn = np.concatenate([rng.standard_normal(6), [0.0, -0.0, np.inf]]).astype(dt)
        x = chainrule.from_numpy(xn.copy())
        for c in (0.1, -0.0, 0.0, float("nan"), 1e39, -2.5, 3.0, 1e-45):
            with np.errstate(all="ignore"):
                for got, want in ((x * c, xn * c), (x + c, xn + c), (c - x, c - xn),
                                  (x / c if c else x * c, xn / c if c else xn * c)):
                    assert got.dtype.itemsize == np.dtype(dt).itemsize
                    assert got.numpy().tobytes() == np.asarray(want, dt).tobytes(), (dt, c)
