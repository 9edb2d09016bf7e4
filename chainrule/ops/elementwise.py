"""Elementwise primitives (forward and backward side by side) and the public functions that
lift Python scalars and promote dtypes before calling them."""
import functools
import math
import numbers

import numpy as np

from .. import _special as _sp
from .. import dtypes as _dt
from .._tensor import Tensor
from ..autograd._transforms import BatchedData as _BatchedData
from ..autograd.function import _INTERPOSE, Op, _apply1, _apply2
from . import _xp

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "pow", "neg", "negative", "exp", "log", "sqrt", "sin",
           "cos", "tanh", "sigmoid", "relu", "abs", "absolute", "sign", "clamp", "clip", "where",
           "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
           "logical_xor", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "logical_not", "equal",
           "isclose", "allclose"]

_make = Tensor._make
_Number = (int, float, bool)


# -- operand preparation ---------------------------------------------------------------------
def _as_operand(x, op):
    if isinstance(x, Tensor) or type(x) in _Number:
        return x
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, numbers.Number):
        return x
    if isinstance(x, (np.ndarray, list, tuple)):
        from ..creation import tensor
        return tensor(x) if not isinstance(x, np.ndarray) else _make(x)
    raise TypeError(f"{op}(): argument 'other' must be Tensor or Number, not "
                    f"{type(x).__name__}")


def _promote(a, b, op, float_only=False):
    """Lift scalars and cast both operands to torch's result dtype (casts are recorded)."""
    a = _as_operand(a, op)
    b = _as_operand(b, op)
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta and tb:
        if a._data.dtype is b._data.dtype or a._data.dtype == b._data.dtype:
            if float_only and a._data.dtype.kind != "f":
                d = _dt.get_default_dtype()
                return cast(a, d), cast(b, d)
            return a, b
        rt = _dt.result_type(a, b)
    else:
        t, s = (a, b) if ta else (b, a)
        k = t._data.dtype.kind
        if k == "f" or (k in "iu" and not isinstance(s, float)) or (
                k == "b" and isinstance(s, bool)):
            if float_only and k != "f":
                t = cast(t, _dt.get_default_dtype())
                return (t, b) if ta else (a, t)
            return a, b
        rt = _dt.result_type(a, b)
    if float_only and not rt.is_floating_point:
        rt = _dt.get_default_dtype()
    if ta and a._data.dtype != rt.np:
        a = cast(a, rt)
    if tb and b._data.dtype != rt.np:
        b = cast(b, rt)
    return a, b


def _unary_in(x, op, float_only=True):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(x).__name__}")
    if float_only and x._data.dtype.kind != "f":
        return cast(x, _dt.get_default_dtype())
    return x


