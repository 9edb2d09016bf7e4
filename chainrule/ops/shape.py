"""Shape primitives: reshape/view, permute, expand, clone. Views share memory and the version
counter with their base and remember how to re-derive themselves from it (for in-place ops)."""
import numpy as np

from .._tensor import Tensor, _View, _wrap_dim
from ..autograd.function import Op, _Version
from . import _xp

__all__ = ["reshape", "view", "permute", "transpose", "swapaxes", "swapdims", "t", "expand",
           "broadcast_to", "squeeze", "unsqueeze", "clone"]

_make = Tensor._make


def _as_view(out, base, fn):
    """Mark ``out`` as a view of ``base``: shared version counter, root base, view function."""
    o = out._data
    if o is not base._data and (type(o) is np.ndarray and o.base is None
                                or not np.may_share_memory(o, base._data)):
        return out      # a fresh array (owns its memory) or one apart from base's
    vc = base._vc
    if vc is None:
        vc = base._vc = _Version()
    out._vc = vc
    if type(out) is Tensor:
        out.__class__ = _View       # its history follows in-place ops through other views
    out.__dict__["_gg"] = vc.g
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


# -- group 4: the rest of the shape catalogue ------------------------------------------------
__all__ += ["movedim", "moveaxis", "repeat", "tile", "repeat_interleave", "fliplr", "flipud",
            "roll", "rot90", "hstack", "vstack", "dstack", "column_stack", "row_stack",
            "tensor_split", "hsplit", "vsplit", "dsplit", "unbind", "narrow", "select",
            "diag", "diagonal", "diag_embed", "tril", "triu", "meshgrid", "broadcast_tensors",
            "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d"]


def _ints(v):
    return (int(v),) if isinstance(v, (int, np.integer)) else tuple(int(k) for k in v)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination`` (a view); the others keep their order.

    >>> import chainrule
    >>> chainrule.zeros(2, 3, 4).movedim(0, -1).shape
    chainrule.Size([3, 4, 2])
    """
    _check_tensor(input, "movedim")
    nd = input._data.ndim
    src, dst = _ints(source), _ints(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = [_wrap_dim(d, nd, "movedim") for d in src]
    dst = [_wrap_dim(d, nd, "movedim") for d in dst]
    for name, ds, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(ds)) != len(ds):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(_ints(given))})")
    if nd == 0:
        return input
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, *order)


moveaxis = movedim


def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along dim i (leading sizes add new dims; a copy).

    >>> import chainrule
    >>> chainrule.tensor([1, 2]).repeat(2, 2)
    tensor([[1, 2, 1, 2],
            [1, 2, 1, 2]])
    """
    _check_tensor(input, "repeat")
    reps = _parse_shape(sizes)
    shape = input._data.shape
    if len(reps) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    shape = (1,) * (len(reps) - len(shape)) + shape
    final = tuple(r * s for r, s in zip(reps, shape))
    for f in final:
        if f < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {f}: "
                               f"{list(final)}")
    inter = tuple(v for s in shape for v in (1, s))
    big = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    out = reshape(expand(reshape(input, inter), big), final)
    return Clone.apply(out) if np.may_share_memory(out._data, input._data) else out


