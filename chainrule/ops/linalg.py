"""Matrix products: one MatMul primitive (batched, broadcast, matrix-vector and
vector-matrix); the other 1-D cases are reshapes."""
import numpy as np

from .._tensor import Tensor
from ..autograd.function import Op
from . import _xp

__all__ = ["matmul", "mm", "bmm", "mv", "dot"]


class MatMul(Op):
    """a @ b for operands with >= 2 dims, or a matrix and a vector (either order); batch
    broadcasting is undone by the engine."""

    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad
        ctx.save_for_backward(b if n[0] else None, a if n[1] else None)
        ctx.vec = 2 if b.ndim == 1 else (1 if a.ndim == 1 else 0)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        vec = ctx.vec
        if vec == 2:        # (m, n) @ (n,): d a = outer(g, b), d b = g a
            ga = _xp.reshape(g, (-1, 1)) * b if b is not None else None
            gb = _mm(g, a) if a is not None else None
        elif vec == 1:      # (k,) @ (k, n): d a = b g, d b = outer(a, g)
            ga = _mm(b, g) if b is not None else None
            gb = _xp.reshape(a, (-1, 1)) * g if a is not None else None
        else:
            ga = _mm(g, _xp.swap_last(b)) if b is not None else None
            gb = _mm(_xp.swap_last(a), g) if a is not None else None
        return ga, gb


def _mm(x, y):
    """x @ y inside a backward rule: the operands are valid by construction (they come from a
    successful forward), so Tensors go to the primitive without matmul's checks."""
    if type(x) is np.ndarray and type(y) is np.ndarray:
        return x @ y
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x))
    if not isinstance(y, Tensor):
        y = Tensor._make(np.asarray(y))
    return MatMul.apply(x, y)


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
    if len(sa) >= 2 and len(sb) >= 2 or len(sa) + len(sb) == 3:
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
from collections import Counter

from .. import _linalg_np as _lnp
from .. import dtypes as _dtypes
from .._tensor import _wrap_dim
from .index import _ret, getitem

__all__ += ["einsum", "tensordot", "outer", "ger", "inner", "kron", "cross", "trace", "det",
            "logdet", "slogdet", "inverse", "cholesky", "qr", "svd", "pinverse",
            "matrix_power", "matrix_exp"]

