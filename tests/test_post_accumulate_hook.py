"""Tensor.register_post_accumulate_grad_hook: when it runs, what it sees, its errors, and the
same event sequence as torch for every engine path (inline leaf, queued leaf, slow path)."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch


def _events(m, case):
    """Run one scenario with library m; return the hooks' event log."""
    log = []
    z = m.ones(2, requires_grad=True)
    w = m.tensor([1.0, 2.0], requires_grad=True)
    z.register_post_accumulate_grad_hook(lambda t: log.append(("z", t.grad.tolist())))
    w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad.tolist())))
    if case == "plain":
        ((z * 2).sum() + (w * w).sum()).backward()
    elif case == "twice":           # w used by two nodes: one hook call, after the sum
        ((w * 2).sum() + (w * 3).sum()).backward()
    elif case == "accumulate":      # two backward passes: the hook sees the running total
        (z * 2).sum().backward()
        (z * 5).sum().backward()
    elif case == "with_hook":       # a gradient hook first, then the post hook
        z.register_hook(lambda g: log.append("pre") or g * 10)
        (z * 2).sum().backward()
    elif case == "create_graph":
        (w * w).sum().backward(create_graph=True)
    elif case == "inputs":          # only the listed leaf accumulates, so only its hook runs
        ((z * 2).sum() + (w * 2).sum()).backward(inputs=[w])
    elif case == "grad":            # autograd.grad accumulates nothing: no hook
        m.autograd.grad((z * w).sum(), (z, w))
    elif case == "anomaly":
        with m.autograd.detect_anomaly():
            (z * w).sum().backward()
    elif case == "removed":
        h = z.register_post_accumulate_grad_hook(lambda t: log.append("second"))
        h.remove()
        (z * 2).sum().backward()
    return log


CASES = ["plain", "twice", "accumulate", "with_hook", "create_graph", "inputs", "grad",
         "anomaly", "removed"]


@pytest.mark.parametrize("case", CASES)
def test_events(case):
    log = _events(chainrule, case)
    expected = {
        "plain": [("w", [2.0, 4.0]), ("z", [2.0, 2.0])],
        "twice": [("w", [5.0, 5.0])],
        "accumulate": [("z", [2.0, 2.0]), ("z", [7.0, 7.0])],
        "with_hook": ["pre", ("z", [20.0, 20.0])],
        "create_graph": [("w", [2.0, 4.0])],
        "inputs": [("w", [2.0, 2.0])],
        "grad": [],
        "anomaly": [("w", [1.0, 1.0]), ("z", [1.0, 2.0])],
        "removed": [("z", [2.0, 2.0])],
    }[case]
    assert sorted(log, key=str) == sorted(expected, key=str)


@needs_torch
@pytest.mark.parametrize("case", CASES)
def test_events_match_torch(case):
    import torch
    assert sorted(_events(chainrule, case), key=str) == sorted(_events(torch, case), key=str)


def test_hook_can_step_the_parameter():
    # the optimizer-in-backward pattern: each parameter steps as soon as its grad is ready
    lin = chainrule.nn.Linear(3, 2)
    before = [p.detach().clone() for p in lin.parameters()]
    for p in lin.parameters():
        def step(t):
            with chainrule.no_grad():
                t -= 0.1 * t.grad
            t.grad = None
        p.register_post_accumulate_grad_hook(step)
    x = chainrule.ones(4, 3)
    lin(x).sum().backward()
    for p, b in zip(lin.parameters(), before):
        assert p.grad is None
        assert not np.allclose(p.detach().numpy(), b.numpy())
    np.testing.assert_allclose(lin.bias.detach().numpy(), before[1].numpy() - 0.1 * 4, rtol=1e-6)


def test_errors():
    x = chainrule.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        chainrule.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    x.register_post_accumulate_grad_hook(lambda t: 5)
    with pytest.raises(TypeError, match="must return None"):
        (x * 3).sum().backward()


@needs_torch
def test_error_classes_match_torch():
    import torch
    for m in (chainrule, torch):
        x = m.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError):
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        with pytest.raises(RuntimeError):
            m.ones(2).register_post_accumulate_grad_hook(lambda t: None)
        x.register_post_accumulate_grad_hook(lambda t: 5)
        with pytest.raises(TypeError):
            (x * 3).sum().backward()


def test_deepcopy_does_not_share_hooks():
    import copy
    for make in (lambda: chainrule.ones(2, requires_grad=True),
                 lambda: chainrule.nn.Parameter(chainrule.ones(2))):
        p = make()
        p.register_hook(lambda g: g)
        p.register_post_accumulate_grad_hook(lambda t: None)
        q = copy.deepcopy(p)
        q.register_hook(lambda g: g * 2)
        q.register_post_accumulate_grad_hook(lambda t: None)
        assert (len(p._hooks), len(q._hooks)) == (1, 2)
        assert (len(p._post_hooks), len(q._post_hooks)) == (1, 2)
