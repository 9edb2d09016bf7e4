"""A view's history follows recorded in-place ops made through its base or through another
view of the same memory (torch regenerates the view's grad_fn): gradients, requires_grad and
grad_fn names match torch, and the re-derivation is lazy (no work per live view per op)."""
import numpy as np
import pytest

import chainrule
import chainrule._tensor as T
from conftest import needs_torch


def _case(m, case):
    """(gradients, output requires_grad) of one scenario, library m."""
    x = m.ones(2, 2, requires_grad=True)
    y = x * 1
    w = m.tensor([1.0, 3.0], requires_grad=True)
    if case == "sibling":
        a = y[0]
        b = y[:, 0]
        a.mul_(2)
        out = b
    elif case == "base":
        a = y[0]
        y.mul_(3)
        out = a
    elif case == "view_of_view":
        a = y[0]
        b = a[1:]
        a.mul_(2)
        out = b
    elif case == "transpose":
        a = y[0]
        b = y.t()
        a.mul_(2)
        out = b[0]
    elif case == "two_ops":
        a = y[0]
        b = y[1]
        a.mul_(2)
        b.mul_(w)
        out = y[:, 0]
    elif case == "grad_from_sibling":     # the base needed no grad before the in-place op
        z = m.zeros(2, 2)
        a = z[0]
        b = z[:, 1]
        a.copy_(w * 2)
        out = b
    elif case == "setitem":
        a = y[:, 1]
        y[0] = w
        out = a
    elif case == "reshape":
        a = y.reshape(4)
        y[1].add_(w)
        out = a[1:3]
    else:
        raise AssertionError(case)
    r = (out * m.tensor([1.0, 10.0])).sum()
    rg = out.requires_grad
    name = type(out.grad_fn).__name__ if out.grad_fn is not None else None
    r.backward()
    return (None if x.grad is None else x.grad.tolist(),
            None if w.grad is None else w.grad.tolist(), rg, name)


CASES = ["sibling", "base", "view_of_view", "transpose", "two_ops", "grad_from_sibling",
         "setitem", "reshape"]

EXPECTED = {   # worked by hand: d(out . [1, 10]) / dx, / dw
    "sibling": ([[2.0, 0.0], [10.0, 0.0]], None),
    "base": ([[3.0, 30.0], [0.0, 0.0]], None),
    "view_of_view": ([[0.0, 22.0], [0.0, 0.0]], None),
    "transpose": ([[2.0, 0.0], [10.0, 0.0]], None),
    "two_ops": ([[2.0, 0.0], [10.0, 0.0]], [10.0, 0.0]),
    "grad_from_sibling": (None, [0.0, 2.0]),
    "setitem": ([[0.0, 0.0], [0.0, 10.0]], [0.0, 1.0]),
    "reshape": ([[0.0, 1.0], [10.0, 0.0]], [10.0, 0.0]),
}


@pytest.mark.parametrize("case", CASES)
def test_gradients(case):
    gx, gw, rg, _ = _case(chainrule, case)
    assert rg
    assert (gx, gw) == EXPECTED[case]


@needs_torch
@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case):
    import torch
    ours, theirs = _case(chainrule, case), _case(torch, case)
    assert ours[:3] == theirs[:3]


def test_recurrence_through_a_buffer_matches_torch():
    # h[t + 1] = h[t] * c + x[t] with h one buffer: each step reads a view the previous step
    # wrote in place (valid in torch: nothing saves the views)
    pytest.importorskip("torch")
    import torch
    res = []
    for m in (chainrule, torch):
        x = m.tensor(np.arange(12.0).reshape(6, 2) / 10, requires_grad=True)
        c = m.tensor(0.9, requires_grad=True)
        h = m.zeros(7, 2)
        for t in range(6):
            h[t + 1] = h[t] * 2 + x[t] * c
        (h * h).sum().backward()
        res.append((x.grad.numpy().copy(), c.grad.item()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-5)
    assert res[0][1] == pytest.approx(res[1][1], rel=1e-5)


def test_rederivation_is_lazy(monkeypatch):
    calls = []
    orig = T._rederive
    monkeypatch.setattr(T, "_rederive", lambda v: calls.append(1) or orig(v))
    w = chainrule.ones(4, requires_grad=True)
    x = chainrule.zeros(200, 4)
    rows = [x[i] for i in range(200)]
    for i, r in enumerate(rows):
        r.add_(w * i)           # 200 recorded in-place ops, 200 live views
    # each op read only its own view's history: no pass over the other live views
    assert len(calls) <= 2 * len(rows)
    x.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(4, sum(range(200))))


def test_plain_views_pay_nothing_without_inplace(monkeypatch):
    calls = []
    monkeypatch.setattr(T, "_rederive", lambda v: calls.append(1))
    x = chainrule.ones(3, 4, requires_grad=True)
    (x.t().reshape(12)[2:] * 2).sum().backward()
    assert calls == []
    assert x.grad.sum().item() == 20.0


def test_views_look_like_tensors():
    v = chainrule.ones(2, 3).t()
    assert isinstance(v, chainrule.Tensor)
    assert type(v).__name__ == "Tensor"
    import copy
    c = copy.deepcopy(v)
    assert type(c) is chainrule.Tensor and c._base is None
    c.mul_(2)
    assert v.sum().item() == 6.0
