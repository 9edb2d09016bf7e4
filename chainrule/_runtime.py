"""Process-wide switches torch keeps at top level: thread counts, deterministic mode, the default
device, anomaly mode, float32 matmul precision, warn-always. Each docstring says what the switch
controls in chainrule; a switch with nothing to control in a NumPy backend says so."""
import os
import warnings

import numpy as np

from . import _device
from .autograd import anomaly_mode as _am

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_deterministic_debug_mode", "get_deterministic_debug_mode", "set_default_device",
           "get_default_device", "is_anomaly_enabled", "set_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "set_warn_always", "is_warn_always_enabled",
           "set_flush_denormal"]

_state = {"threads": None, "interop": None, "det": False, "det_warn": False,
          "matmul": "highest", "warn_always": False}


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _int_arg(n, op):
    if type(n) is not int and not isinstance(n, np.integer):
        raise RuntimeError(f"{op} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{op} expects a positive integer")
    return int(n)


# -- NumPy's BLAS threads (OpenBLAS, found through ctypes; no extra dependency) ---------------
_BLAS = []


def _openblas():
    """(set, get) thread functions of the OpenBLAS that NumPy uses, or None if not found."""
    if _BLAS:
        return _BLAS[0]
    import ctypes
    import glob
    here = os.path.dirname(np.__file__)
    paths = []
    for d in (os.path.join(here, os.pardir, "numpy.libs"), os.path.join(here, ".libs"),
              os.path.join(here, ".dylibs")):
        paths += sorted(glob.glob(os.path.join(d, "*openblas*")))
    try:
        with open("/proc/self/maps") as f:      # a system OpenBLAS already loaded (Linux)
            paths += sorted({ln.split()[-1] for ln in f if "openblas" in ln.lower()
                             and ln.split()[-1].startswith("/")})
    except OSError:
        pass
    found = None
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        for pre, suf in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                         ("openblas", "64_"), ("openblas", "")):
            s = getattr(lib, f"{pre}_set_num_threads{suf}", None)
            g = getattr(lib, f"{pre}_get_num_threads{suf}", None)
            if s is not None and g is not None:
                s.argtypes, s.restype, g.restype = [ctypes.c_int], None, ctypes.c_int
                found = (s, g)
                break
        if found:
            break
    _BLAS.append(found)
    return found


def _blas_threads():
    """The thread count NumPy's OpenBLAS reports, or None when it could not be found."""
    f = _openblas()
    return None if f is None else int(f[1]())


def set_num_threads(n, /):
    """Set the number of threads for intra-op parallelism.

    In chainrule that is NumPy's BLAS (matmul, conv's GEMMs, linalg): when NumPy runs on an
    OpenBLAS (the NumPy wheels do), its thread count is set at once through ctypes; with
    another BLAS only the stored value changes. ``get_num_threads`` reports the value.

    >>> import chainrule
    >>> n = chainrule.get_num_threads()
    >>> chainrule.set_num_threads(1); chainrule.get_num_threads()
    1
    >>> chainrule.set_num_threads(n)
    """
    n = _int_arg(n, "set_num_threads")
    f = _openblas()
    if f is not None:
        f[0](n)
    _state["threads"] = n


def get_num_threads():
    """The intra-op thread count: the last ``set_num_threads`` value, by default the number of
    cores this process may run on (as torch).

    >>> import chainrule
    >>> chainrule.get_num_threads() >= 1
    True
    """
    n = _state["threads"]
    return _cores() if n is None else n


def set_num_interop_threads(n, /):
    """Set the number of inter-op threads; like torch it may be called once only.

    chainrule runs ops one after another on the calling thread (it has no inter-op pool), so
    the value is only stored and reported by ``get_num_interop_threads``.

    >>> import chainrule
    >>> chainrule.get_num_interop_threads() >= 1
    True
    """
    n = _int_arg(n, "set_num_interop_threads")
    if _state["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has "
                           "started or set_num_interop_threads called")
    _state["interop"] = n


