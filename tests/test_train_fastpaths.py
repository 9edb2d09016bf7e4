"""The training step's fast paths (SGD on arrays, cross_entropy's common case, Linear and ReLU
modules) keep torch's semantics: results, errors, version counters, hooks."""
import numpy as np
import pytest

import chainrule
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch

_rng = np.random.default_rng(7)
_X = _rng.standard_normal((5, 4))
_W = _rng.standard_normal((3, 4)) * 0.5
_B = _rng.standard_normal(3) * 0.1
_T = np.array([0, 2, 1, 2, 0])


def _sgd_run(m, dtype, kwargs, steps=6):
    dt = getattr(m, dtype)
    w = m.tensor(_W, dtype=dt, requires_grad=True)
    b = m.tensor(_B, dtype=dt, requires_grad=True)
    x = m.tensor(_X, dtype=dt)
    t = m.tensor(_T)
    opt = m.optim.SGD([w, b], **kwargs)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        m.nn.functional.cross_entropy(m.nn.functional.linear(x, w, b), t).backward()
        opt.step()
        out.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    bufs = [opt.state[p].get("momentum_buffer") for p in (w, b)]
    versions = [w._version, b._version] + [q._version for q in bufs if q is not None]
    return out, versions


SGD_CASES = [dict(lr=0.1), dict(lr=0.05, momentum=0.9),
             dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01),
             dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
             dict(lr=0.01, momentum=0.5, maximize=True), dict(lr=0.1, foreach=True)]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=lambda k: "-".join(map(str, k.items())))
def test_sgd_trajectory_and_versions_match_torch(kwargs, dtype):
    ours, vo = _sgd_run(chainrule, dtype, kwargs)
    theirs, vt = _sgd_run(torch, dtype, kwargs)
    tol = 1e-6 if dtype == "float32" else 1e-12
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol)
        np.testing.assert_allclose(b, d, rtol=tol, atol=tol)
        assert a.dtype == c.dtype
    assert vo == vt


def test_sgd_step_invalidates_saved_parameter():
    w = chainrule.ones(3, requires_grad=True)
    opt = chainrule.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    y = (w * w).sum()
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@needs_torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_sgd_differentiable_records_the_update():
    res = []
    for m in (chainrule, torch):
        w = m.tensor([1.0, -2.0], requires_grad=True)
        w2 = w * 1.0
        w2.retain_grad()
        opt = m.optim.SGD([w2], lr=0.3, momentum=0.5, differentiable=True)
        (w2 * w2 * w2).sum().backward(create_graph=True)
        opt.step()
        assert w2.grad_fn is not None
        (w2 * w2).sum().backward()
        res.append((w2.detach().numpy(), w.grad.detach().numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_sgd_mixed_dtype_grad_takes_the_tensor_path():
    w = chainrule.ones(2, dtype=chainrule.float32, requires_grad=True)
    w.grad = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)
    chainrule.optim.SGD([w], lr=0.5).step()
    assert w.dtype == chainrule.float32
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 0.0])


