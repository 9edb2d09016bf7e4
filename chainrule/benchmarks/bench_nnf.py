"""Issue 3 workloads for nn.functional: softmax cross-entropy (the training benchmarks' loss)
and layer_norm, forward and backward."""
import numpy as np

from . import Workload


def _import(name):
    import importlib
    m = importlib.import_module(name)
    if name == "torch":
        m.set_num_threads(1)
    return m


def _ce_data(n, c):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, c)).astype(np.float32), rng.integers(0, c, n)


def _ce(n, c):
    def numpy_():
        x, y = _ce_data(n, c)
        rows = np.arange(n)

        def step():
            z = x - x.max(1, keepdims=True)
            e = np.exp(z)
            s = e.sum(1, keepdims=True)
            loss = (np.log(s[:, 0]) - z[rows, y]).mean()
            g = e / (s * n)
            g[rows, y] -= 1.0 / n
            return loss, g
        return step

    def lib_(name):
        def setup():
            m = _import(name)
            xa, ya = _ce_data(n, c)
            x, y = m.from_numpy(xa).requires_grad_(), m.from_numpy(ya)

            def step():
                x.grad = None
                loss = m.nn.functional.cross_entropy(x, y)
                loss.backward()
                return loss, x.grad
            return step
        return setup
    return {"numpy": numpy_, "chainrule": lib_("chainrule"), "torch": lib_("torch")}


def _ln_data(n, d):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, d)).astype(np.float32),
            rng.standard_normal((n, d)).astype(np.float32))


def _layer_norm(n, d, eps=1e-5):
    def numpy_():
        x, gy = _ln_data(n, d)
        w, b = np.ones(d, np.float32), np.zeros(d, np.float32)

        def step():
            mu = x.mean(1, keepdims=True)
            xc = x - mu
            rstd = 1 / np.sqrt((xc * xc).mean(1, keepdims=True) + eps)
            xhat = xc * rstd
            y = xhat * w + b
            gw, gb = (gy * xhat).sum(0), gy.sum(0)
            g = gy * w
            gx = rstd * (g - g.mean(1, keepdims=True) - xhat * (g * xhat).mean(1, keepdims=True))
            return y, gx, gw, gb
        return step

    def lib_(name):
        def setup():
            m = _import(name)
            xa, ga = _ln_data(n, d)
            x, gy = m.from_numpy(xa).requires_grad_(), m.from_numpy(ga)
            w, b = m.ones(d, requires_grad=True), m.zeros(d, requires_grad=True)

            def step():
                x.grad = w.grad = b.grad = None
                m.nn.functional.layer_norm(x, [d], w, b).backward(gy)
                return x.grad
            return step
        return setup
    return {"numpy": numpy_, "chainrule": lib_("chainrule"), "torch": lib_("torch")}


WORKLOADS = [
    Workload("cross_entropy fwd+bwd 256x10", _ce(256, 10), target="chainrule <= 2.0x",
             quick_repeat=50, repeat=500),
    Workload("cross_entropy fwd+bwd 256x1000", _ce(256, 1000), target="chainrule <= 1.2x",
             quick_repeat=10, repeat=100),
    Workload("layer_norm fwd+bwd 64x64", _layer_norm(64, 64), target="chainrule <= 2.0x",
             quick_repeat=50, repeat=300),
]
