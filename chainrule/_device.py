"""The device object. chainrule computes on the CPU (NumPy); other devices are refused."""


class _NoDevice(AssertionError, RuntimeError):
    """A device chainrule does not have. torch raises AssertionError for CUDA on a CPU-only
    build ("Torch not compiled with CUDA enabled") and RuntimeError for unknown devices: this
    is both, so either ``except`` catches it."""


# the device types torch's parser accepts (only 'cpu' can hold chainrule tensors)
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")


class device:
    """A device. Any of torch's device types can be named (so ``device("cuda")`` works, as on
    a CPU-only torch build), but only ``'cpu'`` holds tensors: placing one elsewhere raises.

    >>> import chainrule
    >>> chainrule.device("cpu")
    device(type='cpu')
    >>> chainrule.device("cuda", 1)
    device(type='cuda', index=1)
    """
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        elif not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({_typename(type)})")
        elif ":" in type:
            name, _, idx = type.partition(":")
            if name in _TYPES and (not idx.isdigit() or not idx.isascii()):
                raise RuntimeError(f"Invalid device string: '{type}'")
            type, index = name, int(idx) if idx.isdigit() else idx
        if type not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device(): argument 'index' must be int, not "
                                f"{_typename(index)}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type, self.index = type, index

    def __eq__(self, other):
        return (isinstance(other, device) and other.type == self.type
                and other.index == self.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


def _typename(x):
    return type(x).__name__


CPU = device("cpu")
_default = [None]      # set_default_device's choice (None: the CPU)


def check_device(d):
    if d is None:
        d = _default[0]
        if d is None:
            return CPU
        if d.split(":")[0] == "cuda":
            raise AssertionError("chainrule has no CUDA (the default device is "
                                 f"'{d}'): only 'cpu' is available")
    if d is CPU:
        return CPU
    dev = device(d)
    if dev.type != "cpu" or dev.index not in (None, 0):
        name = {"cuda": "CUDA", "xpu": "XPU", "hip": "HIP", "mps": "MPS"}.get(dev.type, dev.type)
        raise _NoDevice(f"chainrule has no '{dev}' device (like torch not compiled with {name} "
                        "enabled): only 'cpu' is available (the NumPy backend)")
    return dev
