"""Numerical gradient checks (torch's defaults: float64, eps 1e-6, atol 1e-5, rtol 1e-3)."""
import numpy as np

from .. import _tensor
from .grad_mode import enable_grad, no_grad

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians differ."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    out = _as_tuple(func(*inputs))
    return [o for o in out if isinstance(o, _tensor.Tensor)]


def _numerical(func, inputs, wrt, eps):
    """J[i][o] of shape (input numel, output numel) by central differences."""
    with no_grad():
        outs = _outputs(func, inputs)
        jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for o in outs] for i in wrt]
        for a, i in enumerate(wrt):
            x = inputs[i]._data
            flat = x.reshape(-1)
            if flat.size and not np.shares_memory(flat, x):
                raise ValueError("gradcheck needs contiguous inputs")
            for j in range(flat.size):
                orig = flat[j]
                flat[j] = orig + eps
                plus = [o._data.astype(np.float64).ravel().copy()
                        for o in _outputs(func, inputs)]
                flat[j] = orig - eps
                minus = [o._data.astype(np.float64).ravel().copy()
                         for o in _outputs(func, inputs)]
                flat[j] = orig
                for k in range(len(outs)):
                    jac[a][k][j] = (plus[k] - minus[k]) / (2 * eps)
    return jac, outs


def _analytical(func, inputs, wrt):
    from . import grad as _grad
    outs = _outputs(func, inputs)
    jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for o in outs] for i in wrt]
    for k, o in enumerate(outs):
        if not o._rg:
            continue
        for m in range(o._data.size):
            g = np.zeros(o._data.size, o._data.dtype)
            g[m] = 1
            gs = _grad(o, [inputs[i] for i in wrt], _tensor.Tensor._make(g.reshape(o.shape)),
                       retain_graph=True, allow_unused=True)
            for a, gi in enumerate(gs):
                if gi is not None:
                    if gi.shape != inputs[wrt[a]].shape:
                        raise GradcheckError(f"gradient for input {wrt[a]} has shape "
                                             f"{list(gi.shape)}, expected "
                                             f"{list(inputs[wrt[a]].shape)}")
                    jac[a][k][:, m] = gi._data.ravel()
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """Compare autograd's gradients of ``func`` with central finite differences.

    >>> import chainrule
    >>> x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    >>> chainrule.autograd.gradcheck(lambda t: (t * t).sin(), (x,))
    True
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, _tensor.Tensor) and x._rg]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad "
                             "to be True")
    num, outs = _numerical(func, inputs, wrt, eps)
    modes = ([("analytical", _analytical)] if check_backward_ad else []) + (
        [("forward mode", _forward)] if check_forward_ad else [])
    for what, fn in modes:
        ana = fn(func, inputs, wrt)
        for a, i in enumerate(wrt):
            for k in range(len(outs)):
                n, an = num[a][k], ana[a][k]
                if not np.allclose(an, n, rtol=rtol, atol=atol, equal_nan=True):
                    if raise_exception:
                        raise GradcheckError(
                            f"Jacobian mismatch for output {k} with respect to input {i} "
                            f"({what}),\nnumerical:{n}\n{what}:{an}\n")
                    return False
    return True


def _forward(func, inputs, wrt):
    """J[i][o] column by column with forward-mode AD: one dual pass per input element."""
    from . import forward_ad as fwAD
    outs = _outputs(func, inputs)
    jac = [[np.zeros((inputs[i]._data.size, o._data.size)) for o in outs] for i in wrt]
    for a, i in enumerate(wrt):
        x = inputs[i]
        for j in range(x._data.size):
            u = np.zeros(x._data.size, x._data.dtype)
            u[j] = 1
            with fwAD.dual_level():
                ins = list(inputs)
                # a dual that still requires grad: func may take a vjp inside (fwd-over-rev)
                ins[i] = fwAD.make_dual(x.detach().requires_grad_(x._rg),
                                        _tensor.Tensor._make(u.reshape(x.shape)))
                res = _outputs(func, ins)
                for k, o in enumerate(res):
                    t = fwAD.unpack_dual(o).tangent
                    if t is not None:
                        jac[a][k][j] = t._data.ravel()
    return jac


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True,
                  fast_mode=False, masked=False):
    """Check second derivatives: gradcheck of the function's vector-Jacobian product.

    >>> import chainrule
    >>> x = chainrule.randn(3, dtype=chainrule.float64, requires_grad=True)
    >>> chainrule.autograd.gradgradcheck(lambda t: t ** 3, (x,))
    True
    """
    from . import grad as _grad
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or "
                             "check_rev_over_rev to be True")
    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_tensor.Tensor._make(rng.standard_normal(o.shape).astype(
            o._data.dtype)).requires_grad_() for o in outs if o._rg)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, _tensor.Tensor) and x._rg]

    def first(*args):
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():
            os = [o for o in _outputs(func, ins) if o._rg]
            gs = _grad(os, [ins[i] for i in wrt], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)
    return gradcheck(first, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev)
