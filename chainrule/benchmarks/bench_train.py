"""Issue 5's training step: MLP 64-128-128-10, batch 64, from nn.Linear, nn.ReLU,
nn.CrossEntropyLoss and optim.SGD, against the same step written by hand in NumPy."""
import numpy as np

from . import Workload

B, SIZES, LR = 64, (64, 128, 128, 10), 0.05


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], B)
    ws = [(rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32)
          for i, o in zip(SIZES[:-1], SIZES[1:])]
    bs = [np.zeros(o, np.float32) for o in SIZES[1:]]
    return x, y, ws, bs


def numpy_step():
    x, y, ws, bs = _data()
    rows = np.arange(B)

    def step():
        hs, h = [x], x
        for k in range(3):
            h = h @ ws[k].T + bs[k]
            if k < 2:
                h = np.maximum(h, 0)
            hs.append(h)
        z = h - h.max(1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(1, keepdims=True)
        loss = -np.log(p[rows, y]).mean()
        g = p
        g[rows, y] -= 1
        g /= B
        for k in (2, 1, 0):
            gw, gb = g.T @ hs[k], g.sum(0)
            if k:
                g = (g @ ws[k]) * (hs[k] > 0)
            ws[k] -= LR * gw
            bs[k] -= LR * gb
        return loss
    return step


def _lib_step(m):
    x, y, ws, bs = _data()
    net = m.nn.Sequential(m.nn.Linear(64, 128), m.nn.ReLU(), m.nn.Linear(128, 128),
                          m.nn.ReLU(), m.nn.Linear(128, 10))
    with m.no_grad():
        for lin, w, b in zip([net[0], net[2], net[4]], ws, bs):
            lin.weight.copy_(m.from_numpy(w))
            lin.bias.copy_(m.from_numpy(b))
    loss_fn = m.nn.CrossEntropyLoss()
    opt = m.optim.SGD(net.parameters(), lr=LR)
    xt, yt = m.from_numpy(x), m.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = loss_fn(net(xt), yt)
        loss.backward()
        opt.step()
        return loss
    return step


def chainrule_step():
    import chainrule
    return _lib_step(chainrule)


def torch_step():
    import torch
    return _lib_step(torch)


WORKLOADS = [Workload("train step MLP 64-128-128-10 b64 (nn+optim)",
                      {"numpy": numpy_step, "chainrule": chainrule_step, "torch": torch_step},
                      target="chainrule <= 1.3x", quick_repeat=50, repeat=300)]
