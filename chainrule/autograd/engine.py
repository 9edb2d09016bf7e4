"""The graph walk. ``backward_root`` (``loss.backward()``) and ``run_backward`` (everything
else) share ``_walk``; the transforms' vector-Jacobian products walk in ``_vjp._backprop``,
which needs per-node Tensor/array modes, and hand anything with hooks or anomaly mode here.

Order: dependency counts over the nodes reachable from the roots, then Kahn's algorithm with a
stack (iterative, so depth is bounded only by memory). Each node's pending gradients are popped
when it runs; saved values are freed unless ``retain_graph``. Broadcasting is undone here, once:
a rule returns gradients in its output's shape and ``_sum_to`` reduces them to the input's.

Plain backward runs rules on NumPy arrays with grad mode off (fast). ``create_graph=True``
runs the same rules on Tensors with grad mode on, so the backward pass is itself recorded.
"""
import sys
import threading

import numpy as np

from . import function as F
from .function import _FREED_MARK, AccumulateGrad, FunctionCtx, _anomaly, _anomaly_nan
from .grad_mode import _mode
from ..backend import col_sum as _col_sum

_leaf_lock = threading.Lock()
_lock, _unlock = _leaf_lock.acquire, _leaf_lock.release
# how many references an array has (a leaf adopts a gradient array only if it is the sole
# owner); without CPython's counts every first gradient is copied
_refs = getattr(sys, "getrefcount", lambda a: 1 << 30)
_new = object.__new__
_nd = np.ndarray
_asarray = np.asarray


class _Depth(threading.local):
    n = 0           # backward calls nested inside a custom backward, per thread
    limit = None


_depth = _Depth()


def _sum_to(g, shape, node, i):
    gs = g.shape
    if gs == shape:
        return g
    nlead = len(gs) - len(shape)
    ok = nlead >= 0 and all(s == 1 or s == d for s, d in zip(shape, gs[nlead:]))
    if not ok:
        if type(i) is not int:      # the edge itself (the engine's loop keeps no index)
            i = node._next.index(i)
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {i} - "
                           f"got {list(gs)} but expected shape compatible with {list(shape)}")
    axes = tuple(range(nlead)) + tuple(nlead + k for k, s in enumerate(shape)
                                       if s == 1 and gs[nlead + k] != 1)
    if type(g) is np.ndarray:
        if axes == (0,) and len(gs) == 2:
            return _col_sum(g).reshape(shape)       # a bias's gradient: one BLAS product
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        return g.reshape(shape)
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    return g.reshape(shape)


def _first(n, nr, g):
    b = [None] * n
    b[nr] = g
    return b


def _to_array(g):
    return g._data if isinstance(g, F.Tensor) else g


def _accumulate_leaf(t, g, create_graph, owned=False):
    """Add g into t.grad. A first gradient becomes .grad itself only when ``owned`` (nothing
    else refers to the array); otherwise it is copied, since later passes add into .grad in
    place and must not write into another leaf's gradient or the caller's array."""
    T = F.Tensor
    if create_graph:
        with _leaf_lock:
            old = t.grad
            if old is not None:
                t.grad = old + g
            elif not isinstance(g, T) or g.grad_fn is None:
                # a constant gradient may be shared (Add hands one to both inputs): a copy, so
                # a later in-place accumulation cannot reach another leaf
                t.grad = T._make(np.array(_to_array(g)))
            else:
                t.grad = g
        return
    if type(g) is not _nd:
        g = g._data if isinstance(g, T) else _asarray(g)
    with _leaf_lock:
        old = t.grad
        if old is None:
            if not owned or g.base is not None:
                g = g.copy()
            else:
                fl = g.flags
                if not fl.writeable or not fl.c_contiguous:
                    g = g.copy()
            t.grad = T._make(g)
        elif old.grad_fn is None and old._data.flags.writeable and old.shape == g.shape:
            old._data += g
            if old._vc is not None:
                old._vc.v += 1
        else:
            t.grad = T._make(old._data + g)


def _run_tensor_hooks(hooks, g, raw):
    T = F.Tensor
    for h in list(hooks):
        arg = T._make(g) if raw else g
        r = h(arg)
        if r is not None:
            g = r._data if raw else r
    return g


def _run_post_hooks(t):
    for h in list(t._post_hooks):
        r = h(t)
        if r is not None:
            raise TypeError(f"a post accumulate grad hook must return None, but hook returned "
                            f"'{type(r).__name__}'")


