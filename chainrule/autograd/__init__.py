"""chainrule.autograd: backward, grad, custom Functions, grad modes, checks."""
import numpy as np

from . import engine, function, grad_mode
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "gradcheck", "gradgradcheck"]


def _seq(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _make_grads(outputs, grads, create_graph):
    T = function.Tensor
    res = []
    for k, o in enumerate(outputs):
        g = grads[k] if grads is not None and k < len(grads) else None
        if g is None:
            if not o._rg:
                raise RuntimeError(f"element {k} of tensors does not require grad and does not "
                                   "have a grad_fn")
            if o._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if o._data.dtype.kind != "f":
                raise RuntimeError("grad can be implicitly created only for real scalar "
                                   f"outputs but got {o.dtype}")
            g = np.empty(o._data.shape, o._data.dtype)
            g.fill(1)
            g = T._make(g)
        elif not isinstance(g, T):
            g = T._make(np.asarray(g, o._data.dtype))
        else:
            if g.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{k}] has a shape of "
                                   f"{g.shape} and output[{k}] has a shape of {o.shape}.")
            if not create_graph and g._rg:
                g = g.detach()
        res.append(g)
    return res


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` into the leaves' ``.grad``.

    >>> import chainrule
    >>> x = chainrule.tensor(3.0, requires_grad=True)
    >>> chainrule.autograd.backward(x * x); x.grad
    tensor(6.)
    """
    tensors = _seq(tensors)
    grads = _seq(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    ins = _seq(inputs)
    if ins is not None and len(ins) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    gs = _make_grads(tensors, grads, create_graph)
    engine.run_backward(tensors, gs, retain_graph, create_graph, inputs=ins, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching ``.grad``.

    >>> import chainrule
    >>> x = chainrule.tensor(2.0, requires_grad=True)
    >>> chainrule.autograd.grad(x ** 3, x)
    (tensor(12.),)
    """
    outputs = _seq(outputs)
    single = not isinstance(inputs, (tuple, list))
    ins = _seq(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched_grad(outputs, ins, grad_outputs, retain_graph, create_graph,
                             allow_unused)
    gs = _make_grads(outputs, _seq(grad_outputs), create_graph)
    res = engine.run_backward(outputs, gs, retain_graph, create_graph, inputs=ins,
                              accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        T = function.Tensor
        res = [g if g is not None else T._make(np.zeros(i.shape, i._data.dtype))
               for g, i in zip(res, ins)]
    return tuple(res)


def _batched_grad(outputs, ins, grad_outputs, retain_graph, create_graph, allow_unused):
    """grad with a leading batch dim on each grad_output: one vjp per batch row."""
    from ..ops.shape import clone  # noqa: F401  (keeps import order explicit)
    gos = _seq(grad_outputs)
    n = gos[0].shape[0]
    rows = []
    for b in range(n):
        rows.append(grad(outputs, ins, [g[b] for g in gos], retain_graph=True,
                         create_graph=create_graph, allow_unused=allow_unused))
    import chainrule
    return tuple(chainrule.stack([r[k] for r in rows]) if rows[0][k] is not None else None
                 for k in range(len(ins)))
