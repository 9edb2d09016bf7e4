"""Optimizer: parameter groups with per-group options, per-parameter state, state dicts and
step hooks. Written only against the public Tensor API (``.grad``, ``no_grad``, in-place
methods)."""
import functools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy
from itertools import chain

import chainrule
from chainrule import Tensor
from chainrule.autograd.function import _Version

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option that every parameter group must set."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class _Handle:
    """A handle whose ``remove()`` unregisters a hook."""
    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = _Handle._next_id
        _Handle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _scalar_dtype():
    """dtype of scalar state such as ``step`` (torch keeps these in the default float type)."""
    return chainrule.float64 if chainrule.get_default_dtype() == chainrule.float64 \
        else chainrule.float32


def _step_tensor(value=0.0):
    return chainrule.tensor(float(value), dtype=_scalar_dtype())


def _grad_of(p, group, lr):
    """p's gradient as the update sees it: negated under ``maximize``, with weight decay
    either added to it (L2) or applied to p directly (``decoupled_weight_decay``)."""
    g = -p.grad if group.get("maximize") else p.grad
    wd = group.get("weight_decay", 0)
    if wd != 0:
        if group.get("decoupled_weight_decay"):
            p.mul_(1 - lr * wd)
        else:
            g = g.add(p, alpha=wd)
    return g


def _to_scalar(x):
    return x.item() if isinstance(x, Tensor) else x


def _typename(obj):
    if isinstance(obj, Tensor):
        return "chainrule." + {"float32": "FloatTensor", "float64": "DoubleTensor",
                               "float16": "HalfTensor", "int64": "LongTensor",
                               "int32": "IntTensor", "int16": "ShortTensor",
                               "int8": "CharTensor", "uint8": "ByteTensor",
                               "bool": "BoolTensor"}[obj.dtype.name]
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


# -- update helpers (torch's addcmul_/addcdiv_/lerp_ written with existing ops) -----------------
def _addcmul_(t, a, b, value=1):
    """t += value * a * b"""
    return t.add_(a * b, alpha=value)


def _addcdiv_(t, a, b, value=1):
    """t += value * a / b"""
    return t.add_(a / b, alpha=value)


def _lerp_(t, end, weight):
    """t = t + weight * (end - t), in the form that is exact at weight 0 and 1."""
    if weight < 0.5:
        return t.add_(end - t, alpha=weight)
    return t.copy_(end - (end - t) * (1 - weight))


def _check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


# the flags torch's foreach/capturable optimizers (Adadelta, Adamax, ASGD, Rprop) fill into a
# loaded param group that lacks them
_FLAG_DEFAULTS = (("foreach", None), ("maximize", False), ("differentiable", False),
                  ("capturable", False))


