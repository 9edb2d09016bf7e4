"""ctc_loss beyond the op table: a brute-force check of the value, torch parity of values and
raw gradients (both target layouts, every reduction, zero_infinity, float32), impossible
alignments, empty targets and inputs, unbatched calls, errors and nn.CTCLoss."""
import itertools
import math

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from conftest import needs_torch, to_np


def _logp(t, n, c, seed=0, dtype=np.float64):
    x = np.random.default_rng(seed).standard_normal((t, n, c))
    return (x - np.log(np.exp(x).sum(-1, keepdims=True))).astype(dtype)


def _collapse(path, blank):
    out = [k for i, k in enumerate(path) if k != blank and (i == 0 or k != path[i - 1])]
    return out


def _brute(lp, target, blank=0):
    """-log of the summed probability of every path that collapses to target."""
    t, c = lp.shape
    total = sum(math.exp(sum(lp[i, k] for i, k in enumerate(p)))
                for p in itertools.product(range(c), repeat=t)
                if _collapse(p, blank) == list(target))
    return -math.log(total) if total else math.inf


@pytest.mark.parametrize("target,blank", [([1, 2], 0), ([1, 1], 0), ([2], 1), ([], 0),
                                          ([0, 0, 0], 1)])
def test_value_matches_brute_force_enumeration(target, blank):
    lp = _logp(5, 1, 3, seed=3)[:, 0]
    out = F.ctc_loss(chainrule.tensor(lp), chainrule.tensor(target, dtype=chainrule.int64),
                     (5,), (len(target),), blank=blank, reduction="sum")
    np.testing.assert_allclose(to_np(out), _brute(lp, target, blank), rtol=1e-12)


def _run(lib, lp, tg, il, tl, as_tensor, **kw):
    x = lib.tensor(lp, requires_grad=True)
    lens = (lambda v: lib.tensor(v)) if as_tensor else tuple
    out = lib.nn.functional.ctc_loss(x, lib.tensor(tg), lens(il), lens(tl), **kw)
    w = lib.tensor(np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape))
                   .astype(lp.dtype))
    g, = lib.autograd.grad((out * w).sum(), [x])
    return to_np(out), to_np(g)


PADDED = np.array([[1, 2, 2, 0], [3, 1, 4, 4], [2, 0, 0, 0], [4, 4, 4, 1]])
IL, TL = [9, 8, 5, 9], [3, 4, 1, 4]
CONCAT = np.concatenate([PADDED[i, :TL[i]] for i in range(4)])


