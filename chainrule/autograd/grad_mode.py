"""Grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode (all thread-local)."""
import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _Mode(threading.local):
    grad = True
    inference = False


_mode = _Mode()


def is_grad_enabled():
    """True when operations record the graph (the default).

    >>> import chainrule
    >>> with chainrule.no_grad():
    ...     chainrule.is_grad_enabled()
    False
    """
    return _mode.grad


def is_inference_mode_enabled():
    return _mode.inference


class _DecoratorContext:
    """Context manager usable as a decorator (a fresh instance per call)."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._clone():
                return fn(*args, **kwargs)
        return wrapper

    def _clone(self):
        return self.__class__()


class no_grad(_DecoratorContext):
    """Disable graph recording inside the block or decorated function.

    >>> import chainrule
    >>> x = chainrule.ones(2, requires_grad=True)
    >>> with chainrule.no_grad():
    ...     (x * 2).requires_grad
    False
    """

    def __enter__(self):
        self._prev = _mode.grad
        _mode.grad = False

    def __exit__(self, *exc):
        _mode.grad = self._prev


class enable_grad(_DecoratorContext):
    """Enable graph recording inside a no_grad block.

    >>> import chainrule
    >>> x = chainrule.ones(2, requires_grad=True)
    >>> with chainrule.no_grad(), chainrule.enable_grad():
    ...     (x * 2).requires_grad
    True
    """

    def __enter__(self):
        self._prev = _mode.grad
        _mode.grad = True

    def __exit__(self, *exc):
        _mode.grad = self._prev


class set_grad_enabled(_DecoratorContext):
    """Set grad mode on or off; works as a function, context manager or decorator.

    >>> import chainrule
    >>> with chainrule.set_grad_enabled(False):
    ...     chainrule.is_grad_enabled()
    False
    """

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = _mode.grad
        _mode.grad = self.mode

    def _clone(self):
        return set_grad_enabled(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _mode.grad = self._prev


class inference_mode(_DecoratorContext):
    """Like no_grad (chainrule has no separate inference tensors).

    >>> import chainrule
    >>> with chainrule.inference_mode():
    ...     chainrule.is_grad_enabled()
    False
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def _clone(self):
        return inference_mode(self.mode)

    def __enter__(self):
        self._prev = (_mode.grad, _mode.inference)
        if self.mode:
            _mode.grad, _mode.inference = False, True

    def __exit__(self, *exc):
        _mode.grad, _mode.inference = self._prev
