"""Runtime switches, Tensor.new_* factories, in-place view ops (t_, squeeze_, resize_...) and
the top-level aliases (detach, asarray, frombuffer, conv2d, exp_, ...), compared with torch."""
import array
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import _aliases, _runtime
from conftest import needs_torch, to_np

c = chainrule


def _raises_like(fn):
    """fn(m) raises the same exception class in chainrule and torch; returns that class."""
    import torch
    kinds = []
    for m in (c, torch):
        with pytest.raises(Exception) as e:
            fn(m)
        kinds.append(e.type)
    assert kinds[0] is kinds[1], kinds
    return kinds[0]


def _same(a, b, exact_dtype=True):
    """chainrule and torch values (tensors, tuples, numbers) agree."""
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y, exact_dtype)
        return
    if isinstance(a, c.Tensor):
        x, y = to_np(a), to_np(b)
        assert x.shape == y.shape, (x.shape, y.shape)
        if exact_dtype:
            assert x.dtype == y.dtype, (x.dtype, y.dtype)
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7, equal_nan=True)
        return
    assert a == b, (a, b)


@pytest.fixture
def restore_runtime():
    state = dict(_runtime._state)
    yield
    _runtime._state.update(state)
    if state["threads"] is not None:
        c.set_num_threads(state["threads"])
    c.set_default_device(None)
    c.set_anomaly_enabled(False)


@pytest.fixture
def torch_runtime():
    import torch
    prev = (torch.get_num_threads(), torch.get_float32_matmul_precision(),
            torch.is_warn_always_enabled(), torch.get_deterministic_debug_mode())
    yield torch
    torch.set_num_threads(prev[0])
    torch.set_float32_matmul_precision(prev[1])
    torch.set_warn_always(prev[2])
    torch.set_deterministic_debug_mode(prev[3])
    torch.set_default_device(None)
    torch.set_anomaly_enabled(False)


# -- thread counts ----------------------------------------------------------------------------
def _cores():
    import os
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def test_num_threads_default_set_and_blas(restore_runtime):
    _runtime._state["threads"] = None
    assert c.get_num_threads() == _cores()
    blas = _runtime._blas_threads()
    c.set_num_threads(1)
    assert c.get_num_threads() == 1
    if blas is not None:                     # NumPy's OpenBLAS follows the setting
        assert _runtime._blas_threads() == 1
        c.set_num_threads(2)
        assert _runtime._blas_threads() == min(2, max(blas, 2))
        c.set_num_threads(blas)
    c.set_num_threads(np.int64(3))
    assert c.get_num_threads() == 3


@needs_torch
@pytest.mark.parametrize("arg", [0, -1, 2.0, "2", True])
def test_num_threads_bad_values(torch_runtime, restore_runtime, arg):
    _raises_like(lambda m: m.set_num_threads(arg))
    _raises_like(lambda m: m.set_num_interop_threads(arg))


def test_interop_threads_once_only(restore_runtime):
    _runtime._state["interop"] = None
    assert c.get_num_interop_threads() == _cores()
    c.set_num_interop_threads(3)
    assert c.get_num_interop_threads() == 3
    with pytest.raises(RuntimeError, match="cannot set number of interop threads"):
        c.set_num_interop_threads(2)
    assert c.get_num_interop_threads() == 3


# -- deterministic mode -----------------------------------------------------------------------
def _det_state(m):
    return (m.are_deterministic_algorithms_enabled(),
            m.is_deterministic_algorithms_warn_only_enabled(), m.get_deterministic_debug_mode())


@needs_torch
def test_deterministic_flags_follow_torch(torch_runtime, restore_runtime):
    torch = torch_runtime
    for call in [lambda m: m.use_deterministic_algorithms(True),
                 lambda m: m.use_deterministic_algorithms(True, warn_only=True),
                 lambda m: m.use_deterministic_algorithms(False, warn_only=True),
                 lambda m: m.use_deterministic_algorithms(mode=False)] + \
            [lambda m, v=v: m.set_deterministic_debug_mode(v)
             for v in (2, "warn", "error", True, "default", 1, 0)]:
        call(c), call(torch)
        assert _det_state(c) == _det_state(torch)
    for bad in [lambda m: m.use_deterministic_algorithms(1),
                lambda m: m.use_deterministic_algorithms("yes"),
                lambda m: m.use_deterministic_algorithms(True, False),
                lambda m: m.use_deterministic_algorithms(True, warn_only=1),
                lambda m: m.set_deterministic_debug_mode(3),
                lambda m: m.set_deterministic_debug_mode(-1),
                lambda m: m.set_deterministic_debug_mode("x"),
                lambda m: m.set_deterministic_debug_mode(1.0)]:
        _raises_like(bad)
        assert _det_state(c) == _det_state(torch)


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_deterministic_mode_fills_uninitialised_memory(torch_runtime, restore_runtime, dtype):
    torch = torch_runtime
    for m in (c, torch):
        m.use_deterministic_algorithms(True)
    for fn in [lambda m: m.empty_strided((2, 3), (1, 2), dtype=getattr(m, dtype)),
               lambda m: m.ones(1, dtype=getattr(m, dtype)).new_empty(2, 2),
               lambda m: m.ones(1, dtype=getattr(m, dtype)).new_empty_strided((3,), (2,)),
               lambda m: m.zeros(2, dtype=getattr(m, dtype)).resize_(5)]:
        _same(fn(c), fn(torch))


def test_deterministic_off_leaves_values_alone(restore_runtime):
    c.use_deterministic_algorithms(False)
    x = c.arange(4.0)
    x.resize_(2)
    assert x.tolist() == [0.0, 1.0]


# -- default device ---------------------------------------------------------------------------
@needs_torch
def test_default_device_cpu_and_errors(torch_runtime, restore_runtime):
    torch = torch_runtime
    for m in (c, torch):
        m.set_default_device("cpu")
        assert m.zeros(1).device.type == "cpu" and m.get_default_device().type == "cpu"
        m.set_default_device(m.device("cpu"))
        assert m.get_default_device().type == "cpu"
        m.set_default_device(None)
        assert m.get_default_device().type == "cpu"
    for bad in ["foo", 3, 1.5]:
        _raises_like(lambda m: m.set_default_device(bad))
    assert c.get_default_device().type == "cpu"


