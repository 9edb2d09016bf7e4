"""draw(): the graph of a tensor as DOT text, rendered to SVG/PNG by Graphviz's ``dot``."""
import os
import shutil
import subprocess
import warnings

from ..autograd import function as F
from . import _record
from ._walk import Walk, fmt, fmt_shape, op_name

INSTALL_HINT = ("Graphviz's `dot` program is not installed, so only the DOT text is available. "
                "Install it with `apt-get install graphviz` (Debian/Ubuntu), `brew install "
                "graphviz` (macOS) or `conda install graphviz`, or paste the DOT text into any "
                "Graphviz viewer.")

FORWARD = "black"
BACKWARD = "darkorange"
_COLORS = {"leaf": "lightblue", "param": "lightyellow", "output": "darkolivegreen1",
           "fn": "gray92", "module": "lavender"}


class GraphvizNotFound(RuntimeError):
    """Raised when a picture is asked for but Graphviz's ``dot`` program is missing."""


def dot_available():
    """The path of Graphviz's ``dot`` program, or None when it is not installed."""
    return shutil.which("dot")


class Graph:
    """A drawn graph: ``source`` is its DOT text; ``svg()``, ``pipe(fmt)`` and ``save(path)``
    render it with Graphviz; Jupyter shows it inline.

    >>> import chainrule
    >>> g = chainrule.viz.Graph('digraph { a -> b }')
    >>> g.source
    'digraph { a -> b }'
    """

    def __init__(self, source):
        self.source = source

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<chainrule.viz.Graph: {self.source.count(' -> ')} edges; .source has the DOT>"

    def pipe(self, format="svg"):
        """Render with Graphviz and return the bytes (``format``: svg, png, pdf, ...)."""
        exe = dot_available()
        if exe is None:
            raise GraphvizNotFound(INSTALL_HINT)
        res = subprocess.run([exe, f"-T{format}"], input=self.source.encode(),
                             capture_output=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"dot failed: {res.stderr.decode(errors='replace').strip()}")
        return res.stdout

    def svg(self):
        """The picture as SVG text (needs Graphviz's ``dot``)."""
        return self.pipe("svg").decode()

    def save(self, path, format=None):
        """Write the picture; the format comes from the file's extension (.svg, .png, .pdf,
        .dot/.gv for the DOT text). Without Graphviz, writes the DOT text next to ``path``
        (same name, .dot), warns with the install hint, and returns that path."""
        path = os.fspath(path)
        fmt_ = (format or os.path.splitext(path)[1].lstrip(".") or "svg").lower()
        if fmt_ in ("dot", "gv"):
            with open(path, "w") as f:
                f.write(self.source)
            return path
        try:
            data = self.pipe(fmt_)
        except GraphvizNotFound:
            alt = os.path.splitext(path)[0] + ".dot"
            with open(alt, "w") as f:
                f.write(self.source)
            warnings.warn(f"{INSTALL_HINT} Wrote the DOT text to {alt}.", stacklevel=2)
            return alt
        with open(path, "wb") as f:
            f.write(data)
        return path

    render = save

    def _repr_svg_(self):
        return self.svg() if dot_available() else None

    def _repr_mimebundle_(self, include=None, exclude=None):
        if dot_available():
            return {"image/svg+xml": self.svg()}
        return {"text/plain": INSTALL_HINT + "\n\n" + self.source}


def _q(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw):
    return "[" + ", ".join(f"{k}={_q(v)}" for k, v in kw.items() if v is not None) + "]"


def _collapse_key(path, collapse):
    if not path or collapse is None or collapse is False:
        return None
    parts = path.split(".")
    if collapse is True:
        return parts[0]
    if isinstance(collapse, int):
        return ".".join(parts[:collapse]) if collapse > 0 else None
    if isinstance(collapse, str):
        collapse = [collapse]
    for c in collapse:
        if path == c or path.startswith(c + "."):
            return c
    return None


