"""Connectionist temporal classification loss: a composite of core ops (the alpha recursion in
log space, vectorised over the batch and the blank-extended label sequence), so autograd gives
its gradients of every order."""
import numpy as np

from .._tensor import Tensor
from ..ops import elementwise as E
from ._f_activation import _tensor_arg, _tname
from ._f_loss import _reduction

__all__ = ["ctc_loss"]

_NEG = -np.inf


def _lengths(x, name, n):
    """Lengths as an int64 array of size n: a Tensor of integers or a tuple/list of ints."""
    if isinstance(x, Tensor):
        if x._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        v = x._data.reshape(-1).astype(np.int64)
    elif isinstance(x, (tuple, list)) and all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in x):
        v = np.array(x, dtype=np.int64).reshape(-1)
    else:
        raise TypeError(f"ctc_loss(): argument '{name}' must be a Tensor or a tuple of ints, "
                        f"not {type(x).__name__}")
    if v.size != n:
        raise RuntimeError(f"{name} must be of size batch_size")
    return v


def _padded_targets(targets, il, tl, n, t_max, c):
    """Targets as an (n, S) int64 array, S = max target length, from either layout."""
    if targets._data.dtype.kind not in "iuf":
        raise RuntimeError(f"ctc_loss: expected integer targets, got {_tname(targets)}")
    for name, v, hi in (("input_lengths", il, t_max), ("target_lengths", tl, None)):
        if v.size and v.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value "
                               f"{int(v.min())} (while checking arguments for ctc_loss)")
        if hi is not None and v.size and v.max() > hi:
            raise RuntimeError(f"Expected {name} to have value at most {hi}, but got value "
                               f"{int(v.max())} (while checking arguments for ctc_loss)")
    tg = targets._data
    if tg.ndim not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {tg.ndim}-dimensional tensor "
                           f"for argument #2 'targets' (while checking arguments for ctc_loss)")
    s = int(tl.max()) if tl.size else 0
    tg = tg.astype(np.int64)
    if tg.ndim == 2:
        if tg.shape[0] != n:
            raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size "
                               f"{tg.shape[0]} for argument #2 'targets' (while checking "
                               f"arguments for ctc_loss)")
        if tg.shape[1] < s:
            raise RuntimeError(f"Expected tensor to have size at least {s} at dimension 1, but "
                               f"got size {tg.shape[1]} for argument #2 'targets' (while "
                               f"checking arguments for ctc_loss)")
        out = tg[:, :s]
    else:
        if tg.shape[0] != int(tl.sum()):
            raise RuntimeError(f"Expected tensor to have size {int(tl.sum())} at dimension 0, "
                               f"but got size {tg.shape[0]} for argument #2 'targets' (while "
                               f"checking arguments for ctc_loss)")
        out = np.zeros((n, s), np.int64)
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        for i in range(n):
            out[i, :tl[i]] = tg[starts[i]:starts[i] + tl[i]]
    used = np.arange(s) < tl[:, None]
    if used.any() and (out[used].min() < 0 or out[used].max() >= c):
        bad = out[used][(out[used] < 0) | (out[used] >= c)][0]
        raise RuntimeError(f"ctc_loss: target {int(bad)} is out of range for {c} classes")
    return np.where(used, out, 0)


def _lse(x):
    """log-sum-exp over the last dim; rows that are all -inf give -inf with a zero gradient."""
    # NOTE: the shift m is a constant taken from the values (the result does not depend on
    # it), and 0 where a row is all -inf, so no inf - inf appears; the log's argument is
    # replaced by 1 on those rows and their result by -inf, keeping every gradient finite.
    m = x._data.max(-1, keepdims=True)
    m = np.where(np.isneginf(m), 0, m).astype(x._data.dtype)
    s = E.exp(x - m).sum(-1)
    pos = s._data > 0
    out = E.log(E.where(pos, s, 1.0)) + m[..., 0]
    return E.where(pos, out, _NEG)


