"""Issue 2 workloads: tiny ops (engine overhead) and a big MLP step (GEMM-bound)."""
import numpy as np

from . import Workload

N_TINY, D_TINY = 100, 16


def _tiny_data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal(D_TINY).astype(np.float32),
            rng.standard_normal(D_TINY).astype(np.float32))


def tiny_numpy():
    x0, w = _tiny_data()

    def step():
        xs = [x0]
        x = x0
        for _ in range(N_TINY):
            x = np.tanh(x * w + np.float32(0.1))
            xs.append(x)
        _ = x.sum()
        g = np.ones_like(x)
        gw = np.zeros_like(w)
        for i in range(N_TINY, 0, -1):
            gz = g * (1 - xs[i] * xs[i])
            gw += gz * xs[i - 1]
            g = gz * w
        return gw
    return step


def _tiny_lib(m):
    """The tiny workload in a torch-like library ``m`` (chainrule or torch): same code."""
    x0, w0 = _tiny_data()
    x0 = m.from_numpy(x0)
    w = m.from_numpy(w0.copy()).requires_grad_()

    def step():
        w.grad = None
        x = x0
        for _ in range(N_TINY):
            x = (x * w + 0.1).tanh()
        x.sum().backward()
        return w.grad
    return step


def tiny_chainrule():
    import chainrule
    return _tiny_lib(chainrule)


def tiny_torch():
    import torch
    torch.set_num_threads(1)
    return _tiny_lib(torch)


B, SIZES = 256, (784, 1024, 1024, 10)
LR = 0.01


def _mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], B)
    ws = [(rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32)
          for i, o in zip(SIZES[:-1], SIZES[1:])]
    bs = [np.zeros(o, np.float32) for o in SIZES[1:]]
    return x, y, ws, bs


def mlp_numpy():
    x, y, ws, bs = _mlp_data()
    n = len(ws)

    def step():
        hs = [x]
        h = x
        for k in range(n):
            z = h @ ws[k]
            z += bs[k]
            if k < n - 1:
                np.maximum(z, 0, out=z)
            hs.append(z)
            h = z
        m = h.max(1, keepdims=True)
        e = np.exp(h - m)
        s = e.sum(1, keepdims=True)
        p = e / s
        loss = -(np.log(p[np.arange(B), y])).mean()
        g = p
        g[np.arange(B), y] -= 1
        g /= B
        for k in range(n - 1, -1, -1):
            gw = hs[k].T @ g
            gb = g.sum(0)
            if k > 0:
                g = g @ ws[k].T
                g *= hs[k] > 0
            ws[k] -= LR * gw
            bs[k] -= LR * gb
        return loss
    return step


def _mlp_lib(m):
    """The MLP step in a torch-like library ``m`` (chainrule or torch): same code."""
    x, y, ws, bs = _mlp_data()
    x, y = m.from_numpy(x), m.from_numpy(y)
    ws = [m.from_numpy(w).requires_grad_() for w in ws]
    bs = [m.from_numpy(b).requires_grad_() for b in bs]
    rows = m.arange(B)

    def step():
        h = x
        for k in range(len(ws)):
            h = h @ ws[k] + bs[k]
            if k < len(ws) - 1:
                h = h.relu()
        z = h - h.max(1, keepdim=True).values
        logp = z - z.exp().sum(1, keepdim=True).log()
        loss = -logp[rows, y].mean()
        loss.backward()
        with m.no_grad():
            for p in ws + bs:
                p -= LR * p.grad
                p.grad = None
        return loss
    return step


def mlp_chainrule():
    import chainrule
    return _mlp_lib(chainrule)


def mlp_torch():
    import torch
    return _mlp_lib(torch)


WORKLOADS = [
    Workload("tiny ops (100x tanh(x*w+0.1))",
             {"numpy": tiny_numpy, "chainrule": tiny_chainrule, "torch": tiny_torch},
             target="chainrule <= 2.0x", quick_repeat=50, repeat=400),
    Workload("MLP 784-1024-1024-10 b256",
             {"numpy": mlp_numpy, "chainrule": mlp_chainrule, "torch": mlp_torch},
             target="chainrule <= 1.05x", quick_repeat=3, repeat=15),
]


def peak_memory(setup, steps=2):
    """Peak bytes traced during ``steps`` calls after a warm-up (NumPy reports to
    tracemalloc, so array buffers count)."""
    import gc
    import tracemalloc
    fn = setup()
    fn()
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(steps):
        fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


MEMORY = [("MLP 784-1024-1024-10 b256 peak memory",
           {"numpy": mlp_numpy, "chainrule": mlp_chainrule}, "chainrule <= 1.2x")]