def draw(output, names=None, show_grads=True, *, model=None, collapse=None, rankdir="TB",
         max_elems=4):
    """Draw the graph that computed ``output``: functions as boxes (name, output shape, value
    when small), leaves as ellipses named from ``names`` ({name: tensor}), the tensor's
    ``.name`` or ``model``'s parameter paths. Forward edges are black and carry values; once
    backward has run, orange edges carry the gradients flowing back.

    Values of intermediate results and per-edge gradients are known when the computation ran
    inside :class:`record` (nodes do not keep their outputs); otherwise edges show shapes and
    only leaves show gradients. With ``record(model)`` ops are framed by module, and
    ``collapse`` (True: top-level modules, an int: that depth, or module paths) turns modules
    into single boxes. Returns a :class:`Graph` (``.source`` is DOT; ``.save('g.svg')``).

    >>> import chainrule
    >>> x = chainrule.tensor(2.0, requires_grad=True); x.name = "x"
    >>> y = 5 * x ** 2 + 3
    >>> g = chainrule.viz.draw(y)
    >>> "Pow" in g.source and '"x' in g.source
    True
    """
    w = Walk(output, names, model)
    grads = show_grads and w.backward_ran()
    lines = ["digraph chainrule {",
             f"  graph [rankdir={rankdir}, fontname=Helvetica, nodesep=0.35, ranksep=0.4];",
             "  node [fontname=Helvetica, fontsize=11, style=filled, penwidth=0.8];",
             "  edge [fontname=Helvetica, fontsize=10, arrowsize=0.7];"]
    ids = {n: f"n{k}" for k, n in enumerate(w.order)}
    rep = {}
    boxes = {}                        # collapsed module path -> (dot id, [member nodes])
    for n in w.order:
        key = _collapse_key(w.module(n), collapse)
        if key is None:
            rep[n] = ids[n]
        else:
            if key not in boxes:
                boxes[key] = (f"m{len(boxes)}", [])
            boxes[key][1].append(n)
            rep[n] = boxes[key][0]

    clusters = {}                     # module path -> node statements
    for n in w.forward:
        if rep[n] != ids[n]:
            continue
        if type(n) is F.AccumulateGrad:
            stmt = _leaf_stmt(w, n, ids[n], grads, max_elems)
        else:
            stmt = _fn_stmt(w, n, ids[n], max_elems)
        clusters.setdefault(w.module(n), []).append(stmt)
    for key, (bid, members) in boxes.items():
        lines.append("  " + _box_stmt(w, key, bid, members))
    for k, (path, stmts) in enumerate(clusters.items()):
        if path is None:
            lines.extend("  " + s for s in stmts)
            continue
        mod = w.modules.get(path)
        title = f"{path}: {type(mod).__name__}" if mod is not None else path
        lines.append(f"  subgraph cluster_{k} {{")
        frame = _attrs(label=title, style="dashed,rounded", color="gray50", fontsize="10")
        lines.append(f"    graph {frame};")
        lines.extend("    " + s for s in stmts)
        lines.append("  }")

    # edges: one per (source tensor, destination box), gradients added up when merged
    edges = {}
    for n in w.forward:
        for i, src, nr, shape in w.inputs[n]:
            a, b = rep[src], rep[n]
            if a == b:
                continue
            key = (a, b, src, nr)
            g = w.edge_grad(n, i, shape) if grads else None
            if g is None and grads and type(src) is F.AccumulateGrad and \
                    len(w.consumers[(src, nr)]) == 1 and src.variable.grad is not None:
                g = src.variable.grad._data
            if key in edges:
                old = edges[key][1]
                edges[key] = (shape, _plus(old, g))
            else:
                edges[key] = (shape, g)
    for (a, b, src, nr), (shape, g) in edges.items():
        val = fmt(w.value(src, nr), max_elems)
        lines.append(f"  {a} -> {b} " + _attrs(label=val if val is not None else fmt_shape(shape),
                                               color=FORWARD))
        if grads and g is not None:
            lines.append(f"  {a} -> {b} " + _back_attrs(g, max_elems))
    _consts(w, rep, lines, max_elems)

    if type(w.root) is not F.AccumulateGrad:       # a leaf output is already drawn
        _output(w, rep, lines, grads, max_elems)
    lines.append("}")
    return Graph("\n".join(lines) + "\n")


