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


_ONES = {"f": {}, "d": {}}     # float32 / float64 ones vectors by length


def _ones(n, x):
    # NOTE: a BLAS product with a ones vector sums 2x faster than NumPy's reduction on small
    # arrays; it adds in order, so only short runs take it (NumPy's pairwise sum keeps long
    # float32 runs accurate). None: use NumPy's sum.
    cache = _ONES.get(x.dtype.char)
    if cache is None or n > 4096:
        return None
    ones = cache.get(n)
    if ones is None:
        if len(cache) > 64:
            cache.clear()
        ones = cache[n] = np.ones(n, x.dtype)
        ones.flags.writeable = False
    return ones


def col_sum(x):
    """Sum over the first axis of a 1-D or 2-D array."""
    cache = _ONES.get(x.dtype.char)
    ones = cache.get(x.shape[0]) if cache is not None else None     # _ones' hit, inline
    if ones is None:
        ones = _ones(x.shape[0], x)
    return x.sum(0) if ones is None else ones @ x


def row_sum(x):
    """Sum over the last axis of a 2-D array."""
    ones = _ones(x.shape[1], x)
    return x.sum(1) if ones is None else x @ ones


def add_at(target, index, values):
    """target[index] += values with repeated indices accumulating (NumPy's ufunc.at)."""
    np.add.at(target, index, values)


def as_strided(x, shape, strides, writeable=False):
    """A view of ``x`` with the given shape and byte strides (no copy). Read-only unless
    ``writeable``; the caller guarantees every index stays inside x's memory."""
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=writeable)


def sliding_window_view(x, window_shape, axis):
    """Windows of ``window_shape`` over ``axis`` as trailing dims (a read-only view)."""
    return np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=axis)


def _keep_freed_memory():
    # NOTE: glibc hands the top of the heap back to the OS as soon as 128 KiB lie free there,
    # and serves arrays above a (dynamic) size by fresh mmap. A training step frees and
    # reallocates the same few MiB every iteration, so each step page-faults all of them in
    # again: measured, that doubles the time of a small CNN step. Keeping freed memory in the
    # process (as jemalloc/tcmalloc do) removes the faults; arrays above 32 MiB still use mmap.
    # It is process-wide: set CHAINRULE_NO_MALLOPT=1 before importing chainrule to opt out.
    import ctypes
    import os
    import sys
    if not sys.platform.startswith("linux") or os.environ.get("CHAINRULE_NO_MALLOPT"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_trim_threshold, 256 << 20) and mallopt(m_mmap_threshold, 32 << 20))


_keep_freed_memory()


def ufunc_at(ufunc, target, index, values):
    """target[index] = ufunc(target[index], values), unbuffered (repeated indices combine)."""
    ufunc.at(target, index, values)
