"""The one seam to the array library. chainrule runs on NumPy; every op reaches arrays through
NumPy's API so a CuPy-compatible module could be swapped in here later."""
import numpy as np

xp = np
name = "numpy"


def is_available(device_type):
    """Only the CPU backend exists today.

    >>> from chainrule import backend
    >>> backend.is_available("cpu"), backend.is_available("cuda")
    (True, False)
    """
    return device_type == "cpu"


def add_at(target, index, values):
    """target[index] += values with repeated indices accumulating (NumPy's ufunc.at)."""
    np.add.at(target, index, values)
