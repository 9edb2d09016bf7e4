"""nn.Module, Parameter and containers: registration, traversal, state_dict, hooks, repr;
every layer's parameter names/shapes and repr against torch; forward parity with torch after
loading torch's weights."""
import copy
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from conftest import HAVE_TORCH, needs_torch

if HAVE_TORCH:
    import torch


def _blocked(exc):
    """True when exc says a function another helper owns has not landed yet."""
    msg = str(exc)
    return isinstance(exc, AttributeError) and (
        "chainrule.nn.functional' has no attribute" in msg or
        "module 'chainrule' has no attribute" in msg or
        "'Tensor' object has no attribute" in msg or
        "module 'chainrule.linalg' has no attribute" in msg)


def run_or_skip(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except AttributeError as e:
        if _blocked(e):
            pytest.skip(f"blocked on a function not merged yet: {e}")
        raise


class Scale(nn.Module):
    """A module written only with core ops (no nn.functional)."""

    def __init__(self, n):
        super().__init__()
        self.w = nn.Parameter(cr.ones(n) * 2)
        self.register_buffer("count", cr.zeros(1))

    def forward(self, x):
        return x * self.w


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = Scale(3)
        self.b = Scale(3)
        self.shared = self.a
        self.register_buffer("tmp", cr.zeros(2), persistent=False)

    def forward(self, x):
        return self.b(self.a(x))


# -- Parameter ----------------------------------------------------------------------------------
def test_parameter_basics():
    t = cr.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, cr.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    with cr.no_grad():
        t.mul_(3)
    assert p.tolist() == [3.0, 6.0]          # shares memory with data
    assert (p * 2).__class__ is cr.Tensor    # ops give plain tensors
    assert nn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError):
        nn.Parameter(cr.tensor([1, 2]))       # integer tensors cannot require grad


@needs_torch
def test_parameter_repr_matches_torch():
    a = nn.Parameter(cr.tensor([[1.0, 2.5], [3.0, 4.0]]))
    b = torch.nn.Parameter(torch.tensor([[1.0, 2.5], [3.0, 4.0]]))
    assert repr(a) == repr(b)
    assert repr(nn.Parameter(cr.ones(2), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))


def test_parameter_deepcopy_and_grad():
    p = nn.Parameter(cr.ones(2))
    (p * 3).sum().backward()
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad
    assert q.grad.tolist() == [3.0, 3.0]
    with cr.no_grad():
        q.add_(1)
    assert p.tolist() == [1.0, 1.0]


def test_buffer_class():
    m = nn.Module()
    m.b = nn.Buffer(cr.zeros(2))
    m.c = nn.Buffer(cr.ones(1), persistent=False)
    assert list(m._buffers) == ["b", "c"]
    assert list(m.state_dict()) == ["b"]
    assert isinstance(m.b, nn.Buffer) and not isinstance(cr.zeros(1), nn.Buffer)


# -- registration and attribute semantics -------------------------------------------------------
def test_setattr_registers():
    net = Net()
    assert list(net._modules) == ["a", "b", "shared"]
    assert [n for n, _ in net.named_parameters()] == ["a.w", "b.w"]
    assert [n for n, _ in net.named_parameters(remove_duplicate=False)] == \
        ["a.w", "b.w", "shared.w"]
    assert [n for n, _ in net.named_buffers()] == ["tmp", "a.count", "b.count"]
    assert list(net.state_dict()) == ["a.w", "a.count", "b.w", "b.count", "shared.w",
                                      "shared.count"]
    assert [n for n, _ in net.named_modules()] == ["", "a", "b"]
    assert [n for n, _ in net.named_modules(remove_duplicate=False)] == \
        ["", "a", "b", "shared"]
    assert [n for n, _ in net.named_children()] == ["a", "b"]
    assert list(net.parameters(recurse=False)) == []
    # re-assigning a name moves it between the registries
    net.a = nn.Parameter(cr.zeros(1))
    assert "a" in net._parameters and "a" not in net._modules
    net.a = None                               # None keeps the slot
    assert net._parameters["a"] is None and net.a is None
    net.x = 3
    assert net.x == 3 and "x" in net.__dict__
    del net.x, net.b, net.tmp
    assert not hasattr(net, "x") and "b" not in net._modules and "tmp" not in net._buffers


@needs_torch
@pytest.mark.parametrize("case", [
    "tensor_as_param", "int_as_module", "int_as_buffer", "param_before_init",
    "buffer_bad_type", "buffer_dot", "buffer_empty", "buffer_exists", "param_bad_type",
    "param_nonleaf", "module_bad", "module_dot", "module_exists", "missing_attr",
    "submodule_missing", "submodule_not_module", "get_parameter_not_param", "train_nonbool"])
def test_registration_errors_match_torch(case):
    def attempt(m):
        nnm = m.nn

        class Two(nnm.Module):
            def __init__(self):
                super().__init__()
                self.lin = nnm.Identity()
                self.w = nnm.Parameter(m.ones(2))
                self.register_buffer("buf", m.zeros(1))
                self.plain = 1

        class Early(nnm.Module):
            def __init__(self):
                self.w = nnm.Parameter(m.ones(1))
        t = Two()
        leaf = m.ones(1, requires_grad=True)
        actions = {
            "tensor_as_param": lambda: setattr(t, "w", m.ones(2)),
            "int_as_module": lambda: setattr(t, "lin", 3),
            "int_as_buffer": lambda: setattr(t, "buf", 3),
            "param_before_init": lambda: Early(),
            "buffer_bad_type": lambda: t.register_buffer("x", 3),
            "buffer_dot": lambda: t.register_buffer("a.b", None),
            "buffer_empty": lambda: t.register_buffer("", None),
            "buffer_exists": lambda: t.register_buffer("plain", None),
            "param_bad_type": lambda: t.register_parameter("p", m.ones(1)),
            "param_nonleaf": lambda: t.register_parameter("p", nnm.Parameter(leaf) * 2),
            "module_bad": lambda: t.add_module("q", 3),
            "module_dot": lambda: t.add_module("a.b", None),
            "module_exists": lambda: t.add_module("plain", None),
            "missing_attr": lambda: t.nope,
            "submodule_missing": lambda: t.get_submodule("lin.nope"),
            "submodule_not_module": lambda: t.get_submodule("w"),
            "get_parameter_not_param": lambda: t.get_parameter("buf"),
            "train_nonbool": lambda: t.train(1),
        }
        try:
            actions[case]()
        except Exception as e:  # noqa: BLE001 (the class is what we compare)
            return type(e)
        return None

    expected = attempt(torch)
    got = attempt(cr)
    if case == "param_nonleaf":
        # torch: Parameter * 2 is a Tensor, so this is the "bad type" TypeError
        assert expected is TypeError
    assert expected is not None
    assert got is expected


def test_register_parameter_nonleaf_valueerror():
    m = nn.Module()
    p = nn.Parameter(cr.ones(1))
    q = p * 2
    q.__class__ = nn.Parameter                # a Parameter with history
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("q", q)


def test_dir_lists_members():
    net = Net()
    d = dir(net)
    for name in ("a", "b", "tmp", "forward", "state_dict"):
        assert name in d
    seq = nn.Sequential(nn.Identity())
    assert "0" not in dir(seq)


def test_get_submodule_parameter_buffer():
    net = nn.Sequential(OrderedDict(block=Net()))
    assert net.get_submodule("block.a") is net.block.a
    assert net.get_parameter("block.b.w") is net.block.b.w
    assert net.get_buffer("block.tmp") is net.block.tmp
    assert net.get_submodule("") is net
    net.set_submodule("block.b", Scale(2))
    assert net.block.b.w.shape == (2,)
    with pytest.raises(AttributeError):
        net.get_buffer("block.a.w")


def test_train_eval_apply_requires_grad():
    net = Net()
    assert net.training and net.a.training
    net.eval()
    assert not net.training and not net.a.training and not net.b.training
    net.train()
    assert net.b.training
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Scale", "Scale", "Net"]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_zero_grad():
    net = Net()
    net(cr.ones(3)).sum().backward()
    assert net.a.w.grad is not None
    net.zero_grad(set_to_none=False)
    assert net.a.w.grad.tolist() == [0.0, 0.0, 0.0]
    net.zero_grad()
    assert net.a.w.grad is None and net.b.w.grad is None


