"""Reductions of a 0-d tensor along dim 0 or -1 (torch treats the scalar as one element):
values, shapes, gradients and the out-of-range error, against torch."""
import pytest

import chainrule
from conftest import needs_torch

CASES = {
    "sum": lambda m, x: m.sum(x, -1), "sum_keepdim": lambda m, x: m.sum(x, 0, keepdim=True),
    "sum_list": lambda m, x: m.sum(x, [-1]), "mean": lambda m, x: m.mean(x, 0),
    "amax": lambda m, x: m.amax(x, -1), "logsumexp": lambda m, x: m.logsumexp(x, -1),
    "prod": lambda m, x: m.prod(x, 0), "max": lambda m, x: m.max(x, 0).values,
    "norm": lambda m, x: m.norm(x, dim=0), "softmax": lambda m, x: m.softmax(x, 0),
}


def _run(m, name):
    x = m.tensor(2.0, dtype=m.float64, requires_grad=True)
    y = CASES[name](m, x)
    y.sum().backward()
    return tuple(y.shape), float(y), float(x.grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_zero_dim_reductions(name):
    shape, value, grad = _run(chainrule, name)
    assert shape == ()
    assert value == pytest.approx({"softmax": 1.0}.get(name, 2.0))


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_zero_dim_reductions_match_torch(name):
    import torch
    ours, theirs = _run(chainrule, name), _run(torch, name)
    assert ours[0] == theirs[0]
    assert ours[1:] == pytest.approx(theirs[1:])


def test_zero_dim_out_of_range():
    with pytest.raises(IndexError):
        chainrule.sum(chainrule.tensor(1.0), 1)
