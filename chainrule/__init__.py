"""chainrule: automatic differentiation on NumPy with PyTorch's API.

>>> import chainrule as torch
>>> x = torch.tensor(2.0, requires_grad=True)
>>> y = 5 * x ** 2 + 3
>>> y.backward()
>>> y, x.grad
(tensor(23., grad_fn=<AddBackward0>), tensor(20.))
"""
from . import dtypes
from ._device import device
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
from .ops.elementwise import (abs, absolute, add, allclose, bitwise_and, bitwise_not,
                              bitwise_or, bitwise_xor, clamp, clip, cos, div, divide, eq,
                              equal, exp, floor_divide, ge, greater, greater_equal, gt,
                              isclose, le, less, less_equal, log, logical_and, logical_not,
                              logical_or, logical_xor, lt, maximum, minimum, mul, multiply, ne,
                              neg, negative, not_equal, pow, relu, remainder, sigmoid, sign,
                              sin, sqrt, sub, subtract, tanh, true_divide, where)
from .ops.reduce import max, mean, min, sum
from .ops.shape import (broadcast_to, clone, expand, permute, reshape, squeeze, swapaxes,
                        swapdims, t, transpose, unsqueeze, view)
from .ops.index import nonzero
from .ops.linalg import bmm, dot, matmul, mm, mv
from .creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                       linspace, logspace, ones, ones_like, tensor, zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,
                     manual_seed, multinomial, normal, rand, rand_like, randint, randint_like,
                     randn, randn_like, randperm, seed, set_rng_state)
from ._print import set_printoptions

_t._E = _E

# -- catalogue re-exports (issue 3) -----------------------------------------------------------

# -- transforms and training stack (issues 4, 5) ----------------------------------------------

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
