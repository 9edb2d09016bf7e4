"""skip_init: build a module without running its parameter initialisation."""
import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` whose parameter values are left unspecified (torch
    leaves them uninitialised; set them before use). The class must take a ``device``
    argument.

    >>> import chainrule
    >>> lin = chainrule.nn.utils.skip_init(chainrule.nn.Linear, 3, 2)
    >>> lin.weight.shape
    chainrule.Size([2, 3])
    """
    from ..modules.module import Module
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs)
