"""Graph nodes. A node is the ctx of the call that made it (as in torch): it holds the edges
to its inputs, what backward needs, and the backward rule itself.

Two kinds of Function share the node machinery:
- ``Op`` (internal primitives): forward takes and returns arrays; backward is written with
  operators and ``ops._xp`` functions so it runs on arrays (plain backward, fast) or on Tensors
  (``create_graph=True``, differentiable).
- ``Function`` (public, torch's custom Function): forward and backward see Tensors.
"""
import functools
import traceback
from weakref import ref as _weakref

import numpy as np

from . import grad_mode
from .grad_mode import _mode

__all__ = ["Function", "FunctionCtx", "once_differentiable", "Node"]

_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the graph "
          "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
          "you need to backward through the graph a second time or if you need to access saved "
          "tensors after calling backward.")

_anomaly = [False]     # set by anomaly_mode; a list so the engine reads one shared cell
_anomaly_nan = [True]  # anomaly mode's check_nan flag
# Transforms (forward-mode AD, vmap) may interpose on every primitive call: a function
# f(op_class, args, kwargs) returning the result, or NotImplemented to run the op normally.
_INTERPOSE = [None]
Tensor = None          # bound by chainrule._tensor at import


class _Version:
    # v: the version (bumped by every in-place write); g: how many recorded in-place ops have
    # changed the history of this memory (views re-derive their own history when it moved)
    __slots__ = ("v", "g")

    def __init__(self):
        self.v = 0
        self.g = 0


def _type_str(t):
    return f"{t.type()} {list(t.shape)}"


class Node:
    """Base of every graph node (a function's ctx and backward at once)."""
    __slots__ = ("_next", "_in_meta", "_saved", "_raw", "_nout", "_out_meta",
                 "needs_input_grad", "__dict__", "__weakref__")
    _fast = False         # plain Op: the engine may run it inline
    # exact: backward, given a gradient of its output's shape and dtype, returns fresh
    # C-contiguous arrays of exactly its inputs' shapes and dtypes (the engine skips its checks)
    _exact = False
    _has_hooks = False
    _materialize = True
    _nondiff = ()
    _dirty = ()
    _trace = None
    _hooks = None
    _pre_hooks = None
    _tensor_hooks = None

    # -- ctx API ----------------------------------------------------------------------------
    def save_for_backward(self, *objs):
        """Keep tensors (or, in Op forwards, arrays) for backward; checked for in-place edits."""
        self._saved = objs

    def mark_non_differentiable(self, *outs):
        self._nondiff = tuple(id(o) for o in outs)

    def mark_dirty(self, *tensors):
        self._dirty = tuple(tensors)

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    @property
    def saved_tensors(self):
        saved = self._saved
        if type(saved) is not list:
            if saved is _FREED_MARK:
                raise RuntimeError(_FREED)
            return () if saved is None else saved
        out = []
        if self._raw:       # plain backward: arrays, version-checked
            for kind, obj, ver in saved:
                if kind == 0:
                    vc = obj._vc
                    if vc is not None and vc.v != ver:
                        self._version_error(obj, vc.v, ver)
                    out.append(obj._data)
                elif kind == 1:
                    arr, nr, vc = obj
                    if vc.v != ver:
                        self._version_error(None, vc.v, ver, arr=arr, nr=nr)
                    out.append(arr)
                else:
                    out.append(obj)
            return tuple(out)
        out = []
        for kind, obj, ver in saved:
            if kind == 2:
                out.append(obj)
            elif kind == 0:
                vc = obj._vc
                if vc is not None and vc.v != ver:
                    self._version_error(obj, vc.v, ver)
                out.append(obj)
            else:
                arr, nr, vc = obj
                if vc.v != ver:
                    self._version_error(None, vc.v, ver, arr=arr, nr=nr)
                t = _new(Tensor)        # (Tensor._make, inline)
                t._data = arr
                t._rg = True
                t.grad_fn = self
                t._nr = nr
                t.grad = None
                t._vc = vc
                out.append(t)
        return tuple(out)

    saved_variables = saved_tensors

    @property
    def _freed(self):
        return self._saved is _FREED_MARK

    def _version_error(self, t, now, ver, arr=None, nr=0):
        if t is not None:
            desc = _type_str(t)
            src = t.grad_fn
            where = (f"output {t._nr} of {src.name()}" if src is not None
                     else "a leaf tensor")
        else:
            desc = f"chainrule.Tensor {list(arr.shape)}"
            where = f"output {nr} of {self.name()}"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{desc}], which is {where}, is at version {now}; expected "
            f"version {ver} instead (needed by {self.name()}). Hint: the in-place change "
            "happened after this value was saved; use an out-of-place op (e.g. x = x + y "
            "instead of x += y) or clone() before modifying it.")

    # -- introspection -----------------------------------------------------------------------
    def name(self):
        return type(self).__name__ + "Backward0"

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0) for e in self._next)

    @property
    def metadata(self):
        return self.__dict__.setdefault("_metadata", {})

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward; may replace
        grad_inputs by returning a tuple."""
        if self._hooks is None:
            self._hooks = []
        self._has_hooks = True
        self._hooks.append(fn)
        return _Handle(self._hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node's backward; may return replacements."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._has_hooks = True
        self._pre_hooks.append(fn)
        return _Handle(self._pre_hooks, fn)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    # -- engine entry ------------------------------------------------------------------------
    def _backward(self, grads):
        raise NotImplementedError   # pragma: no cover  (every node type overrides it)


# Resolved saved values are (kind, obj, version) tuples in a list: kind 0 an input tensor
# (kept by reference, version-checked), 1 an output (kept by value: (array, nr, counter)),
# 2 a constant. After backward frees the node, _saved is _FREED_MARK.
_FREED_MARK = ("freed",)
_NONE_REC = (2, None, 0)


class _Handle:
    """Removable handle returned by register_hook."""

    def __init__(self, lst, item):
        self._lst, self._item = lst, item

    def remove(self):
        try:
            self._lst.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class AccumulateGrad(Node):
    """The node that receives a leaf tensor's gradient."""
    __slots__ = ("variable",)
    _next = ()          # class values: a leaf's node is made once per graph, so keep it cheap
    _nout = 1

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"


