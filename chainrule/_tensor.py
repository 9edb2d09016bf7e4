"""Tensor: one NumPy array plus autograd metadata. Methods forward to the functions in
``chainrule.ops`` and ``chainrule.functional_ops``; no derivative math lives here."""
import copy

import numpy as np

from . import dtypes as _dt
from ._device import CPU, check_device
from .autograd import function as _fn
from .autograd.grad_mode import _mode
from ._methods import MIXINS

__all__ = ["Tensor"]

_new = object.__new__
_NP2DT = _dt._FROM_NP


class Tensor(*MIXINS):
    """An n-dimensional array that records the operations applied to it.

    >>> import chainrule
    >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward(); x.grad
    tensor([2., 4.])
    """
    __slots__ = ("_data", "_rg", "grad_fn", "_nr", "grad", "_vc", "__dict__", "__weakref__")
    __array_priority__ = 1000    # NumPy binary operators defer to ours
    _base = None
    _acc = None
    _hooks = None
    _post_hooks = None
    name = None

    def __init__(self, *args, dtype=None, device=None):
        check_device(device)
        d = (_dt.to_dtype(dtype) or _dt.get_default_dtype()).np
        if len(args) == 1 and isinstance(args[0], Tensor):
            arr = args[0]._data.copy()
        elif len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            arr = np.array(args[0], dtype=d)
        else:
            arr = np.empty(tuple(int(a) for a in args) if args else (0,), d)
        self._data, self._rg, self.grad_fn, self._nr, self.grad, self._vc = \
            arr, False, None, 0, None, None

    @staticmethod
    def _make(arr, rg=False, fn=None, nr=0):
        t = _new(Tensor)
        t._data = arr
        t._rg = rg
        t.grad_fn = fn
        t._nr = nr
        t.grad = None
        t._vc = None
        return t

    @staticmethod
    def _dtype_of(npd):
        return _NP2DT[npd]

    # -- attributes ---------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def dtype(self):
        return _NP2DT[self._data.dtype]

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def device(self):
        return CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "strided"

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        """Set whether autograd records operations on this leaf tensor; returns self.

        >>> import chainrule
        >>> chainrule.zeros(2).requires_grad_().requires_grad
        True
        """
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                                   "If you want to use a computed variable in a subgraph that "
                                   "doesn't require differentiation use var_no_grad = "
                                   "var.detach().")
            return self
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               f"gradients (got {self.dtype})")
        self._rg = bool(requires_grad)
        return self

    @property
    def data(self):
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def T(self):
        if self._data.ndim > 2:
            return self.permute(*range(self._data.ndim - 1, -1, -1))
        return self.t() if self._data.ndim == 2 else self

    @property
    def mT(self):
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T

    @property
    def mH(self):
        return self.mT

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def _version_value(self):
        return self._vc.v if self._vc is not None else 0

    @property
    def _version(self):
        return self._version_value()

    @property
    def is_floating_point_(self):
        return self._data.dtype.kind == "f"

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_complex(self):
        return False

    def size(self, dim=None):
        """The shape, or the size of one dimension.

        >>> import chainrule
        >>> chainrule.zeros(2, 3).size(1)
        3
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None):
        if memory_format is None:
            return self._data.flags.c_contiguous
        from ._memory_format import is_format
        return is_format(self._data, memory_format)

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def get_device(self):
        return -1

    def item(self):
        """The value of a one-element tensor as a Python number.

        >>> import chainrule
        >>> chainrule.tensor([2.5]).item()
        2.5
        """
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, force=False):
        """The underlying NumPy array (shares memory).

        >>> import chainrule
        >>> chainrule.ones(2).numpy()
        array([1., 1.], dtype=float32)
        """
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        d = self._data
        if type(d) is not np.ndarray:
            np.asarray(d)       # a vmap placeholder: raises its "not batchable" error
        return d

    def __array__(self, dtype=None, copy=None):
        a = self._data
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def detach(self):
        """A new tensor sharing memory (and the version counter) with no graph history.

        >>> import chainrule
        >>> chainrule.ones(1, requires_grad=True).detach().requires_grad
        False
        """
        t = Tensor._make(self._data)
        if self._vc is None:
            self._vc = _fn._Version()
        t._vc = self._vc
        return t

    def detach_(self):
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._rg = False
        return self

    def clone(self, memory_format=None):
        """A copy with its own memory that stays in the graph.

        >>> import chainrule
        >>> chainrule.tensor([1.0]).clone()
        tensor([1.])
        """
        out = (_OPS or _ops()).shape.clone(self)
        if memory_format is not None:
            from ._memory_format import relayout
            out._data = relayout(out._data, memory_format)   # a fresh copy: values the same
        return out

    def contiguous(self, memory_format=None):
        if memory_format is None:
            if self._data.flags.c_contiguous:
                return self
            return self.clone()
        from ._memory_format import is_format
        if is_format(self._data, memory_format):
            return self
        return self.clone(memory_format=memory_format)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward.

        >>> import chainrule
        >>> x = chainrule.ones(2, requires_grad=True); y = x * 2; y.retain_grad()
        >>> y.sum().backward(); y.grad
        tensor([1., 1.])
        """
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.__dict__.get("_retains"):
            return
        self.__dict__["_retains"] = True
        import weakref
        ref = weakref.ref(self)

        def hook(g):
            t = ref()
            if t is not None:
                if t.grad is None:
                    t.grad = g.detach() if not _mode.grad else g
                else:
                    t.grad = t.grad + g
        hook._retain = True
        node = self.grad_fn
        if node._tensor_hooks is None:
            node._tensor_hooks = {}
        node._has_hooks = True
        node._tensor_hooks.setdefault(self._nr, []).append(hook)

    @property
    def retains_grad(self):
        return bool(self.__dict__.get("_retains"))

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``.

        >>> import chainrule
        >>> x = chainrule.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> x.sum().backward(); x.grad
        tensor([10., 10.])
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._tensor_hooks is None:
                node._tensor_hooks = {}
            node._has_hooks = True
            hooks = node._tensor_hooks.setdefault(self._nr, [])
            # user hooks run before the retain_grad hook, as in torch
            pos = next((k for k, h in enumerate(hooks) if getattr(h, "_retain", False)),
                       len(hooks))
            hooks.insert(pos, hook)
            return _fn._Handle(hooks, hook)
        hooks.append(hook)
        return _fn._Handle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf each time a backward pass has accumulated its
        gradient into ``.grad`` (an optimizer can step the parameter right there). The hook
        returns None. Returns a handle with ``remove()``.

        >>> import chainrule
        >>> w = chainrule.ones(2, requires_grad=True)
        >>> h = w.register_post_accumulate_grad_hook(lambda t: print(t.grad))
        >>> (w * 3).sum().backward()
        tensor([3., 3.])
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._hooks is None:
            self._hooks = []    # not None: the engine's inline leaf path steps aside
        if self._post_hooks is None:
            self._post_hooks = []
        self._post_hooks.append(hook)
        return _fn._Handle(self._post_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (chain rule, reverse order).

        >>> import chainrule
        >>> x = chainrule.tensor(2.0, requires_grad=True)
        >>> (5 * x ** 2 + 3).backward(); x.grad
        tensor(20.)
        """
        d = self._data
        if gradient is None and not create_graph and inputs is None and d.size == 1 and \
                self.grad_fn is not None and d.dtype.kind == "f":
            # the common call, loss.backward(): no checks, a fresh copy of a cached seed
            key = (d.shape, d.dtype.char)
            seed = _SEEDS.get(key)
            if seed is None:
                seed = _SEEDS[key] = np.ones(d.shape, d.dtype)
            _backward_root(self, seed.copy(), bool(retain_graph))
            return
        _autograd().backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # -- conversion ---------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """Convert dtype and/or device: ``to(dtype)``, ``to(device)``, ``to(other)``.

        >>> import chainrule
        >>> chainrule.ones(1).to(chainrule.float64).dtype
        chainrule.float64
        """
        dtype = kwargs.get("dtype")
        device = kwargs.get("device")
        copy = kwargs.get("copy", False)
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, _dt.dtype) or a in (float, int, bool) or (
                    not isinstance(a, str) and hasattr(a, "itemsize")):
                dtype = a
            else:
                device = a
        if device is not None:
            check_device(device)
        fmt = kwargs.get("memory_format")
        if dtype is None or _dt.to_dtype(dtype).np == self._data.dtype:
            out = self.clone() if copy else self
        else:
            out = (_OPS or _ops()).elementwise.cast(self, _dt.to_dtype(dtype))
        if fmt is not None and not out.is_contiguous(memory_format=fmt):
            out = out.clone(memory_format=fmt) if out is self else out._relaid(fmt)
        return out

    def _relaid(self, fmt):
        """A fresh result given fmt's layout in place (values unchanged)."""
        from ._memory_format import relayout
        self._data = relayout(self._data, fmt)
        return self

    _TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor",
                   "float16": "HalfTensor", "int64": "LongTensor", "int32": "IntTensor",
                   "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                   "bool": "BoolTensor"}

    def type(self, dtype=None):
        """The type name (``chainrule.FloatTensor``), or a conversion to ``dtype``."""
        if dtype is None:
            return "chainrule." + self._TYPE_NAMES[self.dtype.name]
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def short(self):
        return self.to(_dt.int16)

    def char(self):
        return self.to(_dt.int8)

    def byte(self):
        return self.to(_dt.uint8)

    def bool(self):
        return self.to(_dt.bool)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        check_device("cuda")

    def pin_memory(self):
        return self

    def share_memory_(self):
        return self

    def is_shared(self):
        return False

    # -- Python protocol ----------------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        if not self._rg and not _mode.grad or not self._rg:
            return (Tensor._make(a) for a in self._data)
        return (self[i] for i in range(self._data.shape[0]))

    def _scalar(self, what):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._data.reshape(()).item()

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()).item())

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._data.reshape(()).item())

    def __complex__(self):
        return complex(self._scalar("complex"))

    __hash__ = object.__hash__

    def __repr__(self, *, tensor_contents=None):
        from ._print import tensor_repr
        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto):
        raise TypeError("chainrule tensors are not picklable: use chainrule.save (safetensors)")

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        cls = Tensor if type(self) is _View else type(self)     # a copy is nobody's view
        t = cls.__new__(cls)
        Tensor.__init__(t, self)
        t._rg = self._rg
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        # hooks and other attributes are copied too (a hook list is not shared), as torch
        t.__dict__.update(copy.deepcopy({k: v for k, v in self.__dict__.items()
                                         if k not in ("_acc", "_base", "_view_fn", "_gg")}, memo))
        memo[id(self)] = t
        return t

    # -- arithmetic operators -----------------------------------------------------------------
    def __add__(self, other):
        return _E._binary(_E.Add, self, other, "add")

    def __radd__(self, other):
        return _E.add(other, self)

    def __sub__(self, other):
        return _E.sub(self, other)

    def __rsub__(self, other):
        return _E.sub(other, self)

    def __mul__(self, other):
        return _E._binary(_E.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _E.mul(other, self)

    def __truediv__(self, other):
        return _E._binary(_E.Div, self, other, "div", True)

    def __rtruediv__(self, other):
        return _E.div(other, self)

    def __floordiv__(self, other):
        return _E.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _E.floor_divide(other, self)

    def __mod__(self, other):
        return _E.remainder(self, other)

    def __rmod__(self, other):
        return _E.remainder(other, self)

    def __pow__(self, other):
        return _E.pow(self, other)

    def __rpow__(self, other):
        return _E.pow(other, self)

    def __matmul__(self, other):
        return (_OPS or _ops()).linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return (_OPS or _ops()).linalg.matmul(other, self)

    def __neg__(self):
        return _E.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _E.abs(self)

    def __invert__(self):
        return _E.bitwise_not(self)

    def __and__(self, other):
        return _E.bitwise_and(self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _E.bitwise_or(self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _E.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __eq__(self, other):
        return _E.eq(self, other)

    def __ne__(self, other):
        return _E.ne(self, other)

    def __lt__(self, other):
        return _E.lt(self, other)

    def __le__(self, other):
        return _E.le(self, other)

    def __gt__(self, other):
        return _E.gt(self, other)

    def __ge__(self, other):
        return _E.ge(self, other)

    # in-place operators: x += y is x.add_(y)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    def __ifloordiv__(self, other):
        return (_OPS or _ops()).inplace.inplace(self, _E.floor_divide, other, name="floor_divide_")

    def __imod__(self, other):
        return (_OPS or _ops()).inplace.inplace(self, _E.remainder, other, name="remainder_")

    def __imatmul__(self, other):
        ops = _OPS or _ops()
        return ops.inplace.inplace(self, ops.linalg.matmul, other, name="matmul_")

    # -- indexing -----------------------------------------------------------------------------
    def __getitem__(self, idx):
        return (_OPS or _ops()).index.getitem(self, idx)

    def __setitem__(self, idx, value):
        (_OPS or _ops()).index.setitem(self, idx, value)

    # -- core methods (issue 2) ---------------------------------------------------------------
    def add(self, other, *, alpha=1):
        return _E.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return _E.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _E.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        return _E.div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def pow(self, exponent):
        return _E.pow(self, exponent)

    def neg(self):
        return _E.neg(self)

    negative = neg

    def abs(self):
        return _E.abs(self)

    absolute = abs

    def exp(self):
        return _E.exp(self)

    def log(self):
        return _E.log(self)

    def sqrt(self):
        return _E.sqrt(self)

    def sin(self):
        return _E.sin(self)

    def cos(self):
        return _E.cos(self)

    def tanh(self):
        return _E.tanh(self)

    def sigmoid(self):
        return _E.sigmoid(self)

    def relu(self):
        return _E.relu(self)

    def clamp(self, min=None, max=None):
        return _E.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return _E.maximum(self, other)

    def minimum(self, other):
        return _E.minimum(self, other)

    def floor_divide(self, other):
        return _E.floor_divide(self, other)

    def remainder(self, other):
        return _E.remainder(self, other)

    def eq(self, other):
        return _E.eq(self, other)

    def ne(self, other):
        return _E.ne(self, other)

    def lt(self, other):
        return _E.lt(self, other)

    def le(self, other):
        return _E.le(self, other)

    def gt(self, other):
        return _E.gt(self, other)

    def ge(self, other):
        return _E.ge(self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def logical_and(self, other):
        return _E.logical_and(self, other)

    def logical_or(self, other):
        return _E.logical_or(self, other)

    def logical_xor(self, other):
        return _E.logical_xor(self, other)

    def logical_not(self):
        return _E.logical_not(self)

    def equal(self, other):
        return _E.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _E.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return _E.isclose(self, other, rtol, atol, equal_nan)

    def where(self, condition, other):
        return _E.where(condition, self, other)

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return (_OPS or _ops()).reduce.sum(self, dim, keepdim, dtype=dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return (_OPS or _ops()).reduce.mean(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        return (_OPS or _ops()).reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return (_OPS or _ops()).reduce.min(self, dim, keepdim)

    def matmul(self, other):
        return (_OPS or _ops()).linalg.matmul(self, other)

    def mm(self, other):
        return (_OPS or _ops()).linalg.mm(self, other)

    def bmm(self, other):
        return (_OPS or _ops()).linalg.bmm(self, other)

    def mv(self, other):
        return (_OPS or _ops()).linalg.mv(self, other)

    def dot(self, other):
        return (_OPS or _ops()).linalg.dot(self, other)

    def reshape(self, *shape):
        return (_OPS or _ops()).shape.reshape(self, *shape)

    def view(self, *shape):
        if len(shape) == 1 and (isinstance(shape[0], _dt.dtype) or shape[0] in (float, int)):
            return (_OPS or _ops()).shape.view_dtype(self, shape[0])
        return (_OPS or _ops()).shape.view(self, *shape)

    def view_as(self, other):
        return (_OPS or _ops()).shape.view(self, other.shape)

    def reshape_as(self, other):
        return (_OPS or _ops()).shape.reshape(self, other.shape)

    def transpose(self, dim0, dim1):
        return (_OPS or _ops()).shape.transpose(self, dim0, dim1)

    def t(self):
        return (_OPS or _ops()).shape.t(self)

    def permute(self, *dims):
        return (_OPS or _ops()).shape.permute(self, *dims)

    def expand(self, *sizes):
        return (_OPS or _ops()).shape.expand(self, *sizes)

    def expand_as(self, other):
        return (_OPS or _ops()).shape.expand(self, other.shape)

    def squeeze(self, dim=None):
        return (_OPS or _ops()).shape.squeeze(self, dim)

    def unsqueeze(self, dim):
        return (_OPS or _ops()).shape.unsqueeze(self, dim)

    # in-place forms (torch's trailing underscore)
    def add_(self, other, *, alpha=1):
        return (_OPS or _ops()).inplace.inplace(self, _E.add, other, alpha=alpha, name="add_")

    def sub_(self, other, *, alpha=1):
        return (_OPS or _ops()).inplace.inplace(self, _E.sub, other, alpha=alpha, name="sub_")

    def mul_(self, other):
        return (_OPS or _ops()).inplace.inplace(self, _E.mul, other, name="mul_")

    def div_(self, other, *, rounding_mode=None):
        return (_OPS or _ops()).inplace.inplace(self, _E.div, other, rounding_mode=rounding_mode,
                                      name="div_")

    def pow_(self, other):
        return (_OPS or _ops()).inplace.inplace(self, _E.pow, other, name="pow_")

    def neg_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.neg, name="neg_")

    def abs_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.abs, name="abs_")

    def exp_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.exp, name="exp_")

    def log_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.log, name="log_")

    def sqrt_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.sqrt, name="sqrt_")

    def sin_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.sin, name="sin_")

    def cos_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.cos, name="cos_")

    def tanh_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.tanh, name="tanh_")

    def sigmoid_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.sigmoid, name="sigmoid_")

    def relu_(self):
        return (_OPS or _ops()).inplace.inplace(self, _E.relu, name="relu_")

    def clamp_(self, min=None, max=None):
        return (_OPS or _ops()).inplace.inplace(self, _E.clamp, min, max, name="clamp_")

    clip_ = clamp_

    def copy_(self, src, non_blocking=False):
        return (_OPS or _ops()).inplace.copy_(self, src)

    def zero_(self):
        return (_OPS or _ops()).inplace.fill_(self, 0)

    def fill_(self, value):
        return (_OPS or _ops()).inplace.fill_(self, value)









