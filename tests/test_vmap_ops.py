"""vmap over the op catalogue (elementwise, reductions, indexing, shape ops, linear algebra, in
place writes): each op maps over a batch exactly as a Python loop does, values, dtypes and
per-sample gradients (vmap(grad)). nn.functional is covered in test_vmap_nn.py, the sort- and
index-producing reductions in test_vmap_reduce.py."""
import numpy as np
import pytest

import chainrule as c
from chainrule.func import grad, vmap

r = np.random.default_rng(0)
K34 = c.tensor(r.standard_normal((3, 4)))
K4 = c.tensor(r.standard_normal(4))
K44 = c.tensor(r.standard_normal((4, 4)))
I3 = c.tensor([0, 2, 1])

OPS = {
    'var': lambda x: x.var(1),
    'std': lambda x: x.std(),
    'norm': lambda x: x.norm(),
    'norm_dim': lambda x: x.norm(dim=1),
    'cumsum': lambda x: x.cumsum(1),
    'cumprod': lambda x: x.cumprod(0),
    'amax': lambda x: x.amax(1),
    'prod': lambda x: x.prod(1),
    'mean': lambda x: x.mean((0, 1)),
    'index_select': lambda x: x.index_select(1, I3),
    'gather': lambda x: x.gather(1, c.tensor([[0], [1], [2]])),
    'take': lambda x: x.take(I3),
    'getitem_adv': lambda x: x[I3, I3],
    'getitem_bool': lambda x: x[:, c.tensor([True, False, True, False])],
    'getitem_slice': lambda x: x[1:, ::2],
    'scatter': lambda x:
        c.zeros(3, 4, dtype=c.float64).scatter(1, c.tensor([[0], [1], [2]]), x[:, :1]),
    'scatter_add': lambda x:
        c.zeros(3, 4, dtype=c.float64).scatter_add(1, c.tensor([[0], [1], [2]]), x[:, :1]),
    'index_add': lambda x: c.zeros(3, 4, dtype=c.float64).index_add(0, I3, x),
    'index_put': lambda x: x.index_put((I3,), x[0]),
    'masked_fill': lambda x: x.masked_fill(K34 > 0, 1.0),
    'cat': lambda x: c.cat([x, K34], 0),
    'stack': lambda x: c.stack([x, K34], 1),
    'split': lambda x: x.split(2, 1)[1],
    'chunk': lambda x: x.chunk(2, 1)[0],
    'flip': lambda x: x.flip(1),
    'roll': lambda x: x.roll(1, 1),
    'repeat': lambda x: x.repeat(2, 1),
    'tile': lambda x: x.tile(2),
    'tril': lambda x: x.tril(),
    'triu': lambda x: x.triu(1),
    'diag': lambda x: x[0].diag(),
    'diagonal': lambda x: x.diagonal(),
    'movedim': lambda x: x.movedim(0, 1),
    'flatten': lambda x: x.flatten(),
    'unflatten': lambda x: x.unflatten(1, (2, 2)),
    'narrow': lambda x: x.narrow(1, 1, 2),
    'select': lambda x: x.select(1, 2),
    'expand_as': lambda x: x[:1].expand_as(x),
    'broadcast_to': lambda x: x[:1].broadcast_to((2, 3, 4)),
    'squeeze': lambda x: x[:1].squeeze(0),
    'unbind': lambda x: x.unbind(1)[2],
    'T': lambda x: x.T,
    'mT': lambda x: x.mT,
    'rot90': lambda x: x.rot90(),
    'repeat_interleave': lambda x: x.repeat_interleave(2, 1),
    'kron': lambda x: c.kron(x, K34[:2, :2]),
    'view_as': lambda x: x.view(4, 3),
    'solve': lambda x: c.linalg.solve(K44 + 4 * c.eye(4, dtype=c.float64), x.T),
    'inv': lambda x: c.linalg.inv(x[:, :3] + 3 * c.eye(3, dtype=c.float64)),
    'det': lambda x: c.linalg.det(x[:, :3]),
    'matrix_norm': lambda x: c.linalg.matrix_norm(x),
    'vector_norm': lambda x: c.linalg.vector_norm(x, 3, 1),
    'cross': lambda x: c.linalg.cross(x[:, :3], K34[:, :3]),
    'outer': lambda x: c.outer(x[0], K4),
    'einsum': lambda x: c.einsum('ij,jk->ik', x, K44),
    'bmm': lambda x: c.bmm(x[None], K44[None]),
    'mm': lambda x: c.mm(x, K44),
    'mv': lambda x: c.mv(x, K4),
    'dot': lambda x: c.dot(x[0], K4),
    'tensordot': lambda x: c.tensordot(x, K44, 1),
    'svd': lambda x: c.linalg.svdvals(x),
    'eigh': lambda x: c.linalg.eigvalsh(x[:, :3] @ x[:, :3].T),
    'qr': lambda x: c.linalg.qr(x)[1].abs(),
    'cholesky': lambda x: c.linalg.cholesky(x @ x.T + c.eye(3, dtype=c.float64)),
    'pinv': lambda x: c.linalg.pinv(x),
    'matrix_power': lambda x: c.linalg.matrix_power(x[:, :3], 3),
    'trace': lambda x: x.trace(),
    'lstsq': lambda x: c.linalg.lstsq(K34, x[:, :2]).solution,
    'clamp_t': lambda x: x.clamp(K34 * 0.1, K34.abs() + 0.5),
    'lerp': lambda x: c.lerp(x, K34, 0.3),
    'addcmul': lambda x: c.addcmul(x, x, K34, value=0.5),
    'atan2': lambda x: c.atan2(x, K34),
    'fmod': lambda x: c.fmod(x, 0.7),
    'remainder': lambda x: c.remainder(x, 0.7),
    'floor_divide': lambda x: c.floor_divide(x, 0.7),
    'pow_st': lambda x: c.pow(2.0, x),
    'exp2': lambda x: c.exp2(x),
    'logaddexp': lambda x: c.logaddexp(x, K34),
    'sinc': lambda x: c.sinc(x),
    'erf': lambda x: c.erf(x),
    'sign': lambda x: x.sign(),
    'frac': lambda x: x.frac(),
    'nan_to_num': lambda x: c.nan_to_num(x),
    'where_scalar': lambda x: c.where(x > 0, x, 0.0),
    'maximum': lambda x: c.maximum(x, K34),
    'fmax': lambda x: c.fmax(x, K34),
    'hypot': lambda x: c.hypot(x, K34),
    'xlogy': lambda x: c.xlogy(x.abs(), K34.abs()),
    'logit': lambda x: c.logit(x.sigmoid()),
    'cdist': lambda x: c.cdist(x, K34),
    'diff': lambda x: c.diff(x, dim=1),
    'cov': lambda x: c.cov(x),
    'trapezoid': lambda x: c.trapezoid(x),
    'logcumsumexp': lambda x: c.logcumsumexp(x, 1),
    'softmax_m': lambda x: x.softmax(0),
    'unfold_m': lambda x: x.unfold(1, 2, 1),
    'square': lambda x: x.square(),
    'rsqrt': lambda x: x.abs().rsqrt(),
    'reciprocal': lambda x: x.reciprocal(),
    'to_f32': lambda x: x.float().double(),
    'clone': lambda x: x.clone(),
    'contiguous': lambda x: x.T.contiguous(),
    'new_zeros': lambda x: x.new_zeros(3) + x[0, :3],
    'zeros_like': lambda x: c.zeros_like(x) + x,
    'full_like': lambda x: c.full_like(x, 2.0) * x,
    'inplace_add': lambda x: x.clone().add_(K34),
    'inplace_mul_slice': lambda x: (lambda y: (y[:, 0].mul_(2), y)[1])(x.clone()),
    'setitem': lambda x: (lambda y: (y.__setitem__((0, 1), 5.0), y)[1])(x.clone()),
    'renorm': lambda x: x.renorm(2, 0, 1.0),
    'flip_lr': lambda x: c.fliplr(x),
    'block_diag': lambda x: c.block_diag(x, K34),
    'vander': lambda x: c.vander(x[0], 3),
    'diag_embed': lambda x: c.diag_embed(x),
    'diagflat': lambda x: c.diagflat(x[0]),
    'dist': lambda x: c.dist(x, K34),
    'cosine': lambda x: c.nn.functional.cosine_similarity(x, K34),
    'addmm': lambda x: c.addmm(K34, x, K44),
    'baddbmm': lambda x: c.baddbmm(K34[None], x[None], K44[None]),
    'matmul_1d': lambda x: x[0] @ K4,
}



