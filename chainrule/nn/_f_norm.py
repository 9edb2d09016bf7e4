"""Normalisation and dropout functions. The normalisations share one fused primitive
(``ops.nn_ops.Standardize``) and add the affine part with ordinary ops; dropout masks come from
chainrule's global generator, so ``manual_seed`` makes them repeatable."""
import warnings

import numpy as np

from ..autograd import grad_mode
from ..ops import elementwise as E
from ..ops.nn_ops import Standardize
from ..random import _const as _bconst, _draw
from ._f_activation import _const, _inplace, _tensor_arg, _tname

__all__ = ["normalize", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout", "layer_norm", "group_norm", "batch_norm", "instance_norm",
           "local_response_norm", "rms_norm"]

# selu's scale * alpha: alpha_dropout sets dropped elements to minus this
_ALPHA_PRIME = 1.7580993408473766


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim.

    >>> import chainrule
    >>> chainrule.nn.functional.normalize(chainrule.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    _tensor_arg(input, "normalize")
    denom = E.clamp(input.norm(p, dim, keepdim=True), min=eps).expand_as(input)
    if out is None:
        return input / denom
    if grad_mode.is_grad_enabled() and (input.requires_grad or out.requires_grad):
        raise RuntimeError("div(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    return out.copy_(input / denom)


# -- dropout ----------------------------------------------------------------------------------
def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep(shape, p, op):
    """The keep mask (True with probability 1 - p) and the vmap levels it is batched at."""
    u, lv = _draw(op, "random", shape)
    return u >= p, lv


def _mask(arr, x, levels):
    return _bconst(arr, levels, x._data.dtype) if levels else _const(arr, x)


def _mask_shape(x, feature):
    s = x._data.shape
    if not feature:
        return s
    if len(s) < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input "
                           f"(got {len(s)})")
    return s[:2] + (1,) * (len(s) - 2)


def _dropout(input, p, training, inplace, feature, alpha, name):
    _tensor_arg(input, name)
    _check_p(p)
    if not training or p == 0:
        return input
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_tname(input)}")
    shape = _mask_shape(input, feature)
    if p == 1:
        def fn(x):
            return x * _const(np.zeros(shape), x)
    elif alpha:
        keep, lv = _keep(shape, p, name)
        a = ((_ALPHA_PRIME ** 2 * p + 1) * (1 - p)) ** -0.5
        mult = keep * a
        shift = (keep - 1.0) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p

        def fn(x):
            return x * _mask(mult, x, lv) + _mask(shift, x, lv)
    else:
        keep, lv = _keep(shape, p, name)
        mult = keep * (1.0 / (1 - p))

        def fn(x):
            return x * _mask(mult, x, lv)
    return _inplace(fn, input, name=name + "_") if inplace else fn(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p).

    >>> import chainrule
    >>> chainrule.nn.functional.dropout(chainrule.ones(3), 0.5, training=False)
    tensor([1., 1., 1.])
    """
    return _dropout(input, p, training, inplace, False, False, "dropout")


def _feature_dropout(input, p, training, inplace, batched_ndim):
    """Channel dropout; an input with one dim fewer than batched_ndim is one sample."""
    if input.ndim == batched_ndim:
        return _dropout(input, p, training, inplace, True, False, "feature_dropout")
    out = _dropout(input.unsqueeze(0), p, training, inplace, True, False, "feature_dropout")
    return input if inplace else out.squeeze(0)


def _warn_ndim(name, nd, ok):
    if nd not in ok:
        warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and "
                      "will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead.", stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels (dim 1 of (N, C, L), or dim 0 of (C, L)) with probability p.

    >>> import chainrule
    >>> chainrule.nn.functional.dropout1d(chainrule.ones(1, 2, 3), training=False).shape
    chainrule.Size([1, 2, 3])
    """
    _tensor_arg(input, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input with probability p.

    >>> import chainrule
    >>> chainrule.nn.functional.dropout2d(chainrule.ones(1, 2, 3, 3), 0.0).shape
    chainrule.Size([1, 2, 3, 3])
    """
    _tensor_arg(input, "dropout2d")
    _check_p(p)
    nd = input.ndim
    _warn_ndim("dropout2d", nd, (3, 4))
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim.", stacklevel=2)
    return _dropout(input, p, training, inplace, True, False, "feature_dropout")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) (or (C, D, H, W)) input with probability p.

    >>> import chainrule
    >>> chainrule.nn.functional.dropout3d(chainrule.ones(1, 2, 2, 2, 2), 0.0).shape
    chainrule.Size([1, 2, 2, 2, 2])
    """
    _tensor_arg(input, "dropout3d")
    _check_p(p)
    _warn_ndim("dropout3d", input.ndim, (4, 5))
    return _feature_dropout(input, p, training, inplace, 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps the mean and variance of selu activations: dropped elements take
    selu's negative saturation value, then an affine map restores the statistics.

    >>> import chainrule
    >>> chainrule.nn.functional.alpha_dropout(chainrule.ones(2), 0.5)
    tensor([1., 1.])
    """
    return _dropout(input, p, training, inplace, False, True, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout that drops whole channels.

    >>> import chainrule
    >>> chainrule.nn.functional.feature_alpha_dropout(chainrule.ones(1, 2), 0.5).shape
    chainrule.Size([1, 2])
    """
    return _dropout(input, p, training, inplace, True, True, "feature_alpha_dropout")


# -- normalisation ----------------------------------------------------------------------------
def _norm_input(input, op, kernel):
    _tensor_arg(input, op)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"\"{kernel}\" not implemented for '{_tname(input)}'")


def _same_dtype(input, affine, stats=()):
    """torch's CPU norms take parameters in the input's dtype, or reduced-precision input may
    use float32 parameters: True then (compute in float32, return the input's dtype)."""
    dt = input.dtype
    if all(p is None or p.dtype == dt for p in affine + stats):
        return False
    given = [p for p in affine + stats if p is not None]
    if dt.itemsize < 4 and all(p.dtype.name == "float32" for p in given):
        return True
    if any(p is not None and p.dtype != dt for p in affine) or not any(
            p is not None for p in affine):
        if dt.name == "float32" or dt.itemsize < 4:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               "Float")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    bad = next(p for p in stats if p is not None and p.dtype != dt)
    raise RuntimeError(f"expected scalar type {_tname(input)} but found {_tname(bad)}")


