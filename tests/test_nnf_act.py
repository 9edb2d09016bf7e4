"""nn.functional activations, normalisations, dropout and losses: kinks, in-place forms,
randomness, running statistics, reductions and the top-level / method spellings."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from conftest import needs_torch, to_np

F = cr.nn.functional


def _both(fn, *arrays, dtype="float64"):
    """fn(lib, *tensors) in chainrule and torch on the same data: (outputs, grads) pairs."""
    import torch
    res = []
    for lib in (cr, torch):
        ts = [lib.tensor(np.asarray(a, dtype), requires_grad=True) for a in arrays]
        out = fn(lib, *ts)
        out.backward(lib.ones_like(out))
        res.append((to_np(out), [to_np(t.grad) if t.grad is not None else None for t in ts]))
    return res


def _assert_same(res, atol=1e-12):
    (o1, g1), (o2, g2) = res
    assert o1.shape == o2.shape
    np.testing.assert_allclose(o1, o2, atol=atol, rtol=1e-7)
    for a, b in zip(g1, g2):
        if b is None:
            assert a is None or not np.any(a)
        else:
            np.testing.assert_allclose(a, b, atol=atol, rtol=1e-7)


# -- kinks: the one-sided rule torch uses ------------------------------------------------------
KINKS = {
    "relu": (lambda m, x: m.nn.functional.relu(x), [0.0, -1.0, 1.0]),
    "relu6": (lambda m, x: m.nn.functional.relu6(x), [0.0, 6.0, 3.0, 7.0]),
    "hardtanh": (lambda m, x: m.nn.functional.hardtanh(x, -0.5, 0.5), [-0.5, 0.5, 0.0, 1.0]),
    "leaky_relu": (lambda m, x: m.nn.functional.leaky_relu(x, 0.2), [0.0, -1.0]),
    "elu": (lambda m, x: m.nn.functional.elu(x, 2.0), [0.0, -1.0, 1.0]),
    "celu": (lambda m, x: m.nn.functional.celu(x, 2.0), [0.0, -1.0]),
    "selu": (lambda m, x: m.nn.functional.selu(x), [0.0, -1.0]),
    "hardsigmoid": (lambda m, x: m.nn.functional.hardsigmoid(x), [-3.0, 3.0, 0.0, 4.0]),
    "hardswish": (lambda m, x: m.nn.functional.hardswish(x), [-3.0, 3.0, 0.0, -4.0]),
    "softshrink": (lambda m, x: m.nn.functional.softshrink(x, 0.5), [-0.5, 0.5, 0.0, 1.0]),
    "hardshrink": (lambda m, x: m.nn.functional.hardshrink(x, 0.5), [-0.5, 0.5, 0.0, 1.0]),
    "threshold": (lambda m, x: m.nn.functional.threshold(x, 1.0, 5.0), [1.0, 0.0, 2.0]),
    "softplus": (lambda m, x: m.nn.functional.softplus(x, 2, 2), [1.0, 0.999, 1.001]),
    "rrelu_eval": (lambda m, x: m.nn.functional.rrelu(x), [0.0, -1.0]),
    "l1": (lambda m, x: m.nn.functional.l1_loss(x, m.zeros_like(x), reduction="sum"),
           [0.0, 1.0]),
    "smooth_l1": (lambda m, x: m.nn.functional.smooth_l1_loss(x, m.zeros_like(x), beta=0.5,
                                                              reduction="none"),
                  [0.0, 0.5, -0.5, 2.0]),
    "huber": (lambda m, x: m.nn.functional.huber_loss(x, m.zeros_like(x), "none", 0.5),
              [0.5, -0.5, 0.0]),
    "margin_ranking": (lambda m, x: m.nn.functional.margin_ranking_loss(
        x, m.zeros_like(x), m.ones_like(x), 0.5, reduction="none"), [0.5, 0.0, 1.0]),
    "hinge": (lambda m, x: m.nn.functional.hinge_embedding_loss(
        x, -m.ones_like(x), 1.0, reduction="none"), [1.0, 0.0, 2.0]),
    "multi_margin": (lambda m, x: m.nn.functional.multi_margin_loss(
        x.reshape(1, -1), m.tensor([0])), [1.0, 0.0, 0.5]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(KINKS))
def test_kink_gradients_match_torch(name):
    fn, xs = KINKS[name]
    _assert_same(_both(fn, xs))


@needs_torch
def test_prelu_kink_and_weight_gradient():
    _assert_same(_both(lambda m, x, w: m.nn.functional.prelu(x, w),
                       [[0.0, -1.0, 2.0], [-0.5, 0.0, 0.3]], [0.25, 0.5, 0.75]))


# -- in-place forms ----------------------------------------------------------------------------
INPLACE = [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}),
           ("elu", {}), ("selu", {}), ("celu", {}), ("hardtanh", {}), ("silu", {}),
           ("mish", {}), ("hardsigmoid", {}), ("hardswish", {}), ("rrelu", {}),
           ("threshold", {"threshold": 0.1, "value": 2.0}), ("dropout", {"p": 0.0})]


@needs_torch
@pytest.mark.parametrize("name,kw", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_flag(name, kw):
    import torch
    data = np.array([-1.5, -0.2, 0.0, 0.7, 4.0])
    outs = []
    for lib in (cr, torch):
        leaf = lib.tensor(data, requires_grad=True)
        x = leaf * 1.0
        v0 = x._version
        y = getattr(lib.nn.functional, name)(x, inplace=True, **kw)
        assert y is x
        assert x._version > v0 or name == "dropout"
        (y * lib.arange(5.0, dtype=lib.float64)).sum().backward()
        outs.append((to_np(y), to_np(leaf.grad)))
    np.testing.assert_allclose(outs[0][0], outs[1][0], atol=1e-12)
    np.testing.assert_allclose(outs[0][1], outs[1][1], atol=1e-12)


@pytest.mark.parametrize("fn", [F.relu_, F.elu_, F.leaky_relu_, F.hardtanh_, F.selu_, F.celu_,
                                F.rrelu_, lambda x: F.threshold_(x, 0.0, 0.0)])
def test_underscore_forms_modify_in_place(fn):
    x = cr.tensor([-1.0, 2.0])
    expect = fn(x.clone()).tolist()
    assert fn(x) is x
    assert x.tolist() == expect != [-1.0, 2.0]
    leaf = cr.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        fn(leaf)
    assert leaf.tolist() == [-1.0, 2.0]


def test_toplevel_inplace_names():
    x = cr.tensor([-1.0, 0.0])
    assert cr.relu_(x) is x and x.tolist() == [0.0, 0.0]
    assert cr.sigmoid_(x).tolist() == [0.5, 0.5]
    for fn in (cr.selu_, cr.celu_, cr.rrelu_):
        assert fn(cr.tensor([0.0])).tolist() == [0.0]
    assert cr.threshold_(cr.tensor([0.0, 2.0]), 1.0, 7.0).tolist() == [7.0, 2.0]


# -- randomness --------------------------------------------------------------------------------
def test_dropout_is_repeatable_with_manual_seed_and_scales():
    x = cr.ones(2000)
    cr.manual_seed(7)
    a = F.dropout(x, 0.3)
    cr.manual_seed(7)
    b = F.dropout(x, 0.3)
    assert cr.equal(a, b)
    vals = to_np(a)
    assert np.all((vals == 0) | np.isclose(vals, 1 / 0.7))
    assert abs((to_np(a) == 0).mean() - 0.3) < 0.05
    c = F.dropout(x, 0.3)
    assert not cr.equal(a, c)


def test_dropout_gradient_is_the_mask():
    cr.manual_seed(1)
    x = cr.ones(50, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    assert np.array_equal(to_np(x.grad), to_np(y))


def test_dropout_identity_cases():
    x = cr.ones(3, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.alpha_dropout(x, 0.5) is x          # training defaults to False
    assert cr.dropout(x, 0.5, False) is x
    assert F.dropout(x, 1.0).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError):
        F.dropout(cr.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError):
        F.dropout(x, -0.1)


def test_channel_dropout_zeroes_whole_channels():
    cr.manual_seed(0)
    for fn, shape in ((F.dropout2d, (4, 6, 3, 3)), (F.dropout1d, (4, 6, 5)),
                      (F.dropout3d, (2, 6, 2, 2, 2)), (F.dropout1d, (6, 5)),
                      (F.dropout3d, (6, 2, 2, 2))):
        y = to_np(fn(cr.ones(*shape), 0.5))
        lead = 2 if len(shape) in (3, 4, 5) and not (fn is F.dropout1d and len(shape) == 2
                                                    or fn is F.dropout3d and len(shape) == 4) \
            else 1
        per_channel = y.reshape(shape[:lead] + (-1,))
        assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
        assert 0 < (per_channel == 0).all(-1).mean() < 1


def test_alpha_dropout_keeps_mean_and_variance():
    cr.manual_seed(3)
    x = cr.randn(200000, dtype=cr.float64)
    p, alpha = 0.2, 1.7580993408473766
    y = to_np(F.alpha_dropout(x, p, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    a = ((alpha ** 2 * p + 1) * (1 - p)) ** -0.5
    dropped = np.isclose(y, alpha * a * (p - 1), rtol=0, atol=1e-12)
    assert 0.15 < dropped.mean() < 0.25
    cr.manual_seed(3)
    f = to_np(F.feature_alpha_dropout(cr.randn(50, 40, 8, dtype=cr.float64), 0.5, True))
    spread = f.reshape(50, 40, 8).std(-1)
    assert (spread < 1e-12).mean() > 0.3           # whole channels set to one value


def test_rrelu_training_samples_slopes():
    cr.manual_seed(5)
    x = cr.full((1000,), -2.0, requires_grad=True)
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slopes = to_np(y) / -2.0
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), slopes)
    assert F.rrelu(cr.tensor([3.0]), training=True).tolist() == [3.0]
    cr.manual_seed(5)
    assert np.array_equal(to_np(F.rrelu(x.detach(), 0.1, 0.3, training=True)), to_np(y))


def test_gumbel_softmax():
    cr.manual_seed(2)
    logits = cr.tensor([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]], requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(to_np(soft.sum(-1)), [1.0, 1.0], atol=1e-6)
    hard = F.gumbel_softmax(logits, hard=True)
    h = to_np(hard)
    assert set(h.ravel().tolist()) <= {0.0, 1.0} and h.sum(-1).tolist() == [1.0, 1.0]
    (hard * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert logits.grad is not None and np.abs(to_np(logits.grad)).sum() > 0
    cr.manual_seed(2)
    assert cr.allclose(F.gumbel_softmax(logits, tau=0.5), soft)


# -- normalisation running statistics ----------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 2, 2)])
def test_batch_norm_running_stats_match_torch(shape):
    import torch
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, shape)
    res = []
    for lib in (cr, torch):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        v0 = rm._version
        xt = lib.tensor(x)
        y1 = lib.nn.functional.batch_norm(xt, rm, rv, training=True, momentum=0.3)
        y2 = lib.nn.functional.batch_norm(xt * 2, rm, rv, training=True, momentum=0.3)
        assert rm._version > v0 or lib is torch      # ours counts the in-place update
        ev = lib.nn.functional.batch_norm(xt, rm, rv, lib.ones(3, dtype=lib.float64) * 2,
                                          lib.zeros(3, dtype=lib.float64) + 1, False)
        res.append([to_np(t) for t in (y1, y2, rm, rv, ev)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=1e-10)


@needs_torch
def test_instance_norm_running_stats_match_torch():
    import torch
    x = np.random.default_rng(1).normal(1.0, 2.0, (4, 3, 5))
    res = []
    for lib in (cr, torch):
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        y = lib.nn.functional.instance_norm(lib.tensor(x), rm, rv, momentum=0.2)
        e = lib.nn.functional.instance_norm(lib.tensor(x), rm, rv, use_input_stats=False)
        res.append([to_np(t) for t in (y, rm, rv, e)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=1e-10)


@needs_torch
def test_toplevel_norm_signatures_match_torch():
    import torch
    x = np.random.default_rng(2).normal(size=(4, 6, 3))
    w = np.linspace(0.5, 1.5, 6)
    outs = []
    for lib in (cr, torch):
        xt, wt = lib.tensor(x), lib.tensor(w)
        rm, rv = lib.zeros(6, dtype=lib.float64), lib.ones(6, dtype=lib.float64)
        outs.append([to_np(t) for t in (
            lib.batch_norm(xt, wt, None, rm, rv, True, 0.1, 1e-5, False), rm, rv,
            lib.instance_norm(xt, wt, wt, None, None, True, 0.1, 1e-5, False),
            lib.group_norm(xt, 3, wt, None, 1e-5, False),
            lib.layer_norm(xt, [6, 3], None, None, 1e-5, True),
            lib.rms_norm(xt, [3]))])
    for a, b in zip(*outs):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=1e-10)


def test_norm_errors():
    x = cr.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match="running_mean should contain 3"):
        F.batch_norm(x, cr.zeros(4), cr.ones(4), training=True)
    with pytest.raises(RuntimeError, match="evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(x, None, None, training=True, eps=0)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(x, 2)
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(x, [3, 5], cr.ones(5))


# -- softmax family ----------------------------------------------------------------------------
@needs_torch
def test_softmax_dtype_implicit_dim_and_methods():
    import torch
    x = np.random.default_rng(3).normal(size=(2, 3, 4))
    for lib in (cr, torch):
        xt = lib.tensor(x, dtype=lib.float32)
        assert lib.nn.functional.softmax(xt, 1, dtype=lib.float64).dtype == lib.float64
        assert xt.log_softmax(0, lib.float64).dtype == lib.float64
        assert lib.softmax(lib.tensor([1, 2]), 0, dtype=lib.float32).dtype == lib.float32
        with pytest.warns(UserWarning, match="Implicit dimension"):
            lib.nn.functional.softmax(xt)
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(to_np(F.softmax(cr.tensor(x))),
                                   to_np(torch.nn.functional.softmax(torch.tensor(x))))
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        F.softmax(cr.tensor([1, 2]), 0)


def test_softmax_extremes():
    x = cr.tensor([[1e4, -1e4, 0.0], [-np.inf, 0.0, 0.0]], dtype=cr.float64,
                  requires_grad=True)
    p = F.softmax(x, 1)
    assert p.tolist()[0] == [1.0, 0.0, 0.0] and p.tolist()[1] == [0.0, 0.5, 0.5]
    lp = F.log_softmax(x, 1)
    assert lp[0, 1].item() == -2e4
    (lp[:, 1:].sum() + p.sum()).backward()
    assert np.all(np.isfinite(to_np(x.grad)))


@needs_torch
def test_softmax_second_derivative_matches_torch():
    import torch
    x = np.random.default_rng(4).normal(size=(3, 4))
    res = []
    for lib in (cr, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = (lib.nn.functional.log_softmax(xt, 1) * lib.softmax(xt, 0)).sum()
        g, = lib.autograd.grad(y, xt, create_graph=True)
        (g * g).sum().backward()
        res.append(to_np(xt.grad))
    np.testing.assert_allclose(res[0], res[1], atol=1e-12)


# -- losses ------------------------------------------------------------------------------------
@needs_torch
def test_cross_entropy_second_derivative_matches_torch():
    import torch
    x = np.random.default_rng(5).normal(size=(4, 5))
    res = []
    for lib in (cr, torch):
        xt = lib.tensor(x, requires_grad=True)
        t = lib.tensor([1, 0, -100, 4])
        w = lib.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=lib.float64)
        y = lib.nn.functional.cross_entropy(xt, t, w, label_smoothing=0.1)
        g, = lib.autograd.grad(y, xt, create_graph=True)
        (g ** 2).sum().backward()
        res.append((to_np(y), to_np(xt.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-12)


@needs_torch
def test_nll_all_ignored_is_nan_like_torch():
    import torch
    for lib in (cr, torch):
        y = lib.nn.functional.nll_loss(lib.zeros(2, 3), lib.tensor([-100, -100]))
        assert np.isnan(y.item())


@needs_torch
@pytest.mark.parametrize("kw,expect", [({"size_average": False}, "sum"),
                                       ({"reduce": False}, "none"),
                                       ({"size_average": True, "reduce": True}, "mean")])
def test_legacy_reduction_flags(kw, expect):
    import torch
    x, t = np.random.default_rng(6).normal(size=(2, 3, 4)), np.zeros((2, 3, 4))
    for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "soft_margin_loss"):
        with pytest.warns(UserWarning, match="size_average and reduce"):
            a = getattr(F, name)(cr.tensor(x), cr.tensor(t + 1), **kw)
        b = getattr(F, name)(cr.tensor(x), cr.tensor(t + 1), reduction=expect)
        c = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(t + 1),
                                               reduction=expect)
        np.testing.assert_allclose(to_np(a), to_np(b))
        np.testing.assert_allclose(to_np(a), to_np(c), atol=1e-12)


def test_bad_reduction_and_kl_warning():
    x = cr.zeros(3)
    for fn in (F.mse_loss, F.l1_loss, F.binary_cross_entropy_with_logits, F.soft_margin_loss):
        with pytest.raises(ValueError, match="not a valid value for reduction"):
            fn(x, x, reduction="avg")
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, x, log_target=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, x, reduction="batchmean", log_target=True)


@needs_torch
@pytest.mark.parametrize("r", [0, 1, 2])
def test_toplevel_losses_take_reduction_codes(r):
    import torch
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    t = np.array([1.0, -1.0, 1.0, -1.0])
    outs = []
    for lib in (cr, torch):
        A, B, T = lib.tensor(a), lib.tensor(b), lib.tensor(t)
        outs.append([to_np(v) for v in (
            lib.binary_cross_entropy_with_logits(A, B.sigmoid(), None, None, r),
            lib.cosine_embedding_loss(A, B, T, 0.2, r),
            lib.hinge_embedding_loss(A, T.reshape(4, 1).expand(4, 3), 0.5, r),
            lib.kl_div(A, B, r, log_target=True),
            lib.margin_ranking_loss(A[:, 0], B[:, 0], T, 0.1, r),
            lib.poisson_nll_loss(A, B.abs(), True, True, 1e-8, r))])
    for x, y in zip(*outs):
        np.testing.assert_allclose(x, y, atol=1e-12, rtol=1e-10)


@needs_torch
def test_loss_dtypes_follow_input():
    for dt in (cr.float32, cr.float64):
        x = cr.zeros(4, 3, dtype=dt, requires_grad=True)
        losses = [F.cross_entropy(x, cr.tensor([0, 1, 2, 0])), F.mse_loss(x, cr.ones(4, 3)),
                  F.binary_cross_entropy_with_logits(x, cr.ones(4, 3, dtype=dt)),
                  F.layer_norm(x + 1, [3]).sum(), F.softplus(x).sum()]
        for loss in losses:
            assert loss.dtype == dt
            g, = cr.autograd.grad(loss, x)
            assert g.dtype == dt


def test_methods_forward_to_functions():
    x = cr.tensor([[-1.0, 0.2, 2.0]])
    assert cr.allclose(x.softmax(1), F.softmax(x, 1))
    assert cr.allclose(x.log_softmax(dim=1), F.log_softmax(x, 1))
    assert x.hardshrink(0.5).tolist() == [[-1.0, 0.0, 2.0]]
    assert cr.allclose(x.prelu(cr.tensor([0.5])), cr.tensor([[-0.5, 0.2, 2.0]]))
    assert cr.hardshrink(x).tolist() == [[-1.0, 0.0, 2.0]]


@needs_torch
def test_normalize_out_and_zero_vectors():
    import torch
    x = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]])
    res = []
    for lib in (cr, torch):
        xt = lib.tensor(x, requires_grad=True)
        out = lib.empty(2, 3, dtype=lib.float64)
        with pytest.raises(RuntimeError, match="out="):
            lib.nn.functional.normalize(xt, dim=1, out=out)
        r = lib.nn.functional.normalize(xt.detach(), dim=1, out=out)
        assert r is out and not out.requires_grad
        y = lib.nn.functional.normalize(xt, p=3.0, dim=1)
        (y * lib.arange(6.0, dtype=lib.float64).reshape(2, 3)).sum().backward()
        res.append((to_np(out), to_np(y), to_np(xt.grad)))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-12)
