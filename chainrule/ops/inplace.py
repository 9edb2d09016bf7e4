"""In-place operations: compute out of place, write into the tensor's memory, bump the shared
version counter and move the tensor's history onto the new node. An in-place op on a view also
rewrites its base's history (torch's CopySlices), so gradients through the base stay right."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op, _Version
from ..autograd.grad_mode import _mode
from . import _xp

_make = Tensor._make


def _bump(t):
    vc = t._vc
    if vc is None:
        vc = t._vc = _Version()
    vc.v += 1


def _check_inplace(t, record):
    if not _mode.grad:
        return
    if t._rg and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is not None and base._rg and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


class ViewAssign(Op):
    """base with its view region (view_fn) replaced by r."""

    @staticmethod
    def forward(ctx, b, r, view_fn):
        ctx.view_fn = view_fn
        out = b.copy()
        view_fn(out)[...] = r
        return out

    @staticmethod
    def backward(ctx, g):
        vf = ctx.view_fn
        n = ctx.needs_input_grad
        gb = _xp.call(ViewAssign, g, 0.0, vf) if n[0] else None
        gr = vf(g) if n[1] else None
        return gb, gr


def _simple(t, o, kwargs):
    """True when a NumPy in-place ufunc gives exactly torch's result (same float dtype)."""
    if kwargs.get("rounding_mode") is not None or not t._data.flags.writeable:
        return False
    k = t._data.dtype
    if k.kind != "f":
        return False
    if isinstance(o, Tensor):
        return o._data.dtype is k
    return type(o) in (float, int)


def _broadcastable(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _category(npd):
    return 2 if npd.kind == "f" else (1 if npd.kind in "iu" else 0)


_UFUNCS = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.true_divide}


def inplace(t, fn, *args, name, **kwargs):
    """Run ``fn(t, *args)`` and store the result in ``t`` (torch's ``op_``)."""
    record = _mode.grad and (t._rg or any(isinstance(a, Tensor) and a._rg for a in args))
    if not record and name in _UFUNCS and len(args) == 1 and _simple(t, args[0], kwargs):
        # nothing to record: write straight into t's memory, as NumPy would
        o = args[0]
        alpha = kwargs.get("alpha", 1)
        o = o._data if isinstance(o, Tensor) else o
        if alpha != 1:
            if type(o) is np.ndarray and o.shape == t._data.shape:
                o = np.multiply(o, alpha, dtype=t._data.dtype)
            else:
                o = o * alpha
        try:
            _UFUNCS[name](t._data, o, out=t._data)
        except ValueError:
            raise RuntimeError(f"{name}: output with shape {list(t.shape)} doesn't match the "
                               f"broadcast shape {list(np.broadcast_shapes(t.shape, np.shape(o)))}"
                               if _broadcastable(t.shape, np.shape(o)) else
                               f"{name}: shapes {list(t.shape)} and {list(np.shape(o))} cannot "
                               "broadcast") from None
        _bump(t)
        return t
    _check_inplace(t, record)
    src = t
    if record:
        # the op may save its input: give it a private copy with the same history
        src = _make(t._data.copy(), t._rg, t.grad_fn, t._nr)
    r = fn(src, *args, **kwargs)
    if r._data.shape != t._data.shape:
        raise RuntimeError(f"{name}: output with shape {list(t.shape)} doesn't match the "
                           f"broadcast shape {list(r.shape)}")
    if r._data.dtype != t._data.dtype:
        if _category(r._data.dtype) > _category(t._data.dtype):
            raise RuntimeError(f"{name}: result type {r.dtype.name.capitalize()} can't be cast "
                               f"to the desired output type {t.dtype.name.capitalize()}")
        r = r.to(t.dtype)
    if not t._data.flags.writeable:
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the "
                           "written-to tensor refers to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    np.copyto(t._data, r._data)
    _bump(t)
    if record and r.grad_fn is not None:
        _rebind_saved_output(r, t)
        base = t._base
        if base is not None:
            _rebase_view(t, r, base)
        else:
            t.grad_fn, t._nr, t._rg = r.grad_fn, r._nr, True
    return t


def _rebind_saved_output(r, t):
    """A node that saved its output r now guards t's memory and version (torch's exp_)."""
    saved = r.grad_fn._saved
    if type(saved) is list:
        for k, (kind, obj, ver) in enumerate(saved):
            if kind == 1 and obj[0] is r._data:
                saved[k] = (1, (t._data, obj[1], t._vc), t._vc.v)


def _rebase_view(t, r, base):
    vf = t.__dict__["_view_fn"]
    old = _make(base._data, base._rg, base.grad_fn, base._nr)
    new_base = ViewAssign.apply(old, r, vf)
    base.grad_fn, base._nr, base._rg = new_base.grad_fn, 0, True
    v = vf(base)
    t.grad_fn, t._nr, t._rg = v.grad_fn, v._nr, True


class CopyFrom(Op):
    """copy_: the destination's old value gets no gradient; the source gets the gradient."""

    @staticmethod
    def forward(ctx, a, s):
        return np.broadcast_to(s, a.shape).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        return None, g


def copy_(t, src):
    """Copy src (broadcast, cast) into t in place."""
    if not isinstance(src, Tensor):
        src = _make(np.asarray(src))
    try:
        np.broadcast_shapes(src._data.shape, t._data.shape)
    except ValueError:
        raise RuntimeError(f"copy_: the size of src {list(src.shape)} can't be broadcast to "
                           f"the destination shape {list(t.shape)}") from None
    record = _mode.grad and (t._rg or src._rg)
    if not record:
        _check_inplace(t, False)
        np.copyto(t._data, src._data, casting="unsafe")
        _bump(t)
        return t
    return inplace(t, CopyFrom.apply, src, name="copy_")


def fill_(t, value):
    """Fill t with a number (or a 0-d tensor) in place."""
    record = _mode.grad and (t._rg or isinstance(value, Tensor) and value._rg)
    if not record:
        _check_inplace(t, False)
        t._data.fill(value.item() if isinstance(value, Tensor) else value)
        _bump(t)
        return t
    if not isinstance(value, Tensor):
        value = _make(np.asarray(value, t._data.dtype))
    return inplace(t, CopyFrom.apply, value, name="fill_")
