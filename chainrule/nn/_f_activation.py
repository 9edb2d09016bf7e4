"""Activation functions and the softmax family. The piecewise-linear ones run on
``ops.elementwise.Piecewise`` (torch's masks at kinks, infinities and NaN; a recorded gradient
that stays on the input's graph); softmax, log_softmax and softplus are fused primitives in
``ops.nn_ops``."""
import math
import numbers
import warnings

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import _apply1
from ..ops import elementwise as E
from ..ops.nn_ops import LogSoftmax, Softmax, Softplus

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh",
           "hardtanh_", "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink", "softshrink",
           "hardshrink", "threshold", "threshold_", "prelu", "rrelu", "rrelu_", "glu",
           "softmax", "log_softmax", "softmin", "gumbel_softmax", "sigmoid", "tanh"]

_make = Tensor._make
_Piecewise = E.Piecewise
_TORCH_NAMES = _dt.SCALAR_NAMES
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# -- shared checks (used by _f_norm and _f_loss too) ------------------------------------------
def _tname(t):
    return _TORCH_NAMES.get(t.dtype.name, t.dtype.name)


def _tensor_arg(x, op, name="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")
    return x


def _float_in(x, op, kernel=None):
    """x must be a floating tensor (torch has no integer kernel for op)."""
    _tensor_arg(x, op)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"{kernel or op + '_cpu'}\" not implemented for '{_tname(x)}'")
    return x


def _number(v, op, name, pos):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Number, not "
                        f"{type(v).__name__}")
    return v


def _no_bool(x, msg):
    if x._data.dtype == np.bool_:
        raise RuntimeError(msg)
    return x


def _const(arr, like):
    """A constant tensor in ``like``'s dtype."""
    return _make(np.asarray(arr, like._data.dtype))


def _inplace(fn, input, *args, name):
    from ..ops.inplace import inplace
    return inplace(input, fn, *args, name=name)


