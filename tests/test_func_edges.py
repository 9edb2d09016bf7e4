"""Edges of chainrule.func found by the transforms audit: outer no_grad, aux unwrapping, bad
outputs and arguments, empty inputs; each against torch.func where torch is installed."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch


def _lib(name):
    if name == "torch":
        return pytest.importorskip("torch")
    return chainrule


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_transforms_ignore_an_outer_no_grad(lib):
    m = _lib(lib)
    x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
    with m.no_grad():
        jr = m.func.jacrev(lambda v: v ** 3)(x)
        h = m.func.hessian(lambda v: (v ** 3).sum())(x)
        jf = m.func.jacfwd(lambda v: v ** 3)(x)
    np.testing.assert_allclose(jr.detach().numpy(), np.diag([3.0, 12.0]))
    np.testing.assert_allclose(jf.detach().numpy(), np.diag([3.0, 12.0]))
    np.testing.assert_allclose(h.detach().numpy(), np.diag([6.0, 12.0]))
    assert jr.grad_fn is None and not jr.requires_grad      # nothing recorded outside


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_jacrev_aux_is_unwrapped(lib):
    m = _lib(lib)
    x = m.tensor([1.0, 2.0])
    _, aux = m.func.jacrev(lambda v: (v * 2, v), has_aux=True)(x)
    assert not aux.requires_grad
    xr = m.tensor([1.0, 2.0], requires_grad=True)
    _, aux = m.func.jacrev(lambda v: (v * 2, v * 3), has_aux=True)(xr)
    assert aux.requires_grad                 # still on the user's graph
    np.testing.assert_allclose(aux.detach().numpy(), [3.0, 6.0])


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_jacrev_bad_output_and_chunk_size(lib):
    m = _lib(lib)
    with pytest.raises(RuntimeError, match="only tensors"):
        m.func.jacrev(lambda v: 3.0)(m.ones(2))
    with pytest.raises(ValueError, match="chunk_size"):
        m.func.jacrev(lambda v: v, chunk_size=0)(m.ones(2))


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_jacfwd_of_an_empty_input(lib):
    m = _lib(lib)
    assert tuple(m.func.jacfwd(lambda v: v * 2)(m.zeros(0)).shape) == (0, 0)
    assert tuple(m.func.jacfwd(lambda v: v.sum())(m.zeros(0)).shape) == (0,)
    assert tuple(m.func.jacfwd(lambda v: v.reshape(2, 0))(m.zeros(0)).shape) == (2, 0, 0)


@needs_torch
def test_jacfwd_empty_matches_torch_dtype():
    import torch
    a = chainrule.func.jacfwd(lambda v: v * 2)(chainrule.zeros(0, dtype=chainrule.float64))
    b = torch.func.jacfwd(lambda v: v * 2)(torch.zeros(0, dtype=torch.float64))
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]


def _numpy_sin(m, log):
    class NumpySin(m.autograd.Function):
        @staticmethod
        def forward(x):
            return m.tensor(np.sin(x.numpy()))

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def vmap(info, in_dims, x):
            log.append(info.batch_size)
            y = NumpySin.apply(x)       # the batch is just more elements here
            return y, in_dims[0]
    return NumpySin


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
@pytest.mark.parametrize("in_dims", [0, 1])
def test_custom_function_vmap_staticmethod(lib, in_dims):
    m = _lib(lib)
    log = []
    fn = _numpy_sin(m, log)
    X = m.tensor(np.arange(12.0).reshape(3, 4))
    got = m.func.vmap(fn.apply, in_dims=in_dims)(X).numpy()
    want = np.sin(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(got, want if in_dims == 0 else want.T)
    assert log == [X.shape[in_dims]]


def test_custom_function_vmap_and_generate_rule_conflict():
    fn = _numpy_sin(chainrule, [])
    fn.generate_vmap_rule = True
    with pytest.raises(RuntimeError, match="generate_vmap_rule"):
        chainrule.func.vmap(fn.apply)(chainrule.ones(2, 2))


# -- forward AD through in-place ops (tangents follow the written values, as in torch) ---------
INPLACE = {
    "mul_add": lambda m, x: x.clone().mul_(2).add_(x),
    "zero_then_add": lambda m, x: x.clone().zero_().add_(x * x),
    "copy_into_zeros": lambda m, x: m.zeros(3, dtype=x.dtype).copy_(x.sin()),
    "setitem_slice": lambda m, x: _setitem(m, x, slice(1, None), lambda y: y[:2] * 3),
    "setitem_const": lambda m, x: _setitem(m, x, 0, lambda y: 5.0),
    "fill_": lambda m, x: x.clone().fill_(2.0) * x,
    "div_": lambda m, x: x.clone().div_(x.exp()),
    "clamp_": lambda m, x: (x * 2).clamp_(min=-1.0),
    "through_a_view": lambda m, x: _view_write(x, lambda v: v.mul_(x[:2].exp())),
    "view_of_zeros": lambda m, x: _view_write(m.zeros(3, dtype=x.dtype), lambda v: v.copy_(x[1:])),
}


def _view_write(y0, write):
    y = y0.clone()
    write(y[1:])
    return y


def _setitem(m, x, idx, val):
    y = x.clone()
    y[idx] = val(x)
    return y


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_forward_ad_through_inplace_ops(name):
    f = INPLACE[name]
    res = []
    for lib in ("chainrule", "torch"):
        m = pytest.importorskip(lib) if lib == "torch" else chainrule
        x = m.tensor([0.3, -1.2, 2.0], dtype=m.float64)
        u = m.tensor([1.0, 0.5, -2.0], dtype=m.float64)
        _, t = m.func.jvp(lambda v: f(m, v), (x,), (u,))
        jf = m.func.jacfwd(lambda v: f(m, v))(x)
        res.append((t.numpy(), jf.numpy()))
        if lib == "chainrule":      # also against reverse mode: J u == jacrev(f) @ u
            jr = m.func.jacrev(lambda v: f(m, v))(x)
            np.testing.assert_allclose(jf.numpy(), jr.numpy(), atol=1e-12)
            np.testing.assert_allclose(t.numpy(), jr.numpy() @ u.numpy(), atol=1e-12)
    if len(res) == 2:
        np.testing.assert_allclose(res[0][0], res[1][0], atol=1e-12)
        np.testing.assert_allclose(res[0][1], res[1][1], atol=1e-12)


# -- gradcheck's forward-mode checks (check_forward_ad, check_fwd_over_rev), as torch --------
@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_gradcheck_forward_mode_flags(lib):
    m = _lib(lib)
    x = m.tensor([0.3, -0.7, 1.1], dtype=m.float64, requires_grad=True)
    f = lambda a: (a.exp() * a[0]).tanh()  # noqa: E731
    assert m.autograd.gradcheck(f, (x,), check_forward_ad=True)
    assert m.autograd.gradcheck(f, (x,), check_forward_ad=True, check_backward_ad=False)
    assert m.autograd.gradgradcheck(f, (x,), check_fwd_over_rev=True)
    assert m.autograd.gradgradcheck(f, (x,), check_fwd_over_rev=True, check_rev_over_rev=False,
                                    check_undefined_grad=False)
    with pytest.raises(AssertionError, match="at least one"):
        m.autograd.gradcheck(f, (x,), check_backward_ad=False)
    with pytest.raises(AssertionError, match="at least one"):
        m.autograd.gradgradcheck(f, (x,), check_rev_over_rev=False)


def test_gradcheck_forward_mode_catches_a_wrong_jvp():
    class Square(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

        @staticmethod
        def jvp(ctx, t):
            return 3.0 * t          # wrong: the tangent is 2 x t
    x = chainrule.tensor([0.5, 2.0], dtype=chainrule.float64, requires_grad=True)
    assert chainrule.autograd.gradcheck(Square.apply, (x,))          # reverse mode is right
    with pytest.raises(chainrule.autograd.GradcheckError, match="forward mode"):
        chainrule.autograd.gradcheck(Square.apply, (x,), check_forward_ad=True)
