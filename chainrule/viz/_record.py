"""record(): note what a graph node does not keep (its output value, its constant arguments, the
module it ran in, the gradients that later flow through it), so pictures can show them.

Nodes never point to their outputs (no reference cycles), so values are captured as the ops
run: an interposer on every primitive call (``function._INTERPOSE``) stores small copies in a
weak table keyed by node; a node hook stores the gradients of each later backward.
"""
import weakref

import numpy as np

from ..autograd import function as F

KEEP = 64                        # copy values of at most this many elements

_INFO = weakref.WeakKeyDictionary()     # node -> _Info
_capture = [True]                       # False while explain() runs its own passes


class _Info:
    __slots__ = ("values", "consts", "module", "grad_in", "grad_out", "__weakref__")

    def __init__(self):
        self.values = {}          # output nr -> small array copy
        self.consts = {}          # forward argument position -> constant (number or array)
        self.module = None        # module path the op ran in
        self.grad_in = None       # gradient per forward argument, from the last backward
        self.grad_out = None      # gradient per output, from the last backward

    def hook(self, grad_in, grad_out):
        if _capture[0]:
            self.grad_in = [_small(g, True) for g in grad_in]
            self.grad_out = [_small(g, True) for g in grad_out]


class Shape:
    """Stands for a value too large to keep: only its shape."""
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)


def _small(t, shape_if_large=False):
    """A private copy of a small tensor/array's values; else None (or its Shape)."""
    if t is None:
        return None
    a = t._data if isinstance(t, F.Tensor) else np.asarray(t)
    if a.size <= KEEP:
        return np.array(a, copy=True)
    return Shape(a.shape) if shape_if_large else None


def info(node):
    """What was recorded about ``node`` (an _Info, or None)."""
    return _INFO.get(node) if node is not None else None


def _note_value(t):
    """Remember the value of a tensor that is some node's output (custom Functions are not
    interposed, so their outputs are caught where they are used)."""
    node = t.grad_fn
    if node is None:
        return
    rec = _INFO.get(node)
    if rec is None:
        rec = _INFO[node] = _Info()
        node.register_hook(rec.hook)
    if t._nr not in rec.values:
        v = _small(t)
        if v is not None:
            rec.values[t._nr] = v


class record:
    """Context manager: remember values, constants and gradients of the ops run inside it, so
    that :func:`draw` labels every edge and :func:`explain` shows the forward arithmetic.
    With ``model`` (an ``nn.Module``), each op is also tagged with the module it ran in, which
    lets :func:`draw` frame or collapse modules.

    >>> import chainrule
    >>> x = chainrule.tensor(2.0, requires_grad=True)
    >>> with chainrule.viz.record():
    ...     y = 5 * x ** 2 + 3
    ...     y.backward()
    >>> 'label="4"' in chainrule.viz.draw(y).source     # the value of x**2 on its edge
    True
    """

    def __init__(self, model=None):
        self.model = model
        self._prev = None
        self._handles = []
        self._stack = []

    def __enter__(self):
        self._prev = F._INTERPOSE[0]
        F._INTERPOSE[0] = self._interpose
        if self.model is not None:
            for path, mod in self.model.named_modules():
                if path:
                    self._handles.append(mod.register_forward_pre_hook(self._enter(path)))
                    self._handles.append(mod.register_forward_hook(self._leave(path)))
        return self

    def __exit__(self, *exc):
        F._INTERPOSE[0] = self._prev
        for h in self._handles:
            h.remove()
        self._handles = []
        self._stack = []

    def _enter(self, path):
        def pre(module, args):
            self._stack.append(path)
        return pre

    def _leave(self, path):
        def post(module, args, output):
            if self._stack and self._stack[-1] == path:
                self._stack.pop()
        return post

    def _interpose(self, cls, args, kwargs):
        F._INTERPOSE[0] = self._prev       # run the op (and any outer interposer) as usual
        try:
            out = cls.apply(*args, **kwargs)
        finally:
            F._INTERPOSE[0] = self._interpose
        outs = out if isinstance(out, tuple) else (out,)
        node = next((o.grad_fn for o in outs if isinstance(o, F.Tensor) and
                     o.grad_fn is not None), None)
        if node is None or node in _INFO:
            return out
        rec = _INFO[node] = _Info()
        node.register_hook(rec.hook)
        rec.module = self._stack[-1] if self._stack else None
        for o in outs:
            if isinstance(o, F.Tensor) and o.grad_fn is node:
                v = _small(o)
                if v is not None:
                    rec.values[o._nr] = v
        numeric = cls.__module__.endswith("elementwise")
        for i, a in enumerate(args):
            if isinstance(a, F.Tensor):
                if a._rg:
                    _note_value(a)
                else:
                    rec.consts[i] = _small(a) if a._data.size <= KEEP else a._data.shape
            elif numeric and type(a) in (int, float, bool):
                rec.consts[i] = a
        return out
