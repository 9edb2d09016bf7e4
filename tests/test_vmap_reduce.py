"""vmap over reductions, sorting/searching and indexing with batched indices: every case below
maps over a batch exactly as a Python loop does (values, dtypes and per-sample gradients), and
as torch.func.vmap does."""
import numpy as np
import pytest

import chainrule
from chainrule.func import grad, vmap
from conftest import needs_torch

# name -> (fn(m, x, K), per-sample shape, input kind). Kinds: "normal", "ties" (small integers
# as floats: many equal values), "nan" (normal with NaNs). K: constants made per library.
CASES = {}


def case(name, shape=(3, 4), kind="normal"):
    def deco(fn):
        CASES[name] = (fn, shape, kind)
        return fn
    return deco


def _c(name, fn, shape=(3, 4), kind="normal"):
    case(name, shape, kind)(fn)


# argmax / argmin (indices: int64; ties go to the first occurrence)
_c("argmax", lambda m, x, K: m.argmax(x))
_c("argmax_keepdim", lambda m, x, K: m.argmax(x, keepdim=True))
_c("argmax_dim", lambda m, x, K: x.argmax(1))
_c("argmax_negdim_keepdim", lambda m, x, K: x.argmax(-2, keepdim=True))
_c("argmin_dim", lambda m, x, K: m.argmin(x, 0))
_c("argmin", lambda m, x, K: x.argmin())
_c("argmax_ties", lambda m, x, K: x.argmax(1), kind="ties")
_c("argmin_ties_all", lambda m, x, K: x.argmin(), kind="ties")
_c("argmax_1d", lambda m, x, K: x.argmax(0), shape=(5,))
_c("argmax_0d", lambda m, x, K: x.argmax(), shape=())
_c("argmax_0d_dim", lambda m, x, K: x.argmax(0), shape=())
# max / min with indices (ties: the first)
_c("max_dim_ties", lambda m, x, K: m.max(x, 1), kind="ties")
_c("min_dim", lambda m, x, K: x.min(-1, keepdim=True))
# sort family (stable; descending keeps equal elements in order)
_c("sort", lambda m, x, K: m.sort(x, 1))
_c("sort_desc_negdim", lambda m, x, K: x.sort(-2, descending=True))
_c("sort_stable_ties", lambda m, x, K: m.sort(x, stable=True), kind="ties")
_c("sort_desc_stable_ties", lambda m, x, K: x.sort(dim=0, descending=True, stable=True),
   kind="ties")
_c("sort_1d", lambda m, x, K: x.sort(), shape=(6,))
_c("sort_0d", lambda m, x, K: x.sort(), shape=())
_c("argsort", lambda m, x, K: m.argsort(x, 0))
_c("argsort_desc_ties", lambda m, x, K: x.argsort(dim=-1, descending=True, stable=True),
   kind="ties")
