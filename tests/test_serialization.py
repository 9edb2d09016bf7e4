"""chainrule.save / chainrule.load: round trips, state dicts, interop with other safetensors
writers and readers, atomic writes."""
import collections
import io
import math
import os
import sys

import numpy as np
import pytest

import chainrule
from chainrule.serialization import CheckpointError
from conftest import needs_torch


def same(a, b):
    """Deep equality that also compares types, dtypes and NaN positions (a view loads as a
    plain Tensor: views are of a private Tensor subclass)."""
    if isinstance(a, chainrule.Tensor):
        if not isinstance(b, chainrule.Tensor) or \
                isinstance(a, chainrule.nn.Parameter) != isinstance(b, chainrule.nn.Parameter):
            return False
        return a.dtype == b.dtype and a.shape == b.shape and \
            a.requires_grad == b.requires_grad and \
            np.array_equal(a.detach().numpy(), b.detach().numpy(),
                           equal_nan=a.is_floating_point())
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def roundtrip(obj, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    chainrule.save(obj, path)
    return chainrule.load(path)


def test_top_level_names():
    assert chainrule.save is chainrule.serialization.save
    assert chainrule.load is chainrule.serialization.load
    assert issubclass(CheckpointError, RuntimeError)


@pytest.mark.parametrize("value", [
    chainrule.tensor(3.5), chainrule.zeros(0), chainrule.zeros(2, 0, 3),
    chainrule.tensor([1.0, float("nan"), float("inf"), -float("inf")], dtype=chainrule.float16),
    chainrule.tensor([2 ** 62, -5], dtype=chainrule.int64),
    chainrule.tensor([True, False, True]), chainrule.arange(6, dtype=chainrule.uint8),
    chainrule.arange(6, dtype=chainrule.int8).view(2, 3),
    chainrule.arange(6, dtype=chainrule.int16), chainrule.arange(6, dtype=chainrule.int32),
    chainrule.randn(3, 4, dtype=chainrule.float64), chainrule.randn(4, 3).t(),
    chainrule.randn(2, 3, requires_grad=True),
])
def test_tensor_round_trip(value, tmp_path):
    back = roundtrip({"x": value}, tmp_path)["x"]
    assert same(back, value)
    assert back.is_leaf and back.grad_fn is None
    assert back.numpy(force=True).flags.writeable


def test_nested_structures_round_trip(tmp_path):
    t = chainrule.ones(2)
    obj = {
        "a": [1, 2.5, True, None, "s", (3, "x", (None,))],
        7: {"nested": {"deep": [t, chainrule.tensor(1)]}},
        (1, "k"): -3,
        "floats": [float("nan"), float("inf"), -float("inf"), 1e-300, 2 ** 80],
        "od": collections.OrderedDict([("z", 1), ("a", 2)]),
        "counter": collections.Counter([1, 1, 2]),
        "np": np.arange(4, dtype=np.uint16).reshape(2, 2),
        "dtype": chainrule.float64,
        "empty": {"l": [], "t": (), "d": {}},
        "np_scalar": np.float32(1.5),
    }
    back = roundtrip(obj, tmp_path)
    expected = dict(obj)
    expected["np_scalar"] = 1.5
    assert same(back, expected)
    assert type(back["od"]) is collections.OrderedDict
    assert type(back["counter"]) is collections.Counter
    assert back["dtype"] is chainrule.float64


def test_shared_tensor_is_stored_once_and_stays_shared(tmp_path):
    t = chainrule.arange(3.0)
    back = roundtrip({"a": t, "b": [t]}, tmp_path)
    assert back["a"] is back["b"][0]
    from safetensors.numpy import load_file
    assert list(load_file(str(tmp_path / "ckpt.safetensors"))) == ["a"]


def test_unsupported_objects_are_refused(tmp_path):
    for bad in [object(), {1, 2}, lambda: 0, {"x": [1, object()]},
                np.array([1 + 2j])]:
        with pytest.raises(TypeError, match="cannot"):
            chainrule.save(bad, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    chainrule.save({"w": chainrule.ones(2)}, buf)
    buf.seek(0)
    assert same(chainrule.load(buf, map_location="cpu", weights_only=False),
                {"w": chainrule.ones(2)})
    with open(tmp_path / "f.bin", "wb") as fh:
        fh.write(b"prefix")
        chainrule.save([1, chainrule.zeros(1)], fh)
    with open(tmp_path / "f.bin", "rb") as fh:
        fh.read(6)
        assert same(chainrule.load(fh), [1, chainrule.zeros(1)])


def _train(opt_cls, steps, kwargs, resume_through=None, tmp_path=None):
    rng = np.random.default_rng(0)
    x = chainrule.tensor(rng.standard_normal((5, 3)), dtype=chainrule.float64)
    w = chainrule.tensor(rng.standard_normal((3, 2)), dtype=chainrule.float64,
                         requires_grad=True)
    opt = opt_cls([w], **kwargs)
    sched = chainrule.optim.lr_scheduler.MultiStepLR(opt, [3, 7], 0.5)

    def closure():
        opt.zero_grad()
        loss = (chainrule.tanh(x @ w) ** 2).sum()
        loss.backward()
        return loss
    for i in range(steps):
        if i == resume_through:
            path = tmp_path / "resume.safetensors"
            chainrule.save({"w": w, "opt": opt.state_dict(), "sched": sched.state_dict()},
                           path)
            ck = chainrule.load(path)
            w = ck["w"]
            opt = opt_cls([w], **kwargs)
            sched = chainrule.optim.lr_scheduler.MultiStepLR(opt, [1], 0.1)
            opt.load_state_dict(ck["opt"])
            sched.load_state_dict(ck["sched"])
        opt.step(closure)
        sched.step()
    return w


@pytest.mark.parametrize("opt_cls,kwargs", [
    (chainrule.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (chainrule.optim.Adam, dict(lr=0.05, amsgrad=True)),
    (chainrule.optim.NAdam, dict(lr=0.05)),
    (chainrule.optim.LBFGS, dict(lr=0.5, max_iter=3)),
])
def test_training_resumes_exactly_from_a_checkpoint(opt_cls, kwargs, tmp_path):
    full = _train(opt_cls, 10, kwargs)
    resumed = _train(opt_cls, 10, kwargs, resume_through=5, tmp_path=tmp_path)
    assert resumed.requires_grad
    if opt_cls is chainrule.optim.NAdam:
        # like torch, load_state_dict casts mu_product to the parameter's dtype (float64 here,
        # float32 before), so the resumed run rounds differently
        np.testing.assert_allclose(resumed.detach().numpy(), full.detach().numpy(), rtol=1e-8)
    else:
        np.testing.assert_array_equal(resumed.detach().numpy(), full.detach().numpy())


def test_plateau_scheduler_state_with_infinity(tmp_path):
    opt = chainrule.optim.SGD([chainrule.zeros(1, requires_grad=True)], lr=0.1)
    sched = chainrule.optim.lr_scheduler.ReduceLROnPlateau(opt)
    back = roundtrip(sched.state_dict(), tmp_path)
    assert back["best"] == math.inf and same(back, sched.state_dict())


@needs_torch
def test_reads_files_written_by_torch_safetensors(tmp_path):
    import torch
    from safetensors.torch import save_file
    tensors = {"layer.weight": torch.randn(3, 2, dtype=torch.float64),
               "layer.bias": torch.arange(3, dtype=torch.int32),
               "mask": torch.tensor([True, False]), "half": torch.ones(2, dtype=torch.float16),
               "bf": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
               "scalar": torch.tensor(4.0)}
    path = tmp_path / "torch.safetensors"
    save_file(tensors, str(path), metadata={"format": "pt"})
    back = chainrule.load(path)
    assert sorted(back) == sorted(tensors)
    for k, t in tensors.items():
        ours = back[k]
        if k == "bf":
            assert ours.dtype == chainrule.float32
            assert ours.tolist() == [1.5, -2.25]
            continue
        assert ours.dtype.name == str(t.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), t.numpy())


@needs_torch
def test_other_readers_see_flat_state_dicts_by_name(tmp_path):
    from safetensors.torch import load_file
    sd = {"fc.weight": chainrule.randn(2, 3), "fc.bias": chainrule.zeros(2)}
    path = tmp_path / "model.safetensors"
    chainrule.save(sd, path)
    theirs = load_file(str(path))
    assert sorted(theirs) == sorted(sd)
    for k in sd:
        np.testing.assert_array_equal(theirs[k].numpy(), sd[k].numpy())


def test_overwrite_is_atomic_and_keeps_permissions(tmp_path):
    path = tmp_path / "c.safetensors"
    chainrule.save({"v": chainrule.tensor(1)}, path)
    os.chmod(path, 0o640)
    chainrule.save({"v": chainrule.tensor(2)}, path)
    assert chainrule.load(path)["v"].item() == 2
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["c.safetensors"]
    fresh = tmp_path / "d.safetensors"
    chainrule.save([], fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~umask


def test_missing_safetensors_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="pip install safetensors"):
        chainrule.save({"a": chainrule.ones(1)}, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def test_load_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{}xyz")
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        chainrule.load(path)
    with pytest.raises(FileNotFoundError):
        chainrule.load(tmp_path / "nope.safetensors")
