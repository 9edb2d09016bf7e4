"""``chainrule.backends``: torch's backend switches. chainrule runs on NumPy only, so the
accelerator backends (cuDNN, CUDA, MPS) report themselves unavailable, and their flags are plain
settable attributes with torch's defaults and type checks that steer nothing here.

>>> import chainrule
>>> chainrule.backends.cudnn.benchmark = True
>>> chainrule.backends.cudnn.benchmark
True
>>> chainrule.backends.cudnn.benchmark = False
"""
import types


class _FlagModule(types.ModuleType):
    """A module whose bool flags are type-checked properties, as torch's backend modules."""


def _bool_flag(name, setter_name, default, exc=RuntimeError):
    key = "_flag_" + name

    def get(self):
        return self.__dict__.get(key, default)

    def set_(self, value):
        if not isinstance(value, bool):
            raise exc(f"{setter_name} expects a bool, but got {type(value).__name__}")
        self.__dict__[key] = value
    return property(get, set_)


from . import cpu, cuda, cudnn, mps, opt_einsum  # noqa: E402,F401

__all__ = ["cpu", "cuda", "cudnn", "mps", "opt_einsum"]
