"""In-place operations: compute out of place, write into the tensor's memory, bump the shared
version counter and move the tensor's history onto the new node. An in-place op on a view also
rewrites its base's history (torch's CopySlices), so gradients through the base stay right."""
import weakref

import numpy as np

from .._tensor import Tensor
from ..autograd import _transforms as _T
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
    if base is None:
        return
    if base._rg and base.grad_fn is None or _face_is_grad_leaf(base, t):
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _face_is_grad_leaf(base, t):
    """base is the hidden base of a re-laid-out leaf that requires grad (and t is not it)."""
    face = base.__dict__.get("_face")
    f = face() if face is not None else None
    return f is not None and f is not t and f._rg and f.grad_fn is None


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

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        # view_fn indexes one sample: assign sample by sample (recorded, so gradients flow)
        from .shape import stack
        b, r, vf = args
        return stack([cls.apply(b[i] if bat[0] else b, r[i] if bat[1] else r, vf)
                      for i in range(B)])


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
    dual = _T.STACK and _duals(t, args)
    if not record and not dual and name in _UFUNCS and len(args) == 1 and \
            _simple(t, args[0], kwargs):
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
        if dual:
            _T.copy_tans(t, src)        # and the same tangents
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
    if dual:
        _take_tangents(t, r)
    if record and r.grad_fn is not None:
        t._vc.g += 1        # every other view of this memory re-derives its history when read
        _rebind_saved_output(r, t)
        base = t._base
        if base is not None:
            _rebase_view(t, r, base)
        else:
            t.grad_fn, t._nr, t._rg = r.grad_fn, r._nr, True
    return t


def _duals(t, args):
    """Whether t or a tensor argument carries a tangent at an active dual level."""
    for a in (t,) + args:
        if isinstance(a, Tensor):
            tans = _T.tan_of(a)
            if tans and any(lv.active and lv.kind is _T.JVP for lv in tans):
                return True
    return False


def _take_tangents(t, r):
    """Forward AD through an in-place op: t now holds r, so at each active dual level its
    tangent is r's (zero where r has none), snapshotted at t's new version; when t is a view,
    its base's tangent takes r's tangent in t's region."""
    base = t.__dict__.get("_base")
    vf = t.__dict__.get("_view_fn")
    if base is not None and (base._base is not None or vf is None or
                             not np.may_share_memory(base._data, t._data)):
        base = None         # a re-laid-out base: its tangent goes stale (reads say so)
    own, new = _T.tan_of(t) or {}, _T.tan_of(r) or {}
    if base is not None:
        own = dict(own)
        own.update(_T.tan_of(base) or {})
    for lv in set(own) | set(new):
        if lv.active and lv.kind is _T.JVP:
            lead = (lv.size,) if lv.size else ()
            tan = new.get(lv)
            if tan is None:
                tan = _make(np.zeros(lead + tuple(t._data.shape), t._data.dtype))
            _T.set_tan(t, lv, tan, t._vc)
            if base is not None:
                bt = (_T.tan_of(base) or {}).get(lv)
                if bt is None:
                    bt = _make(np.zeros(lead + tuple(base._data.shape), base._data.dtype))
                _T.set_tan(base, lv, _region_set(bt, tan, vf, lv.size), base._vc)


def _region_set(bt, tan, vf, size):
    """bt with the region view_fn selects replaced by tan (per basis row for a batched level:
    the view function indexes one sample)."""
    if not size:
        return ViewAssign.apply(bt, tan, vf)
    if not (bt._rg or tan._rg):
        out = bt._data.copy()
        for i in range(size):
            vf(out[i])[...] = tan._data[i]
        return _make(out)
    from .shape import stack
    return stack([ViewAssign.apply(bt[i], tan[i], vf) for i in range(size)])


def _rebind_saved_output(r, t):
    """A node that saved its output r now guards t's memory and version (torch's exp_)."""
    saved = r.grad_fn._saved
    if type(saved) is list:
        for k, (kind, obj, ver) in enumerate(saved):
            if kind == 1 and obj[0] is r._data:
                saved[k] = (1, (t._data, obj[1], t._vc), t._vc.v)


