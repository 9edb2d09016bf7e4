"""Learning-rate schedulers: 20-step lr (and momentum) trajectories against torch, state dicts,
errors."""
import math
import warnings

import numpy as np
import pytest

import chainrule
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch


def _opt(m, kind="SGD"):
    a = m.zeros(2, requires_grad=True)
    b = m.zeros(1, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "Adam":
        return m.optim.Adam(groups, lr=0.1)
    return m.optim.SGD(groups, lr=0.1, momentum=0.9)


def _lambda_sched(m, o):
    return m.optim.lr_scheduler.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (1 + e)])


SCHEDULERS = {
    "LambdaLR": _lambda_sched,
    "MultiplicativeLR": lambda m, o: m.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.95),
    "StepLR": lambda m, o: m.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda m, o: m.optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 11], gamma=0.3),
    "ConstantLR": lambda m, o: m.optim.lr_scheduler.ConstantLR(o, factor=0.25, total_iters=4),
    "LinearLR": lambda m, o: m.optim.lr_scheduler.LinearLR(o, start_factor=0.2,
                                                           end_factor=0.9, total_iters=7),
    "ExponentialLR": lambda m, o: m.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
    "PolynomialLR": lambda m, o: m.optim.lr_scheduler.PolynomialLR(o, total_iters=12,
                                                                   power=2.0),
    "CosineAnnealingLR": lambda m, o: m.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6,
                                                                             eta_min=0.01),
    "CosineAnnealingWarmRestarts": lambda m, o: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001),
    "OneCycleLR": lambda m, o: m.optim.lr_scheduler.OneCycleLR(o, max_lr=[1.0, 0.5],
                                                               total_steps=25),
    "OneCycleLR-3phase-linear": lambda m, o: m.optim.lr_scheduler.OneCycleLR(
        o, max_lr=1.0, epochs=4, steps_per_epoch=6, three_phase=True, anneal_strategy="linear",
        pct_start=0.25),
    "SequentialLR": lambda m, o: m.optim.lr_scheduler.SequentialLR(
        o, [m.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=4),
            m.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8),
            m.optim.lr_scheduler.StepLR(o, 2, 0.5)], milestones=[5, 12]),
    "ChainedScheduler": lambda m, o: m.optim.lr_scheduler.ChainedScheduler(
        [m.optim.lr_scheduler.ExponentialLR(o, 0.9),
         m.optim.lr_scheduler.StepLR(o, 4, 0.5)]),
}


def _trajectory(m, name, kind="SGD", steps=20):
    opt = _opt(m, kind)
    sched = SCHEDULERS[name](m, opt)
    out = [list(sched.get_last_lr())]
    moms = []
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append(list(sched.get_last_lr()))
        assert [g["lr"] for g in opt.param_groups] == out[-1]
        g = opt.param_groups[0]
        moms.append(g["betas"][0] if kind == "Adam" else g["momentum"])
    return out, moms


@needs_torch
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_lr_trajectory_matches_torch(name):
    kinds = ["SGD", "Adam"] if name.startswith("OneCycle") else ["SGD"]
    for kind in kinds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, om = _trajectory(chainrule, name, kind)
            theirs, tm = _trajectory(torch, name, kind)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(om, tm, rtol=1e-12, atol=1e-15)


@needs_torch
def test_reduce_lr_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85, 0.7, 0.7, 0.7,
               0.71, 0.7, 0.7, 0.69, 0.7, 0.7, 0.7]
    configs = [dict(patience=1, factor=0.5), dict(mode="max", patience=2, cooldown=1),
               dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.02, 0.01]),
               dict(mode="max", threshold_mode="abs", patience=1, eps=0.03)]
    for cfg in configs:
        res = []
        for m in (chainrule, torch):
            opt = _opt(m)
            sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, **cfg)
            lrs = []
            for x in metrics:
                opt.step()
                sched.step(x)
                lrs.append(sched.get_last_lr())
            res.append(lrs)
        np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@needs_torch
def test_warm_restarts_with_fractional_epochs_matches_torch():
    res = []
    for m in (chainrule, torch):
        opt = _opt(m)
        sched = m.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in np.arange(0, 20, 0.7):
                opt.step()
                sched.step(float(e))
                lrs.append(sched.get_last_lr())
        res.append(lrs)
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "LinearLR", "ExponentialLR",
                                  "CosineAnnealingLR", "ConstantLR", "PolynomialLR"])
