"""Fold an eval-mode BatchNorm into the preceding convolution or linear layer."""
import copy

import chainrule

__all__ = ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval",
           "fuse_linear_bn_weights"]


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` whose weight and bias include the eval-mode ``bn`` that follows it
    (``transpose`` for a ConvTranspose, whose output channels are weight dim 1).

    >>> import chainrule
    >>> conv, bn = chainrule.nn.Conv2d(2, 3, 3).eval(), chainrule.nn.BatchNorm2d(3).eval()
    >>> x = chainrule.randn(1, 2, 5, 5)
    >>> fused = chainrule.nn.utils.fuse_conv_bn_eval(conv, bn)
    >>> bool(chainrule.allclose(fused(x), bn(conv(x)), atol=1e-5))
    True
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters of a convolution followed by an eval-mode BatchNorm with
    running stats ``bn_rm``/``bn_rv`` and affine ``bn_w``/``bn_b`` (None: identity).

    >>> import chainrule
    >>> w, b = chainrule.nn.utils.fuse_conv_bn_weights(
    ...     chainrule.ones(2, 1, 1, 1), None, chainrule.zeros(2), chainrule.full((2,), 3.0), 1.0,
    ...     None, None)
    >>> w.reshape(-1).tolist(), b.tolist()
    ([0.5, 0.5], [0.0, 0.0])
    """
    w_dtype = conv_w.dtype
    b_dtype = conv_b.dtype if conv_b is not None else w_dtype
    if conv_b is None:
        conv_b = chainrule.zeros_like(bn_rm)
    if bn_w is None:
        bn_w = chainrule.ones_like(bn_rm)
    if bn_b is None:
        bn_b = chainrule.zeros_like(bn_rm)
    inv_std = chainrule.rsqrt(bn_rv + bn_eps)
    lead = [1, -1] if transpose else [-1, 1]
    shape = lead + [1] * (conv_w.dim() - 2)
    w = (conv_w * (bn_w * inv_std).reshape(shape)).to(w_dtype)
    b = ((conv_b - bn_rm) * inv_std * bn_w + bn_b).to(b_dtype)
    return (chainrule.nn.Parameter(w, conv_w.requires_grad),
            chainrule.nn.Parameter(b, conv_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose weight and bias include the eval-mode ``bn`` that follows
    it (``bn.num_features`` must equal ``linear.out_features`` or be 1).

    >>> import chainrule
    >>> lin, bn = chainrule.nn.Linear(3, 4).eval(), chainrule.nn.BatchNorm1d(4).eval()
    >>> x = chainrule.randn(2, 3)
    >>> fused = chainrule.nn.utils.fuse_linear_bn_eval(lin, bn)
    >>> bool(chainrule.allclose(fused(x), bn(lin(x)), atol=1e-5))
    True
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features == bn.num_features or "
                             "bn.num_features == 1, got linear.out_features="
                             f"{linear.out_features} and bn.num_features={bn.num_features}")
    _check_eval(linear, bn)
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of a linear layer followed by an eval-mode BatchNorm.

    >>> import chainrule
    >>> w, b = chainrule.nn.utils.fuse_linear_bn_weights(
    ...     chainrule.ones(2, 3), chainrule.ones(2), chainrule.zeros(2), chainrule.full((2,), 3.0),
    ...     1.0, chainrule.ones(2), chainrule.zeros(2))
    >>> w.sum().item(), b.tolist()
    (3.0, [0.5, 0.5])
    """
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    if linear_b is None:
        linear_b = chainrule.zeros_like(bn_rm)
    scale = bn_w * chainrule.rsqrt(bn_rv + bn_eps)
    w = linear_w * scale.unsqueeze(-1).to(w_dtype)
    b = ((linear_b - bn_rm) * scale + bn_b).to(b_dtype)
    return (chainrule.nn.Parameter(w, linear_w.requires_grad),
            chainrule.nn.Parameter(b, linear_b.requires_grad))
