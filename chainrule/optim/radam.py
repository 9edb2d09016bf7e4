"""RAdam: Adam with a rectified adaptive learning rate."""

from .optimizer import (_grad_of, Optimizer, _addcmul_, _check_betas, _check_lr, _check_nonneg,
                        _lerp_, _to_scalar)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    r"""RAdam: Adam's moments; with :math:`\rho_\infty = 2/(1-\beta_2) - 1` and
    :math:`\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)`, the step is
    :math:`-lr\, \hat m_t\, r_t \sqrt{1-\beta_2^t}/(\sqrt{v_t} + \epsilon)` when
    :math:`\rho_t > 5` (:math:`r_t` the variance rectification term) and :math:`-lr\,\hat m_t`
    otherwise. ``decoupled_weight_decay`` applies weight decay as in AdamW.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.RAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False), ("capturable", False),
                       ("differentiable", False), ("decoupled_weight_decay", False))

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                beta1, beta2 = group["betas"]
                eps = group["eps"]
                rho_inf = 2 / (1 - beta2) - 1
                for p, state, step in self._stepped(group, "exp_avg", "exp_avg_sq"):
                    g = _grad_of(p, group, lr)
                    m, v = state["exp_avg"], state["exp_avg_sq"]
                    _lerp_(m, g, 1 - beta1)
                    _addcmul_(v.mul_(beta2), g, g, 1 - beta2)
                    bc1 = 1 - beta1 ** step
                    bc2 = 1 - beta2 ** step
                    m_hat = m / bc1
                    rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
                    if rho_t > 5.0:
                        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                        adaptive = (bc2 ** 0.5) / v.sqrt().add_(eps)
                        p.add_(m_hat * lr * adaptive * rect, alpha=-1.0)
                    else:
                        p.add_(m_hat * lr, alpha=-1.0)
        return loss
