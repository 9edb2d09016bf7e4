"""The device object. chainrule computes on the CPU (NumPy); other devices are refused."""


class _NoDevice(AssertionError, RuntimeError):
    """A device chainrule does not have. torch raises AssertionError for CUDA on a CPU-only
    build ("Torch not compiled with CUDA enabled") and RuntimeError for unknown devices: this
    is both, so either ``except`` catches it."""


class device:
    """A device: only ``'cpu'`` is available.

    >>> import chainrule
    >>> chainrule.device("cpu")
    device(type='cpu')
    """
    __slots__ = ("type", "index")

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        if isinstance(type, str) and ":" in type:
            type, idx = type.split(":", 1)
            index = int(idx)
        if type != "cpu" or index not in (None, 0):
            where = type if index is None else f"{type}:{index}"
            raise _NoDevice(f"chainrule has no '{where}' device (like torch not compiled "
                            "with CUDA): only 'cpu' is available (the NumPy backend)")
        self.type, self.index = type, index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        return isinstance(other, device) and other.type == self.type

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __str__(self):
        return self.type


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
    return device(d)
