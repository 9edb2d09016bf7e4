"""torch.func-style transforms: grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian, vmap,
functional_call. Transforms compose (``jacfwd(jacrev(f))``, ``vmap(grad(f))``); Jacobians are
vectorised: one reverse (or forward) pass carries the whole basis through the rules as a batch.
"""
import functools

import numpy as np

from ._tensor import Tensor
from .autograd import _fwd_rules, _transforms as T
from .autograd._pytree import LEAF as _LEAF, Spec as _Spec, tree_flatten, tree_unflatten
from .autograd._vjp import (_external, make_inputs, missing_levels, new_token, release,
                             vjp_core)
from .autograd.grad_mode import _mode
from .ops import shape as S
from . import random as _random
from .autograd import forward_ad, functional  # noqa: F401  (chainrule.autograd.<name>)

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "linearize", "stack_module_state", "functionalize",
           "replace_all_batch_norm_modules_"]

_make = Tensor._make
_new = object.__new__
_LEAF1 = _Spec("tuple", None, (_LEAF,))      # one positional Tensor argument


# -- helpers ----------------------------------------------------------------------------------
def _argnums_tuple(argnums, nargs, fname):
    if isinstance(argnums, int):
        nums = (argnums,)
    elif isinstance(argnums, tuple) and all(isinstance(a, int) for a in argnums):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        nums = argnums
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise RuntimeError(f"Got argnum={a}, but only {nargs} positional inputs "
                               "(argnums out of range)")
        out.append(a % nargs)
    if len(set(out)) != len(out):
        raise RuntimeError(f"argnums elements must be unique, got {tuple(out)}")
    return tuple(out)


# how torch.func names the call in its messages (jacrev is a vjp, jacfwd a jvp)
_CALL = {"grad": "grad_and_value(f)(*args)", "grad_and_value": "grad_and_value(f)(*args)",
         "vjp": "vjp(f, *primals)", "jacrev": "vjp(f, *primals)",
         "jvp": "jvp(f, primals, tangents)", "jacfwd": "jvp(f, primals, tangents)"}


def _check_tensors(leaves, fname, what):
    for x in leaves:
        if not isinstance(x, Tensor):
            if what == "the outputs of f":
                raise RuntimeError(f"{_CALL.get(fname, fname)}: expected f(*primals) to return "
                                   f"only tensors, got unsupported type {type(x)}")
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")


def _split_aux(out, has_aux, fname):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{_CALL.get(fname, fname)}: output of function f should be a "
                           "tuple: (output, aux) if has_aux is True")
    aux = out[1]
    if not isinstance(aux, Tensor):
        for x in tree_flatten(aux)[0]:
            if not isinstance(x, Tensor):
                raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return out


def _levels_of(leaves):
    out = set()
    for x in leaves:
        if isinstance(x, Tensor):
            out.update(lv for lv in T.vlevels(x) if lv.active)
    return out


def _release_aux(aux, tok):
    """aux as the caller sees it: off this transform's handles (outer graphs stay)."""
    if isinstance(aux, Tensor):
        return release([aux], tok)[0]
    leaves, spec = tree_flatten(aux)
    return tree_unflatten(release(leaves, tok), spec)


def _trace(func, args, kwargs, argnums, has_aux, fname, lazy=False):
    """Run func with differentiable handles for args[argnums]; returns the pieces a vjp needs.
    ``lazy``: leave ``create`` None when only the graph can tell (vjp_core then decides while
    it walks it)."""
    if type(argnums) is int:
        nums = (argnums,)
        diff = (args[argnums],)
    else:
        nums = argnums if isinstance(argnums, tuple) else (argnums,)
        diff = tuple(args[i] for i in nums)
    if isinstance(argnums, int) and isinstance(diff[0], Tensor):
        flat_d, spec_d = list(diff), _LEAF1
    else:
        flat_d, spec_d = tree_flatten(diff)
        _check_tensors(flat_d, fname, "the differentiated inputs")
    # (the stack is one dual level, _SOLE's case, for a jacfwd over this transform: no vmap)
    vmapped = T.active_vmap_levels() if T.STACK and T._SOLE[0] is None else None
    levels = _levels_of(tree_flatten(args)[0]) if vmapped else ()
    tok = new_token()
    for _ in range(2):
        quiet, T.QUIET[0] = T.QUIET[0], False
        g = _mode.grad
        _mode.grad = True       # as torch.func: an outer no_grad does not stop the transform
        try:
            handles = make_inputs(flat_d, levels, tok)
            new_args = list(args)
            if spec_d is _LEAF1:
                new_args[nums[0]] = handles[0]
            else:
                for i, p in zip(nums, tree_unflatten(handles, spec_d)):
                    new_args[i] = p
            out = func(*new_args, **kwargs)
        finally:
            T.QUIET[0] = quiet
            _mode.grad = g
        if has_aux:
            out, aux = _split_aux(out, has_aux, fname)
        else:
            aux = None
        if isinstance(out, Tensor):
            flat_o, spec_o = [out], _LEAF
        else:
            flat_o, spec_o = tree_flatten(out)
        if not vmapped:
            break
        miss = missing_levels(flat_o, handles)
        if not miss:
            break
        levels |= miss
    create = False
    for x in flat_d:
        if x._rg:
            create = True
            break
    else:
        if lazy:
            create = None
        else:
            for o in flat_o:
                if isinstance(o, Tensor) and o._rg and _external(o, tok):
                    create = True
                    break
    return handles, spec_d, flat_o, spec_o, out, aux, (create, tok)


