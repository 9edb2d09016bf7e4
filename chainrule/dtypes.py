"""dtype objects, torch's promotion rules and the default float dtype."""
import builtins as _b
import threading

import numpy as np

__all__ = ["dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
           "float64", "float", "double", "half", "long", "int", "short", "get_default_dtype",
           "set_default_dtype", "promote_types", "result_type", "finfo", "iinfo"]

class dtype:
    """A tensor element type, e.g. ``chainrule.float32``.

    >>> import chainrule
    >>> chainrule.tensor([1.0]).dtype
    chainrule.float32
    """
    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize", "_cat", "_rank")

    def __init__(self, name, np_dtype, cat, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = cat == 2
        self.is_signed = self.np.kind in "if"
        self.itemsize = self.np.itemsize
        self._cat = cat      # 0 bool, 1 integer, 2 floating
        self._rank = rank    # order inside the category for promotion

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __repr__(self):
        return "chainrule." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))


bool = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 1)
int16 = dtype("int16", np.int16, 1, 2)
int32 = dtype("int32", np.int32, 1, 3)
int64 = dtype("int64", np.int64, 1, 4)
float16 = dtype("float16", np.float16, 2, 1)
float32 = dtype("float32", np.float32, 2, 2)
float64 = dtype("float64", np.float64, 2, 3)
float, double, half, long, int, short = float32, float64, float16, int64, int32, int16

_ALL = (bool, uint8, int8, int16, int32, int64, float16, float32, float64)
_FROM_NP = {d.np: d for d in _ALL}
_NAMES = {d.name: d for d in _ALL}
_NAMES.update(float=float32, double=float64, half=float16, long=int64, int=int32, short=int16)


# torch's scalar-type names, as its error messages spell them ('Float', 'Long', ...), by
# NumPy dtype name
SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool"}


def _by_name(name):
    return _NAMES[name]


def from_numpy_dtype(npd):
    try:
        return _FROM_NP[np.dtype(npd)]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(npd)}. The only supported "
                        "types are: float64, float32, float16, int64, int32, int16, int8, "
                        "uint8, and bool.") from None


def to_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype, a Python type or a name."""
    if d is None or type(d) is dtype:
        return d
    if d is _b.float:
        return get_default_dtype()
    if d is _b.int:
        return int64
    if d is _b.bool:
        return bool
    if isinstance(d, str) and d in _NAMES:
        return _NAMES[d]
    return from_numpy_dtype(d)


_state = threading.local()


def get_default_dtype():
    """The dtype of new floating tensors (float32 unless changed).

    >>> import chainrule
    >>> chainrule.get_default_dtype()
    chainrule.float32
    """
    return getattr(_state, "default", float32)


def set_default_dtype(d):
    """Set the default floating dtype (float16, float32 or float64).

    >>> import chainrule
    >>> chainrule.set_default_dtype(chainrule.float64); chainrule.tensor(1.5).dtype
    chainrule.float64
    >>> chainrule.set_default_dtype(chainrule.float32)
    """
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _state.default = d


def promote_types(a, b):
    """The smallest dtype both ``a`` and ``b`` convert to without losing category.

    >>> import chainrule
    >>> chainrule.promote_types(chainrule.int32, chainrule.float16)
    chainrule.float16
    """
    if a is b:
        return a
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a._cat == 1 and (a is uint8) != (b is uint8):
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a._rank >= b._rank else b


def _kind(x):
    """(category, dtype or None, priority) of an operand: 2 dim>0 tensor, 1 0-d, 0 scalar."""
    if hasattr(x, "_data") and hasattr(x, "grad_fn"):
        d = x.dtype
        return d._cat, d, 2 if x._data.ndim else 1
    if isinstance(x, _b.bool):
        return 0, None, 0
    if isinstance(x, _b.int):
        return 1, None, 0
    return 2, None, 0


def result_type(*operands):
    """torch's result type: dimensioned tensors first, then 0-d tensors, then Python scalars,
    and a lower-priority operand only counts when its category is higher.

    >>> import chainrule
    >>> chainrule.result_type(chainrule.tensor([1, 2]), 1.5)
    chainrule.float32
    """
    best = [None, None, None]    # per priority: promoted dtype
    cats = [-1, -1, -1]
    for x in operands:
        cat, d, pr = _kind(x)
        if pr == 0:
            d = (bool, int64, get_default_dtype())[cat]
        best[pr] = d if best[pr] is None else promote_types(best[pr], d)
        cats[pr] = max(cats[pr], cat)
    out = None
    for pr in (2, 1, 0):
        d = best[pr]
        if d is None:
            continue
        if out is None:
            out = d
        elif d._cat > out._cat:
            out = d if pr > 0 else (int64 if d._cat == 1 else get_default_dtype())
    return out


class finfo:
    """Machine limits of a floating dtype (``eps``, ``max``, ``min``, ``tiny``)."""

    def __init__(self, type=None):
        type = to_dtype(type) or get_default_dtype()
        fi = np.finfo(type.np)
        self.bits, self.eps = fi.bits, _b.float(fi.eps)
        self.max, self.min = _b.float(fi.max), _b.float(fi.min)
        self.tiny = self.smallest_normal = _b.float(fi.tiny)
        self.resolution = _b.float(fi.resolution)
        self.dtype = type.name


class iinfo:
    """Machine limits of an integer dtype."""

    def __init__(self, type):
        type = to_dtype(type)
        ii = np.iinfo(type.np)
        self.bits, self.max, self.min, self.dtype = ii.bits, ii.max, ii.min, type.name