def _topo(roots):
    """Dependency counts of every node reachable from roots (an iterative walk)."""
    deps = dict.fromkeys(roots, 0)
    stack = list(deps)
    pop, push = stack.pop, stack.append
    while stack:
        for e in pop()._next:
            if e is not None:
                m = e[0]
                if m in deps:
                    deps[m] += 1
                else:
                    deps[m] = 1
                    if m._next:     # a leaf's node has no edges: nothing to visit
                        push(m)
    return deps, deps


def _order(roots, deps):
    """Every node reachable from roots, each after all of its consumers (Kahn's algorithm on a
    copy of the dependency counts)."""
    order = []
    d = dict(deps)
    ready = [r for r in dict.fromkeys(roots) if d.get(r, 0) == 0]
    while ready:
        n = ready.pop()
        order.append(n)
        for e in n._next:
            if e is not None:
                m = e[0]
                c = d[m] - 1
                d[m] = c
                if c == 0:
                    ready.append(m)
    return order


def _needed(roots, deps, targets):
    """Nodes on some path from a root to a target node (for autograd.grad / inputs=)."""
    need = set()
    for n in reversed(_order(roots, deps)):
        if n in targets or any(e is not None and e[0] in need for e in n._next):
            need.add(n)
    return need


def run_backward(roots, grads, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=True):
    """Propagate ``grads`` from the ``roots`` (tensors) through the graph.

    With ``inputs`` given, returns the gradients that reach each of them; if ``accumulate`` is
    also true they are accumulated into ``.grad`` instead (``backward(inputs=...)``)."""
    raw = not create_graph
    pending = {}
    root_nodes = []
    if len(roots) == 1 and raw and roots[0].grad_fn is not None and type(grads[0]) is _nd:
        node = roots[0].grad_fn     # the common call: loss.backward()
        buf = pending[node] = [None] * node._nout
        g = grads[0]
        d = roots[0]._data
        if type(d) is _nd and g.dtype != d.dtype:
            g = g.astype(d.dtype)   # a root gradient takes its output's dtype, as torch
        buf[roots[0]._nr] = g
        root_nodes.append(node)
        roots = grads = ()
    for t, g in zip(roots, grads):
        node = t.grad_fn
        if node is None:
            node = F._edge(t)[0] if t._rg else None
        if node is None:
            continue
        if raw:
            g = _to_array(g)
            d = t._data
            if type(g) is _nd and type(d) is _nd and g.dtype != d.dtype:
                g = g.astype(d.dtype)
        elif not isinstance(g, F.Tensor):
            g = F.Tensor._make(g)
        nr = t._nr if t.grad_fn is not None else 0
        buf = pending.get(node)
        if buf is None:
            buf = pending[node] = [None] * node._nout
        buf[nr] = g if buf[nr] is None else buf[nr] + g
        root_nodes.append(node)
    if not root_nodes:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")

    targets = None
    captured = None
    if inputs is not None:
        targets = {}
        for k, t in enumerate(inputs):
            if t.grad_fn is not None:
                key = (t.grad_fn, t._nr)
            elif t._rg:
                key = (F._edge(t)[0], 0)
            else:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.setdefault(key, []).append(k)
        captured = [None] * len(inputs)

    deps, seen = _topo(root_nodes)
    need = None
    if targets is not None:
        need = _needed(root_nodes, deps, {k[0] for k in targets})

    fast = raw and targets is None and not _anomaly[0]
    if len(root_nodes) == 1:
        ready = root_nodes if deps[root_nodes[0]] == 0 else []
    else:
        ready = [n for n in dict.fromkeys(root_nodes) if deps.get(n, 0) == 0]
    _walk(ready, deps, pending, fast, raw, create_graph, retain_graph, targets, captured,
          inputs, accumulate, need)
    if captured is not None and not accumulate:
        for k, g in enumerate(captured):
            if g is not None and raw:
                captured[k] = F.Tensor._make(g)
            elif g is None and not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
    return captured


def backward_root(t, g, retain_graph):
    """run_backward for the common call, ``loss.backward()``: one root with a grad_fn, its
    gradient a plain array, every leaf's gradient accumulated into ``.grad``."""
    if _anomaly[0]:
        return run_backward((t,), (g,), retain_graph, False)
    node = t.grad_fn
    buf = [None] * node._nout
    buf[t._nr] = g
    deps = _topo((node,))[0]
    _walk([node], deps, {node: buf}, True, True, False, retain_graph, None, None, None, True,
          None)


