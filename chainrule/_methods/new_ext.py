"""Tensor methods: the ``new_*`` factories (dtype from self unless given), the in-place view
ops (``t_``, ``squeeze_``, ``unsqueeze_``, ``transpose_``, ``resize_``...) and small queries.
Each forwards to chainrule._aliases or chainrule.ops."""
import warnings

import numpy as np


def _A():
    from .. import _aliases
    return _aliases


def _S():
    from ..ops import shape
    return shape


def _I():
    from ..ops import inplace
    return inplace


def _size_args(args, size, op):
    """new_zeros(2, 3), new_zeros((2, 3)) or new_zeros(size=(2, 3))."""
    if size is not None:
        if args:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        args = (size,)
    return _A()._ints(args, op)


class NewMethods:
    __slots__ = ()

    # -- factories ----------------------------------------------------------------------------
    def _new_filled(self, shape, fill, dtype, device, requires_grad):
        from .. import _runtime
        from .. import dtypes as _dt
        from .._device import check_device
        check_device(device if device is not None else "cpu")
        d = (_dt.to_dtype(dtype) or self.dtype).np
        _A()._check_sizes(shape)
        if fill is None:
            arr = _runtime._fill_uninitialized(np.empty(shape, d))
        else:
            arr = np.full(shape, fill, d)
        return _A()._finish(arr, requires_grad)

    def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad=False,
                  layout=None, pin_memory=False):
        """Zeros of the given size, with self's dtype unless ``dtype`` is given.

        >>> import chainrule
        >>> chainrule.tensor([1, 2]).new_zeros(2, 2)
        tensor([[0, 0],
                [0, 0]])
        """
        return self._new_filled(_size_args(args, size, "new_zeros"), 0, dtype, device,
                                requires_grad)

    def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad=False,
                 layout=None, pin_memory=False):
        """Ones of the given size, with self's dtype unless ``dtype`` is given.

        >>> import chainrule
        >>> chainrule.zeros(1, dtype=chainrule.float64).new_ones(2)
        tensor([1., 1.], dtype=chainrule.float64)
        """
        return self._new_filled(_size_args(args, size, "new_ones"), 1, dtype, device,
                                requires_grad)

    def new_empty(self, *args, size=None, dtype=None, device=None, requires_grad=False,
                  layout=None, pin_memory=False):
        """An uninitialised tensor of the given size, with self's dtype unless ``dtype``
        (NaN filled under ``use_deterministic_algorithms(True)``).

        >>> import chainrule
        >>> chainrule.zeros(1).new_empty(2, 3).shape
        chainrule.Size([2, 3])
        """
        return self._new_filled(_size_args(args, size, "new_empty"), None, dtype, device,
                         requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
                 layout=None, pin_memory=False):
        """``fill_value`` in a tensor of shape ``size`` (a sequence), with self's dtype unless
        ``dtype`` is given (the value is cast to it).

        >>> import chainrule
        >>> chainrule.tensor([1, 2]).new_full((2,), 3.7)
        tensor([3, 3])
        """
        if isinstance(size, (int, np.integer)):
            raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, "
                            f"not {type(size).__name__}")
        shape = _A()._ints((size,), "new_full")
        if isinstance(fill_value, _T()):
            fill_value = fill_value.item()
        return self._new_filled(shape, fill_value, dtype, device, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
                   pin_memory=False):
        """A new tensor holding a copy of ``data``, with self's dtype unless ``dtype`` is given.

        >>> import chainrule
        >>> chainrule.zeros(1).new_tensor([1, 2])
        tensor([1., 2.])
        """
        from ..creation import tensor
        T = _T()
        if isinstance(data, T):
            warnings.warn("To copy construct from a tensor, it is recommended to use "
                          "sourceTensor.detach().clone() or "
                          "sourceTensor.detach().clone().requires_grad_(True), rather than "
                          "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=2)
            data = data.detach()
        return tensor(data, dtype=dtype or self.dtype, device=device,
                      requires_grad=requires_grad)

    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False,
                          layout=None, pin_memory=False):
        """``empty_strided`` with self's dtype unless ``dtype`` is given.

        >>> import chainrule
        >>> chainrule.zeros(1).new_empty_strided((2, 2), (1, 2)).stride()
        (1, 2)
        """
        return _A().empty_strided(size, stride, dtype=dtype or self.dtype, device=device,
                                  requires_grad=requires_grad)

    # -- in-place view ops --------------------------------------------------------------------
    def squeeze_(self, dim=None):
        """``squeeze`` in place: self takes the new shape over the same memory.

        >>> import chainrule
        >>> x = chainrule.zeros(1, 3)
        >>> x.squeeze_() is x, x.shape
        (True, chainrule.Size([3]))
        """
        return _I().inplace_view(self, _S().squeeze, dim)

    def unsqueeze_(self, dim):
        """``unsqueeze`` in place.

        >>> import chainrule
        >>> x = chainrule.zeros(3); x.unsqueeze_(0).shape
        chainrule.Size([1, 3])
        """
        return _I().inplace_view(self, _S().unsqueeze, dim)

    def transpose_(self, dim0, dim1):
        """``transpose`` in place.

        >>> import chainrule
        >>> x = chainrule.zeros(2, 3); x.transpose_(0, 1).shape
        chainrule.Size([3, 2])
        """
        return _I().inplace_view(self, _S().transpose, dim0, dim1)

    def swapdims_(self, dim0, dim1):
        """``transpose_``.

        >>> import chainrule
        >>> chainrule.zeros(2, 3).swapdims_(0, 1).shape
        chainrule.Size([3, 2])
        """
        return _I().inplace_view(self, _S().transpose, dim0, dim1)

    def swapaxes_(self, axis0, axis1):
        """``transpose_``.

        >>> import chainrule
        >>> chainrule.zeros(2, 3).swapaxes_(0, 1).shape
        chainrule.Size([3, 2])
        """
        return _I().inplace_view(self, _S().transpose, axis0, axis1)

    def t_(self):
        """``t`` in place (tensors with at most 2 dims).

        >>> import chainrule
        >>> chainrule.zeros(2, 3).t_().shape
        chainrule.Size([3, 2])
        """
        nd = self._data.ndim
        if nd > 2:
            raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {nd}D")
        return _I().inplace_view(self, _S().transpose, 0, 1 if nd == 2 else 0)

    def resize_(self, *sizes, memory_format=None):
        """Give self the shape ``sizes`` over its memory read in order: a prefix of the same
        memory when it is one dense block large enough, else new memory holding the old
        elements first and uninitialised ones after (NaN under
        ``use_deterministic_algorithms(True)``). Refused on tensors that require grad.

        >>> import chainrule
        >>> chainrule.arange(6).resize_(2, 2)
        tensor([[0, 1],
                [2, 3]])
        """
        shape = _A()._ints(sizes, "resize_")
        for s in shape:
            if s < 0:
                raise RuntimeError(f"resize_: Trying to resize to a negative dimension {s}: "
                                   f"{list(shape)}")
        return _I().resize_(self, shape)

    def resize_as_(self, the_template, *, memory_format=None):
        """``resize_`` to the shape of ``the_template``.

        >>> import chainrule
        >>> chainrule.arange(6).resize_as_(chainrule.zeros(3)).tolist()
        [0, 1, 2]
        """
        _A()._need_tensor(the_template, "resize_as_", "the_template")
        return _I().resize_(self, the_template._data.shape)

    # -- forwards to chainrule._aliases -------------------------------------------------------
    def split_with_sizes(self, split_sizes, dim=0):
        return _A().split_with_sizes(self, split_sizes, dim)

    def unsafe_split_with_sizes(self, split_sizes, dim=0):
        return _A().unsafe_split_with_sizes(self, split_sizes, dim)

    def unsafe_split(self, split_size, dim=0):
        return _A().unsafe_split(self, split_size, dim)

    def unsafe_chunk(self, chunks, dim=0):
        return _A().unsafe_chunk(self, chunks, dim)

    def is_nonzero(self):
        return _A().is_nonzero(self)

    def is_same_size(self, other):
        return _A().is_same_size(self, other)

    def isreal(self):
        return _A().isreal(self)

    def adjoint(self):
        return _A().adjoint(self)


def _T():
    from .._tensor import Tensor
    return Tensor
