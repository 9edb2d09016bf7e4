"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import chain, islice

from ..._tensor import Tensor
from ...ops.nn_ops import linear_fast
from ..parameter import Parameter
from .activation import ReLU
from .linear import Linear
from .module import Module, _addindent
from .module import _global_backward_hooks as _gb, _global_backward_pre_hooks as _gbp
from .module import _global_forward_hooks as _gf, _global_forward_pre_hooks as _gfp
from .utils import _tensor_typename

_CALL = Module.__call__


def _plain_relu(m):
    return (type(m) is ReLU and not m.inplace and "forward" not in m.__dict__ and not (
                m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                or m._backward_pre_hooks))


# the fused Linear + ReLU step stands for these two forwards: a patched one (on the class or
# the instance) must run instead
_RELU_FORWARD, _LINEAR_FORWARD = ReLU.forward, Linear.forward

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]


def _abs_index(idx, n):
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range")
    return idx % n if n else idx


def _renumber(module):
    module.__dict__["_modules"] = {str(i): m for i, m in
                                   enumerate(module._modules.values())}


def _digit_filtered_dir(module):
    return [k for k in Module.__dir__(module) if not k.isdigit()]


class Sequential(Module):
    """Modules run one after another, each fed the previous one's output. Built from
    positional modules (named "0", "1", ...) or one OrderedDict of named modules.

    >>> import chainrule
    >>> net = chainrule.nn.Sequential(chainrule.nn.Linear(2, 3), chainrule.nn.ReLU())
    >>> net
    Sequential(
      (0): Linear(in_features=2, out_features=3, bias=True)
      (1): ReLU()
    )
    >>> net(chainrule.ones(4, 2)).shape
    chainrule.Size([4, 3])
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        k = _abs_index(idx, len(self._modules))
        return next(islice(self._modules.values(), k, None))

    def __setitem__(self, idx, module):
        k = _abs_index(idx, len(self._modules))
        setattr(self, next(islice(self._modules.keys(), k, None)), module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        if isinstance(idx, slice):
            for key in keys[idx]:
                delattr(self, key)
        else:
            delattr(self, keys[_abs_index(idx, len(keys))])
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __dir__(self):
        return _digit_filtered_dir(self)

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        out = Sequential()
        for layer in chain(self, other):
            out.append(layer)
        return out

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError("add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        n = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + n), module)
        return self

    def _repeat_check(self, other):
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and "
                            f"{type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")

    def __mul__(self, other):
        self._repeat_check(other)
        out = Sequential()
        k = 0
        for _ in range(other):
            for module in self:
                out.add_module(str(k), module)
                k += 1
        return out

    __rmul__ = __mul__

    def __imul__(self, other):
        self._repeat_check(other)
        mods = list(self)
        k = len(mods)
        for _ in range(other - 1):
            for module in mods:
                self.add_module(str(k), module)
                k += 1
        return self

    def pop(self, key):
        """Remove and return the module at index key.

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.ReLU(), chainrule.nn.Tanh())
        >>> net.pop(0), len(net)
        (ReLU(), 1)
        """
        v = self[key]
        del self[key]
        return v

    def append(self, module):
        """Add module at the end; returns self.

        >>> import chainrule
        >>> len(chainrule.nn.Sequential().append(chainrule.nn.ReLU()))
        1
        """
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        """Insert module before position index; returns self.

        >>> import chainrule
        >>> net = chainrule.nn.Sequential(chainrule.nn.ReLU())
        >>> net.insert(0, chainrule.nn.Tanh())[0]
        Tanh()
        """
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def extend(self, sequential):
        """Append every module of an iterable; returns self.

        >>> import chainrule
        >>> len(chainrule.nn.Sequential().extend([chainrule.nn.ReLU(), chainrule.nn.Tanh()]))
        2
        """
        for layer in sequential:
            self.append(layer)
        return self

    def forward(self, input):
        direct = not (_gf or _gfp or _gb or _gbp)
        fuse = Linear.forward is _LINEAR_FORWARD and ReLU.forward is _RELU_FORWARD
        mods = list(self._modules.values())
        i, n = 0, len(mods)
        while i < n:
            module = mods[i]
            i += 1
            # with no hook anywhere, calling a module runs exactly its forward: skip the call
            if not (direct and type(module).__call__ is _CALL and not (
                    module._forward_hooks or module._forward_pre_hooks
                    or module._backward_hooks or module._backward_pre_hooks)):
                input = module(input)
                continue
            if fuse and type(module) is Linear and "forward" not in module.__dict__:
                ps = module._parameters
                try:    # as Linear.forward
                    w, b = ps["weight"], ps["bias"]
                except KeyError:    # replaced by plain attributes (functional_call)
                    w, b = module.weight, module.bias
                relu = i < n and _plain_relu(mods[i])
                # Linear (then ReLU, as one node) without the forward's frame
                out = linear_fast(input, w, b, relu)
                if out is not None:
                    input = out
                    if relu:
                        i += 1
                    continue
            input = module.forward(input)
        return input


class ModuleList(Module):
    """A list of modules, registered as submodules (so their parameters are found).

    >>> import chainrule
    >>> layers = chainrule.nn.ModuleList([chainrule.nn.Linear(2, 2) for _ in range(3)])
    >>> len(list(layers.parameters()))
    6
    >>> layers
    ModuleList(
      (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
    )
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self += modules

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[str(_abs_index(idx, len(self._modules)))]

    def __setitem__(self, idx, module):
        setattr(self, str(_abs_index(idx, len(self._modules))), module)

    def __delitem__(self, idx):
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                delattr(self, str(k))
        else:
            delattr(self, str(_abs_index(idx, len(self._modules))))
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        out = ModuleList()
        for i, module in enumerate(chain(self, other)):
            out.add_module(str(i), module)
        return out

    def __dir__(self):
        return _digit_filtered_dir(self)

    def __repr__(self):
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        groups = []              # [start, end, repr] runs of identical reprs
        for i, r in enumerate(reprs):
            if groups and groups[-1][2] == r:
                groups[-1][1] = i
            else:
                groups.append([i, i, r])
        lines = []
        for start, end, r in groups:
            if start == end:
                line = f"({start}): {r}"
            else:
                line = f"({start}-{end}): {end - start + 1} x {r}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index, module):
        """Insert module before position index.

        >>> import chainrule
        >>> ml = chainrule.nn.ModuleList([chainrule.nn.ReLU()])
        >>> ml.insert(0, chainrule.nn.Tanh()); ml[0]
        Tanh()
        """
        for i in range(len(self._modules), index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def append(self, module):
        """Add module at the end; returns self.

        >>> import chainrule
        >>> len(chainrule.nn.ModuleList().append(chainrule.nn.ReLU()))
        1
        """
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key):
        """Remove and return the module at index key.

        >>> import chainrule
        >>> chainrule.nn.ModuleList([chainrule.nn.ReLU()]).pop(0)
        ReLU()
        """
        v = self[key]
        del self[key]
        return v

    def extend(self, modules):
        """Append every module of an iterable; returns self.

        >>> import chainrule
        >>> len(chainrule.nn.ModuleList().extend([chainrule.nn.ReLU()] * 2))
        2
        """
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got " +
                            type(modules).__name__)
        n = len(self)
        for i, module in enumerate(modules):
            self.add_module(str(n + i), module)
        return self


