"""Reverse mode for the transforms: differentiable input handles and a vjp that understands vmap
levels (graphs recorded under vmap are physical, so roots and inputs are converted first)."""
import functools
import itertools

import numpy as np

from .._tensor import Tensor
from ..ops import shape as S
from . import engine
from . import function as F
from .function import AccumulateGrad, FunctionCtx, _anomaly
from .grad_mode import _mode
from . import _transforms as T
from ._transforms import (STACK, active_vmap_levels, from_phys, is_batched_at, to_phys)

_make = Tensor._make


# new_token(): 1, 2, 3, ... (a C-level call: no Python frame on the transforms' hot path)
new_token = functools.partial(next, itertools.count(1))


def make_inputs(xs, levels=(), token=0):
    """Fresh differentiable handles for xs (an alias node when x already requires grad, so
    nested transforms never confuse their inputs), batched at every vmap level in levels."""
    out = []
    order = sorted(levels, key=lambda lv: lv.n) if levels else ()
    for x in xs:
        if x._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients "
                               f"(got {x.dtype}); differentiate with respect to float inputs")
        if x._rg:
            h = S.View.apply(x, tuple(x.shape))
        else:
            h = _new(Tensor)        # (_make(x._data, True), inline)
            h._data = x._data
            h._rg = True
            h.grad_fn = None
            h._nr = 0
            h.grad = None
            h._vc = None
            h.__dict__["_htok"] = token
            tans = x.__dict__.get("_tan")       # (T.tan_of, inline)
            if tans is None and x.grad_fn is not None:
                tans = T.tan_of(x)
            if tans:
                h.__dict__["_tan"] = dict(tans)
        for lv in order:
            if lv.active and not is_batched_at(h, lv):
                h = from_phys(to_phys(h, lv), lv)
        out.append(h)
    return out


def missing_levels(outputs, inputs):
    """Active vmap levels at which an output is batched but some input is not: per-sample
    gradients there need the inputs lifted to those levels."""
    miss = set()
    for lv in active_vmap_levels():
        if any(isinstance(o, Tensor) and is_batched_at(o, lv) for o in outputs) and \
                not all(is_batched_at(i, lv) for i in inputs):
            miss.add(lv)
    return miss


def vjp_core(outputs, inputs, cotangents, create_graph, retain_graph=True, tok=None):
    """Gradients of sum(<outputs, cotangents>) with respect to inputs (None where unused).
    ``create_graph=None``: record the backward only if the outputs' graph reaches a leaf made
    before ``tok`` (see ``_external``)."""
    levels = [lv for lv in active_vmap_levels()
              if any(is_batched_at(i, lv) for i in inputs)] if STACK and T._SOLE[0] is None \
        else ()
    if levels:
        levels.sort(key=lambda lv: -lv.n)
    outs, cots = [], []
    for o, c in zip(outputs, cotangents):
        if isinstance(o, Tensor) and o._rg and c is not None:
            outs.append(o)
            cots.append(c if isinstance(c, Tensor) else _make(np.asarray(c, o._data.dtype)))
    if not outs:
        return [None] * len(inputs)
    ins = list(inputs)
    for lv in levels:
        outs = [to_phys(o, lv) for o in outs]
        cots = [to_phys(c, lv) for c in cots]
        ins = [to_phys(i, lv) for i in ins]
    for k, (o, c) in enumerate(zip(outs, cots)):
        if c._data.shape != o._data.shape:
            cots[k] = c.expand(o.shape)
    prev = T.QUIET[0]
    try:
        res = _backprop(outs, cots, ins, create_graph, tok) if retain_graph else None
        if res is None:
            if create_graph is None:
                create_graph = any(_external(o, tok) for o in outs)
            # Transforms need the rules to run on Tensors (so batched and dual values are
            # seen), which the engine does only with create_graph; QUIET then stops the
            # recording nobody needs.
            create = bool(create_graph or STACK)
            T.QUIET[0] = bool(STACK) and not create_graph
            res = engine.run_backward(outs, cots, retain_graph or create, create, inputs=ins,
                                      accumulate=False, allow_unused=True)
    finally:
        T.QUIET[0] = prev
    for lv in reversed(levels):
        res = [from_phys(r, lv) if r is not None else None for r in res]
    return res


def release(ts, token):
    """Detach results whose graph reaches no leaf but the handles made since ``token`` (those
    belong to a finished transform; outer transforms and user leaves keep their graphs)."""
    if len(ts) == 1:        # (the common case, without a list comprehension's frame)
        t = ts[0]
        return [t.detach() if isinstance(t, Tensor) and t._rg and not _external(t, token)
                else t]
    return [t.detach() if isinstance(t, Tensor) and t._rg and not _external(t, token) else t
            for t in ts]


