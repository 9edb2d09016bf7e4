"""nn.init: fill parameters in place (under no_grad) with torch's initialisation schemes."""
import math
import warnings

from ..autograd.grad_mode import no_grad
from ..random import _check_inplace

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant",
           "eye", "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "orthogonal", "sparse"]


def _cr():
    import chainrule
    return chainrule


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (std multiplier for the init schemes).

    >>> import chainrule
    >>> chainrule.nn.init.calculate_gain("tanh")
    1.6666666666666667
    >>> round(chainrule.nn.init.calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.size(1) * receptive, tensor.size(0) * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b) samples.

    >>> import chainrule
    >>> w = chainrule.nn.init.uniform_(chainrule.empty(100), -1.0, 1.0)
    >>> bool(w.abs().max() <= 1.0)
    True
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2) samples.

    >>> import chainrule
    >>> chainrule.nn.init.normal_(chainrule.empty(2, 2), std=0.02).shape
    chainrule.Size([2, 2])
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) samples conditioned on lying in [a, b] (exact rejection
    sampling: out-of-range draws are redrawn).

    >>> import chainrule
    >>> w = chainrule.nn.init.trunc_normal_(chainrule.empty(1000), std=1.0, a=-0.5, b=0.5)
    >>> bool(w.abs().max() <= 0.5)
    True
    """
    cr = _cr()
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    accept = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if accept < 1e-6:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] has probability {accept:.3g} "
                         f"under N({mean}, {std}^2); rejection sampling would not finish")
    _check_inplace(tensor, "trunc_normal_")
    with no_grad():
        n = tensor.numel()
        out = cr.empty(n, dtype=cr.float64)
        todo = cr.arange(n)
        while todo.numel():
            draw = cr.randn(todo.numel(), dtype=cr.float64, generator=generator) * std + mean
            ok = (draw >= a) & (draw <= b)
            out[todo[ok]] = draw[ok]
            todo = todo[~ok]
        return tensor.copy_(out.reshape(tensor.shape))


def constant_(tensor, val):
    """Fill with the value val.

    >>> import chainrule
    >>> chainrule.nn.init.constant_(chainrule.empty(2), 0.3)
    tensor([0.3000, 0.3000])
    """
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor):
    """Fill with 1.

    >>> import chainrule
    >>> chainrule.nn.init.ones_(chainrule.empty(2))
    tensor([1., 1.])
    """
    return constant_(tensor, 1.0)


def zeros_(tensor):
    """Fill with 0.

    >>> import chainrule
    >>> chainrule.nn.init.zeros_(chainrule.empty(2))
    tensor([0., 0.])
    """
    with no_grad():
        return tensor.zero_()


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal).

    >>> import chainrule
    >>> chainrule.nn.init.eye_(chainrule.empty(2, 3))
    tensor([[1., 0., 0.],
            [0., 1., 0.]])
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    with no_grad():
        return tensor.copy_(_cr().eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D conv weight with the Dirac delta (identity convolution),
    per group.

    >>> import chainrule
    >>> w = chainrule.nn.init.dirac_(chainrule.empty(2, 2, 3))
    >>> w[:, :, 1]
    tensor([[1., 0.],
            [0., 1.]])
    """
    nd = tensor.dim()
    if nd not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    size = tensor.shape
    if size[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = size[0] // groups
    n = min(out_per_group, size[1])
    with no_grad():
        tensor.zero_()
        centre = tuple(k // 2 for k in size[2:])
        for g in range(groups):
            for d in range(n):
                tensor[(g * out_per_group + d, d) + centre] = 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    >>> import chainrule
    >>> w = chainrule.nn.init.xavier_uniform_(chainrule.empty(3, 5))
    >>> bool(w.abs().max() <= 3 ** 0.5 * (2 / 8) ** 0.5)
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).

    >>> import chainrule
    >>> chainrule.nn.init.xavier_normal_(chainrule.empty(3, 5)).shape
    chainrule.Size([3, 5])
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _zero_element(tensor):
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op")
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound), bound = gain * sqrt(3 / fan) with gain from
    calculate_gain(nonlinearity, a) and fan by mode.

    >>> import chainrule
    >>> w = chainrule.nn.init.kaiming_uniform_(chainrule.empty(4, 6), a=5 ** 0.5)
    >>> bool(w.abs().max() <= 1 / 6 ** 0.5)
    True
    """
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2), std = gain / sqrt(fan).

    >>> import chainrule
    >>> chainrule.nn.init.kaiming_normal_(chainrule.empty(4, 6), mode="fan_out").shape
    chainrule.Size([4, 6])
    """
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix (QR of a Gaussian matrix, signs fixed so the
    result is uniformly distributed), scaled by gain; dims after the first are flattened.

    >>> import chainrule
    >>> w = chainrule.nn.init.orthogonal_(chainrule.empty(3, 3))
    >>> bool(((w @ w.T) - chainrule.eye(3)).abs().max() < 1e-5)
    True
    """
    cr = _cr()
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    _check_inplace(tensor, "orthogonal_")
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flat = cr.randn(rows, cols, dtype=cr.float64, generator=generator)
    if rows < cols:
        flat = flat.T
    q, r = cr.linalg.qr(flat)
    d = (r * cr.eye(r.shape[0], dtype=r.dtype)).sum(0).sign()
    d = cr.where(d == 0, cr.ones_like(d), d)
    q = q * d
    if rows < cols:
        q = q.T
    with no_grad():
        tensor.copy_(q.reshape(tensor.shape) * gain)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor with N(0, std^2) values, zeroing a fraction sparsity of each
    column.

    >>> import chainrule
    >>> w = chainrule.nn.init.sparse_(chainrule.empty(10, 3), 0.5)
    >>> [int((w[:, j] == 0).sum()) for j in range(3)]
    [5, 5, 5]
    """
    cr = _cr()
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    n_zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for j in range(cols):
            idx = cr.randperm(rows, generator=generator)[:n_zeros]
            tensor[idx, j] = 0
    return tensor


def _deprecated(new):
    def old(*args, **kwargs):
        warnings.warn(f"nn.init.{new.__name__[:-1]} is now deprecated in favor of "
                      f"nn.init.{new.__name__}.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = new.__name__[:-1]
    old.__doc__ = f"Deprecated alias of {new.__name__}."
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
