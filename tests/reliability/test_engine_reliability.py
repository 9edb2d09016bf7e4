"""Issue 7, graph and engine: depth, freeing, memory, nesting, threads, checking the checker."""
import gc
import sys
import threading
import time
import tracemalloc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import Function


class Scale(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1.0

    @staticmethod
    def backward(ctx, g):
        return g * 1.0


def _chain(n, skip=False, custom=False):
    x = cr.tensor(1.0, requires_grad=True)
    y = x
    prev = x
    for i in range(n):
        if custom:
            y = Scale.apply(y)
        elif skip and i % 10 == 9:
            y, prev = y + prev * 0.0, y
        else:
            y = y * 1.0
    return x, y


@pytest.mark.parametrize("kind", ["chain", "skip", "custom"])
def test_deep_graphs_at_default_recursion_limit(kind):
    limit = sys.getrecursionlimit()
    n = 100_000 if kind == "skip" else 150_000
    x, y = _chain(n, skip=kind == "skip", custom=kind == "custom")
    y.backward()
    assert x.grad.item() == pytest.approx(1.0)
    x2, y2 = _chain(n, skip=kind == "skip", custom=kind == "custom")
    del y2      # an un-run graph of that depth must also die without a crash
    assert sys.getrecursionlimit() == limit


def test_cost_scales_linearly():
    # CPU time of this process (not wall time), best of several runs: other processes on a
    # busy machine do not count against the engine
    def run(n):
        x, y = _chain(n)
        t0 = time.process_time()
        y.backward()
        return time.process_time() - t0
    small = min(run(5_000) for _ in range(5))
    big = min(run(50_000) for _ in range(3))
    assert big <= 20 * small, (small, big)


def test_training_memory_is_flat_without_gc():
    rng = np.random.default_rng(0)
    w = cr.tensor(rng.standard_normal((8, 4)).astype(np.float32), requires_grad=True)
    x = cr.tensor(rng.standard_normal((16, 8)).astype(np.float32))

    def step():
        loss = ((x @ w).tanh() ** 2).mean()
        loss.backward()
        with cr.no_grad():
            w.sub_(0.01 * w.grad)
        w.grad = None
    gc.disable()
    try:
        for _ in range(50):
            step()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            step()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    finally:
        gc.enable()
    assert grown < 1_000_000, grown


def test_node_dies_with_its_output():
    gc.disable()
    try:
        x = cr.ones(3, requires_grad=True)
        y = (x.exp() * 2).sum()
        refs = [weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
        del y
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


class Nest(Function):
    """backward runs a whole backward of its own, ``level`` deep."""

    @staticmethod
    def forward(ctx, x, level, fail_at):
        ctx.level, ctx.fail_at = level, fail_at
        return x * 2

    @staticmethod
    def backward(ctx, g):
        if ctx.level == ctx.fail_at:
            raise ValueError(f"boom at level {ctx.level}")
        if ctx.level > 0:
            with cr.enable_grad():      # backward runs in no-grad mode, as in torch
                inner = cr.tensor(1.0, requires_grad=True)
                out = Nest.apply(inner, ctx.level - 1, ctx.fail_at)
                gi, = cr.autograd.grad(out, inner)
            return g * gi, None, None
        return g * 2, None, None


def test_nested_backward_2000_levels_and_errors_propagate():
    x = cr.tensor(1.0, requires_grad=True)
    Nest.apply(x, 2000, -1).backward()
    assert x.grad.item() == 2.0
    x.grad = None
    with pytest.raises(ValueError, match="boom at level 7"):
        Nest.apply(x, 2000, 7).backward()


def test_threads_shared_leaf_is_exactly_10x():
    w = cr.ones(5, dtype=cr.float64, requires_grad=True)

    def one():
        ((w * w).sum() * 3).backward()
    one()
    single = w.grad.numpy().copy()
    w.grad = None
    ts = [threading.Thread(target=one) for _ in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    np.testing.assert_array_equal(w.grad.numpy(), 10 * single)


def test_threads_private_graphs_match_serial():
    def work(seed, out):
        rng = np.random.default_rng(seed)
        w = cr.tensor(rng.standard_normal((6, 3)), requires_grad=True)
        x = cr.tensor(rng.standard_normal((4, 6)))
        for _ in range(50):
            loss = ((x @ w).sigmoid() ** 2).sum()
            loss.backward()
            with cr.no_grad():
                w -= 0.1 * w.grad
            w.grad = None
        out[seed] = w.detach().numpy().copy()
    serial, threaded = {}, {}
    for s in range(8):
        work(s, serial)
    ts = [threading.Thread(target=work, args=(s, threaded)) for s in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for s in range(8):
        np.testing.assert_array_equal(serial[s], threaded[s])


def test_grad_mode_does_not_leak_between_threads():
    seen = {}
    started = threading.Event()
    release = threading.Event()

    def off():
        with cr.no_grad():
            started.set()
            release.wait(5)
            seen["off"] = cr.is_grad_enabled()

    def on():
        started.wait(5)
        seen["on"] = cr.is_grad_enabled()
        release.set()
    a, b = threading.Thread(target=off), threading.Thread(target=on)
    a.start()
    b.start()
    a.join()
    b.join()
    assert seen == {"off": False, "on": True}


def _broken(op, factor):
    """A copy of a primitive whose backward is off by ``factor``."""
    class Broken(op):
        @staticmethod
        def backward(ctx, g):
            res = op.backward(ctx, g)
            if isinstance(res, tuple):
                return tuple(r * factor if r is not None else None for r in res)
            return res * factor
    return Broken


@pytest.mark.parametrize("opname,fn,lo", [
    ("Exp", lambda B, x: B.apply(x), -1.0), ("Tanh", lambda B, x: B.apply(x), -1.0),
    ("Log", lambda B, x: B.apply(x), 0.5), ("Mul", lambda B, x: B.apply(x, x * 1.0), -1.0),
])
def test_gradcheck_catches_a_backward_off_by_a_tenth_of_a_percent(opname, fn, lo):
    from chainrule.ops import elementwise as E
    op = getattr(E, opname)
    x = cr.tensor(np.linspace(lo, lo + 1.5, 6), requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: fn(op, t), (x,))
    # 0.1% off: caught at rtol 1e-4 (torch's default rtol of 1e-3 sits exactly on the edge)
    bad = _broken(op, 1.001)
    with pytest.raises(cr.autograd.GradcheckError):
        cr.autograd.gradcheck(lambda t: fn(bad, t), (x,), rtol=1e-4, atol=1e-7)
    with pytest.raises(cr.autograd.GradcheckError):
        cr.autograd.gradcheck(lambda t: fn(_broken(op, 1.0011), t), (x,))
