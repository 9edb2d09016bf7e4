"""vmap's randomness flag: 'error' raises, 'same' shares one draw across the batch, 'different'
draws independently per batch element (a batched result), level by level when vmaps nest, for
every random op in chainrule; jacfwd's flag; reproducibility under manual_seed; torch parity
of shapes, dtypes, error classes and same-vs-different structure (never of random values)."""
import numpy as np
import pytest

import chainrule
from chainrule.func import grad, grad_and_value, jacfwd, jacrev, vmap
from conftest import needs_torch, to_np

F = chainrule.nn.functional
B = 6


def _rows_differ(out):
    """Every pair of per-example slices differs somewhere."""
    a = to_np(out).reshape(out.shape[0], -1)
    return all(not np.array_equal(a[i], a[j]) for i in range(len(a)) for j in range(i))


def _rows_same(out):
    a = to_np(out)
    return all(np.array_equal(a[0], a[i]) for i in range(len(a)))


def _x(*shape):
    return chainrule.ones(B, *shape)


# -- factory ops ------------------------------------------------------------------------------
FACTORY = {
    "rand": lambda v: chainrule.rand(20),
    "randn": lambda v: chainrule.randn(4, 5),
    "randint": lambda v: chainrule.randint(0, 1000, (20,)),
    "randint_high_only": lambda v: chainrule.randint(1000, (20,)),
    "randperm": lambda v: chainrule.randperm(20),
    "normal_floats": lambda v: chainrule.normal(1.0, 2.0, (20,)),
    "normal_unbatched_tensors": lambda v: chainrule.normal(chainrule.zeros(20),
                                                           chainrule.ones(20)),
    "bernoulli_unbatched": lambda v: chainrule.bernoulli(chainrule.full((40,), 0.5)),
    "multinomial_unbatched": lambda v: chainrule.multinomial(chainrule.ones(30), 10),
    "rand_like": lambda v: chainrule.rand_like(v),
    "randn_like_unbatched": lambda v: chainrule.randn_like(chainrule.zeros(20)),
    "randint_like": lambda v: chainrule.randint_like(v, 1000),
    "v_plus_rand": lambda v: v + chainrule.rand(20),
    "explicit_generator": lambda v: chainrule.rand(20, generator=chainrule.Generator()),
}


@pytest.mark.parametrize("name", sorted(FACTORY))
def test_factory_ops_different_vs_same(name):
    f = FACTORY[name]
    d = vmap(f, randomness="different")(_x(20))
    s = vmap(f, randomness="same")(_x(20))
    assert d.shape == s.shape and d.shape[0] == B and d.dtype == s.dtype
    assert _rows_differ(d), name
    assert _rows_same(s), name
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(f)(_x(20))


def test_factory_values_are_distributed_correctly():
    r = to_np(vmap(lambda v: chainrule.rand(50), randomness="different")(_x()))
    assert r.dtype == np.float32 and (r >= 0).all() and (r < 1).all()
    i = to_np(vmap(lambda v: chainrule.randint(3, 7, (50,)), randomness="different")(_x()))
    assert i.dtype == np.int64 and set(np.unique(i)) == {3, 4, 5, 6}
    p = to_np(vmap(lambda v: chainrule.randperm(9), randomness="different")(_x()))
    assert all(sorted(row) == list(range(9)) for row in p)
    b = to_np(vmap(lambda v: chainrule.bernoulli(chainrule.full((50,), 0.5)),
                   randomness="different")(_x()))
    assert set(np.unique(b)) == {0.0, 1.0}
    m = to_np(vmap(lambda v: chainrule.multinomial(chainrule.ones(2, 8), 8),
                   randomness="different")(_x()))
    assert m.shape == (B, 2, 8) and all(sorted(r) == list(range(8)) for r in m.reshape(-1, 8))
    n = to_np(vmap(lambda v: chainrule.normal(5.0, 0.0, (4,)), randomness="different")(_x()))
    np.testing.assert_array_equal(n, 5.0)