@needs_torch
def test_default_cuda_device_fails_on_use_as_on_a_cpu_build(torch_runtime, restore_runtime):
    torch = torch_runtime
    if torch.cuda.is_available():
        pytest.skip("torch has CUDA here")
    x = {m: m.ones(2) for m in (c, torch)}
    for m in (c, torch):
        m.set_default_device("cuda")
    for use in [lambda m: m.zeros(2), lambda m: m.tensor([1.0]), lambda m: m.randn(2),
                lambda m: m.get_default_device(), lambda m: m.nn.Linear(2, 2),
                lambda m: m.arange(3)]:
        assert _raises_like(use) is AssertionError
    for m in (c, torch):      # tensors made before keep working; dtype casts need no device
        assert x[m].to(m.float64).dtype == m.float64
        m.set_default_device(None)
        assert m.zeros(1).device.type == "cpu"


def test_default_device_other_kinds_fail_on_use(restore_runtime):
    c.set_default_device("meta")
    with pytest.raises(RuntimeError, match="only 'cpu'"):
        c.zeros(1)
    c.set_default_device(None)
    assert c.zeros(1).shape == (1,)


# -- anomaly mode -----------------------------------------------------------------------------
@needs_torch
def test_anomaly_switches_follow_torch(torch_runtime, restore_runtime):
    torch = torch_runtime
    for m in (c, torch):
        assert m.is_anomaly_enabled() is False and m.is_anomaly_check_nan_enabled() is True
        m.set_anomaly_enabled(True)
        assert m.is_anomaly_enabled() is True and m.is_anomaly_check_nan_enabled() is True
        m.set_anomaly_enabled(False, check_nan=False)
        assert m.is_anomaly_enabled() is False and m.is_anomaly_check_nan_enabled() is False
        m.set_anomaly_enabled(enabled=False)
        assert m.is_anomaly_check_nan_enabled() is True
    _raises_like(lambda m: m.set_anomaly_enabled(1))
    _raises_like(lambda m: m.set_anomaly_enabled(True, check_nan=1))
    for m in (c, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with m.autograd.detect_anomaly(check_nan=False):
                assert m.is_anomaly_check_nan_enabled() is False
        assert m.is_anomaly_check_nan_enabled() is True


def test_set_anomaly_enabled_turns_on_the_nan_check(restore_runtime):
    x = c.tensor([0.0], requires_grad=True)
    c.set_anomaly_enabled(True)
    assert c.autograd.is_anomaly_enabled()
    with pytest.raises(RuntimeError, match="returned nan values"):
        (c.sqrt(x) * 0).sum().backward()
    c.set_anomaly_enabled(False)
    x.grad = None
    (c.sqrt(x) * 0).sum().backward()      # off: no check
    assert np.isnan(x.grad.item())


# -- matmul precision, warn-always ------------------------------------------------------------
@needs_torch
def test_float32_matmul_precision_and_warn_always(torch_runtime, restore_runtime):
    torch = torch_runtime
    for m in (c, torch):
        assert m.get_float32_matmul_precision() == "highest"
        for p in ("medium", "high"):
            m.set_float32_matmul_precision(p)
            assert m.get_float32_matmul_precision() == p
        with pytest.warns(UserWarning):
            m.set_float32_matmul_precision("HIGH")
        assert m.get_float32_matmul_precision() == "high"
        m.set_float32_matmul_precision(precision="highest")
        assert m.is_warn_always_enabled() is False
        m.set_warn_always(True)
        assert m.is_warn_always_enabled() is True
        m.set_warn_always(False)
    _raises_like(lambda m: m.set_float32_matmul_precision(1))
    _raises_like(lambda m: m.set_float32_matmul_precision(None))
    _raises_like(lambda m: m.set_warn_always(1))
    _raises_like(lambda m: m.set_warn_always("x"))
    _raises_like(lambda m: m.set_warn_always(b=True))
    _raises_like(lambda m: m.set_num_threads(n=2))
    _raises_like(lambda m: m.set_flush_denormal(1))
    assert c.set_flush_denormal(False) is False and c.set_flush_denormal(True) is False


# -- Tensor.new_* -----------------------------------------------------------------------------
NEW_CALLS = [
    lambda m, x: x.new_zeros(2), lambda m, x: x.new_zeros((2, 3)),
    lambda m, x: x.new_zeros(2, 3), lambda m, x: x.new_zeros([2], dtype=m.int64),
    lambda m, x: x.new_zeros(size=(2,)), lambda m, x: x.new_zeros(()),
    lambda m, x: x.new_ones(3), lambda m, x: x.new_ones(m.Size([1, 2]), dtype=m.float64),
    lambda m, x: x.new_full((2,), 3), lambda m, x: x.new_full((2,), 3.7),
    lambda m, x: x.new_full((2,), True), lambda m, x: x.new_full(size=(1,), fill_value=2),
    lambda m, x: x.new_full([2], m.tensor(4.5)),
    lambda m, x: x.new_tensor([1, 2]), lambda m, x: x.new_tensor([1.5, -2.5]),
    lambda m, x: x.new_tensor(3), lambda m, x: x.new_tensor(True),
    lambda m, x: x.new_tensor(np.array([1, 2])), lambda m, x: x.new_tensor([1], dtype=m.int32),
    lambda m, x: x.new_empty(2, 3).shape, lambda m, x: x.new_empty((0,)).dtype == x.dtype,
    lambda m, x: x.new_empty_strided((2, 3), (1, 2)).stride(),
    lambda m, x: x.new_empty_strided((2, 3), (3, 1), dtype=m.float64).dtype == m.float64,
    lambda m, x: x.new_ones(2, requires_grad=True).requires_grad,
]


@needs_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("k", range(len(NEW_CALLS)))
def test_new_factories_match_torch(dtype, k):
    import torch
    fn = NEW_CALLS[k]
    out = []
    for m in (c, torch):
        x = m.ones(2, 2, dtype=getattr(m, dtype))
        try:
            out.append(("ok", fn(m, x)))
        except Exception as e:
            out.append(("err", type(e)))
    (k1, a), (k2, b) = out
    assert k1 == k2, out
    if k1 == "err":
        assert a is b
    elif isinstance(a, c.Size):
        assert tuple(a) == tuple(b)
    else:
        _same(a, b)


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m, x: x.new_zeros(-1), lambda m, x: x.new_zeros(2.0),
    lambda m, x: x.new_full(2, 3), lambda m, x: x.new_ones(2, dtype=m.int64,
                                                           requires_grad=True),
    lambda m, x: x.new_empty_strided((2, 3), (3,)), lambda m, x: x.new_zeros("a"),
    lambda m, x: x.new_ones((2, None)),
])
def test_new_factories_errors(bad):
    _raises_like(lambda m: bad(m, m.ones(2)))


