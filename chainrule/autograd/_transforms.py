"""Transform levels (vmap and forward-mode AD) and the dispatcher that every primitive call
passes through while one is active.

A level is a ``Level`` on a stack; ``n`` orders levels (newer is higher). Transform state lives
in a tensor's *data object*, so the Tensor wrappers the engine makes around saved arrays keep it:
- vmap: ``_data`` is a ``BatchedData``: the logical shape and dtype, the physical array (batch
  dim first, possibly itself a BatchedData of a lower level) and its level. Code that reads the
  values outside a primitive hits a clear "not batchable" error instead of wrong numbers.
- forward AD: tangents sit in a side table keyed by the data object: {level: tangent Tensor}.

The dispatcher (installed in ``function._INTERPOSE``) finds the highest active level among a
primitive's tensor arguments. For a vmap level it runs the op's batching rule on physical
tensors; for a dual level it suspends the level, computes the primal output with the op itself
and the tangent with the op's JVP rule, then attaches the tangent. Autograd graphs recorded
under vmap are physical (nodes see arrays with the batch dim), so grad transforms inside vmap
convert their roots and inputs with ``to_phys`` / ``from_phys``.
"""
import itertools
import sys
import weakref

import numpy as np

from .._tensor import Tensor
from . import function as F
from . import grad_mode
from .grad_mode import _mode

_nd = np.ndarray
_make = Tensor._make
VMAP, JVP = "vmap", "jvp"
_counter = itertools.count(1)
STACK = []
_SOLE = [None]     # the level when the stack is exactly one dual level (the fast path's case)


class Level:
    __slots__ = ("n", "kind", "size", "active", "keys", "randomness", "tok", "memo",
                 "__weakref__")

    def __init__(self, kind, size=None, randomness="error"):
        self.n = next(_counter)
        self.kind, self.size, self.randomness = kind, size, randomness
        self.active = True
        self.keys = []
        self.tok = None      # func-level dual levels: handles made after this are internal
        self.memo = None

    def __repr__(self):
        return f"<{self.kind} level {self.n}>"


_ERROR_MODE = ("vmap: called random operation while in randomness error mode. Please either "
               "use the 'same' or 'different' randomness flags on vmap or perform the "
               "randomness operation out of vmap")
RGUARD = [0]         # > 0 inside jacfwd(randomness='error'): every random draw raises
_OUTER = [None]      # the interposer that was installed before the first level


class random_guard:
    """Make random ops raise inside a transform (randomness='error')."""

    def __init__(self, randomness):
        self.on = randomness == "error"

    def __enter__(self):
        if self.on:
            RGUARD[0] += 1

    def __exit__(self, *exc):
        if self.on:
            RGUARD[0] -= 1


def random_levels(op, inputs=(), inplace=None):
    """The vmap levels a random draw of ``op`` must vary along, outermost first (torch.func's
    rules, applied level by level): a level with randomness='error' raises; a 'different' level
    varies; a 'same' level shares one draw. ``inputs`` are the tensors a draw's values depend on
    (bernoulli's p, normal's mean/std): the levels they are batched at vary too, and a 'same'
    level cannot honour them. ``inplace``: the tensor filled in place, which must be batched at
    every 'different' level."""
    if RGUARD[0]:
        raise RuntimeError(_ERROR_MODE)
    if not inputs and inplace is None:
        out = []
        for lv in STACK:
            if lv.kind is VMAP:
                r = lv.randomness
                if r == "different":
                    out.append(lv)
                elif r == "error":
                    raise RuntimeError(_ERROR_MODE)
        return out
    have = ()
    if inputs:
        have = set()
        for t in inputs:
            d = t._data
            while type(d) is BatchedData:
                have.add(d.level)
                d = d.phys
    own = None
    if inplace is not None:
        own = set()
        d = inplace._data
        while type(d) is BatchedData:
            own.add(d.level)
            d = d.phys
    out = []
    for lv in STACK:
        if lv.kind is not VMAP:
            continue
        r = lv.randomness
        if r == "error":
            raise RuntimeError(_ERROR_MODE)
        if r == "different":
            if own is not None and lv not in own:
                raise RuntimeError("vmap: Cannot ask for different inplace randomness on an "
                                   "unbatched tensor. This will appear like same randomness. "
                                   f"(op: {op}; draw into a batched tensor, or use "
                                   "randomness='same')")
            out.append(lv)
        elif lv in have:
            raise RuntimeError("Vmap does not currently support same randomness with a "
                               f"batched tensor input. (op: {op}, whose values depend on an "
                               "input batched at a vmap level with randomness='same'; use "
                               "randomness='different' there)")
    return out


def levels_of(d):
    """(the vmap levels data object d is batched at, outermost first; its innermost array)."""
    out = []
    while type(d) is BatchedData:
        out.append(d.level)
        d = d.phys
    out.reverse()
    return out, d


def union_levels(*groups):
    """The vmap levels in any of ``groups``, in stack order (outermost first)."""
    s = set()
    for g in groups:
        s.update(g)
    return sorted(s, key=lambda lv: lv.n)


def phys_at(d, levels):
    """The values of data object d as one array: a dim per level of ``levels`` (outermost
    first; they must include every level d is batched at) then d's logical dims, broadcast
    along the levels d is not batched at."""
    have, raw = levels_of(d)
    if have == levels:
        return raw
    k = 0
    shape = []
    for lv in levels:
        if k < len(have) and have[k] is lv:
            shape.append(raw.shape[k])
            k += 1
        else:
            shape.append(1)
    if k != len(have):
        raise RuntimeError("vmap: a tensor batched at a vmap level that is no longer active was "
                           "used inside another vmap")
    rest = raw.shape[len(have):]
    r = raw.reshape(tuple(shape) + rest)
    return np.broadcast_to(r, tuple(lv.size for lv in levels) + rest)


