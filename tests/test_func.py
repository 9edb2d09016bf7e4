"""chainrule.func: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, functional_call,
with argnums, has_aux and pytrees; Jacobians against numerical ones, jacrev == jacfwd, and
torch.func parity."""
import numpy as np
import pytest

import chainrule
from chainrule import func as F
from conftest import needs_torch, to_np

F64 = chainrule.float64


def _t(*shape, seed=0, lo=-1.0, hi=1.0):
    return chainrule.tensor(np.random.default_rng(seed).uniform(lo, hi, shape), dtype=F64)


def _numjac(f, x, eps=1e-6):
    x0 = to_np(x).astype(np.float64)
    y0 = to_np(f(chainrule.tensor(x0, dtype=F64)))
    J = np.zeros(y0.shape + x0.shape)
    for idx in np.ndindex(x0.shape):
        xp, xm = x0.copy(), x0.copy()
        xp[idx] += eps
        xm[idx] -= eps
        d = (to_np(f(chainrule.tensor(xp, dtype=F64))) - to_np(f(chainrule.tensor(xm,
                                                                                  dtype=F64))))
        J[(Ellipsis,) + idx] = d / (2 * eps)
    return J


FUNCS = [
    ("tanh_matvec", lambda x: (_t(4, 3, seed=1) @ x).tanh(), (3,)),
    ("elementwise", lambda x: x.sin() * x.exp() / (1 + x * x), (2, 3)),
    ("reduce", lambda x: x.sum(0) * x.max(1).values.sum() + x.mean(), (3, 4)),
    ("shape", lambda x: x.t().reshape(-1)[1:5] ** 2, (2, 3)),
    ("index", lambda x: x[chainrule.tensor([2, 0, 2])] * x[1], (3, 2)),
    ("scalar", lambda x: (x ** 3).sum() + x.prod() if hasattr(x, "prod") else (x ** 3).sum(),
     (3,)),
]


