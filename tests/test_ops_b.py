"""Issue 3 part B beyond the op table: return types, ties, NaN order, integer results,
in-place variants, indexing forms (setitem/getitem) and errors, compared with torch."""
import numpy as np
import pytest

import chainrule
from conftest import needs_torch, to_np

c = chainrule


def _both(fn, *arrays, grad=True):
    """Run fn(lib, *tensors) in chainrule and torch; returns outputs and input grads."""
    import torch
    res = []
    for lib in (c, torch):
        ts = [lib.tensor(a, requires_grad=grad and np.asarray(a).dtype.kind == "f")
              for a in arrays]
        out = fn(lib, *ts)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        gs = []
        diff = [o for o in outs if getattr(o, "requires_grad", False)]
        if diff:
            total = sum((o * lib.arange(o.numel(), dtype=o.dtype).reshape(o.shape)).sum()
                        for o in diff)
            leaves = [t for t in ts if t.requires_grad]
            gs = lib.autograd.grad(total, leaves, allow_unused=True)
        res.append(([to_np(o) for o in outs], [to_np(g) for g in gs]))
    (o1, g1), (o2, g2) = res
    assert len(o1) == len(o2)
    for a, b in zip(o1 + g1, o2 + g2):
        assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12, equal_nan=True)
    return o1, g1


# -- sorting ---------------------------------------------------------------------------------
TIES = np.array([[1.0, 2.0, 1.0, 2.0, 0.5, 1.0], [3.0, 3.0, 3.0, 0.0, 0.0, 1.0]])


@needs_torch
@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_ties_values_indices_and_grads(descending):
    _both(lambda m, x: m.sort(x, dim=1, descending=descending, stable=True), TIES)
    _both(lambda m, x: m.argsort(x, dim=1, descending=descending, stable=True), TIES,
          grad=False)


@needs_torch
def test_sort_puts_nan_last_ascending_first_descending():
    x = np.array([1.0, np.nan, -1.0, np.nan, 0.0])
    for desc in (False, True):
        _both(lambda m, t: m.sort(t, descending=desc, stable=True), x)
    _both(lambda m, t: m.topk(t, 2), x, grad=False)


def test_return_types_are_named():
    x = c.tensor([[3.0, 1.0, 2.0]])
    s = c.sort(x)
    assert s.values is s[0] and s.indices is s[1]
    assert type(s).__name__ == "sort" and type(c.topk(x, 1)).__name__ == "topk"
    k = x.kthvalue(1, dim=1, keepdim=True)
    assert type(k).__name__ == "kthvalue" and k.values.shape == (1, 1)
    assert repr(s).startswith("chainrule.return_types.sort(\nvalues=tensor(")
    assert s.indices.dtype == c.int64


@needs_torch
def test_sort_integer_and_bool_tensors():
    _both(lambda m, x: m.sort(x, descending=True, stable=True),
          np.array([3, -1, 3, 7, 0]), grad=False)
    _both(lambda m, x: m.sort(x, stable=True), np.array([True, False, True]), grad=False)
    _both(lambda m, x: m.topk(x, 2, largest=False), np.array([5, 1, 4]), grad=False)


# -- unique, searchsorted ----------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("inv,cnt", [(False, False), (True, False), (False, True),
                                     (True, True)])
def test_unique_flags(inv, cnt):
    x = np.array([[3, 1, 3], [1, 1, 0]])
    _both(lambda m, t: m.unique(t, return_inverse=inv, return_counts=cnt), x, grad=False)
    _both(lambda m, t: m.unique(t, dim=1, return_inverse=inv, return_counts=cnt), x,
          grad=False)
    _both(lambda m, t: m.unique_consecutive(t, return_inverse=inv, return_counts=cnt), x,
          grad=False)


def test_unique_of_float_tensor_is_not_differentiable():
    x = c.tensor([2.0, 1.0, 2.0], requires_grad=True)
    u = c.unique(x)
    assert not u.requires_grad and u.tolist() == [1.0, 2.0]


@needs_torch
def test_searchsorted_options():
    seq = np.array([1, 3, 3, 5])
    v = np.array([[0, 3], [4, 9]])
    for kw in ({}, {"right": True}, {"side": "right"}, {"out_int32": True}):
        _both(lambda m, s, t: m.searchsorted(s, t, **kw), seq, v, grad=False)
    unsorted, sorter = np.array([5, 1, 3, 3]), np.array([1, 2, 3, 0])
    _both(lambda m, s, t, o: m.searchsorted(s, t, sorter=o), unsorted, v, sorter, grad=False)
    _both(lambda m, s: m.searchsorted(s, 3), seq, grad=False)
    _both(lambda m, s: m.bucketize(4, s, right=True), seq, grad=False)


