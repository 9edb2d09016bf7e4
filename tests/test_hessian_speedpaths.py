"""The transforms' own backward walk (chainrule.autograd._vjp._backprop) and the other Hessian
fast paths against torch.func: every branch of the walk (array mode, Tensor mode, plain-array
nodes, pruned branches, non-leaf inputs, multi-output nodes, broadcasting, dtype casts, custom
Functions) and its fall-backs to the engine (hooks, anomaly mode)."""
import numpy as np
import pytest

import chainrule
from chainrule import func as CF
from chainrule.autograd import _vjp
from conftest import needs_torch, to_np

RNG = np.random.default_rng(7)
X3 = RNG.uniform(-1, 1, 3)
A34 = RNG.uniform(-1, 1, (3, 4))
W4 = RNG.uniform(-1, 1, 4)


def _both(build, *arrays):
    """build(m, *tensors) run with chainrule and torch on float64 copies of arrays."""
    import torch
    ours = build(chainrule, *[chainrule.tensor(a, dtype=chainrule.float64) for a in arrays])
    theirs = build(torch, *[torch.tensor(a, dtype=torch.float64) for a in arrays])
    return ours, theirs


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    if isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _close(o, t, rtol, atol)
        return
    np.testing.assert_allclose(to_np(ours), to_np(theirs), rtol=rtol, atol=atol)


def _fn(m):
    return m.func


def _tanh_mv(m, A):
    return lambda v: (m.tanh(A @ v) ** 2).sum()


@pytest.fixture
def walk_calls(monkeypatch):
    """Counts the walk's outcomes: list results (it ran), None (the engine ran instead)."""
    seen = []
    orig = _vjp._backprop

    def spy(*args, **kwargs):
        r = orig(*args, **kwargs)
        seen.append("walk" if isinstance(r, list) else "engine")
        return r
    monkeypatch.setattr(_vjp, "_backprop", spy)
    return seen


@needs_torch
def test_hessian_matches_torch_and_uses_the_walk(walk_calls):
    A = RNG.uniform(-1, 1, (5, 3))
    ours, theirs = _both(lambda m, A, x: _fn(m).hessian(_tanh_mv(m, A))(x), A, X3)
    _close(ours, theirs)
    assert walk_calls == ["walk"]


@needs_torch
def test_grad_outside_transforms_runs_the_walk_on_arrays(walk_calls, monkeypatch):
    # no transform and no graph: the rules must see arrays (the plain backward's fast rules)
    seen = []
    from chainrule.ops import elementwise as E
    orig = E.Tanh.backward

    def spy(ctx, g):
        seen.append(type(g))
        return orig(ctx, g)
    monkeypatch.setattr(E.Tanh, "backward", staticmethod(spy))
    A = RNG.uniform(-1, 1, (5, 3))
    ours, theirs = _both(lambda m, A, x: _fn(m).grad(_tanh_mv(m, A))(x), A, X3)
    _close(ours, theirs)
    assert walk_calls == ["walk"] and seen == [np.ndarray]
    assert not ours.requires_grad and ours.grad_fn is None


@needs_torch
def test_a_hook_sends_the_walk_to_the_engine(walk_calls):
    calls = []

    def build(m, x):
        def f(v):
            y = v.sin()
            y.register_hook(lambda g: calls.append(1) or g * 2)
            return (y * y).sum()
        return _fn(m).hessian(f)(x)
    ours, theirs = _both(build, X3)
    _close(ours, theirs)
    assert walk_calls == ["engine"] and calls


@needs_torch
def test_anomaly_mode_sends_the_walk_to_the_engine(walk_calls):
    def build(m, x):
        with m.autograd.detect_anomaly():
            return _fn(m).grad(lambda v: (v.exp() * v).sum())(x)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # torch announces anomaly mode with a warning
        ours, theirs = _both(build, X3)
    _close(ours, theirs)
    assert walk_calls == ["engine"]


@needs_torch
def test_grad_with_respect_to_a_tensor_that_requires_grad():
    # the input handle is then a non-leaf (an alias node): the walk prunes to it
    def build(m, x):
        x = x.detach().requires_grad_()
        g = _fn(m).grad(lambda v: (v.tanh() * v).sum())(x)
        (gg,) = m.autograd.grad(g.sum(), x)    # the gradient keeps its graph to the user leaf
        return g, gg
    ours, theirs = _both(build, X3)
    _close(ours, theirs)


@needs_torch
def test_a_branch_to_another_leaf_is_pruned_but_recorded_for_it():
    # w requires grad and is no input of grad: its branch runs nowhere, but the gradient with
    # respect to x must stay differentiable with respect to w (create_graph decided by the walk)
    def build(m, x, w):
        w = w.detach().requires_grad_()
        g = _fn(m).grad(lambda v: ((v[:, None] * w) ** 2).sum() + (w.exp()).sum())(x)
        (gw,) = m.autograd.grad((g * g).sum(), w)
        return g, gw
    ours, theirs = _both(build, X3, W4)
    _close(ours, theirs)
    assert ours[0].grad_fn is not None


