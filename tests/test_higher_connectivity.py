"""Higher-order graph connectivity against torch: for every op-table sample (float64), the
first derivatives taken with create_graph=True must require grad exactly where torch's do,
and the second derivative (and the third, for elementwise ops) must be a tensor wherever
torch's is one (zeros included), with torch's values. Piecewise functions built on constant
masks used to lose the graph here (first derivatives that were constants, second derivatives
that raised or came back None)."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch, to_np
from optable import all_ops
from optable.spec import A, build

OPS = [op for op in all_ops() if op.grad and op.parity and not op.nondeterministic]
ELEMENTWISE = {"table_core", "table_elementwise", "table_special_ns", "table_nn_act"}
SAMPLES = [(op, i) for op in OPS for i in range(len(op.samples))]
IDS = [f"{op.name}-{i}" for op, i in SAMPLES]


def _seed(op, i):
    return (sum(map(ord, op.name)) * 7919 + i) % (2 ** 31)


def _outs(res):
    res = res if isinstance(res, (tuple, list)) else (res,)
    return [r for r in res if hasattr(r, "requires_grad") and r.requires_grad]


def _weighted(lib, ts, seed):
    """sum_i (t_i * w_i).sum() over the tensors that require grad, with fixed weights (the
    same in both libraries); None when none does."""
    rng = np.random.default_rng(seed)
    total = None
    for t in ts:
        if t is None:
            continue
        w = lib.tensor(rng.uniform(0.5, 1.5, tuple(t.shape)))   # drawn for every t: the
        if not t.requires_grad:                                 # weights never depend on
            continue                                            # which ones require grad
        term = (t * w).sum()
        total = term if total is None else total + term
    return total


def _ladder(lib, fn, sample, seed, orders):
    """[(grads, requires_grad flags)] for derivative orders 1..orders."""
    leaves, to_args = build(lib, sample, seed)
    if not leaves:
        return None
    total = _weighted(lib, _outs(fn(lib, *to_args(*leaves))), 1)
    res = []
    for k in range(orders):
        if total is None:
            gs = [None] * len(leaves)
        else:
            try:
                gs = list(lib.autograd.grad(total, leaves, create_graph=k + 1 < orders,
                                            allow_unused=True))
            except (RuntimeError, NotImplementedError) as e:
                if lib is chainrule or "not implemented" not in str(e):
                    raise
                break       # torch has no derivative of this order: compare the lower ones
        res.append(gs)
        total = _weighted(lib, gs, 2 + k)
    return res


def _np(t):
    if hasattr(t, "_is_zerotensor") and t._is_zerotensor():
        return np.zeros(tuple(t.shape))     # torch's symbolic zeros
    return to_np(t)


def audit(op, i, orders):
    """Mismatches against torch, as strings (empty when the ladder matches)."""
    # an op that runs through float32 (eps 1e-3 in its table entry) agrees to float32 only
    rtol, atol = (1e-5, 1e-6) if getattr(op, "eps", 0) >= 1e-3 else (1e-6, 1e-9)
    sample = op.samples[i]
    mine = _ladder(chainrule, op.fn, sample, _seed(op, i), orders)
    import torch
    theirs = _ladder(torch, op.torch_fn, sample, _seed(op, i), orders)
    if mine is None:
        return []
    bad = []
    for k, (gs, ts) in enumerate(zip(mine, theirs)):
        for j, (g, t) in enumerate(zip(gs, ts)):
            where = f"order {k + 1} input {j}"
            if t is None:
                if g is not None and np.any(_np(g)):
                    bad.append(f"{where}: nonzero where torch has none")
                continue
            if g is None:
                bad.append(f"{where}: missing (torch: a tensor)")
                continue
            if k + 1 < orders and bool(g.requires_grad) != bool(t.requires_grad):
                bad.append(f"{where}: requires_grad {g.requires_grad}, torch "
                           f"{t.requires_grad}")
            a, b = _np(g), _np(t)
            if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=atol,
                                                     equal_nan=True):
                bad.append(f"{where}: values differ from torch")
    return bad


def _orders(op):
    return 3 if op.fn.__module__.rsplit(".", 1)[-1] in ELEMENTWISE else 2


def _o1(j):
    return f"order 1 input {j}: requires_grad False, torch True"


TORCH_D3 = "order 3 input 0: values differ from torch"
# Known differences, each with its reason; anything else fails.
# (a) torch's multi-output backward nodes (convolution, native norms) mark every gradient
#     they return as requiring grad, even one that is constant in the inputs (a bias's);
# (b) torch's third derivative of the native norms is wrong (finite differences of its own
#     second derivative agree with chainrule, see test_norm_third_derivative_is_chainrules);
# (c) chainrule keeps a graph where torch keeps none (its derivative there is zeros);
# (d) a deliberate trade: x ** 2's recorded derivative is 2 * g * x with x itself, not torch's
#     x ** 1 (one node less in every Hessian of a square, about 6% of the Hessian benchmark),
#     so its second derivative 2 * g is constant in x (third derivative: missing, not zeros).
BIAS = {_o1(2)}
KNOWN = {
    **{k: BIAS for k in ("conv1d", "conv2d", "conv3d", "conv_transpose1d",
                         "conv_transpose2d", "F.batch_norm_eval")},                  # (a)
    **{k: BIAS | {TORCH_D3} for k in ("F.layer_norm", "F.batch_norm_train",
                                      "F.instance_norm")},                         # (a, b)
    **{k: {TORCH_D3} for k in ("F.layer_norm_2d", "F.batch_norm_nostats")},       # (b)
    "F.instance_norm_eval": {_o1(0)},                                             # (a)
    "logcumsumexp": {"order 1 input 0: requires_grad True, torch False"},         # (c) 0-d
    "F.prelu": {"order 2 input 0: requires_grad True, torch False",               # (c)
                "order 2 input 1: requires_grad True, torch False"},
    "act:prelu": {"order 2 input 0: requires_grad True, torch False"},            # (c)
    **{k: {"order 2 input 0: requires_grad False, torch True",
           "order 3 input 0: missing (torch: a tensor)"}
       for k in ("square", "square_method")},                                      # (d)
}


@needs_torch
@pytest.mark.parametrize("op,i", SAMPLES, ids=IDS)
def test_higher_order_connectivity(op, i):
    bad = [b for b in audit(op, i, _orders(op)) if b not in KNOWN.get(op.name, ())]
    assert not bad, f"{op.name}-{i}: " + "; ".join(bad)


# every nn.functional activation, at points on either side of its kinks
ACTS = {
    "relu": lambda F, x: F.relu(x),
    "relu_": lambda F, x: F.relu_(x * 1),
    "elu_": lambda F, x: F.elu_(x * 1, 0.7),
    "selu_": lambda F, x: F.selu_(x * 1),
    "celu_": lambda F, x: F.celu_(x * 1, 0.6),
    "silu_": lambda F, x: F.silu(x * 1, inplace=True),
    "mish_": lambda F, x: F.mish(x * 1, inplace=True),
    "hardsigmoid_": lambda F, x: F.hardsigmoid(x * 4, inplace=True),
    "hardswish_": lambda F, x: F.hardswish(x * 4, inplace=True),
    "softplus_default": lambda F, x: F.softplus(x),
    "relu6": lambda F, x: F.relu6(x * 4),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "leaky_relu_": lambda F, x: F.leaky_relu_(x * 1, 0.2),
    "elu": lambda F, x: F.elu(x, 0.7),
    "selu": lambda F, x: F.selu(x),
    "celu": lambda F, x: F.celu(x, 0.6),
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x),
    "mish": lambda F, x: F.mish(x),
    "softplus": lambda F, x: F.softplus(x, 2.0, 1.0),
    "softsign": lambda F, x: F.softsign(x),
    "hardtanh": lambda F, x: F.hardtanh(x, -0.5, 0.8),
    "hardtanh_": lambda F, x: F.hardtanh_(x * 1, -0.5, 0.8),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x * 4),
    "hardswish": lambda F, x: F.hardswish(x * 4),
    "logsigmoid": lambda F, x: F.logsigmoid(x),
    "tanhshrink": lambda F, x: F.tanhshrink(x),
    "softshrink": lambda F, x: F.softshrink(x, 0.3),
    "hardshrink": lambda F, x: F.hardshrink(x, 0.3),
    "threshold": lambda F, x: F.threshold(x, 0.1, -0.5),
    "threshold_": lambda F, x: F.threshold_(x * 1, 0.1, 2.0),
    "rrelu_eval": lambda F, x: F.rrelu(x, 0.1, 0.3),
    "rrelu_eval_": lambda F, x: F.rrelu_(x * 1, 0.1, 0.3),
    "glu": lambda F, x: F.glu(x, -1),
    "softmax": lambda F, x: F.softmax(x, -1),
    "log_softmax": lambda F, x: F.log_softmax(x, -1),
    "softmin": lambda F, x: F.softmin(x, -1),
    "sigmoid": lambda F, x: F.sigmoid(x),
    "tanh": lambda F, x: F.tanh(x),
    "prelu": lambda F, x: F.prelu(x, x.new_tensor([0.3])),
}
ACT_X = A((), values=[-1.7, -0.9, -0.4, -0.05, 0.2, 0.45, 0.95, 1.6])


class _Act:
    def __init__(self, name, f):
        self.name = name
        self.fn = self.torch_fn = lambda m, x: f(m.nn.functional, x)
        self.samples = [(ACT_X,)]


@needs_torch
@pytest.mark.parametrize("name", sorted(ACTS))
def test_activation_connectivity(name):
    op = _Act(name, ACTS[name])
    bad = [b for b in audit(op, 0, 3) if b not in KNOWN.get("act:" + name, ())]
    assert not bad, f"{name}: " + "; ".join(bad)


@needs_torch
def test_audit_can_fail():
    """The audit sees a first derivative cut off its input's graph."""
    def cut(m, x):
        return x * (x.detach() > 0).to(x.dtype) * x.detach()
    op = _Act("cut", lambda F, x: x)
    op.fn = cut
    op.torch_fn = lambda m, x: x * (x > 0).to(x.dtype) * x
    assert audit(op, 0, 2)



