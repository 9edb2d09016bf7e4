"""optim.swa_utils against torch (float64): averaged weights, SWALR lr trajectories, update_bn,
state dict keys, errors."""
import warnings

import numpy as np
import pytest

import chainrule
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch

pytestmark = needs_torch


def _net(m):
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.BatchNorm1d(4), m.nn.Linear(4, 2)).double()


def _set_weights(m, net, rng_seed):
    rng = np.random.default_rng(rng_seed)
    with m.no_grad():
        for p in net.parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape))))


def _train_step(m, net, seed):
    """Stand-in for training: fresh weights plus one train-mode forward (moves BN buffers)."""
    _set_weights(m, net, seed)
    x = np.random.default_rng(100 + seed).standard_normal((5, 3))
    net.train()
    with m.no_grad():
        net(m.tensor(x))


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a.detach().tolist(), dtype=float),
                               b.detach().numpy(), rtol=tol, atol=tol)


def _run_averaging(kw_fn, n_updates=4):
    out = {}
    for m in (chainrule, torch):
        net = _net(m)
        _set_weights(m, net, 0)
        avg = m.optim.swa_utils.AveragedModel(net, **kw_fn(m))
        for k in range(n_updates):
            _train_step(m, net, k + 1)
            avg.update_parameters(net)
        out[m.__name__] = (net, avg)
    return out["chainrule"], out["torch"]


@pytest.mark.parametrize("case", ["default", "avg_fn_ema", "multi_ema", "multi_swa", "swa_fn",
                                  "buffers", "ema_buffers"])
def test_averaged_model_matches_torch(case):
    kw = {
        "default": lambda m: {},
        "avg_fn_ema": lambda m: {"avg_fn": m.optim.swa_utils.get_ema_avg_fn(0.8)},
        "multi_ema": lambda m: {"multi_avg_fn": m.optim.swa_utils.get_ema_multi_avg_fn(0.7)},
        "multi_swa": lambda m: {"multi_avg_fn": m.optim.swa_utils.get_swa_multi_avg_fn()},
        "swa_fn": lambda m: {"avg_fn": m.optim.swa_utils.get_swa_avg_fn()},
        "buffers": lambda m: {"use_buffers": True},
        "ema_buffers": lambda m: {"multi_avg_fn": m.optim.swa_utils.get_ema_multi_avg_fn(0.6),
                                  "use_buffers": True},
    }[case]
    (cnet, cavg), (tnet, tavg) = _run_averaging(kw)
    # torch's multi SWA fn lerps with a float32 weight 1/(n+1); chainrule uses a Python float
    tol = 1e-6 if case == "multi_swa" else 1e-12
    csd, tsd = cavg.state_dict(), tavg.state_dict()
    assert list(csd) == list(tsd)
    for k in tsd:
        _close(csd[k], tsd[k], tol)
    assert cavg.n_averaged.dtype == chainrule.int64 and int(cavg.n_averaged) == 4
    # the averaged weights really differ from the latest model's
    assert not np.allclose(cavg.module[0].weight.detach().numpy(),
                           cnet[0].weight.detach().numpy())
    if "buffers" not in case:  # buffers follow the latest model
        _close(cavg.module[1].running_mean, tnet[1].running_mean)
    x = np.random.default_rng(7).standard_normal((2, 3))
    cavg.eval(), tavg.eval()
    _close(cavg(chainrule.tensor(x)), tavg(torch.tensor(x)), tol * 100)


def test_default_average_is_the_mean():
    net = chainrule.nn.Linear(2, 2).double()
    avg = chainrule.optim.swa_utils.AveragedModel(net)
    seen = []
    for k in range(3):
        _set_weights(chainrule, net, k)
        seen.append(net.weight.detach().numpy().copy())
        avg.update_parameters(net)
    np.testing.assert_allclose(avg.module.weight.detach().numpy(), np.mean(seen, axis=0),
                               rtol=1e-12)
    assert avg.module.weight.requires_grad and avg.module.weight is not net.weight


def test_first_update_copies_and_model_untouched():
    net = chainrule.nn.Linear(2, 1)
    avg = chainrule.optim.swa_utils.AveragedModel(
        net, avg_fn=lambda a, c, n: a * 0 + 123.0)
    with chainrule.no_grad():
        net.weight.fill_(2.0)
    avg.update_parameters(net)
    assert avg.module.weight.tolist() == [[2.0, 2.0]]
    avg.update_parameters(net)
    assert avg.module.weight.tolist() == [[123.0, 123.0]]
    assert net.weight.tolist() == [[2.0, 2.0]]


