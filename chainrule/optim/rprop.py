"""Rprop: per-element step sizes grown or shrunk by the sign agreement of successive
gradients."""
import chainrule

from .optimizer import _FLAG_DEFAULTS, Optimizer, _check_lr, _step_tensor, _to_scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    r"""Resilient backpropagation: each element keeps its own step size, multiplied by
    ``etas[1]`` when the gradient keeps its sign and by ``etas[0]`` when it flips (then that
    element skips this update), clamped to ``step_sizes``; the parameter moves by
    :math:`-\mathrm{sign}(g)\cdot\mathrm{step}`.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.Rprop([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, chainrule.Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    _group_defaults = _FLAG_DEFAULTS

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                shrink, grow = group["etas"]
                lo, hi = group["step_sizes"]
                lr = _to_scalar(group["lr"])
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = _step_tensor()
                        state["prev"] = chainrule.zeros_like(p)
                        state["step_size"] = chainrule.full_like(p.grad, lr)
                    state["step"].add_(1)
                    g = -p.grad if group["maximize"] else p.grad
                    agree = (g * state["prev"]).sign()
                    factor = agree.clone()
                    factor[agree > 0] = grow
                    factor[agree < 0] = shrink
                    factor[agree == 0] = 1
                    size = state["step_size"]
                    size.mul_(factor).clamp_(lo, hi)
                    g = chainrule.where(agree < 0, chainrule.zeros_like(g), g)
                    p.addcmul_(g.sign(), size, value=-1)
                    state["prev"].copy_(g)
        return loss