# -- rectifiers and friends -------------------------------------------------------------------
def relu(input, inplace=False):
    """max(x, 0), gradient 0 at 0.

    >>> import chainrule
    >>> chainrule.nn.functional.relu(chainrule.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if not inplace and isinstance(input, Tensor) and input._data.dtype.kind == "f":
        return _apply1(E.Relu, input)      # the common case, straight to the primitive
    _no_bool(_tensor_arg(input, "relu"), "Boolean inputs not supported for relu")
    return relu_(input) if inplace else E.relu(input)


def relu_(input):
    """In-place relu.

    >>> import chainrule
    >>> chainrule.nn.functional.relu_(chainrule.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return _inplace(E.relu, _tensor_arg(input, "relu_"), name="relu_")


def _hardtanh(x, lo, hi):
    return _Piecewise.apply(x, "hardtanh", lo, hi)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Clamp to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere.

    >>> import chainrule
    >>> chainrule.nn.functional.hardtanh(chainrule.tensor([-2.0, 0.5, 3.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    _no_bool(_tensor_arg(input, "hardtanh"), "Bool inputs not supported for hardtanh")
    _number(min_val, "hardtanh", "min_val", 2)
    _number(max_val, "hardtanh", "max_val", 3)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return _inplace(_hardtanh, input, min_val, max_val, name="hardtanh_")
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place hardtanh.

    >>> import chainrule
    >>> chainrule.nn.functional.hardtanh_(chainrule.tensor([-2.0, 3.0]))
    tensor([-1.,  1.])
    """
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(x, 0), 6).

    >>> import chainrule
    >>> chainrule.nn.functional.relu6(chainrule.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
    """
    return hardtanh(_tensor_arg(input, "relu6"), 0.0, 6.0, inplace)


def _leaky(x, slope, inplace=False):
    # in place (slope >= 0), the gradient reads the output, as torch's
    return _Piecewise.apply(x, "leaky_relu_" if inplace and slope >= 0 else "leaky_relu", slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, negative_slope * x otherwise.

    >>> import chainrule
    >>> chainrule.nn.functional.leaky_relu(chainrule.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2000,  3.0000])
    """
    _float_in(input, "leaky_relu")
    _number(negative_slope, "leaky_relu", "negative_slope", 2)
    if inplace:
        return _inplace(_leaky, input, negative_slope, True, name="leaky_relu_")
    return _leaky(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """In-place leaky_relu.

    >>> import chainrule
    >>> chainrule.nn.functional.leaky_relu_(chainrule.tensor([-2.0, 3.0]), 0.5)
    tensor([-1.,  3.])
    """
    return leaky_relu(input, negative_slope, inplace=True)


def _elu(x, alpha, scale, input_scale):
    neg = E.clamp(x, max=0.0)
    if input_scale != 1:
        neg = neg * input_scale
    neg = E.expm1(neg)
    if alpha != 1:
        neg = neg * alpha
    out = E.where(x > 0, x, neg)
    return out * scale if scale != 1 else out


def _elu_family(input, alpha, inplace, op, scale=1.0, input_scale=1.0):
    _float_in(input, op, "elu_cpu")
    if inplace:
        return _inplace(_elu, input, alpha, scale, input_scale, name=op + "_")
    return _elu(input, alpha, scale, input_scale)


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x) - 1) otherwise.

    >>> import chainrule
    >>> chainrule.nn.functional.elu(chainrule.tensor([0.0, 2.0]))
    tensor([0., 2.])
    """
    _number(alpha, "elu", "alpha", 2)
    return _elu_family(input, alpha, inplace, "elu")


def elu_(input, alpha=1.0):
    """In-place elu.

    >>> import chainrule
    >>> chainrule.nn.functional.elu_(chainrule.tensor([1.0]))
    tensor([1.])
    """
    return elu(input, alpha, inplace=True)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants.

    >>> import chainrule
    >>> chainrule.nn.functional.selu(chainrule.tensor([0.0]))
    tensor([0.])
    """
    return _elu_family(input, _SELU_ALPHA, inplace, "selu", scale=_SELU_SCALE)


def selu_(input):
    """In-place selu.

    >>> import chainrule
    >>> chainrule.nn.functional.selu_(chainrule.tensor([0.0]))
    tensor([0.])
    """
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise.

    >>> import chainrule
    >>> chainrule.nn.functional.celu(chainrule.tensor([0.0, 1.0]))
    tensor([0., 1.])
    """
    _number(alpha, "celu", "alpha", 2)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _elu_family(input, alpha, inplace, "celu", input_scale=1.0 / alpha)


def celu_(input, alpha=1.0):
    """In-place celu.

    >>> import chainrule
    >>> chainrule.nn.functional.celu_(chainrule.tensor([1.0]))
    tensor([1.])
    """
    return celu(input, alpha, inplace=True)


def _rrelu(x, lower, upper, training, inplace=False):
    if not training:
        return _leaky(x, (lower + upper) / 2, inplace)
    from ..random import _draw
    d = x._data
    noise, lv = _draw("rrelu", "uniform", d.shape, lower, upper)
    if not lv and type(d) is np.ndarray:
        return _Piecewise.apply(x, "scale_" if inplace else "scale",
                                np.where(d > 0, 1.0, noise).astype(d.dtype))
    # under vmap: the slope's sign test reads the batched values directly
    from ..autograd import _transforms as T
    from ..random import _const as batched_const
    xl = T.levels_of(d)[0]
    both = T.union_levels(lv, xl)
    slope = np.where(T.phys_at(d, both) > 0, 1.0, T.phys_at(T.batched(noise, lv), both))
    return x * batched_const(slope, both, d.dtype)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomised leaky relu: slope drawn from U(lower, upper) per element when training
    (chainrule's global generator), the mean slope (lower + upper) / 2 otherwise.

    >>> import chainrule
    >>> chainrule.nn.functional.rrelu(chainrule.tensor([-3.0, 1.0]), 0.1, 0.3)
    tensor([-0.6000,  1.0000])
    """
    _float_in(input, "rrelu", "leaky_relu_cpu")
    _number(lower, "rrelu", "lower", 2)
    _number(upper, "rrelu", "upper", 3)
    if lower > upper:
        raise RuntimeError(f"Lower bound should be less than or equal to the upper bound "
                           f"(got lower={lower}, upper={upper})")
    if inplace:
        return _inplace(_rrelu, input, lower, upper, training, True, name="rrelu_")
    return _rrelu(input, lower, upper, training)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place rrelu.

    >>> import chainrule
    >>> chainrule.nn.functional.rrelu_(chainrule.tensor([2.0]))
    tensor([2.])
    """
    return rrelu(input, lower, upper, training, inplace=True)


def _threshold(x, th, value):
    return _Piecewise.apply(x, "threshold", th, value)


def _check_threshold(input, threshold, value):
    _no_bool(_tensor_arg(input, "threshold"), "\"threshold_cpu\" not implemented for 'Bool'")
    _number(threshold, "threshold", "threshold", 2)
    _number(value, "threshold", "value", 3)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value.

    >>> import chainrule
    >>> chainrule.nn.functional.threshold(chainrule.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """
    if inplace:
        return threshold_(input, threshold, value)
    _check_threshold(input, threshold, value)
    return _threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place threshold.

    >>> import chainrule
    >>> chainrule.nn.functional.threshold_(chainrule.tensor([0.5, 2.0]), 1.0, 0.0)
    tensor([0., 2.])
    """
    _check_threshold(input, threshold, value)
    return _inplace(_threshold, input, threshold, value, name="threshold_")


def prelu(input, weight):
    """max(0, x) + weight * min(0, x) with a learnable slope per channel (dim 1).

    >>> import chainrule
    >>> chainrule.nn.functional.prelu(chainrule.tensor([-2.0, 1.0]), chainrule.tensor([0.5]))
    tensor([-1.,  1.])
    """
    _float_in(input, "prelu", "prelu_cpu")
    _tensor_arg(weight, "prelu", "weight", 2)
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    n = weight.numel()
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {n} and channel size = {channels}.")
    if weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {_tname(input)} and "
                           f"{_tname(weight)}")
    w = weight.reshape((n,) + (1,) * (input.ndim - 2)) if n > 1 else weight.reshape(())
    # max(x, 0) + w * min(x, 0): both parts' gradients stay on input's graph, as torch's do
    return _apply1(E.Relu, input) + w * _Piecewise.apply(input, "nonpositive")


# -- smooth activations -----------------------------------------------------------------------
def gelu(input, approximate="none"):
    """x * Phi(x) (Gaussian CDF); approximate='tanh' uses the tanh formula.

    >>> import chainrule
    >>> chainrule.nn.functional.gelu(chainrule.tensor([0.0, 10.0]))
    tensor([ 0., 10.])
    """
    _float_in(input, "gelu", "GeluKernelImpl")
    if approximate == "none":
        return input * 0.5 * (1 + E.erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (input + 0.044715 * input * input * input) * math.sqrt(2 / math.pi)
        return 0.5 * input * (1 + E.tanh(inner))
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    """x * sigmoid(x).

    >>> import chainrule
    >>> chainrule.nn.functional.silu(chainrule.tensor([0.0]))
    tensor([0.])
    """
    _float_in(input, "silu")
    if inplace:
        return _inplace(lambda x: x * E.sigmoid(x), input, name="silu_")
    return input * E.sigmoid(input)


def _mish(x):
    return x * E.tanh(Softplus.apply(x, 1, None))


def mish(input, inplace=False):
    """x * tanh(softplus(x)).

    >>> import chainrule
    >>> chainrule.nn.functional.mish(chainrule.tensor([0.0]))
    tensor([0.])
    """
    _float_in(input, "mish")
    return _inplace(_mish, input, name="mish_") if inplace else _mish(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, reverting to x where beta * x > threshold.

    >>> import chainrule
    >>> chainrule.nn.functional.softplus(chainrule.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """
    _float_in(input, "softplus")
    _number(beta, "softplus", "beta", 2)
    _number(threshold, "softplus", "threshold", 3)
    return Softplus.apply(input, beta, threshold)


def logsigmoid(input):
    """log(sigmoid(x)), exact for inputs of either sign.

    >>> import chainrule
    >>> chainrule.nn.functional.logsigmoid(chainrule.tensor([-300.0], dtype=chainrule.float64))
    tensor([-300.], dtype=chainrule.float64)
    """
    _float_in(input, "log_sigmoid", "log_sigmoid_cpu")
    return -Softplus.apply(-input, 1, None)


def softsign(input):
    """x / (1 + |x|).

    >>> import chainrule
    >>> chainrule.nn.functional.softsign(chainrule.tensor([1.0]))
    tensor([0.5000])
    """
    _no_bool(_tensor_arg(input, "softsign"), "\"abs_cpu\" not implemented for 'Bool'")
    return input / (E.abs(input) + 1)


def tanhshrink(input):
    """x - tanh(x).

    >>> import chainrule
    >>> chainrule.nn.functional.tanhshrink(chainrule.tensor([0.0]))
    tensor([0.])
    """
    _tensor_arg(input, "tanhshrink")
    return input - E.tanh(input)


def sigmoid(input):
    """1 / (1 + exp(-x)) (``chainrule.sigmoid``).

    >>> import chainrule
    >>> chainrule.nn.functional.sigmoid(chainrule.tensor([0.0]))
    tensor([0.5000])
    """
    return E.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent (``chainrule.tanh``).

    >>> import chainrule
    >>> chainrule.nn.functional.tanh(chainrule.tensor([0.0]))
    tensor([0.])
    """
    return E.tanh(input)


def _hardsigmoid(x):
    return _Piecewise.apply(x, "hardsigmoid")


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; the gradient is 1/6 strictly inside (-3, 3).

    >>> import chainrule
    >>> chainrule.nn.functional.hardsigmoid(chainrule.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    _float_in(input, "hardsigmoid")
    return _inplace(_hardsigmoid, input, name="hardsigmoid_") if inplace else _hardsigmoid(input)


def _hardswish(x):
    d = x._data
    if type(d) is not np.ndarray:
        return E.where(x <= -3, x.detach() * 0.0, E.where(x < 3, x * (x + 3) / 6, x))
    mid = E.where(d < 3, x * (x + 3) / 6, x)
    return E.where(d <= -3, _const(d * 0.0, x), mid)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6.

    >>> import chainrule
    >>> chainrule.nn.functional.hardswish(chainrule.tensor([-4.0, 0.0, 4.0]))
    tensor([-0.,  0.,  4.])
    """
    _float_in(input, "hardswish")
    return _inplace(_hardswish, input, name="hardswish_") if inplace else _hardswish(input)


def _check_lambd(input, lambd, op):
    _number(lambd, op, "lambd", 2)
    if op == "softshrink" and lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, {np.finfo(input._data.dtype).max:g}] "
                           f"for input dtype {_tname(input)}, but found {lambd}")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    >>> import chainrule
    >>> chainrule.nn.functional.softshrink(chainrule.tensor([-1.0, 0.2, 1.0]))
    tensor([-0.5000,  0.0000,  0.5000])
    """
    _float_in(input, "softshrink", "softshrink_check")
    _check_lambd(input, lambd, "softshrink")
    return _Piecewise.apply(input, "softshrink", lambd)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0.

    >>> import chainrule
    >>> chainrule.nn.functional.hardshrink(chainrule.tensor([-1.0, 0.2, 1.0]))
    tensor([-1.,  0.,  1.])
    """
    _float_in(input, "hardshrink")
    _check_lambd(input, lambd, "hardshrink")
    return _Piecewise.apply(input, "hardshrink", lambd)


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along dim.

    >>> import chainrule
    >>> chainrule.nn.functional.glu(chainrule.tensor([1.0, 0.0]))
    tensor([0.5000])
    """
    _float_in(input, "glu", "glu_cpu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _wrap_dim(dim, input.ndim, "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    lead = (slice(None),) * d
    return input[lead + (slice(0, n // 2),)] * E.sigmoid(input[lead + (slice(n // 2, n),)])


# -- softmax family ---------------------------------------------------------------------------
def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_prep(input, dim, dtype, name, stacklevel=4):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if dim is None:
        dim = _softmax_dim(name, input.ndim, stacklevel)
    d = _wrap_dim(dim, input.ndim, name)
    if dtype is not None:
        input = E.cast(input, _dt.to_dtype(dtype))
    if input._data.dtype.kind != "f":
        kernel = "softmax" if name == "softmin" else name
        raise RuntimeError(f"\"{kernel}_lastdim_kernel_impl\" not implemented for "
                           f"'{_tname(input)}'")
    return input, d


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim (max-shifted: exact for large inputs).

    >>> import chainrule
    >>> chainrule.nn.functional.softmax(chainrule.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    x, d = _softmax_prep(input, dim, dtype, "softmax")
    return Softmax.apply(x, d)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along dim (max-shifted).

    >>> import chainrule
    >>> chainrule.nn.functional.log_softmax(chainrule.tensor([1e8, 1e8]), dim=0)
    tensor([-0.6931, -0.6931])
    """
    x, d = _softmax_prep(input, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, d)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim.

    >>> import chainrule
    >>> chainrule.nn.functional.softmin(chainrule.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    x, d = _softmax_prep(input, dim, dtype, "softmin")
    return Softmax.apply(-x, d)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau) along dim; ``hard=True`` returns one-hot samples
    whose gradient is the soft sample's (straight-through). Noise comes from chainrule's global
    generator.

    >>> import chainrule
    >>> _ = chainrule.manual_seed(0)
    >>> y = chainrule.nn.functional.gumbel_softmax(chainrule.zeros(2, 3), hard=True)
    >>> y.sum(1)
    tensor([1., 1.])
    """
    from ..random import _const as batched_const, _draw
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    _float_in(logits, "gumbel_softmax", "softmax_lastdim_kernel_impl")
    # the noise fills a tensor like logits in place (as torch's does), so under
    # vmap(randomness='different') logits must be batched
    e, lv = _draw("gumbel_softmax", "exponential", logits._data.shape, 1.0, inplace=logits)
    y = softmax((logits + batched_const(-np.log(e), lv, logits._data.dtype)) / tau, dim)
    if not hard:
        return y
    d = _wrap_dim(dim, y.ndim, "gumbel_softmax")
    from ..autograd import _transforms as T
    yl, yd = T.levels_of(y._data)       # under vmap: the batched values, batch dims first
    if y._data.ndim:
        d += len(yl)
        onehot = np.zeros_like(yd)
        np.put_along_axis(onehot, np.expand_dims(np.argmax(yd, axis=d), d), 1.0, axis=d)
    else:
        onehot = np.ones_like(yd)
    return batched_const(onehot, yl) - y.detach() + y