def _alpha_loss(lp, ext, skip, il, tl):
    """-log p(target | lp) per sample from the forward (alpha) recursion; lp is (T, N, C),
    ext the (N, L) blank-extended labels, skip where a label may follow the one two back."""
    n = lp.shape[1]
    el = ext.shape[1]
    dt = lp._data.dtype
    lpe = lp[:, np.arange(n)[:, None], ext]                              # (T, N, L)
    pos = np.arange(el)
    prev = np.stack([pos, np.maximum(pos - 1, 0), np.maximum(pos - 2, 0)], -1)   # (L, 3)
    bias = np.zeros((n, el, 3), dt)
    bias[:, 0, 1:] = _NEG
    bias[:, :, 2] = np.where(skip, 0, _NEG)
    start = np.where(pos < 2, 0, _NEG).astype(dt)
    empty = np.where(pos < 1, 0, _NEG).astype(dt)                   # no frames: empty prefix
    alpha = lpe[0] + start
    if (il == 0).any():
        alpha = E.where((il > 0)[:, None], alpha, np.broadcast_to(empty, (n, el)))
    for t in range(1, int(il.max()) if il.size else 0):
        new = _lse(alpha[:, prev] + bias) + lpe[t]
        live = t < il
        alpha = new if live.all() else E.where(live[:, None], new, alpha)
    ends = np.stack([2 * tl, np.maximum(2 * tl - 1, 0)], -1)              # (N, 2)
    fin = alpha[np.arange(n)[:, None], ends] + np.where(
        np.stack([tl >= 0, tl > 0], -1), 0, _NEG).astype(dt)
    return -_lse(fin)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist temporal classification loss: -log of the total probability of all
    alignments of ``targets`` to the frames of ``log_probs`` (T, N, C) or unbatched (T, C).

    targets are padded (N, S) or concatenated 1-D; lengths are integer Tensors or tuples of
    ints. 'mean' divides each loss by its target length before averaging over the batch;
    ``zero_infinity`` replaces infinite losses (no possible alignment) and their gradients
    by zero. As in torch, the gradient with respect to ``log_probs`` assumes they come from
    log_softmax: it is exp(log_probs) minus the alignment posteriors, which is the exact
    gradient once passed back through log_softmax.

    >>> import chainrule
    >>> lp = chainrule.full((2, 1, 2), 0.5).log()
    >>> F = chainrule.nn.functional
    >>> F.ctc_loss(lp, chainrule.tensor([[1]]), (2,), (1,), reduction="sum")
    tensor(0.2877)
    """
    reduction = _reduction(reduction)
    _tensor_arg(log_probs, "ctc_loss", "log_probs", 1)
    _tensor_arg(targets, "ctc_loss", "targets", 2)
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss(): input_lengths and target_lengths must both be Tensors or "
                        "both tuples of ints")
    if log_probs._data.dtype.kind != "f" or log_probs._data.dtype == np.float16:
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_tname(log_probs)}'")
    if log_probs.ndim not in (2, 3):
        raise RuntimeError(f"ctc_loss: expected log_probs of shape (T, C) or (T, N, C), got "
                           f"{log_probs.ndim}-dimensional tensor of shape "
                           f"{list(log_probs.shape)}")
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError("blank must be in label range")
    il = _lengths(input_lengths, "input_lengths", n)
    tl = _lengths(target_lengths, "target_lengths", n)
    if unbatched and targets.ndim == 1:
        targets = targets.unsqueeze(0)
    tg = _padded_targets(targets, il, tl, n, t_max, c)
    ext = np.full((n, 2 * tg.shape[1] + 1), blank, np.int64)
    ext[:, 1::2] = tg
    skip = np.zeros(ext.shape, bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    loss = _alpha_loss(lp, ext, skip, il, tl)
    # NOTE: torch's gradient adds exp(log_probs) on the frames t < input_length (its kernel
    # folds in log_softmax's term); e - e.detach() is exactly zero but carries that gradient.
    e = E.exp(lp)
    frames = (np.arange(t_max)[:, None] < il)[:, :, None]
    loss = loss + ((e - e.detach()) * frames).sum((0, 2))
    impossible = np.isinf(loss._data)
    if zero_infinity:
        loss = E.where(impossible, 0.0, loss)
    elif impossible.any():
        # NOTE: torch's gradient is NaN on the frames t < input_length of a sample with no
        # alignment. The product below is NaN there but where() keeps a 0 in its place; its
        # backward multiplies the 0 gradient by NaN, with no floating-point warning.
        lpf = E.where(frames & np.isfinite(lp._data), lp, 0.0).sum((0, 2))
        nan = np.where(impossible, np.nan, 0.0).astype(lp._data.dtype)
        loss = loss + E.where(impossible, 0.0, lpf * nan)
    if reduction == "mean":
        loss = loss / np.maximum(tl, 1).astype(loss._data.dtype)
        return loss[0] if unbatched else loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss
