"""ASGD: SGD with an L2 decay of the parameter and a running (Polyak) average of the
iterates after step ``t0``."""
import chainrule

from .optimizer import (_FLAG_DEFAULTS, Optimizer, _check_lr, _check_nonneg, _scalar_dtype,
                        _to_scalar)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    r"""Averaged SGD: :math:`p \leftarrow p(1 - \lambda\eta) - \eta g` with
    :math:`\eta_t = lr / (1 + \lambda\, lr\, t)^{\alpha}`; ``state['ax']`` holds the average
    of the iterates, uniform from step ``t0`` on (``mu = 1 / max(1, t - t0)``).

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, chainrule.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_lr(lr)
        _check_nonneg("weight_decay", weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
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
                lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
                wd = group["weight_decay"]
                extra = (("eta", lambda: chainrule.tensor(lr, dtype=_scalar_dtype())),
                         ("mu", lambda: chainrule.tensor(1.0, dtype=_scalar_dtype())))
                for p, state, step in self._stepped(group, "ax", extra=extra):
                    g = -p.grad if group["maximize"] else p.grad
                    if wd != 0:
                        g = g.add(p, alpha=wd)
                    eta = state["eta"].item()
                    p.mul_(1 - lambd * eta)
                    p.add_(g, alpha=-eta)
                    ax, mu = state["ax"], state["mu"]
                    if mu.item() != 1:
                        ax.add_(p.sub(ax).mul_(mu))
                    else:
                        ax.copy_(p)
                    # NOTE: the new values pass through a default-dtype scalar, as in torch
                    state["eta"].copy_(chainrule.tensor(lr / ((1 + lambd * lr * step) ** alpha)))
                    state["mu"].copy_(chainrule.tensor(1 / max(1, step - t0)))
        return loss
