"""``chainrule.cuda.amp``: mixed precision for CUDA, which chainrule lacks, so both objects are
built disabled (with torch's warnings) and then change nothing.

>>> import warnings, chainrule
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     chainrule.cuda.amp.GradScaler().is_enabled()
False
"""
import warnings

from . import amp as _amp

__all__ = ["GradScaler", "autocast"]


class GradScaler(_amp.GradScaler):
    """``amp.GradScaler('cuda')`` under its deprecated name: always disabled (no CUDA), so
    ``scale`` returns its input, ``step(optimizer)`` calls ``optimizer.step()`` and
    ``update``/``unscale_`` do nothing.

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     s = chainrule.cuda.amp.GradScaler()
    >>> s.scale(2.0), s.get_scale()
    (2.0, 1.0)
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


class autocast(_amp.autocast):
    """``amp.autocast('cuda')`` under its deprecated name: always disabled (no CUDA); entering
    it changes nothing; also a decorator.

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     with chainrule.cuda.amp.autocast():
    ...         chainrule.is_autocast_enabled()
    False
    """

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype, enabled, cache_enabled)
