"""chainrule.autograd.functional against torch.autograd.functional (values, return
structures, errors) and against closed forms."""
import numpy as np
import pytest

import chainrule
from chainrule.autograd import functional as AF
from conftest import needs_torch, to_np

F64 = chainrule.float64


def _t(*shape, seed=0):
    return chainrule.tensor(np.random.default_rng(seed).uniform(-1, 1, shape), dtype=F64)


def test_closed_forms():
    A = _t(3, 4, seed=1)
    x = _t(4, seed=2)
    f = lambda v: ((A @ v).tanh() ** 2).sum()   # noqa: E731
    t = np.tanh(to_np(A) @ to_np(x))
    H = to_np(A).T @ ((((2 - 6 * t * t) * (1 - t * t)))[:, None] * to_np(A))
    g = to_np(A).T @ (2 * t * (1 - t * t))
    for kw in ({}, {"vectorize": True}, {"vectorize": True,
                                         "outer_jacobian_strategy": "forward-mode"}):
        np.testing.assert_allclose(to_np(AF.hessian(f, x, **kw)), H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(AF.vjp(f, x)[1]), g, rtol=1e-12)
    v = _t(4, seed=3)
    np.testing.assert_allclose(to_np(AF.hvp(f, x, v)[1]), H @ to_np(v), rtol=1e-10)
    np.testing.assert_allclose(to_np(AF.vhp(f, x, v)[1]), to_np(v) @ H, rtol=1e-10)
    np.testing.assert_allclose(to_np(AF.jvp(lambda v: A @ v, x, v)[1]), to_np(A) @ to_np(v),
                               rtol=1e-12)
    J = AF.jacobian(lambda v: (A @ v).tanh(), x)
    np.testing.assert_allclose(to_np(J), (1 - t * t)[:, None] * to_np(A), rtol=1e-12)
    Jf = AF.jacobian(lambda v: (A @ v).tanh(), x, vectorize=True, strategy="forward-mode")
    np.testing.assert_allclose(to_np(Jf), to_np(J), rtol=1e-12)


def test_create_graph():
    x = _t(3, seed=1).requires_grad_()
    J = AF.jacobian(lambda v: v ** 3, x, create_graph=True)
    assert J.requires_grad
    J.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 6 * to_np(x.detach()), rtol=1e-12)
    assert not AF.jacobian(lambda v: v ** 3, x).requires_grad
    H = AF.hessian(lambda v: (v ** 3).sum(), x)
    assert not H.requires_grad and x.requires_grad and x.grad_fn is None
    Hg = AF.hessian(lambda v: (v ** 3).sum(), x, create_graph=True)
    assert Hg.requires_grad
    np.testing.assert_allclose(to_np(H), to_np(Hg.detach()), rtol=1e-12)
    np.testing.assert_allclose(to_np(H), np.diag(6 * to_np(x.detach())), rtol=1e-12)
    out, g = AF.vjp(lambda v: (v ** 3).sum(), x)
    assert not out.requires_grad and not g.requires_grad


def test_strict():
    x = _t(3)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, x), strict=True)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.vjp(lambda a: a.detach(), x, x, strict=True)
    np.testing.assert_allclose(to_np(AF.jacobian(lambda a, b: a * 2, (x, x))[1]), 0)


def _x(m):
    return m.tensor(_X, dtype=m.float64)


def _y(m):
    return m.tensor(_Y, dtype=m.float64)


CASES = [
    ("jacobian", lambda m, F: F.jacobian(lambda a: a.exp() * a.sum(), _x(m))),
    ("jacobian_tuples", lambda m, F: F.jacobian(lambda a, b: (a * b, (a + b).sum()),
                                                 (_x(m), _y(m)))),
    ("jacobian_tuple_in", lambda m, F: F.jacobian(lambda a, b: a * b.sin(), (_x(m), _y(m)))),
    ("jacobian_tuple_out", lambda m, F: F.jacobian(lambda a: (a * 2,), _x(m))),
    ("hessian", lambda m, F: F.hessian(lambda a: (a.exp() * a).sum(), _x(m))),
    ("hessian_tuple", lambda m, F: F.hessian(lambda a, b: (a.exp() * b).sum(),
                                              (_x(m), _y(m)))),
    ("vjp", lambda m, F: F.vjp(lambda a: a.sin() * 2, _x(m), _y(m))),
    ("vjp_tuple", lambda m, F: F.vjp(lambda a, b: (a * b, a - b), (_x(m), _y(m)),
                                      (_y(m), _x(m)))),
    ("jvp", lambda m, F: F.jvp(lambda a: a.sin() * a.sum(), _x(m), _y(m))),
    ("hvp", lambda m, F: F.hvp(lambda a: (a ** 3).sum() * a.sum(), _x(m), _y(m))),
    ("vhp", lambda m, F: F.vhp(lambda a: (a ** 3).sum() * a.sum(), _x(m), _y(m))),
    ("vhp_tuple", lambda m, F: F.vhp(lambda a, b: (a * b.exp()).sum(), (_x(m), _y(m)),
                                      (_y(m), _x(m)))),
]
_X = np.random.default_rng(0).uniform(-1, 1, 3)
_Y = np.random.default_rng(1).uniform(-1, 1, 3)


def _same(a, b):
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_torch_parity(name, call):
    import torch
    import torch.autograd.functional as TF
    _same(call(chainrule, AF), call(torch, TF))


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m, F, x: F.jacobian(lambda a: a * 2, x, strategy="forward-mode"),
    lambda m, F, x: F.jacobian(lambda a: a * 2, x, strict=True, vectorize=True),
    lambda m, F, x: F.jacobian(lambda a: a * 2, [x]),
    lambda m, F, x: F.hessian(lambda a: a * 2, x),
    lambda m, F, x: F.vjp(lambda a: a * 2, x),
    lambda m, F, x: F.vjp(lambda a: a * 2, x, m.ones(4, dtype=m.float64)),
    lambda m, F, x: F.jvp(lambda a: a.sum(), x),
    lambda m, F, x: F.vjp(lambda a: 3, x, x),
    lambda m, F, x: F.hvp(lambda a: a * 2, x, x),
])
def test_errors_match_torch(bad):
    import torch
    import torch.autograd.functional as TF
    with pytest.raises(Exception) as ours:
        bad(chainrule, AF, chainrule.ones(3, dtype=F64))
    with pytest.raises(Exception) as theirs:
        bad(torch, TF, torch.ones(3, dtype=torch.float64))
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
