"""Convolutions: Conv1d/2d/3d (padding modes zeros, reflect, replicate, circular),
ConvTranspose1d/2d/3d and their Lazy variants."""
import math

from ..._device import check_device
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedParameter
from .lazy import LazyModuleMixin
from .module import Module
from .utils import _pair, _reverse_repeat_tuple, _single, _triple

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    _n = 0
    _tuple = None

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        import chainrule
        super().__init__()
        check_device(device)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            # 'same': total dilation*(k-1), the odd element on the right (F.pad order)
            pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    pads[2 * i] = total // 2
                    pads[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = pads
        else:
            self._reversed_padding_repeated_twice = list(_reverse_repeat_tuple(padding, 2))
        if transposed:
            shape = (in_channels, out_channels // groups) + tuple(kernel_size)
        else:
            shape = (out_channels, in_channels // groups) + tuple(kernel_size)
        self.weight = Parameter(chainrule.empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(chainrule.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # weight ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) via kaiming_uniform_(a=sqrt(5))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        n = len(self.kernel_size)
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        t = self._tuple
        super().__init__(in_channels, out_channels, t(kernel_size), t(stride),
                         padding if isinstance(padding, str) else t(padding), t(dilation),
                         False, t(0), groups, bias, padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = getattr(F, f"conv{self._n}d")
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, self._tuple(0), self.dilation,
                        self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L) input (cross-correlation, as in torch).

    >>> import chainrule
    >>> chainrule.nn.Conv1d(2, 4, 3, padding=1)(chainrule.ones(1, 2, 5)).shape
    chainrule.Size([1, 4, 5])
    """
    _n, _tuple = 1, staticmethod(_single)


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W) input. padding may be an int, a pair, 'valid'
    or 'same'; padding_mode one of zeros, reflect, replicate, circular.

    >>> import chainrule
    >>> conv = chainrule.nn.Conv2d(3, 8, 3, stride=2, padding=1)
    >>> conv(chainrule.ones(1, 3, 8, 8)).shape
    chainrule.Size([1, 8, 4, 4])
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    """
    _n, _tuple = 2, staticmethod(_pair)


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.Conv3d(1, 2, 2)(chainrule.ones(1, 1, 3, 3, 3)).shape
    chainrule.Size([1, 2, 2, 2, 2])
    """
    _n, _tuple = 3, staticmethod(_triple)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{type(self).__name__}")
        t = self._tuple
        super().__init__(in_channels, out_channels, t(kernel_size), t(stride), t(padding),
                         t(dilation), True, t(output_padding), groups, bias, padding_mode,
                         device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims, dilation=None):
        if output_size is None:
            return _single(self.output_padding)
        has_batch = input.dim() == num_spatial_dims + 2
        lead = 2 if has_batch else 1
        output_size = list(output_size)
        if len(output_size) == num_spatial_dims + lead:
            output_size = output_size[lead:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, "
                             f"output_size must have {num_spatial_dims} or "
                             f"{num_spatial_dims + lead} elements (got {len(output_size)})")
        dilation = dilation if dilation is not None else (1,) * num_spatial_dims
        mins, maxs = [], []
        for d in range(num_spatial_dims):
            n = ((input.size(d + lead) - 1) * stride[d] - 2 * padding[d] +
                 dilation[d] * (kernel_size[d] - 1) + 1)
            mins.append(n)
            maxs.append(n + stride[d] - 1)
        for d in range(num_spatial_dims):
            if not mins[d] <= output_size[d] <= maxs[d]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {mins} to {maxs} (for an input of "
                                 f"{list(input.shape[lead:])})")
        return tuple(output_size[d] - mins[d] for d in range(num_spatial_dims))

    def forward(self, input, output_size=None):
        n = self._n
        op = self._output_padding(input, output_size, self.stride, self.padding,
                                  self.kernel_size, n, self.dilation)
        conv = getattr(F, f"conv_transpose{n}d")
        return conv(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                    self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (the gradient of Conv1d w.r.t. its input).

    >>> import chainrule
    >>> chainrule.nn.ConvTranspose1d(2, 1, 3, stride=2)(chainrule.ones(1, 2, 4)).shape
    chainrule.Size([1, 1, 9])
    """
    _n, _tuple = 1, staticmethod(_single)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution; ``forward(input, output_size)`` picks output_padding to
    reach output_size.

    >>> import chainrule
    >>> up = chainrule.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    >>> up(chainrule.ones(1, 4, 5, 5), output_size=(10, 10)).shape
    chainrule.Size([1, 2, 10, 10])
    """
    _n, _tuple = 2, staticmethod(_pair)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution.

    >>> import chainrule
    >>> chainrule.nn.ConvTranspose3d(1, 1, 2)(chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 3, 3, 3])
    """
    _n, _tuple = 3, staticmethod(_triple)


class _LazyConvMixin(LazyModuleMixin):
    def _init_lazy(self, bias, dtype):
        self.weight = UninitializedParameter()
        self._dtype = dtype
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            return
        with no_grad():
            batched = input.dim() == self._n + 2
            self.in_channels = input.shape[1] if batched else input.shape[0]
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            k = tuple(self.kernel_size)
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups) + k
            else:
                shape = (self.out_channels, self.in_channels // self.groups) + k
            dtype = self._dtype or input.dtype
            self.weight.materialize(shape, dtype=dtype)
            if self.bias is not None:
                self.bias.materialize((self.out_channels,), dtype=dtype)
            self.reset_parameters()


def _lazy_conv(base):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                      padding_mode, device, dtype)
        self.out_channels = out_channels
        self._init_lazy(bias, dtype)
        self._register_lazy_hooks()
    return __init__


def _lazy_conv_t(base):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups, False,
                      dilation, padding_mode, device, dtype)
        self.out_channels = out_channels
        self._init_lazy(bias, dtype)
        self._register_lazy_hooks()
    return __init__


class LazyConv1d(_LazyConvMixin, Conv1d):
    """Conv1d whose in_channels comes from the first input.

    >>> import chainrule
    >>> chainrule.nn.LazyConv1d(2, 3)(chainrule.ones(1, 4, 5)).shape
    chainrule.Size([1, 2, 3])
    """
    cls_to_become = Conv1d
    __init__ = _lazy_conv(Conv1d)


class LazyConv2d(_LazyConvMixin, Conv2d):
    """Conv2d whose in_channels comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyConv2d(2, 3)
    >>> m(chainrule.ones(1, 4, 5, 5)).shape, m.weight.shape
    (chainrule.Size([1, 2, 3, 3]), chainrule.Size([2, 4, 3, 3]))
    """
    cls_to_become = Conv2d
    __init__ = _lazy_conv(Conv2d)


class LazyConv3d(_LazyConvMixin, Conv3d):
    """Conv3d whose in_channels comes from the first input.

    >>> import chainrule
    >>> chainrule.nn.LazyConv3d(1, 2)(chainrule.ones(1, 2, 3, 3, 3)).shape
    chainrule.Size([1, 1, 2, 2, 2])
    """
    cls_to_become = Conv3d
    __init__ = _lazy_conv(Conv3d)


class LazyConvTranspose1d(_LazyConvMixin, ConvTranspose1d):
    """ConvTranspose1d whose in_channels comes from the first input.

    >>> import chainrule
    >>> chainrule.nn.LazyConvTranspose1d(1, 2)(chainrule.ones(1, 3, 4)).shape
    chainrule.Size([1, 1, 5])
    """
    cls_to_become = ConvTranspose1d
    __init__ = _lazy_conv_t(ConvTranspose1d)


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    """ConvTranspose2d whose in_channels comes from the first input.

    >>> import chainrule
    >>> chainrule.nn.LazyConvTranspose2d(1, 2)(chainrule.ones(1, 3, 4, 4)).shape
    chainrule.Size([1, 1, 5, 5])
    """
    cls_to_become = ConvTranspose2d
    __init__ = _lazy_conv_t(ConvTranspose2d)


class LazyConvTranspose3d(_LazyConvMixin, ConvTranspose3d):
    """ConvTranspose3d whose in_channels comes from the first input.

    >>> import chainrule
    >>> chainrule.nn.LazyConvTranspose3d(1, 2)(chainrule.ones(1, 3, 2, 2, 2)).shape
    chainrule.Size([1, 1, 3, 3, 3])
    """
    cls_to_become = ConvTranspose3d
    __init__ = _lazy_conv_t(ConvTranspose3d)
