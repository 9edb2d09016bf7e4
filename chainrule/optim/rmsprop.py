"""RMSprop, optionally centered and with momentum."""

from .optimizer import (_grad_of, Optimizer, _addcdiv_, _addcmul_, _check_lr, _check_nonneg,
                        _lerp_, _to_scalar)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: :math:`v_t = \alpha v_{t-1} + (1-\alpha) g_t^2`; the step is
    :math:`-lr\, g_t / (\sqrt{v_t} + \epsilon)`. ``centered`` subtracts the square of the
    running mean gradient from :math:`v_t`; ``momentum`` accumulates
    :math:`b_t = \mu b_{t-1} + g_t / (\sqrt{v_t} + \epsilon)` and steps by ``-lr * b_t``.

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonneg("epsilon", eps)
        _check_nonneg("momentum", momentum)
        _check_nonneg("weight_decay", weight_decay)
        _check_nonneg("alpha", alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    _group_defaults = (("momentum", 0), ("centered", False), ("foreach", None),
                       ("maximize", False), ("differentiable", False), ("capturable", False))

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = self._run_closure(closure)
        with self._grad_mode():
            for group in self.param_groups:
                lr = _to_scalar(group["lr"])
                alpha, eps = group["alpha"], group["eps"]
                momentum, centered = group["momentum"], group["centered"]
                buffers = (("square_avg",) + (("momentum_buffer",) if momentum > 0 else ())
                           + (("grad_avg",) if centered else ()))
                for p, state, _ in self._stepped(group, *buffers):
                    g = _grad_of(p, group, lr)
                    sq = state["square_avg"]
                    _addcmul_(sq.mul_(alpha), g, g, 1 - alpha)
                    if centered:
                        ga = state["grad_avg"]
                        _lerp_(ga, g, 1 - alpha)
                        avg = (sq - ga * ga).sqrt()
                    else:
                        avg = sq.sqrt()
                    avg = avg.add(eps)
                    if momentum > 0:
                        buf = state["momentum_buffer"]
                        _addcdiv_(buf.mul_(momentum), g, avg)
                        p.add_(buf, alpha=-lr)
                    else:
                        _addcdiv_(p, g, avg, -lr)
        return loss