def test_new_tensor_from_a_tensor_warns_and_copies():
    x = c.ones(2, requires_grad=True) * 2
    with pytest.warns(UserWarning, match="detach"):
        y = c.zeros(1, dtype=c.float64).new_tensor(x)
    assert y.dtype == c.float64 and not y.requires_grad and y.is_leaf
    assert not np.shares_memory(y.numpy(), x.detach().numpy())


# -- in-place view ops ------------------------------------------------------------------------
VIEW_METHODS = [("squeeze_", (), [(1, 3, 1), (1, 3), ()]), ("squeeze_", (0,), [(1, 3), (3,)]),
                ("squeeze_", ((0, 2),), [(1, 3, 1), (2, 1, 3)]),
                ("unsqueeze_", (0,), [(2, 3), ()]), ("unsqueeze_", (-1,), [(2, 3), (3,)]),
                ("t_", (), [(2, 3), (3,), ()]), ("transpose_", (0, 1), [(2, 3), (2, 1, 3)]),
                ("transpose_", (-1, 0), [(2, 3), (1, 2, 3)]), ("swapdims_", (0, 1), [(2, 3)]),
                ("swapaxes_", (1, 0), [(2, 3)])]


@needs_torch
@pytest.mark.parametrize("name,args,shapes", VIEW_METHODS)
def test_inplace_view_ops_rebase_history_like_torch(name, args, shapes):
    import torch
    for shape in shapes:
        res = []
        for m in (c, torch):
            x = m.arange(float(np.prod(shape))).reshape(shape).requires_grad_()
            y = x * 2
            v0 = y._version
            r = getattr(y, name)(*args)
            assert r is y and y._version == v0 + 1 and not y.is_leaf
            w = m.arange(float(y.numel())).reshape(y.shape) + 1
            (y * w).sum().backward()
            res.append((tuple(y.shape), to_np(y), to_np(x.grad), y.is_contiguous()))
        assert res[0][0] == res[1][0]
        for a, b in zip(res[0][1:], res[1][1:]):
            np.testing.assert_array_equal(a, b)


@needs_torch
@pytest.mark.parametrize("name,args,shapes", VIEW_METHODS)
def test_inplace_view_ops_errors_on_leaves_and_dims(name, args, shapes):
    _raises_like(lambda m: getattr(m.ones(1, 2, 1, requires_grad=True), name)(*args))
    _raises_like(lambda m: getattr(m.ones(1, 2, 1, requires_grad=True)[0], name)(*args))
    for bad in [lambda m: m.ones(2, 2, 2).t_(), lambda m: m.ones(2, 3).transpose_(0, 2),
                lambda m: m.ones(2, 3).unsqueeze_(3), lambda m: m.ones(2, 3).squeeze_(5),
                lambda m: m.ones(2, 3).swapdims_(-3, 0)]:
        _raises_like(bad)


def test_inplace_view_ops_gradcheck():
    x = c.tensor(np.random.default_rng(0).uniform(-1, 1, (2, 3)), requires_grad=True)
    w = c.tensor(np.random.default_rng(1).uniform(-1, 1, (3, 1, 2)))
    for f in [lambda t: (t * 1).t_(), lambda t: (t * t).unsqueeze_(1).transpose_(0, 2) * w,
              lambda t: (t.sin()).unsqueeze_(0).squeeze_(0).swapaxes_(0, 1),
              lambda t: (t * 3)[0].unsqueeze_(1).t_()]:
        assert c.autograd.gradcheck(f, (x,))
        assert c.autograd.gradgradcheck(f, (x,))


@needs_torch
def test_inplace_view_on_a_leaf_under_no_grad_keeps_it_a_leaf():
    import torch
    for m in (c, torch):
        x = m.ones(2, 3, requires_grad=True)
        with m.no_grad():
            x.t_()
        assert x.is_leaf and x.requires_grad and x.shape == (3, 2) and x._version == 1
        (x * m.arange(6.0).reshape(3, 2)).sum().backward()
        assert x.grad.shape == (3, 2)


