"""chainrule.amp: autocast's disabled forms and a working CPU GradScaler, against torch."""
import subprocess
import sys
import warnings

import pytest

import chainrule
from conftest import needs_torch


def _scenario(m):
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with m.autocast("cuda"):
            out.append(("cuda region", m.is_autocast_enabled()))
        with m.amp.autocast("cpu", enabled=False):
            out.append(("cpu off", m.is_autocast_enabled()))
        out.append(("cuda scaler", m.amp.GradScaler("cuda").is_enabled()))
    s = m.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    w = m.ones(2, dtype=m.float64, requires_grad=True)
    opt = m.optim.SGD([w], lr=0.1)
    for k in range(5):
        opt.zero_grad()
        s.scale((w * 3).sum()).backward()
        if k == 1:
            with m.no_grad():
                w.grad[0] = float("inf")        # this step must be skipped, the scale halved
        s.step(opt)
        s.update()
        out.append((k, [round(v, 12) for v in w.tolist()], s.get_scale()))
    out.append(sorted(s.state_dict().items()))
    s.unscale_(opt)
    with pytest.raises(RuntimeError) as e:
        s.unscale_(opt)
    out.append(str(e.value))
    with pytest.raises(RuntimeError) as e:
        s.step(opt, closure=lambda: None)
    out.append(str(e.value))
    return out


def test_scaler_trajectory():
    out = _scenario(chainrule)
    assert out[:3] == [("cuda region", False), ("cpu off", False), ("cuda scaler", False)]
    steps = out[3:8]
    assert [st[2] for st in steps] == [8.0, 4.0, 4.0, 8.0, 8.0]    # backoff, then growth
    assert steps[1][1] == steps[0][1]                              # the inf step was skipped
    assert steps[2][1] == pytest.approx([0.4, 0.4])


@needs_torch
def test_matches_torch():
    import torch
    assert _scenario(chainrule) == _scenario(torch)


def test_cpu_autocast_says_it_is_not_there():
    with pytest.raises(RuntimeError, match="no reduced-precision autocasting"):
        chainrule.autocast("cpu")
    with pytest.raises(RuntimeError, match="device type"):
        chainrule.autocast("tpu")
    with pytest.raises(ValueError):
        chainrule.autocast(0)


def test_autocast_is_a_decorator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = chainrule.amp.autocast("cuda")(lambda x: x * 2)
    assert f(chainrule.ones(1)).item() == 2.0


def test_scaler_state_round_trip():
    a = chainrule.amp.GradScaler("cpu", init_scale=4.0)
    b = chainrule.amp.GradScaler("cpu")
    b.load_state_dict(a.state_dict())
    assert b.get_scale() == 4.0
    with pytest.raises(RuntimeError, match="empty"):
        b.load_state_dict({})


def test_plain_import_reaches_amp():
    r = subprocess.run([sys.executable, "-c", "import chainrule as t; t.amp.GradScaler; "
                        "t.autocast"], capture_output=True, text=True, timeout=120,
                       cwd=__file__.rsplit("/tests/", 1)[0])
    assert r.returncode == 0, r.stderr