_DT_NAMES = _dtypes.SCALAR_NAMES


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input: a singular matrix, or one that is not
    positive-definite (torch.linalg.LinAlgError).

    >>> import chainrule
    >>> issubclass(chainrule.linalg.LinAlgError, RuntimeError)
    True
    """


def _swap(x):
    return _xp.swap_last(x)


def _const(a, like):
    """A constant array as an operand next to ``like`` (a Tensor when like is one)."""
    return Tensor._make(a) if _xp.is_t(like) else a


def _eye(k, like):
    return np.eye(k, dtype=_xp.dtype_of(like))


# -- einsum ----------------------------------------------------------------------------------
class Einsum(Op):
    """np.einsum on an explicit equation (letters only; '->' always given)."""

    @staticmethod
    def forward(ctx, eq, *ops):
        if ctx.needs_input_grad:
            ctx.save_for_backward(*ops)
            ctx.eq = eq
            ctx.sizes = {ch: s for sub, o in zip(eq.split("->")[0].split(","), ops)
                         for ch, s in zip(sub, np.shape(o))}
        return np.einsum(eq, *ops, optimize=len(ops) > 1)

    @staticmethod
    def backward(ctx, g):
        ops = ctx.saved_tensors
        ins, out = ctx.eq.split("->")
        ins = ins.split(",")
        sizes = ctx.sizes
        grads = [None]
        for i, sub in enumerate(ins):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(ins) if j != i]
            avail = set(out).union(*others)
            uniq = "".join(dict.fromkeys(sub))
            keep = "".join(ch for ch in uniq if ch in avail)
            r = _xp.call(Einsum, ",".join([out] + others) + "->" + keep, g,
                         *[o for j, o in enumerate(ops) if j != i])
            if keep != uniq:
                # letters summed in this operand alone: the gradient is constant along them
                r = _xp.reshape(r, tuple(sizes[ch] if ch in keep else 1 for ch in uniq))
                r = _xp.expand(r, tuple(sizes[ch] for ch in uniq))
            if len(uniq) != len(sub):
                r = _diag_embed(r, uniq, sub, sizes, set(ctx.eq))
            grads.append(r)
        return tuple(grads)


def _diag_embed(r, uniq, sub, sizes, used):
    """r labelled by uniq -> an array labelled by sub (repeated letters on the diagonal)."""
    fresh = iter(ch for ch in _LETTERS if ch not in used)
    seen, target, eyes, labels = set(), "", [], []
    for ch in sub:
        if ch in seen:
            new = next(fresh)
            target += new
            eyes.append(_eye(sizes[ch], r))
            labels.append(ch + new)
        else:
            seen.add(ch)
            target += ch
    return _xp.call(Einsum, ",".join([uniq] + labels) + "->" + target, r, *eyes)


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_eq(args):
    """einsum(op0, sub0, op1, sub1, ..., [out]) -> (equation, operands)."""
    def lab(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[s] for s in sub)
    ops, subs = list(args[0::2]), [lab(s) for s in args[1::2]]
    if len(args) % 2:
        ops = ops[:-1] if not isinstance(ops[-1], Tensor) else ops
    out = lab(args[-1]) if len(args) % 2 and not isinstance(args[-1], Tensor) else None
    eq = ",".join(subs[:len(ops)]) + ("->" + out if out is not None else "")
    return eq, ops


def _parse_einsum(eq, ops):
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    for k, ch in enumerate(eq):
        if not (ch.isalpha() and ch.isascii() or ch in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {k} in the equation "
                               f"string, subscripts must be in [a-zA-Z]")
    if len(terms) != len(ops):
        which = "more" if len(ops) > len(terms) else "fewer"
        raise RuntimeError(f"einsum(): {which} operands were provided than specified in the "
                           f"equation ({len(ops)} operands, {len(terms)} terms)")
    ell_nd, nells = 0, []
    for i, (t, o) in enumerate(zip(terms, ops)):
        nd = o._data.ndim
        nlab = len(t.replace("...", ""))
        if t.count("...") > 1 or t.replace("...", "").count(".") or (
                "." in rhs and rhs.count("...") != 1):
            raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any "
                               "ellipsis")
        if "..." in t:
            if nlab > nd:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({nlab})"
                                   f" is more than the number of dimensions ({nd}) for operand "
                                   f"{i}")
            nells.append(nd - nlab)
        else:
            if nlab != nd:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({nlab})"
                                   f" does not match the number of dimensions ({nd}) for "
                                   f"operand {i} and no ellipsis was given")
            nells.append(0)
        ell_nd = max(ell_nd, nells[-1])
    used = set(ch for ch in eq if ch.isalpha())
    fresh = "".join(ch for ch in _LETTERS if ch not in used)
    if len(fresh) < ell_nd:
        raise RuntimeError("einsum(): too many dimensions for the available subscripts")
    ell = fresh[:ell_nd]
    subs = [t.replace("...", ell[ell_nd - k:]) for t, k in zip(terms, nells)]
    if arrow:
        if "..." in rhs and not any("..." in t for t in terms):
            ell_out = ""
        else:
            ell_out = ell
        out = rhs.replace("...", ell_out)
        labels = rhs.replace("...", "")
        for ch in labels:
            if labels.count(ch) > 1:
                raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in "
                                   "the output")
            if ch not in lhs:
                raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the "
                                   "equation for any input operand")
    else:
        counts = Counter(lhs.replace(".", "").replace(",", ""))
        out = ell + "".join(sorted(ch for ch, n in counts.items() if n == 1))
    return subs, out


def einsum(*args):
    """Sum of products over the indices given in Einstein notation: any subscripts, repeated
    indices ('ii->i', 'ii'), implicit output, '...' for broadcast dims, or the sublist form.

    >>> import chainrule
    >>> a = chainrule.arange(6.0).reshape(2, 3)
    >>> chainrule.einsum("ij,kj->ik", a, a)
    tensor([[ 5., 14.],
            [14., 50.]])
    >>> chainrule.einsum("ii", chainrule.eye(3))
    tensor(3.)
    """
    if args and isinstance(args[0], str):
        eq, ops = args[0], list(args[1:])
        if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
            ops = list(ops[0])
    elif args and isinstance(args[0], Tensor):
        eq, ops = _sublist_eq(args)
    else:
        raise TypeError("einsum(): must specify the equation string and at least one operand, "
                        "or at least one operand and its subscripts list")
    for i, o in enumerate(ops):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(o).__name__}")
    if not ops:
        raise RuntimeError("einsum(): must provide at least one operand")
    dt = ops[0]._data.dtype
    for o in ops[1:]:
        if o._data.dtype != dt:
            raise RuntimeError(f"expected scalar type {_DT_NAMES[ops[0].dtype.name]} but found "
                               f"{_DT_NAMES[o.dtype.name]}")
    subs, out = _parse_einsum(eq, ops)
    sizes = {}
    for i, (s, o) in enumerate(zip(subs, ops)):
        mine = {}
        for ch, n in zip(s, o._data.shape):
            if ch in mine and mine[ch] != n:
                raise RuntimeError(f"einsum(): subscript {ch} is repeated for operand {i} but "
                                   f"the sizes don't match, {mine[ch]} != {n}")
            mine[ch] = n
            prev = sizes.get(ch, 1)
            if prev != n and prev != 1 and n != 1:
                raise RuntimeError(f"einsum(): subscript {ch} has size {n} for operand {i} which "
                                   f"does not broadcast with previously seen size {prev}")
            sizes[ch] = max(prev, n) if prev != 1 or ch in sizes else n
    # size-1 dims broadcast: expand them first (the expand's backward sums)
    ops = [o.expand(*[sizes[ch] for ch in s]) if any(
        n != sizes[ch] for ch, n in zip(s, o._data.shape)) else o for s, o in zip(subs, ops)]
    return Einsum.apply(",".join(subs) + "->" + out, *ops)


# -- products built from matmul / einsum (composites) ----------------------------------------
def _need_tensor(x, op, name, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                        f"{type(x).__name__}")


def tensordot(a, b, dims=2, out=None):
    """Contract the last ``dims`` dims of a with the first of b, or the dim lists
    ``dims=([...], [...])``.

    >>> import chainrule
    >>> chainrule.tensordot(chainrule.ones(2, 3, 4), chainrule.ones(3, 4, 5)).shape
    chainrule.Size([2, 5])
    """
    _need_tensor(a, "tensordot", "a", 1)
    _need_tensor(b, "tensordot", "b", 2)
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
        if len(da) != len(db):
            raise RuntimeError(f"both dimension lists should have same length, got {len(da)} "
                               f"and {len(db)}")
        da = [_wrap_dim(d, na, "tensordot") for d in da]
        db = [_wrap_dim(d, nb, "tensordot") for d in db]
    sa, sb = a._data.shape, b._data.shape
    for x, y in zip(da, db):
        if sa[x] != sb[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[x]}"
                               f" in dim {x} and second has size {sb[y]} in dim {y}")
    fa = [d for d in range(na) if d not in da]
    fb = [d for d in range(nb) if d not in db]
    ka = int(np.prod([sa[d] for d in da]))
    a2 = a.permute(*(fa + da)).reshape(int(np.prod([sa[d] for d in fa])), ka)
    b2 = b.permute(*(db + fb)).reshape(ka, int(np.prod([sb[d] for d in fb])))
    return matmul(a2, b2).reshape(*([sa[d] for d in fa] + [sb[d] for d in fb]))


def outer(input, vec2):
    """Outer product of two 1-D tensors.

    >>> import chainrule
    >>> chainrule.outer(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 0.0, -1.0]))
    tensor([[ 1.,  0., -1.],
            [ 2.,  0., -2.]])
    """
    _need_tensor(input, "outer", "input", 1)
    _need_tensor(vec2, "outer", "vec2", 2)
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got "
                               f"{t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def inner(input, other):
    """Sum of products over the last dims (a plain product if either is 0-d).

    >>> import chainrule
    >>> chainrule.inner(chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0]))
    tensor(11.)
    """
    _need_tensor(input, "inner", "input", 1)
    _need_tensor(other, "inner", "other", 2)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


def kron(input, other):
    """Kronecker product (blocks ``input[i, j] * other``), for any number of dims.

    >>> import chainrule
    >>> chainrule.kron(chainrule.eye(2), chainrule.ones(1, 2))
    tensor([[1., 1., 0., 0.],
            [0., 0., 1., 1.]])
    """
    _need_tensor(input, "kron", "input", 1)
    _need_tensor(other, "kron", "other", 2)
    nd = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    ar = input.reshape(*[v for s in sa for v in (s, 1)])
    br = other.reshape(*[v for s in sb for v in (1, s)])
    return (ar * br).reshape(*[x * y for x, y in zip(sa, sb)])


def _cross(input, other, dim, op):
    _need_tensor(input, op, "input", 1)
    _need_tensor(other, op, "other", 2)
    try:
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the shapes {list(input.shape)} and {list(other.shape)} "
                           "cannot be broadcast") from None
    if len(input._data.shape) != len(other._data.shape):
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions.")
    if dim is None:
        found = [k for k, s in enumerate(shape) if s == 3]
        if not found:
            raise RuntimeError(f"{op}: no dimension of size 3 in input")
        dim = found[0]
    d = _wrap_dim(dim, len(shape), op)
    sa = input._data.shape[d - len(shape) + input._data.ndim] if input._data.ndim else None
    sb = other._data.shape[d - len(shape) + other._data.ndim] if other._data.ndim else None
    if sa != 3 or sb != 3:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got {sa} and {sb}")
    a = input.expand(*shape) if input._data.shape != shape else input
    b = other.expand(*shape) if other._data.shape != shape else other

    def roll(x, k):
        return getitem(x, (slice(None),) * d + (np.roll(np.arange(3), -k),))
    return roll(a, 1) * roll(b, 2) - roll(a, 2) * roll(b, 1)


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (default: the first dim of size 3).

    >>> import chainrule
    >>> chainrule.cross(chainrule.tensor([1.0, 0.0, 0.0]), chainrule.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    return _cross(input, other, dim, "cross")


def trace(input):
    """Sum of the diagonal of a 2-D tensor (integers sum to int64).

    >>> import chainrule
    >>> chainrule.trace(chainrule.arange(9.0).reshape(3, 3))
    tensor(12.)
    """
    _need_tensor(input, "trace", "input", 1)
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                           f"{input._data.ndim}")
    k = np.arange(min(input._data.shape))
    return getitem(input, (k, k)).sum()


# -- linear-algebra primitives ---------------------------------------------------------------
def _square(A, op):
    _need_tensor(A, op, "A", 1)
    _floating(A, op)
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    m, n = A._data.shape[-2:]
    if m != n:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are {m} by "
                           f"{n} matrices")


def _floating(A, op):
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_DT_NAMES[A.dtype.name]}")


def _matrix(A, op):
    _need_tensor(A, op, "A", 1)
    _floating(A, op)
    if A._data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")


class Inv(Op):
    @staticmethod
    def forward(ctx, a):
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.inv: The diagonal element is zero, the inversion could "
                              "not be completed because the input matrix is singular.") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        ot = _swap(out)
        return -(ot @ g @ ot)


class Det(Op):
    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        raw = a._data if _xp.is_t(a) else a
        s = np.linalg.svd(raw, compute_uv=False)
        if np.all(s[..., -1] > s[..., 0] * 1e-10):
            return (g * out)[..., None, None] * _swap(_xp.call(Inv, a))
        # NOTE: (nearly) singular matrices: the gradient is the cofactor matrix
        # det(U Vh) U diag(prod_{j != i} s_j) Vh, exact for any rank; differentiable again
        # through the SVD where the singular values are distinct
        return g[..., None, None] * _cofactor(a)


def _cofactor(a):
    u, s, vh = _xp.call(Svd, a, False)
    k = s.shape[-1]
    raw = (u._data, vh._data) if _xp.is_t(u) else (u, vh)
    sign = np.asarray(np.linalg.det(raw[0]) * np.linalg.det(raw[1]))[..., None, None]
    eye = np.eye(k, dtype=bool)
    others = _xp.where(eye, 1.0, _xp.expand(s[..., None, :], tuple(s.shape) + (k,)))
    p = others.prod(-1) if _xp.is_t(others) else np.prod(others, -1)
    return ((u * p[..., None, :]) @ vh) * sign


class Slogdet(Op):
    @staticmethod
    def forward(ctx, a):
        sign, logabs = np.linalg.slogdet(a)
        sign, logabs = np.asarray(sign), np.asarray(logabs)
        ctx.save_for_backward(a)
        return sign, logabs        # sign is piecewise constant: it passes no gradient

    @staticmethod
    def backward(ctx, gsign, glog):
        a, = ctx.saved_tensors
        return glog[..., None, None] * _swap(_xp.call(Inv, a))


class Solve(Op):
    """X with A X = B (B a batch of matrices; batch dims broadcast)."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix "
                              "is singular.") from None
        n = ctx.needs_input_grad
        ctx.save_for_backward(a, x if n[0] else None)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = _xp.call(Solve, _swap(a), g)
        ga = -(gb @ _swap(x)) if ctx.needs_input_grad[0] else None
        return ga, gb

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        # np.linalg.solve maps over (and broadcasts) leading dims: align them, solve once
        from ..autograd._vmap_rules import _leading
        return _leading(cls, args, bat, kwargs, B)