@pytest.mark.parametrize("name,f,shape", FUNCS, ids=[n for n, _, _ in FUNCS])
def test_jacobians_match_numerical_and_each_other(name, f, shape):
    x = _t(*shape, seed=2, lo=0.2, hi=1.0)
    jr, jf = F.jacrev(f)(x), F.jacfwd(f)(x)
    num = _numjac(f, x)
    np.testing.assert_allclose(to_np(jr), num, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(to_np(jr), to_np(jf), rtol=1e-12, atol=1e-12)
    assert not jr.requires_grad and not jf.requires_grad


def test_hessian_closed_form_and_all_compositions():
    A = _t(5, 4, seed=3)
    x = _t(4, seed=4)

    def f(v):
        return ((A @ v).tanh() ** 2).sum()
    t = np.tanh(to_np(A) @ to_np(x))
    want = to_np(A).T @ ((((2 - 6 * t * t) * (1 - t * t)))[:, None] * to_np(A))
    for h in (F.hessian(f), F.jacrev(F.jacrev(f)), F.jacfwd(F.jacfwd(f)),
              F.jacrev(F.jacfwd(f)), F.jacfwd(F.grad(f))):
        np.testing.assert_allclose(to_np(h(x)), want, rtol=1e-10, atol=1e-12)


def test_third_order_by_nesting():
    x = _t(3, seed=5)
    d3 = F.jacfwd(F.jacrev(F.jacrev(lambda v: (v.sin() * v[0]).sum())))(x)
    xs = to_np(x)
    want = np.zeros((3, 3, 3))
    for i in range(3):       # f = sum_j sin(x_j) x_0
        want[i, i, i] += -np.cos(xs[i]) * xs[0]
    # mixed terms: d3/dx_i dx_i dx_0 of sin(x_i) x_0 = -sin(x_i), for all orderings
    for i in range(3):
        for perm in {(i, i, 0), (i, 0, i), (0, i, i)}:
            want[perm] += -np.sin(xs[i])
    want[0, 0, 0] = -np.cos(xs[0]) * xs[0] - 3 * np.sin(xs[0])
    np.testing.assert_allclose(to_np(d3), want, rtol=1e-10, atol=1e-12)


def test_grad_argnums_has_aux_and_value():
    x, y = _t(3, seed=1), _t(3, seed=2)

    def f(a, b):
        return (a * b.exp()).sum(), {"aux": a * 2}
    (ga, gb), aux = F.grad(f, argnums=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(to_np(ga), np.exp(to_np(y)))
    np.testing.assert_allclose(to_np(gb), to_np(x) * np.exp(to_np(y)))
    np.testing.assert_allclose(to_np(aux["aux"]), to_np(x) * 2)
    g, (v, aux) = F.grad_and_value(f, argnums=1, has_aux=True)(x, y)
    np.testing.assert_allclose(to_np(v), (to_np(x) * np.exp(to_np(y))).sum())
    np.testing.assert_allclose(to_np(g), to_np(gb))
    g = F.grad(lambda d: (d["w"] ** 2).sum() * d["s"])({"w": x, "s": _t(seed=3)})
    assert set(g) == {"w", "s"}


def test_grad_errors():
    x = _t(3)
    with pytest.raises(RuntimeError, match="scalar"):
        F.grad(lambda a: a * 2)(x)
    with pytest.raises(RuntimeError, match="argnums"):
        F.grad(lambda a: a.sum(), argnums=3)(x)
    with pytest.raises(RuntimeError, match="tuple"):
        F.grad(lambda a: a.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="floating"):
        F.grad(lambda a: a.sum())(chainrule.tensor([1, 2]))


def test_vjp_and_jvp():
    x = _t(3, seed=1)
    out, fn = F.vjp(lambda a: (a.sin(), a * 2), x)
    g, = fn((chainrule.ones(3, dtype=F64), chainrule.ones(3, dtype=F64)))
    np.testing.assert_allclose(to_np(g), np.cos(to_np(x)) + 2)
    g2, = fn((chainrule.ones(3, dtype=F64), chainrule.zeros(3, dtype=F64)))   # reusable
    np.testing.assert_allclose(to_np(g2), np.cos(to_np(x)))
    with pytest.raises(RuntimeError, match="structure"):
        fn(chainrule.ones(3, dtype=F64))
    p, t = F.jvp(lambda a, b: a * b, (x, x), (chainrule.ones(3, dtype=F64),
                                              chainrule.zeros(3, dtype=F64)))
    np.testing.assert_allclose(to_np(t), to_np(x))
    p, t, aux = F.jvp(lambda a: (a.exp(), a), (x,), (x,), has_aux=True)
    np.testing.assert_allclose(to_np(t), np.exp(to_np(x)) * to_np(x))
    with pytest.raises(RuntimeError, match="tuple"):
        F.jvp(lambda a: a, x, (x,))


def test_nested_grad_no_perturbation_confusion():
    x = _t(seed=1) + 2.0
    # d/dx [ x * d/dy (x * y) ] = d/dx [x * x] = 2x
    g = F.grad(lambda a: a * F.grad(lambda b: a * b)(a))(x)
    np.testing.assert_allclose(to_np(g), 2 * to_np(x))
    # same with forward mode inside reverse
    g = F.grad(lambda a: a * F.jvp(lambda b: a * b, (a,), (chainrule.ones((), dtype=F64),))[1])(x)
    np.testing.assert_allclose(to_np(g), 2 * to_np(x))


def test_outer_autograd_through_func_grad():
    w = _t(3, seed=1).requires_grad_()
    x = _t(3, seed=2)
    g = F.grad(lambda v: (v * w).sin().sum())(x)
    assert g.requires_grad
    g.sum().backward()
    xs, ws = to_np(x), to_np(w.detach())
    want = np.cos(xs * ws) - xs * ws * np.sin(xs * ws)
    np.testing.assert_allclose(to_np(w.grad), want, rtol=1e-12)


def test_jacrev_pytrees_argnums_and_chunks():
    x, y = _t(2, seed=1), _t(3, seed=2)

    def f(a, b):
        return {"p": a.sum() * b, "q": a * 2}
    jac = F.jacrev(f, argnums=(0, 1))(x, y)
    assert jac["p"][0].shape == (3, 2) and jac["p"][1].shape == (3, 3)
    assert jac["q"][0].shape == (2, 2) and jac["q"][1].shape == (2, 3)
    np.testing.assert_allclose(to_np(jac["q"][0]), 2 * np.eye(2))
    np.testing.assert_allclose(to_np(jac["q"][1]), 0)
    jf = F.jacfwd(f, argnums=(0, 1))(x, y)
    for k in ("p", "q"):
        for i in range(2):
            np.testing.assert_allclose(to_np(jac[k][i]), to_np(jf[k][i]), rtol=1e-12)
    jc = F.jacrev(lambda a: a.exp() * a.sum(), chunk_size=2)(y)
    np.testing.assert_allclose(to_np(jc), to_np(F.jacrev(lambda a: a.exp() * a.sum())(y)))


def test_vmap_of_jacobians():
    xs = _t(4, 3, seed=3)
    f = lambda v: v.sin() * v.sum()   # noqa: E731
    for jac in (F.jacrev, F.jacfwd):
        got = F.vmap(jac(f))(xs)
        for b in range(4):
            np.testing.assert_allclose(to_np(got[b]), to_np(jac(f)(xs[b])), rtol=1e-12)
    got = F.vmap(F.hessian(lambda v: (v ** 3).sum()))(xs)
    for b in range(4):
        np.testing.assert_allclose(to_np(got[b]), np.diag(6 * to_np(xs[b])), rtol=1e-12)


def test_jacobians_are_vectorised():
    """One backward (jacrev) or one forward (jacfwd) pass for the whole Jacobian: count the
    primitive calls of a Jacobian of an n-input function for two n."""
    from chainrule.autograd import function as Fn
    import chainrule.ops.elementwise as E
    calls = []
    orig = E.Tanh.apply.__func__

    def counting(cls, *a, **k):
        calls.append(1)
        return orig(cls, *a, **k)
    E.Tanh.apply = classmethod(counting)
    try:
        counts = []
        for n in (3, 30):
            calls.clear()
            A = _t(4, n, seed=1)
            F.hessian(lambda v: (A @ v).tanh().sum())(_t(n, seed=2))
            counts.append(len(calls))
    finally:
        E.Tanh.apply = classmethod(orig)
    assert counts[0] == counts[1], f"primitive calls grow with n: {counts}"
    assert Fn._INTERPOSE[0] is None


def test_functional_call():
    nn = chainrule.nn
    if not hasattr(nn, "Linear"):
        pytest.skip("chainrule.nn.Linear is not available yet")
    m = nn.Linear(3, 2)
    x = _t(4, 3).to(chainrule.float32)
    params = {k: v.detach() for k, v in m.named_parameters()}
    params["weight"] = params["weight"] * 0 + 1
    out = F.functional_call(m, params, (x,))
    np.testing.assert_allclose(to_np(out), to_np(x).sum(1, keepdims=True) + to_np(m.bias),
                               rtol=1e-6)
    assert not np.allclose(to_np(m.weight), 1)     # the module is unchanged
    g = F.grad(lambda p: F.functional_call(m, p, (x,)).sum())(params)
    np.testing.assert_allclose(to_np(g["weight"]), np.tile(to_np(x).sum(0), (2, 1)), rtol=1e-5)


@needs_torch
def test_torch_parity():
    import torch
    import torch.func as tf
    xa = np.random.default_rng(0).uniform(-1, 1, 4)
    Aa = np.random.default_rng(1).uniform(-1, 1, (3, 4))

    def f(m, x):
        return ((m.tensor(Aa, dtype=m.float64) @ x).tanh() ** 2).sum() + (x ** 3).sum()

    res = []
    for m, ff in ((chainrule, F), (torch, tf)):
        x = m.tensor(xa, dtype=m.float64)
        g = ff.grad(lambda v: f(m, v))(x)
        h = ff.hessian(lambda v: f(m, v))(x)
        jr = ff.jacrev(lambda v: v.sin() * v.sum())(x)
        jf = ff.jacfwd(lambda v: v.sin() * v.sum())(x)
        p, t = ff.jvp(lambda v: v.exp() * v, (x,), (x,))
        o, fn = ff.vjp(lambda v: v.exp() * v, x)
        res.append([g, h, jr, jf, p, t, o, fn(x)[0]])
    for a, b in zip(*res):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-10, atol=1e-12)


def test_jacobians_stay_differentiable_wrt_closed_over_leaves():
    w = _t(3, seed=1).requires_grad_()
    x = _t(3, seed=2)
    xs, ws = to_np(x), to_np(w.detach())
    want = -np.sin(xs * ws) * xs * ws + np.cos(xs * ws)
    for jac in (F.jacfwd, F.jacrev):
        w.grad = None
        J = jac(lambda v: (v * w).sin())(x)
        assert J.requires_grad
        J.sum().backward()
        np.testing.assert_allclose(to_np(w.grad), want, rtol=1e-12)


def test_jacfwd_of_a_linear_map_is_the_matrix_and_a_fresh_writeable_tensor():
    # jacfwd's identity basis lets matmul's tangent rule skip A @ I; the result must still be
    # the user's own copy, and a non-identity tangent must still take the product
    from chainrule.func import jacfwd, jvp
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 3))
    At = chainrule.tensor(A, dtype=chainrule.float64)
    x = chainrule.tensor(rng.standard_normal(3), dtype=chainrule.float64)
    J = jacfwd(lambda v: At @ v)(x)
    np.testing.assert_array_equal(J.numpy(), A)
    J.add_(1.0)
    np.testing.assert_array_equal(At.numpy(), A)
    t = chainrule.tensor(rng.standard_normal(3), dtype=chainrule.float64)
    _, tout = jvp(lambda v: At @ v, (x,), (t,))
    np.testing.assert_allclose(tout.numpy(), A @ t.numpy(), rtol=1e-12)
    H = jacfwd(jacfwd(lambda v: (At @ v).tanh().sum()))(x)
    tt = np.tanh(A @ x.numpy())
    np.testing.assert_allclose(H.numpy(), A.T @ ((-2 * tt * (1 - tt * tt))[:, None] * A),
                               rtol=1e-10, atol=1e-12)
