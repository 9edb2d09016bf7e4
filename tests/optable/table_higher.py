"""Gradient primitives as ops: InputGrad (a gradient tied to the input of the op it
differentiates, as torch's pooling / padding / nll backward ops are), AxisMatmul (adaptive
average pooling's matrix along one axis) and PiecewiseGrad (the recorded gradient of the piecewise-linear
activations) against torch's *_backward ops, as a function of the output gradient ``go`` and
of the input x. Its derivative in x is zero but present (torch's is a zero tensor, not a
missing one): the parity check demands a gradient for x wherever torch gives one."""
import numpy as np

from .spec import A, OpInfo


def _pg(kind, torch_op):
    def f(m, go, x, *p):
        if m.__name__ == "torch":
            return getattr(m.ops.aten, torch_op)(go, x, *p)
        from chainrule.ops.elementwise import PiecewiseGrad
        return PiecewiseGrad.apply(go, x, kind, *p)
    return f


def U(lo=-2.0, hi=2.0, *p):
    """(go, x) samples: 0-d, odd, transposed, broadcast (go over x's leading dim)."""
    return [(A(()), A((), lo, hi)) + p, (A((3, 5)), A((3, 5), lo, hi)) + p,
            (A((3, 5), T=True), A((3, 5), lo, hi)) + p,
            (A((2, 3, 4)), A((3, 4), lo, hi, T=True)) + p]


def grad_op(name, kind, torch_op, see, samples, **kw):
    return OpInfo(name, _pg(kind, torch_op), samples, bad_see=see, **kw)


OPS = [
    grad_op("hardtanh_backward", "hardtanh", "hardtanh_backward", "F.hardtanh",
            U(-2, 2, -0.5, 0.8)),
    grad_op("leaky_relu_backward", "leaky_relu", "leaky_relu_backward", "F.leaky_relu",
            [s[:2] + (0.2,) for s in U()],
            torch_fn=lambda m, go, x, a: m.ops.aten.leaky_relu_backward(go, x, a, False)),
    grad_op("threshold_backward", "threshold", "threshold_backward", "F.threshold",
            [s[:2] + (0.1, -0.5) for s in U()],
            torch_fn=lambda m, go, x, th, v: m.ops.aten.threshold_backward(go, x, th)),
    grad_op("softshrink_backward", "softshrink", "softshrink_backward", "F.softshrink",
            U(-2, 2, 0.3)),
    grad_op("hardshrink_backward", "hardshrink", "hardshrink_backward", "F.hardshrink",
            U(-2, 2, 0.3)),
    # torch has no derivative of hardsigmoid_backward (it raises): gradchecks only
    grad_op("hardsigmoid_backward", "hardsigmoid", "hardsigmoid_backward", "F.hardsigmoid",
            U(-4, 4), parity=False),
    # prelu's negative part: no torch op of its own (torch fuses it into prelu's backward;
    # F.prelu's parity covers its values): gradchecks only
    grad_op("nonpositive_backward", "nonpositive", None, "F.prelu", U(), parity=False),
]


def _input_grad(m, g, x):
    if m.__name__ == "torch":
        return g + x * 0        # the value g, a zero (present) derivative in x
    from chainrule.ops.conv import InputGrad
    return InputGrad.apply(g, x)


def _matrix(o, n, dtype):
    return np.random.default_rng(o * 31 + n).uniform(-1, 1, (o, n)).astype(dtype)


def _avg(o, n, dtype):
    """Adaptive average pooling's (o, n) matrix: window i is [floor(i n / o), ceil((i+1) n / o))."""
    M = np.zeros((o, n))
    for i in range(o):
        a, b = (i * n) // o, -((-(i + 1) * n) // o)
        M[i, a:b] = 1.0 / (b - a)
    return M.astype(dtype)


def _axis_matmul(m, x, o, axis, tied):
    """Tied: adaptive average pooling along axis (torch's op ties its gradient to x too)."""
    dt = str(x.dtype).split(".")[-1]
    n = x.shape[axis]
    M = (_avg if tied else _matrix)(o, n, dt)
    if m.__name__ == "torch":
        if tied:
            y = x.movedim(axis, -1)
            lead = tuple(y.shape[:-1])
            y = m.nn.functional.adaptive_avg_pool1d(y.reshape(-1, 1, n), o)
            return y.reshape(lead + (o,)).movedim(-1, axis)
        return m.movedim(m.tensordot(x, m.tensor(M), dims=([axis], [1])), -1, axis)
    from chainrule.ops.conv import AxisMatmul
    return AxisMatmul.apply(x, M, axis, tied)


OPS += [
    OpInfo("input_grad", _input_grad,
           [(A(()), A(())), (A((3, 5)), A((3, 5))), (A((3, 5), T=True), A((3, 5))),
            (A((2, 3, 4)), A((3, 4), T=True))], bad_see="max_pool2d"),
    OpInfo("axis_matmul", _axis_matmul,
           [(A((3, 5)), 2, -1, True), (A((2, 4, 3), T=True), 5, -2, False),
            (A((2, 3, 4, 2)), 3, -3, True), (A((1, 2, 3, 5)), 4, -4, False)],
           skip_kinds={"0d": "needs an axis", "broadcast": "one input"},
           bad_see="adaptive_avg_pool2d"),
]