# -- nonzero / where / argwhere ---------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("x", [np.array(2.0), np.array(0.0), np.array([[0, 1], [2, 0]]),
                               np.zeros((2, 0))])
def test_nonzero_forms(x):
    _both(lambda m, t: m.nonzero(t), x, grad=False)
    _both(lambda m, t: m.nonzero(t, as_tuple=True), x, grad=False)
    _both(lambda m, t: m.argwhere(t), x, grad=False)
    _both(lambda m, t: m.where(t != 0), x, grad=False)


# -- indexing: getitem / setitem / index_put --------------------------------------------------
KEYS = [
    lambda m: (m.tensor([0, 2, 0]),),
    lambda m: (Ellipsis, m.tensor([1, 1])),
    lambda m: (m.tensor([[0], [2]]), slice(None), m.tensor([3, 0])),
    lambda m: (None, m.tensor([2, 0]), None, 1),
    lambda m: (1, Ellipsis, m.tensor([0, 0, 3])),
    lambda m: (m.tensor([True, False, True]),),
    lambda m: (m.tensor([True, False, True]), 0, m.tensor([1, 2])),
    lambda m: (slice(1, None), m.tensor([[1, 0]]), m.tensor(2)),
    lambda m: (m.tensor(1), slice(None, None, 2)),
    lambda m: (Ellipsis, None),
    lambda m: (m.tensor([[True, False], [False, True], [True, True]]),),
]
X = np.arange(24.0).reshape(3, 2, 4) / 7


@needs_torch
@pytest.mark.parametrize("k", range(len(KEYS)))
def test_getitem_matches_torch_with_repeats_accumulating(k):
    _both(lambda m, x: x[KEYS[k](m)], X)


@needs_torch
@pytest.mark.parametrize("k", range(len(KEYS)))
def test_setitem_matches_torch(k):
    def fn(m, x, v):
        y = x * 1
        y[KEYS[k](m)] = v * 2
        return y
    import torch
    shape = tuple(torch.tensor(X)[KEYS[k](torch)].shape)
    vshape = shape[-1:] if shape else ()
    _both(fn, X, np.linspace(-1, 1, int(np.prod(vshape))).reshape(vshape))


@needs_torch
def test_setitem_scalar_and_leading_ones_and_no_grad():
    def fn(m, x):
        y = x.detach().clone()
        y[0, m.tensor([1, 1])] = 5.0
        y[1] = m.ones(1, 1, 4, dtype=y.dtype)
        return y
    _both(fn, X, grad=False)


@needs_torch
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_inplace_accumulates_repeats(accumulate):
    def fn(m, x, v):
        y = x * 1
        y.index_put_((m.tensor([0, 2, 0]), m.tensor([1, 1, 1])), v, accumulate=accumulate)
        return y
    _both(fn, X, np.array(1.5))


def test_setitem_on_leaf_that_requires_grad_raises_and_leaves_it():
    x = c.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 2.0
    assert x.tolist() == [1.0, 1.0, 1.0]
    with c.no_grad():
        x[c.tensor([0, 0])] = 2.0
    assert x.tolist() == [2.0, 1.0, 1.0]


def test_getitem_errors():
    x = c.zeros(2, 3)
    with pytest.raises(IndexError):
        x[c.tensor([0.5])]
    with pytest.raises(IndexError):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        x["a"]


# -- in-place variants ------------------------------------------------------------------------
@needs_torch
@pytest.mark.parametrize("name,args", [
    ("scatter_", lambda m: (1, m.tensor([[2], [0]]), 9.0)),
    ("scatter_", lambda m: (1, m.tensor([[2], [0]]), 2.0, "multiply")),
    ("index_add_", lambda m: (0, m.tensor([1, 1]), m.ones(2, 3, dtype=m.float64))),
    ("index_copy_", lambda m: (1, m.tensor([2]), m.zeros(2, 1, dtype=m.float64))),
    ("index_fill_", lambda m: (1, m.tensor([0, 0]), -3.0)),
    ("masked_fill_", lambda m: (m.tensor([True, False, True]), 7.0)),
    ("masked_scatter_", lambda m: (m.tensor([[True], [False]]), m.arange(9.0).double())),
    ("put_", lambda m: (m.tensor([5, 0]), m.tensor([1.0, 2.0]).double(), True)),
    ("scatter_add_", lambda m: (0, m.tensor([[1, 1, 0]]), m.ones(1, 3).double())),
    ("scatter_reduce_", lambda m: (0, m.tensor([[1, 1, 0]]), m.ones(1, 3).double(), "prod")),
])
def test_inplace_methods(name, args):
    def fn(m, x):
        y = x * 1
        a = args(m)
        if name == "scatter_" and len(a) == 4:
            r = y.scatter_(*a[:3], reduce=a[3])
        else:
            r = getattr(y, name)(*a)
        assert r is y
        return y
    # scatter_ with reduce= has no derivative in torch (ours is differentiable)
    _both(fn, np.arange(6.0).reshape(2, 3) + 1, grad=name != "scatter_" or len(args(c)) < 4)


