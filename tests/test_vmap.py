"""vmap against a Python loop on every op-table sample (outputs and per-sample gradients), the
in_dims/out_dims/nesting/randomness API, clear errors for what is not batchable, and torch
parity of chainrule.func.vmap."""
import numpy as np
import pytest

import chainrule
from chainrule.func import grad, vmap
from conftest import needs_torch, to_np
from optable import all_ops
from optable.spec import A, build

ALL = all_ops()
SAMPLES = [(op, i) for op in ALL for i in range(len(op.samples)) if not op.nondeterministic]
IDS = [f"{op.name}-{i}" for op, i in SAMPLES]
B = 3
F64 = chainrule.float64
CORE = {op.name for op in __import__("optable.table_core", fromlist=["OPS"]).OPS}
# core samples that vmap cannot run yet, and why (the error must say so)
NOT_BATCHABLE = {}


def _seed(op, i):
    return (sum(map(ord, op.name)) * 7919 + i) % (2 ** 31)


def _outs(res):
    res = res if isinstance(res, (tuple, list)) else (res,)
    return [r for r in res if isinstance(r, chainrule.Tensor)]


def _batch(op, i):
    """B independent draws of the sample's float leaves, stacked on dim 0."""
    draws = [build(chainrule, op.samples[i], _seed(op, i) + 101 * b) for b in range(B)]
    leaves0, to_args = draws[0]
    per = [[x.detach() for x in d[0]] for d in draws]
    stacked = [chainrule.tensor(np.stack([to_np(p[k]) for p in per]), dtype=F64)
               for k in range(len(leaves0))]
    return per, stacked, to_args


def _not_batchable(op, e, kind):
    msg = str(e)
    assert "vmap" in msg and ("not batchable" in msg or "batching rule" in msg), msg
    if op.name in CORE and (op.name, kind) not in NOT_BATCHABLE:
        raise AssertionError(f"{op.name}: core op is not batchable: {msg}")
    pytest.skip(f"{op.name}: {msg}")


# samples whose function calls chainrule.autograd.grad itself: under vmap, differentiate with
# chainrule.func.grad / vjp instead (autograd.grad sees the batch only as a placeholder)
USES_AUTOGRAD = {"max_pool2d_double_backward", "max_pool2d_backward"}


