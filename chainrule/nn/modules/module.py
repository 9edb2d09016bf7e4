"""nn.Module: the base class of every layer. It registers parameters, buffers and submodules
assigned as attributes, walks them (parameters(), state_dict(), ...), converts them (to(),
float(), ...) and runs forward with hooks around it."""
import functools
import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ..._tensor import Tensor
from ... import dtypes as _dt
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ..parameter import Buffer, Parameter, is_lazy
from .utils import _tensor_typename

__all__ = ["Module", "RemovableHandle", "register_module_forward_pre_hook",
           "register_module_forward_hook", "register_module_full_backward_hook",
           "register_module_full_backward_pre_hook", "register_module_buffer_registration_hook",
           "register_module_module_registration_hook",
           "register_module_parameter_registration_hook"]

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys it could not match."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")

    __str__ = __repr__


class RemovableHandle:
    """Returned by the register_*_hook methods: ``remove()`` unregisters the hook; also a
    context manager.

    >>> import chainrule
    >>> m = chainrule.nn.Identity()
    >>> h = m.register_forward_hook(lambda mod, args, out: out * 2)
    >>> m(chainrule.ones(1))
    tensor([2.])
    >>> h.remove(); m(chainrule.ones(1))
    tensor([1.])
    """
    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        self.id = next(RemovableHandle._next_id)
        if extra_dict is None:
            extra_dict = ()
        elif isinstance(extra_dict, dict):
            extra_dict = (extra_dict,)
        self.extra_dicts = tuple(extra_dict)

    def remove(self):
        for d in (self.hooks_dict,) + self.extra_dicts:
            if isinstance(d, set):
                d.discard(self.id)
            else:
                d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# global hooks, applied to every module (torch.nn.modules.module.register_module_*)
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_always_called = {}
_global_backward_hooks = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_buffer_registration_hooks = OrderedDict()
_global_module_registration_hooks = OrderedDict()
_global_parameter_registration_hooks = OrderedDict()


def _register_global(store, hook):
    handle = RemovableHandle(store)
    store[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook):
    """Run ``hook(module, args)`` before every module's forward (a global hook).

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_forward_pre_hook(lambda m, a: None)
    >>> h.remove()
    """
    return _register_global(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook, *, always_call=False):
    """Run ``hook(module, args, output)`` after every module's forward (a global hook).

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_forward_hook(lambda m, a, o: None)
    >>> h.remove()
    """
    handle = _register_global(_global_forward_hooks, hook)
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_hook(hook):
    """Run ``hook(module, grad_input, grad_output)`` in every module's backward (global).

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_full_backward_hook(
    ...     lambda m, gi, go: None)
    >>> h.remove()
    """
    return _register_global(_global_backward_hooks, hook)


def register_module_full_backward_pre_hook(hook):
    """Run ``hook(module, grad_output)`` before every module's backward (global).

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_full_backward_pre_hook(
    ...     lambda m, go: None)
    >>> h.remove()
    """
    return _register_global(_global_backward_pre_hooks, hook)


def register_module_buffer_registration_hook(hook):
    """Run ``hook(module, name, buffer)`` whenever any module registers a buffer.

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_buffer_registration_hook(
    ...     lambda m, n, b: None)
    >>> h.remove()
    """
    return _register_global(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook):
    """Run ``hook(module, name, submodule)`` whenever any module registers a submodule.

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_module_registration_hook(
    ...     lambda m, n, s: None)
    >>> h.remove()
    """
    return _register_global(_global_module_registration_hooks, hook)


def register_module_parameter_registration_hook(hook):
    """Run ``hook(module, name, param)`` whenever any module registers a parameter.

    >>> import chainrule
    >>> h = chainrule.nn.modules.module.register_module_parameter_registration_hook(
    ...     lambda m, n, p: None)
    >>> h.remove()
    """
    return _register_global(_global_parameter_registration_hooks, hook)


