"""Memory formats and CUDA refusals as a CPU-only torch build answers them."""
import numpy as np
import pytest

import chainrule


def _lib(name):
    return pytest.importorskip("torch") if name == "torch" else chainrule


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_channels_last_layout(lib):
    m = _lib(lib)
    x = m.arange(24.0).reshape(1, 2, 3, 4).contiguous(memory_format=m.channels_last)
    assert x.stride() == (24, 1, 8, 2)
    assert x.is_contiguous(memory_format=m.channels_last) and not x.is_contiguous()
    np.testing.assert_array_equal(x.numpy(), np.arange(24.0).reshape(1, 2, 3, 4))
    assert x.contiguous().stride() == (24, 12, 4, 1)
    y = m.randn(2, 3, 4, 5).to(memory_format=m.channels_last)
    assert y.stride() == (60, 1, 15, 3)
    v = m.randn(2, 2, 3, 4, 5).contiguous(memory_format=m.channels_last_3d)
    assert v.stride() == (120, 1, 40, 10, 2)
    with pytest.raises(RuntimeError, match="required rank 4"):
        m.ones(2, 3).contiguous(memory_format=m.channels_last)
    assert repr(m.channels_last) == f"{lib}.channels_last"


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_module_to_channels_last_and_gradients(lib):
    m = _lib(lib)
    conv = m.nn.Conv2d(2, 3, 3).to(memory_format=m.channels_last)
    assert conv.weight.is_contiguous(memory_format=m.channels_last)
    assert conv.bias.is_contiguous()
    z = m.randn(2, 3, 4, 5, requires_grad=True)
    w = z.contiguous(memory_format=m.channels_last)
    (w * w).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * z.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("lib", ["chainrule", "torch"])
def test_cuda_requests_raise_assertion_error(lib):
    m = _lib(lib)
    if lib == "torch" and m.cuda.is_available():
        pytest.skip("this torch has CUDA")
    for f in (lambda: m.ones(1).cuda(), lambda: m.nn.Linear(1, 1).cuda(),
              lambda: m.ones(1).to("cuda"), lambda: m.ones(1, device="cuda")):
        with pytest.raises(AssertionError):
            f()

