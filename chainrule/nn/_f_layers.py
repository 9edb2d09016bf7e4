"""Layer functions: linear, conv, pooling, padding, interpolation, embedding, attention (issue 3).

Convolution and max pooling run on the primitives of ``chainrule.ops.conv``; everything else
here is a composite of existing ops (no backward of its own)."""
import math

import numpy as np

from .. import dtypes as _dt
from .._tensor import Tensor, _wrap_dim
from ..autograd import _transforms as _T
from ..ops import conv as _C
from ..ops import elementwise as _E
from ..ops import index as _I
from ..ops import inplace as _IP
from ..ops.nn_ops import Linear, linear_fast

__all__ = ["linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d",
           "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
           "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "lp_pool1d",
           "lp_pool2d", "lp_pool3d", "interpolate", "upsample", "upsample_nearest",
           "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle", "unfold", "fold", "embedding", "embedding_bag", "one_hot",
           "cosine_similarity", "pairwise_distance", "scaled_dot_product_attention",
           "multi_head_attention_forward", "pad"]

_make = Tensor._make


# -- argument checks -------------------------------------------------------------------------
def _tensor_arg(x, name, op, pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _ints(v, n, name, op):
    """An int or a sequence of n ints, as a tuple of n ints."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * n
    if isinstance(v, Tensor):
        v = v.tolist()
    try:
        t = tuple(int(a) for a in v)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                        f"{type(v).__name__}") from None
    if len(t) == 1:
        return t * n
    if len(t) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{name}={list(t)}")
    return t


def _float_input(x, op):
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype} (shape "
                           f"{list(x.shape)})")


def _batched(x, nd, op):
    """Lift an unbatched input to a batch of one; returns (x, was_unbatched)."""
    dim = x._data.ndim
    if dim == nd + 2:
        return x, False
    if dim == nd + 1:
        return x.unsqueeze(0), True
    raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, "
                       f"but got input of size: {list(x.shape)}")


def _unbatch(y, unbatched):
    return y.squeeze(0) if unbatched else y


def _join(t):
    return " x ".join(str(a) for a in t)


# -- linear ----------------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """``input @ weight.T + bias`` over the last dim of input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.linear(chainrule.ones(2, 3), chainrule.ones(4, 3), chainrule.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    out = linear_fast(input, weight, bias)      # the fused common case
    if out is not None:
        return out
    if isinstance(input, Tensor) and isinstance(weight, Tensor):
        xd, wd = input._data, weight._data
        dt = xd.dtype
        if (wd.ndim == 2 and xd.ndim and dt.kind == "f" and wd.dtype == dt
                and xd.shape[-1] == wd.shape[1] and (
                    bias is None or isinstance(bias, Tensor) and bias._data.dtype == dt
                    and bias._data.shape == wd.shape[:1])):
            return Linear.apply(input, weight, bias)     # under a transform or anomaly mode
    _tensor_arg(input, "input", "linear")
    _tensor_arg(weight, "weight", "linear", 2)
    if bias is not None and weight._data.ndim == 1 and input._data.ndim > 1:
        raise RuntimeError(f"linear: mat2 must be a matrix, got 1-D tensor (weight of size "
                           f"{list(weight.shape)} with a bias)")
    out = input.matmul(weight.t() if weight._data.ndim == 2 else weight)
    if bias is not None:
        _tensor_arg(bias, "bias", "linear", 3)
        if out._data.shape[-1:] != bias._data.shape[-1:] and bias._data.size != 1:
            raise RuntimeError(f"linear: the expanded size of the tensor "
                               f"({out._data.shape[-1]}) must match the existing size "
                               f"({bias._data.shape[-1]}) at non-singleton dimension "
                               f"{out._data.ndim - 1}. Output sizes: {list(out.shape)}, bias "
                               f"sizes: {list(bias.shape)}")
        out = out + bias
    return out


def bilinear(input1, input2, weight, bias=None):
    """``y[..., k] = input1 @ weight[k] @ input2 + bias[k]``.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.bilinear(chainrule.ones(2, 3), chainrule.ones(2, 4), chainrule.ones(5, 3, 4)).shape
    chainrule.Size([2, 5])
    """
    for i, (t, n) in enumerate(((input1, "input1"), (input2, "input2"), (weight, "weight"))):
        _tensor_arg(t, n, "bilinear", i + 1)
    s1, s2, sw = input1._data.shape, input2._data.shape, weight._data.shape
    if len(sw) != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional, got shape {list(sw)}")
    if s1[:-1] != s2[:-1] or len(s1) != len(s2):
        if len(s1) != len(s2):
            raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and "
                               f"{len(s2)}")
        d = next(i for i, (a, b) in enumerate(zip(s1, s2)) if a != b)
        raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got "
                           f"{s1[d]} and {s2[d]}")
    if s1[-1] != sw[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {s1[-1]} "
                           f"but expected {sw[1]}")
    if s2[-1] != sw[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {s2[-1]} "
                           f"but expected {sw[2]}")
    if bias is not None and bias._data.shape != (sw[0],):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{list(bias.shape)} but expected [{sw[0]}]")
    # (..., 1, 1, in1) @ (out, in1, in2) -> (..., out, 1, in2)
    t = input1.unsqueeze(-2).unsqueeze(-2).matmul(weight).squeeze(-2)
    out = (t * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out


# -- convolution -----------------------------------------------------------------------------
def _conv_common(nd, input, weight, bias, stride, dilation, groups, op):
    _tensor_arg(input, "input", op)
    _tensor_arg(weight, "weight", op, 2)
    if bias is not None:
        _tensor_arg(bias, "bias", op, 3)
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 2}-D weight (out_channels, in_channels / "
                           f"groups, *kernel_size), but got weight of size {list(weight.shape)}")
    stride = _ints(stride, nd, "stride", op)
    dilation = _ints(dilation, nd, "dilation", op)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"{op}: expected scalar type {input.dtype.name.capitalize()} but "
                           f"found {weight.dtype.name.capitalize()} (input {list(input.shape)}, "
                           f"weight {list(weight.shape)})")
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"Input type ({input.dtype.name}) and bias type ({bias.dtype.name}) "
                           "should be the same")
    return stride, dilation, int(groups)


