"""nn.Module workloads.

lstm_step: one LSTM layer (input 32, hidden 64) over 16 steps of a batch of 16, float32;
forward, loss = sum of squared outputs, backward into every parameter. The NumPy floor is a
hand-written LSTM forward (input projection for all steps in one GEMM, then per step one GEMM
and the gate nonlinearities) and backpropagation through time.

mlp_step: Linear(64, 128) - ReLU - Linear(128, 10) on a batch of 64 with cross-entropy, as a
module (Sequential) training step: zero_grad, forward, backward. The floor is the hand-written
two-layer forward and backward."""
import numpy as np

from . import Workload

T, B, I, H = 16, 16, 32, 64


def _lstm_data():
    rng = np.random.default_rng(0)
    k = 1 / np.sqrt(H)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    ps = [rng.uniform(-k, k, s).astype(np.float32)
          for s in ((4 * H, I), (4 * H, H), (4 * H,), (4 * H,))]
    return x, ps


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _lstm_numpy():
    x, (w_ih, w_hh, b_ih, b_hh) = _lstm_data()

    def step():
        xp = x @ w_ih.T + (b_ih + b_hh)
        h = np.zeros((B, H), np.float32)
        c = np.zeros((B, H), np.float32)
        cache, hs = [], []
        for t in range(T):
            g = xp[t] + h @ w_hh.T
            i, f, gg, o = _sig(g[:, :H]), _sig(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), \
                _sig(g[:, 3 * H:])
            c_prev, h_prev = c, h
            c = f * c + i * gg
            tc = np.tanh(c)
            h = o * tc
            cache.append((i, f, gg, o, c_prev, h_prev, tc))
            hs.append(h)
        dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
        db = np.zeros_like(b_ih)
        dh_next = np.zeros((B, H), np.float32)
        dc_next = np.zeros((B, H), np.float32)
        dgs = np.empty((T, B, 4 * H), np.float32)
        for t in range(T - 1, -1, -1):
            i, f, gg, o, c_prev, h_prev, tc = cache[t]
            dh = 2 * hs[t] + dh_next
            do = dh * tc
            dc = dh * o * (1 - tc * tc) + dc_next
            dgs[t] = np.concatenate([dc * gg * i * (1 - i), dc * c_prev * f * (1 - f),
                                     dc * i * (1 - gg * gg), do * o * (1 - o)], 1)
            dw_hh += dgs[t].T @ h_prev
            dh_next = dgs[t] @ w_hh
            dc_next = dc * f
        flat = dgs.reshape(T * B, -1)
        dw_ih += flat.T @ x.reshape(T * B, -1)
        db += flat.sum(0)
        return dw_ih, dw_hh, db
    return step


def _lstm_lib(lib):
    def setup():
        m = __import__(lib)
        x, ps = _lstm_data()
        lstm = m.nn.LSTM(I, H)
        with m.no_grad():
            for p, v in zip(lstm.parameters(), ps):
                p.copy_(m.from_numpy(v))
        xt = m.from_numpy(x)

        def step():
            lstm.zero_grad()
            out, _ = lstm(xt)
            (out * out).sum().backward()
        return step
    return setup


N, D_IN, D_H, D_OUT = 64, 64, 128, 10


def _mlp_data():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, D_IN)).astype(np.float32)
    y = rng.integers(0, D_OUT, N)
    ps = [(rng.standard_normal(s) * 0.1).astype(np.float32)
          for s in ((D_H, D_IN), (D_H,), (D_OUT, D_H), (D_OUT,))]
    return x, y, ps


def _mlp_numpy():
    x, y, (w1, b1, w2, b2) = _mlp_data()

    def step():
        z1 = x @ w1.T + b1
        a1 = np.maximum(z1, 0)
        z2 = a1 @ w2.T + b2
        z2 = z2 - z2.max(1, keepdims=True)
        p = np.exp(z2)
        p /= p.sum(1, keepdims=True)
        p[np.arange(N), y] -= 1
        g2 = p / N
        gw2, gb2 = g2.T @ a1, g2.sum(0)
        g1 = (g2 @ w2) * (z1 > 0)
        return g1.T @ x, g1.sum(0), gw2, gb2
    return step


def _mlp_lib(lib):
    def setup():
        m = __import__(lib)
        x, y, ps = _mlp_data()
        net = m.nn.Sequential(m.nn.Linear(D_IN, D_H), m.nn.ReLU(), m.nn.Linear(D_H, D_OUT))
        with m.no_grad():
            for p, v in zip(net.parameters(), ps):
                p.copy_(m.from_numpy(v))
        xt, yt = m.from_numpy(x), m.from_numpy(y)
        loss_fn = m.nn.CrossEntropyLoss()

        def step():
            net.zero_grad()
            loss_fn(net(xt), yt).backward()
        return step
    return setup


WORKLOADS = [
    Workload("lstm_step", {"numpy": _lstm_numpy, "chainrule": _lstm_lib("chainrule"),
                           "torch": _lstm_lib("torch")}, target=3.0),
    Workload("mlp_step", {"numpy": _mlp_numpy, "chainrule": _mlp_lib("chainrule"),
                          "torch": _mlp_lib("torch")}, target=2.0),
]