@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_vmap_matches_loop(op, i):
    if op.name in USES_AUTOGRAD:
        pytest.skip("the sample calls chainrule.autograd.grad inside the vmapped function")
    per, stacked, to_args = _batch(op, i)
    if not stacked:
        pytest.skip("no float input to batch")
    fn = op.fn

    def f(*ls):
        return tuple(_outs(fn(chainrule, *to_args(*ls))))
    try:
        got = vmap(f)(*stacked)
    except RuntimeError as e:
        _not_batchable(op, e, "value")
        return
    assert (op.name, "value") not in NOT_BATCHABLE, f"{op.name}: update NOT_BATCHABLE"
    for b in range(B):
        want = f(*per[b])
        for g, w in zip(got, want):
            assert tuple(g.shape[1:]) == tuple(w.shape)
            assert g.dtype == w.dtype
            np.testing.assert_allclose(to_np(g[b]), to_np(w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_vmap_of_grad_gives_per_sample_gradients(op, i):
    """Backward rules under vmap (graphs recorded on the batch) against a loop of grads."""
    if not op.grad:
        pytest.skip(f"{op.name} is not differentiable")
    if op.name in USES_AUTOGRAD:
        pytest.skip("the sample calls chainrule.autograd.grad inside the vmapped function")
    per, stacked, to_args = _batch(op, i)
    if not stacked:
        pytest.skip("no float input")
    n = len(stacked)
    probe = [o for o in _outs(op.fn(chainrule, *to_args(*[p.requires_grad_() for p in
                                                             [x.clone() for x in per[0]]])))
             if o.requires_grad]
    if not probe:
        pytest.skip("no differentiable output")
    rng = np.random.default_rng(5)
    ws = [chainrule.tensor(rng.uniform(0.5, 1.5, tuple(o.shape)), dtype=o.dtype)
          for o in probe]

    def loss(*ls):
        os = [o for o in _outs(op.fn(chainrule, *to_args(*ls))) if o.requires_grad]
        return sum((o * w).sum() for o, w in zip(os, ws))
    try:
        got = vmap(grad(loss, argnums=tuple(range(n))))(*stacked)
    except RuntimeError as e:
        _not_batchable(op, e, "grad")
        return
    assert (op.name, "grad") not in NOT_BATCHABLE, f"{op.name}: update NOT_BATCHABLE"
    for b in range(B):
        xs = [x.clone().requires_grad_() for x in per[b]]
        want = chainrule.autograd.grad(loss(*xs), xs, allow_unused=True)
        for g, w in zip(got, want):
            w = to_np(w) if w is not None else 0.0
            np.testing.assert_allclose(to_np(g[b]), w, rtol=1e-7, atol=1e-9)


# -- API --------------------------------------------------------------------------------------
def _t(*shape, seed=0):
    return chainrule.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=F64)


def test_in_dims_out_dims_and_none():
    x, w = _t(4, 3), _t(3, 5)
    out = vmap(lambda a, m: a @ m, in_dims=(0, None))(x, w)
    np.testing.assert_allclose(to_np(out), to_np(x) @ to_np(w), rtol=1e-12)
    out = vmap(lambda a: a * 2, in_dims=1, out_dims=1)(x)
    np.testing.assert_allclose(to_np(out), to_np(x) * 2)
    out = vmap(lambda a, m: (a @ m, m.sum()), in_dims=(0, None), out_dims=(0, None))(x, w)
    assert out[1].shape == () and out[0].shape == (4, 5)
    out = vmap(lambda a: a.sum() * 0 + 1.5)(x)
    np.testing.assert_allclose(to_np(out), np.full(4, 1.5))


def test_unbatched_output_is_broadcast():
    x, c = _t(4, 3), _t(2)
    out = vmap(lambda a: c * 2)(x)
    assert out.shape == (4, 2)
    np.testing.assert_allclose(to_np(out), np.broadcast_to(to_np(c) * 2, (4, 2)))


def test_pytrees_in_and_out():
    x, y = _t(4, 3), _t(4)
    out = vmap(lambda d: {"s": d["a"].sum() + d["b"], "t": (d["a"] * 2,)})({"a": x, "b": y})
    np.testing.assert_allclose(to_np(out["s"]), to_np(x).sum(1) + to_np(y))
    np.testing.assert_allclose(to_np(out["t"][0]), to_np(x) * 2)


def test_nesting():
    x = _t(2, 3, 4)
    out = vmap(vmap(lambda v: (v * v).sum()))(x)
    np.testing.assert_allclose(to_np(out), (to_np(x) ** 2).sum(-1), rtol=1e-12)
    out = vmap(vmap(lambda a, b: a @ b, in_dims=(None, 0)), in_dims=(0, None))(_t(2, 4),
                                                                            _t(3, 4, 5))
    assert out.shape == (2, 3, 5)
    out = vmap(vmap(lambda v: v.sum(), in_dims=1), in_dims=2)(x)
    np.testing.assert_allclose(to_np(out), to_np(x).sum(0).T, rtol=1e-12)


def test_chunk_size():
    x = _t(7, 3)
    out = vmap(lambda v: v.exp().sum(), chunk_size=3)(x)
    np.testing.assert_allclose(to_np(out), np.exp(to_np(x)).sum(1), rtol=1e-12)


def test_randomness_error_default_and_same():
    x = _t(3, 2)
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(lambda v: v + chainrule.randn(2))(x)
    out = vmap(lambda v: v * 0 + chainrule.rand(2), randomness="same")(x)
    assert np.allclose(to_np(out[0]), to_np(out[1]))
    with pytest.raises(RuntimeError, match="randomness"):
        vmap(lambda v: v, randomness="bogus")(x)
    chainrule.randn(2)      # the generator is usable again after vmap


def test_errors_are_clear():
    x = _t(3, 2)
    with pytest.raises(ValueError, match="same size"):
        vmap(lambda a, b: a + b)(x, _t(4, 2))
    with pytest.raises(ValueError, match="in_dim"):
        vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="at least one"):
        vmap(lambda a: a, in_dims=None)(x)
    with pytest.raises(ValueError, match="Tensors"):
        vmap(lambda a: 3)(x)
    with pytest.raises(RuntimeError, match="not batchable") as ei:
        vmap(lambda a: a.item())(_t(3))
    assert "item" in str(ei.value)
    with pytest.raises(RuntimeError, match="not batchable") as ei:
        vmap(lambda a: a.nonzero())(x)      # a data-dependent shape (torch refuses it too)
    assert "nonzero" in str(ei.value)


