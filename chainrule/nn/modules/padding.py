"""Padding modules: constant (zero), reflection, replication and circular, in 1-3 dims."""
from .. import functional as F
from .module import Module
from .utils import _ntuple, _pair, _quadruple

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]

_sextuple = _ntuple(6, "_sextuple")
_TUPLES = {1: _pair, 2: _quadruple, 3: _sextuple}


class _ConstantPadNd(Module):
    _n = 0

    def __init__(self, padding, value):
        super().__init__()
        self.padding = _TUPLES[self._n](padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant: padding is an int or (left, right).

    >>> import chainrule
    >>> chainrule.nn.ConstantPad1d((1, 2), 9.0)(chainrule.zeros(1, 1))
    tensor([[9., 0., 9., 9.]])
    """
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims: (left, right, top, bottom).

    >>> import chainrule
    >>> chainrule.nn.ConstantPad2d(1, 0.5)(chainrule.zeros(1, 1, 1)).shape
    chainrule.Size([1, 3, 3])
    """
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims: (left, right, top, bottom, front, back).

    >>> import chainrule
    >>> chainrule.nn.ConstantPad3d(1, 0.0)(chainrule.zeros(1, 1, 1, 1)).shape
    chainrule.Size([1, 3, 3, 3])
    """
    _n = 3


class _ZeroPad:
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dim with zeros.

    >>> import chainrule
    >>> chainrule.nn.ZeroPad1d(1)(chainrule.ones(1, 2))
    tensor([[0., 1., 1., 0.]])
    """


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two dims with zeros.

    >>> import chainrule
    >>> chainrule.nn.ZeroPad2d((1, 0, 0, 1))(chainrule.ones(1, 1, 1))
    tensor([[[0., 1.],
             [0., 0.]]])
    """


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last three dims with zeros.

    >>> import chainrule
    >>> chainrule.nn.ZeroPad3d(1)(chainrule.ones(1, 1, 1, 1)).shape
    chainrule.Size([1, 3, 3, 3])
    """


class _ModePadNd(Module):
    _n = 0
    _mode = ""

    def __init__(self, padding):
        super().__init__()
        self.padding = _TUPLES[self._n](padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dim by reflecting the input at its edges (edge not repeated).

    >>> import chainrule
    >>> chainrule.nn.ReflectionPad1d(2)(chainrule.tensor([[[0.0, 1.0, 2.0]]]))
    tensor([[[2., 1., 0., 1., 2., 1., 0.]]])
    """
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Reflection padding of the last two dims.

    >>> import chainrule
    >>> chainrule.nn.ReflectionPad2d(1)(chainrule.ones(1, 1, 2, 2)).shape
    chainrule.Size([1, 1, 4, 4])
    """
    _n, _mode = 2, "reflect"


class ReflectionPad3d(_ModePadNd):
    """Reflection padding of the last three dims.

    >>> import chainrule
    >>> chainrule.nn.ReflectionPad3d(1)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 4, 4, 4])
    """
    _n, _mode = 3, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Pad the last dim by repeating the edge values.

    >>> import chainrule
    >>> chainrule.nn.ReplicationPad1d(1)(chainrule.tensor([[[1.0, 2.0]]]))
    tensor([[[1., 1., 2., 2.]]])
    """
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Replication padding of the last two dims.

    >>> import chainrule
    >>> chainrule.nn.ReplicationPad2d(1)(chainrule.ones(1, 1, 2, 2)).shape
    chainrule.Size([1, 1, 4, 4])
    """
    _n, _mode = 2, "replicate"


class ReplicationPad3d(_ModePadNd):
    """Replication padding of the last three dims.

    >>> import chainrule
    >>> chainrule.nn.ReplicationPad3d(1)(chainrule.ones(1, 1, 1, 1, 1)).shape
    chainrule.Size([1, 1, 3, 3, 3])
    """
    _n, _mode = 3, "replicate"


class _CircularPadNd(_ModePadNd):
    _mode = "circular"

    def forward(self, input):
        n = self._n
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim by wrapping around (periodic).

    >>> import chainrule
    >>> chainrule.nn.CircularPad1d(1)(chainrule.tensor([[[1.0, 2.0, 3.0]]]))
    tensor([[[3., 1., 2., 3., 1.]]])
    """
    _n = 1


class CircularPad2d(_CircularPadNd):
    """Circular padding of the last two dims.

    >>> import chainrule
    >>> chainrule.nn.CircularPad2d(1)(chainrule.ones(1, 1, 2, 2)).shape
    chainrule.Size([1, 1, 4, 4])
    """
    _n = 2


class CircularPad3d(_CircularPadNd):
    """Circular padding of the last three dims.

    >>> import chainrule
    >>> chainrule.nn.CircularPad3d(1)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 4, 4, 4])
    """
    _n = 3