_c("msort", lambda m, x, K: m.msort(x))
_c("topk", lambda m, x, K: x.topk(2))
_c("topk_smallest_dim0", lambda m, x, K: m.topk(x, 2, 0, largest=False))
_c("topk_unsorted", lambda m, x, K: x.topk(3, sorted=False).values.sort(-1).values)
_c("topk_1d", lambda m, x, K: x.topk(1), shape=(5,))
_c("kthvalue", lambda m, x, K: x.kthvalue(2, 1))
_c("kthvalue_keepdim_negdim", lambda m, x, K: m.kthvalue(x, 3, -2, keepdim=True))
_c("kthvalue_1d", lambda m, x, K: x.kthvalue(4), shape=(5,))
# order statistics
_c("median", lambda m, x, K: x.median())
_c("median_ties", lambda m, x, K: x.median(), kind="ties")
_c("median_dim", lambda m, x, K: m.median(x, 1))
_c("median_dim_keepdim", lambda m, x, K: x.median(-2, keepdim=True))
_c("median_dim_ties", lambda m, x, K: x.median(1), kind="ties")
_c("median_nan", lambda m, x, K: x.median(), kind="nan")
_c("median_dim_nan", lambda m, x, K: x.median(0), kind="nan")
_c("median_0d", lambda m, x, K: x.median(), shape=())
_c("median_1d_dim", lambda m, x, K: x.median(0), shape=(4,))
_c("nanmedian", lambda m, x, K: x.nanmedian(), kind="nan")
_c("nanmedian_dim", lambda m, x, K: m.nanmedian(x, 1), kind="nan")
_c("mode", lambda m, x, K: x.mode(1), kind="ties")
_c("mode_dim0_keepdim", lambda m, x, K: m.mode(x, 0, keepdim=True), kind="ties")
_c("logsumexp", lambda m, x, K: x.logsumexp(1))
_c("logsumexp_all_keepdim", lambda m, x, K: m.logsumexp(x, (0, 1), keepdim=True))
_c("logsumexp_inf", lambda m, x, K: m.logsumexp(x.masked_fill(K["m34"], float("-inf")), 1))
_c("logsumexp_1d", lambda m, x, K: x.logsumexp(0), shape=(5,))
_c("cummax", lambda m, x, K: x.cummax(1))
_c("cummax_ties", lambda m, x, K: m.cummax(x, 0), kind="ties")
_c("cummin_negdim", lambda m, x, K: x.cummin(-1))
_c("cummin_ties", lambda m, x, K: m.cummin(x, 1), kind="ties")
_c("quantile_dim", lambda m, x, K: m.quantile(x, 0.3, dim=1))
_c("quantile_all", lambda m, x, K: x.quantile(0.5))
_c("quantile_qtensor_keepdim", lambda m, x, K: m.quantile(x, K["q"], dim=0, keepdim=True))
_c("quantile_lower", lambda m, x, K: m.quantile(x, 0.4, dim=-1, interpolation="lower"))
_c("quantile_higher", lambda m, x, K: m.quantile(x, 0.4, dim=1, interpolation="higher"))
_c("quantile_midpoint", lambda m, x, K: m.quantile(x, K["q"], interpolation="midpoint"))
_c("quantile_nearest", lambda m, x, K: m.quantile(x, 0.45, dim=0, interpolation="nearest"))
_c("quantile_nan", lambda m, x, K: m.quantile(x, 0.3, dim=1), kind="nan")
_c("nanquantile", lambda m, x, K: m.nanquantile(x, K["q"], dim=1), kind="nan")
_c("nanquantile_all", lambda m, x, K: x.nanquantile(0.7), kind="nan")
_c("nanmean", lambda m, x, K: x.nanmean(1), kind="nan")
_c("nanmean_all_keepdim", lambda m, x, K: m.nanmean(x, keepdim=True), kind="nan")
_c("nansum", lambda m, x, K: x.nansum(0), kind="nan")
_c("std_mean", lambda m, x, K: m.std_mean(x, 1))
_c("var_mean", lambda m, x, K: m.var_mean(x))
_c("aminmax", lambda m, x, K: m.aminmax(x))
_c("aminmax_dim_ties", lambda m, x, K: m.aminmax(x, dim=1, keepdim=True), kind="ties")
_c("amax_bool", lambda m, x, K: (x > 0).amax(1))
_c("amin_bool_all", lambda m, x, K: (x > 0).amin())
# any / all / count_nonzero (bool and int64 results)
_c("any_dim", lambda m, x, K: (x > 0).any(1))
_c("all", lambda m, x, K: m.all(x > -1))
_c("any_keepdim_negdim", lambda m, x, K: (x > 1).any(-2, keepdim=True))
_c("all_float", lambda m, x, K: x.all(0))
_c("any_uint8", lambda m, x, K: (x > 0).to(m.uint8).any(1))
_c("any_0d", lambda m, x, K: (x > 0).any(), shape=())
_c("count_nonzero_dim", lambda m, x, K: m.count_nonzero(x > 0, 1))
_c("count_nonzero", lambda m, x, K: (x > 0).count_nonzero())
_c("count_nonzero_dims", lambda m, x, K: m.count_nonzero(x, (0, 1)), kind="ties")
# searching: a constant sorted sequence, and a batched one
_c("searchsorted", lambda m, x, K: m.searchsorted(K["seq"], x))
_c("searchsorted_right_int32", lambda m, x, K: m.searchsorted(K["seq"], x, right=True,
                                                              out_int32=True), kind="ties")
_c("searchsorted_sorter", lambda m, x, K: m.searchsorted(K["useq"], x, sorter=K["sorter"]))
_c("bucketize", lambda m, x, K: m.bucketize(x, K["seq"]))
_c("bucketize_right", lambda m, x, K: m.bucketize(x, K["seq"], right=True), kind="ties")
_c("searchsorted_batched_seq", lambda m, x, K: m.searchsorted(x.sort().values, K["vals"]),
   shape=(5,))
_c("searchsorted_batched_nd_seq", lambda m, x, K: m.searchsorted(x.sort().values, K["vals34"]))
_c("searchsorted_batched_both", lambda m, x, K: m.searchsorted(x.sort().values, x * 0.5),
   kind="ties")
_c("searchsorted_batched_sorter", lambda m, x, K: m.searchsorted(x, K["vals"], side="right",
                                                                 sorter=x.argsort()),
   shape=(5,))