@needs_torch
def test_inplace_view_op_on_a_view_keeps_the_base_in_the_graph():
    import torch
    res = []
    for m in (c, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        w = m.tensor(5.0, requires_grad=True)
        y = x * 1
        v = y[0]
        v.unsqueeze_(0)
        assert v.shape == (1, 3)
        v.mul_(w)
        (y * m.arange(6.0).reshape(2, 3)).sum().backward()
        res.append((to_np(y), to_np(x.grad), to_np(w.grad)))
    for a, b in zip(*res):
        np.testing.assert_array_equal(a, b)


@needs_torch
def test_views_taken_before_an_inplace_view_op_still_write_into_its_graph():
    import torch
    res = []
    for m in (c, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        w = m.tensor(5.0, requires_grad=True)
        y = x * 1
        y.add_(0)
        a = y[1, 0:1]         # taken before the re-layouts
        y.t_()
        b = y[2]              # taken in between
        y.unsqueeze_(0)
        a.mul_(w)
        b.mul_(3)
        y.mul_(2)
        (y * m.arange(6.0).reshape(1, 3, 2)).sum().backward()
        res.append((to_np(y), to_np(x.grad), to_np(w.grad), to_np(a), to_np(b)))
    for p, q in zip(*res):
        np.testing.assert_array_equal(p, q)


# -- resize_ ----------------------------------------------------------------------------------
RESIZES = [
    lambda m: m.arange(6.0).resize_(2, 2),
    lambda m: m.arange(6.0).resize_((3, 2)),
    lambda m: m.arange(6.0).resize_(m.Size([6])),
    lambda m: m.arange(6.0).reshape(2, 3).t().resize_(6),
    lambda m: m.arange(6.0).reshape(2, 3).t().resize_(2, 2),
    lambda m: m.arange(6.0).reshape(2, 3).t().resize_(3, 2).stride(),
    lambda m: m.arange(6.0).resize_(3, 3)[:2],
    lambda m: m.arange(4).resize_as_(m.ones(1, 3)),
    lambda m: m.ones(0).resize_(2, 0),
    lambda m: m.arange(4.0).reshape(2, 2).resize_(0),
    lambda m: m.tensor(3.0).resize_(1),
]


@needs_torch
@pytest.mark.parametrize("k", range(len(RESIZES)))
def test_resize_matches_torch(k):
    import torch
    a, b = RESIZES[k](c), RESIZES[k](torch)
    _same(a, b)


@needs_torch
def test_resize_memory_and_versions():
    import torch
    for m in (c, torch):
        z = m.arange(6.0)
        v = z[:3]
        v.resize_(2)
        v[0] = 9
        assert z.tolist()[:3] == [9.0, 1.0, 2.0] and z._version == v._version == 2
        z = m.arange(6.0).reshape(2, 3)
        z.resize_(2, 3)
        assert z._version == 0                     # same shape: nothing happens
        z.resize_(4)
        assert z._version == 1
    z = c.arange(6.0)
    p = z.numpy()
    z.resize_(2, 2)
    assert np.shares_memory(z.numpy(), p)          # shrinking keeps the memory


@needs_torch
def test_resize_errors():
    _raises_like(lambda m: m.ones(2, requires_grad=True).resize_(3))
    _raises_like(lambda m: (m.ones(2, requires_grad=True) * 1).resize_(2))
    _raises_like(lambda m: m.ones(2, requires_grad=True).resize_as_(m.ones(1)))
    _raises_like(lambda m: m.ones(2).resize_(-1))
    _raises_like(lambda m: m.ones(2).resize_(2.0))
    _raises_like(lambda m: m.ones(2).resize_as_([1]))

    def view_of_leaf(m):
        x = m.ones(2, requires_grad=True)
        with m.no_grad():
            v = x.view(2)
        v.resize_(1)
    _raises_like(view_of_leaf)


def test_resize_views_of_old_memory_stand_alone_after_growth():
    z = c.arange(6.0)
    v = z[3:]
    z.resize_(10)                         # new memory: v keeps the old one
    w = c.tensor(2.0, requires_grad=True)
    v.mul_(w)
    assert v.tolist() == [6.0, 8.0, 10.0] and z[:6].tolist() == list(range(6))
    v.sum().backward()
    assert w.grad.item() == 12.0


# -- tensor helpers ---------------------------------------------------------------------------
@needs_torch
def test_detach_and_detach_():
    import torch
    for m in (c, torch):
        x = m.ones(2, requires_grad=True)
        y = x * 2
        d = m.detach(y)
        assert not d.requires_grad and d.is_leaf and d.data_ptr() == y.data_ptr()
        assert m.detach_(y) is y and not y.requires_grad and y.grad_fn is None
    _raises_like(lambda m: m.detach([1.0]))
    _raises_like(lambda m: m.detach_(3))


SCALARS = [3, 3.5, True, np.float32(2.5), np.int64(4)]


@needs_torch
@pytest.mark.parametrize("s", SCALARS)
def test_scalar_tensor(s):
    import torch
    _same(c.scalar_tensor(s), torch.scalar_tensor(s))
    _same(c.scalar_tensor(s, dtype=c.float64), torch.scalar_tensor(s, dtype=torch.float64))
    _same(c.scalar_tensor(s, dtype=c.int32), torch.scalar_tensor(s, dtype=torch.int32))
    assert c.scalar_tensor(1.0, requires_grad=True).requires_grad
    _raises_like(lambda m: m.scalar_tensor([1]))
    _raises_like(lambda m: m.scalar_tensor("a"))


@needs_torch
@pytest.mark.parametrize("size,stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((2,), (0,)),
                                         ((0, 3), (3, 1)), ((), ()), ((2, 2), (4, 1))])
def test_empty_strided(size, stride):
    import torch
    a, b = c.empty_strided(size, stride), torch.empty_strided(size, stride)
    assert a.shape == b.shape and a.stride() == b.stride() and a.dtype == c.float32
    assert a.is_contiguous() == b.is_contiguous()
    if 0 not in stride:
        assert a.zero_().sum().item() == 0
    assert c.empty_strided(size, stride, dtype=c.int64).dtype == c.int64


@needs_torch
@pytest.mark.parametrize("bad", [lambda m: m.empty_strided((2, 3), (1,)),
                                 lambda m: m.empty_strided((2, -1), (1, 1)),
                                 lambda m: m.empty_strided((2, 3), (1.0, 2))])
def test_empty_strided_errors(bad):
    _raises_like(bad)


def test_empty_strided_with_stride_zero_is_read_only_for_inplace_ops():
    t = c.empty_strided((3,), (0,))
    with pytest.raises(RuntimeError, match="single memory location"):
        t.add_(1)


# -- asarray ----------------------------------------------------------------------------------
def _asarray_cases(m):
    a = np.arange(3.0)
    return [
        (a, {}), (a, {"copy": True}), (a, {"dtype": m.float32}), (a, {"requires_grad": True}),
        (a, {"dtype": m.float64, "copy": False}), (a[::2], {}),
        (np.arange(3, dtype=np.int32), {}), (np.array(True), {}),
        ([1, 2], {}), ([1.0, 2], {}), ([1, 2], {"dtype": m.float64}), (3.5, {}), (3, {}),
        (True, {}), ([[1, 2], [3, 4]], {}), ([np.float64(1)], {}),
        (np.float32(2), {}), (np.int16(7), {"dtype": m.float64}),
        (bytearray(b"\x01\x00\x00\x00\x02\x00\x00\x00"), {"dtype": m.int32}),
        (bytearray(8), {}), (array.array("d", [1.0, 2.0]), {"dtype": m.float64}),
        (bytearray(4), {"dtype": m.uint8, "copy": True}),
    ]


@needs_torch
@pytest.mark.parametrize("k", range(22))
def test_asarray_non_tensor_inputs(k):
    import torch
    cases = {m: _asarray_cases(m) for m in (c, torch)}
    (obj, kw), (_, kwt) = cases[c][k], cases[torch][k]
    a, b = c.asarray(obj, **kw), torch.asarray(obj, **kwt)
    _same(a, b)
    assert a.requires_grad == b.requires_grad and a.is_leaf
    if isinstance(obj, np.ndarray):
        assert np.shares_memory(a.detach().numpy(), obj) == \
            np.shares_memory(b.detach().numpy(), obj)


@needs_torch
def test_asarray_shares_buffer_memory():
    buf = bytearray(8)
    t = c.asarray(buf, dtype=c.int32)
    t[0] = 5
    assert buf[0] == 5


TENSOR_CASES = [({}, "plain"), ({}, "grad"), ({}, "nonleaf"), ({"copy": True}, "plain"),
                ({"copy": True}, "grad"), ({"copy": True, "requires_grad": False}, "nonleaf"),
                ({"requires_grad": True}, "plain"), ({"requires_grad": False}, "grad"),
                ({"requires_grad": False}, "nonleaf"), ({"requires_grad": True}, "nonleaf"),
                ({"requires_grad": False}, "view"), ({"dtype": "float64"}, "grad"),
                ({"dtype": "float64", "requires_grad": False}, "grad"),
                ({"dtype": "float32"}, "plain"), ({"copy": True, "requires_grad": True},
                                                  "plain"), ({"device": "cpu"}, "plain")]


def _src(m, kind):
    t = m.arange(3.0, requires_grad=kind != "plain")
    if kind == "nonleaf":
        return t * 2
    if kind == "view":
        return t[:2]
    return t


def _flags(t):
    return (t.requires_grad, t.is_leaf, type(t.grad_fn).__name__ if t.grad_fn else None)


@needs_torch
@pytest.mark.parametrize("kw,kind", TENSOR_CASES)
def test_asarray_tensor_inputs(kw, kind):
    import torch
    res = []
    for m in (c, torch):
        src = _src(m, kind)
        k = {a: (getattr(m, v) if a == "dtype" else v) for a, v in kw.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = m.asarray(src, **k)
        res.append((out is src, out.data_ptr() == src.data_ptr(), out.dtype.itemsize,
                    _flags(out)[:2], _flags(src)[:2], to_np(out)))
    ra, rb = res
    assert ra[:5] == rb[:5], (ra[:5], rb[:5])
    np.testing.assert_array_equal(ra[5], rb[5])


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m: m.asarray(np.arange(3.0), dtype=m.float32, copy=False),
    lambda m: m.asarray(m.arange(3.0), dtype=m.float64, copy=False),
    lambda m: m.asarray([1, 2], copy=False),
    lambda m: m.asarray([1, 2], requires_grad=True),
    lambda m: m.asarray("a"),
    lambda m: m.asarray([[1], [2, 3]]),
    lambda m: m.asarray(bytearray(b"ab")),
    lambda m: m.asarray(m.arange(3), requires_grad=True),
])
def test_asarray_errors(bad):
    _raises_like(bad)