def _off_graph(args):
    """Under no_grad no outer graph is recorded: inputs that require grad are differentiated
    as detached values (torch.func gives the same gradients there)."""
    leaves, spec = tree_flatten(tuple(args))
    if not any(isinstance(x, Tensor) and x._rg for x in leaves):
        return args
    return tree_unflatten([x.detach() if isinstance(x, Tensor) and x._rg else x
                           for x in leaves], spec)


def _unwrap_output(o):
    """A returned tensor, no longer a handle of this transform (the graph stays for outer
    transforms)."""
    return o


def _ones(shape, dtype):
    a = np.empty(shape, dtype)
    a.fill(1)
    return a


def _zeros_like(x):
    return _make(np.zeros(x._data.shape, x._data.dtype)) if type(x._data) is np.ndarray \
        else x * 0


# -- grad and vjp -----------------------------------------------------------------------------
def grad_and_value(func, argnums=0, has_aux=False):
    """Like :func:`grad` but also returns the value: ``(grad, value)`` (or
    ``(grad, (value, aux))`` with ``has_aux``).

    >>> import chainrule
    >>> from chainrule.func import grad_and_value
    >>> g, v = grad_and_value(lambda x: (x ** 2).sum())(chainrule.tensor([1.0, 2.0]))
    >>> g, v
    (tensor([2., 4.]), tensor(5.))
    """
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "grad_and_value")
        nums = nums[0] if isinstance(argnums, int) else nums
        if not _mode.grad:
            args = _off_graph(args)
        handles, spec_d, flat_o, spec_o, out, aux, (create, tok) = _trace(
            func, args, kwargs, nums, has_aux, "grad_and_value", lazy=True)
        if not (len(flat_o) == 1 and isinstance(flat_o[0], Tensor)):
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                               f"got {type(out).__name__}")
        y = flat_o[0]
        if y.ndim != 0:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               f"Tensor, got tensor with {y.ndim} dims. Maybe you wanted to use "
                               "the vjp or jacrev APIs instead?")
        if y._rg:
            gs = vjp_core([y], handles, [_make(_ones((), y._data.dtype))], create, tok=tok)
        else:
            gs = [None] * len(handles)
        gs = [g if g is not None else _zeros_like(h) for g, h in zip(gs, handles)]
        gs = release(gs, tok)
        g = tree_unflatten(gs, spec_d)
        if isinstance(argnums, int):
            g = g[0]
        value = release([y], tok)[0]
        if has_aux:
            return g, (value, _release_aux(aux, tok))
        return g, value
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar-valued ``func`` with respect to ``args[argnums]``.

    >>> import chainrule
    >>> from chainrule.func import grad
    >>> grad(lambda x: x.sin().sum())(chainrule.tensor([0.0]))
    tensor([1.])
    >>> grad(grad(lambda x: x ** 3))(chainrule.tensor(2.0))
    tensor(12.)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, v = gv(*args, **kwargs)
        if has_aux:
            return g, v[1]
        return g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)`` where ``vjp_fn(cotangents)`` returns the vector-Jacobian
    products, one per primal (a tuple).

    >>> import chainrule
    >>> from chainrule.func import vjp
    >>> out, fn = vjp(lambda x: x * 3, chainrule.tensor([1.0, 2.0]))
    >>> fn(chainrule.tensor([1.0, 1.0]))
    (tensor([3., 3.]),)
    """
    nums = tuple(range(len(primals)))
    if not _mode.grad:
        primals = _off_graph(primals)
    handles, spec_d, flat_o, spec_o, out, aux, (create, tok) = _trace(
        func, primals, {}, nums, has_aux, "vjp")
    _check_tensors(flat_o, "vjp", "the outputs of f")

    def vjp_fn(cotangents):
        flat_c, spec_c = tree_flatten(cotangents)
        if spec_c != spec_o:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function. cotangents: "
                               f"{spec_c}, primal output: {spec_o}")
        for i, (c, o) in enumerate(zip(flat_c, flat_o)):
            if isinstance(c, Tensor) and c.shape != o.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{c.shape} and output[{i}] has a shape of {o.shape}.")
        mk = create or any(isinstance(c, Tensor) and c._rg for c in flat_c)
        gs = vjp_core(flat_o, handles, flat_c, mk)
        gs = [g if g is not None else _zeros_like(h) for g, h in zip(gs, handles)]
        return tuple(tree_unflatten(release(gs, tok), spec_d))

    out = tree_unflatten(release(flat_o, tok), spec_o)
    if has_aux:
        return out, vjp_fn, _release_aux(aux, tok)
    return out, vjp_fn


# -- forward mode -----------------------------------------------------------------------------
def _make_dual(p, t, lv):
    if not isinstance(t, Tensor):
        raise ValueError(f"jvp: Expected tangents to be Tensors, got {type(t).__name__}")
    if p._data.dtype.kind not in "fc":
        raise ValueError(f"Expected primal to be floating point or complex, but got: {p.dtype}")
    if tuple(p.shape) != tuple(t.shape)[1 if lv.size else 0:]:
        raise RuntimeError(f"jvp: Expected primal and tangent to have the same shape, but got "
                           f"{tuple(p.shape)} and {tuple(t.shape)}")
    if p._rg:
        d = S.View.apply(p, tuple(p.shape))
    else:
        d = _make(T.fresh(p._data))
        T.copy_tans(p, d)
    if t._data.dtype != p._data.dtype:
        if t._data.dtype.kind not in "fc":
            raise ValueError("Expected tangent to be floating point or complex, but got: "
                             f"{t.dtype}")
        t = t.to(p.dtype)
    T.set_tangent_deep(d, lv, t)
    return d


def _primal_of(o, lv):
    """o without its tangent at lv (same graph node, same memory)."""
    c = _make(T.fresh(o._data), o._rg, o.grad_fn, o._nr)
    T._hold_acc(o, c)
    T.copy_tans(o, c, (lv,))
    return c


def _jvp_run(func, flat_p, spec_p, flat_t, kwargs, has_aux, fname, batch=None, primals=True,
             checked=False):
    """Run func on duals of flat_p with tangents flat_t at a new dual level; returns (primal
    outputs or None when ``primals`` is false, output tangents, output spec, aux). ``checked``:
    the tangents are made by the caller (their shapes and dtypes already fit)."""
    tok = new_token()
    lv = T.push(T.JVP, batch)
    lv.tok = tok
    try:
        if checked:
            duals = [_dual_of(flat_p[0], flat_t[0], lv)] if len(flat_p) == 1 else \
                [_dual_of(p, t, lv) for p, t in zip(flat_p, flat_t)]
        else:
            duals = [_make_dual(p, t, lv) for p, t in zip(flat_p, flat_t)]
        if spec_p is _LEAF1 and not kwargs:
            out = func(duals[0])
        else:
            out = func(*tree_unflatten(duals, spec_p), **kwargs)
        if has_aux:
            out, aux = _split_aux(out, has_aux, fname)
        else:
            aux = None
        if isinstance(out, Tensor):
            flat_o, spec_o = [out], _LEAF
        else:
            flat_o, spec_o = tree_flatten(out)
            _check_tensors(flat_o, fname, "the outputs of f")
        tans = []
        for o in flat_o:
            t = o.__dict__.get("_tan")      # (T.get_tangent, inline)
            if t is None:
                t = T.get_tangent(o, lv)
            else:
                t = t.get(lv)
                if t is not None:
                    e = T.TAN.get(id(o._data))
                    if e is not None and e[2] is not None and lv in e[2]:
                        vc, v = e[2][lv]
                        if vc.v != v:
                            T.get_tangent(o, lv)      # raises the stale-tangent error
            if t is None:
                t = _make(np.zeros((batch,) + tuple(o.shape), o._data.dtype)) if batch else \
                    _zeros_like(o)
            tans.append(t)
        prim = [_primal_of(o, lv) for o in flat_o] if primals else None
    finally:
        T.pop(lv)
    return (release(prim, tok) if primals else flat_o), release(tans, tok), spec_o, aux


def _dual_of(p, t, lv):
    """_make_dual for a tangent made by the transform itself (no checks needed)."""
    if p._rg or (p.__dict__.get("_tan") or (p.grad_fn is not None and T.tan_of(p))) or \
            type(p._data) is not np.ndarray or p._data.dtype.kind != "f":
        return _make_dual(p, t, lv)
    d = _new(Tensor)        # (_make(p._data.view()), inline)
    d._data = p._data.view()
    d._rg = False
    d.grad_fn = None
    d._nr = 0
    d.grad = None
    d._vc = None
    T.set_tan_fresh(d, lv, t)
    return d


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)`` by forward mode: one pass carries the tangents.

    >>> import chainrule
    >>> from chainrule.func import jvp
    >>> x = chainrule.tensor([1.0, 2.0])
    >>> jvp(lambda x: x ** 2, (x,), (chainrule.tensor([1.0, 0.0]),))
    (tensor([1., 4.]), tensor([2., 0.]))
    """
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure. For example, if primals is a tuple of 3 "
                           "tensors, tangents also must be. Got primals with structure "
                           f"{tree_flatten(primals)[1]} and tangents with structure "
                           f"{tree_flatten(tangents)[1]}")
    flat_p, spec_p = tree_flatten(primals)
    flat_t, spec_t = tree_flatten(tangents)
    if spec_p != spec_t:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           f"the same python structure, got {spec_p} and {spec_t}")
    _check_tensors(flat_p, "jvp", "primals")
    prim, tans, spec_o, aux = _jvp_run(func, flat_p, spec_p, flat_t, {}, has_aux, "jvp")
    res = (tree_unflatten(prim, spec_o), tree_unflatten(tans, spec_o))
    return res + (aux,) if has_aux else res


