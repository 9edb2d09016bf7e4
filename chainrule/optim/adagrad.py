"""Adagrad with learning-rate decay."""
import chainrule

from .optimizer import (_grad_of, Optimizer, _addcdiv_, _addcmul_, _check_lr, _check_nonneg,
                        _check_fused, _step_tensor, _to_scalar)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad: accumulates :math:`s_t = s_{t-1} + g_t^2` (starting at
    ``initial_accumulator_value``) and steps by
    :math:`-\frac{lr}{1 + (t-1)\,\text{lr\_decay}}\; g_t / (\sqrt{s_t} + \epsilon)`.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adagrad([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        _check_fused(fused, foreach, differentiable)
        _check_nonneg("lr_decay", lr_decay)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("initial_accumulator_value", initial_accumulator_value)
        _check_nonneg("epsilon", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = chainrule.full_like(p, group["initial_accumulator_value"])

    _group_defaults = (("foreach", None), ("maximize", False), ("differentiable", False),
                       ("fused", None))

    def share_memory(self):
        """No-op kept for API compatibility (state lives in this process)."""

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                lr_decay, eps = group["lr_decay"], group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        self._init_state(p, group)
                    step_t, acc = state["step"], state["sum"]
                    step = step_t.add_(1).item()
                    g = _grad_of(p, group, lr)
                    clr = lr / (1 + (step - 1) * lr_decay)
                    _addcmul_(acc, g, g, 1)
                    _addcdiv_(p, g, acc.sqrt().add_(eps), -clr)
        return loss
