"""torch-style tensor printing."""
import numpy as np

from . import dtypes as _dt

_opts = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Printing options, as torch.set_printoptions.

    >>> import chainrule
    >>> chainrule.set_printoptions(precision=2); chainrule.tensor([1.2345])
    tensor([1.23])
    >>> chainrule.set_printoptions(profile="default")
    """
    if profile == "default":
        _opts.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        _opts.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        _opts.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            _opts[k] = v
    _opts["sci_mode"] = sci_mode


def _formatter(arr):
    kind = arr.dtype.kind
    if kind == "b":
        return lambda v: "True" if v else "False"
    if kind in "iu":
        return lambda v: str(int(v))
    p = _opts["precision"]
    vals = arr[np.isfinite(arr)] if arr.size else arr
    vals = np.abs(vals.astype(np.float64))
    nz = vals[vals != 0]
    int_mode = vals.size == 0 or bool(np.all(np.ceil(vals) == vals))
    sci = False
    if nz.size:
        mx, mn = nz.max(), nz.min()
        if int_mode:
            sci = mx > 1e8
        else:
            sci = mx / mn > 1000.0 or mx > 1e8 or mn < 1e-4
    if _opts["sci_mode"] is not None:
        sci = _opts["sci_mode"]

    def fmt(v):
        v = float(v)
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        if sci:
            return f"{v:.{p}e}"
        if int_mode:
            return f"{v:.0f}."
        return f"{v:.{p}f}"
    return fmt


def _summarize(arr, edge):
    """Index lists per dim (None marks the '...' gap) for a summarized print."""
    return [list(range(n)) if n <= 2 * edge else list(range(edge)) + [None] +
            list(range(n - edge, n)) for n in arr.shape]


def _format_array(arr, indent):
    summarize = arr.size > _opts["threshold"]
    edge = _opts["edgeitems"]
    if summarize:
        keep = _summarize(arr, edge)
        sel = arr[np.ix_(*[[i for i in k if i is not None] for k in keep])] if arr.ndim else arr
    else:
        keep = None
        sel = arr
    fmt = _formatter(sel)
    strs = np.vectorize(fmt, otypes=[object])(sel) if sel.size else sel.astype(object)
    # as torch: only finite values set the column width; inf/nan are padded up to it
    fin = strs[np.isfinite(sel)] if sel.dtype.kind == "f" else strs
    width = max((len(s) for s in (fin if fin.size else strs).ravel()), default=1)
    lw = _opts["linewidth"]

    def rec(a, keep_dims, depth):
        if a.ndim == 0:
            return a.item().rjust(width)
        if a.ndim == 1:
            items = [s.rjust(width) for s in a.tolist()]
            if keep_dims is not None and None in keep_dims[0]:
                items.insert(edge, "...")
            per = max(1, (lw - indent - depth) // (width + 2))
            lines = [", ".join(items[i:i + per]) for i in range(0, len(items), per)]
            return "[" + (",\n" + " " * (indent + depth + 1)).join(lines) + "]"
        parts = [rec(a[i], keep_dims[1:] if keep_dims else None, depth + 1)
                 for i in range(a.shape[0])]
        if keep_dims is not None and None in keep_dims[0]:
            parts.insert(edge, "...")
        sep = "," + "\n" * (a.ndim - 1) + " " * (indent + depth + 1)
        return "[" + sep.join(parts) + "]"
    return rec(strs, keep, 0)


def tensor_repr(t):
    arr = t._data
    prefix = "tensor("
    suffixes = []
    default_ok = arr.dtype in (np.int64, np.bool_) or (
        arr.dtype == _dt.get_default_dtype().np)
    if arr.size == 0 and arr.ndim != 1 or arr.size == 0 and arr.shape != (0,):
        body = "[]"
        suffixes.append(f"size={tuple(arr.shape)}")
    elif arr.size == 0:
        body = "[]"
    else:
        body = _format_array(arr, len(prefix))
    if not default_ok or (arr.size == 0 and arr.dtype != _dt.get_default_dtype().np
                          and arr.dtype != np.int64):
        suffixes.append(f"dtype=chainrule.{_dt.from_numpy_dtype(arr.dtype).name}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