def _output(w, rep, lines, grads, max_elems):
    out_name = w.var[w.out_key]
    out_val = fmt(w.output._data, max_elems)
    label = out_name + (f" = {out_val}" if out_val is not None else "") + \
        ("" if w.output.ndim == 0 else "\n" + fmt_shape(w.output.shape))
    lines.append("  out " + _attrs(label=label, shape="ellipse", fillcolor=_COLORS["output"]))
    lines.append(f"  {rep[w.root]} -> out " + _attrs(label=out_val or "", color=FORWARD))
    seed = w.seed() if grads else None
    if seed is not None:
        lines.append(f"  {rep[w.root]} -> out " + _back_attrs(seed, max_elems))


def _plus(a, b):
    if a is None or b is None:
        return None
    if isinstance(a, _record.Shape) or isinstance(b, _record.Shape):
        return _record.Shape(a.shape)
    return a + b


def _back_attrs(g, max_elems):
    label = fmt(g, max_elems)
    return _attrs(label=label if label is not None else "grad " + fmt_shape(g.shape),
                  color=BACKWARD, fontcolor=BACKWARD, dir="back", style="bold")


def _leaf_stmt(w, n, nid, grads, max_elems):
    t = n.variable
    name = w.var[(n, 0)]
    val = fmt(t._data, max_elems)
    parts = [name + (f" = {val}" if val is not None else "")]
    if t.ndim:
        parts.append(fmt_shape(t.shape))
    if grads and t.grad is not None:
        gv = fmt(t.grad._data, max_elems)
        if gv is not None:
            parts.append(f"grad {gv}")
    color = _COLORS["param"] if id(t) in w.param_of else _COLORS["leaf"]
    return f"{nid} " + _attrs(label="\n".join(parts), shape="ellipse", fillcolor=color)


def _fn_stmt(w, n, nid, max_elems):
    parts = [op_name(n)]
    for nr in w._outputs(n):
        shape = w.shape(n, nr)
        val = fmt(w.value(n, nr), max_elems)
        line = w.var[(n, nr)] + (" " + fmt_shape(shape) if shape is not None else "")
        if val is not None:
            line += f" = {val}"
        parts.append(line)
    return f"{nid} " + _attrs(label="\n".join(parts), shape="box", fillcolor=_COLORS["fn"],
                              style="filled,rounded")


def _box_stmt(w, key, bid, members):
    mod = w.modules.get(key)
    title = key + (f": {type(mod).__name__}" if mod is not None else "")
    parts = [title]
    params = [w.var[(n, 0)].rpartition(".")[2] + " " + fmt_shape(n.variable.shape)
              for n in members if type(n) is F.AccumulateGrad]
    if params:
        parts.append(", ".join(params))
    return f"{bid} " + _attrs(label="\n".join(parts), shape="box3d",
                              fillcolor=_COLORS["module"])


def _consts(w, rep, lines, max_elems):
    """Constant arguments (numbers, tensors that need no grad) as small plain nodes."""
    k = 0
    seen = set()
    for n in w.forward:
        for i, c in sorted(w.consts(n).items()):
            if isinstance(c, tuple):
                label = "tensor " + fmt_shape(c)
            else:
                label = fmt(c, max_elems) or "tensor " + fmt_shape(c.shape)
            in_box = rep[n].startswith("m")
            if in_box and not isinstance(c, tuple) or (rep[n], label) in seen:
                continue
            seen.add((rep[n], label))
            cid = f"c{k}"
            k += 1
            lines.append(f"  {cid} " + _attrs(label=label, shape="plaintext", style="",
                                              fontcolor="gray30"))
            lines.append(f"  {cid} -> {rep[n]} " + _attrs(color="gray60", style="dashed"))
