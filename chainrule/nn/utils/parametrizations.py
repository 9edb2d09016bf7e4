"""nn.utils.parametrizations: weight_norm and spectral_norm as parametrizations."""
import numpy as np

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


def _norm_except_dim(v, dim):
    # 2-norm over every axis but ``dim`` (kept with size 1); dim == -1 means all axes.
    if dim == -1:
        return v.norm()
    d = dim % v.ndim
    axes = tuple(i for i in range(v.ndim) if i != d)
    if not axes:
        return v.abs()
    return (v * v).sum(dim=axes, keepdim=True).sqrt()


def _weight_norm(v, g, dim):
    return v * (g / _norm_except_dim(v, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but
    ``dim``; all dims when ``dim`` is None), with ``original0 = g`` and ``original1 = v``.

    >>> import chainrule
    >>> m = chainrule.nn.utils.parametrizations.weight_norm(chainrule.nn.Linear(3, 2))
    >>> m.parametrizations.weight.original0.shape
    chainrule.Size([2, 1])
    >>> sorted(m.state_dict())
    ['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat_hook(state_dict, prefix, local_metadata, strict, missing_keys,
                    unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(compat_hook)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            w = self._reshape_weight_to_matrix(weight)
            h, wd = w.shape
            with no_grad():
                u = w.new_empty(h).normal_(0, 1)
                v = w.new_empty(wd).normal_(0, 1)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(w, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.H.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.vdot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def _default_sn_dim(module):
    from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Reparametrize ``module.<name>`` as ``W / sigma(W)``, the spectral norm estimated by
    power iteration (buffers ``_u``, ``_v``; updated on each access in training mode).

    >>> import chainrule
    >>> m = chainrule.nn.utils.parametrizations.spectral_norm(chainrule.nn.Linear(4, 3))
    >>> sorted(m.state_dict())  # doctest: +NORMALIZE_WHITESPACE
    ['bias', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v',
     'parametrizations.weight.original']
    >>> round(float(chainrule.linalg.matrix_norm(m.weight, 2)), 3)
    1.0
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_sn_dim(module)
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def _householder_product(A, tau):
    # Q = H_0 H_1 ... H_{k-1} I[:, :k], H_i = I - tau_i v_i v_i^H, v_i = e_i + A[i+1:, i].
    import chainrule
    n, k = A.shape[-2], A.shape[-1]
    eye = chainrule.eye(n, dtype=A.dtype)
    below = chainrule.tensor(np.tril(np.ones((n, k), dtype=bool), -1))
    V = chainrule.where(below, A, chainrule.zeros((), dtype=A.dtype)) + eye[:, :k]
    Q = eye[:, :k].expand(*A.shape[:-2], n, k)
    for i in reversed(range(k)):
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return Q


def _make_orthogonal(A):
    import chainrule
    Q, R = chainrule.linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _is_orthogonal(Q):
    import chainrule
    n, k = Q.shape[-2], Q.shape[-1]
    eye = chainrule.eye(k, dtype=Q.dtype)
    eps = 10. * n * chainrule.finfo(Q.dtype).eps
    return chainrule.allclose(Q.mH @ Q, eye, atol=eps)


_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex "
                             "tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        import chainrule
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                pad = X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)
                X = chainrule.cat([X, pad], dim=-1)
            A = X - X.mH
            if self.orthogonal_map == "matrix_exp":
                Q = chainrule.matrix_exp(A)
            else:
                eye = chainrule.eye(n, dtype=A.dtype)
                Q = chainrule.linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2. / (1. + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        import chainrule
        with no_grad():
            if tuple(Q.shape) != tuple(self.shape):
                raise ValueError(f"Expected a matrix or batch of matrices of shape "
                                 f"{self.shape}. Got a tensor of shape {Q.shape}.")
            q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False.")
                # Householder reflectors of Q (as geqrf) with their diagonal signs.
                A = _householder_vectors(Q)
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                N = chainrule.randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype)
                Q = _make_orthogonal(chainrule.cat([Q, N], dim=-1))
            self.base = Q
            r, c = q_init.shape[-2], q_init.shape[-1]
            return -chainrule.eye(r, c, dtype=q_init.dtype).expand(q_init.shape).clone()


def _householder_vectors(Q):
    # geqrf-style reflectors of a tall Q: strictly-lower part holds v_i (unit i-th entry
    # implied); the diagonal holds the sign that _Orthogonal.forward multiplies back in.
    import chainrule
    a = Q.detach().numpy().copy()
    n, k = a.shape[-2], a.shape[-1]
    out = np.zeros_like(a)
    for idx in np.ndindex(*a.shape[:-2]):
        r = a[idx].copy()
        res = np.zeros((n, k), dtype=a.dtype)
        for i in range(k):
            x = r[i:, i].copy()
            alpha = x[0]
            norm, tail = np.linalg.norm(x), np.linalg.norm(x[1:])
            if tail == 0:   # no reflection (tau = 0): geqrf's sign, flipped
                res[i, i] = -np.sign(alpha)
                continue
            beta = -np.copysign(norm, alpha)
            v = x / (alpha - beta)
            v[0] = 1.
            tau = (beta - alpha) / beta
            r[i:, i:] -= tau * np.outer(v, v @ r[i:, i:])
            res[i + 1:, i] = v[1:]
            res[i, i] = np.sign(beta)
        out[idx] = res + np.triu(r, 1)   # R's strict upper part, as geqrf leaves it
    return chainrule.tensor(out)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrain ``module.<name>`` (a matrix or batch of matrices) to be orthogonal
    (orthonormal columns or rows), through ``"matrix_exp"``, ``"cayley"`` or
    ``"householder"`` (the default for non-square real matrices).

    >>> import chainrule
    >>> m = chainrule.nn.utils.parametrizations.orthogonal(chainrule.nn.Linear(3, 3))
    >>> w = m.weight
    >>> bool(chainrule.allclose(w @ w.T, chainrule.eye(3), atol=1e-5))
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError("Expected a matrix or batch of matrices. "
                         f"Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