def test_dtype_and_requires_grad_arguments_hold_under_vmap():
    out = vmap(lambda v: chainrule.rand(3, dtype=chainrule.float64), randomness="different")(_x())
    assert out.dtype == chainrule.float64
    out = vmap(lambda v: chainrule.randint_like(v.long(), 5), randomness="different")(_x(3))
    assert out.dtype == chainrule.int64
    out = vmap(lambda v: chainrule.randperm(4, dtype=chainrule.int32),
               randomness="different")(_x())
    assert out.dtype == chainrule.int32


# -- ops whose values depend on a tensor argument ---------------------------------------------
def test_value_dependent_ops_use_each_examples_argument():
    p = chainrule.tensor([[0.0] * 5, [1.0] * 5] * 3)        # per-example probabilities 0 or 1
    out = vmap(chainrule.bernoulli, randomness="different")(p)
    np.testing.assert_array_equal(to_np(out), to_np(p))
    out = vmap(lambda q: q.bernoulli(), randomness="different")(p)
    np.testing.assert_array_equal(to_np(out), to_np(p))
    mean = chainrule.arange(B * 3, dtype=chainrule.float32).reshape(B, 3)
    out = vmap(lambda m: chainrule.normal(m, 0.0), randomness="different")(mean)
    np.testing.assert_array_equal(to_np(out), to_np(mean))
    std = chainrule.tensor([[0.0] * 3, [1.0] * 3] * 3)
    out = to_np(vmap(lambda s: chainrule.normal(chainrule.zeros(3), s),
                     randomness="different")(std))
    assert (out[::2] == 0).all() and (out[1::2] != 0).all()
    w = F.one_hot(chainrule.arange(B) % 4, 4).float()      # example i picks category i % 4
    out = vmap(lambda r: chainrule.multinomial(r, 1), randomness="different")(w)
    np.testing.assert_array_equal(to_np(out)[:, 0], np.arange(B) % 4)


def test_value_dependent_ops_reject_same_with_batched_argument():
    p = chainrule.full((B, 4), 0.5)
    for f in (chainrule.bernoulli, lambda q: chainrule.bernoulli(q, 0.3),
              lambda q: chainrule.normal(q, 1.0), lambda q: chainrule.normal(0.0, q),
              lambda q: chainrule.multinomial(q, 2)):
        with pytest.raises(RuntimeError, match="same randomness with a batched tensor"):
            vmap(f, randomness="same")(p)
        assert vmap(f, randomness="different")(p).shape[0] == B


def test_value_dependent_validation_sees_every_example():
    p = chainrule.tensor([[0.5, 0.5]] * (B - 1) + [[0.5, 1.5]])
    with pytest.raises(RuntimeError, match="p_in"):
        vmap(chainrule.bernoulli, randomness="different")(p)
    s = chainrule.tensor([[1.0]] * (B - 1) + [[-1.0]])
    with pytest.raises(RuntimeError, match="std >= 0"):
        vmap(lambda t: chainrule.normal(0.0, t), randomness="different")(s)


# -- in-place fills ---------------------------------------------------------------------------
INPLACE = {
    "uniform_": lambda t: t.uniform_(-1.0, 2.0),
    "normal_": lambda t: t.normal_(1.0, 3.0),
    "bernoulli_": lambda t: t.bernoulli_(0.5),
    "bernoulli_tensor_p": lambda t: t.bernoulli_(chainrule.full((20,), 0.5)),
    "exponential_": lambda t: t.exponential_(2.0),
    "geometric_": lambda t: t.geometric_(0.3),
    "cauchy_": lambda t: t.cauchy_(),
    "log_normal_": lambda t: t.log_normal_(),
    "random_": lambda t: t.random_(0, 1000),
    "init.uniform_": lambda t: chainrule.nn.init.uniform_(t),
    "init.kaiming_normal_": lambda t: chainrule.nn.init.kaiming_normal_(t.view(4, 5)).view(20),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_fills(name):
    f = INPLACE[name]
    d = vmap(lambda v: f(v.clone()), randomness="different")(_x(20))
    assert d.shape == (B, 20) and _rows_differ(d)
    d2 = vmap(lambda v: f(chainrule.empty_like(v)), randomness="different")(_x(20))
    assert _rows_differ(d2)
    s = vmap(lambda v: f(v.clone()), randomness="same")(_x(20))
    assert _rows_same(s)
    s = vmap(lambda v: v + f(chainrule.zeros(20)), randomness="same")(_x(20))
    assert _rows_same(s)
    with pytest.raises(RuntimeError, match="Cannot ask for different inplace randomness"):
        vmap(lambda v: f(chainrule.zeros(20)), randomness="different")(_x(20))
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda v: f(v.clone()))(_x(20))


