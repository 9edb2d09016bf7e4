"""nn.Parameter (a Tensor a Module registers as learnable), nn.Buffer and the lazy
UninitializedParameter / UninitializedBuffer placeholders."""
import copy

from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"]


def _empty():
    import chainrule
    return chainrule.empty(0)


def _alias(cls, data):
    """A new instance of cls (a Tensor subclass) sharing data's memory."""
    t = Tensor.__new__(cls)
    Tensor.__init__(t, 0)          # a 0-element placeholder ...
    t.data = data                  # ... whose storage is then data's (shared, not copied)
    return t


class Parameter(Tensor):
    """A Tensor that, assigned as a Module attribute, is registered as a learnable parameter.
    It shares memory with ``data`` and requires grad by default.

    >>> import chainrule
    >>> p = chainrule.nn.Parameter(chainrule.ones(2))
    >>> p.requires_grad, isinstance(p, chainrule.Tensor)
    (True, True)
    >>> p
    Parameter containing:
    tensor([1., 1.], requires_grad=True)
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _empty()
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): argument 'data' must be Tensor, not "
                            f"{type(data).__name__}")
        t = _alias(cls, data)
        t.requires_grad_(requires_grad)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        out = type(self)(self.data.clone(), self.requires_grad)
        if self.grad is not None:
            out.grad = self.grad.clone()
        out.__dict__.update(copy.deepcopy({k: v for k, v in self.__dict__.items()
                                           if k not in ("_acc", "_base", "_view_fn", "_gg",
                                                        "_retains")}, memo))
        memo[id(self)] = out
        return out


class _BufferMeta(type):
    # isinstance(t, Buffer) is true for tensors created by Buffer(...)
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and bool(
                instance.__dict__.get("_is_buffer", False))
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor as a buffer: assigned as a Module attribute it is registered with
    ``register_buffer`` (persistent unless ``persistent=False``). Returns a plain Tensor.

    >>> import chainrule
    >>> m = chainrule.nn.Module()
    >>> m.stats = chainrule.nn.Buffer(chainrule.zeros(2))
    >>> list(m.state_dict())
    ['stats']
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _empty()
        t = data.detach()
        t.__dict__["_is_buffer"] = True
        t.__dict__["persistent"] = persistent
        return t


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (lazy modules); ``materialize`` gives it one.

    >>> import chainrule
    >>> p = chainrule.nn.UninitializedParameter()
    >>> p.materialize((2, 3)); type(p).__name__, tuple(p.shape)
    ('Parameter', (2, 3))
    """
    cls_to_become = Parameter

    def materialize(self, shape, device=None, dtype=None):
        import chainrule
        self.data = chainrule.empty(*shape, dtype=dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"

    def __deepcopy__(self, memo):
        out = type(self)(requires_grad=self.requires_grad)
        memo[id(self)] = out
        return out


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet (lazy modules).

    >>> import chainrule
    >>> b = chainrule.nn.UninitializedBuffer()
    >>> b.materialize((3,)); tuple(b.shape)
    (3,)
    """
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False):
        t = _alias(cls, _empty())
        t.requires_grad_(requires_grad)
        return t

    def __init__(self, requires_grad=False):
        pass

    def materialize(self, shape, device=None, dtype=None):
        import chainrule
        self.data = chainrule.empty(*shape, dtype=dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedBuffer>"


def is_lazy(param):
    """True for the placeholders of lazy modules (not yet materialized).

    >>> import chainrule
    >>> is_lazy(chainrule.nn.UninitializedParameter()), is_lazy(chainrule.ones(1))
    (True, False)
    """
    return isinstance(param, (UninitializedParameter, UninitializedBuffer))