class Size(tuple):
    """A tensor's shape: a tuple of ints (``torch.Size``).

    >>> import chainrule
    >>> chainrule.zeros(2, 3).shape
    chainrule.Size([2, 3])
    """

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, k):
        r = tuple.__getitem__(self, k)
        return Size(r) if isinstance(k, slice) else r


def _wrap_dim(dim, ndim, op="op"):
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim % n if ndim else 0


_OPS = None


def _autograd():
    global _AUTOGRAD
    if _AUTOGRAD is None:
        from . import autograd
        _AUTOGRAD = autograd
    return _AUTOGRAD


_SEEDS = {}     # loss.backward()'s seed gradients (ones) by (shape, dtype)

_GF, _NR, _RG = Tensor.__dict__["grad_fn"], Tensor.__dict__["_nr"], Tensor.__dict__["_rg"]
_VC = Tensor.__dict__["_vc"]


def _rederive(v):
    """Give view v the history of its view function applied to its base's current history: a
    recorded in-place op through another view (or the base) changed the memory v shows."""
    d = v.__dict__
    d["_gg"] = v._vc.g
    vb = v._base
    vf = d.get("_view_fn")
    if vb is None or vf is None:
        return
    if vb._base is not None:    # the base was re-laid-out in place: its old layout is kept there
        vb = vb._base
    if not np.may_share_memory(vb._data, v._data):
        return
    prev = _mode.grad
    _mode.grad = True
    try:
        o = vf(vb)
    finally:
        _mode.grad = prev
    _GF.__set__(v, o.grad_fn)
    _NR.__set__(v, o._nr)
    _RG.__set__(v, o._rg)


