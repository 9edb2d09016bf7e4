"""Higher-order derivatives: third derivatives of the elementwise ops against closed forms
(reverse^3, and forward-over-reverse-over-reverse), and a numerical third-order check of
binary elementwise ops."""
import numpy as np
import pytest

import chainrule
from chainrule import func as F
from conftest import needs_torch, to_np

F64 = chainrule.float64
sig = lambda x: 1 / (1 + np.exp(-x))   # noqa: E731

# name, function, first, second, third derivative, domain
UNARY = [
    ("exp", lambda t: t.exp(), np.exp, np.exp, np.exp, (-1, 1)),
    ("log", lambda t: t.log(), lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3,
     (0.5, 2)),
    ("sqrt", lambda t: t.sqrt(), lambda x: 0.5 * x ** -0.5, lambda x: -0.25 * x ** -1.5,
     lambda x: 0.375 * x ** -2.5, (0.5, 2)),
    ("sin", lambda t: t.sin(), np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), (-2, 2)),
    ("cos", lambda t: t.cos(), lambda x: -np.sin(x), lambda x: -np.cos(x), np.sin, (-2, 2)),
    ("tanh", lambda t: t.tanh(), lambda x: 1 - np.tanh(x) ** 2,
     lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
     lambda x: (6 * np.tanh(x) ** 2 - 2) * (1 - np.tanh(x) ** 2), (-2, 2)),
    ("sigmoid", lambda t: t.sigmoid(), lambda x: sig(x) * (1 - sig(x)),
     lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
     lambda x: sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2), (-2, 2)),
    ("pow3", lambda t: t ** 3, lambda x: 3 * x ** 2, lambda x: 6 * x, lambda x: 6 + 0 * x,
     (-2, 2)),
    ("pow2.5", lambda t: t ** 2.5, lambda x: 2.5 * x ** 1.5, lambda x: 3.75 * x ** 0.5,
     lambda x: 1.875 * x ** -0.5, (0.5, 2)),
    ("rpow", lambda t: 2.0 ** t, lambda x: np.log(2) * 2 ** x, lambda x: np.log(2) ** 2 * 2 ** x,
     lambda x: np.log(2) ** 3 * 2 ** x, (-1, 1)),
    ("reciprocal", lambda t: 1 / t, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3,
     lambda x: -6 / x ** 4, (0.5, 2)),
    ("relu", lambda t: t.relu() * t, lambda x: 2 * x * (x > 0), lambda x: 2.0 * (x > 0),
     lambda x: 0 * x, (-2, 2)),
    ("abs", lambda t: t.abs() * t, lambda x: 2 * np.abs(x), lambda x: 2 * np.sign(x),
     lambda x: 0 * x, (-2, 2)),
    ("neg_square", lambda t: -(t * t), lambda x: -2 * x, lambda x: -2 + 0 * x, lambda x: 0 * x,
     (-2, 2)),
]


def _x(lo, hi):
    x = np.random.default_rng(0).uniform(lo, hi, 7)
    x[np.abs(x) < 0.1] += 0.3       # away from kinks
    return chainrule.tensor(x, dtype=F64)