def _conv(nd, input, weight, bias, stride, padding, dilation, groups, op):
    stride, dilation, groups = _conv_common(nd, input, weight, bias, stride, dilation, groups,
                                            op)
    x, unb = _batched(input, nd, op)
    ws = weight._data.shape
    o, cg, k = ws[0], ws[1], ws[2:]
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(ws)}] instead")
    if x._data.shape[1] != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(ws)}, expected "
                           f"input{list(x.shape)} to have {cg * groups} channels, but got "
                           f"{x._data.shape[1]} channels instead")
    if bias is not None and bias._data.shape != (o,):
        raise RuntimeError(f"Given weight of size {list(ws)}, expected bias to be 1-dimensional "
                           f"with {o} elements, but got bias of size {list(bias.shape)} instead")
    size = x._data.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [d * (kk - 1) for d, kk in zip(dilation, k)]
            lo = tuple(t // 2 for t in tot)
            hi = tuple(t - t // 2 for t in tot)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        lo = hi = _ints(padding, nd, "padding", op)
        if any(p < 0 for p in lo):
            raise RuntimeError("negative padding is not supported")
    padded = tuple(n + a + b for n, a, b in zip(size, lo, hi))
    ext = tuple(d * (kk - 1) + 1 for d, kk in zip(dilation, k))
    if any(p < e for p, e in zip(padded, ext)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_join(padded)}). "
                           f"Kernel size: ({_join(ext)}). Kernel size can't be greater than "
                           "actual input size")
    g = _C.geom(size, k, stride, lo, hi, dilation)
    return _unbatch(_C.Conv.apply(x, weight, bias, g, groups), unb)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C, L) input with (O, C/groups, k) weight;
    padding may be an int, a tuple, 'valid' or 'same'.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.conv1d(chainrule.ones(1, 2, 5), chainrule.ones(3, 2, 2)).shape
    chainrule.Size([1, 3, 4])
    """
    return _conv(1, input, weight, bias, stride, padding, dilation, groups, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C, H, W) input with (O, C/groups, kh, kw)
    weight; padding may be an int, a tuple, 'valid' or 'same'.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.conv2d(chainrule.ones(1, 1, 4, 4), chainrule.ones(2, 1, 3, 3), padding=1)[0, 0]
    tensor([[4., 6., 6., 4.],
            [6., 9., 9., 6.],
            [6., 9., 9., 6.],
            [4., 6., 6., 4.]])
    """
    return _conv(2, input, weight, bias, stride, padding, dilation, groups, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C, D, H, W) input with (O, C/groups, kd, kh, kw) weight.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.conv3d(chainrule.ones(1, 1, 3, 3, 3), chainrule.ones(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 2, 2, 2])
    """
    return _conv(3, input, weight, bias, stride, padding, dilation, groups, "conv3d")


def _conv_transpose(nd, input, weight, bias, stride, padding, output_padding, groups,
                    dilation, op):
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    stride, dilation, groups = _conv_common(nd, input, weight, bias, stride, dilation, groups,
                                            op)
    x, unb = _batched(input, nd, op)
    pad = _ints(padding, nd, "padding", op)
    opad = _ints(output_padding, nd, "output_padding", op)
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in opad):
        raise RuntimeError("negative output_padding is not supported")
    ws = weight._data.shape
    cin, cg, k = ws[0], ws[1], ws[2:]
    if x._data.shape[1] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected "
                           f"input{list(x.shape)} to have {cin} channels, but got "
                           f"{x._data.shape[1]} channels instead")
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{list(ws)}] instead")
    if bias is not None and bias._data.shape != (cg * groups,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(ws)}, expected bias to be "
                           f"1-dimensional with {cg * groups} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    for p, s, d in zip(opad, stride, dilation):
        if p >= s and p >= d:
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, "
                               f"but got output_padding={list(opad)}, stride={list(stride)}, "
                               f"dilation={list(dilation)}")
    size_in = x._data.shape[2:]
    size = tuple((n - 1) * s - 2 * p + d * (kk - 1) + q + 1
                 for n, s, p, d, kk, q in zip(size_in, stride, pad, dilation, k, opad))
    if any(n <= 0 for n in size):
        raise RuntimeError(f"{op}: given input size {list(size_in)}, calculated output size "
                           f"{list(size)} is too small")
    g = _C.geom(size, k, stride, pad, pad, dilation, out=size_in)
    return _unbatch(_C.ConvTranspose.apply(x, weight, bias, g, groups, True), unb)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-D convolution (the input gradient of conv1d); weight is
    (C_in, C_out/groups, k).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.conv_transpose1d(chainrule.ones(1, 2, 4), chainrule.ones(2, 3, 3), stride=2).shape
    chainrule.Size([1, 3, 9])
    """
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution (the input gradient of conv2d); weight is
    (C_in, C_out/groups, kh, kw).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.conv_transpose2d(chainrule.ones(1, 1, 2, 2), chainrule.ones(1, 1, 2, 2))[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 3-D convolution; weight is (C_in, C_out/groups, kd, kh, kw).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.conv_transpose3d(chainrule.ones(1, 1, 2, 2, 2), chainrule.ones(1, 2, 2, 2, 2)).shape
    chainrule.Size([1, 2, 3, 3, 3])
    """
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation, "conv_transpose3d")


# -- pooling ---------------------------------------------------------------------------------
def _pool_size(n, k, s, p, d, ceil):
    num = n + 2 * p - d * (k - 1) - 1
    o = (num + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def _pool_geom(nd, x, kernel_size, stride, padding, dilation, ceil_mode, op):
    k = _ints(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _ints(stride, nd, "stride", op)
    p = _ints(padding, nd, "padding", op)
    d = _ints(dilation, nd, "dilation", op)
    if any(v == 0 for v in s):
        raise RuntimeError("stride should not be zero")
    if any(v <= 0 for v in k):
        raise RuntimeError(f"kernel_size must be greater than zero, but got {list(k)}")
    if any(v < 0 for v in s):
        raise RuntimeError(f"stride must be greater than zero, but got {list(s)}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(d)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"pad must be non-negative, but got {list(p)}")
    for pp, kk, dd in zip(p, k, d):
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    size = x._data.shape[2:]
    out = tuple(_pool_size(n, kk, ss, pp, dd, ceil_mode)
                for n, kk, ss, pp, dd in zip(size, k, s, p, d))
    if any(o < 1 for o in out):
        c = x._data.shape[1]
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, (c,) + size))}). Calculated "
                           f"output size: ({'x'.join(map(str, (c,) + out))}). Output size is too "
                           "small")
    return _C.geom(size, k, s, p, p, d, out=out)


def _pool_input(x, nd, op):
    _tensor_arg(x, "input", op)
    if x._data.ndim not in (nd + 1, nd + 2) or x._data.size == 0:
        raise RuntimeError(f"{op}: non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor "
                           f"expected for input, but got input of size {list(x.shape)}")
    return _batched(x, nd, op)


def _flat_index(k, g):
    """Torch's max-pool indices (flat over the input's spatial dims) from the local argmax."""
    taps = np.array(g.taps, dtype=np.int64).reshape(g.K, len(g.size))
    flat = np.zeros(k.shape, np.int64)
    lead = k.ndim - len(g.size)     # (N, C) and any vmap batch dims before them
    for i, (n, s, p, d, o) in enumerate(zip(g.size, g.s, g.lo, g.d, g.out)):
        shape = [1] * k.ndim
        shape[lead + i] = o
        start = (np.arange(o, dtype=np.int64) * s - p).reshape(shape)
        flat = flat * n + start + taps[k, i] * d
    return flat


def _max_pool(nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              op):
    x, unb = _pool_input(input, nd, op)
    g = _pool_geom(nd, x, kernel_size, stride, padding, dilation, ceil_mode, op)
    out, k = _C.MaxPool.apply(x, g)
    if not return_indices:
        return _unbatch(out, unb)
    kd = k._data
    if type(kd) is np.ndarray:
        idx = _make(_flat_index(kd, g))
    else:       # under vmap: the same on the physical array, batched alike
        levels, raw = _T.levels_of(kd)
        idx = _make(_T.batched(_flat_index(raw, g), levels))
    return _unbatch(out, unb), _unbatch(idx, unb)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L) input; ``return_indices`` also gives each max's
    flat position in the input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.max_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 5.0]]]), 2)
    tensor([[[3., 5.]]])
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W) input (padding counts as -inf); ties go to the
    first position in the window, as in torch.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.max_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "max_pool2d")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W) input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.max_pool3d(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 2).reshape(-1)
    tensor([7.])
    """
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, "max_pool3d")


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool1d returning (values, indices).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.max_pool1d_with_indices(chainrule.tensor([[[1.0, 3.0]]]), 2)[1]
    tensor([[[1]]])
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, True,
                     "max_pool1d")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool2d returning (values, indices).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.max_pool2d_with_indices(chainrule.arange(4.0).reshape(1, 1, 2, 2), 2)[1]
    tensor([[[[3]]]])
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, True,
                     "max_pool2d")


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """max_pool3d returning (values, indices).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.max_pool3d_with_indices(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 2)[1].reshape(-1)
    tensor([7])
    """
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, True,
                     "max_pool3d")


