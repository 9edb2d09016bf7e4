"""Memory formats (torch.memory_format). chainrule keeps NumPy's strides, so channels_last lays
a 4-D (N, C, H, W) tensor out as NHWC in memory: same shape, same values, other strides."""
import numpy as np

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format"]


class memory_format:
    """A memory layout name.

    >>> import chainrule
    >>> x = chainrule.ones(1, 2, 3, 4).contiguous(memory_format=chainrule.channels_last)
    >>> x.stride(), x.is_contiguous(memory_format=chainrule.channels_last)
    ((24, 1, 8, 2), True)
    """
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "chainrule." + self.name

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# the dims in memory order for the channels-last formats (the channel dim moves last)
_ORDER = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def _check(fmt):
    if fmt is not None and not isinstance(fmt, memory_format):
        raise TypeError(f"memory_format must be a chainrule.memory_format, not "
                        f"{type(fmt).__name__}")


def is_format(arr, fmt):
    """Whether arr is laid out in memory as fmt says."""
    _check(fmt)
    if fmt is None or fmt is contiguous_format or fmt is preserve_format:
        return arr.flags.c_contiguous
    order = _ORDER[fmt]
    return arr.ndim == len(order) and arr.transpose(order).flags.c_contiguous


def relayout(arr, fmt):
    """arr in fmt's memory layout: arr itself when it already is, else a copy."""
    _check(fmt)
    if fmt is None or fmt is preserve_format:
        return arr
    if fmt is contiguous_format:
        return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
    order = _ORDER[fmt]
    if arr.ndim != len(order):
        raise RuntimeError(f"required rank {len(order)} tensor to use {fmt.name} format")
    if arr.transpose(order).flags.c_contiguous:
        return arr
    return np.ascontiguousarray(arr.transpose(order)).transpose(np.argsort(order))