def test_asarray_copy_is_differentiable():
    x = c.arange(3.0, requires_grad=True)
    y = c.asarray(x, dtype=c.float64)
    (y * y).sum().backward()
    assert y.grad_fn is not None and x.grad.tolist() == [0.0, 2.0, 4.0]


# -- frombuffer -------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("kw", [{}, {"count": 1, "offset": 4}, {"offset": 4}, {"count": 2}])
def test_frombuffer(kw):
    import torch
    data = b"\x01\x00\x00\x00\x02\x00\x00\x00"
    for name in ("int32", "float32", "uint8", "int16"):
        a = c.frombuffer(bytearray(data), dtype=getattr(c, name), **kw)
        b = torch.frombuffer(bytearray(data), dtype=getattr(torch, name), **kw)
        _same(a, b)
    buf = bytearray(data)
    t = c.frombuffer(buf, dtype=c.int32, **kw)
    t.fill_(7)
    assert np.frombuffer(bytes(buf), np.int32)[-1] == 7
    assert c.frombuffer(bytearray(8), dtype=c.float32, requires_grad=True).requires_grad


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m: m.frombuffer(bytearray(7), dtype=m.int32),
    lambda m: m.frombuffer(bytearray(0), dtype=m.int32),
    lambda m: m.frombuffer(bytearray(8), dtype=m.int32, count=3),
    lambda m: m.frombuffer(bytearray(8), dtype=m.int32, offset=9),
    lambda m: m.frombuffer(bytearray(8), dtype=m.int32, offset=-1),
    lambda m: m.frombuffer([1, 2], dtype=m.int32),
    lambda m: m.frombuffer(bytearray(8)),
    lambda m: m.frombuffer(bytearray(8), dtype=m.int32, count=0),
])
def test_frombuffer_errors(bad):
    _raises_like(bad)


def test_frombuffer_read_only_buffer_warns_and_refuses_writes():
    with pytest.warns(UserWarning, match="read-only"):
        t = c.frombuffer(b"ab", dtype=c.uint8)
    assert t.tolist() == [97, 98]
    with pytest.raises(RuntimeError):
        t.add_(1)


# -- small queries, splits, typename ----------------------------------------------------------
@needs_torch
def test_queries_match_torch():
    import torch
    for m_fn in [lambda m: m.is_complex(m.ones(2)), lambda m: m.ones(2).is_complex(),
                 lambda m: m.is_nonzero(m.tensor([0.0])), lambda m: m.is_nonzero(m.tensor(1.5)),
                 lambda m: m.is_nonzero(m.tensor([[False]])),
                 lambda m: m.tensor([3]).is_nonzero(),
                 lambda m: m.is_same_size(m.ones(2, 3), m.ones(3, 2)),
                 lambda m: m.is_same_size(m.ones(2, 3), m.zeros(2, 3, dtype=m.int64)),
                 lambda m: m.ones(1).is_same_size(m.ones(())),
                 lambda m: m.isreal(m.tensor([1.0, np.nan])), lambda m: m.arange(3).isreal()]:
        _same(m_fn(c), m_fn(torch))
    for bad in [lambda m: m.is_complex([1]), lambda m: m.is_nonzero(m.tensor([1, 2])),
                lambda m: m.is_nonzero(m.tensor([])), lambda m: m.is_same_size(m.ones(1), [1]),
                lambda m: m.isreal(2.0)]:
        _raises_like(bad)


SPLITS = [lambda m, x: m.split_with_sizes(x, [1, 2], 1), lambda m, x: m.split_with_sizes(x, [2]),
          lambda m, x: x.split_with_sizes([1, 1]), lambda m, x: m.unsafe_chunk(x, 2, 1),
          lambda m, x: x.unsafe_chunk(3), lambda m, x: m.unsafe_split(x, 2, 1),
          lambda m, x: x.unsafe_split(1), lambda m, x: m.unsafe_split_with_sizes(x, [1, 2], -1),
          lambda m, x: x.unsafe_split_with_sizes([0, 2]),
          lambda m, x: m.split_copy(x, 2, 1), lambda m, x: m.split_with_sizes_copy(x, [1, 2], 1),
          lambda m, x: m.unbind_copy(x, 1)]


