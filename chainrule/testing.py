"""``chainrule.testing``: ``assert_close`` and ``make_tensor``, with torch's semantics (default
tolerances per dtype, nested sequences and mappings, and a failure message that summarises the
mismatches).

>>> import chainrule
>>> chainrule.testing.assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.0]))
"""
import collections.abc
import math
import warnings

import numpy as np

from . import dtypes as _dt
from ._tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

# (rtol, atol) by dtype; integers and bool compare exactly
_TOLS = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


class _Mismatch(Exception):
    """A failed comparison: exception class and message, before the item path is added."""

    def __init__(self, exc, msg):
        super().__init__(msg)
        self.exc, self.msg = exc, msg


def _tols(*dts):
    pairs = [_TOLS.get(d.name, (0.0, 0.0)) for d in dts]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _fmt(v):
    return repr(v) if isinstance(v, float) else str(v)


def _number_pair(actual, expected, rtol, atol, equal_nan, check_dtype):
    if isinstance(actual, bool) or isinstance(expected, bool):
        if type(actual) is not type(expected):
            raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                            f"{type(expected)}.")
        if actual is not expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if check_dtype and type(actual) is not type(expected):
        raise _Mismatch(AssertionError,
                        f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    if rtol is None:
        floating = isinstance(actual, float) or isinstance(expected, float)
        rtol, atol = _TOLS["float64"] if floating else (0, 0)
    if actual == expected or (equal_nan and math.isnan(actual) and math.isnan(expected)):
        return
    if not (math.isnan(actual) or math.isnan(expected)) and \
            abs(actual - expected) <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_msg(actual, expected, rtol, atol))


def _scalar_msg(actual, expected, rtol, atol):
    diff = abs(actual - expected)
    rel = diff / abs(expected) if expected != 0 else (math.nan if diff != diff else math.inf)
    exact = rtol == 0 and atol == 0
    lines = [f"Scalars are not {'equal' if exact else 'close'}!", "",
             f"Expected {_fmt(expected)} but got {_fmt(actual)}."]
    if exact:
        lines += [f"Absolute difference: {_fmt(diff)}", f"Relative difference: {_fmt(rel)}"]
    else:
        lines += [f"Absolute difference: {_fmt(diff)} (up to {atol} allowed)",
                  f"Relative difference: {_fmt(rel)} (up to {rtol} allowed)"]
    return "\n".join(lines)


def _tensor_pair(actual, expected, rtol, atol, equal_nan, check_dtype, check_stride):
    a, e = actual._data, expected._data
    if a.shape != e.shape:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                                        f"{actual.shape} != {expected.shape}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                                        f"{actual.dtype} != {expected.dtype}.")
    if check_stride and actual.stride() != expected.stride():
        raise _Mismatch(AssertionError, f"The values for attribute 'stride()' do not match: "
                                        f"{actual.stride()} != {expected.stride()}.")
    if rtol is None:
        rtol, atol = _tols(actual.dtype, expected.dtype)
    common = _dt.promote_types(actual.dtype, expected.dtype).np
    if common == np.bool_:
        common = np.dtype(np.int64)
    a, e = a.astype(common), e.astype(common)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan) \
            if common.kind == "f" else (a == e)
        if ok.all():
            return
        if a.ndim == 0:
            raise _Mismatch(AssertionError, _scalar_msg(a.item(), e.item(), rtol, atol))
        raise _Mismatch(AssertionError, _tensor_msg(a, e, ok, rtol, atol))


def _tensor_msg(a, e, ok, rtol, atol):
    okf = ok.ravel()
    diff = np.abs(a - e).ravel()
    diff[okf] = 0
    den = np.abs(e).ravel()
    if diff.dtype.kind != "f":         # integer division gives the default float, as in torch
        diff_f, den = diff.astype(np.float32), den.astype(np.float32)
    else:
        diff_f = diff
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff_f / den
    rel[okf] = 0
    n_bad, total = int((~okf).sum()), okf.size
    ia, ir = int(np.argmax(diff)), int(np.argmax(rel))
    exact = rtol == 0 and atol == 0

    def at(i):
        return tuple(int(k) for k in np.unravel_index(i, a.shape))
    abs_line = f"Greatest absolute difference: {_fmt(diff[ia].item())} at index {at(ia)}"
    rel_line = f"Greatest relative difference: {_fmt(rel[ir].item())} at index {at(ir)}"
    if not exact:
        abs_line += f" (up to {atol} allowed)"
        rel_line += f" (up to {rtol} allowed)"
    return "\n".join([f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
                      f"Mismatched elements: {n_bad} / {total} ({100 * n_bad / total:.1f}%)",
                      abs_line, rel_line])


def _is_number(x):
    return isinstance(x, (bool, int, float)) and not isinstance(x, np.ndarray)


def _is_seq(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _compare(actual, expected, path, kw):
    if actual is None and expected is None:
        return
    if _is_seq(actual) and _is_seq(expected):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: "
                                            f"{len(actual)} != {len(expected)}")
        for i, (x, y) in enumerate(zip(actual, expected)):
            _compare(x, y, path + [i], kw)
        return
    if isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        ka, ke = set(actual), set(expected)
        if ka != ke:
            lines = ["The keys of the mappings do not match:"]
            if ke - ka:
                lines.append(f"Missing keys in the actual mapping: {sorted(ke - ka)}")
            if ka - ke:
                lines.append(f"Additional keys in the actual mapping: {sorted(ka - ke)}")
            raise _Mismatch(AssertionError, "\n".join(lines))
        for k in sorted(ka, key=repr):
            _compare(actual[k], expected[k], path + [k], kw)
        return
    try:
        _leaf(actual, expected, kw)
    except _Mismatch as m:
        if path:
            m.msg += "\n\nThe failure occurred for item " + "".join(f"[{k!r}]" for k in path)
        raise