def test_to_and_casts():
    m = Scale(2)
    m.register_buffer("idx", cr.tensor([1, 2]))
    w = m.w
    m(cr.ones(2)).sum().backward()
    m.double()
    assert m.w is w and m.w.dtype == cr.float64 and m.w.grad.dtype == cr.float64
    assert m.count.dtype == cr.float64 and m.idx.dtype == cr.int64
    assert m.to(cr.float32).w.dtype == cr.float32
    assert m.half().w.dtype == cr.float16
    m.to("cpu", dtype=cr.float64)
    assert m.w.dtype == cr.float64 and m.w.requires_grad
    m.to(cr.zeros(1, dtype=cr.float32))
    assert m.w.dtype == cr.float32
    with pytest.raises(TypeError):
        m.to(cr.int64)
    with pytest.raises(RuntimeError):
        m.to("cuda")
    assert m.cpu() is m


# -- state_dict ----------------------------------------------------------------------------------
def test_state_dict_roundtrip_and_keep_vars():
    a, b = Net(), Net()
    with cr.no_grad():
        a.a.w.fill_(5.0)
        a.b.count.fill_(7.0)
    sd = a.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["a.w"].requires_grad
    assert a.state_dict(keep_vars=True)["a.w"] is a.a.w
    res = b.load_state_dict(sd)
    assert repr(res) == "<All keys matched successfully>"
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert b.a.w.tolist() == [5.0, 5.0, 5.0] and b.b.count.tolist() == [7.0]
    assert b.a.w.requires_grad and b.a.w is not a.a.w
    with cr.no_grad():
        a.a.w.fill_(0.0)
    assert b.a.w.tolist() == [5.0, 5.0, 5.0]      # copied, not aliased
    assert sd._metadata[""]["version"] == 1


def test_load_state_dict_strict_errors():
    net = Net()
    sd = net.state_dict()
    del sd["a.count"]
    sd["extra"] = cr.zeros(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "a.count"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["a.count"] and res.unexpected_keys == ["extra"]
    assert "missing_keys=['a.count']" in repr(res)
    sd = net.state_dict()
    sd["a.w"] = cr.zeros(4)
    with pytest.raises(RuntimeError, match="size mismatch for a.w"):
        net.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError):
        net.load_state_dict([1, 2])


def test_load_state_dict_assign_and_numpy():
    net = Scale(2)
    new = cr.tensor([3.0, 4.0])
    net.load_state_dict({"w": new, "count": np.array([2.0], np.float32)}, assign=True)
    assert isinstance(net.w, nn.Parameter) and net.w.requires_grad
    assert net.w.tolist() == [3.0, 4.0] and net.count.tolist() == [2.0]


@needs_torch
def test_load_state_dict_from_torch_tensors_and_namedtuple_fields():
    t = torch.nn.Linear(3, 2)
    m = run_or_skip(nn.Linear, 3, 2)
    res = m.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(m.weight.detach().numpy(), t.weight.detach().numpy())
    assert res._fields == t.load_state_dict(t.state_dict())._fields


def test_state_dict_hooks_and_extra_state():
    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]

    a, b = WithExtra(), WithExtra()
    a.value = 9
    sd = a.state_dict()
    assert sd["_extra_state"] == {"value": 9}
    b.load_state_dict(sd)
    assert b.value == 9
    seen = []
    b.register_load_state_dict_post_hook(lambda mod, keys: seen.append(keys.missing_keys))
    b.load_state_dict({}, strict=False)
    assert seen == [["_extra_state"]]


