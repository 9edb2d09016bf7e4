"""Adadelta."""

from .optimizer import (_FLAG_DEFAULTS, _grad_of, Optimizer, _addcmul_, _check_lr,
                        _check_nonneg, _to_scalar)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta: :math:`v_t = \rho v_{t-1} + (1-\rho) g_t^2`,
    :math:`\Delta_t = \sqrt{u_{t-1} + \epsilon} / \sqrt{v_t + \epsilon}\; g_t`,
    :math:`u_t = \rho u_{t-1} + (1-\rho) \Delta_t^2`; the step is ``-lr * Delta_t``.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adadelta([w])
    >>> (w * w).sum().backward(); opt.step(); w.detach().sub(chainrule.tensor([1.0, -2.0]))
    tensor([-0.0032,  0.0032])
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg("epsilon", eps)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = _FLAG_DEFAULTS

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                rho, eps = group["rho"], group["eps"]
                for p, state, _ in self._stepped(group, "square_avg", "acc_delta"):
                    g = _grad_of(p, group, lr)
                    sq, acc = state["square_avg"], state["acc_delta"]
                    _addcmul_(sq.mul_(rho), g, g, 1 - rho)
                    std = sq.add(eps).sqrt_()
                    delta = acc.add(eps).sqrt_().div_(std).mul_(g)
                    _addcmul_(acc.mul_(rho), delta, delta, 1 - rho)
                    p.add_(delta, alpha=-lr)
        return loss
