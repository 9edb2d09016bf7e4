"""Adam (and, with decoupled weight decay, AdamW), with AMSGrad."""
import chainrule

from .optimizer import (_grad_of, Optimizer, _addcdiv_, _addcmul_, _check_betas, _check_lr,
                        _check_fused, _check_nonneg, _lerp_, _to_scalar)

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam: moment estimates :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
    :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2`, step
    :math:`-\frac{lr}{1-\beta_1^t} m_t / (\sqrt{v_t / (1-\beta_2^t)} + \epsilon)` (``amsgrad``
    uses the running maximum of :math:`v_t`). ``weight_decay`` adds ``wd * p`` to the gradient,
    or with ``decoupled_weight_decay=True`` scales ``p`` by ``1 - lr * wd`` (AdamW).

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        _check_lr(lr)
        _check_fused(fused, foreach, differentiable)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        betas = tuple(_to_scalar(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    _group_defaults = (("amsgrad", False), ("maximize", False), ("foreach", None),
                       ("capturable", False), ("differentiable", False), ("fused", None),
                       ("decoupled_weight_decay", False))

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                beta1, beta2 = group["betas"]
                eps, amsgrad = group["eps"], group["amsgrad"]
                buffers = ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ())
                for p, state, step in self._stepped(group, *buffers):
                    g = _grad_of(p, group, lr)
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    _lerp_(m, g, 1 - beta1)
                    _addcmul_(v.mul_(beta2), g, g, 1 - beta2)
                    step_size = lr / (1 - beta1 ** step)
                    bc2_sqrt = (1 - beta2 ** step) ** 0.5
                    if amsgrad:
                        vmax = state["max_exp_avg_sq"]
                        vmax.copy_(chainrule.maximum(vmax, v))
                        denom = (vmax.sqrt() / bc2_sqrt).add_(eps)
                    else:
                        denom = (v.sqrt() / bc2_sqrt).add_(eps)
                    _addcdiv_(p, m, denom, -step_size)
        return loss
