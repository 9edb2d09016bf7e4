"""chainrule.amp: torch.amp's ``autocast`` and ``GradScaler``.

chainrule computes in the dtypes it is given: it has no reduced-precision autocasting (and no
bfloat16). So ``autocast('cuda')`` disables itself with torch's warning, exactly as on a
CPU-only torch build; ``autocast('cpu')`` raises unless ``enabled=False``. ``GradScaler`` on
'cuda' is disabled likewise; on 'cpu' it scales the loss, unscales the gradients and skips the
steps whose gradients are not finite, as torch's does.

>>> import chainrule
>>> w = chainrule.ones(2, requires_grad=True)
>>> opt = chainrule.optim.SGD([w], lr=0.1)
>>> scaler = chainrule.amp.GradScaler("cpu", init_scale=8.0)
>>> scaler.scale((w * 3).sum()).backward()
>>> scaler.step(opt); scaler.update(); w
tensor([0.7000, 0.7000], requires_grad=True)
"""
import functools
import warnings

from ._tensor import Tensor
from .autograd.grad_mode import no_grad

__all__ = ["autocast", "GradScaler"]

_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                 "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of "
                           f"device string: {device_type}")


class autocast:
    """Mixed-precision region (torch.autocast). Only the disabled forms run in chainrule:
    'cuda' (and other accelerators) disable themselves with a warning, as on a CPU-only torch;
    'cpu' needs ``enabled=False``. Also a decorator.

    >>> import warnings, chainrule
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     with chainrule.autocast("cuda"):
    ...         y = chainrule.ones(2) @ chainrule.ones(2)
    >>> y.dtype
    chainrule.float32
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = False
        if not enabled:
            return
        if device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
        elif device_type == "cpu":
            raise RuntimeError("autocast('cpu'): chainrule has no reduced-precision autocasting "
                               "(it computes in the dtypes it is given, and has no bfloat16); "
                               "pass enabled=False or leave the region out")
        else:
            warnings.warn(f"User provided device_type of '{device_type}', but the current "
                          "device is not available. Disabling autocast.", stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """Loss scaling for mixed precision (torch.amp.GradScaler). On 'cpu' it works as torch's:
    ``scale`` multiplies, ``unscale_`` divides each gradient and notes non-finite values,
    ``step`` skips the optimizer step when one was found, ``update`` backs the scale off after
    such a step and grows it after ``growth_interval`` clean ones. On 'cuda' it is disabled (a
    CPU-only torch's warning) and every method passes through.

    >>> import chainrule
    >>> s = chainrule.amp.GradScaler("cpu")
    >>> s.get_scale(), s.is_enabled()
    (65536.0, True)
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled:
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_opt = {}      # id(optimizer) -> [stage, found_inf]

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """outputs (a tensor, or nested lists/tuples of them) times the current scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer):
        return self._per_opt.setdefault(id(optimizer), [_READY, False])

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale, in place, once per step."""
        if not self._enabled:
            return
        st = self._state(optimizer)
        if st[0] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if st[0] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = 1.0 / self._scale
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    g.mul_(inv)
                    if not bool(g.isfinite().all()):
                        found = True
        st[0], st[1] = _UNSCALED, found

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(...) unless the (unscaled) gradients hold inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        st = self._state(optimizer)
        if st[0] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if st[0] == _READY:
            self.unscale_(optimizer)
        ret = None if st[1] else optimizer.step(*args, **kwargs)
        st[0] = _STEPPED
        return ret

    def update(self, new_scale=None):
        """Back the scale off after a skipped step, grow it after enough clean ones (or set
        ``new_scale``); then start the next step."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor)
                                else new_scale)
        else:
            if not self._per_opt:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(st[1] for st in self._per_opt.values()):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_opt = {}

    def get_scale(self):
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

    def __repr__(self):
        return f"GradScaler(device={self._device!r}, enabled={self._enabled})"

