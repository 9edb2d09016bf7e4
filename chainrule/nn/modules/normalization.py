"""Normalisation modules: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm,
RMSNorm, LocalResponseNorm."""
import numbers
import warnings

from ..._device import check_device
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedBuffer, UninitializedParameter, is_lazy
from .lazy import LazyModuleMixin
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
           "InstanceNorm3d", "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


def _cr():
    import chainrule
    return chainrule



def _affine_params(module, shape, affine, bias, dtype):
    """weight (and bias) Parameters of ``shape``, or registered as None (reset_parameters
    fills them)."""
    cr = _cr()
    module.register_parameter(
        "weight", Parameter(cr.empty(*shape, dtype=dtype)) if affine else None)
    module.register_parameter(
        "bias", Parameter(cr.empty(*shape, dtype=dtype)) if affine and bias else None)

class _NormBase(Module):
    """Shared state of batch and instance norm: affine weight/bias and running statistics."""
    _version = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        check_device(device)
        cr = _cr()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_params(self, (num_features,), affine, bias, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", cr.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", cr.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", cr.tensor(0, dtype=cr.long))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            # checkpoints from before num_batches_tracked existed
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked
                                   is not None else _cr().tensor(0, dtype=_cr().long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and \
                self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None and
                                            self.running_var is None)
        keep = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if keep else None,
                            self.running_var if keep else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input: per channel, normalise with the
    batch mean and (biased) variance in training, updating running_mean/running_var
    (unbiased variance) with momentum (None: cumulative average); eval uses the running
    statistics.

    >>> import chainrule
    >>> bn = chainrule.nn.BatchNorm1d(2)
    >>> y = bn(chainrule.tensor([[1.0, 2.0], [3.0, 6.0]]))
    >>> bn.running_mean, bn.num_batches_tracked
    (tensor([0.2000, 0.4000]), tensor(1))
    """

    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over (N, C, H, W) input (statistics per channel).

    >>> import chainrule
    >>> chainrule.nn.BatchNorm2d(3)(chainrule.randn(2, 3, 4, 4)).shape
    chainrule.Size([2, 3, 4, 4])
    """

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over (N, C, D, H, W) input.

    >>> import chainrule
    >>> chainrule.nn.BatchNorm3d(1)(chainrule.randn(2, 1, 2, 2, 2)).shape
    chainrule.Size([2, 1, 2, 2, 2])
    """

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class _InstanceNorm(_NormBase):
    _no_batch_dim = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input_dim(self, input):
        n = self._no_batch_dim
        if input.dim() not in (n, n + 1):
            raise ValueError(f"expected {n}D or {n + 1}D input (got {input.dim()}D input)")

    def _apply_instance_norm(self, input):
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight,
                               self.bias, self.training or not self.track_running_stats,
                               self.momentum if self.momentum is not None else 0.0, self.eps)

    def forward(self, input):
        self._check_input_dim(input)
        fdim = input.dim() - self._no_batch_dim
        if input.size(fdim) != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={fdim} to match num_features "
                                 f"({self.num_features}), but got: {input.size(fdim)}.")
            warnings.warn(f"input's size at dim={fdim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not "
                          "used because affine=False")
        if input.dim() == self._no_batch_dim:
            return self._apply_instance_norm(input.unsqueeze(0)).squeeze(0)
        return self._apply_instance_norm(input)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation over (N, C, L) or (C, L): each sample and channel normalised
    over L.

    >>> import chainrule
    >>> chainrule.nn.InstanceNorm1d(2)(chainrule.randn(3, 2, 5)).shape
    chainrule.Size([3, 2, 5])
    """
    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation over (N, C, H, W) or (C, H, W).

    >>> import chainrule
    >>> chainrule.nn.InstanceNorm2d(2)(chainrule.randn(1, 2, 3, 3)).shape
    chainrule.Size([1, 2, 3, 3])
    """
    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation over (N, C, D, H, W) or (C, D, H, W).

    >>> import chainrule
    >>> chainrule.nn.InstanceNorm3d(1)(chainrule.randn(1, 1, 2, 2, 2)).shape
    chainrule.Size([1, 1, 2, 2, 2])
    """
    _no_batch_dim = 4


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalise over the last len(normalized_shape) dims, then scale and shift
    elementwise.

    >>> import chainrule
    >>> ln = chainrule.nn.LayerNorm(4)
    >>> ln, ln(chainrule.randn(2, 4)).shape
    (LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True), chainrule.Size([2, 4]))
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        check_device(device)
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_params(self, self.normalized_shape, elementwise_affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Split the channels into num_groups groups and normalise each (per sample), then scale
    and shift per channel.

    >>> import chainrule
    >>> chainrule.nn.GroupNorm(2, 4)(chainrule.randn(3, 4, 5)).shape
    chainrule.Size([3, 4, 5])
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        check_device(device)
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_params(self, (num_channels,), affine, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the last dims, times a learnable weight (eps None:
    the dtype's machine epsilon).

    >>> import chainrule
    >>> chainrule.nn.RMSNorm(2)(chainrule.tensor([[3.0, 4.0]])).shape
    chainrule.Size([1, 2])
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        check_device(device)
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(_cr().empty(*self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LocalResponseNorm(Module):
    """Normalise each channel by the activity of its size neighbouring channels.

    >>> import chainrule
    >>> chainrule.nn.LocalResponseNorm(2)(chainrule.ones(1, 3, 2, 2)).shape
    chainrule.Size([1, 3, 2, 2])
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class _LazyNormBase(LazyModuleMixin):
    """Batch/instance norm whose num_features is read from the first input's channel dim."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=bias)
        self.affine = affine
        self.track_running_stats = track_running_stats
        self._dtype = dtype
        if affine:
            self.weight = UninitializedParameter()
            if bias:
                self.bias = UninitializedParameter()
        if track_running_stats:
            self.running_mean = UninitializedBuffer()
            self.running_var = UninitializedBuffer()
            self.num_batches_tracked = _cr().tensor(0, dtype=_cr().long)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            return
        nb = getattr(self, "_no_batch_dim", None)
        channel = input.dim() - nb if nb is not None else 1
        self.num_features = input.shape[channel]
        dtype = self._dtype or input.dtype
        with no_grad():
            for p in (self.weight, self.bias, self.running_mean, self.running_var):
                if p is not None and is_lazy(p):
                    p.materialize((self.num_features,), dtype=dtype)
            self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    """BatchNorm1d whose num_features comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyBatchNorm1d()
    >>> _ = m(chainrule.randn(4, 3)); m
    BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    """BatchNorm2d whose num_features comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyBatchNorm2d(); _ = m(chainrule.randn(2, 3, 2, 2)); m.num_features
    3
    """
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    """BatchNorm3d whose num_features comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyBatchNorm3d(); _ = m(chainrule.randn(2, 3, 1, 2, 2))
    >>> m.running_mean.shape
    chainrule.Size([3])
    """
    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    """InstanceNorm1d whose num_features comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyInstanceNorm1d(); _ = m(chainrule.randn(2, 3, 4)); m.weight.shape
    chainrule.Size([3])
    """
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    """InstanceNorm2d whose num_features comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyInstanceNorm2d(); _ = m(chainrule.randn(3, 4, 4)); m.num_features
    3
    """
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    """InstanceNorm3d whose num_features comes from the first input.

    >>> import chainrule
    >>> m = chainrule.nn.LazyInstanceNorm3d(); _ = m(chainrule.randn(1, 2, 2, 2, 2))
    >>> m.num_features
    2
    """
    cls_to_become = InstanceNorm3d