def test_inplace_keeps_input_on_bad_call():
    x = c.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError):
        x.masked_fill_(c.ones(4, 2, 3, dtype=c.bool), 1.0)
    with pytest.raises(RuntimeError):
        x.scatter_(0, c.tensor([[5]]), 1.0)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


# -- scatter_reduce: ties, include_self and integer means -------------------------------------
@needs_torch
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_ties_and_zeros_match_torch(reduce, include_self):
    x = np.array([1.0, 2.0, 0.0, 3.0])
    src = np.array([3.0, 3.0, 1.0, 5.0, 0.0, 2.0])
    idx = np.array([3, 3, 0, 1, 0, 0])
    tie_noself = reduce in ("amax", "amin") and not include_self
    _both(lambda m, a, s, i: m.scatter_reduce(a, 0, i, s, reduce, include_self=include_self),
          x, src, idx, grad=not tie_noself)


def test_scatter_reduce_amax_ties_without_self_split_among_the_sources():
    # torch also counts the excluded self value in the tie count (its gradients then sum to
    # less than the output gradient); here the two tied sources share it: 1/2 each
    x = c.tensor([1.0, 3.0], requires_grad=True)
    s = c.tensor([3.0, 3.0, 0.5], requires_grad=True)
    y = x.scatter_reduce(0, c.tensor([1, 1, 0]), s, "amax", include_self=False)
    y.backward(c.tensor([1.0, 4.0]))
    assert x.grad.tolist() == [0.0, 0.0] and s.grad.tolist() == [2.0, 2.0, 1.0]


@needs_torch
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_integers(reduce):
    _both(lambda m, a, s, i: m.scatter_reduce(a, 0, i, s, reduce),
          np.array([1, 2, 3]), np.array([4, 7, -2]), np.array([0, 0, 2]), grad=False)


def test_scatter_reduce_prod_gradgrad_with_a_zero():
    x = c.tensor([0.0, 2.0, 1.5], dtype=c.float64, requires_grad=True)
    s = c.tensor([3.0, 0.5, -1.0], dtype=c.float64, requires_grad=True)
    idx = c.tensor([0, 0, 2])
    assert c.autograd.gradgradcheck(lambda a, b: a.scatter_reduce(0, idx, b, "prod"), (x, s))


def test_gather_scatter_backward_of_backward_is_the_op():
    x = c.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    idx = c.tensor([[1, 1], [0, 1]])
    y = x.gather(1, idx)
    g, = c.autograd.grad(y, x, c.ones(2, 2, requires_grad=True), create_graph=True)
    assert g.grad_fn.name() == "ScatterReduceBackward0"
    assert g.tolist() == [[0.0, 2.0], [1.0, 1.0]]


def test_value_fill_gradient_counts_each_slot_once():
    v = c.tensor(2.0, requires_grad=True)
    y = c.zeros(2, 3).index_fill(1, c.tensor([0, 0, 2]), v)
    y.sum().backward()
    assert v.grad.item() == 4.0


# -- linear algebra ---------------------------------------------------------------------------
def _is_linalg_error(exc):
    return isinstance(exc, RuntimeError) and isinstance(exc, c.linalg.LinAlgError)


@pytest.mark.parametrize("fn", [lambda: c.linalg.inv(c.zeros(2, 2)),
                                lambda: c.linalg.solve(c.zeros(2, 2), c.ones(2)),
                                lambda: c.linalg.cholesky(-c.eye(2)),
                                lambda: c.cholesky(c.tensor([[1.0, 2.0], [2.0, 1.0]]))])
def test_linalg_errors_are_linalg_errors(fn):
    with pytest.raises(RuntimeError) as ei:
        fn()
    assert _is_linalg_error(ei.value) and "linalg." in str(ei.value)


def test_cholesky_error_names_the_failing_minor():
    with pytest.raises(c.linalg.LinAlgError, match="order 2"):
        c.linalg.cholesky(c.tensor([[1.0, 2.0], [2.0, 1.0]]))