_c("bucketize_batched_int32", lambda m, x, K: m.bucketize(K["vals34"], x.sort().values,
                                                          out_int32=True), shape=(5,))
_c("searchsorted_scalar", lambda m, x, K: m.searchsorted(x.sort().values, 0.25), shape=(5,))
# indexing with indices computed under vmap (batched)
_c("gather_argmax", lambda m, x, K: x.gather(1, x.argmax(1, keepdim=True)))
_c("gather_smaller_index", lambda m, x, K: m.gather(x, 0, x.argsort(0)[:2, :3]))
_c("take_along_dim_argsort", lambda m, x, K: m.take_along_dim(x, x.argsort(1), 1))
_c("take_along_dim_broadcast", lambda m, x, K: x.take_along_dim(x[:1].argsort(1), 1))
_c("take_along_dim_flat", lambda m, x, K: m.take_along_dim(x, x.argmax().reshape(1)))
_c("index_select_batched_index", lambda m, x, K: x.index_select(1, x[0].argsort()[:3]))
_c("take_batched_index", lambda m, x, K: m.take(x, x.argsort(1)[:2] - 5))
_c("gather_const_input", lambda m, x, K: K["t34"].gather(1, x.argsort(1)))
_c("scatter_batched_index", lambda m, x, K: m.zeros(3, 4, dtype=m.float64).scatter(
    1, x.argsort(1)[:, :2], x[:, 1:3]))
_c("scatter_value_batched_index", lambda m, x, K: x.scatter(1, x.argmax(1, keepdim=True), 0.5))
_c("scatter_add_batched_index", lambda m, x, K: x.scatter_add(0, x.argsort(0)[:2], x[:2] ** 2))
_c("scatter_reduce_amax_batched_index", lambda m, x, K: x.scatter_reduce(
    1, x.argsort(1)[:, :2], x[:, :2] * 2, "amax", include_self=False))
_c("scatter_reduce_prod_unbatched_input", lambda m, x, K: K["t34"].scatter_reduce(
    1, x.argsort(1)[:, :3], x[:, :3], "prod"))
_c("index_add_batched_index", lambda m, x, K: x.index_add(1, x[0, :2].argsort(), x[:, :2] ** 2,
                                                           alpha=2))
_c("index_copy_batched_index", lambda m, x, K: m.index_copy(x, 1, x[0, :3].argsort(),
                                                            x[:, 1:] * 3))
_c("index_fill_batched_index", lambda m, x, K: x.index_fill(0, x[:, 0].argsort()[:2], x[1, 1]))
_c("getitem_batched_0d_index", lambda m, x, K: x[x[:, 0].argmax()])
_c("getitem_batched_index_slices", lambda m, x, K: x[:, x[0].argsort()[:2]])
_c("getitem_batched_2d_index_ellipsis", lambda m, x, K: x[..., x[:2, :2].argsort(-1) + 1])
_c("getitem_batched_index_int_none", lambda m, x, K: x[None, 1, x[0].argsort()[1:] - 4])
_c("getitem_logits_target", lambda m, x, K: x[0][(x[1, 0] > 0).long()], shape=(2, 4))
_c("index_put_batched_index", lambda m, x, K: x.index_put((x[:, 0].argsort()[:2],), x[0] * 2))
_c("index_put_accumulate_batched_index", lambda m, x, K: m.index_put(
    x, (x[:, 0].argsort()[:2], x[0].argsort()[:2]), x[1, :2] ** 2, accumulate=True))
_c("select_scatter", lambda m, x, K: m.select_scatter(x, x[0] * 2, 0, 1))
_c("slice_scatter", lambda m, x, K: m.slice_scatter(x, x[:, :2] + 1, 1, 1, 4, 2))

_NAN_AT = [(0, 1), (2, 3), (1, 0)]


def _consts(m):
    r = np.random.default_rng(7)
    f64 = m.float64
    return {"seq": m.tensor([-1.0, -0.25, 0.0, 0.5, 1.0], dtype=f64),
            "useq": m.tensor([0.5, -1.0, 1.0, -0.25, 0.0], dtype=f64),
            "sorter": m.tensor([1, 3, 4, 0, 2]), "vals": m.tensor([-0.5, 0.0, 2.0], dtype=f64),
            "vals34": m.tensor(r.standard_normal((3, 4))),
            "t34": m.tensor(r.standard_normal((3, 4))),
            "q": m.tensor([0.1, 0.5, 0.9], dtype=f64),
            "m34": m.tensor([[True, False, False, False], [True] * 4, [False] * 4])}