def _edge(t):
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._nr)
    ref = t._acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = _new(AccumulateGrad)
        acc.variable = t
        t._acc = _weakref(acc)
    return (acc, 0)


def _resolve_saved(ctx, inputs, in_arrays, outs, out_arrays):
    """Turn what forward saved into records (inputs by reference, outputs by value)."""
    res = []
    for o in ctx._saved:
        if o is None:
            res.append(_NONE_REC)
            continue
        rec = None
        for i, a in enumerate(in_arrays):
            if o is a and isinstance(inputs[i], Tensor):
                t = inputs[i]
                vc = t._vc
                rec = (0, t, vc.v if vc is not None else 0)
                break
        if rec is None:
            for j, a in enumerate(out_arrays):
                if o is a:
                    t = outs[j]
                    if t._vc is None:
                        t._vc = _Version()
                    rec = (1, (t._data, j, t._vc), t._vc.v)
                    break
        if rec is None:
            if isinstance(o, Tensor):
                vc = o._vc
                rec = (0, o, vc.v if vc is not None else 0)
            else:
                rec = (2, o, 0)
        res.append(rec)
    ctx._saved = res


def _record_trace(ctx, internal=3):
    # the forward call's stack, without the last ``internal`` frames (this one and the
    # dispatch between the public call and here)
    ctx._trace = "".join(traceback.format_stack()[:-internal])


def _describe(x):
    if isinstance(x, Tensor):
        return f"Tensor{list(x._data.shape)} {x._data.dtype}"
    if isinstance(x, np.ndarray):
        return f"array{list(x.shape)} {x.dtype}"
    return type(x).__name__


def _op_error(cls, args, e):
    """NumPy's ValueError (bad shapes) becomes torch's RuntimeError naming op and inputs."""
    name = cls.__name__.lower()
    return RuntimeError(f"{name}: {e} (inputs: {', '.join(_describe(a) for a in args)})")


