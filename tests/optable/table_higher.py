"""Gradient primitives as ops: PiecewiseGrad (the recorded gradient of the piecewise-linear
activations) against torch's *_backward ops, as a function of the output gradient ``go`` and
of the input x. Its derivative in x is zero but present (torch's is a zero tensor, not a
missing one): the parity check demands a gradient for x wherever torch gives one."""
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