def _walk(ready, deps, pending, fast, raw, create_graph, retain_graph, targets, captured,
          inputs, accumulate, need):
    """Kahn's algorithm from the ready roots: run each node once all its consumers have."""
    prev_mode = _mode.grad
    _mode.grad = create_graph
    depth = _depth.n + 1
    _depth.n = depth
    if depth == 1:
        _depth.limit = None
    elif sys.getrecursionlimit() < 1000 + 40 * depth:
        # a backward inside a custom backward nests Python frames (about ten per level):
        # make room so thousands of levels work
        if _depth.limit is None:
            _depth.limit = sys.getrecursionlimit()
        sys.setrecursionlimit(1000 + 40 * depth)
    try:
        pop, push, take, pget = ready.pop, ready.append, pending.pop, pending.get
        T = F.Tensor
        carry = None    # (node, gradients): made ready last, so it runs next without the queue
        while True:
            if carry is not None:
                node, buf = carry
                carry = None
            elif ready:
                node = pop()
                buf = take(node, None)
            else:
                break
            if buf is None or need is not None and node not in need:
                pass
            elif fast and node._fast and not node._has_hooks:
                # the common case inline: a plain primitive on arrays
                node._raw = True
                gin = node.backward(node, buf[0]) if node._nout == 1 else node._backward(buf)
                if not retain_graph:
                    node._saved = _FREED_MARK
                if type(gin) is not tuple:
                    gin = (gin,)
                exact = node._exact
                for e, g, meta in zip(node._next, gin, node._in_meta):
                    if e is None:
                        continue
                    m = e[0]
                    c = deps[m] - 1
                    deps[m] = c
                    if g is not None:
                        if not exact:
                            if type(g) is not _nd:
                                g = _asarray(g)      # NumPy scalars from 0-d arithmetic
                            if g.shape != meta[0]:
                                g = _sum_to(g, meta[0], node, e)
                            if g.dtype != meta[1]:
                                g = g.astype(meta[1])
                        if c == 0 and type(m) is AccumulateGrad:
                            v = m.variable
                            if v._hooks is None:
                                # a leaf's last contribution: accumulate now, skip the queue
                                b = take(m, None) if pending else None
                                if b is not None and b[0] is not None:
                                    g = b[0] + g
                                    if type(g) is not _nd:
                                        g = _asarray(g)     # 0-d + 0-d is a NumPy scalar
                                    b = True
                                # owned: referred to only by g, gin, zip's tuple and
                                # getrefcount's argument
                                own = exact or _refs(g) <= 4
                                # the first gradient, a fresh array (an exact node's always
                                # are), becomes .grad itself
                                if v.grad is None and (exact and b is None or own and (
                                        g.base is None and (fl := g.flags).writeable
                                        and fl.c_contiguous)):
                                    t = _new(T)     # (Tensor._make(g), inline)
                                    t._data = g
                                    t._rg = False
                                    t.grad_fn = None
                                    t._nr = 0
                                    t.grad = None
                                    t._vc = None
                                    _lock()
                                    if v.grad is None:
                                        v.grad = t
                                        _unlock()
                                        continue
                                    _unlock()
                                _accumulate_leaf(v, g, False, own)
                                continue
                        b = pget(m)
                        if b is None:
                            b = [g] if m._nout == 1 else _first(m._nout, e[1], g)
                            if c:
                                pending[m] = b
                                continue
                        else:
                            nr = e[1]
                            old = b[nr]
                            b[nr] = g if old is None else old + g
                            if c:
                                continue
                            del pending[m]
                        # m is ready: it runs next, as the stack would pop it first
                        if carry is not None:
                            pending[carry[0]] = carry[1]
                            push(carry[0])
                        carry = (m, b)
                        continue
                    if c == 0:
                        if carry is not None:
                            pending[carry[0]] = carry[1]
                            push(carry[0])
                            carry = None
                        push(m)
                continue
            elif fast and type(node) is AccumulateGrad and not node.variable._hooks:
                g = buf[0]
                _accumulate_leaf(node.variable, g, False, _refs(g) <= 3)   # g, buf, argument
                if node.variable._post_hooks:
                    _run_post_hooks(node.variable)
                continue
            elif not _anomaly[0]:
                _run_node(node, buf, raw, create_graph, retain_graph, pending, targets,
                          captured, inputs, accumulate, need)
            else:
                try:
                    _run_node(node, buf, raw, create_graph, retain_graph, pending, targets,
                              captured, inputs, accumulate, need)
                except Exception:
                    _warn_forward_trace(node)
                    raise
            for e in node._next:
                if e is None:
                    continue
                m = e[0]
                c = deps[m] - 1
                deps[m] = c
                if c == 0:
                    push(m)
    finally:
        _mode.grad = prev_mode
        _depth.n = depth - 1
        if depth == 1 and _depth.limit is not None:
            sys.setrecursionlimit(_depth.limit)
            _depth.limit = None


