"""``chainrule.cuda``: the CUDA namespace as a CPU-only torch build presents it.

chainrule computes with NumPy on the CPU, so there is no CUDA here. Each function behaves as
the same function of a torch build without CUDA: queries answer "none" (``is_available()`` is
False, ``device_count()`` 0, memory counters 0), seeding and cache calls do nothing, and calls
that need a device raise ``AssertionError('Torch not compiled with CUDA enabled')``. That lets
the usual ``"cuda" if chainrule.cuda.is_available() else "cpu"`` preamble run unchanged.

>>> import chainrule
>>> "cuda" if chainrule.cuda.is_available() else "cpu"
'cpu'
"""
import collections
import warnings

from . import _device

__all__ = ["is_available", "device_count", "is_initialized", "init", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "initial_seed", "synchronize", "empty_cache",
           "ipc_collect", "current_device", "get_device_name", "get_device_properties",
           "get_device_capability", "mem_get_info", "set_device", "device",
           "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "memory_cached", "memory_stats", "reset_peak_memory_stats",
           "reset_max_memory_allocated", "get_rng_state", "set_rng_state",
           "get_rng_state_all", "set_rng_state_all", "is_bf16_supported",
           "is_tf32_supported", "get_arch_list", "amp"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


def _lazy_init():
    raise AssertionError(_NO_CUDA)


def is_available():
    """False: chainrule has no CUDA device.

    >>> import chainrule
    >>> chainrule.cuda.is_available()
    False
    """
    return False


def device_count():
    """0: the number of CUDA devices chainrule can see.

    >>> import chainrule
    >>> chainrule.cuda.device_count()
    0
    """
    return 0


def is_initialized():
    """False: CUDA is never initialised in chainrule.

    >>> import chainrule
    >>> chainrule.cuda.is_initialized()
    False
    """
    return False


def init():
    """Raise AssertionError, as a CPU-only torch does: there is no CUDA to initialise.

    >>> import chainrule
    >>> chainrule.cuda.init()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def manual_seed(seed):
    """Do nothing (there is no CUDA generator); seed the CPU with ``chainrule.manual_seed``.

    >>> import chainrule
    >>> chainrule.cuda.manual_seed(0) is None
    True
    """
    int(seed)


def manual_seed_all(seed):
    """Do nothing (there are no CUDA generators).

    >>> import chainrule
    >>> chainrule.cuda.manual_seed_all(0) is None
    True
    """
    int(seed)


def seed():
    """Do nothing (there is no CUDA generator to seed randomly).

    >>> import chainrule
    >>> chainrule.cuda.seed() is None
    True
    """


def seed_all():
    """Do nothing (there are no CUDA generators to seed randomly).

    >>> import chainrule
    >>> chainrule.cuda.seed_all() is None
    True
    """


def initial_seed():
    """Raise AssertionError: there is no CUDA generator to ask.

    >>> import chainrule
    >>> chainrule.cuda.initial_seed()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def synchronize(device=None):
    """Raise AssertionError: there is no CUDA stream to wait for.

    >>> import chainrule
    >>> chainrule.cuda.synchronize()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def empty_cache():
    """Do nothing: chainrule keeps no CUDA cache.

    >>> import chainrule
    >>> chainrule.cuda.empty_cache() is None
    True
    """


def ipc_collect():
    """Raise AssertionError: there is no CUDA memory to collect.

    >>> import chainrule
    >>> chainrule.cuda.ipc_collect()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def current_device():
    """Raise AssertionError: there is no current CUDA device.

    >>> import chainrule
    >>> chainrule.cuda.current_device()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def get_device_name(device=None):
    """Raise AssertionError: there is no CUDA device to name.

    >>> import chainrule
    >>> chainrule.cuda.get_device_name()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def get_device_properties(device=None):
    """Raise AssertionError: there is no CUDA device to describe.

    >>> import chainrule
    >>> chainrule.cuda.get_device_properties()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def get_device_capability(device=None):
    """Raise AssertionError: there is no CUDA device to describe.

    >>> import chainrule
    >>> chainrule.cuda.get_device_capability()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def mem_get_info(device=None):
    """Raise AssertionError: there is no CUDA memory to report.

    >>> import chainrule
    >>> chainrule.cuda.mem_get_info()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def _index(d, optional=False):
    """The CUDA index named by d (an int, 'cuda:N', a device), as torch parses it."""
    if isinstance(d, _device.device):
        raise ValueError(f"Expected a cuda device, but got: {d}")
    if isinstance(d, str):
        typ, _, idx = d.partition(":")
        if typ != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {d}")
        if not idx:
            if optional:
                return -1
            raise ValueError("Expected a torch.device with a specified index or an integer, "
                             f"but got:{d}")
        return int(idx)
    if d is None and optional:
        return -1
    return d


def set_device(device):
    """Select a CUDA device: a negative index is ignored, any other raises AttributeError (as
    CPU-only torch does, which lacks the CUDA entry point); a non-CUDA device raises ValueError.

    >>> import chainrule
    >>> chainrule.cuda.set_device(-1) is None
    True
    """
    idx = _index(device)
    if idx >= 0:
        raise AttributeError("chainrule has no CUDA: cannot select CUDA device "
                             f"{idx} (compiled without CUDA)")


class device:
    """Context manager selecting a CUDA device: entering it with an index >= 0 raises
    RuntimeError (there is no CUDA); ``-1`` is accepted and does nothing.

    >>> import chainrule
    >>> with chainrule.cuda.device(-1):
    ...     pass
    >>> with chainrule.cuda.device(0):
    ...     pass
    Traceback (most recent call last):
    RuntimeError: PyTorch was compiled without CUDA support
    """

    def __init__(self, device):
        self.idx = _index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        raise RuntimeError("PyTorch was compiled without CUDA support")

    def __exit__(self, *exc):
        return False


def memory_allocated(device=None):
    """0: chainrule holds no CUDA memory.

    >>> import chainrule
    >>> chainrule.cuda.memory_allocated()
    0
    """
    return 0


def max_memory_allocated(device=None):
    """0: chainrule never held CUDA memory.

    >>> import chainrule
    >>> chainrule.cuda.max_memory_allocated()
    0
    """
    return 0


def memory_reserved(device=None):
    """0: chainrule reserves no CUDA memory.

    >>> import chainrule
    >>> chainrule.cuda.memory_reserved()
    0
    """
    return 0


def max_memory_reserved(device=None):
    """0: chainrule never reserved CUDA memory.

    >>> import chainrule
    >>> chainrule.cuda.max_memory_reserved()
    0
    """
    return 0


def memory_cached(device=None):
    """Deprecated name of :func:`memory_reserved` (warns FutureWarning, returns 0).

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     chainrule.cuda.memory_cached()
    0
    """
    warnings.warn("`torch.cuda.memory_cached` has been renamed to `torch.cuda.memory_reserved`",
                  FutureWarning, stacklevel=2)
    return memory_reserved(device)


def memory_stats(device=None):
    """An empty OrderedDict: there are no CUDA allocator statistics.

    >>> import chainrule
    >>> len(chainrule.cuda.memory_stats())
    0
    """
    return collections.OrderedDict()


def reset_peak_memory_stats(device=None):
    """Raise AttributeError, as CPU-only torch does (it lacks the CUDA entry point).

    >>> import chainrule
    >>> chainrule.cuda.reset_peak_memory_stats()
    Traceback (most recent call last):
    AttributeError: chainrule has no CUDA: no peak memory statistics to reset
    """
    raise AttributeError("chainrule has no CUDA: no peak memory statistics to reset")


def reset_max_memory_allocated(device=None):
    """Deprecated alias of :func:`reset_peak_memory_stats` (warns, then raises AttributeError).

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     chainrule.cuda.reset_max_memory_allocated()
    Traceback (most recent call last):
    AttributeError: chainrule has no CUDA: no peak memory statistics to reset
    """
    warnings.warn("torch.cuda.reset_max_memory_allocated now calls "
                  "torch.cuda.reset_peak_memory_stats, which resets /all/ peak memory stats.",
                  FutureWarning, stacklevel=2)
    return reset_peak_memory_stats(device)


def get_rng_state(device="cuda"):
    """Raise AssertionError: there is no CUDA generator.

    >>> import chainrule
    >>> chainrule.cuda.get_rng_state()
    Traceback (most recent call last):
    AssertionError: Torch not compiled with CUDA enabled
    """
    _lazy_init()


def set_rng_state(new_state, device="cuda"):
    """Do nothing (torch queues the call until CUDA initialises, which never happens here).

    >>> import chainrule
    >>> chainrule.cuda.set_rng_state(chainrule.get_rng_state()) is None
    True
    """


def get_rng_state_all():
    """An empty list: one state per CUDA device, and there are none.

    >>> import chainrule
    >>> chainrule.cuda.get_rng_state_all()
    []
    """
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states):
    """Do nothing (there are no CUDA generators).

    >>> import chainrule
    >>> chainrule.cuda.set_rng_state_all([]) is None
    True
    """
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def is_bf16_supported(including_emulation=True):
    """False: no CUDA device, so no CUDA bfloat16.

    >>> import chainrule
    >>> chainrule.cuda.is_bf16_supported()
    False
    """
    return False


def is_tf32_supported():
    """False: no CUDA device, so no TF32.

    >>> import chainrule
    >>> chainrule.cuda.is_tf32_supported()
    False
    """
    return False


def get_arch_list():
    """An empty list: chainrule is built for no CUDA architecture.

    >>> import chainrule
    >>> chainrule.cuda.get_arch_list()
    []
    """
    return []


from . import _cuda_amp as amp  # noqa: E402