@pytest.mark.parametrize("name", sorted(OPS))
def test_vmap_matches_a_loop(name):
    fn = OPS[name]
    X = c.tensor(np.random.default_rng(1).standard_normal((3, 3, 4)))
    got = vmap(fn)(X)
    want = c.stack([fn(X[i]) for i in range(3)])
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12,
                               equal_nan=True)
    if got.dtype.is_floating_point:
        g = vmap(grad(lambda x: fn(x).sum()))(X)
        gw = c.stack([grad(lambda x: fn(x).sum())(X[i]) for i in range(3)])
        np.testing.assert_allclose(g.numpy(), gw.numpy(), rtol=1e-10, atol=1e-12)


# -- indexing with index tensors batched by vmap (torch.func allows them) ----------------------
GETS = {
    "first": lambda x, j: x[j],
    "middle": lambda x, j: x[:, j],
    "last_ellipsis": lambda x, j: x[..., j],
    "int_then_index": lambda x, j: x[1, :, j],       # torch selects the int first
    "index_then_int": lambda x, j: x[j, 2],
    "none_before": lambda x, j: x[None, j],
    "none_between": lambda x, j: x[:, None, j],
    "two_indices": lambda x, j: x[j, :, j],
    "with_slice": lambda x, j: x[j, None, 1:3],
}