def _external(t, token):
    """Whether t's graph reaches a leaf made before ``token`` (not a handle of this transform)."""
    root = t.grad_fn
    if root is None:
        return t.__dict__.get("_htok", 0) < token
    acc = AccumulateGrad
    seen = {root}
    stack = [root]
    pop, push, add = stack.pop, stack.append, seen.add
    while stack:
        n = pop()
        if type(n) is acc:
            if n.variable.__dict__.get("_htok", 0) < token:
                return True
            continue
        for e in n._next:
            if e is not None:
                m = e[0]
                if m not in seen:
                    add(m)
                    push(m)
    return False


_nd = np.ndarray
_new = object.__new__
_TAN = T.TAN


def _bare(t):
    """A Tensor that is a plain array: no graph, no vmap batch, no tangent."""
    d = t._data
    return type(d) is _nd and not t._rg and id(d) not in _TAN and \
        not t.__dict__.get("_tan")


def _bare_node(node, buf):
    """Whether node's backward may run on arrays: a primitive whose gradients and saved
    values are all plain (the Tensor rule would then record nothing and carry no tangent)."""
    if not node._fast:
        return False
    for g in buf:       # _bare, inline
        if g is not None:
            d = g._data
            if type(d) is not _nd or g._rg or id(d) in _TAN or g.__dict__.get("_tan"):
                return False
    saved = node._saved
    if saved is None:
        return True
    if type(saved) is not list:
        return False
    for kind, obj, _ in saved:
        if kind == 1:
            return False
        if kind == 0:
            d = obj._data
            if type(d) is not _nd or obj._rg or id(d) in _TAN or obj.__dict__.get("_tan"):
                return False
    return True


def _release(n, d, ready):
    """n is done without passing gradients: its inputs wait for one consumer less."""
    for e in n._next:
        if e is not None:
            m = e[0]
            c = d[m] - 1
            d[m] = c
            if not c:
                ready.append(m)