def test_inplace_unbatched_error_leaves_generator_and_tensor_alone():
    chainrule.manual_seed(3)
    t = chainrule.zeros(4)
    with pytest.raises(RuntimeError, match="unbatched tensor"):
        vmap(lambda v: t.normal_(), randomness="different")(_x())
    assert (t == 0).all()
    a = chainrule.rand(3)
    chainrule.manual_seed(3)
    assert (a == chainrule.rand(3)).all()


def test_inplace_fill_values_are_distributed_correctly():
    u = to_np(vmap(lambda v: v.clone().uniform_(-1.0, 2.0), randomness="different")(_x(50)))
    assert (u >= -1).all() and (u < 2).all()
    g = to_np(vmap(lambda v: v.clone().geometric_(0.3), randomness="different")(_x(50)))
    assert (g >= 1).all() and (g == np.round(g)).all()
    b = to_np(vmap(lambda v: v.clone().bernoulli_(0.5), randomness="different")(_x(50)))
    assert set(np.unique(b)) == {0.0, 1.0}


# -- nn.functional layers ---------------------------------------------------------------------
def test_dropout_per_example_masks_and_scaling():
    x = chainrule.arange(1.0, B * 30 + 1).reshape(B, 30)
    out = vmap(lambda v: F.dropout(v, 0.25), randomness="different")(x)
    o, xv = to_np(out), to_np(x)
    kept = o != 0
    np.testing.assert_allclose(o[kept], xv[kept] / 0.75, rtol=1e-6)
    assert kept.any() and (~kept).any() and _rows_differ(out != 0)
    same = vmap(lambda v: F.dropout(v, 0.25), randomness="same")(x)
    assert _rows_same(same != 0)
    unb = vmap(lambda v: v * 0 + F.dropout(chainrule.ones(30), 0.5), randomness="different")(x)
    assert _rows_differ(unb)
    m = chainrule.nn.Dropout(0.5)
    assert _rows_differ(vmap(m, randomness="different")(x))
    assert _rows_same(vmap(m, randomness="same")(x) != 0)
    assert (vmap(m.eval())(x) == x).all()        # eval mode draws nothing: 'error' is fine


def test_dropout_inplace_on_batched_input():
    x = _x(30)
    out = vmap(lambda v: F.dropout(v.clone(), 0.5, inplace=True), randomness="different")(x)
    assert _rows_differ(out) and set(np.unique(to_np(out))) == {0.0, 2.0}
    with pytest.raises(RuntimeError):
        vmap(lambda v: F.dropout(chainrule.ones(3), 0.5, inplace=True),
             randomness="different")(x)


@pytest.mark.parametrize("fn, shape, ch", [
    (lambda v: F.dropout1d(v, 0.5), (8, 5), 0),
    (lambda v: F.dropout2d(v, 0.5), (1, 8, 2, 3), 1),
    (lambda v: F.dropout3d(v, 0.5), (8, 2, 2, 2), 0),
    (lambda v: F.feature_alpha_dropout(v, 0.5, True), (1, 8, 4), 1),
])
def test_feature_dropouts_drop_whole_channels_per_example(fn, shape, ch):
    out = to_np(vmap(fn, randomness="different")(_x(*shape)))
    per_channel = np.moveaxis(out, ch + 1, 1).reshape(B, 8, -1)     # (example, channel, rest)
    assert all(len(np.unique(c)) == 1 for c in per_channel.reshape(B * 8, -1))
    assert len({tuple(r) for r in per_channel[:, :, 0]}) > 1
    assert _rows_same(vmap(fn, randomness="same")(_x(*shape)))


