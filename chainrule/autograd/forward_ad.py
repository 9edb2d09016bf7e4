"""Forward-mode AD with dual tensors (torch.autograd.forward_ad).

Inside ``dual_level()``, ``make_dual(x, t)`` gives a tensor carrying the tangent t; every
primitive applied to dual tensors computes its output's tangent with its JVP rule (explicit
rules for the core ops, otherwise the transposed backward), and ``unpack_dual`` reads it.
"""
import collections

from .._tensor import Tensor
from . import _transforms as T
from .function import Function, _Version

__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
           "UnpackedDualTensor"]

_LEVELS = []    # forward_ad's own levels (torch allows one at a time)


class UnpackedDualTensor(collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """``(primal, tangent)`` returned by :func:`unpack_dual`."""


def enter_dual_level():
    """Enter a new forward-AD level and return its index (prefer ``with dual_level()``).

    >>> import chainrule.autograd.forward_ad as fwAD
    >>> lvl = fwAD.enter_dual_level(); fwAD.exit_dual_level(level=lvl); lvl
    0
    """
    if _LEVELS:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _LEVELS.append(T.push(T.JVP))
    return len(_LEVELS) - 1


def exit_dual_level(*, level=None):
    """Leave the current forward-AD level; its tangents are dropped.

    >>> import chainrule.autograd.forward_ad as fwAD
    >>> fwAD.exit_dual_level(level=fwAD.enter_dual_level())
    """
    if not _LEVELS:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    if level is not None and level != len(_LEVELS) - 1:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    T.pop(_LEVELS.pop())


class dual_level:
    """Context manager for forward AD: dual tensors made inside it carry tangents, which are
    dropped on exit.

    >>> import chainrule
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 0.0]))
    ...     fwAD.unpack_dual((x * x).sum()).tangent
    tensor(2.)
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()


def _level(level):
    if not _LEVELS:
        return None
    if level is None:
        return _LEVELS[-1]
    if not 0 <= level < len(_LEVELS):
        raise RuntimeError(f"Invalid forward AD level {level}")
    return _LEVELS[level]


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` whose tangent (forward gradient) at the current level is
    ``tangent``.

    >>> import chainrule
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     d = fwAD.make_dual(chainrule.tensor(3.0), chainrule.tensor(1.0))
    ...     fwAD.unpack_dual(d.exp()).tangent
    tensor(20.0855)
    """
    lv = _level(level)
    if lv is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not isinstance(tensor, Tensor) or not isinstance(tangent, Tensor):
        raise TypeError("make_dual(): expected tensor and tangent to be Tensors, got "
                        f"{type(tensor).__name__} and {type(tangent).__name__}")
    if tensor.dtype.is_floating_point is False or tangent.dtype.is_floating_point is False:
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype if not tensor.is_floating_point() else tangent.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if tensor._rg:
        from ..ops.shape import View
        d = View.apply(tensor, tuple(tensor.shape))
    else:
        d = Tensor._make(T.fresh(tensor._data))
        T.copy_tans(tensor, d)
    if d._vc is None:
        d._vc = _Version()
    T.set_tangent_deep(d, lv, tangent, d._vc)
    return d


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of a tensor; tangent is None when it carries none at this level.

    >>> import chainrule
    >>> import chainrule.autograd.forward_ad as fwAD
    >>> fwAD.unpack_dual(chainrule.tensor(1.0)).tangent is None
    True
    """
    lv = _level(level)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"unpack_dual(): expected a Tensor, got {type(tensor).__name__}")
    if lv is None:
        return UnpackedDualTensor(tensor, None)
    t = T.get_tangent(tensor, lv)
    if t is None:
        return UnpackedDualTensor(tensor, None)
    p = Tensor._make(T.fresh(tensor._data), tensor._rg, tensor.grad_fn, tensor._nr)
    T._hold_acc(tensor, p)
    T.copy_tans(tensor, p, (lv,))
    return UnpackedDualTensor(p, t)


# -- custom Functions under the transforms -------------------------------------------------------
# NOTE: function.py's Function.apply has no interposition point, so the transforms wrap it here
# (forward AD calls a Function's ``jvp``; vmap runs its forward on the batch).
_orig_apply = Function.apply.__func__


CREATED = [None]   # a set collecting the nodes custom Functions create (checkpoint uses it)


def _function_apply(cls, *args, **kwargs):
    if CREATED[0] is not None:
        out = _orig_apply(cls, *args, **kwargs)
        for o in (out if isinstance(out, tuple) else (out,)):
            if isinstance(o, Tensor) and o.grad_fn is not None:
                CREATED[0].add(o.grad_fn)
        return out
    if not T.STACK:
        return _orig_apply(cls, *args, **kwargs)
    top = None
    for a in args:
        if isinstance(a, Tensor):
            lv = T.top_level(a)
            if lv is not None and (top is None or lv.n > top.n):
                top = lv
    if top is None:
        return _orig_apply(cls, *args, **kwargs)
    if top.kind is T.VMAP:
        return _function_vmap(cls, top, args, kwargs)
    return _function_jvp(cls, top, args, kwargs)


def _function_vmap(cls, lv, args, kwargs):
    from .grad_mode import _mode
    if _mode.grad and any(isinstance(a, Tensor) and a._rg for a in args) and not \
            getattr(cls, "generate_vmap_rule", False):
        raise RuntimeError(f"vmap: {cls.__name__} is a custom autograd.Function that records "
                           "a graph; to use it under vmap set generate_vmap_rule=True on it "
                           "(its forward and backward must then be batchable)")
    return _orig_apply(cls, *args, **kwargs)


def _function_jvp(cls, lv, args, kwargs):
    from .function import FunctionCtx
    from .grad_mode import no_grad
    tans = []
    for a in args:
        if isinstance(a, Tensor):
            t = T.get_tangent(a, lv)
            if t is None:
                t = a.detach() * 0 if a.is_floating_point() else None
            tans.append(t)
        else:
            tans.append(None)
    lv.active = False
    try:
        out = _orig_apply(cls, *args, **kwargs)
        outs = out if isinstance(out, tuple) else (out,)
        ctx = None
        for o in outs:
            if isinstance(o, Tensor) and isinstance(o.grad_fn, FunctionCtx):
                ctx = o.grad_fn
                break
        if ctx is None:
            ctx = FunctionCtx()
            ctx._fn, ctx._saved, ctx._raw = cls, None, False
            ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
            with no_grad():
                if cls.setup_context is not Function.setup_context:
                    cls.setup_context(ctx, args, cls.forward(*args, **kwargs))
                else:
                    cls.forward(ctx, *args, **kwargs)
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
    T.attach(out, tout if isinstance(tout, tuple) else (tout,), lv, args)
    return out


def _save_for_forward(ctx, *tensors):
    ctx.__dict__["saved_for_forward"] = tensors


Function.apply = classmethod(_function_apply)
_FC = __import__("chainrule.autograd.function", fromlist=["FunctionCtx"]).FunctionCtx
if not hasattr(_FC, "save_for_forward"):
    _FC.save_for_forward = _save_for_forward