def _backprop(outs, cots, ins, create, tok=None):
    """vjp_core's walk: ``engine.run_backward(outs, cots, True, create or STACK, inputs=ins,
    accumulate=False)`` with QUIET set when only transforms need the Tensor rules, for a graph
    without hooks (None otherwise, or under anomaly mode: the engine handles those).
    ``create=None``: record the backward only if the graph reaches a leaf older than ``tok``
    (an input of an enclosing transform or the user's).

    NOTE: the transforms' walk in one function: dependency counts, topological order, the nodes
    that reach an input (skipped when every leaf is an input), then each node once. Without a
    transform or a graph to record, the rules run on arrays (as a plain backward); otherwise
    on Tensors, except a node whose gradients and saved values are all plain arrays (the seed
    cotangent's first nodes: nothing to record or carry), which runs on arrays too."""
    if _anomaly[0]:
        return None
    targets = {}
    tnodes = set()
    leaf_targets = True
    for k, t in enumerate(ins):
        fn = t.grad_fn
        if fn is not None:
            key = (fn, t._nr)
            leaf_targets = False
        elif t._rg:
            key = (F._edge(t)[0], 0)
        else:
            return None         # the engine raises its error
        targets.setdefault(key, []).append(k)
        tnodes.add(key[0])
    pending = {}
    roots = []
    for o, c in zip(outs, cots):
        node = o.grad_fn
        nr = o._nr
        if node is None:
            node, nr = F._edge(o)
        b = pending.get(node)
        if b is None:
            b = pending[node] = [None] * node._nout
            roots.append(node)
        b[nr] = c if b[nr] is None else b[nr] + c
    # dependency counts in one walk; any hook sends the walk to the engine
    acc = AccumulateGrad
    deps = dict.fromkeys(roots, 0)
    stack = list(roots)
    pop, push = stack.pop, stack.append
    other_leaf = False      # a leaf that is not an input: some nodes may lead nowhere needed
    while stack:
        n = pop()
        if n._has_hooks:
            return None
        nx = n._next
        if nx:
            for e in nx:
                if e is not None:
                    m = e[0]
                    if m in deps:
                        deps[m] += 1
                    else:
                        deps[m] = 1
                        push(m)
        elif type(n) is acc:
            v = n.variable
            if v._hooks:
                return None
            if n not in tnodes:
                other_leaf = True
                if create is None and v.__dict__.get("_htok", 0) < tok:
                    create = True
    if create is None:
        create = False
    # no transform and nothing to record: the rules run on arrays, as in a plain backward
    raw = not create and not STACK
    if raw:
        for b in pending.values():
            for k, g in enumerate(b):
                if g is not None:
                    b[k] = g._data
    quiet = bool(STACK) and not create
    create = bool(create or STACK)
    if leaf_targets and not other_leaf:
        # every path ends at an input (a leaf): every node is needed, every non-leaf runs
        need = None
    else:
        need = set()
        run = set()
        for n in reversed(engine._order(roots, deps)):
            for e in n._next:
                if e is not None and e[0] in need:
                    run.add(n)
                    need.add(n)
                    break
            else:
                if n in tnodes:
                    need.add(n)
    captured = [None] * len(ins)
    make = Tensor._make
    prev = _mode.grad
    _mode.grad = create
    T.QUIET[0] = quiet      # vjp_core restores it
    # Kahn's algorithm on the counts (engine._order's order), each node run as it is reached
    d = deps
    # (one root is never another's input: it starts alone)
    ready = roots if len(roots) == 1 else [r for r in roots if not d[r]]
    try:
        while ready:
            n = ready.pop()
            buf = pending.pop(n, None)
            if buf is None:
                _release(n, d, ready)
                continue
            if n in tnodes:
                for nr, g in enumerate(buf):
                    if g is not None:
                        for k in targets.get((n, nr), ()):
                            captured[k] = g
                if need is None:
                    continue        # a leaf
            if need is not None and n not in run:
                _release(n, d, ready)
                continue
            if raw:
                if type(n) is FunctionCtx:
                    gin = n._backward([None if g is None else make(g) for g in buf])
                    gin = [g._data if isinstance(g, Tensor) else g for g in gin]
                else:
                    n._raw = True
                    gin = n._backward(buf)
            elif n._nout == 1 and n._fast:
                # one-output primitive: _bare_node and Op._backward inline (as the engine does)
                g = buf[0]
                bare = True
                if g is not None:
                    gd = g._data
                    if type(gd) is not _nd or g._rg or id(gd) in _TAN or g.__dict__.get("_tan"):
                        bare = False
                    if bare:
                        saved = n._saved
                        if saved is not None:
                            if type(saved) is not list:
                                bare = False
                            else:
                                for kind, obj, _ in saved:
                                    if kind == 1:
                                        bare = False
                                        break
                                    if kind == 0:
                                        od = obj._data
                                        if type(od) is not _nd or obj._rg or id(od) in _TAN \
                                                or obj.__dict__.get("_tan"):
                                            bare = False
                                            break
                if bare:
                    n._raw = True
                    gin = n.backward(n, None if g is None else gd)
                    if type(gin) is not tuple:
                        gin = (gin,)
                    wrapped = []
                    for g in gin:
                        if g is not None:
                            t = _new(Tensor)    # (make(g), inline)
                            t._data = g if type(g) is _nd else np.asarray(g)
                            t._rg = False
                            t.grad_fn = None
                            t._nr = 0
                            t.grad = None
                            t._vc = None
                            g = t
                        wrapped.append(g)
                    gin = wrapped
                else:
                    n._raw = False
                    gin = n.backward(n, g)
                    if type(gin) is not tuple:
                        gin = (gin,)
            elif _bare_node(n, buf):
                n._raw = True
                gin = n._backward([None if g is None else g._data for g in buf])
                gin = [None if g is None else make(g if type(g) is _nd else np.asarray(g))
                       for g in gin]
            else:
                n._raw = False
                gin = n._backward(buf)
            metas = n._in_meta
            for i, e in enumerate(n._next):
                if e is None:
                    continue
                m, nr = e
                c = d[m] - 1
                d[m] = c
                if not c:
                    ready.append(m)
                g = gin[i]
                if g is None:
                    continue
                if need is not None and m not in need:
                    continue
                meta = metas[i]
                if raw:
                    if type(g) is not _nd:
                        g = np.asarray(g)
                    if g.shape != meta[0]:
                        g = engine._sum_to(g, meta[0], n, i)
                    if g.dtype != meta[1]:
                        g = g.astype(meta[1])
                else:
                    if not isinstance(g, Tensor):
                        g = make(np.asarray(g))
                    gd = g._data
                    if gd.shape != meta[0]:
                        g = engine._sum_to(g, meta[0], n, i)
                        gd = g._data
                    dt = gd.dtype
                    if dt is not meta[1] and dt != meta[1]:
                        g = g.to(Tensor._dtype_of(meta[1]))
                b = pending.get(m)
                if b is None:
                    pending[m] = [g] if m._nout == 1 else engine._first(m._nout, nr, g)
                else:
                    old = b[nr]
                    b[nr] = g if old is None else old + g
    finally:
        _mode.grad = prev
    if raw:
        return [None if g is None else make(g) for g in captured]
    return captured