def get_num_interop_threads():
    """The inter-op thread count: the ``set_num_interop_threads`` value, by default the number
    of cores (chainrule uses no inter-op threads; see ``set_num_interop_threads``).

    >>> import chainrule
    >>> chainrule.get_num_interop_threads() >= 1
    True
    """
    n = _state["interop"]
    return _cores() if n is None else n


# -- deterministic algorithms -----------------------------------------------------------------
def use_deterministic_algorithms(mode, *, warn_only=False):
    """Ask for deterministic algorithms.

    Every chainrule op is deterministic already (NumPy on one CPU: same inputs, same bits), so
    no op raises or warns in this mode. What the mode changes, as in torch, is uninitialised
    memory: ``empty_strided``, ``Tensor.new_empty``, ``Tensor.new_empty_strided`` and the new
    elements of ``Tensor.resize_`` are filled with NaN (floats) or the largest integer.

    >>> import chainrule
    >>> chainrule.use_deterministic_algorithms(True)
    >>> chainrule.empty_strided((2,), (1,))
    tensor([nan, nan])
    >>> chainrule.use_deterministic_algorithms(False)
    """
    if type(mode) is not bool:
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    if type(warn_only) is not bool:
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, "
                        f"not {type(warn_only).__name__}")
    _state["det"], _state["det_warn"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """True after ``use_deterministic_algorithms(True)``.

    >>> import chainrule
    >>> chainrule.are_deterministic_algorithms_enabled()
    False
    """
    return _state["det"]


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` flag of the last ``use_deterministic_algorithms`` call.

    >>> import chainrule
    >>> chainrule.is_deterministic_algorithms_warn_only_enabled()
    False
    """
    return _state["det_warn"]


_DEBUG = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode):
    """``use_deterministic_algorithms`` by level: 0/'default' off, 1/'warn' on with
    ``warn_only``, 2/'error' on.

    >>> import chainrule
    >>> chainrule.set_deterministic_debug_mode("warn")
    >>> chainrule.get_deterministic_debug_mode(), chainrule.are_deterministic_algorithms_enabled()
    (1, True)
    >>> chainrule.set_deterministic_debug_mode(0)
    """
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG[debug_mode]
    elif not isinstance(debug_mode, (int, np.integer)):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{int(debug_mode)}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """The current level: 0 off, 1 warn-only, 2 on (see ``set_deterministic_debug_mode``).

    >>> import chainrule
    >>> chainrule.get_deterministic_debug_mode()
    0
    """
    if not _state["det"]:
        return 0
    return 1 if _state["det_warn"] else 2


_FILL = {"f": np.nan, "b": True}


def _fill_uninitialized(arr):
    """Fill a fresh array as torch's deterministic mode fills uninitialised memory."""
    if _state["det"] and arr.size:
        k = arr.dtype.kind
        arr.fill(_FILL[k] if k in _FILL else np.iinfo(arr.dtype).max)
    return arr


# -- default device ---------------------------------------------------------------------------
_KNOWN = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")


def set_default_device(device):
    """Make ``device`` the device factory functions (``zeros``, ``tensor``, ``randn``,
    ``nn.Linear``...) use when none is given; None restores the CPU.

    chainrule has only the CPU: another device is accepted here, as by a CPU-only torch, and
    the factory functions then fail (AssertionError for CUDA, RuntimeError otherwise).

    >>> import chainrule
    >>> chainrule.set_default_device("cpu"); chainrule.zeros(1).device
    device(type='cpu')
    >>> chainrule.set_default_device(None)
    """
    if device is None:
        _device._default[0] = None
        return
    if isinstance(device, _device.device):
        device = str(device)
    if isinstance(device, (int, np.integer)) and not isinstance(device, bool):
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if not isinstance(device, str):
        raise TypeError(f"device() received an invalid combination of arguments - got "
                        f"({type(device).__name__})")
    kind, _, index = device.partition(":")
    if kind not in _KNOWN:
        raise RuntimeError(f"Expected one of {', '.join(_KNOWN)} device type at start of device "
                           f"string: {device}")
    if index and not index.isdigit():
        raise RuntimeError(f"Invalid device string: '{device}'")
    _device._default[0] = None if kind == "cpu" else device


def get_default_device():
    """The device factory functions use when none is given (``device(type='cpu')`` unless
    ``set_default_device`` chose another, which then raises as it would on use).

    >>> import chainrule
    >>> chainrule.get_default_device()
    device(type='cpu')
    """
    return _device.check_device(None)


# -- anomaly mode -----------------------------------------------------------------------------
def is_anomaly_enabled():
    """True while chainrule's anomaly mode is on (``chainrule.autograd.detect_anomaly``).

    >>> import chainrule
    >>> chainrule.is_anomaly_enabled()
    False
    """
    return _am.is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    """The ``check_nan`` flag of the anomaly mode last set (True by default).

    >>> import chainrule
    >>> chainrule.is_anomaly_check_nan_enabled()
    True
    """
    return _am._check_nan[0]


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn chainrule's anomaly mode on or off (``chainrule.autograd.set_detect_anomaly``):
    forward call sites are recorded, a backward error warns with the forward traceback of the
    failing node, and with ``check_nan`` a backward that produces NaN raises.

    >>> import chainrule
    >>> chainrule.set_anomaly_enabled(True); chainrule.is_anomaly_enabled()
    True
    >>> chainrule.set_anomaly_enabled(False)
    """
    for name, v, pos in (("enabled", enabled, " (position 1)"), ("check_nan", check_nan, "")):
        if type(v) is not bool:
            raise TypeError(f"set_anomaly_enabled(): argument '{name}'{pos} must be bool, not "
                            f"{type(v).__name__}")
    _am._set(enabled, check_nan)


# -- float32 matmul precision, warn-always ----------------------------------------------------
def set_float32_matmul_precision(precision):
    """Set the float32 matmul precision torch may lower on accelerators ('highest', 'high',
    'medium'). chainrule's float32 matmuls always run in full float32 on NumPy's BLAS (what
    'highest' means), so the value is stored and reported but changes no result. Another
    string warns and changes nothing, as torch.

    >>> import chainrule
    >>> chainrule.set_float32_matmul_precision("high"); chainrule.get_float32_matmul_precision()
    'high'
    >>> chainrule.set_float32_matmul_precision("highest")
    """
    if not isinstance(precision, str):
        raise RuntimeError(f"set_float32_matmul_precision expects a str, but got "
                           f"{type(precision).__name__}")
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _state["matmul"] = precision


def get_float32_matmul_precision():
    """The value last given to ``set_float32_matmul_precision`` ('highest' by default).

    >>> import chainrule
    >>> chainrule.get_float32_matmul_precision()
    'highest'
    """
    return _state["matmul"]


def set_warn_always(b, /):
    """torch's warn-always flag: when True, warnings torch gives once per process repeat.
    chainrule gives no once-per-process warnings (its warnings go through Python's
    ``warnings`` filters), so the flag is stored and reported and changes nothing else.

    >>> import chainrule
    >>> chainrule.set_warn_always(True); chainrule.is_warn_always_enabled()
    True
    >>> chainrule.set_warn_always(False)
    """
    if type(b) is not bool:
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled():
    """The flag ``set_warn_always`` stored (False by default).

    >>> import chainrule
    >>> chainrule.is_warn_always_enabled()
    False
    """
    return _state["warn_always"]


def set_flush_denormal(mode):
    """Ask the CPU to flush denormal floats to zero; returns whether that is supported.
    NumPy offers no control of the CPU's denormal mode, so chainrule returns False and
    nothing changes (torch returns False too where the CPU lacks the mode).

    >>> import chainrule
    >>> chainrule.set_flush_denormal(True)
    False
    """
    if type(mode) is not bool:
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return False