def _pairs(obj, modules, what):
    """Key/value pairs from a mapping or an iterable of pairs (torch's update rules)."""
    if not isinstance(modules, Iterable):
        raise TypeError(f"{what}.update should be called with an iterable of key/value pairs, "
                        f"but got {type(modules).__name__}")
    if isinstance(modules, (OrderedDict, type(obj), ModuleDict, ParameterDict)):
        return list(modules.items())
    if isinstance(modules, Mapping):
        return sorted(modules.items()) if what == "ParameterDict" else list(modules.items())
    out = []
    for j, m in enumerate(modules):
        if not isinstance(m, Iterable):
            raise TypeError(f"{what} update sequence element #{j} should be Iterable; is" +
                            type(m).__name__)
        m = list(m)
        if len(m) != 2:
            raise ValueError(f"{what} update sequence element #{j} has length {len(m)}; 2 "
                             "is required")
        out.append((m[0], m[1]))
    return out


class ModuleDict(Module):
    """A dict of modules, registered as submodules; keeps insertion order.

    >>> import chainrule
    >>> d = chainrule.nn.ModuleDict({"act": chainrule.nn.ReLU(), "fc": chainrule.nn.Linear(1, 1)})
    >>> list(d.keys()), "fc" in d
    (['act', 'fc'], True)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        """Remove and return the module under key.

        >>> import chainrule
        >>> chainrule.nn.ModuleDict({"a": chainrule.nn.ReLU()}).pop("a")
        ReLU()
        """
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Add modules from a mapping or an iterable of (key, module) pairs.

        >>> import chainrule
        >>> d = chainrule.nn.ModuleDict(); d.update([("a", chainrule.nn.ReLU())]); len(d)
        1
        """
        for key, module in _pairs(self, modules, "ModuleDict"):
            self[key] = module


