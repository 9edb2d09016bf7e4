"""``chainrule.backends.cudnn``: cuDNN is unavailable (chainrule computes with NumPy); its flags
keep torch's defaults (``enabled`` True, ``benchmark`` False, ``deterministic`` False,
``allow_tf32`` True), accept only bools like torch, and change nothing in chainrule.

>>> import chainrule
>>> chainrule.backends.cudnn.is_available(), chainrule.backends.cudnn.deterministic
(False, False)
"""
import contextlib
import sys

from . import _FlagModule, _bool_flag


def is_available():
    """False: chainrule has no cuDNN.

    >>> import chainrule
    >>> chainrule.backends.cudnn.is_available()
    False
    """
    return False


def version():
    """None: no cuDNN library is loaded.

    >>> import chainrule
    >>> chainrule.backends.cudnn.version() is None
    True
    """
    return None


def is_acceptable(tensor):
    """False: cuDNN accepts no tensor here.

    >>> import chainrule
    >>> chainrule.backends.cudnn.is_acceptable(chainrule.ones(1))
    False
    """
    return False


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """Set the cuDNN flags inside a ``with`` block and restore them after it.

    >>> import chainrule
    >>> with chainrule.backends.cudnn.flags(enabled=False):
    ...     chainrule.backends.cudnn.enabled
    False
    >>> chainrule.backends.cudnn.enabled
    True
    """
    mod = sys.modules[__name__]
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    old = {n: getattr(mod, n) for n in names}
    new = dict(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
               deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        for n in names:
            setattr(mod, n, new[n])
        yield
    finally:
        for n in names:
            setattr(mod, n, old[n])


class _CudnnModule(_FlagModule):
    enabled = _bool_flag("enabled", "set_enabled_cudnn", True)
    benchmark = _bool_flag("benchmark", "set_benchmark_cudnn", False)
    deterministic = _bool_flag("deterministic", "set_deterministic_cudnn", False)
    allow_tf32 = _bool_flag("allow_tf32", "set_allow_tf32_cublas", True)
    benchmark_limit = None


sys.modules[__name__].__class__ = _CudnnModule
