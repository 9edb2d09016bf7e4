"""NAdam: Adam with Nesterov momentum and a momentum-decay schedule."""

from .optimizer import (_grad_of, Optimizer, _addcdiv_, _addcmul_, _check_betas, _check_lr,
                        _check_nonneg, _lerp_, _step_tensor, _to_scalar)

__all__ = ["NAdam"]
_MU_PRODUCT = (("mu_product", lambda: _step_tensor(1.0)),)   # made before the moment buffers


class NAdam(Optimizer):
    r"""NAdam: with :math:`\mu_t = \beta_1 (1 - \tfrac12 0.96^{t\,\psi})` (``psi`` is
    ``momentum_decay``) and :math:`\Pi_t = \prod_{i \le t} \mu_i`, the step is
    :math:`-lr \left[\frac{1-\mu_t}{1-\Pi_t} g_t + \frac{\mu_{t+1}}{1-\Pi_{t+1}} m_t\right]
    / (\sqrt{v_t / (1-\beta_2^t)} + \epsilon)`. ``decoupled_weight_decay`` applies weight
    decay as in AdamW.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.NAdam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8944, -1.8944], requires_grad=True)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_betas(betas)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("momentum_decay", momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("maximize", False), ("foreach", None), ("capturable", False),
                       ("differentiable", False), ("decoupled_weight_decay", False))

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                beta1, beta2 = group["betas"]
                eps, psi = group["eps"], group["momentum_decay"]
                for p, state, step in self._stepped(group, "exp_avg", "exp_avg_sq",
                                                    extra=_MU_PRODUCT):
                    g = _grad_of(p, group, lr)
                    m, v, mu_prod = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
                    bias_correction2 = 1 - beta2 ** step
                    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
                    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
                    prod = mu_prod.mul_(mu).item()
                    _lerp_(m, g, 1 - beta1)
                    _addcmul_(v.mul_(beta2), g, g, 1 - beta2)
                    denom = v.div(bias_correction2).sqrt().add_(eps)
                    _addcdiv_(p, g, denom, -lr * (1.0 - mu) / (1.0 - prod))
                    _addcdiv_(p, m, denom, (-lr * mu_next) / (1.0 - prod * mu_next))
        return loss