def tile(input, dims):
    """repeat, with ``dims`` padded by leading ones when shorter than the tensor's dims.

    >>> import chainrule
    >>> chainrule.tile(chainrule.tensor([[1, 2]]), (2,)).tolist()
    [[1, 2, 1, 2]]
    """
    _check_tensor(input, "tile")
    dims = _ints(dims)
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or a tensor with one count per element)
    along ``dim`` (the flattened tensor when None). With only a tensor of counts, returns
    the indices repeated by them.

    >>> import chainrule
    >>> chainrule.repeat_interleave(chainrule.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    >>> chainrule.repeat_interleave(chainrule.tensor([[1, 2], [3, 4]]), chainrule.tensor([1, 2]), 0)
    tensor([[1, 2],
            [3, 4],
            [3, 4]])
    """
    _check_tensor(input, "repeat_interleave")
    if repeats is None:
        r = input._data
        if r.ndim > 1 or r.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave: repeats must be a 0-dim or 1-dim int tensor")
        if np.any(r < 0):
            raise RuntimeError("repeats can not be negative")
        return _make(np.repeat(np.arange(r.size, dtype=np.int64), r.reshape(-1)))
    x = input
    if dim is None:
        x, d = flatten(input), 0
    else:
        d = _wrap_dim(dim, input._data.ndim, "repeat_interleave")
        if x._data.ndim == 0:
            x = reshape(x, 1)
    n = x._data.shape[d]
    if isinstance(repeats, Tensor) and repeats._data.size == 1 and repeats._data.ndim <= 1:
        repeats = int(repeats._data.reshape(-1)[0])
    if isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        r = int(repeats)
        if r < 0:
            raise RuntimeError("Repeats must be non-negative")
        shape = x._data.shape
        out = expand(unsqueeze(x, d + 1), shape[:d + 1] + (r,) + shape[d + 1:])
        out = reshape(out, shape[:d] + (n * r,) + shape[d + 1:])
        return Clone.apply(out) if np.may_share_memory(out._data, input._data) else out
    if not isinstance(repeats, Tensor):
        raise TypeError(f"repeat_interleave(): argument 'repeats' must be Tensor or int, not "
                        f"{type(repeats).__name__}")
    r = repeats._data
    if r.ndim != 1 or r.dtype.kind not in "iu":
        raise RuntimeError("repeat_interleave: repeats must be a 0-dim or 1-dim int tensor")
    if r.shape[0] != n:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {r.shape[0]} and input.size({d}) = {n}")
    if np.any(r < 0):
        raise RuntimeError("repeats can not be negative")
    idx = _make(np.repeat(np.arange(n, dtype=np.int64), r))
    return _getitem(x, (slice(None),) * d + (idx,))


def fliplr(input):
    """Reverse the columns (dim 1) of a tensor with >= 2 dims.

    >>> import chainrule
    >>> chainrule.fliplr(chainrule.tensor([[1, 2], [3, 4]]))
    tensor([[2, 1],
            [4, 3]])
    """
    _check_tensor(input, "fliplr")
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Reverse the rows (dim 0).

    >>> import chainrule
    >>> chainrule.flipud(chainrule.tensor([1, 2, 3]))
    tensor([3, 2, 1])
    """
    _check_tensor(input, "flipud")
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (the flattened tensor when None).

    >>> import chainrule
    >>> chainrule.roll(chainrule.tensor([1, 2, 3, 4]), 1)
    tensor([4, 1, 2, 3])
    """
    _check_tensor(input, "roll")
    shifts = _ints(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return reshape(roll(flatten(input), shifts, 0), input._data.shape)
    dims = _ints(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    nd = input._data.ndim
    dims = [_wrap_dim(d, nd, "roll") for d in dims]
    out = input
    for s, d in zip(shifts, dims):
        n = out._data.shape[d] if nd else 1
        k = s % n if n else 0
        if k:
            out = cat([_slice_dim(out, d, n - k, n), _slice_dim(out, d, 0, n - k)], d)
    return Clone.apply(out) if out is input else out


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of ``dims`` (from the first towards the
    second).

    >>> import chainrule
    >>> chainrule.rot90(chainrule.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    _check_tensor(input, "rot90")
    dims = _ints(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = (_wrap_dim(d, nd, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    return Clone.apply(input)


def _atleast(n, tensors, op):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(t).__name__}")
        s = t._data.shape
        if len(s) >= n:
            out.append(t)
        elif n == 1 or len(s) == 0:
            out.append(reshape(t, (1,) * n))
        elif n == 2:
            out.append(reshape(t, (1,) + s))
        else:
            out.append(reshape(t, (1,) + s + (1,) if len(s) == 1 else s + (1,)))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """The tensor(s) with at least 1 dim (0-d becomes shape (1,)).

    >>> import chainrule
    >>> chainrule.atleast_1d(chainrule.tensor(1.0)).shape
    chainrule.Size([1])
    """
    return _atleast(1, tensors, "atleast_1d")


def atleast_2d(*tensors):
    """The tensor(s) with at least 2 dims (a 1-D tensor becomes a row).

    >>> import chainrule
    >>> chainrule.atleast_2d(chainrule.ones(3)).shape
    chainrule.Size([1, 3])
    """
    return _atleast(2, tensors, "atleast_2d")


def atleast_3d(*tensors):
    """The tensor(s) with at least 3 dims ((n,) -> (1, n, 1), (m, n) -> (m, n, 1)).

    >>> import chainrule
    >>> chainrule.atleast_3d(chainrule.ones(3)).shape
    chainrule.Size([1, 3, 1])
    """
    return _atleast(3, tensors, "atleast_3d")


def hstack(tensors, *, out=None):
    """Concatenate along dim 1 (dim 0 for 1-D tensors).

    >>> import chainrule
    >>> chainrule.hstack([chainrule.tensor([1]), chainrule.tensor([2, 3])])
    tensor([1, 2, 3])
    """
    ts = _atleast(1, (_tensor_seq(tensors, "hstack"),), "hstack")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


def vstack(tensors, *, out=None):
    """Concatenate along dim 0 after making each tensor at least 2-D.

    >>> import chainrule
    >>> chainrule.vstack([chainrule.tensor([1, 2]), chainrule.tensor([3, 4])])
    tensor([[1, 2],
            [3, 4]])
    """
    return cat(_atleast(2, (_tensor_seq(tensors, "vstack"),), "vstack"), 0)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Concatenate along dim 2 after making each tensor at least 3-D.

    >>> import chainrule
    >>> chainrule.dstack([chainrule.ones(2, 2), chainrule.zeros(2, 2)]).shape
    chainrule.Size([2, 2, 2])
    """
    return cat(_atleast(3, (_tensor_seq(tensors, "dstack"),), "dstack"), 2)


def column_stack(tensors, *, out=None):
    """Stack as columns: 0-d and 1-D tensors become (n, 1) columns, then concatenate on dim 1.

    >>> import chainrule
    >>> chainrule.column_stack([chainrule.tensor([1, 2]), chainrule.tensor([3, 4])])
    tensor([[1, 3],
            [2, 4]])
    """
    ts = _tensor_seq(tensors, "column_stack")
    return cat([reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts], 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal pieces (the first ones one longer), or at the given
    indices (views).

    >>> import chainrule
    >>> [p.tolist() for p in chainrule.tensor_split(chainrule.arange(5), 2)]
    [[0, 1, 2], [3, 4]]
    >>> [p.tolist() for p in chainrule.tensor_split(chainrule.arange(5), [1, 4])]
    [[0], [1, 2, 3], [4]]
    """
    _check_tensor(input, "tensor_split")
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    d = _wrap_dim(dim, input._data.ndim, "tensor_split")
    n = input._data.shape[d]
    s = indices_or_sections
    if isinstance(s, Tensor):
        if s._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {s._data.ndim} dims")
        s = int(s._data) if s._data.ndim == 0 else s._data.tolist()
    if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
        if s <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {s}")
        q, r = divmod(n, int(s))
        bounds = [0]
        for i in range(int(s)):
            bounds.append(bounds[-1] + q + (1 if i < r else 0))
    elif isinstance(s, (list, tuple)):
        bounds = [0] + [int(v) for v in s] + [n]
    else:
        raise TypeError(f"tensor_split(): argument 'indices' must be tuple of ints, not "
                        f"{type(s).__name__}")
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        a, b = (min(max(v + n if v < 0 else v, 0), n) for v in (a, b))
        out.append(_slice_dim(input, d, a, max(a, b)))
    return tuple(out)


def _dir_split(input, sections, dim, op, need):
    _check_tensor(input, op)
    nd = input._data.ndim
    if nd < need:
        raise RuntimeError(f"torch.{op} requires a tensor with at least {need} dimension, but "
                           f"got a tensor with {nd} dimensions!")
    if isinstance(sections, (int, np.integer)):
        n = input._data.shape[dim]
        if sections == 0 or n % sections:
            raise RuntimeError(f"torch.{op} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {n} is not divisible by the split_size "
                               f"{sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    """tensor_split along dim 1 (dim 0 for 1-D); equal sections must divide the size.

    >>> import chainrule
    >>> [p.shape for p in chainrule.hsplit(chainrule.zeros(2, 4), 2)]
    [chainrule.Size([2, 2]), chainrule.Size([2, 2])]
    """
    _check_tensor(input, "hsplit")
    dim = 0 if input._data.ndim == 1 else 1
    return _dir_split(input, indices_or_sections, dim, "hsplit", 1)


def vsplit(input, indices_or_sections):
    """tensor_split along dim 0 of a tensor with >= 2 dims.

    >>> import chainrule
    >>> len(chainrule.vsplit(chainrule.zeros(4, 2), 2))
    2
    """
    return _dir_split(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    """tensor_split along dim 2 of a tensor with >= 3 dims.

    >>> import chainrule
    >>> len(chainrule.dsplit(chainrule.zeros(1, 1, 4), [1]))
    2
    """
    return _dir_split(input, indices_or_sections, 2, "dsplit", 3)


def select(input, dim, index):
    """The slice at ``index`` along ``dim`` (a view with that dim removed).

    >>> import chainrule
    >>> chainrule.select(chainrule.tensor([[1, 2], [3, 4]]), 1, 0)
    tensor([1, 3])
    """
    _check_tensor(input, "select")
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(shape), "select")
    i = int(index)
    if not -shape[d] <= i < shape[d]:
        raise IndexError(f"select(): index {i} out of range for tensor of size {list(shape)} at "
                         f"dimension {d}")
    return _getitem(input, (slice(None),) * d + (i,))


def unbind(input, dim=0):
    """All slices along ``dim`` (views), as a tuple.

    >>> import chainrule
    >>> chainrule.unbind(chainrule.tensor([[1, 2], [3, 4]]), 1)
    (tensor([1, 3]), tensor([2, 4]))
    """
    _check_tensor(input, "unbind")
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, input._data.ndim, "unbind")
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


def narrow(input, dim, start, length):
    """``length`` elements from ``start`` along ``dim`` (a view).

    >>> import chainrule
    >>> chainrule.narrow(chainrule.arange(6), 0, 2, 3)
    tensor([2, 3, 4])
    """
    _check_tensor(input, "narrow")
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, len(shape), "narrow")
    n = shape[d]
    start = int(start._data) if isinstance(start, Tensor) else int(start)
    length = int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but "
                         f"got {start})")
    if start < 0:
        start += n
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({n}).")
    return _slice_dim(input, d, start, start + length)


def _diag_dims(nd, offset, dim1, dim2, op):
    d1, d2 = _wrap_dim(dim1, nd, op), _wrap_dim(dim2, nd, op)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return int(offset), d1, d2


def _diag_view(a, offset, d1, d2):
    """The writable strided view of a's diagonal (NumPy's np.diagonal is read-only)."""
    b = np.moveaxis(a, (d1, d2), (-2, -1))
    b = b[..., :, offset:] if offset >= 0 else b[..., -offset:, :]
    k = min(b.shape[-2], b.shape[-1])
    st = b.strides
    return np.lib.stride_tricks.as_strided(b, b.shape[:-2] + (k,), st[:-2] + (st[-2] + st[-1],),
                                           writeable=a.flags.writeable)


class Diagonal(Op):
    @staticmethod
    def forward(ctx, a, offset, d1, d2):
        ctx.info = (a.shape, offset, d1, d2)
        return _diag_view(a, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        shape, offset, d1, d2 = ctx.info
        return _xp.call(DiagEmbed, g, shape, offset, d1, d2), None, None, None


class DiagEmbed(Op):
    """zeros(shape) with ``g`` written on the diagonal (offset, d1, d2): Diagonal's adjoint."""

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        ctx.info = (offset, d1, d2)
        z = np.zeros(shape, g.dtype)
        _diag_view(z, offset, d1, d2)[...] = g
        return z

    @staticmethod
    def backward(ctx, gg):
        offset, d1, d2 = ctx.info
        return _xp.call(Diagonal, gg, offset, d1, d2), None, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal over dims (dim1, dim2), shifted by ``offset``, as a last dim (a view).

    >>> import chainrule
    >>> chainrule.diagonal(chainrule.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    _check_tensor(input, "diagonal")
    off, d1, d2 = _diag_dims(input._data.ndim, offset, dim1, dim2, "diagonal")
    out = Diagonal.apply(input, off, d1, d2)
    return _as_view(out, input, lambda b: diagonal(b, off, d1, d2) if isinstance(b, Tensor)
                    else _diag_view(b, off, d1, d2))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals over (dim1, dim2) hold the last dim of ``input`` (zeros
    elsewhere).

    >>> import chainrule
    >>> chainrule.diag_embed(chainrule.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    """
    _check_tensor(input, "diag_embed")
    s = input._data.shape
    off, d1, d2 = _diag_dims(len(s) + 1, offset, dim1, dim2, "diag_embed")
    n = (s[-1] if s else 1) + abs(off)
    rest = list(s[:-1])
    lo, hi = sorted((d1, d2))
    rest.insert(lo, n)
    rest.insert(hi, n)
    x = input if s else reshape(input, 1)
    return DiagEmbed.apply(x, tuple(rest), off, d1, d2)


def diag(input, diagonal=0):
    """A 1-D tensor's square diagonal matrix, or a 2-D tensor's diagonal (a copy).

    >>> import chainrule
    >>> chainrule.diag(chainrule.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    """
    _check_tensor(input, "diag")
    nd = input._data.ndim
    if nd == 1:
        return diag_embed(input, diagonal, 0, 1)
    if nd == 2:
        return Clone.apply(globals()["diagonal"](input, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")


def _tri(input, k, lower, op):
    _check_tensor(input, op)
    s = input._data.shape
    if len(s) < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions")
    n, m = s[-2:]
    mask = np.tri(n, m, int(k), bool) if lower else ~np.tri(n, m, int(k) - 1, bool)
    return _E.where(_make(mask), input, _make(np.zeros((), input._data.dtype)))


def tril(input, diagonal=0, *, out=None):
    """The lower triangle (j <= i + diagonal) of the last two dims; zeros elsewhere.

    >>> import chainrule
    >>> chainrule.tril(chainrule.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return _tri(input, diagonal, True, "tril")


def triu(input, diagonal=0, *, out=None):
    """The upper triangle (j >= i + diagonal) of the last two dims; zeros elsewhere.

    >>> import chainrule
    >>> chainrule.triu(chainrule.ones(2, 2))
    tensor([[1., 1.],
            [0., 1.]])
    """
    return _tri(input, diagonal, False, "triu")


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors ('ij' indexing by default; 'xy' swaps the first two
    dims). The grids are broadcast views.

    >>> import chainrule
    >>> a, b = chainrule.meshgrid(chainrule.tensor([1, 2]), chainrule.tensor([3, 4, 5]),
    ...                           indexing="ij")
    >>> a.shape, b[0].tolist()
    (chainrule.Size([2, 3]), [3, 4, 5])
    """
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else list(tensors)
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        _check_tensor(t, "meshgrid")
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but "
                               f"got a tensor of shape {list(t.shape)}")
    if any(t._data.dtype != ts[0]._data.dtype for t in ts):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    sizes = [t._data.size for t in ts]
    pos = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * len(ts)
    for i, p in enumerate(pos):
        shape[p] = sizes[i]
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[pos[i]] = sizes[i]
        out.append(expand(reshape(t, tuple(s)), tuple(shape)))
    return tuple(out)


def broadcast_shapes(*shapes):
    """The shape that all ``shapes`` broadcast to.

    >>> import chainrule
    >>> chainrule.broadcast_shapes((3, 1), (4,))
    chainrule.Size([3, 4])
    """
    from .._tensor import Size
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape; "
                           f"got {[list(s) for s in shapes]}") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (views).

    >>> import chainrule
    >>> [t.shape for t in chainrule.broadcast_tensors(chainrule.ones(3, 1), chainrule.ones(4))]
    [chainrule.Size([3, 4]), chainrule.Size([3, 4])]
    """
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else list(tensors)
    for t in ts:
        _check_tensor(t, "broadcast_tensors")
    shape = tuple(broadcast_shapes(*[t._data.shape for t in ts]))
    return tuple(expand(t, shape) for t in ts)
