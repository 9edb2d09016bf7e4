"""Issue 7, checking the checker: random compositions of ops (depth <= 6) on random
broadcastable shapes; gradients against numerical ones (float64) and against torch."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import chainrule as cr
from conftest import HAVE_TORCH

if HAVE_TORCH:
    import torch

UNARY = {
    "tanh": lambda m, a: a.tanh(),
    "sin": lambda m, a: a.sin(),
    "sigmoid": lambda m, a: a.sigmoid(),
    "softexp": lambda m, a: (a * 0.3).exp(),
    "square": lambda m, a: a * a,
    "log1psq": lambda m, a: (a * a + 1.0).log(),
    "sqrt1psq": lambda m, a: (a * a + 1.0).sqrt(),
    "neg": lambda m, a: -a,
    "mean_last_keep": lambda m, a: a.mean(-1, keepdim=True) if a.dim() else a,
    "sum_first_keep": lambda m, a: a.sum(0, keepdim=True) if a.dim() else a,
}
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1.0),
    "max": lambda m, a, b: m.maximum(a, b + 0.37),
    "where": lambda m, a, b: m.where(a > b, a * 2.0, b),
}


@st.composite
def broadcastable_shapes(draw):
    base = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    out = []
    for _ in range(3):
        keep = draw(st.integers(0, len(base)))
        s = base[len(base) - keep:]
        s = [1 if draw(st.booleans()) else d for d in s]
        out.append(tuple(s))
    return out


@st.composite
def programs(draw):
    shapes = draw(broadcastable_shapes())
    depth = draw(st.integers(1, 6))
    steps = []
    for _ in range(depth):
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(sorted(UNARY))), None))
        else:
            steps.append(("b", draw(st.sampled_from(sorted(BINARY))),
                          draw(st.integers(0, len(shapes) - 1))))
    seed = draw(st.integers(0, 2 ** 16))
    return shapes, steps, seed


def run(m, leaves, steps):
    x = leaves[0]
    for kind, name, k in steps:
        x = UNARY[name](m, x) if kind == "u" else BINARY[name](m, x, leaves[k])
    return x


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs())
def test_random_compositions(prog):
    shapes, steps, seed = prog
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.5, 1.5, s) for s in shapes]
    leaves = [cr.tensor(a, requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(lambda *ls: run(cr, ls, steps), leaves, atol=1e-5, rtol=1e-3)
    if HAVE_TORCH:
        tl = [torch.tensor(a, requires_grad=True) for a in arrays]
        out_t = run(torch, tl, steps)
        out_c = run(cr, leaves, steps)
        np.testing.assert_allclose(out_c.detach().numpy(), out_t.detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
        gt = torch.autograd.grad(out_t.sum(), tl, allow_unused=True)
        gc = cr.autograd.grad(out_c.sum(), leaves, allow_unused=True)
        for a, b in zip(gc, gt):
            if b is None:
                assert a is None or not np.any(a.numpy())
            else:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
