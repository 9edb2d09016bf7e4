"""Optimizers: 20-step trajectories against torch (float64, 1e-10), state dicts, errors."""
import warnings

import numpy as np
import pytest

import chainrule
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch

_rng = np.random.default_rng(1234)
_X = _rng.standard_normal((6, 3))
_Y = _rng.standard_normal((6, 2))
_INIT = [_rng.standard_normal((3, 4)) * 0.5, _rng.standard_normal(4) * 0.1,
         _rng.standard_normal((4, 2)) * 0.5, _rng.standard_normal(2) * 0.1]


def _loss(m, params, reg=0.0):
    w1, b1, w2, b2 = params
    x = m.tensor(_X, dtype=m.float64)
    y = m.tensor(_Y, dtype=m.float64)
    h = m.tanh(x @ w1 + b1)
    loss = ((h @ w2 + b2 - y) ** 2).sum() / 6
    if reg:
        # NOTE: keeps the problem well conditioned near its minimum, so that rounding
        # differences (dot-product summation order) stay at 1e-16 instead of growing
        loss = loss + reg * sum((p ** 2).sum() for p in params)
    return loss


_LBFGS_REG = 0.5


def _params(m):
    return [m.tensor(a, dtype=m.float64, requires_grad=True) for a in _INIT]


def _run(m, name, kwargs, steps=20, groups=None, frozen_last=False):
    params = _params(m)
    spec = params if groups is None else [
        dict(params=[params[i] for i in idx], **opts) for idx, opts in groups]
    opt = getattr(m.optim, name)(spec, **kwargs)
    reg = _LBFGS_REG if name == "LBFGS" else 0.0
    traj = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            used = params[:-1] + [params[-1].detach()] if frozen_last else params
            loss = _loss(m, used, reg)
            loss.backward()
            return loss
        if name == "LBFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
        traj.append([p.detach().numpy().copy() for p in params])
    return traj, opt


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, amsgrad=True, weight_decay=0.3)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, initial_accumulator_value=0.3,
                     weight_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.7, 0.9), weight_decay=0.1)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("LBFGS", dict(lr=0.5, max_iter=4)),
    ("LBFGS", dict(lr=1, max_iter=5, history_size=3, line_search_fn="strong_wolfe")),
    ("LBFGS", dict(max_iter=3, history_size=2, tolerance_change=1e-12,
                   line_search_fn="strong_wolfe")),
]


def _ids():
    return [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for n, kw in CASES]


def _compare(a, b):
    for step, (pa, pb) in enumerate(zip(a, b)):
        for x, y in zip(pa, pb):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10,
                                       err_msg=f"trajectory differs at step {step + 1}")


@needs_torch
@pytest.mark.parametrize("name,kwargs", CASES, ids=_ids())
def test_trajectory_matches_torch(name, kwargs):
    ours, opt = _run(chainrule, name, kwargs)
    theirs, topt = _run(torch, name, kwargs)
    _compare(ours, theirs)
    # the state dicts have torch's structure and values
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert list(sd["state"]) == list(tsd["state"])
    g, tg = sd["param_groups"][0], tsd["param_groups"][0]
    assert sorted(g) == sorted(tg)
    assert g["params"] == tg["params"]
    for k in sd["state"]:
        assert list(sd["state"][k]) == list(tsd["state"][k])
        for key, v in sd["state"][k].items():
            tv = tsd["state"][k][key]
            if isinstance(v, chainrule.Tensor):
                assert v.dtype.name == str(tv.dtype).split(".")[1], key
                # LBFGS's curvature H_diag suffers cancellation: looser (as below)
                tol = 1e-7 if key == "H_diag" else 1e-10
                np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=tol, atol=1e-10)
            elif isinstance(v, (int, float)) and not isinstance(tv, list):
                # derived scalars (LBFGS curvature) suffer cancellation: looser
                assert float(v) == pytest.approx(float(tv), rel=1e-7), key


@needs_torch
@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] != "LBFGS"][::3])
def test_param_groups_and_missing_grads_match_torch(name, kwargs):
    # two groups with their own lr; the last parameter never gets a gradient
    lr = kwargs.get("lr", 1.0)
    groups = [([0, 1], dict(lr=lr * 0.5)), ([2, 3], {})]
    ours, _ = _run(chainrule, name, kwargs, steps=8, groups=groups, frozen_last=True)
    theirs, _ = _run(torch, name, kwargs, steps=8, groups=groups, frozen_last=True)
    _compare(ours, theirs)
    np.testing.assert_array_equal(ours[-1][3], _INIT[3])