@needs_torch
def test_ex_variants_report_info():
    import torch
    for lib in (c, torch):
        r = lib.linalg.inv_ex(lib.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 1.0]],
                                          [[1.0, 2.0], [2.0, 4.0]]]))
        assert r.info.tolist() == [0, 1, 2] and r.info.dtype == lib.int32
        assert r.inverse[0].tolist() == [[1.0, 0.0], [0.0, 1.0]]
        k = lib.linalg.cholesky_ex(lib.tensor([[1.0, 2.0], [2.0, 1.0]]))
        assert k.info.item() == 2 and tuple(k) == (k.L, k.info)
        assert lib.linalg.solve_ex(lib.eye(2), lib.ones(2)).info.item() == 0
    with pytest.raises(c.linalg.LinAlgError):
        c.linalg.inv_ex(c.zeros(2, 2), check_errors=True)


@needs_torch
def test_named_tuples_and_conventions():
    import torch
    a = np.random.default_rng(0).uniform(-1, 1, (4, 3))
    for lib in (c, torch):
        t = lib.tensor(a)
        s = lib.linalg.svd(t, full_matrices=False)
        assert (s.U, s.S, s.Vh) == tuple(s)
        v = lib.svd(t)
        np.testing.assert_allclose(to_np(v.V), to_np(s.Vh).T, atol=1e-12)
        assert lib.linalg.svd(t).U.shape == (4, 4) and lib.svd(t, some=False).V.shape == (3, 3)
        e = lib.linalg.eigh(t.mT @ t)
        assert (e.eigenvalues, e.eigenvectors) == tuple(e)
        q = lib.linalg.qr(t)
        assert (q.Q, q.R) == tuple(q)
        assert lib.linalg.slogdet(t[:3]).sign.shape == () and lib.slogdet(t[:3]).logabsdet.ndim == 0
    o1 = c.svd(c.tensor(a), compute_uv=False)
    o2 = torch.svd(torch.tensor(a), compute_uv=False)
    for x, y in zip(o1, o2):
        np.testing.assert_allclose(to_np(x), to_np(y), atol=1e-12)


@needs_torch
@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_outputs_match_torch(driver):
    import torch
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-1, 1, (5, 3)), rng.uniform(-1, 1, (5, 2))
    r1 = c.linalg.lstsq(c.tensor(a), c.tensor(b), driver=driver)
    r2 = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    assert r1._fields == ("solution", "residuals", "rank", "singular_values")
    for x, y in zip(r1, r2):
        x, y = to_np(x), to_np(y)
        assert x.shape == y.shape and x.dtype == y.dtype, (driver, x, y)
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12)


@needs_torch
def test_repeated_values_gradients_follow_torch():
    import torch
    res = []
    for lib in (c, torch):
        eye = lib.eye(3, dtype=lib.float64, requires_grad=True)
        g_vals = lib.autograd.grad(lib.linalg.svdvals(eye).sum(), eye)[0]
        g_eigv = lib.autograd.grad(lib.linalg.eigvalsh(eye * 2).sum(), eye)[0]
        w, q = lib.linalg.eigh(eye)
        g_vec = lib.autograd.grad((q * lib.arange(3.0)).sum(), eye)[0]
        u, s, vh = lib.linalg.svd(eye)
        g_u = lib.autograd.grad((u * lib.arange(3.0)).sum(), eye)[0]
        res.append([to_np(g) for g in (g_vals, g_eigv, g_vec, g_u)])
    for x, y in zip(*res):
        assert np.array_equal(np.isfinite(x), np.isfinite(y))
        np.testing.assert_allclose(x[np.isfinite(x)], y[np.isfinite(y)], atol=1e-12)
    assert np.isfinite(res[0][0]).all() and not np.isfinite(res[0][2]).any()


def test_qr_backward_limits_as_torch():
    a = c.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]], requires_grad=True)
    _, r = c.linalg.qr(a, mode="r")
    assert c.linalg.qr(a, mode="r").Q.shape == (0,)
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()
    _, r = c.linalg.qr(a, mode="complete")
    with pytest.raises(RuntimeError, match="complete"):
        r.sum().backward()


@needs_torch
def test_matrix_rank_pinv_tolerances():
    import torch
    a = np.array([[2.0, 0.0, 0.0], [0.0, 1e-3, 0.0], [0.0, 0.0, 1e-9]])
    for kw in ({}, {"atol": 1e-2}, {"rtol": 1e-2}, {"atol": 1e-12, "rtol": 0.0},
               {"hermitian": True}):
        _both(lambda m, t: m.linalg.matrix_rank(t, **kw), a, grad=False)
        _both(lambda m, t: m.linalg.pinv(t, **kw), a)
    _both(lambda m, t: m.linalg.matrix_rank(t, tol=1e-2), a, grad=False)