def _window_counts(g, include_pad):
    """Per-dim number of elements each window averages over (torch's divisor rule)."""
    counts = []
    for n, k, s, p, o in zip(g.size, g.k, g.s, g.lo, g.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        if include_pad:
            counts.append(end - start)
        else:
            counts.append(np.minimum(end, n) - np.maximum(start, 0))
    return counts


def _avg_pool(nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, op):
    x, unb = _pool_input(input, nd, op)
    if x._data.dtype.kind not in "fiu":
        raise RuntimeError(f"\"{op}\" not implemented for '{x.dtype.name.capitalize()}'")
    g = _pool_geom(nd, x, kernel_size, stride, padding, 1, ceil_mode, op)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    n, c = x._data.shape[:2]
    sums = _C.Im2Col.apply(x, g, True).reshape((n, c, g.K) + g.out).sum(2)
    if divisor_override is not None:
        div = np.full(g.out, float(divisor_override))
    else:
        counts = _window_counts(g, count_include_pad)
        div = counts[0].astype(np.float64)
        for cnt in counts[1:]:
            div = np.multiply.outer(div, cnt)
    if x._data.dtype.kind != "f":
        s = sums._data
        q = np.abs(s) // div.astype(np.int64)
        return _unbatch(_make((np.sign(s) * q).astype(x._data.dtype)), unb)
    if np.all(div == div.flat[0]):
        return _unbatch(sums / float(div.flat[0]), unb)
    return _unbatch(sums / _make(div.astype(x._data.dtype)), unb)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L) input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.avg_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     None, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) input; ``count_include_pad`` decides whether
    zero padding counts in the divisor, ``divisor_override`` replaces it.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.avg_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 2)
    tensor([[[[ 2.5000,  4.5000],
              [10.5000, 12.5000]]]])
    """
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool2d")


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W) input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.avg_pool3d(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 2).reshape(-1)
    tensor([3.5000])
    """
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, "avg_pool3d")


def _adaptive_sizes(x, nd, output_size, op):
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1 and nd > 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise RuntimeError(f"{op}: output_size must be {nd}, but got {len(output_size)}")
    size = x._data.shape[-nd:]
    out = tuple(n if o is None else int(o) for o, n in zip(output_size, size))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{op}: elements of output_size must be greater than or equal to 0 "
                           f"but received {list(out)}")
    return size, out


def _adaptive_input(x, nd, op):
    _tensor_arg(x, "input", op)
    if x._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(x.shape)}")
    if any(s == 0 for s in x._data.shape[-nd:]):
        raise RuntimeError(f"{op}(): Expected input to have non-zero size for non-batch "
                           f"dimensions, but input has sizes {list(x.shape)}")


def _bounds(n, o):
    i = np.arange(o)
    return (i * n) // o, -((-(i + 1) * n) // o)


def _avg_matrix(n, o, npd):
    start, end = _bounds(n, o)
    m = np.zeros((o, n))
    for i, (a, b) in enumerate(zip(start, end)):
        m[i, a:b] = 1.0 / (b - a)
    return m.astype(npd)


def _along(x, m, axis):
    """Apply the (out, in) matrix m along ``axis`` (negative) of x, as one matmul."""
    if axis == -1:
        return x.matmul(_make(np.ascontiguousarray(m.T)))
    if axis == -2:
        return _make(m).matmul(x)
    shape = x._data.shape
    nd = -axis
    lead = shape[:len(shape) - nd]
    flat = x.reshape(lead + (shape[-nd], -1))
    out = _make(m).matmul(flat)
    return out.reshape(lead + (m.shape[0],) + shape[len(shape) - nd + 1:])


# -- max unpooling ---------------------------------------------------------------------------
_LONG_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
               "bool": "Bool", "float16": "Half", "float32": "Float", "float64": "Double",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def _unpool_tuple(v, nd):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * nd
    t = tuple(int(a) for a in v)
    if len(t) != nd:
        raise IndexError("tuple index out of range")
    return t


def _unpool_output_size(input, k, s, p, output_size):
    """torch's rule: the default size (in - 1) * stride - 2 * padding + kernel; an explicit
    output_size (spatial, or with the two leading dims) within one stride of it."""
    nd = len(k)
    shape = tuple(input.shape)
    if len(shape) < nd:
        raise IndexError("tuple index out of range")
    default = [(shape[len(shape) - nd + d] - 1) * s[d] + k[d] - 2 * p[d] for d in range(nd)]
    if output_size is None:
        return default
    size = [int(a) for a in output_size]
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(nd):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < size[d] < hi:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f'between {lo} and {hi})')
    return size


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size, op):
    for t, name, pos in ((input, "input", 1), (indices, "indices", 2)):
        _tensor_arg(t, name, op, pos)
    k = _unpool_tuple(kernel_size, nd)
    s = k if stride is None else _unpool_tuple(stride, nd)
    p = _unpool_tuple(padding, nd)
    size = _unpool_output_size(input, k, s, p, output_size)
    kernel = "max_unpooling3d" if nd == 3 else "max_unpooling2d"
    ndim = input.ndim + (nd == 1)       # torch runs 1-d unpooling as 2-d with width 1
    ok = (4, 5) if nd == 3 else (3, 4)
    if indices.dtype.name != "int64":
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{_LONG_NAMES.get(indices.dtype.name, indices.dtype.name)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if ndim not in ok:
        raise RuntimeError(f"Input to {kernel} should be a {ok[0]}d or {ok[1]}d Tensor, but got "
                           f"a tensor with {ndim} dimensions.")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"max_unpool{max(nd, 2)}d\" not implemented for "
                                  f"'{_LONG_NAMES.get(input.dtype.name, input.dtype.name)}'")
    plane = 1
    for a in size:
        plane *= a
    idx = np.asarray(indices._data)
    bad = (idx < 0) | (idx >= plane)
    if bad.any():
        vol = "x".join(map(str, size + ([1] if nd == 1 else [])))
        raise RuntimeError(f"Found an invalid max index: {int(idx[bad].flat[0])} (output "
                           f"volumes are of size {vol})")
    from ..creation import zeros
    lead = tuple(input.shape[:input.ndim - nd])
    flat = lead + (int(np.prod(input.shape[input.ndim - nd:])),)
    out = zeros(lead + (plane,), dtype=input.dtype).scatter(
        -1, indices.reshape(flat), input.reshape(flat))
    return out.reshape(lead + tuple(size))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: each value goes to the position its index names (flat
    per channel, as max_pool1d's return_indices gives), zeros elsewhere.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> y, i = F.max_pool1d(chainrule.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
    >>> F.max_unpool1d(y, i, 2)
    tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: values scattered to their (flat per plane) indices of an
    (N, C, H, W) output of zeros; output_size picks among the sizes that pool to the input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> y, i = F.max_pool2d(chainrule.arange(4.0).reshape(1, 1, 2, 2), 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2)
    tensor([[[[0., 0.],
              [0., 3.]]]])
    """
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d on (N, C, D, H, W) (or unbatched) input.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> y, i = F.max_pool3d(chainrule.ones(1, 1, 2, 2, 2), 2, return_indices=True)
    >>> F.max_unpool3d(y, i, 2).sum()
    tensor(1.)
    """
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size,
                       "max_unpool3d")


