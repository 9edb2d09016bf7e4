"""Matrix products: one MatMul primitive (batched, broadcast); 1-D cases are reshapes."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from . import _xp

__all__ = ["matmul", "mm", "bmm", "mv", "dot"]


class MatMul(Op):
    """a @ b for operands with >= 2 dims; batch broadcasting is undone by the engine."""

    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad
        ctx.save_for_backward(b if n[0] else None, a if n[1] else None)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        ga = g @ _xp.swap_last(b) if b is not None else None
        gb = _xp.swap_last(a) @ g if a is not None else None
        return ga, gb


def _mm_check(a, b, op):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        bad = b if isinstance(a, Tensor) else a
        raise TypeError(f"{op}(): argument 'other' must be Tensor, not {type(bad).__name__}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise RuntimeError(f"both arguments to {op} need to be at least 1D, but they are "
                           f"{a._data.ndim}D and {b._data.ndim}D")


def matmul(input, other):
    """Matrix product with torch's 1-D, batched and broadcast-batched rules.

    >>> import chainrule
    >>> chainrule.matmul(chainrule.ones(2, 3), chainrule.ones(3)).shape
    chainrule.Size([2])
    """
    a, b = input, other
    _mm_check(a, b, "matmul")
    sa, sb = a._data.shape, b._data.shape
    if sa[-1] != sb[0 if len(sb) == 1 else -2]:
        if len(sa) == 1 and len(sb) == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{sa[0]}] and src "
                               f"[{sb[0]}] to have the same number of elements, but got "
                               f"{sa[0]} and {sb[0]} elements respectively")
        ra = sa if len(sa) <= 2 else (int(np.prod(sa[:-1])), sa[-1])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, ra))}"
                           f" and {'x'.join(map(str, sb[-2:] if len(sb) > 1 else sb))})")
    if len(sa) > 2 and len(sb) > 2:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise RuntimeError(f"matmul: batch dimensions {list(sa[:-2])} and {list(sb[:-2])} "
                               "of the operands cannot broadcast") from None
    if len(sa) >= 2 and len(sb) >= 2:
        return MatMul.apply(a, b)
    if len(sa) == 1 and len(sb) == 1:
        return MatMul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    if len(sa) == 1:
        return MatMul.apply(a.unsqueeze(0), b).squeeze(-2)
    return MatMul.apply(a, b.unsqueeze(1)).squeeze(-1)


def mm(input, mat2):
    """Product of two matrices.

    >>> import chainrule
    >>> chainrule.mm(chainrule.ones(2, 3), chainrule.ones(3, 4)).shape
    chainrule.Size([2, 4])
    """
    _mm_check(input, mat2, "mm")
    if input.ndim != 2:
        raise RuntimeError(f"self must be a matrix (got a {input.ndim}D tensor)")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix (got a {mat2.ndim}D tensor)")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of (b, n, m) and (b, m, p) tensors.

    >>> import chainrule
    >>> chainrule.bmm(chainrule.ones(5, 2, 3), chainrule.ones(5, 3, 4)).shape
    chainrule.Size([5, 2, 4])
    """
    _mm_check(input, mat2, "bmm")
    if input.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor (got {input.ndim}D)")
    if mat2.ndim != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor (got {mat2.ndim}D)")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch1 and batch2 must have same number of batches, got "
                           f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def mv(input, vec):
    """Matrix-vector product.

    >>> import chainrule
    >>> chainrule.mv(chainrule.ones(2, 3), chainrule.ones(3))
    tensor([3., 3.])
    """
    _mm_check(input, vec, "mv")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {vec.ndim}")
    return matmul(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors.

    >>> import chainrule
    >>> chainrule.dot(chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0]))
    tensor(11.)
    """
    _mm_check(input, other, "dot")
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return matmul(input, other)


# -- catalogue: linear algebra (issue 3) ------------------------------------------------------