# -- Jacobians --------------------------------------------------------------------------------
def _basis(sizes, like):
    """Rows of an identity split per input: list of (N, numel_i) physical tensors."""
    n = sum(sizes)
    eye = _fwd_rules.identity(n, like)
    out, off = [], 0
    for k in sizes:
        out.append(eye[:, off:off + k])
        off += k
    return out, n


def _finish_jacobians(rows, flat_o, flat_x, out_major):
    """rows[o] is a physical (N, ...) tensor; build J[o][x] with shape o.shape + x.shape."""
    jac = []
    for k, o in enumerate(flat_o):
        per = []
        r = rows[k]
        off = 0
        for x in flat_x:
            n = x._data.size
            if out_major:
                # r: (N_out, *x.shape): the rows for output o already in r
                piece = r
            else:
                piece = r[off:off + n] if len(flat_x) > 1 else r
            off += n
            per.append(piece)
        jac.append(per)
    return jac


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to ``args[argnums]`` by reverse mode, vectorised:
    one backward pass carries all the rows of the identity at once (vmap over the vjp).

    >>> import chainrule
    >>> from chainrule.func import jacrev
    >>> jacrev(lambda x: x ** 2)(chainrule.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not _mode.grad:
            args = _off_graph(args)
        nargs = len(args)
        if type(argnums) is int and -nargs <= argnums < nargs:
            nums = argnums % nargs
        else:
            nums = _argnums_tuple(argnums, nargs, "jacrev")
            nums = nums[0] if isinstance(argnums, int) else nums
        handles, spec_d, flat_o, spec_o, out, aux, (create, tok) = _trace(
            func, args, kwargs, nums, has_aux, "jacrev", lazy=True)
        if len(flat_o) != 1 or not isinstance(flat_o[0], Tensor):
            _check_tensors(flat_o, "jacrev", "the outputs of f")
        sizes = [flat_o[0]._data.size] if len(flat_o) == 1 else [o._data.size for o in flat_o]
        dt = flat_o[0]._data.dtype if flat_o else np.float32
        n = sum(sizes)
        if n == 1 and len(flat_o) == 1 and len(handles) == 1:
            # a scalar function of one tensor: the Jacobian is its gradient, reshaped
            o, h = flat_o[0], handles[0]
            ones = np.empty(o._data.shape, o._data.dtype)      # (_make(_ones(...)), inline)
            ones.fill(1)
            c = _new(Tensor)
            c._data = ones
            c._rg = False
            c.grad_fn = None
            c._nr = 0
            c.grad = None
            c._vc = None
            g = vjp_core(flat_o, handles, [c], create, tok=tok)[0]
            if g is None:
                g = _zeros_like(h)
            want = o._data.shape + h._data.shape
            res = release([g if g._data.shape == want else g.reshape(want)], tok)
            if spec_d is _LEAF1 and spec_o is _LEAF and isinstance(argnums, int):
                res = res[0]
            else:
                res = _assemble([res], spec_o, spec_d, isinstance(argnums, int))
            return (res, _release_aux(aux, tok)) if has_aux else res
        jac = [[None] * len(handles) for _ in flat_o]
        if n == 1:
            cots = [_make(_ones(o._data.shape, o._data.dtype)) for o in flat_o]
            gs = vjp_core(flat_o, handles, cots, create, tok=tok)
            for k, o in enumerate(flat_o):
                if sizes[k] == 1:
                    for j, (g, h) in enumerate(zip(gs, handles)):
                        g = g if g is not None else _zeros_like(h)
                        want = o._data.shape + h._data.shape
                        jac[k][j] = g if g._data.shape == want else g.reshape(want)
        elif n > 0:
            eye, _ = _basis(sizes, dt)
            rows = _chunked_vjp(flat_o, handles, eye, n, create, chunk_size, tok)
            off = 0
            for k, o in enumerate(flat_o):
                for j, h in enumerate(handles):
                    r = rows[j]
                    piece = r[off:off + sizes[k]] if len(flat_o) > 1 else r
                    want = tuple(o.shape) + tuple(h.shape)
                    jac[k][j] = piece if tuple(piece.shape) == want else piece.reshape(want)
                off += sizes[k]
        for k, o in enumerate(flat_o):
            for j, h in enumerate(handles):
                if jac[k][j] is None:
                    jac[k][j] = _make(np.zeros(tuple(o.shape) + tuple(h.shape),
                                               o._data.dtype))
        jac = [release(row, tok) for row in jac]
        if spec_d is _LEAF1 and spec_o is _LEAF and isinstance(argnums, int):
            res = jac[0][0]
        else:
            res = _assemble(jac, spec_o, spec_d, isinstance(argnums, int))
        return (res, _release_aux(aux, tok)) if has_aux else res
    return wrapper


def _chunked_vjp(flat_o, handles, eye, n, create, chunk_size, tok=None):
    step = n if not chunk_size else int(chunk_size)
    parts = []
    for s in range(0, n, step):
        e = min(n, s + step)
        lv = T.push(T.VMAP, e - s)
        try:
            cots = [T.from_phys(_make(np.ascontiguousarray(b[s:e]).reshape(
                (e - s,) + tuple(o.shape))), lv) for b, o in zip(eye, flat_o)]
            gs = vjp_core(flat_o, handles, cots, create, tok=tok)
            res = []
            for g, h in zip(gs, handles):
                if g is None:
                    res.append(_make(np.zeros((e - s,) + tuple(h.shape), h._data.dtype)))
                else:
                    res.append(T.to_phys(g, lv))
        finally:
            T.pop(lv)
        parts.append(res)
    if len(parts) == 1:
        return parts[0]
    return [_stack_rows([p[j] for p in parts]) for j in range(len(handles))]


def _stack_rows(ts):
    from .ops.index import IndexPut
    n = sum(t.shape[0] for t in ts)
    out = _make(np.zeros((n,) + tuple(ts[0].shape[1:]), ts[0]._data.dtype))
    off = 0
    for t in ts:
        out = IndexPut.apply(out, t, (slice(off, off + t.shape[0]),), True)
        off += t.shape[0]
    return out


def _assemble(jac, spec_o, spec_d, single_arg):
    per_out = []
    for row in jac:
        r = tree_unflatten(row, spec_d)
        per_out.append(r[0] if single_arg else r)
    return tree_unflatten(per_out, spec_o)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` by forward mode, vectorised: one forward pass carries every
    basis tangent at once (vmap over the jvp). ``randomness`` is that vmap's flag: with
    'different' each column of the Jacobian (each input element) sees its own random draws.

    >>> import chainrule
    >>> from chainrule.func import jacfwd
    >>> jacfwd(lambda x: x.sin())(chainrule.tensor([0.0, 0.0]))
    tensor([[1., 0.],
            [0., 1.]])
    """
    _check_randomness(randomness)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nargs = len(args)
        if type(argnums) is int and -nargs <= argnums < nargs and \
                isinstance(args[argnums], Tensor):
            # the common call: one Tensor argument
            nums = (argnums % nargs,)
            flat_x, spec_d = [args[nums[0]]], _LEAF1
        else:
            nums = _argnums_tuple(argnums, nargs, "jacfwd")
            flat_x, spec_d = tree_flatten(tuple(args[i] for i in nums))
            _check_tensors(flat_x, "jacfwd", "the differentiated inputs")
        single = isinstance(argnums, int)
        sizes = [flat_x[0]._data.size] if len(flat_x) == 1 else [x._data.size for x in flat_x]
        dt = flat_x[0]._data.dtype
        if not sum(sizes):      # nothing to differentiate: empty Jacobians of the right shapes
            return _empty_jacobians(func, args, kwargs, flat_x, spec_d, single, has_aux)
        if len(flat_x) == 1:
            n = sizes[0]
            eye = _fwd_rules.identity(n, dt)
            t = _new(Tensor)        # (_make, inline)
            t._data = eye.reshape((n,) + flat_x[0]._data.shape)
            t._rg = False
            t.grad_fn = None
            t._nr = 0
            t.grad = None
            t._vc = None
            tans = [t]
        else:
            eye, n = _basis(sizes, dt)
            # one forward pass whose tangents are the whole basis: (n, *x.shape) per input
            tans = [_make(np.ascontiguousarray(b).reshape((n,) + tuple(x.shape)))
                    for b, x in zip(eye, flat_x)]
        if spec_d is _LEAF1:
            k0 = nums[0]
            if nargs == 1 and not kwargs:
                f_of_diff = func
            else:
                def f_of_diff(d):
                    new_args = list(args)
                    new_args[k0] = d
                    return func(*new_args, **kwargs)
        else:
            def f_of_diff(*ds):
                parts = tree_unflatten(list(ds), spec_d)
                new_args = list(args)
                for i, p in zip(nums, parts):
                    new_args[i] = p
                return func(*new_args, **kwargs)
        if randomness == "different":
            prim, rows, spec_o, aux = _jvp_vmapped(f_of_diff, flat_x, tans, has_aux)
        else:
            guard = randomness == "error"
            if guard:
                T.RGUARD[0] += 1    # random draws raise (T.random_guard, inline)
            try:
                prim, rows, spec_o, aux = _jvp_run(
                    f_of_diff, flat_x, _LEAF1 if len(flat_x) == 1 else LEAFS(len(flat_x)),
                    tans, {}, has_aux, "jacfwd", batch=n, primals=False, checked=True)
            finally:
                if guard:
                    T.RGUARD[0] -= 1
        jac = []
        for o, r in zip(prim, rows):
            per, off = [], 0
            ond = o._data.ndim
            for x, k in zip(flat_x, sizes):
                xs = x._data.shape
                xnd = len(xs)
                perm = _PERMS.get((xnd, ond))
                if perm is None:
                    perm = _PERMS[xnd, ond] = tuple(range(xnd, xnd + ond)) + tuple(range(xnd))
                rd = r._data
                if type(rd) is np.ndarray and not r._rg and id(rd) not in T.TAN:
                    # (_bare, inline) nothing records or is batched: rearrange the array
                    p = r._data[off:off + k] if len(flat_x) > 1 else r._data
                    p = p.reshape(xs + o._data.shape)
                    if ond and xnd:
                        p = p.transpose(perm)
                    if not p.flags.writeable:   # a view of a constant (A @ x's Jacobian is A)
                        p = p.copy()
                    t = _new(Tensor)        # (_make(p), inline)
                    t._data = p
                    t._rg = False
                    t.grad_fn = None
                    t._nr = 0
                    t.grad = None
                    t._vc = None
                    per.append(t)
                    off += k
                    continue
                piece = r[off:off + k] if len(flat_x) > 1 else r
                off += k
                want = tuple(x.shape) + tuple(o.shape)
                if tuple(piece.shape) != want:
                    piece = piece.reshape(want)
                if perm != tuple(range(xnd + ond)):
                    piece = piece.permute(*perm)
                per.append(piece)
            jac.append(per)
        if spec_d is _LEAF1 and single and spec_o is _LEAF:
            res = jac[0][0]
        else:
            res = _assemble(jac, spec_o, spec_d, single)
        return (res, aux) if has_aux else res
    return wrapper


def _empty_jacobians(func, args, kwargs, flat_x, spec_d, single, has_aux):
    out, aux = _split_aux(func(*args, **kwargs), has_aux, "jacfwd")
    flat_o, spec_o = ([out], _LEAF) if isinstance(out, Tensor) else tree_flatten(out)
    _check_tensors(flat_o, "jacfwd", "the outputs of f")
    jac = [[_make(np.zeros(tuple(o.shape) + tuple(x.shape), o._data.dtype)) for x in flat_x]
           for o in flat_o]
    if spec_d is _LEAF1 and single and spec_o is _LEAF:
        res = jac[0][0]
    else:
        res = _assemble(jac, spec_o, spec_d, single)
    return (res, aux) if has_aux else res


def _jvp_vmapped(f, flat_x, tans, has_aux):
    """jacfwd(randomness='different') as torch defines it, a vmap over jvp: f runs once per
    basis tangent, each run with its own random draws. Returns what ``_jvp_run`` does (the
    primal outputs only for their shapes; aux of the first run, as torch)."""
    def one(*ts):
        r = jvp(f, tuple(flat_x), ts, has_aux=has_aux)
        return (r[1], r[2]) if has_aux else r[1]
    res = vmap(one, randomness="different")(*tans)
    out, aux = res if has_aux else (res, None)
    if isinstance(out, Tensor):
        rows, spec_o = [out], _LEAF
    else:
        rows, spec_o = tree_flatten(out)
    if has_aux:
        leaves, spec_a = tree_flatten(aux)
        aux = tree_unflatten([a[0] for a in leaves], spec_a)
    return [r[0] for r in rows], rows, spec_o, aux


_PERMS = {}     # (x.ndim, out.ndim) -> the permutation from (*x.shape, *o.shape) to o then x


def LEAFS(n):
    return _LEAF1 if n == 1 else _Spec("tuple", None, (_LEAF,) * n)


def _bare(t):
    """A tensor that is a plain array: no graph, no transform state."""
    d = t._data
    return type(d) is np.ndarray and not t._rg and id(d) not in T.TAN


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func))`` (forward-over-reverse, both
    vectorised).

    >>> import chainrule
    >>> from chainrule.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(chainrule.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap -------------------------------------------------------------------------------------
def _check_randomness(randomness):
    if randomness not in ("error", "same", "different"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")


def _movedim(t, src, dst):
    nd = t.ndim
    if src == dst:
        return t
    perm = list(range(nd))
    perm.insert(dst, perm.pop(src))
    return S.permute(t, tuple(perm))


def _broadcast_dims(dims, args, fname):
    if isinstance(dims, (int, type(None))):
        return [dims] * len(args)
    if not isinstance(dims, tuple):
        raise ValueError(f"{fname}: expected `in_dims` to be int or a (potentially nested) "
                         "tuple matching the structure of inputs, got: "
                         f"{type(dims)}.")
    if len(dims) != len(args):
        raise ValueError(f"{fname}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {dims!r} but inputs has {len(args)} "
                         "arguments.")
    return list(dims)


def _dims_for(dims, spec, out):
    """Per-leaf dims of an argument with structure ``spec``: an int or None stands for every
    leaf below it (a pytree prefix, as torch.func); False where the structures disagree."""
    if dims is None or type(dims) is int:
        out.extend([dims] * spec.num_leaves)
        return True
    if spec.kind == "leaf":
        return False
    if spec.kind == "dict":
        if not isinstance(dims, dict) or set(dims) != set(spec.meta):
            return False
        return all(_dims_for(dims[k], c, out) for k, c in zip(spec.meta, spec.children))
    if not isinstance(dims, (tuple, list)) or len(dims) != len(spec.children):
        return False
    return all(_dims_for(d, c, out) for d, c in zip(dims, spec.children))


def _flat_dims(dims, arg, fname):
    leaves, spec = tree_flatten(arg)
    if isinstance(dims, (int, type(None))):
        return leaves, spec, [dims] * len(leaves)
    dl = []
    if not _dims_for(dims, spec, dl):
        raise ValueError(f"{fname}: in_dims is not compatible with the structure of `inputs`: "
                         f"{dims!r}")
    return leaves, spec, dl


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Vectorise ``func`` over a dimension of its inputs: ``vmap(f)(x)[i] == f(x[i])``, with
    every primitive run once on the whole batch. Nest for more dims.

    ``randomness`` says what random ops inside ``func`` do (as in torch.func): ``'error'``
    raises, ``'same'`` draws once for the whole batch, ``'different'`` draws independent values
    for every batch element (the result is batched). A 'different' draw is made for the whole
    batch at once, so under ``manual_seed`` it equals the same draw with the batch dim in front
    outside vmap (randperm and multinomial draw per element, in order). With ``chunk_size``,
    'same' replays the global generator's state for every chunk.

    >>> import chainrule
    >>> from chainrule.func import vmap
    >>> vmap(lambda v: (v * v).sum())(chainrule.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([ 5., 25.])
    >>> x = chainrule.zeros(3, 2)
    >>> _ = chainrule.manual_seed(0)
    >>> y = vmap(lambda v: v + chainrule.rand(2), randomness="different")(x)
    >>> bool((y[0] != y[1]).all())
    True
    >>> _ = chainrule.manual_seed(0)
    >>> bool((y == chainrule.rand(3, 2)).all())
    True
    >>> z = vmap(lambda v: v + chainrule.rand(2), randomness="same")(x)
    >>> bool((z[0] == z[1]).all())
    True
    """
    _check_randomness(randomness)
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got "
                         f"{chunk_size})")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not args:
            raise ValueError("vmap(f)(): got no inputs. Maybe you forgot to add inputs, or you "
                             "are trying to vmap over a function with no inputs.")
        dims = _broadcast_dims(in_dims, args, "vmap")
        flat = []
        for a, d in zip(args, dims):
            leaves, spec, dl = _flat_dims(d, a, "vmap")
            flat.append((leaves, spec, dl))
        size = None
        for leaves, _, dl in flat:
            for x, d in zip(leaves, dl):
                if d is None:
                    continue
                if not isinstance(x, Tensor):
                    raise ValueError(f"vmap: Got in_dim={d} for an input but the input is of "
                                     f"type {type(x).__name__}. We cannot vmap over non-Tensor "
                                     "arguments, please use None as the respective in_dim")
                if not -max(x.ndim, 1) <= d < max(x.ndim, 1) or x.ndim == 0:
                    raise ValueError(f"vmap: Got in_dim={d} for some input, but that input is a "
                                     f"Tensor of dimensionality {x.ndim} so expected in_dim to "
                                     f"satisfy -{x.ndim} <= in_dim < {x.ndim}.")
                n = x.shape[d]
                if size is None:
                    size = n
                elif n != size:
                    raise ValueError("vmap: Expected all tensors to have the same size in the "
                                     f"mapped dimension, got sizes {size} and {n} for the mapped "
                                     "dimension")
        if size is None:
            raise ValueError("vmap: at least one input must be batched (in_dims are all None)")
        if chunk_size is not None and chunk_size < size:
            outs = []
            # 'same' randomness: every chunk replays the global generator's state
            g = _random.default_generator
            state = g._rng.bit_generator.state if randomness == "same" else None
            for s in range(0, size, chunk_size):
                if state is not None:
                    g._rng.bit_generator.state = state
                e = min(size, s + chunk_size)
                sub = [(tree_unflatten([_slice_dim(x, d, s, e) for x, d in zip(lvs, dl)], sp),
                        dl) for lvs, sp, dl in flat]
                sflat = [tuple(tree_flatten(a)) + (dl,) for a, dl in sub]
                outs.append(_vmap_once(func, [a for a, _ in sub], sflat, e - s, out_dims,
                                       randomness, kwargs))
            return _cat_chunks(outs, out_dims)
        return _vmap_once(func, args, flat, size, out_dims, randomness, kwargs)
    return wrapper


def _slice_dim(x, d, s, e):
    if d is None:
        return x
    idx = (slice(None),) * (d % x.ndim) + (slice(s, e),)
    return x[idx]


def _cat_chunks(outs, out_dims):
    flat0, spec = tree_flatten(outs[0])
    ods = _out_dims_list(out_dims, spec, len(flat0))
    cols = []
    for k in range(len(flat0)):
        pieces = [tree_flatten(o)[0][k] for o in outs]
        d = ods[k]
        if d is None:
            cols.append(pieces[0])
            continue
        d %= pieces[0].ndim
        rows = _stack_rows([_movedim(p, d, 0) for p in pieces])
        cols.append(_movedim(rows, 0, d))
    return tree_unflatten(cols, spec)


def _out_dims_list(out_dims, spec, n):
    if isinstance(out_dims, (int, type(None))):
        return [out_dims] * n
    dl, ds = tree_flatten(out_dims)
    if len(dl) == n:
        return dl
    res = []
    if _dims_for(out_dims, spec, res):
        return res
    raise ValueError(f"vmap: out_dims is not compatible with the structure of `outputs`: "
                     f"{out_dims!r}")


def _vmap_once(func, args, flat, size, out_dims, randomness, kwargs):
    tok = new_token()
    lv = T.push(T.VMAP, size, randomness)
    try:
        new_args = []
        for (leaves, spec, dl) in flat:
            conv = []
            for x, d in zip(leaves, dl):
                if d is None:
                    conv.append(x)
                else:
                    conv.append(T.from_phys(_movedim(x, d % x.ndim, 0), lv))
            new_args.append(tree_unflatten(conv, spec))
        out = func(*new_args, **kwargs)
        flat_o, spec_o = tree_flatten(out)
        ods = _out_dims_list(out_dims, spec_o, len(flat_o))
        res = []
        for o, od in zip(flat_o, ods):
            if not isinstance(o, Tensor):
                if od is None:
                    res.append(o)     # torch passes a non-Tensor output through at out_dims None
                    continue
                raise ValueError(f"vmap: `{getattr(func, '__name__', 'func')}` must only return "
                                 f"Tensors, got type {type(o).__name__}. Did you mean to set "
                                 "out_dims= to None for output?")
            if od is None:
                if T.is_batched_at(o, lv):
                    raise ValueError("vmap: out_dims=None for an output that is batched; "
                                     "it can only be None when the output does not depend on "
                                     "the mapped inputs")
                res.append(o)
                continue
            p = T.to_phys(o, lv)
            if not -p.ndim <= od < p.ndim:
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[{-p.ndim}, {p.ndim - 1}], but got {od})")
            res.append(_movedim(p, 0, od % p.ndim))
    finally:
        T.pop(lv)
    return tree_unflatten(release(res, tok), spec_o)


# -- modules ----------------------------------------------------------------------------------
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Call ``module`` with some parameters and buffers replaced by the given tensors (the
    module itself is unchanged afterwards), so transforms can differentiate with respect to
    them.

    >>> import chainrule
    >>> from chainrule.func import functional_call
    >>> m = chainrule.nn.Linear(2, 1)
    >>> p = {"weight": chainrule.ones(1, 2), "bias": chainrule.zeros(1)}
    >>> functional_call(m, p, (chainrule.tensor([[1.0, 2.0]]),))
    tensor([[3.]])
    """
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        params = dict(dicts)
    elif isinstance(dicts, (list, tuple)) and all(isinstance(d, dict) for d in dicts):
        seen, repeated = set(), []
        for d in dicts:
            for k in d:
                if k in seen and k not in repeated:
                    repeated.append(k)
                seen.add(k)
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        params = {k: v for d in dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(dicts)}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}
    if tie_weights:
        params = _tie(module, params)
    if strict:
        names = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
            [n for n, _ in module.named_buffers(remove_duplicate=False)]
        missing = sorted(set(names) - set(params))
        unexpected = sorted(set(params) - set(names))
        msgs = []
        if missing:
            msgs.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
        if unexpected:
            msgs.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
        if msgs:
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" +
                               "\n\t".join(msgs))
    saved = []
    try:
        for name, value in params.items():
            owner, attr = _owner(module, name)
            saved.append((owner, attr, owner.__dict__.get("_parameters", {}).get(attr, _NOPE),
                          owner.__dict__.get("_buffers", {}).get(attr, _NOPE),
                          owner.__dict__.get(attr, _NOPE)))
            _set(owner, attr, value)
        return module(*args, **kwargs)
    finally:
        for owner, attr, p, b, plain in reversed(saved):
            _restore(owner, attr, p, b, plain)


_NOPE = object()


def _tie(module, params):
    """Names sharing one tensor in the module all take the value given for any of them (at
    most one value per tied group, unless it is the same object)."""
    groups = {}
    for n, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        groups.setdefault(id(t), []).append(n)
    out = dict(params)
    for names in groups.values():
        if len(names) < 2:
            continue
        given = [n for n in names if n in params]
        if not given:
            continue
        v = params[given[0]]
        if any(params[n] is not v for n in given[1:]):
            raise ValueError(f"functional_call got multiple values for keys {given}, which "
                             "are tied. Consider using tie_weights=False")
        for n in names:
            out[n] = v
    return out


def _owner(module, name):
    parts = name.split(".")
    m = module
    for p in parts[:-1]:
        m = getattr(m, p)
    return m, parts[-1]


def _set(owner, attr, value):
    ps = owner.__dict__.get("_parameters")
    bs = owner.__dict__.get("_buffers")
    if ps is not None and attr in ps:
        del ps[attr]
    elif bs is not None and attr in bs:
        bs[attr] = value
        return
    object.__setattr__(owner, attr, value)


def _restore(owner, attr, p, b, plain):
    ps = owner.__dict__.get("_parameters")
    bs = owner.__dict__.get("_buffers")
    if p is not _NOPE:
        owner.__dict__.pop(attr, None)
        ps[attr] = p
    elif b is not _NOPE:
        bs[attr] = b
    elif plain is not _NOPE:
        object.__setattr__(owner, attr, plain)
    else:
        owner.__dict__.pop(attr, None)


# -- the rest of torch.func ---------------------------------------------------------------------
def linearize(func, *primals):
    """``(func(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is the Jacobian-vector product at
    ``primals`` (a forward-mode pass per call).

    >>> import chainrule
    >>> from chainrule.func import linearize
    >>> out, jvp_fn = linearize(lambda x: x ** 2, chainrule.tensor([1.0, 3.0]))
    >>> jvp_fn(chainrule.tensor([1.0, 1.0]))
    tensor([2., 6.])
    """
    flat_p, spec_p = tree_flatten(primals)
    _check_tensors(flat_p, "linearize", "primals")
    out = jvp(func, primals, tuple(tree_unflatten([_zeros_like(p) for p in flat_p], spec_p)))[0]

    def jvp_fn(*tangents):
        flat_t, spec_t = tree_flatten(tangents)
        if spec_t != spec_p:
            raise RuntimeError(f"Expected the tangents {spec_t} to have the same argspec as the "
                               f"primals {spec_p}")
        for i, (t, p) in enumerate(zip(flat_t, flat_p)):
            if not isinstance(t, Tensor) or t.shape != p.shape:
                raise RuntimeError(f"tangent:{i} with shape {getattr(t, 'shape', None)} in "
                                   f"flattened pytree doesn't match the shape {p.shape} of the "
                                   "corresponding primal.")
        return jvp(func, primals, tangents)[1]
    return out, jvp_fn


def stack_module_state(models):
    """``(params, buffers)``: each parameter and buffer of the same-class ``models`` stacked
    along a new dim 0 (fresh leaves), ready for ``vmap`` over ``functional_call``.

    >>> import chainrule
    >>> from chainrule.func import stack_module_state
    >>> params, buffers = stack_module_state([chainrule.nn.Linear(2, 1) for _ in range(3)])
    >>> params["weight"].shape, params["weight"].requires_grad
    (chainrule.Size([3, 1, 2]), True)
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named):
        names = [n for n, _ in named(models[0])]
        per = [dict(named(m)) for m in models]
        out = {}
        for n in names:
            ts = [d[n] for d in per]
            rg = {t.requires_grad for t in ts}
            if len(rg) > 1:
                raise RuntimeError(f"Expected {n} from each model to have the same "
                                   ".requires_grad")
            r = S.stack([t.detach() for t in ts])
            out[n] = r.requires_grad_() if rg == {True} else r
        return out
    return (stacked(lambda m: m.named_parameters()), stacked(lambda m: m.named_buffers()))


def functionalize(func, *, remove="mutations"):
    """``func`` as a function without observable mutation of intermediates. chainrule runs
    eagerly, so the result computes exactly what ``func`` does (in-place updates of the inputs
    still reach them, as torch's functionalize applies them at the end).

    >>> import chainrule
    >>> from chainrule.func import functionalize
    >>> def f(x):
    ...     y = x.clone()
    ...     y.add_(1)
    ...     return y
    >>> functionalize(f)(chainrule.zeros(2))
    tensor([1., 1.])
    """
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove="
            f"{remove}. Valid options are:\n     remove='mutations': all inplace and out= "
            "operators will be removed from the program, and replaced with their out-of-place "
            "equivalents.\n     remove='mutations_and_views': In addition to the above, all "
            "aliasing operators {view} will be replaced with their non-aliasing counterparts, "
            "{view}_copy.\n")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)
    return wrapper


def replace_all_batch_norm_modules_(root):
    """Make every BatchNorm module under ``root`` use batch statistics only (no running
    statistics), so it runs under ``vmap``; returns ``root``, changed in place.

    >>> import chainrule
    >>> from chainrule.func import replace_all_batch_norm_modules_
    >>> bn = replace_all_batch_norm_modules_(chainrule.nn.BatchNorm1d(2))
    >>> bn.running_mean is None, bn.track_running_stats
    (True, False)
    """
    from .nn.modules.normalization import _BatchNorm
    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root