def _leaf(actual, expected, kw):
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        if not kw["allow_subclasses"] and type(actual) is not type(expected):
            _no_pair(actual, expected)
        return _tensor_pair(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"],
                            kw["check_dtype"], kw["check_stride"])
    if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
        from .creation import as_tensor
        return _tensor_pair(as_tensor(actual), as_tensor(expected), kw["rtol"], kw["atol"],
                            kw["equal_nan"], kw["check_dtype"], kw["check_stride"])
    if _is_number(actual) and _is_number(expected):
        return _number_pair(actual, expected, kw["rtol"], kw["atol"], kw["equal_nan"],
                            kw["check_dtype"])
    _no_pair(actual, expected)


def _no_pair(actual, expected):
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                               f"{_tname(actual)} and {_tname(expected)}.")


def _tname(x):
    if type(x) is Tensor:
        return "<class 'chainrule.Tensor'>"
    return str(type(x))


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Assert that ``actual`` and ``expected`` are close: tensors (same shape, dtype unless
    ``check_dtype=False``, strides if ``check_stride``), Python numbers, and sequences or
    mappings of them, compared element-wise as ``|actual - expected| <= atol + rtol *
    |expected|``. Without ``rtol``/``atol`` the tolerances follow the dtype as in torch
    (float16 1e-3/1e-5, float32 1.3e-6/1e-5, float64 1e-7/1e-7, exact for integers and bool).

    A failure raises AssertionError summarising the mismatches (count, greatest absolute and
    relative difference and where); ``msg`` (a string, or a callable given the default
    message) replaces it. Inputs no comparison handles raise TypeError.

    >>> import chainrule
    >>> chainrule.testing.assert_close(chainrule.tensor([1.0, 2.0]), chainrule.tensor([1.0, 2.5]))
    Traceback (most recent call last):
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.2... at index (1,) (up to 1.3e-06 allowed)
    """
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    kw = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
              check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, [], kw)
    except _Mismatch as m:
        text = m.msg
        if m.exc is AssertionError and msg is not None:
            text = msg(text) if callable(msg) else msg
        raise m.exc(text) from None


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A random tensor for tests, drawn from chainrule's generator: floating values uniform in
    ``[low, high)`` (default ``[-9, 9)``), integers in ``[low, high)`` (default ``[-9, 10)``,
    clipped to the dtype's range), bools fair coin flips. ``noncontiguous`` returns a strided
    view; ``exclude_zero`` replaces zeros (by 1 for integers, the smallest normal for floats).

    >>> import chainrule
    >>> t = chainrule.testing.make_tensor(2, 3, dtype=chainrule.int64, device="cpu", low=0,
    ...                                   high=5)
    >>> t.shape, bool(((t >= 0) & (t < 5)).all())
    (chainrule.Size([2, 3]), True)
    """
    from ._device import check_device
    from .creation import as_tensor
    from .random import rand, randint
    check_device(device)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    dtype = _dt.to_dtype(dtype)
    if requires_grad and not dtype.is_floating_point:
        raise ValueError("`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={_torch_name(dtype)}")
    if dtype is _dt.bool:
        arr = randint(0, 2, shape, dtype=_dt.int64)._data.astype(np.bool_)
    else:
        if dtype.is_floating_point:
            info = np.finfo(dtype.np)
            lo, hi, dlo, dhi = float(info.min), float(info.max), -9, 9
        else:
            info = np.iinfo(dtype.np)
            lo, hi, dlo, dhi = int(info.min), int(info.max), -9, 10
        low = dlo if low is None else low
        high = dhi if high is None else high
        if (isinstance(low, float) and math.isnan(low)) or \
                (isinstance(high, float) and math.isnan(high)):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and "
                             f"high={high}")
        if low == high and dtype.is_floating_point:
            warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or "
                          "complex types is deprecated since 2.1 and will be removed in 2.3. "
                          "Use `torch.full(...)` instead.", FutureWarning, stacklevel=2)
            arr = np.full(shape, low, dtype=dtype.np)
        elif low >= high:
            raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
        else:
            low, high = max(low, lo), min(high, hi)
            if dtype.is_floating_point:
                u = rand(*shape, dtype=_dt.float64)._data
                arr = (low + (high - low) * u).astype(dtype.np)
                arr = np.minimum(arr, np.nextafter(dtype.np.type(high), dtype.np.type(low)))
            else:
                arr = randint(int(math.ceil(low)), int(math.ceil(high)), shape,
                              dtype=_dt.int64)._data.astype(dtype.np)
        if exclude_zero:
            arr[arr == 0] = 1 if not dtype.is_floating_point else np.finfo(dtype.np).tiny
    if noncontiguous and arr.size > 1:
        wide = np.repeat(arr, 2, axis=-1)
        arr = wide[..., ::2]
    out = as_tensor(arr)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _torch_name(d):
    return "torch." + d.name