def _check_broadcast(a, b, op):
    sa = a._data.shape if isinstance(a, Tensor) else ()
    sb = b._data.shape if isinstance(b, Tensor) else ()
    if sa == sb or not sa or not sb:
        return
    for x, y in zip(reversed(sa), reversed(sb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"{op}: the size of tensor a ({x}) must match the size of tensor "
                               f"b ({y}) at non-singleton dimension; shapes {list(sa)} and "
                               f"{list(sb)} (dtypes {_desc(a)}, {_desc(b)}) can't broadcast")


def _desc(x):
    return x.dtype if isinstance(x, Tensor) else type(x).__name__


# -- primitives ------------------------------------------------------------------------------
class Cast(Op):
    @staticmethod
    def forward(ctx, a, npdtype):
        return a.astype(npdtype)

    @staticmethod
    def backward(ctx, g):
        return g, None       # the engine casts g back to the input's dtype


class Add(Op):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Op):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Op):
    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad
        ctx.save_for_backward(b if n[0] else None, a if n[1] else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        return (g * b if b is not None else None), (g * a if a is not None else None)


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        n = ctx.needs_input_grad
        ctx.save_for_backward(b, out if n[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        ga = g / b if ctx.needs_input_grad[0] else None
        gb = -g * out / b if out is not None else None
        return ga, gb


class Neg(Op):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Op):
    @staticmethod
    def forward(ctx, a, b):
        out = np.power(a, b)
        n = ctx.needs_input_grad
        ctx.save_for_backward(a, b, out if n[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = gb = None
        if n[0]:
            if type(b) in _Number:
                # NOTE: d/da a**0 is 0 everywhere (torch's convention, also at a == 0). a**2's
                # derivative uses the factor a itself, also recorded: one node less in every
                # Hessian of a square (its third derivative is then off a's graph: None where
                # torch gives zeros)
                ga = _zeros_of(g) if b == 0 else _scaled_mul(g, a if b == 2 else a ** (b - 1), b)
            else:
                ga = g * _xp.where(b == 0, 0.0, b * a ** (b - 1))
        if n[1]:
            if type(a) in _Number:
                gb = g * out * (math.log(a) if a > 0 else (math.nan if a < 0 else 0.0))
            else:
                # NOTE: 0 ** b has derivative 0 in b for b >= 0 (masks log(0) = -inf)
                gb = g * _xp.where((a == 0) & (b >= 0), 0.0, out * _xp.log(a))
        return ga, gb


class ScaledMul(Op):
    """a * b * c for a Python number c.

    NOTE: fused for backward rules such as pow's (g * 2 * a): recorded (create_graph), one
    node instead of two."""

    @staticmethod
    def forward(ctx, a, b, c):
        n = ctx.needs_input_grad
        ctx.save_for_backward(b if n[0] else None, a if n[1] else None)
        ctx.c = c
        return a * b * c

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        return (_scaled_mul(g, b, ctx.c) if b is not None else None,
                _scaled_mul(g, a, ctx.c) if a is not None else None)


def _scaled_mul(a, b, c):
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return ScaledMul.apply(a, b, c)
    return a * b * c


class Exp(Op):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g * out


class Log(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g / a


class Sqrt(Op):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        return g / (2 * out)


class Sin(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * _xp.cos(a)


class Cos(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return -g * _xp.sin(a)


class Tanh(Op):
    @staticmethod
    def forward(ctx, a):
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        if isinstance(g, Tensor):       # recorded: one node instead of three
            return TanhBackward.apply(g, out)
        t = g * out
        return g - t * out      # NOTE: g * (1 - out**2) without a scalar operand (faster)


class TanhBackward(Op):
    """g * (1 - y**2), tanh's backward as a primitive of its own.

    NOTE: fused so that a recorded backward (create_graph: Hessians, gradgradcheck) records
    one node instead of three; its own backward is d/dg = (1 - y**2), d/dy = -2 g y."""

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g if ctx.needs_input_grad[1] else None, y)
        t = g * y
        return g - t * y

    @staticmethod
    def backward(ctx, gg):
        g, y = ctx.saved_tensors
        n = ctx.needs_input_grad
        dg = _xp.call(TanhBackward, gg, y) if n[0] else None
        dy = gg * g * y * -2.0 if n[1] else None
        return dg, dy


class Sigmoid(Op):
    @staticmethod
    def forward(ctx, a):
        out = _sp.expit(a)      # NOTE: stable for both signs
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        t = g * out
        return t - t * out      # NOTE: g * out * (1 - out) without a scalar operand


_ZERO_ROWS = {}


def _zero_row(a):
    # NOTE: np.maximum against a zero row broadcast over the leading dims runs 2x faster than
    # against the scalar 0 (whose loop is not vectorised), at every size we measured.
    key = (a.shape[-1:], a.dtype)
    z = _ZERO_ROWS.get(key)
    if z is None:
        if len(_ZERO_ROWS) > 64:
            _ZERO_ROWS.clear()
        z = _ZERO_ROWS[key] = np.zeros(key[0], a.dtype)
        z.flags.writeable = False
    return z


class RoundedDiv(Op):
    """div(a, b, rounding_mode='floor' | 'trunc'): piecewise constant, so both gradients are
    zero (as torch's)."""

    @staticmethod
    def forward(ctx, a, b, mode):
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.floor_divide(a, b)
            if mode == "trunc":
                if q.dtype.kind == "f":
                    q = np.trunc(np.true_divide(a, b))
                else:   # floor is one below trunc where an inexact quotient is negative
                    q = q + ((np.remainder(a, b) != 0)
                             & ((np.asarray(a) < 0) != (np.asarray(b) < 0)))
        return np.asarray(q)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        z = _zeros_of(g)
        return (z if n[0] else None), (z if n[1] else None)


class Relu(Op):
    @staticmethod
    def forward(ctx, a):
        out = np.maximum(a, _zero_row(a)) if a.dtype.kind == "f" else np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out, = ctx.saved_tensors
        if isinstance(g, Tensor):       # recorded: stay on out's graph, as torch's rule does
            return _xp.call(ReluGrad, g, out)
        # NOTE: subgradient 0 at the kink; a NaN input passes the gradient through, as torch's
        # (out is never negative, so out != 0 is torch's "not out <= 0" in one comparison)
        return g * (out != 0)


class ReluGrad(Op):
    """relu's gradient g * (out != 0) as an op of both g and out (torch's threshold_backward):
    its derivative in out is zero, but a gradient taken through relu stays on the graph of
    out's inputs, so their second derivatives come out as zeros rather than missing."""

    @staticmethod
    def forward(ctx, g, out):
        mask = out != 0
        ctx.save_for_backward(mask)
        return g * mask

    @staticmethod
    def backward(ctx, gg):
        mask, = ctx.saved_tensors
        n = ctx.needs_input_grad
        return (gg * mask if n[0] else None,
                np.zeros(mask.shape, _dtype_of(gg)) if n[1] else None)

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        from ..autograd._vmap_rules import _bcast_args
        return cls.apply(*_bcast_args(args, bat))


def _dtype_of(x):
    return x._data.dtype if isinstance(x, Tensor) else x.dtype


def _zeros_of(g):
    """A zero gradient shaped like g, as a constant (torch's zeros_like: no graph)."""
    return np.zeros(tuple(g.shape), _dtype_of(g))


def _elementwise_vmap(cls, args, bat, kwargs, B):
    from ..autograd._vmap_rules import _bcast_args
    return cls.apply(*_bcast_args(args, bat), **kwargs)


# -- piecewise-linear activations: (forward, gradient) on arrays by kind, or for kinds that
#    are x * slope(x), the slope; the masks follow torch's kernels (a NaN input gives NaN and
#    passes or stops the gradient as torch's does)
def _shrunk(d, lam):
    return np.abs(d) <= lam


_PIECEWISE = {
    "hardtanh": (lambda d, lo, hi: np.clip(d, lo, hi).astype(d.dtype, copy=False),
                 lambda g, d, lo, hi: np.where((d <= lo) | (d >= hi), 0, g)),
    "leaky_relu": (None, lambda g, d, a: np.where(d > 0, g, g * a)),
    "threshold": (lambda d, th, v: np.where(d <= th, d.dtype.type(v), d),
                  lambda g, d, th, v: np.where(d <= th, 0, g)),
    "softshrink": (lambda d, lam: d - np.clip(d, -lam, lam),
                   lambda g, d, lam: np.where(_shrunk(d, lam), 0, g)),
    "hardshrink": (lambda d, lam: np.where(_shrunk(d, lam), 0, d),
                   lambda g, d, lam: np.where(_shrunk(d, lam), 0, g)),
    "hardsigmoid": (lambda d: np.minimum(np.maximum(d + 3, 0), 6) / 6,
                    lambda g, d: np.where((d > -3) & (d < 3), g / 6, 0)),
    "nonpositive": (lambda d: np.where(d > 0, 0, d),         # min(x, 0), prelu's negative part
                    lambda g, d: np.where(d > 0, 0, g)),
    "scale": (None, lambda g, d, s: g * s),                   # a fixed slope per element
}
_SLOPE = {"leaky_relu": lambda d, a: np.where(d > 0, d.dtype.type(1), d.dtype.type(a)),
          "scale": lambda d, s: s}
# in-place variants whose gradient reads the output, as torch's leaky_relu_ and rrelu_ do (for
# a slope >= 0, out > 0 exactly where x > 0)
_ON_RESULT = {"leaky_relu_": "leaky_relu", "scale_": "scale"}
_PIECEWISE.update({k: _PIECEWISE[v] for k, v in _ON_RESULT.items()})
_SLOPE.update({k: _SLOPE[v] for k, v in _ON_RESULT.items()})


class Piecewise(Op):
    """A piecewise-linear activation of x by kind (hardtanh, leaky_relu, threshold, ...).
    Its recorded gradient is PiecewiseGrad, an op of both the gradient and x (torch's
    *_backward ops), so a derivative taken through it stays on x's graph and second
    derivatives come out as zeros rather than missing."""

    @staticmethod
    def forward(ctx, x, kind, *p):
        ctx.kind, ctx.p = kind, p
        slope = _SLOPE.get(kind)
        if slope is not None:
            # NOTE: x * slope, the slope kept: a plain backward is then one multiply
            ctx.s = s = slope(x, *p)
            out = x * s
        else:
            ctx.s = None
            out = _PIECEWISE[kind][0](x, *p)
        ctx.save_for_backward(out if kind in _ON_RESULT else x)
        return out

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors      # (or the output, for the _ON_RESULT kinds)
        if isinstance(g, Tensor):
            return _xp.call(PiecewiseGrad, g, x, ctx.kind, *ctx.p)
        if ctx.s is not None:
            return g * ctx.s
        return _PIECEWISE[ctx.kind][1](g, x, *ctx.p)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs):
        t = tans[0]
        return None if t is None else PiecewiseGrad.apply(t, *args)

    vmap_rule = staticmethod(_elementwise_vmap)


class PiecewiseGrad(Op):
    """Piecewise's gradient g * slope(x): linear in g, its derivative in x is zero."""

    @staticmethod
    def forward(ctx, g, x, kind, *p):
        ctx.kind, ctx.p = kind, p
        ctx.save_for_backward(x)
        return _PIECEWISE[kind][1](g, x, *p)

    @staticmethod
    def backward(ctx, gg):
        x, = ctx.saved_tensors
        n = ctx.needs_input_grad
        gx = _xp.call(PiecewiseGrad, gg, x, ctx.kind, *ctx.p) if n[0] else None
        return gx, (_zeros_of(gg) if n[1] else None)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs):
        t = tans[0]
        return None if t is None else cls.apply(t, *args[1:])

    vmap_rule = staticmethod(_elementwise_vmap)


class Abs(Op):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * _xp.sign(a)   # NOTE: sign(0) = 0, the subgradient torch uses


class Sign(Op):
    @staticmethod
    def forward(ctx, a):
        if a.dtype.kind == "f":
            return np.where(np.isnan(a), 0, np.sign(a)).astype(a.dtype)   # torch: sign(nan) = 0
        return np.sign(a)

    @staticmethod
    def backward(ctx, g):
        return g * 0


class Clamp(Op):
    """clamp with scalar or tensor bounds; the gradient passes where min <= x <= max."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        out = a
        if lo is not None:
            out = np.maximum(out, lo)
        if hi is not None:
            out = np.minimum(out, hi)
        ctx.save_for_backward(a, lo, hi)
        return out if out is not a else a.copy()

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.saved_tensors
        n = ctx.needs_input_grad
        if lo is None:
            keep = a <= hi
        elif hi is None:
            keep = a >= lo
        else:
            keep = (a >= lo) & (a <= hi)
        ga = _xp.where(keep, g, 0.0) if n[0] else None
        glo = ghi = None
        if n[1]:
            glo = _xp.where((a < lo) if hi is None else (a < lo) & (lo < hi), g, 0.0)
        if n[2]:
            ghi = _xp.where((a > hi) if lo is None else (a > hi) | (hi < lo), g, 0.0)
        return ga, glo, ghi


class Where(Op):
    @staticmethod
    def forward(ctx, c, a, b):
        ctx.save_for_backward(c)
        return np.where(c, a, b)

    @staticmethod
    def backward(ctx, g):
        c, = ctx.saved_tensors
        n = ctx.needs_input_grad
        return (None, _xp.where(c, g, 0.0) if n[1] else None,
                _xp.where(c, 0.0, g) if n[2] else None)


class Maximum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _minmax_grads(ctx, g, True)


class Minimum(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _minmax_grads(ctx, g, False)


def _minmax_grads(ctx, g, is_max):
    """maximum/minimum: the winner gets g, ties split it evenly and a NaN comparison passes
    g to both sides (torch's rule). The weights are piecewise constant."""
    a, b = ctx.saved_tensors
    a = a._data if isinstance(a, Tensor) else a
    b = b._data if isinstance(b, Tensor) else b
    tie = np.where(a == b, 0.5, 1.0)
    lose_a, lose_b = (a < b, a > b) if is_max else (a > b, a < b)
    n = ctx.needs_input_grad
    out = []
    for need, lose in ((n[0], lose_a), (n[1], lose_b)):
        if not need:
            out.append(None)
            continue
        w = np.where(lose, 0.0, tie).astype(_xp.dtype_of(g))
        out.append(g * (_make(w) if isinstance(g, Tensor) else w))
    return tuple(out)


class Remainder(Op):
    """a - b * round(a / b): the gradient is g for a and -g * round(a / b) for b; the
    rounding is floor here (Python's %), trunc in Fmod."""
    _fn, _round, _mode = np.remainder, np.floor, "floor"

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return cls._fn(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        gb = None
        if n[1]:
            if isinstance(g, Tensor):   # recorded: the rounded quotient stays on the graph
                gb = -g * _xp.call(RoundedDiv, a, b, cls._mode)
            else:
                gb = -g * cls._round(a / b)
        return (g if n[0] else None), gb


# -- public functions ------------------------------------------------------------------------
def cast(x, dtype):
    d = _dt.to_dtype(dtype)
    if x._data.dtype == d.np:
        return x
    return Cast.apply(x, d.np)


_CONSTS = {"f": {}, "d": {}}


def _float_const(v, dt):
    """A Python float as a cached read-only 0-d array of a float32/float64 tensor's dtype."""
    # NOTE: NumPy casts a Python float to the array's dtype first (NEP 50), so the 0-d array
    # gives the same result, and skips the scalar conversion that doubles a small op's cost.
    # Zero (the sign of -0.0 is lost in a dict), NaN and huge values stay Python floats.
    cache = _CONSTS.get(dt.char)
    if cache is None or not (-1e38 < v < 1e38) or not v or _INTERPOSE[0] is not None:
        return v
    c = cache.get(v)
    if c is None:
        if len(cache) > 256:
            cache.clear()
        c = cache[v] = np.array(v, dt)
        c.flags.writeable = False
    return c


def _binary(cls, a, b, op, float_only=False):
    # fast path: same dtype (or a Python float with a float tensor), shapes left to NumPy
    if isinstance(a, Tensor):
        k = a._data.dtype
        if type(b) is float:
            if k.kind == "f":
                return _apply2(cls, a, _float_const(b, k))
        elif isinstance(b, Tensor) and b._data.dtype is k and (k.kind == "f" or not float_only):
            if a._data.shape != b._data.shape:
                _check_broadcast(a, b, op)
            return _apply2(cls, a, b)
    elif type(a) is float and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return _apply2(cls, _float_const(a, b._data.dtype), b)
    a, b = _promote(a, b, op, float_only)
    _check_broadcast(a, b, op)
    return cls.apply(a, b)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting.

    >>> import chainrule
    >>> chainrule.add(chainrule.tensor([1.0, 2.0]), 1)
    tensor([2., 3.])
    """
    if alpha != 1:
        other = mul(other, alpha)
    return _binary(Add, input, other, "add")


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other.

    >>> import chainrule
    >>> chainrule.sub(chainrule.tensor([3.0]), 1)
    tensor([2.])
    """
    if alpha != 1:
        other = mul(other, alpha)
    if isinstance(input, Tensor) and input._data.dtype == np.bool_ or \
            isinstance(other, Tensor) and other._data.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return _binary(Sub, input, other, "sub")


subtract = sub


def mul(input, other, *, out=None):
    """Elementwise product.

    >>> import chainrule
    >>> chainrule.mul(chainrule.tensor([2.0]), 3)
    tensor([6.])
    """
    return _binary(Mul, input, other, "mul")


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (integers give the default float dtype); rounding_mode 'trunc'/'floor'.

    >>> import chainrule
    >>> chainrule.div(chainrule.tensor([1, 2]), 2)
    tensor([0.5000, 1.0000])
    """
    if rounding_mode is None:
        return _binary(Div, input, other, "div", float_only=True)
    if rounding_mode not in ("floor", "trunc"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found '{rounding_mode}'")
    a, b = _promote(input, other, "div")
    _check_broadcast(a, b, "div")
    db = b._data if isinstance(b, Tensor) else b
    if _dt_kind(a) in "iub" and _dt_kind(b) in "iub" and np.any(np.asarray(db) == 0):
        raise RuntimeError("ZeroDivisionError")
    return RoundedDiv.apply(a, b, rounding_mode)


def _dt_kind(x):
    return x._data.dtype.kind if isinstance(x, Tensor) else np.asarray(x).dtype.kind


divide = div
true_divide = div


def floor_divide(input, other):
    """Floor of the quotient (not differentiable, as in torch).

    >>> import chainrule
    >>> chainrule.floor_divide(chainrule.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    a, b = _promote(input, other, "floor_divide")
    _check_broadcast(a, b, "floor_divide")
    da = a._data if isinstance(a, Tensor) else a
    db = b._data if isinstance(b, Tensor) else b
    if _dt_kind(a) in "iu" and np.any(_values(db) == 0):
        raise RuntimeError("ZeroDivisionError")
    return _nograd(np.floor_divide, a, b)


def _values(d):
    """The values behind data d, every vmap sample at once (for argument checks)."""
    while type(d) is _BatchedData:
        d = d.phys
    return np.asarray(d)


def remainder(input, other):
    """Python-style modulus (sign of the divisor).

    >>> import chainrule
    >>> chainrule.remainder(chainrule.tensor([-3.0, 3.0]), 2)
    tensor([1., 1.])
    """
    a, b = _promote(input, other, "remainder")
    _check_broadcast(a, b, "remainder")
    _check_int_zero(b)
    return Remainder.apply(a, b)


def _check_int_zero(b):
    """Integer division by zero raises, as in torch."""
    if _dt_kind(b) in "iub" and np.any(_values(b._data if isinstance(b, Tensor) else b) == 0):
        raise RuntimeError("ZeroDivisionError")


def pow(input, exponent):
    """input ** exponent; either may be a tensor.

    >>> import chainrule
    >>> chainrule.pow(chainrule.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """
    a, b = _promote(input, exponent, "pow")
    _check_broadcast(a, b, "pow")
    if isinstance(a, Tensor) and a._data.dtype.kind in "iu" and (
            (type(b) in _Number and b < 0) or
            (isinstance(b, Tensor) and b._data.dtype.kind in "iu" and (b._data < 0).any())):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return Pow.apply(a, b)


def neg(input):
    """-input.

    >>> import chainrule
    >>> chainrule.neg(chainrule.tensor([1.0]))
    tensor([-1.])
    """
    x = _unary_in(input, "neg", float_only=False)
    if x._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return Neg.apply(x)


negative = neg


def _unary(cls, name, doc_example):
    def fn(input, *, out=None):
        if isinstance(input, Tensor) and input._data.dtype.kind == "f":
            return _apply1(cls, input)
        return cls.apply(_unary_in(input, name))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}.\n\n    >>> import chainrule\n    {doc_example}\n"
    return fn


exp = _unary(Exp, "exp", ">>> chainrule.exp(chainrule.tensor([0.0]))\n    tensor([1.])")
log = _unary(Log, "log", ">>> chainrule.log(chainrule.tensor([1.0]))\n    tensor([0.])")
sqrt = _unary(Sqrt, "sqrt", ">>> chainrule.sqrt(chainrule.tensor([4.0]))\n    tensor([2.])")
sin = _unary(Sin, "sin", ">>> chainrule.sin(chainrule.tensor([0.0]))\n    tensor([0.])")
cos = _unary(Cos, "cos", ">>> chainrule.cos(chainrule.tensor([0.0]))\n    tensor([1.])")
tanh = _unary(Tanh, "tanh", ">>> chainrule.tanh(chainrule.tensor([0.0]))\n    tensor([0.])")
sigmoid = _unary(Sigmoid, "sigmoid",
                 ">>> chainrule.sigmoid(chainrule.tensor([0.0]))\n    tensor([0.5000])")


def relu(input):
    """max(input, 0) with gradient 0 at 0.

    >>> import chainrule
    >>> chainrule.relu(chainrule.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return _apply1(Relu, _unary_in(input, "relu", float_only=False))


def abs(input):
    """|input| with subgradient 0 at 0.

    >>> import chainrule
    >>> chainrule.abs(chainrule.tensor([-1.5]))
    tensor([1.5000])
    """
    return Abs.apply(_unary_in(input, "abs", float_only=False))


absolute = abs


def sign(input):
    """-1, 0 or 1 (gradient zero).

    >>> import chainrule
    >>> chainrule.sign(chainrule.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    x = _unary_in(input, "sign", float_only=False)
    if x._data.dtype == np.bool_:
        return _make(x._data.copy())
    return Sign.apply(x)


def clamp(input, min=None, max=None):
    """Limit values to [min, max]; bounds may be numbers or tensors.

    >>> import chainrule
    >>> chainrule.clamp(chainrule.tensor([-2.0, 0.5, 3.0]), -1, 1)
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    x = _unary_in(input, "clamp", float_only=False)
    lo = _as_operand(min, "clamp") if min is not None else None
    hi = _as_operand(max, "clamp") if max is not None else None
    shapes = [v._data.shape for v in (x, lo, hi) if isinstance(v, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"clamp: shapes {[list(s) for s in shapes]} of input, min and max "
                           "can't be broadcast together") from None
    if isinstance(lo, Tensor) or isinstance(hi, Tensor) or (
            x._data.dtype.kind != "f" and (isinstance(lo, float) or isinstance(hi, float))):
        rt = _dt.result_type(*[v for v in (x, lo, hi) if v is not None])
        x = cast(x, rt)
        lo = cast(lo, rt) if isinstance(lo, Tensor) else lo
        hi = cast(hi, rt) if isinstance(hi, Tensor) else hi
    return Clamp.apply(x, lo, hi)


clip = clamp


def where(condition, input=None, other=None):
    """Pick from input where condition holds, else from other; ``where(c)`` is nonzero.

    >>> import chainrule
    >>> chainrule.where(chainrule.tensor([True, False]), 1.0, 0.0)
    tensor([1., 0.])
    """
    if input is None and other is None:
        from . import index
        return index.nonzero(condition, as_tuple=True)
    c = _as_operand(condition, "where")
    if not isinstance(c, Tensor):
        c = _make(np.asarray(c, bool))
    if c._data.dtype != np.bool_:
        if c._data.dtype == np.uint8:
            c = _make(c._data.astype(bool))
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {c.dtype}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _as_operand(input, "where")
        if not isinstance(input, Tensor):
            input = _make(np.asarray(input, _dt.result_type(input, other).np))
    a, b = _promote(input, other, "where")
    return Where.apply(c, a, b)


def maximum(input, other):
    """Elementwise max of two tensors (ties split the gradient).

    >>> import chainrule
    >>> chainrule.maximum(chainrule.tensor([1.0, 5.0]), chainrule.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return _binary(Maximum, input, other, "maximum")


def minimum(input, other):
    """Elementwise min of two tensors.

    >>> import chainrule
    >>> chainrule.minimum(chainrule.tensor([1.0, 5.0]), chainrule.tensor([3.0, 2.0]))
    tensor([1., 2.])
    """
    return _binary(Minimum, input, other, "minimum")


# -- comparisons and logic (no gradient) -----------------------------------------------------
class NoGradMap(Op):
    """``fn(*arrays)`` for a NumPy function with no gradient (comparisons, logic, isfinite...).
    The plain path calls NumPy directly; this primitive carries the call only when an argument
    is batched by vmap, so the transforms can map it like any elementwise op."""
    differentiable = False

    @staticmethod
    def forward(ctx, fn, *arrays):
        return np.asarray(fn(*arrays))

    @staticmethod
    def backward(ctx, g):       # never recorded: the op is not differentiable
        return None

    @staticmethod
    def vmap_rule(cls, args, bat, kwargs, B):
        from ..autograd._vmap_rules import _bcast_args
        return cls.apply(*_bcast_args(args, bat), **kwargs)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs, B=None):
        return None


def _nograd(fn, *args):
    """_make(fn(*data)) for no-gradient elementwise functions, batchable under vmap."""
    ds = [a._data if isinstance(a, Tensor) else a for a in args]
    for d in ds:
        if type(d) is _BatchedData:
            return NoGradMap.apply(fn, *args)
    return _make(np.asarray(fn(*ds)))


def _compare(npfn, name):
    def fn(input, other):
        a, b = _promote(input, other, name)
        _check_broadcast(a, b, name)
        return _nograd(npfn, a, b)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {name} (a bool tensor; no gradient).\n\n    >>> import "
                  f"chainrule\n    >>> chainrule.{name}(chainrule.tensor([1, 2]), 2).dtype\n"
                  "    chainrule.bool\n")
    return fn


eq = _compare(np.equal, "eq")
ne = _compare(np.not_equal, "ne")
lt = _compare(np.less, "lt")
le = _compare(np.less_equal, "le")
gt = _compare(np.greater, "gt")
ge = _compare(np.greater_equal, "ge")
logical_and = _compare(np.logical_and, "logical_and")
logical_or = _compare(np.logical_or, "logical_or")
logical_xor = _compare(np.logical_xor, "logical_xor")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _bitwise(npfn, name):
    def fn(input, other):
        a, b = _promote(input, other, name)
        for v in (a, b):
            if isinstance(v, Tensor) and v._data.dtype.kind == "f" or isinstance(v, float):
                raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float'")
        return _nograd(npfn, a, b)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {name} of integer or bool tensors.\n\n    >>> import "
                  f"chainrule\n    >>> chainrule.{name}(chainrule.tensor([True]), "
                  "chainrule.tensor([True])).dtype\n    chainrule.bool\n")
    return fn


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(input):
    """~input for bool and integer tensors.

    >>> import chainrule
    >>> chainrule.bitwise_not(chainrule.tensor([True, False]))
    tensor([False,  True])
    """
    if input._data.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return _nograd(np.invert, input)


def logical_not(input):
    """Elementwise not (bool result).

    >>> import chainrule
    >>> chainrule.logical_not(chainrule.tensor([0, 1]))
    tensor([ True, False])
    """
    return _nograd(np.logical_not, input)


def equal(input, other):
    """True if both tensors have the same shape and values.

    >>> import chainrule
    >>> chainrule.equal(chainrule.ones(2), chainrule.ones(2))
    True
    """
    return input.shape == other.shape and bool(np.array_equal(input._data, other._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise.

    >>> import chainrule
    >>> chainrule.isclose(chainrule.tensor([1.0]), chainrule.tensor([1.0 + 1e-9]))
    tensor([True])
    """
    a, b = _promote(input, other, "isclose")
    return _nograd(functools.partial(_isclose, rtol=rtol, atol=atol, equal_nan=equal_nan),
                   a, b)


def _isclose(a, b, rtol, atol, equal_nan):
    return np.isclose(np.asarray(a), b, rtol, atol, equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close.

    >>> import chainrule
    >>> chainrule.allclose(chainrule.ones(2), chainrule.ones(2))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


# -- catalogue: more elementwise primitives and functions (issue 3) ---------------------------
__all__ += ["floor", "ceil", "round", "trunc", "fix", "log1p", "expm1", "square",
            "reciprocal", "rsqrt", "erf"]


def _rule(name, npfn, grad, save="input"):
    """A unary primitive computing ``npfn(a)`` whose gradient is ``grad(g, saved)``, where
    ``saved`` is the input or (save="output") the result. Rules use operators and ``_fn``
    dispatch only, so they run on arrays (plain backward) and on Tensors (create_graph)."""
    def forward(ctx, a):
        out = npfn(a)
        if out.dtype != a.dtype:
            out = out.astype(a.dtype)
        ctx.save_for_backward(a if save == "input" else out)
        return out

    def backward(ctx, g):
        s, = ctx.saved_tensors
        return grad(g, s)
    return type(name, (Op,), {"__slots__": (), "__module__": __name__,
                              "forward": staticmethod(forward),
                              "backward": staticmethod(backward)})


def _flat_rule(name, npfn):
    """A piecewise-constant primitive: gradient zero everywhere (torch's convention)."""
    def forward(ctx, a):
        return npfn(a)

    def backward(ctx, g):
        return g * 0
    return type(name, (Op,), {"__slots__": (), "__module__": __name__,
                              "forward": staticmethod(forward),
                              "backward": staticmethod(backward)})


def _fn(x, npfn, name):
    """npfn(x) on an array, the public chainrule function ``name`` on a Tensor."""
    return globals()[name](x) if isinstance(x, Tensor) else npfn(x)


_SQRT_PI = math.sqrt(math.pi)
_LN2, _LN10 = math.log(2.0), math.log(10.0)

Floor = _flat_rule("Floor", np.floor)
Ceil = _flat_rule("Ceil", np.ceil)
Trunc = _flat_rule("Trunc", np.trunc)
Log1p = _rule("Log1p", np.log1p, lambda g, a: g / (a + 1))
Expm1 = _rule("Expm1", np.expm1, lambda g, out: g * (out + 1), save="output")
Erf = _rule("Erf", _sp.erf, lambda g, a: g * (2 / _SQRT_PI) * _xp.exp(-(a * a)))


class Round(Op):
    @staticmethod
    def forward(ctx, a, decimals):
        if decimals == 0:
            return np.rint(a)
        if decimals > 0:
            p = a.dtype.type(10.0 ** decimals)
            return np.rint(a * p) / p
        p = a.dtype.type(10.0 ** -decimals)
        return np.rint(a / p) * p

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


def _int_passthrough(input, name):
    """Rounding ops keep integer tensors as they are (a copy); bool is refused."""
    x = _unary_in(input, name, float_only=False)
    k = x._data.dtype.kind
    if k == "b":
        raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Bool'")
    return x, k != "f"


def _rounding(cls, name, example):
    def fn(input, *, out=None):
        x, is_int = _int_passthrough(input, name)
        return _make(x._data.copy()) if is_int else cls.apply(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {name} (gradient zero; integer tensors are returned as they "
                  f"are).\n\n    >>> import chainrule\n    {example}\n")
    return fn


floor = _rounding(Floor, "floor", ">>> chainrule.floor(chainrule.tensor([-1.5, 1.5]))\n"
                  "    tensor([-2.,  1.])")
ceil = _rounding(Ceil, "ceil", ">>> chainrule.ceil(chainrule.tensor([-1.5, 1.5]))\n"
                 "    tensor([-1.,  2.])")
trunc = _rounding(Trunc, "trunc", ">>> chainrule.trunc(chainrule.tensor([-1.5, 1.5]))\n"
                  "    tensor([-1.,  1.])")
fix = trunc


def round(input, *, decimals=0, out=None):
    """Round half to even, optionally to ``decimals`` places (gradient zero).

    >>> import chainrule
    >>> chainrule.round(chainrule.tensor([0.5, 1.5, 1.234]), decimals=0)
    tensor([0., 2., 1.])
    >>> chainrule.round(chainrule.tensor([1.234]), decimals=2)
    tensor([1.2300])
    """
    x, is_int = _int_passthrough(input, "round")
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
        raise TypeError(f"round(): argument 'decimals' must be int, not "
                        f"{type(decimals).__name__}")
    if is_int:
        if decimals:
            raise RuntimeError("round_cpu: integer tensors don't support rounding to decimals")
        return _make(x._data.copy())
    return Round.apply(x, int(decimals))


log1p = _unary(Log1p, "log1p", ">>> chainrule.log1p(chainrule.tensor([0.0]))\n"
               "    tensor([0.])")
expm1 = _unary(Expm1, "expm1", ">>> chainrule.expm1(chainrule.tensor([0.0]))\n"
               "    tensor([0.])")
erf = _unary(Erf, "erf", ">>> chainrule.erf(chainrule.tensor([0.0]))\n    tensor([0.])")


def square(input, *, out=None):
    """input * input (integers stay integers; bool becomes int64).

    >>> import chainrule
    >>> chainrule.square(chainrule.tensor([-2.0, 3.0]))
    tensor([4., 9.])
    """
    return pow(_unary_in(input, "square", float_only=False), 2)


def reciprocal(input, *, out=None):
    """1 / input (integers give the default float dtype).

    >>> import chainrule
    >>> chainrule.reciprocal(chainrule.tensor([2.0, 4.0]))
    tensor([0.5000, 0.2500])
    """
    return div(1.0, _unary_in(input, "reciprocal"))


def rsqrt(input, *, out=None):
    """1 / sqrt(input).

    >>> import chainrule
    >>> chainrule.rsqrt(chainrule.tensor([4.0]))
    tensor([0.5000])
    """
    return div(1.0, sqrt(_unary_in(input, "rsqrt")))


class Root(Op):
    """s ** (1 / p) for s >= 0, with gradient 0 where s == 0 (torch's rule for norms and std
    at zero, where the true derivative is unbounded)."""

    @staticmethod
    def forward(ctx, s, p):
        ctx.p = p
        out = np.sqrt(s) if p == 2 else np.power(s, 1.0 / p)
        ctx.save_for_backward(s, out)
        return out

    @staticmethod
    def backward(ctx, g):
        s, out = ctx.saved_tensors
        zero = s == 0
        return _xp.where(zero, 0.0, g * out / (ctx.p * _xp.where(zero, 1.0, s))), None


# -- group 2: the rest of the elementwise catalogue ------------------------------------------
__all__ += ["exp2", "log2", "log10", "sgn", "frac", "tan", "asin", "acos", "atan", "arcsin",
            "arccos", "arctan", "atan2", "arctan2", "sinh", "cosh", "asinh", "acosh", "atanh",
            "arcsinh", "arccosh", "arctanh", "erfc", "erfinv", "lgamma", "digamma",
            "polygamma", "hypot", "logaddexp", "logaddexp2", "xlogy", "lerp", "fmod",
            "copysign", "nan_to_num", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
            "float_power", "clamp_min", "clamp_max"]


def _polygamma(n, x):
    return polygamma(n, x) if isinstance(x, Tensor) else _sp.polygamma(n, x)


def _sq(a):
    return a * a


def _via64(npfn):
    """npfn evaluated in float64 (NumPy's float32 log10 misses exact powers of ten)."""
    return lambda a: npfn(a.astype(np.float64)) if a.dtype.itemsize < 8 else npfn(a)


Log2 = _rule("Log2", _via64(np.log2), lambda g, a: g / (a * _LN2))
Log10 = _rule("Log10", _via64(np.log10), lambda g, a: g / (a * _LN10))
Tan = _rule("Tan", np.tan, lambda g, out: g * (_sq(out) + 1), save="output")
Asin = _rule("Asin", np.arcsin, lambda g, a: g / _xp.sqrt(1 - _sq(a)))
Acos = _rule("Acos", np.arccos, lambda g, a: -g / _xp.sqrt(1 - _sq(a)))
Atan = _rule("Atan", np.arctan, lambda g, a: g / (_sq(a) + 1))
Sinh = _rule("Sinh", np.sinh, lambda g, a: g * _fn(a, np.cosh, "cosh"))
Cosh = _rule("Cosh", np.cosh, lambda g, a: g * _fn(a, np.sinh, "sinh"))
Asinh = _rule("Asinh", np.arcsinh, lambda g, a: g / _xp.sqrt(_sq(a) + 1))
Acosh = _rule("Acosh", np.arccosh, lambda g, a: g / _xp.sqrt(_sq(a) - 1))
Atanh = _rule("Atanh", np.arctanh, lambda g, a: g / (1 - _sq(a)))
Erfc = _rule("Erfc", _sp.erfc, lambda g, a: g * (-2 / _SQRT_PI) * _xp.exp(-_sq(a)))
Erfinv = _rule("Erfinv", _sp.erfinv, lambda g, out: g * (_SQRT_PI / 2) * _xp.exp(_sq(out)),
               save="output")
Lgamma = _rule("Lgamma", lambda a: np.where(np.isneginf(a), np.inf, _sp.gammaln(a)),
               lambda g, a: g * _fn(a, _sp.digamma, "digamma"))
Digamma = _rule("Digamma", _sp.digamma, lambda g, a: g * _polygamma(1, a))


def _copysign_ratio(a, out):
    """out / a, which is +-1 (0 where a == 0, torch's rule; the divisor there is 1, so the
    ratio's own derivative stays finite)."""
    z = a == 0
    return _xp.where(z, 0.0, out / _xp.where(z, 1.0, a))


class CopySign(Op):
    """|a| with the sign of b (signed zeros count). a's gradient is g * out / a, torch's
    formula: recorded, it stays on the graph of a; b's gradient is zero."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.copysign(a, b)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        n = ctx.needs_input_grad
        return (g * _copysign_ratio(a, out) if n[0] else None,
                _zeros_of(g) if n[1] else None)

    @staticmethod
    def jvp_rule(cls, args, tans, out, kwargs):
        t = tans[0]
        return None if t is None else t * _copysign_ratio(args[0], out)

    vmap_rule = staticmethod(_elementwise_vmap)


class Polygamma(Op):
    @staticmethod
    def forward(ctx, a, n):
        ctx.n = n
        ctx.save_for_backward(a)
        return np.asarray(_sp.polygamma(n, a)).astype(a.dtype)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        return g * _polygamma(ctx.n + 1, a), None


class Atan2(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        r = g / (a * a + b * b)
        n = ctx.needs_input_grad
        return (r * b if n[0] else None), (-r * a if n[1] else None)


class Hypot(Op):
    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        r = g / out
        n = ctx.needs_input_grad
        return (r * a if n[0] else None), (r * b if n[1] else None)


def _const(x, npfn):
    """npfn applied to x's values, as a constant (no gradient)."""
    return _make(npfn(x._data)) if isinstance(x, Tensor) else npfn(x)


class Fmod(Remainder):
    _fn, _round, _mode = np.fmod, np.trunc, "trunc"


def _ex(name, call):
    return f"\n\n    >>> import chainrule\n    >>> {call}\n"


log2 = _unary(Log2, "log2", ">>> chainrule.log2(chainrule.tensor([8.0]))\n    tensor([3.])")
log10 = _unary(Log10, "log10", ">>> chainrule.log10(chainrule.tensor([100.0]))\n"
               "    tensor([2.])")
tan = _unary(Tan, "tan", ">>> chainrule.tan(chainrule.tensor([0.0]))\n    tensor([0.])")
asin = arcsin = _unary(Asin, "asin", ">>> chainrule.asin(chainrule.tensor([0.0]))\n"
                       "    tensor([0.])")
acos = arccos = _unary(Acos, "acos", ">>> chainrule.acos(chainrule.tensor([1.0]))\n"
                       "    tensor([0.])")
atan = arctan = _unary(Atan, "atan", ">>> chainrule.atan(chainrule.tensor([0.0]))\n"
                       "    tensor([0.])")
sinh = _unary(Sinh, "sinh", ">>> chainrule.sinh(chainrule.tensor([0.0]))\n    tensor([0.])")
cosh = _unary(Cosh, "cosh", ">>> chainrule.cosh(chainrule.tensor([0.0]))\n    tensor([1.])")
asinh = arcsinh = _unary(Asinh, "asinh", ">>> chainrule.asinh(chainrule.tensor([0.0]))\n"
                         "    tensor([0.])")
acosh = arccosh = _unary(Acosh, "acosh", ">>> chainrule.acosh(chainrule.tensor([1.0]))\n"
                         "    tensor([0.])")
atanh = arctanh = _unary(Atanh, "atanh", ">>> chainrule.atanh(chainrule.tensor([0.0]))\n"
                         "    tensor([0.])")
erfc = _unary(Erfc, "erfc", ">>> chainrule.erfc(chainrule.tensor([0.0]))\n    tensor([1.])")
erfinv = _unary(Erfinv, "erfinv", ">>> chainrule.erfinv(chainrule.tensor([0.0]))\n"
                "    tensor([0.])")
lgamma = _unary(Lgamma, "lgamma", ">>> chainrule.lgamma(chainrule.tensor([3.0]))\n"
                "    tensor([0.6931])")
digamma = _unary(Digamma, "digamma", ">>> chainrule.digamma(chainrule.tensor([1.0]))\n"
                 "    tensor([-0.5772])")


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma (n >= 0).

    >>> import chainrule
    >>> chainrule.polygamma(1, chainrule.tensor([1.0]))
    tensor([1.6449])
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = _unary_in(input, "polygamma")
    return Digamma.apply(x) if n == 0 else Polygamma.apply(x, int(n))


def exp2(input, *, out=None):
    """2 ** input.

    >>> import chainrule
    >>> chainrule.exp2(chainrule.tensor([3.0]))
    tensor([8.])
    """
    return pow(2.0, _unary_in(input, "exp2"))


def sgn(input, *, out=None):
    """sign(input) (real tensors; gradient zero).

    >>> import chainrule
    >>> chainrule.sgn(chainrule.tensor([-3.0, 0.0]))
    tensor([-1.,  0.])
    """
    return sign(input)


def frac(input, *, out=None):
    """input - trunc(input) (floating tensors only).

    >>> import chainrule
    >>> chainrule.frac(chainrule.tensor([1.25, -2.5]))
    tensor([ 0.2500, -0.5000])
    """
    x = _unary_in(input, "frac", float_only=False)
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"\"frac_cpu\" not implemented for '{x.dtype.name.capitalize()}'")
    return x - Trunc.apply(x)


def _tensor_pair(input, other, op, float_only=True, ints=True):
    """Check both operands are tensors (as torch's tensor-only binary ops), then promote."""
    for name, pos, v in (("input", 1, input), ("other", 2, other)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not "
                            f"{type(v).__name__}")
    if not ints:
        for v in (input, other):
            if v._data.dtype.kind != "f":
                raise RuntimeError(f"\"{op}_cpu\" not implemented for "
                                   f"'{v.dtype.name.capitalize()}'")
    a, b = _promote(input, other, op, float_only)
    _check_broadcast(a, b, op)
    return a, b


def atan2(input, other, *, out=None):
    """The angle of the point (other, input), in (-pi, pi].

    >>> import chainrule
    >>> chainrule.atan2(chainrule.tensor([1.0]), chainrule.tensor([1.0]))
    tensor([0.7854])
    """
    return Atan2.apply(*_tensor_pair(input, other, "atan2"))


arctan2 = atan2


def hypot(input, other, *, out=None):
    """sqrt(input ** 2 + other ** 2) without overflow.

    >>> import chainrule
    >>> chainrule.hypot(chainrule.tensor([3.0]), chainrule.tensor([4.0]))
    tensor([5.])
    """
    return Hypot.apply(*_tensor_pair(input, other, "hypot", ints=False))


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)), computed stably.

    >>> import chainrule
    >>> chainrule.logaddexp(chainrule.tensor([1000.0]), chainrule.tensor([1000.0]))
    tensor([1000.6932])
    """
    a, b = _tensor_pair(input, other, "logaddexp", ints=False)
    # NOTE: max + log1p(exp(-|a - b|)) never overflows; equal infinities give themselves
    d = abs(a - b)
    out = maximum(a, b) + log1p(exp(-d))
    return where(isinf(a) & (a == b), a, out)


def logaddexp2(input, other, *, out=None):
    """log2(2 ** input + 2 ** other), computed stably.

    >>> import chainrule
    >>> chainrule.logaddexp2(chainrule.tensor([3.0]), chainrule.tensor([3.0]))
    tensor([4.])
    """
    a, b = _tensor_pair(input, other, "logaddexp2", ints=False)
    d = abs(a - b)
    out = maximum(a, b) + log1p(exp2(-d)) / _LN2
    return where(isinf(a) & (a == b), a, out)


class Xlogy(Op):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        out = _sp.xlogy(a, b)
        return out.astype(np.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        ga = gb = None
        if n[0]:
            # NOTE: torch's rule: d/da is log(b), but 0 where a == 0 and b <= 0
            mask = (a == 0) & (b <= 0)
            ga = _xp.where(mask, 0.0, g * _xp.log(_xp.where(mask, 1.0, b)))
        if n[1]:
            gb = g * a / b
        return ga, gb


def xlogy(input, other, *, out=None):
    """input * log(other), defined as 0 where input == 0 (unless other is NaN).

    >>> import chainrule
    >>> chainrule.xlogy(chainrule.tensor([0.0, 2.0]), chainrule.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy(): expected at least one Tensor argument")
    a, b = _promote(input, other, "xlogy", float_only=True)
    _check_broadcast(a, b, "xlogy")
    return Xlogy.apply(a, b)


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); weight is a number or a tensor.

    >>> import chainrule
    >>> chainrule.lerp(chainrule.tensor([0.0, 10.0]), chainrule.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """
    x = _unary_in(input, "lerp", float_only=False)
    if not isinstance(end, Tensor):
        raise TypeError(f"lerp(): argument 'end' (position 2) must be Tensor, not "
                        f"{type(end).__name__}")
    if end._data.dtype != x._data.dtype:
        raise RuntimeError(f"expected dtype {x.dtype.name} for `end` but got dtype "
                           f"{end.dtype.name}")
    if isinstance(weight, Tensor):
        if weight._data.ndim and weight._data.dtype != x._data.dtype:
            raise RuntimeError(f"expected dtype {x.dtype.name} for `weight` but got dtype "
                               f"{weight.dtype.name}")
        _check_broadcast(x, weight, "lerp")
        weight = cast(weight, x.dtype)
    elif not isinstance(weight, (int, float)):
        raise TypeError(f"lerp(): argument 'weight' must be Tensor or Number, not "
                        f"{type(weight).__name__}")
    _check_broadcast(x, end, "lerp")
    return x + weight * (end - x)


def fmod(input, other, *, out=None):
    """C-style remainder (the sign of the dividend).

    >>> import chainrule
    >>> chainrule.fmod(chainrule.tensor([-3.0, 3.0]), 2)
    tensor([-1.,  1.])
    """
    _unary_in(input, "fmod", float_only=False)
    a, b = _promote(input, other, "fmod")
    _check_broadcast(a, b, "fmod")
    _check_int_zero(b)
    return Fmod.apply(a, b)


def copysign(input, other, *, out=None):
    """|input| with the sign of other (signed zeros count); the gradient to other is zero.

    >>> import chainrule
    >>> chainrule.copysign(chainrule.tensor([1.0, 2.0]), chainrule.tensor([-0.0, 3.0]))
    tensor([-1.,  2.])
    """
    _unary_in(input, "copysign", float_only=False)
    a, b = _promote(input, other, "copysign", float_only=True)
    _check_broadcast(a, b, "copysign")
    return CopySign.apply(a, b)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN, +inf and -inf by finite numbers (default: 0 and the dtype's extremes).

    >>> import chainrule
    >>> chainrule.nan_to_num(chainrule.tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    x = _unary_in(input, "nan_to_num", float_only=False)
    for name, v in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise TypeError(f"nan_to_num(): argument '{name}' must be float, not "
                            f"{type(v).__name__}")
    if x._data.dtype.kind != "f":
        return x.clone()
    fill = _nograd(functools.partial(np.nan_to_num, nan=nan, posinf=posinf, neginf=neginf), x)
    return where(isfinite(x), x, fill)


def _all_finite(d):
    return np.ones(d.shape, bool)


def _none_special(d):
    return np.zeros(d.shape, bool)


def _classify(npfn, name, example):
    def fn(input):
        x = _unary_in(input, name, float_only=False)
        d = x._data
        if d.dtype.kind != "f":
            return _nograd(_all_finite if name == "isfinite" else _none_special, x)
        return _nograd(npfn, x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Elementwise {name} (a bool tensor).\n\n    >>> import chainrule\n"
                  f"    {example}\n")
    return fn


isnan = _classify(np.isnan, "isnan", ">>> chainrule.isnan(chainrule.tensor([1.0, "
                  "float('nan')]))\n    tensor([False,  True])")
isinf = _classify(np.isinf, "isinf", ">>> chainrule.isinf(chainrule.tensor([1.0, "
                  "float('inf')]))\n    tensor([False,  True])")
isfinite = _classify(np.isfinite, "isfinite", ">>> chainrule.isfinite(chainrule.tensor("
                     "[1.0, float('inf')]))\n    tensor([ True, False])")
isposinf = _classify(np.isposinf, "isposinf", ">>> chainrule.isposinf(chainrule.tensor("
                     "[-float('inf')]))\n    tensor([False])")
isneginf = _classify(np.isneginf, "isneginf", ">>> chainrule.isneginf(chainrule.tensor("
                     "[-float('inf')]))\n    tensor([True])")


def float_power(input, exponent, *, out=None):
    """input ** exponent computed in float64.

    >>> import chainrule
    >>> chainrule.float_power(chainrule.tensor([2]), 3).dtype
    chainrule.float64
    """
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError("float_power(): expected at least one Tensor argument")
    a = cast(input, _dt.float64) if isinstance(input, Tensor) else float(input)
    b = cast(exponent, _dt.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, b)


def clamp_min(input, min):
    """max(input, min) (clamp with a lower bound only).

    >>> import chainrule
    >>> chainrule.clamp_min(chainrule.tensor([-1.0, 2.0]), 0)
    tensor([0., 2.])
    """
    return clamp(input, min=min)


def clamp_max(input, max):
    """min(input, max) (clamp with an upper bound only).

    >>> import chainrule
    >>> chainrule.clamp_max(chainrule.tensor([-1.0, 2.0]), 0)
    tensor([-1.,  0.])
    """
    return clamp(input, max=max)