def batched(arr, levels):
    """The data object batched at ``levels`` (outermost first) whose leading dims of arr are
    those levels' batches."""
    d = arr
    for lv in levels:
        d = BatchedData(d, lv)
    return d


def push(kind, size=None, randomness="error"):
    lv = _new(Level)        # (Level(kind, size, randomness), without its __init__ frame)
    lv.n = next(_counter)
    lv.kind = kind
    lv.size = size
    lv.randomness = randomness
    lv.active = True
    lv.keys = []
    lv.tok = None
    lv.memo = None
    if not STACK:
        _OUTER[0] = F._INTERPOSE[0]
    F._INTERPOSE[0] = dispatch
    STACK.append(lv)
    _SOLE[0] = lv if len(STACK) == 1 and kind is JVP else None
    return lv


def pop(lv):
    """Leave a level: drop its tangents everywhere and restore what it replaced."""
    STACK.remove(lv)
    _SOLE[0] = STACK[0] if len(STACK) == 1 and STACK[0].kind is JVP else None
    lv.active = False
    lv.memo = None
    get = TAN.get
    for ref in lv.keys:
        if ref() is None:
            continue        # its data is gone, and its entry with it (_forget)
        key = ref.key
        e = get(key)
        if e is not None and e[0] is ref:
            tans = e[1]
            tans.pop(lv, None)
            if not tans:
                TAN.pop(key, None)      # dropping a tangent may have freed the data too
    lv.keys = []
    if not STACK:
        F._INTERPOSE[0] = _OUTER[0]


# -- batched data ------------------------------------------------------------------------------
def _not_batchable(what):
    names = []
    f = sys._getframe(2)
    while f is not None and len(names) < 4:
        mod = f.f_globals.get("__name__", "")
        if mod.startswith("chainrule") and not mod.startswith(("chainrule.autograd._",
                                                                "chainrule.func")):
            names.append(f"{mod}.{f.f_code.co_name}")
        elif names:
            break
        f = f.f_back
    where = " <- ".join(names) if names else "a chainrule function"
    return RuntimeError(f"vmap: {where} is not batchable yet: it computes {what} outside a "
                        "chainrule primitive, so it would see one placeholder instead of the "
                        "batch. Move it out of the vmapped function or give it a batching rule.")