def _apply1(cls, a):
    """Op.apply specialised for one Tensor argument (the hot path of unary ops)."""
    ip = _INTERPOSE[0]
    if ip is not None:
        res = ip(cls, (a,), {})
        return res if res is not NotImplemented else _plain_apply(cls, (a,), {})
    ad = a._data
    ctx = cls()
    ctx._saved = None
    if a._rg and _mode.grad:
        ctx.needs_input_grad = _TRUE1
        try:
            out = orig = cls.forward(ctx, ad)
        except ValueError as e:
            raise _op_error(cls, (a,), e) from None
        if type(out) is not _nd:
            out = _asarray(out)
        if out.dtype.kind != "f":
            return Tensor._make(out)
        fn = a.grad_fn
        ctx._next = ((fn, a._nr) if fn is not None else _edge(a),)
        ctx._in_meta = ((ad.shape, ad.dtype),)
        ctx._nout = 1
        res = _new(Tensor)
        res._data = out
        res._rg = True
        res.grad_fn = ctx
        res._nr = 0
        res.grad = None
        saved = ctx._saved
        if saved is None:
            res._vc = None
        elif len(saved) == 1 and saved[0] is orig:     # the common case: the output
            vc = res._vc = _Version()
            ctx._saved = [(1, (out, 0, vc), 0)]
        else:
            res._vc = None
            _resolve_saved(ctx, (a,), (ad,), (res,), (orig,))
        if _anomaly[0]:
            _record_trace(ctx)
        return res
    ctx.needs_input_grad = _NO_NEEDS
    try:
        out = cls.forward(ctx, ad)
    except ValueError as e:
        raise _op_error(cls, (a,), e) from None
    return Tensor._make(out if type(out) is _nd else _asarray(out))


def _apply2(cls, a, b):
    """Op.apply specialised for two arguments (Tensors or Python scalars).

    NOTE: _apply1/_apply2 repeat _connect1's work unrolled on purpose: sharing it costs a call
    and a loop per op, 12% of the tiny-ops benchmark."""
    ip = _INTERPOSE[0]
    if ip is not None:
        res = ip(cls, (a, b), {})
        return res if res is not NotImplemented else _plain_apply(cls, (a, b), {})
    if isinstance(a, Tensor):
        ad = a._data
        ra = a._rg
    else:
        ad = a
        ra = False
    if isinstance(b, Tensor):
        bd = b._data
        rb = b._rg
    else:
        bd = b
        rb = False
    ctx = cls()
    ctx._saved = None
    if (ra or rb) and _mode.grad:
        ctx.needs_input_grad = (ra, rb)
        try:
            out = orig = cls.forward(ctx, ad, bd)
        except ValueError as e:
            raise _op_error(cls, (a, b), e) from None
        if type(out) is not _nd:
            out = _asarray(out)
        if out.dtype.kind != "f":
            return Tensor._make(out)
        if ra:
            fn = a.grad_fn
            ea = (fn, a._nr) if fn is not None else _edge(a)
            ma = (ad.shape, ad.dtype)
        else:
            ea = ma = None
        if rb:
            fn = b.grad_fn
            eb = (fn, b._nr) if fn is not None else _edge(b)
            mb = (bd.shape, bd.dtype)
        else:
            eb = mb = None
        ctx._next = (ea, eb)
        ctx._in_meta = (ma, mb)
        ctx._nout = 1
        res = _new(Tensor)
        res._data = out
        res._rg = True
        res.grad_fn = ctx
        res._nr = 0
        res.grad = None
        res._vc = None
        saved = ctx._saved
        if saved is not None:
            recs = []
            for o in saved:
                if o is None:
                    recs.append(_NONE_REC)
                elif o is ad or o is bd:
                    t = a if o is ad else b
                    if isinstance(t, Tensor):
                        vc = t._vc
                        recs.append((0, t, vc.v if vc is not None else 0))
                    else:
                        recs.append((2, o, 0))
                elif o is orig:
                    vc = res._vc
                    if vc is None:
                        vc = res._vc = _Version()
                    recs.append((1, (out, 0, vc), 0))
                else:
                    recs.append((0, o, o._version_value()) if isinstance(o, Tensor)
                                else (2, o, 0))
            ctx._saved = recs
        if _anomaly[0]:
            _record_trace(ctx)
        return res
    ctx.needs_input_grad = _NO_NEEDS
    try:
        out = cls.forward(ctx, ad, bd)
    except ValueError as e:
        raise _op_error(cls, (a, b), e) from None
    return Tensor._make(out if type(out) is _nd else _asarray(out))


