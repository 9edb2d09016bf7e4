"""Legacy nn.utils.spectral_norm / remove_spectral_norm (a forward pre-hook)."""
from ...autograd.grad_mode import no_grad
from .. import functional as F
from ..parameter import Parameter, UninitializedParameter
from .parametrizations import _default_sn_dim

__all__ = ["spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook behind :func:`spectral_norm`: sets ``module.<name>`` to
    ``<name>_orig / sigma`` before each call (power iteration in training mode only).

    >>> import chainrule
    >>> m = chainrule.nn.utils.spectral_norm(chainrule.nn.Linear(2, 2))
    >>> any(isinstance(h, SpectralNorm) for h in m._forward_pre_hooks.values())
    True
    """
    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        w = weight
        if self.dim != 0:
            w = w.permute(self.dim, *(d for d in range(w.ndim) if d != self.dim))
        return w.reshape(w.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(weight_mat.t().mv(u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(weight_mat.mv(v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))

    def _solve_v_and_rescale(self, weight_mat, u, target_sigma):
        from ... import linalg
        wt = weight_mat.t()
        v = (linalg.pinv(wt.mm(weight_mat)) @ wt @ u.unsqueeze(1)).squeeze(1)
        return v * (target_sigma / u.dot(weight_mat.mv(v)))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "spectral normalization")
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        fn._sd_handle = module.register_state_dict_post_hook(_StateDictHook(fn))
        fn._load_handle = module._register_load_state_dict_pre_hook(_LoadPreHook(fn))
        return fn


class _StateDictHook:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, module, state_dict, prefix, local_metadata):
        sn = local_metadata.setdefault("spectral_norm", {})
        key = self.fn.name + ".version"
        if key in sn:
            raise RuntimeError(f"Unexpected key in metadata['spectral_norm']: {key}")
        sn[key] = self.fn._version


class _LoadPreHook:
    # Converts state dicts saved before u/v were both stored (no version in metadata).
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs):
        fn = self.fn
        version = local_metadata.get("spectral_norm", {}).get(fn.name + ".version", None)
        if version is not None and version >= 1:
            return
        key = prefix + fn.name
        if (version is None and key not in state_dict
                and all(key + s in state_dict for s in ("_orig", "_u", "_v"))):
            return
        missing = [key + s for s in ("_orig", "", "_u") if key + s not in state_dict]
        if missing:
            if strict:
                missing_keys.extend(missing)
            return
        from ..._tensor import Tensor
        with no_grad():
            def as_t(x):
                return x if isinstance(x, Tensor) else Tensor(x)
            weight_orig = as_t(state_dict[key + "_orig"])
            weight = as_t(state_dict.pop(key))
            sigma = (weight_orig / weight).mean()
            weight_mat = fn.reshape_weight_to_matrix(weight_orig)
            u = as_t(state_dict[key + "_u"])
            state_dict[key + "_v"] = fn._solve_v_and_rescale(weight_mat, u, sigma)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalization by a forward pre-hook: ``module.<name>`` becomes
    ``<name>_orig / sigma`` with power-iteration vectors in buffers ``<name>_u``,
    ``<name>_v`` (updated in training mode only).

    >>> import chainrule
    >>> m = chainrule.nn.utils.spectral_norm(chainrule.nn.Linear(3, 2))
    >>> sorted(m.state_dict())
    ['bias', 'weight_orig', 'weight_u', 'weight_v']
    """
    if dim is None:
        dim = _default_sn_dim(module)
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo :func:`spectral_norm`: ``module.<name>`` becomes a plain parameter holding the
    normalized weight.

    >>> import chainrule
    >>> m = chainrule.nn.utils.spectral_norm(chainrule.nn.Linear(3, 2))
    >>> sorted(chainrule.nn.utils.remove_spectral_norm(m).state_dict())
    ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            hook._sd_handle.remove()
            hook._load_handle.remove()
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