def _adaptive_avg(nd, input, output_size, op):
    _adaptive_input(input, nd, op)
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"{op}\" not implemented for "
                                  f"'{input.dtype.name.capitalize()}'")
    size, out = _adaptive_sizes(input, nd, output_size, op)
    # the input's gradient is tied to the input, as torch's adaptive_avg_pool backward is
    # (except for a global average, which torch takes as a mean)
    tied = any(o != 1 for o in out)
    x = input
    for i in range(nd):
        n, o = size[i], out[i]
        if n != o:
            x = _C.AxisMatmul.apply(x, _avg_matrix(n, o, x._data.dtype), i - nd,
                                    tied and x is input)
    if x is not input:
        return x
    return _take(input, np.arange(size[-1]), -1, tied=True) if tied else input * 1


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length (windows split the input as evenly as
    possible).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_avg_pool1d(chainrule.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
    tensor([[[1.5000, 3.5000]]])
    """
    return _adaptive_avg(1, input, output_size, "adaptive_avg_pool1d")


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W) output size; None keeps that input size.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_avg_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 1)
    tensor([[[[7.5000]]]])
    """
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) output size.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_avg_pool3d(chainrule.ones(1, 1, 4, 4, 4), 2).shape
    chainrule.Size([1, 1, 2, 2, 2])
    """
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


def _adaptive_max(nd, input, output_size, return_indices, op):
    _adaptive_input(input, nd, op)
    size, out = _adaptive_sizes(input, nd, output_size, op)
    if any(o == 0 for o in out):
        shape = input._data.shape[:-nd] + out
        vals = _make(np.zeros(shape, input._data.dtype))
        return (vals, _make(np.zeros(shape, np.int64))) if return_indices else vals
    # gather every window (padded to the largest window by repeating its last element, which
    # changes neither the max nor the first argmax), then reduce over the window
    idx, flat = [], np.zeros((), np.int64)
    for i, (n, o) in enumerate(zip(size, out)):
        start, end = _bounds(n, o)
        kmax = int((end - start).max())
        ii = np.minimum(start[:, None] + np.arange(kmax), end[:, None] - 1)
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = o, kmax
        ii = ii.reshape(shape)
        idx.append(ii)
        flat = flat * n + ii
    # one gather over the flattened spatial dims, its gradient tied to the input (torch's
    # adaptive_max_pool backward takes it)
    lead = tuple(input.shape[:-nd])
    taps = np.ascontiguousarray(np.broadcast_to(flat, out + flat.shape[nd:]).reshape(1, -1),
                                dtype=np.intp)
    windows = _C.AxisGather.apply(input.reshape(lead + (-1,)), taps, None, -1, True)
    windows = windows.reshape(lead + out + (-1,))
    vals, local = windows.max(-1)
    if not return_indices:
        return vals
    lead = local._data.shape[:local._data.ndim - nd]     # with any vmap batch dims
    flat = np.broadcast_to(flat, out + flat.shape[nd:]).reshape(out + (-1,))
    pos = np.take_along_axis(np.broadcast_to(flat, lead + flat.shape),
                             local._data[..., None], -1)[..., 0]
    return vals, _make(np.ascontiguousarray(pos))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_max_pool1d(chainrule.tensor([[[1.0, 5.0, 3.0, 4.0]]]), 2)
    tensor([[[5., 4.]]])
    """
    return _adaptive_max(1, input, output_size, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W) output size; ``return_indices`` gives flat positions.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_max_pool2d(chainrule.arange(16.0).reshape(1, 1, 4, 4), 1)
    tensor([[[[15.]]]])
    """
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool1d returning (values, indices).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_max_pool1d_with_indices(chainrule.tensor([[[1.0, 5.0]]]), 1)[1]
    tensor([[[1]]])
    """
    return _adaptive_max(1, input, output_size, True, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool2d returning (values, indices).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_max_pool2d_with_indices(chainrule.arange(4.0).reshape(1, 1, 2, 2), 1)[1]
    tensor([[[[3]]]])
    """
    return _adaptive_max(2, input, output_size, True, "adaptive_max_pool2d")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W) output size.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.adaptive_max_pool3d(chainrule.arange(8.0).reshape(1, 1, 2, 2, 2), 1).reshape(-1)
    tensor([7.])
    """
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """adaptive_max_pool3d returning (values, indices).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> x = chainrule.arange(8.0).reshape(1, 1, 2, 2, 2)
    >>> F.adaptive_max_pool3d_with_indices(x, 1)[1].reshape(-1)
    tensor([7])
    """
    return _adaptive_max(3, input, output_size, True, "adaptive_max_pool3d")


def _lp_pool(nd, input, norm_type, kernel_size, stride, ceil_mode, op):
    k = _ints(kernel_size, nd, "kernel_size", op)
    avg = _avg_pool(nd, input ** norm_type, k, stride, 0, ceil_mode, True, None,
                    "avg_pool%dd" % nd)
    return (avg.sign() * avg.abs().relu() * float(np.prod(k))) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over each window of x**p) ** (1/p).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.lp_pool1d(chainrule.tensor([[[3.0, 4.0]]]), 2, 2)
    tensor([[[5.]]])
    """
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool1d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: (sum over each window of x**p) ** (1/p).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.lp_pool2d(chainrule.ones(1, 1, 2, 2), 2, 2)
    tensor([[[[2.]]]])
    """
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool2d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.lp_pool3d(chainrule.ones(1, 1, 2, 2, 2), 1, 2).reshape(-1)
    tensor([8.])
    """
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode, "lp_pool3d")


# -- interpolation ---------------------------------------------------------------------------
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _take(x, idx, axis, w=None, tied=False):
    """Along one (negative) axis: sum_t x[idx[t]] * w[t] (a plain gather when w is None)."""
    idx = np.ascontiguousarray(np.reshape(idx, (-1, np.shape(idx)[-1])), dtype=np.intp)
    if w is not None:
        w = np.ascontiguousarray(np.reshape(w, idx.shape), dtype=x._data.dtype)
    if tied:
        return _C.AxisGather.apply(x, idx, w, axis, True)
    return _C.AxisGather.apply(x, idx, w, axis)


def _src_index(n, o, scale, align, cubic, npd):
    """Fractional source coordinate of every output index (torch's area_pixel rule, computed
    in the input's precision)."""
    f = npd.type
    if align:
        s = f((n - 1) / (o - 1)) if o > 1 else f(0)
        return s * np.arange(o, dtype=npd)
    s = f(1.0 / scale) if scale is not None and scale > 0 else f(n) / f(o)
    src = s * (np.arange(o, dtype=npd) + f(0.5)) - f(0.5)
    return src if cubic else np.maximum(src, f(0))


def _nearest_index(n, o, scale, exact):
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else \
        np.float32(n) / np.float32(o)
    i = np.arange(o)
    if exact:
        src = np.floor(np.float32((i + 0.5) * np.float64(s)))
    else:
        if o == n:
            return i
        if o == 2 * n:
            return i >> 1
        src = np.floor(i.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), n - 1)


def _cubic(t, npd):
    a = npd.type(-0.75)

    def c1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def c2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]