class Op(Node):
    """An internal primitive: ``forward(ctx, *arrays)`` returns array(s); ``backward(ctx,
    *grads)`` returns one gradient per forward argument (None where there is none). Gradients
    are returned in the output's shape; the engine sums them down to each input's shape."""
    __slots__ = ()
    differentiable = True
    _fast = True

    @classmethod
    def apply(cls, *args, **kwargs):
        ip = _INTERPOSE[0]
        if ip is not None:
            res = ip(cls, args, kwargs)
            if res is not NotImplemented:
                return res
        return _plain_apply(cls, args, kwargs)

    def _backward(self, grads):
        if self._nout == 1:
            res = type(self).backward(self, grads[0])
        else:
            if any(g is None for g in grads):
                grads = [g if g is not None else _zeros_like_meta(m, self._raw)
                         for g, m in zip(grads, self._out_meta)]
            res = type(self).backward(self, *grads)
        return res if type(res) is tuple else (res,)


def _plain_apply(cls, args, kwargs):
    """Op.apply without transforms: forward on arrays, then wire the node when recording."""
    ctx = cls()
    ctx._saved = None
    if _mode.grad and cls.differentiable:
        arrays = []
        needs = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                if a._rg:
                    needs.append(True)
                    record = True
                    continue
            else:
                arrays.append(a)
            needs.append(False)
        if record:
            ctx.needs_input_grad = needs = tuple(needs)
            try:
                out = cls.forward(ctx, *arrays, **kwargs)
            except ValueError as e:
                raise _op_error(cls, args, e) from None
            if type(out) is _nd:
                return _connect1(ctx, args, arrays, out, needs)
            return _connect(ctx, args, arrays, out, needs)
    else:
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    ctx.needs_input_grad = _NO_NEEDS
    try:
        out = cls.forward(ctx, *arrays, **kwargs)
    except ValueError as e:
        raise _op_error(cls, args, e) from None
    if type(out) is tuple:
        return tuple(Tensor._make(o if type(o) is _nd else _asarray(o)) for o in out)
    return Tensor._make(out if type(out) is _nd else _asarray(out))


class _NoNeeds(tuple):
    """needs_input_grad when nothing is recorded: False at every index (a tuple of Falses longer
    than any argument list, so indexing it runs no Python frame), iterating as empty."""
    __slots__ = ()

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False

    def __repr__(self):
        return "()"


_NO_NEEDS = _NoNeeds((False,) * 4096)
_TRUE1 = (True,)
_new = object.__new__
_nd = np.ndarray
_asarray = np.asarray


def _zeros_like_meta(meta, raw):
    shape, dt = meta
    z = np.zeros(shape, dt)
    return z if raw else Tensor._make(z)


def _connect1(ctx, args, arrays, out, needs):
    """_connect for the common case of one array output, saved values resolved inline."""
    if out.dtype.kind != "f":
        return Tensor._make(out)
    nexts = []
    metas = []
    for a, r, d in zip(args, needs, arrays):
        if r:
            fn = a.grad_fn
            nexts.append((fn, a._nr) if fn is not None else _edge(a))
            metas.append((d.shape, d.dtype))
        else:
            nexts.append(None)
            metas.append(None)
    ctx._next = tuple(nexts)
    ctx._in_meta = tuple(metas)
    return _wire_out(ctx, args, arrays, out)


