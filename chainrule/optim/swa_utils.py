"""Stochastic weight averaging (SWA) and EMA of model weights (torch.optim.swa_utils' API)."""
import itertools
import math
from copy import deepcopy

import chainrule
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.modules.module import Module
from chainrule.nn.modules.normalization import _BatchNorm

from .lr_scheduler import LRScheduler, _format_param

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn",
           "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def _is_inexact(t):
    return chainrule.is_floating_point(t) or chainrule.is_complex(t)


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place EMA update over lists: ``ema <- decay * ema + (1 - decay) * current``.

    >>> import chainrule
    >>> from chainrule.optim.swa_utils import get_ema_multi_avg_fn
    >>> ema, cur = [chainrule.tensor([0.0, 4.0])], [chainrule.tensor([2.0, 0.0])]
    >>> get_ema_multi_avg_fn(0.75)(ema, cur, 1)
    >>> ema[0]
    tensor([0.5000, 3.0000])
    """
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            if _is_inexact(ema_param_list[0]):
                for p_ema, p_cur in zip(ema_param_list, current_param_list):
                    p_ema.lerp_(p_cur, 1 - decay)
            else:
                for p_ema, p_cur in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_cur * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """An in-place equal-weight running average over lists (``num_averaged`` models so far).

    >>> import chainrule
    >>> from chainrule.optim.swa_utils import get_swa_multi_avg_fn
    >>> avg, cur = [chainrule.tensor([1.0, 2.0])], [chainrule.tensor([4.0, 8.0])]
    >>> get_swa_multi_avg_fn()(avg, cur, 2)
    >>> avg[0]
    tensor([2., 4.])
    """
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = int(num_averaged)
        with no_grad():
            if _is_inexact(averaged_param_list[0]):
                for p_avg, p_cur in zip(averaged_param_list, current_param_list):
                    p_avg.lerp_(p_cur, 1.0 / (n + 1))
            else:
                for p_avg, p_cur in zip(averaged_param_list, current_param_list):
                    p_avg.copy_(p_avg + (p_cur - p_avg) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An EMA update for one parameter, returning ``decay * ema + (1 - decay) * current``.

    >>> import chainrule
    >>> from chainrule.optim.swa_utils import get_ema_avg_fn
    >>> get_ema_avg_fn(0.5)(chainrule.tensor([0.0]), chainrule.tensor([2.0]), 3)
    tensor([1.])
    """
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """An equal-weight running average for one parameter, returning the new average.

    >>> import chainrule
    >>> from chainrule.optim.swa_utils import get_swa_avg_fn
    >>> get_swa_avg_fn()(chainrule.tensor([1.0]), chainrule.tensor([4.0]), 2)
    tensor([2.])
    """
    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` (as ``self.module``) whose weights are a running average (SWA by
    default, or ``avg_fn`` / ``multi_avg_fn`` such as EMA) of the models passed to
    ``update_parameters``; ``n_averaged`` counts them. With ``use_buffers=True`` buffers are
    averaged too, otherwise they are copied from the latest model.

    >>> import chainrule
    >>> net = chainrule.nn.Linear(1, 1, bias=False)
    >>> swa = chainrule.optim.swa_utils.AveragedModel(net)
    >>> for w in (1.0, 2.0, 6.0):
    ...     with chainrule.no_grad():
    ...         _ = net.weight.fill_(w)
    ...     swa.update_parameters(net)
    >>> swa.module.weight, swa.n_averaged
    (Parameter containing:
    tensor([[3.]], requires_grad=True), tensor(3))
    >>> list(swa.state_dict())
    ['n_averaged', 'module.weight']
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", chainrule.tensor(0, dtype=chainrule.long))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Call the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model):
        if self.use_buffers:
            return (itertools.chain(self.module.parameters(), self.module.buffers()),
                    itertools.chain(model.parameters(), model.buffers()))
        return self.module.parameters(), model.parameters()

    def update_parameters(self, model):
        """Fold ``model``'s current weights into the average (the first call copies them)."""
        mine, theirs = self._averaged_tensors(model)
        avg_list, cur_list = [], []
        with no_grad():
            first = int(self.n_averaged) == 0
            for p_avg, p_cur in zip(mine, theirs):
                p_avg, p_cur = p_avg.detach(), p_cur.detach()
                avg_list.append(p_avg)
                cur_list.append(p_cur)
                if first:
                    p_avg.copy_(p_cur)
            if not first:
                n = self.n_averaged.clone()
                if self.avg_fn is not None:
                    for p_avg, p_cur in zip(avg_list, cur_list):
                        p_avg.copy_(self.avg_fn(p_avg, p_cur, n))
                else:
                    for group in _group_by_dtype(avg_list, cur_list):
                        if self.multi_avg_fn is not None:
                            self.multi_avg_fn(group[0], group[1], n)
                        else:
                            swa = get_swa_avg_fn()
                            for p_avg, p_cur in zip(*group):
                                p_avg.copy_(swa(p_avg, p_cur, n))
            if not self.use_buffers:
                for b_avg, b_cur in zip(self.module.buffers(), model.buffers()):
                    b_avg.detach().copy_(b_cur.detach())
            self.n_averaged.add_(1)


def _group_by_dtype(avg_list, cur_list):
    groups = {}
    for a, c in zip(avg_list, cur_list):
        pair = groups.setdefault(a.dtype, ([], []))
        pair[0].append(a)
        pair[1].append(c)
    return list(groups.values())


def update_bn(loader, model, device=None):
    """Recompute every BatchNorm's running mean/variance with one pass over ``loader``
    (a cumulative average over its batches; a batch may be a tensor or a tuple/list whose
    first item is the input). Momenta and the training mode are restored afterwards.

    >>> import chainrule
    >>> net = chainrule.nn.BatchNorm1d(1)
    >>> loader = [(chainrule.tensor([[0.0], [2.0]]), 0), (chainrule.tensor([[4.0], [6.0]]), 1)]
    >>> chainrule.optim.swa_utils.update_bn(loader, net)
    >>> net.running_mean, net.running_var
    (tensor([3.]), tensor([2.]))
    """
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its ``swa_lr`` over ``anneal_epochs`` steps (``'cos'`` or
    ``'linear'``), then hold it there.

    >>> import chainrule
    >>> opt = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = chainrule.optim.swa_utils.SWALR(opt, swa_lr=0.5, anneal_epochs=2,
    ...                                         anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(3):
    ...     opt.step(); sched.step(); lrs.append(sched.get_last_lr()[0])
    >>> lrs
    [0.75, 0.5, 0.5]
    >>> sched.get_last_lr() == [g["swa_lr"] for g in opt.param_groups]
    True
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        # invert one annealing step to recover the lr it started from
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = (self._cosine_anneal if anneal_strategy == "cos"
                            else self._linear_anneal)

    def get_lr(self):
        """Interpolate from the current lr towards ``swa_lr`` by one annealing step."""
        self._warn_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / span)))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / span)))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def state_dict(self):
        """Every attribute except the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
