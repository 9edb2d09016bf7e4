"""Second derivatives under vmap: vmap(hessian), vmap(jacrev(jacrev)) and vmap(jacfwd(jacfwd))
of functions whose operands broadcast against each other (a per-sample scalar times a vector),
against a loop of hessians and torch.func. (vmap's rules reshape such operands; the reshaped
tensor must keep its tangent for forward-over-reverse.)"""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch

_A = np.random.default_rng(0).standard_normal((3, 3))
FS = {
    "x_times_sum": lambda m, x: (x * x.sum()).sum(),
    "exp_times_mean": lambda m, x: (x.exp() * x.mean()).sum(),
    "matmul_scaled": lambda m, x: m.tanh(m.tensor(_A) @ x * x[0]).sum(),
    "outer_sin": lambda m, x: m.outer(x, x).sin().sum(),
    "pairwise": lambda m, x: ((x[:, None] - x[None, :]) ** 2).sum(),
    "softmax": lambda m, x: (m.softmax(x * x.sum(), 0) * x).sum(),
    "logsumexp": lambda m, x: m.logsumexp(x * x.norm(), 0),
    "where": lambda m, x: m.where(x > 0, x ** 3, x * x.sum()).sum(),
    "div_broadcast": lambda m, x: (x / (1 + x.square().sum())).sum(),
    "times_max": lambda m, x: (x * x.max()).sum(),
}
_X = np.random.default_rng(1).standard_normal((2, 3))


def _second(m, f):
    fn = lambda x: f(m, x)  # noqa: E731
    x = m.tensor(_X)
    return [m.func.vmap(t)(x).detach().numpy() for t in (
        m.func.hessian(fn), m.func.jacrev(m.func.jacrev(fn)), m.func.jacfwd(m.func.jacfwd(fn)))]


@pytest.mark.parametrize("name", sorted(FS))
def test_vmapped_hessians_match_a_loop(name):
    f = FS[name]
    loop = np.stack([chainrule.func.hessian(lambda x: f(chainrule, x))(
        chainrule.tensor(_X[i])).numpy() for i in range(len(_X))])
    for got in _second(chainrule, f):
        np.testing.assert_allclose(got, loop, rtol=1e-10, atol=1e-12)


def test_forward_over_reverse_keeps_a_reshaped_operands_tangent():
    from chainrule.func import grad, jvp, vmap
    ones = chainrule.ones

    def g(x):
        return jvp(lambda y: grad(lambda z: (z * y.sum()).sum())(y), (x,), (ones(3),))[1]
    np.testing.assert_array_equal(vmap(g)(ones(2, 3)).numpy(), np.full((2, 3), 3.0))


@needs_torch
@pytest.mark.parametrize("name", sorted(FS))
def test_vmapped_hessians_match_torch(name):
    import torch
    for a, b in zip(_second(chainrule, FS[name]), _second(torch, FS[name])):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