def test_alpha_dropout_values():
    out = to_np(vmap(lambda v: F.alpha_dropout(v, 0.5, True), randomness="different")(_x(40)))
    vals = np.unique(np.round(out, 5))
    assert len(vals) == 2       # dropped (a * -alpha' + b) and kept (a * 1 + b)
    assert _rows_differ(chainrule.tensor(out))
    assert _rows_same(vmap(lambda v: F.alpha_dropout(v, 0.5, True), randomness="same")(_x(40)))


def test_rrelu_training_draws_slopes_per_example():
    x = chainrule.tensor(np.tile(np.r_[-np.ones(20), np.ones(5)], (B, 1)), dtype=chainrule.float32)
    out = to_np(vmap(lambda v: F.rrelu(v, 0.1, 0.3, training=True),
                     randomness="different")(x))
    neg = -out[:, :20]
    assert (neg >= 0.1 - 1e-6).all() and (neg <= 0.3 + 1e-6).all()
    np.testing.assert_array_equal(out[:, 20:], 1.0)
    assert _rows_differ(chainrule.tensor(neg))
    assert _rows_same(vmap(lambda v: F.rrelu(v, training=True), randomness="same")(x))
    g = vmap(grad(lambda v: F.rrelu(v, 0.1, 0.3, training=True).sum()),
             randomness="different")(x)
    gv = to_np(g)
    assert (gv[:, :20] >= 0.1 - 1e-6).all() and (gv[:, 20:] == 1).all()


def test_gumbel_softmax():
    logits = chainrule.zeros(B, 5)
    soft = vmap(lambda l: F.gumbel_softmax(l, tau=0.5), randomness="different")(logits)
    np.testing.assert_allclose(to_np(soft).sum(1), 1.0, rtol=1e-5)
    assert _rows_differ(soft)
    hard = vmap(lambda l: F.gumbel_softmax(l, hard=True), randomness="different")(
        chainrule.zeros(B, 3, 5))
    h = to_np(hard)
    assert set(np.unique(h)) == {0.0, 1.0} and (h.sum(-1) == 1).all()
    hard0 = vmap(lambda l: F.gumbel_softmax(l, hard=True, dim=0), randomness="different")(
        chainrule.zeros(B, 3, 5))
    assert (to_np(hard0).sum(1) == 1).all()
    assert _rows_same(vmap(lambda l: F.gumbel_softmax(l), randomness="same")(logits))
    # the noise fills a tensor like logits in place (as torch's does): unbatched logits raise
    with pytest.raises(RuntimeError, match="unbatched tensor"):
        vmap(lambda l: l + F.gumbel_softmax(chainrule.zeros(5)), randomness="different")(logits)


# -- nesting, in/out dims, chunks ---------------------------------------------------------------
@pytest.mark.parametrize("outer", ["error", "same", "different"])
@pytest.mark.parametrize("inner", ["error", "same", "different"])
def test_nested_levels(outer, inner):
    y = chainrule.ones(3, 4, 2)
    f = vmap(vmap(lambda v: chainrule.rand(5), randomness=inner), randomness=outer)
    if "error" in (outer, inner):
        with pytest.raises(RuntimeError, match="randomness error mode"):
            f(y)
        return
    out = to_np(f(y))
    assert out.shape == (3, 4, 5)
    outer_same = all(np.array_equal(out[0], out[i]) for i in range(3))
    inner_same = all(np.array_equal(out[:, 0], out[:, j]) for j in range(4))
    assert outer_same == (outer == "same") and inner_same == (inner == "same")