def _check_fused(fused, foreach, differentiable):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_nonneg(name, value):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def _hooked(step):
    """Wrap a subclass's ``step`` so that step pre/post hooks run once around it."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        d = self.__dict__
        if d.get("_in_step"):
            return step(self, *args, **kwargs)
        pre, post = self._optimizer_step_pre_hooks, self._optimizer_step_post_hooks
        if pre:
            for hook in list(pre.values()):
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("optimizer step pre-hook must return None or a "
                                           f"tuple of (new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
        d["_opt_called"] = True
        d["_in_step"] = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            d["_in_step"] = False
        if post:
            for hook in list(post.values()):
                hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts that each
    define a parameter group (``{"params": [...], "lr": ...}``); options missing from a group
    take the optimizer's defaults. Subclasses implement ``step``.

    >>> import chainrule
    >>> w = chainrule.zeros(2, requires_grad=True)
    >>> b = chainrule.zeros(1, requires_grad=True)
    >>> opt = chainrule.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [g["lr"] for g in opt.param_groups]
    [0.1, 0.5]
    >>> opt.state_dict()["param_groups"][1]["params"]
    [1]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    # (key, value) pairs an unpickled optimizer's groups get when they lack them (state saved
    # by an older version)
    _group_defaults = ()

    def __setstate__(self, state):
        self.__dict__.update(state)
        for group in self.param_groups:
            for key, value in self._group_defaults:
                group.setdefault(key, value)

    def _stepped(self, group, *buffers, extra=()):
        """The group's parameters that have a gradient, each with its state and its step count
        after this step. A parameter's state is made on its first step: the step counter, then
        the ``extra`` (name, factory) entries, then the named zero ``buffers``."""
        states = self.state
        for p in group["params"]:
            if p.grad is None:
                continue
            state = states[p]
            if len(state) == 0:
                state["step"] = _step_tensor()
                for name, make in extra:
                    state[name] = make()
                for name in buffers:
                    state[name] = chainrule.zeros_like(p)
            yield p, state, state["step"].add_(1).item()

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- parameter groups ---------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters with its own options (others from ``defaults``).

        >>> import chainrule
        >>> opt = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": chainrule.zeros(2, requires_grad=True), "lr": 1.0})
        >>> len(opt.param_groups), opt.param_groups[1]["momentum"]
        (2, 0)
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable", None) and \
                    not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors (to None by default).

        >>> import chainrule
        >>> w = chainrule.ones(2, requires_grad=True); (w * w).sum().backward()
        >>> opt = chainrule.optim.SGD([w], lr=0.1)
        >>> opt.zero_grad(set_to_none=False); w.grad
        tensor([0., 0.])
        >>> opt.zero_grad(); w.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g._rg = False
                d = g._data
                if d.flags.writeable:     # zero_() without building an op: fill in place
                    d.fill(0)
                    vc = g._vc
                    if vc is None:
                        vc = g._vc = _Version()
                    vc.v += 1
                else:
                    g.zero_()

    def _run_closure(self, closure):
        if closure is None:
            return None
        with chainrule.enable_grad():
            return closure()

    def _grad_mode(self):
        """Grad mode for the update: off unless the optimizer is differentiable."""
        return chainrule.set_grad_enabled(bool(self.defaults.get("differentiable", False)))

    # -- state dicts --------------------------------------------------------------------------
    def state_dict(self):
        """The optimizer's state as ``{'state': {index: {...}}, 'param_groups': [...]}``,
        parameters replaced by their index in group order.

        >>> import chainrule
        >>> w = chainrule.ones(2, requires_grad=True)
        >>> opt = chainrule.optim.SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict(); list(sd["state"][0]), sd["param_groups"][0]["params"]
        (['momentum_buffer'], [0])
        """
        for hook in list(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        mapping = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        sd = {"state": state, "param_groups": groups}
        for hook in list(self._optimizer_state_dict_post_hooks.values()):
            res = hook(self, sd)
            if res is not None:
                sd = res
        return sd

    def load_state_dict(self, state_dict):
        """Load a state dict from ``state_dict()`` (groups and their sizes must match).

        >>> import chainrule
        >>> w = chainrule.ones(2, requires_grad=True)
        >>> a = chainrule.optim.Adam([w], lr=0.1); (w * w).sum().backward(); a.step()
        >>> b = chainrule.optim.Adam([w], lr=0.5); b.load_state_dict(a.state_dict())
        >>> b.param_groups[0]["lr"], float(b.state[w]["step"])
        (0.1, 1.0)
        """
        state_dict = dict(state_dict)
        for hook in list(self._optimizer_load_state_dict_pre_hooks.values()):
            res = hook(self, state_dict)
            if res is not None:
                state_dict = res
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def flags(pid):
            for g in state_dict["param_groups"]:
                if pid in g["params"]:
                    return g.get("fused", False) or g.get("capturable", False)
            raise AssertionError("Expected param_groups to be set")

        def cast(param, pid, value, key=None):
            # torch's policy: `.to` aliases when nothing changes; 'step' is kept as is
            # (unless fused/capturable); any other tensor takes a float param's dtype.
            if isinstance(value, Tensor):
                if key == "step":
                    return value.to(dtype=chainrule.float32) if flags(pid) else value
                return value.to(dtype=param.dtype) if param.is_floating_point() else value
            if isinstance(value, dict):
                return {k: cast(param, pid, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, pid, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], k, v)
            else:
                state[k] = v
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.__setstate__({"state": state, "param_groups": new_groups})
        for hook in list(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)

    # -- hooks --------------------------------------------------------------------------------
    def _register(self, hooks, hook, prepend=False):
        handle = _Handle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each ``step``; it may return
        ``(new_args, new_kwargs)``. Returns a handle with ``remove()``."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)