@needs_torch
@pytest.mark.parametrize("eq,shapes", [
    ("ba,Ac", [(2, 3), (4, 5)]), ("i,i", [(3,), (3,)]), ("ij", [(2, 3)]), ("ji", [(2, 3)]),
    ("...j,j...->...", [(2, 3), (3, 2)]), ("iji->j", [(2, 3, 2)]), ("b...,b->...", [(2, 3, 4),
                                                                                 (2,)]),
    ("i,j,k->kji", [(2,), (3,), (1,)]), ("ij,ij->", [(2, 3), (1, 3)]),
])
def test_einsum_forms(eq, shapes):
    rng = np.random.default_rng(2)
    _both(lambda m, *ts: m.einsum(eq, *ts), *[rng.uniform(-1, 1, s) for s in shapes])
    _both(lambda m, *ts: m.einsum(eq, ts), *[rng.uniform(-1, 1, s) for s in shapes])


@pytest.mark.parametrize("args", [("ij,jk", [(2, 3)]), ("i#", [(2,)]), ("ii->ii", [(2, 2)]),
                                  ("i->j", [(2,)]), ("ij", [(2, 3, 4)])])
def test_einsum_errors(args):
    eq, shapes = args
    with pytest.raises(RuntimeError):
        c.einsum(eq, *[c.ones(s) for s in shapes])


@needs_torch
def test_addmm_beta_zero_ignores_nan_and_methods_forward():
    _both(lambda m, c_, a, b: m.addmm(c_, a, b, beta=0), np.full((2, 2), np.nan),
          np.eye(2), np.ones((2, 2)), grad=False)
    x = c.tensor([[2.0, 1.0], [1.0, 3.0]])
    assert x.det().item() == pytest.approx(5.0)
    assert x.inverse().allclose(c.linalg.inv(x)) and x.trace().item() == 5.0
    assert x.matrix_power(2).allclose(x @ x) and x.pinverse().allclose(c.linalg.inv(x))
    assert x.cholesky().allclose(c.linalg.cholesky(x)) and x.logdet().item() == pytest.approx(
        np.log(5.0))


@needs_torch
def test_linalg_norm_dispatch():
    from chainrule import functional_ops
    a = np.arange(12.0).reshape(3, 4) / 5 - 1
    for kw in ({}, {"ord": 1}, {"dim": 1}, {"ord": "nuc"}, {"ord": 2, "dim": (0, 1)},
               {"ord": float("inf"), "dim": 0, "keepdim": True}):
        _both(lambda m, t: m.linalg.norm(t, **kw), a)
    assert c.linalg.vector_norm is functional_ops.vector_norm
    assert c.linalg.matrix_norm is functional_ops.matrix_norm


@needs_torch
@pytest.mark.parametrize("shape", [(1, 3), (2, 4), (1, 2)])
def test_det_gradient_at_singular_matrices_is_the_cofactor(shape):
    # rank n - 1 and rank n - 2 products a^T a
    a = np.random.default_rng(3).uniform(-1, 1, shape)
    _both(lambda m, t: m.det(t.mT @ t), a)


@needs_torch
def test_lu_family_matches_torch_on_batches_and_singular_input():
    rng = np.random.default_rng(4)
    for shape in [(2, 3, 3), (2, 4, 2), (2, 2, 5)]:
        a = rng.uniform(-1, 1, shape)
        _both(lambda m, t: m.linalg.lu_factor_ex(t), a)
        _both(lambda m, t: m.linalg.lu(t), a)
        _both(lambda m, t: m.lu_unpack(*m.linalg.lu_factor(t)), a)
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    _both(lambda m, t: m.linalg.lu_factor_ex(t).info, sing, grad=False)
    with pytest.raises(RuntimeError, match="is zero"):
        c.linalg.lu_factor(c.tensor(sing))


@needs_torch
@pytest.mark.parametrize("reduce", ["amax", "amin", "sum", "prod"])
def test_scatter_reduce_without_self_on_bool_and_int(reduce):
    for x, s in ((np.array([True, False]), np.array([False, False, True])),
                 (np.array([3, 4], np.int32), np.array([-5, 7, 2], np.int32))):
        _both(lambda m, a, b: a.scatter_reduce(0, m.tensor([0, 0, 1]), b, reduce,
                                               include_self=False), x, s, grad=False)