def _inputs(m, shape, kind, B=3, seed=1):
    r = np.random.default_rng(seed)
    if kind == "ties":
        x = r.integers(-2, 3, (B,) + shape).astype(np.float64)
    else:
        x = r.standard_normal((B,) + shape)
    if kind == "nan":
        for b in range(B):
            i, j = _NAN_AT[b % 3]
            x[b, i, j] = np.nan
        x[-1, 0, :] = np.nan                    # the last sample has a row and a column of NaN
        x[-1, :, 2] = np.nan
    return m.tensor(x)


def _outs(res):
    return list(res) if isinstance(res, tuple) else [res]


def _weights(m, outs):
    """Distinct weights per output element (a plain sum would hide a wrong permutation)."""
    ws = []
    for o in outs:
        n = int(np.prod(tuple(o.shape)))
        ws.append(m.tensor(np.linspace(0.5, 2.0, n).reshape(tuple(o.shape))) if
                  o.dtype.is_floating_point else None)
    return ws


def _loss(m, fn, K, ws):
    def loss(x):
        tot = 0.0
        for o, w in zip(_outs(fn(m, x, K)), ws):
            if w is not None:
                tot = tot + (o * w).nansum()      # NaN results (median of NaN) give none
        return tot
    return loss


def _differentiable(m, fn, K, x0):
    x0 = x0.clone().requires_grad_()
    return any(o.requires_grad for o in _outs(fn(m, x0, K)))


def _check(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_a_loop(name):
    fn, shape, kind = CASES[name]
    m = chainrule
    K = _consts(m)
    X = _inputs(m, shape, kind)
    got = _outs(vmap(lambda x: fn(m, x, K))(X))
    per = [_outs(fn(m, X[i], K)) for i in range(X.shape[0])]
    _check(got, [m.stack([p[k] for p in per]) for k in range(len(got))])
    if not _differentiable(m, fn, K, X[0]):
        return
    ws = _weights(m, per[0])
    loss = _loss(m, fn, K, ws)
    g = vmap(grad(loss))(X)
    gw = m.stack([grad(loss)(X[i]) for i in range(X.shape[0])])
    np.testing.assert_allclose(g.numpy(), gw.numpy(), rtol=1e-12, atol=1e-12)


# where torch.func.vmap differs from torch's own loop, or torch's plain op from chainrule's
_TORCH_DIFFERS = {
    "argmax_keepdim": "torch.func.vmap gives argmax(dim=None, keepdim=True) a per-sample shape "
                      "(1,) where torch's loop gives (1, 1)",
    "nanmedian_dim": "torch's index for an all-NaN slice is an artifact of its selection "
                     "algorithm (0, 0, 0, 2, 2, 3, 5 for sizes 1..7); chainrule takes the "
                     "middle one",
    "nanmean": "on an all-NaN slice torch's nanmean gradient is NaN (inf * 0) and chainrule's "
               "is 0, outside vmap too",
}
# torch.func.vmap runs these but raises on their per-sample gradients: values only
_0D_INDEX = "torch's backward of x[i] with a batched 0-d index calls .item(), which vmap rejects"
_TORCH_NO_GRAD = {
    "getitem_batched_0d_index": _0D_INDEX,
    "getitem_logits_target": _0D_INDEX,
    "scatter_reduce_prod_unbatched_input": "torch's scatter_reduce('prod') backward has "
                                           "data-dependent control flow that vmap rejects",
}


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_matches_torch(name):
    import torch
    import torch.func
    if name in _TORCH_DIFFERS:
        pytest.skip(_TORCH_DIFFERS[name])
    fn, shape, kind = CASES[name]
    res = []
    for m in (chainrule, torch):
        K, X = _consts(m), _inputs(m, shape, kind)
        outs = _outs(m.func.vmap(lambda x: fn(m, x, K))(X))
        gs = None
        if _differentiable(m, fn, K, X[0]) and name not in _TORCH_NO_GRAD:
            ws = _weights(m, _outs(fn(m, X[0], K)))
            gs = m.func.vmap(m.func.grad(_loss(m, fn, K, ws)))(X).detach().numpy()
        dts = [str(o.dtype).split(".")[-1] for o in outs]
        res.append(([o.detach().numpy() for o in outs], dts, gs))
    (ov, od, og), (tv, td, tg) = res
    assert od == td
    for a, b in zip(ov, tv):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert (og is None) == (tg is None)
    if og is not None:
        np.testing.assert_allclose(og, tg, rtol=1e-10, atol=1e-12)


# -- in_dims, nesting, transforms of transforms ---------------------------------------------
_FEW = ["argmax_dim", "sort", "median", "median_dim", "topk", "mode", "cummax", "quantile_dim",
        "logsumexp", "any_dim", "searchsorted_batched_seq", "gather_argmax", "nanmean",
        "scatter_add_batched_index", "index_fill_batched_index"]


@pytest.mark.parametrize("name", _FEW)
def test_in_dims_1(name):
    fn, shape, kind = CASES[name]
    m = chainrule
    K = _consts(m)
    X = _inputs(m, shape, kind, B=2).movedim(0, 1)        # the batch on dim 1
    got = _outs(vmap(lambda x: fn(m, x, K), in_dims=1)(X))
    per = [_outs(fn(m, X[:, i], K)) for i in range(X.shape[1])]
    _check(got, [m.stack([p[k] for p in per]) for k in range(len(got))])


@pytest.mark.parametrize("name", _FEW)
def test_nested_vmap(name):
    fn, shape, kind = CASES[name]
    m = chainrule
    K = _consts(m)
    X = m.stack([_inputs(m, shape, kind, B=3, seed=s) for s in (1, 2)])      # (2, 3, ...)
    got = _outs(vmap(vmap(lambda x: fn(m, x, K)))(X))
    per = [[_outs(fn(m, X[i, j], K)) for j in range(3)] for i in range(2)]
    want = [m.stack([m.stack([p[k] for p in row]) for row in per]) for k in range(len(got))]
    _check(got, want)
    if _differentiable(m, fn, K, X[0, 0]):
        loss = _loss(m, fn, K, _weights(m, per[0][0]))
        g = vmap(vmap(grad(loss)))(X)
        gw = m.stack([m.stack([grad(loss)(X[i, j]) for j in range(3)]) for i in range(2)])
        np.testing.assert_allclose(g.numpy(), gw.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sort", "median", "median_dim", "topk", "quantile_dim",
                                  "cummin_negdim", "gather_argmax", "kthvalue",
                                  "scatter_add_batched_index", "index_copy_batched_index"])
