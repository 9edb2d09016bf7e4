"""Pooling modules: max, average, power-average and adaptive pooling in 1, 2 and 3 dims."""
from .. import functional as F
from .module import Module
from .utils import _single

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "LPPool1d", "LPPool2d", "LPPool3d",
           "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"]


class _MaxPoolNd(Module):
    _n = 0

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        pool = getattr(F, f"max_pool{self._n}d")
        return pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                    ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of (N, C, L) input.

    >>> import chainrule
    >>> chainrule.nn.MaxPool1d(2)(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[3., 2.]]])
    """
    _n = 1


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of (N, C, H, W) input (return_indices gives the argmax
    positions, flattened per plane).

    >>> import chainrule
    >>> chainrule.nn.MaxPool2d(2)(chainrule.ones(1, 1, 4, 4)).shape
    chainrule.Size([1, 1, 2, 2])
    """
    _n = 2


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of (N, C, D, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.MaxPool3d(2)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 1, 1, 1])
    """
    _n = 3


class _MaxUnpoolNd(Module):
    _n = 0

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n = self._n
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride if stride is not None else kernel_size, n)
        self.padding = _ntuple(padding, n)

    def forward(self, input, indices, output_size=None):
        unpool = getattr(F, f"max_unpool{self._n}d")
        return unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: puts each value at the position its index names (from
    MaxPool1d(return_indices=True)), zeros elsewhere; forward takes an optional output_size.

    >>> import chainrule
    >>> pool, unpool = chainrule.nn.MaxPool1d(2, return_indices=True), chainrule.nn.MaxUnpool1d(2)
    >>> unpool(*pool(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]])))
    tensor([[[0., 3., 2., 0.]]])
    """
    _n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d on (N, C, H, W) or (C, H, W) input.

    >>> import chainrule
    >>> pool, unpool = chainrule.nn.MaxPool2d(2, return_indices=True), chainrule.nn.MaxUnpool2d(2)
    >>> unpool(*pool(chainrule.ones(1, 1, 4, 4)), output_size=[5, 5]).shape
    chainrule.Size([1, 1, 5, 5])
    """
    _n = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d on (N, C, D, H, W) or (C, D, H, W) input.

    >>> import chainrule
    >>> pool, unpool = chainrule.nn.MaxPool3d(2, return_indices=True), chainrule.nn.MaxUnpool3d(2)
    >>> unpool(*pool(chainrule.ones(1, 1, 2, 2, 2))).sum()
    tensor(1.)
    """
    _n = 3


class AvgPool1d(Module):
    """Mean over sliding windows of (N, C, L) input.

    >>> import chainrule
    >>> chainrule.nn.AvgPool1d(2)(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[2., 1.]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    _n = 0

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        pool = getattr(F, f"avg_pool{self._n}d")
        return pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                    self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.AvgPool2d(2)(chainrule.ones(1, 1, 4, 4)).shape
    chainrule.Size([1, 1, 2, 2])
    """
    _n = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows of (N, C, D, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.AvgPool3d(2)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 1, 1, 1])
    """
    _n = 3


class _LPPoolNd(Module):
    _n = 0

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        pool = getattr(F, f"lp_pool{self._n}d")
        return pool(input, float(self.norm_type), self.kernel_size, self.stride,
                    self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling: (sum over the window of x^p)^(1/p), on (N, C, L) input.

    >>> import chainrule
    >>> chainrule.nn.LPPool1d(1, 2)(chainrule.tensor([[[1.0, 3.0]]]))
    tensor([[[4.]]])
    """
    _n = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling on (N, C, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.LPPool2d(2, 2)(chainrule.ones(1, 1, 2, 2))
    tensor([[[[2.]]]])
    """
    _n = 2


class LPPool3d(_LPPoolNd):
    """Power-average pooling on (N, C, D, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.LPPool3d(1, 2)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 1, 1, 1])
    """
    _n = 3


class _AdaptiveMaxPoolNd(Module):
    _n = 0

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        pool = getattr(F, f"adaptive_max_pool{self._n}d")
        return pool(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output length.

    >>> import chainrule
    >>> chainrule.nn.AdaptiveMaxPool1d(2)(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]))
    tensor([[[3., 2.]]])
    """
    _n = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size (H_out, W_out); None keeps that input size.

    >>> import chainrule
    >>> chainrule.nn.AdaptiveMaxPool2d((1, 2))(chainrule.ones(1, 1, 4, 4)).shape
    chainrule.Size([1, 1, 1, 2])
    """
    _n = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed output size (D, H, W).

    >>> import chainrule
    >>> chainrule.nn.AdaptiveMaxPool3d(1)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 1, 1, 1])
    """
    _n = 3


class _AdaptiveAvgPoolNd(Module):
    _n = 0

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return getattr(F, f"adaptive_avg_pool{self._n}d")(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output length.

    >>> import chainrule
    >>> chainrule.nn.AdaptiveAvgPool1d(1)(chainrule.tensor([[[1.0, 3.0]]]))
    tensor([[[2.]]])
    """
    _n = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output size; AdaptiveAvgPool2d(1) is global average
    pooling.

    >>> import chainrule
    >>> chainrule.nn.AdaptiveAvgPool2d(1)(chainrule.ones(2, 3, 5, 5)).shape
    chainrule.Size([2, 3, 1, 1])
    """
    _n = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output size (D, H, W).

    >>> import chainrule
    >>> chainrule.nn.AdaptiveAvgPool3d(1)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 1, 1, 1])
    """
    _n = 3