def _tril_mask(k, dtype, diag=1.0):
    m = np.tril(np.ones((k, k), dtype), -1)
    m[np.diag_indices(k)] = diag
    return m


class Cholesky(Op):
    @staticmethod
    def forward(ctx, a):
        try:
            out = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite (the leading minor "
                              f"of order {_bad_minor(a)} is not positive-definite).") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # NOTE: gA = L^-T Phi(L^T gL) L^-1, symmetrised; Phi keeps the lower triangle with
        # the diagonal halved; only gL's lower triangle is read (L's upper part is zero)
        L, = ctx.saved_tensors
        k = L.shape[-1]
        dt = _xp.dtype_of(L)
        p = (_swap(L) @ (g * _tril_mask(k, dt))) * _tril_mask(k, dt, 0.5)
        y = _xp.call(Solve, _swap(L), p)
        ga = _swap(_xp.call(Solve, _swap(L), _swap(y)))
        return (ga + _swap(ga)) * 0.5


def _bad_minor(a):
    a2 = a.reshape(-1, *a.shape[-2:])
    for k in range(1, a.shape[-1] + 1):
        for m in a2:
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return k
    return a.shape[-1]


class Qr(Op):
    @staticmethod
    def forward(ctx, a, mode):
        q, r = np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        ctx.mode = mode
        ctx.save_for_backward(q, r)
        return (q if mode != "r" else np.zeros((0,), a.dtype)), r

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_back(q, r, gq, gr), None
        # wide A = [X | Y]: X = Q R1 is square; Y = Q R2
        r1, r2, gr1, gr2 = r[..., :, :m], r[..., :, m:], gr[..., :, :m], gr[..., :, m:]
        gx = _qr_back(q, r1, gq + (q @ r2) @ _swap(gr2), gr1)
        gy = q @ gr2
        dt = _xp.dtype_of(q)
        e1, e2 = _const(np.eye(m, n, dtype=dt), q), _const(np.eye(n - m, n, m, dtype=dt), q)
        return gx @ e1 + gy @ e2, None


