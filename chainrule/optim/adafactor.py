"""Adafactor: Adam-like steps with a factored (row x column) second-moment estimate for
matrices, a relative step size and update clipping."""
import chainrule

from .optimizer import Optimizer, _lerp_, _step_tensor, _to_scalar

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    r"""Adafactor (torch's variant, no first moment). For a parameter with >= 2 dims the
    squared-gradient average is kept as row and column means whose outer product (divided
    by the mean row value) estimates it; vectors keep it whole. The decay is
    :math:`1 - \beta_{2,t} = t^{\text{beta2\_decay}}`; the step is
    :math:`\max(\epsilon_2, \mathrm{RMS}(p))\cdot\min(lr, t^{-1/2})` times the
    RMS-clipped (threshold ``d``) update :math:`g / \sqrt{\hat v}`.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Adafactor([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w.detach()
    tensor([ 0.8419, -1.8419])
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, chainrule.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    _group_defaults = (("foreach", None), ("maximize", False))

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                eps1, eps2 = group["eps"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    self._update(p, group, lr, eps1, eps2)
        return loss

    def _update(self, p, group, lr, eps1, eps2):
        g = -p.grad if group["maximize"] else p.grad
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            if g.dim() > 1:
                state["row_var"] = chainrule.zeros(*g.shape[:-1], 1, dtype=g.dtype)
                state["col_var"] = chainrule.zeros(*g.shape[:-2], 1, g.shape[-1],
                                                   dtype=g.dtype)
            else:
                state["variance"] = chainrule.zeros_like(g)
        if eps1 is None:
            eps1 = chainrule.finfo(p.dtype).eps
        t = state["step"].add_(1).item()
        decay = t ** group["beta2_decay"]
        rho = min(lr, 1 / (t ** 0.5))
        alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho
        if group["weight_decay"] != 0:
            p.mul_(1 - lr * group["weight_decay"])
        if g.dim() > 1:
            row, col = state["row_var"], state["col_var"]
            _lerp_(row, chainrule.norm(g, dim=-1, keepdim=True).square() / g.size(-1), decay)
            _lerp_(col, chainrule.norm(g, dim=-2, keepdim=True).square() / g.size(-2), decay)
            var = (row @ col) / row.mean(dim=-2, keepdim=True).clamp(min=eps1)
        else:
            _lerp_(state["variance"], g * g, decay)
            var = state["variance"].clone()
        update = var.clamp(min=eps1 * eps1).rsqrt() * g
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * group["d"]))
        p.add_(update, alpha=-alpha / denom)
