"""Forward mode: every op-table sample's JVP against central differences and against reverse
mode through <u, J^T v> = <J u, v>; forward-over-reverse on every sample; every primitive Op
class has a working JVP; the forward_ad API and custom Function jvp (torch parity)."""
import inspect
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule
import chainrule.autograd.forward_ad as fwAD
from chainrule.autograd import _transforms as T
from chainrule.autograd.function import Op
from conftest import needs_torch, to_np
from optable import all_ops
from optable.spec import build

OPS = [op for op in all_ops() if op.grad and not op.nondeterministic]
SAMPLES = [(op, i) for op in OPS for i in range(len(op.samples))]
IDS = [f"{op.name}-{i}" for op, i in SAMPLES]


def _seed(op, i):
    return (sum(map(ord, op.name)) * 7919 + i) % (2 ** 31)


def _outs(res):
    res = res if isinstance(res, (tuple, list)) else (res,)
    return [r for r in res if isinstance(r, chainrule.Tensor)]


INPLACE = "in-place ops do not update tangents"


def _jvp(op, leaves, to_args, us):
    try:
        return _jvp_raw(op, leaves, to_args, us)
    except RuntimeError as e:
        if INPLACE in str(e):
            pytest.skip(f"{op.name}: {e}")
        raise


def _jvp_raw(op, leaves, to_args, us):
    with fwAD.dual_level():
        duals = [fwAD.make_dual(x.detach().requires_grad_(), u)
                 for x, u in zip(leaves, us)]
        outs = _outs(op.fn(chainrule, *to_args(*duals)))
        res = []
        for o in outs:
            if o.dtype.is_floating_point:
                p, t = fwAD.unpack_dual(o)
                res.append(to_np(t) if t is not None else np.zeros(o.shape))
            else:
                res.append(None)
    return res


@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_jvp_matches_finite_differences_and_reverse(op, i):
    leaves, to_args = build(chainrule, op.samples[i], _seed(op, i))
    if not leaves:
        pytest.skip("no differentiable input")
    rng = np.random.default_rng(7)
    us = [chainrule.tensor(rng.standard_normal(tuple(x.shape)), dtype=chainrule.float64)
          for x in leaves]
    ju = _jvp(op, leaves, to_args, us)
    # central differences along u
    eps = op.eps
    plus = _outs(op.fn(chainrule, *to_args(*[(x.detach() + eps * u).requires_grad_() for x, u
                                             in zip(leaves, us)])))
    minus = _outs(op.fn(chainrule, *to_args(*[(x.detach() - eps * u).requires_grad_()
                                              for x, u in zip(leaves, us)])))
    for k, (a, p, m) in enumerate(zip(ju, plus, minus)):
        if a is None:
            continue
        fd = (to_np(p).astype(np.float64) - to_np(m).astype(np.float64)) / (2 * eps)
        np.testing.assert_allclose(a, fd, atol=op.atol * 10, rtol=op.rtol * 10,
                                   err_msg=f"{op.name}: JVP vs finite differences, output {k}")
    # <u, J^T v> == <J u, v>
    outs = [o for o in _outs(op.fn(chainrule, *to_args(*leaves))) if o.requires_grad]
    if not outs:
        return
    vs = [chainrule.tensor(rng.standard_normal(tuple(o.shape)), dtype=chainrule.float64)
          for o in outs]
    total = sum((o * v).sum() for o, v in zip(outs, vs))
    gs = chainrule.autograd.grad(total, leaves, allow_unused=True)
    lhs = sum(float((to_np(g) * to_np(u)).sum()) for g, u in zip(gs, us) if g is not None)
    diff = [a for a, o in zip(ju, _outs(op.fn(chainrule, *to_args(*leaves)))) if a is not None
            and o.requires_grad]
    rhs = sum(float((a * to_np(v)).sum()) for a, v in zip(diff, vs))
    tol = 1e-6     # some samples cast through float32 inside
    assert lhs == pytest.approx(rhs, rel=tol, abs=tol), f"{op.name}: <u,J^Tv> != <Ju,v>"