def _addindent(s, n):
    """Indent every line of s but the first by n spaces."""
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    pad = " " * n
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _typename(obj):
    if isinstance(obj, Tensor):
        return _tensor_typename(obj)
    return type(obj).__name__


# -- full backward hooks --------------------------------------------------------------------
class _HookState:
    """Per-call state shared by the identity Functions wrapped around a module's inputs and
    outputs: the module's gradient w.r.t. its outputs is recorded on the way down, and the
    user hooks run once the gradients w.r.t. the inputs are known."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.n_inputs = 0
        self.input_index = None      # positions of the wrapped inputs (None: none wrapped)
        self.n_outputs = 0
        self.output_index = None
        self.grad_outputs = None

    @staticmethod
    def pack(index, values, n):
        res = [None] * n
        for i, v in zip(index, values):
            res[i] = v
        return tuple(res)

    def on_grad_outputs(self, grads):
        packed = self.pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            out = hook(self.module, packed)
            if out is None:
                continue
            out = out if isinstance(out, tuple) else (out,)
            if len(out) != len(packed):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(out)}, but expected {len(packed)}")
            packed = out
        self.grad_outputs = packed
        if self.input_index is None:
            # no input requires grad: the hooks run now, with grad_input all None
            if self.hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients "
                              "(grad_input is all None).")
            gin = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, gin, packed)
                if res is not None and not (isinstance(res, tuple) and
                                            all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(packed[i] for i in self.output_index)

    def on_grad_inputs(self, grads):
        packed = self.pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            out = hook(self.module, packed, self.grad_outputs)
            if out is None:
                continue
            out = out if isinstance(out, tuple) else (out,)
            if len(out) != len(packed):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(packed)}")
            packed = out
        self.grad_outputs = None
        return tuple(packed[i] for i in self.input_index)


class _InputHook(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.state.on_grad_inputs(grads)


class _OutputHook(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        ctx.set_materialize_grads(False)
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.state.on_grad_outputs(grads)


def _wrap_tensors(fn, state, values):
    """Route the Tensors in values (a tuple) through fn; returns (new values, their index)."""
    idx = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
    if not idx or not is_grad_enabled() or not any(values[i].requires_grad for i in idx):
        return values, None
    outs = fn.apply(state, *[values[i] for i in idx])
    res = list(values)
    for i, o in zip(idx, outs):
        res[i] = o
    return tuple(res), idx


# -- Module -----------------------------------------------------------------------------------
def _forward_unimplemented(self, *input):
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              '"forward" function')


class Module:
    """Base class of all layers. Subclasses set submodules, parameters and buffers as
    attributes in ``__init__`` and define ``forward``; calling the module runs forward (and
    any hooks).

    >>> import chainrule
    >>> class Net(chainrule.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = chainrule.nn.Linear(2, 1)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['fc.weight', 'fc.bias']
    >>> net
    Net(
      (fc): Linear(in_features=2, out_features=1, bias=True)
    )
    """
    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False
    _compiled_call_impl = None

    forward = _forward_unimplemented

    def __init__(self, *args, **kwargs):
        if self.call_super_init is False and bool(kwargs):
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                            f"argument '{next(iter(kwargs))}'")
        if self.call_super_init is False and bool(args):
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument "
                            f"but {len(args) + 1} were given")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_is_full_backward_hook"] = None
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_hooks_always_called"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_state_dict_hooks"] = OrderedDict()
        d["_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_post_hooks"] = OrderedDict()
        d["_modules"] = {}
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    # -- registration -----------------------------------------------------------------------
    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (e.g. BatchNorm's running_mean).
        Non-persistent buffers are left out of state_dict.

        >>> import chainrule
        >>> m = chainrule.nn.Module()
        >>> m.register_buffer("count", chainrule.zeros(1))
        >>> m.count
        tensor([0.])
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        for hook in _global_buffer_registration_hooks.values():
            out = hook(self, name, tensor)
            if out is not None:
                tensor = out
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Add a parameter (a ``Parameter`` or None) under ``name``.

        >>> import chainrule
        >>> m = chainrule.nn.Module()
        >>> m.register_parameter("w", chainrule.nn.Parameter(chainrule.zeros(2)))
        >>> [n for n, _ in m.named_parameters()]
        ['w']
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(torch.nn.Parameter or None required)")
        if param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as "
                             "a function of another Tensor, compute the value in the "
                             "forward() method.")
        for hook in _global_parameter_registration_hooks.values():
            out = hook(self, name, param)
            if out is not None:
                param = out
        self._parameters[name] = param

    def add_module(self, name, module):
        """Add a child module (or None) under ``name``.

        >>> import chainrule
        >>> m = chainrule.nn.Module()
        >>> m.add_module("act", chainrule.nn.ReLU())
        >>> m
        Module(
          (act): ReLU()
        )
        """
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        for hook in _global_module_registration_hooks.values():
            out = hook(self, name, module)
            if out is not None:
                module = out
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias of add_module.

        >>> import chainrule
        >>> m = chainrule.nn.Module(); m.register_module("fc", chainrule.nn.Linear(1, 1))
        >>> len(list(m.children()))
        1
        """
        self.add_module(name, module)

    # -- lookup -----------------------------------------------------------------------------
    def get_submodule(self, target):
        """The submodule at a dotted path ("" is self).

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.Sequential(chainrule.nn.ReLU()))
        >>> net.get_submodule("0.0")
        ReLU()
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def set_submodule(self, target, module, strict=False):
        """Replace (or, unless strict, add) the submodule at a dotted path.

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.ReLU())
        >>> net.set_submodule("0", chainrule.nn.Tanh()); net[0]
        Tanh()
        """
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        *path, last = target.split(".")
        parent = self.get_submodule(".".join(path))
        if not isinstance(module, Module):
            raise ValueError("`module` is not an nn.Module, found " + type(module).__name__)
        if strict and not hasattr(parent, last):
            raise AttributeError(parent._get_name() + " has no attribute `" + last + "`")
        if hasattr(parent, last) and not isinstance(getattr(parent, last), Module):
            raise AttributeError("`" + last + "` is not an nn.Module")
        setattr(parent, last, module)

    def _get_leaf(self, target, kind, store):
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        if name not in getattr(mod, store):
            raise AttributeError("`" + name + "` is not " + kind)
        return getattr(mod, name)

    def get_parameter(self, target):
        """The parameter at a dotted path such as ``"0.weight"``.

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.Linear(2, 3))
        >>> tuple(net.get_parameter("0.weight").shape)
        (3, 2)
        """
        return self._get_leaf(target, "an nn.Parameter", "_parameters")

    def get_buffer(self, target):
        """The buffer at a dotted path such as ``"0.running_mean"``.

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.BatchNorm1d(2))
        >>> net.get_buffer("0.running_var")
        tensor([1., 1.])
        """
        return self._get_leaf(target, "a buffer", "_buffers")

    def get_extra_state(self):
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    # -- conversion -------------------------------------------------------------------------
    def _apply(self, fn, recurse=True):
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                new = fn(param)
            param.data = new
            if param.grad is not None:
                with no_grad():
                    param.grad.data = fn(param.grad)
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def apply(self, fn):
        """Call fn on every submodule (children first) and then on self; returns self.

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.Linear(2, 2))
        >>> def init(m):
        ...     if isinstance(m, chainrule.nn.Linear):
        ...         chainrule.nn.init.zeros_(m.weight)
        >>> float(net.apply(init)[0].weight.abs().sum())
        0.0
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def cuda(self, device=None):
        from ..._device import check_device
        check_device("cuda")
        return self

    def ipu(self, device=None):
        return self.cuda(device)

    def xpu(self, device=None):
        return self.cuda(device)

    def mtia(self, device=None):
        return self.cuda(device)

    def cpu(self):
        return self

    def type(self, dst_type):
        """Cast all parameters and buffers to dst_type.

        >>> import chainrule
        >>> chainrule.nn.Linear(1, 1).type(chainrule.float64).weight.dtype
        chainrule.float64
        """
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        """Cast floating-point parameters and buffers to float32.

        >>> import chainrule
        >>> chainrule.nn.Linear(1, 1).double().float().weight.dtype
        chainrule.float32
        """
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        """Cast floating-point parameters and buffers to float64.

        >>> import chainrule
        >>> chainrule.nn.Linear(1, 1).double().bias.dtype
        chainrule.float64
        """
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        """Cast floating-point parameters and buffers to float16.

        >>> import chainrule
        >>> chainrule.nn.Linear(1, 1).half().weight.dtype
        chainrule.float16
        """
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self):
        raise TypeError("chainrule has no bfloat16 dtype (NumPy has none); use half() or "
                        "float()")

    def to_empty(self, *, device=None, recurse=True):
        import chainrule
        return self._apply(lambda t: chainrule.empty_like(t), recurse=recurse)

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers: ``to(dtype)``, ``to(device)``,
        ``to(tensor)``, ``to(device, dtype)``. Only floating-point tensors change dtype.

        >>> import chainrule
        >>> chainrule.nn.Linear(2, 2).to("cpu", chainrule.float64).weight.dtype
        chainrule.float64
        """
        from ..._device import check_device
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        if "tensor" in kwargs:
            args = args + (kwargs.pop("tensor"),)
        kwargs.pop("non_blocking", None)
        fmt = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"unexpected keyword {next(iter(kwargs))!r}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _dt.dtype):
                dtype = a
            elif isinstance(a, bool):
                continue
            else:
                device = a
        if device is not None:
            check_device(device)
        if dtype is not None:
            dtype = _dt.to_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={dtype}")

        def convert(t):
            if dtype is not None and t.is_floating_point():
                t = t.to(dtype)
            if fmt is not None and t.dim() in (4, 5):     # as torch: 4-D and 5-D tensors only
                t = t.contiguous(memory_format=fmt)
            return t
        return self._apply(convert)

    def share_memory(self):
        return self

    # -- hooks ------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Run ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with with_kwargs)
        before forward; a non-None result replaces the arguments.

        >>> import chainrule
        >>> m = chainrule.nn.Identity()
        >>> _ = m.register_forward_pre_hook(lambda mod, args: args[0] + 1)
        >>> m(chainrule.zeros(1))
        tensor([1.])
        """
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Run ``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``)
        after forward; a non-None result replaces the output.

        >>> import chainrule
        >>> m = chainrule.nn.Identity(); seen = []
        >>> _ = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
        >>> _ = m(chainrule.zeros(2)); seen
        [chainrule.Size([2])]
        """
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs,
                                             self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """Run ``hook(module, grad_input, grad_output)`` once the gradients w.r.t. the
        module's inputs are computed; a non-None result replaces grad_input.

        >>> import chainrule
        >>> m = chainrule.nn.Linear(2, 1); seen = []
        >>> _ = m.register_full_backward_hook(
        ...     lambda mod, gin, gout: seen.append(tuple(gout[0].shape)))
        >>> m(chainrule.ones(3, 2, requires_grad=True)).sum().backward(); seen
        [(3, 1)]
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError("Cannot use both regular backward hooks and full backward "
                               "hooks on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook):
        """Deprecated form of register_full_backward_hook (same hook signature); chainrule
        runs it with full-hook semantics.

        >>> import chainrule
        >>> h = chainrule.nn.Linear(1, 1).register_backward_hook(lambda m, gi, go: None)
        >>> h.remove()
        """
        if self._is_full_backward_hook is True:
            raise RuntimeError("Cannot use both regular backward hooks and full backward "
                               "hooks on a single Module. Please use only one of them.")
        self.__dict__["_is_full_backward_hook"] = False
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Run ``hook(module, grad_output)`` before the module's backward; a non-None result
        replaces grad_output.

        >>> import chainrule
        >>> m = chainrule.nn.Linear(2, 1)
        >>> _ = m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 0,))
        >>> x = chainrule.ones(1, 2, requires_grad=True)
        >>> m(x).sum().backward(); x.grad
        tensor([[0., 0.]])
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook):
        """Run ``hook(module, prefix, keep_vars)`` before state_dict collects this module.

        >>> import chainrule
        >>> h = chainrule.nn.Linear(1, 1).register_state_dict_pre_hook(lambda m, p, k: None)
        """
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook):
        """Run ``hook(module, state_dict, prefix, local_metadata)`` after state_dict collects
        this module.

        >>> import chainrule
        >>> h = chainrule.nn.Linear(1, 1).register_state_dict_post_hook(
        ...     lambda m, sd, p, md: None)
        """
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    _register_state_dict_hook = register_state_dict_post_hook

    def register_load_state_dict_pre_hook(self, hook):
        """Run ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its entries.

        >>> import chainrule
        >>> h = chainrule.nn.Linear(1, 1).register_load_state_dict_pre_hook(
        ...     lambda *args: None)
        """
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = functools.partial(hook, self)
        return handle

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = (functools.partial(hook, self)
                                                      if with_module else hook)
        return handle

    def register_load_state_dict_post_hook(self, hook):
        """Run ``hook(module, incompatible_keys)`` after load_state_dict; the hook may
        edit the key lists in place.

        >>> import chainrule
        >>> h = chainrule.nn.Linear(1, 1).register_load_state_dict_post_hook(
        ...     lambda m, keys: None)
        """
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    # -- call -------------------------------------------------------------------------------
    def _call_impl(self, *args, **kwargs):
        if not (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks
                or self._backward_pre_hooks or _global_forward_hooks
                or _global_forward_pre_hooks or _global_backward_hooks
                or _global_backward_pre_hooks):
            return self.forward(*args, **kwargs)
        called_always = set()
        try:
            for hid, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                             self._forward_pre_hooks.items()):
                if hid in self._forward_pre_hooks_with_kwargs:
                    res = hook(self, args, kwargs)
                    if res is not None:
                        if not (isinstance(res, tuple) and len(res) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple "
                                               f"of (new_args, new_kwargs), but got {res}.")
                        args, kwargs = res
                else:
                    res = hook(self, args)
                    if res is not None:
                        args = res if isinstance(res, tuple) else (res,)
            state = None
            bw_hooks = list(_global_backward_hooks.values()) + list(
                self._backward_hooks.values())
            bw_pre = list(_global_backward_pre_hooks.values()) + list(
                self._backward_pre_hooks.values())
            if bw_hooks or bw_pre:
                state = _HookState(self, bw_hooks, bw_pre)
                state.n_inputs = len(args)
                args, state.input_index = _wrap_tensors(_InputHook, state, args)
            result = self.forward(*args, **kwargs)
            for hid, hook in itertools.chain(_global_forward_hooks.items(),
                                             self._forward_hooks.items()):
                if hid in _global_forward_hooks_always_called or \
                        hid in self._forward_hooks_always_called:
                    called_always.add(hid)
                if hid in self._forward_hooks_with_kwargs:
                    res = hook(self, args, kwargs, result)
                else:
                    res = hook(self, args, result)
                if res is not None:
                    result = res
            if state is not None:
                result = self._wrap_outputs(state, result)
            return result
        except Exception:
            for hid, hook in itertools.chain(_global_forward_hooks.items(),
                                             self._forward_hooks.items()):
                always = (hid in _global_forward_hooks_always_called or
                          hid in self._forward_hooks_always_called)
                if always and hid not in called_always:
                    try:
                        if hid in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception as e:
                        warnings.warn("global module forward hook with ``always_call=True`` "
                                      f"raised an exception that was silenced as another "
                                      f"error was raised in forward: {e}")
            raise

    @staticmethod
    def _wrap_outputs(state, result):
        single = isinstance(result, Tensor)
        if not single and not isinstance(result, tuple):
            warnings.warn("For backward hooks to be called, module output should be a Tensor "
                          f"or a tuple of Tensors but received {type(result)}")
            return result
        outs = (result,) if single else result
        state.n_outputs = len(outs)
        outs, state.output_index = _wrap_tensors(_OutputHook, state, outs)
        return outs[0] if single else outs

    __call__ = _call_impl

    # -- attributes -------------------------------------------------------------------------
    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __getattr__(self, name):
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__

        def remove_from(*dicts_or_sets):
            for s in dicts_or_sets:
                if name in s:
                    if isinstance(s, dict):
                        del s[name]
                    else:
                        s.discard(name)

        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            for hook in _global_module_registration_hooks.values():
                out = hook(self, name, value)
                if out is not None:
                    value = out
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(torch.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(torch.nn.Buffer, torch.Tensor or None expected)")
            if isinstance(value, Buffer):
                persistent = value.__dict__.get("persistent", True)
            else:
                persistent = name not in self._non_persistent_buffers_set
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            remove_from(d, self._parameters, self._modules)
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del d["_parameters"][name]
        elif name in d.get("_buffers", ()):
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d.get("_modules", ()):
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        attrs = dir(self.__class__) + list(self.__dict__.keys()) + list(self._parameters) + \
            list(self._modules) + list(self._buffers)
        return sorted(a for a in set(attrs) if not a[:1].isdigit())

    # -- state dict -------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer, keyed by dotted name
        (detached unless keep_vars).

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.Linear(2, 3), chainrule.nn.BatchNorm1d(3))
        >>> list(net.state_dict())  # doctest: +NORMALIZE_WHITESPACE
        ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var',
         '1.num_batches_tracked']
        """
        if args:
            # torch's deprecated positional form: state_dict(destination, prefix, keep_vars)
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.state_dict for details.", FutureWarning,
                          stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, local_metadata)
            if res is not None:
                destination = res
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        local_state = {k: v for k, v in self._parameters.items() if v is not None}
        local_state.update({k: v for k, v in self._buffers.items()
                            if v is not None and k not in self._non_persistent_buffers_set})
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = _as_tensor_like(state_dict[key])
            if value is None:
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "torch.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(state_dict[key])}")
                continue
            lazy = is_lazy(param)
            if not lazy and param.dim() == 0 and value.dim() == 1 and value.numel() == 1:
                value = value[0]
            if not lazy and tuple(value.shape) != tuple(param.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape} from checkpoint, the shape in current model "
                                  f"is {param.shape}.")
                continue
            try:
                with no_grad():
                    if lazy:
                        param.materialize(tuple(value.shape), dtype=value.dtype)
                    if assign:
                        if isinstance(param, Parameter):
                            if not isinstance(value, Parameter):
                                value = Parameter(value, requires_grad=param.requires_grad)
                            else:
                                value.requires_grad_(param.requires_grad)
                        setattr(self, name, value)
                    else:
                        param.copy_(value)
            except Exception as ex:
                error_msgs.append(f'While copying the parameter named "{key}", whose '
                                  f"dimensions in the model are {param.size()} and whose "
                                  f"dimensions in the checkpoint are {value.size()}, an "
                                  f"exception occurred : {ex.args}.")
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix) and key != extra_key:
                    head = key[len(prefix):].split(".", 1)[0]
                    if head not in self._modules and head not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from state_dict into this module (and its children).
        With strict, missing or unexpected keys raise RuntimeError. Returns a named tuple of
        missing_keys and unexpected_keys. Values may be chainrule tensors, NumPy arrays or any
        array-like (e.g. torch tensors).

        >>> import chainrule
        >>> a, b = chainrule.nn.Linear(2, 2), chainrule.nn.Linear(2, 2)
        >>> b.load_state_dict(a.state_dict())
        <All keys matched successfully>
        >>> bool((a.weight == b.weight).all())
        True
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local, prefix, local_metadata, True, missing,
                                         unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    cp = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(cp)}, cp)
            keys = _IncompatibleKeys(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, keys) is not None:
                    raise RuntimeError("Hooks registered with "
                                       "``register_load_state_dict_post_hook`` are not "
                                       "expected to return new values, if incompatible_keys "
                                       "need to be modified, it should be done inplace.")

        load(self, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # -- iteration --------------------------------------------------------------------------
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for mod_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield mod_prefix + ("." if mod_prefix else "") + k, v

    def parameters(self, recurse=True):
        """Iterator over parameters (each once).

        >>> import chainrule
        >>> sum(p.numel() for p in chainrule.nn.Linear(3, 2).parameters())
        8
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Iterator over (dotted name, parameter).

        >>> import chainrule
        >>> [n for n, _ in chainrule.nn.Linear(3, 2).named_parameters(prefix="fc")]
        ['fc.weight', 'fc.bias']
        """
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse=True):
        """Iterator over buffers.

        >>> import chainrule
        >>> len(list(chainrule.nn.BatchNorm1d(2).buffers()))
        3
        """
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Iterator over (dotted name, buffer).

        >>> import chainrule
        >>> [n for n, _ in chainrule.nn.BatchNorm1d(2).named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
        """
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def children(self):
        """Iterator over the immediate child modules.

        >>> import chainrule
        >>> list(chainrule.nn.Sequential(chainrule.nn.ReLU(), chainrule.nn.Tanh()).children())
        [ReLU(), Tanh()]
        """
        for _, m in self.named_children():
            yield m

    def named_children(self):
        """Iterator over (name, immediate child module), each module once.

        >>> import chainrule
        >>> [n for n, _ in chainrule.nn.Sequential(chainrule.nn.ReLU()).named_children()]
        ['0']
        """
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def modules(self):
        """Iterator over all modules in the tree, self first.

        >>> import chainrule
        >>> len(list(chainrule.nn.Sequential(chainrule.nn.ReLU()).modules()))
        2
        """
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Iterator over (dotted name, module) for the whole tree, self first (name "").

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.Sequential(chainrule.nn.ReLU()))
        >>> [n for n, _ in net.named_modules()]
        ['', '0', '0.0']
        """
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    # -- modes ------------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) on the whole
        tree; returns self.

        >>> import chainrule
        >>> chainrule.nn.Sequential(chainrule.nn.Dropout()).train(False)[0].training
        False
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """train(False).

        >>> import chainrule
        >>> chainrule.nn.Linear(1, 1).eval().training
        False
        """
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter; returns self.

        >>> import chainrule
        >>> chainrule.nn.Linear(1, 1).requires_grad_(False).weight.requires_grad
        False
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient (to None, or to zeros in place).

        >>> import chainrule
        >>> m = chainrule.nn.Linear(1, 1); m(chainrule.ones(1)).sum().backward()
        >>> m.zero_grad(); m.weight.grad is None
        True
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    # -- printing ---------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """Extra text inside this module's repr parentheses (override in subclasses).

        >>> import chainrule
        >>> chainrule.nn.Linear(2, 3).extra_repr()
        'in_features=2, out_features=3, bias=True'
        """
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return self._get_name() + "(" + body + ")"

    def compile(self, *args, **kwargs):
        return None


def _as_tensor_like(value):
    """A chainrule Tensor from a checkpoint value (Tensor, ndarray or array-like), or None."""
    if isinstance(value, Tensor):
        return value
    if hasattr(value, "__array__") and hasattr(value, "shape"):
        import numpy as np
        import chainrule
        if hasattr(value, "detach"):
            value = value.detach()
        arr = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        return chainrule.from_numpy(np.array(arr))
    return None