def test_nested_inplace_and_value_rules_per_level():
    y = chainrule.ones(2, 4, 3)
    with pytest.raises(RuntimeError, match="unbatched tensor"):
        # v is batched at the inner level only; the outer level asks for 'different'
        vmap(lambda a: vmap(lambda v: v.clone().uniform_(), randomness="same")(
            chainrule.ones(4, 3)), randomness="different")(y)
    out = vmap(lambda a: vmap(lambda v: a.clone().uniform_(), randomness="same")(a),
               randomness="different")(y)
    assert out.shape == (2, 4, 4, 3)
    with pytest.raises(RuntimeError, match="same randomness with a batched"):
        vmap(lambda a: vmap(lambda v: chainrule.bernoulli(v * 0.5), randomness="same")(a),
             randomness="different")(y)
    out = vmap(vmap(lambda v: chainrule.bernoulli(v * 0.5), randomness="different"),
               randomness="different")(chainrule.ones(2, 4, 30))
    o = to_np(out)
    assert not np.array_equal(o[0], o[1]) and not np.array_equal(o[:, 0], o[:, 1])


def test_in_dims_out_dims():
    x = chainrule.zeros(3, B)
    out = vmap(lambda v: v + chainrule.rand(3), in_dims=1, randomness="different")(x)
    assert out.shape == (B, 3) and _rows_differ(out)
    out = vmap(lambda v, w: w + chainrule.rand(3), in_dims=(0, None), out_dims=1,
               randomness="different")(_x(), chainrule.zeros(3))
    assert out.shape == (3, B) and _rows_differ(out.T)
    with pytest.raises(ValueError, match="out_dims=None"):
        vmap(lambda v: chainrule.rand(3), out_dims=None, randomness="different")(_x())
    assert vmap(lambda v: chainrule.rand(3), out_dims=None, randomness="same")(_x()).shape == (3,)


def test_chunk_size():
    chainrule.manual_seed(1)
    full = vmap(lambda v: chainrule.rand(4), randomness="different")(_x())
    chainrule.manual_seed(1)
    chunked = vmap(lambda v: chainrule.rand(4), randomness="different", chunk_size=4)(_x())
    np.testing.assert_array_equal(to_np(chunked), to_np(full))
    same = vmap(lambda v: chainrule.rand(4), randomness="same", chunk_size=2)(_x())
    assert _rows_same(same)


# -- reproducibility --------------------------------------------------------------------------
def test_manual_seed_determinism_and_whole_batch_definition():
    def run(f, *shape):
        chainrule.manual_seed(7)
        return to_np(f(_x(*shape)))
    for f in (lambda v: chainrule.rand(4), lambda v: F.dropout(v, 0.5),
              lambda v: chainrule.randperm(5), lambda v: v.clone().normal_()):
        g = vmap(f, randomness="different")
        np.testing.assert_array_equal(run(g, 4), run(g, 4))
    chainrule.manual_seed(0)
    a = vmap(lambda v: chainrule.rand(4), randomness="different")(_x())
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(to_np(a), to_np(chainrule.rand(B, 4)))
    chainrule.manual_seed(0)
    a = vmap(lambda v: chainrule.randn(2, 3), randomness="different")(_x())
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(to_np(a), to_np(chainrule.randn(B, 2, 3)))
    chainrule.manual_seed(0)
    a = vmap(vmap(lambda v: chainrule.rand(3), randomness="different"),
             randomness="different")(chainrule.ones(2, 4))
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(to_np(a), to_np(chainrule.rand(2, 4, 3)))
    chainrule.manual_seed(0)
    a = vmap(lambda v: chainrule.randperm(5), randomness="different")(_x())
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(to_np(a), np.stack([to_np(chainrule.randperm(5))
                                                      for _ in range(B)]))
    chainrule.manual_seed(0)
    a = vmap(lambda v: chainrule.rand(3), randomness="same")(_x())
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(to_np(a), np.broadcast_to(to_np(chainrule.rand(3)), (B, 3)))


