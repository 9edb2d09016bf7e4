"""Layer functions beyond the op table: index outputs, edge values (NaN, -inf), in-place
max_norm, gradient scaling, dropout, integer inputs, the fast and recorded backward paths,
layouts, error messages and the CNN benchmark's agreement."""
import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from conftest import needs_torch, to_np


def _pair(a, requires_grad=False):
    import torch
    return (chainrule.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- realistic sizes (the benchmark's path) in float32 ---------------------------------------
@needs_torch
@pytest.mark.parametrize("bias", [True, False])
def test_cnn_sized_conv_pool_matches_torch_float32(bias):
    import torch
    import torch.nn.functional as TF
    x = _rand(8, 3, 13, 11)
    w, b = _rand(5, 3, 3, 3, seed=1), _rand(5, seed=2)
    cx, tx = _pair(x, True)
    cw, tw = _pair(w, True)
    cb, tb = _pair(b, True) if bias else (None, None)
    co = F.max_pool2d(chainrule.relu(F.conv2d(cx, cw, cb, padding=1)), 2)
    to = TF.max_pool2d(torch.relu(TF.conv2d(tx, tw, tb, padding=1)), 2)
    np.testing.assert_allclose(to_np(co), to_np(to), rtol=1e-5, atol=1e-5)
    g = _rand(*to.shape, seed=3)
    co.backward(chainrule.tensor(g))
    to.backward(torch.tensor(g))
    for c, t in [(cx, tx), (cw, tw)] + ([(cb, tb)] if bias else []):
        np.testing.assert_allclose(to_np(c.grad), to_np(t.grad), rtol=1e-4, atol=1e-4)


def test_fast_and_recorded_backward_agree():
    """Plain backward takes the array fast path; create_graph runs the same rule on Tensors."""
    for groups, bias in [(1, True), (2, True), (1, False)]:
        x = chainrule.tensor(_rand(2, 4, 6, 5, dtype=np.float64), requires_grad=True)
        w = chainrule.tensor(_rand(6, 4 // groups, 3, 2, seed=1, dtype=np.float64),
                             requires_grad=True)
        b = chainrule.tensor(_rand(6, seed=2, dtype=np.float64), requires_grad=True) \
            if bias else None
        ins = [x, w] + ([b] if bias else [])
        out = F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=groups)
        g = chainrule.tensor(_rand(*out.shape, seed=3, dtype=np.float64))
        fast = chainrule.autograd.grad(out, ins, g, retain_graph=True)
        slow = chainrule.autograd.grad(out, ins, g, create_graph=True)
        for a, s in zip(fast, slow):
            np.testing.assert_allclose(to_np(a), to_np(s), rtol=1e-12, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False),
                                   (False, False, True), (False, True, True)])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv_gradients_for_each_subset_of_inputs(needs, groups):
    import torch.nn.functional as TF
    arrs = [_rand(2, 4, 5, 5, dtype=np.float64), _rand(6, 4 // groups, 2, 3, seed=1,
                                                        dtype=np.float64),
            _rand(6, seed=2, dtype=np.float64)]
    pairs = [_pair(a, n) for a, n in zip(arrs, needs)]
    co = F.conv2d(*[p[0] for p in pairs], padding=1, groups=groups)
    to = TF.conv2d(*[p[1] for p in pairs], padding=1, groups=groups)
    g = _rand(*to.shape, seed=3, dtype=np.float64)
    co.backward(chainrule.tensor(g))
    to.backward(__import__("torch").tensor(g))
    for (c, t), n in zip(pairs, needs):
        if n:
            np.testing.assert_allclose(to_np(c.grad), to_np(t.grad), rtol=1e-10, atol=1e-10)
        else:
            assert c.grad is None


def test_conv_transpose_fast_and_recorded_backward_agree():
    x = chainrule.tensor(_rand(2, 4, 3, 3, dtype=np.float64), requires_grad=True)
    w = chainrule.tensor(_rand(4, 3, 2, 2, seed=1, dtype=np.float64), requires_grad=True)
    out = F.conv_transpose2d(x, w, stride=2)
    g = chainrule.tensor(_rand(*out.shape, seed=2, dtype=np.float64))
    fast = chainrule.autograd.grad(out, [x, w], g, retain_graph=True)
    slow = chainrule.autograd.grad(out, [x, w], g, create_graph=True)
    for a, s in zip(fast, slow):
        np.testing.assert_allclose(to_np(a), to_np(s), rtol=1e-12, atol=1e-12)


def test_outputs_are_contiguous_and_inputs_untouched():
    x = chainrule.tensor(_rand(2, 3, 6, 6))
    before = to_np(x).copy()
    w = chainrule.tensor(_rand(4, 3, 3, 3))
    outs = [F.conv2d(x, w), F.conv_transpose2d(x, _rand_t(3, 2, 2, 2)), F.max_pool2d(x, 2),
            F.fold(chainrule.tensor(_rand(1, 4, 9)), (4, 4), 2), F.avg_pool2d(x, 3, 2, 1),
            F.pad(x, (1, 1))]
    for o in outs:
        assert o.is_contiguous()
        o.view(-1)
    np.testing.assert_array_equal(to_np(x), before)


