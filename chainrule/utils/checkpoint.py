"""Activation checkpointing: keep a segment's inputs, drop its intermediates, and recompute
them during backward (torch.utils.checkpoint)."""
import contextlib
import warnings

import numpy as np

from .._tensor import Tensor
from ..autograd import engine
from ..autograd import forward_ad as _fad
from ..autograd import function as F
from ..autograd.grad_mode import _mode, enable_grad, no_grad

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "noop_context_fn",
           "detach_variable", "check_backward_validity"]


def noop_context_fn():
    """The default ``context_fn`` of :func:`checkpoint`: two contexts that do nothing.

    >>> from chainrule.utils.checkpoint import noop_context_fn
    >>> len(noop_context_fn())
    2
    """
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """The tensors of the tuple ``inputs`` detached, each keeping its ``requires_grad``.

    >>> import chainrule
    >>> from chainrule.utils.checkpoint import detach_variable
    >>> detach_variable((chainrule.ones(1, requires_grad=True), 3))
    (tensor([1.], requires_grad=True), 3)
    """
    if not isinstance(inputs, tuple):
        raise RuntimeError("Only tuple of tensors is supported. Got Unsupported input type: "
                           f"{type(inputs).__name__}")
    return tuple(x.detach().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x
                 for x in inputs)


def check_backward_validity(inputs):
    """Warn when no tensor in ``inputs`` requires grad (a reentrant checkpoint of them gives
    no gradients).

    >>> import chainrule
    >>> from chainrule.utils.checkpoint import check_backward_validity
    >>> check_backward_validity((chainrule.ones(1, requires_grad=True),))
    """
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None")


class CheckpointError(RuntimeError):
    """Raised when a checkpointed segment's recomputation differs from its forward pass."""


class CheckpointNode(F.Node):
    """The one node that stands for a checkpointed segment; its backward recomputes it."""

    def name(self):
        return "CheckpointFunctionBackward"

    def _backward(self, grads):
        raw = self._raw
        fn, args, kwargs, rng, targets, nout, rctx, meta = self.__dict__["_ckpt"]
        from .. import random as R
        state = None
        if rng is not None:
            state = R.get_rng_state()
            R.set_rng_state(rng)
        # inputs become aliases so the recomputed graph's gradients are caught at the segment's
        # boundary (the nodes beyond it run later, in the outer backward)
        from ..ops.shape import View
        with enable_grad():
            dargs = [View.apply(a, tuple(a.shape)) if isinstance(a, Tensor) and a._rg else a
                     for a in args]
        targets = [dargs[t] if type(t) is int else t for t in targets]
        seen = None
        if meta is not None:
            # determinism_check='default': the recomputation must make the same tensors
            seen = []
            prev = F._INTERPOSE[0]
            F._INTERPOSE[0] = _recorder(None, seen, meta)
        try:
            with enable_grad():
                if rctx is not None:
                    with rctx:
                        out = fn(*dargs, **kwargs)
                else:
                    out = fn(*dargs, **kwargs)
        finally:
            if seen is not None:
                F._INTERPOSE[0] = prev
            if state is not None:
                R.set_rng_state(state)
        if seen is not None and len(seen) != len(meta):
            raise CheckpointError(
                "chainrule.utils.checkpoint: A different number of tensors was computed during "
                "the original forward and the recomputation.\nNumber of tensors computed during "
                f"forward: {len(meta)}\nNumber of tensors computed during recomputation: "
                f"{len(seen)}")
        outs = out if isinstance(out, tuple) else (out,)
        roots, gs = [], []
        for k, o in nout:
            g = grads[k]
            if g is None or not (isinstance(outs[o], Tensor) and outs[o]._rg):
                continue
            roots.append(outs[o])
            gs.append(g if raw else (g if isinstance(g, Tensor) else Tensor._make(g)))
        if not roots:
            return tuple(None for _ in self._next)
        res = engine.run_backward(roots, gs, False, not raw, inputs=targets, accumulate=False,
                                  allow_unused=True)
        if raw:
            res = [r._data if isinstance(r, Tensor) else r for r in res]
        return tuple(res)


def _recorder(created, meta=None, want=None):
    """Interposer that notes the graph nodes the segment creates (``created``) and, with
    ``meta``, each recorded output's shape and dtype, compared against ``want`` (the forward's)
    as they come during a recomputation."""
    prev = F._INTERPOSE[0]

    def rec(cls, args, kwargs):
        here = F._INTERPOSE[0]
        F._INTERPOSE[0] = prev
        try:
            out = cls.apply(*args, **kwargs)
        finally:
            F._INTERPOSE[0] = here
        for o in (out if type(out) is tuple else (out,)):
            if isinstance(o, Tensor) and o.grad_fn is not None:
                if created is not None:
                    created.add(o.grad_fn)
                if meta is not None:
                    k = len(meta)
                    meta.append((tuple(o._data.shape), o.dtype))
                    if want is not None:
                        _check_meta(want, meta[k], k)
        return out
    return rec