def test_closed_form_epoch_argument_matches_torch(name):
    res = []
    for m in (chainrule, torch):
        opt = _opt(m)
        sched = SCHEDULERS[name](m, opt)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [3, 1, 7, 4, 12, 0]:
                opt.step()
                sched.step(e)
                lrs.append(sched.get_last_lr())
        res.append(lrs)
    np.testing.assert_allclose(res[0], res[1], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_state_dict_resume(name):
    """10 steps, state_dict into a freshly built scheduler, 10 more == 20 uninterrupted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full, _ = _trajectory(chainrule, name)
        opt = _opt(chainrule)
        sched = SCHEDULERS[name](chainrule, opt)
        for _ in range(10):
            opt.step()
            sched.step()
        sd, osd = sched.state_dict(), opt.state_dict()
        assert "optimizer" not in sd
        opt2 = _opt(chainrule)
        sched2 = SCHEDULERS[name](chainrule, opt2)
        opt2.load_state_dict(osd)
        sched2.load_state_dict(sd)
        lrs = []
        for _ in range(10):
            opt2.step()
            sched2.step()
            lrs.append(sched2.get_last_lr())
    np.testing.assert_allclose(lrs, full[11:], rtol=1e-12)


def test_reduce_lr_on_plateau_state_dict():
    opt = _opt(chainrule)
    s = chainrule.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    s.step(1.0)
    s.step(2.0)
    sd = s.state_dict()
    s2 = chainrule.optim.lr_scheduler.ReduceLROnPlateau(_opt(chainrule), mode="max")
    s2.load_state_dict(sd)
    assert s2.mode == "min" and s2.best == 1.0 and s2.num_bad_epochs == 0
    assert math.isinf(chainrule.optim.lr_scheduler.ReduceLROnPlateau(opt).best)


def test_lambda_state_dict_keeps_callable_objects_state():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate ** e
    opt = _opt(chainrule)
    f = Decay()
    s = chainrule.optim.lr_scheduler.LambdaLR(opt, [f, lambda e: 1.0])
    f.rate = 0.25
    sd = s.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.25}, None]
    g = Decay()
    s2 = chainrule.optim.lr_scheduler.LambdaLR(_opt(chainrule), [g, lambda e: 1.0])
    s2.load_state_dict(sd)
    assert g.rate == 0.25


def test_get_lr_outside_step_warns():
    opt = _opt(chainrule)
    s = chainrule.optim.lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


def _raises_like_torch(fn):
    with pytest.raises(Exception) as ours:
        fn(chainrule)
    if HAVE_TORCH:
        with pytest.raises(Exception) as theirs:
            fn(torch)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value).replace("chainrule", "torch") == str(theirs.value)


BAD = {
    "not-optimizer": lambda m: m.optim.lr_scheduler.StepLR("sgd", 2),
    "lambda-count": lambda m: m.optim.lr_scheduler.LambdaLR(_opt(m), [lambda e: 1.0]),
    "constant-factor": lambda m: m.optim.lr_scheduler.ConstantLR(_opt(m), factor=2.0),
    "linear-start": lambda m: m.optim.lr_scheduler.LinearLR(_opt(m), start_factor=0),
    "linear-end": lambda m: m.optim.lr_scheduler.LinearLR(_opt(m), end_factor=1.5),
    "plateau-factor": lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_opt(m), factor=1.0),
    "plateau-mode": lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_opt(m), mode="up"),
    "plateau-min-lrs": lambda m: m.optim.lr_scheduler.ReduceLROnPlateau(_opt(m), min_lr=[0]),
    "warm-T0": lambda m: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(_opt(m), T_0=0),
    "warm-Tmult": lambda m: m.optim.lr_scheduler.CosineAnnealingWarmRestarts(_opt(m), 2,
                                                                             T_mult=0),
    "onecycle-steps": lambda m: m.optim.lr_scheduler.OneCycleLR(_opt(m), 1.0),
    "onecycle-pct": lambda m: m.optim.lr_scheduler.OneCycleLR(_opt(m), 1.0, 10, pct_start=2.0),
    "onecycle-anneal": lambda m: m.optim.lr_scheduler.OneCycleLR(_opt(m), 1.0, 10,
                                                                 anneal_strategy="exp"),
    "onecycle-momentum": lambda m: m.optim.lr_scheduler.OneCycleLR(
        m.optim.Adagrad([m.zeros(1, requires_grad=True)]), 1.0, 10),
    "onecycle-maxlr": lambda m: m.optim.lr_scheduler.OneCycleLR(_opt(m), [1.0], 10),
    "sequential-milestones": lambda m: m.optim.lr_scheduler.SequentialLR(
        _opt(m), [m.optim.lr_scheduler.StepLR(_opt(m), 2)], milestones=[1]),
    "resume-without-initial-lr": lambda m: m.optim.lr_scheduler.StepLR(_opt(m), 2,
                                                                       last_epoch=3),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_match_torch(case):
    _raises_like_torch(BAD[case])


def test_onecycle_too_many_steps():
    opt = _opt(chainrule)
    s = chainrule.optim.lr_scheduler.OneCycleLR(opt, 1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()
