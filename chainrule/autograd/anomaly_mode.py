"""Anomaly detection: remember where each forward op was called; fail on NaN gradients."""
from .function import _anomaly, _anomaly_nan as _check_nan

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def _set(mode, check_nan):
    """Anomaly mode on/off: forward call sites are recorded (a backward error warns with the
    forward traceback of the failing node) and, with check_nan, NaN gradients raise."""
    prev = (_anomaly[0], _check_nan[0])
    if mode:
        import warnings
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=3)
    _anomaly[0] = bool(mode)
    _check_nan[0] = bool(check_nan)
    return prev


def is_anomaly_enabled():
    return _anomaly[0]


class detect_anomaly:
    """Inside this block, a backward that produces NaN raises an error naming the Function
    and showing the traceback of the forward call that created it (``check_nan=False``: no
    NaN check), and an error raised by a backward first warns with that traceback.

    >>> import chainrule
    >>> x = chainrule.tensor([0.0], requires_grad=True)
    >>> with chainrule.autograd.detect_anomaly():
    ...     y = chainrule.sqrt(x) * 0
    ...     try:
    ...         y.sum().backward()
    ...     except RuntimeError as e:
    ...         print(str(e).splitlines()[0])
    Function 'SqrtBackward0' returned nan values in its 0th output.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _set(True, self.check_nan)

    def __exit__(self, *exc):
        _anomaly[0], _check_nan[0] = self._prev

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with detect_anomaly(self.check_nan):
                return fn(*a, **k)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (also a context manager)."""

    def __init__(self, mode, check_nan=True):
        self._prev = _set(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _anomaly[0], _check_nan[0] = self._prev
