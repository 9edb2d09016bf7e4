"""Dropout modules (active in training mode only)."""
from .. import functional as F
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each element with probability p during training, scaling the rest by 1/(1-p).

    >>> import chainrule
    >>> chainrule.nn.Dropout(0.5).eval()(chainrule.ones(3))
    tensor([1., 1., 1.])
    """

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p.

    >>> import chainrule
    >>> chainrule.nn.Dropout1d().eval()(chainrule.ones(1, 2, 3)).shape
    chainrule.Size([1, 2, 3])
    """

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) input with probability p.

    >>> import chainrule
    >>> chainrule.nn.Dropout2d().eval()(chainrule.ones(1, 2, 3, 3)).shape
    chainrule.Size([1, 2, 3, 3])
    """

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) input with probability p.

    >>> import chainrule
    >>> chainrule.nn.Dropout3d().eval()(chainrule.ones(1, 2, 1, 1, 1)).shape
    chainrule.Size([1, 2, 1, 1, 1])
    """

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps the SELU self-normalising mean and variance.

    >>> import chainrule
    >>> chainrule.nn.AlphaDropout(0.2).eval()(chainrule.ones(2))
    tensor([1., 1.])
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """AlphaDropout applied to whole channels.

    >>> import chainrule
    >>> chainrule.nn.FeatureAlphaDropout(0.2).eval()(chainrule.ones(1, 2, 2)).shape
    chainrule.Size([1, 2, 2])
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training)
