"""A small CNN training step: conv 1->8 3x3, ReLU, max-pool 2, conv 8->16 3x3, ReLU,
max-pool 2, linear 400->10, cross-entropy, SGD; a batch of 32 float32 28x28 images.

The NumPy floor is a straightforward hand-written im2col forward and backward (rows of
windows times the weight matrix, col2im by one strided add per kernel tap, max-pool as the
maximum of its strided taps, routed back by an equality mask).

Thread counts decide this comparison: torch runs its kernels on intra-op threads, NumPy only
threads large GEMMs. For a like-for-like run pin both to one thread:
``OPENBLAS_NUM_THREADS=1`` and ``torch.set_num_threads(1)``."""
import numpy as np

from . import Workload

N, LR = 32, 0.01


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, N)
    params = [rng.standard_normal((8, 1, 3, 3)) * 0.3, np.zeros(8),
              rng.standard_normal((16, 8, 3, 3)) * 0.1, np.zeros(16),
              rng.standard_normal((10, 400)) * 0.05, np.zeros(10)]
    return x, y, [p.astype(np.float32) for p in params]


# -- NumPy floor -----------------------------------------------------------------------------
def _np_conv(x, w, b):
    n, c, h, wd = x.shape
    o, k = w.shape[0], w.shape[2]
    ho, wo = h - k + 1, wd - k + 1
    win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))
    col = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    y = col @ w.reshape(o, -1).T + b
    return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), col


def _np_conv_back(gy, col, w, x_shape, need_dx):
    n, o, ho, wo = gy.shape
    k = w.shape[2]
    g2 = gy.transpose(0, 2, 3, 1).reshape(-1, o)
    gw = (g2.T @ col).reshape(w.shape)
    gb = g2.sum(0)
    if not need_dx:
        return None, gw, gb
    gcol = (g2 @ w.reshape(o, -1)).reshape(n, ho, wo, -1, k, k)
    dx = np.zeros(x_shape, gy.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + ho, j:j + wo] += gcol[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dx, gw, gb


def _np_pool(a):
    h2, w2 = a.shape[2] // 2, a.shape[3] // 2
    t = [a[:, :, i:2 * h2:2, j:2 * w2:2] for i in (0, 1) for j in (0, 1)]
    return np.maximum(np.maximum(t[0], t[1]), np.maximum(t[2], t[3]))


def _np_pool_back(g, a, m):
    h2, w2 = m.shape[2:]
    dx = np.zeros(a.shape, g.dtype)
    for i in (0, 1):
        for j in (0, 1):
            win = (slice(None), slice(None), slice(i, 2 * h2, 2), slice(j, 2 * w2, 2))
            dx[win] = g * (a[win] == m)
    return dx


def _numpy():
    x, y, params = _data()

    def step():
        w1, b1, w2, b2, w3, b3 = params
        z1, col1 = _np_conv(x, w1, b1)
        a1 = np.maximum(z1, 0)
        p1 = _np_pool(a1)
        z2, col2 = _np_conv(p1, w2, b2)
        a2 = np.maximum(z2, 0)
        p2 = _np_pool(a2)
        f = p2.reshape(N, -1)
        z3 = f @ w3.T + b3
        m = z3.max(1, keepdims=True)
        e = np.exp(z3 - m)
        s = e.sum(1, keepdims=True)
        loss = (np.log(s[:, 0]) + m[:, 0] - z3[np.arange(N), y]).mean()
        g3 = e / s
        g3[np.arange(N), y] -= 1
        g3 /= N
        gw3, gb3 = g3.T @ f, g3.sum(0)
        ga2 = _np_pool_back((g3 @ w3).reshape(p2.shape), a2, p2) * (z2 > 0)
        gp1, gw2, gb2 = _np_conv_back(ga2, col2, w2, p1.shape, True)
        ga1 = _np_pool_back(gp1, a1, p1) * (z1 > 0)
        _, gw1, gb1 = _np_conv_back(ga1, col1, w1, x.shape, False)
        for p, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
            p -= LR * g
        return loss
    return step


# -- chainrule and torch: the same model code ------------------------------------------------
def _model_step(lib, F, x, y, params):
    def step():
        w1, b1, w2, b2, w3, b3 = params
        h = F.max_pool2d(F.relu(F.conv2d(x, w1, b1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, w2, b2)), 2)
        loss = F.cross_entropy(F.linear(h.reshape(N, -1), w3, b3), y)
        for p in params:
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= LR * p.grad
        return loss
    return step


def _chainrule():
    import chainrule
    import chainrule.nn.functional as F
    x, y, params = _data()
    ps = [chainrule.tensor(p, requires_grad=True) for p in params]
    return _model_step(chainrule, F, chainrule.tensor(x), chainrule.tensor(y), ps)


def _torch():
    import torch
    import torch.nn.functional as F
    x, y, params = _data()
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    return _model_step(torch, F, torch.tensor(x), torch.tensor(y), ps)


WORKLOADS = [Workload("cnn_step", {"numpy": _numpy, "chainrule": _chainrule, "torch": _torch},
                      target="chainrule <= torch", quick_repeat=10, repeat=60)]
