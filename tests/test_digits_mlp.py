"""End to end: an MLP trained on scikit-learn's 8x8 digits with chainrule's nn, optim and
DataLoader reaches >= 97% test accuracy (not timed; a few seconds)."""
import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.utils.data import DataLoader, TensorDataset

datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed "
                               "(pip install scikit-learn)")


def _split():
    digits = datasets.load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return (chainrule.from_numpy(x[n_test:]), chainrule.from_numpy(y[n_test:]),
            chainrule.from_numpy(x[:n_test]), chainrule.from_numpy(y[:n_test]))


def test_mlp_on_digits_reaches_97_percent():
    chainrule.manual_seed(0)
    x_train, y_train, x_test, y_test = _split()
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = chainrule.optim.Adam(model.parameters(), lr=3e-3)
    sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.3)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True,
                        generator=chainrule.Generator().manual_seed(0))
    first = last = None
    for epoch in range(25):
        total = 0.0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        sched.step()
        mean = total / len(y_train)
        first = mean if first is None else first
        last = mean
    assert last < first / 10
    with chainrule.no_grad():
        pred = model(x_test).argmax(dim=1)
    accuracy = (pred == y_test).float().mean().item()
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f}"