def _wire_out(ctx, args, arrays, out):
    """The output Tensor of a one-output node, and ctx's saved values turned into records
    (inputs by reference with their versions, the output by value)."""
    ctx._nout = 1
    res = _new(Tensor)
    res._data = out
    res._rg = True
    res.grad_fn = ctx
    res._nr = 0
    res.grad = None
    res._vc = None
    saved = ctx._saved
    if saved is not None:
        recs = []
        d0 = arrays[0]
        for o in saved:
            if o is out:
                vc = res._vc
                if vc is None:
                    vc = res._vc = _new(_Version)
                    vc.v = 0
                    vc.g = 0
                recs.append((1, (out, 0, vc), 0))
                continue
            if o is d0:
                t = args[0]
            elif o is None:
                recs.append(_NONE_REC)
                continue
            else:
                t = o
                for b, db in zip(args, arrays):
                    if o is db:
                        t = b
                        break
            if isinstance(t, Tensor):
                vc = t._vc
                recs.append((0, t, vc.v if vc is not None else 0))
            else:
                recs.append((2, o, 0))
        ctx._saved = recs
    if _anomaly[0]:
        _record_trace(ctx)
    return res


_NONES = tuple((None,) * k for k in range(17))


def _connect_at(ctx, args, arrays, out, i):
    """_connect1 when args[i] is the one argument that requires grad: one edge, one meta."""
    if out.dtype.kind != "f":
        return Tensor._make(out)
    a = args[i]
    d = arrays[i]
    fn = a.grad_fn
    e = (fn, a._nr) if fn is not None else _edge(a)
    n = len(args)
    if n == 1:
        ctx._next = (e,)
        ctx._in_meta = ((d.shape, d.dtype),)
    elif not i and n <= 16:
        rest = _NONES[n - 1]
        ctx._next = (e,) + rest
        ctx._in_meta = ((d.shape, d.dtype),) + rest
    elif n == 2:
        ctx._next = (None, e)
        ctx._in_meta = (None, (d.shape, d.dtype))
    elif n <= 16:
        nones = _NONES
        ctx._next = nones[i] + (e,) + nones[n - i - 1]
        ctx._in_meta = nones[i] + ((d.shape, d.dtype),) + nones[n - i - 1]
    else:
        nexts = [None] * n
        nexts[i] = e
        ctx._next = tuple(nexts)
        nexts[i] = (d.shape, d.dtype)
        ctx._in_meta = tuple(nexts)
    return _wire_out(ctx, args, arrays, out)


def _connect(ctx, args, arrays, out, needs=None):
    """Wire a node into the graph after forward: edges, metadata, outputs, saved values."""
    if needs is None:
        needs = [isinstance(a, Tensor) and a._rg for a in args]
    nexts = []
    metas = []
    for a, r, d in zip(args, needs, arrays):
        if r:
            fn = a.grad_fn
            nexts.append((fn, a._nr) if fn is not None else _edge(a))
            metas.append((d.shape, d.dtype))
        else:
            nexts.append(None)
            metas.append(None)
    ctx._next = tuple(nexts)
    ctx._in_meta = tuple(metas)
    nondiff = ctx._nondiff
    orig = out
    if type(out) is tuple:
        out = tuple(o if type(o) is _nd else _asarray(o) for o in out)
        outs = tuple(Tensor._make(o, id(o) not in nondiff and o.dtype.kind == "f",
                                  ctx, i) for i, o in enumerate(out))
        for t in outs:
            if not t._rg:
                t.grad_fn = None
        ctx._nout = len(out)
        ctx._out_meta = tuple((o.shape, o.dtype) for o in out)
        out_arrays = orig
        result = outs
    else:
        if type(out) is not _nd:
            out = _asarray(out)
        if out.dtype.kind != "f":
            return Tensor._make(out)
        result = Tensor._make(out, True, ctx, 0)
        ctx._nout = 1
        outs = (result,)
        out_arrays = (orig,)
    if ctx._saved is not None:
        _resolve_saved(ctx, args, arrays, outs, out_arrays)
    if _anomaly[0]:
        _record_trace(ctx)
    return result