@needs_torch
@pytest.mark.parametrize("k", range(len(SPLITS)))
def test_splits_values_and_grads(k):
    import torch
    res = []
    for m in (c, torch):
        x = m.arange(6.0).reshape(2, 3).requires_grad_()
        parts = SPLITS[k](m, x)
        assert isinstance(parts, tuple)
        sum((p * (i + 1)).sum() for i, p in enumerate(parts)).backward()
        res.append(([to_np(p) for p in parts], to_np(x.grad)))
    for a, b in zip(res[0][0] + [res[0][1]], res[1][0] + [res[1][1]]):
        np.testing.assert_array_equal(a, b)


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m: m.split_with_sizes(m.ones(2, 3), [1, 3], 1),
    lambda m: m.split_with_sizes(m.ones(2, 3), 1),
    lambda m: m.split_with_sizes(m.ones(2, 3), [-1, 3]),
    lambda m: m.split_with_sizes(m.ones(2, 3), [2], 2),
    lambda m: m.unsafe_split(m.ones(2, 3), [1, 2], 1),
    lambda m: m.unsafe_chunk(m.ones(2, 3), 0),
    lambda m: m.split_with_sizes([1, 2], [1, 1]),
])
def test_split_errors(bad):
    _raises_like(bad)


@needs_torch
def test_typename():
    import torch
    for dt in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
               "bool"):
        a = c.typename(c.ones(1, dtype=getattr(c, dt)))
        b = torch.typename(torch.ones(1, dtype=getattr(torch, dt)))
        assert a == b.replace("torch.", "chainrule.")
    for obj in (3, "a", 2.5, np.zeros(1), [1], None):
        assert c.typename(obj) == torch.typename(obj)
    assert c.typename(c.nn.Linear(1, 1)) == torch.typename(torch.nn.Linear(1, 1)).replace(
        "torch.", "chainrule.")
    assert c.typename(c.nn.Parameter(c.ones(1))) == "chainrule.FloatTensor"


# -- small ops with gradients -----------------------------------------------------------------
OPS = [lambda m, x: m.adjoint(x), lambda m, x: x.adjoint(), lambda m, x: m.fill(x, 2), lambda m, x: m.fill(x, m.tensor(3.0, requires_grad=True)),
       lambda m, x: m.alias_copy(x), lambda m, x: m.detach_copy(x.detach()),
       lambda m, x: m.diagonal_copy(x), lambda m, x: m.diagonal_copy(x, 1, 1, 0),
       lambda m, x: m.expand_copy(x[:1], [4, 3]), lambda m, x: m.narrow_copy(x, 1, 1, 2),
       lambda m, x: m.permute_copy(x, (1, 0)), lambda m, x: m.select_copy(x, 1, -1),
       lambda m, x: m.slice_copy(x, 1, 1, None, 1), lambda m, x: m.slice_copy(x, 0, None, 3, 2),
       lambda m, x: m.slice_copy(x), lambda m, x: m.squeeze_copy(x[:1]),
       lambda m, x: m.squeeze_copy(x[:1], 0), lambda m, x: m.t_copy(x),
       lambda m, x: m.transpose_copy(x, 0, 1), lambda m, x: m.unsqueeze_copy(x, 2),
       lambda m, x: m.view_copy(x, [3, 4]), lambda m, x: m.view_copy(x, m.int32)]


@needs_torch
@pytest.mark.parametrize("k", range(len(OPS)))
def test_small_ops_values_memory_and_grads(k):
    import torch
    res = []
    for m in (c, torch):
        x = m.arange(12.0).reshape(4, 3).requires_grad_()
        out = OPS[k](m, x)
        grad = None
        if out.requires_grad:
            (out * m.arange(1.0, out.numel() + 1).reshape(out.shape)).sum().backward()
            grad = to_np(x.grad)
        fresh = not np.shares_memory(to_np(out), to_np(x))
        res.append((to_np(out), out.dtype.itemsize, out.requires_grad, grad, fresh))
    (a, ia, ra, ga, fa), (b, ib, rb, gb, fb) = res
    np.testing.assert_array_equal(a, b)
    assert (ia, ra, fa) == (ib, rb, fb)
    if ga is not None or gb is not None:
        np.testing.assert_array_equal(ga, gb)


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m: m.adjoint(m.ones(3)), lambda m: m.fill(m.ones(2), m.ones(2)),
    lambda m: m.slice_copy(m.ones(3), 0, 0, 2, 0), lambda m: m.view_copy(m.ones(4), [3]),
    lambda m: m.expand_copy(m.ones(2, 3), [3, 3]), lambda m: m.select_copy(m.ones(2), 0, 5),
    lambda m: m.adjoint([1]),
])
def test_small_ops_errors(bad):
    _raises_like(bad)


def test_vmap_is_chainrule_func_vmap():
    assert c.vmap is c.func.vmap


