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
        if grad:
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