@needs_torch
@pytest.mark.parametrize("target", [[0, 2, 1, 2, 0], [0, -100, 1, 2, -100],
                                    [-100] * 5], ids=["valid", "ignored", "all-ignored"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_common_case_matches_torch(target, reduction):
    res = {}
    for m in (chainrule, torch):
        x = m.tensor(_X[:, :3], dtype=m.float64, requires_grad=True)
        loss = m.nn.functional.cross_entropy(x, m.tensor(target), reduction=reduction)
        (g,) = m.autograd.grad(loss.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        res[m.__name__] = [loss.detach().numpy(), g.detach().numpy(), gg.numpy()]
    for a, b in zip(res["chainrule"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("target", [[0, 3, 1, 2, 0], [0, -1, 1, 2, 0], [0, -7, 1, 2, 0]])
def test_cross_entropy_bad_targets_raise_like_torch(target):
    for m in (chainrule, torch):
        x = m.zeros(5, 3)
        with pytest.raises(IndexError):
            m.nn.functional.cross_entropy(x, m.tensor(target))


def test_cross_entropy_ignore_index_inside_the_classes():
    x = chainrule.tensor(_X[:, :3], requires_grad=True)
    t = chainrule.tensor([0, 1, 1, 2, 0])
    loss = chainrule.nn.functional.cross_entropy(x, t, ignore_index=1)
    keep = [0, 3, 4]
    ref = chainrule.nn.functional.cross_entropy(x[keep], t[keep])
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)


def test_linear_module_reads_replaced_parameters():
    from chainrule.func import functional_call
    lin = chainrule.nn.Linear(4, 3)
    w, b = chainrule.ones(3, 4), chainrule.zeros(3)
    out = functional_call(lin, {"weight": w, "bias": b}, (chainrule.ones(2, 4),))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 4.0))
    del lin.weight
    lin.weight = chainrule.full((3, 4), 2.0)     # a plain tensor attribute now
    np.testing.assert_allclose(lin(chainrule.ones(1, 4)).detach().numpy() - lin.bias.detach()
                               .numpy(), np.full((1, 3), 8.0))


def test_module_hooks_still_fire_on_the_fast_paths():
    net = chainrule.nn.Sequential(chainrule.nn.Linear(4, 3), chainrule.nn.ReLU())
    seen = []
    net[0].register_forward_hook(lambda mod, args, out: seen.append("lin"))
    net[1].register_forward_pre_hook(lambda mod, args: seen.append("relu"))
    h = net[1].register_full_backward_hook(lambda mod, gi, go: seen.append("relu-bw"))
    net(chainrule.ones(2, 4)).sum().backward()
    assert seen == ["lin", "relu", "relu-bw"]
    h.remove()


@needs_torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_zero_grad_keep_matches_torch():
    res = []
    for m in (chainrule, torch):
        w = m.ones(3, requires_grad=True)
        b = m.ones(2, requires_grad=True)
        opt = m.optim.SGD([w, b], lr=0.1)
        (w * w).sum().backward()
        (b * b).sum().backward(create_graph=True)   # b.grad is itself recorded
        before = [p.grad._version for p in (w, b)]
        opt.zero_grad(set_to_none=False)
        res.append([(p.grad.detach().numpy().tolist(), p.grad.requires_grad,
                     p.grad.grad_fn is None, p.grad._version - v) for p, v in zip((w, b), before)])
    assert res[0] == res[1]


def test_sgd_read_only_parameter_raises_and_stays():
    a = np.ones(3, np.float32)
    a.flags.writeable = False
    p = chainrule.from_numpy(a).requires_grad_()
    p.grad = chainrule.ones(3)
    with pytest.raises(RuntimeError):
        chainrule.optim.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(p.detach().numpy(), np.ones(3))
    assert p._version == 0


def test_sequential_calls_children_through_global_hooks_and_overridden_call():
    calls = []

    class Loud(chainrule.nn.Module):
        def forward(self, x):
            return x * 2

        def __call__(self, *args):
            calls.append("call")
            return super().__call__(*args)

    net = chainrule.nn.Sequential(chainrule.nn.Linear(4, 3), Loud())
    h = chainrule.nn.modules.module.register_module_forward_hook(
        lambda mod, args, out: calls.append(type(mod).__name__))
    try:
        net(chainrule.ones(2, 4))
    finally:
        h.remove()
    assert calls == ["Linear", "call", "Loud", "Sequential"]
    calls.clear()
    net(chainrule.ones(2, 4))
    assert calls == ["call"]


@needs_torch
@pytest.mark.parametrize("case", ["x-grad", "x-const", "no-bias", "vector", "3d", "float64"])
def test_linear_fast_path_matches_torch(case):
    res = []
    for m in (chainrule, torch):
        dt = m.float64 if case == "float64" else m.float32
        shape = {"vector": (4,), "3d": (2, 5, 4)}.get(case, (5, 4))
        x = m.tensor(np.resize(_X, shape), dtype=dt, requires_grad=case != "x-const")
        w = m.tensor(_W, dtype=dt, requires_grad=True)
        b = None if case == "no-bias" else m.tensor(_B, dtype=dt, requires_grad=True)
        out = m.nn.functional.linear(x, w, b)
        (out * out).sum().backward()
        res.append([out.detach().numpy(), w.grad.numpy()]
                   + ([] if b is None else [b.grad.numpy()])
                   + ([] if x.grad is None else [x.grad.numpy()]))
    assert len(res[0]) == len(res[1])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
        assert a.dtype == c.dtype


def test_linear_fast_path_checks_versions_and_records_nothing_without_grad():
    x = chainrule.ones(2, 4, requires_grad=True)
    lin = chainrule.nn.Linear(4, 3)
    out = lin(x)
    with chainrule.no_grad():
        lin.weight.mul_(2)      # saved for x's gradient
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    with chainrule.no_grad():
        assert lin(x).grad_fn is None
    assert lin(chainrule.ones(2, 4)).grad_fn.name() == "LinearBackward0"


@needs_torch
def test_cross_entropy_long_and_wide_sums_match_torch_in_float32():
    rng = np.random.default_rng(3)
    for n, c in ((5000, 3), (3, 5000), (700, 40)):
        x = rng.standard_normal((n, c)).astype(np.float32) * 3
        t = rng.integers(0, c, n)
        for red in ("mean", "sum"):
            ours = chainrule.nn.functional.cross_entropy(chainrule.tensor(x),
                                                         chainrule.tensor(t), reduction=red)
            theirs = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t),
                                                       reduction=red)
            np.testing.assert_allclose(ours.item(), theirs.item(), rtol=2e-6)