def _qr_back(q, r, gq, gr):
    """Adjoint of A = QR for a tall or square A (R square, invertible)."""
    k = r.shape[-1]
    dt = _xp.dtype_of(r)
    mm = r @ _swap(gr) - _swap(gq) @ q
    low = mm * np.tril(np.ones((k, k), dt), -1)
    sym = low + _swap(low) + mm * np.eye(k, dtype=dt)
    b = gq + q @ sym
    return _swap(_xp.call(Solve, r, _swap(b)))


class _NoneGrads:
    """Mixin for a multi-output primitive whose backward is told which outputs got no gradient
    (None), so it can skip terms (svd, eigh: their vector terms are singular at repeated
    values)."""
    __slots__ = ()

    def _backward(self, grads):
        return type(self).backward(self, *grads)


class Svd(_NoneGrads, Op):
    @staticmethod
    def forward(ctx, a, full):
        u, s, vh = np.linalg.svd(a, full_matrices=full)
        ctx.full = full
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        m, n = u.shape[-2], vh.shape[-1]
        k = s.shape[-1]
        if ctx.full:
            u, vh = u[..., :, :k], vh[..., :k, :]
            gu = gu[..., :, :k] if gu is not None else None
            gvh = gvh[..., :k, :] if gvh is not None else None
        eye = _eye(k, s)
        inner = 0.0
        if gs is not None:
            inner = gs[..., :, None] * eye
        if gu is None and gvh is None:
            return (u @ inner @ vh if gs is not None else None), None
        s2 = s * s
        with np.errstate(divide="ignore", invalid="ignore"):
            # NOTE: F_ij = 1 / (s_j^2 - s_i^2): infinite at repeated singular values, as torch
            f = (1 - eye) / (s2[..., None, :] - s2[..., :, None] + eye)
            ga = 0.0
            if gu is not None:
                utg = _swap(u) @ gu
                inner = inner + f * (utg - _swap(utg)) * s[..., None, :]
                if m > k:
                    ga = ga + ((gu - u @ utg) / s[..., None, :]) @ vh
            if gvh is not None:
                vtg = vh @ _swap(gvh)
                inner = inner + s[..., :, None] * (f * (vtg - _swap(vtg)))
                if n > k:
                    ga = ga + u @ ((gvh - (gvh @ _swap(vh)) @ vh) / s[..., :, None])
            return ga + u @ inner @ vh, None