@pytest.mark.parametrize("name,f,d1,d2,d3,dom", UNARY, ids=[u[0] for u in UNARY])
def test_three_reverse_passes(name, f, d1, d2, d3, dom):
    x = _x(*dom).requires_grad_()
    xs = to_np(x.detach())
    g1, = chainrule.autograd.grad(f(x).sum(), x, create_graph=True)
    g2, = chainrule.autograd.grad(g1.sum(), x, create_graph=True)
    g3 = chainrule.autograd.grad(g2.sum(), x, allow_unused=True)[0] if g2.requires_grad \
        else None       # a constant second derivative has no graph (as in torch)
    np.testing.assert_allclose(to_np(g1), d1(xs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(g2), d2(xs), rtol=1e-10, atol=1e-12)
    got3 = to_np(g3) if g3 is not None else np.zeros_like(xs)
    np.testing.assert_allclose(got3, d3(xs), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,f,d1,d2,d3,dom", UNARY, ids=[u[0] for u in UNARY])
def test_third_derivative_by_transforms(name, f, d1, d2, d3, dom):
    x = _x(*dom)
    xs = to_np(x)
    # forward over reverse over reverse, each one vectorised
    d3_fwd = F.jacfwd(F.grad(lambda v: F.grad(lambda w: f(w).sum())(v).sum()))(x)
    np.testing.assert_allclose(np.diag(to_np(d3_fwd)), d3(xs), rtol=1e-10, atol=1e-12)
    d3_rev = F.jacrev(F.jacrev(F.grad(lambda w: f(w).sum())))(x)
    np.testing.assert_allclose(np.einsum("iii->i", to_np(d3_rev)), d3(xs), rtol=1e-10,
                               atol=1e-12)


BINARY = [
    ("mul", lambda a, b: a * b), ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
    ("sub", lambda a, b: a * a - b * b * a), ("maximum", lambda a, b: chainrule.maximum(a, b) * a),
    ("where", lambda a, b: chainrule.where(a > b, a * b, a / b)),
]


@pytest.mark.parametrize("name,f", BINARY, ids=[b[0] for b in BINARY])
def test_third_order_numerically(name, f):
    """gradgradcheck of the second derivative: the third derivative of binary ops."""
    rng = np.random.default_rng(1)
    a = chainrule.tensor(rng.uniform(0.5, 2.0, 4), dtype=F64).requires_grad_()
    b = chainrule.tensor(rng.uniform(0.5, 2.0, 4) + 0.05, dtype=F64).requires_grad_()

    def second(x, y):
        g, = chainrule.autograd.grad(f(x, y).sum(), x, create_graph=True)
        return g
    assert chainrule.autograd.gradgradcheck(second, (a, b))


def test_every_table_op_runs_gradgradcheck():
    """Issue 4: every differentiable op passes gradgradcheck; the op table runs it on every
    sample, so no differentiable op may opt out without a kink to point to."""
    from optable import all_ops
    for op in all_ops():
        if op.grad and not op.gradgrad:
            assert any(w in op.name for w in ("ties", "kink", "singular")), \
                f"{op.name} skips gradgradcheck"


# -- a gradient taken through relu stays on the graph (torch's threshold_backward) -------------
def _gradient_penalty(m, fused):
    """WGAN-GP's penalty on a Linear-ReLU-Linear critic; returns each parameter's .grad."""
    r = np.random.default_rng(0)
    net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(), m.nn.Linear(4, 1)).double()
    with m.no_grad():
        for p in net.parameters():
            p.copy_(m.tensor(r.standard_normal(tuple(p.shape))))
    x = m.tensor(r.standard_normal((5, 3)), requires_grad=True)
    out = net(x) if fused else net[2](m.relu(net[0](x)))
    g, = m.autograd.grad(out.sum(), x, create_graph=True)
    ((g.norm(dim=1) - 1) ** 2).mean().backward()
    return {k: None if p.grad is None else p.grad.numpy() for k, p in net.named_parameters()}


@pytest.mark.parametrize("fused", [True, False])
def test_gradient_penalty_through_relu_reaches_the_biases(fused):
    grads = _gradient_penalty(chainrule, fused)
    np.testing.assert_array_equal(grads["0.bias"], np.zeros(4))   # zero, not missing
    assert grads["2.bias"] is None                                # not on the path at all
    x = chainrule.tensor([1.0, -1.0, 2.0], requires_grad=True)
    b = chainrule.tensor([0.5, 0.5, -3.0], requires_grad=True)
    g, = chainrule.autograd.grad(chainrule.relu(x + b).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(3))


@needs_torch
@pytest.mark.parametrize("fused", [True, False])
def test_gradient_penalty_through_relu_matches_torch(fused):
    import torch
    ours, theirs = _gradient_penalty(chainrule, fused), _gradient_penalty(torch, fused)
    for k in ours:
        assert (ours[k] is None) == (theirs[k] is None), k
        if ours[k] is not None:
            np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-10, atol=1e-12)


def test_relu_gradient_op_checks():
    from chainrule.ops.elementwise import ReluGrad
    r = np.random.default_rng(1)
    g = chainrule.tensor(r.standard_normal(5), requires_grad=True)
    out = chainrule.tensor(np.abs(r.standard_normal(5)) * np.array([1, 0, 1, 0, 1]),
                           requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda a, b: ReluGrad.apply(a, b), (g, out))
    assert chainrule.autograd.gradgradcheck(lambda a, b: ReluGrad.apply(a, b), (g, out))