def test_jacobians_under_vmap(name):
    """Forward- and reverse-mode Jacobians per sample (the gather's JVP and double backward)."""
    from chainrule.func import jacfwd, jacrev
    fn, shape, kind = CASES[name]
    m = chainrule
    K = _consts(m)
    X = _inputs(m, shape, kind)

    def f(x):
        return _outs(fn(m, x, K))[0]
    for jac in (jacfwd, jacrev):
        got = vmap(jac(f))(X)
        want = m.stack([jac(f)(X[i]) for i in range(X.shape[0])])
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


def test_batched_sorted_sequence_at_another_level():
    """A sequence batched at the outer level, values at the inner one."""
    m = chainrule
    seqs = m.tensor(np.sort(np.random.default_rng(3).standard_normal((2, 5)), -1))
    vals = m.tensor(np.random.default_rng(4).standard_normal((3, 4)))
    got = vmap(lambda s: vmap(lambda v: m.searchsorted(s, v))(vals))(seqs)
    want = m.stack([m.stack([m.searchsorted(seqs[i], vals[j]) for j in range(3)])
                    for i in range(2)])
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert got.dtype == m.int64


def test_out_of_range_batched_index_raises():
    m = chainrule
    x = m.randn(3, 4)
    idx = m.tensor([[0, 1], [2, 4], [1, 1]])
    with pytest.raises(RuntimeError, match="out of bounds"):
        vmap(lambda a, i: a.gather(0, i))(x, idx)
    with pytest.raises(IndexError, match="out of range"):
        vmap(lambda a, i: a.index_select(0, i))(x, idx)
    with pytest.raises(IndexError, match="out of range"):
        vmap(lambda a, i: a.take(i))(x, idx + 3)
    with pytest.raises(RuntimeError, match="out of bounds"):
        vmap(lambda a, i: a.scatter(0, i, 1.0))(x, idx)
    with pytest.raises(IndexError, match="out of range"):
        vmap(lambda a, i: a.index_add(0, i, a[:2]))(x, idx)


def test_batched_bool_mask_is_refused():
    """Its result's shape would depend on each sample's values (torch.func refuses it too)."""
    with pytest.raises(RuntimeError, match="bool mask"):
        vmap(lambda a: a[a > 0])(chainrule.randn(3, 4))


def test_plain_path_still_returns_plain_arrays():
    """Outside vmap nothing is batched: results hold NumPy arrays as before."""
    m = chainrule
    x = m.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    for r in (x.argmax(1), x.sort(1).indices, x.median(1).indices, (x > 1).any(1),
              m.searchsorted(m.tensor([0.0, 2.0]), x), x.cummax(1).indices):
        assert type(r._data) is np.ndarray