def _param_str(p, typename=False):
    if isinstance(p, Tensor):
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        size = "x".join(str(s) for s in p.size())
        what = _tensor_typename(p) if typename else p.dtype
        return f"{kind} containing: [{what} of size {size}]"
    return "Object of type: " + type(p).__name__


class ParameterList(Module):
    """A list of parameters, registered on the module; plain tensors are wrapped in
    Parameter.

    >>> import chainrule
    >>> pl = chainrule.nn.ParameterList([chainrule.zeros(2, 3)])
    >>> pl
    ParameterList(  (0): Parameter containing: [chainrule.float32 of size 2x3])
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, str(_abs_index(idx, len(self))))

    def __setitem__(self, idx, param):
        idx = _abs_index(idx, len(self))
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, str(idx), param)

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return _digit_filtered_dir(self)

    def append(self, value):
        """Add a parameter (or any object) at the end; returns self.

        >>> import chainrule
        >>> len(chainrule.nn.ParameterList().append(chainrule.zeros(1)))
        1
        """
        n = len(self)
        self._size += 1
        self[n] = value
        return self

    def extend(self, values):
        """Append every value of an iterable; returns self.

        >>> import chainrule
        >>> len(chainrule.nn.ParameterList().extend([chainrule.zeros(1)] * 2))
        2
        """
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            + type(values).__name__)
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_param_str(p)}" for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters, registered on the module; plain tensors are wrapped in
    Parameter. Plain dicts are added in sorted key order (as torch does).

    >>> import chainrule
    >>> pd = chainrule.nn.ParameterDict({"b": chainrule.zeros(1), "a": chainrule.ones(2)})
    >>> list(pd.keys())
    ['a', 'b']
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key_to_attr(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}'). Open an issue on "
                            "github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key, value):
        attr = self._key_to_attr(key)
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, attr, value)

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def pop(self, key):
        """Remove and return the parameter under key.

        >>> import chainrule
        >>> chainrule.nn.ParameterDict({"a": chainrule.zeros(1)}).pop("a").shape
        chainrule.Size([1])
        """
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        k = list(self._keys)[-1]
        v = self[k]
        del self[k]
        return k, v

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters):
        """Add parameters from a mapping or an iterable of (key, value) pairs.

        >>> import chainrule
        >>> pd = chainrule.nn.ParameterDict(); pd.update([("w", chainrule.zeros(1))]); len(pd)
        1
        """
        for key, value in _pairs(self, parameters, "ParameterDict"):
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_param_str(p, True)}" for k, p in self.items())

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self
