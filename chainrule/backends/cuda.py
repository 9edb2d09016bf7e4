"""``chainrule.backends.cuda``: CUDA is not built into chainrule. ``matmul.allow_tf32`` mirrors
``chainrule.get_float32_matmul_precision() != 'highest'`` as in torch; the other flags are
settable with torch's defaults and checks, and steer nothing (NumPy computes in full precision).

>>> import chainrule
>>> chainrule.backends.cuda.is_built(), chainrule.backends.cuda.matmul.allow_tf32
(False, False)
"""


def is_built():
    """False: chainrule is not built with CUDA.

    >>> import chainrule
    >>> chainrule.backends.cuda.is_built()
    False
    """
    return False


def _check_reduction(name, value):
    ok = isinstance(value, bool) or (isinstance(value, (tuple, list)) and value
                                     and all(isinstance(v, bool) for v in value))
    if not ok:
        raise TypeError(f"{name} expects a bool or a tuple/list of bools, but got {type(value)}")


class cuBLASModule:
    """The ``matmul`` flags object: only its three known attributes can be read or set.

    >>> import chainrule
    >>> chainrule.backends.cuda.matmul.allow_fp16_reduced_precision_reduction
    True
    """
    _NAMES = ("allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        object.__setattr__(self, "_red", {self._NAMES[1]: True, self._NAMES[2]: True})

    def __getattr__(self, name):
        from .. import _runtime
        if name == "allow_tf32":
            return _runtime.get_float32_matmul_precision() != "highest"
        if name in self._NAMES:
            return self._red[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        from .. import _runtime
        if name == "allow_tf32":
            if not isinstance(value, bool):
                raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got "
                                   f"{type(value).__name__}")
            _runtime.set_float32_matmul_precision("high" if value else "highest")
            return
        if name in self._NAMES:
            _check_reduction(name, value)
            self._red[name] = value
            return
        raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()


def preferred_linalg_library(backend=None):
    """'Default' (a string; torch returns an enum member): the only linear-algebra library is
    NumPy's LAPACK, so any choice is ignored.

    >>> import chainrule
    >>> chainrule.backends.cuda.preferred_linalg_library()
    'Default'
    """
    return "Default"


def _sdp(name):
    key = "_sdp_" + name

    def enable(enabled):
        if not isinstance(enabled, bool):
            raise RuntimeError(f"enable_{name}_sdp expects a bool, but got "
                               f"{type(enabled).__name__}")
        _SDP[key] = enabled

    def query():
        return _SDP.get(key, True)
    enable.__doc__ = (f"Set the (inert) {name} scaled-dot-product-attention flag.\n\n"
                      f"    >>> import chainrule\n"
                      f"    >>> chainrule.backends.cuda.enable_{name}_sdp(True)\n")
    query.__doc__ = (f"The {name} scaled-dot-product-attention flag (default True).\n\n"
                     f"    >>> import chainrule\n"
                     f"    >>> chainrule.backends.cuda.{name}_sdp_enabled()\n    True\n")
    enable.__name__, query.__name__ = f"enable_{name}_sdp", f"{name}_sdp_enabled"
    return enable, query


_SDP = {}
enable_flash_sdp, flash_sdp_enabled = _sdp("flash")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _sdp("mem_efficient")
enable_math_sdp, math_sdp_enabled = _sdp("math")
enable_cudnn_sdp, cudnn_sdp_enabled = _sdp("cudnn")


def is_flash_attention_available():
    """False: no CUDA flash attention.

    >>> import chainrule
    >>> chainrule.backends.cuda.is_flash_attention_available()
    False
    """
    return False