class FunctionCtx(Node):
    """The ctx a custom Function's forward receives (it becomes the graph node)."""
    __slots__ = ("_fn",)

    def name(self):
        return self._fn.__name__ + "Backward"

    def save_for_forward(self, *tensors):
        """Keep tensors for the Function's ``jvp`` (forward-mode AD reads them back through
        ``saved_tensors``)."""
        self.__dict__["saved_for_forward"] = tensors

    @property
    def next_functions(self):
        return tuple((e[0], e[1]) if e is not None else (None, 0)
                     for e, m in zip(self._next, self._in_meta) if m != 0)

    def _backward(self, grads):
        if self._materialize and any(g is None for g in grads):
            grads = [g if g is not None else Tensor._make(np.zeros(m[0], m[1]))
                     for g, m in zip(grads, self._out_meta)]
        res = self._fn.backward(self, *grads)
        if type(res) is not tuple:
            res = (res,)
        n = len(self._next)
        if len(res) != n:
            if len(res) > n and all(r is None for r in res[n:]):
                res = res[:n]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {n}, got {len(res)})")
        return res


class Function:
    """Define a differentiable operation by writing its forward and backward.

    >>> import chainrule
    >>> class Cube(chainrule.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         x, = ctx.saved_tensors
    ...         return grad * 3 * x ** 2
    >>> x = chainrule.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward(); x.grad
    tensor(12.)
    """
    generate_vmap_rule = False

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @classmethod
    def apply(cls, *args, **kwargs):
        if _INTERPOSE[0] is not None:       # transforms and recorders see custom Functions too
            res = _INTERPOSE[0](cls, args, kwargs)
            if res is not NotImplemented:
                return res
        ctx = FunctionCtx()
        ctx._fn = cls
        ctx._saved = None
        ctx._raw = False
        rg = [isinstance(a, Tensor) and a._rg for a in args]
        ctx.needs_input_grad = tuple(rg)
        with grad_mode.no_grad():
            if cls.setup_context is not Function.setup_context:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        record = _mode.grad and any(rg)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        dirty = ctx._dirty
        if not record:
            for t in dirty:
                if t._rg and t.grad_fn is None and _mode.grad:
                    raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                       "in-place operation.")
            return out
        ctx._next = tuple(_edge(a) if r else None for a, r in zip(args, rg))
        ctx._in_meta = tuple((a._data.shape, a._data.dtype) if r else
                             (None if isinstance(a, Tensor) else 0) for a, r in zip(args, rg))
        nondiff = ctx._nondiff
        new_outs = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                new_outs.append(o)
                continue
            if any(o is d for d in dirty):
                if o.grad_fn is None and o._rg:
                    raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                       "in-place operation.")
            elif any(o is a for a in args):
                o = Tensor._make(o._data)     # an input returned as is: a new alias
                o._vc = args[[a is outs[i] for a in args].index(True)]._vc
            if id(o) in nondiff or o.dtype.np.kind != "f":
                o._rg = False
                o.grad_fn = None
            else:
                o._rg = True
                o.grad_fn = ctx
                o._nr = i
            new_outs.append(o)
        ctx._nout = len(outs)
        ctx._out_meta = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor)
                              else ((), np.float32) for o in outs)
        if ctx._saved is not None:
            _resolve_saved(ctx, args, [None] * len(args), new_outs,
                           [o if isinstance(o, Tensor) else None for o in new_outs])
            # tensors saved before being returned are outputs: store them by value
        if _anomaly[0]:
            _record_trace(ctx, 1)       # down to Function.apply, as torch shows it
        return new_outs[0] if single else tuple(new_outs)

    @classmethod
    def jvp(cls, ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")


def once_differentiable(fn):
    """Decorate a custom backward that is not itself differentiable: it runs under no_grad and
    raises if a higher-order gradient through it is requested.

    >>> import chainrule
    >>> from chainrule.autograd.function import once_differentiable
    >>> callable(once_differentiable(lambda ctx, g: g))
    True
    """
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            res = fn(ctx, *grads)
        if not _mode.grad:
            return res
        needs = any(isinstance(g, Tensor) and g._rg for g in grads)
        if not needs:
            return res
        single = not isinstance(res, tuple)
        outs = (res,) if single else res
        err = _OnceDiffError.apply
        wrapped = tuple(err(o, *[g for g in grads if isinstance(g, Tensor)])
                        if isinstance(o, Tensor) else o for o in outs)
        return wrapped[0] if single else wrapped
    return wrapper


class _OnceDiffError(Function):
    @staticmethod
    def forward(ctx, out, *grads):
        return out.clone()

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")