class _View(Tensor):
    """A Tensor that shares memory with a base (ops.shape._as_view makes views this class).
    Reading its history first checks that no recorded in-place op changed the shared memory
    since the history was derived, and re-derives it if one did, as torch regenerates a view's
    grad_fn. The check costs an attribute look-up, and only views pay it."""
    __slots__ = ()

    @property
    def grad_fn(self):
        vc = self._vc
        if vc is not None and self.__dict__.get("_gg") != vc.g:
            _rederive(self)
        return _GF.__get__(self)

    @grad_fn.setter
    def grad_fn(self, fn):
        _GF.__set__(self, fn)
        try:
            self.__dict__["_gg"] = _VC.__get__(self).g
        except AttributeError:      # no version counter (yet): Tensor.__init__ sets it later
            pass

    @property
    def _nr(self):
        vc = self._vc
        if vc is not None and self.__dict__.get("_gg") != vc.g:
            _rederive(self)
        return _NR.__get__(self)

    @_nr.setter
    def _nr(self, nr):
        _NR.__set__(self, nr)

    @property
    def _rg(self):
        vc = self._vc
        if vc is not None and self.__dict__.get("_gg") != vc.g:
            _rederive(self)
        return _RG.__get__(self)

    @_rg.setter
    def _rg(self, rg):
        _RG.__set__(self, rg)


_View.__name__ = _View.__qualname__ = "Tensor"      # type(view) reads like torch's


def _backward_root(t, g, retain_graph):
    global _backward_root
    _backward_root = _autograd().engine.backward_root    # bound on first use
    _backward_root(t, g, retain_graph)


_AUTOGRAD = None


def _ops():
    global _OPS
    if _OPS is None:
        from . import ops
        _OPS = ops
    return _OPS


_fn.Tensor = Tensor
_E = None    # chainrule.ops.elementwise, bound on package import