class BatchedData:
    """The data of a tensor batched at a vmap level: logical metadata plus the physical array."""
    __slots__ = ("phys", "level", "shape", "dtype", "ndim", "size", "__weakref__")
    itemsize = property(lambda self: self.dtype.itemsize)

    def __init__(self, phys, level):
        self.phys, self.level = phys, level
        s = phys.shape[1:]
        self.shape, self.dtype, self.ndim = s, phys.dtype, len(s)
        b = phys.shape[0]
        self.size = phys.size // b if b else _prod(s)

    @property
    def flags(self):
        p = self.phys
        while type(p) is BatchedData:
            p = p.phys
        return p.flags

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def copy(self, order="K"):
        return BatchedData(self.phys.copy(), self.level)

    def __array__(self, dtype=None, copy=None):
        raise _not_batchable("with the tensor's values")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if method == "__call__" and out is not None and len(out) == 1 and out[0] is self:
            # an in-place update of this batched array (x += y's fast path)
            ins = []
            for x in inputs:
                if type(x) is BatchedData:
                    if x.level is not self.level:
                        break
                    ins.append(_align_phys(x.phys, self.ndim))
                else:
                    ins.append(x)
            else:
                kw = dict(kwargs)
                kw["out"] = (self.phys,)
                ufunc(*ins, **kw)
                return self
        raise _not_batchable(f"numpy.{ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name == "shape":
            return self.shape
        if name == "ndim":
            return self.ndim
        if name == "reshape":
            shape = args[1] if len(args) > 1 else kwargs.pop("shape", kwargs.pop("newshape"))
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            return BatchedData(np.reshape(self.phys, self.phys.shape[:1] + shape,
                                          **{k: v for k, v in kwargs.items() if k == "copy"}),
                               self.level)
        if name in ("may_share_memory", "shares_memory"):
            a, b = (_innermost(x) for x in args[:2])
            return func(a, b)
        if name == "copyto":
            dst, src = args[0], args[1]
            if type(src) is BatchedData and src.level is self.level and dst is self:
                return np.copyto(self.phys, _align_phys(src.phys, self.ndim), **kwargs)
            if dst is self and type(src) is not BatchedData:
                return np.copyto(self.phys, src, **kwargs)
            if dst is self:
                # src batched at some of dst's levels (a draw under randomness='different')
                have, raw = levels_of(self)
                sl = levels_of(src)[0]
                if all(lv in have for lv in sl):
                    v = phys_at(src, have)
                    k = self.ndim - src.ndim
                    if k > 0:
                        b = len(have)
                        v = v.reshape(v.shape[:b] + (1,) * k + v.shape[b:])
                    return np.copyto(raw, v, **kwargs)
            raise RuntimeError("vmap: an in-place operation would write a batched value into "
                               "a tensor that is not batched; make the destination batched "
                               "(or out of place)")
        raise _not_batchable(f"numpy.{name}")

    def __getitem__(self, idx):
        raise _not_batchable("an index into the raw data")

    def _op(name):
        def fn(self, *other):
            raise _not_batchable(f"the operator {name} on raw data")
        return fn
    for _n in ("__lt__", "__le__", "__gt__", "__ge__", "__add__", "__radd__", "__sub__",
               "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__pow__",
               "__rpow__", "__neg__", "__and__", "__or__", "__invert__", "__abs__", "__bool__",
               "__float__", "__int__", "__len__", "__iter__"):
        locals()[_n] = _op(_n)
    del _n, _op

    def __eq__(self, other):
        raise _not_batchable("the operator == on raw data")

    __ne__ = __eq__
    __hash__ = object.__hash__

    def __setitem__(self, idx, value):
        from ._vmap_rules import _adv_layout
        idx = idx if isinstance(idx, tuple) else (idx,)
        if type(value) is BatchedData:
            if value.level is not self.level:
                raise _not_batchable("an in-place write of a differently batched value")
            tshape = np.empty(self.shape, bool)[idx].shape
            value = _align_phys(value.phys, len(tshape))
            k = _adv_layout(idx)
            if k is not None:
                value = np.moveaxis(value, 0, k)
        self.phys[(slice(None),) + idx] = value

    def __getattr__(self, name):
        if name.startswith("__array"):
            raise AttributeError(name)      # numpy's protocol probes; __array__ explains
        raise _not_batchable(f"data.{name}")

    def __repr__(self):
        return f"BatchedData(level={self.level.n}, shape={self.shape})"


def _align_phys(p, nd):
    """A physical array (B, *s) reshaped to (B, 1, ..., *s) with nd logical dims."""
    k = nd - (p.ndim - 1)
    return p.reshape(p.shape[:1] + (1,) * k + p.shape[1:]) if k > 0 else p


def _prod(s):
    n = 1
    for k in s:
        n *= k
    return n


def _innermost(x):
    while type(x) is BatchedData:
        x = x.phys
    return x


# -- tangents ----------------------------------------------------------------------------------
TAN = {}     # id(data object) -> [weakref to it, {Level: tangent Tensor}, version snapshots]
_NO_ENTRY = (None,)


class _Ref(weakref.ref):
    __slots__ = ("key",)


def _forget(ref):
    key = ref.key
    if TAN.get(key, _NO_ENTRY)[0] is ref:
        del TAN[key]


def tangents_of(d):
    e = TAN.get(id(d))
    if e is not None and e[0]() is d:
        return e[1]
    return None


def set_tangent(d, lv, t, vc=None):
    """Attach tangent t at level lv to data object d; with ``vc`` (the owner's version
    counter) a later in-place write to the data is detected instead of silently ignored."""
    key = id(d)
    e = TAN.get(key)
    if e is None or e[0]() is not d:
        ref = _Ref(d, _forget)
        ref.key = key
        e = TAN[key] = [ref, {}, None]
    e[1][lv] = t
    if vc is not None:
        if e[2] is None:
            e[2] = {}
        e[2][lv] = (vc, vc.v)
    lv.keys.append(e[0])


def tan_of(t):
    """The tangents a tensor carries: its own (set when it was made) or, for the wrappers the
    engine makes around saved outputs, its data's. A detached tensor carries none."""
    own = t.__dict__.get("_tan")
    if own is not None:
        return own
    if t.grad_fn is None:
        return None
    e = TAN.get(id(t._data))
    if e is not None and e[0]() is t._data:
        return e[1]
    return None


def set_tan(t, lv, tangent, vc=None):
    """Give tensor t (and its data object) the tangent at level lv."""
    set_tangent(t._data, lv, tangent, vc)
    own = t.__dict__.get("_tan")
    own = dict(own) if own else {}
    own[lv] = tangent
    t.__dict__["_tan"] = own


def set_tan_fresh(t, lv, tangent):
    """set_tan for a tensor whose data object was just made (so has no entry yet)."""
    d = t._data
    key = id(d)
    ref = _Ref(d, _forget)
    ref.key = key
    TAN[key] = [ref, {lv: tangent}, None]
    lv.keys.append(ref)
    t.__dict__["_tan"] = {lv: tangent}


def copy_tans(src, dst, skip=()):
    """dst gets src's tangents at active levels (except those in skip)."""
    tans = tan_of(src)
    if tans:
        for k, v in tans.items():
            if k.active and k not in skip:
                set_tan(dst, k, v)


def get_tangent(t, lv):
    tans = tan_of(t)
    if tans is None:
        return None
    r = tans.get(lv)
    if r is not None:
        e = TAN.get(id(t._data))
        if e is not None and e[2] is not None and lv in e[2]:
            vc, v = e[2][lv]
            if vc.v != v:
                raise RuntimeError("forward AD: a dual tensor was modified in place through "
                                   "another alias of its memory (a view of it, or its base) "
                                   "after its tangent was computed, which leaves the tangent "
                                   "stale in chainrule; write through the tensor itself or "
                                   "use the out-of-place op (e.g. torch.where instead of "
                                   "y[i] = v)")
        return r
    return None


def fresh(d):
    """A new data object over the same memory (tangents do not follow)."""
    if type(d) is BatchedData:
        return BatchedData(d.phys, d.level)
    return d.view()


# -- the dispatcher ----------------------------------------------------------------------------
def top_level(t):
    d = t._data
    best = d.level if type(d) is BatchedData else None
    tans = tan_of(t)
    if tans:
        for lv in tans:
            if lv.active and (best is None or lv.n > best.n):
                best = lv
    return best


QUIET = [False]   # set while a transform's backward needs no graph: stop recording


def _general(cls, args, kwargs):
    top = None
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if type(d) is _nd and id(d) not in TAN:
                continue
            lv = top_level(a)
            if lv is not None and (top is None or lv.n > top.n):
                top = lv
        elif type(a) is tuple:      # an index whose tensors are batched (x[idx] under vmap)
            for k in a:
                if type(k) is BatchedData and (top is None or k.level.n > top.n):
                    top = k.level
    if top is None:
        outer = _OUTER[0]
        return NotImplemented if outer is None else outer(cls, args, kwargs)
    if top.kind is VMAP:
        return _vmap_call(top, cls, args, kwargs)
    return _jvp_call(top, cls, args, kwargs, _solo(top, args))


def dispatch(cls, args, kwargs):
    """The interposer. Fast path: one dual level is the whole stack; find the tangents in one
    pass and, when nothing needs recording, compute the output tangent with NumPy on bare
    arrays. Anything else goes through ``_general``."""
    if QUIET[0] and _mode.grad:
        _mode.grad = False
    lv = _SOLE[0]
    if lv is None or not lv.active:
        return _general(cls, args, kwargs)
    tans = tds = None
    arrays = []
    rgs = None
    for i, a in enumerate(args):
        if not isinstance(a, Tensor):
            arrays.append(a)
            continue
        d = a._data
        if type(d) is not _nd:
            return _general(cls, args, kwargs)
        arrays.append(d)
        if a._rg:
            if rgs is None:
                rgs = [a]
                first = i
            else:
                rgs.append(a)
        tt = a.__dict__.get("_tan")
        if tt is None:
            e = TAN.get(id(d))
            if e is None or a.grad_fn is None or e[0]() is not d:
                continue
            tt = e[1]
        else:
            vc = a._vc
            # a version still 0 was never written in place: no snapshot can differ from it
            e = TAN.get(id(d)) if vc is not None and vc.v else None
        t = tt.get(lv)
        if t is None:
            continue
        if e is not None:
            v = e[2]
            if v is not None:
                v = v.get(lv)
                if v is not None and v[0].v != v[1]:
                    return _general(cls, args, kwargs)   # written in place: it raises
        td = t._data
        if type(td) is not _nd or id(td) in TAN:
            return _general(cls, args, kwargs)
        if tans is None:
            tans = [None] * len(args)
            tds = tans[:]
        tans[i] = t
        tds[i] = td
    if tans is None:
        outer = _OUTER[0]
        return NotImplemented if outer is None else outer(cls, args, kwargs)
    raw = _RAW_RULES.get(cls)
    if raw is None or kwargs:
        return _jvp_call(lv, cls, args, kwargs, True, tans)
    rec = rgs is not None and _mode.grad and cls.differentiable
    if rec:
        tok = lv.tok
        if tok is None:
            return _jvp_call(lv, cls, args, kwargs, True, tans)
        for t in tans:
            if t is not None and t._rg:
                return _jvp_call(lv, cls, args, kwargs, True, tans)
        memo = lv.memo
        for a in rgs:
            fn = a.grad_fn
            if fn is None:
                if a.__dict__.get("_htok", 0) <= tok:
                    return _jvp_call(lv, cls, args, kwargs, True, tans)
            elif memo is None or memo.get(fn) is not False:
                if _reaches_old_leaf(a, lv):
                    return _jvp_call(lv, cls, args, kwargs, True, tans)
                memo = lv.memo
    B = lv.size
    outer = _OUTER[0]
    if outer is not None:
        lv.active = False
        F._INTERPOSE[0] = outer
        try:
            out = cls.apply(*args)
        finally:
            lv.active = True
            F._INTERPOSE[0] = dispatch
        if type(out) is tuple:
            return _raw_fallback(lv, cls, args, kwargs, tans, out)
        od = out._data
    else:
        ctx = _new(cls)
        ctx._saved = None
        if not rec:
            ctx.needs_input_grad = F._NO_NEEDS
        elif len(rgs) == 1:
            ctx.needs_input_grad = _ONE_HOT[len(args), first]
        else:
            ctx.needs_input_grad = tuple([isinstance(a, Tensor) and a._rg for a in args])
        try:
            od = cls.forward(ctx, *arrays)
        except ValueError as e:
            raise F._op_error(cls, args, e) from None
        if rec:
            if type(od) is not _nd:
                out = F._connect(ctx, args, arrays, od, ctx.needs_input_grad)
            elif len(rgs) == 1:
                out = _connect_at(ctx, args, arrays, od, first)
            else:
                out = F._connect1(ctx, args, arrays, od, ctx.needs_input_grad)
            if type(out) is tuple:
                return _raw_fallback(lv, cls, args, kwargs, tans, out)
            od = out._data
            fn = out.grad_fn
            if fn is not None:
                if memo is None:
                    memo = lv.memo = {}
                memo[fn] = False
        else:
            if type(od) is not _nd:
                if type(od) is tuple:
                    out = tuple(_make(o if type(o) is _nd else np.asarray(o)) for o in od)
                    return _raw_fallback(lv, cls, args, kwargs, tans, out)
                od = np.asarray(od)
            out = _new(Tensor)      # (_make(od), inline)
            out._data = od
            out._rg = False
            out.grad_fn = None
            out._nr = 0
            out.grad = None
            out._vc = None
    if B:
        t = raw(arrays, tds, od, B)
    else:
        t = raw(arrays, [None if t is None else t[None] for t in tds], od, 1)
    if t is None or od.dtype.kind != "f":
        return out
    if t is NotImplemented:
        return _raw_fallback(lv, cls, args, kwargs, tans, out)
    for x in arrays:
        if x is od:
            out._data = od = od.view()
            break
    sh = od.shape
    if t.shape[1:] != sh:
        t = np.broadcast_to(_align_phys(t, len(sh)), (B or 1,) + sh)
    dt = t.dtype
    if dt is not od.dtype and dt != od.dtype:
        t = t.astype(od.dtype)
    tt = _new(Tensor)       # (_make(t if B else t[0]), inline)
    tt._data = t if B else t[0]
    tt._rg = False
    tt.grad_fn = None
    tt._nr = 0
    tt.grad = None
    tt._vc = None
    t = tt
    vc = out._vc
    if vc is None:
        vc = out._vc = _new(_Version)    # (_Version(), without its Python __init__ frame)
        vc.v = 0
        vc.g = 0
    out.__dict__["_tan"] = {lv: t}
    key = id(od)
    e = TAN.get(key)
    if e is None or e[0]() is not od:
        ref = _Ref(od, _forget)
        ref.key = key
        TAN[key] = [ref, {lv: t}, {lv: (vc, vc.v)}]
    else:
        ref = e[0]
        e[1][lv] = t
        if e[2] is None:
            e[2] = {}
        e[2][lv] = (vc, vc.v)
    lv.keys.append(ref)
    return out


def _raw_fallback(lv, cls, args, kwargs, tans, out):
    """The raw rule declined: the Tensor rule on the primal already computed (called with the
    level suspended, nothing recording the tangent)."""
    g = _mode.grad
    _mode.grad = False
    lv.active = False
    F._INTERPOSE[0] = None
    try:
        B = lv.size
        if B:
            t = _RULES_FOR_RAW(cls)(cls, args, tans, out, kwargs, B)
        else:
            t = _plain_rule(cls)(cls, args, tans, out, kwargs)
    finally:
        _mode.grad = g
        lv.active = True
        F._INTERPOSE[0] = dispatch
    attach(out, t, lv, args)
    return out


_new = object.__new__
_Version = F._Version
_connect_at = F._connect_at


class _OneHot(dict):
    """(number of arguments, i) -> needs_input_grad with only argument i requiring grad."""

    def __missing__(self, key):
        n, i = key
        r = self[key] = tuple([k == i for k in range(n)])
        return r


_ONE_HOT = _OneHot()


def _plain_rule(cls):
    r = _JVP_CACHE.get(cls)
    if r is None:
        from ._fwd_rules import jvp_rule
        r = _JVP_CACHE[cls] = jvp_rule(cls)
    return r


def _solo(top, args):
    """True when top is the only transform state among args and their tangents are bare: the
    op and its rule then run without further dispatch."""
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            if type(d) is not _nd:
                return False
            e = TAN.get(id(d))
            if e is None or e[0]() is not d:
                continue
            for k, t in e[1].items():
                if k is top:
                    td = t._data
                    if type(td) is not _nd or id(td) in TAN:
                        return False
                elif k.active:
                    return False
    return True


_RULE_CACHE = {}
_JVP_CACHE = {}


def _vmap_call(lv, cls, args, kwargs):
    if _is_function(cls):
        return _function_vmap(cls, lv, args, kwargs)
    rule = _RULE_CACHE.get(cls)
    if rule is None:
        from ._vmap_rules import rule_for
        rule = rule_for(cls)
        if rule is not None:
            _RULE_CACHE[cls] = rule
    if rule is None:
        raise RuntimeError(f"vmap: the primitive {cls.__name__} (chainrule op from "
                           f"{cls.__module__}) has no batching rule, so it is not batchable "
                           "yet. Call it outside vmap, or add a rule in "
                           "chainrule/autograd/_vmap_rules.py.")
    phys = list(args)
    bat = [False] * len(args)
    plain = True      # every physical argument a bare array: nothing below needs dispatch
    rec = _mode.grad
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            d = a._data
            if type(d) is BatchedData and d.level is lv:
                a = phys[i] = unwrap(a)
                bat[i] = True
                d = a._data
            if type(d) is not _nd or id(d) in TAN or (rec and a._rg):
                plain = False
    if plain:
        F._INTERPOSE[0] = None
        try:
            out = rule(cls, phys, bat, kwargs, lv.size)
        finally:
            F._INTERPOSE[0] = dispatch
    else:
        out = rule(cls, phys, bat, kwargs, lv.size)
    if type(out) is tuple:
        return tuple(wrap(o, lv) for o in out)
    return wrap(out, lv)


_BJVP_CACHE = {}


def _jvp_call(lv, cls, args, kwargs, solo=False, tans=None):
    if _is_function(cls):
        return _function_jvp(cls, lv, args, kwargs)
    if lv.size:
        rule = _BJVP_CACHE.get(cls)
        if rule is None:
            from ._fwd_rules import batched_jvp_rule
            rule = _BJVP_CACHE[cls] = batched_jvp_rule(cls, lv)
    else:
        rule = _JVP_CACHE.get(cls)
        if rule is None:
            from ._fwd_rules import jvp_rule
            rule = _JVP_CACHE[cls] = jvp_rule(cls)
    if tans is None:
        tans = [get_tangent(a, lv) if isinstance(a, Tensor) else None for a in args]
    if solo and lv.size and not _mode.grad:
        res = _jvp_raw(lv, cls, args, kwargs, tans)
        if res is not NotImplemented:
            return res
    quiet = _mode.grad and lv.tok is not None and not _tangent_graph_needed(lv, args, tans)
    lv.active = False
    if solo:
        F._INTERPOSE[0] = None
    try:
        out = cls.apply(*args, **kwargs)
        if quiet:
            _mode.grad = False
        tout = rule(cls, args, tans, out, kwargs) if not lv.size else \
            rule(cls, args, tans, out, kwargs, lv.size)
    finally:
        lv.active = True
        if quiet:
            _mode.grad = True
        if solo:
            F._INTERPOSE[0] = dispatch
    attach(out, tout, lv, args)
    return out


# -- custom Functions (function.Function.apply consults the interposer too) ---------------------
_IS_FN = {}


def _is_function(cls):
    r = _IS_FN.get(cls)
    if r is None:
        r = _IS_FN[cls] = isinstance(cls, type) and issubclass(cls, F.Function)
    return r


class VmapInfo:
    """What a custom Function's ``vmap`` staticmethod is told: the batch size and the vmap's
    randomness flag."""
    __slots__ = ("batch_size", "randomness")

    def __init__(self, batch_size, randomness):
        self.batch_size, self.randomness = batch_size, randomness


def _user_vmap(cls, lv, args, kwargs):
    """The Function's own ``vmap(info, in_dims, *args)`` on the physical arguments (batch at
    dim 0 where batched, in_dims None elsewhere); its (outputs, out_dims) are batched back."""
    bat = [isinstance(a, Tensor) and type(a._data) is BatchedData and a._data.level is lv
           for a in args]
    phys = [unwrap(a) if b else a for a, b in zip(args, bat)]
    out, out_dims = cls.vmap(VmapInfo(lv.size, lv.randomness),
                             tuple(0 if b else None for b in bat), *phys, **kwargs)
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    dims = (out_dims,) * len(outs) if not isinstance(out_dims, tuple) else out_dims
    if len(dims) != len(outs):
        raise RuntimeError(f"vmap: {cls.__name__}.vmap returned {len(outs)} outputs but "
                           f"out_dims for {len(dims)}")
    res = []
    for o, d in zip(outs, dims):
        if isinstance(o, Tensor) and d is not None:
            if d % o.ndim:
                o = o.movedim(d, 0)
            o = wrap(o, lv)
        res.append(o)
    return res[0] if single else tuple(res)


def _function_vmap(cls, lv, args, kwargs):
    """A custom Function under vmap: its own ``vmap`` staticmethod when it defines one, else
    its forward runs on the batch (recording needs ``generate_vmap_rule``)."""
    recording = _mode.grad and any(isinstance(a, Tensor) and a._rg for a in args)
    if getattr(cls, "vmap", None) is not None and not recording:
        if getattr(cls, "generate_vmap_rule", False):
            raise RuntimeError(f"vmap: {cls.__name__} sets generate_vmap_rule=True and also "
                               "defines a vmap staticmethod; only one of them may be used")
        return _user_vmap(cls, lv, args, kwargs)
    if _mode.grad and any(isinstance(a, Tensor) and a._rg for a in args) and not \
            getattr(cls, "generate_vmap_rule", False):
        raise RuntimeError(f"vmap: {cls.__name__} is a custom autograd.Function that records "
                           "a graph; to use it under vmap set generate_vmap_rule=True on it "
                           "(its forward and backward must then be batchable)")
    if _mode.grad and any(isinstance(a, Tensor) and a._rg for a in args):
        return _function_vmap_recorded(cls, lv, args, kwargs)
    here = F._INTERPOSE[0]
    F._INTERPOSE[0] = _pass
    try:
        return cls.apply(*args, **kwargs)
    finally:
        F._INTERPOSE[0] = here


def _function_vmap_recorded(cls, lv, args, kwargs):
    """generate_vmap_rule with a graph: the node is a physical one (batch as dim 0, so the
    engine sees the real shapes); its forward and backward run the Function's own per-sample
    code under a fresh vmap level, and a ctx view converts what it keeps."""
    if any(type(a._data) is BatchedData and a._data.level is not lv
           for a in args if isinstance(a, Tensor)):
        raise RuntimeError(f"vmap: {cls.__name__} (a custom autograd.Function) records a graph "
                           "inside nested vmap levels, which is not supported yet")
    bat = tuple(isinstance(a, Tensor) and is_batched_at(a, lv) for a in args)
    phys = [to_phys(a, lv) if b else a for a, b in zip(args, bat)]
    out = _VmappedFunction.apply((cls, lv.size, bat, kwargs, lv), *phys)
    if type(out) is tuple:
        return tuple(from_phys(o, lv) if isinstance(o, Tensor) else o for o in out)
    return from_phys(out, lv)


def _phys_of(v, lv):
    return (to_phys(v, lv), True) if isinstance(v, Tensor) and is_batched_at(v, lv) else (v, False)


class _VCtx:
    """The ctx a vmapped custom Function sees (per sample); what it keeps lives on the
    physical node, batched tensors converted to batch-first form and back."""

    def __init__(self, node, lv):
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_lv", lv)

    def save_for_backward(self, *ts):
        self._node._vsaved = [_phys_of(t, self._lv) for t in ts]

    save_for_forward = save_for_backward

    @property
    def saved_tensors(self):
        lv = self._lv
        return tuple(from_phys(p, lv) if b else p for p, b in self._node._vsaved)

    @property
    def needs_input_grad(self):
        return self._node.needs_input_grad[1:]

    def mark_non_differentiable(self, *outs):
        pass        # per-sample outputs: the physical ones are marked by _VmappedFunction

    def mark_dirty(self, *ts):
        raise RuntimeError("vmap: a custom autograd.Function that modifies its inputs in place "
                           "(mark_dirty) cannot record a graph under vmap yet")

    def set_materialize_grads(self, value):
        self._node.set_materialize_grads(value)

    def __setattr__(self, k, v):
        self._node._vattrs[k] = _phys_of(v, self._lv)

    def __getattr__(self, k):
        try:
            v, b = self._node._vattrs[k]
        except KeyError:
            raise AttributeError(k) from None
        return from_phys(v, self._lv) if b else v


def _in_level(B, fn, src=None):
    """Run fn at a fresh vmap level of size B standing for level ``src`` (whose batch is dim 0
    of the physical values fn sees): random draws follow src's randomness at the new level."""
    r = "same" if src is None else src.randomness
    tmp = push(VMAP, B, r)
    if src is not None:
        src.randomness = "same"
    try:
        return fn(tmp)
    finally:
        if src is not None:
            src.randomness = r
        pop(tmp)


class _VmappedFunction(F.Function):
    """Runs ``cls`` (a custom Function with generate_vmap_rule) on batch-first tensors."""

    @staticmethod
    def forward(ctx, spec, *phys):
        cls, B, bat, kwargs, src = spec
        ctx._vsaved, ctx._vattrs, ctx._vspec = [], {}, (cls, B, src)

        def run(tmp):
            view = _VCtx(ctx, tmp)
            xs = [from_phys(p, tmp) if b else p for p, b in zip(phys, bat)]
            if cls.setup_context is not F.Function.setup_context:
                out = cls.forward(*xs, **kwargs)
                cls.setup_context(view, tuple(xs), out)
            else:
                out = cls.forward(view, *xs, **kwargs)
            if type(out) is tuple:
                return tuple(to_phys(o, tmp) if isinstance(o, Tensor) else o for o in out)
            return to_phys(out, tmp)
        with grad_mode.no_grad():
            return _in_level(B, run, src)

    @staticmethod
    def backward(ctx, *grads):
        cls, B, src = ctx._vspec

        def run(tmp):
            view = _VCtx(ctx, tmp)
            gs = [from_phys(g, tmp) if isinstance(g, Tensor) else g for g in grads]
            res = cls.backward(view, *gs)
            res = res if type(res) is tuple else (res,)
            return tuple(to_phys(r, tmp) if isinstance(r, Tensor) else r for r in res)
        return (None,) + _in_level(B, run, src)


def _pass(cls, args, kwargs):
    """Interposer for one call: the custom Function itself runs plainly, the primitives inside
    it are dispatched as usual."""
    F._INTERPOSE[0] = dispatch
    if _is_function(cls):
        return NotImplemented
    return dispatch(cls, args, kwargs)


def _function_jvp(cls, lv, args, kwargs):
    """Forward AD through a custom Function: its forward for the primal, its ``jvp`` for the
    tangent (``ctx.save_for_forward`` values are its ``saved_tensors`` there)."""
    tans = []
    for a in args:
        if isinstance(a, Tensor):
            t = get_tangent(a, lv)
            if t is None:
                t = a.detach() * 0 if a.is_floating_point() else None
            tans.append(t)
        else:
            tans.append(None)
    lv.active = False
    try:
        out = cls.apply(*args, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        ctx = None
        for o in outs:
            if isinstance(o, Tensor) and isinstance(o.grad_fn, F.FunctionCtx):
                ctx = o.grad_fn
                break
        if ctx is None:
            ctx = F.FunctionCtx()
            ctx._fn, ctx._saved, ctx._raw = cls, None, False
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
            g = _mode.grad
            _mode.grad = False
            try:
                if cls.setup_context is not F.Function.setup_context:
                    cls.setup_context(ctx, args, cls.forward(*args, **kwargs))
                else:
                    cls.forward(ctx, *args, **kwargs)
            finally:
                _mode.grad = g
        fwd = ctx.__dict__.get("saved_for_forward")
        if fwd is not None:
            keep, ctx._saved = ctx._saved, tuple(fwd)
        try:
            tout = cls.jvp(ctx, *tans)
        finally:
            if fwd is not None:
                ctx._saved = keep
    finally:
        lv.active = True
    attach(out, tout if isinstance(tout, tuple) else (tout,), lv, args)
    return out


def _tangent_graph_needed(lv, args, tans):
    """Whether the tangent computation must be recorded: some tangent requires grad, or some
    primal does through a leaf older than this level (a handle of an enclosing grad, or the
    user's). Handles made inside the level (an inner jacrev's) need no tangent graph."""
    for t in tans:
        if t is not None and t._rg:
            return True
    for a in args:
        if isinstance(a, Tensor) and a._rg and _reaches_old_leaf(a, lv):
            return True
    return False


def _reaches_old_leaf(t, lv):
    memo = lv.memo
    if memo is None:
        memo = lv.memo = {}
    tok = lv.tok
    root = t.grad_fn
    if root is None:
        return t.__dict__.get("_htok", 0) <= tok
    r = memo.get(root)
    if r is not None:
        return r
    seen = []
    stack = [root]
    found = False
    while stack:
        n = stack.pop()
        m = memo.get(n)
        if m is not None:
            if m:
                found = True
                break
            continue
        seen.append(n)
        if type(n) is F.AccumulateGrad:
            if n.variable.__dict__.get("_htok", 0) <= tok:
                found = True
                break
            continue
        for e in n._next:
            if e is not None:
                stack.append(e[0])
    if not found:
        for n in seen:
            memo[n] = False
    else:
        memo[root] = True
    return found


_RAW = None


class _RawRules:
    """Lazy view of ``_fwd_rules.RAW`` (imported on first use)."""

    def get(self, cls):
        global _RAW_RULES
        from ._fwd_rules import RAW
        _RAW_RULES = RAW
        return RAW.get(cls)


_RAW_RULES = _RawRules()


def _jvp_raw(lv, cls, args, kwargs, tans):
    """Nothing records (a quiet backward) and every value is a bare array: compute the batched
    tangent with NumPy directly."""
    global _RAW
    if _RAW is None:
        from ._fwd_rules import RAW
        _RAW = RAW
    raw = _RAW.get(cls)
    if raw is None or kwargs:
        return NotImplemented
    lv.active = False
    F._INTERPOSE[0] = None
    try:
        out = cls.apply(*args)
        t = raw([a._data if isinstance(a, Tensor) else a for a in args],
                [t._data if t is not None else None for t in tans], out._data, lv.size)
        if t is NotImplemented:
            t = _RULES_FOR_RAW(cls)(cls, args, tans, out, kwargs, lv.size)
        elif t is not None:
            want = (lv.size,) + out._data.shape
            if t.shape != want:
                t = np.broadcast_to(_align_phys(t, len(want) - 1), want)
            if t.dtype != out._data.dtype:
                t = t.astype(out._data.dtype)
            t = _make(t)
    finally:
        lv.active = True
        F._INTERPOSE[0] = dispatch
    attach(out, t, lv, args)
    return out


def _RULES_FOR_RAW(cls):
    r = _BJVP_CACHE.get(cls)
    if r is None:
        from ._fwd_rules import batched_jvp_rule
        r = _BJVP_CACHE[cls] = batched_jvp_rule(cls)
    return r


def attach(out, tout, lv, args=()):
    outs = out if type(out) is tuple else (out,)
    touts = tout if type(tout) in (tuple, list) else (tout,)
    for o, t in zip(outs, touts):
        if t is None or not isinstance(o, Tensor) or o._data.dtype.kind != "f":
            continue
        d = o._data
        for a in args:
            if isinstance(a, Tensor) and a._data is d:
                o._data = d = fresh(d)
                break
        if lv.size:
            want = (lv.size,) + tuple(d.shape)
            if t._data.shape != want:
                t = _fit_batched(t, want)
        elif t._data.shape != d.shape:
            t = t.expand(o.shape)
        if t._data.dtype != d.dtype:
            t = t.to(o.dtype)
        vc = o._vc
        if vc is None:
            vc = o._vc = F._Version()
        set_tan(o, lv, t, vc)
        if type(d) is not _nd:
            _mirror(d, lv, t)


def _fit_batched(t, want):
    s = t._data.shape
    k = len(want) - len(s)
    if k > 0:
        t = _S().Reshape.apply(t, s[:1] + (1,) * k + s[1:])
    return _S().Expand.apply(t, want) if t._data.shape != want else t


def set_tangent_deep(o, lv, t, vc=None):
    """Attach t at lv to tensor o and, for data batched at lower vmap levels, the physical
    tangent to each physical array below (physical graph nodes save those arrays)."""
    set_tan(o, lv, t, vc)
    _mirror(o._data, lv, t)


def _mirror(d, lv, t):
    while type(d) is BatchedData and d.level.n < lv.n:
        t = _tan_to_phys(lv, t, d.level)
        d = d.phys
        set_tangent(d, lv, t)


# -- moving between logical and physical views --------------------------------------------------
def _hold_acc(src, dst):
    """Make dst (a wrapper of src's data) reach the same leaf accumulator as src."""
    if src._rg and src.grad_fn is None:
        acc = F._edge(src)[0]
        dst._acc = src._acc
        dst.__dict__["_hold"] = acc
    vc = src._vc
    if vc is None:
        vc = src._vc = F._Version()
    dst._vc = vc


def unwrap(a):
    """The physical tensor of ``a`` (batched at its top vmap level): same graph position."""
    ph = a._data.phys
    p = _make(ph, a._rg, a.grad_fn, a._nr)
    if a._rg or a._vc is not None:
        _hold_acc(a, p)
    e = TAN.get(id(ph))
    if e is not None and e[0]() is ph:
        p.__dict__["_tan"] = dict(e[1])
    return p


def wrap(t, lv):
    """A tensor batched at ``lv`` whose physical tensor is ``t`` (batch dim first)."""
    if not isinstance(t, Tensor):
        return t
    w = _make(BatchedData(t._data, lv), t._rg, t.grad_fn, t._nr)
    if t._rg or t._vc is not None:
        _hold_acc(t, w)
    return w


def is_batched_at(t, lv):
    d = t._data
    while type(d) is BatchedData:
        if d.level is lv:
            return True
        if d.level.n < lv.n:
            return False
        d = d.phys
    return False


def vlevels(t):
    out = []
    d = t._data
    while type(d) is BatchedData:
        out.append(d.level)
        d = d.phys
    return out


def _highs(t, lv):
    tans = tan_of(t)
    if not tans:
        return []
    return [(k, v) for k, v in tans.items() if k.active and k.n > lv.n]


class _Suspend:
    def __init__(self, levels):
        self.levels = levels

    def __enter__(self):
        for lv in self.levels:
            lv.active = False

    def __exit__(self, *exc):
        for lv in self.levels:
            lv.active = True


def _swap01(t):
    nd = t._data.ndim
    return _S().permute(t, (1, 0) + tuple(range(2, nd)))


def _S():
    global _SHAPE
    if _SHAPE is None:
        from ..ops import shape
        _SHAPE = shape
    return _SHAPE


_SHAPE = None


def to_phys(t, lv):
    """The ``lv``-physical form of t: lv's batch as dim 0 (broadcast when t is not batched)."""
    highs = _highs(t, lv)
    with _Suspend([k for k, _ in highs]):
        d = t._data
        if type(d) is BatchedData and d.level is lv:
            base = unwrap(t)
        elif type(d) is BatchedData and d.level.n > lv.n:
            inner = to_phys(unwrap(t), lv)
            base = wrap(_swap01(inner), d.level)
        else:
            base = t.unsqueeze(0).expand((lv.size,) + tuple(t.shape))
    return _retag(base, [(k, _tan_to_phys(k, v, lv)) for k, v in highs])


def _tan_to_phys(k, v, lv):
    """lv-physical tangent at dual level k; a batched level's tangents keep their basis dim
    first: (n, B_lv, ...)."""
    r = to_phys(v, lv)
    return _swap01(r) if k.size else r


def from_phys(r, lv):
    """Inverse of to_phys: dim 0 of r becomes the batch of level lv."""
    highs = _highs(r, lv)
    with _Suspend([k for k, _ in highs]):
        d = r._data
        if type(d) is BatchedData and d.level.n > lv.n:
            inner = from_phys(_swap01(unwrap(r)), lv)
            base = wrap(inner, d.level)
        else:
            if highs:
                r = _clean(r, highs)
            base = wrap(r, lv)
    return _retag(base, [(k, from_phys(_swap01(v) if k.size else v, lv)) for k, v in highs])


def _clean(t, highs):
    """t over a fresh data object that keeps only the tangents not in ``highs``."""
    c = _make(fresh(t._data), t._rg, t.grad_fn, t._nr)
    _hold_acc(t, c)
    copy_tans(t, c, {k for k, _ in highs})
    return c


def _retag(base, pairs):
    if not pairs:
        return base
    base = _clean(base, pairs)
    for k, v in pairs:
        set_tan(base, k, v)
    return base


def active_vmap_levels():
    return [lv for lv in STACK if lv.kind is VMAP]
