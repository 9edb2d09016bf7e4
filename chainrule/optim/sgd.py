"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from .._tensor import Tensor
from ..autograd.function import _Version
from ..ops.elementwise import _float_const
from .optimizer import _grad_of, Optimizer, _check_fused, _check_lr, _to_scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum).

    With gradient :math:`g_t` (negated if ``maximize``, plus ``weight_decay * p``), momentum
    :math:`\mu` and dampening :math:`\tau`: :math:`b_1 = g_1`,
    :math:`b_t = \mu b_{t-1} + (1 - \tau) g_t`; the step is ``-lr * b_t`` (Nesterov:
    ``-lr * (g_t + mu * b_t)``).

    >>> import chainrule
    >>> w = chainrule.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = chainrule.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> w
    tensor([ 0.4600, -0.9200], requires_grad=True)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        _check_lr(lr)
        _check_fused(fused, foreach, differentiable)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    _group_defaults = (("nesterov", False), ("maximize", False), ("foreach", None),
                       ("differentiable", False), ("fused", False))

    def step(self, closure=None):
        """One update; returns the closure's loss when a closure is given."""
        loss = None if closure is None else self._run_closure(closure)
        arrays = not self.defaults.get("differentiable", False)
        state = self.state
        for group in self.param_groups:
            lr = _to_scalar(group["lr"])
            opts = (group["momentum"], group["dampening"], group["weight_decay"],
                    group["nesterov"], group["maximize"])
            # plain SGD, the common case, inline: p += g * -lr on the arrays
            plain = arrays and opts[0] == 0 and opts[2] == 0 and not opts[4] and lr != -1
            alpha = -float(lr)
            adt = ac = None
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if plain:
                    pd, gd = p._data, g._data
                    dt = pd.dtype
                    if gd.dtype is dt and gd.shape == pd.shape:
                        if dt is not adt:
                            adt, ac = dt, _float_const(alpha, dt)   # exact: see _float_const
                        try:
                            pd += gd * ac
                        except (ValueError, TypeError):
                            pass    # read-only or non-float: the Tensor path raises for it
                        else:
                            vc = p._vc
                            if vc is None:
                                vc = p._vc = _Version()
                            vc.v += 1
                            continue
                if not (arrays and _step_arrays(p, g, state, lr, *opts)):
                    with self._grad_mode():
                        _step_tensors(p, state, group, lr)
        return loss


def _step_arrays(p, g, state, lr, momentum, dampening, wd, nesterov, maximize):
    """The update done directly on NumPy arrays (nothing to record): the same operations, in
    the same order and dtype, as ``_step_tensors`` (whose in-place ops take this route too),
    without a Tensor per intermediate. False, having changed nothing, when an array does not
    qualify. (Python float factors keep float32 arithmetic in float32.)"""
    pd, gd = p._data, g._data
    dt = pd.dtype
    if gd.dtype != dt or gd.shape != pd.shape or dt.kind != "f" or not pd.flags.writeable:
        return False
    buf = None
    if momentum != 0:
        buf = state[p].get("momentum_buffer")
        if buf is not None:
            bd = buf._data
            if bd.dtype != dt or bd.shape != pd.shape or not bd.flags.writeable:
                return False
    if maximize:
        gd = -gd
    if wd != 0:
        gd = gd + pd * float(wd)
    if momentum != 0:
        momentum = float(momentum)
        if buf is None:
            bd = gd.copy() if gd is g._data else gd
            state[p]["momentum_buffer"] = Tensor._make(bd)
        else:
            bd *= momentum
            a = 1 - dampening
            bd += gd if a == 1 else gd * float(a)
            _bump(buf, 2)       # two in-place ops, as mul_ then add_
        gd = gd + bd * momentum if nesterov else bd
    pd += gd if lr == -1 else gd * -float(lr)
    vc = p._vc
    if vc is None:
        vc = p._vc = _Version()
    vc.v += 1
    return True


def _bump(t, n=1):
    vc = t._vc
    if vc is None:
        vc = t._vc = _Version()
    vc.v += n


def _step_tensors(p, state, group, lr):
    g = _grad_of(p, group, lr)
    momentum = group["momentum"]
    if momentum != 0:
        st = state[p]
        buf = st.get("momentum_buffer")
        if buf is None:
            buf = st["momentum_buffer"] = g.detach().clone()
        else:
            buf.mul_(momentum).add_(g, alpha=1 - group["dampening"])
        g = g.add(buf, alpha=momentum) if group["nesterov"] else buf
    p.add_(g, alpha=-lr)
