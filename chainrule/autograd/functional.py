"""torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp on functions of tensors.

Inputs and outputs are a Tensor or a tuple of Tensors, and results mirror that structure.
Jacobians and Hessians are always vectorised (one pass carries the whole basis through the
rules); ``vectorize`` is accepted for compatibility and only changes which checks apply.
"""
import functools

import numpy as np

from .._tensor import Tensor
from . import _transforms as T
from ._vjp import make_inputs, new_token, vjp_core
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]

_make = Tensor._make


def _grad_on(fn):
    """Run fn with grad mode on (torch computes these under enable_grad, so they work inside
    no_grad too)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with enable_grad():
            return fn(*args, **kwargs)
    return wrapper


def _as_tuple(x, arg_name, fn_name):
    is_tuple = isinstance(x, tuple)
    xs = x if is_tuple else (x,)
    for i, el in enumerate(xs):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or "
                                f"a tuple of Tensors but the value at index {i} has type "
                                f"{type(el)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {arg_name} has type {type(el)}.")
    return is_tuple, xs


def _tuple_back(xs, is_tuple):
    return xs if is_tuple else xs[0]


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for a, b in zip(v, other):
        if a.shape != b.shape:
            raise RuntimeError(f"v has invalid size: should be {b.shape} but got {a.shape}.")


def _plain(x):
    d = x._data
    return isinstance(x, Tensor) and type(d) is np.ndarray and id(d) not in T.TAN and \
        "_tan" not in x.__dict__ and d.dtype.kind == "f"


def _post(xs, create_graph, tok):
    if create_graph:
        return tuple(xs)
    return tuple(x.detach() if isinstance(x, Tensor) else x for x in xs)


def _run(func, inputs, fn_name, tok):
    handles = make_inputs(inputs, set(), tok)
    with enable_grad():
        out = func(*handles)
    is_out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return handles, is_out_tuple, outs


_NA = " This is not allowed in strict mode."
_NA_CG = " This is not allowed in strict mode when create_graph=True."


def _fail(msg):
    raise RuntimeError(msg)


def _strict_outputs(outs):
    for i, o in enumerate(outs):
        if not o._rg:
            _fail(f"Output {i} of the user-provided function does not require gradients. "
                  "The outputs must be computed in a differentiable manner from the input "
                  "when running in strict mode.")


def _grads(ys, xs, gos, create_graph):
    from . import grad
    pairs = [(y, g) for y, g in zip(ys, gos) if y is not None]
    if not pairs:
        return [None] * len(xs)
    return list(grad([y for y, _ in pairs], xs, [g for _, g in pairs], retain_graph=True,
                     create_graph=create_graph, allow_unused=True))


def _strict_checks(kind, func, ins, vs, create_graph):
    """strict=True: a separate pass on fresh leaves raising torch's error for the first
    independence it finds (outputs, first and second derivatives, as ``kind`` needs)."""
    xs = tuple(x.detach().requires_grad_() for x in ins)
    with enable_grad():
        is_t, outs = _as_tuple(func(*xs), "outputs of the user-provided function", kind)
        _strict_outputs(outs)
        ones = [_make(np.ones(o._data.shape, o._data.dtype)) for o in outs]
        indep = "The output of the user-provided function is independent of input {}." + _NA
        jac_cg = "The jacobian of the user-provided function is independent of input {}." + \
            _NA_CG
        hes_cg = "The hessian of the user-provided function is independent of input {}." + \
            _NA_CG
        if kind == "jacobian":
            for i, o in enumerate(outs):
                for j, g in enumerate(_grads([o], xs, [ones[i]], create_graph)):
                    if g is None:
                        _fail(f"Output {i} of the user-provided function is independent of "
                              f"input {j}." + _NA)
                    if create_graph and not g._rg:
                        _fail(jac_cg.format(i))
            return
        if kind == "vjp":
            for i, g in enumerate(_grads(outs, xs, vs, create_graph)):
                if g is None:
                    _fail(indep.format(i))
                if create_graph and not g._rg:
                    _fail(jac_cg.format(i))
            return
        if kind == "jvp":
            gos = [_make(np.zeros(o._data.shape, o._data.dtype), True) for o in outs]
            gi = _grads(outs, xs, gos, True)
            for i, g in enumerate(gi):
                if g is None:
                    _fail(indep.format(i))
                if not g._rg:
                    _fail(f"The gradient with respect to input {i} is independent of the inputs "
                          "of the user-provided function." + _NA)
            for i, r in enumerate(_grads(gi, gos, vs, create_graph)):
                if r is None:
                    _fail(f"The gradient with respect to the input is independent of entry {i} "
                          "in the grad_outputs when using the double backward trick to compute "
                          "forward mode gradients." + _NA)
                if create_graph and not r._rg:
                    _fail(jac_cg.format(i))
            return
        if is_t or len(outs) != 1:
            _fail(f"The function given to {kind} should return a single Tensor")
        if outs[0]._data.size != 1:
            _fail(f"The Tensor returned by the function given to {kind} should contain a "
                  "single element")
        jac = _grads(outs, xs, ones, True)
        for j, g in enumerate(jac):
            if g is None and kind != "hessian":
                _fail(indep.format(j))
            if g is None or not g._rg:
                _fail("While computing the hessian, found that the jacobian of the "
                      f"user-provided function with respect to input {j} is independent of "
                      "the input. This is not allowed in strict mode. You should ensure that "
                      "your function is twice differentiable and that the jacobian depends on "
                      "the inputs (this would be violated by a linear function for example).")
        if kind == "hessian":
            for i, g in enumerate(jac):
                for j, h in enumerate(_grads([g], xs, [_make(np.ones(g._data.shape,
                                                                    g._data.dtype))],
                                             create_graph)):
                    if h is None:
                        _fail(f"Output {i} of the user-provided function is independent of "
                              f"input {j}." + _NA)
                    if create_graph and not h._rg:
                        _fail(jac_cg.format(i))
        elif kind == "vhp":
            for i, r in enumerate(_grads(jac, xs, vs, create_graph)):
                if r is None:
                    _fail("The jacobian of the user-provided function is independent of "
                          f"input {i}." + _NA)
                if create_graph and not r._rg:
                    _fail(hes_cg.format(i))
        else:
            gj = [_make(np.zeros(x._data.shape, x._data.dtype), True) for x in xs]
            db = _grads(jac, xs, gj, True)
            for i, r in enumerate(_grads(db, gj, vs, create_graph)):
                if r is None:
                    _fail("The hessian of the user-provided function is independent of entry "
                          f"{i} in the grad_jacobian. This is not allowed in strict mode as it "
                          "prevents from using the double backward trick to replace forward "
                          "mode AD.")
                if create_graph and not r._rg:
                    _fail(hes_cg.format(i))


def _zeros(x):
    return _make(np.zeros(x._data.shape, x._data.dtype))


@_grad_on
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product at ``inputs``.

    >>> import chainrule
    >>> from chainrule.autograd.functional import vjp
    >>> vjp(lambda x: (x ** 2).sum(), chainrule.tensor([1.0, 2.0]))
    (tensor(5.), tensor([2., 4.]))
    """
    tok = new_token()
    is_in_tuple, ins = _as_tuple(inputs, "inputs", "vjp")
    handles, is_out_tuple, outs = _run(func, ins, "vjp", tok)
    if strict:
        _strict_outputs(outs)
    if v is None:
        if len(outs) != 1 or outs[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs = (_make(np.ones(outs[0]._data.shape, outs[0]._data.dtype)),)
    else:
        _, vs = _as_tuple(v, "v", "vjp")
        _validate_v(vs, outs, is_out_tuple)
    if strict:
        _strict_checks("vjp", func, ins, vs, create_graph)
    gs = vjp_core(list(outs), handles, list(vs), create_graph)
    gs = [g if g is not None else _zeros(h) for g, h in zip(gs, handles)]
    return (_tuple_back(_post(outs, create_graph, tok), is_out_tuple),
            _tuple_back(_post(gs, create_graph, tok), is_in_tuple))


@_grad_on
def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product at ``inputs`` (forward mode).

    >>> import chainrule
    >>> from chainrule.autograd.functional import jvp
    >>> jvp(lambda x: x ** 2, chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 1.0]))
    (tensor([1., 4.]), tensor([2., 4.]))
    """
    from ..func import _jvp_run, LEAFS
    tok = new_token()
    is_in_tuple, ins = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = (_make(np.ones(ins[0]._data.shape, ins[0]._data.dtype)),)
    else:
        _, vs = _as_tuple(v, "v", "jvp")
        _validate_v(vs, ins, is_in_tuple)
    if strict:
        _strict_checks("jvp", func, ins, vs, create_graph)
    handles = make_inputs(ins, set(), tok)
    holder = {}

    def f(*xs):
        with enable_grad():
            out = func(*xs)
        holder["tuple"], o = _as_tuple(out, "outputs of the user-provided function", "jvp")
        return o
    prim, tans, spec_o, _ = _jvp_run(f, handles, LEAFS(len(handles)), list(vs), {}, False,
                                     "jvp")
    return (_tuple_back(_post(prim, create_graph, tok), holder["tuple"]),
            _tuple_back(_post(tans, create_graph, tok), holder["tuple"]))


def _check_strategy(strategy, vectorize, strict):
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             "Hint: If your function has more outputs than inputs, "
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse "
                                  "Hessian isonly implemented for `vectorize=True`.")
    if strict and vectorize:
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")


@_grad_on
def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry [i][j] has shape
    ``outputs[i].shape + inputs[j].shape``.

    >>> import chainrule
    >>> from chainrule.autograd.functional import jacobian
    >>> jacobian(lambda x: x ** 2, chainrule.tensor([1.0, 2.0]))
    tensor([[2., 0.],
            [0., 4.]])
    """
    from .. import func as FN
    _check_strategy(strategy, vectorize, strict)
    tok = new_token()
    is_in_tuple, ins = _as_tuple(inputs, "inputs", "jacobian")
    if strict:
        _strict_checks("jacobian", func, ins, None, create_graph)
    handles = make_inputs(ins, set(), tok)
    holder = {}

    def f(*xs):
        with enable_grad():
            out = func(*xs)
        holder["tuple"], o = _as_tuple(out, "outputs of the user-provided function",
                                       "jacobian")
        return o
    nums = tuple(range(len(handles)))
    if strategy == "reverse-mode":
        jac = FN.jacrev(f, nums)(*handles)
    else:
        jac = FN.jacfwd(f, nums)(*handles)
    rows = []
    for row in jac:
        rows.append(_post(row, create_graph, tok))
    rows = [_tuple_back(r, is_in_tuple) for r in rows]
    if strategy == "forward-mode" and is_in_tuple:
        # torch's forward-mode jacobian gives lists (per input, and per output around them)
        rows = [list(r) for r in rows]
        return rows if holder["tuple"] else rows[0]
    return _tuple_back(tuple(rows), holder["tuple"])


