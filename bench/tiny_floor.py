"""How low can a pure-Python engine go on the tiny-ops workload? ``python bench/tiny_floor.py``

Issue 2 asks for ``x = tanh(x * w + 0.1)`` x100 on a float32 16-vector, then backward, within
2.0x of the same computation written by hand in NumPy. On 16 floats each NumPy call costs about
0.2 us, so the whole budget per graph node (record it, run its rule, route its gradient) is
about 1 us of Python on top of NumPy.

This script times, in one process, round-robin:
- ``numpy``: the hand-written forward and backward (the floor the target is measured against);
- ``bare``: the smallest engine that still builds a graph and walks it in reverse: slotted
  nodes, a dependency count, a pending-gradient dict. It has no grad mode, no version
  counters, no dtype/shape checks, no broadcasting, no hooks, no operator dispatch; its three
  op functions are called directly;
- ``chainrule``: the library, with all of those.

It shows how much of the budget the bare bookkeeping alone already uses, and what the
guarantees chainrule keeps cost on top of it.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from chainrule.benchmarks.bench_core import _tiny_data, tiny_chainrule, tiny_numpy  # noqa: E402


class _T:
    __slots__ = ("d", "fn")


class _Node:
    __slots__ = ("nx", "sv")


class _Mul(_Node):
    __slots__ = ()

    def bw(self, g):
        a, b = self.sv
        return g * b, g * a


class _AddConst(_Node):
    __slots__ = ()

    def bw(self, g):
        return (g,)


class _Tanh(_Node):
    __slots__ = ()

    def bw(self, g):
        t = g * self.sv
        return (g - t * self.sv,)


class _Leaf(_Node):
    __slots__ = ("grad",)


def _out(d, fn):
    t = _T()
    t.d, t.fn = d, fn
    return t


def _mul(a, b):
    n = _Mul()
    n.sv = (a.d, b.d)
    n.nx = (a.fn, b.fn)
    return _out(a.d * b.d, n)


def _add_const(a, c):
    n = _AddConst()
    n.nx = (a.fn,)
    return _out(a.d + c, n)


def _tanh(a):
    n = _Tanh()
    y = np.tanh(a.d)
    n.sv = y
    n.nx = (a.fn,)
    return _out(y, n)


def _backward(root, g0):
    deps = {root: 0}
    stack = [root]
    while stack:
        for m in stack.pop().nx:
            if m is not None:
                if m in deps:
                    deps[m] += 1
                else:
                    deps[m] = 1
                    stack.append(m)
    pending = {root: g0}
    ready = [root]
    while ready:
        node = ready.pop()
        g = pending.pop(node)
        if type(node) is _Leaf:
            node.grad = g
            continue
        for m, gi in zip(node.nx, node.bw(g)):
            if m is None:
                continue
            c = deps[m] - 1
            deps[m] = c
            if c == 0:
                ready.append(m)
            old = pending.get(m)
            pending[m] = gi if old is None else old + gi


def tiny_bare():
    x0, w0 = _tiny_data()
    x0 = _out(x0, None)
    leaf = _Leaf()
    leaf.nx = ()
    w = _out(w0, leaf)
    c = np.float32(0.1)

    def step():
        x = x0
        for _ in range(100):
            x = _tanh(_add_const(_mul(x, w), c))
        _backward(x.fn, np.ones_like(x.d))
        return leaf.grad
    return step


def main(rounds=300):
    fns = {"numpy": tiny_numpy(), "bare": tiny_bare(), "chainrule": tiny_chainrule()}
    ref = fns["numpy"]()
    for k in ("bare", "chainrule"):
        got = fns[k]()
        got = got.numpy() if hasattr(got, "numpy") else got
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:>10}: {v / med['numpy']:.2f}x numpy")


if __name__ == "__main__":
    main()