# -- nn.functional ops at top level -----------------------------------------------------------
def _r(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


NN = [
    ("conv1d", lambda m, t: m.conv1d(t(_r(1, 2, 5)), t(_r(3, 2, 2, seed=1)), None, 1, 1)),
    ("conv2d", lambda m, t: m.conv2d(t(_r(1, 2, 4, 4)), t(_r(3, 2, 3, 3, seed=1)),
                                      t(_r(3, seed=2)), 2, "valid" if False else 1)),
    ("conv3d", lambda m, t: m.conv3d(t(_r(1, 1, 3, 3, 3)), t(_r(2, 1, 2, 2, 2, seed=1)))),
    ("conv_transpose1d", lambda m, t: m.conv_transpose1d(t(_r(1, 2, 4)),
                                                          t(_r(2, 3, 3, seed=1)), None, 2, 1,
                                                          1)),
    ("conv_transpose2d", lambda m, t: m.conv_transpose2d(t(_r(1, 2, 3, 3)),
                                                          t(_r(2, 1, 2, 2, seed=1)))),
    ("conv_transpose3d", lambda m, t: m.conv_transpose3d(t(_r(1, 1, 2, 2, 2)),
                                                          t(_r(1, 2, 2, 2, 2, seed=1)))),
    ("convolution", lambda m, t: m.convolution(t(_r(1, 2, 4, 4)), t(_r(3, 2, 3, 3, seed=1)),
                                               t(_r(3, seed=2)), [1, 1], [1, 0], [1, 1],
                                               False, [0, 0], 1)),
    ("convolution_t", lambda m, t: m.convolution(t(_r(1, 2, 3)), t(_r(2, 2, 2, seed=1)),
                                                 None, [2], [0], [1], True, [1], 1)),
    ("convolution_g", lambda m, t: m.convolution(t(_r(1, 4, 3, 3)), t(_r(4, 2, 2, 2, seed=1)),
                                                 None, [1, 1], [0, 0], [1, 1], False, [0, 0],
                                                 2)),
    ("max_pool1d", lambda m, t: m.max_pool1d(t(_r(1, 2, 6)), 2)),
    ("max_pool1d_s", lambda m, t: m.max_pool1d(t(_r(1, 2, 7)), 3, 2, 1, 1, True)),
    ("max_pool2d", lambda m, t: m.max_pool2d(t(_r(1, 2, 4, 4)), 2)),
    ("max_pool2d_s", lambda m, t: m.max_pool2d(t(_r(1, 1, 5, 5)), (2, 3), (1, 2))),
    ("max_pool3d", lambda m, t: m.max_pool3d(t(_r(1, 1, 4, 4, 4)), 2, [])),
    ("max_pool1d_with_indices", lambda m, t: m.max_pool1d_with_indices(t(_r(1, 2, 6)), 2)),
    ("avg_pool1d", lambda m, t: m.avg_pool1d(t(_r(1, 2, 7)), 3, 2, 1, False, False)),
    ("avg_pool1d_d", lambda m, t: m.avg_pool1d(t(_r(1, 2, 6)), 2)),
    ("adaptive_avg_pool1d", lambda m, t: m.adaptive_avg_pool1d(t(_r(1, 2, 7)), 3)),
    ("adaptive_max_pool1d", lambda m, t: m.adaptive_max_pool1d(t(_r(1, 2, 7)), 3)),
    ("pixel_shuffle", lambda m, t: m.pixel_shuffle(t(_r(1, 4, 2, 3)), 2)),
    ("pixel_unshuffle", lambda m, t: m.pixel_unshuffle(t(_r(1, 1, 4, 2)), 2)),
    ("channel_shuffle", lambda m, t: m.channel_shuffle(t(_r(1, 4, 2, 2)), 2)),
    ("native_channel_shuffle", lambda m, t: m.native_channel_shuffle(
        t(_r(1, 6, 2)).detach(), 3)),     # torch has no derivative for it
    ("bilinear", lambda m, t: m.bilinear(t(_r(3, 2)), t(_r(3, 4, seed=1)),
                                         t(_r(5, 2, 4, seed=2)), t(_r(5, seed=3)))),
    ("constant_pad_nd", lambda m, t: m.constant_pad_nd(t(_r(2, 3)), [1, 2, 0, 1], 2.5)),
    ("constant_pad_nd_neg", lambda m, t: m.constant_pad_nd(t(_r(2, 4)), [-1, 1])),
    ("embedding", lambda m, t: m.embedding(t(_r(5, 3)), m.tensor([[0, 4], [4, 2]]))),
    ("embedding_p", lambda m, t: m.embedding(t(_r(5, 3)), m.tensor([0, 4, 4, 2]), 4)),
    ("embedding_neg", lambda m, t: m.embedding(t(_r(5, 3)), m.tensor([0, 4, 1]), -2)),
    ("embedding_freq", lambda m, t: m.embedding(t(_r(5, 3)), m.tensor([0, 4, 4]), -1, True)),
    ("native_layer_norm", lambda m, t: m.native_layer_norm(t(_r(2, 3, 4)), [3, 4],
                                                           t(_r(3, 4, seed=1)),
                                                           t(_r(3, 4, seed=2)), 1e-5)),
    ("native_layer_norm_n", lambda m, t: m.native_layer_norm(t(_r(2, 5)), (5,), None, None,
                                                             1e-3)),
    ("native_group_norm", lambda m, t: m.native_group_norm(t(_r(2, 4, 3)), t(_r(4, seed=1)),
                                                           t(_r(4, seed=2)), 2, 4, 3, 2, 1e-5)),
    ("native_batch_norm", lambda m, t: m.native_batch_norm(
        t(_r(4, 3, 2)), t(_r(3, seed=1)), t(_r(3, seed=2)), m.zeros(3, dtype=m.float64),
        m.ones(3, dtype=m.float64), True, 0.1, 1e-5)),
    ("native_batch_norm_eval", lambda m, t: m.native_batch_norm(
        t(_r(4, 3)), None, None, m.zeros(3, dtype=m.float64) + 0.5,
        m.ones(3, dtype=m.float64) * 2, False, 0.1, 1e-5)),
]


@needs_torch
@pytest.mark.parametrize("name,fn", NN, ids=[n for n, _ in NN])
def test_nn_ops_at_top_level_match_torch(name, fn):
    import torch
    res = []
    for m in (c, torch):
        leaves = []

        def t(a, m=m):
            leaves.append(m.tensor(a, requires_grad=True))
            return leaves[-1]
        out = fn(m, t)
        outs = out if isinstance(out, tuple) else (out,)
        diff = [o for o in outs if o.requires_grad]
        total = sum((o * m.arange(1.0, o.numel() + 1, dtype=o.dtype).reshape(o.shape)).sum()
                    for o in diff)
        grads = m.autograd.grad(total, leaves, allow_unused=True) if diff else []
        res.append(([to_np(o) for o in outs], [o.requires_grad for o in outs],
                    [to_np(g) for g in grads]))
    (oa, ra, ga), (ob, rb, gb) = res
    assert ra == rb
    for a, b in zip(oa + ga, ob + gb):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)


@needs_torch
def test_embedding_renorm_():
    import torch
    w = _r(4, 3) * 2
    res = []
    for m in (c, torch):
        t = m.tensor(w)
        assert m.embedding_renorm_(t, m.tensor([0, 2, 2]), 1.0, 2.0) is t
        res.append(to_np(t))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-6)
    _raises_like(lambda m: m.embedding_renorm_(m.ones(4, 3, requires_grad=True),
                                               m.tensor([0]), 1.0, 2.0))
    _raises_like(lambda m: m.embedding_renorm_(m.ones(4, 3), m.tensor([5]), 1.0, 2.0))