@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_forward_over_reverse(op, i):
    """The JVP of each sample's vector-Jacobian product matches finite differences: this runs
    the JVP rule of every primitive the backward uses (IndexGrad, ViewAssign, ...)."""
    if not op.gradgrad:
        pytest.skip(f"{op.name}: no second derivative")
    leaves, to_args = build(chainrule, op.samples[i], _seed(op, i))
    if not leaves:
        pytest.skip("no differentiable input")
    outs = [o for o in _outs(op.fn(chainrule, *to_args(*leaves))) if o.requires_grad]
    if not outs:
        pytest.skip("no differentiable output")
    rng = np.random.default_rng(3)
    f64 = chainrule.float64
    vs = [chainrule.tensor(rng.standard_normal(tuple(o.shape)), dtype=f64) for o in outs]
    us = [chainrule.tensor(rng.standard_normal(tuple(x.shape)), dtype=f64) for x in leaves]
    ws = [chainrule.tensor(rng.standard_normal(tuple(o.shape)), dtype=f64) for o in outs]
    n = len(leaves)

    def vjp(*xv):
        xs, cs = xv[:n], xv[n:]
        os = [o for o in _outs(op.fn(chainrule, *to_args(*xs))) if o.requires_grad]
        tot = sum((o * c).sum() for o, c in zip(os, cs))
        gs = chainrule.autograd.grad(tot, xs, create_graph=True, allow_unused=True)
        return [g if g is not None else x * 0 for g, x in zip(gs, xs)]
    prim = leaves + vs
    tans = us + ws
    try:
        with fwAD.dual_level():
            duals = [fwAD.make_dual(x.detach().requires_grad_(), u) for x, u in zip(prim, tans)]
            got = [fwAD.unpack_dual(g).tangent for g in vjp(*duals)]
    except RuntimeError as e:
        if INPLACE in str(e):
            pytest.skip(f"{op.name}: {e}")
        raise
    eps = op.eps
    plus = vjp(*[(x.detach() + eps * u).requires_grad_() for x, u in zip(prim, tans)])
    minus = vjp(*[(x.detach() - eps * u).requires_grad_() for x, u in zip(prim, tans)])
    for g, p, m in zip(got, plus, minus):
        fd = (to_np(p) - to_np(m)) / (2 * eps)
        a = to_np(g) if g is not None else np.zeros_like(fd)
        np.testing.assert_allclose(a, fd, atol=op.atol * 10, rtol=op.rtol * 10)


def _all_primitives():
    import chainrule.ops as ops_pkg
    mods = [importlib.import_module(f"chainrule.ops.{m.name}")
            for m in pkgutil.iter_modules(ops_pkg.__path__)]
    for name in ("chainrule.functional_ops", "chainrule.nn.functional"):
        try:
            mods.append(importlib.import_module(name))
        except ImportError:
            pass
    found = set()
    for m in mods:
        for _, c in inspect.getmembers(m, inspect.isclass):
            if issubclass(c, Op) and c is not Op and c.differentiable and \
                    c.__module__ == m.__name__ and not getattr(c, "_no_transforms", False):
                found.add(c)    # (a fusion built only outside transforms has no JVP to run)
    return found


def test_every_primitive_has_a_working_jvp(monkeypatch):
    """Every differentiable primitive (new ones from any module included) is driven through its
    JVP rule by some op-table sample, forward or forward-over-reverse; the sample tests above
    check the values."""
    reached = set()
    orig = T._jvp_call

    def rec(lv, cls, args, kwargs, *rest):
        reached.add(cls)
        return orig(lv, cls, args, kwargs, *rest)
    monkeypatch.setattr(T, "_jvp_call", rec)
    for op, i in SAMPLES:
        leaves, to_args = build(chainrule, op.samples[i], _seed(op, i))
        if not leaves:
            continue
        try:
            with fwAD.dual_level():
                duals = [fwAD.make_dual(x.detach().requires_grad_(), x.detach() * 0 + 1)
                         for x in leaves]
                outs = [o for o in _outs(op.fn(chainrule, *to_args(*duals))) if o.requires_grad]
                if outs and op.gradgrad:
                    cs = [fwAD.make_dual(o.detach() * 0 + 1, o.detach() * 0 + 1) for o in outs]
                    tot = sum((o * c).sum() for o, c in zip(outs, cs))
                    chainrule.autograd.grad(tot, duals, create_graph=True, allow_unused=True)
        except RuntimeError as e:
            if INPLACE not in str(e):
                raise
    missing = sorted(c.__name__ for c in _all_primitives() - reached)
    assert not missing, f"primitives whose JVP no sample exercised: {missing}"


def test_generic_jvp_rule_matches_explicit_rules():
    """The transposed-backward rule (used for primitives without an explicit one) agrees with
    the explicit rules of the core ops."""
    from chainrule.autograd import _fwd_rules as R
    from chainrule.ops import elementwise as E, linalg as LA
    rng = np.random.default_rng(0)
    f64 = chainrule.float64
    a = chainrule.tensor(rng.uniform(0.5, 2, (3, 4)), dtype=f64)
    b = chainrule.tensor(rng.uniform(0.5, 2, (4, 2)), dtype=f64)
    ta = chainrule.tensor(rng.standard_normal((3, 4)), dtype=f64)
    tb = chainrule.tensor(rng.standard_normal((4, 2)), dtype=f64)
    for cls, args, tans in [(E.Mul, (a, a * 2), (ta, ta)), (E.Tanh, (a,), (ta,)),
                            (E.Pow, (a, a), (ta, ta)), (LA.MatMul, (a, b), (ta, tb))]:
        out = cls.apply(*args)
        explicit = R.RULES[cls](cls, args, tans, out, {})
        generic = R.generic(cls, args, tans, out, {})
        np.testing.assert_allclose(to_np(explicit), to_np(generic), rtol=1e-12, atol=1e-12)


