"""``chainrule.cuda.amp``: mixed precision for CUDA, which chainrule lacks, so both objects are
built disabled (with torch's warnings) and then change nothing.

>>> import warnings, chainrule
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     chainrule.cuda.amp.GradScaler().is_enabled()
False
"""
import functools
import warnings

__all__ = ["GradScaler", "autocast"]


class GradScaler:
    """A loss scaler that is always disabled (no CUDA): ``scale`` returns its input,
    ``step(optimizer)`` calls ``optimizer.step()``, ``update``/``unscale_`` do nothing.

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
        if enabled:
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
        self._enabled = False

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        return None

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        return None

    def get_scale(self):
        return 1.0

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        return None


class autocast:
    """CUDA autocast, always disabled (no CUDA): entering it changes nothing; also a decorator.

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
        if enabled:
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
        self._enabled = False

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper
