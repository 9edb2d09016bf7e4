"""vmap over nn.functional: every layer, activation and loss below maps over a batch exactly as
a Python loop does (values and per-sample gradients), and as torch.func.vmap does."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch

# name -> (fn(m, F, x, K), per-sample shape). K: constants made once per library; nothing in
# fn draws random numbers (vmap's randomness='error').
CASES = {}


def case(name, shape):
    def deco(fn):
        CASES[name] = (fn, shape)
        return fn
    return deco


_ACTS = ["relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign",
         "sigmoid", "tanh", "logsigmoid", "hardtanh", "hardswish", "hardsigmoid", "leaky_relu",
         "softshrink", "hardshrink", "tanhshrink", "normalize"]
for _a in _ACTS:
    case(_a, (3, 4))(lambda m, F, x, K, a=_a: getattr(F, a)(x))

case("softmin", (3, 4))(lambda m, F, x, K: F.softmin(x, -1))
case("softmax", (3, 4))(lambda m, F, x, K: F.softmax(x, -1))
case("log_softmax", (3, 4))(lambda m, F, x, K: F.log_softmax(x, 1))
case("threshold", (3, 4))(lambda m, F, x, K: F.threshold(x, 0.1, 2.0))
case("rrelu_eval", (3, 4))(lambda m, F, x, K: F.rrelu(x, training=False))
case("prelu", (3, 4))(lambda m, F, x, K: F.prelu(x, K["slope"]))
case("glu", (3, 4))(lambda m, F, x, K: F.glu(x))
case("linear", (2, 4))(lambda m, F, x, K: F.linear(x, K["w24"], K["b2"]))
case("bilinear", (3, 4))(lambda m, F, x, K: F.bilinear(x, x, K["w244"]))
case("conv1d", (2, 6))(lambda m, F, x, K: F.conv1d(x, K["w223"]))
case("conv2d", (2, 5, 5))(lambda m, F, x, K: F.conv2d(x, K["w2233"], padding=1))
case("conv3d", (1, 2, 4, 4, 4))(lambda m, F, x, K: F.conv3d(x, K["w22333"]))
case("conv_transpose2d", (2, 4, 4))(lambda m, F, x, K: F.conv_transpose2d(x, K["w2233"]))
case("max_pool2d", (2, 4, 4))(lambda m, F, x, K: F.max_pool2d(x, 2))
case("max_pool2d_indices", (2, 4, 4))(
    lambda m, F, x, K: F.max_pool2d(x, 2, return_indices=True)[1].to(x.dtype))
case("avg_pool2d", (2, 4, 4))(lambda m, F, x, K: F.avg_pool2d(x, 2))
case("adaptive_avg_pool2d", (2, 4, 4))(lambda m, F, x, K: F.adaptive_avg_pool2d(x, 2))
case("adaptive_max_pool2d", (2, 4, 4))(lambda m, F, x, K: F.adaptive_max_pool2d(x, 2))
case("lp_pool2d", (2, 4, 4))(lambda m, F, x, K: F.lp_pool2d(x, 2, 2))
case("layer_norm", (3, 4))(lambda m, F, x, K: F.layer_norm(x, (4,)))
case("group_norm", (2, 4, 3))(lambda m, F, x, K: F.group_norm(x, 2, K["ones4"], K["zeros4"]))
case("batch_norm_eval", (2, 4))(
    lambda m, F, x, K: F.batch_norm(x, K["zeros4"], K["ones4"], training=False))
case("batch_norm_batch_stats", (3, 4))(lambda m, F, x, K: F.batch_norm(x, None, None,
                                                                         training=True))
case("instance_norm", (2, 3, 4))(lambda m, F, x, K: F.instance_norm(x))
case("local_response_norm", (2, 4, 3))(lambda m, F, x, K: F.local_response_norm(x, 3))
case("embedding", (4, 2))(lambda m, F, w, K: F.embedding(K["idx"], w, padding_idx=1))
case("embedding_bag", (4, 2))(lambda m, F, w, K: F.embedding_bag(K["bags"], w))
case("sdpa", (2, 3, 4))(lambda m, F, q, K: F.scaled_dot_product_attention(q, q, q))
case("sdpa_causal", (2, 3, 4))(
    lambda m, F, q, K: F.scaled_dot_product_attention(q, q, q, is_causal=True))
case("sdpa_bool_mask", (2, 3, 4))(
    lambda m, F, q, K: F.scaled_dot_product_attention(q, q, q, attn_mask=K["mask"]))
case("pad_constant", (3, 4))(lambda m, F, x, K: F.pad(x, (1, 2)))
case("pad_reflect", (2, 3, 4))(lambda m, F, x, K: F.pad(x, (1, 2), mode="reflect"))
case("pad_replicate", (2, 3, 4))(lambda m, F, x, K: F.pad(x, (1, 2), mode="replicate"))
case("pad_circular", (2, 3, 4))(lambda m, F, x, K: F.pad(x, (1, 2), mode="circular"))
case("interpolate_nearest", (2, 3, 4))(lambda m, F, x, K: F.interpolate(x, scale_factor=2))
case("interpolate_bilinear", (1, 2, 3, 4))(
    lambda m, F, x, K: F.interpolate(x, scale_factor=2, mode="bilinear"))
case("pixel_shuffle", (4, 2, 2))(lambda m, F, x, K: F.pixel_shuffle(x, 2))
case("unfold_fold", (2, 3, 3))(lambda m, F, x, K: F.fold(F.unfold(x, 2), (3, 3), 2))
case("cosine_similarity", (3, 4))(lambda m, F, x, K: F.cosine_similarity(x, K["t34"]))
case("pairwise_distance", (3, 4))(lambda m, F, x, K: F.pairwise_distance(x, K["t34"]))
case("dropout_eval", (3, 4))(lambda m, F, x, K: F.dropout(x, 0.5, training=False))
case("mse_loss", (3, 4))(lambda m, F, x, K: F.mse_loss(x, K["t34"]))
case("l1_loss", (3, 4))(lambda m, F, x, K: F.l1_loss(x, K["t34"]))
case("smooth_l1_loss", (3, 4))(lambda m, F, x, K: F.smooth_l1_loss(x, K["t34"]))
case("huber_loss", (3, 4))(lambda m, F, x, K: F.huber_loss(x, K["t34"]))
case("bce", (3, 4))(lambda m, F, x, K: F.binary_cross_entropy(x.sigmoid(), K["p34"]))
case("bce_with_logits", (3, 4))(
    lambda m, F, x, K: F.binary_cross_entropy_with_logits(x, K["p34"]))
case("kl_div", (3, 4))(lambda m, F, x, K: F.kl_div(x.log_softmax(-1), K["p34"],
                                                     reduction="batchmean"))
case("nll_loss", (3, 4))(lambda m, F, x, K: F.nll_loss(x.log_softmax(-1), K["tgt"]))
case("cross_entropy", (3, 4))(lambda m, F, x, K: F.cross_entropy(x, K["tgt"]))
case("cross_entropy_sum", (3, 4))(lambda m, F, x, K: F.cross_entropy(x, K["tgt"],
                                                                       reduction="sum"))
case("cross_entropy_none_nd", (2, 4, 2))(
    lambda m, F, x, K: F.cross_entropy(x, K["tgt_nd"], reduction="none"))
case("cross_entropy_1d", (4,))(lambda m, F, x, K: F.cross_entropy(x, K["tgt0"]))
case("cross_entropy_weight_ignore", (3, 4))(
    lambda m, F, x, K: F.cross_entropy(x, K["tgt_ign"], weight=K["cw"]))
case("cross_entropy_smoothing", (3, 4))(
    lambda m, F, x, K: F.cross_entropy(x, K["tgt_ign"], weight=K["cw"], label_smoothing=0.2))
case("cross_entropy_probs", (3, 4))(lambda m, F, x, K: F.cross_entropy(x, K["p34"]))
case("multi_margin_loss", (3, 4))(lambda m, F, x, K: F.multi_margin_loss(x, K["tgt"]))
case("multilabel_margin_loss", (3, 4))(
    lambda m, F, x, K: F.multilabel_margin_loss(x, K["mlt"]))
case("multilabel_soft_margin_loss", (3, 4))(
    lambda m, F, x, K: F.multilabel_soft_margin_loss(x, K["p34"].round()))
case("soft_margin_loss", (3, 4))(lambda m, F, x, K: F.soft_margin_loss(x, K["t34"].sign()))
case("hinge_embedding_loss", (3, 4))(
    lambda m, F, x, K: F.hinge_embedding_loss(x, K["t34"].sign()))
case("triplet_margin_loss", (3, 4))(
    lambda m, F, x, K: F.triplet_margin_loss(x, K["t34"], -K["t34"]))
case("gaussian_nll_loss", (3, 4))(lambda m, F, x, K: F.gaussian_nll_loss(x, K["t34"],
                                                                           K["p34"] + 0.5))
case("poisson_nll_loss", (3, 4))(lambda m, F, x, K: F.poisson_nll_loss(x, K["p34"]))


def _consts(m):
    r = np.random.default_rng(7)

    def t(*shape):
        return m.tensor(r.standard_normal(shape))
    K = {"t34": t(3, 4), "w24": t(2, 4), "b2": t(2), "w244": t(2, 4, 4), "w223": t(2, 2, 3),
         "w2233": t(2, 2, 3, 3), "w22333": t(2, 1, 3, 3, 3), "slope": m.tensor([0.25], dtype=m.float64),
         "ones4": m.ones(4, dtype=m.float64), "zeros4": m.zeros(4, dtype=m.float64),
         "idx": m.tensor([0, 1, 2]), "bags": m.tensor([[0, 1], [2, 3]]),
         "mask": m.tensor([[True, False, True]] * 3), "tgt": m.tensor([1, 0, 2]),
         "tgt_nd": m.tensor([[0, 1], [2, 3]]), "tgt0": m.tensor(2),
         "tgt_ign": m.tensor([0, -100, 2]), "cw": m.tensor([1.0, 2.0, 3.0, 4.0], dtype=m.float64),
         "mlt": m.tensor([[3, 0, -1, 1]] * 3)}
    K["p34"] = m.tensor(1 / (1 + np.exp(-r.standard_normal((3, 4)))))
    K["w22333"] = t(2, 2, 3, 3, 3)
    return K


def _inputs(shape, m, B=3):
    return m.tensor(np.random.default_rng(1).standard_normal((B,) + shape))


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_a_loop(name):
    fn, shape = CASES[name]
    m, F = chainrule, chainrule.nn.functional
    from chainrule.func import grad, vmap
    K = _consts(m)
    X = _inputs(shape, m)
    got = vmap(lambda x: fn(m, F, x, K))(X)
    want = m.stack([fn(m, F, X[i], K) for i in range(X.shape[0])])
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)
    g = vmap(grad(lambda x: fn(m, F, x, K).sum()))(X)
    gw = m.stack([grad(lambda x: fn(m, F, x, K).sum())(X[i]) for i in range(X.shape[0])])
    np.testing.assert_allclose(g.numpy(), gw.numpy(), rtol=1e-10, atol=1e-12)


# torch's hardsigmoid backward multiplies by a float32 1/6 (off by 3e-8 in float64)
_TORCH_RTOL = {"hardsigmoid": 1e-7}
_TORCH_LACKS = {"rrelu_eval": "torch.func.vmap has no batching rule for aten::rrelu"}


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_torch(name):
    import torch
    import torch.func
    if name in _TORCH_LACKS:
        pytest.skip(_TORCH_LACKS[name])
    fn, shape = CASES[name]
    res = []
    for m, vmap, grad in ((chainrule, chainrule.func.vmap, chainrule.func.grad),
                          (torch, torch.func.vmap, torch.func.grad)):
        K, X, F = _consts(m), _inputs(shape, m), m.nn.functional
        out = vmap(lambda x: fn(m, F, x, K))(X)
        g = vmap(grad(lambda x: fn(m, F, x, K).sum()))(X)
        res.append((out.detach().numpy(), g.detach().numpy()))
    rtol = _TORCH_RTOL.get(name, 1e-9)
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=rtol, atol=1e-12)


def _per_sample_grads(m, ignore=False):
    """torch.func's per-sample-gradient recipe: vmap(grad(loss)) over (sample, target)."""
    from importlib import import_module
    func = import_module(f"{m.__name__}.func")
    r = np.random.default_rng(3)
    model = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.ReLU(), m.nn.Linear(8, 3)).double()
    with m.no_grad():
        for p in model.parameters():
            p.copy_(m.tensor(r.standard_normal(tuple(p.shape))))
    params = {k: v.detach() for k, v in model.named_parameters()}
    x = m.tensor(r.standard_normal((5, 4)))
    y = m.tensor([0, 2, 1, 1, 0])
    if ignore:
        y = m.tensor([0, -100, 1, 1, 0])

    def loss(p, xi, yi):
        out = func.functional_call(model, p, (xi.unsqueeze(0),))
        return m.nn.functional.cross_entropy(out, yi.unsqueeze(0))
    g = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    return {k: v.detach().numpy() for k, v in g.items()}, (model, params, x, y, loss)


@pytest.mark.parametrize("ignore", [False, True])
def test_per_sample_gradients_with_batched_targets(ignore):
    g, (model, params, x, y, loss) = _per_sample_grads(chainrule, ignore)
    from chainrule.func import grad
    for i in range(x.shape[0]):
        gi = grad(loss)(params, x[i], y[i])
        for k in g:
            np.testing.assert_allclose(g[k][i], gi[k].numpy(), rtol=1e-10, atol=1e-12)


@needs_torch
def test_per_sample_gradients_match_torch():
    import torch
    ours, _ = _per_sample_grads(chainrule)
    theirs, _ = _per_sample_grads(torch)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-9, atol=1e-12)


def test_batched_target_out_of_range_is_an_index_error():
    from chainrule.func import vmap
    x = chainrule.randn(3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        vmap(lambda a, t: chainrule.nn.functional.cross_entropy(a, t))(x, chainrule.tensor(
            [1, 7, 0]))


def test_comparisons_and_tests_map_over_the_batch():
    from chainrule.func import vmap
    x = chainrule.tensor([[-1.0, 0.0, float("inf")], [2.0, float("nan"), -3.0]])
    fns = [lambda a: a > 0, lambda a: a == 0, lambda a: a.isfinite(), lambda a: a.isnan(),
           lambda a: (a > 0) & (a < 3), lambda a: ~(a > 0), lambda a: a.isclose(a),
           lambda a: chainrule.logical_not(a), lambda a: a.masked_fill(a < 0, 0.0),
           lambda a: chainrule.where(a > 0, a, -a)]
    for f in fns:
        got = vmap(f)(x)
        want = chainrule.stack([f(x[0]), f(x[1])])
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert got.dtype == want.dtype


# -- whole modules through functional_call: per-sample gradients and model ensembles -----------
def _modules(nn):
    return {
        "mlp": (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), (5, 4)),
        "cnn": (lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Flatten(), nn.Linear(18, 3)), (2, 1, 8, 8)),
        "conv_transpose": (lambda: nn.ConvTranspose1d(2, 3, 3, groups=1), (2, 2, 5)),
        "grouped_conv": (lambda: nn.Conv1d(4, 6, 3, groups=2), (2, 4, 7)),
        "lstm": (lambda: nn.LSTM(4, 5, batch_first=True), (2, 3, 4)),
        "gru_2_layers": (lambda: nn.GRU(4, 5, num_layers=2), (3, 2, 4)),
        "mha": (lambda: nn.MultiheadAttention(4, 2, batch_first=True), (2, 3, 4)),
        "transformer_layer": (lambda: nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0,
                                                                 batch_first=True), (2, 3, 4)),
        "batchnorm_eval": (lambda: nn.BatchNorm1d(4).eval(), (5, 4)),
        "groupnorm": (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
        "embedding": (lambda: nn.Embedding(10, 3), None),
        "upsample_conv": (lambda: nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"),
                                                nn.Conv2d(1, 1, 1)), (1, 1, 3, 3)),
    }


