"""Derivatives as ops: first derivatives of the piecewise activations (their gradient
primitive, PiecewiseGrad, as torch's *_backward ops), of copysign and remainder, and the second
derivative of square, each as a function of the input and of the output gradient. Taken with
create_graph, they must stay on the input's graph: torch's parity check then demands a zero
(not a missing) gradient in the input."""
from .spec import A, OpInfo


def F(m):
    return m.nn.functional


def _on(x):
    """x itself when it is on a graph; a fresh leaf otherwise (gradcheck's numerical pass may
    hand constants)."""
    return x if x.requires_grad else x.detach().requires_grad_()


def _d1(fn, wrt=(0,)):
    """fn's gradient in its inputs ``wrt`` along ``go`` (the last arg), kept on the graph."""
    def d(m, *args):
        *xs, go = args
        with m.enable_grad():
            xs = [_on(x) if i in wrt else x for i, x in enumerate(xs)]
            return m.autograd.grad(fn(m, *xs), [xs[i] for i in wrt], go, create_graph=True)
    return d


def _d2(fn):
    """fn's second derivative along (go, gg): the gradient in x of <d fn/dx go, gg>."""
    def d(m, x, go, gg):
        with m.enable_grad():
            x = _on(x)
            g, = m.autograd.grad(fn(m, x), x, go, create_graph=True)
            return m.autograd.grad(g, x, gg, create_graph=True)[0]
    return d


SAME = {"broadcast": "the output gradient has the input's shape"}


def U(lo=-2.0, hi=2.0, n=1):
    """(x, go) samples: 0-d, odd, transposed and 3-d; n output gradients."""
    return [(A((), lo, hi),) + (A(()),) * n,
            (A((3, 5), lo, hi),) + (A((3, 5)),) * n,
            (A((3, 5), lo, hi, T=True),) + (A((3, 5)),) * n,
            (A((2, 1, 4), lo, hi),) + (A((2, 1, 4), T=True),) * n]


def grad_op(name, fn, see, samples=None, **kw):
    return OpInfo(name, _d1(fn), samples or U(), skip_kinds=SAME, bad_see=see, **kw)


BIN = [(A(()), A(()), A(())), (A((3, 5)), A((5,), 0.5, 2), A((3, 5))),
       (A((3, 5), T=True), A((3, 1), 0.5, 2), A((3, 5))),
       (A((2, 1, 4)), A((2, 3, 1), -2, -0.5), A((2, 3, 4), T=True))]

OPS = [
    grad_op("hardtanh_grad", lambda m, x: F(m).hardtanh(x, -0.5, 0.8), "F.hardtanh"),
    grad_op("relu6_grad", lambda m, x: F(m).relu6(x), "F.relu6", U(-2, 8)),
    grad_op("leaky_relu_grad", lambda m, x: F(m).leaky_relu(x, 0.2), "F.leaky_relu"),
    grad_op("leaky_relu__grad", lambda m, x: F(m).leaky_relu_(x * 1, 0.3), "F.leaky_relu"),
    grad_op("rrelu_eval_grad", lambda m, x: F(m).rrelu(x, 0.1, 0.3), "F.rrelu_eval"),
    grad_op("rrelu_train_grad",
            lambda m, x: (m.manual_seed(3), F(m).rrelu(x * 1, 0.1, 0.3, True, True))[1],
            "F.rrelu_eval", nondeterministic=True),
    grad_op("threshold_grad", lambda m, x: F(m).threshold(x, 0.1, -0.5), "F.threshold"),
    grad_op("threshold__grad", lambda m, x: F(m).threshold_(x * 1, 0.1, 2.0), "F.threshold"),
    grad_op("softshrink_grad", lambda m, x: F(m).softshrink(x, 0.3), "F.softshrink"),
    grad_op("hardshrink_grad", lambda m, x: F(m).hardshrink(x, 0.3), "F.hardshrink"),
    # torch has no derivative of hardsigmoid_backward (it raises): gradchecks only
    grad_op("hardsigmoid_grad", lambda m, x: F(m).hardsigmoid(x), "F.hardsigmoid", U(-4, 4),
            parity=False),
    OpInfo("prelu_grad", _d1(lambda m, x, w: F(m).prelu(x, w), (0, 1)),
           [(A(()), A((1,), 0.1, 0.5), A(())), (A((3, 5)), A((5,), 0.1, 0.5), A((3, 5))),
            (A((3, 5), T=True), A((1,), 0.1, 0.5), A((3, 5))),
            (A((2, 3, 4)), A((3,), 0.1, 0.5), A((2, 3, 4), T=True))], bad_see="F.prelu"),
    OpInfo("copysign_grad", _d1(lambda m, x, y: m.copysign(x, y), (0, 1)), BIN,
           bad_see="copysign"),
    OpInfo("remainder_grad", _d1(lambda m, x, y: m.remainder(x, y), (0, 1)), BIN,
           bad_see="remainder"),
    OpInfo("fmod_grad", _d1(lambda m, x, y: m.fmod(x, y), (0, 1)), BIN, bad_see="fmod"),
    OpInfo("square_grad2", _d2(lambda m, x: m.square(x)), U(n=2), skip_kinds=SAME,
           bad_see="square"),
    OpInfo("pow2_grad2", _d2(lambda m, x: x ** 2), U(n=2), skip_kinds=SAME, bad_see="square"),
]
