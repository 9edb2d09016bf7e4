"""Gradient clipping: clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_."""
import math

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors):
    if isinstance(tensors, Tensor):
        return [tensors]
    return list(tensors)


def _vector_norm(x, p):
    """The p-norm of x flattened (p may be inf, -inf or 0), as a 0-d tensor."""
    a = x.abs()
    if p == math.inf:
        return a.max()
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (a != 0).sum().to(x.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return (a * a).sum().sqrt()
    return (a ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of tensors (as if all were concatenated into one vector).

    >>> import chainrule
    >>> chainrule.nn.utils.get_total_norm([chainrule.tensor([3.0]), chainrule.tensor([4.0])])
    tensor(5.)
    """
    import chainrule
    tensors = [t for t in _as_list(tensors) if t is not None]
    p = float(norm_type)
    if not tensors:
        return chainrule.tensor(0.0)
    with no_grad():
        norms = [_vector_norm(t, p) for t in tensors]
        if p == math.inf:
            total = norms[0]
            for n in norms[1:]:
                total = chainrule.maximum(total, n)
        elif p == -math.inf:
            total = norms[0]
            for n in norms[1:]:
                total = chainrule.minimum(total, n)
        elif p == 0:
            # the 0-"norm" of the per-tensor norms: how many are non-zero
            total = sum(((n != 0).to(n.dtype) for n in norms[1:]), (norms[0] != 0).to(
                norms[0].dtype))
        else:
            total = sum((n ** p for n in norms[1:]), norms[0] ** p) ** (1.0 / p)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is "
                           "non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1.

    >>> import chainrule
    >>> p = chainrule.nn.Parameter(chainrule.zeros(2)); p.grad = chainrule.tensor([3.0, 4.0])
    >>> chainrule.nn.utils.clip_grads_with_norm_([p], 1.0, chainrule.tensor(5.0)); p.grad
    tensor([0.6000, 0.8000])
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    with no_grad():
        coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Rescale the gradients in place so that their total norm (over all parameters) is at
    most max_norm; returns the total norm before clipping.

    >>> import chainrule
    >>> p = chainrule.nn.Parameter(chainrule.zeros(2)); p.grad = chainrule.tensor([3.0, 4.0])
    >>> chainrule.nn.utils.clip_grad_norm_(p, 1.0)
    tensor(5.)
    >>> p.grad
    tensor([0.6000, 0.8000])
    """
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated alias of clip_grad_norm_.

    >>> import chainrule
    >>> p = chainrule.nn.Parameter(chainrule.zeros(1)); p.grad = chainrule.tensor([2.0])
    >>> import warnings; warnings.simplefilter("ignore")
    >>> chainrule.nn.utils.clip_grad_norm(p, 1.0)
    tensor(2.)
    """
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value] in place.

    >>> import chainrule
    >>> p = chainrule.nn.Parameter(chainrule.zeros(2)); p.grad = chainrule.tensor([3.0, -0.5])
    >>> chainrule.nn.utils.clip_grad_value_(p, 1.0); p.grad
    tensor([ 1.0000, -0.5000])
    """
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