@pytest.mark.parametrize("name", sorted(GETS))
@pytest.mark.parametrize("x_batched", [True, False])
def test_batched_index_tensors(name, x_batched):
    fn = GETS[name]
    X = c.tensor(np.random.default_rng(2).standard_normal((2, 4, 5, 6)))
    J = c.tensor([[0, 2], [1, 3]])
    dims = (0 if x_batched else None, 0)
    if not x_batched:
        X = X[0]
    xs = [X[k] if x_batched else X for k in range(2)]
    got = vmap(fn, in_dims=dims)(X, J)
    want = c.stack([fn(xs[k], J[k]) for k in range(2)])
    np.testing.assert_allclose(got.numpy(), want.numpy())

    def loss(x, j):
        return (fn(x, j) ** 2).sum()
    g = vmap(grad(loss), in_dims=dims)(X, J)
    gw = c.stack([grad(loss)(xs[k], J[k]) for k in range(2)])
    np.testing.assert_allclose(g.numpy(), gw.numpy())


def test_batched_scalar_index_tensor():
    X = c.tensor(np.random.default_rng(3).standard_normal((2, 4, 5)))
    K = c.tensor([1, 3])
    for fn in (lambda x, k: x[k], lambda x, k: x[:, k], lambda x, k: x[k, k]):
        got = vmap(fn)(X, K)
        want = c.stack([fn(X[i], K[i]) for i in range(2)])
        np.testing.assert_allclose(got.numpy(), want.numpy())


@pytest.mark.parametrize("which", range(4))
def test_setitem_with_batched_index_tensors(which):
    def put(x, j, v):
        y = x.clone()
        if which == 0:
            y[j] = v
        elif which == 1:
            y[:, j] = 1.5
        elif which == 2:
            y[j, 1] = v[:, 0]
        else:
            y[:, 1, j] = v[:, :4, 0].T
        return y
    r = np.random.default_rng(4)
    X, V = c.tensor(r.standard_normal((2, 4, 5, 6))), c.tensor(r.standard_normal((2, 2, 5, 6)))
    J = c.tensor([[0, 2], [1, 3]])
    got = vmap(put)(X, J, V)
    want = c.stack([put(X[k], J[k], V[k]) for k in range(2)])
    np.testing.assert_allclose(got.numpy(), want.numpy())

    def loss(x, j, v):
        return (put(x, j, v) ** 2).sum()
    g = vmap(grad(loss, argnums=(0, 2)))(X, J, V)
    for a in range(2):
        gw = c.stack([grad(loss, argnums=(0, 2))(X[k], J[k], V[k])[a] for k in range(2)])
        np.testing.assert_allclose(g[a].numpy(), gw.numpy())


def test_batched_bool_mask_says_why():
    X = c.randn(2, 4)
    with pytest.raises(RuntimeError, match="bool mask"):
        vmap(lambda x: x[x > 0])(X)