def test_primitive_without_rule_names_it():
    from chainrule.autograd.function import Op

    class Frobnicate(Op):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    with pytest.raises(RuntimeError, match="Frobnicate.*not batchable"):
        vmap(lambda a: Frobnicate.apply(a))(_t(3, 2))


def test_gradient_flows_through_vmap():
    x = _t(4, 3).requires_grad_()
    w = _t(3).requires_grad_()
    y = vmap(lambda r: (r * w).tanh().sum())(x)
    (y * chainrule.arange(4, dtype=F64)).sum().backward()
    xs, ws = to_np(x.detach()), to_np(w.detach())
    t = np.tanh(xs * ws)
    gx = np.arange(4)[:, None] * (1 - t ** 2) * ws
    np.testing.assert_allclose(to_np(x.grad), gx, rtol=1e-12)
    np.testing.assert_allclose(to_np(w.grad), (np.arange(4)[:, None] * (1 - t ** 2) * xs).sum(0),
                               rtol=1e-12)


def test_per_sample_gradients_wrt_unbatched_parameters():
    w, x = _t(3), _t(5, 3)
    g = vmap(grad(lambda p, r: ((r * p).sin()).sum()), in_dims=(None, 0))(w, x)
    want = np.cos(to_np(x) * to_np(w)) * to_np(x)
    np.testing.assert_allclose(to_np(g), want, rtol=1e-12)
    # closure over the batched input: the gradient is still per sample
    g = vmap(lambda r: grad(lambda p: (r * p).sin().sum())(w))(x)
    np.testing.assert_allclose(to_np(g), want, rtol=1e-12)


def test_inplace_on_batched_tensor():
    x = _t(4, 3)

    def f(r):
        y = r * 1
        y[0] = r[1] * 10
        y += r
        return y
    out = vmap(f)(x)
    want = np.stack([to_np(f(x[b])) for b in range(4)])
    np.testing.assert_allclose(to_np(out), want, rtol=1e-12)


@needs_torch
def test_torch_parity():
    import torch
    xa, wa = np.random.default_rng(0).standard_normal((4, 3)), np.ones((3, 2))
    outs = []
    for m, vm in ((chainrule, vmap), (torch, torch.func.vmap)):
        x, w = m.tensor(xa, dtype=m.float64), m.tensor(wa, dtype=m.float64)
        outs.append(vm(lambda r, q: ((r @ q).relu() * r.sum(), r.max()), in_dims=(0, None),
                       out_dims=(1, 0))(x, w))
    for a, b in zip(*outs):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-12)


def test_linear_with_batched_weights_and_bias():
    import chainrule.nn.functional as Fn
    x, W, b = _t(4, 3, seed=1), _t(5, 2, 3, seed=2), _t(5, 2, seed=3)
    for dims, args in (((None, 0, 0), (x, W, b)), ((None, None, 0), (x, W[0], b)),
                       ((0, 0, None), (_t(5, 4, 3, seed=4), W, b[0]))):
        out = vmap(Fn.linear, in_dims=dims)(*args)
        for i in range(5):
            sl = [a if d is None else a[i] for a, d in zip(args, dims)]
            np.testing.assert_allclose(to_np(out[i]), to_np(Fn.linear(*sl)), rtol=1e-12)


def _vmapped_fns():
    class Square(chainrule.autograd.Function):       # old style: ctx in forward
        generate_vmap_rule = True

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    class MulW(chainrule.autograd.Function):         # new style, saved tensors and attributes
        generate_vmap_rule = True

        @staticmethod
        def forward(x, w):
            return (x * w).sum()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)
            ctx.k = 3.0

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w * ctx.k / 3.0, g * x
    return Square, MulW


def test_custom_function_records_a_batch_shaped_graph_under_vmap():
    # the node the engine sees is the physical one: gradients keep the batched input's shape
    from chainrule.func import vmap
    Square, MulW = _vmapped_fns()
    xr = chainrule.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]], requires_grad=True)
    vmap(Square.apply)(xr).sum().backward()
    np.testing.assert_array_equal(to_np(xr.grad), 2 * to_np(xr.detach()))
    x = chainrule.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = chainrule.tensor([0.5, 1.0, 2.0], requires_grad=True)
    out = vmap(MulW.apply, in_dims=(0, None))(x, w)
    np.testing.assert_allclose(to_np(out), to_np(x) @ to_np(w))
    (out * chainrule.tensor([1.0, 10.0])).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), np.outer([1.0, 10.0], to_np(w)))
    np.testing.assert_allclose(to_np(w.grad), [41.0, 52.0, 63.0])
