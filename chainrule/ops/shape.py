"""Shape primitives: reshape/view, permute, expand, clone. Views share memory and the version
counter with their base and remember how to re-derive themselves from it (for in-place ops)."""
import numpy as np

from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Op, _Version
from . import _xp

__all__ = ["reshape", "view", "permute", "transpose", "swapaxes", "swapdims", "t", "expand",
           "broadcast_to", "squeeze", "unsqueeze", "clone"]

_make = Tensor._make


def _as_view(out, base, fn):
    """Mark ``out`` as a view of ``base``: shared version counter, root base, view function."""
    if not np.may_share_memory(out._data, base._data):
        return out
    if base._vc is None:
        base._vc = _Version()
    out._vc = base._vc
    root = base._base
    if root is None:
        out._base = base
        out.__dict__["_view_fn"] = fn
    else:
        prev = base.__dict__["_view_fn"]
        out._base = root
        out.__dict__["_view_fn"] = lambda b: fn(prev(b))
    return out


def _parse_shape(shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _infer(shape, numel, op):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if neg:
        rest = 1
        for i, s in enumerate(shape):
            if i != neg[0]:
                rest *= s
        if rest == 0 or numel % rest:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:neg[0]] + (numel // rest,) + shape[neg[0] + 1:]
    n = 1
    for s in shape:
        if s < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {s}")
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class Reshape(Op):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return _xp.reshape(g, ctx.shape)


class View(Reshape):
    pass


class Squeeze(Reshape):
    pass


class Unsqueeze(Reshape):
    pass


class Permute(Op):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.inv = tuple(np.argsort(dims))
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return _xp.permute(g, ctx.inv)


class Transpose(Permute):
    pass


class Expand(Op):
    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g      # the engine sums g down to the input's shape


class Clone(Op):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


# -- public functions ------------------------------------------------------------------------
def reshape(input, *shape):
    """The same data with a new shape (a view when possible); one dim may be -1.

    >>> import chainrule
    >>> chainrule.arange(6).reshape(2, -1).shape
    chainrule.Size([2, 3])
    """
    shape = _infer(_parse_shape(shape), input._data.size, "reshape")
    if shape == input._data.shape:
        return _as_view(Reshape.apply(input, shape), input, lambda b: b)
    out = Reshape.apply(input, shape)
    return _as_view(out, input, lambda b: _xp.reshape(b, shape))


def view(input, *shape):
    """A view with a new shape; fails (as torch) when the memory layout does not allow it.

    >>> import chainrule
    >>> chainrule.zeros(4).view(2, 2).shape
    chainrule.Size([2, 2])
    """
    shape = _infer(_parse_shape(shape), input._data.size, "view")
    try:
        np.reshape(input._data, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    out = View.apply(input, shape)
    return _as_view(out, input, lambda b: _xp.reshape(b, shape))


def view_dtype(input, dtype):
    from .. import dtypes as _dt
    d = _dt.to_dtype(dtype)
    return _as_view(_make(input._data.view(d.np)), input, lambda b: b)


def permute(input, *dims):
    """Reorder the dimensions.

    >>> import chainrule
    >>> chainrule.zeros(2, 3, 4).permute(2, 0, 1).shape
    chainrule.Size([4, 2, 3])
    """
    dims = _parse_shape(dims)
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    out = Permute.apply(input, dims)
    return _as_view(out, input, lambda b: _xp.permute(b, dims))


def transpose(input, dim0, dim1):
    """Swap two dimensions.

    >>> import chainrule
    >>> chainrule.zeros(2, 3).transpose(0, 1).shape
    chainrule.Size([3, 2])
    """
    nd = input._data.ndim
    if nd == 0:
        _wrap_dim(dim0, 0, "transpose"), _wrap_dim(dim1, 0, "transpose")
        return _as_view(Transpose.apply(input, ()), input, lambda b: b)
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    dims = list(range(nd))
    dims[d0], dims[d1] = d1, d0
    dims = tuple(dims)
    out = Transpose.apply(input, dims)
    return _as_view(out, input, lambda b: _xp.permute(b, dims))


swapaxes = swapdims = transpose


def t(input):
    """Transpose of a tensor with at most 2 dims.

    >>> import chainrule
    >>> chainrule.zeros(2, 3).t().shape
    chainrule.Size([3, 2])
    """
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else transpose(input, 0, 0) \
        if input._data.ndim == 1 else input


def expand(input, *sizes):
    """Broadcast singleton dims to ``sizes`` without copying (-1 keeps a size).

    >>> import chainrule
    >>> chainrule.ones(3, 1).expand(3, 4).shape
    chainrule.Size([3, 4])
    """
    sizes = _parse_shape(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    out_shape = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 is not allowed in a leading, non-existing "
                                   f"dimension {i}")
            out_shape.append(s)
            continue
        cur = shape[i - lead]
        if s == -1:
            s = cur
        if cur != s and cur != 1:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({cur}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shape)}")
        out_shape.append(s)
    out_shape = tuple(out_shape)
    if out_shape == shape:
        return input
    out = Expand.apply(input, out_shape)
    return _as_view(out, input, lambda b: _xp.expand(b, out_shape))


broadcast_to = expand


def squeeze(input, dim=None):
    """Remove size-1 dims (all, or those in ``dim``).

    >>> import chainrule
    >>> chainrule.zeros(1, 3, 1).squeeze().shape
    chainrule.Size([3])
    """
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = {_wrap_dim(d, len(shape), "squeeze") for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    out = Squeeze.apply(input, new)
    return _as_view(out, input, lambda b: _xp.reshape(b, new))


def unsqueeze(input, dim):
    """Insert a size-1 dim at ``dim``.

    >>> import chainrule
    >>> chainrule.zeros(3).unsqueeze(0).shape
    chainrule.Size([1, 3])
    """
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape) + 1, "unsqueeze")
    new = shape[:d] + (1,) + shape[d:]
    out = Unsqueeze.apply(input, new)
    return _as_view(out, input, lambda b: _xp.reshape(b, new))


def clone(input, *, memory_format=None):
    """A copy that stays in the graph.

    >>> import chainrule
    >>> chainrule.clone(chainrule.ones(2))
    tensor([1., 1.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"clone(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return Clone.apply(input)


# -- catalogue: more shape ops (issue 3) ------------------------------------------------------