def test_backward_from_a_multi_output_node():
    x = chainrule.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    vals, idx = chainrule.max(x, 0)
    vals.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0]])


def _mlp(m, inplace=False):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(4, 6), m.nn.ReLU(inplace), m.nn.Linear(6, 5),
                          m.nn.ReLU(inplace), m.nn.Linear(5, 3), m.nn.ReLU())
    rng = np.random.default_rng(5)
    with m.no_grad():
        for p in net.parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape))))
    return net.double()


@needs_torch
@pytest.mark.parametrize("inplace", [False, True])
def test_sequential_linear_relu_pairs_match_torch(inplace):
    res = []
    for m in (chainrule, torch):
        net = _mlp(m, inplace)
        x = m.tensor(np.resize(_X, (7, 4)), requires_grad=True)
        out = net(x)
        (g,) = m.autograd.grad((out * out).sum(), x, create_graph=True)
        (g * g).sum().backward()
        res.append([out.detach().numpy(), x.grad.numpy()]
                   + [p.grad.numpy() for p in net.parameters()])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)


def test_sequential_fuses_linear_relu_only_when_nothing_can_see_the_pair():
    net = _mlp(chainrule)
    x = chainrule.ones(2, 4, dtype=chainrule.float64)
    assert net(x).grad_fn.name() == "LinearReluBackward0"
    assert net[:2](x).grad_fn.next_functions[1][0].variable is net[0].weight
    h = net[5].register_forward_pre_hook(lambda mod, args: None)
    assert net(x).grad_fn.name() == "ReluBackward0"
    h.remove()
    with chainrule.autograd.detect_anomaly():
        assert net(x).grad_fn.name() == "ReluBackward0"
    assert _mlp(chainrule, True)[:2](x).grad_fn.name() == "ReluBackward0"


def test_fused_linear_relu_output_is_version_checked():
    net = _mlp(chainrule)
    out = net(chainrule.ones(2, 4, dtype=chainrule.float64))
    out.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@needs_torch