def _interp_axis(x, n, o, scale, mode, align, axis):
    npd = x._data.dtype
    if mode in ("nearest", "nearest-exact"):
        return _take(x, _nearest_index(n, o, scale, mode == "nearest-exact"), axis)
    cubic = mode == "bicubic"
    src = _src_index(n, o, scale, align, cubic, npd)
    i0 = np.floor(src).astype(np.int64)
    if cubic:
        t = src - i0.astype(npd)
        idx = np.stack([np.clip(i0 - 1 + j, 0, n - 1) for j in range(4)])
        return _take(x, idx, axis, np.stack(_cubic(t, npd)))
    i0 = np.minimum(i0, n - 1)
    lam = np.clip(src - i0.astype(npd), 0, 1).astype(npd)
    i1 = i0 + (i0 < n - 1)
    return _take(x, np.stack([i0, i1]), axis, np.stack([1 - lam, lam]))


def _aa_matrix(n, o, scale, align, cubic, npd):
    """Antialiasing filter (bilinear: triangle, bicubic: Keys a=-0.5) widened by the
    downscale factor, as an (o, n) matrix with rows normalised to sum to one."""
    if align:
        s = (n - 1) / (o - 1) if o > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else n / o
    half = 2.0 if cubic else 1.0
    support = half * s if s >= 1.0 else half
    inv = 1.0 / s if s >= 1.0 else 1.0

    def filt(v):
        v = np.abs(v)
        if not cubic:
            return np.maximum(0.0, 1.0 - v)
        a = -0.5
        return np.where(v < 1, ((a + 2) * v - (a + 3)) * v * v + 1,
                        np.where(v < 2, (((v - 5) * v + 8) * v - 4) * a, 0.0))
    m = np.zeros((o, n))
    for i in range(o):
        center = s * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n)
        w = filt((np.arange(lo, hi) - center + 0.5) * inv)
        tot = w.sum()
        m[i, lo:hi] = w / tot if tot != 0 else w
    return m.astype(npd)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resample the spatial dims of (N, C, *spatial) input to ``size`` or by ``scale_factor``
    with mode nearest, nearest-exact, (bi/tri)linear, bicubic or area (torch's index rules).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.interpolate(chainrule.tensor([[[1.0, 2.0]]]), scale_factor=2, mode="linear")
    tensor([[[1.0000, 1.2500, 1.7500, 2.0000]]])
    """
    _tensor_arg(input, "input", "interpolate")
    dim = input._data.ndim
    nd = dim - 2
    if mode not in _MODES or nd < 1 or nd > 3:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {dim}D) for the modes: nearest | linear | bilinear | "
                                  f"bicubic | trilinear | area | nearest-exact (got {mode})")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    align = bool(align_corners)
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    sp = input._data.shape[2:]
    scales = None
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(sp)} and output size of {size}. Please provide input "
                                 "tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            out = tuple(int(s) for s in size)
        else:
            out = (int(size),) * nd
    else:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of "
                                 f"{list(sp)} and scale_factor of shape {scale_factor}. Please "
                                 "provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            sf = tuple(float(s) for s in scale_factor)
        else:
            sf = (float(scale_factor),) * nd
        out = tuple(int(math.floor(n * s)) for n, s in zip(sp, sf))
        scales = None if recompute_scale_factor else sf
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != nd:
        raise NotImplementedError(f"Got {dim}D input, but {mode} mode needs "
                                  f"{_MODE_DIMS[mode] + 2}D input")
    if antialias and mode not in ("bilinear", "bicubic"):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                         "requires a 4-D tensor as input")
    if any(o <= 0 for o in out):
        raise RuntimeError(f"interpolate: input and output sizes should be greater than 0, but "
                           f"got input {list(sp)} and output {list(out)}")
    kind = input._data.dtype.kind
    if kind != "f" and not (mode.startswith("nearest") and input._data.dtype == np.uint8):
        raise NotImplementedError(f"\"upsample_{mode}{nd}d\" not implemented for "
                                  f"'{input.dtype.name.capitalize()}'")
    if mode == "area":
        return _adaptive_avg(nd, input, out, "adaptive_avg_pool%dd" % nd)
    x = input
    for i in reversed(range(nd)):
        sc = scales[i] if scales is not None else None
        if antialias:
            x = _along(x, _aa_matrix(sp[i], out[i], sc, align, mode == "bicubic",
                                     x._data.dtype), i - nd)
        else:
            x = _interp_axis(x, sp[i], out[i], sc, mode, align, i - nd)
    return x if x is not input else input * 1


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of interpolate.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.upsample(chainrule.ones(1, 1, 2), scale_factor=2).shape
    chainrule.Size([1, 1, 4])
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='nearest').

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.upsample_nearest(chainrule.ones(1, 1, 2, 2), 4).shape
    chainrule.Size([1, 1, 4, 4])
    """
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: interpolate(..., mode='bilinear', align_corners=True).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.upsample_bilinear(chainrule.ones(1, 1, 2, 2), 3).shape
    chainrule.Size([1, 1, 3, 3])
    """
    return interpolate(input, size, scale_factor, "bilinear", True)


# -- pixel shuffle, unfold, fold -------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.pixel_shuffle(chainrule.arange(4.0).reshape(1, 4, 1, 1), 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    _tensor_arg(input, "input", "pixel_shuffle")
    r = int(upscale_factor)
    s = input._data.shape
    if len(s) < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {len(s)} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = s[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    lead = s[:-3]
    nl = len(lead)
    y = input.reshape(lead + (c // (r * r), r, r, h, w))
    y = y.permute(*range(nl), nl, nl + 3, nl + 1, nl + 4, nl + 2)
    return y.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), the inverse of pixel_shuffle.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.pixel_unshuffle(chainrule.arange(4.0).reshape(1, 1, 2, 2), 2).reshape(-1)
    tensor([0., 1., 2., 3.])
    """
    _tensor_arg(input, "input", "pixel_unshuffle")
    r = int(downscale_factor)
    s = input._data.shape
    if len(s) < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {len(s)} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = s[-3:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    lead = s[:-3]
    nl = len(lead)
    y = input.reshape(lead + (c, h // r, r, w // r, r))
    y = y.permute(*range(nl), nl, nl + 2, nl + 4, nl + 1, nl + 3)
    return y.reshape(lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Interleave the channels of (N, C, *) input across ``groups`` groups.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.channel_shuffle(chainrule.arange(4.0).reshape(1, 4, 1), 2).reshape(-1)
    tensor([0., 2., 1., 3.])
    """
    _tensor_arg(input, "input", "channel_shuffle")
    s = input._data.shape
    if len(s) <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(s)}")
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{g}")
    if s[1] % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {s[1]} "
                           f"channels and {g} groups.")
    y = input.reshape((s[0], g, s[1] // g) + s[2:]).transpose(1, 2)
    return y.reshape(s)


native_channel_shuffle = channel_shuffle


def _unfold_args(kernel_size, dilation, padding, stride, op):
    k = _ints(kernel_size, 2, "kernel_size", op)
    d = _ints(dilation, 2, "dilation", op)
    p = _ints(padding, 2, "padding", op)
    s = _ints(stride, 2, "stride", op)
    if any(v <= 0 for v in k) or any(v <= 0 for v in d) or any(v <= 0 for v in s):
        raise RuntimeError(f"{op}: kernel_size, dilation and stride must be positive, but got "
                           f"kernel_size={list(k)}, dilation={list(d)}, stride={list(s)}")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: padding must be non-negative, but got padding={list(p)}")
    return k, d, p, s


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L), one column per block.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.unfold(chainrule.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    _tensor_arg(input, "input", "unfold")
    dim = input._data.ndim
    if dim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-dim}, "
                         f"{dim - 1}], but got {dim})")
    if dim > 4:
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported "
                                  f"(got {dim}D)")
    k, d, p, s = _unfold_args(kernel_size, dilation, padding, stride, "unfold")
    x, unb = _batched(input, 2, "unfold")
    size = x._data.shape[2:]
    g = _C.geom(size, k, s, p, p, d)
    if any(o < 1 for o in g.out):
        raise RuntimeError(f"Given input with spatial size {tuple(size)}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of "
                           f"sliding blocks as {g.out}, but its components must be at least "
                           "one.")
    return _unbatch(_C.Im2Col.apply(x, g), unb)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image: (N, C*kh*kw, L) -> (N, C, *output_size); the
    adjoint of unfold (overlaps add up).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.fold(chainrule.ones(1, 4, 4), (3, 3), 2)
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    _tensor_arg(input, "input", "fold")
    dim = input._data.ndim
    if dim not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    osize = _ints(output_size, 2, "output_size", "fold")
    k, d, p, s = _unfold_args(kernel_size, dilation, padding, stride, "fold")
    x, unb = (input.unsqueeze(0), True) if dim == 2 else (input, False)
    ck, L = x._data.shape[1:]
    K = k[0] * k[1]
    if ck % K:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={ck} and "
                           f"kernel_size={k}.")
    g = _C.geom(osize, k, s, p, p, d)
    if any(o < 1 for o in g.out) or g.L != L:
        raise RuntimeError(f"Given output_size={osize}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {g.out[0]} * "
                           f"{g.out[1]} = {g.L}, but got input.size(2)={L}.")
    return _unbatch(_C.Col2Im.apply(x, g, ck // K).contiguous(), unb)


# -- embedding, one_hot ----------------------------------------------------------------------
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``; ``padding_idx``'s row gets no
    gradient, ``max_norm`` renormalises the picked rows in place (as torch). ``sparse`` is
    accepted; gradients are always dense.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> w = chainrule.arange(6.0).reshape(3, 2)
    >>> F.embedding(chainrule.tensor([2, 0]), w)
    tensor([[4., 5.],
            [0., 1.]])
    """
    _tensor_arg(input, "input", "embedding")
    _tensor_arg(weight, "weight", "embedding", 2)
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight._data.shape[0]
    if padding_idx is not None:
        if padding_idx > 0 and padding_idx >= num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            if padding_idx < -num:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx += num
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got chainrule."
                           f"{input.dtype.name.capitalize()}Tensor instead (while checking "
                           "arguments for embedding)")
    batched = type(idx) is not np.ndarray
    vals = _T.levels_of(idx)[1] if batched else idx     # under vmap: every sample's indices
    if vals.size and (vals.min() < 0 or vals.max() >= num):
        raise IndexError(f"index out of range in self (embedding of {num} rows, indices in "
                         f"[{vals.min()}, {vals.max()}])")
    if max_norm is not None:
        rows = np.unique(vals)
        w = weight._data
        sel = w[rows]
        norms = np.linalg.norm(sel.astype(np.float64), ord=norm_type, axis=1)
        big = norms > max_norm
        if big.any():
            scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
            w[rows[big]] = sel[big] * scale[:, None]
            _IP._bump(weight)
    out = weight[input]
    factor = None
    if batched:
        if scale_grad_by_freq:
            raise RuntimeError("vmap: embedding with scale_grad_by_freq=True is not batchable "
                               "yet (the counts are per sample); call it outside vmap")
        if padding_idx is not None and out.requires_grad:
            keep = (input != padding_idx).to(out.dtype).unsqueeze(-1)
            d = out.detach()
            out = d + (out - d) * keep
        return out
    if padding_idx is not None:
        factor = (idx != padding_idx).astype(weight._data.dtype)
    if scale_grad_by_freq:
        uniq, inv, cnt = np.unique(idx, return_inverse=True, return_counts=True)
        f = (1.0 / cnt[inv.reshape(idx.shape)]).astype(weight._data.dtype)
        factor = f if factor is None else factor * f
    if factor is not None and out.requires_grad:
        # value unchanged (out - out.detach() is exactly 0); the gradient is scaled per row
        d = out.detach()
        out = d + (out - d) * _make(factor[..., None])
    return out


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Sums, means or maxima of bags of embeddings: the rows of a 2-D ``input`` are bags, or a
    1-D ``input`` is cut into bags at ``offsets``. Entries equal to ``padding_idx`` are left
    out; empty bags give zeros.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> w = chainrule.arange(6.0).reshape(3, 2)
    >>> F.embedding_bag(chainrule.tensor([0, 2, 1]), w, chainrule.tensor([0, 2]), mode="sum")
    tensor([[4., 6.],
            [2., 3.]])
    """
    op = "embedding_bag"
    _tensor_arg(input, "input", op)
    _tensor_arg(weight, "weight", op, 2)
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    idx = input._data
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets)}")
        nbags, width = idx.shape
        bag = np.repeat(np.arange(nbags), width)
    elif idx.ndim == 1:
        if offsets is None or not isinstance(offsets, Tensor) or offsets._data.ndim != 1:
            raise ValueError(f"offsets has to be a 1D Tensor but got "
                             f"{None if offsets is None else list(offsets.shape)}")
        off = offsets._data.astype(np.int64)
        if off.size and off[0] != 0:
            raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                               f"mini-batch has to start from position 0. However, got {off[0]}")
        if off.size and off[-1] > idx.size:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {idx.size} "
                               f"but got offsets[-1] of {off[-1]}")
        if (np.diff(off) < 0).any():
            raise RuntimeError(f"embedding_bag: offsets must be non-decreasing, got "
                               f"{off.tolist()}")
        if include_last_offset:
            off = off[:-1]
        nbags = off.size
        bag = np.searchsorted(off, np.arange(idx.size), side="right") - 1
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{idx.ndim}")
    flat = input.reshape(-1)
    psw = None
    if per_sample_weights is not None:
        if per_sample_weights._data.shape != input._data.shape:
            raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape})"
                             f" is not None, then it must have the same shape as the input "
                             f"({input.shape})")
        psw = per_sample_weights.reshape(-1)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight._data.shape[0]
    keep = np.ones(idx.size, bool) if padding_idx is None else \
        idx.reshape(-1) != padding_idx
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    dt = weight._data.dtype
    counts = np.bincount(bag[keep], minlength=nbags)
    if mode == "max":
        width = max(int(counts.max()) if counts.size else 0, 1)
        table = np.full((nbags, width), idx.size)
        pos = np.flatnonzero(keep)
        rank = np.arange(pos.size) - np.searchsorted(bag[pos], bag[pos])
        table[bag[pos], rank] = pos
        from ..ops.shape import cat
        filler = _make(np.full((1, weight._data.shape[1]), -np.inf, dt))
        vals = cat([rows, filler])[_make(table)].max(1)[0]
        empty = counts == 0
        return _E.where(_make(empty[:, None]), 0.0, vals) if empty.any() else vals
    onehot = np.zeros((nbags, idx.size), dt)
    onehot[bag[keep], np.flatnonzero(keep)] = 1
    if mode == "mean":
        onehot /= np.maximum(counts, 1)[:, None]
    m = _make(onehot)
    if psw is not None:
        m = m * psw.to(weight.dtype)
    return m.matmul(rows)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (inferred as max + 1
    when -1).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.one_hot(chainrule.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    _tensor_arg(tensor, "tensor", "one_hot")
    a = tensor._data
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if a.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(a.max()) + 1
    if a.size:
        if a.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if a.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(a.shape + (int(num_classes),), np.int64)
    np.put_along_axis(out, a[..., None], 1, -1)
    return _make(out)


# -- distances -------------------------------------------------------------------------------
def _norm2(x, dim, keepdim):
    """Euclidean norm along dim whose gradient is 0 where the norm is 0 (torch's rule)."""
    s = (x * x).sum(dim, keepdim)
    if type(s._data) is np.ndarray:
        nz = s._data > 0
        if nz.all():
            return s.sqrt()
    nz = s > 0      # a tensor: batchable under vmap
    return _E.where(nz, s, 1.0).sqrt() * nz.to(s.dtype)


def _pnorm(x, p, dim, keepdim):
    p = float(p)
    if p == 2.0:
        return _norm2(x, dim, keepdim)
    a = x.abs()
    if p == 1.0:
        return a.sum(dim, keepdim)
    if math.isinf(p):
        m = (a.max(dim, True) if p > 0 else a.min(dim, True))[0].detach()
        mask = _make((a._data == m._data).astype(a._data.dtype))
        out = m + ((a - m) * mask).sum(dim, True) / mask.sum(dim, True)
        return out if keepdim else out.squeeze(dim)
    if p == 0.0:
        return _make((a._data != 0).sum(dim, keepdims=keepdim).astype(a._data.dtype))
    s = (a ** p).sum(dim, keepdim)
    if type(s._data) is np.ndarray:
        nz = s._data > 0
        if nz.all():
            return s ** (1.0 / p)
    nz = s > 0
    return _E.where(nz, s, 1.0) ** (1.0 / p) * nz.to(s.dtype)


def _float_pair(x1, x2, op):
    _tensor_arg(x1, "x1", op)
    _tensor_arg(x2, "x2", op, 2)
    rt = _dt.result_type(x1, x2)
    if not rt.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{rt.name.capitalize() if rt.name != 'int64' else 'Long'}")
    _E._check_broadcast(x1, x2, op)
    return (x1 if x1.dtype == rt else x1.to(rt)), (x2 if x2.dtype == rt else x2.to(rt))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along ``dim`` (broadcasting); each norm is
    clamped below at ``eps``.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.cosine_similarity(chainrule.tensor([[1.0, 0.0]]), chainrule.tensor([[1.0, 1.0]]))
    tensor([0.7071])
    """
    x1, x2 = _float_pair(x1, x2, "cosine_similarity")
    shape = np.broadcast_shapes(x1._data.shape, x2._data.shape)
    d = _wrap_dim(dim, len(shape), "cosine_similarity")
    if not shape:
        shape, x1, x2 = (1,), x1.reshape(1), x2.reshape(1)
    x1, x2 = x1.expand(*shape), x2.expand(*shape)

    def clamped(x):
        n = _norm2(x, d, True)
        nd = n.detach()
        # value max(n, eps), gradient that of n (torch clamps in place under no_grad)
        return (n - nd) + _E.clamp(nd, min=eps)
    return ((x1 / clamped(x1)) * (x2 / clamped(x2))).sum(d)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of ``x1 - x2 + eps`` over the last dim.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.pairwise_distance(chainrule.tensor([[3.0, 0.0]]), chainrule.tensor([[0.0, 4.0]]),
    ...                     eps=0.0)
    tensor([5.])
    """
    x1, x2 = _float_pair(x1, x2, "pairwise_distance")
    nd = max(x1._data.ndim, x2._data.ndim)
    diff = x1 - x2 + eps
    if nd == 0:
        return _pnorm(diff.reshape(1), p, 0, False).reshape(())
    return _pnorm(diff, p, nd - 1, keepdim)


# -- attention -------------------------------------------------------------------------------
def _softmax_last(x):
    """Stable softmax over the last dim; rows that are all -inf give zeros (as torch's
    attention does)."""
    if type(x._data) is not np.ndarray:     # under vmap: the same steps as batchable ops
        m = x.detach().amax(-1, keepdim=True)
        m = _E.where(_E.isfinite(m), m, 0.0)
        e = (x - m).exp()
        s = e.sum(-1, True)
        return e / _E.where(s == 0, 1.0, s)
    m = x._data.max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = (x - _make(m)).exp()
    s = e.sum(-1, True)
    zero = s._data == 0
    if zero.any():
        s = _E.where(_make(zero), 1.0, s)
    return e / s


def _sdpa_mask_and_causal(query, key, value, attn_mask, dropout_p, enable_gqa):
    """torch 2.13 (CPU) applies an explicit mask together with is_causal only on its fused
    kernel's inputs: 4-D, no dropout, matching batch/heads (or grouped query heads), one head
    size, unit last-dim strides, a 2-D or 4-D mask. Its reference path refuses the pair."""
    qs, ks, vs = query._data.shape, key._data.shape, value._data.shape
    fused = (len(qs) == len(ks) == len(vs) == 4 and dropout_p == 0.0
             and qs[0] == ks[0] == vs[0] and ks[1] == vs[1]
             and (qs[1] == ks[1] or (enable_gqa and ks[1] and qs[1] % ks[1] == 0))
             and qs[3] == ks[3] == vs[3]
             and all(t.stride(-1) == 1 for t in (query, key, value)))
    if fused and attn_mask._data.ndim == 1:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got "
                         "-2)")
    if not fused or attn_mask._data.ndim not in (2, 4):
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value over the last two dims; a bool mask keeps
    True positions, a float mask is added; ``is_causal`` keeps the lower triangle (4-D inputs
    may combine it with a mask, as torch's fused CPU kernel does).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> q = k = v = chainrule.ones(1, 2, 3)
    >>> F.scaled_dot_product_attention(q, k, v)
    tensor([[[1., 1., 1.],
             [1., 1., 1.]]])
    """
    op = "scaled_dot_product_attention"
    for i, (t, n) in enumerate(((query, "query"), (key, "key"), (value, "value"))):
        _tensor_arg(t, n, op, i + 1)
    if query._data.ndim < 2 or key._data.ndim < 2 or value._data.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {query._data.ndim} key.dim: {key._data.ndim} "
                           f"and value.dim: {value._data.ndim} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype.name} key.dtype: {key.dtype.name} and "
                           f"value.dtype: {value.dtype.name} instead.")
    _float_input(query, op)
    if attn_mask is not None and attn_mask._data.dtype != np.bool_ and \
            attn_mask._data.dtype != query._data.dtype:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype.name} and  "
                           f"query.dtype: {query.dtype.name} instead.")
    if attn_mask is not None and is_causal:
        _sdpa_mask_and_causal(query, key, value, attn_mask, dropout_p, enable_gqa)
    e = query._data.shape[-1]
    if key._data.shape[-1] != e:
        raise RuntimeError(f"{op}: query and key must have the same embedding size, got "
                           f"{list(query.shape)} and {list(key.shape)}")
    if key._data.shape[-2] != value._data.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same sequence length, got "
                           f"{list(key.shape)} and {list(value.shape)}")
    if enable_gqa and query._data.ndim >= 3 and key._data.shape[-3] != query._data.shape[-3]:
        hq, hk = query._data.shape[-3], key._data.shape[-3]
        if hq % hk or value._data.shape[-3] != hk:
            raise RuntimeError(f"{op}: number of query heads ({hq}) must be a multiple of the "
                               f"key/value heads ({hk})")

        def rep(t):
            s = t._data.shape
            t = t.unsqueeze(-3).expand(*s[:-2], hq // hk, *s[-2:])
            return t.reshape(s[:-3] + (hq,) + s[-2:])
        key, value = rep(key), rep(value)
    L, S = query._data.shape[-2], key._data.shape[-2]
    sc = 1.0 / math.sqrt(e) if scale is None else float(scale)
    scores = query.matmul(key.transpose(-2, -1)) * sc
    if attn_mask is not None:
        if attn_mask._data.dtype == np.bool_:
            scores = _E.where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask
    if is_causal:  # with an explicit mask too (torch 2.13 applies both)
        scores = _E.where(_make(np.tril(np.ones((L, S), bool))), scores, -math.inf)
    p = _softmax_last(scores)
    if dropout_p > 0.0:
        from ..random import _const, _draw
        u, lv = _draw("scaled_dot_product_attention", "random", p._data.shape)
        p = p * _const((u >= dropout_p) / (1.0 - dropout_p), lv, p._data.dtype)
    return p.matmul(value)


def _canonical_mask(mask, name, dtype):
    """A bool mask (True = masked out) becomes an additive float mask of ``dtype``."""
    if mask is None:
        return None
    k = mask._data.dtype
    if k != np.bool_ and k.kind != "f":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if k == np.bool_:
        return _make(np.where(mask._data, -np.inf, 0.0).astype(dtype.np))
    return mask


def _in_proj(x, w, b, i, e):
    return linear(x, w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e])


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on (L, N, E) query and (S, N, E) key/value (or unbatched (L, E)):
    in-projection, per-head scaled dot-product attention, out-projection. Bool masks mark
    positions to leave out (True); float masks are added. Returns (output, weights or None).

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> x = chainrule.randn(4, 2, 6)
    >>> out, w = F.multi_head_attention_forward(
    ...     x, x, x, 6, 2, chainrule.randn(18, 6), chainrule.zeros(18), None, None, False, 0.0,
    ...     chainrule.randn(6, 6), chainrule.zeros(6))
    >>> out.shape, w.shape
    (chainrule.Size([4, 2, 6]), chainrule.Size([2, 4, 4]))
    """
    from ..ops.shape import cat
    from ._f_activation import softmax
    from ._f_norm import dropout
    qd = query._data.ndim
    if qd not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{qd}-D query tensor")
    if key._data.ndim != qd or value._data.ndim != qd:
        raise AssertionError(f"For {'batched (3-D)' if qd == 3 else 'unbatched (2-D)'} "
                             f"`query`, expected `key` and `value` to be {qd}-D but found "
                             f"{key._data.ndim}-D and {value._data.ndim}-D tensors respectively")
    batched = qd == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query._data.shape
    src_len = key._data.shape[0]
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if key._data.shape[:2] != value._data.shape[:2]:
        raise AssertionError(f"key shape {list(key.shape)} does not match value shape "
                             f"{list(value.shape)}")
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if not use_separate_proj_weight:
        q = _in_proj(query, in_proj_weight, in_proj_bias, 0, embed_dim)
        k = _in_proj(key, in_proj_weight, in_proj_bias, 1, embed_dim)
        v = _in_proj(value, in_proj_weight, in_proj_bias, 2, embed_dim)
    else:
        b = in_proj_bias
        q = linear(query, q_proj_weight, None if b is None else b[:embed_dim])
        k = linear(key, k_proj_weight, None if b is None else b[embed_dim:2 * embed_dim])
        v = linear(value, v_proj_weight, None if b is None else b[2 * embed_dim:])
    if attn_mask is not None:
        if attn_mask._data.ndim == 2:
            if attn_mask._data.shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {list(attn_mask.shape)}, "
                                   f"but should be {[tgt_len, src_len]}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask._data.ndim == 3:
            if attn_mask._data.shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {list(attn_mask.shape)}, "
                                   f"but should be {[bsz * num_heads, tgt_len, src_len]}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask._data.ndim} is not supported")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k._data.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_k is None else static_k)
    v = (v.reshape(v._data.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_v is None else static_v)
    if add_zero_attn:
        z = _make(np.zeros((bsz * num_heads, 1, head_dim), q._data.dtype))
        k, v = cat([k, z], 1), cat([v, z], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k._data.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask._data.shape != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but "
                                 f"got {tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)).matmul(k.transpose(-2, -1))
        if attn_mask is not None:
            scores = attn_mask + scores
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights.matmul(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            return out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask._data.shape[0] == 1 and attn_mask._data.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    return (out if batched else out.squeeze(1)), None


# -- padding ---------------------------------------------------------------------------------
_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_index(n, lo, hi, mode, dim, shape):
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        if lo > n or hi > n:
            raise RuntimeError(f"Padding value causes wrapping around more than once (padding "
                               f"({lo}, {hi}) of dimension {dim} of size {n}, input shape "
                               f"{list(shape)})")
        return i % n
    if lo >= n or hi >= n:
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                           f"input dimension, but got: padding ({lo}, {hi}) at dimension {dim} "
                           f"of input {list(shape)}")
    i = np.abs(i)
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative values, crop) the last ``len(pad) // 2`` dims; ``pad`` lists
    (before, after) pairs starting from the last dim. Modes: constant, reflect, replicate,
    circular.

    >>> import chainrule
    >>> import chainrule.nn.functional as F
    >>> F.pad(chainrule.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    _tensor_arg(input, "input", "pad")
    pad = tuple(int(p) for p in pad)
    shape = input._data.shape
    dim = len(shape)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    npairs = len(pad) // 2
    if npairs > dim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(pad)} and input of "
                           f"dimension {dim}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(npairs)]   # last dim first
    if mode == "constant":
        for i, (lo, hi) in enumerate(pairs):
            if shape[dim - 1 - i] + lo + hi < 0:
                raise RuntimeError(f"pad: the padded size of dimension {dim - 1 - i} would be "
                                   f"{shape[dim - 1 - i] + lo + hi} (size {shape[dim - 1 - i]}, "
                                   f"padding ({lo}, {hi})); it must be non-negative")
        crop = [slice(None)] * dim
        place = [slice(None)] * dim
        out_shape = list(shape)
        for i, (lo, hi) in enumerate(pairs):
            d = dim - 1 - i
            crop[d] = slice(max(-lo, 0), shape[d] - max(-hi, 0))
            out_shape[d] = shape[d] + lo + hi
            place[d] = slice(max(lo, 0), max(lo, 0) + max(shape[d] - max(-lo, 0) -
                                                          max(-hi, 0), 0))
        x = input[tuple(crop)] if any(lo < 0 or hi < 0 for lo, hi in pairs) else input
        if all(lo <= 0 and hi <= 0 for lo, hi in pairs):
            return x.clone()
        base = _make(np.full(out_shape, 0 if value is None else value, input._data.dtype))
        return _I.IndexPut.apply(base, x, tuple(place), True)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if npairs not in (1, 2, 3) or dim not in (npairs + 1, npairs + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {dim}D input "
                                  f"tensor.\n{_PAD_HELP}")
    x = input
    for i, (lo, hi) in enumerate(pairs):
        d = dim - 1 - i
        if lo == 0 and hi == 0:
            continue
        # the first gather's gradient is tied to the input, as torch's reflection / replication
        # pad backward ops take it (its circular pad is made of slices)
        x = _take(x, _pad_index(shape[d], lo, hi, mode, d, shape), d - dim,
                  tied=x is input and mode != "circular")
    return x if x is not input else input.clone()
