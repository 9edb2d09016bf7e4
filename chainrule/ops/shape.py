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
from . import elementwise as _E  # noqa: E402  (elementwise does not import shape)

__all__ += ["cat", "concat", "concatenate", "stack", "split", "chunk", "flatten", "unflatten"]


def _getitem(x, idx):
    from .index import getitem
    return getitem(x, idx)


def _slice_dim(x, dim, start, stop, step=None):
    """x[..., start:stop, ...] along dim (a view)."""
    return _getitem(x, (slice(None),) * dim + (slice(start, stop, step),))


def _check_tensor(x, op, arg="input", pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{arg}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def _tensor_seq(tensors, op):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                            f"but found element of type {type(t).__name__} at pos {i}")
    return list(tensors)


def _promote_all(tensors):
    from .. import dtypes as _dt
    rt = tensors[0].dtype
    for t in tensors[1:]:
        rt = _dt.promote_types(rt, t.dtype)
    return [_E.cast(t, rt) for t in tensors]


class Cat(Op):
    @staticmethod
    def forward(ctx, dim, *arrs):
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [a.shape[dim] for a in arrs]).tolist()
        return np.concatenate(arrs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        b, n = ctx.bounds, ctx.needs_input_grad
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(g[lead + (slice(b[i], b[i + 1]),)] if n[i + 1] else None
                               for i in range(len(b) - 1))


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim (dtypes promote; 1-D empty tensors are skipped).

    >>> import chainrule
    >>> chainrule.cat([chainrule.zeros(2, 1), chainrule.ones(2, 2)], dim=1)
    tensor([[0., 1., 1.],
            [0., 1., 1.]])
    """
    ts = _tensor_seq(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    live = [t for t in ts if t._data.shape != (0,)] or ts[:1]
    ref = live[0]
    nd = ref._data.ndim
    d = _wrap_dim(dim, nd, "cat")
    for i, t in enumerate(live):
        if t._data.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{t._data.ndim}")
        for k in range(nd):
            if k != d and t._data.shape[k] != ref._data.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._data.shape[k]} but got size "
                                   f"{t._data.shape[k]} for tensor number {ts.index(t)} in "
                                   "the list.")
    return Cat.apply(d, *_promote_all(live))


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dim.

    >>> import chainrule
    >>> chainrule.stack([chainrule.zeros(2), chainrule.ones(2)], dim=1)
    tensor([[0., 1.],
            [0., 1.]])
    """
    ts = _tensor_seq(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    s0 = ts[0]._data.shape
    for i, t in enumerate(ts):
        if t._data.shape != s0:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(s0)} "
                               f"at entry 0 and {list(t._data.shape)} at entry {i}")
    d = _wrap_dim(dim, len(s0) + 1, "stack")
    return cat([unsqueeze(t, d) for t in ts], d)


def split(tensor, split_size_or_sections, dim=0):
    """Split into pieces of a given size (the last may be smaller) or of listed sizes (views).

    >>> import chainrule
    >>> [p.shape[0] for p in chainrule.split(chainrule.arange(5), 2)]
    [2, 2, 1]
    """
    _check_tensor(tensor, "split", "tensor")
    nd = tensor._data.ndim
    d = _wrap_dim(dim, nd, "split")
    n = tensor._data.shape[d] if nd else 1
    s = split_size_or_sections
    if isinstance(s, Tensor):
        s = s.tolist()
    if isinstance(s, (int, np.integer)):
        s = int(s)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0:
            if n:
                raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                                   f"dimension size of {n}")
            return (_slice_dim(tensor, d, 0, 0),)
        sizes = [min(s, n - k) for k in range(0, n, s)] or [0]
    else:
        sizes = [int(v) for v in s]
        if any(v < 0 for v in sizes):
            raise RuntimeError("split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={sizes}")
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out, k = [], 0
    for v in sizes:
        out.append(_slice_dim(tensor, d, k, k + v))
        k += v
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` pieces of equal size ceil(n / chunks) (maybe fewer pieces).

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.chunk(chainrule.arange(5), 3)]
    [[0, 1], [2, 3], [4]]
    """
    _check_tensor(input, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = _wrap_dim(dim, input._data.ndim, "chunk")
    n = input._data.shape[d]
    if n == 0:
        return tuple(_slice_dim(input, d, 0, 0) for _ in range(chunks))
    return split(input, -(-n // chunks), d)


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (a 0-d tensor becomes 1-D).

    >>> import chainrule
    >>> chainrule.zeros(2, 3, 4).flatten(1).shape
    chainrule.Size([2, 12])
    """
    _check_tensor(input, "flatten")
    shape = input._data.shape
    nd = len(shape)
    s, e = _wrap_dim(start_dim, nd, "flatten"), _wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if nd == 0:
        return reshape(input, 1)
    if s == e:
        return input
    n = 1
    for v in shape[s:e + 1]:
        n *= v
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one entry may be -1).

    >>> import chainrule
    >>> chainrule.zeros(2, 6).unflatten(1, (2, 3)).shape
    chainrule.Size([2, 2, 3])
    """
    _check_tensor(input, "unflatten")
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape), "unflatten")
    sizes = tuple(int(v) for v in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = shape[d] if shape else 1
    known = 1
    for v in sizes:
        if v != -1:
            known *= v
    if sizes.count(-1) > 1 or (-1 not in sizes and known != n) or (
            -1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {d} ({n}) in the input tensor")
    if -1 in sizes:
        sizes = tuple(n // known if v == -1 else v for v in sizes)
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


__all__ += ["flip"]


def _dim_list(dims, nd, op):
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = [_wrap_dim(int(d), nd, op) for d in dims]
    for d in out:
        if out.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


def flip(input, dims):
    """Reverse the order of elements along ``dims`` (a copy, as torch).

    >>> import chainrule
    >>> chainrule.flip(chainrule.tensor([[1, 2], [3, 4]]), [1])
    tensor([[2, 1],
            [4, 3]])
    """
    _check_tensor(input, "flip")
    nd = input._data.ndim
    ds = _dim_list(dims, nd, "flip")
    if nd == 0 or not ds:
        return Clone.apply(input)
    idx = tuple(slice(None, None, -1) if k in ds else slice(None) for k in range(nd))
    return Clone.apply(_getitem(input, idx))