# -- hooks ---------------------------------------------------------------------------------------
def test_forward_hooks():
    m = Scale(2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    h2 = m.register_forward_hook(lambda mod, args, out: out * 10)
    h3 = m.register_forward_hook(lambda mod, args, out: calls.append("first"), prepend=True)
    assert m(cr.zeros(2)).tolist() == [20.0, 20.0]
    assert calls == ["first"]
    h1.remove(), h2.remove(), h3.remove()
    assert m(cr.zeros(2)).tolist() == [0.0, 0.0]
    with m.register_forward_pre_hook(lambda mod, a, k: ((a[0] + 2,), k),
                                     with_kwargs=True):
        assert m(cr.zeros(2)).tolist() == [4.0, 4.0]
    h = m.register_forward_hook(lambda mod, a, k, out: out + k.get("bias", 0), with_kwargs=True)
    h.remove()
    seen = []

    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    b = Boom()
    b.register_forward_hook(lambda mod, a, out: seen.append(out), always_call=True)
    with pytest.raises(ValueError):
        b(cr.ones(1))
    assert seen == [None]


def test_global_forward_hook():
    from chainrule.nn.modules.module import register_module_forward_hook
    seen = []
    h = register_module_forward_hook(lambda mod, args, out: seen.append(type(mod).__name__))
    try:
        Net()(cr.ones(3))
    finally:
        h.remove()
    assert seen == ["Scale", "Scale", "Net"]


@needs_torch
def test_full_backward_hook_matches_torch():
    def run(m):
        class Mul(m.nn.Module):
            def forward(self, x, y, k):
                return x * y * k, x + y

        mod = Mul()
        rec = {}

        def hook(module, gin, gout):
            rec["gin"] = [None if g is None else g.detach().numpy().copy() for g in gin]
            rec["gout"] = [None if g is None else g.detach().numpy().copy() for g in gout]
            return (gin[0] * 2,) + tuple(gin[1:])

        mod.register_full_backward_hook(hook)
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = m.tensor([3.0, 4.0], requires_grad=True)
        a, b = mod(x, y, 2.0)
        (a.sum() * 3 + (b * b).sum()).backward()
        return rec, x.grad.numpy(), y.grad.numpy()

    rec_t, xg_t, yg_t = run(torch)
    rec_c, xg_c, yg_c = run(cr)
    assert len(rec_c["gin"]) == len(rec_t["gin"]) == 3
    assert rec_c["gin"][2] is None and rec_t["gin"][2] is None
    for k in ("gin", "gout"):
        for u, v in zip(rec_c[k], rec_t[k]):
            if v is None:
                assert u is None
            else:
                np.testing.assert_allclose(u, v)
    np.testing.assert_allclose(xg_c, xg_t)
    np.testing.assert_allclose(yg_c, yg_t)


@needs_torch
def test_backward_hook_no_input_grad_and_pre_hook_match_torch():
    def run(m):
        mod = m.nn.Module()
        mod.w = m.nn.Parameter(m.tensor([2.0, 3.0]))
        type(mod).forward = lambda self, x: x * self.w
        rec = []
        mod.register_full_backward_pre_hook(lambda mod_, gout: (gout[0] * 5,))
        mod.register_full_backward_hook(
            lambda mod_, gin, gout: rec.append((gin, gout[0].numpy().copy())))
        out = mod(m.ones(2))
        out.sum().backward()
        del type(mod).forward
        return rec, mod.w.grad.numpy()

    rec_t, g_t = run(torch)
    rec_c, g_c = run(cr)
    assert rec_c[0][0] == rec_t[0][0] == (None,)
    np.testing.assert_allclose(rec_c[0][1], rec_t[0][1])
    np.testing.assert_allclose(g_c, g_t)


def test_backward_hook_bad_return_raises():
    m = Scale(2)
    m.register_full_backward_hook(lambda mod, gin, gout: (gin[0], gin[0]))
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_input"):
        m(x).sum().backward()


# -- containers ----------------------------------------------------------------------------------
def test_sequential_semantics():
    a, b, c = Scale(1), Scale(1), Scale(1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and s[0] is a and s[-1] is c
    sl = s[1:]
    assert type(sl) is nn.Sequential and list(sl) == [b, c] and list(sl._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        s[3]
    s.append(Scale(1))
    assert len(s) == 4
    s.insert(0, Scale(2))
    assert s[1] is a and list(s._modules) == ["0", "1", "2", "3", "4"]
    del s[0]
    assert s[0] is a and list(s._modules) == ["0", "1", "2", "3"]
    assert s.pop(1) is b and len(s) == 3
    s.extend([Scale(1)])
    assert len(s) == 4
    s2 = s + nn.Sequential(Scale(1))
    assert len(s2) == 5
    assert len(nn.Sequential(a) * 3) == 3
    s[0] = c
    assert s[0] is c
    d = nn.Sequential(OrderedDict([("first", a), ("second", b)]))
    assert d.first is a and list(d._modules) == ["first", "second"]
    assert nn.Sequential(Scale(1), Scale(1))(cr.ones(1)).tolist() == [4.0]
    with pytest.raises(ValueError):
        s + [a]


def test_modulelist_moduledict():
    ml = nn.ModuleList([Scale(1), Scale(2)])
    ml.append(Scale(3))
    ml.extend([Scale(4)])
    ml += [Scale(5)]
    assert [m.w.shape[0] for m in ml] == [1, 2, 3, 4, 5]
    ml.insert(1, Scale(9))
    assert ml[1].w.shape[0] == 9 and len(ml) == 6
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    assert len(list(ml.parameters())) == 5
    with pytest.raises(TypeError):
        ml.extend(3)
    with pytest.raises(IndexError):
        ml[10]
    md = nn.ModuleDict({"b": Scale(1), "a": Scale(2)})
    assert list(md) == ["b", "a"]                  # insertion order kept
    md["c"] = Scale(3)
    assert "c" in md and len(md) == 3
    md.update([("d", Scale(4))])
    assert md.pop("d").w.shape[0] == 4
    assert list(md.keys()) == ["b", "a", "c"]
    with pytest.raises(ValueError):
        md.update([("x", Scale(1), 3)])


def test_parameterlist_parameterdict():
    pl = nn.ParameterList([cr.zeros(2), nn.Parameter(cr.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl)
    pl.append(cr.ones(1))
    assert len(pl) == 3 and len(list(pl.parameters())) == 3
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    with pytest.raises(RuntimeError):
        pl()
    pd = nn.ParameterDict({"b": cr.zeros(1), "a": cr.ones(2)})
    assert list(pd) == ["a", "b"]
    pd["c"] = cr.ones(3)
    assert isinstance(pd["c"], nn.Parameter) and len(pd) == 3
    assert pd.get("zz") is None and pd.pop("c").shape == (3,)
    assert [n for n, _ in pd.named_parameters()] == ["a", "b"]
    with pytest.raises(TypeError):
        pd[1] = cr.ones(1)


@needs_torch
def test_container_reprs_match_torch():
    def build(m):
        nnm = m.nn
        return [
            nnm.Sequential(),
            nnm.ModuleList(),
            nnm.ModuleList([nnm.Identity(), nnm.Identity(), nnm.Flatten(),
                            nnm.Identity()]),
            nnm.ModuleDict({"x": nnm.Identity(),
                            "y": nnm.Sequential(nnm.Identity(), nnm.Identity())}),
            nnm.ParameterList([m.zeros(2, 3), nnm.Identity(), m.ones(1, dtype=m.float64)]),
            nnm.ParameterDict({"b": m.zeros(1), "a": m.zeros(2, 2)}),
            nnm.Sequential(OrderedDict(enc=nnm.Sequential(nnm.Flatten(), nnm.Identity()),
                                       head=nnm.Unflatten(1, (2, 3)))),
        ]
    for a, b in zip(build(cr), build(torch)):
        assert repr(a) == repr(b).replace("torch.", "chainrule.")


@needs_torch
def test_custom_module_repr_matches_torch():
    def build(m):
        class Block(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = m.nn.Sequential(m.nn.Identity())
                self.skip = None

            def extra_repr(self):
                return "line one\nline two"

        class Leaf(m.nn.Module):
            def extra_repr(self):
                return "k=3"
        top = m.nn.Module()
        top.block = Block()
        top.leaf = Leaf()
        return top
    assert repr(build(cr)) == repr(build(torch))


# -- every layer: parameter names/shapes and repr against torch ---------------------------------
LAYERS = [
    ("Identity", lambda n: n.Identity()),
    ("Linear", lambda n: n.Linear(4, 3)),
    ("Linear_nobias", lambda n: n.Linear(4, 3, bias=False)),
    ("Bilinear", lambda n: n.Bilinear(2, 3, 4)),
    ("Flatten", lambda n: n.Flatten(0, 2)),
    ("Unflatten", lambda n: n.Unflatten(1, (2, 5))),
    ("Conv1d", lambda n: n.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2)),
    ("Conv2d", lambda n: n.Conv2d(3, 6, (3, 2), padding="same", padding_mode="reflect")),
    ("Conv2d_valid", lambda n: n.Conv2d(3, 6, 3, padding="valid", bias=False)),
    ("Conv3d", lambda n: n.Conv3d(2, 2, 2, padding_mode="circular", padding=1)),
    ("ConvTranspose1d", lambda n: n.ConvTranspose1d(4, 2, 3, stride=2, output_padding=1)),
    ("ConvTranspose2d", lambda n: n.ConvTranspose2d(4, 6, 3, groups=2, dilation=2)),
    ("ConvTranspose3d", lambda n: n.ConvTranspose3d(2, 2, 2)),
    ("MaxPool1d", lambda n: n.MaxPool1d(3, 2, 1)),
    ("MaxPool2d", lambda n: n.MaxPool2d(2, ceil_mode=True)),
    ("MaxPool3d", lambda n: n.MaxPool3d(2)),
    ("AvgPool1d", lambda n: n.AvgPool1d(3)),
    ("AvgPool2d", lambda n: n.AvgPool2d((2, 3), stride=1)),
    ("AvgPool3d", lambda n: n.AvgPool3d(2)),
    ("LPPool2d", lambda n: n.LPPool2d(2, 3)),
    ("AdaptiveAvgPool1d", lambda n: n.AdaptiveAvgPool1d(3)),
    ("AdaptiveAvgPool2d", lambda n: n.AdaptiveAvgPool2d((2, None))),
    ("AdaptiveMaxPool2d", lambda n: n.AdaptiveMaxPool2d(2, return_indices=True)),
    ("BatchNorm1d", lambda n: n.BatchNorm1d(3, momentum=None)),
    ("BatchNorm2d", lambda n: n.BatchNorm2d(3, affine=False)),
    ("BatchNorm2d_nostats", lambda n: n.BatchNorm2d(3, track_running_stats=False)),
    ("BatchNorm3d", lambda n: n.BatchNorm3d(2, bias=False)),
    ("InstanceNorm1d", lambda n: n.InstanceNorm1d(3, affine=True)),
    ("InstanceNorm2d", lambda n: n.InstanceNorm2d(3, track_running_stats=True)),
    ("LayerNorm", lambda n: n.LayerNorm([3, 4], eps=1e-3)),
    ("LayerNorm_nobias", lambda n: n.LayerNorm(4, bias=False)),
    ("GroupNorm", lambda n: n.GroupNorm(2, 4)),
    ("RMSNorm", lambda n: n.RMSNorm(4, eps=1e-6)),
    ("LocalResponseNorm", lambda n: n.LocalResponseNorm(3)),
    ("Dropout", lambda n: n.Dropout(0.2)),
    ("Dropout1d", lambda n: n.Dropout1d()),
    ("Dropout2d", lambda n: n.Dropout2d(0.1, inplace=True)),
    ("AlphaDropout", lambda n: n.AlphaDropout(0.3)),
    ("Embedding", lambda n: n.Embedding(10, 4, padding_idx=-2, max_norm=1.0)),
    ("EmbeddingBag", lambda n: n.EmbeddingBag(10, 4, mode="sum", padding_idx=1)),
    ("RNN", lambda n: n.RNN(3, 5, 2, "relu", batch_first=True)),
    ("LSTM", lambda n: n.LSTM(3, 5, num_layers=2, bidirectional=True, dropout=0.5)),
    ("LSTM_proj", lambda n: n.LSTM(3, 5, proj_size=2, bias=False)),
    ("GRU", lambda n: n.GRU(3, 5, bidirectional=True)),
    ("RNNCell", lambda n: n.RNNCell(3, 5, nonlinearity="relu")),
    ("LSTMCell", lambda n: n.LSTMCell(3, 5)),
    ("GRUCell", lambda n: n.GRUCell(3, 5, bias=False)),
    ("MultiheadAttention", lambda n: n.MultiheadAttention(8, 2)),
    ("MultiheadAttention_kv", lambda n: n.MultiheadAttention(8, 2, kdim=3, vdim=5,
                                                             add_bias_kv=True, bias=False)),
    ("TransformerEncoderLayer", lambda n: n.TransformerEncoderLayer(8, 2, 16, norm_first=True)),
    ("TransformerEncoder", lambda n: n.TransformerEncoder(
        n.TransformerEncoderLayer(8, 2, 16), 2, norm=n.LayerNorm(8),
        enable_nested_tensor=False)),
    ("TransformerDecoderLayer", lambda n: n.TransformerDecoderLayer(8, 2, 16)),
    ("Transformer", lambda n: n.Transformer(8, 2, 1, 1, 16)),
    ("Upsample", lambda n: n.Upsample(scale_factor=2, mode="bilinear")),
    ("Upsample_size", lambda n: n.Upsample(size=(3, 4))),
    ("UpsamplingNearest2d", lambda n: n.UpsamplingNearest2d(scale_factor=3)),
    ("PixelShuffle", lambda n: n.PixelShuffle(2)),
    ("PixelUnshuffle", lambda n: n.PixelUnshuffle(3)),
    ("ChannelShuffle", lambda n: n.ChannelShuffle(2)),
    ("Fold", lambda n: n.Fold((4, 5), 2, stride=1)),
    ("Unfold", lambda n: n.Unfold((2, 3), padding=1)),
    ("ZeroPad2d", lambda n: n.ZeroPad2d((1, 2, 0, 1))),
    ("ConstantPad1d", lambda n: n.ConstantPad1d(2, 0.5)),
    ("ConstantPad3d", lambda n: n.ConstantPad3d((1, 0, 1, 0, 1, 0), 1.0)),
    ("ReflectionPad2d", lambda n: n.ReflectionPad2d(1)),
    ("ReplicationPad1d", lambda n: n.ReplicationPad1d((1, 2))),
    ("CircularPad2d", lambda n: n.CircularPad2d(1)),
    ("PairwiseDistance", lambda n: n.PairwiseDistance(p=1.0)),
    ("CosineSimilarity", lambda n: n.CosineSimilarity(dim=0)),
    ("PReLU", lambda n: n.PReLU(3, init=0.1)),
    ("Threshold", lambda n: n.Threshold(0.1, 20.0)),
    ("ReLU", lambda n: n.ReLU(inplace=True)),
    ("RReLU", lambda n: n.RReLU(0.1, 0.3)),
    ("Hardtanh", lambda n: n.Hardtanh(-2.0, 2.0)),
    ("ReLU6", lambda n: n.ReLU6()),
    ("Sigmoid", lambda n: n.Sigmoid()),
    ("Hardsigmoid", lambda n: n.Hardsigmoid()),
    ("Tanh", lambda n: n.Tanh()),
    ("SiLU", lambda n: n.SiLU()),
    ("Mish", lambda n: n.Mish(inplace=True)),
    ("Hardswish", lambda n: n.Hardswish()),
    ("ELU", lambda n: n.ELU(alpha=0.5)),
    ("CELU", lambda n: n.CELU(2.0)),
    ("SELU", lambda n: n.SELU()),
    ("GLU", lambda n: n.GLU(1)),
    ("GELU", lambda n: n.GELU("tanh")),
    ("Hardshrink", lambda n: n.Hardshrink(0.3)),
    ("LeakyReLU", lambda n: n.LeakyReLU(0.2)),
    ("LogSigmoid", lambda n: n.LogSigmoid()),
    ("Softplus", lambda n: n.Softplus(2.0, 10.0)),
    ("Softshrink", lambda n: n.Softshrink()),
    ("Softsign", lambda n: n.Softsign()),
    ("Tanhshrink", lambda n: n.Tanhshrink()),
    ("Softmin", lambda n: n.Softmin(1)),
    ("Softmax", lambda n: n.Softmax(dim=-1)),
    ("Softmax2d", lambda n: n.Softmax2d()),
    ("LogSoftmax", lambda n: n.LogSoftmax(0)),
    ("L1Loss", lambda n: n.L1Loss(reduction="sum")),
    ("NLLLoss", lambda n: n.NLLLoss(ignore_index=2)),
    ("PoissonNLLLoss", lambda n: n.PoissonNLLLoss(log_input=False)),
    ("GaussianNLLLoss", lambda n: n.GaussianNLLLoss(full=True)),
    ("KLDivLoss", lambda n: n.KLDivLoss(reduction="batchmean", log_target=True)),
    ("MSELoss", lambda n: n.MSELoss()),
    ("BCELoss", lambda n: n.BCELoss()),
    ("BCEWithLogitsLoss", lambda n: n.BCEWithLogitsLoss()),
    ("HingeEmbeddingLoss", lambda n: n.HingeEmbeddingLoss(2.0)),
    ("MultiLabelMarginLoss", lambda n: n.MultiLabelMarginLoss()),
    ("SmoothL1Loss", lambda n: n.SmoothL1Loss(beta=0.5)),
    ("HuberLoss", lambda n: n.HuberLoss(delta=2.0)),
    ("SoftMarginLoss", lambda n: n.SoftMarginLoss()),
    ("CrossEntropyLoss", lambda n: n.CrossEntropyLoss(label_smoothing=0.1)),
    ("MultiLabelSoftMarginLoss", lambda n: n.MultiLabelSoftMarginLoss()),
    ("CosineEmbeddingLoss", lambda n: n.CosineEmbeddingLoss(0.5)),
    ("MarginRankingLoss", lambda n: n.MarginRankingLoss(0.1)),
    ("MultiMarginLoss", lambda n: n.MultiMarginLoss(p=2)),
    ("TripletMarginLoss", lambda n: n.TripletMarginLoss(swap=True)),
    ("TripletMarginWithDistanceLoss", lambda n: n.TripletMarginWithDistanceLoss()),
    ("CTCLoss", lambda n: n.CTCLoss(blank=1)),
]


@needs_torch
@pytest.mark.parametrize("name,make", LAYERS, ids=[n for n, _ in LAYERS])
def test_layer_params_buffers_repr_match_torch(name, make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = make(torch.nn)
        c = run_or_skip(make, nn)
    assert [(n, tuple(p.shape)) for n, p in c.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert [(n, tuple(b.shape)) for n, b in c.named_buffers()] == \
        [(n, tuple(b.shape)) for n, b in t.named_buffers()]
    assert [(k, str(v.dtype).split(".")[-1]) for k, v in c.state_dict().items()] == \
        [(k, str(v.dtype).split(".")[-1]) for k, v in t.state_dict().items()]
    assert repr(c) == repr(t)
    assert all(p.requires_grad for p in c.parameters())


@needs_torch
def test_every_torch_module_name_exists():
    skip = {"Container", "DataParallel", "SyncBatchNorm", "CrossMapLRN2d",
            "AdaptiveLogSoftmaxWithLoss", "FractionalMaxPool2d", "FractionalMaxPool3d",
            "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "LinearCrossEntropyLoss",
            "LinearCrossEntropyOptions",
            "RNNBase", "RNNCellBase"}
    names = [n for n in dir(torch.nn) if n[:1].isupper() and n not in skip]
    missing = [n for n in names if not hasattr(nn, n)]
    assert missing == []


# -- init: every layer's reset_parameters uses torch's distributions ---------------------------
def _bounds_check(p, bound):
    a = p.detach().numpy().astype(np.float64)
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    # a uniform(-b, b) sample: std b/sqrt(3); spread over most of the interval
    assert abs(a.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert np.abs(a).max() > 0.9 * bound


@pytest.mark.parametrize("make,bounds", [
    (lambda: nn.Linear(50, 40), {"weight": 1 / math.sqrt(50), "bias": 1 / math.sqrt(50)}),
    (lambda: nn.Conv2d(6, 40, 3, groups=2),
     {"weight": 1 / math.sqrt(27), "bias": 1 / math.sqrt(27)}),
    (lambda: nn.ConvTranspose2d(40, 8, 3),
     {"weight": 1 / math.sqrt(72), "bias": 1 / math.sqrt(72)}),
    (lambda: nn.Bilinear(20, 30, 10), {"weight": 1 / math.sqrt(20), "bias": 1 / math.sqrt(20)}),
    (lambda: nn.LSTM(10, 20), {"": 1 / math.sqrt(20)}),
    (lambda: nn.GRUCell(10, 30, ), {"": 1 / math.sqrt(30)}),
])
def test_reset_parameters_bounds(make, bounds):
    m = make()
    for name, p in m.named_parameters():
        key = next(k for k in bounds if k in name)
        if p.numel() >= 200:
            _bounds_check(p, bounds[key])
        else:
            assert p.abs().max().item() <= bounds[key] * (1 + 1e-6)


def test_norm_embedding_mha_init():
    bn = nn.BatchNorm1d(3)
    assert bn.weight.tolist() == [1.0] * 3 and bn.bias.tolist() == [0.0] * 3
    assert bn.running_var.tolist() == [1.0] * 3 and bn.num_batches_tracked.item() == 0
    assert bn.num_batches_tracked.dtype == cr.int64
    emb = nn.Embedding(400, 10, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert (w[3] == 0).all()
    assert abs(w.std() - 1.0) < 0.05 and abs(w.mean()) < 0.05
    mha = nn.MultiheadAttention(16, 4, add_bias_kv=True)
    bound = math.sqrt(6 / (16 + 48))
    assert mha.in_proj_weight.abs().max().item() <= bound
    assert mha.in_proj_bias.abs().max().item() == 0 and mha.out_proj.bias.abs().max().item() == 0
    assert mha.out_proj.weight.abs().max().item() <= 1 / 4


# -- lazy modules --------------------------------------------------------------------------------
def test_lazy_linear_materializes_and_becomes_linear():
    m = nn.LazyLinear(3)
    assert m.has_uninitialized_params()
    assert repr(m) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    out = run_or_skip(m, cr.ones(2, 5))
    assert out.shape == (2, 3) and type(m) is nn.Linear
    assert m.weight.shape == (3, 5) and type(m.weight) is nn.Parameter
    assert m.weight.abs().max().item() <= 1 / math.sqrt(5)
    assert m._forward_pre_hooks == {}


@needs_torch
@pytest.mark.parametrize("name,shape", [("LazyBatchNorm1d", (4, 3)),
                                        ("LazyBatchNorm2d", (2, 3, 2, 2)),
                                        ("LazyInstanceNorm1d", (2, 3, 5)),
                                        ("LazyConv2d", (1, 3, 5, 5)),
                                        ("LazyConvTranspose1d", (1, 3, 5))])
def test_lazy_modules_match_torch(name, shape):
    args = (4, 3) if "Conv" in name else ()
    t = getattr(torch.nn, name)(*args)
    c = getattr(nn, name)(*args)
    assert repr(c) == repr(t)
    x = _x(*shape)
    t(torch.tensor(x, dtype=torch.float32))
    run_or_skip(c, cr.tensor(x))
    assert type(c).__name__ == type(t).__name__
    assert repr(c) == repr(t)
    assert [(n, tuple(p.shape)) for n, p in c.state_dict().items()] == \
        [(n, tuple(p.shape)) for n, p in t.state_dict().items()]


def test_lazy_load_state_dict():
    m = nn.LazyLinear(2)
    m.load_state_dict({"weight": cr.ones(2, 4), "bias": cr.zeros(2)})
    assert m.weight.shape == (2, 4) and m.weight.sum().item() == 8.0


# -- forward parity with torch (weights copied in through numpy) -------------------------------
def _from_torch(cmod, tmod):
    sd = {k: cr.tensor(v.detach().numpy()) for k, v in tmod.state_dict().items()}
    cmod.load_state_dict(sd)


def _np(x):
    if isinstance(x, (tuple, list)):
        return [_np(v) for v in x]
    return None if x is None else x.detach().numpy()


def _check_close(a, b, rtol, atol):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _check_close(u, v, rtol, atol)
    elif b is None:
        assert a is None
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _parity(make, inputs, train=False, kwargs=None, dtype="float64", grads=True, tol=None):
    """Build both modules, copy torch's weights into ours, run forward (and backward of
    the sum of outputs), compare outputs, input grads and parameter grads."""
    kwargs = kwargs or {}
    tdt = getattr(torch, dtype)
    cdt = getattr(cr, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        t = make(torch.nn).to(tdt)
        c = run_or_skip(make, nn).to(cdt)
    _from_torch(c, t)
    t.train(train)
    c.train(train)
    t_in = [torch.tensor(x, dtype=tdt if x.dtype.kind == "f" else None,
                         requires_grad=x.dtype.kind == "f" and grads) for x in inputs]
    c_in = [cr.tensor(x, dtype=cdt if x.dtype.kind == "f" else None,
                      requires_grad=x.dtype.kind == "f" and grads) for x in inputs]
    t_out = t(*t_in, **kwargs)
    c_out = run_or_skip(c, *c_in, **kwargs)
    if tol is None:
        tol = dict(rtol=1e-9, atol=1e-10) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    _check_close(_np(c_out), _np(t_out), **tol)
    if grads:
        def total(out):
            if isinstance(out, (tuple, list)):
                return sum(total(o) for o in out if o is not None)
            return (out * out).sum() if out.dtype.is_floating_point else 0
        total(t_out).backward()
        run_or_skip(lambda: total(c_out).backward())
        for a, b in zip(c_in, t_in):
            if b.requires_grad:
                _check_close(_np(a.grad), _np(b.grad), **tol)
        for (n, a), (_, b) in zip(c.named_parameters(), t.named_parameters()):
            _check_close(_np(a.grad), _np(b.grad), **tol)
    # buffers (running stats) and parameters (e.g. max_norm renorm) after the call
    for (n, a), (_, b) in zip(c.named_buffers(), t.named_buffers()):
        _check_close(_np(a), _np(b), **tol)
    for (n, a), (_, b) in zip(c.named_parameters(), t.named_parameters()):
        _check_close(_np(a), _np(b), **tol)
    return c, t


rng = np.random.default_rng(0)


def _x(*shape):
    return rng.standard_normal(shape)


PARITY = [
    ("Linear", lambda n: n.Linear(4, 3), [_x(2, 5, 4)], {}),
    ("Linear_1d", lambda n: n.Linear(4, 3, bias=False), [_x(4)], {}),
    ("Bilinear", lambda n: n.Bilinear(2, 3, 4), [_x(5, 2), _x(5, 3)], {}),
    ("Conv1d", lambda n: n.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), [_x(2, 2, 9)], {}),
    ("Conv2d", lambda n: n.Conv2d(3, 4, 3, padding=1, dilation=1), [_x(2, 3, 6, 5)], {}),
    ("Conv2d_same_reflect", lambda n: n.Conv2d(2, 3, (3, 2), padding="same",
                                               padding_mode="reflect"), [_x(1, 2, 5, 6)], {}),
    ("Conv2d_replicate", lambda n: n.Conv2d(2, 3, 3, padding=(1, 2),
                                            padding_mode="replicate"), [_x(1, 2, 5, 6)], {}),
    ("Conv2d_circular", lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
     [_x(1, 2, 5, 6)], {}),
    ("Conv3d", lambda n: n.Conv3d(2, 2, 2, stride=(1, 2, 1)), [_x(1, 2, 3, 4, 3)], {}),
    ("ConvTranspose1d", lambda n: n.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1),
     [_x(2, 3, 5)], {}),
    ("ConvTranspose2d", lambda n: n.ConvTranspose2d(4, 2, 3, stride=2, padding=1),
     [_x(1, 4, 3, 3)], {"output_size": (6, 6)}),
    ("BatchNorm1d_train", lambda n: n.BatchNorm1d(3), [_x(6, 3)], "train"),
    ("BatchNorm1d_cma", lambda n: n.BatchNorm1d(3, momentum=None), [_x(4, 3, 5)], "train"),
    ("BatchNorm2d_eval", lambda n: n.BatchNorm2d(3), [_x(2, 3, 4, 4)], {}),
    ("BatchNorm2d_nostats", lambda n: n.BatchNorm2d(3, track_running_stats=False),
     [_x(2, 3, 2, 2)], {}),
    ("InstanceNorm2d", lambda n: n.InstanceNorm2d(3, affine=True), [_x(2, 3, 4, 4)], {}),
    ("LayerNorm", lambda n: n.LayerNorm([3, 4]), [_x(2, 3, 4)], {}),
    ("GroupNorm", lambda n: n.GroupNorm(2, 4), [_x(3, 4, 5)], {}),
    ("Embedding", lambda n: n.Embedding(10, 4, padding_idx=2),
     [np.array([[1, 2, 3], [9, 2, 0]])], {}),
    ("Embedding_max_norm", lambda n: n.Embedding(10, 4, max_norm=1.0),
     [np.array([[1, 2, 3], [9, 2, 0]])], {}),
    ("EmbeddingBag", lambda n: n.EmbeddingBag(10, 3, mode="sum"),
     [np.array([1, 2, 4, 5, 4, 3]), np.array([0, 2, 5])], {}),
    ("MaxPool2d", lambda n: n.MaxPool2d(2), [_x(1, 2, 4, 6)], {}),
    ("MaxPool1d_indices", lambda n: n.MaxPool1d(3, 2, 1, return_indices=True),
     [_x(2, 2, 7)], {}),
    ("MaxPool3d", lambda n: n.MaxPool3d(2, ceil_mode=True), [_x(1, 1, 3, 4, 3)], {}),
    ("AvgPool2d", lambda n: n.AvgPool2d(3, 2, 1, count_include_pad=False), [_x(1, 2, 5, 6)],
     {}),
    ("AdaptiveMaxPool2d", lambda n: n.AdaptiveMaxPool2d((2, 3)), [_x(1, 2, 5, 7)], {}),
    ("AdaptiveAvgPool1d", lambda n: n.AdaptiveAvgPool1d(3), [_x(2, 2, 7)], {}),
    ("Conv3d_replicate", lambda n: n.Conv3d(2, 2, 3, padding=1, padding_mode="replicate"),
     [_x(1, 2, 3, 4, 3)], {}),
    ("Conv1d_circular_same", lambda n: n.Conv1d(2, 2, 4, padding="same",
                                                padding_mode="circular"), [_x(1, 2, 7)], {}),
    ("ConvTranspose3d", lambda n: n.ConvTranspose3d(2, 2, 2, stride=2), [_x(1, 2, 2, 2, 2)], {}),
    ("Upsample_nearest", lambda n: n.Upsample(scale_factor=2), [_x(1, 2, 3, 3)], {}),
    ("Upsample_bilinear", lambda n: n.Upsample(size=(5, 4), mode="bilinear",
                                               align_corners=True), [_x(1, 2, 3, 3)], {}),
    ("UpsamplingBilinear2d", lambda n: n.UpsamplingBilinear2d(scale_factor=2),
     [_x(1, 1, 2, 3)], {}),
    ("PixelShuffle", lambda n: n.PixelShuffle(2), [_x(1, 8, 2, 3)], {}),
    ("PixelUnshuffle", lambda n: n.PixelUnshuffle(2), [_x(1, 2, 4, 6)], {}),
    ("Unfold", lambda n: n.Unfold((2, 3), padding=1, stride=2), [_x(1, 2, 5, 6)], {}),
    ("Fold", lambda n: n.Fold((4, 5), 2), [_x(1, 8, 12)], {}),
    ("ZeroPad2d", lambda n: n.ZeroPad2d((1, 2, 0, 1)), [_x(1, 2, 3, 3)], {}),
    ("ConstantPad3d", lambda n: n.ConstantPad3d((1, 0, 1, 0, 0, 1), 0.5), [_x(1, 2, 2, 2, 2)],
     {}),
    ("ReflectionPad1d", lambda n: n.ReflectionPad1d((2, 1)), [_x(2, 2, 4)], {}),
    ("ReplicationPad2d", lambda n: n.ReplicationPad2d(2), [_x(1, 2, 3, 3)], {}),
    ("CircularPad1d", lambda n: n.CircularPad1d(1), [_x(2, 2, 4)], {}),
    ("LocalResponseNorm", lambda n: n.LocalResponseNorm(3), [_x(2, 5, 3, 3)], {}),
    ("RMSNorm", lambda n: n.RMSNorm([3, 4], eps=1e-5), [_x(2, 3, 4)], {}),
    ("LayerNorm_nobias", lambda n: n.LayerNorm(4, bias=False), [_x(2, 3, 4)], {}),
    ("InstanceNorm1d_unbatched", lambda n: n.InstanceNorm1d(3, affine=True),
     [_x(3, 6)], {}),
    ("InstanceNorm1d_stats_train", lambda n: n.InstanceNorm1d(3, track_running_stats=True),
     [_x(2, 3, 6)], "train"),
    ("CosineSimilarity", lambda n: n.CosineSimilarity(dim=1), [_x(3, 4), _x(3, 4)], {}),
    ("PairwiseDistance", lambda n: n.PairwiseDistance(p=3.0, keepdim=True),
     [_x(3, 4), _x(3, 4)], {}),
    ("Dropout_eval", lambda n: n.Dropout(0.5), [_x(3, 4)], {}),
    ("AvgPool1d", lambda n: n.AvgPool1d(3, 2, 1), [_x(2, 2, 7)], {}),
    ("AdaptiveAvgPool2d", lambda n: n.AdaptiveAvgPool2d((2, 3)), [_x(1, 2, 5, 7)], {}),
    ("PReLU", lambda n: n.PReLU(3), [_x(2, 3, 4)], {}),
    ("RNN", lambda n: n.RNN(3, 4, num_layers=2), [_x(5, 2, 3)], {}),
    ("RNN_relu_bf_h0", lambda n: n.RNN(3, 4, nonlinearity="relu", batch_first=True,
                                       bidirectional=True),
     [_x(2, 5, 3), _x(2, 2, 4)], {}),
    ("RNN_unbatched", lambda n: n.RNN(3, 4), [_x(5, 3)], {}),
    ("LSTM", lambda n: n.LSTM(3, 4, num_layers=2, bidirectional=True), [_x(5, 2, 3)], {}),
    ("LSTM_dropout1_train", lambda n: n.LSTM(3, 4, num_layers=2, dropout=1.0),
     [_x(5, 2, 3)], "train"),
    ("LSTM_proj_bf", lambda n: n.LSTM(3, 5, proj_size=2, batch_first=True), [_x(2, 4, 3)], {}),
    ("GRU", lambda n: n.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
     [_x(2, 5, 3)], {}),
    ("GRU_nobias_h0", lambda n: n.GRU(3, 4, bias=False), [_x(6, 2, 3), _x(1, 2, 4)], {}),
    ("RNNCell", lambda n: n.RNNCell(3, 4), [_x(2, 3), _x(2, 4)], {}),
    ("LSTMCell", lambda n: n.LSTMCell(3, 4), [_x(2, 3)], {}),
    ("GRUCell", lambda n: n.GRUCell(3, 4), [_x(3), _x(4)], {}),
    ("MultiheadAttention", lambda n: n.MultiheadAttention(8, 2),
     [_x(5, 2, 8), _x(4, 2, 8), _x(4, 2, 8)], {}),
    ("MultiheadAttention_bf_heads", lambda n: n.MultiheadAttention(8, 2, batch_first=True),
     [_x(2, 5, 8), _x(2, 4, 8), _x(2, 4, 8)], {"average_attn_weights": False}),
    ("MultiheadAttention_kdim", lambda n: n.MultiheadAttention(8, 4, kdim=3, vdim=5,
                                                               add_bias_kv=True),
     [_x(5, 2, 8), _x(4, 2, 3), _x(4, 2, 5)], {"need_weights": False}),
    ("TransformerEncoderLayer", lambda n: n.TransformerEncoderLayer(8, 2, 16),
     [_x(5, 2, 8)], {}),
    ("TransformerEncoderLayer_normfirst_gelu",
     lambda n: n.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True,
                                         batch_first=True), [_x(2, 5, 8)], {}),
    ("TransformerEncoder", lambda n: n.TransformerEncoder(
        n.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False), [_x(4, 2, 8)], {}),
    ("TransformerDecoderLayer", lambda n: n.TransformerDecoderLayer(8, 2, 16),
     [_x(4, 2, 8), _x(5, 2, 8)], {}),
]


@needs_torch
@pytest.mark.parametrize("name,make,inputs,mode", PARITY, ids=[p[0] for p in PARITY])
def test_forward_parity_float64(name, make, inputs, mode):
    train = mode == "train"
    _parity(make, inputs, train=train, kwargs=mode if isinstance(mode, dict) else None)


@needs_torch
@pytest.mark.parametrize("name", ["Linear", "Conv2d", "BatchNorm1d_train", "LayerNorm",
                                  "LSTM", "GRU", "MultiheadAttention",
                                  "TransformerEncoderLayer"])
def test_forward_parity_float32(name):
    _, make, inputs, mode = next(p for p in PARITY if p[0] == name)
    _parity(make, inputs, train=mode == "train",
            kwargs=mode if isinstance(mode, dict) else None, dtype="float32")


@needs_torch
def test_batchnorm_running_stats_over_steps_and_eval():
    torch.manual_seed(0)
    for momentum in (0.3, None):
        t = torch.nn.BatchNorm1d(3, momentum=momentum).double()
        c = nn.BatchNorm1d(3, momentum=momentum).double()
        for _ in range(3):
            x = _x(5, 3)
            t(torch.tensor(x))
            run_or_skip(c, cr.tensor(x))
        np.testing.assert_allclose(c.running_mean.numpy(), t.running_mean.numpy(), 1e-12)
        np.testing.assert_allclose(c.running_var.numpy(), t.running_var.numpy(), 1e-12)
        assert c.num_batches_tracked.item() == t.num_batches_tracked.item() == 3
        t.eval(), c.eval()
        x = _x(2, 3)
        np.testing.assert_allclose(c(cr.tensor(x)).detach().numpy(),
                                   t(torch.tensor(x)).detach().numpy(),
                                   1e-10)
    with pytest.raises(ValueError):
        nn.BatchNorm1d(3)(cr.ones(2, 3, 4, 5))


@needs_torch
def test_rnn_packed_sequence_matches_torch():
    from chainrule.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    lengths = [3, 5, 2]
    x = _x(3, 5, 2)
    for kind in ("LSTM", "GRU"):
        torch.manual_seed(1)
        t = getattr(torch.nn, kind)(2, 3, batch_first=True, bidirectional=True).double()
        c = getattr(nn, kind)(2, 3, batch_first=True, bidirectional=True).double()
        _from_torch(c, t)
        tp = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths,
                                                     batch_first=True, enforce_sorted=False)
        cp = run_or_skip(pack_padded_sequence, cr.tensor(x), lengths, batch_first=True,
                         enforce_sorted=False)
        t_out, t_h = t(tp)
        c_out, c_h = run_or_skip(c, cp)
        np.testing.assert_allclose(c_out.data.detach().numpy(), t_out.data.detach().numpy(),
                                   1e-10)
        t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=True)
        c_pad, c_len = pad_packed_sequence(c_out, batch_first=True)
        np.testing.assert_allclose(c_pad.detach().numpy(), t_pad.detach().numpy(), 1e-10)
        assert c_len.tolist() == t_len.tolist()
        _check_close(_np(c_h), _np(t_h), 1e-10, 1e-12)


@needs_torch
def test_mha_masks_match_torch():
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    c = run_or_skip(nn.MultiheadAttention, 8, 2, batch_first=True).double()
    _from_torch(c, t)
    q = _x(2, 4, 8)
    kpm = np.array([[False, False, True, False], [False, False, False, True]])
    mask = np.triu(np.full((4, 4), -np.inf), 1)
    t_out = t(*(torch.tensor(q),) * 3, key_padding_mask=torch.tensor(kpm),
              attn_mask=torch.tensor(mask))
    c_out = run_or_skip(c, *(cr.tensor(q),) * 3, key_padding_mask=cr.tensor(kpm),
                        attn_mask=cr.tensor(mask))
    _check_close(_np(c_out), _np(t_out), 1e-10, 1e-12)


@needs_torch
def test_transformer_causal_mask_matches_torch():
    m = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(
        m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())


def test_dropout_modules_eval_identity_and_validation():
    x = cr.ones(4, 4)
    for m in (nn.Dropout(0.5), nn.Dropout1d(0.5), nn.Dropout2d(0.5), nn.AlphaDropout(0.5)):
        m.eval()
        assert (run_or_skip(m, x.reshape(1, 4, 4, 1) if isinstance(m, nn.Dropout2d) else x)
                == 1).all()
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_embedding_from_pretrained():
    w = cr.arange(6.0).reshape(3, 2)
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.num_embeddings == 3
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    out = run_or_skip(e, cr.tensor([2, 0]))
    assert out.tolist() == [[4.0, 5.0], [0.0, 1.0]]
    with pytest.raises(AssertionError):
        nn.Embedding(3, 2, padding_idx=5)


def test_constructor_validation():
    with pytest.raises(ValueError):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError):
        nn.Conv2d(4, 4, 3, padding="full")
    with pytest.raises(ValueError):
        nn.Conv2d(4, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError):
        nn.Conv2d(4, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    with pytest.raises(ValueError):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError):
        nn.RNN(3, 4, dropout=2.0)
    with pytest.raises(AssertionError):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError):
        nn.MultiMarginLoss(p=3)


def test_rnn_input_checks():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError):
        lstm(cr.ones(1, 2, 3, 4))
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        run_or_skip(lstm, cr.ones(5, 2, 2))
    with pytest.raises(RuntimeError, match="Expected hidden\\[0\\] size"):
        run_or_skip(lstm, cr.ones(5, 2, 3), (cr.zeros(1, 3, 4), cr.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        run_or_skip(nn.GRU(3, 4), cr.ones(5, 2, 3), cr.zeros(2, 2, 4))


def test_module_training_step_reduces_loss():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    x = cr.randn(32, 3)
    y = (x * cr.tensor([1.0, -2.0, 0.5])).sum(1, keepdim=True)

    def loss_fn():
        return ((model(x) - y) ** 2).mean()
    first = run_or_skip(loss_fn).item()
    for _ in range(50):
        model.zero_grad()
        loss = loss_fn()
        loss.backward()
        with cr.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    assert loss_fn().item() < 0.2 * first


# -- activation and loss modules: options reach nn.functional in the right places ------------
ACTS = [
    lambda n: n.Threshold(0.1, -2.0), lambda n: n.ReLU(), lambda n: n.RReLU(0.1, 0.3),
    lambda n: n.Hardtanh(-0.5, 0.7), lambda n: n.ReLU6(), lambda n: n.Sigmoid(),
    lambda n: n.Hardsigmoid(), lambda n: n.Tanh(), lambda n: n.SiLU(), lambda n: n.Mish(),
    lambda n: n.Hardswish(), lambda n: n.ELU(0.7), lambda n: n.CELU(1.3), lambda n: n.SELU(),
    lambda n: n.GLU(0), lambda n: n.GELU(), lambda n: n.GELU("tanh"),
    lambda n: n.Hardshrink(0.3), lambda n: n.LeakyReLU(0.2), lambda n: n.LogSigmoid(),
    lambda n: n.Softplus(2.0, 1.0), lambda n: n.Softshrink(0.2), lambda n: n.PReLU(),
    lambda n: n.Softsign(), lambda n: n.Tanhshrink(), lambda n: n.Softmin(1),
    lambda n: n.Softmax(0), lambda n: n.Softmax2d(), lambda n: n.LogSoftmax(-1),
    lambda n: n.Flatten(), lambda n: n.Unflatten(2, (1, 3)), lambda n: n.Identity(),
]


# torch's CPU backward of these uses a float32 constant even for float64 (1/6 in hardsigmoid,
# 1/alpha in celu): our float64 gradients are exact, torch's agree to ~3e-8 relative
LOOSE = {6, 12}


@needs_torch
@pytest.mark.parametrize("k", range(len(ACTS)))
def test_activation_module_parity(k):
    x = _x(4, 2, 3) + 0.05            # away from the kinks at 0
    _parity(ACTS[k], [x], tol=dict(rtol=1e-7, atol=1e-10) if k in LOOSE else None)


def _lossargs(m, name):
    r = np.random.default_rng(1)
    f = lambda *s: m.tensor(r.standard_normal(s), requires_grad=True)  # noqa: E731
    pm1 = lambda *s: m.tensor(np.sign(r.standard_normal(s)))           # noqa: E731
    logp = m.tensor(np.log(r.dirichlet(np.ones(3), 4)), requires_grad=True)
    cls = m.tensor([0, 2, 1, 2])
    return {
        "L1Loss": (f(3, 4), f(3, 4)), "MSELoss": (f(3, 4), f(3, 4)),
        "SmoothL1Loss": (f(3, 4), f(3, 4)), "HuberLoss": (f(3, 4), f(3, 4)),
        "NLLLoss": (logp, cls), "CrossEntropyLoss": (f(4, 3), cls),
        "BCELoss": (m.tensor(r.uniform(0.1, 0.9, (3, 2)), requires_grad=True),
                    m.tensor(r.uniform(0, 1, (3, 2)))),
        "BCEWithLogitsLoss": (f(3, 2), m.tensor(r.uniform(0, 1, (3, 2)))),
        "KLDivLoss": (logp, m.tensor(r.dirichlet(np.ones(3), 4))),
        "PoissonNLLLoss": (f(5), m.tensor(r.poisson(2.0, 5).astype(float))),
        "GaussianNLLLoss": (f(4, 2), f(4, 2), m.tensor(r.uniform(0.5, 2, (4, 2)))),
        "HingeEmbeddingLoss": (f(6), pm1(6)), "SoftMarginLoss": (f(6), pm1(6)),
        "MultiLabelMarginLoss": (f(2, 4), m.tensor([[3, 0, -1, 1], [1, -1, 0, 0]])),
        "MultiLabelSoftMarginLoss": (f(3, 4), m.tensor(r.integers(0, 2, (3, 4)).astype(float))),
        "CosineEmbeddingLoss": (f(4, 5), f(4, 5), pm1(4)),
        "MarginRankingLoss": (f(4), f(4), pm1(4)),
        "MultiMarginLoss": (f(4, 3), cls),
        "TripletMarginLoss": (f(4, 5), f(4, 5), f(4, 5)),
        "TripletMarginWithDistanceLoss": (f(4, 5), f(4, 5), f(4, 5)),
    }[name]


LOSSES = [
    ("L1Loss", lambda m: m.nn.L1Loss(reduction="sum")),
    ("MSELoss", lambda m: m.nn.MSELoss(reduction="none")),
    ("SmoothL1Loss", lambda m: m.nn.SmoothL1Loss(beta=0.5)),
    ("HuberLoss", lambda m: m.nn.HuberLoss(delta=0.7)),
    ("NLLLoss", lambda m: m.nn.NLLLoss(weight=m.tensor([1.0, 2.0, 0.5]), ignore_index=1)),
    ("CrossEntropyLoss", lambda m: m.nn.CrossEntropyLoss(weight=m.tensor([1.0, 2.0, 0.5]),
                                                         label_smoothing=0.1)),
    ("BCELoss", lambda m: m.nn.BCELoss(weight=m.tensor([1.0, 3.0]))),
    ("BCEWithLogitsLoss", lambda m: m.nn.BCEWithLogitsLoss(pos_weight=m.tensor([2.0, 0.5]))),
    ("KLDivLoss", lambda m: m.nn.KLDivLoss(reduction="batchmean")),
    ("PoissonNLLLoss", lambda m: m.nn.PoissonNLLLoss(full=True)),
    ("GaussianNLLLoss", lambda m: m.nn.GaussianNLLLoss(full=True, reduction="sum")),
    ("HingeEmbeddingLoss", lambda m: m.nn.HingeEmbeddingLoss(margin=0.5)),
    ("SoftMarginLoss", lambda m: m.nn.SoftMarginLoss()),
    ("MultiLabelMarginLoss", lambda m: m.nn.MultiLabelMarginLoss()),
    ("MultiLabelSoftMarginLoss", lambda m: m.nn.MultiLabelSoftMarginLoss(
        weight=m.tensor([1.0, 2.0, 1.0, 0.5]))),
    ("CosineEmbeddingLoss", lambda m: m.nn.CosineEmbeddingLoss(margin=0.2)),
    ("MarginRankingLoss", lambda m: m.nn.MarginRankingLoss(margin=0.3)),
    ("MultiMarginLoss", lambda m: m.nn.MultiMarginLoss(p=2, margin=0.8,
                                                       weight=m.tensor([1.0, 2.0, 0.5]))),
    ("TripletMarginLoss", lambda m: m.nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True)),
    ("TripletMarginWithDistanceLoss", lambda m: m.nn.TripletMarginWithDistanceLoss(
        margin=0.5)),
]


@needs_torch
@pytest.mark.parametrize("name,make", LOSSES, ids=[n for n, _ in LOSSES])
def test_loss_module_parity(name, make):
    torch.set_default_dtype(torch.float64)
    cr.set_default_dtype(cr.float64)
    try:
        t_args = _lossargs(torch, name)
        c_args = _lossargs(cr, name)
        t_loss = make(torch)(*t_args)
        c_loss = run_or_skip(lambda: make(cr)(*c_args))
        np.testing.assert_allclose(c_loss.detach().numpy(), t_loss.detach().numpy(),
                                   rtol=1e-10, atol=1e-12)
        t_loss.sum().backward()
        c_loss.sum().backward()
        for a, b in zip(c_args, t_args):
            if b.requires_grad:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9,
                                           atol=1e-12)
    finally:
        torch.set_default_dtype(torch.float32)


def test_loss_legacy_reduction_flags():
    with pytest.warns(UserWarning):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"
    loss = nn.CrossEntropyLoss(weight=cr.ones(3))
    assert "weight" in dict(loss.named_buffers())


# -- whole models written once for both libraries ----------------------------------------------
def _resnet_like(m):
    nnm = m.nn

    class Block(nnm.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nnm.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nnm.BatchNorm2d(c)
            self.conv2 = nnm.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nnm.BatchNorm2d(c)
            self.act = nnm.ReLU(inplace=True)

        def forward(self, x):
            y = self.act(self.bn1(self.conv1(x)))
            return self.act(self.bn2(self.conv2(y)) + x)

    class Net(nnm.Module):
        def __init__(self):
            super().__init__()
            self.stem = nnm.Sequential(nnm.Conv2d(3, 4, 3, stride=2, padding=1), nnm.ReLU())
            self.blocks = nnm.ModuleList([Block(4) for _ in range(2)])
            self.head = nnm.ModuleDict({"pool": nnm.AdaptiveAvgPool2d(1),
                                        "fc": nnm.Linear(4, 5)})

        def forward(self, x):
            x = self.stem(x)
            for b in self.blocks:
                x = b(x)
            return self.head["fc"](self.head["pool"](x).flatten(1))
    return Net()


def _lstm_classifier(m):
    nnm = m.nn

    class Net(nnm.Module):
        def __init__(self):
            super().__init__()
            self.emb = nnm.Embedding(20, 6, padding_idx=0)
            self.rnn = nnm.LSTM(6, 5, num_layers=2, batch_first=True, bidirectional=True)
            self.drop = nnm.Dropout(0.3)
            self.out = nnm.Linear(10, 3)

        def forward(self, tokens):
            out, (h, c) = self.rnn(self.emb(tokens))
            return self.out(self.drop(out[:, -1]))
    return Net()


def _transformer_classifier(m):
    nnm = m.nn

    class Net(nnm.Module):
        def __init__(self):
            super().__init__()
            self.emb = nnm.Embedding(20, 8)
            layer = nnm.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            self.enc = nnm.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.out = nnm.Linear(8, 3)

        def forward(self, tokens):
            return self.out(self.enc(self.emb(tokens)).mean(1))
    return Net()


MODELS = [("resnet", _resnet_like, lambda r: r.standard_normal((2, 3, 8, 8))),
          ("lstm", _lstm_classifier, lambda r: r.integers(0, 20, (3, 7))),
          ("transformer", _transformer_classifier, lambda r: r.integers(0, 20, (2, 5)))]


@needs_torch
@pytest.mark.parametrize("name,build,data", MODELS, ids=[m[0] for m in MODELS])
def test_whole_model_structure_and_training_step_match_torch(name, build, data):
    torch.manual_seed(0)
    t = build(torch).double()
    c = build(cr).double()
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_modules()] == [n for n, _ in t.named_modules()]
    assert list(c.state_dict()) == list(t.state_dict())
    _from_torch(c, t)
    x = data(np.random.default_rng(0))
    tx = torch.tensor(x, dtype=torch.float64 if x.dtype.kind == "f" else None)
    cx = cr.tensor(x, dtype=cr.float64 if x.dtype.kind == "f" else None)
    t.eval(), c.eval()
    np.testing.assert_allclose(run_or_skip(c, cx).detach().numpy(), t(tx).detach().numpy(),
                               rtol=1e-9, atol=1e-11)
    # one training step (train mode; no dropout randomness in the compared parts)
    for mod in (t, c):
        mod.train()
        for sub in mod.modules():
            if "Dropout" in type(sub).__name__:
                sub.p = 0.0
    y = np.array([0, 2, 1])[:x.shape[0]]
    t_loss = torch.nn.functional.cross_entropy(t(tx), torch.tensor(y))
    c_loss = run_or_skip(lambda: cr.nn.functional.cross_entropy(c(cx), cr.tensor(y)))
    np.testing.assert_allclose(c_loss.item(), t_loss.item(), rtol=1e-9)
    t_loss.backward()
    c_loss.backward()
    for (n, a), (_, b) in zip(c.named_parameters(), t.named_parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10,
                                   err_msg=n)
    c_sd, t_sd = c.state_dict(), t.state_dict()
    for k in t_sd:
        np.testing.assert_allclose(c_sd[k].numpy(), t_sd[k].numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=k)


@needs_torch
def test_ctc_loss_module_parity():
    r = np.random.default_rng(2)
    logits = r.standard_normal((6, 2, 4))
    targets = np.array([[1, 2, 2], [3, 1, 0]])
    args = lambda m: (m.tensor(targets), m.tensor([6, 5]), m.tensor([3, 2]))  # noqa: E731
    t_lp = torch.tensor(logits, requires_grad=True)
    c_lp = cr.tensor(logits, requires_grad=True)
    t_loss = torch.nn.CTCLoss(blank=0)(t_lp.log_softmax(2), *args(torch))
    c_loss = run_or_skip(lambda: cr.nn.CTCLoss(blank=0)(c_lp.log_softmax(2), *args(cr)))
    np.testing.assert_allclose(c_loss.item(), t_loss.item(), rtol=1e-9)
    t_loss.backward()
    c_loss.backward()
    np.testing.assert_allclose(c_lp.grad.numpy(), t_lp.grad.numpy(), rtol=1e-8, atol=1e-12)
