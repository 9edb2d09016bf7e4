"""Forward-mode AD with dual tensors (torch.autograd.forward_ad).

Inside ``dual_level()``, ``make_dual(x, t)`` gives a tensor carrying the tangent t; every
primitive applied to dual tensors computes its output's tangent with its JVP rule (explicit
rules for the core ops, otherwise the transposed backward), and ``unpack_dual`` reads it.
"""
import collections

from .._tensor import Tensor
from . import _transforms as T
from .function import _Version

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
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if t._data.dtype.kind not in "fc":
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"{t.dtype}")
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


CREATED = [None]   # checkpoint's marker while it records (custom Functions reach its recorder
                   # through function._INTERPOSE like every primitive)