def test_state_dict_roundtrip_and_keys():
    c = chainrule.optim.swa_utils.AveragedModel(_net(chainrule))
    t = torch.optim.swa_utils.AveragedModel(_net(torch))
    assert list(c.state_dict()) == list(t.state_dict())
    c.update_parameters(_net(chainrule))
    c2 = chainrule.optim.swa_utils.AveragedModel(_net(chainrule))
    c2.load_state_dict(c.state_dict())
    assert int(c2.n_averaged) == 1
    _close(c2.module[0].weight, torch.tensor(c.module[0].weight.tolist()))


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 5])
def test_swalr_matches_torch(strategy, anneal_epochs):
    traj = {}
    for m in (chainrule, torch):
        a = m.zeros(2, requires_grad=True)
        b = m.zeros(1, requires_grad=True)
        opt = m.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1)
        sched = m.optim.swa_utils.SWALR(opt, swa_lr=[0.01, 0.2], anneal_epochs=anneal_epochs,
                                        anneal_strategy=strategy)
        lrs = [sched.get_last_lr()]
        for _ in range(15):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr())
        traj[m.__name__] = (lrs, [g["swa_lr"] for g in opt.param_groups])
    np.testing.assert_allclose(traj["chainrule"][0], traj["torch"][0], rtol=1e-12, atol=1e-15)
    assert traj["chainrule"][1] == traj["torch"][1] == [0.01, 0.2]


def test_swalr_after_another_schedule_and_state_dict():
    traj = {}
    for m in (chainrule, torch):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=1.0)
        first = m.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        swa = None
        lrs = []
        for epoch in range(12):
            opt.step()
            if epoch < 5:
                first.step()
            else:
                if swa is None:
                    swa = m.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=4)
                swa.step()
            lrs.append(opt.param_groups[0]["lr"])
        traj[m.__name__] = (lrs, swa.state_dict())
    np.testing.assert_allclose(traj["chainrule"][0], traj["torch"][0], rtol=1e-12)
    csd, tsd = traj["chainrule"][1], traj["torch"][1]
    assert "anneal_func" not in csd and csd["_anneal_strategy"] == tsd["_anneal_strategy"]
    assert csd["anneal_epochs"] == tsd["anneal_epochs"] and csd["last_epoch"] == tsd["last_epoch"]
    opt = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    s = chainrule.optim.swa_utils.SWALR(opt, swa_lr=0.5, anneal_strategy="linear")
    s.load_state_dict(csd)
    assert s.anneal_func(0.5) == pytest.approx(0.5)  # cos restored from the state


def test_swalr_get_lr_outside_step_warns():
    opt = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
    s = chainrule.optim.swa_utils.SWALR(opt, swa_lr=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()


@pytest.mark.parametrize("kw, exc", [
    ({"swa_lr": 0.1, "anneal_strategy": "exp"}, ValueError),
    ({"swa_lr": 0.1, "anneal_epochs": -1}, ValueError),
    ({"swa_lr": 0.1, "anneal_epochs": 2.0}, ValueError),
    ({"swa_lr": [0.1, 0.2]}, ValueError),
])
def test_swalr_errors(kw, exc):
    for m in (chainrule, torch):
        opt = m.optim.SGD([m.zeros(1, requires_grad=True)], lr=1.0)
        with pytest.raises(exc):
            m.optim.swa_utils.SWALR(opt, **kw)


def test_averaging_errors():
    for m in (chainrule, torch):
        su = m.optim.swa_utils
        for bad in (-0.1, 1.5):
            with pytest.raises(ValueError, match="decay"):
                su.get_ema_avg_fn(bad)
            with pytest.raises(ValueError, match="decay"):
                su.get_ema_multi_avg_fn(bad)
        with pytest.raises(AssertionError):
            su.AveragedModel(m.nn.Linear(1, 1), avg_fn=su.get_swa_avg_fn(),
                             multi_avg_fn=su.get_swa_multi_avg_fn())


@pytest.mark.parametrize("batch_kind", ["tensor", "tuple", "list"])
def test_update_bn_matches_torch(batch_kind):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((4, 3)) * 2 + 1 for _ in range(3)]
    res = {}
    for m in (chainrule, torch):
        net = _net(m)
        _set_weights(m, net, 5)
        net[1].momentum = 0.3
        net.eval()
        data = [m.tensor(x) for x in xs]
        if batch_kind == "tuple":
            data = [(x, 0) for x in data]
        elif batch_kind == "list":
            data = [[x, m.tensor(1.0)] for x in data]
        m.optim.swa_utils.update_bn(data, net)
        res[m.__name__] = net
    c, t = res["chainrule"][1], res["torch"][1]
    for name in ("running_mean", "running_var"):
        _close(getattr(c, name), getattr(t, name))
    assert int(c.num_batches_tracked) == int(t.num_batches_tracked) == 3
    assert c.momentum == 0.3 and not res["chainrule"].training


def test_update_bn_is_a_cumulative_average_and_keeps_training_mode():
    bn = chainrule.nn.BatchNorm1d(2).double()
    bn.train()
    xs = [np.random.default_rng(k).standard_normal((6, 2)) for k in range(4)]
    chainrule.optim.swa_utils.update_bn([chainrule.tensor(x) for x in xs], bn)
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean(0) for x in xs], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var(0, ddof=1) for x in xs], 0), rtol=1e-12)
    assert bn.training and bn.momentum == 0.1


def test_update_bn_without_batchnorm_does_not_iterate():
    def loader():
        raise AssertionError("loader should not be consumed")
        yield
    net = chainrule.nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chainrule.optim.swa_utils.update_bn(loader(), net)