def _module_case(m, name, seed=0):
    from importlib import import_module
    func = import_module(f"{m.__name__}.func")
    ctor, shape = _modules(m.nn)[name]
    r = np.random.default_rng(seed)
    mod = ctor().double()
    params = {k: m.tensor(r.standard_normal(tuple(v.shape))) for k, v in
              mod.named_parameters()}
    if name == "embedding":
        X = m.tensor(r.integers(0, 10, (3, 4)))
    else:
        X = m.tensor(r.standard_normal((3,) + shape))

    def run(p, x):
        out = func.functional_call(mod, p, (x, x, x) if name == "mha" else (x,))
        return (out[0] if isinstance(out, tuple) else out).sum()
    return func, params, X, run


@pytest.mark.parametrize("name", sorted(_modules(chainrule.nn)))
def test_modules_per_sample_gradients_and_ensembles(name):
    func, params, X, run = _module_case(chainrule, name)
    got = func.vmap(func.grad(run), in_dims=(None, 0))(params, X)
    for i in range(X.shape[0]):
        gi = func.grad(run)(params, X[i])
        for k in got:
            np.testing.assert_allclose(got[k][i].numpy(), gi[k].numpy(), rtol=1e-10,
                                       atol=1e-12)
    stacked = {k: chainrule.stack([v, v * 0.5]) for k, v in params.items()}
    ens = func.vmap(run, in_dims=(0, None))(stacked, X[0])
    want = [run({k: v[j] for k, v in stacked.items()}, X[0]) for j in range(2)]
    np.testing.assert_allclose(ens.numpy(), chainrule.stack(want).numpy(), rtol=1e-10)


@needs_torch
@pytest.mark.parametrize("name", ["cnn", "grouped_conv", "conv_transpose", "embedding",
                                  "mha", "transformer_layer", "groupnorm"])
def test_modules_per_sample_gradients_match_torch(name):
    import torch
    res = []
    for m in (chainrule, torch):
        func, params, X, run = _module_case(m, name)
        g = func.vmap(func.grad(run), in_dims=(None, 0))(params, X)
        res.append({k: v.detach().numpy() for k, v in g.items()})
    for k in res[0]:
        np.testing.assert_allclose(res[0][k], res[1][k], rtol=1e-9, atol=1e-12)