@needs_torch
@pytest.mark.parametrize("layout", ["padded", "concat"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_values_and_raw_gradients_match_torch(layout, reduction, zero_infinity):
    import torch
    lp = np.random.default_rng(1).standard_normal((9, 4, 5))      # not normalised on purpose
    tg = PADDED if layout == "padded" else CONCAT
    kw = dict(reduction=reduction, zero_infinity=zero_infinity, blank=0)
    for as_tensor in (True, False):
        (o1, g1), (o2, g2) = (_run(m, lp, tg, IL, TL, as_tensor, **kw)
                              for m in (chainrule, torch))
        assert o1.shape == o2.shape and o1.dtype == o2.dtype
        np.testing.assert_allclose(o1, o2, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)


@needs_torch
def test_float32_and_nonzero_blank_match_torch():
    import torch
    lp = _logp(9, 4, 5, seed=2, dtype=np.float32)
    tg = np.where(PADDED == 2, 0, PADDED)      # label 0 is a real class when blank=2
    (o1, g1), (o2, g2) = (_run(m, lp, tg, IL, TL, True, blank=2) for m in (chainrule, torch))
    assert o1.dtype == np.float32
    np.testing.assert_allclose(o1, o2, rtol=1e-5)
    np.testing.assert_allclose(g1, g2, rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignment_is_inf_and_gradients_follow_torch(zero_infinity):
    import torch
    lp = _logp(6, 3, 4, seed=4)
    tg = np.array([[1, 1, 1], [1, 2, 3], [2, 0, 0]])      # 1 1 1 needs 5 frames, has 4
    il, tl = [4, 6, 2], [3, 3, 1]
    kw = dict(reduction="none", zero_infinity=zero_infinity)
    (o1, g1), (o2, g2) = (_run(m, lp, tg, il, tl, True, **kw) for m in (chainrule, torch))
    assert (o1[0] == 0) if zero_infinity else np.isposinf(o1[0])
    np.testing.assert_allclose(o1, o2, rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(g1), np.isnan(g2))
    assert np.isnan(g1[:4, 0]).all() != zero_infinity
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)    # NaNs compare equal


@needs_torch
def test_empty_targets_and_zero_input_length_match_torch():
    import torch
    lp = _logp(5, 3, 4, seed=5)
    tg, il, tl = np.array([2, 3]), [0, 0, 5], [0, 1, 1]
    for red in ("none", "mean"):
        (o1, g1), (o2, g2) = (_run(m, lp, tg, il, tl, False, reduction=red)
                              for m in (chainrule, torch))
        np.testing.assert_allclose(o1, o2, rtol=1e-12)
        np.testing.assert_array_equal(np.isnan(g1), np.isnan(g2))
        if red == "none":       # no frames: an empty target costs 0, a label is impossible
            assert o1[0] == 0 and np.isposinf(o1[1])


@needs_torch
@pytest.mark.parametrize("targets", [[1, 2], [[1, 2]]])
@pytest.mark.parametrize("lengths", ["0d", "1d", "tuple"])
def test_unbatched_matches_torch(targets, lengths):
    import torch
    lp = _logp(5, 1, 4, seed=6)[:, 0]
    for red in ("none", "mean", "sum"):
        res = []
        for m in (chainrule, torch):
            mk = {"0d": lambda v: m.tensor(v), "1d": lambda v: m.tensor([v]),
                  "tuple": lambda v: (v,)}[lengths]
            x = m.tensor(lp, requires_grad=True)
            out = m.nn.functional.ctc_loss(x, m.tensor(targets), mk(5), mk(2), reduction=red)
            out.backward()
            res.append((to_np(out), to_np(x.grad)))
        assert res[0][0].shape == res[1][0].shape == ()
        np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
        np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-10, atol=1e-12)


@needs_torch
def test_gradient_through_log_softmax_is_the_true_gradient():
    import torch
    x = np.random.default_rng(7).standard_normal((6, 2, 4))
    res = []
    for m in (chainrule, torch):
        xt = m.tensor(x, requires_grad=True)
        out = m.nn.functional.ctc_loss(xt.log_softmax(2), m.tensor([[1, 2], [3, 0]]),
                                       (6, 5), (2, 1))
        out.backward()
        res.append(to_np(xt.grad))
    np.testing.assert_allclose(res[0], res[1], rtol=1e-10, atol=1e-12)
    assert chainrule.autograd.gradcheck(
        lambda t: F.ctc_loss(t.log_softmax(2), chainrule.tensor([[1, 2], [3, 0]]), (6, 5),
                             (2, 1)), [chainrule.tensor(x, requires_grad=True)])


@needs_torch
@pytest.mark.parametrize("call", [
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([1, 2, 3]), (5, 4), [2, 1], blank=-1),
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([1, 2, 3]), (-1, 4), (2, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([1, 2, 3]), (5, 4), (-1, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([1, 2, 3]), m.tensor([5.0, 4.0]),
                                          m.tensor([2, 1])),
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([1, 2, 3]), m.tensor([5, 4]), (2, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([[[1, 2]]] * 2), (5, 4), (2, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x, [1, 2, 3], (5, 4), (2, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x[:, :, :0], m.tensor([1, 2, 3]), (5, 4), (2, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x.long(), m.tensor([1, 2, 3]), (5, 4), (2, 1)),
    lambda m, x: m.nn.functional.ctc_loss(x, m.tensor([1, 2, 3]), (5.0, 4), (2, 1)),
])
def test_errors_match_torch_classes(call):
    import torch
    with pytest.raises(Exception) as te:
        call(torch, torch.zeros(5, 2, 4))
    with pytest.raises(type(te.value)) as ce:
        call(chainrule, chainrule.zeros(5, 2, 4))
    assert str(ce.value)


def test_out_of_range_target_is_an_error():
    with pytest.raises(RuntimeError, match="out of range"):
        F.ctc_loss(chainrule.zeros(5, 1, 4), chainrule.tensor([[1, 7]]), (5,), (2,))


@needs_torch
def test_ctcloss_module_matches_torch():
    import torch
    lp = _logp(9, 4, 5, seed=8)
    outs = []
    for m in (chainrule, torch):
        x = m.tensor(lp, requires_grad=True)
        crit = m.nn.CTCLoss(blank=0, reduction="mean", zero_infinity=True)
        out = crit(x, m.tensor(PADDED), m.tensor(IL), m.tensor(TL))
        out.backward()
        outs.append((to_np(out), to_np(x.grad)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-10, atol=1e-12)