def _check_meta(want, got, k):
    if k >= len(want):
        raise CheckpointError("chainrule.utils.checkpoint: trying to compute more tensors "
                              "during recomputation than during the original forward pass.")
    if want[k] != got:
        (s0, d0), (s1, d1) = want[k], got
        raise CheckpointError(
            "chainrule.utils.checkpoint: Recomputed values for the following tensors have "
            f"different metadata than during the forward pass.\ntensor at position {k}:\n"
            f"saved metadata: {{'shape': {list(s0)}, 'dtype': {d0}}}\nrecomputed metadata: "
            f"{{'shape': {list(s1)}, 'dtype': {d1}}}\n")


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True, **kwargs):
    """Run ``function(*args)`` without keeping its intermediate values; backward recomputes
    them (same random state), trading compute for memory. Gradients are identical.

    >>> import chainrule
    >>> from chainrule.utils.checkpoint import checkpoint
    >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> checkpoint(lambda t: (t.sin() * t).sum(), x, use_reentrant=False).backward()
    >>> x.grad.shape
    chainrule.Size([2])
    """
    if use_reentrant is None:
        warnings.warn("chainrule.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly; use_reentrant=False is recommended.", stacklevel=2)
        use_reentrant = True        # torch's default when it is not passed
    preserve_rng_state = kwargs.pop("preserve_rng_state", True)
    if context_fn is noop_context_fn:
        context_fn = None
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not None or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if _mode.grad and not any(isinstance(a, Tensor) and a._rg for a in args):
            # the reentrant form's output depends on its inputs only (as torch's)
            check_backward_validity(args)
            with no_grad():
                return function(*args)
    if determinism_check not in ("default", "none"):
        raise ValueError("determinism_check should be one of ['default', 'none'], but got "
                         f"{determinism_check}")
    record = _mode.grad and F._INTERPOSE[0] is None and _fad.CREATED[0] is None
    if not record:
        return function(*args, **kwargs)
    recompute_ctx = None
    if context_fn is not None:
        # two context managers: one around the forward, one around the recomputation
        forward_ctx, recompute_ctx = context_fn()
    from .. import random as R
    rng = R.get_rng_state() if preserve_rng_state else None
    created = set()
    shapes = [] if determinism_check == "default" and not use_reentrant else None
    F._INTERPOSE[0] = _recorder(created, shapes)
    _fad.CREATED[0] = created
    try:
        if context_fn is not None:
            with forward_ctx:
                out = function(*args, **kwargs)
        else:
            out = function(*args, **kwargs)
    finally:
        F._INTERPOSE[0] = None
        _fad.CREATED[0] = None
    outs = out if isinstance(out, tuple) else (out,)
    diff = [(k, o) for k, o in enumerate(outs) if isinstance(o, Tensor) and o._rg and
            o.grad_fn in created]
    if not diff:
        created.clear()
        return out
    argkey = {}
    for k, a in enumerate(args):
        if isinstance(a, Tensor) and a._rg:
            e = F._edge(a)
            argkey.setdefault((id(e[0]), e[1]), k)
    edges, metas, targets = [], [], []
    seen_edges = set()
    stack = [o.grad_fn for _, o in diff]
    visited = set()
    while stack:
        n = stack.pop()
        if n in visited:
            continue
        visited.add(n)
        for i, e in enumerate(n._next):
            if e is None:
                continue
            m = e[0]
            if m in created:
                stack.append(m)
                continue
            key = (id(m), e[1])
            if key in seen_edges:
                continue
            seen_edges.add(key)
            edges.append(e)
            meta = n._in_meta[i]
            metas.append(meta)
            if key in argkey:
                targets.append(argkey[key])
            elif type(m) is F.AccumulateGrad:
                targets.append(m.variable)
            else:
                targets.append(Tensor._make(np.broadcast_to(np.zeros((), meta[1]), meta[0]), True,
                                            m, e[1]))
    created.clear()
    visited.clear()
    node = CheckpointNode()
    node._next = tuple(edges)
    node._in_meta = tuple(metas)
    node._saved = None
    node._nout = len(diff)
    node._out_meta = tuple((o._data.shape, o._data.dtype) for _, o in diff)
    node.needs_input_grad = tuple(True for _ in edges)
    node.__dict__["_ckpt"] = (function, args, kwargs, rng, targets,
                              [(j, k) for j, (k, _) in enumerate(diff)], recompute_ctx, shapes)
    for j, (k, o) in enumerate(diff):
        o.grad_fn, o._nr = node, j
        o.__dict__.pop("_base", None)
        o.__dict__.pop("_view_fn", None)
    return out


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Split a sequence of modules/functions into ``segments`` checkpointed chunks (the last
    runs normally).

    >>> import chainrule
    >>> from chainrule.utils.checkpoint import checkpoint_sequential
    >>> fs = [lambda t: t * 2, lambda t: t.sin(), lambda t: t + 1]
    >>> checkpoint_sequential(fs, 2, chainrule.ones(2), use_reentrant=False).shape
    chainrule.Size([2])
    """
    if use_reentrant is None:
        warnings.warn("chainrule.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly; use_reentrant=False is recommended.", stacklevel=2)
    fs = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = (len(fs) + segments - 1) // segments if segments else len(fs)
    size = max(size, 1)

    def run(start, end):
        def seg(x):
            for f in fs[start:end + 1]:
                x = f(x)
            return x
        return seg
    end = -1
    x = input
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        x = checkpoint(run(start, end), x, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(fs) - 1)(x)