@needs_torch
@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_ctc_loss_integer_reductions(reduction):
    import torch
    lp = np.log(np.random.default_rng(0).dirichlet(np.ones(4), size=(6, 2)))
    tg = np.array([[1, 2], [3, 1]])
    res = []
    for m in (c, torch):
        x = m.tensor(lp, requires_grad=True)
        out = m.ctc_loss(x, m.tensor(tg), [6, 5], [2, 1], 0, reduction)
        out.sum().backward()
        res.append((to_np(out), to_np(x.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    _raises_like(lambda m: m.ctc_loss(m.tensor(lp), m.tensor(tg), [6, 5], [2, 1], 0, "mean"))


@needs_torch
def test_native_batch_norm_updates_running_stats_like_torch():
    import torch
    x = _r(5, 3, 2)
    stats = []
    for m in (c, torch):
        rm, rv = m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)
        m.native_batch_norm(m.tensor(x), None, None, rm, rv, True, 0.3, 1e-5)
        stats.append((to_np(rm), to_np(rv)))
    for a, b in zip(*stats):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_native_dropout():
    x = c.ones(1000, requires_grad=True)
    out, mask = c.native_dropout(x, 0.25, True)
    assert mask.dtype == c.bool and 600 < int(mask.sum()) < 900
    np.testing.assert_allclose(out.detach().numpy(), mask.numpy() / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask.numpy() / 0.75, rtol=1e-6)
    out, mask = c.native_dropout(x, 0.25, None)
    assert not bool(mask.all())
    out, mask = c.native_dropout(x, 1.0, True)
    assert not bool(mask.any()) and float(out.abs().sum()) == 0.0


@needs_torch
def test_native_dropout_eval_matches_torch():
    import torch
    for m in (c, torch):
        x = m.arange(3.0, requires_grad=True)
        out, mask = m.native_dropout(x, 0.5, False)
        assert out.tolist() == [0.0, 1.0, 2.0] and mask.tolist() == [True] * 3
        assert out.requires_grad and mask.dtype == m.bool


@needs_torch
@pytest.mark.parametrize("bad", [
    lambda m: m.conv2d(m.ones(1, 2, 4, 4), m.ones(3, 3, 3, 3)),
    lambda m: m.convolution(m.ones(1, 2, 4), m.ones(2, 2), None, [1], [0], [1], False, [0], 1),
    lambda m: m.embedding(m.ones(5, 3), m.tensor([5])),
    lambda m: m.max_pool2d(m.ones(1, 1, 2, 2), 3),
    lambda m: m.avg_pool1d(m.ones(1, 1, 2), 3),
    lambda m: m.pixel_shuffle(m.ones(1, 3, 2, 2), 2),
    lambda m: m.channel_shuffle(m.ones(1, 3, 2), 2),
    lambda m: m.native_layer_norm(m.ones(2, 3), [4], None, None, 1e-5),
    lambda m: m.adaptive_max_pool1d(m.ones(1, 2, 3, 4, 5), 2),
])
def test_nn_ops_at_top_level_errors(bad):
    _raises_like(bad)


# -- top-level in-place ops -------------------------------------------------------------------
def _inplace_args(m, name):
    if name in ("clamp_", "clip_"):
        return (-0.5, 0.5)
    if name in ("clamp_min_", "clamp_max_", "fill_"):
        return (0.25,)
    if name in ("xlogy_", "ldexp_"):
        return (m.tensor([2.0, 3.0, 1.0]),)
    if name == "resize_as_":
        return (m.ones(2),)
    if name == "addmv_":
        return (m.ones(3, 2), m.ones(2))
    if name == "round_":
        return ()
    return ()


INPLACE = [n for n in _aliases._TORCH_INPLACE if hasattr(c, n)]


@needs_torch
@pytest.mark.parametrize("name", INPLACE)
def test_top_level_inplace_ops_match_torch(name):
    import torch
    out = []
    for m in (c, torch):
        if name in ("gcd_", "lcm_"):
            t, args = m.tensor([4, 6, 9]), (m.tensor([6, 4, 3]),)
        else:
            t, args = m.tensor([0.2, 0.7, 1.5], dtype=m.float64), _inplace_args(m, name)
        r = getattr(m, name)(t, *args)
        assert r is t and t._version == 1
        out.append(to_np(t))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12, equal_nan=True)
    _raises_like(lambda m: getattr(m, name)([1.0]))


def test_top_level_inplace_ops_cover_every_tensor_method():
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location(
        "gen_coverage", os.path.join(os.path.dirname(os.path.dirname(__file__)), "tools",
                                     "gen_coverage.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    torch_inplace = [n for n in gen._split(gen.read_names())["torch"] if n.endswith("_")]
    assert set(_aliases._TORCH_INPLACE) <= set(torch_inplace)
    for n in torch_inplace:
        if hasattr(c.Tensor, n):
            assert hasattr(c, n), n


def test_top_level_inplace_records_the_graph():
    x = c.tensor([0.5, 1.0], requires_grad=True)
    y = x * 1
    c.exp_(y)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([0.5, 1.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        c.sqrt_(x)


@needs_torch
def test_views_of_a_relaid_out_leaf_that_requires_grad_refuse_inplace_ops():
    import torch
    for m in (c, torch):
        w = m.zeros(3, 2)
        w.add_(1)            # w has a version counter (views may exist)
        w.t_()
        w.requires_grad_()
        v = w[0]
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            v.mul_(2)
        (w * 2).sum().backward()
        assert w.is_leaf and w.grad.tolist() == [[2.0, 2.0, 2.0]] * 2
        with m.no_grad():
            v.mul_(3)
        assert w.tolist()[0] == [3.0, 3.0, 3.0]


def _anomaly_scenario(m):
    """(is_enabled, check_nan inside, NaN check raised?, backward-error warning first line,
    does the warning's traceback name this file)"""
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom in backward")

    x = m.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with m.autograd.detect_anomaly(check_nan=False):
            flags = (m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled())
            y = Bad.apply(x)
            with pytest.raises(ValueError, match="boom"):
                y.sum().backward()
            z = m.tensor([0.0], requires_grad=True)
            nan_raised = False
            try:
                (m.sqrt(z) * 0).sum().backward()
            except RuntimeError:
                nan_raised = True
    msgs = [str(i.message) for i in w if "Error detected" in str(i.message)]
    return flags + (nan_raised, msgs[0].splitlines()[0] if msgs else None,
                    bool(msgs) and "test_api_runtime.py" in msgs[0])


def test_anomaly_without_nan_check_still_traces(restore_runtime):
    assert _anomaly_scenario(c) == (True, False, False, "Error detected in BadBackward. "
                                    "Traceback of forward call that caused the error:", True)


@needs_torch
def test_anomaly_without_nan_check_matches_torch(torch_runtime, restore_runtime):
    assert _anomaly_scenario(c) == _anomaly_scenario(torch_runtime)


@needs_torch
def test_deterministic_mode_fills_empty_like_torch(torch_runtime, restore_runtime):
    torch = torch_runtime
    res = []
    for m in (c, torch):
        m.use_deterministic_algorithms(True)
        try:
            res.append([m.empty(3).tolist(), m.empty(2, dtype=m.int64).tolist(),
                        m.empty_like(m.ones(2, dtype=m.int32)).tolist(),
                        m.empty(2, dtype=m.bool).tolist()])
        finally:
            m.use_deterministic_algorithms(False)
    assert str(res[0]) == str(res[1])       # nan == nan only as text
