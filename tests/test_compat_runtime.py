"""chainrule.cuda / backends / testing / compile and the top-level compat names, compared with
a CPU-only torch: return values, exception classes and messages, flag defaults."""
import warnings

import numpy as np
import pytest

import chainrule
from conftest import needs_torch

pytestmark = needs_torch


def _outcome(fn, *args, **kwargs):
    """('ok', value) or ('raise', exception class name, message), warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("ok", fn(*args, **kwargs))
        except Exception as e:      # noqa: BLE001
            return ("raise", type(e).__name__, str(e))


def _cls(out):
    return out[:2] if out[0] == "raise" else out


# -- chainrule.cuda -----------------------------------------------------------------------------
CUDA_CALLS = [
    ("is_available", ()), ("device_count", ()), ("is_initialized", ()), ("init", ()),
    ("manual_seed", (3,)), ("manual_seed_all", (3,)), ("seed", ()), ("seed_all", ()),
    ("initial_seed", ()), ("synchronize", ()), ("empty_cache", ()), ("ipc_collect", ()),
    ("current_device", ()), ("get_device_name", ()), ("get_device_properties", ()),
    ("get_device_capability", ()), ("mem_get_info", ()), ("memory_allocated", ()),
    ("max_memory_allocated", ()), ("memory_reserved", ()), ("max_memory_reserved", ()),
    ("memory_cached", ()), ("reset_peak_memory_stats", ()), ("reset_max_memory_allocated", ()),
    ("get_rng_state", ()), ("get_rng_state_all", ()), ("set_rng_state_all", ([],)),
    ("is_bf16_supported", ()), ("is_tf32_supported", ()), ("get_arch_list", ()),
    ("set_device", (-1,)), ("set_device", (0,)), ("set_device", ("cuda",)),
    ("memory_allocated", (0,)), ("synchronize", (0,)), ("get_device_name", (0,)),
]


@pytest.mark.parametrize("name,args", CUDA_CALLS, ids=[f"{n}{a}" for n, a in CUDA_CALLS])
def test_cuda_matches_cpu_only_torch(name, args):
    import torch
    ours = _outcome(getattr(chainrule.cuda, name), *args)
    theirs = _outcome(getattr(torch.cuda, name), *args)
    assert _cls(ours) == _cls(theirs)
    if theirs[0] == "raise" and theirs[1] in ("AssertionError", "ValueError"):
        assert ours[2] == theirs[2]


def test_cuda_rng_state_and_device_checks():
    import torch
    assert chainrule.cuda.set_rng_state(chainrule.get_rng_state()) is None
    assert torch.cuda.set_rng_state(torch.get_rng_state()) is None
    assert _outcome(chainrule.cuda.set_device, chainrule.device("cpu")) == \
        _outcome(torch.cuda.set_device, torch.device("cpu"))
    assert isinstance(chainrule.cuda.memory_stats(), dict)
    assert dict(chainrule.cuda.memory_stats()) == dict(torch.cuda.memory_stats())


def test_cuda_device_context():
    import torch
    for arg in (0, -1, "cuda:1"):
        ours, theirs = chainrule.cuda.device(arg), torch.cuda.device(arg)
        assert ours.idx == theirs.idx
        assert _cls(_outcome(ours.__enter__)) == _cls(_outcome(theirs.__enter__))
    with pytest.raises(RuntimeError, match="compiled without CUDA"):
        with chainrule.cuda.device(0):
            pass
    with pytest.raises(ValueError, match="Expected a cuda device"):
        chainrule.cuda.device("cpu")
    with pytest.raises(ValueError):
        torch.cuda.device("cpu")


def test_cuda_amp_disabled():
    import torch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = chainrule.cuda.amp.GradScaler()
    assert [w.category for w in caught] == [FutureWarning, UserWarning]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cuda.amp.GradScaler()
    assert ours.is_enabled() == theirs.is_enabled() is False
    assert ours.get_scale() == theirs.get_scale()
    loss = chainrule.tensor(2.0)
    assert ours.scale(loss) is loss

    class Opt:
        stepped = 0

        def step(self):
            self.stepped += 1
    opt = Opt()
    ours.step(opt)
    ours.update()
    assert opt.stepped == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with chainrule.cuda.amp.autocast():
            assert chainrule.is_autocast_enabled() is False
        with torch.cuda.amp.autocast():
            assert torch.is_autocast_enabled() is False


# -- chainrule.backends -------------------------------------------------------------------------
CUDNN_FLAGS = ["enabled", "benchmark", "deterministic", "allow_tf32"]


@pytest.mark.parametrize("flag", CUDNN_FLAGS)
def test_cudnn_flag_defaults_setting_and_type_check(flag):
    import torch
    assert getattr(chainrule.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag)
    default = getattr(chainrule.backends.cudnn, flag)
    try:
        setattr(chainrule.backends.cudnn, flag, not default)
        assert getattr(chainrule.backends.cudnn, flag) is (not default)
    finally:
        setattr(chainrule.backends.cudnn, flag, default)
    ours = _outcome(setattr, chainrule.backends.cudnn, flag, 1)
    theirs = _outcome(setattr, torch.backends.cudnn, flag, 1)
    assert ours == theirs and ours[0] == "raise"
    assert getattr(chainrule.backends.cudnn, flag) == default


def test_cudnn_queries_and_flags_context():
    import torch
    b, tb = chainrule.backends, torch.backends
    assert b.cudnn.is_available() == tb.cudnn.is_available()
    assert b.cudnn.version() == tb.cudnn.version()
    assert b.cudnn.is_acceptable(chainrule.ones(1)) == tb.cudnn.is_acceptable(torch.ones(1))
    with b.cudnn.flags(enabled=False, benchmark=True):
        assert b.cudnn.enabled is False and b.cudnn.benchmark is True
    assert b.cudnn.enabled is True and b.cudnn.benchmark is False


def test_mps_cpu_opt_einsum():
    import torch
    b, tb = chainrule.backends, torch.backends
    assert b.mps.is_available() == tb.mps.is_available()
    assert b.mps.is_built() == tb.mps.is_built()
    assert b.cpu.get_cpu_capability() == tb.cpu.get_cpu_capability()
    assert b.opt_einsum.is_available() == tb.opt_einsum.is_available()
    assert b.opt_einsum.enabled == tb.opt_einsum.enabled
    assert b.opt_einsum.strategy == tb.opt_einsum.strategy


def test_backends_cuda_matmul():
    import torch
    b, tb = chainrule.backends.cuda, torch.backends.cuda
    assert b.is_built() == tb.is_built()
    for name in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction"):
        assert getattr(b.matmul, name) == getattr(tb.matmul, name)
        assert _cls(_outcome(setattr, b.matmul, name, 1)) == \
            _cls(_outcome(setattr, tb.matmul, name, 1))
    assert _outcome(getattr, b.matmul, "bogus") == _outcome(getattr, tb.matmul, "bogus")
    assert _outcome(setattr, b.matmul, "bogus", 1) == _outcome(setattr, tb.matmul, "bogus", 1)
    try:
        b.matmul.allow_tf32 = True
        assert chainrule.get_float32_matmul_precision() == "high"
    finally:
        b.matmul.allow_tf32 = False
    assert chainrule.get_float32_matmul_precision() == "highest"
    for q in ("flash", "mem_efficient", "math", "cudnn"):
        assert getattr(b, f"{q}_sdp_enabled")() == getattr(tb, f"{q}_sdp_enabled")()
    b.enable_flash_sdp(False)
    assert b.flash_sdp_enabled() is False
    b.enable_flash_sdp(True)
    with pytest.raises(RuntimeError):
        b.enable_flash_sdp(1)


# -- compile ------------------------------------------------------------------------------------
def test_compile_returns_input_unchanged():
    def f(x):
        return x + 1
    lin = chainrule.nn.Linear(2, 2)
    assert chainrule.compile(f) is f
    assert chainrule.compile(lin) is lin
    assert chainrule.compile(f, disable=True) is f
    assert chainrule.compile(mode="reduce-overhead")(f) is f

    @chainrule.compile
    def g(x):
        return x * 2
    assert g(3) == 6


@pytest.mark.parametrize("kwargs", [dict(mode="default", options={}), dict(mode="bogus")])
def test_compile_argument_errors_match_torch(kwargs):
    import torch
    ours = _outcome(chainrule.compile, lambda x: x, **kwargs)
    theirs = _outcome(torch.compile, lambda x: x, **kwargs)
    assert ours == theirs and ours[0] == "raise"


def test_compile_non_callable():
    with pytest.raises(AssertionError, match="A callable function is expected"):
        chainrule.compile(3)


# -- testing.assert_close -----------------------------------------------------------------------
def _pair(mod, spec):
    """Build the same (possibly nested) inputs in chainrule or torch from a spec."""
    if isinstance(spec, tuple) and spec and spec[0] == "T":
        return mod.tensor(spec[1], dtype=getattr(mod, spec[2]))
    if isinstance(spec, list):
        return [_pair(mod, s) for s in spec]
    if isinstance(spec, dict):
        return {k: _pair(mod, v) for k, v in spec.items()}
    return spec


def T(values, dtype="float32"):
    return ("T", values, dtype)


nan = float("nan")
CLOSE_CASES = [
    (T([1., 2., 3.]), T([1., 2., 3.]), {}),
    (T([1., 2., 3.]), T([1., 2.5, 3.1]), {}),
    (T([1., 2.]), T([1., 2. + 1e-6]), {}),
    (T([1., 2.]), T([1., 2. + 1e-4]), {}),
    (T([1., 2.], "float64"), T([1., 2. + 1e-6], "float64"), {}),
    (T([1., 2., 3.]), T([1., 2., 3.], "float64"), {}),
    (T([1., 2., 3.]), T([1., 2., 3.], "float64"), dict(check_dtype=False)),
    (T([1, 2]), T([1., 2.5]), dict(check_dtype=False)),
    (T([1., 2., 3.]), T([1., 2.]), {}),
    (T([1, 2, 3], "int64"), T([1, 2, 4], "int64"), {}),
    (T([True]), T([False]), {}),
    (T([[1., 2.], [3., 4.]]), T([[1., 2.], [3., 5.]]), {}),
    (T([[1., 2.], [3., 4.]]), T([[1., 2.], [3., 5.]]), dict(msg="custom")),
    (T([nan]), T([nan]), {}),
    (T([nan]), T([nan]), dict(equal_nan=True)),
    (T([1., 2., nan]), T([1.5, 2., 1.]), {}),
    (T([0., 1.]), T([0., nan]), {}),
    (T([1., -2.]), T([2., 0.]), {}),
    (T([0.]), T([float("inf")]), {}),
    (T([1., 2.]), T([1., 3.]), dict(rtol=0, atol=0)),
    (T([1., 2.]), T([1., 3.]), dict(rtol=0.1, atol=0)),
    (T([1., 2.]), T([1., 3.]), dict(rtol=1.0, atol=0)),
    (T([1., 2.]), T([1., 3.]), dict(atol=1e-3)),
    (T([1., 2.]), T([1., 3.]), dict(rtol=1e-3)),
    (T(1.), T(2.), {}),
    (T([[0.] * 4] * 3, "float64"), T([[1.] * 4] * 3, "float64"), {}),
    (1.0, 1.1, {}), (1, 2, {}), (1, 1, {}), (1.0, 1, {}), (1, 1.0, {}),
    (nan, nan, {}), (nan, nan, dict(equal_nan=True)), (True, False, {}), (True, True, {}),
    ([T(1.)], [T(2.)], {}),
    ({"a": T(1.)}, {"a": T(2.)}, {}),
    ([[1., 2.]], [[1., 3.]], {}),
    ({"a": [1.0, {"b": 2.0}]}, {"a": [1.0, {"b": 3.0}]}, {}),
    ([1, 2], [1], {}),
    ({"a": 1}, {"b": 1}, {}),
    ((1., 2.), [1., 2.], {}),
    (T(1.), 1.0, {}),
    (T([1., 2.]), [1., 2.], {}),
    ("a", "a", {}),
    (None, None, {}),
]


@pytest.mark.parametrize("actual,expected,kwargs", CLOSE_CASES,
                         ids=[str(i) for i in range(len(CLOSE_CASES))])
def test_assert_close_matches_torch(actual, expected, kwargs):
    import torch
    ours = _outcome(chainrule.testing.assert_close, _pair(chainrule, actual),
                    _pair(chainrule, expected), **kwargs)
    theirs = _outcome(torch.testing.assert_close, _pair(torch, actual), _pair(torch, expected),
                      **kwargs)
    assert _cls(ours) == _cls(theirs)
    if theirs[0] == "raise":
        # same message, up to the library's name in dtype / Size reprs
        assert ours[2].replace("chainrule", "torch") == theirs[2]


def test_assert_close_callable_msg_stride_and_subclasses():
    import torch
    a, b = chainrule.tensor([1., 2.]), chainrule.tensor([1., 3.])
    with pytest.raises(AssertionError) as info:
        chainrule.testing.assert_close(a, b, msg=lambda m: "X" + m)
    assert info.value.args[0].startswith("XTensor-likes are not close!")
    ours = _outcome(chainrule.testing.assert_close, chainrule.ones(2, 3),
                    chainrule.ones(3, 2).t(), check_stride=True)
    theirs = _outcome(torch.testing.assert_close, torch.ones(2, 3), torch.ones(3, 2).t(),
                      check_stride=True)
    assert ours == theirs
    p = chainrule.nn.Parameter(chainrule.ones(1))
    chainrule.testing.assert_close(p, chainrule.ones(1))
    assert _cls(_outcome(chainrule.testing.assert_close, p, chainrule.ones(1),
                         allow_subclasses=False)) == ("raise", "TypeError")
    x = np.array([1., 2.])
    assert _outcome(chainrule.testing.assert_close, x, x + [0, .5]) == \
        _outcome(torch.testing.assert_close, x, x + [0, .5])


# -- testing.make_tensor ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "uint8", "bool"])
def test_make_tensor_default_ranges(dtype):
    import torch
    ours = chainrule.testing.make_tensor(2000, dtype=getattr(chainrule, dtype), device="cpu")
    theirs = torch.testing.make_tensor(2000, dtype=getattr(torch, dtype), device="cpu")
    assert ours.dtype == getattr(chainrule, dtype) and ours.shape == (2000,)
    o, t = ours.numpy(), theirs.numpy()
    if dtype == "bool":
        assert set(o.tolist()) == set(t.tolist()) == {False, True}
        return
    # same support: integer ranges exactly, float ranges within a small margin
    if o.dtype.kind in "iu":
        assert (o.min(), o.max()) == (t.min(), t.max())
    else:
        assert abs(o.min() - t.min()) < 0.2 and abs(o.max() - t.max()) < 0.2
        assert -9 <= o.min() and o.max() < 9


def test_make_tensor_options():
    import torch
    mk, tmk = chainrule.testing.make_tensor, torch.testing.make_tensor
    t = mk((3, 4), dtype=chainrule.float32, device="cpu", noncontiguous=True)
    tt = tmk((3, 4), dtype=torch.float32, device="cpu", noncontiguous=True)
    assert t.is_contiguous() == tt.is_contiguous() is False
    assert t.stride() == tt.stride()
    assert mk(3, dtype=chainrule.float32, device="cpu", requires_grad=True).requires_grad
    t = mk(500, dtype=chainrule.int64, device="cpu", low=-1, high=1, exclude_zero=True)
    assert set(t.numpy().tolist()) == {-1, 1}
    t = mk(500, dtype=chainrule.int8, device="cpu", low=-500, high=3000)
    assert t.numpy().min() >= -128
    t = mk(500, dtype=chainrule.uint8, device="cpu", low=-5, high=3)
    tt = tmk(500, dtype=torch.uint8, device="cpu", low=-5, high=3)
    assert set(t.numpy().tolist()) == set(tt.numpy().tolist())
    assert mk((), dtype=chainrule.float32, device="cpu").shape == ()
    bad = [dict(args=(2,), kw=dict(dtype="float32", low=5, high=1)),
           dict(args=(2,), kw=dict(dtype="float32", low=float("nan"))),
           dict(args=(2,), kw=dict(dtype="float32", low=float("inf"))),
           dict(args=(3,), kw=dict(dtype="int64", requires_grad=True))]
    for case in bad:
        kw = dict(case["kw"])
        d = kw.pop("dtype")
        ours = _outcome(mk, *case["args"], dtype=getattr(chainrule, d), device="cpu", **kw)
        theirs = _outcome(tmk, *case["args"], dtype=getattr(torch, d), device="cpu", **kw)
        assert ours == theirs and ours[0] == "raise"
    with pytest.raises(TypeError):
        mk(2, dtype=chainrule.float32)
    with pytest.warns(FutureWarning):
        t = mk(4, dtype=chainrule.float32, device="cpu", low=2, high=2)
    assert t.tolist() == [2.0] * 4


# -- top level ----------------------------------------------------------------------------------
def test_autocast_queries():
    import torch
    assert chainrule.is_autocast_enabled() == torch.is_autocast_enabled()
    assert chainrule.is_autocast_enabled("cpu") == torch.is_autocast_enabled("cpu")
    with pytest.warns(DeprecationWarning):
        assert chainrule.is_autocast_cpu_enabled() is False


@pytest.mark.parametrize("arg", ["torch.DoubleTensor", "torch.FloatTensor", "torch.HalfTensor",
                                 "torch.IntTensor", "torch.Bogus", "torch.cuda.FloatTensor", 3])
def test_set_default_tensor_type(arg):
    import torch
    try:
        ours = _outcome(chainrule.set_default_tensor_type, arg)
        ours_dt = chainrule.get_default_dtype()
        theirs = _outcome(torch.set_default_tensor_type, arg)
        theirs_dt = torch.get_default_dtype()
    finally:
        torch.set_default_dtype(torch.float32)
        chainrule.set_default_dtype(chainrule.float32)
    assert ours == theirs
    assert ours_dt.name == str(theirs_dt).split(".")[1]


def test_set_default_tensor_type_warns():
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            chainrule.set_default_tensor_type("torch.DoubleTensor")
    finally:
        chainrule.set_default_dtype(chainrule.float32)


DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


def test_can_cast_all_pairs():
    import torch
    for a in DTYPES:
        for b in DTYPES:
            assert chainrule.can_cast(getattr(chainrule, a), getattr(chainrule, b)) == \
                torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)
    assert _outcome(chainrule.can_cast, 1, chainrule.float32) == \
        _outcome(torch.can_cast, 1, torch.float32)
    assert _outcome(chainrule.can_cast, chainrule.float32, "x") == \
        _outcome(torch.can_cast, torch.float32, "x")


@pytest.mark.parametrize("name", ["is_conj", "is_neg", "resolve_conj", "resolve_neg", "conj",
                                  "conj_physical", "real"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_conj_family_real_inputs(name, dtype):
    import torch
    x = chainrule.tensor([1, -2], dtype=getattr(chainrule, dtype))
    tx = torch.tensor([1, -2], dtype=getattr(torch, dtype))
    ours, theirs = getattr(chainrule, name)(x), getattr(torch, name)(tx)
    if isinstance(theirs, bool):
        assert ours is theirs
    else:
        assert (ours is x) == (theirs is tx)
    if name != "real":
        m_ours = getattr(x, name)()
        m_theirs = getattr(tx, name)()
        assert (m_ours is x if not isinstance(m_theirs, bool) else m_ours) == \
            (m_theirs is tx if not isinstance(m_theirs, bool) else m_theirs)
    assert _outcome(getattr(chainrule, name), 3) == _outcome(getattr(torch, name), 3)


def test_real_imag_properties_and_conj_physical_():
    import torch
    x, tx = chainrule.ones(2), torch.ones(2)
    assert (x.real is x) == (tx.real is tx)
    assert _outcome(lambda: x.imag) == _outcome(lambda: tx.imag)
    assert _outcome(chainrule.imag, x) == _outcome(torch.imag, tx)
    assert x.conj_physical_() is x and chainrule.conj_physical_(x) is x
    tx.conj_physical_()
    tx.conj_physical_()
    assert x._version == tx._version == 2 and x.tolist() == [1., 1.]
    y = chainrule.tensor([1., 2.], requires_grad=True)
    (chainrule.conj(y) * 3).sum().backward()
    assert y.grad.tolist() == [3., 3.]
