"""Activation checkpointing: identical gradients, lower peak memory on a deep MLP, higher
order through a checkpoint, random state preserved, and checkpoint_sequential."""
import tracemalloc

import numpy as np
import pytest

import chainrule
from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential
from conftest import needs_torch, to_np

F64 = chainrule.float64


def _mlp(depth=10, width=96, batch=48):
    rng = np.random.default_rng(0)
    Ws = [chainrule.tensor(rng.standard_normal((width, width)) / np.sqrt(width), dtype=F64,
                           requires_grad=True) for _ in range(depth)]
    x = chainrule.tensor(rng.standard_normal((batch, width)), dtype=F64, requires_grad=True)
    return Ws, x


def _block(h, W):
    a = h @ W
    b = a.tanh()
    return (b * a).sin() * b


def _run(Ws, x, ck):
    for p in Ws + [x]:
        p.grad = None
    tracemalloc.start()
    try:
        h = x
        for W in Ws:
            h = checkpoint(_block, h, W, use_reentrant=False) if ck else _block(h, W)
        (h ** 2).sum().backward()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, [to_np(p.grad).copy() for p in Ws + [x]]


def test_peak_memory_falls_and_gradients_are_identical():
    Ws, x = _mlp()
    p0, g0 = _run(Ws, x, False)
    p1, g1 = _run(Ws, x, True)
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)
    assert p1 < 0.8 * p0, f"peak {p1} bytes with checkpointing vs {p0} without"


def test_autograd_grad_and_double_backward():
    x = chainrule.tensor([0.5, -1.0, 2.0], dtype=F64, requires_grad=True)
    w = chainrule.tensor([1.5, 0.5, -1.0], dtype=F64, requires_grad=True)
    y = checkpoint(lambda t: (t ** 3 * w).sum(), x, use_reentrant=False)
    g, = chainrule.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(to_np(g), 3 * to_np(x.detach()) ** 2 * to_np(w.detach()))
    gg, gw = chainrule.autograd.grad(g.sum(), (x, w))
    np.testing.assert_allclose(to_np(gg), 6 * to_np(x.detach()) * to_np(w.detach()))
    np.testing.assert_allclose(to_np(gw), 3 * to_np(x.detach()) ** 2)


def test_random_state_is_replayed():
    x = chainrule.ones(5, dtype=F64, requires_grad=True)

    def noisy(t):
        return t * chainrule.rand(5, dtype=F64)
    chainrule.manual_seed(3)
    y = checkpoint(noisy, x, use_reentrant=False)
    noise = to_np(y.detach())
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), noise)


def test_multiple_outputs_and_non_tensor_args():
    x = chainrule.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    a, b = checkpoint(lambda t, k: (t * k, t.exp()), x, 3.0, use_reentrant=False)
    (a.sum() + b.sum()).backward()
    np.testing.assert_allclose(to_np(x.grad), 3 + np.exp([1.0, 2.0]))


def test_no_grad_and_warning():
    x = chainrule.ones(2, requires_grad=True)
    with chainrule.no_grad():
        assert not checkpoint(lambda t: t * 2, x, use_reentrant=False).requires_grad
    with pytest.warns(UserWarning, match="use_reentrant"):
        checkpoint(lambda t: t * 2, x)


def test_checkpoint_sequential():
    Ws, x = _mlp(depth=4, width=8, batch=3)
    fs = [lambda h, W=W: _block(h, W) for W in Ws]
    out = checkpoint_sequential(fs, 2, x, use_reentrant=False)
    out.sum().backward()
    g1 = [to_np(W.grad).copy() for W in Ws]
    for W in Ws:
        W.grad = None
    h = x
    for f in fs:
        h = f(h)
    np.testing.assert_allclose(to_np(out.detach()), to_np(h.detach()))
    h.sum().backward()
    for a, W in zip(g1, Ws):
        np.testing.assert_array_equal(a, to_np(W.grad))


@needs_torch
def test_torch_parity():
    import torch
    import torch.utils.checkpoint as tcp
    xa = np.random.default_rng(0).standard_normal((3, 4))
    res = []
    for m, ck in ((chainrule, checkpoint), (torch, tcp.checkpoint)):
        x = m.tensor(xa, dtype=m.float64, requires_grad=True)
        y = ck(lambda t: (t.tanh() @ t.t()).exp().sum(), x, use_reentrant=False)
        y.backward()
        res.append((to_np(y.detach()), to_np(x.grad)))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


def test_transforms_inside_a_checkpoint():
    from chainrule.func import grad, vmap
    x = chainrule.tensor([[0.5, -1.0], [2.0, 0.3]], dtype=F64, requires_grad=True)

    def seg(t):
        return vmap(grad(lambda r: (r.sin() * r).sum()))(t) * t
    y = checkpoint(seg, x, use_reentrant=False)
    y.sum().backward()
    g1 = to_np(x.grad).copy()
    x.grad = None
    seg(x).sum().backward()
    np.testing.assert_allclose(g1, to_np(x.grad), rtol=1e-12)
    from chainrule.autograd import function as Fn
    assert Fn._INTERPOSE[0] is None
