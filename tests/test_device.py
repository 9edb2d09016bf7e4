"""chainrule.device against torch's: naming any device type works, only the CPU holds
tensors."""
import pytest

import chainrule
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch
DEVICE_SPECS = [("cpu",), ("cpu", 0), ("cpu:0",), ("cuda",), ("cuda", 1), ("cuda:1",),
                ("mps",), ("meta",), ("xpu:2",), ("foo",), ("CUDA",), ("cuda:x",),
                ("cuda:-1",), ("cuda:0:1",), ("cuda", -1), (1,)]


def _device_outcome(m, spec):
    try:
        d = m.device(*spec)
    except Exception as e:      # noqa: BLE001 - the class is what is compared
        return type(e).__name__, str(e)
    return repr(d).replace("chainrule", "torch"), str(d), d.type, d.index


@needs_torch
@pytest.mark.parametrize("spec", DEVICE_SPECS, ids=str)
def test_device_objects_match_torch(spec):
    assert _device_outcome(chainrule, spec) == _device_outcome(torch, spec)


@needs_torch
def test_device_equality_and_hash_match_torch():
    for m in (chainrule, torch):
        assert m.device("cuda", 1) == m.device("cuda:1")
        assert m.device("cpu") != m.device("cpu:0")
        assert not (m.device("cpu") == "cpu")
        assert len({m.device("cpu"), m.device("cpu"), m.device("cuda")}) == 2


@pytest.mark.parametrize("use", [
    lambda: chainrule.zeros(1, device="cuda"),
    lambda: chainrule.zeros(1).to(chainrule.device("cuda")),
    lambda: chainrule.zeros(1).cuda(),
    lambda: chainrule.nn.Linear(2, 2).to(chainrule.device("cuda", 0)),
    lambda: chainrule.ones(2, device=chainrule.device("meta")),
])
def test_naming_a_device_is_fine_using_it_raises(use):
    chainrule.device("cuda")        # as on a CPU-only torch build: naming it works
    with pytest.raises(AssertionError, match="no '(cuda|cuda:0|meta)' device"):
        use()
    with pytest.raises(RuntimeError):
        use()
