"""The graph behind a tensor, read for pictures and explanations: nodes in backward order,
names for every tensor on it, values and gradients where they are known."""
import re

import numpy as np

from ..autograd import function as F
from . import _record

_SUFFIX = re.compile(r"Backward\d*$")


def op_name(node):
    """'MulBackward0' -> 'Mul'."""
    return _SUFFIX.sub("", node.name()) or node.name()


def sum_to(a, shape):
    """Sum a broadcast gradient down to ``shape`` (as the engine does)."""
    if a is None or a.shape == tuple(shape):
        return a
    if isinstance(a, _record.Shape):
        return _record.Shape(shape)
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(shape)
                                      if s == 1 and a.shape[lead + k] != 1)
    return a.sum(axis=axes, keepdims=True).reshape(shape) if axes else a.reshape(shape)


def fmt_num(v, digits=4):
    v = float(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def fmt(a, max_elems=4):
    """Short text for a value: a number, a small array, or None when too large."""
    if a is None or isinstance(a, _record.Shape):
        return None
    if isinstance(a, (int, float, bool, np.generic)):
        return fmt_num(a)
    a = np.asarray(a)
    if a.ndim == 0:
        return fmt_num(a) if a.dtype.kind in "fiub" else str(a)
    if a.size > max_elems:
        return None
    if a.dtype.kind not in "fiub":
        return str(a.tolist())

    def rec(x):
        if x.ndim == 1:
            return "[" + ", ".join(fmt_num(v, 3) for v in x) + "]"
        return "[" + ", ".join(rec(r) for r in x) + "]"
    return rec(a)


def fmt_shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class Walk:
    """Everything reachable from ``output`` backwards."""

    def __init__(self, output, names=None, model=None):
        if not isinstance(output, F.Tensor):
            raise TypeError(f"expected a chainrule Tensor, got {type(output).__name__}")
        if not output.requires_grad:
            raise ValueError("this tensor has no graph: it does not require grad (build it "
                             "from a tensor made with requires_grad=True)")
        self.output = output
        root = output.grad_fn if output.grad_fn is not None else F._edge(output)[0]
        self.root = root
        self.inputs = {}            # node -> [(arg position, src node, src output nr, shape)]
        self.consumers = {}         # (src, nr) -> [(node, arg position)]
        deps = {}
        stack, seen = [root], {root}
        while stack:
            n = stack.pop()
            ins = []
            metas = getattr(n, "_in_meta", ())
            for i, e in enumerate(n._next):
                if e is None:
                    continue
                m, nr = e
                shape = tuple(metas[i][0])
                ins.append((i, m, nr, shape))
                self.consumers.setdefault((m, nr), []).append((n, i))
                deps[m] = deps.get(m, 0) + 1
                if m not in seen:
                    seen.add(m)
                    stack.append(m)
            self.inputs[n] = ins
        order, ready = [], [root]
        while ready:                 # consumers before producers, as backward runs
            n = ready.pop()
            order.append(n)
            for _, m, _, _ in reversed(self.inputs[n]):
                deps[m] -= 1
                if deps[m] == 0:
                    ready.append(m)
        self.order = order
        self.forward = self._postorder()
        self._name_everything(names, model)

    def _postorder(self):
        """Nodes with inputs before users, inputs taken in argument order (forward order)."""
        out, done = [], set()
        stack = [(self.root, 0)]
        while stack:
            n, k = stack.pop()
            ins = self.inputs[n]
            if k < len(ins):
                stack.append((n, k + 1))
                m = ins[k][1]
                if m not in done:
                    done.add(m)
                    stack.append((m, 0))
            else:
                out.append(n)
        return out

    # -- names -------------------------------------------------------------------------------
    def _name_everything(self, names, model):
        given = {}
        self.param_of = {}          # id(leaf) -> module path, for parameters of ``model``
        self.modules = {}           # module path -> module
        if model is not None:
            self.modules = dict(model.named_modules())
            for path, p in model.named_parameters():
                given.setdefault(id(p), path)
                self.param_of[id(p)] = path.rpartition(".")[0]
        for t in self._leaves():
            if t.name is not None:
                given[id(t)] = str(t.name)
        if isinstance(names, dict):
            for k, v in names.items():
                if isinstance(v, F.Tensor):
                    given[id(v)] = str(k)
                elif isinstance(k, F.Tensor):
                    given[id(k)] = str(v)
        elif names is not None:
            raise TypeError("names must be a dict {name: tensor}")
        out = self.output
        used = set(given.values())
        self.var = {}               # (node, nr) -> name
        out_name = given.get(id(out)) or (str(out.name) if out.name is not None else None)
        if out_name is None:
            out_name = "y" if "y" not in used else self._fresh("y", used)
        used.add(out_name)
        self.out_key = (self.root, out._nr if out.grad_fn is not None else 0)
        self.var[self.out_key] = out_name
        unnamed = [t for t in self._leaves() if id(t) not in given and t is not out]
        for k, t in enumerate(unnamed):
            base = "x" if len(unnamed) == 1 and "x" not in used else None
            nm = base or self._fresh("x", used)
            given[id(t)] = nm
            used.add(nm)
        for n in self.order:
            if type(n) is F.AccumulateGrad and (n, 0) not in self.var:
                self.var[(n, 0)] = given[id(n.variable)]
        count = 0
        for n in self.forward:
            if type(n) is F.AccumulateGrad:
                continue
            for nr in self._outputs(n):
                if (n, nr) in self.var:
                    continue
                count += 1
                nm = f"u{count}"
                while nm in used:
                    count += 1
                    nm = f"u{count}"
                used.add(nm)
                self.var[(n, nr)] = nm

    @staticmethod
    def _fresh(base, used):
        k = 1
        while f"{base}{k}" in used:
            k += 1
        return f"{base}{k}"

    def _leaves(self):
        return [n.variable for n in self.forward if type(n) is F.AccumulateGrad]

    def _outputs(self, n):
        nrs = sorted({nr for (m, nr) in self.consumers if m is n})
        if n is self.out_key[0] and self.out_key[1] not in nrs:
            nrs.append(self.out_key[1])
        return nrs

    # -- values ------------------------------------------------------------------------------
    def shape(self, node, nr):
        if (node, nr) == self.out_key:
            return tuple(self.output.shape)
        if type(node) is F.AccumulateGrad:
            return tuple(node.variable.shape)
        cons = self.consumers.get((node, nr))
        if cons:
            n, i = cons[0]
            return tuple(n._in_meta[i][0])
        return None

    def value(self, node, nr):
        if (node, nr) == self.out_key:
            return self.output._data
        if type(node) is F.AccumulateGrad:
            return node.variable._data
        rec = _record.info(node)
        return rec.values.get(nr) if rec is not None else None

    def edge_grad(self, node, i, shape):
        """The gradient that node's backward sent along its input edge i (last backward)."""
        rec = _record.info(node)
        if rec is None or rec.grad_in is None or i >= len(rec.grad_in):
            return None
        return sum_to(rec.grad_in[i], shape)

    def seed(self):
        """The gradient the output received in the last backward (1 for a scalar loss)."""
        rec = _record.info(self.root)
        if rec is None or rec.grad_out is None:
            return None
        return rec.grad_out[self.out_key[1]]

    def consts(self, node):
        rec = _record.info(node)
        return rec.consts if rec is not None else {}

    def module(self, node):
        if type(node) is F.AccumulateGrad:
            return self.param_of.get(id(node.variable))
        rec = _record.info(node)
        return rec.module if rec is not None else None

    def backward_ran(self):
        if self.seed() is not None:
            return True
        return any(type(n) is F.AccumulateGrad and n.variable.grad is not None
                   for n in self.order)