def test_fused_pairs_under_transforms_and_vectorized_jacobians_match_torch():
    res = []
    for m in (chainrule, torch):
        net = _mlp(m)
        x = m.tensor(np.resize(_X, (2, 4)))
        jac = m.autograd.functional.jacobian(net, x, vectorize=True)   # vmapped backward
        hes = m.func.jacrev(m.func.jacfwd(lambda v: net(v).sum()))(x)  # under transforms
        res.append([jac.detach().numpy(), hes.detach().numpy()])
    for a, c in zip(*res):
        np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
    with chainrule.autograd.forward_ad.dual_level():
        x = chainrule.autograd.forward_ad.make_dual(chainrule.ones(2, 4).double(),
                                                    chainrule.ones(2, 4).double())
        assert _mlp(chainrule)(x).grad_fn.name() == "ReluBackward0"


@needs_torch
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_cross_entropy_flat_gather_and_scatter_any_layout(layout):
    rng = np.random.default_rng(11)
    base = rng.standard_normal((6, 8))
    x = {"C": base[:, :4].copy(), "F": np.asfortranarray(base[:, :4]),
         "strided": base[:, ::2]}[layout]
    t = np.array([0, 3, 2, 1, 1, 0])
    res = []
    for m in (chainrule, torch):
        xt = m.from_numpy(x).requires_grad_()     # keeps the layout
        loss = m.nn.functional.cross_entropy(xt, m.tensor(t), reduction="sum")
        loss.backward()
        res.append((loss.item(), xt.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12, atol=1e-14)


def test_sequential_fusion_respects_patched_forwards():
    """The fused Linear + ReLU step must not bypass a forward patched on the instance or the
    class (the audit found both ignored)."""
    import chainrule as torch
    nn = torch.nn
    x = torch.ones(1, 2)
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    s[1].forward = lambda t: t * 3 - 100
    assert (s(x).detach().numpy() < -90).all()
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    s[0].forward = lambda t: torch.full((1, 3), 5.0)
    assert (s(x).detach().numpy() == 5.0).all()
    orig = nn.ReLU.forward
    try:
        nn.ReLU.forward = lambda self, t: t * 0 + 7
        s = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        assert (s(x).detach().numpy() == 7.0).all()
    finally:
        nn.ReLU.forward = orig
    assert s(x).grad_fn.name() == "LinearReluBackward0"     # fused again once restored


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("which", ["input", "weight"])
def test_linear_plain_backward_checks_saved_versions(relu, which):
    """The 2-D plain backward of Linear / LinearRelu reads its saved values inline: an
    in-place write to the saved input or weight after forward still raises."""
    lin = chainrule.nn.Linear(3, 4)
    net = chainrule.nn.Sequential(lin, chainrule.nn.ReLU()) if relu else lin
    x = chainrule.randn(2, 3, requires_grad=True)
    y = net(x).sum()
    with chainrule.no_grad():
        (x if which == "input" else lin.weight).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


@pytest.mark.parametrize("relu", [False, True])
def test_root_gradient_of_another_dtype_is_cast_before_an_exact_node(relu):
    """Linear nodes skip the engine's per-edge casts: a float64 gradient handed to a float32
    output's backward is cast at the root (as torch does), so every .grad stays float32."""
    lin = chainrule.nn.Linear(3, 4)
    net = chainrule.nn.Sequential(lin, chainrule.nn.ReLU()) if relu else lin
    x = chainrule.randn(2, 3, requires_grad=True)
    y = net(x)
    g = chainrule.ones(2, 4, dtype=chainrule.float64)
    y.backward(g)
    for t in (x, lin.weight, lin.bias):
        assert t.grad.dtype == chainrule.float32
    y2 = net(x)
    chainrule.autograd.backward([y2], [g])
    assert x.grad.dtype == chainrule.float32
    if HAVE_TORCH:
        import torch
        tl = torch.nn.Linear(3, 4)
        tx = torch.randn(2, 3, requires_grad=True)
        tl(tx).backward(torch.ones(2, 4, dtype=torch.float64))
        assert tx.grad.dtype == torch.float32