@needs_torch
def test_norm_third_derivative_is_chainrules():
    """(b) above: chainrule's third derivative of layer_norm agrees with central differences
    of its own second derivative (torch's does not)."""
    rng = np.random.default_rng(0)
    x0, w, b = rng.normal(size=(2, 4)), rng.normal(size=4), rng.normal(size=4)
    w1, w2, w3 = (rng.uniform(0.5, 1.5, (2, 4)) for _ in range(3))
    F64 = chainrule.float64

    def second(x, create):
        x = x if create else x.requires_grad_()
        y = chainrule.nn.functional.layer_norm(x, [4], chainrule.tensor(w, dtype=F64),
                                               chainrule.tensor(b, dtype=F64))
        g, = chainrule.autograd.grad((y * chainrule.tensor(w1)).sum(), x, create_graph=True)
        g2, = chainrule.autograd.grad((g * chainrule.tensor(w2)).sum(), x, create_graph=True)
        return (g2 * chainrule.tensor(w3)).sum()

    x = chainrule.tensor(x0, requires_grad=True)
    g3, = chainrule.autograd.grad(second(x, True), x)
    num = np.zeros_like(x0)
    h = 1e-5
    for idx in np.ndindex(x0.shape):
        e = np.zeros_like(x0)
        e[idx] = h
        num[idx] = (second(chainrule.tensor(x0 + e), False).item()
                    - second(chainrule.tensor(x0 - e), False).item()) / (2 * h)
    np.testing.assert_allclose(to_np(g3), num, rtol=1e-5, atol=1e-7)