@needs_torch
def test_nested_grad_keeps_the_outer_graph():
    def build(m, x):
        return _fn(m).grad(lambda u: _fn(m).grad(lambda v: (v.sin() * u).sum())(u).sum())(x)
    ours, theirs = _both(build, X3)
    _close(ours, theirs)


@needs_torch
def test_unused_and_multiple_inputs():
    def build(m, x, y, z):
        f = lambda a, b, c: (a.tanh() * b).sum() + 0 * c.sum()   # noqa: E731
        return (_fn(m).jacrev(f, argnums=(0, 1, 2))(x, y, z)
                + _fn(m).hessian(f, argnums=(0, 1))(x, y, z)[0])
    ours, theirs = _both(build, X3, X3[::-1].copy(), W4)
    _close(ours, theirs)


@needs_torch
def test_multi_output_nodes_in_the_walk():
    def build(m, x):
        def f(v):
            vals, idx = v.max(dim=1)
            a, b = v.split([1, 3], dim=1)
            return (vals.exp() * a.squeeze(1)).sum() + (b ** 3).sum()
        return _fn(m).grad(f)(x), _fn(m).hessian(f)(x)
    ours, theirs = _both(build, A34)
    _close(ours, theirs)


@needs_torch
def test_broadcast_gradients_are_summed_down():
    def build(m, x, A):
        f = lambda v: (m.tanh(v[:, None] * A) * A).sum()    # noqa: E731
        return _fn(m).grad(f)(x), _fn(m).hessian(f)(x)
    ours, theirs = _both(build, X3, A34)
    _close(ours, theirs)


@needs_torch
def test_mixed_dtypes_cast_the_gradients():
    import torch
    x32 = X3.astype(np.float32)

    def build(m, dt, x):
        c = m.tensor(W4[:3], dtype=dt)
        return _fn(m).grad(lambda v: (v.sin() * c).sum())(x)
    ours = build(chainrule, chainrule.float64, chainrule.tensor(x32))
    theirs = build(torch, torch.float64, torch.tensor(x32))
    assert ours.dtype == chainrule.float32 and theirs.dtype == torch.float32
    _close(ours, theirs, rtol=1e-6, atol=1e-7)


@needs_torch
def test_custom_function_in_array_and_tensor_walks():
    def make(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(x):
                return x ** 3

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * g * x * x
        return Cube

    def build(m, x):
        Cube = make(m)
        f = lambda v: Cube.apply(v.sin()).sum()    # noqa: E731
        return _fn(m).grad(f)(x), _fn(m).jacrev(_fn(m).grad(f))(x)
    ours, theirs = _both(build, X3)
    _close(ours, theirs)


@needs_torch
def test_constant_cotangent_nodes_and_identity_basis():
    # Sum's and Mean's backward see only the constant seed: they run on arrays in the walk
    def build(m, x, A):
        f = lambda v: (A @ v).mean() + ((A @ v) ** 2).sum()    # noqa: E731
        return _fn(m).hessian(f)(x), _fn(m).jacfwd(lambda v: A @ v)(x)
    ours, theirs = _both(build, X3, A34.T.copy())
    _close(ours, theirs)
    assert ours[1]._data.flags.writeable


def test_in_place_write_of_a_walk_result_carries_its_tangent():
    """Forward AD follows in-place ops (as torch): the tangent of r.mul_(2) is twice r's."""
    x = chainrule.tensor(X3, dtype=chainrule.float64)

    def f(u):
        return (u.tanh() ** 2).sum()

    def g(v):
        r = CF.grad(f)(v)
        r.mul_(2.0)
        return r
    np.testing.assert_allclose(to_np(CF.jacfwd(g)(x)), 2 * to_np(CF.hessian(f)(x)),
                               rtol=1e-12, atol=1e-14)


def test_hessian_of_tanh_matvec_against_its_closed_form():
    A = RNG.uniform(-1, 1, (6, 4)) / 2
    x = RNG.uniform(-1, 1, 4)
    At = chainrule.tensor(A, dtype=chainrule.float64)
    H = CF.hessian(lambda v: (chainrule.tanh(At @ v) ** 2).sum())(
        chainrule.tensor(x, dtype=chainrule.float64))
    t = np.tanh(A @ x)
    np.testing.assert_allclose(to_np(H), A.T @ (((2 - 6 * t * t) * (1 - t * t))[:, None] * A),
                               rtol=1e-12, atol=1e-13)
