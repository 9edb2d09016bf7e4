"""PixelShuffle, PixelUnshuffle, ChannelShuffle, Upsample, Fold, Unfold: shape
rearrangements and resampling."""
from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Upsample",
           "UpsamplingNearest2d", "UpsamplingBilinear2d", "Fold", "Unfold"]


class PixelShuffle(Module):
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r).

    >>> import chainrule
    >>> chainrule.nn.PixelShuffle(2)(chainrule.zeros(1, 8, 3, 3)).shape
    chainrule.Size([1, 2, 6, 6])
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W), the inverse of PixelShuffle.

    >>> import chainrule
    >>> chainrule.nn.PixelUnshuffle(2)(chainrule.zeros(1, 2, 6, 6)).shape
    chainrule.Size([1, 8, 3, 3])
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave the channels of groups (ShuffleNet).

    >>> import chainrule
    >>> x = chainrule.arange(4.0).reshape(1, 4, 1, 1)
    >>> chainrule.nn.ChannelShuffle(2)(x).flatten()
    tensor([0., 2., 1., 3.])
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"


class Upsample(Module):
    """Resample to size or by scale_factor with mode nearest, linear, bilinear, bicubic,
    trilinear or area.

    >>> import chainrule
    >>> up = chainrule.nn.Upsample(scale_factor=2)
    >>> up, up(chainrule.ones(1, 1, 2, 2)).shape
    (Upsample(scale_factor=2.0, mode='nearest'), chainrule.Size([1, 1, 4, 4]))
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """Upsample with mode='nearest'.

    >>> import chainrule
    >>> chainrule.nn.UpsamplingNearest2d(scale_factor=2)(chainrule.ones(1, 1, 1, 1)).shape
    chainrule.Size([1, 1, 2, 2])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Upsample with mode='bilinear', align_corners=True.

    >>> import chainrule
    >>> chainrule.nn.UpsamplingBilinear2d(size=3)(chainrule.ones(1, 1, 2, 2)).shape
    chainrule.Size([1, 1, 3, 3])
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class Fold(Module):
    """Sum sliding-window columns (N, C*prod(k), L) back into an image (col2im).

    >>> import chainrule
    >>> chainrule.nn.Fold((3, 3), 2)(chainrule.ones(1, 4, 4)).shape
    chainrule.Size([1, 1, 3, 3])
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extract sliding windows into columns (N, C*prod(k), L) (im2col).

    >>> import chainrule
    >>> chainrule.nn.Unfold(2)(chainrule.ones(1, 1, 3, 3)).shape
    chainrule.Size([1, 4, 4])
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