KINKS = [float("nan"), float("inf"), -float("inf"), -3.0, -1.0, -0.5, -0.3, 0.0, 0.1, 0.3,
         0.8, 1.0, 3.0, 6.0, 2.5, -2.0]
PIECEWISE = {
    "hardtanh": lambda F, x: F.hardtanh(x, -0.5, 0.8),
    "relu6": lambda F, x: F.relu6(x * 2),
    "leaky_relu": lambda F, x: F.leaky_relu(x, 0.2),
    "leaky_relu_": lambda F, x: F.leaky_relu_(x * 1, 0.2),
    "threshold": lambda F, x: F.threshold(x, 0.1, -2.0),
    "softshrink": lambda F, x: F.softshrink(x, 0.3),
    "hardshrink": lambda F, x: F.hardshrink(x, 0.3),
    "hardsigmoid": lambda F, x: F.hardsigmoid(x),
    "prelu": lambda F, x: F.prelu(x, x.new_tensor([0.25])),
    "rrelu_eval": lambda F, x: F.rrelu(x, 0.1, 0.3),
}


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(PIECEWISE))
def test_piecewise_kinks_nan_inf_match_torch(name, dtype):
    """Values at the kinks, at +-inf and at NaN, and gradients at all but NaN (where torch's
    vectorised and scalar loops disagree), as torch's kernels."""
    import torch
    res = []
    for lib in (chainrule, torch):
        x = lib.tensor(np.array(KINKS, dtype=dtype), requires_grad=True)
        y = PIECEWISE[name](lib.nn.functional, x)
        g, = lib.autograd.grad((y * lib.arange(1, len(KINKS) + 1).to(y.dtype)).sum(), x)
        res.append((to_np(y), to_np(g), str(y.dtype).split(".")[-1]))
    (y1, g1, d1), (y2, g2, d2) = res
    assert d1 == d2
    np.testing.assert_allclose(y1, y2, rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(g1[1:], g2[1:], rtol=1e-6)


@needs_torch
@pytest.mark.parametrize("inplace", [False, True])
def test_rrelu_training_gradient_stays_on_the_graph(inplace):
    """rrelu's random slopes are constants, yet its gradient stays on the input's graph (torch:
    rrelu_with_noise_backward), so the second derivative is zeros rather than missing."""
    import torch
    flags = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        x = lib.tensor([-1.5, -0.2, 0.3, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.rrelu(x * 1, 0.1, 0.3, training=True, inplace=inplace)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        g2, = lib.autograd.grad(g.sum(), x, allow_unused=True)
        slopes = to_np(y.detach()) / to_np(x.detach())
        np.testing.assert_allclose(to_np(g.detach()), slopes)
        flags.append((g.requires_grad, g2 is not None and not np.any(to_np(g2))))
    assert flags[0] == flags[1] == (True, True)
