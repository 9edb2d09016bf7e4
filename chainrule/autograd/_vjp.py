"""Reverse mode for the transforms: differentiable input handles and a vjp that understands vmap
levels (graphs recorded under vmap are physical, so roots and inputs are converted first)."""
import numpy as np

from .._tensor import Tensor
from ..ops import shape as S
from . import engine
from .function import AccumulateGrad
from . import _transforms as T
from ._transforms import (STACK, active_vmap_levels, from_phys, is_batched_at, to_phys)

_make = Tensor._make


_tok = [0]


def new_token():
    _tok[0] += 1
    return _tok[0]


def make_inputs(xs, levels=(), token=0):
    """Fresh differentiable handles for xs (an alias node when x already requires grad, so
    nested transforms never confuse their inputs), batched at every vmap level in levels."""
    out = []
    order = sorted(levels, key=lambda lv: lv.n)
    for x in xs:
        if x._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients "
                               f"(got {x.dtype}); differentiate with respect to float inputs")
        if x._rg:
            h = S.View.apply(x, tuple(x.shape))
        else:
            h = _make(x._data, True)
            h.__dict__["_htok"] = token
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


def vjp_core(outputs, inputs, cotangents, create_graph, retain_graph=True):
    """Gradients of sum(<outputs, cotangents>) with respect to inputs (None where unused)."""
    levels = [lv for lv in active_vmap_levels()
              if any(is_batched_at(i, lv) for i in inputs)] if STACK else ()
    if levels:
        levels.sort(key=lambda lv: -lv.n)
    pairs = [(o, c) for o, c in zip(outputs, cotangents)
             if isinstance(o, Tensor) and o._rg and c is not None]
    if not pairs:
        return [None] * len(inputs)
    outs = [o for o, _ in pairs]
    cots = [c if isinstance(c, Tensor) else _make(np.asarray(c, o._data.dtype))
            for o, c in pairs]
    ins = list(inputs)
    for lv in levels:
        outs = [to_phys(o, lv) for o in outs]
        cots = [to_phys(c, lv) for c in cots]
        ins = [to_phys(i, lv) for i in ins]
    cots = [c if c._data.shape == o._data.shape else c.expand(o.shape)
            for o, c in zip(outs, cots)]
    # Transforms need the rules to run on Tensors (so batched and dual values are seen), which
    # the engine does only with create_graph; QUIET then stops the recording nobody needs.
    quiet = bool(STACK) and not create_graph
    create = bool(create_graph or STACK)
    prev = T.QUIET[0]
    T.QUIET[0] = quiet
    try:
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
