"""Adamax: Adam with the infinity norm."""
import chainrule

from .optimizer import (_FLAG_DEFAULTS, _grad_of, Optimizer, _addcdiv_, _check_betas,
                        _check_lr, _check_nonneg, _lerp_, _to_scalar)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax: :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
    :math:`u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)`; the step is
    :math:`-\frac{lr}{1-\beta_1^t}\, m_t / u_t`.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adamax([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    _group_defaults = _FLAG_DEFAULTS

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                beta1, beta2 = group["betas"]
                eps = group["eps"]
                for p, state, step in self._stepped(group, "exp_avg", "exp_inf"):
                    g = _grad_of(p, group, lr)
                    m, u = state["exp_avg"], state["exp_inf"]
                    _lerp_(m, g, 1 - beta1)
                    u.copy_(chainrule.maximum(u.mul_(beta2), g.abs().add_(eps)))
                    _addcdiv_(p, m, u, -lr / (1 - beta1 ** step))
        return loss