def _rebase_view(t, r, base):
    vf = t.__dict__["_view_fn"]
    if base._base is not None:
        # base was re-laid-out in place (t_(), unsqueeze_(), resize_()) after t was taken from
        # it: t's view function reads base's former layout, which base's hidden base keeps
        base = base._base
    if not np.may_share_memory(base._data, t._data):
        # base moved to new memory (resize_ grew it): t no longer aliases it
        t.__dict__.pop("_base", None)
        t.__dict__.pop("_view_fn", None)
        t.grad_fn, t._nr, t._rg = r.grad_fn, r._nr, True
        return
    old = _make(base._data, base._rg, base.grad_fn, base._nr)
    new_base = ViewAssign.apply(old, r, vf)
    base.grad_fn, base._nr, base._rg = new_base.grad_fn, 0, True
    v = vf(base)
    t.grad_fn, t._nr, t._rg = v.grad_fn, v._nr, True
    face = base.__dict__.get("_face")
    if face is not None:
        # a hidden base: the re-laid-out tensor that shows it takes the new history too
        f = face()
        if f is not None and f is not t and f._base is base:
            o = f.__dict__["_view_fn"](base)
            f.grad_fn, f._nr, f._rg = o.grad_fn, o._nr, True


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
    if not record and not (_T.STACK and _duals(t, (src,))):
        _check_inplace(t, False)
        np.copyto(t._data, src._data, casting="unsafe")
        _bump(t)
        return t
    return inplace(t, CopyFrom.apply, src, name="copy_")


def fill_(t, value):
    """Fill t with a number (or a 0-d tensor) in place."""
    record = _mode.grad and (t._rg or isinstance(value, Tensor) and value._rg)
    if not record and not (_T.STACK and _duals(t, (value,))):
        _check_inplace(t, False)
        t._data.fill(value.item() if isinstance(value, Tensor) else value)
        _bump(t)
        return t
    if not isinstance(value, Tensor):
        value = _make(np.asarray(value, t._data.dtype))
    return inplace(t, CopyFrom.apply, value, name="fill_")


# -- in-place view ops: t_(), squeeze_(), unsqueeze_(), transpose_(), resize_() ----------------
def inplace_view(t, fn, *args):
    """``t.t_()``-style ops: t takes the layout of the view ``fn(t, *args)`` of its own memory
    and that view's history; the version counter bumps (as torch)."""
    _check_inplace(t, _mode.grad and t._rg)
    hide = _needs_hidden_base(t)
    _adopt(t, fn(t, *args), hide)
    return t


def _needs_hidden_base(t):
    """A root that may have views (it has a version counter) and is not a leaf requiring grad
    (whose views cannot record in-place ops) keeps its old layout as a hidden base."""
    return t._base is None and t._vc is not None and not (t._rg and t.grad_fn is None)


def _adopt(t, r, hide):
    """Give t the array, view function and history of r, a view of t."""
    d = t.__dict__
    vf = r.__dict__.get("_view_fn")
    if vf is None:          # an empty result is no view of anything
        d.pop("_base", None)
        d.pop("_view_fn", None)
    else:
        if hide:
            b = _make(t._data, t._rg, t.grad_fn, t._nr)
            b._vc = t._vc
            b.__dict__["_face"] = weakref.ref(t)
            t._base = b
        if t._base is not None:
            d["_view_fn"] = vf
    t._data = r._data
    if r.grad_fn is not None:
        t.grad_fn, t._nr = r.grad_fn, r._nr
    _bump(t)


def _dense_order(a):
    """The axis order that makes ``a`` C-contiguous (its memory one dense block), or None."""
    if a.flags.c_contiguous:
        return tuple(range(a.ndim))
    perm = tuple(sorted(range(a.ndim), key=lambda i: -a.strides[i]))
    return perm if a.transpose(perm).flags.c_contiguous else None


def resize_(t, shape):
    """Give t the shape ``shape`` over its memory read in order (torch's resize_): a prefix of
    the same memory when it is one dense block large enough, else new memory holding the old
    elements first (row-major when the old memory had gaps); new elements are uninitialised."""
    from .. import _runtime
    from . import shape as S
    from .index import getitem
    if t._rg or (t._base is not None and t._base._rg):
        raise RuntimeError("cannot resize variables that require grad")
    a = t._data
    if shape == a.shape:
        return t
    n = 1
    for s in shape:
        n *= s
    perm = _dense_order(a)
    if perm is not None and n <= a.size:
        hide = _needs_hidden_base(t)
        r = t if perm == tuple(range(a.ndim)) else S.permute(t, perm)
        r = S.reshape(getitem(S.reshape(r, (-1,)), slice(0, n)), shape)
        _adopt(t, r, hide)
        return t
    flat = a.ravel(order="K" if perm is not None else "C")
    new = np.empty(n, a.dtype)
    k = min(n, flat.size)
    new[:k] = flat[:k]
    _runtime._fill_uninitialized(new[k:])
    d = t.__dict__
    d.pop("_base", None)
    d.pop("_view_fn", None)
    t._data = new.reshape(shape)
    _bump(t)
    return t