# -- API --------------------------------------------------------------------------------------
def test_make_dual_unpack_dual_basics():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, chainrule.tensor([1.0, 1.0], dtype=chainrule.float64))
        y = d.sin() * d
        p, t = fwAD.unpack_dual(y)
        np.testing.assert_allclose(to_np(p), np.sin([1, 2]) * [1, 2])
        np.testing.assert_allclose(to_np(t), np.cos([1, 2]) * [1, 2] + np.sin([1, 2]))
        assert fwAD.unpack_dual(x).tangent is None
        assert isinstance(fwAD.unpack_dual(y), fwAD.UnpackedDualTensor)
    assert fwAD.unpack_dual(y).tangent is None


def test_errors():
    x = chainrule.ones(3)
    with pytest.raises(RuntimeError, match="no level"):
        fwAD.make_dual(x, x)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="different size"):
            fwAD.make_dual(x, chainrule.ones(4))
        with pytest.raises(RuntimeError, match="Nested"):
            with fwAD.dual_level():
                pass


def test_reverse_over_forward():
    """Tangents are differentiable: d/dx of (J(x) u) is the Hessian applied to u."""
    x = chainrule.tensor([0.3, -0.7], dtype=chainrule.float64, requires_grad=True)
    u = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    with fwAD.dual_level():
        t = fwAD.unpack_dual((fwAD.make_dual(x, u) ** 3).sum()).tangent
    g, = chainrule.autograd.grad(t, x)
    np.testing.assert_allclose(to_np(g), 6 * to_np(x.detach()) * to_np(u))


class _Cube(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 3 * x ** 2

    @staticmethod
    def jvp(ctx, t):
        x, = ctx.saved_tensors
        return t * 3 * x ** 2


class _NoJvp(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_custom_function_jvp():
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, chainrule.tensor([1.0, 1.0], dtype=chainrule.float64))
        t = fwAD.unpack_dual(_Cube.apply(d)).tangent
        np.testing.assert_allclose(to_np(t), [3.0, 12.0])
        with pytest.raises(NotImplementedError, match="jvp"):
            _NoJvp.apply(d)
    xr = x.clone().requires_grad_()
    with fwAD.dual_level():
        d = fwAD.make_dual(xr, chainrule.tensor([1.0, 0.0], dtype=chainrule.float64))
        y = _Cube.apply(d)
        np.testing.assert_allclose(to_np(fwAD.unpack_dual(y).tangent), [3.0, 0.0])
    y.sum().backward()
    np.testing.assert_allclose(to_np(xr.grad), [3.0, 12.0])


def test_custom_function_is_interposed_not_patched():
    """Function.apply is function.py's own (no monkeypatch); the transforms reach custom
    Functions through the interposer, so func.jvp / jacfwd use their jvp."""
    from chainrule.autograd.function import Function
    assert Function.apply.__func__.__module__ == "chainrule.autograd.function"
    from chainrule.func import jacfwd, jvp
    x = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    _, t = jvp(_Cube.apply, (x,), (chainrule.tensor([1.0, -1.0], dtype=chainrule.float64),))
    np.testing.assert_allclose(to_np(t), [3.0, -12.0])
    np.testing.assert_allclose(to_np(jacfwd(_Cube.apply)(x)), np.diag([3.0, 12.0]))
    with pytest.raises(NotImplementedError, match="jvp"):
        jvp(_NoJvp.apply, (x,), (x,))


def test_custom_function_under_vmap_and_checkpoint():
    from chainrule.func import vmap
    from chainrule.utils.checkpoint import checkpoint

    class Twice(_NoJvp):
        generate_vmap_rule = True
    xs = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=chainrule.float64)
    np.testing.assert_allclose(to_np(vmap(lambda v: _NoJvp.apply(v).sum())(xs)), [6.0, 14.0])
    np.testing.assert_allclose(to_np(vmap(Twice.apply)(xs)), 2 * to_np(xs))
    with pytest.raises(RuntimeError, match="generate_vmap_rule"):
        vmap(lambda v: _NoJvp.apply(v))(xs.clone().requires_grad_())
    xc = xs.clone().requires_grad_()
    checkpoint(lambda v: _Cube.apply(v).sum(), xc, use_reentrant=False).backward()
    np.testing.assert_allclose(to_np(xc.grad), 3 * to_np(xs) ** 2)


@needs_torch
def test_torch_parity():
    import torch
    import torch.autograd.forward_ad as tfw
    rng = np.random.default_rng(0)
    xa, ua, wa = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)

    def f(m, x, w):
        return (m.tanh(x) @ w).exp() / (1 + x.sum(1) ** 2)
    res = []
    for m, fw in ((chainrule, fwAD), (torch, tfw)):
        with fw.dual_level():
            d = fw.make_dual(m.tensor(xa, dtype=m.float64), m.tensor(ua, dtype=m.float64))
            res.append(fw.unpack_dual(f(m, d, m.tensor(wa, dtype=m.float64))))
    np.testing.assert_allclose(to_np(res[0].primal), to_np(res[1].primal), rtol=1e-12)
    np.testing.assert_allclose(to_np(res[0].tangent), to_np(res[1].tangent), rtol=1e-10)