@_grad_on
def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs`` (block [i][j] has shape
    ``inputs[i].shape + inputs[j].shape``).

    >>> import chainrule
    >>> from chainrule.autograd.functional import hessian
    >>> hessian(lambda x: (x ** 3).sum(), chainrule.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    from .. import func as FN
    _check_strategy(outer_jacobian_strategy, vectorize, strict)
    tok = new_token()
    is_in_tuple, ins = _as_tuple(inputs, "inputs", "hessian")
    if strict:
        _strict_checks("hessian", func, ins, None, create_graph)
    if not create_graph and all(_plain(x) for x in ins):
        # no graph wanted back and no transform state: differentiate detached inputs, so the
        # inner transforms need not record anything
        handles = [_make(x._data) for x in ins]
    else:
        handles = make_inputs(ins, set(), tok)

    def scalar(*xs):
        with enable_grad():
            out = func(*xs)
        is_t, o = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if is_t or len(o) != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if o[0]._data.size != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return o[0].reshape(())
    nums = tuple(range(len(handles)))
    # NOTE: both strategies give the same matrix; forward-over-reverse (one vectorised forward
    # pass over the gradient's computation) is the faster way to get it
    hes = FN.jacfwd(FN.jacrev(scalar, nums), nums)(*handles)
    rows = [_tuple_back(_post(row, create_graph, tok), is_in_tuple) for row in hes]
    if is_in_tuple and outer_jacobian_strategy == "reverse-mode" and \
            len({x._data.dtype for x in ins}) > 1:
        # torch's reverse-mode outer jacobian gives block [i][j] the dtype of input j
        rows = [tuple(b if b.dtype == x.dtype else b.to(x.dtype) for b, x in zip(r, ins))
                for r in rows]
    if outer_jacobian_strategy == "forward-mode" and is_in_tuple:
        return [list(r) for r in rows]    # lists, as torch's forward-mode outer jacobian
    return _tuple_back(tuple(rows), is_in_tuple)


def _hv(func, inputs, v, create_graph, strict, name, forward):
    from ..func import _jvp_run, LEAFS
    tok = new_token()
    is_in_tuple, ins = _as_tuple(inputs, "inputs", name)
    if v is None:
        if len(ins) != 1 or ins[0]._data.size != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = (_make(np.ones(ins[0]._data.shape, ins[0]._data.dtype)),)
    else:
        _, vs = _as_tuple(v, "v", name)
        _validate_v(vs, ins, is_in_tuple)
    if strict:
        _strict_checks(name, func, ins, vs, create_graph)
    handles = make_inputs(ins, set(), tok)
    holder = {}

    def grads(*xs):
        with enable_grad():
            out = func(*xs)
        is_t, o = _as_tuple(out, "outputs of the user-provided function", name)
        if is_t or len(o) != 1:
            raise RuntimeError(f"The function given to {name} should return a single Tensor")
        if o[0]._data.size != 1:
            raise RuntimeError(f"The Tensor returned by the function given to {name} should "
                               "contain a single element")
        holder["out"] = o[0]
        gs = vjp_core([o[0]], list(xs), [_make(np.ones(o[0]._data.shape, o[0]._data.dtype))],
                      create_graph or not forward)
        return tuple(g if g is not None else xs[i] * 0 for i, g in enumerate(gs))
    if forward:
        _, tans, _, _ = _jvp_run(grads, handles, LEAFS(len(handles)), list(vs), {}, False,
                                 name)
        res = tans
    else:
        gs = grads(*handles)
        res = vjp_core(list(gs), handles, list(vs), create_graph)
        res = [r if r is not None else _zeros(h) for r, h in zip(res, handles)]
    out = holder["out"]
    if forward:
        out = _unpacked(out)
    return (_post((out,), create_graph, tok)[0],
            _tuple_back(_post(res, create_graph, tok), is_in_tuple))


def _unpacked(o):
    c = _make(T.fresh(o._data), o._rg, o.grad_fn, o._nr)
    T._hold_acc(o, c)
    return c


@_grad_on
def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)``: Hessian-vector product of a scalar function (forward over
    reverse, one pass).

    >>> import chainrule
    >>> from chainrule.autograd.functional import hvp
    >>> hvp(lambda x: (x ** 3).sum(), chainrule.tensor([1.0, 2.0]), chainrule.ones(2))[1]
    tensor([ 6., 12.])
    """
    return _hv(func, inputs, v, create_graph, strict, "hvp", True)


@_grad_on
def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``: vector-Hessian product of a scalar function (reverse over
    reverse).

    >>> import chainrule
    >>> from chainrule.autograd.functional import vhp
    >>> vhp(lambda x: (x ** 3).sum(), chainrule.tensor([1.0, 2.0]), chainrule.ones(2))[1]
    tensor([ 6., 12.])
    """
    return _hv(func, inputs, v, create_graph, strict, "vhp", False)
