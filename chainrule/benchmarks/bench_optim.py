"""Optimizer steps and data loading.

- ``adam step``: one Adam update of an MLP's parameters (784x256, 256, 256x10, 10; float32)
  with gradients already in place. NumPy floor: the same update written directly on arrays.
- ``dataloader epoch``: one shuffled pass over a 4096x64 float32 TensorDataset in batches of
  64 (num_workers=0). NumPy floor: a permutation and one fancy-index per batch.
"""
import numpy as np

from . import Workload

_SHAPES = [(784, 256), (256,), (256, 10), (10,)]
_LR, _B1, _B2, _EPS = 1e-3, 0.9, 0.999, 1e-8


def _arrays():
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(s).astype(np.float32) for s in _SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in _SHAPES]
    return params, grads


def _adam_numpy():
    params, grads = _arrays()
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    state = {"t": 0}

    def step():
        state["t"] += 1
        t = state["t"]
        for p, g, mi, vi in zip(params, grads, m, v):
            mi += (1 - _B1) * (g - mi)
            vi *= _B2
            vi += (1 - _B2) * g * g
            denom = np.sqrt(vi) / np.sqrt(1 - _B2 ** t) + _EPS
            p -= (_LR / (1 - _B1 ** t)) * mi / denom
    return step


def _adam_lib(lib):
    def setup():
        mod = __import__(lib)
        params, grads = _arrays()
        ps = [mod.tensor(p, requires_grad=True) for p in params]
        for p, g in zip(ps, grads):
            p.grad = mod.tensor(g)
        opt = mod.optim.Adam(ps, lr=_LR, **({"foreach": False} if lib == "torch" else {}))
        return opt.step
    return setup


_N, _D, _BS = 4096, 64, 64


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((_N, _D)).astype(np.float32), rng.integers(0, 10, _N)


def _loader_numpy():
    x, y = _data()
    rng = np.random.default_rng(0)

    def epoch():
        perm = rng.permutation(_N)
        for i in range(0, _N, _BS):
            idx = perm[i:i + _BS]
            x[idx], y[idx]
    return epoch


def _loader_lib(lib):
    def setup():
        mod = __import__(lib)
        data = __import__(lib + ".utils.data", fromlist=["DataLoader"])
        x, y = _data()
        ds = data.TensorDataset(mod.from_numpy(x), mod.from_numpy(y))
        dl = data.DataLoader(ds, batch_size=_BS, shuffle=True,
                             generator=mod.Generator().manual_seed(0))

        def epoch():
            for _ in dl:
                pass
        return epoch
    return setup


WORKLOADS = [
    Workload("adam step (MLP params)", {"numpy": _adam_numpy, "chainrule": _adam_lib("chainrule"),
                                        "torch": _adam_lib("torch")}, target="<= 3x numpy"),
    Workload("dataloader epoch (4096x64)", {"numpy": _loader_numpy,
                                            "chainrule": _loader_lib("chainrule"),
                                            "torch": _loader_lib("torch")},
             target="<= torch", quick_repeat=3, repeat=10),
]