class Eigh(_NoneGrads, Op):
    @staticmethod
    def forward(ctx, a, uplo):
        w, q = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, q)
        return w, q

    @staticmethod
    def backward(ctx, gw, gq):
        w, q = ctx.saved_tensors
        k = w.shape[-1]
        eye = _eye(k, w)
        inner = gw[..., :, None] * eye if gw is not None else 0.0
        if gq is not None:
            x = _swap(q) @ gq
            with np.errstate(divide="ignore", invalid="ignore"):
                # NOTE: 1 / (w_j - w_i): infinite at repeated eigenvalues, as torch
                f = (1 - eye) / (w[..., None, :] - w[..., :, None] + eye)
                inner = inner + f * (x - _swap(x)) * 0.5
        if gw is None and gq is None:
            return None, None
        return q @ inner @ _swap(q), None


class Pinv(Op):
    """Moore-Penrose pseudo-inverse with singular values <= max(atol, rtol * s_max) dropped;
    the adjoint holds where the rank is locally constant."""

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        if hermitian:
            w, q = np.linalg.eigh(a)
            aw = np.abs(w)
            cut = np.maximum(atol, rtol * aw.max(-1, initial=0.0))[..., None]
            with np.errstate(divide="ignore"):
                iw = np.where(aw > cut, 1.0 / w, 0.0).astype(a.dtype)
            p = (q * iw[..., None, :]) @ np.swapaxes(q, -1, -2)
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            cut = np.maximum(atol, rtol * s.max(-1, initial=0.0))[..., None]
            with np.errstate(divide="ignore"):
                si = np.where(s > cut, 1.0 / s, 0.0).astype(a.dtype)
            p = np.swapaxes(vh, -1, -2) * si[..., None, :] @ np.swapaxes(u, -1, -2)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        pt, gt = _swap(p), _swap(g)
        # NOTE: -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A), without forming I
        t2 = gt @ (p @ pt)
        t3 = (pt @ p) @ gt
        return -(pt @ g @ pt) + t2 - a @ (p @ t2) + t3 - (t3 @ p) @ a