def _rand_t(*shape):
    return chainrule.tensor(_rand(*shape, seed=7))


def test_pad_returns_a_new_tensor():
    x = chainrule.ones(2, 3)
    y = F.pad(x, (0, 0))
    y += 1
    assert float(x.sum()) == 6.0


# -- max pool indices and edge values --------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("row", [[-np.inf] * 4, [1.0, np.nan, 3.0, np.nan],
                                 [-np.inf, 2.0, -np.inf, -np.inf, -np.inf]])
@pytest.mark.parametrize("kw", [dict(kernel_size=(1, 2), padding=(0, 1)),
                                dict(kernel_size=(1, 3), padding=(0, 1), stride=1),
                                dict(kernel_size=(1, 2), ceil_mode=True)])
def test_max_pool_nan_and_all_minus_inf_windows_match_torch(row, kw):
    import torch.nn.functional as TF
    c, t = _pair(np.array([[[row]]], np.float32))
    cv, ci = F.max_pool2d(c, return_indices=True, **kw)
    tv, ti = TF.max_pool2d(t, return_indices=True, **kw)
    np.testing.assert_array_equal(to_np(ci), to_np(ti))
    np.testing.assert_array_equal(to_np(cv), to_np(tv))


@needs_torch
def test_max_pool_ties_pick_the_first_position():
    import torch.nn.functional as TF
    x = np.array([[[[1.0, 1.0, 0.0], [1.0, 0.5, 1.0], [0.0, 1.0, 1.0]]]])
    c, t = _pair(x, True)
    cv, ci = F.max_pool2d(c, 2, stride=1, return_indices=True)
    tv, ti = TF.max_pool2d(t, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(to_np(ci), to_np(ti))
    cv.sum().backward()
    tv.sum().backward()
    np.testing.assert_array_equal(to_np(c.grad), to_np(t.grad))


@needs_torch
def test_integer_inputs_match_torch():
    import torch.nn.functional as TF
    x = np.arange(-20, 20).reshape(1, 2, 4, 5)
    c, t = _pair(x)
    np.testing.assert_array_equal(to_np(F.max_pool2d(c, 2)), to_np(TF.max_pool2d(t, 2)))
    for kw in (dict(kernel_size=3, padding=1), dict(kernel_size=2, ceil_mode=True)):
        a, b = F.avg_pool2d(c, **kw), TF.avg_pool2d(t, **kw)
        assert a.dtype == chainrule.int64
        np.testing.assert_array_equal(to_np(a), to_np(b))
    w = np.arange(12).reshape(3, 2, 2, 1)
    cw, tw = _pair(w)
    np.testing.assert_array_equal(to_np(F.conv2d(c, cw)), to_np(TF.conv2d(t, tw)))


@needs_torch
def test_nearest_interpolate_on_uint8_images():
    import torch.nn.functional as TF
    c, t = _pair(np.arange(24, dtype=np.uint8).reshape(1, 2, 3, 4))
    a, b = F.interpolate(c, size=(5, 3)), TF.interpolate(t, size=(5, 3))
    assert a.dtype == chainrule.uint8
    np.testing.assert_array_equal(to_np(a), to_np(b))
    with pytest.raises(NotImplementedError):
        F.interpolate(c, size=(5, 3), mode="bilinear")


# -- embedding -------------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("kw", [dict(padding_idx=1), dict(padding_idx=-2),
                                dict(scale_grad_by_freq=True),
                                dict(padding_idx=0, scale_grad_by_freq=True)])