@pytest.mark.parametrize("name,kwargs", [c for c in CASES if c[0] != "LBFGS"][::2] +
                         [CASES[-2]])
def test_resume_from_state_dict(name, kwargs):
    """10 steps, state_dict -> fresh optimizer -> 10 steps == 20 uninterrupted steps."""
    full, _ = _run(chainrule, name, kwargs, steps=20)
    params = _params(chainrule)
    opt = getattr(chainrule.optim, name)(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = _loss(chainrule, params, _LBFGS_REG if name == "LBFGS" else 0.0)
        loss.backward()
        return loss
    for i in range(20):
        if i == 10:
            sd = opt.state_dict()
            opt = getattr(chainrule.optim, name)(params, lr=123.0)
            opt.load_state_dict(sd)
            assert opt.param_groups[0]["lr"] == kwargs.get("lr", opt.defaults["lr"] if
                                                           name != "LBFGS" else 1)
        if name == "LBFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
    for x, y in zip(full[-1], params):
        np.testing.assert_allclose(y.detach().numpy(), x, rtol=1e-12, atol=1e-12)


@needs_torch
def test_loaded_state_aliases_or_casts_like_torch():
    # torch's policy: state tensors of the param's dtype are aliased (.to is a no-op), others
    # are cast; 'step' is kept as is, so the source optimizer sees the loader's steps.
    seen = []
    for m in (chainrule, torch):
        p = m.ones(3, requires_grad=True)
        a = m.optim.Adam([p], lr=0.1)
        (p * p).sum().backward()
        a.step()
        sd = a.state_dict()
        sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].double()
        b = m.optim.Adam([p], lr=0.1)
        b.load_state_dict(sd)
        st = b.state[p]
        seen.append((str(st["exp_avg"].dtype).split(".")[1],
                     st["exp_avg"] is sd["state"][0]["exp_avg"],
                     st["exp_avg_sq"] is sd["state"][0]["exp_avg_sq"],
                     st["step"] is sd["state"][0]["step"]))
        b.step()
        seen.append((float(a.state[p]["step"]), float(b.state[p]["step"])))
    assert seen[:2] == seen[2:]


def test_closure_and_return_value():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = chainrule.optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        calls.append(chainrule.is_grad_enabled())
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert calls == [True]
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    assert opt.step() is None


def test_step_runs_without_recording_a_graph():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    opt = chainrule.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    assert all(not t.requires_grad for t in opt.state[w].values())


def test_zero_grad():
    w = chainrule.ones(2, requires_grad=True)
    (w * 3).sum().backward()
    g = w.grad
    opt = chainrule.optim.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert w.grad is g and w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None


def test_add_param_group_and_defaults():
    a = chainrule.zeros(2, requires_grad=True)
    b = chainrule.zeros(2, requires_grad=True)
    opt = chainrule.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    g = opt.param_groups[1]
    assert g["params"] == [b] and g["lr"] == 0.5 and g["momentum"] == 0.9
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    sd = opt.state_dict()
    assert [pg["params"] for pg in sd["param_groups"]] == [[0], [1]]