def _channel_param(p, c, ndim, what, op_shape):
    """weight/bias of C elements as a tensor broadcasting against (N, C, *)."""
    if p.numel() != c:
        raise RuntimeError(f"{what} should contain {c} elements not {p.numel()}"
                           if op_shape is None else
                           f"Expected {what} to be a vector of size equal to the number of "
                           f"channels in input, but got {what} of shape {list(p.shape)} and "
                           f"input of shape {op_shape}")
    return p.reshape((c,) + (1,) * max(ndim - 2, 0))


def _affine(x, weight, bias):
    if weight is not None:
        x = x * weight
    if bias is not None:
        x = x + bias
    return x


def _verify_batch_size(size):
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")


def _shape_list(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)) or not all(
            isinstance(s, (int, np.integer)) for s in normalized_shape):
        raise TypeError(f"layer_norm(): argument 'normalized_shape' (position 2) must be tuple "
                        f"of ints, not {type(normalized_shape).__name__}")
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalise over the trailing ``normalized_shape`` dims, then scale and shift.

    >>> import chainrule
    >>> chainrule.nn.functional.layer_norm(chainrule.tensor([[1.0, 3.0]]), [2])
    tensor([[-1.0000,  1.0000]])
    """
    _norm_input(input, "layer_norm", "LayerNormKernelImpl")
    ns = _shape_list(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.ndim - k:]) != ns or k > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")
    for p, what in ((weight, "weight"), (bias, "bias")):
        if p is not None and tuple(p.shape) != ns:
            raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but "
                               f"got {what} of shape {list(p.shape)} and normalized_shape = "
                               f"{list(ns)}")
    if _same_dtype(input, (weight, bias)):
        return layer_norm(input.float(), ns, weight, bias, eps).to(input.dtype)
    axes = tuple(range(input.ndim - k, input.ndim))
    return Standardize.apply(input, weight, bias, axes, eps, None)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times weight; eps defaults to the
    dtype's machine epsilon.

    >>> import chainrule
    >>> chainrule.nn.functional.rms_norm(chainrule.tensor([[3.0, 3.0]]), [2])
    tensor([[1., 1.]])
    """
    _norm_input(input, "rms_norm", "rms_norm")
    ns = _shape_list(normalized_shape)
    k = len(ns)
    if tuple(input.shape[input.ndim - k:]) != ns or k > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(map(str, ns))}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    if weight is not None and weight.dtype != input.dtype:
        # torch keeps the input's dtype whatever the weight's (reduced input: float32 math)
        x = input.float() if input.dtype.itemsize < 4 else input
        return rms_norm(x, ns, weight.to(x.dtype), eps).to(input.dtype)
    axes = tuple(range(input.ndim - k, input.ndim))
    out = input / E.sqrt((input * input).mean(axes, keepdim=True) + eps)
    return out * weight if weight is not None else out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalise each group of num_groups channel groups of (N, C, *) over its channels and
    positions, then scale and shift per channel.

    >>> import chainrule
    >>> chainrule.nn.functional.group_norm(chainrule.tensor([[1.0, 3.0]]), 1)
    tensor([[-1.0000,  1.0000]])
    """
    _tensor_arg(input, "group_norm")
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    shape = tuple(input.shape)
    n, c = shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(shape)} and "
                           f"num_groups={num_groups}")
    _verify_batch_size([n * c // num_groups, num_groups] + list(shape[2:]))
    _norm_input(input, "group_norm", "GroupNormKernelImpl")
    if _same_dtype(input, (weight, bias)):
        return group_norm(input.float(), num_groups, weight, bias, eps).to(input.dtype)
    nd = input.ndim
    w = _channel_param(weight, c, nd, "weight", list(shape)) if weight is not None else None
    b = _channel_param(bias, c, nd, "bias", list(shape)) if bias is not None else None
    xhat = Standardize.apply(input.reshape(n, num_groups, -1), None, None, (2,), eps, None)
    return _affine(xhat.reshape(shape), w, b)


def _update_running(running, batch_value, momentum):
    from ..ops.inplace import _bump
    d = running._data
    np.copyto(d, (1 - momentum) * d + momentum * batch_value.astype(d.dtype, copy=False))
    _bump(running)


def _eval_norm(input, rm, rv, weight, bias, eps, c):
    """(x - running_mean) / sqrt(running_var + eps), affine, as one scale and one shift."""
    nd = input.ndim
    bshape = (c,) + (1,) * max(nd - 2, 0)
    rstd = 1.0 / np.sqrt(rv._data.astype(input._data.dtype) + eps)
    mean = rm._data.astype(input._data.dtype)
    scale = _const(rstd, input) if weight is None else weight * _const(rstd, input)
    shift = _const(-mean, input) * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(bshape) + shift.reshape(bshape)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalise each channel (dim 1) over the batch and positions. Training uses the batch
    statistics and updates running_mean / running_var in place with momentum (the variance
    unbiased); evaluation uses the running statistics.

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0], [3.0]])
    >>> rm, rv = chainrule.zeros(1), chainrule.ones(1)
    >>> chainrule.nn.functional.batch_norm(x, rm, rv, training=True)
    tensor([[-1.0000],
            [ 1.0000]])
    >>> rm, rv
    (tensor([0.2000]), tensor([1.1000]))
    """
    _tensor_arg(input, "batch_norm")
    shape = list(input.shape)
    if training:
        _verify_batch_size(shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    _norm_input(input, "batch_norm", "batch_norm")
    nd = input.ndim
    c = shape[1] if nd > 1 else 0
    for p, what in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        if p is not None and p.numel() != c:
            raise RuntimeError(f"{what} should contain {c} elements not {p.numel()}")
    if _same_dtype(input, (weight, bias), (running_mean, running_var)):
        return batch_norm(input.float(), running_mean, running_var, weight, bias, training,
                          momentum, eps).to(input.dtype)
    w = _channel_param(weight, c, nd, "weight", None) if weight is not None else None
    b = _channel_param(bias, c, nd, "bias", None) if bias is not None else None
    if not training:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        return _eval_norm(input, running_mean, running_var, weight, bias, eps, c)
    stats = [] if running_mean is not None or running_var is not None else None
    axes = (0,) + tuple(range(2, nd))
    out = Standardize.apply(input, w, b, axes, eps, stats)
    n = input.numel() // c
    if running_mean is not None:
        _update_running(running_mean, stats[0].reshape(c), momentum)
    if running_var is not None:
        _update_running(running_var, stats[1].reshape(c) * (n / max(n - 1, 1)), momentum)
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalise each channel of each sample over its positions (batch_norm per instance);
    running statistics, when given, track the batch average of the instance statistics.

    >>> import chainrule
    >>> chainrule.nn.functional.instance_norm(chainrule.tensor([[[1.0, 3.0]]]))
    tensor([[[-1.0000,  1.0000]]])
    """
    _tensor_arg(input, "instance_norm")
    shape = list(input.shape)
    if use_input_stats:
        size = 1
        for s in shape[2:]:
            size *= s
        if size == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input "
                             f"size {shape}")
    _norm_input(input, "instance_norm", "batch_norm")
    nd = input.ndim
    c = shape[1]
    for p, what in ((running_mean, "running_mean"), (running_var, "running_var")):
        if p is not None and p.numel() != c:
            raise RuntimeError(f"{what} should contain {c} elements not {p.numel()}")
    if _same_dtype(input, (weight, bias), (running_mean, running_var)):
        return instance_norm(input.float(), running_mean, running_var, weight, bias,
                             use_input_stats, momentum, eps).to(input.dtype)
    w = _channel_param(weight, c, nd, "weight", None) if weight is not None else None
    b = _channel_param(bias, c, nd, "bias", None) if bias is not None else None
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        return _eval_norm(input, running_mean, running_var, weight, bias, eps, c)
    # statistics only when something tracks them (vmap refuses a stats list)
    stats = [] if running_mean is not None or running_var is not None else None
    out = Standardize.apply(input, w, b, tuple(range(2, nd)), eps, stats)
    n = input.numel() // (shape[0] * c)
    if running_mean is not None:
        _update_running(running_mean, stats[0].reshape(shape[0], c).mean(0), momentum)
    if running_var is not None:
        unbiased = stats[1].reshape(shape[0], c) * (n / max(n - 1, 1))
        _update_running(running_var, unbiased.mean(0), momentum)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over a window of ``size`` neighbouring channels)^beta.

    >>> import chainrule
    >>> chainrule.nn.functional.local_response_norm(chainrule.ones(1, 2, 1), 2, alpha=1.0)
    tensor([[[0.7378],
             [0.5946]]])
    """
    _tensor_arg(input, "local_response_norm")
    nd = input.ndim
    if nd < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {nd} dimensions)")
    if input.numel() == 0:
        return input
    c = input.shape[1]
    # window of channel j: j - size // 2 ... j + (size - 1) // 2, as a band matrix
    i = np.arange(c)
    lo, hi = i - size // 2, i + (size - 1) // 2
    band = ((i[:, None] >= lo[None, :]) & (i[:, None] <= hi[None, :])) / size
    sq = (input * input).transpose(1, -1)
    win = (sq @ _const(band, input)).transpose(1, -1)
    return input / (win * alpha + k) ** beta
