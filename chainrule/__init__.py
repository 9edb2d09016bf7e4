"""chainrule: automatic differentiation on NumPy with PyTorch's API.

>>> import chainrule as torch
>>> x = torch.tensor(2.0, requires_grad=True)
>>> y = 5 * x ** 2 + 3
>>> y.backward()
>>> y, x.grad
(tensor(23., grad_fn=<AddBackward0>), tensor(20.))
"""
import warnings as _warnings


def _quiet_fp_warnings():
    """NumPy's floating-point warnings (log(0), x / 0, sqrt(-1), overflow) raised inside
    chainrule's own ops: torch returns the inf / nan silently, so they are filtered by module
    (a check that costs nothing until a warning fires); the user's own NumPy calls still warn.
    Installed at import; an import inside ``warnings.catch_warnings()`` loses it on exit."""
    _warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) "
                             r"encountered", RuntimeWarning, r"chainrule(\.|$)")


_quiet_fp_warnings()

from . import dtypes  # noqa: E402
from ._device import device
from ._memory_format import (channels_last, channels_last_3d, contiguous_format,  # noqa: F401
                             memory_format, preserve_format)
from ._tensor import Size, Tensor
from .dtypes import (bool, double, dtype, finfo, float, float16, float32, float64,
                     get_default_dtype, half, iinfo, int, int8, int16, int32, int64, long,
                     promote_types, result_type, set_default_dtype, short, uint8)
from . import autograd
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                                 is_inference_mode_enabled, no_grad, set_grad_enabled)
from . import ops
from ._tensor import _wrap_dim  # noqa: F401
from . import _tensor as _t
from .ops import elementwise as _E
from .ops.elementwise import *  # noqa: F401,F403  (each module lists its public names)
from .ops.reduce import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from .ops.linalg import *  # noqa: F401,F403
from .functional_ops import *  # noqa: F401,F403
from .ops.extra import *  # noqa: F401,F403
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, logspace, ones, ones_like, tensor, zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,
                     manual_seed, multinomial, normal, rand, rand_like, randint, randint_like,
                     randn, randn_like, randperm, seed, set_rng_state)
from ._print import set_printoptions

_t._E = _E

from . import linalg, nn, optim, utils  # noqa: E402
from . import special  # noqa: E402
from .nn._toplevel import *  # noqa: F401,F403,E402  (torch.softmax & co.)
from .serialization import *  # noqa: F401,F403,E402  (save, load)
from . import func  # noqa: E402
from . import viz  # noqa: E402,F401
from ._runtime import *  # noqa: F401,F403,E402  (thread counts, deterministic mode, ...)
from ._aliases import *  # noqa: F401,F403,E402  (detach, asarray, conv2d, exp_, ...)
from ._compat import *  # noqa: F401,F403,E402  (compile, can_cast, conj, autocast queries)
from . import backends, cuda, testing  # noqa: E402,F401
from . import amp  # noqa: E402
from . import distributions  # noqa: E402,F401
from .amp import autocast  # noqa: E402,F401

__version__ = "0.1.0"


def is_tensor(obj):
    """True if obj is a chainrule Tensor.

    >>> import chainrule
    >>> chainrule.is_tensor(chainrule.ones(1))
    True
    """
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def numel(input):
    return input.numel()


def get_device(input):
    return -1