def test_embedding_gradient_rules_match_torch(kw):
    import torch
    import torch.nn.functional as TF
    idx = np.array([[1, 3, 3], [0, 1, 3]])
    cw, tw = _pair(_rand(4, 3, dtype=np.float64), True)
    co = F.embedding(chainrule.tensor(idx), cw, **kw)
    to = TF.embedding(torch.tensor(idx), tw, **kw)
    np.testing.assert_array_equal(to_np(co), to_np(to))
    g = _rand(2, 3, 3, seed=1, dtype=np.float64)
    co.backward(chainrule.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(to_np(cw.grad), to_np(tw.grad), rtol=1e-12)


@needs_torch
def test_embedding_max_norm_renormalises_rows_in_place():
    import torch
    import torch.nn.functional as TF
    w = _rand(5, 3) * 3
    cw, tw = _pair(w)
    idx = np.array([[0, 2], [2, 4]])
    v0 = cw._version
    co = F.embedding(chainrule.tensor(idx), cw, max_norm=1.0)
    to = TF.embedding(torch.tensor(idx), tw, max_norm=1.0)
    np.testing.assert_allclose(to_np(co), to_np(to), rtol=1e-6)
    np.testing.assert_allclose(to_np(cw), to_np(tw), rtol=1e-6)
    assert np.allclose(to_np(cw)[[1, 3]], w[[1, 3]])      # untouched rows
    assert cw._version > v0


def test_embedding_errors_name_the_problem():
    w = chainrule.randn(3, 2)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(chainrule.tensor([3]), w)
    with pytest.raises(AssertionError, match="Padding_idx"):
        F.embedding(chainrule.tensor([0]), w, padding_idx=3)
    with pytest.raises(RuntimeError, match="must be 2-D"):
        F.embedding(chainrule.tensor([0]), chainrule.randn(3))


# -- attention -------------------------------------------------------------------------------
def test_attention_dropout_is_seeded_and_unbiased():
    q = chainrule.randn(2, 4, 8)
    k = chainrule.randn(2, 6, 8)
    v = chainrule.ones(2, 6, 3)
    chainrule.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    chainrule.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(to_np(a), to_np(b))
    full = F.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(to_np(full), 1.0, rtol=1e-6)   # rows of softmax sum to one
    assert not np.allclose(to_np(a), to_np(full))
    big_q, big_k = chainrule.zeros(1, 200, 8), chainrule.zeros(1, 200, 8)
    mean = float(F.scaled_dot_product_attention(big_q, big_k, chainrule.ones(1, 200, 1),
                                                dropout_p=0.3).mean())
    assert abs(mean - 1.0) < 0.05


@needs_torch
def test_attention_fully_masked_rows_give_zeros_like_torch():
    import torch
    import torch.nn.functional as TF
    q, k, v = _rand(1, 2, 3, dtype=np.float64), _rand(1, 4, 3, seed=1, dtype=np.float64), \
        _rand(1, 4, 2, seed=2, dtype=np.float64)
    mask = np.ones((2, 4), bool)
    mask[0] = False
    cq, tq = _pair(q, True)
    co = F.scaled_dot_product_attention(cq, chainrule.tensor(k), chainrule.tensor(v),
                                        chainrule.tensor(mask))
    to = TF.scaled_dot_product_attention(tq, torch.tensor(k), torch.tensor(v),
                                         torch.tensor(mask))
    np.testing.assert_allclose(to_np(co), to_np(to), atol=1e-12)
    co.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(to_np(cq.grad), to_np(tq.grad), atol=1e-12)


# -- errors ----------------------------------------------------------------------------------
def test_errors_name_the_op_and_shapes():
    x = chainrule.randn(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 3, 8, 8\] to have 2 channels"):
        F.conv2d(x, chainrule.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv2d(x, chainrule.randn(4, 3, 9, 9))
    with pytest.raises(RuntimeError, match="Expected 3D .unbatched. or 4D"):
        F.conv2d(x[None], chainrule.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(TypeError, match="must be Tensor"):
        F.conv2d([1.0], chainrule.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(RuntimeError, match="Class values must be smaller"):
        F.one_hot(chainrule.tensor([3]), 3)


def test_unbatched_inputs_keep_their_rank():
    x = chainrule.randn(3, 8, 8)
    assert F.conv2d(x, chainrule.randn(4, 3, 3, 3)).shape == (4, 6, 6)
    assert F.max_pool2d(x, 2).shape == (3, 4, 4)
    assert F.avg_pool1d(chainrule.randn(3, 8), 2).shape == (3, 4)
    assert F.unfold(x, 2).shape == (12, 49)
    assert F.fold(chainrule.randn(12, 49), (8, 8), 2).shape == (3, 8, 8)


# -- the benchmark agrees across libraries ---------------------------------------------------
@needs_torch
def test_cnn_benchmark_steps_agree():
    from chainrule.benchmarks import bench_cnn
    steps = [bench_cnn._numpy(), bench_cnn._chainrule(), bench_cnn._torch()]
    for _ in range(2):
        losses = [float(to_np(s())) for s in steps]
        np.testing.assert_allclose(losses, losses[0], rtol=1e-5)


def test_axis_scatter_paths_agree_with_a_plain_scatter_add():
    """The interpolation/padding adjoint: dense-matrix GEMM for small axes, sort + reduceat
    for large ones; both must equal np.add.at."""
    from chainrule.ops.conv import _axis_sum
    rng = np.random.default_rng(0)
    for n, o, axis in [(7, 12, -1), (7, 12, -2), (2100, 2101, -1), (2100, 2101, -2)]:
        idx = np.stack([np.sort(rng.integers(0, n, o)), rng.integers(0, n, o)])
        w = rng.standard_normal(idx.shape)
        shape = (3, o, 2) if axis == -2 else (2, o)
        g = rng.standard_normal(shape)
        want = np.zeros(shape[:-2] + (n, 2) if axis == -2 else (2, n))
        for t in range(2):
            gt = g * (w[t][:, None] if axis == -2 else w[t])
            np.add.at(want, (Ellipsis, idx[t], slice(None)) if axis == -2 else
                      (slice(None), idx[t]), gt)
        np.testing.assert_allclose(_axis_sum(g, idx, w, axis, n), want, rtol=1e-10,
                                   atol=1e-10)
        np.testing.assert_allclose(_axis_sum(g, idx[:1], None, axis, n),
                                   _axis_sum(g, idx[:1], np.ones((1, o)), axis, n))


def test_unfold_with_a_1x1_kernel_does_not_alias_its_input():
    x = chainrule.ones(1, 2, 3, 3)
    cols = F.unfold(x, 1)
    cols += 1
    assert float(x.sum()) == 18.0
