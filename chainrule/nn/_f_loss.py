"""Loss functions, each with reduction 'none', 'mean' or 'sum' (and torch's legacy
size_average / reduce flags). nll_loss and binary_cross_entropy are fused primitives; the
rest are composites of the core ops."""
import math
import numbers
import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor

from ..autograd import grad_mode
from ..autograd._transforms import BatchedData
from ..autograd.function import _apply2
from ..ops import elementwise as E
from ..ops.nn_ops import BinaryCrossEntropy, CrossEntropy, LogSoftmax, NllLoss, Softplus
from ._f_activation import _const, _tensor_arg, _tname

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multi_margin_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multilabel_margin_loss"]

_REDUCTIONS = ("none", "mean", "sum")
_nd = np.ndarray


def _top():
    import chainrule
    return chainrule


# -- reductions -------------------------------------------------------------------------------
def _legacy(size_average, reduce):
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    r = "mean" if size_average and reduce else ("sum" if reduce else "none")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{r}' "
                  "instead.", stacklevel=3)
    return r


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        return _legacy(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _weighted(loss, weight, input, reduction):
    """loss * weight reduced as torch's weighted regression losses (mean: sum / sum(w))."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _pair(input, target, op):
    _tensor_arg(input, op)
    _tensor_arg(target, op, "target", 2)


# -- regression -------------------------------------------------------------------------------
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Squared error (input - target)^2, reduced.

    >>> import chainrule
    >>> chainrule.nn.functional.mse_loss(chainrule.tensor([1.0, 3.0]), chainrule.zeros(2))
    tensor(5.)
    """
    _pair(input, target, "mse_loss")
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    d = input - target
    if weight is not None:
        return _weighted(d * d, weight, input, reduction)
    return _reduce(d * d, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Absolute error |input - target|, reduced (gradient 0 where they are equal).

    >>> import chainrule
    >>> chainrule.nn.functional.l1_loss(chainrule.tensor([1.0, -3.0]), chainrule.zeros(2))
    tensor(2.)
    """
    _pair(input, target, "l1_loss")
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    loss = E.abs(input - target)
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target).

    >>> import chainrule
    >>> chainrule.nn.functional.smooth_l1_loss(chainrule.tensor([0.5, 3.0]), chainrule.zeros(2))
    tensor(1.3125)
    """
    _pair(input, target, "smooth_l1_loss")
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = input - target
    ad = E.abs(d)
    if beta == 0:
        return _reduce(ad, reduction)
    loss = E.where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| <= delta, delta (|d| - 0.5 delta) elsewhere (d = input - target).

    >>> import chainrule
    >>> chainrule.nn.functional.huber_loss(chainrule.tensor([0.5, 3.0]), chainrule.zeros(2))
    tensor(1.3125)
    """
    _pair(input, target, "huber_loss")
    _size_warning(input, target)
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = input - target
    ad = E.abs(d)
    loss = E.where(ad <= delta, d * d * 0.5, (ad - 0.5 * delta) * delta)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight      # huber's weighted mean is a plain mean
    return _reduce(loss, reduction)


# -- classification ---------------------------------------------------------------------------
def _constant_arg(t, fn, arg):
    """torch has no gradient for this weight argument: refuse one that requires it."""
    if t is not None and t.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument "
                           f"'{arg}'. This input cannot have requires_grad True.")


def _class_weight(weight, c):
    if weight is None:
        return None
    if weight.ndim != 1 or weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    _constant_arg(weight, "nll_loss_forward", "weight")
    return weight._data


def _check_target(input, target):
    """Shapes of (N, C, d1, ...) input and (N, d1, ...) class-index target."""
    nd = input.ndim
    if target._data.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_tname(target)}")
    if nd == 0:
        raise RuntimeError("input tensor should be 1D or 2D")
    if nd <= 2 and target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if nd == 1 and target.ndim != 0 and target.shape[0] != 1:
        raise ValueError(f"Expected input batch_size (1) to match target batch_size "
                         f"({target.shape[0]}).")
    if nd >= 2 and (target.ndim == 0 or target.shape[0] != input.shape[0]):
        tb = target.shape[0] if target.ndim else 1
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({tb}).")
    if nd > 2:
        want = [input.shape[0]] + list(input.shape[2:])
        if list(target.shape) != want:
            raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")


def _class_loss(op, x, target, weight, ignore_index, reduction):
    """NllLoss or CrossEntropy on checked arguments; a 1-D input is one sample."""
    c = x.shape[1] if x.ndim > 1 else x.shape[0]
    t = target._data.astype(np.int64, copy=False)
    lo, hi = (int(t.min()), int(t.max())) if t.size else (0, 0)
    if lo < 0 or hi >= c:
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bad.any():
            raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    if not lo <= ignore_index <= hi:
        ignore_index = None       # no target is ignored: the primitives skip the mask
    w = _class_weight(weight, c)
    if w is not None and w.dtype != x._data.dtype:
        w = w.astype(x._data.dtype)
    if x.ndim == 1:
        out = _apply2(op, x.reshape(1, c), (t.reshape(1), w, ignore_index, reduction))
        return out.reshape(()) if reduction == "none" else out
    return _apply2(op, x, (t, w, ignore_index, reduction))


def _batched(*ts):
    return any(type(t._data) is BatchedData for t in ts)


def _innermost(d):
    while type(d) is BatchedData:
        d = d.phys
    return d


def _class_loss_vmapped(x, target, weight, ignore_index, reduction, logits, eps=0.0):
    """nll_loss / cross_entropy under vmap. The fused primitives read the target values, which
    a batched tensor hides; here the loss is composed of batchable ops: a one-hot mask by
    comparison against the class indices, ``where`` and sums."""
    cdim = 1 if x.ndim >= 2 else 0
    c = x.shape[cdim]
    t = _innermost(target._data)        # every sample's targets: checked all at once
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].flat[0])} is out of bounds.")
    if weight is not None:
        if type(weight._data) is BatchedData:
            raise RuntimeError("vmap: cross_entropy / nll_loss with a batched class weight is "
                               "not batchable yet; pass the same weight to every sample")
        _class_weight(weight, c)
    top = _top()
    logp = LogSoftmax.apply(x, cdim) if logits else x
    cshape = (c,) + (1,) * (x.ndim - 2) if cdim else (c,)
    tgt = target.long().unsqueeze(cdim) if cdim else target.long()
    onehot = tgt == top.arange(c).reshape(cshape)
    zero = _const(0.0, logp)
    wc = None if weight is None else weight.to(logp.dtype).reshape(cshape)
    wt = (onehot.to(logp.dtype) if wc is None else E.where(onehot, wc, zero)).sum(cdim)
    wt = E.where(target != ignore_index, wt, zero)
    loss = -E.where(onehot, logp, zero).sum(cdim) * wt
    if eps > 0:
        smooth = -(logp if wc is None else logp * wc).sum(cdim)
        smooth = E.where(target != ignore_index, smooth, zero)
    if reduction == "mean":
        den = wt.sum()
        loss = loss.sum() / den
        if eps > 0:
            smooth = smooth.sum() / den
    elif reduction == "sum":
        loss = loss.sum()
        if eps > 0:
            smooth = smooth.sum()
    if eps > 0:
        loss = loss * (1 - eps) + smooth * (eps / c)
    return loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log-likelihood: -input[n, target[n]] (times weight[target[n]]), for (N, C) or
    (N, C, d1, ...) log-probabilities; targets equal to ignore_index count for nothing. 'mean'
    divides by the total weight of the counted targets.

    >>> import chainrule
    >>> logp = chainrule.tensor([[-1.0, -2.0], [-3.0, -4.0]])
    >>> chainrule.nn.functional.nll_loss(logp, chainrule.tensor([0, 1]))
    tensor(2.5000)
    """
    _pair(input, target, "nll_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"\"nll_loss_forward_reduce_cuda_kernel_2d_index\" not implemented "
                           f"for '{_tname(input)}'")
    _check_target(input, target)
    if _batched(input, target):
        return _class_loss_vmapped(input, target, weight, ignore_index, reduction, False)
    return _class_loss(NllLoss, input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` (C), (N, C) or (N, C, d1, ...) against class indices
    or class probabilities (a float target shaped like input), with class weights,
    ignore_index and label smoothing.

    >>> import chainrule
    >>> logits = chainrule.tensor([[1e8, 1e8]], dtype=chainrule.float64)
    >>> chainrule.nn.functional.cross_entropy(logits, chainrule.tensor([0]))
    tensor(0.6931, dtype=chainrule.float64)
    """
    if (weight is None and label_smoothing == 0 and size_average is None and reduce is None
            and isinstance(input, Tensor) and isinstance(target, Tensor)):
        x, t = input._data, target._data
        # the training case, (N, C) logits and N int64 targets all in [0, C) (so none is
        # ignored): one reduction checks them, negative ones being huge once unsigned
        if (type(x) is _nd and type(t) is _nd and x.ndim == 2 and t.ndim == 1
                and t.dtype == np.int64 and x.dtype.kind == "f"
                and t.shape[0] == x.shape[0] and t.size and reduction in _REDUCTIONS
                and not 0 <= ignore_index < x.shape[1]
                and t.view(np.uint64).max() < x.shape[1]):
            return _apply2(CrossEntropy, input, (t, None, None, reduction))
    _pair(input, target, "cross_entropy")
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for "
                           f"'{_tname(input)}'")
    cdim = 1 if input.ndim >= 2 else 0
    if tuple(target.shape) == tuple(input.shape):
        return _ce_probs(input, target, weight, ignore_index, reduction, label_smoothing, cdim)
    _check_target(input, target)
    if _batched(input, target):
        return _class_loss_vmapped(input, target, weight, ignore_index, reduction, True,
                                   label_smoothing)
    if label_smoothing == 0:
        return _class_loss(CrossEntropy, input, target, weight, ignore_index, reduction)
    logp = LogSoftmax.apply(input, cdim)
    loss = _class_loss(NllLoss, logp, target, weight, ignore_index, reduction)
    return _smoothed(loss, logp, target, weight, ignore_index, reduction, label_smoothing,
                     input.shape[cdim])


def _smoothed(nll, logp, target, weight, ignore_index, reduction, eps, c):
    cdim = 1 if logp.ndim >= 2 else 0
    wshape = (c,) + (1,) * (logp.ndim - 2) if logp.ndim >= 2 else (c,)
    if weight is not None:
        logp = logp * weight.reshape(wshape)
    ignored = target._data == ignore_index
    smooth = E.where(ignored, _const(0.0, logp), -logp.sum(cdim))
    if reduction == "mean":
        if weight is not None:
            tw = weight._data[np.where(ignored, 0, target._data)]
            smooth = smooth.sum() / float(tw[~ignored].sum())
        else:
            smooth = smooth.sum() / float((~ignored).sum())
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - eps) + smooth * (eps / c)


def _ce_probs(input, target, weight, ignore_index, reduction, eps, cdim):
    if input.ndim == 0 or target._data.dtype.kind != "f":
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_tname(target)}")
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    c = input.shape[cdim]
    logp = LogSoftmax.apply(input, cdim)
    if eps > 0:
        target = target * (1 - eps) + eps / c
    if weight is not None:
        _class_weight(weight, c)
        logp = logp * weight.reshape((c,) + (1,) * (input.ndim - 2) if cdim else (c,))
    loss = -(logp * target).sum(cdim)
    if reduction == "mean":
        return loss.sum() / (input.numel() // c)      # the number of class vectors
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x, each log clamped at -100.

    >>> import chainrule
    >>> chainrule.nn.functional.binary_cross_entropy(chainrule.tensor([0.5]),
    ...                                             chainrule.tensor([1.0]))
    tensor(0.6931)
    """
    _pair(input, target, "binary_cross_entropy")
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {_tname(target)} but expected {_tname(input)}")
    x, t = _innermost(input._data), _innermost(target._data)   # every sample's values
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if np.any((t < 0) | (t > 1)):
        raise RuntimeError("all elements of target should be between 0 and 1")
    _constant_arg(weight, "binary_cross_entropy", "weight")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte"}


def _float_target(input, target):
    """torch's BCE-with-logits computes in the target's dtype: integer targets cannot hold the
    floating result, and bool targets cannot be subtracted."""
    if target.dtype.is_floating_point:
        return
    if target.dtype.name == "bool":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    src = _SCALAR_NAMES.get(input.dtype.name, input.dtype.name)
    dst = _SCALAR_NAMES.get(target.dtype.name, target.dtype.name)
    raise RuntimeError(f"result type {src} can't be cast to the desired output type {dst}")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) computed stably from the logits;
    pos_weight scales the positive term per class (last dim).

    >>> import chainrule
    >>> f = chainrule.nn.functional.binary_cross_entropy_with_logits
    >>> f(chainrule.tensor([1e4, -1e4]), chainrule.tensor([1.0, 0.0]))
    tensor(0.)
    """
    _pair(input, target, "binary_cross_entropy_with_logits")
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _constant_arg(weight, "binary_cross_entropy_with_logits", "weight")
    _constant_arg(pos_weight, "binary_cross_entropy_with_logits", "pos_weight")
    _float_target(input, target)
    sp = Softplus.apply(-input, 1, None)        # log(1 + exp(-x)) = -log(sigmoid(x))
    if pos_weight is not None:
        sp = sp * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input + sp
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log(target) - input) for log-probabilities input;
    reduction 'batchmean' divides the sum by the batch size (the true KL divergence).

    >>> import chainrule
    >>> p = chainrule.tensor([0.5, 0.5])
    >>> chainrule.nn.functional.kl_div(p.log(), p, reduction="sum")
    tensor(0.)
    """
    _pair(input, target, "kl_div")
    if size_average is not None or reduce is not None:
        reduction = _legacy(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", stacklevel=2)
    if reduction != "batchmean":
        reduction = _reduction(reduction)
    return _kl_div(input, target, reduction, log_target)


def _kl_div(input, target, reduction, log_target):
    if log_target:
        loss = E.exp(target) * (target - input)
    else:
        loss = _top().xlogy(target, target) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08,
                     reduce=None, reduction="mean"):
    """Poisson negative log-likelihood: exp(input) - target * input for log-rates
    (log_input=True), else input - target * log(input + eps); ``full`` adds Stirling's term.

    >>> import chainrule
    >>> chainrule.nn.functional.poisson_nll_loss(chainrule.zeros(2), chainrule.ones(2))
    tensor(1.)
    """
    _pair(input, target, "poisson_nll_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = E.exp(input) - target * input
    else:
        loss = input - target * E.log(input + eps)
    if full:
        big = target._data > 1
        t = E.where(big, target, _const(1.0, target))
        stirling = t * E.log(t) - t + 0.5 * E.log(2 * math.pi * t)
        loss = loss + E.where(big, stirling, _const(0.0, stirling))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction="mean"):
    """Gaussian negative log-likelihood 0.5 (log(var) + (input - target)^2 / var), var clamped
    below at eps (the clamp passes gradients through unchanged, as torch's).

    >>> import chainrule
    >>> chainrule.nn.functional.gaussian_nll_loss(chainrule.zeros(2), chainrule.ones(2), 1.0)
    tensor(0.5000)
    """
    _pair(input, target, "gaussian_nll_loss")
    if isinstance(var, numbers.Real) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _const(np.full(input._data.shape, var), input)
    elif bool(np.any(var._data < 0)):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with grad_mode.no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (E.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -- margin and embedding losses --------------------------------------------------------------
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1.

    >>> import chainrule
    >>> x = chainrule.tensor([[1.0, 0.0]])
    >>> chainrule.nn.functional.cosine_embedding_loss(x, x, chainrule.tensor([1.0]))
    tensor(0.)
    """
    _pair(input1, input2, "cosine_embedding_loss")
    reduction = _reduction(reduction, size_average, reduce)
    td = target.ndim
    if td > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != td + 1 or input2.ndim != td + 1:
        raise RuntimeError(f"{td}D target tensor expects {td + 1}D input tensors, but found "
                           f"inputs with sizes {list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12     # torch's guard against zero-length vectors
    prod = (input1 * input2).sum(-1)
    mag = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = prod / E.sqrt(mag)
    t = target._data
    zero = _const(0.0, cos)
    pos = E.where(t == 1, 1 - cos, zero)
    neg = E.where(t == -1, E.clamp(cos - margin, min=0), zero)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin).

    >>> import chainrule
    >>> f = chainrule.nn.functional.margin_ranking_loss
    >>> f(chainrule.tensor([1.0]), chainrule.tensor([2.0]), chainrule.tensor([1.0]))
    tensor(1.)
    """
    _pair(input1, input2, "margin_ranking_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return _reduce(E.clamp(-target * (input1 - input2) + margin, min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where target is 1, max(0, margin - x) where target is -1.

    >>> import chainrule
    >>> f = chainrule.nn.functional.hinge_embedding_loss
    >>> f(chainrule.tensor([0.3, 0.3]), chainrule.tensor([1.0, -1.0]))
    tensor(0.5000)
    """
    _pair(input, target, "hinge_embedding_loss")
    reduction = _reduction(reduction, size_average, reduce)
    t = target._data
    zero = _const(0.0, input)
    out = E.where(t != 1, E.clamp(margin - input, min=0), zero) + E.where(t != -1, input, zero)
    return _reduce(out, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), computed stably.

    >>> import chainrule
    >>> chainrule.nn.functional.soft_margin_loss(chainrule.zeros(1), chainrule.ones(1))
    tensor(0.6931)
    """
    _pair(input, target, "soft_margin_loss")
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(Softplus.apply(-target * input, 1, None), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-sample mean over classes of the binary logistic loss of each class.

    >>> import chainrule
    >>> f = chainrule.nn.functional.multilabel_soft_margin_loss
    >>> f(chainrule.zeros(1, 2), chainrule.tensor([[1.0, 0.0]]))
    tensor(0.6931)
    """
    _pair(input, target, "multilabel_soft_margin_loss")
    reduction = _reduction(reduction, size_average, reduce)
    loss = target * Softplus.apply(-input, 1, None) + (1 - target) * Softplus.apply(input, 1,
                                                                                    None)
    if weight is not None:
        loss = loss * weight
    cdim = input.ndim - 1
    loss = loss.sum(cdim) / input.shape[cdim]
    return _reduce(loss, reduction)


def _class_targets(input, target, op):
    """(N, C) view of 1-D or 2-D input and (N,) int64 targets, checked."""
    if input.ndim > 2 or input.numel() == 0:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n, c = x.shape
    t = target._data.reshape(-1)
    if t.shape[0] != n:
        raise RuntimeError(f"{op}: target tensor should be 1-D with size equal to the number "
                           f"of input samples (batch size). Expected target size [{n}], but got "
                           f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {_tname(target)}")
    if np.any((t < 0) | (t >= c)):
        raise RuntimeError("target out of range")
    return x, t


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: mean over classes i != y of max(0, margin - x[y] + x[i])^p,
    scaled by weight[y].

    >>> import chainrule
    >>> f = chainrule.nn.functional.multi_margin_loss
    >>> f(chainrule.tensor([[0.1, 0.2, 0.4, 0.8]]), chainrule.tensor([3]))
    tensor(0.3250)
    """
    _pair(input, target, "multi_margin_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _constant_arg(weight, "multi_margin_loss", "weight")
    x, t = _class_targets(input, target, "multi_margin_loss")
    n, c = x.shape
    onehot = np.arange(c)[None, :] == t[:, None]
    xy = (x * _const(onehot, x)).sum(1, keepdim=True)
    h = margin - xy + x
    # relu's gradient reads h: it stays on the input's graph (torch's backward takes input)
    z = E.relu(h) * _const(~onehot, h)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * _const(weight._data[t].reshape(n, 1), z)
    loss = z.sum(1) / c
    if input.ndim < 2 and reduction == "none":
        loss = loss.reshape(target.shape)
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: for each target class j (the classes listed in target up to the
    first -1) and each non-target class i, max(0, 1 - (x[j] - x[i])), summed and divided by C.

    >>> import chainrule
    >>> f = chainrule.nn.functional.multilabel_margin_loss
    >>> f(chainrule.tensor([[0.1, 0.2, 0.4, 0.8]]), chainrule.tensor([[3, 0, -1, 1]]))
    tensor(0.8500)
    """
    _pair(input, target, "multilabel_margin_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {_tname(target)}")
    if tuple(target.shape) != tuple(input.shape) or input.ndim > 2 or input.numel() == 0:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    n, c = x.shape
    t = target._data.reshape(n, c)
    if np.any((t < -1) | (t >= c)):
        raise RuntimeError("target out of range")
    # counts[n, j]: how often class j is listed before the first -1; is_t: listed at all
    listed = np.cumprod(t != -1, axis=1).astype(bool)
    counts = np.zeros((n, c))
    rows = np.nonzero(listed)
    backend.add_at(counts, (rows[0], t[rows]), 1.0)
    is_t = counts > 0
    h = 1 - x.unsqueeze(2) + x.unsqueeze(1)             # h[n, j, i] = 1 - x[j] + x[i]
    pairs = (is_t[:, :, None] & ~is_t[:, None, :]) * counts[:, :, None]
    z = E.relu(h) * _const(pairs, h)        # on the input's graph through relu's gradient
    loss = z.sum((1, 2)) / c
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _same_ndim(a, p, n):
    if not (a.ndim == p.ndim == n.ndim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {a.ndim}D, positive "
                           f"{p.ndim}D, and negative {n.ndim}D inputs")


def _triplet(d_pos, d_neg, d_swap, margin, reduction):
    if d_swap is not None:
        d_neg = E.minimum(d_neg, d_swap)
    return _reduce(E.clamp(margin + d_pos - d_neg, min=0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the p-norm distance
    (``swap`` uses min(d(a, n), d(p, n)) as the negative distance).

    >>> import chainrule
    >>> a = chainrule.tensor([[0.0, 0.0]])
    >>> f = chainrule.nn.functional.triplet_margin_loss
    >>> f(a, a, a + 3.0, eps=0.0)
    tensor(0.)
    """
    _pair(anchor, positive, "triplet_margin_loss")
    reduction = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    from . import functional as F
    dist = F.pairwise_distance
    swap_d = dist(positive, negative, p, eps) if swap else None
    return _triplet(dist(anchor, positive, p, eps), dist(anchor, negative, p, eps), swap_d,
                    margin, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance function (default: pairwise_distance).

    >>> import chainrule
    >>> a = chainrule.tensor([[0.0, 0.0]])
    >>> f = chainrule.nn.functional.triplet_margin_with_distance_loss
    >>> f(a, a, a + 3.0, distance_function=lambda x, y: (x - y).abs().sum(-1))
    tensor(0.)
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _same_ndim(anchor, positive, negative)
    if distance_function is None:
        from . import functional as F
        distance_function = F.pairwise_distance
    swap_d = distance_function(positive, negative) if swap else None
    return _triplet(distance_function(anchor, positive), distance_function(anchor, negative),
                    swap_d, margin, reduction)