def test_named_parameters_are_recorded():
    a = chainrule.zeros(2, requires_grad=True)
    opt = chainrule.optim.Adam([("w", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]


def _raises_like_torch(fn):
    """fn(m) must raise the same exception class (and message) in both libraries."""
    with pytest.raises(Exception) as ours:
        fn(chainrule)
    if HAVE_TORCH:
        with pytest.raises(Exception) as theirs:
            fn(torch)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value).replace("chainrule", "torch") == str(theirs.value)
    return ours.value


BAD = {
    "tensor-params": lambda m: m.optim.SGD(m.zeros(2, requires_grad=True), lr=0.1),
    "empty": lambda m: m.optim.Adam([], lr=0.1),
    "set": lambda m: m.optim.SGD([{"params": {m.zeros(2, requires_grad=True)}}], lr=0.1),
    "non-tensor": lambda m: m.optim.SGD([1.0], lr=0.1),
    "non-leaf": lambda m: m.optim.SGD([m.zeros(2, requires_grad=True) * 2], lr=0.1),
    "lr": lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=-1.0),
    "momentum": lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=0.1,
                                      momentum=-0.5),
    "nesterov": lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=0.1,
                                      nesterov=True),
    "beta": lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], betas=(1.0, 0.9)),
    "eps": lambda m: m.optim.AdamW([m.zeros(2, requires_grad=True)], eps=-1.0),
    "rho": lambda m: m.optim.Adadelta([m.zeros(2, requires_grad=True)], rho=1.5),
    "alpha": lambda m: m.optim.RMSprop([m.zeros(2, requires_grad=True)], alpha=-0.1),
    "lr_decay": lambda m: m.optim.Adagrad([m.zeros(2, requires_grad=True)], lr_decay=-1),
    "momentum_decay": lambda m: m.optim.NAdam([m.zeros(2, requires_grad=True)],
                                              momentum_decay=-1),
    "wd": lambda m: m.optim.RAdam([m.zeros(2, requires_grad=True)], weight_decay=-1),
    "lbfgs-groups": lambda m: m.optim.LBFGS([{"params": [m.zeros(2, requires_grad=True)]},
                                             {"params": [m.zeros(2, requires_grad=True)]}]),
    "load-groups": lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=0.1)
    .load_state_dict({"state": {}, "param_groups": []}),
    "load-sizes": lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=0.1)
    .load_state_dict({"state": {}, "param_groups": [{"params": [0, 1], "lr": 0.1}]}),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_match_torch(case):
    _raises_like_torch(BAD[case])


def test_required_option():
    from chainrule.optim.optimizer import Optimizer, required

    class Needs(Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": required})
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Needs([chainrule.zeros(1, requires_grad=True)])


def test_step_hooks():
    w = chainrule.ones(1, requires_grad=True)
    opt = chainrule.optim.SGD([w], lr=0.1)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    opt.step()
    h1.remove()
    opt.step()
    assert seen == ["pre", "post", "post"]


@needs_torch
def test_repr_matches_torch():
    ours = repr(chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=0.1))
    theirs = repr(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    assert ours == theirs


def test_lbfgs_converges_on_quadratic():
    a = chainrule.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=chainrule.float64)
    b = chainrule.tensor([1.0, -1.0], dtype=chainrule.float64)
    x = chainrule.zeros(2, dtype=chainrule.float64, requires_grad=True)
    opt = chainrule.optim.LBFGS([x], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (a @ x)) - b @ x
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(a.numpy(), b.numpy()),
                               atol=1e-6)
    with pytest.raises(RuntimeError, match="strong_wolfe"):
        chainrule.optim.LBFGS([x], line_search_fn="armijo").step(closure)


def test_scheduler_warns_when_stepped_before_optimizer():
    opt = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=0.1)
    sched = chainrule.optim.lr_scheduler.StepLR(opt, 1)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sched.step()
    assert any("before `optimizer.step()`" in str(x.message) for x in w)


@needs_torch
@pytest.mark.parametrize("name", ["NAdam", "Adam", "Adagrad", "RMSprop"])
def test_loaded_state_dtypes_match_torch(name):
    """load_state_dict casts state tensors to the parameter's dtype except ``step``."""
    res = []
    for m in (chainrule, torch):
        w = m.ones(2, dtype=m.float64, requires_grad=True)
        a = getattr(m.optim, name)([w])
        (w * w).sum().backward()
        a.step()
        b = getattr(m.optim, name)([w])
        b.load_state_dict(a.state_dict())
        res.append({k: str(v.dtype).split(".")[1] for k, v in b.state[w].items()})
    assert res[0] == res[1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
                                  "Adagrad", "Adadelta"])
def test_setstate_fills_group_options_missing_from_older_state(name):
    p = chainrule.nn.Parameter(chainrule.ones(2))
    opt = getattr(chainrule.optim, name)([p], lr=0.1)
    full = dict(opt.param_groups[0])
    state = opt.__getstate__()
    for key in ("maximize", "foreach", "differentiable"):
        state["param_groups"][0].pop(key)
    fresh = getattr(chainrule.optim, name).__new__(getattr(chainrule.optim, name))
    fresh.__setstate__(state)
    assert fresh.param_groups[0] == full
