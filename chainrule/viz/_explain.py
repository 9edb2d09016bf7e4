"""explain(): print a backward pass as chain-rule arithmetic, one line per tensor, in the order
the engine visits the graph."""
import sys

import numpy as np

from ..autograd import function as F
from . import _record
from ._walk import Walk, fmt, fmt_shape, op_name, sum_to

_INFIX = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "Pow": "**", "MatMul": "@"}


def _arr(g):
    if g is None:
        return None
    return np.array(g._data if isinstance(g, F.Tensor) else g, copy=True)


def _run_passes(w, output, grad_output):
    """Two backward passes with hooks on every node: the real one (what flows where, and the
    order nodes run in) and one seeded with ones at every node (the local derivatives)."""
    import chainrule
    leaves = [n.variable for n in w.order if type(n) is F.AccumulateGrad]
    order, gout, gin, local = [], {}, {}, {}
    handles = []

    def pre(n):
        def hook(go):
            order.append(n)
            gout[n] = [_arr(g) for g in go]
        return hook

    def post(store, n):
        def hook(gi, go):
            store[n] = [_arr(g) for g in gi]
        return hook

    def ones(go):
        return tuple(None if g is None else F.Tensor._make(np.ones_like(g._data)) for g in go)

    prev = _record._capture[0]
    _record._capture[0] = False
    try:
        for n in w.order:
            handles.append(n.register_prehook(pre(n)))
            if type(n) is not F.AccumulateGrad:
                handles.append(n.register_hook(post(gin, n)))
        chainrule.autograd.grad(output, leaves, grad_output, retain_graph=True,
                                allow_unused=True)
        for h in handles:
            h.remove()
        handles = []
        for n in w.order:
            if type(n) is not F.AccumulateGrad:
                handles.append(n.register_prehook(ones))
                handles.append(n.register_hook(post(local, n)))
        chainrule.autograd.grad(output, leaves, grad_output, retain_graph=True,
                                allow_unused=True)
    except RuntimeError as e:
        if "retain_graph" in str(e):
            raise RuntimeError("explain() needs the graph, but a backward pass has already freed "
                               "it: call explain() before backward(), or use "
                               "backward(retain_graph=True)") from None
        raise
    finally:
        for h in handles:
            h.remove()
        _record._capture[0] = prev
    return order, gout, gin, local


def _forward_line(w, n, max_elems):
    args = []
    edges = {i: w.var[(m, nr)] for i, m, nr, _ in w.inputs[n]}
    consts = w.consts(n)
    for i in range(len(n._next)):
        if i in edges:
            args.append(edges[i])
        elif i in consts:
            c = consts[i]
            args.append("tensor " + fmt_shape(c) if isinstance(c, tuple) else
                        fmt(c, max_elems) or "tensor " + fmt_shape(np.shape(c)))
        else:
            args.append("?")
    op = op_name(n)
    while op not in _INFIX and len(args) > 1 and args[-1] == "?":
        args.pop()
    if op in _INFIX and len(args) == 2:
        expr = f"{args[0]} {_INFIX[op]} {args[1]}"
    elif op == "Neg" and len(args) == 1:
        expr = f"-{args[0]}"
    else:
        expr = f"{op[:1].lower() + op[1:] if type(n) is not F.FunctionCtx else op}" \
               f"({', '.join(args)})"
    lines = []
    for nr in w._outputs(n):
        val = fmt(w.value(n, nr), max_elems)
        shape = w.shape(n, nr)
        tail = f" = {val}" if val is not None else (
            f"   shape {fmt_shape(shape)}" if shape is not None else "")
        target = w.var[(n, nr)]
        lines.append(f"  {target} = {expr}{tail}" if len(w._outputs(n)) == 1 else
                     f"  {target} = {expr}[{nr}]{tail}")
    return lines


def _val(a, max_elems):
    s = fmt(a, max_elems)
    return s if s is not None else f"<{fmt_shape(a.shape)} values>"


def _factor(a, max_elems):
    s = _val(a, max_elems)
    return f"({s})" if s.startswith("-") else s


def explain(output, names=None, *, model=None, grad_output=None, file=None, max_elems=4):
    """Print how backward applies the chain rule to ``output``: first the forward results it
    starts from, then one line per tensor, in the order the engine reaches them, e.g.
    ``dy/dx = dy/du1 * du1/dx = 5 * 4 = 20``. A tensor used twice gets a sum of such products.
    Non-scalar steps print the vector-Jacobian product. Run it before ``backward()`` (or after
    ``backward(retain_graph=True)``); the graph and ``.grad`` are left as they were. Constants
    and intermediate values appear when the computation ran inside :class:`record`.

    >>> import chainrule
    >>> x = chainrule.tensor(2.0, requires_grad=True)
    >>> chainrule.viz.explain(5 * x ** 2 + 3)
    Forward:
      u1 = x ** ?   shape ()
      u2 = ? * u1   shape ()
      y = u2 + ? = 23
    Backward (chain rule, from y back to the inputs):
      dy/dy = 1
      dy/du2 = dy/dy * dy/du2 = 1 * 1 = 1
      dy/du1 = dy/du2 * du2/du1 = 1 * 5 = 5
      dy/dx = dy/du1 * du1/dx = 5 * 4 = 20
    """
    out = sys.stdout if file is None else file
    w = Walk(output, names, model)
    if grad_output is None and output.numel() != 1:
        raise RuntimeError("explain() of a non-scalar output needs grad_output (the gradient "
                           "to start from), as backward() does")
    order, gout, gin, local = _run_passes(w, output, grad_output)
    y = w.var[w.out_key]
    lines = ["Forward:"]
    for n in w.forward:
        if type(n) is not F.AccumulateGrad:
            lines.extend(_forward_line(w, n, max_elems))
    lines.append(f"Backward (chain rule, from {y} back to the inputs):")
    for n in order:
        outs = w._outputs(n) if type(n) is not F.AccumulateGrad else [0]
        for nr in outs:
            lines.append("  " + _step(w, n, nr, gout, gin, local, max_elems))
    print("\n".join(lines), file=out)


def _step(w, n, nr, gout, gin, local, max_elems):
    y = w.var[w.out_key]
    v = w.var[(n, nr)]
    total = gout[n][nr] if n in gout and nr < len(gout[n]) else None
    if (n, nr) == w.out_key:
        return f"d{y}/d{v} = {_val(total, max_elems)}"
    names, values, exact = [], [], True
    for c, i in w.consumers.get((n, nr), []):
        if c not in gin or gin[c][i] is None:
            continue
        shape = w.shape(n, nr)
        c_outs = w._outputs(c)
        cv = w.var[(c, c_outs[0])]
        a = gout[c][c_outs[0]]
        b = sum_to(local[c][i], shape) if c in local and local[c][i] is not None else None
        simple = (len(c_outs) == 1 and a is not None and b is not None and
                  (a.size == 1 and b.size == 1 or
                   a.shape == b.shape and type(c).__module__.endswith("ops.elementwise")))
        if simple:
            names.append(f"d{y}/d{cv} * d{cv}/d{v}")
            values.append(f"{_factor(a, max_elems)} * {_factor(b, max_elems)}")
        else:
            names.append(f"d{y}/d{cv} @ d{cv}/d{v}")
            exact = False
    lhs = f"d{y}/d{v}"
    if not names:
        return f"{lhs} = {_val(total, max_elems)}"
    res = f"{lhs} = {' + '.join(names)}"
    if exact:
        res += f" = {' + '.join(values)}"
    else:
        res += "  (vector-Jacobian product)"
    return res + f" = {_val(total, max_elems)}"