# -- transforms -------------------------------------------------------------------------------
def test_jacfwd_randomness():
    x = chainrule.ones(4)
    f = lambda v: v * chainrule.rand(4)          # noqa: E731
    with pytest.raises(RuntimeError, match="randomness error mode"):
        jacfwd(f)(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        jacfwd(lambda v: v * chainrule.rand(4, generator=chainrule.Generator()))(x)
    chainrule.manual_seed(0)
    j = to_np(jacfwd(f, randomness="same")(x))
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(j, np.diag(to_np(chainrule.rand(4))))
    # 'different' is a vmap over jvp: column i (input element i) sees draw i of rand(4, 4)
    chainrule.manual_seed(0)
    j = to_np(jacfwd(f, randomness="different")(x))
    chainrule.manual_seed(0)
    np.testing.assert_array_equal(j, np.diag(np.diag(to_np(chainrule.rand(4, 4)))))
    with pytest.raises(RuntimeError, match="Only allowed values"):
        jacfwd(f, randomness="bogus")


def test_jacfwd_different_matches_jacfwd_on_deterministic_functions():
    rng = np.random.default_rng(0)
    x = chainrule.tensor(rng.standard_normal(3), dtype=chainrule.float64)
    y = chainrule.tensor(rng.standard_normal((2, 3)), dtype=chainrule.float64)

    def f(a, b):
        return (a.sin() * b).sum(0), {"t": (a * b).tanh()}
    for argnums in (0, 1, (0, 1)):
        want = jacfwd(f, argnums)(x, y)
        got = jacfwd(f, argnums, randomness="different")(x, y)
        for w, g in zip(_leaves(want), _leaves(got)):
            np.testing.assert_allclose(to_np(g), to_np(w), rtol=1e-12, atol=1e-14)
    j, aux = jacfwd(lambda a: (a.exp(), a.sum()), has_aux=True, randomness="different")(x)
    np.testing.assert_allclose(to_np(j), np.diag(np.exp(to_np(x))), rtol=1e-12)
    np.testing.assert_allclose(to_np(aux), to_np(x).sum(), rtol=1e-12)


def _leaves(tree):
    from chainrule.autograd._pytree import tree_flatten
    return tree_flatten(tree)[0]


def test_vmap_of_jacobians_and_grads():
    x = _x(3)
    f = lambda v: v * chainrule.rand(3)          # noqa: E731
    out = vmap(jacrev(f), randomness="different")(x)
    assert out.shape == (B, 3, 3) and _rows_differ(out)
    assert _rows_same(vmap(jacrev(f), randomness="same")(x))
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(jacrev(f))(x)
    for inner in ("same", "different"):
        out = vmap(jacfwd(f, randomness=inner), randomness="different")(x)
        assert out.shape == (B, 3, 3) and _rows_differ(out)
    out = vmap(jacfwd(f, randomness="different"), randomness="same")(x)
    assert _rows_same(out)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(jacfwd(f), randomness="different")(x)
    g, (_, y) = vmap(grad_and_value(lambda v: (F.dropout(3 * v, 0.5).sum(),
                                               F.dropout(3 * v, 0.5)), has_aux=True),
                     randomness="different")(_x(20))
    assert _rows_differ(g)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        chainrule.func.hessian(lambda v: (v * chainrule.rand(3)).sum())(chainrule.ones(3))


def test_grad_of_dropout_matches_its_mask():
    def f(v):
        y = F.dropout(v * 3, 0.5)
        return y.sum(), y
    g, (_, y) = vmap(grad_and_value(f, has_aux=True), randomness="different")(_x(20))
    np.testing.assert_array_equal(to_np(g), to_np(y))
    assert _rows_differ(y)


def test_custom_function_with_generate_vmap_rule():
    class Noisy(chainrule.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x * chainrule.rand(x.shape[-1])

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g

    x = _x(5)
    assert _rows_differ(vmap(Noisy.apply, randomness="different")(x))
    assert _rows_same(vmap(Noisy.apply, randomness="same")(x))
    xr = x.clone().requires_grad_()
    out = vmap(Noisy.apply, randomness="different")(xr)       # records a physical node
    assert out.shape == (B, 5) and _rows_differ(out)
    assert _rows_same(vmap(Noisy.apply, randomness="same")(xr))


def test_unbatchable_draw_raises_instead_of_sharing():
    from chainrule.random import _rng
    vmap(lambda v: v + chainrule.tensor(_rng(None).random(3), dtype=chainrule.float32),
         randomness="same")(_x(3))
    with pytest.raises(RuntimeError, match="not batchable"):
        vmap(lambda v: v + chainrule.tensor(_rng(None).random(3)), randomness="different")(
            _x(3))
    with pytest.raises(RuntimeError, match="not batchable|trunc_normal_"):
        vmap(lambda v: chainrule.nn.init.trunc_normal_(v.clone()), randomness="different")(
            _x(3))
    with pytest.raises(RuntimeError, match="unbatched tensor"):
        vmap(lambda v: chainrule.nn.init.trunc_normal_(chainrule.empty(3)),
             randomness="different")(_x(3))


def test_bad_flag_and_generator_usable_afterwards():
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        vmap(lambda v: v, randomness="bogus")
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda v: chainrule.rand(2))(_x())
    chainrule.rand(2)
    chainrule.get_rng_state()


# -- torch parity -----------------------------------------------------------------------------
PARITY = {
    "rand": lambda m, v: m.rand(7),
    "randn": lambda m, v: m.randn(7),
    "randint": lambda m, v: m.randint(0, 100, (7,)),
    "randperm": lambda m, v: m.randperm(7),
    "normal_floats": lambda m, v: m.normal(0.0, 1.0, (7,)),
    "normal_batched_mean": lambda m, v: m.normal(v, 1.0),
    "normal_batched_std": lambda m, v: m.normal(0.0, v),
    "normal_unbatched_tensors": lambda m, v: m.normal(m.zeros(7), m.ones(7)),
    "bernoulli_batched": lambda m, v: m.bernoulli(v * 0.5),
    "bernoulli_unbatched": lambda m, v: m.bernoulli(m.full((7,), 0.5)),
    "bernoulli_p_batched": lambda m, v: m.bernoulli(v, 0.5),
    "multinomial_batched": lambda m, v: m.multinomial(v, 3),
    "multinomial_unbatched_2d": lambda m, v: m.multinomial(m.ones(2, 7), 3),
    "rand_like_batched": lambda m, v: m.rand_like(v),
    "rand_like_unbatched": lambda m, v: m.rand_like(m.ones(7)),
    "randn_like_batched": lambda m, v: m.randn_like(v, dtype=m.float64),
    "randint_like_batched": lambda m, v: m.randint_like(v, 10),
    "uniform_batched": lambda m, v: v.clone().uniform_(),
    "uniform_unbatched": lambda m, v: m.zeros(7).uniform_(),
    "uniform_empty_like": lambda m, v: m.empty_like(v).uniform_(),
    "normal_batched": lambda m, v: v.clone().normal_(),
    "normal_unbatched": lambda m, v: m.zeros(7).normal_(),
    "bernoulli__batched": lambda m, v: v.clone().bernoulli_(0.5),
    "bernoulli__unbatched": lambda m, v: m.zeros(7).bernoulli_(0.5),
    "exponential_batched": lambda m, v: v.clone().exponential_(),
    "geometric_batched": lambda m, v: v.clone().geometric_(0.5),
    "cauchy_batched": lambda m, v: v.clone().cauchy_(),
    "log_normal_batched": lambda m, v: v.clone().log_normal_(),
    "random_batched": lambda m, v: v.clone().random_(0, 10),
    "random_unbatched": lambda m, v: m.zeros(7).random_(0, 10),
    "dropout_batched": lambda m, v: m.nn.functional.dropout(v, 0.5),
    "dropout_unbatched": lambda m, v: m.nn.functional.dropout(m.ones(7), 0.5),
    "dropout_p0": lambda m, v: m.nn.functional.dropout(v, 0.0),
    "dropout_eval": lambda m, v: m.nn.functional.dropout(v, 0.5, training=False),
    "dropout1d": lambda m, v: m.nn.functional.dropout1d(v.reshape(7, 1), 0.5),
    "dropout2d": lambda m, v: m.nn.functional.dropout2d(v.reshape(1, 7, 1, 1), 0.5),
    "dropout3d_unbatched": lambda m, v: m.nn.functional.dropout3d(m.ones(1, 7, 1, 1, 1), 0.5),
    "alpha_dropout": lambda m, v: m.nn.functional.alpha_dropout(v, 0.5, True),
    "feature_alpha_dropout": lambda m, v: m.nn.functional.feature_alpha_dropout(
        v.reshape(1, 7, 1), 0.5, True),
    "Dropout": lambda m, v: m.nn.Dropout(0.5)(v),
    "gumbel_batched": lambda m, v: m.nn.functional.gumbel_softmax(v),
    "gumbel_hard_batched": lambda m, v: m.nn.functional.gumbel_softmax(v, hard=True),
    "gumbel_unbatched": lambda m, v: m.nn.functional.gumbel_softmax(m.ones(7)),
}


def _outcome(m, vm, name, randomness):
    v = m.ones(5, 7)
    try:
        out = vm(lambda a: PARITY[name](m, a), randomness=randomness)(v)
    except Exception as e:      # noqa: BLE001  (the class is what is compared)
        return type(e).__name__
    a = out.detach().numpy().reshape(5, -1)
    same = all(np.array_equal(a[0], a[i]) for i in range(5))
    return tuple(out.shape), str(out.dtype).split(".")[-1], same


@needs_torch
@pytest.mark.parametrize("randomness", ["error", "same", "different"])
@pytest.mark.parametrize("name", sorted(PARITY))
def test_torch_parity(name, randomness):
    import torch
    import torch.func
    torch.manual_seed(0)
    chainrule.manual_seed(0)
    want = _outcome(torch, torch.func.vmap, name, randomness)
    got = _outcome(chainrule, vmap, name, randomness)
    assert got == want


@needs_torch
@pytest.mark.parametrize("outer", ["error", "same", "different"])
@pytest.mark.parametrize("inner", ["error", "same", "different"])
@pytest.mark.parametrize("case", ["rand", "bernoulli_inner", "bernoulli_outer", "inplace"])
def test_torch_parity_nested(outer, inner, case):
    import torch
    import torch.func

    def run(m, vm):
        y = m.ones(2, 3, 4)
        fns = {"rand": lambda a: vm(lambda v: m.rand(4), randomness=inner)(a),
               "bernoulli_inner": lambda a: vm(lambda v: m.bernoulli(v * 0.5),
                                               randomness=inner)(a),
               "bernoulli_outer": lambda a: vm(lambda v: v + m.bernoulli(a * 0.5),
                                               randomness=inner)(a),
               "inplace": lambda a: vm(lambda v: v + a.clone().uniform_(),
                                       randomness=inner)(a)}
        try:
            out = vm(fns[case], randomness=outer)(y)
        except Exception as e:      # noqa: BLE001
            return type(e).__name__
        o = out.detach().numpy()
        return (o.shape, all(np.array_equal(o[0], o[i]) for i in range(o.shape[0])),
                all(np.array_equal(o[:, 0], o[:, j]) for j in range(o.shape[1])))
    assert run(chainrule, vmap) == run(torch, torch.func.vmap)


@needs_torch
@pytest.mark.parametrize("randomness", ["error", "same", "different"])
def test_torch_parity_jacfwd(randomness):
    import torch
    import torch.func

    def run(m, jf):
        try:
            j = jf(lambda v: v * m.rand(3), randomness=randomness)(m.ones(3))
        except Exception as e:      # noqa: BLE001
            return type(e).__name__
        j = j.detach().numpy()
        return j.shape, bool((j[~np.eye(3, dtype=bool)] == 0).all())
    assert run(chainrule, jacfwd) == run(torch, torch.func.jacfwd)