class MatrixExp(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(_lnp.expm(a), dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        # NOTE: the adjoint is the Frechet derivative at A^T in direction g: the top-right
        # block of exp([[A^T, g], [0, A^T]])
        a, = ctx.saved_tensors
        n = a.shape[-1]
        at = _swap(a)
        dt = _xp.dtype_of(a)
        block = _kron2(np.eye(2, dtype=dt), at) + _kron2(np.array([[0, 1], [0, 0]], dt), g)
        return _xp.call(MatrixExp, block)[..., :n, n:]


def _kron2(e, x):
    """kron(e, x) for a constant 2x2 e and a batch of n x n matrices x."""
    n = x.shape[-1]
    y = x[..., None, :, None, :] * e[:, None, :, None]
    return _xp.reshape(y, tuple(y.shape[:-4]) + (2 * n, 2 * n))


# -- public linear algebra -------------------------------------------------------------------
_slogdet_t = _ret("slogdet", ["sign", "logabsdet"])
_lslogdet_t = _ret("linalg_slogdet", ["sign", "logabsdet"])
_qr_t = _ret("qr", ["Q", "R"])
_lqr_t = _ret("linalg_qr", ["Q", "R"])
_svd_t = _ret("svd", ["U", "S", "V"])
_lsvd_t = _ret("linalg_svd", ["U", "S", "Vh"])
_eigh_t = _ret("linalg_eigh", ["eigenvalues", "eigenvectors"])
_lstsq_t = _ret("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])
_inv_ex_t = _ret("linalg_inv_ex", ["inverse", "info"])
_chol_ex_t = _ret("linalg_cholesky_ex", ["L", "info"])
_solve_ex_t = _ret("linalg_solve_ex", ["result", "info"])


def _inv(A):
    _square(A, "linalg.inv")
    return Inv.apply(A)


def det(A):
    """Determinant of a square matrix (or a batch); singular matrices get the cofactor
    matrix as gradient.

    >>> import chainrule
    >>> chainrule.det(chainrule.tensor([[2.0, 1.0], [1.0, 3.0]]))
    tensor(5.)
    """
    _square(A, "linalg.det")
    return Det.apply(A)


def slogdet(A):
    """(sign, log|det|) of a square matrix, a named tuple; only log|det| has a gradient.

    >>> import chainrule
    >>> chainrule.slogdet(chainrule.tensor([[-2.0, 0.0], [0.0, 1.0]])).sign
    tensor(-1.)
    """
    _square(A, "linalg.slogdet")
    return _slogdet_t(*Slogdet.apply(A))


def logdet(input):
    """log(det(input)): nan for a negative determinant, -inf for zero.

    >>> import chainrule
    >>> chainrule.logdet(chainrule.eye(2) * 2)
    tensor(1.3863)
    """
    _square(input, "logdet")
    sign, logabs = Slogdet.apply(input)
    with np.errstate(divide="ignore", invalid="ignore"):
        return logabs + Tensor._make(np.log(sign._data))


def inverse(input):
    """The inverse of a square matrix (``linalg.inv``).

    >>> import chainrule
    >>> chainrule.inverse(chainrule.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return _inv(input)


def cholesky(input, upper=False):
    """Cholesky factor of a symmetric positive-definite matrix (``linalg.cholesky``).

    >>> import chainrule
    >>> chainrule.cholesky(chainrule.tensor([[4.0, 2.0], [2.0, 5.0]]))
    tensor([[2., 0.],
            [1., 2.]])
    """
    _square(input, "linalg.cholesky")
    L = Cholesky.apply(input)
    return L.mT if upper else L


def _qr(A, mode, op):
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    _matrix(A, op)
    return Qr.apply(A, mode)


def qr(input, some=True):
    """QR factorisation (``some=False``: complete Q); a named tuple (Q, R).

    >>> import chainrule
    >>> q, r = chainrule.qr(chainrule.tensor([[3.0, 0.0], [4.0, 5.0]]))
    >>> chainrule.allclose(q @ r, chainrule.tensor([[3.0, 0.0], [4.0, 5.0]]), atol=1e-6)
    True
    """
    return _qr_t(*_qr(input, "reduced" if some else "complete", "qr"))


def svd(input, some=True, compute_uv=True):
    """Singular value decomposition ``input = U diag(S) V^T`` as (U, S, V) (torch.svd's
    convention; see linalg.svd for Vh).

    >>> import chainrule
    >>> chainrule.svd(chainrule.tensor([[3.0, 0.0], [0.0, -2.0]])).S
    tensor([3., 2.])
    """
    _matrix(input, "svd")
    if not compute_uv:
        s = Svd.apply(input, False)[1]
        m, n = input._data.shape[-2:]
        z = input._data.dtype
        bt = input._data.shape[:-2]
        return _svd_t(Tensor._make(np.zeros(bt + (m, m), z)), s,
                      Tensor._make(np.zeros(bt + (n, n), z)))
    u, s, vh = Svd.apply(input, not some)
    return _svd_t(u, s, vh.mT)


def _tols(A, atol, rtol, rcond=None):
    """(atol, rtol) with torch's defaults: rtol = eps * max(m, n) unless atol > 0 is given."""
    if rcond is not None:
        rtol = rcond
    a = 0.0 if atol is None else atol
    a = a._data if isinstance(a, Tensor) else a
    if rtol is None:
        m, n = A._data.shape[-2:]
        rtol = np.finfo(A._data.dtype).eps * max(m, n) if atol is None or np.all(
            np.asarray(a) <= 0) else 0.0
    r = rtol._data if isinstance(rtol, Tensor) else rtol
    return np.asarray(a, A._data.dtype), np.asarray(r, A._data.dtype)


def pinverse(input, rcond=1e-15):
    """Pseudo-inverse dropping singular values below ``rcond`` times the largest.

    >>> import chainrule
    >>> chainrule.pinverse(chainrule.tensor([[2.0, 0.0], [0.0, 0.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.0000]])
    """
    _matrix(input, "pinverse")
    return Pinv.apply(input, *_tols(input, None, rcond), False)


def matrix_power(input, n):
    """``input`` multiplied by itself ``n`` times (n < 0 uses the inverse; n = 0 gives I).

    >>> import chainrule
    >>> chainrule.matrix_power(chainrule.tensor([[1.0, 1.0], [0.0, 1.0]]), 3)
    tensor([[1., 3.],
            [0., 1.]])
    """
    _need_tensor(input, "matrix_power", "input", 1)
    if input._data.ndim < 2 or input._data.shape[-1] != input._data.shape[-2]:
        m, k = (input._data.shape[-2:] + (0, 0))[:2] if input._data.ndim >= 2 else (0, 0)
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {m} by {k} matrices")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        # the identity, still attached to the graph (with a zero gradient), as torch
        from .elementwise import where
        eye = Tensor._make(np.eye(input._data.shape[-1], dtype=input._data.dtype))
        return where(Tensor._make(np.ones(input._data.shape, bool)), eye, input)
    a = input
    if n < 0:
        _floating(input, "linalg.matrix_power")
        a, n = _inv(input), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


def matrix_exp(A):
    """The matrix exponential (a batch of square matrices).

    >>> import chainrule
    >>> chainrule.matrix_exp(chainrule.zeros(2, 2))
    tensor([[1., 0.],
            [0., 1.]])
    """
    _square(A, "linalg.matrix_exp")
    return MatrixExp.apply(A)


# -- BLAS-style fused forms (composites) ------------------------------------------------------
def _axpby(input, prod, beta, alpha):
    """beta * input + alpha * prod; beta = 0 ignores input (even its nan), as torch."""
    _need_tensor(input, "add", "input", 1)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        shape = np.broadcast_shapes(input._data.shape, prod._data.shape)
        return prod.expand(*shape) if prod._data.shape != shape else prod
    return (input if beta == 1 else input * beta) + prod


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2).

    >>> import chainrule
    >>> chainrule.addmm(chainrule.ones(2, 2), chainrule.eye(2), chainrule.eye(2), beta=2)
    tensor([[3., 2.],
            [2., 3.]])
    """
    return _axpby(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec).

    >>> import chainrule
    >>> chainrule.addmv(chainrule.ones(2), chainrule.eye(2), chainrule.ones(2))
    tensor([2., 2.])
    """
    return _axpby(input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2).

    >>> import chainrule
    >>> chainrule.addr(chainrule.zeros(2, 2), chainrule.ones(2), chainrule.ones(2))
    tensor([[1., 1.],
            [1., 1.]])
    """
    return _axpby(input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2).

    >>> import chainrule
    >>> chainrule.baddbmm(chainrule.zeros(1, 2, 2), chainrule.ones(1, 2, 3),
    ...                   chainrule.ones(1, 3, 2)).shape
    chainrule.Size([1, 2, 2])
    """
    return _axpby(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i].

    >>> import chainrule
    >>> chainrule.addbmm(chainrule.zeros(2, 2), chainrule.ones(3, 2, 1),
    ...                  chainrule.ones(3, 1, 2))
    tensor([[3., 3.],
            [3., 3.]])
    """
    return _axpby(input, bmm(batch1, batch2).sum(0), beta, alpha)


def vdot(input, other):
    """Dot product of two 1-D tensors (real: same as dot).

    >>> import chainrule
    >>> chainrule.vdot(chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0, 4.0]))
    tensor(11.)
    """
    return dot(input, other)


def chain_matmul(*matrices):
    """Product of a chain of matrices (``linalg.multi_dot``).

    >>> import chainrule
    >>> chainrule.chain_matmul(chainrule.eye(2), chainrule.ones(2, 3)).shape
    chainrule.Size([2, 3])
    """
    from ..linalg import multi_dot
    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(matrices)


def cholesky_solve(B, L, upper=False):
    """X with A X = B given the Cholesky factor L of A (``upper``: L is upper triangular).

    >>> import chainrule
    >>> L = chainrule.tensor([[2.0, 0.0], [1.0, 1.0]])
    >>> chainrule.cholesky_solve(chainrule.tensor([[4.0], [2.0]]), L)
    tensor([[1.],
            [0.]])
    """
    _matrix(L, "cholesky_solve")
    Lo = L.mT if upper else L
    return Solve.apply(Lo.mT, Solve.apply(Lo, B))


def cholesky_inverse(L, upper=False):
    """The inverse of A = L L^T from its Cholesky factor.

    >>> import chainrule
    >>> chainrule.cholesky_inverse(chainrule.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([[0.2500, 0.0000],
            [0.0000, 1.0000]])
    """
    _square(L, "cholesky_inverse")
    Lo = L.mT if upper else L
    return _inv(Lo @ Lo.mT)


__all__ += ["addmm", "addmv", "addr", "baddbmm", "addbmm", "vdot", "chain_matmul",
            "cholesky_solve", "cholesky_inverse"]


# -- LU -------------------------------------------------------------------------------------
class Lu(Op):
    """A = P L U with partial pivoting; P is a constant, L unit lower (m x k), U upper (k x n)."""

    @staticmethod
    def forward(ctx, a):
        p, low, up = _lnp.lu(a)
        p, low, up = p.astype(a.dtype), low.astype(a.dtype), up.astype(a.dtype)
        ctx.save_for_backward(p, low, up)
        ctx.mark_non_differentiable(p)
        return p, low, up

    @staticmethod
    def backward(ctx, gp, gl, gu):
        p, low, up = ctx.saved_tensors
        m, n = low.shape[-2], up.shape[-1]
        k = min(m, n)
        dt = _xp.dtype_of(low)
        if m < n:
            # wide: A = P L [U1 | U2]; U2 = L^-1 P^T A2 feeds back into gL
            u1, u2, gu1, gu2 = up[..., :, :k], up[..., :, k:], gu[..., :, :k], gu[..., :, k:]
            ga1 = _lu_square_back(p, low, u1, gl - _xp.call(Solve, _swap(low), gu2 @ _swap(u2)),
                                  gu1)
            ga2 = p @ _xp.call(Solve, _swap(low), gu2)
            return (ga1 @ _const(np.eye(k, n, dtype=dt), low) +
                    ga2 @ _const(np.eye(n - k, n, k, dtype=dt), low))
        if m > n:
            # tall: A = P [L1; L2] U; L2 = A2 U^-1 feeds back into gU
            l1, l2, gl1, gl2 = low[..., :k, :], low[..., k:, :], gl[..., :k, :], gl[..., k:, :]
            gu_eff = gu - _swap(_xp.call(Solve, up, _swap(gl2) @ l2))
            top = _lu_square_back(None, l1, up, gl1, gu_eff)
            bot = _swap(_xp.call(Solve, up, _swap(gl2)))
            stacked = (_const(np.eye(m, k, dtype=dt), low) @ top +
                       _const(np.eye(m, m - k, -k, dtype=dt), low) @ bot)
            return p @ stacked
        return _lu_square_back(p, low, up, gl, gu)


def _lu_square_back(p, low, up, gl, gu):
    """Adjoint of A = P L U for square L, U: P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T."""
    k = low.shape[-1]
    dt = _xp.dtype_of(low)
    phi = (_swap(low) @ gl) * np.tril(np.ones((k, k), dt), -1) + \
        (gu @ _swap(up)) * np.triu(np.ones((k, k), dt))
    x = _xp.call(Solve, _swap(low), phi)
    x = _swap(_xp.call(Solve, up, _swap(x)))
    return p @ x if p is not None else x


def _pivots_from_p(p, k):
    """The first k LAPACK-style 1-based row interchanges equivalent to the permutation p."""
    m = p.shape[-1]
    flat = p.reshape(-1, m, m)
    out = np.zeros((flat.shape[0], k), np.int32)
    for b, pm in enumerate(flat):
        perm = np.argmax(pm, axis=0)          # (P^T A)[i] = A[perm[i]]
        cur, pos = list(range(m)), list(range(m))
        for i in range(k):
            j = pos[perm[i]]
            out[b, i] = j + 1
            cur[i], cur[j] = cur[j], cur[i]
            pos[cur[i]], pos[cur[j]] = i, j
    return out.reshape(p.shape[:-2] + (k,))


def _p_from_pivots(piv, m, dtype):
    """The permutation matrix P (A = P L U) of 1-based LAPACK row interchanges."""
    flat = piv.reshape(-1, piv.shape[-1]).astype(np.int64) - 1
    out = np.zeros((flat.shape[0], m, m), dtype)
    for b, pv in enumerate(flat):
        perm = np.arange(m)
        for i, j in enumerate(pv):
            perm[i], perm[j] = perm[j], perm[i]
        out[b, perm, np.arange(m)] = 1
    return out.reshape(piv.shape[:-1] + (m, m))


def _lu_compact(low, up):
    """L - I + U in one m x n matrix (LAPACK's packed LU), differentiably."""
    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    dt = low._data.dtype
    lower = Tensor._make(np.tril(np.ones((m, n), dt), -1))
    upper = Tensor._make(np.triu(np.ones((m, n), dt)))
    lp = (low @ Tensor._make(np.eye(k, n, dtype=dt))) * lower
    up_ = (Tensor._make(np.eye(m, k, dtype=dt)) @ up) * upper
    return lp + up_


_lu_unpack_t = _ret("lu_unpack", ["P", "L", "U"])


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from a packed LU and its pivots (as linalg.lu_factor returns them).

    >>> import chainrule
    >>> LU, piv = chainrule.linalg.lu_factor(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]))
    >>> chainrule.lu_unpack(LU, piv).P
    tensor([[0., 1.],
            [1., 0.]])
    """
    _matrix(LU_data, "lu_unpack")
    m, n = LU_data._data.shape[-2:]
    k = min(m, n)
    dt = LU_data._data.dtype
    L = U = P = Tensor._make(np.zeros((0,), dt))
    if unpack_data:
        lmask = Tensor._make(np.tril(np.ones((m, k), dt), -1))
        L = LU_data[..., :, :k] * lmask + Tensor._make(np.eye(m, k, dtype=dt))
        U = LU_data[..., :k, :] * Tensor._make(np.triu(np.ones((k, n), dt)))
    if unpack_pivots:
        P = Tensor._make(_p_from_pivots(LU_pivots._data, m, dt))
    return _lu_unpack_t(P, L, U)


def lu_solve(b, LU_data, LU_pivots):
    """X with A X = b from A's packed LU (``linalg.lu_solve`` with the old argument order).

    >>> import chainrule
    >>> LU, piv = chainrule.linalg.lu_factor(chainrule.tensor([[2.0, 0.0], [0.0, 4.0]]))
    >>> chainrule.lu_solve(chainrule.tensor([[2.0], [4.0]]), LU, piv)
    tensor([[1.],
            [1.]])
    """
    from ..linalg import lu_solve as _ls
    return _ls(LU_data, LU_pivots, b)


def lu(A, pivot=True, get_infos=False):
    """(LU, pivots[, infos]) of ``linalg.lu_factor_ex`` (torch.lu's older form).

    >>> import chainrule
    >>> chainrule.lu(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]))[1]
    tensor([2, 2], dtype=chainrule.int32)
    """
    from ..linalg import lu_factor_ex
    r = lu_factor_ex(A, pivot=pivot)
    return (r.LU, r.pivots, r.info) if get_infos else (r.LU, r.pivots)


__all__ += ["lu_unpack", "lu_solve", "lu"]