def _run_node(node, buf, raw, create_graph, retain_graph, pending, targets, captured, inputs,
              accumulate, need=None):
    is_leaf = type(node) is AccumulateGrad
    if is_leaf:
        hooks = node.variable._hooks
        if hooks:
            buf[0] = _run_tensor_hooks(hooks, buf[0], raw)
    elif node._tensor_hooks is not None:
        for nr, hooks in node._tensor_hooks.items():
            if buf[nr] is not None and hooks:
                buf[nr] = _run_tensor_hooks(hooks, buf[nr], raw)
    if node._pre_hooks:
        for h in node._pre_hooks:
            r = h(tuple(_wrap(g, raw) for g in buf))
            if r is not None:
                buf = [_to_array(g) if raw else g for g in r]
    if targets is not None:
        for nr in range(len(buf)):
            ks = targets.get((node, nr))
            if ks is None or buf[nr] is None:
                continue
            for k in ks:
                if not accumulate:
                    captured[k] = buf[nr]
                elif not is_leaf:
                    _accumulate_leaf(inputs[k], buf[nr], create_graph)
        if is_leaf:
            if accumulate:
                _accumulate_leaf(node.variable, buf[0], create_graph)
                if node.variable._post_hooks:
                    _run_post_hooks(node.variable)
            return
        if need is not None and not any(e is not None and e[0] in need for e in node._next):
            return      # a target with nothing needed beyond it: its own backward is not run
    if is_leaf:
        _accumulate_leaf(node.variable, buf[0], create_graph)
        if node.variable._post_hooks:
            _run_post_hooks(node.variable)
        return

    if type(node) is FunctionCtx and raw:
        gin = node._backward([_wrap(g, True) for g in buf])
        gin = [_to_array(g) for g in gin]
    else:
        node._raw = raw
        gin = node._backward(buf)
    if not retain_graph:
        node._saved = _FREED_MARK
    if _anomaly[0] and _anomaly_nan[0]:
        _check_nan(node, gin)
    if node._hooks:
        for h in node._hooks:
            r = h(tuple(_wrap(g, raw) for g in gin), tuple(_wrap(g, raw) for g in buf))
            if r is not None:
                gin = [_to_array(g) if raw else g for g in r]
    nexts = node._next
    metas = node._in_meta
    for i, e in enumerate(nexts):
        if e is None:
            continue
        g = gin[i]
        if g is None:
            continue
        if not raw and not isinstance(g, F.Tensor):
            g = F.Tensor._make(np.asarray(g))
        meta = metas[i]
        if g.shape != meta[0]:
            g = _sum_to(g, meta[0], node, i)
        if raw:
            if g.dtype != meta[1]:
                g = g.astype(meta[1])
        elif g._data.dtype != meta[1]:
            g = g.to(F.Tensor._dtype_of(meta[1]))
        m, nr = e
        b = pending.get(m)
        if b is None:
            b = pending[m] = [None] * m._nout
        old = b[nr]
        b[nr] = g if old is None else old + g


def _wrap(g, raw):
    if g is None or not raw:
        return g
    return F.Tensor._make(g)


def _warn_forward_trace(node):
    """Anomaly mode: a backward failed in ``node``; say where its forward op was called."""
    import warnings
    name = node.name() if type(node) is not AccumulateGrad else "AccumulateGrad"
    trace = getattr(node, "_trace", None)
    msg = f"Error detected in {name}."
    if trace:
        msg += " Traceback of forward call that caused the error:\n" + trace
    warnings.warn(msg, UserWarning, stacklevel=2)


def _check_nan(node, gin):
    for i, g in enumerate(gin):
        if g is None:
            continue
        a = _to_array(g)
        if a.dtype.kind == "f" and np.isnan(a).any():
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            if node._trace:
                msg += ("\nThe forward operation that created it was called here (set by "
                        "detect_anomaly):\n" + node._trace)
            raise RuntimeError(msg)
